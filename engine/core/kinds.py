"""Node kinds that are not rows of the op table: nodes whose ports depend on the node and
that may have several outputs (composite instances, data sets).

A row of :data:`engine.core.ops.OPS` has fixed input ports and one output. A kind answers
both per node (an instance's ports come from its definition) and compiles itself into tape
slots (see :mod:`engine.core.autodiff`). The Graph asks :func:`get` for any ``op`` that is not
a row, so a registered kind's nodes can be added (``Graph.add_op(kind_name)``), wired from
any of their outputs and evaluated like any other node.

>>> from engine.core.ops import OPS
>>> square_and_exp = NodeKind(
...     "square_and_exp", inputs=lambda attrs: ("x",), outputs=lambda attrs: ("x²", "exp x"),
...     compile=lambda b, n, attrs, ins: (b.op(OPS["square"], ins, n), b.op(OPS["exp"], ins, (n, "exp"))))
>>> register(square_and_exp); get("square_and_exp").output_arity({})
2
>>> unregister("square_and_exp")
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .errors import UnknownOpError


@dataclass(frozen=True)
class NodeKind:
    """A kind of node beyond the op table.

    ``inputs(attrs)`` and ``outputs(attrs)`` name the node's input and output ports (their
    counts are its arity and output arity); ``compile(build, node, attrs, inputs)`` appends
    the node's slots with the :class:`~engine.core.autodiff.TapeBuilder` ``build`` and returns
    one slot per output port (``inputs``: one slot per input port, None where unconnected).

    A kind whose nodes hold attributes of their own (a data set's recipe) keeps them in the
    node's ``params``, as op rows keep theirs: ``check_params(params)`` returns them cleaned
    or raises ValueError (``Graph.add_op(kind, params=...)`` and ``Graph.set_params`` call
    it; a change recompiles the tape), and a document stores them through ``to_json(params)``
    (keys of the node object) and reads them back with ``from_json(node_object)`` (ValueError
    for bad data). A document with such a node is version :data:`DOCUMENT_VERSION`.
    """

    name: str
    inputs: Callable[[dict], tuple]
    outputs: Callable[[dict], tuple]
    compile: Callable
    doc: str = ""
    check_params: Callable[[dict | None], dict] | None = None
    to_json: Callable[[dict], dict] | None = None
    from_json: Callable[[dict], dict] | None = None
    symbol: str = ""

    def arity(self, attrs) -> int:
        return len(self.inputs(attrs))

    def output_arity(self, attrs) -> int:
        return len(self.outputs(attrs))


KINDS: dict[str, NodeKind] = {}
DOCUMENT_VERSION = 3  # the document version that first stores nodes of a kind


def register(kind: NodeKind) -> None:
    """Make ``kind`` known to every Graph (its name must not be an op's)."""
    from .ops import OPS

    if kind.name in OPS:
        raise ValueError(f"{kind.name!r} is an op of the table, not a free kind name")
    KINDS[kind.name] = kind


def unregister(name: str) -> None:
    KINDS.pop(name, None)


def get(name: str) -> NodeKind:
    """The kind called ``name``; UnknownOpError if there is none."""
    kind = KINDS.get(name)
    if kind is None:
        raise UnknownOpError(f"unknown op or node kind {name!r}")
    return kind


__all__ = ["KINDS", "NodeKind", "get", "register", "unregister"]
