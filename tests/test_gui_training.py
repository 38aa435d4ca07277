"""Issue 15 in the window, driven as a user: Play trains and the pictures change, Pause and
Step, Reset gives the same weights, the scrubber paints an earlier step's numbers, a click in
the data view adds a point, undo of a run restores the weights, New Network builds in one
undo step. Oracle: a fresh engine Trainer on a copy of the same document (never the GUI's)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QMessageBox

from engine import training as T
from gui import MainWindow
from gui import style as S
from tests.test_gui_output_follows import node_texts


def _document():
    d = T.dataset("xor", n=40, noise=0.0, seed=1)
    net = T.build_mlp(d, hidden=[3], seed=0)
    T.use_dataset_node(net.graph, d)
    net.graph.apply_layout()
    return net.graph


def _oracle(graph, steps, **opts):
    """A Trainer of our own on a copy of the original document, as the Train dock sets it."""
    g = graph.copy()
    run = T.Trainer(g, **T.training_setup(g), **{"optimizer": "adam", "lr": 0.03, "weight_decay": 0.0,
                                               "l1": 0.0, "batch": None, "seed": 0, **opts})
    run.run(steps=steps) if steps else None
    return run


@pytest.fixture
def win(qtbot):
    w = MainWindow(_document(), use_settings=False)
    w.ask_unsaved = lambda: QMessageBox.StandardButton.Discard
    qtbot.addWidget(w)
    w.resize(1400, 900)
    w.show()
    qtbot.waitExposed(w)
    w.training.show_docks()
    return w


def _params(w):
    g = w.document
    return [g.number(p) for p in T.training_setup(g)["params"]]


def _play(w, qtbot, steps):
    panel = w.training.train_dock.ensure_panel()
    panel.limit_kind.setCurrentIndex(1)  # steps
    panel.limit.setValue(steps)
    qtbot.mouseClick(panel.play_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not w.training.session.playing, timeout=20000)


def test_play_trains_and_the_pictures_change(win, qtbot):
    s = win.training.session
    original = win.document.copy()
    s.ensure()
    before = [u.value.copy() for u in s.frame.units]
    _play(win, qtbot, 6)
    oracle = _oracle(original, 6)
    assert s.trainer.t == 6
    for got, want in zip(_params(win), oracle.values):
        assert np.array_equal(got, want)
    after = s.frame.units
    moved = [not np.allclose(a, b.value) for a, b in zip(before, after) if a.shape == b.value.shape]
    assert any(moved)
    strip = win.training.pictures.strips
    assert strip and all(st.shown and st.atlas is not None for st in strip.values())
    assert win.undo_stack.text(win.undo_stack.index() - 1).startswith("Train 6 steps")


def test_pause_then_step(win, qtbot):
    s = win.training.session
    original = win.document.copy()
    panel = win.training.train_dock.ensure_panel()
    panel.limit_kind.setCurrentIndex(2)  # until stopped
    qtbot.mouseClick(panel.play_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: s.trainer is not None and s.trainer.t >= 3, timeout=20000)
    qtbot.mouseClick(panel.play_button, Qt.MouseButton.LeftButton)  # Pause
    assert not s.playing
    k = s.trainer.t
    qtbot.mouseClick(panel.step_button, Qt.MouseButton.LeftButton)
    assert s.trainer.t == k + 1
    oracle = _oracle(original, k + 1)
    for got, want in zip(_params(win), oracle.values):
        assert np.array_equal(got, want)
    assert win.undo_stack.text(win.undo_stack.index() - 1) == f"Training step {k + 1}"


def test_reset_gives_the_same_weights_and_the_same_run(win, qtbot):
    s = win.training.session
    original = win.document.copy()
    _play(win, qtbot, 4)
    qtbot.mouseClick(win.training.train_dock.panel.reset_button, Qt.MouseButton.LeftButton)
    fresh = _oracle(original, 0)
    for got, want in zip(_params(win), fresh.values):
        assert np.array_equal(got, want)
    _play(win, qtbot, 3)
    fresh.run(steps=3)
    assert [r.loss for r in s.trainer.history] == [r.loss for r in fresh.history]


def test_scrubbing_back_paints_that_steps_numbers(win, qtbot):
    s = win.training.session
    _play(win, qtbot, 5)
    panel = win.training.train_dock.panel
    panel.scrubber.setFocus()
    panel.scrubber.setValue(2)  # as a drag of the handle does
    assert s.shown_step == 2 and win.scene.preview is not None
    at2 = s.trainer.graph_at(2)
    for name in ("L", "b2"):
        n = at2.resolve(name)
        value = at2.value(n)
        want = [S.format_cell(v) for v in np.ravel(value)] if isinstance(value, np.ndarray) \
            else [S.format_number(value)]
        texts = node_texts(win, n)
        for t in want:
            assert t in texts, (name, t, texts)
    now = win.document.value("L")
    assert S.format_number(now) != S.format_number(at2.value("L"))
    qtbot.mouseClick(panel.keep_button, Qt.MouseButton.LeftButton)
    assert s.trainer.t == 2
    for got, want in zip(_params(win), s.trainer.values):
        assert np.array_equal(got, want)


def test_a_previewed_step_is_what_tooltips_and_the_inspector_show(win, qtbot):
    original = win.document.copy()
    _play(win, qtbot, 5)
    win.training.train_dock.panel.scrubber.setValue(2)
    at2 = _oracle(original, 5).graph_at(2)  # our own run, never the GUI's
    doc = win.document
    L, W1 = at2.resolve("L"), at2.resolve("W1")
    assert S.format_number(at2.value(L)) != S.format_number(doc.value(L))
    item = win.scene.node_item(L)
    tip = item.tooltip_at(item.output_port.pos())  # what hovering the output port shows
    assert f"value leaving: {S.format_number(at2.value(L))}" in tip, tip
    assert S.format_number(doc.value(L)) not in tip
    win.scene.clearSelection()
    item.setSelected(True)
    shown = win.inspector.value_label.text()
    assert S.format_number(at2.value(L)) in shown and S.format_number(doc.value(L)) not in shown
    assert "previewed" in win.inspector.title.text()
    win.scene.clearSelection()
    win.scene.node_item(W1).setSelected(True)  # a weight: its step-2 entries, not editable
    model = win.inspector.value_model
    got = np.array([[float(model.index(r, c).data(Qt.ItemDataRole.EditRole) or "nan")
                     for c in range(model.columnCount())] for r in range(model.rowCount())])
    assert np.allclose(got, at2.number(W1)) and not np.allclose(got, doc.number(W1))
    assert not model.flags(model.index(0, 0)) & Qt.ItemFlag.ItemIsEditable
    qtbot.mouseClick(win.training.train_dock.panel.play_button, Qt.MouseButton.LeftButton)  # leave it
    qtbot.waitUntil(lambda: not win.training.session.playing, timeout=20000)
    assert "previewed" not in win.inspector.title.text()


def test_undo_of_a_run_restores_the_weights(win, qtbot):
    before = _params(win)
    _play(win, qtbot, 4)
    assert not all(np.array_equal(a, b) for a, b in zip(before, _params(win)))
    win.undo_stack.undo()
    for got, want in zip(_params(win), before):
        assert np.array_equal(got, want)
    s = win.training.session
    assert s.ensure() and s.trainer.t == 0


def test_a_click_in_the_data_view_adds_and_removes_a_point(win, qtbot):
    panel = win.training.data_dock.panel
    plane = panel.plane
    win.training.data_dock.raise_()
    qtbot.waitUntil(lambda: plane.isVisible() and plane.width() > 50)
    g = win.document
    node = T.find_dataset(g)
    n0 = T.dataset_of(g, node).n
    # a spot on the plane at least 12 pixels from every point (the data's own, by hand)
    X = T.dataset_of(g, node).X
    px, py = plane.to_screen(X[:, 0], X[:, 1])
    r = plane.plot_rect()
    spots = [(x, y) for x in range(int(r.left()) + 10, int(r.right()) - 10, 5)
             for y in range(int(r.top()) + 10, int(r.bottom()) - 10, 5)]
    at = QPoint(*max(spots, key=lambda q: np.min(np.hypot(px - q[0], py - q[1]))))
    assert np.min(np.hypot(px - at.x(), py - at.y())) > 12
    qtbot.mouseClick(plane, Qt.MouseButton.RightButton, pos=at)
    d = T.dataset_of(win.document, node)
    assert d.n == n0 + 1 and int(d.y_train[-1]) == 1
    e = d.extent  # the plane's extent, mapped by hand: x1 left to right, x2 bottom to top
    x = e[0] + (at.x() - r.left()) / r.width() * (e[1] - e[0])
    y = e[3] - (at.y() - r.top()) / r.height() * (e[3] - e[2])
    assert np.allclose(d.X_train[-1], [x, y])
    assert d.recipe is None  # edited points are stored inline
    qtbot.mouseClick(plane, Qt.MouseButton.LeftButton, pos=at)  # on the point: removes it
    assert T.dataset_of(win.document, node).n == n0
    win.undo_stack.undo()
    win.undo_stack.undo()
    assert T.dataset_of(win.document, node).recipe is not None


def test_new_network_is_one_undo_step(win, qtbot):
    before = len(win.document)
    dlg = win.training.open_network_dialog()
    dlg.source.setCurrentIndex(1)  # a generated dataset
    dlg.generator.setCurrentText("gauss")
    dlg.layers.setValue(1)
    dlg.width_all.setValue(5)
    qtbot.mouseClick(dlg.buttons.button(dlg.buttons.StandardButton.Ok), Qt.MouseButton.LeftButton)
    g = win.document
    assert g.shape("W1") == (2, 5) and g.op(T.find_dataset(g)) == "dataset"
    assert T.dataset_of(g, T.find_dataset(g)).recipe["generator"] == "gauss"
    win.undo_stack.undo()
    assert len(win.document) == before and "W1" in win.document


def test_a_training_example_opens_with_the_train_dock_ready(win, qtbot):
    from resources import EXAMPLES

    assert win.open_example(EXAMPLES / "train_gauss.json")
    s = win.training.session
    assert win.training.train_dock.isVisible() and s.settings.optimizer == "sgd" and s.settings.lr == 0.1
    assert s.trainer is not None and s.trainer.t == 0



def _widget_texts(widget) -> list[str]:
    """The strings a widget paints, read from an SVG rendering of it."""
    import xml.etree.ElementTree as ET

    from PySide6.QtCore import QBuffer, QByteArray, QIODevice
    from PySide6.QtSvg import QSvgGenerator

    data = QByteArray()
    buf = QBuffer(data)
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    gen = QSvgGenerator()
    gen.setOutputDevice(buf)
    gen.setSize(widget.size())
    widget.render(gen)
    root = ET.fromstring(bytes(data))
    return ["".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text")]


def test_the_network_dock_draws_a_wide_layer_readably(qtbot):
    d = T.dataset("circle", n=40, noise=0.1, seed=0)
    net = T.build_mlp(d, hidden=[70], seed=0)
    T.use_dataset_node(net.graph, d)
    net.graph.apply_layout()
    w = MainWindow(net.graph, use_settings=False)
    w.ask_unsaved = lambda: QMessageBox.StandardButton.Discard
    qtbot.addWidget(w)
    w.resize(1000, 700)
    w.show()
    w.training.show_docks()
    w.training.network_dock.raise_()
    s = w.training.session
    assert s.ensure()
    canvas = w.training.network_dock.panel.canvas
    qtbot.waitUntil(lambda: canvas.isVisible() and bool(canvas.layers))
    hidden = net.graph.resolve("h1")
    place = canvas._layout()  # noqa: SLF001 - where each unit is drawn
    drawn = sorted(k for n, k in place if n == hidden)
    assert drawn == list(range(64))  # 70 units: 64 drawn (each with its picture), the rest counted
    assert min(r.height() for (n, _k), r in place.items() if n == hidden) >= 12
    rects = sorted((r.top(), r.bottom()) for (n, _k), r in place.items() if n == hidden)
    assert all(b0 <= t1 for (_t0, b0), (t1, _b1) in zip(rects, rects[1:]))  # none overlap
    assert canvas.height() >= canvas.needed_height() > w.training.network_dock.height()  # it scrolls
    assert "+6 more" in _widget_texts(canvas)
