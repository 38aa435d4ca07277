"""Gradient health: how big each gradient is next to the output's, and which ones vanish,
explode or are dead, per node and per layer. The one module behind View ▸ Gradient Health
and the trainer's per-layer report.

A gradient's size is the root mean square of its elements (its absolute value for a
number), so a big array and a scalar compare fairly; ``log10`` is log10(size / the output's
gradient size), 0 at the output. Below :data:`VANISHING` (1e-8) a gradient counts as
vanishing (an exact 0 too), above :data:`EXPLODING` (1e8) as exploding. A ReLU is dead when no
element of its input is positive (nothing passes back through it); for a batch of units,
``dead_units`` counts the columns where no row passes.

>>> from engine import Graph
>>> g = Graph.from_expression("y = sigmoid(sigmoid(sigmoid(x)))", x=0.5)
>>> h = gradient_health(g); round(h.nodes[g.resolve("x")].log10, 2)
-1.92
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from ..core import gradsize
from ..core.errors import NoOutputError
from ..core.graph import Graph

VANISHING = 1e-8
EXPLODING = 1e8


def magnitude(g) -> float | None:
    """The size of a gradient: |g| for a number, the root mean square of an array's
    elements; None for no gradient, inf/NaN for a non-finite one (``engine.core.gradsize``,
    the same measure the trainer's per-layer norms are judged by)."""
    return gradsize.rms(g)


@dataclass(frozen=True)
class Reading:
    """One gradient's health. ``relative`` is size / reference, ``log10`` its log10 (-inf for
    an exact 0, None where there is no gradient or it is not finite)."""

    size: float | None
    relative: float | None
    log10: float | None
    vanishing: bool
    exploding: bool
    nonfinite: bool


def read(g, reference: float = 1.0) -> Reading:
    """The health of gradient ``g`` next to ``reference`` (the output's gradient size).

    >>> read(3e-9).vanishing, read(0.5).log10 == math.log10(0.5), read(2e9).exploding
    (True, True, True)
    """
    size = magnitude(g)
    if size is None:
        return Reading(None, None, None, False, False, False)
    if not math.isfinite(size) or not (reference and math.isfinite(reference)):
        return Reading(size, None, None, False, False, not math.isfinite(size))
    rel = size / reference
    log = math.log10(rel) if rel > 0 else -math.inf
    return Reading(size, rel, log, rel < VANISHING, rel > EXPLODING, False)


@dataclass(frozen=True)
class NodeHealth:
    node: int
    reading: Reading
    dead_relu: bool = False
    dead_units: int = 0  # columns of a batch that no row passes (array ReLUs)

    @property
    def log10(self):
        return self.reading.log10

    @property
    def vanishing(self) -> bool:
        return self.reading.vanishing

    @property
    def exploding(self) -> bool:
        return self.reading.exploding


@dataclass(frozen=True)
class GroupHealth:
    """A layer's or composite's summary: the size of all its nodes' gradients together (the
    RMS over every element), and how many of its nodes vanish, explode or are dead ReLUs."""

    name: str
    nodes: tuple
    reading: Reading
    vanishing: int
    exploding: int
    dead_relus: int


@dataclass
class Health:
    """Per node (``nodes``: id -> NodeHealth, nodes without a gradient left out) and per group
    (``groups``, in the order given). ``reference`` is the output's gradient size."""

    output: int
    reference: float
    nodes: dict = field(default_factory=dict)
    groups: list = field(default_factory=list)

    @property
    def scale(self) -> tuple[float, float]:
        """(lowest, highest) finite log10 over the nodes, for a colour bar; (0, 0) if none."""
        logs = [h.log10 for h in self.nodes.values() if h.log10 is not None and math.isfinite(h.log10)]
        return (min(logs), max(logs)) if logs else (0.0, 0.0)

    def vanishing(self) -> list:
        return [n for n, h in self.nodes.items() if h.vanishing]

    def exploding(self) -> list:
        return [n for n, h in self.nodes.items() if h.exploding]

    def dead_relus(self) -> list:
        return [n for n, h in self.nodes.items() if h.dead_relu]


def _dead(x) -> tuple[bool, int]:
    """Whether no element of a ReLU's input passes, and how many batch columns none passes."""
    if x is None:
        return False, 0
    a = np.asarray(x, dtype=float)
    passes = a > 0
    units = int(np.sum(~passes.any(axis=0))) if a.ndim == 2 else 0
    return not bool(passes.any()), units


def gradient_health(graph: Graph, output=None, groups: Mapping | None = None) -> Health:
    """The health of every gradient of ``graph`` relative to ``output``'s (default: the
    document's output). ``groups`` maps a layer or composite name to its nodes (ids or names)
    for per-group summaries. The graph is only read."""
    out = graph.output_node() if output is None else graph.resolve(output)
    if out is None:
        raise NoOutputError(
            "gradient health needs an output: set one" if len(graph) else "the graph is empty"
        )
    if graph.evaluated_output() != out:  # gradients toward another node: on a copy, no event
        graph = graph.copy()
        graph.backward(out)
    grads, values = graph.grads(), graph.values()
    ref = magnitude(grads[out]) or 1.0
    health = Health(out, ref)
    # Evaluation order, then the nodes the tape does not list by id (a composite instance is
    # inlined: its insides have addresses of their own and no entry here, the instance has).
    order = dict.fromkeys(n for n in graph.tape().order if n in grads)
    order.update(dict.fromkeys(graph.nx.nodes))
    for n in order:
        g = grads.get(n)
        if g is None:
            continue
        dead, units = (False, 0)
        if graph.op(n) == "relu":
            (x,) = graph.inputs(n)
            dead, units = _dead(values[x] if x is not None else None)
        health.nodes[n] = NodeHealth(n, read(g, ref), dead, units)
    for name, refs in (groups or {}).items():
        ids = tuple(graph.resolve(r) for r in refs)
        parts = [np.ravel(np.asarray(grads[n], dtype=float)) for n in ids if grads[n] is not None]
        together = np.concatenate(parts) if parts else None
        mine = [health.nodes[n] for n in ids if n in health.nodes]
        health.groups.append(GroupHealth(
            str(name), ids, read(together, ref),
            sum(h.vanishing for h in mine), sum(h.exploding for h in mine), sum(h.dead_relu for h in mine),
        ))
    return health


def assess(grads: Mapping, reference: float = 1.0) -> dict:
    """:func:`read` for named gradients (a trainer's per-layer arrays): name -> Reading."""
    return {name: read(g, reference) for name, g in grads.items()}


__all__ = [
    "EXPLODING",
    "VANISHING",
    "GroupHealth",
    "Health",
    "NodeHealth",
    "Reading",
    "assess",
    "gradient_health",
    "magnitude",
    "read",
]
