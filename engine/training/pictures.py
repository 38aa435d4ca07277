"""Pictures over the input plane, computed in one vectorised pass per picture size per frame:
the grid's points are one batch through the same graph.

- The output picture (``output_size``² points): the class probabilities and the predicted
  class (a cross-entropy network), the score and its sign (one score thresholded at 0), or the
  prediction (regression): the decision boundary or the regression surface.
- A picture per unit (``unit_size``² points): every node whose value depends on the input
  point (features, pre-activations, activations, outputs) gets one picture per column, up to
  ``cap`` columns per node, with its *gradient* over the plane beside it: at each grid point
  the loss uses the predicted class as its label, and the picture is ∂L/∂node for that
  point's own loss (the batch gradient times the number of grid points, since the losses
  average over points); for regression, ∂output/∂node.

Picture ``[i, j]`` lies at x1 = ``xs[j]``, x2 = ``ys[i]`` with ``ys`` descending: row 0 is the
top of the plane, so an image is drawn as it is. With more than two input columns the plane
is a slice through columns ``axes`` with the others held at their training mean (``note``
says so); with one column there are no pictures.

>>> from engine.training import build_mlp, dataset
>>> net = build_mlp(dataset("xor", n=40, seed=0), hidden=[3], seed=0)
>>> f = PlanePictures(net.trainer(), output_size=20, unit_size=5).frame()
>>> f.predicted.shape, [(u.name, u.column) for u in f.units][:4]
((20, 20), [('X', 0), ('X', 1), ('X @ W1', 0), ('X @ W1', 1)])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .datanode import data_value
from .errors import TrainingError
from .tape import PrivateTape
from .trainer import Trainer

MAX_SIZE = 400
DEFAULT_CAP = 64
TOTAL_CAP = 1024


@dataclass(frozen=True)
class UnitPicture:
    """One unit's picture: ``node`` (document id), ``name`` (its label, or ``a @ b`` for an
    unnamed op), ``column`` (None for a node with one value per point), ``value`` and
    ``grad`` (unit_size², None where the node has no path to the loss)."""

    node: int
    name: str
    column: int | None
    value: np.ndarray
    grad: np.ndarray | None


@dataclass(frozen=True)
class Frame:
    """One frame's pictures. ``output``: (G, G, C) class probabilities, or (G, G) score or
    prediction; ``predicted``: (G, G) class (None for regression); ``units``: the unit
    pictures in evaluation order; ``xs``/``ys``: the grid of each size; ``step``: the
    trainer's step the parameters are from."""

    extent: tuple
    xs: np.ndarray
    ys: np.ndarray
    output: np.ndarray | None
    predicted: np.ndarray | None
    units: list
    unit_xs: np.ndarray
    unit_ys: np.ndarray
    step: int
    note: str | None = None

    def unit(self, name: str, column: int | None = None) -> UnitPicture:
        for u in self.units:
            if u.name == name and (column is None or u.column == column):
                return u
        raise KeyError(name)


def _extent(extent) -> tuple:
    try:
        x0, x1, y0, y1 = (float(v) for v in extent)
    except (TypeError, ValueError):
        raise TrainingError(
            f"extent is four numbers (x1 min, x1 max, x2 min, x2 max), not {extent!r}"
        ) from None
    if not all(np.isfinite([x0, x1, y0, y1])) or not (x0 < x1 and y0 < y1):
        raise TrainingError(f"extent must be finite with min < max on each axis, not {extent!r}")
    return (x0, x1, y0, y1)


class PlanePictures:
    """Pictures of a trainer's graph over the input plane (``trainer.data[0]`` is the input).

    ``extent`` (x1 min, x1 max, x2 min, x2 max; default: around the training points),
    ``axes``: the two input columns spanning the plane, ``cap``: pictures per node.
    """

    def __init__(
        self,
        trainer: Trainer,
        output_size: int = 100,
        unit_size: int = 25,
        extent=None,
        axes=(0, 1),
        cap: int = DEFAULT_CAP,
        gradients: bool = True,
    ):
        if not isinstance(trainer, Trainer):
            raise TrainingError("pictures are drawn for a Trainer")
        if not trainer.data:
            raise TrainingError("pictures need the input data: the trainer has no data nodes")
        for size, what in ((output_size, "output_size"), (unit_size, "unit_size")):
            if isinstance(size, bool) or not isinstance(size, int) or not 2 <= size <= MAX_SIZE:
                raise TrainingError(f"{what} must be a whole number 2..{MAX_SIZE}, not {size!r}")
        self.trainer = trainer
        self.output_size, self.unit_size, self.cap = output_size, unit_size, cap
        self.gradients = gradients
        self.tape = PrivateTape(trainer.graph)
        t = self.tape
        X = data_value(trainer.graph, *trainer.data[0])
        self.note = None
        if X.ndim != 2 or X.shape[1] < 2:
            raise TrainingError(
                "pictures need points with at least two coordinates; "
                f"{trainer.graph.label(trainer.data[0][0])} is {X.shape}"
            )
        try:
            a, b = axes
            ok = all(isinstance(k, int) and not isinstance(k, bool) and 0 <= k < X.shape[1] for k in (a, b))
        except (TypeError, ValueError):
            ok = False
        if not ok or a == b:
            raise TrainingError(
                f"axes must be two different column indices of the {X.shape[1]} inputs, not {axes!r}"
            )
        self.axes = (a, b)
        self.mean = X.mean(axis=0)
        if X.shape[1] > 2:
            self.note = (
                f"a slice through input columns {a + 1} and {b + 1}; the other "
                f"{X.shape[1] - 2} are held at their training mean"
            )
        if extent is None:
            lo, hi = X[:, [a, b]].min(axis=0), X[:, [a, b]].max(axis=0)
            pad = np.maximum((hi - lo) * 0.1, 1e-3)
            extent = (lo[0] - pad[0], hi[0] + pad[0], lo[1] - pad[1], hi[1] + pad[1])
        self.extent = _extent(extent)
        self.x_slot = t.slot(*trainer.data[0])
        self._find_roles()
        self._grid = {size: self._points(size) for size in {output_size, unit_size}}

    def _find_roles(self):
        """Which node is the prediction, which the labels, and how a label is predicted."""
        t, tr = self.tape, self.trainer
        root = t.slot(tr.loss_node)
        self.loss_slot = root
        inputs = t.descendants(self.x_slot)
        anc = t.ancestors(root)
        self.mode, self.out_slot, self.label_slot = "regression", None, None
        acc = tr.accuracy_nodes
        if acc is not None:
            acc = (t.slot(acc[0]), t.slot(acc[1]))
            self.out_slot, self.label_slot = acc
            ce = t.op_name(root) == "cross_entropy" or any(
                t.op_name(i) == "cross_entropy" and t.parents(i)[0] == acc[0] for i in anc
            )
            self.mode = "classes" if ce else "threshold"
        else:
            for i in reversed(anc):
                if t.op_name(i) == "mse":
                    ps = t.parents(i)
                    pred = [p for p in ps if p in inputs]
                    if len(pred) == 1:
                        self.out_slot = pred[0]
                        other = ps[1] if ps[0] == pred[0] else ps[0]
                        self.label_slot = other if t.op_name(other) is None else None
                    break
            if self.out_slot is None:
                # the last node that depends on the point and feeds the loss
                cands = [i for i in anc if i in inputs and i != root]
                if not cands:
                    raise TrainingError("the loss does not depend on the input data: nothing to picture")
                self.out_slot = cands[-1]
        if self.label_slot is not None and t.op_name(self.label_slot) is not None:
            self.label_slot = None  # computed labels cannot be replaced by predictions
        labels = None if self.label_slot is None else t.get(self.label_slot)
        self.label_template = labels
        self.pm_one = labels is not None and bool(np.any(np.asarray(labels) < 0))
        # Data other than the input and the labels have no value at a grid point.
        others = [t.slot(*d) for d in tr.data if t.slot(*d) not in (self.x_slot, self.label_slot)]
        out_anc = set(t.ancestors(self.out_slot))
        if any(s in out_anc for s in others):
            raise TrainingError("the prediction depends on data besides the input points; no pictures")
        self.others = others
        self.grad_ok = (
            self.gradients
            and (self.mode == "regression" or self.label_slot is not None)
            and not any(s in anc for s in others)
        )
        if self.mode != "regression" and self.label_slot is None and self.gradients:
            self.note = (
                (self.note + "; ") if self.note else ""
            ) + "no gradient pictures: the labels are computed"
        order = sorted(inputs)
        self.unit_slots = [i for i in order if i != self.label_slot and i not in self.others]
        # What each pass computes: the output picture needs only the prediction's ancestors;
        # the unit pictures compute everything but what the labels reach, predict the labels,
        # then compute only what they reach (the loss), not the whole graph twice.
        self.out_rows = set(t.ancestors(self.out_slot))
        if self.label_slot is None:
            self.label_rows = None
        else:
            self.label_rows = t.descendants(self.label_slot)
            self.unlabelled_rows = set(range(len(t))) - self.label_rows

    def _points(self, size):
        x0, x1, y0, y1 = self.extent
        xs = np.linspace(x0, x1, size)
        ys = np.linspace(y1, y0, size)  # row 0 at the top
        P = np.tile(self.mean, (size * size, 1))
        P[:, self.axes[0]] = np.tile(xs, size)
        P[:, self.axes[1]] = np.repeat(ys, size)
        return xs, ys, P

    def _placeholder(self, count):
        tmpl = self.label_template
        return np.zeros((count,) + tmpl.shape[1:], dtype=tmpl.dtype)

    def _predict_labels(self, out):
        """The labels the network predicts, in the labels' own encoding."""
        tmpl = self.label_template
        if self.mode == "classes" or (self.mode == "threshold" and out.ndim == 2 and out.shape[1] > 1):
            pred = np.argmax(out, axis=1)
        else:
            pos = np.asarray(out).reshape(len(out)) > 0
            pred = np.where(pos, 1, -1 if self.pm_one else 0)
        return pred.astype(tmpl.dtype).reshape((len(out),) + tmpl.shape[1:])

    def _set_params(self, step):
        tr = self.trainer
        values = tr.values if step is None or step == tr.t else tr.state_at(step).params
        for p, v in zip(tr.params, values):
            self.tape.set(self.tape.slot(p), v)

    def frame(self, step: int | None = None) -> Frame:
        """The pictures for the trainer's current parameters (or those after ``step``)."""
        t = self.tape
        self._set_params(step)
        G = self.output_size
        xs, ys, P = self._grid[G]
        t.set(self.x_slot, P)
        vals, errors = t.forward(only=self.out_rows)
        out = vals[self.out_slot]
        output = predicted = None
        if out is not None:
            out = np.asarray(out)
            if self.mode == "classes":
                z = out - out.max(axis=1, keepdims=True)
                e = np.exp(z)
                output = (e / e.sum(axis=1, keepdims=True)).reshape(G, G, -1)
                predicted = np.argmax(out, axis=1).reshape(G, G)
            elif self.mode == "threshold":
                if out.ndim == 2 and out.shape[1] > 1:
                    output = out.reshape(G, G, -1)
                    predicted = np.argmax(out, axis=1).reshape(G, G)
                else:
                    output = out.reshape(G, G)
                    predicted = (output > 0).astype(np.int64)
            else:
                output = out.reshape(G, G, -1)[..., 0] if out.ndim == 2 else out.reshape(G, G)
        units = self._units()
        Gu = self.unit_size
        uxs, uys, _ = self._grid[Gu]
        step_no = self.trainer.t if step is None else step
        return Frame(self.extent, xs, ys, output, predicted, units, uxs, uys, step_no, self.note)

    def _units(self) -> list[UnitPicture]:
        t = self.tape
        G = self.unit_size
        _, _, P = self._grid[G]
        n = len(P)
        t.set(self.x_slot, P)
        grads = None
        relabelled = False
        if self.label_slot is None:
            vals, _ = t.forward()
        else:
            t.set(self.label_slot, self._placeholder(n))
            vals, _ = t.forward(only=self.unlabelled_rows)
        if self.grad_ok and vals[self.out_slot] is not None:
            if self.mode == "regression":
                grads = t.backward(vals, self.out_slot)
            else:
                t.set(self.label_slot, self._predict_labels(np.asarray(vals[self.out_slot])))
                vals, _ = t.forward(only=self.label_rows, start=vals)
                relabelled = True
                if vals[self.loss_slot] is not None and type(vals[self.loss_slot]) is not np.ndarray:
                    grads = t.backward(vals, self.loss_slot, seed=float(n))
        if self.label_slot is not None and not relabelled:
            vals, _ = t.forward(only=self.label_rows, start=vals)  # per-point nodes of the labels
        out = []
        for i in self.unit_slots:
            v = vals[i]
            if type(v) is not np.ndarray or v.ndim not in (1, 2) or len(v) != n or v.dtype.kind != "f":
                continue
            g = None if grads is None else grads[i]
            g = g if type(g) is np.ndarray and g.shape == v.shape else None
            node = t.node(i)
            name = self._name(i)
            if i == self.x_slot:
                cols = list(self.axes)
            else:
                cols = [None] if v.ndim == 1 else list(range(min(v.shape[1], self.cap)))
            for c in cols:
                if len(out) >= TOTAL_CAP:
                    return out
                vv = v if c is None else v[:, c]
                gg = None if g is None else (g if c is None else g[:, c])
                if c is not None and v.ndim == 2 and v.shape[1] == 1:
                    c = None if i != self.x_slot else c
                out.append(
                    UnitPicture(
                        node,
                        name,
                        c,
                        vv.reshape(G, G).copy(),
                        None if gg is None else gg.reshape(G, G).copy(),
                    )
                )
        return out

    def _name(self, i) -> str:
        g = self.tape.graph
        n = self.tape.node(i)
        if g.name(n):
            return g.name(n)
        op = self.tape.op_name(i)
        ps = self.tape.parents(i)
        if op == "matmul" and None not in ps:
            return f"{self._short(ps[0])} @ {self._short(ps[1])}"
        return g.label(n)

    def _short(self, i) -> str:
        g = self.tape.graph
        n = self.tape.node(i)
        return g.name(n) or g.label(n)


__all__ = ["Frame", "PlanePictures", "UnitPicture"]
