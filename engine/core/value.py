"""Value and NumberWithGrad: the eager scalar API of micrograd, of the micrograd lecture, and of
the seed notebook, one implementation behind all three.

``Value`` is a drop-in for micrograd's ``Value`` and for the ``Value`` class people type while
following the lecture: ``Value(data, _children=(), _op='', label='')``, ``.data``, ``.grad``
starting at 0, ``.label``, ``._prev``, ``._op`` in micrograd's spellings, ``._backward`` on every
node, any attribute of your own (``p.m = 0``). ``NumberWithGrad`` is the same class with the
seed's spellings: ``.num``, ``.depends_on``, ``.creation_op`` ('add', 'mul'), and ``.grad`` None
until a backward pass reaches the node.

Every operation looks up its forward rule and local derivatives in the op table, so there is
no second copy of the calculus here (``+`` and ``*`` compute ``a + b`` and ``a * b`` in place,
the table's rules, to save a call on the two ops that are most of every network).
``backward()`` walks the graph once, iteratively, in reverse topological order; a value used
twice receives the sum of both contributions.

>>> a = NumberWithGrad(3)
>>> e = (a * 4 + 3) * (a + 2)
>>> e.backward(); a.grad
35
>>> x = Value(2.0, label="x"); y = x ** 2; y.backward(); y, y._op, x.grad
(Value(data=4.0, grad=1), '**2', 4.0)
"""

from __future__ import annotations

import numbers

import numpy as np

from .arrays import shape_of as _shape_of
from .ops import INT_BITS, NUMBER, OPERATORS, OPS, _float, array_apply, array_vjp, check_params
from .ops import apply as _apply
from .ops import local as _local

Numberable = float | int


_FAST_TYPES = (int, float)
_UNARY = object()
_INT_LIMIT = 1 << INT_BITS  # ints stay exact below it (10**400 is fine), as in the op table
_FORWARDS = {name: op.forward for name, op in OPERATORS.items()}
_LOCALS = {name: op.local for name, op in OPERATORS.items()}
_ARITY = {name: op.arity for name, op in OPERATORS.items()}
# What a hand-built node's op string may be: our op names (the seed's 'add', 'mul') and
# micrograd's spellings ('+', 'ReLU'), both read off the op table.
_OP_BY_SPELLING = {
    **{op.micrograd: name for name, op in OPERATORS.items() if op.micrograd},
    **{n: n for n in OPERATORS},
}
_new_object = object.__new__  # while an engine.group is open, one that also stamps the Value
_nd = np.ndarray
_frames: list = []  # the engine.group calls open now, innermost last (see engine.core.groups)


def _array_node(v) -> None:
    """Give an array-valued node (or one with an array input) its backward rule: the row's
    vector-Jacobian product, summed back to each input's shape. It sits in the slot a
    hand-written ``_backward`` uses, so the scalar loop pays nothing for arrays existing."""

    def step():
        g = v.grad
        if g is None:
            return
        ins = _inputs(v)
        gs = array_vjp(OPS[v._opname], g, [x.data for x in ins], v.data, v._params)
        for x, gx in zip(ins, gs):
            x.grad = gx if x.grad is None else x.grad + gx

    v._bw = step


def _array_make(self, opname, others=(), params=None):
    """A node of any row over arrays (or a tensor row over anything): forward by the row's
    array rule; a shape mismatch raises ValueError with both shapes, as NumPy would."""
    ins = [self, *(o if isinstance(o, Value) else self._wrap(o) for o in others)]
    v = _new_object(type(self))
    v.data = array_apply(OPS[opname], [x.data for x in ins], params)
    v.grad = self._zero
    v._a = ins[0]
    v._b = ins[1] if len(ins) == 2 else None
    v._opname = opname
    if params:
        v._params = params
    _array_node(v)
    return v


def _forward(opname, args):
    try:
        r = _FORWARDS[opname](*args)
    except (ArithmeticError, ValueError, TypeError):
        r = _apply(OPS[opname], args)
    if type(r) is int and not -_INT_LIMIT < r < _INT_LIMIT:
        return _float(r)
    return r


def _inputs(node) -> tuple:
    """A node's inputs in port order."""
    op = node._opname
    if op:
        b = node._b
        return (node._a,) if b is None else (node._a, b)
    return () if op == "" else node._kids


def _step(node, conv) -> None:
    """Add ``node``'s local chain-rule step into its inputs' ``grad``: what its ``_backward``
    does, and what one iteration of :meth:`Value.backward` does."""
    g = node.grad
    op = node._opname
    f = _LOCALS[op]
    a, b = node._a, node._b
    if b is not None:
        try:
            da, db = f(a.data, b.data, node.data)
        except (ArithmeticError, ValueError, TypeError):
            da, db = _local(OPS[op], (a.data, b.data), node.data)
        if conv is not None:
            da, db = conv(da), conv(db)
        ga = a.grad
        a.grad = g * da if ga is None else ga + g * da
        gb = b.grad
        b.grad = g * db if gb is None else gb + g * db
    else:
        try:
            (da,) = f(a.data, node.data)
        except (ArithmeticError, ValueError, TypeError):
            (da,) = _local(OPS[op], (a.data,), node.data)
        if conv is not None:
            da = conv(da)
        ga = a.grad
        a.grad = g * da if ga is None else ga + g * da


def _pass(order: list, seed, conv) -> None:
    """One reverse sweep over ``order`` (inputs before users) from its last element; every
    node's ``grad`` must read 0 before, and holds this pass's share after. ``conv``, if given,
    is applied to every partial first (the float redo after an int overflow)."""
    order[-1].grad = seed
    locals_ = _LOCALS
    for node in reversed(order):
        op = node._opname
        if not op:
            if op is None and node._bw is not None:  # hand-built, op unknown: its closure
                node._bw()
            continue
        own = node._bw
        if own is not None:  # a closure code gave this node: it is the node's rule
            own()
            continue
        g = node.grad
        if type(g) is int and not -_INT_LIMIT < g < _INT_LIMIT:
            raise OverflowError  # the caller redoes the pass in floats, where this is ±inf
        if conv is not None:
            _step(node, conv)
            continue
        f = locals_[op]
        a = node._a
        b = node._b
        if b is not None:  # _step inlined: this loop is backward's cost
            try:
                da, db = f(a.data, b.data, node.data)
            except (ArithmeticError, ValueError, TypeError):
                da, db = _local(OPS[op], (a.data, b.data), node.data)
            a.grad = a.grad + g * da
            b.grad = b.grad + g * db
        else:
            try:
                (da,) = f(a.data, node.data)
            except (ArithmeticError, ValueError, TypeError):
                (da,) = _local(OPS[op], (a.data,), node.data)
            a.grad = a.grad + g * da


def _as_children(children) -> tuple:
    kids = children if type(children) is tuple else tuple(children or ())
    for v in kids:
        if not isinstance(v, Value):
            raise TypeError(f"a Value's inputs must be Values, not {type(v).__name__}")
    return kids


def ensure_number(num) -> Value:
    """The seed's helper: wrap a plain number in a Value, pass a Value through."""
    return num if isinstance(num, Value) else Value(num)


def _check_data(data):
    if type(data) in _FAST_TYPES:
        return data
    if isinstance(data, Value):
        return data.data
    if isinstance(data, _nd):
        if data.dtype.kind not in "iuf" or data.dtype.kind == "b":
            raise TypeError(f"Value needs real numbers, not an array of {data.dtype}")
        if data.ndim == 0:
            return float(data)
        return np.array(data, dtype=np.float64)  # a copy: the caller's array may change later
    if not isinstance(data, numbers.Real):
        raise TypeError(f"Value needs a real number, not {type(data).__name__}")
    return data


class Value:
    """A scalar that remembers how it was made, so gradients can flow back to its inputs.

    ``data`` is the value, ``grad`` the accumulated gradient (0 until a backward pass adds to
    it), ``label`` (alias ``name``) a caption for pictures and for :meth:`graph`.

    ``Value(data, _children=(), _op='', label='')`` as in micrograd and the lecture. A node
    built by hand with children takes part in backward: through the ``_backward`` closure you
    give it, or, without one, through the op table's rule when ``_op`` names an op ('+',
    'mul', 'ReLU', ...); a node with an op string the table does not know sends nothing back
    unless it has a closure (as the lecture's ``lambda: None``).
    """

    # What every node has lives in slots; the inputs are two of them (not a tuple), so a node
    # is one object for the garbage collector to track, not two: on micrograd's MLP step that
    # halves the collector's work, which was most of the forward pass (benchmarks/mlp_step.py).
    # ``_a``/``_b`` are set on op nodes only (``_b`` None for a unary op). ``__dict__`` is there
    # for everything else: the rarely set attributes below, whose class values are the
    # defaults, and any attribute code hangs on a Value (``p.m = 0`` for Adam). Without
    # __slots__ (a plain __dict__ per node) the same MLP step measured 1.5x slower.
    __slots__ = ("data", "grad", "_a", "_b", "_opname", "_grp", "__dict__", "__weakref__")

    _zero = 0  # grad's starting value (NumberWithGrad: None)
    name = None
    _kids: tuple = ()  # the inputs of a hand-built node whose op the table does not know
    _bw = None  # the node's own _backward closure, when code assigned one
    _spelled = None  # a hand-built node's own _op text, when it is not the table's spelling
    _const_exp = False  # a ** 2: the exponent was a plain number (micrograd's '**2', not an input)
    _prevset = None
    _params = None  # a tensor row's parameters (axis, keepdims, shape)
    _bank = None  # (module, index, name) for a parameter of an engine.nn module
    # ``_grp`` (a slot, unset outside groups): (group call, creation number) for a Value made
    # inside an engine.group

    def __init__(self, data, _children=(), _op="", label="", *, name=None):
        if _frames:
            from .groups import stamp

            stamp(self)
        self.data = _check_data(data)
        self.grad = self._zero
        self._opname = ""  # op table name; "" for a leaf, None for a hand-built unknown op
        if _children or _op:
            self._set_op(_op, _as_children(_children))
        if name is None and label:
            name = label
        if name is not None:
            self.name = name

    def _set_op(self, op, kids) -> None:
        known = _OP_BY_SPELLING.get(op) if isinstance(op, str) else None
        if known is not None:
            if len(kids) != _ARITY[known]:
                raise ValueError(f"op '{op}' takes {_ARITY[known]} input(s), not {len(kids)}")
            self._opname = known
            self._a = kids[0]
            self._b = kids[1] if len(kids) == 2 else None
            if op != OPS[known].micrograd:
                self._spelled = op  # _op reads back the text the node was built with
            return
        self._spelled = op
        if kids:
            self._opname = None  # unknown: only a closure assigned to _backward sends gradients
            self._kids = kids
        # no inputs: a leaf that keeps its _op text

    # ---------------------------------------------------------------- the spellings

    @property
    def num(self):
        """The seed's name for ``data``."""
        return self.data

    @num.setter
    def num(self, v):
        self.data = v

    @property
    def label(self) -> str:
        """micrograd lecture's name for ``name`` ('' when there is none)."""
        return "" if self.name is None else self.name

    @label.setter
    def label(self, text):
        self.name = text if text != "" else None

    @property
    def depends_on(self) -> list:
        """The inputs in port order (the seed's name; a new list per read)."""
        return list(_inputs(self))

    @property
    def creation_op(self) -> str:
        """The op's name in the table ('add', 'mul', 'pow', ...), '' for a leaf, or the text a
        hand-built node was given when the table does not know it."""
        op = self._opname
        return op if op else (self._spelled or "")

    @property
    def _op(self) -> str:
        """micrograd's spelling: '+', '*', '**2' (a constant exponent), 'ReLU', 'tanh', ..."""
        if self._spelled is not None:
            return self._spelled
        op = self._opname
        if self._const_exp:
            return f"**{self._b.data}"
        return OPS[op].micrograd if op else ""

    @property
    def _prev(self) -> set:
        """The set of input Values, as micrograd keeps it (one set object per node); a constant
        exponent (``a ** 2``) is part of the op, not an input, as in micrograd."""
        p = self._prevset
        if p is None:
            kids = _inputs(self)
            if self._const_exp:
                kids = kids[:1]
            p = self._prevset = set(kids)
        return p

    @property
    def _backward(self):
        """This node's local chain-rule step: adds ``self.grad`` times each local derivative
        into each input's ``grad``. Calling it on every node in reverse topological order, with
        the output's grad set to 1, gives what ``backward()`` gives."""
        own = self._bw
        if own is not None:
            return own
        return self._local_step

    @_backward.setter
    def _backward(self, fn):
        self._bw = fn

    def _local_step(self) -> None:
        if self._opname and self.grad is not None:
            _step(self, None)

    # ---------------------------------------------------------------- building

    def _make(self, opname: str, other=_UNARY) -> Value:
        if other is _UNARY:
            if type(self.data) is _nd:
                return _array_make(self, opname)
            v = _new_object(type(self))
            v.grad = self._zero
            v._a = self
            v.data = _forward(opname, (self.data,))
            v._b = None
        else:
            if not isinstance(other, Value):
                other = self._wrap(other)
            if type(self.data) is _nd or type(other.data) is _nd:
                return _array_make(self, opname, (other,))
            v = _new_object(type(self))
            v.grad = self._zero
            v._a = self
            v.data = _forward(opname, (self.data, other.data))
            v._b = other
        v._opname = opname
        return v

    def _wrap(self, x) -> Value:
        v = _new_object(type(self))
        v.data = _check_data(x)
        v.grad = self._zero
        v._opname = ""
        return v

    # + and * are most of every network: inlined rather than through _make.
    def __add__(self, other):
        if not isinstance(other, Value):
            other = self._wrap(other)
        try:
            r = self.data + other.data
        except OverflowError:  # an int beyond float range met a float: as a float it is ±inf
            r = _forward("add", (self.data, other.data))
        tr = type(r)
        if tr is not float:
            if tr is int and not -_INT_LIMIT < r < _INT_LIMIT:
                r = _float(r)
            elif tr is _nd:
                return _array_make(self, "add", (other,))
        v = _new_object(type(self))
        v.data = r
        v.grad = self._zero
        v._a = self
        v._b = other
        v._opname = "add"
        return v

    def __radd__(self, other):
        return self._wrap(other).__add__(self)

    def __sub__(self, other):
        return self._make("sub", other)

    def __rsub__(self, other):
        return self._wrap(other)._make("sub", self)

    def __mul__(self, other):
        if not isinstance(other, Value):
            other = self._wrap(other)
        try:
            r = self.data * other.data
        except OverflowError:
            r = _forward("mul", (self.data, other.data))
        tr = type(r)
        if tr is not float:
            if tr is int and not -_INT_LIMIT < r < _INT_LIMIT:
                r = _float(r)
            elif tr is _nd:
                return _array_make(self, "mul", (other,))
        v = _new_object(type(self))
        v.data = r
        v.grad = self._zero
        v._a = self
        v._b = other
        v._opname = "mul"
        return v

    def __rmul__(self, other):
        return self._wrap(other).__mul__(self)

    def __truediv__(self, other):
        return self._make("div", other)

    def __rtruediv__(self, other):
        return self._wrap(other)._make("div", self)

    def __pow__(self, other):
        v = self._make("pow", other)
        if not isinstance(other, Value):
            v._const_exp = True
        return v

    def __rpow__(self, other):
        return self._wrap(other)._make("pow", self)

    def __neg__(self):
        return self._make("neg")

    def __pos__(self):
        return self

    def __abs__(self):
        return self._make("abs")

    def __matmul__(self, other):
        return _array_make(self, "matmul", (other,))

    def __rmatmul__(self, other):
        return _array_make(self._wrap(other), "matmul", (self,))

    @property
    def T(self):
        """The transpose (axes reversed), as NumPy's ``.T``."""
        return _array_make(self, "transpose")

    @property
    def shape(self) -> tuple:
        """The shape of ``data``: () for a number."""
        return _shape_of(self.data)

    def __float__(self):
        return _float(self.data)

    def __repr__(self):
        return f"{type(self).__name__}(data={self.data}, grad={self.grad})"

    # ---------------------------------------------------------------- backward

    def _topo(self) -> list[Value]:
        """Every node this value depends on, inputs before users (iterative DFS). A node stays
        on the stack until its inputs are all seen; in a DAG an input that is seen is done."""
        order: list[Value] = []
        seen = {self}  # Values hash by identity (no __eq__), which is what a visited set needs
        stack = [self]
        push, pop, add, done = stack.append, stack.pop, seen.add, order.append
        while stack:
            node = stack[-1]
            op = node._opname
            if op:
                a = node._a
                if a not in seen:
                    add(a)
                    push(a)
                    continue
                b = node._b
                if b is not None and b not in seen:
                    add(b)
                    push(b)
                    continue
            elif op is None:
                todo = [c for c in node._kids if c not in seen]
                if todo:
                    add(todo[0])
                    push(todo[0])
                    continue
            done(pop())
        return order

    def backward(self, backward_grad: Numberable = None, create_graph: bool = False) -> None:
        """Add d(self)/d(node) * backward_grad (default 1) to every node's ``grad``.

        Like PyTorch and the seed, calling it again adds the same amounts again; call
        ``zero_grad()`` in between to start over. Each call adds exactly one pass's worth
        (micrograd's second call would re-propagate the grads already accumulated).

        ``create_graph=True`` (PyTorch's rule) puts Values in ``grad``: each gradient built
        from ordinary ops by the op table's derivatives stated as ops, so it can be
        differentiated again (see :func:`engine.grad`).

        >>> x = Value(3.0); y = x * x * x; y.backward(create_graph=True)
        >>> from engine import grad; x.grad.data, grad(x.grad, x)
        (27.0, (18.0,))
        """
        if create_graph:
            from .higher_order import backward_graph

            if backward_grad is not None and not isinstance(backward_grad, (Value, numbers.Real)):
                raise TypeError(f"backward_grad must be a real number, not {type(backward_grad).__name__}")
            backward_graph(self, backward_grad)
            return
        if backward_grad is None:
            seed = 1
        elif type(backward_grad) in _FAST_TYPES:
            seed = backward_grad
        elif isinstance(backward_grad, Value):
            seed = backward_grad.data
        elif isinstance(backward_grad, numbers.Real):
            seed = backward_grad
        else:  # a string seed would otherwise be "multiplied" into every grad
            raise TypeError(f"backward_grad must be a real number, not {type(backward_grad).__name__}")
        if type(self.data) is _nd:  # an array output: seeded with ones (the gradient of its sum)
            seed = np.full(self.data.shape, float(seed))
        order = self._topo()
        # The pass accumulates in .grad from 0 (so a closure written for micrograd reads and
        # adds this pass's numbers); what was there before is added back at the end.
        # A fresh Value's grad is the class's int 0 and needs no store.
        before = [(n, g) for n in order if (g := n.grad) is None or type(g) is not int or g != 0]
        for n, _ in before:
            n.grad = 0
        try:
            _pass(order, seed, None)
        except OverflowError:
            # Python ints beyond float range met a float (Value(10**400) * 0.5 ...): the same
            # pass again with every number as a float, where overflow is just inf.
            for n in order:
                n.grad = 0
            _pass(order, _float(seed), _float)
            for n, g in before:
                if g is not None:
                    n.grad = _float(g) + n.grad
            return
        for n, g in before:
            if g is not None:
                n.grad = g + n.grad

    def zero_grad(self) -> None:
        """Set ``grad`` back to its start (0; None for NumberWithGrad) on this value and
        everything it depends on."""
        for node in self._topo():
            node.grad = node._zero

    # ---------------------------------------------------------------- graph view

    def graph(self):
        """The Graph of everything this value depends on, node for node and wire for wire;
        its output is self.

        Every label is kept: one that is a valid, unused node name becomes the node's name,
        any other (``'12'``, a second ``'x'``, control characters) the node's display text,
        numbered where it repeats (``x (2)``). A leaf holding inf, NaN or an int beyond float
        range (as inf) is a number node like any other, and the Graph marks it as a problem,
        as the canvas does. A hand-built node whose op the table does not know is drawn as a
        number node holding its value; its inputs are drawn, unwired.

        >>> a = Value(3, label="a"); g = (a * a).graph(); g.grad("a")
        6.0
        """
        return graph_from(self, self._topo())


def graph_from(root: Value, order: list):
    """:meth:`Value.graph` for ``order`` (``root._topo()``), a Graph whose node ``i + 1`` is
    ``order[i]`` (gui.draw relies on it to put each Value's own numbers on its node).

    Values made inside an ``engine.group`` (and parameters of ``engine.nn`` modules) make a
    grouped graph instead: see :func:`engine.core.groups.grouped_parts`."""
    from .graph import Graph, LabelNames, label_text
    from .groups import grouped_graph, uses_groups

    if uses_groups(order):
        return grouped_graph(root, order)

    ids = {v: i + 1 for i, v in enumerate(order)}
    names = LabelNames()
    nodes, edges = [], []
    for v in order:
        node_id = ids[v]
        op = v._opname
        if op is None:
            text = label_text(v.name)
            own = f"{v._spelled!r} by hand" if v._spelled else "by hand"
            name, label = names.take(None, f"{text} ({own})" if text else f"({own})")
        else:
            name, label = names.take(v.name)
        n = {"id": node_id, "op": op or NUMBER, "name": name}
        if op and v._params:
            n["params"] = v._params
        if label is not None:
            n["label"] = label
        if not op:
            n["value"] = _graph_number(v.data)
        else:
            for port, child in enumerate(_inputs(v)):
                edges.append((ids[child], node_id, port))
        nodes.append(n)
    g = Graph()
    g._build(nodes, edges, output=ids[root], pin_only_if_needed=True)
    g.apply_layout()
    return g


def _graph_number(x) -> float:
    """A leaf's value as a Graph number: a float, inf for an int beyond float range, NaN
    kept (the Graph marks both); a non-float Real through float()."""
    if type(x) is float:
        return x
    if type(x) is _nd:
        if not x.ndim:
            return float(x)
        x = x.copy()  # the Graph's own, read-only as every stored array: the Value stays free
        x.flags.writeable = False
        return x
    try:
        return _float(x)
    except (TypeError, ValueError):
        return float("nan")


def _method(op):
    """The Value method of a row spelled as a call: ``x.exp()``, ``a.max(b)`` (``b`` may be a
    plain number, as with the operators); a tensor row's parameters are keywords
    (``x.sum(axis=0)``), reshape's shape may be given as sizes (``x.reshape(2, 3)``)."""
    opname = op.name
    if op.tensor:

        def method(self, *args, **params):
            others = args[: op.arity - 1]
            if opname == "reshape" and args:
                one = len(args) == 1 and isinstance(args[0], (list, tuple))
                params["shape"] = list(args[0]) if one else list(args)
            elif len(args) != op.arity - 1:
                raise TypeError(f"{op.method}() takes {op.arity - 1} input(s), not {len(args)}")
            return _array_make(self, opname, others, check_params(op, params) if op.params else None)

    elif op.arity == 1:

        def method(self):
            return self._make(opname)

    else:

        def method(self, other):
            return self._make(opname, other)

    method.__name__, method.__qualname__ = op.method, f"Value.{op.method}"
    method.__doc__ = f"{op.doc} (op '{opname}')."
    return method


def apply_op(opname: str, inputs, params=None) -> Value:
    """Row ``opname`` applied to ``inputs`` (Values; plain numbers are wrapped), as its
    spelling would build it: ``apply_op("mul", [a, b])`` is ``a * b``, ``apply_op("sum", [x],
    {"axis": 0})`` is ``x.sum(axis=0)``.

    >>> apply_op("pow", [Value(2.0), Value(3.0)]).data
    8.0
    """
    op = OPS[opname]
    a, *rest = inputs
    if not isinstance(a, Value):
        a = Value(a)
    if len(rest) != op.arity - 1:
        raise TypeError(f"{opname} takes {op.arity} input(s), not {len(inputs)}")
    if op.tensor:
        return _array_make(a, opname, rest, check_params(op, params) if op.params else None)
    return a._make(opname, *rest)


# Every op that is not a Python operator gets its method from the table.
for _op in OPERATORS.values():
    if _op.method:
        setattr(Value, _op.method, _method(_op))


class NumberWithGrad(Value):
    """The seed notebook's class: ``NumberWithGrad(num, depends_on=None, creation_op='')``,
    ``.grad`` None until a backward pass reaches the node. Everything else is Value's."""

    _zero = None

    def __init__(self, num, depends_on=None, creation_op="", name=None):
        super().__init__(num, depends_on or (), creation_op, name=name)
