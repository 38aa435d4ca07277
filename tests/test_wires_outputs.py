"""Wires and outputs (DESIGN §7): a wire is (source, source_port, target, port); the output is
(node, port), pinned or following the graph (the sink with the most ancestors, ties to the
highest id); a node with several outputs is addressed by (node, output port) down to the tape.

Oracles: networkx's own ancestor sets for the output rule, PyTorch float64 and hand
calculations for values and gradients."""

from __future__ import annotations

import json
import math

import networkx as nx
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import OPS, DocumentError, Graph, PortError
from engine.core import kinds
from engine.core.events import EdgeAdded, EdgeRemoved, OutputChanged
from tests.oracles import examples

# ------------------------------------------------------------------ the automatic output


@st.composite
def random_dags(draw):
    """Numbers and binary ops wired to earlier nodes; several sinks are common."""
    g = Graph()
    ids = [g.add_number(draw(st.floats(-3, 3)), name=None) for _ in range(draw(st.integers(1, 4)))]
    for _ in range(draw(st.integers(0, 12))):
        m = g.add_op(draw(st.sampled_from(["add", "mul"])))
        for port in (0, 1):
            g.connect(draw(st.sampled_from(ids)), m, port)
        ids.append(m)
    return g


@settings(max_examples=examples(40))
@given(random_dags())
def test_the_output_follows_the_sink_with_the_most_ancestors(g):
    sinks = [n for n in g.nx if g.nx.out_degree(n) == 0]
    want = max(sinks, key=lambda n: (len(nx.ancestors(g.nx, n)), n))  # networkx as the oracle
    assert g.pinned_output is None and g.output_node() == want == g.output
    g.backward()
    assert g.evaluated_output() == want and g.grad(want) == 1.0


def test_ties_go_to_the_highest_id_and_backward_graph_nodes_are_never_chosen():
    g = Graph.from_expression("a*b", a=1.0, b=2.0)
    assert g.output_node() == 3
    twin = g.add_op("add")
    g.connect("a", twin, 0)
    g.connect("b", twin, 1)
    assert g.output_node() == twin  # 2 ancestors each: the higher id
    g.nx.nodes[twin]["role"] = "backward"  # how the inserted backward graph tags its nodes
    g.connect("a", g.add_op("neg"), 0)  # a topology edit re-decides
    assert g.output_node() != twin


def test_a_growing_graph_moves_the_output_until_it_is_pinned():
    g = Graph()
    x = g.add_number(-4.0, name="x")
    assert g.output_node() == x
    two = g.add_number(2.0)
    assert g.output_node() == two  # a tie of two lone numbers: the higher id
    m = g.add_op("mul")
    g.connect(two, m, 0)
    g.connect(x, m, 1)
    assert g.output_node() == m and g.value(g.output) == -8.0 and g.grad(x) == 2.0
    seen = []
    g.subscribe(seen.append)
    g.set_output(x)
    assert seen[-1] == OutputChanged(x, None, 0, 0)
    n = g.add_op("neg")
    g.connect(m, n, 0)  # the graph grows; the pinned output stays
    assert g.output_node() == x and g.pinned_output == x
    g.set_output(None)  # unpinned: back to following the graph
    assert seen[-1] == OutputChanged(None, x, 0, 0)
    assert g.output_node() == n and g.value(g.output) == 8.0


def test_several_sinks_are_no_error_for_backward():
    g = Graph.from_expression("y = x*x + 1; z = 2*x; y", x=3.0)
    g.backward()
    assert g.evaluated_output() == g.resolve("y") and g.grad("x") == 6.0


# ------------------------------------------------------------------ files


def test_only_a_pinned_output_is_stored_and_an_older_files_output_is_pinned(tmp_path):
    g = Graph.from_expression("y = x*x + 1; z = 2*x; y", x=3.0)
    assert g.pinned_output is None and "output" not in g.to_dict()  # y is what the graph picks
    h = Graph.from_expression("y = x*x + 1; z = 2*x; z", x=3.0)  # the last line is not
    assert h.pinned_output == h.resolve("z") and h.to_dict()["output"] == h.resolve("z")
    old = g.to_dict() | {"output": g.resolve("z")}  # as every file written before pins
    loaded = Graph.from_dict(old)
    assert loaded.pinned_output == loaded.resolve("z")
    assert Graph.from_dict(old | {"output": None}).pinned_output is None
    p = tmp_path / "pinned.json"
    loaded.save(p)
    assert json.loads(p.read_text())["output"] == loaded.resolve("z")
    assert "output_port" not in json.loads(p.read_text())  # written only when not 0


def _sample() -> dict:
    return Graph.from_expression("a*b", a=1.0, b=2.0).to_dict()


@pytest.mark.parametrize(
    "change, words",
    [
        (lambda d: d["edges"][0].update(source_port=1), ["edges[0]", "source_port 1", "'a'"]),
        (lambda d: d["edges"][0].update(source_port=-1), ["edges[0]", '"source_port"', "-1"]),
        (lambda d: d["edges"][0].update(source_port="0"), ["edges[0]", '"source_port"']),
        (lambda d: d.update(output=3, output_port=1), ['"output_port" is 1', "one output"]),
        (lambda d: d.update(output_port=0.5), ['"output_port"', "0.5"]),
        (lambda d: d.update(output_port=1), ['"output_port" is 1', 'no "output"']),
    ],
)
def test_bad_source_and_output_ports_are_refused_with_the_place(change, words):
    d = _sample()
    change(d)
    with pytest.raises(DocumentError) as e:
        Graph.from_dict(d)
    for w in words:
        assert w in str(e.value)


def test_port_zero_is_accepted_anywhere():
    d = _sample()
    d["edges"][0]["source_port"] = 0
    d.update(output=3, output_port=0)
    g = Graph.from_dict(d)
    assert g.pinned_output == 3 and g.output_port == 0 and g.value(3) == 2.0
    assert all("source_port" not in e for e in g.to_dict()["edges"])  # 0 is not written


# ------------------------------------------------------------------ wires


def test_connect_and_disconnect_carry_the_source_port():
    g = Graph.from_expression("a*b", a=1.0, b=2.0)
    seen = []
    g.subscribe(seen.append)
    assert g.disconnect(3, 1) == (2, 0)
    assert seen == [EdgeRemoved(3, 2, 1, 0)]
    g.connect(2, 3, 1, 0)
    assert seen[-1] == EdgeAdded(3, 2, 1, 0) and seen[-1].source_port == 0
    assert g.output_arity("a") == g.output_arity(3) == 1 and g.arity(3) == 2
    assert g.input_wires(3) == [(1, 0), (2, 0)]


@pytest.mark.parametrize("bad", [1, -1, 2, True, 0.0, "0", None])
def test_a_source_port_out_of_range_is_a_port_error_naming_node_and_port(bad):
    g = Graph.from_expression("a*b", a=1.0, b=2.0)
    g.disconnect(3, 1)
    before = g.to_dict()
    for call in (lambda: g.check_connect("b", 3, 1, bad), lambda: g.connect("b", 3, 1, source_port=bad)):
        with pytest.raises(PortError) as e:
            call()
        assert "node b" in str(e.value) and repr(bad) in str(e.value)
    assert g.to_dict() == before


@pytest.mark.parametrize("bad", [1, -1, True, "0"])
def test_value_grad_and_output_take_only_real_output_ports(bad):
    g = Graph.from_expression("a*b", a=1.0, b=2.0)
    for call in (lambda: g.value("a", bad), lambda: g.grad("a", bad), lambda: g.contributions("a", bad),
                 lambda: g.shape("a", bad), lambda: g.set_output("a", bad), lambda: g.backward("a", bad)):
        with pytest.raises(PortError, match="node a"):
            call()
    assert g.pinned_output is None


# ------------------------------------------------------------------ a node with two outputs

# A test-only kind (not a row of the op table): inputs a, b; outputs a*b and a+b, inlined
# into two op slots of the tape, as a composite instance inlines its body.


def _compile_pair(build, node, attrs, inputs):
    prod = build.op(OPS["mul"], inputs, node)
    total = build.op(OPS["add"], inputs, (node, "sum"))
    for port in (0, 1):
        build.receives(port, prod, port)
        build.receives(port, total, port)
    return prod, total


PAIR = kinds.NodeKind("pair", inputs=lambda attrs: ("a", "b"), outputs=lambda attrs: ("a*b", "a+b"),
                      compile=_compile_pair)


@pytest.fixture
def pair_kind():
    kinds.register(PAIR)
    yield PAIR
    kinds.unregister("pair")


def _pair_graph():
    """L = p0 * p1 + exp(p1) with (p0, p1) = pair(x, y) = (x*y, x+y)."""
    g = Graph()
    x = g.add_number(0.5, name="x")
    y = g.add_number(-1.25, name="y")
    p = g.add_op("pair", name="p")
    g.connect(x, p, 0)
    g.connect(y, p, 1)
    m = g.add_op("mul", name="m")
    g.connect(p, m, 0)  # source port 0
    g.connect(p, m, 1, source_port=1)
    e = g.add_op("exp", name="e")
    g.connect(p, e, 0, 1)
    total = g.add_op("add", name="L")
    g.connect(m, total, 0)
    g.connect(e, total, 1)
    return g


def _torch_pair(x=0.5, y=-1.25):
    tx = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    ty = torch.tensor(y, dtype=torch.float64, requires_grad=True)
    p0, p1 = tx * ty, tx + ty
    for t in (p0, p1):
        t.retain_grad()
    loss = p0 * p1 + torch.exp(p1)
    loss.backward()
    return loss, tx, ty, p0, p1


def test_a_node_with_two_outputs_is_addressed_by_port_down_to_the_tape(pair_kind):
    g = _pair_graph()
    loss, tx, ty, p0, p1 = _torch_pair()
    p = g.resolve("p")
    assert g.arity(p) == 2 and g.output_arity(p) == 2
    assert g.output_node() == g.resolve("L")
    assert g.value("L") == pytest.approx(loss.item(), rel=1e-15)
    assert g.value(p) == pytest.approx(p0.item()) and g.value(p, 1) == pytest.approx(p1.item())
    assert g.grad(p, 0) == pytest.approx(p0.grad.item()) and g.grad(p, 1) == pytest.approx(p1.grad.item())
    assert g.grad("x") == pytest.approx(tx.grad.item()) and g.grad("y") == pytest.approx(ty.grad.item())
    tape = g.tape()
    assert tape.slot(p, 1) == tape.outputs[(p, 1)] != tape.slot(p, 0) == tape.index[p]
    # what each output sends back is read per wire, and sums to its gradient
    from_port1 = g.contributions(p, 1)
    assert sorted((t, q) for t, q, _ in from_port1) == sorted([(g.resolve("m"), 1), (g.resolve("e"), 0)])
    assert math.fsum(a for *_, a in from_port1) == pytest.approx(p1.grad.item())
    # and what flows into the pair's inputs sums over both of its outputs
    (into,) = g.contributions("x")
    assert into[:2] == (p, 0) and into[2] == pytest.approx(tx.grad.item())
    assert g.edge_grad("y", p, 1) == pytest.approx(ty.grad.item())
    assert g.values()[p] == g.value(p) and g.grads()[p] == g.grad(p)


def test_wires_from_a_second_output_edit_save_and_undo_like_any_other(pair_kind):
    g = _pair_graph()
    p, e = g.resolve("p"), g.resolve("e")
    with pytest.raises(PortError, match=r"node p has output ports 0\.\.1; there is no output port 2"):
        g.check_connect(p, e, 0, source_port=2, replacing=True)
    assert g.input_wires(e) == [(p, 1)] and g.consumers(p, source_port=1) == [(g.resolve("m"), 1), (e, 0)]
    assert g.disconnect(e, 0) == (p, 1)
    g.connect(p, e, 0, 1)
    assert {w for w in g.wires() if w.source == p} == {(p, 0, g.resolve("m"), 0), (p, 1, g.resolve("m"), 1),
                                                      (p, 1, e, 0)}
    edges = g.to_dict()["edges"]
    assert {(d["target"], d["port"]): d.get("source_port", 0) for d in edges if d["source"] == p} == {
        (g.resolve("m"), 0): 0, (g.resolve("m"), 1): 1, (e, 0): 1}


def test_a_second_output_can_be_the_output(pair_kind):
    g = _pair_graph()
    p = g.resolve("p")
    g.set_output(p, 1)
    assert g.output_ref() == (p, 1) and g.output_port == 1
    g.backward()
    assert g.evaluated_output_ref() == (p, 1)
    assert (g.grad("x"), g.grad("y"), g.grad(p, 1), g.grad(p, 0)) == (1.0, 1.0, 1.0, None)
    steps = g.steps()
    assert steps[0][0] == (p, "sum") and [s[2] for s in steps[0][2]] == [1.0, 1.0]
    g.backward("e")
    assert g.grad(p, 1) == pytest.approx(math.exp(0.5 - 1.25)) and g.grad(p, 0) is None


def test_an_unconnected_input_of_a_two_output_node_is_a_problem_on_it(pair_kind):
    g = _pair_graph()
    p = g.resolve("p")
    g.disconnect(p, 1)
    assert g.value(p) is None and g.value(p, 1) is None and g.value("L") is None
    assert "not connected" in g.problems()[p]
    assert g.why_no_value("L") == "p: input 'b' is not connected"


# ------------------------------------------------------------------ why there is no value


def test_why_no_value_names_the_node_where_a_class_target_is_out_of_range():
    import numpy as np

    g = Graph()
    z = g.add_number(np.array([[1.0, 2.0, 3.0], [0.0, 1.0, 0.0]]), name="z")
    t = g.add_number(np.array([0, 7]), name="t")
    ce = g.add_op("cross_entropy", name="ce")
    g.connect(z, ce, 0)
    g.connect(t, ce, 1)
    loss = g.add_op("neg", name="loss")
    g.connect(ce, loss, 0)
    why = g.why_no_value("loss")
    assert why.startswith("ce: ") and "class 7" in why and "3 classes" in why
    assert g.why_no_value("z") == ""
