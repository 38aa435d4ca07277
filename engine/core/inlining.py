"""A composite document as one flat graph: every instance replaced by its inside, nested ones
too, and each constant of a definition one number wired to every place that reads it.

The backward graph (:func:`engine.core.higher_order.gradient_graph`) reads forward values that
live inside instances; backward nodes are top-level nodes, so the forward nodes they read must
be top-level too. Flattening keeps the lesson of weight tying: a tied constant stays one node
with fan-out, so its gradient node is one sum with a term per use.

Built with edit methods, one instance at a time, instead of ``ungroup`` (which restores the
document's node order after each instance, a cost per instance that grows with the document):
what is drawn is re-laid out anyway.

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
    flat = graph.copy()
    where: dict = {}
    todo = [((n,), n) for n in flat.nodes() if flat.op(n) == CALL]
    while todo:
        path, n = todo.pop(0)
        todo.extend(_inline_one(flat, path, n, where))
    return flat, where


def _inline_one(flat, path, n, where) -> list:
    """Replace instance ``n`` (at instance ``path``) of ``flat`` by its inside; returns the
    instances the inside holds, as ``(path, node)``, to be replaced in turn."""
    d = flat.definition_of(n)
    body = d.body
    constants = set(d.constants())
    x0, y0 = flat.position(n)
    feeds = flat.input_wires(n)  # (source, source port) per input port, from outside
    port_of = {p.node: k for k, p in enumerate(d.inputs)}
    ids: dict = {}
    nested = []
    for b in body.nodes():
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
            ids[b] = where[key]
            continue
        attrs = body.node(b)
        if op == CALL:
            ids[b] = flat.add_instance(attrs["definition"], **at)
            nested.append((path + (b,), ids[b]))
        elif op == NUMBER:
            ids[b] = flat.add_number(body.number(b), **at)
        else:
            ids[b] = flat.add_op(op, params=attrs.get("params"), **at)
        _name(flat, ids[b], body.name(b))
        where[path + (b,)] = ids[b]

    def source(s, sp):
        """Where a wire from body node ``s`` starts in ``flat`` (None: an unwired input)."""
        if body.op(s) == INPUT:
            return feeds[port_of[s]]
        return ids[s], sp

    for s, sp, t, p in body.wires():
        if body.op(t) == OUTPUT:
            continue
        src = source(s, sp)
        if src is not None:
            flat.connect(src[0], ids[t], p, source_port=src[1])
    leaving = {}
    for m, port in enumerate(d.outputs):
        w = body.input_wires(port.node)[0]
        leaving[m] = None if w is None else source(*w)
    out = flat.output_ref()
    for w in [w for w in flat.wires() if w.source == n]:
        flat.disconnect(w.target, w.port)
        src = leaving[w.source_port]
        if src is not None:
            flat.connect(src[0], w.target, w.port, source_port=src[1])
    if out is not None and out[0] == n and leaving[out[1]] is not None:
        flat.set_output(*leaving[out[1]])
    flat.remove_node(n)
    return nested


def _name(flat, node, name) -> None:
    """Keep an inside node's name where the flat graph has it free."""
    if not name:
        return
    try:
        flat.set_name(node, name)
    except GraphError:
        pass  # taken (another instance's node of the same name): the node stays unnamed


__all__ = ["inline_copy", "is_constant_key"]
