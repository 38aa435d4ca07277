"""The gradient as a graph: :func:`grad` (``torch.autograd.grad``'s contract),
``Value.backward(create_graph=True)`` and ``Graph.gradient_graph``.

Reverse mode is one sweep over the Values an output depends on, in reverse topological
order. With ``create_graph`` every amount sent back is built from ordinary ops by each row's
derivative stated as ops (``Op.as_ops``: tanh sends ``g * (1 - y * y)``, matmul ``g @ b.T``
and ``a.T @ g``), reading the forward Values themselves (no copies): the gradient is a graph
like any other, so it can be differentiated again, drawn and stepped. Without it the same
sweep runs the rows' numeric rules, exactly as ``backward()`` does, but into a private dict:
``.grad`` is never touched.

>>> from engine import Value
>>> x = Value(0.5)
>>> (dy,) = grad(x.tanh(), x, create_graph=True)   # 1 - tanh(x)**2, as Values
>>> (d2y,) = grad(dy, x)                           # -2 tanh(x) (1 - tanh(x)**2)
>>> round(dy.data, 6), round(d2y, 6)
(0.786448, -0.726862)
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field

import numpy as np

from .arrays import shape_of
from .composites import CALL
from .errors import GraphError, NoOutputError, PortNotConnectedError
from .inlining import inline_copy, is_constant_key
from .ops import NUMBER, OPS, _float, array_vjp
from .ops import local as _safe_local
from .value import Value, apply_op

_nd = np.ndarray


class NoPathError(GraphError):
    """An input the output does not depend on (``allow_unused=False``)."""


# ---------------------------------------------------------------------------- the sweep


def _topo_many(outputs) -> list:
    """Every Value the outputs depend on, inputs before users (one order for all of them)."""
    order, seen = [], set()
    for out in outputs:
        if out in seen:
            continue
        for v in out._topo():
            if v not in seen:
                seen.add(v)
                order.append(v)
    return order


def _ins(v) -> tuple:
    b = v._b
    return (v._a,) if b is None else (v._a, b)


def _needed(order, wanted) -> set:
    """The Values on a path from one of ``wanted`` (inclusive): only they need gradients."""
    needs = set()
    for v in order:
        if v in wanted:
            needs.add(v)
            continue
        op = v._opname
        if op:
            if v._a in needs or (v._b is not None and v._b in needs):
                needs.add(v)
        elif op is None and any(k in needs for k in v._kids):
            needs.add(v)
    return needs


def _times(g, d):
    try:
        return g * d
    except OverflowError:  # an int beyond float range: as a float it is ±inf
        return _float(g) * _float(d)


def _fit(c: Value, x: Value) -> Value:
    """An amount in its input's shape: summed back (``sum_to``) where broadcasting made it
    bigger, read from the input at run time."""
    cd, xd = c.data, x.data
    if (type(cd) is _nd or type(xd) is _nd) and shape_of(cd) != shape_of(xd):
        return c.sum_to(x)
    return c


def _as_ops(node, g) -> tuple:
    """The amounts ``node`` sends back for gradient ``g`` (a Value), as ops (None: none)."""
    row = OPS[node._opname]
    ins = _ins(node)
    if row.vjp is None:  # a scalar row states its local derivatives; multiply by what arrives
        out = []
        for x, d in zip(ins, row.as_ops(*ins, node)):
            if not isinstance(d, Value):
                if d is None or d == 0:
                    out.append(None)
                    continue
                c = g if d == 1 else (-g if d == -1 else g * d)
            else:
                c = g * d
            out.append(_fit(c, x))
        return tuple(out)
    cs = row.as_ops(g, *ins, node, **(node._params or {}))
    return tuple(None if c is None else _fit(c, x) for c, x in zip(cs, ins))


def _numbers(node, g) -> tuple:
    """The amounts ``node`` sends back for gradient ``g`` (a number or array): the row's
    numeric rule, as ``backward()`` computes it."""
    row = OPS[node._opname]
    ins = _ins(node)
    y = node.data
    scalars = type(g) is not _nd and type(y) is not _nd and all(type(x.data) is not _nd for x in ins)
    if row.vjp is None and scalars:
        args = [x.data for x in ins]
        try:
            ds = row.local(*args, y)
        except (ArithmeticError, ValueError, TypeError):
            ds = _safe_local(row, args, y)
        return tuple(_times(g, d) for d in ds)
    return array_vjp(row, g, [x.data for x in ins], y, node._params)


def _unknown(node) -> TypeError:
    what = f"{node._op!r} " if node._op else ""
    label = f" ({node.label})" if node.label else ""
    return TypeError(
        f"a hand-built node{label} with op {what}that the op table does not know has no "
        "derivative to differentiate through: build it from table ops, or use backward()"
    )


def sweep(outputs, seeds, wanted, create_graph: bool, sends: dict | None = None) -> tuple[dict, list]:
    """Reverse mode from ``outputs`` (Values) with ``seeds`` (one per output), computing the
    gradient of every Value on a path from one of ``wanted`` to an output. Returns
    ``(grads, order)``: Value -> its accumulated gradient (a Value with ``create_graph``, else
    a number or array; absent where nothing arrived) and the topological order swept.
    ``sends``, if given, gets ``(node, port) -> amount`` for every amount sent back."""
    order = _topo_many(outputs)
    needs = _needed(order, wanted)
    grads: dict = {}
    for out, s in zip(outputs, seeds):
        grads[out] = s if out not in grads else grads[out] + s
    send = _as_ops if create_graph else _numbers
    for node in reversed(order):
        g = grads.get(node)
        if g is None or node not in needs:
            continue
        op = node._opname
        if not op:
            if op is None:
                raise _unknown(node)
            continue
        for port, (x, c) in enumerate(zip(_ins(node), send(node, g))):
            if c is None or x not in needs:
                continue
            if sends is not None:
                sends[node, port] = c
            prev = grads.get(x)
            grads[x] = c if prev is None else prev + c
    return grads, order


# ---------------------------------------------------------------------------- engine.grad


def _as_values(things, what) -> list:
    if isinstance(things, Value):
        return [things]
    try:
        items = list(things)
    except TypeError:
        raise TypeError(
            f"{what} must be a Value or a sequence of Values, not {type(things).__name__}"
        ) from None
    if not items:
        raise ValueError(f"{what} is empty: give at least one Value")
    for v in items:
        if not isinstance(v, Value):
            raise TypeError(f"{what} must hold Values, not {type(v).__name__}")
    return items


def _seed(out: Value, given, create_graph: bool):
    """What backward starts from at ``out``: ``given`` (None: 1), an array output's seeded
    with ones in its shape (the gradient of its sum); as a Value with ``create_graph``."""
    shape = out.shape
    if isinstance(given, Value):
        if given.shape not in ((), shape):
            raise ValueError(f"grad_outputs: shape {given.shape} does not match the output's {shape}")
        if create_graph:
            return given.broadcast_to(out) if shape and not given.shape else given
        given = given.data
    if given is None:
        given = 1
    if isinstance(given, np.ndarray):
        if given.shape != shape:
            raise ValueError(f"grad_outputs: shape {given.shape} does not match the output's {shape}")
        given = np.array(given, dtype=np.float64)
    elif isinstance(given, bool) or not isinstance(given, numbers.Real):
        raise TypeError(f"grad_outputs must hold numbers, arrays or Values, not {type(given).__name__}")
    if create_graph:
        v = type(out)(given)
        return v.broadcast_to(out) if shape and not v.shape else v
    if shape and type(given) is not _nd:
        return np.full(shape, float(given))
    return given


def _zero(x: Value, create_graph: bool):
    z = np.zeros(x.shape) if x.shape else 0.0
    return type(x)(z) if create_graph else z


def grad(output, inputs, create_graph: bool = False, allow_unused: bool = False, grad_outputs=None) -> tuple:
    """The gradients of ``output`` with respect to ``inputs``, like ``torch.autograd.grad``.

    ``output``: a Value (or a sequence of Values, whose gradients add up); ``inputs``: a Value
    or a sequence of them (leaves or intermediate nodes). Returns a tuple with one gradient per
    input: a number or array, or with ``create_graph=True`` a Value built from ordinary ops
    that reads the forward Values themselves (no copies), so ``grad`` of it gives second
    derivatives. An array output is seeded with ones (the gradient of its sum) unless
    ``grad_outputs`` gives the seed (one per output: a number, an array of the output's shape,
    or a Value). An input the output does not depend on raises :class:`NoPathError`, or gives
    None with ``allow_unused=True``; one it depends on only through ops with no slope (sign,
    a comparison) gets 0. ``.grad`` is never read or written.

    >>> from engine import Value
    >>> a = Value(3.0); e = (a * 4 + 3) * (a + 2)
    >>> grad(e, a), a.grad
    ((35.0,), 0)
    >>> (da,) = grad(e, [a], create_graph=True); grad(da, a)
    (8,)
    """
    outputs = _as_values(output, "output")
    xs = _as_values(inputs, "inputs")
    if grad_outputs is None:
        given = [None] * len(outputs)
    elif isinstance(output, Value):
        given = [grad_outputs]
    else:
        given = list(grad_outputs) if isinstance(grad_outputs, (list, tuple)) else [grad_outputs]
        if len(given) != len(outputs):
            raise ValueError(f"grad_outputs has {len(given)} entries for {len(outputs)} outputs")
    create_graph = bool(create_graph)
    seeds = [_seed(o, s, create_graph) for o, s in zip(outputs, given)]
    grads, order = sweep(outputs, seeds, set(xs), create_graph)
    reached = set(order)
    result = []
    for k, x in enumerate(xs):
        if x not in reached:
            if allow_unused:
                result.append(None)
                continue
            what = f" ({x.label})" if x.label else ""
            raise NoPathError(
                f"inputs[{k}]{what} is not used to compute the output, so it has no gradient; "
                "pass allow_unused=True to get None for it"
            )
        g = grads.get(x)
        result.append(_zero(x, create_graph) if g is None else g)
    return tuple(result)


def backward_graph(output: Value, seed=None) -> None:
    """``output.backward(seed, create_graph=True)``: every node ``output`` depends on gets
    its gradient as a Value built from ops, added to what its ``.grad`` holds (PyTorch's
    rule: a second call adds a second graph; ``zero_grad()`` starts over)."""
    (s,) = [_seed(output, seed, True)]
    order = output._topo()
    grads, _ = sweep([output], [s], set(order), True)
    for node in order:
        new = grads.get(node)
        if new is None:
            continue
        old = node.grad
        node.grad = new if old is None or (type(old) is int and old == 0) else old + new


# ---------------------------------------------------------------------------- as a Graph


@dataclass
class GradientGraph:
    """The backward pass of a document as a graph, from :func:`gradient_graph`.

    ``graph`` is a copy of the document (same ids, names, positions, values; its output
    pinned) plus the backward nodes, each tagged ``role = "backward"``, with fresh ids above
    the document's. Wires from document nodes into backward nodes are the forward values the
    backward pass reads (what backprop keeps in memory): ``saved`` lists those nodes.
    ``grads`` maps each requested node to the node holding its gradient (None: no path to
    the output); ``grad_nodes`` does so for every node the pass reached; ``sends`` maps
    ``(node, port)`` to the node computing the amount ``node`` sends back along that input
    (the contribution step-through shows); ``seed`` is the node backward starts from;
    ``nodes`` the backward nodes in topological order; ``forward`` maps each slot the pass
    read (a tape key: a node id, an instance path, a constant ``(definition, id)``) to its
    node in ``graph``.

    A document with instances is drawn flat (:func:`engine.core.inlining.inline_copy`): the
    backward nodes read values from inside instances, so those become top-level nodes; a
    definition's constant stays one node read by every use, and ``grads``/``grad_nodes``
    keep the document's addresses as keys (``("neuron", 3)`` for a constant).
    """

    graph: object
    output: int
    grads: dict
    grad_nodes: dict = field(default_factory=dict)
    sends: dict = field(default_factory=dict)
    saved: list = field(default_factory=list)
    nodes: list = field(default_factory=list)
    seed: int | None = None
    forward: dict = field(default_factory=dict)


def forward_values(graph, out) -> dict:
    """A document's computation as Values: ``out`` and every node it depends on, in tape
    order, node id -> Value (PortNotConnectedError when one has no value). What the second
    order tools differentiate twice."""
    tape, slot_vals, _grads, _root = graph.evaluation()
    need = {out}
    order = tape.order
    for i in range(tape.index[out], -1, -1):
        n = order[i]
        if n in need:
            for j in tape.parents[i]:
                if j is not None:
                    need.add(order[j])
    made: dict = {}
    for i, n in enumerate(order):
        if n not in need:
            continue
        # a node kind's extra outputs (a dataset's y_train) have keys of their own, not ids
        node = n if n in graph.nx else n[0]
        if slot_vals[i] is None:
            why = graph.problems().get(node, "it has no value")
            raise PortNotConnectedError(
                f"the output {graph.label(out)} depends on {graph.label(node)}: {why}"
            )
        op = tape.ops[i]
        if op is None:
            made[n] = Value(slot_vals[i])
        else:
            ins = [made[order[j]] for j in tape.parents[i]]
            made[n] = apply_op(op.name, ins, tape.params[i] or None)
    return made


def gradient_graph(graph, output=None, wrt=None) -> GradientGraph:
    """The backward pass of ``graph`` from ``output`` (default: the document's output) as a
    graph of ordinary ops (see :class:`GradientGraph`); ``wrt`` is a node, a list of nodes,
    or None for every number node the output depends on. ``graph`` itself is not changed.

    Evaluating the result gives each gradient node the value ``graph.grad`` has for its
    node; differentiating a gradient node gives second derivatives.

    >>> from engine import Graph
    >>> g = Graph.from_expression("y = tanh(x)", x=0.5)
    >>> r = gradient_graph(g, "y", ["x"])
    >>> dx = r.grads[g.resolve("x")]
    >>> round(r.graph.value(dx), 6) == round(g.grad("x"), 6), r.graph.name(dx)
    (True, '∂y/∂x')
    """
    ref = graph.output_ref() if output is None else (graph.resolve(output), 0)
    if ref is None:
        raise NoOutputError(
            "the backward graph needs an output: set one" if len(graph) else "the graph is empty"
        )
    tape = graph.tape()
    # an instance's output (and a node kind's port p >= 1) is a slot with a key of its own
    root_key = tape.order[tape.slot(*ref)]
    made = forward_values(graph, root_key)
    if wrt is None:
        targets = [
            n for n in made
            if is_constant_key(n) or (n in graph.nx and graph.op(n) == NUMBER)
        ]
    else:
        refs = [wrt] if isinstance(wrt, (int, str)) else list(wrt)
        targets = list(dict.fromkeys(graph.locate(r) for r in refs))
    keys = {t: _tape_key(tape, t) for t in targets}
    root = made[root_key]
    seed = _seed(root, None, True)
    sends: dict = {}
    wanted = {made[k] for k in keys.values() if k in made}
    grads, _ = sweep([root], [seed], wanted, True, sends)
    return _as_graph(graph, ref, root_key, made, grads, sends, keys, seed)


def _tape_key(tape, addr):
    """The tape key holding ``addr``'s value (an instance: its output 0); None for a node of
    a definition that has no single value (not a constant)."""
    slot = tape.index.get(addr)
    return None if slot is None else tape.order[slot]


def _as_graph(graph, ref, root_key, made, grads, sends, keys, seed) -> GradientGraph:
    from .graph import check_value

    forward = {v: n for n, v in made.items()}
    roots = [g for g in grads.values()] + list(sends.values())
    # The backward Values, inputs before users; forward Values are where the walk stops.
    order: list = []
    seen = set(forward)
    for r in roots:
        if r in seen:
            continue
        seen.add(r)
        stack = [r]
        while stack:
            v = stack[-1]
            todo = [x for x in _ins(v) if x not in seen] if v._opname else []
            if todo:
                seen.add(todo[0])
                stack.append(todo[0])
                continue
            order.append(stack.pop())
    tape = graph.tape()
    if tape.calls:  # backward nodes are top-level: what they read must be top-level too
        result, where = inline_copy(graph)
    else:
        result, where = graph.copy(), {}
    # a node kind's output p >= 1 (a dataset's y_train) is a slot with a key of its own: a
    # wire from it leaves (node, p)
    wire_from = {
        tape.order[slot]: r for r, slot in tape.outputs.items()
        if type(r[0]) is int and graph.op(r[0]) != CALL  # an instance's are inlined now
    }

    def node_of(key):
        return wire_from.get(key) or (where.get(key, key), 0)

    out = node_of(root_key)
    result.set_output(*out)
    ids: dict = {v: node_of(k) for v, k in forward.items()}
    saved: set = set()
    for v in order:
        op = v._opname
        if not op:
            n = result.add_number(check_value(v.data if type(v.data) is _nd else _float(v.data)))
        else:
            n = result.add_op(op, params=v._params if OPS[op].params else None)
            for port, x in enumerate(_ins(v)):
                src, sp = ids[x]
                result.connect(src, n, port, source_port=sp)
                if x in forward:
                    saved.add(src)
        result.set_role(n, "backward")
        ids[v] = (n, 0)
    grad_nodes = {forward[v]: ids[g][0] for v, g in grads.items() if v in forward}
    named = set()
    for t, k in keys.items():
        gn = grad_nodes.get(k)
        if gn is None or gn in named or not graph.name(t):  # ∂y/∂a for named nodes only
            continue
        name = f"∂{graph.label(ref[0])}/∂{graph.label(t)}"
        if len(name) <= 64 and name not in result and _nameable(result, gn, name):
            result.set_name(gn, name)
            named.add(gn)
    r = GradientGraph(
        result,
        out[0],
        {t: grad_nodes.get(k) for t, k in keys.items()},
        grad_nodes,
        {(forward[v], port): ids[c][0] for (v, port), c in sends.items()},
        sorted(saved),
        [ids[v][0] for v in order],
        ids[seed][0] if seed in ids else None,
        {k: node_of(k)[0] for k in made},
    )
    _place(r, relayout=bool(where))
    return r


def _nameable(g, n, name) -> bool:
    try:
        g.check_set_name(n, name)
    except GraphError:
        return False
    return True


def _place(r: GradientGraph, relayout: bool = False) -> None:
    """Positions for the backward nodes: their own layered layout, mirrored so it runs right
    to left (the seed under the output, each input's gradient toward its input), below the
    forward nodes (laid out afresh when instances were inlined: their insides came out on
    top of their neighbours)."""
    import networkx as nx

    from ..drawing.layout import layered_positions

    g = r.graph
    back = set(r.nodes)
    front = [n for n in g.nodes() if n not in back]

    def sub_of(nodes):
        sub = nx.MultiDiGraph()
        keep = set(nodes)
        sub.add_nodes_from((n, g.nx.nodes[n]) for n in nodes)
        sub.add_edges_from((s, t, p) for s, t, p in g.nx.edges(keys=True) if s in keep and t in keep)
        return sub

    if relayout and front:
        for n, (x, y) in layered_positions(sub_of(front)).items():
            g.set_position(n, x, y)
    if not r.nodes:
        return
    # A big backward graph is stacked column by column without crossing reduction: at that
    # size it is read as a whole, and the reduction was most of Show Backward Graph's second
    # on a 1,000-node document (benchmarks/backward_graph.py).
    pos = layered_positions(sub_of(r.nodes), refine_limit=REFINE_LIMIT)
    fwd = [g.position(n) for n in front]
    right = max((x for x, _ in fwd), default=0.0)
    bottom = max((y for _, y in fwd), default=0.0)
    xs = [x for x, _ in pos.values()]
    ys = [y for _, y in pos.values()]
    shift_x = right + min(xs)  # mirrored: x -> right - (x - min)
    shift_y = bottom + GAP - min(ys)
    for n, (x, y) in pos.items():
        g.set_position(n, shift_x - x, y + shift_y)


GAP = 220.0
REFINE_LIMIT = 600
"""Vertical room between the document's lowest node and the backward graph's top row."""


__all__ = [
    "GradientGraph",
    "NoPathError",
    "backward_graph",
    "forward_values",
    "grad",
    "gradient_graph",
    "sweep",
]
