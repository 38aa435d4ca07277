"""NaN and inf traced to their origin (issue 16.4): on random graphs with one injected domain
error, the reported node is the first (by a brute-force scan written here, over networkx's
topological order) whose inputs are finite and whose result is not, and its reason names the
op; gradient origins by hand (a slope that is infinite, a product and a sum that overflow);
the wording problems() shares; `gradcanvas eval` and `check` print it."""

from __future__ import annotations

import json
import math
import random

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import OPS, Graph
from gui.cli import main
from tests.strategies import build_graph, specs

INJECTIONS = ["log", "sqrt", "div", "exp", "pow", "log1p"]


def inject(g: Graph, k: int, kind: str, rnd: random.Random) -> int:
    """Add a domain error fed by node ``k`` and make the output depend on it; returns the
    id of the node that must be reported."""

    def op(name, *ins):
        n = g.add_op(name)
        for port, i in enumerate(ins):
            g.connect(i, n, port)
        return n

    if kind == "div":
        zero = op("sub", k, k)
        bad = op("div", zero, zero)
    elif kind == "exp":
        zero = op("sub", k, k)
        bad = op("exp", op("add", zero, g.add_number(rnd.choice([800.0, 1000.0]))))
    else:
        negative = op("sub", op("neg", op("abs", k)), g.add_number(1.5))  # at most -1.5
        if kind == "pow":
            bad = op("pow", negative, g.add_number(0.5))
        else:
            bad = op(kind, negative)
    old = g.output_node()
    g.set_output(op("add", old, op("mul", bad, g.add_number(2.0))))
    return bad


def brute_force_origin(g: Graph, node):
    """The first node in a topological order, among node and its ancestors, with finite
    inputs and a non-finite value (independent of the engine's tape)."""
    values = g.values()
    scope = nx.ancestors(g.nx, node) | {node}

    def fin(v):
        return v is None or bool(np.all(np.isfinite(v)))

    for n in nx.topological_sort(g.nx):
        if n in scope and not fin(values[n]) and all(fin(values[s]) for s in g.inputs(n)):
            return n
    return None


@settings(max_examples=30, deadline=None)
@given(specs(smooth=True, max_ops=8), st.sampled_from(INJECTIONS), st.randoms(use_true_random=False))
def test_random_graphs_report_the_injected_origin(spec, kind, rnd):
    g, ids = build_graph(spec)
    bad = inject(g, rnd.choice(ids), kind, rnd)
    out = g.output_node()
    want = brute_force_origin(g, out)
    assert want == bad
    node, reason = g.nonfinite_origin(out)
    assert node == want
    op = OPS[g.op(node)]
    assert op.name in reason or (op.operator and op.operator in reason), reason
    assert g.problems()[node].endswith(reason)  # problems() says the same words
    # every non-finite node downstream traces back to the same place; finite ones give None
    for n in g.nodes():
        v = g.value(n)
        if v is not None and not math.isfinite(v):
            assert g.nonfinite_origin(n)[0] == brute_force_origin(g, n)
        elif g.grad(n) is not None and math.isfinite(g.grad(n)) and v is not None:
            assert g.nonfinite_origin(n) is None


@pytest.mark.parametrize(
    ("program", "values", "reason"),
    [
        ("y = log(x - 3) * 2", {"x": 2.0}, "log of −1"),
        ("y = (a - a) / (a - a)", {"a": 1.0}, "0/0"),
        ("y = exp(x) + 1", {"x": 800.0}, "exp overflowed at 800"),
        ("y = sqrt(x) * 1", {"x": -1.0}, "sqrt of −1"),
        ("y = b ** 0.5", {"b": -8.0}, "(−8) ** 0.5"),
        ("y = 1 / x", {"x": 0.0}, "1/0"),
        ("y = a * a * a", {"a": 1e200}, "1e+200 * 1e+200 overflowed"),
    ],
)
def test_value_reasons_in_words(program, values, reason):
    g = Graph.from_expression(program, **values)
    node, why = g.nonfinite_origin(g.output_node())
    assert why == reason
    assert g.problems()[node].endswith(reason)


def test_a_finite_node_and_a_node_without_value_give_none():
    g = Graph.from_expression("y = x * 2", x=3.0)
    assert g.nonfinite_origin("y") is None and g.nonfinite_origin("x") is None
    e = g.add_op("exp")
    assert g.nonfinite_origin(e) is None


def test_an_array_reason_names_the_element():
    g = Graph.from_expression("y = sum(log(x))", x=np.array([1.0, -1.0, 2.0]))
    node, why = g.nonfinite_origin("y")
    assert g.op(node) == "log" and why == "log of −1 at [1]"


def test_gradient_origin_infinite_slope():
    g = Graph.from_expression("y = sqrt(x) * 2", x=0.0)
    assert g.nonfinite_origin("y") is None  # the value is fine
    node, why = g.nonfinite_origin("x")
    assert g.op(node) == "sqrt" and why == "slope of sqrt at 0 is inf"


def test_gradient_origin_product_overflow():
    g = Graph.from_expression("s = sqrt(a)\ny = s * 1e200", a=1e-320)
    node, why = g.nonfinite_origin("a")
    assert node == g.resolve("s")
    slope = 0.5 / math.sqrt(1e-320)
    assert why == f"gradient × slope overflowed at sqrt: 1e+200 × {slope:.6g}".replace("-", "−")


def test_gradient_sum_overflow_reports_the_accumulating_node():
    g = Graph.from_expression("y = x * c + x * c", x=1e-300, c=1e308)
    assert math.isfinite(g.value(g.output_node()))
    node, why = g.nonfinite_origin("x")
    assert node == g.resolve("x")  # each amount is 1e308: the sum at x overflows
    assert why == "the gradient sum overflowed: 1e+308 + 1e+308"


def test_gradient_origin_is_on_the_path_from_the_node_to_the_output():
    # b's gradient is NaN (pow's slope in its exponent at a negative base); a's path never meets it
    g = Graph.from_expression("q = 0 - 2\np = q ** b\ny = a * 2 + p", a=1.0, b=3.0)
    assert g.nonfinite_origin("a") is None
    node, why = g.nonfinite_origin("b")
    assert g.op(node) == "pow" and why == "slope of pow at −2, 3 is NaN"


def _run(capsys, *argv):
    code = main(list(argv))
    return code, capsys.readouterr()


def test_cli_eval_and_check_print_the_origin(tmp_path, capsys):
    g = Graph.from_expression("d = x - 3\nl = log(d)\ny = l * 2", x=2.0)
    path = tmp_path / "nan.json"
    g.save(path)
    code, out = _run(capsys, "eval", str(path))
    assert code == 0
    assert (
        out.out.strip().splitlines()[-1]
        == f"non-finite: the output is NaN, born at l (id {g.resolve('l')}): log of −1"
    )
    code, out = _run(capsys, "eval", str(path), "--json")
    data = json.loads(out.out)
    assert data["origin"] == {"id": g.resolve("l"), "name": "l", "of": data["output"], "reason": "log of −1"}
    code, out = _run(capsys, "check", str(path))
    assert "born at l" in out.out.strip().splitlines()[-1]
    fine = tmp_path / "fine.json"
    Graph.from_expression("y = x * 2", x=1.0).save(fine)
    code, out = _run(capsys, "eval", str(fine), "--json")
    assert "origin" not in json.loads(out.out) and "non-finite" not in out.err


def test_cli_traces_a_gradient_when_the_output_is_finite(tmp_path, capsys):
    path = tmp_path / "slope.json"
    Graph.from_expression("y = sqrt(x) * 2", x=0.0).save(path)
    code, out = _run(capsys, "eval", str(path))
    assert out.out.strip().splitlines()[-1].startswith("non-finite: the gradient of x is inf, born at sqrt#")
