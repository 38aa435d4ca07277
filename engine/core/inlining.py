"""A composite document as one flat graph: every instance replaced by its inside, nested ones
too, and each constant of a definition one number wired to every place that reads it.

The backward graph (:func:`engine.core.higher_order.gradient_graph`) reads forward values that
live inside instances; backward nodes are top-level nodes, so the forward nodes they read must
be top-level too. Flattening keeps the lesson of weight tying: a tied constant stays one node
with fan-out, so its gradient node is one sum with a term per use.

Built with edit methods on a copy whose instances and definitions are removed first, instead
of ``ungroup`` (which restores the node order after each instance, and every edit of a document
that has definitions checks the inlined size): ~0.2 s instead of ~1.5 s for a grouped MLP with
2,108 inlined nodes (benchmarks/gradient_graph_composites.py).

>>> from engine import Graph
>>> g = Graph.from_expression("def f(x):\\n    w = 0.5\\n    return w * x\\nf(a) + f(b)", a=2.0, b=3.0)
>>> flat, where = inline_copy(g)
>>> sorted(flat.op(n) for n in flat.nodes()), flat.value(flat.output_node())
(['add', 'mul', 'mul', 'number', 'number', 'number'], 2.5)
"""

from __future__ import annotations

from .composites import CALL, INPUT, OUTPUT
from .errors import GraphError
from .ops import NUMBER


def is_constant_key(key) -> bool:
    """A tape key ``(definition name, body id)``: a definition's constant, one slot for every
    instance."""
    return type(key) is tuple and bool(key) and type(key[0]) is str


def inline_copy(graph):
    """``(flat, where)``: a copy of ``graph`` with every instance replaced by its inside (the
    top-level nodes keep their ids, names and wires; inside nodes get fresh ids, and their
    names where free) and ``where`` mapping each tape key of an inlined node (an instance path
    ``(instance, ..., body id)`` or a constant ``(definition, body id)``) to its node in
    ``flat``. ``graph`` is not changed."""
    import networkx as nx

    flat = graph.copy()
    calls = [n for n in nx.topological_sort(flat.nx) if flat.op(n) == CALL]
    if not calls:
        return flat, {}
    # What each instance reads and feeds, before the instances and the definitions go: a
    # document without definitions takes the inlined nodes at the cost of a flat one.
    defs = {n: flat.definition_of(n) for n in calls}
    feeds = {n: flat.input_wires(n) for n in calls}
    spots = {n: flat.position(n) for n in calls}
    out = flat.output_ref()
    uses = [w for w in flat.wires() if w.source in defs and w.target not in defs]
    for n in calls:
        flat.remove_node(n)
    left = set(flat.definitions)
    while left:  # outer definitions first: an inner one is used by the bodies that call it
        free = [name for name in left if not flat.instances(name)]
        for name in free:
            flat.remove_definition(name)
        left -= set(free)
    where: dict = {}
    leaving: dict = {}  # instance -> (node, source port) per output, in flat

    def outer(w):
        """A wire's start in flat: a top-level node, or what an inlined instance's output became."""
        if w is None:
            return None
        src, sp = w
        return leaving[src][sp] if src in leaving else (src, sp)

    for n in calls:  # topological: every instance's feeds are in place before it
        leaving[n] = _inline(flat, defs[n], (n,), spots[n], [outer(w) for w in feeds[n]], where)
    for w in uses:
        src = leaving[w.source][w.source_port]
        if src is not None:
            flat.connect(src[0], w.target, w.port, source_port=src[1])
    if out is not None:  # the same output as the document's (an instance's: what it became)
        now = leaving[out[0]][out[1]] if out[0] in leaving else out
        if now is not None:
            flat.set_output(*now)
    return flat, where


def _inline(flat, d, path, spot, feeds, where) -> list:
    """Add definition ``d``'s inside to ``flat`` at instance ``path`` (its position ``spot``),
    fed by ``feeds`` ((node, source port) or None per input); returns what leaves through
    each output, (node, source port) or None. Nested instances are inlined in place."""
    body = d.body
    constants = set(d.constants())
    x0, y0 = spot
    port_of = {p.node: k for k, p in enumerate(d.inputs)}
    made: dict = {}  # body id -> its outputs in flat: [(node, source port) or None, ...]

    def source(s, sp):
        if body.op(s) == INPUT:
            return feeds[port_of[s]]
        return made[s][sp]

    for b in _topological(body):
        op = body.op(b)
        if op in (INPUT, OUTPUT):
            continue
        bx, by = body.position(b)
        at = {"x": x0 + bx, "y": y0 + by}
        if b in constants:
            key = (d.name, b)
            if key not in where:  # one number for every instance: the tying stays visible
                where[key] = flat.add_number(body.number(b), **at)
                _name(flat, where[key], body.name(b))
            made[b] = [(where[key], 0)]
            continue
        ins = [None if w is None else source(*w) for w in body.input_wires(b)]
        if op == CALL:
            made[b] = _inline(flat, body.definition_of(b), path + (b,), (at["x"], at["y"]), ins, where)
            continue
        if op == NUMBER:
            node = flat.add_number(body.number(b), **at)
        else:
            node = flat.add_op(op, params=body.node(b).get("params"), **at)
            for p, src in enumerate(ins):
                if src is not None:
                    flat.connect(src[0], node, p, source_port=src[1])
        _name(flat, node, body.name(b))
        where[path + (b,)] = node
        made[b] = [(node, 0)]
    result = []
    for port in d.outputs:
        w = body.input_wires(port.node)[0]
        result.append(None if w is None else source(*w))
    return result


def _topological(body) -> list:
    import networkx as nx

    return list(nx.topological_sort(body.nx))


def _name(flat, node, name) -> None:
    """Keep an inside node's name where the flat graph has it free."""
    if not name:
        return
    try:
        flat.set_name(node, name)
    except GraphError:
        pass  # taken (another instance's node of the same name): the node stays unnamed


__all__ = ["inline_copy", "is_constant_key"]
