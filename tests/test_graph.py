"""Graph: edits validate first and either change nothing (and say nothing) or emit exactly their
events; queries (values, grads, contributions, problems) are consistent with each other."""

from __future__ import annotations

import math

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import (
    CycleError,
    DuplicateNameError,
    Graph,
    GraphError,
    InvalidNameError,
    InvalidValueError,
    NodeNotFoundError,
    NoOutputError,
    PortError,
    PortInUseError,
    PortNotConnectedError,
    UnknownOpError,
)
from tests.strategies import build_graph, same, specs


def snapshot(g: Graph) -> dict:
    """Everything observable about a graph, evaluated: nodes with attributes, edges with keys,
    names, output, values, grads, problems."""
    return {
        "nodes": sorted((n, tuple(sorted(a.items(), key=str))) for n, a in g.nx.nodes(data=True)),
        "edges": sorted(g.nx.edges(keys=True, data=True), key=str),
        "names": dict(g._names),
        "output": g.output,
        "next_id": g._next_id,
        "meta": dict(g.meta),
        "values": repr(sorted(g.values().items())),  # repr: NaN compares equal to itself
        "grads": repr(sorted(g.grads().items())),
        "problems": g.problems(),
    }


def sample() -> tuple[Graph, dict]:
    """e = (a*b + c) with a chain c -> t -> s beside it; output e; one free port on 'half'."""
    g = Graph()
    ids = {}
    ids["a"] = g.add_number(2.0, name="a")
    ids["b"] = g.add_number(3.0, name="b")
    ids["c"] = g.add_number(-1.0, name="c")
    ids["m"] = g.add_op("mul", name="m")
    ids["e"] = g.add_op("add", name="e")
    ids["t"] = g.add_op("tanh", name="t")
    ids["s"] = g.add_op("sin", name="s")
    ids["half"] = g.add_op("div", name="half")
    g.connect("a", "m", 0)
    g.connect("b", "m", 1)
    g.connect("m", "e", 0)
    g.connect("c", "e", 1)
    g.connect("c", "t", 0)
    g.connect("t", "s", 0)
    g.connect("s", "half", 0)
    g.set_output("e")
    return g, ids


REFUSED = {
    "self-loop": (lambda g, i: g.connect(i["half"], i["half"], 1), CycleError),
    "would-be cycle into a used port": (lambda g, i: g.connect(i["s"], i["t"], 0), PortInUseError),
    "missing source": (lambda g, i: g.connect(999, i["m"], 0), NodeNotFoundError),
    "missing target": (lambda g, i: g.connect(i["a"], 999, 0), NodeNotFoundError),
    "missing by name": (lambda g, i: g.connect("nope", i["half"], 1), NodeNotFoundError),
    "id-like odd string": (lambda g, i: g.connect("²", i["half"], 1), NodeNotFoundError),
    "port too high": (lambda g, i: g.connect(i["a"], i["half"], 2), PortError),
    "port negative": (lambda g, i: g.connect(i["a"], i["half"], -1), PortError),
    "port not int": (lambda g, i: g.connect(i["a"], i["half"], "1"), PortError),
    "port bool": (lambda g, i: g.connect(i["a"], i["half"], True), PortError),
    "port float": (lambda g, i: g.connect(i["a"], i["half"], 1.0), PortError),
    "into a number": (lambda g, i: g.connect(i["a"], i["b"], 0), PortError),
    "port in use": (lambda g, i: g.connect(i["c"], i["m"], 0), PortInUseError),
    "duplicate name (add)": (lambda g, i: g.add_number(1.0, name="a"), DuplicateNameError),
    "duplicate name (rename)": (lambda g, i: g.set_name(i["b"], "a"), DuplicateNameError),
    "name padded duplicate": (lambda g, i: g.add_op("neg", name="  a "), DuplicateNameError),
    "name all digits": (lambda g, i: g.add_number(1.0, name="12"), InvalidNameError),
    "name too long": (lambda g, i: g.add_number(1.0, name="x" * 65), InvalidNameError),
    "name control char": (lambda g, i: g.set_name(i["a"], "a\nb"), InvalidNameError),
    "name not text": (lambda g, i: g.add_number(1.0, name=5), InvalidNameError),
    "value NaN": (lambda g, i: g.add_number(math.nan), InvalidValueError),
    "value inf": (lambda g, i: g.add_number(math.inf), InvalidValueError),
    "value -inf": (lambda g, i: g.set_value(i["a"], -math.inf), InvalidValueError),
    "value string": (lambda g, i: g.add_number("3"), InvalidValueError),
    "value bool": (lambda g, i: g.set_value(i["a"], True), InvalidValueError),
    "value None": (lambda g, i: g.set_value(i["a"], None), InvalidValueError),
    "value huge int": (lambda g, i: g.set_value(i["a"], 10**400), InvalidValueError),
    "value complex": (lambda g, i: g.add_number(1j), InvalidValueError),
    "position NaN": (lambda g, i: g.set_position(i["a"], math.nan, 0.0), InvalidValueError),
    "add position inf": (lambda g, i: g.add_op("neg", x=math.inf), InvalidValueError),
    "unknown op": (lambda g, i: g.add_op("frobnicate"), UnknownOpError),
    "op not text": (lambda g, i: g.add_op(None), UnknownOpError),
    "op 'number'": (lambda g, i: g.add_op("number"), UnknownOpError),
    "disconnect free port": (lambda g, i: g.disconnect(i["half"], 1), PortNotConnectedError),
    "disconnect bad port": (lambda g, i: g.disconnect(i["half"], 7), PortNotConnectedError),
    "disconnect missing node": (lambda g, i: g.disconnect(999, 0), NodeNotFoundError),
    "remove missing node": (lambda g, i: g.remove_node(999), NodeNotFoundError),
    "remove by bool": (lambda g, i: g.remove_node(True), NodeNotFoundError),
    "set_value on an op": (lambda g, i: g.set_value(i["m"], 1.0), InvalidValueError),
    "set_value missing": (lambda g, i: g.set_value("zz", 1.0), NodeNotFoundError),
    "set_output missing": (lambda g, i: g.set_output(999), NodeNotFoundError),
    "set_position missing": (lambda g, i: g.set_position(999, 0.0, 0.0), NodeNotFoundError),
    "node id taken": (lambda g, i: g.add_number(1.0, node_id=i["a"]), GraphError),
    "node id negative": (lambda g, i: g.add_number(1.0, node_id=-5), GraphError),
}


def _cycle_graph():
    """x -> p -> q -> r -> u, where p (add), r (add) and u (mul) each have port 1 free, so a
    wire from u back into r or p closes a cycle."""
    g = Graph()
    x = g.add_number(1.0, name="x")
    p, q, r = g.add_op("add", name="pp"), g.add_op("neg", name="qq"), g.add_op("add", name="rr")
    u = g.add_op("mul", name="uu")
    g.connect(x, p, 0)
    g.connect(p, q, 0)
    g.connect(q, r, 0)
    g.connect(r, u, 0)
    return g, {"x": x, "p": p, "q": q, "r": r, "u": u}


CYCLES = {
    "self-loop": lambda g, i: g.connect(i["r"], i["r"], 1),
    "two-cycle": lambda g, i: g.connect(i["u"], i["r"], 1),
    "four-cycle": lambda g, i: g.connect(i["u"], i["p"], 1),
}


def _assert_refused(g, ids, edit, error):
    before = snapshot(g)
    events = []
    g.subscribe(events.append)
    with pytest.raises(error) as info:
        edit(g, ids)
    assert isinstance(info.value, GraphError)
    assert str(info.value)  # the message says what and where
    assert events == []
    assert snapshot(g) == before


@pytest.mark.parametrize("case", list(REFUSED))
def test_refused_edit_leaves_graph_identical_and_silent(case):
    edit, error = REFUSED[case]
    g, ids = sample()
    _assert_refused(g, ids, edit, error)


@pytest.mark.parametrize("case", list(CYCLES))
def test_cycles_are_refused(case):
    g, ids = _cycle_graph()
    _assert_refused(g, ids, CYCLES[case], CycleError)


def test_cycle_message_names_both_ends():
    g, ids = _cycle_graph()
    with pytest.raises(CycleError) as info:
        g.connect(ids["u"], ids["p"], 1)
    assert "uu" in str(info.value) and "pp" in str(info.value)


def test_only_the_closing_wire_of_a_cycle_is_refused():
    g, ids = _cycle_graph()
    g.connect(ids["x"], ids["u"], 1)  # legal: x already feeds u through the chain (a diamond)
    _assert_refused(g, ids, lambda g, i: g.connect(i["u"], i["r"], 1), CycleError)


# ------------------------------------------------------------------------------- events


def _events(g):
    got = []
    g.subscribe(got.append)
    return got


def _kinds(events):
    return [(e.kind, e.node) for e in events]


def test_each_edit_emits_exactly_its_events():
    g = Graph()
    ev = _events(g)
    a = g.add_number(2.0, name="a")
    assert _kinds(ev) == [("node_added", a)]
    ev.clear()
    m = g.add_op("mul")
    assert _kinds(ev) == [("node_added", m)]
    ev.clear()
    g.connect(a, m, 0)
    assert _kinds(ev) == [("edge_added", m)] and ev[0].data == {"source": a, "port": 0, "source_port": 0}
    ev.clear()
    g.connect(a, m, 1)
    assert _kinds(ev) == [("edge_added", m)] and ev[0].data == {"source": a, "port": 1, "source_port": 0}
    ev.clear()
    g.set_value(a, 5.0)
    assert _kinds(ev) == [("value_changed", a)] and ev[0].data == {"old": 2.0, "new": 5.0}
    ev.clear()
    g.set_name(a, "alpha")
    assert _kinds(ev) == [("name_changed", a)] and ev[0].data == {"old": "a", "new": "alpha"}
    ev.clear()
    g.set_position(a, 10.0, 20.0)
    assert _kinds(ev) == [("node_moved", a)] and ev[0].data == {"old": (0.0, 0.0), "new": (10.0, 20.0)}
    ev.clear()
    g.set_output(m)
    assert _kinds(ev) == [("output_changed", m)] and ev[0].data == {"old": None, "port": 0, "old_port": 0}
    ev.clear()
    g.evaluate()
    assert _kinds(ev) == [("evaluated", None)]
    ev.clear()
    g.backward()
    assert _kinds(ev) == [("evaluated", None)]
    ev.clear()
    assert g.disconnect(m, 1) == (a, 0)
    assert _kinds(ev) == [("edge_removed", m)] and ev[0].data == {"source": a, "port": 1, "source_port": 0}
    ev.clear()
    g.value(m), g.grad(a), g.problems(), g.contributions(a)  # queries are silent
    assert ev == []
    g.remove_node(m)  # its remaining wire goes first, then the output mark, then the node
    assert _kinds(ev) == [("edge_removed", m), ("output_changed", None), ("node_removed", m)]
    assert g.pinned_output is None and g.output == a  # unpinned: the output follows the graph


def test_remove_node_emits_one_edge_removed_per_wire():
    g = Graph.from_expression("a*a + a", a=2.0)
    a = g.resolve("a")
    wires = len(g.consumers(a))
    assert wires == 3
    ev = _events(g)
    g.remove_node(a)
    kinds = [e.kind for e in ev]
    assert kinds == ["edge_removed"] * wires + ["node_removed"]
    assert all(e.data["source"] == a for e in ev[:-1])
    assert "a" not in g and a not in g.nx


def test_unsubscribe_stops_events():
    g = Graph()
    ev = []
    off = g.subscribe(ev.append)
    g.add_number(1.0)
    off()
    off()  # twice is harmless
    g.add_number(2.0)
    assert len(ev) == 1


# ------------------------------------------------------------------------------- queries


def test_module_example():
    g = Graph()
    a = g.add_number(3.0, name="a")
    m = g.add_op("mul")
    g.connect(a, m, 0)
    g.connect(a, m, 1)
    g.backward()
    assert (g.value(m), g.grad("a")) == (9.0, 6.0)
    assert sorted(g.contributions("a")) == [(m, 0, 3.0), (m, 1, 3.0)]
    assert g.edge_grad(a, m, 0) == 3.0


def test_resolve_by_id_name_and_id_string():
    g, ids = sample()
    assert g.resolve("a") == ids["a"] == g.resolve(ids["a"]) == g.resolve(f" {ids['a']} ")
    for bad in ["", "zz", "²", "--1", "-", str(10**30), 1.5, None, True, (1,)]:
        with pytest.raises(NodeNotFoundError):
            g.resolve(bad)
        assert bad not in g


def test_backward_needs_a_node_and_several_sinks_are_no_error():
    g = Graph()
    with pytest.raises(NoOutputError, match="empty"):
        g.backward()
    assert g.grads() == {} and g.output_node() is None  # lazy queries do not raise
    g.add_number(1.0)
    g.add_number(2.0)
    g.backward()  # two sinks with no ancestors: a tie, and the highest id wins
    assert g.evaluated_output() == 2 and g.grads() == {1: None, 2: 1.0}


def test_backward_from_a_chosen_node():
    g, ids = sample()
    g.backward(output="t")
    assert g.evaluated_output() == ids["t"]
    assert g.grad("c") == pytest.approx(1 - math.tanh(-1.0) ** 2)
    assert g.grad("a") is None and g.grad("e") is None


def test_grads_are_none_off_the_outputs_ancestors():
    g, ids = sample()
    up = nx.ancestors(g.nx, ids["e"]) | {ids["e"]}
    for n, gr in g.grads().items():
        assert (gr is None) == (n not in up), n
    assert g.grad("e") == 1.0


def test_unconnected_input_gives_none_downstream_and_a_named_problem():
    g, ids = sample()
    # half = s / (unconnected): half and everything fed by it have no value.
    z = g.add_op("exp", name="z")
    g.connect(ids["half"], z, 0)
    g.set_output(z)
    vals = g.values()
    assert vals[ids["half"]] is None and vals[z] is None
    assert vals[ids["s"]] == pytest.approx(math.sin(math.tanh(-1.0)))
    probs = g.problems()
    assert "'b'" in probs[ids["half"]] and "not connected" in probs[ids["half"]]
    assert "unconnected" in probs[z]
    assert all(v is None for v in g.grads().values())
    p = g.add_op("pow", name="p")
    assert "'base', 'exp'" in g.problems()[p]
    g.connect("a", p, 0)
    assert "'exp'" in g.problems()[p] and "'base'" not in g.problems()[p]


def test_nan_and_inf_nodes_are_problems_with_a_reason():
    g = Graph.from_expression("y = log(a)\nz = b / c\nw = y + 1\nw * z", a=-1.0, b=1.0, c=0.0)
    probs = g.problems()
    y, z, w = g.resolve("y"), g.resolve("z"), g.resolve("w")
    assert "NaN" in probs[y] and "log" in probs[y]
    assert probs[z] == "inf: 1/0"  # the wording nonfinite_origin reports too
    assert "NaN" in probs[w] and "already" in probs[w]
    assert g.resolve("a") not in probs  # a finite number is fine even if its consumer is not


def test_set_value_updates_values_and_grads():
    g = Graph.from_expression("(a*4+3)*(a+2)", a=3)
    assert g.grad("a") == 35.0
    g.set_value("a", 1.0)
    assert g.value(g.output_node()) == 21.0 and g.grad("a") == 2 * 4 * 1.0 + 3 + 8


def test_copy_is_independent():
    g, ids = sample()
    h = g.copy()
    h.set_value("a", 10.0)
    h.remove_node("c")
    assert g.number("a") == 2.0 and "c" in g
    assert snapshot(g) == snapshot(sample()[0])


@settings(max_examples=60)
@given(spec=specs(max_ops=14), data=st.data())
def test_contributions_sum_to_grad_everywhere(spec, data):
    g, ids = build_graph(spec)
    out = data.draw(st.sampled_from(ids[len(spec[0]) :]), label="output")
    g.set_output(out)
    up = nx.ancestors(g.nx, out) | {out}
    grads = g.grads()
    for n in g.nodes():
        parts = g.contributions(n)
        if n == out:
            assert grads[n] == 1.0 and parts == []
        elif n in up:
            assert parts, n
            total = math.fsum(a for *_, a in parts) if all(math.isfinite(a) for *_, a in parts) else sum(
                a for *_, a in parts
            )
            assert same(total, grads[n], rel=1e-9, abs_tol=1e-9), (n, parts, grads[n])
            for t, p, amount in parts:
                assert same(g.edge_grad(n, t, p), amount)
        else:
            assert grads[n] is None and parts == []
    assert g.value(out) is not None


@settings(max_examples=40)
@given(spec=specs(max_ops=10))
def test_steps_replay_backward(spec):
    g, ids = build_graph(spec)
    steps = g.steps()
    grads = g.grads()
    assert steps[0][0] == g.output
    seen = set()
    for node, grad, sends in steps:
        assert same(grad, grads[node]) and node not in seen
        seen.add(node)
        for _port, _src, amount, before, after in sends:
            assert same(after, amount if before is None else before + amount)
    assert seen == {n for n, v in grads.items() if v is not None}


def test_layout_is_layered():
    g, ids = sample()
    pos = g.layout()
    assert set(pos) == set(g.nodes())
    for s, t, _ in g.edges():
        assert pos[s][0] < pos[t][0]
    before = snapshot(g)
    g.apply_layout()
    assert g.position("e") == pos[ids["e"]]
    after = snapshot(g)
    assert after["values"] == before["values"] and after["edges"] == before["edges"]


EXPECTED_EVENTS = {
    "add_number": ["node_added"],
    "add_op": ["node_added"],
    "connect": ["edge_added"],
    "disconnect": ["edge_removed"],
    "set_value": ["value_changed"],
    "set_name": ["name_changed"],
    "set_position": ["node_moved"],
    "set_output": ["output_changed"],
}


def _check_invariants(g: Graph):
    assert nx.is_directed_acyclic_graph(g.nx)
    for n, attrs in g.nx.nodes(data=True):
        ports = [p for *_, p in g.nx.in_edges(n, keys=True)]
        assert len(ports) == len(set(ports)) and all(0 <= p < g.arity(n) for p in ports)
        if attrs["name"]:
            assert g._names[attrs["name"]] == n
    assert len(g._names) == sum(1 for _, a in g.nx.nodes(data=True) if a["name"])
    vals, grads = g.values(), g.grads()
    probs = g.problems()
    out = g.output_node()
    up = (nx.ancestors(g.nx, out) | {out}) if out is not None and vals[out] is not None else set()
    for n in g.nodes():
        assert (grads[n] is not None) == (n in up), n
        if vals[n] is None:
            assert n in probs


@settings(max_examples=60)
@given(data=st.data())
def test_random_edit_sequences_keep_the_graph_consistent(data):
    g = Graph()
    events = []
    g.subscribe(events.append)
    any_id = st.integers(0, 12)
    for _ in range(data.draw(st.integers(5, 40), label="edits")):
        method = data.draw(st.sampled_from(sorted(EXPECTED_EVENTS) + ["remove_node"]))
        if method == "add_number":
            args = (data.draw(st.one_of(st.floats(-5, 5), st.just(math.nan), st.just("x"))),)
            kwargs = {"name": data.draw(st.sampled_from([None, "a", "b", "12", ""]))}
        elif method == "add_op":
            args = (data.draw(st.sampled_from(["add", "mul", "pow", "log", "relu", "div", "nope"])),)
            kwargs = {}
        elif method == "connect":
            args = (data.draw(any_id), data.draw(any_id), data.draw(st.integers(-1, 2)))
            kwargs = {}
        elif method == "disconnect":
            args, kwargs = (data.draw(any_id), data.draw(st.integers(0, 2))), {}
        elif method == "set_value":
            args, kwargs = (data.draw(any_id), data.draw(st.floats(-5, 5))), {}
        elif method == "set_name":
            args, kwargs = (data.draw(any_id), data.draw(st.sampled_from(["a", "b", "c", None, "9"]))), {}
        elif method == "set_position":
            args, kwargs = (data.draw(any_id), 1.0, data.draw(st.sampled_from([2.0, math.inf]))), {}
        elif method == "set_output":
            args, kwargs = (data.draw(st.one_of(st.none(), any_id)),), {}
        else:
            args, kwargs = (data.draw(any_id),), {}
        before = snapshot(g)
        events.clear()
        try:
            getattr(g, method)(*args, **kwargs)
        except GraphError:
            assert events == [] and snapshot(g) == before, (method, args)
            continue
        kinds = [e.kind for e in events]
        if method == "remove_node":
            assert kinds[-1] == "node_removed"
            assert set(kinds[:-1]) <= {"edge_removed", "output_changed"}
        else:
            assert kinds == EXPECTED_EVENTS[method], (method, kinds)
        _check_invariants(g)


def test_node_queries():
    g, ids = sample()
    m = ids["m"]
    assert g.inputs(m) == [ids["a"], ids["b"]] and g.inputs(ids["half"]) == [ids["s"], None]
    assert sorted(g.consumers("c")) == sorted([(ids["e"], 1), (ids["t"], 0)])
    assert g.op("m") == "mul" and g.op("a") == "number" and g.arity("a") == 0 and g.arity("m") == 2
    assert g.number("a") == 2.0 and g.name(m) == "m" and g.label(m) == "m"
    node = g.node("a")
    assert node["id"] == ids["a"] and node["value"] == 2.0
    node["value"] = 99.0  # a copy: the graph is not changed through it
    assert g.number("a") == 2.0
    with pytest.raises(InvalidValueError):
        g.number(m)
    unnamed = g.add_op("neg")
    assert g.label(unnamed) == f"neg#{unnamed}"
    assert len(g) == 9 and set(g.nodes()) == set(g.nx.nodes)


def test_edge_grad_only_for_real_wires():
    g, ids = sample()
    m = ids["m"]
    assert g.edge_grad("a", m, 0) == 3.0 and g.edge_grad("b", m, 1) == 2.0
    assert g.edge_grad("b", m, 0) is None  # b feeds port 1, not port 0
    for port in (5, -1, "0", True, None, [0]):
        assert g.edge_grad("a", m, port) is None
    assert g.edge_grad("s", "half", 0) is None  # a wire, but no gradient flows along it


def test_layout_of_a_large_graph_with_long_wires_stays_cheap():
    # Wires from the first node to every later one: refining would reserve ~n²/2 wire slots.
    g = Graph()
    first = prev = g.add_number(1.0)
    for _ in range(400):
        n = g.add_op("add")
        g.connect(prev, n, 0)
        g.connect(first, n, 1)
        prev = n
    pos = g.layout()
    assert set(pos) == set(g.nodes())
    assert all(pos[s][0] < pos[t][0] for s, t, _ in g.edges())


def test_layout_puts_an_op_next_to_its_consumer():
    # d = a + 2 only feeds e: it sits in the column before e, beside c, not far left.
    g = Graph.from_expression("b = a*4\nc = b + 3\nd = a + 2\ne = c * d", a=3)
    pos = g.layout()
    x = {n: p[0] for n, p in pos.items()}
    assert len({x[g.resolve(n)] for n in ("a", "b", "c", "e")}) == 4
    assert x[g.resolve("d")] == x[g.resolve("c")]  # d moved next to its consumer e


# ------------------------------------------------------------------------------- check_* methods

# edit name -> (the check that answers for it, how the edit's arguments map onto the check's)
CHECKS = {
    "add_number": lambda g, value, **kw: g.check_add("number", value, **kw),
    "add_op": lambda g, op, **kw: g.check_add_op(op, **kw),
    "connect": lambda g, *a: g.check_connect(*a),
    "disconnect": lambda g, *a: g.check_disconnect(*a),
    "set_value": lambda g, *a: g.check_set_value(*a),
    "set_name": lambda g, *a: g.check_set_name(*a),
    "set_position": lambda g, *a: g.check_set_position(*a),
    "set_output": lambda g, *a: g.check_set_output(*a),
    "remove_node": lambda g, *a: g.check_remove(*a),
}


def _outcome(fn):
    try:
        fn()
    except GraphError as e:
        return type(e), str(e)
    return None


@settings(max_examples=60)
@given(data=st.data())
def test_each_check_raises_exactly_what_its_edit_would(data):
    g = Graph()
    any_id = st.integers(0, 10)
    for _ in range(data.draw(st.integers(5, 40), label="edits")):
        method = data.draw(st.sampled_from(sorted(CHECKS)))
        kwargs = {}
        if method == "add_number":
            args = (data.draw(st.one_of(st.floats(-5, 5), st.just(math.inf), st.just("x"), st.just(True))),)
            kwargs = {"name": data.draw(st.sampled_from([None, "a", "b", "12", "", "\x00"])),
                      "node_id": data.draw(st.none() | st.integers(-1, 4))}
        elif method == "add_op":
            args = (data.draw(st.sampled_from(["add", "mul", "relu", "number", "nope", 3])),)
            kwargs = {"x": data.draw(st.sampled_from([0.0, math.nan]))}
        elif method == "connect":
            port = data.draw(st.sampled_from([-1, 0, 1, 2, True, "0"]))
            args = (data.draw(any_id), data.draw(any_id), port)
        elif method == "disconnect":
            args = (data.draw(any_id), data.draw(st.sampled_from([0, 1, 2, True])))
        elif method == "set_value":
            args = (data.draw(any_id), data.draw(st.sampled_from([1.5, math.nan, "3"])))
        elif method == "set_name":
            args = (data.draw(any_id), data.draw(st.sampled_from(["a", "b", None, "9", 7])))
        elif method == "set_position":
            args = (data.draw(any_id), 1.0, data.draw(st.sampled_from([2.0, math.inf, None])))
        else:
            args = (data.draw(st.none() | any_id),)
        before = snapshot(g)
        checked = _outcome(lambda: CHECKS[method](g, *args, **kwargs))
        assert snapshot(g) == before  # a check never changes anything
        done = _outcome(lambda: getattr(g, method)(*args, **kwargs))
        assert checked == done, (method, args, kwargs)


def test_check_connect_replacing_allows_a_used_port_but_not_a_cycle():
    g = Graph.from_expression("y = a*b\ny + 1", a=2, b=3)
    a, y = g.resolve("a"), g.resolve("y")
    out = g.output_node()
    with pytest.raises(PortInUseError):
        g.check_connect(a, y, 1)
    assert g.check_connect(a, y, 1, replacing=True) == (a, y)
    with pytest.raises(CycleError):
        g.check_connect(out, y, 0, replacing=True)


# ------------------------------------------------------------------------------- typed events


def test_events_are_small_frozen_typed_records():
    import dataclasses

    from engine.core import events as E

    g = Graph()
    ev = _events(g)
    a = g.add_number(1.0)
    m = g.add_op("neg")
    g.connect(a, m, 0)
    g.evaluate()
    assert [type(e) for e in ev] == [E.NodeAdded, E.NodeAdded, E.EdgeAdded, E.Evaluated]
    assert ev[2] == E.EdgeAdded(target=m, source=a, port=0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        ev[0].node = 5
    assert not E.Evaluated.changes_document and E.NodeAdded.changes_document


def test_layout_bulk_build_and_metadata_emit_events():
    from engine.core import events as E

    g = Graph.from_expression("a*b + a", a=1, b=2)
    ev = _events(g)
    g.apply_layout()
    assert ev == [E.LayoutApplied(moved=len(g))]
    ev.clear()
    g.meta["title"] = "Fan-out"
    g.set_meta("lesson", "a is used twice")
    g.set_meta("lesson", "a is used twice")  # unchanged: silent
    del g.meta["title"]
    assert ev == [E.MetaChanged("title", None, "Fan-out"), E.MetaChanged("lesson", None, "a is used twice"),
                  E.MetaChanged("title", "Fan-out", None)]
    assert g.meta == {"lesson": "a is used twice"} and g.to_dict()["lesson"] == "a is used twice"
    fresh = Graph()
    ev = _events(fresh)
    fresh._build([{"id": 1, "op": "number", "value": 2.0}], [], None)  # the loader's and parser's path
    assert ev == [E.DocumentReset()]
    assert g.copy().meta == g.meta and g.copy()._subscribers == []
