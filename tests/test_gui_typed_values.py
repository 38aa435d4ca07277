"""A value may be typed as any literal the parser takes, wherever a value is typed: the node's
inline editor, the inspector's Value field and the search box (issue 13, point 5). Each is
real typing into the real widget; each accepted value is one undo step; each refusal leaves
the document as it was and says the parser's own reason."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox

from engine import Graph, ParseError
from engine.io.parse import parse_program
from gui.shell.main_window import MainWindow
from resources import EXAMPLES
from tests.painted import check_numbers_current
from tests.qt_helpers import double_click, mouse, view_point

pytestmark = pytest.mark.gui

ARRAY = "[[1, 2], [3, 4]]"
A = np.array([[1.0, 2.0], [3.0, 4.0]])


def window(qtbot, example: str) -> MainWindow:
    w = MainWindow(Graph.load(EXAMPLES / example), use_settings=False)
    w.ask_unsaved = lambda: QMessageBox.StandardButton.Discard  # closing never blocks
    w.messages = []
    w.controller.message.connect(w.messages.append)
    qtbot.addWidget(w)
    w.resize(1600, 1000)
    w.show()
    qtbot.waitExposed(w)
    return w


@pytest.fixture
def win(qtbot):
    return window(qtbot, "seed_fanout.json")


def keys(edit, text: str) -> None:
    """Type ``text`` into ``edit``; a character no key makes (the canvas's own minus sign,
    copied from a node) is pasted in, as a user would."""
    if text.isascii():
        QTest.keyClicks(edit, text)
    else:
        edit.insert(text)


def type_on_canvas(w, node: int, text: str) -> None:
    it = w.scene.node_item(node)
    w.view.ensureVisible(it.sceneBoundingRect(), 10, 10)
    double_click(w.view, it.mapToScene(it.value_rect().center()))
    ed = w.view.inline_editor
    assert ed is not None
    ed.selectAll()
    keys(ed, text)
    QTest.keyClick(ed, Qt.Key.Key_Return)
    QApplication.processEvents()


def type_in_inspector(w, node: int, text: str) -> None:
    w.scene.select_nodes([node])
    edit = w.inspector.value_edit
    assert edit.isVisible()
    edit.setFocus()
    edit.selectAll()
    keys(edit, text)
    QTest.keyClick(edit, Qt.Key.Key_Return)
    QApplication.processEvents()


def fanout_by_hand(a):
    """e = (a*4 + 3) * (a + 2) and de/da = 8a + 11, elementwise (a hand calculation)."""
    return (a * 4 + 3) * (a + 2), 8 * a + 11


def parser_message(text: str) -> str:
    """What the program parser says about ``text`` as a program (the oracle for refusals)."""
    with pytest.raises(ParseError) as e:
        parse_program(text)
    return e.value.msg


@pytest.mark.parametrize("where", ["canvas", "inspector"])
def test_an_array_typed_into_a_number_is_one_undo_step(win, where):
    g = win.document
    a = g.resolve("a")
    before = win.undo_stack.count()
    (type_on_canvas if where == "canvas" else type_in_inspector)(win, a, ARRAY)
    np.testing.assert_array_equal(g.number(a), A)
    e, de = fanout_by_hand(A)
    np.testing.assert_allclose(g.value("e"), e)
    np.testing.assert_allclose(g.grad(a), de)  # an array output is seeded with ones
    assert win.undo_stack.count() == before + 1
    check_numbers_current(win.scene)  # the node now draws the grid: every cell is the engine's
    win.undo_stack.undo()
    assert g.number(a) == 3 and g.grad(a) == 35


LITERALS = [
    ("randn(2, 3, seed=0)", np.random.default_rng(0).standard_normal((2, 3))),
    ("zeros(3)", np.zeros(3)),
    ("ones(2, 2)", np.ones((2, 2))),
    ("\u22122.5", -2.5),
    ("1e-3", 0.001),
]
REFUSED = ["randn(2, 3)", "zeros(2000, 2000)", "[[1, 2], [3]]", "[]", "1e400", "[1, True]", "zeros(0)"]


@pytest.mark.parametrize("where", ["canvas", "inspector"])
def test_every_literal_the_parser_takes_is_a_value(win, where):
    g = win.document
    a = g.resolve("a")
    for k, (text, expected) in enumerate(LITERALS, 1):
        (type_on_canvas if where == "canvas" else type_in_inspector)(win, a, text)
        np.testing.assert_array_equal(g.number(a), expected)
        assert win.undo_stack.count() == k, text  # one undo step each


@pytest.mark.parametrize("where", ["canvas", "inspector"])
def test_refusals_are_the_parsers_with_its_message(win, where):
    g = win.document
    before = g.to_dict()
    for text in REFUSED:
        (type_on_canvas if where == "canvas" else type_in_inspector)(win, g.resolve("a"), text)
        assert g.to_dict() == before and win.undo_stack.count() == 0, text
        said = win.messages[-1] if where == "canvas" else win.inspector.error_label.text()
        assert parser_message(text) in said, said


def test_nothing_typed_is_run_and_expressions_are_not_values(win):
    g = win.document
    before = g.to_dict()
    for text in ("__import__('os').system('true')", "a + 1", "inf", "nan", "x = 3"):
        win.messages.clear()
        type_on_canvas(win, g.resolve("a"), text)
        assert g.to_dict() == before and win.undo_stack.count() == 0
        assert "value" in win.messages[-1] or "finite" in win.messages[-1], text


def test_leaving_the_inspector_field_untouched_changes_nothing(qtbot):
    """The field holds the number in full; tabbing through it used to write back the five
    digits shown (b = 6.8814 instead of 6.881373587019543)."""
    w = window(qtbot, "tanh_neuron.json")
    g = w.document
    b = g.resolve("b")
    exact = g.number(b)
    assert exact != round(exact, 4)
    w.scene.select_nodes([b])
    edit = w.inspector.value_edit
    assert float(edit.text()) == exact
    edit.setFocus()
    w.inspector.name_edit.setFocus()  # focus leaves the field: editingFinished
    QApplication.processEvents()
    assert g.number(b) == exact and w.undo_stack.count() == 0


def test_class_targets_stay_whole_numbers(qtbot):
    w = window(qtbot, "xor_mlp.json")
    g = w.document
    y = g.resolve("y")
    assert g.number(y).dtype.kind == "i"
    type_on_canvas(w, y, "[1, 0, 0, 1]")
    assert g.number(y).tolist() == [1, 0, 0, 1] and g.number(y).dtype.kind == "i"


def open_search_at(w, qtbot, scene_pos: QPointF) -> None:
    mouse(w.view, "move", view_point(w.view, scene_pos), buttons=Qt.MouseButton.NoButton)
    w.view.setFocus()
    qtbot.keyClick(w.view, Qt.Key.Key_Tab)
    assert w.view.search.isVisible()


def test_search_box_adds_a_number_holding_the_typed_array(win, qtbot):
    g = win.document
    before = set(g.nodes())
    open_search_at(win, qtbot, QPointF(-300.0, -200.0))
    qtbot.keyClicks(win.view.search.edit, ARRAY)
    qtbot.keyClick(win.view.search.edit, Qt.Key.Key_Return)
    assert not win.view.search.isVisible()
    (n,) = set(g.nodes()) - before
    assert g.op(n) == "number"
    np.testing.assert_array_equal(g.number(n), A)
    assert win.undo_stack.count() == 1
    win.undo_stack.undo()
    assert set(g.nodes()) == before


def test_search_box_shows_the_parsers_reason_and_adds_nothing(win, qtbot):
    g = win.document
    before = g.to_dict()
    open_search_at(win, qtbot, QPointF(-300.0, -200.0))
    qtbot.keyClicks(win.view.search.edit, "randn(2, 3)")
    shown = [win.view.search.list.item(i) for i in range(win.view.search.list.count())]
    shown = [it.text() for it in shown if not it.isHidden()]
    assert any(parser_message("randn(2, 3)") in t for t in shown), shown
    qtbot.keyClick(win.view.search.edit, Qt.Key.Key_Return)
    assert g.to_dict() == before


def test_search_box_still_finds_ops_by_name(win, qtbot):
    open_search_at(win, qtbot, QPointF(-300.0, -200.0))
    qtbot.keyClicks(win.view.search.edit, "tanh")
    assert win.view.search.visible_keys() == ["tanh"]
    assert win.view.search.typed_value is None
