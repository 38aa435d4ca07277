"""Train any graph on data: the parameters are number nodes, the data are number nodes holding
arrays (their first axis is the batch axis), the loss is the document's output.

The trainer works on a private compiled copy of the document and never edits it while it runs;
:meth:`Trainer.edit` gives the final parameters as one edit (the GUI makes it one undo step).

Step k: take batch k (full batch without ``batch``; else epoch e = (k−1) // S of S =
ceil(n / batch) steps walks a permutation from ``RandomState(seed + e)``, the last batch
partial), forward, backward, update. Step k's loss and accuracy are that forward pass, the
one whose gradients make step k's update (micrograd's demo prints the same). After the last
step of an epoch the test data (if any) is evaluated with the updated parameters. A loss,
gradient or update that is not finite stops the run before that step's update and names the
step.

>>> from engine import Graph
>>> import numpy as np
>>> g = Graph.from_expression("L = mse(x @ w, t)", x=np.array([[1.0], [2.0]]),
...                           w=np.array([[0.0]]), t=np.array([[2.0], [4.0]]))
>>> run = Trainer(g, params=["w"], data=["x", "t"], optimizer="sgd", lr=0.1)
>>> run.step().loss, [round(r.loss, 6) for r in run.run(steps=3)]
(10.0, [2.5, 0.625, 0.15625])
>>> float(run.param_values()["w"][0, 0]), float(g.number("w")[0, 0])
(1.875, 0.0)
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..core import gradsize
from ..core.arrays import shape_text
from ..core.errors import InvalidValueError, NoOutputError
from ..core.graph import Graph, check_value
from ..core.ops import NUMBER
from .datanode import DATASET, PORTS, data_value
from .errors import TrainingError, TrainingStopped
from .optim import Optimizer
from .tape import PrivateTape
from .timeline import DEFAULT_BUDGET, Snapshot, Timeline, size_of

MAX_STEPS = 1_000_000
CONDITION_STEPS = 100_000  # a run with only a stop condition ends here if it is never met
DEFAULT_STEPS = 100


@dataclass(frozen=True, slots=True)
class StepRecord:
    """One step: its loss and accuracy (the forward pass that made its update; accuracy None
    when there is none), the epoch it belongs to (0-based), the gradient norm of each layer
    (aligned with ``Trainer.layers``), and, on the last step of an epoch with test data, the
    test loss and accuracy after its update."""

    step: int
    epoch: int
    loss: float
    accuracy: float | None
    grad_norms: tuple
    test_loss: float | None = None
    test_accuracy: float | None = None

    def to_json(self) -> dict:
        out = {"step": self.step, "loss": _json(self.loss), "accuracy": _json(self.accuracy)}
        if self.test_loss is not None:
            out["test_loss"] = _json(self.test_loss)
            out["test_accuracy"] = _json(self.test_accuracy)
        return out


class History(list):
    """The records of a run, one per step (``history[k - 1]`` is step k), with the columns
    a plot wants as arrays.

    The columns are built incrementally: a plot redrawn every frame of a 10,000-step run
    reads only the records added since the last frame (a column is kept with the record it
    ends on, so a truncated and regrown history is rebuilt, never mixed up).
    """

    def _column(self, name: str, row, dtype) -> np.ndarray:
        cache = self.__dict__.setdefault("_columns", {})
        n = len(self)
        got = cache.get(name)
        if got is not None:
            arr, last = got
            m = len(arr)
            if m <= n and (m == 0 or super().__getitem__(m - 1) is last):
                if m == n:
                    return arr.copy()
                new = np.array([row(r) for r in super().__getitem__(slice(m, n))], dtype=dtype)
                arr = np.concatenate([arr, new.reshape((n - m,) + arr.shape[1:])])
                cache[name] = (arr, super().__getitem__(n - 1))
                return arr.copy()
        arr = np.array([row(r) for r in self], dtype=dtype)
        cache[name] = (arr, super().__getitem__(n - 1) if n else None)
        return arr.copy()

    @property
    def loss(self) -> np.ndarray:
        return self._column("loss", _loss_of, np.float64)

    @property
    def accuracy(self) -> np.ndarray:
        return self._column("accuracy", _accuracy_of, np.float64)

    @property
    def steps(self) -> np.ndarray:
        return self._column("steps", _step_of, np.int64)

    @property
    def grad_norms(self) -> np.ndarray:
        """(steps, layers): each layer's gradient norm per step."""
        if not self:
            return np.zeros((0, 0))
        width = len(self[0].grad_norms)
        if any(len(r.grad_norms) != width for r in (self[0], self[-1])):
            return np.array([r.grad_norms for r in self], dtype=np.float64).reshape(len(self), -1)
        return self._column("grad_norms", _norms_of, np.float64).reshape(len(self), width)

    def test_columns(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:attr:`test` as arrays: steps, test loss, test accuracy (NaN where None)."""
        has = self._column("has_test", _has_test, bool)
        steps = self.steps[has].astype(np.float64)
        return (steps, self._column("test_loss", _test_loss_of, np.float64)[has],
                self._column("test_accuracy", _test_accuracy_of, np.float64)[has])

    @property
    def test(self) -> list[tuple]:
        """(step, test loss, test accuracy) at the end of each epoch."""
        return [(r.step, r.test_loss, r.test_accuracy) for r in self if r.test_loss is not None]

    def to_json(self) -> dict:
        return {"steps": [r.to_json() for r in self]}

    def __getitem__(self, key):
        """``history[k]`` is a record (a slice: a History); ``history["loss"]`` a column."""
        if isinstance(key, str):
            if key not in ("loss", "accuracy", "steps", "grad_norms"):
                raise KeyError(key)
            return getattr(self, key)
        out = super().__getitem__(key)
        return History(out) if isinstance(key, slice) else out

    def copy(self) -> History:
        return History(self)


def _loss_of(r):
    return r.loss


def _accuracy_of(r):
    return np.nan if r.accuracy is None else r.accuracy


def _step_of(r):
    return r.step


def _norms_of(r):
    return r.grad_norms


def _has_test(r):
    return r.test_loss is not None


def _test_loss_of(r):
    return np.nan if r.test_loss is None else r.test_loss


def _test_accuracy_of(r):
    return np.nan if r.test_accuracy is None else r.test_accuracy


@dataclass(frozen=True)
class RunResult:
    """What :meth:`Trainer.run` did: the steps it took, and why it ended (``reason``: None
    when it ran the steps asked; else the condition met, or why it stopped). ``failed`` is
    True for a non-finite stop."""

    steps: int
    reason: str | None
    failed: bool = False
    records: tuple = ()

    def __iter__(self):
        return iter(self.records)


@dataclass(frozen=True)
class ParamEdit:
    """Final parameters as one edit of the document: ``before`` and ``after`` map node ids to
    values (only the parameters that moved). The GUI's undo command calls :meth:`apply` on
    redo and :meth:`revert` on undo."""

    before: dict
    after: dict

    def apply(self, graph: Graph) -> None:
        for n, v in self.after.items():
            graph.set_value(n, v)

    def revert(self, graph: Graph) -> None:
        for n, v in self.before.items():
            graph.set_value(n, v)

    def __bool__(self) -> bool:
        return bool(self.after)


@dataclass(frozen=True)
class Evaluation:
    """Loss and accuracy of the current parameters on a whole split, and per class (the
    fraction of each class's points predicted right; None without classes)."""

    loss: float
    accuracy: float | None
    per_class: tuple | None
    n: int


class Trainer:
    """A training run over a document. See the module docstring; arguments:

    ``params``: number nodes to train (ids or names). ``data``: number nodes holding arrays
    whose first axis indexes the points (features first: the pictures take ``data[0]`` as the
    input plane), or outputs ``(node, port)`` of a dataset node (X_train is port 0, y_train
    port 1); ``trainer.data`` lists them as ``(node, port)``. ``test``: the test split, one
    array or data reference per data node. ``loss``: the node to minimise (default: the document's output).
    ``optimizer``: sgd, momentum, adam or adamw, with ``lr``, ``momentum`` (sgd/momentum),
    ``nesterov``, ``weight_decay`` (L2; AdamW decoupled), ``l1``, ``betas``, ``eps`` (see
    :mod:`engine.training.optim`). ``batch``: None for full batch, else the batch size.
    ``seed``: the batch order's seed. ``accuracy``: ``(scores, labels)`` nodes; default: the
    cross-entropy the loss is built on, if any. ``layers``: ``{name: [params]}`` for the
    gradient norms (default: parameters grouped by the first number in their name, W1 and b1
    as layer 1). ``budget``: bytes of time travel (default 64 MiB).

    Refusals are TrainingError (a GraphError and a ValueError) naming the node.
    """

    def __init__(
        self,
        graph: Graph,
        params,
        data=None,
        optimizer: str = "sgd",
        lr: float = 0.01,
        momentum: float | None = None,
        nesterov: bool = False,
        weight_decay: float = 0.0,
        l1: float = 0.0,
        batch: int | None = None,
        seed: int = 0,
        accuracy=None,
        loss=None,
        test=None,
        betas=(0.9, 0.999),
        eps: float = 1e-8,
        layers: dict | None = None,
        budget: int = DEFAULT_BUDGET,
    ):
        if not isinstance(graph, Graph):
            raise TrainingError(f"the trainer takes a Graph, not {type(graph).__name__}")
        if momentum == 0 and optimizer in ("adam", "adamw"):
            momentum = None
        self.optimizer = Optimizer(optimizer, lr, momentum, nesterov, weight_decay, l1, betas, eps)
        self.seed = _whole(seed, "seed", 0, 2**32 - 1)
        self.budget = _whole(budget, "the time-travel budget", 0, 2**62)
        self.graph = graph
        self.loss_node = self._loss_node(graph, loss)
        self.params = self._params(graph, params)
        self.data = self._data(graph, data)
        both = set(self.params) & {n for n, _p in self.data}
        if both:
            raise TrainingError(f"{graph.label(next(iter(both)))} is both a parameter and data")
        self._tape = PrivateTape(graph)
        t = self._tape
        self._root = t.slot(self.loss_node)
        self._pslots = [t.slot(p) for p in self.params]
        self._dslots = [t.slot(*d) for d in self.data]
        self._train = [data_value(graph, *d) for d in self.data]
        self.n = len(self._train[0]) if self._train else 0
        self.batch = self._batch_size(batch)
        self.full_batch = self.batch is None or self.batch >= self.n
        self.steps_per_epoch = 1 if self.full_batch else math.ceil(self.n / self.batch)
        self._test = self._test_arrays(graph, test)
        self._acc = self._accuracy_slots(graph, accuracy)
        self.layers, self._layer_index = self._layers(graph, layers)
        self._initial_doc = tuple(graph.number(p) for p in self.params)
        self.unused = self._check_passes()
        self._initial = self._initial_doc
        self.timeline = Timeline(self.budget)
        self._perm_cache: tuple[int, np.ndarray] | None = None
        self.reset()

    # ------------------------------------------------------------------ set-up checks

    @staticmethod
    def _loss_node(graph, loss) -> int:
        if loss is None:
            n = graph.output_node()
            if n is None:
                raise NoOutputError("training needs a loss: the document has no output (set one)")
            return n
        return graph.resolve(_ref(loss, "loss"))

    @staticmethod
    def _params(graph, params) -> list[int]:
        if params is None or isinstance(params, (str, int, tuple)):
            params = [] if params is None else [params]
        try:
            refs = list(params)
        except TypeError:
            raise TrainingError(f"params must be a list of nodes, not {type(params).__name__}") from None
        if not refs:
            raise TrainingError("nothing to train: give the parameter nodes (params=[...])")
        out = []
        for ref in refs:
            n = graph.resolve(_ref(ref, "a parameter"))
            if graph.op(n) != NUMBER:
                raise TrainingError(
                    f"{graph.label(n)} is a {graph.op(n)} op; only number nodes can be trained"
                )
            v = graph.number(n)
            if type(v) is np.ndarray and v.dtype.kind != "f":
                raise TrainingError(f"{graph.label(n)} holds integer class labels, which cannot be trained")
            if n in out:
                raise TrainingError(f"{graph.label(n)} is given twice as a parameter")
            out.append(n)
        return out

    @staticmethod
    def _data(graph, data) -> list[tuple[int, int]]:
        if data is None:
            return []
        data = _listed(data, "data")
        out = []
        for ref in data:
            n, port = _data_ref(graph, ref, "data")
            if data_value(graph, n, port) is None:
                what = f"a {graph.op(n)} op" if graph.op(n) != NUMBER else "a single number"
                raise TrainingError(
                    f"data {graph.label(n)} is {what}; data is a number node holding an array "
                    "or an output of a dataset node"
                )
            if (n, port) in out:
                raise TrainingError(f"{_data_label(graph, (n, port))} is given twice as data")
            out.append((n, port))
        lengths = {_data_label(graph, d): len(data_value(graph, *d)) for d in out}
        if len(set(lengths.values())) > 1:
            shown = ", ".join(f"{k} has {v}" for k, v in lengths.items())
            raise TrainingError(f"the data nodes must have the same number of rows (points): {shown}")
        return out

    def _batch_size(self, batch) -> int | None:
        if batch is None:
            return None
        if not self.data:
            raise TrainingError("mini-batches need data nodes (data=[...]) to take rows from")
        return _whole(batch, "the batch size", 1, 10**9)

    def _test_arrays(self, graph, test) -> list | None:
        if test is None:
            return None
        items = [test] if isinstance(test, np.ndarray) else _listed(test, "test")
        if len(items) != len(self.data):
            raise TrainingError(f"give one test array per data node ({len(self.data)}), not {len(items)}")
        out = []
        for item, d in zip(items, self.data):
            if isinstance(item, np.ndarray):
                try:
                    v = check_value(item, f"test data for {_data_label(graph, d)}")
                except InvalidValueError as e:
                    raise TrainingError(str(e)) from None
            else:
                ref = _data_ref(graph, item, "test data")
                v = data_value(graph, *ref)
                if v is None:
                    raise TrainingError(
                        f"test data {graph.label(ref[0])} must be a number node holding an array "
                        "or an output of a dataset node"
                    )
            train = data_value(graph, *d)
            if type(v) is not np.ndarray or v.shape[1:] != train.shape[1:]:
                raise TrainingError(
                    f"test data for {_data_label(graph, d)} must have rows shaped like its rows "
                    f"{shape_text(train.shape[1:])}, not {shape_text(np.shape(v)[1:])}"
                )
            out.append(v)
        if len({len(v) for v in out}) > 1:
            raise TrainingError("the test arrays must have the same number of rows")
        return out

    def _accuracy_slots(self, graph, accuracy):
        t = self._tape
        if accuracy is None:
            ce = [i for i in t.ancestors(self._root) if t.op_name(i) == "cross_entropy"]
            if len(ce) == 1 and None not in t.parents(ce[0]):
                return t.parents(ce[0])
            return None
        try:
            scores, labels = accuracy
        except (TypeError, ValueError):
            raise TrainingError("accuracy must be a pair (scores, labels) of nodes") from None
        return (t.slot(graph.resolve(_ref(scores, "scores"))), t.slot(graph.resolve(_ref(labels, "labels"))))

    def _layers(self, graph, layers):
        if layers is None:
            groups: dict[str, list[int]] = {}
            for p in self.params:
                name = graph.name(p) or graph.label(p)
                m = re.search(r"\d+", name)
                groups.setdefault(f"layer {m.group()}" if m else name, []).append(p)
        else:
            if not isinstance(layers, dict):
                raise TrainingError("layers must map a layer name to its parameters")
            groups = {}
            for key, refs in layers.items():
                refs = [refs] if isinstance(refs, (str, int)) else refs
                groups[str(key)] = [graph.resolve(r) for r in refs]
            missing = [graph.label(p) for p in self.params if not any(p in g for g in groups.values())]
            if missing:
                raise TrainingError(f"parameter {missing[0]} is in no layer")
        names = list(groups)
        index = [[self.params.index(p) for p in groups[k] if p in self.params] for k in names]
        return names, index

    def _check_passes(self) -> list[int]:
        """Run the batch shapes once (the full data, a batch, the last partial batch):
        shape problems and a loss that is not a scalar are refused here, not at step 7."""
        sizes = [None]
        if not self.full_batch:
            sizes += [self.batch] + ([self.n % self.batch] if self.n % self.batch else [])
        t = self._tape
        unused = []
        for size in sizes:
            for s, arr in zip(self._dslots, self._train):
                t.set(s, arr if size is None else arr[:size])
            vals, errors = t.forward()
            where = f" with a batch of {size} points" if size is not None else ""
            if vals[self._root] is None:
                i, why = t.first_problem(vals, errors, t.ancestors(self._root))
                raise TrainingError(
                    f"the loss {t.label(self._root)} cannot be computed{where}: {t.label(i)}: {why}"
                )
            loss = vals[self._root]
            if type(loss) is np.ndarray:
                raise TrainingError(
                    f"the loss {t.label(self._root)} is a {shape_text(loss.shape)} array; training needs "
                    "a scalar loss (take its mean or sum)"
                )
            if size is None:
                grads = t.backward(vals, self._root)
                unused = [p for p, s in zip(self.params, self._pslots) if grads[s] is None]
        for s, arr in zip(self._dslots, self._train):
            t.set(s, arr)
        return unused

    # ------------------------------------------------------------------ state

    def reset(self, initial=None) -> None:
        """Back to the initial parameters (the same weights every time), a fresh optimizer
        state, no history. ``initial`` (one value per parameter, shaped like it) replaces the
        initial parameters first (a GUI's Reset to the weights a session began with)."""
        if initial is not None:
            initial = tuple(initial)
            if len(initial) != len(self.params) or any(
                np.shape(v) != np.shape(w) for v, w in zip(initial, self._initial_doc)
            ):
                raise TrainingError("initial values: one per parameter, each shaped like it")
            self._initial = initial
        self.t = 0
        self.values = list(self._initial)
        self.state = self.optimizer.initial_state(self.values)
        self.history = History()
        self.stopped: str | None = None
        for s, v in zip(self._pslots, self.values):
            self._tape.set(s, v)
        if self.full_batch:
            for s, arr in zip(self._dslots, self._train):
                self._tape.set(s, arr)
        self.timeline.clear()
        self.timeline.add(self._snapshot())

    def reinitialise(self, seed: int) -> None:
        """New initial parameters drawn with ``RandomState(seed)`` by :func:`initial_value`
        (as the network builder draws them), then :meth:`reset`."""
        seed = _whole(seed, "seed", 0, 2**32 - 1)
        rng = np.random.RandomState(seed)
        names = [self.graph.name(p) for p in self.params]
        self._initial = tuple(
            initial_value(np.shape(v), name, rng) for v, name in zip(self._initial_doc, names)
        )
        self.reset()

    @property
    def initial(self) -> tuple:
        """The initial parameters :meth:`reset` returns to (aligned with ``params``)."""
        return self._initial

    @property
    def accuracy_nodes(self) -> tuple | None:
        """(scores, labels) node ids the accuracy is read from, or None."""
        return None if self._acc is None else tuple(self._tape.node(s) for s in self._acc)

    @property
    def layer_sizes(self) -> tuple:
        """How many numbers each layer's parameters hold (aligned with ``layers``): a recorded
        layer norm over √size is its RMS, the size gradient health judges."""
        return tuple(gradsize.count([self.values[i] for i in idx]) for idx in self._layer_index)

    @property
    def epoch(self) -> int:
        """Epochs completed."""
        return self.t // self.steps_per_epoch

    def param_values(self, step: int | None = None) -> dict:
        """Parameter values by name (or id when unnamed), now or after ``step``."""
        values = self.values if step is None else self.state_at(step).params
        return {self.graph.name(p) or p: v for p, v in zip(self.params, values)}

    # ------------------------------------------------------------------ stepping

    def _batch_rows(self, epoch: int, offset: int) -> np.ndarray:
        cache = self._perm_cache
        if cache is None or cache[0] != epoch:
            cache = self._perm_cache = (epoch, np.random.RandomState(self.seed + epoch).permutation(self.n))
        b = self.batch
        return cache[1][offset * b : (offset + 1) * b]

    def _advance(self, values, state, t):
        """Step t + 1 from (values, state): returns (loss, accuracy, grads, new values, new
        state), or raises TrainingStopped. Sets the tape's parameter slots to the new values."""
        tape = self._tape
        k = t + 1
        if not self.full_batch:
            rows = self._batch_rows(*divmod(t, self.steps_per_epoch))
            for s, arr in zip(self._dslots, self._train):
                tape.set(s, arr[rows])
        vals, errors = tape.forward()
        loss = vals[self._root]
        if loss is None or type(loss) is np.ndarray:
            raise TrainingError(
                f"step {k}: the loss {tape.label(self._root)} has no scalar value "
                f"({tape.problem(vals, self._root, errors) or 'unknown problem'})"
            )
        loss = float(loss)
        if not math.isfinite(loss):
            raise TrainingStopped(f"step {k}: the loss {tape.label(self._root)} is {_kind(loss)}", k)
        grads = tape.backward(vals, self._root)
        pgrads = [grads[s] for s in self._pslots]
        new_values, new_state = self.optimizer.update(values, pgrads, state, k)
        for i, v in enumerate(new_values):
            if not _finite(v):
                g = pgrads[i]
                name = tape.label(self._pslots[i])
                why = (
                    f"the gradient of {name} is not finite ({_where(g)})"
                    if not _finite(g)
                    else f"the update makes {name} non-finite ({_where(v)})"
                )
                raise TrainingStopped(f"step {k}: {why}", k)
        for s, v in zip(self._pslots, new_values):
            tape.set(s, v)
        acc = None if self._acc is None else _accuracy(vals[self._acc[0]], vals[self._acc[1]])
        return loss, acc, pgrads, new_values, new_state

    def step(self) -> StepRecord:
        """Take one step; returns its record. Raises TrainingStopped (the state stays at the
        step before) when the loss, a gradient or an update is not finite."""
        if self.stopped:
            raise TrainingStopped(self.stopped, self.t + 1)
        try:
            loss, acc, pgrads, values, state = self._advance(self.values, self.state, self.t)
        except TrainingStopped as e:
            self.stopped = str(e)
            for s, v in zip(self._pslots, self.values):
                self._tape.set(s, v)
            raise
        self.t += 1
        self.values, self.state = values, state
        norms = tuple(gradsize.norm([pgrads[i] for i in idx]) for idx in self._layer_index)
        epoch, offset = divmod(self.t, self.steps_per_epoch)
        test_loss = test_acc = None
        if self._test is not None and offset == 0:
            test_loss, test_acc = self._evaluate(self._test)
        rec = StepRecord(self.t, (self.t - 1) // self.steps_per_epoch, loss, acc, norms, test_loss, test_acc)
        self.history.append(rec)
        self.timeline.add(self._snapshot())
        return rec

    def run(
        self,
        steps: int | None = None,
        epochs: int | None = None,
        until_loss: float | None = None,
        until_accuracy: float | None = None,
        on_step: Callable[[StepRecord], object] | None = None,
    ) -> RunResult:
        """Take steps until one of: ``steps`` steps, ``epochs`` epochs (``epochs`` ×
        steps per epoch), a step whose loss is at most ``until_loss``, a step whose accuracy
        is at least ``until_accuracy``, ``on_step(record)`` returning False, or a non-finite
        stop (returned, not raised: ``failed`` is True). With none of these, 100 steps; with
        only a condition, at most 100,000."""
        if steps is not None and epochs is not None:
            raise TrainingError("give steps or epochs, not both")
        if steps is not None:
            limit = _whole(steps, "steps", 0, MAX_STEPS)
        elif epochs is not None:
            limit = _whole(epochs, "epochs", 0, MAX_STEPS) * self.steps_per_epoch
            if limit > MAX_STEPS:
                raise TrainingError(f"{epochs:,} epochs are {limit:,} steps; at most {MAX_STEPS:,}")
        elif until_loss is None and until_accuracy is None:
            limit = DEFAULT_STEPS
        else:
            limit = CONDITION_STEPS
        if until_loss is not None:
            until_loss = _real(until_loss, "until_loss")
        if until_accuracy is not None:
            until_accuracy = _real(until_accuracy, "until_accuracy")
            if self._acc is None:
                raise TrainingError(
                    "until_accuracy needs an accuracy: a cross-entropy loss, or accuracy=(scores, labels)"
                )
        records = []
        for _ in range(limit):
            try:
                rec = self.step()
            except TrainingStopped as e:
                return RunResult(len(records), str(e), True, tuple(records))
            records.append(rec)
            if until_loss is not None and rec.loss <= until_loss:
                return RunResult(
                    len(records), f"the loss reached {until_loss:g} at step {rec.step}", False, tuple(records)
                )
            if until_accuracy is not None and rec.accuracy is not None and rec.accuracy >= until_accuracy:
                return RunResult(
                    len(records),
                    f"the accuracy reached {until_accuracy:g} at step {rec.step}",
                    False,
                    tuple(records),
                )
            if on_step is not None and on_step(rec) is False:
                return RunResult(len(records), "stopped by the caller", False, tuple(records))
        if until_loss is not None or until_accuracy is not None:
            return RunResult(
                len(records), f"the condition was not met in {len(records)} steps", False, tuple(records)
            )
        return RunResult(len(records), None, False, tuple(records))

    # ------------------------------------------------------------------ evaluation

    def _evaluate(self, arrays_) -> tuple[float, float | None]:
        tape = self._tape
        for s, arr in zip(self._dslots, arrays_):
            tape.set(s, arr)
        vals, errors = tape.forward()
        loss = vals[self._root]
        acc = None if self._acc is None else _accuracy(vals[self._acc[0]], vals[self._acc[1]])
        if self.full_batch:
            for s, arr in zip(self._dslots, self._train):
                tape.set(s, arr)
        return (float(loss) if loss is not None and type(loss) is not np.ndarray else math.nan), acc

    def measure(self, split: str = "train", step: int | None = None) -> Evaluation:
        """:meth:`evaluate` under a name of its own (the GUI calls this one: ``evaluate`` is
        also the name of the Graph method only the GUI's bridge may call)."""
        return self.evaluate(split, step)

    def evaluate(self, split: str = "train", step: int | None = None) -> Evaluation:
        """Loss, accuracy and per-class accuracy on the whole ``split`` ("train" or "test")
        with the current parameters (or those after ``step``)."""
        if split not in ("train", "test"):
            raise TrainingError(f"split is 'train' or 'test', not {split!r}")
        if split == "test" and self._test is None:
            raise TrainingError("this run has no test data")
        data = self._train if split == "train" else self._test
        values = self.values if step is None else self.state_at(step).params
        tape = self._tape
        for s, v in zip(self._pslots, values):
            tape.set(s, v)
        for s, arr in zip(self._dslots, data):
            tape.set(s, arr)
        vals, _ = tape.forward()
        loss = vals[self._root]
        acc = per = None
        if self._acc is not None:
            scores, labels = vals[self._acc[0]], vals[self._acc[1]]
            acc = _accuracy(scores, labels)
            per = _per_class(scores, labels)
        for s, v in zip(self._pslots, self.values):
            tape.set(s, v)
        if self.full_batch:
            for s, arr in zip(self._dslots, self._train):
                tape.set(s, arr)
        n = len(data[0]) if data else 0
        return Evaluation(
            float(loss) if type(loss) is not np.ndarray and loss is not None else math.nan, acc, per, n
        )

    # ------------------------------------------------------------------ time travel

    def _snapshot(self) -> Snapshot:
        epoch, offset = divmod(self.t, self.steps_per_epoch)
        # A run's snapshots all have the same layout once the optimizer has its state (fresh
        # arrays of the parameters' shapes each step): measured once per layout, not per step.
        layout = (tuple(map(type, self.values)), tuple(map(type, self.state)),
                  tuple(len(s) if type(s) is tuple else 0 for s in self.state))
        cache = self.__dict__.setdefault("_sizes", {})
        nbytes = cache.get(layout)
        if nbytes is None:
            nbytes = size_of(self.values, self.state)
            if self.t >= 2:  # step 1's state may still hold the optimizer's initial numbers
                cache[layout] = nbytes
        return Snapshot(self.t, tuple(self.values), self.state, epoch, offset, nbytes)

    def kept_steps(self) -> list[int]:
        """The steps whose state is held (thinned to the budget); any other step up to the
        current one is recomputed from the kept step before it."""
        return self.timeline.kept()

    def state_at(self, step: int) -> Snapshot:
        """The state after ``step`` steps (0..the current step), exact: a thinned-out step is
        replayed from the kept step before it."""
        step = _whole(step, "step", 0, self.t)
        snap = self.timeline.get(step)
        if snap is not None:
            return snap
        base = self.timeline.at_or_before(step)
        values, state = list(base.params), base.state
        for s, v in zip(self._pslots, values):
            self._tape.set(s, v)
        try:
            for t in range(base.step, step):
                _, _, _, values, state = self._advance(values, state, t)
        finally:
            for s, v in zip(self._pslots, self.values):
                self._tape.set(s, v)
            if self.full_batch:
                for s, arr in zip(self._dslots, self._train):
                    self._tape.set(s, arr)
        epoch, offset = divmod(step, self.steps_per_epoch)
        return Snapshot(step, tuple(values), state, epoch, offset, size_of(values, state))

    def rewind(self, step: int) -> History:
        """Go back to the state after ``step`` and continue from there as a branch: the
        history after it and the snapshots after it are dropped. Returns the history as it
        was before (to draw beside the new branch)."""
        snap = self.state_at(step)
        before = self.history.copy()
        self.t = snap.step
        self.values, self.state = list(snap.params), snap.state
        self.history = History(self.history[:step])
        self.stopped = None
        self.timeline.truncate(step)
        if self.timeline.get(step) is None:
            self.timeline.add(snap)
        for s, v in zip(self._pslots, self.values):
            self._tape.set(s, v)
        return before

    @property
    def memory(self) -> int:
        """Bytes the time-travel snapshots hold (at most ``budget``, or two snapshots)."""
        return self.timeline.nbytes

    # ------------------------------------------------------------------ the document

    def edit(self, step: int | None = None) -> ParamEdit:
        """The parameters now (or after ``step``) as one edit of the document: the values
        that differ from the document's, and the document's values to restore them."""
        values = self.values if step is None else self.state_at(step).params
        before, after = {}, {}
        for p, v in zip(self.params, values):
            old = self.graph.number(p)
            if _moved(v, old):
                before[p], after[p] = old, v
        return ParamEdit(before, after)

    def graph_at(self, step: int | None = None) -> Graph:
        """A copy of the document holding the parameters now (or after ``step``), to show
        every node's value and gradient at that step."""
        g = self.graph.copy()
        self.edit(step).apply(g)
        return g


# ---------------------------------------------------------------------------- helpers


def initial_value(shape, name: str | None, rng: np.random.RandomState):
    """A parameter's initial value, drawn from ``rng``: a name starting with "b" (a bias)
    starts at 0; a matrix (fan_in, fan_out) from Glorot's uniform U(±√(6 / (fan_in +
    fan_out))); anything else from U(−1, 1) (micrograd's neuron weights).

    >>> initial_value((3,), "b1", np.random.RandomState(0)).tolist()
    [0.0, 0.0, 0.0]
    """
    shape = tuple(shape)
    if name and name[:1].lower() == "b":
        return np.zeros(shape) if shape else 0.0
    if len(shape) >= 2:
        bound = math.sqrt(6.0 / (shape[0] + shape[-1]))
        return rng.uniform(-bound, bound, shape)
    v = rng.uniform(-1.0, 1.0, shape)
    return v if shape else float(v)


def layer_grad_norms(grads, layers) -> tuple:
    """The gradient norm of each layer: √(Σ g²) over the layer's parameters' gradients.
    ``grads`` is a list of arrays or numbers (None counts as 0), ``layers`` lists each layer's
    indices into it.

    >>> layer_grad_norms([np.array([3.0]), 4.0, None], [[0, 1], [2]])
    (5.0, 0.0)
    """
    return tuple(gradsize.norm([grads[i] for i in idx]) for idx in layers)


def _accuracy(scores, labels) -> float | None:
    if scores is None or labels is None:
        return None
    pred, target = _predicted(scores, labels)
    return float(np.mean(pred == target))


def _predicted(scores, labels):
    s = np.asarray(scores)
    t = np.asarray(labels).reshape(-1)
    if s.ndim == 2 and s.shape[1] > 1:
        return np.argmax(s, axis=1), t
    return s.reshape(-1) > 0, t > 0


def _per_class(scores, labels) -> tuple | None:
    pred, target = _predicted(scores, labels)
    if target.dtype == bool:
        classes = [False, True]
    else:
        classes = np.unique(target).tolist()
    return tuple(float(np.mean(pred[target == c] == c)) for c in classes)


def _listed(value, what) -> list:
    """A node or a list of them as a list; TrainingError for anything else."""
    if isinstance(value, (str, int)) or (
        isinstance(value, tuple) and len(value) == 2 and isinstance(value[1], int)
    ):
        return [value]
    try:
        return list(value)
    except TypeError:
        raise TrainingError(f"{what} must be a list of nodes, not {type(value).__name__}") from None


def _ref(ref, what):
    """A node reference, or (node, port) with port 0 (nodes that are not data have one
    output)."""
    if isinstance(ref, tuple):
        if len(ref) != 2:
            raise TrainingError(f"{what} is a node or (node, port), not {ref!r}")
        node, port = ref
        if port != 0:
            raise TrainingError(f"{what} {node!r}: port {port!r}; only port 0 exists here")
        return node
    return ref


def _data_ref(graph, ref, what) -> tuple[int, int]:
    """(node id, output port) for a data reference: a node (port 0) or ``(node, port)``,
    where a dataset node has ports 0..3 (X_train, y_train, X_test, y_test)."""
    port = 0
    if isinstance(ref, tuple):
        if len(ref) != 2:
            raise TrainingError(f"{what} is a node or (node, port), not {ref!r}")
        ref, port = ref
    n = graph.resolve(ref)
    count = graph.output_arity(n)
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port < count:
        has = "port 0" if count == 1 else f"ports 0..{count - 1}"
        raise TrainingError(f"{what} {graph.label(n)}: no output port {port!r} (it has {has})")
    return n, port


def _data_label(graph, ref) -> str:
    n, port = ref
    if graph.op(n) == DATASET:
        return f"{graph.label(n)}.{PORTS[port]}"
    return graph.label(n)


def _finite(v) -> bool:
    if v is None:
        return True
    if type(v) is np.ndarray:
        return bool(np.isfinite(v).all())
    return math.isfinite(v)


def _where(v) -> str:
    if type(v) is np.ndarray:
        bad = ~np.isfinite(v)
        first = [int(i) for i in np.argwhere(bad)[0]]
        kind = "NaN" if np.isnan(v[tuple(first)]) else "inf"
        return f"{kind} in {int(bad.sum())} of {v.size} elements, first at {first}"
    return _kind(v)


def _kind(v) -> str:
    return "NaN" if v != v else ("inf" if v > 0 else "-inf")


def _moved(new, old) -> bool:
    if type(new) is np.ndarray or type(old) is np.ndarray:
        return np.shape(new) != np.shape(old) or bool(np.any(np.asarray(new) != np.asarray(old)))
    return new != old


def _json(v):
    if v is None or math.isfinite(v):
        return v
    return "nan" if v != v else ("inf" if v > 0 else "-inf")


def _whole(v, what, lo, hi) -> int:
    if isinstance(v, bool) or not isinstance(v, numbers.Integral):
        raise TrainingError(f"{what} must be a whole number, not {v!r}")
    if not lo <= v <= hi:
        raise TrainingError(f"{what} must be between {lo:,} and {hi:,}, not {v}")
    return int(v)


def _real(v, what) -> float:
    if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(float(v)):
        raise TrainingError(f"{what} must be a finite number, not {v!r}")
    return float(v)


__all__ = [
    "DEFAULT_STEPS",
    "Evaluation",
    "History",
    "ParamEdit",
    "RunResult",
    "StepRecord",
    "Trainer",
    "initial_value",
    "layer_grad_norms",
]
