"""The experiment tools, added to a MainWindow by one call: ``install(window)``.

Adds a "Learn" menu and an "Experiment" toolbar (step-through backward with playback, the
gradient check, forward mode), two docks ("Chain rule" under the inspector, "Descend"), File ▸
Import program…, File ▸ Export ▸ Python…/PyTorch…, Edit ▸ Copy as Python and Help ▸ Examples….
It uses only the window's public API (controller, scene, inspector, show_message, the
extension points add_learn_action / add_menu_item / add_dock / add_toolbar, open_example,
maybe_save, replace_document) and never edits the document itself: every change goes through
the controller.

Shortcuts: F8 step mode, F10 / Shift+F10 step forward / back, F11 / Shift+F11 step into / out of
an instance, F9 play/pause, Home / End first /
last step (only while stepping), F6 gradient check, F7 forward mode, Ctrl+4 / Ctrl+5 the chain
rule and descent docks, Ctrl+I import program, Ctrl+Shift+C copy as Python, Ctrl+Shift+E examples.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDialog, QLabel, QMenu, QSlider, QToolBar

from engine import NUMBER
from gui.learn.descent_panel import DescentDock
from gui.learn.explain_view import ExplainDock
from gui.learn.fdcheck import GradientCheckTool
from gui.learn.stepper import FORWARD, SPEED_STEPS, StepMode, speed_interval, speed_position
from gui.learn.tangents import ForwardModeBar, ForwardModeTool
from gui.shell.animation_dialog import AnimationExport
from gui.shell.export_actions import ExportActions
from gui.shell.gallery_dialog import GalleryDialog, open_example
from gui.shell.import_dialog import ImportDialog, apply_import


def install(window) -> Experiment:
    """Add the experiment tools to ``window`` (a gui.shell.main_window.MainWindow) and return them;
    also kept as ``window.experiment``. Calling it twice returns the first installation."""
    if window.experiment is not None:
        return window.experiment
    exp = Experiment(window)
    window.experiment = exp
    return exp


def _plain(text: str) -> str:
    return text.replace("&", "")


class Experiment(QObject):
    """Everything :func:`install` adds, with the tools as attributes for tests and scripts:
    ``step`` (StepMode), ``check`` (GradientCheckTool), ``forward`` (ForwardModeTool),
    ``explain_dock``, ``descent_dock``, ``exports`` (code), ``animations`` (File ▸ Export
    Animation and the Descend panel's export) and the actions ``act_*``."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        c, scene = window.controller, window.scene
        self.step = StepMode(c, scene, self)
        self.step.set_canvas_area(window.canvas_area)  # F11 enters the instance on the canvas
        self.check = GradientCheckTool(c, scene, self)
        self.forward = ForwardModeTool(c, scene, self)
        self.exports = ExportActions(window)
        self.animations = AnimationExport(window)
        self.import_dialog: ImportDialog | None = None
        self.gallery_dialog: GalleryDialog | None = None

        self._make_actions()
        self._make_docks()
        self._make_toolbar()
        self._make_menus()
        self._make_status()

        self.step.activeChanged.connect(self._on_step_active)
        self.step.changed.connect(self._update_step_label)
        self.step.playingChanged.connect(self._on_playing)
        self.step.message.connect(self.say)
        self.check.finished.connect(self.say)
        self.check.cleared.connect(self._on_check_cleared)
        self.window.controller.bridge.replaced.connect(lambda: self._show_check_on(False))
        self.forward.message.connect(self._forward_message)
        self.forward.activeChanged.connect(self._on_forward_active)
        self.exports.done.connect(self.say)
        self.animations.done.connect(self.say)
        self.descent_dock.panel.exportRequested.connect(self.animations.export_descent)
        self._on_step_active(False)

    # ---------------------------------------------------------------- plumbing

    def say(self, text: str) -> None:
        if not text:
            return
        self.window.show_message(text, 10000)

    def _action(self, text, slot, shortcut=None, tip="", checkable=False) -> QAction:
        act = QAction(text, self.window)
        if shortcut:
            keys = shortcut if isinstance(shortcut, list) else [shortcut]
            act.setShortcuts([QKeySequence(k) for k in keys])
        shown = act.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        plain = tip or _plain(text).rstrip("…")
        act.setToolTip(f"{plain}  ({shown})" if shown else plain)
        act.setStatusTip(plain)
        act.setCheckable(checkable)
        if slot is not None:
            if checkable:
                act.toggled.connect(slot)
            else:  # drop triggered's "checked" argument: the slots take their own defaults
                act.triggered.connect(lambda _checked=False: slot())
        self.window.addAction(act)  # shortcuts work even while the menu bar is hidden
        return act

    # ---------------------------------------------------------------- building

    def _make_actions(self):
        a = self._action
        self.act_step_mode = a("&Step Through Backward", self._toggle_step, "F8",
                               "Walk the backward pass one node at a time", checkable=True)
        self.act_step_forward_pass = a("Step Through F&orward Pass", self._start_forward, "Shift+F8",
                                       "Walk the forward pass first: values appear in topological order")
        # Escape leaves step mode; enabled only while stepping, so it takes Escape from nobody else.
        self.act_step_exit = a("&Leave Step Mode", lambda: self.step.set_active(False), "Escape",
                               "Stop stepping and show every gradient again")
        # On the view too: the canvas claims Escape (cancel a drag, clear the selection) unless
        # an enabled action of its own has the key.
        self.window.view.addAction(self.act_step_exit)
        self.act_step_back = a("Step &Back", self.step.back, "Shift+F10", "Undo the last step")
        self.act_step_forward = a("Step &Forward", self._step_forward, "F10",
                                  "Process the next node (an instance as one node: step over it)")
        self.act_step_into = a("Step &Into Instance", self._step_into, "F11",
                               "When the next step is an instance, step into it: the nodes inside, one at "
                               "a time, drawn inside it on the canvas (Shift+F11 comes back out)")
        self.act_step_out = a("Step O&ut of Instance", self.step.step_out, "Shift+F11",
                              "Run the rest of the instance being stepped through and stop after it")
        self.act_play = a("&Play", self.step.toggle_play, "F9", "Play or pause the pass being stepped")
        self.act_step_start = a("Go to &Start", self.step.to_start, "Home", "Back to before the first step")
        self.act_step_end = a("Go to &End", self.step.to_end, "End", "Run every remaining step")
        # A toggle: the second F6 takes the marks away again (they used to stay until an edit).
        self.act_check = a("&Check Gradients", self._toggle_check, "F6",
                           "Compare every node's gradient with a central finite difference (✓ / ✗); "
                           "again to remove the marks", checkable=True)
        self.act_forward = a("For&ward Mode", self._toggle_forward, "F7",
                             "Show each node's tangent d(node)/d(input) for the chosen input", checkable=True)
        self.act_import = a("&Import Program…", self.open_import_dialog, "Ctrl+I",
                            "Build a graph from an expression or a short program")
        self.act_examples = a("&Examples…", self.open_gallery, "Ctrl+Shift+E",
                              "Pictures and one-line lessons of the bundled examples")

    def _make_docks(self):
        w = self.window
        self.explain_dock = ExplainDock(w.controller, w.scene, w)
        self.descent_dock = DescentDock(w.controller, w)
        w.add_dock(self.explain_dock, below=w.inspector)
        w.add_dock(self.descent_dock, tab_with=self.explain_dock, visible=False)
        self.act_chain_dock = self.explain_dock.toggleViewAction()
        self.act_chain_dock.setShortcut(QKeySequence("Ctrl+4"))
        self.act_chain_dock.setStatusTip("Show or hide the chain-rule explanation of the selected node")
        self.act_descent_dock = self.descent_dock.toggleViewAction()
        self.act_descent_dock.setText("&Descend")
        self.act_descent_dock.setShortcut(QKeySequence("Ctrl+5"))
        self.act_descent_dock.setStatusTip("Gradient descent on the document's parameters, with a plot")
        self.act_descent_dock.triggered.connect(lambda on: on and self.descent_dock.raise_())

    def _make_toolbar(self):
        tb = QToolBar("Experiment", self.window)
        tb.setObjectName("experimentToolbar")
        tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        # Short button faces, in glyphs DejaVu Sans has (menu and tooltips keep the full names):
        # the whole toolbar fits an 800-pixel window, not hiding Learn behind its overflow. One
        # step is a triangle against a bar (a media player's frame step): a bare ▶ read as Play.
        for act, face in ((self.act_step_mode, "Step"), (self.act_step_start, "⇤"),
                          (self.act_step_back, "|◀"), (self.act_play, "Play"),
                          (self.act_step_forward, "▶|"), (self.act_step_end, "⇥"),
                          (self.act_check, "Check"), (self.act_forward, "Fwd mode")):
            act.setIconText(face)
        tb.addAction(self.act_step_mode)
        tb.addAction(self.act_step_start)
        tb.addAction(self.act_step_back)
        tb.addAction(self.act_play)
        # One width for both faces: the Play/Pause swap moved Check and Fwd mode ~9 px each time.
        play = tb.widgetForAction(self.act_play)
        fm = play.fontMetrics()
        play.setFixedWidth(play.sizeHint().width() + max(fm.horizontalAdvance(t) for t in ("Play", "Pause"))
                           - fm.horizontalAdvance("Play"))
        tb.addAction(self.act_step_forward)
        tb.addAction(self.act_step_end)
        self.speed = QSlider(Qt.Orientation.Horizontal)
        self.speed.setObjectName("stepSpeed")
        self.speed.setRange(1, SPEED_STEPS)  # slow (4 s a step) .. fast (20 steps a second)
        self.speed.setValue(speed_position(self.step.interval))
        self.speed.setFixedWidth(56)  # 64 until the step faces gained their bar (|◀ ▶|)
        self.speed.valueChanged.connect(self._on_speed)
        self._on_speed(self.speed.value())
        tb.addWidget(self.speed)
        self.step_label = QLabel()
        self.step_label.setObjectName("stepLabel")
        self.step_label.setMinimumWidth(56)
        tb.addWidget(self.step_label)
        # No separators: at 720 px (an 800x600 screen) each one cost ~46 px and pushed Descend
        # into the overflow. The step label's width already sets the step group apart.
        tb.addAction(self.act_check)
        tb.addAction(self.act_forward)
        self.forward_bar = ForwardModeBar(self.forward, self.window.controller, tb)
        tb.addWidget(self.forward_bar)
        tb.addAction(self.act_descent_dock)
        self.window.add_toolbar(tb)
        self.toolbar = tb

    def _make_menus(self):
        w = self.window
        w.add_learn_action(self.act_step_mode)
        w.add_learn_action(self.act_step_forward_pass)
        for act in (self.act_step_forward, self.act_step_into, self.act_step_out, self.act_step_back,
                    self.act_play, self.act_step_start, self.act_step_end, self.act_step_exit):
            w.add_learn_action(act)
        w.add_learn_action(self.act_check, new_section=True)
        w.add_learn_action(self.act_forward)
        w.add_learn_action(self.act_chain_dock, new_section=True)
        w.add_learn_action(self.act_descent_dock)
        self.learn_menu = w.learn_menu

        w.add_menu_item("file", self.act_import, after=w.examples_menu.menuAction())
        export = QMenu("Export &Code", w)
        export.addActions([self.exports.act_python, self.exports.act_pytorch])
        self.export_menu = export
        w.add_menu_item("file", export, after=w.act_export_svg)
        w.add_menu_item("file", self.animations.act_export, after=w.act_export_svg)
        w.add_menu_item("edit", self.exports.act_copy_python, after=w.act_copy)
        w.add_menu_item("help", self.act_examples, first=True)

    def _make_status(self):
        self.forward_label = QLabel()
        self.forward_label.setObjectName("forwardModeLabel")
        self.forward_label.setToolTip("Forward mode's tangent of the output next to reverse mode's gradient")
        self.window.statusBar().addPermanentWidget(self.forward_label)
        self.forward_label.hide()

    # ---------------------------------------------------------------- step mode

    def _toggle_step(self, on: bool):
        if on != self.step.active and not self.step.set_active(on):
            self.act_step_mode.setChecked(False)

    def _on_speed(self, position: int):
        ms = speed_interval(position)
        self.step.set_interval(ms)
        self.speed.setToolTip(f"Playback speed: {ms / 1000:.2g} s per step (left slow, right fast)")

    def _start_forward(self):
        if self.step.start_forward():
            self._on_step_active(True)

    def _step_forward(self):
        if not self.step.active:
            self.act_step_mode.setChecked(True)  # F10 outside step mode starts it
            return
        self.step.forward()

    def _step_into(self):
        if not self.step.active:
            self.act_step_mode.setChecked(True)  # F11 outside step mode starts it, as F10 does
            return
        self.step.step_into()

    def _on_step_active(self, on: bool):
        self.act_step_mode.blockSignals(True)
        self.act_step_mode.setChecked(on)
        self.act_step_mode.blockSignals(False)
        for act in (self.act_step_back, self.act_step_start, self.act_step_end, self.act_step_exit,
                    self.act_step_out):
            act.setEnabled(on)
        self._update_step_label()

    def _on_playing(self, playing: bool):
        self.act_play.setText("&Pause" if playing else "&Play")
        self.act_play.setIconText("Pause" if playing else "Play")

    def _update_step_label(self):
        s = self.step
        if s.active and s.phase == FORWARD:
            self.step_label.setText(f" fwd {s.forward_k}/{s.forward_total} ")
        else:
            self.step_label.setText(f" {s.k}/{s.total} " if s.active else "")
        self.step_label.setToolTip(s.describe())

    # ---------------------------------------------------------------- check, forward mode

    def run_check(self) -> str:
        text = self.check.run()
        self._show_check_on(bool(self.check.marks))
        return text

    def _toggle_check(self, on: bool):
        if on:
            self.run_check()
        else:
            self.check.clear(quiet=True)
            self.say("Gradient check marks removed")

    def _show_check_on(self, on: bool):
        self.act_check.blockSignals(True)
        self.act_check.setChecked(on)
        self.act_check.blockSignals(False)

    def _on_check_cleared(self):
        self._show_check_on(False)
        self.say("Gradient check marks removed: the graph changed")

    def _toggle_forward(self, on: bool):
        if not on:
            self.forward.stop()
            return
        node = self._forward_input()
        bar = self.forward_bar  # an array's element chosen in the bar: forward mode along it
        element = bar.current_element() if node is not None and node == bar.current() else None
        if node is None or not self.forward.set_input(node, element):
            if node is None:
                self.say("Forward mode needs a number node to differentiate with respect to")
            self.act_forward.blockSignals(True)
            self.act_forward.setChecked(False)
            self.act_forward.blockSignals(False)

    def _forward_input(self):
        g = self.window.controller.graph
        sel = self.window.scene.selected_node_ids()
        if len(sel) == 1 and sel[0] in g.nx and g.op(sel[0]) == NUMBER:
            return sel[0]
        return self.forward_bar.current()

    def _forward_message(self, text: str):
        if self.forward.active:
            # The permanent label carries the comparison while forward mode is on; saying it in
            # the status message as well printed it twice, side by side.
            # At most a third of the status bar, elided (the whole line is its tooltip): at full
            # length it squeezed the check's verdict beside it to "…central difference eve".
            room = max(160, self.window.statusBar().width() // 3)
            fm = self.forward_label.fontMetrics()
            self.forward_label.setMaximumWidth(room)
            self.forward_label.setText(fm.elidedText(text, Qt.TextElideMode.ElideRight, room - 8))
            self.forward_label.setToolTip(text)
            sb = self.window.statusBar()
            if text and text in sb.currentMessage():
                sb.clearMessage()
        else:
            self.say(text)

    def _on_forward_active(self, on: bool):
        self.act_forward.blockSignals(True)
        self.act_forward.setChecked(on)
        self.act_forward.blockSignals(False)
        self.forward_label.setVisible(on)
        if not on:
            self.forward_label.setText("")
        # the message beside it now has less room (laid out first, then cut to fit)
        QTimer.singleShot(0, self.window, self.window.refit_status)
        self.forward_bar.refill()

    # ---------------------------------------------------------------- dialogs

    def open_import_dialog(self, source: str = "", inputs: str = "") -> ImportDialog:
        """Show the import dialog (window-modal, not blocking); OK applies it."""
        dlg = ImportDialog(self.window, source, inputs)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.finished.connect(lambda result, d=dlg: self._import_finished(d, result))
        self.import_dialog = dlg
        dlg.open()
        return dlg

    def _import_finished(self, dlg: ImportDialog, result: int):
        self.import_dialog = None
        if result != QDialog.DialogCode.Accepted or dlg.graph is None:
            return
        g = dlg.graph
        if apply_import(self.window, g, dlg.replace):
            self.say(f"Imported a program: {len(g)} nodes")

    def open_gallery(self) -> GalleryDialog:
        """Show the examples gallery (window-modal, not blocking); choosing one opens it."""
        dlg = GalleryDialog(self.window)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.finished.connect(lambda result, d=dlg: self._gallery_finished(d, result))
        self.gallery_dialog = dlg
        dlg.open()
        return dlg

    def _gallery_finished(self, dlg: GalleryDialog, result: int):
        self.gallery_dialog = None
        if result == QDialog.DialogCode.Accepted and dlg.chosen is not None:
            open_example(self.window, dlg.chosen)


__all__ = ["Experiment", "install"]

