"""A network in one call: an MLP for a dataset, built from ordinary tensor nodes that can be
edited like any graph afterwards (add a residual wire, change an activation, tie weights).

Names the GUI and the command line use: data ``X`` and ``y`` (and ``X_test``, ``y_test``
when the dataset has test points), per layer k weights ``Wk`` and bias ``bk``, the sum
``zk = h(k−1) @ Wk + bk`` and the activation ``hk``; the output layer's sum is ``logits``
(cross-entropy, C outputs) or ``yhat`` (MSE, one output); the loss is ``L``.

With Playground's feature transforms the inputs are columns of their own: ``x1 = X @ pick_x1``
(a constant (2, 1) selector), ``x1_sq = square(x1)``, ``x1x2 = x1 * x2``, ``sin_x1 = sin(x1)``,
..., and the first layer gives each feature its own row of weights, ``W1_x1`` (1, H):
``z1 = x1 @ W1_x1 + x2 @ W1_x2 + ... + b1``, so each feature's wire into the first layer is a
wire on the canvas, as in Playground's picture.

Initial weights come from ``RandomState(seed)``, drawn in the order of ``Network.params`` by
:func:`engine.training.trainer.initial_value` (biases 0, matrices Glorot-uniform):
``Trainer.reinitialise(seed)`` draws exactly the same.

>>> from engine.training.datasets import dataset
>>> net = build_mlp(dataset("circle", n=100, seed=0), hidden=[4, 2], activation="tanh", seed=0)
>>> net.params, net.graph.shape("logits"), net.loss
(['W1', 'b1', 'W2', 'b2', 'W3', 'b3'], (50, 2), 'L')
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field

import numpy as np

from ..core.graph import Graph
from ..core.ops import SCALAR_OPS
from .datasets import PLAYGROUND_EXTENT, Dataset
from .errors import TrainingError
from .trainer import Trainer, initial_value

ACTIVATIONS = ("linear",) + tuple(n for n, op in SCALAR_OPS.items() if op.arity == 1 and n != "neg")
"""Activation per layer: "linear" (none) or any one-input op row (tanh, relu, sigmoid, ...)."""

FEATURES = {
    # name: (op applied, input columns)
    "x1": (None, ("x1",)),
    "x2": (None, ("x2",)),
    "x1_sq": ("square", ("x1",)),
    "x2_sq": ("square", ("x2",)),
    "x1x2": ("mul", ("x1", "x2")),
    "sin_x1": ("sin", ("x1",)),
    "sin_x2": ("sin", ("x2",)),
}
"""Playground's feature transforms of a point (x1, x2): x1, x2, x1², x2², x1·x2, sin x1, sin x2."""

LOSSES = ("cross_entropy", "mse")
MAX_LAYERS = 64
MAX_UNITS = 4096


@dataclass
class Network:
    """What :func:`build_mlp` made: the graph and the names that matter in it."""

    graph: Graph
    params: list
    data: tuple
    loss: str
    output: str
    test: tuple | None = None
    accuracy: tuple | None = None  # (scores, labels) when the loss is not a cross-entropy
    layers: dict = field(default_factory=dict)  # layer name -> its parameters
    hidden: list = field(default_factory=list)  # per hidden layer: (z name, h name)
    features: tuple = ()
    classes: int | None = None
    extent: tuple = PLAYGROUND_EXTENT

    @property
    def task(self) -> str:
        return "regression" if self.classes is None else "classification"

    def trainer(self, **options) -> Trainer:
        """A Trainer over this network (its params, data, test split, accuracy and layers);
        ``options`` are the Trainer's (optimizer, lr, batch, seed, ...)."""
        options.setdefault("params", self.params)
        options.setdefault("data", list(self.data))
        if self.test is not None:
            options.setdefault("test", list(self.test))
        if self.accuracy is not None:
            options.setdefault("accuracy", self.accuracy)
        options.setdefault("layers", self.layers)
        return Trainer(self.graph, **options)


def build_mlp(
    data,
    hidden=(4, 2),
    activation="tanh",
    features=None,
    loss: str | None = None,
    seed: int = 0,
    output_activation: str | None = None,
) -> Network:
    """An MLP for ``data`` (a Dataset, or ``(X, y)``: integer y means classes 0..C−1).

    ``hidden``: neurons per hidden layer (any number of layers, any width; ``[]`` is a linear
    model); ``activation``: one name for every hidden layer or one per layer (see
    :data:`ACTIVATIONS`); ``features``: Playground's transforms (names of :data:`FEATURES`)
    for two-column data, None for the raw columns; ``loss``: "cross_entropy" (C outputs; the
    default for classes) or "mse" (one output: regression, or two classes as targets ±1 with
    accuracy thresholded at 0); ``output_activation``: applied to an MSE output (Playground
    uses tanh). TrainingError for anything else.
    """
    X, y, Xt, yt, classes, extent = _data(data)
    hidden = _hidden(hidden)
    acts = _activations(activation, len(hidden))
    loss = _loss(loss, classes)
    if output_activation is not None:
        if loss != "mse":
            raise TrainingError("an output activation goes with the mse loss (cross-entropy takes logits)")
        _activations(output_activation, 1)
    feats = _features(features, X.shape[1])
    if loss == "mse":
        y = _mse_targets(y, classes)
        yt = None if yt is None else _mse_targets(yt, classes)
    n_out = classes if loss == "cross_entropy" else 1

    g = Graph()
    rng = np.random.RandomState(_seed(seed))
    params: list[str] = []
    layers: dict[str, list[str]] = {}

    def param(name, shape, layer):
        g.add_number(initial_value(shape, name, rng), name=name)
        params.append(name)
        layers.setdefault(layer, []).append(name)
        return name

    def op(name, *inputs, label=None):
        n = g.add_op(name, name=label)
        for port, src in enumerate(inputs):
            g.connect(src, n, port)
        return n

    g.add_number(X, name="X")
    g.add_number(y, name="y")
    if Xt is not None:
        g.add_number(Xt, name="X_test")
        g.add_number(yt, name="y_test")

    widths = hidden + [n_out]
    if feats:
        columns = {}
        for col, k in (("x1", 0), ("x2", 1)):
            if any(col in FEATURES[f][1] for f in feats):
                pick = g.add_number(np.eye(2)[:, [k]], name=f"pick_{col}")
                columns[col] = op("matmul", "X", pick, label=col if col in feats else None)
        inputs = []
        for f in feats:
            transform, cols = FEATURES[f]
            inputs.append(
                columns[cols[0]] if transform is None else op(transform, *(columns[c] for c in cols), label=f)
            )
        total = None
        for f, node in zip(feats, inputs):
            w = param(f"W1_{f}", (1, widths[0]), "layer 1")
            term = op("matmul", node, w)
            total = term if total is None else op("add", total, term)
        first = (total, None)
    else:
        first = ("X", param("W1", (X.shape[1], widths[0]), "layer 1"))

    prev = None
    hidden_names = []
    for k, width in enumerate(widths, 1):
        last = k == len(widths)
        if k == 1:
            src, w = first
            product = src if w is None else op("matmul", src, w)
        else:
            w = param(f"W{k}", (widths[k - 2], width), f"layer {k}")
            product = op("matmul", prev, w)
        b = param(f"b{k}", (width,), f"layer {k}")
        zname = ("logits" if loss == "cross_entropy" else "yhat") if last else f"z{k}"
        if last and output_activation not in (None, "linear"):
            zname = f"z{k}"
        z = op("add", product, b, label=zname)
        if last:
            out = z
            if output_activation not in (None, "linear"):
                out = op(output_activation, z, label="yhat")
            break
        act = acts[k - 1]
        h = z if act == "linear" else op(act, z, label=f"h{k}")
        hidden_names.append((f"z{k}", f"h{k}" if act != "linear" else f"z{k}"))
        prev = h
    out_name = "logits" if loss == "cross_entropy" else "yhat"
    lnode = op(loss, out, "y", label="L")
    g.set_output(lnode)
    g.apply_layout()
    return Network(
        graph=g,
        params=params,
        data=("X", "y"),
        loss="L",
        output=out_name,
        test=("X_test", "y_test") if Xt is not None else None,
        accuracy=(out_name, "y") if loss == "mse" and classes is not None else None,
        layers=layers,
        hidden=hidden_names,
        features=tuple(feats),
        classes=classes,
        extent=extent,
    )


# ---------------------------------------------------------------------------- checks


def _data(data):
    if isinstance(data, Dataset):
        Xt = data.X_test if len(data.test) else None
        yt = data.y_test if len(data.test) else None
        return data.X_train, data.y_train, Xt, yt, data.classes, data.extent
    try:
        X, y = data
    except (TypeError, ValueError):
        raise TrainingError("data is a Dataset or a pair (X, y)") from None
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y)
    if X.ndim != 2 or y.ndim != 1 or len(X) != len(y) or not len(y):
        raise TrainingError(f"X must be (n, d) and y (n,); got {X.shape} and {y.shape}")
    classes = None
    if y.dtype.kind in "iu":
        if y.min() < 0:
            raise TrainingError("class labels must be 0..C−1")
        classes = max(2, int(y.max()) + 1)
        y = y.astype(np.int64)
    else:
        y = y.astype(np.float64)
    from .datasets import _extent

    return X, y, None, None, classes, _extent(X)


def _hidden(hidden) -> list[int]:
    if isinstance(hidden, numbers.Integral) and not isinstance(hidden, bool):
        hidden = [hidden]
    try:
        widths = list(hidden)
    except TypeError:
        raise TrainingError(f"hidden is a list of layer widths, not {hidden!r}") from None
    if len(widths) > MAX_LAYERS:
        raise TrainingError(f"{len(widths)} hidden layers; at most {MAX_LAYERS}")
    for w in widths:
        if isinstance(w, bool) or not isinstance(w, numbers.Integral) or not 1 <= w <= MAX_UNITS:
            raise TrainingError(f"a layer has 1 to {MAX_UNITS} neurons, not {w!r}")
    return [int(w) for w in widths]


def _activations(activation, count) -> list[str]:
    if isinstance(activation, str):
        acts = [activation] * count
    elif isinstance(activation, (list, tuple)):
        acts = list(activation)
    else:
        raise TrainingError(f"activation is a name or a list of names, not {activation!r}")
    if len(acts) != count:
        raise TrainingError(f"give one activation or one per hidden layer ({count}), not {len(acts)}")
    for a in acts:
        if not isinstance(a, str) or a not in ACTIVATIONS:
            raise TrainingError(f"unknown activation {a!r}; choose from {', '.join(ACTIVATIONS)}")
    return acts


def _loss(loss, classes) -> str:
    if loss is None:
        return "mse" if classes is None else "cross_entropy"
    if loss not in LOSSES:
        raise TrainingError(f"unknown loss {loss!r}; choose cross_entropy or mse")
    if loss == "cross_entropy" and classes is None:
        raise TrainingError("cross-entropy needs classes; this data has regression targets (use mse)")
    if loss == "mse" and classes is not None and classes != 2:
        raise TrainingError(
            f"mse on classes works for two (targets ±1); this data has {classes} (use cross_entropy)"
        )
    return loss


def _mse_targets(y, classes):
    y = np.asarray(y, dtype=np.float64)
    if classes is not None:
        y = np.where(y > 0, 1.0, -1.0)  # Playground's labels: class 1 is +1, class 0 is −1
    return y.reshape(-1, 1)


def _features(features, d) -> list[str]:
    if features is None:
        return []
    if isinstance(features, str):
        feats = [features]
    elif isinstance(features, (list, tuple)):
        feats = list(features)
    else:
        raise TrainingError(f"features is a list of names, not {features!r}")
    if d != 2:
        raise TrainingError(f"feature transforms are for two input columns; this data has {d}")
    if not feats:
        raise TrainingError("choose at least one feature")
    for f in feats:
        if not isinstance(f, str) or f not in FEATURES:
            raise TrainingError(f"unknown feature {f!r}; choose from {', '.join(FEATURES)}")
    if len(set(feats)) != len(feats):
        raise TrainingError("a feature is chosen twice")
    return [f for f in FEATURES if f in feats]  # Playground's order


def _seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or not 0 <= seed < 2**32:
        raise TrainingError(f"seed must be a whole number 0..2**32-1, not {seed!r}")
    return int(seed)


__all__ = ["ACTIVATIONS", "FEATURES", "LOSSES", "Network", "build_mlp"]
