"""Shared test set-up: Qt runs offscreen, Hypothesis never times out on a noisy machine."""

import os
import sys

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from hypothesis import HealthCheck, settings  # noqa: E402

import gui  # noqa: E402,F401  (pins None's refcount before any Qt call: see gui/_compat.py)
from tests.oracles import CI, require  # noqa: E402

settings.register_profile(
    "gradcanvas",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)
# CI=true: CI must judge the code, not the luck of the draw, so the same examples on every run
# and no example database to replay an old failure from; each @given test runs
# tests.oracles.examples(n) of them, half its size, so that the whole suite stays near three
# minutes on two cores with PyTorch installed (the README's test command, timed under CI=true).
settings.register_profile("ci", settings.get_profile("gradcanvas"), derandomize=True, database=None)
settings.load_profile("ci" if CI else "gradcanvas")


@pytest.fixture(scope="session")
def torch():
    """PyTorch, the float64 reference: skips the test where it is missing, fails it under CI=true."""
    return require("torch")


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
