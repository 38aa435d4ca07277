"""The example gallery: an ordered list of bundled documents, each with a one-line lesson
whose numbers are checked against the document.

``resources/examples/gallery.json`` holds, per example::

    {"file": "seed_fanout.json", "title": "...", "lesson": "a.grad = 20 + 15 = 35 ...",
     "expect": {"a": {"value": 3, "grad": 35, "contributions": [15, 20]}, ...},
     "facts": {"nodes": 8, "constants": [2, 3, 4]}}

``expect`` maps node names to what the document must compute: ``value``, ``grad``,
``contributions`` (the amounts sent back along each wire out of the node, in any order),
``paths`` (how many distinct paths lead from the node to the output) and ``shape``. ``facts`` are
about the whole document: ``nodes`` (its size), ``constants`` (the values of its unnamed
numbers), ``origin`` (``{"node": name, "reason": text}``: where the output's NaN or inf was born,
the reason quoted in the lesson), ``newton`` (``[steps, output]``: Newton's method from the
document's values converges in that many steps to that output), ``descent`` (``[lr, steps,
output]``: gradient descent reaches that output) and ``vanishing`` (the named nodes Gradient
Health marks as vanishing).
A training example also has ``train`` (the Trainer's settings and how long to run, see
:mod:`engine.learn.training_examples`) and ``reached`` (what that run reaches: ``steps``,
``loss``, ``first_loss``, ``accuracy``, ``test_loss``, ``test_accuracy``), which :func:`check`
reproduces by running it. :func:`check` compares all of it, and every number written in the
lesson must be one of these numbers (at the precision written), so a lesson cannot state a
number nobody checks.

Run ``python -m engine.learn.gallery`` to rebuild the four examples this module defines.

>>> [e.file for e in gallery()][:2]
['seed_chain.json', 'seed_fanout.json']
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..core.errors import DocumentError, GraphError
from ..core.graph import Graph
from ..core.ops import NUMBER
from ..core.value import Value

EXPECT_KEYS = ("value", "grad", "contributions", "paths", "shape")
REACHED_KEYS = ("steps", "loss", "first_loss", "accuracy", "test_loss", "test_accuracy")
RUN_REL = 1e-6  # a run of hundreds of steps: summation order may differ in the last bits
FACT_KEYS = ("nodes", "constants", "origin", "newton", "descent", "vanishing")
REL, ABS = 1e-9, 1e-12

# A number in prose: digits with an optional fraction. A minus sign belongs to it only where it
# cannot be subtraction (at the start, after a space, "(", "=", "," or "["); digits inside names
# such as x9 or w31 are not numbers.
_NUMBER = re.compile(r"(?<![^\s(=,\[])-\d+(?:\.\d+)?|(?<![\w.])\d+(?:\.\d+)?")


@dataclass(frozen=True)
class Entry:
    """One gallery example: its document file (in ``resources.EXAMPLES``), title, one-line
    lesson, and the numbers the lesson relies on (see the module docstring)."""

    file: str
    title: str
    lesson: str
    expect: dict = field(default_factory=dict)
    facts: dict = field(default_factory=dict)
    folder: Path | None = None
    train: dict = field(default_factory=dict)
    reached: dict = field(default_factory=dict)  # where the document lives: the gallery file's folder

    @property
    def path(self) -> Path:
        from resources import EXAMPLES

        return (EXAMPLES if self.folder is None else self.folder) / self.file

    def load(self) -> Graph:
        """The example document (DocumentError if it is missing or invalid)."""
        return Graph.load(self.path)


def gallery(path=None) -> list[Entry]:
    """The examples in teaching order, read from ``gallery.json`` (or ``path``).

    Raises DocumentError if the list is unreadable or malformed; the documents themselves
    are only read by :meth:`Entry.load`.
    """
    if path is None:
        from resources import EXAMPLES

        path = EXAMPLES / "gallery.json"
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as e:
        raise DocumentError(f"cannot read the gallery {str(path)!r}: {e}") from None
    if not isinstance(data, list):
        raise DocumentError("the gallery must be a JSON list of examples")
    folder = Path(path).parent
    return [dataclasses.replace(_entry(k, item), folder=folder) for k, item in enumerate(data)]


def tensor_gallery() -> list[Entry]:
    """The tensor examples of the gallery (broadcasting, a linear layer with MSE, the XOR
    MLP): the entries whose documents :data:`TENSOR_BUILDERS` makes."""
    return [e for e in gallery() if e.file in TENSOR_BUILDERS]


def _entry(k: int, item) -> Entry:
    where = f"gallery[{k}]"
    if not isinstance(item, dict):
        raise DocumentError(f"{where} must be an object")
    for key in ("file", "title", "lesson"):
        if not isinstance(item.get(key), str) or not item[key].strip():
            raise DocumentError(f'{where} needs a "{key}" text')
    file = item["file"]
    # Only a plain file name inside the examples folder, never a path elsewhere.
    if Path(file).name != file or not file.endswith(".json") or file.startswith("."):
        raise DocumentError(f"{where}: {file!r} is not a plain .json file name")
    expect = item.get("expect", {})
    facts = item.get("facts", {})
    if not isinstance(expect, dict) or not all(
        isinstance(v, dict) and set(v) <= set(EXPECT_KEYS) for v in expect.values()
    ):
        raise DocumentError(f'{where}: "expect" maps names to {{{", ".join(EXPECT_KEYS)}}}')
    if not isinstance(facts, dict) or not set(facts) <= set(FACT_KEYS):
        raise DocumentError(f'{where}: "facts" may hold {", ".join(FACT_KEYS)}')
    origin = facts.get("origin")
    if origin is not None and not (
        isinstance(origin, dict)
        and set(origin) == {"node", "reason"}
        and all(isinstance(v, str) for v in origin.values())
    ):
        raise DocumentError(f'{where}: facts.origin must be {{"node": name, "reason": text}}')
    names = facts.get("vanishing")
    if names is not None and not (isinstance(names, list) and all(isinstance(v, str) for v in names)):
        raise DocumentError(f"{where}: facts.vanishing must be a list of node names")
    train, reached = item.get("train", {}), item.get("reached", {})
    if not isinstance(train, dict) or not isinstance(reached, dict) or bool(train) != bool(reached):
        raise DocumentError(f'{where}: "train" and "reached" come together, as objects')
    if not set(reached) <= set(REACHED_KEYS) or not all(map(_is_number, reached.values())):
        raise DocumentError(f'{where}: "reached" maps {", ".join(REACHED_KEYS)} to numbers')
    lists = ("contributions", "constants", "shape", "newton", "descent")
    for name, spec in [*expect.items(), ("facts", facts)]:
        for key, v in spec.items():
            if key in ("origin", "vanishing"):
                continue
            if key in lists:
                ok = isinstance(v, list) and all(map(_is_number, v))
            elif key in ("value", "grad") and isinstance(v, list):  # an array node: nested lists
                ok = bool(v) and all(map(_is_number, _flat(v)))
            else:
                ok = _is_number(v)
            if not ok:
                raise DocumentError(
                    f"{where}: {name}.{key} must be {'a list of numbers' if key in lists else 'a number'}"
                    + (" (or nested lists of numbers for an array)" if key in ("value", "grad") else "")
                )
    return Entry(file, item["title"], item["lesson"], expect, facts, train=train, reached=reached)


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


# ------------------------------------------------------------------ checking a lesson


def lesson_numbers(text: str) -> list[str]:
    """The numbers written in a lesson, as written (so their precision is known).

    >>> lesson_numbers("x9.grad = 1.5, x = -4, so a - 3 = 0.25 (w31 = 2)")
    ['1.5', '-4', '3', '0.25', '2']
    """
    return _NUMBER.findall(text)


def matches(written: str, value) -> bool:
    """Whether ``value`` shows as ``written`` at the written precision (57.67 ~ 57.665...)."""
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
        return False
    decimals = len(written.partition(".")[2])
    return round(value, decimals) == float(written)


def stated_numbers(entry: Entry) -> list:
    """Every number in the entry's expect and facts."""
    out = []
    for spec in entry.expect.values():
        for v in spec.values():
            out.extend(_flat(v))
    for key, v in entry.facts.items():
        if key not in ("origin", "vanishing"):
            out.extend(_flat(v))
    for v in entry.train.values():
        out.extend(x for x in _flat(v) if _is_number(x))
    for key, v in entry.reached.items():
        out.append(v)
        if "accuracy" in key:
            out.append(100 * v)  # written as a percentage
    return out


def _flat(v) -> list:
    """Nested lists (an array's expectation) as one flat list of numbers."""
    if isinstance(v, list):
        return [x for e in v for x in _flat(e)]
    return [v]


def check(entry: Entry, graph: Graph | None = None) -> list[str]:
    """What in the entry does not hold for its document, in words; [] when it all does.

    >>> [check(e) for e in gallery()][:3]
    [[], [], []]
    """
    try:
        g = entry.load() if graph is None else graph
    except DocumentError as e:
        return [str(e)]
    problems = []
    if g.meta.get("title") != entry.title:
        problems.append(f"the document's title is {g.meta.get('title')!r}, the gallery says {entry.title!r}")
    out = g.output_node()
    for name, spec in entry.expect.items():
        if name not in g:
            problems.append(f"no node named {name!r}")
            continue
        for key, want in spec.items():
            got = _measure(g, name, key, out)
            if not _same(got, want):
                problems.append(f"{name}.{key} is {got}, expected {want}")
    if "nodes" in entry.facts and len(g) != entry.facts["nodes"]:
        problems.append(f"the document has {len(g)} nodes, expected {entry.facts['nodes']}")
    if "constants" in entry.facts:
        consts = sorted(g.number(n) for n in g.nodes() if g.op(n) == NUMBER and not g.name(n))
        if not _same(consts, sorted(entry.facts["constants"])):
            problems.append(f"the unnamed numbers are {consts}, expected {entry.facts['constants']}")
    problems += _second_order_facts(entry, g, out)
    if entry.train:
        problems.extend(_check_run(entry, g))
    known = stated_numbers(entry)
    for written in lesson_numbers(entry.lesson):
        if not any(matches(written, v) for v in known):
            problems.append(f"the lesson says {written}, which no expectation checks")
    return problems


def _second_order_facts(entry: Entry, g: Graph, out) -> list[str]:
    """The facts about origins, Newton's method, descent and vanishing gradients."""
    problems = []
    facts = entry.facts
    if "origin" in facts:
        want = facts["origin"]
        got = g.nonfinite_origin(out) if out is not None else None
        if got is None or got != (g.resolve(want["node"]) if want["node"] in g else None, want["reason"]):
            problems.append(f"the output's non-finite origin is {got}, expected {want}")
        if want["reason"] not in entry.lesson:
            problems.append(f"the lesson does not quote the reason {want['reason']!r}")
    if "newton" in facts:
        from .second_order import plan_newton

        steps, final = facts["newton"]
        r = plan_newton(g, steps=int(steps) + 1)
        if r.steps_taken != steps or not _same(r.history[-1], final) or not r.stopped.startswith("converged"):
            problems.append(f"Newton's method took {r.steps_taken} steps to {r.history[-1]} ({r.stopped})")
    if "descent" in facts:
        from .descent import plan_descent

        lr, steps, final = facts["descent"]
        r = plan_descent(g, steps=int(steps), lr=lr)
        if not _same(r.history[-1], final):
            problems.append(f"gradient descent reached {r.history[-1]}, expected {final}")
    if "vanishing" in facts:
        from .health import gradient_health

        h = gradient_health(g, out)
        got = sorted(g.name(n) for n in h.vanishing() if g.name(n))
        if got != sorted(facts["vanishing"]):
            problems.append(f"the vanishing named nodes are {got}, expected {sorted(facts['vanishing'])}")
    return problems


def _check_run(entry: Entry, g: Graph) -> list[str]:
    """Run the entry's training on a copy and compare what it reaches."""
    from ..training import Trainer
    from .training_examples import run_options, trainer_options

    try:
        run = Trainer(g, **trainer_options(entry.train))
        result = run.run(**run_options(entry.train))
    except (GraphError, ValueError, TypeError) as e:  # a malformed "train" is reported, not raised
        return [f"the training run cannot start: {type(e).__name__}: {e}"]
    got = {"steps": result.steps, "loss": run.history[-1].loss if run.history else None,
           "first_loss": run.history[0].loss if run.history else None,
           "accuracy": run.history[-1].accuracy if run.history else None}
    if "test_loss" in entry.reached or "test_accuracy" in entry.reached:
        ev = run.evaluate("test")
        got.update(test_loss=ev.loss, test_accuracy=ev.accuracy)
    problems = []
    for key, want in entry.reached.items():
        have = got.get(key)
        if have is None or not math.isclose(have, want, rel_tol=RUN_REL, abs_tol=ABS):
            problems.append(f"the run reaches {key} = {have}, expected {want}")
    return problems


def _measure(g: Graph, name, key, out):
    if key == "shape":
        shape = g.shape(name)
        return None if shape is None else list(shape)
    if key == "value":
        return g.value(name)
    if key == "grad":
        return g.grad(name)
    if key == "contributions":
        return sorted(amount for _, _, amount in g.contributions(name))
    return None if out is None else _count_paths(g, g.resolve(name), out)


def _count_paths(g: Graph, source, target) -> int:
    """Distinct paths from source to target (parallel wires count separately), by one pass in
    reverse topological order rather than by enumerating them."""
    order = g.tape().order
    paths = dict.fromkeys(order, 0)
    paths[target] = 1
    for n in reversed(order):
        if n != target:
            paths[n] = sum(paths[t] for t, _port in g.consumers(n))
    return paths[source]


def _same(got, want) -> bool:
    if type(got).__name__ == "ndarray":
        got = got.tolist()
    if isinstance(want, list):
        return isinstance(got, list) and len(got) == len(want) and all(map(_same, got, want))
    if got is None or want is None:
        return got is want
    return math.isclose(got, want, rel_tol=REL, abs_tol=ABS)


# ------------------------------------------------------------------ the examples built here


def _named(v: Value, name: str) -> Value:
    v.name = name
    return v


def a_times_a() -> Graph:
    """y = a*a with a = 3: two wires from one node, a.grad = 3 + 3 = 6."""
    a = Value(3.0, name="a")
    g = _named(a * a, "y").graph()
    g.meta["title"] = "Two wires from one node: a * a"
    g.meta["lesson"] = (
        "y = a * a with a = 3. Both input ports of × are wired to the same node a, and each wire "
        "carries back the other input: 3 along the first, 3 along the second. a collects both, "
        "so a.grad = 3 + 3 = 6, which is dy/da = a + a. An engine that keeps a node's inputs in a set "
        "would see one wire and report 3."
    )
    return g


def perceptron_2layer() -> Graph:
    """Two inputs, two tanh hidden units, one tanh output, squared error against a target."""
    x1, x2 = Value(1.0, name="x1"), Value(-2.0, name="x2")
    w11, w12, b1 = Value(0.5, name="w11"), Value(-0.3, name="w12"), Value(0.1, name="b1")
    w21, w22, b2 = Value(-0.8, name="w21"), Value(0.2, name="w22"), Value(0.4, name="b2")
    w31, w32, b3 = Value(1.2, name="w31"), Value(-0.7, name="w32"), Value(0.05, name="b3")
    t = Value(0.5, name="t")
    # Operand order follows the drawing (upper wire into the upper port), so no wires cross.
    h1 = _named(_named(w11 * x1 + w12 * x2 + b1, "z1").tanh(), "h1")
    h2 = _named(_named(x1 * w21 + x2 * w22 + b2, "z2").tanh(), "h2")
    o = _named(_named(h1 * w31 + h2 * w32 + b3, "z3").tanh(), "o")
    loss = _named(_named(o - t, "err") ** 2, "loss")
    g = loss.graph()  # laid out by the layered layout, like every example
    g.meta["title"] = "A 2-layer perceptron and its squared error"
    g.meta["lesson"] = (
        "Inputs x1 = 1, x2 = -2; hidden units h1 = tanh(w11*x1 + w12*x2 + b1) and "
        "h2 = tanh(x1*w21 + x2*w22 + b2); output o = tanh(h1*w31 + h2*w32 + b3); "
        "loss = (o - t)**2 with target t = 0.5. Backward starts at loss = 0.1663 and sends "
        "2(o - t) = 0.8157 into o, then through each tanh (times 1 - tanh²) and each weighted sum. "
        "A weight's gradient is the gradient at its sum times the input it multiplies: "
        "w31.grad = 0.1195 = z3.grad * h1. Descend (its defaults train the w's and b's) brings o to "
        "the target t and the loss to 0 in one Run."
    )
    g.meta["descend"] = {"lr": 0.1, "steps": 100, "trainable": ["w11", "w12", "b1", "w21", "w22", "b2",
                                                                "w31", "w32", "b3"]}
    return g


def softplus_lse() -> Graph:
    """log(exp(a) + exp(b)) two ways: overflowing, and shifted by m = max(a, b)."""
    a, b = Value(1000.0, name="a"), Value(998.0, name="b")
    m = _named((a - b).relu() + b, "m")
    s = _named((a - m).exp() + (b - m).exp(), "s")
    lse = _named(s.log() + m, "lse")
    g = lse.graph()
    # The naive branch is no ancestor of lse: it is added beside it, sharing a and b.
    e1, e2, add, naive = g.add_op("exp"), g.add_op("exp"), g.add_op("add"), g.add_op("log", name="naive")
    for src, dst, port in (("a", e1, 0), ("b", e2, 0), (e1, add, 0), (e2, add, 1), (add, naive, 0)):
        g.connect(src, dst, port)
    g.set_output("lse")
    g.apply_layout()
    g.meta["title"] = "Log-sum-exp without overflow"
    g.meta["lesson"] = (
        "log(exp(a) + exp(b)) with a = 1000 and b = 998: computed directly, exp(1000) overflows "
        "and the node naive shows inf. Shifting by m = max(a, b), written relu(a - b) + b, gives "
        "lse = log(exp(a - m) + exp(b - m)) + m = 1000.1269 with every exp at most 1. The "
        "gradients are the softmax weights: a.grad = 0.8808 and b.grad = 0.1192, which sum to 1. "
        "m.grad = 0: the shift changes how the sum is computed, not its value. With b = 0 this is "
        "softplus(a)."
    )
    return g


def diamond_ladder(levels: int = 10) -> Graph:
    """x = c*x + x, ``levels`` times: 2**levels paths, one backward pass."""
    x = Value(2.0, name="x0")
    c = Value(0.5, name="c")
    for k in range(1, levels + 1):
        x = _named(c * x + x, f"x{k}")
    g = x.graph()
    grad = 1.5**levels
    g.meta["title"] = f"A diamond ladder: one pass, not {2**levels} paths"
    g.meta["lesson"] = (
        f"{levels} levels of x = c*x + x with x0 = 2 and c = 0.5. Each level reaches the next along "
        f"two wires (through the × and directly), so there are {2**levels} paths from x0 to "
        f"x{levels}, and x0.grad = 1.5^{levels} = {grad:.2f} is a sum over all of them. Reverse mode "
        f"never walks them: it visits each of the {len(g)} nodes once, multiplying by 1.5 per level "
        f"(x{levels - 1}.grad = 1.5)."
    )
    return g


def _tensor_example(source: str, title: str, lesson: str, **values) -> Graph:
    import numpy as np

    g = Graph.from_expression(source, **{k: np.array(v) for k, v in values.items()})
    g.meta["title"] = title
    g.meta["lesson"] = lesson
    return g


def broadcast_bias() -> Graph:
    """x + b with b of shape (3,): b's gradient is the column sums."""
    return _tensor_example(
        "y = x + b\nL = sum(y)",
        "Broadcasting: x + b adds b to every row",
        "x has 2 rows and b has 3 entries: y = x + b adds b to each row, so each entry of b reaches "
        "2 outputs and the gradient sums them back over the broadcast axis: b.grad = [2, 2, 2], the "
        "column sums of y.grad, while x.grad is all 1. L = sum(y) = 141.",
        x=[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]],
        b=[10.0, 20.0, 30.0],
    )


def linear_mse() -> Graph:
    """A linear layer and its mean squared error: dL/dW = x^T . dL/dyhat."""
    return _tensor_example(
        "yhat = x @ W + b\nL = mse(yhat, t)",
        "A linear layer with mean squared error",
        "yhat = x @ W + b is [1, 2.5, 4] against t = [1, 2, 4]: L = mse = 0.0833 and "
        "yhat.grad = 2(yhat - t)/3 = [0, 0.3333, 0]. The matmul sends W.grad = xᵀ · yhat.grad = "
        "[1, 1.3333]: only the second point, off by 0.5, teaches W, through its inputs 3 and 4.",
        x=[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]],
        W=[[0.5], [0.25]],
        b=[0.0],
        t=[[1.0], [2.0], [4.0]],
    )


_XOR_W1 = [
    [0.13, -0.13, 0.64, 0.1, -0.54, 0.36, 1.3, 0.95],
    [-0.7, -1.27, -0.62, 0.04, -2.33, -0.22, -1.25, -0.73],
]
_XOR_W2 = [
    [-0.54, -0.44], [0.98, -0.09], [-0.31, 0.03], [0.87, 2.39],
    [1.45, -1.35], [0.1, -0.8], [-0.21, -1.61], [-1.44, 0.98],
]


def xor_mlp() -> Graph:
    """A two-layer tanh MLP on the XOR batch, softmax and cross-entropy. Its Descend defaults
    reach the lesson in one Run (the panel's 0.01 and 50 steps ended at L = 0.477, a row wrong)."""
    g = _tensor_example(
        "h = tanh(x @ W1 + b1)\nz = h @ W2 + b2\np = softmax(z, axis=1)\n"
        "L = cross_entropy(z, y)\nL.backward()",
        "A two-layer MLP learns XOR",
        "The four XOR points are one batch x: h = tanh(x @ W1 + b1), z = h @ W2 + b2, p = softmax(z) "
        "and L = cross_entropy(z, y) = 1.2694. The gradient of cross-entropy on z is softmax minus "
        "one-hot, over the batch size: z.grad = (p - onehot(y)) / four. Descend on W1, b1, W2, b2 (its "
        "defaults) until each row of p puts its larger probability on the right class: one Run does it.",
        x=[[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]],
        y=[0, 1, 1, 0],
        W1=_XOR_W1,
        b1=[0.0] * 8,
        W2=_XOR_W2,
        b2=[0.0, 0.0],
    )
    g.meta["descend"] = {"lr": 1.0, "steps": 100, "trainable": ["W1", "b1", "W2", "b2"]}
    return g


def tanh_second_derivative() -> Graph:
    """y = tanh(x) and its backward graph, whose gradient node is the output: x.grad is then
    the second derivative."""
    g = Graph.from_expression("y = tanh(x)", x=0.5)
    h, grads = g.gradient_graph("y", "x")
    h.set_output(grads[g.resolve("x")])
    h.meta["title"] = "tanh's second derivative, read off its backward graph"
    h.meta["lesson"] = (
        "y = tanh(x) at x = 0.5 is 0.4621. Below it, right to left, is its backward pass as a graph: "
        "∂y/∂x = 1 × (1 − y·y) = 0.7864, built from ordinary ops that read the saved y. Being a graph, it "
        "can be differentiated like any other: with ∂y/∂x as the output, x.grad is the second "
        "derivative d²y/dx² = -0.7269."
    )
    return h


def rosenbrock() -> Graph:
    """Rosenbrock's banana valley, for Newton's method beside gradient descent."""
    x, y = Value(-1.2, name="x"), Value(1.0, name="y")
    f = _named((1 - x) ** 2 + 100 * (y - x * x) ** 2, "f")
    g = f.graph()
    g.meta["title"] = "Rosenbrock's valley: Newton's method against gradient descent"
    g.meta["lesson"] = (
        "f = (1 − x)² + 100(y − x²)² from x = -1.2, y = 1, where f = 24.2. Gradient descent with "
        "lr = 0.001 creeps along the curved valley floor and still has f = 0.4535 after 1000 steps. "
        "Newton's method divides the gradient by the curvature (the Hessian): it reaches the minimum "
        "f = 0 at (1, 1) in 7 steps, after leaping out of the valley once on the way."
    )
    return g


def nan_origin() -> Graph:
    """A naive softmax whose exp overflows: the NaN shows at the division, born at exp."""
    a, b = Value(800.0, name="a"), Value(799.0, name="b")
    ea, eb = _named(a.exp(), "ea"), _named(b.exp(), "eb")
    p = _named(ea / _named(ea + eb, "s"), "p")
    loss = _named(-p.log(), "loss")
    g = loss.graph()

    def op(name, *ins, label=None):
        n = g.add_op(name, name=label)
        for port, i in enumerate(ins):
            g.connect(i, n, port)
        return n

    # The same probability without overflow, beside it: q = 1 / (1 + exp(b - a)).
    op("div", g.add_number(1.0), op("add", g.add_number(1.0), op("exp", op("sub", "b", "a"))), label="q")
    g.set_output("loss")
    g.apply_layout()
    g.meta["title"] = "Where was this NaN born?"
    g.meta["lesson"] = (
        "loss = −log p with p = exp(a) / (exp(a) + exp(b)), a = 800 and b = 799, is NaN. The NaN "
        "shows at the division p (inf / inf), but it was born earlier: nonfinite_origin traces it "
        "back to ea, where exp overflowed at 800. Written as q = 1 / (1 + exp(b − a)) the same "
        "probability never overflows: q = 0.7311."
    )
    return g


def vanishing_sigmoid(layers: int = 6, weight: float = 0.1) -> Graph:
    """h_k = sigmoid(w_k * h_(k-1)), ``layers`` times, every w = ``weight``."""
    h = Value(1.0, name="x")
    for k in range(1, layers + 1):
        h = _named(Value(weight, name=f"w{k}") * h, f"z{k}").sigmoid()
        h.name = f"h{k}"
    g = h.graph()
    g.meta["title"] = "A deep sigmoid chain: the gradient vanishes layer by layer"
    g.meta["lesson"] = (
        "Six layers h = σ(w · h_previous) with x = 1 and every w = 0.1: each layer multiplies what "
        "it passes back by w · σ' = w · h(1 − h), about a fortieth, so w6.grad = 0.1281, "
        "w3.grad = 0.000002 and w1.grad = 0.000000002: Gradient Health marks x, w1, z1 and h1 as "
        "vanishing, below a hundred-millionth of the output's gradient."
    )
    return g


def neuron_three_times() -> Graph:
    """The 2-layer perceptron's three neurons as one definition used three times."""
    g = Graph.from_expression(
        "def neuron(x1, x2, w1, w2, b):\n"
        "    return tanh(x1*w1 + x2*w2 + b)\n"
        "h1 = neuron(x1, x2, w11, w12, b1)\n"
        "h2 = neuron(x1, x2, w21, w22, b2)\n"
        "o = neuron(h1, h2, w31, w32, b3)\n"
        "loss = (o - t) ** 2",
        x1=1.0, x2=-2.0, w11=0.5, w12=-0.3, b1=0.1, w21=-0.8, w22=0.2, b2=0.4,
        w31=1.2, w32=-0.7, b3=0.05, t=0.5,
    )
    g.meta["title"] = "One neuron, used three times"
    g.meta["lesson"] = (
        "The perceptron of the 2-layer example, with its neuron written once: "
        "neuron(x1, x2, w1, w2, b) = tanh(x1*w1 + x2*w2 + b) is a definition, and h1, h2 and o are "
        "three instances of it, each fed its own weights. The numbers are the flat network's: "
        "loss = 0.1663, w31.grad = 0.1195, w11.grad = 0.0525. Step into o to see the gradient "
        "0.8157 arrive at its output and split over its inputs."
    )
    return g


def weight_tying() -> Graph:
    """One constant of a definition shared by two instances: its gradient is the sum."""
    g = Graph.from_expression(
        "def scale(x):\n    w = 0.5\n    return w * x\ny = scale(a) + scale(b)", a=2.0, b=3.0
    )
    g.meta["title"] = "Weight tying: one constant, two instances"
    g.meta["lesson"] = (
        "scale(x) = w * x has one constant, w = 0.5, and y = scale(a) + scale(b) uses it twice. "
        "Both instances share that one number, so its gradient is the sum of what each sends "
        "back: scale.w.grad = a + b = 2 + 3 = 5, while y = 2.5. This is weight tying, the fan-out "
        "lesson one level up: change w inside the definition and both instances change."
    )
    return g


def micrograd_mlp_moons(points: int = 8) -> Graph:
    """micrograd's demo network on a few moons points, built with engine.nn: grouped."""
    import random

    from ..core.groups import run_grouped
    from ..nn import MLP

    xs, ys = moons(points)
    state = random.getstate()
    try:
        random.seed(1337)
        model = MLP(2, [16, 16, 1])
    finally:
        random.setstate(state)
    inputs = [[Value(a), Value(b)] for a, b in xs]
    scores = [model(x) for x in inputs]
    losses = [(1 + -y * s).relu() for y, s in zip(ys, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    # The L2 term as one call too: 337 squares at the top level would bury the picture
    # (the bank's 337 wires into it are drawn as one bundle, like those into the model).
    params = model.parameters()
    reg_loss = run_grouped(lambda ps: 1e-4 * sum(p * p for p in ps), "L2 penalty", (params,),
                           inputs=params, input_names=model.parameter_names())
    loss = _named(data_loss + reg_loss, "loss")
    g = loss.graph()
    g.meta["title"] = "micrograd's MLP on the moons, grouped"
    g.meta["lesson"] = (
        "micrograd's demo network (two inputs, two hidden layers of sixteen ReLU neurons, one "
        "output), built with engine.nn: every call of the model is an instance of one definition, "
        "each layer and neuron inside it too, and all weights come from one parameter bank "
        "(its 337 wires into each instance are drawn as one bundle, × 337; hover it for the "
        "gradient norm they carry back). The hinge loss over the points plus the L2 penalty is "
        "loss = 0.9313; enter an instance to see that point's forward and backward pass, one "
        "neuron at a time."
    )
    return g


def moons(n: int, noise: float = 0.1, seed: int = 1) -> tuple[list, list]:
    """Two interleaved half circles, labels -1 and 1 (sklearn's make_moons, seeded):
    ``(points, labels)``."""
    import random

    rng = random.Random(seed)
    half = n // 2
    xs, ys = [], []
    for i in range(half):
        t = math.pi * i / max(half - 1, 1)
        xs.append([math.cos(t), math.sin(t)])
        ys.append(-1)
    for i in range(n - half):
        t = math.pi * i / max(n - half - 1, 1)
        xs.append([1 - math.cos(t), 1 - math.sin(t) - 0.5])
        ys.append(1)
    return [[a + rng.gauss(0, noise), b + rng.gauss(0, noise)] for a, b in xs], ys


def composite_gallery() -> list[Entry]:
    """The examples with composites (definitions and instances) of the main gallery."""
    return [e for e in gallery() if e.file in COMPOSITE_BUILDERS]


COMPOSITE_BUILDERS = {
    "neuron_three_times.json": neuron_three_times,
    "weight_tying.json": weight_tying,
    "micrograd_mlp_moons.json": micrograd_mlp_moons,
}
"""The examples with composites (definitions and instances)."""

HIGHER_ORDER_BUILDERS = {
    "tanh_second_derivative.json": tanh_second_derivative,
    "rosenbrock.json": rosenbrock,
    "nan_origin.json": nan_origin,
    "vanishing_sigmoid.json": vanishing_sigmoid,
}
"""The examples of issue 16: the gradient as a graph, Newton's method, NaN origins, vanishing."""

TENSOR_BUILDERS = {
    "broadcast_bias.json": broadcast_bias,
    "linear_mse.json": linear_mse,
    "xor_mlp.json": xor_mlp,
}
"""The tensor examples, written into the examples folder beside the others."""

BUILDERS = {
    "a_times_a.json": a_times_a,
    "perceptron_2layer.json": perceptron_2layer,
    "softplus_lse.json": softplus_lse,
    "diamond_ladder.json": diamond_ladder,
}


def write_examples(folder=None) -> list[Path]:
    """Build and save the examples of :data:`BUILDERS` into ``folder`` (default: the bundled
    examples folder); returns the paths written."""
    from ..io.document import save

    if folder is None:
        from resources import EXAMPLES

        folder = EXAMPLES
    paths = []
    for file, build in BUILDERS.items():
        p = Path(folder) / file
        save(build(), p)
        paths.append(p)
    for file, build in {**TENSOR_BUILDERS, **HIGHER_ORDER_BUILDERS, **COMPOSITE_BUILDERS}.items():
        p = Path(folder) / file
        save(build(), p)
        paths.append(p)
    paths.extend(write_training_examples(folder))
    return paths


def write_training_examples(folder) -> list[Path]:
    """Build the training examples (:mod:`engine.learn.training_examples`), save them, and
    write their entries (title, lesson, expect, train, reached) into ``gallery.json``."""
    from ..io.document import save
    from .training_examples import CSV_FILE, TRAINING_BUILDERS, build, write_csv

    folder = Path(folder)
    write_csv(folder / CSV_FILE)
    index = folder / "gallery.json"
    items = json.loads(index.read_text(encoding="utf-8"))
    paths = [folder / CSV_FILE]
    for file, (_, _, _, expect) in TRAINING_BUILDERS.items():
        g, train, reached = build(file)
        save(g, folder / file)
        paths.append(folder / file)
        item = {"file": file, "title": g.meta["title"], "lesson": g.meta["lesson"], "expect": expect,
                "train": train, "reached": reached}
        for k, old in enumerate(items):
            if old.get("file") == file:
                items[k] = item
                break
        else:
            items.append(item)
    index.write_text(_gallery_text(items), encoding="utf-8")
    return paths


def _gallery_text(items) -> str:
    """gallery.json's layout: one line per key of each entry."""
    return "[\n" + ",\n".join(
        " {\n" + ",\n".join(f"  {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}" for k, v in it.items())
        + "\n }" for it in items
    ) + "\n]\n"


if __name__ == "__main__":  # pragma: no cover - a maintenance command
    for p in write_examples():
        print("wrote", p)
    for e in gallery():
        for why in check(e):
            print(f"{e.file}: {why}")


__all__ = [
    "COMPOSITE_BUILDERS",
    "composite_gallery",
    "BUILDERS",
    "HIGHER_ORDER_BUILDERS",
    "TENSOR_BUILDERS",
    "Entry",
    "check",
    "gallery",
    "lesson_numbers",
    "matches",
    "tensor_gallery",
    "write_examples",
]
