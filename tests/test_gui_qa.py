"""Regressions found by driving the app in a real X window (Xvfb + xdotool), replayed offscreen
through the same widgets a user touches. Each test names the gesture that went wrong."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication, QMessageBox

from gui.shell import files
from gui.shell.main_window import MainWindow
from tests.qt_helpers import drag, drop_mime

pytestmark = pytest.mark.gui


@pytest.fixture
def win(qtbot):
    w = MainWindow(use_settings=False)
    w.errors = []
    w.asked = []
    w.show_error = lambda title, text: w.errors.append(text)

    def ask():
        w.asked.append(True)
        return QMessageBox.Cancel

    w.ask_unsaved = ask
    qtbot.addWidget(w)
    w.resize(1300, 800)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.experiment.step.stop()
    w.ask_unsaved = lambda: QMessageBox.Discard  # teardown closes the window: never block


def double_click(widget, pos):
    """What a real double click delivers: press, release, press, double-click, release."""
    p = QPointF(pos)
    g = widget.mapToGlobal(p)
    for kind in (QEvent.MouseButtonPress, QEvent.MouseButtonRelease, QEvent.MouseButtonPress,
                 QEvent.MouseButtonDblClick, QEvent.MouseButtonRelease):
        held = Qt.NoButton if kind == QEvent.MouseButtonRelease else Qt.LeftButton
        QApplication.sendEvent(widget, QMouseEvent(kind, p, g, Qt.LeftButton, held, Qt.NoModifier))


def _modify(w):
    assert w.controller.add_node("number", (600.0, 600.0)) is not None
    assert w.is_modified()


# ---------------------------------------------------------------------------- examples gallery


@pytest.mark.parametrize("gesture", ["double-click", "enter"])
def test_gallery_opens_the_chosen_example_once(qtbot, win, gesture):
    """Double-clicking (or pressing Enter on) an example in Help ▸ Examples asked twice about
    unsaved changes: the list's doubleClicked and activated signals both accepted the dialog."""
    _modify(win)
    before = len(win.document)
    win.experiment.act_examples.trigger()
    dlg = win.experiment.gallery_dialog
    assert dlg is not None
    finished = []
    dlg.finished.connect(finished.append)
    item = dlg.list.item(1)
    dlg.list.setCurrentItem(item)
    if gesture == "double-click":
        double_click(dlg.list.viewport(), dlg.list.visualItemRect(item).center())
    else:
        dlg.list.setFocus()
        qtbot.keyClick(dlg.list, Qt.Key_Return)
    QApplication.processEvents()
    assert len(finished) == 1
    assert win.asked == [True]  # one prompt; the user cancelled it
    assert len(win.document) == before and win.is_modified()


# ---------------------------------------------------------------------------- wiring


def _status(w) -> str:
    return w.statusBar().currentMessage()


def test_wire_dropped_on_a_node_body_goes_to_its_first_free_input(win):
    """Dropping a wire on a node's body (not exactly on the little port circle) did nothing,
    silently: it now connects the node's first free input."""
    g = win.document
    a = g.resolve("a")
    t = win.controller.add_node("add", (400.0, 400.0))
    win.controller.connect(g.resolve("b"), t, 0)
    win.view.fit_all()
    body = win.scene.node_item(t).sceneBoundingRect().center()
    body = QPointF(body.x() + 10, body.y() + 10)
    drag(win.view, win.scene.node_item(a).output_port_pos(), body)
    assert g.inputs(t) == [g.resolve("b"), a]
    assert g.value(t) == g.value("b") + g.value("a")


def test_wire_dropped_on_a_node_without_free_input_says_why(win):
    g = win.document
    before = sorted(g.edges())
    b = win.scene.node_item(g.resolve("b")).sceneBoundingRect().center()
    drag(win.view, win.scene.node_item(6).output_port_pos(), QPointF(b.x() + 10, b.y() + 10))
    assert sorted(g.edges()) == before
    assert "no free input" in _status(win) and "b" in _status(win)


# ---------------------------------------------------------------------------- keyboard focus


def _focus_palette(qtbot, w):
    with qtbot.waitActive(w):
        w.activateWindow()
    w.palette.list.setFocus()
    assert w.palette.list.hasFocus()


def test_delete_right_after_a_palette_drop_deletes_the_dropped_node(qtbot, win):
    """A real drag from the palette left the keyboard focus in the palette: the dropped node
    was selected, but Delete (and every canvas key) did nothing until the canvas was clicked."""
    _focus_palette(qtbot, win)
    before = len(win.document)
    assert drop_mime(win.view, win.view.MIME_OP, b"exp", (900.0, 900.0))
    (n,) = win.scene.selected_node_ids()
    assert win.document.op(n) == "exp" and len(win.document) == before + 1
    assert win.view.hasFocus()
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key_Delete)
    assert n not in win.document.nx and len(win.document) == before


def test_canvas_keys_act_on_a_node_added_by_double_clicking_the_palette(qtbot, win):
    _focus_palette(qtbot, win)
    before = len(win.document)
    item = win.palette.item_for("sin")
    double_click(win.palette.list.viewport(), win.palette.list.visualItemRect(item).center())
    (n,) = win.scene.selected_node_ids()
    assert win.document.op(n) == "sin"
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key_D, Qt.ControlModifier)
    assert len(win.document) == before + 2


def test_typing_in_the_palette_filter_keeps_the_focus_there(qtbot, win):
    with qtbot.waitActive(win):
        win.activateWindow()
    win.palette.filter.setFocus()
    qtbot.keyClicks(win.palette.filter, "sigm")
    qtbot.keyClick(win.palette.filter, Qt.Key_Return)
    assert win.palette.filter.hasFocus()
    qtbot.keyClick(win.palette.filter, Qt.Key_Backspace)  # edits the filter, deletes nothing
    assert win.palette.filter.text() == "sig"
    assert win.document.op(win.scene.selected_node_ids()[0]) == "sigmoid"


# ---------------------------------------------------------------------------- undo history


def test_a_scrub_is_one_undo_step_named_after_the_value_it_ended_on(qtbot, win):
    """Scrubbing a value merged into one undo step whose text kept the first value of the
    scrub ("Set a = 3.05" with a at 4.8): Edit ▸ Undo and the history named the wrong value."""
    a = win.document.resolve("a")
    win.scene.select_nodes([a])
    win.inspector.refresh()
    scrub = win.inspector.scrub
    before = win.undo_stack.count()
    scrub.setSliderDown(True)  # sliderPressed, as a press on the handle
    for tick in range(1, 40, 7):
        scrub.setValue(tick)
    scrub.setSliderDown(False)
    end = win.document.number(a)
    assert end != 3
    assert win.undo_stack.count() == before + 1
    assert win.undo_stack.undoText() == f"Set a = {end:g}"
    win.undo_stack.undo()
    assert win.document.number(a) == 3


# ---------------------------------------------------------------------------- inspector


def test_inspector_accounts_for_every_use_it_counts(win):
    """With a third use of a that leads nowhere, the inspector's title said "(3 uses)" but
    listed two rows and no word about the third."""
    g = win.document
    a = g.resolve("a")
    t = win.controller.add_node("tanh", (0.0, 500.0))
    assert win.controller.connect(a, t, 0)
    win.scene.select_nodes([a])
    win.inspector.refresh()
    assert "(3 uses)" in win.inspector.contrib_title.text()
    text = win.inspector.contrib_label.text()
    assert "20 + 15 = 35" in text and "reaches the output through 2 uses" in text
    assert "1 more use with no path to the output" in text


# ---------------------------------------------------------------------------- launch


def test_the_launched_window_asks_to_be_active(qtbot, tmp_path, monkeypatch):
    """Under Xvfb (no window manager) nothing activated the window: Tab, F or Delete did
    nothing until the first click. run() now activates it before the event loop starts."""
    from gui.shell import app as app_module

    path = tmp_path / "doc.json"
    files.builtin_document().save(path)
    activated = []
    monkeypatch.setattr(MainWindow, "activateWindow", lambda self: activated.append(self))
    seen = {}

    class App:  # stands in for QApplication.exec (see test_gui_window)
        def exec(self):
            for w in QApplication.topLevelWidgets():
                if isinstance(w, MainWindow) and w.isVisible() and w.path == path.resolve():
                    seen["active"] = w in activated
                    w.ask_unsaved = lambda: QMessageBox.Discard
                    w.close()
            return 0

    monkeypatch.setattr(app_module, "_make_app", lambda argv=None: (App(), False))
    assert app_module.run(str(path)) == 0
    assert seen == {"active": True}
