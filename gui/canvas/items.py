"""Drawn items: NodeItem (which draws and hit-tests its Ports) and WireItem.

Items hold only what they draw; the numbers come from the engine through the scene. A
NodeItem's ``pos()`` is the node's top-left corner, equal to the engine's (x, y).
"""

from __future__ import annotations

import math
import weakref

import numpy as np
import shiboken6
from PySide6.QtCore import QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QFontMetricsF, QPainter, QPainterPath, QPainterPathStroker
from PySide6.QtWidgets import QGraphicsItem, QStyle
from shiboken6 import isValid

from engine import NUMBER, OPS
from engine.core import kinds
from engine.core.arrays import shape_text
from engine.drawing import geometry as G
from engine.drawing import routing
from gui import style as S
from gui.canvas import tensor_view as TV

_F_HEAD = S.font(9.5, bold=True)
_F_SYMBOL = S.font(11.5, bold=True)
_F_SMALL = S.font(7.5)
_F_LABEL = S.font(8.0)
_F_PORT = S.font(8.0, italic=True)
_F_NUM = S.font(8.5, mono=True)
_F_TAG = S.font(7.5, bold=True)
_F_CELL = S.font(7.0, mono=True)  # one element of an array grid
_F_BIG = S.font(24.0, bold=True)  # the compact form's one word: readable far further out
_FM_SYMBOL = QFontMetricsF(_F_SYMBOL)
_FM_TAG = QFontMetricsF(_F_TAG)
_FM_NUM = QFontMetricsF(_F_NUM)
_FM_BIG = QFontMetricsF(_F_BIG)

_ALIGN_L = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
_ALIGN_R = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
_ALIGN_C = Qt.AlignmentFlag.AlignCenter

OUT_NONE, OUT_EXPLICIT, OUT_AUTO = 0, 1, 2  # OUT_EXPLICIT: the pinned output
OUT_PINNED = OUT_EXPLICIT

# The tag above the output node's top-right corner, and the one offered on a hovered node.
TAG_PINNED = "output (pinned)"
TAG_AUTO = "output (automatic)"
TAG_OFFER = "pin as output"
TAG_TIPS = {
    TAG_PINNED: "Output (pinned): backward starts here whatever you add to the graph.\n"
                "Click to let the output follow the graph again (Graph ▸ Output Follows the Graph).",
    TAG_AUTO: "Output (automatic): the node nothing consumes that depends on the most others;\n"
              "it moves as the graph grows. Click to pin the output here.",
    TAG_OFFER: "Click to pin this node as the output: backward starts here,\n"
               "and it stays the output as the graph grows.",
}

_NODE_FLAGS = (QGraphicsItem.GraphicsItemFlag.ItemIsMovable | QGraphicsItem.GraphicsItemFlag.ItemIsSelectable
               | QGraphicsItem.GraphicsItemFlag.ItemSendsGeometryChanges)
_POS_CHANGED = QGraphicsItem.GraphicsItemChange.ItemPositionHasChanged
_SEL_CHANGED = QGraphicsItem.GraphicsItemChange.ItemSelectedHasChanged
_SCENE_CHANGE = QGraphicsItem.GraphicsItemChange.ItemSceneChange
_SCENE_CHANGED = QGraphicsItem.GraphicsItemChange.ItemSceneHasChanged
_SELECTED = QStyle.StateFlag.State_Selected

# ---------------------------------------------------------------- legibility
# Text is drawn where it would be at least MIN_TEXT_PX physical pixels high: the zoom times the
# screen's device pixel ratio decides, not the zoom alone (at QT_SCALE_FACTOR=2 a zoom of 0.4
# still gives 10-pixel text). Below that a node draws its compact form (see NodeItem.paint).
MIN_TEXT_PX = 7.0
_TEXT_H: dict = {}  # font metrics need a QGuiApplication: measured on first use, not at import


def _text_height(which: str) -> float:
    h = _TEXT_H.get(which)
    if h is None:
        h = _TEXT_H[which] = (_FM_BIG if which == "big" else _FM_SMALL).height()
    return h

FORM_TEXT, FORM_COMPACT, FORM_CHIPS = "text", "compact", "chips"

# Step mode's slot states (NodeItem.set_step_view): what a value or gradient row shows.
SLOT_EMPTY = ""  # not reached yet: an empty slot, so nothing gives the answer away


def device_scale(painter: QPainter, widget=None) -> float:
    """Physical pixels per scene unit for this paint: world scale x device pixel ratio."""
    t = painter.worldTransform()
    scale = math.hypot(t.m11(), t.m12())
    dev = painter.device()
    dpr = dev.devicePixelRatioF() if dev is not None else 1.0
    if widget is not None:  # a cached pixmap may not carry the screen's ratio
        dpr = max(dpr, widget.devicePixelRatioF())
    return scale * dpr


def text_legible(scale: float, text_height: float | None = None) -> bool:
    """Whether text ``text_height`` scene units high (default: the smallest text a node draws)
    reads at ``scale`` physical pixels per scene unit."""
    return scale * (_text_height("small") if text_height is None else text_height) >= MIN_TEXT_PX


def compact_zoom(dpr: float = 1.0, margin: float = 1.1) -> float:
    """The least zoom at which a node's compact form still draws its word (name or symbol)."""
    return MIN_TEXT_PX * margin / (_text_height("big") * max(dpr, 1e-6))


def readable_zoom(dpr: float = 1.0, margin: float = 1.3) -> float:
    """The least zoom at which every node text is drawn on a screen with ``dpr``, with a
    ``margin`` above the cut-off so it reads comfortably rather than barely."""
    return MIN_TEXT_PX * margin / (_text_height("small") * max(dpr, 1e-6))


_HIT_R2 = G.PORT_HIT_R * G.PORT_HIT_R

# constant node geometry, built once instead of in every paint
_HEAD_PATH = QPainterPath()
_HEAD_PATH.addRoundedRect(QRectF(0.0, 0.0, G.NODE_W, G.HEAD_H), S.CORNER, S.CORNER)
_SQUARE = QPainterPath()
_SQUARE.addRect(QRectF(0.0, G.HEAD_H / 2, G.NODE_W, G.HEAD_H / 2))
_HEAD_PATH = _HEAD_PATH.united(_SQUARE)  # rounded top corners, square bottom
_PEN_BORDER = S.pen(S.NODE_BORDER, 1.0)
_PEN_SELECTED = S.pen(S.SELECTED, 2.0)
_PEN_HIGHLIGHT = S.pen(S.HIGHLIGHT, 2.5)
_PEN_PROBLEM = S.pen(S.PROBLEM, 2.0)
_PEN_UNCONNECTED = S.pen(S.UNCONNECTED, 2.0)
_PEN_OUT = S.pen(S.OUTPUT, 3.0)
_PEN_OUT_AUTO = S.pen(S.OUTPUT, 2.0, Qt.PenStyle.DashLine)
_PEN_WIRE = S.pen(S.WIRE, 2.0)
_PEN_RUBBER = S.pen(S.WIRE_RUBBER, 2.0, Qt.PenStyle.DashLine)
_PEN_SLOT = S.pen(S.TEXT_DIM, 1.0, Qt.PenStyle.DashLine)
_PORT_PENS = {k: S.pen(c, 2.0) for k, c in (("out", S.PORT_OUT.darker(160)), ("in", S.PORT_IN.darker(160)),
                                            ("empty", S.PORT_EMPTY))}
_PORT_ROW = QColor(255, 255, 255, 10)  # a faint band: port rows read as ports, not numbers
_PARTIAL = QColor("#ffd166")  # a gradient still being summed (step mode)
_FM_SMALL = QFontMetricsF(_F_SMALL)
_SHAPES: dict = {}
_FM_HEAD = QFontMetricsF(_F_HEAD)


def input_port_y(arity: int, port: int) -> float:
    """Port centre height inside a node: each input has its own row under the header."""
    return G.input_port_y(port)


class Port:
    """A port dot on a node. Not an item of its own: the NodeItem draws its ports and
    hit-tests them (thousands of child items would make big documents slow to open)."""

    __slots__ = ("node", "kind", "index", "label", "connected", "_pos")

    def __init__(self, node: NodeItem, kind: str, index: int, label: str | None, pos: QPointF):
        self.node = node
        self.kind = kind  # "in" or "out"
        self.index = index
        self.label = label  # the input's name on its row: a, b, base, exp, x
        self.connected = False
        self._pos = pos

    def pos(self) -> QPointF:
        """Centre in the node's coordinates."""
        return QPointF(self._pos)

    def scenePos(self) -> QPointF:  # noqa: N802 - reads like the QGraphicsItem it stands for
        return self.node.mapToScene(self._pos)

    def hit_rect(self) -> QRectF:
        """The square (node coordinates) a press or drop may land in to hit this port."""
        r = G.PORT_HIT_R
        return QRectF(self._pos.x() - r, self._pos.y() - r, 2 * r, 2 * r)

    def set_connected(self, on: bool) -> None:
        if on != self.connected:
            self.connected = on
            self.node.update()

    def tooltip(self) -> str:
        """Names the port and, where the scene can say, the value arriving and the gradient
        leaving (inputs) or the value leaving and the gradient arriving (the output)."""
        node = self.node
        sc = node.scene()
        # the numbers painted (a training step's while one is previewed), not the document's
        g = getattr(sc, "numbers", None) if getattr(sc, "controller", None) is not None else None
        fmt = S.format_number
        who = node.display_name()
        if self.kind == "out":
            head = f"output {self.label} of {who}" if self.label else f"output of {who}"
            if g is None or node.node_id not in g.nx:
                return head
            grad = g.grad(node.node_id, self.index)
            return (f"{head}\nvalue leaving: {fmt(g.value(node.node_id, self.index))}\n"
                    f"gradient arriving: {fmt(grad) if grad is not None else 'none (no path to the output)'}")
        head = f"input {self.label} of {who}" if self.label else f"input {self.index + 1} of {who}"
        if g is None or node.node_id not in g.nx:
            return head
        wire = g.input_wires(node.node_id)[self.index]
        if wire is None:
            return f"{head}\nnot connected: drag a wire here from an output port"
        src, sp = wire
        sent = g.edge_grad(src, node.node_id, self.index)
        return (f"{head}\nvalue arriving: {fmt(g.value(src, sp))} from {g.label(src)}\n"
                f"gradient leaving: {fmt(sent) if sent is not None else 'none (no path to the output)'}"
                f" back to {g.label(src)}")

    def __repr__(self):
        return f"<Port {self.kind}{self.index} of node {self.node.node_id}>"


_CACHE = QGraphicsItem.CacheMode.DeviceCoordinateCache
_PORT_PLACES: dict = {}


CALL = G.CALL  # an instance of a definition (a composite)
CALL_SYMBOL = "ƒ"


def short_text(v) -> str:
    """A number as a row shows it; an array as its shape (its numbers are in the tooltip)."""
    if type(v) is TV.np.ndarray:
        return "×".join(map(str, v.shape)) if v.ndim > 1 else shape_text(v.shape)
    return S.format_number(v)


def op_symbol(op: str) -> str:
    """The header symbol of a node of ``op`` (a row's symbol, a node kind's short word)."""
    if op in OPS:
        return OPS[op].symbol
    if op == CALL:
        return CALL_SYMBOL
    if op in G.PLACEHOLDERS:
        return "in" if op == "input" else "out"
    kind = kinds.KINDS.get(op)
    return (kind.symbol or kind.name) if kind is not None else op


def op_text(op: str) -> tuple[str, str]:
    """(name, one-line description) of ``op`` for tooltips."""
    if op in OPS:
        return OPS[op].name, OPS[op].doc
    if op == CALL:
        return "instance", "a composite: one call of a definition (double-click or Tab enters it)"
    if op in G.PLACEHOLDERS:
        return (f"{op} port", "what comes in through this input of the instance (value) and goes back "
                "out (gradient)" if op == "input" else "what leaves the instance through this output")
    kind = kinds.KINDS.get(op)
    return op, (kind.doc if kind is not None else "")


def _kind_ports(op: str) -> tuple[tuple, tuple]:
    """(input names, output names) of a node kind (one unnamed output for rows and numbers)."""
    if op == NUMBER:
        return (), ()
    if op in OPS:
        return OPS[op].ports, ()
    if op in G.PLACEHOLDERS:  # a definition's port, drawn inside an entered instance
        return ("x",) * G.PLACEHOLDERS[op], ()
    kind = kinds.get(op)
    outs = tuple(kind.outputs({}))
    return tuple(kind.inputs({})), (outs if len(outs) > 1 else ())


def _port_places(op: str, arity: int):
    """``([(label, centre)] for the inputs, output centre)`` in node coordinates, once per op
    (the QPointFs are shared: a Port never changes its centre)."""
    got = _PORT_PLACES.get(op)
    if got is None:
        names = _kind_ports(op)[0]
        got = _PORT_PLACES[op] = (
            [(names[k] if k < len(names) else f"in{k + 1}", QPointF(0.0, G.input_port_y(k)))
             for k in range(arity)],
            QPointF(G.NODE_W, G.output_port_y(G.arity(op))))
    return got


class NodeItem(QGraphicsItem):
    """One engine node: header (op symbol, name, id), one labelled row per input port, value
    (green), gradient (red)."""

    # What every node starts with, as class attributes: an instance holds only what differs
    # (setting two dozen attributes per item was a third of building a 66k-node scene).
    value_text = S.DASH
    grad_text = S.DASH
    problem: str | None = None
    problem_kind: str | None = None  # "nan" or "unconnected"
    output_mark = OUT_NONE
    highlight = False
    badge: str | None = None
    badge_tip: str | None = None
    extra: str | None = None
    _extra_shown: str | None = None
    # Step mode's view of the rows: None shows the engine's number, SLOT_EMPTY an empty
    # slot, any other text that text (a partial sum); grad_final says whether it is done.
    step_value: str | None = None
    step_grad: str | None = None
    step_grad_final = False
    step_grad_array = None  # step mode: an array node's gradient so far (set_step_array)
    _hover_port: Port | None = None
    _hovered = False  # the mouse is over the node: an editable canvas offers "pin as output"
    _hover_tag = False  # ... and over the output tag itself
    _wire_drag = False
    _tip_set = False  # the tooltip is built on first hover: cheaper for big documents
    _node_tip = ""
    raw_state = None  # the scene's last (value, grad, problem, mark), to skip re-formatting
    # What the last paint drew: its form (FORM_TEXT, FORM_COMPACT, FORM_CHIPS) and strings.
    # Tests read these to see that text is drawn, not merely that an item exists.
    painted_form: str | None = None

    def __init__(self, node_id: int, op: str, name: str | None = None, definition=None):
        super().__init__()
        self.node_id = node_id
        self.op = op
        self.name = name
        self.wires: set[WireItem] = set()
        self.setFlags(_NODE_FLAGS)
        # Text-heavy and rarely changing: paint once into a pixmap, blit while dragging.
        self.setCacheMode(_CACHE)
        self.setAcceptHoverEvents(True)  # port highlight, cursor and port tooltips
        if op == CALL:
            self._init_instance(definition)
            return
        ins, outs = _kind_ports(op)
        self.arity = len(ins)
        self.rows = G.arity(op)  # port rows under the header (a dataset's outputs take rows too)
        self._height = G.node_height(self.rows)
        inputs, out = _port_places(op, self.arity)
        self.inputs = [Port(self, "in", k, label, at) for k, (label, at) in enumerate(inputs)]
        self.output_port = Port(self, "out", 0, None, out)
        # A node kind with several outputs: one labelled port per output, on the right of
        # its own row (output 0 is output_port).
        self.outputs = [self.output_port] if not outs else [
            Port(self, "out", k, label, QPointF(G.NODE_W, G.input_port_y(k))) for k, label in enumerate(outs)]
        self.output_port = self.outputs[0]
        self._init_common()

    def _init_instance(self, definition) -> None:
        """An instance: one named input row per definition input, then a value row (its port
        on the right) and a gradient row per definition output (engine.drawing.geometry)."""
        self.definition = getattr(definition, "name", None)
        ins = tuple(getattr(definition, "input_names", ()))
        outs = tuple(getattr(definition, "output_names", ())) or ("out1",)
        self.arity = k = len(ins)
        self.out_names = outs
        self.rows = G.instance_rows(k, len(outs))
        self._height = G.node_height(self.rows)
        self.inputs = [Port(self, "in", i, label, QPointF(0.0, G.instance_input_y(k, i)))
                       for i, label in enumerate(ins)]
        self.outputs = [Port(self, "out", j, label, QPointF(G.NODE_W, G.instance_output_y(k, j, len(outs))))
                        for j, label in enumerate(outs)]
        self.output_port = self.outputs[0]
        self._init_common()

    def _init_common(self) -> None:
        self.painted_texts: list[str] = []
        # An array value (see set_tensor): its shape (None for a scalar), the arrays drawn,
        # and what the last paint drew of them: {"value"/"grad": ("grid", rows of texts) or
        # ("heatmap", (rows, cols))}.
        self.tensor_shape: tuple | None = None
        self.tensor_value = None
        self.tensor_grad = None
        self.painted_tensor: dict = {}
        self._heat: dict = {}  # cached heatmap images, rebuilt when the arrays change
        self.port_notes: dict[int, str] = {}  # input port -> the broadcast it receives, "(3,) → (2, 3)"

    # An instance's extra numbers (set_instance_texts): the (value, gradient) texts of outputs
    # 1.. (output 0's are value_text/grad_text) and the gradient leaving through each input.
    definition: str | None = None
    out_names: tuple = ()
    out_texts: tuple = ()
    in_grad_texts: tuple = ()

    grad_norm_text = S.DASH  # a compact output side: the norm of its outputs' gradients

    def compact_output_text(self) -> str:
        """The summary row of a compact output side: "337 parameters" for a parameter bank
        (an instance with no inputs), "337 outputs" otherwise."""
        return f"{len(self.outputs)} {'parameters' if not self.inputs else 'outputs'}"

    def compact_input_text(self) -> str:
        """The summary row of a compact input side: how many inputs share it."""
        return f"+ {self.arity - G.KEEP_INPUTS} inputs ({self.inputs[G.KEEP_INPUTS].label} …)"

    COMPACT_TIP_ROWS = 12  # the ports a compact side's tooltip lists one by one

    def compact_side_at(self, local: QPointF, port=None) -> str | None:
        """"out" or "in" when ``local`` is on a compact side's summary (its rows or its shared
        port), else None."""
        if self.op != CALL:
            return None
        if G.compact_outputs(len(self.outputs)) and (
                (port is not None and port.kind == "out")
                or local.y() >= G.value_row_top(G.input_rows(self.arity))):
            return "out"
        if G.compact_inputs(self.arity) and (
                (port is not None and port.kind == "in" and port.index >= G.KEEP_INPUTS)
                or self.port_row_rect(G.KEEP_INPUTS).contains(local)):
            return "in"
        return None

    def compact_tooltip(self, side: str) -> str:
        """A compact side's ports one by one with the engine's numbers now (the first
        COMPACT_TIP_ROWS): each parameter of a bank reads here without entering it."""
        sc = self.scene()
        g = getattr(sc, "numbers", None) if getattr(sc, "controller", None) is not None else None
        g = g if g is not None else getattr(sc, "graph", None)
        fmt = S.format_number
        n = self.node_id
        ports = self.outputs if side == "out" else self.inputs[G.KEEP_INPUTS:]
        head = (f"{len(ports)} outputs of {self.display_name()}, one row" if side == "out"
                else f"{len(ports)} inputs of {self.display_name()} on one row")
        lines = [head]
        live = g is not None and n in getattr(g, "nx", ())
        wires = g.input_wires(n) if live and side == "in" else ()
        for p in ports[: self.COMPACT_TIP_ROWS]:
            if not live:
                lines.append(p.label or "")
            elif side == "out":
                gr = g.grad(n, p.index)
                lines.append(f"{p.label} = {fmt(g.value(n, p.index))}, grad "
                             f"{fmt(gr) if gr is not None else 'none'}")
            else:
                w = wires[p.index] if p.index < len(wires) else None
                sent = None if w is None else g.edge_grad(w[0], n, p.index)
                v = "not connected" if w is None else fmt(g.value(*w))
                lines.append(f"{p.label} = {v}, grad {fmt(sent) if sent is not None else 'none'}")
        if len(ports) > self.COMPACT_TIP_ROWS:
            lines.append(f"… {len(ports) - self.COMPACT_TIP_ROWS} more: enter the instance (Tab or a "
                         "double-click) to see every one")
        return "\n".join(lines)

    def set_grad_norm(self, text: str) -> bool:
        if text == self.grad_norm_text:
            return False
        self.grad_norm_text = text
        self.update()
        return True

    def set_instance_texts(self, outputs: tuple, in_grads: tuple) -> bool:
        """An instance's numbers beyond output 0's: ``outputs`` the (value, gradient) texts of
        outputs 1.., ``in_grads`` the gradient leaving through each input (None: none)."""
        if (outputs, in_grads) == (self.out_texts, self.in_grad_texts):
            return False
        self.out_texts, self.in_grad_texts = outputs, in_grads
        self.update()
        return True

    # ---------------------------------------------------------------- geometry

    def boundingRect(self) -> QRectF:  # noqa: N802
        # Room for the port hit discs on both sides, above for the output tag, and the pen.
        r = G.PORT_HIT_R + 2.0
        return QRectF(-r, -20.0, G.NODE_W + 2 * r, self._height + 26.0)

    def body_rect(self) -> QRectF:
        return QRectF(0.0, 0.0, G.NODE_W, self._height)

    def shape(self) -> QPainterPath:
        """The body plus a disc around each port: presses there start wires; and the output
        tag while it is drawn (on the output, or offered on a hovered node): a click there
        pins or unpins the output."""
        tagged = bool(self.output_mark or self._hovered)
        key = ((self.op, self.arity, len(self.outputs)) if len(self.outputs) > 1 else self.arity,
               self._height, tagged)
        p = _SHAPES.get(key)
        if p is None:
            p = QPainterPath()
            p.addRoundedRect(self.body_rect(), S.CORNER, S.CORNER)
            p.setFillRule(Qt.FillRule.WindingFill)  # overlapping discs and body all count as inside
            for port in (*self.inputs, *self.outputs):
                p.addEllipse(port._pos, G.PORT_HIT_R, G.PORT_HIT_R)
            if tagged:
                p.addRect(self.tag_rect())
            p = _SHAPES[key] = p.simplified()
        return p

    def tag_rect(self) -> QRectF:
        """Where the output tag is clicked (item coordinates): the widest tag's pill."""
        w = max(_FM_TAG.horizontalAdvance(t) for t in TAG_TIPS) + 10.0
        return QRectF(G.NODE_W - w, -17.0, w, 14.0)

    def tag_text(self) -> str | None:
        """The output tag drawn now: TAG_PINNED, TAG_AUTO, TAG_OFFER (hovered, editable) or None."""
        if self.output_mark:
            return TAG_PINNED if self.output_mark == OUT_PINNED else TAG_AUTO
        return TAG_OFFER if self._hovered and self._editable() else None

    def _editable(self) -> bool:
        sc = self.scene()
        return sc is not None and hasattr(sc, "output_tag_clicked") and not sc.read_only

    def ports(self) -> list[Port]:
        return [*self.inputs, *self.outputs]

    def port_at(self, local: QPointF) -> Port | None:
        """The port whose hit disc contains ``local`` (item coordinates), nearest first."""
        best, best_d = None, _HIT_R2
        for port in (*self.inputs, *self.outputs):
            dx, dy = port._pos.x() - local.x(), port._pos.y() - local.y()
            d = dx * dx + dy * dy
            if d <= best_d:
                best, best_d = port, d
        return best

    def header_rect(self) -> QRectF:
        return QRectF(0.0, 0.0, G.NODE_W, G.HEAD_H)

    def value_rect(self) -> QRectF:
        """Where the value row is drawn (item coordinates); the inline editor covers it."""
        return QRectF(0.0, G.value_row_top(self.rows), G.NODE_W, G.ROW_H)

    def grad_rect(self) -> QRectF:
        return QRectF(0.0, G.grad_row_top(self.rows, self.tensor_shape), G.NODE_W, G.ROW_H)

    def tensor_rect(self, which: str) -> QRectF | None:
        """Where the array of ``which`` ("value" or "grad") is drawn, or None (a scalar)."""
        if not self.tensor_shape:
            return None
        top = (G.value_row_top(self.rows) if which == "value" else self.grad_rect().top()) + G.ROW_H
        return QRectF(8.0, top, G.NODE_W - 16.0, G.tensor_block_h(self.tensor_shape) - 4.0)

    def port_row_rect(self, port: int) -> QRectF:
        return QRectF(0.0, G.input_row_top(port), G.NODE_W, G.ROW_H)

    def input_port_pos(self, port: int) -> QPointF:
        """Scene position of input ``port``'s centre."""
        return self.mapToScene(self.inputs[port]._pos)

    def output_port_pos(self, port: int = 0) -> QPointF:
        """Scene position of output ``port``'s centre (0: the only one of most nodes)."""
        at = self.outputs[port] if 0 <= port < len(self.outputs) else self.output_port
        return self.mapToScene(at._pos)

    def itemChange(self, change, value):  # noqa: N802
        # Called for every kind of change (flags, parent, tooltip, ...): keep it lean, and
        # return value directly, which is all QGraphicsItem.itemChange does.
        if change == _POS_CHANGED:
            node_moved(self)  # its wires follow; wires it now lies on go round it
        elif change == _SCENE_CHANGE or change == _SCENE_CHANGED:
            forget_routes(self.scene() if change == _SCENE_CHANGE else value)
        elif change == _SEL_CHANGED:
            self.update()
        return value

    # ---------------------------------------------------------------- state from the engine

    def display_name(self) -> str:
        """How tooltips name this node: its name, else its op and id."""
        return self.name or f"{'number' if self.op == 'number' else op_text(self.op)[0]} #{self.node_id}"

    def set_name(self, name: str | None) -> None:
        if name != self.name:
            self.name = name
            self._update_tooltip()
            self.update()

    def set_state(self, value_text: str, grad_text: str, problem: str | None, output_mark: int) -> bool:
        """Update the drawn numbers; repaints (and returns True) only if something changed."""
        if (
            value_text == self.value_text
            and grad_text == self.grad_text
            and problem == self.problem
            and output_mark == self.output_mark
        ):
            return False
        if problem != self.problem:
            self.problem = problem
            if problem is None:
                self.problem_kind = None
            else:
                self.problem_kind = "unconnected" if "connected" in problem else "nan"
            self._update_tooltip()
        if output_mark != self.output_mark:
            self.output_mark = output_mark
            if self._hover_tag:  # the mouse rests on the tag: its tooltip says what a click does now
                tag = self.tag_text()
                self.setToolTip(TAG_TIPS[tag] if tag else self._node_tip)
        self.value_text, self.grad_text = value_text, grad_text
        self.update()
        return True

    def set_highlight(self, on: bool) -> None:
        """Purely visual emphasis (e.g. the node the backward stepper is processing)."""
        if on != self.highlight:
            self.highlight = on
            self.update()

    def set_step_view(self, value: str | None = None, grad: str | None = None, final: bool = False) -> None:
        """Step mode's rows: ``None`` shows the engine's number, ``SLOT_EMPTY`` an empty slot
        (not reached yet), other text a partial (``final=False``) or final gradient."""
        if (value, grad, final) != (self.step_value, self.step_grad, self.step_grad_final):
            self.step_value, self.step_grad, self.step_grad_final = value, grad, final
            self.update()

    def set_step_array(self, grad) -> None:
        """Step mode: the gradient an array node has received so far, drawn in its grid or
        heatmap (None: the engine's, or an empty slot when the row is one)."""
        if grad is not self.step_grad_array:
            self.step_grad_array = grad
            self._heat.pop("grad", None)
            self.update()

    def shown_value(self) -> str:
        """The value row's text as drawn ("" for an empty slot)."""
        if self.tensor_shape and self.step_value not in (None, SLOT_EMPTY):
            return self.value_text  # an array's row shows its shape; the grid its numbers
        return self.value_text if self.step_value is None else self.step_value

    def shown_grad(self) -> str:
        """The gradient row's text as drawn ("" for an empty slot)."""
        if self.tensor_shape and self.step_grad not in (None, SLOT_EMPTY):
            return self.grad_text
        return self.grad_text if self.step_grad is None else self.step_grad

    def set_badge(self, text: str | None, tooltip: str | None = None) -> None:
        """A small pill at the bottom-right (e.g. a finite-difference check mark)."""
        if (text, tooltip) != (self.badge, self.badge_tip):
            self.badge, self.badge_tip = text, tooltip
            self._update_tooltip()
            self.update()

    def set_tensor(self, value, grad) -> bool:
        """Show ``value`` and ``grad`` as arrays (grids or heatmaps) when ``value`` is one;
        the node grows or shrinks to hold them. Returns whether anything changed."""
        is_arr = type(value) is TV.np.ndarray and len(self.outputs) == 1  # a data set shows no heatmap
        shape = tuple(value.shape) if is_arr else None
        grad = grad if type(grad) is TV.np.ndarray and is_arr and grad.shape == shape else None
        if shape == self.tensor_shape and value is self.tensor_value and grad is self.tensor_grad:
            return False
        self.tensor_value, self.tensor_grad = (value if is_arr else None), grad
        self._heat = {}
        if shape != self.tensor_shape:
            self.prepareGeometryChange()
            self.tensor_shape = shape
            if shape is None:
                self.painted_tensor = {}
            self._height = G.node_height(self.rows, 0, shape)
            node_moved(self)  # the router's rectangle grows with the node
        self.update()
        return True

    def set_port_notes(self, notes: dict) -> None:
        """Text written at the right of input rows: the stretch an array wired there gets
        from broadcasting (``(3,) → (2, 3)``)."""
        if notes != self.port_notes:
            self.port_notes = dict(notes)
            self.update()

    def element_at(self, local: QPointF) -> tuple[str, tuple] | None:
        """("value" or "grad", index) of the array element drawn under ``local``, or None."""
        for which in ("value", "grad"):
            r = self.tensor_rect(which)
            if r is not None:
                idx = TV.cell_at(r, self.tensor_shape, local.x(), local.y())
                if idx is not None:
                    return which, idx
        return None

    def element_tooltip(self, index) -> str:
        """Index, value and gradient of one element of the array."""
        v = TV.element_of(self.tensor_value, index)
        g = TV.element_of(self.tensor_grad, index)
        name = self.name or f"#{self.node_id}"
        return (f"{TV.index_text(name, index)}\nvalue: {S.format_number(v)}\n"
                f"gradient: {S.format_number(g) if g is not None else 'none (no path to the output)'}")

    def set_extra_line(self, text: str | None, shown: str | None = None) -> None:
        """A short note (e.g. a forward-mode tangent) drawn in the header in place of the id,
        as ``shown`` if given (a shorter form; ``text`` goes in the tooltip); None removes it.
        It used to be a row under the gradient, which grew every node of the document by a
        row into the node below it (QA, forward mode): the header keeps the node's size."""
        if (text, shown) == (self.extra, self._extra_shown):
            return
        self.extra = text
        self._extra_shown = shown
        if self._tip_set:
            self._update_tooltip()
        self.update()

    def _update_tooltip(self):
        self._tip_set = True
        if self.op == NUMBER:
            lines = [f"number {self.name or ''}".strip() + f"  (id {self.node_id})"]
        else:
            oname, doc = op_text(self.op)
            named = f" — {self.name}" if self.name else ""
            lines = [f"{oname}: {doc}{named}  (id {self.node_id})"]
        if self.problem:
            lines.insert(0, "⚠ " + self.problem)
        if self.problem_kind == "unconnected":
            lines.append("drag from an output port (right) to an input port (left) to connect")
        if self.badge_tip:
            lines.append(self.badge_tip)
        if self.extra:
            lines.append(self.extra)
        self._node_tip = "\n".join(lines)
        if self._hover_port is None:
            self.setToolTip(self._node_tip)

    # ---------------------------------------------------------------- painting

    def paint(self, painter: QPainter, option, widget=None):
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        body = self.body_rect()
        selected = bool(option.state & _SELECTED)
        self.painted_texts = []

        # body and header
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(S.NODE_BODY)
        painter.drawRoundedRect(body, S.CORNER, S.CORNER)
        painter.setBrush(S.NODE_HEAD_NUMBER if self.op == NUMBER else S.NODE_HEAD_OP)
        painter.drawPath(_HEAD_PATH)
        self._paint_borders(painter, body, selected)
        scale = device_scale(painter, widget)
        if text_legible(scale):
            self.painted_form = FORM_TEXT
            self._paint_text(painter)
        else:
            # Too small to read the rows: say what the node is in one big word (if even that
            # is too small, the chips and the header colour still tell number from op) and
            # show whether it has a value and a gradient as coloured chips. Never a blank box.
            self.painted_form = FORM_COMPACT if text_legible(scale, _text_height("big")) else FORM_CHIPS
            self._paint_compact(painter, self.painted_form == FORM_COMPACT)
        self._paint_ports(painter)

    def _text(self, painter: QPainter, rect: QRectF, align, text: str) -> None:
        painter.drawText(rect, align, text)
        self.painted_texts.append(text)

    def _paint_ports(self, painter: QPainter) -> None:
        for port in (*self.inputs, *self.outputs):
            r = G.PORT_R + (1.5 if port is self._hover_port else 0.0)
            if port.kind == "out":
                fill, ring = S.PORT_OUT, "out"
            elif port.connected:
                fill, ring = S.PORT_IN, "in"
            else:  # an unconnected input: hollow and amber, so it is noticed
                fill, ring = S.NODE_BODY, "empty"
            painter.setPen(_PORT_PENS[ring])
            painter.setBrush(fill)
            painter.drawEllipse(port._pos, r, r)

    def _compact_word(self) -> str:
        if self.name:
            return self.name
        if self.op != NUMBER:
            return op_symbol(self.op)
        return self.shown_value() or "number"

    def _paint_compact(self, painter: QPainter, word: bool) -> None:
        body = self.body_rect()
        chips_top = body.bottom() - 16.0
        if word:
            painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
            painter.setFont(_F_BIG)
            painter.setPen(S.TEXT)
            area = QRectF(6.0, 2.0, G.NODE_W - 12.0, chips_top - 4.0)
            self._text(painter, area, _ALIGN_C,
                       _FM_BIG.elidedText(self._compact_word(), Qt.TextElideMode.ElideRight, area.width()))
        # value chip (left) and gradient chip (right): filled where there is a number, hollow
        # where the slot is empty or has no path to the output; red-amber for a partial sum
        half = (G.NODE_W - 18.0) / 2
        for i, (text, colour) in enumerate(((self.shown_value(), S.VALUE), (self.shown_grad(), S.GRAD))):
            r = QRectF(6.0 + i * (half + 6.0), chips_top, half, 10.0)
            if i == 1 and self.step_grad not in (None, SLOT_EMPTY) and not self.step_grad_final:
                colour = _PARTIAL
            if text and text != S.DASH:
                painter.setPen(Qt.PenStyle.NoPen)
                painter.setBrush(colour if text != "NaN" else S.PROBLEM)
            else:
                painter.setPen(S.pen(colour, 1.5))
                painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(r, 4.0, 4.0)

    def _paint_text(self, painter: QPainter) -> None:
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)

        # header text: symbol and name (ops), name (numbers); id on the right
        x = 9.0
        hr = self.header_rect()
        if self.op != NUMBER:
            sym = op_symbol(self.op)
            sym_font, sym_fm = _F_SYMBOL, _FM_SYMBOL
            need = sym_fm.horizontalAdvance(sym) + 7.0 + _FM_SMALL.horizontalAdvance(self.name or "")
            if self.name and x + need > G.NODE_W - 8.0:
                sym_font, sym_fm = _F_SMALL, _FM_SMALL  # a word ("log softmax") leaves the name room
            painter.setFont(sym_font)
            painter.setPen(S.TEXT)
            # the op's whole word ("softmax" was cut to "softma" by a fixed 60-unit box)
            advance = sym_fm.horizontalAdvance(sym)
            self._text(painter, QRectF(x, 0, advance + 2.0, G.HEAD_H), _ALIGN_L, sym)
            x += advance + 7.0
        title = self.name or ("number" if self.op == NUMBER else (self.definition or ""))
        id_text = f"#{self.node_id}"
        if self.op == CALL and self.name and self.definition:  # which function: the id is in the tooltip
            id_text = self.definition
        elif self.name and not self.extra and _FM_HEAD.horizontalAdvance(title) > \
                G.NODE_W - 12.0 - x - _FM_SMALL.horizontalAdvance(id_text):
            id_text = ""  # a long name takes the id's room before it is cut (the id is in the tooltip)
        painter.setFont(_F_SMALL)
        painter.setPen(S.TEXT_DIM)
        if self.extra:  # the note takes the id's place (the id is in the tooltip) and up to 60 %
            id_text = _FM_SMALL.elidedText(self._extra_shown or self.extra, Qt.TextElideMode.ElideRight,
                                           G.NODE_W * 0.6)
            painter.setPen(S.EXTRA)
        self._text(painter, hr.adjusted(0, 0, -8, 0), _ALIGN_R, id_text)
        right = G.NODE_W - 8.0 - (_FM_SMALL.horizontalAdvance(id_text) + 4.0 if id_text else 0.0)
        if self.problem:
            painter.setFont(_F_HEAD)
            painter.setPen(S.PROBLEM if self.problem_kind == "nan" else S.UNCONNECTED)
            self._text(painter, QRectF(right - 16, 0, 16, G.HEAD_H), _ALIGN_C, "⚠")
            right -= 18.0
        if title:
            # a name too long for the title font is written smaller before it is cut
            # ("x1*w1 + x2*w2" read "x1*w1 + x…", "probs" beside "log softmax" vanished)
            big = _FM_HEAD.horizontalAdvance(title) <= right - x
            font, fm = (_F_HEAD, _FM_HEAD) if big else (_F_SMALL, _FM_SMALL)
            painter.setFont(font)
            painter.setPen(S.TEXT if self.name else S.TEXT_DIM)
            self._text(painter, QRectF(x, 0, right - x, G.HEAD_H), _ALIGN_L,
                       fm.elidedText(title, Qt.TextElideMode.ElideRight, right - x))

        # input rows: a faint band with the port's name beside its dot, so a port never reads
        # as the value or gradient row
        compact_from = G.KEEP_INPUTS if self.op == CALL and G.compact_inputs(self.arity) else None
        for p in self.inputs:
            if compact_from is not None and p.index >= compact_from:
                break  # the rest share one summary row, painted below
            r = self.port_row_rect(p.index)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(_PORT_ROW)
            painter.drawRect(r.adjusted(1.0, 1.0, -1.0, -1.0))
            painter.setFont(_F_PORT)
            painter.setPen(S.TEXT if p.connected else S.UNCONNECTED)
            self._text(painter, r.adjusted(G.PORT_R + 7.0, 0, 0, 0), _ALIGN_L, p.label)
            note = self.port_notes.get(p.index)
            if note:
                painter.setFont(_F_SMALL)
                painter.setPen(S.TEXT_DIM)
                self._text(painter, r.adjusted(0, 0, -8.0, 0), _ALIGN_R, note)
            elif p.index < len(self.in_grad_texts) and self.in_grad_texts[p.index] is not None:
                # an instance: the gradient leaving through this input, back to its source
                painter.setFont(_F_NUM)
                painter.setPen(S.GRAD)
                self._text(painter, r.adjusted(0, 0, -10.0, 0), _ALIGN_R, self.in_grad_texts[p.index])
        if compact_from is not None:
            r = self.port_row_rect(compact_from)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(_PORT_ROW)
            painter.drawRect(r.adjusted(1.0, 1.0, -1.0, -1.0))
            painter.setFont(_F_PORT)
            painter.setPen(S.TEXT)
            self._text(painter, r.adjusted(G.PORT_R + 7.0, 0, 0, 0), _ALIGN_L, self.compact_input_text())
        if len(self.outputs) > 1 and self.op != CALL:  # a node kind's several outputs: each named on its row
            painter.setFont(_F_PORT)
            painter.setPen(S.TEXT)
            for p in self.outputs:
                r = self.port_row_rect(p.index)
                painter.setPen(Qt.PenStyle.NoPen)
                painter.setBrush(_PORT_ROW)
                painter.drawRect(r.adjusted(1.0, 1.0, -1.0, -1.0))
                painter.setPen(S.TEXT)
                self._text(painter, r.adjusted(0, 0, -(G.PORT_R + 7.0), 0), _ALIGN_R, p.label)

        # value and gradient rows
        grad_colour = S.GRAD if self.step_grad is None or self.step_grad_final else _PARTIAL
        grad_top = self.grad_rect().top()
        rows = [("value", self.shown_value(), S.VALUE, G.value_row_top(self.rows)),
                ("grad", self.shown_grad(), grad_colour, grad_top)]
        if self.op == CALL:
            rows = self._instance_rows(grad_colour)
        if self.tensor_shape:
            self._paint_tensor(painter)
        left = 12.0
        for label, text, colour, y in rows:
            r = QRectF(left, y, G.NODE_W - left - 10.0, G.ROW_H)
            if label:
                painter.setFont(_F_LABEL)
                painter.setPen(S.TEXT_DIM)
                self._text(painter, r, _ALIGN_L, label)
            width = r.width() - (34.0 if label else 0.0)
            if text == SLOT_EMPTY:  # step mode: not reached yet
                painter.setPen(_PEN_SLOT)
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.drawRoundedRect(QRectF(r.right() - width, y + 3.0, width, G.ROW_H - 6.0), 3.0, 3.0)
                continue
            painter.setFont(_F_NUM)
            painter.setPen(colour)
            self._text(painter, r, _ALIGN_R, _FM_NUM.elidedText(text, Qt.TextElideMode.ElideRight, width))

        # tags: the output's above the top-right corner (solid when pinned, outlined while it
        # follows the graph, faint where a click would pin it), badge at the bottom-right
        tag = self.tag_text()
        if tag == TAG_PINNED:
            self._pill(painter, tag, S.OUTPUT, QColor("#1d2026"), G.NODE_W, -17.0)
        elif tag == TAG_AUTO:
            self._pill(painter, tag, QColor("#1d2026"), S.OUTPUT, G.NODE_W, -17.0, S.pen(S.OUTPUT, 1.2))
        elif tag == TAG_OFFER:
            self._pill(painter, tag, QColor(29, 32, 38, 200), S.TEXT_DIM, G.NODE_W, -17.0,
                       S.pen(S.TEXT_DIM, 1.0, Qt.PenStyle.DashLine))
        if self.badge:
            self._pill(painter, self.badge, S.BADGE, QColor("#1d2026"), G.NODE_W - 4.0, self._height - 8.0)

    def _instance_rows(self, grad_colour) -> list:
        """An instance's value and gradient rows, one pair per output, each value row labelled
        with the output's name (its port is on that row's right edge)."""
        if G.compact_outputs(len(self.outputs)):
            top = G.value_row_top(G.input_rows(self.arity))
            return [("", self.compact_output_text(), S.TEXT, top),
                    ("‖grad‖", self.grad_norm_text, grad_colour, top + G.ROW_H)]
        if len(self.outputs) == 1:
            label = self.out_names[0] if self.out_names and self.out_names[0] != "out1" else "value"
            return [(label, self.shown_value(), S.VALUE, G.value_row_top(G.input_rows(self.arity))),
                    ("grad", self.shown_grad(), grad_colour, self.grad_rect().top())]
        rows = []
        texts = ((self.shown_value(), self.shown_grad()), *self.out_texts)
        for j, name in enumerate(self.out_names):
            v, gr = texts[j] if j < len(texts) else (S.DASH, S.DASH)
            top = G.value_row_top(G.input_rows(self.arity)) + 2 * j * G.ROW_H
            rows.append((name, v, S.VALUE, top))
            rows.append(("grad", gr, grad_colour if j == 0 else S.GRAD, top + G.ROW_H))
        return rows

    def _paint_tensor(self, painter: QPainter) -> None:
        """The value's and the gradient's arrays under their rows: numbers in a grid when
        small, else heatmaps. In step mode a gradient not reached yet stays an empty slot."""
        self.painted_tensor = {}
        stepping = self.step_grad not in (None, SLOT_EMPTY)
        grad = self.tensor_grad
        if stepping and self.step_grad_array is not None and self.step_grad_array.shape == self.tensor_shape:
            grad = self.step_grad_array  # the sum so far
        show_grad = self.step_grad is None or (
            stepping and (self.step_grad_final or grad is not self.tensor_grad))
        grad_colour = S.GRAD if self.step_grad is None or self.step_grad_final else _PARTIAL
        grid = G.tensor_grid(self.tensor_shape)
        for which, a, colour, diverging, shown in (
                ("value", self.tensor_value, S.VALUE, False, self.step_value != SLOT_EMPTY),
                ("grad", grad, grad_colour, True, show_grad)):
            r = self.tensor_rect(which)
            if a is None or not shown:
                painter.setPen(_PEN_SLOT)
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.drawRoundedRect(r, 3.0, 3.0)
                if a is None and shown:  # no gradient: no path to the output
                    painter.setFont(_F_SMALL)
                    painter.setPen(S.TEXT_DIM)
                    self._text(painter, r, _ALIGN_C, "no path to the output")
                continue
            if grid is not None:
                rows, cols = grid
                t = TV.as_table(a)
                cw, ch = r.width() / cols, r.height() / rows
                painter.setPen(Qt.PenStyle.NoPen)
                painter.setBrush(QColor(255, 255, 255, 14))
                painter.drawRoundedRect(r, 3.0, 3.0)
                texts = [[S.format_cell(t[i, j]) for j in range(cols)] for i in range(rows)]
                # measured on the device painted on: a picture's resolution is not the screen's
                widest = max(QFontMetricsF(_F_CELL, painter.device()).horizontalAdvance(x)
                             for line in texts for x in line)
                font = _F_CELL
                if widest > cw - 4.0:  # a long number (−0.00848) in a narrow column: smaller digits
                    font = S.font(max(4.5, 7.0 * (cw - 4.0) / widest), mono=True)
                painter.setFont(font)
                painter.setPen(colour)
                for i in range(rows):
                    for j in range(cols):
                        text = texts[i][j]
                        painter.drawText(QRectF(r.left() + j * cw, r.top() + i * ch, cw - 2.0, ch),
                                         _ALIGN_R, text)
                self.painted_tensor[which] = ("grid", texts)
            else:
                img = self._heat.get(which)
                if img is None:
                    img = self._heat[which] = TV.heat_image(a, diverging)
                painter.drawImage(r, img)
                painter.setPen(S.pen(colour, 1.0))
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.drawRect(r)
                self.painted_tensor[which] = ("heatmap", TV.table_shape(self.tensor_shape))

    def _paint_borders(self, painter: QPainter, body: QRectF, selected: bool) -> None:
        # problem > selection > step highlight > plain; the output ring sits outside
        painter.setBrush(Qt.BrushStyle.NoBrush)
        if self.output_mark:
            painter.setPen(_PEN_OUT if self.output_mark == OUT_EXPLICIT else _PEN_OUT_AUTO)
            painter.drawRoundedRect(body.adjusted(-1.5, -1.5, 1.5, 1.5), S.CORNER + 1, S.CORNER + 1)
        if self.problem:
            painter.setPen(_PEN_PROBLEM if self.problem_kind == "nan" else _PEN_UNCONNECTED)
        elif selected:
            painter.setPen(_PEN_SELECTED)
        elif self.highlight:
            painter.setPen(_PEN_HIGHLIGHT)
        else:
            painter.setPen(_PEN_BORDER)
        painter.drawRoundedRect(body, S.CORNER, S.CORNER)
        if self.highlight and (selected or self.problem):
            painter.setPen(S.pen(S.HIGHLIGHT, 1.5, Qt.PenStyle.DotLine))
            painter.drawRoundedRect(body.adjusted(-4, -4, 4, 4), S.CORNER + 3, S.CORNER + 3)
        if selected and self.problem:
            painter.setPen(S.pen(S.SELECTED, 1.5))
            painter.drawRoundedRect(body.adjusted(2.5, 2.5, -2.5, -2.5), S.CORNER - 2, S.CORNER - 2)

    def _pill(self, painter, text, fill, fg, right, top, outline=None):
        w = _FM_TAG.horizontalAdvance(text) + 10.0
        r = QRectF(right - w, top, w, 14.0)
        painter.setPen(outline if outline is not None else Qt.PenStyle.NoPen)
        painter.setBrush(fill)
        painter.drawRoundedRect(r, 7.0, 7.0)
        painter.setFont(_F_TAG)
        painter.setPen(fg)
        self._text(painter, r, _ALIGN_C, text)

    # ---------------------------------------------------------------- ports: hover and wire drags

    def hoverEnterEvent(self, event):  # noqa: N802
        if not self._tip_set:
            self._update_tooltip()
        if self.op == CALL:
            sc = self.scene()
            if sc is not None and hasattr(sc, "peek"):
                sc.peek(self.node_id, event.screenPos())  # a small live picture of the inside
        if self._editable():
            self._hovered = True  # offers "pin as output" (and takes its tag into the shape)
            self.update()
        self.hoverMoveEvent(event)

    def _on_tag(self, pos: QPointF) -> bool:
        return self.tag_text() is not None and self.tag_rect().contains(pos)

    def hoverMoveEvent(self, event):  # noqa: N802
        port = self.port_at(event.pos())
        on_tag = port is None and self._on_tag(event.pos())
        if port is not self._hover_port or on_tag != self._hover_tag:
            self._hover_port = port
            self._hover_tag = on_tag
            cursor = (Qt.CursorShape.CrossCursor if port else
                      Qt.CursorShape.PointingHandCursor if on_tag else Qt.CursorShape.ArrowCursor)
            self.setCursor(cursor)
            self.setToolTip(port.tooltip() if port is not None else
                            TAG_TIPS[self.tag_text()] if on_tag else self._node_tip)
            self.update()
        if port is None and not on_tag and self.tensor_shape:  # over an array: the element under the mouse
            hit = self.element_at(event.pos())
            self.setToolTip(self.element_tooltip(hit[1]) if hit is not None else self._node_tip)

    def tooltip_at(self, local: QPointF) -> str:
        """The tooltip for the point ``local`` (item coordinates), from the engine's numbers
        now: a port's value and gradient, the output tag's action, an array element's, else
        the node's own (as hoverMoveEvent chooses them)."""
        if not self._tip_set:
            self._update_tooltip()
        port = self.port_at(local)
        compact = self.compact_side_at(local, port)
        if compact:
            return self.compact_tooltip(compact)
        if port is not None:
            return port.tooltip()
        if self._on_tag(local):
            return TAG_TIPS[self.tag_text()]
        if self.tensor_shape:
            hit = self.element_at(local)
            if hit is not None:
                return self.element_tooltip(hit[1])
        return self._node_tip

    def hoverLeaveEvent(self, event):  # noqa: N802
        if self.op == CALL:
            sc = self.scene()
            if sc is not None and hasattr(sc, "end_peek"):
                sc.end_peek()
        if self._hovered:
            self._hovered = False
            self.update()
        if self._hover_port is not None or self._hover_tag:
            self._hover_port = None
            self._hover_tag = False
            self.unsetCursor()
            self.setToolTip(self._node_tip)
            self.update()

    def mousePressEvent(self, event):  # noqa: N802
        sc = self.scene()
        if (event.button() == Qt.MouseButton.LeftButton and self._on_tag(event.pos())
                and self._editable()):
            sc.output_tag_clicked(self.node_id)  # pin here, or unpin a pinned output
            event.accept()
            return
        port = self.port_at(event.pos()) if event.button() == Qt.MouseButton.LeftButton else None
        if port is not None and sc is not None and hasattr(sc, "begin_wire_drag"):
            self._wire_drag = True  # a wire gesture: the node neither moves nor changes selection
            sc.begin_wire_drag(port, event.scenePos())
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event):  # noqa: N802
        if self._wire_drag:
            self.scene().update_wire_drag(event.scenePos())
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event):  # noqa: N802
        if self._wire_drag:
            self._wire_drag = False
            self.scene().end_wire_drag(event.scenePos())
            return
        super().mouseReleaseEvent(event)

    def contextMenuEvent(self, event):  # noqa: N802
        sc = self.scene()
        if sc is None or not hasattr(sc, "node_menu"):
            return
        if not self.isSelected():
            sc.clearSelection()
            self.setSelected(True)
        menu = sc.node_menu(self.node_id, event.widget())
        menu.exec(event.screenPos())
        event.accept()


def wire_path(p0: QPointF, p1: QPointF, segments=None) -> QPainterPath:
    """The wire from an output port (p0) to an input port (p1): the route's cubic segments
    (engine.drawing.routing), or without a route the plain curve."""
    if segments is None:
        segments = routing.plain_curve((p0.x(), p0.y()), (p1.x(), p1.y()))
    path = QPainterPath(p0)
    for _, (x1, y1), (x2, y2), (x3, y3) in segments:
        path.cubicTo(x1, y1, x2, y2, x3, y3)
    return path


def _body(it: NodeItem) -> tuple[float, float, float, float]:
    r = it.mapRectToScene(it.body_rect())
    return r.left(), r.top(), r.right(), r.bottom()


# One router per scene: the rectangles of its nodes in a grid, kept in step as nodes move
# (node_moved) and dropped when a node enters or leaves (forget_routes), then rebuilt on the
# next route. The scene's own index is not used: asking it for items from inside a move
# crashes Qt, and a Python grid answers "what is near this curve" without wrapping items.
_ROUTERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
# Past this many nodes wires are drawn as plain curves: routing every long wire of a document
# that size costs seconds at open and tens of ms per drag step (benchmarks/gui_bench.py).
ROUTE_LIMIT = 2000
# ... and past this many wires: instances of a network with hundreds of ports each bring tens
# of thousands of wires among a few hundred nodes (micrograd's MLP grouped: 35k wires routed
# took 15 s of a 22 s open, benchmarks/composites_gui.py).
ROUTE_WIRE_LIMIT = 10_000


def _router(scene) -> routing.Router | None:
    """The scene's router; None past ROUTE_LIMIT nodes, where wires are drawn plain."""
    r = _ROUTERS.get(scene)
    if r is None:
        # A GraphScene knows its nodes: listing every item (wires too) of a big document
        # only to count its nodes cost a second and a wrapper per item.
        known = getattr(scene, "_nodes", None)
        nodes = known.values() if isinstance(known, dict) else [
            it for it in scene.items() if isinstance(it, NodeItem)]
        wires = getattr(scene, "_wires", None)
        if len(nodes) > ROUTE_LIMIT or (isinstance(wires, dict) and len(wires) > ROUTE_WIRE_LIMIT):
            r = _ROUTERS[scene] = False  # remembered until a node enters or leaves
        else:
            r = _ROUTERS[scene] = routing.Router({it: _body(it) for it in nodes})
    return r or None


def forget_routes(scene) -> None:
    """A node entered or left ``scene``: its router is rebuilt when next needed."""
    if scene is not None:
        _ROUTERS.pop(scene, None)
        _BIG_GRIDS.pop(scene, None)


def route_wire(scene, p0: QPointF, p1: QPointF, ends=()) -> list:
    """The route (engine.drawing.routing segments) from p0 to p1 around the scene's nodes: the same
    router as the engine's, on the drawn node rectangles."""
    a, b = (p0.x(), p0.y()), (p1.x(), p1.y())
    if scene is None:
        return routing.plain_curve(a, b)
    r = _router(scene)
    if r is None:
        return routing.plain_curve(a, b)
    try:
        return r.route(a, b, ends=ends)
    except (ArithmeticError, ValueError):  # never let a drawing detail take the canvas down
        return routing.plain_curve(a, b)


def node_moved(node: NodeItem) -> None:
    """Keep the router in step with ``node``, route its wires, and re-route the wires it now
    lies on (or no longer blocks)."""
    sc = node.scene()
    if sc is None:
        return
    r = _ROUTERS.get(sc)
    if r:
        r.move(node, _body(node))
    elif r is False:  # past ROUTE_LIMIT: plain curves, nothing else to go round it
        big = _BIG_GRIDS.get(sc)
        if big is not None:
            big.move(node, _body(node))
        for w in node.wires:
            w.set_plain()
        return
    for w in node.wires:
        w.update_path()
    reroute_near(node)
    b = _body(node)
    release_labels_over(sc, (b[0] - G.PORT_R, b[1] - _OUT_TAG_H, b[2] + G.PORT_R, b[3]))


def reroute_near(node: NodeItem) -> None:
    """Re-route the other wires that pass near ``node`` where it is now (so none is left
    under it) or where it was (so a detour round it straightens again); its own wires follow
    it anyway."""
    sc = node.scene()
    if sc is None:
        return
    body = _body(node)
    c = routing.CLEAR
    zone = (body[0] - c, body[1] - c, body[2] + c, body[3] + c)
    zones = [zone]
    old = getattr(node, "_routed_zone", None)
    if old is not None and old != zone:
        zones.append(old)
    node._routed_zone = zone
    seen = set()
    for k, z in enumerate(zones):
        for it in sc.items(QRectF(z[0], z[1], z[2] - z[0], z[3] - z[1]),
                           Qt.ItemSelectionMode.IntersectsItemBoundingRect):
            if (not isinstance(it, WireItem) or it.src is None or it in seen
                    or it.src is node or it.dst is node):
                continue
            seg = it._segments
            if k == 0:  # where it is now: the wires that run through it go round it
                if seg is None or routing.polyline_hits_rect(routing.flatten(seg), z):
                    seen.add(it)
                    it.update_path()
            elif seg is not None and len(seg) > 1:  # where it was: a detour may straighten
                seen.add(it)
                it.straighten(z)


_SETTLE: list = []  # wires routed inside a paint, whose bounds shrink to the route after it


def _settle_later(wire: WireItem) -> None:
    if not _SETTLE:
        QTimer.singleShot(0, _settle)
    _SETTLE.append(wire)


def _settle() -> None:
    wires = _SETTLE[:]
    _SETTLE.clear()
    for w in wires:
        if shiboken6.isValid(w) and not w._pending:  # the scene may have deleted it since
            w.prepareGeometryChange()
            w._set_bounds()
            w.update()  # a loop route may reach past the bounds it was owed


_STROKER = QPainterPathStroker()
_STROKER.setWidth(16.0)  # precise but forgiving hit area around the curve: 16 px at 100 %
# selectable: click or box to select, Delete to remove; the exposed rect lets paint skip a
# wire whose curve misses the repainted area
_WIRE_FLAGS = (QGraphicsItem.GraphicsItemFlag.ItemIsSelectable
               | QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption)
_HIT_PAD = 4.0  # the wire pen's half width and antialiasing, in scene units
_LOD_WIRE = 0.3  # below this zoom a wire is a straight line without its label: cheap to repaint
_PEN_WIRE_SELECTED = S.pen(S.SELECTED, 3.0)
_WIRE_PEN_W = 2.0
_LABEL_W, _LABEL_H = 64.0, 14.0  # _LABEL_W: the widest label (the bounds' margin), see _label_w
_LABEL_BACK = 80.0  # how far before the target port a wire's gradient label would like to sit
_LABEL_STEP = 10.0  # spacing of the places along a wire a label may take
_LABEL_CLEAR = 2.0  # the gap kept between a label and a node or another label
_LABEL_CANDIDATES = 240  # places tried along one wire before its label gives up (a tooltip instead)

# Where each scene's drawn wire labels are, so that a label is placed clear of the others. The
# first wire to paint takes its preferred place and later ones go round it; a wire whose route
# changes gives its place up (its label is placed again on its next paint).
_LABELS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def label_grid(scene) -> routing.Grid:
    grid = _LABELS.get(scene)
    if grid is None:
        grid = _LABELS[scene] = routing.Grid(cell=64.0)
    return grid


# Past ROUTE_LIMIT there is no router, but labels still need the node boxes: a router of
# their own, built the first time a label is placed and kept in step by node_moved.
_BIG_GRIDS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _node_grid(scene) -> routing.Grid:
    """The node bodies of ``scene`` in a grid: the router's, or past ROUTE_LIMIT one of its own."""
    r = _router(scene)
    if r is not None:
        return r.grid
    big = _BIG_GRIDS.get(scene)
    if big is None:
        big = _BIG_GRIDS[scene] = routing.Router({it: _body(it) for it in scene.node_items().values()})
    return big.grid


def node_box_parts(it, ports: bool = True) -> list[tuple]:
    """What the user sees of node item ``it``, as scene rectangles (x0, y0, x1, y1): its body
    (with the "output" tag above it when it is an output) and a square round each port dot."""
    b = _body(it)
    top = b[1] - _OUT_TAG_H if it.output_mark else b[1]
    parts = [(b[0], top, b[2], b[3])]
    if not ports:
        return parts
    r = G.PORT_R + 1.0
    x, y = b[0], b[1]  # the body's top-left is the item's origin
    for port in (*it.inputs, *it.outputs):
        p = port._pos
        parts.append((x + p.x() - r, y + p.y() - r, x + p.x() + r, y + p.y() + r))
    return parts


def _box_array(it, ports: bool) -> np.ndarray:
    """node_box_parts as an (n, 4) array, kept on the item until it moves or its rows change:
    a parameter bank has hundreds of port dots, and placing one label asks about it many times
    (opening micrograd's grouped MLP spent seconds here)."""
    b = _body(it)
    key = (b, it.output_mark, ports, len(it.inputs), len(it.outputs))
    cached = getattr(it, "_box_cache", None)
    if cached is not None and cached[0] == key:
        return cached[1]
    boxes = np.array(node_box_parts(it, ports), dtype=float).reshape(-1, 4)
    it._box_cache = (key, boxes)
    return boxes


def label_blocked(scene, box: QRectF, ignore=None, ports: bool = True, clear: float = _LABEL_CLEAR) -> bool:
    """Whether a label at ``box`` would cover a node (its body, port dots unless ``ports`` is
    False, or output tag) or another drawn label, or come nearer to one than ``clear``."""
    c = clear
    x0, y0, x1, y1 = box.left() - c, box.top() - c, box.right() + c, box.bottom() + c
    nodes = _node_grid(scene)
    pad = G.PORT_R + 1.0  # the port dots stick out of the body's sides
    for it in nodes.query((x0 - pad, y0, x1 + pad, y1 + _OUT_TAG_H)):
        b = _box_array(it, ports)
        if ((b[:, 0] < x1) & (x0 < b[:, 2]) & (b[:, 1] < y1) & (y0 < b[:, 3])).any():
            return True
    grid = label_grid(scene)
    for k in grid.query((x0, y0, x1, y1)):
        if k is ignore:
            continue
        if not isValid(k) or k.scene() is not scene:  # a wire of a replaced document
            grid.remove(k)
            continue
        return True
    return False


def forget_labels(scene) -> None:
    """Every wire of ``scene`` is going (a rebuild): drop its grid of placed labels."""
    if scene is not None:
        _LABELS.pop(scene, None)


def release_labels_over(scene, rect: tuple) -> None:
    """Labels now under ``rect`` (a node that moved there) find a new place on next paint."""
    grid = _LABELS.get(scene)
    if grid is None:
        return
    for w in list(grid.query(rect)):
        w.forget_label()
        w.update()


_OUT_TAG_H = 19.0  # the "output" tag above an output node's top-right corner


class WireItem(QGraphicsItem):
    """A wire from ``src``'s output to input ``port`` of ``dst``; can show the gradient sent
    back along it."""

    # Defaults as class attributes (an instance holds what differs: cheaper to build 127k)
    grad_text: str | None = None  # None: the label is hidden
    # A bundle (engine.drawing.geometry.BUNDLE_MIN or more wires between the same two nodes,
    # as a parameter bank feeds a model): the lowest-port wire draws them all, labelled with
    # their count; ``bundle`` holds every member's input port, ``bundle_tip`` the gradient
    # norm's line; the other members are hidden.
    bundle: tuple = ()
    bundle_tip = ""
    label_drawn = False  # whether the last paint drew the label (it reads at that zoom)
    _segments: list | None = None  # the route drawn (engine.drawing.routing segments)
    # Its QPainterPath is built on first use (paint in detail, hit test): a big document
    # opens with most wires never drawn closer than a straight line.
    _path: QPainterPath | None = None
    _shape: QPainterPath | None = None  # built on first hit test, not for every wire
    _label_at: QRectF | None = None  # built on first paint of the label
    _label_text: str | None = None  # what the label says there (maybe a short form)
    # True while the route is owed: the plain curve passes under a node, and the detour
    # is searched when the wire is first drawn in detail, hit-tested or asked for its
    # route (see place). Routing every such wire at open was ~90 % of opening 1,000 nodes.
    _pending = False
    _box_of: list | None = None  # the segments _box was measured on

    def __init__(self, src: NodeItem | None, dst: NodeItem | None, port: int = 0, source_port: int = 0):
        super().__init__()
        self.src, self.dst, self.port = src, dst, port
        self.source_port = source_port
        self.setZValue(-1)  # under the nodes, so ports stay on top of wire ends
        if src is None or dst is None:
            self._p0 = QPointF()
            self._bounds = QRectF()
            return
        self.setFlags(_WIRE_FLAGS)
        # the plain curve, set as set_ends would (no scene yet: no geometry change to announce)
        p0 = self._p0 = src.output_port_pos(source_port)
        p1 = dst.mapToScene(dst.inputs[port]._pos)
        self._segments = routing.plain_curve((p0.x(), p0.y()), (p1.x(), p1.y()))
        self._set_bounds()  # routed once in the scene (place)

    @property
    def key(self) -> tuple[int, int, int]:
        return self.src.node_id, self.dst.node_id, self.port

    def endpoints(self) -> tuple[QPointF, QPointF]:
        return self.src.output_port_pos(self.source_port), self.dst.input_port_pos(self.port)

    def path(self) -> QPainterPath:
        if self._pending:
            self._resolve()
        return self._qpath()

    def _qpath(self) -> QPainterPath:
        p = self._path
        if p is None:
            segs = self._segments
            p = self._path = QPainterPath() if segs is None else wire_path(self._p0, None, segs)
        return p

    def update_path(self) -> None:
        """Route the wire again from its ports around the nodes now in the scene."""
        p0, p1 = self.endpoints()
        self.set_ends(p0, p1, route_wire(self.scene(), p0, p1, ends=(self.src, self.dst)))

    def set_plain(self) -> None:
        """The plain curve between the ports, unrouted (no scene yet, or past ROUTE_LIMIT)."""
        p0, p1 = self.endpoints()
        self.set_ends(p0, p1, routing.plain_curve((p0.x(), p0.y()), (p1.x(), p1.y())))

    def place(self) -> None:
        """Called once the wire is in its scene (by GraphScene._add_wire: with no itemChange
        override Qt never calls into Python for a wire's flag, z and scene changes). Keeps the
        plain curve when it passes under no node (most wires; one grid test), routes a
        backward wire now, and owes a forward wire its route. An owed route lies inside the
        plain curve's x span and within routing.REACH of its ends' heights, so the bounds
        grow by that much until it is found: the wire is then found by any repaint its route
        may cross, and routed in that paint."""
        sc = self.scene()
        r = _router(sc)
        if r is None:
            return  # the plain curve set at construction
        p0, p1 = self.endpoints()
        a, b = (p0.x(), p0.y()), (p1.x(), p1.y())
        plain = routing.plain_curve(a, b)
        try:
            clear = not r.hits(plain, (self.src, self.dst))
        except (ArithmeticError, ValueError):
            clear = True  # never let a drawing detail take the canvas down
        if clear:
            if self._segments != plain:  # usually the curve drawn since construction
                self.set_ends(p0, p1, plain)
        elif b[0] - a[0] >= routing.FORWARD_MIN:
            self.prepareGeometryChange()
            self._pending = True
            self._shape = None
            self._set_bounds()
        else:
            self.update_path()

    def _resolve(self, in_paint: bool = False) -> None:
        """Find the owed route. Inside a paint the path changes but the (wider) bounds stay
        until the event loop next runs: geometry must not change while the scene paints."""
        self._pending = False
        p0, p1 = self.endpoints()
        segs = route_wire(self.scene(), p0, p1, ends=(self.src, self.dst))
        if not in_paint:
            self.set_ends(p0, p1, segs)
            return
        self._path = None
        self._segments = segs
        self._shape = None
        self._label_at = None
        _settle_later(self)

    def straighten(self, zone=None) -> None:
        """Back to the plain curve if that is clear now (cheap: no new detour is searched).
        With ``zone`` (where a node was), only if that node can have been in its way."""
        sc = self.scene()
        if sc is None or self._pending:  # an owed route is searched against where nodes are then
            return
        p0, p1 = self.endpoints()
        plain = routing.plain_curve((p0.x(), p0.y()), (p1.x(), p1.y()))
        if zone is not None:
            x0, y0, x1, y1 = routing.bounds(plain)
            if x1 <= zone[0] or zone[2] <= x0 or y1 <= zone[1] or zone[3] <= y0:
                return
        r = _router(sc)
        if r is None or not r.hits(plain, (self.src, self.dst)):
            self.set_ends(p0, p1, plain)

    def route(self) -> list | None:
        """The drawn route as engine.drawing.routing segments (None before the first one)."""
        if self._pending:
            self._resolve()
        return self._segments

    def set_ends(self, p0: QPointF, p1: QPointF, segments=None) -> None:
        self._pending = False
        self.prepareGeometryChange()
        if segments is None:
            segments = routing.plain_curve((p0.x(), p0.y()), (p1.x(), p1.y()))
        self._p0 = QPointF(p0)
        self._path = None
        self._segments = segments
        self._shape = None
        self._set_bounds()

    def _set_bounds(self) -> None:
        m = _WIRE_PEN_W
        segs = self._segments
        if self._box_of is not segs:  # a label shown or hidden keeps the curve: box kept too
            self._box, self._box_of = routing.bounds(segs), segs
        x0, y0, x1, y1 = self._box  # the path's controlPointRect
        x0, y0, x1, y1 = x0 - m, y0 - m, x1 + m, y1 + m
        if self._pending:  # wherever the owed route may run (see place)
            y0, y1 = y0 - routing.REACH - m, y1 + routing.REACH + m
        if self.grad_text is not None:
            # The label sits above or below some point of the curve, so this margin holds it
            # wherever it goes; finding its place is left to the first paint that shows it:
            # done here for every wire it was most of the time to open a big document.
            w = self._label_w() / 2 + 2.0
            x0, y0, x1, y1 = x0 - w, y0 - _LABEL_H - 4.0, x1 + w, y1 + _LABEL_H + 4.0
        self.forget_label()
        self._bounds = QRectF(x0, y0, x1 - x0, y1 - y0)

    def _label_w(self, text: str | None = None) -> float:
        return _FM_SMALL.horizontalAdvance(text if text is not None else self._full_label()) + 4.0

    def _full_label(self) -> str:
        if self.bundle:
            return self.bundle_label()
        return "← " + (self.grad_text or "")

    def bundle_label(self) -> str:
        return f"× {len(self.bundle)}"

    def set_bundle(self, ports: tuple, tip: str = "") -> None:
        """Draw this wire for ``ports`` (its own first; empty: for itself alone again)."""
        ports = tuple(ports)
        self.bundle_tip = tip
        if ports == self.bundle:
            return
        self.bundle = ports
        self.grad_text = None
        self.set_grad_text(self.bundle_label() if ports else None)

    def _label_forms(self) -> list[str]:
        """The label's text, then shorter forms for a tight spot: three, then two significant
        digits, always after the arrow (one style for every label: a bare "0.0525" read as a
        value; the tooltip has all the digits). Between two columns there are only ~36 free
        units, which "← 0.1434" does not fit."""
        full = self._full_label()
        if self.bundle:
            return [full]
        try:  # the canvas's one formatter, so NaN reads "NaN" here too (it read "nan")
            x = float(self.grad_text.replace(S.MINUS, "-"))
        except (AttributeError, TypeError, ValueError):
            return [full]
        forms = [full]
        for short in ("←" + S.format_cell(x), "←" + S.format_short(x)):
            if self._label_w(short) < self._label_w(forms[-1]):
                forms.append(short)
        return forms

    def forget_label(self) -> None:
        if self._label_at is not None:
            sc = self.scene()
            grid = _LABELS.get(sc) if sc is not None else None
            if grid is not None:
                grid.remove(self)
        self._label_at = None

    def set_grad_text(self, text: str | None) -> None:
        """Show (text) or hide (None) the gradient label, at a free place on the wire."""
        if self.bundle:  # a bundle's label is its count, whatever one member carries
            text = self.bundle_label()
        if text == self.grad_text:
            return
        old_w = self._label_w() if self.grad_text is not None else None
        self.grad_text = text
        if text is None or old_w is None or self._label_w() != old_w:
            self.prepareGeometryChange()  # books the repaint of the old and the new bounds
            self._set_bounds()  # the bounds gain, lose or resize the label box; the curve stays
        else:
            # The bounds hold, but the place keeps the text chosen with it (maybe the short
            # form) and the tooltip that text wrote: both are the old number. Placed again on
            # the next paint (its own spot is free, so usually the same one). QA: ← 20 stayed
            # on the wire after a = 5 made it 28, because "28" is as wide as "20".
            self.forget_label()
            self.update()

    def label_rect(self) -> QRectF | None:
        """Where the gradient label is (or would be) drawn; None: no free place on this wire,
        so the label is left out and the wire's tooltip carries it (or a hidden bundle member)."""
        if not self.isVisible():
            return None
        r = self._label_rect()
        return None if r.isEmpty() else r

    def tooltip_text(self, legible: bool = True) -> str:
        """The wire's tooltip from its number now: the gradient it carries when the label
        is left out, shortened or too small to read at the view's zoom (``legible`` False),
        "" when the label says it all."""
        if self.bundle:
            return self.bundle_tooltip()
        if self.grad_text is None:
            return ""
        at = self._label_at
        if legible and at is not None and not at.isEmpty() and self._label_text == self._full_label():
            return ""
        tip = f"gradient sent back along this wire: {self.grad_text}"
        if at is not None and at.isEmpty():
            tip += "\n(no free room to show it on the wire)"
        return tip

    def bundle_tooltip(self) -> str:
        """A bundle's tooltip: how many wires, the first ports they feed, the gradient norm."""
        names = [self.dst.inputs[p].label or f"in{p + 1}" for p in self.bundle[:6]]
        more = f", … ({len(self.bundle) - len(names)} more)" if len(self.bundle) > len(names) else ""
        src = self.src.name or self.src.definition or f"#{self.src.node_id}"
        dst = self.dst.name or self.dst.definition or f"#{self.dst.node_id}"
        tip = f"{len(self.bundle)} wires from {src} to {dst}, drawn as one\ninto {', '.join(names)}{more}"
        return tip + (f"\n{self.bundle_tip}" if self.bundle_tip else "")

    def _label_rect(self) -> QRectF:
        if self._label_at is None:
            self._label_at = self._place_label()
            sc = self.scene()
            if sc is not None and not self._label_at.isEmpty():
                r = self._label_at
                label_grid(sc).set(self, (r.left(), r.top(), r.right(), r.bottom()))
            tip = None
            if self._label_at.isEmpty() and self.grad_text is not None:
                tip = (f"gradient sent back along this wire: {self.grad_text}\n"
                       "(no free room to show it on the wire)")
            elif self.grad_text is not None and self._label_text != self._full_label():
                tip = f"gradient sent back along this wire: {self.grad_text}"
            self.setToolTip(tip or "")
        return self._label_at

    def _place_label(self) -> QRectF:
        # Near the target rather than at the middle: the wires of a value used twice leave
        # from one port, so their middles crowd together, but they arrive at different ports.
        # From there, outwards along the wire, above then below it, the first place that
        # covers no node and no other label; then the same with the short form. (QA: labels
        # were cut off by the next node, drawn under wires' ends and over each other.)
        for text in self._label_forms():
            r = self._free_spot(self._label_w(text), _LABEL_H)
            if not r.isEmpty():
                self._label_text = text
                return r
        self._label_text = None
        return QRectF()

    def _free_spot(self, w: float, h: float) -> QRectF:
        path = self._qpath()
        length = path.length()
        sc = self.scene()
        if length <= 0.0:
            return QRectF()
        end_room = min(w / 2 + 6.0, length / 2)
        lo, hi = end_room, max(end_room, length - end_room)  # distances from the source
        first = min(hi, max(lo, length - _LABEL_BACK)) if length > 2 * _LABEL_BACK else length / 2
        spots = [first]
        k = 1
        while len(spots) < _LABEL_CANDIDATES:
            added = False
            for d in (first - k * _LABEL_STEP, first + k * _LABEL_STEP):
                if lo <= d <= hi:
                    spots.append(d)
                    added = True
            if not added:
                break
            k += 1
        # A label that does not fit centred on the wire may lean left or right into a free
        # row gap beside it, as long as it still touches the wire's point.
        for d in spots:
            p = path.pointAtPercent(path.percentAtLength(d))
            for top in (p.y() - h - 2.0, p.y() + 2.0, p.y() - h / 2):
                for left in (p.x() - w / 2, p.x() - w + 4.0, p.x() - 4.0):
                    r = QRectF(left, top, w, h)
                    if sc is None or not label_blocked(sc, r, ignore=self):
                        return r
        return QRectF()

    def boundingRect(self) -> QRectF:  # noqa: N802
        return self._bounds

    def shape(self) -> QPainterPath:
        if self._pending:
            self._resolve()
        if self._shape is None:
            self._shape = _STROKER.createStroke(self._qpath())
        return self._shape

    def contextMenuEvent(self, event):  # noqa: N802
        sc = self.scene()
        if sc is None or not hasattr(sc, "wire_menu"):
            return
        if not self.isSelected():
            sc.clearSelection()
            self.setSelected(True)
        menu = sc.wire_menu(self.key, event.scenePos(), event.widget())
        menu.exec(event.screenPos())
        event.accept()

    def paint(self, painter: QPainter, option, widget=None):
        # A long wire's bounding box crosses most repaints of its part of the document while
        # its curve crosses few: stroking it anyway was nearly all of a drag step's cost in a
        # 50,000-node document. (The test counts the fill between the curve and its chord, so
        # it may keep a wire it could skip, never the other way round.)
        lod = option.levelOfDetailFromTransform(painter.worldTransform())
        detailed = lod * painter.device().devicePixelRatioF() >= _LOD_WIRE  # physical pixels decide
        if not detailed:
            # Zoomed far out: a straight line reads as well as the curve and costs far less
            # (no path is built for it), and a label would be unreadable.
            self.label_drawn = False
            painter.setPen(_PEN_WIRE_SELECTED if option.state & _SELECTED else _PEN_WIRE)
            segs = self._segments
            painter.drawLine(QPointF(*segs[0][0]), QPointF(*segs[-1][3]))
            return
        if self._pending:
            self._resolve(in_paint=True)
        path = self._qpath()
        clip = option.exposedRect.adjusted(-_HIT_PAD, -_HIT_PAD, _HIT_PAD, _HIT_PAD)
        if not clip.contains(self._bounds) and not path.intersects(clip):
            # (the label's place is looked for only when it is to be drawn, not for every
            # wire a far-out repaint passes)
            if self.grad_text is None or not clip.intersects(self._label_at or self._bounds):
                self.label_drawn = False
                return
        selected = bool(option.state & _SELECTED)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(_PEN_WIRE_SELECTED if selected else _PEN_WIRE)
        # While nodes are dragged, wires are drawn without antialiasing: a frame of a drag in a
        # big document repaints about a thousand long curves, and this halves its cost. The
        # release repaints them smooth.
        sc = self.scene()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, not getattr(sc, "moving_nodes", False))
        painter.drawPath(path)
        # The label follows the nodes' rule: drawn only where its text would read; a box too
        # small to read would only be clutter over the wires.
        self.label_drawn = self.grad_text is not None and text_legible(device_scale(painter, widget))
        if self.label_drawn:
            r = self._label_rect()
            if r.isEmpty():  # no free place: the tooltip carries it
                self.label_drawn = False
                return
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(S.LABEL_BG)
            painter.drawRoundedRect(r, 4.0, 4.0)
            painter.setFont(_F_SMALL)
            painter.setPen(S.WIRE_GRAD)
            painter.drawText(r, _ALIGN_C, self._label_text or self._full_label())


class RubberWireItem(WireItem):
    """The wire that follows the mouse while connecting."""

    def __init__(self):
        super().__init__(None, None)
        self.setZValue(3)

    def paint(self, painter: QPainter, option, widget=None):
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(_PEN_RUBBER)
        painter.drawPath(self._qpath())
