"""Bundles and compact ports (DESIGN.md §7, engine.nn): micrograd's MLP feeds each model
instance 337 wires from one parameter bank. They are drawn as one wire with a count, and the
bank as one summary row. What is painted is read back from the scene rendered to SVG
(tests/painted.py); the oracles are the document's own wiring (networkx edge counts) and the
engine's edge gradients, normed here with numpy."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest
from PySide6.QtCore import QEvent
from PySide6.QtGui import QHelpEvent
from PySide6.QtWidgets import QApplication, QMessageBox, QToolTip

from engine.drawing import geometry as G
from gui.canvas.items import WireItem
from gui.shell.main_window import MainWindow
from resources import EXAMPLES
from tests.painted import WIRE, agrees, check_numbers_current, painted_texts

pytestmark = pytest.mark.gui

MLP = EXAMPLES / "micrograd_mlp_moons.json"


@pytest.fixture
def window(qtbot):
    w = MainWindow(None, use_settings=False)
    w.ask_unsaved = lambda: QMessageBox.StandardButton.Discard
    w.resize(1400, 900)
    w.show()
    qtbot.addWidget(w)
    assert w.open_file(MLP)
    QApplication.processEvents()
    yield w
    w.close()


def _bundled_pairs(g) -> dict:
    """(source, target) -> how many wires, for every pair joined by a bundle's worth."""
    c = Counter((s, t) for s, t, _p in g.nx.edges(keys=True))
    return {k: n for k, n in c.items() if n >= G.BUNDLE_MIN}


def test_the_mlp_paints_each_bundle_once_with_its_count_and_the_bank_as_one_row(window):
    g, scene = window.document, window.scene
    pairs = _bundled_pairs(g)
    assert len(pairs) == 9 and set(pairs.values()) == {337}  # 8 points' models and the L2 penalty
    texts = painted_texts(scene)
    counts = [t.text for t in texts if t.fill == WIRE and t.text.startswith("×")]
    assert sorted(counts) == sorted(f"× {n}" for n in pairs.values())
    bank = next(n for n in g.nodes() if g.op(n) == "call" and g.definition_of(n).name.endswith("parameters"))
    item = scene.node_item(bank)
    r = item.mapRectToScene(item.body_rect())
    inside = [t.text for t in texts if r.contains(t.x + 1.0, t.y - 2.0)]
    assert "337 parameters" in inside
    assert item.body_rect().height() < 150  # one summary row, not 337 rows
    assert item.body_rect().height() == G.size_of(g.nx.nodes[bank])[1]  # what the layout reserved
    # one drawn wire per bundle; the members are still there, hidden
    shown = [w for (s, t, _p), w in scene.wire_items().items() if (s, t) in pairs and w.isVisible()]
    assert len(shown) == len(pairs)
    check_numbers_current(scene)  # the bank's norm row, the counts and every other number


def test_hovering_a_bundle_names_its_count_ports_and_gradient_norm(window):
    g, scene, view = window.document, window.scene, window.view
    pairs = _bundled_pairs(g)
    heads = [w for w in scene.wire_items().values() if w.bundle]
    for head in heads:
        s, t = head.src.node_id, head.dst.node_id
        path = head.path()
        for f in (0.5, 0.4, 0.6, 0.3, 0.7, 0.2, 0.8):
            at = path.pointAtPercent(f)
            top = next((it for it in scene.items(at)
                        if isinstance(it, WireItem) or hasattr(it, "node_id")), None)
            if top is head:
                break
        else:
            continue
        view.centerOn(at)
        QApplication.processEvents()
        vp = view.viewport()
        p = view.mapFromScene(at)
        QApplication.sendEvent(vp, QHelpEvent(QEvent.Type.ToolTip, p, vp.mapToGlobal(p)))
        tip = QToolTip.text() if QToolTip.isVisible() else head.toolTip()
        assert f"{pairs[(s, t)]} wires" in tip, tip
        first = g.definition_of(t).input_names[min(head.bundle)]
        assert first in tip  # the first port it feeds
        norm = np.linalg.norm([g.edge_grad(s, t, p) for p in head.bundle])
        assert agrees(tip.rsplit("= ", 1)[1].strip(), norm), (tip, norm)
        return
    pytest.fail("no bundle had a free point to hover")


def test_hovering_the_bank_row_reads_single_parameters(window):
    """One parameter of the 337 reads without entering the bank: the summary row's tooltip
    lists the first ones with the engine's value and gradient."""
    g, scene, view = window.document, window.scene, window.view
    bank = next(n for n in g.nodes() if g.op(n) == "call" and g.definition_of(n).name.endswith("parameters"))
    item = scene.node_item(bank)
    at = item.mapToScene(item.value_rect().center())
    view.centerOn(at)
    QApplication.processEvents()
    vp = view.viewport()
    p = view.mapFromScene(at)
    QApplication.sendEvent(vp, QHelpEvent(QEvent.Type.ToolTip, p, vp.mapToGlobal(p)))
    tip = QToolTip.text() if QToolTip.isVisible() else item.toolTip()
    assert tip.startswith("337 outputs"), tip
    line = next(t for t in tip.splitlines() if t.startswith("L1.n1.w2 = "))
    value, grad = line.removeprefix("L1.n1.w2 = ").split(", grad ")
    name = g.definition_of(bank).name
    assert agrees(value, g.value(f"{name}.L1.n1.w2")) and agrees(grad, g.grad(f"{name}.L1.n1.w2")), line
    assert "more" in tip.splitlines()[-1]


def test_a_bundles_norm_neither_overflows_nor_underflows():
    """By hand: √(2·(1e200)²) = √2·1e200; √((1e-200)²) = 1e-200 (squaring first gives inf / 0)."""
    from gui.canvas.bundles import grad_norm

    assert math.isclose(grad_norm([1e200, None, 1e200]), math.sqrt(2) * 1e200, rel_tol=1e-12)
    assert math.isclose(grad_norm([1e-200]), 1e-200, rel_tol=1e-12)
    assert grad_norm([None, None]) is None
