"""Forward-mode differentiation: push a tangent from one number to every node.

Each node carries a dual number (value, tangent). The tangent of an op node is the sum over
its ports of the op's local derivative times that input's tangent, with the local
derivatives taken from the op table, the same ones reverse mode multiplies by. One pass
over the compiled tape in topological order gives d(node)/d(wrt) for every node at once,
which is the column of the Jacobian that reverse mode builds one row at a time.

Inputs that do not depend on ``wrt`` are exact zeros and are skipped rather than
multiplied in, so a NaN local derivative on an unrelated port (log of a constant 0, a
negative base's exponent) does not poison the tangent; reverse mode behaves the same way.

>>> from engine import Value
>>> a = Value(3.0, name="a"); e = (a * 4 + 3) * (a + 2)
>>> g = e.graph()
>>> tangents(g, "a")[g.output_node()]
35.0
"""

from __future__ import annotations

import numpy as np

from ..core.arrays import shape_text
from ..core.errors import InvalidValueError
from ..core.graph import Graph, check_number
from ..core.ops import NUMBER, array_jvp
from ..core.ops import local as safe_local


def tangents(graph: Graph, wrt, seed: float = 1.0) -> dict:
    """d(node)/d(wrt) for every node, by node id, in one forward pass.

    ``wrt`` is a number node (id or unique name). Nodes that do not depend on it get 0.0;
    nodes whose value is undefined (an unconnected input upstream) get None. ``seed`` scales
    the result (the direction's length). Raises NodeNotFoundError for an unknown node and
    InvalidValueError if ``wrt`` is an op node or ``seed`` is not a finite number.

    >>> from engine import Value
    >>> x = Value(2.0, name="x"); g = (x * x * x).graph()
    >>> tangents(g, "x")[g.output_node()]
    12.0
    """
    n = graph.resolve(wrt)
    if graph.op(n) != NUMBER:
        raise InvalidValueError(
            f"forward mode differentiates with respect to a number node; "
            f"{graph.label(n)} is a {graph.op(n)} op"
        )
    return directional(graph, {n: seed})


def directional(graph: Graph, direction: dict) -> dict:
    """Directional derivative of every node along ``direction`` ({number node: amount}).

    With one entry of 1 this is :func:`tangents`; with several it is the Jacobian-vector
    product, the rate each node changes at when the numbers move together.

    >>> from engine import Value
    >>> x = Value(1.0, name="x"); y = Value(2.0, name="y"); g = (x * y).graph()
    >>> directional(g, {"x": 1.0, "y": 1.0})[g.output_node()]
    3.0
    """
    if not isinstance(direction, dict):
        raise InvalidValueError(f"direction must map number nodes to amounts, not {type(direction).__name__}")
    tape = graph.tape()
    index = tape.index
    seeds: dict[int, float] = {}
    for ref, amount in direction.items():
        node = graph.resolve(ref)
        if graph.op(node) != NUMBER:
            raise InvalidValueError(
                f"a direction moves number nodes only; {graph.label(node)} is a {graph.op(node)} op"
            )
        i = index[node]
        seeds[i] = seeds.get(i, 0.0) + check_number(amount, f"the amount for {graph.label(node)}")

    vals = graph.evaluation()[1]  # per tape slot, as the loop below reads them
    if tape.has_arrays:
        return _directional_arrays(graph, tape, vals, seeds)
    tan = slot_tangents(tape, vals, seeds)
    return _with_instances(tape, {node: _public(t) for node, t in zip(tape.order, tan)}, tan, _public)


def slot_tangents(tape, vals, seeds, slots=None) -> list:
    """Per tape slot, its tangent for the seeds ({slot: amount}; number slots): None where
    the value is undefined, False where it is exactly zero (nothing seeded upstream).
    ``slots`` (an iterable of slot indices in order) restricts the pass to those slots."""
    if tape.has_arrays:
        return _array_slot_tangents(tape, vals, seeds, slots)
    tan: list = [False] * len(vals)
    for i, t in seeds.items():
        tan[i] = t
    ops = tape.ops
    for i in range(len(vals)) if slots is None else slots:
        op = ops[i]
        if op is None:
            continue
        if not tape.defined[i]:
            tan[i] = None
            continue
        ps = tape.parents[i]
        loc = None
        total = False
        for port, j in enumerate(ps):
            t = tan[j]
            if t is False or t is None:
                continue
            if loc is None:
                loc = safe_local(op, [vals[p] for p in ps], vals[i])
            term = loc[port] * t
            total = term if total is False else total + term
        tan[i] = total
    return tan


def _with_instances(tape, out: dict, per_slot: list, public) -> dict:
    """Add each top-level instance's first output (its slot's tangent) to ``out``, keyed by the
    instance's id as every other node: the insides are there already, keyed by instance path."""
    for path, rec in tape.calls.items():
        if len(path) == 1 and rec.outputs:
            out[path[0]] = out.get(tape.order[rec.outputs[0]], public(per_slot[rec.outputs[0]]))
    return out


def element_tangents(graph: Graph, wrt, index, seed: float = 1.0) -> dict:
    """Forward mode along one element of an array number: d(node)/d(wrt[index]) for every
    node, each in its node's shape (arrays for array nodes), by node id. ``index`` is a tuple
    (or int for a 1-D array); None for undefined nodes.

    >>> import numpy as np
    >>> g = Graph.from_expression("y = x * x", x=np.array([1.0, 3.0]))
    >>> element_tangents(g, "x", 1)[g.resolve("y")].tolist()
    [0.0, 6.0]
    """
    n = graph.resolve(wrt)
    if graph.op(n) != NUMBER:
        raise InvalidValueError(
            f"forward mode starts from a number node; {graph.label(n)} is a {graph.op(n)} op"
        )
    v = graph.number(n)
    if type(v) is not np.ndarray:
        raise InvalidValueError(f"{graph.label(n)} is a number, not an array: use tangents()")
    idx = (index,) if isinstance(index, int) and not isinstance(index, bool) else index
    if (
        not isinstance(idx, tuple)
        or len(idx) != v.ndim
        or not all(_whole(i) and 0 <= i < s for i, s in zip(idx, v.shape))
    ):
        raise InvalidValueError(
            f"index {index!r} is not an element of {graph.label(n)}, shape {shape_text(v.shape)}"
        )
    direction = np.zeros(v.shape)
    direction[idx] = check_number(seed, "seed")
    tape, vals = graph.evaluation()[:2]
    return _directional_arrays(graph, tape, vals, {tape.index[n]: direction})


def _whole(i) -> bool:
    return isinstance(i, (int, np.integer)) and not isinstance(i, bool)


def _array_slot_tangents(tape, vals, seeds, slots=None) -> list:
    tan: list = [False] * len(vals)
    for i, t in seeds.items():
        if t is not False and type(vals[i]) is np.ndarray and type(t) is not np.ndarray:
            t = np.full(vals[i].shape, float(t))
        tan[i] = t
    for i in range(len(vals)) if slots is None else slots:
        op = tape.ops[i]
        if op is None:
            continue
        if not tape.defined[i] or vals[i] is None:
            tan[i] = None
            continue
        ts = [tan[j] for j in tape.parents[i]]
        if all(t is False or t is None for t in ts):
            tan[i] = False
            continue
        args = [vals[j] for j in tape.parents[i]]
        tan[i] = array_jvp(op, [None if t is False else t for t in ts], args, vals[i], tape.params[i])
    return tan


def _directional_arrays(graph: Graph, tape, vals, seeds) -> dict:
    """directional() on a tape with arrays: each op's tangent by the row's array JVP."""
    tan = _array_slot_tangents(tape, vals, seeds)
    for i, op in enumerate(tape.ops):  # numbers nobody seeded: zero; undefined stays None
        if op is None and i not in seeds:
            tan[i] = False
    out = {}
    for node, t, v in zip(tape.order, tan, vals):
        if v is None:
            out[node] = None
        elif t is False or t is None:
            out[node] = np.zeros(v.shape) if type(v) is np.ndarray else 0.0
        else:
            out[node] = t if type(t) is np.ndarray else float(t)
    for path, rec in tape.calls.items():
        if len(path) == 1 and rec.outputs:
            out[path[0]] = out[tape.order[rec.outputs[0]]]
    return out


def _public(t):
    if t is None:
        return None
    return 0.0 if t is False else float(t)


__all__ = ["tangents", "directional", "element_tangents"]
