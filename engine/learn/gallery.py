"""The example gallery: an ordered list of bundled documents, each with a one-line lesson
whose numbers are checked against the document.

``resources/examples/gallery.json`` holds, per example::

    {"file": "seed_fanout.json", "title": "...", "lesson": "a.grad = 20 + 15 = 35 ...",
     "expect": {"a": {"value": 3, "grad": 35, "contributions": [15, 20]}, ...},
     "facts": {"nodes": 8, "constants": [2, 3, 4]}}

``expect`` maps node names to what the document must compute: ``value``, ``grad``,
``contributions`` (the amounts sent back along each wire out of the node, in any order) and
``paths`` (how many distinct paths lead from the node to the output). ``facts`` are about the
whole document: ``nodes`` (its size) and ``constants`` (the values of its unnamed numbers).
:func:`check` compares all of it, and every number written in the lesson must be one of these
numbers (at the precision written), so a lesson cannot state a number nobody checks.

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

from ..core.errors import DocumentError
from ..core.graph import Graph
from ..core.ops import NUMBER
from ..core.value import Value

EXPECT_KEYS = ("value", "grad", "contributions", "paths")
FACT_KEYS = ("nodes", "constants")
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
    folder: Path | None = None  # where the document lives: the gallery file's folder

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
    lists = ("contributions", "constants")
    for name, spec in [*expect.items(), ("facts", facts)]:
        for key, v in spec.items():
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
    return Entry(file, item["title"], item["lesson"], expect, facts)


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
    for v in entry.facts.values():
        out.extend(_flat(v))
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
    known = stated_numbers(entry)
    for written in lesson_numbers(entry.lesson):
        if not any(matches(written, v) for v in known):
            problems.append(f"the lesson says {written}, which no expectation checks")
    return problems


def _measure(g: Graph, name, key, out):
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
        "w31.grad = 0.1195 = z3.grad * h1. Gradient descent on the w's and b's would lower the loss."
    )
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
    """A two-layer tanh MLP on the XOR batch, softmax and cross-entropy."""
    return _tensor_example(
        "h = tanh(x @ W1 + b1)\nz = h @ W2 + b2\np = softmax(z, axis=1)\n"
        "L = cross_entropy(z, y)\nL.backward()",
        "A two-layer MLP learns XOR",
        "The four XOR points are one batch x: h = tanh(x @ W1 + b1), z = h @ W2 + b2, p = softmax(z) "
        "and L = cross_entropy(z, y) = 1.2694. The gradient of cross-entropy on z is softmax minus "
        "one-hot, over the batch size: z.grad = (p - onehot(y)) / four. Descend on W1, b1, W2, b2 until "
        "each row of p puts its larger probability on the right class.",
        x=[[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]],
        y=[0, 1, 1, 0],
        W1=_XOR_W1,
        b1=[0.0] * 8,
        W2=_XOR_W2,
        b2=[0.0, 0.0],
    )


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


def micrograd_mlp_moons(points: int = 16) -> Graph:
    """micrograd's demo network on a few moons points, built with engine.nn: grouped."""
    import random

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
    reg_loss = 1e-4 * sum(p * p for p in model.parameters())
    loss = _named(data_loss + reg_loss, "loss")
    g = loss.graph()
    g.meta["title"] = "micrograd's MLP on the moons, grouped"
    g.meta["lesson"] = (
        "micrograd's demo network (two inputs, two hidden layers of sixteen ReLU neurons, one "
        "output), built with engine.nn: every call of the model is an instance of one definition, "
        "each layer and neuron inside it too, and all weights come from one parameter bank. "
        "The hinge loss over the points plus the L2 term is loss = 0.9242; enter an instance to "
        "see that point's forward and backward pass, one neuron at a time."
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


COMPOSITE_BUILDERS = {
    "neuron_three_times.json": neuron_three_times,
    "weight_tying.json": weight_tying,
    "micrograd_mlp_moons.json": micrograd_mlp_moons,
}
"""The examples with composites (definitions and instances)."""

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
    for file, build in {**TENSOR_BUILDERS, **COMPOSITE_BUILDERS}.items():
        p = Path(folder) / file
        save(build(), p)
        paths.append(p)
    return paths


if __name__ == "__main__":  # pragma: no cover - a maintenance command
    for p in write_examples():
        print("wrote", p)
    for e in gallery():
        for why in check(e):
            print(f"{e.file}: {why}")


__all__ = [
    "BUILDERS",
    "COMPOSITE_BUILDERS",
    "TENSOR_BUILDERS",
    "Entry",
    "check",
    "gallery",
    "lesson_numbers",
    "matches",
    "tensor_gallery",
    "write_examples",
]
