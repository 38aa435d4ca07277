"""Replay a pass one step at a time: what step mode shows after k steps.

The forward pass (:func:`forward_steps`, :func:`forward_state_after`) computes the output's
ancestors in topological order, each from the values arriving at its inputs; the backward
pass (:meth:`Graph.steps`, :func:`state_after`) then walks them in reverse.

A step list is ``[(node, grad, [(port, input, amount, before, after), ...]), ...]`` in
processing order (reverse topological). Before the first step only the output holds a
gradient (the seed); each step adds its amounts to its inputs' running sums.

>>> from engine import Value
>>> a = Value(3.0, name="a"); g = (a * a).graph()
>>> s = state_after(g.steps(), 1)
>>> g.label(s.node), s.grads[g.resolve("a")]
('mul#2', 6.0)
>>> f = forward_state_after(forward_steps(g), 1)
>>> f.values, f.done
({1: 3.0}, False)
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


@dataclass(frozen=True)
class ForwardState:
    """The forward pass after ``k`` of its steps: ``node``/``value``/``inputs`` describe step k
    (None/None/() when k == 0; ``inputs`` is ``((port, input, value arriving), ...)``),
    ``values`` every value computed so far, in order."""

    k: int
    total: int
    node: int | None
    value: object
    inputs: tuple
    values: dict

    @property
    def done(self) -> bool:
        return self.k == self.total


def forward_steps(graph, output=None) -> list:
    """The forward pass over the output's ancestors, one node per step in topological order:
    ``[(node, value, [(port, input, value arriving), ...]), ...]``; numbers come first (they
    have no inputs). Empty when there is no output or it has no value (the same condition as
    :meth:`Graph.steps`, so the two passes always come as a pair)."""
    back = graph.steps(output)
    out = []
    for node, _grad, _sends in reversed(back):
        ins = graph.inputs(node)
        arriving = [(port, src, graph.value(src)) for port, src in enumerate(ins) if src is not None]
        out.append((node, graph.value(node), arriving))
    return out


def forward_state_after(steps, k: int) -> ForwardState:
    """The forward pass after its first ``k`` steps (0 <= k <= len(steps)); ValueError otherwise."""
    total = len(steps)
    if isinstance(k, bool) or not isinstance(k, int) or not 0 <= k <= total:
        raise ValueError(f"step {k!r} is outside 0..{total}")
    values = {node: value for node, value, _ins in steps[:k]}
    if k == 0:
        return ForwardState(0, total, None, None, (), values)
    node, value, ins = steps[k - 1]
    return ForwardState(k, total, node, value, tuple(ins), values)
