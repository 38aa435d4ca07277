"""Random edit sequences through the controller: undo all gives back the start document, redo
all gives back the end one (ids, names, values, positions, wires, output), and the scene
always draws exactly the graph.

Besides canvas edits the machine replaces the document (the history starts again from the new
one), pastes fragments of other documents through the clipboard's JSON (malformed ones are
refused without a trace), and edits the document behind the undo stack's back (the history is
dropped: no undo may raise or resurrect anything afterwards)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import shiboken6
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from PySide6.QtCore import QObject
from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import QApplication

from engine import OPS, Graph
from engine.io import document as doc
from gui import style
from gui.canvas.controller import Controller
from gui.canvas.scene import GraphScene
from tests.oracles import examples
from tests.qt_helpers import scene_matches, snapshot
from tests.strategies import graphs

pytestmark = pytest.mark.gui

values = st.floats(-10, 10, allow_nan=False, allow_infinity=False)
coords = st.floats(-2000, 2000, allow_nan=False, allow_infinity=False)
names = st.sampled_from(["a", "b", "x", "loss", "w1", ""])


def row_text(x) -> str:
    """What a node's value or gradient row says: the engine's number, or for an array its
    shape, ``(3,)`` or ``2×3`` (the numbers are in the grid under the row). A reshape of a
    number makes a ``(1,)`` array now and then, which the row shows as ``(1,)``."""
    if isinstance(x, np.ndarray):
        return f"({x.shape[0]},)" if x.ndim == 1 else "×".join(str(k) for k in x.shape)
    return style.format_number(x)


class CanvasUndoMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.app = QApplication.instance() or QApplication([])
        g = Graph.from_expression("(a*4+3)*(a+2)", a=3)
        g.apply_layout()
        # One owner for the Qt objects, deleted explicitly in teardown: left to the garbage
        # collector, they could be destroyed in any order (a stack signalling a dead controller).
        self.root = QObject()
        self.stack = QUndoStack(self.root)
        self.controller = Controller(g, self.stack, self.root)
        self.scene = GraphScene(self.controller, self.root)
        self.start = snapshot(g)

    @property
    def g(self) -> Graph:
        return self.controller.graph

    def _nodes(self, data, min_size=1):
        nodes = self.g.nodes()
        return data.draw(st.lists(st.sampled_from(nodes), min_size=min_size, max_size=4, unique=True))

    # ---------------------------------------------------------------- edits

    @rule(value=values, name=names, x=coords, y=coords)
    def add_number(self, value, name, x, y):
        self.controller.add_node("number", (x, y), value=value, name=name or None)

    @rule(op=st.sampled_from(list(OPS)), x=coords, y=coords)
    def add_op(self, op, x, y):
        self.controller.add_node(op, (x, y))

    @precondition(lambda self: len(self.g) >= 2)
    @rule(data=st.data())
    def connect(self, data):
        src = data.draw(st.sampled_from(self.g.nodes()))
        ops = [n for n in self.g.nodes() if self.g.arity(n)]
        if not ops:
            return
        dst = data.draw(st.sampled_from(ops))
        port = data.draw(st.integers(0, self.g.arity(dst) - 1))
        self.controller.connect(src, dst, port)

    @precondition(lambda self: self.g.nx.number_of_edges() > 0)
    @rule(data=st.data())
    def disconnect(self, data):
        _s, t, p = data.draw(st.sampled_from(self.g.edges()))
        assert self.controller.disconnect(t, p)

    @rule(data=st.data(), value=values)
    def set_value(self, data, value):
        nums = [n for n in self.g.nodes() if self.g.op(n) == "number"]
        if nums:
            self.controller.set_value(data.draw(st.sampled_from(nums)), value,
                                      merge=data.draw(st.booleans()))

    @precondition(lambda self: len(self.g) > 0)
    @rule(data=st.data(), name=names)
    def rename(self, data, name):
        self.controller.set_name(data.draw(st.sampled_from(self.g.nodes())), name)

    @precondition(lambda self: len(self.g) > 0)
    @rule(data=st.data(), dx=coords, dy=coords)
    def move(self, data, dx, dy):
        nodes = self._nodes(data)
        self.controller.move_nodes({n: (self.g.position(n)[0] + dx, self.g.position(n)[1] + dy)
                                    for n in nodes})

    @precondition(lambda self: len(self.g) > 0)
    @rule(data=st.data())
    def delete(self, data):
        assert self.controller.remove_nodes(self._nodes(data))

    @precondition(lambda self: len(self.g) > 0)
    @rule(data=st.data(), at=st.none() | st.tuples(coords, coords))
    def paste(self, data, at):
        nodes = self._nodes(data)
        new = self.controller.paste(self.controller.copy_payload(nodes), at)
        assert len(new) == len(nodes)

    @rule(other=graphs(max_ops=6), data=st.data(), at=st.none() | st.tuples(coords, coords))
    def paste_fragment_of_another_document(self, other, data, at):
        other.apply_layout()
        picked = data.draw(st.lists(st.sampled_from(other.nodes()), min_size=1, max_size=5, unique=True))
        clip = json.loads(json.dumps(doc.fragment(other, picked)))  # through the clipboard's text
        before, index = snapshot(self.g), self.stack.index()
        new = self.controller.paste(clip, at)
        assert len(new) == len(picked) and self.stack.index() == index + 1  # one undo step
        assert {self.g.op(n) for n in new} == {other.op(n) for n in picked}
        if data.draw(st.booleans()):
            self.stack.undo()
            assert snapshot(self.g) == before

    @precondition(lambda self: len(self.g) > 0)
    @rule(data=st.data())
    def paste_a_malformed_fragment(self, data):
        frag = doc.fragment(self.g, self.g.nodes()[:3])
        frag["nodes"].append(data.draw(st.sampled_from([
            {"id": frag["nodes"][0]["id"], "op": "number", "value": 1},  # an id used twice
            {"id": 10**6, "op": "cube"},
            {"id": 10**6, "op": "number", "value": "NaN"},
        ])))
        before, index = snapshot(self.g), self.stack.index()
        assert self.controller.paste(frag) == []
        assert snapshot(self.g) == before and self.stack.index() == index

    @rule(other=graphs(max_ops=6))
    def replace_document(self, other):
        other.apply_layout()
        self.controller.set_document(other)
        assert self.stack.count() == 0 and self.g is other
        self.start = snapshot(other)

    @precondition(lambda self: len(self.g) > 0)
    @rule(data=st.data(), value=values)
    def edit_behind_the_stacks_back(self, data, value):
        n = data.draw(st.sampled_from(self.g.nodes()))
        if data.draw(st.booleans()) or self.g.op(n) != "number":
            self.g.remove_node(n)
        else:
            self.g.set_value(n, value)
        assert not self.stack.canUndo() and not self.stack.canRedo()
        self.start = snapshot(self.g)
        QApplication.processEvents()  # the bridge re-evaluates on the next turn

    @rule()
    def auto_layout(self):
        self.controller.auto_layout()

    @rule(data=st.data())
    def set_output(self, data):
        node = data.draw(st.none() | st.sampled_from(self.g.nodes())) if len(self.g) else None
        self.controller.set_output(node)

    # ---------------------------------------------------------------- composites

    @precondition(lambda self: len(self.g) > 0)
    @rule(data=st.data(), name=st.sampled_from(["f", "neuron", ""]))
    def group(self, data, name):
        """Ctrl+G on a random selection: one undo step, or a refusal that changes nothing (a
        selection that would make a cycle, a name taken)."""
        nodes = self._nodes(data)
        before, index = snapshot(self.g), self.stack.index()
        inst = self.controller.group(nodes, name or None)
        if inst is None:
            assert snapshot(self.g) == before and self.stack.index() == index
        else:
            assert self.g.op(inst) == "call" and self.stack.index() == index + 1

    @precondition(lambda self: any(self.g.op(n) == "call" for n in self.g.nodes()))
    @rule(data=st.data())
    def ungroup(self, data):
        inst = data.draw(st.sampled_from([n for n in self.g.nodes() if self.g.op(n) == "call"]))
        index = self.stack.index()
        self.controller.ungroup([inst])  # may put back no node: a body that only passes through
        assert inst not in self.g.nx and self.stack.index() == index + 1

    def _instances(self):
        return [n for n in self.g.nodes() if self.g.op(n) == "call"]

    @precondition(lambda self: any(self.g.op(n) == "call" for n in self.g.nodes()))
    @rule(data=st.data())
    def make_unique(self, data):
        inst = data.draw(st.sampled_from(self._instances()))
        index = self.stack.index()
        if self.controller.make_unique(inst) is not None:
            assert self.stack.index() == index + 1
            assert len(self.g.instances(self.g.definition_of(inst).name)) == 1

    @precondition(lambda self: any(self.g.op(n) == "call" for n in self.g.nodes()))
    @rule(data=st.data())
    def expose_as_input(self, data):
        inst = data.draw(st.sampled_from(self._instances()))
        d = self.g.definition_of(inst)
        if not d.constants():
            return
        n = data.draw(st.sampled_from(d.constants()))
        arity, index = d.arity, self.stack.index()
        if self.controller.expose_as_input((d.name, n)) is not None:
            assert self.g.definitions[d.name].arity == arity + 1 and self.stack.index() == index + 1

    @precondition(lambda self: any(self.g.op(n) == "call" for n in self.g.nodes()))
    @rule(data=st.data(), value=values)
    def edit_inside(self, data, value):
        """A number inside a definition set from the outside: every instance changes."""
        d = self.g.definition_of(data.draw(st.sampled_from(self._instances())))
        if d.constants():
            self.controller.set_value((d.name, data.draw(st.sampled_from(d.constants()))), value)

    @precondition(lambda self: self.stack.canUndo())
    @rule()
    def undo(self):
        self.stack.undo()

    @precondition(lambda self: self.stack.canRedo())
    @rule()
    def redo(self):
        self.stack.redo()

    # ---------------------------------------------------------------- checks

    @invariant()
    def scene_draws_the_graph(self):
        scene_matches(self.scene, self.g)
        vals, grads = self.g.values(), self.g.grads()
        for n, it in self.scene.node_items().items():
            assert it.value_text == row_text(vals[n])
            assert it.grad_text == row_text(grads[n])

    def teardown(self):
        try:
            end = snapshot(self.g)
            top = self.stack.index()
            while self.stack.canUndo():
                self.stack.undo()
            assert snapshot(self.g) == self.start
            scene_matches(self.scene, self.g)
            while self.stack.index() < top:
                self.stack.redo()
            assert snapshot(self.g) == end
            scene_matches(self.scene, self.g)
        finally:
            shiboken6.delete(self.root)


CanvasUndoMachine.TestCase.settings = settings(
    max_examples=examples(30), stateful_step_count=20, deadline=None
)
test_canvas_undo_machine = CanvasUndoMachine.TestCase
