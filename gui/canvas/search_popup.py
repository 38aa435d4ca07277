"""The op search box: a small line edit over a filtered list of every row of the op table.

It lives inside the canvas viewport (not a separate popup window), so keyboard focus and
offscreen tests behave like any other child widget. Enter or a click chooses, Escape closes.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import QFrame, QLineEdit, QListWidget, QListWidgetItem, QVBoxLayout

from engine import OPS

_ROLE = Qt.ItemDataRole.UserRole


def entries() -> list[tuple[str, str]]:
    """(key, shown text) for every row of the op table (the number row first), in palette order."""
    return [(name, f"{op.symbol}   {name} — {op.doc}") for name, op in OPS.items()]


class SearchPopup(QFrame):
    """Filterable list of node kinds; emits ``chosen(key)`` and closes itself."""

    chosen = Signal(str)
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
        for key, text in entries():
            it = QListWidgetItem(text)
            it.setData(_ROLE, key)
            self.list.addItem(it)
        self.resize(280, 260)
        self.edit.textChanged.connect(self.set_filter)
        self.edit.installEventFilter(self)
        self.list.itemClicked.connect(self._choose_item)
        self.list.itemActivated.connect(self._choose_item)
        self.hide()

    # ---------------------------------------------------------------- API

    def open_at(self, pos) -> None:
        """Show at ``pos`` (parent coordinates), kept inside the parent, empty and focused."""
        self.edit.clear()
        self.set_filter("")
        par = self.parentWidget()
        x, y = pos.x(), pos.y()
        if par is not None:
            x = max(0, min(x, par.width() - self.width()))
            y = max(0, min(y, par.height() - self.height()))
        self.move(x, y)
        self.show()
        self.raise_()
        self.edit.setFocus(Qt.FocusReason.PopupFocusReason)

    def visible_keys(self) -> list[str]:
        """The keys of the entries that pass the current filter, top to bottom."""
        items = (self.list.item(i) for i in range(self.list.count()))
        return [it.data(_ROLE) for it in items if not it.isHidden()]

    def set_filter(self, text: str) -> None:
        """Show entries whose name, symbol or description contains ``text`` (any case); the
        best match (name starts with the text) becomes current."""
        t = text.strip().lower()
        first = prefix = None
        for i in range(self.list.count()):
            it = self.list.item(i)
            key = it.data(_ROLE)
            show = not t or t in it.text().lower()
            it.setHidden(not show)
            if show:
                first = first or it
                if prefix is None and key.startswith(t):
                    prefix = it
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
        key = it.data(_ROLE)
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
