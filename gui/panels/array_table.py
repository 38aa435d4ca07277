"""An array as a table: the inspector's view of a tensor node's value and gradient.

``ArrayModel`` is a QAbstractTableModel over an array drawn as a 2-D table (a vector is one
row; 3-D and 4-D arrays stack their leading axes into rows, as the canvas does). It never
edits the array it shows: stored arrays are read-only, and every change is a new array handed
to ``on_edit``, which the inspector turns into one undo command. ``ArrayTable`` adds paste:
Ctrl+V on the table takes a spreadsheet's tab-separated text and writes it from the current
cell, as one edit.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt
from PySide6.QtGui import QColor, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView

from gui import style
from gui.canvas import tensor_view as TV

MINUS = "\u2212"


def parse_cell(text: str) -> float | None:
    """A number typed or pasted into a cell ("2", "-1.5", "1e-3", "−4", "2,5"), or None."""
    t = (text or "").strip().replace(MINUS, "-").replace(",", ".")
    try:
        v = float(t)
    except ValueError:
        return None
    return v if np.isfinite(v) else None


def parse_tsv(text: str) -> list[list[float]] | None:
    """A spreadsheet's copied block (rows by newlines, cells by tabs; commas or spaces also
    separate cells when there is no tab) as rows of numbers, or None if any cell is not one."""
    rows = [r for r in (text or "").replace("\r\n", "\n").replace("\r", "\n").split("\n") if r.strip()]
    if not rows:
        return None
    out = []
    for r in rows:
        if "\t" in r:
            cells = r.split("\t")
        elif ";" in r:
            cells = r.split(";")
        else:
            cells = r.replace(",", " ").split()
        vals = [parse_cell(c) for c in cells]
        if any(v is None for v in vals):
            return None
        out.append(vals)
    return out


class ArrayModel(QAbstractTableModel):
    """A read-only view of an array as a table; edits go to ``on_edit(new_array)``."""

    def __init__(self, parent=None, *, colour: QColor | None = None):
        super().__init__(parent)
        self._a = None  # the array shown (never written to)
        self._table = np.zeros((0, 0))
        self.editable = False
        self.on_edit = None
        self._colour = colour

    @property
    def array(self):
        return self._a

    def set_array(self, a, editable: bool = False) -> None:
        same_shape = a is not None and self._a is not None and a.shape == self._a.shape
        self._a = a
        self.editable = editable and a is not None
        if same_shape:  # the numbers changed: the view keeps its selection and scroll
            self._table = TV.as_table(a)
            self.dataChanged.emit(self.index(0, 0), self.index(self.rowCount() - 1, self.columnCount() - 1))
            return
        self.beginResetModel()
        self._table = TV.as_table(a) if a is not None else np.zeros((0, 0))
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()):  # noqa: N802, B008
        return 0 if parent.isValid() else self._table.shape[0]

    def columnCount(self, parent=QModelIndex()):  # noqa: N802, B008
        return 0 if parent.isValid() else self._table.shape[1]

    def element_index(self, row: int, col: int) -> tuple:
        return TV.element_index(self._a.shape, row, col)

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or self._a is None:
            return None
        x = self._table[index.row(), index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return style.format_number(float(x))
        if role == Qt.ItemDataRole.EditRole:
            return f"{float(x):.15g}"
        if role == Qt.ItemDataRole.ToolTipRole:
            idx = self.element_index(index.row(), index.column())
            return f"[{','.join(map(str, idx))}] = {float(x)!r}"
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole and self._colour is not None:
            return self._colour
        return None

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if role != Qt.ItemDataRole.DisplayRole or self._a is None:
            return None
        if orientation == Qt.Orientation.Horizontal:
            return str(section)
        lead = self._a.shape[:-1] if self._a.ndim > 1 else ()
        if not lead:
            return str(section)
        return ",".join(map(str, np.unravel_index(section, lead)))

    def flags(self, index):
        f = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if self.editable:
            f |= Qt.ItemFlag.ItemIsEditable
        return f

    def setData(self, index, value, role=Qt.ItemDataRole.EditRole):  # noqa: N802
        if role != Qt.ItemDataRole.EditRole or not self.editable or not index.isValid():
            return False
        v = parse_cell(str(value))
        if v is None:
            return False
        idx = self.element_index(index.row(), index.column())
        if float(self._a[idx]) == v:
            return True
        new = np.array(self._a, dtype=np.float64)  # a copy: the stored array is read-only
        new[idx] = v
        return self._hand_over(new)

    def paste_block(self, rows: list[list[float]], at_row: int, at_col: int) -> bool:
        """Write ``rows`` into the table from (at_row, at_col) as one new array; cells that
        fall outside the array are ignored."""
        if not self.editable or not rows:
            return False
        t = np.array(self._table, dtype=np.float64)
        n_r, n_c = t.shape
        wrote = False
        for i, r in enumerate(rows):
            for j, v in enumerate(r):
                if at_row + i < n_r and at_col + j < n_c:
                    t[at_row + i, at_col + j] = v
                    wrote = True
        return wrote and self._hand_over(t.reshape(self._a.shape))

    def _hand_over(self, new) -> bool:
        if self.on_edit is None:
            return False
        if self._a.dtype.kind in "iu":  # integer class targets stay whole numbers
            if not np.all(np.mod(new, 1) == 0):
                return False
            new = np.asarray(new).astype(np.int64)
        return bool(self.on_edit(new))


class ArrayTable(QTableView):
    """A table of one array; Ctrl+V pastes tab-separated text from the current cell."""

    def __init__(self, model: ArrayModel, parent=None):
        super().__init__(parent)
        self.setModel(model)
        self.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                             | QAbstractItemView.EditTrigger.EditKeyPressed
                             | QAbstractItemView.EditTrigger.AnyKeyPressed)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.setMinimumHeight(60)
        self.setMaximumHeight(220)

    def keyPressEvent(self, event):  # noqa: N802
        if event.matches(QKeySequence.StandardKey.Paste):
            self.paste(QGuiApplication.clipboard().text())
            event.accept()
            return
        super().keyPressEvent(event)

    def paste(self, text: str) -> bool:
        """Paste a spreadsheet block at the current cell (the top-left one when none is)."""
        m = self.model()
        rows = parse_tsv(text)
        if rows is None or not m.editable:
            return False
        cur = self.currentIndex()
        r, c = (cur.row(), cur.column()) if cur.isValid() else (0, 0)
        return m.paste_block(rows, r, c)
