"""The number nodes a Learn tool may move, and how a list or combo box keeps them.

A document's numbers are its top-level number nodes and the constants of every definition in
use (``("neuron", 3)``, labelled ``neuron.b``: moving one moves it in every instance). Qt item
data keeps ints and strings, not tuples, so a constant travels as ``constant:<id>:<definition>``.
"""

from __future__ import annotations

from engine import NUMBER

_CONSTANT = "constant:"


def number_nodes(graph) -> list[tuple[object, str]]:
    """(address, label) of every number node, named ones first, in document order, then the
    constants of every definition in use."""
    nums = [n for n in graph.nodes() if graph.op(n) == NUMBER]
    nums.sort(key=lambda n: graph.name(n) is None)
    out = [(n, graph.label(n)) for n in nums]
    for name, d in graph.definitions.items():
        if graph.instances(name):
            out += [((name, c), graph.label((name, c))) for c in d.constants()]
    return out


def node_key(ref):
    """An address as item data: a node's id, or ``constant:<id>:<definition>``.

    >>> node_key(3), node_key(("neuron", 4)), key_node(node_key(("neuron", 4)))
    (3, 'constant:4:neuron', ('neuron', 4))
    """
    return f"{_CONSTANT}{ref[1]}:{ref[0]}" if isinstance(ref, tuple) else ref


def key_node(key):
    """The address a :func:`node_key` stands for."""
    if isinstance(key, str) and key.startswith(_CONSTANT):
        cid, name = key[len(_CONSTANT):].split(":", 1)
        return name, int(cid)
    return int(key) if isinstance(key, str) else key
