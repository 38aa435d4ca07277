"""The Learn tools across instances: gradient check, forward mode, Descend on a constant of a
definition, step over or into an instance, an instance as one factor of the chain rule.

Oracles: central finite differences computed here, hand calculations, the engine's own
reverse-mode gradients for the step replay (a different algorithm), PyTorch float64.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine import Graph
from engine.learn.check import all_ok, gradient_check
from engine.learn.descent import default_trainable, descend
from engine.learn.explain import TIED, explain, explain_inside, instance_jacobian
from engine.learn.forward_mode import tangents
from engine.learn.stepper import composite_steps, replay
from tests.oracles import require

SRC = """\
def neuron(x, w):
    b = 0.5
    return tanh(x * w + b)
def pair(a, c):
    return a * c, a + c
p, q = pair(neuron(x, w1), neuron(x, w2))
p * q + x
"""


def _graph():
    return Graph.from_expression(SRC, x=0.3, w1=0.7, w2=-1.2)


def _flat(x=0.3, w1=0.7, w2=-1.2, b=0.5):
    n1, n2 = math.tanh(x * w1 + b), math.tanh(x * w2 + b)
    return (n1 * n2) * (n1 + n2) + x


def _fd(f, **at):
    h = 1e-6
    (name, v), = at.items()
    return (f(**{name: v + h}) - f(**{name: v - h})) / (2 * h)


def test_the_check_passes_on_every_number_and_op_inside_instances():
    g = _graph()
    rows = gradient_check(g, ops=True)
    assert all_ok(rows) and all(r.ok for r in rows)
    labels = {r.label for r in rows}
    assert "neuron.b" in labels and any("/" in lbl for lbl in labels)  # constants, insides
    row = next(r for r in rows if r.label == "neuron.b")
    assert row.analytic == pytest.approx(_fd(_flat, b=0.5), rel=1e-6)


def test_forward_mode_along_a_shared_constant_equals_its_reverse_gradient():
    g = _graph()
    t = tangents(g, "neuron.b")
    assert t[g.output_node()] == pytest.approx(g.grad("neuron.b"), rel=1e-12)
    assert t[g.output_node()] == pytest.approx(_fd(_flat, b=0.5), rel=1e-6)


def test_descend_on_a_constant_trains_it_for_every_instance():
    # loss = (w*2 + w*5 - 14)^2, w = 1: dloss/dw = 2 * (7w - 14) * 7 = -98 (by hand)
    src = "def f(x):\n    w = 1.0\n    return w * x\n(f(a) + f(b) - 14) ** 2"
    g = Graph.from_expression(src, a=2.0, b=5.0)
    assert ("f", g.locate("f.w")[1]) in default_trainable(g)
    descend(g, steps=1, lr=0.001, trainable=["f.w"])
    assert g.number("f.w") == pytest.approx(1.0 + 0.001 * 98, rel=1e-12)
    insts = [n for n in g.nodes() if g.op(n) == "call"]
    assert [g.value(i) for i in insts] == pytest.approx([1.098 * 2, 1.098 * 5], rel=1e-12)


def test_stepping_over_and_into_instances_replays_the_gradients():
    g = _graph()
    grads = g.grads()
    over = composite_steps(g)
    calls = [n for n in g.nodes() if g.op(n) == "call"]
    assert {s[0] for s in over} >= set(calls)  # each instance is one step
    assert all(isinstance(s[0], int) for s in over)  # nothing inside is shown
    got = replay(over)
    for n in g.nodes():
        if grads[n] is not None and g.op(n) != "call":
            assert got[n] == pytest.approx(grads[n], rel=1e-12)
    pair = next(n for n in calls if g.node(n)["definition"] == "pair")
    into = composite_steps(g, into=[pair])
    inside = [s[0] for s in into if isinstance(s[0], tuple)]
    assert inside and all(a[0] == pair for a in inside)
    got = replay(into)
    assert got[g.resolve("x")] == pytest.approx(grads[g.resolve("x")], rel=1e-12)
    mul = next(a for a in inside if g.op(a) == "mul")
    assert got[mul] == pytest.approx(g.grad(mul), rel=1e-12)


def test_an_instance_is_one_factor_with_its_local_jacobian():
    g = _graph()
    pair = next(n for n in g.nodes() if g.op(n) == "call" and g.node(n)["definition"] == "pair")
    ins = g.definition("pair").inputs
    a, c = g.value((pair, ins[0].node)), g.value((pair, ins[1].node))
    j = instance_jacobian(g, pair)
    assert j.matrix == ((c, a), (1.0, 1.0))  # d(a*c)/da = c, d(a*c)/dc = a, d(a+c)/d(.) = 1
    n1 = g.inputs(pair)[0]
    ex = explain(g, n1)
    term = next(t for t in ex.terms if t.consumer == pair)
    assert term.instance and term.local == (c, 1.0)
    dot = sum(gr * jj for gr, jj in zip(term.consumer_grad, term.local))
    assert term.product == pytest.approx(dot, rel=1e-12)
    inside = explain_inside(g, pair, 0)
    assert sum(t.product for t in inside.terms) == pytest.approx(term.product, rel=1e-12)


def test_a_shared_constant_is_explained_as_a_sum_over_instances():
    g = _graph()
    ex = explain(g, "neuron.b")
    assert ex.kind == TIED and len(ex.terms) == 2
    assert sum(t.product for t in ex.terms) == pytest.approx(g.grad("neuron.b"), rel=1e-12)
    assert "2 instance(s)" in ex.text


def test_a_grouped_tensor_graph_matches_pytorch():
    torch = require("torch")
    rng = np.random.default_rng(1)
    X, W1, b1, W2 = rng.standard_normal((4, 3)), rng.standard_normal((3, 5)), rng.standard_normal(5), \
        rng.standard_normal((5, 2))
    src = ("def layer(x, W, b):\n    return tanh(x @ W + b)\n"
           "def head(h, W):\n    return log_softmax(h @ W, axis=1)\n"
           "sum(head(layer(X, W1, b1), W2))")
    g = Graph.from_expression(src, X=X, W1=W1, b1=b1, W2=W2)
    t = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in
         {"X": X, "W1": W1, "b1": b1, "W2": W2}.items()}
    h = torch.tanh(t["X"] @ t["W1"] + t["b1"])
    out = torch.log_softmax(h @ t["W2"], dim=1).sum()
    out.backward()
    assert g.value(g.output_node()) == pytest.approx(out.item(), rel=1e-12)
    for k in ("X", "W1", "b1", "W2"):
        assert np.allclose(g.grad(k), t[k].grad.numpy(), rtol=1e-12, atol=1e-13), k
    layer = next(n for n in g.nodes() if g.op(n) == "call" and g.node(n)["definition"] == "layer")
    jac = instance_jacobian(g, layer)
    assert jac.output_shapes == ((4, 5),) and jac.input_shapes[1] == (3, 5)
    assert jac.matrix[0][2].shape == (4, 5, 5)  # d(out)/d(b): output shape + input shape
