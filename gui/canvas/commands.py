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
