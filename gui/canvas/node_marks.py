"""Marks that a tool pins to a node: a pill of text against the node's top or bottom edge, or a
coloured halo round its body (Gradient Health, NaN origins).

A mark is a child item of the node's item, so it moves with the node and goes when the node
goes; it never changes the node's own drawing. Marks are drawn above nodes (a pill may cover
a little of the gap above a node, never its own rows) and carry their own tooltip.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFontMetricsF, QPainter
from PySide6.QtWidgets import QGraphicsItem
from shiboken6 import isValid

from gui import style

TOP, BOTTOM = "top", "bottom"
_FONT = style.font(7.5, bold=True)
_FM = QFontMetricsF(_FONT)


class PillMark(QGraphicsItem):
    """Text in a rounded pill, just outside the node's top-left (or bottom-left) edge."""

    H = 15.0

    def __init__(self, node_item, text: str, fill: QColor, fg: QColor, tooltip: str = "", edge: str = TOP):
        super().__init__(node_item)
        self.text, self.fill, self.fg, self.edge = text, QColor(fill), QColor(fg), edge
        w = _FM.horizontalAdvance(text) + 12.0
        self._rect = QRectF(0, 0, w, self.H)
        self.setZValue(10.0)  # above the node's own children (ports)
        self.setToolTip(tooltip)
        self.setAcceptHoverEvents(bool(tooltip))
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.place()

    def place(self) -> None:
        body = self.parentItem().body_rect()
        y = body.top() - self.H - 1.0 if self.edge == TOP else body.bottom() + 1.0
        self.setPos(body.left() + 2.0, y)

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt's virtual
        return self._rect.adjusted(-1, -1, 1, 1)

    def paint(self, painter: QPainter, option, widget=None):
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(self.fill)
        painter.drawRoundedRect(self._rect, 7.0, 7.0)
        painter.setFont(_FONT)
        painter.setPen(self.fg)
        painter.drawText(self._rect, Qt.AlignmentFlag.AlignCenter, self.text)


class HaloMark(QGraphicsItem):
    """A thick coloured frame round the node's body (drawn outside it, under nothing)."""

    W = 6.0

    def __init__(self, node_item, colour: QColor, tooltip: str = ""):
        super().__init__(node_item)
        self.colour = QColor(colour)
        self.setZValue(-1.0)  # behind the node's body: only the frame outside it shows
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemStacksBehindParent)
        self.setToolTip(tooltip)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)

    def boundingRect(self) -> QRectF:  # noqa: N802
        return self.parentItem().body_rect().adjusted(-self.W - 1, -self.W - 1, self.W + 1, self.W + 1)

    def paint(self, painter: QPainter, option, widget=None):
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(self.colour)
        r = self.parentItem().body_rect().adjusted(-self.W, -self.W, self.W, self.W)
        painter.drawRoundedRect(r, style.CORNER + self.W / 2, style.CORNER + self.W / 2)


class MarkSet:
    """The marks one tool keeps on a scene, keyed, so setting them again replaces them."""

    def __init__(self, scene):
        self.scene = scene
        self._marks: dict = {}

    def items(self) -> dict:
        return {k: m for k, m in self._marks.items() if isValid(m)}

    def set(self, key, make) -> QGraphicsItem | None:
        """Replace the mark under ``key`` by ``make(node_item)`` on node ``key[0]``."""
        self.remove(key)
        it = self.scene.node_item(key[0])
        if it is None:
            return None
        mark = make(it)
        self._marks[key] = mark
        return mark

    def remove(self, key) -> None:
        m = self._marks.pop(key, None)
        if m is not None and isValid(m) and m.scene() is not None:
            m.scene().removeItem(m)

    def keep_only(self, keys) -> None:
        keep = set(keys)
        for k in [k for k in self._marks if k not in keep]:
            self.remove(k)

    def clear(self) -> None:
        self.keep_only(())
