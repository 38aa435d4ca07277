"""Gradient descent on a document: nudge number nodes against their gradient, step by step.

:func:`plan_descent` runs on a copy and leaves the document alone, so the GUI can apply the
final values as one undo step; :func:`descend` plans and then applies them.

Each step: forward and backward from the output, then ``value -= lr * grad`` for every
trainable number (``+=`` when maximizing). A number with no path to the output has no
gradient and stays put. The run stops early, with the reason in ``DescentResult.stopped``,
when a gradient is NaN/inf, a value would become non-finite, or the output becomes NaN/inf;
the step that went wrong is not kept, so the final values always reproduce ``history[-1]``.

>>> from engine import Value
>>> x = Value(0.0, name="x"); g = ((x - 3) ** 2).graph()
>>> r = descend(g, steps=200, lr=0.1)
>>> round(g.number("x"), 6), round(r.history[-1], 12)
(3.0, 0.0)
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np

from ..core.errors import GraphError, InvalidValueError, NoOutputError, PortNotConnectedError
from ..core.graph import Graph
from ..core.ops import NUMBER

MAX_STEPS = 100_000
DEFAULT_LR, DEFAULT_STEPS = 0.01, 50  # a document without its own "descend" settings


@dataclass(frozen=True)
class DescentDefaults:
    """What Descend starts with for a document: its own ``"descend"`` settings (an example
    carries the rate, steps and trainable numbers that reach its lesson in one Run), else
    ``DEFAULT_LR``, ``DEFAULT_STEPS`` and :func:`default_trainable`."""

    lr: float
    steps: int
    trainable: list
    maximize: bool = False
    own: bool = False  # whether the document gave them


def descent_defaults(graph: Graph) -> DescentDefaults:
    """The document's Descend defaults (see :class:`DescentDefaults`). A setting that no
    longer fits the document (a trainable name since removed, a rate out of range) falls back
    to the default for that setting alone.

    >>> from engine import Graph
    >>> g = Graph.from_expression("L = (w * x - t) ** 2", w=0.5, x=2.0, t=3.0)
    >>> d = descent_defaults(g); (d.lr, d.steps, [g.label(n) for n in d.trainable], d.own)
    (0.01, 50, ['w'], False)
    >>> g.meta["descend"] = {"lr": 0.1, "steps": 20, "trainable": ["w"]}
    >>> d = descent_defaults(g); (d.lr, d.steps, d.own)
    (0.1, 20, True)
    """
    spec = graph.meta.get("descend")
    if not isinstance(spec, dict):
        return DescentDefaults(DEFAULT_LR, DEFAULT_STEPS, default_trainable(graph))
    try:
        lr = _check_lr(spec.get("lr", DEFAULT_LR))
    except ValueError:
        lr = DEFAULT_LR
    try:
        steps = _check_steps(spec.get("steps", DEFAULT_STEPS))
    except ValueError:
        steps = DEFAULT_STEPS
    try:
        nodes = _trainable(graph, spec["trainable"]) if "trainable" in spec else default_trainable(graph)
    except (GraphError, TypeError):
        nodes = default_trainable(graph)
    return DescentDefaults(lr, steps, nodes, spec.get("goal") == "maximize", True)


def classification(graph: Graph, output=None) -> tuple[int, int] | None:
    """``(rows right, rows)`` when the output is a ``cross_entropy``: a row is right when its
    largest logit is at its target class. None for any other output (or no value yet).

    >>> import numpy as np
    >>> from engine import Graph
    >>> g = Graph.from_expression("L = cross_entropy(z, y)", z=np.array([[2.0, 1.0], [0.0, 3.0], [1.0, 0.5]]),
    ...                           y=np.array([0, 1, 1]))
    >>> classification(g)
    (2, 3)
    """
    out = graph.output_node() if output is None else graph.resolve(output)
    if out is None or graph.op(out) != "cross_entropy":
        return None
    logits, targets = (graph.value(j) if j is not None else None for j in graph.inputs(out))
    if type(logits) is not np.ndarray or type(targets) is not np.ndarray or logits.ndim != 2:
        return None
    if targets.shape != (logits.shape[0],):
        return None
    return int(np.sum(np.argmax(logits, axis=1) == targets)), int(logits.shape[0])


@dataclass
class DescentResult:
    """What a descent run did.

    ``history`` holds the output's value before the first step and after each step taken
    (``len(history) == steps_taken + 1``); ``initial`` and ``final`` map each trainable node
    id to its value before and after; ``stopped`` is None when every requested step ran,
    else the reason in words. ``path`` (only with ``plan_descent(..., keep_path=True)``) holds
    the trainable values at each point of ``history``, for drawing the run step by step.
    """

    output: int
    trainable: list
    history: list = field(default_factory=list)
    initial: dict = field(default_factory=dict)
    final: dict = field(default_factory=dict)
    steps_requested: int = 0
    stopped: str | None = None
    lr: float = 0.0
    maximize: bool = False
    # (rows right, rows) before and after, for a cross_entropy output (see classification)
    accuracy_before: tuple | None = None
    accuracy_after: tuple | None = None
    # With ``keep_path``: the trainable values before the first step and after each step
    # (node id -> value), for drawing the walk over a contour plot.
    path: list = field(default_factory=list)

    @property
    def steps_taken(self) -> int:
        return len(self.history) - 1

    @property
    def changed(self) -> dict:
        """The trainable nodes whose value moved, with their final value."""
        return {n: v for n, v in self.final.items() if _moved(v, self.initial[n])}


def plan_descent(
    graph: Graph,
    steps: int = 100,
    lr: float = 0.01,
    trainable: Iterable | None = None,
    maximize: bool = False,
    on_step: Callable[[int, float], object] | None = None,
    keep_path: bool = False,
) -> DescentResult:
    """Run gradient descent on a copy of ``graph`` and return the trajectory; ``graph`` is
    not touched (no edit, no event). ``keep_path`` records the values after every step in
    ``result.path`` (see :func:`engine.learn.second_order.plan_newton` for Newton's method).

    ``trainable``: number nodes (ids or names) to move; default :func:`default_trainable`
    (the named numbers that are parameters, not inputs or targets).
    ``on_step(k, output_value)`` is called with k = 0 for the starting point and after each
    step (for a live plot); returning ``False`` from it stops the run.

    Raises ValueError for a bad ``steps`` (a positive int up to 100,000) or ``lr`` (a finite
    positive number), and a GraphError subclass for a bad ``trainable`` node, a graph
    without an output, or an output that depends on an unconnected input.

    >>> from engine import Value
    >>> x = Value(1.0, name="x"); g = (x * x).graph()
    >>> r = plan_descent(g, steps=3, lr=0.25)
    >>> r.history, r.final == {g.resolve("x"): 0.125}, g.number("x")
    ([1.0, 0.25, 0.0625, 0.015625], True, 1.0)
    """
    steps = _check_steps(steps)
    lr = _check_lr(lr)
    if not isinstance(maximize, bool):
        raise ValueError(f"maximize must be True or False, not {maximize!r}")
    out, port = _output_ref(graph)
    nodes = _trainable(graph, trainable)

    work = graph.copy()
    sign = 1.0 if maximize else -1.0
    result = DescentResult(out, nodes, steps_requested=steps, lr=lr, maximize=maximize)
    current = {n: work.number(n) for n in nodes}
    result.initial = dict(current)
    result.final = current
    if keep_path:
        result.path.append(dict(current))

    y = _total(work.value(out, port))
    result.history.append(y)
    result.accuracy_before = result.accuracy_after = classification(work, out)
    if not _finite(y):
        result.stopped = f"the output is {_kind(y)} at the start"
        return result
    if on_step is not None and on_step(0, y) is False:
        result.stopped = "stopped by the caller"
        return result

    for k in range(1, steps + 1):
        moved = {}
        for n in nodes:
            gr = work.grad(n)
            if gr is None:  # no path to the output: this number does not affect it
                continue
            if not _finite(gr):
                result.stopped = f"step {k}: the gradient of {work.label(n)} is {_kind(gr)}"
                break
            new = current[n] + sign * lr * gr
            if not _finite(new):
                result.stopped = f"step {k}: {work.label(n)} would become {_kind(new)}"
                break
            moved[n] = new
        if result.stopped:
            break
        for n, v in moved.items():
            work.set_value(n, v)
        y = _total(work.value(out, port))
        if not _finite(y):
            for n in moved:  # undo the bad step so final values reproduce history[-1]
                work.set_value(n, current[n])
            result.stopped = f"step {k}: the output became {_kind(y)}"
            break
        current.update(moved)
        result.history.append(y)
        if keep_path:
            result.path.append(dict(current))
        if on_step is not None and on_step(k, y) is False:
            result.stopped = "stopped by the caller"
            break
    result.final = dict(current)
    result.accuracy_after = classification(work, out)
    return result


def descend(
    graph: Graph,
    steps: int = 100,
    lr: float = 0.01,
    trainable: Iterable | None = None,
    maximize: bool = False,
    on_step: Callable[[int, float], object] | None = None,
) -> DescentResult:
    """:func:`plan_descent`, then set each moved trainable node to its final value on
    ``graph`` (one ``value_changed`` event per moved node). Same arguments and errors.

    >>> from engine import Value
    >>> x = Value(2.0, name="x"); y = Value(1.0, name="y")
    >>> g = (-(x - 1) ** 2 - (y + 2) ** 2).graph()
    >>> r = descend(g, steps=500, lr=0.1, maximize=True)
    >>> round(g.number("x"), 9), round(g.number("y"), 9), r.stopped
    (1.0, -2.0, None)
    """
    result = plan_descent(graph, steps, lr, trainable, maximize, on_step)
    for n, v in result.changed.items():
        graph.set_value(n, v)
    return result


# ------------------------------------------------------------------ validation


def _moved(new, old) -> bool:
    if type(new) is np.ndarray or type(old) is np.ndarray:
        return np.shape(new) != np.shape(old) or bool(np.any(np.asarray(new) != np.asarray(old)))
    return new != old


def _integer_array(v) -> bool:
    return type(v) is np.ndarray and v.dtype.kind == "i"


def _check_steps(steps) -> int:
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral):
        raise ValueError(f"steps must be a whole number, not {steps!r}")
    if not 1 <= steps <= MAX_STEPS:
        raise ValueError(f"steps must be between 1 and {MAX_STEPS:,}, not {steps}")
    return int(steps)


def _check_lr(lr) -> float:
    if isinstance(lr, bool) or not isinstance(lr, numbers.Real):
        raise ValueError(f"the learning rate must be a number, not {lr!r}")
    try:
        lr = float(lr)
    except OverflowError:
        raise ValueError("the learning rate is too large") from None
    if not (math.isfinite(lr) and lr > 0):
        raise ValueError(f"the learning rate must be a finite number above 0, not {lr}")
    return lr


# Names that say "this is data, not a parameter": inputs (x, x1, xs, input), targets (t, y,
# target, label) and their numbered or suffixed forms (x_2, t1, y_true). Training a target
# toward the prediction lowers a loss without learning anything, which is what the default
# did to the perceptron example's t.
_DATA_NAME = re.compile(
    r"(?:x|xs|y|ys|t|target|targets|label|labels|input|inputs|data|truth|y_true|ytrue)(?:_?\d+|_\w+)?",
    re.IGNORECASE,
)


def looks_like_data(name: str | None) -> bool:
    """Whether a number's name marks it as data (an input or a target) rather than a parameter.

    >>> [looks_like_data(n) for n in ("x1", "t", "y_true", "w11", "b", "xt")]
    [True, True, True, False, False, False]
    """
    return bool(name) and _DATA_NAME.fullmatch(name) is not None


def default_trainable(graph: Graph) -> list:
    """The numbers descent moves by default: the named numbers that are parameters, i.e. whose
    names do not mark them as data (:func:`looks_like_data`). When every named number looks
    like data (``(x - 3)**2`` minimised over x), all of them: then the inputs are what is
    being optimised. Unnamed numbers are constants and never move by default."""
    named = [
        n for n in graph.nodes()
        if graph.op(n) == NUMBER and graph.name(n) and not _integer_array(graph.number(n))
    ]
    # Named constants of the definitions in use: one value for every instance, trained for all.
    for d in graph.definitions.values():
        if graph.instances(d.name):
            named += [
                (d.name, n) for n in d.constants()
                if d.body.name(n) and not _integer_array(d.body.number(n))
            ]
    params = [n for n in named if not looks_like_data(graph.name(n))]
    return params or named


def _trainable(graph: Graph, trainable) -> list:
    if trainable is None:
        nodes = default_trainable(graph)
        if not nodes:
            raise InvalidValueError("no named number nodes to train: name the numbers to move")
        return nodes
    if isinstance(trainable, (str, int)):
        trainable = [trainable]
    try:
        refs = list(trainable)
    except TypeError:
        raise InvalidValueError(
            f"trainable must be a list of nodes, not {type(trainable).__name__}"
        ) from None
    nodes = []
    for ref in refs:
        n = graph.resolve(ref)
        if graph.op(n) != NUMBER:
            raise InvalidValueError(
                f"only number nodes can be trained; {graph.label(n)} is a {graph.op(n)} op"
            )
        value = graph.number(n)
        if type(value) is np.ndarray and value.dtype.kind == "i":
            raise InvalidValueError(f"{graph.label(n)} holds integer class targets, which cannot be trained")
        if n not in nodes:
            nodes.append(n)
    if not nodes:
        raise InvalidValueError("nothing to train: the trainable list is empty")
    return nodes


def _output(graph: Graph) -> int:
    """The output node (checked to have a value); see :func:`_output_ref` for its port."""
    return _output_ref(graph)[0]


def _output_ref(graph: Graph) -> tuple:
    ref = graph.output_ref()
    if ref is None:
        raise NoOutputError(
            "descent needs an output to minimize: set one" if len(graph) else "the graph is empty"
        )
    out, port = ref
    if graph.value(out, port) is None:
        why = graph.why_no_value(out, port)
        raise PortNotConnectedError(f"the output {graph.label(out)} has no value: {why}")
    return out, port


def _total(v):
    """The quantity descent lowers: the output, or the sum of an array output's elements
    (what backward seeds it with)."""
    return float(np.sum(v)) if type(v) is np.ndarray else v


def _finite(v) -> bool:
    if type(v) is np.ndarray:
        return bool(np.all(np.isfinite(v)))
    return v is not None and math.isfinite(v)


def _kind(v) -> str:
    if v is None:
        return "undefined"
    if type(v) is np.ndarray:
        bad = v[~np.isfinite(v)]
        return f"non-finite in {bad.size} element(s)" if bad.size else "finite"
    return "NaN" if v != v else ("inf" if v > 0 else "-inf")


__all__ = ["DescentDefaults", "DescentResult", "MAX_STEPS", "classification", "descend", "descent_defaults",
           "plan_descent"]
