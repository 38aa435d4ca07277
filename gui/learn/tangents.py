"""Forward mode on the canvas: every node's tangent d(node)/d(input) beside its gradient.

Pick one number node as the input; :func:`engine.learn.forward_mode.tangents` pushes a tangent of 1
from it through the graph in one forward pass, and each node shows the result as an extra line.
The output's tangent is the same number reverse mode puts in the input's gradient, and the tool
says so (or says that they differ, which would be a bug worth reporting). The tangents follow
every edit while the mode is on.
"""

from __future__ import annotations

import math
import re

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QWidget
from shiboken6 import isValid

from engine import NUMBER, GraphError
from engine.learn.forward_mode import element_tangents, tangents
from gui.canvas.tensor_view import index_text
from gui.learn.number_keys import key_node, node_key, number_nodes
from gui.style import format_number

MAX_LABEL = 8  # characters of the input's name shown inside a node (the node is 140 units wide)


def short(label: str) -> str:
    return label if len(label) <= MAX_LABEL else label[: MAX_LABEL - 1] + "…"


def agree(a, b) -> bool:
    """Same derivative up to rounding (forward and reverse add the same terms in other orders)."""
    if a is None or b is None:
        return a is b
    if type(a) is np.ndarray or type(b) is np.ndarray:
        return bool(np.allclose(a, b, rtol=1e-9, atol=1e-12, equal_nan=True))
    if a != a or b != b:
        return a != a and b != b
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


MAX_ELEMENTS_LISTED = 64  # elements of one array offered in the chooser (row-major, first ones)


def forward_inputs(graph) -> list[tuple[str, object]]:
    """(label, key) of everything forward mode can start from: each scalar number (key: its
    id) and each element of a float array number (label ``W[0,1]``, key ``"id|0,1"``), up to
    MAX_ELEMENTS_LISTED per array."""
    out = []
    for n, label in number_nodes(graph):
        v = graph.number(n)
        if type(v) is not np.ndarray:
            out.append((label, node_key(n)))
        elif v.dtype.kind == "f":  # integer class targets have no derivative
            for flat in range(min(v.size, MAX_ELEMENTS_LISTED)):
                idx = tuple(int(i) for i in np.unravel_index(flat, v.shape))
                out.append((index_text(label, idx), f"{node_key(n)}|{','.join(map(str, idx))}"))
    return out


def parse_key(key) -> tuple[object, tuple | None]:
    """(node address, element index or None) from a chooser key."""
    index = None
    if isinstance(key, str) and "|" in key and re.fullmatch(r"[0-9,]+", key.rsplit("|", 1)[1]):
        key, idx = key.rsplit("|", 1)
        index = tuple(int(i) for i in idx.split(","))
    return key_node(key), index


def _exists(g, ref) -> bool:
    try:
        g.locate(ref)
    except (GraphError, TypeError, ValueError):
        return False
    return True


class ForwardModeTool(QObject):
    """Shows tangents with respect to ``wrt`` on every node while active.

    ``changed`` fires after every recomputation; ``message`` carries the comparison sentence.
    """

    changed = Signal()
    activeChanged = Signal(bool)
    message = Signal(str)

    def __init__(self, controller, scene, parent=None):
        super().__init__(parent)
        self._controller = controller
        self._scene = scene
        self.wrt: int | None = None
        self.index: tuple | None = None  # the element of an array input, or None
        self.values: dict = {}
        self.text = ""
        self._shown: list[int] = []
        controller.bridge.evaluated.connect(self._recompute)
        controller.bridge.replaced.connect(self._on_document_replaced)

    @property
    def active(self) -> bool:
        return self.wrt is not None

    def set_input(self, node, index=None) -> bool:
        """Show tangents with respect to number node ``node`` (id or name), or to its element
        ``index`` when it holds an array (default: its first element); False (with a message)
        if it is not a number node of the document."""
        g = self._controller.graph
        try:
            n = g.resolve(node)
            v = g.number(n) if g.op(n) == NUMBER else None
            if type(v) is np.ndarray:
                index = tuple(index) if index is not None else (0,) * v.ndim
                element_tangents(g, n, index)
            else:
                index = None
                tangents(g, n)
        except (GraphError, TypeError, ValueError) as e:
            self.message.emit(f"Forward mode: {e}")
            return False
        was = self.active
        self.wrt, self.index = n, index
        if not was:
            self.activeChanged.emit(True)
        self._recompute()
        return True

    def stop(self) -> None:
        if not self.active:
            return
        self.wrt = None
        self.values = {}
        self.text = ""
        self._clear_lines()
        self.activeChanged.emit(False)
        self.changed.emit()

    def extra_lines(self) -> dict:
        """{node: extra line} as drawn on the canvas."""
        out = {}
        for n in self._shown:
            it = self._scene.node_item(n)
            if it is not None and isValid(it):
                out[n] = it.extra
        return out

    def _clear_lines(self) -> None:
        for n in self._shown:
            it = self._scene.node_item(n)
            if it is not None and isValid(it):
                it.set_extra_line(None)
        self._shown = []

    def _on_document_replaced(self) -> None:
        self._shown = []  # the scene already dropped the old items
        self.stop()

    def _recompute(self) -> None:
        if not self.active:
            return
        g = self._controller.graph
        if not _exists(g, self.wrt):
            self.stop()
            self.message.emit("Forward mode ended: its input was deleted")
            return
        try:
            self.values = (tangents(g, self.wrt) if self.index is None
                           else element_tangents(g, self.wrt, self.index))
        except GraphError as e:  # the array changed shape under the chosen element
            self.stop()
            self.message.emit(f"Forward mode ended: {e}")
            return
        label = short(self._wrt_label())
        self._clear_lines()
        for n, t in self.values.items():
            it = self._scene.node_item(n)
            if it is None:
                continue
            # drawn short in the header ("∂ 3"; the toolbar names the input), in full in the tooltip
            it.set_extra_line(f"∂/∂{label} {format_number(t)}", f"∂ {format_number(t)}")
            self._shown.append(n)
        self.text = self.comparison()
        self.changed.emit()
        self.message.emit(self.text)

    def _wrt_label(self) -> str:
        g = self._controller.graph
        a = g.label(self.wrt)
        return a if self.index is None else index_text(a, self.index)

    def comparison(self) -> str:
        """"forward mode: ∂e/∂a = 35 = reverse-mode a.grad ✓" (or why there is nothing to compare)."""
        g = self._controller.graph
        if self.wrt is None:
            return ""
        a = self._wrt_label()
        out = g.evaluated_output()
        if out is None:
            return f"forward mode ∂·/∂{a}: no output to compare with reverse mode"
        t = self.values.get(out)
        grad = g.grad(self.wrt)
        o = g.label(out)
        if self.index is not None and grad is not None:
            grad = grad[self.index].item() if type(grad) is np.ndarray else grad
        if type(t) is np.ndarray:  # an array output is seeded with ones: compare its sum
            t = float(np.sum(t))
            o = f"sum({o})"
        if t is None:
            return f"forward mode: the output {o} has no value, so no tangent"
        if grad is None:
            return (
                f"forward mode: ∂{o}/∂{a} = {format_number(t)}; {a} has no path to {o}, "
                f"so reverse mode gives it no gradient"
            )
        if agree(t, grad):
            return f"forward mode: ∂{o}/∂{a} = {format_number(t)} = reverse-mode {a}.grad ✓"
        return (
            f"forward mode: ∂{o}/∂{a} = {format_number(t)} but reverse-mode {a}.grad = "
            f"{format_number(grad)} ✗"
        )


class ForwardModeBar(QWidget):
    """"d/d [input ▾]": the input chooser for the toolbar. Choosing one turns forward mode on
    for it (when the mode is on); the list follows the document."""

    def __init__(self, tool: ForwardModeTool, controller, parent=None):
        super().__init__(parent)
        self._tool = tool
        self._controller = controller
        self.combo = QComboBox()
        self.combo.setObjectName("forwardModeInput")
        self.combo.setToolTip("The number node forward mode differentiates with respect to")
        # A fixed width: a long node name must not push the Learn toolbar into its overflow.
        self.combo.setMinimumContentsLength(5)
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(QLabel("∂/∂"))
        lay.addWidget(self.combo)
        self.combo.activated.connect(self._chosen)
        controller.bridge.evaluated.connect(self.refill)
        controller.bridge.replaced.connect(self.refill)
        tool.changed.connect(self.refill)
        self.refill()

    def refill(self) -> None:
        g = self._controller.graph
        current = self._tool_key() if self._tool.active else self.combo.currentData()
        wanted = forward_inputs(g)
        have = [(self.combo.itemText(i), self.combo.itemData(i)) for i in range(self.combo.count())]
        if wanted != have:
            self.combo.blockSignals(True)
            self.combo.clear()
            for label, n in wanted:
                self.combo.addItem(label, n)
            self.combo.blockSignals(False)
        i = self.combo.findData(current)
        if i >= 0 and i != self.combo.currentIndex():
            self.combo.blockSignals(True)
            self.combo.setCurrentIndex(i)
            self.combo.blockSignals(False)

    def _tool_key(self):
        t = self._tool
        if t.index is None:
            return node_key(t.wrt)
        return f"{node_key(t.wrt)}|{','.join(map(str, t.index))}"

    def current(self) -> int | None:
        """The chosen node (for an array element, its node; see current_element)."""
        return parse_key(self.combo.currentData())[0]

    def current_element(self) -> tuple | None:
        """The chosen element's index, or None for a scalar input."""
        return parse_key(self.combo.currentData())[1]

    def choose(self, node) -> None:
        """Select ``node`` in the list and, if forward mode is on, switch to it."""
        i = self.combo.findData(node_key(node) if isinstance(node, tuple) and type(node[0]) is str else node)
        if i < 0 and isinstance(node, tuple):  # (node, index): an element of an array
            i = self.combo.findData(f"{node_key(node[0])}|{','.join(map(str, node[1]))}")
        if i >= 0:
            self.combo.setCurrentIndex(i)
            self._chosen(i)

    def _chosen(self, index: int) -> None:
        node, element = parse_key(self.combo.itemData(index))
        if node is not None and self._tool.active:
            self._tool.set_input(node, element)
