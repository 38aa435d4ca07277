"""``engine.group``: Values made inside a group become one instance of a definition when their
graph is built (``Value.graph()``, ``gui.show(value)``).

>>> from engine import Value, group
>>> @group("neuron")
... def neuron(x, w, b):
...     return (x * w + b).tanh()
>>> x = Value(0.5, label="x")
>>> y = neuron(x, Value(2.0, label="w"), Value(0.1, label="b")) + neuron(x, Value(-1.0), Value(0.0))
>>> g = y.graph(); sorted(g.definitions), g.definitions["neuron"].input_names
(['neuron'], ['x', 'w', 'b'])
>>> y.backward(); abs(g.grad("x") - x.grad) < 1e-12
True

Rules (DESIGN §7):

- a group's *inputs* are the Values from outside it that its Values read: a decorated
  function's Value arguments first, in order, then any other by first use (the body's order of
  creation, then port);
- its *outputs* are the decorated function's return values (a Value, or a tuple or list of
  them), then any other Value made inside that something outside reads; for a ``with`` block,
  the Values made inside that something outside reads (or the output itself);
- two calls share a definition only when their bodies are identical, constants included;
  otherwise the later one's definition is named ``name#2``, ``name#3``, ...;
- numbers made inside (``x * 2``) are constants of the definition; Values made before the group
  (weights, data) come in through input ports.

Recording costs nothing outside a group: while one is open, the function that makes every
Value stamps it with the group and its place in creation order. Groups are per process, not
per thread: open them from one thread at a time.
"""

from __future__ import annotations

import functools
import itertools
import math

import numpy as np

from . import value as _value
from .errors import InvalidNameError

_object_new = object.__new__
_seq = itertools.count(1)


class _Frame:
    """One call of a group: a future instance."""

    __slots__ = ("name", "parent", "seq", "args", "returns", "inputs_first", "input_names",
                 "output_names", "__weakref__")

    def __init__(self, name, parent, args=(), inputs_first=None, input_names=None, output_names=None):
        self.name = name
        self.parent = parent
        self.seq = next(_seq)
        self.args = tuple(args)
        self.returns = None
        self.inputs_first = inputs_first
        # Value -> port name: explicit names go with the explicit inputs, else with the
        # arguments, in order.
        named = inputs_first if inputs_first else self.args
        self.input_names = dict(zip(named, input_names)) if input_names else None
        self.output_names = output_names

    def __repr__(self):
        return f"<group {self.name!r} #{self.seq}>"


def _recording_new(cls):
    """``object.__new__`` for Values while a group is open: stamps the Value with the group
    and its place in creation order."""
    v = _object_new(cls)
    v._grp = (_value._frames[-1], next(_seq))
    return v


def _push(frame: _Frame) -> None:
    frames = _value._frames
    frames.append(frame)
    _value._new_object = _recording_new


def _pop(frame: _Frame) -> None:
    frames = _value._frames
    if frame in frames:
        del frames[frames.index(frame):]
    if not frames:
        _value._new_object = _object_new


def current():
    """The innermost open group's frame, or None."""
    frames = _value._frames
    return frames[-1] if frames else None


def values_in(obj, out=None) -> list:
    """The Values in ``obj``: itself, or inside (nested) tuples and lists, in order."""
    out = [] if out is None else out
    stack = [obj]
    while stack:
        x = stack.pop()
        if isinstance(x, _value.Value):
            out.append(x)
        elif isinstance(x, (tuple, list)):
            stack.extend(reversed(x))
    return out


def check_group_name(name) -> str:
    """A definition name: text a node could be named (printable, at most 64 characters, not
    a number) without '.', which separates a definition from a constant's name ("neuron.w")."""
    from .graph import check_name

    if not isinstance(name, str):
        raise InvalidNameError(f"a group's name must be text, not {type(name).__name__}")
    clean = check_name(name)
    if clean is None:
        raise InvalidNameError("a group needs a name, such as group('neuron')")
    if "." in clean:
        raise InvalidNameError(f"a group's name may not contain '.' ({clean!r}); '.' separates "
                               "a definition from a constant's name, as in neuron.w")
    return clean


class group:
    """Group the Values made inside into one instance of a definition called ``name``.

    As a context manager (``with group("loss"): ...``) or a decorator (``@group("neuron")``,
    or bare ``@group``, named after the function). ``inputs`` (a list of Values) puts those
    first among the inputs, in that order, named ``input_names``; ``output_names`` names the
    outputs (else they are named after their Values' labels, or in1, out1, ...).
    """

    def __init__(self, name=None, *, inputs=None, input_names=None, output_names=None):
        self._fn = None
        if callable(name) and not isinstance(name, str):  # bare @group
            self._fn = name
            name = name.__name__
        self.name = None if name is None else check_group_name(name)
        self._inputs = None if inputs is None else list(inputs)
        self._input_names = None if input_names is None else list(input_names)
        self._output_names = None if output_names is None else list(output_names)
        self._open: list[_Frame] = []
        if self._fn is not None:
            functools.update_wrapper(self, self._fn)

    def __enter__(self):
        if self.name is None:
            raise InvalidNameError("a with-group needs a name: with group('loss'): ...")
        frame = _Frame(self.name, current(), (), self._inputs, self._input_names, self._output_names)
        self._open.append(frame)
        _push(frame)
        return frame

    def __exit__(self, *exc):
        _pop(self._open.pop())
        return False

    def __call__(self, *args, **kwargs):
        if self._fn is not None:
            return self._call(self._fn, self.name, args, kwargs)
        if len(args) != 1 or kwargs or not callable(args[0]):
            raise TypeError("group(name) decorates one function: @group('neuron')")
        fn = args[0]
        name = self.name or check_group_name(fn.__name__)

        @functools.wraps(fn)
        def wrapper(*a, **kw):
            return self._call(fn, name, a, kw)

        return wrapper

    def _call(self, fn, name, args, kwargs):
        names = self._input_names
        if names is None and not self._inputs:
            names = _argument_names(fn, args, kwargs)
        return run_grouped(fn, name, args, kwargs, inputs=self._inputs, input_names=names,
                           output_names=self._output_names)


def _argument_names(fn, args, kwargs):
    """A port name per Value among a call's arguments: the parameter's name (``x``), numbered
    for a list of Values (``x1``, ``x2``); None where the signature cannot say."""
    import inspect

    try:
        bound = inspect.signature(fn).bind(*args, **kwargs)
    except (TypeError, ValueError):
        return None
    names = []
    for pname, value in bound.arguments.items():
        found = values_in(value)
        if len(found) == 1 and isinstance(value, _value.Value):
            names.append(pname)
        else:
            names.extend(f"{pname}{k + 1}" for k in range(len(found)))
    return names


# ---------------------------------------------------------------------------- building


def _level(v):
    g = getattr(v, "_grp", None)
    return None if g is None else g[0]


def _chain(frame) -> list:
    """``frame`` and its enclosing frames, innermost first."""
    out = []
    while frame is not None:
        out.append(frame)
        frame = frame.parent
    return out


def _const_key(x):
    if type(x) is np.ndarray:
        return ("a", x.shape, x.dtype.str, x.tobytes())
    if isinstance(x, float) and math.isnan(x):
        return ("nan",)
    return (type(x).__name__, x)


def uses_groups(order) -> bool:
    """Whether any Value of ``order`` was made in a group or is a module parameter (see
    :mod:`engine.nn`): then its graph is built with definitions."""
    for v in order:
        if getattr(v, "_grp", None) is not None or v._bank is not None:
            return True
    return False


def _more(order: list, seen: set, roots) -> None:
    """Append to ``order`` everything ``roots`` depend on that is not seen yet, inputs first
    (the same walk as Value._topo)."""
    inputs = _value._inputs
    for r in roots:
        if r in seen:
            continue
        seen.add(r)
        stack = [r]
        while stack:
            node = stack[-1]
            for c in inputs(node):
                if c not in seen:
                    seen.add(c)
                    stack.append(c)
                    break
            else:
                order.append(stack.pop())


def grouped_parts(root, order):
    """The pieces of a grouped graph for Values ``order`` (``root._topo()``): see
    :func:`engine.core.value.graph_from`. Returns ``(top, definitions, ids)`` where ``top``
    is ``(nodes, edges, output)`` in :meth:`Graph._build`'s format, ``definitions`` a list of
    definition data (callees first) and ``ids`` maps each top-level Value to its node id."""
    order = list(order)
    seen = set(order)
    inputs_of = _value._inputs
    # 1. Every frame involved, and the Values their unused return values need.
    frames: dict = {}
    todo = order
    while todo:
        fresh = []
        for v in todo:
            g = getattr(v, "_grp", None)
            f = None if g is None else g[0]
            while f is not None and f not in frames:
                frames[f] = None
                if f.returns:
                    fresh.extend(r for r in f.returns if r not in seen)
                f = f.parent
        if not fresh:
            break
        start = len(order)
        _more(order, seen, fresh)
        todo = order[start:]
    level = {}
    seq = {}
    for v in order:
        g = getattr(v, "_grp", None)
        if g is None:
            level[v] = None
            seq[v] = 0
        else:
            level[v], seq[v] = g

    def handle(v, f):
        """What stands for Value ``v`` in frame ``f``'s body: ``v`` itself (made there), the
        child frame it was made in, or None (made outside ``f``)."""
        c = level[v]
        if c is f:
            return v
        while c is not None:
            p = c.parent
            if p is f:
                return c
            c = p
        return None

    chains: dict = {}

    def chain_set(f):
        got = chains.get(f)
        if got is None:
            got = chains[f] = set(_chain(f))
        return got

    # 2. Every read that crosses a frame boundary: exported up to the common frame.
    exports: dict = {f: {} for f in frames}

    def route(v, to_level):
        src = level[v]
        down = chain_set(to_level) if to_level is not None else ()
        while src is not None and src not in down:
            exports[src][v] = None
            src = src.parent

    for u in order:
        lu = level[u]
        if u._opname:
            for c in inputs_of(u):
                if level[c] is not lu:
                    route(c, lu)
    if level[root] is not None:
        route(root, None)
    for f in frames:  # returned from inside a child frame: exported through it
        for r in f.returns or ():
            lr = level[r]
            if lr is not f and lr is not None and f in chain_set(lr):
                route(r, f)

    # 3. Each frame's body, inputs and outputs, innermost frames first.
    body: dict = {f: [] for f in frames}
    top_items = []
    for v in order:
        f = level[v]
        (body[f] if f is not None else top_items).append(v)
    for f in frames:
        (body[f.parent] if f.parent is not None else top_items).append(f)
    for items in body.values():
        items.sort(key=lambda x: x.seq if type(x) is _Frame else seq[x])
    depth = {f: len(_chain(f)) for f in frames}
    inner_first = sorted(frames, key=lambda f: -depth[f])
    ins: dict = {}
    outs: dict = {}
    anc = {f: frozenset(_chain(f)) for f in frames}
    for f in inner_first:
        first_use: dict = {}
        for item in body[f]:
            reads = ins[item] if type(item) is _Frame else (inputs_of(item) if item._opname else ())
            for c in reads:
                lc = level[c]
                # read from outside f: made at the top level, or in a frame f does not enclose
                if lc is not f and (lc is None or f not in anc[lc]) and c not in first_use:
                    first_use[c] = None
        got: dict = {}
        for v in f.inputs_first or ():
            if v in level and handle(v, f) is None:
                got[v] = None
        for v in f.args:
            if v in first_use:
                got[v] = None
        got.update(first_use)
        for v in f.returns or ():  # returned from outside: passed straight through
            if v in level and handle(v, f) is None:
                got[v] = None
        ins[f] = list(got)
        out = dict.fromkeys(f.returns or ())
        for v in sorted(exports[f], key=seq.__getitem__):
            out[v] = None
        outs[f] = list(out)

    # 4. Definitions: one per distinct body (constants included), named name, name#2, ...
    defs: list = []
    def_of: dict = {}
    by_key: dict = {}
    names_used: dict = {}
    port_of = {f: {v: k for k, v in enumerate(outs[f])} for f in frames}
    for f in inner_first:
        key, index = _body_key(f, body[f], ins, outs[f], handle, port_of, def_of, level.__getitem__)
        name = by_key.get(key)
        if name is None:
            k = names_used.get(f.name, 0) + 1
            name = f.name if k == 1 else f"{f.name}#{k}"
            while name in by_key.values():
                k += 1
                name = f"{f.name}#{k}"
            names_used[f.name] = k
            by_key[key] = name
            defs.append(_definition_data(name, f, body[f], ins, outs, index, handle, port_of, def_of))
        def_of[f] = name

    # 5. Parameter banks: one multi-output instance per top-level module.
    banks: dict = {}
    for v in top_items:
        if type(v) is not _Frame and v._bank is not None:
            module, k, label = v._bank
            banks.setdefault(id(module), (module, {}))[1][k] = (v, label)
    bank_of: dict = {}
    bank_def: dict = {}
    for _mid, (module, params) in banks.items():
        entries = [params[k] for k in sorted(params)]
        key = ("bank", type(module).__name__, tuple(_const_key(v.data) for v, _ in entries),
               tuple(lbl for _, lbl in entries))
        name = by_key.get(key)
        if name is None:
            base = _bank_name(module)
            k = names_used.get(base, 0) + 1
            names_used[base] = k
            name = base if k == 1 else f"{base}#{k}"
            by_key[key] = name
            defs.append(_bank_definition(name, entries))
        bank_def[id(module)] = name
        for port, (v, _lbl) in enumerate(entries):
            bank_of[v] = (id(module), port)

    # 6. The top level.
    ids: dict = {}
    nodes, edges = [], []
    bank_ids: dict = {}
    next_id = 1
    labels = _Labels()
    for v in order:
        if level[v] is None and v in bank_of:
            mid = bank_of[v][0]
            if mid not in bank_ids:
                bank_ids[mid] = next_id
                nodes.append({"id": next_id, "op": "call", "definition": bank_def[mid], "name": None})
                next_id += 1
            continue
        item = handle(v, None)
        if item in ids:
            continue
        ids[item] = next_id
        if type(item) is _Frame:
            nodes.append({"id": next_id, "op": "call", "definition": def_of[item], "name": None})
        else:
            nodes.append(_value_node(item, next_id, labels))
        next_id += 1

    refs: dict = {}

    def top_ref(v):
        got = refs.get(v)
        if got is not None:
            return got
        if v in bank_of:
            mid, port = bank_of[v]
            got = bank_ids[mid], port
        else:
            h = handle(v, None)
            got = (ids[v], 0) if h is v else (ids[h], port_of[h][v])
        refs[v] = got
        return got

    for item, n in ids.items():
        if type(item) is _Frame:
            for port, c in enumerate(ins[item]):
                s, sp = top_ref(c)
                edges.append((s, n, port, sp))
        elif item._opname:
            for port, c in enumerate(inputs_of(item)):
                s, sp = top_ref(c)
                edges.append((s, n, port, sp))
    out_node, out_port = top_ref(root)
    top_vals = {v: n for v, n in ids.items() if type(v) is not _Frame}
    return (nodes, edges, (out_node, out_port)), defs, top_vals


def _body_key(f, items, ins_of, outs, handle, port_of, def_of, level_of):
    """A key equal for identical bodies (ops, wiring, constants, nested definitions) and the
    position of each item in the body."""
    inputs_of = _value._inputs
    index = {item: k for k, item in enumerate(items)}
    ins = ins_of[f]
    in_port = {v: k for k, v in enumerate(ins)}

    children: dict = {}  # frame a Value was made in -> the child of f that holds it

    def ref(v):
        h = index.get(v)
        if h is not None:
            return h
        k = in_port.get(v)
        if k is not None:
            return ("in", k)
        c = level_of(v)
        child = children.get(c)
        if child is None:
            child = children[c] = handle(v, f)
        return (index[child], port_of[child][v])

    entries = []
    for item in items:
        if type(item) is _Frame:
            entries.append((def_of[item], tuple(map(ref, ins_of[item]))))
        elif item._opname:
            entries.append((item._opname, repr(item._params) if item._params else "",
                            tuple(map(ref, inputs_of(item)))))
        else:
            entries.append(_const_key(item.data))
    return (f.name, tuple(entries), len(ins), tuple(map(ref, outs))), index


def _definition_data(name, f, items, ins_of, outs_of, index, handle, port_of, def_of) -> dict:
    """The definition data (see Graph._make_definition) of frame ``f``'s body."""
    inputs_of = _value._inputs
    ins, outs = ins_of[f], outs_of[f]
    in_port = {v: k for k, v in enumerate(ins)}
    n_items = len(items)

    def source(v):
        h = handle(v, f)
        if h is v:
            return index[v] + 1, 0
        if h is None:
            return n_items + 1 + in_port[v], 0
        return index[h] + 1, port_of[h][v]

    labels = _Labels()
    nodes, edges = [], []
    for k, item in enumerate(items):
        nid = k + 1
        if type(item) is _Frame:
            nodes.append({"id": nid, "op": "call", "definition": def_of[item], "name": None})
            srcs = ins_of[item]
        else:
            nodes.append(_value_node(item, nid, labels))
            srcs = inputs_of(item) if item._opname else ()
        for port, c in enumerate(srcs):
            s, sp = source(c)
            edges.append((s, nid, port, sp))
    inputs = []
    given = f.input_names or {}
    for k, pname in enumerate(_port_names(ins, [given.get(v) for v in ins], "in")):
        nid = n_items + 1 + k
        nodes.append({"id": nid, "op": "input", "name": None})
        inputs.append((pname, nid))
    outputs = []
    for k, pname in enumerate(_port_names(outs, f.output_names, "out")):
        nid = n_items + 1 + len(ins) + k
        nodes.append({"id": nid, "op": "output", "name": None})
        s, sp = source(outs[k])
        edges.append((s, nid, 0, sp))
        outputs.append((pname, nid))
    return {"name": name, "inputs": inputs, "outputs": outputs, "nodes": nodes, "edges": edges}


class _Labels:
    """Value labels as node names, by the one rule :func:`engine.core.value.graph_from` and
    pasted lecture code follow (:class:`~engine.core.graph.LabelNames`): a valid, unused label
    is the name, any other the node's display text (numbered where repeated)."""

    def __init__(self):
        from .graph import LabelNames

        self.names = LabelNames()

    def apply(self, v, node: dict) -> None:
        from .graph import label_text

        if v._opname is None:
            text = label_text(v.name)
            own = f"{v._spelled!r} by hand" if v._spelled else "by hand"
            name, label = self.names.take(None, f"{text} ({own})" if text else f"({own})")
        else:
            name, label = self.names.take(v.name)
        node["name"] = name
        if label is not None:
            node["label"] = label


def _value_node(v, node_id: int, labels: _Labels) -> dict:
    op = v._opname
    n = {"id": node_id, "op": op or "number"}
    if op and v._params:
        n["params"] = v._params
    if not op:
        n["value"] = _value._graph_number(v.data)
    labels.apply(v, n)
    return n


def _port_names(values, given, prefix) -> list:
    from .errors import GraphError
    from .graph import check_name

    names, taken = [], set()
    for k, v in enumerate(values):
        name = None
        if given is not None and k < len(given) and given[k]:
            name = given[k]
        elif v.name:
            try:
                name = check_name(v.name)
            except GraphError:
                name = None
        if not name or name in taken:
            name = f"{prefix}{k + 1}"
        j = 2
        base = name
        while name in taken:
            name, j = f"{base}_{j}", j + 1
        taken.add(name)
        names.append(name)
    return names


def _bank_name(module) -> str:
    """``"MLP(2, [16, 1]) parameters"``: the module's group name (else its class), kept a
    valid definition name."""
    try:
        base = module.group_name()
    except Exception:  # noqa: BLE001 - a user module's own method: fall back to the class
        base = type(module).__name__
    name = f"{base} parameters"
    try:
        return check_group_name(name)
    except Exception:  # noqa: BLE001 - too long, or a '.': the class name always does
        return f"{type(module).__name__} parameters"


def _bank_definition(name, entries):
    nodes, edges, outputs = [], [], []
    n = len(entries)
    for k, (v, label) in enumerate(entries):
        nodes.append({"id": k + 1, "op": "number", "name": label, "value": _value._graph_number(v.data)})
    for k, (_v, label) in enumerate(entries):
        nid = n + 1 + k
        nodes.append({"id": nid, "op": "output", "name": None})
        edges.append((k + 1, nid, 0, 0))
        outputs.append((label, nid))
    return {"name": name, "inputs": [], "outputs": outputs, "nodes": nodes, "edges": edges}




def stamp(v) -> None:
    """Mark a Value made by ``Value(...)`` inside an open group (the operators' Values are
    marked as they are made, by :func:`_recording_new`)."""
    v._grp = (_value._frames[-1], next(_seq))


def grouped_graph(root, order):
    """The Graph of ``root`` with its groups as definitions and instances (see
    :func:`grouped_parts`); its output is ``root``."""
    from .graph import Graph

    (nodes, edges, (out, out_port)), defs, _ids = grouped_parts(root, order)
    g = Graph()
    g._build(nodes, edges, output=out, output_port=out_port, definitions=defs, pin_only_if_needed=True)
    g.apply_layout()
    return g


def run_grouped(fn, name, args=(), kwargs=None, *, inputs=None, input_names=None, output_names=None):
    """Call ``fn(*args, **kwargs)`` as one group call named ``name`` (what a ``@group``
    decorated function does); ``inputs`` come first among its inputs, named ``input_names``."""
    kwargs = kwargs or {}
    frame = _Frame(name, current(), values_in([args, list(kwargs.values())]), inputs, input_names,
                   output_names)
    _push(frame)
    try:
        result = fn(*args, **kwargs)
    finally:
        _pop(frame)
    frame.returns = tuple(values_in(result))
    return result


__all__ = [
    "current", "group", "grouped_graph", "grouped_parts", "run_grouped", "stamp", "uses_groups", "values_in",
]
