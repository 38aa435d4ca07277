"""Finite-difference gradient check: does backward agree with nudging each node and watching
the output move?

For every number node (and, with ``ops=True``, every op node) the analytic gradient comes from
:meth:`Graph.backward`; the numeric one from a central difference
``(f(v + h) - f(v - h)) / 2h`` with a step relative to the value's size. Op nodes are probed by
cutting them loose from their inputs and treating their value as a number, which is exactly
the quantity reverse mode accumulates for them. The graph passed in is never changed and sees
no events: all the work happens on a private copy.

>>> from engine import Graph, Value
>>> a = Value(3.0, name="a"); g = ((a * 4 + 3) * (a + 2)).graph()
>>> rows = gradient_check(g)
>>> [(r.label, r.analytic, r.ok) for r in rows if r.label == "a"]
[('a', 35.0, True)]
>>> summary(rows)
'4 checked: 4 ok, 0 mismatched, 0 skipped'
"""

from __future__ import annotations

import dataclasses
import math
import sys
from dataclasses import dataclass

from . import autodiff
from .graph import Graph
from .ops import NUMBER

_ROUNDOFF = 64 * sys.float_info.epsilon  # allowance for rounding inside f, relative to its size


@dataclass(frozen=True)
class CheckRow:
    """One node's verdict. ``ok`` is True (agree), False (mismatch) or None (not checked, see
    ``reason``). ``error`` is |analytic - numeric| where both exist."""

    node: int
    label: str
    op: str
    analytic: float | None
    numeric: float | None
    ok: bool | None
    error: float | None = None
    reason: str = ""

    @property
    def status(self) -> str:
        """ "ok", "MISMATCH" or "skip"."""
        return "ok" if self.ok else ("skip" if self.ok is None else "MISMATCH")


def gradient_check(graph: Graph, output=None, eps=1e-6, rtol=1e-4, atol=1e-6, ops=False) -> list[CheckRow]:
    """Compare analytic and central-difference gradients of ``output`` (default: the document's
    output, else its single sink; NoOutputError if neither) with respect to every number node,
    and every op node too when ``ops`` is true. Rows come in topological order.

    A pair agrees when ``|a - n| <= atol + rtol * max(|a|, |n|)`` plus allowances for rounding
    (in the difference quotient, and where the analytic terms cancel). Steps start at
    ``eps * max(1, |value|)`` and shrink a thousandfold at a time (tiny values also get steps
    relative to themselves) until one agrees with both one-sided slopes in line.

    A kink exactly at the value, like relu(0) or abs(0), is a mismatch with the reason
    "kink: ...": the slopes on either side differ, so no single derivative describes the
    function there, whatever convention the analytic value follows. Skipped, with a reason
    and ``ok`` None: no path to the output; a non-finite value, output or gradient; an output
    not finite within a step; a function too fast for floating point (sin(1e54)); finite
    differences that never settle or drown in rounding.

    >>> from engine import Value
    >>> g = Value(0.0, name="x").relu().graph()
    >>> [r.status for r in gradient_check(g)]
    ['MISMATCH']
    """
    _check_tolerances(eps, rtol, atol)
    c, root, scale = _prepared(graph, output)
    rows = []
    for n in c.tape().order:
        if c.op(n) == NUMBER or ops:
            rows.append(_check(c, n, root, scale, eps, rtol, atol))
    return rows


def check_node(graph: Graph, node, output=None, eps=1e-6, rtol=1e-4, atol=1e-6) -> CheckRow:
    """The check for one node (number or op), as shown by the inspector.

    >>> from engine import Value
    >>> x = Value(3.0, name="x"); g = (x * x).graph()
    >>> r = check_node(g, "x"); r.ok, r.analytic, round(r.numeric, 6)
    (True, 6.0, 6.0)
    """
    _check_tolerances(eps, rtol, atol)
    c, root, scale = _prepared(graph, output)
    return _check(c, c.resolve(node), root, scale, eps, rtol, atol)


def summary(rows) -> str:
    """One line: how many rows were checked and how they came out."""
    ok = sum(1 for r in rows if r.ok is True)
    bad = sum(1 for r in rows if r.ok is False)
    skipped = sum(1 for r in rows if r.ok is None)
    return f"{ok + bad} checked: {ok} ok, {bad} mismatched, {skipped} skipped"


def all_ok(rows) -> bool:
    """True when no row is a mismatch (skipped rows do not count against it)."""
    return not any(r.ok is False for r in rows)


# ---------------------------------------------------------------------------- internals


def _check_tolerances(eps, rtol, atol) -> None:
    # ValueError, as descent does for its numeric settings: these are arguments, not graph edits.
    for what, v, least in (("eps", eps, 0.0), ("rtol", rtol, None), ("atol", atol, None)):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not _finite(v):
            raise ValueError(f"{what} must be a finite number, not {v!r}")
        if v < 0 or (least is not None and v <= least):
            sign = "positive" if least is not None else "non-negative"
            raise ValueError(f"{what} must be {sign}, not {v!r}")


def _prepared(graph: Graph, output):
    c = graph.copy()  # a copy has no subscribers, so the caller's graph sees no events
    c.backward(output)
    # Rounding inside f scales with the largest value computed on the way, not just the output.
    scale = max((abs(x) for x in c.values().values() if _finite(x)), default=0.0)
    return c, c.evaluated_output(), scale


@dataclass(frozen=True)
class _Probe:
    numeric: float  # central difference
    left: float  # one-sided slopes, to tell a kink from a steep curve
    right: float
    noise: float  # how much rounding alone could move the central difference
    size: float  # the output's magnitude around this step


def _check(c: Graph, n: int, root: int, scale: float, eps, rtol, atol) -> CheckRow:
    label, op = c.label(n), c.op(n)

    def row(analytic, numeric=None, ok=None, error=None, reason=""):
        return CheckRow(n, label, op, analytic, numeric, ok, error, reason)

    analytic = c.grad(n)
    v = c.value(n)
    out = c.value(root)
    if out is None:
        return row(analytic, reason="the output has an unconnected input")
    if not _finite(out):
        return row(analytic, reason=f"the output is {_kind(out)}")
    if analytic is None:
        return row(None, reason="no path to the output")
    if v is None:
        return row(analytic, reason="the node has an unconnected input")
    if not _finite(v):
        return row(analytic, reason=f"the node's value is {_kind(v)}")
    if not _finite(analytic):
        return row(analytic, reason=f"the analytic gradient is {_kind(analytic)}")
    # The analytic value has rounding error of its own: where its terms cancel (x/x at tiny x
    # sums -1/x and +1/x), that error can dwarf the exact answer.
    terms = [abs(a) for *_, a in c.contributions(n) if _finite(a)]
    atol += _ROUNDOFF * sum(terms) if n != root else 0.0
    f, reset = _probe(c, n, root)
    try:
        return _judge(row, analytic, v, _probes(f, v, out, eps, scale), rtol, atol)
    finally:
        reset()  # leave the private tape as it was


def _judge(row, analytic, v, probes_iter, rtol, atol) -> CheckRow:
    """Compare the analytic gradient with finite differences at shrinking steps.

    A step is informative when rounding alone cannot move its central difference by more than
    ten times the tolerance. The check stops early at an informative step whose central difference agrees
    and whose two one-sided slopes agree with each other; otherwise the finest informative
    steps decide: a kink, an agreement, a mismatch, or a reason why nothing can be said."""

    def agree(x, y, noise, rel=rtol):
        return abs(x - y) <= atol + rel * max(abs(x), abs(y)) + noise

    def ok(p):
        return row(analytic, p.numeric, True, abs(analytic - p.numeric))

    seen: list[_Probe] = []
    probes: list[_Probe] = []  # the informative ones
    for p in probes_iter:
        seen.append(p)
        if p.noise > 10 * (atol + rtol * max(abs(analytic), abs(p.numeric))):
            continue  # rounding swamps this step (and would let anything agree)
        probes.append(p)
        if agree(analytic, p.numeric, p.noise) and agree(p.left, p.right, 4 * p.noise, 1e-2):
            return ok(p)
    if not seen:
        return row(analytic, reason="the output is not finite within a step of this value")
    if abs(analytic) * math.ulp(v) * 1024 > max(p.size for p in seen):
        # sin(1e54): even a step of a few rounding units moves the argument across many
        # periods, so no floating-point difference can see the slope, right or wrong.
        return row(analytic, seen[-1].numeric, reason="too sensitive for finite differences at this value")
    if not probes:
        return row(analytic, seen[-1].numeric, reason="rounding hides the change at every step size here")
    fine = probes[-1]
    if len(probes) >= 2:
        # A kink: each one-sided slope is steady as the step shrinks, yet they differ. (On a
        # smooth curve they converge, the gap shrinking like f''·h. A kink that only the wide
        # steps see, as in sqrt(x*x) at x = 1e-38, is gone at the finest ones.)
        coarse = probes[-2]
        steady = agree(coarse.left, fine.left, 4 * fine.noise, 1e-2) and agree(
            coarse.right, fine.right, 4 * fine.noise, 1e-2
        )
        if steady and not agree(fine.left, fine.right, 4 * fine.noise):
            reason = (
                f"kink: the output's slope is {fine.left:.6g} on the left and {fine.right:.6g} "
                f"on the right, so no single derivative exists here (analytic {analytic:.6g})"
            )
            return row(analytic, fine.numeric, False, abs(analytic - fine.numeric), reason)
    for p in reversed(probes):
        if agree(analytic, p.numeric, p.noise):
            return ok(p)
    # Trust a finite difference only where it is steady across two step sizes: sin(exp(exp(x)))
    # moves too fast for any step, and then the numbers say nothing about the gradient.
    settled = [b for a, b in zip(probes, probes[1:]) if agree(a.numeric, b.numeric, a.noise + b.noise)]
    if len(probes) >= 2 and not settled:
        shown = ", ".join(f"{p.numeric:.6g}" for p in probes[:4])
        return row(analytic, fine.numeric, None, None, f"finite differences do not settle here ({shown})")
    p = settled[0] if settled else fine
    return row(analytic, p.numeric, False, abs(analytic - p.numeric), _mismatch(analytic, p.numeric))


def _probes(f, v, out, eps, scale):
    """Central and one-sided differences at shrinking steps: eps relative to max(1, |v|), then
    a thousandth of that and so on down to rounding level, plus steps relative to |v| itself
    for tiny values (whose scale is their own). The narrow steps rescue values near a domain
    edge (log near 0), near a kink (relu at 1e-9) or under strong curvature (sqrt near 0).
    Steps where the output is not finite, or that rounding swallows, are left out."""
    base = eps * max(1.0, abs(v))
    steps = {base * 1e-3**k for k in range(4)}
    if 0 < abs(v) < 1e-3:
        steps |= {eps * abs(v), eps * 1e-3 * abs(v)}
    for h in sorted(steps, reverse=True):
        up, down = v + h, v - h
        if up == v or down == v:
            continue
        fu, fd = f(up), f(down)
        if not (_finite(fu) and _finite(fd)):
            continue
        numeric = (fu - fd) / (up - down)
        if not _finite(numeric):
            continue
        noise = _ROUNDOFF * max(abs(fu), abs(fd), abs(out), scale) / (up - down)
        size = max(abs(fu), abs(fd), abs(out))
        yield _Probe(numeric, (out - fd) / (v - down), (fu - out) / (up - v), noise, size)


def _probe(c: Graph, n: int, root: int):
    """f(x): the output's value when node n's value is replaced by x.

    An op node is cut loose from its inputs by a tape of its own in which it is a number:
    the same forward rules, no networkx copy. Numbers use the copy's tape (private to us)."""
    tape = c.tape()
    i, r = tape.index[n], tape.index[root]
    if tape.ops[i] is not None:
        ops, parents = list(tape.ops), list(tape.parents)
        ops[i], parents[i] = None, ()
        tape = dataclasses.replace(
            tape,
            ops=ops,
            parents=parents,
            numbers=list(tape.numbers),
            _fwd=[step for step in tape._fwd if step[0] != i],
        )
    numbers = tape.numbers
    original = numbers[i]

    def f(x):
        numbers[i] = x
        return autodiff.forward(tape)[r]

    def reset():
        numbers[i] = original

    return f, reset


def _mismatch(analytic, numeric) -> str:
    return f"analytic {analytic:.6g} but the output moves at {numeric:.6g}"


def _finite(v) -> bool:
    return v is not None and not isinstance(v, complex) and math.isfinite(v)


def _kind(v) -> str:
    return "NaN" if v != v else ("inf" if v > 0 else "-inf")


__all__ = ["CheckRow", "all_ok", "check_node", "gradient_check", "summary"]
