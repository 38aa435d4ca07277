"""Drawn items: NodeItem (which draws and hit-tests its Ports) and WireItem.

Items hold only what they draw; the numbers come from the engine through the scene. A
NodeItem's ``pos()`` is the node's top-left corner, equal to the engine's (x, y).
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFontMetricsF, QPainter, QPainterPath, QPainterPathStroker
from PySide6.QtWidgets import QGraphicsItem, QStyle

from engine import OPS
from gui.shell import style as S

_F_HEAD = S.font(9.5, bold=True)
_F_SYMBOL = S.font(11.5, bold=True)
_F_SMALL = S.font(7.5)
_F_LABEL = S.font(8.0)
_F_NUM = S.font(8.5, mono=True)
_F_TAG = S.font(7.5, bold=True)
_FM_SYMBOL = QFontMetricsF(_F_SYMBOL)
_FM_TAG = QFontMetricsF(_F_TAG)
_FM_NUM = QFontMetricsF(_F_NUM)

_ALIGN_L = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
_ALIGN_R = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
_ALIGN_C = Qt.AlignmentFlag.AlignCenter

OUT_NONE, OUT_EXPLICIT, OUT_AUTO = 0, 1, 2

_POS_CHANGED = QGraphicsItem.GraphicsItemChange.ItemPositionHasChanged
_SEL_CHANGED = QGraphicsItem.GraphicsItemChange.ItemSelectedHasChanged
_SELECTED = QStyle.StateFlag.State_Selected
_LOD_TEXT = 0.45  # below this zoom text is unreadable: draw nodes as plain shapes

_OUT_Y = S.HEAD_H + (S.NODE_H - S.HEAD_H) / 2
_HIT_R2 = S.PORT_HIT_R * S.PORT_HIT_R

# constant node geometry, built once instead of in every paint
_HEAD_PATH = QPainterPath()
_HEAD_PATH.addRoundedRect(QRectF(0.0, 0.0, S.NODE_W, S.HEAD_H), S.CORNER, S.CORNER)
_SQUARE = QPainterPath()
_SQUARE.addRect(QRectF(0.0, S.HEAD_H / 2, S.NODE_W, S.HEAD_H / 2))
_HEAD_PATH = _HEAD_PATH.united(_SQUARE)  # rounded top corners, square bottom
_PEN_BORDER = S.pen(S.NODE_BORDER, 1.0)
_PEN_SELECTED = S.pen(S.SELECTED, 2.0)
_PEN_HIGHLIGHT = S.pen(S.HIGHLIGHT, 2.5)
_PEN_PROBLEM = S.pen(S.PROBLEM, 2.0)
_PEN_UNCONNECTED = S.pen(S.UNCONNECTED, 2.0)
_PEN_OUT = S.pen(S.OUTPUT, 3.0)
_PEN_OUT_AUTO = S.pen(S.OUTPUT, 2.0, Qt.PenStyle.DashLine)
_PEN_WIRE = S.pen(S.WIRE, 2.0)
_PEN_RUBBER = S.pen(S.WIRE_RUBBER, 2.0, Qt.PenStyle.DashLine)
_PORT_PENS = {k: S.pen(c, 2.0) for k, c in (("out", S.PORT_OUT.darker(160)), ("in", S.PORT_IN.darker(160)),
                                            ("empty", S.PORT_EMPTY))}
_FM_SMALL = QFontMetricsF(_F_SMALL)
_SHAPES: dict = {}
_FM_HEAD = QFontMetricsF(_F_HEAD)


def input_port_y(arity: int, port: int) -> float:
    """Port centre height inside a node: spread evenly over the body below the header."""
    body = S.NODE_H - S.HEAD_H
    return S.HEAD_H + body * (port + 1) / (arity + 1)


class Port:
    """A port dot on a node. Not an item of its own: the NodeItem draws its ports and
    hit-tests them (thousands of child items would make big documents slow to open)."""

    __slots__ = ("node", "kind", "index", "label", "connected", "_pos")

    def __init__(self, node: NodeItem, kind: str, index: int, label: str | None, pos: QPointF):
        self.node = node
        self.kind = kind  # "in" or "out"
        self.index = index
        self.label = label  # drawn where the input order matters (sub, div, pow)
        self.connected = False
        self._pos = pos

    def pos(self) -> QPointF:
        """Centre in the node's coordinates."""
        return QPointF(self._pos)

    def scenePos(self) -> QPointF:  # noqa: N802 - reads like the QGraphicsItem it stands for
        return self.node.mapToScene(self._pos)

    def set_connected(self, on: bool) -> None:
        if on != self.connected:
            self.connected = on
            self.node.update()

    def __repr__(self):
        return f"<Port {self.kind}{self.index} of node {self.node.node_id}>"


class NodeItem(QGraphicsItem):
    """One engine node: header (op symbol, name, id), value (green), gradient (red)."""

    def __init__(self, node_id: int, op: str, name: str | None = None):
        super().__init__()
        self.node_id = node_id
        self.op = op
        self.name = name
        self.value_text = S.DASH
        self.grad_text = S.DASH
        self.problem: str | None = None
        self.problem_kind: str | None = None  # "nan" or "unconnected"
        self.output_mark = OUT_NONE
        self.highlight = False
        self.badge: str | None = None
        self.badge_tip: str | None = None
        self.extra: str | None = None
        self.wires: set[WireItem] = set()
        self._height = S.NODE_H
        self.setFlags(
            QGraphicsItem.GraphicsItemFlag.ItemIsMovable
            | QGraphicsItem.GraphicsItemFlag.ItemIsSelectable
            | QGraphicsItem.GraphicsItemFlag.ItemSendsGeometryChanges
        )
        # Text-heavy and rarely changing: paint once into a pixmap, blit while dragging.
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.setAcceptHoverEvents(True)  # port highlight and cursor
        arity = 0 if op == "number" else OPS[op].arity
        labelled = op != "number" and OPS[op].ordered
        self.inputs = [
            Port(self, "in", k, OPS[op].ports[k] if labelled else None, QPointF(0.0, input_port_y(arity, k)))
            for k in range(arity)
        ]
        self.output_port = Port(self, "out", 0, None, QPointF(S.NODE_W, _OUT_Y))
        self._hover_port: Port | None = None
        self._wire_drag = False
        self._tip_set = False  # the tooltip is built on first hover: cheaper for big documents
        self.raw_state = None  # the scene's last (value, grad, problem, mark), to skip re-formatting

    # ---------------------------------------------------------------- geometry

    def boundingRect(self) -> QRectF:  # noqa: N802
        # Room on the left for port labels, above for the output tag, and for the border pen.
        return QRectF(-40.0, -20.0, S.NODE_W + 46.0, self._height + 26.0)

    def body_rect(self) -> QRectF:
        return QRectF(0.0, 0.0, S.NODE_W, self._height)

    def shape(self) -> QPainterPath:
        """The body plus a disc around each port: presses there start wires."""
        key = (len(self.inputs), self._height)
        p = _SHAPES.get(key)
        if p is None:
            p = QPainterPath()
            p.addRoundedRect(self.body_rect(), S.CORNER, S.CORNER)
            p.setFillRule(Qt.FillRule.WindingFill)  # overlapping discs and body all count as inside
            for port in (*self.inputs, self.output_port):
                p.addEllipse(port._pos, S.PORT_HIT_R, S.PORT_HIT_R)
            p = _SHAPES[key] = p.simplified()
        return p

    def ports(self) -> list[Port]:
        return [*self.inputs, self.output_port]

    def port_at(self, local: QPointF) -> Port | None:
        """The port whose hit disc contains ``local`` (item coordinates), nearest first."""
        best, best_d = None, _HIT_R2
        for port in (*self.inputs, self.output_port):
            dx, dy = port._pos.x() - local.x(), port._pos.y() - local.y()
            d = dx * dx + dy * dy
            if d <= best_d:
                best, best_d = port, d
        return best

    def header_rect(self) -> QRectF:
        return QRectF(0.0, 0.0, S.NODE_W, S.HEAD_H)

    def value_rect(self) -> QRectF:
        """Where the value line is drawn (item coordinates); the inline editor covers it."""
        return QRectF(0.0, S.HEAD_H + 3.0, S.NODE_W, S.LINE_H)

    def input_port_pos(self, port: int) -> QPointF:
        """Scene position of input ``port``'s centre."""
        return self.mapToScene(self.inputs[port].pos())

    def output_port_pos(self) -> QPointF:
        return self.mapToScene(self.output_port.pos())

    def itemChange(self, change, value):  # noqa: N802
        # Called for every kind of change (flags, parent, tooltip, ...): keep it lean, and
        # return value directly, which is all QGraphicsItem.itemChange does.
        if change == _POS_CHANGED:
            for w in self.wires:
                w.update_path()
        elif change == _SEL_CHANGED:
            self.update()
        return value

    # ---------------------------------------------------------------- state from the engine

    def set_name(self, name: str | None) -> None:
        if name != self.name:
            self.name = name
            self._update_tooltip()
            self.update()

    def set_state(self, value_text: str, grad_text: str, problem: str | None, output_mark: int) -> bool:
        """Update the drawn numbers; repaints (and returns True) only if something changed."""
        if (
            value_text == self.value_text
            and grad_text == self.grad_text
            and problem == self.problem
            and output_mark == self.output_mark
        ):
            return False
        if problem != self.problem:
            self.problem = problem
            if problem is None:
                self.problem_kind = None
            else:
                self.problem_kind = "unconnected" if "connected" in problem else "nan"
            self._update_tooltip()
        self.value_text, self.grad_text, self.output_mark = value_text, grad_text, output_mark
        self.update()
        return True

    def set_highlight(self, on: bool) -> None:
        """Purely visual emphasis (e.g. the node the backward stepper is processing)."""
        if on != self.highlight:
            self.highlight = on
            self.update()

    def set_badge(self, text: str | None, tooltip: str | None = None) -> None:
        """A small pill at the bottom-right (e.g. a finite-difference check mark)."""
        if (text, tooltip) != (self.badge, self.badge_tip):
            self.badge, self.badge_tip = text, tooltip
            self._update_tooltip()
            self.update()

    def set_extra_line(self, text: str | None) -> None:
        """A third line under the gradient (e.g. a forward-mode tangent); None removes it."""
        if text == self.extra:
            return
        height = S.NODE_H + (S.LINE_H if text else 0.0)
        if height != self._height:
            self.prepareGeometryChange()
            self._height = height
        self.extra = text
        self.update()

    def _update_tooltip(self):
        self._tip_set = True
        if self.op == "number":
            lines = [f"number {self.name or ''}".strip() + f"  (id {self.node_id})"]
        else:
            o = OPS[self.op]
            named = f" — {self.name}" if self.name else ""
            lines = [f"{o.name}: {o.doc}{named}  (id {self.node_id})"]
        if self.problem:
            lines.insert(0, "⚠ " + self.problem)
        if self.problem_kind == "unconnected":
            lines.append("drag from an output port (right) to an input port (left) to connect")
        if self.badge_tip:
            lines.append(self.badge_tip)
        self.setToolTip("\n".join(lines))

    # ---------------------------------------------------------------- painting

    def paint(self, painter: QPainter, option, widget=None):
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        body = self.body_rect()
        selected = bool(option.state & _SELECTED)

        # body and header
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(S.NODE_BODY)
        painter.drawRoundedRect(body, S.CORNER, S.CORNER)
        painter.setBrush(S.NODE_HEAD_NUMBER if self.op == "number" else S.NODE_HEAD_OP)
        painter.drawPath(_HEAD_PATH)
        self._paint_borders(painter, body, selected)
        if option.levelOfDetailFromTransform(painter.worldTransform()) >= _LOD_TEXT:
            self._paint_text(painter)
        self._paint_ports(painter)

    def _paint_ports(self, painter: QPainter) -> None:
        for port in (*self.inputs, self.output_port):
            r = S.PORT_R + (1.5 if port is self._hover_port else 0.0)
            if port.kind == "out":
                fill, ring = S.PORT_OUT, "out"
            elif port.connected:
                fill, ring = S.PORT_IN, "in"
            else:  # an unconnected input: hollow and amber, so it is noticed
                fill, ring = S.NODE_BODY, "empty"
            painter.setPen(_PORT_PENS[ring])
            painter.setBrush(fill)
            painter.drawEllipse(port._pos, r, r)

    def _paint_text(self, painter: QPainter) -> None:
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)

        # header text: symbol and name (ops), name (numbers); id on the right
        x = 9.0
        hr = self.header_rect()
        if self.op != "number":
            sym = OPS[self.op].symbol
            painter.setFont(_F_SYMBOL)
            painter.setPen(S.TEXT)
            painter.drawText(QRectF(x, 0, 60, S.HEAD_H), _ALIGN_L, sym)
            x += _FM_SYMBOL.horizontalAdvance(sym) + 7.0
        id_text = f"#{self.node_id}"
        painter.setFont(_F_SMALL)
        painter.setPen(S.TEXT_DIM)
        painter.drawText(hr.adjusted(0, 0, -8, 0), _ALIGN_R, id_text)
        right = S.NODE_W - 8.0 - _FM_SMALL.horizontalAdvance(id_text) - 4.0
        if self.problem:
            painter.setFont(_F_HEAD)
            painter.setPen(S.PROBLEM if self.problem_kind == "nan" else S.UNCONNECTED)
            painter.drawText(QRectF(right - 16, 0, 16, S.HEAD_H), _ALIGN_C, "⚠")
            right -= 18.0
        title = self.name or ("number" if self.op == "number" else "")
        if title:
            painter.setFont(_F_HEAD)
            painter.setPen(S.TEXT if self.name else S.TEXT_DIM)
            painter.drawText(QRectF(x, 0, right - x, S.HEAD_H), _ALIGN_L,
                             _FM_HEAD.elidedText(title, Qt.TextElideMode.ElideRight, right - x))

        # value, gradient, optional extra line
        rows = [("value", self.value_text, S.VALUE), ("grad", self.grad_text, S.GRAD)]
        if self.extra:
            rows.append(("", self.extra, S.EXTRA))
        y = S.HEAD_H + 3.0
        left = 12.0
        for label, text, colour in rows:
            r = QRectF(left, y, S.NODE_W - left - 10.0, S.LINE_H)
            if label:
                painter.setFont(_F_LABEL)
                painter.setPen(S.TEXT_DIM)
                painter.drawText(r, _ALIGN_L, label)
            painter.setFont(_F_NUM)
            painter.setPen(colour)
            width = r.width() - (34.0 if label else 0.0)
            painter.drawText(r, _ALIGN_R, _FM_NUM.elidedText(text, Qt.TextElideMode.ElideRight, width))
            y += S.LINE_H

        # port labels where input order matters (sub, div, pow)
        painter.setFont(_F_SMALL)
        painter.setPen(S.TEXT_DIM)
        for p in self.inputs:
            if p.label:
                py = p.pos().y()
                painter.drawText(QRectF(-40.0, py - 15.0, 36.0, 11.0), _ALIGN_R, p.label)

        # tags: "output" above the top-right corner, badge at the bottom-right
        if self.output_mark:
            self._pill(painter, "output" if self.output_mark == OUT_EXPLICIT else "output (auto)",
                       S.OUTPUT, QColor("#1d2026"), S.NODE_W, -17.0)
        if self.badge:
            self._pill(painter, self.badge, S.BADGE, QColor("#1d2026"), S.NODE_W - 4.0, self._height - 8.0)

    def _paint_borders(self, painter: QPainter, body: QRectF, selected: bool) -> None:
        # problem > selection > step highlight > plain; the output ring sits outside
        painter.setBrush(Qt.BrushStyle.NoBrush)
        if self.output_mark:
            painter.setPen(_PEN_OUT if self.output_mark == OUT_EXPLICIT else _PEN_OUT_AUTO)
            painter.drawRoundedRect(body.adjusted(-1.5, -1.5, 1.5, 1.5), S.CORNER + 1, S.CORNER + 1)
        if self.problem:
            painter.setPen(_PEN_PROBLEM if self.problem_kind == "nan" else _PEN_UNCONNECTED)
        elif selected:
            painter.setPen(_PEN_SELECTED)
        elif self.highlight:
            painter.setPen(_PEN_HIGHLIGHT)
        else:
            painter.setPen(_PEN_BORDER)
        painter.drawRoundedRect(body, S.CORNER, S.CORNER)
        if self.highlight and (selected or self.problem):
            painter.setPen(S.pen(S.HIGHLIGHT, 1.5, Qt.PenStyle.DotLine))
            painter.drawRoundedRect(body.adjusted(-4, -4, 4, 4), S.CORNER + 3, S.CORNER + 3)
        if selected and self.problem:
            painter.setPen(S.pen(S.SELECTED, 1.5))
            painter.drawRoundedRect(body.adjusted(2.5, 2.5, -2.5, -2.5), S.CORNER - 2, S.CORNER - 2)

    @staticmethod
    def _pill(painter, text, fill, fg, right, top):
        w = _FM_TAG.horizontalAdvance(text) + 10.0
        r = QRectF(right - w, top, w, 14.0)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(fill)
        painter.drawRoundedRect(r, 7.0, 7.0)
        painter.setFont(_F_TAG)
        painter.setPen(fg)
        painter.drawText(r, _ALIGN_C, text)

    # ---------------------------------------------------------------- ports: hover and wire drags

    def hoverEnterEvent(self, event):  # noqa: N802
        if not self._tip_set:
            self._update_tooltip()
        self.hoverMoveEvent(event)

    def hoverMoveEvent(self, event):  # noqa: N802
        port = self.port_at(event.pos())
        if port is not self._hover_port:
            self._hover_port = port
            self.setCursor(Qt.CursorShape.CrossCursor if port else Qt.CursorShape.ArrowCursor)
            self.update()

    def hoverLeaveEvent(self, event):  # noqa: N802
        if self._hover_port is not None:
            self._hover_port = None
            self.unsetCursor()
            self.update()

    def mousePressEvent(self, event):  # noqa: N802
        sc = self.scene()
        port = self.port_at(event.pos()) if event.button() == Qt.MouseButton.LeftButton else None
        if port is not None and sc is not None and hasattr(sc, "begin_wire_drag"):
            self._wire_drag = True  # a wire gesture: the node neither moves nor changes selection
            sc.begin_wire_drag(port, event.scenePos())
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event):  # noqa: N802
        if self._wire_drag:
            self.scene().update_wire_drag(event.scenePos())
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event):  # noqa: N802
        if self._wire_drag:
            self._wire_drag = False
            self.scene().end_wire_drag(event.scenePos())
            return
        super().mouseReleaseEvent(event)

    def contextMenuEvent(self, event):  # noqa: N802
        sc = self.scene()
        if sc is None or not hasattr(sc, "node_menu"):
            return
        if not self.isSelected():
            sc.clearSelection()
            self.setSelected(True)
        menu = sc.node_menu(self.node_id, event.widget())
        menu.exec(event.screenPos())
        event.accept()


def wire_path(p0: QPointF, p1: QPointF) -> QPainterPath:
    """The cubic curve from an output port (p0) to an input port (p1)."""
    dx = max(abs(p1.x() - p0.x()) * 0.5, 40.0)
    path = QPainterPath(p0)
    path.cubicTo(QPointF(p0.x() + dx, p0.y()), QPointF(p1.x() - dx, p1.y()), p1)
    return path


_STROKER = QPainterPathStroker()
_STROKER.setWidth(16.0)  # precise but forgiving hit area around the curve: 16 px at 100 %
# selectable: click or box to select, Delete to remove; the exposed rect lets paint skip a
# wire whose curve misses the repainted area
_WIRE_FLAGS = (QGraphicsItem.GraphicsItemFlag.ItemIsSelectable
               | QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption)
_HIT_PAD = 4.0  # the wire pen's half width and antialiasing, in scene units
_LOD_WIRE = 0.3  # below this zoom a wire is a straight line without its label: cheap to repaint
_PEN_WIRE_SELECTED = S.pen(S.SELECTED, 3.0)
_WIRE_PEN_W = 2.0
_LABEL_W, _LABEL_H = 64.0, 14.0
_LABEL_BACK = 80.0  # how far before the target port a wire's gradient label sits


class WireItem(QGraphicsItem):
    """A wire from ``src``'s output to input ``port`` of ``dst``; can show the gradient sent
    back along it."""

    def __init__(self, src: NodeItem | None, dst: NodeItem | None, port: int = 0):
        super().__init__()
        self.src, self.dst, self.port = src, dst, port
        self.grad_text: str | None = None  # None: the label is hidden
        self._path = QPainterPath()
        self._bounds = QRectF()
        self._shape: QPainterPath | None = None  # built on first hit test, not for every wire
        self._label_at: QRectF | None = None  # built on first paint of the label
        self.setZValue(-1)  # under the nodes, so ports stay on top of wire ends
        if src is not None:
            self.setFlags(_WIRE_FLAGS)
        if src is not None and dst is not None:
            self.update_path()

    @property
    def key(self) -> tuple[int, int, int]:
        return self.src.node_id, self.dst.node_id, self.port

    def endpoints(self) -> tuple[QPointF, QPointF]:
        return self.src.output_port_pos(), self.dst.input_port_pos(self.port)

    def path(self) -> QPainterPath:
        return self._path

    def update_path(self) -> None:
        self.set_ends(*self.endpoints())

    def set_ends(self, p0: QPointF, p1: QPointF) -> None:
        self.prepareGeometryChange()
        self._path = wire_path(p0, p1)
        self._shape = None
        self._set_bounds()

    def _set_bounds(self) -> None:
        m = _WIRE_PEN_W
        b = self._path.controlPointRect().adjusted(-m, -m, m, m)
        if self.grad_text is not None:
            # The label sits on the curve, so this margin holds it wherever it goes; finding
            # its exact place (percentAtLength) is left to the first paint that shows it:
            # done here for every wire it was most of the time to open a big document.
            b = b.adjusted(-_LABEL_W / 2, -_LABEL_H - 4.0, _LABEL_W / 2, 0.0)
        self._label_at = None
        self._bounds = b

    def set_grad_text(self, text: str | None) -> None:
        """Show (text) or hide (None) the gradient label at the wire's middle."""
        if text == self.grad_text:
            return
        if (text is None) != (self.grad_text is None):
            self.grad_text = text
            self.prepareGeometryChange()
            self._set_bounds()  # the bounds gain or lose the label box; the curve stays
        else:
            self.grad_text = text
        self.update()

    def _label_rect(self) -> QRectF:
        if self._label_at is None:
            self._label_at = self._place_label()
        return self._label_at

    def _place_label(self) -> QRectF:
        # Near the target rather than at the middle: the wires of a value used twice leave
        # from one port, so their middles crowd together, but they arrive at different ports.
        # Far enough back to clear the target's port labels (sub, div, pow).
        length = self._path.length()
        at = self._path.percentAtLength(length - _LABEL_BACK) if length > 2 * _LABEL_BACK else 0.5
        p = self._path.pointAtPercent(at)
        return QRectF(p.x() - _LABEL_W / 2, p.y() - _LABEL_H - 3.0, _LABEL_W, _LABEL_H)

    def boundingRect(self) -> QRectF:  # noqa: N802
        return self._bounds

    def shape(self) -> QPainterPath:
        if self._shape is None:
            self._shape = _STROKER.createStroke(self._path)
        return self._shape

    def contextMenuEvent(self, event):  # noqa: N802
        sc = self.scene()
        if sc is None or not hasattr(sc, "wire_menu"):
            return
        if not self.isSelected():
            sc.clearSelection()
            self.setSelected(True)
        menu = sc.wire_menu(self.key, event.scenePos(), event.widget())
        menu.exec(event.screenPos())
        event.accept()

    def paint(self, painter: QPainter, option, widget=None):
        # A long wire's bounding box crosses most repaints of its part of the document while
        # its curve crosses few: stroking it anyway was nearly all of a drag step's cost in a
        # 50,000-node document. (The test counts the fill between the curve and its chord, so
        # it may keep a wire it could skip, never the other way round.)
        clip = option.exposedRect.adjusted(-_HIT_PAD, -_HIT_PAD, _HIT_PAD, _HIT_PAD)
        if not clip.contains(self._bounds) and not self._path.intersects(clip):
            if self.grad_text is None or not clip.intersects(self._label_rect()):
                return
        selected = bool(option.state & _SELECTED)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(_PEN_WIRE_SELECTED if selected else _PEN_WIRE)
        lod = option.levelOfDetailFromTransform(painter.worldTransform())
        if lod * painter.device().devicePixelRatioF() < _LOD_WIRE:  # physical pixels decide
            # Zoomed far out: a straight line reads as well as the curve and costs far less,
            # and a label would be unreadable.
            e = self._path.elementAt(0)
            painter.drawLine(QPointF(e.x, e.y), self._path.currentPosition())
            return
        # While nodes are dragged, wires are drawn without antialiasing: a frame of a drag in a
        # big document repaints about a thousand long curves, and this halves its cost. The
        # release repaints them smooth.
        sc = self.scene()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, not getattr(sc, "moving_nodes", False))
        painter.drawPath(self._path)
        if self.grad_text is not None:
            r = self._label_rect()
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(S.LABEL_BG)
            painter.drawRoundedRect(r, 4.0, 4.0)
            painter.setFont(_F_SMALL)
            painter.setPen(S.WIRE_GRAD)
            painter.drawText(r, _ALIGN_C, "← " + self.grad_text)


class RubberWireItem(WireItem):
    """The wire that follows the mouse while connecting."""

    def __init__(self):
        super().__init__(None, None)
        self.setZValue(3)

    def paint(self, painter: QPainter, option, widget=None):
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(_PEN_RUBBER)
        painter.drawPath(self._path)
