"""The example gallery: every lesson's numbers are what its document computes, and the four
examples built in engine.learn.gallery agree with gradients worked out by hand."""

import json
import math

import networkx as nx
import numpy as np
import pytest

from engine import DocumentError, Graph
from engine.learn.gallery import (
    BUILDERS,
    COMPOSITE_BUILDERS,
    Entry,
    check,
    composite_gallery,
    gallery,
    lesson_numbers,
    matches,
    stated_numbers,
)
from engine.learn.training_examples import TRAINING_BUILDERS
from resources import EXAMPLES
from tests.oracles import require

ORDER = [
    "seed_chain.json",
    "seed_fanout.json",
    "a_times_a.json",
    "seed_shared.json",
    "tanh_neuron.json",
    "micrograd_sanity.json",
    "micrograd_more_ops.json",
    "perceptron_2layer.json",
    "softplus_lse.json",
    "diamond_ladder.json",
    "neuron_three_times.json",
    "weight_tying.json",
    "micrograd_mlp_moons.json",
    "broadcast_bias.json",
    "linear_mse.json",
    "xor_mlp.json",
    "tanh_second_derivative.json",
    "rosenbrock.json",
    "nan_origin.json",
    "vanishing_sigmoid.json",
    "train_circle.json",
    "train_xor.json",
    "train_gauss.json",
    "train_spiral.json",
    "train_moons.json",
    "train_regression.json",
    "train_csv.json",
]


def entries():
    return {e.file: e for e in gallery()}


def test_gallery_lists_the_examples_in_teaching_order():
    g = gallery()
    assert [e.file for e in g] == ORDER
    for e in g:
        assert e.path.is_file(), e.file
        assert e.title.strip() and e.lesson.strip() and "\n" not in e.lesson
        assert e.expect, f"{e.file}: a lesson with nothing checked"


@pytest.mark.parametrize("file", ORDER)
def test_every_lesson_holds(file):
    e = entries()[file]
    assert check(e) == []
    g = e.load()
    assert g.meta["title"] == e.title and g.meta.get("lesson")
    assert g.output_node() is not None


@pytest.mark.parametrize("file", ORDER)
def test_every_number_in_the_lesson_is_expected(file):
    e = entries()[file]
    known = stated_numbers(e)
    written = lesson_numbers(e.lesson)
    assert written, "a lesson that states no number teaches no arithmetic"
    for w in written:
        assert any(matches(w, v) for v in known), f"{file}: {w} is not in expect/facts"


@pytest.mark.parametrize("file", ORDER)
def test_expectations_hold_with_a_fresh_evaluation(file):
    """The same numbers by other routes: the per-node grads from the step list, and
    value/grad straight from the document's own (loaded) numbers."""
    from engine.learn.stepper import composite_steps, replay

    e = entries()[file]
    g = e.load()
    grads = replay(g.steps())
    if g.definitions:  # an instance's gradient: from the steps that step over it as one node
        grads = {**replay(composite_steps(g)), **grads}
    for name, spec in e.expect.items():
        if "grad" in spec:
            np.testing.assert_allclose(grads[g.resolve(name)], spec["grad"], rtol=1e-9, atol=1e-12)


# ------------------------------------------------------------------ the examples built here


@pytest.mark.parametrize("file", list(BUILDERS))
def test_saved_examples_are_what_the_builders_make(file):
    saved = json.loads((EXAMPLES / file).read_text(encoding="utf-8"))
    built = BUILDERS[file]().to_dict()
    assert json.loads(json.dumps(built)) == saved


@pytest.mark.parametrize("file", list(TRAINING_BUILDERS))
def test_saved_training_examples_are_what_the_builders_make(file):
    saved = json.loads((EXAMPLES / file).read_text(encoding="utf-8"))
    built = TRAINING_BUILDERS[file][0]()[0].to_dict()
    saved.pop("meta", None), built.pop("meta", None)
    for key in ("title", "lesson"):
        saved.pop(key, None), built.pop(key, None)
    assert json.loads(json.dumps(built)) == saved


def test_the_moons_example_is_micrograds_demo():
    """Step 1's loss of the training example equals micrograd's own MLP(2, [16, 16, 1]) on the
    demo's data (make_moons after np.random.seed(1337), y*2 - 1) with its hinge loss and L2."""
    import random

    from micrograd.engine import Value
    from micrograd.nn import MLP

    e = entries()["train_moons.json"]
    g = e.load()
    random.seed(1337)
    model = MLP(2, [16, 16, 1])
    X, y = np.array(g.number("X")), np.array(g.number("y"))[:, 0]
    scores = [model([Value(a), Value(b)]) for a, b in X]
    data_loss = sum((1 + -yi * si).relu() for yi, si in zip(y, scores)) * (1.0 / len(y))
    loss = data_loss + 1e-4 * sum(p * p for p in model.parameters())
    assert math.isclose(e.reached["first_loss"], loss.data, rel_tol=1e-12)
    assert math.isclose(g.value("L"), loss.data, rel_tol=1e-12)


def test_a_times_a_by_hand():
    g = entries()["a_times_a.json"].load()
    a = g.number("a")
    assert g.value("y") == a * a
    assert g.grad("a") == a + a == 6.0
    assert g.nx.number_of_edges() == 2  # two wires, one per port, from the same node


def test_perceptron_by_the_chain_rule():
    g = entries()["perceptron_2layer.json"].load()
    p = {
        n: g.number(n) for n in ("x1", "x2", "w11", "w12", "b1", "w21", "w22", "b2", "w31", "w32", "b3", "t")
    }
    # Forward, by hand.
    h1 = math.tanh(p["w11"] * p["x1"] + p["w12"] * p["x2"] + p["b1"])
    h2 = math.tanh(p["w21"] * p["x1"] + p["w22"] * p["x2"] + p["b2"])
    o = math.tanh(p["w31"] * h1 + p["w32"] * h2 + p["b3"])
    loss = (o - p["t"]) ** 2
    # Backward, by hand: dL/do = 2(o - t); d tanh(z)/dz = 1 - tanh(z)^2.
    do = 2 * (o - p["t"])
    dz3 = do * (1 - o * o)
    dh1, dh2 = dz3 * p["w31"], dz3 * p["w32"]
    dz1, dz2 = dh1 * (1 - h1 * h1), dh2 * (1 - h2 * h2)
    want = {
        "t": -do,
        "w31": dz3 * h1,
        "w32": dz3 * h2,
        "b3": dz3,
        "w11": dz1 * p["x1"],
        "w12": dz1 * p["x2"],
        "b1": dz1,
        "w21": dz2 * p["x1"],
        "w22": dz2 * p["x2"],
        "b2": dz2,
        "x1": dz1 * p["w11"] + dz2 * p["w21"],
        "x2": dz1 * p["w12"] + dz2 * p["w22"],
        "h1": dh1,
        "h2": dh2,
        "o": do,
    }
    assert g.value("loss") == pytest.approx(loss, rel=1e-12)
    for name, d in want.items():
        assert g.grad(name) == pytest.approx(d, rel=1e-12, abs=1e-15), name
    # Its shape: 2 inputs, 2 hidden tanh units, 1 tanh output, weights w.., biases b...
    tanhs = [n for n in g.nodes() if g.op(n) == "tanh"]
    assert sorted(g.name(n) for n in tanhs) == ["h1", "h2", "o"]
    assert g.name(g.output_node()) == "loss"


def test_log_sum_exp_gradients_are_the_softmax_weights():
    g = entries()["softplus_lse.json"].load()
    a, b = g.number("a"), g.number("b")
    # softmax, computed stably by hand: weights e^(a-b)/(e^(a-b) + 1) and 1/(e^(a-b) + 1).
    r = math.exp(b - a)
    assert g.grad("a") == pytest.approx(1 / (1 + r), rel=1e-12)
    assert g.grad("b") == pytest.approx(r / (1 + r), rel=1e-12)
    assert g.grad("a") + g.grad("b") == pytest.approx(1.0, rel=1e-15)
    assert g.value("lse") == pytest.approx(max(a, b) + math.log1p(math.exp(-abs(a - b))), rel=1e-15)
    assert abs(g.grad("m")) < 1e-12
    # The naive branch beside it overflows, and is marked, but does not touch the output.
    assert g.value("naive") == math.inf and g.grad("naive") is None
    assert g.resolve("naive") in g.problems()
    assert g.resolve("lse") not in g.problems()


def test_diamond_ladder_one_pass_many_paths():
    g = entries()["diamond_ladder.json"].load()
    x0, c = g.number("x0"), g.number("c")
    levels = 10
    assert g.grad("x0") == pytest.approx((1 + c) ** levels, rel=1e-15)
    assert g.value("x10") == pytest.approx(x0 * (1 + c) ** levels, rel=1e-15)
    assert g.grad("c") == pytest.approx(levels * x0 * (1 + c) ** (levels - 1), rel=1e-12)
    # 2^10 distinct paths from x0 to the output, counted independently by networkx.
    paths = sum(1 for _ in nx.all_simple_edge_paths(g.nx, g.resolve("x0"), g.output_node()))
    assert paths == 2**levels == 1024
    # ...and backward processes each node once.
    steps = g.steps()
    assert len(steps) == len(g) == 22 and len({s[0] for s in steps}) == 22


def test_diamond_ladder_takes_other_sizes():
    from engine.learn.gallery import diamond_ladder

    g = diamond_ladder(4)
    assert g.grad("x0") == pytest.approx(1.5**4) and len(g) == 10


# ------------------------------------------------------------------ the checker itself


def test_lesson_numbers():
    assert lesson_numbers("x9.grad = 1.5, x = -4, so a - 3 = 0.25 (w31 = 2)") == [
        "1.5",
        "-4",
        "3",
        "0.25",
        "2",
    ]
    assert lesson_numbers("a.grad = 20 + 15 = 35.") == ["20", "15", "35"]
    assert lesson_numbers("1 − o² and exp(1000)") == ["1", "1000"]
    assert lesson_numbers("x0, w12 and y2 are names, 3x is a number") == ["3"]


def test_matches_at_written_precision():
    assert matches("57.67", 57.6650390625)
    assert not matches("57.66", 57.6650390625)
    assert matches("1", 0.9999999999999996)
    assert matches("0", 1.1e-16) and matches("0", -1e-17)
    assert matches("-4", -4.0) and not matches("4", -4.0)
    assert not matches("1", None) and not matches("1", math.nan) and not matches("1", True)


def broken(**changes):
    e = entries()["seed_fanout.json"]
    data = {"file": e.file, "title": e.title, "lesson": e.lesson, "expect": e.expect, "facts": e.facts}
    data.update(changes)
    return Entry(**data)


def test_check_reports_what_does_not_hold():
    assert any("a.grad is 35.0, expected 36" in p for p in check(broken(expect={"a": {"grad": 36}})))
    assert any("says 99" in p for p in check(broken(lesson="a.grad = 99", expect={"a": {"grad": 35}})))
    assert any("no node named" in p for p in check(broken(expect={"zz": {"grad": 1}})))
    assert any("title" in p for p in check(broken(title="Another title")))
    assert any("nodes" in p for p in check(broken(facts={"nodes": 9})))
    assert any("unnamed numbers" in p for p in check(broken(facts={"constants": [1, 2, 3]})))
    assert any("contributions" in p for p in check(broken(expect={"a": {"contributions": [35]}})))
    assert any("paths" in p for p in check(broken(expect={"a": {"paths": 3}})))
    assert check(broken(expect={"a": {"paths": 2}}, lesson="two paths")) == []
    off_path = Graph()
    off_path.add_number(1.0, name="a")
    off_path.add_number(2.0, name="b")  # the output (a tie of sinks goes to the highest id)
    assert "a.paths is 0, expected 1" in check(broken(expect={"a": {"paths": 1}}, lesson="x"), off_path)
    missing = broken(file="no_such_example.json")
    assert check(missing) and "cannot open" in check(missing)[0]


@pytest.mark.parametrize(
    "text, why",
    [
        ("{", "cannot read"),
        ('{"file": "a.json"}', "list"),
        ("[3]", "object"),
        ('[{"file": "a.json", "title": "t"}]', "lesson"),
        ('[{"file": "../../etc/passwd.json", "title": "t", "lesson": "l"}]', "plain"),
        ('[{"file": "a.txt", "title": "t", "lesson": "l"}]', "plain"),
        ('[{"file": "a.json", "title": "t", "lesson": "l", "expect": {"a": {"gradient": 1}}}]', "expect"),
        ('[{"file": "a.json", "title": "t", "lesson": "l", "expect": [1]}]', "expect"),
        ('[{"file": "a.json", "title": "t", "lesson": "l", "facts": {"edges": 1}}]', "facts"),
        ('[{"file": "a.json", "title": "t", "lesson": "l", "expect": {"a": {"grad": "1"}}}]', "a number"),
        ('[{"file": "a.json", "title": "t", "lesson": "l", "expect": {"a": {"grad": true}}}]', "a number"),
        ('[{"file": "a.json", "title": "t", "lesson": "l", "expect": {"a": {"contributions": 1}}}]', "list"),
        ('[{"file": "a.json", "title": "t", "lesson": "l", "facts": {"constants": [1, null]}}]', "list"),
        ('[{"file": "a.json", "title": "t", "lesson": "l", "facts": {"nodes": [3]}}]', "a number"),
    ],
)
def test_malformed_gallery_is_a_document_error(tmp_path, text, why):
    p = tmp_path / "gallery.json"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(DocumentError, match=why):
        gallery(p)


def test_missing_gallery_is_a_document_error(tmp_path):
    with pytest.raises(DocumentError):
        gallery(tmp_path / "nope.json")


def test_examples_load_as_graphs():
    for e in gallery():
        assert isinstance(e.load(), Graph)


# ------------------------------------------------------------------ the composite examples


def composite_entries():
    return {e.file: e for e in composite_gallery()}


@pytest.mark.parametrize("file", list(COMPOSITE_BUILDERS))
def test_composite_examples_hold_their_lessons_and_are_what_the_builders_make(file):
    from engine.learn.stepper import composite_steps, replay

    e = composite_entries()[file]
    assert check(e) == [] and e.expect
    for w in lesson_numbers(e.lesson):
        assert any(matches(w, v) for v in stated_numbers(e)), w
    saved = json.loads(e.path.read_text(encoding="utf-8"))
    assert json.loads(json.dumps(COMPOSITE_BUILDERS[file]().to_dict())) == saved
    g = e.load()
    grads = replay(g.steps())  # the same numbers by another route: the flat step list,
    grads.update(replay(composite_steps(g)))  # and instances stepped over as one node each
    for name, spec in e.expect.items():
        if "grad" in spec:
            np.testing.assert_allclose(grads[g.resolve(name)], spec["grad"], rtol=1e-9, atol=1e-12)


def test_the_neuron_used_three_times_computes_the_flat_perceptron():
    grouped = composite_entries()["neuron_three_times.json"].load()
    flat = entries()["perceptron_2layer.json"].load()
    assert len(grouped.definitions["neuron"].inputs) == 5
    assert len([n for n in grouped.nodes() if grouped.op(n) == "call"]) == 3
    for name in ("w11", "w12", "b1", "w21", "w22", "b2", "w31", "w32", "b3", "x1", "x2", "t"):
        assert grouped.grad(name) == pytest.approx(flat.grad(name), rel=1e-12), name
    assert grouped.value("loss") == pytest.approx(flat.value("loss"), rel=1e-15)


def test_weight_tying_by_hand():
    g = composite_entries()["weight_tying.json"].load()
    a, b, w = g.number("a"), g.number("b"), g.number("scale.w")
    assert g.value("y") == w * a + w * b
    assert g.grad("scale.w") == a + b  # d/dw (w*a + w*b), one term per instance
    assert sorted(amount for _i, _p, amount in g.contributions("scale.w")) == [a, b]


def test_the_grouped_mlp_computes_micrograds_loss_and_gradients():
    import random

    mg = require("micrograd.nn")
    from micrograd.engine import Value as MgValue

    from engine.learn.gallery import moons

    xs, ys = moons(8)
    random.seed(1337)
    model = mg.MLP(2, [16, 16, 1])
    scores = [model(list(map(MgValue, x))) for x in xs]
    losses = [(1 + -y * s).relu() for y, s in zip(ys, scores)]
    loss = sum(losses) * (1.0 / len(losses)) + 1e-4 * sum(p * p for p in model.parameters())
    loss.backward()
    g = composite_entries()["micrograd_mlp_moons.json"].load()
    assert g.value("loss") == pytest.approx(loss.data, rel=1e-12)
    bank = next(d for d in g.definitions.values() if d.name.endswith("parameters"))
    consts = bank.constants()
    params = model.parameters()
    for k in (0, 100, len(params) - 1):
        assert g.grad((bank.name, consts[k])) == pytest.approx(params[k].grad, rel=1e-9, abs=1e-15)
