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

from .ops import NUMBER, OPS
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

    def __len__(self):
        return len(self.order)


def compile_tape(g: nx.MultiDiGraph) -> Tape:
    """Flatten ``g`` (nodes with an ``op`` attribute, edges keyed by port) into a Tape."""
    order = list(nx.topological_sort(g))
    index = {n: i for i, n in enumerate(order)}
    # The raw node and predecessor dicts: the public views build an object per lookup, which
    # made this loop several times slower on a 1,000,000-node chain.
    nodes = g._node
    pred = g._pred
    ops, parents, numbers, defined = [], [], [], []
    fwd, bwd = [], []
    for i, n in enumerate(order):
        attrs = nodes[n]
        name = attrs["op"]
        if name == NUMBER:
            ops.append(None)
            parents.append(())
            numbers.append(attrs["value"])
            defined.append(True)
            bwd.append(None)
            continue
        op = OPS[name]
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
    for row in plan(tape, root)[0]:
        i = row[0]
        ps = tape.parents[i]
        loc = safe_local(tape.ops[i], [vals[p] for p in ps], vals[i])
        g = grads[i]
        sent[i] = tuple(g * d for d in loc)
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


__all__ = ["Tape", "compile_tape", "forward", "backward", "plan", "sends", "steps", "problem"]
