"""Value (alias NumberWithGrad): the eager scalar API of the seed notebook and micrograd.

Every operation looks up its forward rule and local derivatives in the op table, so there is
no second copy of the calculus here. ``backward()`` walks the graph once, iteratively, in
reverse topological order; a value used twice receives the sum of both contributions.

>>> a = NumberWithGrad(3)
>>> e = (a * 4 + 3) * (a + 2)
>>> e.backward(); a.grad
35
"""

from __future__ import annotations

import numbers

from .ops import NUMBER, OPERATORS, OPS, _float
from .ops import apply as _apply
from .ops import local as _local

Numberable = float | int


_FAST_TYPES = (int, float)
_UNARY = object()
# Ints stay exact (10**400 is fine) up to this many bits; beyond it a result counts as ±inf,
# as it would in floats. Without a bound, `x = x*x` forty times builds a 2**40-digit number
# and never finishes, forward or backward.
_INT_LIMIT = 1 << 8192
_FORWARDS = {name: op.forward for name, op in OPERATORS.items()}
_LOCALS = {name: op.local for name, op in OPERATORS.items()}


def _forward(opname, args):
    try:
        r = _FORWARDS[opname](*args)
    except (ArithmeticError, ValueError, TypeError):
        r = _apply(OPS[opname], args)
    if type(r) is int and not -_INT_LIMIT < r < _INT_LIMIT:
        return _float(r)
    return r


def _pass(order: list, seed, conv) -> None:
    """One reverse sweep over ``order`` (inputs before users) from its last element, leaving
    each node's share in ``_g``. ``conv``, if given, is applied to every partial first."""
    order[-1]._g = seed
    locals_ = _LOCALS
    for node in reversed(order):
        g = node._g
        ins = node.depends_on
        if not ins:
            continue
        if type(g) is int and not -_INT_LIMIT < g < _INT_LIMIT:
            raise OverflowError  # the caller redoes the pass in floats, where this is ±inf
        f = locals_[node.creation_op]
        if len(ins) == 2:
            a, b = ins
            try:
                da, db = f(a.num, b.num, node.num)
            except (ArithmeticError, ValueError, TypeError):
                da, db = _local(OPS[node.creation_op], (a.num, b.num), node.num)
            if conv is not None:
                da, db = conv(da), conv(db)
            a._g = g * da if a._g is None else a._g + g * da
            b._g = g * db if b._g is None else b._g + g * db
        else:
            (a,) = ins
            try:
                (da,) = f(a.num, node.num)
            except (ArithmeticError, ValueError, TypeError):
                (da,) = _local(OPS[node.creation_op], (a.num,), node.num)
            if conv is not None:
                da = conv(da)
            a._g = g * da if a._g is None else a._g + g * da


def _check_made(depends_on: list, creation_op) -> None:
    """Refuse a hand-built Value that backward could not differentiate (the seed's signature
    lets anyone pass any op name and inputs)."""
    arity = _ARITY.get(creation_op) if isinstance(creation_op, str) else None
    if arity is None:
        raise ValueError(f"unknown creation_op {creation_op!r}; known ops: {', '.join(OPERATORS)}")
    if len(depends_on) != arity:
        raise ValueError(f"op '{creation_op}' takes {arity} input(s), not {len(depends_on)}")
    for v in depends_on:
        if not isinstance(v, Value):
            raise TypeError(f"depends_on must hold Values, not {type(v).__name__}")


_ARITY = {name: op.arity for name, op in OPERATORS.items()}


def ensure_number(num) -> Value:
    """The seed's helper: wrap a plain number in a Value, pass a Value through."""
    return num if isinstance(num, Value) else Value(num)


class Value:
    """A scalar that remembers how it was made, so gradients can flow back to its inputs.

    ``num`` (alias ``data``) is the value, ``grad`` the accumulated gradient (None until a
    backward pass reaches it), ``depends_on`` the inputs in port order, ``creation_op`` the
    op's name ('' for a leaf).
    """

    __slots__ = ("num", "grad", "depends_on", "creation_op", "name", "_g", "__weakref__")

    def __init__(self, num: Numberable, depends_on=None, creation_op: str = "", name=None):
        if type(num) not in _FAST_TYPES:
            if isinstance(num, Value):
                num = num.num
            elif not isinstance(num, numbers.Real):
                raise TypeError(f"Value needs a real number, not {type(num).__name__}")
        self.num = num
        self.grad = None
        self.depends_on = depends_on if type(depends_on) is list else list(depends_on or ())
        self.creation_op = creation_op
        if self.depends_on or creation_op:
            _check_made(self.depends_on, creation_op)
        self.name = name
        self._g = None  # this backward pass's gradient; None outside a pass

    # micrograd spells it .data and ._prev/._op
    @property
    def data(self):
        return self.num

    @data.setter
    def data(self, v):
        self.num = v

    @property
    def _prev(self):
        return set(self.depends_on)

    @property
    def _op(self):
        return self.creation_op

    # ---------------------------------------------------------------- building

    @classmethod
    def _new(cls, num, depends_on: list, creation_op: str) -> Value:
        # The operators' constructor: their arguments are valid by construction, and skipping
        # __init__'s checks keeps building a big graph cheap.
        v = cls.__new__(cls)
        v.num = num
        v.grad = None
        v.depends_on = depends_on
        v.creation_op = creation_op
        v.name = None
        v._g = None
        return v

    def _make(self, opname: str, other=_UNARY) -> Value:
        if other is _UNARY:
            return Value._new(_forward(opname, (self.num,)), [self], opname)
        if type(other) is not Value:
            other = ensure_number(other)
        return Value._new(_forward(opname, (self.num, other.num)), [self, other], opname)

    def __add__(self, other):
        return self._make("add", other)

    def __radd__(self, other):
        return ensure_number(other)._make("add", self)

    def __sub__(self, other):
        return self._make("sub", other)

    def __rsub__(self, other):
        return ensure_number(other)._make("sub", self)

    def __mul__(self, other):
        return self._make("mul", other)

    def __rmul__(self, other):
        return ensure_number(other)._make("mul", self)

    def __truediv__(self, other):
        return self._make("div", other)

    def __rtruediv__(self, other):
        return ensure_number(other)._make("div", self)

    def __pow__(self, other):
        return self._make("pow", other)

    def __rpow__(self, other):
        return ensure_number(other)._make("pow", self)

    def __neg__(self):
        return self._make("neg")

    def __pos__(self):
        return self

    def __abs__(self):
        return self._make("abs")

    def __float__(self):
        return _float(self.num)

    def __repr__(self):
        label = f"{self.name}: " if self.name else ""
        return f"Value({label}data={self.num}, grad={self.grad})"

    # ---------------------------------------------------------------- backward

    def _topo(self) -> list[Value]:
        """Every node this value depends on, inputs before users (iterative DFS)."""
        order: list[Value] = []
        seen = {self}  # Values hash by identity (no __eq__), which is what a visited set needs
        stack = [(self, iter(self.depends_on))]
        while stack:
            node, it = stack[-1]
            for child in it:
                if child not in seen:
                    seen.add(child)
                    stack.append((child, iter(child.depends_on)))
                    break
            else:
                stack.pop()
                order.append(node)
        return order

    def backward(self, backward_grad: Numberable = None) -> None:
        """Accumulate d(self)/d(node) * backward_grad (default 1) into every node's ``grad``.

        Like PyTorch and the seed, calling it again adds the same amounts again; call
        ``zero_grad()`` in between to start over. Each call adds exactly one pass's worth:
        the seed's and micrograd's re-propagation of already-accumulated grads is avoided.
        """
        if backward_grad is None:
            seed = 1
        elif type(backward_grad) in _FAST_TYPES:
            seed = backward_grad
        elif isinstance(backward_grad, Value):
            seed = backward_grad.num
        elif isinstance(backward_grad, numbers.Real):
            seed = backward_grad
        else:  # a string seed would otherwise be "multiplied" into every grad
            raise TypeError(f"backward_grad must be a real number, not {type(backward_grad).__name__}")
        order = self._topo()
        try:
            try:
                _pass(order, seed, None)
                totals = [n._g if n.grad is None else n.grad + n._g for n in order]
            except OverflowError:
                # Python ints beyond float range met a float (Value(10**400) * 0.5 ...): the
                # same pass again with every number as a float, where overflow is just inf.
                for node in order:
                    node._g = None
                _pass(order, _float(seed), _float)
                totals = [n._g if n.grad is None else _float(n.grad) + n._g for n in order]
            for node, total in zip(order, totals):
                node.grad = total
        finally:
            for node in order:
                node._g = None

    def zero_grad(self) -> None:
        """Clear ``grad`` on this value and everything it depends on."""
        for node in self._topo():
            node.grad = None

    # ---------------------------------------------------------------- graph view

    def graph(self):
        """The Graph of everything this value depends on, with names kept; its output is self.

        >>> a = Value(3, name="a"); g = (a * a).graph(); g.grad("a")
        6.0
        """
        from .errors import GraphError
        from .graph import Graph, check_name, check_number

        order = self._topo()
        ids = {id(v): i + 1 for i, v in enumerate(order)}
        used: set[str] = set()
        nodes, edges = [], []
        for v in order:
            name = v.name if isinstance(v.name, str) and v.name.strip() else None
            if name is not None:
                try:
                    name = check_name(name)
                except GraphError:  # a label no node may carry: the node stays unnamed
                    name = None
                if name in used:
                    name = None  # two Values with one name: keep the first, like a program would
                else:
                    used.add(name)
            n = {"id": ids[id(v)], "op": v.creation_op or NUMBER, "name": name}
            if not v.creation_op:
                n["value"] = check_number(v.num)
            nodes.append(n)
            for port, child in enumerate(v.depends_on):
                edges.append((ids[id(child)], ids[id(v)], port))
        g = Graph()
        g._build(nodes, edges, output=ids[id(self)])
        g.apply_layout()
        return g


def _method(op):
    """The Value method of a row spelled as a call: ``x.exp()``, ``a.max(b)`` (``b`` may be a
    plain number, as with the operators)."""
    opname = op.name
    if op.arity == 1:

        def method(self):
            return self._make(opname)

    else:

        def method(self, other):
            return self._make(opname, other)

    method.__name__, method.__qualname__ = op.method, f"Value.{op.method}"
    method.__doc__ = f"{op.doc} (op '{opname}')."
    return method


# Every op that is not a Python operator gets its method from the table.
for _op in OPERATORS.values():
    if _op.method:
        setattr(Value, _op.method, _method(_op))

NumberWithGrad = Value
