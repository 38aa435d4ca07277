"""The main window driven through its real widgets, offscreen; every test checks the document."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QLineF, QMimeData, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication, QMessageBox

from engine import OPS, Graph
from engine.io.document import to_dict
from gui import style
from gui.shell import files
from gui.shell.main_window import MainWindow
from tests.qt_helpers import scene_matches, send_drop

pytestmark = pytest.mark.gui


@pytest.fixture
def win(qtbot):
    w = MainWindow()
    w.errors = []
    w.asked = []
    w.show_error = lambda title, text: w.errors.append(text)

    def ask():
        w.asked.append(True)
        return QMessageBox.Discard

    w.ask_unsaved = ask
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.ask_unsaved = lambda: QMessageBox.Discard  # teardown closes the window: never block


def labels_match(w) -> None:
    """The scene draws exactly the document, and every node's value and gradient label
    equal the engine's."""
    scene_matches(w.scene, w.document)
    g = w.document
    for n in g.nodes():
        item = w.scene.node_item(n)
        assert item is not None, n
        if isinstance(g.value(n), np.ndarray) and g.output_arity(n) > 1:  # a dataset: its shape
            assert item.value_text == "×".join(map(str, g.value(n).shape)), g.label(n)
            continue
        if isinstance(g.value(n), np.ndarray):  # an array: its numbers are what the node draws
            np.testing.assert_array_equal(item.tensor_value, g.value(n))
            if g.grad(n) is not None:
                np.testing.assert_array_equal(item.tensor_grad, g.grad(n))
            continue
        assert item.value_text == style.format_number(g.value(n)), g.label(n)
        assert item.grad_text == style.format_number(g.grad(n)), g.label(n)


def select(w, ref) -> int:
    n = w.document.resolve(ref)
    w.scene.select_nodes([n])
    return n


def menu_action(w, menu_title: str, text: str):
    """The QAction under a menu-bar menu, found the way a user finds it: by its text."""
    for top in w.menuBar().actions():
        if top.text().replace("&", "") == menu_title:
            for act in top.menu().actions():
                if act.text().replace("&", "").rstrip("…") == text:
                    return act
    raise AssertionError(f"no {menu_title} ▸ {text}")


def double_click(widget, pos):
    """Press, release, press, double-click, release: what a real double click delivers
    (QTest.mouseDClick alone does not reach QAbstractItemView's activation offscreen)."""
    p = QPointF(pos)
    g = widget.mapToGlobal(p)
    for kind in (QEvent.MouseButtonPress, QEvent.MouseButtonRelease, QEvent.MouseButtonPress,
                 QEvent.MouseButtonDblClick, QEvent.MouseButtonRelease):
        held = Qt.NoButton if kind == QEvent.MouseButtonRelease else Qt.LeftButton
        QApplication.sendEvent(widget, QMouseEvent(kind, p, g, Qt.LeftButton, held, Qt.NoModifier))


def edit_value(qtbot, w, text: str):
    edit = w.inspector.value_edit
    edit.setFocus()
    edit.selectAll()
    qtbot.keyClicks(edit, text)
    qtbot.keyClick(edit, Qt.Key_Return)


# ---------------------------------------------------------------------------- first look


def test_opens_on_the_fanout_example_already_evaluated(win):
    g = win.document
    a = g.resolve("a")
    assert g.grad(a) == 35
    assert win.scene.node_item(a).grad_text == "35"
    assert win.windowTitle() == "seed_fanout.json (example) — gradcanvas"
    labels_match(win)
    select(win, "a")
    assert "35" in win.inspector.grad_label.text()
    assert "20 + 15 = 35" in win.inspector.contrib_label.text()
    assert "used 2 times" in win.inspector.contrib_label.text()
    check = win.inspector.check_label.text()
    assert "✓" in check and "35" in check
    assert "e = " in win.output_label.text()


def test_view_fits_the_example(win, qtbot):
    """The example opens where its text reads: all of it when the canvas is big enough, else
    at the least readable zoom centred on the output (the rest a pan away)."""
    from gui.canvas.items import readable_zoom

    qtbot.wait(20)
    visible = win.view.mapToScene(win.view.viewport().rect()).boundingRect()
    out = win.scene.node_item(win.document.evaluated_output())
    assert visible.contains(out.sceneBoundingRect().center())
    assert win.view.zoom() >= readable_zoom(win.view.devicePixelRatioF(), margin=1.0) - 1e-9  # text >= 7 px
    win.resize(1500, 900)
    qtbot.wait(20)
    win.view.show_document_readably()
    visible = win.view.mapToScene(win.view.viewport().rect()).boundingRect()
    for n in win.document.nodes():
        assert visible.contains(win.scene.node_item(n).sceneBoundingRect().center())


def test_palette_lists_number_and_every_op_with_tooltips(win):
    # one entry per row of the table, whatever the table's order
    assert sorted(win.palette.ops()) == sorted(OPS) and len(win.palette.ops()) == len(OPS)
    for op in win.palette.ops():
        item = win.palette.item_for(op)
        assert item.toolTip()
        if op != "number":
            assert OPS[op].doc in item.toolTip()
    win.palette.filter.setText("tan")
    assert win.palette.visible_ops() == ["tanh"]
    win.palette.filter.clear()
    assert sorted(win.palette.visible_ops()) == sorted(OPS)


def test_palette_mime_data_carries_the_op_name(win):
    data = win.palette.mime_for("mul")
    assert bytes(data.data(win.view.MIME_OP)).decode() == "mul"
    assert win.view.MIME_OP == "application/x-gradcanvas-op"


def test_every_action_has_a_tooltip(win):
    for act in win.findChildren(type(win.act_undo)):
        if act.text() and not act.isSeparator() and act.menu() is None and act.data() is None:
            assert act.toolTip(), act.text()


# ---------------------------------------------------------------------------- adding nodes


def _drop(view, data: QMimeData, scene_point: QPointF):
    return send_drop(view, data, view.mapFromScene(scene_point))


def test_palette_drop_creates_a_node_at_the_drop_point(win):
    before = set(win.document.nodes())
    target = win.view.mapToScene(QPoint(60, 60))
    _drop(win.view, win.palette.mime_for("tanh"), target)
    new = set(win.document.nodes()) - before
    assert len(new) == 1
    n = new.pop()
    assert win.document.op(n) == "tanh"
    x, y = win.document.position(n)
    # the drop point lies on the new node (corner or centre, as the view places it)
    assert x - 1 <= target.x() <= x + style.NODE_W + 1
    assert y - 1 <= target.y() <= y + style.NODE_H + 1
    assert win.scene.node_item(n) is not None


def test_double_click_on_palette_entry_adds_near_the_view_centre_over_no_node(win, qtbot):
    lst = win.palette.list
    item = win.palette.item_for("sin")
    rect = lst.visualItemRect(item)
    before = set(win.document.nodes())
    double_click(lst.viewport(), rect.center())
    new = set(win.document.nodes()) - before
    assert len(new) == 1
    n = new.pop()
    assert win.document.op(n) == "sin"
    centre = win.view_centre()
    it = win.scene.node_item(n)
    body = it.mapRectToScene(it.body_rect())
    # the example fills the view's centre: the new node goes to the nearest free spot
    assert QLineF(body.center(), centre).length() < 4 * style.NODE_W
    for m in before:
        other = win.scene.node_item(m)
        assert not body.intersects(other.mapRectToScene(other.body_rect())), m
    assert win.scene.selected_node_ids() == [n]
    assert win.windowTitle().startswith("seed_fanout.json (example)*")


def test_enter_in_palette_filter_adds_first_match(win, qtbot):
    before = len(win.document)
    win.palette.filter.setText("sigm")
    qtbot.keyClick(win.palette.filter, Qt.Key_Return)
    assert len(win.document) == before + 1
    assert win.document.op(win.scene.selected_node_ids()[0]) == "sigmoid"


# ---------------------------------------------------------------------------- inspector


def test_value_edit_in_inspector_reevaluates_every_label(win, qtbot):
    a = select(win, "a")
    edit_value(qtbot, win, "5")
    g = win.document
    assert g.number(a) == 5
    assert g.value("e") == (5 * 4 + 3) * (5 + 2)
    assert g.grad(a) == 8 * 5 + 11
    labels_match(win)
    assert "51" in win.inspector.grad_label.text()
    assert "28 + 23 = 51" in win.inspector.contrib_label.text()


def test_bad_value_text_is_refused_with_a_message(win, qtbot):
    a = select(win, "a")
    edit_value(qtbot, win, "abc")
    assert win.document.number(a) == 3
    assert win.inspector.error_label.isVisible()
    assert "'abc' is a name, not a value" in win.inspector.error_label.text()


def test_rename_through_inspector_and_duplicate_name_refused(win, qtbot):
    a = select(win, "a")
    edit = win.inspector.name_edit
    edit.setFocus()
    edit.selectAll()
    qtbot.keyClicks(edit, "b")
    qtbot.keyClick(edit, Qt.Key_Return)
    assert win.document.name(a) == "a"
    assert "already used" in win.inspector.error_label.text()
    edit.selectAll()
    qtbot.keyClicks(edit, "alpha")
    qtbot.keyClick(edit, Qt.Key_Return)
    assert win.document.name(a) == "alpha"
    assert not win.inspector.error_label.isVisible()
    assert win.scene.node_item(a).name == "alpha"


def test_scrubbing_is_one_undo_step(win):
    a = select(win, "a")
    slider = win.inspector.scrub
    count = win.undo_stack.count()
    slider.setSliderDown(True)
    for tick in (10, 25, 40):
        slider.setValue(tick)
    slider.setSliderDown(False)
    g = win.document
    assert g.number(a) == pytest.approx(3 + 40 * 5 / 100)
    assert win.undo_stack.count() == count + 1
    assert slider.value() == 0
    labels_match(win)
    win.act_undo.trigger()
    assert g.number(a) == 3


def test_finite_difference_check_follows_edits_and_waits_on_big_documents(win, qtbot):
    select(win, "a")
    edit_value(qtbot, win, "5")
    assert "✓" in win.inspector.check_label.text() and "51" in win.inspector.check_label.text()
    from engine import Value
    from gui.panels.inspector import LIVE_CHECK_NODES

    # Just past the live-check limit (4 nodes a level). Each level adds its own input back, so
    # every wire joins neighbours: wires from x to every level would make the test about routing
    # hundreds of long wires (seconds of painting), not about the check.
    x = Value(0.5, name="x")
    y = x
    for _ in range(LIVE_CHECK_NODES // 4 + 1):
        y = (y * 1.001).tanh() + y
    big = y.graph()
    assert len(big) > LIVE_CHECK_NODES
    win.controller.set_document(big)
    select(win, "x")
    assert win.inspector.check_button.isVisible()
    assert "press Check" in win.inspector.check_label.text()
    win.inspector.check_button.click()
    assert "✓" in win.inspector.check_label.text()


def test_save_failure_is_reported_and_keeps_the_star(win, qtbot, tmp_path):
    select(win, "a")
    edit_value(qtbot, win, "4")
    assert not win.save_file(tmp_path / "no" / "such" / "dir.json")
    assert win.errors and "*" in win.windowTitle()
    assert win.path is None


def test_inspector_shows_problems_and_op_nodes(win):
    n = win.add_at_view_centre("log")
    assert win.scene.selected_node_ids() == [n]
    assert win.inspector.problem_label.isVisible()
    assert "connected" in win.inspector.problem_label.text()
    assert "log" in win.inspector.op_label.text()
    assert not win.inspector.value_edit.isVisible()


def test_inspector_with_nothing_selected_shows_the_lesson(win):
    win.scene.select_nodes([])
    assert "Fan-out" in win.inspector.title.text()
    assert "35" in win.inspector.hint.text()


# ---------------------------------------------------------------------------- menus


def test_set_as_output_via_graph_menu(win):
    b = select(win, "b")
    menu_action(win, "Graph", "Pin Selected as Output").trigger()
    g = win.document
    assert g.output == g.pinned_output == b
    assert g.grad("a") == 4
    assert win.output_label.text().startswith("output b = 12 (pinned)")
    labels_match(win)
    menu_action(win, "Graph", "Output Follows the Graph").trigger()
    assert g.pinned_output is None and g.output == g.resolve("e") and g.grad("a") == 35
    assert win.output_label.text().startswith("output e = 75 (automatic)")
    menu_action(win, "Edit", "Undo").trigger()  # pinned again
    assert g.pinned_output == b and g.grad("a") == 4
    menu_action(win, "Edit", "Undo").trigger()
    assert g.output == g.resolve("e") and g.pinned_output is None
    assert g.grad("a") == 35


def test_undo_redo_through_the_edit_menu(win, qtbot):
    a = select(win, "a")
    edit_value(qtbot, win, "7")
    g = win.document
    assert g.number(a) == 7
    menu_action(win, "Edit", "Undo").trigger()
    assert g.number(a) == 3
    labels_match(win)
    menu_action(win, "Edit", "Redo").trigger()
    assert g.number(a) == 7
    labels_match(win)
    assert [k.toString() for k in win.act_redo.shortcuts()] == ["Ctrl+Shift+Z", "Ctrl+Y"]


def test_delete_copy_paste_duplicate_select_all(win):
    g = win.document
    n0 = len(g)
    select(win, "a")
    assert menu_action(win, "Edit", "Delete").isEnabled()
    menu_action(win, "Edit", "Delete").trigger()
    assert "a" not in g and len(g) == n0 - 1
    win.act_undo.trigger()
    assert g.grad("a") == 35
    win.scene.select_nodes([g.resolve("b"), g.resolve("a")])
    menu_action(win, "Edit", "Copy").trigger()
    new = win.paste()
    assert len(new) == 2 and len(g) == n0 + 2
    assert any(s in new and t in new for s, t, _ in g.edges())  # the wire between them came too
    win.act_undo.trigger()
    assert len(g) == n0
    select(win, "e")
    assert len(win.duplicate()) == 1 and len(g) == n0 + 1
    menu_action(win, "Edit", "Select All").trigger()
    assert sorted(win.scene.selected_node_ids()) == sorted(g.nodes())
    menu_action(win, "Edit", "Cut").trigger()
    assert len(g) == 0
    win.act_undo.trigger()
    assert len(g) == n0 + 1


def test_evaluate_reports_the_output(win, qtbot):
    with qtbot.waitSignal(win.bridge.evaluated):
        menu_action(win, "Graph", "Evaluate").trigger()
    assert win.statusBar().currentMessage() == "Evaluated: e = 75"
    labels_match(win)


def test_auto_layout_is_one_undo_step(win):
    g = win.document
    before = {n: g.position(n) for n in g.nodes()}
    win.controller.move_nodes({g.resolve("a"): (500.0, 500.0)})
    count = win.undo_stack.count()
    menu_action(win, "Graph", "Auto-Layout").trigger()
    assert win.undo_stack.count() == count + 1
    assert {n: g.position(n) for n in g.nodes()} == g.layout()
    win.act_undo.trigger()
    assert g.position("a") == (500.0, 500.0)
    assert {n: p for n, p in before.items() if n != g.resolve("a")} == {
        n: g.position(n) for n in g.nodes() if n != g.resolve("a")}


def test_view_menu_toggles_docks_and_wire_gradients(win):
    t = menu_action(win, "View", "Inspector")
    t.trigger()
    assert not win.inspector.isVisible()
    t.trigger()
    assert win.inspector.isVisible()
    h = menu_action(win, "View", "Undo history")
    h.trigger()
    assert win.history.isVisible()
    w = menu_action(win, "View", "Show Gradient on Wires")
    assert w.isChecked()
    w.trigger()
    assert not w.isChecked()
    assert files.settings().value("view/wireGradients") in (False, "false")


def test_help_lists_every_shortcut(win):
    rows = dict(win.shortcut_rows())
    assert rows["Undo"] == "Ctrl+Z"
    assert rows["Redo"] == "Ctrl+Shift+Z, Ctrl+Y"
    assert rows["Fit All"] == "F" and rows["Auto-Layout"] == "L"
    assert rows["Open"] == "Ctrl+O" and rows["Save As"] == "Ctrl+Shift+S" and rows["Quit"] == "Ctrl+Q"
    assert "Connect" in rows


def test_zoom_actions_change_the_view_scale(win):
    s0 = win.view.transform().m11()
    win.act_zoom_in.trigger()
    assert win.view.transform().m11() > s0
    win.act_zoom_out.trigger()
    win.act_zoom_out.trigger()
    assert win.view.transform().m11() < s0


# ---------------------------------------------------------------------------- files


def test_title_star_after_edit_gone_after_save_and_after_undo(win, qtbot, tmp_path):
    assert "*" not in win.windowTitle()
    select(win, "a")
    edit_value(qtbot, win, "4")
    assert win.windowTitle() == "seed_fanout.json (example)* — gradcanvas"
    win.act_undo.trigger()
    assert "*" not in win.windowTitle()
    win.act_redo.trigger()
    assert "*" in win.windowTitle()
    path = tmp_path / "fan.json"
    assert win.save_file(path)
    assert win.windowTitle() == "fan.json — gradcanvas"
    win.act_undo.trigger()
    assert win.windowTitle() == "fan.json* — gradcanvas"


def test_save_then_open_round_trips(win, qtbot, tmp_path):
    select(win, "a")
    edit_value(qtbot, win, "2.5")
    saved = to_dict(win.document)
    path = tmp_path / "doc.json"
    win.ask_save_path = lambda: str(path)
    menu_action(win, "File", "Save").trigger()  # no path yet: asks where
    assert path.is_file() and win.path == path.resolve()
    assert win.new_document()
    assert len(win.document) == 0 and win.windowTitle() == "Untitled — gradcanvas"
    assert win.open_file(path)
    assert to_dict(win.document) == saved
    assert win.document.grad("a") == 8 * 2.5 + 11
    labels_match(win)
    assert win.windowTitle() == "doc.json — gradcanvas"


def test_malformed_file_leaves_document_untouched_and_shows_message(win, tmp_path):
    before = to_dict(win.document)
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "gradcanvas", "version": 1, "nodes": [{"id": 1, "op": "nope"}]}')
    assert not win.open_file(bad)
    assert to_dict(win.document) == before
    assert win.errors and "bad.json" in win.errors[-1] and "nope" in win.errors[-1]
    assert not win.open_file(tmp_path / "missing.json")
    assert to_dict(win.document) == before and len(win.errors) == 2
    (tmp_path / "junk.json").write_text("{not json")
    assert not win.open_file(tmp_path / "junk.json")
    assert to_dict(win.document) == before
    labels_match(win)


def test_unsaved_prompt_cancel_keeps_discard_proceeds(win, qtbot):
    select(win, "a")
    edit_value(qtbot, win, "9")
    before = to_dict(win.document)
    win.ask_unsaved = lambda: QMessageBox.Cancel
    assert not win.new_document()
    assert to_dict(win.document) == before
    win.close()
    assert win.isVisible()
    assert to_dict(win.document) == before
    win.ask_unsaved = lambda: QMessageBox.Discard
    menu_action(win, "File", "New").trigger()
    assert len(win.document) == 0
    assert "*" not in win.windowTitle()


def test_unsaved_prompt_save_saves_first(win, qtbot, tmp_path):
    select(win, "a")
    edit_value(qtbot, win, "6")
    path = tmp_path / "kept.json"
    win.ask_unsaved = lambda: QMessageBox.Save
    win.ask_save_path = lambda: str(path)
    assert win.new_document()
    assert Graph.load(path).number("a") == 6
    # a cancelled save dialog cancels the whole thing
    win.add_at_view_centre("number")
    win.ask_save_path = lambda: None
    assert not win.new_document()
    assert len(win.document) == 1


def test_unchanged_document_asks_nothing(win):
    win.asked.clear()
    assert win.new_document()
    assert win.asked == []


def test_recent_files_update_and_open(win, qtbot, tmp_path):
    p1, p2 = tmp_path / "one.json", tmp_path / "two.json"
    assert win.save_file(p1)
    win.document.set_value("a", 1.0)  # direct engine edit only to make the files differ
    assert win.save_file(p2)
    assert files.recent_files()[:2] == [str(p2.resolve()), str(p1.resolve())]
    win._fill_recent_menu()
    acts = win.recent_actions()
    assert [a.data() for a in acts][:2] == [str(p2.resolve()), str(p1.resolve())]
    acts[1].trigger()
    assert win.path == p1.resolve()
    assert win.document.number("a") == 3
    assert files.recent_files()[0] == str(p1.resolve())


def test_examples_menu_opens_each_example(win):
    acts = win.example_actions()
    examples = files.examples()
    assert len(acts) == len(examples) >= 1
    for act, (title, path) in zip(acts, examples):
        assert act.text() == title
        act.trigger()
        assert to_dict(win.document) == to_dict(files.load_document(path))
        assert win.windowTitle() == f"{path.name} (example) — gradcanvas"
        assert win.path is None
        labels_match(win)


def test_export_png_and_svg(win, tmp_path):
    for suffix in (".png", ".svg"):
        out = tmp_path / f"pic{suffix}"
        win.ask_export_path = lambda s, out=out: str(out)
        menu_action(win, "File", f"Export {suffix[1:].upper()}").trigger()
        assert out.is_file() and out.stat().st_size > 100
    assert not win.export_picture(tmp_path / "pic.gif")
    assert "png or .svg" in win.errors[-1]


def test_window_state_is_saved_and_restored(qtbot):
    w = MainWindow()
    qtbot.addWidget(w)
    w.resize(700, 500)  # the offscreen screen is 800x600; restoreGeometry keeps windows on it
    w.show()
    w.inspector.hide()
    w.close()
    w2 = MainWindow()
    qtbot.addWidget(w2)
    w2.show()
    assert (w2.width(), w2.height()) == (700, 500)
    assert not w2.inspector.isVisible()


def test_show_opens_a_window_on_a_value(qtbot):
    from engine import Value
    from gui.shell.app import show

    a = Value(2.0, name="a")
    w = show(a * a + a)
    qtbot.addWidget(w)
    assert w.document.grad("a") == 5
    assert w.isVisible()
    json.dumps(to_dict(w.document))


# ---------------------------------------------------------------------------- launching


def test_display_problem_lines(monkeypatch):
    from gui.shell import app

    assert app.display_problem({}) == app.NO_DISPLAY_MESSAGE
    assert app.display_problem({"QT_QPA_PLATFORM": "offscreen"}) is None
    assert app.display_problem({"WAYLAND_DISPLAY": "wayland-0"}) is None
    assert app.display_problem({"QT_QPA_PLATFORM": "xcb"}) == app.NO_DISPLAY_MESSAGE
    monkeypatch.setattr(app, "_missing_libraries", lambda: ["xcb-cursor"])
    monkeypatch.setattr(app, "_xcb_probe", lambda: "qt.qpa.plugin: Could not load the Qt platform plugin")
    line = app.display_problem({"DISPLAY": ":0"})
    assert line == app.XCB_MESSAGE and "libxcb-cursor0" in line and "\n" not in line
    monkeypatch.setattr(app, "_xcb_probe", lambda: None)  # the libraries were there after all
    assert app.display_problem({"DISPLAY": ":0"}) is None
    monkeypatch.setattr(app, "_missing_libraries", lambda: [])
    monkeypatch.setattr(app, "_display_reachable", lambda d: True)
    assert app.display_problem({"DISPLAY": ":0"}) is None
    monkeypatch.setattr(app, "_display_reachable", lambda d: False)
    monkeypatch.setattr(app, "_xcb_probe", lambda: "qt.qpa.xcb: could not connect to display :77")
    assert app.display_problem({"DISPLAY": ":77"}) == app.NO_SERVER_MESSAGE.format(display=":77")


def test_display_reachable_looks_for_the_server(tmp_path):
    from gui.shell import app

    assert not app._display_reachable(":98765")
    assert not app._display_reachable("nonsense")
    assert not app._display_reachable("127.0.0.1:59")  # port 6059: nothing listens


def test_run_refuses_a_bad_file_with_one_line(tmp_path, capsys):
    from gui.shell.app import run

    bad = tmp_path / "bad.json"
    bad.write_text("[]")
    assert run(str(bad)) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("gradcanvas: ")


def test_run_opens_the_file_and_returns_when_closed(qtbot, tmp_path, monkeypatch):
    from gui.shell import app as app_module

    path = tmp_path / "doc.json"
    files.builtin_document().save(path)
    seen = {}

    class App:
        """Stands in for QApplication.exec: a second event loop in the test process would
        leave Qt's quit-on-last-window machinery primed for later tests."""

        def exec(self):
            for w in QApplication.topLevelWidgets():
                if isinstance(w, MainWindow) and w.isVisible() and w.path == path.resolve():
                    seen["title"] = w.windowTitle()
                    seen["grad"] = w.document.grad("a")
                    seen["experiment"] = hasattr(w, "experiment")
                    w.close()
            return 0

    monkeypatch.setattr(app_module, "_make_app", lambda argv=None: (App(), False))
    assert app_module.run(str(path)) == 0
    assert seen == {"title": "doc.json — gradcanvas", "grad": 35, "experiment": True}
    assert files.recent_files()[0] == str(path.resolve())
