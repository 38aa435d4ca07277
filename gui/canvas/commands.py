"""Undo commands. Each one calls engine edit methods only, and its undo is the exact inverse edit.

The controller runs :meth:`EditCommand.apply` first (the engine validates and may raise a
GraphError, in which case nothing is pushed) and only then pushes the command; the first
``redo()`` that ``QUndoStack.push`` makes is therefore skipped. This keeps validation in one
place, the engine, and guarantees that no refused edit ever reaches the stack.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QUndoCommand

from engine import NUMBER, Graph
from engine.core.arrays import ndarray
from engine.drawing.geometry import CALL
from gui.canvas.bridge import undoable_edit


class EditCommand(QUndoCommand):
    """Base: ``_do()`` applies the edit, ``_undo()`` applies its inverse."""

    def __init__(self, graph: Graph, text: str):
        super().__init__(text)
        self.graph = graph
        self._skip_redo = False

    def apply(self) -> None:
        """Run the edit now (may raise GraphError); the push that follows will not repeat it."""
        with undoable_edit():
            self._do()
        self._skip_redo = True

    def redo(self):
        if self._skip_redo:
            self._skip_redo = False
            return
        with undoable_edit():
            self._do()

    def undo(self):
        with undoable_edit():
            self._undo()

    def _do(self):  # pragma: no cover - abstract
        raise NotImplementedError

    def _undo(self):  # pragma: no cover - abstract
        raise NotImplementedError


class AddNodeCommand(EditCommand):
    """Add one node with a fixed id, so redo after undo re-creates the very same node."""

    def __init__(self, graph: Graph, spec: dict, text: str = "Add node"):
        super().__init__(graph, text)
        self.spec = dict(spec)

    def _do(self):
        s = self.spec
        where = {"name": s.get("name"), "x": s["x"], "y": s["y"], "node_id": s.get("id")}
        if s["op"] == NUMBER:
            s["id"] = self.graph.add_number(s["value"], **where)
        elif s["op"] == CALL:
            s["id"] = self.graph.add_instance(s["definition"], **where)
        else:
            s["id"] = self.graph.add_op(s["op"], params=s.get("params"), **where)

    def _undo(self):
        self.graph.remove_node(self.spec["id"])

    @property
    def node_id(self) -> int:
        return self.spec["id"]


class RemoveNodeCommand(EditCommand):
    """Remove a node that has no wires left (the controller disconnects them first, as
    separate commands in the same macro, so each wire is restored by its own inverse)."""

    def __init__(self, graph: Graph, node: int, text: str = "Delete node"):
        super().__init__(graph, text)
        self.spec = graph.node(node)

    def _do(self):
        self.graph.remove_node(self.spec["id"])

    def _undo(self):
        s = self.spec
        if s["op"] == NUMBER:
            self.graph.add_number(s["value"], name=s["name"], x=s["x"], y=s["y"], node_id=s["id"])
        elif s["op"] == CALL:
            self.graph.add_instance(s["definition"], name=s["name"], x=s["x"], y=s["y"], node_id=s["id"])
        else:
            self.graph.add_op(s["op"], name=s["name"], x=s["x"], y=s["y"], node_id=s["id"],
                              params=s.get("params"))


class ConnectCommand(EditCommand):
    """Wire output ``source_port`` of ``source`` into input ``port`` of ``target``."""

    def __init__(self, graph: Graph, source: int, target: int, port: int, text: str = "Connect",
                 source_port: int = 0):
        super().__init__(graph, text)
        self.source, self.target, self.port, self.source_port = source, target, port, source_port

    def _do(self):
        self.graph.connect(self.source, self.target, self.port, self.source_port)

    def _undo(self):
        self.graph.disconnect(self.target, self.port)


class DisconnectCommand(EditCommand):
    """Remove the wire into input ``port`` of ``target``; undo puts it back from the same
    output of the same source."""

    def __init__(self, graph: Graph, target: int, port: int, text: str = "Disconnect"):
        super().__init__(graph, text)
        self.target, self.port = target, port
        self.source: int | None = None
        self.source_port = 0

    def _do(self):
        self.source, self.source_port = self.graph.disconnect(self.target, self.port)

    def _undo(self):
        self.graph.connect(self.source, self.target, self.port, self.source_port)


class SetValuesCommand(EditCommand):
    """Set several number nodes at once. With ``merge=True`` consecutive commands on the same
    nodes collapse into one undo step (scrubbing a value: one step, first old to last new)."""

    MERGE_ID = 0x6763_0001

    def __init__(self, graph: Graph, new: dict, text: str = "Set value", merge: bool = False):
        super().__init__(graph, text)
        self.new = dict(new)
        self.old = {n: graph.number(n) for n in self.new}
        self.merge = merge

    def _do(self):
        for n, v in self.new.items():
            self.graph.set_value(n, v)

    def _undo(self):
        for n, v in self.old.items():
            self.graph.set_value(n, v)

    def id(self) -> int:  # noqa: A003 - Qt's virtual
        return self.MERGE_ID if self.merge else -1

    def mergeWith(self, other) -> bool:  # noqa: N802 - Qt's virtual
        if not (isinstance(other, SetValuesCommand) and other.merge and other.new.keys() == self.new.keys()):
            return False
        self.new = dict(other.new)
        self.setText(other.text())  # the history names the value the scrub ended on
        # scrubbed back to where it started: no undo step at all
        if all(same_value(self.new[n], self.old.get(n)) for n in self.new):
            self.setObsolete(True)
        return True


def same_value(a, b) -> bool:
    """Whether two number values are the same (arrays: same dtype, shape and elements)."""
    if type(a) is ndarray or type(b) is ndarray:
        return (type(a) is type(b) and a.dtype == b.dtype and a.shape == b.shape
                and bool(np.array_equal(a, b)))
    return a == b


class SetParamsCommand(EditCommand):
    """Change an op node's parameters; undo puts the old ones back."""

    def __init__(self, graph: Graph, node: int, params: dict, text: str = "Set parameters"):
        super().__init__(graph, text)
        self.node = node
        self.old = graph.params(node)
        self.new = dict(params)

    def _do(self):
        self.graph.set_params(self.node, self.new)

    def _undo(self):
        self.graph.set_params(self.node, self.old)


class SetNameCommand(EditCommand):
    def __init__(self, graph: Graph, node: int, name, text: str = "Rename"):
        super().__init__(graph, text)
        self.node = node
        self.old = graph.name(node)
        self.new = name

    def _do(self):
        self.graph.set_name(self.node, self.new)

    def _undo(self):
        self.graph.set_name(self.node, self.old)


class MoveCommand(EditCommand):
    """Move any number of nodes: one drag, one auto-layout, one undo step."""

    def __init__(self, graph: Graph, new: dict, text: str = "Move"):
        super().__init__(graph, text)
        self.new = {n: (float(x), float(y)) for n, (x, y) in new.items()}
        self.old = {n: graph.position(n) for n in self.new}

    def _do(self):
        for n, (x, y) in self.new.items():
            self.graph.set_position(n, x, y)

    def _undo(self):
        for n, (x, y) in self.old.items():
            self.graph.set_position(n, x, y)


class SetOutputCommand(EditCommand):
    """Pin output ``port`` of ``node`` as the output, or with ``node`` None unpin it (the
    output follows the graph again); undo restores the previous pin, or its absence."""

    def __init__(self, graph: Graph, node, text: str = "Pin output", port: int = 0):
        super().__init__(graph, text)
        self.old = (graph.pinned_output, graph.output_port)
        self.new = (node, port if node is not None else 0)

    def _do(self):
        self.graph.set_output(*self.new)

    def _undo(self):
        self.graph.set_output(*self.old)


class GroupCommand(EditCommand):
    """Group ``nodes`` into an instance of a new definition ``name`` (Ctrl+G); undo is the
    engine's exact inverse, ungroup, and redo groups the same nodes into the same instance id."""

    def __init__(self, graph: Graph, nodes, name: str, text: str = "Group"):
        super().__init__(graph, text)
        self.nodes, self.name = list(nodes), name
        self.instance = None

    def _do(self):
        self.order = list(self.graph.nx)
        self.output = (self.graph.pinned_output, self.graph.output_port)
        self.instance = self.graph.group(self.nodes, self.name, node_id=self.instance)

    def _undo(self):
        self.graph.ungroup(self.instance)
        if (self.graph.pinned_output, self.graph.output_port) != self.output:
            # group may pin the output on the instance; the engine unpins it on ungroup only
            # while no other group came in between, the undo stack's order says exactly what was
            self.graph.set_output(*self.output)
        if set(self.order) == set(self.graph.nx):
            # the nodes as they were listed: a redo then groups them into the very definition
            # (its ports are ordered by first use, which follows the graph's order)
            self.graph.restore_order(self.order)


class UngroupCommand(EditCommand):
    """Put an instance's body back in its place (Ctrl+Shift+G). Undo removes the inlined nodes
    and puts the very instance back: its definition (re-added from its data if ungroup removed
    it as unused), id, name, position, wires and the pinned output."""

    def __init__(self, graph: Graph, instance: int, text: str = "Ungroup"):
        super().__init__(graph, text)
        self.instance = instance
        self.spec = graph.node(instance)
        self.definition = graph.definition_of(instance).name
        self.data = graph.definition_data(self.definition)
        self.wires_in = [(s, sp, p) for p, w in enumerate(graph.input_wires(instance)) if w is not None
                         for s, sp in [w]]
        self.wires_out = [(t, p, sp) for _s, t, p, sp in
                          graph.nx.out_edges(instance, keys=True, data="source_port", default=0)]
        self.output = (graph.pinned_output, graph.output_port)
        self.order = list(graph.nx)
        self.new_ids: list = []

    def _do(self):
        self.new_ids = list(self.graph.ungroup(self.instance).values())

    def _undo(self):
        g = self.graph
        for n in self.new_ids:
            g.remove_node(n)
        for t, p, _sp in self.wires_out:  # an output fed straight from an input: wired outside now
            if g.input_wires(t)[p] is not None:
                g.disconnect(t, p)
        if self.definition not in g.definitions:
            g.add_definition(self.definition, self.data)
        s = self.spec
        g.add_instance(self.definition, name=s["name"], x=s["x"], y=s["y"], node_id=self.instance)
        for src, sp, p in self.wires_in:
            g.connect(src, self.instance, p, sp)
        for t, p, sp in self.wires_out:
            g.connect(self.instance, t, p, sp)
        if (g.pinned_output, g.output_port) != self.output:
            g.set_output(*self.output)
        g.restore_order(self.order)  # the file lists the nodes as before


class AdoptDefinitionsCommand(EditCommand):
    """Bring the definitions a pasted fragment's instances need into the document; undo
    removes the ones it added, last first. ``mapping`` is {their name: name here}."""

    def __init__(self, graph: Graph, other: Graph, text: str = "Add definitions"):
        super().__init__(graph, text)
        self.other = other
        self.mapping: dict = {}
        self.added: list = []

    def _do(self):
        before = set(self.graph.definitions)
        self.mapping = self.graph.adopt_definitions(self.other)
        self.added = [n for n in self.mapping.values() if n not in before]

    def _undo(self):
        for name in reversed(self.added):
            self.graph.remove_definition(name)


class MakeUniqueCommand(EditCommand):
    """Give one instance its own copy of its definition; undo shares the old one again (the
    copy, left without instances, goes)."""

    def __init__(self, graph: Graph, instance, text: str = "Make unique"):
        super().__init__(graph, text)
        self.instance = instance
        self.old = graph.definition_of(instance).name
        self.name = None

    def _do(self):
        self.name = self.graph.make_unique(self.instance, self.name)

    def _undo(self):
        self.graph.share_definition(self.instance, self.old)


class ExposeAsInputCommand(EditCommand):
    """Turn a constant of a definition into a new input port, each instance fed from a new
    number holding its value; undo turns the port back into that constant."""

    def __init__(self, graph: Graph, constant, text: str = "Expose as input"):
        super().__init__(graph, text)
        self.constant = graph.locate(constant)
        self.old_name = graph.name(self.constant)
        self.info: dict = {}

    def _do(self):
        self.info = self.graph.expose_as_input(self.constant, feeder_ids=self.info.get("feeders"))

    def _undo(self):
        i = self.info
        self.graph.unexpose_input(i["definition"], i["port"], value=i["value"], name=self.old_name)


class RenameDefinitionCommand(EditCommand):
    """Rename a definition (its instances follow); undo renames it back."""

    def __init__(self, graph: Graph, old: str, new: str, text: str = "Rename definition"):
        super().__init__(graph, text)
        self.old, self.new = old, new

    def _do(self):
        self.graph.rename_definition(self.old, self.new)

    def _undo(self):
        self.graph.rename_definition(self.new, self.old)


class RemoveDefinitionCommand(EditCommand):
    """Delete an unused definition; undo adds it back from its data."""

    def __init__(self, graph: Graph, name: str, text: str = "Delete definition"):
        super().__init__(graph, text)
        self.name = name
        self.data = graph.definition_data(name)

    def _do(self):
        self.graph.remove_definition(self.name)

    def _undo(self):
        self.graph.add_definition(self.name, self.data)
