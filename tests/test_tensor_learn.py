"""The Learn tools' engine side on tensors: the finite-difference check per element (sampled for
big arrays), forward mode along one element, descent on whole tensors (the XOR example trains to
100% accuracy), exports to Value-with-NumPy and PyTorch code, and the gallery's tensor lessons."""

from __future__ import annotations

import numpy as np
import pytest
from test_export import run_scripts

from engine import Graph, InvalidValueError
from engine.io.export import to_python, to_pytorch
from engine.learn.check import all_ok, check_elements, check_node, gradient_check
from engine.learn.descent import default_trainable, descend, plan_descent
from engine.learn.forward_mode import directional, element_tangents
from engine.learn.gallery import (
    TENSOR_BUILDERS,
    broadcast_bias,
    check,
    gallery,
    linear_mse,
    tensor_gallery,
    xor_mlp,
)
from tests.oracles import require


def mlp(batch=6, hidden=5, seed=0):
    rng = np.random.default_rng(seed)
    return Graph.from_expression(
        "h = tanh(x @ W1 + b1); z = h @ W2 + b2; "
        f"L = cross_entropy(z, y) + mse(h, zeros({batch}, {hidden})); L.backward()",
        x=rng.normal(size=(batch, 3)),
        W1=rng.normal(size=(3, hidden)),
        b1=rng.normal(size=hidden),
        W2=rng.normal(size=(hidden, 2)),
        b2=np.zeros(2),
        y=rng.integers(0, 2, size=batch),
    )


def test_gradient_check_checks_every_element_of_every_array():
    rows = {r.label: r for r in gradient_check(mlp(), ops=True)}
    assert all_ok(rows.values())
    assert rows["W1"].ok and len(rows["W1"].elements) == 15 and not rows["W1"].sampled
    assert rows["W1"].elements[6].index == (1, 1) and rows["W1"].elements[6].label == "W1[1, 1]"
    assert rows["y"].ok is None and "integer" in rows["y"].reason


def test_a_big_array_is_checked_on_a_seeded_sample_and_says_so():
    g = Graph.from_expression("sum(tanh(x @ W))", x=np.ones((3, 40)) * 0.1, W=np.ones((40, 30)) * 0.01)
    r = check_elements(g, "W", max_elements=10, seed=3)
    assert r.ok and r.sampled and r.total == 1200 and len(r.elements) == 10
    assert "10 of 1200 elements (sampled)" in r.reason
    again = check_elements(g, "W", max_elements=10, seed=3)
    assert [e.index for e in again.elements] == [e.index for e in r.elements]
    default = check_node(g, "W")  # the default sample size
    assert default.sampled and len(default.elements) == 24


def test_a_wrong_gradient_is_found_at_its_element(monkeypatch):
    import engine.core.ops as ops

    g = Graph.from_expression("sum(x * x)", x=np.array([1.0, 2.0, 3.0]))
    row = ops.OPS["mul"]
    bad = ops._ELEMENTWISE["mul"][1]

    def wrong(a, b, y):
        da, db = bad(a, b, y)
        return da * np.array([1.0, 1.0, 1.5]), db

    monkeypatch.setitem(ops.OPS, "mul", type(row)(**{**row.__dict__, "vlocal": wrong}))
    g._tape = None  # recompile with the patched row
    r = check_elements(g, "x")
    assert r.ok is False and [e.ok for e in r.elements] == [True, True, False]
    assert "[2]" in r.reason


def test_forward_mode_along_one_element_matches_the_gradient():
    g = mlp()
    out = g.resolve("L")
    for idx in [(0, 0), (2, 4), (1, 3)]:
        assert element_tangents(g, "W1", idx)[out] == pytest.approx(g.grad("W1")[idx], rel=1e-10)
    t = element_tangents(g, "b1", 2)
    assert t[g.resolve("h")].shape == (6, 5) and not t[g.resolve("h")][:, [0, 1, 3, 4]].any()
    with pytest.raises(InvalidValueError, match="not an element"):
        element_tangents(g, "W1", (3, 0))
    with pytest.raises(InvalidValueError, match="not an array"):
        element_tangents(Graph.from_expression("a * 2", a=1.0), "a", 0)


def test_directional_moves_a_whole_array_together():
    g = Graph.from_expression("sum(x * x)", x=np.array([1.0, 2.0]))
    assert directional(g, {"x": 1.0})[g.output_node()] == pytest.approx(6.0)


def test_descent_trains_the_xor_example_to_full_accuracy():
    g = xor_mlp()
    y = g.number("y")
    assert sorted(g.label(n) for n in default_trainable(g)) == ["W1", "W2", "b1", "b2"]
    before = (g.value("p").argmax(axis=1) == y).mean()
    r = descend(g, steps=300, lr=0.5)
    assert r.stopped is None and r.history[-1] < r.history[0] / 50
    assert before < 1.0 and (g.value("p").argmax(axis=1) == y).mean() == 1.0
    assert g.shape("W1") == (2, 8)  # whole tensors moved, shapes kept


def test_descent_refuses_to_train_integer_targets():
    with pytest.raises(InvalidValueError, match="integer class targets"):
        plan_descent(xor_mlp(), steps=1, trainable=["y"])


def test_value_export_runs_and_prints_the_same_gradients(tmp_path):
    every_row = Graph.from_expression(
        "a = mean(x, axis=0); c = x.T; d = reshape(c, [6]); e = logsumexp(x, axis=None); "
        "f = log_softmax(x, axis=1); g = x.sum(axis=[0, 1], keepdims=True); "
        "mean(a) + sum(d * d) + e + sum(f) + sum(g)",
        x=np.arange(6.0).reshape(2, 3) / 4,
    )
    graphs = [broadcast_bias(), linear_mse(), xor_mlp(), mlp(batch=4, hidden=3), every_row]
    outs = run_scripts(tmp_path, [to_python(g) for g in graphs])
    for g, text in zip(graphs, outs):
        lines = dict(line.split(" = ", 1) for line in text.strip().splitlines())
        assert float(lines["output"]) == pytest.approx(g.value(g.output_node()), rel=1e-12)
        for n in g.nodes():
            if g.op(n) == "number" and g.name(n):
                got = np.array(eval_list(lines[f"{g.name(n)}.grad"]))
                np.testing.assert_allclose(got, g.grad(n), rtol=1e-12, atol=1e-15)


def eval_list(text):
    import json

    return json.loads(text)


def test_pytorch_export_spells_tensor_rows():
    code = to_pytorch(
        Graph.from_expression(
            "a = sum(x, axis=0); b = mean(x, axis=[0, 1], keepdims=True); c = x.T; d = reshape(x, 6); "
            "e = logsumexp(x, axis=None); f = log_softmax(x, axis=1); "
            "sum(a) + sum(b) + sum(c) + sum(d) + e + sum(f)",
            x=np.ones((2, 3)),
        )
    )
    for piece in (
        "torch.sum(x, dim=0, keepdim=False)",
        "torch.mean(x, dim=(0, 1), keepdim=True)",
        "torch.permute(x, (1, 0))",
        "torch.reshape(x, (6,))",
        "torch.logsumexp(x, dim=(0, 1), keepdim=False)",
        "torch.log_softmax(x, dim=1)",
        "dtype=torch.float64, requires_grad=True",
        "import numpy as np",
    ):
        assert piece in code, piece
    xor = to_pytorch(xor_mlp())
    assert "torch.nn.functional.cross_entropy(z, y.long())" in xor and "dtype=torch.int64" in xor
    assert "torch.ones_like" in to_pytorch(_array_output())


def _array_output():
    return Graph.from_expression("y = x * 2", x=np.ones(2))


def test_pytorch_export_runs_and_prints_the_same_gradients(tmp_path):
    require("torch")
    graphs = [linear_mse(), xor_mlp(), _array_output()]
    outs = run_scripts(tmp_path, [to_pytorch(g) for g in graphs])
    for g, text in zip(graphs, outs):
        lines = dict(line.split(" = ", 1) for line in text.strip().splitlines())
        for n in g.nodes():
            if g.op(n) == "number" and g.name(n) and g.number(n).dtype.kind == "f":
                np.testing.assert_allclose(
                    np.array(eval_list(lines[f"{g.name(n)}.grad"])), g.grad(n), rtol=1e-9
                )


@pytest.mark.parametrize("file", ["broadcast_bias.json", "linear_mse.json", "xor_mlp.json"])
def test_tensor_lessons_hold(file):
    (e,) = [e for e in tensor_gallery() if e.file == file]
    assert check(e) == []
    assert e in gallery()  # listed in Help > Examples with the others


@pytest.mark.parametrize("file", list(TENSOR_BUILDERS))
def test_saved_tensor_examples_are_what_the_builders_make(file):
    from engine.io.document import dumps

    (e,) = [e for e in tensor_gallery() if e.file == file]
    assert dumps(e.load()) == dumps(TENSOR_BUILDERS[file]())


def test_the_xor_example_as_saved_trains_to_full_accuracy():
    (e,) = [e for e in tensor_gallery() if e.file == "xor_mlp.json"]
    g = e.load()
    descend(g, steps=300, lr=0.5)
    assert (g.value("p").argmax(axis=1) == g.number("y")).all()


def test_broadcast_lesson_gradient_is_the_column_sums():
    g = broadcast_bias()
    np.testing.assert_array_equal(g.grad("b"), g.grad("y").sum(axis=0))
    assert g.grad("b").tolist() == [2.0, 2.0, 2.0]


def test_linear_layer_gradient_is_x_transpose_times_upstream():
    g = linear_mse()
    np.testing.assert_allclose(g.grad("W"), g.number("x").T @ g.grad("yhat"), rtol=1e-14)


def test_steps_on_the_mlp_send_arrays_that_sum_to_each_gradient():
    from engine.learn.stepper import replay

    g = xor_mlp()
    steps = g.steps()
    grads = replay(steps)
    for n in g.nodes():
        if g.grad(n) is not None:
            np.testing.assert_allclose(grads[n], g.grad(n), rtol=1e-12, atol=1e-15)
    w2 = [s for s in steps if s[0] == g.inputs("z")[0]][0]  # the h @ W2 node
    amounts = {port: amount for port, _src, amount, _b, _a in w2[2]}
    np.testing.assert_allclose(amounts[1], g.value("h").T @ g.grad(w2[0]), rtol=1e-12)
