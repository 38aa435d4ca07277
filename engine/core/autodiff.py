"""Forward pass and reverse-mode backward over a compiled tape.

The tape is the graph flattened once per topology change into *slots*: one slot per value,
in topological order, each a number or an op row applied to earlier slots. A value edit only
rewrites one slot of ``numbers`` and re-runs the two loops below; networkx is not touched.

Both passes are plain loops (no recursion), so a 1,000,000-node chain works, and each slot is
visited once, so a diamond ladder costs one pass rather than one per path.

Outputs are addressed by (node, output port). A number or an op row is one slot, its output
port 0: ``tape.index[node]``. A wire carries the source port it leaves from (edge attribute
``source_port``, absent for 0), and the slot it reads is ``tape.slot(source, source_port)``.

How a node with several outputs plugs in (composite instances, data sets): it is a *kind*
(:class:`engine.core.kinds.NodeKind`), not a row of the op table. When the tape is compiled,
the kind's ``compile(build, node, attrs, inputs)`` gets a :class:`TapeBuilder` and one slot
per input port (None where unconnected) and appends the slots it needs with
``build.number(value, key)`` and ``build.op(row, parents, key, params)``: an instance inlines
its body there, a data set appends one number slot per output. It returns one slot per output
port; port 0 becomes ``tape.index[node]``, port p >= 1 ``tape.outputs[(node, p)]``, and every
consumer wired from (node, p) reads that slot. ``build.receives(port, slot, slot_port)`` says
which appended slot reads input ``port``, so the amount sent back along a wire into the node
(``Graph.contributions``, step mode) is found. Keys of appended slots (``tape.order[slot]``)
are the kind's to choose (tuples, e.g. ``(instance, body_id)``); ``tape.index`` finds them too.
Forward, backward, plans and steps run on slots and need no change for a new kind.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import networkx as nx
import numpy as np

from . import kinds
from .arrays import ShapeError, shape_of, shape_text
from .nonfinite import describe
from .ops import NUMBER, OPS, apply_checked, out_shape, vjp_quiet
from .ops import apply as safe_apply
from .ops import local as safe_local


@dataclass
class Tape:
    """A graph compiled for evaluation. Built by :func:`compile_tape`. Lists are per slot."""

    order: list  # slot -> key: the node id whose output port 0 it is, else its kind's key
    index: dict  # key -> slot; a node id gives its output port 0
    ops: list  # Op, or None for a number slot
    parents: list  # per slot: tuple of input slots per port (None: unconnected)
    numbers: list  # per slot: the number's value (None for op slots)
    defined: list  # per slot: False where an input is missing upstream
    _fwd: list = field(default_factory=list)  # (i, forward, j, k) for defined op slots
    _bwd: list = field(default_factory=list)  # per slot: (local, j, k) or None
    _plans: dict = field(default_factory=dict)  # root slot -> plan(), see below
    params: list = field(default_factory=list)  # per slot: the op's params dict ({} if none)
    tensor_ops: int = 0  # how many tensor rows (matmul, sum, ...) the tape has
    array_numbers: int = 0  # how many numbers hold an array; both 0: the scalar loops run
    _shapes_ok: dict = field(default_factory=dict)  # slot -> (input shapes, params) accepted
    outputs: dict = field(default_factory=dict)  # (node, port) -> slot, output ports >= 1
    receivers: dict = field(default_factory=dict)  # (node, port) -> ((slot, slot_port), ...)
    kinds: int = 0  # how many nodes a kind compiled (0: every node is one slot of its own)
    calls: dict = field(default_factory=dict)  # instance path -> composites.CallRecord

    def __len__(self):
        return len(self.order)

    @property
    def has_arrays(self) -> bool:
        return bool(self.tensor_ops or self.array_numbers)

    def slot(self, node, port: int = 0) -> int:
        """The slot holding output ``port`` of ``node`` (KeyError if there is none)."""
        return self.index[node] if port == 0 else self.outputs[(node, port)]

    def wire_reads(self, target, port: int) -> tuple:
        """Where the wire into input ``port`` of ``target`` is read: ``((slot, slot_port),
        ...)``; for a number or an op row, its own slot at that port."""
        got = self.receivers.get((target, port))
        return ((self.index[target], port),) if got is None else got

    def set_number(self, i: int, value) -> None:
        """Put a new value into number slot ``i``, keeping the array count right."""
        old = self.numbers[i]
        self.array_numbers += (type(value) is np.ndarray) - (type(old) is np.ndarray)
        self.numbers[i] = value


class TapeBuilder:
    """Appends slots to a tape being compiled: what a node kind's ``compile`` is given (see
    the module docstring). Slots are appended in order, so parents must be earlier slots."""

    def __init__(self, tape: Tape):
        self.tape = tape
        self.node = None  # the node being compiled

    def number(self, value, key) -> int:
        """Append a number slot holding ``value``; returns its slot."""
        t = self.tape
        i = len(t.order)
        t.order.append(key)
        t.index[key] = i
        t.ops.append(None)
        t.parents.append(())
        t.numbers.append(value)
        t.array_numbers += type(value) is np.ndarray
        t.defined.append(True)
        t._bwd.append(None)
        t.params.append(None)
        return i

    def op(self, op, parents, key, params=None) -> int:
        """Append a slot computing row ``op`` of earlier slots ``parents`` (one per input
        port, None where unconnected); returns its slot."""
        t = self.tape
        i = len(t.order)
        ps = tuple(parents)
        if len(ps) != op.arity:
            raise ValueError(f"{op.name} takes {op.arity} inputs, not {len(ps)}")
        t.order.append(key)
        t.index[key] = i
        t.tensor_ops += op.tensor
        t.params.append(params or {})
        j = ps[0]
        k = ps[1] if op.arity == 2 else -1
        defined = t.defined
        ok = j is not None and k is not None and defined[j] and (k < 0 or defined[k])
        t.ops.append(op)
        t.parents.append(ps)
        t.numbers.append(None)
        defined.append(ok)
        if ok:
            t._fwd.append((i, op.forward, j, k))
            t._bwd.append((op.local, j, k))
        else:
            t._bwd.append(None)
        return i

    def receives(self, port: int, slot: int, slot_port: int) -> None:
        """Input ``port`` of the node being compiled is read by input ``slot_port`` of
        ``slot`` (call once per such use)."""
        key = (self.node, port)
        self.tape.receivers[key] = (*self.tape.receivers.get(key, ()), (slot, slot_port))


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
    """Flatten ``g`` (nodes with an ``op`` attribute, edges keyed by input port, with a
    ``source_port`` attribute where it is not 0) into a Tape."""
    topo = _topological_order(g)
    tape = Tape([], {}, [], [], [], [], [], [], {}, [])
    order, index = tape.order, tape.index
    # The raw node and predecessor dicts: the public views build an object per lookup, which
    # made this loop several times slower on a 1,000,000-node chain.
    nodes = g._node
    pred = g._pred
    ops, parents, numbers, defined, params = tape.ops, tape.parents, tape.numbers, tape.defined, tape.params
    fwd, bwd = tape._fwd, tape._bwd
    outputs = tape.outputs
    tensor_ops = array_numbers = 0
    builder = None
    for n in topo:
        i = len(order)
        attrs = nodes[n]
        name = attrs["op"]
        if name == NUMBER:
            order.append(n)
            index[n] = i
            ops.append(None)
            parents.append(())
            value = attrs["value"]
            numbers.append(value)
            array_numbers += type(value) is np.ndarray
            defined.append(True)
            bwd.append(None)
            params.append(None)
            continue
        op = OPS.get(name)
        arity = op.arity if op is not None else kinds.get(name).arity(attrs)
        ps = [None] * arity
        for src, ports in pred[n].items():
            for port, d in ports.items():
                # d is empty unless the wire leaves from an output port other than 0
                ps[port] = outputs[(src, d["source_port"])] if d and d.get("source_port") else index[src]
        if op is None:
            tape.tensor_ops, tape.array_numbers = tensor_ops, array_numbers
            builder = builder or TapeBuilder(tape)
            _compile_kind(builder, n, attrs, tuple(ps))
            tensor_ops, array_numbers = tape.tensor_ops, tape.array_numbers
            continue
        order.append(n)
        index[n] = i
        tensor_ops += op.tensor
        params.append(attrs.get("params") or {})
        ps = tuple(ps)
        j = ps[0]
        k = ps[1] if arity == 2 else -1
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
    tape.tensor_ops, tape.array_numbers = tensor_ops, array_numbers
    return tape


def _compile_kind(builder: TapeBuilder, n, attrs, inputs) -> None:
    """Let node ``n``'s kind append its slots; file its output ports."""
    kind = kinds.get(attrs["op"])
    builder.node = n
    outs = tuple(kind.compile(builder, n, attrs, inputs))
    want = kind.output_arity(attrs)
    if len(outs) != want:
        raise ValueError(f"kind {kind.name!r} compiled {len(outs)} outputs for node {n}, not {want}")
    tape = builder.tape
    tape.kinds += 1
    for p, slot in enumerate(outs):
        if p == 0:
            tape.index[n] = slot
        else:
            tape.outputs[(n, p)] = slot


def forward(tape: Tape, errors: dict | None = None, only=None, start: list | None = None) -> list:
    """Values per tape index; None where the node is undefined (an input is unconnected, or
    shapes do not fit: then ``errors``, if given, gets index -> the message).

    ``only`` (a set of indices) computes just those op rows; the other op rows keep their
    value in ``start`` (a previous pass's values), numbers are read from the tape as always:
    the pictures over the plane evaluate the prediction's ancestors, then only what the
    labels they predicted reach.
    """
    rows = tape._fwd if only is None else [r for r in tape._fwd if r[0] in only]
    if tape.tensor_ops or tape.array_numbers:
        return _forward_arrays(tape, {} if errors is None else errors, rows, start)
    vals = _start(tape, start)
    for i, f, j, k in rows:
        try:
            vals[i] = f(vals[j], vals[k]) if k >= 0 else f(vals[j])
        except (ArithmeticError, ValueError, TypeError):
            vals[i] = safe_apply(tape.ops[i], [vals[p] for p in tape.parents[i]])
    return vals


def _start(tape: Tape, start) -> list:
    if start is None:
        return list(tape.numbers)
    return [v if op is not None else n for v, op, n in zip(start, tape.ops, tape.numbers)]


def _forward_arrays(tape: Tape, errors: dict, rows=None, start=None) -> list:
    """:func:`forward` for a tape with arrays: per node, the scalar rule when every input is
    a number and the row is elementwise, else the row's array rule."""
    vals = _start(tape, start)
    ops, params, parents = tape.ops, tape.params, tape.parents
    nd = np.ndarray
    # A node's shapes are checked once per change of its inputs' shapes (and parameters):
    # re-evaluating after a value edit, a descent step, re-checks nothing.
    accepted = tape._shapes_ok
    with np.errstate(all="ignore"):
        for i, f, j, k in tape._fwd if rows is None else rows:
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
    "TapeBuilder",
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
