"""Graph.steps(): the backward pass one node at a time adds up to the gradients.

Also home of ``random_graphs``, the small Hypothesis strategy the other engine-feature tests
(forward mode, descent, export) share.
"""

import math

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import OPS, Graph, Value
from engine.core.ops import SCALAR_OPS
from engine.learn.stepper import replay, state_after
from tests.oracles import examples


@st.composite
def random_graphs(draw, max_numbers=4, max_ops=12, ops=tuple(SCALAR_OPS), unconnected=False, lo=-3.0, hi=3.0):
    """A random DAG: named numbers x0.. then op nodes wired to earlier nodes (fan-out is
    common), output = the last node. With ``unconnected`` some input ports stay empty."""
    g = Graph()
    ids = []
    for k in range(draw(st.integers(1, max_numbers))):
        v = draw(st.one_of(st.sampled_from([0.0, 1.0, -1.0, 2.0]), st.floats(lo, hi)))
        ids.append(g.add_number(v, name=f"x{k}"))
    for _ in range(draw(st.integers(0, max_ops))):
        name = draw(st.sampled_from(ops))
        m = g.add_op(name)
        for port in range(OPS[name].arity):
            if unconnected and draw(st.integers(0, 11)) == 0:
                continue
            # Prefer recent nodes so chains grow deep, but any earlier node may fan out.
            src = draw(st.one_of(st.sampled_from(ids[-3:]), st.sampled_from(ids)))
            g.connect(src, m, port)
        ids.append(m)
    g.set_output(ids[-1])
    return g


def same(x, y):
    """Equal, with NaN equal to NaN."""
    if x is None or y is None:
        return x is y
    return x == y or (x != x and y != y)


def check_steps(g: Graph, out=None):
    out = g.output_node() if out is None else g.resolve(out)
    if out != g.output_node():
        g.backward(out)
    steps = g.steps(out)
    grads = g.grads()
    if g.value(out) is None:  # the output depends on an unconnected input: nothing flows
        assert steps == []
        assert all(v is None for v in grads.values())
        return steps

    # The first step is the output with the seed 1.
    assert steps[0][0] == out and steps[0][1] == 1.0

    # Reverse topological order, each node at most once, exactly the output's ancestors.
    order = {n: i for i, n in enumerate(g.tape().order)}
    processed = [s[0] for s in steps]
    assert len(set(processed)) == len(processed)
    assert all(order[a] > order[b] for a, b in zip(processed, processed[1:]))
    reach = nx.ancestors(g.nx, out) | {out}
    assert set(processed) == reach
    for n, v in grads.items():
        assert (v is None) == (n not in reach)

    # Replaying the sends by hand: "before" is the running sum, "after" adds the amount,
    # a node's grad is complete (never changes again) when it is processed.
    running = {out: 1.0}
    for node, grad, sends in steps:
        assert same(grad, running[node])
        op = g.op(node)
        if op == "number":
            assert sends == []
        else:
            ins = g.inputs(node)
            assert [(p, s) for p, s, *_ in sends] == list(enumerate(ins))
        for port, src, amount, before, after in sends:
            assert src not in processed[: processed.index(node) + 1]
            assert same(before, running.get(src))
            expect = amount if before is None else before + amount
            assert same(after, expect)
            running[src] = after
            # The amount is exactly what the graph shows on that wire.
            assert same(amount, g.edge_grad(src, node, port))
    for n in reach:
        assert same(running[n], grads[n]), (n, running[n], grads[n])
    # The stepper replays to the same thing.
    assert all(same(v, grads[n]) for n, v in replay(steps).items())
    assert set(replay(steps)) == reach
    return steps


@settings(max_examples=examples(150))
@given(random_graphs(unconnected=True))
def test_steps_sum_to_grads_on_random_graphs(g):
    check_steps(g)


@settings(max_examples=examples(40))
@given(random_graphs(), st.data())
def test_steps_from_any_output(g, data):
    out = data.draw(st.sampled_from(g.nodes()))
    check_steps(g, out)


def seed_graph():
    a = Value(3.0, name="a")
    return ((a * 4 + 3) * (a + 2)).graph()


def test_seed_steps_by_hand():
    g = seed_graph()
    steps = check_steps(g)
    a = g.resolve("a")
    sends_to_a = [
        (amount, before, after) for _, _, ss in steps for _, s, amount, before, after in ss if s == a
    ]
    # (a*4 + 3) * (a + 2) at a = 3: the product sends 5 * 4 = 20 through a*4 and 15 through a + 2.
    assert sorted(amount for amount, _, _ in sends_to_a) == [15.0, 20.0]
    assert sends_to_a[0][1] is None and sends_to_a[1][1:] == (sends_to_a[0][0], 35.0)
    assert g.grad("a") == 35.0 == replay(steps)[a]


def test_a_times_a_sends_twice_into_one_node():
    a = Value(3.0, name="a")
    g = (a * a).graph()
    steps = check_steps(g)
    node, grad, sends = steps[0]
    assert grad == 1.0
    assert [(p, amount, before, after) for p, _, amount, before, after in sends] == [
        (0, 3.0, None, 3.0),
        (1, 3.0, 3.0, 6.0),
    ]


def test_unreached_nodes_never_appear():
    g = Graph()
    a = g.add_number(2.0, name="a")
    b = g.add_number(5.0, name="b")
    m = g.add_op("exp")
    g.connect(a, m, 0)
    g.add_op("neg")  # an unconnected op: undefined, no path
    g.connect(b, g.add_op("sin"), 0)  # a branch that is not the output's
    g.set_output(m)
    steps = check_steps(g)
    assert [s[0] for s in steps] == [m, a]
    assert g.grad("b") is None


def test_no_output_no_steps():
    g = Graph()
    assert g.steps() == []
    g.add_number(1.0)
    g.add_number(2.0)  # two sinks, no ancestors: the highest id is the output
    assert g.steps() == [(2, 1.0, [])]


def test_nan_flows_through_steps():
    g = Graph()
    a = g.add_number(-1.0, name="a")
    s = g.add_op("sqrt")
    g.connect(a, s, 0)
    steps = check_steps(g)
    assert math.isnan(steps[-1][1])


# ------------------------------------------------------------------ the stepper


def test_state_after_walks_the_seed():
    g = seed_graph()
    steps = g.steps()
    out = g.output_node()
    s0 = state_after(steps, 0)
    assert s0.node is None and s0.sends == () and s0.grads == {out: 1.0} and s0.pending() == [out]
    s1 = state_after(steps, 1)
    assert s1.node == out and s1.grad == 1.0 and s1.processed == (out,)
    assert set(s1.pending()) == set(g.inputs(out))
    last = state_after(steps, len(steps))
    assert last.done and last.pending() == []
    assert last.grads == {n: v for n, v in g.grads().items() if v is not None}
    # Sums only grow along the way for this all-positive graph, and each state extends the last.
    for k in range(1, len(steps) + 1):
        prev, cur = state_after(steps, k - 1), state_after(steps, k)
        assert set(prev.grads) <= set(cur.grads)
        assert cur.processed[:-1] == prev.processed


@pytest.mark.parametrize("k", [-1, 99, 1.0, True, "1", None])
def test_state_after_rejects_bad_k(k):
    with pytest.raises(ValueError):
        state_after(seed_graph().steps(), k)


def test_state_after_empty():
    s = state_after([], 0)
    assert s.done and s.grads == {} and s.node is None
