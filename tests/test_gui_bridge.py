"""The bridge and the read-only scene (issue 7, items 2 and 3)."""

from __future__ import annotations

import pytest
import shiboken6
from PySide6.QtCore import QObject, QPointF
from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import QApplication, QGraphicsView

from engine import Graph
from gui.canvas.bridge import DocumentBridge
from gui.canvas.controller import Controller
from gui.canvas.scene import GraphScene
from tests.qt_helpers import drag, scene_matches

pytestmark = pytest.mark.gui


@pytest.fixture
def bridge(qapp):
    g = Graph.from_expression("(a*4+3)*(a+2)", a=3)
    g.apply_layout()
    b = DocumentBridge(g)
    yield b
    shiboken6.delete(b)


def test_each_engine_event_becomes_its_typed_signal(bridge, qtbot):
    g = bridge.graph
    heard = []
    for name in ("nodeAdded", "nodeRemoved", "edgeAdded", "edgeRemoved", "valueChanged", "nameChanged",
                 "nodeMoved", "outputChanged", "metaChanged", "layoutApplied", "reset", "evaluated"):
        getattr(bridge, name).connect(lambda *args, name=name: heard.append((name, *args)))
    a = g.resolve("a")
    n = g.add_number(1.0)
    m = g.add_op("neg")
    g.connect(n, m, 0)
    g.set_value(n, 2.0)
    g.set_name(n, "z")
    g.set_position(n, 5.0, 6.0)
    g.set_output(m)
    g.meta["title"] = "t"
    g.disconnect(m, 0)
    g.remove_node(m)
    g.apply_layout()
    assert heard == [("nodeAdded", n), ("nodeAdded", m), ("edgeAdded", n, m, 0, 0), ("valueChanged", n),
                     ("nameChanged", n, "z"), ("nodeMoved", n, 5.0, 6.0), ("outputChanged", m, 0),
                     ("metaChanged", "title"), ("edgeRemoved", n, m, 0, 0), ("outputChanged", None, 0),
                     ("nodeRemoved", m), ("layoutApplied",)]
    # an edit made outside an undo command is re-evaluated on the next turn of the event loop
    with qtbot.waitSignal(bridge.evaluated):
        g.set_value(a, 1.0)
    assert heard[-1] == ("evaluated",)


def test_replacing_the_graph_moves_every_listener(bridge, qtbot):
    old = bridge.graph
    scene = GraphScene(bridge)
    new = Graph.from_expression("x*x", x=4)
    with qtbot.waitSignals([bridge.replaced, bridge.evaluated]):
        bridge.set_graph(new)
    assert old._subscribers == [] and len(new._subscribers) == 1
    scene_matches(scene, new)
    assert scene.node_item(new.resolve("x")).grad_text == "8"
    shiboken6.delete(scene)


def test_a_read_only_scene_draws_without_controller_or_undo_stack(qapp, qtbot):
    g = Graph.from_expression("a*b", a=2, b=3)
    g.apply_layout()
    scene = GraphScene.drawing(g)
    assert scene.read_only and scene.controller is None
    assert scene.findChildren(Controller) == [] and scene.findChildren(QUndoStack) == []
    assert g._subscribers == []  # it draws a copy
    view = QGraphicsView(scene)
    view.resize(800, 600)
    view.show()
    qtbot.waitExposed(view)
    a = scene.graph.resolve("a")
    it = scene.node_item(a)
    before = it.pos()
    centre = it.sceneBoundingRect().center()
    drag(view, centre, centre + QPointF(150, 80))  # a node body: nothing moves
    out = next(p for p in it.ports() if p.kind == "out")
    drag(view, out.scenePos(), scene.node_item(scene.graph.resolve(3)).sceneBoundingRect().center())
    assert it.pos() == before and not scene.dragging_wire
    assert scene.graph.to_dict() == Graph.from_dict(scene.graph.to_dict()).to_dict()
    assert scene.graph.position(a) == (before.x(), before.y()) and len(scene.graph.edges()) == 2
    assert scene.node_menu(a).actions() == []
    assert scene.node_item(scene.graph.resolve(3)).value_text == "6"
    view.close()
    shiboken6.delete(view)
    shiboken6.delete(scene)


def test_a_controller_scene_still_takes_gestures(qapp):
    root = QObject()
    stack = QUndoStack(root)
    c = Controller(Graph.from_expression("a*b", a=2, b=3), stack, root)
    scene = GraphScene(c.bridge, root, controller=c)
    assert not scene.read_only and scene.bridge is c.bridge
    c.set_value("a", 5.0)
    assert scene.node_item(c.graph.resolve(3)).value_text == "15"
    QApplication.processEvents()
    shiboken6.delete(root)
