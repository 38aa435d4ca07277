"""The gradient check on the canvas: ✓ or ✗ on every node, from a central difference.

:func:`engine.learn.check.gradient_check` compares each node's backward gradient with
``(f(v + h) − f(v − h)) / 2h``; this tool runs it on the open document (every node, op nodes
included) and puts the verdict on each node as a badge with both numbers in its tooltip. The
marks describe the document as it was checked, so any edit removes them.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from shiboken6 import isValid

from engine import GraphError
from engine.core.events import MetaChanged, NameChanged, NodeMoved
from engine.learn.check import gradient_check, summary
from gui.style import format_number

OK, BAD, SKIP = "✓", "✗", "–"


def row_tooltip(row) -> str:
    """Both numbers and the verdict for one node, in words."""
    if getattr(row, "elements", ()):  # an array: one probe per element, a sample of a big one
        return element_tooltip(row)
    if row.ok is None:
        return f"gradient check skipped: {row.reason}"
    head = "gradient check ✓ agrees" if row.ok else "gradient check ✗ MISMATCH"
    return (
        f"{head}\nbackward (analytic): {row.analytic!r}\n"
        f"central difference (numeric): {row.numeric!r}\n|difference| = {format_number(row.error)}"
    )


def element_tooltip(row) -> str:
    """An array node's check: how many elements were probed (and that it was a sample), the
    verdict, and the worst element's two numbers."""
    checked = len(row.elements)
    how = (f"{checked} of {row.total} elements checked, a seeded random sample" if row.sampled
           else f"all {row.total} elements checked")
    head = {True: "gradient check ✓ agrees", False: "gradient check ✗ MISMATCH"}.get(
        row.ok, "gradient check skipped")
    worst = max(row.elements, key=lambda e: e.error or 0.0)
    where = f"[{','.join(map(str, worst.index))}]" if worst.index is not None else ""
    return (f"{head}: {how}\n{row.reason}\nworst element {where}: backward {worst.analytic!r}, "
            f"central difference {worst.numeric!r}, |difference| = {format_number(worst.error)}")


def verdict(rows, total: int) -> str:
    """The check's one line: how many of the document's ``total`` nodes were checked and what
    came out. "Agrees everywhere" only when every node was checked and agreed; skipped nodes
    are counted and the first reason given, so "0 of 6,001 checked" never reads as a pass."""
    checked = [r for r in rows if r.ok is not None]
    bad = [r.label for r in rows if r.ok is False]
    skipped = [r for r in rows if r.ok is None]
    head = f"{len(checked):,} of {total:,} node{'s' if total != 1 else ''} checked"
    if bad:
        return (f"{head}: mismatch at " + ", ".join(bad[:5]) + ("…" if len(bad) > 5 else "")
                + f" ({summary(rows)})")
    why = f" ({skipped[0].label}: {skipped[0].reason})" if skipped and skipped[0].reason else ""
    if not checked:
        return f"{head}: nothing could be checked{why}"
    if len(checked) == total:
        return f"{head}: backward agrees with the central difference everywhere"
    return (f"{head}: backward agrees with the central difference at every node checked; "
            f"{total - len(checked):,} not checked{why}")


def checked_total(g, rows) -> int:
    """How many nodes the check speaks for: every row (top-level nodes, nodes inside each
    instance, constants of definitions) and the top-level nodes it has no row for; an
    instance is counted through its inside, not as a node of its own."""
    covered = {r.node for r in rows}
    return len(rows) + sum(1 for n in g.nodes() if n not in covered and g.op(n) != "call")


def where_checked(rows) -> str:
    """`` (4 inside instances, 1 constant of a definition)`` for rows from a grouped document;
    empty for a flat one."""
    inside = sum(1 for r in rows if type(r.node) is tuple and type(r.node[0]) is int)
    constants = sum(1 for r in rows if type(r.node) is tuple and type(r.node[0]) is str)
    parts = []
    if inside:
        parts.append(f"{inside:,} inside instances")
    if constants:
        parts.append(f"{constants:,} constant{'s' if constants != 1 else ''} of definitions")
    return f" ({', '.join(parts)})" if parts else ""


def instance_verdict(g, inst, rows) -> tuple[str, str] | None:
    """(badge, tooltip) for a top-level instance: what the check found inside it and for its
    definition's constants (shared by every instance), or None when nothing was checked."""
    d = g.definition_of(inst)
    mine = [r for r in rows if type(r.node) is tuple and
            (r.node[0] == inst or (type(r.node[0]) is str and r.node[0] in _definitions_in(g, d)))]
    checked = [r for r in mine if r.ok is not None]
    if not checked:
        return None
    bad = [r for r in checked if r.ok is False]
    constants = [r for r in checked if type(r.node[0]) is str]
    head = (f"gradient check ✗ MISMATCH inside {g.label(inst)}: " + ", ".join(r.label for r in bad[:5])
            if bad else f"gradient check ✓ agrees at every node inside {g.label(inst)}")
    lines = [head, f"{len(checked)} of {len(mine)} checked inside (nodes of this instance and "
                   f"constants of {d.name})"]
    for r in constants:
        lines.append(f"{r.label} {OK if r.ok else BAD}: gradient {format_number(r.analytic)} summed over "
                     f"every instance, central difference {format_number(r.numeric)}")
    worst = max(checked, key=lambda r: r.error or 0.0)
    lines.append(f"largest |difference|: {format_number(worst.error)} at {worst.label}")
    return (BAD if bad else OK), "\n".join(lines)


def _definitions_in(g, d) -> set:
    """The names of ``d`` and of every definition its body uses, nested ones too."""
    names, todo = set(), [d]
    while todo:
        x = todo.pop()
        if x.name in names:
            continue
        names.add(x.name)
        todo.extend(g.definition(c) for c in x.callees())
    return names


class GradientCheckTool(QObject):
    """Runs the check and owns the badges. ``finished(text)`` gives the one-line summary;
    ``cleared`` fires when an edit removes the marks."""

    finished = Signal(str)
    cleared = Signal()

    def __init__(self, controller, scene, parent=None):
        super().__init__(parent)
        self._controller = controller
        self._scene = scene
        self.rows: list = []
        self._marked: list[int] = []
        controller.bridge.replaced.connect(self._on_document_replaced)
        controller.bridge.changed.connect(self._on_event)

    @property
    def marks(self) -> dict:
        """{node: badge text} as shown."""
        out = {}
        for n in self._marked:
            it = self._scene.node_item(n)
            if it is not None and isValid(it):
                out[n] = it.badge
        return out

    def run(self) -> str:
        """Check every node now and mark it; returns the summary line (also emitted)."""
        self.clear(quiet=True)
        g = self._controller.graph
        try:
            rows = gradient_check(g, ops=True)
        except GraphError as e:
            text = f"Gradient check: {e}"
            self.finished.emit(text)
            return text
        self.rows = rows
        for row in rows:
            it = self._scene.node_item(row.node)
            if it is None:
                continue
            mark = SKIP if row.ok is None else (OK if row.ok else BAD)
            it.set_badge(mark, row_tooltip(row))
            self._marked.append(row.node)
        for n in g.nodes():  # an instance: the verdict of its inside and its definition's constants
            it = self._scene.node_item(n)
            found = instance_verdict(g, n, rows) if g.op(n) == "call" and it is not None else None
            if found is not None:
                it.set_badge(*found)
                self._marked.append(n)
        text = "Gradient check: " + verdict(rows, checked_total(g, rows)) + where_checked(rows)
        self.finished.emit(text)
        return text

    def clear(self, quiet: bool = False) -> None:
        """Remove every mark."""
        had = bool(self._marked)
        for n in self._marked:
            it = self._scene.node_item(n)
            if it is not None and isValid(it):
                it.set_badge(None, None)
        self._marked = []
        self.rows = []
        if had and not quiet:
            self.cleared.emit()

    def _on_document_replaced(self) -> None:
        self._marked = []  # the scene dropped those items with the old document
        self.rows = []

    def _on_event(self, ev) -> None:
        if self._marked and not isinstance(ev, (NodeMoved, NameChanged, MetaChanged)):
            self.clear()
