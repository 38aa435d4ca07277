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

COMPOSITES = ["neuron_three_times.json", "weight_tying.json"]


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
