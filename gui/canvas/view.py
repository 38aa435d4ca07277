"""GraphView: the canvas widget. Zoom, pan, fit, palette drops, the search box, inline editors
and the canvas keyboard shortcuts.

Keys are handled here, in ``keyPressEvent`` with ``event.modifiers()``. Each key is handled
exactly once: if an enabled action added to the view (a window's canvas menu action, context
WidgetWithChildrenShortcut) has the key, the action fires and the view stays out of it;
otherwise the view accepts the ShortcutOverride, so no window-wide action fires as well.
Menu actions can call the same public methods (delete_selected, copy_selected, ...).
"""

from __future__ import annotations

import atexit
import json
import math
import time

from PySide6.QtCore import QEvent, QMimeData, QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QKeySequence, QPainter
from PySide6.QtWidgets import QApplication, QGraphicsView, QLineEdit

from engine import NUMBER
from engine.drawing import geometry as G
from gui import style as S
from gui.canvas.controller import CLIP_FORMAT, VALUE_PLACEHOLDER, editable_text
from gui.canvas.items import NodeItem, WireItem
from gui.canvas.search_popup import SearchPopup

MIME_NODES = "application/x-gradcanvas-nodes"
# Wide enough that Fit shows all of any document the app opens (a 2,000-stage chain is
# ~380,000 scene units wide) and close enough to read a port label on a large screen. Fit may
# go further out for a bigger document still; the wheel then only zooms back in.
ZOOM_MIN, ZOOM_MAX = 0.002, 8.0


def _clear_clipboard() -> None:
    """PySide6 6.12 segfaults at interpreter exit while the clipboard still owns a QMimeData
    made in Python (offscreen and xcb alike); empty it first. Harmless without an app."""
    app = QApplication.instance()
    clip = app.clipboard() if app is not None else None
    if clip is not None:
        clip.clear()


atexit.register(_clear_clipboard)

_M = Qt.KeyboardModifier
_K = Qt.Key


class InlineEditor(QLineEdit):
    """A one-line editor over part of a node. Enter commits, Escape cancels, losing focus
    commits. ``done(text_or_None)`` fires exactly once."""

    done = Signal(object)

    def __init__(self, parent, text: str):
        super().__init__(text, parent)
        self._finished = False
        self.setStyleSheet(
            "QLineEdit { background: #1d2026; color: #e8eaee; border: 1px solid #4aa3ff;"
            " border-radius: 3px; padding: 0 3px; font-family: 'DejaVu Sans Mono'; }"
        )
        self.selectAll()

    def finish(self, commit: bool) -> None:
        if self._finished:
            return
        self._finished = True
        self.done.emit(self.text() if commit else None)
        self.hide()
        self.deleteLater()

    def keyPressEvent(self, event):  # noqa: N802
        if event.key() in (_K.Key_Return, _K.Key_Enter):
            self.finish(True)
        elif event.key() == _K.Key_Escape:
            self.finish(False)
        else:
            super().keyPressEvent(event)

    def focusOutEvent(self, event):  # noqa: N802
        super().focusOutEvent(event)
        if event.reason() != Qt.FocusReason.PopupFocusReason:
            self.finish(True)


OPENING_SETTLE_S = 0.6  # how long after opening a resize still re-does the opening view
OPEN_PAD_PX = 12  # pixels between the document and the view's edge when a document opens
FIT_ZOOM_MAX = 1.5  # a tiny document is not blown up past this when it opens or fits


def _open_left(rects, out, width: float, gap: float) -> float:
    """The left edge of a ``width``-wide view that shows the output rect ``out`` whole, cuts as
    few of ``rects`` in half as possible, and among those keeps the output nearest the right
    edge (data flows left to right: what feeds the output is what the view should show)."""
    low, high = out.right() + gap - width, out.left() - gap  # the output stays whole
    if high < low:
        return out.center().x() - width / 2  # wider than the view: centre it
    candidates = {low}
    for b in rects:  # an edge just before a node, or just after one (columns are ~12 units apart)
        for x in (b.left() - 2.0, b.right() + 2.0, b.right() + 2.0 - width):
            if low <= x <= high:
                candidates.add(x)

    def cost(left):
        right = left + width
        cut = sum(1 for b in rects if b.left() < left < b.right() or b.left() < right < b.right())
        whole = sum(1 for b in rects if b.left() >= left and b.right() <= right)
        return (cut, -whole, left)

    return min(candidates, key=cost)


class GraphView(QGraphicsView):
    """The canvas view for one GraphScene (see the module docstring)."""

    MIME_OP = "application/x-gradcanvas-op"
    # The viewport width (px) a document being opened needs to be seen whole at a readable
    # zoom, when it has less: the window can make room (MainWindow tabs the palette).
    needsWidth = Signal(int)
    enterRequested = Signal(int)  # Tab or a double-click on an instance: show its inside

    # (key, modifiers) the canvas owns while it has focus
    _KEYS = {
        (_K.Key_Delete, _M.NoModifier), (_K.Key_Backspace, _M.NoModifier),
        (_K.Key_C, _M.ControlModifier), (_K.Key_X, _M.ControlModifier),
        (_K.Key_V, _M.ControlModifier), (_K.Key_D, _M.ControlModifier),
        (_K.Key_A, _M.ControlModifier),
        (_K.Key_F, _M.NoModifier), (_K.Key_L, _M.NoModifier),
        (_K.Key_Plus, _M.NoModifier), (_K.Key_Equal, _M.NoModifier), (_K.Key_Minus, _M.NoModifier),
        (_K.Key_Plus, _M.ControlModifier), (_K.Key_Equal, _M.ControlModifier),
        (_K.Key_Minus, _M.ControlModifier),
        (_K.Key_Escape, _M.NoModifier),
    }

    def __init__(self, scene, parent=None):
        super().__init__(scene, parent)
        self._clip_fallback: dict | None = None
        self._pan_last: QPoint | None = None
        self._space = False
        self._last_mouse = QPoint(-1, -1)
        self._search_scene_pos = QPointF()
        self._search_pending: dict | None = None  # how to wire the node the search box adds
        self._editor: InlineEditor | None = None
        self._rect_set = False
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
        self.setRubberBandSelectionMode(Qt.ItemSelectionMode.IntersectsItemShape)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        # Measured (benchmarks/gui_bench.py --configs): the minimal dirty region repaints a node
        # drag about twice as fast as Smart or BoundingRect at 1,000 nodes, Full is slowest.
        # At 10,000 nodes (--configs --configs-n 10000) the three partial modes tie at
        # 0.5-0.8 ms a drag step with the BSP index, Full 1.1 ms; NoIndex is ~34 ms in all.
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.MinimalViewportUpdate)
        self.setOptimizationFlag(QGraphicsView.OptimizationFlag.DontAdjustForAntialiasing, True)
        self.setCacheMode(QGraphicsView.CacheModeFlag.CacheBackground)
        # Scrollbars say where the view is in a big document and can move it; they follow
        # the document's extent (see _update_scene_rect), not the fixed scene rect.
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.setAcceptDrops(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.viewport().setMouseTracking(True)  # the search box and paste open at the mouse
        self.setBackgroundBrush(S.BACKGROUND)
        self.search = SearchPopup(self.viewport())
        self.search.chosen.connect(self._add_from_search)
        self.search.valueChosen.connect(lambda v: self._add_from_search(NUMBER, v))
        self.search.closed.connect(lambda: self.setFocus(Qt.FocusReason.OtherFocusReason))
        self._fit_zoom = ZOOM_MIN  # the last Fit's zoom, lower than ZOOM_MIN for huge documents
        self._opening_until = 0.0  # monotonic time until which a resize re-does the opening view
        self.centerOn(0, 0)
        scene.bridge.replaced.connect(self._reset_scene_rect)
        # Nodes moved or added past the edge (a drag, an undo, a step-through target, a paste):
        # the scrollbars must reach them. Only the node itself is measured, not the document.
        scene.bridge.nodeMoved.connect(self._reach)
        scene.bridge.nodeAdded.connect(self._reach)
        scene.bridge.inserted.connect(self._reach_all)
        scene.bridge.layoutApplied.connect(self._update_scene_rect)

    @property
    def controller(self):
        return self.scene().controller

    # ---------------------------------------------------------------- zoom, pan, fit

    def zoom(self) -> float:
        """The current scale factor (1.0 = 100 %)."""
        return self.transform().m11()

    def zoom_by(self, factor: float, anchor_view_pos=None) -> None:
        """Scale by ``factor`` keeping the scene point under ``anchor_view_pos`` (viewport
        coordinates; default the viewport centre) where it is."""
        cur = self.zoom()
        # Fit may have gone further out than ZOOM_MIN to show a huge document: stay reachable.
        low = min(ZOOM_MIN, self._fit_zoom, cur)
        factor = max(low / cur, min(ZOOM_MAX / cur, float(factor)))
        if abs(factor - 1.0) < 1e-9:
            return
        if anchor_view_pos is None:
            anchor_view_pos = self.viewport().rect().center()
        anchor = QPoint(int(anchor_view_pos.x()), int(anchor_view_pos.y()))
        before = self.mapToScene(anchor)
        self.scale(factor, factor)
        if factor < 1.0:
            self._update_scene_rect()  # the margins around the document grow as it shrinks
        after = self.mapFromScene(before)
        self._scroll_by(after.x() - anchor.x(), after.y() - anchor.y())

    def zoom_step(self, factor: float) -> None:
        """A keyboard or menu zoom: about the mouse when it rests on the canvas (what is under
        the cursor stays there, as with the wheel), else about the centre."""
        p = self._last_mouse
        self.zoom_by(factor, p if self.viewport().rect().contains(p) else None)

    def viewportEvent(self, event):  # noqa: N802
        if event.type() == QEvent.Type.Leave:
            self._last_mouse = QPoint(-1, -1)  # off the canvas: keyboard zooms go about the centre
        return super().viewportEvent(event)

    def _scroll_by(self, dx: float, dy: float) -> None:
        h, v = self.horizontalScrollBar(), self.verticalScrollBar()
        # clamped to the bars' ranges: a node 1e9 away asked for a step past a C int
        h.setValue(max(h.minimum(), min(h.maximum(), h.value() + round(dx))))
        v.setValue(max(v.minimum(), min(v.maximum(), v.value() + round(dy))))

    def fit_all(self) -> None:
        """Show every node, at most at 150 % zoom (and as far out as it takes)."""
        r = self.scene().items_bounding_rect()
        if r.isEmpty():
            self.resetTransform()
            self.centerOn(0, 0)
            return
        self._update_scene_rect(r)
        self.fitInView(r.adjusted(-40, -40, 40, 40), Qt.AspectRatioMode.KeepAspectRatio)
        if self.zoom() > FIT_ZOOM_MAX:
            self.zoom_by(FIT_ZOOM_MAX / self.zoom())
        self._fit_zoom = self.zoom()
        self._update_scene_rect(r)  # margins for the new zoom, so the centre can be anywhere
        self.centerOn(r.center())

    def show_document_readably(self) -> None:
        """How a document opens (examples, imports, restored copies, gui.show()): all of it when
        its text reads at the zoom that fits it (node text at least MIN_TEXT_PX physical pixels,
        the rule every drawing follows); otherwise at a comfortable readable zoom on the part
        around the output, with the output whole near the right edge and no node cut in half
        by the view's left or right edge (the rest is a pan away, and in the overview)."""
        from gui.canvas.items import readable_zoom

        if self._opening_until <= 0.0 or time.monotonic() >= self._opening_until:
            # The window's docks settle a moment after the first show (resizeDocks is applied
            # later): a resize in this short spell re-does the opening for the final size, or
            # a node opened cut in half at the edge. Any user input ends the spell.
            self._opening_until = time.monotonic() + OPENING_SETTLE_S
        self.fit_all()  # sets the zoom range and the scene rect; the zoom is chosen below
        r = self.scene().items_bounding_rect()
        vw, vh = self.viewport().width(), self.viewport().height()
        if r.isEmpty() or vw < 2 or vh < 2:
            return
        # Body-size text, in logical pixels: at QT_SCALE_FACTOR=2 the menus are twice as big and
        # so should the canvas be (the physical-pixel floor opened the XOR grids at 7 px).
        dpr = 1.0
        pad = OPEN_PAD_PX
        fit = min((vw - 2 * pad) / r.width(), (vh - 2 * pad) / r.height(), FIT_ZOOM_MAX)
        floor = readable_zoom(dpr, margin=1.0)
        if fit < floor and (vh - 2 * pad) / r.height() >= floor:
            # The window may make room (a side panel becomes a tab): it resizes the view
            # within the opening spell, which opens the document again, whole.
            self.needsWidth.emit(math.ceil(r.width() * floor + 2 * pad))
            if self.viewport().width() != vw:
                return  # the room was made at once, and the resize opened it again
        if fit >= floor:
            # fit_all's margin is 40 scene units, which at ~0.6 zoom is the difference between
            # "fits" and "does not" on a small screen: a margin in pixels instead.
            if fit > self.zoom():
                self.zoom_by(fit / self.zoom())
            self.centerOn(r.center())
            return
        self.zoom_by(readable_zoom(dpr) / self.zoom())
        g = self.controller.graph
        out = g.evaluated_output() if len(g) else None
        item = self.scene().node_item(out) if out is not None else None
        if item is None:
            self.centerOn(r.center())
            return
        z = self.zoom()
        w, h, gap = vw / z, vh / z, pad / z
        o = item.sceneBoundingRect()
        if h >= r.height() + 2 * gap:
            top = r.center().y() - h / 2
        else:  # level with the output, not past the document's top or bottom
            top = max(r.top() - gap, min(o.center().y() - h / 2, r.bottom() + gap - h))
        rows = [it.sceneBoundingRect() for it in self.scene().node_items().values()]
        rows = [b for b in rows if b.bottom() > top and b.top() < top + h]
        self.centerOn(QPointF(_open_left(rows, o, w, gap) + w / 2, top + h / 2))

    def _update_scene_rect(self, r: QRectF | None = None) -> None:
        """Let the scrollbars span the document plus a viewport's worth of margin on every
        side (so any node can be scrolled to the middle); grow-only while the document is
        open, so a drag never makes the view jump."""
        if r is None:
            r = self.scene().items_bounding_rect()
        if r.isEmpty():
            if not self._rect_set:
                return
            r = self.sceneRect()
        z = max(self.zoom(), 1e-6)
        mx, my = self.viewport().width() / z, self.viewport().height() / z
        want = r.adjusted(-mx, -my, mx, my).united(self.sceneRect() if self._rect_set else QRectF())
        self._rect_set = True
        self.setSceneRect(want)

    def auto_layout(self) -> bool:
        """Layered layout of the document (one undo step), then fit it into view."""
        ok = self.controller.auto_layout()
        if ok:
            self.fit_all()
        return ok

    # ---------------------------------------------------------------- selection edits

    def delete_selected(self) -> bool:
        """Delete the selected nodes and wires as one undo step."""
        ids = self.scene().selected_node_ids()
        wires = self.scene().selected_wire_keys()
        return bool(ids or wires) and self.controller.remove_items(ids, wires)

    def copy_selected(self) -> bool:
        """Put the selected nodes and the wires among them on the clipboard."""
        ids = self.scene().selected_node_ids()
        if not ids:
            return False
        payload = self.controller.copy_payload(ids)
        self._clip_fallback = payload
        data = json.dumps(payload).encode("utf-8")
        mime = QMimeData()
        mime.setData(MIME_NODES, data)
        mime.setText(data.decode("utf-8"))
        clip = QApplication.clipboard()
        if clip is not None:
            clip.setMimeData(mime)
        return True

    def cut_selected(self) -> bool:
        ids = self.scene().selected_node_ids()
        return self.copy_selected() and self.controller.remove_nodes(ids, verb="Cut")

    def paste(self, at=None) -> list[int]:
        """Paste the clipboard's nodes (at the mouse when it is over the canvas, else offset
        from the originals) and select them."""
        payload = self._clipboard_payload()
        if payload is None:
            self.controller.message.emit("nothing to paste: copy some nodes first")
            return []
        if at is None and self.viewport().rect().contains(self._last_mouse) and self.viewport().underMouse():
            p = self.mapToScene(self._last_mouse)
            at = (p.x(), p.y())
        ids = self.controller.paste(payload, at)
        if ids:
            self.scene().select_nodes(ids)
        return ids

    def duplicate_selected(self) -> list[int]:
        ids = self.scene().selected_node_ids()
        if not ids:
            return []
        new = self.controller.duplicate(ids)
        if new:
            self.scene().select_nodes(new)
        return new

    def select_all(self) -> None:
        self.scene().select_nodes(self.scene().node_items().keys())

    def _clipboard_payload(self):
        clip = QApplication.clipboard()
        mime = clip.mimeData() if clip is not None else None
        if mime is not None and mime.hasFormat(MIME_NODES):
            raw = bytes(mime.data(MIME_NODES))
            try:
                data = json.loads(raw.decode("utf-8"))
            except (ValueError, UnicodeDecodeError):
                data = None
            if isinstance(data, dict) and data.get("format") == CLIP_FORMAT:
                return data
        return self._clip_fallback

    # ---------------------------------------------------------------- search box

    def open_search(self, view_pos=None, pending: dict | None = None) -> None:
        """Open the search box at ``view_pos`` (viewport coordinates; default: the mouse if it
        is over the canvas, else the centre). The chosen node is added there, wired as
        ``pending`` says: {"source": node} feeds node into its first input, {"target": node,
        "port": k} feeds it into that port, {"wire": (s, t, k)} puts it on that wire."""
        if view_pos is None:
            vp = self.viewport().rect()
            view_pos = self._last_mouse if vp.contains(self._last_mouse) else vp.center()
        view_pos = QPoint(int(view_pos.x()), int(view_pos.y()))
        self._search_scene_pos = self.mapToScene(view_pos)
        self._search_pending = pending
        self.search.open_at(view_pos)

    def _add_from_search(self, key: str, value=None) -> None:
        """Add what the search box chose (a number holding ``value`` if one was typed)."""
        p, pending = self._search_scene_pos, self._search_pending
        self._search_pending = None
        c = self.controller
        # The wire's loose end was dropped at p: put the new node's port there, not its corner.
        x = p.x()
        w, h = G.node_size(key)
        given = {} if value is None else {"value": value}
        if pending is None:
            n = c.add_node(key, (p.x(), p.y()), **given)
        elif "wire" in pending:
            n = c.insert_on_wire(key, pending["wire"], (x - w / 2, p.y() - h / 2))
        elif "source" in pending:  # the new node's first input lands on the loose end
            n = c.add_connected(key, (x + S.PORT_HIT_R, p.y() - G.input_port_y(0)), source=pending["source"])
        else:  # the new node's output lands on the loose end
            n = c.add_connected(key, (x - w - S.PORT_HIT_R, p.y() - G.output_port_offset(key)[1]),
                                target=pending.get("target"), port=pending.get("port"), **given)
        if n is not None:
            self.scene().select_nodes([n])
            it = self.scene().node_item(n)
            if it is not None:  # a wire dropped near the edge: the new node is not cut off
                self.ensureVisible(it.sceneBoundingRect(), 10, 10)

    # ---------------------------------------------------------------- inline editors

    def edit_value(self, node_id: int) -> bool:
        """Edit a number node's value in place: any literal the parser takes (2.5, an array
        [[1, 2], [3, 4]], zeros(3), randn(2, 3, seed=0)); Enter commits as one undo step."""
        g = self.controller.graph
        if node_id not in g.nx or g.op(node_id) != NUMBER:
            return False
        it = self.scene().node_item(node_id)
        start = editable_text(g.number(node_id))
        opened = self._open_editor(it, it.value_rect().adjusted(44, 0, -8, 0), start,
                                   lambda t: t == start or self.controller.set_typed_value(node_id, t))
        if opened:
            self._editor.setPlaceholderText(VALUE_PLACEHOLDER)
        return opened

    def edit_name(self, node_id: int) -> bool:
        """Rename a node in place; an empty name removes it."""
        g = self.controller.graph
        if node_id not in g.nx:
            return False
        it = self.scene().node_item(node_id)
        return self._open_editor(it, it.header_rect().adjusted(6, 2, -6, -2), g.name(node_id) or "",
                                 lambda t: self.controller.set_name(node_id, t))

    @property
    def inline_editor(self) -> InlineEditor | None:
        """The open inline editor, if any (tests type into it)."""
        return self._editor

    def _open_editor(self, item, rect: QRectF, text: str, commit) -> bool:
        if item is None:
            return False
        if self._editor is not None:
            self._editor.finish(True)
        target = item.mapRectToScene(rect)
        if not self.mapToScene(self.viewport().rect()).boundingRect().contains(target):
            self.ensureVisible(target, 8, 8)  # scroll only when the row is not in view already
        r = self.mapFromScene(target).boundingRect()
        ed = InlineEditor(self.viewport(), text)
        ed.setGeometry(r.x(), r.y(), max(r.width(), 80), max(r.height(), 20))
        self._editor = ed

        def done(result):
            if self._editor is ed:
                self._editor = None
            if result is not None:
                commit(result)
            self.setFocus(Qt.FocusReason.OtherFocusReason)

        ed.done.connect(done)
        ed.show()
        ed.setFocus(Qt.FocusReason.PopupFocusReason)
        return True

    # ---------------------------------------------------------------- mouse

    def _node_at(self, view_pos) -> NodeItem | None:
        for it in self.items(view_pos):
            while it is not None and not isinstance(it, NodeItem):
                it = it.parentItem()
            if it is not None:
                return it
        return None

    def mousePressEvent(self, event):  # noqa: N802
        self._user_took_over()
        self.search.close_popup()
        if event.button() == Qt.MouseButton.MiddleButton or (
            event.button() == Qt.MouseButton.LeftButton and self._space
        ):
            self._pan_last = event.position().toPoint()
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event):  # noqa: N802
        self._last_mouse = event.position().toPoint()
        if self._pan_last is not None:
            d = self._last_mouse - self._pan_last
            self._pan_last = self._last_mouse
            self._scroll_by(-d.x(), -d.y())
            event.accept()
            return
        super().mouseMoveEvent(event)

    def _reach(self, n: int, *_) -> None:
        it = self.scene().node_item(n) if self._rect_set else None
        if it is not None and not self.sceneRect().contains(it.sceneBoundingRect()):
            self._update_scene_rect(it.sceneBoundingRect())

    def _reach_all(self, nodes, _wires=()) -> None:
        """_reach for many nodes added at once: the scene rect grown once."""
        if not self._rect_set:
            return
        box = QRectF()
        for n in nodes:
            it = self.scene().node_item(n)
            if it is not None:
                box = box.united(it.sceneBoundingRect())
        if not box.isNull() and not self.sceneRect().contains(box):
            self._update_scene_rect(box)

    def _reset_scene_rect(self) -> None:
        """A new document: the scrollbars span it alone, not the old one as well."""
        self._rect_set = False
        self.setSceneRect(QRectF())  # back to following the scene's own rect
        self._update_scene_rect()

    def resizeEvent(self, event):  # noqa: N802
        super().resizeEvent(event)
        self._update_scene_rect()
        if self._opening_until and time.monotonic() < self._opening_until:
            self.show_document_readably()

    def _user_took_over(self) -> None:
        self._opening_until = 0.0

    def mouseReleaseEvent(self, event):  # noqa: N802
        band = self.rubberBandRect()
        if not band.isNull():
            band = self.mapToScene(band).boundingRect()
            super().mouseReleaseEvent(event)
            self._drop_crossing_wires(band)
            return
        if self._pan_last is not None and event.button() in (Qt.MouseButton.MiddleButton,
                                                             Qt.MouseButton.LeftButton):
            self._pan_last = None
            shape = Qt.CursorShape.OpenHandCursor if self._space else Qt.CursorShape.ArrowCursor
            self.viewport().setCursor(shape)
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def mouseDoubleClickEvent(self, event):  # noqa: N802
        it = self._node_at(event.position().toPoint())
        if it is not None and event.button() == Qt.MouseButton.LeftButton:
            local = it.mapFromScene(self.mapToScene(event.position().toPoint()))
            if it.op == G.CALL and not it.header_rect().contains(local):
                self.enterRequested.emit(it.node_id)  # the header renames, the body enters
            elif it.header_rect().contains(local) or it.op != NUMBER:
                self.edit_name(it.node_id)
            else:
                self.edit_value(it.node_id)
            event.accept()
            return
        super().mouseDoubleClickEvent(event)

    def wheelEvent(self, event):  # noqa: N802
        self._user_took_over()
        dy = event.angleDelta().y() or event.angleDelta().x()
        if dy:
            self.zoom_by(1.0015 ** dy, event.position())
        event.accept()

    def _wire_at(self, view_pos) -> WireItem | None:
        for it in self.items(view_pos):
            if isinstance(it, WireItem) and it.flags() & it.GraphicsItemFlag.ItemIsSelectable:
                return it
        return None

    def contextMenuEvent(self, event):  # noqa: N802
        if self._node_at(event.pos()) is None and self._wire_at(event.pos()) is None:
            self.open_search(event.pos())
            event.accept()
            return
        super().contextMenuEvent(event)  # the node's or the wire's own menu

    def _drop_crossing_wires(self, band: QRectF) -> None:
        """Box selection takes a wire only when the box holds the whole wire: a box drawn
        around some nodes must not also take every long wire that happens to cross it."""
        for w in [it for it in self.scene().selectedItems() if isinstance(it, WireItem)]:
            if not band.contains(w.path().boundingRect()):
                w.setSelected(False)

    # ---------------------------------------------------------------- drops from the palette

    def dragEnterEvent(self, event):  # noqa: N802
        if event.mimeData().hasFormat(self.MIME_OP):
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dragMoveEvent(self, event):  # noqa: N802
        if event.mimeData().hasFormat(self.MIME_OP):
            event.acceptProposedAction()
        else:
            super().dragMoveEvent(event)

    def dropEvent(self, event):  # noqa: N802
        mime = event.mimeData()
        if not mime.hasFormat(self.MIME_OP):
            super().dropEvent(event)
            return
        try:
            op = bytes(mime.data(self.MIME_OP)).decode("utf-8").strip()
        except UnicodeDecodeError:
            op = ""
        p = self.mapToScene(event.position().toPoint())
        # centred on the cursor: the node lands where it was dropped, not down-right of it
        w, h = G.node_size(op)  # an instance's size comes with its ports: its top-left is here
        n = self.controller.add_node(op, (p.x() - w / 2, p.y() - h / 2))
        if n is not None:
            self.scene().select_nodes([n])
            # The canvas keys (Delete, Ctrl+D, F...) act on the dropped node only with focus here;
            # it would otherwise stay in the palette the drag came from.
            self.setFocus(Qt.FocusReason.MouseFocusReason)
            event.acceptProposedAction()
        else:
            event.ignore()

    # ---------------------------------------------------------------- keys

    @staticmethod
    def _combo(event) -> tuple:
        mods = event.modifiers() & (_M.ControlModifier | _M.ShiftModifier | _M.AltModifier | _M.MetaModifier)
        if event.key() in (_K.Key_Plus, _K.Key_Minus, _K.Key_Equal):
            mods &= ~_M.ShiftModifier  # '+' needs Shift on many layouts
        return event.key(), _M(mods)

    def event(self, event):
        t = event.type()
        if t == QEvent.Type.ShortcutOverride and self._combo(event) in self._KEYS:
            if not self._action_owns(event):
                event.accept()  # ours while the canvas has focus: no other action fires as well
                return True
        if t == QEvent.Type.KeyPress and event.key() == _K.Key_Tab and not (
            event.modifiers() & (_M.ControlModifier | _M.AltModifier | _M.ShiftModifier)
        ):
            ids = self.scene().selected_node_ids()
            if len(ids) == 1 and self.scene().node_item(ids[0]).op == G.CALL:
                self.enterRequested.emit(ids[0])  # Tab on an instance enters it (node editors' habit)
            else:
                self.open_search()  # Tab would otherwise move focus to the next widget
            return True
        return super().event(event)

    def _action_owns(self, event) -> bool:
        """Whether an enabled action on this view (a window's canvas menu action) has this
        key: then the action handles it and keyPressEvent never sees it."""
        seq = QKeySequence(event.keyCombination())
        for act in self.actions():
            if act.isEnabled() and any(s.matches(seq) == QKeySequence.SequenceMatch.ExactMatch
                                       for s in act.shortcuts()):
                return True
        return False

    def keyPressEvent(self, event):  # noqa: N802
        self._user_took_over()
        key, mods = self._combo(event)
        ctrl = mods == _M.ControlModifier
        plain = mods == _M.NoModifier
        if key == _K.Key_Space and plain:
            if not event.isAutoRepeat():
                self._space = True
                self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
            event.accept()
        elif key in (_K.Key_Delete, _K.Key_Backspace) and plain:
            self.delete_selected()
        elif ctrl and key == _K.Key_C:
            self.copy_selected()
        elif ctrl and key == _K.Key_X:
            self.cut_selected()
        elif ctrl and key == _K.Key_V:
            self.paste()
        elif ctrl and key == _K.Key_D:
            self.duplicate_selected()
        elif ctrl and key == _K.Key_A:
            self.select_all()
        elif plain and key == _K.Key_F:
            self.fit_all()
        elif plain and key == _K.Key_L:
            self.auto_layout()
        elif key in (_K.Key_Plus, _K.Key_Equal) and (plain or ctrl):
            self.zoom_step(1.25)
        elif key == _K.Key_Minus and (plain or ctrl):
            self.zoom_step(0.8)
        elif key == _K.Key_Escape and plain:
            self.scene().cancel_gesture()
            self.scene().clearSelection()
        else:
            super().keyPressEvent(event)

    def keyReleaseEvent(self, event):  # noqa: N802
        if event.key() == _K.Key_Space and not event.isAutoRepeat():
            self._space = False
            if self._pan_last is None:
                self.viewport().setCursor(Qt.CursorShape.ArrowCursor)
            event.accept()
            return
        super().keyReleaseEvent(event)

    def standard_shortcuts(self) -> dict[str, QKeySequence]:
        """The canvas's keys by method name, for menus that want to show them."""
        return {
            "delete_selected": QKeySequence(QKeySequence.StandardKey.Delete),
            "copy_selected": QKeySequence(QKeySequence.StandardKey.Copy),
            "cut_selected": QKeySequence(QKeySequence.StandardKey.Cut),
            "paste": QKeySequence(QKeySequence.StandardKey.Paste),
            "duplicate_selected": QKeySequence("Ctrl+D"),
            "select_all": QKeySequence(QKeySequence.StandardKey.SelectAll),
            "fit_all": QKeySequence("F"),
            "auto_layout": QKeySequence("L"),
        }
