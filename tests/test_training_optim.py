"""engine.training's optimizers and Trainer against torch.optim: same initial weights, same data,
100 steps; every loss, every final weight (and each layer's gradient norm) within 1e-9 relative."""

import math
import os

import numpy as np
import pytest

from engine import Graph
from engine.training import (
    Trainer,
    TrainingError,
    TrainingStopped,
    build_mlp,
    dataset,
    initial_value,
)

REL, ABS = 1e-9, 1e-12


def _torch():
    if os.environ.get("CI"):
        import torch  # under CI an oracle fails rather than skips
    else:
        torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    return torch


@pytest.fixture(scope="module")
def net():
    """A 2-5-4-3 tanh MLP with cross-entropy on three Gaussian clusters (36 training points)."""
    return build_mlp(dataset("gauss", n=48, noise=0.1, seed=4, classes=3, split=0.75), hidden=[5, 4], seed=7)


def torch_run(torch, net, optim, steps, l1=0.0, batches=None, **kw):
    """The same network in PyTorch: losses per step, layer gradient norms per step, final weights."""
    g = net.graph
    P = {n: torch.tensor(np.array(g.number(n)), dtype=torch.float64, requires_grad=True) for n in net.params}
    X = torch.tensor(np.array(g.number("X")))
    y = torch.tensor(np.array(g.number("y")))
    opt = optim(list(P.values()), **kw)
    losses, norms = [], []
    for k in range(steps):
        rows = slice(None) if batches is None else torch.tensor(batches(k))
        h1 = torch.tanh(X[rows] @ P["W1"] + P["b1"])
        h2 = torch.tanh(h1 @ P["W2"] + P["b2"])
        loss = torch.nn.functional.cross_entropy(h2 @ P["W3"] + P["b3"], y[rows])
        losses.append(loss.item())
        opt.zero_grad()
        total = loss + l1 * sum(p.abs().sum() for p in P.values()) if l1 else loss
        total.backward()
        # the gradient of the loss itself (the L1 term is the optimizer's part in ours)
        norms.append(
            [
                math.sqrt(
                    sum(
                        float((P[f"{w}{i}"].grad - l1 * torch.sign(P[f"{w}{i}"].detach())).pow(2).sum())
                        for w in "Wb"
                    )
                )
                for i in (1, 2, 3)
            ]
        )
        opt.step()
    return losses, norms, {n: p.detach().numpy() for n, p in P.items()}


def close(a, b):
    return np.allclose(a, b, rtol=REL, atol=ABS)


CASES = [
    ("sgd", "SGD", dict(lr=0.5), {}),
    ("sgd", "SGD", dict(lr=0.5, weight_decay=0.01), {}),
    ("momentum", "SGD", dict(lr=0.1, momentum=0.9), {}),
    ("momentum", "SGD", dict(lr=0.1, momentum=0.8, nesterov=True, weight_decay=0.003), {}),
    ("adam", "Adam", dict(lr=0.02), {}),
    ("adam", "Adam", dict(lr=0.02, weight_decay=0.01, betas=(0.8, 0.99), eps=1e-6), {}),
    ("adamw", "AdamW", dict(lr=0.02, weight_decay=0.1), {}),
    ("adamw", "AdamW", dict(lr=0.02, weight_decay=0.0), {}),
]


@pytest.mark.parametrize("ours, theirs, kw, _", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_full_batch_trajectory_matches_torch_optim(net, ours, theirs, kw, _):
    torch = _torch()
    t_losses, t_norms, t_final = torch_run(torch, net, getattr(torch.optim, theirs), 100, **kw)
    run = net.trainer(optimizer=ours, **kw)
    result = run.run(steps=100)
    assert result.steps == 100 and not result.failed
    assert close(run.history.loss, t_losses)
    assert close(run.history.grad_norms, t_norms)
    final = run.param_values()
    for name, w in t_final.items():
        assert close(final[name], w), name
    assert run.layers == ["layer 1", "layer 2", "layer 3"]


@pytest.mark.parametrize("ours, theirs, kw", [("sgd", "SGD", dict(lr=0.3)), ("adam", "Adam", dict(lr=0.02))])
def test_l1_is_the_gradient_of_l1_times_the_sum_of_absolute_values(net, ours, theirs, kw):
    torch = _torch()
    t_losses, t_norms, t_final = torch_run(torch, net, getattr(torch.optim, theirs), 100, l1=0.01, **kw)
    run = net.trainer(optimizer=ours, l1=0.01, **kw)
    run.run(steps=100)
    assert close(run.history.loss, t_losses)
    assert close(run.history.grad_norms, t_norms)
    for name, w in t_final.items():
        assert close(run.param_values()[name], w), name


def test_mini_batches_walk_a_permutation_per_epoch_with_a_partial_last_batch(net):
    """36 points in batches of 10: 4 steps per epoch (10, 10, 10, 6), the order of epoch e from
    RandomState(seed + e).permutation(36), as DESIGN §7 says."""
    torch = _torch()
    seed, n, b = 5, 36, 10

    def rows(k):
        e, j = divmod(k, 4)
        return np.random.RandomState(seed + e).permutation(n)[j * b : (j + 1) * b]

    t_losses, _, t_final = torch_run(torch, net, torch.optim.Adam, 12, batches=rows, lr=0.05)
    run = net.trainer(optimizer="adam", lr=0.05, batch=b, seed=seed)
    assert run.steps_per_epoch == 4
    run.run(epochs=3)
    assert [r.epoch for r in run.history] == [0] * 4 + [1] * 4 + [2] * 4
    assert close(run.history.loss, t_losses)
    for name, w in t_final.items():
        assert close(run.param_values()[name], w), name
    # the test split is evaluated once per epoch, after the epoch's last update
    tests = run.history.test
    assert [s for s, _, _ in tests] == [4, 8, 12]
    P = {k: torch.tensor(v) for k, v in t_final.items()}
    Xt, yt = (
        torch.tensor(np.array(net.graph.number("X_test"))),
        torch.tensor(np.array(net.graph.number("y_test"))),
    )
    logits = torch.tanh(torch.tanh(Xt @ P["W1"] + P["b1"]) @ P["W2"] + P["b2"]) @ P["W3"] + P["b3"]
    assert math.isclose(tests[-1][1], torch.nn.functional.cross_entropy(logits, yt).item(), rel_tol=REL)
    assert tests[-1][2] == pytest.approx(float((logits.argmax(1) == yt).double().mean()))


def test_scalar_parameters_follow_torch_adam():
    """Parameters that are plain numbers (a micrograd-style scalar graph) take the same path."""
    torch = _torch()
    g = Graph.from_expression(
        "o = tanh(w1*x1 + w2*x2 + b)\nL = (o - t)**2", w1=-3.0, w2=1.0, b=6.88, x1=2.0, x2=0.0, t=0.5
    )
    run = Trainer(g, params=["w1", "w2", "b"], optimizer="adam", lr=0.1)
    run.run(steps=100)
    w1, w2, b = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (-3.0, 1.0, 6.88))
    opt = torch.optim.Adam([w1, w2, b], lr=0.1)
    losses = []
    for _ in range(100):
        loss = (torch.tanh(w1 * 2.0 + w2 * 0.0 + b) - 0.5) ** 2
        losses.append(loss.item())
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert close(run.history.loss, losses)
    values = run.param_values()
    assert all(isinstance(values[k], float) for k in values)
    assert close([values["w1"], values["w2"], values["b"]], [w1.item(), w2.item(), b.item()])
    assert values["w2"] == 1.0  # x2 = 0: no gradient ever reaches w2's update


def test_accuracy_of_a_cross_entropy_loss_is_argmax_against_the_labels(net):
    run = net.trainer(optimizer="sgd", lr=0.5)
    rec = run.step()
    X, y = np.array(net.graph.number("X")), np.array(net.graph.number("y"))
    p = {k: np.array(net.graph.number(k)) for k in net.params}
    logits = np.tanh(np.tanh(X @ p["W1"] + p["b1"]) @ p["W2"] + p["b2"]) @ p["W3"] + p["b3"]
    assert rec.accuracy == np.mean(np.argmax(logits, 1) == y)


def test_explicit_accuracy_thresholds_a_single_score_at_zero():
    """micrograd's demo: labels ±1, one score per point, right when the signs agree."""
    X = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]])
    y = np.array([[1.0], [-1.0], [-1.0], [1.0]])
    g = Graph.from_expression(
        "score = x @ w\nL = mean(relu(1 - y * score))", x=X, y=y, w=np.array([[1.0], [-1.0]])
    )
    run = Trainer(g, params=["w"], data=["x", "y"], accuracy=("score", "y"), lr=0.1)
    # scores: 1, -1, -1, 1 -> all four signs agree
    assert run.step().accuracy == 1.0
    g2 = Graph.from_expression(
        "score = x @ w\nL = mean(relu(1 - y * score))", x=X, y=y, w=np.array([[1.0], [1.0]])
    )
    # scores: 1, 1, -1, -1 -> points 0 and 2 right
    assert Trainer(g2, params=["w"], data=["x", "y"], accuracy=("score", "y")).step().accuracy == 0.5


# ---------------------------------------------------------------------------- the run itself


def test_the_document_is_not_touched_while_training_and_the_edit_is_one_step(net):
    g = net.graph.copy()
    before = {n: np.array(g.number(n)) for n in net.params}
    events = []
    g.subscribe(events.append)
    run = Trainer(g, params=net.params, data=["X", "y"], optimizer="adam", lr=0.05)
    run.run(steps=20)
    assert events == []
    assert all(np.array_equal(g.number(n), before[n]) for n in net.params)
    edit = run.edit()
    assert set(edit.after) == {g.resolve(n) for n in net.params}
    edit.apply(g)
    assert all(np.array_equal(g.number(n), run.param_values()[n]) for n in net.params)
    edit.revert(g)
    assert all(np.array_equal(g.number(n), before[n]) for n in net.params)


def test_reset_gives_the_same_weights_and_the_same_run(net):
    run = net.trainer(optimizer="momentum", lr=0.1, batch=8, seed=3)
    first = [r.loss for r in run.run(steps=15)]
    run.reset()
    assert run.t == 0 and len(run.history) == 0
    assert all(np.array_equal(v, net.graph.number(k)) for k, v in run.param_values().items())
    assert [r.loss for r in run.run(steps=15)] == first


def test_reinitialise_draws_the_builders_weights_for_that_seed(net):
    run = net.trainer()
    run.reinitialise(11)
    other = build_mlp(
        dataset("gauss", n=48, noise=0.1, seed=4, classes=3, split=0.75), hidden=[5, 4], seed=11
    )
    for name in net.params:
        assert np.array_equal(run.param_values()[name], other.graph.number(name))
    # Glorot's bound for W2 (5, 4), written here: sqrt(6 / (5 + 4)); biases start at 0
    w2 = run.param_values()["W2"]
    assert np.all(np.abs(w2) <= math.sqrt(6 / 9)) and not np.array_equal(w2, net.graph.number("W2"))
    assert not np.any(run.param_values()["b1"])


def test_time_travel_recomputes_thinned_steps_exactly_and_branches(net):
    run = net.trainer(optimizer="adam", lr=0.05, batch=10, seed=1, budget=40_000)
    run.run(steps=60)
    kept = run.kept_steps()
    assert run.memory <= 40_000 and len(kept) < 61 and kept[0] == 0 and kept[-1] == 60
    thinned = next(k for k in range(1, 60) if k not in kept)
    fresh = net.trainer(optimizer="adam", lr=0.05, batch=10, seed=1)
    fresh.run(steps=thinned)
    snap = run.state_at(thinned)
    for a, b in zip(snap.params, fresh.values):
        assert np.array_equal(a, b)
    assert (snap.epoch, snap.offset) == divmod(thinned, run.steps_per_epoch)
    # branch: back to the thinned step, the old curve returned, the same next step
    old = run.rewind(thinned)
    assert len(old) == 60 and len(run.history) == thinned and run.t == thinned
    assert run.step().loss == old[thinned].loss


def test_a_non_finite_loss_stops_the_run_naming_the_step():
    g = Graph.from_expression("L = w * w", w=1.0)
    run = Trainer(g, params=["w"], lr=1e200)
    result = run.run(steps=5)
    # step 1: loss 1, w = 1 - 1e200 * 2; step 2: loss 4e400 overflows
    assert result.failed and result.steps == 1 and "step 2" in result.reason and "inf" in result.reason
    assert run.t == 1 and run.param_values()["w"] == 1.0 - 2e200
    with pytest.raises(TrainingStopped) as e:
        run.step()
    assert e.value.step == 2


def test_until_loss_and_until_accuracy_stop_at_the_first_step_that_meets_them(net):
    run = net.trainer(optimizer="adam", lr=0.05)
    result = run.run(until_accuracy=0.9)
    accs = run.history.accuracy
    assert accs[-1] >= 0.9 and all(a < 0.9 for a in accs[:-1]) and "reached" in result.reason
    run.reset()
    result = run.run(until_loss=0.5, steps=1000)
    assert run.history.loss[-1] <= 0.5 and all(v > 0.5 for v in run.history.loss[:-1])


def test_initial_value_rule():
    rng = np.random.RandomState(0)
    assert initial_value((), "b", rng) == 0.0
    w = initial_value((), "w", rng)
    assert isinstance(w, float) and -1 <= w <= 1


@pytest.mark.parametrize(
    "kwargs, words",
    [
        (dict(params=["L"]), "only number nodes"),
        (dict(params=["nope"]), "no node named 'nope'"),
        (dict(params=["y"]), "integer class labels"),
        (dict(params=["W1"], data=["X", "X_test"]), "same number of rows"),
        (dict(params=["W1"], batch=4), "need data nodes"),
        (dict(params=["W1"], data=["X", "y"], optimizer="adam", momentum=0.9), "momentum is for sgd"),
        (dict(params=["W1"], data=["X", "y"], lr=-1), "learning rate"),
        (dict(params=["W1"], data=["X", "y"], optimizer="rmsprop"), "unknown optimizer"),
        (dict(params=["W1"], data=["X", "y"], nesterov=True), "Nesterov"),
        (dict(params=["W1"], loss="logits"), "scalar loss"),
        (dict(params=["W1", "W1"]), "twice"),
        (dict(params=["X"], data=["X", "y"]), "both a parameter and data"),
    ],
)
def test_refusals_name_what_is_wrong(net, kwargs, words):
    from engine import GraphError

    with pytest.raises(GraphError) as e:
        Trainer(net.graph, **kwargs)
    assert words in str(e.value)


def test_a_shape_problem_at_batch_size_is_refused_up_front():
    """A constant sized for the whole data breaks at a batch of 2: refused when the trainer is
    made, naming the node, not at step 3."""
    g = Graph.from_expression(
        "L = mean((x @ w + c) * (x @ w + c))", x=np.ones((4, 2)), w=np.ones((2, 1)), c=np.zeros((4, 1))
    )
    with pytest.raises(TrainingError, match="batch of 2 points"):
        Trainer(g, params=["w"], data=["x"], batch=2)
