"""File ▸ Export ▸ Python… / PyTorch…, and Edit ▸ Copy as Python: the graph as code.

The code comes from :mod:`engine.io.export` (``to_python``: engine.Value code; ``to_pytorch``:
float64 torch tensors). Both scripts rebuild the computation, call backward and print the
output and each named number's gradient, so they can be checked against the canvas.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction, QGuiApplication
from PySide6.QtWidgets import QFileDialog

from engine import GraphError
from engine.io import atomic
from engine.io.export import to_python, to_pytorch

KINDS = {
    "python": (to_python, "Python", "Python scripts (*.py)"),
    "pytorch": (to_pytorch, "PyTorch", "Python scripts (*.py)"),
}


def export_code(graph, kind: str) -> str:
    """The document as a script; raises GraphError (no output, an unconnected input...)."""
    if kind not in KINDS:
        raise ValueError(f"unknown export kind {kind!r}; choose one of {', '.join(KINDS)}")
    return KINDS[kind][0](graph)


def write_export(graph, path, kind: str) -> Path:
    """Write the script to ``path`` atomically (temporary file, fsync, rename: a failure
    leaves the old file). Raises GraphError when the graph cannot be exported and OSError
    when the file cannot be written."""
    code = export_code(graph, kind)
    out = Path(path)
    atomic.write_bytes(out, code.encode("utf-8"))
    return out


class ExportActions(QObject):
    """The three actions for one window. ``ask_path(kind)`` shows the save dialog; tests
    replace it. ``done(text)`` carries the sentence for the status bar."""

    done = Signal(str)

    def __init__(self, window):
        super().__init__(window)
        self._window = window
        self.act_python = QAction("&Python (Value API)…", window)
        self.act_python.setStatusTip("Save the graph as a Python script using engine.Value")
        self.act_python.triggered.connect(lambda: self.export("python"))
        self.act_pytorch = QAction("Py&Torch…", window)
        self.act_pytorch.setStatusTip("Save the graph as a PyTorch script (float64 tensors)")
        self.act_pytorch.triggered.connect(lambda: self.export("pytorch"))
        self.act_copy_python = QAction("Copy as P&ython", window)
        self.act_copy_python.setShortcut("Ctrl+Shift+C")
        self.act_copy_python.setStatusTip("Copy the graph as engine.Value code to the clipboard")
        self.act_copy_python.triggered.connect(self.copy_python)
        self.last_path: Path | None = None

    def ask_path(self, kind: str) -> str | None:
        w = self._window
        _f, label, filt = KINDS[kind]
        base = w.path
        stem = (base.stem if base else "graph") + ("_torch" if kind == "pytorch" else "")
        # the folder of this window's last export, else the session's (the document's folder,
        # else the last folder a file was opened, saved or exported in): never $HOME first
        folder = self.last_path.parent if self.last_path is not None else w.session.last_folder()
        start = str(folder / f"{stem}.py")
        path, _ = QFileDialog.getSaveFileName(w, f"Export as {label}", start, filt)
        if path and not Path(path).suffix:
            path += ".py"
        return path or None

    def export(self, kind: str, path=None) -> bool:
        """Export to ``path`` (or ask); reports failures in the window's error dialog."""
        graph = self._window.document
        try:
            export_code(graph, kind)  # refuse before asking for a file name
        except GraphError as e:
            self._fail(f"Cannot export as {KINDS[kind][1]}: {e}")
            return False
        if path is None:
            path = self.ask_path(kind)
            if not path:
                return False
        try:
            self.last_path = write_export(graph, path, kind)
        except (GraphError, OSError) as e:
            self._fail(f"Cannot export to {path}: {getattr(e, 'strerror', None) or e}")
            return False
        self._window.session.set_last_folder(self.last_path.resolve().parent)
        self.done.emit(f"Exported {KINDS[kind][1]} code to {self.last_path}")
        return True

    def copy_python(self) -> bool:
        try:
            code = export_code(self._window.document, "python")
        except GraphError as e:
            self.done.emit(f"Cannot copy as Python: {e}")
            return False
        QGuiApplication.clipboard().setText(code)
        self.done.emit("Copied the graph as Python (engine.Value) code")
        return True

    def _fail(self, text: str) -> None:
        self._window.show_error("Export", text)
