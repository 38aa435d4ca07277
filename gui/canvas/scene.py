"""GraphScene: draws a document and keeps its items in step with the document's bridge.

``GraphScene(bridge)`` draws read-only (render, thumbnails, previews): nothing moves, no
gesture starts. ``GraphScene(bridge, controller=c)`` (or ``GraphScene(c)``) adds the gestures:
the scene never edits the graph itself; gestures that finish here (a node drag, a wire drag)
are handed to the controller, and the bridge's signals update the items. It holds only visual
state: selection, the wire being dragged, highlights.
"""

from __future__ import annotations

import gc

import networkx as nx
import numpy as np
from PySide6.QtCore import QLineF, QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QAction, QPainter
from PySide6.QtWidgets import QGraphicsEllipseItem, QGraphicsItem, QGraphicsScene, QGraphicsView, QMenu

from engine import NUMBER, OPS
from engine.core import autodiff
from engine.core.arrays import ndarray, shape_text
from engine.drawing import geometry as G
from engine.learn.explain import gradient_problem
from gui import style as S
from gui.canvas.bridge import DocumentBridge
from gui.canvas.bundles import grad_norm, rebundle
from gui.canvas.items import (
    CALL,
    OUT_AUTO,
    OUT_EXPLICIT,
    OUT_NONE,
    NodeItem,
    Port,
    RubberWireItem,
    WireItem,
    forget_labels,
    text_legible,
)
from gui.canvas.items import (
    short_text as _short,
)

# The scene rect is at least this big and grows (never shrinks) to hold every node plus
# SCENE_MARGIN: set by hand, it costs no bounding-rect recomputation while dragging.
SCENE_HALF = 50_000.0
WIRE_Z_STEP = 1e-7  # z between two wires, all within (-2, -1): under nodes (1), ports
SCENE_MARGIN = 5_000.0
_INF = float("inf")
SNAP_PX = 24.0  # a dragged wire takes the nearest compatible port within this many screen pixels
# Past this many nodes wires carry no gradient labels even with View ▸ Gradient on Wires on:
# working out and placing 127,000 labels was a third of opening micrograd's MLP loss, and at
# the zoom such a document opens at they would not read. The inspector lists every amount.
WIRE_LABEL_LIMIT = 5_000


# The BSP index puts an item in every leaf its bounding rect crosses, and Qt's own depth
# (log2 of the item count: 18 for the 66k-node MLP loss, 2^18 leaves) puts each long wire in
# thousands of them: building that index at first paint took 10 s and 2 GB. Capped, the MLP
# paints first in ~2 s within 0.9 GB, and a repaint still looks at a few leaves' items
# (benchmarks/gui_bench.py: drag steps at 10,000 and 50,000 nodes unchanged).
BSP_DEPTH_MAX = 10


def bsp_depth(items: int) -> int:
    """The BSP tree depth for a scene of ``items`` items: Qt's choice, capped."""
    return max(5, min(BSP_DEPTH_MAX, max(items, 1).bit_length()))


def _problems(g, vals: dict) -> dict:
    """Graph.problems(), computed only for the nodes whose value is missing or not finite
    (the only ones that can have a problem), so a healthy document costs one scan."""
    bad = [n for n, v in vals.items()
           if v is None or (not _is_finite(v) if type(v) is ndarray else (v != v or v == _INF or v == -_INF))]
    if not bad:
        return {}
    # every slot's value, those inlined from instances (keyed by instance path) too
    tape, order_vals = g.evaluation()[:2]
    out = {}
    for n in bad:
        why = autodiff.problem(tape, order_vals, tape.index[n])
        if why:
            out[n] = why
    return out


def _grad_problems(g, grads: dict, probs: dict) -> dict:
    """``probs`` plus, for each node whose gradient is NaN or infinite (and whose value is
    fine), why (engine.learn.explain.gradient_problem): such a node is marked like a NaN
    value, with the reason as its tooltip. A healthy document costs one scan."""
    bad = [n for n, gr in grads.items() if not _is_finite(gr) and n not in probs]
    if not bad:
        return probs
    out = dict(probs)
    for n in bad:
        why = gradient_problem(g, n)
        if why:
            out[n] = why
    return out


def _is_finite(v) -> bool:
    if type(v) is ndarray:
        return v.dtype.kind in "iu" or bool(np.isfinite(v).all())
    return v is None or (type(v) in (float, int) and v - v == 0)


def _same(raw, old) -> bool:
    """Whether a node's (value, grad, problem, mark) is what it already shows; arrays count
    as the same only when they are the same objects (comparing them elementwise would cost
    as much as drawing them)."""
    if old is None:
        return False
    if not any(type(x) is ndarray for x in raw) and not any(type(x) is ndarray for x in old):
        return raw == old  # the scalar path: one tuple comparison
    return all(a is b or (type(a) is not ndarray and type(b) is not ndarray and a == b)
               for a, b in zip(raw, old))


def _label_texts(it, v, gr, fmt) -> tuple[str, str, bool]:
    """The value and gradient rows' texts; an array shows its shape there (``2×3``) and its
    numbers in the grid or heatmap under the row."""
    if type(v) is not ndarray and it.tensor_shape is None:  # the scalar path, unchanged
        return fmt(v), fmt(gr), False
    changed = it.set_tensor(v, gr)
    if type(v) is ndarray:
        dims = "×".join(map(str, v.shape)) if v.ndim > 1 else shape_text(v.shape)
        return dims, (dims if type(gr) is ndarray else fmt(gr)), changed
    return fmt(v), fmt(gr), changed


def _changed_indices(old_v, new_v, old_g, new_g) -> list | None:
    """Tape indices whose value or gradient differs between two evaluations of the same
    tape (NaN equals NaN here: it draws the same). None when they cannot be compared
    cheaply (tensor values), and the caller refreshes everything."""
    try:
        return [
            i for i, a, b, c, d in zip(range(len(new_v)), old_v, new_v, old_g, new_g)
            if not ((a == b or (a != a and b != b)) and (c == d or (c != c and d != d)))
        ]
    except (ValueError, TypeError):  # numpy arrays have no single truth value
        return None


def summed_axes(in_shape, out_shape) -> tuple:
    """The axes of ``out_shape`` that a gradient is summed over on its way back to an input
    of ``in_shape`` that broadcasting stretched (the leading ones it lacks, and where it has 1).

    >>> summed_axes((3,), (2, 3)), summed_axes((2, 1), (2, 3)), summed_axes((2, 3), (2, 3))
    ((0,), (1,), ())
    """
    extra = len(out_shape) - len(in_shape)
    if extra < 0:
        return ()
    lead = tuple(range(extra))
    return lead + tuple(extra + k for k, n in enumerate(in_shape) if n == 1 and out_shape[extra + k] != 1)


def _shape(v) -> tuple:
    return tuple(v.shape) if type(v) is ndarray else ()


def broadcast_note(g, s, t) -> str | None:
    """``(3,) → (2, 3)`` when the value of ``s`` is stretched by broadcasting on its way
    into the elementwise op ``t``; None otherwise."""
    sv, tv = g.value(s), g.value(t)
    row = OPS.get(g.op(t))  # an instance (or node kind) does not broadcast its inputs
    if tv is None or sv is None or row is None or row.tensor:
        return None
    a, b = _shape(sv), _shape(tv)
    return f"{shape_text(a)} → {shape_text(b)}" if a != b else None


def port_note(g, s, t) -> str | None:
    """What the port row of ``t`` fed by ``s`` says: the shape arriving (``(4, 2)``), or the
    stretch broadcasting gives it (``(3,) → (2, 3)``); None for a scalar."""
    note = broadcast_note(g, s, t)
    if note is None and type(g.value(s)) is ndarray:
        note = shape_text(g.value(s).shape)
    return note


def wire_grad_text(g, s, t, amount) -> str | None:
    """The gradient label of wire s -> t: a number, or for an array how it comes back: summed
    over the axes broadcasting added (``Σ over axis 0``), else its shape."""
    if amount is None:
        return None
    if type(amount) is not ndarray:
        if type(g.value(t)) is ndarray:  # a scalar that broadcasting spread: summed over all
            return f"Σ all = {S.format_number(amount)}"
        return S.format_number(amount)
    axes = summed_axes(_shape(g.value(s)), _shape(g.value(t))) if broadcast_note(g, s, t) else ()
    if axes:
        return "Σ over axis " + ", ".join(map(str, axes))
    return shape_text(amount.shape)


class GraphScene(QGraphicsScene):
    """The canvas contents for one document (see the module docstring). ``previewChanged``:
    the numbers shown now come from another Graph (see :meth:`set_preview`)."""

    previewChanged = Signal()

    def __init__(self, bridge, parent=None, *, controller=None):
        super().__init__(parent)
        if not isinstance(bridge, DocumentBridge):  # a Controller: draw its document, with gestures
            controller, bridge = bridge, bridge.bridge
        self._bridge = bridge
        self._controller = controller
        self._nodes: dict[int, NodeItem] = {}
        self._calls: dict[int, NodeItem] = {}  # the instances among them: they show more numbers
        self._peek = None  # the hover peek's popup, made on first use
        self._wires: dict[tuple[int, int, int], WireItem] = {}
        self._wire_depth = 0  # wires added so far: each new one stacks under the others
        self._show_wire_grads = False
        self._press_positions: dict[int, QPointF] = {}
        self._drag = None  # wire drag in progress: dict, see begin_wire_drag
        self._rubber: RubberWireItem | None = None
        self._drop_port: Port | None = None  # the port a dragged wire would land on
        self._drop_ring: QGraphicsEllipseItem | None = None  # its highlight
        self._shown = None  # (tape, values, grads, root, output) the labels show, to diff against
        self._preview = None  # a Graph whose numbers the labels show instead (a training step)
        self._noted: set[int] = set()  # nodes whose port rows carry a shape note
        # Measured (benchmarks/gui_bench.py --configs, 1,000 nodes): with the BSP index a drag
        # step plus repaint costs ~13 ms of CPU against ~18 ms without an index, and opening
        # is no slower; the documents are large and mostly static, which is what BSP is for.
        # Again at 10,000 / 50,000 nodes: drag step + repaint 0.8 / 69 ms with BSP against
        # 24 / 183 ms with NoIndex. (NoIndex opens the 66k-node MLP loss ~40 % faster, as its
        # long wires each fill many BSP cells, but then every repaint scans every item.)
        self.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.BspTreeIndex)
        self.setSceneRect(-SCENE_HALF, -SCENE_HALF, 2 * SCENE_HALF, 2 * SCENE_HALF)
        bridge.replaced.connect(self.rebuild)
        bridge.reset.connect(self.rebuild)
        bridge.nodeAdded.connect(self._add_node_item)
        bridge.inserted.connect(self._add_inserted)
        bridge.nodeRemoved.connect(self._remove_node_item)
        bridge.edgeAdded.connect(self._add_wire)
        bridge.edgeRemoved.connect(self._remove_wire)
        bridge.nameChanged.connect(self._on_name_changed)
        bridge.nodeMoved.connect(self._on_node_moved)
        bridge.layoutApplied.connect(self._on_layout_applied)
        bridge.evaluated.connect(self.refresh_labels)
        bridge.instancesChanged.connect(self._on_instances_changed)
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

    def set_preview(self, graph) -> None:
        """Paint the numbers of ``graph`` (a copy of the document with other values: a step of
        a training run being watched or scrubbed) instead of the document's; None paints the
        document's again. The document, the selection and every gesture stay the document's."""
        if graph is None and self._preview is None:
            return
        self._preview = graph
        self._shown = None
        self.refresh_labels()
        self.previewChanged.emit()

    @property
    def preview(self):
        """The Graph whose numbers are painted instead of the document's, or None."""
        return self._preview

    @property
    def _numbers(self):
        """The Graph the painted numbers come from: the preview, else the document."""
        p = self._preview
        return p if p is not None else self._bridge.graph

    @property
    def numbers(self):
        """The Graph every number shown comes from (painted, in tooltips, in the inspector):
        the preview while there is one, else the document."""
        return self._numbers

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

    @property
    def wire_labels_limited(self) -> bool:
        """Gradient on wires is on but the document is past WIRE_LABEL_LIMIT, so wires carry
        no labels (the inspector still lists every contribution)."""
        return self._show_wire_grads and len(self._nodes) > WIRE_LABEL_LIMIT

    def _wire_labels(self) -> bool:
        return self._show_wire_grads and len(self._nodes) <= WIRE_LABEL_LIMIT

    def items_bounding_rect(self) -> QRectF:
        """The rectangle around every node and wire (empty when the document is)."""
        if not self._nodes:
            return QRectF()
        # Floats over positions and heights: a QRectF union per node cost ~0.2 s per call at
        # 66k nodes, and opening calls this several times (fit, scroll range, resize). Every
        # node's bounding rect has the same margins around its body (NodeItem.boundingRect).
        x0 = y0 = _INF
        x1 = y1 = -_INF
        for it in self._nodes.values():
            x, y = it.x(), it.y()
            x0, x1 = min(x0, x), max(x1, x)
            y0, y1 = min(y0, y), max(y1, y + it._height)
        one = next(iter(self._nodes.values()))
        box = one.boundingRect()
        left, top = x0 + box.left(), y0 + box.top()
        return QRectF(left, top, x1 + box.right() - left, y1 + box.bottom() - one._height - top)

    # ---------------------------------------------------------------- building

    def rebuild(self) -> None:
        """Drop every item and draw the bridge's current graph from scratch."""
        self._cancel_wire_drag()
        self._press_positions = {}
        self._shown = None  # new items show nothing yet: the next refresh draws every label
        self._noted = set()
        forget_labels(self)
        self.clear()
        self._drop_ring = None  # deleted with every other item
        self._nodes.clear()
        self._calls.clear()
        self._wires.clear()
        g = self.graph
        self._fit_scene_rect(g)
        # Building makes two objects per node and wire and frees none: the cyclic collector
        # would walk every one of them again and again (a third of building the MLP loss).
        collecting = gc.isenabled()
        gc.disable()
        try:
            self._build_items(g)
        finally:
            if collecting:
                gc.enable()
        self.setBspTreeDepth(bsp_depth(len(self._nodes) + len(self._wires)))

    def _build_items(self, g) -> None:
        """Every item made and given its labels and connected ports before it enters the
        scene, where each such change would be a repaint to book (a third of the time of
        opening 10,000 nodes went to that), then all added at once."""
        nodes, wires = self._nodes, self._wires
        for n in g.nx.nodes:
            nodes[n] = self._new_node_item(n)
        show, self._show_wire_grads = self._show_wire_grads, False
        try:
            self.refresh_labels()
        finally:
            self._show_wire_grads = show
        for s, t, p, sp in g.nx.edges(keys=True, data="source_port", default=0):
            src, dst = nodes[s], nodes[t]
            w = WireItem(src, dst, p, sp)
            src.wires.add(w)
            dst.wires.add(w)
            dst.inputs[p].connected = True  # not drawn yet: nothing to repaint
            wires[(s, t, p)] = w
        for it in nodes.values():
            self.addItem(it)  # _fit_scene_rect made room for them all
        for w in wires.values():
            self.addItem(w)
            w.place()  # routed once in the scene: the route goes around the scene's nodes
        self._rebundle()
        if show:
            self._refresh_wire_grads()

    def _fit_scene_rect(self, g) -> None:
        """The fixed scene rect, grown to hold the whole document with room to spare. The BSP
        index divides this rect: items far outside it all land in its edge cells, and every
        repaint of a 50,000-node document then walks thousands of them (measured: a drag
        step went from ~200 ms to a few ms)."""
        r = QRectF(-SCENE_HALF, -SCENE_HALF, 2 * SCENE_HALF, 2 * SCENE_HALF)
        if g.nx.number_of_nodes():
            xs = [a["x"] for _, a in g.nx.nodes(data=True)]
            ys = [a["y"] for _, a in g.nx.nodes(data=True)]
            pad = SCENE_HALF / 2
            r = r.united(QRectF(min(xs) - pad, min(ys) - pad, max(xs) - min(xs) + 2 * pad,
                                max(ys) - min(ys) + 2 * pad))
        self.setSceneRect(r)

    def _new_node_item(self, n: int) -> NodeItem:
        a = self.graph.nx.nodes[n]
        it = NodeItem(n, a["op"], a["name"] or a.get("label"), a.get("definition"))
        if it.op == CALL:
            self._calls[n] = it
        if self._controller is None:  # read-only: nothing to drag
            it.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsMovable, False)
        it.setPos(a["x"], a["y"])
        return it

    def _add_node_item(self, n: int) -> NodeItem:
        it = self._new_node_item(n)
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

    def _add_inserted(self, nodes, wires) -> None:
        """Items for many nodes added as one edit (a backward graph): made and connected
        before they enter the scene, as rebuild makes them, the scene rect grown once and the
        cyclic collector paused; what _add_node_item and _add_wire do per event, in one pass."""
        collecting = gc.isenabled()
        gc.disable()
        try:
            new = {n: self._new_node_item(n) for n in nodes}
            made = []
            for s, t, p, sp in wires:
                src = new.get(s) or self._nodes[s]
                dst = new.get(t) or self._nodes[t]
                w = WireItem(src, dst, p, sp)
                src.wires.add(w)
                dst.wires.add(w)
                if t in new:
                    dst.inputs[p].connected = True  # not drawn yet: nothing to repaint
                else:
                    dst.inputs[p].set_connected(True)
                self._wire_depth += 1  # stacked under the wires already drawn, as _add_wire does
                w.setZValue(w.zValue() - self._wire_depth * WIRE_Z_STEP)
                made.append(w)
            box = QRectF()
            for n, it in new.items():
                self.addItem(it)
                self._nodes[n] = it
                box = box.united(it.sceneBoundingRect())
            if new and not self.sceneRect().contains(box.adjusted(-SCENE_MARGIN / 2, -SCENE_MARGIN / 2,
                                                                  SCENE_MARGIN / 2, SCENE_MARGIN / 2)):
                self.setSceneRect(self.sceneRect().united(
                    box.adjusted(-SCENE_MARGIN, -SCENE_MARGIN, SCENE_MARGIN, SCENE_MARGIN)))
            for w in made:
                self.addItem(w)
                w.place()
                self._wires[w.key] = w
        finally:
            if collecting:
                gc.enable()

    def _remove_node_item(self, n: int) -> None:
        it = self._nodes.pop(n, None)
        self._calls.pop(n, None)
        if it is None:
            return
        for w in list(it.wires):
            self._remove_wire(*w.key)
        self._press_positions.pop(n, None)
        self.removeItem(it)

    def _add_wire(self, s: int, t: int, p: int, sp: int = 0) -> None:
        src, dst = self._nodes[s], self._nodes[t]
        w = WireItem(src, dst, p, sp)
        src.wires.add(w)
        dst.wires.add(w)
        dst.inputs[p].set_connected(True)
        # Each new wire stacks under the ones already drawn: a wire just made passes under
        # the gradient labels that are there (QA: a new wire drawn across an existing label).
        self._wire_depth += 1
        w.setZValue(w.zValue() - self._wire_depth * WIRE_Z_STEP)
        self.addItem(w)
        w.place()  # routed once in the scene: the route goes around the scene's nodes
        self._wires[(s, t, p)] = w
        self._rebundle({(s, t)})

    def _rebundle(self, pairs=None) -> None:
        """Many wires between the same two nodes drawn as one bundle (gui.canvas.bundles)."""
        rebundle(self._wires, self._numbers.edge_grad, S.format_number, pairs)

    def _remove_wire(self, s: int, t: int, p: int) -> None:
        w = self._wires.pop((s, t, p), None)
        if w is None:
            return
        w.src.wires.discard(w)
        w.dst.wires.discard(w)
        w.dst.inputs[p].set_connected(False)
        w.forget_label()  # its placed label leaves the scene's label grid with it
        self.removeItem(w)
        if w.bundle or not w.isVisible():
            self._rebundle({(s, t)})

    # ---------------------------------------------------------------- bridge signals
    # value and output changes show up with the evaluation that follows them

    # ---------------------------------------------------------------- hover peek

    def peek(self, node: int, screen_pos) -> None:
        """Show a small live picture of instance ``node``'s inside near ``screen_pos``."""
        if self._controller is None or not self.views():
            return
        from gui.canvas.peek import Peek  # the inside's scene imports this module

        if self._peek is None:
            self._peek = Peek(self.views()[0])
        try:
            at = screen_pos.toPoint() if hasattr(screen_pos, "toPoint") else QPoint(screen_pos)
            self._peek.show_for(self._bridge, node, at + QPoint(24, 16))
        except Exception:  # noqa: BLE001 - a picture must never take the canvas down
            self._peek.hide_peek()

    def end_peek(self) -> None:
        if self._peek is not None:
            self._peek.hide_peek()

    @property
    def peek_popup(self):
        """The hover peek's popup (None until an instance was first hovered)."""
        return self._peek

    def _on_instances_changed(self, which) -> None:
        """An instance's ports changed (its definition's, or it switched definition): its item
        is drawn anew, with its wires."""
        g = self.graph
        nodes = [which] if isinstance(which, int) else [
            n for n, it in self._calls.items()
            if n in g.nx and g.definition_of(n).name in (which, it.definition)]
        for n in nodes:
            if n not in self._nodes or n not in g.nx:
                continue
            selected = self._nodes[n].isSelected()
            self._remove_node_item(n)
            it = self._add_node_item(n)
            it.setSelected(selected)
            for s_, t, p, sp in g.nx.in_edges(n, keys=True, data="source_port", default=0):
                if s_ in self._nodes:
                    self._add_wire(s_, t, p, sp)
            for s_, t, p, sp in g.nx.out_edges(n, keys=True, data="source_port", default=0):
                if t in self._nodes:
                    self._add_wire(s_, t, p, sp)
        if nodes:
            # The new items show their numbers with the evaluation that follows the edit: the
            # engine is mid-edit now (ports changed, wires to come), not to be evaluated.
            self._shown = None

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
        changed. Returns how many nodes changed.

        After an edit that kept the topology and the output (a value edit, a scrub), only the
        nodes whose value or gradient changed, and their consumers (whose problem text names
        their inputs), are looked at: a 50,000-node document refreshes a handful of labels."""
        g = self._numbers
        tape, vals_l, grads_l, root_i = g.evaluation()
        explicit = g.pinned_output
        shown, self._shown = self._shown, (tape, vals_l, grads_l, root_i, explicit)
        if shown is not None and shown[0] is tape and shown[3:] == (root_i, explicit):
            few = _changed_indices(shown[1], vals_l, shown[2], grads_l)
            # A slot inside an instance or a definition's constant changed: the instance's
            # rows and the numbers around it follow from more than the slots' own nodes.
            if few is not None and all(type(tape.order[i]) is int for i in few):
                return self._refresh_some(g, tape, vals_l, grads_l, root_i, explicit, few)
        vals, grads = g.values(), g.grads()
        probs = _grad_problems(g, grads, _problems(g, vals))
        root = g.evaluated_output()
        fmt = S.format_number
        changed = 0
        for n, it in self._nodes.items():
            mark = OUT_NONE if n != root else (OUT_EXPLICIT if n == explicit else OUT_AUTO)
            v, gr, why = vals.get(n), grads.get(n), probs.get(n)
            raw = (v, gr, why, mark)
            if _same(raw, it.raw_state):  # same numbers, same text: skip the formatting
                continue
            it.raw_state = raw
            vt, gt, grew = _label_texts(it, v, gr, fmt)
            if it.set_state(vt, gt, why, mark) or grew:
                changed += 1
        if self._show_wire_grads or g.has_arrays():  # shapes ride on the wires of arrays
            self._refresh_wire_grads()
        elif self._noted:
            self._drop_port_notes()
        return changed + self._refresh_instances(g)

    def _refresh_some(self, g, tape, vals, grads, root_i, explicit, idx: list) -> int:
        order, items = tape.order, self._nodes
        # the slots inlined from instances (keyed by instance path or definition) have no item:
        # their instance's own slot says when it changed
        nodes = {n for n in (order[i] for i in idx) if type(n) is int}
        # an instance's numbers are its ports' (a body that passes an input straight through
        # shares its slot with the source): looked at after every change
        nodes.update(self._calls)
        for n in list(nodes):  # a consumer's problem text names its inputs' values
            nodes.update(g.nx.successors(n))
        index = tape.index
        for t in list(nodes):  # so does a NaN gradient's reason, on the consumer's other inputs
            nodes.update(s for s in g.nx.predecessors(t) if not _is_finite(grads[index[s]]))
        root = None if root_i is None else order[root_i]
        fmt = S.format_number
        changed = 0
        for n in nodes:
            it = items.get(n)
            if it is None:
                continue
            i = tape.index[n]
            v, gr = vals[i], grads[i]
            if n in self._calls:  # its output 0's gradient, not its slot's (which it may share)
                v, gr = g.value(n), g.grad(n)
            why = autodiff.problem(tape, vals, i) if not _is_finite(v) else None
            if why is None and not _is_finite(gr):
                why = gradient_problem(g, n)
            mark = OUT_NONE if n != root else (OUT_EXPLICIT if n == explicit else OUT_AUTO)
            raw = (v, gr, why, mark)
            if _same(raw, it.raw_state):
                continue
            it.raw_state = raw
            vt, gt, grew = _label_texts(it, v, gr, fmt)
            if it.set_state(vt, gt, why, mark) or grew:
                changed += 1
        arrays = g.has_arrays()
        labels = self._wire_labels()
        if labels or arrays:
            for t in nodes:  # what a wire carries depends on its target's gradient and inputs
                for s_, _t, p in g.nx.in_edges(t, keys=True):
                    w = self._wires.get((s_, t, p))
                    if w is not None:
                        amount = g.edge_grad(s_, t, p) if labels else None
                        if arrays:
                            self._set_wire_texts(g, w, amount, labels)
                        else:
                            w.set_grad_text(None if amount is None else S.format_number(amount))
        if not arrays and self._noted:
            self._drop_port_notes()
        return changed + self._refresh_instances(g)

    def _refresh_instances(self, g) -> int:
        """Each instance's numbers past its first output's: the value and gradient of its
        other outputs and the gradient leaving through each input."""
        changed = 0
        for n, it in self._calls.items():
            if n not in g.nx:
                continue
            outs = tuple((_short(g.value(n, p)), _short(g.grad(n, p))) for p in range(1, len(it.outputs)))
            ins = []
            for p, wire in enumerate(g.input_wires(n)):
                amount = None if wire is None else g.edge_grad(wire[0], n, p)
                ins.append(None if amount is None else _short(amount))
            changed += it.set_instance_texts(outs, tuple(ins))
            if G.compact_outputs(len(it.outputs)):
                changed += it.set_grad_norm(_short(grad_norm(g.grad(n, p) for p in range(len(it.outputs)))))
        heads = {(w.src.node_id, w.dst.node_id) for w in self._wires.values() if w.bundle}
        if heads:  # a bundle's tooltip carries the norm of what its wires send back now
            self._rebundle(heads)
        return changed

    def _drop_port_notes(self) -> None:
        """No array is left (an array edit undone, say): no port row may still say a shape."""
        for n in self._noted:
            it = self._nodes.get(n)
            if it is not None:
                it.set_port_notes({})
        self._noted.clear()

    def _refresh_wire_grads(self) -> None:
        g = self._numbers
        show = self._wire_labels()
        sent = {}
        if show:  # by source node: one lookup per node, not two per wire
            for s in self._nodes:
                for t, p, amount in g.contributions(s):
                    sent[(s, t, p)] = amount
        if g.has_arrays():
            for key, w in self._wires.items():
                self._set_wire_texts(g, w, sent.get(key), show)
            return
        if self._noted:
            self._drop_port_notes()
        fmt = S.format_number
        for key, w in self._wires.items():
            amount = sent.get(key)
            w.set_grad_text(None if amount is None else fmt(amount))  # no label where none flows

    def _set_wire_texts(self, g, w, amount, show: bool) -> None:
        """A wire's labels in a document with arrays: the gradient label says how an array
        comes back (``Σ over axis 0``), the target's port row the stretch it got going in."""
        try:
            note = port_note(g, w.src.node_id, w.dst.node_id)
            text = wire_grad_text(g, w.src.node_id, w.dst.node_id, amount) if show else None
        except Exception:  # noqa: BLE001 - a label must never take the canvas down
            note = text = None
        notes = dict(w.dst.port_notes)
        if note:
            notes[w.port] = note
        else:
            notes.pop(w.port, None)
        w.dst.set_port_notes(notes)
        if notes:
            self._noted.add(w.dst.node_id)
        w.set_grad_text(text)

    def helpEvent(self, event):  # noqa: N802 - Qt's virtual
        """Tooltips carry numbers: each is written from the engine's numbers as it is shown,
        so one set while the mouse rested somewhere is never shown after an edit changed it."""
        pos = event.scenePos()
        for it in self.items(pos):
            if isinstance(it, NodeItem):
                it.setToolTip(it.tooltip_at(it.mapFromScene(pos)))
                break
            if isinstance(it, WireItem) and it.src is not None:
                vp = event.widget()  # the viewport of the view the mouse rests in
                view = vp.parentWidget() if vp is not None else None
                scale = 1.0
                if isinstance(view, QGraphicsView):
                    scale = view.transform().m11() * vp.devicePixelRatioF()
                it.setToolTip(it.tooltip_text(text_legible(scale)))
                break
        super().helpEvent(event)

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

    @property
    def moving_nodes(self) -> bool:
        """Whether nodes are being dragged right now (wires draw faster, unsmoothed, then)."""
        return bool(self._press_positions)

    def mouseReleaseEvent(self, event):  # noqa: N802
        super().mouseReleaseEvent(event)
        if event.button() != Qt.MouseButton.LeftButton or not self._press_positions:
            return
        self.update()  # the wires drawn unsmoothed during the drag, smooth again
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
            self._drag = {"mode": "from_out", "node": node.node_id, "out_port": port.index,
                          "anchor": port.scenePos()}
        else:
            src = g.inputs(node.node_id)[port.index] if node.node_id in g.nx else None
            if src is not None and src in self._nodes:
                w = self._wires.get((src, node.node_id, port.index))
                if w is not None:
                    w.setVisible(False)
                self._drag = {"mode": "rewire", "node": node.node_id, "port": port.index, "src": src,
                              "anchor": self._nodes[src].output_port_pos(w.source_port if w else 0),
                              "hidden": w}
            else:
                self._drag = {"mode": "from_in", "node": node.node_id, "port": port.index,
                              "anchor": port.scenePos()}
        self._rubber = RubberWireItem()
        self.addItem(self._rubber)
        self.update_wire_drag(pos)

    def update_wire_drag(self, pos: QPointF) -> None:
        if self._drag is None or self._rubber is None:
            return
        target = self.drop_target(pos)
        self._show_drop_target(target)
        end = target.scenePos() if target is not None else pos  # the wire shows where it will land
        a = self._drag["anchor"]
        if self._drag["mode"] == "from_in":
            self._rubber.set_ends(end, a)
        else:
            self._rubber.set_ends(a, end)

    @property
    def drop_highlight(self) -> Port | None:
        """The port a wire dropped now would connect to (highlighted during a drag)."""
        return self._drop_port

    def _snap_radius(self) -> float:
        """SNAP_PX screen pixels in scene units: at least the ports' own hit radius, and at
        most what it is at 10 % zoom (further out, ports are dots and a wider search would
        walk thousands of nodes on every mouse move)."""
        views = self.views()
        zoom = views[0].transform().m11() if views else 1.0
        return max(S.PORT_HIT_R, SNAP_PX / max(zoom, 0.1))

    def drop_target(self, pos: QPointF) -> Port | None:
        """The port nearest ``pos`` within SNAP_PX screen pixels that the wire being dragged
        can connect to: the right kind, not on its own node, not closing a cycle."""
        d = self._drag
        if d is None:
            return None
        mode = d["mode"]
        kinds = {"from_out": ("in",), "from_in": ("out",)}.get(mode, ("in", "out"))
        r = self._snap_radius()
        best, best_d = None, r * r
        for it in self.items(QRectF(pos.x() - r, pos.y() - r, 2 * r, 2 * r)):
            if not isinstance(it, NodeItem):
                continue
            for port in it.ports():
                if port.kind not in kinds:
                    continue
                sp = port.scenePos()
                dx, dy = sp.x() - pos.x(), sp.y() - pos.y()
                dist = dx * dx + dy * dy
                if dist <= best_d and self._compatible(d, port):
                    best, best_d = port, dist
        return best

    def _compatible(self, d: dict, port: Port) -> bool:
        """Whether the dragged wire may end on ``port`` (cycles refused up front, so the
        highlight never promises a connection the controller would refuse)."""
        n = port.node.node_id
        g = self.graph
        if port.kind == "in":
            src = d["node"] if d["mode"] == "from_out" else d["src"]
            if "ancestors" not in d:  # computed once per drag, on first need
                d["ancestors"] = nx.ancestors(g.nx, src) | {src} if src in g.nx else set()
            return n not in d["ancestors"]
        if d["mode"] == "from_out":
            return False
        dst = d["node"]
        if "descendants" not in d:
            d["descendants"] = nx.descendants(g.nx, dst) | {dst} if dst in g.nx else set()
        return n not in d["descendants"]

    def _show_drop_target(self, port: Port | None) -> None:
        if port is self._drop_port:
            return
        self._drop_port = port
        if port is None:
            if self._drop_ring is not None:
                self._drop_ring.setVisible(False)
            return
        if self._drop_ring is None or self._drop_ring.scene() is not self:
            r = S.PORT_R + 5.0
            ring = QGraphicsEllipseItem(-r, -r, 2 * r, 2 * r)
            ring.setPen(S.pen(S.HIGHLIGHT, 3.0))
            ring.setBrush(Qt.BrushStyle.NoBrush)
            ring.setZValue(4)  # above nodes and the rubber wire
            ring.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
            self.addItem(ring)
            self._drop_ring = ring
        self._drop_ring.setPos(port.scenePos())
        self._drop_ring.setVisible(True)

    def end_wire_drag(self, pos: QPointF) -> None:
        """Finish the wire drag at ``pos``: connect, replace, move or disconnect. A wire
        dropped on empty canvas opens the search box there; what it creates gets the wire."""
        snapped = self.drop_target(pos)
        d = self._drag
        self._cancel_wire_drag()
        if d is None:
            return
        c = self._controller
        mode = d["mode"]
        if mode == "from_out":
            # a port hit squarely but refused as a target (a cycle): connect() says why
            target = snapped or self.port_at(pos, "in") or self._free_input_at(pos, d["node"])
            if target is not None:
                c.connect(d["node"], target.node.node_id, target.index, d["out_port"])
            elif self._other_port(pos, "out", d["node"]):
                c.message.emit("connect an output to an input port (on the left of a node)")
            elif (body := self._node_body_at(pos, d["node"])) is not None:
                # Dropped on a node but not on a port: say why nothing happened.
                name = c.graph.label(body.node_id)
                why = "a number has no inputs" if body.op == NUMBER else "every input is wired"
                c.message.emit(f"not connected: {name} has no free input ({why}); "
                               "drop on an input port to replace its wire")
            elif self._node_body_at(pos, None) is None:
                self._offer_search(pos, {"source": d["node"]})
        elif mode == "from_in":
            target = snapped or self.port_at(pos, "out")
            if target is not None:
                c.connect(target.node.node_id, d["node"], d["port"], target.index)  # its output port
            elif self._other_port(pos, "in", d["node"]):
                c.message.emit("connect an input to an output port (on the right of a node)")
            elif self._node_body_at(pos, None) is None:
                self._offer_search(pos, {"target": d["node"], "port": d["port"]})
        else:  # rewire: the end of an existing wire was picked up
            if snapped is None:
                snapped = self.port_at(pos)
            target_in = snapped if snapped is not None and snapped.kind == "in" else None
            target_out = snapped if snapped is not None and snapped.kind == "out" else None
            if target_in is not None:
                if (target_in.node.node_id, target_in.index) != (d["node"], d["port"]):
                    c.move_wire(d["node"], d["port"], target_in.node.node_id, target_in.index)
            elif target_out is not None:
                if target_out.node.node_id != d["src"]:
                    c.connect(target_out.node.node_id, d["node"], d["port"], target_out.index)
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

    def _offer_search(self, pos: QPointF, pending: dict) -> None:
        """Open the view's search box at ``pos``; the node chosen there is wired as
        ``pending`` says (see GraphView.open_search)."""
        views = self.views()
        if views and hasattr(views[0], "open_search"):
            v = views[0]
            v.open_search(v.mapFromScene(pos), pending=pending)

    def _other_port(self, pos, kind, node_id) -> bool:
        p = self.port_at(pos, kind)
        return p is not None and p.node.node_id != node_id

    def _cancel_wire_drag(self) -> None:
        d, self._drag = self._drag, None
        self._show_drop_target(None)
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

    def output_tag_clicked(self, node_id: int) -> None:
        """A click on a node's output tag: pin the output there, or, on the pinned output's
        tag, let the output follow the graph again. One undo step either way."""
        c = self._controller
        if c is None or node_id not in self.graph.nx:
            return
        if self.graph.pinned_output == node_id:
            c.unpin_output()
        else:
            c.set_output(node_id)

    def _instance_menu(self, menu: QMenu, node_id: int, targets) -> None:
        """An instance's entries: Ungroup, Make Unique, and Expose as Input per named constant
        of its definition."""
        c, g = self._controller, self.graph
        d = g.definition_of(node_id)
        menu.addSeparator()
        act = QAction("Ungroup", menu)
        act.setShortcut("Ctrl+Shift+G")
        act.setToolTip("Put the body back in its place, wired as before (one undo step)")
        act.triggered.connect(lambda: self.select_nodes(c.ungroup(targets)))
        menu.addAction(act)
        shared = len(g.instances(d.name)) > 1
        act = QAction("Make Unique", menu)
        act.setEnabled(shared)
        act.setToolTip(f"Give this instance its own copy of {d.name}, so edits inside change it alone"
                       if shared else f"This is the only instance of {d.name}: it is unique already")
        act.triggered.connect(lambda: c.make_unique(node_id))
        menu.addAction(act)
        consts = [n for n in d.constants()]
        if consts:
            sub = menu.addMenu("Expose as Input")
            sub.setToolTipsVisible(True)
            for n in consts:
                label = g.label((d.name, n))
                act = QAction(label, sub)
                act.setToolTip(f"Make {label} an input port of every {d.name}, fed from a number holding "
                               "its value: each instance can then have its own")
                act.triggered.connect(lambda _=False, n=n: c.expose_as_input((d.name, n)))
                sub.addAction(act)

    def node_menu(self, node_id: int, parent=None) -> QMenu:
        """The context menu of a node: Pin as Output (or Output Follows the Graph), Rename…,
        Edit value…, Duplicate, Delete.
        Duplicate and Delete act on the selection when the node is part of it."""
        c = self._controller
        g = self.graph
        menu = QMenu(parent)
        if c is None:
            return menu  # read-only: nothing to offer
        targets = self.selected_node_ids()
        if node_id not in targets:
            targets = [node_id]
        pinned = g.pinned_output
        if pinned != node_id:
            act = QAction("Pin as Output", menu)
            act.setToolTip("Backward starts here, and it stays the output as the graph grows")
            act.triggered.connect(lambda: c.set_output(node_id))
            menu.addAction(act)
        if pinned is not None:
            act = QAction("Output Follows the Graph", menu)
            act.setToolTip("Unpin the output: it becomes the node nothing consumes that depends on the "
                           "most others")
            act.triggered.connect(c.unpin_output)
            menu.addAction(act)
        menu.setToolTipsVisible(True)
        menu.addSeparator()
        view = self.views()[0] if self.views() else None
        if view is not None and hasattr(view, "edit_name"):
            act = QAction("Rename…", menu)
            act.triggered.connect(lambda: view.edit_name(node_id))
            menu.addAction(act)
            if node_id in g.nx and g.op(node_id) == NUMBER:
                act = QAction("Edit value…", menu)
                act.triggered.connect(lambda: view.edit_value(node_id))
                menu.addAction(act)
        if node_id in g.nx and g.op(node_id) == CALL:
            self._instance_menu(menu, node_id, targets)
        menu.addSeparator()
        act = QAction("Duplicate", menu)
        act.triggered.connect(lambda: self.select_nodes(c.duplicate(targets)))
        menu.addAction(act)
        act = QAction("Delete", menu)
        act.triggered.connect(lambda: c.remove_nodes(targets))
        menu.addAction(act)
        return menu

    def free_spot(self, x: float, y: float) -> tuple[float, float]:
        """The top-left corner nearest (x, y), on rings of node-sized steps around it, where a
        new node covers no node, port or port label (a palette double-click puts nodes there)."""
        gap_x, gap_y = 50.0, 30.0  # room for port labels and wires between neighbours
        tall = G.node_height(2)  # room for any node with up to two inputs
        step_x, step_y = S.NODE_W + gap_x, tall + gap_y
        for ring in range(0, 40):
            spots = [(i, j) for i in range(-ring, ring + 1) for j in range(-ring, ring + 1)
                     if max(abs(i), abs(j)) == ring]
            spots.sort(key=lambda ij: (ij[0] * step_x) ** 2 + (ij[1] * step_y) ** 2)  # nearest first
            for i, j in spots:
                cx, cy = x + i * step_x, y + j * step_y
                probe = QRectF(cx - gap_x, cy - gap_y, S.NODE_W + 2 * gap_x, tall + 2 * gap_y)
                if not any(isinstance(it, NodeItem) for it in self.items(probe)):
                    return cx, cy
        return x, y

    def selected_wire_keys(self) -> list[tuple[int, int, int]]:
        """The selected wires as (source, target, port)."""
        return [it.key for it in self.selectedItems() if isinstance(it, WireItem)]

    def wire_menu(self, key, scene_pos: QPointF, parent=None) -> QMenu:
        """The context menu of a wire: Delete (the selected wires, if this one is among
        them), Insert op on this wire… (the search box opens at ``scene_pos``)."""
        c = self._controller
        menu = QMenu(parent)
        targets = self.selected_wire_keys()
        if key not in targets:
            targets = [key]
        act = QAction("Delete wire" if len(targets) == 1 else f"Delete {len(targets)} wires", menu)
        act.triggered.connect(lambda: c.remove_items((), targets))
        menu.addAction(act)
        act = QAction("Insert op on this wire…", menu)
        act.triggered.connect(lambda: self._offer_search(scene_pos, {"wire": key}))
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
