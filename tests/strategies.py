"""Hypothesis strategies for random computations, and the reference helpers tests compare against.

A *spec* describes one computation independently of the engine, so the same computation can be
built three ways and the results compared:

- :func:`build_graph`: an engine ``Graph``, made with the public edit methods;
- :func:`build_values`: eager ``engine.core.value.Value`` objects;
- :func:`plain_forward` / :func:`finite_differences`: plain floats, no engine objects at all
  (only the op table's forward rules), for central finite differences.

A spec is ``(leaves, nodes)``: ``leaves`` is a tuple of floats; ``nodes`` a tuple of
``(op_name, (input, ...))`` where each input is a position in ``leaves + nodes`` earlier than the
node itself. Inputs may repeat (``a * a``) and any position may feed many nodes (fan-out). The
last position is the output.

>>> spec = ((3.0,), (("mul", (0, 0)),))
>>> plain_forward(spec)[-1]
9.0
>>> g, ids = build_graph(spec); g.grad(ids[0])
6.0

``DOMAINS`` gives, per op and per input, the intervals where the op is smooth and its finite
differences are well conditioned (no kinks such as relu/abs at 0, no base <= 0 for pow). It is
read from the op table's rows (``Op.domain``), so a new row brings its domain with it.
"""

from __future__ import annotations

import math
import operator

from hypothesis import strategies as st

from engine import OPS, Graph, Value
from engine.core.ops import SCALAR_OPS

DOMAINS: dict[str, tuple] = {name: op.domain for name, op in SCALAR_OPS.items()}

# Python's operators applied to Values (or floats); which op each token means is the table's.
_OPERATOR_FUNCTIONS = {
    ("+", 2): operator.add,
    ("-", 2): operator.sub,
    ("*", 2): operator.mul,
    ("/", 2): operator.truediv,
    ("**", 2): operator.pow,
    ("-", 1): operator.neg,
}


def spelled(name: str, *args):
    """``name`` applied the way its row spells it for Value: its Python operator
    (``a + b``, ``-x``) or its method (``x.exp()``, ``a.max(b)``)."""
    op = OPS[name]
    if op.method:
        return getattr(args[0], op.method)(*args[1:])
    return _OPERATOR_FUNCTIONS[op.operator, op.arity](*args)


def in_domain(name: str, args) -> bool:
    """Whether every input lies inside the op's smooth domain (unknown ops: never)."""
    dom = DOMAINS.get(name)
    if dom is None:
        return False
    return all(any(lo <= a <= hi for lo, hi in intervals) for a, intervals in zip(args, dom))


def domain_floats(intervals) -> st.SearchStrategy[float]:
    """Floats drawn from a union of closed intervals."""
    return st.one_of(*(st.floats(lo, hi, allow_nan=False, allow_infinity=False) for lo, hi in intervals))


def op_args(name: str) -> st.SearchStrategy[tuple]:
    """A tuple of inputs inside ``name``'s domain."""
    return st.tuples(*(domain_floats(iv) for iv in DOMAINS[name]))


# ---------------------------------------------------------------------------------- specs


@st.composite
def specs(
    draw,
    min_leaves: int = 1,
    max_leaves: int = 4,
    min_ops: int = 1,
    max_ops: int = 12,
    ops=None,
    leaf_values=None,
    smooth: bool = False,
):
    """A random computation spec (see the module docstring).

    ``ops`` restricts the op names (default: every op with inputs). With ``smooth=True`` every op
    node's inputs lie in its :data:`DOMAINS` entry, so finite differences apply everywhere;
    a candidate that would leave the domain (or give a value beyond 1e4) is redrawn a few times
    and otherwise skipped; an empty result falls back to ``x0 + x0``.
    """
    names = sorted(ops if ops is not None else SCALAR_OPS)
    if leaf_values is None:
        leaf_values = st.floats(-3.0, 3.0, allow_nan=False, allow_infinity=False)
    leaves = tuple(draw(st.lists(leaf_values, min_size=min_leaves, max_size=max_leaves)))
    vals = list(leaves)
    nodes = []
    n_ops = draw(st.integers(min_ops, max_ops))
    for _ in range(n_ops):
        for _attempt in range(4):
            name = draw(st.sampled_from(names))
            arity = OPS[name].arity
            # Prefer recent positions so outputs depend on most of the graph, but allow any.
            pick = st.one_of(
                st.just(len(vals) - 1),
                st.integers(max(0, len(vals) - 3), len(vals) - 1),
                st.integers(0, len(vals) - 1),
            )
            ins = tuple(draw(pick) for _ in range(arity))
            if arity == 2 and draw(st.integers(0, 3)) == 0:
                ins = (ins[0], ins[0])  # repeated input: a*a, a+a, a**a ...
            args = [vals[i] for i in ins]
            if not smooth or in_domain(name, args):
                break
        else:
            continue
        y = OPS[name].forward(*args)
        if smooth and not (math.isfinite(y) and abs(y) <= 1e4):
            continue
        nodes.append((name, ins))
        vals.append(y)
    if not nodes:
        nodes.append(("add", (0, 0)))
    return leaves, tuple(nodes)


def graphs(**kwargs) -> st.SearchStrategy[Graph]:
    """Random engine Graphs built from :func:`specs` (same keyword arguments); the output is
    set to the last op node. Leaves are named ``x0``, ``x1``..."""
    return specs(**kwargs).map(lambda s: build_graph(s)[0])


# ---------------------------------------------------------------------------------- builders


def build_graph(spec, names: bool = True) -> tuple[Graph, list[int]]:
    """The spec as a Graph made through the public edit methods; returns (graph, node ids by
    spec position). The output is the last position."""
    leaves, nodes = spec
    g = Graph()
    ids = []
    for k, v in enumerate(leaves):
        ids.append(g.add_number(v, name=f"x{k}" if names else None))
    for name, ins in nodes:
        m = g.add_op(name)
        for port, i in enumerate(ins):
            g.connect(ids[i], m, port)
        ids.append(m)
    g.set_output(ids[-1])
    return g, ids


def build_values(spec, names: bool = True) -> list[Value]:
    """The spec as eager Values, one per spec position; the output is the last one."""
    leaves, nodes = spec
    vs = [Value(v, name=f"x{k}" if names else None) for k, v in enumerate(leaves)]
    for name, ins in nodes:
        vs.append(spelled(name, *(vs[i] for i in ins)))
    return vs


def plain_forward(spec, leaves=None) -> list[float]:
    """Every position's value with plain floats and the op table's forward rules only."""
    base, nodes = spec
    vals = [float(v) for v in (base if leaves is None else leaves)]
    for name, ins in nodes:
        vals.append(OPS[name].forward(*(vals[i] for i in ins)))
    return vals


def finite_differences(spec, h_rel: float = 1e-6) -> list[float]:
    """Central finite differences of the output with respect to each leaf."""
    leaves = [float(v) for v in spec[0]]
    out = []
    for k, v in enumerate(leaves):
        h = h_rel * max(1.0, abs(v))
        up = list(leaves)
        down = list(leaves)
        up[k] = v + h
        down[k] = v - h
        out.append((plain_forward(spec, up)[-1] - plain_forward(spec, down)[-1]) / (up[k] - down[k]))
    return out


def depends_on(spec) -> list[bool]:
    """Per position: whether the output depends on it (is the output or one of its ancestors)."""
    leaves, nodes = spec
    n = len(leaves) + len(nodes)
    need = [False] * n
    need[-1] = True
    for pos in range(n - 1, len(leaves) - 1, -1):
        if need[pos]:
            for i in nodes[pos - len(leaves)][1]:
                need[i] = True
    return need


def same(a, b, rel: float = 1e-9, abs_tol: float = 1e-12) -> bool:
    """Equal as results: both None, both NaN, equal infinities, or close finite numbers."""
    if a is None or b is None:
        return a is None and b is None
    if a != a or b != b:
        return a != a and b != b
    if math.isinf(a) or math.isinf(b):
        return a == b
    return math.isclose(a, b, rel_tol=rel, abs_tol=abs_tol)
