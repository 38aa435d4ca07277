"""Learn ▸ Show Backward Graph and Differentiate Again (issue 16, point 2), through the real
menu and keys: the nodes inserted as one undo step, their painted values against calculus by
hand (tanh' = 1 − tanh², tanh'' = −2 tanh (1 − tanh²)), the dashed saved wires and their count,
live after an edit, stale after a structural edit and rebuilt, refusals in words."""

from __future__ import annotations

import math

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox

from engine import Graph
from gui.learn.higher.backward_view import backward_nodes
from gui.shell.main_window import MainWindow
from tests.painted import check_numbers_current, painted_texts

pytestmark = pytest.mark.gui
CTRL_SHIFT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier


@pytest.fixture
def win(qtbot):
    w = MainWindow(Graph.from_expression("y = tanh(x)", x=0.5), use_settings=False)
    w.ask_unsaved = lambda: QMessageBox.StandardButton.Discard
    qtbot.addWidget(w)
    w.resize(1400, 900)
    w.show()
    qtbot.waitExposed(w)
    with qtbot.waitActive(w):
        w.activateWindow()
    return w


def key(w, k, mods=CTRL_SHIFT):
    QTest.keyClick(w, k, mods)
    QApplication.processEvents()


def painted_value(w, node) -> str:
    """The value row's text painted on ``node`` (green, inside its body)."""
    from tests.painted import VALUE

    it = w.scene.node_item(node)
    r = it.mapRectToScene(it.body_rect())
    texts = [t.text for t in painted_texts(w.scene) if t.fill == VALUE and r.contains(t.x + 1, t.y - 2)]
    assert texts, f"no value painted on {w.document.label(node)}"
    return texts[0]


def test_show_backward_graph_is_one_step_live_and_dashed(win):
    g = win.document
    view = win.higher.backward
    assert view.act_show in win.menus["learn"].actions()
    steps = win.undo_stack.count()
    key(win, Qt.Key.Key_B)
    back = backward_nodes(g)
    assert len(back) >= 3 and win.undo_stack.count() == steps + 1
    dx = g.resolve("∂y/∂x")
    t = math.tanh(0.5)
    assert g.value(dx) == pytest.approx(1 - t * t, rel=1e-12)  # by hand
    assert painted_value(win, dx) == f"{1 - t * t:.5g}"
    assert g.output_node() == g.resolve("y")  # the forward output stays the output
    check_numbers_current(win.scene)
    # the forward value the pass reads (y, for 1 − y·y) comes in on dashed wires, counted
    saved = {s for s, d, _p in view.dashes}
    assert saved == {g.resolve("y")}
    assert all(m.isVisible() and m._pen.style() == Qt.PenStyle.DashLine for m in view.dashes.values())
    assert "1 saved forward values" in view.label.text() and view.label.isVisible()
    assert any("reads 1 saved forward values" in t.text for t in painted_texts(win.scene))
    # live: a new x reaches ∂y/∂x at once
    win.controller.set_value(g.resolve("x"), -1.0)
    QApplication.processEvents()
    t = math.tanh(-1.0)
    assert painted_value(win, dx) == f"{1 - t * t:.5g}"
    # one undo step removes it, redo brings it back; the toggle hides it in one step as well
    win.undo_stack.undo()
    win.undo_stack.undo()
    QApplication.processEvents()
    assert backward_nodes(g) == [] and not view.label.isVisible() and not view.act_show.isChecked()
    assert not any("Backward pass" in t.text for t in painted_texts(win.scene))
    win.undo_stack.redo()
    QApplication.processEvents()
    assert sorted(backward_nodes(g)) == sorted(back) and view.act_show.isChecked()
    view.act_show.trigger()
    assert backward_nodes(g) == [] and win.undo_stack.index() == steps + 2


def test_a_structural_edit_makes_it_stale_and_rebuild_is_one_step(win):
    g = win.document
    view = win.higher.backward
    key(win, Qt.Key.Key_B)
    assert "STALE" not in view.label.text()
    # y = tanh(x) * x now: the backward graph no longer is the gradient of the document
    m = win.controller.add_node("mul", (400.0, 0.0))
    win.controller.connect(g.resolve("y"), m, 0)
    win.controller.connect(g.resolve("x"), m, 1)
    QApplication.processEvents()
    assert "STALE" in view.label.text()
    before = win.undo_stack.count()
    key(win, Qt.Key.Key_B, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier)
    assert win.undo_stack.count() == before + 1 and "STALE" not in view.label.text()
    # by hand: d/dx (tanh(x)·x) = (1 − tanh²)·x + tanh
    t = math.tanh(0.5)
    dx = g.resolve(f"∂{g.label(m)}/∂x")
    assert g.value(dx) == pytest.approx((1 - t * t) * 0.5 + t, rel=1e-12)


def test_differentiate_again_gives_the_second_derivative(win):
    g = win.document
    key(win, Qt.Key.Key_D)  # nothing selected: refused in words
    assert "select one gradient node" in win.statusBar().currentMessage()
    win.scene.select_nodes([g.resolve("y")])
    key(win, Qt.Key.Key_D)
    assert "is not a gradient node" in win.statusBar().currentMessage()
    key(win, Qt.Key.Key_B)
    dx = g.resolve("∂y/∂x")
    win.scene.select_nodes([dx])
    steps = win.undo_stack.count()
    key(win, Qt.Key.Key_D)
    assert win.undo_stack.count() == steps + 1
    d2 = g.resolve("∂∂y/∂x/∂x")
    t = math.tanh(0.5)
    assert g.value(d2) == pytest.approx(-2 * t * (1 - t * t), rel=1e-12)  # by hand
    assert g.role(d2) == "backward"
    assert painted_value(win, d2) == f"{-2 * t * (1 - t * t):.5g}".replace("-", "\u2212")
    win.undo_stack.undo()
    assert "∂∂y/∂x/∂x" not in g and "∂y/∂x" in g


def test_step_through_marks_the_backward_node_of_each_amount(win):
    g = win.document
    key(win, Qt.Key.Key_B)
    exp = win.experiment
    QTest.keyClick(win, Qt.Key.Key_F8)  # step mode: the seed
    QTest.keyClick(win, Qt.Key.Key_F10)  # step 1: y sends 1 − tanh² back to x
    QApplication.processEvents()
    assert exp.step.active and exp.step.k == 1
    t = math.tanh(0.5)
    marks = [t for t in painted_texts(win.scene) if t.text.startswith("computes ")]
    assert [m.text for m in marks] == [f"computes y → x: {1 - t * t:.5g}"]
    (b,) = [n for (n, _k) in win.higher.backward.step_marks.items()]
    assert g.role(b) == "backward" and g.value(b) == pytest.approx(1 - t * t, rel=1e-12)
    exp.step.stop()
    QApplication.processEvents()
    assert not any(t.text.startswith("computes ") for t in painted_texts(win.scene))


def test_the_backward_graph_arrives_as_one_event_and_is_drawn_whole(win):
    """Show Backward Graph is one engine event (the scene adds its items in one pass, not one
    per node), and every node and wire of the document then has its item, painted."""
    g, sc = win.document, win.scene
    per_node, bulk = [], []
    win.bridge.nodeAdded.connect(per_node.append)
    win.bridge.inserted.connect(lambda nodes, wires: bulk.append((nodes, wires)))
    key(win, Qt.Key.Key_B)
    back = backward_nodes(g)
    assert per_node == [] and len(bulk) == 1 and sorted(bulk[0][0]) == sorted(back)
    assert sorted(sc.node_item(n).node_id for n in g.nx) == sorted(g.nx)
    for s, t, p in g.nx.edges(keys=True):
        w = sc.wire_item(s, t, p)
        assert w is not None and w.scene() is sc and sc.node_item(t).inputs[p].connected
    texts = [t.text for t in painted_texts(sc)]
    assert any("∂y/∂x" in t for t in texts)
    # undone and redone, the items follow the document both ways
    win.undo_stack.undo()
    QApplication.processEvents()
    assert all(sc.node_item(n) is None for n in back)
    win.undo_stack.redo()
    QApplication.processEvents()
    assert all(sc.node_item(n) is not None for n in back) and len(bulk) == 2
