"""Tensor nodes on the canvas and every Learn tool on them (issue 10, items 4 to 6).

What is asserted is what is drawn (NodeItem.painted_tensor, filled by the paint that made the
picture), what a tooltip says, what the inspector's tables hold, and the engine document after
real gestures: edits in the table are one undo step and re-evaluate."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtWidgets import QLineEdit, QMessageBox

from engine import Graph
from engine.drawing import geometry as G
from engine.learn.gallery import gallery, tensor_gallery
from gui import style
from gui.canvas.scene import GraphScene
from gui.canvas.tensor_view import element_index
from gui.learn.experiment import install
from gui.shell.main_window import MainWindow

pytestmark = pytest.mark.gui


@pytest.fixture
def win(qtbot):
    w = MainWindow(use_settings=False)
    w.errors = []
    w.show_error = lambda title, text: w.errors.append(text)
    w.ask_unsaved = lambda: QMessageBox.Discard
    exp = install(w)
    qtbot.addWidget(w)
    w.resize(1400, 900)
    w.show()
    qtbot.waitExposed(w)
    yield w
    exp.step.stop()


def open_example(w, file):
    (e,) = [e for e in gallery() if e.file == file]
    assert w.open_file(e.path)
    return w.document


def paint(scene, items) -> QImage:
    """Paint the items' part of the scene at 2× (text legible): every item paints again."""
    r = QRectF()
    for it in items:
        r = r.united(it.sceneBoundingRect())
    img = QImage(int(r.width() * 2), int(r.height() * 2), QImage.Format.Format_ARGB32_Premultiplied)
    img.fill(style.BACKGROUND)
    p = QPainter(img)
    scene.render(p, QRectF(0, 0, img.width(), img.height()), r)
    p.end()
    return img


# ------------------------------------------------------------------------------ the canvas


def test_a_small_array_is_drawn_as_its_numbers_for_value_and_gradient(win):
    g = open_example(win, "broadcast_bias.json")
    b = win.scene.node_item(g.resolve("b"))
    y = win.scene.node_item(g.resolve("y"))
    paint(win.scene, [b, y])
    assert b.painted_tensor["value"] == ("grid", [["10", "20", "30"]])
    assert b.painted_tensor["grad"] == ("grid", [["2", "2", "2"]])  # the column sums
    kind, rows = y.painted_tensor["value"]
    assert kind == "grid"
    assert rows == [[style.format_cell(v) for v in row] for row in g.value("y").tolist()]
    assert "2×3" in y.painted_texts and "(3,)" in b.painted_texts  # shapes on the value rows
    # the node grew to hold both grids, as the layout reserves it
    assert b.body_rect().height() == G.node_height(0, shape=(3,)) > G.node_height(0)
    assert G.node_size("add", (2, 3))[1] == y.body_rect().height()


def test_a_large_array_is_drawn_as_two_heatmaps(win):
    g = open_example(win, "xor_mlp.json")
    w1 = win.scene.node_item(g.resolve("W1"))  # 2×8: too wide for a grid of numbers
    paint(win.scene, [w1])
    assert w1.painted_tensor == {"value": ("heatmap", (2, 8)), "grad": ("heatmap", (2, 8))}
    img = w1._heat["grad"]
    grad = g.grad("W1")
    # diverging map: the largest positive element is red-ish, the most negative blue-ish
    hi = np.unravel_index(np.argmax(grad), grad.shape)
    lo = np.unravel_index(np.argmin(grad), grad.shape)
    c_hi, c_lo = img.pixelColor(int(hi[1]), int(hi[0])), img.pixelColor(int(lo[1]), int(lo[0]))
    assert c_hi.red() > c_hi.blue() and c_lo.blue() > c_lo.red()


def test_every_element_has_a_tooltip_with_index_value_and_gradient(win, qtbot):
    g = open_example(win, "xor_mlp.json")
    it = win.scene.node_item(g.resolve("W2"))  # 8×2 heatmap
    rect = it.tensor_rect("grad")
    rows, cols = 8, 2
    for r in (0, 5):
        for c in (0, 1):
            local = QPointF(rect.left() + (c + 0.5) * rect.width() / cols,
                            rect.top() + (r + 0.5) * rect.height() / rows)
            which, idx = it.element_at(local)
            assert which == "grad" and idx == (r, c)
            tip = it.element_tooltip(idx)
            assert f"W2[{r},{c}]" in tip
            assert style.format_number(g.value("W2")[r, c]) in tip
            assert style.format_number(g.grad("W2")[r, c]) in tip
    # the real hover sets it
    local = QPointF(rect.left() + 1.5 * rect.width() / cols, rect.top() + 0.5 * rect.height() / rows)
    from PySide6.QtWidgets import QGraphicsSceneHoverEvent

    ev = QGraphicsSceneHoverEvent()
    ev.setPos(local)
    it.hoverMoveEvent(ev)
    assert it.toolTip().startswith("W2[0,1]")


def test_a_broadcast_is_written_on_the_wire_and_its_gradient_is_a_sum(win):
    g = open_example(win, "broadcast_bias.json")
    y = win.scene.node_item(g.resolve("y"))
    assert y.port_notes == {0: "(2, 3)", 1: "(3,) → (2, 3)"}  # shapes ride on the port rows
    paint(win.scene, [y])
    assert "(3,) → (2, 3)" in y.painted_texts
    win.scene.set_show_wire_grads(True)
    w = win.scene.wire_item(g.resolve("b"), g.resolve("y"), 1)
    assert w.grad_text == "Σ over axis 0"
    assert win.scene.wire_item(g.resolve("x"), g.resolve("y"), 0).grad_text == "(2, 3)"


def test_render_scene_draws_arrays_read_only():
    g = Graph.from_expression("y = x * w", x=np.arange(6.0).reshape(2, 3), w=np.ones(3))
    scene = GraphScene.drawing(g)
    its = list(scene.node_items().values())
    paint(scene, its)
    y = scene.node_item(g.resolve("y"))
    assert y.painted_tensor["value"][0] == "grid"


# ------------------------------------------------------------------------------ inspector


def test_editing_a_cell_is_one_undo_step_and_reevaluates(win, qtbot):
    g = open_example(win, "broadcast_bias.json")
    win.scene.select_nodes([g.resolve("b")])
    ins = win.inspector
    assert ins.value_table.isVisible() and ins.value_model.editable
    assert ins.grad_model.array.tolist() == [2.0, 2.0, 2.0]
    assert "‖g‖" in ins.grad_table_title.text() and "min 2" in ins.grad_table_title.text()
    before = win.undo_stack.count()
    table = ins.value_table
    idx = ins.value_model.index(0, 1)
    table.setCurrentIndex(idx)
    table.edit(idx)
    (editor,) = table.viewport().findChildren(QLineEdit)  # the cell's own editor
    editor.setFocus()
    editor.selectAll()
    qtbot.keyClicks(editor, "7")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: table.state() != table.State.EditingState, timeout=2000)
    assert g.value("b").tolist() == [10.0, 7.0, 30.0]
    assert g.value("L") == 141 - 2 * 13  # re-evaluated: b reaches both rows
    assert win.undo_stack.count() == before + 1
    assert ins.value_model.data(ins.value_model.index(0, 1)) == "7"
    win.undo_stack.undo()
    assert g.value("b").tolist() == [10.0, 20.0, 30.0] and g.value("L") == 141
    # an op node's table is read-only
    win.scene.select_nodes([g.resolve("y")])
    assert ins.value_table.isVisible() and not ins.value_model.editable
    assert not ins.value_model.setData(ins.value_model.index(0, 0), "5")


def test_pasting_spreadsheet_cells_is_one_undo_step(win, qtbot):
    g = open_example(win, "broadcast_bias.json")
    win.scene.select_nodes([g.resolve("x")])
    ins = win.inspector
    table = ins.value_table
    table.setFocus()
    table.setCurrentIndex(ins.value_model.index(0, 1))
    QGuiApplication.clipboard().setText("-1\t-2\n-3\t-4\n")
    before = win.undo_stack.count()
    qtbot.keyClick(table, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    assert g.value("x").tolist() == [[1, -1, -2], [4, -3, -4]]
    assert win.undo_stack.count() == before + 1
    assert g.value("L") == 141 - 21 + (1 - 1 - 2 + 4 - 3 - 4)  # every cell pasted, counted once
    assert not table.paste("1\tnot a number")  # refused whole, nothing changes
    assert win.undo_stack.count() == before + 1
    win.undo_stack.undo()
    assert g.value("x").tolist() == [[1, 2, 3], [4, 5, 6]]
    QGuiApplication.clipboard().clear()


def test_an_op_nodes_axis_is_edited_in_the_inspector_with_undo(win, qtbot):
    g = Graph.from_expression("s = sum(x)", x=np.arange(6.0).reshape(2, 3))
    win.controller.set_document(g)
    g = win.document
    win.scene.select_nodes([g.resolve("s")])
    e = win.inspector.param_edits["axis"]
    e.setFocus()
    e.selectAll()
    qtbot.keyClicks(e, "0")
    qtbot.keyClick(e, Qt.Key.Key_Return)
    assert g.params("s")["axis"] == 0 and g.value("s").tolist() == [3.0, 5.0, 7.0]
    # the array output is seeded with ones, and the window says so
    assert "seeded with ones" in win.output_label.text()
    assert "ones" in win.inspector.seed_label.text()
    win.undo_stack.undo()
    assert g.params("s")["axis"] is None and g.value("s") == 15.0
    assert "seeded" not in win.output_label.text()


# ------------------------------------------------------------------------------ Learn tools


def test_step_through_the_xor_mlp_draws_each_arrays_gradient_so_far(win):
    g = open_example(win, "xor_mlp.json")
    exp = win.experiment
    assert exp.step.start()
    steps = g.steps()
    h = win.scene.node_item(g.resolve("h"))
    assert h.step_grad == "" and h.step_grad_array is None  # an empty slot before
    reached = False
    for k in range(1, len(steps) + 1):
        exp.step.go_to(k)
        s = exp.step.state()
        for n, it in win.scene.node_items().items():
            gr = s.grads.get(n)
            if type(gr) is np.ndarray and it.tensor_shape:
                assert it.step_grad_array is gr
                paint(win.scene, [it])
                kind, drawn = it.painted_tensor["grad"]
                if kind == "grid":
                    t = gr.reshape(drawn and (len(drawn), len(drawn[0])))
                    assert drawn == [[style.format_cell(v) for v in row] for row in t.tolist()]
                reached = reached or n == g.resolve("h")
        text = exp.step.describe()
        assert "array" in text or k == len(steps)
    assert reached
    # at the end every array's gradient so far is the engine's
    for n, it in win.scene.node_items().items():
        if it.tensor_shape and it.step_grad_array is not None:
            np.testing.assert_array_equal(it.step_grad_array, g.grad(n))
    exp.step.stop()
    assert all(it.step_grad_array is None for it in win.scene.node_items().values())


def test_the_xor_example_trains_to_full_accuracy_with_the_descend_panel(win):
    g = open_example(win, "xor_mlp.json")
    panel = win.experiment.descent_dock.panel
    texts = [panel.trainable.item(i).text() for i in range(panel.trainable.count())]
    assert any(t.startswith("W1 = 2×8 array") for t in texts)  # a whole tensor, one tick
    panel.set_trainable([g.resolve(k) for k in ("W1", "b1", "W2", "b2")])
    panel.lr.setValue(0.5)
    panel.steps.setValue(300)
    panel.animate = False
    before = win.undo_stack.count()
    assert panel.run()
    assert win.undo_stack.count() == before + 1
    assert (g.value("p").argmax(axis=1) == g.number("y")).all()
    assert g.value("L") < 0.05
    win.undo_stack.undo()
    assert g.value("L") == pytest.approx(1.2693669590823466)


def test_forward_mode_along_a_chosen_element(win):
    g = open_example(win, "xor_mlp.json")
    exp = win.experiment
    bar = exp.forward_bar
    labels = [bar.combo.itemText(i) for i in range(bar.combo.count())]
    assert "W1[0,1]" in labels and "b2[1]" in labels
    assert not any(t.startswith("y[") for t in labels)  # class targets have no derivative
    bar.choose((g.resolve("W1"), (0, 1)))
    win.scene.clearSelection()
    exp.act_forward.trigger()
    assert exp.forward.active and exp.forward.index == (0, 1)
    assert "∂L/∂W1[0,1]" in exp.forward.text and "✓" in exp.forward.text
    t = exp.forward.values[g.resolve("L")]
    assert t == pytest.approx(g.grad("W1")[0, 1], rel=1e-9)
    exp.act_forward.trigger()
    assert not exp.forward.active


def test_the_chain_rule_panel_writes_the_rule_with_shapes(win):
    g = open_example(win, "linear_mse.json")
    view = win.experiment.explain_dock.widget()
    win.scene.select_nodes([g.resolve("W")])
    text = view.text()
    assert "∂L/∂W = xᵀ · ∂L/∂" in text
    assert "shapes: (2, 1) = (3, 2)ᵀ · (3, 1)" in text
    assert "∂L/∂W[1,0] = 1.3333" in text  # the largest element's sum written out
    g2 = open_example(win, "broadcast_bias.json")
    win.scene.select_nodes([g2.resolve("b")])
    assert "shapes: (3,) = Σ over axis 0 of (2, 3)" in view.text()


def test_the_gradient_check_says_how_many_elements_were_sampled(win):
    g = Graph.from_expression("L = sum(x * x)", x=np.arange(400.0).reshape(20, 20) / 100)
    win.controller.set_document(g)
    exp = win.experiment
    exp.check.run()
    it = win.scene.node_item(win.document.resolve("x"))
    assert it.badge == "✓"
    assert "of 400 elements checked, a seeded random sample" in it.badge_tip


# ------------------------------------------------------------------------------ gallery


def test_help_examples_lists_the_tensor_examples_and_each_opens(win):
    exp = win.experiment
    entries = gallery()
    files = [e.file for e in entries]
    tensors = tensor_gallery()
    assert [e.file for e in tensors] == ["broadcast_bias.json", "linear_mse.json", "xor_mlp.json"]
    for e in tensors:
        exp.act_examples.trigger()
        dlg = exp.gallery_dialog
        i = files.index(e.file)
        assert e.title in dlg.list.item(i).text()
        dlg.list.setCurrentRow(i)
        dlg.accept()
        assert not win.errors
        assert win.document.meta["title"] == e.title
        drawn = [it for it in win.scene.node_items().values() if it.tensor_shape]
        assert drawn and all(it.tensor_value is not None for it in drawn)
        # no two nodes overlap: the layout made room for the arrays
        rects = [it.sceneBoundingRect() for it in win.scene.node_items().values()]
        bodies = [it.mapRectToScene(it.body_rect()) for it in win.scene.node_items().values()]
        assert rects
        for a in range(len(bodies)):
            for b in range(a + 1, len(bodies)):
                assert not bodies[a].intersects(bodies[b])


def test_element_index_round_trips_the_table():
    shape = (2, 3, 4)
    seen = {element_index(shape, r, c) for r in range(6) for c in range(4)}
    assert seen == set(np.ndindex(*shape))


def test_an_array_is_typed_on_the_canvas_as_a_nested_list(win, qtbot):
    g = open_example(win, "broadcast_bias.json")
    b = g.resolve("b")
    messages = []
    win.controller.message.connect(messages.append)
    assert win.view.edit_value(b)
    ed = win.view.inline_editor
    assert ed.text() == "[10, 20, 30]"  # the array as a list, not a repr
    ed.selectAll()
    qtbot.keyClicks(ed, "[1, 2, 3]")
    qtbot.keyClick(ed, Qt.Key.Key_Return)
    assert g.value("b").tolist() == [1.0, 2.0, 3.0] and g.value("L") == 21 + 2 * 6
    for bad in ("[[1, 2], [3]]", "__import__('os')", "[1, 2"):  # ragged, code, broken: refused
        assert win.view.edit_value(b)
        ed = win.view.inline_editor
        ed.selectAll()
        qtbot.keyClicks(ed, bad)
        qtbot.keyClick(ed, Qt.Key.Key_Return)
    assert g.value("b").tolist() == [1.0, 2.0, 3.0]
    assert len(messages) == 3
    win.undo_stack.undo()
    assert g.value("b").tolist() == [10.0, 20.0, 30.0]
