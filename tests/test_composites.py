"""Composites in the engine: group and ungroup, definitions shared by instances, addresses inside
them, edits inside a definition, and their limits.

Oracles: the same graph flat (values and gradients to 1e-12, before any grouping); networkx for
whether a selection leaves itself and comes back; hand calculations written here.
"""

from __future__ import annotations

import math

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import Graph, GraphError
from engine.core.composites import (
    MAX_NESTING,
    CompositeError,
    DefinitionInUseError,
    RecursiveDefinitionError,
)
from engine.core.errors import CycleError
from engine.core.events import DefinitionAdded, EdgeAdded, ValueChanged
from tests.oracles import examples
from tests.strategies import build_graph, same, specs


def _snapshot(g: Graph, ids) -> dict:
    return {n: (g.value(n), g.grad(n)) for n in ids}


def _leaves_and_path_exit(g: Graph, sel: set) -> bool:
    """Whether some path leaves ``sel`` and comes back (the oracle for a refused group)."""
    outside = [n for n in g.nx if n not in sel]
    sub = g.nx.subgraph(outside)
    down = set()
    for n in sel:
        down.update(t for t in g.nx.successors(n) if t not in sel)
    reach = set()
    for n in down:
        reach |= {n} | nx.descendants(sub, n)
    return any(s in reach for n in sel for s in g.nx.predecessors(n))


def _close(a, b) -> bool:
    return same(a, b, rel=1e-12, abs_tol=1e-12)


@settings(max_examples=examples(25))
@given(spec=specs(min_leaves=2, max_ops=10), picks=st.lists(st.lists(st.integers(0, 40), min_size=1,
                                                                     max_size=5), min_size=1, max_size=4))
def test_grouping_at_random_keeps_values_and_gradients_and_ungroup_undoes_it(spec, picks):
    g, ids = build_graph(spec)
    before = g.to_dict()
    flat = _snapshot(g, ids)
    where = {n: n for n in ids}  # original node -> its address now
    made = []
    for k, pick in enumerate(picks):
        top = g.nodes()
        sel = {top[i % len(top)] for i in pick}
        if _leaves_and_path_exit(g, sel):
            with pytest.raises(CycleError, match="cycle"):
                g.group(sorted(sel), f"g{k}")
            continue
        inst = g.group(sorted(sel), f"g{k}")
        made.append(inst)
        for n, addr in where.items():
            head = addr[0] if isinstance(addr, tuple) else addr
            if head in sel:
                where[n] = (inst,) + (addr if isinstance(addr, tuple) else (addr,))
        for n in ids:
            v, gr = flat[n]
            assert _close(g.value(where[n]), v), (n, where[n])
            assert _close(g.grad(where[n]), gr), (n, where[n])
    for inst in reversed(made):
        g.ungroup(inst)
    assert g.to_dict() == before
    assert not g.definitions
    for n in ids:
        assert _close(g.value(n), flat[n][0]) and _close(g.grad(n), flat[n][1])


@settings(max_examples=examples(15))
@given(spec=specs(min_leaves=2, min_ops=3, max_ops=10),
       pick=st.lists(st.integers(0, 40), min_size=2, max_size=6))
def test_grouping_inside_a_definition_keeps_every_number(spec, pick):
    """Group everything but the leaves, then group part of that body: two levels, edited from
    inside the definition (addresses ("g0", id))."""
    g, ids = build_graph(spec)
    flat = _snapshot(g, ids)
    ops = [n for n in ids if g.op(n) != "number"]
    inst = g.group(ops, "outer")
    body = g.definitions["outer"].body
    inner = [n for n in body.nodes() if body.op(n) not in ("input", "output")]
    sel = sorted({inner[i % len(inner)] for i in pick})
    if _leaves_and_path_exit(body, set(sel)):
        with pytest.raises(CycleError):
            g.group([("outer", n) for n in sel], "inner")
        return
    addr = g.group([("outer", n) for n in sel], "inner")
    assert addr[0] == "outer" and g.op(addr) == "call"
    for n in ids:
        if n in ops:
            path = (inst, addr[1], n) if n in sel else (inst, n)
        else:
            path = n
        assert _close(g.value(path), flat[n][0]) and _close(g.grad(path), flat[n][1])
    g.ungroup(addr)
    assert "inner" not in g.definitions
    for n in ops:
        assert _close(g.grad((inst, n)), flat[n][1])


def _tied():
    """y = f(x1) + f(x2) with f(x) = w * x, w = 3 shared: dy/dw = x1 + x2 (hand calculation)."""
    g = Graph.from_expression("y = w * x1", w=3.0, x1=2.0)
    x1 = g.resolve("x1")
    i1 = g.group([g.resolve("w"), g.resolve("y")], "f")
    x2 = g.add_number(5.0, name="x2")
    i2 = g.add_instance("f")
    g.connect(x2, i2, 0)
    total = g.add_op("add", name="total")
    g.connect(i1, total, 0)
    g.connect(i2, total, 1)
    return g, i1, i2, x1, x2


def test_a_constant_shared_by_instances_gets_the_sum_of_their_gradients():
    g, i1, i2, x1, x2 = _tied()
    assert g.value(g.output_node()) == 3.0 * 2.0 + 3.0 * 5.0
    assert g.grad("f.w") == 2.0 + 5.0  # d/dw (w*x1 + w*x2)
    assert sorted(g.contributions("f.w")) == [(i1, None, 2.0), (i2, None, 5.0)]
    w = g.locate("f.w")
    assert g.grad((i1, w[1])) == 2.0 and g.grad((i2, w[1])) == 5.0  # each instance's share
    assert g.grad(x1) == 3.0 and g.grad(x2) == 3.0
    g.set_value("f.w", 10.0)  # one edit inside: every instance follows
    assert g.value(i1) == 20.0 and g.value(i2) == 50.0


def test_an_edit_inside_a_definition_is_announced_with_its_name_and_changes_every_instance():
    g, i1, i2, _x1, _x2 = _tied()
    seen = []
    g.subscribe(seen.append)
    w = g.locate("f.w")
    mul = next(t for t, _p in g.consumers(w))
    assert g.check_set_value(w, 4.0) == (w, 4.0)
    g.set_value(w, 4.0)
    assert isinstance(seen[-1], ValueChanged) and seen[-1].definition == "f" and seen[-1].node == w[1]
    one = g.add_number(1.0, inside="f")
    add = g.add_op("add", inside="f")
    out_ph = g.definitions["f"].outputs[0].node
    src, sp = g.disconnect(("f", out_ph), 0)
    g.connect(src, add, 0)
    g.connect(one, add, 1)
    g.connect(add, ("f", out_ph), 0)
    assert any(isinstance(e, EdgeAdded) and e.definition == "f" for e in seen)
    assert g.value(i1) == 4.0 * 2.0 + 1.0 and g.value(i2) == 4.0 * 5.0 + 1.0
    assert g.op(("f", mul[1] if isinstance(mul, tuple) else mul)) == "mul"


def test_recursion_is_refused_naming_the_cycle_and_nothing_changes():
    g, i1, _i2, _x1, _x2 = _tied()
    g.group([i1], "h")  # h contains f
    before = g.to_dict()
    with pytest.raises(RecursiveDefinitionError, match="f -> h -> f|h -> f -> h"):
        g.add_instance("h", inside="f")
    with pytest.raises(RecursiveDefinitionError, match="itself"):
        g.add_instance("f", inside="f")
    assert g.to_dict() == before


def test_nesting_deeper_than_the_limit_is_refused():
    g = Graph.from_expression("x * 2", x=1.0)
    inst = g.group([2, 3], "d0")
    for k in range(1, MAX_NESTING):
        inst = g.group([inst], f"d{k}")
    assert g.value(inst) == 2.0
    with pytest.raises(CompositeError, match="nest 65 levels"):
        g.group([inst], "too_deep")
    assert "too_deep" not in g.definitions


def test_a_definition_in_use_cannot_be_deleted_and_an_unused_one_comes_back_exactly():
    g, i1, i2, _x1, _x2 = _tied()
    with pytest.raises(DefinitionInUseError, match="2 instance"):
        g.remove_definition("f")
    g.group([i1], "h")
    inst_h = g.instances("h")[0]
    data = g.definition_data("h")
    g.ungroup(inst_h)
    assert "h" not in g.definitions  # ungroup removes a definition left without instances
    g.add_definition("h", data)
    assert g.definition_data("h") == data
    assert g.remove_definition("h") == data


def test_make_unique_then_share_is_the_identity_and_unique_edits_stay_local():
    g, i1, i2, _x1, _x2 = _tied()
    before = g.to_dict()
    name = g.make_unique(i2)
    assert name == "f#2" and g.node(i2)["definition"] == "f#2"
    g.set_value(f"{name}.w", 1.0)
    assert g.value(i1) == 6.0 and g.value(i2) == 5.0  # only the unique copy changed
    g.set_value(f"{name}.w", 3.0)
    assert g.share_definition(i2, "f") is not None
    assert g.to_dict() == before


def test_expose_as_input_changes_nothing_numerically_and_unexpose_undoes_it():
    g, i1, i2, x1, x2 = _tied()
    before = g.to_dict()
    vals = (g.value(g.output_node()), g.grad(x1), g.grad(x2))
    got = g.expose_as_input("f.w")
    assert got["port"] == 1 and g.arity(i1) == 2 and g.definitions["f"].input_names == ["x1", "w"]
    assert (g.value(g.output_node()), g.grad(x1), g.grad(x2)) == vals
    feeders = got["feeders"]
    assert g.grad(feeders[i1]) == 2.0 and g.grad(feeders[i2]) == 5.0  # now two weights
    g.unexpose_input("f", got["port"], name=got["name"])
    assert g.to_dict() == before


def test_rename_definition_and_its_inverse():
    g, i1, _i2, _x1, _x2 = _tied()
    before = g.to_dict()
    g.rename_definition("f", "scale")
    assert g.label(i1) == f"scale#{i1}" and g.grad("scale.w") == 7.0
    with pytest.raises(GraphError):
        g.rename_definition("scale", "bad.name")
    g.rename_definition("scale", "f")
    assert g.to_dict() == before


def test_group_refusals_leave_the_graph_untouched():
    g = Graph.from_expression("b = a * 2\nc = b + 1\nd = a * c\nd", a=3.0)
    before = g.to_dict()
    with pytest.raises(CycleError, match="leaves itself and comes back"):
        g.group([g.resolve("b"), g.resolve("d")], "loop")  # b -> c -> d, c outside
    with pytest.raises(GraphError, match="nothing to group"):
        g.group([], "empty")
    with pytest.raises(GraphError):
        g.group([99], "missing")
    assert g.to_dict() == before and not g.definitions


def test_check_group_raises_what_group_raises():
    g = Graph.from_expression("b = a * 2\nc = b + 1\nd = a * c\nd", a=3.0)
    for args in ([[g.resolve("b"), g.resolve("d")], "x"], [[], "x"], [[1], "bad.name"]):
        with pytest.raises(GraphError) as checked:
            g.check_group(*args)
        with pytest.raises(type(checked.value)):
            g.group(*args)


def test_inputs_by_first_use_outputs_in_order_and_port_names():
    g = Graph.from_expression("p = b * a\nq = p + c\nr = p * 2\nq * r", a=1.0, b=2.0, c=3.0)
    inst = g.group([g.resolve("p"), g.resolve("q"), g.resolve("r")], "f")
    d = g.definitions["f"]
    # mul(b, a) reads b on port 0 first, then a; then c; the literal 2 was not selected
    assert d.input_names[:3] == ["b", "a", "c"]
    assert d.output_names == ["q", "r"]
    assert g.output_arity(inst) == 2
    assert math.isclose(g.value(g.output_node()), (2.0 + 3.0) * (2.0 * 2.0))


def test_an_unused_definition_inlines_nothing_and_values_there_are_none():
    g, i1, i2, _x1, _x2 = _tied()
    g.make_unique(i2, "spare")
    g.share_definition(i2, "f")
    assert "spare" not in g.definitions
    d = g.definitions["f"]
    mul = next(n for n in d.body.nodes() if d.body.op(n) == "mul")
    assert g.value(("f", mul)) is None  # one value per instance, none at the definition
    assert g.value((i1, mul)) == 6.0


def test_events_for_group_say_a_definition_was_added():
    g = Graph.from_expression("(a * b) + 1", a=2.0, b=3.0)
    seen = []
    g.subscribe(seen.append)
    g.group([3], "m")
    assert any(isinstance(e, DefinitionAdded) and e.definition == "m" for e in seen)


def test_a_copy_owns_its_definitions():
    g, i1, _i2, _x1, _x2 = _tied()
    c = g.copy()
    c.set_value("f.w", 10.0)
    assert g.number("f.w") == 3.0 and c.value(i1) == 20.0 and g.value(i1) == 6.0
    assert c.definition_of(i1) is c.definitions["f"] is not g.definitions["f"]


def test_adopting_definitions_shares_equal_ones_and_renames_different_ones():
    g, *_ = _tied()
    same = Graph.from_dict(g.to_dict())
    assert g.adopt_definitions(same) == {"f": "f"} and list(g.definitions) == ["f"]
    other = Graph.from_expression("def f(x):\n    return x + 1\ndef h(y):\n    return f(y) * 2\nh(1.0)")
    mapping = g.adopt_definitions(other, ["h"])
    assert mapping == {"f": "f#2", "h": "h"}
    body = g.definitions["h"].body
    call = next(n for n in body.nodes() if body.op(n) == "call")
    assert g.definition_of(("h", call)) is g.definitions["f#2"]


def test_an_instance_view_reads_one_instance_inside():
    g, i1, i2, _x1, _x2 = _tied()
    view = g.instance_view(i2)
    d = g.definitions["f"]
    mul = next(n for n in view.nodes() if view.graph.op(n) == "mul")
    assert view.value(mul) == 15.0 and view.grad(mul) == 1.0
    assert view.value(d.inputs[0].node) == 5.0  # what comes in through the port
    assert view.grad(d.inputs[0].node) == 3.0  # what goes back out through it
    w = g.locate("f.w")[1]
    assert view.edge_grad(w, mul, 0) == 5.0


def test_ungrouping_one_of_several_instances_is_undone_by_grouping_again():
    g, i1, i2, _x1, _x2 = _tied()
    before = g.to_dict()
    ids = g.ungroup(i2)
    assert "f" in g.definitions and g.instances("f") == [i1]
    again = g.group(sorted(ids.values()), "f", node_id=i2)
    assert again == i2 and g.to_dict() == before
    with pytest.raises(CompositeError, match="exists already"):
        g.group([g.resolve("x2")], "f")
