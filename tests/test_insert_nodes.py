"""Graph.insert_nodes: many nodes and wires as one edit with one NodesInserted event (what Show
Backward Graph inserts), equal to the same nodes added one by one, and all or nothing."""

from __future__ import annotations

import math

import pytest

from engine import Graph
from engine.core import events as E
from engine.core.errors import GraphError


def _specs():
    # t = tanh(a); u = t * b, with a role and a name
    return [
        {"id": 10, "op": "tanh", "x": 100.0, "y": 5.0, "role": "backward"},
        {"id": 11, "op": "number", "value": 3.0, "name": "b", "x": 0.0, "y": 80.0},
        {"id": 12, "op": "mul", "name": "u", "x": 200.0, "y": 40.0},
    ]


def test_insert_nodes_equals_one_by_one_with_one_event():
    g = Graph()
    a = g.add_number(0.5, name="a")
    seen = []
    g.subscribe(seen.append)
    wires = [(a, 10, 0), (10, 12, 0), (11, 12, 1)]
    assert g.insert_nodes(_specs(), wires) == [10, 11, 12]
    assert seen == [E.NodesInserted((10, 11, 12), ((a, 10, 0, 0), (10, 12, 0, 0), (11, 12, 1, 0)))]
    # the oracle: the same document made with the one-node edits
    h = Graph()
    h.add_number(0.5, name="a")
    h.add_op("tanh", x=100.0, y=5.0, node_id=10)
    h.set_role(10, "backward")
    h.add_number(3.0, name="b", node_id=11, y=80.0)
    h.add_op("mul", name="u", x=200.0, y=40.0, node_id=12)
    for s, t, p in wires:
        h.connect(s, t, p)
    assert [g.node(n) for n in sorted(g.nx)] == [h.node(n) for n in sorted(h.nx)]
    assert sorted(g.wires()) == sorted(h.wires())
    g.evaluate()
    assert g.value("u") == pytest.approx(3.0 * math.tanh(0.5), rel=1e-12)  # by hand
    assert g.grad("a") == pytest.approx(3.0 * (1 - math.tanh(0.5) ** 2), rel=1e-12)


@pytest.mark.parametrize("wires, error", [
    ([(1, 10, 0), (1, 10, 0)], "already wired"),  # the same port twice
    ([(1, 10, 0), (12, 1, 0)], "no inputs"),  # a number has no input
    ([(1, 2, 0), (10, 2, 0)], "already wired"),  # a wire between nodes that were there, undone
    ([(1, 10, 0), (99, 12, 0)], "99"),  # no such node
])
def test_a_refused_insert_leaves_the_graph_and_says_nothing(wires, error):
    g = Graph()
    a = g.add_number(0.5, name="a")
    g.add_op("neg")  # node 2, which the insert may wire into
    before = ([g.node(n) for n in g.nx], sorted(g.wires()))
    seen = []
    g.subscribe(seen.append)
    with pytest.raises(GraphError, match=error):
        g.insert_nodes(_specs(), wires)
    assert ([g.node(n) for n in g.nx], sorted(g.wires())) == before and seen == []
    assert "b" not in g and g.resolve("a") == a
    # the ids and names are free again: the same insert, now valid, goes through
    assert g.insert_nodes(_specs(), [(a, 10, 0)]) == [10, 11, 12]


def test_a_duplicate_id_is_refused_before_anything_changes():
    g = Graph()
    g.add_number(1.0, name="a", node_id=11)
    with pytest.raises(GraphError):
        g.insert_nodes(_specs())
    assert sorted(g.nx) == [11] and "b" not in g
