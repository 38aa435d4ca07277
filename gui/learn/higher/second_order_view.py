"""Learn ▸ Second Order (issue 16, point 3): the Hessian of the output over chosen numbers as
a symmetric heatmap with its eigenvalues, the Jacobian of an array node as a heatmap, and
Newton's method beside gradient descent on a contour plot over two chosen numbers.

The numbers are the engine's (:mod:`engine.learn.second_order`, :func:`plan_descent`); this
module only draws them, with QPainter (so the pictures are plain widgets whose text can be
read back, and nothing is imported until the dock is first shown). The numbers a Hessian or
Jacobian spans are the number nodes selected on the canvas, else the named numbers the output
depends on. Running the comparison never edits the document; Apply Newton sets the numbers to
Newton's last point as one undo step.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPainterPath
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from engine import NUMBER
from engine.core.errors import GraphError
from engine.learn.descent import plan_descent
from engine.learn.second_order import hessian, jacobian, output_grid, plan_newton
from gui import style

NEG, ZERO, POS = QColor("#4f7dff"), QColor("#2a2f38"), QColor("#ff7b54")
NEWTON, DESCENT = QColor("#ffd166"), QColor("#5ad1ff")
GRID = 48  # points a side of the contour plot: one evaluation each when the graph is not elementwise
MAX_CELL_TEXT = 12  # numbers are written in the cells up to this many rows and columns


def short(x: float) -> str:
    return style.format_number(float(x))


def _mix(a: QColor, b: QColor, t: float) -> QColor:
    return QColor.fromRgbF(a.redF() + (b.redF() - a.redF()) * t, a.greenF() + (b.greenF() - a.greenF()) * t,
                           a.blueF() + (b.blueF() - a.blueF()) * t)


def cell_colour(v: float, scale: float) -> QColor:
    """Diverging: blue for negative, orange for positive, dark at 0; |v| = scale is full."""
    if not math.isfinite(v):
        return QColor("#ff5c5c")
    t = 0.0 if scale == 0 else max(-1.0, min(1.0, v / scale))
    return _mix(ZERO, NEG if t < 0 else POS, abs(t))


class _Canvas(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        style.plot_surface(self, 220, 180)

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(320, 280)


class HeatmapWidget(_Canvas):
    """A matrix as coloured cells, row and column labels, the numbers in the cells when small."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.matrix = np.zeros((0, 0))
        self.rows: list[str] = []
        self.cols: list[str] = []
        self.title = ""

    def set_matrix(self, matrix, rows, cols, title: str) -> None:
        self.matrix = np.asarray(matrix, dtype=float)
        self.rows, self.cols, self.title = list(rows), list(cols), title
        self.update()

    def clear(self, title: str = "") -> None:
        self.set_matrix(np.zeros((0, 0)), [], [], title)

    def paintEvent(self, event):  # noqa: N802
        p = QPainter(self)
        self.draw(p, QRectF(self.rect()))
        p.end()

    def draw(self, p: QPainter, area: QRectF) -> None:
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setFont(style.font(8.5, bold=True))
        p.setPen(style.TEXT)
        p.drawText(QPointF(area.left() + 6, area.top() + 14), self.title)
        m = self.matrix
        if not m.size:
            return
        nr, nc = m.shape
        p.setFont(style.font(7.5, mono=True))
        fm = p.fontMetrics()
        left = 10 + max((fm.horizontalAdvance(r) for r in self.rows), default=0)
        top = 24 + fm.height()
        w = (area.width() - left - 8) / nc
        h = (area.height() - top - 8) / nr
        side = max(4.0, min(w, h))
        finite = m[np.isfinite(m)]
        scale = float(np.max(np.abs(finite))) if finite.size else 1.0
        write = nr <= MAX_CELL_TEXT and nc <= MAX_CELL_TEXT
        for j, c in enumerate(self.cols):
            if nc <= 2 * MAX_CELL_TEXT:
                p.setPen(style.TEXT_DIM)
                x = area.left() + left + j * side
                p.drawText(QRectF(x, area.top() + 20, side, fm.height()), Qt.AlignmentFlag.AlignCenter,
                           fm.elidedText(c, Qt.TextElideMode.ElideRight, int(side)))
        for i in range(nr):
            y = area.top() + top + i * side
            if nr <= 2 * MAX_CELL_TEXT:
                p.setPen(style.TEXT_DIM)
                p.drawText(QRectF(area.left() + 4, y, left - 8, side),
                           Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, self.rows[i])
            for j in range(nc):
                cell = QRectF(area.left() + left + j * side, y, side - 1, side - 1)
                p.fillRect(cell, cell_colour(m[i, j], scale))
                if write:
                    p.setPen(style.TEXT)
                    p.drawText(cell, Qt.AlignmentFlag.AlignCenter,
                               fm.elidedText(short(m[i, j]), Qt.TextElideMode.ElideRight, int(side - 2)))


class ContourWidget(_Canvas):
    """The output over a grid of two numbers as colour bands (log-spaced levels: a valley's
    floor stays visible), with the walks drawn on top, start to end."""

    LEVELS = 14

    def __init__(self, parent=None):
        super().__init__(parent)
        self.grid = None  # (xs, ys, Z)
        self.paths: list = []  # (name, colour, [(x, y), ...])
        self.labels = ("x", "y")
        self._image: QImage | None = None

    def set_data(self, grid, paths, labels) -> None:
        self.grid, self.paths, self.labels = grid, list(paths), labels
        self._image = self._bands(grid[2]) if grid is not None else None
        self.update()

    def _bands(self, z) -> QImage:
        z = np.asarray(z, dtype=float)
        ok = np.isfinite(z)
        lo = float(np.min(z[ok])) if ok.any() else 0.0
        level = np.log10(np.where(ok, z - lo, 0.0) + 1e-3)  # log-spaced: the valley keeps its bands
        top = float(np.max(level[ok])) if ok.any() else 1.0
        bottom = math.log10(1e-3)
        band = np.floor((level - bottom) / max(top - bottom, 1e-12) * self.LEVELS).clip(0, self.LEVELS - 1)
        n_y, n_x = z.shape
        img = QImage(n_x, n_y, QImage.Format.Format_RGB32)
        dark, light = QColor("#1f2a44"), QColor("#8fb3d9")
        cols = [_mix(dark, light, k / (self.LEVELS - 1)).rgb() for k in range(self.LEVELS)]
        for i in range(n_y):
            for j in range(n_x):
                img.setPixel(j, n_y - 1 - i, cols[int(band[i, j])] if ok[i, j] else 0xFF5C1F1F)
        return img

    def paintEvent(self, event):  # noqa: N802
        p = QPainter(self)
        self.draw(p, QRectF(self.rect()))
        p.end()

    def plot_rect(self, area: QRectF) -> QRectF:
        return area.adjusted(34, 8, -8, -40)

    def to_px(self, area: QRectF, x: float, y: float) -> QPointF:
        xs, ys, _ = self.grid
        r = self.plot_rect(area)
        fx = (x - xs[0]) / (xs[-1] - xs[0])
        fy = (y - ys[0]) / (ys[-1] - ys[0])
        return QPointF(r.left() + fx * r.width(), r.bottom() - fy * r.height())

    def draw(self, p: QPainter, area: QRectF) -> None:
        if self.grid is None:
            return
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        r = self.plot_rect(area)
        p.drawImage(r, self._image)
        xs, ys, _ = self.grid
        p.setFont(style.font(7.5, mono=True))
        p.setPen(style.TEXT_DIM)
        p.drawText(QPointF(r.left(), r.bottom() + 12), short(xs[0]))
        p.drawText(QPointF(r.right() - 30, r.bottom() + 12), short(xs[-1]))
        p.drawText(QPointF(r.center().x() - 4, r.bottom() + 12), self.labels[0])
        p.drawText(QPointF(area.left() + 2, r.bottom()), short(ys[0]))
        p.drawText(QPointF(area.left() + 2, r.top() + 10), short(ys[-1]))
        p.drawText(QPointF(area.left() + 2, r.center().y()), self.labels[1])
        p.setClipRect(r)
        for _name, colour, pts in self.paths:
            if not pts:
                continue
            path = QPainterPath(self.to_px(area, *pts[0]))
            for pt in pts[1:]:
                path.lineTo(self.to_px(area, *pt))
            p.setPen(style.pen(colour, 2.0))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawPath(path)
            p.setBrush(colour)
            for pt in pts[:: max(1, len(pts) // 40)] + [pts[-1]]:
                p.drawEllipse(self.to_px(area, *pt), 2.5, 2.5)
        p.setClipping(False)
        x = r.left()
        for name, colour, _pts in self.paths:
            p.setPen(colour)
            text = f"● {name}"
            p.drawText(QPointF(x, area.bottom() - 6), text)
            x += p.fontMetrics().horizontalAdvance(text) + 16


class SecondOrderPanel(QWidget):
    """The three tabs: Hessian, Jacobian, Newton vs descent."""

    def __init__(self, window, parent=None):
        super().__init__(parent)
        self.window = window
        self.bridge = window.bridge
        self.scene = window.scene
        self.tabs = QTabWidget(self)
        # Hessian
        self.hessian_map = HeatmapWidget()
        self.eigen = QLabel()
        self.eigen.setObjectName("hessianEigenvalues")
        self.eigen.setWordWrap(True)
        self.eigen.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        page = QWidget()
        lay = QVBoxLayout(page)
        lay.addWidget(self.hessian_map, 1)
        lay.addWidget(self.eigen)
        self.tabs.addTab(page, "Hessian")
        # Jacobian
        self.jacobian_map = HeatmapWidget()
        self.jacobian_note = QLabel()
        self.jacobian_note.setWordWrap(True)
        page = QWidget()
        lay = QVBoxLayout(page)
        lay.addWidget(self.jacobian_map, 1)
        lay.addWidget(self.jacobian_note)
        self.tabs.addTab(page, "Jacobian")
        # Newton vs descent
        self.x_box, self.y_box = QComboBox(), QComboBox()
        self.x_box.setToolTip("The first number the contour plot spans (and both methods train)")
        self.y_box.setToolTip("The second number the contour plot spans")
        self.lr = QDoubleSpinBox()
        self.lr.setDecimals(5)
        self.lr.setRange(0.00001, 100.0)
        self.lr.setValue(0.001)
        self.lr.setToolTip("Gradient descent's learning rate")
        self.steps = QSpinBox()
        self.steps.setRange(1, 5000)
        self.steps.setValue(1000)
        self.steps.setToolTip("Most steps for gradient descent")
        self.newton_steps = QSpinBox()
        self.newton_steps.setRange(1, 200)
        self.newton_steps.setValue(20)
        self.newton_steps.setToolTip("Most steps for Newton's method")
        self.compare_button = QPushButton("Compare")
        self.compare_button.setToolTip("Run gradient descent and Newton's method from here, on a copy")
        self.compare_button.clicked.connect(self.compare)
        self.apply_button = QPushButton("Apply Newton")
        self.apply_button.setToolTip("Set the numbers to Newton's last point (one undo step)")
        self.apply_button.setEnabled(False)
        self.apply_button.clicked.connect(self.apply_newton)
        self.contour = ContourWidget()
        self.compare_note = QLabel()
        self.compare_note.setObjectName("newtonNote")
        self.compare_note.setWordWrap(True)
        page = QWidget()
        form = QFormLayout()
        two = QHBoxLayout()
        two.addWidget(self.x_box)
        two.addWidget(self.y_box)
        form.addRow("Numbers", two)
        form.addRow("Descent rate", self.lr)
        form.addRow("Descent steps", self.steps)
        form.addRow("Newton steps", self.newton_steps)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.apply_button)
        buttons.addWidget(self.compare_button)
        lay = QVBoxLayout(page)
        lay.addLayout(form)
        lay.addLayout(buttons)
        lay.addWidget(self.contour, 1)
        lay.addWidget(self.compare_note)
        self.tabs.addTab(page, "Newton vs descent")
        outer = QVBoxLayout(self)
        outer.setContentsMargins(4, 4, 4, 4)
        outer.addWidget(self.tabs)
        self.newton = self.descent = None
        self.bridge.evaluated.connect(self.refresh)
        self.bridge.replaced.connect(self._on_replaced)
        self.scene.selectionChanged.connect(self.refresh)
        self._on_replaced()

    # ---------------------------------------------------------------- what to differentiate

    def chosen(self) -> list | None:
        """The number nodes selected on the canvas, or None (the engine's default)."""
        g = self.bridge.graph
        sel = [n for n in self.scene.selected_node_ids() if n in g.nx and g.op(n) == NUMBER]
        return sel or None

    def _on_replaced(self):
        self.newton = self.descent = None
        self.apply_button.setEnabled(False)
        self.contour.set_data(None, [], ("x", "y"))
        self.compare_note.setText("")
        self._fill_boxes()
        self.refresh()

    def _fill_boxes(self):
        g = self.bridge.graph
        scalars = [n for n in g.nodes() if g.op(n) == NUMBER and not np.ndim(g.number(n))]
        named = [n for n in scalars if g.name(n)] or scalars
        for box, k in ((self.x_box, 0), (self.y_box, 1)):
            box.blockSignals(True)
            box.clear()
            for n in named:
                box.addItem(g.label(n), n)
            if len(named) > k:
                box.setCurrentIndex(k)
            box.blockSignals(False)
        d = g.meta.get("descend")
        if isinstance(d, dict) and isinstance(d.get("lr"), (int, float)):
            self.lr.setValue(float(d["lr"]))
        if isinstance(d, dict) and isinstance(d.get("steps"), int):
            self.steps.setValue(min(d["steps"], self.steps.maximum()))

    def refresh(self, *_, force: bool = False):
        if not (force or self.isVisible()):  # hidden: nothing to compute until it is shown
            return
        self.refresh_hessian()
        self.refresh_jacobian()

    def refresh_hessian(self) -> bool:
        g = self.bridge.graph
        try:
            h = hessian(g, self.chosen())
        except (GraphError, ValueError) as e:
            self.hessian_map.clear("Hessian")
            self.eigen.setText(f"No Hessian: {e}")
            return False
        out = g.label(h.output)
        self.hessian_map.set_matrix(h.matrix, h.labels, h.labels, f"Hessian of {out}")
        ev = h.eigenvalues
        kind = ""
        if np.all(np.isfinite(ev)) and len(ev):
            if np.all(ev > 0):
                kind = ": all positive, curved up every way (a minimum if the gradient is 0)"
            elif np.all(ev < 0):
                kind = ": all negative, curved down every way"
            elif np.any(ev > 0) and np.any(ev < 0):
                kind = ": of both signs, a saddle"
        self.eigen.setText(f"eigenvalues: {', '.join(short(v) for v in ev)}{kind}\n"
                           f"symmetric: max |H − Hᵀ| = {short(h.asymmetry)}")
        return True

    def refresh_jacobian(self) -> bool:
        g = self.bridge.graph
        sel = self.scene.selected_node_ids()
        arrays = [n for n in sel if n in g.nx and np.ndim(g.value(n)) and g.op(n) != NUMBER]
        out = arrays[0] if arrays else g.output_node()
        if out is None or not np.ndim(g.value(out)):
            self.jacobian_map.clear("Jacobian")
            self.jacobian_note.setText("Select a node whose value is an array: its Jacobian is drawn here")
            return False
        wrt = [n for n in sel if n in g.nx and g.op(n) == NUMBER] or None
        try:
            j = jacobian(g, out, wrt)
        except (GraphError, ValueError) as e:
            self.jacobian_map.clear("Jacobian")
            self.jacobian_note.setText(f"No Jacobian: {e}")
            return False
        rows = [f"{g.label(out)}[{', '.join(map(str, r))}]" for r in j.rows]
        self.jacobian_map.set_matrix(j.matrix, rows, j.labels, f"Jacobian of {g.label(out)}")
        self.jacobian_note.setText(f"{len(rows)} × {len(j.labels)}: row i is the gradient of element i")
        return True

    # ---------------------------------------------------------------- Newton vs descent

    def compare(self) -> bool:
        g = self.bridge.graph
        x, y = self.x_box.currentData(), self.y_box.currentData()
        if x is None or y is None or x == y:
            self.compare_note.setText("Choose two different numbers for the contour plot")
            return False
        try:
            d = plan_descent(g, steps=self.steps.value(), lr=self.lr.value(), trainable=[x, y],
                             keep_path=True)
            n = plan_newton(g, steps=self.newton_steps.value(), trainable=[x, y])
        except (GraphError, ValueError) as e:
            self.compare_note.setText(f"Cannot compare: {e}")
            return False
        self.descent, self.newton = d, n
        dp = [(float(p[x]), float(p[y])) for p in d.path]
        np_ = [(float(p[x]), float(p[y])) for p in n.path]
        pts = np.array(dp + np_)
        ok = np.all(np.isfinite(pts), axis=1)
        pts = pts[ok] if ok.any() else np.zeros((1, 2))
        lo, hi = pts.min(axis=0), pts.max(axis=0)
        pad = np.maximum((hi - lo) * 0.15, 0.5)
        try:
            span_x, span_y = (lo[0] - pad[0], hi[0] + pad[0]), (lo[1] - pad[1], hi[1] + pad[1])
            grid = output_grid(g, x, y, span_x, span_y, n=GRID)
        except (GraphError, ValueError) as e:
            self.compare_note.setText(f"Cannot draw the contour plot: {e}")
            return False
        out = g.label(d.output)
        self.contour.set_data(grid, [(f"descent {d.steps_taken} steps", DESCENT, dp),
                                     (f"Newton {n.steps_taken} steps", NEWTON, np_)],
                              (g.label(x), g.label(y)))
        why = f" ({n.stopped})" if n.stopped else ""
        self.compare_note.setText(
            f"gradient descent, lr {self.lr.value():g}: {out} {short(d.history[0])} → {short(d.history[-1])} "
            f"in {d.steps_taken} steps\nNewton: {out} {short(n.history[0])} → {short(n.history[-1])} "
            f"in {n.steps_taken} steps{why}")
        self.apply_button.setEnabled(bool(n.changed))
        return True

    def apply_newton(self) -> bool:
        n = self.newton
        if n is None or not n.changed:
            self.compare_note.setText("Compare first: Apply sets the numbers to Newton's last point")
            return False
        c = self.window.controller
        ok = c.set_values(n.changed, text=f"Newton's method: {n.steps_taken} steps")
        self.apply_button.setEnabled(False)
        return ok


class SecondOrderDock(QDockWidget):
    """The :class:`SecondOrderPanel` as the "Second order" dock."""

    def __init__(self, window):
        super().__init__("Second order", window)
        self.setObjectName("secondOrderDock")
        self.panel = SecondOrderPanel(window, self)
        self.setWidget(self.panel)
        self.visibilityChanged.connect(lambda on: on and self.panel.refresh(force=True))
