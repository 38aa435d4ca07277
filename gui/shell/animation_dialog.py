"""File ▸ Export Animation… and the Descend panel's Export Animation…: the step-through (or a
Descend run) as an animated GIF, an animated PNG, an MP4 video or a folder of PNG frames.

One dialog asks for the format, the file or folder, the frame size, the steps a second and
(for the step-through) whether to walk the forward pass first; the frames are then drawn
offscreen by :mod:`gui.learn.animation` behind a progress dialog that can cancel. A refusal
(nothing to step, over the frame budget) or a failed write (a full disk) is explained in a
message box, and the old file is left as it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressDialog,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from engine import DocumentError, GraphError
from gui.learn import movie

# (label, kind, suffix, file-dialog filter); a folder has no suffix
FORMATS = (
    ("Animated GIF", "gif", ".gif", "Animated GIF (*.gif)"),
    ("Animated PNG", "apng", ".png", "Animated PNG (*.png *.apng)"),
    ("MP4 video", "mp4", ".mp4", "MP4 video (*.mp4)"),
    ("PNG frames in a folder", "folder", "", ""),
)
WRITTEN_AS = {"gif": "an animated GIF", "apng": "an animated PNG", "mp4": "an MP4 video",
              "folder": "PNG frames"}  # fmt: skip


@dataclass
class AnimationOptions:
    """What the dialog asks: where, how big, how fast, and (step-through) the forward pass."""

    path: str
    size: tuple[int, int] = movie.DEFAULT_SIZE
    fps: float = movie.DEFAULT_FPS
    forward: bool = False


class AnimationDialog(QDialog):
    """The export options. ``options()`` reads them back; the path always has the chosen
    format's suffix (a folder path ends in a slash)."""

    def __init__(self, parent, folder: Path, stem: str, what: str, forward_option: bool = True):
        super().__init__(parent)
        self.setWindowTitle(f"Export Animation: {what}")
        self.setObjectName("animationDialog")
        self._folder, self._stem = Path(folder), stem
        self.format = QComboBox()
        self.format.setObjectName("animationFormat")
        for label, kind, _s, _f in FORMATS:
            self.format.addItem(label, kind)
        self.format.setToolTip("GIF and APNG play in slides and browsers; MP4 in video players; "
                               "a folder gets frame_0001.png, frame_0002.png, ...")  # fmt: skip
        self.path = QLineEdit()
        self.path.setObjectName("animationPath")
        self.path.setMinimumWidth(320)
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.path, 1)
        row.addWidget(browse)
        w, h = movie.DEFAULT_SIZE
        self.width_box, self.height_box = QSpinBox(), QSpinBox()
        for box, value, top in ((self.width_box, w, movie.MAX_WIDTH), (self.height_box, h, movie.MAX_HEIGHT)):
            box.setRange(movie.MIN_SIDE, top)
            box.setValue(value)
            box.setSuffix(" px")
        size = QHBoxLayout()
        size.addWidget(self.width_box)
        size.addWidget(QLabel("×"))
        size.addWidget(self.height_box)
        size.addStretch(1)
        self.fps = QDoubleSpinBox()
        self.fps.setObjectName("animationFps")
        self.fps.setRange(movie.MIN_FPS, movie.MAX_FPS)
        self.fps.setDecimals(1)
        self.fps.setValue(movie.DEFAULT_FPS)
        self.fps.setToolTip(f"Steps a second; the last frame stays {movie.HOLD_S:g} s longer")
        self.forward = QCheckBox("Walk the forward pass first")
        self.forward.setObjectName("animationForward")
        self.forward.setToolTip("Show each value being computed before the gradients flow back")
        self.forward.setVisible(forward_option)

        form = QFormLayout()
        form.addRow("Format", self.format)
        form.addRow("Save to", _wrap(row))
        form.addRow("Frame size", _wrap(size))
        form.addRow("Steps a second", self.fps)
        note = QLabel(f"Limit: {movie.BUDGET_TEXT}.")
        note.setWordWrap(True)
        note.setEnabled(False)
        ok = QDialogButtonBox.StandardButton
        buttons = QDialogButtonBox(ok.Save | ok.Cancel)
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.forward)
        lay.addWidget(note)
        lay.addWidget(buttons)
        self.format.currentIndexChanged.connect(self._on_format)
        self._on_format()

    def kind(self) -> str:
        return self.format.currentData()

    def _suffix(self) -> str:
        return FORMATS[self.format.currentIndex()][2]

    def _on_format(self, *_):
        """Keep the typed name, give it the format's suffix (or make it a folder)."""
        text = self.path.text().strip()
        base = Path(text.rstrip("/")) if text else self._folder / self._stem
        if base.suffix.lower() in (".gif", ".png", ".apng", ".mp4"):
            base = base.with_suffix("")
        self.path.setText(str(base) + "/" if self.kind() == "folder" else str(base) + self._suffix())

    def _browse(self):
        current = self.path.text().strip() or str(self._folder)
        if self.kind() == "folder":
            chosen = QFileDialog.getExistingDirectory(self, "Folder for the frames", current)
            if chosen:
                self.path.setText(chosen.rstrip("/") + "/")
            return
        label, _kind, suffix, filt = FORMATS[self.format.currentIndex()]
        chosen, _ = QFileDialog.getSaveFileName(self, f"Export {label}", current, filt)
        if chosen:
            if Path(chosen).suffix.lower() != suffix:
                chosen += suffix
            self.path.setText(chosen)

    def _accept(self):
        if self.path.text().strip():
            self.accept()

    def options(self) -> AnimationOptions:
        path = self.path.text().strip()
        if self.kind() == "folder" and not path.endswith("/"):
            path += "/"
        return AnimationOptions(path, (self.width_box.value(), self.height_box.value()),
                                self.fps.value(), self.forward.isChecked())  # fmt: skip


def _wrap(layout) -> QWidget:
    w = QWidget()
    layout.setContentsMargins(0, 0, 0, 0)
    w.setLayout(layout)
    return w


class AnimationExport(QObject):
    """The Export Animation action of one window. ``ask(what, forward_option)`` shows the
    dialog (tests replace it); ``export()`` writes the window's step-through and
    ``export_descent(graph, settings)`` a Descend run. ``done(text)`` carries the sentence for
    the status bar; failures go to the window's error dialog."""

    done = Signal(str)

    def __init__(self, window):
        super().__init__(window)
        self._window = window
        self.act_export = QAction("Export &Animation…", window)
        self.act_export.setObjectName("exportAnimation")
        self.act_export.setStatusTip(
            "Save the step-through as an animated GIF, animated PNG, MP4 or PNG frames, one frame a step"
        )
        self.act_export.triggered.connect(lambda _checked=False: self.export())
        self.last_path: str | None = None

    def ask(self, what: str, forward_option: bool = True) -> AnimationOptions | None:
        w = self._window
        suggested = w.session.suggested_save_path()  # the file's name, else one from the title
        stem = suggested.stem + ("_descent" if not forward_option else "_steps")
        folder = Path(self.last_path.rstrip("/")).parent if self.last_path else suggested.parent
        dialog = AnimationDialog(w, folder, stem, what, forward_option)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return None
        return dialog.options()

    def export(self, options: AnimationOptions | None = None) -> bool:
        """Write the step-through of the window's document (asks for the options when none
        are given). False, with the reason shown, when it cannot."""
        from gui.learn.animation import export_steps

        graph = self._window.document.copy()
        try:
            movie.count_step_frames(graph)  # nothing to step: say so before asking anything
        except GraphError as e:
            self._fail(f"Cannot export an animation: {e}")
            return False
        if options is None:
            options = self.ask("the step-through")
            if options is None:
                return False
        return self._run(options, "the step-through", lambda progress: export_steps(
            graph, options.path, options.size, options.fps, options.forward, progress))

    def export_descent(self, graph, settings: dict, options: AnimationOptions | None = None) -> bool:
        """Write a Descend run of ``graph`` (the document when the run started) with
        ``settings`` (steps, lr, trainable, maximize), one frame per step."""
        from gui.learn.animation import export_descent

        if options is None:
            options = self.ask("the Descend run", forward_option=False)
            if options is None:
                return False
        return self._run(options, "the Descend run", lambda progress: export_descent(
            graph, options.path, size=options.size, fps=options.fps, progress=progress, **settings))

    def _run(self, options: AnimationOptions, what: str, write) -> bool:
        w = self._window
        box = QProgressDialog("Drawing the frames…", "Cancel", 0, 100, w)
        box.setWindowTitle("Export Animation")
        box.setWindowModality(Qt.WindowModality.WindowModal)
        box.setMinimumDuration(400)
        box.setAutoClose(False)

        def progress(done, total):
            box.setMaximum(total)
            box.setValue(done)
            return not box.wasCanceled()

        try:
            kind, frames = write(progress)
        except movie.Cancelled:
            self.done.emit("Export cancelled: nothing was written")
            return False
        except (ValueError, GraphError, DocumentError, OSError) as e:
            self._fail(f"Cannot export the animation: {e}")
            return False
        except MemoryError:
            self._fail("Cannot export the animation: not enough memory")
            return False
        finally:
            box.close()
            box.deleteLater()
        self.last_path = options.path
        self.done.emit(f"Exported {what} as {WRITTEN_AS[kind]} ({frames} frames) to {options.path}")
        return True

    def _fail(self, text: str) -> None:
        self._window.show_error("Export Animation", text)
