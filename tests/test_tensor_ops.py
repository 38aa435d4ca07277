"""Tensor rows and elementwise rows on arrays: every vector-Jacobian rule against central finite
differences, op by op, on the shapes and parameters each row declares (``Op.cases``) and on
random mutually broadcastable shapes; forward mode against reverse mode; PyTorch float64 where
installed; shape mismatches as problems marked on the node, never exceptions."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from engine import SCALAR_OPS, TENSOR_OPS, Graph, NumberWithGrad, Value
from engine.core.arrays import MAX_RESULT_ELEMENTS, unbroadcast
from engine.core.events import ParamsChanged
from engine.core.ops import OPS, array_apply, array_jvp, array_vjp, check_params
from tests.oracles import examples

TENSOR_CASES = [(name, k) for name, op in TENSOR_OPS.items() for k in range(len(op.cases))]
# Broadcasting pairs for the binary elementwise rows, as in the suites STYLE.md points at.
PAIRS = [((2, 3), (3,)), ((4, 1), (1, 3)), ((3,), ()), ((), (2, 2)), ((2, 1, 3), (4, 1)), ((3, 4), (3, 4))]
SHAPES_1 = [(4,), (2, 3), (2, 1, 3)]


def draw_in(rng, intervals, shape, integer=False):
    """An input of ``shape`` whose elements lie in the row's test domain (one interval per
    element, chosen at random), or whole class indices for an integer port."""
    if integer:
        lo, hi = intervals[0]
        return rng.integers(int(lo), int(hi) + 1, size=shape)
    picks = rng.integers(len(intervals), size=shape)
    lo = np.array([a for a, _ in intervals])[picks]
    hi = np.array([b for _, b in intervals])[picks]
    out = lo + (hi - lo) * rng.uniform(0.1, 0.9, size=shape)
    return float(out) if out.ndim == 0 else out


def inputs_for(op, shapes, seed):
    rng = np.random.default_rng(seed)
    return [draw_in(rng, op.domain[k], s, k in op.integer_ports) for k, s in enumerate(shapes)]


def numeric_vjp(op, args, params, cot, k, h=1e-6):
    """d<cot, op(args)>/d args[k] by central differences, element by element."""
    x = np.array(args[k], dtype=np.float64)
    grad = np.zeros(x.shape)
    for idx in np.ndindex(*x.shape) if x.shape else [()]:
        step = h * max(1.0, abs(x[idx]))
        up, down = x.copy(), x.copy()
        up[idx] += step
        down[idx] -= step
        a_up, a_down = list(args), list(args)
        a_up[k] = up if x.shape else float(up)
        a_down[k] = down if x.shape else float(down)
        fu = np.sum(np.asarray(array_apply(op, a_up, params)) * cot)
        fd = np.sum(np.asarray(array_apply(op, a_down, params)) * cot)
        grad[idx] = (fu - fd) / (2 * step)
    return grad if x.shape else float(grad)


def assert_vjp_matches(op, args, params, seed=0):
    params = check_params(op, params)
    y = array_apply(op, args, params)
    cot = np.random.default_rng(seed + 1).normal(size=np.shape(y))
    cot = float(cot) if np.ndim(cot) == 0 else cot
    grads = array_vjp(op, cot, args, y, params)
    for k, (a, g) in enumerate(zip(args, grads)):
        assert np.shape(g) == np.shape(a), (op.name, k)
        if k in op.integer_ports:
            assert not np.any(g)
            continue
        num = numeric_vjp(op, args, params, cot, k)
        np.testing.assert_allclose(g, num, rtol=1e-5, atol=1e-6, err_msg=f"{op.name} input {k}")


@pytest.mark.parametrize("name, case", TENSOR_CASES)
def test_tensor_row_vjp_matches_central_differences(name, case):
    op = OPS[name]
    shapes, params = op.cases[case]
    for seed in range(3):
        assert_vjp_matches(op, inputs_for(op, shapes, seed), params, seed)


@pytest.mark.parametrize("name", [n for n, op in SCALAR_OPS.items() if op.arity == 2])
@pytest.mark.parametrize("shapes", PAIRS, ids=str)
def test_elementwise_binary_rows_broadcast_and_unbroadcast(name, shapes):
    op = OPS[name]
    args = inputs_for(op, shapes, 7)
    y = array_apply(op, args)
    assert np.shape(y) == np.broadcast_shapes(*shapes)
    assert_vjp_matches(op, args, None, 7)


@pytest.mark.parametrize("name", [n for n, op in SCALAR_OPS.items() if op.arity == 1])
@pytest.mark.parametrize("shape", SHAPES_1, ids=str)
def test_elementwise_unary_rows_match_the_scalar_rule_per_element(name, shape):
    op = OPS[name]
    (x,) = inputs_for(op, [shape], 3)
    y = array_apply(op, [x])
    want = np.vectorize(op.forward, otypes=[float])(x)
    np.testing.assert_allclose(y, want, rtol=1e-12, atol=1e-300)
    g = np.random.default_rng(0).normal(size=shape)
    (gx,) = array_vjp(op, g, [x], y)
    loc = np.vectorize(lambda a, b: op.local(a, b)[0], otypes=[float])(x, want)
    np.testing.assert_allclose(gx, g * loc, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name, case", TENSOR_CASES)
def test_forward_mode_agrees_with_reverse_mode(name, case):
    """<jvp(t), g> == <t, vjp(g)>: the two modes are transposes of one Jacobian."""
    op = OPS[name]
    shapes, params = op.cases[case]
    params = check_params(op, params)
    args = inputs_for(op, shapes, 11)
    rng = np.random.default_rng(12)
    y = array_apply(op, args, params)
    g = rng.normal(size=np.shape(y))
    ts = [None if k in op.integer_ports else rng.normal(size=np.shape(a)) for k, a in enumerate(args)]
    jvp = array_jvp(op, ts, args, y, params)
    vjp = array_vjp(op, g, args, y, params)
    lhs = float(np.sum(np.asarray(jvp) * g))
    rhs = sum(float(np.sum(t * v)) for t, v in zip(ts, vjp) if t is not None)
    assert math.isclose(lhs, rhs, rel_tol=1e-9, abs_tol=1e-12)


def test_unbroadcast_sums_over_broadcast_axes():
    g = np.arange(6.0).reshape(2, 3)
    assert unbroadcast(g, (3,)).tolist() == [3.0, 5.0, 7.0]
    assert unbroadcast(g, (2, 1)).tolist() == [[3.0], [12.0]]
    assert unbroadcast(g, ()) == 15.0
    assert unbroadcast(g, (2, 3)) is g


def test_softmax_family_is_numerically_stable():
    big = np.array([[1000.0, 1001.0, 1002.0], [-1000.0, -1000.0, -1000.0]])
    p = array_apply(OPS["softmax"], [big], {"axis": 1})
    assert np.all(np.isfinite(p)) and np.allclose(p.sum(axis=1), 1.0)
    lse = array_apply(OPS["logsumexp"], [big], check_params(OPS["logsumexp"], {"axis": 1}))
    assert np.allclose(lse, [1002.0 + math.log(1 + math.exp(-1) + math.exp(-2)), -1000.0 + math.log(3)])
    ls = array_apply(OPS["log_softmax"], [big], {"axis": 1})
    assert np.all(np.isfinite(ls))


def test_cross_entropy_gradient_is_softmax_minus_onehot_over_n():
    z = np.array([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]])
    t = np.array([1, 2])
    (gz, gt) = array_vjp(OPS["cross_entropy"], 1.0, [z, t], array_apply(OPS["cross_entropy"], [z, t]))
    e = np.exp(z - z.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    onehot = np.eye(3)[t]
    np.testing.assert_allclose(gz, (p - onehot) / 2, rtol=1e-12)
    assert gt.shape == (2,) and not gt.any()


# ---------------------------------------------------------------------------- the seed and Value


def test_seed_cell_three_numberwithgrad_of_an_array_plus_four():
    x = NumberWithGrad(np.array([2, 3, 1, 0]))
    y = x + 4
    assert y.data.tolist() == [6.0, 7.0, 5.0, 4.0]
    y.sum().backward()
    assert x.grad.tolist() == [1.0, 1.0, 1.0, 1.0]
    x2 = NumberWithGrad(np.array([2, 3, 1, 0]))
    (x2 + 4).backward()  # an array output: seeded with ones, the gradient of its sum
    assert x2.grad.tolist() == [1.0, 1.0, 1.0, 1.0]


def test_x_times_x_on_arrays_gives_two_x():
    data = np.array([[1.5, -2.0], [0.25, 3.0]])
    x = Value(data)
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad, 2 * data)
    g = Graph.from_expression("sum(x * x)", x=data)
    np.testing.assert_array_equal(g.grad("x"), 2 * data)


def test_value_tensor_methods_match_the_graph():
    rng = np.random.default_rng(5)
    xs, ws, bs = rng.normal(size=(4, 3)), rng.normal(size=(3, 2)), rng.normal(size=(2,))
    x, w, b = Value(xs), Value(ws), Value(bs)
    z = (x @ w + b).tanh()
    loss = z.log_softmax(axis=1).mean() + z.T.reshape(8).logsumexp() + z.softmax(axis=0).sum(axis=1).mean()
    loss.backward()
    g = Graph.from_expression(
        "z = tanh(x @ w + b); mean(log_softmax(z, axis=1)) + logsumexp(reshape(z.T, 8)) "
        "+ mean(sum(softmax(z, axis=0), axis=1))",
        x=xs,
        w=ws,
        b=bs,
    )
    assert math.isclose(loss.data, g.value(g.output), rel_tol=1e-12)
    for v, name in ((x, "x"), (w, "w"), (b, "b")):
        np.testing.assert_allclose(v.grad, g.grad(name), rtol=1e-10, atol=1e-14)
        assert v.grad.shape == v.data.shape


def test_value_graph_keeps_arrays_and_params():
    x = Value(np.arange(6.0).reshape(2, 3), label="x")
    s = x.sum(axis=0)
    g = s.graph()
    assert g.shape("x") == (2, 3) and g.params(g.output) == {"axis": 0, "keepdims": False}
    assert g.value(g.output).tolist() == [3.0, 5.0, 7.0]


def test_value_shape_mismatch_is_a_clear_value_error():
    with pytest.raises(ValueError, match=r"\(2, 3\) @ \(2, 3\)"):
        Value(np.ones((2, 3))) @ Value(np.ones((2, 3)))


# ---------------------------------------------------------------------------- the Graph


def graph_with(src, **values):
    return Graph.from_expression(src, **values)


@pytest.mark.parametrize(
    "src, values, words",
    [
        ("a @ b", {"a": np.ones((2, 3)), "b": np.ones((4, 2))}, ["(2, 3) @ (4, 2)", "3", "4"]),
        ("a + b", {"a": np.ones((2, 3)), "b": np.ones(2)}, ["(2, 3)", "(2,)", "broadcast"]),
        (
            "cross_entropy(z, t)",
            {"z": np.ones((2, 3)), "t": np.array([0, 3])},
            ["target 1", "class 3", "0..2"],
        ),
        ("cross_entropy(z, t)", {"z": np.ones((2, 3)), "t": np.array([0, 1, 2])}, ["(2, 3)", "(3,)"]),
        ("reshape(x, 4)", {"x": np.ones((2, 3))}, ["(2, 3)", "6 elements", "(4,)"]),
        ("mse(a, b)", {"a": np.ones(3), "b": np.ones(4)}, ["(3,)", "(4,)"]),
        ("sum(x, axis=2)", {"x": np.ones((2, 3))}, ["axis 2"]),
        ("a @ b", {"a": np.ones(10**6), "b": np.ones(10**6).reshape(1, -1).T.reshape(-1)}, []),
    ],
)
def test_shape_mismatches_are_problems_on_the_node_never_exceptions(src, values, words):
    g = graph_with(src, **values)
    out = g.output_node()
    probs = g.problems()
    if not words:  # a (10**6,) · (10**6,) dot product is fine: a number
        assert out not in probs and isinstance(g.value(out), float)
        return
    assert out in probs and g.value(out) is None and g.grad(out) is None
    for w in words:
        assert w in probs[out], probs[out]


def test_downstream_of_a_shape_problem_is_marked_and_the_problem_clears_on_a_fix():
    g = graph_with("y = a @ b; s = sum(y)", a=np.ones((2, 3)), b=np.ones((2, 2)))
    assert g.problems()[g.resolve("s")] == "an input has a shape problem upstream"
    g.set_value("b", np.ones((3, 2)))  # an edit that changes a shape: fine, re-evaluated
    assert g.problems() == {} and g.value("s") == 12.0
    np.testing.assert_array_equal(g.grad("b"), np.full((3, 2), 2.0))


def test_outer_product_too_large_is_a_problem_not_a_memory_error():
    n = 100_000
    g = Graph()
    a = g.add_number(np.ones((n, 1)), name="a")
    b = g.add_number(np.ones((1, n)), name="b")
    m = g.add_op("matmul")
    g.connect(a, m, 0)
    g.connect(b, m, 1)
    assert f"{MAX_RESULT_ELEMENTS:,}" in g.problems()[m]


def test_a_non_scalar_output_is_seeded_with_ones_and_says_so():
    g = graph_with("y = x * w", x=np.array([1.0, 2.0]), w=np.array([3.0, 4.0]))
    assert g.grad("x").tolist() == [3.0, 4.0]
    assert "ones" in g.seed_note() and "(2,)" in g.seed_note()
    assert graph_with("sum(x)", x=np.ones(2)).seed_note() is None


def test_params_are_validated_set_with_an_event_and_reevaluated():
    g = graph_with("s = sum(x)", x=np.arange(6.0).reshape(2, 3))
    seen = []
    g.subscribe(seen.append)
    assert g.value("s") == 15.0
    g.set_params("s", {"axis": 1})
    assert g.value("s").tolist() == [3.0, 12.0]
    assert isinstance(seen[-1], ParamsChanged) and seen[-1].new == {"axis": 1, "keepdims": False}
    assert seen[-1].old == {"axis": None, "keepdims": False}
    for bad in ({"axis": "0"}, {"axis": 9}, {"dim": 0}, {"keepdims": 1}, "axis=0"):
        with pytest.raises(Exception) as e:
            g.check_set_params("s", bad)
        assert type(e.value).__name__ == "InvalidValueError"
    with pytest.raises(Exception, match="has no parameters"):
        g.set_params("x", {"axis": 0})
    assert g.params("s") == {"axis": 1, "keepdims": False}  # refused edits changed nothing


def test_add_op_takes_params_and_refuses_bad_ones_before_adding():
    g = Graph()
    n = g.add_op("reshape", params={"shape": [3, -1]})
    assert g.params(n) == {"shape": [3, -1]}
    with pytest.raises(Exception, match="at most one may be -1"):
        g.add_op("reshape", params={"shape": [-1, -1]})
    assert len(g) == 1


def test_array_values_are_checked_on_set_value():
    g = graph_with("sum(x)", x=np.ones(3))
    for bad, words in (
        (np.array([1.0, np.nan]), "finite"),
        (np.ones((1, 1, 1, 1, 2)), "dimensions"),
        (np.ones(2 * 10**6), "elements"),
        (np.array([True]), "true/false"),
        (np.array(["a"]), "real numbers"),
        (np.zeros((0,)), "empty"),
    ):
        with pytest.raises(Exception, match=words):
            g.set_value("x", bad)
    assert g.number("x").tolist() == [1.0, 1.0, 1.0]
    g.set_value("x", np.array(2.5))  # a 0-d array is a number
    assert g.number("x") == 2.5 and g.shape("x") == ()


def test_summary_and_shape_are_safe_for_every_value():
    g = graph_with("y = a @ b", a=np.ones((5, 3)), b=np.ones((2, 2)))
    assert g.summary("y") == "—" and g.shape("y") is None
    assert g.summary("a") == "5×3 array, min 1, max 1" and g.shape("a") == (5, 3)
    assert g.summary("b") == "2×2 [1, 1, 1, 1]"


def test_scalar_graphs_keep_ints_and_the_scalar_path():
    g = Graph.from_expression("a * b + 1", a=3, b=4)
    assert not g.has_arrays() and g.value(g.output) == 13.0
    v = Value(3) * Value(4) + 1
    assert v.data == 13 and type(v.data) is int


# ---------------------------------------------------------------------------- random graphs


def _inside(value, intervals) -> bool:
    """Whether every element of ``value`` lies in the union of closed ``intervals`` (NaN never)."""
    x = np.asarray(value)
    return bool(np.all(np.logical_or.reduce([(lo <= x) & (x <= hi) for lo, hi in intervals])))


def _within(intervals, box):
    """The parts of ``intervals`` inside ``box`` (all of them if none is): new inputs are drawn
    there, so that more results stay small enough to be reduced by mean."""
    inner = tuple((max(lo, box[0]), min(hi, box[1])) for lo, hi in intervals if lo < box[1] and hi > box[0])
    return inner or intervals


@st.composite
def broadcast_graphs(draw):
    """A small random graph of elementwise ops (every scalar row, and softmax on arrays) over
    inputs of mutually broadcastable shapes; each result is reduced by mean, the means added.

    Every node's inputs lie, element by element, inside its row's test domain (``Op.domain``:
    where the op is smooth and finite differences are well conditioned), the means' and the
    final adds' too: an input is made for a port with values drawn from that port's domain,
    an earlier node is used only where all of it fits the port, and a result that does not fit
    the mean's domain is dropped."""
    shapes, _ = draw(hnp.mutually_broadcastable_shapes(num_shapes=4, min_dims=0, max_dims=3, max_side=3))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    values: dict = {}  # the inputs: name -> value
    nodes: dict = {}  # inputs and kept results: name -> value
    lines = []
    for i in range(draw(st.integers(2, 6))):
        name = draw(st.sampled_from(sorted(SCALAR_OPS) + ["softmax"]))
        op = OPS[name]
        args, new = [], {}  # new inputs join only if the op is kept: every input feeds the output
        for intervals in op.domain:
            fits = [n for n, v in nodes.items() if _inside(v, intervals) and (not op.tensor or np.ndim(v))]
            k = len(values) + len(new)
            shape = shapes[k] if k < len(shapes) else None
            if shape is not None and (shape or not op.tensor) and (not fits or draw(st.booleans())):
                new[f"x{k}"] = draw_in(rng, _within(intervals, OPS["mean"].domain[0][0]), shape)
                fits = [f"x{k}"]
            if not fits:
                break
            args.append(draw(st.sampled_from(fits)))
        else:
            ins = [new[a] if a in new else nodes[a] for a in args]
            with np.errstate(all="ignore"):
                y = array_apply(op, ins, check_params(op, None) if op.tensor else None)
            if _inside(y, OPS["mean"].domain[0]):
                values.update(new)
                nodes.update(new)
                nodes[f"t{i}"] = y
                lines.append(f"t{i} = {name}({', '.join(args)})")
    if not lines:  # no op fitted: one that always does
        values = {"x0": draw_in(rng, OPS["tanh"].domain[0], shapes[0])}
        lines = ["t0 = tanh(x0)"]
    # At most six means, each within [-3, 3] (mean's domain), so every add stays inside add's.
    total = " + ".join(f"mean({line.split(' = ')[0]})" for line in lines)
    return "\n".join(lines + [f"out = {total}"]), values


@settings(max_examples=examples(40), deadline=None)
@given(broadcast_graphs())
def test_random_broadcasting_graphs_match_finite_differences(case):
    from engine.learn.check import gradient_check

    src, values = case
    g = Graph.from_expression(src, **values)
    assert g.problems() == {}, g.problems()
    rows = {r.label: r for r in gradient_check(g)}
    # Every input checked and agreeing: a skipped row (no path, a difference that never
    # settles) would let a wrong gradient through.
    assert {name: rows[name].ok for name in values} == dict.fromkeys(values, True), [
        (r.label, r.reason) for r in rows.values() if r.ok is not True
    ]
    for name, v in values.items():
        assert np.shape(g.grad(name)) == np.shape(v)


# ---------------------------------------------------------------------------- PyTorch


@pytest.mark.parametrize("name, case", TENSOR_CASES)
def test_tensor_rows_match_pytorch_float64(name, case, torch):
    import torch.nn.functional as F

    op = OPS[name]
    shapes, params = op.cases[case]
    params = check_params(op, params)
    args = inputs_for(op, shapes, 21)
    y = array_apply(op, args, params)
    cot = np.random.default_rng(22).normal(size=np.shape(y))
    grads = array_vjp(op, cot, args, y, params)
    ts = [
        torch.tensor(a, dtype=torch.int64)
        if k in op.integer_ports
        else torch.tensor(a, dtype=torch.float64, requires_grad=True)
        for k, a in enumerate(args)
    ]

    def dims(axis, nd):
        return tuple(range(nd)) if axis is None else axis

    nd = np.ndim(args[0])
    calls = {
        "matmul": lambda: ts[0] @ ts[1],
        "sum": lambda: torch.sum(
            ts[0], dim=dims(params.get("axis"), nd), keepdim=params.get("keepdims", False)
        ),
        "mean": lambda: torch.mean(
            ts[0], dim=dims(params.get("axis"), nd), keepdim=params.get("keepdims", False)
        ),
        "transpose": lambda: torch.permute(ts[0], tuple(reversed(range(nd)))),
        "reshape": lambda: torch.reshape(ts[0], tuple(params.get("shape", ()))),
        "softmax": lambda: torch.softmax(ts[0], dim=params.get("axis")),
        "log_softmax": lambda: torch.log_softmax(ts[0], dim=params.get("axis")),
        "logsumexp": lambda: torch.logsumexp(
            ts[0], dim=dims(params.get("axis"), nd), keepdim=params.get("keepdims")
        ),
        "cross_entropy": lambda: F.cross_entropy(ts[0], ts[1]),
        "mse": lambda: F.mse_loss(ts[0], ts[1]),
    }
    out = calls[name]()
    np.testing.assert_allclose(out.detach().numpy(), y, rtol=1e-9, atol=1e-12)
    out.backward(torch.tensor(cot, dtype=torch.float64))
    for k, (t, g) in enumerate(zip(ts, grads)):
        if k not in op.integer_ports:
            np.testing.assert_allclose(t.grad.numpy(), g, rtol=1e-9, atol=1e-12)


def test_stored_arrays_are_read_only_so_every_change_is_an_edit():
    g = graph_with("sum(x)", x=np.ones(3))
    with pytest.raises(ValueError, match="read-only"):
        g.number("x")[0] = 5.0
    x = Value(np.ones(2), label="x")
    h = (x * 2).graph()
    x.data[0] = 7.0  # the Value's own array; the Graph made from it keeps its copy
    assert h.number("x").tolist() == [1.0, 1.0]


def test_an_axis_out_of_range_names_the_input_shape():
    g = graph_with("softmax(x, axis=2)", x=np.ones((2, 3)))
    assert g.problems()[g.output_node()] == "softmax: axis 2 is out of range for an input of shape (2, 3)"


def _call_text(name, args, params):
    kws = [f"{k}={v!r}" for k, v in params.items()]
    return f"{name}({', '.join(list(args) + kws)})"


@pytest.mark.parametrize("name, case", TENSOR_CASES)
def test_tensor_rows_spelled_as_call_method_and_value_agree(name, case):
    """The row's spellings: the parser's call and method, and the Value method (or operator),
    all give the row's value and gradients."""
    op = OPS[name]
    shapes, params = op.cases[case]
    args = inputs_for(op, shapes, 31)
    names = ["a", "b"][: op.arity]
    values = dict(zip(names, args))
    full = check_params(op, params)
    want = array_apply(op, args, full)
    y = np.shape(want)
    method = _call_text(f"{names[0]}.{op.method or name}", names[1:], params)
    spellings = [_call_text(name, names, params), method]
    if op.operator:
        spellings = [f"a {op.operator} b"]
    for src in spellings:
        g = Graph.from_expression(f"out = {src}", **values)
        assert g.op("out") == name and g.params("out") == full
        np.testing.assert_allclose(g.value("out"), want, rtol=1e-14)
        assert np.shape(g.grad("a")) == np.shape(args[0])
    vs = [Value(a) for a in args]
    v = vs[0] @ vs[1] if op.operator else getattr(vs[0], op.method)(*vs[1:], **params)
    np.testing.assert_allclose(v.data, want, rtol=1e-14)
    v.backward()
    g = Graph.from_expression(f"out = {spellings[0]}", **values)
    for k, vk in enumerate(vs):
        if k not in op.integer_ports:
            np.testing.assert_allclose(vk.grad, g.grad(names[k]), rtol=1e-12, atol=1e-15)
    assert y == np.shape(g.value("out"))


def _torch_of(torch, op):
    """The row's PyTorch function, read from its ``torch`` spelling (or its operator)."""
    import functools
    import operator as pyop

    if op.torch:
        return functools.reduce(getattr, op.torch.split(".")[1:], torch)
    return {"+": pyop.add, "-": pyop.sub, "*": pyop.mul, "/": pyop.truediv, "**": pyop.pow}[op.operator]


@settings(max_examples=examples(25), deadline=None)
@given(case=broadcast_graphs())
def test_random_broadcasting_graphs_match_pytorch(case, torch):
    src, values = case
    g = Graph.from_expression(src, **values)
    tape = g.tape()
    ts = {}
    for i, n in enumerate(tape.order):
        op = tape.ops[i]
        if op is None:
            ts[n] = torch.tensor(g.number(n), dtype=torch.float64, requires_grad=True)
            continue
        args = [ts[s] for s in g.inputs(n)]
        p = g.params(n)
        if op.name in ("sum", "mean"):
            ts[n] = getattr(torch, op.name)(args[0])
        elif op.name == "softmax":
            ts[n] = torch.softmax(args[0], dim=p["axis"])
        elif op.name == "neg":
            ts[n] = -args[0]
        else:
            ts[n] = _torch_of(torch, op)(*args)
    out = ts[g.output_node()]
    out.backward()
    assert out.item() == pytest.approx(g.value(g.output_node()), rel=1e-9)
    for name in values:
        np.testing.assert_allclose(ts[g.resolve(name)].grad.numpy(), g.grad(name), rtol=1e-9, atol=1e-12)
