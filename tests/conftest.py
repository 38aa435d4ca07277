"""Shared test set-up: Qt runs offscreen, Hypothesis never times out on a noisy machine."""

import os
import sys

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from hypothesis import HealthCheck, settings  # noqa: E402

import gui  # noqa: E402,F401  (pins None's refcount before any Qt call: see gui/_compat.py)

settings.register_profile(
    "gradcanvas",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    # CI must judge the code, not the luck of the draw: the same examples on every run there.
    derandomize=bool(os.environ.get("CI")),
    print_blob=True,
)
settings.load_profile("gradcanvas")


@pytest.fixture(autouse=True)
def _no_python_clipboard_left():
    """PySide6 crashes at exit (or at garbage collection) while the clipboard still holds a
    QMimeData made in Python; copy tests leave one. Clear it after every test that used Qt."""
    yield
    if "PySide6.QtWidgets" in sys.modules:
        from PySide6.QtWidgets import QApplication

        if QApplication.instance() is not None:
            QApplication.clipboard().clear()


@pytest.fixture(autouse=True)
def _private_settings(request):
    """GUI tests keep settings (recent files, window state) in a temporary directory, never
    in the home directory. Headless tests load no Qt, so they skip this."""
    if "gui.shell.files" not in sys.modules:
        yield
        return
    from PySide6.QtCore import QSettings

    from gui.shell import files

    folder = request.getfixturevalue("tmp_path") / "settings"
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder))
    files.clear_recent_files()
    yield
