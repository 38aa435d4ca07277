"""Forward pass and reverse-mode backward over a compiled tape.

The tape is the graph flattened once per topology change: node ids in topological order and,
for each op node, its op and the tape indices of its inputs. A value edit only rewrites one
slot of ``numbers`` and re-runs the two loops below; networkx is not touched.

Both passes are plain loops (no recursion), so a 1,000,000-node chain works, and each node is
visited once, so a diamond ladder costs one pass rather than one per path.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import networkx as nx
import numpy as np

from .arrays import ShapeError, shape_of, shape_text
from .nonfinite import describe
from .ops import NUMBER, OPS, apply_checked, out_shape, vjp_quiet
from .ops import apply as safe_apply
from .ops import local as safe_local


@dataclass
class Tape:
    """A graph compiled for evaluation. Built by :func:`compile_tape`."""

    order: list  # node ids, topological order
    index: dict  # node id -> tape index
    ops: list  # Op, or None for a number node
    parents: list  # per index: tuple of input indices per port (None: unconnected)
    numbers: list  # per index: the number's value (None for op nodes)
    defined: list  # per index: False where an input is missing upstream
    _fwd: list = field(default_factory=list)  # (i, forward, j, k) for defined op nodes
    _bwd: list = field(default_factory=list)  # per index: (local, j, k) or None
    _plans: dict = field(default_factory=dict)  # root index -> plan(), see below
    params: list = field(default_factory=list)  # per index: the op's params dict ({} if none)
    tensor_ops: int = 0  # how many tensor rows (matmul, sum, ...) the tape has
    array_numbers: int = 0  # how many numbers hold an array; both 0: the scalar loops run
    _shapes_ok: dict = field(default_factory=dict)  # index -> (input shapes, params) accepted

    def __len__(self):
        return len(self.order)

    @property
    def has_arrays(self) -> bool:
        return bool(self.tensor_ops or self.array_numbers)

    def set_number(self, i: int, value) -> None:
        """Put a new value into number slot ``i``, keeping the array count right."""
        old = self.numbers[i]
        self.array_numbers += (type(value) is np.ndarray) - (type(old) is np.ndarray)
        self.numbers[i] = value


def _topological_order(g: nx.MultiDiGraph) -> list:
    """``list(nx.topological_sort(g))``, the same order (generation by generation, each in
    networkx's order), on the raw adjacency dicts: about three times faster on the 66k-node
    MLP loss. Raises networkx's NetworkXUnfeasible on a cycle, as it does."""
    succ, pred = g._succ, g._pred
    indegree = {}
    zero = []
    for v, ins in pred.items():
        d = sum(map(len, ins.values())) if ins else 0
        if d:
            indegree[v] = d
        else:
            zero.append(v)
    order = []
    while zero:
        generation, zero = zero, []
        for node in generation:
            for child, keys in succ[node].items():
                left = indegree[child] - len(keys)
                if left:
                    indegree[child] = left
                else:
                    zero.append(child)
                    del indegree[child]
        order.extend(generation)
    if indegree:
        raise nx.NetworkXUnfeasible("Graph contains a cycle or graph changed during iteration")
    return order


def compile_tape(g: nx.MultiDiGraph) -> Tape:
    """Flatten ``g`` (nodes with an ``op`` attribute, edges keyed by port) into a Tape."""
    order = _topological_order(g)
    index = {n: i for i, n in enumerate(order)}
    # The raw node and predecessor dicts: the public views build an object per lookup, which
    # made this loop several times slower on a 1,000,000-node chain.
    nodes = g._node
    pred = g._pred
    ops, parents, numbers, defined, params = [], [], [], [], []
    fwd, bwd = [], []
    tensor_ops = array_numbers = 0
    for i, n in enumerate(order):
        attrs = nodes[n]
        name = attrs["op"]
        if name == NUMBER:
            ops.append(None)
            parents.append(())
            value = attrs["value"]
            numbers.append(value)
            array_numbers += type(value) is np.ndarray
            defined.append(True)
            bwd.append(None)
            params.append(None)
            continue
        op = OPS[name]
        tensor_ops += op.tensor
        params.append(attrs.get("params") or {})
        ps = [None] * op.arity
        for src, ports in pred[n].items():
            for port in ports:
                ps[port] = index[src]
        ps = tuple(ps)
        j = ps[0]
        k = ps[1] if op.arity == 2 else -1
        ok = j is not None and k is not None and defined[j] and (k < 0 or defined[k])
        ops.append(op)
        parents.append(ps)
        numbers.append(None)
        defined.append(ok)
        if ok:
            fwd.append((i, op.forward, j, k))
            bwd.append((op.local, j, k))
        else:
            bwd.append(None)
    return Tape(order, index, ops, parents, numbers, defined, fwd, bwd, {}, params, tensor_ops, array_numbers)


def forward(tape: Tape, errors: dict | None = None) -> list:
    """Values per tape index; None where the node is undefined (an input is unconnected, or
    shapes do not fit: then ``errors``, if given, gets index -> the message)."""
    if tape.tensor_ops or tape.array_numbers:
        return _forward_arrays(tape, {} if errors is None else errors)
    vals = list(tape.numbers)
    for i, f, j, k in tape._fwd:
        try:
            vals[i] = f(vals[j], vals[k]) if k >= 0 else f(vals[j])
        except (ArithmeticError, ValueError, TypeError):
            vals[i] = safe_apply(tape.ops[i], [vals[p] for p in tape.parents[i]])
    return vals


def _forward_arrays(tape: Tape, errors: dict) -> list:
    """:func:`forward` for a tape with arrays: per node, the scalar rule when every input is
    a number and the row is elementwise, else the row's array rule."""
    vals = list(tape.numbers)
    ops, params, parents = tape.ops, tape.params, tape.parents
    nd = np.ndarray
    # A node's shapes are checked once per change of its inputs' shapes (and parameters):
    # re-evaluating after a value edit, a descent step, re-checks nothing.
    accepted = tape._shapes_ok
    with np.errstate(all="ignore"):
        for i, f, j, k in tape._fwd:
            a = vals[j]
            b = vals[k] if k >= 0 else 0.0
            if a is None or b is None:  # a shape problem upstream
                continue
            op = ops[i]
            if not op.tensor and type(a) is not nd and type(b) is not nd:
                try:
                    vals[i] = f(a, b) if k >= 0 else f(a)
                except (ArithmeticError, ValueError, TypeError):
                    vals[i] = safe_apply(op, [vals[p] for p in parents[i]])
                continue
            args = [vals[p] for p in parents[i]]
            key = (tuple(shape_of(v) for v in args), repr(params[i]))
            try:
                if accepted.get(i) != key:
                    out_shape(op, key[0], params[i])
                    accepted[i] = key
                vals[i] = apply_checked(op, args, params[i])
            except ShapeError as e:
                errors[i] = str(e)
            except MemoryError:
                errors[i] = f"{op.name}: the result is too large for memory"
    return vals


def _amounts(tape: Tape, vals: list, i: int, g) -> tuple:
    """What node ``i`` sends back along each input port for output gradient ``g``."""
    op = tape.ops[i]
    ps = tape.parents[i]
    args = [vals[p] for p in ps]
    y = vals[i]
    nd = np.ndarray
    if not op.tensor and type(g) is not nd and type(y) is not nd and all(type(a) is not nd for a in args):
        return tuple(g * d for d in safe_local(op, args, y))
    return vjp_quiet(op, g, args, y, tape.params[i])  # callers hold np.errstate(all="ignore")


def output_seed(value, seed=1.0):
    """The gradient backward starts from: ``seed`` for a number; for an array output, an
    array of ``seed`` in its shape (the gradient of its sum), which :func:`seed_note` says."""
    if type(value) is np.ndarray:
        return np.full(value.shape, float(seed))
    return seed


def seed_note(value) -> str | None:
    """What to tell the user when backward starts from a non-scalar output, else None."""
    if type(value) is not np.ndarray:
        return None
    return (
        f"the output is a {shape_text(value.shape)} array: backward starts from ones in that "
        "shape, i.e. the gradient of the sum of its elements"
    )


def plan(tape: Tape, root: int):
    """What backward from ``root`` visits, cached on the tape: the op rows of the root's
    ancestors in reverse topological order, and a gradient template (0.0 for ancestors,
    None for nodes with no path to the root). Computed once per topology and root."""
    cached = tape._plans.get(root)
    if cached is None:
        reach = [False] * len(tape.order)
        reach[root] = True
        rows = []
        parents, bwd = tape.parents, tape._bwd
        for i in range(root, -1, -1):
            if reach[i]:
                for j in parents[i]:
                    if j is not None:
                        reach[j] = True
                row = bwd[i]
                if row is not None:
                    rows.append((i, *row))
        template = [0.0 if r else None for r in reach]
        cached = tape._plans[root] = (rows, template)
    return cached


def backward(tape: Tape, vals: list, root: int, seed=1.0) -> list:
    """Reverse-mode pass from tape index ``root``: the accumulated gradient of every node,
    None where it has no path to the root (or the root itself is undefined).

    Each op node is processed once, after all its consumers, and adds ``grad * local`` into
    each input: that sum over a value's uses is exactly the seed notebook's accumulation.
    """
    if vals[root] is None:
        return [None] * len(vals)
    rows, template = plan(tape, root)
    grads = template.copy()
    if tape.tensor_ops or tape.array_numbers:
        grads[root] = output_seed(vals[root], seed)
        with np.errstate(all="ignore"):
            for row in rows:
                i = row[0]
                for j, amount in zip(tape.parents[i], _amounts(tape, vals, i, grads[i])):
                    grads[j] = grads[j] + amount
        return grads
    grads[root] = seed
    for i, loc, j, k in rows:
        g = grads[i]
        if k >= 0:
            try:
                da, db = loc(vals[j], vals[k], vals[i])
            except (ArithmeticError, ValueError, TypeError):
                da, db = safe_local(tape.ops[i], (vals[j], vals[k]), vals[i])
            grads[j] += g * da
            grads[k] += g * db
        else:
            try:
                (da,) = loc(vals[j], vals[i])
            except (ArithmeticError, ValueError, TypeError):
                (da,) = safe_local(tape.ops[i], (vals[j],), vals[i])
            grads[j] += g * da
    return grads


def sends(tape: Tape, vals: list, grads: list, root: int) -> list:
    """Per tape index, the tuple of amounts the node sent back along each input port during
    backward (None where it sent nothing). Same arithmetic as :func:`backward`, so the
    amounts into a node sum to its gradient; computed on demand, for display."""
    sent = [None] * len(vals)
    if vals[root] is None:
        return sent
    with np.errstate(all="ignore"):
        for row in plan(tape, root)[0]:
            i = row[0]
            sent[i] = _amounts(tape, vals, i, grads[i])
    return sent


def steps(tape: Tape, vals: list, root: int, seed=1.0):
    """The backward pass as a list of steps, one per processed node, in processing order.

    Each step is ``(node_index, grad, [(port, input_index, amount, before, after), ...])``
    where ``before``/``after`` are the input's accumulated gradient around this step. The
    amounts are exactly those :func:`backward` computes; running all steps gives its result.
    """
    grads = [None] * len(vals)
    out = []
    if vals[root] is None:
        return out
    grads[root] = output_seed(vals[root], seed)
    for i in range(root, -1, -1):
        g = grads[i]
        if g is None:
            continue
        op = tape.ops[i]
        if op is None or tape._bwd[i] is None:
            out.append((i, g, []))
            continue
        ps = tape.parents[i]
        with np.errstate(all="ignore"):
            amounts = _amounts(tape, vals, i, g)
        sends = []
        for port, (j, amount) in enumerate(zip(ps, amounts)):
            before = grads[j]
            after = amount if before is None else before + amount
            grads[j] = after
            sends.append((port, j, amount, before, after))
        out.append((i, g, sends))
    return out


def problem(tape: Tape, vals: list, i: int, errors: dict | None = None) -> str | None:
    """Why node i has no usable value, in words, or None if it is fine. ``errors`` are the
    shape messages :func:`forward` collected."""
    op = tape.ops[i]
    ps = tape.parents[i]
    if op is not None and not tape.defined[i]:
        missing = [op.ports[p] for p, j in enumerate(ps) if j is None]
        if missing:
            return "input " + ", ".join(f"'{m}'" for m in missing) + " is not connected"
        return "an input depends on an unconnected port upstream"
    v = vals[i]
    if errors and i in errors:
        return errors[i]
    if v is None and op is not None:
        return "an input has a shape problem upstream"
    if type(v) is np.ndarray:
        return _array_problem(op, v, [vals[j] for j in ps] if op is not None else [])
    if v is None or (isinstance(v, float) and math.isfinite(v)) or isinstance(v, int):
        return None
    kind = "NaN" if v != v else ("inf" if v > 0 else "-inf")
    if op is None:
        return f"value is {kind}"
    args = [vals[j] for j in ps]
    if any(not _finite(a) for a in args):
        nan = any(np.any(np.isnan(a)) if type(a) is np.ndarray else a != a for a in args)
        return f"{kind}: an input is already {('NaN' if nan else 'infinite')}"
    return f"{kind}: {describe(op, args, v)}"


def _array_problem(op, v, args) -> str | None:
    if v.dtype.kind != "f":
        return None
    bad = ~np.isfinite(v)
    count = int(bad.sum())
    if not count:
        return None
    first = tuple(int(k) for k in np.argwhere(bad)[0])
    kind = "NaN" if np.isnan(v[first]) else ("inf" if v[first] > 0 else "-inf")
    where = f"{kind} in {count} of {v.size} elements (first at {list(first)})"
    if op is None:
        return where
    if any(not np.all(np.isfinite(a)) for a in args if a is not None):
        return f"{where}: an input already has non-finite elements"
    return f"{where}: {describe(op, args, v)}"


def _finite(v) -> bool:
    if type(v) is np.ndarray:
        return bool(np.all(np.isfinite(v)))
    return v == v and v not in (math.inf, -math.inf)


__all__ = [
    "Tape",
    "compile_tape",
    "forward",
    "backward",
    "plan",
    "sends",
    "steps",
    "problem",
    "output_seed",
    "seed_note",
]
