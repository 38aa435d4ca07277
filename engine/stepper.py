"""Replay :meth:`Graph.steps` one step at a time: what step mode shows after k steps.

A step list is ``[(node, grad, [(port, input, amount, before, after), ...]), ...]`` in
processing order (reverse topological). Before the first step only the output holds a
gradient (the seed); each step adds its amounts to its inputs' running sums.

>>> from engine import Value
>>> a = Value(3.0, name="a"); g = (a * a).graph()
>>> s = state_after(g.steps(), 1)
>>> g.label(s.node), s.grads[g.resolve("a")]
('mul#2', 6.0)
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StepState:
    """The backward pass after ``k`` of its steps.

    ``node``/``grad``/``sends`` describe step k (the one just done; None/None/() when k == 0),
    ``grads`` every gradient accumulated so far (final for processed nodes, partial for the
    rest), ``processed`` the nodes whose step is done, in order.
    """

    k: int
    total: int
    node: int | None
    grad: float | None
    sends: tuple
    grads: dict
    processed: tuple

    @property
    def done(self) -> bool:
        """Whether every step has been applied, so ``grads`` equals the graph's gradients."""
        return self.k == self.total

    def pending(self) -> list:
        """Nodes holding a partial sum that have not been processed yet (the frontier)."""
        seen = set(self.processed)
        return [n for n in self.grads if n not in seen]


def replay(steps) -> dict:
    """Every node's gradient after running all ``steps`` (equals ``Graph.grads()`` on the
    output's ancestors; nodes absent from the result have no path to the output)."""
    return state_after(steps, len(steps)).grads


def state_after(steps, k: int) -> StepState:
    """The state after the first ``k`` steps (0 <= k <= len(steps)); ValueError otherwise.

    Cost is O(k) per call, which is what a step-back button needs; keep the states if you
    scrub back and forth over a very long pass.
    """
    total = len(steps)
    if isinstance(k, bool) or not isinstance(k, int) or not 0 <= k <= total:
        raise ValueError(f"step {k!r} is outside 0..{total}")
    grads: dict = {}
    if total:
        root, seed, _ = steps[0]
        grads[root] = seed
    processed = []
    for node, _g, sends in steps[:k]:
        processed.append(node)
        for _port, src, _amount, _before, after in sends:
            grads[src] = after
    if k == 0:
        return StepState(0, total, None, None, (), grads, ())
    node, g, sends = steps[k - 1]
    return StepState(k, total, node, g, tuple(sends), grads, tuple(processed))
