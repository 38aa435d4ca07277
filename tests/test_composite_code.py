"""Composites in and out of code: ``def`` functions in programs, exported functions (Value and
PyTorch) that run, ``engine.group`` and ``engine.nn``.

Oracles: the same computation written flat (plain Python floats, the engine without
functions), micrograd's own ``nn`` and ``engine`` (weights and losses), PyTorch running the
exported script.
"""

from __future__ import annotations

import math
import random
import subprocess
import sys
from pathlib import Path

import pytest

from engine import Graph, ParseError, Value, group
from engine.io.export import to_python, to_pytorch
from tests.oracles import require

ROOT = Path(__file__).resolve().parents[1]

PROGRAM = """\
def neuron(x1, x2, w1, w2, b):
    return tanh(x1*w1 + x2*w2 + b)

def pair(a, b):
    k = 0.5
    s = neuron(a, b, k, -1.0, 0.1)
    return s, a * b

p, q = pair(x, 2.0)
neuron(x, 2.0, 0.5, -1.0, p) + q
"""


def _flat(x):
    """PROGRAM with plain floats."""
    s = math.tanh(x * 0.5 + 2.0 * -1.0 + 0.1)
    p, q = s, x * 2.0
    return math.tanh(x * 0.5 + 2.0 * -1.0 + p) + q


def test_a_program_with_functions_evaluates_as_the_same_formula_flat():
    g = Graph.from_expression(PROGRAM, x=0.3)
    assert set(g.definitions) == {"neuron", "pair"}
    assert g.definitions["neuron"].input_names == ["x1", "x2", "w1", "w2", "b"]
    assert g.definitions["pair"].output_names == ["s", "out2"]
    assert g.value(g.output_node()) == pytest.approx(_flat(0.3), rel=1e-15)
    h = 1e-6
    assert g.grad("x") == pytest.approx((_flat(0.3 + h) - _flat(0.3 - h)) / (2 * h), rel=1e-7)
    calls = [n for n in g.nodes() if g.op(n) == "call"]
    assert len(calls) == 2  # one instance per call; pair's body holds a third


def test_each_call_is_an_instance_and_constants_are_shared():
    g = Graph.from_expression("def f(x):\n    w = 3.0\n    return w * x\nf(a) + f(b)", a=2.0, b=5.0)
    assert len([n for n in g.nodes() if g.op(n) == "call"]) == 2
    assert g.grad("f.w") == 2.0 + 5.0


@pytest.mark.parametrize("source, line, col, words", [
    ("def f(x):\n    for i in x:\n        pass\n    return x\nf(1.0)", 2, 5, "loops are not allowed"),
    ("def f(x):\n    return f(x)\nf(1.0)", 2, 12, "recursion is not allowed"),
    ("def f(x=1.0):\n    return x\nf(1.0)", 1, 9, "default arguments are not allowed"),
    ("def f(x):\n    return x * y\nf(1.0)", 2, 16, "reads 'y', which is not one of its arguments"),
    ("def f(x):\n    return x, x * 2\nf(1.0) + 1", 3, 1, "returns two values; unpack them"),
    ("def f(x):\n    return x, x\np, q, r = f(1.0)\np", 3, 1, "unpack 2 name(s), not 3"),
    ("def f(x):\n    return x\n    y = 1\nf(1.0)", 3, 5, "must end with return"),
    ("def f(x):\n    def g(y):\n        return y\n    return x\nf(1.0)", 2, 5, "inside functions"),
    ("def f(*xs):\n    return 1.0\nf(1.0)", 1, 8, "plain arguments only"),
    ("@dec\ndef f(x):\n    return x\nf(1.0)", 1, 2, "decorators are not allowed"),
    ("def exp(x):\n    return x\nexp(1.0)", 1, 1, "already a function"),
    ("def f(x):\n    return x\ndef f(y):\n    return y\nf(1.0)", 3, 1, "defined twice"),
    ("def f(x):\n    return x\nf(1.0, 2.0)", 3, 1, "takes exactly one argument"),
    ("def f(x):\n    return x\nf(x=1.0)", 3, 3, "by position"),
    ("def f(x):\n    y = 2\n\nf(1.0)", 2, 5, "must end with return"),
    ("def f(x):\n    return\nf(1.0)", 2, 5, "return needs a value"),
    ("def f(x):\n    x.backward()\n    return x\nf(1.0)", 2, 5, "backward() cannot be called inside"),
])
def test_function_refusals_say_what_and_where(source, line, col, words):
    with pytest.raises(ParseError) as info:
        Graph.from_expression(source)
    assert (info.value.line, info.value.col) == (line, col), str(info.value)
    assert words in str(info.value)


def _run(script: str) -> dict:
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    got = {}
    for line in out.stdout.splitlines():
        key, _, value = line.partition(" = ")
        got[key] = None if value == "None" else eval(value)  # noqa: S307 - numbers our script printed
    return got


def test_exported_functions_run_and_print_the_engine_gradients_in_both_dialects():
    require("torch")
    g = Graph.from_expression(PROGRAM, x=0.3)
    for script in (to_python(g), to_pytorch(g)):
        assert "def neuron(x1, x2, w1, w2, b):" in script and "def pair(a, b):" in script
        got = _run(script)
        assert got["output"] == pytest.approx(g.value(g.output_node()), rel=1e-12)
        assert got["x.grad"] == pytest.approx(g.grad("x"), rel=1e-12)
        assert got["pair.k.grad"] == pytest.approx(g.grad("pair.k"), rel=1e-12)


def test_exported_tensor_functions_run_in_both_dialects():
    require("torch")
    import numpy as np

    src = "def layer(x, W, b):\n    return tanh(x @ W + b)\nsum(layer(layer(X, W1, b1), W2, b2))"
    rng = np.random.default_rng(0)
    values = {"X": (3, 2), "W1": (2, 4), "b1": (4,), "W2": (4, 4), "b2": (4,)}
    g = Graph.from_expression(src, **{k: rng.standard_normal(shape) for k, shape in values.items()})
    for script in (to_python(g), to_pytorch(g)):
        got = _run(script)
        assert np.allclose(got["W1.grad"], g.grad("W1"), rtol=1e-12, atol=1e-14)
        assert np.allclose(got["b2.grad"], g.grad("b2"), rtol=1e-12, atol=1e-14)


# ---------------------------------------------------------------------------- engine.group


def test_a_decorated_function_becomes_a_definition_shared_by_identical_calls():
    @group("neuron")
    def neuron(x, w, b):
        return (x * w + b).tanh()

    x = Value(0.5, label="x")
    ws = [Value(2.0, label="w1"), Value(-1.0, label="w2")]
    y = neuron(x, ws[0], Value(0.1)) * neuron(x, ws[1], Value(0.0))
    g = y.graph()
    assert list(g.definitions) == ["neuron"]
    assert g.definitions["neuron"].input_names == ["x", "w", "b"]
    assert len([n for n in g.nodes() if g.op(n) == "call"]) == 2
    y.backward()
    assert g.value(g.output_node()) == y.data
    assert g.grad("x") == pytest.approx(x.grad, rel=1e-14)
    assert g.grad("w1") == pytest.approx(ws[0].grad, rel=1e-14)


def test_different_constants_make_a_second_definition():
    @group("scale")
    def scale(x, k):
        return x * k  # k a plain number: a constant of the body

    a = Value(2.0, label="a")
    g = (scale(a, 3.0) + scale(a, 3.0) + scale(a, 4.0)).graph()
    assert sorted(g.definitions) == ["scale", "scale#2"]
    assert g.grad("a") == 3.0 + 3.0 + 4.0


def test_a_with_block_outputs_what_is_read_outside():
    a = Value(2.0, label="a")
    b = Value(3.0, label="b")
    with group("loss"):
        d = a - b
        sq = d * d
        unused = d * 100  # read by nothing outside: not an output
    y = sq + a
    g = y.graph()
    d_ = g.definitions["loss"]
    assert d_.input_names == ["a", "b"] and len(d_.outputs) == 1
    assert unused.data == -100
    y.backward()
    assert g.value(g.output_node()) == y.data and g.grad("a") == a.grad and g.grad("b") == b.grad


def test_groups_nest_and_values_made_outside_stay_outside():
    @group
    def inner(x):
        return x * x

    @group("outer")
    def outer(x):
        return inner(x) + inner(x + 1)

    x = Value(3.0, label="x")
    y = outer(x)
    g = y.graph()
    assert set(g.definitions) == {"inner", "outer"}
    top = g.nodes()
    assert len(top) == 2  # x and one outer instance
    y.backward()
    assert g.grad("x") == x.grad == 2 * 3.0 + 2 * 4.0


def test_group_names_are_checked():
    with pytest.raises(Exception, match="'.'"):
        group("a.b")
    with pytest.raises(Exception, match="name"):
        group("")


# ---------------------------------------------------------------------------- engine.nn


def _micrograd_nn():
    return require("micrograd.nn")


def test_random_seed_gives_micrograds_weights():
    mg = _micrograd_nn()
    from engine.nn import MLP

    random.seed(1337)
    ours = MLP(2, [4, 4, 1])
    random.seed(1337)
    theirs = mg.MLP(2, [4, 4, 1])
    assert [p.data for p in ours.parameters()] == [p.data for p in theirs.parameters()]
    assert repr(ours) == repr(theirs)


def _moons(n, seed=1):
    rng = random.Random(seed)
    xs, ys = [], []
    for i in range(n):
        t = math.pi * (i % (n // 2)) / (n // 2 - 1)
        upper = i < n // 2
        x = [math.cos(t), math.sin(t)] if upper else [1 - math.cos(t), 0.5 - math.sin(t)]
        xs.append([x[0] + rng.gauss(0, 0.1), x[1] + rng.gauss(0, 0.1)])
        ys.append(-1 if upper else 1)
    return xs, ys


def _demo_steps(MLP, Value, xs, ys, steps):  # noqa: N803 - micrograd's names
    """micrograd's demo notebook's training loop, verbatim but for the data."""
    random.seed(1337)
    model = MLP(2, [16, 16, 1])
    history = []
    for k in range(steps):
        inputs = [list(map(Value, xrow)) for xrow in xs]
        scores = list(map(model, inputs))
        losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(ys, scores)]
        data_loss = sum(losses) * (1.0 / len(losses))
        alpha = 1e-4
        reg_loss = alpha * sum(p * p for p in model.parameters())
        total_loss = data_loss + reg_loss
        model.zero_grad()
        total_loss.backward()
        learning_rate = 1.0 - 0.9 * k / 100
        for p in model.parameters():
            p.data -= learning_rate * p.grad
        history.append(total_loss.data)
    return history, total_loss


def test_micrograds_demo_with_engine_nn_trains_to_micrograds_losses():
    mg = _micrograd_nn()
    from micrograd.engine import Value as MgValue

    from engine.nn import MLP

    xs, ys = _moons(20)
    ours, _ = _demo_steps(MLP, Value, xs, ys, 3)
    theirs, _ = _demo_steps(mg.MLP, MgValue, xs, ys, 3)
    assert ours == pytest.approx(theirs, rel=1e-12)


def test_the_demo_loss_opens_grouped_with_a_small_top_level():
    """micrograd's whole demo (100 points, MLP(2, [16, 16, 1])): the top level holds at most
    5 % of the flat node count, and the grouped graph computes the same loss and gradients."""
    from engine.nn import MLP

    xs, ys = _moons(100)
    random.seed(1337)
    model = MLP(2, [16, 16, 1])
    scores = [model(list(map(Value, x))) for x in xs]
    losses = [(1 + -yi * si).relu() for yi, si in zip(ys, scores)]
    loss = sum(losses) * (1.0 / len(losses)) + 1e-4 * sum(p * p for p in model.parameters())
    loss.backward()
    flat = len(loss._topo())
    g = loss.graph()
    assert flat > 60_000 and len(g) <= 0.05 * flat
    assert g.value(g.output_node()) == pytest.approx(loss.data, rel=1e-12)
    bank = next(d for d in g.definitions if d.endswith("parameters"))
    consts = g.definitions[bank].constants()
    params = model.parameters()
    for k in (0, 1, len(params) - 1):
        assert g.grad((bank, consts[k])) == pytest.approx(params[k].grad, rel=1e-9, abs=1e-15)
