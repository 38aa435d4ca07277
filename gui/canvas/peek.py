"""Hover peek: resting the mouse on an instance shows a small live picture of its inside.

The picture is the entered view's own scene (:class:`~gui.canvas.inside.InsideScene`, this
instance's numbers) painted into a pixmap in a frameless popup next to the node; it goes when
the mouse leaves the node. Read only, like the inside it shows.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRectF, Qt
from PySide6.QtGui import QPainter, QPixmap
from PySide6.QtWidgets import QLabel

from gui import style as S
from gui.canvas.inside import InsideScene

SIZE = (360, 220)  # the popup's picture, in pixels


class Peek(QLabel):
    """The popup; :meth:`show_for` fills it for one instance, :meth:`hide` removes it."""

    def __init__(self, parent=None):
        super().__init__(parent, Qt.WindowType.ToolTip | Qt.WindowType.FramelessWindowHint)
        self.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
        self.setStyleSheet(f"background: {S.BACKGROUND.name()}; border: 1px solid {S.NODE_BORDER.name()};")
        self.scene: InsideScene | None = None
        self.node = None

    def show_for(self, bridge, node: int, at: QPoint) -> None:
        """Paint instance ``node``'s inside (live numbers) and show it at screen point ``at``."""
        if self.scene is not None:
            self.scene.deleteLater()
        self.scene = InsideScene(bridge, (node,), self)
        self.node = node
        w, h = SIZE
        pix = QPixmap(w, h)
        pix.fill(S.BACKGROUND)
        p = QPainter(pix)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        self.scene.render(p, QRectF(4, 4, w - 8, h - 8), self.scene.sceneRect(),
                          Qt.AspectRatioMode.KeepAspectRatio)
        p.end()
        self.setPixmap(pix)
        self.resize(w, h)
        self.move(at)
        self.show()

    def hide_peek(self) -> None:
        self.hide()
        self.node = None
