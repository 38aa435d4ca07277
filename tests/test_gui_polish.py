"""What a QA engineer saw in a real X window, each seen the way the user saw it, each fixed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QApplication, QMessageBox

from engine import Graph
from gui.learn.experiment import install
from gui.shell.main_window import MainWindow

pytestmark = pytest.mark.gui
EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "resources" / "examples").glob("*.json"))


def _window(qtbot, w=1280, h=800, graph=None):
    win = MainWindow(graph, use_settings=False)
    win.ask_unsaved = lambda: QMessageBox.Discard
    win.show_error = lambda title, text: None
    install(win)
    qtbot.addWidget(win)
    win.resize(w, h)
    win.show()
    qtbot.waitExposed(win)
    return win


@pytest.fixture
def win(qtbot):
    w = _window(qtbot)
    yield w
    w.experiment.step.stop()


def test_adding_a_number_does_not_ask_to_wire_its_inputs(win):
    win.add_at_view_centre("number")
    said = win.statusBar().currentMessage()
    assert "inputs" not in said and "value" in said
    win.add_at_view_centre("mul")
    assert "wire its inputs" in win.statusBar().currentMessage()


_DIALOGS = """
import os, sys
sys.path.insert(0, {root!r})
from PySide6.QtWidgets import QApplication
from gui.shell.main_window import MainWindow
from gui.shell.gallery_dialog import GalleryDialog
from gui.shell.import_dialog import ImportDialog
app = QApplication([])
w = MainWindow(use_settings=False)
w.show()
free = w.screen().availableGeometry()
print(free.width(), free.height())
for d in (GalleryDialog(w), ImportDialog(w)):
    d.show()
    app.processEvents()
    b = d.buttons.geometry()
    print(type(d).__name__, d.frameGeometry().width(), d.frameGeometry().height(), b.bottom(), d.height())
"""


@pytest.mark.parametrize("scale", ["1", "2"])
def test_dialogs_fit_the_screen_at_any_scale_factor(tmp_path, scale):
    # QA: at QT_SCALE_FACTOR=2 the Examples dialog was taller than the screen; Open and Cancel
    # were below its edge. The offscreen screen is 800x800 device pixels (400x400 logical at 2).
    import os
    import subprocess
    import sys

    script = tmp_path / "dialogs.py"
    script.write_text(_DIALOGS.format(root=str(Path(__file__).resolve().parents[1])))
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", QT_SCALE_FACTOR=scale)
    r = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60, env=env)
    assert r.returncode == 0, r.stderr[-2000:]
    lines = r.stdout.split("\n")
    free_w, free_h = map(int, lines[0].split())
    for line in lines[1:3]:
        name, w, h, buttons_bottom, inner_h = line.split()
        assert int(w) <= free_w and int(h) <= free_h, line
        assert int(buttons_bottom) < int(inner_h), line  # Open / OK and Cancel are on the screen
