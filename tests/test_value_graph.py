"""Value.graph() and gui.show(): any Value graph can be looked at, labels and structure intact."""

from __future__ import annotations

import math

import pytest

from engine import DocumentError, Graph, Value


def test_structure_is_kept_node_for_node_and_wire_for_wire():
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    y = ((a * b + a) / (a - b)).tanh() ** 2 + (-a).exp()
    order = y._topo()
    g = y.graph()
    assert len(g) == len(order)
    for i, v in enumerate(order, start=1):
        assert g.op(i) == (v.creation_op or "number")
        assert g.inputs(i) == [order.index(c) + 1 for c in v.depends_on]
    y.backward()
    for i, v in enumerate(order, start=1):  # a's four uses may be summed in another order
        assert g.value(i) == v.data
        both_nan = math.isnan(g.grad(i)) and math.isnan(v.grad)  # d(a**b)/db for a < 0
        assert both_nan or math.isclose(g.grad(i), v.grad, rel_tol=1e-12)


def test_every_label_is_kept_duplicates_told_apart():
    xs = [Value(float(i), label="x") for i in range(3)]
    odd = [Value(1.0, label="12"), Value(2.0, label="b" * 80), Value(3.0, label="tab\there")]
    odd.append(Value(4.0, label=7))
    y = sum(xs) + sum(odd)
    g = y.graph()
    labels = [g.label(n) for n in g.nodes()]
    assert g.name(g.resolve("x")) == "x"
    assert {"x (2)", "x (3)", "12", "b" * 80, "tab\\there", "7"} <= set(labels)
    assert sum(1 for n in g.nodes() if g.name(n) == "x") == 1  # names stay unique
    assert g.grad("x") == 1.0


def test_inf_nan_and_huge_int_leaves_are_marked_not_refused():
    big = Value(10**400, label="big")
    inf = Value(math.inf, label="inf")
    nan = Value(math.nan, label="nan")
    y = big * 0.5 + inf * 0 + nan
    g = y.graph()
    probs = g.problems()
    assert probs[g.resolve("big")] == "value is inf"  # beyond float range: inf, as in the canvas
    assert probs[g.resolve("inf")] == "value is inf" and probs[g.resolve("nan")] == "value is NaN"
    assert math.isnan(g.value(g.output))


def test_a_graph_with_a_non_finite_number_cannot_be_saved_and_says_which(tmp_path):
    g = (Value(math.inf, label="w") * 2).graph()
    with pytest.raises(DocumentError, match="node w holds inf"):
        g.save(tmp_path / "x.json")
    assert not (tmp_path / "x.json").exists()
    g.set_value("w", 3.0)  # given a finite value it saves and loads like any document
    g.save(tmp_path / "x.json")
    assert Graph.load(tmp_path / "x.json").value(g.output) == 6.0


def test_display_labels_survive_a_copy_and_are_not_saved(tmp_path):
    y = Value(1.0, label="x") + Value(2.0, label="x")
    g = y.graph()
    assert g.copy().label(2) == "x (2)"
    g.save(tmp_path / "d.json")
    assert Graph.load(tmp_path / "d.json").name(2) is None  # display text, not a name


def test_show_opens_a_window_on_a_value_with_inf_and_awkward_labels(qtbot, tmp_path):
    from gui.shell.app import show

    x = Value(math.inf, label="x")
    y = Value(10**400, label="x")
    z = Value(1.0, label="12")
    w = show(x * y + z)
    qtbot.addWidget(w)
    items = w.scene.node_items()
    assert items[1].name == "x" and items[2].name == "x (2)" and items[4].name == "12"
    assert items[1].problem == "value is inf" and items[2].problem == "value is inf"
    assert len(items) == 5 and len(w.document.edges()) == 4
    errors = []
    w.show_error = lambda title, text: errors.append(text)
    assert not w.save_file(tmp_path / "inf.json")  # told why, nothing written
    assert len(errors) == 1 and errors[0].startswith("node x holds inf: a document stores finite numbers")
    assert not (tmp_path / "inf.json").exists()
