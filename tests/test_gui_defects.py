"""The smaller defects of issue 8, each seen the way a user saw it, each fixed."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QMessageBox

from engine import Graph
from engine.learn.descent import default_trainable, looks_like_data
from gui.canvas.controller import NEW_NUMBER_VALUE
from gui.learn.experiment import install
from gui.learn.fdcheck import verdict
from gui.panels.palette import entries
from gui.shell import files
from gui.shell.main_window import MainWindow

pytestmark = pytest.mark.gui


@pytest.fixture
def win(qtbot):
    w = MainWindow(use_settings=False)
    w.ask_unsaved = lambda: QMessageBox.Discard
    w.show_error = lambda title, text: None
    install(w)
    qtbot.addWidget(w)
    w.resize(1280, 800)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.experiment.step.stop()


def replace(w, graph):
    w.controller.set_document(graph)
    w.undo_stack.setClean()
    return graph


def test_inspector_on_an_output_without_a_value_does_not_say_no_path(win):
    g = Graph()
    a = g.add_number(2.0, name="a")
    m = g.add_op("mul")
    g.connect(a, m, 0)
    g.set_output(m)
    replace(win, g)
    win.scene.select_nodes([m])
    text = win.inspector.grad_label.text()
    assert "no path" not in text and "no value yet" in text and "this output" in text
    win.scene.select_nodes([a])
    text = win.inspector.grad_label.text()
    assert "no path" not in text and "has no value yet" in text


def test_inspector_rows_neither_clip_nor_jump_while_scrubbing(win, qtbot):
    a = win.document.resolve("a")
    win.scene.select_nodes([a])
    ins = win.inspector
    button = ins.check_button
    assert button.width() >= button.fontMetrics().horizontalAdvance("Check")
    rows = (ins.grad_label, ins.check_label)
    tops = [w.mapTo(ins, w.rect().topLeft()).y() for w in rows]
    heights = [w.height() for w in rows]
    scrub = ins.scrub
    scrub.setSliderDown(True)
    for tick in (5, 40, -60, 90, -100):
        scrub.setValue(tick)
        qtbot.wait(1)
        assert [w.mapTo(ins, w.rect().topLeft()).y() for w in rows] == tops
        assert [w.height() for w in rows] == heights
    scrub.setSliderDown(False)


def test_opening_an_inline_editor_does_not_shift_the_canvas(win, qtbot):
    g = win.document
    win.view.show_document_readably()
    for n in g.nodes():
        if g.op(n) != "number":
            continue
        win.view.centerOn(win.scene.node_item(n))
        qtbot.wait(1)
        before = win.view.mapToScene(win.view.viewport().rect().center())
        assert win.view.edit_value(n)
        after = win.view.mapToScene(win.view.viewport().rect().center())
        assert before == after
        win.view.inline_editor.finish(False)


def test_status_messages_end_with_the_next_edit(win, qtbot):
    sb = win.statusBar()
    a = win.document.resolve("a")
    assert not win.controller.set_value(a, float("nan"))  # refused, with a reason
    assert sb.currentMessage()
    assert win.controller.set_value(a, 4.0)  # a valid value: the refusal is no longer true
    qtbot.wait(5)
    assert sb.currentMessage() == ""
    # "Copied" does not stay up after a paste or a cut; each says what it did
    win.scene.select_nodes([a])
    assert win.copy() and sb.currentMessage().startswith("Copied")
    assert win.paste()
    qtbot.wait(5)
    assert sb.currentMessage().startswith("Pasted 1 node")
    win.scene.select_nodes([a])
    assert win.cut()
    qtbot.wait(5)
    assert sb.currentMessage().startswith("Cut 1 node")


def test_check_gradients_says_how_many_nodes_it_checked(win):
    class Row:
        def __init__(self, ok, label="n", reason=""):
            self.ok, self.label, self.reason = ok, label, reason

    assert verdict([], 6001) == "0 of 6,001 nodes checked: nothing could be checked"
    skipped = [Row(None, "x", "not a float")] * 3
    assert "agrees" not in verdict(skipped, 3) and "0 of 3" in verdict(skipped, 3)
    some = verdict([Row(True), Row(None, "t", "tensor")], 2)
    assert some.startswith("1 of 2 nodes checked") and "everywhere" not in some and "1 not checked" in some
    win.experiment.act_check.trigger()
    assert "8 of 8 nodes checked" in win.statusBar().currentMessage()
    assert "everywhere" in win.statusBar().currentMessage()


def test_descend_trains_parameters_not_the_target(win):
    g = replace(win, Graph.load(_example("perceptron_2layer")))
    chosen = {g.name(n) for n in default_trainable(g)}
    assert "t" not in chosen and "x1" not in chosen and "x2" not in chosen
    assert {"w11", "w31", "b1", "b3"} <= chosen
    win.experiment.act_descent_dock.trigger()
    panel = win.experiment.descent_dock.panel
    assert {g.name(n) for n in panel.chosen()} == chosen
    # ... and it opens as a tab: the inspector keeps its room
    assert win.inspector.height() >= 250
    names = ("x", "y2", "target", "w", "bias")
    assert [looks_like_data(n) for n in names] == [True, True, True, False, False]


def _example(stem):
    return next(p for _t, p in files.examples() if p.stem == stem)


def test_learn_toolbar_fits_an_800_pixel_window(win, qtbot):
    from gui.shell.app import apply_style

    apply_style(win)  # the app's stylesheet pads buttons: measure with it
    win.resize(720, 540)  # the window an 800x600 screen gets (nine tenths of it)
    qtbot.wait(20)
    tb = win.experiment.toolbar
    assert tb.sizeHint().width() <= tb.width()
    for act in (win.experiment.act_step_mode, win.experiment.act_play, win.experiment.act_check,
                win.experiment.act_forward, win.experiment.act_descent_dock):
        button = tb.widgetForAction(act)
        assert button is not None and button.isVisible(), act.text()
    # and the canvas keeps at least half the width next to the palette and inspector
    win._share_width()
    qtbot.wait(20)
    assert win.view.width() >= 0.45 * win.width()


def test_forward_mode_says_its_status_once(win):
    exp, g = win.experiment, win.document
    win.scene.select_nodes([g.resolve("a")])
    exp.act_forward.trigger()
    label = exp.forward_label.text()
    assert label.startswith("forward mode:")
    assert label not in win.statusBar().currentMessage()


def test_undo_history_names_duplicate_and_cut(win):
    g = win.document
    relu = g.add_op("relu")  # an op with a readable name to cut
    win.undo_stack.clear()
    win.scene.select_nodes([relu])
    assert win.duplicate()
    assert win.undo_stack.undoText() == "Duplicate 1 node"
    win.scene.select_nodes([relu])
    assert win.cut()
    assert win.undo_stack.undoText().startswith("Cut relu")


def test_minus_zero_reads_zero_on_the_node_and_in_the_history(win):
    a = win.document.resolve("a")
    assert win.document.number(a) != 0
    assert win.controller.set_value(a, -0.0)
    assert win.undo_stack.undoText() == "Set a = 0"
    assert win.scene.node_item(a).value_text == "0"


def test_about_shows_the_version(win, monkeypatch):
    from engine import __version__

    shown = []
    monkeypatch.setattr(QMessageBox, "about", lambda parent, title, text: shown.append(text))
    win.act_about.trigger()
    assert shown and f"version {__version__}" in shown[0]


def test_palette_number_tile_shows_what_a_new_number_starts_with(win, qtbot):
    op, symbol, doc, _arity = entries()[0]
    assert op == "number" and symbol == "0" and NEW_NUMBER_VALUE == 0.0
    n = win.add_at_view_centre("number")
    assert win.document.number(n) == NEW_NUMBER_VALUE
    assert win.scene.node_item(n).value_text == symbol


def test_a_press_7px_off_a_port_starts_a_wire_from_it(win, qtbot):
    """Ports are at least 16 px targets: a press 7 px inside the node from input b's centre
    starts a wire there rather than moving the node (the drop side is the wiring work's)."""
    g = replace(win, Graph.from_expression("a * b", a=3, b=4))
    mul = win.scene.node_item(g.output_node())
    win.view.centerOn(mul)
    port = mul.inputs[1]
    target = port.scenePos()
    target.setX(target.x() + 7.0)
    assert win.scene.port_at(target) is port
    before = mul.pos()
    from tests.qt_helpers import mouse, view_point

    p = view_point(win.view, target)
    mouse(win.view, "press", p)
    p2 = view_point(win.view, (target.x() - 60.0, target.y() + 30.0))
    mouse(win.view, "move", p2)
    assert mul.pos() == before  # a wire gesture, not a node drag
    mouse(win.view, "release", p2)
    assert mul.pos() == before
