"""Typed document events: one small frozen class per kind of change.

A :class:`~engine.core.graph.Graph` calls every subscriber with one of these after each edit and
each evaluation. Dispatch on the class (``isinstance(ev, NodeAdded)`` or a ``match``), not on
text. Every event also answers ``kind`` (its snake_case name), ``node`` (the node it is about,
the target for a wire, None for document-wide events) and ``data`` (its other fields as a dict),
so simple listeners can log events uniformly.

>>> from engine import Graph
>>> g = Graph(); seen = []; _ = g.subscribe(seen.append)
>>> a = g.add_number(2.0, name="a"); g.set_value(a, 3.0)
>>> seen
[NodeAdded(node=1), ValueChanged(node=1, old=2.0, new=3.0)]
>>> [e.kind for e in seen], seen[1].data
(['node_added', 'value_changed'], {'old': 2.0, 'new': 3.0})
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, ClassVar


@dataclass(frozen=True)
class Event:
    """Base of every document event."""

    kind: ClassVar[str] = "event"
    changes_document: ClassVar[bool] = True  # False for events that only report (evaluated)

    node: ClassVar[Any] = None  # the node it is about; subclasses that have one make it a field

    @property
    def data(self) -> dict:
        return {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if f.name not in ("node", "target") and not (f.name == "definition" and self.definition is None)
        }


# Node and wire events also say where the node is: ``definition`` None for the document's top
# level, else the name of the definition whose body changed (every instance of it changes).
_WHERE = field(default=None, kw_only=True, repr=False, compare=True)


@dataclass(frozen=True)
class _NodeEvent(Event):
    node: int  # type: ignore[misc]  # a field here, None on document-wide events
    definition: str | None = _WHERE


@dataclass(frozen=True)
class NodeAdded(_NodeEvent):
    kind: ClassVar[str] = "node_added"


@dataclass(frozen=True)
class NodeRemoved(_NodeEvent):
    kind: ClassVar[str] = "node_removed"


@dataclass(frozen=True)
class _EdgeEvent(Event):
    """A wire from output ``source_port`` of ``source`` into input ``port`` of ``target``."""

    target: int
    source: int
    port: int
    source_port: int = 0
    definition: str | None = _WHERE

    @property
    def node(self) -> int:
        return self.target


@dataclass(frozen=True)
class EdgeAdded(_EdgeEvent):
    kind: ClassVar[str] = "edge_added"


@dataclass(frozen=True)
class EdgeRemoved(_EdgeEvent):
    kind: ClassVar[str] = "edge_removed"


@dataclass(frozen=True)
class NodesInserted(Event):
    """Many nodes and the wires into them added as one edit (:meth:`Graph.insert_nodes`): one
    event instead of one per node and wire, so that views add them in one pass. ``wires`` are
    (source, target, port, source_port)."""

    kind: ClassVar[str] = "nodes_inserted"
    nodes: tuple = ()
    wires: tuple = ()
    definition: str | None = _WHERE


@dataclass(frozen=True)
class ValueChanged(_NodeEvent):
    kind: ClassVar[str] = "value_changed"
    old: Any = None
    new: Any = None


@dataclass(frozen=True)
class ParamsChanged(_NodeEvent):
    """An op node's parameters (axis, keepdims, shape) changed; ``old``/``new`` are dicts."""

    kind: ClassVar[str] = "params_changed"
    old: Any = None
    new: Any = None


@dataclass(frozen=True)
class NameChanged(_NodeEvent):
    kind: ClassVar[str] = "name_changed"
    old: str | None = None
    new: str | None = None


@dataclass(frozen=True)
class NodeMoved(_NodeEvent):
    kind: ClassVar[str] = "node_moved"
    old: tuple = (0.0, 0.0)
    new: tuple = (0.0, 0.0)


@dataclass(frozen=True)
class OutputChanged(Event):
    """The pinned output changed: ``node`` and ``port`` are the new pin (``node`` None: the
    output is no longer pinned and follows the graph, see ``Graph.output_node``), ``old`` and
    ``old_port`` the previous one (``old`` None: it was following the graph)."""

    kind: ClassVar[str] = "output_changed"
    node: int | None = None  # type: ignore[misc]
    old: int | None = None
    port: int = 0
    old_port: int = 0


@dataclass(frozen=True)
class Evaluated(Event):
    """Forward and backward ran; values and gradients may all have changed."""

    kind: ClassVar[str] = "evaluated"
    changes_document: ClassVar[bool] = False


@dataclass(frozen=True)
class DocumentReset(Event):
    """The whole document was (re)built at once (loader, parser, Value.graph()): redraw it all."""

    kind: ClassVar[str] = "reset"


@dataclass(frozen=True)
class LayoutApplied(Event):
    """Many nodes moved at once (:meth:`Graph.apply_layout`); ``moved`` is how many."""

    kind: ClassVar[str] = "layout_applied"
    moved: int = 0


@dataclass(frozen=True)
class MetaChanged(Event):
    """A metadata entry ("title", "lesson") changed through :meth:`Graph.set_meta`."""

    kind: ClassVar[str] = "meta_changed"
    key: str = ""
    old: Any = None
    new: Any = None


@dataclass(frozen=True)
class DefinitionAdded(Event):
    """A definition was created (group, make unique, add_definition)."""

    kind: ClassVar[str] = "definition_added"
    definition: str = ""


@dataclass(frozen=True)
class DefinitionRemoved(Event):
    """A definition was deleted (ungroup of its last instance, remove_definition)."""

    kind: ClassVar[str] = "definition_removed"
    definition: str = ""


@dataclass(frozen=True)
class DefinitionRenamed(Event):
    """Definition ``old`` is now called ``definition``; its instances follow."""

    kind: ClassVar[str] = "definition_renamed"
    definition: str = ""
    old: str = ""


@dataclass(frozen=True)
class PortsChanged(Event):
    """A definition's inputs or outputs changed (expose as input, rename a port): every
    instance's ports did too."""

    kind: ClassVar[str] = "ports_changed"
    definition: str = ""


@dataclass(frozen=True)
class InstanceChanged(_NodeEvent):
    """Instance ``node`` now uses definition ``new`` instead of ``old`` (make unique)."""

    kind: ClassVar[str] = "instance_changed"
    old: str = ""
    new: str = ""


@dataclass(frozen=True)
class RoleChanged(_NodeEvent):
    """A node's role changed (``"backward"``: part of a backward graph; None: an ordinary
    node); evaluation is unaffected."""

    kind: ClassVar[str] = "role_changed"
    old: str | None = None
    new: str | None = None


__all__ = [
    "DefinitionAdded",
    "DefinitionRemoved",
    "DefinitionRenamed",
    "InstanceChanged",
    "PortsChanged",
    "DocumentReset",
    "EdgeAdded",
    "EdgeRemoved",
    "Evaluated",
    "Event",
    "LayoutApplied",
    "MetaChanged",
    "NameChanged",
    "NodeAdded",
    "NodeMoved",
    "NodeRemoved",
    "NodesInserted",
    "OutputChanged",
    "ParamsChanged",
    "RoleChanged",
    "ValueChanged",
]
