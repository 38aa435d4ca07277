"""Lessons match the screen (issue 13, point 8): a near-integer prints as the integer, a NaN
gradient is marked with its reason and reads "NaN" everywhere, the Examples menu follows the
gallery's teaching order, and the first gallery pictures show their numbers."""

from __future__ import annotations

import math
import re
import sys

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from PySide6.QtWidgets import QApplication, QMessageBox

from engine import Graph
from engine.learn.gallery import gallery
from gui import style
from gui.canvas.items import FORM_TEXT
from gui.shell import files
from gui.shell.gallery_dialog import THUMB, render_thumbnail
from gui.shell.main_window import MainWindow
from resources import EXAMPLES
from tests.oracles import examples
from tests.painted import GRAD, check_numbers_current, painted_texts

pytestmark = pytest.mark.gui
EPS = sys.float_info.epsilon


def open_window(qtbot, example: str) -> MainWindow:
    w = MainWindow(Graph.load(EXAMPLES / example), use_settings=False)
    w.ask_unsaved = lambda: QMessageBox.StandardButton.Discard
    qtbot.addWidget(w)
    w.resize(1600, 1000)
    w.show()
    w.act_wire_grads.setChecked(True)
    w.scene.set_show_wire_grads(True)
    QApplication.processEvents()
    return w


def entry(file: str):
    return next(e for e in gallery() if e.file == file)


# ---------------------------------------------------------------- near-integers


@settings(max_examples=examples(100))
@given(st.integers(-10**6, 10**6), st.floats(-5.0, 5.0))
def test_a_number_within_four_epsilon_of_an_integer_prints_as_it(n, k):
    x = n + k * EPS * max(1, abs(n))
    assume(abs(x - n) <= 4 * EPS * max(1, abs(n)))  # DESIGN §7's band, after x's own rounding
    expected = str(n).replace("-", "\u2212")
    assert style.format_number(x) == expected
    if abs(n) < 10**4:
        assert style.format_cell(x) == expected


def test_numbers_outside_the_band_keep_their_digits():
    assert style.format_number(5e-16) == "0" and style.format_number(-5e-16) == "0"
    assert style.format_number(1e-15) == "1e\u221215"  # 1e-15 > 4ε: a real (tiny) number
    assert style.format_number(3 + 1e-9) == "3" and style.format_number(3.5) == "3.5"  # 5 digits
    assert style.format_number(1.1102230246251565e-16) == "0"  # log-sum-exp's m.grad


def test_log_sum_exp_lesson_and_node_agree_on_m_grad(qtbot):
    e = entry("softplus_lse.json")
    said = re.search(r"m\.grad = (\S+?)\.?$", e.lesson).group(1)
    w = open_window(qtbot, "softplus_lse.json")
    g = w.document
    m = g.resolve("m")
    assert g.grad(m) != 0 and abs(g.grad(m)) < 4 * EPS  # the engine's rounding residue
    it = w.scene.node_item(m)
    body = it.mapRectToScene(it.body_rect())
    grads = [t.text for t in painted_texts(w.scene) if t.fill == GRAD and body.contains(t.x + 1, t.y - 2)]
    assert grads == [said], (grads, said)
    check_numbers_current(w.scene)


# ---------------------------------------------------------------- a NaN gradient, marked and explained


def test_more_ops_nan_gradient_is_marked_with_its_reason_and_reads_nan(qtbot):
    w = open_window(qtbot, "micrograd_more_ops.json")
    g = w.document
    nan_nodes = [n for n in g.nodes() if g.grad(n) is not None and g.grad(n) != g.grad(n)]
    assert nan_nodes, "the example no longer has a NaN gradient"
    texts = painted_texts(w.scene)
    assert not [t.text for t in texts if "nan" in t.text.lower() and "NaN" not in t.text]  # no "nan"
    for n in nan_nodes:
        it = w.scene.node_item(n)
        assert it.problem_kind == "nan"
        assert "log a" in it.problem and "pow" in it.problem, it.problem
        it._update_tooltip()
        assert "log" in it.toolTip()
        body = it.mapRectToScene(it.body_rect())
        mine = [t.text for t in texts if body.contains(t.x + 1, t.y - 2)]
        assert "⚠" in mine and "NaN" in mine, mine
        w.scene.select_nodes([n])
        assert "log" in w.inspector.problem_label.text()
    # every wire carrying NaN says NaN, in the canvas's spelling
    nan_wires = [k for k in g.nx.edges(keys=True)
                 if g.edge_grad(*k) is not None and math.isnan(g.edge_grad(*k))]
    assert nan_wires
    for k in nan_wires:
        wire = w.scene.wire_item(*k)
        assert wire.grad_text == "NaN"
        assert all(f in ("← NaN", "←NaN") for f in wire._label_forms())
    check_numbers_current(w.scene, wires_expected=True)


def test_the_nan_reason_follows_an_edit(qtbot):
    """The reason names the base's value; after an edit moves the base, it names the new one."""
    w = open_window(qtbot, "micrograd_more_ops.json")
    g = w.document
    n = next(n for n in g.nodes() if g.grad(n) is not None and g.grad(n) != g.grad(n))
    assert "\u22127, 2" in w.scene.node_item(n).problem  # the base e and the exponent, as written
    w.document.set_value("a", -3.0)  # e = c - d moves with a (a script edit)
    QApplication.processEvents()
    QApplication.processEvents()
    base = g.value("e")
    assert base != -7 and base < 0
    assert f"{base:g}, 2".replace("-", "\u2212") in w.scene.node_item(n).problem
    assert "\u22127, 2" not in w.scene.node_item(n).problem


# ---------------------------------------------------------------- teaching order and pictures


def test_examples_menu_lists_lessons_in_the_gallerys_order(qtbot):
    w = open_window(qtbot, "seed_fanout.json")
    titles = [a.text() for a in w.example_actions()]
    order = [e.title for e in gallery()]
    assert titles[: len(order)] == order
    assert titles[0].startswith("A chain")
    assert [p.name for _, p in files.examples()][: len(order)] == [e.file for e in gallery()]


@pytest.mark.parametrize("k", [0, 1])
def test_the_first_gallery_thumbnails_show_their_numbers(qapp, k):
    e = gallery()[k]
    g = e.load()
    _img, drawn = render_thumbnail(g, THUMB, 1.0)
    assert all(form == FORM_TEXT for form, _ in drawn.values()), drawn
    a = g.resolve("a")
    form, texts = drawn[a]
    # the lesson's a.grad, as the node draws it
    said = e.lesson.split("a.grad = ", 1)[1].split(",")[0]
    grad = re.findall(r"\d+(?:\.\d+)?", said)[-1]  # "20 + 15 = 35." -> 35
    assert grad in texts and str(int(g.number(a))) in texts, (grad, texts)
