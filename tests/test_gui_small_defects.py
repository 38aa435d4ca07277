"""Issue 13, point 9: the smaller defects seen in the first half hour of use, one test each,
driven through the widgets a user touches."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox

from gui.shell.main_window import MainWindow


@pytest.fixture
def win(qtbot):
    w = MainWindow()
    w.errors = []
    w.show_error = lambda title, text: w.errors.append(text)
    w.ask_unsaved = lambda: QMessageBox.Discard
    qtbot.addWidget(w)
    w.resize(1200, 800)
    w.show()
    qtbot.waitExposed(w)
    return w


# ------------------------------------------------------------------ Export Code's folder


def test_export_code_dialog_opens_in_the_last_folder_not_home(win, tmp_path, monkeypatch):
    asked = []
    answers = iter([tmp_path / "lessons" / f"{n}.py" for n in ("first", "second", "third")])

    def dialog(parent, title, start, filters):  # what the real dialog is given, then the user's pick
        asked.append(Path(start).parent)
        return str(next(answers)), filters

    (tmp_path / "lessons").mkdir()
    monkeypatch.setattr(QFileDialog, "getSaveFileName", dialog)
    act = win.experiment.exports.act_python  # File ▸ Export ▸ Python…
    act.trigger()
    assert (tmp_path / "lessons" / "first.py").is_file()
    act.trigger()  # the second export starts where the first one went, not in $HOME
    assert asked[1] == tmp_path / "lessons", asked
    # and a new window (same settings) starts there too: the folder is remembered
    other = MainWindow()
    other.experiment.exports.act_python.trigger()
    other.close()
    assert asked[2] == tmp_path / "lessons", asked


# ------------------------------------------------------------------ the step toolbar


def test_the_step_button_does_not_read_as_play(win):
    exp = win.experiment
    step = exp.toolbar.widgetForAction(exp.act_step_forward).text()
    play = exp.toolbar.widgetForAction(exp.act_play).text()
    assert step not in ("▶", "►", "⏵", "▷") and step != play
    assert "|" in step or "⏭" in step  # a triangle against a bar: one frame, not a run
    assert play == "Play"  # Play keeps its word


# ------------------------------------------------------------------ the search box


def test_search_box_says_no_match_and_stays_inside_a_small_canvas(win, qtbot):
    win.resize(600, 400)
    qtbot.waitUntil(lambda: win.width() == 600)
    qtbot.wait(20)
    vp = win.view.viewport()
    corner = QPoint(vp.width() - 5, vp.height() - 5)  # the mouse in the bottom-right corner
    win.view.open_search(corner)
    search = win.view.search
    assert search.isVisible()
    qtbot.keyClicks(search.edit, "zzqx")
    items = [search.list.item(i) for i in range(search.list.count())]
    shown = [it.text() for it in items if not it.isHidden()]
    assert len(shown) == 1 and "No op matches" in shown[0] and "zzqx" in shown[0]
    assert vp.rect().contains(search.geometry()), (search.geometry(), vp.rect())
    before = win.undo_stack.count()
    qtbot.keyClick(search.edit, Qt.Key_Return)  # Enter on "no match" adds nothing
    assert win.undo_stack.count() == before
