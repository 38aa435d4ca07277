"""Every row of the op table, tested the same way: a new row is tested by being added.

Per row: its derivative against central finite differences on the row's own test domain,
its pinned conventions (``Op.known``) in the table, a Graph and Value, a parser round trip
(operator, call and method spellings), the Value spelling, both export dialects run in a fresh
interpreter, and its palette and search-box entries. The ``number`` row takes part wherever a
row without inputs means something (parser, Value, export, palette).
"""

from __future__ import annotations

import itertools
import math
import random

import pytest
from test_export import check_printout, run_scripts

from engine import NUMBER, OPERATORS, OPS, Graph, Value
from engine.core.ops import SCALAR_OPS, apply, local
from engine.io.export import to_python, to_pytorch
from engine.io.parse import parse_program
from tests.oracles import require
from tests.strategies import same, spelled

ROWS = [name for name, op in OPS.items() if not op.tensor]  # tensor rows: test_tensor_ops.py
OPS_ONLY = list(SCALAR_OPS)  # the tensor rows: tests/test_tensor_ops.py, from their own cases
INPUT_NAMES = ("a", "b")


def grid(op, per_interval=3, extra=6, seed=0) -> list[tuple]:
    """Input tuples inside ``op``'s test domain: points spread over every interval of every
    input (all combinations), plus a few seeded random ones."""
    spots = (0.13, 0.5, 0.87)[:per_interval]
    per_input = [[lo + (hi - lo) * t for lo, hi in intervals for t in spots] for intervals in op.domain]
    points = list(itertools.product(*per_input))
    rnd = random.Random(f"{seed}:{op.name}")
    for _ in range(extra):
        points.append(tuple(rnd.uniform(*rnd.choice(intervals)) for intervals in op.domain))
    return points


def sample(op) -> tuple:
    """One input tuple from the middle of the domain's first intervals: the round-trip point."""
    return tuple((lo + hi) / 2 + 0.1 * (hi - lo) * (k + 1) / 4 for k, ((lo, hi), *_) in enumerate(op.domain))


def central(f, args, k):
    x = args[k]
    h = 1e-6 * max(1.0, abs(x))
    up, down = list(args), list(args)
    up[k], down[k] = x + h, x - h
    return (f(*up) - f(*down)) / (up[k] - down[k])


def test_the_table_has_every_op_the_issue_names():
    # issue 7: the 15 ops of the first release and the five added as rows only
    first = set("add sub mul div pow neg exp log sqrt sin cos tanh sigmoid relu abs".split())
    assert first <= set(OPERATORS)
    assert len(OPERATORS) >= 15 and ROWS[0] == NUMBER


# ------------------------------------------------------------------ calculus


@pytest.mark.parametrize("name", OPS_ONLY)
def test_derivative_matches_central_differences_on_the_domain(name):
    op = OPS[name]
    for args in grid(op):
        y = op.forward(*args)
        assert math.isfinite(y), (name, args, y)
        partials = op.local(*args, y)
        assert len(partials) == op.arity
        for k in range(op.arity):
            fd = central(op.forward, args, k)
            # Truncation error grows with the curvature, rounding error with |y| / h.
            scale = max(1.0, abs(fd), abs(y) / max(1.0, abs(args[k])))
            assert abs(partials[k] - fd) <= 1e-5 * scale, (name, args, k, partials[k], fd)


KNOWN = [(name, *case) for name, op in OPS.items() for case in op.known]


@pytest.mark.parametrize(("name", "args", "out", "partials"), KNOWN, ids=[f"{k[0]}{k[1]}" for k in KNOWN])
def test_known_values_are_pytorchs_and_hold_in_table_graph_and_value(name, args, out, partials, torch):
    from test_reference import _known_difference, torch_fn

    # The pinned conventions are PyTorch's (float64): checked there first, so the table is
    # not its own only witness.
    ts = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in args]
    ty = torch_fn(torch, name)(*ts)
    ty.backward()
    assert same(ty.item(), out, abs_tol=0), (ty.item(), out)
    if not _known_difference(name, args):
        assert all(same(t.grad.item(), d) for t, d in zip(ts, partials, strict=True))
    op = OPS[name]
    y = apply(op, args)
    assert same(y, out, abs_tol=0)
    assert all(same(a, b) for a, b in zip(local(op, args, y), partials, strict=True))
    # a Graph (inputs are finite in every pinned case) ...
    g = Graph()
    ins = [g.add_number(a) for a in args]
    m = g.add_op(name)
    for port, n in enumerate(ins):
        g.connect(n, m, port)
    g.set_output(m)
    g.backward()
    assert same(g.value(m), out, abs_tol=0)
    assert all(same(g.grad(n), want) for n, want in zip(ins, partials))
    # ... and Value agree with the table
    xs = [Value(a) for a in args]
    v = spelled(name, *xs)
    v.backward()
    assert same(v.data, out, abs_tol=0)
    assert all(same(x.grad, want) for x, want in zip(xs, partials))


# ------------------------------------------------------------------ the parser


def spellings(op) -> list[str]:
    """Every way a program may write the op on inputs ``a`` (and ``b``)."""
    ins = INPUT_NAMES[: op.arity]
    out = [f"{op.name}({', '.join(ins)})", f"{ins[0]}.{op.name}({', '.join(ins[1:])})"]
    if op.operator:
        out.append(f"{op.operator}{ins[0]}" if op.arity == 1 else f"{ins[0]} {op.operator} {ins[1]}")
    return out


@pytest.mark.parametrize("name", ROWS)
def test_parser_round_trip(name):
    op = OPS[name]
    if op.arity == 0:
        for program in ("2.5", "Value(2.5)", "y = 2.5"):
            g = parse_program(program)
            assert g.op(g.output) == NUMBER and g.value(g.output) == 2.5
        return
    args = sample(op)
    values = dict(zip(INPUT_NAMES, args))
    want_y = op.forward(*args)
    want_d = op.local(*args, want_y)
    for program in spellings(op):
        g = parse_program(program, values)
        assert g.op(g.output) == name, program
        assert [g.op(n) for n in g.inputs(g.output)] == [NUMBER] * op.arity
        assert g.value(g.output) == want_y, program
        for k, input_name in enumerate(INPUT_NAMES[: op.arity]):
            assert g.grad(input_name) == pytest.approx(want_d[k], rel=1e-12), (program, input_name)


@pytest.mark.parametrize("name", OPS_ONLY)
def test_parser_refuses_the_wrong_number_of_arguments(name):
    from engine import ParseError

    op = OPS[name]
    too_many = ", ".join(["a"] * (op.arity + 1))
    with pytest.raises(ParseError, match=rf"{name}\(\) takes exactly"):
        parse_program(f"{name}({too_many})", {"a": 1.0})
    with pytest.raises(ParseError, match=rf"\.{name}\(\) takes"):
        parse_program(f"a.{name}({too_many})", {"a": 1.0})


# ------------------------------------------------------------------ Value


@pytest.mark.parametrize("name", ROWS)
def test_value_spelling_gives_the_tables_value_and_gradient(name):
    op = OPS[name]
    if op.arity == 0:
        v = Value(2.5, name="a")
        assert v.data == 2.5 and v.graph().op("a") == NUMBER
        return
    if op.method:  # every op that is not a Python operator is a Value method
        assert callable(getattr(Value, op.method))
    args = sample(op)
    xs = [Value(a) for a in args]
    y = spelled(name, *xs)
    assert y.data == op.forward(*args) and y.creation_op == name
    y.backward()
    want = op.local(*args, y.data)
    assert [x.grad for x in xs] == pytest.approx(list(want), rel=1e-12)
    if op.arity == 2:  # a plain number as the second operand works like a Value
        assert spelled(name, Value(args[0]), args[1]).data == y.data


# ------------------------------------------------------------------ export


def row_graph(name) -> Graph:
    """The row's op on named inputs a (and b) from its domain, as a Graph with that output."""
    op = OPS[name]
    if op.arity == 0:
        return Value(2.5, name="a").graph()
    xs = [Value(v, name=n) for v, n in zip(sample(op), INPUT_NAMES)]
    return spelled(name, *xs).graph()


@pytest.fixture(scope="module")
def value_printouts(tmp_path_factory):
    graphs = {name: row_graph(name) for name in ROWS}
    outs = run_scripts(tmp_path_factory.mktemp("value"), [to_python(g) for g in graphs.values()])
    return {name: (graphs[name], text) for name, text in zip(graphs, outs)}


@pytest.fixture(scope="module")
def torch_printouts(tmp_path_factory):
    require("torch")
    graphs = {name: row_graph(name) for name in ROWS}
    outs = run_scripts(tmp_path_factory.mktemp("torch"), [to_pytorch(g) for g in graphs.values()])
    return {name: (graphs[name], text) for name, text in zip(graphs, outs)}


@pytest.mark.parametrize("name", ROWS)
def test_value_export_runs_and_prints_the_same_gradients(name, value_printouts):
    g, text = value_printouts[name]
    check_printout(g, text)
    op = OPS[name]
    code = to_python(g)
    if op.arity and op.method:
        assert f".{op.method}(" in code
    elif op.arity:
        assert f"{op.operator}" in code.split("\n\n")[1]


@pytest.mark.parametrize("name", ROWS)
def test_pytorch_export_runs_and_prints_the_same_gradients(name, torch_printouts):
    g, text = torch_printouts[name]
    check_printout(g, text, rel=1e-7)


@pytest.mark.parametrize("name", OPS_ONLY)
def test_pytorch_export_spells_the_row(name):
    code = to_pytorch(row_graph(name))
    op = OPS[name]
    assert f"{op.torch}(" in code if op.torch else f"{op.operator}" in code.split("\n\n")[1]


# ------------------------------------------------------------------ palette and search box


@pytest.fixture(scope="module")
def palette(qapp):
    from gui.panels.palette import Palette

    p = Palette()
    yield p
    p.deleteLater()


@pytest.mark.parametrize("name", ROWS)
def test_palette_and_search_box_list_the_row(name, palette):
    from gui.canvas.search_popup import entries as search_entries
    from gui.panels.palette import mime_op

    op = OPS[name]
    item = palette.item_for(name)
    assert item is not None and op.symbol and name in item.text()
    if op.arity:
        assert op.doc in item.toolTip() and ", ".join(op.ports) in item.toolTip()
    assert bytes(palette.mime_for(name).data(mime_op())).decode() == name
    palette.filter.setText(name)
    assert name in palette.visible_ops()
    palette.filter.clear()
    assert [text for key, text in search_entries() if key == name] == [f"{op.symbol}   {name} — {op.doc}"]
