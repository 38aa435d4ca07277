"""micrograd's own code runs on ``engine.Value``: its test expressions and its ``nn.py``.

micrograd (0.1.0, in the test extras) is the reference: the same code runs on its Value and on
ours, and the numbers agree to 1e-12 relative (bit for bit where both do the same arithmetic;
``a - b`` and ``a / b`` are one node each here, one rounding instead of two). micrograd's
``nn.py`` is loaded a second time with our Value in its module namespace.
"""

from __future__ import annotations

import importlib.util
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import Value
from tests.oracles import examples, require

micrograd_engine = require("micrograd.engine")
micrograd_nn = require("micrograd.nn")
MValue = micrograd_engine.Value
REL = 1e-12


def close(x, y, rel=REL):
    return x == y or abs(x - y) <= rel * max(abs(x), abs(y))


def sanity(V):  # noqa: N803 - micrograd's test_sanity_check, on either class
    x = V(-4.0)
    z = 2 * x + 2 + x
    q = z.relu() + z * x
    h = (z * z).relu()
    y = h + q + q * x
    y.backward()
    return x, y


def more_ops(V):  # noqa: N803 - micrograd's test_more_ops
    a = V(-4.0)
    b = V(2.0)
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    g.backward()
    return a, b, g


def test_sanity_check_equals_micrograd_and_pytorch():
    (x, y), (mx, my) = sanity(Value), sanity(MValue)
    assert (y.data, x.grad) == (my.data, mx.grad) == (-20.0, 46.0)  # PyTorch's, in micrograd's test


def test_more_ops_equals_micrograd_and_pytorch():
    (a, b, g), (ma, mb, mg) = more_ops(Value), more_ops(MValue)
    assert close(g.data, mg.data) and close(a.grad, ma.grad) and close(b.grad, mb.grad)
    # PyTorch float64 (micrograd's test compares with tolerance 1e-6; these are torch's digits)
    assert abs(g.data - 24.70408163265306) < 1e-12
    assert abs(a.grad - 138.83381924198252) < 1e-10 and abs(b.grad - 645.5772594752186) < 1e-10


def walk(root):
    seen, stack = {root}, [root]
    while stack:
        for c in stack.pop()._prev:
            if c not in seen:
                seen.add(c)
                stack.append(c)
    return seen


def test_the_graph_looks_the_same_through_prev_and_op():
    """Node for node, micrograd's attributes: the multiset of (_op, data, grad, #_prev)."""
    (_, y), (_, my) = sanity(Value), sanity(MValue)
    ours = sorted((n._op, n.data, n.grad, len(n._prev)) for n in walk(y))
    theirs = sorted((n._op, n.data, n.grad, len(n._prev)) for n in walk(my))
    assert ours == theirs
    a, ma = Value(3.0), MValue(3.0)
    assert (a**2)._op == (ma**2)._op == "**2" and len((a**2)._prev) == len((ma**2)._prev) == 1
    assert (a**-1)._op == (ma**-1)._op and (a**0.5)._op == (ma**0.5)._op
    assert repr(a * 2) == repr(ma * 2) == "Value(data=6.0, grad=0)"


def nn_on(value_class):
    """micrograd's nn.py, a fresh copy, with ``value_class`` as its Value."""
    spec = importlib.util.spec_from_file_location("micrograd_nn_copy", micrograd_nn.__file__)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.Value = value_class
    return mod


def moons(n=24):
    rng = random.Random(3)
    pts = [[rng.uniform(-1.5, 2.5), rng.uniform(-1, 1.5)] for _ in range(n)]
    return pts, [1 if x * x - y > 0.3 else -1 for x, y in pts]


def train(nn, V, steps=3):  # noqa: N803 - the demo notebook's loop, shortened
    random.seed(1337)
    model = nn.MLP(2, [16, 16, 1])
    X, y = moons()  # noqa: N806
    out = []
    for k in range(steps):
        inputs = [list(map(V, xrow)) for xrow in X]
        scores = list(map(model, inputs))
        losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(y, scores)]
        data_loss = sum(losses) * (1.0 / len(losses))
        reg_loss = 1e-4 * sum(p * p for p in model.parameters())
        total_loss = data_loss + reg_loss
        acc = sum((yi > 0) == (s.data > 0) for yi, s in zip(y, scores))
        model.zero_grad()
        total_loss.backward()
        lr = 1.0 - 0.9 * k / 100
        for p in model.parameters():
            p.data -= lr * p.grad
        out.append((total_loss.data, acc, [p.data for p in model.parameters()]))
    return model, out


def test_micrographs_nn_trains_identically_on_our_value():
    model, ours = train(nn_on(Value), Value)
    _, theirs = train(micrograd_nn, MValue)
    assert len(model.parameters()) == 337 and str(model).startswith("MLP of [Layer of [ReLUNeuron(2)")
    assert all(type(p) is Value for p in model.parameters())
    for (loss, acc, ps), (mloss, macc, mps) in zip(ours, theirs):
        assert close(loss, mloss) and acc == macc
        assert all(close(p, q, 1e-10) for p, q in zip(ps, mps))


def test_zero_grad_of_nn_module_resets_to_zero():
    nn = nn_on(Value)
    random.seed(0)
    n = nn.Neuron(3)
    out = n([Value(1.0), Value(2.0), Value(-1.0)])
    out.backward()
    n.zero_grad()
    assert all(p.grad == 0 for p in n.parameters())


# ------------------------------------------------------------------------------ exact integers


@pytest.mark.parametrize(
    "base, exponent",
    [(3, 40), (2, 1024), (-3, 41), (7, 1), (10**400, 2)],
    ids=["3**40", "2**1024", "-3**41", "7**1", "big**2"],
)
def test_integer_powers_are_pythons_exact_ints_like_micrographs(base, exponent):
    ours, theirs = Value(base), MValue(base)
    y, my = ours**exponent, theirs**exponent
    y.backward()
    my.backward()
    assert type(y.data) is int and y.data == base**exponent == my.data  # 3**40 is not 1.2157665459056929e19
    assert type(ours.grad) is int and ours.grad == exponent * base ** (exponent - 1) == theirs.grad


# Integer programs: + - * (also with plain ints on either side), unary -, relu, and ** by a
# constant whole number, as micrograd supports them; the exact value is tracked in plain
# Python ints alongside, so programs whose numbers grow beyond a few thousand bits are dropped.
_INT_RULES = {
    "add": lambda a, b, k: a + b,
    "sub": lambda a, b, k: a - b,
    "mul": lambda a, b, k: a * b,
    "radd": lambda a, b, k: k + a,
    "rmul": lambda a, b, k: k * a,
    "rsub": lambda a, b, k: k - a,
    "neg": lambda a, b, k: -a,
    "relu": lambda a, b, k: a.relu() if hasattr(a, "relu") else max(a, 0),
    "pow": lambda a, b, k: a**k,
}


@st.composite
def integer_programs(draw):
    leaves = draw(st.lists(st.integers(-6, 6), min_size=1, max_size=3))
    exact = list(leaves)
    steps = []
    for _ in range(draw(st.integers(1, 10))):
        kind = draw(st.sampled_from(sorted(_INT_RULES)))
        i, j = draw(st.integers(0, len(exact) - 1)), draw(st.integers(0, len(exact) - 1))
        k = draw(st.integers(-5, 5)) if kind in ("radd", "rmul", "rsub") else draw(st.integers(1, 4))
        a, b = exact[i], exact[j]
        y = _INT_RULES[kind](a, b, k)
        if abs(y).bit_length() > 2000:
            continue
        exact.append(y)
        steps.append((kind, i, j, k))
    return leaves, steps, exact[-1]


def _run_integer_program(V, leaves, steps):  # noqa: N803
    vals = [V(x) for x in leaves]
    for kind, i, j, k in steps:
        vals.append(_INT_RULES[kind](vals[i], vals[j], k))
    vals[-1].backward()
    return vals


@settings(max_examples=examples(60), deadline=None)
@given(integer_programs())
def test_integer_programs_give_exact_ints_and_micrographs_gradients(program):
    leaves, steps, exact = program
    ours, theirs = _run_integer_program(Value, leaves, steps), _run_integer_program(MValue, leaves, steps)
    assert type(ours[-1].data) is int and ours[-1].data == exact  # Python's int arithmetic
    for k in range(len(leaves)):
        assert ours[k].grad == theirs[k].grad and type(ours[k].grad) is type(theirs[k].grad), k
