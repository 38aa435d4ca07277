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
