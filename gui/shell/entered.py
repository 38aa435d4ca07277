"""The canvas area: the document's canvas, or the inside of an entered instance under a
breadcrumb bar (``document ▸ model ▸ neuron 3``).

Tab or a double-click on an instance enters it; Tab, Escape or a click on an earlier crumb
leaves. Where the user is is purely visual state (DESIGN §1): the document is not touched.
An undo that takes the entered instance away brings the user out to the deepest level that
still exists, never to an error.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from engine.drawing.geometry import CALL
from gui.canvas.controller import editable_text
from gui.canvas.inside import InsideScene, InsideView

SEP = " ▸ "


def _definitions_edited(cmd) -> set:
    """The definitions whose bodies an undo command (or macro, through its children) set
    values in: its addresses ``(definition, id)``."""
    if cmd is None:
        return set()
    out = set()
    for k in range(cmd.childCount()):
        out |= _definitions_edited(cmd.child(k))
    for ref in getattr(cmd, "new", {}) or {}:
        if isinstance(ref, tuple) and ref and isinstance(ref[0], str):
            out.add(ref[0])
    return out


class CanvasArea(QWidget):
    """The document's view, or an entered instance's inside with a breadcrumb bar above."""

    whereChanged = Signal()

    def __init__(self, bridge, view, controller=None, parent=None):
        super().__init__(parent)
        self._bridge = bridge
        self.controller = controller
        self.view = view
        self.inside = InsideView(self)
        self.inside.leave.connect(self.leave)
        self.inside.enter.connect(lambda n: self.enter(self.path + (n,)))
        self.inside.editValue.connect(self.edit_constant)
        if controller is not None:
            self._index = controller.undo_stack.index()
            controller.undo_stack.indexChanged.connect(self._after_step)
        self.crumbs = QWidget(self)
        self.crumbs.setObjectName("breadcrumbs")
        self._crumb_row = QHBoxLayout(self.crumbs)
        self._crumb_row.setContentsMargins(6, 2, 6, 2)
        self.stack = QStackedWidget(self)
        self.stack.addWidget(view)
        self.stack.addWidget(self.inside)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(0)
        box.addWidget(self.crumbs)
        box.addWidget(self.stack)
        self.path: tuple = ()  # () at the document's top level, else the entered instance's path
        self.crumbs.hide()
        bridge.evaluated.connect(self._still_there)
        bridge.replaced.connect(lambda: self.leave_to(0))

    # ---------------------------------------------------------------- where the user is

    def enter(self, path) -> bool:
        """Show the inside of the instance at ``path`` (a top-level id or a path); False (and
        nothing changes) when it is no instance."""
        path = tuple(path) if isinstance(path, tuple) else (path,)
        g = self._bridge.graph
        try:
            if g.op(path[0] if len(path) == 1 else path) != CALL:
                return False
        except Exception:  # noqa: BLE001 - an unknown address is simply not enterable
            return False
        old = self.inside.scene()
        scene = InsideScene(self._bridge, path, self.inside)
        self.inside.setScene(scene)
        if old is not None:
            old.deleteLater()
        self.path = path
        self.stack.setCurrentWidget(self.inside)
        self.inside.fit()
        self.inside.setFocus()
        self._fill_crumbs()
        self.whereChanged.emit()
        return True

    def leave(self) -> None:
        """One level up (to the document's canvas from a top-level instance)."""
        self.leave_to(len(self.path) - 1)

    def leave_to(self, depth: int) -> None:
        """Go to level ``depth``: 0 is the document, k the k-th instance of the path."""
        depth = max(depth, 0)
        if depth >= len(self.path):
            return
        if depth == 0:
            self.path = ()
            self.stack.setCurrentWidget(self.view)
            self.crumbs.hide()
            old = self.inside.scene()
            self.inside.setScene(None)
            if old is not None:
                old.deleteLater()
            self.view.setFocus()
            self.whereChanged.emit()
            return
        self.enter(self.path[:depth])

    def scene_shown(self):
        """The scene on screen: the document's or the entered instance's."""
        return self.inside.scene() if self.path else self.view.scene()

    def _still_there(self) -> None:
        """After an edit (an undo, say): if the entered instance is gone, come out to the
        deepest level that still exists."""
        if not self.path:
            return
        g = self._bridge.graph
        for depth in range(len(self.path), 0, -1):
            p = self.path[:depth]
            try:
                ok = g.op(p[0] if len(p) == 1 else p) == CALL
            except Exception:  # noqa: BLE001
                ok = False
            if ok:
                if depth < len(self.path):
                    self.enter(p)
                else:
                    self._fill_crumbs()  # a name may have changed
                return
        self.leave_to(0)

    # ---------------------------------------------------------------- edits inside

    def definition_shown(self) -> str | None:
        """The definition whose body is on screen (None at the document's top level)."""
        if not self.path:
            return None
        g = self._bridge.graph
        return g.definition_of(self.path[0] if len(self.path) == 1 else self.path).name

    def edit_constant(self, n: int, text: str | None = None) -> bool:
        """Set constant ``n`` of the definition shown (asked with :meth:`ask_value` unless
        ``text`` is given): one undo step that changes every instance of the definition."""
        d = self.definition_shown()
        if d is None or self.controller is None:
            return False
        g = self._bridge.graph
        if text is None:
            # the exact value, not the 5-digit display: OK must not round the constant
            text = self.ask_value(g.label((d, n)), editable_text(g.value((d, n))))
            if text is None:
                return False
        return self.controller.set_typed_value((d, n), text)

    def ask_value(self, label: str, current: str) -> str | None:
        """Ask a constant's new value (replaceable in tests); None when cancelled."""
        text, ok = QInputDialog.getText(self, "Edit a constant of the definition",
                                        f"{label} (every instance uses it):", text=current)
        return text if ok else None

    def _after_step(self, index: int) -> None:
        """After an undo or redo of an edit inside a definition, show where it happened: the
        user stays inside, or is taken into an instance of that definition."""
        before, self._index = self._index, index
        if index == before:
            return
        try:
            cmd = self.controller.undo_stack.command(min(index, before))
        except RuntimeError:  # the window is closing: its stack's clear() still signals
            return
        where = _definitions_edited(cmd)
        if not where or self.definition_shown() in where:
            return
        g = self._bridge.graph
        for d in where:
            top = [i for i in g.instances(d) if isinstance(i, int)] if d in g.definitions else []
            if top:
                self.enter(top[0])
                return

    # ---------------------------------------------------------------- breadcrumbs

    def crumb_texts(self) -> list[str]:
        """What the breadcrumb bar says, level by level: the document, then each instance
        entered (its name, else its definition's name and id)."""
        g = self._bridge.graph
        out = [g.meta.get("title") or "document"]
        for depth in range(1, len(self.path) + 1):
            p = self.path[:depth]
            ref = p[0] if len(p) == 1 else p
            name = g.name(ref)
            d = g.definition_of(ref).name
            out.append(f"{name} ({d})" if name else f"{d} {p[-1]}")
        return out

    def _fill_crumbs(self) -> None:
        while self._crumb_row.count():
            w = self._crumb_row.takeAt(0).widget()
            if w is not None:
                w.deleteLater()
        texts = self.crumb_texts()
        for depth, text in enumerate(texts):
            if depth:
                self._crumb_row.addWidget(QLabel(SEP.strip()))
            b = QToolButton(self.crumbs)
            b.setText(text)
            b.setAutoRaise(True)
            b.setEnabled(depth < len(texts) - 1)
            b.setToolTip("Go back up to here (Escape or Tab leaves one level)" if depth < len(texts) - 1
                         else "You are here: Escape or Tab leaves")
            b.clicked.connect(lambda _=False, d=depth: self.leave_to(d))
            self._crumb_row.addWidget(b)
        self._crumb_row.addStretch(1)
        self.crumbs.show()

    def crumb_buttons(self) -> list[QToolButton]:
        return [self._crumb_row.itemAt(k).widget() for k in range(self._crumb_row.count())
                if isinstance(self._crumb_row.itemAt(k).widget(), QToolButton)]
