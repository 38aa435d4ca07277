"""Gradient descent (engine.learn.descent): converges where it should, stops where it must."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_steps import random_graphs

from engine import Graph, GraphError, InvalidValueError, NodeNotFoundError, NoOutputError, Value
from engine.learn.descent import MAX_STEPS, descend, plan_descent
from tests.oracles import examples


def bowl(x0=0.0, y0=0.0):
    """f = (x - 3)**2 + (y + 1)**2, minimum 0 at (3, -1)."""
    x = Value(x0, name="x")
    y = Value(y0, name="y")
    return ((x - 3) ** 2 + (y + 1) ** 2).graph()


def test_convex_bowl_converges_to_its_minimum():
    g = bowl()
    r = descend(g, steps=300, lr=0.1)
    assert r.stopped is None and r.steps_taken == 300 and len(r.history) == 301
    assert g.number("x") == pytest.approx(3.0, abs=1e-9)
    assert g.number("y") == pytest.approx(-1.0, abs=1e-9)
    assert r.history[0] == 10.0 and r.history[-1] == pytest.approx(0.0, abs=1e-15)
    assert r.initial == {g.resolve("x"): 0.0, g.resolve("y"): 0.0}
    assert r.final == {g.resolve("x"): g.number("x"), g.resolve("y"): g.number("y")}


def test_one_step_is_exactly_value_minus_lr_times_grad():
    g = bowl(1.0, 2.0)
    gx, gy = g.grad("x"), g.grad("y")  # 2(x-3) = -4, 2(y+1) = 6
    r = plan_descent(g, steps=1, lr=0.05)
    assert r.final == {g.resolve("x"): 1.0 - 0.05 * gx, g.resolve("y"): 2.0 - 0.05 * gy}


def test_maximize_a_concave_function():
    x = Value(-2.0, name="x")
    y = Value(4.0, name="y")
    g = (5 - (x - 1) ** 2 - 2 * (y - 0.5) ** 2).graph()
    r = descend(g, steps=400, lr=0.05, maximize=True)
    assert r.maximize and r.stopped is None
    assert g.number("x") == pytest.approx(1.0, abs=1e-9)
    assert g.number("y") == pytest.approx(0.5, abs=1e-9)
    assert r.history[-1] == pytest.approx(5.0)
    assert all(b >= a for a, b in zip(r.history, r.history[1:]))


def test_history_is_monotone_for_a_small_lr():
    # A neuron's squared error: not convex in general, but small steps still only go down.
    x1, x2 = Value(2.0, name="x1"), Value(-1.0, name="x2")
    w1, w2, b = Value(-0.5, name="w1"), Value(0.8, name="w2"), Value(0.1, name="b")
    g = (((x1 * w1 + x2 * w2 + b).tanh() - 0.7) ** 2).graph()
    r = plan_descent(g, steps=200, lr=0.01, trainable=["w1", "w2", "b"])
    assert all(b <= a for a, b in zip(r.history, r.history[1:]))
    assert r.history[-1] < r.history[0]
    assert set(r.final) == {g.resolve(n) for n in ("w1", "w2", "b")}


def test_plan_leaves_the_original_untouched():
    g = bowl()
    before = {n: dict(g.nx.nodes[n]) for n in g.nodes()}
    values, grads = g.values(), g.grads()
    events = []
    g.subscribe(events.append)
    r = plan_descent(g, steps=50, lr=0.1)
    assert events == []
    assert {n: dict(g.nx.nodes[n]) for n in g.nodes()} == before
    assert (g.values(), g.grads()) == (values, grads)
    assert r.final[g.resolve("x")] != 0.0
    # Applying the plan's values reproduces its last output value.
    for n, v in r.final.items():
        g.set_value(n, v)
    assert g.value(g.output_node()) == r.history[-1]


def test_descend_applies_one_event_per_moved_node():
    g = bowl(3.0, 0.0)  # x already at its minimum: it never moves
    events = []
    g.subscribe(events.append)
    r = descend(g, steps=10, lr=0.1)
    assert [(e.kind, e.node) for e in events] == [("value_changed", g.resolve("y"))]
    assert r.changed == {g.resolve("y"): g.number("y")}


def test_trainable_subset_and_defaults():
    g = bowl()
    r = plan_descent(g, steps=5, lr=0.1, trainable="x")
    assert list(r.final) == [g.resolve("x")]
    # Default: every named number, never the unnamed constants 3, 1 and 2.
    r = plan_descent(g, steps=1, lr=0.1)
    assert sorted(r.trainable) == sorted([g.resolve("x"), g.resolve("y")])
    # Duplicates collapse; ids work as well as names.
    r = plan_descent(g, steps=1, lr=0.1, trainable=[g.resolve("x"), "x"])
    assert r.trainable == [g.resolve("x")]


def test_a_number_without_path_stays_put():
    g = bowl()
    z = g.add_number(7.0, name="z")
    r = plan_descent(g, steps=5, lr=0.1)
    assert r.final[z] == 7.0 and z not in r.changed


def test_nan_gradient_stops_early():
    # sqrt(x) descending towards 0: the slope 1/(2 sqrt x) blows up and x would go negative.
    x = Value(1.0, name="x")
    g = x.sqrt().graph()
    r = plan_descent(g, steps=1000, lr=0.5)
    assert r.stopped is not None and r.steps_taken < 1000
    assert all(math.isfinite(v) for v in r.history)
    assert all(math.isfinite(v) for v in r.final.values())
    g2 = g.copy()
    for n, v in r.final.items():
        g2.set_value(n, v)
    assert g2.value(g2.output_node()) == r.history[-1]


def test_output_becoming_nan_stops_and_rolls_back():
    x = Value(0.3, name="x")
    g = x.log().graph()  # maximizing log(x) is fine; minimizing pushes x through 0
    r = plan_descent(g, steps=100, lr=1.0)
    assert r.stopped and ("NaN" in r.stopped or "inf" in r.stopped)
    x_final = r.final[g.resolve("x")]
    assert x_final > 0 and r.history[-1] == math.log(x_final)


def test_overflowing_value_stops():
    x = Value(1.0, name="x")
    g = (x * 1e300).graph()
    r = plan_descent(g, steps=5, lr=1e10, maximize=True)
    assert r.steps_taken == 0 and "would become inf" in r.stopped


def test_non_finite_start_stops_at_once():
    x = Value(-1.0, name="x")
    g = x.log().graph()
    calls = []
    r = plan_descent(g, steps=5, lr=0.1, on_step=lambda k, y: calls.append(k))
    assert r.steps_taken == 0 and "at the start" in r.stopped and calls == []


def test_on_step_sees_every_point_and_can_stop():
    g = bowl()
    seen = []
    r = plan_descent(g, steps=20, lr=0.1, on_step=lambda k, y: seen.append((k, y)))
    assert seen == list(enumerate(r.history))
    r = plan_descent(g, steps=20, lr=0.1, on_step=lambda k, y: k < 4)
    assert r.steps_taken == 4 and r.stopped == "stopped by the caller"


@pytest.mark.parametrize(
    "kw",
    [
        {"steps": 0},
        {"steps": -3},
        {"steps": MAX_STEPS + 1},
        {"steps": 2.5},
        {"steps": True},
        {"steps": "10"},
        {"lr": 0.0},
        {"lr": -0.1},
        {"lr": math.inf},
        {"lr": math.nan},
        {"lr": "0.1"},
        {"lr": True},
        {"maximize": "yes"},
    ],
)
def test_bad_arguments_are_value_errors(kw):
    with pytest.raises(ValueError):
        plan_descent(bowl(), **kw)


def test_bad_trainable_are_graph_errors():
    g = bowl()
    with pytest.raises(InvalidValueError, match="only number nodes"):
        plan_descent(g, trainable=[g.output_node()])
    with pytest.raises(NodeNotFoundError):
        plan_descent(g, trainable=["nope"])
    with pytest.raises(InvalidValueError):
        plan_descent(g, trainable=[])
    with pytest.raises(InvalidValueError):
        plan_descent(g, trainable=3.5)
    unnamed = Graph()
    unnamed.add_number(1.0)
    with pytest.raises(InvalidValueError, match="named"):
        plan_descent(unnamed)


def test_graph_problems_are_graph_errors():
    with pytest.raises(NoOutputError):
        plan_descent(Graph(), trainable=None)
    a = Value(1.0, name="a")
    g = (a.exp() + 1).graph()
    g.disconnect(g.output_node(), 1)
    with pytest.raises(GraphError, match="not connected"):
        plan_descent(g)


@settings(max_examples=examples(40))
@given(random_graphs(max_ops=8), st.floats(1e-4, 0.5), st.booleans())
def test_random_graphs_never_crash_and_stay_consistent(g, lr, maximize):
    if g.value(g.output_node()) is None:
        return
    r = plan_descent(g, steps=15, lr=lr, maximize=maximize)
    assert len(r.history) == r.steps_taken + 1 <= 16
    assert (r.stopped is None) == (r.steps_taken == 15)
    assert all(math.isfinite(v) for v in r.final.values())
    if r.steps_taken:
        assert all(math.isfinite(v) for v in r.history)
    g2 = g.copy()
    for n, v in r.final.items():
        g2.set_value(n, v)
    y = g2.value(g2.output_node())
    assert y == r.history[-1] or (y != y and r.history[-1] != r.history[-1])
