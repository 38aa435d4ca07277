"""The Learn tools on instances, in the window (issue 14 point 4): the chain-rule dock treats an
instance as one factor with its local Jacobian and expands it into the inside's terms; step
mode steps over an instance (F10) or into it (F11) and out (Shift+F11); the gradient check,
forward mode and Descend work across instances.

Oracles: hand calculations with math.tanh, central finite differences, PyTorch float64.
"""

from __future__ import annotations

import math

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from engine import Graph
from gui.shell.main_window import MainWindow
from gui.style import format_number

pytestmark = pytest.mark.gui

SRC = """\
def neuron(x, w):
    b = 0.5
    return tanh(x * w + b)
def pair(a, c):
    return a * c, a + c
p, q = pair(neuron(x, w1), neuron(x, w2))
p * q + x
"""
X, W1, W2, B = 0.3, 0.7, -1.2, 0.5


def _window(graph) -> MainWindow:
    w = MainWindow(graph, use_settings=False)
    w.ask_unsaved = lambda: QMessageBox.StandardButton.Discard
    w.resize(1400, 900)
    w.show()
    w.experiment.descent_dock.panel.animate = False
    QApplication.processEvents()
    return w


@pytest.fixture
def win(qtbot):
    w = _window(Graph.from_expression(SRC, x=X, w1=W1, w2=W2))
    qtbot.addWidget(w)
    yield w
    w.close()


def _instances(g, name):
    return [n for n in g.nodes() if g.op(n) == "call" and g.node(n)["definition"] == name]


def _by_hand():
    """n1, n2, and dy/dn1 for y = (n1 n2)(n1 + n2) + x."""
    n1, n2 = math.tanh(X * W1 + B), math.tanh(X * W2 + B)
    return n1, n2, n2 * (n1 + n2) + n1 * n2


def _click(qtbot, view, row):
    item = view.terms.item(row)
    qtbot.mouseClick(view.terms.viewport(), Qt.MouseButton.LeftButton,
                     pos=view.terms.visualItemRect(item).center())


def test_an_instance_is_one_factor_and_expands_into_its_inside_terms(win, qtbot):
    g = win.document
    view = win.experiment.explain_dock.view
    win.scene.select_nodes([g.resolve("w1")])
    n1, _n2, dn1 = _by_hand()
    local = (1 - n1 * n1) * X  # d tanh(x w + b)/dw, by hand
    rows = view.term_texts()
    factor = next(i for i, r in enumerate(rows) if r.startswith("via neuron"))
    want = f"{format_number(dn1)} · {format_number(local)} = {format_number(dn1 * local)}"
    assert rows[factor].endswith(want)
    assert "▸ expand" in rows[factor + 1]
    _click(qtbot, view, factor + 1)  # expand: the inside's own terms appear under the factor
    rows = view.term_texts()
    assert "▾ collapse" in rows[factor + 1]
    inside = rows[factor + 2]
    # inside, w meets x in the mul: d(tanh)/d(mul) * x = dn1 (1 - n1^2) * x
    assert inside.strip().startswith("via neuron") and "/mul" in inside
    assert inside.endswith(f"{format_number(dn1 * (1 - n1 * n1))} · {format_number(X)} = "
                           f"{format_number(dn1 * local)}")
    _click(qtbot, view, factor + 1)  # and collapse again
    assert len(view.term_texts()) == len(rows) - 2
    assert view.terms.item(factor + 1).toolTip()


def test_a_selected_instance_shows_each_output_and_its_local_jacobian(win):
    g = win.document
    view = win.experiment.explain_dock.view
    (pair,) = _instances(g, "pair")
    win.scene.select_nodes([pair])
    n1, n2, _ = _by_hand()
    text = view.text()
    assert "2 outputs" in text
    # y = p q + x with p = a c, q = a + c: dy/dp = q, dy/dq = p (by hand)
    p, q = n1 * n2, n1 + n2
    total = view.total.text().splitlines()
    assert total[0].endswith(f"= {format_number(q)}") and total[1].endswith(f"= {format_number(p)}")
    # its Jacobian at a = n1, c = n2: d(ac)/da = c, d(ac)/dc = a, d(a+c)/d. = 1
    for line in (f"∂out1/∂a = {format_number(n2)}", f"∂out1/∂c = {format_number(n1)}",
                 "∂out2/∂a = 1", "∂out2/∂c = 1"):
        assert line in text


# ---------------------------------------------------------------------------- step-through


def _press(qtbot, win, key, shift=False):
    mod = Qt.KeyboardModifier.ShiftModifier if shift else Qt.KeyboardModifier.NoModifier
    qtbot.keyClick(win.view, key, mod)


def test_f10_steps_over_an_instance_and_f11_into_it_and_shift_f11_out(win, qtbot):
    g = win.document
    step = win.experiment.step
    with qtbot.waitActive(win):
        win.activateWindow()
    n1, n2, dn1 = _by_hand()
    (pair,) = _instances(g, "pair")
    _press(qtbot, win, Qt.Key.Key_F8)
    _press(qtbot, win, Qt.Key.Key_F10)  # add: sends 1 to the mul and to x
    _press(qtbot, win, Qt.Key.Key_F10)  # mul: sends q to p's output 0 and p to its output 1
    assert step.total == 8  # every instance one step: add, mul, pair, two neurons, three numbers
    _press(qtbot, win, Qt.Key.Key_F11)  # the next step is pair: into it
    assert step.stepped_into == [pair] and step.total == 13
    assert step.highlighted == pair  # the canvas stays where it is: the instance is lit
    callout = step.labels()[("node", pair, "above")]
    assert callout.startswith(f"inside {g.label(pair)}: ") and format_number(n1 + n2) in callout
    _press(qtbot, win, Qt.Key.Key_F11, shift=True)  # out: after the instance's last step
    assert step.k == 8 and step.state().node == (pair, g.definition("pair").inputs[1].node)
    # its input port c sent dy/dn2 = n1 (n1 + n2) + n1 n2 to the second neuron, by hand
    want = n1 * (n1 + n2) + n1 * n2
    second = g.inputs(pair)[1]
    assert step.labels()[("wire", second, pair, 1)] == f"← {format_number(want)}"
    _press(qtbot, win, Qt.Key.Key_F10)  # over the neuron: one step, its gradient final
    assert step.state().node == second and step.state().grad == pytest.approx(want, rel=1e-12)
    _press(qtbot, win, Qt.Key.Key_End)
    state = step.state()
    # all the steps replay the engine's gradients (computed by another algorithm) ...
    for n in g.nodes():
        if g.op(n) == "number":
            assert state.grads[n] == pytest.approx(g.grad(n), rel=1e-12)
    assert state.grads[g.inputs(pair)[0]] == pytest.approx(dn1, rel=1e-12)  # ... and the hand's


def test_shift_f11_at_the_top_level_says_why_nothing_happened(win, qtbot):
    step = win.experiment.step
    with qtbot.waitActive(win):
        win.activateWindow()
    _press(qtbot, win, Qt.Key.Key_F8)
    _press(qtbot, win, Qt.Key.Key_F11)  # the next step is the add, not an instance: one step
    assert step.k == 1 and not step.stepped_into
    _press(qtbot, win, Qt.Key.Key_F11, shift=True)
    assert step.k == 1 and "Not inside an instance" in win.statusBar().currentMessage()


def test_the_forward_pass_steps_into_an_instance_with_the_values_arriving(win, qtbot):
    g = win.document
    step = win.experiment.step
    with qtbot.waitActive(win):
        win.activateWindow()
    win.experiment.act_step_forward_pass.trigger()
    first = g.inputs(_instances(g, "pair")[0])[0]  # neuron(x, w1)
    for _ in range(3):  # x, w1, w2: given numbers come first
        _press(qtbot, win, Qt.Key.Key_F10)
    assert step.forward_state().node == g.resolve("w2")  # the next step is the first neuron
    _press(qtbot, win, Qt.Key.Key_F11)
    seen = []
    while type(step.forward_state().node) is tuple:
        seen.append((g.label(step.forward_state().node), step.forward_state().value))
        _press(qtbot, win, Qt.Key.Key_F10)
    n1 = math.tanh(X * W1 + B)
    values = dict(seen)
    assert values[f"{g.label(first)}/tanh#6"] == pytest.approx(n1, rel=1e-15)
    assert values[f"{g.label(first)}/mul#4"] == pytest.approx(X * W1, rel=1e-15)
    after = step.forward_state()  # then the other neuron, stepped over: one step, its value
    assert g.op(after.node) == "call" and after.value == pytest.approx(math.tanh(X * W2 + B), rel=1e-15)


# ---------------------------------------------------------------------------- check, forward, Descend


def _tied_window(qtbot):
    from resources import EXAMPLES

    w = _window(Graph.load(EXAMPLES / "weight_tying.json"))
    qtbot.addWidget(w)
    with qtbot.waitActive(w):
        w.activateWindow()
    return w


def test_f6_checks_inside_instances_and_the_shared_constant(qtbot):
    win = _tied_window(qtbot)
    g = win.document
    qtbot.keyClick(win.view, Qt.Key.Key_F6)
    marks = win.experiment.check.marks
    assert set(marks) == set(g.nodes()) and set(marks.values()) == {"✓"}  # instances too
    message = win.statusBar().currentMessage()
    assert "6 of 6 nodes checked" in message and "2 inside instances" in message
    assert "1 constant of definitions" in message
    inst = next(n for n in g.nodes() if g.op(n) == "call")
    tip = win.scene.node_item(inst).badge_tip
    assert "scale.w ✓: gradient 5 summed over every instance" in tip  # a + b = 2 + 3, by hand
    win.close()


def test_forward_mode_along_a_constant_inside_a_definition_agrees_with_finite_differences(win):
    g = win.document
    exp = win.experiment
    exp.forward_bar.refill()
    labels = [exp.forward_bar.combo.itemText(i) for i in range(exp.forward_bar.combo.count())]
    assert "neuron.b" in labels
    exp.forward_bar.choose(g.locate("neuron.b"))
    exp.act_forward.trigger()
    out = g.output_node()
    h = 1e-6

    def f(b):
        n1, n2 = math.tanh(X * W1 + b), math.tanh(X * W2 + b)
        return n1 * n2 * (n1 + n2) + X

    fd = (f(B + h) - f(B - h)) / (2 * h)
    assert exp.forward.values[out] == pytest.approx(fd, rel=1e-6)
    assert exp.forward.text.endswith("✓") and "neuron.b" in exp.forward.text
    for inst in _instances(g, "neuron"):  # each neuron moves with b at d tanh/d(pre) = 1 - n²
        n = g.value(inst)
        assert exp.forward.values[inst] == pytest.approx(1 - n * n, rel=1e-12)
        assert win.scene.node_item(inst).extra.endswith(format_number(1 - n * n))


def test_descend_on_a_shared_constant_trains_every_instance_in_one_undo_step(qtbot):
    win = _tied_window(qtbot)
    g = win.document
    panel = win.experiment.descent_dock.panel
    w = g.locate("scale.w")
    assert any(panel.trainable.item(i).text() == "scale.w = 0.5" for i in range(panel.trainable.count()))
    panel.set_trainable(["scale.w"])
    panel.steps.setValue(1)
    panel.lr.setValue(0.1)
    assert panel.run()
    # y = w a + w b: dy/dw = a + b = 5, so w = 0.5 - 0.1 * 5 = 0 (by hand), in both instances
    assert g.number(w) == pytest.approx(0.0, abs=1e-15)
    assert [g.value(n) for n in g.nodes() if g.op(n) == "call"] == [0.0, 0.0]
    qtbot.keyClick(win.view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert g.number(w) == 0.5 and g.value("y") == 2.5
    win.close()


def test_descend_and_check_on_an_engine_nn_mlp_match_pytorch(qtbot, torch):
    import random

    from engine import Value
    from engine.nn import MLP

    random.seed(1337)
    model = MLP(2, [3, 1])
    xs, ys = [[2.0, 3.0], [3.0, -1.0]], [1.0, -1.0]
    loss = sum(((model(x) - y) ** 2 for x, y in zip(xs, ys)), Value(0.0))
    win = _window(loss.graph())
    qtbot.addWidget(win)
    g = win.document
    params = [p.data for p in model.parameters()]
    bank = next(name for name in g.definitions if name.endswith("parameters"))
    consts = sorted(g.definition(bank).constants())
    assert [g.number((bank, c)) for c in consts] == params  # the bank holds them in order
    # one step of SGD in PyTorch on the same network (ReLU hidden layer, linear output)
    t = [torch.tensor(p, dtype=torch.float64, requires_grad=True) for p in params]
    w1 = [t[k * 3:k * 3 + 3] for k in range(3)]

    def net(x):
        hidden = [torch.relu(w[0] * x[0] + w[1] * x[1] + w[2]) for w in w1]
        return t[9] * hidden[0] + t[10] * hidden[1] + t[11] * hidden[2] + t[12]

    tl = sum((net(x) - y) ** 2 for x, y in zip(xs, ys))
    tl.backward()
    # the chain-rule dock on the parameter bank: 13 outputs, the first 4 written out, each
    # output's gradient PyTorch's for that parameter
    bank_node = next(n for n in g.nodes() if g.op(n) == "call" and g.node(n)["definition"] == bank)
    win.scene.select_nodes([bank_node])
    view = win.experiment.explain_dock.view
    assert "13 outputs" in view.summary.text() and "first 4" in view.summary.text()
    sums = view.total.text().splitlines()
    assert len(sums) == 4
    for line, p in zip(sums, t):
        assert line.endswith(f"= {format_number(p.grad.item())}")
    win.experiment.act_check.trigger()
    marks = win.experiment.check.marks
    assert "✗" not in marks.values()  # (an exponent 2 of a negative base is skipped: NaN slope)
    assert all(marks[n] == "✓" for n in g.nodes() if g.op(n) == "call")
    panel = win.experiment.descent_dock.panel
    panel.set_trainable([(bank, c) for c in consts])
    panel.steps.setValue(1)
    panel.lr.setValue(0.01)
    assert panel.run()
    for c, p in zip(consts, t):
        assert g.number((bank, c)) == pytest.approx(p.item() - 0.01 * p.grad.item(), rel=1e-12, abs=1e-15)
    win.close()


def test_the_neuron_lesson_steps_into_o_as_it_says(qtbot):
    """The example's lesson: "Step into o to see the gradient 0.8157 arrive at its output and
    split over its inputs"; w31.grad = 0.1195 (the flat network's numbers, in the lesson)."""
    from resources import EXAMPLES

    win = _window(Graph.load(EXAMPLES / "neuron_three_times.json"))
    qtbot.addWidget(win)
    with qtbot.waitActive(win):
        win.activateWindow()
    g, step = win.document, win.experiment.step
    o = g.resolve("o")
    _press(qtbot, win, Qt.Key.Key_F8)
    while step.steps[step.k][0] != o:  # F10 over what comes before o
        _press(qtbot, win, Qt.Key.Key_F10)
    _press(qtbot, win, Qt.Key.Key_F11)
    first = step.state()
    assert first.node[0] == o and g.op(first.node) == "output"
    assert round(first.grad, 4) == 0.8157
    _press(qtbot, win, Qt.Key.Key_F11, shift=True)
    assert type(step.steps[step.k][0]) is not tuple  # out: the next step is outside o
    w31 = g.resolve("w31")
    assert round(step.state().grads[w31], 4) == 0.1195  # o's input port sent it, nothing else
    _press(qtbot, win, Qt.Key.Key_F6)
    assert "✗" not in win.experiment.check.marks.values()
    assert win.experiment.check.marks[o] == "✓"
    win.close()


# ---------------------------------------------------------------------------- F11 enters the instance


def _key(qtbot, win, key, shift=False):
    """A key press where the user's focus is: the canvas shown (the document's or the inside)."""
    mod = Qt.KeyboardModifier.ShiftModifier if shift else Qt.KeyboardModifier.NoModifier
    qtbot.keyClick(win.canvas_area.stack.currentWidget(), key, mod)


from tests.painted import agrees, painted_texts  # noqa: E402


def _callout(scene, start):
    """The painted texts (read from the scene's SVG) that begin with ``start``."""
    return [t.text for t in painted_texts(scene) if t.text.startswith(start)]


def test_f11_enters_the_instance_on_the_canvas_and_shift_f11_leaves(qtbot):
    """F11 into the neuron example's o: the canvas shows o's inside (breadcrumb), the painted
    ``processing`` callout names the inside node with the engine's gradient for this
    instance (Graph.instance_view, not the stepper); Shift+F11 returns to the top level."""
    from resources import EXAMPLES

    win = _window(Graph.load(EXAMPLES / "neuron_three_times.json"))
    qtbot.addWidget(win)
    with qtbot.waitActive(win):
        win.activateWindow()
    g, step, area = win.document, win.experiment.step, win.canvas_area
    o = g.resolve("o")
    _key(qtbot, win, Qt.Key.Key_F8)
    while step.steps[step.k][0] != o:
        _key(qtbot, win, Qt.Key.Key_F10)  # F10 steps over: the canvas stays at the top level
        assert area.path == ()
    _key(qtbot, win, Qt.Key.Key_F11)
    assert area.path == (o,) and area.stack.currentWidget() is area.inside
    assert area.crumb_texts()[-1] == f"{g.name(o)} ({g.definition_of(o).name})"
    assert [b.text() for b in area.crumb_buttons()][-1] == area.crumb_texts()[-1]
    view = g.instance_view((o,))
    scene = area.scene_shown()
    seen = set()
    while area.path == (o,):
        node = step.state().node
        assert node[0] == o
        body = node[-1]
        name = g.label(node).rsplit("/", 1)[-1]
        painted = _callout(scene, f"processing {name}: gradient ")
        assert len(painted) == 1, painted
        assert agrees(painted[0].rsplit(" ", 1)[1], view.grad(body)), (painted, view.grad(body))
        assert scene.node_item(body).highlight
        seen.add(body)
        _key(qtbot, win, Qt.Key.Key_F10)
    assert len(seen) >= 4  # its output port, the tanh, the sums, a product ...
    # o's input ports send along the wires outside it: drawn on the top level again
    assert step.state().node[0] == o and g.op(step.state().node) == "input"
    assert _callout(win.scene, f"inside {g.label(o)}: ")
    win.close()


def test_shift_f11_leaves_the_entered_instance_and_escape_ends_step_mode_at_the_top(qtbot):
    from resources import EXAMPLES

    win = _window(Graph.load(EXAMPLES / "neuron_three_times.json"))
    qtbot.addWidget(win)
    with qtbot.waitActive(win):
        win.activateWindow()
    g, step, area = win.document, win.experiment.step, win.canvas_area
    o = g.resolve("o")
    _key(qtbot, win, Qt.Key.Key_F8)
    while step.steps[step.k][0] != o:
        _key(qtbot, win, Qt.Key.Key_F10)
    _key(qtbot, win, Qt.Key.Key_F11)
    assert area.path == (o,)
    _key(qtbot, win, Qt.Key.Key_F11, shift=True)
    assert area.path == () and not area.crumbs.isVisible()
    assert type(step.state().node) is tuple and g.op(step.state().node) == "input"  # o's input port
    top = _callout(win.scene, f"inside {g.label(o)}: ")
    assert top and step.active  # step mode continues on the top level, told on the closed o
    # in again from the start, then Escape: step mode ends and the canvas is back at the top
    _key(qtbot, win, Qt.Key.Key_Home)
    assert area.path == ()
    while type(step.steps[step.k][0]) is not tuple:
        _key(qtbot, win, Qt.Key.Key_F10)
    _key(qtbot, win, Qt.Key.Key_F10)  # o is already stepped into: F10 takes its first inside step
    assert area.path == (o,)
    _key(qtbot, win, Qt.Key.Key_Escape)
    assert not step.active and area.path == ()
    assert not _callout(win.scene, "processing")
    win.close()


def test_the_forward_pass_enters_on_f11_and_shift_f11_comes_back_out(win, qtbot):
    """Forward: F11 shows the inside at once (its input ports take the values coming in), each
    body node's painted ``computing`` value is the engine's for this instance; Shift+F11 ends on
    the output port, whose wire is outside: the top level again."""
    g, step, area = win.document, win.experiment.step, win.canvas_area
    with qtbot.waitActive(win):
        win.activateWindow()
    win.experiment.act_step_forward_pass.trigger()
    for _ in range(3):  # x, w1, w2
        _key(qtbot, win, Qt.Key.Key_F10)
    _key(qtbot, win, Qt.Key.Key_F11)
    inst = step.forward_state().node[0]
    assert area.path == (inst,) and g.op(step.forward_state().node) == "input"
    view = g.instance_view((inst,))
    port = step.forward_state().node
    name = g.label(port).rsplit("/", 1)[-1]
    assert name in ("x", "w")
    (text,) = _callout(area.scene_shown(), f"{name} comes in: ")
    assert agrees(text.rsplit(" ", 1)[1], {"x": X, "w": W1}[name])  # the top level's x and w1
    computed = 0
    while g.op(step.forward_state().node) != "output":
        _key(qtbot, win, Qt.Key.Key_F10)
        node = step.forward_state().node
        if g.op(node) in ("mul", "add", "tanh"):
            name = g.label(node).rsplit("/", 1)[-1]
            (text,) = _callout(area.scene_shown(), f"computing {name}: ")
            assert agrees(text.rsplit(" ", 1)[1], view.value(node[-1]))
            computed += 1
    assert computed == 3 and area.path == ()  # the output port: drawn on the closed instance
    _key(qtbot, win, Qt.Key.Key_Home)
    while type(step.forward_state().node) is not tuple:  # to the first step inside again
        _key(qtbot, win, Qt.Key.Key_F10)
    assert area.path == (inst,)
    _key(qtbot, win, Qt.Key.Key_F11, shift=True)
    assert area.path == () and step.active and g.op(step.forward_state().node) == "output"


def test_f11_twice_enters_a_nested_instance_and_its_input_port_sends_on_the_outer_body(qtbot):
    """pair's body holds a neuron: F11 into pair, then into the neuron (breadcrumb two deep);
    the neuron's input port step is drawn one level up, on pair's body, its wire carrying the
    amount the engine's instance view gives for that wire."""
    src = ("def neuron(x, w):\n    b = 0.5\n    return tanh(x * w + b)\n"
           "def pair(a, c):\n    return a * neuron(c, a), a + c\np, q = pair(x, w1)\np * q + x\n")
    win = _window(Graph.from_expression(src, x=X, w1=W1))
    qtbot.addWidget(win)
    with qtbot.waitActive(win):
        win.activateWindow()
    g, step, area = win.document, win.experiment.step, win.canvas_area
    _key(qtbot, win, Qt.Key.Key_F8)
    while not step.stepped_into or len(step.stepped_into) < 2:
        nxt = step.steps[step.k][0]
        is_call = type(nxt) in (int, tuple) and g.op(nxt) == "call"
        _key(qtbot, win, Qt.Key.Key_F11 if is_call else Qt.Key.Key_F10)
    (pair,) = _instances(g, "pair")
    inner = step.stepped_into[1]
    assert area.path == inner and len(area.crumb_texts()) == 3
    while g.op(step.state().node) != "input":
        _key(qtbot, win, Qt.Key.Key_F10)
    assert area.path == (pair,)  # the neuron's input port: on pair's body, the neuron closed
    port_node = step.state().node
    k = [p.node for p in g.definition_of(inner).inputs].index(port_node[-1])
    (src_,) = [s[1] for s in step.state().sends]
    wire = (src_[-1], inner[-1], k)
    text = step.inside_overlay.texts()[("wire", *wire)]
    assert text in [t.text for t in painted_texts(area.scene_shown())]
    assert agrees(text.removeprefix("← "), g.instance_view((pair,)).edge_grad(*wire))
    win.close()
