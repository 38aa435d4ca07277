"""The overview: the whole document in miniature with the canvas view's rectangle on it.

Click or drag in it to move the view there; the wheel zooms the canvas. It draws the engine
document's node positions, not the scene's items, into a cached picture that is rebuilt a
moment after the document changes (one pass over the positions, however many edits came in),
so a 66,000-node document costs one cheap redraw per edit burst and nothing per frame.
"""

from __future__ import annotations

from itertools import islice

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, QTimer
from PySide6.QtGui import QColor, QImage, QPainter, QPen
from PySide6.QtWidgets import QDockWidget, QWidget

from gui import style as S

BIG_DOCUMENT = 150  # from this many nodes the overview opens by itself (unless the user closed it)
_MARGIN = 6.0
_WIRE_LIMIT = 20_000  # more wires than this are a grey fog at overview size: nodes only
_VIEW_PEN = QPen(QColor("#4aa3ff"), 1.5)
_VIEW_FILL = QColor(74, 163, 255, 40)


class Minimap(QWidget):
    """The overview of ``view``'s document (see the module docstring)."""

    def __init__(self, view, parent=None):
        super().__init__(parent)
        self._view = view
        self._image: QImage | None = None
        self._bounds = QRectF()  # the document's extent in scene coordinates
        self._scale = 1.0
        self._offset = QPointF()
        self.setMinimumSize(120, 90)
        self.setMouseTracking(False)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip("Overview of the whole document: click or drag to move the view")
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(150)
        self._timer.timeout.connect(self.rebuild)
        for bar in (view.horizontalScrollBar(), view.verticalScrollBar()):
            bar.valueChanged.connect(self.update)
            bar.rangeChanged.connect(self.update)
        c = view.controller
        c.undo_stack.indexChanged.connect(self.schedule)
        c.bridge.replaced.connect(self.schedule)
        c.bridge.evaluated.connect(self.schedule)
        self.schedule()

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(240, 170)

    # ---------------------------------------------------------------- the picture

    def schedule(self, *_):
        """Rebuild the picture soon (edits in one burst cost one rebuild); a hidden overview
        waits until it is shown."""
        if self.isVisible():
            self._timer.start()

    def rebuild(self) -> None:
        """Draw every node (and, for documents of moderate size, every wire) now."""
        self._timer.stop()
        g = self._view.controller.graph
        pos = {n: (a["x"], a["y"]) for n, a in g.nx.nodes(data=True)}
        w, h = max(1, self.width()), max(1, self.height())
        if not pos:
            self._image, self._bounds = None, QRectF()
            self.update()
            return
        xs = [p[0] for p in pos.values()]
        ys = [p[1] for p in pos.values()]
        b = QRectF(min(xs), min(ys), max(xs) - min(xs) + S.NODE_W, max(ys) - min(ys) + S.NODE_H)
        self._bounds = b
        s = min((w - 2 * _MARGIN) / b.width(), (h - 2 * _MARGIN) / b.height())
        self._scale = s
        self._offset = QPointF(_MARGIN + ((w - 2 * _MARGIN) - b.width() * s) / 2 - b.left() * s,
                               _MARGIN + ((h - 2 * _MARGIN) - b.height() * s) / 2 - b.top() * s)
        dpr = self.devicePixelRatioF()
        img = QImage(int(w * dpr), int(h * dpr), QImage.Format.Format_ARGB32_Premultiplied)
        img.setDevicePixelRatio(dpr)
        img.fill(S.BACKGROUND)
        p = QPainter(img)
        ox, oy = self._offset.x(), self._offset.y()
        nw, nh = max(1.0, S.NODE_W * s), max(1.0, S.NODE_H * s)
        # counted only up to the limit: networkx counts a multigraph's edges by walking them all
        if sum(1 for _ in islice(g.nx.edges(), _WIRE_LIMIT + 1)) <= _WIRE_LIMIT:
            p.setRenderHint(QPainter.RenderHint.Antialiasing)
            p.setPen(QPen(S.WIRE, 0))
            mid = S.NODE_H * s / 2
            for u, v in g.nx.edges():
                (x0, y0), (x1, y1) = pos[u], pos[v]
                p.drawLine(QPointF(ox + x0 * s + nw, oy + y0 * s + mid),
                           QPointF(ox + x1 * s, oy + y1 * s + mid))
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(S.NODE_BORDER.lighter(160))
        p.drawRects([QRectF(ox + x * s, oy + y * s, nw, nh) for x, y in pos.values()])
        out = g.output_node()
        if out is not None and out in pos:
            x, y = pos[out]
            p.setBrush(S.OUTPUT)
            p.drawRect(QRectF(ox + x * s - 1, oy + y * s - 1, max(nw, 4.0) + 2, max(nh, 4.0) + 2))
        p.end()
        self._image = img
        self.update()

    def view_rect(self) -> QRectF:
        """The canvas view's visible scene rectangle, in this widget's coordinates."""
        v = self._view
        r = v.mapToScene(v.viewport().rect()).boundingRect()
        s, o = self._scale, self._offset
        return QRectF(o.x() + r.left() * s, o.y() + r.top() * s, r.width() * s, r.height() * s)

    def scene_point(self, widget_pos: QPointF) -> QPointF:
        """The scene point drawn at ``widget_pos``."""
        s, o = self._scale, self._offset
        return QPointF((widget_pos.x() - o.x()) / s, (widget_pos.y() - o.y()) / s)

    # ---------------------------------------------------------------- Qt

    def paintEvent(self, event):  # noqa: N802
        p = QPainter(self)
        if self._image is None:  # empty, or the first picture is still to come
            p.fillRect(self.rect(), S.BACKGROUND)
            if len(self._view.controller.graph) == 0:
                p.setPen(S.TEXT_DIM)
                p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "empty document")
            return
        p.drawImage(0, 0, self._image)
        r = self.view_rect().intersected(QRectF(self.rect()).adjusted(1, 1, -1, -1))
        p.setPen(_VIEW_PEN)
        p.setBrush(_VIEW_FILL)
        p.drawRect(r)

    def resizeEvent(self, event):  # noqa: N802
        super().resizeEvent(event)
        self._timer.start()  # a window being laid out resizes this several times: draw once

    def showEvent(self, event):  # noqa: N802
        super().showEvent(event)
        self._timer.start()

    def mousePressEvent(self, event):  # noqa: N802
        if event.button() == Qt.MouseButton.LeftButton and self._image is not None:
            self._move_view(event.position())
            event.accept()

    def mouseMoveEvent(self, event):  # noqa: N802
        if event.buttons() & Qt.MouseButton.LeftButton and self._image is not None:
            self._move_view(event.position())
            event.accept()

    def wheelEvent(self, event):  # noqa: N802
        dy = event.angleDelta().y()
        if dy:
            self._view.zoom_by(1.0015 ** dy)
        event.accept()

    def _move_view(self, widget_pos: QPointF) -> None:
        self._view.centerOn(self.scene_point(widget_pos))
        self.update()


class MinimapDock(QDockWidget):
    """The overview in a dock. It opens by itself for big documents, unless the user has
    closed it (then it stays as the user left it)."""

    def __init__(self, view, parent=None):
        super().__init__("Overview", parent)
        self.setObjectName("overviewDock")
        self.minimap = Minimap(view, self)
        self.setWidget(self.minimap)
        self._user_choice = False
        self.toggleViewAction().triggered.connect(self._chosen)
        view.scene().bridge.replaced.connect(self._auto_show)
        self._view = view

    def _chosen(self, *_):
        self._user_choice = True

    def auto_show(self) -> None:
        """Show for a big document, hide for a small one; call once the dock is placed."""
        self._auto_show()

    def _auto_show(self) -> None:
        if not self._user_choice:
            self.setVisible(len(self._view.controller.graph) >= BIG_DOCUMENT)
