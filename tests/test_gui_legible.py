"""Legible at every size: node text is drawn wherever it would be at least ~7 physical pixels
high, a compact form that still says something below that, and every example opens at a zoom
where its text is drawn, at device pixel ratio 1 and 2. "Drawn" is read from the paint itself
(NodeItem.painted_form / painted_texts, filled by the paint that rendered the picture), and the
number drawn is compared with the engine's."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QMessageBox

from engine import Graph
from engine.drawing import geometry as G
from gui import style
from gui.canvas.items import FORM_CHIPS, FORM_COMPACT, FORM_TEXT, readable_zoom
from gui.shell.files import examples
from gui.shell.gallery_dialog import THUMB, render_thumbnail
from gui.shell.main_window import MainWindow
from gui.style import format_number

pytestmark = pytest.mark.gui

EXAMPLES = [p for _title, p in examples()]


@pytest.fixture
def win(qtbot):
    w = MainWindow(use_settings=False)
    w.ask_unsaved = lambda: QMessageBox.Discard
    qtbot.addWidget(w)
    w.resize(1280, 800)
    w.show()
    qtbot.waitExposed(w)
    return w


def render_view(view, dpr: float) -> QImage:
    """The viewport as a screen with ``dpr`` would show it: every item paints again."""
    size = view.viewport().size()
    image = QImage(QSize(round(size.width() * dpr), round(size.height() * dpr)),
                   QImage.Format.Format_ARGB32_Premultiplied)
    image.setDevicePixelRatio(dpr)
    image.fill(style.BACKGROUND)
    p = QPainter(image)
    view.render(p, QRectF(0, 0, size.width(), size.height()), view.viewport().rect())
    p.end()
    return image


def visible_items(w):
    seen = w.view.mapToScene(w.view.viewport().rect()).boundingRect()
    return {n: it for n, it in w.scene.node_items().items() if seen.contains(it.sceneBoundingRect())}


def pretend_dpr(view, dpr: float) -> None:
    """The window's zoom policy asks the view for its pixel ratio; offscreen it is always 1."""
    view.devicePixelRatioF = lambda: dpr


@pytest.mark.parametrize("dpr", [1.0, 2.0])
@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_every_example_opens_with_its_text_drawn(win, path, dpr):
    pretend_dpr(win.view, dpr)
    assert win.open_example(path)
    g = win.document
    assert win.view.zoom() >= readable_zoom(dpr, margin=1.0) - 1e-9  # text >= 7 px
    out = g.evaluated_output()
    shown = visible_items(win)
    assert out in shown, "the output is in view"
    if len(shown) < len(g):  # not all of it fits: the output sits near the right edge, level
        # (up to a column further in, so that no node is cut in half by the left edge)
        seen = win.view.mapToScene(win.view.viewport().rect()).boundingRect()
        r = win.scene.node_item(out).sceneBoundingRect()
        assert seen.right() - r.right() <= 60.0 / win.view.zoom() + r.width() + 12
        whole = win.scene.items_bounding_rect()
        if seen.top() <= whole.top() and seen.bottom() >= whole.bottom():
            pass  # its whole height fits: every row is in view
        else:
            assert abs(seen.center().y() - r.center().y()) < 2.0 or \
                seen.top() <= whole.top() + 20 or seen.bottom() >= whole.bottom() - 20
        for it in win.scene.node_items().values():  # nothing cut in half by the left/right edge
            b = it.sceneBoundingRect()
            if b.bottom() > seen.top() and b.top() < seen.bottom():
                assert not (b.left() < seen.left() < b.right() or b.left() < seen.right() < b.right())
    for it in shown.values():
        it.painted_form = None
    render_view(win.view, dpr)
    assert shown
    vals, grads = g.values(), g.grads()
    for n, it in shown.items():
        assert it.painted_form == FORM_TEXT, g.label(n)
        texts = it.painted_texts
        if isinstance(vals[n], np.ndarray) and g.output_arity(n) > 1:  # a dataset: its shape, no heatmap
            assert it.value_text in texts
        elif isinstance(vals[n], np.ndarray):  # an array: its shape on the row, its numbers under it
            assert it.painted_tensor["value"][0] in ("grid", "heatmap"), g.label(n)
            assert it.value_text in texts
        else:
            assert format_number(vals[n]) in texts or any(
                t.startswith(format_number(vals[n])[:4]) for t in texts)
            assert format_number(grads.get(n)) in texts or any(
                t.startswith(format_number(grads.get(n))[:4]) for t in texts)
        if g.name(n):
            assert any(t == g.name(n) or t.endswith("…") for t in texts), g.label(n)
        for port in it.inputs:
            assert port.label in texts  # a, b, base, exp, x on their rows


def test_text_threshold_follows_the_device_pixel_ratio(win):
    g = Graph.from_expression("a * b", a=3, b=4)
    win.controller.set_document(g)
    a = win.scene.node_item(g.resolve("a"))
    z = readable_zoom(1.0, margin=1.0)  # the cut-off at ratio 1
    win.view.resetTransform()
    win.view.zoom_by(z * 0.8)  # too small for text at ratio 1 ...
    win.view.centerOn(a)
    a.painted_form = None
    render_view(win.view, 1.0)
    assert a.painted_form in (FORM_COMPACT, FORM_CHIPS)
    assert a.painted_form == FORM_COMPACT and "a" in a.painted_texts  # its name, not an empty box
    render_view(win.view, 2.0)  # ... but at ratio 2 the same zoom is 1.6 times the cut-off
    assert a.painted_form == FORM_TEXT and "3" in a.painted_texts


def test_far_out_a_node_is_never_an_empty_box(win):
    g = Graph.from_expression("relu(a * b)", a=3, b=-4)
    win.controller.set_document(g)
    win.view.resetTransform()
    win.view.zoom_by(0.12)
    win.view.centerOn(win.scene.node_item(g.output_node()))
    render_view(win.view, 1.0)
    forms = {it.painted_form for it in win.scene.node_items().values()}
    assert forms <= {FORM_COMPACT, FORM_CHIPS} and forms
    # chips only: still the header colour and value/gradient chips, drawn in the node's colours
    img = render_view(win.view, 1.0)
    it = win.scene.node_item(g.resolve("a"))
    body = win.view.mapFromScene(it.mapRectToScene(it.body_rect())).boundingRect()
    colours = {img.pixelColor(QPoint(x, y)).name() for x in range(body.left() + 1, body.right())
               for y in range(body.top() + 1, body.bottom())}
    assert style.VALUE.name() in colours or len(colours) > 3


def test_wire_labels_follow_the_same_rule(win):
    g = Graph.from_expression("a * b", a=3, b=4)
    win.controller.set_document(g)
    win.scene.set_show_wire_grads(True)
    w = win.scene.wire_item(g.resolve("a"), g.output_node(), 0)
    assert w.grad_text == "4"
    win.view.resetTransform()
    render_view(win.view, 1.0)
    assert w.label_drawn
    win.view.zoom_by(0.2)  # 2.3 px text: no label box over the wire
    render_view(win.view, 1.0)
    assert not w.label_drawn
    render_view(win.view, 4.0)  # the same zoom on a 4x screen reads again
    assert w.label_drawn


def test_ports_have_their_own_labelled_rows_and_16px_hit_areas(win):
    g = Graph.from_expression("a ** b - relu(a)", a=2, b=3)
    win.controller.set_document(g)
    pw = win.scene.node_item(next(n for n in g.nodes() if g.op(n) == "pow"))
    assert [p.label for p in pw.inputs] == ["base", "exp"]
    sub = win.scene.node_item(g.output_node())
    assert [p.label for p in sub.inputs] == ["a", "b"]
    relu = win.scene.node_item(next(n for n in g.nodes() if g.op(n) == "relu"))
    assert [p.label for p in relu.inputs] == ["x"]
    for it in (pw, sub, relu):
        value_row, grad_row = it.value_rect(), it.grad_rect()
        for p in it.inputs:
            row = it.port_row_rect(p.index)
            assert row.contains(p.pos())
            assert not value_row.intersects(row.adjusted(0, 0.5, 0, -0.5))
            assert not grad_row.intersects(row.adjusted(0, 0.5, 0, -0.5))
            hit = p.hit_rect()
            assert hit.width() >= 16 and hit.height() >= 16
            # a press 7 px off the port's centre still hits it, in the item's real shape
            off = p.pos() + QPointF(-7.0, 0.0)
            assert it.port_at(off) is p and it.shape().contains(off)
        assert it.body_rect().height() == G.node_height(len(it.inputs))


def test_port_tooltip_names_it_with_the_value_arriving_and_the_gradient_leaving(win, qtbot):
    g = Graph.from_expression("a * b", a=3, b=4)
    win.controller.set_document(g)
    mul = win.scene.node_item(g.output_node())
    tip = mul.inputs[0].tooltip()
    assert "input a of mul" in tip
    assert "value arriving: 3 from a" in tip and "gradient leaving: 4 back to a" in tip
    out_tip = mul.output_port.tooltip()
    assert "value leaving: 12" in out_tip and "gradient arriving: 1" in out_tip
    # hovering the port shows it as the item's tooltip (the node's own tooltip elsewhere)
    from tests.qt_helpers import mouse, view_point

    win.view.centerOn(mul)
    none = Qt.MouseButton.NoButton
    mouse(win.view, "move", view_point(win.view, mul.input_port_pos(1)), buttons=none)
    assert "input b of mul" in mul.toolTip() and "gradient leaving: 3 back to b" in mul.toolTip()
    mouse(win.view, "move", view_point(win.view, mul.mapToScene(QPointF(70, 12))), buttons=none)
    assert "mul:" in mul.toolTip()


@pytest.mark.parametrize("dpr", [1.0, 2.0])
def test_gallery_thumbnails_are_legible(dpr):
    for path in EXAMPLES:
        _img, drawn = render_thumbnail(Graph.load(path), THUMB, dpr)
        painted = {n: d for n, d in drawn.items() if d[0] is not None}
        assert painted, path.stem
        # every node in the picture says what it is: text or its one-word compact form
        assert all(form in (FORM_TEXT, FORM_COMPACT) and texts for form, texts in painted.values()), path.stem


def test_gui_show_opens_readably(qtbot):
    from engine import Value
    from gui.shell.app import _full_window

    x = [Value(float(i), name=f"x{i}") for i in range(12)]
    loss = sum((xi * xi for xi in x), Value(0.0))
    w = _full_window(loss.graph(), None)
    qtbot.addWidget(w)
    w.resize(1280, 800)
    w.show()
    qtbot.waitExposed(w)
    qtbot.waitUntil(lambda: w._fitted_once)
    qtbot.wait(20)
    assert w.view.zoom() >= readable_zoom(1.0, margin=1.0) - 1e-9
    out = w.scene.node_item(w.document.evaluated_output())
    seen = w.view.mapToScene(w.view.viewport().rect()).boundingRect()
    assert seen.contains(out.sceneBoundingRect())


_FIRST_LAUNCH = """
import gui
from PySide6.QtWidgets import QApplication
app = QApplication([])
from gui.shell.main_window import MainWindow
from gui.style import format_number
w = MainWindow(use_settings=False)
w.show()
for _ in range(5):
    app.processEvents()
w.view.viewport().grab()  # a real paint, at the screen's pixel ratio
g = w.document
seen = w.view.mapToScene(w.view.viewport().rect()).boundingRect()
shown = {n: it for n, it in w.scene.node_items().items() if seen.intersects(it.sceneBoundingRect())}
out = g.evaluated_output()
print(w.view.devicePixelRatioF())
print(out in shown)
print(all(it.painted_form == "text" for it in shown.values()))
print(format_number(g.value(out)) in shown[out].painted_texts)
"""


def test_first_launch_at_qt_scale_factor_2_draws_text():
    """The issue's first launch with QT_SCALE_FACTOR=2 showed blank boxes: the cut-off ignored
    the device pixel ratio. A real ratio of 2 needs its own process."""
    import os
    import subprocess
    import sys

    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", QT_SCALE_FACTOR="2")
    done = subprocess.run([sys.executable, "-c", _FIRST_LAUNCH], env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["2.0", "True", "True", "True"], done.stdout + done.stderr
