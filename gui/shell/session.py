"""DocumentSession: what a window knows about its document as a file.

Path and display name, modified state, recent files, the folder file dialogs start in, and
autosave. Every edit schedules a recovery copy, written atomically (the document loader's own
temporary-file-then-rename) at most every :data:`AUTOSAVE_MS`, into a ``recovery`` folder beside
the settings file, never over the user's file. Saving, discarding or closing normally deletes it;
a crash or a kill leaves it, and the next launch offers it back (:func:`pending_recoveries`).

Recovery files are named ``<pid>-<random>.json``. A copy that belongs to another open window is
never offered: each session holds an exclusive ``flock`` on ``<pid>-<random>.lock`` for as long as
it lives, and the kernel drops that lock the moment its process dies (even a ``kill -9``, even
while the dead process is still an unreaped zombie, and a later process reusing the pid does not
hold it). Asking whether the pid exists (``os.kill(pid, 0)``) is only the fallback where
``fcntl`` is missing (Windows) or the lock file is gone.
"""

from __future__ import annotations

import json
import os
import re
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

try:
    import fcntl
except ImportError:  # Windows: liveness falls back to the pid check
    fcntl = None

from engine import DocumentError, Graph
from engine.io import document as doc
from gui.shell import files

AUTOSAVE_MS = 2000
# A write blocks the event loop (7 ms at 1,000 nodes, 75 ms at 10,000): the interval stretches
# so that autosave never takes more than 1/AUTOSAVE_SHARE of the time, on any document size.
AUTOSAVE_SHARE = 20
RECOVERY_DIR = "recovery"


def recovery_dir() -> Path:
    """The folder of recovery copies: beside the settings file (so a test's private settings
    folder holds them too)."""
    return Path(files.settings().fileName()).parent / RECOVERY_DIR


def _lock_held(lock: Path) -> bool | None:
    """Whether a live session holds ``lock`` (None: no lock file, or no way to tell)."""
    if fcntl is None:
        return None
    try:
        fd = os.open(lock, os.O_RDWR)
    except OSError:
        return None
    try:
        # flock locks belong to an open file description: a second open of the same file, even
        # in the process holding it, conflicts, so this also sees this process's own sessions.
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def _owner_alive(copy: Path) -> bool:
    """Whether the session that writes the recovery copy ``copy`` still runs."""
    held = _lock_held(copy.with_suffix(".lock"))
    if held is not None:
        return held
    pid = copy.stem.split("-", 1)[0]
    return pid.isdigit() and _alive(int(pid))


def _alive(pid: int) -> bool:
    """Fallback only: a zombie or a reused pid passes it (see the module docstring)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, but someone else's
        return True
    return True


@dataclass(frozen=True)
class Recovery:
    """A recovery copy left by a session that did not end normally."""

    file: Path
    path: Path | None  # the file the document came from, if any
    name: str  # what the window called it
    nodes: int

    def load(self) -> Graph:
        return doc.load(self.file)

    def discard(self) -> None:
        for p in (self.file, self.file.with_suffix(".info"), self.file.with_suffix(".lock")):
            try:
                p.unlink()
            except OSError:
                pass


def pending_recoveries() -> list[Recovery]:
    """Recovery copies of sessions that ended without saving or discarding, newest first."""
    folder = recovery_dir()
    stamped = []
    try:
        found = list(folder.glob("*.json"))
    except OSError:
        return []
    for p in found:
        try:
            stamped.append((p.stat().st_mtime, p))
        except OSError:  # gone meanwhile (another window saved or discarded it)
            continue
    candidates = [p for _t, p in sorted(stamped, reverse=True)]
    out = []
    for f in candidates:
        if not f.stem.split("-", 1)[0].isdigit() or _owner_alive(f):
            continue
        info = _read_info(f.with_suffix(".info"))
        try:
            nodes = len(json.loads(f.read_text(encoding="utf-8")).get("nodes", []))
        except (OSError, ValueError, AttributeError):
            nodes = 0
        path = info.get("path")
        out.append(Recovery(f, Path(path) if isinstance(path, str) and path else None,
                            str(info.get("name") or "Untitled"), nodes))
    return out


def _read_info(p: Path) -> dict:
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def suggested_file_name(title: str | None) -> str:
    """A file name made from a document title: "Fan-out: a value used twice" ->
    "fan-out_a_value_used_twice.json"; "untitled.json" without a usable title."""
    stem = re.sub(r"[^\w\-]+", "_", (title or "").strip().lower()).strip("_-")[:60]
    return f"{stem or 'untitled'}.json"


class DocumentSession(QObject):
    """One window's document as a file (see the module docstring). ``changed`` fires when the
    title should change: path, name or modified state."""

    changed = Signal()

    def __init__(self, bridge, undo_stack, *, use_settings: bool = True, parent=None):
        super().__init__(parent)
        self._bridge = bridge
        self._stack = undo_stack
        self._use_settings = use_settings
        self.path: Path | None = None
        self.name = "Untitled"
        self._dirty = False  # modified in a way the undo stack cannot see (recovered, edited by a script)
        self._recovery = None
        self._lock_fd: int | None = None
        if use_settings:  # settings-free windows (screenshots) leave nothing behind
            self._recovery = recovery_dir() / f"{os.getpid()}-{uuid.uuid4().hex[:12]}.json"
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(AUTOSAVE_MS)
        self._timer.timeout.connect(self.write_recovery)
        bridge.changed.connect(self._on_edit)
        bridge.externalEdit.connect(self._on_external_edit)
        undo_stack.cleanChanged.connect(self._on_clean_changed)

    # ---------------------------------------------------------------- state

    def is_modified(self) -> bool:
        return self._dirty or not self._stack.isClean()

    def title_name(self) -> str:
        return self.path.name if self.path is not None else self.name

    def set_document(self, path: Path | None, name: str, modified: bool = False) -> None:
        """The document now shown came from ``path`` (None: untitled) and is called ``name``."""
        self.path = path
        self.name = name
        self._dirty = modified
        if modified:
            QTimer.singleShot(0, self, self.write_recovery)  # keep a copy at once (a recovered document)
        else:
            self._timer.stop()
            self.discard_recovery()
        self.changed.emit()

    def saved_as(self, path: Path) -> None:
        self.path = path.resolve()
        self.name = path.name
        self._dirty = False
        self._stack.setClean()
        self.remember(path)
        self._timer.stop()
        self.discard_recovery()
        self.changed.emit()

    def _on_clean_changed(self, clean: bool) -> None:
        if clean and not self._dirty:
            self._timer.stop()
            self.discard_recovery()  # undone back to the saved state: nothing to recover
        self.changed.emit()

    def _on_external_edit(self, _event) -> None:
        if not self._dirty:
            self._dirty = True
            self.changed.emit()

    # ---------------------------------------------------------------- autosave

    def _on_edit(self, _event) -> None:
        if self._recovery is not None and not self._timer.isActive():
            self._timer.start()  # not restarted by later edits: one write every AUTOSAVE_MS at most

    @property
    def recovery_file(self) -> Path | None:
        return self._recovery

    def write_recovery(self) -> bool:
        """Write the recovery copy now if the document has unsaved changes (atomic)."""
        if self._recovery is None or not self.is_modified():
            return False
        start = time.monotonic()
        try:
            self._recovery.parent.mkdir(parents=True, exist_ok=True)
            self._hold_lock()  # before the copy exists, so no launch ever sees it unclaimed
            info = {"path": str(self.path) if self.path else None, "name": self.name}
            self._recovery.with_suffix(".info").write_text(json.dumps(info), encoding="utf-8")
            doc.save(self._bridge.graph, self._recovery)
        except (OSError, DocumentError):
            return False  # autosave is a safety net: never a reason to bother the user mid-edit
        took_ms = (time.monotonic() - start) * 1000
        self._timer.setInterval(max(AUTOSAVE_MS, round(took_ms * AUTOSAVE_SHARE)))
        return True

    def _hold_lock(self) -> None:
        if self._lock_fd is not None or fcntl is None:
            return
        fd = os.open(self._recovery.with_suffix(".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise
        self._lock_fd = fd

    def _release_lock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # closing the only descriptor drops the flock
            self._lock_fd = None

    def discard_recovery(self) -> None:
        if self._recovery is not None:
            # the copy goes first: released earlier, another launch could offer it meanwhile
            Recovery(self._recovery, None, "", 0).discard()
            self._release_lock()

    def close(self) -> None:
        """The window closes normally (saved or discarded): no recovery copy stays behind."""
        self._timer.stop()
        self.discard_recovery()

    # ---------------------------------------------------------------- recent files and folders

    def remember(self, path) -> None:
        if self._use_settings:
            files.add_recent_file(path)
            self.set_last_folder(Path(path).resolve().parent)

    def recent_files(self) -> list[str]:
        return files.recent_files() if self._use_settings else []

    def clear_recent_files(self) -> None:
        if self._use_settings:
            files.clear_recent_files()

    def last_folder(self) -> Path:
        """Where file dialogs start: the current file's folder, else the last one used."""
        if self.path is not None:
            return self.path.parent
        if self._use_settings:
            raw = files.settings().value("files/lastFolder")
            if isinstance(raw, str) and raw and Path(raw).is_dir():
                return Path(raw)
        return Path.home()

    def set_last_folder(self, folder) -> None:
        if self._use_settings:
            s = files.settings()
            s.setValue("files/lastFolder", str(folder))
            s.sync()

    def suggested_save_path(self) -> Path:
        """The current file, else a name from the document's title in the last folder."""
        if self.path is not None:
            return self.path
        return self.last_folder() / suggested_file_name(self._bridge.graph.meta.get("title"))
