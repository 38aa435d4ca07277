"""The chain rule across instances (issue 14 point 4): an instance is one factor with its
local Jacobian, numbers and (for tensors) shapes, and expands into the inside's terms; an
instance with several outputs is explained one output at a time.

Oracles: central finite differences of a private evaluation, torch.autograd.functional.jacobian
(float64), hand calculations.
"""

from __future__ import annotations

import numpy as np
import pytest

from engine import Graph
from engine.learn.explain import explain, explain_inside, instance_jacobian

PAIR = """\
def pair(a, c):
    return a * tanh(c), a + c * c
p, q = pair(x, y)
p * q + x
"""


def _instance(g, name):
    return next(n for n in g.nodes() if g.op(n) == "call" and g.node(n)["definition"] == name)


def _fd_jacobian(g, inst, h=1e-6):
    """d(output m)/d(input k) by central differences: nudge what feeds port k."""
    srcs = g.inputs(inst)
    rows = []
    for m in range(g.output_arity(inst)):
        row = []
        for s in srcs:
            v = g.value(s)
            g.set_value(s, v + h)
            up = g.value(inst, m)
            g.set_value(s, v - h)
            down = g.value(inst, m)
            g.set_value(s, v)
            row.append((up - down) / (2 * h))
        rows.append(row)
    return rows


def test_a_scalar_instance_jacobian_equals_finite_differences():
    g = Graph.from_expression(PAIR, x=0.8, y=-0.4)
    inst = _instance(g, "pair")
    jac = instance_jacobian(g, inst)
    want = _fd_jacobian(g, inst)
    for m in range(2):
        for k in range(2):
            assert jac.matrix[m][k] == pytest.approx(want[m][k], rel=1e-7, abs=1e-9)
    assert jac.lines()[0].startswith("∂out1/∂a = ")


def test_each_output_of_an_instance_is_explained_on_its_own():
    g = Graph.from_expression(PAIR, x=0.8, y=-0.4)
    inst = _instance(g, "pair")
    p, q = g.value(inst, 0), g.value(inst, 1)
    first, second = explain(g, inst), explain(g, inst, 1)
    # y = p * q + x: dy/dp = q, dy/dq = p (by hand), each one wire into the mul
    assert [t.product for t in first.terms] == pytest.approx([q]) and first.grad == pytest.approx(q)
    assert [t.product for t in second.terms] == pytest.approx([p]) and second.grad == pytest.approx(p)
    assert first.label.endswith(":out1") and second.label.endswith(":out2")
    assert second.sum_line().startswith(f"∂{second.output_label}/∂{second.label} = ")
    with pytest.raises(ValueError, match="outputs 0..1"):
        explain(g, inst, 2)


def test_the_instance_factor_expands_into_the_inside_terms_that_sum_to_it():
    g = Graph.from_expression(PAIR, x=0.8, y=-0.4)
    inst = _instance(g, "pair")
    x = g.resolve("x")
    term = next(t for t in explain(g, x).terms if t.consumer == inst)
    inside = explain_inside(g, inst, 0)
    assert sum(t.product for t in inside.terms) == pytest.approx(term.product, rel=1e-12)
    # d/dx of the instance's share: q * tanh(y) + p * 1 (by hand)
    p, q = g.value(inst, 0), g.value(inst, 1)
    assert term.product == pytest.approx(q * np.tanh(-0.4) + p, rel=1e-12)


def test_a_tensor_instance_jacobian_equals_pytorch(torch):
    rng = np.random.default_rng(3)
    X, W, b = rng.standard_normal((2, 3)), rng.standard_normal((3, 2)), rng.standard_normal(2)
    g = Graph.from_expression("def layer(x, W, b):\n    return tanh(x @ W + b)\nsum(layer(X, W1, b1))",
                              X=X, W1=W, b1=b)
    inst = _instance(g, "layer")
    jac = instance_jacobian(g, inst)
    want = torch.autograd.functional.jacobian(
        lambda x, w, c: torch.tanh(x @ w + c),
        tuple(torch.tensor(a, dtype=torch.float64) for a in (X, W, b)))
    assert jac.output_shapes == ((2, 2),) and jac.input_shapes == ((2, 3), (3, 2), (2,))
    for k in range(3):
        assert jac.matrix[0][k].shape == tuple(want[k].shape)
        assert np.allclose(jac.matrix[0][k], want[k].numpy(), rtol=1e-12, atol=1e-14)
    assert "a 2×2 × 3×2 Jacobian" in jac.lines()[1]
