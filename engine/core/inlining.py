"""A composite document as one flat graph: every instance put back in its place, nested ones
too, and each constant of a definition one number wired to every place that reads it.

The backward graph (:func:`engine.core.higher_order.gradient_graph`) reads forward values that
live inside instances; backward nodes are top-level nodes, so the forward nodes they read must
be top-level too. Flattening keeps the lesson of weight tying: a tied constant stays one node
with fan-out, so its gradient node is one sum with a term per use.

>>> from engine import Graph
>>> g = Graph.from_expression("def f(x):\\n    w = 0.5\\n    return w * x\\nf(a) + f(b)", a=2.0, b=3.0)
>>> flat, where = inline_copy(g)
>>> sorted(flat.op(n) for n in flat.nodes()), flat.value(flat.output_node())
(['add', 'mul', 'mul', 'number', 'number', 'number'], 2.5)
"""

from __future__ import annotations

from .composites import CALL


def is_constant_key(key) -> bool:
    """A tape key ``(definition name, body id)``: a definition's constant, one slot for every
    instance."""
    return type(key) is tuple and bool(key) and type(key[0]) is str


def inline_copy(graph):
    """``(flat, where)``: a copy of ``graph`` with every instance ungrouped (top-level ids,
    names and wires kept; inlined nodes get fresh ids) and ``where`` mapping each tape key of
    an inlined node (an instance path ``(instance, ..., body id)`` or a constant
    ``(definition, body id)``) to its node in ``flat``. ``graph`` is not changed."""
    flat = graph.copy()
    where: dict = {}
    copies: dict = {}  # constant key -> its numbers in flat, one per instance, in order
    todo = [((n,), n) for n in flat.nodes() if flat.op(n) == CALL]
    while todo:
        path, n = todo.pop(0)
        d = flat.definition_of(n)
        constants = set(d.constants())
        for body_id, new in flat.ungroup(n).items():
            if flat.op(new) == CALL:
                todo.append((path + (body_id,), new))
            elif body_id in constants:
                copies.setdefault((d.name, body_id), []).append(new)
            else:
                where[path + (body_id,)] = new
    for key, nodes in copies.items():
        keep = nodes[0]
        for other in nodes[1:]:  # one number read everywhere: the tying stays visible
            for target, port in flat.consumers(other):
                flat.disconnect(target, port)
                flat.connect(keep, target, port)
            flat.remove_node(other)
        where[key] = keep
    return flat, where


__all__ = ["inline_copy", "is_constant_key"]
