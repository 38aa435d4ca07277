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
        return (
            f"via {term.consumer_label}: {self.term_symbol(term)} = "
            f"{fmt(term.consumer_grad)} · {fmt(term.local)} = {fmt(term.product)}"
        )

    def sum_line(self, fmt: Callable = plain_number) -> str:
        """The gradient as the sum of its terms' products, e.g. ``∂e/∂a = 20 + 15 = 35``."""
        if self.kind != SUM:
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
        if self.kind == SUM:
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


def explain(graph: Graph, node) -> Explanation:
    """Explain ``node``'s gradient in the graph's current evaluation (the output it was last
    evaluated for: the document's output unless ``graph.backward(output=...)`` chose another).

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
    root = graph.evaluated_output()
    if root is None:
        root = graph.output_node()
        kind = NO_OUTPUT if root is None else UNDEFINED
        return Explanation(n, label, root, None if root is None else graph.label(root), None, kind)
    out_label = graph.label(root)
    grad = graph.grad(n)

    def make(kind, terms=(), unused=()):
        return Explanation(n, label, root, out_label, grad, kind, tuple(terms), tuple(unused))

    if graph.value(root) is None:
        return make(UNDEFINED)
    if n == root:
        return make(OUTPUT)

    index = graph.tape().index
    values = graph.values()
    terms, unused = [], []
    for consumer, port in graph.consumers(n):
        cg = graph.grad(consumer)
        if cg is None:
            if all(c != consumer for c, _ in unused):
                unused.append((consumer, graph.label(consumer)))
            continue
        op = graph.op(consumer)
        args = [values[s] for s in graph.inputs(consumer)]
        if OPS[op].tensor or any(_is_array(v) for v in (*args, values[consumer], cg)):
            # A Jacobian, not one number: the term is the vector-Jacobian product backward
            # sent along this wire (local is None: there is no single factor to show).
            amount = graph.edge_grad(n, consumer, port)
            terms.append(Term(consumer, port, OPS[op].ports[port], graph.label(consumer), cg, None, amount))
            continue
        d = safe_local(OPS[op], args, values[consumer])[port]
        terms.append(Term(consumer, port, OPS[op].ports[port], graph.label(consumer), cg, d, cg * d))
    if grad is None or not terms:
        return make(NO_PATH, (), unused)
    # Backward visits consumers in reverse topological order, port 0 before port 1; adding the
    # terms in that order from 0.0 gives exactly the float it computed.
    terms.sort(key=lambda t: (-index[t.consumer], t.port))
    return make(SUM, terms, unused)


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


__all__ = ["Explanation", "Term", "explain", "gradient_problem", "plain_number", "term_sum"]
