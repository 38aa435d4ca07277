"""The op table: the single source of everything said about each op.

Each row keeps the forward rule and its partial derivatives side by side, so the calculus
can be checked at a glance, with the op's ports, its spellings (Python operator or call,
Value method, PyTorch) and the domain its tests draw inputs from. The parser, Value, the
exports, the palette and the search box all read the rows, and ``tests/test_op_rows.py`` runs
over every row: adding an op means adding one row here. ``number`` is a row too, with no
inputs: a number node holds its value.

Conventions follow PyTorch: relu'(0) = 0, abs'(0) = 0, d(a**b)/db = a**b * log(a)
(NaN for a < 0, 0 where a == 0 and b >= 0). Domain errors give NaN or inf, never an exception.

>>> OPS["mul"].forward(3.0, 4.0), OPS["mul"].local(3.0, 4.0, 12.0)
(12.0, (4.0, 3.0))
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

INF = math.inf
NAN = math.nan


Interval = tuple[float, float]


@dataclass(frozen=True)
class Op:
    """One op: everything said about it, so adding an op is adding one row.

    ``forward(*inputs)`` returns the output; ``local(*inputs, output)`` returns one partial
    derivative per input, d(output)/d(input_k), which backward multiplies by the output's
    gradient. Both are total functions: they return NaN/inf instead of raising. The ``number``
    row has no inputs and neither rule: a number node holds its value.

    Spellings: ``operator`` is the Python operator token (``"+"``, ``"**"``; ``"-"`` with one
    input is negation) or "" for an op written as a call, ``op(x)`` or ``op(a, b)``; ``method``
    is the Value method (every op that is not an operator has one, named after the op);
    ``torch`` is the PyTorch function ("" where the operator is PyTorch's spelling too).

    ``domain`` gives, per input, the intervals where the op is smooth and finite differences
    are well conditioned (no kink at relu's 0, no base <= 0 for pow, no tie of max); ``known``
    pins conventions down: ``(inputs, output, local derivatives)`` as PyTorch gives them.
    """

    name: str
    symbol: str
    arity: int
    forward: Callable[..., float] | None
    local: Callable[..., tuple] | None
    ports: tuple[str, ...]
    doc: str
    micrograd: str = ""  # micrograd's ``_op`` spelling ('+', 'ReLU'); pow adds its exponent
    ordered: bool = False  # whether swapping the inputs changes the result (ports get labels)
    operator: str = ""
    method: str = ""
    torch: str = ""
    domain: tuple[tuple[Interval, ...], ...] = ()
    known: tuple = ()

    def __post_init__(self):
        # The spellings that follow from the name, so a row only spells out the exceptions.
        if self.arity and not self.operator:
            if not self.method:
                object.__setattr__(self, "method", self.name)
            if not self.torch:
                object.__setattr__(self, "torch", f"torch.{self.name}")
        if not self.micrograd and self.arity:
            object.__setattr__(self, "micrograd", self.name)


# --- total helpers: the places where Python's arithmetic would raise -------------------------


def _div(a, b):
    try:
        return a / b
    except ZeroDivisionError:
        if a != a or a == 0:
            return NAN
        return (INF if a > 0 else -INF) * math.copysign(1.0, b)
    except OverflowError:  # an int beyond float range on either side: it counts as ±inf
        return _div(_float(a), _float(b))


def _float(v) -> float:
    try:
        return float(v)
    except OverflowError:
        return INF if v > 0 else -INF


def _odd_int(b) -> bool:
    if type(b) is int:  # exact, and no float conversion that could overflow
        return b % 2 == 1
    return b == b and not math.isinf(b) and float(b).is_integer() and int(b) % 2 == 1


def _pow_big(a, b):
    """a ** b where an int operand is beyond float range (math.pow cannot even convert it)."""
    if a == 1 or b == 0:
        return 1.0
    if type(b) is int and a == -1:
        return -1.0 if b % 2 else 1.0
    if type(a) is int and math.isinf(_float(a)) and not math.isinf(_float(b)) and b == b:
        # |a| ** b through logs, which Python takes exactly for any int: 10**400 ** -0.5 is 1e-200
        if a < 0 and not float(b).is_integer():
            return NAN
        mag = _exp(b * math.log(abs(a)))
        return -mag if a < 0 and _odd_int(b) else mag
    # A huge exponent: float semantics with it as ±inf (2 ** -big is 0, 0.5 ** big is 0), the
    # sign from its exact parity, which the float has lost.
    if type(b) is not int:  # then a is the huge one and b is ±inf or NaN
        return math.pow(_float(a), b)
    r = math.pow(abs(_float(a)), _float(b))
    return -r if a < 0 and b % 2 else r


def _pow(a, b):
    try:
        r = math.pow(a, b)
    except OverflowError:
        if (type(a) is int and math.isinf(_float(a))) or (type(b) is int and math.isinf(_float(b))):
            return _pow_big(a, b)
        return -INF if (a < 0 and _odd_int(b)) else INF
    except ValueError:
        if a == 0:  # 0 ** negative
            return -INF if (math.copysign(1.0, a) < 0 and _odd_int(b)) else INF
        return NAN  # negative base, fractional exponent
    if type(a) is int and type(b) is int and b >= 0 and r.is_integer() and abs(r) < 2**53:
        return int(r)  # keep integer arithmetic integer, as Python does
    return r


def _log(a):
    if a > 0:
        return math.log(a)
    if a == 0:
        return -INF
    return NAN  # negative or NaN


def _sqrt(a):
    if a >= 0:
        return math.sqrt(a)
    return NAN


def _exp(a):
    try:
        return math.exp(a)
    except OverflowError:
        return INF


def _trig(f):
    def g(a):
        try:
            return f(a)
        except (ValueError, OverflowError):  # sin(inf)
            return NAN

    return g


_sin, _cos = _trig(math.sin), _trig(math.cos)


def _sigmoid(a):
    # Two branches so that exp never overflows.
    if a >= 0:
        return 1.0 / (1.0 + math.exp(-a))
    if a < 0:
        e = math.exp(a)
        return e / (1.0 + e)
    return NAN


def _relu(a):
    if a > 0 or a != a:
        return a
    return 0 if type(a) is int else 0.0


def _sign(a):
    if a > 0:
        return 1
    if a < 0:
        return -1
    return a * 0 if a != a else 0  # NaN stays NaN; abs'(0) = 0


def _step(a):
    if a > 0:
        return 1
    return a if a != a else 0  # relu'(0) = 0


def _pow_local(a, b, y):
    p = _pow(a, b - 1)
    if b == 0 or (p == 0 and type(b) is int):
        da = 0.0  # PyTorch: x**0 has zero slope everywhere; and 0 * a huge exact b is still 0
    else:
        da = b * p
    if a > 0:
        db = y * math.log(a)
    elif a == 0 and b >= 0:
        db = 0.0
    else:
        db = NAN
    return da, db


def _max(a, b):
    if a != a or b != b:
        return NAN
    return a if a >= b else b


def _min(a, b):
    if a != a or b != b:
        return NAN
    return a if a <= b else b


def _winner(a_wins, b_wins, a, b):
    """max/min's slopes: all to the input that wins; at a tie PyTorch splits it equally."""
    if a_wins:
        return 1, 0
    if b_wins:
        return 0, 1
    return (0.5, 0.5) if a == b else (NAN, NAN)


def _log1p(a):
    if a > -1:
        return math.log1p(a)
    if a == -1:
        return -INF
    return NAN  # below -1, or NaN


def _softplus(a):
    # log(1 + e^x) = max(x, 0) + log1p(e^-|x|): exp never overflows, and small results keep
    # their digits (log(1 + e^-40) would round to 0).
    if a > 0:
        return a + math.log1p(math.exp(-a))
    if a <= 0:
        return math.log1p(math.exp(a))
    return NAN


def _add(a, b):
    return a + b


def _sub(a, b):
    return a - b


def _mul(a, b):
    return a * b


# Test domains (see Op.domain): unions of closed intervals, one union per input.
R = ((-100.0, 100.0),)
POSITIVE = ((1e-2, 100.0),)
NONZERO = ((-100.0, -1e-2), (1e-2, 100.0))

_ENTRIES = [
    # name   symbol arity forward  local derivatives (inputs..., output)          ports   doc
    Op("number", "1.0", 0, None, None, (), "a number you type in: an input or a weight"),
    Op("add", "+", 2, _add, lambda a, b, y: (1, 1), ("a", "b"), "a + b",
       "+", operator="+", domain=(R, R)),
    Op("sub", "−", 2, _sub, lambda a, b, y: (1, -1), ("a", "b"), "a − b",
       "-", ordered=True, operator="-", domain=(R, R)),
    Op("mul", "×", 2, _mul, lambda a, b, y: (b, a), ("a", "b"), "a × b",
       "*", operator="*", domain=(R, R)),
    Op("div", "÷", 2, _div, lambda a, b, y: (_div(1, b), _div(_div(-a, b), b)), ("a", "b"), "a ÷ b",
       "/", ordered=True, operator="/", domain=(R, NONZERO),
       known=(((1.0, 0.0), INF, (INF, -INF)), ((0.0, 0.0), NAN, (INF, NAN)))),
    # base > 0 keeps d/d(exp) = y*log(base) real; the bounds keep y within ~1e5
    Op("pow", "^", 2, _pow, _pow_local, ("base", "exp"), "base raised to exp",
       "**", ordered=True, operator="**", domain=(((0.05, 10.0),), ((-4.0, 4.0),)),
       known=(((-2.0, 3.0), -8.0, (12.0, NAN)), ((0.0, 0.0), 1.0, (0.0, 0.0)))),
    Op("neg", "−x", 1, lambda a: -a, lambda a, y: (-1,), ("x",), "negation",
       "neg", operator="-", domain=(R,)),
    Op("exp", "exp", 1, _exp, lambda a, y: (y,), ("x",), "e to the x", domain=(((-30.0, 30.0),),)),
    Op("log", "log", 1, _log, lambda a, y: (_div(1, a),), ("x",), "natural logarithm", domain=(POSITIVE,),
       known=(((0.0,), -INF, (INF,)), ((-1.0,), NAN, (-1.0,)))),
    Op("sqrt", "√", 1, _sqrt, lambda a, y: (_div(0.5, y),), ("x",), "square root", domain=(POSITIVE,)),
    Op("sin", "sin", 1, _sin, lambda a, y: (_cos(a),), ("x",), "sine (radians)", domain=(R,)),
    Op("cos", "cos", 1, _cos, lambda a, y: (-_sin(a),), ("x",), "cosine (radians)", domain=(R,)),
    Op("tanh", "tanh", 1, math.tanh, lambda a, y: (1 - y * y,), ("x",), "hyperbolic tangent",
       domain=(((-20.0, 20.0),),)),
    Op("sigmoid", "σ", 1, _sigmoid, lambda a, y: (y * (1 - y),), ("x",), "logistic sigmoid",
       domain=(((-30.0, 30.0),),)),
    Op("relu", "relu", 1, _relu, lambda a, y: (_step(a),), ("x",), "max(0, x)",
       "ReLU", domain=(NONZERO,), known=(((0.0,), 0.0, (0.0,)),)),
    Op("abs", "|x|", 1, abs, lambda a, y: (_sign(a),), ("x",), "absolute value",
       domain=(NONZERO,), known=(((0.0,), 0.0, (0.0,)),)),
    # max/min: the domain keeps |a - b| >= 0.5, so no tie (a kink) lies within a step
    Op("max", "max", 2, _max, lambda a, b, y: _winner(a > b, b > a, a, b), ("a", "b"), "larger of a, b",
       torch="torch.maximum", domain=(((-10.0, -1.0), (1.0, 10.0)), ((-0.5, 0.5),)),
       known=(((2.0, 2.0), 2.0, (0.5, 0.5)), ((-1.0, 3.0), 3.0, (0, 1)))),
    Op("min", "min", 2, _min, lambda a, b, y: _winner(a < b, b < a, a, b), ("a", "b"), "smaller of a, b",
       torch="torch.minimum", domain=(((-10.0, -1.0), (1.0, 10.0)), ((-0.5, 0.5),)),
       known=(((2.0, 2.0), 2.0, (0.5, 0.5)), ((3.0, -1.0), -1.0, (0, 1)))),
    Op("log1p", "log1p", 1, _log1p, lambda a, y: (_div(1, 1 + a),), ("x",), "log(1 + x), exact for small x",
       domain=(((-0.9, 100.0),),), known=(((-1.0,), -INF, (INF,)), ((0.0,), 0.0, (1.0,)))),
    Op("softplus", "ζ", 1, _softplus, lambda a, y: (_sigmoid(a),), ("x",), "log(1 + eˣ), a smooth relu",
       torch="torch.nn.functional.softplus", domain=(((-30.0, 30.0),),),
       known=(((0.0,), math.log(2.0), (0.5,)), ((1000.0,), 1000.0, (1.0,)), ((-1000.0,), 0.0, (0.0,)))),
    Op("square", "x²", 1, lambda a: a * a, lambda a, y: (2 * a,), ("x",), "x squared",
       "**2", domain=(R,), known=(((-3.0,), 9.0, (-6.0,)),)),
]

OPS: dict[str, Op] = {op.name: op for op in _ENTRIES}
"""Every row by name, in palette order: ``number`` first, then the operators."""

NUMBER = OPS["number"].name
"""The op name of a number node: ``graph.op(n) == NUMBER`` asks "is this a number"."""

OPERATORS: dict[str, Op] = {name: op for name, op in OPS.items() if op.arity > 0}
"""The rows with inputs (every op an op node can have), in palette order."""

BINARY = tuple(n for n, op in OPS.items() if op.arity == 2)
UNARY = tuple(n for n, op in OPS.items() if op.arity == 1)


def apply(op: Op, args) -> float:
    """Forward rule with a last line of defence: arithmetic errors become NaN, never raise."""
    try:
        return op.forward(*args)
    except OverflowError:  # an int beyond float range (Value(10**400) * 0.5): as a float it is ±inf
        return apply(op, [_float(a) for a in args]) if any(type(a) is int for a in args) else NAN
    except (ArithmeticError, ValueError, TypeError):
        return NAN


def local(op: Op, args, y) -> tuple:
    """Local derivatives with the same guarantee as :func:`apply`."""
    try:
        return op.local(*args, y)
    except OverflowError:
        if any(type(a) is int for a in (*args, y)):
            return local(op, [_float(a) for a in args], _float(y))
        return (NAN,) * op.arity
    except (ArithmeticError, ValueError, TypeError):
        return (NAN,) * op.arity
