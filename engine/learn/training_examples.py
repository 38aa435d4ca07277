"""The training examples of the gallery: Playground's four classification sets, micrograd's moons
demo, a regression and a CSV import, each a document whose data are number nodes holding
arrays or a dataset node (the four Playground sets and the regression: their recipe makes
exactly the points the network was built on), with the run that its lesson describes.

Each builder returns ``(graph, train)``: ``train`` is the Trainer's settings (``params``,
``data``, ``test``, ``optimizer``, ``lr``, ...) plus how long to run (``until_accuracy``,
``until_loss``, ``steps``), stored under ``"train"`` in ``gallery.json``; the numbers the run
reaches are stored under ``"reached"`` and checked by :func:`engine.learn.gallery.check`.

Run ``python -m engine.learn.gallery`` to rebuild them.
"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np

from ..core.graph import Graph
from ..training import FEATURES, build_mlp, dataset, read_csv, use_dataset_node

CSV_FILE = "three_clusters.csv"


ON_NODE = {"data": [["data", 0], ["data", 1]], "test": [["data", 2], ["data", 3]]}
"""The data of an example built on a dataset node: its X_train, y_train (X_test, y_test)."""


def _on_dataset_node(net, d):
    """The network's data numbers replaced by one dataset node holding ``d``'s recipe (its
    points are the numbers the network was built on: the same run, to the last bit)."""
    use_dataset_node(net.graph, d)
    net.graph.apply_layout()
    return net.graph


def _meta(g: Graph, title: str, lesson: str) -> Graph:
    g.meta["title"] = title
    g.meta["lesson"] = lesson
    return g


def circle():
    d = dataset("circle", n=200, seed=0)
    net = build_mlp(d, hidden=[4], activation="tanh", seed=0)
    return _on_dataset_node(net, d), {
        "params": net.params,
        **ON_NODE,
        "optimizer": "adam",
        "lr": 0.03,
        "until_accuracy": 1.0,
        "steps": 2000,
    }


def xor():
    d = dataset("xor", n=200, seed=0)
    net = build_mlp(d, hidden=[], features=["x1", "x2", "x1x2"], seed=0)
    return _on_dataset_node(net, d), {
        "params": net.params,
        **ON_NODE,
        "optimizer": "adam",
        "lr": 0.03,
        "until_accuracy": 1.0,
        "steps": 2000,
    }


def gauss():
    d = dataset("gauss", n=200, seed=0)
    net = build_mlp(d, hidden=[], seed=0)
    return _on_dataset_node(net, d), {
        "params": net.params,
        **ON_NODE,
        "optimizer": "sgd",
        "lr": 0.1,
        "until_accuracy": 1.0,
        "steps": 2000,
    }


def spiral():
    d = dataset("spiral", n=200, seed=0)
    net = build_mlp(d, hidden=[8, 8], features=list(FEATURES), seed=0)
    return _on_dataset_node(net, d), {
        "params": net.params,
        **ON_NODE,
        "optimizer": "adam",
        "lr": 0.03,
        "until_accuracy": 1.0,
        "steps": 2000,
    }


MOONS_PROGRAM = """
h1 = relu(X @ W1 + b1)
h2 = relu(h1 @ W2 + b2)
score = h2 @ W3 + b3
data_loss = mean(relu(1 - y * score))
reg = alpha * (sum(W1 * W1) + sum(b1 * b1) + sum(W2 * W2) + sum(b2 * b2) + sum(W3 * W3) + sum(b3 * b3))
L = data_loss + reg
"""


def micrograd_weights(sizes=(2, 16, 16, 1), seed=1337) -> dict:
    """micrograd's ``MLP(2, [16, 16, 1])`` after ``random.seed(1337)``, as arrays: each
    neuron draws its weights U(−1, 1) in turn, its bias is 0; layer k's W[i, j] is neuron j's
    weight i."""
    rnd = random.Random(seed)
    out = {}
    for k in range(len(sizes) - 1):
        nin, nout = sizes[k], sizes[k + 1]
        out[f"W{k + 1}"] = np.array([[rnd.uniform(-1, 1) for _ in range(nin)] for _ in range(nout)]).T
        out[f"b{k + 1}"] = np.zeros(nout)
    return out


def moons():
    d = dataset("moons", n=100, noise=0.1, seed=1337, split=1.0)  # the demo's np.random.seed(1337)
    y = np.where(d.y == 1, 1.0, -1.0).reshape(-1, 1)
    g = Graph.from_expression(MOONS_PROGRAM, X=d.X, y=y, alpha=1e-4, **micrograd_weights())
    g.apply_layout()
    return g, {
        "params": ["W1", "b1", "W2", "b2", "W3", "b3"],
        "data": ["X", "y"],
        "accuracy": ["score", "y"],
        "optimizer": "sgd",
        "lr": 0.5,
        "until_accuracy": 1.0,
        "steps": 2000,
    }


def regression():
    d = dataset("gauss_regression", n=300, seed=0)
    net = build_mlp(d, hidden=[8, 8], seed=0)
    return _on_dataset_node(net, d), {
        "params": net.params,
        **ON_NODE,
        "optimizer": "adam",
        "lr": 0.03,
        "until_loss": 0.01,
        "steps": 2000,
    }


def write_csv(path: Path) -> None:
    """The CSV example's file: three clusters with text labels (made here, by a seed)."""
    d = dataset("gauss", n=150, noise=0.05, seed=7, classes=3, split=1.0)
    names = ("red", "green", "blue")
    lines = ["x1,x2,colour"] + [f"{a:.4f},{b:.4f},{names[k]}" for (a, b), k in zip(d.X, d.y)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def from_csv():
    from resources import EXAMPLES

    d = read_csv(EXAMPLES / CSV_FILE, features=["x1", "x2"], target="colour", split=0.8, seed=0)
    net = build_mlp(d, hidden=[4], seed=0)
    return net.graph, {
        "params": net.params,
        "data": ["X", "y"],
        "test": ["X_test", "y_test"],
        "optimizer": "adam",
        "lr": 0.05,
        "until_accuracy": 1.0,
        "steps": 2000,
    }


TRAINING_BUILDERS = {
    # file: (builder, title, lesson (numbers of the run filled in), expectations on the document)
    "train_circle.json": (
        circle,
        "Playground's circle: a hidden layer draws a closed boundary",
        "A ring of class 0 around class 1 is no straight line apart, so a hidden layer of 4 tanh units "
        "bends the boundary round the centre. Adam with lr 0.03 makes every training point right at step "
        "{steps} (loss {loss:.4f}), and {test_pct:.0f}% of the test points.",
        {"W1": {"shape": [2, 4]}},
    ),
    "train_xor.json": (
        xor,
        "Playground's XOR: the feature x1·x2 alone separates it",
        "No straight line separates XOR in the plane, but its label is the sign of x1·x2. Given that "
        "product as an input (Playground's feature transform), a model with no hidden layer is right on "
        "every training point at step {steps} of Adam (lr 0.03).",
        {"W1_x1x2": {"shape": [1, 2]}},
    ),
    "train_gauss.json": (
        gauss,
        "Playground's two clusters: no hidden layer needed",
        "Two Gaussian clusters on either side of a diagonal are split by one straight line, so a linear "
        "model, logits = X @ W1 + b1, suffices: plain SGD with lr 0.1 gets every training point right at "
        "step {steps}.",
        {"W1": {"shape": [2, 2]}},
    ),
    "train_spiral.json": (
        spiral,
        "Playground's spiral: seven feature transforms and two hidden layers",
        "The two arms of the spiral wind round each other, which the raw coordinates make hard. With "
        "Playground's seven features (x1, x2, their squares, x1·x2, sin x1, sin x2) and two hidden layers "
        "of 8, Adam (lr 0.03) fits every training point at step {steps}; {test_pct:.0f}% of the test "
        "points between the arms are right.",
        {"W2": {"shape": [8, 8]}},
    ),
    "train_moons.json": (
        moons,
        "micrograd's moons demo: MLP(2, [16, 16, 1]) with arrays",
        "micrograd's demo as tensor nodes: the same 100 moons, its initial weights, its SVM hinge loss plus "
        "L2 with alpha = 0.0001. The first step's loss is {first_loss:.4f}, the demo's own; SGD with lr 0.5 "
        "reaches 100% accuracy at step {steps}.",
        {"X": {"shape": [100, 2]}, "alpha": {"value": 0.0001}},
    ),
    "train_regression.json": (
        regression,
        "Regression: six Gaussian bumps",
        "Playground's regression set: the target rises and falls in six bumps. Two hidden layers of 8 "
        "and the mean squared error; Adam (lr 0.03) brings the training loss under 0.01 at step {steps}, "
        "with test loss {test_loss:.4f}.",
        {"W2": {"shape": [8, 8]}},
    ),
    "train_csv.json": (
        from_csv,
        "Your own data: three clusters from a CSV file",
        "three_clusters.csv has columns x1, x2 and a text label, colour. Imported with 120 rows for "
        "training and 30 for testing, the labels become classes in order of appearance. A hidden layer of "
        "4 and Adam (lr 0.05) get every training row right at step {steps}.",
        {"X": {"shape": [120, 2]}, "X_test": {"shape": [30, 2]}, "W1": {"shape": [2, 4]}},
    ),
}


def build(file: str):
    """``(graph, train, reached)`` for a training example: the document with its title and
    lesson, the run's settings, and what the run reaches (which the lesson states)."""
    from ..training import Trainer

    builder, title, lesson, _ = TRAINING_BUILDERS[file]
    g, train = builder()
    run = Trainer(g, **trainer_options(train))
    result = run.run(**run_options(train))
    reached = {"steps": result.steps, "loss": run.history[-1].loss, "first_loss": run.history[0].loss}
    if run.history[-1].accuracy is not None:
        reached["accuracy"] = run.history[-1].accuracy
    if train.get("test"):
        ev = run.evaluate("test")
        reached["test_loss"] = ev.loss
        if ev.accuracy is not None:
            reached["test_accuracy"] = ev.accuracy
    text = lesson.format(test_pct=100 * reached.get("test_accuracy", 0.0), **reached)
    return _meta(g, title, text), train, reached


RUN_KEYS = ("steps", "epochs", "until_loss", "until_accuracy")


def trainer_options(train: dict) -> dict:
    """The Trainer's arguments from a gallery entry's "train" (JSON lists [node, port] as
    the (node, port) pairs the Trainer takes)."""
    out = {k: v for k, v in train.items() if k not in RUN_KEYS}
    for key in ("data", "test"):
        if isinstance(out.get(key), list):
            out[key] = [tuple(r) if isinstance(r, list) else r for r in out[key]]
    if "accuracy" in out:
        out["accuracy"] = tuple(out["accuracy"])
    return out


def run_options(train: dict) -> dict:
    return {k: v for k, v in train.items() if k in RUN_KEYS}


__all__ = ["TRAINING_BUILDERS", "build", "micrograd_weights", "run_options", "trainer_options", "write_csv"]
