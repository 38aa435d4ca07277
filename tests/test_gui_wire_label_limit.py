"""Past WIRE_LABEL_LIMIT nodes wires carry no gradient labels (they would not read at the zoom
such a document opens at, and placing them was a third of opening micrograd's MLP loss); the
window says so instead of leaving the user to wonder where they went."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox

from engine import Graph
from gui.canvas import scene as scene_module
from gui.shell.main_window import MainWindow


def _chain(n: int) -> Graph:
    g = Graph()
    prev = g.add_number(0.5, name="x")
    for k in range(n - 1):
        m = g.add_op("sin" if k % 2 else "cos")
        g.connect(prev, m, 0)
        prev = m
    g.set_output(prev)
    return g


def _window(qtbot, g):
    w = MainWindow(g, use_settings=False, experiments=False)
    w.ask_unsaved = lambda: QMessageBox.Discard
    qtbot.addWidget(w)
    return w


def test_a_small_document_shows_its_wire_labels(qtbot):
    w = _window(qtbot, _chain(20))
    assert w.act_wire_grads.isChecked() and not w.scene.wire_labels_limited
    texts = [wire.grad_text for wire in w.scene.wire_items().values()]
    assert all(t is not None for t in texts)


def test_past_the_limit_wires_carry_no_labels_and_the_status_bar_says_why(qtbot, monkeypatch):
    monkeypatch.setattr(scene_module, "WIRE_LABEL_LIMIT", 30)
    w = _window(qtbot, _chain(40))
    assert w.act_wire_grads.isChecked() and w.scene.wire_labels_limited
    assert all(wire.grad_text is None for wire in w.scene.wire_items().values())
    assert "Gradient on wires is drawn for documents up to" in w.statusBar().currentMessage()
    # the inspector still has every amount: the engine's contributions are untouched
    x = w.document.resolve("x")
    assert w.document.contributions(x)
