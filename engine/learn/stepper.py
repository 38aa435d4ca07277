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


# ---------------------------------------------------------------------------- instances


@dataclass(frozen=True)
class OutputPort:
    """Output ``port`` (>= 1) of ``node`` (an instance with several outputs), where a step's
    amount arrives; output 0 is named by the node itself, as for every other node."""

    node: object
    port: int


def composite_steps(graph, into=(), output=None) -> list:
    """The backward pass one node at a time, as :meth:`Graph.steps` gives it, with each
    instance of a definition *stepped over* as one node (its step sends back, along each
    input wire, what its whole inside sent), except the instances in ``into`` (ids or
    instance paths), which are *stepped into*: their output ports, then the nodes inside in
    reverse topological order (nested instances stepped over unless also in ``into``), then
    their input ports, each sending on what it received.

    Steps are ``(node, grad, [(port, input, amount, before, after)])`` with addresses (ids at
    the top level, instance paths inside); an instance's ``grad`` is a tuple when it has
    several outputs, and an amount arriving at output port p >= 1 of an instance names it as
    :class:`OutputPort`. Running all steps gives every node's gradient (:func:`replay`).

    >>> from engine import Graph
    >>> g = Graph.from_expression("def sq(x):\\n    return x * x\\nsq(a) + a", a=3.0)
    >>> inst = next(n for n in g.nodes() if g.op(n) == "call")
    >>> [g.label(n) for n, _g, _s in composite_steps(g)]
    ['add#3', 'sq#2', 'a']
    >>> replay(composite_steps(g))[g.resolve("a")], replay(composite_steps(g, into=[inst]))[g.resolve("a")]
    (7.0, 7.0)
    """
    if output is not None:
        c = graph.copy()
        c.backward(output)
        graph = c
    ref = graph.evaluated_output_ref()
    if ref is None or graph.value(*ref) is None:
        return []
    expand = set()
    for item in into:
        path = graph.resolve(item)
        expand.add(path if isinstance(path, tuple) else (path,))
    return _Stepper(graph, expand).run(ref)


class _Stepper:
    def __init__(self, graph, expand):
        from ..core.autodiff import _topological_order

        self.g = graph
        self.expand = expand
        self.r = graph._res()
        self.topo = _topological_order
        self.acc: dict = {}
        self.steps: list = []

    def key(self, addr, port):
        return addr if port == 0 else OutputPort(addr, port)

    def send(self, sends, port, src_addr, sp, amount):
        if amount is None:
            return
        k = self.key(src_addr, sp)
        before = self.acc.get(k)
        after = amount if before is None else before + amount
        self.acc[k] = after
        sends.append((port, k, amount, before, after))

    def run(self, ref):
        node, port = ref
        seed_grad = self.g.grad(node, port)
        self.acc[self.key(node, port)] = seed_grad
        self.context((), first=node)
        return self.steps

    def context(self, ctx, first=None):
        g = self.g._ctx_graph(ctx)
        order = list(reversed(self.topo(g.nx)))
        if first is not None and first in order:  # the output's step comes first
            order.remove(first)
            order.insert(0, first)
        for n in order:
            op = g.nx._node[n]["op"]
            if op in ("input", "output"):
                continue
            addr = ctx + (n,) if ctx else n
            path = ctx + (n,)
            if op == "call":
                if path in self.expand:
                    self.step_into(g, ctx, n, path)
                else:
                    self.step_over(g, ctx, n, path, addr)
                continue
            grad = self.g.grad(addr)
            if grad is None:
                continue
            sends = []
            if op != "number":
                slot = self.r.tape.index[addr]
                sent = self.r.sent[slot]
                for p, w in enumerate(g.input_wires(n)):
                    if w is not None and sent is not None:
                        self.send(sends, p, self.source(ctx, w[0]), w[1], sent[p])
            self.steps.append((addr, grad, sends))

    def source(self, ctx, s):
        return ctx + (s,) if ctx else s

    def step_over(self, g, ctx, n, path, addr):
        count = g._output_arity(n)
        grads = tuple(self.g._grad_out(self.r, path, m) for m in range(count))
        if all(x is None for x in grads):
            return
        sends = []
        for p, w in enumerate(g.input_wires(n)):
            if w is not None:
                self.send(sends, p, self.source(ctx, w[0]), w[1], self.g._grad_in(self.r, path, p))
        self.steps.append((addr, grads[0] if count == 1 else grads, sends))

    def step_into(self, g, ctx, n, path):
        d = g.nx._node[n]["definition"]
        body = d.body
        for m, p in enumerate(d.outputs):
            grad = self.g._grad_out(self.r, path, m)
            if grad is None:
                continue
            sends = []
            w = body.input_wires(p.node)[0]
            if w is not None:
                self.send(sends, 0, path + (w[0],), w[1], grad)
            self.steps.append((path + (p.node,), grad, sends))
        self.context(path)
        for k, p in enumerate(d.inputs):
            grad = self.g._grad_in(self.r, path, k)
            if grad is None:
                continue
            sends = []
            w = g.input_wires(n)[k]
            if w is not None:
                self.send(sends, 0, self.source(ctx, w[0]), w[1], grad)
            self.steps.append((path + (p.node,), grad, sends))


def address_label(graph, addr) -> str:
    """How a step names an address: a node's label, ``neuron#4/mul#3`` inside an instance,
    ``pair#7:out2`` for an instance's output port p >= 1 (:class:`OutputPort`)."""
    if isinstance(addr, OutputPort):
        node = addr.node
        return f"{graph.label(node)}:{graph.definition_of(node).output_names[addr.port]}"
    return graph.label(addr)


def step_context(addr) -> tuple:
    """The instance path whose inside ``addr`` is (``()`` at the top level): where stepping out
    (Shift+F11) returns from."""
    if isinstance(addr, OutputPort):
        addr = addr.node
    return addr[:-1] if isinstance(addr, tuple) else ()


def top_node(addr):
    """The top-level node an address is drawn on: itself, or the outermost instance it is
    inside (what the canvas shows while the inside is not entered)."""
    if isinstance(addr, OutputPort):
        addr = addr.node
    return addr[0] if isinstance(addr, tuple) else addr


def is_instance_step(graph, addr) -> bool:
    """Whether the step at ``addr`` is an instance stepped over (F11 can step into it)."""
    return not isinstance(addr, OutputPort) and graph.op(addr) == "call"


def step_out_index(steps, k: int) -> int | None:
    """Where stepping out of the innermost instance lands from step ``k`` (k steps done): the
    first step after every remaining step inside the instance that holds the next step.
    None when the next step is at the top level (or there is none)."""
    ctx = step_context(steps[k][0]) if k < len(steps) else ()
    if not ctx:
        return None
    n = len(ctx)
    while k < len(steps):
        addr = steps[k][0]
        addr = addr.node if isinstance(addr, OutputPort) else addr
        if not (isinstance(addr, tuple) and addr[:n] == ctx):
            break
        k += 1
    return k


def composite_forward_steps(graph, into=()) -> list:
    """The forward pass with instances stepped over (one step: its outputs from its inputs)
    or, for those in ``into``, stepped into (its input ports, the nodes inside, its output
    ports): :func:`composite_steps` in reverse, as :func:`forward_steps` gives steps,
    ``(address, value, [(port, input address, value arriving), ...])``. An instance with
    several outputs has a tuple of values.

    >>> from engine import Graph
    >>> g = Graph.from_expression("def sq(x):\\n    return x * x\\nsq(a) + a", a=3.0)
    >>> [(g.label(n), v) for n, v, _ in composite_forward_steps(g)]
    [('a', 3.0), ('sq#2', 9.0), ('add#3', 12.0)]
    """
    out = []
    for addr, _grad, _sends in reversed(composite_steps(graph, into)):
        ctx = step_context(addr)
        op = graph.op(addr)
        if op == "input":  # what comes in through the instance's port, from outside it
            d = graph.definition_of(ctx if len(ctx) > 1 else ctx[0])
            k = next(i for i, p in enumerate(d.inputs) if p.node == addr[-1])
            wires = [(0, graph.input_wires(ctx if len(ctx) > 1 else ctx[0])[k])]
            outer = ctx[:-1]
        else:
            wires = list(enumerate(graph.input_wires(addr)))
            outer = ctx
        arriving = []
        for port, w in wires:
            if w is None:
                continue
            src = outer + (w[0],) if outer else w[0]
            arriving.append((port, src if w[1] == 0 else OutputPort(src, w[1]), graph.value(src, w[1])))
        if op == "call" and graph.output_arity(addr) > 1:
            value = tuple(graph.value(addr, m) for m in range(graph.output_arity(addr)))
        else:
            value = graph.value(addr)
        out.append((addr, value, arriving))
    return out
