"""The Train dock: the optimizer and its settings, Play / Pause / Step / Reset / Re-initialise,
live curves (train and test loss, accuracy, each layer's gradient norm with vanishing and
exploding badges), the epoch counter and steps per second, and the time-travel scrubber
with Keep and the memory the run's history takes.

Curves are pyqtgraph's (``PlotDataItem.setData`` on numpy arrays: redrawing a 10,000-step
curve at 30 frames a second costs about a millisecond; the hand-written
``gui.panels.plot.PlotWidget`` repaints every point through QPainterPath each time and has no
log axis, second curve or marker line). pyqtgraph is imported when the dock is first shown,
so windows that never train do not pay for it.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QSize, Qt, QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDockWidget,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSlider,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from engine.core.gradsize import rms_of_norm
from engine.learn.health import EXPLODING, VANISHING, read
from gui import style
from gui.learn.training.session import LIMITS, OPTIMIZERS, TrainingSession, TrainSettings

PREVIOUS_PENS = ("#8a93a3", "#6f7888", "#5a6270")
CURVES_HZ = 10
PER_CLASS_EVERY = 0.25  # seconds between per-class accuracy evaluations while playing


_PLOT = None


def _plot(pg, height: int):
    """A pyqtgraph plot that asks for ``height`` pixels and takes what the dock gives: a
    scroll area sizes wrapped labels' pages by their children's preferred heights, and a
    plot's own preference (its scene's size) made the Curves tab taller than the dock."""
    global _PLOT
    if _PLOT is None:
        class SmallPlot(pg.PlotWidget):
            def sizeHint(self):  # noqa: N802
                return QSize(200, self.minimumHeight())

        _PLOT = SmallPlot
    w = _PLOT()
    w.setMinimumHeight(height)
    return w


def _scrolling(widget: QWidget) -> QScrollArea:
    scroll = QScrollArea()
    scroll.setWidgetResizable(True)
    scroll.setWidget(widget)
    scroll.setFrameShape(QScrollArea.Shape.NoFrame)
    return scroll


def _spin(lo, hi, value, decimals=5, step=0.01, tip="") -> QDoubleSpinBox:
    s = QDoubleSpinBox()
    s.setDecimals(decimals)
    s.setRange(lo, hi)
    s.setSingleStep(step)
    s.setValue(value)
    s.setToolTip(tip)
    s.setKeyboardTracking(False)
    return s


class TrainPanel(QWidget):
    """The dock's contents (see the module docstring); ``session`` runs the training."""

    def __init__(self, session: TrainingSession, parent=None):
        super().__init__(parent)
        import pyqtgraph as pg

        self.pg = pg
        self.session = session
        self.setObjectName("trainPanel")
        self._last_per_class = 0.0
        self._last_curves = 0.0
        self._updating = False

        # ---------------------------------------------------------------- buttons
        self.play_button = QPushButton("Play")
        self.play_button.setObjectName("trainPlay")
        self.play_button.setToolTip("Train, or pause: the weights reached become one undo step "
                                    "(Ctrl+Shift+P)")
        self.play_button.clicked.connect(session.toggle)
        self.step_button = QPushButton("Step")
        self.step_button.setObjectName("trainStep")
        self.step_button.setToolTip("One training step (one batch), one undo step  (Ctrl+Shift+T)")
        self.step_button.clicked.connect(session.step)
        self.reset_button = QPushButton("Reset")
        self.reset_button.setObjectName("trainReset")
        self.reset_button.setToolTip("Back to the same initial weights, step 0  (Ctrl+Shift+R)")
        self.reset_button.clicked.connect(session.reset)
        self.reinit_button = QPushButton("Re-initialise")
        self.reinit_button.setObjectName("trainReinit")
        self.reinit_button.setToolTip("New initial weights drawn from the seed (biases 0, matrices "
                                      "Glorot-uniform), then step 0")
        self.reinit_seed = QSpinBox()
        self.reinit_seed.setRange(0, 2**31 - 1)
        self.reinit_seed.setValue(1)
        self.reinit_seed.setToolTip("The seed new initial weights are drawn from")
        self.reinit_button.clicked.connect(lambda: session.reinitialise(self.reinit_seed.value()))
        buttons = QGridLayout()
        buttons.addWidget(self.play_button, 0, 0)
        buttons.addWidget(self.step_button, 0, 1)
        buttons.addWidget(self.reset_button, 0, 2)
        buttons.addWidget(self.reinit_button, 1, 0, 1, 2)
        buttons.addWidget(self.reinit_seed, 1, 2)

        self.counter = QLabel("no run yet")
        self.counter.setObjectName("trainCounter")
        self.counter.setWordWrap(True)
        self.counter.setToolTip("Step, epoch, the last loss and accuracy, and training speed")

        # ---------------------------------------------------------------- settings
        self.optimizer = QComboBox()
        self.optimizer.setObjectName("trainOptimizer")
        self.optimizer.addItems(["SGD", "SGD + momentum", "Adam", "AdamW"])
        self.optimizer.setToolTip("torch.optim's update rules exactly")
        self.lr = _spin(1e-6, 100.0, 0.03, 6, 0.01, "Learning rate")
        self.lr.setObjectName("trainLearningRate")
        self.momentum = _spin(0.0, 0.9999, 0.9, 4, 0.05, "Momentum (SGD + momentum)")
        self.nesterov = QCheckBox("Nesterov")
        self.nesterov.setToolTip("Nesterov momentum (SGD + momentum)")
        self.weight_decay = _spin(0.0, 10.0, 0.0, 6, 0.0001, "Weight decay: L2 (AdamW: decoupled)")
        self.l1 = _spin(0.0, 10.0, 0.0, 6, 0.0001, "L1: adds l1·sign(w) to each gradient")
        self.batch = QSpinBox()
        self.batch.setObjectName("trainBatch")
        self.batch.setRange(0, 1_000_000)
        self.batch.setSpecialValueText("full batch")
        self.batch.setToolTip("Points per step; 'full batch' (0) uses every training point each step")
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setToolTip("Seed of the mini-batch order (epoch e shuffles with seed + e)")
        self.limit_kind = QComboBox()
        self.limit_kind.addItems(["epochs", "steps", "until stopped"])
        self.limit_kind.setToolTip("How long one Play runs")
        self.limit = QSpinBox()
        self.limit.setObjectName("trainLimit")
        self.limit.setRange(1, 1_000_000)
        self.limit.setValue(500)
        self.until_loss_on = QCheckBox("stop at loss ≤")
        self.until_loss = _spin(0.0, 1e6, 0.01, 6, 0.01, "Stop when a step's loss is at most this")
        self.until_acc_on = QCheckBox("stop at accuracy ≥")
        self.until_acc = _spin(0.0, 1.0, 1.0, 3, 0.01, "Stop when a step's accuracy is at least this")
        form = QFormLayout()
        form.addRow("Optimizer", self.optimizer)
        form.addRow("Learning rate", self.lr)
        mom = QHBoxLayout()
        mom.addWidget(self.momentum, 1)
        mom.addWidget(self.nesterov)
        form.addRow("Momentum", mom)
        form.addRow("Weight decay", self.weight_decay)
        form.addRow("L1", self.l1)
        form.addRow("Batch", self.batch)
        form.addRow("Batch seed", self.seed)
        run = QHBoxLayout()
        run.addWidget(self.limit, 1)
        run.addWidget(self.limit_kind, 1)
        form.addRow("Each Play", run)
        for on, spin in ((self.until_loss_on, self.until_loss), (self.until_acc_on, self.until_acc)):
            row = QHBoxLayout()
            row.addWidget(on)
            row.addWidget(spin, 1)
            form.addRow(row)
        for w in (self.optimizer, self.limit_kind):
            w.currentIndexChanged.connect(self._settings_edited)
        for w in (self.lr, self.momentum, self.weight_decay, self.l1, self.until_loss, self.until_acc):
            w.valueChanged.connect(self._settings_edited)
        for w in (self.batch, self.seed, self.limit):
            w.valueChanged.connect(self._settings_edited)
        for w in (self.nesterov, self.until_loss_on, self.until_acc_on):
            w.toggled.connect(self._settings_edited)

        # ---------------------------------------------------------------- curves
        pg.setConfigOptions(antialias=False, background=style.BACKGROUND, foreground=style.TEXT_DIM)
        self.loss_plot = _plot(pg, 60)
        self.loss_plot.setObjectName("trainLossPlot")
        self.loss_plot.addLegend(offset=(-4, 4), labelTextSize="7pt")
        self.loss_plot.setLabel("left", "loss")
        # One-pixel pens: the raster engine draws them directly; a wider pen goes through
        # the path stroker and cost as much as the rest of the plot together.
        self.train_curve = self.loss_plot.plot(pen=pg.mkPen("#4aa3ff", width=1), name="train")
        # Test curves are dashed lines, not symbols: a symbol per epoch rebuilt the scatter
        # item every frame (a tenth of the whole frame).
        self.test_curve = self.loss_plot.plot(pen=pg.mkPen("#ffd166", width=1, style=Qt.PenStyle.DashLine),
                                              name="test")
        self.previous_curves = []
        self.acc_plot = _plot(pg, 40)
        self.acc_plot.setObjectName("trainAccuracyPlot")
        self.acc_plot.setYRange(0, 1.02)
        self.acc_plot.setLabel("left", "accuracy")
        self.acc_curve = self.acc_plot.plot(pen=pg.mkPen("#7ed491", width=1))
        dashed = pg.mkPen("#ffd166", width=1, style=Qt.PenStyle.DashLine)
        self.test_acc_curve = self.acc_plot.plot(pen=dashed)
        self.per_class = QLabel("")
        self.per_class.setObjectName("trainPerClass")
        self.per_class.setWordWrap(True)
        self.per_class.setToolTip("Accuracy on the whole training split, class by class")
        self.norm_plot = _plot(pg, 45)
        self.norm_plot.setObjectName("trainNormPlot")
        self.norm_plot.setLogMode(y=True)
        self.norm_plot.setLabel("left", "‖∇‖ per layer")
        self.norm_plot.addLegend(offset=(-4, 4), labelTextSize="7pt")
        self.norm_curves = []
        self.health = QLabel("")
        self.health.setObjectName("trainHealth")
        self.health.setWordWrap(True)
        self.health.setToolTip("The norm of the gradient entering each layer's parameters at the step shown "
                               "(the curves above); its root mean square per number is judged as View ▸ "
                               f"Gradient Health judges every gradient: below {VANISHING:g} it vanishes, "
                               f"above {EXPLODING:g} it explodes")
        self.markers = []
        for plot in (self.loss_plot, self.acc_plot, self.norm_plot):
            line = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen("#c792ea", width=1))
            line.setVisible(False)
            plot.addItem(line)
            self.markers.append(line)
        for plot in (self.loss_plot, self.acc_plot, self.norm_plot):
            plot.getAxis("left").enableAutoSIPrefix(False)  # 0.7, not "700" under an "m" unit

        self.acc_plot.setXLink(self.loss_plot)
        self.norm_plot.setXLink(self.loss_plot)

        # ---------------------------------------------------------------- time travel
        self.scrubber = QSlider(Qt.Orientation.Horizontal)
        self.scrubber.setObjectName("trainScrubber")
        self.scrubber.setRange(0, 0)
        self.scrubber.setToolTip("Drag back to any step: every number, picture and curve shows it "
                                 "(a preview until Keep)")
        self.scrubber.valueChanged.connect(self._scrubbed)
        self.keep_button = QPushButton("Keep")
        self.keep_button.setObjectName("trainKeep")
        self.keep_button.setToolTip("Branch the run at the step shown: its weights become the document's "
                                    "(one undo step), the later steps stay on the plot to compare")
        self.keep_button.clicked.connect(session.keep)
        self.scrub_label = QLabel("")
        self.scrub_label.setObjectName("trainScrubLabel")
        self.memory = QLabel("")
        self.memory.setObjectName("trainMemory")
        self.memory.setWordWrap(True)
        self.memory.setStyleSheet(f"color: {style.TEXT_DIM.name()}")
        scrub = QHBoxLayout()
        scrub.addWidget(self.scrubber, 1)
        scrub.addWidget(self.scrub_label)
        scrub.addWidget(self.keep_button)

        self.message = QLabel("")
        self.message.setObjectName("trainMessage")
        self.message.setWordWrap(True)

        # The controls stay in view at any dock height (the buttons, the counter, the
        # scrubber, the last message); below them the curves and the settings are two tabs
        # that scroll only when the dock is shorter than their least heights.
        curves = QWidget()
        lay = QVBoxLayout(curves)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.loss_plot, 2)
        lay.addWidget(self.acc_plot, 1)
        lay.addWidget(self.per_class)
        lay.addWidget(self.norm_plot, 1)
        lay.addWidget(self.health)
        lay.addWidget(self.memory)
        settings = QWidget()
        settings.setLayout(form)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("trainTabs")
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(_scrolling(curves), "Curves")
        self.tabs.addTab(_scrolling(settings), "Settings")
        self.tabs.setTabToolTip(0, "Loss, accuracy and each layer's gradient norm over the steps")
        self.tabs.setTabToolTip(1, "The optimizer and how long a Play runs (a change starts a new run "
                                   "from the weights now)")
        outer = QVBoxLayout(self)
        outer.setContentsMargins(6, 6, 6, 6)
        outer.addLayout(buttons)
        outer.addWidget(self.counter)
        outer.addLayout(scrub)
        outer.addWidget(self.message)
        outer.addWidget(self.tabs, 1)

        session.built.connect(self.refresh_all)
        session.progressed.connect(self._progressed)
        session.shown.connect(self._on_shown)
        session.playingChanged.connect(self._on_playing)
        session.message.connect(self.message.setText)
        self.load_settings(session.settings)
        self.refresh_all()

    # ---------------------------------------------------------------- settings

    def load_settings(self, s: TrainSettings) -> None:
        self._updating = True
        try:
            self.optimizer.setCurrentIndex(OPTIMIZERS.index(s.optimizer))
            self.lr.setValue(s.lr)
            self.momentum.setValue(s.momentum)
            self.nesterov.setChecked(s.nesterov)
            self.weight_decay.setValue(s.weight_decay)
            self.l1.setValue(s.l1)
            self.batch.setValue(s.batch or 0)
            self.seed.setValue(s.seed)
            self.limit_kind.setCurrentIndex(LIMITS.index(s.limit_kind))
            self.limit.setValue(s.limit)
            self.until_loss_on.setChecked(s.until_loss is not None)
            if s.until_loss is not None:
                self.until_loss.setValue(s.until_loss)
            self.until_acc_on.setChecked(s.until_accuracy is not None)
            if s.until_accuracy is not None:
                self.until_acc.setValue(s.until_accuracy)
        finally:
            self._updating = False
        self._enable_settings()

    def read_settings(self) -> TrainSettings:
        return TrainSettings(
            optimizer=OPTIMIZERS[self.optimizer.currentIndex()],
            lr=self.lr.value(),
            momentum=self.momentum.value(),
            nesterov=self.nesterov.isChecked(),
            weight_decay=self.weight_decay.value(),
            l1=self.l1.value(),
            batch=self.batch.value() or None,
            seed=self.seed.value(),
            limit_kind=LIMITS[self.limit_kind.currentIndex()],
            limit=self.limit.value(),
            until_loss=self.until_loss.value() if self.until_loss_on.isChecked() else None,
            until_accuracy=self.until_acc.value() if self.until_acc_on.isChecked() else None,
        )

    def _enable_settings(self) -> None:
        opt = OPTIMIZERS[self.optimizer.currentIndex()]
        self.momentum.setEnabled(opt == "momentum")
        self.nesterov.setEnabled(opt == "momentum")
        self.limit.setEnabled(self.limit_kind.currentIndex() != 2)
        self.until_loss.setEnabled(self.until_loss_on.isChecked())
        self.until_acc.setEnabled(self.until_acc_on.isChecked())

    def _settings_edited(self, *_):
        self._enable_settings()
        if self._updating:
            return
        new = self.read_settings()
        old = self.session.settings
        fixed = ("optimizer", "lr", "momentum", "nesterov", "weight_decay", "l1", "batch", "seed")
        if any(getattr(new, k) != getattr(old, k) for k in fixed):
            if self.session.playing:
                self.session.pause()
            self.session.set_settings(new)
            if self.session.trainer is not None:
                self.message.setText("New settings: a new run starts from the weights now "
                                     "(the earlier run stays on the plot)")
        else:
            self.session.settings = new  # how long to run: no new trainer needed

    # ---------------------------------------------------------------- showing

    def _on_playing(self, on: bool) -> None:
        self.play_button.setText("Pause" if on else "Play")
        self.refresh_curves()

    def _progressed(self) -> None:
        # While playing the curves redraw at most CURVES_HZ times a second (each redraw costs
        # a few ms: the canvas's frames come first); a single step redraws at once.
        now = _now()
        if self.session.playing and now - self._last_curves < 1.0 / CURVES_HZ:
            return
        self._last_curves = now
        self.refresh_curves()

    def refresh_all(self) -> None:
        pg = self.pg
        self._curves_key = None
        self._ranges: dict = {}
        self._downsample = 0
        for c in self.previous_curves:
            self.loss_plot.removeItem(c)
        self.previous_curves = []
        for k, (label, hist) in enumerate(self.session.previous):
            pen = pg.mkPen(PREVIOUS_PENS[k % len(PREVIOUS_PENS)], width=1, style=Qt.PenStyle.DashLine)
            c = self.loss_plot.plot(hist.steps, _finite(hist.loss), pen=pen, name=label)
            c.setZValue(-1)
            self.previous_curves.append(c)
        for c in self.norm_curves:
            self.norm_plot.removeItem(c)
        self.norm_curves = []
        t = self.session.trainer
        if t is not None:
            for k, name in enumerate(t.layers):
                hue = (k * 0.17 + 0.55) % 1.0
                pen = pg.mkPen(pg.hsvColor(hue, 0.6, 1.0), width=1)
                self.norm_curves.append(self.norm_plot.plot(pen=pen, name=name))
        self.refresh_curves()

    def refresh_curves(self) -> None:
        s = self.session
        t = s.trainer
        playing = s.playing
        for w in (self.step_button, self.reset_button, self.reinit_button):
            w.setEnabled(True)
        if t is None:
            self._curves_key = None
            for c in (self.train_curve, self.test_curve, self.acc_curve, self.test_acc_curve):
                c.setData([], [])
            self.counter.setText("no run yet: Play trains the document's parameters on its data")
            self.scrubber.blockSignals(True)
            self.scrubber.setRange(0, 0)
            self.scrubber.blockSignals(False)
            self.memory.setText("")
            self.keep_button.setEnabled(False)
            return
        h = t.history
        # Once per new record, not per call: a paused run or a preview redraws nothing here.
        last = h[-1] if len(h) else None
        key = self._curves_key
        if key is None or key[0] is not h or key[1] != len(h) or key[2] is not last:
            key = (h, len(h), last)  # the history itself, so its id is never another's
            self._curves_key = key
            self._set_curves(t, h)
        self.scrubber.blockSignals(True)
        self.scrubber.setRange(0, t.t)
        if s.shown_step is None:
            self.scrubber.setValue(t.t)
        self.scrubber.blockSignals(False)
        self._write_counter()
        self._write_health()
        self.memory.setText(s.memory_text)
        if not playing or _now() - self._last_per_class > PER_CLASS_EVERY:
            self._write_per_class()

    def _set_curves(self, t, h) -> None:
        steps = h.steps.astype(np.float64)
        loss = h.loss
        # Ranges move in nice steps (1, 2, 5 x 10^k), not with every new point, so the axes
        # redraw their ticks now and then, not every frame; about a point per pixel is drawn
        # (each pixel's min and max: spikes stay).
        n = len(steps)
        ds = max(1, n // 1500)
        if ds != self._downsample:
            self._downsample = ds
            for plot in (self.loss_plot, self.acc_plot, self.norm_plot):
                plot.setDownsampling(ds=ds, auto=False, mode="peak")
        xmax = _nice(max(n, 10) * 1.05)
        if xmax != self._ranges.get("x"):
            self._ranges["x"] = xmax
            self.loss_plot.setXRange(0, xmax, padding=0)
        seen = [loss] + [hist.loss for _label, hist in self.session.previous]
        self._set_y(self.loss_plot, "loss", seen, log=False)
        _set(self.train_curve, steps, loss)
        ts, test_loss, test_acc = h.test_columns()
        _set(self.test_curve, ts, test_loss)
        ok = np.isfinite(test_acc)
        _set(self.test_acc_curve, ts[ok], test_acc[ok])
        acc = h.accuracy
        ok = np.isfinite(acc)
        self.acc_plot.setVisible(bool(ok.any()) or t.accuracy_nodes is not None)
        _set(self.acc_curve, steps[ok], acc[ok])
        norms = h.grad_norms
        self._set_y(self.norm_plot, "norm", [_positive(norms)], log=True)
        for k, c in enumerate(self.norm_curves):
            if norms.shape[1] > k:
                _set(c, steps, _positive(norms[:, k]))

    def _set_y(self, plot, key: str, arrays, log: bool) -> None:
        vals = [a[np.isfinite(a)].ravel() for a in arrays if len(a)]
        vals = [v for v in vals if len(v)]
        if not vals:
            return
        lo, hi = min(float(v.min()) for v in vals), max(float(v.max()) for v in vals)
        if log:  # whole decades (the axis is log10)
            span = (math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + (lo == hi))
        else:
            top = _nice(hi * 1.05) if hi > 0 else 0.0
            bottom = -_nice(-lo * 1.05) if lo < 0 else 0.0
            span = (bottom, top if top > bottom else bottom + 1.0)
        if span != self._ranges.get(key):
            self._ranges[key] = span
            plot.setYRange(*span, padding=0)

    def _write_counter(self) -> None:
        s = self.session
        t = s.trainer
        last = t.history[-1] if len(t.history) else None
        parts = [f"step {t.t:,}", f"epoch {t.epoch:,}"]
        if last is not None:
            parts.append(f"loss {style.format_number(last.loss)}")
            if last.accuracy is not None:
                parts.append(f"accuracy {100 * last.accuracy:.1f}%")
            if t.history.test:
                parts.append(f"test loss {style.format_number(t.history.test[-1][1])}")
        if s.playing:
            parts.append(f"{s.steps_per_second:,.0f} steps/s")
        self.counter.setText(" · ".join(parts))

    def _write_health(self) -> None:
        t = self.session.trainer
        k = self.session.shown_step
        h = t.history
        if not len(h):
            self.health.setText("")
            return
        rec = h[(k if k else len(h)) - 1] if k != 0 else None
        if rec is None:
            self.health.setText("step 0: no gradient yet")
            return
        bits = []
        for name, norm, size in zip(t.layers, rec.grad_norms, t.layer_sizes):
            r = read(rms_of_norm(norm, size))  # judged as View ▸ Gradient Health judges: by RMS
            if r.vanishing:
                tag = f"<b style='color:{style.PROBLEM.name()}'>vanishing</b>"
            elif r.exploding:
                tag = f"<b style='color:{style.PROBLEM.name()}'>exploding</b>"
            elif r.nonfinite:
                tag = f"<b style='color:{style.PROBLEM.name()}'>not finite</b>"
            else:
                tag = "ok"
            bits.append(f"{name}: {norm:.2e} {tag}")
        self.health.setText("‖∇‖ entering each layer: " + " · ".join(bits))

    def _write_per_class(self) -> None:
        s = self.session
        t = s.trainer
        self._last_per_class = _now()
        if t is None or t.accuracy_nodes is None:
            self.per_class.setText("")
            return
        try:
            ev = t.measure("train", step=s.shown_step)
        except (ValueError, ArithmeticError):
            return
        if ev.per_class is None:
            self.per_class.setText("")
            return
        cls = " · ".join(f"class {k}: {100 * a:.0f}%" for k, a in enumerate(ev.per_class))
        self.per_class.setText(f"training accuracy per class: {cls}")

    def _on_shown(self, step: int) -> None:
        s = self.session
        t = s.trainer
        previewing = t is not None and s.shown_step is not None and s.shown_step < t.t
        for m in self.markers:
            m.setVisible(previewing)
            if previewing:
                m.setValue(step)
        self.keep_button.setEnabled(previewing)
        self.scrub_label.setText(f"step {step:,}" + (" (preview)" if previewing else ""))
        if previewing:
            self.scrubber.blockSignals(True)
            self.scrubber.setValue(step)
            self.scrubber.blockSignals(False)
            self._write_health()
            self._write_per_class()

    def _scrubbed(self, value: int) -> None:
        self.session.show_step(value)


def _nice(v: float) -> float:
    """The smallest of 1, 2, 5 x 10^k at least ``v`` (> 0)."""
    if not math.isfinite(v) or v <= 0:
        return 1.0
    k = math.floor(math.log10(v))
    for m in (1, 2, 5, 10):
        if m * 10.0**k >= v * (1 - 1e-12):
            return m * 10.0**k
    return 10.0 ** (k + 1)


def _set(curve, x, y) -> None:
    """New data for a curve; non-finite values are gaps, and an all-finite curve skips
    pyqtgraph's own finiteness pass."""
    y = np.asarray(y, dtype=float)
    finite = bool(np.isfinite(y).all())
    curve.setData(x, y if finite else np.where(np.isfinite(y), y, np.nan), skipFiniteCheck=finite)


def _positive(a) -> np.ndarray:
    """Values for a log axis: non-positive and non-finite ones become NaN (a gap)."""
    a = np.asarray(a, dtype=float)
    with np.errstate(invalid="ignore"):
        return np.where(np.isfinite(a) & (a > 0), a, np.nan)


def _finite(a) -> np.ndarray:
    a = np.asarray(a, dtype=float)
    return np.where(np.isfinite(a), a, np.nan)


def _now() -> float:
    import time

    return time.perf_counter()


class TrainDock(QDockWidget):
    """The Train dock; its panel (and pyqtgraph) is made the first time it is shown."""

    def __init__(self, session: TrainingSession, parent=None):
        super().__init__("Train", parent)
        self.setObjectName("trainDock")
        self.session = session
        self.panel: TrainPanel | None = None
        self.setWidget(QLabel("  Play trains the document's parameters on its data."))
        self.visibilityChanged.connect(lambda on: on and QTimer.singleShot(0, self.ensure_panel))

    def ensure_panel(self) -> TrainPanel:
        if self.panel is None:
            self.panel = TrainPanel(self.session, self)
            self.setWidget(self.panel)
        return self.panel


__all__ = ["TrainDock", "TrainPanel"]
