"""Array helpers behind the op table's tensor rules: checking array values, unbroadcast, shape
errors, and the vector-Jacobian rules of the tensor rows.

Values are Python numbers (the scalar path, untouched) or float64 NumPy arrays of 1 to 4
dimensions; integer class targets (for ``cross_entropy``) may be int64 arrays. A 0-d result is
handed back as a Python float, so a scalar never hides inside an array.

``unbroadcast`` is HIPS autograd's rule: a gradient that NumPy broadcasting made bigger than
its input is summed back, first over the leading axes the input did not have, then (keeping
dims) over every axis where the input has size 1.

>>> import numpy as np
>>> unbroadcast(np.ones((2, 3)), (3,)).tolist()
[2.0, 2.0, 2.0]
>>> unbroadcast(np.ones((2, 3)), ()).__class__.__name__
'float'
"""

from __future__ import annotations

import math

import numpy as np

ndarray = np.ndarray

MAX_DIMS = 4
MAX_ELEMENTS = 1_000_000
"""Most elements a number node (a typed or stored array) may hold."""
MAX_RESULT_ELEMENTS = 10_000_000
"""Most elements a computed value may have: beyond it the node is a shape problem, not a
MemoryError (an outer product of two long vectors)."""


class ShapeError(ValueError):
    """An op cannot take inputs of these shapes; the message names the shapes."""


def shape_text(shape) -> str:
    """``(2, 3)``, ``(3,)``, ``scalar``: how messages write a shape."""
    shape = tuple(shape)
    if not shape:
        return "scalar"
    return "(" + ", ".join(map(str, shape)) + (",)" if len(shape) == 1 else ")")


def shape_of(v) -> tuple:
    """The shape of a value: () for a Python number."""
    return v.shape if type(v) is ndarray else ()


def is_array(v) -> bool:
    return type(v) is ndarray


def scalarize(r):
    """A 0-d array or NumPy scalar as a Python float; arrays and Python numbers unchanged."""
    if type(r) is ndarray:
        if r.ndim == 0:
            return float(r)
        if r.dtype != np.float64 and r.dtype.kind != "i":
            return r.astype(np.float64)
        return r
    if isinstance(r, np.generic):
        return float(r)
    return r


def as_float(v):
    """A value as something NumPy computes with in float64 (ints of any size included)."""
    if type(v) is ndarray:
        return v if v.dtype == np.float64 else v.astype(np.float64)
    if type(v) is int:
        try:
            return float(v)
        except OverflowError:
            return math.inf if v > 0 else -math.inf
    return v


def unbroadcast(grad, shape):
    """Sum ``grad`` back to ``shape`` (the input's), undoing NumPy broadcasting."""
    shape = tuple(shape)
    if type(grad) is not ndarray:
        if shape:
            return np.full(shape, grad, dtype=np.float64)
        return grad
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))
    elif extra < 0:  # the output is smaller than the input (not from broadcasting): spread it
        return np.broadcast_to(grad, shape).astype(np.float64)
    axes = tuple(k for k, n in enumerate(shape) if n == 1 and grad.shape[k] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    if grad.shape != shape:
        grad = np.broadcast_to(grad, shape)
    return scalarize(np.array(grad, dtype=np.float64)) if not shape else grad


def check_result_shape(shape, what="the result") -> tuple:
    shape = tuple(int(n) for n in shape)
    if len(shape) > MAX_DIMS:
        raise ShapeError(f"{what} would have {len(shape)} dimensions {shape_text(shape)}; at most {MAX_DIMS}")
    count = math.prod(shape)
    if count > MAX_RESULT_ELEMENTS:
        raise ShapeError(
            f"{what} would have {count:,} elements {shape_text(shape)}; at most {MAX_RESULT_ELEMENTS:,}"
        )
    return shape


def broadcast_shape(*shapes) -> tuple:
    """NumPy's broadcast of ``shapes``, or ShapeError naming them."""
    try:
        out = np.broadcast_shapes(*shapes)
    except ValueError:
        shown = " with ".join(shape_text(s) for s in shapes)
        raise ShapeError(f"cannot broadcast {shown}: sizes must match or be 1 on every axis") from None
    return check_result_shape(out)


# ---------------------------------------------------------------------------- axis params


def norm_axes(axis, ndim, op, shape=None) -> tuple:
    """``axis`` (None, an int, or a list of ints) as a tuple of non-negative axes of an array
    with ``ndim`` dimensions (of ``shape``, if given, for the message); ShapeError when one is
    out of range."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    out = []
    for a in axes:
        if not -ndim <= a < ndim or ndim == 0:
            shown = shape_text(shape) if shape is not None else f"{ndim}-D"
            raise ShapeError(f"{op}: axis {a} is out of range for an input of shape {shown}")
        a = a % ndim
        if a in out:
            raise ShapeError(f"{op}: axis {a} is given twice")
        out.append(a)
    return tuple(sorted(out))


def reduced_shape(shape, axes, keepdims) -> tuple:
    if keepdims:
        return tuple(1 if k in axes else n for k, n in enumerate(shape))
    return tuple(n for k, n in enumerate(shape) if k not in axes)


def expand_reduced(g, shape, axes, keepdims):
    """A reduction's output gradient, broadcast back over the reduced axes of ``shape``."""
    g = np.asarray(g, dtype=np.float64)
    if not keepdims:
        for a in axes:
            g = np.expand_dims(g, a)
    return np.broadcast_to(g, shape)


# ---------------------------------------------------------------------------- values


def check_array(value, what="value", allow_int=True):
    """A number node's array value, cleaned: float64 (or int64 for an integer array), 1 to 4
    dimensions, at most MAX_ELEMENTS finite entries. Raises ValueError with the reason. A
    0-d array comes back as a Python float."""
    if not isinstance(value, ndarray):
        raise ValueError(f"{what} must be an array, not {type(value).__name__}")
    kind = value.dtype.kind
    if kind == "b":
        raise ValueError(f"{what} must hold numbers, not true/false")
    if kind not in "iuf":
        raise ValueError(f"{what} must hold real numbers, not {value.dtype}")
    if value.ndim == 0:
        v = float(value)
        if not math.isfinite(v):
            raise ValueError(f"{what} must be finite, not {v}")
        return v
    if value.ndim > MAX_DIMS:
        raise ValueError(f"{what} has {value.ndim} dimensions; at most {MAX_DIMS}")
    if value.size == 0:
        raise ValueError(
            f"{what} is empty (shape {shape_text(value.shape)}); an array needs at least one element"
        )
    if value.size > MAX_ELEMENTS:
        raise ValueError(f"{what} has {value.size:,} elements; at most {MAX_ELEMENTS:,}")
    if kind in "iu" and allow_int:
        if kind == "u" and value.size and value.max() > np.iinfo(np.int64).max:
            raise ValueError(f"{what} has integers too large to store")
        return _frozen(np.array(value, dtype=np.int64))  # a copy: the caller's may change later
    out = np.array(value, dtype=np.float64)
    if not np.isfinite(out).all():
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(out))[0])
        raise ValueError(f"{what} must be finite: element {list(bad)} is {out[bad]}")
    return _frozen(out)


def _frozen(a):
    """A stored value is read-only: changing it in place would bypass set_value, its
    validation, its event and undo. Edit a copy and set that."""
    a.flags.writeable = False
    return a


def summary(v, digits=4) -> str:
    """A short text for any value: a number, or ``2×3 array, min -1, max 4`` for an array."""
    if v is None:
        return "—"
    if type(v) is not ndarray:
        return f"{v:.{digits}g}" if isinstance(v, float) else str(v)
    dims = "×".join(map(str, v.shape))
    kind = " int" if v.dtype.kind == "i" else ""
    with np.errstate(all="ignore"):
        lo, hi = np.nanmin(v) if v.size else 0, np.nanmax(v) if v.size else 0
    if v.size <= 4:
        return f"{dims}{kind} [{', '.join(f'{x:.{digits}g}' for x in v.ravel().tolist())}]"
    return f"{dims}{kind} array, min {lo:.{digits}g}, max {hi:.{digits}g}"


def to_jsonable(v):
    """A value as JSON-ready data: nested lists for arrays (NaN/inf as the strings Python's
    float repr gives, like the CLI does for numbers)."""
    if type(v) is ndarray:
        if v.dtype.kind == "i":
            return v.tolist()
        return _nested(v.tolist())
    if isinstance(v, float) and not math.isfinite(v):
        return str(v)
    return v


def _nested(x):
    if isinstance(x, list):
        return [_nested(e) for e in x]
    if isinstance(x, float) and not math.isfinite(x):
        return str(x)
    return x


def from_nested(data, what="value"):
    """Nested lists of numbers (a JSON array, a parsed literal) as a float64 array; ValueError
    for ragged lists, non-numbers, non-finite entries, more than MAX_DIMS levels or
    MAX_ELEMENTS entries."""
    shape = []
    level = data
    while isinstance(level, list):
        if not level:
            raise ValueError(f"{what} has an empty list; every list needs at least one element")
        shape.append(len(level))
        if len(shape) > MAX_DIMS:
            raise ValueError(f"{what} is nested {len(shape)}+ deep; at most {MAX_DIMS} dimensions")
        level = level[0]
    if math.prod(shape) > MAX_ELEMENTS:
        raise ValueError(f"{what} has {math.prod(shape):,} elements; at most {MAX_ELEMENTS:,}")
    flat: list = []
    _flatten(data, shape, 0, flat, [], what)
    out = np.array(flat, dtype=np.float64).reshape(shape)
    return out


def _flatten(x, shape, depth, flat, index, what):
    if depth == len(shape):
        if isinstance(x, bool) or not isinstance(x, (int, float)):
            raise ValueError(f"{what}: element {index} must be a number, not {type(x).__name__}")
        try:
            f = float(x)
        except OverflowError:
            raise ValueError(f"{what}: element {index} is too large for a float") from None
        if not math.isfinite(f):
            raise ValueError(f"{what}: element {index} must be finite, not {f}")
        flat.append(f)
        return
    if not isinstance(x, list) or len(x) != shape[depth]:
        got = f"{len(x)} elements" if isinstance(x, list) else "a number"
        raise ValueError(
            f"{what} is ragged: the list at {index or 'the top'} has {got} where "
            f"{shape[depth]} elements were expected (shape {shape_text(shape)})"
        )
    for k, e in enumerate(x):
        _flatten(e, shape, depth + 1, flat, index + [k], what)


__all__ = [
    "MAX_DIMS",
    "MAX_ELEMENTS",
    "MAX_RESULT_ELEMENTS",
    "ShapeError",
    "broadcast_shape",
    "check_array",
    "from_nested",
    "shape_of",
    "shape_text",
    "summary",
    "to_jsonable",
    "unbroadcast",
]
