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
from engine.learn.explain import SUM, explain, explain_inside, instance_jacobian
from gui.canvas.scene import summed_axes
from gui.canvas.tensor_view import index_text
from gui.style import format_number

NODE_ROLE = Qt.ItemDataRole.UserRole
EXPAND_ROLE = Qt.ItemDataRole.UserRole + 1  # (instance, port) of an expandable instance factor
INDENT = "      "
MAX_OUTPUTS_EXPLAINED = 4  # outputs of one selected instance written out (a parameter bank has hundreds)
MAX_JACOBIAN_LISTED = 48  # entries of a selected instance's local Jacobian worked out and listed
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
        self._expanded: set = set()  # instance factors shown expanded: (instance, port)

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
        controller.bridge.replaced.connect(self._on_replaced)
        self.refresh()

    def _on_replaced(self, *_):
        self._expanded = set()  # another document: its instances are other ones
        self.refresh()

    def toggle_expanded(self, key) -> None:
        """Show or hide the inside's terms of the instance factor ``(instance, port)``."""
        self._expanded ^= {key}
        self.refresh()

    def selected_node(self) -> int | None:
        ids = self._scene.selected_node_ids()
        return ids[0] if len(ids) == 1 else None

    def term_texts(self) -> list[str]:
        """The rows as shown (for tests and screen readers)."""
        return [self.terms.item(i).text() for i in range(self.terms.count())]

    def text(self) -> str:
        """Everything shown, as plain text."""
        lines = [html.unescape(self.summary.text())]
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
        ports = g.output_arity(node) if g.op(node) == "call" else 1
        cache: dict = {}  # each instance's private tape, built once for every output's terms
        exs = [explain(g, node, p, cache) for p in range(min(ports, MAX_OUTPUTS_EXPLAINED))]
        ex = self.explanation = exs[0]
        more = (f" The first {MAX_OUTPUTS_EXPLAINED} are explained below; enter it, or select what "
                "feeds it, for the others." if ports > MAX_OUTPUTS_EXPLAINED else "")
        self.summary.setText(html.escape(ex.summary() if ports == 1 else
                                         f"{g.label(node)} has {ports} outputs; each is explained "
                                         f"with its own terms.{more}"))
        totals = []
        for e in exs:
            if ports > 1:
                self._add_note(f"output {e.label}: {e.summary()}")
            self._add_terms(g, node, e)
            totals.append(self._total_text(e))
        if g.op(node) == "call":
            self._add_jacobian(g, node)
        self.terms.setVisible(self.terms.count() > 0)
        self.total.setText("\n".join(t for t in totals if t))

    def _total_text(self, ex) -> str:
        total = ex.sum_line(format_number) if ex.kind == SUM else ""
        if ex.kind == SUM and type(ex.grad) is ndarray and ex.grad.size:
            # the sum written out for one element: the one with the largest gradient
            idx = tuple(int(i) for i in np.unravel_index(int(np.argmax(np.abs(ex.grad))), ex.grad.shape))
            total += f"\nlargest element: {element_sum(ex, idx)}"
        return total

    def _add_note(self, text, indent=""):
        item = QListWidgetItem(indent + text)
        item.setForeground(self.palette().placeholderText())
        self.terms.addItem(item)
        return item

    def _add_terms(self, g, node, ex, indent=""):
        for t in ex.terms:
            if t.instance:
                self._add_instance_term(g, ex, t, indent)
                continue
            if t.local is None:  # a Jacobian: the rule in words and with shapes, and what was sent
                if t.port is None or not isinstance(t.consumer, int) or g.op(t.consumer) not in OPS:
                    # a tied constant's share, or a node inside an instance: what it sent
                    item = QListWidgetItem(f"{indent}via {t.consumer_label}: sent {format_number(t.product)}")
                    item.setData(NODE_ROLE, t.consumer if isinstance(t.consumer, int) else None)
                    item.setToolTip(f"What {t.consumer_label} sends back through this wire")
                    self.terms.addItem(item)
                    continue
                words, shapes = tensor_rule(g, ex.node, t, ex.output_label or "out")
                item = QListWidgetItem(f"{indent}via {t.consumer_label}: {words}\n{indent}    shapes: "
                                       f"{shapes}\n{indent}    sent: {format_number(t.product)}")
                item.setData(NODE_ROLE, t.consumer if isinstance(t.consumer, int) else None)
                item.setToolTip(f"The vector-Jacobian product {t.consumer_label} sends back through "
                                f"'{t.port_name}'. Click to select {t.consumer_label}.")
                self.terms.addItem(item)
                continue
            item = QListWidgetItem(indent + ex.term_text(t, format_number))
            item.setData(NODE_ROLE, t.consumer if isinstance(t.consumer, int) else None)
            item.setToolTip(
                f"{t.consumer_label}'s gradient ({format_number(t.consumer_grad)}) × its local "
                f"derivative with respect to input '{t.port_name}' ({format_number(t.local)}). "
                f"Click to select {t.consumer_label}."
            )
            self.terms.addItem(item)
        for consumer, label in ex.unused:
            item = QListWidgetItem(f"{indent}via {label}: no path to the output, contributes nothing")
            item.setData(NODE_ROLE, consumer if isinstance(consumer, int) else None)
            item.setForeground(self.palette().placeholderText())
            self.terms.addItem(item)

    def _add_instance_term(self, g, ex, t, indent):
        """An instance is one factor: its local Jacobian's column for this input (several
        outputs: a dot product over them); a row under it expands it into the inside's terms."""
        cols = t.local if isinstance(t.local, tuple) else (t.local,)
        if any(c is None or type(c) is ndarray for c in cols) or type(t.product) is ndarray:
            inst = t.consumer
            path = inst if isinstance(inst, tuple) else (inst,)
            d = g.definition_of(inst)
            # shapes only (the Jacobian itself can be large): each output's and this input's
            ins = _shape(g.value(path + (d.inputs[t.port].node,)))
            shapes = " + ".join(
                f"{shape_text(_shape(g.value(inst, m)))} · {shape_text(_shape(g.value(inst, m)))}×"
                f"{shape_text(ins)} Jacobian" for m in range(d.output_arity))
            shapes += f" → {shape_text(ins)}"
            text = (f"{indent}via {t.consumer_label}: ∂{ex.output_label or 'out'}/∂{ex.label} = Σ over "
                    f"its outputs ∂{ex.output_label or 'out'}/∂out · ∂out/∂{t.port_name} (its local "
                    f"Jacobian)\n{indent}    shapes: {shapes}\n{indent}    sent: {format_number(t.product)}")
        else:
            text = indent + ex.term_text(t, format_number)
        item = QListWidgetItem(text)
        item.setData(NODE_ROLE, t.consumer if isinstance(t.consumer, int) else None)
        item.setToolTip(f"{t.consumer_label} is one factor of the chain rule: the gradient arriving at "
                        f"its outputs times its local Jacobian's column for input '{t.port_name}' "
                        f"(∂outputs/∂{t.port_name}). Click to select it; expand the row below to see "
                        "the terms inside it.")
        self.terms.addItem(item)
        key = (t.consumer, t.port)
        open_ = key in self._expanded
        row = QListWidgetItem(f"{indent}    {'▾ collapse' if open_ else '▸ expand'}: the terms inside "
                              f"{t.consumer_label} for '{t.port_name}'")
        row.setData(EXPAND_ROLE, key)
        row.setToolTip("Click (or press Enter) to show or hide how the inside of this instance "
                       "makes this factor, one term per node inside that reads the input")
        self.terms.addItem(row)
        if open_:
            inside = explain_inside(g, t.consumer, t.port)
            self._add_terms(g, inside.node, inside, indent + INDENT)
            for line in self._total_text(inside).splitlines():
                self._add_note(line, indent + INDENT)

    def _add_jacobian(self, g, node):
        d = g.definition_of(node)
        if d.arity * d.output_arity > MAX_JACOBIAN_LISTED:  # a whole network: hundreds of columns
            self._add_note(f"local Jacobian of {g.label(node)}: {d.output_arity} output(s) × {d.arity} "
                           "inputs, too many entries to list; expand a term to see one column's work")
            return
        jac = instance_jacobian(g, node)
        self._add_note(f"local Jacobian of {g.label(node)} (∂outputs/∂inputs at these inputs):")
        for line in jac.lines(format_number):
            self._add_note(line, INDENT)

    def _activate(self, item: QListWidgetItem):
        key = item.data(EXPAND_ROLE)
        if key is not None:
            self.toggle_expanded(tuple(key))
            return
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
