"""The Network dock: the network drawn by its units, as TensorFlow Playground draws it, so a
weight is a wire. The canvas draws a layer as a few tensor nodes (``W1`` is one node holding a
matrix); here each column of a node that depends on the input point is a unit showing its
picture over the plane, and each weight of a matrix between two such nodes is a wire whose
width is its size and whose colour its sign (blue +, orange −). With "wires show ∂L/∂w" on,
the wires show each weight's gradient the same way (red +, blue −): which connections the
loss is pulling on at the step shown.

Layers are found in the graph, not assumed: for every ``A @ W`` whose ``W`` is a trained
matrix, the units of ``A`` connect to the units of the node the product feeds through its
sums (the activation after them, or the last sum: the logits). A wizard network gives
Playground's picture; an edited one (a residual wire, tied weights) still draws what it
computes.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np
from PySide6.QtCore import QLineF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QCheckBox, QDockWidget, QLabel, QScrollArea, QSizePolicy, QVBoxLayout, QWidget

from gui import style
from gui.learn.training.colours import BLUE, ORANGE, to_image, unit_pixels

UNIT = 30.0
LEVELS = 8  # wire widths: a weight's size relative to the largest, in this many steps
MAX_UNITS_DRAWN = 64  # per node, as many as have pictures (a 4096-wide layer shows 64 and says how many more)
MIN_UNIT = 12.0  # a unit's least side: a taller layer makes the canvas taller, and the dock scrolls
GRAD_POS = QColor(178, 24, 43)
GRAD_NEG = QColor(33, 102, 172)


@dataclass
class Link:
    source: int  # node whose columns are the inputs
    target: int  # node whose columns are the outputs
    weight: int  # the matrix node
    rows: tuple  # which rows of W (a feature's own row block: all of them)


def find_links(graph, params) -> list[Link]:
    """The weight matrices between unit nodes (see the module docstring)."""
    g = graph.nx
    links = []
    params = set(params)
    for n in graph.nodes():
        if graph.op(n) != "matmul":
            continue
        a, w = graph.inputs(n)
        if a is None or w not in params:
            continue
        wv = graph.number(w)
        if type(wv) is not np.ndarray or wv.ndim != 2:
            continue
        target = n
        while True:
            succ = list(g.successors(target))
            adds = [s for s in succ if graph.op(s) == "add"]
            if len(succ) == 1 and adds:
                target = adds[0]
                continue
            if len(succ) == 1 and graph.op(succ[0]) in _ACTIVATIONS:
                target = succ[0]
            break
        links.append(Link(a, target, w, tuple(range(wv.shape[0]))))
    return links


_ACTIVATIONS = {"tanh", "relu", "sigmoid", "softplus", "sin", "cos", "exp", "abs", "square", "sqrt", "log"}


class NetworkCanvas(QWidget):
    """Paints the layers of units and the weight wires for the session's shown step."""

    def __init__(self, session, parent=None):
        super().__init__(parent)
        self.setObjectName("networkCanvas")
        self.session = session
        self.show_grads = False
        self.setMinimumSize(120, 80)  # a small window must still fit the dock column
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.layers: list = []  # [[node ids]]
        self.links: list[Link] = []
        self._more: dict = {}  # layer index -> (where to say it, units not drawn)
        self.note = ""

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(420, 320)

    def rebuild(self) -> None:
        s = self.session
        t = s.trainer
        self.layers, self.links, self.note = [], [], ""
        self.setMinimumHeight(80)
        if t is None:
            self.note = "Play or Step in the Train dock to draw the network's units"
            self.update()
            return
        g = s.controller.graph
        links = find_links(g, t.params)
        if not links:
            self.note = "no weight matrix between units: nothing to draw by units"
            self.update()
            return
        dag = nx.DiGraph()
        for ln in links:
            dag.add_edge(ln.source, ln.target)
        depth = {}
        for n in nx.topological_sort(dag):
            preds = list(dag.predecessors(n))
            depth[n] = 0 if not preds else max(depth[p] for p in preds) + 1
        layers: dict = {}
        for n, d in depth.items():
            layers.setdefault(d, []).append(n)
        self.layers = [sorted(layers[d]) for d in sorted(layers)]
        self.links = links
        self.setMinimumHeight(max(80, self.needed_height()))
        self.update()

    def _values(self):
        """(graph with the values and gradients of the step shown, frame)."""
        s = self.session
        p = s.scene.preview
        return (p if p is not None else s.controller.graph), s.frame

    def _units(self, g) -> list:
        """Per layer: ([(node, column) drawn], how many more units it has)."""
        out = []
        for layer in self.layers:
            units, more = [], 0
            for n in layer:
                v = g.value(n)
                count = v.shape[1] if type(v) is np.ndarray and v.ndim == 2 else 1
                units += [(n, k) for k in range(min(count, MAX_UNITS_DRAWN))]
                more += max(0, count - MAX_UNITS_DRAWN)
            out.append((units, more))
        return out

    def needed_height(self) -> int:
        """The height that gives every drawn unit at least MIN_UNIT pixels."""
        g, _frame = self._values()
        tallest = max((len(u) for u, _more in self._units(g)), default=0)
        return int(tallest * (MIN_UNIT + 3) + 40)

    def _layout(self) -> dict:
        """Scene rectangles of each (node, column) unit."""
        g, _frame = self._values()
        cols = len(self.layers)
        if not cols:
            return {}
        w, h = self.width(), self.height()
        x_step = (w - 2 * UNIT) / max(cols - 1, 1)
        place = {}
        self._more = {}
        for ci, (units, more) in enumerate(self._units(g)):
            step = max(MIN_UNIT + 3, min(UNIT + 6, (h - 40) / max(len(units), 1)))
            size = min(UNIT, step - 3)
            top = max(16.0, (h - step * len(units)) / 2)
            x = UNIT / 2 + ci * x_step if cols > 1 else w / 2 - UNIT / 2
            for k, key in enumerate(units):
                place[key] = QRectF(x, top + k * step, size, size)
            if more:
                self._more[ci] = (QRectF(x - 20, top + len(units) * step, size + 40, 12), more)
        return place

    def paintEvent(self, event):  # noqa: N802
        p = QPainter(self)
        p.fillRect(self.rect(), style.BACKGROUND)
        if not self.layers:
            p.setPen(style.TEXT_DIM)
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.note)
            return
        g, frame = self._values()
        place = self._layout()
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        # One pen per (sign, size level): the wires are drawn in a few drawLines calls.
        buckets: dict = {}
        per_node: dict = {}
        for n, _k in place:
            per_node[n] = per_node.get(n, 0) + 1
        for ln in self.links:
            # wires between wide layers are thinner, so the many of them stay apart
            thin = min(1.0, 12.0 / max(per_node.get(ln.source, 1), per_node.get(ln.target, 1)))
            W = g.number(ln.weight)
            G = g.grad(ln.weight) if self.show_grads else None
            if self.show_grads and G is None:
                continue
            arr = G if self.show_grads else W
            m = float(np.abs(arr).max()) or 1.0
            for i in range(arr.shape[0]):
                a = place.get((ln.source, i))
                if a is None:
                    continue
                for j in range(arr.shape[1]):
                    b = place.get((ln.target, j))
                    if b is None:
                        continue
                    x = float(arr[i, j])
                    level = min(LEVELS - 1, int(abs(x) / m * LEVELS))
                    buckets.setdefault((x > 0, level, thin), []).append(
                        QLineF(a.right(), a.center().y(), b.left(), b.center().y()))
        for (positive, level, thin), lines in buckets.items():
            mag = (level + 0.5) / LEVELS
            if self.show_grads:
                c = QColor(GRAD_POS if positive else GRAD_NEG)
            else:
                c = QColor(*(BLUE if positive else ORANGE))
            c.setAlphaF(0.25 + 0.75 * mag)
            p.setPen(QPen(c, (0.4 + 4.0 * mag) * thin))
            p.drawLines(lines)
        pics = {}
        if frame is not None:
            for u in frame.units:
                pics[(u.node, 0 if u.column is None else u.column)] = u
        scales: dict = {}
        for (n, k), r in place.items():
            u = pics.get((n, k))
            if u is not None:
                if n not in scales:
                    vals = [x.value for x in frame.units if x.node == n]
                    scales[n] = max(float(np.nanmax(np.abs(v))) for v in vals) or 1.0
                p.drawImage(r, to_image(unit_pixels(u.value, scales[n])))
            else:
                p.fillRect(r, style.NODE_BODY)
            p.setPen(QPen(style.NODE_BORDER, 1))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRect(r)
        p.setFont(style.font(7.0))
        p.setPen(style.TEXT_DIM)
        for r, more in self._more.values():
            p.drawText(r, Qt.AlignmentFlag.AlignCenter, f"+{more:,} more")
        for layer in self.layers:
            n = layer[0]
            rs = [r for (m, _k), r in place.items() if m == n]
            if rs:
                top = min(r.top() for r in rs)
                p.drawText(QRectF(rs[0].left() - 20, top - 14, rs[0].width() + 40, 12),
                           Qt.AlignmentFlag.AlignCenter, g.label(n))


class NetworkPanel(QWidget):
    def __init__(self, controller, session, parent=None):
        super().__init__(parent)
        self.session = session
        self.canvas = NetworkCanvas(session, self)
        self.grads = QCheckBox("wires show ∂L/∂w")
        self.grads.setObjectName("networkGradWires")
        self.grads.setToolTip("Each weight's gradient as the wire's width and colour (red +, blue −) "
                              "at the step shown, instead of the weight itself")
        self.grads.toggled.connect(self._toggle)
        note = QLabel("Each unit is a column of a node (its picture over the input plane); each wire one "
                      "weight: width = size, blue + / orange −.")
        note.setWordWrap(True)
        note.setStyleSheet(f"color: {style.TEXT_DIM.name()}")
        scroll = QScrollArea()  # a layer too tall for the dock scrolls, every unit still readable
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(self.canvas)
        self.scroll = scroll
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.addWidget(scroll, 1)
        lay.addWidget(self.grads)
        lay.addWidget(note)
        session.built.connect(self.canvas.rebuild)
        session.framed.connect(lambda _f: self.canvas.update())
        controller.bridge.evaluated.connect(self.canvas.update)
        self.canvas.rebuild()

    def _toggle(self, on: bool):
        self.canvas.show_grads = bool(on)
        self.canvas.update()


class NetworkDock(QDockWidget):
    def __init__(self, controller, session, parent=None):
        super().__init__("Network", parent)
        self.setObjectName("networkDock")
        self.panel = NetworkPanel(controller, session, self)
        self.setWidget(self.panel)


__all__ = ["NetworkDock", "NetworkPanel", "find_links"]
