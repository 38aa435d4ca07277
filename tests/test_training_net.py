"""The network builder against the formulas it promises (NumPy and PyTorch written here), and
the pictures over the input plane: each unit's value at every grid point, and its gradient,
∂(that point's loss with the predicted label)/∂unit, against torch autograd."""

import math
import os

import numpy as np
import pytest

from engine.training import PlanePictures, TrainingError, build_mlp, dataset


def _torch():
    if os.environ.get("CI"):
        import torch
    else:
        torch = pytest.importorskip("torch")
    return torch


def forward(net, X):
    """The builder's MLP written out: tanh hidden layers, a linear output."""
    p = {k: np.array(net.graph.number(k)) for k in net.params}
    h = X
    k = 1
    while f"W{k + 1}" in p:
        h = np.tanh(h @ p[f"W{k}"] + p[f"b{k}"])
        k += 1
    return h @ p[f"W{k}"] + p[f"b{k}"]


def test_an_mlp_computes_what_it_says():
    torch = _torch()
    d = dataset("spiral", n=60, noise=0.1, seed=2, classes=3, split=1.0)
    net = build_mlp(d, hidden=[6, 5], seed=3)
    g = net.graph
    assert net.params == ["W1", "b1", "W2", "b2", "W3", "b3"]
    assert [g.shape(n) for n in net.params] == [(2, 6), (6,), (6, 5), (5,), (5, 3), (3,)]
    logits = forward(net, d.X)
    assert np.allclose(g.value("logits"), logits, rtol=1e-12)
    ce = torch.nn.functional.cross_entropy(torch.tensor(logits), torch.tensor(d.y)).item()
    assert math.isclose(g.value("L"), ce, rel_tol=1e-12)
    assert g.output_node() == g.resolve("L") and net.test is None


def test_feature_transforms_are_playgrounds_seven_with_a_weight_row_each():
    d = dataset("circle", n=40, seed=1, split=1.0)
    feats = ["x1", "x2", "x1_sq", "x2_sq", "x1x2", "sin_x1", "sin_x2"]
    net = build_mlp(d, hidden=[3], features=list(reversed(feats)), seed=0)
    g = net.graph
    x1, x2 = d.X[:, 0], d.X[:, 1]
    F = np.c_[x1, x2, x1**2, x2**2, x1 * x2, np.sin(x1), np.sin(x2)]
    W1 = np.vstack([g.number(f"W1_{f}") for f in feats])
    assert net.params[:7] == [f"W1_{f}" for f in feats] and W1.shape == (7, 3)
    assert np.allclose(g.value("z1"), F @ W1 + g.number("b1"), rtol=1e-12)
    assert net.features == tuple(feats) and net.layers["layer 1"][:7] == net.params[:7]


def test_mse_on_two_classes_uses_targets_plus_minus_one_and_a_thresholded_accuracy():
    d = dataset("xor", n=20, seed=0, split=1.0)
    net = build_mlp(d, hidden=[4], loss="mse", output_activation="tanh", activation="relu", seed=0)
    g = net.graph
    assert np.array_equal(g.number("y")[:, 0], np.where(d.y == 1, 1.0, -1.0))
    p = {k: np.array(g.number(k)) for k in net.params}
    yhat = np.tanh(np.maximum(d.X @ p["W1"] + p["b1"], 0) @ p["W2"] + p["b2"])
    assert np.allclose(g.value("yhat"), yhat, rtol=1e-12)
    run = net.trainer(lr=0.1)
    assert run.step().accuracy == np.mean((yhat[:, 0] > 0) == (d.y == 1))


@pytest.mark.parametrize(
    "kwargs, words",
    [
        (dict(hidden=[0]), "1 to"),
        (dict(hidden=[3], activation="swish"), "unknown activation"),
        (dict(hidden=[3, 3], activation=["tanh"]), "one per hidden layer"),
        (dict(features=["x3"]), "unknown feature"),
        (dict(loss="hinge"), "unknown loss"),
        (dict(loss="cross_entropy", output_activation="tanh"), "output activation"),
    ],
)
def test_builder_refusals(kwargs, words):
    with pytest.raises(TrainingError, match=words):
        build_mlp(dataset("moons", n=20), **kwargs)
    with pytest.raises(TrainingError, match="regression"):
        build_mlp(dataset("plane", n=20), loss="cross_entropy")


# ---------------------------------------------------------------------------- pictures


def grid(extent, size):
    x0, x1, y0, y1 = extent
    xs, ys = np.linspace(x0, x1, size), np.linspace(y1, y0, size)
    return xs, ys, np.c_[np.tile(xs, size), np.repeat(ys, size)]


def test_pictures_show_values_and_per_point_gradients_of_every_unit():
    torch = _torch()
    d = dataset("gauss", n=60, noise=0.2, seed=5, classes=3)
    net = build_mlp(d, hidden=[4], seed=2)
    run = net.trainer(optimizer="adam", lr=0.05)
    run.run(steps=10)
    extent = (-5.0, 4.0, -3.0, 6.0)
    frame = PlanePictures(run, output_size=12, unit_size=7, extent=extent).frame()
    xs, ys, P = grid(extent, 12)
    assert np.array_equal(frame.xs, xs) and np.array_equal(frame.ys, ys) and ys[0] > ys[-1]
    p = {k: torch.tensor(np.array(v)) for k, v in run.param_values().items()}
    logits = (torch.tanh(torch.tensor(P) @ p["W1"] + p["b1"]) @ p["W2"] + p["b2"]).numpy()
    assert np.allclose(
        frame.output, np.exp(logits).reshape(12, 12, 3) / np.exp(logits).sum(1).reshape(12, 12, 1)
    )
    assert np.array_equal(frame.predicted, logits.argmax(1).reshape(12, 12))
    # units at 7 x 7: each point's own loss with the predicted class as its label
    _, _, Q = grid(extent, 7)
    h = torch.tanh(torch.tensor(Q) @ p["W1"] + p["b1"]).requires_grad_()
    z = h @ p["W2"] + p["b2"]
    loss = torch.nn.functional.cross_entropy(z, z.argmax(1), reduction="sum")
    loss.backward()
    for c in range(4):
        u = frame.unit("h1", c)
        assert np.allclose(u.value, h[:, c].detach().numpy().reshape(7, 7), rtol=1e-12)
        assert np.allclose(u.grad, h.grad[:, c].numpy().reshape(7, 7), rtol=1e-9, atol=1e-15)
    names = {u.name for u in frame.units}
    assert {"X", "X @ W1", "z1", "h1", "logits"} <= names and "y" not in names
    assert frame.step == 10 and run.t == 10  # the trainer's own tape and state are untouched
    assert PlanePictures(run, output_size=12, unit_size=7, extent=extent).frame(step=0).step == 0


def test_regression_pictures_are_the_surface_and_d_output_d_unit():
    torch = _torch()
    d = dataset("plane", n=50, seed=1)
    net = build_mlp(d, hidden=[3], activation="sigmoid", seed=4)
    frame = PlanePictures(net.trainer(), output_size=6, unit_size=5, extent=(-6, 6, -6, 6)).frame()
    assert frame.predicted is None
    _, _, Q = grid((-6, 6, -6, 6), 5)
    p = {k: torch.tensor(np.array(net.graph.number(k))) for k in net.params}
    h = torch.sigmoid(torch.tensor(Q) @ p["W1"] + p["b1"]).requires_grad_()
    (h @ p["W2"] + p["b2"]).sum().backward()
    u = frame.unit("h1", 2)
    assert np.allclose(u.grad, h.grad[:, 2].numpy().reshape(5, 5), rtol=1e-12)
    _, _, P = grid((-6, 6, -6, 6), 6)
    surface = torch.sigmoid(torch.tensor(P) @ p["W1"] + p["b1"]) @ p["W2"] + p["b2"]
    assert np.allclose(frame.output, surface.numpy().reshape(6, 6), rtol=1e-12)


def test_pictures_with_more_than_two_inputs_are_a_slice_at_the_mean():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(30, 3))
    y = (X[:, 0] > 0).astype(np.int64)
    net = build_mlp((X, y), hidden=[2], seed=0)
    pics = PlanePictures(net.trainer(), output_size=4, unit_size=3)
    assert "held at their training mean" in pics.note
    u = pics.frame().unit("X", 0)
    assert np.allclose(u.value[0], np.linspace(*pics.extent[:2], 3))
