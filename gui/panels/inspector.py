"""The inspector dock: everything about the selected node, and where its gradient comes from.

The seed's lesson is that gradients add up where a value is used twice; so besides name, op,
value and gradient, the inspector lists each contribution (which consumer, through which
port, how much) and writes the sum out: ``20 + 15 = 35``. Edits go through the controller.
"""

from __future__ import annotations

import html
import math

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDockWidget,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSlider,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from engine import NUMBER, OPS, GraphError
from engine.core.arrays import ndarray, shape_text
from engine.learn.check import check_node
from engine.learn.explain import gradient_problem
from gui import style
from gui.canvas.controller import VALUE_PLACEHOLDER, editable_text
from gui.canvas.items import op_symbol, op_text
from gui.panels.array_table import ArrayModel, ArrayTable
from gui.style import format_number

SCRUB_STEPS = 100  # slider ticks either side of the centre
# Above this many nodes the finite-difference check waits for its button: it re-runs forward
# several times on a copy (measured: ~40 µs per node), too slow to repeat on every edit.
LIVE_CHECK_NODES = 500


def _colour(c) -> str:
    return c.name()


MINUS = "\u2212"


def sum_text(amounts, total) -> str:
    """The terms of a gradient written out: ``([20, 15], 35) -> "20 + 15 = 35"``;
    negative terms are subtracted (``20 − 5 = 15``). ``total`` is the engine's gradient, not
    a sum redone here, so the line always agrees with the node (NaN/inf included)."""
    if not amounts:
        return ""
    parts = [format_number(amounts[0])]
    for a in amounts[1:]:
        if isinstance(a, (int, float)) and a < 0:
            parts.append(f"{MINUS} {format_number(-a)}")
        else:
            parts.append(f"+ {format_number(a)}")
    return " ".join(parts) + f" = {format_number(total)}"


class Inspector(QDockWidget):
    """Dock showing the single selected node; follows selection and every re-evaluation."""

    nodeShown = Signal(object)  # the node id now shown, or None

    def __init__(self, controller, scene, parent=None):
        super().__init__("Inspector", parent)
        self.setObjectName("inspectorDock")
        self.controller = controller
        self.scene = scene
        self.node: int | None = None
        self._last_message = ""
        self._scrub_base: float | None = None
        self._build()
        controller.bridge.evaluated.connect(self.refresh)
        controller.bridge.replaced.connect(self.refresh)
        controller.message.connect(self._remember_message)
        scene.selectionChanged.connect(self.refresh)
        if hasattr(scene, "previewChanged"):  # a training step previewed: its numbers, not the document's
            scene.previewChanged.connect(self.refresh)
        self.refresh()

    # ------------------------------------------------------------------ widgets

    def _build(self):
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.NoFrame)
        # Text wraps to the dock's width; what cannot wrap (an array table in a narrow dock)
        # scrolls rather than being cut off at the dock's edge.
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAsNeeded)
        body = QWidget()
        body.setObjectName("inspectorBody")
        outer = QVBoxLayout(body)
        outer.setContentsMargins(10, 8, 10, 10)
        outer.setSpacing(8)

        self.title = QLabel()
        self.title.setObjectName("inspectorTitle")
        self.title.setTextFormat(Qt.RichText)
        self.title.setWordWrap(True)
        outer.addWidget(self.title)

        self.details = QWidget()
        form = QFormLayout(self.details)
        form.setContentsMargins(0, 0, 0, 0)
        form.setLabelAlignment(Qt.AlignRight | Qt.AlignVCenter)
        form.setHorizontalSpacing(10)
        form.setVerticalSpacing(6)

        self.name_edit = QLineEdit()
        self.name_edit.setObjectName("nameEdit")
        self.name_edit.setPlaceholderText("unnamed")
        self.name_edit.setToolTip("The node's name; Enter renames it (names are unique)")
        self.name_edit.editingFinished.connect(self._commit_name)
        form.addRow("Name", self.name_edit)

        self.op_label = QLabel()
        self.op_label.setObjectName("opLabel")
        self.op_label.setWordWrap(True)
        self.op_label.setToolTip("What this node computes")
        form.addRow("Op", self.op_label)

        self.value_edit = QLineEdit()
        self.value_edit.setObjectName("valueEdit")
        self.value_edit.setToolTip("Type a value and press Enter: a number, an array such as "
                                   "[[1, 2], [3, 4]], zeros(3) or randn(2, 3, seed=0); "
                                   "every value and gradient updates")
        self.value_edit.setPlaceholderText(VALUE_PLACEHOLDER)
        self.value_edit.editingFinished.connect(self._commit_value)
        self.value_edit.setStyleSheet(f"color: {_colour(style.VALUE)};")
        self.value_label = QLabel()
        self.value_label.setObjectName("valueLabel")
        self.value_label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        value_box = QWidget()
        vl = QHBoxLayout(value_box)
        vl.setContentsMargins(0, 0, 0, 0)
        vl.addWidget(self.value_edit)
        vl.addWidget(self.value_label)
        form.addRow("Value", value_box)

        self.scrub = QSlider(Qt.Horizontal)
        self.scrub.setObjectName("scrubSlider")
        self.scrub.setRange(-SCRUB_STEPS, SCRUB_STEPS)
        self.scrub.setValue(0)
        self.scrub.setToolTip("Drag to scrub the value and watch every gradient follow")
        self.scrub.sliderPressed.connect(self._scrub_start)
        self.scrub.valueChanged.connect(self._scrub_move)
        self.scrub.sliderReleased.connect(self._scrub_end)
        self.scrub_row_label = QLabel("Scrub")
        form.addRow(self.scrub_row_label, self.scrub)

        self.grad_label = QLabel()
        self.grad_label.setObjectName("gradLabel")
        self.grad_label.setTextFormat(Qt.RichText)
        self.grad_label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.grad_label.setWordWrap(True)
        form.addRow("Gradient", self.grad_label)

        self.check_label = QLabel()
        self.check_label.setObjectName("checkLabel")
        self.check_label.setTextFormat(Qt.RichText)
        self.check_label.setWordWrap(True)
        self.check_label.setToolTip(
            "Finite-difference check: nudge this node by a tiny h both ways and watch the output,\n"
            "(f(v + h) − f(v − h)) / 2h, which backward's gradient should match"
        )
        self.check_button = QPushButton("Check")
        self.check_button.setObjectName("checkButton")
        self.check_button.setToolTip("Compare the gradient with a finite difference now")
        self.check_button.clicked.connect(lambda: self._show_check(self.node, force=True))
        check_box = QWidget()
        cl = QHBoxLayout(check_box)
        cl.setContentsMargins(0, 0, 0, 0)
        cl.addWidget(self.check_label, 1)
        cl.addWidget(self.check_button)
        form.addRow("Check", check_box)
        outer.addWidget(self.details)
        self._build_tensor(outer)
        # Rows whose text changes while scrubbing keep room for two lines, and the button its
        # whole word: the form neither clips nor jumps as numbers grow and shrink.
        two_lines = 2 * self.fontMetrics().lineSpacing() + 4
        for lab in (self.grad_label, self.check_label):
            lab.setMinimumHeight(two_lines)
            lab.setAlignment(Qt.AlignLeft | Qt.AlignVCenter)
        self.check_button.setMinimumWidth(self.check_button.sizeHint().width())
        self.check_button.setSizePolicy(QSizePolicy.Fixed, QSizePolicy.Fixed)
        self.value_label.setMinimumHeight(self.value_edit.sizeHint().height())
        self.title.setMinimumHeight(self.fontMetrics().lineSpacing() * 2)

        self.error_label = QLabel()
        self.error_label.setObjectName("inspectorError")
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet(f"color: {_colour(style.PROBLEM)};")
        self.error_label.hide()
        outer.addWidget(self.error_label)

        self.contrib_title = QLabel()
        self.contrib_title.setObjectName("sectionTitle")
        self.contrib_title.setWordWrap(True)
        outer.addWidget(self.contrib_title)
        self.contrib_label = QLabel()
        self.contrib_label.setObjectName("contributions")
        self.contrib_label.setTextFormat(Qt.RichText)
        self.contrib_label.setWordWrap(True)
        self.contrib_label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        outer.addWidget(self.contrib_label)

        self.problem_label = QLabel()
        self.problem_label.setObjectName("problemLabel")
        self.problem_label.setWordWrap(True)
        self.problem_label.setStyleSheet(f"color: {_colour(style.PROBLEM)};")
        outer.addWidget(self.problem_label)

        self.hint = QLabel()
        self.hint.setObjectName("inspectorHint")
        self.hint.setWordWrap(True)
        self.hint.setTextFormat(Qt.RichText)
        outer.addWidget(self.hint)
        outer.addStretch(1)
        scroll.setWidget(body)
        self.setWidget(scroll)

    def _build_tensor(self, outer):
        """Tables of an array node's value and gradient, the gradient's norm and range, the
        op's parameters, and the note that an array output is seeded with ones."""
        self.tensor_box = QWidget()
        self.tensor_box.setObjectName("tensorBox")
        tl = QVBoxLayout(self.tensor_box)
        tl.setContentsMargins(0, 0, 0, 0)
        tl.setSpacing(4)
        self.params_box = QWidget()
        self.params_form = QFormLayout(self.params_box)
        self.params_form.setContentsMargins(0, 0, 0, 0)
        self.param_edits: dict[str, QLineEdit] = {}
        tl.addWidget(self.params_box)
        self.value_table_title = QLabel()
        self.value_table_title.setObjectName("valueTableTitle")
        self.value_table_title.setWordWrap(True)  # "Value: 2×3 array (double-click…" set the body's width
        tl.addWidget(self.value_table_title)
        self.value_model = ArrayModel(self, colour=style.VALUE)
        self.value_model.on_edit = self._commit_array
        self.value_table = ArrayTable(self.value_model)
        self.value_table.setObjectName("valueTable")
        self.value_table.setToolTip("Double-click a cell to edit it (one undo step); Ctrl+V pastes "
                                    "cells copied from a spreadsheet, from the current cell on")
        tl.addWidget(self.value_table)
        self.grad_table_title = QLabel()
        self.grad_table_title.setObjectName("gradTableTitle")
        self.grad_table_title.setTextFormat(Qt.RichText)
        self.grad_table_title.setWordWrap(True)
        tl.addWidget(self.grad_table_title)
        self.grad_model = ArrayModel(self, colour=style.GRAD)
        self.grad_table = ArrayTable(self.grad_model)
        self.grad_table.setObjectName("gradTable")
        tl.addWidget(self.grad_table)
        self.seed_label = QLabel()
        self.seed_label.setObjectName("seedNote")
        self.seed_label.setWordWrap(True)
        tl.addWidget(self.seed_label)
        self.tensor_box.hide()
        outer.addWidget(self.tensor_box)

    def _show_params(self, node):
        g = self.graph
        op = g.op(node)
        rows = OPS[op].params if op != NUMBER and op in OPS else ()
        self.params_box.setVisible(bool(rows))
        if [p.name for p in rows] != list(self.param_edits):
            while self.params_form.rowCount():
                self.params_form.removeRow(0)
            self.param_edits = {}
            for p in rows:
                e = QLineEdit()
                e.setObjectName(f"param_{p.name}")
                e.setToolTip(f"{p.name}: {p.doc}\nEnter applies it (one undo step)")
                e.editingFinished.connect(lambda name=p.name: self._commit_param(name))
                self.params_form.addRow(p.name, e)
                self.param_edits[p.name] = e
        current = g.params(node)
        for p in rows:
            e = self.param_edits[p.name]
            if not e.hasFocus():
                e.setText(_param_text(current.get(p.name, p.default)))

    def _commit_param(self, name):
        node = self.node
        if node is None or node not in self.graph.nx or name not in self.param_edits:
            return
        text = self.param_edits[name].text()
        value = _parse_param(text)
        params = self.graph.params(node)
        if value is _BAD:
            self._show_error(f"{name}: '{text}' is not None, a whole number, a list of them, or True/False")
            return
        kind = next((p.kind for p in OPS[self.graph.op(node)].params if p.name == name), "")
        if kind == "shape" and isinstance(value, int):  # "-1": a shape of one axis
            value = [value]
        if params.get(name) == value:
            return
        params[name] = value
        self._last_message = ""
        if self.controller.set_params(node, params):
            self._show_error("")
        else:
            self._show_error(self._last_message or f"{name} = {text} was refused")

    def _commit_array(self, new) -> bool:
        """One table edit (a cell, or a pasted block): one undo step."""
        node = self.node
        if node is None or node not in self.graph.nx or self.graph.op(node) != NUMBER:
            return False
        self._last_message = ""
        ok = self.controller.set_value(node, new)
        self._show_error("" if ok else (self._last_message or "the value was refused"))
        return ok

    def _show_tensor(self, node, value, grad) -> bool:
        """Show the tables when the node holds an array; returns whether it does."""
        g = self.graph
        previewing = self.previewing
        self._show_params(node)
        if type(value) is not ndarray:
            self.tensor_box.setVisible(self.params_box.isVisibleTo(self.tensor_box))
            for w in (self.value_table_title, self.value_table, self.grad_table_title,
                      self.grad_table, self.seed_label):
                w.hide()
            return False
        for w in (self.value_table_title, self.value_table, self.grad_table_title, self.grad_table):
            w.show()
        self.tensor_box.show()
        is_number = g.op(node) == NUMBER
        kind = " int" if value.dtype.kind == "i" else ""
        edit = " (double-click to edit, Ctrl+V to paste)" if is_number and not previewing else ""
        dims = '×'.join(map(str, value.shape)) if value.ndim > 1 else shape_text(value.shape)
        self.value_table_title.setText(f"Value: {dims}{kind} array{edit}")
        self.value_model.set_array(value, editable=is_number and not previewing)
        if type(grad) is ndarray:
            with np.errstate(all="ignore"):
                norm = float(np.linalg.norm(grad))
                lo, hi = float(np.min(grad)), float(np.max(grad))
            red = _colour(style.GRAD)
            self.grad_table_title.setText(
                f"Gradient {shape_text(grad.shape)}: <span style='color:{red}'>‖g‖ = {format_number(norm)},"
                f" min {format_number(lo)}, max {format_number(hi)}</span>")
            self.grad_model.set_array(grad)
            self.grad_table.show()
        else:
            self.grad_table_title.setText("Gradient: — <i>no path to the output</i>")
            self.grad_model.set_array(None)
            self.grad_table.hide()
        note = self.shown.seed_note()
        self.seed_label.setText(note or "")
        self.seed_label.setVisible(bool(note))
        return True

    # ------------------------------------------------------------------ showing

    @property
    def graph(self):
        return self.controller.graph

    @property
    def shown(self):
        """The Graph the numbers shown come from: the canvas's (a previewed training step's
        while there is one), else the document."""
        g = getattr(self.scene, "numbers", None)
        return g if g is not None else self.graph

    @property
    def previewing(self) -> bool:
        return self.shown is not self.graph

    def _selected(self) -> int | None:
        ids = self.scene.selected_node_ids()
        return ids[0] if len(ids) == 1 else None

    def refresh(self, *_):
        """Re-read the selected node from the document."""
        if not (isValid(self) and isValid(self.scene)):
            return  # the window is being torn down; a dying scene still reports its selection
        g = self.graph
        node = self._selected()
        if node is not None and node not in g.nx:
            node = None
        changed = node != self.node
        self.node = node
        if changed:
            self.error_label.hide()
        if node is None:
            self._show_nothing(len(self.scene.selected_node_ids()))
        else:
            self._show_node(node, changed)
        if changed:
            self.nodeShown.emit(node)

    def _show_nothing(self, count: int):
        self.details.hide()
        self.tensor_box.hide()
        self.contrib_title.hide()
        self.contrib_label.hide()
        self.problem_label.hide()
        g = self.graph
        if count > 1:
            self.title.setText(f"<b>{count} nodes selected</b>")
            self.hint.setText(
                "Select a single node to see its value, gradient and where the gradient comes from."
            )
        else:
            heading = html.escape(str(g.meta.get("title") or "Nothing selected"))
            self.title.setText(f"<b>{heading}</b>")
            lesson = g.meta.get("lesson")
            text = html.escape(str(lesson)).replace("\n", "<br>") + "<br><br>" if lesson else ""
            self.hint.setText(
                text + "Click a node to see its value, its gradient and the contributions that add up to it."
            )
        self.hint.show()

    def _show_node(self, node: int, changed: bool):
        g = self.shown
        if node not in g.nx:
            g = self.graph
        preview = g is not self.graph
        attrs = self.graph.nx.nodes[node]
        op = attrs["op"]
        is_number = op == NUMBER
        out = g.evaluated_output()
        self.details.show()
        self.hint.hide()
        label = html.escape(g.label(node))
        gold = _colour(style.OUTPUT)
        marker = f"  <span style='color:{gold}'>● output</span>" if node == out else ""
        note = (f"  <span style='color:{_colour(style.TEXT_DIM)}'>(a training step previewed: its numbers; "
                "Keep in the Train dock to edit from it)</span>") if preview else ""
        self.title.setText(f"<b style='font-size:13pt'>{label}</b>{marker}{note}")

        if changed or not self.name_edit.hasFocus():
            self.name_edit.setText(attrs["name"] or "")
        if is_number:
            self.op_label.setText("number (an input you can edit)")
        else:
            sym, (_, doc) = op_symbol(op), op_text(op)
            self.op_label.setText(f"{sym}   {op} — {doc}")

        value = g.value(node)
        tensor = self._show_tensor(node, value, g.grad(node))
        self.value_edit.setVisible(is_number)
        self.scrub.setVisible(is_number and not tensor)
        self.scrub_row_label.setVisible(is_number and not tensor)
        self.value_label.setVisible(not is_number)
        self.value_edit.setReadOnly(preview)
        self.scrub.setEnabled(not preview)
        if is_number and (changed or preview or not self.value_edit.hasFocus()):
            # in full: what it reads back as (the previewed step's number while previewing)
            self.value_edit.setText(editable_text(g.number(node) if preview else attrs["value"]))
            self.value_edit.setCursorPosition(0)  # a long array shows its start, not its end
        if tensor and not is_number:
            green = _colour(style.VALUE)
            self.value_label.setText(f"<span style='color:{green}'>{html.escape(g.summary(node))}</span>")
        elif is_number and not tensor:
            self.scrub.setToolTip(
                f"Drag to scrub the value (± {format_number(self._span(attrs['value']))}) and watch every "
                "gradient follow; one undo step per drag"
            )
        else:
            green = _colour(style.VALUE)
            self.value_label.setText(f"<span style='color:{green}'>{format_number(value)}</span>")

        grad = g.grad(node)
        out_label = html.escape(g.label(out)) if out is not None else None
        red = _colour(style.GRAD)
        if out is None:
            self.grad_label.setText("— <i>no output: choose one with Graph ▸ Pin Selected as Output</i>")
        elif grad is None and g.value(out) is None:
            # the output itself, or a node upstream of an output that cannot be computed yet
            whose = "this output" if node == out else f"the output {out_label}"
            self.grad_label.setText(f"— <i>{whose} has no value yet (an input is not connected), "
                                    "so no gradient flows</i>")
        elif grad is None:
            self.grad_label.setText(f"— <i>no path from here to the output {out_label}</i>")
        else:
            self.grad_label.setText(
                f"<span style='color:{red}; font-weight:bold'>{format_number(grad)}</span>"
                f"&nbsp;&nbsp;<i>= ∂{out_label} / ∂{label}</i>"
            )
        self._show_contributions(node, grad, out, out_label, g)

        if preview:  # a finite-difference probe per frame of a run would slow it down
            self.check_label.setText("<i>finite-difference check: on the document's numbers, "
                                     "not a previewed step</i>")
        else:
            self._show_check(node)

        why = g.problems().get(node) or gradient_problem(g, node)
        self.problem_label.setText(f"⚠ {why}" if why else "")
        self.problem_label.setVisible(bool(why))

    def _show_check(self, node, force: bool = False):
        """Finite-difference check of the node's gradient: live for documents up to
        LIVE_CHECK_NODES nodes, on the Check button for bigger ones (it re-runs forward)."""
        g = self.graph
        if node is None or node not in g.nx:
            return
        live = len(g) <= LIVE_CHECK_NODES
        self.check_button.setVisible(not live)
        if not (live or force):
            self.check_label.setText("<i>press Check to compare with a finite difference</i>")
            return
        if self._scrub_base is not None and not force:
            self.check_label.setText("<i>checked when you let go of the slider</i>")
            return
        try:
            row = check_node(g, node)
        except (GraphError, ArithmeticError, ValueError) as e:
            self.check_label.setText(f"— <i>{html.escape(str(e))}</i>")
            return
        if row.elements:  # an array: one probe per element (a sample of a big one)
            mark, colour = {True: ("✓", style.VALUE), False: ("✗", style.PROBLEM)}.get(
                row.ok, ("—", style.TEXT_DIM))
            self.check_label.setText(
                f"<span style='color:{_colour(colour)}'>{mark}</span> finite differences: "
                f"{html.escape(row.reason or '')}")
            self.check_label.setToolTip(
                f"{len(row.elements)} of {row.total} elements checked"
                + (" (a seeded random sample: an array this big is sampled)" if row.sampled else "")
                + "; each element nudged by ±h, (f(v + h) − f(v − h)) / 2h against its gradient")
        elif row.ok is None:
            self.check_label.setText(f"— <i>{html.escape(row.reason or 'not checked')}</i>")
        elif row.ok:
            good = _colour(style.VALUE)
            self.check_label.setText(
                f"<span style='color:{good}'>✓</span> finite difference ≈ {format_number(row.numeric)}"
            )
        else:
            bad = _colour(style.PROBLEM)
            self.check_label.setText(
                f"<span style='color:{bad}'>✗ finite difference ≈ {format_number(row.numeric)}</span>"
                f" <i>{html.escape(row.reason)}</i>"
            )

    def _show_contributions(self, node, grad, out, out_label, g=None):
        g = self.graph if g is None else g
        self.contrib_title.show()
        self.contrib_label.show()
        red = _colour(style.GRAD)
        if out is not None and node == out:
            self.contrib_title.setText("<b>Where the gradient comes from</b>")
            self.contrib_label.setText(
                f"This is the output: backward starts here with ∂{out_label}/∂{out_label} = 1."
            )
            return
        terms = sorted(g.contributions(node), key=lambda t: (t[0], t[1]))
        n_uses = len(g.consumers(node))
        self.contrib_title.setText(
            f"<b>Where the gradient comes from</b>  ({n_uses} use{'s' if n_uses != 1 else ''})"
        )
        if not terms:
            why = "it feeds nothing" if n_uses == 0 else "none of its uses leads to the output"
            self.contrib_label.setText(f"No gradient flows back to this node: {why}.")
            return
        rows = []
        for consumer, port, amount in terms:
            cop = g.op(consumer)
            sym = OPS[cop].symbol if cop in OPS else cop
            pname = OPS[cop].ports[port] if cop in OPS else str(port)
            rows.append(
                f"<tr><td>from <b>{html.escape(g.label(consumer))}</b> ({html.escape(sym)}),"
                f" input <i>{html.escape(pname)}</i></td>"
                f"<td align='right' style='color:{red}'>&nbsp;&nbsp;{format_number(amount)}</td></tr>"
            )
        dead = n_uses - len(terms)
        if dead > 0:  # the title counts every use: say why some are missing from the sum
            dim = _colour(style.TEXT_DIM)
            rows.append(
                f"<tr><td colspan='2' style='color:{dim}'>{dead} more use{'s' if dead != 1 else ''}"
                f" with no path to the output: {'they send' if dead != 1 else 'it sends'} nothing back"
                "</td></tr>"
            )
        amounts = [a for _, _, a in terms]
        total = f"<p style='color:{red}; font-weight:bold'>{html.escape(sum_text(amounts, g.grad(node)))}</p>"
        lesson = ""
        if len(terms) > 1:
            k = len(terms)
            used = f"is used {k} times" if dead <= 0 else f"reaches the output through {k} uses"
            lesson = (
                f"<p><i>{html.escape(g.label(node))} {used}, so its gradient is the sum "
                "of what each use sends back.</i></p>"
            )
        self.contrib_label.setText(f"<table>{''.join(rows)}</table>{total}{lesson}")

    # ------------------------------------------------------------------ edits

    def _remember_message(self, text: str):
        self._last_message = text

    def _show_error(self, text: str):
        self.error_label.setText(text)
        self.error_label.setVisible(bool(text))

    def _commit_name(self):
        node = self.node
        if node is None or node not in self.graph.nx:
            return
        text = self.name_edit.text().strip()
        if text == (self.graph.name(node) or ""):
            self._show_error("")
            return
        self._last_message = ""
        if self.controller.set_name(node, text or None):
            self._show_error("")
        else:
            self._show_error(self._last_message or f"cannot rename to '{text}'")

    def _commit_value(self):
        """The value typed in the Value field: any literal the parser takes, one undo step.
        Only typed text counts: leaving the field untouched changes nothing."""
        node = self.node
        edit = self.value_edit
        g = self.graph
        if node is None or node not in g.nx or g.op(node) != NUMBER or not edit.isModified():
            return
        edit.setModified(False)
        self._last_message = ""
        if self.controller.set_typed_value(node, edit.text()):
            self._show_error("")
        else:
            self._show_error(self._last_message or "the value was refused")

    @staticmethod
    def _span(base: float) -> float:
        """How far a full scrub goes: five times the value's order of magnitude, at least 5."""
        return 5.0 * (max(1.0, 10 ** math.floor(math.log10(abs(base)))) if base else 1.0)

    def _scrub_start(self):
        if self.node is not None and self.graph.op(self.node) == NUMBER:
            self._scrub_base = self.graph.number(self.node)

    def _scrub_move(self, tick: int):
        node = self.node
        if node is None or node not in self.graph.nx or self.graph.op(node) != NUMBER:
            return
        nudge = self._scrub_base is None  # keyboard or wheel: a small step from the current value
        base = self.graph.number(node) if nudge else self._scrub_base
        span = self._span(base)
        step = span / SCRUB_STEPS
        v = round((base + tick * step) / step) * step
        v = float(f"{v:.12g}")  # drop float noise such as 3.0000000000000004
        if v != self.graph.number(node):
            # merge: a whole scrub (and a run of nudges) is one undo step
            self.controller.set_value(node, v, merge=True)
        if nudge and tick:
            self.scrub.blockSignals(True)
            self.scrub.setValue(0)
            self.scrub.blockSignals(False)

    def _scrub_end(self):
        self._scrub_base = None
        self.scrub.blockSignals(True)
        self.scrub.setValue(0)
        self.scrub.blockSignals(False)
        self.refresh()


_BAD = object()


def _param_text(v) -> str:
    if isinstance(v, (list, tuple)):
        return ", ".join(map(str, v))
    return str(v)


def _parse_param(text: str):
    """A parameter typed in the inspector: None, True/False, a whole number, or whole numbers
    separated by commas (an axis list, a shape); _BAD otherwise. Nothing typed is executed."""
    t = text.strip().strip("()[]").replace(MINUS, "-")
    low = t.lower()
    if low in ("", "none"):
        return None
    if low in ("true", "false"):
        return low == "true"
    parts = [p.strip() for p in t.split(",") if p.strip()]
    try:
        nums = [int(p) for p in parts]
    except ValueError:
        return _BAD
    return nums[0] if len(nums) == 1 and "," not in t else nums
