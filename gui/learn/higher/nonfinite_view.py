"""NaN and inf traced to where they were born, on the canvas (issue 16, point 4).

After every evaluation the tool asks the engine (:meth:`Graph.nonfinite_origin`) where the
non-finite numbers of the document came from: for the output, and for every other sink that is
not finite. Each origin gets a red badge ("NaN born here") whose tooltip gives the reason in the
engine's words (``log of −1``); a permanent label in the status bar says it too, and
Graph ▸ Go to NaN Origin (Ctrl+Alt+N) selects the origin and centres the view on it (pressed
again, the next origin). Nothing here edits the document.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QColor, QKeySequence
from PySide6.QtWidgets import QLabel
from shiboken6 import isValid

from engine.core.nonfinite import finite, kind
from gui.canvas.node_marks import MarkSet, PillMark

BADGE = QColor("#ff5c5c")
TEXT = QColor("#1d2026")
MAX_TRACES = 32  # sinks traced per evaluation: the origins of a big NaN flood are few anyway
SHORTCUT = "Ctrl+Alt+N"


def _kind_of(v) -> str:
    import numpy as np

    if type(v) is np.ndarray:
        bad = v[~np.isfinite(v)]
        return kind(bad.flat[0]) if bad.size else "NaN"
    return kind(v)


def find_origins(g) -> dict:
    """{origin node: (what, reason)} for the document ``g`` as evaluated, the output's origin
    first. ``what`` is "NaN", "inf" or "-inf" (of the value when the origin's value is not
    finite, else of its gradient)."""
    vals, grads = g.values(), g.grads()
    targets = []
    out = g.evaluated_output()
    if out is not None and not (finite(vals.get(out)) and finite(grads.get(out))):
        targets.append(out)
    nx = g.nx
    for n in nx.nodes:
        if len(targets) >= MAX_TRACES:
            break
        if n != out and nx.out_degree(n) == 0 and not (finite(vals.get(n)) and finite(grads.get(n))):
            targets.append(n)
    if out is not None and len(targets) < MAX_TRACES:
        # a gradient that turns non-finite shows at the leaves, which are not sinks
        for n in nx.nodes:
            if len(targets) >= MAX_TRACES:
                break
            if nx.in_degree(n) == 0 and n not in targets and not finite(grads.get(n)):
                targets.append(n)
    found: dict = {}
    for n in targets:
        value_trace = not finite(vals.get(n))
        try:
            hit = g.nonfinite_origin(n)
        except Exception:  # noqa: BLE001 - a trace that fails must not take the canvas down
            continue
        if hit is None or hit[0] in found:
            continue
        o, why = hit
        v = vals.get(o)
        inputs_ok = all(finite(vals.get(i)) for i in g.inputs(o) if i is not None)
        if not value_trace and not (finite(v) and inputs_ok):
            continue  # a gradient made non-finite by a non-finite value: that value's origin says it
        what = _kind_of(v) if not finite(v) else _kind_of(grads.get(o))
        found[o] = (what, why)
    return found


class NonfiniteOrigins(QObject):
    """The origin badges, the status-bar label and the Go to NaN Origin action of one window."""

    changed = Signal()

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.scene = window.scene
        self.bridge = window.bridge
        self.marks = MarkSet(self.scene)
        self.origins: dict = {}
        self._next = 0
        self.label = QLabel()
        self.label.setObjectName("nonfiniteLabel")
        self.label.setStyleSheet(f"color: {BADGE.name()}; font-weight: bold;")
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.LinksAccessibleByMouse)
        self.label.linkActivated.connect(lambda _link: self.go_to_origin())
        self.label.hide()
        window.statusBar().addPermanentWidget(self.label)
        self.act_goto = QAction("Go to NaN/inf &Origin", window)
        self.act_goto.setShortcut(QKeySequence(SHORTCUT))
        tip = "Select and centre the node where a NaN or inf was born (again: the next one)"
        shown = QKeySequence(SHORTCUT).toString(QKeySequence.SequenceFormat.NativeText)
        self.act_goto.setToolTip(f"{tip}  ({shown})")
        self.act_goto.setStatusTip(tip)
        self.act_goto.triggered.connect(lambda _c=False: self.go_to_origin())
        window.add_menu_item("graph", self.act_goto)
        self.bridge.evaluated.connect(self.refresh)
        self.bridge.replaced.connect(self._on_replaced)
        self.refresh()

    # ---------------------------------------------------------------- state

    def _on_replaced(self):
        self.marks.clear()
        self.origins = {}
        self.refresh()

    def refresh(self) -> None:
        if not (isValid(self.scene) and isValid(self.label)):
            return
        g = self.bridge.graph
        before = dict(self.origins)
        self.origins = find_origins(g)
        keys = []
        for o, (what, why) in self.origins.items():
            if self.scene.node_item(o) is None:
                continue
            tip = (f"{what} born here: {why}.\nEverything computed from it inherits it. "
                   f"Graph ▸ Go to NaN/inf Origin ({SHORTCUT}) brings you here.")
            text = f"⚠ {what} born here"
            self.marks.set((o, "origin"), lambda it, text=text, tip=tip: PillMark(it, text, BADGE, TEXT, tip))
            keys.append((o, "origin"))
        self.marks.keep_only(keys)
        if self.origins:
            self.label.setText(f'<a href="origin" style="color:{BADGE.name()}">{self.summary()}</a>')
            self.label.setToolTip("Where the non-finite numbers were born. Click, or press "
                                  f"{SHORTCUT}, to select it.")
            self.label.show()
        else:
            self.label.hide()
        if self.origins != before:
            self._next = 0
            if self.origins:
                # after the edit's own history move, so the message is the edit's and stays
                QTimer.singleShot(0, lambda: self._say(self.summary() + f" — {SHORTCUT} goes there"))
            elif before:
                QTimer.singleShot(0, lambda: self._say("No NaN or inf left: every number is finite"))
            self.changed.emit()

    def _say(self, text: str) -> None:
        if isValid(self.window):
            self.window.show_message(text, 12000)

    def summary(self) -> str:
        """One line: where the first non-finite number was born and why."""
        if not self.origins:
            return ""
        g = self.bridge.graph
        o, (what, why) = next(iter(self.origins.items()))
        more = f" (+{len(self.origins) - 1} more)" if len(self.origins) > 1 else ""
        return f"⚠ {what} born at {g.label(o)}: {why}{more}"

    # ---------------------------------------------------------------- go there

    def go_to_origin(self) -> int | None:
        """Select the next origin and centre the view on it; its id, or None (said why)."""
        if not self.origins:
            self._say("Every value and gradient is finite: there is no NaN or inf to trace")
            return None
        order = list(self.origins)
        o = order[self._next % len(order)]
        self._next += 1
        self.scene.select_nodes([o])
        it = self.scene.node_item(o)
        if it is not None:
            self.window.view.centerOn(it)
        what, why = self.origins[o]
        self._say(f"{self.bridge.graph.label(o)}: {what} born here, {why}")
        return o
