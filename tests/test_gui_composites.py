"""Composites on the canvas: an instance is drawn as a node with one named input row per
definition input (showing the gradient leaving through it) and a value and gradient row per
output, wires from output p start at port p, and every grouped document opens (File ▸ Open,
gui.show of Values built with engine.group and engine.nn, render). What is painted is read
from the scene rendered to SVG (tests/painted.py); the oracles are the engine's numbers at the
painted precision, and for the instance rows a hand calculation or the flat document."""

from __future__ import annotations

import math

import pytest
from PySide6.QtWidgets import QApplication, QMessageBox

import engine
from engine import Graph, Value
from engine.drawing import geometry as G
from gui.canvas.render import render_file
from gui.shell.app import show
from gui.shell.main_window import MainWindow
from resources import EXAMPLES
from tests.painted import GRAD, VALUE, agrees, check_numbers_current, painted_texts

pytestmark = pytest.mark.gui

COMPOSITES = ["neuron_three_times.json", "weight_tying.json", "micrograd_mlp_moons.json"]


def _window(graph=None) -> MainWindow:
    w = MainWindow(graph, use_settings=False)
    w.ask_unsaved = lambda: QMessageBox.StandardButton.Discard  # closing never blocks
    w.resize(1400, 900)
    w.show()
    w.experiment.descent_dock.panel.animate = False
    QApplication.processEvents()
    return w


def _texts_in(scene, item, rect, fill) -> list[str]:
    """The texts of colour ``fill`` painted inside ``rect`` (item coordinates) of ``item``."""
    r = item.mapRectToScene(rect)
    return [t.text for t in painted_texts(scene)
            if t.fill == fill and r.contains(t.x + 1.0, t.y - 2.0)]


@pytest.mark.parametrize("file", COMPOSITES)
def test_file_open_draws_every_instance_with_the_engines_numbers(qtbot, file):
    w = _window()
    qtbot.addWidget(w)
    assert w.open_file(EXAMPLES / file)
    g = w.document
    calls = [n for n in g.nodes() if g.op(n) == "call"]
    assert calls
    for n in calls:
        it = w.scene.node_item(n)
        d = g.definition_of(n)
        assert [p.label for p in it.inputs] == d.input_names
        assert [p.label for p in it.outputs] == d.output_names
        # the layout reserved what the item draws
        assert it.body_rect().height() == G.size_of(g.nx.nodes[n])[1]
    w.scene.set_show_wire_grads(True)
    QApplication.processEvents()
    check_numbers_current(w.scene, wires_expected=True)
    w.close()


def test_the_neuron_instances_paint_the_gradient_leaving_each_input(qtbot):
    """o = neuron(h1, h2, w31, w32, b3) = tanh(h1*w31 + h2*w32 + b3): the gradient leaving
    through input x1 is grad(o) * (1 - o²) * w31, by hand."""
    w = _window(Graph.load(EXAMPLES / "neuron_three_times.json"))
    qtbot.addWidget(w)
    g = w.document
    o = g.resolve("o")
    it = w.scene.node_item(o)
    out, grad_o = g.value(o), g.grad(o)
    local = grad_o * (1 - out * out)
    by_hand = [local * g.value("w31"), local * g.value("w32"), local * g.value("h1"),
               local * g.value("h2"), local]
    for k, want in enumerate(by_hand):
        painted = _texts_in(w.scene, it, it.port_row_rect(k), GRAD)
        assert len(painted) == 1 and agrees(painted[0], want), (k, painted, want)
    assert any(agrees(t, out) for t in _texts_in(w.scene, it, it.value_rect(), VALUE))
    w.close()


def _two_outputs() -> Graph:
    return Graph.from_expression(
        "def f(a, b):\n    return a * b, a + b\np, q = f(x, y)\nz = p * q", x=2.0, y=3.0)


def test_wires_leave_the_output_port_they_carry(qtbot):
    w = _window(_two_outputs())
    qtbot.addWidget(w)
    g = w.document
    inst = next(n for n in g.nodes() if g.op(n) == "call")
    it = w.scene.node_item(inst)
    assert [p.label for p in it.outputs] == g.definition_of(inst).output_names and len(it.outputs) == 2
    wires = [wi for key, wi in w.scene.wire_items().items() if key[0] == inst]
    assert sorted(wi.source_port for wi in wires) == [0, 1]
    for wi in wires:
        assert wi._p0 == it.output_port_pos(wi.source_port)
        assert wi._p0.y() == it.y() + G.instance_output_y(2, wi.source_port)
    # both outputs' values and gradients are painted: p = 6, q = 5, dz/dp = q, dz/dq = p
    values = [t.text for t in painted_texts(w.scene) if t.fill == VALUE]
    grads = [t.text for t in painted_texts(w.scene) if t.fill == GRAD]
    assert "6" in values and "5" in values and "30" in values
    assert "5" in grads and "6" in grads
    check_numbers_current(w.scene)
    w.close()


def test_show_a_value_built_with_engine_group_opens_grouped(qtbot):
    x, y = Value(0.5), Value(-1.5)
    with engine.group("neuron"):
        h = (x * 2.0 + y).tanh()
    loss = h * h
    w = show(loss)
    qtbot.addWidget(w)
    g = w.document
    assert [g.op(n) for n in g.nodes()].count("call") == 1
    want = math.tanh(0.5 * 2.0 - 1.5) ** 2
    assert g.value(g.output_node()) == pytest.approx(want, rel=1e-12)
    check_numbers_current(w.scene)
    w.close()


def test_show_a_small_engine_nn_network_opens_grouped(qtbot):
    import random

    from engine.nn import MLP

    random.seed(1337)
    model = MLP(2, [3, 1])
    score = model([Value(0.3), Value(-0.7)])
    loss = (1 + -1 * score).relu()
    loss.backward()
    w = show(loss)
    qtbot.addWidget(w)
    g = w.document
    assert any(g.op(n) == "call" for n in g.nodes())
    assert g.value(g.output_node()) == pytest.approx(loss.data, rel=1e-12)
    check_numbers_current(w.scene)
    w.close()


@pytest.mark.parametrize("file", COMPOSITES)
def test_render_draws_grouped_documents(tmp_path, file):
    out = render_file(EXAMPLES / file, tmp_path / "x.png")
    assert out.stat().st_size > 1000


def test_an_edit_inside_a_definition_repaints_every_instance(qtbot):
    w = _window(Graph.load(EXAMPLES / "weight_tying.json"))
    qtbot.addWidget(w)
    g = w.document
    g.set_value("scale.w", 2.0)  # a script edits the body: both instances change
    w.scene.bridge.recompute()
    QApplication.processEvents()
    assert g.value("y") == 2.0 * 2 + 2.0 * 3
    check_numbers_current(w.scene)
    w.close()


# ------------------------------------------------------------------ Ctrl+G and Ctrl+Shift+G


def _active(qtbot, w):
    with qtbot.waitActive(w):
        w.activateWindow()
    w.view.setFocus()


def _numbers(g) -> dict:
    """Value and gradient of every named node (the names survive grouping)."""
    return {g.name(n): (g.value(n), g.grad(n)) for n in g.nodes() if g.name(n)}


def test_ctrl_g_groups_the_selection_in_one_undo_step(qtbot):
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    flat = Graph.from_expression("z = x*w + b\nh = tanh(z)\nloss = h*h", x=0.5, w=-1.5, b=0.25)
    w = _window(flat)
    qtbot.addWidget(w)
    g = w.document
    before, numbers = g.to_dict(), _numbers(g)
    w.ask_group_name = lambda default: "neuron"
    w.scene.select_nodes([g.resolve("z"), g.resolve("h")])
    _active(qtbot, w)
    count = w.undo_stack.count()
    QTest.keyClick(w.view.viewport(), Qt.Key.Key_G, Qt.KeyboardModifier.ControlModifier)
    QApplication.processEvents()
    assert w.undo_stack.count() == count + 1
    insts = [n for n in g.nodes() if g.op(n) == "call"]
    assert len(insts) == 1 and g.definition_of(insts[0]).name == "neuron"
    assert w.scene.selected_node_ids() == insts
    # the oracle: tanh(x*w + b)^2 and its gradients by hand, unchanged by grouping
    h = math.tanh(0.5 * -1.5 + 0.25)
    assert g.value("loss") == pytest.approx(h * h, rel=1e-12)
    assert g.grad("w") == pytest.approx(2 * h * (1 - h * h) * 0.5, rel=1e-12)
    for name in ("x", "w", "b", "loss"):
        assert _numbers(g)[name] == pytest.approx(numbers[name], rel=1e-12)
    check_numbers_current(w.scene)
    w.undo_stack.undo()
    QApplication.processEvents()
    assert g.to_dict() == before
    assert not any(g.op(n) == "call" for n in g.nodes())
    check_numbers_current(w.scene)
    w.undo_stack.redo()
    QApplication.processEvents()
    assert [n for n in g.nodes() if g.op(n) == "call"] == insts
    check_numbers_current(w.scene)
    w.close()


def test_ctrl_shift_g_ungroups_one_instance_and_undo_puts_it_back(qtbot):
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    w = _window(Graph.load(EXAMPLES / "neuron_three_times.json"))
    qtbot.addWidget(w)
    g = w.document
    before, numbers = g.to_dict(), _numbers(g)
    h1 = g.resolve("h1")
    w.scene.select_nodes([h1])
    _active(qtbot, w)
    QTest.keyClick(w.view.viewport(), Qt.Key.Key_G,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    QApplication.processEvents()
    assert h1 not in g.nx and len(g.instances("neuron")) == 2
    assert w.scene.selected_node_ids() and all(g.op(n) != "call" for n in w.scene.selected_node_ids())
    after = _numbers(g)
    for name in ("w11", "w12", "b1", "x1", "loss", "h2", "o"):
        assert after[name] == pytest.approx(numbers[name], rel=1e-12), name
    check_numbers_current(w.scene)
    w.undo_stack.undo()
    QApplication.processEvents()
    assert g.to_dict() == before
    check_numbers_current(w.scene)
    w.close()


def test_ungrouping_the_last_instance_removes_its_definition_and_undo_restores_it(qtbot):
    x = Value(0.5)
    with engine.group("sq"):
        y = x * x
    w = _window(y.graph())
    qtbot.addWidget(w)
    g = w.document
    before = g.to_dict()
    inst = next(n for n in g.nodes() if g.op(n) == "call")
    assert w.controller.ungroup([inst])
    assert "sq" not in g.definitions
    w.undo_stack.undo()
    QApplication.processEvents()
    assert g.to_dict() == before and "sq" in g.definitions
    check_numbers_current(w.scene)
    w.close()


def test_grouping_that_would_make_a_cycle_is_refused_in_the_status_bar(qtbot):
    from engine import GraphError

    w = _window(Graph.from_expression("b = a*2\nc = b + a\nd = c*c", a=1.0))
    qtbot.addWidget(w)
    g = w.document
    before = g.to_dict()
    sel = [g.resolve("a"), g.resolve("c")]  # b leaves the selection and comes back into c
    with pytest.raises(GraphError) as why:
        g.check_group(sel, "f")
    w.ask_group_name = lambda default: "f"
    w.scene.select_nodes(sel)
    count = w.undo_stack.count()
    w.act_group.trigger()
    assert w.statusBar().currentMessage() == str(why.value)
    assert w.undo_stack.count() == count and g.to_dict() == before
    w.scene.select_nodes([])
    w.act_group.trigger()
    assert "select the nodes to group" in w.statusBar().currentMessage().lower()
    w.scene.select_nodes([g.resolve("a")])
    w.act_ungroup.trigger()
    assert "select an instance" in w.statusBar().currentMessage()
    w.close()


def test_group_and_ungroup_are_in_the_graph_menu_with_shortcuts_and_tooltips(qtbot):
    w = _window()
    qtbot.addWidget(w)
    menu = w.menus["graph"].actions()
    assert w.act_group in menu and w.act_ungroup in menu
    assert w.act_group.shortcut().toString() == "Ctrl+G"
    assert w.act_ungroup.shortcut().toString() == "Ctrl+Shift+G"
    assert "Ctrl+G" in w.act_group.toolTip() and "port" in w.act_group.toolTip()
    w.close()


# ------------------------------------------------------------------ the instance's context menu


def _menu_action(w, node, text):
    menu = w.scene.node_menu(node, w.view)
    for act in menu.actions():
        if act.text() == text:
            return act
        if act.menu() is not None and act.text() == text.split(" ▸ ")[0]:
            for sub in act.menu().actions():
                if sub.text() == text.split(" ▸ ")[1]:
                    return sub
    raise AssertionError(f"no {text!r} in {[a.text() for a in menu.actions()]}")


def test_make_unique_then_an_edit_inside_changes_that_instance_alone(qtbot):
    w = _window(Graph.load(EXAMPLES / "weight_tying.json"))
    qtbot.addWidget(w)
    g = w.document
    before = g.to_dict()
    i1, i2 = g.instances("scale")
    _menu_action(w, i1, "Make Unique").trigger()
    QApplication.processEvents()
    mine = g.definition_of(i1).name
    assert mine != "scale" and g.instances("scale") == [i2]
    w.controller.set_value(f"{mine}.w", 2.0)  # y = 2*a + 0.5*b by hand
    QApplication.processEvents()
    assert g.value("y") == 2.0 * 2 + 0.5 * 3
    check_numbers_current(w.scene)
    w.undo_stack.undo()
    w.undo_stack.undo()
    QApplication.processEvents()
    assert g.to_dict() == before
    check_numbers_current(w.scene)
    w.close()


def test_expose_as_input_gives_each_instance_its_own_weight_and_undo_takes_it_back(qtbot):
    w = _window(Graph.load(EXAMPLES / "weight_tying.json"))
    qtbot.addWidget(w)
    g = w.document
    before = g.to_dict()
    i1, i2 = g.instances("scale")
    _menu_action(w, i1, "Expose as Input ▸ scale.w").trigger()
    QApplication.processEvents()
    assert g.definitions["scale"].input_names == ["x", "w"]
    for inst in (i1, i2):  # the items were drawn anew with the new port, fed by a new number
        it = w.scene.node_item(inst)
        assert [p.label for p in it.inputs] == ["x", "w"] and it.inputs[1].connected
    feeder = g.inputs(i1)[1]
    w.controller.set_value(feeder, 4.0)  # y = 4*a + 0.5*b by hand; only the first changes
    QApplication.processEvents()
    assert g.value("y") == 4.0 * 2 + 0.5 * 3
    assert g.grad(feeder) == 2.0  # d y / d w1 = a
    check_numbers_current(w.scene)
    w.undo_stack.undo()
    w.undo_stack.undo()
    QApplication.processEvents()
    assert g.to_dict() == before
    assert [p.label for p in w.scene.node_item(i1).inputs] == ["x"]
    check_numbers_current(w.scene)
    w.close()


def test_copy_paste_of_an_instance_brings_its_definition(qtbot):
    from engine.io import document as doc

    w = _window(Graph.from_expression("y = a * 2", a=1.0))
    qtbot.addWidget(w)
    g = w.document
    before = g.to_dict()
    other = Graph.load(EXAMPLES / "weight_tying.json")
    new = w.controller.paste(doc.fragment(other, [other.resolve("a"), other.instances("scale")[0]]),
                             at=(0.0, 400.0))
    QApplication.processEvents()
    inst = next(n for n in new if g.op(n) == "call")
    assert g.definition_of(inst).name == "scale" and g.value(inst) == 0.5 * 2
    check_numbers_current(w.scene)
    w.undo_stack.undo()
    assert g.to_dict() == before and not g.definitions
    w.close()


# ------------------------------------------------------------------ entering an instance


def _inside_rows(w) -> dict:
    """{body id: (painted value texts, painted gradient texts)} of the entered instance."""
    sc = w.canvas_area.scene_shown()
    texts = painted_texts(sc)
    out = {}
    for n, it in sc.node_items().items():
        vr, gr = it.mapRectToScene(it.value_rect()), it.mapRectToScene(it.grad_rect())
        out[n] = ([t.text for t in texts if t.fill == VALUE and vr.contains(t.x + 1.0, t.y - 2.0)],
                  [t.text for t in texts if t.fill == GRAD and gr.contains(t.x + 1.0, t.y - 2.0)])
    return out


def _assert_inside_is(w, g, path):
    """Every body node of the entered instance paints this instance's value and gradient,
    read from the document at the instance-path address (the engine's number for that one
    instance), not from the body."""
    rows = _inside_rows(w)
    assert rows
    for n, (vals, grads) in rows.items():
        want_v, want_g = g.value(path + (n,)), g.grad(path + (n,))
        assert len(vals) == 1 and agrees(vals[0], want_v), (n, vals, want_v)
        assert len(grads) == 1 and agrees(grads[0], want_g), (n, grads, want_g)


def test_tab_enters_the_selected_instance_and_escape_leaves(qtbot):
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    w = _window(Graph.load(EXAMPLES / "neuron_three_times.json"))
    qtbot.addWidget(w)
    g = w.document
    o = g.resolve("o")
    w.scene.select_nodes([o])
    _active(qtbot, w)
    QTest.keyClick(w.view, Qt.Key.Key_Tab)
    QApplication.processEvents()
    assert w.canvas_area.path == (o,)
    assert w.canvas_area.crumb_texts() == ["One neuron, used three times", "o (neuron)"]
    assert w.canvas_area.crumbs.isVisible()
    _assert_inside_is(w, g, (o,))
    # the port nodes carry the definition's port names, what comes in and what goes back out
    sc = w.canvas_area.scene_shown()
    names = {sc.node_item(n).name for n in sc.placeholders()}
    assert names == {"x1", "x2", "w1", "w2", "b", "out1"}
    # the gradient arriving at o's output, by hand: d loss / d o = 2 (o - t)
    out = next(n for n, op in sc.placeholders().items() if op == "output")
    assert agrees(_inside_rows(w)[out][1][0], 2 * (g.value(o) - g.value("t")))
    QTest.keyClick(w.canvas_area.inside.viewport(), Qt.Key.Key_Escape)
    QApplication.processEvents()
    assert w.canvas_area.path == () and not w.canvas_area.crumbs.isVisible()
    w.close()


def test_double_click_enters_and_an_edit_outside_updates_the_inside(qtbot):
    from tests.qt_helpers import double_click

    w = _window(Graph.load(EXAMPLES / "neuron_three_times.json"))
    qtbot.addWidget(w)
    g = w.document
    h2 = g.resolve("h2")
    it = w.scene.node_item(h2)
    w.view.centerOn(it)
    double_click(w.view, it.mapToScene(it.value_rect().center()))
    QApplication.processEvents()
    assert w.canvas_area.path == (h2,)
    _assert_inside_is(w, g, (h2,))
    assert w.controller.set_value("x1", 0.25)  # an input of h2 changes: its inside follows
    QApplication.processEvents()
    _assert_inside_is(w, g, (h2,))
    w.undo_stack.undo()
    QApplication.processEvents()
    assert w.canvas_area.path == (h2,)  # undo of an edit outside does not throw the user out
    _assert_inside_is(w, g, (h2,))
    w.canvas_area.crumb_buttons()[0].click()  # the breadcrumb takes the user back out
    QApplication.processEvents()
    assert w.canvas_area.path == ()
    w.close()


def test_undo_that_takes_the_entered_instance_away_brings_the_user_out(qtbot):
    w = _window(Graph.from_expression("z = x*w + b\nh = tanh(z)", x=0.5, w=-1.5, b=0.25))
    qtbot.addWidget(w)
    g = w.document
    inst = w.controller.group([g.resolve("z"), g.resolve("h")], "neuron")
    assert w.enter_instance(inst)
    _assert_inside_is(w, g, (inst,))
    w.undo_stack.undo()
    QApplication.processEvents()
    assert w.canvas_area.path == () and w.canvas_area.stack.currentWidget() is w.view
    w.undo_stack.redo()  # the instance is back; the user is where the redo left them
    QApplication.processEvents()
    assert w.enter_instance(inst)
    _assert_inside_is(w, g, (inst,))
    w.close()


def test_an_edit_inside_changes_every_instance_and_undo_takes_the_user_back_inside(qtbot):
    from tests.qt_helpers import double_click

    w = _window(Graph.load(EXAMPLES / "weight_tying.json"))
    qtbot.addWidget(w)
    g = w.document
    i1, i2 = g.instances("scale")
    assert w.enter_instance(i1)
    sc = w.canvas_area.scene_shown()
    const = g.definitions["scale"].constants()[0]
    w.canvas_area.ask_value = lambda label, current: "2"
    it = sc.node_item(const)
    w.canvas_area.inside.centerOn(it)
    double_click(w.canvas_area.inside, it.mapToScene(it.value_rect().center()))
    QApplication.processEvents()
    # y = w*a + w*b with w = 2, a = 2, b = 3, by hand; every instance's drawn numbers follow
    assert g.value("y") == 2.0 * 2 + 2.0 * 3 and g.value(i2) == 6.0
    _assert_inside_is(w, g, (i1,))
    check_numbers_current(w.scene)
    w.leave_instance()
    QApplication.processEvents()
    assert w.canvas_area.path == ()
    w.undo_stack.undo()  # the edit happened inside scale: undo takes the user there
    QApplication.processEvents()
    assert w.canvas_area.definition_shown() == "scale"
    assert g.value("y") == 2.5
    _assert_inside_is(w, g, w.canvas_area.path)
    check_numbers_current(w.scene)
    w.close()


def test_hovering_an_instance_peeks_at_its_inside_live(qtbot):
    from PySide6.QtCore import Qt

    from tests.qt_helpers import mouse, view_point

    w = _window(Graph.load(EXAMPLES / "weight_tying.json"))
    qtbot.addWidget(w)
    g = w.document
    i1 = g.instances("scale")[0]
    it = w.scene.node_item(i1)
    w.view.centerOn(it)
    far = w.scene.node_item(g.resolve("y"))
    mouse(w.view, "move", view_point(w.view, far.mapToScene(far.body_rect().center())),
          Qt.MouseButton.NoButton, buttons=Qt.MouseButton.NoButton)
    mouse(w.view, "move", view_point(w.view, it.mapToScene(it.value_rect().center())),
          Qt.MouseButton.NoButton, buttons=Qt.MouseButton.NoButton)
    QApplication.processEvents()
    peek = w.scene.peek_popup
    assert peek is not None and peek.isVisible() and peek.node == i1
    assert not peek.pixmap().isNull()
    # the picture is of this instance's inside: its scene's rows are the engine's numbers for it
    inside = peek.scene
    const = g.definitions["scale"].constants()[0]
    assert inside.node_item(const).value_text == "0.5"
    out = next(n for n, op in inside.placeholders().items() if op == "output")
    assert agrees(inside.node_item(out).value_text, g.value(i1))
    mouse(w.view, "move", view_point(w.view, far.mapToScene(far.body_rect().center())),
          Qt.MouseButton.NoButton, buttons=Qt.MouseButton.NoButton)
    QApplication.processEvents()
    assert not peek.isVisible()
    w.close()


def test_palette_lists_definitions_drops_instances_renames_and_refuses_deleting_a_used_one(qtbot):
    from PySide6.QtCore import QPointF

    from tests.qt_helpers import send_drop, view_point

    w = _window(Graph.load(EXAMPLES / "weight_tying.json"))
    qtbot.addWidget(w)
    g = w.document
    assert w.palette.definitions() == ["scale"]
    mime = w.palette.list.mimeData([w.palette._defs[0]])  # what dragging the entry carries
    at = QPointF(600.0, 500.0)
    count = w.undo_stack.count()
    drop = send_drop(w.view, mime, view_point(w.view, at))
    assert drop.isAccepted() and w.undo_stack.count() == count + 1
    assert len(g.instances("scale")) == 3
    new = max(g.instances("scale"))
    assert [p.label for p in w.scene.node_item(new).inputs] == ["x"]
    # deleting a used definition is refused with the engine's words; nothing changes
    w.palette.definition_menu("scale").actions()[1].trigger()
    assert "used" in w.statusBar().currentMessage() and "scale" in g.definitions
    # rename: the instances follow, the palette too; one undo step back
    w.ask_group_name = lambda default: "times_w"
    w.palette.definition_menu("scale").actions()[0].trigger()
    QApplication.processEvents()
    assert list(g.definitions) == ["times_w"] and w.palette.definitions() == ["times_w"]
    assert w.scene.node_item(new).definition == "times_w"
    w.undo_stack.undo()
    w.undo_stack.undo()  # the drop
    QApplication.processEvents()
    assert w.palette.definitions() == ["scale"] and len(g.instances("scale")) == 2
    # unused now (ungroup both): Delete removes it, undo brings it back
    for inst in list(g.instances("scale")):
        w.controller.ungroup([inst])
    assert "scale" not in g.definitions  # ungroup of the last instance removed it
    w.close()


def test_ok_on_a_constants_editor_keeps_its_exact_value(qtbot):
    """The editor opens on the constant's exact value, not the 5-digit display: OK changes
    nothing (it used to round 0.123456789 to 0.12346 in every instance)."""
    w = _window(Graph.load(EXAMPLES / "weight_tying.json"))
    qtbot.addWidget(w)
    g = w.document
    (i1, _i2) = g.instances("scale")
    const = g.definitions["scale"].constants()[0]
    w.controller.set_value(("scale", const), 0.123456789)
    assert w.enter_instance(i1)
    shown = []
    w.canvas_area.ask_value = lambda label, current: shown.append(current) or current
    assert w.canvas_area.edit_constant(const) is True
    assert float(shown[0]) == 0.123456789
    assert g.value(("scale", const)) == 0.123456789
    w.close()
