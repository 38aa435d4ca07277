"""View ▸ Gradient Health (issue 16, point 5) on the deep sigmoid chain and on dead ReLUs: the
toggle through the real menu and key, each node's colour against a hand-computed gradient,
the marks painted on vanishing gradients and dead ReLUs, the scale bar, the per-layer summary,
live after an edit, gone when switched off."""

from __future__ import annotations

import math

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox

from engine import Graph
from gui.learn.higher.health_view import LOW, MID, colour_for
from gui.shell.main_window import MainWindow
from resources import EXAMPLES
from tests.painted import painted_texts

pytestmark = pytest.mark.gui


def window(qtbot, graph) -> MainWindow:
    w = MainWindow(graph, use_settings=False)
    w.ask_unsaved = lambda: QMessageBox.StandardButton.Discard
    qtbot.addWidget(w)
    w.resize(1400, 900)
    w.show()
    qtbot.waitExposed(w)
    return w


def chain_grads(w_val=0.1, x=1.0, layers=6):
    """By hand: h_k = σ(w·h_{k−1}); d h6 / d w_k and d h6 / d x, walking back layer by layer."""
    hs = [x]
    for _ in range(layers):
        hs.append(1 / (1 + math.exp(-w_val * hs[-1])))
    out, dz = {}, 1.0
    for k in range(layers, 0, -1):
        dz *= hs[k] * (1 - hs[k])
        out[f"w{k}"] = dz * hs[k - 1]
        dz *= w_val
    out["x"] = dz
    return out


def notes_near(w, texts) -> dict:
    """{node label: note painted just under its body} for the health notes."""
    found = {}
    g = w.document
    for t in texts:
        if not t.text.startswith(("vanishing", "exploding", "dead ReLU")):
            continue
        for n, it in w.scene.node_items().items():
            r = it.mapRectToScene(it.body_rect())
            if r.left() <= t.x <= r.right() and 0 < t.y - r.bottom() < 20:
                found[g.label(n)] = t.text
    return found


def test_the_vanishing_chain_is_coloured_marked_and_summarised(qtbot):
    w = window(qtbot, Graph.load(EXAMPLES / "vanishing_sigmoid.json"))
    view = w.higher.health
    assert view.act in w.menus["view"].actions()
    with qtbot.waitActive(w):
        w.activateWindow()
    QTest.keyClick(w, Qt.Key.Key_H, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert view.on
    want = chain_grads()
    texts = painted_texts(w.scene, margin=200)
    notes = notes_near(w, texts)
    # by hand: w1's and x's gradients are below 1e-8 of h6's (which is 1), w6's is not
    assert want["w1"] < 1e-8 and want["x"] < 1e-8 and want["w6"] > 1e-2
    assert notes["x"].startswith("vanishing") and notes["w1"].startswith("vanishing")
    assert "w6" not in notes and "h6" not in notes
    assert notes["w1"] == "vanishing 1e" + f"{math.log10(want['w1']):.1f}".replace("-", "\u2212")
    # colours: the halo of each weight is the colour of its hand-computed relative size
    g = w.document
    halos = {g.label(n): m.colour for (n, kind), m in view.marks.items().items() if kind == "halo"}
    for k in (1, 3, 6):
        assert halos[f"w{k}"] == colour_for(math.log10(want[f"w{k}"]))
    assert halos["h6"] == MID  # the output itself: 10^0
    assert halos["x"] == LOW  # below 1e-8: the bar's blue end
    painted = {t.text for t in texts}
    assert {"1e\u22128", "1e8"} <= painted  # the scale bar's ends
    assert any(t.startswith("Gradient health: |grad| ÷ |grad of h6|") for t in painted)
    layer1 = next(t for t in painted if t.startswith("layer 1 "))
    assert "3 vanishing" in layer1  # w1, z1, h1
    assert any(t.startswith("layer 6  1e") for t in painted) or any(t.startswith("layer 6 ") for t in painted)
    assert "4 vanishing" in w.statusBar().currentMessage()  # x, w1, z1, h1 as the lesson says
    # off again through the menu: nothing of it is painted any more
    view.act.trigger()
    painted = {t.text for t in painted_texts(w.scene, margin=200)}
    assert not any(t.startswith(("vanishing", "layer 1", "Gradient health")) for t in painted)
    assert view.marks.items() == {}


def test_dead_relu_is_marked_and_follows_an_edit(qtbot):
    w = window(qtbot, Graph.from_expression("h = relu(a * w)\ny = h * 3", a=-2.0, w=1.0))
    w.higher.health.act.trigger()
    g = w.document
    notes = notes_near(w, painted_texts(w.scene, margin=200))
    relu = next(n for n in g.nx.nodes if g.op(n) == "relu")
    assert notes.get(g.label(relu)) == "dead ReLU"  # a·w = −2: nothing passes
    w.controller.set_value(g.resolve("a"), 2.0)  # one undoable edit; the view follows it
    QApplication.processEvents()
    notes = notes_near(w, painted_texts(w.scene, margin=200))
    assert g.label(relu) not in notes
    halos = {n: m.colour for (n, kind), m in w.higher.health.marks.items().items() if kind == "halo"}
    # by hand: dy/da = 3·w = 3 and dy/dy = 1: a's halo is the colour of log10 3
    assert halos[g.resolve("a")] == colour_for(math.log10(3.0))
