"""Value / NumberWithGrad: the eager, seed-compatible scalar API."""

from __future__ import annotations

import math

import pytest

from engine import OPS, Graph, NumberWithGrad, Value, ensure_number
from engine.core.ops import SCALAR_OPS, UNARY


def test_number_with_grad_is_value_with_the_seeds_grad():
    # One implementation: NumberWithGrad differs only in grad's start (None, the seed's) and
    # the spellings it is read with; Value's grad starts at 0 (micrograd's).
    assert issubclass(NumberWithGrad, Value)
    assert NumberWithGrad(3).grad is None and Value(3).grad == 0
    n = NumberWithGrad(3) * 2
    assert type(n) is NumberWithGrad and n.creation_op == "mul" and n._op == "*"
    assert ensure_number(3).data == 3
    v = Value(2.0)
    assert ensure_number(v) is v


def test_data_and_num_are_one_attribute():
    v = Value(3)
    assert v.data == v.num == 3
    v.data = 5
    assert v.num == 5
    v.num = 7
    assert v.data == 7


def test_name_keyword_and_repr():
    # repr is micrograd's, without the label (was "Value(a: data=3, grad=None)")
    a = Value(3, name="a")
    assert a.name == a.label == "a" and a.grad == 0
    assert repr(a) == "Value(data=3, grad=0)"
    assert repr(NumberWithGrad(3)) == "NumberWithGrad(data=3, grad=None)"


@pytest.mark.parametrize(
    ("expr", "value", "grad"),
    [
        (lambda x: x + 2, 5, 1),
        (lambda x: 2 + x, 5, 1),
        (lambda x: x - 2, 1, 1),
        (lambda x: 2 - x, -1, -1),
        (lambda x: x * 2, 6, 2),
        (lambda x: 2 * x, 6, 2),
        (lambda x: x / 2, 1.5, 0.5),
        (lambda x: 2 / x, 2 / 3, -2 / 9),
        (lambda x: x**2, 9, 6),
        (lambda x: 2**x, 8, 8 * math.log(2)),
        (lambda x: -x, -3, -1),
        (lambda x: +x, 3, 1),
        (lambda x: abs(-x), 3, 1),
    ],
    ids=["x+2", "2+x", "x-2", "2-x", "x*2", "2*x", "x/2", "2/x", "x**2", "2**x", "-x", "+x", "abs(-x)"],
)
def test_operators_with_plain_numbers_on_either_side(expr, value, grad):
    x = Value(3)
    y = expr(x)
    y.backward()
    assert math.isclose(y.data, value)
    assert math.isclose(x.grad, grad)


def test_value_operands_on_both_sides():
    cases = [("add", 1, 1), ("sub", 1, -1), ("mul", 3, 6), ("div", 1 / 3, -6 / 9)]
    cases.append(("pow", 3 * 36, 216 * math.log(6)))
    for op, da, db in cases:
        a, b = Value(6.0), Value(3.0)
        y = {"add": a + b, "sub": a - b, "mul": a * b, "div": a / b, "pow": a**b}[op]
        y.backward()
        assert math.isclose(a.grad, da) and math.isclose(b.grad, db), op


@pytest.mark.parametrize("name", [n for n in UNARY if n != "neg"])
def test_every_unary_op_has_a_method(name):
    """A new unary op in the table is automatically a Value method (neg is unary minus)."""
    x = Value(0.7)
    y = getattr(x, name)()
    assert y.creation_op == name and y.depends_on == [x]
    y.backward()
    op = OPS[name]
    assert y.data == op.forward(0.7)
    assert x.grad == op.local(0.7, y.data)[0]


def test_unary_minus_is_the_neg_op():
    x = Value(2.0)
    y = -x
    assert y.creation_op == "neg"
    y.backward()
    assert x.grad == -1


def test_int_arithmetic_stays_int():
    a = Value(3)
    e = (a * 4 + 3) * (a + 2)
    e.backward()
    assert e.data == 75 and type(e.data) is int
    assert a.grad == 35 and type(a.grad) is int


def test_square_by_self_multiplication_gives_2a():
    # micrograd #77: inputs kept in a set turned a*a into one edge and a gradient of a, not 2a.
    a = Value(3.0)
    y = a * a
    y.backward()
    assert a.grad == 6.0
    assert y.depends_on == [a, a]
    b = Value(3.0)
    z = b + b
    z.backward()
    assert b.grad == 2.0


def test_grads_accumulate_exactly_across_backward_calls():
    # micrograd #53: intermediate grads must not be re-propagated on the second call (which would
    # give 3x on the leaves); two calls give exactly twice one call, on every node.
    a = Value(2.0)
    b = a * 3
    c = b * b + a
    c.backward()
    once = {"a": a.grad, "b": b.grad, "c": c.grad}
    c.backward()
    assert a.grad == 2 * once["a"] and b.grad == 2 * once["b"] and c.grad == 2 * once["c"]
    c.backward()
    assert a.grad == 3 * once["a"]


def test_zero_grad_clears_everything_upstream():
    a = Value(2.0)
    b = Value(5.0)
    c = (a * b).tanh() + a
    c.backward()
    first = a.grad
    c.zero_grad()
    assert a.grad == 0 and b.grad == 0 and c.grad == 0  # Value's start; NumberWithGrad's is None
    n = NumberWithGrad(2.0)
    m = n * 3
    m.backward()
    m.zero_grad()
    assert n.grad is None and m.grad is None
    c.backward()
    assert a.grad == first


def test_backward_with_an_explicit_seed():
    a = Value(2.0)
    y = a * 3
    y.backward(10)
    assert a.grad == 30 and y.grad == 10


def test_grad_none_off_the_path():
    a, b = Value(1.0), Value(2.0)
    unrelated = Value(4.0)
    y = a * b
    _ = unrelated * a  # a consumer that is not upstream of y
    y.backward()
    assert unrelated.grad == 0 and _.grad == 0  # never reached: still at the start
    a, b, unrelated = NumberWithGrad(1.0), NumberWithGrad(2.0), NumberWithGrad(4.0)
    y = a * b
    _ = unrelated * a
    y.backward()
    assert unrelated.grad is None and _.grad is None  # the seed's "not reached"


def test_graph_keeps_names_and_sets_output():
    a = Value(3, name="a")
    b = Value(4, name="b")
    c = a * b
    c.name = "c"
    e = c + a
    g = e.graph()
    assert isinstance(g, Graph)
    assert g.output is not None and g.output == g.output_node()
    assert g.name("a") == "a" and g.name("c") == "c"
    assert g.op("c") == "mul" and g.op(g.output) == "add"
    e.backward()
    assert g.grad("a") == a.grad == 5 and g.grad("b") == b.grad == 3
    assert g.value(g.output) == e.data


def test_graph_of_a_times_a_has_two_wires():
    a = Value(3, name="a")
    g = (a * a).graph()
    assert len(g.nx.edges) == 2
    assert g.grad("a") == 6.0


def test_graph_keeps_the_first_of_two_equal_names():
    a = Value(1.0, name="x")
    b = Value(2.0, name="x")
    g = (a + b).graph()
    named = [n for n in g.nodes() if g.name(n) == "x"]
    assert len(named) == 1


def test_value_refuses_non_numbers():
    with pytest.raises(TypeError):
        Value("3")
    with pytest.raises(TypeError):
        Value(None)


def test_domain_errors_never_raise():
    cases = [
        (Value(-1.0).log(), math.nan),
        (Value(0.0).log(), -math.inf),
        (Value(1.0) / 0, math.inf),
        (Value(0.0) / 0, math.nan),
        (Value(1000.0).exp(), math.inf),
        (Value(-1.0).sqrt(), math.nan),
        (Value(math.inf).sin(), math.nan),
        (Value(0) ** -1, math.inf),
        (Value(1.0) / Value(10**400), 0.0),
    ]
    for v, want in cases:
        v.backward()
        assert (math.isnan(v.data) and math.isnan(want)) or v.data == want


def test_long_chain_of_values_backward_is_iterative():
    x = Value(0.5)
    y = x
    for _ in range(20_000):  # far beyond the recursion limit; the million-node run is in test_autodiff
        y = y * 1.0
    y.backward()
    assert x.grad == 1.0


def test_ints_beyond_float_range_never_raise():
    # Value keeps Python ints exact, so they can outgrow floats; meeting a float then must give
    # inf (as float arithmetic would), not OverflowError.
    assert (Value(10**400) * 0.5).data == math.inf
    assert Value(10**400).tanh().data == 1.0
    a, b, c = Value(10**300), Value(10**300), Value(0.3)
    out = c.sin() * a * b  # c's gradient is 10**600 * cos(0.3): beyond float range
    out.backward()
    assert out.data == math.inf and c.grad == math.inf
    assert a.grad == pytest.approx(math.sin(0.3) * 1e300)
    out.backward()
    assert a.grad == pytest.approx(2 * math.sin(0.3) * 1e300) and c.grad == math.inf
    big = Value(10**200)
    y = big * big  # exact int arithmetic stays exact
    y.backward()
    assert y.data == 10**400 and big.grad == 2 * 10**200


@pytest.mark.parametrize("name", list(SCALAR_OPS))
def test_op_spellings_come_from_the_op_table(name):
    x, y = Value(0.7), Value(1.3)
    v = getattr(x, name)() if OPS[name].arity == 1 and name != "neg" else None
    if name == "neg":
        v = -x
    elif OPS[name].arity == 2:
        v = {"add": x + y, "sub": x - y, "mul": x * y, "div": x / y, "pow": x**y}.get(name)
        if v is None:  # a binary op with no operator: built by hand from its name
            v = Value(OPS[name].forward(0.7, 1.3), (x, y), name)
    assert v.creation_op == name and v._op == OPS[name].micrograd
    assert v._prev == set(v.depends_on) and v.depends_on == [x, y][: OPS[name].arity]
    assert Value(v.data, tuple(v.depends_on), v._op).creation_op == name  # micrograd spelling by hand


def test_constant_exponent_is_part_of_the_op_not_an_input():
    a, b = Value(3.0), Value(2.0)
    assert (a**2)._op == "**2" and (a**2.0)._op == "**2.0" and (a**-1)._op == "**-1"
    assert (a**2)._prev == {a} and len((a**2).depends_on) == 2  # the graph still wires it
    assert (a**b)._op == "**" and (a**b)._prev == {a, b}
    by_hand = Value(9.0, (a, b), "pow")
    assert by_hand._prev == {a, b} and by_hand._op == "pow" and by_hand.creation_op == "pow"


def test_own_attributes_weakrefs_and_the_seeds_spellings():
    import weakref

    v = Value(1.5)
    v.m, v.colour = 0, "red"
    assert (v.m, v.colour) == (0, "red") and weakref.ref(v)() is v
    assert v.num == 1.5 and v.depends_on == [] and v.creation_op == "" and v._op == ""
    n = NumberWithGrad(2, None, "")
    m = NumberWithGrad(6, [n, NumberWithGrad(3)], "mul")
    m.backward()
    assert n.grad == 3 and m.depends_on[0] is n


def test_backward_goes_through_a_closure_assigned_to_a_table_op():
    # The lecture's deliberate bug (= instead of +=) is the user's to make: their closure rules.
    a = Value(3.0)
    b = a + a
    b._backward = lambda: setattr(a, "grad", 1.0 * b.grad)
    b.backward()
    assert a.grad == 1.0
