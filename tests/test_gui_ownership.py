"""The window owns its document (issue 7, item 1): the bugs of a shared Graph, reproduced.

Before: ``MainWindow(document=g)`` edited the caller's ``g``; an edit made on it from the script
then broke undo (a NodeNotFoundError inside QUndoCommand.undo, a node resurrected by redo, a
value silently overwritten) and one paste sequence crashed the process. pytest-qt fails a test
on any exception raised inside a Qt virtual such as ``QUndoCommand.undo``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from engine import Graph, NodeNotFoundError
from gui.shell.main_window import MainWindow

pytestmark = pytest.mark.gui
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def make(qtbot):
    def make(g):
        w = MainWindow(document=g, use_settings=False, experiments=False)
        w.ask_unsaved = lambda: QMessageBox.Discard
        qtbot.addWidget(w)
        w.show()
        qtbot.waitExposed(w)
        return w

    return make


def test_the_window_edits_its_own_copy_and_the_script_reads_the_result(make):
    g = Graph.from_expression("(a*4+3)*(a+2)", a=3)
    w = make(g)
    assert w.document is not g
    n = w.controller.add_node("number", (500.0, 0.0), value=7.0, name="extra")
    assert w.controller.set_value("a", 1.0)
    assert "extra" not in g and g.number("a") == 3.0  # the caller's graph is untouched
    assert w.document.number("a") == 1.0 and w.document.number(n) == 7.0
    assert w.document.grad("a") == 4 * (1 + 2) + (4 * 1 + 3)


def test_removing_a_node_from_the_callers_graph_does_not_reach_the_window(make):
    g = Graph.from_expression("a*b", a=2, b=3)
    w = make(g)
    n = w.controller.add_node("number", (300.0, 0.0), value=1.0)
    with pytest.raises(NodeNotFoundError):
        g.remove_node(n)  # that node exists in the window's document only
    g.remove_node("a")
    assert "a" in w.document
    w.undo_stack.undo()
    assert n not in w.document.nx
    w.undo_stack.redo()
    assert n in w.document.nx


def test_direct_edit_then_undo_neither_raises_nor_resurrects(make):
    w = make(Graph.from_expression("a*b", a=2, b=3))
    doc = w.document
    n = w.controller.add_node("number", (300.0, 0.0), value=1.0)
    assert w.undo_stack.canUndo()
    doc.remove_node(n)  # behind the undo stack's back
    assert not w.undo_stack.canUndo() and not w.undo_stack.canRedo()
    assert "outside the canvas" in w.statusBar().currentMessage()
    w.act_undo.trigger()
    w.act_redo.trigger()
    assert n not in doc.nx and len(doc) == 3
    assert w.is_modified()  # the document differs from the file even though the history is gone


def test_direct_set_value_is_not_overwritten_by_undo(make, qtbot):
    w = make(Graph.from_expression("a*b", a=2, b=3))
    doc = w.document
    assert w.controller.set_value("a", 5.0)
    doc.set_value("a", 9.0)
    w.undo_stack.undo()
    assert doc.number("a") == 9.0
    qtbot.waitUntil(lambda: w.scene.node_item(doc.resolve("a")).grad_text == "3")  # labels follow


def test_show_works_on_a_copy_and_returns_the_window(qtbot):
    from gui.shell.app import show

    g = Graph.from_expression("x*x", x=3)
    w = show(g)
    qtbot.addWidget(w)
    w.ask_unsaved = lambda: QMessageBox.Discard
    w.controller.set_value("x", 4.0)
    assert g.number("x") == 3.0 and w.document.number("x") == 4.0


_PASTE_SEQUENCE = textwrap.dedent(
    """
    import os, sys
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    sys.path.insert(0, {root!r})
    import gui
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication
    from engine import Graph, GraphError
    from gui.shell.app import _make_app
    from gui.shell.main_window import MainWindow

    app, _ = _make_app()
    g = Graph.from_expression("(a*4+3)*(a+2)", a=3)
    g.apply_layout()
    w = MainWindow(document=g, use_settings=False)
    w.show()
    app.processEvents()
    w.view.setFocus()
    before = len(w.document)  # not len(g): when the window shared g, the paste grew g too
    for key in (Qt.Key_A, Qt.Key_C, Qt.Key_V):
        QTest.keyClick(w.view, key, Qt.ControlModifier)
        app.processEvents()
    pasted = w.scene.selected_node_ids()
    assert len(pasted) == before, pasted
    try:  # the caller's graph: the pasted node is not there (when it was shared, it was)
        g.remove_node(pasted[0])
        reached = True
    except GraphError:
        reached = False
    w.document.remove_node(pasted[-1])
    w.undo_stack.undo(); w.undo_stack.redo(); w.undo_stack.undo()  # the sequence that crashed
    app.processEvents()
    print(len(g), len(w.document), len(w.scene.node_items()), reached)
    from PySide6.QtWidgets import QMessageBox
    w.ask_unsaved = lambda: QMessageBox.Discard
    w.close()
    app.clipboard().clear()
    """
)


def test_the_paste_remove_undo_sequence_does_not_crash(tmp_path):
    script = tmp_path / "sequence.py"
    script.write_text(_PASTE_SEQUENCE.format(root=str(ROOT)))
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(tmp_path / "config"))
    r = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60, env=env)
    # The crash this is named after: the process died in the undo/redo after the edits made
    # behind the window's back (SIGSEGV, returncode -11, before the window owned a copy).
    assert r.returncode == 0, f"the sequence crashed or failed: returncode {r.returncode}\n{r.stderr[-2000:]}"
    original, nodes, items, reached = r.stdout.split()
    # the caller's graph never had the pasted node; the window: the nodes, their pasted copies,
    # less the one removed from the script (undo no longer reaches past that edit), and the
    # canvas shows exactly the document
    assert reached == "False", "the window shares the caller's graph"
    assert int(nodes) == int(items) == 2 * int(original) - 1, r.stdout


def test_keys_reach_the_canvas_in_process_too(make, qtbot):
    # The same sequence in-process, so a failure shows a traceback rather than an exit code.
    g = Graph.from_expression("(a*4+3)*(a+2)", a=3)
    w = make(g)
    w.view.setFocus()
    for key in (Qt.Key_A, Qt.Key_C, Qt.Key_V):
        qtbot.keyClick(w.view, key, Qt.ControlModifier)
    pasted = w.scene.selected_node_ids()
    assert len(pasted) == len(g)
    w.document.remove_node(pasted[-1])
    w.undo_stack.undo()
    w.undo_stack.redo()
    w.undo_stack.undo()
    assert len(w.document) == 2 * len(g) - 1
    assert sorted(w.scene.node_items()) == sorted(w.document.nodes())
