"""The palette dock: every row of the op table (the number row and every op), filterable.

Entries come from ``engine.core.ops.OPS``, so a new row in the op table shows up here by itself,
in the section for its number of inputs.
Dragging an entry carries its op name under ``GraphView.MIME_OP``; activating one (double
click or Enter) asks the window to add it at the centre of the view.
"""

from __future__ import annotations

from PySide6.QtCore import QMimeData, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QFont, QIcon, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDockWidget,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QVBoxLayout,
    QWidget,
)

from engine import NUMBER, OPS
from gui import style
from gui.canvas.controller import INSTANCE_OF, NEW_NUMBER_VALUE
from gui.style import format_number

OP_ROLE = Qt.UserRole
ICON_SIZE = 30

_SECTIONS = (
    ("Inputs", lambda arity: arity == 0),
    ("Two inputs", lambda arity: arity == 2),
    ("One input", lambda arity: arity == 1),
)


def mime_op() -> str:
    """The palette's drag mime type, as the view defines it."""
    from gui.canvas.view import GraphView

    return GraphView.MIME_OP


def mime_for(op: str) -> QMimeData:
    """Drag payload for ``op`` (a key of OPS, NUMBER included): the op name as UTF-8."""
    data = QMimeData()
    data.setData(mime_op(), op.encode("utf-8"))
    data.setText(op)
    return data


def entries() -> list[tuple[str, str, str, int]]:
    """(op, symbol, description, arity) for every row of the op table, in table order."""
    # The number tile shows the value a new number starts with (Controller.add_node's default),
    # so what the palette promises is what lands on the canvas.
    start = format_number(NEW_NUMBER_VALUE)
    return [
        (name, start, f"{op.doc} (starts at {start}; double-click its value to change it)", 0)
        if name == NUMBER
        else (name, op.symbol, op.doc, op.arity)
        for name, op in OPS.items()
    ]


def symbol_icon(symbol: str, kind: str) -> QIcon:
    """A small rounded tile with the op's symbol, tinted by kind (NUMBER or "op")."""
    dpr = 2.0
    pix = QPixmap(int(ICON_SIZE * dpr), int(ICON_SIZE * dpr))
    pix.setDevicePixelRatio(dpr)
    pix.fill(Qt.transparent)
    p = QPainter(pix)
    p.setRenderHint(QPainter.Antialiasing)
    p.setRenderHint(QPainter.TextAntialiasing)
    fill = style.NODE_HEAD_NUMBER if kind == NUMBER else style.NODE_HEAD_OP
    edge = style.VALUE if kind == NUMBER else style.TEXT_DIM
    rect = QRectF(1.5, 1.5, ICON_SIZE - 3, ICON_SIZE - 3)
    p.setPen(QPen(edge, 1.5))
    p.setBrush(fill)
    p.drawRoundedRect(rect, 6, 6)
    font = QFont()
    font.setBold(True)
    font.setPixelSize(15 if len(symbol) <= 2 else (11 if len(symbol) <= 3 else 9))
    p.setFont(font)
    p.setPen(style.TEXT)
    p.drawText(rect, Qt.AlignCenter, symbol)
    p.end()
    return QIcon(pix)


class PaletteList(QListWidget):
    """The list of entries; drags carry the op name under the view's mime type."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragOnly)
        self.setDefaultDropAction(Qt.CopyAction)
        self.setSelectionMode(QAbstractItemView.SingleSelection)
        self.setIconSize(QSize(ICON_SIZE, ICON_SIZE))
        self.setUniformItemSizes(False)
        self.setSpacing(1)
        self.setMouseTracking(True)

    def mimeTypes(self):
        return [mime_op()]

    def mimeData(self, items):
        ops = [it.data(OP_ROLE) for it in items if it.data(OP_ROLE)]
        return mime_for(ops[0]) if ops else QMimeData()

    def supportedDropActions(self):
        return Qt.CopyAction


class Palette(QDockWidget):
    """Dock with a filter box above the entry list. ``opActivated(op)`` on double-click/Enter."""

    opActivated = Signal(str)
    renameDefinition = Signal(str)  # a definition's context menu: Rename…
    removeDefinition = Signal(str)  # ... and Delete

    def __init__(self, parent=None):
        super().__init__("Palette", parent)
        self.setObjectName("paletteDock")
        self.setToolTip("")
        body = QWidget(self)
        lay = QVBoxLayout(body)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.setSpacing(6)
        self.filter = QLineEdit(body)
        self.filter.setObjectName("paletteFilter")
        self.filter.setPlaceholderText("Filter ops…  (e.g. tanh, ×, log)")
        self.filter.setClearButtonEnabled(True)
        self.filter.setToolTip("Type to narrow the list; Enter adds the first match")
        self.list = PaletteList(body)
        self.list.setObjectName("paletteList")
        lay.addWidget(self.filter)
        lay.addWidget(self.list, 1)
        self.setWidget(body)
        self._headers: list[tuple[QListWidgetItem, list[QListWidgetItem]]] = []
        self._defs_header: QListWidgetItem | None = None
        self._defs: list[QListWidgetItem] = []
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.customContextMenuRequested.connect(self._definition_menu)
        self._fill()
        self.filter.textChanged.connect(self.apply_filter)
        self.filter.returnPressed.connect(self._activate_first)
        self.list.itemActivated.connect(self._activated)

    # ------------------------------------------------------------------ content

    def _fill(self):
        rows = entries()
        for title, wanted in _SECTIONS:
            members = [r for r in rows if wanted(r[3])]
            if not members:
                continue
            header = QListWidgetItem(title.upper())
            header.setFlags(Qt.NoItemFlags)
            font = header.font()
            font.setBold(True)
            font.setPointSizeF(max(6.0, font.pointSizeF() * 0.8))
            header.setFont(font)
            header.setForeground(style.TEXT_DIM)
            self.list.addItem(header)
            items = []
            for op, symbol, doc, arity in members:
                it = QListWidgetItem(symbol_icon(symbol, op if op == NUMBER else "op"), self._label(op, doc))
                it.setData(OP_ROLE, op)
                it.setFlags(Qt.ItemIsEnabled | Qt.ItemIsSelectable | Qt.ItemIsDragEnabled)
                it.setToolTip(self._tooltip(op, symbol, doc, arity))
                it.setStatusTip(f"{op}: {doc} — drag onto the canvas, or double-click to add it")
                self.list.addItem(it)
                items.append(it)
            self._headers.append((header, items))

    @staticmethod
    def _label(op: str, doc: str) -> str:
        return op if op == NUMBER else f"{op}   {doc}"

    @staticmethod
    def _tooltip(op, symbol, doc, arity) -> str:
        if op == NUMBER:
            return (
                "<b>number</b><br>A value you set: an input, a weight, a constant.<br>"
                "<i>Drag onto the canvas, or double-click to add it.</i>"
            )
        ports = ", ".join(OPS[op].ports)
        return (
            f"<b>{symbol}&nbsp;&nbsp;{op}</b><br>{doc}<br>inputs: {ports}<br>"
            "<i>Drag onto the canvas, or double-click to add it.</i>"
        )

    # ------------------------------------------------------------------ definitions (composites)

    def set_definitions(self, definitions: dict) -> None:
        """List the document's definitions first, under DEFINITIONS: drag or double-click one
        to add an instance; its context menu renames or deletes it."""
        for it in self._defs:
            self.list.takeItem(self.list.row(it))
        self._defs = []
        if self._defs_header is None:
            self._defs_header = QListWidgetItem("DEFINITIONS")
            self._defs_header.setFlags(Qt.NoItemFlags)
            font = self._defs_header.font()
            font.setBold(True)
            font.setPointSizeF(max(6.0, font.pointSizeF() * 0.8))
            self._defs_header.setFont(font)
            self._defs_header.setForeground(style.TEXT_DIM)
            self.list.insertItem(0, self._defs_header)
        for k, (name, d) in enumerate(sorted(definitions.items())):
            ins, outs = ", ".join(d.input_names), ", ".join(d.output_names)
            it = QListWidgetItem(symbol_icon("ƒ", "op"), f"{name}   ({ins}) → {outs}")
            it.setData(OP_ROLE, INSTANCE_OF + name)
            it.setFlags(Qt.ItemIsEnabled | Qt.ItemIsSelectable | Qt.ItemIsDragEnabled)
            it.setToolTip(f"<b>ƒ&nbsp;&nbsp;{name}</b>({ins}) → {outs}<br>a definition of this document<br>"
                          "<i>Drag onto the canvas, or double-click, to add an instance; right-click to "
                          "rename or delete it.</i>")
            self.list.insertItem(1 + k, it)
            self._defs.append(it)
        self._defs_header.setHidden(not self._defs)
        self.apply_filter(self.filter.text())

    def definitions(self) -> list[str]:
        """The definitions listed, in order."""
        return [it.data(OP_ROLE)[len(INSTANCE_OF):] for it in self._defs]

    def _definition_menu(self, pos) -> None:
        it = self.list.itemAt(pos)
        if it is None or it not in self._defs:
            return
        self.definition_menu(it.data(OP_ROLE)[len(INSTANCE_OF):]).exec(self.list.mapToGlobal(pos))

    def definition_menu(self, name: str) -> QMenu:
        """A definition's context menu: Rename…, Delete."""
        menu = QMenu(self)
        menu.setToolTipsVisible(True)
        act = menu.addAction("Rename…")
        act.setToolTip("Rename the definition; every instance follows (one undo step)")
        act.triggered.connect(lambda: self.renameDefinition.emit(name))
        act = menu.addAction("Delete")
        act.setToolTip("Delete the definition: only while no instance uses it (one undo step)")
        act.triggered.connect(lambda: self.removeDefinition.emit(name))
        return menu

    # ------------------------------------------------------------------ queries for tests and the window

    def ops(self) -> list[str]:
        """Every op name listed, visible or not, in order."""
        return [it.data(OP_ROLE) for _, items in self._headers for it in items]

    def visible_ops(self) -> list[str]:
        """The ops the filter leaves visible, in order."""
        return [it.data(OP_ROLE) for _, items in self._headers for it in items if not it.isHidden()]

    def item_for(self, op: str) -> QListWidgetItem | None:
        for _, items in self._headers:
            for it in items:
                if it.data(OP_ROLE) == op:
                    return it
        return None

    def mime_for(self, op: str) -> QMimeData:
        """What dragging ``op``'s entry carries (the list's own mimeData)."""
        item = self.item_for(op)
        if item is None:
            raise KeyError(f"no palette entry for {op!r}")
        return self.list.mimeData([item])

    # ------------------------------------------------------------------ filter and activation

    def apply_filter(self, text: str) -> None:
        """Show entries whose name, symbol or description contains ``text`` (case-insensitive)."""
        needle = text.strip().lower()
        for it in self._defs:
            it.setHidden(bool(needle) and needle not in it.text().lower())
        if self._defs_header is not None:
            self._defs_header.setHidden(all(it.isHidden() for it in self._defs))
        rows = {r[0]: r for r in entries()}
        for header, items in self._headers:
            shown = 0
            for it in items:
                op, symbol, doc, _ = rows[it.data(OP_ROLE)]
                hit = not needle or needle in op or needle in symbol.lower() or needle in doc.lower()
                it.setHidden(not hit)
                shown += hit
            header.setHidden(shown == 0)

    def _activate_first(self):
        ops = self.visible_ops()
        if ops:
            self.opActivated.emit(ops[0])

    def _activated(self, item: QListWidgetItem):
        op = item.data(OP_ROLE)
        if op:
            self.opActivated.emit(op)
