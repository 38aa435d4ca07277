"""An entered instance: its definition's body drawn with THIS instance's live numbers.

The numbers come from the engine's :meth:`Graph.instance_view` (values and gradients of one
instance's inside, the placeholders carrying what comes in through each input and what goes
back out through it), refreshed on every evaluation the bridge announces; the body is drawn
anew when its definition changes. Input and output ports are drawn as port nodes named after
the definition's ports. The scene is read only: what is drawn here is never a copy to edit.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QGraphicsItem, QGraphicsScene, QGraphicsView

from engine import NUMBER
from engine.core.composites import INPUT, OUTPUT
from engine.drawing.geometry import CALL
from gui import style as S
from gui.canvas.items import OUT_NONE, NodeItem, WireItem
from gui.canvas.items import short_text as _short

MARGIN = 60.0
# A body with more wires than this draws them as plain curves: routing a network's hundreds of
# parameter wires round its nodes cost seconds per entry (benchmarks/composites_gui.py).
ROUTED_WIRES = 150


class InsideScene(QGraphicsScene):
    """The body of the instance at ``path`` (a top-level id, or a path through nested
    instances) with that instance's numbers."""

    def __init__(self, bridge, path, parent=None):
        super().__init__(parent)
        self._bridge = bridge
        self.path = tuple(path) if isinstance(path, tuple) else (path,)
        self._nodes: dict[int, NodeItem] = {}
        self._wires: dict[tuple, WireItem] = {}
        self.rebuild()
        bridge.evaluated.connect(self.refresh)

    @property
    def read_only(self) -> bool:
        return True

    @property
    def controller(self):
        return None

    def view_of_instance(self):
        """The engine's InstanceView of this instance (numbers of its inside)."""
        return self._bridge.graph.instance_view(self.path)

    def exists(self) -> bool:
        """Whether the instance is still there (an undo may have taken it away)."""
        g = self._bridge.graph
        try:
            ref = self.path[0] if len(self.path) == 1 else self.path
            return g.op(ref) == CALL
        except Exception:  # noqa: BLE001 - any lookup failure means it is gone
            return False

    # ---------------------------------------------------------------- building

    def rebuild(self) -> None:
        """Draw the body anew (its definition changed: nodes, wires or ports)."""
        self.clear()
        self._nodes.clear()
        self._wires.clear()
        if not self.exists():
            return
        v = self.view_of_instance()
        body = v.graph
        port_names = {p.node: p.name for p in v.definition.inputs}
        port_names.update({p.node: p.name for p in v.definition.outputs})
        pos = {n: (a["x"], a["y"]) for n, a in body.nx.nodes(data=True)}
        if len(set(pos.values())) < len(pos):  # a body built from code has no places of its own:
            pos = body.layout()  # drawn laid out (read only: the document keeps its positions)
        for n, a in body.nx.nodes(data=True):
            name = a.get("name") or port_names.get(n)
            it = NodeItem(n, a["op"], name, a.get("definition"))
            it.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsMovable, False)
            it.setPos(*pos[n])
            self._nodes[n] = it
        for s, t, p, sp in body.nx.edges(keys=True, data="source_port", default=0):
            w = WireItem(self._nodes[s], self._nodes[t], p, sp)
            self._nodes[s].wires.add(w)
            self._nodes[t].wires.add(w)
            self._nodes[t].inputs[p].connected = True
            self._wires[(s, t, p)] = w
        for it in self._nodes.values():
            self.addItem(it)
        plain = len(self._wires) > ROUTED_WIRES
        for w in self._wires.values():
            self.addItem(w)
            if plain:
                w.set_plain()
            else:
                w.place()
        r = self.itemsBoundingRect()
        self.setSceneRect(r.adjusted(-MARGIN, -MARGIN, MARGIN, MARGIN))
        self.refresh()

    def refresh(self) -> None:
        """Every row and wire label from the engine's numbers for this instance now."""
        if not self.exists():
            return
        v = self.view_of_instance()
        if set(v.graph.nx) != set(self._nodes):  # the body changed under us
            self.rebuild()
            return
        for n, it in self._nodes.items():
            it.set_state(_short(v.value(n)), _short(v.grad(n)), None, OUT_NONE)
            if it.op == CALL:
                outs = tuple((_short(v.value(n, p)), _short(v.grad(n, p))) for p in range(1, len(it.outputs)))
                ins = []
                for p, wire in enumerate(v.graph.input_wires(n)):
                    amount = None if wire is None else v.edge_grad(wire[0], n, p)
                    ins.append(None if amount is None else _short(amount))
                it.set_instance_texts(outs, tuple(ins))
        for (s, t, p), w in self._wires.items():
            amount = v.edge_grad(s, t, p)
            w.set_grad_text(None if amount is None else S.format_number(amount))

    # ---------------------------------------------------------------- what tests and views read

    def node_item(self, n) -> NodeItem | None:
        return self._nodes.get(n)

    def node_items(self) -> dict:
        return dict(self._nodes)

    def wire_items(self) -> dict:
        return dict(self._wires)

    def wire_item(self, src, dst, port) -> WireItem | None:
        """The wire into input ``port`` of body node ``dst`` (overlays place labels on it)."""
        return self._wires.get((src, dst, port))

    def items_bounding_rect(self) -> QRectF:
        return self.itemsBoundingRect()

    def placeholders(self) -> dict:
        """{body id: "input" or "output"} for the port nodes drawn."""
        return {n: it.op for n, it in self._nodes.items() if it.op in (INPUT, OUTPUT)}


class InsideView(QGraphicsView):
    """Shows an :class:`InsideScene`. Tab or Escape asks to leave (``leave``); a double-click
    on an instance inside asks to enter it (``enter`` with its body id), on a constant to edit
    it (``editValue``); the wheel zooms."""

    leave = Signal()
    enter = Signal(int)
    editValue = Signal(int)  # a double-click on a constant of the definition: edit it

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setBackgroundBrush(S.BACKGROUND)
        self.setToolTip("Inside an instance: Tab or Escape leaves, double-click an instance inside enters it")

    def fit(self) -> None:
        sc = self.scene()
        if sc is not None:
            self.fitInView(sc.sceneRect(), Qt.AspectRatioMode.KeepAspectRatio)
            if self.transform().m11() > 1.0:  # never blown up past 100 %
                self.resetTransform()
                self.centerOn(sc.sceneRect().center())

    def event(self, event):
        if event.type() == event.Type.KeyPress and event.key() == Qt.Key.Key_Tab:
            self.leave.emit()  # Tab would otherwise move the focus on
            return True
        return super().event(event)

    def keyPressEvent(self, event):  # noqa: N802
        if event.key() == Qt.Key.Key_Escape:
            self.leave.emit()
            event.accept()
            return
        if event.key() == Qt.Key.Key_F:
            self.fit()
            event.accept()
            return
        super().keyPressEvent(event)

    def mouseDoubleClickEvent(self, event):  # noqa: N802
        for it in self.items(event.position().toPoint()):
            if isinstance(it, NodeItem):
                if it.op == CALL:
                    self.enter.emit(it.node_id)
                    event.accept()
                    return
                if it.op == NUMBER:
                    self.editValue.emit(it.node_id)
                    event.accept()
                    return
                break
        super().mouseDoubleClickEvent(event)

    def wheelEvent(self, event):  # noqa: N802
        dy = event.angleDelta().y() or event.angleDelta().x()
        if dy:
            f = 1.0015 ** dy
            self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
            self.scale(f, f)
        event.accept()
