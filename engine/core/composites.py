"""Composites: definitions (named functions with a body) and the instances that call them.

A :class:`Definition` is a pure function: named, ordered inputs and outputs and a body, a
graph of numbers, ops and instances of other definitions. The body holds one placeholder node
per input (op ``"input"``: no inputs, one output) and per output (op ``"output"``: one input,
no outputs); ``inputs`` and ``outputs`` list them in port order with the port's name. Numbers
in a body are *constants* of the definition: one value shared by every instance, so their
gradient is the sum over the instances (weight tying).

An instance is a node ``{"op": "call", "definition": <Definition>}`` whose input ports are the
definition's inputs and whose output ports are its outputs. Evaluation never looks at an
instance as a unit: when the tape is compiled each instance is *inlined* (:func:`expand`), its
body's slots appended to the tape under keys that say where they come from, so a grouped
document evaluates exactly as fast as the same document flat:

- a body op node at instance path ``(i1, i2, ..., body_id)``: the instance ids from the top
  level down, then the node's id in the innermost definition's body;
- a constant ``(definition name, body_id)``: one slot, however many instances there are.

Every instance's inside values and gradients can then be read back by path (the Graph does it
with :class:`CallRecord`, kept per instance path on the tape).

Limits, so that no document can ask for unbounded work: definitions nest at most
:data:`MAX_NESTING` levels, and the inlined tape has at most :data:`MAX_INLINED` slots (a small
file that would expand to 2**50 nodes is refused before anything is expanded). A definition
may not contain itself, directly or not.

>>> from engine.core.composites import find_cycle
>>> find_cycle({"a": ["b"], "b": ["c"], "c": ["a"]})
['a', 'b', 'c', 'a']
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .errors import GraphError
from .ops import NUMBER, OPS

CALL = "call"
"""The op of an instance node."""
INPUT = "input"
"""The op of an input placeholder in a body: no inputs, one output (the instance's input)."""
OUTPUT = "output"
"""The op of an output placeholder in a body: one input (what the instance outputs)."""
PLACEHOLDERS = (INPUT, OUTPUT)

MAX_NESTING = 64
"""Deepest nesting of definitions (an instance inside a body inside a body ...)."""
MAX_INLINED = 2_000_000
"""Most slots a document's inlined tape may have."""


def outside_only(op: str) -> str:
    """Why a node of kind ``op`` (a dataset) stays out of every definition, and what to do
    instead: the one wording for adding, grouping and loading."""
    return (
        f"a {op} node cannot go inside a definition: a definition is a function of its inputs, "
        f"shared by every instance, and holds only numbers, ops and instances. Keep the {op} node "
        "at the top level and wire its outputs into the instance's inputs"
    )


class CompositeError(GraphError):
    """A composite edit or definition that is refused (recursion, nesting, size, ports)."""


class RecursiveDefinitionError(CompositeError):
    """A definition that would contain itself, directly or not."""


class DefinitionNotFoundError(CompositeError, KeyError):
    def __str__(self):  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class DefinitionInUseError(CompositeError):
    """A definition that cannot be deleted while instances use it."""


@dataclass(frozen=True)
class Port:
    """One input or output of a definition: its name and its placeholder's id in the body."""

    name: str
    node: int


class Definition:
    """A composite's definition: ``name``, ``inputs`` and ``outputs`` (lists of :class:`Port`,
    in port order) and ``body`` (a Graph whose nodes are numbers, ops, instances and the
    placeholders the ports name). Edit it through the owning Graph's methods (they address
    body nodes as ``(definition name, id)``), which keep every instance in step.
    """

    __slots__ = ("name", "body", "inputs", "outputs", "_template")

    def __init__(self, name: str, body, inputs: Iterable[Port] = (), outputs: Iterable[Port] = ()):
        self.name = name
        self.body = body
        self.inputs = list(inputs)
        self.outputs = list(outputs)
        self._template = None

    @property
    def arity(self) -> int:
        """How many input ports an instance has."""
        return len(self.inputs)

    @property
    def output_arity(self) -> int:
        """How many output ports an instance has."""
        return len(self.outputs)

    @property
    def input_names(self) -> list[str]:
        return [p.name for p in self.inputs]

    @property
    def output_names(self) -> list[str]:
        return [p.name for p in self.outputs]

    def constants(self) -> list[int]:
        """The body ids of its constants (number nodes), in body order."""
        return [n for n, a in self.body.nx._node.items() if a["op"] == NUMBER]

    def callees(self) -> Counter:
        """How many instances of each definition the body holds, by definition name."""
        return Counter(a["definition"].name for a in self.body.nx._node.values() if a["op"] == CALL)

    def input_port(self, node: int) -> int:
        """The port whose placeholder is body node ``node``; ValueError if it is none."""
        for k, p in enumerate(self.inputs):
            if p.node == node:
                return k
        raise ValueError(f"body node {node} is not an input of {self.name}")

    def output_port(self, node: int) -> int:
        for k, p in enumerate(self.outputs):
            if p.node == node:
                return k
        raise ValueError(f"body node {node} is not an output of {self.name}")

    def changed(self) -> None:
        """Forget the compiled template (call after any edit of the body)."""
        self._template = None

    def __repr__(self):
        ins = ", ".join(self.input_names)
        outs = ", ".join(self.output_names)
        return f"<Definition {self.name}({ins}) -> ({outs}), {len(self.body.nx)} body nodes>"


# ---------------------------------------------------------------------------- the call graph


def call_graph(definitions: Mapping[str, Definition]) -> dict[str, Counter]:
    """Definition name -> Counter of the definitions its body instantiates."""
    return {name: d.callees() for name, d in definitions.items()}


def find_cycle(calls: Mapping[str, Iterable[str]], start: str | None = None) -> list[str] | None:
    """A cycle in the call graph (``calls``: name -> names it calls) as a list of names whose
    first and last are the same, or None. Iterative, so a 1,000-level chain is fine.

    >>> find_cycle({"a": ["b"], "b": []}) is None
    True
    """
    WHITE, GREY, BLACK = 0, 1, 2
    colour: dict[str, int] = {}
    roots = [start] if start is not None else list(calls)
    for root in roots:
        if colour.get(root, WHITE) != WHITE:
            continue
        path = [root]
        colour[root] = GREY
        stack = [iter(calls.get(root, ()))]
        while stack:
            for nxt in stack[-1]:
                c = colour.get(nxt, WHITE)
                if c == GREY:
                    return path[path.index(nxt):] + [nxt]
                if c == WHITE:
                    colour[nxt] = GREY
                    path.append(nxt)
                    stack.append(iter(calls.get(nxt, ())))
                    break
            else:
                stack.pop()
                colour[path.pop()] = BLACK
    return None


def _post_order(calls: Mapping[str, Iterable[str]]) -> list[str]:
    """Every name, callees before callers (the call graph must be acyclic)."""
    done: set[str] = set()
    order: list[str] = []
    for root in calls:
        if root in done:
            continue
        stack = [(root, iter(calls.get(root, ())))]
        done.add(root)
        while stack:
            name, it = stack[-1]
            for nxt in it:
                if nxt not in done:
                    done.add(nxt)
                    stack.append((nxt, iter(calls.get(nxt, ()))))
                    break
            else:
                stack.pop()
                order.append(name)
    return order


def nesting(calls: Mapping[str, Iterable[str]]) -> dict[str, int]:
    """How deep each definition nests: 1 for a body without instances, else 1 + the deepest
    callee. The call graph must be acyclic (see :func:`find_cycle`)."""
    depth: dict[str, int] = {}
    for name in _post_order(calls):
        depth[name] = 1 + max((depth.get(c, 0) for c in calls.get(name, ())), default=0)
    return depth


def deepest_chain(calls: Mapping[str, Iterable[str]], depth: Mapping[str, int], name: str) -> list[str]:
    """The chain of definitions that makes ``name`` as deep as it is."""
    chain = [name]
    while True:
        nxt = max(calls.get(chain[-1], ()), key=lambda c: depth.get(c, 0), default=None)
        if nxt is None:
            return chain
        chain.append(nxt)


def body_sizes(definitions: Mapping[str, Definition], calls: Mapping[str, Counter] | None = None) -> dict:
    """Slots one instance of each definition inlines to (its constants are shared, so left
    out): its ops, a slot per unwired output, and per instance in its body that definition's
    size. Exact integers, so a 2**50 expansion is counted, not performed. The call graph must
    be acyclic; a name in ``calls`` that is not a definition counts its callees only."""
    calls = call_graph(definitions) if calls is None else calls
    size: dict[str, int] = {}
    for name in _post_order(calls):
        d = definitions.get(name)
        own = 0
        if d is not None:
            g = d.body.nx
            own = sum(1 for a in g._node.values() if a["op"] not in (NUMBER, CALL, INPUT, OUTPUT))
            own += sum(1 for p in d.outputs if p.node in g._node and not g._pred[p.node])
        size[name] = own + sum(k * size.get(c, 0) for c, k in calls.get(name, {}).items())
    return size


def check_calls(calls: Mapping[str, Iterable[str]]) -> dict[str, int]:
    """Refuse a call graph that recurses or nests more than MAX_NESTING levels
    (RecursiveDefinitionError, CompositeError, naming the definitions); returns each
    definition's depth."""
    cycle = find_cycle(calls)
    if cycle:
        shown = " -> ".join(cycle)
        raise RecursiveDefinitionError(
            f"definition {cycle[0]!r} would contain itself ({shown}); a composite cannot be recursive"
        )
    depth = nesting(calls)
    worst = max(depth, key=depth.get, default=None)
    if worst is not None and depth[worst] > MAX_NESTING:
        chain = deepest_chain(calls, depth, worst)
        shown = " -> ".join(chain[:6]) + (" -> …" if len(chain) > 6 else "")
        raise CompositeError(
            f"definitions nest {depth[worst]} levels deep ({shown}); at most {MAX_NESTING} are allowed"
        )
    return depth


def check_definitions(definitions: Mapping[str, Definition], top: Counter, top_slots: int,
                      calls: Mapping[str, Counter] | None = None) -> int:
    """Refuse a set of definitions that recurses, nests more than MAX_NESTING levels, or whose
    instances (``top``: name -> how many at the top level; ``top_slots``: the top level's other
    nodes) would inline to more than MAX_INLINED slots. Returns the inlined size.

    Raises RecursiveDefinitionError or CompositeError, naming the definitions involved.
    """
    calls = call_graph(definitions) if calls is None else calls
    check_calls(calls)
    size = body_sizes(definitions, calls)
    used = _used(calls, top)
    constants = sum(len(definitions[n].constants()) for n in used if n in definitions)
    total = top_slots + constants + sum(k * size.get(c, 0) for c, k in top.items())
    if total > MAX_INLINED:
        heavy = max(top, key=lambda c: top[c] * size.get(c, 0), default=None)
        what = ""
        if heavy:
            what = f" ({top[heavy]:,} instance(s) of {heavy!r}, {_count(size[heavy])} nodes each)"
        raise CompositeError(
            f"the document would inline to {_count(total)} nodes{what}; at most {MAX_INLINED:,} are allowed"
        )
    return total


def _used(calls: Mapping[str, Counter], top: Counter) -> set[str]:
    """Definitions reached from the top level's instances."""
    seen: set[str] = set()
    todo = [c for c, k in top.items() if k]
    while todo:
        n = todo.pop()
        if n in seen:
            continue
        seen.add(n)
        todo.extend(calls.get(n, ()))
    return seen


def _count(n: int) -> str:
    return f"{n:,}" if n < 10**15 else f"about 2**{n.bit_length() - 1}"


def multiplicity(definitions: Mapping[str, Definition], top: Counter,
                 calls: Mapping[str, Counter] | None = None) -> Counter:
    """How many times each definition is inlined (instances at every depth)."""
    calls = call_graph(definitions) if calls is None else calls
    mult: Counter = Counter()
    for name in reversed(_post_order(calls)):  # callers before callees
        mult[name] += top.get(name, 0)
        for c, k in calls[name].items():
            mult[c] += k * mult[name]
    return mult


# ---------------------------------------------------------------------------- inlining

_K_INPUT, _K_NUMBER, _K_OP, _K_CALL = range(4)


def template(defn: Definition):
    """The body compiled once per body edit: ``(steps, outputs)``. Each step is ``(kind,
    body_id, data, parents)`` in body topological order (output placeholders left out);
    ``parents`` has one reference per input port: the position of the step whose output it
    reads (an int), ``(position, output port)`` for an instance's output, or None where the
    port is unwired; ``outputs`` one such reference per output port."""
    t = defn._template
    if t is not None:
        return t
    from .autodiff import _topological_order  # the same generation order as the top level

    g = defn.body.nx
    nodes, pred = g._node, g._pred
    in_port = {p.node: k for k, p in enumerate(defn.inputs)}
    position: dict = {}
    multi: set = set()  # positions of instances (several outputs, referenced by port)
    steps = []

    def ref(s, sp):
        pos = position[s]
        return (pos, sp) if pos in multi else pos

    def parents(n, arity):
        ps = [None] * arity
        for s, ports in pred[n].items():
            for p, d in ports.items():
                ps[p] = ref(s, d.get("source_port", 0) if d else 0)
        return tuple(ps)

    for n in _topological_order(g):
        a = nodes[n]
        op = a["op"]
        if op == OUTPUT:
            continue
        position[n] = len(steps)
        if op == INPUT:
            steps.append((_K_INPUT, n, in_port[n], ()))
        elif op == NUMBER:
            steps.append((_K_NUMBER, n, a, ()))
        elif op == CALL:
            multi.add(len(steps))
            steps.append((_K_CALL, n, a["definition"], parents(n, a["definition"].arity)))
        else:
            row = OPS[op]
            data = (row, a.get("params") or {}, row.forward, row.local, row.arity, int(row.tensor))
            steps.append((_K_OP, n, data, parents(n, row.arity)))
    outs = []
    for p in defn.outputs:
        src = None
        for s, ports in pred[p.node].items():
            for d in ports.values():
                src = ref(s, d.get("source_port", 0) if d else 0)
        outs.append(src)
    t = defn._template = (steps, tuple(outs))
    return t


@dataclass(frozen=True)
class CallRecord:
    """One inlined instance: its definition's name, the slot feeding each input port and the
    slot of each output port (None where unconnected), and the range of slots its body
    appended (``start`` to ``end``, nested instances included; a constant's one slot may sit
    in the range of the first instance that used it)."""

    definition: str
    inputs: tuple
    outputs: tuple
    start: int
    end: int


_UNWIRED = OPS["neg"]  # the slot of an unwired output: an op whose input is missing, so undefined


def expand(build, defn: Definition, path: tuple, inputs: tuple, calls: dict) -> tuple:
    """Append the slots of one instance of ``defn`` at instance ``path`` to the tape being
    built (``build``: a TapeBuilder, see :mod:`engine.core.autodiff`), its inputs read from
    slots ``inputs`` (None where unconnected); record a :class:`CallRecord` per instance
    (nested ones too) in ``calls``; return the slot of each output port.

    The loop appends to the tape's lists itself (what ``build.op`` does, inlined): it runs
    once per inlined node, and on micrograd's MLP loss that is 64,000 times."""
    steps, outs = template(defn)
    t = build.tape
    order, index, ops, parents = t.order, t.index, t.ops, t.parents
    numbers, defined, fwd, bwd, params_l = t.numbers, t.defined, t._fwd, t._bwd, t.params
    start = len(order)
    local: list = [None] * len(steps)
    name = defn.name
    tensor = 0
    for pos, (kind, n, data, ps) in enumerate(steps):
        if kind == _K_OP:
            row, params, forward, loc, arity, is_tensor = data
            r = ps[0]
            j = r if r is None else (local[r] if type(r) is int else local[r[0]][r[1]])
            if arity == 2:
                r = ps[1]
                k = r if r is None else (local[r] if type(r) is int else local[r[0]][r[1]])
                pp = (j, k)
                ok = j is not None and k is not None and defined[j] and defined[k]
            else:
                k = -1
                pp = (j,)
                ok = j is not None and defined[j]
            i = len(order)
            key = path + (n,)
            order.append(key)
            index[key] = i
            ops.append(row)
            parents.append(pp)
            numbers.append(None)
            params_l.append(params)
            defined.append(ok)
            if ok:
                fwd.append((i, forward, j, k))
                bwd.append((loc, j, k))
            else:
                bwd.append(None)
            tensor += is_tensor
            local[pos] = i
        elif kind == _K_INPUT:
            local[pos] = inputs[data]
        elif kind == _K_NUMBER:
            key = (name, n)
            s = index.get(key)
            if s is None:
                t.tensor_ops += tensor
                tensor = 0
                s = build.number(data["value"], key)
            local[pos] = s
        else:
            args = tuple(r if r is None else (local[r] if type(r) is int else local[r[0]][r[1]]) for r in ps)
            t.tensor_ops += tensor
            tensor = 0
            local[pos] = expand(build, data, path + (n,), args, calls)
    t.tensor_ops += tensor
    result = []
    for p, r in zip(defn.outputs, outs):
        s = r if r is None else (local[r] if type(r) is int else local[r[0]][r[1]])
        if s is None:  # nothing wired into this output (yet): an undefined slot stands for it
            s = build.op(_UNWIRED, [None], path + (p.node,), None)
        result.append(s)
    result = tuple(result)
    calls[path] = CallRecord(name, tuple(inputs), result, start, len(order))
    return result


__all__ = [
    "CALL",
    "INPUT",
    "MAX_INLINED",
    "MAX_NESTING",
    "OUTPUT",
    "CallRecord",
    "CompositeError",
    "Definition",
    "DefinitionInUseError",
    "DefinitionNotFoundError",
    "Port",
    "RecursiveDefinitionError",
    "body_sizes",
    "call_graph",
    "check_calls",
    "check_definitions",
    "expand",
    "find_cycle",
    "multiplicity",
    "nesting",
    "template",
]
