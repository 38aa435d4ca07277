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

import numpy as np

from ..core import autodiff
from ..core.graph import Graph
from ..core.ops import NUMBER, OPS

MAX_ELEMENTS_CHECKED = 24
"""An array node's check probes at most this many elements (a seeded sample beyond it)."""

_ROUNDOFF = 64 * sys.float_info.epsilon  # allowance for rounding inside f, relative to its size

NO_PATH = "no path to the output"
INTEGER_TARGETS = "integer class targets have no gradient to check"
NOTHING_TO_CHECK = (NO_PATH, INTEGER_TARGETS)


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
    # An array node: ``index`` is None and ``elements`` holds one row per probed element (each
    # with its ``index``); ``total`` is the node's element count, so the UI can say "12 of 600
    # elements, sampled". analytic/numeric/error are then the worst element's.
    index: tuple | None = None
    elements: tuple = ()
    total: int = 1

    @property
    def sampled(self) -> bool:
        """True when only some of an array node's elements were probed."""
        return bool(self.elements) and len(self.elements) < self.total

    @property
    def unchecked(self) -> bool:
        """Skipped with the gradient left unverified (the output or the node has no usable
        value, finite differences could not decide, ...), as opposed to skipped because
        there is nothing to check (no path to the output, integer class targets)."""
        return self.ok is None and self.reason not in NOTHING_TO_CHECK

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
    defs = c.definitions
    for n in c.tape().order:
        # a node kind's extra output slots have keys that are not node ids; a kind's node
        # (a dataset) is data, not a computation to check. Inside instances: a constant of a
        # definition (definition, id) and an inlined op (instance, ..., id) are checked too.
        if not (n in c.nx or _composite_key(n, defs)):
            continue
        if c.op(n) == NUMBER or (ops and c.op(n) in OPS):
            rows.append(_check(c, n, root, scale, eps, rtol, atol))
    return rows


def _composite_key(key, definitions) -> bool:
    """Whether a tape key addresses a node of a definition: ``(definition, id)`` for a constant,
    ``(instance, ..., id)`` (ints) for a node inside an instance."""
    if type(key) is not tuple or len(key) < 2:
        return False
    if type(key[0]) is str:
        return key[0] in definitions
    return all(type(k) is int for k in key)


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


def passed(rows) -> bool:
    """True when no row is a mismatch and none is :attr:`CheckRow.unchecked`: what
    ``gradcanvas check`` exits 0 on."""
    return not any(r.ok is False or r.unchecked for r in rows)


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
    # (Every slot's value, instances' insides included.)
    scale = max((_magnitude(x) for x in c.evaluation()[1] if x is not None and _finite(x)), default=0.0)
    return c, c.evaluated_output_ref(), scale


def _magnitude(x) -> float:
    if type(x) is np.ndarray:
        return float(np.max(np.abs(x))) if x.size else 0.0
    return abs(x)


def _total(v):
    """An output as one number: an array output counts as the sum of its elements (what
    backward seeds it with)."""
    if type(v) is np.ndarray:
        return float(np.sum(v))
    return v


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
    out = _total(c.value(*root))
    if type(v) is np.ndarray and analytic is not None and out is not None and _finite(out):
        return _check_array(c, n, root, scale, eps, rtol, atol, row)
    if out is None:
        return row(analytic, reason=f"the output {c.label(root[0])} has no value: {c.why_no_value(*root)}")
    if not _finite(out):
        return row(analytic, reason=f"the output is {_kind(out)}")
    if analytic is None:
        return row(None, reason=NO_PATH)
    if v is None:
        return row(analytic, reason=f"the node has no value: {c.why_no_value(n)}")
    if not _finite(v):
        return row(analytic, reason=f"the node's value is {_kind(v)}")
    if not _finite(analytic):
        return row(analytic, reason=f"the analytic gradient is {_kind(analytic)}")
    # The analytic value has rounding error of its own: where its terms cancel (x/x at tiny x
    # sums -1/x and +1/x), that error can dwarf the exact answer.
    terms = [abs(a) for *_, a in c.contributions(n) if _finite(a)]
    atol += _ROUNDOFF * sum(terms) if n != root[0] else 0.0
    f, reset = _probe(c, n, root)
    try:
        return _judge(row, analytic, v, _probes(f, v, out, eps, scale), rtol, atol)
    finally:
        reset()  # leave the private tape as it was


def _check_array(c: Graph, n, root, scale, eps, rtol, atol, row, max_elements=None, seed=0) -> CheckRow:
    """One row for an array node: every element checked (a seeded sample of at most
    MAX_ELEMENTS_CHECKED for bigger arrays), the worst element's numbers on the row."""
    v = c.value(n)
    grad = c.grad(n)
    out = _total(c.value(*root))
    limit = MAX_ELEMENTS_CHECKED if max_elements is None else max_elements
    if v.dtype.kind != "f":
        return row(None, reason=INTEGER_TARGETS)
    if v.size <= limit:
        flat = range(v.size)
    else:
        flat = sorted(np.random.default_rng(seed).choice(v.size, size=limit, replace=False).tolist())
    f_array, reset = _probe(c, n, root)
    rows = []
    try:
        for k in flat:
            idx = tuple(int(i) for i in np.unravel_index(k, v.shape))

            def f(x, idx=idx):
                w = v.copy()
                w[idx] = x
                return f_array(w)

            a = float(grad[idx])
            x = float(v[idx])

            def erow(analytic, numeric=None, ok=None, error=None, reason="", idx=idx):
                label = f"{c.label(n)}{list(idx)}"
                return CheckRow(n, label, c.op(n), analytic, numeric, ok, error, reason, idx)

            if not (_finite(a) and _finite(x)):
                rows.append(erow(a, reason="the element or its gradient is not finite"))
                continue
            rows.append(_judge(erow, a, x, _probes(f, x, out, eps, scale), rtol, atol))
    finally:
        reset()
    bad = [r for r in rows if r.ok is False]
    checked = [r for r in rows if r.ok is not None]
    worst = max(bad or checked or rows, key=lambda r: r.error or 0.0)
    how = f"{len(rows)} of {v.size} elements{' (sampled)' if len(rows) < v.size else ''}"
    if bad:
        ok, reason = False, f"{len(bad)} of {how} mismatch; worst at {list(worst.index)}: {worst.reason}"
    elif checked:
        ok, reason = True, f"{how} agree"
    else:
        ok, reason = None, f"no element could be checked ({worst.reason})"
    return CheckRow(
        n, c.label(n), c.op(n), worst.analytic, worst.numeric, ok, worst.error, reason,
        None, tuple(rows), v.size,
    )


def check_elements(graph: Graph, node, output=None, max_elements=MAX_ELEMENTS_CHECKED, seed=0,
                   eps=1e-6, rtol=1e-4, atol=1e-6) -> CheckRow:
    """The per-element check of an array node (number or op): its ``elements`` hold one row
    per probed element, at most ``max_elements`` of them (a sample, seeded, for bigger
    arrays; ``row.sampled`` says so). A scalar node gives its ordinary row.

    >>> import numpy as np
    >>> g = Graph.from_expression("sum(x * x)", x=np.array([1.0, 2.0]))
    >>> r = check_elements(g, "x"); r.ok, [e.analytic for e in r.elements]
    (True, [2.0, 4.0])
    """
    _check_tolerances(eps, rtol, atol)
    if isinstance(max_elements, bool) or not isinstance(max_elements, int) or max_elements < 1:
        raise ValueError(f"max_elements must be a whole number of at least 1, not {max_elements!r}")
    c, root, scale = _prepared(graph, output)
    n = c.resolve(node)
    v = c.value(n)
    if type(v) is not np.ndarray or c.grad(n) is None or c.value(*root) is None:
        return _check(c, n, root, scale, eps, rtol, atol)

    def row(analytic, numeric=None, ok=None, error=None, reason=""):
        return CheckRow(n, c.label(n), c.op(n), analytic, numeric, ok, error, reason)

    return _check_array(c, n, root, scale, eps, rtol, atol, row, max_elements, seed)


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
    i, r = tape.index[n], tape.slot(*root)
    if tape.ops[i] is not None:
        ops, parents = list(tape.ops), list(tape.parents)
        ops[i], parents[i] = None, ()
        tape = dataclasses.replace(
            tape,
            ops=ops,
            parents=parents,
            numbers=list(tape.numbers),
            _fwd=[step for step in tape._fwd if step[0] != i],
            _plans={},
        )
    original = tape.numbers[i]

    def f(x):
        tape.set_number(i, x)
        return _total(autodiff.forward(tape)[r])

    def reset():
        tape.set_number(i, original)

    return f, reset


def _mismatch(analytic, numeric) -> str:
    return f"analytic {analytic:.6g} but the output moves at {numeric:.6g}"


def _finite(v) -> bool:
    if type(v) is np.ndarray:
        return v.dtype.kind != "f" or bool(np.all(np.isfinite(v)))
    return v is not None and not isinstance(v, complex) and math.isfinite(v)


def _kind(v) -> str:
    return "NaN" if v != v else ("inf" if v > 0 else "-inf")


__all__ = ["CheckRow", "all_ok", "check_elements", "check_node", "gradient_check", "passed", "summary"]
