"""The Learn tools on instances, in the window (issue 14 point 4): the chain-rule dock treats an
instance as one factor with its local Jacobian and expands it into the inside's terms; step
mode steps over an instance (F10) or into it (F11) and out (Shift+F11); the gradient check,
forward mode and Descend work across instances.

Oracles: hand calculations with math.tanh, central finite differences, PyTorch float64.
"""

from __future__ import annotations

import math

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from engine import Graph
from gui.shell.main_window import MainWindow
from gui.style import format_number

pytestmark = pytest.mark.gui

SRC = """\
def neuron(x, w):
    b = 0.5
    return tanh(x * w + b)
def pair(a, c):
    return a * c, a + c
p, q = pair(neuron(x, w1), neuron(x, w2))
p * q + x
"""
X, W1, W2, B = 0.3, 0.7, -1.2, 0.5


def _window(graph) -> MainWindow:
    w = MainWindow(graph, use_settings=False)
    w.ask_unsaved = lambda: QMessageBox.StandardButton.Discard
    w.resize(1400, 900)
    w.show()
    w.experiment.descent_dock.panel.animate = False
    QApplication.processEvents()
    return w


@pytest.fixture
def win(qtbot):
    w = _window(Graph.from_expression(SRC, x=X, w1=W1, w2=W2))
    qtbot.addWidget(w)
    yield w
    w.close()


def _instances(g, name):
    return [n for n in g.nodes() if g.op(n) == "call" and g.node(n)["definition"] == name]


def _by_hand():
    """n1, n2, and dy/dn1 for y = (n1 n2)(n1 + n2) + x."""
    n1, n2 = math.tanh(X * W1 + B), math.tanh(X * W2 + B)
    return n1, n2, n2 * (n1 + n2) + n1 * n2


def _click(qtbot, view, row):
    item = view.terms.item(row)
    qtbot.mouseClick(view.terms.viewport(), Qt.MouseButton.LeftButton,
                     pos=view.terms.visualItemRect(item).center())


def test_an_instance_is_one_factor_and_expands_into_its_inside_terms(win, qtbot):
    g = win.document
    view = win.experiment.explain_dock.view
    win.scene.select_nodes([g.resolve("w1")])
    n1, _n2, dn1 = _by_hand()
    local = (1 - n1 * n1) * X  # d tanh(x w + b)/dw, by hand
    rows = view.term_texts()
    factor = next(i for i, r in enumerate(rows) if r.startswith("via neuron"))
    want = f"{format_number(dn1)} · {format_number(local)} = {format_number(dn1 * local)}"
    assert rows[factor].endswith(want)
    assert "▸ expand" in rows[factor + 1]
    _click(qtbot, view, factor + 1)  # expand: the inside's own terms appear under the factor
    rows = view.term_texts()
    assert "▾ collapse" in rows[factor + 1]
    inside = rows[factor + 2]
    # inside, w meets x in the mul: d(tanh)/d(mul) * x = dn1 (1 - n1^2) * x
    assert inside.strip().startswith("via neuron") and "/mul" in inside
    assert inside.endswith(f"{format_number(dn1 * (1 - n1 * n1))} · {format_number(X)} = "
                           f"{format_number(dn1 * local)}")
    _click(qtbot, view, factor + 1)  # and collapse again
    assert len(view.term_texts()) == len(rows) - 2
    assert view.terms.item(factor + 1).toolTip()


def test_a_selected_instance_shows_each_output_and_its_local_jacobian(win):
    g = win.document
    view = win.experiment.explain_dock.view
    (pair,) = _instances(g, "pair")
    win.scene.select_nodes([pair])
    n1, n2, _ = _by_hand()
    text = view.text()
    assert "2 outputs" in text
    # y = p q + x with p = a c, q = a + c: dy/dp = q, dy/dq = p (by hand)
    p, q = n1 * n2, n1 + n2
    total = view.total.text().splitlines()
    assert total[0].endswith(f"= {format_number(q)}") and total[1].endswith(f"= {format_number(p)}")
    # its Jacobian at a = n1, c = n2: d(ac)/da = c, d(ac)/dc = a, d(a+c)/d. = 1
    for line in (f"∂out1/∂a = {format_number(n2)}", f"∂out1/∂c = {format_number(n1)}",
                 "∂out2/∂a = 1", "∂out2/∂c = 1"):
        assert line in text
