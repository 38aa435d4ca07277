"""The training run behind the Train dock, the data view and the pictures: one
:class:`engine.training.Trainer` over the open document, played a frame at a time.

The document is never edited while a run plays: the trainer works on its private copy, and
the canvas paints a *preview* (a copy of the document holding the trainer's weights, see
``GraphScene.set_preview``), so every number on every node moves as it trains. When the run
stops (Pause, its step limit or stop condition, a Step, Reset, Re-initialise, Keep) its
weights become one undo step (``controller.set_values``): undo restores the weights before it,
and the trainer goes back to the step the run started from.

Scrubbing to an earlier step previews it (canvas, pictures, curves' marker) until Keep, which
branches the run there (the steps after it stay on the plot as an earlier run to compare).

A run's settings are fixed per Trainer (``Trainer`` takes them once): changing one starts a
new Trainer from the current weights at the next Play, and the old run's curves stay on the
plot. Reset goes back to the weights the document had when training began (the same ones
every time); Re-initialise draws new ones from a seed as the network builder does.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from engine import GraphError
from engine.core import events as E
from engine.training import (
    DataError,
    PlanePictures,
    Trainer,
    TrainingError,
    TrainingStopped,
    dataset_of,
    find_dataset,
    training_setup,
)

FRAME_BUDGET = 0.012  # seconds of training per frame (then the pictures and numbers are drawn)
CANVAS_EVERY = 1 / 30  # the canvas numbers are repainted at most this often while playing
MAX_PREVIOUS = 3  # earlier runs kept for comparison on the plot
OPTIMIZERS = ("sgd", "momentum", "adam", "adamw")
LIMITS = ("epochs", "steps", "none")


@dataclass
class TrainSettings:
    """What the Train dock sets. ``batch`` None is full batch; ``limit`` counts ``limit_kind``
    (epochs or steps) per Play; ``until_loss`` / ``until_accuracy`` stop a run early."""

    optimizer: str = "adam"
    lr: float = 0.03
    momentum: float = 0.9
    nesterov: bool = False
    weight_decay: float = 0.0
    l1: float = 0.0
    batch: int | None = None
    seed: int = 0
    limit_kind: str = "epochs"
    limit: int = 500
    until_loss: float | None = None
    until_accuracy: float | None = None

    def trainer_options(self) -> dict:
        out = {"optimizer": self.optimizer, "lr": self.lr, "weight_decay": self.weight_decay,
               "l1": self.l1, "batch": self.batch, "seed": self.seed}
        if self.optimizer in ("sgd", "momentum"):
            out["momentum"] = self.momentum if self.optimizer == "momentum" else 0.0
            out["nesterov"] = self.nesterov and self.optimizer == "momentum"
        return out


class TrainingSession(QObject):
    """See the module docstring. Signals: ``built`` (a new trainer: curves and pictures start
    over), ``progressed`` (steps taken while playing, or one step), ``shown(step)`` (the step
    the canvas, pictures and marker show), ``playingChanged(bool)``, ``message(str)``."""

    built = Signal()
    progressed = Signal()
    shown = Signal(int)
    playingChanged = Signal(bool)
    message = Signal(str)
    framed = Signal(object)  # the Frame of the step shown (None: no pictures)

    def __init__(self, controller, scene, parent=None):
        super().__init__(parent)
        self.controller = controller
        self.scene = scene
        self.settings = TrainSettings()
        self.overrides: dict = {}  # an example's own params / accuracy (gallery "train")
        self.trainer: Trainer | None = None
        self.pictures: PlanePictures | None = None
        self.picture_note: str | None = None
        self.frame = None
        self.preview = None
        self.previous: list = []  # [(label, History)] earlier runs, oldest first
        self.shown_step: int | None = None  # None: the latest step
        self.playing = False
        self.steps_per_second = 0.0
        self.unit_size, self.output_size = 25, 100
        self.gradient_pictures = True
        self._data_nodes: list = []
        self.frame_times: dict = {}  # seconds per part of the last frame: train, pictures, canvas
        self._dirty = False
        self._committing = False
        self._origin = None  # the weights Reset returns to
        self._run_start = 0  # the step the playing run (or the last committed one) started from
        self._run_left = None  # steps left in this Play
        self._topology = None
        self._last_canvas = 0.0
        self._rate_window: list = []  # (time, step) of recent frames
        self._timer = QTimer(self)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._tick)
        b = controller.bridge
        b.changed.connect(self._on_document_event)
        b.replaced.connect(self._on_replaced)

    # ---------------------------------------------------------------- document

    @property
    def graph(self):
        return self.controller.graph

    def _signature(self, g) -> tuple:
        """What a trainer depends on besides the weights: the wires and the data."""
        # the data objects themselves (a set_value or set_params replaces them), kept
        # alive in _topology so that an id is never reused for another object
        data = tuple(
            id(g.nx.nodes[n].get("params") if g.op(n) == "dataset" else g.nx.nodes[n].get("value"))
            for n in self._data_nodes if n in g.nx
        )
        return (frozenset(g.nx.nodes), frozenset(g.nx.edges(keys=True, data="source_port", default=0)),
                g.output_node(), data)

    def _on_document_event(self, ev) -> None:
        if self._committing or isinstance(
            ev, (E.NodeMoved, E.NameChanged, E.MetaChanged, E.LayoutApplied, E.Evaluated, E.RoleChanged)
        ):
            return
        self._dirty = True
        if self.playing:
            self.pause(commit=self._params_intact())
        self._drop_preview()

    def _on_replaced(self) -> None:
        self.stop_quietly()
        self.trainer = self.pictures = self.frame = self.preview = None
        self.previous = []
        self.overrides = {}
        self._origin = None
        self._dirty = False
        self.built.emit()
        self.framed.emit(None)

    def _params_intact(self) -> bool:
        t, g = self.trainer, self.graph
        return t is not None and all(p in g.nx and g.op(p) == "number" for p in t.params)

    def _drop_preview(self) -> None:
        if self.scene.preview is not None:
            self.scene.set_preview(None)
        self.shown_step = None

    # ---------------------------------------------------------------- the trainer

    def ensure(self) -> bool:
        """A trainer in step with the document (built, rewound or rebuilt as needed); False
        with a message when the document cannot be trained."""
        t = self.trainer
        if t is not None and self._dirty:
            g = self.graph
            if self._signature(g) != self._topology or not self._params_intact():
                self._retire("an edit")
                t = None
            else:
                now = [g.number(p) for p in t.params]
                if not _same(now, t.values):
                    start = min(self._run_start, t.t)
                    if _same(now, t.state_at(start).params):
                        t.rewind(start)  # the run was undone: back to where it started
                        self.built.emit()
                    else:
                        self._retire("new weights")
                        t = None
            self._dirty = False
        if t is None:
            return self._build()
        return True

    def _retire(self, why: str) -> None:
        t = self.trainer
        if t is not None and len(t.history):
            self.previous.append((f"run to step {t.t} (before {why})", t.history.copy()))
            del self.previous[:-MAX_PREVIOUS]
        self.trainer = None

    def _build(self, initial=None) -> bool:
        g = self.graph
        self._dirty = False
        try:
            setup = training_setup(g)
            setup.update(self.overrides)
            trainer = Trainer(g, **setup, **self.settings.trainer_options())
        except (GraphError, ValueError) as e:
            self.message.emit(f"Cannot train: {e}")
            return False
        if initial is not None:
            try:
                trainer.reset(initial)
            except TrainingError:
                initial = None  # the parameters changed shape: the document's weights
        self.trainer = trainer
        self._data_nodes = sorted({n for n, _p in trainer.data})
        if initial is None and (self._origin is None or len(self._origin) != len(trainer.params)):
            self._origin = trainer.initial
        self._topology = self._signature(g)
        self._data_refs = [g.nx.nodes[n].get("params") if g.op(n) == "dataset" else g.nx.nodes[n].get("value")
                           for n in self._data_nodes]
        self._run_start = 0
        self._make_pictures()
        self.preview = g.copy()
        self.built.emit()
        self._show_latest()
        return True

    def _make_pictures(self) -> None:
        t, g = self.trainer, self.graph
        self.pictures, self.picture_note = None, None
        extent = None
        ds = find_dataset(g)
        if ds is not None and (ds, 0) in t.data:
            e = dataset_of(g, ds).extent
            extent = e if e[0] < e[1] and e[2] < e[3] else None
        try:
            self.pictures = PlanePictures(t, output_size=self.output_size, unit_size=self.unit_size,
                                          extent=extent)
            self.picture_note = self.pictures.note
        except (TrainingError, DataError) as e:
            self.picture_note = f"no pictures over the input plane: {e}"

    def set_settings(self, settings: TrainSettings) -> None:
        """New settings: the next Play or Step starts a new trainer from the weights now."""
        self.settings = settings
        if self.trainer is not None and not self.playing:
            self._retire("new settings")
            self._build()

    # ---------------------------------------------------------------- playing

    def play(self) -> bool:
        if self.playing:
            return True
        if not self.ensure():
            return False
        t = self.trainer
        if self.shown_step is not None and self.shown_step != t.t:
            self.keep()  # playing from a scrubbed step branches there
        if t.stopped:
            self.message.emit(f"The run stopped: {t.stopped}. Reset or re-initialise to go on.")
            return False
        s = self.settings
        per_epoch = t.steps_per_epoch
        self._run_left = (None if s.limit_kind == "none" else
                          s.limit * (per_epoch if s.limit_kind == "epochs" else 1))
        self._run_start = t.t
        self._rate_window = [(time.perf_counter(), t.t)]
        self.playing = True
        self._timer.start()
        self.playingChanged.emit(True)
        return True

    def pause(self, commit: bool = True) -> None:
        if not self.playing:
            return
        self.playing = False
        self._timer.stop()
        self.playingChanged.emit(False)
        if commit:
            self._commit_run()
        self._show_latest()

    def stop_quietly(self) -> None:
        if self.playing:
            self.playing = False
            self._timer.stop()
            self.playingChanged.emit(False)

    def toggle(self) -> bool:
        if self.playing:
            self.pause()
            return False
        return self.play()

    def run_frame(self, budget: float = FRAME_BUDGET) -> int:
        """Train for one frame (at least one step, an epoch or ``budget`` seconds, whichever
        ends first, and never past the run's limit); returns the steps taken. Stops the run
        when it ends."""
        t = self.trainer
        s = self.settings
        start = time.perf_counter()
        taken = 0
        epoch_end = (t.t // t.steps_per_epoch + 1) * t.steps_per_epoch
        reason = None
        while True:
            if self._run_left is not None and self._run_left <= 0:
                reason = f"{s.limit} {s.limit_kind} done"
                break
            try:
                rec = t.step()
            except TrainingStopped as e:
                reason = f"stopped: {e}"
                break
            taken += 1
            if self._run_left is not None:
                self._run_left -= 1
            if s.until_loss is not None and rec.loss <= s.until_loss:
                reason = f"the loss reached {s.until_loss:g} at step {rec.step}"
                break
            if s.until_accuracy is not None and rec.accuracy is not None and rec.accuracy >= s.until_accuracy:
                reason = f"the accuracy reached {s.until_accuracy:g} at step {rec.step}"
                break
            if t.t >= epoch_end or time.perf_counter() - start > budget:
                break
        self.frame_times["train"] = time.perf_counter() - start
        if reason is not None and self.playing:
            self.pause()
            self.message.emit(f"Training ended: {reason} ({self.describe_run()})")
        return taken

    def _tick(self) -> None:
        if not self.playing or self.trainer is None:
            self._timer.stop()
            return
        self.run_frame()
        now = time.perf_counter()
        self._rate_window.append((now, self.trainer.t))
        self._rate_window = [w for w in self._rate_window if now - w[0] <= 1.0] or self._rate_window[-1:]
        (t0, k0), (t1, k1) = self._rate_window[0], self._rate_window[-1]
        if t1 > t0:
            self.steps_per_second = (k1 - k0) / (t1 - t0)
        if self.playing:
            self._show_live(canvas=now - self._last_canvas >= CANVAS_EVERY)
        self.progressed.emit()

    def step(self) -> bool:
        """One training step, kept as one undo step."""
        if self.playing:
            self.pause()
        if not self.ensure():
            return False
        if self.shown_step is not None and self.shown_step != self.trainer.t:
            self.keep()
        self._run_start = self.trainer.t
        try:
            self.trainer.step()
        except TrainingStopped as e:
            self.message.emit(f"Cannot step: {e}")
            return False
        self._commit_run(text=f"Training step {self.trainer.t}")
        self._show_latest()
        self.progressed.emit()
        return True

    # ---------------------------------------------------------------- reset, re-initialise

    def reset(self) -> bool:
        """Back to the same initial weights (those the document had when training began, or
        the last re-initialisation): one undo step; the curves start over."""
        self.pause()
        if not self.ensure():
            return False
        self._retire("reset")
        if not self._build(initial=self._origin):
            return False
        self._commit_run(text="Reset the weights to the initial ones")
        self._show_latest()
        self.message.emit("Reset: the initial weights again (step 0)")
        return True

    def reinitialise(self, seed: int) -> bool:
        """New initial weights drawn from ``seed`` (biases 0, matrices Glorot-uniform, as the
        network builder draws them): one undo step."""
        self.pause()
        if not self.ensure():
            return False
        t = self.trainer
        self._retire(f"re-initialise with seed {seed}")
        t.reinitialise(seed)
        self._origin = t.initial
        if not self._build(initial=self._origin):
            return False
        self._commit_run(text=f"Re-initialise the weights (seed {seed})")
        self._show_latest()
        self.message.emit(f"New initial weights from seed {seed}")
        return True

    # ---------------------------------------------------------------- time travel

    def show_step(self, step: int | None) -> None:
        """Preview ``step`` (None or the latest step: live) on the canvas and the pictures."""
        t = self.trainer
        if t is None:
            return
        if self.playing:
            self.pause()
        if step is None or step >= t.t:
            self._show_latest()
            return
        step = max(0, int(step))
        self.shown_step = step
        self._set_preview(t.state_at(step).params)
        self._frame(step)
        self.shown.emit(step)

    def keep(self) -> bool:
        """Branch the run at the step shown: the steps after it go (kept on the plot as an
        earlier run), the weights of that step become the document's (one undo step)."""
        t = self.trainer
        k = self.shown_step
        if t is None or k is None or k >= t.t:
            return False
        before = t.rewind(k)
        self.previous.append((f"run to step {len(before)} (branched at {k})", before))
        del self.previous[:-MAX_PREVIOUS]
        self._run_start = k
        self._commit_run(text=f"Keep step {k} (branch the run)")
        self._show_latest()
        self.built.emit()
        self.message.emit(f"Kept step {k}: training goes on from there")
        return True

    # ---------------------------------------------------------------- showing

    def _set_preview(self, values) -> None:
        p, t = self.preview, self.trainer
        if p is None:
            return
        for node, v in zip(t.params, values):
            p.set_value(node, v)
        self.scene.set_preview(p)

    def _show_latest(self) -> None:
        t = self.trainer
        self.shown_step = None
        if t is None:
            return
        g = self.graph
        if self.playing or not _same([g.number(p) for p in t.params], t.values):
            self._set_preview(t.values)
        elif self.scene.preview is not None:
            self.scene.set_preview(None)
        self._frame(None)
        self.shown.emit(t.t)

    def _show_live(self, canvas: bool) -> None:
        start = time.perf_counter()
        self._frame(None)
        mid = time.perf_counter()
        if canvas:
            self._set_preview(self.trainer.values)
            self._last_canvas = time.perf_counter()
        self.frame_times["pictures"] = mid - start
        self.frame_times["canvas"] = time.perf_counter() - mid if canvas else 0.0
        self.shown.emit(self.trainer.t)

    def _frame(self, step) -> None:
        if self.pictures is None:
            self.frame = None
        else:
            try:
                self.frame = self.pictures.frame(step)
            except (TrainingError, ValueError) as e:
                self.frame = None
                self.picture_note = f"no pictures: {e}"
        self.framed.emit(self.frame)

    def set_gradient_pictures(self, on: bool) -> None:
        self.gradient_pictures = bool(on)

    # ---------------------------------------------------------------- the document

    def _commit_run(self, text: str | None = None) -> bool:
        """The trainer's weights into the document as one undo step (nothing if unchanged)."""
        t = self.trainer
        if t is None or not self._params_intact():
            return False
        edit = t.edit()
        if not edit:
            self._drop_preview()
            return False
        taken = t.t - self._run_start
        text = text or f"Train {taken} step{'s' if taken != 1 else ''} ({self.describe_run()})"
        self._committing = True
        try:
            ok = self.controller.set_values(dict(edit.after), text=text)
        finally:
            self._committing = False
        self._drop_preview()
        return ok

    def describe_run(self) -> str:
        s = self.settings
        batch = "full batch" if s.batch is None else f"batch {s.batch}"
        return f"{s.optimizer}, lr {s.lr:g}, {batch}"

    @property
    def memory_text(self) -> str:
        t = self.trainer
        if t is None:
            return ""
        kept = len(t.kept_steps())
        thin = "" if t.timeline.stride == 1 else f", every {t.timeline.stride}th step kept, the rest replayed"
        return (f"time travel: {_mib(t.memory)} of {_mib(t.budget)} for {kept:,} steps{thin}")


def _mib(n: int) -> str:
    return f"{n / 2**20:.1f} MiB" if n >= 2**20 else f"{n / 1024:.0f} KiB"


def _same(a, b) -> bool:
    if len(a) != len(b):
        return False
    for x, y in zip(a, b):
        if type(x) is np.ndarray or type(y) is np.ndarray:
            if np.shape(x) != np.shape(y) or not np.array_equal(x, y):
                return False
        elif x != y and not (isinstance(x, float) and math.isnan(x) and math.isnan(y)):
            return False
    return True


__all__ = ["TrainSettings", "TrainingSession"]
