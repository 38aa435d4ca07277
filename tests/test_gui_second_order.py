"""Learn ▸ Second Order (issue 16, point 3) on Rosenbrock's valley and an array output: the
Hessian heatmap's painted numbers and eigenvalues against calculus by hand, the selection
choosing the numbers, the Jacobian of an array node, Newton beside gradient descent on the
contour plot (descent replayed by hand with numpy), and Apply Newton as one undo step."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pytest
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRectF, QSize, Qt
from PySide6.QtGui import QPainter
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox

from engine import Graph
from gui.shell.main_window import MainWindow
from resources import EXAMPLES

pytestmark = pytest.mark.gui
MINUS = "\u2212"


def window(qtbot, graph) -> MainWindow:
    w = MainWindow(graph, use_settings=False)
    w.ask_unsaved = lambda: QMessageBox.StandardButton.Discard
    qtbot.addWidget(w)
    w.resize(1500, 950)
    w.show()
    qtbot.waitExposed(w)
    return w


def open_dock(w, qtbot):
    with qtbot.waitActive(w):
        w.activateWindow()
    QTest.keyClick(w, Qt.Key.Key_M, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    QApplication.processEvents()
    dock = w.higher.second_order
    assert dock.isVisible()
    return dock.panel


def texts(widget) -> list[str]:
    """Every string ``widget`` paints, read from an SVG rendering of its draw()."""
    data = QByteArray()
    buf = QBuffer(data)
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    gen = QSvgGenerator()
    gen.setOutputDevice(buf)
    gen.setSize(QSize(400, 400))
    gen.setViewBox(QRectF(0, 0, 400, 400))
    p = QPainter(gen)
    widget.draw(p, QRectF(0, 0, 400, 400))
    p.end()
    root = ET.fromstring(bytes(data.data()).decode())
    return ["".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text")]


def rosenbrock_hessian(x, y):
    """By hand, f = (1 − x)² + 100 (y − x²)²."""
    return np.array([[2 - 400 * (y - x * x) + 800 * x * x, -400 * x], [-400 * x, 200.0]])


def test_hessian_heatmap_and_eigenvalues_follow_the_selection(qtbot):
    w = window(qtbot, Graph.load(EXAMPLES / "rosenbrock.json"))
    panel = open_dock(w, qtbot)
    want = rosenbrock_hessian(-1.2, 1.0)  # [[1330, 480], [480, 200]]
    painted = texts(panel.hessian_map)
    assert "Hessian of f" in painted
    for v in (1330, 480, 200):
        assert str(v) in painted
    assert painted.count("480") == 2  # symmetric
    np.testing.assert_allclose(panel.hessian_map.matrix, want, rtol=1e-12)
    ev = np.linalg.eigvalsh(want)
    assert f"{ev[0]:.5g}" in panel.eigen.text() and "all positive" in panel.eigen.text()
    # only x selected: the 1×1 Hessian ∂²f/∂x²
    g = w.document
    w.scene.select_nodes([g.resolve("x")])
    QApplication.processEvents()
    np.testing.assert_allclose(panel.hessian_map.matrix, [[1330.0]], rtol=1e-12)
    # an edit is followed: at x = 1, y = 1 (the minimum) ∂²f/∂x² = 2 + 800 = 802
    w.controller.set_value(g.resolve("x"), 1.0)
    QApplication.processEvents()
    assert "802" in texts(panel.hessian_map)


def test_jacobian_of_an_array_node(qtbot):
    g = Graph.from_expression("y = x * w\nL = sum(y)", x=np.array([1.0, 2.0, 3.0]), w=2.0)
    w = window(qtbot, g)
    panel = open_dock(w, qtbot)
    doc = w.document
    w.scene.select_nodes([doc.resolve("y"), doc.resolve("w")])
    QApplication.processEvents()
    # by hand: dy_i/dw = x_i
    np.testing.assert_allclose(panel.jacobian_map.matrix, [[1.0], [2.0], [3.0]])
    painted = texts(panel.jacobian_map)
    assert "Jacobian of y" in painted and {"1", "2", "3", "y[0]", "y[2]"} <= set(painted)
    w.scene.select_nodes([doc.resolve("L")])  # a scalar: said, not drawn
    QApplication.processEvents()
    assert "array" in panel.jacobian_note.text() and panel.jacobian_map.matrix.size == 0


def test_newton_beside_descent_on_the_rosenbrock_contour(qtbot):
    w = window(qtbot, Graph.load(EXAMPLES / "rosenbrock.json"))
    panel = open_dock(w, qtbot)
    panel.tabs.setCurrentIndex(2)
    assert panel.x_box.currentText() == "x" and panel.y_box.currentText() == "y"
    qtbot.mouseClick(panel.compare_button, Qt.MouseButton.LeftButton)
    # descent by hand: 1000 steps of lr 0.001 on the gradient of f
    x, y = -1.2, 1.0
    for _ in range(1000):
        gx, gy = -2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)
        x, y = x - 0.001 * gx, y - 0.001 * gy
    f = (1 - x) ** 2 + 100 * (y - x * x) ** 2
    d, n = panel.descent, panel.newton
    assert d.history[-1] == pytest.approx(f, rel=1e-9)
    assert n.history[-1] == pytest.approx(0.0, abs=1e-12)
    nd = panel.contour.paths[1][2]
    assert nd[-1] == pytest.approx((1.0, 1.0), abs=1e-9)  # the minimum, by hand
    painted = texts(panel.contour)
    assert f"● descent {d.steps_taken} steps" in painted and f"● Newton {n.steps_taken} steps" in painted
    note = panel.compare_note.text()
    assert f"{f:.5g}" in note and f"in {n.steps_taken} steps" in note
    # Apply Newton: one undo step, x = y = 1
    doc, before = w.document, w.undo_stack.count()
    qtbot.mouseClick(panel.apply_button, Qt.MouseButton.LeftButton)
    assert w.undo_stack.count() == before + 1
    assert doc.number("x") == pytest.approx(1.0) and doc.number("y") == pytest.approx(1.0)
    w.undo_stack.undo()
    assert doc.number("x") == -1.2
