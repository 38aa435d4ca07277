"""The canvas's fast paths keep what they skip honest: an owed wire route (searched when the
wire is first drawn in detail) stays inside the bounds it was given and is found by the paint
that shows it; the scene's bounding rect in floats equals Qt's union; the engine's own
topological order equals networkx's; the window can own a freshly built document."""

from __future__ import annotations

import random

import networkx as nx
import pytest

from engine import Graph
from engine.core.autodiff import _topological_order
from engine.drawing import routing


def _blocked_wire_graph() -> tuple[Graph, int, int, int]:
    """a -> n with z sitting on the straight way between them."""
    g = Graph()
    a = g.add_number(2.0, name="a")
    n = g.add_op("neg", name="n")
    z = g.add_number(1.0, name="z")
    g.connect(a, n, 0)
    g.set_position(a, 0.0, 0.0)
    g.set_position(n, 700.0, 0.0)
    g.set_position(z, 330.0, 0.0)
    return g, a, n, z


def _scene(g, parent):
    from PySide6.QtGui import QUndoStack

    from gui.canvas.controller import Controller
    from gui.canvas.scene import GraphScene

    c = Controller(g, QUndoStack(parent), parent)
    return GraphScene(c, parent)


def _bodies(scene) -> dict:
    out = {}
    for it in scene.node_items().values():
        r = it.mapRectToScene(it.body_rect())
        out[it] = (r.left(), r.top(), r.right(), r.bottom())
    return out


def _box(segs):
    from PySide6.QtCore import QRectF

    x0, y0, x1, y1 = routing.bounds(segs)
    return QRectF(x0, y0, x1 - x0, y1 - y0)


@pytest.mark.gui
def test_an_owed_route_lies_inside_the_bounds_it_was_given(qtbot):
    from PySide6.QtCore import QObject

    g, a, n, _ = _blocked_wire_graph()
    owner = QObject()
    scene = _scene(g, owner)
    wire = scene.wire_item(a, n, 0)
    assert wire._pending  # the plain curve runs under z: routed only when needed
    owed = wire.boundingRect()
    route = wire.route()  # asking for it finds it
    assert not wire._pending and len(route) > 1
    assert owed.contains(_box(route))
    assert routing.under_count([route], _bodies(scene)) == 0
    assert wire.boundingRect().height() < owed.height()  # settled to the route itself


@pytest.mark.gui
def test_the_paint_that_shows_an_owed_wire_routes_it(qtbot, qapp):
    from PySide6.QtWidgets import QWidget

    from gui.canvas.view import GraphView

    g, a, n, z = _blocked_wire_graph()
    w = QWidget()
    qtbot.addWidget(w)
    scene = _scene(g, w)
    view = GraphView(scene, w)
    view.resize(1000, 600)
    w.show()
    wire = scene.wire_item(a, n, 0)
    view.resetTransform()
    view.centerOn(scene.node_item(z).sceneBoundingRect().center())
    view.viewport().grab()
    assert not wire._pending  # found while painting, drawn round z
    qapp.processEvents()  # its bounds settle to the route after the paint
    assert wire.boundingRect() == _box(wire.route()).adjusted(-2.0, -2.0, 2.0, 2.0)
    assert routing.under_count([wire.route()], _bodies(scene)) == 0


@pytest.mark.gui
def test_far_out_an_owed_wire_is_a_line_and_stays_owed(qtbot):
    from PySide6.QtWidgets import QWidget

    from gui.canvas.view import GraphView

    g, a, n, _ = _blocked_wire_graph()
    w = QWidget()
    qtbot.addWidget(w)
    scene = _scene(g, w)
    view = GraphView(scene, w)
    view.resize(400, 300)
    w.show()
    view.resetTransform()
    view.scale(0.05, 0.05)
    view.centerOn(350.0, 30.0)
    view.viewport().grab()
    wire = scene.wire_item(a, n, 0)
    assert wire._pending and not wire.label_drawn


@pytest.mark.gui
def test_items_bounding_rect_is_the_union_of_the_nodes(qtbot):
    from PySide6.QtCore import QObject, QRectF

    rng = random.Random(3)
    g = Graph()
    ids = [g.add_number(rng.uniform(-1, 1)) for _ in range(5)]
    for op in ("add", "neg", "mul", "exp", "pow", "relu"):
        ids.append(g.add_op(op))
    for k, n in enumerate(ids):
        g.set_position(n, rng.uniform(-900, 900), rng.uniform(-700, 700))
    owner = QObject()
    scene = _scene(g, owner)
    want = QRectF()
    for it in scene.node_items().values():
        want = want.united(it.sceneBoundingRect())
    assert scene.items_bounding_rect() == want
    scene.node_item(ids[-1]).setPos(5000.0, -3000.0)  # a node dragged far out
    want = QRectF()
    for it in scene.node_items().values():
        want = want.united(it.sceneBoundingRect())
    assert scene.items_bounding_rect() == want


@pytest.mark.gui
def test_a_big_scene_keeps_a_shallow_index():
    from gui.canvas.scene import BSP_DEPTH_MAX, bsp_depth

    assert bsp_depth(193_000) == BSP_DEPTH_MAX  # Qt's own choice would be 18
    assert bsp_depth(40) == 6 and bsp_depth(1) == 5


def test_topological_order_is_networkx_order():
    for seed in range(150):
        rng = random.Random(seed)
        g = nx.MultiDiGraph()
        nodes = rng.sample(range(1000), rng.randint(1, 40))
        g.add_nodes_from(nodes)
        for _ in range(rng.randint(0, 90)):
            i, j = sorted(rng.sample(range(len(nodes)), 2)) if len(nodes) > 1 else (0, 0)
            if i != j:
                g.add_edge(nodes[i], nodes[j], key=rng.randrange(3))
        assert _topological_order(g) == list(nx.topological_sort(g)), seed
    cyc = nx.MultiDiGraph([(1, 2), (2, 1)])
    with pytest.raises(nx.NetworkXUnfeasible):
        _topological_order(cyc)


@pytest.mark.gui
def test_the_window_owns_a_fresh_document_only_when_told(qtbot):
    from gui.shell.main_window import MainWindow

    g = Graph.from_expression("x*y+x", x=3.0, y=2.0)
    copied = MainWindow(g, use_settings=False)
    qtbot.addWidget(copied)
    assert copied.document is not g
    owned = MainWindow(g, use_settings=False, own_document=True)
    qtbot.addWidget(owned)
    assert owned.document is g and owned.document.value(owned.document.output_node()) == 9.0
