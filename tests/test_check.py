"""The finite-difference checker: agrees with correct graphs, catches wrong derivatives and kinks,
skips what cannot be checked, and leaves the graph alone."""

import dataclasses
import json
import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import OPS, Graph, NoOutputError, Value
from engine.core.ops import SCALAR_OPS
from engine.io.document import load, to_dict
from engine.learn.check import CheckRow, all_ok, check_node, gradient_check, summary

EXAMPLES = Path(__file__).resolve().parent.parent / "resources" / "examples"


def example_documents():
    """Every document among the bundled examples (a catalogue such as gallery.json is not one)."""
    return [p for p in sorted(EXAMPLES.glob("*.json")) if isinstance(json.loads(p.read_text("utf-8")), dict)]


def by_label(rows):
    return {r.label: r for r in rows}


def fanout():
    a = Value(3.0, name="a")
    e = (a * 4 + 3) * (a + 2)
    e.name = "e"
    return e.graph()


def test_correct_graph_passes_with_the_right_numbers():
    rows = gradient_check(fanout())
    a = by_label(rows)["a"]
    assert a.ok is True and a.analytic == 35.0 and a.numeric == pytest.approx(35.0, rel=1e-8)
    assert a.error == pytest.approx(0.0, abs=1e-6) and a.reason == "" and a.status == "ok"
    assert {r.op for r in rows} == {"number"}
    assert all_ok(rows) and summary(rows) == "4 checked: 4 ok, 0 mismatched, 0 skipped"
    assert all(isinstance(r, CheckRow) for r in rows)


@pytest.mark.parametrize("path", example_documents(), ids=lambda p: p.stem)
def test_every_example_passes(path):
    g = load(path)
    rows = gradient_check(g, ops=True)
    assert all_ok(rows), [r for r in rows if r.ok is False]
    if g.nonfinite_origin(g.output_node()):  # the NaN example: nothing can be checked, and it says why
        assert all(r.ok is None and r.reason for r in rows)
        return
    assert any(r.ok for r in rows)


def test_op_nodes_are_checked_by_cutting_them_loose():
    rows = by_label(gradient_check(fanout(), ops=True))
    ops = [r for r in rows.values() if r.op != "number"]
    assert len(ops) == 4 and all(r.ok for r in ops)
    assert rows["e"].analytic == 1.0 and rows["e"].numeric == pytest.approx(1.0)
    row = check_node(fanout(), "e")
    assert row.ok and row.op == "mul"


def test_check_node_by_name_and_id():
    g = fanout()
    assert check_node(g, "a").analytic == 35.0
    assert check_node(g, 1) == check_node(g, "a")


@pytest.mark.parametrize("op, numeric, left, right", [("relu", 0.5, "0", "1"), ("abs", 0.0, "-1", "1")])
def test_a_kink_at_the_value_is_reported(op, numeric, left, right):
    x = Value(0.0, name="x")
    rows = gradient_check(getattr(x, op)().graph())
    (row,) = rows
    assert row.ok is False and row.status == "MISMATCH"
    assert row.analytic == 0.0 and row.numeric == pytest.approx(numeric, abs=1e-9)
    assert row.reason.startswith("kink:")
    assert f"slope is {left} on the left and {right} on the right" in row.reason
    assert not all_ok(rows) and "1 mismatched" in summary(rows)


def test_a_kink_inside_the_graph_is_reported_for_every_input_upstream():
    # relu(a - b) at a == b: both a and b sit on the kink.
    a, b = Value(2.0, name="a"), Value(2.0, name="b")
    rows = by_label(gradient_check((a - b).relu().graph()))
    assert rows["a"].ok is False and rows["b"].ok is False


def test_a_stationary_point_is_not_a_kink():
    x = Value(0.0, name="x")
    (row,) = gradient_check((x * x).graph())
    assert row.ok is True and row.analytic == 0.0
    (row,) = gradient_check(Value(0.0, name="x").cos().graph())
    assert row.ok is True


def test_a_value_near_a_kink_passes_with_the_narrower_step():
    x = Value(1e-9, name="x")
    (row,) = gradient_check(x.relu().graph())
    assert row.ok is True and row.numeric == pytest.approx(1.0)


def test_a_wrong_derivative_in_the_op_table_is_caught(monkeypatch):
    wrong = dataclasses.replace(OPS["mul"], local=lambda a, b, y: (b, 2 * a))
    monkeypatch.setitem(OPS, "mul", wrong)
    g = Graph()
    a = g.add_number(3.0, name="a")
    b = g.add_number(5.0, name="b")
    m = g.add_op("mul")
    g.connect(a, m, 0)
    g.connect(b, m, 1)
    rows = by_label(gradient_check(g))
    assert rows["a"].ok is True
    assert rows["b"].ok is False and rows["b"].analytic == 6.0
    assert rows["b"].numeric == pytest.approx(3.0) and "analytic 6" in rows["b"].reason


def test_the_graph_is_left_exactly_as_it_was():
    g = fanout()
    g.set_output("e")
    g.backward()
    events = []
    g.subscribe(events.append)
    before = to_dict(g)
    result = g._result
    gradient_check(g, ops=True)
    check_node(g, "a", output=g.resolve("e"))
    gradient_check(g, output="a")  # a different output does not change the graph's own
    assert events == []
    assert to_dict(g) == before and g._result is result
    assert g.grad("a") == 35.0


def test_output_can_be_any_node():
    rows = by_label(gradient_check(fanout(), output=3))  # b = a * 4
    assert rows["a"].analytic == 4.0 and rows["a"].ok


def test_no_output_raises():
    with pytest.raises(NoOutputError):
        gradient_check(Graph())


def test_unreachable_and_undefined_nodes_are_skipped_with_a_reason():
    g = fanout()
    g.add_number(7.0, name="loose")
    g.set_output("e")
    row = by_label(gradient_check(g))["loose"]
    assert row.ok is None and row.reason == "no path to the output" and row.status == "skip"

    h = Graph()
    x = h.add_number(2.0, name="x")
    m = h.add_op("mul", name="m")
    h.connect(x, m, 0)  # port 1 left open
    (row,) = gradient_check(h)
    assert row.ok is None and row.reason == "the output m has no value: input 'b' is not connected"


def test_non_finite_values_are_skipped_with_a_reason():
    (row,) = gradient_check(Value(-1.0, name="x").log().graph())
    assert row.ok is None and row.reason == "the output is NaN"
    (row,) = gradient_check(Value(0.0, name="x").sqrt().graph())
    assert row.ok is None and row.reason == "the analytic gradient is inf"


def test_a_function_that_is_undefined_beside_the_value_is_skipped():
    # (x - 3) ** 1.5 at x = 3: defined there with slope 0, NaN to the left at every step size.
    x = Value(3.0, name="x")
    row = by_label(gradient_check(((x - 3) ** 1.5).graph()))["x"]
    assert row.ok is None and row.analytic == 0.0
    assert row.reason == "the output is not finite within a step of this value"


def test_tiny_values_get_a_step_relative_to_their_own_size():
    (row,) = gradient_check(Value(1e-12, name="x").log().graph())
    assert row.ok is True and row.analytic == pytest.approx(1e12)
    y = Value(1e-30, name="y")
    (row,) = [r for r in gradient_check((y / 1e-30).sin().graph()) if r.label == "y"]
    assert row.ok is True and row.analytic == pytest.approx(math.cos(1.0) * 1e30)


def test_a_function_too_fast_for_floating_point_is_skipped():
    # sin(x**40) at 30: the argument is 1e59, and one rounding unit of it spans many periods.
    x = Value(30.0, name="x")
    (row,) = [r for r in gradient_check((x**40).sin().graph()) if r.label == "x"]
    assert row.ok is None and row.reason == "too sensitive for finite differences at this value"


def test_values_near_a_domain_edge_use_the_narrow_step():
    (row,) = gradient_check(Value(1e-7, name="x").log().graph())
    assert row.ok is True and row.analytic == pytest.approx(1e7)


def test_large_magnitudes_use_a_relative_step():
    x = Value(1e8, name="x")
    (row,) = gradient_check((x * x).graph())
    assert row.ok is True and row.analytic == 2e8


SMOOTH = ["add", "sub", "mul", "sin", "cos", "tanh", "sigmoid", "neg"]


@st.composite
def smooth_graphs(draw):
    g = Graph()
    nodes = [g.add_number(draw(st.floats(-2, 2)), name=f"x{i}") for i in range(draw(st.integers(1, 4)))]
    for _ in range(draw(st.integers(1, 10))):
        op = draw(st.sampled_from(SMOOTH))
        n = g.add_op(op)
        for port in range(OPS[op].arity):
            g.connect(draw(st.sampled_from(nodes)), n, port)
        nodes.append(n)
    g.set_output(nodes[-1])
    return g


@settings(max_examples=60)
@given(smooth_graphs())
def test_random_smooth_graphs_pass(g):
    rows = gradient_check(g, ops=True)
    assert all_ok(rows), [r for r in rows if r.ok is False]
    assert all(r.ok is True or r.reason == "no path to the output" for r in rows)


def test_rows_come_in_topological_order():
    g = fanout()
    rows = gradient_check(g, ops=True)
    assert [r.node for r in rows] == g.tape().order
    assert math.isclose(sum(1 for r in rows if r.ok), len(g))


@pytest.mark.parametrize("name", list(SCALAR_OPS))
def test_every_op_with_a_derivative_off_by_ten_percent_is_caught(monkeypatch, name):
    op = OPS[name]
    true_local = op.local
    monkeypatch.setitem(
        OPS, name, dataclasses.replace(op, local=lambda *a: tuple(1.1 * d for d in true_local(*a)))
    )
    args = [0.7, 1.3][: op.arity]
    g = Graph()
    ins = [g.add_number(v, name=f"in{i}") for i, v in enumerate(args)]
    n = g.add_op(name)
    for port, i in enumerate(ins):
        g.connect(i, n, port)
    rows = gradient_check(g)
    # where the output does not move with an input (max's smaller one), 1.1 * 0 is still right
    moves = [d != 0 for d in true_local(*args, op.forward(*args))]
    assert any(moves)
    assert [r.ok for r in rows] == [not m for m in moves], rows
    assert all(r.reason.startswith("analytic") for r, m in zip(rows, moves) if m)
