"""Write a file so that a failure leaves the old one: a temporary file in the same folder,
flushed to disk, then renamed over the target (a rename within one folder is atomic).

Documents, pictures and animations are all written this way: a full disk, a killed process
or a writer that raises leaves the previous file as it was and no partial file beside it.

>>> import os, tempfile
>>> p = os.path.join(tempfile.mkdtemp(), "a.txt")
>>> write_bytes(p, b"old")
>>> try:
...     with replacing(p) as tmp:
...         _ = open(tmp, "wb").write(b"half")
...         raise OSError("disk full")
... except OSError:
...     pass
>>> open(p, "rb").read(), sorted(os.listdir(os.path.dirname(p)))
(b'old', ['a.txt'])
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager


class WriteError(OSError):
    """A failed write as one sentence that names the file (``cannot write 'x.png': No space
    left on device``); ``errno`` is the OS's, when there was one."""

    def __str__(self) -> str:
        return self.strerror if isinstance(self.strerror, str) else super().__str__()


def write_error(path, e: BaseException, what: str = "write") -> WriteError:
    """``e`` (an OSError, MemoryError, ...) as a WriteError about ``path``; one that already
    is one is returned as it is."""
    if isinstance(e, WriteError):
        return e
    if isinstance(e, MemoryError):
        why = "not enough memory"
    else:
        why = e.strerror if isinstance(getattr(e, "strerror", None), str) else (str(e) or type(e).__name__)
    return WriteError(getattr(e, "errno", None), f"cannot {what} '{os.fspath(path)}': {why}")


def target_path(path) -> str:
    """The file a write to ``path`` replaces: symlinks followed, so writing through a link
    replaces what it points to rather than the link itself."""
    return os.path.realpath(os.fspath(path))


@contextmanager
def replacing(path, suffix: str = "") -> Iterator[str]:
    """Yield the path of a new empty temporary file in ``path``'s folder; write it, by any
    means (Python, Qt, Pillow, ffmpeg). When the block ends normally the file is flushed to
    disk, given the old file's permissions and renamed over ``path``; when it raises, the
    temporary file is removed and the exception goes on. ``suffix`` ends the temporary name
    (some writers pick their format by it: ``".mp4"``).

    Raises OSError when the temporary file cannot be made or the result cannot be kept."""
    target = target_path(path)
    directory = os.path.dirname(target) or "."
    prefix = "." + os.path.basename(target) + "."
    fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=".tmp" + suffix, dir=directory)
    os.close(fd)
    try:
        yield tmp
        sync_file(tmp)
        os.chmod(tmp, mode_for(target))
        os.replace(tmp, target)
    except BaseException:
        remove_quietly(tmp)
        raise
    sync_directory(directory)


def write_bytes(path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (see :func:`replacing`); OSError on failure."""
    with replacing(path) as tmp, open(tmp, "wb") as f:
        f.write(data)


def sync_file(path) -> None:
    """Flush a written file's data to the disk (a full disk can first say so here)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def mode_for(target: str) -> int:
    """Keep an existing file's permissions; a new file gets what open() would have given it
    (mkstemp makes it owner-only)."""
    try:
        return stat.S_IMODE(os.stat(target).st_mode)
    except OSError:
        return 0o666 & ~_umask()


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def sync_directory(directory: str) -> None:
    """Make a rename itself durable; best effort (not every platform can open a directory)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def remove_quietly(path) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


__all__ = [
    "WriteError", "remove_quietly", "replacing", "sync_directory", "sync_file", "target_path", "write_bytes",
    "write_error",
]
