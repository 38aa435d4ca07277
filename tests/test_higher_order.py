"""The gradient as a graph (issue 16): every row's derivative stated as ops against its numeric
rule and against finite differences of that first derivative (so the ops' own derivatives, the
second derivatives, are right); engine.grad(create_graph=True) twice against
torch.autograd.grad on random scalar programs and tensor graphs; the contract of engine.grad
and backward(create_graph=True); Graph.gradient_graph's values against the backward pass's on
every bundled example, its tags, positions and shapes read at run time."""

from __future__ import annotations

import functools
import math
import operator

import numpy as np
import pytest
from hypothesis import given, settings
from test_tensor_ops import inputs_for

from engine import OPERATORS, OPS, Graph, NoPathError, NumberWithGrad, Value, grad
from engine.core.ops import array_apply, array_vjp, check_params
from engine.core.ops import local as numeric_local
from engine.core.value import apply_op
from tests.oracles import examples, require
from tests.strategies import specs

SCALAR = [n for n, op in OPERATORS.items() if op.vjp is None]
SHAPED = [(n, k) for n, op in OPERATORS.items() if op.vjp is not None for k in range(len(op.cases))]


def scalar_points(op, count=6, seed=0):
    """Inputs inside the row's domain (the middle of each interval, then seeded random ones)."""
    rng = np.random.default_rng(abs(hash(op.name)) % 2**32 + seed)
    pts = [tuple((lo + hi) / 2 + 0.1 * (hi - lo) for lo, hi in (ivs[0] for ivs in op.domain))]
    for _ in range(count - 1):
        pts.append(tuple(float(rng.uniform(*ivs[rng.integers(len(ivs))])) for ivs in op.domain))
    return pts


def close(got, want, rel=1e-12, atol=1e-12):
    got, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    assert got.shape == want.shape, (got.shape, want.shape)
    same_nan = np.isnan(got) == np.isnan(want)
    assert same_nan.all(), (got, want)
    with np.errstate(invalid="ignore"):
        ok = np.isnan(want) | (got == want) | (np.abs(got - want) <= atol + rel * np.abs(want))
    assert ok.all(), (got, want)


# ---------------------------------------------------------------------------- the rows


def test_every_row_states_its_derivative_as_ops():
    assert all(op.as_ops is not None for op in OPERATORS.values())
    assert {"sign", "mask", "sum_to", "broadcast_to", "onehot"} <= {n for n, op in OPS.items() if op.helper}


@pytest.mark.parametrize("name", SCALAR)
def test_scalar_row_ops_rule_equals_its_numeric_rule(name):
    op = OPS[name]
    points = scalar_points(op) + [k[0] for k in op.known]
    for args in points:
        xs = [Value(a) for a in args]
        y = apply_op(name, xs)
        g = Value(0.37)
        dxs = grad(y, xs, create_graph=True, grad_outputs=g, allow_unused=True)
        want = numeric_local(op, list(args), y.data)
        for k, (d, w) in enumerate(zip(dxs, want)):
            if k and xs[k] is xs[0]:
                continue
            assert isinstance(d, Value)
            close(d.data, 0.37 * w)


@pytest.mark.parametrize("name, case", SHAPED)
def test_shaped_row_ops_rule_equals_its_numeric_vjp(name, case):
    op = OPS[name]
    shapes, params = op.cases[case]
    args = inputs_for(op, shapes, 5)
    full = check_params(op, params)
    xs = [Value(a) for a in args]
    y = apply_op(name, xs, full)
    cot = np.random.default_rng(6).normal(size=np.shape(y.data))
    cot = float(cot) if np.ndim(cot) == 0 else cot
    dxs = grad(y, xs, create_graph=True, grad_outputs=Value(cot))
    want = array_vjp(op, cot, args, y.data, full)
    for k, (d, w) in enumerate(zip(dxs, want)):
        assert np.shape(d.data) == np.shape(args[k])
        close(d.data, w)


def _central(f, args, k, idx, h=1e-6):
    x = np.array(args[k], dtype=float)
    step = h * max(1.0, abs(float(x[idx]) if x.shape else float(x)))
    up, down = x.copy(), x.copy()
    up[idx] += step
    down[idx] -= step
    a_up, a_down = list(args), list(args)
    a_up[k], a_down[k] = (up if x.shape else float(up)), (down if x.shape else float(down))
    return (f(a_up) - f(a_down)) / (2 * step)


def _second_order_check(op, args, params, seed):
    """d/dx of <c, VJP_ops(g, x)> against central differences of the numeric VJP."""
    rng = np.random.default_rng(seed)
    full = check_params(op, params) if op.params else {}
    y0 = array_apply(op, args, full)
    g = rng.normal(size=np.shape(y0))
    g = float(g) if np.ndim(g) == 0 else g
    cs = [rng.normal(size=np.shape(a)) for a in args]

    def numeric(a):
        y = array_apply(op, a, full)
        return sum(
            float(np.sum(np.asarray(v) * c))
            for k, (v, c) in enumerate(zip(array_vjp(op, g, a, y, full), cs))
            if k not in op.integer_ports
        )

    xs = [Value(a) for a in args]
    y = apply_op(op.name, xs, full)
    vjps = grad(y, xs, create_graph=True, grad_outputs=Value(g))
    s = None
    for k, (v, c) in enumerate(zip(vjps, cs)):
        if k in op.integer_ports:
            continue
        term = (v * Value(c)).sum() if v.shape else v * float(c)
        s = term if s is None else s + term
    second = grad(s, xs, allow_unused=True)
    for k, a in enumerate(args):
        if k in op.integer_ports:
            continue
        got = np.zeros(np.shape(a)) if second[k] is None else np.asarray(second[k], dtype=float)
        for idx in np.ndindex(*np.shape(a)) if np.shape(a) else [()]:
            fd = _central(numeric, args, k, idx)
            scale = max(1.0, abs(fd))
            assert abs(float(got[idx]) - fd) <= 2e-5 * scale, (op.name, k, idx, got[idx], fd)


@pytest.mark.parametrize("name", SCALAR)
def test_scalar_row_ops_rule_differentiates_like_its_first_derivative(name):
    op = OPS[name]
    for seed, args in enumerate(scalar_points(op, count=4)):
        _second_order_check(op, list(args), None, seed)


@pytest.mark.parametrize("name, case", SHAPED)
def test_shaped_row_ops_rule_differentiates_like_its_first_derivative(name, case):
    op = OPS[name]
    shapes, params = op.cases[case]
    _second_order_check(op, inputs_for(op, shapes, 9), params, case)


# ---------------------------------------------------------------------------- PyTorch


def _torch_fn(torch, name):
    op = OPS[name]
    if op.torch:
        return functools.reduce(getattr, op.torch.split(".")[1:], torch)
    if op.arity == 1:
        return operator.neg
    return {
        "+": operator.add,
        "-": operator.sub,
        "*": operator.mul,
        "/": operator.truediv,
        "**": operator.pow,
    }[op.operator]


def _torch_second(torch, leaves, build):
    ts = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in leaves]
    out = build(ts)
    firsts = torch.autograd.grad(out, ts, create_graph=True, allow_unused=True)
    rows = []
    for f in firsts:
        if f is None or not f.requires_grad:
            rows.append([0.0] * len(ts))
            continue
        sec = torch.autograd.grad(f, ts, allow_unused=True, retain_graph=True)
        rows.append([0.0 if s is None else s.item() for s in sec])
    return [0.0 if f is None else f.item() for f in firsts], rows


def _scaled_close(got, want, scale):
    assert abs(got - want) <= 1e-9 * max(abs(want), 1e-3 * scale, 1e-12), (got, want)


@settings(max_examples=examples(25), deadline=None)
@given(specs(smooth=True, max_ops=10, leaf_values=None))
def test_second_derivatives_of_random_scalar_programs_match_pytorch(spec):
    torch = require("torch")
    leaves, nodes = spec

    def build(ts):
        vals = list(ts)
        for name, ins in nodes:
            vals.append(_torch_fn(torch, name)(*[vals[i] for i in ins]))
        return vals[-1]

    t_first, t_second = _torch_second(torch, leaves, build)
    xs = [Value(v) for v in leaves]
    vals = list(xs)
    for name, ins in nodes:
        vals.append(apply_op(name, [vals[i] for i in ins]))
    firsts = grad(vals[-1], xs, create_graph=True, allow_unused=True)
    scale = max([1.0] + [abs(v) for row in t_second for v in row])
    for k, f in enumerate(firsts):
        _scaled_close(0.0 if f is None else f.data, t_first[k], max(1.0, abs(t_first[k])))
        sec = grad(f, xs, allow_unused=True) if f is not None else [None] * len(xs)
        for j, s in enumerate(sec):
            _scaled_close(0.0 if s is None else float(s), t_second[k][j], scale)


TENSOR_PROGRAMS = [
    (
        "h = tanh(x @ W + b)\nL = cross_entropy(h @ V + c, y)",
        {"x": (4, 3), "W": (3, 5), "b": (5,), "V": (5, 3), "c": (3,), "y": "classes"},
    ),
    ("p = softmax(x @ W, axis=1)\nL = mse(p, t)", {"x": (3, 2), "W": (2, 4), "t": (3, 4)}),
    ("L = sum(logsumexp(x * W, axis=0) * b)", {"x": (3, 2), "W": (2,), "b": (2,)}),
    (
        "m = mean(sigmoid(x) * W, axis=1, keepdims=True)\nL = sum(m * m + transpose(W @ V))",
        {"x": (2, 3), "W": (3,), "V": (3, 2)},
    ),
    (
        "z = reshape(x, shape=[3, 2]) @ W\nL = sum(log_softmax(z, axis=0) * t) + sum(relu(z) * abs(z))",
        {"x": (2, 3), "W": (2, 2), "t": (3, 2)},
    ),
    (
        "L = sum(exp(x) / (sum(x * x, axis=1, keepdims=True) + 1)) + mean(sqrt(x * x + 1) ** W)",
        {"x": (2, 3), "W": (3,)},
    ),
]


def _tensor_case(spec, seed):
    rng = np.random.default_rng(seed)
    values = {}
    for name, shape in spec.items():
        values[name] = (
            rng.integers(0, 3, size=4) if shape == "classes" else rng.uniform(-1.5, 1.5, size=shape)
        )
    return values


def _torch_program(torch, source, tensors):
    import torch.nn.functional as F  # noqa: N812

    env = dict(tensors)
    calls = {
        "tanh": torch.tanh,
        "sigmoid": torch.sigmoid,
        "exp": torch.exp,
        "log": torch.log,
        "sqrt": torch.sqrt,
        "relu": torch.relu,
        "abs": torch.abs,
        "transpose": lambda t: t.permute(*reversed(range(t.ndim))),
        "softmax": lambda t, axis: torch.softmax(t, dim=axis),
        "log_softmax": lambda t, axis: torch.log_softmax(t, dim=axis),
        "logsumexp": lambda t, axis: torch.logsumexp(t, dim=axis),
        "mse": F.mse_loss,
        "cross_entropy": lambda z, y: F.cross_entropy(z, y.long()),
        "sum": lambda t, axis=None, keepdims=False: (
            t.sum() if axis is None else t.sum(dim=axis, keepdim=keepdims)
        ),
        "mean": lambda t, axis=None, keepdims=False: (
            t.mean() if axis is None else t.mean(dim=axis, keepdim=keepdims)
        ),
        "reshape": lambda t, shape: t.reshape(shape),
    }
    for line in source.splitlines():
        target, expr = line.split(" = ", 1)
        env[target] = eval(expr, {"__builtins__": {}}, {**calls, **env})  # noqa: S307 - the test's own text
    return env["L"]


@pytest.mark.parametrize("k", range(len(TENSOR_PROGRAMS)))
def test_hessian_vector_products_of_tensor_graphs_match_pytorch(k):
    torch = require("torch")
    source, spec = TENSOR_PROGRAMS[k]
    values = _tensor_case(spec, k)
    params = [n for n, s in spec.items() if s != "classes"]
    g = Graph.from_expression(source, **values)
    # engine: Values from the document, first gradients as graphs, then <grads, v> differentiated
    tape = g.tape()
    made = {}
    for i, n in enumerate(tape.order):
        op = tape.ops[i]
        made[n] = (
            Value(g.number(n))
            if op is None
            else apply_op(op.name, [made[tape.order[j]] for j in tape.parents[i]], tape.params[i] or None)
        )
    xs = [made[g.resolve(p)] for p in params]
    rng = np.random.default_rng(100 + k)
    vs = [rng.normal(size=np.shape(values[p])) for p in params]
    firsts = grad(made[g.output_node()], xs, create_graph=True)
    dot = None
    for f, v in zip(firsts, vs):
        term = (f * Value(v)).sum()
        dot = term if dot is None else dot + term
    hv = grad(dot, xs, allow_unused=True)
    # torch
    ts = {
        n: torch.tensor(
            v,
            dtype=torch.int64 if spec[n] == "classes" else torch.float64,
            requires_grad=spec[n] != "classes",
        )
        for n, v in values.items()
    }
    out = _torch_program(torch, source, ts)
    t_first = torch.autograd.grad(out, [ts[p] for p in params], create_graph=True)
    t_dot = sum((f * torch.tensor(v)).sum() for f, v in zip(t_first, vs))
    t_hv = torch.autograd.grad(t_dot, [ts[p] for p in params], allow_unused=True)
    for p, f, tf, h, th in zip(params, firsts, t_first, hv, t_hv):
        np.testing.assert_allclose(f.data, tf.detach().numpy(), rtol=1e-9, atol=1e-12, err_msg=p)
        want = np.zeros(np.shape(values[p])) if th is None else th.numpy()
        got = np.zeros(np.shape(values[p])) if h is None else h
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-11, err_msg=p)
        np.testing.assert_allclose(f.data, g.grad(p), rtol=1e-12, atol=1e-15, err_msg=p)


# ---------------------------------------------------------------------------- engine.grad


def test_grad_never_touches_grad_and_matches_backward():
    a = Value(3.0)
    e = (a * 4 + 3) * (a + 2)
    assert grad(e, a) == (35.0,) and a.grad == 0 and e.grad == 0
    (da,) = grad(e, [a], create_graph=True)
    assert a.grad == 0 and da.data == 35.0
    e.backward()
    assert a.grad == 35.0
    n = NumberWithGrad(2.0)
    grad(n * n, n, create_graph=True)
    assert n.grad is None


def test_gradient_values_reference_the_forward_values():
    x = Value(0.5, label="x")
    y = x.tanh()
    (dy,) = grad(y, x, create_graph=True)
    inside = dy._topo()
    # 1 - y*y reads the forward y itself: the only tanh in the gradient's graph is y
    assert [v for v in inside if v.creation_op == "tanh"] == [y]
    assert [v for v in inside if v.data == 0.5] == [x]  # and x is not copied either
    (d2,) = grad(dy, x)
    t = math.tanh(0.5)
    assert d2 == pytest.approx(-2 * t * (1 - t * t), rel=1e-14)


def test_unused_input_raises_or_gives_none_and_zero_slopes_give_zero():
    a, b = Value(1.0, label="a"), Value(2.0)
    y = a * 3
    with pytest.raises(NoPathError, match=r"inputs\[1\]"):
        grad(y, [a, b])
    assert grad(y, [a, b], allow_unused=True) == (3.0, None)
    (s,) = grad(a.sign(), a)  # used, through an op with no slope: 0, as torch gives zeros
    assert s == 0
    (d,) = grad(a.relu(), a, create_graph=True)
    assert grad(d, a) == (0,)  # relu'' = 0: d depends on a through sign(relu(a))


def test_array_output_is_seeded_with_ones_and_grad_outputs_seed_it():
    x = Value(np.array([1.0, 2.0, 3.0]))
    y = x * x
    (g,) = grad(y, x)
    np.testing.assert_array_equal(g, [2.0, 4.0, 6.0])
    (g,) = grad(y, x, grad_outputs=np.array([1.0, 0.0, 2.0]))
    np.testing.assert_array_equal(g, [2.0, 0.0, 12.0])
    (g,) = grad(y, x, create_graph=True)
    (h,) = grad(g, x)
    np.testing.assert_array_equal(h, [2.0, 2.0, 2.0])
    with pytest.raises(ValueError, match="shape"):
        grad(y, x, grad_outputs=np.ones(2))


def test_several_outputs_add_their_gradients():
    x = Value(2.0)
    assert grad([x * x, x * 3], x) == (7.0,)
    assert grad([x * x, x * 3], x, grad_outputs=[1.0, 2.0]) == (10.0,)


def test_bad_arguments_are_refused_clearly():
    x = Value(1.0)
    with pytest.raises(TypeError, match="Value"):
        grad(2.0, x)
    with pytest.raises(TypeError, match="inputs"):
        grad(x * 2, [x, "w"])
    with pytest.raises(ValueError, match="empty"):
        grad(x * 2, [])
    with pytest.raises(TypeError):
        grad(x * 2, x, grad_outputs="one")
    odd = Value(5.0, (x,), "mystery")
    with pytest.raises(TypeError, match="mystery"):
        grad(odd * 2, x)


def test_backward_create_graph_puts_values_in_grad_and_accumulates():
    x = Value(3.0)
    y = x * x * x
    y.backward(create_graph=True)
    assert isinstance(x.grad, Value) and x.grad.data == 27.0
    assert grad(x.grad, x) == (18.0,)
    y.backward(create_graph=True)  # PyTorch's rule: a second call adds
    assert x.grad.data == 54.0 and grad(x.grad, x) == (36.0,)
    y.zero_grad()
    assert x.grad == 0
    y.backward()
    assert x.grad == 27.0


def test_micrograd_neuron_hessian_diagonal_by_hand():
    # o = tanh(w*x + b): d²o/dw² = x² · (-2 o (1 - o²))
    w, x, b = Value(-0.7), Value(1.3), Value(0.2)
    o = (w * x + b).tanh()
    (dw,) = grad(o, w, create_graph=True)
    (dww,) = grad(dw, w)
    t = math.tanh(-0.7 * 1.3 + 0.2)
    assert dww == pytest.approx(1.3**2 * (-2 * t * (1 - t * t)), rel=1e-13)


# ---------------------------------------------------------------------------- gradient_graph


def _examples():
    from engine.learn.gallery import COMPOSITE_BUILDERS, gallery

    # The backward graph of a document with instances is not built yet (gradient_graph wires
    # across a definition's body): the composite examples joined the gallery before it was.
    return [e for e in gallery() if e.file not in COMPOSITE_BUILDERS]


@pytest.mark.parametrize("entry", _examples(), ids=lambda e: e.file)
def test_backward_graph_values_equal_the_backward_pass_on_every_example(entry):
    from engine.core.higher_order import gradient_graph

    g = entry.load()
    out = g.output_node()
    if g.value(out) is None:
        pytest.skip("no value")
    r = gradient_graph(g, out)
    h = r.graph
    for n, gn in r.grad_nodes.items():
        close(h.value(gn), g.grad(n))
    for (n, port), sn in r.sends.items():
        close(h.value(sn), g.edge_grad(g.inputs(n)[port], n, port))
    assert all(h.role(n) == "backward" for n in r.nodes)
    assert all(h.role(n) == g.role(n) for n in g.nodes())
    assert min(r.nodes) > max(g.nodes())


def test_gradient_graph_tags_names_places_and_saves():
    g = Graph.from_expression("(a*4+3)*(a+2)", a=3.0)
    h, grads = g.gradient_graph(None, ["a", 4])
    a = g.resolve("a")
    assert h.value(grads[a]) == 35.0 and h.value(grads[4]) == 5.0  # node 4 is the constant 3: a + 2 = 5
    r_full = g.gradient_graph(None, None)[1]
    assert set(r_full) == {n for n in g.nodes() if g.op(n) == "number"}
    assert h.name(grads[a]) == "∂mul#8/∂a" or h.name(grads[a]).startswith("∂")
    xs_fwd = [g.position(n)[0] for n in g.nodes()]
    back = [n for n in h.nodes() if h.role(n) == "backward"]
    ys = [h.position(n)[1] for n in back]
    assert min(ys) > max(g.position(n)[1] for n in g.nodes())  # below the document
    assert max(h.position(n)[0] for n in back) <= max(xs_fwd) + 1e-9  # right edges line up
    seed = [n for n in back if h.op(n) == "number" and not h.inputs(n)]
    assert seed and h.position(grads[a])[0] < max(h.position(n)[0] for n in back)  # right to left
    import json

    from engine.io import document

    text = document.dumps(h)
    again = document.loads(text)
    assert [again.role(n) for n in again.nodes()] == [h.role(n) for n in h.nodes()]
    assert json.loads(text)["nodes"][-1]["role"] == "backward"
    assert again.value(grads[a]) == 35.0


def test_a_gradient_node_can_be_differentiated_again_in_the_document():
    g = Graph.from_expression("y = tanh(x)", x=0.5)
    h, grads = g.gradient_graph("y", "x")
    dx = grads[g.resolve("x")]
    h.set_output(dx)
    t = math.tanh(0.5)
    assert h.value(dx) == pytest.approx(1 - t * t, rel=1e-15)
    assert h.grad("x") == pytest.approx(-2 * t * (1 - t * t), rel=1e-13)


def test_backward_graph_reads_shapes_at_run_time():
    g = Graph.from_expression("L = sum(x + b) + mean(x * b, axis=0)", x=np.ones((2, 3)), b=np.arange(3.0))
    h, grads = g.gradient_graph("L", ["x", "b"])
    x, b = g.resolve("x"), g.resolve("b")
    bigger = np.arange(15.0).reshape(5, 3)
    h.set_value(x, bigger)
    g.set_value(x, bigger)
    close(h.value(grads[x]), g.grad(x))
    close(h.value(grads[b]), g.grad(b))
    assert np.shape(h.value(grads[x])) == (5, 3)


def test_gradient_graph_refuses_what_it_cannot_build():
    from engine import GraphError

    g = Graph()
    with pytest.raises(GraphError, match="empty"):
        g.gradient_graph()
    g = Graph.from_expression("a * b", a=1.0, b=2.0)
    m = g.add_op("exp")
    g.set_output(m)
    with pytest.raises(GraphError, match="not connected"):
        g.gradient_graph()
    with pytest.raises(GraphError):
        g.set_role("a", "sideways")
