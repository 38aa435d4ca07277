"""Second order (issue 16.3), gradient health (16.5) and the four examples of issue 16:
Hessians against torch.autograd.functional.hessian, a Jacobian against
torch.autograd.functional.jacobian, Newton's method and gradient descent on Rosenbrock against
loops written here with the derivatives worked out by hand, the contour grid, vanishing and
dead gradients against hand calculations."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings

from engine import Graph, InvalidValueError, Value
from engine.learn.descent import plan_descent
from engine.learn.gallery import gallery, nan_origin, rosenbrock, tanh_second_derivative, vanishing_sigmoid
from engine.learn.health import gradient_health, magnitude, read
from engine.learn.second_order import entries, hessian, jacobian, output_grid, plan_newton
from tests.strategies import build_graph, specs
from tests.test_higher_order import _torch_fn


@settings(max_examples=15, deadline=None)
@given(specs(smooth=True, max_ops=8, min_leaves=2, max_leaves=3))
def test_hessian_of_random_scalar_programs_matches_pytorch(spec):
    torch = pytest.importorskip("torch")
    leaves, nodes = spec
    g, ids = build_graph(spec)
    h = hessian(g, [ids[k] for k in range(len(leaves))])

    def f(*ts):
        vals = list(ts)
        for name, ins in nodes:
            vals.append(_torch_fn(torch, name)(*[vals[i] for i in ins]))
        return vals[-1]

    want = torch.autograd.functional.hessian(f, tuple(torch.tensor(v, dtype=torch.float64) for v in leaves))
    want = np.array([[float(want[i][j]) for j in range(len(leaves))] for i in range(len(leaves))])
    scale = max(1.0, float(np.max(np.abs(want))))
    assert np.all(np.abs(h.matrix - want) <= 1e-9 * np.maximum(np.abs(want), 1e-3 * scale))
    assert h.asymmetry <= 1e-9 * scale


def test_hessian_over_array_elements_matches_pytorch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    x, W, b = rng.normal(size=(4, 3)), rng.normal(size=(3, 2)), rng.normal(size=(2,))
    g = Graph.from_expression("L = sum(tanh(x @ W + b) ** 2)", x=x, W=W, b=b)
    h = hessian(g, ["W", "b"])
    assert h.labels[:2] == ["W[0, 0]", "W[0, 1]"] and h.labels[-1] == "b[1]"

    def f(Wt, bt):
        return (torch.tanh(torch.tensor(x) @ Wt + bt) ** 2).sum()

    hw = torch.autograd.functional.hessian(f, (torch.tensor(W), torch.tensor(b)))
    full = np.block(
        [
            [hw[0][0].reshape(6, 6).numpy(), hw[0][1].reshape(6, 2).numpy()],
            [hw[1][0].reshape(2, 6).numpy(), hw[1][1].numpy()],
        ]
    )
    np.testing.assert_allclose(h.matrix, full, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(h.eigenvalues, np.linalg.eigvalsh(full), rtol=1e-9, atol=1e-10)
    one = hessian(g, [("W", (1, 0)), ("b", (0,))])
    np.testing.assert_allclose(one.matrix, full[np.ix_([2, 6], [2, 6])], rtol=1e-9, atol=1e-12)


def test_jacobian_of_an_array_output_matches_pytorch():
    torch = pytest.importorskip("torch")
    z = np.array([0.5, -1.0, 2.0])
    g = Graph.from_expression("p = softmax(z * w)", z=z, w=np.array([1.0, 2.0, 0.5]))
    jac = jacobian(g, "p", ["z"])
    want = torch.autograd.functional.jacobian(
        lambda t: torch.softmax(t * torch.tensor([1.0, 2.0, 0.5], dtype=torch.float64), dim=-1),
        torch.tensor(z),
    )
    np.testing.assert_allclose(jac.matrix, want.numpy(), rtol=1e-12, atol=1e-15)
    assert jac.rows == [(0,), (1,), (2,)] and jac.labels == ["z[0]", "z[1]", "z[2]"]


def test_entries_refuse_what_does_not_fit():
    g = Graph.from_expression("y = sum(x * x)", x=np.ones((30, 20)))
    with pytest.raises(InvalidValueError, match="small graphs"):
        entries(g, ["x"])
    with pytest.raises(InvalidValueError, match="no element"):
        entries(g, [("x", (30, 0))])


def _rosenbrock_by_hand(x, y):
    f = (1 - x) ** 2 + 100 * (y - x * x) ** 2
    grad = np.array([-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)])
    hess = np.array([[2 - 400 * (y - x * x) + 800 * x * x, -400 * x], [-400 * x, 200.0]])
    return f, grad, hess


def test_newton_on_rosenbrock_follows_the_hand_written_iteration():
    g = rosenbrock()
    r = plan_newton(g, steps=20)
    x, y = -1.2, 1.0
    xi, yi = g.resolve("x"), g.resolve("y")
    for k, point in enumerate(r.path):
        assert point[xi] == pytest.approx(x, rel=1e-9, abs=1e-12), k
        assert point[yi] == pytest.approx(y, rel=1e-9, abs=1e-12), k
        f, grad, hess = _rosenbrock_by_hand(x, y)
        assert r.history[k] == pytest.approx(f, rel=1e-9, abs=1e-9)  # near 0, f cancels
        x, y = np.array([x, y]) - np.linalg.solve(hess, grad)
    assert r.steps_taken == 7 and r.final == {xi: 1.0, yi: 1.0} and r.stopped == "converged after 7 steps"
    assert g.number("x") == -1.2  # planned on a copy


def test_gradient_descent_on_rosenbrock_follows_the_hand_written_loop():
    g = rosenbrock()
    r = plan_descent(g, steps=1000, lr=0.001, keep_path=True)
    x, y = -1.2, 1.0
    for _ in range(1000):
        _, grad, _ = _rosenbrock_by_hand(x, y)
        x, y = x - 0.001 * grad[0], y - 0.001 * grad[1]
    assert r.path[-1][g.resolve("x")] == pytest.approx(x, rel=1e-9)
    assert r.history[-1] == pytest.approx((1 - x) ** 2 + 100 * (y - x * x) ** 2, rel=1e-9)
    assert len(r.path) == 1001 and r.history[-1] > 0.4  # still crawling along the valley


def test_newton_refuses_bad_settings_and_survives_a_singular_hessian():
    g = Graph.from_expression("f = (a + b) ** 2", a=1.0, b=2.0)  # H = [[2, 2], [2, 2]]: singular
    r = plan_newton(g, steps=3)
    assert r.history[-1] == pytest.approx(0.0, abs=1e-20)  # least squares still finds a minimiser
    with pytest.raises(ValueError, match="damping"):
        plan_newton(g, damping=-1.0)


def test_output_grid_is_the_output_at_each_point():
    g = rosenbrock()
    xs, ys, z = output_grid(g, "x", "y", (-2, 2), (-1, 3), n=7)
    for i, yv in enumerate(ys):
        for j, xv in enumerate(xs):
            assert z[i, j] == pytest.approx(_rosenbrock_by_hand(xv, yv)[0], rel=1e-12)
    h = Graph.from_expression("f = sum(v * x) + y", v=np.array([1.0, 2.0]), x=0.5, y=1.0)  # per point
    xs, ys, z = output_grid(h, "x", "y", (0, 1), (0, 1), n=3)
    assert z[2, 1] == pytest.approx(3 * 0.5 + 1.0)


# ---------------------------------------------------------------------------- health


def test_health_of_a_sigmoid_chain_against_the_hand_product():
    g = vanishing_sigmoid()
    h = gradient_health(g)
    hs = [1.0]
    for _ in range(6):
        hs.append(1 / (1 + math.exp(-0.1 * hs[-1])))
    dz = 1.0
    for k in range(6, 0, -1):
        dz *= hs[k] * (1 - hs[k])  # σ' at layer k
        w = g.resolve(f"w{k}")
        want = dz * hs[k - 1]
        assert h.nodes[w].log10 == pytest.approx(math.log10(want), abs=1e-9)
        assert h.nodes[w].vanishing == (want < 1e-8)
        dz *= 0.1  # times w toward the layer below
    lo, hi = h.scale
    assert hi == 0.0 and lo == pytest.approx(math.log10(dz), abs=1e-9)  # x.grad is the smallest
    layers = {f"layer {k}": [f"w{k}", f"z{k}", f"h{k}"] for k in range(1, 7)}
    summary = gradient_health(g, groups=layers).groups
    assert [s.name for s in summary][:2] == ["layer 1", "layer 2"]
    assert summary[0].vanishing == 3 and summary[-1].vanishing == 0
    assert summary[0].reading.log10 < summary[3].reading.log10 < summary[-1].reading.log10


def test_dead_relus_exploding_and_the_magnitude_of_arrays():
    x = np.array([[-1.0, 2.0, -3.0], [-0.5, -1.0, -2.0]])
    g = Graph.from_expression("h = relu(x)\nd = relu(x - 5)\nL = sum(h * 1e9) + sum(d)", x=x)
    h = gradient_health(g)
    assert h.nodes[g.resolve("d")].dead_relu and not h.nodes[g.resolve("h")].dead_relu
    assert h.nodes[g.resolve("h")].dead_units == 2  # columns 0 and 2: no row passes
    assert g.resolve("h") in h.exploding()
    assert magnitude(np.array([3.0, 4.0])) == pytest.approx(math.sqrt(12.5))
    assert magnitude(np.array([1e200, 1e200])) == pytest.approx(1e200)  # no overflow in the squares
    assert read(0.0).vanishing and read(0.0).log10 == -math.inf and read(None).log10 is None
    assert read(math.nan).nonfinite


# ---------------------------------------------------------------------------- the gallery


def test_tanh_second_derivative_example_by_hand():
    g = tanh_second_derivative()
    t = math.tanh(0.5)
    dx = g.resolve("∂y/∂x")
    assert g.output_node() == dx and g.value(dx) == pytest.approx(1 - t * t, rel=1e-15)
    assert g.grad("x") == pytest.approx(-2 * t * (1 - t * t), rel=1e-13)
    assert {g.role(n) for n in g.nodes() if n > g.resolve("y")} == {"backward"}


def test_nan_origin_example_traces_to_the_overflowing_exp():
    g = nan_origin()
    assert math.isnan(g.value("p"))
    node, reason = g.nonfinite_origin("p")
    assert g.name(node) == "ea" and reason == "exp overflowed at 800"
    assert g.value("q") == pytest.approx(1 / (1 + math.exp(-1)), rel=1e-15)
    assert math.isnan(g.value("loss")) and g.nonfinite_origin("loss") == (node, reason)


def test_the_issue_16_examples_are_in_the_gallery():
    files = [e.file for e in gallery()]
    for name in (
        "tanh_second_derivative.json",
        "rosenbrock.json",
        "nan_origin.json",
        "vanishing_sigmoid.json",
    ):
        assert name in files


def test_value_hessian_of_a_neuron():
    # the same through Values only: d²/dw² tanh(w·x) = x² · (-2 t (1 - t²))
    w = Value(0.3, name="w")
    g = (w * 2.0).tanh().graph()
    t = math.tanh(0.6)
    assert hessian(g, ["w"]).matrix[0, 0] == pytest.approx(4 * (-2 * t * (1 - t * t)), rel=1e-13)
