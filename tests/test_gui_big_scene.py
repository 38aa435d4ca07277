"""Big documents (issue 7): the scene grows with the document, so Fit shows all of it."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QMessageBox

from engine import Graph
from gui.canvas.scene import SCENE_HALF
from gui.shell.main_window import MainWindow

pytestmark = pytest.mark.gui


def _wide_document(n: int) -> Graph:
    """A long chain laid out left to right: far wider than the old fixed ±50,000 scene."""
    g = Graph()
    prev = g.add_number(1.0, name="x")
    for k in range(n - 1):
        node = g.add_op("neg" if k % 2 else "tanh")
        g.connect(prev, node, 0)
        prev = node
    g.apply_layout()
    return g


def test_fit_shows_every_node_of_a_10000_node_document(qtbot):
    g = _wide_document(10_000)
    xs = [g.position(n)[0] for n in g.nodes()]
    assert max(xs) - min(xs) > 4 * SCENE_HALF  # most nodes lie outside the old scene rect
    w = MainWindow(g, use_settings=False, experiments=False)
    w.ask_unsaved = lambda: QMessageBox.Discard
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    w.act_fit.trigger()
    visible = w.view.mapToScene(w.view.viewport().rect()).boundingRect()
    items = w.scene.node_items()
    assert len(items) == 10_000
    outside = [n for n, it in items.items() if not visible.contains(it.sceneBoundingRect())]
    assert outside == []
    # and zooming back in from there works, then Fit again reaches as far
    w.act_zoom_in.trigger()
    assert w.view.zoom() > 0
    w.act_fit.trigger()
    assert w.view.mapToScene(w.view.viewport().rect()).boundingRect().contains(w.scene.items_bounding_rect())


def test_the_scene_grows_when_a_node_moves_far_out(qtbot):
    w = MainWindow(Graph.from_expression("a*b", a=1, b=2), use_settings=False, experiments=False)
    w.ask_unsaved = lambda: QMessageBox.Discard
    qtbot.addWidget(w)
    a = w.document.resolve("a")
    assert w.controller.move_nodes({a: (3 * SCENE_HALF, -3 * SCENE_HALF)})
    assert w.scene.sceneRect().contains(w.scene.node_item(a).sceneBoundingRect())
