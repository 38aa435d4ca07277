"""The "Chain rule" panel: the selected node's gradient written out as a sum of terms.

Each term is one wire out of the node: the consumer's gradient times the consumer's local
derivative (from :func:`engine.learn.explain.explain`). Clicking a term selects that consumer, so a
reader can walk from an input back up to the output one term at a time.
"""

from __future__ import annotations

import html
import re

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QDockWidget, QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget
from shiboken6 import isValid

from engine import OPS
from engine.core.arrays import ndarray, shape_text
from engine.learn.explain import SUM, explain
from gui.canvas.scene import summed_axes
from gui.canvas.tensor_view import index_text
from gui.style import format_number

NODE_ROLE = Qt.ItemDataRole.UserRole
HINT = "Select one node to see its gradient written out with the chain rule."


def _shape(v) -> tuple:
    return tuple(v.shape) if type(v) is ndarray else ()


_TOKEN = re.compile(r"\{(\w+)\}")


def tensor_rule(g, node, term, out_label: str) -> tuple[str, str]:
    """(the rule in words, the same with shapes) for one term whose local derivative is a
    Jacobian: ``∂L/∂W = xᵀ · ∂L/∂y`` and ``(4, 3) = (4, 2)ᵀ · (2, 3)``. Tensor rows say their
    rule in the op table (``Op.rule``); an elementwise op on arrays multiplies elementwise
    and sums over the axes broadcasting added."""
    c = term.consumer
    op = OPS[g.op(c)]
    ins = g.inputs(c)
    port_of = {name: ins[k] for k, name in enumerate(op.ports)}
    me, y = g.label(node), g.label(c)
    d = f"∂{out_label}/∂"
    cg_shape, in_shape = _shape(term.consumer_grad), _shape(term.product)
    if op.rule and term.port < len(op.rule):
        def word(m):
            key = m.group(1)
            if key == "dy":
                return d + y
            if key == "y":
                return y
            if key[0] == "d" and key[1:] in port_of:
                return d + g.label(port_of[key[1:]])
            return g.label(port_of[key]) if key in port_of else m.group(0)

        def shape(m):
            key = m.group(1)
            if key == "dy":
                return shape_text(cg_shape)
            if key == "y":
                return shape_text(_shape(g.value(c)))
            if key[0] == "d" and key[1:] in port_of:
                other = _shape(g.value(port_of[key[1:]]))
                return shape_text(in_shape if key[1:] == term.port_name else other)
            return shape_text(_shape(g.value(port_of[key]))) if key in port_of else m.group(0)

        rule = op.rule[term.port]
        return _TOKEN.sub(word, rule), _TOKEN.sub(shape, rule)
    axes = summed_axes(in_shape, _shape(g.value(c)))
    over = f", summed over axis {', '.join(map(str, axes))}" if axes else ""
    words = f"{d}{me} = {d}{y} ⊙ ∂{y}/∂{term.port_name}{over}"
    shapes = (f"{shape_text(in_shape)} = Σ over axis {', '.join(map(str, axes))} of "
              f"{shape_text(cg_shape)}" if axes else f"{shape_text(in_shape)} = {shape_text(cg_shape)}")
    return words, shapes


def element_sum(ex, index) -> str:
    """One element's gradient as the sum of what each term sent to it:
    ``∂L/∂W[0,1] = 0.1 + 0.2 = 0.3``."""
    parts = []
    for t in ex.terms:
        p = t.product
        parts.append(format_number(p[index].item() if type(p) is ndarray else p))
    total = ex.grad[index].item() if type(ex.grad) is ndarray else ex.grad
    head = f"∂{ex.output_label}/∂{index_text(ex.label, index)}"
    if len(parts) == 1:
        return f"{head} = {parts[0]}"
    return f"{head} = {' + '.join(parts)} = {format_number(total)}"


class ExplainView(QWidget):
    """Summary sentence, one clickable row per term, and the sum. Follows the scene's selection
    and every re-evaluation; ``termActivated(node)`` fires when a term's consumer is selected."""

    termActivated = Signal(int)

    def __init__(self, controller, scene, parent=None):
        super().__init__(parent)
        self.setObjectName("chainRuleView")
        self._controller = controller
        self._scene = scene
        self.explanation = None

        self.summary = QLabel(HINT)
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.summary.setObjectName("chainRuleSummary")
        self.terms = QListWidget()
        self.terms.setObjectName("chainRuleTerms")
        self.terms.setToolTip("Click a term to select the node it comes through")
        self.terms.setWordWrap(True)
        self.terms.setUniformItemSizes(False)
        self.terms.itemClicked.connect(self._activate)
        self.terms.itemActivated.connect(self._activate)
        self.total = QLabel()
        self.total.setObjectName("chainRuleSum")
        self.total.setWordWrap(True)
        self.total.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.addWidget(self.summary)
        lay.addWidget(self.terms, 1)
        lay.addWidget(self.total)

        scene.selectionChanged.connect(self.refresh)
        controller.bridge.evaluated.connect(self.refresh)
        controller.bridge.replaced.connect(self.refresh)
        self.refresh()

    def selected_node(self) -> int | None:
        ids = self._scene.selected_node_ids()
        return ids[0] if len(ids) == 1 else None

    def term_texts(self) -> list[str]:
        """The rows as shown (for tests and screen readers)."""
        return [self.terms.item(i).text() for i in range(self.terms.count())]

    def text(self) -> str:
        """Everything shown, as plain text."""
        lines = [self.summary.text() if self.explanation is None else self.explanation.summary()]
        lines += self.term_texts()
        if self.total.text():
            lines.append(self.total.text())
        return "\n".join(lines)

    def refresh(self, *_):
        if not (isValid(self) and isValid(self._scene)):
            return  # the window is being torn down
        g = self._controller.graph
        node = self.selected_node()
        self.terms.clear()
        if node is None or node not in g:
            self.explanation = None
            self.summary.setText(HINT)
            self.total.setText("")
            self.terms.setVisible(False)
            return
        ex = self.explanation = explain(g, node)
        self.summary.setText(html.escape(ex.summary()))
        for t in ex.terms:
            if t.local is None:  # a Jacobian: the rule in words and with shapes, and what was sent
                words, shapes = tensor_rule(g, node, t, ex.output_label or "out")
                item = QListWidgetItem(f"via {t.consumer_label}: {words}\n    shapes: {shapes}\n"
                                       f"    sent: {format_number(t.product)}")
                item.setData(NODE_ROLE, t.consumer)
                item.setToolTip(f"The vector-Jacobian product {t.consumer_label} sends back through "
                                f"'{t.port_name}'. Click to select {t.consumer_label}.")
                self.terms.addItem(item)
                continue
            item = QListWidgetItem(ex.term_text(t, format_number))
            item.setData(NODE_ROLE, t.consumer)
            item.setToolTip(
                f"{t.consumer_label}'s gradient ({format_number(t.consumer_grad)}) × its local "
                f"derivative with respect to input '{t.port_name}' ({format_number(t.local)}). "
                f"Click to select {t.consumer_label}."
            )
            self.terms.addItem(item)
        for consumer, label in ex.unused:
            item = QListWidgetItem(f"via {label}: no path to the output, contributes nothing")
            item.setData(NODE_ROLE, consumer)
            item.setForeground(self.palette().placeholderText())
            self.terms.addItem(item)
        self.terms.setVisible(self.terms.count() > 0)
        total = ex.sum_line(format_number) if ex.kind == SUM else ""
        if ex.kind == SUM and type(ex.grad) is ndarray and ex.grad.size:
            # the sum written out for one element: the one with the largest gradient
            idx = tuple(int(i) for i in np.unravel_index(int(np.argmax(np.abs(ex.grad))), ex.grad.shape))
            total += f"\nlargest element: {element_sum(ex, idx)}"
        self.total.setText(total)

    def _activate(self, item: QListWidgetItem):
        node = item.data(NODE_ROLE)
        if node is None:
            return
        self._scene.select_nodes([int(node)])
        self.termActivated.emit(int(node))


class ExplainDock(QDockWidget):
    """The :class:`ExplainView` as a dock ("Chain rule"), placed under the inspector."""

    def __init__(self, controller, scene, parent=None):
        super().__init__("Chain rule", parent)
        self.setObjectName("chainRuleDock")
        self.view = ExplainView(controller, scene, self)
        self.setWidget(self.view)
