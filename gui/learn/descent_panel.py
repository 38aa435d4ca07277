"""The "Descend" panel: gradient descent on the open document, with a live plot.

Choose a learning rate, a number of steps, which number nodes may move and whether to minimize
or maximize the output. Each document starts with its own settings when it carries them (an
example's ``"descend"`` key: the rate, steps and trainable numbers that reach its lesson in one
Run), else rate 0.01, 50 steps and the named numbers that are parameters (see
:func:`engine.learn.descent.default_trainable`: inputs and targets such as ``x1`` or ``t`` stay
put). For a classification output (cross-entropy) the result says how many rows are right
out of N. Run computes
the whole trajectory with
:func:`engine.learn.descent.plan_descent` (on a copy: the document is untouched), draws it on the plot
a few points at a time, then sets the trainable numbers to their final values through
``controller.set_values`` — one undo step for the whole run, so one Undo restores every value.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from engine import GraphError
from engine.learn.descent import MAX_STEPS, descent_defaults, plan_descent
from gui.learn.number_keys import key_node, node_key, number_nodes
from gui.panels.plot import PlotWidget
from gui.style import format_number

NODE_ROLE = Qt.ItemDataRole.UserRole
FRAMES = 30  # the plot animation shows the run in this many frames, however long it is
FRAME_MS = 25


class DescentPanel(QWidget):
    """Settings, trainable list, Run, plot and a result line. ``finished(result)`` fires after
    the final values are applied (or the run turned out to change nothing).
    ``exportRequested(graph, settings)`` asks for the last run as an animation: ``graph`` the
    document as the run started, ``settings`` the keywords of ``plan_descent`` that replay it."""

    finished = Signal(object)
    exportRequested = Signal(object, object)

    def __init__(self, controller, parent=None):
        super().__init__(parent)
        self.setObjectName("descentPanel")
        self._controller = controller
        self._checks: dict[int, bool] = {}  # the user's choices, kept across refreshes
        self.result = None
        self.animate = True
        self._pending = None  # (result, stack index, graph) while the plot animates
        self._frame = 0
        self._timer = QTimer(self)
        self._timer.setInterval(FRAME_MS)
        self._timer.timeout.connect(self._next_frame)

        self.lr = QDoubleSpinBox()
        self.lr.setObjectName("descentLearningRate")
        self.lr.setDecimals(5)
        self.lr.setRange(0.00001, 1000.0)
        self.lr.setSingleStep(0.01)
        self.lr.setValue(0.01)
        self.lr.setToolTip("How far each step moves a number: value −= learning rate × gradient")
        self.steps = QSpinBox()
        self.steps.setObjectName("descentSteps")
        self.steps.setRange(1, MAX_STEPS)
        self.steps.setValue(50)
        self.direction = QComboBox()
        self.direction.setObjectName("descentDirection")
        self.direction.addItems(["minimize", "maximize"])
        self.direction.setToolTip("Move against the gradient (minimize) or along it (maximize)")
        self.trainable = QListWidget()
        self.trainable.setObjectName("descentTrainable")
        self.trainable.setToolTip("The number nodes descent may change")
        self.trainable.setMaximumHeight(110)
        self.trainable.itemChanged.connect(self._remember_check)
        self.run_button = QPushButton("Run")
        self.run_button.setObjectName("descentRun")
        self.run_button.setToolTip("Run gradient descent; the whole run is one undo step")
        self.run_button.clicked.connect(self.run)
        self.last_run = None  # (document as the run started, plan_descent keywords)
        self.export_button = QPushButton("Export…")
        self.export_button.setObjectName("descentExport")
        self.export_button.setToolTip("Save the last run as an animation: one frame per step "
                                      "(GIF, animated PNG, MP4 or PNG frames)")  # fmt: skip
        self.export_button.setEnabled(False)
        self.export_button.clicked.connect(self.request_export)
        self.plot = PlotWidget(self)
        self.status = QLabel("")
        self.status.setObjectName("descentStatus")
        self.status.setWordWrap(True)

        form = QFormLayout()
        form.addRow("Learning rate", self.lr)
        form.addRow("Steps", self.steps)
        form.addRow("Goal", self.direction)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.export_button)
        row.addWidget(self.run_button)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.addLayout(form)
        lay.addWidget(QLabel("Trainable numbers"))
        lay.addWidget(self.trainable)
        lay.addLayout(row)
        lay.addWidget(self.plot, 1)
        lay.addWidget(self.status)

        controller.bridge.evaluated.connect(self.refresh)
        controller.bridge.replaced.connect(self._on_document_replaced)
        self._apply_defaults()
        self.refresh()

    # ---------------------------------------------------------------- trainable list

    def _on_document_replaced(self) -> None:
        self._checks = {}
        self.last_run = None
        self.export_button.setEnabled(False)
        self.plot.clear()
        self.status.setText("")
        self._apply_defaults()
        self.refresh()

    def _apply_defaults(self) -> None:
        """The document's own rate, steps and goal (its "descend" settings), else the panel's."""
        d = descent_defaults(self._controller.graph)
        self.lr.setValue(d.lr)
        self.steps.setValue(d.steps)
        self.direction.setCurrentText("maximize" if d.maximize else "minimize")
        if d.own:
            self._say("This document's Descend settings are filled in: press Run.")

    def refresh(self, *_):
        """Rebuild the trainable list from the document, keeping the user's ticks."""
        g = self._controller.graph
        self.trainable.blockSignals(True)
        defaults = set(descent_defaults(g).trainable)
        try:
            self.trainable.clear()
            for n, label in number_nodes(g):  # a constant of a definition trains in every instance
                item = QListWidgetItem(f"{label} = {format_number(g.number(n))}")
                item.setData(NODE_ROLE, node_key(n))
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                if isinstance(n, tuple):
                    item.setToolTip(f"{label} is a constant of definition {n[0]}: training it changes it "
                                    f"in all {len(g.instances(n[0]))} instance(s) (weight tying)")
                on = self._checks.get(n, n in defaults)
                item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)
                self.trainable.addItem(item)
        finally:
            self.trainable.blockSignals(False)

    def _remember_check(self, item: QListWidgetItem):
        self._checks[key_node(item.data(NODE_ROLE))] = item.checkState() == Qt.CheckState.Checked

    def chosen(self) -> list:
        """The ticked number nodes (ids; ``(definition, id)`` for a constant of a definition)."""
        out = []
        for i in range(self.trainable.count()):
            it = self.trainable.item(i)
            if it.checkState() == Qt.CheckState.Checked:
                out.append(key_node(it.data(NODE_ROLE)))
        return out

    def set_trainable(self, nodes) -> None:
        """Tick exactly ``nodes`` (ids, or names and addresses of constants: ``"neuron.b"``)."""
        g = self._controller.graph
        wanted = {g.resolve(n) for n in nodes}
        for i in range(self.trainable.count()):
            it = self.trainable.item(i)
            on = key_node(it.data(NODE_ROLE)) in wanted
            it.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)

    # ---------------------------------------------------------------- running

    @property
    def running(self) -> bool:
        return self._pending is not None

    def run(self) -> bool:
        """Plan the run, then animate the plot and apply the final values. False (with the
        reason shown) when the run cannot start."""
        if self.running:
            return False
        g = self._controller.graph
        nodes = self.chosen()
        if not nodes:
            self._say("Tick at least one number to train.")
            return False
        settings = {"steps": self.steps.value(), "lr": self.lr.value(), "trainable": nodes,
                    "maximize": self.direction.currentText() == "maximize"}  # fmt: skip
        try:
            result = plan_descent(g, **settings)
        except (ValueError, GraphError) as e:
            self._say(f"Cannot run descent: {e}")
            return False
        self.last_run = (g.copy(), settings)
        self.export_button.setEnabled(True)
        self.result = result
        self._pending = (result, self._controller.undo_stack.index(), g)
        self.run_button.setEnabled(False)
        self.plot.set_history(result.history[:1])
        self._say(f"Running {result.steps_taken} steps…")
        if self.animate and len(result.history) > 2:
            self._frame = 0
            self._timer.start()
        else:
            self._finish()
        return True

    def _next_frame(self):
        result = self._pending[0]
        self._frame += 1
        n = len(result.history)
        shown = max(1, round(n * self._frame / FRAMES))
        self.plot.set_history(result.history[:shown])
        if shown >= n:
            self._timer.stop()
            self._finish()

    def _finish(self):
        result, index, graph = self._pending
        self._pending = None
        self._timer.stop()
        self.run_button.setEnabled(True)
        self.plot.set_history(result.history)
        c = self._controller
        if c.graph is not graph or c.undo_stack.index() != index:
            self._say("The document changed during the run, so its values were not applied.")
            return
        goal = "maximize" if result.maximize else "minimize"
        changed = result.changed
        if changed:
            c.set_values(changed, text=f"Gradient descent: {result.steps_taken} steps ({goal})")
        text = (
            f"{result.steps_taken} steps: {graph.label(result.output)} "
            f"{format_number(result.history[0])} → {format_number(result.history[-1])}"
        )
        if not changed:
            text += " (no value moved)"
        right = accuracy_text(result)
        if right:
            text += f"; {right}"
        text = (f"Stopped after {text}. Why: {result.stopped}" if result.stopped else f"Done: {text}.")
        self._say(text)
        self.finished.emit(result)

    def request_export(self) -> bool:
        """Ask for the last run as an animation (see ``exportRequested``); False without one."""
        if self.last_run is None:
            self._say("Run descent first: the animation shows a run step by step.")
            return False
        self.exportRequested.emit(*self.last_run)
        return True

    def _say(self, text: str) -> None:
        self.status.setText(text)


def accuracy_text(result) -> str:
    """"4 of 4 rows right (was 3)" for a classification output, "" otherwise."""
    after, before = result.accuracy_after, result.accuracy_before
    if after is None:
        return ""
    right, n = after
    text = f"{right} of {n} rows right"
    if before is not None and before[0] != right:
        text += f" (was {before[0]})"
    if right == n:
        text += ": every row is classified right"
    return text


class DescentDock(QDockWidget):
    """The :class:`DescentPanel` as the "Descend" dock."""

    def __init__(self, controller, parent=None):
        super().__init__("Descend", parent)
        self.setObjectName("descentDock")
        self.panel = DescentPanel(controller, self)
        self.setWidget(self.panel)
