"""Wiring that forgives, driven through the real canvas widgets (offscreen): drops near a port
connect, a wire dropped on empty canvas creates and connects, wires are selected, deleted and
edited from their own menu, and building a graph never blanks the gradients."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt, QTimer
from PySide6.QtGui import QContextMenuEvent
from PySide6.QtWidgets import QApplication, QMenu, QMessageBox

from engine import Graph
from gui.canvas.items import OUT_AUTO, WireItem
from gui.canvas.view import GraphView
from tests.qt_helpers import click, drag, drop_mime, mouse, snapshot, view_point
from tests.test_gui_canvas import fanout_graph, in_port, make_canvas, out_port

pytestmark = pytest.mark.gui


@pytest.fixture(autouse=True)
def clean_clipboard(qapp):
    yield
    QApplication.clipboard().clear()


@pytest.fixture
def canvas(qtbot):
    return make_canvas(qtbot, fanout_graph())


@pytest.fixture
def pair(qtbot):
    """A number x on the left and a relu with a free input on the right, far apart; the
    relu is the explicit output so x's gradient is defined once it is wired."""
    g = Graph()
    x = g.add_number(2.0, name="x", x=0.0, y=0.0)
    r = g.add_op("relu", x=400.0, y=0.0)
    g.set_output(r)
    w = make_canvas(qtbot, g)
    w.view.centerOn(270, 40)
    return w, x, r


def _press_move(w, start: QPointF, end: QPointF, steps: int = 5) -> None:
    """Press at ``start`` and move to ``end`` with the button held (no release)."""
    a, b = view_point(w.view, start), view_point(w.view, end)
    mouse(w.view, "press", a)
    for k in range(1, steps + 1):
        p = QPoint(round(a.x() + (b.x() - a.x()) * k / steps), round(a.y() + (b.y() - a.y()) * k / steps))
        mouse(w.view, "move", p, buttons=Qt.MouseButton.LeftButton)


def _wire_point(w, key) -> QPointF:
    """A point on the middle of a wire's drawn path."""
    return w.scene.wire_item(*key).path().pointAtPercent(0.5)


# ------------------------------------------------------------------ drops near a port


@pytest.mark.parametrize("off", [12.0, 20.0])
def test_a_drop_12_px_off_an_input_port_connects_and_the_port_is_highlighted(pair, off):
    w, x, r = pair
    assert w.view.zoom() == 1.0
    port = in_port(w, r, 0)
    near = port + QPointF(-off, 0.0)  # screen pixels to the left of the port's centre
    if off > 12.0:  # outside the port's own 24 px hit area: only the snap can take it
        assert w.scene.port_at(near) is None
    _press_move(w, out_port(w, x), near)
    hl = w.scene.drop_highlight
    assert hl is not None and (hl.node.node_id, hl.kind, hl.index) == (r, "in", 0)
    mouse(w.view, "release", view_point(w.view, near))
    assert w.graph.inputs(r) == [x]
    assert w.scene.drop_highlight is None and not w.scene.dragging_wire
    assert w.graph.grad("x") == 1.0 and w.scene.node_item(x).grad_text == "1"
    w.stack.undo()
    assert w.graph.inputs(r) == [None]


def test_a_drop_12_px_off_an_output_port_connects_when_dragging_from_an_input(pair):
    w, x, r = pair
    near = out_port(w, x) + QPointF(8.5, 8.5)  # 12 px away diagonally
    drag(w.view, in_port(w, r, 0), near)
    assert w.graph.inputs(r) == [x]


def test_the_nearest_port_wins_and_a_port_that_would_make_a_cycle_never_highlights(canvas):
    w = canvas
    g = w.graph
    a = g.resolve("a")
    out = g.evaluated_output()
    # from the output's own output port towards a's consumers: every input upstream would
    # close a cycle, so nothing there highlights and a drop there changes nothing
    consumer = g.consumers(a)[0][0]
    _press_move(w, out_port(w, out), in_port(w, consumer, 1) + QPointF(-6, 0))
    assert w.scene.drop_highlight is None
    before = snapshot(g)
    mouse(w.view, "release", view_point(w.view, in_port(w, consumer, 1) + QPointF(-6, 0)))
    assert snapshot(g) == before


def test_a_drop_far_from_any_port_on_a_node_body_does_not_connect_and_says_why(pair):
    w, x, r = pair
    y = w.controller.add_node("number", (400.0, 300.0), value=1.0)
    drag(w.view, out_port(w, x), w.scene.node_item(y).mapToScene(QPointF(70, 40)))
    assert w.graph.consumers(x) == [] and "no free input" in w.messages[-1]


# ------------------------------------------------------------------ drop on empty canvas


def test_a_wire_dropped_on_empty_canvas_opens_the_search_and_connects_what_it_creates(pair):
    w, x, r = pair
    g = w.graph
    spot = out_port(w, x) + QPointF(150.0, 220.0)
    assert w.scene.items(spot) == []
    drag(w.view, out_port(w, x), spot)
    assert w.view.search.isVisible()
    steps = w.stack.count()
    w.view.search.edit.setText("tanh")
    w.view.search.choose_current()
    (new,) = set(g.nodes()) - {x, r}
    assert g.op(new) == "tanh" and g.inputs(new) == [x]
    assert w.scene.wire_item(x, new, 0) is not None
    # created where the wire was dropped: its input port is near the drop point
    assert (in_port(w, new, 0) - spot).manhattanLength() < 60
    assert w.stack.count() == steps + 1
    w.stack.undo()
    assert set(g.nodes()) == {x, r} and g.consumers(x) == []


def test_a_wire_dragged_from_an_input_onto_empty_canvas_creates_its_source(pair):
    w, x, r = pair
    g = w.graph
    spot = in_port(w, r, 0) + QPointF(-160.0, 200.0)
    drag(w.view, in_port(w, r, 0), spot)
    assert w.view.search.isVisible()
    w.view.search.edit.setText("number")
    w.view.search.choose_current()
    (new,) = set(g.nodes()) - {x, r}
    assert g.op(new) == "number" and g.inputs(r) == [new]
    assert w.scene.node_item(r).grad_text == "1" and g.grad(new) is not None


def test_escape_in_the_search_after_a_wire_drop_adds_nothing(pair):
    w, x, r = pair
    before = snapshot(w.graph)
    drag(w.view, out_port(w, x), out_port(w, x) + QPointF(150.0, 220.0))
    w.view.search.close_popup()
    assert snapshot(w.graph) == before and w.stack.count() == 0


# ------------------------------------------------------------------ selecting and deleting wires


def test_click_selects_a_wire_and_delete_removes_it_with_one_undo(qtbot, canvas):
    w = canvas
    g = w.graph
    before = snapshot(g)
    key = sorted(g.edges())[0]
    click(w.view, _wire_point(w, key))
    assert w.scene.selected_wire_keys() == [key] and w.scene.selected_node_ids() == []
    qtbot.keyClick(w.view, Qt.Key_Delete)
    assert key not in g.edges()
    w.stack.undo()
    assert snapshot(g) == before


def test_several_wires_selected_and_deleted_are_one_undo_step(qtbot, canvas):
    w = canvas
    g = w.graph
    before = snapshot(g)
    keys = sorted(g.edges())[:3]
    click(w.view, _wire_point(w, keys[0]))
    for k in keys[1:]:
        click(w.view, _wire_point(w, k), modifiers=Qt.KeyboardModifier.ControlModifier)
    assert sorted(w.scene.selected_wire_keys()) == keys
    steps = w.stack.count()
    qtbot.keyClick(w.view, Qt.Key_Delete)
    assert not set(keys) & set(g.edges())
    assert w.stack.count() == steps + 1 and "3 wires" in w.stack.undoText()
    w.stack.undo()
    assert snapshot(g) == before
    w.stack.redo()
    assert not set(keys) & set(g.edges())


def test_a_box_takes_the_wires_it_holds_but_not_the_ones_it_crosses(canvas):
    w = canvas
    g = w.graph
    w.view.fit_all()
    QApplication.processEvents()
    items = w.scene.node_items()
    a = g.resolve("a")
    consumers = [t for t, _ in g.consumers(a)]
    box = items[a].sceneBoundingRect()
    for t in consumers:
        box = box.united(items[t].sceneBoundingRect())
    box = box.adjusted(-20, -20, 20, 20)
    # start the box on empty canvas, left of everything
    start = QPointF(box.left(), box.top())
    assert not [it for it in w.scene.items(start) if not isinstance(it, WireItem)]
    drag(w.view, start, box.bottomRight())
    wires = set(w.scene.selected_wire_keys())
    inside = {(a, t, p) for s, t, p in g.edges() if s == a for _ in [0]}
    assert inside <= wires
    for s, t, p in wires:  # every selected wire lies inside the box
        assert box.contains(w.scene.wire_item(s, t, p).path().boundingRect())


# ------------------------------------------------------------------ the wire's menu


def _close_menu_later(shown: list) -> None:
    """Record the texts of the menu that is about to open and close it (exec blocks)."""

    def close():
        menu = QApplication.activePopupWidget()
        if isinstance(menu, QMenu):
            shown.append([a.text() for a in menu.actions()])
            menu.close()

    QTimer.singleShot(50, close)


def test_right_click_on_a_wire_opens_the_wire_menu_not_the_search(canvas):
    w = canvas
    key = sorted(w.graph.edges())[0]
    shown = []
    _close_menu_later(shown)
    p = view_point(w.view, _wire_point(w, key))
    ev = QContextMenuEvent(QContextMenuEvent.Reason.Mouse, p, w.view.viewport().mapToGlobal(p))
    QApplication.sendEvent(w.view.viewport(), ev)
    assert shown == [["Delete wire", "Insert op on this wire…"]]
    assert not w.view.search.isVisible()
    assert w.scene.selected_wire_keys() == [key]
    # right-click on empty canvas still opens the search box
    empty = view_point(w.view, QPointF(-400, -400))
    ev = QContextMenuEvent(QContextMenuEvent.Reason.Mouse, empty, w.view.viewport().mapToGlobal(empty))
    QApplication.sendEvent(w.view.viewport(), ev)
    assert w.view.search.isVisible() and len(shown) == 1


def test_insert_op_on_a_wire_puts_it_between_source_and_target_in_one_undo_step(canvas):
    w = canvas
    g = w.graph
    before = snapshot(g)
    s, t, p = key = next(e for e in sorted(g.edges()) if g.name(e[0]) == "a")
    menu = w.scene.wire_menu(key, _wire_point(w, key))
    next(a for a in menu.actions() if a.text().startswith("Insert")).trigger()
    assert w.view.search.isVisible()
    w.view.search.edit.setText("sin")
    w.view.search.choose_current()
    (new,) = set(g.nodes()) - set(before["nodes"])
    assert g.op(new) == "sin" and g.inputs(new) == [s] and g.inputs(t)[p] == new
    assert key not in g.edges()
    assert w.scene.wire_item(s, new, 0) is not None and w.scene.wire_item(new, t, p) is not None
    w.stack.undo()
    assert snapshot(g) == before


def test_wire_menu_delete_removes_the_wire(canvas):
    w = canvas
    key = sorted(w.graph.edges())[-1]
    menu = w.scene.wire_menu(key, _wire_point(w, key))
    next(a for a in menu.actions() if a.text() == "Delete wire").trigger()
    assert key not in w.graph.edges() and w.scene.wire_item(*key) is None


# ------------------------------------------------------------------ gradients stay visible while building


def test_a_dropped_node_leaves_the_automatic_output_and_every_gradient(canvas):
    """A lone new node depends on nothing, so the output (the sink that depends on the most
    nodes) stays where it was, unpinned, and no gradient goes blank."""
    w = canvas
    g = w.graph
    w.controller.set_output(None)  # the output follows the graph
    out = g.evaluated_output()
    assert g.pinned_output is None and out is not None
    a = g.resolve("a")
    steps = w.stack.count()
    assert drop_mime(w.view, GraphView.MIME_OP, b"exp", (900.0, 400.0))
    assert g.pinned_output is None and g.evaluated_output() == out and g.grad(a) == 35.0
    assert w.scene.node_item(a).grad_text == "35"
    assert w.scene.node_item(out).output_mark == OUT_AUTO
    assert w.stack.count() == steps + 1  # the drop alone: no output edit rides along


def test_a_paste_keeps_the_output_and_a_pinned_output_is_never_moved(canvas):
    w = canvas
    g = w.graph
    w.controller.set_output(None)
    out = g.evaluated_output()
    a = g.resolve("a")
    w.scene.select_nodes([a])
    w.view.copy_selected()
    w.view.paste(at=(800.0, 500.0))
    assert g.output == out and g.grad(a) == 35.0
    w.controller.set_output(a)
    w.view.paste(at=(800.0, 700.0))
    assert g.output == g.pinned_output == a


def test_a_pure_move_runs_no_evaluation(canvas):
    w = canvas
    g = w.graph
    a = g.resolve("a")
    runs = []
    w.scene.bridge.evaluated.connect(lambda: runs.append(1))
    it = w.scene.node_item(a)
    start = it.mapToScene(QPointF(70, 50))
    drag(w.view, start, start + QPointF(60, 40))
    assert g.position(a) != (0.0, 0.0) and w.stack.undoText().startswith("Move")
    w.stack.undo()
    w.stack.redo()
    assert runs == []
    w.controller.set_value(a, 4.0)
    assert runs == [1]


def test_palette_double_clicks_place_nodes_that_cover_no_other_node(qtbot):
    from gui.shell.main_window import MainWindow

    win = MainWindow(use_settings=False, experiments=False)
    win.ask_unsaved = lambda: QMessageBox.StandardButton.Discard  # closing never blocks
    qtbot.addWidget(win)
    win.show()
    new = [win.add_at_view_centre(op) for op in ("sin", "cos", "exp", "number")]
    rects = {n: win.scene.node_item(n).mapRectToScene(win.scene.node_item(n).body_rect())
             for n in win.document.nodes()}
    for n in new:
        for m, r in rects.items():
            if m != n:
                assert not rects[n].intersects(r), (n, m)


def test_refused_wiring_requests_change_nothing_and_say_why(pair):
    w, x, r = pair
    c = w.controller
    before = snapshot(w.graph)
    # a number cannot take the wire dragged out of x
    assert c.add_connected("number", (300.0, 300.0), source=x) is None
    assert "no inputs" in w.messages[-1]
    for bad in [(x, r, 0), (x, r, 5), ("nope", r, 0), None, 7, (x, r)]:
        assert not c.remove_items((), [bad])
        assert c.insert_on_wire("exp", bad, (0.0, 0.0)) is None
    assert c.add_connected("frobnicate", (0.0, 0.0), source=x) is None
    assert c.add_connected("exp", (0.0, 0.0), target=r, port=3) is None
    assert snapshot(w.graph) == before and w.stack.count() == 0
