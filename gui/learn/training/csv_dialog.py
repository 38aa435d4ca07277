"""CSV import: choose a file, see its header row, tick the feature columns and pick the
target column, the task, the separator and the train split. OK reads the whole file with
:func:`engine.training.read_csv`; a refusal (a bad cell, ragged rows, an empty file, too many
rows, the wrong separator) is shown in the dialog with its row and column, and nothing is
imported."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
)

from engine.training import DataError, read_csv, read_header
from engine.training.csvdata import TASKS
from gui import style
from gui.shell.screen_fit import resize_to_screen

SEPARATORS = ((",", "comma ,"), (";", "semicolon ;"), ("\t", "tab"), ("|", "bar |"))


class CsvDialog(QDialog):
    """After OK, ``dataset`` is the Dataset read and ``path`` the file."""

    def __init__(self, parent=None, path=None):
        super().__init__(parent)
        self.setWindowTitle("Import CSV data")
        self.setObjectName("csvDialog")
        self.dataset = None
        self.path: Path | None = None
        self.header: list[str] = []
        self.path_edit = QLineEdit()
        self.path_edit.setObjectName("csvPath")
        self.path_edit.setPlaceholderText("a .csv file with a header row")
        self.path_edit.editingFinished.connect(lambda: self.set_path(self.path_edit.text()))
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        self.separator = QComboBox()
        for _sep, text in SEPARATORS:
            self.separator.addItem(text)
        self.separator.currentIndexChanged.connect(lambda _i: self._read_header())
        self.features = QListWidget()
        self.features.setObjectName("csvFeatures")
        self.features.setToolTip("The input columns (ticked)")
        self.target = QComboBox()
        self.target.setObjectName("csvTarget")
        self.target.setToolTip("The column to predict: text or few whole numbers become classes")
        self.target.currentIndexChanged.connect(self._untick_target)
        self.task = QComboBox()
        self.task.addItems(list(TASKS))
        self.task.setToolTip("auto: text targets and up to 32 whole numbers are classes, others regression")
        self.split = QDoubleSpinBox()
        self.split.setRange(0.01, 1.0)
        self.split.setDecimals(2)
        self.split.setValue(0.8)
        self.split.setToolTip("The fraction of rows used for training (the others, drawn with seed 0, test)")
        self.error = QLabel("")
        self.error.setObjectName("csvError")
        self.error.setWordWrap(True)
        self.error.setStyleSheet(f"color: {style.PROBLEM.name()}")
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        row = QHBoxLayout()
        row.addWidget(self.path_edit, 1)
        row.addWidget(browse)
        form = QFormLayout()
        form.addRow("File", row)
        form.addRow("Separator", self.separator)
        form.addRow("Features", self.features)
        form.addRow("Target", self.target)
        form.addRow("Task", self.task)
        form.addRow("Train split", self.split)
        ok_cancel = QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        self.buttons = QDialogButtonBox(ok_cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.error)
        lay.addWidget(self.buttons)
        resize_to_screen(self, 480, 460)
        if path is not None:
            self.set_path(path)
        self._enable()

    def _browse(self):
        path, _ = QFileDialog.getOpenFileName(self, "CSV data", "", "CSV files (*.csv *.txt);;All files (*)")
        if path:
            self.set_path(path)

    def delimiter(self) -> str:
        return SEPARATORS[self.separator.currentIndex()][0]

    def set_path(self, path) -> None:
        text = str(path).strip()
        self.path = Path(text) if text else None
        self.path_edit.setText(text)
        self._read_header()

    def _read_header(self) -> None:
        self.header = []
        self.features.clear()
        self.target.clear()
        self.error.setText("")
        if self.path is None:
            self._enable()
            return
        try:
            self.header = read_header(self.path, delimiter=self.delimiter())
        except (DataError, OSError) as e:
            self.error.setText(f"{self.path.name}: {getattr(e, 'strerror', None) or e}")
            self._enable()
            return
        self.target.blockSignals(True)
        self.target.addItems(self.header)
        self.target.setCurrentIndex(len(self.header) - 1)
        self.target.blockSignals(False)
        for k, name in enumerate(self.header):
            it = QListWidgetItem(name)
            it.setFlags(it.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            it.setCheckState(Qt.CheckState.Checked if k != len(self.header) - 1 else Qt.CheckState.Unchecked)
            self.features.addItem(it)
        self._enable()

    def _untick_target(self, index: int) -> None:
        it = self.features.item(index)
        if it is not None:
            it.setCheckState(Qt.CheckState.Unchecked)

    def _enable(self):
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(bool(self.header))

    def chosen_features(self) -> list[str]:
        return [self.features.item(i).text() for i in range(self.features.count())
                if self.features.item(i).checkState() == Qt.CheckState.Checked]

    def read(self) -> bool:
        """Read the file with the choices made; False (the error shown) if it is refused."""
        if self.path is None:
            self.error.setText("Choose a file first")
            return False
        feats = self.chosen_features()
        target = self.target.currentText()
        if target in feats:
            feats.remove(target)
        if not feats:
            self.error.setText("Tick at least one feature column")
            return False
        try:
            self.dataset = read_csv(self.path, features=feats, target=target, task=self.task.currentText(),
                                    delimiter=self.delimiter(), split=self.split.value())
        except DataError as e:
            self.dataset = None
            self.error.setText(str(e))
            return False
        except OSError as e:
            self.dataset = None
            self.error.setText(f"{self.path.name}: {e.strerror or e}")
            return False
        return True

    def accept(self):
        if self.read():
            super().accept()


__all__ = ["CsvDialog"]
