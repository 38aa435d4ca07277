"""Graph.gradient_graph on documents with instances: the backward graph is drawn over the
inlined document, its gradient nodes hold the same numbers as reverse mode, and it can be
differentiated again.

Oracles: hand calculations (weight tying), central finite differences of the document's own
evaluation, PyTorch float64 (first and second derivatives of the neuron example).
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import Graph
from engine.core.higher_order import gradient_graph
from tests.oracles import examples
from tests.strategies import specs

EXAMPLES = "resources/examples/"  # the composite examples of the main gallery

SRC = """\
def neuron(x, w):
    b = 0.5
    return tanh(x * w + b)
def pair(a, c):
    return a * c, a + c
p, q = pair(neuron(x, w1), neuron(x, w2))
p * q + x
"""


def _fd(g, ref, h=1e-6):
    """Central difference of the document's output along the number ``ref``."""
    v = g.value(ref)
    out = g.output_node()
    g.set_value(ref, v + h)
    up = g.value(out)
    g.set_value(ref, v - h)
    down = g.value(out)
    g.set_value(ref, v)
    return (up - down) / (2 * h)


def test_weight_tying_by_hand():
    # y = w*a + w*b, w = 0.5, a = 2, b = 3: dy/dw = a + b = 5, dy/da = dy/db = w
    g = Graph.load(EXAMPLES + "weight_tying.json")
    h, grads = g.gradient_graph()
    w = g.locate("scale.w")
    assert h.value(grads[w]) == 5.0
    assert h.value(grads[g.resolve("a")]) == 0.5 and h.value(grads[g.resolve("b")]) == 0.5
    assert not any(h.op(n) == "call" for n in h.nodes())  # drawn flat
    tied = [n for n in h.nodes() if h.op(n) == "number" and h.role(n) != "backward" and h.value(n) == 0.5]
    forward_uses = [t for t, _ in h.consumers(tied[0]) if h.role(t) != "backward"]
    assert len(tied) == 1 and len(forward_uses) == 2  # one constant, read by both muls


@pytest.mark.parametrize("name", ["weight_tying", "neuron_three_times"])
def test_every_gradient_node_equals_finite_differences(name):
    g = Graph.load(EXAMPLES + name + ".json")
    h, grads = g.gradient_graph()
    assert grads and all(gn is not None for gn in grads.values())
    for ref, gn in grads.items():
        assert h.value(gn) == pytest.approx(_fd(g, ref), rel=1e-6, abs=1e-8), g.label(ref)
    assert h.value(h.output_node()) == pytest.approx(g.value(g.output_node()), rel=1e-15)


def test_an_instance_output_as_the_output_and_inside_addresses_as_wrt():
    g = Graph.from_expression(SRC, x=0.3, w1=0.7, w2=-1.2)
    pair = next(n for n in g.nodes() if g.op(n) == "call" and g.node(n)["definition"] == "pair")
    first = g.inputs(pair)[0]  # neuron(x, w1), an instance too
    r = gradient_graph(g, output=pair, wrt=["w1", "neuron.b", first])
    n1, n2 = math.tanh(0.3 * 0.7 + 0.5), math.tanh(0.3 * -1.2 + 0.5)
    # output pair's port 0: p = n1 * n2; dp/dn1 = n2; dp/dw1 = n2 * (1 - n1^2) * x
    assert r.graph.value(r.output) == pytest.approx(n1 * n2, rel=1e-15)
    assert r.graph.value(r.grads[first]) == pytest.approx(n2, rel=1e-15)
    assert r.graph.value(r.grads[g.resolve("w1")]) == pytest.approx(n2 * (1 - n1 * n1) * 0.3, rel=1e-12)
    db = n2 * (1 - n1 * n1) + n1 * (1 - n2 * n2)
    assert r.graph.value(r.grads[g.locate("neuron.b")]) == pytest.approx(db, rel=1e-12)


def test_the_backward_graph_of_instances_differentiates_again_like_pytorch(torch):
    g = Graph.from_expression(SRC, x=0.3, w1=0.7, w2=-1.2)
    h, grads = g.gradient_graph(wrt=["w1", "neuron.b"])
    t = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True)
         for k, v in {"x": 0.3, "w1": 0.7, "w2": -1.2, "b": 0.5}.items()}
    n1 = torch.tanh(t["x"] * t["w1"] + t["b"])
    n2 = torch.tanh(t["x"] * t["w2"] + t["b"])
    y = (n1 * n2) * (n1 + n2) + t["x"]
    dw1, db = torch.autograd.grad(y, [t["w1"], t["b"]], create_graph=True)
    dw1_db, = torch.autograd.grad(dw1, [t["b"]])
    gw1, gb = grads[g.resolve("w1")], grads[g.locate("neuron.b")]
    assert h.value(gw1) == pytest.approx(dw1.item(), rel=1e-12)
    assert h.value(gb) == pytest.approx(db.item(), rel=1e-12)
    # the tied constant is one node of h: d(dy/dw1)/db through the backward graph
    b_node = next(n for n in h.nodes() if h.op(n) == "number" and h.role(n) != "backward"
                  and h.value(n) == 0.5)
    h.backward(output=gw1)
    assert h.grad(b_node) == pytest.approx(dw1_db.item(), rel=1e-12)


def test_a_grouped_document_gives_the_gradient_graph_of_its_flat_twin():
    g = Graph.from_expression("y = (a * b + 1) * tanh(a)", a=0.4, b=-1.5)
    flat_h, flat_grads = g.gradient_graph()
    g.group([3, 4], "f")  # a * b and the constant 1: the 1 becomes f's constant
    h, grads = g.gradient_graph()
    assert set(grads) == {1, 2, ("f", 4)}
    for n, flat in ((1, 1), (2, 2), (("f", 4), 4)):
        assert h.value(grads[n]) == flat_h.value(flat_grads[flat])
    assert len(h) == len(flat_h)


# ---------------------------------------------------------------------------- dataset nodes


def _says_why_and_what_instead(message, *names):
    assert "cannot go inside a definition" in message
    assert "function of its inputs" in message and "top level" in message and "wire" in message
    for name in names:
        assert name in message


def test_a_dataset_node_is_refused_inside_a_definition_saying_why_and_what_instead():
    from engine.core.composites import CompositeError

    g = Graph.from_expression("def f(x):\n    return x * 2\nf(a)", a=1.0)
    before = g.to_dict()
    with pytest.raises(CompositeError) as added:
        g.add_op("dataset", inside="f")
    _says_why_and_what_instead(str(added.value), "dataset")
    data = g.add_op("dataset", name="data")
    with pytest.raises(CompositeError) as grouped:
        g.group([data, g.resolve("a")], "h")
    _says_why_and_what_instead(str(grouped.value), "node data", "without it")
    g.remove_node(data)
    assert g.to_dict() == before  # nothing changed by the refusals


def test_a_file_with_a_dataset_node_inside_a_definition_is_refused_naming_it():
    from engine import DocumentError
    from engine.io.document import from_dict

    doc = {"format": "gradcanvas", "version": 3, "definitions": {"f": {
        "inputs": [{"name": "x", "node": 1}], "outputs": [{"name": "y", "node": 3}],
        "nodes": [{"id": 1, "op": "input"}, {"id": 2, "op": "dataset", "recipe": {"generator": "xor"}},
                  {"id": 3, "op": "output"}],
        "edges": [{"source": 1, "target": 3, "port": 0}]}},
        "nodes": [{"id": 1, "op": "number", "value": 1.0}, {"id": 2, "op": "call", "definition": "f"}],
        "edges": [{"source": 1, "target": 2, "port": 0}]}
    with pytest.raises(DocumentError) as e:
        from_dict(doc)
    _says_why_and_what_instead(str(e.value), "node 2", "'f'")


# ---------------------------------------------------------------------------- inlining


@settings(max_examples=examples(15))
@given(spec=specs(min_leaves=2, max_ops=10), picks=st.lists(st.lists(st.integers(0, 40), min_size=1,
                                                                     max_size=5), min_size=1, max_size=3))
def test_inlining_a_randomly_grouped_graph_gives_back_the_flat_graphs_numbers(spec, picks):
    """Oracle: the graph before grouping (random selections, grouped again and again, so
    instances nest)."""
    from engine.core.errors import CycleError
    from engine.core.inlining import inline_copy
    from tests.strategies import build_graph, same

    g, ids = build_graph(spec)
    before = {n: (g.value(n), g.grad(n)) for n in ids}
    where = {n: n for n in ids}
    for k, pick in enumerate(picks):
        top = g.nodes()
        sel = sorted({top[i % len(top)] for i in pick})
        try:
            inst = g.group(sel, f"g{k}")
        except CycleError:
            continue
        for n, addr in where.items():
            head = addr[0] if isinstance(addr, tuple) else addr
            if head in sel:
                where[n] = (inst,) + (addr if isinstance(addr, tuple) else (addr,))
    flat, at = inline_copy(g)
    assert not any(flat.op(n) == "call" for n in flat.nodes())
    flat.set_output(*_flat_output(g, at))
    for n, addr in where.items():
        if isinstance(addr, tuple):
            d = g.definition_of(addr[:-1] if len(addr) > 2 else addr[0])
            key = (d.name, addr[-1]) if addr[-1] in d.constants() else addr
            node = at[key]
        else:
            node = addr
        v, gr = before[n]
        assert same(flat.value(node), v, rel=1e-12, abs_tol=1e-12), (n, addr)
        assert same(flat.grad(node), gr, rel=1e-12, abs_tol=1e-12), (n, addr)


def _flat_output(g, at):
    """The grouped document's output, as a node of its inlined copy."""
    tape = g.tape()
    node, port = g.output_ref()
    key = tape.order[tape.slot(node, port)]
    return (at.get(key, key), 0)
