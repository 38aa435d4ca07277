"""Where a NaN or inf was born, and why, in words.

:func:`describe` says why an op turned finite inputs into a non-finite result (``log of −1``,
``0/0``, ``exp overflowed at 800``): :func:`engine.core.autodiff.problem` marks nodes with it
and :func:`origin` reports it, so the canvas, the CLI and ``Graph.nonfinite_origin`` use one
wording. :func:`origin` traces a node's value first (the first node, in evaluation order, with
finite inputs and a non-finite result), then its gradient along the paths from the node to
the output (the first node in backward order that sent a non-finite amount while its own
gradient was finite, or whose gradient became non-finite by adding finite amounts).

>>> from .ops import OPS
>>> describe(OPS["log"], [-1.0], float("nan")), describe(OPS["div"], [0.0, 0.0], float("nan"))
('log of −1', '0/0')
>>> describe(OPS["exp"], [800.0], float("inf"))
'exp overflowed at 800'
"""

from __future__ import annotations

import math

import numpy as np

from .ops import local as _safe_local

_nd = np.ndarray


def finite(v) -> bool:
    """Whether a value (number or array) is entirely finite; None counts as finite (no value
    is a different problem)."""
    if v is None:
        return True
    if type(v) is _nd:
        return v.dtype.kind != "f" or bool(np.isfinite(v).all())
    try:
        return math.isfinite(v)
    except OverflowError:  # an int beyond float range
        return False


def kind(v) -> str:
    """ "NaN", "inf" or "-inf" for a non-finite number."""
    return "NaN" if v != v else ("inf" if v > 0 else "-inf")


def number(v) -> str:
    """A number as reasons write it: six digits, a true minus sign (``−1``)."""
    if isinstance(v, bool):
        v = int(v)
    if isinstance(v, int):
        text = str(v) if abs(v) < 10**15 else f"{float(v):.6g}"
    else:
        text = f"{v:.6g}"
    return text.replace("-", "−")


def _first_bad(v):
    """The index of the first non-finite element of an array."""
    return tuple(int(k) for k in np.argwhere(~np.isfinite(v))[0])


def _at(args, idx, shape):
    """Each input's element that meets output element ``idx`` under broadcasting."""
    out = []
    for a in args:
        if type(a) is _nd:
            a = np.broadcast_to(a, shape)[idx]
        out.append(a.item() if isinstance(a, np.generic) else a)
    return out


def describe(op, args, y) -> str:
    """Why ``op`` gave the non-finite ``y`` from ``args``, in a few words. For arrays: about
    the first non-finite element (``log of −1 at [2]``)."""
    if type(y) is _nd:
        idx = _first_bad(y)
        where = f" at {list(idx)}"
        if op.tensor:
            what = "overflowed" if math.isinf(y[idx]) else f"gave {kind(y[idx])}"
            return f"{op.name} {what}{where}"
        return _scalar(op, _at(args, idx, y.shape), y[idx].item()) + where
    return _scalar(op, args, y)


def _scalar(op, args, y) -> str:
    pole = not math.isnan(y) and any(a == 0 for a in args)
    if math.isnan(y) or pole:
        return _expr(op, args)
    if op.arity == 1:
        return f"{op.name} overflowed at {number(args[0])}"
    return f"{_expr(op, args)} overflowed"


def _expr(op, args) -> str:
    """The operation written out: ``log of −1``, ``0/0``, ``(−8) ** 0.5``."""
    shown = [number(a) for a in args]
    if op.arity == 1:
        return f"{op.name} of {shown[0]}"
    a, b = shown
    if op.operator == "/":
        return f"{a}/{b}"
    if op.operator:
        if op.operator == "**" and args[0] < 0:
            a = f"({a})"
        return f"{a} {op.operator} {b}"
    return f"{op.name} of {a}, {b}"


# ---------------------------------------------------------------------------- tracing


def _reason_for_value(tape, vals, k) -> str:
    op = tape.ops[k]
    if op is None:
        v = vals[k]
        return f"value is {kind(v[_first_bad(v)]) if type(v) is _nd else kind(v)}"
    return describe(op, [vals[j] for j in tape.parents[k]], vals[k])


def _value_origin(tape, vals, i):
    need = [False] * (i + 1)
    need[i] = True
    parents = tape.parents
    for k in range(i, -1, -1):
        if need[k]:
            for j in parents[k]:
                if j is not None:
                    need[j] = True
    for k in range(i + 1):
        if need[k] and not finite(vals[k]) and all(finite(vals[j]) for j in parents[k] if j is not None):
            return k
    return None  # pragma: no cover - a non-finite value always has a first one


def _send_reason(tape, vals, k, port, g, amount) -> str:
    op = tape.ops[k]
    args = [vals[j] for j in tape.parents[k]]
    name = op.ports[port]
    if not all(finite(a) for a in args):
        bad = next(p for p, a in enumerate(args) if not finite(a))
        return f"{op.name} sent {_kind_of(amount)} back to {name}: its input {op.ports[bad]} is not finite"
    if op.tensor or any(type(a) is _nd for a in (*args, g, vals[k])):
        return f"{op.name} sent {_kind_of(amount)} back to {name}"
    slope = _safe_local(op, args, vals[k])[port]
    at = ", ".join(number(a) for a in args)
    if not finite(slope):
        return f"slope of {op.name} at {at} is {kind(slope)}"
    return f"gradient × slope overflowed at {op.name}: {number(g)} × {number(slope)}"


def _kind_of(v) -> str:
    return kind(v[_first_bad(v)]) if type(v) is _nd else kind(v)


def origin(tape, vals, grads, root, i, sent):
    """``(node id, reason)`` for tape index ``i`` whose value or gradient is not finite,
    else None. ``sent()`` gives the amounts each node sent back (``Graph``'s display data),
    computed only when a gradient has to be traced."""
    if not finite(vals[i]):
        k = _value_origin(tape, vals, i)
        return tape.order[k], _reason_for_value(tape, vals, k)
    if root is None or finite(grads[i]):
        return None
    # The nodes on a path from i to the output: every amount that reaches i passes them.
    parents = tape.parents
    on = [False] * (root + 1)
    on[i] = True
    for k in range(i + 1, root + 1):
        on[k] = grads[k] is not None and any(j is not None and on[j] for j in parents[k])
    amounts = sent()
    received: dict = {}
    for k in range(root, i - 1, -1):
        if not on[k]:
            continue
        got = received.get(k, [])
        if not finite(grads[k]):
            if all(finite(a) for a in got):
                terms = " + ".join(_term(a) for a in got) or "nothing"
                return tape.order[k], f"the gradient sum overflowed: {terms}"
            continue  # an amount was already non-finite: its sender came first
        for port, j in enumerate(parents[k]):
            if j is None or j < i or not on[j] or amounts[k] is None:
                continue
            a = amounts[k][port]
            if not finite(a):
                return tape.order[k], _send_reason(tape, vals, k, port, grads[k], a)
            received.setdefault(j, []).append(a)
    return None  # pragma: no cover - a non-finite gradient always has a first sender


def _term(a) -> str:
    if type(a) is _nd:
        return f"array (max |{number(float(np.max(np.abs(a))))}|)"
    return number(a)


__all__ = ["describe", "finite", "kind", "number", "origin"]
