"""Group and ungroup as plans: what :meth:`Graph.group` and :meth:`Graph.ungroup` change,
worked out before anything is touched (a refusal leaves the graph as it was).

Grouping a selection (DESIGN §7):

- every wire into the selection from outside is an input port; an output used by several
  selected nodes is one port; inputs are ordered by first use (the body's topological order,
  then port);
- a selected node's output is an output port when it has a consumer outside, is the
  document's output, or the node has no consumer at all; outputs come in the body's
  topological order (then output port);
- a port is named after its node (``x1``), else ``in1``, ``out1`` (by position);
- a selection that leaves itself and comes back (grouping would make a cycle) is refused
  with the path named.

Ungrouping puts the body back: the body's ids and names where they are free, else new ones;
positions moved by how far the instance moved since (none right after grouping, so ungroup
after group gives back the same document); constants become plain numbers.

>>> from engine import Graph
>>> g = Graph.from_expression("y = a*b + b", a=2.0, b=3.0)
>>> p = plan_group(g, [g.resolve("a@0") if "a@0" in g else 3, 4], "f")
>>> [name for name, *_ in p.inputs], [name for name, *_ in p.outputs]
(['a', 'b'], ['y'])
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

from .composites import CALL, PLACEHOLDERS, CompositeError, outside_only
from .errors import CycleError, GraphError, NodeNotFoundError
from .ops import NUMBER, OPS

PORT_GAP = 60.0  # vertical spacing of placeholders in a new body
PORT_MARGIN = 220.0  # how far left/right of the body its placeholders sit


@dataclass
class GroupPlan:
    """What grouping changes. ``nodes`` are the selection in body order; ``inputs`` are
    ``(port name, (outer source, source port), [(body node, port), ...])``; ``outputs`` are
    ``(port name, (body node, source port), [(outer node, port), ...])``; ``internal`` the
    wires among the selection ``(source, source_port, target, port)``; ``output`` the output
    port that carries the document's output (None if it stays outside)."""

    name: str
    nodes: list
    inputs: list
    outputs: list
    internal: list
    position: tuple
    output: int | None
    input_places: list = field(default_factory=list)
    output_places: list = field(default_factory=list)


@dataclass
class UngroupPlan:
    """What ungrouping changes: ``ids`` maps body ids to the new nodes' ids, ``nodes`` are
    the new nodes' attributes (with "id"), ``wires`` ``(source, source_port, target, port)``
    to add once the instance is gone, ``output`` the (node, port) the document's output moves
    to if it was on the instance."""

    instance: int
    ids: dict
    nodes: list
    wires: list
    output: tuple | None


def _wires_in(g, n):
    """(source, source_port, port) of every wire into ``n``."""
    for s, ports in g.nx._pred[n].items():
        for p, d in ports.items():
            yield s, (d.get("source_port", 0) if d else 0), p


def _wires_out(g, n):
    """(target, port, source_port) of every wire out of ``n``."""
    for t, ports in g.nx._succ[n].items():
        for p, d in ports.items():
            yield t, p, (d.get("source_port", 0) if d else 0)


def selection(g, nodes) -> list:
    """The selection as node ids (unique, in the order given); refuses an empty one, unknown
    nodes and port placeholders."""
    if isinstance(nodes, (str, bytes, int)) or not hasattr(nodes, "__iter__"):
        raise GraphError(f"group takes a list of nodes, not {type(nodes).__name__}")
    out: dict[int, None] = {}
    for ref in nodes:
        n = g.resolve(ref)
        if not isinstance(n, int):
            raise NodeNotFoundError(f"node {ref!r} is not a node of this graph")
        op = g.nx._node[n]["op"]
        if op in PLACEHOLDERS:
            raise CompositeError(f"node {g.label(n)} is a port of the definition and cannot be grouped")
        if op not in OPS and op != CALL:
            raise CompositeError(f"node {g.label(n)} cannot be grouped: {outside_only(op)}; group the "
                                 "selection without it")
        out[n] = None
    if not out:
        raise GraphError("nothing to group: select at least one node")
    return list(out)


def _cycle_path(g, sel: set) -> list | None:
    """A path ``[selected, outside..., selected]`` by which the selection leaves itself and
    comes back, or None."""
    succ, pred = g.nx._succ, g.nx._pred
    # Outside nodes downstream of the selection, with the node each was reached from.
    down: dict = {}
    todo = deque()
    for n in sel:
        for t in succ[n]:
            if t not in sel and t not in down:
                down[t] = n
                todo.append(t)
    while todo:
        u = todo.popleft()
        for t in succ[u]:
            if t not in sel and t not in down:
                down[t] = u
                todo.append(t)
    # Walk up from the selection through outside nodes until one of them is downstream.
    up: dict = {}
    todo = deque()
    for n in sel:
        for s in pred[n]:
            if s not in sel and s not in up:
                up[s] = n
                todo.append(s)
    while todo:
        u = todo.popleft()
        if u in down:
            head = [u]
            while head[-1] not in sel:
                head.append(down[head[-1]])
            tail = [u]
            while tail[-1] not in sel:
                tail.append(up[tail[-1]])
            return list(reversed(head)) + tail[1:]
        for s in pred[u]:
            if s not in sel and s not in up:
                up[s] = u
                todo.append(s)
    return None


def body_order(g, sel: set) -> list:
    """The selection in topological order of the wires among it (networkx's order within a
    generation, as the tape compiler)."""
    pred = g.nx._pred
    indegree = {n: sum(len(ps) for s, ps in pred[n].items() if s in sel) for n in g.nx if n in sel}
    ready = [n for n, d in indegree.items() if d == 0]
    order = []
    succ = g.nx._succ
    while ready:
        generation, ready = ready, []
        for n in generation:
            for t, ps in succ[n].items():
                if t in sel:
                    indegree[t] -= len(ps)
                    if indegree[t] == 0:
                        ready.append(t)
        order.extend(generation)
    return order


def _unique(name: str, taken: set, fallback: str) -> str:
    if name in taken:
        name = fallback
    k = 2
    base = name
    while name in taken:
        name, k = f"{base}_{k}", k + 1
    taken.add(name)
    return name


def plan_group(g, nodes, name: str) -> GroupPlan:
    """How grouping ``nodes`` of ``g`` into a definition ``name`` would go (see the module
    docstring); raises CycleError naming the path for a selection that leaves and re-enters
    itself, and GraphError for an empty or unknown selection."""
    order_in = selection(g, nodes)
    sel = set(order_in)
    path = _cycle_path(g, sel)
    if path:
        shown = " -> ".join(g.label(n) for n in path[:12]) + (" -> …" if len(path) > 12 else "")
        raise CycleError(
            f"grouping would make a cycle: the selection leaves itself and comes back ({shown}); "
            "add the nodes in between to the selection, or leave out one end"
        )
    order = body_order(g, sel)
    nodes_attr = g.nx._node

    inputs: list = []
    where: dict = {}
    for n in order:
        for s, sp, p in sorted(_wires_in(g, n), key=lambda w: w[2]):
            if s in sel:
                continue
            key = (s, sp)
            if key not in where:
                where[key] = len(inputs)
                inputs.append([None, key, []])
            inputs[where[key]][2].append((n, p))

    out_ref = g.output_ref()
    outputs: list = []
    output_port = None
    for n in order:
        consumed = list(_wires_out(g, n))
        for sp in range(g._output_arity(n)):
            outside = sorted((t, p) for t, p, s_p in consumed if s_p == sp and t not in sel)
            is_out = out_ref == (n, sp)
            if outside or is_out or not consumed:
                if is_out:
                    output_port = len(outputs)
                outputs.append([None, (n, sp), outside])

    taken: set = set()
    for k, entry in enumerate(inputs):
        s, sp = entry[1]
        base = nodes_attr[s].get("name") or ""
        if base and g._output_arity(s) > 1:
            base = f"{base}_{sp + 1}"
        entry[0] = _unique(base or f"in{k + 1}", taken, f"in{k + 1}")
    taken = set()
    for k, entry in enumerate(outputs):
        n, sp = entry[1]
        base = nodes_attr[n].get("name") or ""
        if base and g._output_arity(n) > 1:
            base = f"{base}_{sp + 1}"
        entry[0] = _unique(base or f"out{k + 1}", taken, f"out{k + 1}")

    internal = []
    for n in order:
        for s, sp, p in _wires_in(g, n):
            if s in sel:
                internal.append((s, sp, n, p))

    xs = [nodes_attr[n]["x"] for n in sorted(sel)]
    ys = [nodes_attr[n]["y"] for n in sorted(sel)]
    position = (math.fsum(xs) / len(xs), math.fsum(ys) / len(ys))
    left, right, top = min(xs) - PORT_MARGIN, max(xs) + PORT_MARGIN, min(ys)
    return GroupPlan(
        name,
        order,
        [tuple(e) for e in inputs],
        [tuple(e) for e in outputs],
        internal,
        position,
        output_port,
        [(left, top + k * PORT_GAP) for k in range(len(inputs))],
        [(right, top + k * PORT_GAP) for k in range(len(outputs))],
    )


def plan_ungroup(g, inst: int, taken_ids, taken_names, new_id) -> UngroupPlan:
    """How ungrouping instance ``inst`` of ``g`` would go. ``taken_ids``/``taken_names`` say
    what is used (the instance's own id and name count as free); ``new_id()`` gives a fresh
    id when a body id is taken."""
    attrs = g.nx._node[inst]
    if attrs["op"] != CALL:
        raise CompositeError(f"node {g.label(inst)} is not an instance of a definition; nothing to ungroup")
    d = attrs["definition"]
    body = d.body.nx
    bnodes = body._node
    inner = [n for n in body if bnodes[n]["op"] not in PLACEHOLDERS]
    ids: dict = {}
    used: set = set()
    for n in inner:
        free = (n not in taken_ids or n == inst) and n not in used
        ids[n] = n if free else new_id(used)
        used.add(ids[n])
    # Where the body sat when grouped: its centre is where the instance was put, so the
    # offset is the distance the instance has moved since (exactly 0.0 right after grouping).
    xs = [bnodes[n]["x"] for n in sorted(inner)]
    ys = [bnodes[n]["y"] for n in sorted(inner)]
    dx = attrs["x"] - (math.fsum(xs) / len(xs) if xs else 0.0)
    dy = attrs["y"] - (math.fsum(ys) / len(ys) if ys else 0.0)
    names_used: set = set()
    new_nodes = []
    for n in inner:
        a = bnodes[n]
        name = a.get("name")
        if name and ((name in taken_names and name != attrs.get("name")) or name in names_used):
            k = 2
            while f"{name} ({k})" in taken_names or f"{name} ({k})" in names_used:
                k += 1
            name = f"{name} ({k})"
        if name:
            names_used.add(name)
        node = {k: v for k, v in a.items() if k not in ("name", "x", "y")}
        node.update(id=ids[n], name=name, x=a["x"] + dx, y=a["y"] + dy)
        new_nodes.append(node)

    outer_in = {}
    for s, sp, p in _wires_in(g, inst):
        outer_in[p] = (s, sp)
    in_port = {p.node: k for k, p in enumerate(d.inputs)}

    def source(s, sp):
        """The new (node, port) for body output (s, sp); None when it comes from an unwired input."""
        if s in in_port:
            return outer_in.get(in_port[s])
        return ids[s], sp

    wires = []
    for t in inner:
        for s, sp, p in _wires_in(d.body, t):
            src = source(s, sp)
            if src is not None:
                wires.append((src[0], src[1], ids[t], p))
    out_src = []
    for port in d.outputs:
        src = None
        for s, sp, _p in _wires_in(d.body, port.node):
            src = source(s, sp)
        out_src.append(src)
    for t, p, sp in _wires_out(g, inst):
        src = out_src[sp] if sp < len(out_src) else None
        if src is not None:
            wires.append((src[0], src[1], t, p))
    output = None
    ref = g.output_ref()
    if ref is not None and ref[0] == inst:
        output = out_src[ref[1]]
    return UngroupPlan(inst, ids, new_nodes, wires, output)


def is_number(attrs) -> bool:
    return attrs["op"] == NUMBER


__all__ = ["GroupPlan", "UngroupPlan", "body_order", "plan_group", "plan_ungroup", "selection"]
