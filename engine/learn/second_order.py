"""Second order for small graphs: the Hessian over chosen numbers (scalars and array
elements), the Jacobian of an array output, Newton's method beside gradient descent, and the
output over a grid of two numbers (for a contour plot with both walks drawn).

Everything is differentiated by the engine itself: the document becomes Values, the
gradient is built as a graph (``engine.grad(create_graph=True)``) and differentiated again,
one reverse pass per Hessian row.

>>> from engine import Graph
>>> g = Graph.from_expression("f = x*x*y + y*y", x=1.0, y=2.0)
>>> h = hessian(g, ["x", "y"]); h.matrix.tolist(), h.labels
([[4.0, 2.0], [2.0, 2.0]], ['x', 'y'])
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from ..core.errors import InvalidValueError, NoOutputError
from ..core.graph import Graph
from ..core.higher_order import forward_values, grad
from ..core.ops import NUMBER
from ..core.value import Value
from .descent import DescentResult, _check_steps, _finite, _kind, _output, _total, _trainable

MAX_ENTRIES = 400
"""Most numbers (scalars plus array elements) a Hessian or Jacobian may span: each row is one
reverse pass, and the matrix is drawn as a heatmap."""


@dataclass
class Hessian:
    """The Hessian of an output over ``entries`` ((node, index) pairs; index () for a
    scalar), with ``labels`` for them (``x``, ``W[0, 1]``) and the ``gradient`` there."""

    matrix: np.ndarray
    entries: list
    labels: list
    gradient: np.ndarray
    output: int

    @property
    def eigenvalues(self) -> np.ndarray:
        """Eigenvalues of the symmetric part, ascending (all positive: a local minimum); NaN
        when an entry is not finite."""
        if not np.all(np.isfinite(self.matrix)):
            return np.full(len(self.matrix), np.nan)
        return np.linalg.eigvalsh((self.matrix + self.matrix.T) / 2)

    @property
    def asymmetry(self) -> float:
        """max |H - Hᵀ|: zero up to rounding for a smooth output."""
        return float(np.max(np.abs(self.matrix - self.matrix.T))) if self.matrix.size else 0.0


@dataclass
class Jacobian:
    """d(output element)/d(entry): one row per element of the output (``rows``, their
    indices), one column per entry (``entries``, ``labels``)."""

    matrix: np.ndarray
    rows: list
    entries: list
    labels: list
    output: int


def _label(graph, n, index) -> str:
    base = graph.label(n)
    return base if index == () else f"{base}[{', '.join(map(str, index))}]"


def entries(graph: Graph, wrt=None, output=None) -> list:
    """The (node, index) pairs ``wrt`` names: a node (all its elements), ``(node, index)``
    for one element, or a list of those; None: every named number the output depends on
    (every number when none is named; integer class targets left out). InvalidValueError past
    :data:`MAX_ENTRIES`."""
    if wrt is None:
        out = _out(graph, output)
        tape = graph.tape()
        reach = {out}
        for i in range(tape.index[out], -1, -1):
            if tape.order[i] in reach:
                reach.update(tape.order[j] for j in tape.parents[i] if j is not None)
        wrt = [n for n in tape.order if n in reach and graph.op(n) == NUMBER
               and np.asarray(graph.number(n)).dtype.kind == "f"]
        named = [n for n in wrt if graph.name(n)]
        wrt = named or wrt  # the named numbers (x, W), not constants such as an exponent 2
    elif isinstance(wrt, (int, str)) or (
        isinstance(wrt, tuple) and len(wrt) == 2 and isinstance(wrt[1], tuple)
    ):
        wrt = [wrt]
    out = []
    for item in wrt:
        if isinstance(item, tuple):
            ref, index = item
            n = graph.resolve(ref)
            shape = np.shape(graph.value(n))
            index = tuple(int(k) for k in index)
            if len(index) != len(shape) or not all(0 <= k < s for k, s in zip(index, shape)):
                raise InvalidValueError(f"{graph.label(n)} has shape {shape}: no element {list(index)}")
            out.append((n, index))
        else:
            n = graph.resolve(item)
            if graph.value(n) is None:
                raise InvalidValueError(f"{graph.label(n)} has no value")
            out.extend((n, idx) for idx in np.ndindex(*np.shape(graph.value(n))))
        if len(out) > MAX_ENTRIES:
            raise InvalidValueError(
                f"more than {MAX_ENTRIES} numbers chosen: second order views are for small graphs"
            )
    return list(dict.fromkeys(out))


def _out(graph: Graph, output) -> int:
    out = graph.output_node() if output is None else graph.resolve(output)
    if out is None:
        raise NoOutputError("second order needs an output: set one" if len(graph) else "the graph is empty")
    return out


def _flat(values, ents, nodes) -> np.ndarray:
    """The entries' elements of per-node gradients (None: zeros) as one vector."""
    out = np.zeros(len(ents))
    for k, (n, idx) in enumerate(ents):
        g = values[nodes.index(n)]
        if g is not None:
            out[k] = float(np.asarray(g, dtype=float)[idx]) if idx else float(g)
    return out


def _onehot(shape, idx):
    e = np.zeros(shape)
    e[idx] = 1.0
    return e


def hessian(graph: Graph, wrt=None, output=None) -> Hessian:
    """The Hessian of ``output`` (default: the document's; an array output counts as the sum
    of its elements, as backward seeds it) over the numbers ``wrt`` names (see
    :func:`entries`). ``graph`` is not changed."""
    out = _out(graph, output)
    ents = entries(graph, wrt, out)
    made = forward_values(graph, out)
    nodes = list(dict.fromkeys(n for n, _ in ents))
    xs = [made.get(n) or Value(graph.value(n)) for n in nodes]
    firsts = grad(made[out], xs, create_graph=True, allow_unused=True)
    gradient = _flat([None if f is None else f.data for f in firsts], ents, nodes)
    rows = []
    for n, idx in ents:
        f = firsts[nodes.index(n)]
        if f is None:
            rows.append(np.zeros(len(ents)))
            continue
        seed = _onehot(f.shape, idx) if idx else None
        rows.append(_flat(grad(f, xs, allow_unused=True, grad_outputs=seed), ents, nodes))
    matrix = np.array(rows).reshape(len(ents), len(ents))
    return Hessian(matrix, ents, [_label(graph, n, i) for n, i in ents], gradient, out)


def jacobian(graph: Graph, output, wrt=None) -> Jacobian:
    """d(output)/d(wrt) for an array (or scalar) ``output`` node: one reverse pass per
    output element. At most :data:`MAX_ENTRIES` output elements."""
    out = graph.resolve(output)
    ents = entries(graph, wrt, out)
    made = forward_values(graph, out)
    y = made[out]
    if int(np.prod(y.shape)) > MAX_ENTRIES:
        raise InvalidValueError(f"{graph.label(out)} has more than {MAX_ENTRIES} elements")
    nodes = list(dict.fromkeys(n for n, _ in ents))
    xs = [made.get(n) or Value(graph.value(n)) for n in nodes]
    rows, matrix = [], []
    for idx in np.ndindex(*y.shape):
        seed = _onehot(y.shape, idx) if idx else None
        matrix.append(_flat(grad(y, xs, allow_unused=True, grad_outputs=seed), ents, nodes))
        rows.append(idx)
    return Jacobian(np.array(matrix).reshape(len(rows), len(ents)), rows, ents,
                    [_label(graph, n, i) for n, i in ents], out)


def newton_direction(h: Hessian, damping: float = 0.0) -> np.ndarray:
    """-(H + damping·I)⁻¹ g, by least squares where H is singular."""
    a = h.matrix + damping * np.eye(len(h.gradient))
    try:
        step = -np.linalg.solve(a, h.gradient)
    except np.linalg.LinAlgError:
        step = -np.linalg.lstsq(a, h.gradient, rcond=None)[0]
    if not np.all(np.isfinite(step)):
        step = -np.linalg.lstsq(a, h.gradient, rcond=None)[0]
    return step


def plan_newton(
    graph: Graph,
    steps: int = 20,
    trainable: Iterable | None = None,
    damping: float = 0.0,
    on_step: Callable[[int, float], object] | None = None,
) -> DescentResult:
    """Newton's method on a copy of ``graph``, the counterpart of
    :func:`engine.learn.descent.plan_descent` (same result, with ``path`` kept): each step
    moves the trainable numbers by -(H + damping·I)⁻¹ ∇ (``lr`` in the result is the
    damping). It stops early when the step no longer moves anything (converged), or with the
    reason when a value, a gradient or the output stops being finite. ``graph`` is not
    touched; apply ``result.final`` (the GUI does, as one undo step).

    >>> from engine import Value
    >>> x = Value(0.0, name="x"); g = ((x - 3) ** 2 + 1).graph()
    >>> r = plan_newton(g, steps=5); r.final == {g.resolve("x"): 3.0}, r.stopped
    (True, 'converged after 1 step')
    """
    steps = _check_steps(steps)
    if isinstance(damping, bool) or not isinstance(damping, (int, float)) or not (
        math.isfinite(damping) and damping >= 0
    ):
        raise ValueError(f"damping must be a finite number of at least 0, not {damping!r}")
    out = _output(graph)
    nodes = _trainable(graph, trainable)
    work = graph.copy()
    result = DescentResult(out, nodes, steps_requested=steps, lr=float(damping))
    current = {n: work.number(n) for n in nodes}
    result.initial = dict(current)
    result.final = current
    result.path.append(dict(current))
    y = _total(work.value(out))
    result.history.append(y)
    if not _finite(y):
        result.stopped = f"the output is {_kind(y)} at the start"
        return result
    if on_step is not None and on_step(0, y) is False:
        result.stopped = "stopped by the caller"
        return result
    for k in range(1, steps + 1):
        h = hessian(work, nodes, out)
        if not (np.all(np.isfinite(h.gradient)) and np.all(np.isfinite(h.matrix))):
            result.stopped = f"step {k}: the gradient or the Hessian is not finite"
            break
        step = newton_direction(h, damping)
        moved = {}
        for (n, idx), d in zip(h.entries, step):
            v = moved.get(n, current[n])
            if idx:
                v = np.array(v, dtype=float)
                v[idx] += d
            else:
                v = float(v + d)
            moved[n] = v
        if all(np.array_equal(moved[n], current[n]) for n in moved):
            result.stopped = f"converged after {k - 1} step{'s' if k != 2 else ''}"
            break
        if not all(_finite(v) for v in moved.values()):
            result.stopped = f"step {k}: a value would stop being finite"
            break
        for n, v in moved.items():
            work.set_value(n, v)
        y = _total(work.value(out))
        if not _finite(y):
            for n in moved:
                work.set_value(n, current[n])
            result.stopped = f"step {k}: the output became {_kind(y)}"
            break
        current.update(moved)
        result.history.append(y)
        result.path.append(dict(current))
        if on_step is not None and on_step(k, y) is False:
            result.stopped = "stopped by the caller"
            break
    result.final = dict(current)
    return result


def output_grid(graph: Graph, x, y, x_range, y_range, n: int = 60, output=None):
    """The output over an ``n`` × ``n`` grid of two scalar numbers ``x`` and ``y`` (the
    others as they are): ``(xs, ys, Z)`` with ``Z[i, j]`` at ``(xs[j], ys[i])``, NaN where
    the output is not finite, for a contour plot. One vectorised pass when the graph is
    elementwise, else one evaluation per point on a copy."""
    if isinstance(n, bool) or not isinstance(n, int) or not 2 <= n <= 500:
        raise ValueError(f"n must be a whole number from 2 to 500, not {n!r}")
    out = _out(graph, output)
    nx_, ny_ = graph.resolve(x), graph.resolve(y)
    for m in (nx_, ny_):
        if graph.op(m) != NUMBER or np.ndim(graph.number(m)):
            raise InvalidValueError(f"{graph.label(m)} must be a scalar number to span a grid")
    xs = np.linspace(*map(float, x_range), n)
    ys = np.linspace(*map(float, y_range), n)
    gx, gy = np.meshgrid(xs, ys)
    work = graph.copy()
    if not work.has_arrays():
        work.set_value(nx_, gx)
        work.set_value(ny_, gy)
        z = work.value(out)
        if z is not None and np.shape(z) == gx.shape:
            return xs, ys, np.where(np.isfinite(z), z, np.nan)
        work = graph.copy()
    z = np.empty(gx.shape)
    for i in range(n):
        for j in range(n):
            work.set_value(nx_, float(gx[i, j]))
            work.set_value(ny_, float(gy[i, j]))
            v = work.value(out)
            v = _total(v) if v is not None else math.nan
            z[i, j] = v if math.isfinite(v) else math.nan
    return xs, ys, z


__all__ = ["Hessian", "Jacobian", "MAX_ENTRIES", "entries", "hessian", "jacobian", "newton_direction",
           "output_grid", "plan_newton"]
