"""Reverse mode over the compiled tape: gradients of random graphs against finite differences and
against Value, one pass per backward (no per-path work), no recursion, tape reuse."""

from __future__ import annotations

import dataclasses
import gc
import math

import networkx as nx
import pytest
from hypothesis import given, settings

import engine.core.value
from engine import OPS, Graph, Value
from engine.core import autodiff
from tests.oracles import examples
from tests.strategies import (
    build_graph,
    build_values,
    depends_on,
    finite_differences,
    plain_forward,
    same,
    specs,
)

# ------------------------------------------------------------------ random graphs


@settings(max_examples=examples(150))
@given(spec=specs(min_leaves=1, max_leaves=4, max_ops=12, smooth=True, leaf_values=None))
def test_random_graph_gradients_match_finite_differences(spec):
    g, ids = build_graph(spec)
    g.backward()
    vals = plain_forward(spec)
    need = depends_on(spec)
    fd = finite_differences(spec)
    for k in range(len(spec[0])):
        got = g.grad(ids[k])
        if not need[k]:
            assert got is None
            continue
        # Central differences are good to ~1e-6 relative here; allow for the output's scale.
        scale = max(1.0, abs(fd[k]), abs(vals[-1]))
        assert abs(got - fd[k]) <= 2e-4 * scale, (k, got, fd[k], spec)


@settings(max_examples=examples(150))
@given(spec=specs(min_leaves=1, max_leaves=4, max_ops=14))
def test_graph_gradients_equal_value_gradients(spec):
    """Same computation, two engines: equal values and gradients, NaN and inf included."""
    g, ids = build_graph(spec)
    g.backward()
    vs = build_values(spec)
    vs[-1].backward()
    need = depends_on(spec)
    for pos, (n, v) in enumerate(zip(ids, vs)):
        assert same(g.value(n), v.data), (pos, g.value(n), v.data)
        if need[pos]:
            assert same(g.grad(n), v.grad), (pos, g.grad(n), v.grad, spec)
        else:
            assert g.grad(n) is None and v.grad == 0  # Value's grad starts at 0 (micrograd's)


@settings(max_examples=examples(60))
@given(spec=specs(min_leaves=1, max_leaves=4, max_ops=10))
def test_value_graph_view_matches_value(spec):
    vs = build_values(spec)
    out = vs[-1]
    out.backward()
    g = out.graph()  # any Value graph can be viewed (a non-finite leaf is a marked problem)
    for k, leaf in enumerate(vs[: len(spec[0])]):
        name = f"x{k}"
        if name in g:
            assert same(g.grad(name), leaf.grad), (name, g.grad(name), leaf.grad)
    assert same(g.value(g.output), out.data)


def test_fan_out_and_repeated_inputs_accumulate():
    # f = a*a + a*b + b, a used four times (twice by one node), b twice.
    g = Graph.from_expression("a*a + a*b + b", a=3.0, b=5.0)
    g.backward()
    assert g.grad("a") == 2 * 3.0 + 5.0 and g.grad("b") == 3.0 + 1.0


# ------------------------------------------------------------------ one pass, no recursion


def _counting(monkeypatch, names):
    """Wrap the local-derivative rule of each op in ``names`` (in the op table, which the tape
    compiles from, and in Value's copy) with a call counter."""
    calls = {"n": 0}
    for name in names:
        op = OPS[name]
        inner = op.local

        def counted(*args, _inner=inner):
            calls["n"] += 1
            return _inner(*args)

        monkeypatch.setitem(OPS, name, dataclasses.replace(op, local=counted))
        monkeypatch.setitem(engine.core.value._LOCALS, name, counted)
    return calls


LEVELS = 1000
C = 0.001


def test_diamond_ladder_graph_is_one_pass(monkeypatch):
    """x = x*c + x, 1000 times: 2**1000 paths from the top to x0, one local evaluation per op."""
    calls = _counting(monkeypatch, ["mul", "add"])
    g = Graph()
    x0 = g.add_number(1.5, name="x0")
    c = g.add_number(C, name="c")
    x = x0
    for _ in range(LEVELS):
        m = g.add_op("mul")
        g.connect(x, m, 0)
        g.connect(c, m, 1)
        s = g.add_op("add")
        g.connect(m, s, 0)
        g.connect(x, s, 1)
        x = s
    g.set_output(x)
    g.backward()
    ops = sum(1 for n in g.nodes() if g.op(n) != "number")
    assert ops == 2 * LEVELS
    assert calls["n"] == ops
    assert g.grad("x0") == pytest.approx((1 + C) ** LEVELS, rel=1e-12)
    assert g.value(x) == pytest.approx(1.5 * (1 + C) ** LEVELS, rel=1e-12)
    assert g.grad("c") == pytest.approx(LEVELS * 1.5 * (1 + C) ** (LEVELS - 1), rel=1e-9)


def test_diamond_ladder_value_is_one_pass(monkeypatch):
    calls = _counting(monkeypatch, ["mul", "add"])
    x0 = Value(1.5)
    c = Value(C)
    x = x0
    for _ in range(LEVELS):
        x = x * c + x
    x.backward()
    assert calls["n"] == 2 * LEVELS
    assert x0.grad == pytest.approx((1 + C) ** LEVELS, rel=1e-12)


CHAIN = 1_000_000


@pytest.fixture
def no_gc():
    """The cyclic collector would rescan a million live dicts many times over while the chain is
    built; that costs a third of the run and is not what these tests are about."""
    was = gc.isenabled()
    gc.disable()
    yield
    if was:
        gc.enable()


def _chain_graph(n: int) -> Graph:
    """x -> sin -> neg -> sin -> neg ... built through the validated fast path (the edit methods
    work too, about 1.5x slower at this size)."""
    g = Graph()
    nodes = [{"id": 1, "op": "number", "name": "x", "value": 0.5}]
    nodes += [{"id": i, "op": "sin" if i % 2 else "neg", "name": None} for i in range(2, n + 1)]
    g._build(nodes, ((i - 1, i, 0) for i in range(2, n + 1)), output=n)
    return g


@pytest.mark.slow
def test_million_node_graph_chain_without_recursion(no_gc):
    g = _chain_graph(CHAIN)
    g.backward()
    # Reference with the same rules in a plain loop: chain rule along the line.
    v, d = 0.5, 1.0
    for i in range(2, CHAIN + 1):
        if i % 2:
            d *= math.cos(v)
            v = math.sin(v)
        else:
            v, d = -v, -d
    assert g.value(CHAIN) == v
    assert g.grad("x") == pytest.approx(d, rel=1e-9)
    tape = g.tape()
    g.set_value("x", 0.25)  # re-evaluation reuses the million-row tape
    assert g.grad("x") is not None and g.tape() is tape


@pytest.mark.slow
def test_million_node_value_chain_without_recursion(no_gc):
    x = Value(0.5)
    y = x
    for _ in range(CHAIN // 2):
        y = -(y.sin())
    y.backward()
    v, d = 0.5, 1.0
    for _ in range(CHAIN // 2):
        d *= -math.cos(v)
        v = -math.sin(v)
    assert y.data == v
    assert x.grad == pytest.approx(d, rel=1e-9)
    del y  # freeing a million-deep chain must not recurse either


# ------------------------------------------------------------------ tape caching


def test_set_value_reuses_the_tape_and_never_touches_networkx(monkeypatch):
    g = Graph.from_expression("(a*4+3)*(a+2) + sin(b)", a=3.0, b=0.0)
    g.backward()
    tape = g.tape()
    assert g.grad("a") == 35.0

    def boom(*_a, **_k):
        raise AssertionError("networkx was asked to sort again")

    monkeypatch.setattr(nx, "topological_sort", boom)
    monkeypatch.setattr(autodiff.nx, "topological_sort", boom)
    for a in (1.0, -2.0, 10.0):
        g.set_value("a", a)
        g.backward()
        assert g.tape() is tape
        assert g.grad("a") == 2 * 4 * a + 3 + 8
        assert g.value(g.output_node()) == (a * 4 + 3) * (a + 2)
    g.set_output(g.resolve("b"))  # changing the output does not change the topology either
    assert g.grad("b") == 1.0 and g.tape() is tape


def test_topology_change_recompiles():
    g = Graph.from_expression("a*b", a=2.0, b=3.0)
    tape = g.tape()
    n = g.add_number(1.0)
    assert g.tape() is not tape
    tape = g.tape()
    g.remove_node(n)
    assert g.tape() is not tape
    tape = g.tape()
    m = g.output_node()
    src, source_port = g.disconnect(m, 1)
    assert g.tape() is not tape
    g.connect(src, m, 1, source_port)
    assert g.grad("a") == 3.0


# ------------------------------------------------------------------ the tape itself


def test_tape_backward_and_steps_agree():
    g = Graph.from_expression("c = a + b\nd = a*b + b**3\nc += c + 1\nc - d", a=-4.0, b=2.0)
    tape = g.tape()
    vals = autodiff.forward(tape)
    root = tape.index[g.output_node()]
    grads = autodiff.backward(tape, vals, root)
    sent = autodiff.sends(tape, vals, grads, root)
    replay = [None] * len(vals)
    replay[root] = 1.0
    for i, gi, sends in autodiff.steps(tape, vals, root):
        assert same(gi, grads[i])
        assert tuple(a for _p, _j, a, _b, _c in sends) == (sent[i] or ())
        for _p, j, amount, before, after in sends:
            assert same(before, replay[j])
            replay[j] = after
            assert same(after, amount if before is None else before + amount)
    assert all(same(a, b) for a, b in zip(replay, grads))
    # out = (2a + 2b + 1) - (ab + b**3): d/da = 2 - b, d/db = 2 - a - 3b**2
    assert g.value(g.output_node()) == -3.0
    assert g.grad("a") == 0.0 and g.grad("b") == -6.0


def test_backward_from_an_undefined_root_gives_no_grads():
    g = Graph()
    a = g.add_number(1.0)
    m = g.add_op("mul")
    g.connect(a, m, 0)
    tape = g.tape()
    vals = autodiff.forward(tape)
    grads = autodiff.backward(tape, vals, tape.index[m])
    assert vals[tape.index[m]] is None and grads == [None, None]
    assert autodiff.sends(tape, vals, grads, tape.index[m]) == [None, None]
    assert autodiff.steps(tape, vals, tape.index[m]) == []
