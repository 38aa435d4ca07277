"""Big documents on the canvas (offscreen): Fit fits, scrollbars and the overview move the
view, zoomed-out wires drop their labels, an edit touches only the labels that change."""

from __future__ import annotations

import random

import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from engine import Graph
from gui import style
from gui.canvas import items as items_mod
from gui.canvas.items import NodeItem
from gui.canvas.view import ZOOM_MIN
from tests.test_gui_canvas import make_canvas

pytestmark = pytest.mark.gui


def chain(n: int) -> Graph:
    """x -> sin -> cos -> sin ... n nodes, laid out in one long row (2,000 stages ~ 380,000
    scene units wide)."""
    g = Graph()
    prev = g.add_number(0.5, name="x")
    for k in range(n - 1):
        m = g.add_op("sin" if k % 2 else "cos")
        g.connect(prev, m, 0)
        prev = m
    g.set_output(prev)
    g.apply_layout()
    return g


def random_dag(n: int, seed: int = 3) -> Graph:
    rng = random.Random(seed)
    g = Graph()
    nodes = []
    for i in range(n):
        if i < 3 or rng.random() < 0.3:
            nodes.append(g.add_number(rng.uniform(0.5, 2.0)))
            continue
        m = g.add_op(rng.choice(["add", "mul", "sub", "tanh"]))
        for p in range(g.arity(m)):
            g.connect(rng.choice(nodes[-30:]), m, p)
        nodes.append(m)
    sinks = [v for v in g.nodes() if g.nx.out_degree(v) == 0]
    g.set_output(sinks[-1])
    g.apply_layout()
    return g


def visible_scene_rect(view):
    return view.mapToScene(view.viewport().rect()).boundingRect()


def test_fit_shows_every_node_of_a_2000_stage_chain(qtbot):
    w = make_canvas(qtbot, chain(2000))
    w.view.fit_all()
    QApplication.processEvents()
    assert w.view.zoom() > ZOOM_MIN / 2  # within the zoom range's reach
    seen = visible_scene_rect(w.view)
    for n, it in w.scene.node_items().items():
        assert seen.contains(it.mapRectToScene(it.body_rect())), n


def test_scrollbars_move_the_view_over_a_document_bigger_than_it(qtbot):
    w = make_canvas(qtbot, chain(200))
    w.view.fit_all()
    w.view.zoom_by(1.0 / w.view.zoom())  # back to 100 %: the document is far wider than the view
    QApplication.processEvents()
    bar = w.view.horizontalScrollBar()
    assert bar.isVisible() and bar.maximum() > bar.minimum()
    before = visible_scene_rect(w.view).center().x()
    bar.setValue(bar.maximum())
    after = visible_scene_rect(w.view).center().x()
    assert after > before
    last = max(it.sceneBoundingRect().right() for it in w.scene.node_items().values())
    assert visible_scene_rect(w.view).right() >= last  # the far end is reachable


def test_the_overview_opens_for_a_big_document_and_a_click_there_moves_the_view(qtbot):
    from gui.shell.main_window import MainWindow

    win = MainWindow(random_dag(600), use_settings=False, experiments=False)
    win.ask_unsaved = lambda: QMessageBox.StandardButton.Discard
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    assert win.overview.isVisible()
    mm = win.overview.minimap
    mm.rebuild()
    assert mm._image is not None
    # the view's rectangle is drawn inside the overview
    assert mm.rect().intersects(mm.view_rect().toAlignedRect())
    # click where the overview draws the last node: the view centres on that node
    far = max(win.scene.node_items().values(), key=lambda it: (it.pos().x(), it.pos().y()))
    assert not visible_scene_rect(win.view).contains(far.sceneBoundingRect())
    spot = far.sceneBoundingRect().center()
    target = QPointF(mm._offset.x() + spot.x() * mm._scale, mm._offset.y() + spot.y() * mm._scale)
    qtbot.mouseClick(mm, Qt.MouseButton.LeftButton, pos=target.toPoint())
    assert visible_scene_rect(win.view).contains(spot)
    # dragging in the overview pans the view along
    before = visible_scene_rect(win.view).center()
    qtbot.mousePress(mm, Qt.MouseButton.LeftButton, pos=target.toPoint())
    qtbot.mouseMove(mm, (target - QPointF(20, 20)).toPoint())
    qtbot.mouseRelease(mm, Qt.MouseButton.LeftButton, pos=(target - QPointF(20, 20)).toPoint())
    after = visible_scene_rect(win.view).center()
    assert after.x() < before.x() and after.y() < before.y()
    # and the overview of a small document stays out of the way
    win.new_document()
    assert not win.overview.isVisible()


def test_zoomed_out_wires_are_plain_lines_without_labels(qtbot, monkeypatch):
    w = make_canvas(qtbot, random_dag(80))
    w.scene.set_show_wire_grads(True)
    placed = []
    orig = items_mod.WireItem._place_label
    monkeypatch.setattr(items_mod.WireItem, "_place_label", lambda self: placed.append(1) or orig(self))
    w.view.fit_all()
    w.view.zoom_by(0.1 / w.view.zoom())
    w.view.viewport().grab()
    assert placed == []  # far out: no label is even placed
    w.view.zoom_by(1.0 / w.view.zoom())
    w.view.centerOn(w.scene.node_item(w.graph.output).sceneBoundingRect().center())
    w.view.viewport().grab()
    assert placed  # at 100 % the labels are back


def test_a_value_edit_touches_only_the_labels_whose_numbers_change(qtbot, monkeypatch):
    g = random_dag(1500)
    w = make_canvas(qtbot, g)
    calls = []
    orig = NodeItem.set_state
    monkeypatch.setattr(NodeItem, "set_state", lambda self, *a: calls.append(self.node_id) or orig(self, *a))
    # a number feeding exactly one op: its change reaches that op's descendants, not the document
    leaf = next(n for n in g.nodes() if g.op(n) == "number" and g.nx.out_degree(n) == 1
                and g.grad(n) is not None)
    affected = {leaf} | set(__import__("networkx").descendants(g.nx, leaf))
    w.controller.set_value(leaf, g.number(leaf) + 0.25)
    assert calls and len(calls) < len(g) / 3
    # every label still equals the engine's numbers
    for n, it in w.scene.node_items().items():
        assert it.value_text == style.format_number(g.value(n)), n
        assert it.grad_text == style.format_number(g.grad(n)), n
    assert set(calls) - affected == set() or len(set(calls) - affected) < len(g) / 3
