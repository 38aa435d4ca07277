"""A small line plot drawn with QPainter: the output's value over gradient-descent steps.

No chart library: a frame, the curve, the first and last values, and the range on the axis.
Non-finite values are skipped (the curve breaks there) so a diverging run still draws.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath
from PySide6.QtWidgets import QWidget

from gui import style

CURVE = QColor("#4aa3ff")
LAST = QColor("#ffd166")


class PlotWidget(QWidget):
    """Plots ``history`` (a list of numbers, one per step) against the step index."""

    def __init__(self, parent=None, title: str = "output"):
        super().__init__(parent)
        self.setObjectName("descentPlot")
        self._history: list[float] = []
        self.title = title
        style.plot_surface(self, 180, 110)

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(260, 150)

    @property
    def history(self) -> list[float]:
        return list(self._history)

    def set_history(self, values) -> None:
        self._history = [float(v) if v is not None else math.nan for v in values]
        self.update()

    def append(self, value) -> None:
        self._history.append(float(value) if value is not None else math.nan)
        self.update()

    def clear(self) -> None:
        self._history = []
        self.update()

    def value_range(self) -> tuple[float, float] | None:
        """(low, high) of the finite values, widened when flat; None when there are none."""
        finite = [v for v in self._history if math.isfinite(v)]
        if not finite:
            return None
        lo, hi = min(finite), max(finite)
        if hi - lo < 1e-12 * max(1.0, abs(hi)):
            pad = max(1.0, abs(hi)) * 0.5
            lo, hi = lo - pad, hi + pad
        return lo, hi

    def paintEvent(self, event):  # noqa: N802
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.fillRect(self.rect(), style.BACKGROUND)
        p.setFont(style.font(8.0, mono=True))
        fm = p.fontMetrics()
        rng = self.value_range()
        shown = [style.format_number(v) for v in (rng or ())]
        left = 10.0 + max([fm.horizontalAdvance("−0.0000")] + [fm.horizontalAdvance(t) for t in shown])
        top = 8.0 + fm.height()
        plot = QRectF(left, top, self.width() - left - 10.0, self.height() - top - 8.0 - fm.height())
        p.setPen(style.pen(style.GRID_MAJOR_C, 1.0))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawRect(plot)
        p.setPen(style.TEXT_DIM)
        p.drawText(QPointF(left, fm.ascent() + 4.0), f"{self.title} by step")
        n = len(self._history)
        if rng is None or plot.width() <= 2 or plot.height() <= 2:
            p.drawText(plot, Qt.AlignmentFlag.AlignCenter, "run descent to plot")
            p.end()
            return
        lo, hi = rng
        span_x = max(1, n - 1)

        def pt(i, v):
            x = plot.left() + plot.width() * (i / span_x)
            y = plot.bottom() - plot.height() * ((v - lo) / (hi - lo))
            return QPointF(x, y)

        # axis labels: the range on the left, the step count under the right end
        p.setPen(style.TEXT_DIM)
        p.drawText(QRectF(0, plot.top() - fm.height() / 2, left - 4, fm.height()),
                   Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, style.format_number(hi))
        p.drawText(QRectF(0, plot.bottom() - fm.height() / 2, left - 4, fm.height()),
                   Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, style.format_number(lo))
        p.drawText(QRectF(plot.left(), plot.bottom() + 2, plot.width(), fm.height()),
                   Qt.AlignmentFlag.AlignRight, f"{n - 1} steps")
        p.drawText(QRectF(plot.left(), plot.bottom() + 2, plot.width(), fm.height()),
                   Qt.AlignmentFlag.AlignLeft, "0")

        path = QPainterPath()
        pen_down = False
        last = None
        for i, v in enumerate(self._history):
            if not math.isfinite(v):
                pen_down = False
                continue
            q = pt(i, v)
            if pen_down:
                path.lineTo(q)
            else:
                path.moveTo(q)
                pen_down = True
            last = (q, v)
        p.setPen(style.pen(CURVE, 2.0))
        p.drawPath(path)
        if n == 1 and last is not None:
            p.setBrush(CURVE)
            p.drawEllipse(last[0], 3.0, 3.0)
        if last is not None:
            q, v = last
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(LAST)
            p.drawEllipse(q, 3.5, 3.5)
            p.setPen(LAST)
            text = style.format_number(v)
            w = fm.horizontalAdvance(text)
            x = min(q.x() + 6.0, plot.right() - w - 2.0)
            y = q.y() - 6.0 if q.y() - fm.height() > plot.top() else q.y() + fm.height() + 2.0
            p.drawText(QPointF(x, y), text)
        p.end()
