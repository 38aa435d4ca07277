"""The op table: the single source of everything said about each op.

Each row keeps the forward rule and its partial derivatives side by side, so the calculus
can be checked at a glance, with the op's ports, its spellings (Python operator or call,
Value method, PyTorch) and the domain its tests draw inputs from. The parser, Value, the
exports, the palette and the search box all read the rows, and ``tests/test_op_rows.py`` runs
over every row: adding an op means adding one row here. ``number`` is a row too, with no
inputs: a number node holds its value.

Arrays: every scalar row also works elementwise on NumPy arrays with broadcasting, through
its vectorised forward and partials (``vforward``/``vlocal``), used only when an input is an
array; :func:`array_vjp` sums each gradient back to its input's shape (``arrays.unbroadcast``).
The tensor rows (matmul, sum, mean, transpose, reshape, softmax, log_softmax, logsumexp,
cross_entropy, mse) keep a vector-Jacobian rule (``vjp``) and a forward-mode rule (``jvp``) beside
the forward, a shape rule (``infer``) whose ShapeError names the shapes, their parameters
(``params``: axis, keepdims, shape; checked by :func:`check_params`) and their test ``cases``.

Conventions follow PyTorch: relu'(0) = 0, abs'(0) = 0, d(a**b)/db = a**b * log(a)
(NaN for a < 0, 0 where a == 0 and b >= 0), d(a**b)/da = 0 where b == 0.

Every row also states its derivative as ops (``as_ops``) beside its numeric rule: tanh's is
``1 - y * y``, matmul's VJP ``g @ b.T`` and ``a.T @ g``. The backward pass built from them is
a graph of ordinary ops (:mod:`engine.core.higher_order`), which can be drawn, evaluated and
differentiated again. The few ops such graphs need beyond the user's (``sign``, ``mask``,
``sum_to``, ``broadcast_to``, ``reshape_as``, ``onehot``, ``numel``) are helper rows of this
same table, grouped at its end (:data:`HELPER_OPS`). Domain errors give NaN or inf, never an exception.

>>> OPS["mul"].forward(3.0, 4.0), OPS["mul"].local(3.0, 4.0, 12.0)
(12.0, (4.0, 3.0))
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from . import arrays as _ar
from .arrays import ShapeError

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
    # Arrays. A scalar row works elementwise with NumPy broadcasting through ``vforward`` and
    # ``vlocal`` (the same rules as ufunc expressions; used only when an input is an array).
    # A tensor row has ``vjp(g, inputs, output, params)`` instead of ``local``, ``forward``
    # takes the row's ``params`` as keywords, and ``infer(shapes, params)`` gives the output's
    # shape or raises ShapeError. ``cases`` are its test inputs: (shapes, params) pairs whose
    # elements come from ``domain``; ``integer_ports`` take whole class indices.
    vforward: Callable | None = None
    vlocal: Callable | None = None
    vjp: Callable | None = None
    infer: Callable | None = None
    params: tuple = ()
    cases: tuple = ()
    integer_ports: tuple = ()
    jvp: Callable | None = None  # tensor rows: jvp(tangents, inputs, output, params) -> tangent
    # The vector-Jacobian rule in words, one per input port, for the chain-rule panel. Tokens:
    # {dy} the output's gradient, {dNAME} the gradient of input NAME, {NAME} an input's value,
    # {y} the output's value (the panel writes them as ∂L/∂y, names, or shapes).
    rule: tuple = ()
    # Why an input's local derivative may not be finite where the output is, one per input
    # port ("" where it always is): the words a NaN or inf gradient's reason adds on the
    # canvas. (QA: more_ops' exponent showed grad NaN with no mark and no reason.)
    nonfinite: tuple = ()
    # The derivative as ops, beside the numeric rule, so the backward pass can be built as a
    # graph of ordinary ops and differentiated again (engine.grad(create_graph=True),
    # Graph.gradient_graph). It is called with handles that spell ops like Value does
    # (``y * (1 - y)``, ``a.sign()``, ``g @ b.T``, ``g.broadcast_to(x, axis=0)``), never
    # with numbers, and returns one expression per input (None: nothing flows back):
    # - a scalar row: ``as_ops(*inputs, y)``, its local derivatives, as ``local`` states them;
    #   the engine multiplies each by what arrives (a plain 1 or -1 passes it on, or negates
    #   it) and sums it back to its input's shape where broadcasting made it bigger;
    # - a tensor or helper row: ``as_ops(g, *inputs, y, **params)``, its vector-Jacobian
    #   product (the engine still sums back what broadcasting made bigger).
    as_ops: Callable | None = None
    # A helper row exists for derivatives stated as ops (sign, mask, sum_to, broadcast_to,
    # reshape_as, onehot, numel): an ordinary row of the table (a graph may hold it, the parser
    # and Value spell it), listed in HELPER_OPS rather than in SCALAR_OPS or TENSOR_OPS.
    helper: bool = False

    @property
    def tensor(self) -> bool:
        """A row that exists for arrays (matmul, sum, softmax, ...), with a VJP rule."""
        return self.vjp is not None

    def __post_init__(self):
        # The spellings that follow from the name, so a row only spells out the exceptions.
        if self.arity and not self.operator:
            if not self.method:
                object.__setattr__(self, "method", self.name)
            if not self.torch and not self.helper:
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


INT_BITS = 8192
"""Ints stay exact (Python's, as in micrograd) below 2**INT_BITS; beyond it a result counts as
±inf, as it would in floats. Without a bound, ``x = x*x`` forty times (or ``3 ** 10**9``)
builds a number with billions of digits and never finishes."""


def _pow(a, b):
    if isinstance(a, int) and isinstance(b, int) and b >= 0:  # bool too: True ** 2 is 1, as in Python
        # Python's exact power, as micrograd gives (math.pow would round 3**40 and overflow
        # 2**1024); the bit count is checked first so that 3 ** 10**9 is never computed.
        if abs(a) < 2 or (abs(a).bit_length() - 1) * b < INT_BITS:
            r = a**b
            if -(1 << INT_BITS) < r < 1 << INT_BITS:
                return r
        return -INF if a < 0 and b % 2 else INF
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
        # PyTorch: x**0 has zero slope everywhere; and 0 * a huge exact b is still 0
        da = 0 if type(p) is int else 0.0
    else:
        da = b * p
        if type(da) is int and da.bit_length() > INT_BITS:
            da = _float(da)  # beyond exact range, as the forward rule treats its result
    if a > 0:
        try:
            db = y * math.log(a)
        except OverflowError:  # an exact int y beyond float range (2 ** 1024): as a float, inf
            db = INF
    elif a == 0 and b >= 0:
        db = 0.0
    elif a == 0:  # 0 ** negative is inf: y * log(0) as PyTorch computes it
        db = y * -INF
    else:
        db = NAN
    return da, db


def _pow_ops(a, b, y):
    # PyTorch's conventions are masks: no slope in the base where exp == 0 (even at base 0,
    # where b * a ** (b - 1) is 0 * inf), none in exp where base == 0 <= exp (log 0 is -inf).
    keep = a.abs().sign() + (-b).relu().sign()  # nonzero unless base == 0 and exp >= 0
    return (b * a ** (b - 1)).mask(b), (y * a.log()).mask(keep)


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
    Op("number", "0", 0, None, None, (), "a number you type in: an input or a weight"),
    Op("add", "+", 2, _add, lambda a, b, y: (1, 1), ("a", "b"), "a + b",
       "+", operator="+", domain=(R, R),
       as_ops=lambda a, b, y: (1, 1)),
    Op("sub", "−", 2, _sub, lambda a, b, y: (1, -1), ("a", "b"), "a − b",
       "-", ordered=True, operator="-", domain=(R, R),
       as_ops=lambda a, b, y: (1, -1)),
    Op("mul", "×", 2, _mul, lambda a, b, y: (b, a), ("a", "b"), "a × b",
       "*", operator="*", domain=(R, R),
       as_ops=lambda a, b, y: (b, a)),
    Op("div", "÷", 2, _div, lambda a, b, y: (_div(1, b), _div(_div(-a, b), b)), ("a", "b"), "a ÷ b",
       "/", ordered=True, operator="/", domain=(R, NONZERO),
       known=(((1.0, 0.0), INF, (INF, -INF)), ((0.0, 0.0), NAN, (INF, NAN))),
       nonfinite=("d(a/b)/da = 1/b is infinite at b = 0", "d(a/b)/db = −a/b² is infinite at b = 0"),
       as_ops=lambda a, b, y: (1 / b, -y / b)),
    # base > 0 keeps d/d(exp) = y*log(base) real; the bounds keep y within ~1e5
    Op("pow", "^", 2, _pow, _pow_local, ("base", "exp"), "base raised to exp",
       "**", ordered=True, operator="**", domain=(((0.05, 10.0),), ((-4.0, 4.0),)),
       known=(((-2.0, 3.0), -8.0, (12.0, NAN)), ((0.0, 0.0), 1.0, (0.0, 0.0))),
       nonfinite=("d(a^b)/da = b·a^(b−1) is infinite at a = 0 when b < 1",
                  "d(a^b)/db = a^b·log a needs log a, which has no real value for a ≤ 0"),
       as_ops=_pow_ops),
    Op("neg", "−x", 1, lambda a: -a, lambda a, y: (-1,), ("x",), "negation",
       "neg", operator="-", domain=(R,),
       as_ops=lambda a, y: (-1,)),
    Op("exp", "exp", 1, _exp, lambda a, y: (y,), ("x",), "e to the x", domain=(((-30.0, 30.0),),),
       as_ops=lambda a, y: (y,)),
    Op("log", "log", 1, _log, lambda a, y: (_div(1, a),), ("x",), "natural logarithm", domain=(POSITIVE,),
       known=(((0.0,), -INF, (INF,)), ((-1.0,), NAN, (-1.0,))),
       nonfinite=("d(log x)/dx = 1/x is infinite at x = 0",),
       as_ops=lambda a, y: (1 / a,)),
    Op("sqrt", "√", 1, _sqrt, lambda a, y: (_div(0.5, y),), ("x",), "square root", domain=(POSITIVE,),
       nonfinite=("d(√x)/dx = 1/(2√x) is infinite at x = 0",),
       as_ops=lambda a, y: (0.5 / y,)),
    Op("sin", "sin", 1, _sin, lambda a, y: (_cos(a),), ("x",), "sine (radians)", domain=(R,),
       as_ops=lambda a, y: (a.cos(),)),
    Op("cos", "cos", 1, _cos, lambda a, y: (-_sin(a),), ("x",), "cosine (radians)", domain=(R,),
       as_ops=lambda a, y: (-a.sin(),)),
    Op("tanh", "tanh", 1, math.tanh, lambda a, y: (1 - y * y,), ("x",), "hyperbolic tangent",
       domain=(((-20.0, 20.0),),),
       as_ops=lambda a, y: (1 - y * y,)),
    Op("sigmoid", "σ", 1, _sigmoid, lambda a, y: (y * (1 - y),), ("x",), "logistic sigmoid",
       domain=(((-30.0, 30.0),),),
       as_ops=lambda a, y: (y * (1 - y),)),
    Op("relu", "relu", 1, _relu, lambda a, y: (_step(a),), ("x",), "max(0, x)",
       "ReLU", domain=(NONZERO,), known=(((0.0,), 0.0, (0.0,)),),
       as_ops=lambda a, y: (y.sign(),)),
    Op("abs", "|x|", 1, abs, lambda a, y: (_sign(a),), ("x",), "absolute value",
       domain=(NONZERO,), known=(((0.0,), 0.0, (0.0,)),),
       as_ops=lambda a, y: (a.sign(),)),
    # max/min: the domain keeps |a - b| >= 0.5, so no tie (a kink) lies within a step
    Op("max", "max", 2, _max, lambda a, b, y: _winner(a > b, b > a, a, b), ("a", "b"), "larger of a, b",
       torch="torch.maximum", domain=(((-10.0, -1.0), (1.0, 10.0)), ((-0.5, 0.5),)),
       known=(((2.0, 2.0), 2.0, (0.5, 0.5)), ((-1.0, 3.0), 3.0, (0, 1))),
       as_ops=lambda a, b, y: ((1 + (a - b).sign()) / 2, (1 - (a - b).sign()) / 2)),
    Op("min", "min", 2, _min, lambda a, b, y: _winner(a < b, b < a, a, b), ("a", "b"), "smaller of a, b",
       torch="torch.minimum", domain=(((-10.0, -1.0), (1.0, 10.0)), ((-0.5, 0.5),)),
       known=(((2.0, 2.0), 2.0, (0.5, 0.5)), ((3.0, -1.0), -1.0, (0, 1))),
       as_ops=lambda a, b, y: ((1 - (a - b).sign()) / 2, (1 + (a - b).sign()) / 2)),
    Op("log1p", "log1p", 1, _log1p, lambda a, y: (_div(1, 1 + a),), ("x",), "log(1 + x), exact for small x",
       domain=(((-0.9, 100.0),),), known=(((-1.0,), -INF, (INF,)), ((0.0,), 0.0, (1.0,))),
       as_ops=lambda a, y: (1 / (1 + a),)),
    Op("softplus", "ζ", 1, _softplus, lambda a, y: (_sigmoid(a),), ("x",), "log(1 + eˣ), a smooth relu",
       torch="torch.nn.functional.softplus", domain=(((-30.0, 30.0),),),
       known=(((0.0,), math.log(2.0), (0.5,)), ((1000.0,), 1000.0, (1.0,)), ((-1000.0,), 0.0, (0.0,))),
       as_ops=lambda a, y: (a.sigmoid(),)),
    Op("square", "x²", 1, lambda a: a * a, lambda a, y: (2 * a,), ("x",), "x squared",
       "**2", domain=(R,), known=(((-3.0,), 9.0, (-6.0,)),),
       as_ops=lambda a, y: (2 * a,)),
]


# --- arrays: the scalar rows elementwise --------------------------------------------------
# Each scalar row's rule once more as NumPy ufunc expressions, used only when an input is an
# array (the caller silences NumPy's floating-point warnings: NaN/inf come out, as above).


def _vsigmoid(a):
    e = np.exp(-np.abs(a))  # never overflows
    return np.where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e)) + a * 0  # NaN stays NaN


def _vrelu(a):
    return np.where((a > 0) | (a != a), a, 0.0)


def _vstep(a):
    return np.where(a > 0, 1.0, np.where(a != a, a, 0.0))


def _vwinner(a_wins, b_wins, a, b):
    tie = np.where(a == b, 0.5, np.nan)
    da = np.where(a_wins, 1.0, np.where(b_wins, 0.0, tie))
    return da, np.where(b_wins, 1.0, np.where(a_wins, 0.0, tie))


def _vpow_local(a, b, y):
    da = np.where(b == 0, 0.0, b * np.power(a, b - 1))
    db = np.where(a > 0, y * np.log(np.where(a > 0, a, 1.0)),
                  np.where(a == 0, np.where(b >= 0, 0.0, y * -np.inf), np.nan))
    return da, db


_ELEMENTWISE = {
    # name       vectorised forward          vectorised local derivatives (inputs..., output)
    "add":      (np.add,                     lambda a, b, y: (1.0, 1.0)),
    "sub":      (np.subtract,                lambda a, b, y: (1.0, -1.0)),
    "mul":      (np.multiply,                lambda a, b, y: (b, a)),
    "div":      (np.divide,                  lambda a, b, y: (1.0 / b, -a / b / b)),
    "pow":      (np.power,                   _vpow_local),
    "neg":      (np.negative,                lambda a, y: (-1.0,)),
    "exp":      (np.exp,                     lambda a, y: (y,)),
    "log":      (np.log,                     lambda a, y: (1.0 / a,)),
    "sqrt":     (np.sqrt,                    lambda a, y: (0.5 / y,)),
    "sin":      (np.sin,                     lambda a, y: (np.cos(a),)),
    "cos":      (np.cos,                     lambda a, y: (-np.sin(a),)),
    "tanh":     (np.tanh,                    lambda a, y: (1.0 - y * y,)),
    "sigmoid":  (_vsigmoid,                  lambda a, y: (y * (1.0 - y),)),
    "relu":     (_vrelu,                     lambda a, y: (_vstep(a),)),
    "abs":      (np.abs,                     lambda a, y: (np.sign(a),)),
    "max":      (np.maximum,                 lambda a, b, y: _vwinner(a > b, b > a, a, b)),
    "min":      (np.minimum,                 lambda a, b, y: _vwinner(a < b, b < a, a, b)),
    "log1p":    (np.log1p,                   lambda a, y: (1.0 / (1.0 + a),)),
    "softplus": (lambda a: np.logaddexp(0.0, a), lambda a, y: (_vsigmoid(a),)),
    "square":   (lambda a: a * a,            lambda a, y: (2.0 * a,)),
}
_ENTRIES = [
    op if op.name not in _ELEMENTWISE
    else dataclasses.replace(op, vforward=_ELEMENTWISE[op.name][0], vlocal=_ELEMENTWISE[op.name][1])
    for op in _ENTRIES
]

# --- tensor rows ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Param:
    """One parameter of a tensor row: ``kind`` is "axis" (None, a whole number or a list of
    them), "axis1" (one whole number), "bool", or "shape" (a list of positive whole numbers,
    one of them may be -1)."""

    name: str
    kind: str
    default: object
    doc: str


def _axes(p, shape, op):
    return _ar.norm_axes(p, len(shape), op, shape)


def _need_array(op, shape, least=1):
    if len(shape) < least:
        raise ShapeError(
            f"{op} needs an array of at least {least} dimension(s), not a {_ar.shape_text(shape)}"
        )


def _matmul_infer(shapes, params):
    a, b = shapes
    for s, side in ((a, "left"), (b, "right")):
        if not 1 <= len(s) <= 2:
            what = "a number" if not s else f"{len(s)}-D {_ar.shape_text(s)}"
            raise ShapeError(
                f"matmul takes 1-D or 2-D arrays; the {side} input is {what} (use * for numbers)"
            )
    if a[-1] != b[0]:
        raise ShapeError(
            f"matmul: {_ar.shape_text(a)} @ {_ar.shape_text(b)}: the left's last size {a[-1]} "
            f"differs from the right's first size {b[0]}"
        )
    return _ar.check_result_shape(a[:-1] + b[1:])


def _matmul_vjp(g, inputs, y, params):
    a, b = inputs
    if a.ndim == 1 and b.ndim == 1:
        return g * b, g * a
    if a.ndim == 1:  # (k,) @ (k, m) -> (m,)
        return g @ b.T, np.outer(a, g)
    if b.ndim == 1:  # (n, k) @ (k,) -> (n,)
        return np.outer(g, b), a.T @ g
    return g @ b.T, a.T @ g  # dL/da = g · bᵀ, dL/db = aᵀ · g


def _matmul_ops(g, a, b, y):
    # The same four cases as _matmul_vjp; a 1-D side's outer product is a column @ a row.
    if len(a.shape) == 1 and len(b.shape) == 1:
        return g * b, g * a
    if len(a.shape) == 1:
        return g @ b.T, a.reshape(-1, 1) @ g.reshape(1, -1)
    if len(b.shape) == 1:
        return g.reshape(-1, 1) @ b.reshape(1, -1), a.T @ g
    return g @ b.T, a.T @ g


def _logsumexp_ops(g, x, y, axis, keepdims):
    back = None if keepdims else axis  # the reduced axes to put back before broadcasting
    return (g.broadcast_to(x, axis=back) * (x - y.broadcast_to(x, axis=back)).exp(),)


def _mse_ops(g, a, b, y):
    d = (a - b) * (2 * g / a.numel())
    return d, -d


def _reduce_infer(shapes, params, op):
    (s,) = shapes
    return _ar.reduced_shape(s, _axes(params["axis"], s, op), params["keepdims"])


def _sum_vjp(g, inputs, y, params):
    (x,) = inputs
    axes = _ar.norm_axes(params["axis"], x.ndim, "sum")
    return (np.array(_ar.expand_reduced(g, x.shape, axes, params["keepdims"])),)


def _mean_vjp(g, inputs, y, params):
    (x,) = inputs
    axes = _ar.norm_axes(params["axis"], x.ndim, "mean")
    count = math.prod(x.shape[a] for a in axes)
    return (_ar.expand_reduced(g, x.shape, axes, params["keepdims"]) / count,)


def _axis1(params, shape, op):
    _need_array(op, shape)
    return _ar.norm_axes(params["axis"], len(shape), op, shape)[0]


def _softmax(x, axis=-1):
    z = x - np.max(x, axis=axis, keepdims=True)  # exp never overflows
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)


def _log_softmax(x, axis=-1):
    z = x - np.max(x, axis=axis, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=axis, keepdims=True))


def _logsumexp(x, axis=-1, keepdims=False):
    axes = _ar.norm_axes(axis, x.ndim, "logsumexp")
    m = np.max(x, axis=axes, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    r = np.log(np.exp(x - m).sum(axis=axes, keepdims=True)) + m
    return r if keepdims else np.squeeze(r, axis=axes)


def _softmax_vjp(g, inputs, y, params):
    a = params["axis"]
    return (y * (g - (g * y).sum(axis=a, keepdims=True)),)


def _log_softmax_vjp(g, inputs, y, params):
    a = params["axis"]
    return (g - np.exp(y) * np.sum(g, axis=a, keepdims=True),)


def _logsumexp_vjp(g, inputs, y, params):
    (x,) = inputs
    axes = _ar.norm_axes(params["axis"], x.ndim, "logsumexp")
    yk = _ar.expand_reduced(y, x.shape, axes, params["keepdims"])
    return (_ar.expand_reduced(g, x.shape, axes, params["keepdims"]) * np.exp(x - yk),)


def _reshape_infer(shapes, params):
    (s,) = shapes
    want = list(params["shape"])
    size = math.prod(s)
    if -1 in want:
        rest = math.prod(n for n in want if n != -1)
        if rest == 0 or size % rest:
            raise ShapeError(
                f"reshape: cannot reshape {_ar.shape_text(s)} ({size} elements) to "
                f"{_ar.shape_text(params['shape'])}: {size} is not a multiple of {rest}"
            )
        want[want.index(-1)] = size // rest
    if math.prod(want) != size:
        raise ShapeError(
            f"reshape: cannot reshape {_ar.shape_text(s)} ({size} elements) to "
            f"{_ar.shape_text(want)} ({math.prod(want)} elements)"
        )
    return tuple(want)


def _targets(t, n_classes):
    """cross_entropy's targets as int indices, or ShapeError naming the bad one."""
    # The usual case in four array operations (a training step calls this twice); the
    # checks below find which target is bad.
    ti = t if t.dtype.kind == "i" else t.astype(np.int64)
    if (ti is t or bool((ti == t).all())) and (not ti.size or (ti.min() >= 0 and ti.max() < n_classes)):
        return ti
    if t.dtype.kind != "i":
        whole = np.floor(t) == t
        if not whole.all():
            k = int(np.argmin(whole))
            raise ShapeError(f"cross_entropy: target {k} is {t[k]}, not a whole class index")
        t = t.astype(np.int64)
    bad = (t < 0) | (t >= n_classes)
    if bad.any():
        k = int(np.argmax(bad))
        raise ShapeError(
            f"cross_entropy: target {k} is class {int(t[k])}, outside 0..{n_classes - 1} "
            f"(the logits have {n_classes} classes)"
        )
    return t


def _cross_entropy_infer(shapes, params):
    z, t = shapes
    if len(z) != 2 or len(t) != 1 or z[0] != t[0]:
        raise ShapeError(
            "cross_entropy takes logits (N, C) and targets (N,); "
            f"got {_ar.shape_text(z)} and {_ar.shape_text(t)}"
        )
    return ()


def _cross_entropy(z, t):
    n = z.shape[0]
    idx = _targets(t, z.shape[1])
    return float(-_log_softmax(z, 1)[np.arange(n), idx].sum() / n)  # the mean, as np.mean sums


def _cross_entropy_vjp(g, inputs, y, params):
    z, t = inputs
    n = z.shape[0]
    grad = _softmax(z, 1)
    grad[np.arange(n), _targets(t, z.shape[1])] -= 1.0  # softmax - onehot
    return grad * (g / n), np.zeros(t.shape)


def _mse_infer(shapes, params):
    a, b = shapes
    if a != b:
        raise ShapeError(
            f"mse compares two arrays of the same shape; got {_ar.shape_text(a)} and {_ar.shape_text(b)}"
        )
    return ()


def _mse_vjp(g, inputs, y, params):
    a, b = inputs
    d = (a - b) * (2.0 * g / max(1, np.size(a)))
    return d, -d


def _np_axis(axis):
    """A params axis as NumPy takes it: a list of axes becomes a tuple."""
    return axis if axis is None or isinstance(axis, int) else tuple(axis)


_AXIS_ALL = Param("axis", "axis", None, "the axis (or list of axes) to reduce; none: all of them")
_KEEPDIMS = Param("keepdims", "bool", False, "keep reduced axes with size 1")
_AXIS_LAST = Param("axis", "axis1", -1, "the axis the probabilities run along")
SMALL = ((-3.0, 3.0),)
CLASSES = ((0.0, 2.0),)  # targets: whole numbers drawn from 0..2, with 3-class logits

_TENSOR_ENTRIES = [
    Op("matmul", "@", 2, np.matmul, None, ("a", "b"), "matrix product a @ b (1-D and 2-D)",
       "@", ordered=True, operator="@", torch="torch.matmul", domain=(SMALL, SMALL),
       rule=("{da} = {dy} · {b}ᵀ", "{db} = {a}ᵀ · {dy}"), vjp=_matmul_vjp, infer=_matmul_infer,
       as_ops=_matmul_ops,
       cases=((((3, 4), (4, 2)), {}), (((4,), (4, 2)), {}), (((3, 4), (4,)), {}), (((4,), (4,)), {}))),
    Op("sum", "Σ", 1, lambda x, axis=None, keepdims=False: np.sum(x, axis=_np_axis(axis), keepdims=keepdims),
       None, ("x",), "sum of the elements (along an axis)", domain=(SMALL,),
       rule=("{dx} = {dy} copied along the summed axes",),
       vjp=_sum_vjp, infer=lambda s, p: _reduce_infer(s, p, "sum"), params=(_AXIS_ALL, _KEEPDIMS),
       as_ops=lambda g, x, y, axis, keepdims: (g.broadcast_to(x, axis=None if keepdims else axis),),
       cases=((((2, 3),), {}), (((2, 3),), {"axis": 0}), (((2, 3, 2),), {"axis": [0, 2], "keepdims": True}))),
    Op("mean", "mean", 1, lambda x, axis=None, keepdims=False: np.mean(x, _np_axis(axis), keepdims=keepdims),
       None, ("x",), "mean of the elements (along an axis)", domain=(SMALL,),
       rule=("{dx} = {dy} / n copied along the averaged axes",),
       vjp=_mean_vjp, infer=lambda s, p: _reduce_infer(s, p, "mean"), params=(_AXIS_ALL, _KEEPDIMS),
       as_ops=lambda g, x, y, axis, keepdims: (
           g.broadcast_to(x, axis=None if keepdims else axis) / (x.numel() / y.numel()),),
       cases=((((2, 3),), {}), (((2, 3),), {"axis": 1}), (((4,),), {"keepdims": True}))),
    Op("transpose", "ᵀ", 1, np.transpose, None, ("x",), "transpose (axes reversed), x.T",
       domain=(SMALL,),
       rule=("{dx} = ({dy})ᵀ",),
       vjp=lambda g, i, y, p: (np.transpose(g),), infer=lambda s, p: tuple(reversed(s[0])),
       as_ops=lambda g, x, y: (g.T,),
       cases=((((2, 3),), {}), (((4,),), {}))),
    Op("reshape", "reshape", 1, lambda x, shape: np.reshape(x, shape), None, ("x",),
       "the same elements in a new shape",
       domain=(SMALL,), rule=("{dx} = {dy} reshaped like {x}",),
       vjp=lambda g, i, y, p: (np.reshape(g, np.shape(i[0])),), infer=_reshape_infer,
       as_ops=lambda g, x, y, shape: (g.reshape_as(x),),
       params=(Param("shape", "shape", (-1,), "the new shape; one size may be -1 (inferred)"),),
       cases=((((2, 3),), {"shape": [3, 2]}), (((2, 3),), {"shape": [-1]}))),
    Op("softmax", "softmax", 1, _softmax, None, ("x",), "exp(x) / Σ exp(x) along an axis (stable)",
       domain=(SMALL,),
       rule=("{dx} = {y} ⊙ ({dy} − Σ({y} ⊙ {dy}) along the axis)",),
       vjp=_softmax_vjp, infer=lambda s, p: (_axis1(p, s[0], "softmax"), s[0])[1],
       as_ops=lambda g, x, y, axis: (y * (g - (g * y).sum(axis=axis, keepdims=True)),),
       params=(_AXIS_LAST,), cases=((((2, 3),), {"axis": 1}), (((2, 3),), {"axis": 0}), (((4,),), {}))),
    Op("log_softmax", "log softmax", 1, _log_softmax, None, ("x",), "log of softmax, computed stably",
       domain=(SMALL,),
       rule=("{dx} = {dy} − softmax({x}) · Σ {dy} along the axis",),
       vjp=_log_softmax_vjp, infer=lambda s, p: (_axis1(p, s[0], "log_softmax"), s[0])[1],
       as_ops=lambda g, x, y, axis: (g - y.exp() * g.sum(axis=axis, keepdims=True),),
       params=(_AXIS_LAST,), cases=((((2, 3),), {"axis": 1}), (((4,),), {}))),
    Op("logsumexp", "LSE", 1, _logsumexp, None, ("x",), "log Σ exp(x) along an axis (stable)",
       domain=(SMALL,), rule=("{dx} = softmax({x}) · {dy}",), vjp=_logsumexp_vjp, as_ops=_logsumexp_ops,
       infer=lambda s, p: (_need_array("logsumexp", s[0]), _reduce_infer(s, p, "logsumexp"))[1],
       params=(Param("axis", "axis", -1, "the axis (or axes) to reduce"), _KEEPDIMS),
       cases=((((2, 3),), {}), (((2, 3),), {"axis": 0, "keepdims": True}), (((2, 3),), {"axis": None}))),
    Op("cross_entropy", "CE", 2, _cross_entropy, None, ("logits", "targets"),
       "mean over N of -log softmax(logits)[target]: logits (N, C), class targets (N,)",
       ordered=True, torch="torch.nn.functional.cross_entropy", domain=(SMALL, CLASSES),
       rule=("{dlogits} = (softmax({logits}) − onehot({targets})) / N · {dy}",
             "{dtargets} = 0: class indices have no derivative"),
       vjp=_cross_entropy_vjp, infer=_cross_entropy_infer, integer_ports=(1,),
       as_ops=lambda g, z, t, y: ((z.softmax(axis=1) - t.onehot(z)) * (g / t.numel()), None),
       cases=((((4, 3), (4,)), {}),)),
    Op("mse", "MSE", 2, lambda a, b: float(np.mean((a - b) ** 2)), None, ("a", "b"),
       "mean squared error of two same-shape arrays", torch="torch.nn.functional.mse_loss",
       domain=(SMALL, SMALL),
       rule=("{da} = 2({a} − {b}) / n · {dy}", "{db} = −2({a} − {b}) / n · {dy}"),
       vjp=_mse_vjp, infer=_mse_infer, as_ops=_mse_ops,
       cases=((((2, 3), (2, 3)), {}), (((4,), (4,)), {}))),
]


# Forward mode (Jacobian-vector products) of the tensor rows: the tangent of the output from
# the inputs' tangents (None: an input that does not move). Linear rows apply themselves.
def _z(t, x):
    return np.zeros(np.shape(x)) if t is None else t


def _ce_jvp(ts, xs, y, p):
    z, t = xs
    if ts[0] is None:
        return 0.0
    grad = _softmax(z, 1)
    grad[np.arange(z.shape[0]), _targets(t, z.shape[1])] -= 1.0
    return float(np.sum(grad * ts[0]) / z.shape[0])


def _lse_jvp(ts, xs, y, p):
    (x,) = xs
    axes = _ar.norm_axes(p["axis"], x.ndim, "logsumexp")
    yk = _ar.expand_reduced(y, x.shape, axes, p["keepdims"])
    return np.sum(np.exp(x - yk) * ts[0], axis=axes, keepdims=p["keepdims"])


def _softmax_jvp(ts, xs, y, p):
    return y * (ts[0] - np.sum(ts[0] * y, axis=p["axis"], keepdims=True))


def _log_softmax_jvp(ts, xs, y, p):
    return ts[0] - np.sum(np.exp(y) * ts[0], axis=p["axis"], keepdims=True)


_JVP = {
    "matmul": lambda ts, xs, y, p: np.matmul(_z(ts[0], xs[0]), xs[1]) + np.matmul(xs[0], _z(ts[1], xs[1])),
    "sum": lambda ts, xs, y, p: OPS["sum"].forward(ts[0], **p),
    "mean": lambda ts, xs, y, p: OPS["mean"].forward(ts[0], **p),
    "transpose": lambda ts, xs, y, p: np.transpose(ts[0]),
    "reshape": lambda ts, xs, y, p: np.reshape(ts[0], np.shape(y)),
    "softmax": _softmax_jvp,
    "log_softmax": _log_softmax_jvp,
    "logsumexp": _lse_jvp,
    "cross_entropy": _ce_jvp,
    "mse": lambda ts, xs, y, p: float(np.mean(2.0 * (xs[0] - xs[1]) * (_z(ts[0], xs[0]) - _z(ts[1], xs[1])))),
}
_TENSOR_ENTRIES = [dataclasses.replace(op, jvp=_JVP[op.name]) for op in _TENSOR_ENTRIES]
_ENTRIES += _TENSOR_ENTRIES


# --- helper rows: what derivatives stated as ops need beyond the user's ops ------------------
# Rows like any other (numeric forward, VJP, JVP, shape rule, test cases, derivative as ops),
# grouped here. Shapes come from an input at run time (``like``), never from a stored shape,
# so a backward graph stays right when the arrays it was built for change size.


def _zeros_like(x):
    return np.zeros(np.shape(x))


def _mask(x, keep):
    return np.where(keep != 0, x, 0.0)


def _inserted(x, like_ndim, axis, op):
    """``x`` with size-1 axes put back at ``axis`` (axes of an array of ``like_ndim`` dims)."""
    axes = _ar.norm_axes(axis, like_ndim, op)
    return np.expand_dims(x, axes) if axes else x


def _sum_to(x, like, axis=None):
    if axis is not None:
        x = np.sum(x, axis=_ar.norm_axes(axis, np.ndim(x), "sum_to"))
    return _ar.unbroadcast(np.asarray(x, dtype=np.float64), np.shape(like))


def _broadcast_to(x, like, axis=None):
    x = np.asarray(x, dtype=np.float64)
    if axis is not None:
        x = _inserted(x, np.ndim(like), axis, "broadcast_to")
    return np.array(np.broadcast_to(x, np.shape(like)))


def _sum_to_infer(shapes, params):
    x, like = shapes
    have = x
    if params["axis"] is not None:
        have = _ar.reduced_shape(x, _axes(params["axis"], x, "sum_to"), False)
    if len(like) > len(have) or _broadcast_or_none(have, like) != have:
        raise ShapeError(
            f"sum_to: cannot sum {_ar.shape_text(have)} to {_ar.shape_text(like)}: "
            "the target must broadcast to it"
        )
    return like


def _broadcast_to_infer(shapes, params):
    x, like = shapes
    if params["axis"] is not None:
        axes = _axes(params["axis"], like, "broadcast_to")
        if len(x) + len(axes) != len(like):
            raise ShapeError(
                f"broadcast_to: {_ar.shape_text(x)} with axes {list(axes)} put back does not have "
                f"the {len(like)} dimensions of {_ar.shape_text(like)}"
            )
        rest = iter(x)
        x = tuple(1 if k in axes else next(rest) for k in range(len(like)))
    if len(x) > len(like) or _broadcast_or_none(x, like) != like:
        raise ShapeError(f"broadcast_to: cannot broadcast {_ar.shape_text(x)} to {_ar.shape_text(like)}")
    return like


def _broadcast_or_none(a, b):
    try:
        return tuple(np.broadcast_shapes(a, b))
    except ValueError:
        return None


def _reshape_as_infer(shapes, params):
    x, like = shapes
    if math.prod(x) != math.prod(like):
        raise ShapeError(
            f"reshape_as: {_ar.shape_text(x)} has {math.prod(x)} elements, "
            f"{_ar.shape_text(like)} has {math.prod(like)}"
        )
    return like


def _onehot(t, like):
    out = np.zeros(np.shape(like))
    out[np.arange(out.shape[0]), _targets(t, out.shape[1])] = 1.0
    return out


def _onehot_infer(shapes, params):
    t, like = shapes
    if len(like) != 2 or len(t) != 1 or like[0] != t[0]:
        raise ShapeError(
            f"onehot takes class targets (N,) and an (N, C) array to shape it like; "
            f"got {_ar.shape_text(t)} and {_ar.shape_text(like)}"
        )
    return like


_AXIS_BACK = Param("axis", "axis", None, "the reduced axes (none: NumPy's broadcasting alone)")

_HELPER_ENTRIES = [
    Op("sign", "sgn", 1, np.sign, None, ("x",), "−1, 0 or 1: the sign of x (its slope is 0)",
       domain=(NONZERO,), torch="torch.sign", helper=True,
       vjp=lambda g, i, y, p: (_zeros_like(i[0]),), infer=lambda s, p: s[0],
       jvp=lambda ts, xs, y, p: np.zeros(np.shape(y)),
       cases=((((4,),), {}), (((2, 3),), {}), (((),), {})),
       rule=("{dx} = 0: sign is flat",),
       as_ops=lambda g, x, y: (None,)),
    Op("mask", "mask", 2, _mask, None, ("x", "keep"), "x where keep ≠ 0, else 0 (even NaN or inf)",
       ordered=True, domain=(R, NONZERO), helper=True,
       vjp=lambda g, i, y, p: (_mask(g, i[1]), _zeros_like(i[1])),
       infer=lambda s, p: _ar.broadcast_shape(*s),
       jvp=lambda ts, xs, y, p: np.broadcast_to(_mask(_z(ts[0], xs[0]), xs[1]), np.shape(y)).copy(),
       cases=((((2, 3), (2, 3)), {}), (((2, 3), (3,)), {}), (((), ()), {})),
       rule=("{dx} = {dy} where {keep} ≠ 0, else 0", "{dkeep} = 0: it only selects"),
       as_ops=lambda g, x, keep, y: (g.mask(keep), None)),
    Op("sum_to", "Σ→", 2, _sum_to, None, ("x", "like"),
       "x summed down to like's shape (over axis, then over what broadcasting added)",
       ordered=True, domain=(SMALL, SMALL), helper=True, params=(_AXIS_BACK,),
       vjp=lambda g, i, y, p: (_broadcast_to(g, i[0], p["axis"]), _zeros_like(i[1])),
       infer=_sum_to_infer,
       jvp=lambda ts, xs, y, p: _sum_to(_z(ts[0], xs[0]), xs[1], p["axis"]),
       cases=((((2, 3), (3,)), {}), (((2, 3), ()), {}), (((2, 3), (2,)), {"axis": 1}),
              (((4, 1, 3), (1, 3)), {})),
       rule=("{dx} = {dy} copied back up to the shape of {x}", "{dlike} = 0: only its shape is read"),
       as_ops=lambda g, x, like, y, axis: (g.broadcast_to(x, axis=axis), None)),
    Op("broadcast_to", "→▦", 2, _broadcast_to, None, ("x", "like"),
       "x copied up to like's shape (axis: the reduced axes to put back first)",
       ordered=True, domain=(SMALL, SMALL), helper=True, params=(_AXIS_BACK,),
       vjp=lambda g, i, y, p: (_sum_to(g, i[0], p["axis"]), _zeros_like(i[1])),
       infer=_broadcast_to_infer,
       jvp=lambda ts, xs, y, p: _broadcast_to(_z(ts[0], xs[0]), xs[1], p["axis"]),
       cases=((((3,), (2, 3)), {}), (((), (2, 3)), {}), (((2,), (2, 3)), {"axis": 1}),
              (((1, 3), (4, 2, 3)), {})),
       rule=("{dx} = {dy} summed back to the shape of {x}", "{dlike} = 0: only its shape is read"),
       as_ops=lambda g, x, like, y, axis: (g.sum_to(x, axis=axis), None)),
    Op("reshape_as", "reshape as", 2, lambda x, like: np.reshape(x, np.shape(like)), None, ("x", "like"),
       "x's elements in like's shape", ordered=True, domain=(SMALL, SMALL), helper=True,
       vjp=lambda g, i, y, p: (np.reshape(g, np.shape(i[0])), _zeros_like(i[1])),
       infer=_reshape_as_infer,
       jvp=lambda ts, xs, y, p: np.reshape(_z(ts[0], xs[0]), np.shape(y)),
       cases=((((2, 3), (3, 2)), {}), (((6,), (2, 3)), {})),
       rule=("{dx} = {dy} reshaped like {x}", "{dlike} = 0: only its shape is read"),
       as_ops=lambda g, x, like, y: (g.reshape_as(x), None)),
    Op("onehot", "1ₜ", 2, _onehot, None, ("targets", "like"),
       "1 at each row's target class, 0 elsewhere, shaped like an (N, C) array",
       ordered=True, domain=(CLASSES, SMALL), helper=True, integer_ports=(0,),
       vjp=lambda g, i, y, p: (_zeros_like(i[0]), _zeros_like(i[1])),
       infer=_onehot_infer, jvp=lambda ts, xs, y, p: np.zeros(np.shape(y)),
       cases=((((4,), (4, 3)), {}),),
       rule=("{dtargets} = 0: class indices have no derivative", "{dlike} = 0: only its shape is read"),
       as_ops=lambda g, t, like, y: (None, None)),
    Op("numel", "#", 1, lambda x: float(np.size(x)), None, ("x",), "the number of elements of x",
       domain=(SMALL,), helper=True,
       vjp=lambda g, i, y, p: (_zeros_like(i[0]),), infer=lambda s, p: (),
       jvp=lambda ts, xs, y, p: 0.0,
       cases=((((2, 3),), {}), (((),), {})),
       rule=("{dx} = 0: only its size is read",),
       as_ops=lambda g, x, y: (None,)),
]
_ENTRIES += _HELPER_ENTRIES

OPS: dict[str, Op] = {op.name: op for op in _ENTRIES}
"""Every row by name, in palette order: ``number`` first, then the operators."""

NUMBER = OPS["number"].name
"""The op name of a number node: ``graph.op(n) == NUMBER`` asks "is this a number"."""

OPERATORS: dict[str, Op] = {name: op for name, op in OPS.items() if op.arity > 0}
"""The rows with inputs (every op an op node can have), in palette order."""

SCALAR_OPS: dict[str, Op] = {name: op for name, op in OPERATORS.items() if not op.tensor and not op.helper}
"""The 20 elementwise rows: what a scalar graph is built from."""

TENSOR_OPS: dict[str, Op] = {name: op for name, op in OPERATORS.items() if op.tensor and not op.helper}
"""The rows that exist for arrays (matmul, sum, softmax, cross_entropy, ...)."""

HELPER_OPS: dict[str, Op] = {name: op for name, op in OPERATORS.items() if op.helper}
"""The rows derivatives stated as ops need (sign, mask, sum_to, broadcast_to, ...)."""

BINARY = tuple(n for n, op in SCALAR_OPS.items() if op.arity == 2)  # elementwise rows by arity
UNARY = tuple(n for n, op in SCALAR_OPS.items() if op.arity == 1)


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


# --- arrays: one entry point for forward, shape and VJP of any row -------------------------


def check_params(op: Op, params) -> dict:
    """``params`` for ``op`` (None: the defaults) as a complete dict, or ValueError saying what
    is wrong. Only shape-free checks happen here; whether an axis fits an input is a problem
    marked on the node when it is evaluated.

    >>> check_params(OPS["sum"], {"axis": 0})
    {'axis': 0, 'keepdims': False}
    """
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise ValueError(f"{op.name}'s parameters must be a dict, not {type(params).__name__}")
    known = {p.name: p for p in op.params}
    for key in params:
        if key not in known:
            takes = ", ".join(known) if known else "no parameters"
            raise ValueError(f"{op.name} has no parameter {key!r} (it takes {takes})")
    out = {}
    for p in op.params:
        v = params.get(p.name, p.default)
        out[p.name] = _check_param(op, p, v)
    return out


def _whole(v) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


def _check_param(op, p, v):
    what = f"{op.name}'s {p.name}"
    if p.kind == "bool":
        if not isinstance(v, (bool, np.bool_)):
            raise ValueError(f"{what} must be true or false, not {v!r}")
        return bool(v)
    if p.kind in ("axis", "axis1"):
        if v is None and p.kind == "axis":
            return None
        if _whole(v):
            if not -_ar.MAX_DIMS <= v < _ar.MAX_DIMS:
                raise ValueError(f"{what} {v} is out of range: arrays have at most {_ar.MAX_DIMS} axes")
            return int(v)
        if p.kind == "axis" and isinstance(v, (list, tuple)) and v and all(_whole(a) for a in v):
            axes = [int(a) for a in v]
            if len(axes) > _ar.MAX_DIMS or any(not -_ar.MAX_DIMS <= a < _ar.MAX_DIMS for a in axes):
                raise ValueError(f"{what} {axes} is out of range: arrays have at most {_ar.MAX_DIMS} axes")
            return axes
        wanted = "a whole number" if p.kind == "axis1" else "none, a whole number or a list of them"
        raise ValueError(f"{what} must be {wanted}, not {v!r}")
    if p.kind == "shape":
        if _whole(v):
            v = [v]
        if not isinstance(v, (list, tuple)) or not v or not all(_whole(n) for n in v):
            raise ValueError(f"{what} must be a list of whole numbers, such as [2, 3], not {v!r}")
        shape = [int(n) for n in v]
        if len(shape) > _ar.MAX_DIMS:
            raise ValueError(f"{what} has {len(shape)} dimensions; at most {_ar.MAX_DIMS}")
        if shape.count(-1) > 1 or any(n < 1 and n != -1 for n in shape):
            raise ValueError(f"{what} {shape}: sizes must be positive, and at most one may be -1")
        if math.prod(n for n in shape if n != -1) > _ar.MAX_RESULT_ELEMENTS:
            raise ValueError(f"{what} {shape} has too many elements")
        return shape
    raise ValueError(f"{what}: unknown parameter kind {p.kind!r}")  # pragma: no cover - table bug


def out_shape(op: Op, shapes, params) -> tuple:
    """The shape ``op`` gives for inputs of ``shapes``, or ShapeError with the shapes named."""
    if op.infer is not None:
        shape = op.infer(tuple(tuple(s) for s in shapes), params or {})
        return _ar.check_result_shape(shape)
    return _ar.broadcast_shape(*shapes)


def array_apply(op: Op, args, params=None):
    """Forward rule of any row on any mix of numbers and arrays; the result is a Python float
    for a 0-d outcome. Raises ShapeError (and only that) when the shapes do not fit."""
    shapes = [_ar.shape_of(a) for a in args]
    out_shape(op, shapes, params)
    with np.errstate(all="ignore"):
        return apply_checked(op, args, params)


def apply_checked(op: Op, args, params=None):
    """:func:`array_apply` for inputs whose shapes :func:`out_shape` has already accepted,
    inside the caller's ``np.errstate(all="ignore")`` (the tape's forward loop checks each
    node's shapes once per change of shapes and enters errstate once per pass)."""
    if op.tensor:
        xs = [np.asarray(_ar.as_float(a)) if k not in op.integer_ports else np.asarray(a)
              for k, a in enumerate(args)]
        r = op.forward(*xs, **(params or {}))
    else:
        r = op.vforward(*[_ar.as_float(a) for a in args])
    return _ar.scalarize(r)


def array_vjp(op: Op, g, args, y, params=None) -> tuple:
    """The gradient each input receives from output gradient ``g``, each in its input's shape
    (elementwise rows: partials times g, summed back over broadcast axes)."""
    with np.errstate(all="ignore"):
        return vjp_quiet(op, g, args, y, params)


def vjp_quiet(op: Op, g, args, y, params=None) -> tuple:
    """:func:`array_vjp` inside the caller's ``np.errstate(all="ignore")`` (backward enters
    it once per pass, not once per node)."""
    if op.tensor:
        xs = [np.asarray(_ar.as_float(a)) if k not in op.integer_ports else np.asarray(a)
              for k, a in enumerate(args)]
        gs = op.vjp(np.asarray(g, dtype=np.float64) if type(g) is not np.ndarray else g, xs,
                    np.asarray(y) if y is not None else y, params or {})
    else:
        fs = [_ar.as_float(a) for a in args]
        loc = op.vlocal(*fs, _ar.as_float(y))
        gs = [g * d for d in loc]
    return tuple(_ar.unbroadcast(_ar.scalarize(gk) if type(gk) is not np.ndarray else gk, _ar.shape_of(a))
                 for gk, a in zip(gs, args))


def array_jvp(op: Op, tangents, args, y, params=None):
    """The output's tangent from the inputs' (None where an input does not move): forward
    mode for any row on arrays. Elementwise rows: the sum of partial times tangent."""
    with np.errstate(all="ignore"):
        if op.tensor:
            xs = [np.asarray(_ar.as_float(a)) if k not in op.integer_ports else np.asarray(a)
                  for k, a in enumerate(args)]
            ts = [None if t is None else np.asarray(t, dtype=np.float64) for t in tangents]
            return _ar.scalarize(op.jvp(ts, xs, np.asarray(y), params or {}))
        loc = op.vlocal(*[_ar.as_float(a) for a in args], _ar.as_float(y))
        total = None
        for d, t in zip(loc, tangents):
            if t is None:
                continue
            term = d * t
            total = term if total is None else total + term
        if total is None:
            return 0.0
        return _ar.scalarize(np.broadcast_to(total, _ar.shape_of(y)).copy() if _ar.shape_of(y) else total)
