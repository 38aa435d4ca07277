"""Forward mode (engine.learn.forward_mode) agrees with reverse mode, node for node."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_steps import random_graphs

from engine import GraphError, InvalidValueError, NodeNotFoundError, Value
from engine.core.ops import local as op_local
from engine.learn.forward_mode import directional, tangents
from tests.oracles import examples


def path_scale(g, wrt):
    """Sum over paths of |product of local derivatives|: how large the terms forward and
    reverse mode add (in different orders) can be, so the tolerance can follow it."""
    tape = g.tape()
    vals = [g.values()[n] for n in tape.order]
    s = [None] * len(vals)  # None: wrt is not upstream (a structural zero, never multiplied)
    s[tape.index[g.resolve(wrt)]] = 1.0
    for i, op in enumerate(tape.ops):
        if op is None or not tape.defined[i]:
            continue
        ps = tape.parents[i]
        terms = [j for j in ps if s[j] is not None]
        if terms:
            loc = op_local(op, [vals[j] for j in ps], vals[i])
            s[i] = sum(abs(d) * s[j] for d, j in zip(loc, ps) if s[j] is not None)
    return {n: (0.0 if v is None else v) for n, v in zip(tape.order, s)}


def check_against_reverse(g):
    out = g.output_node()
    compared = 0
    for x in [n for n in g.nodes() if g.op(n) == "number"]:
        t = tangents(g, x)
        r = g.grad(x)
        assert t[x] == 1.0
        if g.value(out) is None:
            assert t[out] is None and r is None
            continue
        if r is None:  # no path from x to the output
            assert t[out] == 0.0
            continue
        scale = path_scale(g, x)[out]
        if math.isfinite(scale) and scale < 1e100:
            assert math.isfinite(t[out]) and math.isfinite(r)
            assert math.isclose(t[out], r, rel_tol=1e-9, abs_tol=1e-12 * max(scale, 1.0)), (x, t[out], r)
            compared += 1
        elif math.isnan(r) and scale != scale:
            assert math.isnan(t[out])  # a NaN on every path poisons both modes alike
    return compared


@settings(max_examples=examples(150))
@given(random_graphs(unconnected=True))
def test_forward_equals_reverse_on_random_graphs(g):
    check_against_reverse(g)


SMOOTH = ("add", "sub", "mul", "neg", "exp", "sin", "cos", "tanh", "sigmoid")


@settings(max_examples=examples(80))
@given(random_graphs(ops=SMOOTH, max_ops=16, lo=-1.5, hi=1.5))
def test_forward_equals_reverse_on_smooth_graphs(g):
    # Smooth ops on small inputs: every comparison lands in the finite branch.
    if g.output_node() is not None and g.op(g.output_node()) != "number":
        check_against_reverse(g)


@settings(max_examples=examples(40))
@given(random_graphs(max_ops=8), st.data())
def test_every_node_matches_reverse_from_it(g, data):
    """Column (forward) against row (reverse) of the Jacobian: d(node)/d(x) for a random node."""
    node = data.draw(st.sampled_from(g.nodes()))
    g.set_output(node)
    check_against_reverse(g)


def seed_graph():
    a = Value(3.0, name="a")
    return ((a * 4 + 3) * (a + 2)).graph()


def test_seed_tangent_is_35():
    g = seed_graph()
    t = tangents(g, "a")
    assert t[g.output_node()] == 35.0
    # Every intermediate: a*4 -> 4, a*4+3 -> 4, a+2 -> 1, the constants -> 0.
    by_op = sorted((g.op(n), v) for n, v in t.items())
    assert by_op == [
        ("add", 1.0),
        ("add", 4.0),
        ("mul", 4.0),
        ("mul", 35.0),
        ("number", 0.0),
        ("number", 0.0),
        ("number", 0.0),
        ("number", 1.0),
    ]


def test_fanout_and_shared_input():
    a = Value(3.0, name="a")
    g = (a * a).graph()
    assert tangents(g, "a")[g.output_node()] == 6.0
    assert tangents(g, "a", seed=2.0)[g.output_node()] == 12.0


def test_unconnected_input_gives_none():
    a = Value(2.0, name="a")
    g = (a.exp() + 1).graph()
    add = g.output_node()
    g.disconnect(add, 1)
    t = tangents(g, "a")
    assert t[add] is None
    assert t[g.resolve("a")] == 1.0
    assert t[g.inputs(add)[0]] == pytest.approx(math.exp(2.0))


def test_unrelated_nan_port_does_not_poison():
    # out = b * log(c) with c = 0: d out / d b = log(0) = -inf, and c's inf slope is not mixed in.
    b = Value(2.0, name="b")
    c = Value(0.0, name="c")
    g = (b * c.log()).graph()
    assert tangents(g, "b")[g.output_node()] == -math.inf == g.grad("b")
    # A negative base's exponent slope is NaN; the base's own slope stays finite.
    base = Value(-2.0, name="base")
    e = Value(3.0, name="e")
    g = (base**e).graph()
    assert tangents(g, "base")[g.output_node()] == 12.0 == g.grad("base")
    assert math.isnan(tangents(g, "e")[g.output_node()]) and math.isnan(g.grad("e"))


def test_domain_nan_flows_forward():
    x = Value(-1.0, name="x")
    g = (x.sqrt() * 2).graph()
    assert math.isnan(tangents(g, "x")[g.output_node()])
    assert math.isnan(g.grad("x"))


def test_directional_is_a_sum_of_tangents():
    x = Value(1.5, name="x")
    y = Value(-0.5, name="y")
    g = ((x * y).tanh() + x.exp() * y).graph()
    out = g.output_node()
    d = directional(g, {"x": 2.0, "y": -3.0})[out]
    assert d == pytest.approx(2.0 * g.grad("x") - 3.0 * g.grad("y"), rel=1e-12)
    assert directional(g, {})[out] == 0.0


def test_wrt_must_be_a_number():
    g = seed_graph()
    with pytest.raises(InvalidValueError, match="number node"):
        tangents(g, g.output_node())
    with pytest.raises(NodeNotFoundError):
        tangents(g, "nope")
    with pytest.raises(GraphError):
        tangents(g, None)
    with pytest.raises(InvalidValueError):
        tangents(g, "a", seed=math.nan)
    with pytest.raises(InvalidValueError):
        directional(g, [("a", 1.0)])
    with pytest.raises(InvalidValueError):
        directional(g, {"a": "1"})


def test_graph_is_not_modified():
    g = seed_graph()
    values, grads = g.values(), g.grads()
    events = []
    g.subscribe(events.append)
    tangents(g, "a")
    assert events == []
    assert (values, grads) == (g.values(), g.grads())
