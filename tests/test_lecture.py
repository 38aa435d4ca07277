"""Code written the way the micrograd lecture writes it runs unchanged on ``engine.Value``.

The lecture's own ``Value`` class (its final version, typed out below as ``LectureValue``) is
the reference: the same code runs on both and every number must agree, bit for bit where the
arithmetic is the same and to 1e-12 relative where the lecture computes by another formula
(its tanh is ``(e**2x - 1) / (e**2x + 1)``, its ``a - b`` is ``a + b * -1``, its ``a / b`` is
``a * b**-1``). The neuron's numbers are also checked against PyTorch float64's, as printed in
the lecture, and against the closed form.
"""

from __future__ import annotations

import math
import random
import struct

import pytest

from engine import Value

REL = 1e-12


def close(x, y, rel=REL):
    return x == y or abs(x - y) <= rel * max(abs(x), abs(y))


class LectureValue:
    """The lecture's Value, as typed while following it (the reference these tests compare to)."""

    def __init__(self, data, _children=(), _op="", label=""):
        self.data = data
        self.grad = 0.0
        self._backward = lambda: None
        self._prev = set(_children)
        self._op = _op
        self.label = label

    def __repr__(self):
        return f"Value(data={self.data})"

    def __add__(self, other):
        other = other if isinstance(other, LectureValue) else LectureValue(other)
        out = LectureValue(self.data + other.data, (self, other), "+")

        def _backward():
            self.grad += 1.0 * out.grad
            other.grad += 1.0 * out.grad

        out._backward = _backward
        return out

    def __mul__(self, other):
        other = other if isinstance(other, LectureValue) else LectureValue(other)
        out = LectureValue(self.data * other.data, (self, other), "*")

        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = _backward
        return out

    def __pow__(self, other):
        assert isinstance(other, (int, float)), "only supporting int/float powers for now"
        out = LectureValue(self.data**other, (self,), f"**{other}")

        def _backward():
            self.grad += other * (self.data ** (other - 1)) * out.grad

        out._backward = _backward
        return out

    def __rmul__(self, other):
        return self * other

    def __truediv__(self, other):
        return self * other**-1

    def __neg__(self):
        return self * -1

    def __sub__(self, other):
        return self + (-other)

    def __radd__(self, other):
        return self + other

    def tanh(self):
        x = self.data
        t = (math.exp(2 * x) - 1) / (math.exp(2 * x) + 1)
        out = LectureValue(t, (self,), "tanh")

        def _backward():
            self.grad += (1 - t**2) * out.grad

        out._backward = _backward
        return out

    def exp(self):
        x = self.data
        out = LectureValue(math.exp(x), (self,), "exp")

        def _backward():
            self.grad += out.data * out.grad

        out._backward = _backward
        return out

    def backward(self):
        topo = []
        visited = set()

        def build_topo(v):
            if v not in visited:
                visited.add(v)
                for child in v._prev:
                    build_topo(child)
                topo.append(v)

        build_topo(self)
        self.grad = 1.0
        for node in reversed(topo):
            node._backward()


def lecture_nn(Value):  # noqa: N803 - the lecture's name, bound to either class
    """The lecture's Neuron, Layer and MLP, written against ``Value``."""

    class Neuron:
        def __init__(self, nin):
            self.w = [Value(random.uniform(-1, 1)) for _ in range(nin)]
            self.b = Value(random.uniform(-1, 1))

        def __call__(self, x):
            act = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
            out = act.tanh()
            return out

        def parameters(self):
            return self.w + [self.b]

    class Layer:
        def __init__(self, nin, nout):
            self.neurons = [Neuron(nin) for _ in range(nout)]

        def __call__(self, x):
            outs = [n(x) for n in self.neurons]
            return outs[0] if len(outs) == 1 else outs

        def parameters(self):
            return [p for neuron in self.neurons for p in neuron.parameters()]

    class MLP:
        def __init__(self, nin, nouts):
            sz = [nin] + nouts
            self.layers = [Layer(sz[i], sz[i + 1]) for i in range(len(nouts))]

        def __call__(self, x):
            for layer in self.layers:
                x = layer(x)
            return x

        def parameters(self):
            return [p for layer in self.layers for p in layer.parameters()]

    return MLP


def trace(root):
    """The lecture's draw_dot helper, minus graphviz: every node and edge via ``_prev``."""
    nodes, edges = set(), set()

    def build(v):
        if v not in nodes:
            nodes.add(v)
            for child in v._prev:
                edges.add((child, v))
                build(child)

    build(root)
    return nodes, edges


def dot_labels(root):
    """The text draw_dot puts in each record, formatted exactly as the lecture does."""
    nodes, _ = trace(root)
    return sorted("{ %s | data %.4f | grad %.4f }" % (n.label, n.data, n.grad) + n._op for n in nodes)  # noqa: UP031 - the lecture's own formatting


def expression(V):  # noqa: N803
    a = V(2.0, label="a")
    b = V(-3.0, label="b")
    c = V(10.0, label="c")
    e = a * b
    e.label = "e"
    d = e + c
    d.label = "d"
    f = V(-2.0, label="f")
    L = d * f  # noqa: N806 - the lecture's name
    L.label = "L"
    return a, b, c, d, e, f, L


def neuron(V, tanh_by_exp=False):  # noqa: N803
    x1 = V(2.0, label="x1")
    x2 = V(0.0, label="x2")
    w1 = V(-3.0, label="w1")
    w2 = V(1.0, label="w2")
    b = V(6.8813735870195432, label="b")
    x1w1 = x1 * w1
    x1w1.label = "x1*w1"
    x2w2 = x2 * w2
    x2w2.label = "x2*w2"
    x1w1x2w2 = x1w1 + x2w2
    x1w1x2w2.label = "x1*w1 + x2*w2"
    n = x1w1x2w2 + b
    n.label = "n"
    if tanh_by_exp:
        e = (2 * n).exp()
        o = (e - 1) / (e + 1)
    else:
        o = n.tanh()
    o.label = "o"
    return {"x1": x1, "x2": x2, "w1": w1, "w2": w2, "b": b, "x1w1": x1w1, "x2w2": x2w2,
            "x1w1x2w2": x1w1x2w2, "n": n, "o": o}  # fmt: skip


def test_the_first_expression_with_labels_and_its_drawing_before_backward(qapp):
    import gui

    ours, theirs = expression(Value), expression(LectureValue)
    assert "L" in gui.draw(ours[-1]).svg  # the picture, before any backward()
    assert [v.data for v in ours] == [v.data for v in theirs]
    assert ours[-1].data == -8.0 and ours[0].label == "a" and ours[-1]._op == "*"
    # draw_dot's formatting of grad ("%.4f") used to fail on None before backward()
    assert dot_labels(ours[-1]) == dot_labels(theirs[-1])
    assert all(v.grad == 0 for v in ours)
    ours[-1].backward()
    theirs[-1].backward()
    assert [v.grad for v in ours] == [v.grad for v in theirs] == [6.0, -4.0, -2.0, -2.0, -2.0, 4.0, 1.0]
    assert dot_labels(ours[-1]) == dot_labels(theirs[-1])


def test_label_is_positional_and_keyword_and_is_the_name():
    a = Value(2.0, (), "", "a")
    b = Value(data=3.0, _children=(), _op="", label="b")
    assert (a.label, b.label, Value(1.0).label) == ("a", "b", "")
    a.label = "alpha"
    assert a.name == "alpha"
    (a * b).graph()  # labels are the graph's names
    assert (a * b).graph().grad("alpha") == 3.0


def test_the_neuron_matches_pytorch_float64_and_the_closed_form():
    # The lecture's PyTorch cell printed these (float64 tensors; its b went through
    # torch.Tensor, i.e. float32, first: hence b32 here).
    b32 = struct.unpack("f", struct.pack("f", 6.8813735870195432))[0]
    x1, x2, w1, w2, b = Value(2.0), Value(0.0), Value(-3.0), Value(1.0), Value(b32)
    o = (x1 * w1 + x2 * w2 + b).tanh()
    o.backward()
    assert o.data == 0.7071066904050358
    assert (x2.grad, w2.grad) == (0.5000001283844369, 0.0)
    assert (x1.grad, w1.grad) == (-1.5000003851533106, 1.0000002567688737)
    ours = neuron(Value)
    ours["o"].backward()
    n = 2.0 * -3.0 + 0.0 * 1.0 + 6.8813735870195432
    dn = 1 - math.tanh(n) ** 2
    assert close(ours["x1"].grad, -3.0 * dn) and close(ours["w1"].grad, 2.0 * dn)
    assert close(ours["b"].grad, dn) and ours["n"].grad == dn


@pytest.mark.parametrize("tanh_by_exp", [False, True], ids=["tanh", "exp-formula"])
def test_the_neuron_matches_the_lectures_value(tanh_by_exp):
    ours, theirs = neuron(Value, tanh_by_exp), neuron(LectureValue, tanh_by_exp)
    ours["o"].backward()
    theirs["o"].backward()
    for k in ours:
        assert close(ours[k].data, theirs[k].data), k
        assert close(ours[k].grad, theirs[k].grad), (k, ours[k].grad, theirs[k].grad)


def test_manual_backward_calls_in_reverse_order_give_backward_numbers():
    auto = neuron(Value)
    auto["o"].backward()
    by_hand = neuron(Value)
    # the lecture's cell, one _backward() per node from the output down
    by_hand["o"].grad = 1.0
    for k in ("o", "n", "b", "x1w1x2w2", "x2w2", "x1w1", "x1", "x2", "w1", "w2"):
        by_hand[k]._backward()
    for k in auto:
        assert by_hand[k].grad == auto[k].grad, k


def test_reverse_topological_order_built_from_prev_gives_backward_numbers():
    auto = neuron(Value, tanh_by_exp=True)
    auto["o"].backward()
    by_hand = neuron(Value, tanh_by_exp=True)
    o = by_hand["o"]
    topo, visited = [], set()

    def build_topo(v):
        if v not in visited:
            visited.add(v)
            for child in v._prev:
                build_topo(child)
            topo.append(v)

    build_topo(o)
    o.grad = 1.0
    for node in reversed(topo):
        node._backward()
    for k in auto:
        assert close(by_hand[k].grad, auto[k].grad), k


def test_a_plus_a_and_operators_with_plain_numbers():
    a = Value(3.0, label="a")
    b = a + a  # the lecture's bug hunt: a.grad must be 2, not 1
    b.backward()
    assert a.grad == 2.0
    a, b = Value(2.0), Value(4.0)
    for f in (lambda a, b: a * 2, lambda a, b: 2 * a, lambda a, b: a + 1, lambda a, b: 1 + a,
              lambda a, b: a / b, lambda a, b: a - b, lambda a, b: a.exp(), lambda a, b: a**2,
              lambda a, b: -a, lambda a, b: (a * b).tanh()):  # fmt: skip
        ours = f(Value(2.0), Value(4.0))
        theirs = f(LectureValue(2.0), LectureValue(4.0))
        assert close(ours.data, theirs.data)
    assert (a**2)._op == "**2" and (a**2)._prev == {a}


def test_sum_of_values():
    vs = [Value(float(i), label=f"v{i}") for i in range(1, 5)]
    s = sum(vs)
    s.backward()
    assert s.data == 10.0 and all(v.grad == 1 for v in vs)
    t = sum((v * v for v in vs), Value(0.5))
    t.backward()
    assert t.data == 30.5 and [v.grad for v in vs] == [1 + 2.0 * i for i in range(1, 5)]


def test_training_loop_with_p_data_update_matches_the_lectures_value():
    xs = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
    ys = [1.0, -1.0, -1.0, 1.0]
    losses = {}
    for cls in (Value, LectureValue):
        random.seed(42)
        n = lecture_nn(cls)(3, [4, 4, 1])
        run = []
        for _ in range(20):
            ypred = [n(x) for x in xs]
            loss = sum((yout - ygt) ** 2 for ygt, yout in zip(ys, ypred))
            for p in n.parameters():
                p.grad = 0.0
            loss.backward()
            for p in n.parameters():
                p.data += -0.1 * p.grad
            run.append(loss.data)
        losses[cls] = run
        assert len(n.parameters()) == 41
    ours, theirs = losses[Value], losses[LectureValue]
    assert ours[-1] < ours[0] / 10
    for k, (x, y) in enumerate(zip(ours, theirs)):
        assert close(x, y), (k, x, y)  # its tanh formula and ours differ in the last bits only


def test_own_attributes_adam_style():
    p = Value(1.0, label="w")
    p.m = 0
    p.v = 0
    p.colour = "red"
    beta1, beta2, lr = 0.9, 0.999, 0.1
    for t in range(1, 4):
        loss = (p - 3) ** 2
        p.grad = 0
        loss.backward()
        p.m = beta1 * p.m + (1 - beta1) * p.grad
        p.v = beta2 * p.v + (1 - beta2) * p.grad**2
        mhat, vhat = p.m / (1 - beta1**t), p.v / (1 - beta2**t)
        p.data -= lr * mhat / (vhat**0.5 + 1e-8)
    assert p.colour == "red" and 1.0 < p.data < 3.0
    assert p.graph().name(1) == "w"


def test_hand_built_node_with_its_own_backward():
    a, b = Value(2.0, label="a"), Value(3.0, label="b")
    out = Value(5.0, (a, b), "+")

    def _backward():
        a.grad += 1.0 * out.grad
        b.grad += 1.0 * out.grad

    out._backward = _backward
    assert out._op == "+" and out._prev == {a, b}
    y = out * 4
    y.backward()
    assert (a.grad, b.grad) == (4.0, 4.0)
    # an op the table does not know: its closure is its rule
    c, d = Value(2.0), Value(3.0)
    sq = Value(c.data**2 + d.data, (c, d), "sqsum")

    def _sq_backward():
        c.grad += 2 * c.data * sq.grad
        d.grad += sq.grad

    sq._backward = _sq_backward
    z = (sq * 3).tanh()
    z.backward()
    dz = 3 * (1 - z.data**2)
    assert close(c.grad, 4.0 * dz) and close(d.grad, dz)
    assert sq._op == "sqsum" and sq._prev == {c, d}
    g = z.graph()  # drawn as a number node holding its value, its inputs beside it
    assert any("sqsum" in g.label(n) for n in g.nodes()) and len(g) == 6


def test_repr_and_prev_are_micrographs():
    a = Value(2.0)
    assert repr(a) == "Value(data=2.0, grad=0)"
    y = a * a + 1
    assert y._prev is y._prev and len(y._prev) == 2
    y.backward()
    assert repr(y) == "Value(data=5.0, grad=1)" and repr(a) == "Value(data=2.0, grad=4.0)"


def test_backward_twice_adds_one_more_pass():
    # Documented difference: micrograd's second call re-propagates accumulated grads.
    a = Value(2.0)
    y = a * a * 3
    y.backward()
    y.backward()
    assert a.grad == 2 * 12.0


# ------------------------------------------------------------------ pasted into Import Program

# The lecture's neuron cell as typed in its notebook, then drawn; and the cell again with tanh
# written out through exp, as the lecture does to show that any grouping of ops works.
NEURON_CELL = """\
# inputs x1,x2
x1 = Value(2.0, label='x1')
x2 = Value(0.0, label='x2')
# weights w1,w2
w1 = Value(-3.0, label='w1')
w2 = Value(1.0, label='w2')
# bias of the neuron
b = Value(6.8813735870195432, label='b')
# x1*w1 + x2*w2 + b
x1w1 = x1*w1; x1w1.label = 'x1*w1'
x2w2 = x2*w2; x2w2.label = 'x2*w2'
x1w1x2w2 = x1w1 + x2w2; x1w1x2w2.label = 'x1*w1 + x2*w2'
n = x1w1x2w2 + b; n.label = 'n'
o = n.tanh(); o.label = 'o'
o.backward()
draw_dot(o)
"""
NEURON_CELL_EXP = NEURON_CELL.replace(
    "o = n.tanh(); o.label = 'o'\n",
    "# ----\ne = (2*n).exp()\no = (e - 1) / (e + 1)\n# ----\no.label = 'o'\n",
)
CELLS = {"tanh": NEURON_CELL, "exp-formula": NEURON_CELL_EXP}
NEURON_LABELS = {"x1", "x2", "w1", "w2", "b", "x1*w1", "x2*w2", "x1*w1 + x2*w2", "n", "o"}
# The lecture's gradients: b makes n = atanh(1/sqrt(2)), so do/dn = 1 - o**2 = 1/2 exactly, and
# by hand x1.grad = w1/2, w1.grad = x1/2, x2.grad = w2/2, w2.grad = x2/2, b.grad = 1/2.
LECTURE_GRADS = {"x1": -1.5, "w1": 1.0, "x2": 0.5, "w2": 0.0, "b": 0.5}


def torch_neuron(torch, tanh_by_exp):
    """The cell in PyTorch float64, as the lecture's PyTorch cell writes it."""
    numbers = {"x1": 2.0, "x2": 0.0, "w1": -3.0, "w2": 1.0, "b": 6.8813735870195432}
    leaf = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in numbers.items()}
    n = leaf["x1"] * leaf["w1"] + leaf["x2"] * leaf["w2"] + leaf["b"]
    if tanh_by_exp:
        e = (2 * n).exp()
        o = (e - 1) / (e + 1)
    else:
        o = torch.tanh(n)
    o.backward()
    return o.item(), {k: t.grad.item() for k, t in leaf.items()}


@pytest.mark.parametrize("form", list(CELLS))
def test_the_neuron_cell_pastes_verbatim_with_its_labels_and_the_lectures_gradients(form, torch):
    from engine.io.parse import parse_program

    g = parse_program(CELLS[form])
    names = {g.name(n) for n in g.nodes()} - {None}
    assert names == NEURON_LABELS | ({"e"} if form == "exp-formula" else set())
    assert g.output == g.resolve("o")  # the labels after o.backward() left the output alone
    for k, want in LECTURE_GRADS.items():
        assert abs(g.grad(k) - want) <= 1e-12, (k, g.grad(k))
    o, grads = torch_neuron(torch, form == "exp-formula")
    assert close(g.value("o"), o)
    for k, want in grads.items():
        assert close(g.grad(k), want, rel=1e-12) or abs(g.grad(k) - want) <= 1e-15, (k, g.grad(k), want)
    # and as in Value.graph() of the same code run on Value: the labels name the same nodes
    # (the parser also names the unlabelled e by its assignment, which a Value cannot know)
    ran = neuron(Value, form == "exp-formula")["o"].graph()

    def labelled(graph):
        nodes = [n for n in graph.nodes() if graph.name(n) in NEURON_LABELS]
        return sorted((graph.name(n), graph.op(n), graph.value(n)) for n in nodes)

    assert labelled(ran) == labelled(g) and len(labelled(g)) == len(NEURON_LABELS) and len(ran) == len(g)


def test_duplicate_and_invalid_labels_become_display_text_as_in_value_graph():
    from engine.io.parse import parse_program

    src = (
        "a = Value(1.0, label='x')\nb = Value(2.0, label='x')\n"
        "c = a * b; c.label = '12'\nd = c + a; d.label = 'two\\nlines'\nd.backward()\n"
    )
    a, b = Value(1.0, label="x"), Value(2.0, label="x")
    c = a * b
    c.label = "12"
    d = c + a
    d.label = "two\nlines"

    def shown(g):
        return [(g.name(n), g.nx.nodes[n].get("label")) for n in g.nodes()]

    # by hand: the first 'x' is a name; the second, a number-like and a control character are
    # display text (numbered, and shown escaped)
    want = [("x", None), (None, "x (2)"), (None, "12"), (None, "two\\nlines")]
    assert shown(parse_program(src)) == shown(d.graph()) == want


def test_display_calls_are_skipped_like_print():
    from engine.io.parse import parse_program

    plain = parse_program("a = Value(2.0)\nb = a * a\nb.backward()")
    for call in ("draw_dot(b)", "display(b)", "trace(b)", "print(b.data)", "draw_dot(b, 'LR')"):
        chatty = parse_program(f"a = Value(2.0)\n{call}\nb = a * a\n{call}\nb.backward()\n{call}")
        assert chatty.to_dict() == plain.to_dict(), call
