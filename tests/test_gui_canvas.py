"""The canvas (controller, scene, items, view, search box) driven through its real widgets,
offscreen, in a bare window. Every test checks the engine document afterwards."""

from __future__ import annotations

import json
import math

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QContextMenuEvent, QUndoStack
from PySide6.QtWidgets import QApplication, QVBoxLayout, QWidget

from engine import OPS, Graph
from gui import style
from gui.canvas.controller import Controller
from gui.canvas.items import OUT_AUTO, OUT_EXPLICIT, NodeItem
from gui.canvas.scene import GraphScene
from gui.canvas.view import MIME_NODES, GraphView
from tests.qt_helpers import (
    click,
    double_click,
    drag,
    drop_mime,
    mouse,
    scene_matches,
    snapshot,
    view_point,
    wheel,
    wire_ends,
)

pytestmark = pytest.mark.gui


class Canvas(QWidget):
    """A bare window: one GraphView over a Controller and a QUndoStack."""

    def __init__(self, graph: Graph):
        super().__init__()
        self.stack = QUndoStack(self)
        self.controller = Controller(graph, self.stack, self)
        self.scene = GraphScene(self.controller, self)
        self.view = GraphView(self.scene, self)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.view)
        self.messages: list[str] = []
        self.controller.message.connect(self.messages.append)
        self.resize(1000, 700)

    @property
    def graph(self) -> Graph:
        return self.controller.graph


def make_canvas(qtbot, graph: Graph | None = None) -> Canvas:
    w = Canvas(graph if graph is not None else Graph())
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    w.view.resetTransform()
    w.view.centerOn(300, 150)
    w.view.setFocus()
    return w


def labels_match(w: Canvas) -> None:
    """Every node's drawn value and gradient equal the engine's."""
    g = w.graph
    for n in g.nodes():
        it = w.scene.node_item(n)
        assert it.value_text == style.format_number(g.value(n)), g.label(n)
        assert it.grad_text == style.format_number(g.grad(n)), g.label(n)


def fanout_graph() -> Graph:
    """(a*4+3)*(a+2) with a=3 laid out on the canvas: a.grad = 35."""
    g = Graph.from_expression("(a*4+3)*(a+2)", a=3)
    g.apply_layout()
    return g


@pytest.fixture(autouse=True)
def clean_clipboard(qapp):
    """Leave no Python-made QMimeData on the clipboard: PySide6 6.12 crashes on exit if one is
    still there (see gui.canvas.view._clear_clipboard)."""
    yield
    QApplication.clipboard().clear()


@pytest.fixture
def canvas(qtbot):
    return make_canvas(qtbot, fanout_graph())


@pytest.fixture
def empty(qtbot):
    return make_canvas(qtbot)


def add(w: Canvas, op, x, y, value=0.0, name=None) -> int:
    n = w.controller.add_node(op, (x, y), value=value, name=name)
    assert n is not None, w.messages
    return n


def in_port(w, n, k) -> QPointF:
    return w.scene.node_item(n).input_port_pos(k)


def out_port(w, n) -> QPointF:
    return w.scene.node_item(n).output_port_pos()


def body(w, n) -> QPointF:
    """A point on the node's body (below the header, away from the ports)."""
    return w.scene.node_item(n).mapToScene(QPointF(style.NODE_W / 2, style.NODE_H - 12))


# ------------------------------------------------------------------ building the scene


def test_scene_draws_the_document_and_its_labels(canvas):
    g = canvas.graph
    scene_matches(canvas.scene, g)
    labels_match(canvas)
    assert canvas.scene.node_item(g.resolve("a")).grad_text == "35"
    out = g.evaluated_output()
    assert canvas.scene.node_item(out).output_mark in (OUT_EXPLICIT, OUT_AUTO)


def test_palette_drop_creates_node_centred_on_drop_point_and_undo_redo(empty):
    w = empty
    assert drop_mime(w.view, GraphView.MIME_OP, b"mul", (120.0, 80.0))
    (n,) = w.graph.nodes()
    assert w.graph.op(n) == "mul"
    centre = w.scene.node_item(n).sceneBoundingRect().center()
    body = w.scene.node_item(n).mapRectToScene(w.scene.node_item(n).body_rect()).center()
    assert (body.x(), body.y()) == pytest.approx((120.0, 80.0), abs=1.0), centre
    assert w.scene.selected_node_ids() == [n]
    w.stack.undo()
    assert len(w.graph) == 0 and w.scene.node_items() == {}
    w.stack.redo()
    assert w.graph.nodes() == [n] and w.graph.op(n) == "mul"
    scene_matches(w.scene, w.graph)


def test_drop_of_unknown_op_is_refused_with_message(empty):
    w = empty
    assert not drop_mime(w.view, GraphView.MIME_OP, b"frobnicate", (0.0, 0.0))
    assert len(w.graph) == 0 and w.stack.count() == 0
    assert w.messages and "frobnicate" in w.messages[-1]


def test_tab_opens_search_and_enter_adds_op_at_cursor(qtbot, empty):
    w = empty
    target = QPointF(200.0, 100.0)
    mouse(w.view, "move", view_point(w.view, target), buttons=Qt.MouseButton.NoButton)
    qtbot.keyClick(w.view, Qt.Key_Tab)
    assert w.view.search.isVisible()
    qtbot.keyClicks(w.view.search.edit, "tanh")
    assert w.view.search.visible_keys() == ["tanh"]
    qtbot.keyClick(w.view.search.edit, Qt.Key_Return)
    assert not w.view.search.isVisible()
    (n,) = w.graph.nodes()
    assert w.graph.op(n) == "tanh"
    assert w.graph.position(n) == pytest.approx((target.x(), target.y()), abs=1.5)


def test_search_filters_escape_closes_and_click_chooses(qtbot, empty):
    w = empty
    w.view.open_search(QPoint(50, 50))
    assert sorted(w.view.search.visible_keys()) == sorted(OPS)
    qtbot.keyClick(w.view.search.edit, Qt.Key_Escape)
    assert not w.view.search.isVisible() and len(w.graph) == 0
    # right-click on empty canvas opens it too; a click on an entry adds that op
    pos = view_point(w.view, (400.0, 200.0))
    ev = QContextMenuEvent(QContextMenuEvent.Reason.Mouse, pos, w.view.viewport().mapToGlobal(pos))
    QApplication.sendEvent(w.view.viewport(), ev)
    assert w.view.search.isVisible()
    qtbot.keyClicks(w.view.search.edit, "÷")
    lst = w.view.search.list
    item = next(lst.item(i) for i in range(lst.count()) if not lst.item(i).isHidden())
    rect = lst.visualItemRect(item)
    qtbot.mouseClick(lst.viewport(), Qt.LeftButton, pos=rect.center())
    (n,) = w.graph.nodes()
    assert w.graph.op(n) == "div"
    assert w.graph.position(n) == pytest.approx((400.0, 200.0), abs=1.5)


# ------------------------------------------------------------------ wires


def test_drag_output_to_input_connects_the_right_port(empty):
    w = empty
    a = add(w, "number", 0, 0, value=2.0, name="a")
    b = add(w, "number", 0, 150, value=5.0, name="b")
    s = add(w, "sub", 300, 60)
    drag(w.view, out_port(w, a), in_port(w, s, 1))
    assert w.graph.inputs(s) == [None, a]
    # the other way round: from an input port to an output port
    drag(w.view, in_port(w, s, 0), out_port(w, b))
    assert w.graph.inputs(s) == [b, a]
    assert w.graph.value(s) == 3.0
    scene_matches(w.scene, w.graph)
    labels_match(w)
    w.stack.undo()
    assert w.graph.inputs(s) == [None, a]
    w.stack.undo()
    assert w.graph.inputs(s) == [None, None]
    w.stack.redo()
    w.stack.redo()
    assert w.graph.inputs(s) == [b, a]
    scene_matches(w.scene, w.graph)


def test_drop_on_used_input_replaces_its_wire_in_one_step(empty):
    w = empty
    a = add(w, "number", 0, 0, value=2.0)
    b = add(w, "number", 0, 150, value=7.0)
    n = add(w, "neg", 300, 60)
    assert w.controller.connect(a, n, 0)
    steps = w.stack.count()
    drag(w.view, out_port(w, b), in_port(w, n, 0))
    assert w.graph.inputs(n) == [b]
    assert w.graph.value(n) == -7.0
    assert w.stack.count() == steps + 1
    w.stack.undo()
    assert w.graph.inputs(n) == [a]
    assert w.graph.value(n) == -2.0
    scene_matches(w.scene, w.graph)


def test_dragging_a_wire_end_off_its_input_disconnects(empty):
    w = empty
    a = add(w, "number", 0, 0, value=2.0)
    n = add(w, "exp", 300, 0)
    w.controller.connect(a, n, 0)
    drag(w.view, in_port(w, n, 0), QPointF(450.0, 300.0))
    assert w.graph.edges() == []
    assert w.scene.wire_items() == {}
    assert w.scene.node_item(n).problem_kind == "unconnected"
    assert w.scene.node_item(n).value_text == style.DASH
    w.stack.undo()
    assert w.graph.edges() == [(a, n, 0)]
    assert w.scene.wire_item(a, n, 0).isVisible()
    scene_matches(w.scene, w.graph)


def test_dragging_a_wire_end_to_another_input_moves_it(empty):
    w = empty
    a = add(w, "number", 0, 0, value=2.0)
    m = add(w, "mul", 300, 0)
    drag(w.view, out_port(w, a), in_port(w, m, 0))
    drag(w.view, in_port(w, m, 0), in_port(w, m, 1))
    assert w.graph.inputs(m) == [None, a]
    w.stack.undo()
    assert w.graph.inputs(m) == [a, None]


def test_cycle_and_self_wire_are_refused_document_unchanged(canvas):
    w = canvas
    g = w.graph
    before = g.to_dict()
    steps = w.stack.count()
    a = g.resolve("a")
    out = g.evaluated_output()
    drag(w.view, out_port(w, out), in_port(w, out, 0))  # a node into itself
    assert w.messages and "itself" in w.messages[-1]
    mul = next(n for n in g.nodes() if g.op(n) == "mul" and a in g.inputs(n))
    drag(w.view, out_port(w, out), in_port(w, mul, 1))  # the output back into the graph
    assert "cycle" in w.messages[-1]
    assert g.to_dict() == before
    assert w.stack.count() == steps
    scene_matches(w.scene, g)
    assert w.scene.wire_item(a, mul, 0).isVisible()


# ------------------------------------------------------------------ moving and selecting


def test_node_drag_moves_it_wires_follow_one_undo_step(canvas):
    w = canvas
    g = w.graph
    a = g.resolve("a")
    x0, y0 = g.position(a)
    steps = w.stack.count()
    drag(w.view, body(w, a), body(w, a) + QPointF(60.0, 40.0), steps=8)
    assert g.position(a) == pytest.approx((x0 + 60.0, y0 + 40.0), abs=1.5)
    assert w.stack.count() == steps + 1
    item = w.scene.node_item(a)
    for wire in item.wires:
        start, _ = wire_ends(wire)
        assert start == item.output_port_pos()
    scene_matches(w.scene, g)
    w.stack.undo()
    assert g.position(a) == (x0, y0)
    scene_matches(w.scene, g)


def test_multi_selection_drag_is_one_undo_step(canvas):
    w = canvas
    g = w.graph
    nodes = g.nodes()[:3]
    w.scene.select_nodes(nodes)
    before = {n: g.position(n) for n in nodes}
    steps = w.stack.count()
    drag(w.view, body(w, nodes[0]), body(w, nodes[0]) + QPointF(-30.0, 50.0))
    assert w.stack.count() == steps + 1
    for n in nodes:
        bx, by = before[n]
        assert g.position(n) == pytest.approx((bx - 30.0, by + 50.0), abs=1.5)
    w.stack.undo()
    assert {n: g.position(n) for n in nodes} == before
    scene_matches(w.scene, g)


def test_rubber_band_select_then_delete_and_undo_restores_everything(qtbot, empty):
    w = empty
    a = add(w, "number", 0, 0, value=3.0, name="a")
    b = add(w, "number", 0, 120, value=4.0, name="b")
    m = add(w, "mul", 250, 60, name="m")
    t = add(w, "tanh", 500, 60)
    w.controller.connect(a, m, 0)
    w.controller.connect(b, m, 1)
    w.controller.connect(m, t, 0)
    w.controller.set_output(m)
    start = snapshot(w.graph)
    # box around m and t only, starting on empty canvas
    drag(w.view, (220.0, 30.0), (700.0, 160.0))
    assert sorted(w.scene.selected_node_ids()) == sorted([m, t])
    qtbot.keyClick(w.view, Qt.Key_Delete)
    assert w.graph.nodes() == [a, b]
    assert w.graph.edges() == [] and w.graph.pinned_output is None
    w.stack.undo()
    assert snapshot(w.graph) == start
    scene_matches(w.scene, w.graph)
    labels_match(w)
    assert w.scene.node_item(m).output_mark == OUT_EXPLICIT
    w.stack.redo()
    assert w.graph.nodes() == [a, b]
    scene_matches(w.scene, w.graph)


def test_copy_paste_keeps_inner_wires_and_drops_outer_ones(qtbot, canvas):
    w = canvas
    g = w.graph
    a = g.resolve("a")
    mul = next(n for n in g.nodes() if g.op(n) == "mul" and a in g.inputs(n))
    four = next(s for s in g.inputs(mul) if s != a)
    w.scene.select_nodes([four, mul])
    before_nodes = set(g.nodes())
    before_edges = set(g.edges())
    qtbot.keyClick(w.view, Qt.Key_C, Qt.ControlModifier)
    assert QApplication.clipboard().mimeData().hasFormat(MIME_NODES)
    qtbot.keyClick(w.view, Qt.Key_V, Qt.ControlModifier)
    new = set(g.nodes()) - before_nodes
    assert len(new) == 2
    assert sorted(w.scene.selected_node_ids()) == sorted(new)
    new_mul = next(n for n in new if g.op(n) == "mul")
    new_four = next(n for n in new if g.op(n) == "number")
    assert g.number(new_four) == g.number(four)
    # the wire four -> mul came along, a -> mul (from outside the selection) did not
    assert set(g.edges()) - before_edges == {(new_four, new_mul, g.inputs(mul).index(four))}
    scene_matches(w.scene, g)
    w.stack.undo()
    assert set(g.nodes()) == before_nodes and set(g.edges()) == before_edges
    w.stack.redo()
    assert new <= set(g.nodes())


def test_cut_and_duplicate(qtbot, canvas):
    w = canvas
    g = w.graph
    a = g.resolve("a")
    w.scene.select_nodes([a])
    qtbot.keyClick(w.view, Qt.Key_D, Qt.ControlModifier)
    (dup,) = w.scene.selected_node_ids()
    assert dup != a and g.number(dup) == 3.0 and g.name(dup) == "a_2"
    assert g.position(dup) == pytest.approx((g.position(a)[0] + 30, g.position(a)[1] + 30))
    w.scene.select_nodes([dup])
    qtbot.keyClick(w.view, Qt.Key_X, Qt.ControlModifier)
    assert dup not in g.nodes()
    qtbot.keyClick(w.view, Qt.Key_V, Qt.ControlModifier)
    (pasted,) = w.scene.selected_node_ids()
    assert g.number(pasted) == 3.0 and g.name(pasted) == "a_2"


def test_paste_of_foreign_or_malformed_clipboard_is_refused(empty):
    w = empty
    # The clipboard holds an ordinary document fragment, validated by the document loader.
    def edge(s, t, p):
        return {"source": s, "target": t, "port": p}

    bad = [
        {"format": "gradcanvas", "version": 1, "nodes": [{"id": 1, "op": "rm -rf"}], "edges": []},
        {"format": "gradcanvas", "version": 1,
         "nodes": [{"id": 1, "op": "add"}, {"id": 2, "op": "add"}], "edges": [edge(1, 2, 0), edge(2, 1, 0)]},
        {"format": "gradcanvas", "version": 1,
         "nodes": [{"id": 1, "op": "number", "value": "nan"}], "edges": []},
        {"format": "gradcanvas", "version": 1,
         "nodes": [{"id": 1, "op": "neg"}, {"id": 2, "op": "number", "value": 1}], "edges": [edge(2, 1, 5)]},
        {"format": "gradcanvas", "version": 1, "nodes": [{"id": 1, "op": "number", "value": 1}] * 2},
        {"format": "gradcanvas-clip", "version": 1, "nodes": [], "edges": []},
        {"format": "other"}, [], None, "text",
    ]
    for payload in bad:
        assert w.controller.paste(payload) == []
    assert len(w.graph) == 0 and w.stack.count() == 0
    assert len(w.messages) == len(bad)


# ------------------------------------------------------------------ editing values and names


def test_double_click_edits_value_and_every_label_follows(qtbot, canvas):
    w = canvas
    g = w.graph
    a = g.resolve("a")
    double_click(w.view, body(w, a))
    ed = w.view.inline_editor
    assert ed is not None and ed.isVisible()
    ed.selectAll()
    qtbot.keyClicks(ed, "-1.5")
    qtbot.keyClick(ed, Qt.Key_Return)
    assert w.view.inline_editor is None
    assert g.number(a) == -1.5
    assert g.grad(a) == pytest.approx(8 * -1.5 + 11)  # d/da (4a+3)(a+2) = 8a + 11
    labels_match(w)
    w.stack.undo()
    assert g.number(a) == 3.0
    labels_match(w)


def test_value_editor_refuses_bad_text_and_escape_cancels(qtbot, canvas):
    w = canvas
    g = w.graph
    a = g.resolve("a")
    before = g.to_dict()
    for text, key in (("__import__('os')", Qt.Key_Return), ("inf", Qt.Key_Return), ("42", Qt.Key_Escape)):
        assert w.view.edit_value(a)
        ed = w.view.inline_editor
        ed.selectAll()
        qtbot.keyClicks(ed, text)
        qtbot.keyClick(ed, key)
    assert g.to_dict() == before and w.stack.count() == 0
    assert "not a value" in w.messages[0] and "finite" in w.messages[1]


def test_rename_in_place_and_duplicate_name_refused(qtbot, canvas):
    w = canvas
    g = w.graph
    out = g.evaluated_output()
    assert w.view.edit_name(out)
    ed = w.view.inline_editor
    ed.selectAll()
    qtbot.keyClicks(ed, "loss")
    qtbot.keyClick(ed, Qt.Key_Return)
    assert g.name(out) == "loss"
    assert w.scene.node_item(out).name == "loss"
    w.view.edit_name(out)
    ed = w.view.inline_editor
    ed.selectAll()
    qtbot.keyClicks(ed, "a")
    qtbot.keyClick(ed, Qt.Key_Return)
    assert g.name(out) == "loss" and "already used" in w.messages[-1]


def test_context_menu_set_as_output(canvas):
    w = canvas
    g = w.graph
    a = g.resolve("a")
    mul = next(n for n in g.nodes() if g.op(n) == "mul" and a in g.inputs(n))
    menu = w.scene.node_menu(mul)
    texts = [act.text() for act in menu.actions() if act.text()]
    assert texts == ["Pin as Output", "Rename…", "Duplicate", "Delete"]
    next(act for act in menu.actions() if act.text() == "Pin as Output").trigger()
    assert g.output == g.pinned_output == mul
    pinned_menu = w.scene.node_menu(mul)
    texts = [act.text() for act in pinned_menu.actions() if act.text()]
    assert texts == ["Output Follows the Graph", "Rename…", "Duplicate", "Delete"]
    assert g.grad(a) == 4.0
    assert w.scene.node_item(mul).output_mark == OUT_EXPLICIT
    labels_match(w)
    menu = w.scene.node_menu(a)
    assert "Edit value…" in [act.text() for act in menu.actions()]
    w.stack.undo()
    assert g.output != mul
    labels_match(w)


def test_context_menu_delete_and_duplicate_act_on_the_node(canvas):
    w = canvas
    g = w.graph
    a = g.resolve("a")
    n = len(g)
    menu = w.scene.node_menu(a)
    next(act for act in menu.actions() if act.text() == "Duplicate").trigger()
    assert len(g) == n + 1
    menu = w.scene.node_menu(a)
    next(act for act in menu.actions() if act.text() == "Delete").trigger()
    assert a not in g.nodes() and len(g) == n
    w.stack.undo()
    assert g.number(a) == 3.0 and g.name(a) == "a" and len(g.consumers(a)) == 2


# ------------------------------------------------------------------ view


def test_wheel_zoom_keeps_the_point_under_the_cursor(canvas):
    w = canvas
    anchor = QPointF(200.0, 120.0)
    vp_before = view_point(w.view, anchor)
    z0 = w.view.transform().m11()
    wheel(w.view, anchor, 120)
    assert w.view.transform().m11() > z0
    assert (view_point(w.view, anchor) - vp_before).manhattanLength() <= 2
    wheel(w.view, anchor, -240)
    assert w.view.transform().m11() < z0
    assert w.graph.to_dict() == fanout_graph().to_dict()  # zoom never edits the document


def test_fit_pan_and_auto_layout_keys(qtbot, canvas):
    w = canvas
    g = w.graph
    for n in g.nodes():  # scatter the nodes
        w.controller.move_nodes({n: (n * 500.0, (-1) ** n * 300.0)})
    qtbot.keyClick(w.view, Qt.Key_F)
    vis = w.view.mapToScene(w.view.viewport().rect()).boundingRect()
    for it in w.scene.node_items().values():
        assert vis.contains(it.sceneBoundingRect())
    steps = w.stack.count()
    qtbot.keyClick(w.view, Qt.Key_L)
    assert w.stack.count() == steps + 1
    assert {n: g.position(n) for n in g.nodes()} == g.layout()
    w.stack.undo()
    n = g.nodes()[1]
    assert g.position(n) == (n * 500.0, (-1) ** n * 300.0)
    # middle-drag pans the view, never the document
    before = w.view.mapToScene(w.view.viewport().rect().center())
    drag(w.view, (0.0, 0.0), (-100.0, -50.0), button=Qt.MouseButton.MiddleButton)
    after = w.view.mapToScene(w.view.viewport().rect().center())
    assert after.x() > before.x() and after.y() > before.y()
    assert w.stack.count() == steps + 1


def test_wire_gradient_labels_toggle(canvas):
    w = canvas
    g = w.graph
    assert all(wire.grad_text is None for wire in w.scene.wire_items().values())
    w.scene.set_show_wire_grads(True)
    for (s, t, p), wire in w.scene.wire_items().items():
        assert wire.grad_text == style.format_number(g.edge_grad(s, t, p))
    w.scene.set_show_wire_grads(False)
    assert all(wire.grad_text is None for wire in w.scene.wire_items().values())


def test_problems_are_marked_with_reason(empty):
    w = empty
    x = add(w, "number", 0, 0, value=-1.0)
    lg = add(w, "log", 250, 0)
    d = add(w, "div", 250, 200)
    w.controller.connect(x, lg, 0)
    w.controller.connect(x, d, 1)
    it = w.scene.node_item(lg)
    assert it.problem_kind == "nan" and it.value_text == "NaN"
    assert "NaN" in it.toolTip()
    di = w.scene.node_item(d)
    assert di.problem_kind == "unconnected" and "'a'" in di.toolTip()
    assert not di.inputs[0].connected and di.inputs[1].connected
    w.controller.set_value(x, 2.0)
    assert it.problem is None and it.value_text == style.format_number(math.log(2.0))


def test_value_scrub_merges_into_one_step_and_labels_follow(canvas):
    w = canvas
    g = w.graph
    a = g.resolve("a")
    for k in range(50):
        assert w.controller.set_value(a, k / 10, merge=True)
        labels_match(w)
    assert w.stack.count() == 1
    w.stack.undo()
    assert g.number(a) == 3.0
    labels_match(w)
    # scrubbing away and back to the start leaves no undo step
    w.stack.clear()
    for v in (3.5, 4.0, 3.0):
        assert w.controller.set_value(a, v, merge=True)
    assert w.stack.count() == 0 and g.number(a) == 3.0
    labels_match(w)


def test_controller_refuses_bad_input_without_raising(empty):
    w = empty
    c = w.controller
    n = add(w, "number", 0, 0, value=1.0)
    assert c.add_node("nope", (0, 0)) is None
    assert c.add_node("add", ("x", 0)) is None
    assert c.add_node("add", (math.inf, 0)) is None
    assert c.remove_nodes([999]) is False
    assert c.connect(n, 999, 0) is False
    assert c.connect(n, n, 0) is False
    assert c.disconnect(n, 0) is False
    assert c.set_value(n, "1") is False
    assert c.set_value(n, math.nan) is False
    assert c.set_name(n, "12") is False
    assert c.set_output(12345) is False
    assert c.move_nodes({n: (math.nan, 0)}) is False
    assert c.move_nodes([1, 2]) is False
    empty = {"format": "gradcanvas", "version": 1, "nodes": [], "edges": []}
    assert c.copy_payload([999, "x", None]) == empty
    assert len(w.messages) >= 11
    assert [w.graph.number(n)] == [1.0]


def test_set_document_rebuilds_scene_and_clears_undo(canvas):
    w = canvas
    w.controller.add_node("number", (0, 0))
    assert w.stack.count() == 1
    g2 = Graph.from_expression("x*x", x=5.0)
    g2.apply_layout()
    w.controller.set_document(g2)
    assert w.stack.count() == 0
    assert w.controller.graph is g2
    scene_matches(w.scene, g2)
    labels_match(w)
    w.controller.set_value("x", 2.0)
    assert w.scene.node_item(g2.resolve("x")).grad_text == "4"


def test_clipboard_json_round_trip_between_documents(qtbot, canvas):
    w = canvas
    g = w.graph
    w.view.select_all()
    assert w.view.copy_selected()
    data = json.loads(bytes(QApplication.clipboard().mimeData().data(MIME_NODES)).decode())
    assert data["format"] == "gradcanvas" and len(data["nodes"]) == len(g)
    by_id = lambda d: sorted(d["nodes"], key=lambda n: n["id"])  # noqa: E731
    assert by_id(Graph.from_dict(data).to_dict()) == by_id(g.to_dict())  # a normal document
    other = make_canvas(qtbot)
    ids = other.view.paste()
    assert len(ids) == len(g)
    assert sorted(other.graph.nodes()) == sorted(ids)
    out = next(n for n in ids if other.graph.nx.out_degree(n) == 0)
    assert other.graph.grad(other.graph.resolve("a")) == 35.0
    assert other.graph.value(out) == g.value(g.evaluated_output())


def test_node_items_are_movable_selectable_and_cached(canvas):
    it = next(iter(canvas.scene.node_items().values()))
    assert isinstance(it, NodeItem)
    f = it.flags()
    assert f & it.GraphicsItemFlag.ItemIsMovable and f & it.GraphicsItemFlag.ItemIsSelectable
    assert f & it.GraphicsItemFlag.ItemSendsGeometryChanges
    assert it.cacheMode() == it.CacheMode.DeviceCoordinateCache
    # the hit area is the body and the port discs, not the generous bounding rect (output tag)
    assert it.boundingRect().contains(QPointF(20, -10))
    assert not it.shape().contains(QPointF(20, -10))


def test_click_on_empty_canvas_clears_selection(canvas):
    w = canvas
    w.view.select_all()
    assert w.scene.selected_node_ids()
    click(w.view, w.view.mapToScene(QPoint(5, 5)))
    assert w.scene.selected_node_ids() == []


def test_space_drag_pans_and_escape_cancels_a_wire_drag(qtbot, canvas):
    w = canvas
    g = w.graph
    before = w.view.mapToScene(w.view.viewport().rect().center())
    qtbot.keyPress(w.view, Qt.Key_Space)
    drag(w.view, (0.0, 0.0), (80.0, 40.0))
    qtbot.keyRelease(w.view, Qt.Key_Space)
    after = w.view.mapToScene(w.view.viewport().rect().center())
    assert after.x() < before.x() and after.y() < before.y()
    assert w.stack.count() == 0 and w.scene.selected_node_ids() == []
    # start a wire from a's output, press Escape, release over a free input: nothing happens
    a = g.resolve("a")
    free = add(w, "exp", 700, 300)
    edges = sorted(g.edges())
    start = view_point(w.view, out_port(w, a))
    mouse(w.view, "press", start)
    mouse(w.view, "move", view_point(w.view, in_port(w, free, 0)), buttons=Qt.LeftButton)
    assert w.scene.dragging_wire
    qtbot.keyClick(w.view, Qt.Key_Escape)
    mouse(w.view, "release", view_point(w.view, in_port(w, free, 0)))
    assert sorted(g.edges()) == edges and not w.scene.dragging_wire


def test_double_click_header_renames_in_place(qtbot, canvas):
    w = canvas
    g = w.graph
    a = g.resolve("a")
    head = w.scene.node_item(a).mapToScene(QPointF(40.0, style.HEAD_H / 2))
    double_click(w.view, head)
    ed = w.view.inline_editor
    assert ed is not None and ed.text() == "a"
    ed.selectAll()
    qtbot.keyClicks(ed, "alpha")
    qtbot.keyClick(ed, Qt.Key_Return)
    assert g.name(a) == "alpha" and g.resolve("alpha") == a


def test_search_box_arrow_keys_pick_an_entry(qtbot, empty):
    w = empty
    w.view.open_search(QPoint(100, 100))
    qtbot.keyClicks(w.view.search.edit, "s")  # matches names and descriptions: sub, sin, sqrt, ...
    keys = w.view.search.visible_keys()
    assert "sub" in keys and "sin" in keys
    qtbot.keyClick(w.view.search.edit, Qt.Key_Down)
    chosen = w.view.search.list.currentItem().data(Qt.UserRole)
    qtbot.keyClick(w.view.search.edit, Qt.Key_Return)
    (n,) = w.graph.nodes()
    assert w.graph.op(n) == chosen


def test_a_key_is_handled_once_when_a_window_action_has_it(qtbot, canvas):
    from PySide6.QtGui import QAction

    w = canvas
    g = w.graph
    fired = []
    act = QAction("Delete", w.view)
    act.setShortcut(Qt.Key_Delete)
    act.setShortcutContext(Qt.WidgetWithChildrenShortcut)
    act.triggered.connect(lambda: fired.append(w.view.delete_selected()))
    w.view.addAction(act)
    with qtbot.waitActive(w):
        w.activateWindow()
    w.view.setFocus()
    w.scene.select_nodes([g.resolve("a")])
    qtbot.keyClick(w.view, Qt.Key_Delete)
    assert "a" not in g and w.stack.count() == 1
    assert len(fired) <= 1


def test_direct_graph_edits_reach_the_labels(qtbot, canvas):
    w = canvas
    g = w.graph
    g.set_value("a", 10.0)  # not through the controller: labels follow on the next turn
    qtbot.waitUntil(lambda: w.scene.node_item(g.resolve("a")).value_text == "10")
    labels_match(w)


def test_a_deleted_scene_stops_listening(qtbot):
    g = fanout_graph()
    w = make_canvas(qtbot, g)
    w.close()
    w.deleteLater()
    qtbot.wait(10)
    QApplication.processEvents()
    assert g._subscribers == []
    g.set_value("a", 1.0)  # must not call into the deleted scene
    g.add_number(2.0)
    assert g.grad("a") == 8 * 1.0 + 11


def test_visual_state_api_for_other_tools(canvas):
    it = canvas.scene.node_item(canvas.graph.resolve("a"))
    h0 = it.boundingRect().height()
    it.set_extra_line("ẋ = 1")
    # shown in the header: the node keeps its size (it no longer grows into its neighbour)
    assert it.extra == "ẋ = 1" and it.boundingRect().height() == h0
    it.set_badge("FD ✓", "finite difference agrees")
    assert "finite difference agrees" in it.toolTip()
    it.set_highlight(True)
    assert it.highlight
    it.set_extra_line(None)
    assert it.boundingRect().height() == h0
    assert canvas.stack.count() == 0  # purely visual: the document is untouched
