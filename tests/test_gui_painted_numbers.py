"""Every number painted on the canvas is the engine's current number, after every kind of
edit: the canvas's value editor, the inspector, undo/redo, Descend, a cell of an array table
and a script editing ``window.document``. What is painted is read from the scene rendered to
SVG (tests/painted.py); the oracle is the engine's numbers at the precision painted."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QHelpEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QLineEdit, QMessageBox, QToolTip

from engine import NUMBER, Graph
from gui.shell.main_window import MainWindow
from resources import EXAMPLES
from tests.painted import agrees, check_numbers_current, painted_texts
from tests.qt_helpers import double_click, mouse, view_point, wheel

pytestmark = pytest.mark.gui


def open_window(example: str) -> MainWindow:
    w = MainWindow(Graph.load(EXAMPLES / example), use_settings=False)
    w.ask_unsaved = lambda: QMessageBox.StandardButton.Discard  # closing never blocks
    w.resize(1600, 1000)
    w.show()
    w.act_wire_grads.setChecked(True)
    w.scene.set_show_wire_grads(True)
    w.experiment.descent_dock.panel.animate = False
    QApplication.processEvents()
    return w


def close(w: MainWindow) -> None:
    w.close()
    w.deleteLater()
    QApplication.processEvents()


def settle() -> None:
    for _ in range(3):
        QApplication.processEvents()


# ---------------------------------------------------------------- gestures, as a user makes them


def type_on_canvas(w, node: int, text: str) -> None:
    """Double-click the node's value row, type, Enter."""
    it = w.scene.node_item(node)
    w.view.ensureVisible(it.sceneBoundingRect(), 10, 10)
    double_click(w.view, it.mapToScene(it.value_rect().center()))
    ed = w.view.inline_editor
    assert ed is not None, "double-clicking the value row opened no editor"
    ed.selectAll()
    QTest.keyClicks(ed, text)
    QTest.keyClick(ed, Qt.Key.Key_Return)
    settle()


def type_in_inspector(w, node: int, text: str) -> None:
    w.scene.select_nodes([node])
    edit = w.inspector.value_edit
    edit.setFocus()
    edit.selectAll()
    QTest.keyClicks(edit, text)
    QTest.keyClick(edit, Qt.Key.Key_Return)
    settle()


def type_in_cell(w, node: int, index: tuple, text: str) -> None:
    """Select the node, open the cell's editor in the inspector's table, type, Enter."""
    w.scene.select_nodes([node])
    ins = w.inspector
    table = ins.value_table
    shape = w.document.value(node).shape
    cols = shape[-1]
    flat = int(np.ravel_multi_index(index, shape))
    idx = ins.value_model.index(flat // cols, flat % cols)
    table.setCurrentIndex(idx)
    table.edit(idx)
    (editor,) = table.viewport().findChildren(QLineEdit)
    editor.setFocus()
    editor.selectAll()
    QTest.keyClicks(editor, text)
    QTest.keyClick(editor, Qt.Key.Key_Return)
    settle()


def run_descend(w, steps: int, lr: float) -> None:
    panel = w.experiment.descent_dock.panel
    panel.steps.setValue(steps)
    panel.lr.setValue(lr)
    QTest.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
    settle()


def script_edit(w, node: int, value) -> None:
    w.document.set_value(node, value)  # behind the undo stack's back, as a script would
    settle()


def numbers(g) -> list[int]:
    return [n for n in g.nodes() if g.op(n) == NUMBER]


def text_of(v: float) -> str:
    return repr(float(v)).removesuffix(".0")


# ---------------------------------------------------------------- the case


def test_fanout_edit_repaints_every_wire_label(qtbot):
    """Issue 13, point 1: a = 5 typed on the canvas; every wire label follows (28, 7, 23),
    not only those whose text changed width."""
    w = open_window("seed_fanout.json")
    try:
        g = w.document
        check_numbers_current(w.scene, wires_expected=True)
        type_on_canvas(w, g.resolve("a"), "5")
        assert g.number("a") == 5 and g.grad("a") == 51  # d/da (4a+3)(a+2) = 8a + 11
        wires = {t.text for t in painted_texts(w.scene) if t.fill == "#ffa07a"}
        assert {"← 28", "← 23", "← 7"} <= wires and not wires & {"← 20", "← 15", "← 5"}, wires
        check_numbers_current(w.scene, wires_expected=True)
        w.act_undo.trigger()
        settle()
        check_numbers_current(w.scene, wires_expected=True)
        w.act_redo.trigger()
        settle()
        check_numbers_current(w.scene, wires_expected=True)
    finally:
        close(w)


def test_undoing_an_array_edit_leaves_no_shape_notes(qtbot):
    """a = [[1, 2], [3, 4]] makes every port row downstream say what arrives; undo makes a a
    number again, and no row may still say (2, 2)."""
    w = open_window("seed_fanout.json")
    try:
        type_on_canvas(w, w.document.resolve("a"), "[[1, 2], [3, 4]]")
        assert any(t.text == "scalar → (2, 2)" for t in painted_texts(w.scene))
        check_numbers_current(w.scene, wires_expected=True)
        w.act_undo.trigger()
        settle()
        assert not any("(2, 2)" in t.text for t in painted_texts(w.scene))
        check_numbers_current(w.scene, wires_expected=True)
    finally:
        close(w)


def test_wire_tooltip_follows_the_number(qtbot):
    """A label left out for room (or in its short form) puts the number in the wire's
    tooltip: that text is the engine's too after an edit."""
    w = open_window("seed_fanout.json")
    try:
        g = w.document
        type_on_canvas(w, g.resolve("a"), "5")
        painted_texts(w.scene)  # paint: labels take their places and write their tooltips
        for (s, t, p), wire in w.scene.wire_items().items():
            tip = wire.toolTip()
            if tip:
                number = tip.split(":", 1)[1].split("\n")[0]
                assert agrees(number, g.edge_grad(s, t, p)), (tip, g.edge_grad(s, t, p))
    finally:
        close(w)


def shown_tooltip(view, scene_pos) -> str:
    """The tooltip Qt shows when the mouse rests at ``scene_pos`` (a real ToolTip event)."""
    vp = view.viewport()
    p = view.mapFromScene(scene_pos)
    QApplication.sendEvent(vp, QHelpEvent(QEvent.Type.ToolTip, p, vp.mapToGlobal(p)))
    return QToolTip.text() if QToolTip.isVisible() else ""


def test_tooltips_shown_after_an_edit_carry_the_new_numbers(qtbot):
    """The mouse rests on b's input port and on a wire; a is edited meanwhile (here by a
    script, with no mouse move): the tooltips then shown say the engine's new numbers."""
    w = open_window("seed_fanout.json")
    try:
        g = w.document
        a, b = g.resolve("a"), g.resolve("b")
        port = w.scene.node_item(b).input_port_pos(0)  # b = a * 4: a arrives on port 0
        mouse(w.view, "move", view_point(w.view, port), buttons=Qt.MouseButton.NoButton)
        assert "value arriving: 3" in shown_tooltip(w.view, port)
        while w.view.zoom() > 0.45:  # far out (wheel notches): labels too small to draw
            wheel(w.view, port, -120)
        settle()
        wire = w.scene.wire_item(a, b, 0)
        mid = wire.path().pointAtPercent(0.5)
        painted_texts(w.scene)
        script_edit(w, a, 5.0)
        tip = shown_tooltip(w.view, port)
        arriving = tip.split("value arriving: ")[1].split(" ")[0]
        leaving = tip.split("gradient leaving: ")[1].split(" ")[0]
        assert agrees(arriving, g.value(a)) and agrees(leaving, g.edge_grad(a, b, 0)), tip
        tip = shown_tooltip(w.view, mid)
        assert agrees(tip.split(": ")[1].split("\n")[0], g.edge_grad(a, b, 0)), tip
    finally:
        close(w)


def test_agrees_reads_the_painted_precision():
    assert agrees("28", 28.0) and not agrees("20", 28.0)
    assert agrees("0.143", 0.14339) and not agrees("0.143", 0.1436)
    assert agrees("\u22121.5e\u22125", -1.5e-5) and not agrees("1.5e-5", -1.5e-5)
    assert agrees("NaN", float("nan")) and agrees("—", None) and not agrees("—", 0.0)


# ---------------------------------------------------------------- random edit sequences

_small = st.integers(-9, 9).map(float) | st.floats(-5, 5, allow_nan=False).map(lambda v: round(v, 2))

_edit = st.one_of(
    st.tuples(st.just("canvas"), st.integers(0, 50), _small),
    st.tuples(st.just("inspector"), st.integers(0, 50), _small),
    st.tuples(st.just("script"), st.integers(0, 50), _small),
    st.tuples(st.just("undo"), st.just(0), st.just(0.0)),
    st.tuples(st.just("redo"), st.just(0), st.just(0.0)),
    st.tuples(st.just("descend"), st.integers(1, 5), st.sampled_from([0.01, 0.05])),
    st.tuples(st.just("literal"), st.integers(0, 50),
              st.sampled_from(["[[1, 2], [3, 4]]", "zeros(2)", "-1.5"])),
)


def _apply_scalar(w, edit) -> None:
    kind, k, v = edit
    g = w.document
    nums = numbers(g)
    if kind == "canvas":
        type_on_canvas(w, nums[k % len(nums)], text_of(v))
    elif kind == "inspector":
        type_in_inspector(w, nums[k % len(nums)], text_of(v))
    elif kind == "script":
        script_edit(w, nums[k % len(nums)], v)
    elif kind == "literal":  # an array (or a number) typed as the parser writes it
        type_on_canvas(w, nums[k % len(nums)], v)
    elif kind == "undo":
        w.act_undo.trigger()
        settle()
    elif kind == "redo":
        w.act_redo.trigger()
        settle()
    else:
        run_descend(w, k, v)


@settings(max_examples=5)
@given(st.sampled_from(["seed_fanout.json", "micrograd_sanity.json"]),
       st.lists(_edit, min_size=1, max_size=5))
def test_random_edits_leave_every_painted_number_current(qapp, example, edits):
    w = open_window(example)
    try:
        for edit in edits:
            _apply_scalar(w, edit)
            check_numbers_current(w.scene, wires_expected=True)
    finally:
        close(w)


_array_edit = st.one_of(
    st.tuples(st.just("cell"), st.integers(0, 50), _small),
    st.tuples(st.just("canvas"), st.integers(0, 50), _small),
    st.tuples(st.just("script"), st.integers(0, 50), _small),
    st.tuples(st.just("undo"), st.just(0), st.just(0.0)),
    st.tuples(st.just("redo"), st.just(0), st.just(0.0)),
)


@settings(max_examples=5)
@given(st.lists(_array_edit, min_size=1, max_size=4))
def test_random_array_edits_leave_every_painted_number_current(qapp, edits):
    """broadcast_bias: a cell of b or x typed in the inspector's table, the whole array typed
    on the canvas, scripts, undo/redo; the grids and labels stay the engine's."""
    w = open_window("broadcast_bias.json")
    try:
        for kind, k, v in edits:
            g = w.document
            nums = [n for n in numbers(g) if type(g.number(n)) is np.ndarray]
            n = nums[k % len(nums)]
            shape = g.number(n).shape
            if kind == "cell":
                type_in_cell(w, n, np.unravel_index(k % int(np.prod(shape)), shape), text_of(v))
            elif kind == "canvas":
                new = np.round(g.number(n) + v, 2)
                type_on_canvas(w, n, str(new.tolist()))
            elif kind == "script":
                new = g.number(n).copy()
                new.flat[k % new.size] = v
                script_edit(w, n, new)
            elif kind == "undo":
                w.act_undo.trigger()
                settle()
            else:
                w.act_redo.trigger()
                settle()
            check_numbers_current(w.scene, wires_expected=True)
    finally:
        close(w)
