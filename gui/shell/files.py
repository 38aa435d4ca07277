"""Where documents come from and go to: settings, recent files, bundled examples.

Settings always use the INI format under Qt's user scope, so a test can redirect every read
and write with ``QSettings.setPath(QSettings.IniFormat, QSettings.UserScope, tmpdir)``.
"""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import QSettings

import resources
from engine import DocumentError, Graph, Value

ORGANISATION = "gradcanvas"
APPLICATION = "gradcanvas"
MAX_RECENT = 8
DEFAULT_EXAMPLE = "seed_fanout"
DOCUMENT_FILTER = "gradcanvas documents (*.json);;All files (*)"


def settings() -> QSettings:
    """The application's settings store (INI, user scope)."""
    return QSettings(QSettings.IniFormat, QSettings.UserScope, ORGANISATION, APPLICATION)


# ---------------------------------------------------------------------------- recent files


def _as_list(raw) -> list[str]:
    # QSettings hands back a str for a one-element list and None for an empty one.
    if raw is None:
        return []
    if isinstance(raw, str):
        return [raw] if raw else []
    return [str(p) for p in raw if p]


def recent_files() -> list[str]:
    """Recently opened or saved documents, newest first, only those that still exist."""
    return [p for p in _as_list(settings().value("recentFiles")) if Path(p).is_file()]


def add_recent_file(path) -> list[str]:
    """Move ``path`` to the front of the recent list; returns the new list."""
    p = str(Path(path).resolve())
    paths = [p] + [q for q in _as_list(settings().value("recentFiles")) if q != p]
    paths = paths[:MAX_RECENT]
    s = settings()
    s.setValue("recentFiles", paths)
    s.sync()
    return paths


def clear_recent_files() -> None:
    s = settings()
    s.remove("recentFiles")
    s.sync()


# ---------------------------------------------------------------------------- examples


def load_document(path) -> Graph:
    """Load and validate a document; every failure is a DocumentError naming the problem."""
    from engine.io import document

    return document.load(path)


def _peek(path) -> dict | None:
    """The file's top-level JSON object if it looks like a gradcanvas document, else None.
    Lenient on purpose: a menu label is no reason to validate a whole document."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return None
    if isinstance(data, dict) and data.get("format") == "gradcanvas":
        return data
    return None


def example_title(path) -> str:
    """The document's "title" when it has one, else a title made from the file name."""
    p = Path(path)
    data = _peek(p)
    title = data.get("title") if data is not None else None
    if isinstance(title, str) and title.strip():
        return title.strip()
    return p.stem.replace("_", " ").capitalize()


def examples() -> list[tuple[str, Path]]:
    """Every bundled example document as (title, path) in teaching order: the gallery's own
    order and titles (engine.learn.gallery, "A chain" first, as Help ▸ Examples shows them),
    then any other bundled document by file name. JSON files in the examples folder that are
    not documents (the gallery's catalogue) are left out."""
    found = {p.resolve(): p for p in resources.examples() if _peek(p) is not None}
    out = []
    try:
        from engine.learn.gallery import gallery

        for e in gallery():
            p = found.pop(e.path.resolve(), None)
            if p is not None:
                out.append((e.title, p))
    except DocumentError:  # no readable catalogue: every document, by file name
        pass
    out.extend((example_title(p), p) for p in sorted(found.values()))
    return out


def seed_fanout_graph() -> Graph:
    """The seed notebook's fan-out lesson, built with the eager API:
    e = (a*4 + 3) * (a + 2) at a = 3, so a is used twice and a.grad = 20 + 15 = 35."""
    a = Value(3.0, name="a")
    e = (a * 4 + 3) * (a + 2)
    e.name = "e"
    g = e.graph()
    g.meta["title"] = "Fan-out: a value used twice"
    return g


def builtin_document() -> Graph:
    """The document a first-time user sees: the bundled seed_fanout example, or the same
    graph built in code when the bundled file is missing or unreadable."""
    path = resources.example_path(DEFAULT_EXAMPLE)
    if path.is_file():
        try:
            return load_document(path)
        except DocumentError:
            pass
    return seed_fanout_graph()


def example_training(path) -> dict | None:
    """The gallery's training run for the example at ``path`` (its "train" settings), or None
    (not a bundled training example, or an unreadable gallery)."""
    from engine import DocumentError
    from engine.learn.gallery import gallery

    p = Path(path)
    try:
        entries = gallery()
    except DocumentError:
        return None
    for e in entries:
        if e.train and e.file == p.name and e.path.resolve() == p.resolve():
            return dict(e.train)
    return None
