"""Learning from data in the window (issue 15's GUI): the Train dock, the Data dock, the
Network dock (units and per-weight wires), pictures over the input plane on the canvas's
nodes, Learn ▸ New Network… and File ▸ Import CSV Data…; ``install(window)`` adds them
through the window's public extension points and keeps them as ``window.training``.

Shortcuts: Ctrl+6 / Ctrl+7 / Ctrl+8 the Train, Data and Network docks, Ctrl+Shift+P play or
pause, Ctrl+Shift+T one step, Ctrl+Shift+R reset, Ctrl+Shift+N new network.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDialog

from engine import GraphError
from gui.learn.training.data_view import DataDock
from gui.learn.training.network_view import NetworkDock
from gui.learn.training.node_pictures import NodePictures
from gui.learn.training.session import TrainingSession, TrainSettings
from gui.learn.training.train_dock import TrainDock


class Training(QObject):
    """Everything :func:`install` adds: ``session``, ``train_dock``, ``data_dock``,
    ``network_dock``, ``pictures`` and the actions ``act_*``."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        w = window
        self.session = TrainingSession(w.controller, w.scene, self)
        self.session.message.connect(lambda t: w.show_message(t, 10000))
        self.pictures = NodePictures(w.scene, self.session, self)
        self.train_dock = TrainDock(self.session, w)
        self.data_dock = DataDock(w.controller, self.session, w, w)
        self.network_dock = NetworkDock(w.controller, self.session, w)
        self.network_dialog = None
        anchor = w.experiment.explain_dock if w.experiment is not None else w.inspector
        # Train on the right beside the chain rule; the square data plane under the palette on
        # the left, where it is seen together with the curves; the Network view beside it.
        w.add_dock(self.train_dock, tab_with=anchor, visible=False)
        w.add_dock(self.data_dock, below=w.palette, visible=False)
        w.add_dock(self.network_dock, tab_with=self.data_dock, visible=False)
        self._make_actions()

    def _action(self, text, slot, shortcut=None, tip="", checkable=False) -> QAction:
        act = QAction(text, self.window)
        if shortcut:
            act.setShortcut(QKeySequence(shortcut))
        shown = act.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        plain = tip or text.replace("&", "").rstrip("…")
        act.setToolTip(f"{plain}  ({shown})" if shown else plain)
        act.setStatusTip(plain)
        act.setCheckable(checkable)
        if slot is not None:
            (act.toggled if checkable else act.triggered).connect(
                slot if checkable else (lambda _c=False: slot()))
        return act

    def _make_actions(self):
        w = self.window
        a = self._action
        self.act_new_network = a("New &Network…", self.open_network_dialog, "Ctrl+Shift+N",
                                 "An MLP for a dataset: layers, activations, feature transforms; "
                                 "one undo step")
        self.act_play = a("&Play / Pause Training", self.session.toggle, "Ctrl+Shift+P",
                          "Train the document on its data, or pause (the run becomes one undo step)")
        self.act_step = a("Training S&tep", self.session.step, "Ctrl+Shift+T", "One training step")
        self.act_reset = a("&Reset Training", self.session.reset, "Ctrl+Shift+R",
                           "Back to the same initial weights")
        self.act_pictures = a("Pictures on Nodes", self.pictures.set_visible, None,
                              "A picture over the input plane on every node that depends on the input point",
                              checkable=True)
        self.act_pictures.setChecked(True)
        self.act_grad_pictures = a("Gradient Pictures", self.pictures.set_gradients, None,
                                   "Under each unit's picture, ∂L/∂unit over the input plane", checkable=True)
        self.act_grad_pictures.setChecked(True)
        self.act_import_csv = a("Import CSV &Data…", self.import_csv, None,
                                "Points from a CSV file into the dataset node")
        docks = ((self.train_dock, "&Train", "Ctrl+6",
                  "Train the document on its data: curves and time travel"),
                 (self.data_dock, "&Data", "Ctrl+7",
                  "The points over the input plane and the network's output"),
                 (self.network_dock, "Net&work", "Ctrl+8", "Units and per-weight wires of the network"))
        self.dock_actions = []
        for dock, text, key, tip in docks:
            t = dock.toggleViewAction()
            t.setText(text)
            t.setShortcut(QKeySequence(key))
            t.setStatusTip(tip)
            t.setToolTip(f"{tip}  ({key})")
            t.triggered.connect(lambda on, d=dock: on and d.raise_())
            self.dock_actions.append(t)
        w.add_learn_action(self.act_new_network, new_section=True)
        for t in self.dock_actions:
            w.add_learn_action(t)
        for act in (self.act_play, self.act_step, self.act_reset, self.act_pictures, self.act_grad_pictures):
            w.add_learn_action(act)
            w.addAction(act)
        w.add_menu_item("file", self.act_new_network, after=w.act_new)
        w.add_menu_item("file", self.act_import_csv, after=self.act_new_network)
        self.act_train_dock, self.act_data_dock, self.act_network_dock = self.dock_actions

    # ---------------------------------------------------------------- dialogs

    def show_docks(self) -> None:
        for d in (self.train_dock, self.data_dock, self.network_dock):
            d.show()
        self.data_dock.raise_()
        self.train_dock.raise_()
        self.train_dock.ensure_panel()
        QTimer.singleShot(0, self, self._give_docks_height)

    def _give_docks_height(self) -> None:
        """The curves and the plane want height: most of their columns (after the docks have
        been laid out, or the sizes are ignored)."""
        h = self.window.height()
        w = self.window
        docks, sizes = [self.train_dock, self.data_dock], [int(h * 0.62), int(h * 0.45)]
        inspector = w.inspector
        if inspector.isVisible() and not inspector.isFloating() and \
                w.dockWidgetArea(inspector) == w.dockWidgetArea(self.train_dock):
            docks.append(inspector)  # shares the Train dock's column: give it the smaller part
            sizes.append(int(h * 0.25))
        w.resizeDocks(docks, sizes, Qt.Orientation.Vertical)

    def open_network_dialog(self):
        from gui.learn.training.network_dialog import NetworkDialog

        dlg = NetworkDialog(self.window.document, self.window)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.finished.connect(lambda result, d=dlg: self._network_finished(d, result))
        self.network_dialog = dlg
        dlg.open()
        return dlg

    def _network_finished(self, dlg, result) -> None:
        self.network_dialog = None
        if result == QDialog.DialogCode.Accepted and dlg.graph is not None:
            self.use_network(dlg.graph, dlg.summary)

    def use_network(self, graph, summary: str) -> bool:
        from gui.learn.training.network_dialog import apply_network

        try:
            apply_network(self.window.controller, graph, f"New network: {summary}")
        except GraphError as e:
            self.window.show_message(f"Cannot build the network: {e}", 10000)
            return False
        self.session.settings = TrainSettings()
        if self.train_dock.panel is not None:
            self.train_dock.panel.load_settings(self.session.settings)
        self.window.view.fit_all()
        self.show_docks()
        self.session.ensure()
        self.window.show_message(f"Built a {summary}: Play (Ctrl+Shift+P) trains it", 10000)
        return True

    def import_csv(self):
        self.data_dock.show()
        self.data_dock.raise_()
        return self.data_dock.panel.import_csv()

    def example_opened(self, train: dict | None) -> None:
        """An example with a gallery run (``train``: the Trainer's settings and how long to
        run): the docks open with those settings, ready to Play."""
        if not train:
            return
        s = TrainSettings()
        s.optimizer = train.get("optimizer", s.optimizer)
        s.lr = float(train.get("lr", s.lr))
        s.batch = train.get("batch")
        s.weight_decay = float(train.get("weight_decay", 0.0))
        if "momentum" in train:
            s.momentum = float(train["momentum"])
        s.limit_kind, s.limit = "steps", int(train.get("steps", 500))
        s.until_loss = train.get("until_loss")
        s.until_accuracy = train.get("until_accuracy")
        self.session.settings = s
        g = self.window.document
        over = {}
        try:
            over["params"] = [g.resolve(p) for p in train.get("params", [])] or None
            if train.get("accuracy"):
                over["accuracy"] = tuple(g.resolve(r) for r in train["accuracy"])
        except GraphError:
            over = {}
        self.session.overrides = {k: v for k, v in over.items() if v}
        self.show_docks()
        if self.train_dock.panel is not None:
            self.train_dock.panel.load_settings(s)
        self.session.ensure()


def install(window) -> Training:
    """Add the training tools to ``window``; returns them (also ``window.training``)."""
    if window.training is not None:
        return window.training
    t = Training(window)
    window.training = t
    return t


__all__ = ["Training", "install"]
