"""Pictures over the input plane on the canvas: under every node whose value depends on the
input point, one small picture per unit (column), TensorFlow Playground's neuron pictures,
and under each the unit's *gradient* over the plane, ∂L/∂unit at every point for that
point's own loss (toggle: Learn ▸ Gradient Pictures). Hovering a picture enlarges it with its
gradient beside it. Colours: values orange (−) to blue (+), gradients the canvas's own
diverging map; both symmetric about 0 with one scale per node, so a layer's units compare.

A strip is a scene item of its own that follows its node, placed beside it where it covers
no other node (below, else above, else to a side), drawn from the session's current Frame:
the live step while training, the scrubbed step while previewing.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem
from shiboken6 import isValid

from gui import style
from gui.learn.training.colours import grad_pixels, to_image, unit_pixels

CELL = 16.0  # a picture's side on the canvas (scene units)
GAP = 1.5
PER_ROW = 8
MAX_ROWS = 2  # at most 16 units drawn per node; the strip says how many more
BIG = 120.0  # the enlarged picture's side


def _side_by_side(pixels) -> np.ndarray:
    """(N, G, G) pictures as one (G, N * G) image, picture k at columns k*G..(k+1)*G."""
    n, g, w = pixels.shape
    return pixels.transpose(1, 0, 2).reshape(g, n * w)


def _scale(a) -> float:
    """One symmetric scale for all of a node's pictures: the largest finite magnitude."""
    if a is None or not a.size:
        return 1.0
    finite = np.isfinite(a)
    m = np.abs(a).max() if finite.all() else (np.abs(a[finite]).max() if finite.any() else 0.0)
    return float(m) if np.isfinite(m) and m > 0 else 1.0


class PictureStrip(QGraphicsItem):
    """The pictures of one node's units (see the module docstring)."""

    def __init__(self, node_id: int):
        super().__init__()
        self.node_id = node_id
        self.units = []
        self.shown = 0  # pictures drawn (the first PER_ROW * MAX_ROWS units)
        self.size = 1  # a picture's pixels per side
        # All of a node's pictures in one image per kind, side by side (unit k at x = k * size):
        # two images made per node and frame, not two per unit.
        self.atlas: QImage | None = None
        self.grad_atlas: QImage | None = None
        self.has_grad: list = []
        self.gradients = True
        self.hovered: int | None = None
        self._geometry = None
        self._rects_key = None
        self._rects: list = []
        self.setZValue(1.0)  # over a node packed close below: the pictures are what a run is watched for
        self.setAcceptHoverEvents(True)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)

    def set_units(self, units, gradients: bool) -> None:
        geometry = (min(len(units), PER_ROW * MAX_ROWS), len(units) > PER_ROW * MAX_ROWS, gradients)
        if geometry != self._geometry:
            self.prepareGeometryChange()
            self._geometry = geometry
        self.units = list(units)
        self.gradients = gradients
        shown = self.units[: PER_ROW * MAX_ROWS]
        self.shown = len(shown)
        self.has_grad = [u.grad is not None for u in shown]
        self.atlas = self.grad_atlas = None
        if shown:
            # One colour pass per node (its units stacked, one scale), by lookup table.
            values = np.stack([u.value for u in shown])
            g = values.shape[1]
            self.size = g
            self.atlas = to_image(_side_by_side(unit_pixels(values, _scale(values))))
            if any(self.has_grad):
                zero = np.zeros((g, g))
                grads = np.stack([zero if u.grad is None else u.grad for u in shown])
                self.grad_atlas = to_image(_side_by_side(grad_pixels(grads, _scale(grads))))
        self.update()

    def source(self, k: int) -> QRectF:
        """Where unit ``k``'s picture lies in the atlases."""
        return QRectF(k * self.size, 0, self.size, self.size)

    def picture(self, k: int) -> tuple:
        """(value QImage, gradient QImage or None) of unit ``k``, cut out of the atlases."""
        r = self.source(k).toRect()
        grad = self.grad_atlas.copy(r) if self.grad_atlas is not None and self.has_grad[k] else None
        return self.atlas.copy(r), grad

    def _row_h(self) -> float:
        return CELL * (2 if self.gradients else 1) + GAP * 2

    def rows(self) -> int:
        return max(1, -(-min(len(self.units), PER_ROW * MAX_ROWS) // PER_ROW))

    def boundingRect(self) -> QRectF:  # noqa: N802
        h = self.rows() * self._row_h() + (10.0 if len(self.units) > PER_ROW * MAX_ROWS else 0.0)
        return QRectF(-2.0, -2.0, PER_ROW * (CELL + GAP) + 4.0, h + 4.0)

    def cell_rect(self, k: int, grad: bool = False) -> QRectF:
        r, c = divmod(k, PER_ROW)
        y = r * self._row_h() + (CELL + GAP if grad else 0.0)
        return QRectF(c * (CELL + GAP), y, CELL, CELL)

    def unit_at(self, pos: QPointF) -> int | None:
        for k in range(self.shown):
            if self.cell_rect(k).contains(pos) or (self.gradients and self.cell_rect(k, True).contains(pos)):
                return k
        return None

    def paint(self, painter: QPainter, option, widget=None):
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(29, 32, 38, 230))
        painter.drawRoundedRect(self.boundingRect().adjusted(-2, -2, 2, 2), 3, 3)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        # Where each picture goes and comes from, worked out once per layout, not per paint.
        key = (self.shown, self.size, self.gradients)
        if self._rects_key != key:
            self._rects_key = key
            self._rects = [(self.cell_rect(k), self.cell_rect(k, True), self.source(k))
                           for k in range(self.shown)]
        for k, (cell, grad_cell, src) in enumerate(self._rects if self.atlas is not None else ()):
            painter.drawImage(cell, self.atlas, src)
            if self.gradients:
                r = grad_cell
                if self.has_grad[k] and self.grad_atlas is not None:
                    painter.drawImage(r, self.grad_atlas, src)
                else:
                    painter.setPen(QPen(style.TEXT_DIM, 0.5, Qt.PenStyle.DotLine))
                    painter.setBrush(Qt.BrushStyle.NoBrush)
                    painter.drawRect(r)
            if k == self.hovered:
                painter.setPen(QPen(style.HIGHLIGHT, 1.2))
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.drawRect(self.cell_rect(k).adjusted(-0.6, -0.6, 0.6, 0.6))
        more = len(self.units) - self.shown
        if more > 0:
            painter.setFont(style.font(6.5))
            painter.setPen(style.TEXT_DIM)
            painter.drawText(QRectF(0, self.rows() * self._row_h(), PER_ROW * (CELL + GAP), 10),
                             Qt.AlignmentFlag.AlignLeft, f"+{more} more units")

    def hoverMoveEvent(self, event):  # noqa: N802
        k = self.unit_at(event.pos())
        if k != self.hovered:
            self.hovered = k
            self.update()
            if k is not None:
                u = self.units[k]
                col = "" if u.column is None else f"[:, {u.column}]"
                rng = f"{np.nanmin(u.value):.3g} … {np.nanmax(u.value):.3g}"
                tip = f"{u.name}{col} over the input plane: value {rng}"
                if u.grad is not None:
                    lo, hi = np.nanmin(u.grad), np.nanmax(u.grad)
                    tip += (f"\n∂L/∂{u.name}{col} below it: {lo:.3g} … {hi:.3g} "
                            "(where the loss pushes this unit, and how hard)")
                self.setToolTip(tip)
            _show_big(self, k)

    def hoverLeaveEvent(self, event):  # noqa: N802
        self.hovered = None
        self.update()
        _show_big(self, None)


class BigPicture(QGraphicsItem):
    """The enlarged picture of a hovered unit, with its gradient beside it."""

    def __init__(self):
        super().__init__()
        self.setZValue(20)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.value = self.grad = None
        self.title = ""

    def boundingRect(self) -> QRectF:  # noqa: N802
        return QRectF(0, 0, 2 * BIG + 18, BIG + 30)

    def paint(self, painter: QPainter, option, widget=None):
        r = self.boundingRect()
        painter.setPen(QPen(style.NODE_BORDER, 1))
        painter.setBrush(QColor(29, 32, 38, 235))
        painter.drawRoundedRect(r, 5, 5)
        painter.setFont(style.font(8.0, bold=True))
        painter.setPen(style.TEXT)
        painter.drawText(QRectF(6, 2, r.width() - 12, 16), Qt.AlignmentFlag.AlignLeft, self.title)
        if self.value is not None:
            painter.drawImage(QRectF(6, 22, BIG, BIG), self.value)
        if self.grad is not None:
            painter.drawImage(QRectF(12 + BIG, 22, BIG, BIG), self.grad)
        painter.setFont(style.font(7.0))
        painter.setPen(style.TEXT_DIM)
        painter.drawText(QRectF(6, 22 + BIG - 12, BIG, 12), Qt.AlignmentFlag.AlignLeft, "value")
        painter.drawText(QRectF(12 + BIG, 22 + BIG - 12, BIG, 12), Qt.AlignmentFlag.AlignLeft, "∂L/∂unit")


_BIG: dict = {}


def _show_big(strip: PictureStrip, k: int | None) -> None:
    sc = strip.scene()
    if sc is None:
        return
    big = _BIG.get(id(sc))
    if big is None or not isValid(big) or big.scene() is not sc:
        big = BigPicture()
        sc.addItem(big)
        _BIG[id(sc)] = big
    if k is None or k >= strip.shown or strip.atlas is None:
        big.setVisible(False)
        return
    u = strip.units[k]
    big.value, big.grad = strip.picture(k)
    big.title = f"{u.name}" + ("" if u.column is None else f"[:, {u.column}]")
    cell = strip.mapToScene(strip.cell_rect(k).topRight())
    big.setPos(cell + QPointF(8, -BIG / 2))
    big.setVisible(True)
    big.update()


class NodePictures(QObject):
    """Keeps a strip under each node the session's Frame pictures (see the module doc)."""

    def __init__(self, scene, session, parent=None):
        super().__init__(parent)
        self.scene = scene
        self.session = session
        self.visible = True
        self.gradients = True
        self.strips: dict[int, PictureStrip] = {}
        self._placed_key = None
        session.framed.connect(self.show_frame)
        b = scene.bridge
        b.nodeMoved.connect(self._follow)
        b.layoutApplied.connect(self._follow_all)
        b.replaced.connect(self.clear)
        b.reset.connect(self.clear)
        b.nodeRemoved.connect(self._removed)

    def set_visible(self, on: bool) -> None:
        self.visible = bool(on)
        for s in self.strips.values():
            if isValid(s):
                s.setVisible(self.visible)
        if on:
            self.show_frame(self.session.frame)

    def set_gradients(self, on: bool) -> None:
        self.gradients = bool(on)
        self.show_frame(self.session.frame)

    def clear(self) -> None:
        for s in self.strips.values():
            if isValid(s) and s.scene() is self.scene:  # a scene rebuild deleted them already
                self.scene.removeItem(s)
        self.strips = {}
        self._placed_key = None

    def _removed(self, n: int) -> None:
        s = self.strips.pop(n, None)
        if s is not None and isValid(s) and s.scene() is self.scene:
            self.scene.removeItem(s)

    def show_frame(self, frame) -> None:
        if frame is None:
            self.clear()
            return
        if not self.visible:
            return
        by_node: dict = {}
        for u in frame.units:
            by_node.setdefault(u.node, []).append(u)
        for n in [n for n in self.strips if n not in by_node]:
            self._removed(n)
        for n, units in by_node.items():
            it = self.scene.node_item(n)
            if it is None:
                continue
            s = self.strips.get(n)
            if s is None or not isValid(s) or s.scene() is not self.scene:
                s = self.strips[n] = PictureStrip(n)
                self.scene.addItem(s)
            s.set_units(units, self.gradients and any(u.grad is not None for u in units))
        self._place_all()

    def _place(self, n: int) -> None:
        self._place_all()

    def _place_all(self) -> None:
        """Each strip beside its node where it covers no other node and no other strip:
        below the node if there is room, else above it, else to its right or left; only
        where every side is taken (a crowded layout) does it go below, over its neighbour.
        Recomputed when a node moves or a strip changes size, not every frame."""
        strips = {n: s for n, s in self.strips.items() if isValid(s) and self.scene.node_item(n) is not None}
        nodes = self.scene.node_items()
        where = sorted((n, it.pos().x(), it.pos().y(), it.body_rect().height()) for n, it in nodes.items())
        sizes = sorted((n, s.boundingRect().width(), s.boundingRect().height()) for n, s in strips.items())
        key = (tuple(where), tuple(sizes))
        if key == self._placed_key:
            return
        self._placed_key = key
        bodies = {n: it.mapRectToScene(it.body_rect()).adjusted(-3, -3, 3, 3) for n, it in nodes.items()}
        taken: list = []
        for n in sorted(strips, key=lambda n: (nodes[n].pos().x(), nodes[n].pos().y())):
            s = strips[n]
            r = s.boundingRect()
            body = bodies[n]
            top_left = [
                QPointF(body.left() + 7.0, body.bottom() + 3.0),  # below
                QPointF(body.left() + 7.0, body.top() - r.height() - 1.0),  # above
                QPointF(body.right() + 10.0, body.top() + 5.0),  # right
                QPointF(body.left() - r.width() - 10.0, body.top() + 5.0),  # left
            ]
            chosen = top_left[0]
            for corner in top_left:
                cand = r.translated(corner)
                if not any(cand.intersects(b) for m, b in bodies.items() if m != n) and \
                        not any(cand.intersects(t) for t in taken):
                    chosen = corner
                    break
            s.setPos(chosen)
            taken.append(r.translated(chosen))

    def _follow(self, n: int, *_):
        if n in self.strips:
            self._place_all()

    def _follow_all(self):
        self._place_all()


__all__ = ["NodePictures", "PictureStrip"]
