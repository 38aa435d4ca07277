"""GraphScene: draws a document and keeps its items in step with the document's bridge.

``GraphScene(bridge)`` draws read-only (render, thumbnails, previews): nothing moves, no
gesture starts. ``GraphScene(bridge, controller=c)`` (or ``GraphScene(c)``) adds the gestures:
the scene never edits the graph itself; gestures that finish here (a node drag, a wire drag)
are handed to the controller, and the bridge's signals update the items. It holds only visual
state: selection, the wire being dragged, highlights.
"""

from __future__ import annotations

from PySide6.QtCore import QLineF, QPointF, QRectF, Qt
from PySide6.QtGui import QAction, QPainter
from PySide6.QtWidgets import QGraphicsItem, QGraphicsScene, QMenu

from engine import autodiff
from gui.canvas.bridge import DocumentBridge
from gui.canvas.items import OUT_AUTO, OUT_EXPLICIT, OUT_NONE, NodeItem, Port, RubberWireItem, WireItem
from gui.shell import style as S

# The scene rect is at least this big and grows (never shrinks) to hold every node plus
# SCENE_MARGIN: set by hand, it costs no bounding-rect recomputation while dragging.
SCENE_HALF = 50_000.0
SCENE_MARGIN = 5_000.0
_INF = float("inf")


def _problems(g, vals: dict) -> dict:
    """Graph.problems(), computed only for the nodes whose value is missing or not finite
    (the only ones that can have a problem), so a healthy document costs one scan."""
    bad = [n for n, v in vals.items() if v is None or v != v or v == _INF or v == -_INF]
    if not bad:
        return {}
    tape = g.tape()
    order_vals = [vals[n] for n in tape.order]
    out = {}
    for n in bad:
        why = autodiff.problem(tape, order_vals, tape.index[n])
        if why:
            out[n] = why
    return out


class GraphScene(QGraphicsScene):
    """The canvas contents for one document (see the module docstring)."""

    def __init__(self, bridge, parent=None, *, controller=None):
        super().__init__(parent)
        if not isinstance(bridge, DocumentBridge):  # a Controller: draw its document, with gestures
            controller, bridge = bridge, bridge.bridge
        self._bridge = bridge
        self._controller = controller
        self._nodes: dict[int, NodeItem] = {}
        self._wires: dict[tuple[int, int, int], WireItem] = {}
        self._show_wire_grads = False
        self._press_positions: dict[int, QPointF] = {}
        self._drag = None  # wire drag in progress: dict, see begin_wire_drag
        self._rubber: RubberWireItem | None = None
        # Measured (benchmarks/gui_bench.py --configs, 1,000 nodes): with the BSP index a drag
        # step plus repaint costs ~13 ms of CPU against ~18 ms without an index, and opening
        # is no slower; the documents are large and mostly static, which is what BSP is for.
        self.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.BspTreeIndex)
        self.setSceneRect(-SCENE_HALF, -SCENE_HALF, 2 * SCENE_HALF, 2 * SCENE_HALF)
        bridge.replaced.connect(self.rebuild)
        bridge.reset.connect(self.rebuild)
        bridge.nodeAdded.connect(self._add_node_item)
        bridge.nodeRemoved.connect(self._remove_node_item)
        bridge.edgeAdded.connect(self._add_wire)
        bridge.edgeRemoved.connect(self._remove_wire)
        bridge.nameChanged.connect(self._on_name_changed)
        bridge.nodeMoved.connect(self._on_node_moved)
        bridge.layoutApplied.connect(self._on_layout_applied)
        bridge.evaluated.connect(self.refresh_labels)
        self.rebuild()

    @classmethod
    def drawing(cls, graph, parent=None) -> GraphScene:
        """A read-only scene on a copy of ``graph``, evaluated, owning its bridge (render,
        thumbnails, previews): no controller, no undo stack, the caller's graph untouched."""
        bridge = DocumentBridge(graph.copy())
        scene = cls(bridge, parent)
        bridge.setParent(scene)
        bridge.recompute()
        return scene

    # ---------------------------------------------------------------- public API

    @property
    def bridge(self) -> DocumentBridge:
        return self._bridge

    @property
    def controller(self):
        """The gesture layer, or None for a read-only scene."""
        return self._controller

    @property
    def read_only(self) -> bool:
        return self._controller is None

    @property
    def graph(self):
        return self._bridge.graph

    def node_item(self, node_id) -> NodeItem | None:
        return self._nodes.get(node_id)

    def node_items(self) -> dict[int, NodeItem]:
        """Every NodeItem by node id (a copy)."""
        return dict(self._nodes)

    def wire_item(self, src, dst, port) -> WireItem | None:
        return self._wires.get((src, dst, port))

    def wire_items(self) -> dict[tuple[int, int, int], WireItem]:
        """Every WireItem by (source, target, port) (a copy)."""
        return dict(self._wires)

    def selected_node_ids(self) -> list[int]:
        return [it.node_id for it in self.selectedItems() if isinstance(it, NodeItem)]

    def select_nodes(self, ids) -> None:
        """Select exactly these nodes (unknown ids are ignored)."""
        wanted = set(ids)
        self.blockSignals(True)  # one selectionChanged for the whole change, not one per item
        try:
            self.clearSelection()
            for n in wanted:
                it = self._nodes.get(n)
                if it is not None:
                    it.setSelected(True)
        finally:
            self.blockSignals(False)
        self.selectionChanged.emit()

    def set_show_wire_grads(self, on: bool) -> None:
        """Show the gradient flowing back along each wire (View menu toggle)."""
        self._show_wire_grads = bool(on)
        self._refresh_wire_grads()

    @property
    def show_wire_grads(self) -> bool:
        return self._show_wire_grads

    def items_bounding_rect(self) -> QRectF:
        """The rectangle around every node and wire (empty when the document is)."""
        r = QRectF()
        for it in self._nodes.values():
            r = r.united(it.sceneBoundingRect())
        return r

    # ---------------------------------------------------------------- building

    def rebuild(self) -> None:
        """Drop every item and draw the bridge's current graph from scratch."""
        self._cancel_wire_drag()
        self._press_positions = {}
        self.clear()
        self._nodes.clear()
        self._wires.clear()
        g = self.graph
        for n in g.nx.nodes:
            self._add_node_item(n)
        for s, t, p in g.nx.edges(keys=True):
            self._add_wire(s, t, p)
        self.refresh_labels()

    def _add_node_item(self, n: int) -> NodeItem:
        a = self.graph.nx.nodes[n]
        it = NodeItem(n, a["op"], a["name"] or a.get("label"))
        if self._controller is None:  # read-only: nothing to drag
            it.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsMovable, False)
        it.setPos(a["x"], a["y"])
        self.addItem(it)
        self._nodes[n] = it
        self._grow_to(it)
        return it

    def _grow_to(self, it: NodeItem) -> None:
        """Widen the scene rect (never shrink it) so that the node and a margin fit: Fit and
        the scroll bars reach every node, however far out it lies."""
        r = self.sceneRect()
        b = it.sceneBoundingRect()
        if r.contains(b.adjusted(-SCENE_MARGIN / 2, -SCENE_MARGIN / 2, SCENE_MARGIN / 2, SCENE_MARGIN / 2)):
            return
        self.setSceneRect(r.united(b.adjusted(-SCENE_MARGIN, -SCENE_MARGIN, SCENE_MARGIN, SCENE_MARGIN)))

    def _remove_node_item(self, n: int) -> None:
        it = self._nodes.pop(n, None)
        if it is None:
            return
        for w in list(it.wires):
            self._remove_wire(*w.key)
        self._press_positions.pop(n, None)
        self.removeItem(it)

    def _add_wire(self, s: int, t: int, p: int) -> None:
        src, dst = self._nodes[s], self._nodes[t]
        w = WireItem(src, dst, p)
        src.wires.add(w)
        dst.wires.add(w)
        dst.inputs[p].set_connected(True)
        self.addItem(w)
        self._wires[(s, t, p)] = w

    def _remove_wire(self, s: int, t: int, p: int) -> None:
        w = self._wires.pop((s, t, p), None)
        if w is None:
            return
        w.src.wires.discard(w)
        w.dst.wires.discard(w)
        w.dst.inputs[p].set_connected(False)
        self.removeItem(w)

    # ---------------------------------------------------------------- bridge signals
    # value and output changes show up with the evaluation that follows them

    def _on_name_changed(self, n: int, name) -> None:
        it = self._nodes.get(n)
        if it is not None:
            it.set_name(name)

    def _on_node_moved(self, n: int, x: float, y: float) -> None:
        it = self._nodes.get(n)
        if it is not None:
            it.setPos(x, y)
            self._grow_to(it)

    def _on_layout_applied(self) -> None:
        g = self.graph
        for n, it in self._nodes.items():
            it.setPos(*g.position(n))
            self._grow_to(it)

    def refresh_labels(self) -> int:
        """Bring every label in line with the engine; repaint only the items whose text
        changed. Returns how many nodes changed."""
        g = self.graph
        vals, grads = g.values(), g.grads()
        probs = _problems(g, vals)
        root = g.evaluated_output()
        explicit = g.output
        fmt = S.format_number
        changed = 0
        for n, it in self._nodes.items():
            mark = OUT_NONE if n != root else (OUT_EXPLICIT if n == explicit else OUT_AUTO)
            v, gr, why = vals.get(n), grads.get(n), probs.get(n)
            raw = (v, gr, why, mark)
            if raw == it.raw_state:  # same numbers, same text: skip the formatting
                continue
            it.raw_state = raw
            if it.set_state(fmt(v), fmt(gr), why, mark):
                changed += 1
        if self._show_wire_grads:
            self._refresh_wire_grads()
        return changed

    def _refresh_wire_grads(self) -> None:
        g = self.graph
        show = self._show_wire_grads
        for (s, t, p), w in self._wires.items():
            amount = g.edge_grad(s, t, p) if show else None
            w.set_grad_text(None if amount is None else S.format_number(amount))  # no label where none flows

    # ---------------------------------------------------------------- node drags: one undo step

    def mousePressEvent(self, event):  # noqa: N802
        super().mousePressEvent(event)
        self._press_positions = {}
        if event.button() == Qt.MouseButton.LeftButton and self._drag is None:
            grabber = self.mouseGrabberItem()
            if isinstance(grabber, NodeItem):
                self._press_positions = {
                    it.node_id: it.pos() for it in self.selectedItems() if isinstance(it, NodeItem)
                }

    def mouseReleaseEvent(self, event):  # noqa: N802
        super().mouseReleaseEvent(event)
        if event.button() != Qt.MouseButton.LeftButton or not self._press_positions:
            return
        start, self._press_positions = self._press_positions, {}
        moved = {}
        for n, p0 in start.items():
            it = self._nodes.get(n)
            if it is not None and it.pos() != p0:
                moved[n] = (it.pos().x(), it.pos().y())
        if moved and (self._controller is None or not self._controller.move_nodes(moved)):
            self._snap_to_engine(moved)

    def _snap_to_engine(self, nodes) -> None:
        g = self.graph
        for n in nodes:
            it = self._nodes.get(n)
            if it is not None and n in g.nx:
                it.setPos(*g.position(n))

    # ---------------------------------------------------------------- wire drags

    def port_at(self, pos: QPointF, kind: str | None = None) -> Port | None:
        """The port nearest ``pos`` within its hit radius (optionally only "in" or "out")."""
        r = S.PORT_HIT_R
        best, best_d = None, r + 1e-9
        for it in self.items(QRectF(pos.x() - r, pos.y() - r, 2 * r, 2 * r)):
            if not isinstance(it, NodeItem):
                continue
            for port in it.ports():
                if kind is None or port.kind == kind:
                    d = QLineF(port.scenePos(), pos).length()
                    if d <= best_d:
                        best, best_d = port, d
        return best

    def begin_wire_drag(self, port: Port, pos: QPointF) -> None:
        """Start connecting from ``port``. On a connected input this picks up the existing
        wire's end: dropping it on empty canvas disconnects, on another input moves it."""
        self._cancel_wire_drag()
        if self._controller is None:
            return
        node = port.node
        g = self.graph
        if port.kind == "out":
            self._drag = {"mode": "from_out", "node": node.node_id, "anchor": port.scenePos()}
        else:
            src = g.inputs(node.node_id)[port.index] if node.node_id in g.nx else None
            if src is not None and src in self._nodes:
                w = self._wires.get((src, node.node_id, port.index))
                if w is not None:
                    w.setVisible(False)
                self._drag = {"mode": "rewire", "node": node.node_id, "port": port.index, "src": src,
                              "anchor": self._nodes[src].output_port_pos(), "hidden": w}
            else:
                self._drag = {"mode": "from_in", "node": node.node_id, "port": port.index,
                              "anchor": port.scenePos()}
        self._rubber = RubberWireItem()
        self.addItem(self._rubber)
        self.update_wire_drag(pos)

    def update_wire_drag(self, pos: QPointF) -> None:
        if self._drag is None or self._rubber is None:
            return
        a = self._drag["anchor"]
        if self._drag["mode"] == "from_in":
            self._rubber.set_ends(pos, a)
        else:
            self._rubber.set_ends(a, pos)

    def end_wire_drag(self, pos: QPointF) -> None:
        """Finish the wire drag at ``pos``: connect, replace, move or disconnect."""
        d = self._drag
        self._cancel_wire_drag()
        if d is None:
            return
        c = self._controller
        mode = d["mode"]
        if mode == "from_out":
            target = self.port_at(pos, "in") or self._free_input_at(pos, d["node"])
            if target is not None:
                c.connect(d["node"], target.node.node_id, target.index)
            elif self._other_port(pos, "out", d["node"]):
                c.message.emit("connect an output to an input port (on the left of a node)")
            elif (body := self._node_body_at(pos, d["node"])) is not None:
                # Dropped on a node but not on a port: say why nothing happened.
                name = c.graph.label(body.node_id)
                why = "a number has no inputs" if body.op == "number" else "every input is wired"
                c.message.emit(f"not connected: {name} has no free input ({why}); "
                               "drop on an input port to replace its wire")
        elif mode == "from_in":
            target = self.port_at(pos, "out")
            if target is not None:
                c.connect(target.node.node_id, d["node"], d["port"])
            elif self._other_port(pos, "in", d["node"]):
                c.message.emit("connect an input to an output port (on the right of a node)")
        else:  # rewire: the end of an existing wire was picked up
            target_in = self.port_at(pos, "in")
            target_out = self.port_at(pos, "out")
            if target_in is not None:
                if (target_in.node.node_id, target_in.index) != (d["node"], d["port"]):
                    c.move_wire(d["node"], d["port"], target_in.node.node_id, target_in.index)
            elif target_out is not None:
                if target_out.node.node_id != d["src"]:
                    c.connect(target_out.node.node_id, d["node"], d["port"])
            else:
                c.disconnect(d["node"], d["port"])

    def _node_body_at(self, pos, exclude) -> NodeItem | None:
        for it in self.items(pos):
            if isinstance(it, NodeItem) and it.node_id != exclude:
                return it
        return None

    def _free_input_at(self, pos, src) -> Port | None:
        """The first unconnected input of the node dropped on (a wire dropped on a node's body
        rather than exactly on a port goes to its first free input)."""
        it = self._node_body_at(pos, src)
        g = self.graph
        if it is None or it.node_id not in g.nx:
            return None
        ins = g.inputs(it.node_id)
        return next((p for p in it.ports() if p.kind == "in" and ins[p.index] is None), None)

    def _other_port(self, pos, kind, node_id) -> bool:
        p = self.port_at(pos, kind)
        return p is not None and p.node.node_id != node_id

    def _cancel_wire_drag(self) -> None:
        d, self._drag = self._drag, None
        if self._rubber is not None:
            if self._rubber.scene() is self:
                self.removeItem(self._rubber)
            self._rubber = None
        if d and d.get("hidden") is not None:
            w = d["hidden"]
            if w.scene() is self:
                w.setVisible(True)

    @property
    def dragging_wire(self) -> bool:
        return self._drag is not None

    def cancel_gesture(self) -> None:
        """Abort a wire drag in progress (Escape)."""
        self._cancel_wire_drag()

    # ---------------------------------------------------------------- context menu

    def node_menu(self, node_id: int, parent=None) -> QMenu:
        """The context menu of a node: Set as output, Rename…, Edit value…, Duplicate, Delete.
        Duplicate and Delete act on the selection when the node is part of it."""
        c = self._controller
        g = self.graph
        menu = QMenu(parent)
        if c is None:
            return menu  # read-only: nothing to offer
        targets = self.selected_node_ids()
        if node_id not in targets:
            targets = [node_id]
        is_out = g.output == node_id
        act = QAction("Clear output mark" if is_out else "Set as output", menu)
        act.triggered.connect(lambda: c.set_output(None if is_out else node_id))
        menu.addAction(act)
        menu.addSeparator()
        view = self.views()[0] if self.views() else None
        if view is not None and hasattr(view, "edit_name"):
            act = QAction("Rename…", menu)
            act.triggered.connect(lambda: view.edit_name(node_id))
            menu.addAction(act)
            if node_id in g.nx and g.op(node_id) == "number":
                act = QAction("Edit value…", menu)
                act.triggered.connect(lambda: view.edit_value(node_id))
                menu.addAction(act)
        menu.addSeparator()
        act = QAction("Duplicate", menu)
        act.triggered.connect(lambda: self.select_nodes(c.duplicate(targets)))
        menu.addAction(act)
        act = QAction("Delete", menu)
        act.triggered.connect(lambda: c.remove_nodes(targets))
        menu.addAction(act)
        return menu

    # ---------------------------------------------------------------- background

    def drawBackground(self, painter: QPainter, rect: QRectF):  # noqa: N802
        painter.fillRect(rect, S.BACKGROUND)
        scale = painter.worldTransform().m11()
        step = S.GRID
        if scale * step < 6.0:  # zoomed far out: only the major lines
            step *= S.GRID_MAJOR
            if scale * step < 6.0:
                return
        left = int(rect.left() // step)
        right = int(rect.right() // step) + 1
        top = int(rect.top() // step)
        bottom = int(rect.bottom() // step) + 1
        major_every = 1 if step > S.GRID else S.GRID_MAJOR
        minor, major = [], []
        for i in range(left, right + 1):
            x = i * step
            (major if i % major_every == 0 else minor).append(QLineF(x, rect.top(), x, rect.bottom()))
        for j in range(top, bottom + 1):
            y = j * step
            (major if j % major_every == 0 else minor).append(QLineF(rect.left(), y, rect.right(), y))
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        if minor:
            painter.setPen(S.pen(S.GRID_MINOR, 0))
            painter.drawLines(minor)
        if major:
            painter.setPen(S.pen(S.GRID_MAJOR_C, 0))
            painter.drawLines(major)
