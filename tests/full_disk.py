"""A folder on a disk that can be made full, for tests of writes that must fail cleanly.

Where the test may mount file systems (root, as CI runs), the folder is a small tmpfs and
:meth:`FullDisk.fill` really fills it: every later write fails with ENOSPC wherever it happens
(Python, Qt, Pillow, or the ffmpeg process). Elsewhere the failure is injected where a full
disk shows itself last: flushing a written file to disk (``engine.io.atomic.sync_file``).
"""

from __future__ import annotations

import errno
import os
import subprocess
from pathlib import Path

SIZE = "2m"


class FullDisk:
    def __init__(self, folder: Path, monkeypatch):
        self.folder = folder
        self._monkeypatch = monkeypatch
        self.mounted = False

    def mount(self) -> None:
        self.folder.mkdir()
        if os.name == "posix" and hasattr(os, "geteuid") and os.geteuid() == 0:
            r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={SIZE}", "tmpfs", str(self.folder)],
                               capture_output=True)  # fmt: skip
            self.mounted = r.returncode == 0

    def fill(self) -> None:
        """From now on nothing more fits (the files already there stay)."""
        if self.mounted:
            with open(self.folder / "filler", "wb", buffering=0) as f:
                for size in (65536, 512, 1):  # big blocks, then the last few bytes
                    try:
                        while True:
                            f.write(b"\0" * size)
                    except OSError as e:
                        assert e.errno == errno.ENOSPC
            return
        from engine.io import atomic

        real = atomic.sync_file
        folder = str(self.folder)

        def full(path):
            if os.path.realpath(path).startswith(os.path.realpath(folder)):
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            real(path)

        self._monkeypatch.setattr(atomic, "sync_file", full)

    def files(self) -> list[str]:
        """What the folder holds, the filler left out (temporary files would show here)."""
        return sorted(p for p in os.listdir(self.folder) if p != "filler")

    def unmount(self) -> None:
        if self.mounted:
            subprocess.run(["umount", "-l", str(self.folder)], capture_output=True)
            self.mounted = False
