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

from .ops import NAN, OPS
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

    def __len__(self):
        return len(self.order)


def compile_tape(g: nx.MultiDiGraph) -> Tape:
    """Flatten ``g`` (nodes with an ``op`` attribute, edges keyed by port) into a Tape."""
    order = list(nx.topological_sort(g))
    index = {n: i for i, n in enumerate(order)}
    nodes = g.nodes
    ops, parents, numbers, defined = [], [], [], []
    fwd, bwd = [], []
    for i, n in enumerate(order):
        attrs = nodes[n]
        name = attrs["op"]
        if name == "number":
            ops.append(None)
            parents.append(())
            numbers.append(attrs["value"])
            defined.append(True)
            bwd.append(None)
            continue
        op = OPS[name]
        ps = [None] * op.arity
        for src, _, port in g.in_edges(n, keys=True):
            ps[port] = index[src]
        ps = tuple(ps)
        ok = all(j is not None and defined[j] for j in ps)
        ops.append(op)
        parents.append(ps)
        numbers.append(None)
        defined.append(ok)
        if ok:
            j = ps[0]
            k = ps[1] if op.arity == 2 else -1
            fwd.append((i, op.forward, j, k))
            bwd.append((op.local, j, k))
        else:
            bwd.append(None)
    return Tape(order, index, ops, parents, numbers, defined, fwd, bwd)


def forward(tape: Tape) -> list:
    """Values per tape index; None where the node is undefined (an input is unconnected)."""
    vals = list(tape.numbers)
    for i, f, j, k in tape._fwd:
        try:
            vals[i] = f(vals[j], vals[k]) if k >= 0 else f(vals[j])
        except (ArithmeticError, ValueError, TypeError):
            vals[i] = safe_apply(tape.ops[i], [vals[p] for p in tape.parents[i]])
    return vals


def backward(tape: Tape, vals: list, root: int, seed=1.0):
    """Reverse-mode pass from tape index ``root``.

    Returns ``(grads, sent)``: ``grads[i]`` is the accumulated gradient of node i (None where
    it has no path to the root), ``sent[i]`` the tuple of amounts node i sent back along each
    input port (None where node i was not processed).
    """
    n = len(vals)
    grads = [None] * n
    sent = [None] * n
    if vals[root] is None:
        return grads, sent
    grads[root] = seed
    bwd = tape._bwd
    for i in range(root, -1, -1):
        g = grads[i]
        if g is None:
            continue
        row = bwd[i]
        if row is None:
            continue
        loc, j, k = row
        if k >= 0:
            try:
                da, db = loc(vals[j], vals[k], vals[i])
            except (ArithmeticError, ValueError, TypeError):
                da, db = safe_local(tape.ops[i], (vals[j], vals[k]), vals[i])
            ca = g * da
            cb = g * db
            sent[i] = (ca, cb)
            gj = grads[j]
            grads[j] = ca if gj is None else gj + ca
            gk = grads[k]
            grads[k] = cb if gk is None else gk + cb
        else:
            try:
                (da,) = loc(vals[j], vals[i])
            except (ArithmeticError, ValueError, TypeError):
                (da,) = safe_local(tape.ops[i], (vals[j],), vals[i])
            ca = g * da
            sent[i] = (ca,)
            gj = grads[j]
            grads[j] = ca if gj is None else gj + ca
    return grads, sent


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
    grads[root] = seed
    for i in range(root, -1, -1):
        g = grads[i]
        if g is None:
            continue
        op = tape.ops[i]
        if op is None or tape._bwd[i] is None:
            out.append((i, g, []))
            continue
        ps = tape.parents[i]
        loc = safe_local(op, [vals[p] for p in ps], vals[i])
        sends = []
        for port, (j, d) in enumerate(zip(ps, loc)):
            amount = g * d
            before = grads[j]
            after = amount if before is None else before + amount
            grads[j] = after
            sends.append((port, j, amount, before, after))
        out.append((i, g, sends))
    return out


def problem(tape: Tape, vals: list, i: int) -> str | None:
    """Why node i has no usable value, in words, or None if it is fine."""
    op = tape.ops[i]
    ps = tape.parents[i]
    if op is not None and not tape.defined[i]:
        missing = [op.ports[p] for p, j in enumerate(ps) if j is None]
        if missing:
            return "input " + ", ".join(f"'{m}'" for m in missing) + " is not connected"
        return "an input depends on an unconnected port upstream"
    v = vals[i]
    if v is None or (isinstance(v, float) and math.isfinite(v)) or isinstance(v, int):
        return None
    kind = "NaN" if v != v else ("inf" if v > 0 else "-inf")
    if op is None:
        return f"value is {kind}"
    args = [vals[j] for j in ps]
    if any(not _finite(a) for a in args):
        return f"{kind}: an input is already {('NaN' if any(a != a for a in args) else 'infinite')}"
    shown = ", ".join(_fmt(a) for a in args)
    return f"{kind}: {op.name}({shown}) is outside the op's finite range"


def _finite(v) -> bool:
    return v == v and v not in (math.inf, -math.inf)


def _fmt(v) -> str:
    return f"{v:.6g}" if isinstance(v, float) else str(v)


__all__ = ["Tape", "compile_tape", "forward", "backward", "steps", "problem", "NAN"]
