"""Documents version 3: definitions beside nodes and edges, source ports, the output's port;
every hostile definition refused with a DocumentError that names it, nothing half loaded.

Oracles: the document written by hand here; the same graph evaluated flat; the limits of
DESIGN §7 (64 levels, 2,000,000 inlined nodes) as numbers written in the tests.
"""

from __future__ import annotations

import copy
import json
import time

import pytest

from engine import DocumentError, Graph
from engine.io.document import dumps, from_dict, loads

NEURON = {
    "inputs": [{"name": "x", "node": 10}, {"name": "w", "node": 11}],
    "outputs": [{"name": "y", "node": 12}],
    "nodes": [
        {"id": 1, "op": "mul", "name": None},
        {"id": 2, "op": "number", "name": "b", "value": 0.5},
        {"id": 3, "op": "add", "name": None},
        {"id": 4, "op": "tanh", "name": "act"},
        {"id": 10, "op": "input"},
        {"id": 11, "op": "input"},
        {"id": 12, "op": "output"},
    ],
    "edges": [
        {"source": 10, "target": 1, "port": 0},
        {"source": 11, "target": 1, "port": 1},
        {"source": 1, "target": 3, "port": 0},
        {"source": 2, "target": 3, "port": 1},
        {"source": 3, "target": 4, "port": 0},
        {"source": 4, "target": 12, "port": 0},
    ],
}


def doc(**extra) -> dict:
    """y = neuron(x, w1) * neuron(x, w2), written by hand."""
    d = {
        "format": "gradcanvas",
        "version": 3,
        "definitions": {"neuron": copy.deepcopy(NEURON)},
        "nodes": [
            {"id": 1, "op": "number", "name": "x", "value": 0.3},
            {"id": 2, "op": "number", "name": "w1", "value": 0.7},
            {"id": 3, "op": "number", "name": "w2", "value": -1.2},
            {"id": 4, "op": "call", "definition": "neuron", "name": "n1"},
            {"id": 5, "op": "call", "definition": "neuron", "name": "n2"},
            {"id": 6, "op": "mul", "name": "y"},
        ],
        "edges": [
            {"source": 1, "target": 4, "port": 0},
            {"source": 2, "target": 4, "port": 1},
            {"source": 1, "target": 5, "port": 0},
            {"source": 3, "target": 5, "port": 1},
            {"source": 4, "target": 6, "port": 0},
            {"source": 5, "target": 6, "port": 1},
        ],
    }
    d.update(extra)
    return d


def test_a_hand_written_version_3_document_evaluates_as_its_flat_formula():
    import math

    g = from_dict(doc())
    a1, a2 = math.tanh(0.3 * 0.7 + 0.5), math.tanh(0.3 * -1.2 + 0.5)
    assert g.value("y") == pytest.approx(a1 * a2, rel=1e-15)
    # d/db of tanh(u1) * tanh(u2) = (1 - a1^2) a2 + a1 (1 - a2^2): the constant is shared
    assert g.grad("neuron.b") == pytest.approx((1 - a1**2) * a2 + a1 * (1 - a2**2), rel=1e-12)
    assert g.value((4, g.locate("neuron.act")[1])) == pytest.approx(a1, rel=1e-15)


def test_save_and_load_keep_definitions_source_ports_and_output_port():
    g = Graph.from_expression("def f(a, b):\n    return a * b, a + b\np, q = f(x, y)\np - q", x=2.0, y=5.0)
    inst = next(n for n in g.nodes() if g.op(n) == "call")
    g.set_output(inst, 1)
    text = dumps(g)
    data = json.loads(text)
    assert data["version"] == 3 and data["output"] == inst and data["output_port"] == 1
    assert any(e.get("source_port") == 1 for e in data["edges"])
    h = loads(text)
    assert dumps(h) == text
    assert h.value(inst, 1) == 7.0 and h.grad("x") == 1.0


def test_documents_without_composites_still_save_as_version_1_or_2():
    g = Graph.from_expression("a * b", a=1.0, b=2.0)
    assert g.to_dict()["version"] == 1 and "definitions" not in g.to_dict()
    inst = g.group([3], "m")
    assert g.to_dict()["version"] == 3
    g.ungroup(inst)
    assert g.to_dict()["version"] == 1


def _refused(data, *words):
    with pytest.raises(DocumentError) as info:
        from_dict(data)
    for w in words:
        assert w in str(info.value), (w, str(info.value))


def test_a_missing_definition_is_named():
    d = doc()
    d["nodes"][3]["definition"] = "neurone"
    _refused(d, "node 4", "'neurone' does not exist")


def test_definitions_need_version_3():
    _refused(doc(version=2), '"definitions" needs document version 3')


def test_a_port_out_of_range_is_named_on_both_sides():
    d = doc()
    d["edges"].append({"source": 1, "target": 4, "port": 2})
    _refused(d, "edges[6]", "port 2 out of range", "neuron")
    d = doc()
    d["edges"][4]["source_port"] = 1
    _refused(d, "edges[4]", "source_port 1", "one output")


def test_a_recursive_definition_is_refused_naming_the_cycle():
    d = doc()
    d["definitions"]["neuron"]["nodes"].append({"id": 20, "op": "call", "definition": "neuron"})
    _refused(d, "'neuron'", "contain itself", "neuron -> neuron")
    d = doc()
    other = copy.deepcopy(NEURON)
    other["nodes"].append({"id": 20, "op": "call", "definition": "neuron"})
    d["definitions"]["other"] = other
    d["definitions"]["neuron"]["nodes"].append({"id": 20, "op": "call", "definition": "other"})
    _refused(d, "contain itself", "->")


def test_a_body_that_is_not_a_dag_is_named():
    d = doc()
    d["definitions"]["neuron"]["edges"].append({"source": 4, "target": 1, "port": 0})
    _refused(d, "definition 'neuron'")
    d = doc()
    body = d["definitions"]["neuron"]
    body["edges"][0] = {"source": 3, "target": 1, "port": 0}
    _refused(d, "definition 'neuron'", "cycle")


def test_ports_must_name_their_placeholders_once():
    d = doc()
    d["definitions"]["neuron"]["inputs"][1]["node"] = 1
    _refused(d, "inputs[1]", "not an 'input' node")
    d = doc()
    d["definitions"]["neuron"]["nodes"].append({"id": 13, "op": "input"})
    _refused(d, "node(s) [13]")
    d = doc()
    d["nodes"].append({"id": 9, "op": "input"})
    _refused(d, "node 9", "belongs in a body")


def _chain(levels: int) -> dict:
    """d0(x) = x * 2; d_k(x) = d_{k-1}(x): ``levels`` definitions deep."""
    defs = {"d0": {"inputs": [{"name": "x", "node": 2}], "outputs": [{"name": "y", "node": 3}],
                   "nodes": [{"id": 1, "op": "mul"}, {"id": 2, "op": "input"}, {"id": 3, "op": "output"},
                             {"id": 4, "op": "number", "value": 2.0}],
                   "edges": [{"source": 2, "target": 1, "port": 0}, {"source": 4, "target": 1, "port": 1},
                             {"source": 1, "target": 3, "port": 0}]}}
    for k in range(1, levels):
        defs[f"d{k}"] = {"inputs": [{"name": "x", "node": 2}], "outputs": [{"name": "y", "node": 3}],
                         "nodes": [{"id": 1, "op": "call", "definition": f"d{k - 1}"},
                                   {"id": 2, "op": "input"}, {"id": 3, "op": "output"}],
                         "edges": [{"source": 2, "target": 1, "port": 0},
                                   {"source": 1, "target": 3, "port": 0}]}
    return {"format": "gradcanvas", "version": 3, "definitions": defs,
            "nodes": [{"id": 1, "op": "number", "name": "x", "value": 1.5},
                      {"id": 2, "op": "call", "definition": f"d{levels - 1}"}],
            "edges": [{"source": 1, "target": 2, "port": 0}]}


def test_64_levels_load_and_a_1000_level_nesting_is_refused_quickly():
    g = from_dict(_chain(64))
    assert g.value(2) == 3.0 and g.grad("x") == 2.0
    start = time.perf_counter()
    _refused(_chain(1000), "nest 1000 levels", "at most 64")
    assert time.perf_counter() - start < 30  # no recursion, no expansion (a generous bound)


def test_a_small_file_that_would_expand_to_2_to_the_50_nodes_is_refused_without_expanding():
    defs = {"b0": {"inputs": [{"name": "x", "node": 2}], "outputs": [{"name": "y", "node": 3}],
                   "nodes": [{"id": 1, "op": "neg"}, {"id": 2, "op": "input"}, {"id": 3, "op": "output"}],
                   "edges": [{"source": 2, "target": 1, "port": 0}, {"source": 1, "target": 3, "port": 0}]}}
    for k in range(1, 51):  # b_k holds two b_(k-1): b50 inlines to 2**50 nodes
        defs[f"b{k}"] = {"inputs": [{"name": "x", "node": 3}], "outputs": [{"name": "y", "node": 4}],
                         "nodes": [{"id": 1, "op": "call", "definition": f"b{k - 1}"},
                                   {"id": 2, "op": "call", "definition": f"b{k - 1}"},
                                   {"id": 3, "op": "input"}, {"id": 4, "op": "output"}],
                         "edges": [{"source": 3, "target": 1, "port": 0},
                                   {"source": 1, "target": 2, "port": 0},
                                   {"source": 2, "target": 4, "port": 0}]}
    data = {"format": "gradcanvas", "version": 3, "definitions": defs,
            "nodes": [{"id": 1, "op": "number", "value": 1.0}, {"id": 2, "op": "call", "definition": "b50"}],
            "edges": [{"source": 1, "target": 2, "port": 0}]}
    assert len(json.dumps(data)) < 30_000
    _refused(data, "would inline to", "2**50", "at most 2,000,000")


def test_refusals_leave_nothing_half_loaded_and_the_valid_document_loads():
    good = from_dict(doc())
    for bad in (doc(version=2), _chain(1000)):
        with pytest.raises(DocumentError):
            from_dict(bad)
    assert from_dict(doc()).to_dict() == good.to_dict()


def test_fragments_carry_the_definitions_their_instances_need():
    from engine.io.document import fragment, read_fragment

    g = from_dict(doc())
    f = fragment(g, [1, 4])
    assert set(f["definitions"]) == {"neuron"} and f["version"] == 3
    h = read_fragment(f)
    assert h.definitions["neuron"].input_names == ["x", "w"]


@pytest.mark.parametrize("mutate, words", [
    (lambda d: d["definitions"].update({"a.b": copy.deepcopy(NEURON)}), ["'a.b'", "'.'"]),
    (lambda d: d["definitions"].update({"x": []}), ["definition 'x' must be an object"]),
    (lambda d: d["definitions"]["neuron"].update(inputs={}), ['"inputs" must be a list']),
    (lambda d: d["definitions"]["neuron"]["outputs"].append({"name": "y", "node": 12}),
     ["'y' is used twice"]),
    (lambda d: d["nodes"][3].update(value=1.0), ["node 4", "no 'value'"]),
    (lambda d: d["nodes"][3].pop("definition"), ["node 4", '"definition"']),
    (lambda d: d.update(output=4, output_port=1), ['"output_port" is 1', "one output"]),
    (lambda d: d.update(definitions=[]), ['"definitions" must be an object']),
])
def test_malformed_definitions_are_refused_naming_the_place(mutate, words):
    d = doc()
    mutate(d)
    _refused(d, *words)
