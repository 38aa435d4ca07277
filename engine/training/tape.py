"""A document compiled for training: its tape, with number slots that can be swapped (a batch,
new weights, grid points) without touching the document, and the two passes over it.

This is the only module of engine.training that reads the compiled tape, so a change in how
the core compiles graphs (several outputs per node, say) is met here.
"""

from __future__ import annotations

import numpy as np

from ..core import autodiff
from ..core.graph import Graph


class PrivateTape:
    """A private copy of ``graph`` compiled once. Slots are tape indices; numbers are set
    with :meth:`set`, and :meth:`forward` / :meth:`backward` run the passes.

    >>> g = Graph.from_expression("y = w * x", w=2.0, x=3.0)
    >>> t = PrivateTape(g); t.set(t.slot(g.resolve("w")), 5.0)
    >>> vals, _ = t.forward(); vals[t.slot(g.resolve("y"))], g.value("y")
    (15.0, 6.0)
    """

    def __init__(self, graph: Graph):
        self.graph = graph.copy()
        self.tape = self.graph.tape()
        self.index = self.tape.index

    def slot(self, node: int, port: int = 0) -> int:
        return self.tape.slot(node, port)

    def node(self, slot: int) -> int:
        return self.tape.order[slot]

    def set(self, slot: int, value) -> None:
        self.tape.set_number(slot, value)

    def get(self, slot: int):
        return self.tape.numbers[slot]

    def forward(self, only=None, start: list | None = None) -> tuple[list, dict]:
        """Values per slot and the shape problems found (slot -> message). ``only``: compute
        just these slots, the other op slots keep their values in ``start``."""
        errors: dict = {}
        return autodiff.forward(self.tape, errors, only, start), errors

    def backward(self, vals: list, root: int, seed=1.0) -> list:
        """Gradients per slot of ``vals[root]`` (seeded with ``seed``; an array root with an
        array of it), None off the root's ancestors."""
        return autodiff.backward(self.tape, vals, root, seed)

    def problem(self, vals: list, slot: int, errors: dict) -> str | None:
        return autodiff.problem(self.tape, vals, slot, errors)

    def first_problem(self, vals: list, errors: dict, slots) -> tuple[int, str]:
        """The first of ``slots`` (in evaluation order) whose value is unusable, with the
        reason: where a failure starts rather than everything downstream of it."""
        for i in sorted(slots):
            if i in errors or (vals[i] is None and self.tape.ops[i] is not None):
                return i, self.problem(vals, i, errors) or "it has no value"
        last = max(slots)
        return last, self.problem(vals, last, errors) or "it has no value"

    def op_name(self, slot: int) -> str | None:
        op = self.tape.ops[slot]
        return None if op is None else op.name

    def parents(self, slot: int) -> tuple:
        return self.tape.parents[slot]

    def ancestors(self, root: int) -> list[int]:
        """Slots the root depends on (itself included), in evaluation order."""
        rows, template = autodiff.plan(self.tape, root)
        return [i for i, g in enumerate(template) if g is not None]

    def descendants(self, slot: int) -> set[int]:
        """Slots whose value depends on ``slot`` (itself included)."""
        reach = {slot}
        parents = self.tape.parents
        for i in range(slot + 1, len(self.tape.order)):
            if any(j in reach for j in parents[i] if j is not None):
                reach.add(i)
        return reach

    def label(self, slot: int) -> str:
        return self.graph.label(self.node(slot))

    def __len__(self) -> int:
        return len(self.tape.order)


def is_array(v) -> bool:
    return type(v) is np.ndarray


__all__ = ["PrivateTape"]
