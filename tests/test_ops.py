"""The op table, op by op: forward values, local derivatives against finite differences, and the
domain-error conventions (which must hold the same way in the table, in Graph and in Value)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import NUMBER, OPERATORS, OPS, Graph, Value
from engine.core.ops import SCALAR_OPS, apply, local
from tests.strategies import in_domain, op_args, same, spelled

INF, NAN = math.inf, math.nan


def test_number_is_the_row_without_inputs():
    assert NUMBER == "number" and next(iter(OPS)) == NUMBER
    row = OPS[NUMBER]
    assert row.arity == 0 and row.ports == () and row.forward is None and row.local is None
    assert [n for n, op in OPS.items() if op.arity == 0] == [NUMBER]
    assert NUMBER not in OPERATORS and len(OPERATORS) == len(OPS) - 1


@pytest.mark.parametrize("name", list(SCALAR_OPS))
def test_op_entry_is_well_formed(name):
    op = OPS[name]
    assert op.name == name
    assert op.arity in (1, 2)
    assert len(op.ports) == op.arity and len(set(op.ports)) == op.arity
    assert op.symbol and op.doc
    # every input has a non-empty test domain of proper intervals
    assert len(op.domain) == op.arity, "give the row a test domain per input"
    assert all(intervals and all(lo < hi for lo, hi in intervals) for intervals in op.domain)
    # spelled somehow for the parser, Value and PyTorch
    assert bool(op.operator) != bool(op.method), "an op is a Python operator or a Value method"
    assert op.operator or op.torch
    assert op.micrograd
    if op.ordered:
        assert op.arity == 2


def _central(f, args, k):
    """Central difference of f in argument k, with a step scaled to the argument."""
    x = args[k]
    h = 1e-6 * max(1.0, abs(x))
    up, down = list(args), list(args)
    up[k], down[k] = x + h, x - h
    return (f(*up) - f(*down)) / (up[k] - down[k])


@pytest.mark.parametrize("name", list(SCALAR_OPS))
@settings(max_examples=60)
@given(data=st.data())
def test_local_derivative_matches_central_difference(name, data):
    op = OPS[name]
    args = data.draw(op_args(name), label="args")
    y = op.forward(*args)
    partials = op.local(*args, y)
    assert len(partials) == op.arity
    for k in range(op.arity):
        fd = _central(op.forward, args, k)
        # Truncation error grows with the curvature, rounding error with |y| / h.
        scale = max(1.0, abs(fd), abs(y) / max(1.0, abs(args[k])))
        assert abs(partials[k] - fd) <= 1e-5 * scale, (name, args, k, partials[k], fd)


@settings(max_examples=60)
@given(
    base=st.floats(-10, -0.05),
    exponent=st.integers(-4, 4),
)
def test_pow_base_derivative_for_negative_base_and_integer_exponent(base, exponent):
    y = OPS["pow"].forward(base, float(exponent))
    da, db = OPS["pow"].local(base, float(exponent), y)
    fd = _central(lambda a: OPS["pow"].forward(a, float(exponent)), [base], 0)
    assert math.isclose(da, fd, rel_tol=1e-5, abs_tol=1e-7)
    assert math.isnan(db)  # log of a negative base: no real slope in the exponent


@pytest.mark.parametrize("name", list(SCALAR_OPS))
@settings(max_examples=40)
@given(data=st.data())
def test_forward_is_finite_inside_the_domain(name, data):
    args = data.draw(op_args(name))
    assert in_domain(name, args)
    y = OPS[name].forward(*args)
    assert math.isfinite(y)
    assert all(math.isfinite(d) for d in OPS[name].local(*args, y))


ANY = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(10**6), 10**6),
    st.sampled_from([0, 0.0, -0.0, 1, -1, INF, -INF, NAN, 1e308, -1e308, 5e-324, 10**400, -(10**400)]),
)


@pytest.mark.parametrize("name", list(SCALAR_OPS))
@settings(max_examples=80)
@given(data=st.data())
def test_ops_are_total_never_raising(name, data):
    """Any real input, NaN, inf or an int beyond float range: a number comes back, no exception."""
    op = OPS[name]
    args = [data.draw(ANY) for _ in range(op.arity)]
    y = apply(op, args)
    assert isinstance(y, (int, float)) and not isinstance(y, bool)
    d = local(op, args, y)
    assert len(d) == op.arity
    assert all(isinstance(v, (int, float)) for v in d)


@pytest.mark.parametrize("name", list(SCALAR_OPS))
@settings(max_examples=80)
@given(data=st.data())
def test_forward_and_local_are_total_on_floats(name, data):
    """The raw rules (not only the safety wrappers) never raise on floats, NaN and inf included."""
    op = OPS[name]
    args = [data.draw(st.floats(allow_nan=True, allow_infinity=True)) for _ in range(op.arity)]
    y = op.forward(*args)
    op.local(*args, y)


# Known values: PyTorch's where it defines them, written out because torch is not installed.
# (op, inputs, output, local derivatives)
CONVENTIONS = [
    ("relu", (0.0,), 0.0, (0.0,)),
    ("relu", (-0.0,), 0.0, (0.0,)),
    ("relu", (2.0,), 2.0, (1.0,)),
    ("relu", (-2.0,), 0.0, (0.0,)),
    ("abs", (0.0,), 0.0, (0.0,)),
    ("abs", (-0.0,), 0.0, (0.0,)),
    ("abs", (-3.0,), 3.0, (-1.0,)),
    ("pow", (-2.0, 3.0), -8.0, (12.0, NAN)),
    ("pow", (2.0, 3.0), 8.0, (12.0, 8.0 * math.log(2.0))),
    ("pow", (0.0, 2.0), 0.0, (0.0, 0.0)),
    ("pow", (0.0, 0.0), 1.0, (0.0, 0.0)),
    ("pow", (3.0, 0.0), 1.0, (0.0, math.log(3.0))),
    ("pow", (0.0, -1.0), INF, (-INF, -INF)),  # d/d exp = y * log(0) = inf * -inf, as PyTorch
    ("pow", (-8.0, 1.0 / 3.0), NAN, (NAN, NAN)),
    ("pow", (10.0, 400.0), INF, (INF, INF)),
    ("log", (-1.0,), NAN, (-1.0,)),
    ("log", (0.0,), -INF, (INF,)),
    ("log", (math.e,), 1.0, (1.0 / math.e,)),
    ("div", (1.0, 0.0), INF, (INF, -INF)),
    ("div", (-1.0, 0.0), -INF, (INF, INF)),
    ("div", (1.0, -0.0), -INF, (-INF, -INF)),
    ("div", (0.0, 0.0), NAN, (INF, NAN)),
    ("div", (6.0, 3.0), 2.0, (1.0 / 3.0, -6.0 / 9.0)),
    ("exp", (1000.0,), INF, (INF,)),
    ("exp", (-1000.0,), 0.0, (0.0,)),
    ("exp", (0.0,), 1.0, (1.0,)),
    ("sqrt", (-1.0,), NAN, (NAN,)),
    ("sqrt", (0.0,), 0.0, (INF,)),
    ("sqrt", (4.0,), 2.0, (0.25,)),
    ("sin", (INF,), NAN, (NAN,)),
    ("sin", (0.0,), 0.0, (1.0,)),
    ("cos", (-INF,), NAN, (NAN,)),
    ("cos", (0.0,), 1.0, (-0.0,)),
    ("tanh", (0.0,), 0.0, (1.0,)),
    ("tanh", (INF,), 1.0, (0.0,)),
    ("tanh", (-INF,), -1.0, (0.0,)),
    ("sigmoid", (0.0,), 0.5, (0.25,)),
    ("sigmoid", (1000.0,), 1.0, (0.0,)),
    ("sigmoid", (-1000.0,), 0.0, (0.0,)),
    ("neg", (2.0,), -2.0, (-1.0,)),
    ("add", (INF, -INF), NAN, (1.0, 1.0)),
    ("sub", (2.0, 5.0), -3.0, (1.0, -1.0)),
    ("mul", (0.0, INF), NAN, (INF, 0.0)),
]

CONVENTION_IDS = [f"{n}{args}" for n, args, *_ in CONVENTIONS]


@pytest.mark.parametrize(("name", "args", "out", "partials"), CONVENTIONS, ids=CONVENTION_IDS)
def test_convention_in_the_op_table(name, args, out, partials):
    op = OPS[name]
    y = apply(op, args)
    assert same(y, out, abs_tol=0), (y, out)
    got = local(op, args, y)
    assert all(same(a, b) for a, b in zip(got, partials, strict=True)), (got, partials)


def _node_with_value(g: Graph, v: float) -> int:
    """A node holding v; non-finite values come from in-graph arithmetic, since number nodes
    only accept finite values."""
    if math.isfinite(v):
        return g.add_number(v)
    num = g.add_number(0.0 if math.isnan(v) else math.copysign(1.0, v))
    den = g.add_number(0.0)
    d = g.add_op("div")
    g.connect(num, d, 0)
    g.connect(den, d, 1)
    return d


@pytest.mark.parametrize(("name", "args", "out", "partials"), CONVENTIONS, ids=CONVENTION_IDS)
def test_convention_in_graph(name, args, out, partials):
    g = Graph()
    ins = [_node_with_value(g, a) for a in args]
    m = g.add_op(name)
    for port, n in enumerate(ins):
        g.connect(n, m, port)
    g.set_output(m)
    g.backward()
    assert same(g.value(m), out, abs_tol=0)
    for n, want in zip(ins, partials):
        assert same(g.grad(n), want), (name, args, g.grad(n), want)
    if not math.isfinite(out):
        assert m in g.problems()


@pytest.mark.parametrize(("name", "args", "out", "partials"), CONVENTIONS, ids=CONVENTION_IDS)
def test_convention_in_value(name, args, out, partials):
    xs = [Value(a) for a in args]
    y = spelled(name, *xs)
    y.backward()
    assert same(y.data, out, abs_tol=0)
    for x, want in zip(xs, partials):
        assert same(x.grad, want), (name, args, x.grad, want)


def test_negative_base_does_not_poison_the_base_gradient():
    # (-2)**3 = -8: d/da = 3 * (-2)**2 = 12 is real; only the exponent's slope is NaN.
    a, b = Value(-2), Value(3)
    y = a**b
    y.backward()
    assert y.data == -8 and a.grad == 12 and math.isnan(b.grad)
    g = Graph.from_expression("a ** b", a=-2.0, b=3.0)
    g.backward()
    assert g.grad("a") == 12.0 and math.isnan(g.grad("b"))


def test_integer_arithmetic_stays_integer():
    cases = [("add", (2, 3), 5), ("mul", (3, 4), 12), ("sub", (2, 5), -3), ("pow", (2, 10), 1024)]
    for name, args, want in cases:
        y = OPS[name].forward(*args)
        assert y == want and type(y) is int
    assert type(OPS["pow"].forward(2, -1)) is float
    assert type(OPS["relu"].forward(-3)) is int


def test_ints_beyond_float_range_do_not_raise():
    assert apply(OPS["div"], (1.0, 10**400)) == 0.0
    assert apply(OPS["div"], (10**400, 3.0)) == INF
    assert apply(OPS["div"], (-(10**400), 0)) == -INF
    assert apply(OPS["pow"], (10**400, 2)) == INF
