"""Step-through that builds the sum: what each node's own rows show at every step of the
backward pass (and of the forward pass before it), the wires' labels, the highlight, the view
following the step, and the speed slider. Checked against the engine's steps."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QMessageBox

from engine import Graph
from engine.learn.stepper import forward_state_after, forward_steps, state_after
from gui.canvas.items import SLOT_EMPTY
from gui.learn.experiment import install
from gui.learn.stepper import BACKWARD, FORWARD, MIN_INTERVAL_MS, SPEED_STEPS, speed_interval
from gui.shell.main_window import MainWindow
from gui.style import format_number

pytestmark = pytest.mark.gui


@pytest.fixture
def win(qtbot):
    w = MainWindow(use_settings=False)
    w.ask_unsaved = lambda: QMessageBox.Discard
    exp = install(w)
    qtbot.addWidget(w)
    w.resize(1300, 800)
    w.show()
    qtbot.waitExposed(w)
    yield w
    exp.step.stop()


def rows(w):
    return {n: (it.shown_value(), it.shown_grad()) for n, it in w.scene.node_items().items()}


def test_step_zero_shows_no_gradient_but_the_outputs_seed(win):
    exp, g = win.experiment, win.document
    exp.act_step_mode.trigger()
    out = g.output_node()
    shown = rows(win)
    assert shown[out][1] == "1"
    for n, (value, grad) in shown.items():
        assert value == format_number(g.value(n))  # the forward pass is done: values are known
        if n != out:
            assert grad == SLOT_EMPTY, g.label(n)  # not "35": nothing gives the answer away
    # the a.grad = 35 of the finished pass is nowhere on the canvas yet
    win.view.viewport().repaint()
    texts = [t for it in win.scene.node_items().values() for t in it.painted_texts]
    assert "1" in texts and "3" in texts  # drawn: the seed and a's value
    assert "35" not in texts


def test_every_backward_step_shows_partial_sums_on_the_nodes(win):
    exp, g = win.experiment, win.document
    steps = g.steps()
    exp.act_step_mode.trigger()
    a = g.resolve("a")
    seen_a = []
    for k in range(0, len(steps) + 1):
        exp.step.go_to(k)
        s = state_after(steps, k)
        for n, (_value, grad) in rows(win).items():
            if n in s.grads:
                assert grad == format_number(s.grads[n]), (k, g.label(n))
                it = win.scene.node_item(n)
                assert it.step_grad_final == (n in s.processed or (k == 0 and n == steps[0][0]))
            else:
                assert grad == SLOT_EMPTY, (k, g.label(n))
        seen_a.append(rows(win)[a][1])
        # wires: only what has been sent so far carries an amount (earlier steps on the wire's
        # own label, the current step on the accent overlay)
        sent_before = {(src, node, port) for node, _g, sends in steps[: max(0, k - 1)]
                       for port, src, *_ in sends}
        labelled = {key for key, w in win.scene.wire_items().items() if w.grad_text is not None}
        assert labelled == sent_before
        current = {("wire", src, s.node, port) for port, src, *_ in s.sends}
        assert {key for key in exp.step.labels() if key[0] == "wire"} == current
    # a's slot: empty, then the first term, then the sum 35: the sum visibly grows
    grown = [t for t in seen_a if t != SLOT_EMPTY]
    assert seen_a[0] == SLOT_EMPTY and grown[-1] == "35" and len(set(grown)) >= 2
    exp.step.stop()
    # leaving step mode puts the engine's numbers back
    for n, (value, grad) in rows(win).items():
        assert grad == format_number(g.grad(n)) and value == format_number(g.value(n))


def test_the_processed_node_is_highlighted_and_kept_in_view(win, qtbot):
    exp, g = win.experiment, win.document
    steps = g.steps()
    # put the node the first step processes far outside the view
    first = steps[0][0]
    x, y = g.position(first)
    assert win.controller.move_nodes({first: (x + 3000.0, y + 2000.0)})
    win.view.centerOn(0, 0)
    view = win.view

    def in_view(n):
        seen = view.mapToScene(view.viewport().rect()).boundingRect()
        return seen.contains(win.scene.node_item(n).sceneBoundingRect())

    assert not in_view(first)
    exp.act_step_mode.trigger()  # step 0: the output holds its seed; the view goes there
    assert exp.step.highlighted == first and in_view(first)
    for k in range(1, len(steps) + 1):
        exp.act_step_forward.trigger()
        node = steps[k - 1][0]
        assert exp.step.highlighted == node
        assert win.scene.node_item(node).highlight
        assert in_view(node), (k, g.label(node))


def test_forward_pass_values_appear_in_topological_order_then_backward(win):
    exp, g = win.experiment, win.document
    fsteps = forward_steps(g)
    order = [n for n, _v, _i in fsteps]
    assert len(order) == len(g.steps())
    exp.act_step_forward_pass.trigger()
    assert exp.step.active and exp.step.phase == FORWARD and exp.step.forward_k == 0
    assert exp.step_label.text().strip() == f"fwd 0/{len(order)}"
    assert all(v == SLOT_EMPTY and gr == SLOT_EMPTY for v, gr in rows(win).values())
    pos = {n: i for i, n in enumerate(order)}
    for j in range(1, len(order) + 1):
        exp.act_step_forward.trigger()
        f = forward_state_after(fsteps, j)
        assert exp.step.highlighted == f.node
        for n, (value, grad) in rows(win).items():
            assert grad == SLOT_EMPTY
            assert value == (format_number(g.value(n)) if pos[n] < j else SLOT_EMPTY)
        # each input of the node being computed brings its value along the wire
        for port, src, value in f.inputs:
            assert pos[src] < pos[f.node]  # topological: inputs are computed first
            assert exp.step.labels()[("wire", src, f.node, port)] == f"{format_number(value)} →"
    assert "Forward pass done" in exp.step.describe()
    exp.act_step_forward.trigger()  # on into the backward pass, at its step 0
    assert exp.step.phase == BACKWARD and exp.step.k == 0
    assert rows(win)[g.output_node()][1] == "1"
    exp.act_step_back.trigger()  # and back into the forward pass's end
    assert exp.step.phase == FORWARD and exp.step.forward_k == len(order)


def test_play_runs_both_passes_and_speed_goes_from_slow_to_fast(win, qtbot):
    exp = win.experiment
    assert speed_interval(1) >= 3000 and speed_interval(SPEED_STEPS) == MIN_INTERVAL_MS
    intervals = [speed_interval(p) for p in range(1, SPEED_STEPS + 1)]
    assert intervals == sorted(intervals, reverse=True)
    exp.speed.setValue(1)
    assert exp.step.interval >= 3000 and "s per step" in exp.speed.toolTip()
    exp.speed.setValue(SPEED_STEPS)
    exp.act_step_forward_pass.trigger()
    exp.act_play.trigger()
    qtbot.waitUntil(lambda: exp.step.phase == BACKWARD, timeout=5000)
    qtbot.waitUntil(lambda: exp.step.k == exp.step.total and not exp.step.playing, timeout=5000)


def test_an_edit_during_step_mode_restores_the_engine_rows(win):
    exp, g = win.experiment, win.document
    exp.act_step_mode.trigger()
    exp.act_step_forward.trigger()
    assert win.controller.set_value("a", 4.0)
    assert not exp.step.active
    for n, (value, grad) in rows(win).items():
        assert grad == format_number(g.grad(n)) and value == format_number(g.value(n))


def test_stepping_a_graph_with_an_unreached_node(win):
    g = Graph.from_expression("y = a * b\nz = a + 1\ny", a=2, b=3)
    win.controller.set_document(g)
    exp = win.experiment
    exp.act_step_mode.trigger()
    exp.step.to_end()
    z = g.resolve("z")
    # z has no path to the output: it keeps the engine's "—", not an empty slot
    assert rows(win)[z][1] == format_number(None)
