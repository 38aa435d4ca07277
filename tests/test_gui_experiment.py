"""The experiment tools (gui.learn.experiment.install) driven through their actions and widgets,
offscreen. Each test checks what is shown against the engine."""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QGuiApplication, QImage, QKeySequence
from PySide6.QtWidgets import QApplication, QMessageBox

from engine import Graph
from engine.core.arrays import to_jsonable
from engine.io.export import to_python
from engine.io.parse import parse_program
from engine.learn.descent import plan_descent
from engine.learn.forward_mode import tangents
from engine.learn.gallery import gallery
from gui.canvas.overlays import TagItem
from gui.learn.experiment import install
from gui.learn.fdcheck import BAD, OK
from gui.learn.stepper import growth_text
from gui.learn.tangents import short
from gui.shell.main_window import MainWindow
from gui.style import format_number
from tests.oracles import examples
from tests.strategies import graphs

pytestmark = pytest.mark.gui


@pytest.fixture
def win(qtbot):
    w = MainWindow(use_settings=False)
    w.errors = []
    w.show_error = lambda title, text: w.errors.append(text)
    w.ask_unsaved = lambda: QMessageBox.Discard
    exp = install(w)
    qtbot.addWidget(w)
    w.resize(1300, 800)
    w.show()
    qtbot.waitExposed(w)
    assert w.experiment is exp and install(w) is exp  # idempotent
    yield w
    exp.step.stop()


def tags(w) -> list[TagItem]:
    return [it for it in w.scene.items() if isinstance(it, TagItem)]


def replace(w, graph):
    w.controller.set_document(graph)
    w.undo_stack.setClean()
    return graph


# ------------------------------------------------------------------------------ step mode


def check_step_state(w, k):
    """Highlight, wire labels and growing sums are exactly what the engine's steps say."""
    exp, g = w.experiment, w.document
    steps = g.steps()
    assert exp.step.k == k
    assert exp.step_label.text().strip() == f"{k}/{len(steps)}"
    current = steps[0][0] if k == 0 else steps[k - 1][0]
    assert exp.step.highlighted == current
    for n, item in w.scene.node_items().items():
        assert item.highlight == (n == current), g.label(n)
    labels = exp.step.labels()
    if k == 0:
        assert labels[("node", current, "above")] == "seed: gradient 1"
        return
    node, grad, sends = steps[k - 1]
    assert labels[("node", node, "above")] == f"processing: gradient {format_number(grad)}"
    wires = {key for key in labels if key[0] == "wire"}
    assert wires == {("wire", src, node, port) for port, src, *_ in sends}
    by_src = {}
    for port, src, amount, before, after in sends:
        assert labels[("wire", src, node, port)] == f"← {format_number(amount)}"
        first = by_src.setdefault(src, [before, [], after])
        first[1].append(amount)
        first[2] = after
    for src, (before, amounts, after) in by_src.items():
        assert labels[("node", src, "below")] == growth_text(before, amounts, after)
    # Every label is drawn on the canvas, above the nodes, unless there is no free place near
    # what it belongs to (nodes piled on each other): then it is left out, never drawn over one.
    shown = {it.text for it in tags(w) if it.isVisible()}
    left_out = w.experiment.step.overlay.unplaced()
    assert {t for k, t in labels.items() if k not in left_out} <= shown


def test_step_forward_and_back_follow_the_engine_at_every_step(win):
    exp, g = win.experiment, win.document
    steps = g.steps()
    assert len(steps) == 8  # the seed example: every node once
    win.scene.set_show_wire_grads(True)
    exp.act_step_mode.trigger()
    assert exp.step.active and exp.act_step_mode.isChecked()
    assert not win.scene.show_wire_grads  # final amounts would give the answer away
    check_step_state(win, 0)
    for k in range(1, len(steps) + 1):
        exp.act_step_forward.trigger()
        check_step_state(win, k)
    # the fan-out: at some step a's sum grows 15 + 20 = 35 (or 20 + 15, by order)
    texts = []
    exp.act_step_start.trigger()
    a = g.resolve("a")
    for _ in steps:
        exp.act_step_forward.trigger()
        texts.append(exp.step.labels().get(("node", a, "below")))
    assert any(t in ("15 + 20 = 35", "20 + 15 = 35") for t in texts)
    exp.act_step_end.trigger()
    check_step_state(win, len(steps))
    for k in range(len(steps) - 1, -1, -1):
        exp.act_step_back.trigger()
        check_step_state(win, k)
    exp.act_step_mode.trigger()
    assert not exp.step.active and not tags(win)
    assert win.scene.show_wire_grads
    assert not any(it.highlight for it in win.scene.node_items().values())


def test_step_shortcuts(win, qtbot):
    exp = win.experiment
    with qtbot.waitActive(win):
        win.activateWindow()
    win.view.setFocus()
    qtbot.keyClick(win.view, Qt.Key.Key_F10)  # F10 outside step mode starts it
    assert exp.step.active and exp.step.k == 0
    qtbot.keyClick(win.view, Qt.Key.Key_F10)
    qtbot.keyClick(win.view, Qt.Key.Key_F10)
    assert exp.step.k == 2
    qtbot.keyClick(win.view, Qt.Key.Key_F10, Qt.KeyboardModifier.ShiftModifier)
    assert exp.step.k == 1
    qtbot.keyClick(win.view, Qt.Key.Key_End)
    assert exp.step.k == exp.step.total
    qtbot.keyClick(win.view, Qt.Key.Key_Home)
    assert exp.step.k == 0


def test_play_runs_to_the_end_and_stops(win, qtbot):
    exp = win.experiment
    exp.speed.setValue(20)  # 50 ms per step
    assert exp.step.interval == 50
    exp.act_play.trigger()
    assert exp.step.active and exp.step.playing and exp.act_play.text() == "&Pause"
    qtbot.waitUntil(lambda: exp.step.k == exp.step.total and not exp.step.playing, timeout=5000)
    assert exp.act_play.text() == "&Play"
    check_step_state(win, exp.step.total)
    exp.act_play.trigger()  # at the end: plays again from the start
    assert exp.step.playing
    exp.act_play.trigger()
    assert not exp.step.playing


def test_editing_leaves_step_mode_moving_does_not(win):
    exp, g = win.experiment, win.document
    exp.act_step_mode.trigger()
    exp.act_step_forward.trigger()
    exp.act_step_forward.trigger()
    n = exp.step.highlighted
    x, y = g.position(n)
    assert win.controller.move_nodes({n: (x + 40, y + 20)})
    assert exp.step.active and exp.step.k == 2
    label = next(it for it in tags(win) if it.text.startswith("processing"))
    rect = win.scene.node_item(n).mapRectToScene(win.scene.node_item(n).body_rect())
    assert abs(label.pos().x() - rect.center().x()) < 1e-6  # the label followed the node
    assert win.controller.set_value("a", 4.0)
    assert not exp.step.active
    assert not exp.act_step_mode.isChecked()
    assert not tags(win)
    assert not any(it.highlight for it in win.scene.node_items().values())
    assert "edited" in win.statusBar().currentMessage()
    # a document swap ends it too, and the new document can be stepped
    exp.act_step_mode.trigger()
    replace(win, Graph.from_expression("x*x", x=3))
    assert not exp.step.active
    exp.act_step_mode.trigger()
    assert exp.step.active and exp.step.total == 2


def _no_value_output():
    """p, q and p + (nothing): the output (the sink with the most ancestors) has no value."""
    g = Graph()
    p = g.add_number(1.0, name="p")
    g.add_number(2.0, name="q")
    s = g.add_op("add", name="s")
    g.connect(p, s, 0)
    return g



def test_step_mode_refuses_without_an_output(win):
    exp = win.experiment
    replace(win, Graph())
    exp.act_step_mode.trigger()
    assert not exp.step.active and not exp.act_step_mode.isChecked()
    assert "no output" in win.statusBar().currentMessage()


# ------------------------------------------------------------------------------ chain rule


def test_chain_rule_names_both_terms_and_the_sum(win, qtbot):
    exp, g = win.experiment, win.document
    view = exp.explain_dock.view
    assert exp.explain_dock.isVisible()
    win.scene.select_nodes([g.resolve("a")])
    text = view.text()
    assert "∂e/∂a" in text
    assert view.total.text() in ("∂e/∂a = 15 + 20 = 35", "∂e/∂a = 20 + 15 = 35")
    rows = view.term_texts()
    assert len(rows) == 2
    assert any("5 · 4 = 20" in r for r in rows) and any("15 · 1 = 15" in r for r in rows)
    # clicking a term selects that consumer
    row = next(i for i, r in enumerate(rows) if "= 20" in r)
    item = view.terms.item(row)
    consumer = g.consumers("a")
    target = next(c for c, _ in consumer if g.op(c) == "mul")
    qtbot.mouseClick(view.terms.viewport(), Qt.MouseButton.LeftButton,
                     pos=view.terms.visualItemRect(item).center())
    assert win.scene.selected_node_ids() == [target]
    assert view.explanation.node == target


def test_chain_rule_trivial_cases_in_words(win):
    exp, g = win.experiment, win.document
    view = exp.explain_dock.view
    win.scene.select_nodes([g.resolve("e")])
    assert "is the output" in view.text() and view.total.text() == ""
    lone = win.controller.add_node("number", (0, 400), 2.0, name="z")
    win.scene.select_nodes([lone])
    assert "no gradient" in view.text()
    win.scene.select_nodes([])
    assert "Select one node" in view.text()


# ------------------------------------------------------------------------------ gradient check


def test_check_marks_every_node_of_a_correct_graph(win):
    exp, g = win.experiment, win.document
    exp.act_check.trigger()
    for n in g.nodes():
        item = win.scene.node_item(n)
        assert item.badge == OK, g.label(n)
        assert "analytic" in item.badge_tip and "numeric" in item.badge_tip
    tip = win.scene.node_item(g.resolve("a")).badge_tip
    assert "35" in tip
    assert "8 of 8 nodes checked" in win.statusBar().currentMessage()
    win.controller.set_value("a", 2.0)  # an edit makes the marks stale: they go
    assert all(it.badge is None for it in win.scene.node_items().values())


def test_check_marks_a_mismatch(win):
    exp = win.experiment
    g = replace(win, Graph.from_expression("relu(x) * 2", x=0))
    exp.act_check.trigger()
    assert win.scene.node_item(g.resolve("x")).badge == BAD
    assert "mismatch" in win.statusBar().currentMessage()


# ------------------------------------------------------------------------------ forward mode


def test_forward_mode_shows_tangents_and_compares(win):
    exp, g = win.experiment, win.document
    a = g.resolve("a")
    win.scene.select_nodes([a])
    exp.act_forward.trigger()
    assert exp.forward.active and exp.forward.wrt == a
    want = tangents(g, a)
    for n, t in want.items():
        assert win.scene.node_item(n).extra == f"∂/∂a {format_number(t)}"
    out = g.output_node()
    assert want[out] == g.grad(a) == 35.0
    message = "forward mode: ∂e/∂a = 35 = reverse-mode a.grad ✓"
    assert exp.forward_label.text() == message and exp.forward_label.isVisible()
    assert message not in win.statusBar().currentMessage()  # said once, in the label
    # live: a value edit updates every tangent
    win.controller.set_value(a, 1.0)
    assert win.scene.node_item(out).extra == f"∂/∂a {format_number(g.grad(a))}"
    assert exp.forward_label.text().endswith("✓")
    # another input through the toolbar's chooser
    two = next(n for n in g.nodes() if g.op(n) == "number" and g.number(n) == 2.0)
    exp.forward_bar.choose(two)
    assert exp.forward.wrt == two
    assert win.scene.node_item(out).extra == f"∂/∂{short(g.label(two))} {format_number(g.grad(two))}"
    exp.act_forward.trigger()
    assert not exp.forward.active and not exp.forward_label.isVisible()
    assert all(it.extra is None for it in win.scene.node_items().values())


def test_forward_mode_ends_when_its_input_is_deleted(win):
    exp, g = win.experiment, win.document
    win.scene.select_nodes([g.resolve("a")])
    exp.act_forward.trigger()
    win.controller.remove_nodes([g.resolve("a")])
    assert not exp.forward.active and not exp.act_forward.isChecked()


# ------------------------------------------------------------------------------ descent


def test_descent_run_plots_and_one_undo_restores_every_value(win, qtbot):
    exp = win.experiment
    g = replace(win, Graph.from_expression("(x - 3)**2 + (y + 1)**2 + w*0", x=0, y=0, w=5))
    exp.act_descent_dock.trigger()
    assert exp.descent_dock.isVisible()
    panel = exp.descent_dock.panel
    names = [panel.trainable.item(i).text() for i in range(panel.trainable.count())]
    assert names[:3] == ["x = 0", "y = 0", "w = 5"]
    # default: the parameters only; x and y are named like inputs (see default_trainable)
    assert sorted(panel.chosen()) == [g.resolve("w")]
    panel.set_trainable([g.resolve("x"), g.resolve("y")])
    panel.lr.setValue(0.1)
    panel.steps.setValue(40)
    before = {n: g.number(n) for n in g.nodes() if g.op(n) == "number"}
    expected = plan_descent(g, steps=40, lr=0.1, trainable=[g.resolve("x"), g.resolve("y")])
    depth = win.undo_stack.count()
    with qtbot.waitSignal(panel.finished, timeout=5000):
        qtbot.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
        assert panel.running and not panel.run_button.isEnabled()
    assert panel.plot.history == expected.history
    assert g.number("x") == expected.final[g.resolve("x")] and abs(g.number("x") - 3) < 1e-3
    assert abs(g.number("y") + 1) < 1e-3 and g.number("w") == 5
    assert win.undo_stack.count() == depth + 1
    assert "40 steps" in panel.status.text()
    image = panel.plot.grab().toImage()
    colours = {image.pixel(x, y) for x in range(0, image.width(), 3) for y in range(0, image.height(), 3)}
    assert len(colours) > 3  # frame, curve, labels on the background
    win.undo_stack.undo()
    assert {n: g.number(n) for n in before} == before


def test_descent_maximize_and_refusals(win, qtbot):
    exp = win.experiment
    g = replace(win, Graph.from_expression("-(x - 1)**2", x=0))
    panel = exp.descent_dock.panel
    panel.animate = False
    panel.direction.setCurrentText("maximize")
    panel.lr.setValue(0.1)
    panel.steps.setValue(100)
    assert panel.run()
    assert abs(g.number("x") - 1) < 1e-6
    panel.set_trainable([])
    assert not panel.run() and "Tick" in panel.status.text()
    replace(win, _no_value_output())
    assert panel.trainable.count() == 2
    assert not panel.run() and "Cannot run descent" in panel.status.text()


def test_descent_not_applied_if_the_document_changes_meanwhile(win, qtbot):
    exp = win.experiment
    g = replace(win, Graph.from_expression("(x - 3)**2", x=0))
    panel = exp.descent_dock.panel
    panel.steps.setValue(30)
    panel.lr.setValue(0.1)
    assert panel.run() and panel.running
    win.controller.set_value("x", 1.0)
    with qtbot.waitSignal(panel.finished, timeout=3000, raising=False):
        pass
    qtbot.waitUntil(lambda: not panel.running, timeout=3000)
    assert g.number("x") == 1.0 and "not applied" in panel.status.text()


# ------------------------------------------------------------------------------ import / export


def test_import_program_builds_the_graph_and_shows_errors(win, qtbot):
    exp = win.experiment
    old = win.document
    old_nodes = old.to_dict()
    exp.act_import.trigger()
    dlg = exp.import_dialog
    assert dlg is not None and dlg.isVisible()
    dlg.set_program("c = a + \nc * 2", "a=1")
    assert not dlg.ok_button().isEnabled()
    assert dlg.error_position() is not None and "line 1, column" in dlg.message.text()
    dlg.set_program("a * b", "a=1, b=oops")
    assert "must be a number" in dlg.message.text() and not dlg.ok_button().isEnabled()
    micrograd_style = "from micrograd.engine import Value\na = Value(-4.0)\nb = (a * 2).relu()\nb.backward()"
    dlg.set_program(micrograd_style, "")
    assert dlg.ok_button().isEnabled() and "output b = 0" in dlg.message.text()
    dlg.set_program("a = Value(-4.0)\nb = a.b", "")
    assert "line 2, column 5" in dlg.message.text() and "x.relu()" in dlg.message.text()
    dlg.set_program("a * undefined_name", "a=1")
    assert "✗" in dlg.message.text()
    dlg.accept()  # refused: stays open, document untouched
    assert dlg.isVisible() and win.document is old and old.to_dict() == old_nodes
    dlg.set_program("c = a + b\nd = a*b + b**3\nc += c + 1\nc - d", "a=-4, b=2")
    assert dlg.ok_button().isEnabled() and "✓" in dlg.message.text()
    qtbot.mouseClick(dlg.ok_button(), Qt.MouseButton.LeftButton)
    want = parse_program("c = a + b\nd = a*b + b**3\nc += c + 1\nc - d", {"a": -4, "b": 2})
    g = win.document
    assert g is not old and len(g) == len(want)
    assert g.value(g.output_node()) == want.value(want.output_node())
    assert g.grad("a") == want.grad("a") and g.grad("b") == want.grad("b")
    assert win.path is None and not win.is_modified()


def test_the_lectures_neuron_cell_pasted_into_import_program(win, qtbot):
    from test_lecture import LECTURE_GRADS, NEURON_CELL_EXP, NEURON_LABELS

    exp = win.experiment
    exp.act_import.trigger()  # File > Import Program...
    dlg = exp.import_dialog
    # a cell of the lecture's manual backward pass: refused where it stops being a computation
    qtbot.mouseClick(dlg.editor.viewport(), Qt.MouseButton.LeftButton)
    qtbot.keyClicks(dlg.editor, "o = Value(2.0)")
    qtbot.keyClick(dlg.editor, Qt.Key.Key_Return)
    qtbot.keyClicks(dlg.editor, "o.grad = 1.0")
    assert dlg.editor.toPlainText() == "o = Value(2.0)\no.grad = 1.0"
    assert dlg.message.text().startswith("✗ line 2, column 3: setting o.grad is not allowed")
    assert not dlg.ok_button().isEnabled()
    # the neuron cell, pasted as it is in the notebook (labels, draw_dot and all)
    dlg.editor.selectAll()
    QGuiApplication.clipboard().setText(NEURON_CELL_EXP)
    qtbot.keyClick(dlg.editor, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    assert dlg.editor.toPlainText() == NEURON_CELL_EXP
    assert dlg.ok_button().isEnabled() and "output o = 0.7071" in dlg.message.text()
    qtbot.mouseClick(dlg.ok_button(), Qt.MouseButton.LeftButton)
    g = win.document
    assert NEURON_LABELS <= {g.name(n) for n in g.nodes()} and g.output_node() == g.resolve("o")
    for k, want in LECTURE_GRADS.items():  # the lecture's numbers, by hand in test_lecture
        assert abs(g.grad(k) - want) <= 1e-12, k
    shown = {win.scene.node_item(n).name for n in g.nodes()}
    assert NEURON_LABELS <= shown  # each node is drawn under its label


def test_import_program_can_add_to_the_document_as_one_undo_step(win, qtbot):
    exp = win.experiment
    g = win.document
    n0 = len(g)
    dlg = exp.open_import_dialog("u * v", "u=2 v=5")
    dlg.add_button.setChecked(True)
    dlg.accept()
    assert win.document is g and len(g) == n0 + 3
    assert g.value("u") == 2.0 and g.grad("a") == 35.0  # the output stays where it was
    win.undo_stack.undo()
    assert len(g) == n0


def test_cancel_import_changes_nothing(win):
    exp = win.experiment
    g = win.document
    dlg = exp.open_import_dialog("x + 1", "x=1")
    dlg.reject()
    assert win.document is g and len(g) == 8


def test_export_python_produces_code_that_runs(win, tmp_path):
    exp = win.experiment
    act = next(a for a in exp.export_menu.actions() if "Python" in a.text())
    exp.exports.ask_path = lambda kind: str(tmp_path / "seed.py")
    act.trigger()
    path = tmp_path / "seed.py"
    assert path.is_file() and exp.exports.last_path == path
    run = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert "output = 75" in run.stdout and "a.grad = 35" in run.stdout
    assert exp.exports.export("pytorch", tmp_path / "seed_torch.py")
    code = (tmp_path / "seed_torch.py").read_text()
    ast.parse(code)
    assert "import torch" in code
    assert exp.exports.act_copy_python.isEnabled()
    exp.exports.act_copy_python.trigger()
    assert QGuiApplication.clipboard().text() == to_python(win.document)


def test_export_refusal_is_reported_not_raised(win, tmp_path):
    exp = win.experiment
    replace(win, _no_value_output())
    assert not exp.exports.export("python", tmp_path / "x.py")
    assert win.errors and "Cannot export" in win.errors[-1]
    assert not (tmp_path / "x.py").exists()


# ------------------------------------------------------------------------------ examples


def test_examples_dialog_opens_each_example(win):
    exp = win.experiment
    entries = gallery()
    assert entries
    help_menu = win.menus["help"]
    assert exp.act_examples in help_menu.actions()
    for i, entry in enumerate(entries):
        exp.act_examples.trigger()
        dlg = exp.gallery_dialog
        assert dlg is not None and dlg.list.count() == len(entries)
        assert not dlg.problems
        item = dlg.list.item(i)
        assert entry.title in item.text() and entry.lesson in item.text()
        assert not item.icon().isNull()
        dlg.list.setCurrentRow(i)
        dlg.accept()
        want = entry.load()
        g = win.document
        assert len(g) == len(want)
        def plain(vals):  # arrays compare as nested lists (== on arrays is elementwise)
            return {n: to_jsonable(v) for n, v in vals.items()}

        assert plain(g.values()) == plain(want.values())
        assert not win.is_modified()


def test_the_gallery_draws_an_example_once_and_again_when_its_file_changes(qapp, tmp_path):
    import os

    from engine.io.document import save
    from gui.shell.gallery_dialog import THUMB, example_picture, render_thumbnail

    path = tmp_path / "example.json"
    save(Graph.from_expression("a*b", a=2, b=3), path)
    first = example_picture(path)
    assert first == render_thumbnail(Graph.load(path), THUMB, 1.0)[0]  # the same pixels as a fresh drawing
    assert example_picture(path) is first  # reopening the gallery draws nothing again
    save(Graph.from_expression("(a+b)*c", a=1, b=2, c=5), path)
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))  # a later version, whatever the clock
    second = example_picture(path)
    assert second != first and second == render_thumbnail(Graph.load(path), THUMB, 1.0)[0]


# ------------------------------------------------------------------------------ wiring


def test_menus_toolbar_and_unique_shortcuts(win):
    exp = win.experiment
    learn = win.menus["learn"]
    assert learn is not None
    for act in (exp.act_step_mode, exp.act_step_forward, exp.act_step_back, exp.act_play,
                exp.act_check, exp.act_forward, exp.act_descent_dock, exp.act_chain_dock):
        assert act in learn.actions()
    assert exp.act_import in win.menus["file"].actions()
    assert exp.exports.act_copy_python in win.menus["edit"].actions()
    seen = {}
    for act in win.findChildren(QAction):
        for key in act.shortcuts():
            text = key.toString(QKeySequence.SequenceFormat.PortableText)
            assert text not in seen or seen[text] is act, f"{text}: {seen.get(text)} and {act.text()}"
            seen[text] = act
    for key in ("F8", "F9", "F10", "Shift+F10", "F6", "F7", "Ctrl+I", "Ctrl+Shift+C"):
        assert key in seen


def test_tour_pictures(win, tmp_path):
    from benchmarks.readme_pictures import tour_pictures  # README tooling, not a runtime module

    step, descent = tour_pictures(tmp_path)
    for p in (step, descent):
        image = QImage(str(p))
        assert not image.isNull() and image.width() > 300
        colours = {image.pixel(x, y) for x in range(0, image.width(), 7) for y in range(0, image.height(), 7)}
        assert len(colours) > 10  # a drawing, not a blank


# ------------------------------------------------------------------------------ random documents


@settings(max_examples=examples(25), suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(graphs(max_ops=8))
def test_every_tool_on_random_documents(win, g):
    """Step mode shows each engine step, the chain rule adds up, check and forward mode run,
    whatever the document (NaN, inf, repeated inputs, unused nodes)."""
    exp = win.experiment
    replace(win, g)
    steps = g.steps()
    exp.act_step_mode.trigger()
    assert exp.step.active == bool(steps)
    for k in range(1, len(steps) + 1):
        exp.act_step_forward.trigger()
        check_step_state(win, k)
    exp.act_step_mode.trigger()
    assert not tags(win)
    for n in g.nodes():
        win.scene.select_nodes([n])
        ex = exp.explain_dock.view.explanation
        assert ex is not None and ex.node == n
        assert len(exp.explain_dock.view.term_texts()) == len(ex.terms) + len(ex.unused)
    exp.act_check.trigger()
    assert set(exp.check.marks) == set(g.nodes())
    number = next(n for n in g.nodes() if g.op(n) == "number")
    win.scene.select_nodes([number])
    exp.act_forward.trigger()
    assert exp.forward.wrt == number
    t = tangents(g, number)
    for n in g.nodes():
        assert win.scene.node_item(n).extra == f"∂/∂{short(g.label(number))} {format_number(t[n])}"
    exp.act_forward.trigger()
    assert not exp.forward.active


def test_tools_explain_why_they_cannot_run(win):
    exp = win.experiment
    replace(win, _no_value_output())
    exp.act_check.trigger()  # says why nothing can be checked: the real reason, not a guess
    msg = win.statusBar().currentMessage()
    assert "nothing could be checked" in msg
    assert "the output s has no value: input 'b' is not connected" in msg
    assert set(exp.check.marks.values()) == {"–"}
    replace(win, Graph())
    exp.act_forward.trigger()
    assert not exp.forward.active and not exp.act_forward.isChecked()
    assert "number node" in win.statusBar().currentMessage()


def test_a_closed_window_leaves_the_document_alone(qtbot):
    # The window works on its own copy: the caller's graph never gains a subscriber, and the
    # window's copy is heard by exactly one object (the bridge), which lets go when it closes.
    g = Graph.from_expression("(a*4+3)*(a+2)", a=3)
    w = MainWindow(g, use_settings=False)
    w.ask_unsaved = lambda: QMessageBox.Discard
    exp = install(w)
    exp.act_step_mode.trigger()
    exp.act_check.trigger()
    assert exp.step.active and exp.check.marks
    assert g._subscribers == []
    doc = w.document
    assert doc is not g and len(doc._subscribers) == 1
    w.close()
    w.deleteLater()
    qtbot.wait(10)
    QApplication.processEvents()
    assert doc._subscribers == []
    doc.set_value("a", 1.0)  # must not call into deleted tools
    assert doc.grad("a") == 19.0 and g.grad("a") == 35.0


def test_f6_toggles_the_check_marks(win, qtbot):
    # QA: the ✓ marks stayed through further F6 presses until the next edit.
    exp, g = win.experiment, win.document
    win.view.setFocus()
    qtbot.keyClick(win.view.viewport(), Qt.Key.Key_F6)
    assert exp.act_check.isChecked() and all(win.scene.node_item(n).badge == OK for n in g.nodes())
    qtbot.keyClick(win.view.viewport(), Qt.Key.Key_F6)
    assert not exp.act_check.isChecked()
    assert all(it.badge is None for it in win.scene.node_items().values())
    assert "removed" in win.statusBar().currentMessage()
    qtbot.keyClick(win.view.viewport(), Qt.Key.Key_F6)
    assert exp.act_check.isChecked() and exp.check.marks
    win.controller.set_value("a", 2.0)  # an edit removes the marks and the button shows it
    assert not exp.act_check.isChecked() and not exp.check.marks


def test_escape_leaves_step_mode_and_play_keeps_its_width(win, qtbot):
    exp = win.experiment
    win.show()
    qtbot.waitExposed(win)
    play = exp.toolbar.widgetForAction(exp.act_play)
    check = exp.toolbar.widgetForAction(exp.act_check)
    exp.act_step_mode.trigger()
    assert exp.step.active
    x_before, w_before = check.x(), play.width()
    exp.act_play.trigger()  # the face says "Pause" now
    QApplication.processEvents()
    assert exp.act_play.iconText() == "Pause"
    assert play.width() == w_before and check.x() == x_before  # nothing beside it jumps
    exp.act_play.trigger()
    win.view.setFocus()
    qtbot.keyClick(win.view.viewport(), Qt.Key.Key_Escape)
    assert not exp.step.active and not exp.act_step_mode.isChecked()
