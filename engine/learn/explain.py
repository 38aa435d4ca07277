"""The chain rule written out with numbers: why a node's gradient is what it is.

A node's gradient is the sum, over every wire out of it, of the consumer's gradient times the
consumer's local derivative with respect to that input. :func:`explain` lists those terms with
their numbers, taken from the graph's current evaluation and the op table's ``local`` rules (the
same ones backward multiplies by), so the terms add up to exactly ``graph.grad(node)``.

>>> from engine import Graph
>>> g = Graph.from_expression("(a*4+3)*(a+2)", a=3)
>>> ex = explain(g, "a")
>>> sorted(t.product for t in ex.terms), ex.grad
([15.0, 20.0], 35.0)
>>> ex.sum_line()
'∂mul#8/∂a = 15 + 20 = 35'
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..core.graph import Graph
from ..core.ops import OPS
from ..core.ops import local as safe_local

# What kind of answer an Explanation holds.
SUM = "sum"  # the gradient is a sum of terms, one per wire into a consumer on a path to the output
OUTPUT = "output"  # the node is the output: its gradient is the seed, 1
NO_PATH = "no_path"  # nothing it feeds reaches the output: it has no gradient
NO_OUTPUT = "no_output"  # the graph has no output to differentiate
UNDEFINED = "undefined"  # the output has no value (an unconnected input), so no gradient flows
TIED = "tied"  # a constant of a definition: its gradient is the sum over the definition's instances


def plain_number(x) -> str:
    """Short text for a number: integers without ".0", six significant digits otherwise.

    >>> plain_number(35.0), plain_number(0.1 + 0.2), plain_number(None), plain_number(-math.inf)
    ('35', '0.3', '—', '-inf')
    """
    if x is None:
        return "—"
    try:
        xf = float(x)
    except (TypeError, ValueError, OverflowError):
        return str(x)
    if xf != xf:
        return "NaN"
    if math.isinf(xf):
        return "inf" if xf > 0 else "-inf"
    if xf.is_integer() and abs(xf) < 1e15:
        return str(int(xf))
    text = f"{xf:.6g}"
    if "e" in text:
        mant, exp = text.split("e")
        text = f"{mant}e{int(exp)}"
    return text


@dataclass(frozen=True)
class Term:
    """One wire's share of a gradient: ``consumer_grad * local == product``.

    ``consumer`` is the node fed through input ``port`` (named ``port_name`` in the op table);
    ``local`` is d(consumer)/d(input on that port) at the current values. Where arrays are
    involved the local derivative is a Jacobian: ``local`` is None and ``product`` is the
    array (in the input's shape) that backward sent along the wire, its vector-Jacobian
    product with ``consumer_grad``.
    """

    consumer: int
    port: int
    port_name: str
    consumer_label: str
    consumer_grad: float
    local: float
    product: float
    # An instance of a definition as the consumer: one factor, its local Jacobian. With several
    # outputs, ``consumer_grad`` and ``local`` are tuples (per output: its gradient, and
    # d(output)/d(this input)); ``product`` is what the instance sent back, their dot product.
    # :func:`explain_inside` expands the factor into the inside's own terms.
    instance: bool = False


@dataclass(frozen=True)
class Explanation:
    """Why ``node`` has gradient ``grad`` with respect to ``output``.

    ``kind`` is one of ``"sum"``, ``"output"``, ``"no_path"``, ``"no_output"``, ``"undefined"``;
    ``terms`` (for ``"sum"``) come in the order backward adds them, so adding them up from 0.0
    reproduces ``grad`` exactly; ``unused`` lists consumers with no path to the output (they
    contribute nothing and are named so the reader is not left wondering).
    """

    node: int
    label: str
    output: int | None
    output_label: str | None
    grad: float | None
    kind: str
    terms: tuple = ()
    unused: tuple = ()
    port: int = 0  # which output of the node (an instance with several outputs)

    def symbol(self) -> str:
        """The derivative being explained, e.g. ``∂e/∂a``."""
        return f"∂{self.output_label or 'out'}/∂{self.label}"

    def term_symbol(self, term: Term) -> str:
        """The factors of one term as symbols, e.g. ``∂e/∂c · ∂c/∂a``."""
        port = f"[{term.port_name}]" if self._needs_port(term) else ""
        return (
            f"∂{self.output_label or 'out'}/∂{term.consumer_label} · "
            f"∂{term.consumer_label}{port}/∂{self.label}"
        )

    def _needs_port(self, term: Term) -> bool:
        # Only when the node feeds the same consumer twice (x*x) do the two terms need telling apart.
        return sum(1 for t in self.terms if t.consumer == term.consumer) > 1

    def term_text(self, term: Term, fmt: Callable = plain_number) -> str:
        """One term with its numbers, e.g. ``via c: ∂e/∂c · ∂c/∂a = 5 · 4 = 20``."""
        if self.kind == TIED:
            return f"via {term.consumer_label}: {fmt(term.product)}"
        if isinstance(term.local, tuple):  # an instance with several outputs: a dot product
            pairs = " + ".join(f"{fmt(g)} · {fmt(j)}" for g, j in zip(term.consumer_grad, term.local))
            return f"via {term.consumer_label}: Σ over its outputs {pairs} = {fmt(term.product)}"
        return (
            f"via {term.consumer_label}: {self.term_symbol(term)} = "
            f"{fmt(term.consumer_grad)} · {fmt(term.local)} = {fmt(term.product)}"
        )

    def sum_line(self, fmt: Callable = plain_number) -> str:
        """The gradient as the sum of its terms' products, e.g. ``∂e/∂a = 20 + 15 = 35``."""
        if self.kind not in (SUM, TIED):
            return f"{self.symbol()} = {fmt(self.grad)}" if self.grad is not None else self.summary()
        parts = " + ".join(_paren(fmt(t.product)) for t in self.terms)
        if len(self.terms) == 1:
            return f"{self.symbol()} = {parts}"
        return f"{self.symbol()} = {parts} = {fmt(self.grad)}"

    def summary(self) -> str:
        """The answer in words, one sentence."""
        out = self.output_label
        if self.kind == OUTPUT:
            return f"{self.label} is the output: backward starts here with {self.symbol()} = 1."
        if self.kind == TIED:
            return (
                f"{self.label} is a constant of a definition, shared by {len(self.terms)} instance(s): its "
                "gradient is the sum of what each instance sends back to it (weight tying)."
            )
        if self.kind == NO_OUTPUT:
            return "There is no output to differentiate: set one (or leave exactly one node unused)."
        if self.kind == UNDEFINED:
            return f"The output {out} has no value (an input is not connected), so no gradient flows."
        if self.kind == NO_PATH:
            if self.unused:
                return (
                    f"{self.label} feeds only nodes that do not reach the output {out}, "
                    f"so changing it cannot change {out}: no gradient."
                )
            return (
                f"Nothing connects {self.label} to the output {out}, "
                f"so changing it cannot change {out}: no gradient."
            )
        if len(self.terms) == 1:
            return (
                f"{self.label} reaches the output {out} through one wire: its gradient is that "
                f"consumer's gradient × the consumer's local derivative."
            )
        return (
            f"{self.label} reaches the output {out} through {len(self.terms)} wires: its gradient is "
            f"the sum over them of (the consumer's gradient × the consumer's local derivative)."
        )

    def lines(self, fmt: Callable = plain_number) -> list[str]:
        """The whole explanation as lines of text: summary, one line per term, the sum."""
        out = [self.summary()]
        if self.kind in (SUM, TIED):
            out += [self.term_text(t, fmt) for t in self.terms]
            out.append(self.sum_line(fmt))
        if self.unused:
            names = ", ".join(lbl for _, lbl in self.unused)
            verb = "does" if len(self.unused) == 1 else "do"
            out.append(f"(also feeds {names}, which {verb} not reach the output)")
        return out

    @property
    def text(self) -> str:
        """:meth:`lines` joined with newlines."""
        return "\n".join(self.lines())


def _paren(s: str) -> str:
    return f"({s})" if s.startswith(("-", "−")) else s


def explain(graph: Graph, node, port: int = 0, cache: dict | None = None) -> Explanation:
    """Explain ``node``'s gradient in the graph's current evaluation (the output it was last
    evaluated for: the document's output unless ``graph.backward(output=...)`` chose another).
    ``port``: which output of a node with several (an instance): only the wires leaving that
    output are its terms, and its label names the output (``pair#7:out2``). ``cache``: a dict
    kept across calls on one evaluation (the outputs of one node) so each instance's private
    tape is built once (see :func:`instance_jacobian`).

    Raises NodeNotFoundError for an unknown node; never changes the graph.

    >>> from engine import Graph
    >>> g = Graph.from_expression("x*x", x=3)
    >>> ex = explain(g, "x")
    >>> [(t.port_name, t.consumer_grad, t.local, t.product) for t in ex.terms]
    [('a', 1.0, 3.0, 3.0), ('b', 1.0, 3.0, 3.0)]
    >>> explain(g, g.output_node()).kind
    'output'
    """
    n = graph.resolve(node)
    label = graph.label(n)
    out_port = port  # ``port`` names each consumer's input port below
    outputs = graph.output_arity(n)
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port < outputs:
        raise ValueError(f"{label} has outputs 0..{outputs - 1}, not {port!r}")
    if outputs > 1:
        label = f"{label}:{_output_name(graph, n, port)}"
    root_ref = graph.evaluated_output_ref()
    if root_ref is None:
        root = graph.output_node()
        kind = NO_OUTPUT if root is None else UNDEFINED
        return Explanation(n, label, root, None if root is None else graph.label(root), None, kind)
    root = root_ref[0]
    out_label = graph.label(root)
    grad = graph.grad(n, port)

    def make(kind, terms=(), unused=()):
        return Explanation(n, label, root, out_label, grad, kind, tuple(terms), tuple(unused), out_port)

    if graph.value(*root_ref) is None:
        return make(UNDEFINED)
    if (n, port) == tuple(root_ref):
        return make(OUTPUT)
    if isinstance(n, tuple) and isinstance(n[0], str):  # a definition's node: one value per instance
        if graph.op(n) != "number":
            return make(NO_PATH)
        terms = [
            Term(inst, None, "", graph.label(inst), None, None, amount)
            for inst, _p, amount in graph.contributions(n)
        ]
        return make(TIED, terms) if terms else make(NO_PATH)

    ctx = n[:-1] if isinstance(n, tuple) else ()

    def addr(k):
        return ctx + (k,) if ctx else k

    tape = graph.tape()
    terms, unused = [], []
    cache = {} if cache is None else cache  # each instance's private tape, built once for all its terms
    for consumer, port in graph.consumers(n, source_port=out_port):
        c = addr(consumer)
        op = graph.op(c)
        if op == "call":
            terms.append(_instance_term(graph, c, port, cache))
            if terms[-1] is None:
                terms.pop()
                if all(u != c for u, _ in unused):
                    unused.append((c, graph.label(c)))
            continue
        if op == "output":  # the node leaves the instance through this output port
            cg = graph.grad(c)
            if cg is None:
                continue
            terms.append(Term(c, 0, "out", graph.label(c), cg, 1.0, cg))
            continue
        cg = graph.grad(c)
        if cg is None:
            if all(u != c for u, _ in unused):
                unused.append((c, graph.label(c)))
            continue
        args = [None if w is None else graph.value(addr(w[0]), w[1]) for w in graph.input_wires(c)]
        value = graph.value(c)
        if OPS[op].tensor or any(_is_array(v) for v in (*args, value, cg)):
            # A Jacobian, not one number: the term is the vector-Jacobian product backward
            # sent along this wire (local is None: there is no single factor to show).
            amount = graph.edge_grad(n, c, port)
            terms.append(Term(c, port, OPS[op].ports[port], graph.label(c), cg, None, amount))
            continue
        d = safe_local(OPS[op], args, value)[port]
        terms.append(Term(c, port, OPS[op].ports[port], graph.label(c), cg, d, cg * d))
    if grad is None or not terms:
        return make(NO_PATH, (), unused)
    # Backward visits consumers in reverse topological order, port 0 before port 1; adding the
    # terms in that order from 0.0 gives exactly the float it computed (for an instance, the
    # slot of its first output stands for it).
    terms.sort(key=lambda t: (-_slot_of(tape, t.consumer), t.port))
    return make(SUM, terms, unused)


def _output_name(graph: Graph, n, port: int) -> str:
    if graph.op(n) == "call":
        return graph.definition_of(n).output_names[port]
    from ..core import kinds

    return kinds.get(graph.op(n)).outputs(graph.node(n))[port]


def _slot_of(tape, key) -> int:
    s = tape.index.get(key)
    if s is None and isinstance(key, tuple) and key in tape.calls:
        outs = tape.calls[key].outputs
        s = outs[0] if outs else None
    return -1 if s is None else s


def _instance_term(graph: Graph, inst, port, cache: dict | None = None) -> Term | None:
    """The term for a wire into instance ``inst``'s input ``port``: the instance is one factor,
    its local Jacobian's column for that port."""
    count = graph.output_arity(inst)
    grads = tuple(graph.grad(inst, m) for m in range(count))
    if all(g is None for g in grads):
        return None
    jac = instance_jacobian(graph, inst, ports=(port,), cache=cache)
    col = tuple(jac.matrix[m][port] for m in range(count))
    path = inst if isinstance(inst, tuple) else (inst,)
    amount = graph._grad_in(graph._res(), path, port)
    name = jac.inputs[port]
    if count == 1:
        return Term(inst, port, name, graph.label(inst), grads[0], col[0], amount, instance=True)
    return Term(inst, port, name, graph.label(inst), grads, col, amount, instance=True)


def explain_inside(graph: Graph, instance, port: int) -> Explanation:
    """A term through an instance, expanded: the explanation of what comes back through the
    instance's input ``port``, in terms of the nodes inside it that use that input.

    >>> from engine import Graph
    >>> g = Graph.from_expression("def sq(x):\\n    return x * x\\nsq(a) + a", a=3.0)
    >>> inst = next(n for n in g.nodes() if g.op(n) == "call")
    >>> ex = explain_inside(g, inst, 0); [t.product for t in ex.terms], ex.grad
    ([3.0, 3.0], 6.0)
    """
    path = graph.resolve(instance)
    path = path if isinstance(path, tuple) else (path,)
    d = graph.definition_of(path if len(path) > 1 else path[0])
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port < d.arity:
        raise ValueError(f"{d.name!r} has inputs 0..{d.arity - 1}, not {port!r}")
    return explain(graph, path + (d.inputs[port].node,))


@dataclass(frozen=True)
class Jacobian:
    """An instance's local Jacobian at its current inputs: ``matrix[m][k]`` is d(output m) /
    d(input k): a number, or for arrays an array of shape output shape + input shape (None
    when an input is unwired, or past ``MAX_JACOBIAN`` elements: then the shapes say it)."""

    instance: object
    inputs: tuple
    outputs: tuple
    input_shapes: tuple
    output_shapes: tuple
    matrix: tuple

    def lines(self, fmt: Callable = plain_number) -> list[str]:
        out = []
        for m, oname in enumerate(self.outputs):
            for k, iname in enumerate(self.inputs):
                v = self.matrix[m][k]
                if v is None or _is_array(v):
                    shape = _shape_text(self.output_shapes[m]) + " × " + _shape_text(self.input_shapes[k])
                    shown = "—" if v is None and self.input_shapes[k] is None else f"a {shape} Jacobian"
                else:
                    shown = fmt(v)
                out.append(f"∂{oname}/∂{iname} = {shown}")
        return out


MAX_JACOBIAN = 4096  # elements of an array Jacobian worked out for display


def _shape_text(shape) -> str:
    if shape is None:
        return "?"
    return "()" if shape == () else "×".join(str(s) for s in shape)


def instance_jacobian(graph: Graph, instance, ports=None, cache: dict | None = None) -> Jacobian:
    """The local Jacobian of an instance (a top-level id or an instance path) at its current
    inputs, by forward mode through a private copy of its inside (the document's tape is not
    touched). ``ports`` (input ports) limits the work to those columns, the others None: one
    wire's term needs one column, and an instance of a whole network has hundreds. ``cache``
    (a dict the caller keeps for one evaluation) holds each instance's private tape between
    calls: explaining a parameter bank's gradient asks for thousands of columns.

    >>> from engine import Graph
    >>> g = Graph.from_expression("def f(x, y):\\n    return x * y, x + y\\np, q = f(a, b)\\np * q",
    ...                           a=2.0, b=5.0)
    >>> inst = next(n for n in g.nodes() if g.op(n) == "call")
    >>> instance_jacobian(g, inst).matrix
    ((5.0, 2.0), (1.0, 1.0))
    """
    import numpy as np

    from ..core import autodiff
    from ..core.composites import expand
    from .forward_mode import slot_tangents

    path = graph.resolve(instance)
    path = path if isinstance(path, tuple) else (path,)
    if graph.op(path if len(path) > 1 else path[0]) != "call":
        raise ValueError(f"{graph.label(instance)} is not an instance")
    d = graph.definition_of(path if len(path) > 1 else path[0])
    built = None if cache is None else cache.get(path)
    if built is None:
        values = [graph.value(path + (p.node,)) for p in d.inputs]
        tape = autodiff.Tape([], {}, [], [], [], [], [], [], {}, [])
        build = autodiff.TapeBuilder(tape)
        ins = tuple(None if v is None else build.number(v, ("input", k)) for k, v in enumerate(values))
        outs = expand(build, d, (), ins, {})
        with np.errstate(all="ignore"):
            vals = autodiff.forward(tape)
        out_shapes = tuple(None if vals[s] is None else np.shape(vals[s]) for s in outs)
        in_shapes = tuple(None if v is None else np.shape(v) for v in values)
        built = (values, tape, ins, outs, vals, in_shapes, out_shapes, {})
        if cache is not None:
            cache[path] = built
    values, tape, ins, outs, vals, in_shapes, out_shapes, rows = built
    matrix = [[None] * len(ins) for _ in outs]
    if cache is not None and _all_scalar(vals, ins, outs):
        # Many columns of one instance asked for: a reverse pass per output gives every
        # column at once (an instance of a network has hundreds of inputs, one output).
        for m, o in enumerate(outs):
            if m not in rows:
                with np.errstate(all="ignore"):
                    rows[m] = autodiff.backward(tape, vals, o)
            for k, s in enumerate(ins):
                if s is not None and (ports is None or k in ports):
                    got = rows[m][s]
                    matrix[m][k] = 0.0 if got is None else got
        return Jacobian(path if len(path) > 1 else path[0], tuple(d.input_names), tuple(d.output_names),
                        in_shapes, out_shapes, tuple(tuple(r) for r in matrix))
    for k, s in enumerate(ins):
        if s is None or (ports is not None and k not in ports):
            continue
        v = vals[s]
        if not _is_array(v):
            tan = slot_tangents(tape, vals, {s: 1.0})
            for m, o in enumerate(outs):
                t = tan[o]
                matrix[m][k] = None if t is None else (0.0 if t is False else t)
            continue
        size = v.size * max((int(np.prod(sh)) for sh in out_shapes if sh is not None), default=1)
        if size > MAX_JACOBIAN:
            continue
        cols = [[] for _ in outs]
        for e in range(v.size):
            seed = np.zeros(v.shape)
            seed.flat[e] = 1.0
            tan = slot_tangents(tape, vals, {s: seed})
            for m, o in enumerate(outs):
                t = tan[o]
                cols[m].append(None if t is None else (np.zeros(np.shape(vals[o])) if t is False else t))
        for m in range(len(outs)):
            if out_shapes[m] is None or any(c is None for c in cols[m]):
                continue
            stacked = np.stack([np.asarray(c, dtype=float) for c in cols[m]], axis=-1)
            matrix[m][k] = stacked.reshape(tuple(out_shapes[m]) + tuple(v.shape))
    return Jacobian(path if len(path) > 1 else path[0], tuple(d.input_names), tuple(d.output_names),
                    in_shapes, out_shapes, tuple(tuple(r) for r in matrix))


def _all_scalar(vals, ins, outs) -> bool:
    """Whether every input and output slot holds a defined scalar."""
    return all(s is None or not _is_array(vals[s]) for s in ins) and all(
        vals[o] is not None and not _is_array(vals[o]) for o in outs)


def _is_array(v) -> bool:
    return type(v).__name__ == "ndarray"


def gradient_problem(graph: Graph, node) -> str | None:
    """Why ``node``'s gradient is NaN or infinite, in words, or None when it is finite (or
    it has none): where it was born (:meth:`Graph.nonfinite_origin`, one tracing for the
    canvas, the CLI and this) and, when an op's derivative for one input is what is not
    finite there, the op table's words for why (``Op.nonfinite``).

    >>> from engine import Graph
    >>> g = Graph.from_expression("y = a ** b", a=-4.0, b=2.0)
    >>> why = gradient_problem(g, "b")
    >>> why.split(":")[0], "needs log a" in why, gradient_problem(g, "a") is None
    ('gradient is NaN', True, True)
    """
    from ..core.nonfinite import finite, kind

    n = graph.resolve(node)
    gr = graph.grad(n)
    if finite(gr):
        return None
    what = kind(gr[~np.isfinite(gr)][0]) if _is_array(gr) else kind(gr)
    found = graph.nonfinite_origin(n)
    if found is None:
        return f"gradient is {what}"
    where, reason = found
    text = f"gradient is {what}: born at {graph.label(where)}: {reason}"
    if graph.op(where) in OPS:
        op = OPS[graph.op(where)]
        for port, src in enumerate(graph.inputs(where)):
            if src is not None and port < len(op.nonfinite) and op.nonfinite[port] \
                    and not finite(graph.edge_grad(src, where, port)):
                return f"{text}; {op.nonfinite[port]}"
    return text



def term_sum(terms) -> float:
    """The terms' products added in order from 0.0, as backward adds them."""
    total = 0.0
    for t in terms:
        total += t.product
    return total


__all__ = [
    "Explanation", "Jacobian", "Term", "explain", "explain_inside", "gradient_problem", "instance_jacobian",
    "plain_number", "term_sum",
]
