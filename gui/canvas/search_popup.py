"""The op search box: a small line edit over a filtered list of every row of the op table.

Typing a value instead (``2.5``, ``[[1, 2], [3, 4]]``, ``zeros(3)``, ``randn(2, 3, seed=0)``:
what the parser takes) offers a number holding it as the first entry; text that starts like a
value but is refused shows the parser's reason there instead.

It lives inside the canvas viewport (not a separate popup window), so keyboard focus and
offscreen tests behave like any other child widget. Enter or a click chooses, Escape closes.
"""

from __future__ import annotations

import re

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import QFrame, QLineEdit, QListWidget, QListWidgetItem, QVBoxLayout

from engine import NUMBER, OPS, ParseError
from gui.canvas.controller import refusal, typed_value
from gui.style import format_number

_ROLE = Qt.ItemDataRole.UserRole
SIZE = (280, 260)  # the box's size where the canvas has room
# Text that can only be meant as a value (a name of an op never starts like this).
_LOOKS_LIKE_VALUE = re.compile(r"^\s*([-+\u2212.\d\[(]|(zeros|ones|randn|Value)\s*\()")


def entries() -> list[tuple[str, str]]:
    """(key, shown text) for every row of the op table (the number row first), in palette order."""
    return [(name, f"{op.symbol}   {name} — {op.doc}") for name, op in OPS.items()]


class SearchPopup(QFrame):
    """Filterable list of node kinds; emits ``chosen(key)`` and closes itself."""

    chosen = Signal(str)
    valueChosen = Signal(object)  # a typed value: add a number holding it
    closed = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("gradcanvasSearch")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        self.setStyleSheet(
            "#gradcanvasSearch { background: #2a2f38; border: 1px solid #4aa3ff; border-radius: 6px; }"
            "QLineEdit { background: #1d2026; color: #e8eaee; border: 1px solid #454c58;"
            " border-radius: 4px; padding: 3px 5px; }"
            "QListWidget { background: #2a2f38; color: #e8eaee; border: none; }"
            "QListWidget::item:selected { background: #3b5a85; }"
        )
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.setSpacing(4)
        self.edit = QLineEdit(self)
        self.edit.setPlaceholderText("Add node: type to filter…")
        self.list = QListWidget(self)
        self.list.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.list.setUniformItemSizes(True)
        lay.addWidget(self.edit)
        lay.addWidget(self.list)
        self._value_item = QListWidgetItem("")  # the typed value, first when there is one
        self._value_item.setData(_ROLE, None)
        self._value = None
        self.list.addItem(self._value_item)
        # Said when nothing matches (an empty list read as a broken box); never chosen.
        self._none_item = QListWidgetItem("")
        self._none_item.setData(_ROLE, None)
        self._none_item.setFlags(Qt.ItemFlag.NoItemFlags)
        self._none_item.setHidden(True)
        self.list.addItem(self._none_item)
        for key, text in entries():
            it = QListWidgetItem(text)
            it.setData(_ROLE, key)
            self.list.addItem(it)
        self.resize(*SIZE)
        self.edit.textChanged.connect(self.set_filter)
        self.edit.installEventFilter(self)
        self.list.itemClicked.connect(self._choose_item)
        self.list.itemActivated.connect(self._choose_item)
        self.hide()

    # ---------------------------------------------------------------- API

    def open_at(self, pos) -> None:
        """Show at ``pos`` (parent coordinates), kept inside the parent (smaller than its usual
        280x260 when the canvas is smaller), empty and focused."""
        self.edit.clear()
        self.set_filter("")
        par = self.parentWidget()
        x, y = pos.x(), pos.y()
        if par is not None:
            self.resize(min(SIZE[0], par.width()), min(SIZE[1], par.height()))
            x = max(0, min(x, par.width() - self.width()))
            y = max(0, min(y, par.height() - self.height()))
        self.move(x, y)
        self.show()
        self.raise_()
        self.edit.setFocus(Qt.FocusReason.PopupFocusReason)

    def visible_keys(self) -> list[str]:
        """The keys of the entries that pass the current filter, top to bottom."""
        items = (self.list.item(i) for i in range(self.list.count()))
        return [it.data(_ROLE) for it in items if not it.isHidden() and it.data(_ROLE) is not None]

    @property
    def typed_value(self):
        """The value the text reads as (offered as a number), or None."""
        return self._value

    def _offer_value(self, text: str) -> bool:
        """Show the number entry for ``text`` if it is a value (True), or the parser's reason
        if it only starts like one; hide it otherwise."""
        item, self._value = self._value_item, None
        if not _LOOKS_LIKE_VALUE.match(text):
            item.setHidden(True)
            return False
        try:
            self._value = typed_value(text)
        except ParseError as e:
            item.setText(f"{OPS[NUMBER].symbol}   {refusal(text, e).removesuffix('; value unchanged')}")
            item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEnabled)
            item.setToolTip(e.msg)
            item.setHidden(False)
            return False
        item.setText(f"{OPS[NUMBER].symbol}   number = {format_number(self._value)} — Enter adds it")
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEnabled)
        item.setToolTip("")
        item.setHidden(False)
        return True

    def set_filter(self, text: str) -> None:
        """Show entries whose name, symbol or description contains ``text`` (any case); the
        best match (name starts with the text) becomes current."""
        t = text.strip().lower()
        first = prefix = None
        if self._offer_value(text):
            prefix = self._value_item
        for i in range(self.list.count()):
            it = self.list.item(i)
            key = it.data(_ROLE)
            if it is self._value_item or it is self._none_item:
                continue
            show = not t or t in it.text().lower()
            it.setHidden(not show)
            if show:
                first = first or it
                if prefix is None and key.startswith(t):
                    prefix = it
        nothing = first is None and self._value_item.isHidden()
        self._none_item.setText(f"No op matches “{text.strip()}”: Escape closes" if nothing else "")
        self._none_item.setHidden(not nothing)
        self.list.setCurrentItem(prefix or first)

    def choose_current(self) -> None:
        it = self.list.currentItem()
        if it is not None and not it.isHidden():
            self._choose_item(it)

    def close_popup(self) -> None:
        if self.isVisible():
            self.hide()
            self.closed.emit()

    # ---------------------------------------------------------------- internals

    def _choose_item(self, it: QListWidgetItem) -> None:
        if it is self._value_item:
            value = self._value
            if value is None:
                return  # the parser's reason is shown; nothing to add
            self.close_popup()
            self.valueChosen.emit(value)
            return
        key = it.data(_ROLE)
        if key is None:
            return  # the "no match" line
        self.close_popup()
        self.chosen.emit(key)

    def _step(self, delta: int) -> None:
        rows = [i for i in range(self.list.count()) if not self.list.item(i).isHidden()]
        if not rows:
            return
        cur = self.list.currentRow()
        k = rows.index(cur) if cur in rows else -1
        k = max(0, min(len(rows) - 1, k + delta))
        self.list.setCurrentRow(rows[k])

    def eventFilter(self, obj, event):  # noqa: N802
        if obj is self.edit and event.type() == QEvent.Type.KeyPress:
            key = event.key()
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self.choose_current()
                return True
            if key == Qt.Key.Key_Escape:
                self.close_popup()
                return True
            if key == Qt.Key.Key_Down:
                self._step(1)
                return True
            if key == Qt.Key.Key_Up:
                self._step(-1)
                return True
        elif obj is self.edit and event.type() == QEvent.Type.FocusOut:
            # clicking elsewhere closes the box, but not a click on its own list
            if not self.list.underMouse():
                self.close_popup()
        return super().eventFilter(obj, event)
