"""Visual overlays for the experiment tools: labels drawn on top of the canvas.

Step mode, the gradient check and forward mode annotate nodes and wires with text that the
engine does not store (the amount a step sends along a wire, a partial sum). Those labels are
separate QGraphicsItems owned by an :class:`OverlayLayer`, positioned from the scene's own items
(``scene.node_item(id)``, ``scene.wire_item(src, dst, port)``) and drawn above everything. They
never change the document; :meth:`OverlayLayer.clear` removes them when a mode ends, and they
follow nodes that are dragged while a mode is on.

Each label is placed in free space: never over a node (its header, value and gradient rows,
port dots or output tag), another label of the layer, or a wire's gradient label. A node label
sits against its node's top (else bottom) edge; a wire label above or below its wire near the
target port; failing that, the nearest free spot around. (QA: pills hid a node's value, a
port and a name, and badges below a node read as belonging to the node underneath.) The
placed rectangles share the scene's wire-label grid, so wire labels keep clear of them too.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFontMetricsF, QPainter
from PySide6.QtWidgets import QGraphicsItem
from shiboken6 import isValid

from gui import style
from gui.canvas.items import label_blocked, label_grid, node_box_parts

Z_OVERLAY = 50.0  # above nodes (1), ports (2) and the rubber-band wire (3)

# Where a node label sits relative to its node's body.
BELOW, ABOVE = "below", "above"

ACCENT = QColor("#ffd166")  # the step being shown: amounts and the sums they grow
DIM = QColor("#b8c0cc")  # partial sums waiting for their node's turn
GOOD = QColor("#7ed491")
BAD = QColor("#ff6b6b")


@dataclass(frozen=True)
class _Spec:
    kind: str  # "node" or "wire"
    key: tuple  # (node, place) or (src, dst, port)
    text: str
    colour: QColor
    tooltip: str


class TagItem(QGraphicsItem):
    """A rounded label with text, centred on a point; ignores the mouse except for tooltips."""

    PAD_X, PAD_Y = 5.0, 2.0

    def __init__(self, text: str, colour: QColor, tooltip: str = "", bold: bool = False):
        super().__init__()
        self._font = style.font(8.5, bold=bold, mono=True)
        self._text = ""
        self._colour = QColor(colour)
        self._rect = QRectF()
        self.setZValue(Z_OVERLAY)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.setAcceptHoverEvents(bool(tooltip))
        self.setToolTip(tooltip)
        self.set_text(text)

    @property
    def text(self) -> str:
        return self._text

    @property
    def colour(self) -> QColor:
        return QColor(self._colour)

    def set_text(self, text: str) -> None:
        if text == self._text:
            return
        self.prepareGeometryChange()
        self._text = text
        fm = QFontMetricsF(self._font)
        w = fm.horizontalAdvance(text) + 2 * self.PAD_X
        h = fm.height() + 2 * self.PAD_Y
        self._rect = QRectF(-w / 2, -h / 2, w, h)
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802
        return self._rect.adjusted(-1, -1, 1, 1)

    def paint(self, painter: QPainter, option, widget=None):
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(style.pen(self._colour, 1.0))
        painter.setBrush(style.LABEL_BG)
        painter.drawRoundedRect(self._rect, 5.0, 5.0)
        painter.setFont(self._font)
        painter.setPen(self._colour)
        painter.drawText(self._rect, Qt.AlignmentFlag.AlignCenter, self._text)


def node_rect(scene, node) -> QRectF | None:
    """The node's body in scene coordinates (without port labels or tags), or None."""
    item = scene.node_item(node)
    if item is None:
        return None
    body = item.body_rect() if hasattr(item, "body_rect") else QRectF(0, 0, style.NODE_W, style.NODE_H)
    return item.mapRectToScene(body)


def wire_point(scene, src, dst, port, t: float = 0.5) -> QPointF | None:
    """A point at fraction ``t`` along the wire (scene coordinates), or None if there is no wire."""
    wire = scene.wire_item(src, dst, port)
    if wire is not None:
        path = wire.path()
        if not path.isEmpty():
            return wire.mapToScene(path.pointAtPercent(t))
    a, b = scene.node_item(src), scene.node_item(dst)
    if a is None or b is None:
        return None
    p0, p1 = a.output_port_pos(), b.input_port_pos(port)
    return QPointF(p0.x() + (p1.x() - p0.x()) * t, p0.y() + (p1.y() - p0.y()) * t)


class OverlayLayer:
    """The labels one tool puts on a scene. Labels are keyed, so setting one again updates it.

    ``node_label(node, text, place=BELOW)`` puts a label under (or over) a node;
    ``wire_label(src, dst, port, text)`` one on a wire, a little below its middle so it does
    not cover the wire's own gradient label. ``relayout()`` moves them after nodes moved.
    """

    WIRE_T = 0.5
    WIRE_DY = 11.0  # below the wire's midpoint: G1's optional wire-gradient label sits above it
    GAP = 3.0
    LABEL_GAP = 3.0  # at least this between two labels' pills

    def __init__(self, scene):
        self._scene = scene
        self._items: dict[tuple, TagItem] = {}
        self._specs: dict[tuple, _Spec] = {}
        self._must: set = set()  # keys of labels shown even with no free place

    @property
    def scene(self):
        return self._scene

    def items(self) -> dict:
        """{key: TagItem} for inspection: keys are ("node", id, place) or ("wire", src, dst, port)."""
        return dict(self._items)

    def texts(self) -> dict:
        """{key: text} of every label shown."""
        return {k: it.text for k, it in self._items.items()}

    def unplaced(self) -> set:
        """Keys of the labels left out for want of a free place near what they belong to."""
        return {k for k, it in self._items.items() if isValid(it) and not it.isVisible()}

    def node_label(self, node, text: str, colour: QColor = DIM, tooltip: str = "", place: str = BELOW,
                   bold: bool = False, must: bool = False) -> None:
        """``must``: where every place near the node is taken, the label is looked for further
        out (never over a node's text): a step's "processing:" callout is what the step is about."""
        key = ("node", node, place)
        if must:
            self._must.add(key)
        else:
            self._must.discard(key)
        self._set(key, text, colour, tooltip, bold)

    def wire_label(self, src, dst, port, text: str, colour: QColor = ACCENT, tooltip: str = "",
                   bold: bool = False) -> None:
        self._set(("wire", src, dst, port), text, colour, tooltip, bold)

    def remove(self, key) -> None:
        item = self._items.pop(key, None)
        self._specs.pop(key, None)
        self._must.discard(key)
        label_grid(self._scene).remove(item)
        # The scene may already have deleted the item (a document swap clears it first).
        if item is not None and isValid(item) and item.scene() is not None:
            item.scene().removeItem(item)

    def clear(self) -> None:
        """Remove every label of this layer from the scene."""
        for key in list(self._items):
            self.remove(key)

    def keep_only(self, keys) -> None:
        """Remove the labels whose key is not in ``keys`` (so a redraw does not flicker)."""
        keep = set(keys)
        stale = [key for key in self._items if key not in keep]
        for key in stale:
            self.remove(key)
        if stale:  # the labels just set were placed round these: they may have better room now
            self.relayout()

    def _set(self, key, text, colour, tooltip, bold) -> None:
        item = self._items.get(key)
        spec = self._specs.get(key)
        if item is not None and not isValid(item):
            self._items.pop(key)
            item = None
        if item is not None and spec is not None and spec.colour == colour and spec.tooltip == tooltip:
            item.set_text(text)
        else:
            if item is not None:
                self.remove(key)
            item = TagItem(text, colour, tooltip, bold)
            self._items[key] = item
            self._scene.addItem(item)
        self._specs[key] = _Spec(key[0], key, text, colour, tooltip)
        self._place(key, item)

    def _place(self, key, item: TagItem) -> None:
        grid = label_grid(self._scene)
        grid.remove(item)  # its old place does not block its new one
        r = item.boundingRect().adjusted(0.5, 0.5, -0.5, -0.5)  # the pill and half its pen
        w, h = r.width(), r.height()
        centre = None
        # First clear of port dots too; then a pill may cover the dots beside a body (the gap
        # between two columns is ~30 units without them, 40 with), never a node's rows. A
        # label that must be seen is then looked for further out, then may touch other pills.
        passes = [(True, True, 1.0), (False, True, 1.0)]
        if key in self._must:
            passes += [(False, True, 3.0), (False, False, 3.0)]
        for strict, apart, reach in passes:
            for c in self._candidates(key, w, h, reach):
                box = QRectF(c.x() - w / 2, c.y() - h / 2, w, h)
                clear = 1.0 if strict else 0.0
                if label_blocked(self._scene, box, ignore=item, ports=strict, clear=clear):
                    continue
                if apart and self._near_other_label(box, item):
                    continue
                centre = c
                break
            if centre is not None:
                break
        # No free place at all: left out rather than drawn over a node's text (the node's own
        # rows and the wire's tooltip still say it).
        item.setVisible(centre is not None)
        if centre is not None:
            item.setPos(centre)
            grid.set(item, (centre.x() - w / 2, centre.y() - h / 2, centre.x() + w / 2, centre.y() + h / 2))

    def _near_other_label(self, box: QRectF, item) -> bool:
        """Whether ``box`` comes within LABEL_GAP of another placed label: two pills a hair
        apart read as one (QA: "← 2×3 array" touching "processing: gradient 2×3 array")."""
        d = self.LABEL_GAP
        for other in label_grid(self._scene).query((box.left() - d, box.top() - d, box.right() + d,
                                                    box.bottom() + d)):
            if other is not item and isValid(other) and other.scene() is self._scene:
                return True
        return False

    def _candidates(self, key, w: float, h: float, reach: float = 1.0):
        """Centres to try for a ``w`` x ``h`` label, best first; ``reach`` widens the search
        around the anchor."""
        g = self.GAP
        if key[0] == "node":
            item = self._scene.node_item(key[1])
            if item is None:
                return
            body = node_box_parts(item)[0]  # the body, with the output tag when it has one
            x0, top, x1, bottom = body
            xs = ((x0 + x1) / 2, x0 + w / 2, x1 - w / 2)
            sides = (top - g - h / 2, bottom + g + h / 2)
            if key[2] == BELOW:
                sides = sides[::-1]
            for y in sides:  # against its edge, so it reads as this node's
                for x in xs:
                    yield QPointF(x, y)
            # Beside it, level with its head, when a column's neighbours leave no room above
            # or below (the perceptron's inputs are stacked ~20 units apart: step 24's
            # "processing:" on w21 was left out). An input's left side is always free.
            head = top + h / 2 + 2.0
            for x in (x0 - g - w / 2, x1 + g + w / 2):
                yield QPointF(x, head)
            anchor = QPointF((x0 + x1) / 2, top - g - h / 2)
        else:
            _, src, dst, port = key
            wire = self._scene.wire_item(src, dst, port)
            anchor = None
            if wire is not None and not wire.path().isEmpty():
                path = wire.path()
                length = path.length()
                # from near the target port back towards the source, above then below the wire
                for k in range(0, 40):
                    d = length - 18.0 - w / 2 - k * 10.0
                    if d < 0:
                        break
                    p = wire.mapToScene(path.pointAtPercent(path.percentAtLength(d)))
                    if anchor is None:
                        anchor = p
                    for y in (p.y() - g - h / 2, p.y() + g + h / 2):
                        for x in (p.x(), p.x() - w / 2 + 6.0, p.x() + w / 2 - 6.0):
                            yield QPointF(x, y)
            if anchor is None:
                anchor = wire_point(self._scene, src, dst, port, 0.8)
                if anchor is None:
                    return
            if wire is not None:
                # Round the middle of the wire's horizontal run: between two columns that is
                # the only x where a pill as wide as the gap fits.
                p0, p1 = wire.endpoints()
                anchor = QPointF((p0.x() + p1.x()) / 2, anchor.y())
        # The nearest free spot around, nearer first, but only so far: a pill moved further
        # reads as belonging to whatever it lands beside (QA: a wire's amount under b2). The
        # amount is in the growth badge and the tooltips as well, so leaving it out is safe.
        step_x, step_y = 8.0, 6.0
        nx, ny = int(reach * (w / 2 + 24.0) / step_x), int(reach * 2.5 * h / step_y)
        ring = [(dx * step_x, dy * step_y) for dx in range(-nx, nx + 1) for dy in range(-ny, ny + 1)]
        ring.sort(key=lambda d: d[0] * d[0] + 2.0 * d[1] * d[1])
        for dx, dy in ring:
            yield QPointF(anchor.x() + dx, anchor.y() + dy)

    def relayout(self) -> None:
        """Re-place every label (after nodes moved or the scene rebuilt its items)."""
        for key, item in list(self._items.items()):
            if isValid(item):
                self._place(key, item)
            else:
                self._items.pop(key)
                self._specs.pop(key, None)
