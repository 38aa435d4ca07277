"""NaN and inf traced to their origin on the canvas (issue 16, point 4): the badge painted on
the origin with the reason in its tooltip, the status bar, Graph ▸ Go to NaN/inf Origin, and
edits that bring a NaN in and take it out again. The oracle is a hand reading of each document
(exp(800) overflows a double; log of a negative number is NaN), not the tracer."""

from __future__ import annotations

import math

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox

from engine import Graph
from gui.shell.main_window import MainWindow
from resources import EXAMPLES
from tests.painted import painted_texts
from tests.qt_helpers import view_point

pytestmark = pytest.mark.gui


def window(qtbot, graph) -> MainWindow:
    w = MainWindow(graph, use_settings=False)
    w.ask_unsaved = lambda: QMessageBox.StandardButton.Discard
    qtbot.addWidget(w)
    w.resize(1400, 900)
    w.show()
    qtbot.waitExposed(w)
    return w


def badges(w) -> dict:
    """{node under the badge: painted text} for every "born here" badge the scene paints."""
    out = {}
    for t in painted_texts(w.scene):
        if "born here" in t.text:
            # the badge sits against its node's top edge: the node just below it owns it
            bodies = {n: it.mapRectToScene(it.body_rect()) for n, it in w.scene.node_items().items()}
            below = [(r.top() - t.y, n) for n, r in bodies.items()
                     if r.left() <= t.x <= r.right() and 0 < r.top() - t.y < 20]
            assert below, f"badge {t.text!r} at ({t.x:.0f}, {t.y:.0f}) over no node"
            out[min(below)[1]] = t.text
    return out


def press_go_to_origin(w, qtbot):
    with qtbot.waitActive(w):
        w.activateWindow()
    QTest.keyClick(w, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier)
    QApplication.processEvents()


def test_nan_origin_example_badges_exp_not_the_division(qtbot):
    w = window(qtbot, Graph.load(EXAMPLES / "nan_origin.json"))
    g = w.document
    ea = g.resolve("ea")
    # by hand: exp(800) > 1.8e308 is inf; p = inf/inf is NaN downstream; exp(799) also overflows
    assert math.isinf(math.exp(700) * math.exp(100)) and math.isnan(g.value("loss"))
    shown = badges(w)
    assert shown.get(ea) == "⚠ inf born here"
    assert g.resolve("p") not in shown and g.resolve("loss") not in shown
    tip = w.higher.origins.marks.items()[(ea, "origin")].toolTip()
    assert "exp overflowed at 800" in tip
    status = w.higher.origins.label
    assert status.isVisible() and "born at ea" in status.text() and "exp overflowed at 800" in status.text()
    # the action is in the Graph menu with its shortcut; the key selects ea and centres on it
    graph_menu = w.menus["graph"]
    assert w.higher.origins.act_goto in graph_menu.actions()
    w.view.centerOn(0, 5000)  # look elsewhere first
    press_go_to_origin(w, qtbot)
    assert w.scene.selected_node_ids() == [ea]
    centre = w.view.viewport().rect().center()
    at = view_point(w.view, w.scene.node_item(ea).sceneBoundingRect().center())
    assert abs(at.x() - centre.x()) < 40 and abs(at.y() - centre.y()) < 40
    assert "ea: inf born here, exp overflowed at 800" in w.statusBar().currentMessage()


def test_an_edit_brings_a_nan_in_and_undo_takes_it_away(qtbot):
    w = window(qtbot, Graph.from_expression("y = log(x - 3) * 2", x=5.0))
    g = w.document
    assert badges(w) == {} and not w.higher.origins.label.isVisible()
    # typed into the inspector as a user does: x = 2 makes log's input −1
    x = g.resolve("x")
    w.scene.select_nodes([x])
    edit = w.inspector.value_edit
    edit.setFocus()
    edit.selectAll()
    QTest.keyClicks(edit, "2")
    QTest.keyClick(edit, Qt.Key.Key_Return)
    QApplication.processEvents()
    QApplication.processEvents()
    log = next(n for n in g.nx.nodes if g.op(n) == "log")
    assert math.isnan(g.value("y"))
    assert badges(w) == {log: "⚠ NaN born here"}
    assert "log of −1" in w.higher.origins.label.text()
    assert "log of −1" in w.statusBar().currentMessage()  # said once, after the edit
    press_go_to_origin(w, qtbot)
    assert w.scene.selected_node_ids() == [log]
    w.undo_stack.undo()
    QApplication.processEvents()
    assert g.value("y") == pytest.approx(2 * math.log(2))
    assert badges(w) == {} and not w.higher.origins.label.isVisible()
    press_go_to_origin(w, qtbot)  # refused in words, nothing selected
    assert "there is no NaN or inf to trace" in w.statusBar().currentMessage()
    assert w.scene.selected_node_ids() == [log]  # the selection stays as it was


def test_a_gradient_that_overflows_is_traced_to_its_sender(qtbot):
    # by hand: sqrt(0) = 0 is finite, but d/dx sqrt(x) at 0 is 1/(2·0) = inf
    w = window(qtbot, Graph.from_expression("y = sqrt(x) * 3", x=0.0))
    g = w.document
    sq = next(n for n in g.nx.nodes if g.op(n) == "sqrt")
    assert g.value("y") == 0 and math.isinf(g.grad("x"))
    shown = badges(w)
    assert list(shown) == [sq] and "inf born here" in shown[sq]
    assert "slope of sqrt at 0 is inf" in w.higher.origins.label.text()
