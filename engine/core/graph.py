"""Graph: the document. A networkx MultiDiGraph whose edges are keyed by input port.

Every edit method validates first and raises a :class:`GraphError` subclass without
touching anything, or applies the edit and tells every subscriber. Evaluation is lazy and
cached: a compiled tape per topology, a forward+backward result per edit.

>>> g = Graph()
>>> a = g.add_number(3.0, name="a")
>>> m = g.add_op("mul")
>>> g.connect(a, m, 0); g.connect(a, m, 1)
>>> g.backward()
>>> g.value(m), g.grad("a")
(9.0, 6.0)
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import NamedTuple

import networkx as nx
import numpy as np

from . import arrays, autodiff, kinds
from .composite_graph import Composites, _elsewhere
from .composites import CALL, PLACEHOLDERS, CompositeError, outside_only
from .errors import (
    CycleError,
    DuplicateNameError,
    GraphError,
    InvalidNameError,
    InvalidValueError,
    NodeNotFoundError,
    NoOutputError,
    PortError,
    PortInUseError,
    PortNotConnectedError,
    UnknownOpError,
)
from .events import (
    DocumentReset,
    EdgeAdded,
    EdgeRemoved,
    Evaluated,
    Event,
    LayoutApplied,
    MetaChanged,
    NameChanged,
    NodeAdded,
    NodeMoved,
    NodeRemoved,
    NodesInserted,
    OutputChanged,
    ParamsChanged,
    RoleChanged,
    ValueChanged,
)
from .ops import NUMBER, OPERATORS, OPS, check_params

MAX_NAME = 64
BACKWARD_ROLE = "backward"  # nodes of an inserted backward graph: never the automatic output
ROLES = (BACKWARD_ROLE,)
"""What a node may be tagged as besides ordinary (None): part of a backward graph."""
MAX_ID = 2**53  # as the document format: ids stay exact in every JSON reader


META_KEYS = ("title", "lesson", "descend")  # the metadata the document format keeps


class _Meta(dict):
    """The document's metadata. A dict to read; every change goes through
    :meth:`Graph.set_meta`, so it is announced like any other edit."""

    __slots__ = ("_graph",)

    def __init__(self, graph):
        super().__init__()
        self._graph = graph

    def __setitem__(self, key, value):
        self._graph.set_meta(key, value)

    def __delitem__(self, key):
        if key not in self:
            raise KeyError(key)
        self._graph.set_meta(key, None)

    def update(self, *args, **kwargs):
        for k, v in dict(*args, **kwargs).items():
            self._graph.set_meta(k, v)

    def setdefault(self, key, default=None):
        if key not in self:
            self._graph.set_meta(key, default)
        return self.get(key)

    def pop(self, key, *default):
        if key in self:
            value = self[key]
            self._graph.set_meta(key, None)
            return value
        if default:
            return default[0]
        raise KeyError(key)

    def popitem(self):
        key = next(reversed(self))
        return key, self.pop(key)

    def clear(self):
        for key in list(self):
            self._graph.set_meta(key, None)

    def __reduce__(self):  # copies are plain dicts (deepcopy, copy)
        return dict, (dict(self),)


class Wire(NamedTuple):
    """One wire: output ``source_port`` of ``source`` into input ``port`` of ``target``."""

    source: int
    source_port: int
    target: int
    port: int


_UNSET = object()


@dataclass
class _Result:
    tape: autodiff.Tape
    values: list
    root: int | None  # tape slot of the output, None when there is none
    grads: list
    root_ref: tuple | None = None  # (node, port) of the output, None when there is none
    _sent: list | None = None
    errors: dict | None = None  # tape index -> shape problem message

    @property
    def sent(self) -> list:
        """Amounts sent back along each wire, computed on first use (display only)."""
        if self._sent is None:
            if self.root is None:
                self._sent = [None] * len(self.values)
            else:
                self._sent = autodiff.sends(self.tape, self.values, self.grads, self.root)
        return self._sent


def check_number(value, what="value") -> float:
    """A finite real number as float, or InvalidValueError."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        try:  # numpy scalars and the like, but never strings
            if isinstance(value, (str, bytes, bool)):  # float(True) would quietly give 1.0
                raise TypeError
            value = float(value)
        except (TypeError, ValueError, OverflowError):
            raise InvalidValueError(f"{what} must be a number, not {type(value).__name__}") from None
    try:
        value = float(value)
    except OverflowError:
        raise InvalidValueError(f"{what} is too large for a float") from None
    if not math.isfinite(value):
        raise InvalidValueError(f"{what} must be finite, not {value}")
    return value


def check_value(value, what="value"):
    """A number node's value: a finite float, or a NumPy array (float64, or int64 for integer
    class targets; 1 to 4 dimensions, finite, at most ``arrays.MAX_ELEMENTS`` elements; a 0-d
    array is a float). InvalidValueError otherwise. Nested lists are read as arrays too."""
    if isinstance(value, list):
        try:
            value = arrays.from_nested(value, what)
        except ValueError as e:
            raise InvalidValueError(str(e)) from None
    if isinstance(value, np.ndarray):
        try:
            return arrays.check_array(value, what)
        except ValueError as e:
            raise InvalidValueError(str(e)) from None
    return check_number(value, what)


def check_name(name) -> str | None:
    """A valid node name (stripped), or None for no name."""
    if name is None:
        return None
    if not isinstance(name, str):
        raise InvalidNameError(f"a name must be text, not {type(name).__name__}")
    name = name.strip()
    if not name:
        return None
    if len(name) > MAX_NAME:
        raise InvalidNameError(f"name '{name[:20]}…' is longer than {MAX_NAME} characters")
    if any(not c.isprintable() for c in name):
        raise InvalidNameError(f"name {name!r} contains control characters")
    if name.lstrip("+-").isdigit():
        raise InvalidNameError(f"name '{name}' looks like a node id; start it with a letter")
    return name


_MAX_LABEL = 200


def label_text(label) -> str:
    """A free-form label (a Value's, or one set in pasted code) as display text: '' for none,
    control characters shown escaped, long text cut."""
    if label is None:
        return ""
    text = label if isinstance(label, str) else str(label)
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text.strip())
    return text if len(text) <= _MAX_LABEL else text[: _MAX_LABEL - 1] + "…"


class LabelNames:
    """Names for nodes that come with free-form labels, given out in node order (``Value.graph()``
    and pasted lecture code share the rule): a label that is a valid node name not taken yet
    names its node; any other (``'12'``, a second ``'x'``, control characters) becomes the
    node's display text, numbered where it repeats (``x (2)``).

    >>> names = LabelNames()
    >>> names.take("x"), names.take("x"), names.take("x*w"), names.take("12")
    (('x', None), (None, 'x (2)'), ('x*w', None), (None, '12'))
    """

    def __init__(self):
        self._used: set[str] = set()
        self._seen: dict[str, int] = {}

    def take(self, label, text: str | None = None) -> tuple[str | None, str | None]:
        """``(name, display_text)`` for a node labelled ``label``, at most one of them set;
        ``text`` overrides the display text (and then the label is never a name)."""
        name = None
        if text is None:
            text = label_text(label)
            try:
                name = check_name(label)
            except GraphError:
                pass
        if not text:
            return None, None
        k = self._seen[text] = self._seen.get(text, 0) + 1
        if name is not None and name not in self._used:
            self._used.add(name)
            return name, None
        return None, text if k == 1 else f"{text} ({k})"


class Graph(Composites):
    """A computational graph document. See the module docstring for an example.

    Composites (definitions, instances, addresses inside them) are the
    :class:`~engine.core.composite_graph.Composites` half of the class.
    """

    def __init__(self):
        self.nx = nx.MultiDiGraph()
        self._names: dict[str, int] = {}
        self._output: int | None = None  # the pinned output; None: it follows the graph
        self._output_port = 0
        self._auto = _UNSET  # the automatic output, cached per topology
        self._next_id = 1
        self._subscribers: list[Callable[[Event], None]] = []
        self._muted = False  # insert_nodes: its single event stands for the edits it makes
        self._tape: autodiff.Tape | None = None
        self._result: _Result | None = None
        self._meta = _Meta(self)  # document metadata kept on save/load: "title", "lesson"
        self._init_composites()

    @property
    def meta(self) -> dict:
        """Document metadata ("title", "lesson"; other keys are kept in memory only). Reads as a
        dict; writes (``g.meta["title"] = ...``) go through :meth:`set_meta` and emit events."""
        return self._meta

    @meta.setter
    def meta(self, values) -> None:
        for key in [k for k in self._meta if k not in values]:
            self.set_meta(key, None)
        for key, value in dict(values).items():
            self.set_meta(key, value)

    def set_meta(self, key, value) -> None:
        """Set one metadata entry (None removes it) and emit MetaChanged if it changed.

        >>> g = Graph(); g.set_meta("title", "Fan-out"); g.meta
        {'title': 'Fan-out'}
        """
        old = self._meta.get(key)
        if value is None:
            if key not in self._meta:
                return
            dict.__delitem__(self._meta, key)
        else:
            if key in self._meta and old is value:
                return
            dict.__setitem__(self._meta, key, value)
        self._emit(MetaChanged(key, old, value))

    # ------------------------------------------------------------------ construction

    @classmethod
    def from_expression(cls, source: str, /, **values) -> Graph:
        """Parse an expression or short program into a Graph (see :mod:`engine.io.parse`).

        >>> Graph.from_expression("(a*4+3)*(a+2)", a=3).grad("a")
        35.0
        """
        from ..io.parse import parse_program

        return parse_program(source, values)

    @classmethod
    def load(cls, path) -> Graph:
        """Read a document saved by :meth:`save`; raises DocumentError on any problem."""
        from ..io.document import load

        return load(path)

    def save(self, path) -> None:
        """Write the document atomically (temporary file, then rename)."""
        from ..io.document import save

        save(self, path)

    def to_dict(self) -> dict:
        """The document as JSON-ready data (the saved format)."""
        from ..io.document import to_dict

        return to_dict(self)

    @classmethod
    def from_dict(cls, data) -> Graph:
        from ..io.document import from_dict

        return from_dict(data)

    def copy(self) -> Graph:
        """An independent copy (no subscribers)."""
        g = Graph()
        g.nx = self.nx.copy()
        g._names = dict(self._names)
        g._output = self._output
        g._output_port = self._output_port
        g._next_id = self._next_id
        dict.update(g._meta, self._meta)
        if self._defs:
            self._copy_definitions_into(g)
        return g

    def _build(self, nodes: Iterable[dict], edges: Iterable[tuple], output=None, output_port=0,
               pin_only_if_needed=False, definitions=()) -> None:
        """Fill an empty graph from already validated data, without per-edit checks. Edges
        are (source, target, port) or (source, target, port, source_port); ``output`` is
        the pinned output (None: it follows the graph). With ``pin_only_if_needed`` it is
        pinned only when the graph would not choose it by itself (a program's last line).

        Used by the loader, the parser and Value.graph(), which check everything first.
        ``definitions`` (callees before callers) are added first: see
        :meth:`_make_definition` for their format; instance nodes name them.
        """
        self._build_definitions(definitions)
        self._build_silently(nodes, edges)
        self._invalidate(topology=True)
        if pin_only_if_needed and output_port == 0 and self.output_node() == output:
            output = None
        self._output = output
        self._output_port = output_port if output is not None else 0
        self._emit(DocumentReset())

    def _build_silently(self, nodes: Iterable[dict], edges: Iterable[tuple]) -> None:
        """:meth:`_build`'s nodes and wires, without events (a definition's body, too)."""
        g = self.nx
        defs = self._root()._defs
        for n in nodes:
            attrs = {"op": n["op"], "name": n.get("name"), "x": n.get("x", 0.0), "y": n.get("y", 0.0)}
            if n["op"] == NUMBER:
                attrs["value"] = n["value"]
            elif n["op"] in OPS and OPS[n["op"]].params:
                attrs["params"] = check_params(OPS[n["op"]], n.get("params"))
            elif n["op"] == CALL:
                d = n["definition"]
                attrs["definition"] = defs[d] if isinstance(d, str) else d
            elif n.get("params") is not None and n["op"] not in OPS:  # a kind's own attributes
                attrs["params"] = n["params"]
            if n.get("label"):  # display text for a Value label that is no valid unique name
                attrs["label"] = n["label"]
            if n.get("role"):
                attrs["role"] = n["role"]
            g.add_node(n["id"], **attrs)
            if attrs["name"]:
                self._names[attrs["name"]] = n["id"]
            self._next_id = max(self._next_id, n["id"] + 1)
        g.add_edges_from(
            (e[0], e[1], e[2], {"source_port": e[3]}) if len(e) > 3 and e[3] else (e[0], e[1], e[2])
            for e in edges
        )

    # ------------------------------------------------------------------ events

    def subscribe(self, callback: Callable[[Event], None]) -> Callable[[], None]:
        """Call ``callback(event)`` after every edit and evaluation. Returns an unsubscribe."""
        self._subscribers.append(callback)

        def unsubscribe():
            if callback in self._subscribers:
                self._subscribers.remove(callback)

        return unsubscribe

    def _emit(self, ev: Event):
        if self._muted:
            return
        if self._owner is not None:  # a definition's body: the document tells its subscribers
            self._forward_event(ev)
        if self._subscribers:
            kind = ev.kind
            for cb in list(self._subscribers):
                try:
                    cb(ev)
                except Exception as e:
                    # The edit has already happened: a failing view must neither stop the other
                    # subscribers hearing of it nor make the edit look refused to the caller.
                    warnings.warn(
                        f"graph subscriber {cb!r} failed on {kind!r}: {type(e).__name__}: {e}",
                        RuntimeWarning,
                        stacklevel=2,
                    )

    def _invalidate(self, topology=False):
        if topology:
            self._tape = None
            self._auto = _UNSET
        self._result = None
        if self._owner is not None:
            self._body_invalidated(topology)

    # ------------------------------------------------------------------ lookups

    def resolve(self, ref) -> int:
        """Node id for an id or a unique name; NodeNotFoundError otherwise. An address inside
        a definition (``("neuron", 3)``, ``"neuron.w"``, an instance path) gives its canonical
        form: see :meth:`locate`."""
        if type(ref) is int and ref in self.nx._node:
            return ref
        if self._composite_ref(ref):
            return self.locate(ref)
        if isinstance(ref, bool):
            raise NodeNotFoundError(f"no node {ref!r}")
        if isinstance(ref, int):
            if ref in self.nx:
                return ref
            raise NodeNotFoundError(f"no node with id {ref}")
        if isinstance(ref, str):
            if ref in self._names:
                return self._names[ref]
            s = ref.strip()
            # isdecimal, not isdigit: "²" is a digit that int() refuses
            if (s[1:] if s[:1] == "-" else s).isdecimal() and int(s) in self.nx:
                return int(s)
            raise NodeNotFoundError(f"no node named '{ref}'")
        raise NodeNotFoundError(f"no node {ref!r} (give an id or a name)")

    def __contains__(self, ref) -> bool:
        try:
            self.resolve(ref)
            return True
        except GraphError:
            return False

    def __len__(self) -> int:
        return self.nx.number_of_nodes()

    def nodes(self) -> list[int]:
        """Node ids in insertion order."""
        return list(self.nx.nodes)

    def edges(self) -> list[tuple[int, int, int]]:
        """Every wire as (source, target, port); :meth:`wires` adds the source port."""
        return list(self.nx.edges(keys=True))

    def wires(self) -> list[Wire]:
        """Every wire as :class:`Wire` (source, source_port, target, port).

        >>> Graph.from_expression("a*a", a=2).wires()
        [Wire(source=1, source_port=0, target=2, port=0), Wire(source=1, source_port=0, target=2, port=1)]
        """
        return [Wire(s, d.get("source_port", 0), t, p) for s, t, p, d in self.nx.edges(keys=True, data=True)]

    def op(self, ref) -> str:
        """The node's op name: "number" for a number node, "call" for an instance."""
        g, n = self._at(ref)
        return g.nx._node[n]["op"]

    def name(self, ref) -> str | None:
        g, n = self._at(ref)
        return g.nx._node[n]["name"]

    def label(self, ref) -> str:
        """The name, else the display text a Value's label left (see Value.graph), else the
        op and id (an instance: its definition and id). Inside a definition, prefixed by
        where: ``neuron.w``, ``neuron#5/w`` (one instance's)."""
        if type(ref) is not int and self._composite_ref(ref):
            addr = self.locate(ref)
            if isinstance(addr, tuple):
                if isinstance(addr[0], str):
                    return f"{addr[0]}.{self._root()._defs[addr[0]].body.label(addr[1])}"
                parts, g = [], self
                for k in addr:
                    parts.append(g.label(k))
                    if g.nx._node[k]["op"] == CALL:
                        g = g.nx._node[k]["definition"].body
                return "/".join(parts)
            ref = addr
        n = self.resolve(ref)
        a = self.nx._node[n]
        if a["name"]:
            return a["name"]
        if a.get("label"):
            return a["label"]
        if a["op"] in PLACEHOLDERS and self._definition is not None:
            d = self._definition
            ports = d.inputs if a["op"] == "input" else d.outputs
            for p in ports:
                if p.node == n:
                    return p.name
        if a["op"] == CALL:
            return f"{a['definition'].name}#{n}"
        return f"{a['op']}#{n}"

    def number(self, ref) -> float:
        """The value typed into a number node."""
        g, n = self._at(ref)
        a = g.nx._node[n]
        if a["op"] != NUMBER:
            raise InvalidValueError(f"node {self.label(ref)} is an op, not a number")
        return a["value"]

    def position(self, ref) -> tuple[float, float]:
        g, n = self._at(ref)
        a = g.nx._node[n]
        return a["x"], a["y"]

    def node(self, ref) -> dict:
        """A copy of the node's stored attributes, with its id (an instance's
        ``"definition"`` is its definition's name: :meth:`definition_of` gives the
        Definition)."""
        g, n = self._at(ref)
        d = dict(g.nx._node[n])
        d["id"] = n
        if d["op"] == CALL:
            d["definition"] = d["definition"].name
            d.pop("_anchors", None)
        return d

    def inputs(self, ref) -> list[int | None]:
        """Source node per input port, None where unconnected."""
        return [None if w is None else w[0] for w in self.input_wires(ref)]

    def input_wires(self, ref) -> list[tuple[int, int] | None]:
        """(source, source_port) per input port, None where unconnected.

        >>> Graph.from_expression("a*b", a=1, b=2).input_wires(3)
        [(1, 0), (2, 0)]
        """
        g, n = self._at(ref)
        ins: list[tuple[int, int] | None] = [None] * g._arity(n)
        for s, ports in g.nx._pred[n].items():
            for p, d in ports.items():
                ins[p] = (s, d.get("source_port", 0))
        return ins

    def consumers(self, ref, source_port: int | None = None) -> list[tuple[int, int]]:
        """Every (target, port) that this node feeds (from output ``source_port`` only, if
        given)."""
        g, n = self._at(ref)
        return [
            (t, p)
            for t, ports in g.nx._succ[n].items()
            for p, d in ports.items()
            if source_port is None or d.get("source_port", 0) == source_port
        ]

    def arity(self, ref) -> int:
        """How many input ports the node has (0 for a number; an instance: its definition's
        inputs)."""
        g, n = self._at(ref)
        return g._arity(n)

    def output_arity(self, ref) -> int:
        """How many output ports the node has: 1 for a number and every op row, an
        instance's definition's outputs (a node kind, :mod:`engine.core.kinds`, may have
        several)."""
        g, n = self._at(ref)
        return g._output_arity(n)

    def _arity(self, n: int) -> int:
        attrs = self.nx._node[n]
        row = OPS.get(attrs["op"])
        return row.arity if row is not None else kinds.get(attrs["op"]).arity(attrs)

    def _output_arity(self, n: int) -> int:
        attrs = self.nx._node[n]
        return 1 if attrs["op"] in OPS else kinds.get(attrs["op"]).output_arity(attrs)

    def _check_output_port(self, n: int, port, what="output port") -> int:
        count = self._output_arity(n)
        if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port < count:
            has = "has one output, port 0" if count == 1 else f"has output ports 0..{count - 1}"
            raise PortError(f"node {self.label(n)} {has}; there is no {what} {port!r}")
        return port

    # ------------------------------------------------------------------ the output

    @property
    def output(self) -> int | None:
        """The document's output node: :meth:`output_node`, pinned or not."""
        return self.output_node()

    @property
    def output_port(self) -> int:
        """The output's port: the pinned one, 0 while the output follows the graph."""
        return self._output_port

    @property
    def pinned_output(self) -> int | None:
        """The pinned output node, or None while the output follows the graph."""
        return self._output

    def output_node(self) -> int | None:
        """The document's output: the pinned one, else the sink (a node nothing consumes)
        with the most ancestors, ties to the highest id; nodes of an inserted backward
        graph are never chosen. None only for a graph without such a sink (an empty one).

        >>> g = Graph.from_expression("y = x*x + 1; z = 2*x; y", x=3.0)
        >>> g.output_node() == g.resolve("y"), g.pinned_output
        (True, None)
        """
        if self._output is not None:
            return self._output
        if self._auto is _UNSET:
            self._auto = self._automatic_output()
        return self._auto

    def output_ref(self) -> tuple[int, int] | None:
        """The document's output as (node, port): the pinned one, else (output_node(), 0)."""
        if self._output is not None:
            return self._output, self._output_port
        n = self.output_node()
        return None if n is None else (n, 0)

    def _automatic_output(self) -> int | None:
        nodes, succ, pred = self.nx._node, self.nx._succ, self.nx._pred
        # A forward node read only by a backward graph still ends the forward graph: showing
        # the backward graph must not take the output away from it.
        sinks = [n for n, out in succ.items() if nodes[n].get("role") != BACKWARD_ROLE
                 and all(nodes[t].get("role") == BACKWARD_ROLE for t in out)]
        if len(sinks) <= 1:
            return sinks[0] if sinks else None
        best = best_key = None
        for s in sinks:  # one walk up per sink; each sees every ancestor once
            seen = {s}
            stack = [s]
            while stack:
                for p in pred[stack.pop()]:
                    if p not in seen:
                        seen.add(p)
                        stack.append(p)
            key = (len(seen), s)
            if best_key is None or key > best_key:
                best, best_key = s, key
        return best

    # ------------------------------------------------------------------ edits

    def _new_id(self, node_id) -> int:
        if node_id is None:
            node_id = self._next_id
        elif isinstance(node_id, bool) or not isinstance(node_id, int) or node_id < 0:
            raise GraphError(f"node id must be a non-negative integer, not {node_id!r}")
        elif node_id >= MAX_ID:
            raise GraphError(f"node id {node_id} is too large (ids must be below 2**53)")
        elif node_id in self.nx:
            raise GraphError(f"node id {node_id} is already used")
        return node_id

    def _check_new_name(self, name, node=None):
        name = check_name(name)
        if name is not None and self._names.get(name, node) != node:
            raise DuplicateNameError(f"the name '{name}' is already used by node {self._names[name]}")
        return name

    def check_add(self, op: str, value=0.0, name=None, x=0.0, y=0.0, node_id=None, params=None,
                  inside=None) -> dict:
        """Raise the GraphError that adding this node would raise; return the cleaned
        attributes ({"op", "name", "x", "y", "id"}, "value" for a number, "params" for an op
        whose row has parameters) otherwise.

        >>> Graph().check_add("number", 2, name=" a ")
        {'op': 'number', 'name': 'a', 'x': 0.0, 'y': 0.0, 'id': 1, 'value': 2.0}

        ``inside`` names the definition whose body gets the node (every instance gets it).
        """
        if inside is not None:
            return self.definition(inside).body.check_add(op, value, name, x, y, node_id, params)
        if op in (CALL, *PLACEHOLDERS):
            how = "add_instance(definition)" if op == CALL else "expose_as_input or group"
            raise UnknownOpError(f"a {op!r} node is not added with add_op; use {how}")
        if not isinstance(op, str) or (op not in OPS and op not in kinds.KINDS):
            raise UnknownOpError(f"unknown op {op!r}; known ops: {', '.join(OPS)}")
        if self._definition is not None and op not in OPS:
            raise CompositeError(outside_only(op))
        self._check_growth(1)
        out = {"op": op}
        if op == NUMBER:
            value = check_value(value)
        elif op in OPS:
            params = self._check_params(op, params)
        elif kinds.get(op).check_params is not None:
            params = self._check_kind_params(op, params)
        elif params is not None:
            raise InvalidValueError(f"a {op} node takes no parameters here")
        out["name"] = self._check_new_name(name)
        out["x"] = check_number(x, "x")
        out["y"] = check_number(y, "y")
        out["id"] = self._new_id(node_id)
        if op == NUMBER:
            out["value"] = value
        elif (op in OPS and OPS[op].params) or (op not in OPS and params is not None):
            out["params"] = params
        return out

    @staticmethod
    def _check_kind_params(op: str, params) -> dict:
        try:
            return kinds.get(op).check_params(params)
        except ValueError as e:
            raise InvalidValueError(str(e)) from None

    @staticmethod
    def _check_params(op: str, params) -> dict:
        try:
            return check_params(OPS[op], params)
        except ValueError as e:
            raise InvalidValueError(str(e)) from None

    def add_number(self, value=0.0, name=None, x=0.0, y=0.0, node_id=None, inside=None) -> int:
        """Add a number node and return its id (``inside`` a definition: a constant of it,
        returned as ``(definition, id)``).

        >>> g = Graph(); g.add_number(2.5, name="w")
        1
        """
        if inside is not None:
            body = self.definition(inside).body
            return self._address(body, body.add_number(value, name, x, y, node_id))
        return self._add(NUMBER, value, name, x, y, node_id)

    def add_op(self, op: str, name=None, x=0.0, y=0.0, node_id=None, params=None, inside=None) -> int:
        """Add an operator node (``op`` is a key of OPERATORS, or a registered node kind, see
        :mod:`engine.core.kinds`) and return its id. ``params`` sets a tensor row's
        parameters (``{"axis": 0}`` for sum); left out, the row's defaults.

        >>> g = Graph(); g.add_op("tanh")
        1
        """
        if inside is not None:
            body = self.definition(inside).body
            return self._address(body, body.add_op(op, name, x, y, node_id, params))
        self.check_add_op(op, name, x, y, node_id, params)
        return self._add(op, None, name, x, y, node_id, params)

    def check_add_op(self, op: str, name=None, x=0.0, y=0.0, node_id=None, params=None, inside=None) -> dict:
        """Raise the GraphError that ``add_op(op, ...)`` would raise (as :meth:`check_add`,
        and "number" is refused: numbers are added with add_number, which takes a value)."""
        if inside is not None:
            return self.definition(inside).body.check_add_op(op, name, x, y, node_id, params)
        if op == NUMBER:
            raise UnknownOpError(
                f"unknown op {op!r}; known ops: {', '.join(OPERATORS)}; a number is added with add_number"
            )
        return self.check_add(op, None, name, x, y, node_id, params)

    def _add(self, op, value, name, x, y, node_id, params=None) -> int:
        attrs = self.check_add(op, value, name, x, y, node_id, params)
        node_id = attrs.pop("id")
        name = attrs["name"]
        self.nx.add_node(node_id, **attrs)
        if name:
            self._names[name] = node_id
        self._next_id = max(self._next_id, node_id + 1)
        self._invalidate(topology=True)
        self._emit(NodeAdded(node_id))
        return node_id

    def insert_nodes(self, nodes: Iterable[dict], wires: Iterable = ()) -> list[int]:
        """Add many nodes and wires as one edit, with one :class:`NodesInserted` event instead
        of one event per node, wire and role (a backward graph's 1,200 nodes: its views then
        add them in one pass). ``nodes`` are dicts as :meth:`node` gives them (``id``, ``op``,
        ``value`` for a number, ``params``, ``name``, ``x``, ``y``, ``role``); ``wires`` are
        :class:`Wire` or (source, target, port[, source_port]). Each is checked as
        :meth:`add_number`, :meth:`add_op`, :meth:`set_role` and :meth:`connect` check it; on a
        refusal nothing stays added and the GraphError is raised. Returns the new ids.

        >>> g = Graph(); a = g.add_number(2.0, name="a")
        >>> g.insert_nodes([{"id": 5, "op": "tanh", "x": 100.0}], [(a, 5, 0)])
        [5]
        """
        added: list[int] = []
        made: list[tuple] = []
        was_muted, self._muted = self._muted, True  # a caller's mute outlives this insert
        try:
            for s in nodes:
                x, y, nid = s.get("x", 0.0), s.get("y", 0.0), s.get("id")
                if s["op"] == NUMBER:
                    n = self._add(NUMBER, s["value"], s.get("name"), x, y, nid)
                else:
                    n = self.add_op(s["op"], s.get("name"), x, y, nid, s.get("params"))
                added.append(n)
                if s.get("role"):
                    self.set_role(n, s["role"])
            for w in wires:
                if isinstance(w, Wire):
                    src, dst, port, sp = w.source, w.target, w.port, w.source_port
                else:
                    src, dst, port = w[0], w[1], w[2]
                    sp = w[3] if len(w) > 3 else 0
                self.connect(src, dst, port, sp)
                made.append((self.resolve(src), self.resolve(dst), port, sp))
        except BaseException:
            for n in reversed(added):
                if n in self.nx:
                    self.remove_node(n)
            for s, t, p, _sp in made:  # wires between nodes that were there before
                if s in self.nx and t in self.nx and self.nx.has_edge(s, t, p):
                    self.disconnect(t, p)
            raise
        finally:
            self._muted = was_muted
        if added or made:
            self._emit(NodesInserted(tuple(added), tuple(made)))
        return added

    def check_remove(self, ref) -> int:
        """Raise the GraphError that removing this node would raise; its id otherwise."""
        where = _elsewhere(self, ref)
        if where:
            g, (n,) = where
            return self._address(g, g.check_remove(n))
        n = self.resolve(ref)
        if self.nx._node[n]["op"] in PLACEHOLDERS:
            raise CompositeError(
                f"node {self.label(n)} is a port of {self._definition.name!r}; its ports change "
                "with expose_as_input (and its inverse), not by deleting the port's node"
            )
        return n

    def remove_node(self, ref) -> None:
        """Remove a node and every wire touching it (wires are removed first, with events)."""
        where = _elsewhere(self, ref)
        if where:
            return where[0].remove_node(where[1][0])
        n = self.check_remove(ref)
        for _s, t, p in list(self.nx.in_edges(n, keys=True)) + list(self.nx.out_edges(n, keys=True)):
            self.disconnect(t, p)
        if self._output == n:
            self.set_output(None)  # the output follows the graph again
        name = self.nx.nodes[n]["name"]
        if name:
            del self._names[name]
        self.nx.remove_node(n)
        self._invalidate(topology=True)
        self._emit(NodeRemoved(n))

    def check_connect(self, source, target, port: int, source_port: int = 0, *,
                      replacing: bool = False) -> tuple[int, int]:
        """Raise the GraphError that ``connect(source, target, port, source_port)`` would
        raise; return the resolved (source, target) ids otherwise. ``replacing=True`` asks
        about dropping a wire on a used port (the old wire is disconnected first), so
        PortInUseError is not raised.

        >>> g = Graph.from_expression("a*b", a=1, b=2)
        >>> g.check_connect("a", 3, 0, replacing=True)
        (1, 3)
        >>> g.check_connect(3, "a", 0)
        Traceback (most recent call last):
        ...
        engine.core.errors.PortError: node a is a number and has no inputs
        >>> g.check_connect("a", 3, 0, source_port=1, replacing=True)
        Traceback (most recent call last):
        ...
        engine.core.errors.PortError: node a has one output, port 0; there is no output port 1
        """
        where = _elsewhere(self, source, target)
        if where:
            g, (s, t) = where
            s, t = g.check_connect(s, t, port, source_port, replacing=replacing)
            return self._address(g, s), self._address(g, t)
        s = self.resolve(source)
        t = self.resolve(target)
        op = self.nx.nodes[t]["op"]
        arity = self._arity(t)
        if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port < arity:
            if arity == 0:
                raise PortError(f"node {self.label(t)} is a number and has no inputs")
            raise PortError(f"node {self.label(t)} ({op}) has ports 0..{arity - 1}, not {port!r}")
        self._check_output_port(s, source_port)
        # The raw adjacency dicts: building in_edges() views per call dominates big builds.
        for src, ports in self.nx._pred[t].items():
            if port in ports and not replacing:
                raise PortInUseError(
                    f"port {port} of node {self.label(t)} is already wired from {self.label(src)}"
                )
        if s == t:
            raise CycleError(f"node {self.label(s)} cannot feed itself")
        # A fresh target (no consumers) cannot reach anything: skip the search.
        if self.nx._succ[t] and nx.has_path(self.nx, t, s):
            raise CycleError(
                f"wiring {self.label(s)} into {self.label(t)} would make a cycle "
                f"({self.label(t)} already feeds {self.label(s)})"
            )
        return s, t

    def connect(self, source, target, port: int, source_port: int = 0) -> None:
        """Wire output ``source_port`` of ``source`` (0, the only one of a number or an op)
        into input ``port`` of ``target``.

        Raises PortError (no such port on either end), PortInUseError (port already wired)
        or CycleError.
        """
        where = _elsewhere(self, source, target)
        if where:
            g, (s, t) = where
            return g.connect(s, t, port, source_port)
        s, t = self.check_connect(source, target, port, source_port)
        if source_port:
            self.nx.add_edge(s, t, key=port, source_port=source_port)
        else:  # absent means 0: no attribute dict entry per wire on big graphs
            self.nx.add_edge(s, t, key=port)
        self._invalidate(topology=True)
        self._emit(EdgeAdded(t, s, port, source_port))

    def check_disconnect(self, target, port: int) -> tuple[int, int]:
        """Raise the GraphError that ``disconnect(target, port)`` would raise; return
        (source, target) of the wire otherwise."""
        where = _elsewhere(self, target)
        if where:
            g, (t,) = where
            s, t = g.check_disconnect(t, port)
            return self._address(g, s), self._address(g, t)
        t = self.resolve(target)
        if not isinstance(port, bool) and isinstance(port, int):
            for s, ports in self.nx._pred[t].items():
                if port in ports:
                    return s, t
        raise PortNotConnectedError(f"port {port!r} of node {self.label(t)} is not connected")

    def disconnect(self, target, port: int) -> tuple[int, int]:
        """Remove the wire into ``port`` of ``target``; returns (source, source_port), the
        output it came from, so that ``connect(source, target, port, source_port)`` undoes it."""
        where = _elsewhere(self, target)
        if where:
            g, (t,) = where
            s, sp = g.disconnect(t, port)
            return self._address(g, s), sp
        s, t = self.check_disconnect(target, port)
        sp = self.nx._pred[t][s][port].get("source_port", 0)
        self.nx.remove_edge(s, t, key=port)
        self._invalidate(topology=True)
        self._emit(EdgeRemoved(t, s, port, sp))
        return s, sp

    def check_set_value(self, ref, value) -> tuple[int, float]:
        """Raise the GraphError that ``set_value(ref, value)`` would raise; return the node id
        and the value (a float, or an array: see :func:`check_value`) otherwise."""
        where = _elsewhere(self, ref)
        if where:
            g, (n,) = where
            n, value = g.check_set_value(n, value)
            return self._address(g, n), value
        n = self.resolve(ref)
        op = self.nx.nodes[n]["op"]
        if op != NUMBER:
            raise InvalidValueError(f"node {self.label(n)} is a {op} op; only numbers have values")
        return n, check_value(value)

    def set_value(self, ref, value) -> None:
        """Change a number node's value (a number or an array, whose shape may change too);
        re-evaluation reuses the compiled tape. A constant of a definition (``("neuron",
        "w")``, ``"neuron.w"``) changes for every instance."""
        where = _elsewhere(self, ref)
        if where:
            return where[0].set_value(where[1][0], value)
        n, value = self.check_set_value(ref, value)
        attrs = self.nx.nodes[n]
        old = attrs["value"]
        attrs["value"] = value
        if self._tape is not None:
            self._tape.set_number(self._tape.index[n], value)
        self._invalidate()
        self._emit(ValueChanged(n, old, value))

    def check_set_params(self, ref, params) -> tuple[int, dict]:
        """Raise the GraphError that ``set_params(ref, params)`` would raise; return the node
        id and the complete params dict (defaults filled in) otherwise.

        >>> g = Graph(); s = g.add_op("sum"); g.check_set_params(s, {"axis": 1})
        (1, {'axis': 1, 'keepdims': False})
        """
        where = _elsewhere(self, ref)
        if where:
            g, (n,) = where
            n, params = g.check_set_params(n, params)
            return self._address(g, n), params
        n = self.resolve(ref)
        op = self.nx.nodes[n]["op"]
        if op not in OPS and kinds.get(op).check_params is not None:
            return n, self._check_kind_params(op, params)
        if op not in OPS or op == NUMBER or not OPS[op].params:
            raise InvalidValueError(f"node {self.label(n)} ({op}) has no parameters")
        return n, self._check_params(op, params)

    def set_params(self, ref, params) -> None:
        """Change an op node's parameters (keys the row declares; the rest keep defaults).
        An axis that does not fit the input is not refused here: evaluation marks it as a
        problem on the node, as for any shape mismatch."""
        where = _elsewhere(self, ref)
        if where:
            return where[0].set_params(where[1][0], params)
        n, params = self.check_set_params(ref, params)
        attrs = self.nx.nodes[n]
        old = attrs.get("params")
        attrs["params"] = params
        if attrs["op"] not in OPS:  # a kind compiles its attributes into slots: compile again
            self._invalidate(topology=True)
        else:
            if self._tape is not None:
                self._tape.params[self._tape.index[n]] = params
            self._invalidate()
        self._emit(ParamsChanged(n, old, params))

    def params(self, ref) -> dict:
        """An op node's parameters (a copy; {} for rows without any and for numbers)."""
        g, n = self._at(ref)
        return dict(g.nx._node[n].get("params") or {})

    def shape(self, ref, port: int = 0) -> tuple | None:
        """The shape of the node's value (at output ``port``): () for a number, (2, 3) for an
        array, None where it has no value (unconnected, or a shape problem)."""
        v = self.value(ref, port)
        return None if v is None else arrays.shape_of(v)

    def summary(self, ref) -> str:
        """Short text for the node's value that is safe for any value: ``2.5``,
        ``2×3 array, min -1, max 4``, ``—`` for none."""
        return arrays.summary(self.value(ref))

    def has_arrays(self) -> bool:
        """Whether any number holds an array or any op is a tensor row (instances' insides
        included)."""
        if self._definition is not None:  # a body: read its nodes (it has no tape of its own)
            return any(
                type(a.get("value")) is np.ndarray or (a["op"] in OPS and OPS[a["op"]].tensor)
                for a in self.nx._node.values()
            )
        return self.tape().has_arrays

    def seed_note(self) -> str | None:
        """When the evaluated output is an array, the sentence saying backward starts from
        ones (the gradient of its sum); None for a scalar output."""
        r = self._res()
        return None if r.root is None else autodiff.seed_note(r.values[r.root])

    def check_set_name(self, ref, name) -> tuple[int, str | None]:
        """Raise the GraphError that ``set_name(ref, name)`` would raise; return the node id and
        the cleaned name (None for no name) otherwise."""
        where = _elsewhere(self, ref)
        if where:
            g, (n,) = where
            n, name = g.check_set_name(n, name)
            return self._address(g, n), name
        n = self.resolve(ref)
        return n, self._check_new_name(name, n)

    def set_name(self, ref, name) -> None:
        """Rename a node (None or "" removes the name). Names are unique (within a
        definition's body, among its nodes)."""
        where = _elsewhere(self, ref)
        if where:
            return where[0].set_name(where[1][0], name)
        n, name = self.check_set_name(ref, name)
        attrs = self.nx.nodes[n]
        old = attrs["name"]
        if old:
            del self._names[old]
        attrs["name"] = name
        if name:
            self._names[name] = n
        self._emit(NameChanged(n, old, name))

    def check_set_position(self, ref, x, y) -> tuple[int, float, float]:
        """Raise the GraphError that ``set_position(ref, x, y)`` would raise; return the node
        id and the coordinates as floats otherwise."""
        where = _elsewhere(self, ref)
        if where:
            g, (n,) = where
            n, x, y = g.check_set_position(n, x, y)
            return self._address(g, n), x, y
        return self.resolve(ref), check_number(x, "x"), check_number(y, "y")

    def set_position(self, ref, x, y) -> None:
        """Move a node on the canvas. Does not affect evaluation."""
        where = _elsewhere(self, ref)
        if where:
            return where[0].set_position(where[1][0], x, y)
        n, x, y = self.check_set_position(ref, x, y)
        attrs = self.nx.nodes[n]
        old = (attrs["x"], attrs["y"])
        attrs["x"], attrs["y"] = x, y
        self._emit(NodeMoved(n, old, (x, y)))

    def check_set_output(self, ref, port: int = 0) -> int | None:
        """Raise the GraphError that ``set_output(ref, port)`` would raise (no such node, no
        such output port); the node id (None for ``ref`` None) otherwise."""
        if self._definition is not None:
            raise CompositeError(f"the body of {self._definition.name!r} has no output of its own; "
                                 "its outputs are its output ports")
        if ref is None:
            return None
        if type(ref) is not int and self._composite_ref(ref):
            raise CompositeError(f"{ref!r} is inside a definition; the output is a node of the top level")
        n = self.resolve(ref)
        self._check_output_port(n, port)
        return n

    def set_output(self, ref, port: int = 0) -> None:
        """Pin output ``port`` of node ``ref`` as the output backward starts from; None
        unpins it, and the output follows the graph again (see :meth:`output_node`).
        Emits OutputChanged.

        >>> g = Graph.from_expression("y = x*x + 1; z = 2*x; y", x=3.0)
        >>> g.set_output("z"); g.output_node() == g.resolve("z")
        True
        >>> g.set_output(None); g.pinned_output, g.output == g.resolve("y")
        (None, True)
        """
        n = self.check_set_output(ref, port)
        self._group_pin = None
        old, old_port = self._output, self._output_port
        self._output = n
        self._output_port = port if n is not None else 0
        self._invalidate()
        self._emit(OutputChanged(n, old, self._output_port, old_port))

    def layout(self) -> dict:
        """Layered left-to-right positions for every node (see :mod:`engine.drawing.layout`);
        nothing is moved: apply them with set_position (the GUI does, as one undo step)."""
        # Imported here so module-level imports run one way: drawing -> core.
        from ..drawing.layout import layered_positions

        shapes = None
        if self._definition is None and self.has_arrays():
            shapes = {n: self.shape(n) for n in self.nx}
        return layered_positions(self.nx, shapes=shapes)

    def apply_layout(self) -> None:
        """Move every node to :meth:`layout`'s position at once (for freshly built graphs; the
        GUI moves nodes with set_position, as one undo step). Emits one LayoutApplied."""
        moved = 0
        for n, (x, y) in self.layout().items():
            self.nx.nodes[n]["x"], self.nx.nodes[n]["y"] = x, y
            moved += 1
        self._emit(LayoutApplied(moved))

    # ------------------------------------------------------------------ evaluation

    def tape(self) -> autodiff.Tape:
        """The compiled tape, rebuilt only after a topology change. Instances are inlined:
        their slots are keyed by instance path, constants by (definition, id), and
        ``tape.calls`` holds a :class:`~engine.core.composites.CallRecord` per instance path."""
        if self._tape is None:
            if self._definition is not None:
                raise CompositeError(
                    f"the body of {self._definition.name!r} is not evaluated on its own: read its "
                    "values through an instance, (instance, ..., node), or its constants, "
                    f"('{self._definition.name}', node)"
                )
            self._tape = autodiff.compile_tape(self.nx)
        return self._tape

    def _evaluate(self, root_ref) -> _Result:
        tape = self.tape()
        errors: dict = {}
        vals = autodiff.forward(tape, errors)
        if root_ref is None:
            return _Result(tape, vals, None, [None] * len(vals), errors=errors)
        root = tape.slot(*root_ref)
        return _Result(tape, vals, root, autodiff.backward(tape, vals, root), root_ref, errors=errors)

    def evaluate(self) -> None:
        """Run forward and backward from the document's output (if there is one); emit
        ``evaluated``. Queries call this lazily, so calling it is only needed for the event."""
        self._result = self._evaluate(self.output_ref())
        self._emit(Evaluated())

    def backward(self, output=None, port: int = 0) -> None:
        """Forward, then backward from output ``port`` of ``output`` (default: the
        document's output, see :meth:`output_node`). Raises NoOutputError only when there is
        no node to start from (an empty graph). The document's output is not changed.

        >>> g = Graph.from_expression("x*x", x=3.0); g.backward(); g.grad("x")
        6.0
        """
        if output is None:
            root = self.output_ref()
            if root is None:
                raise NoOutputError(
                    "no output: the graph is empty" if not len(self)
                    else "no output: every node without consumers belongs to a backward graph; set an output"
                )
        else:
            n = self.resolve(output)
            if not isinstance(n, int):
                raise CompositeError(f"{output!r} is inside a definition; backward starts from a node "
                                     "of the top level (an instance's output port, say)")
            root = (n, self._check_output_port(n, port))
        self._result = self._evaluate(root)
        self._emit(Evaluated())

    def _res(self) -> _Result:
        if self._result is None:
            self._result = self._evaluate(self.output_ref())
        return self._result

    def _slot(self, r: _Result, ref, port) -> int:
        n = self.resolve(ref)
        if port:
            self._check_output_port(n, port)
            return r.tape.outputs[(n, port)]
        return r.tape.index[n]

    def value(self, ref, port: int = 0):
        """The value at output ``port`` of the node from the last forward pass (None if an
        input is unconnected). Inside an instance (``(instance, ..., id)``): that instance's;
        a constant (``"neuron.w"``): its value; another node of a definition: None (it has
        one value per instance)."""
        r = self._res()
        if type(ref) is not int and self._composite_ref(ref):
            return self._value_at(r, self.locate(ref), port)
        return r.values[self._slot(r, ref, port)]

    def grad(self, ref, port: int = 0):
        """d(output)/d(output ``port`` of the node), or None where it has no path to the
        output. An instance's: the gradient arriving at that output port. Inside an
        instance: that instance's (a constant's share of it); a constant of a definition
        (``"neuron.w"``): the sum over every instance (weight tying)."""
        r = self._res()
        if type(ref) is not int and self._composite_ref(ref):
            return self._grad_at(r, self.locate(ref), port)
        n = self.resolve(ref)
        if self.nx._node[n]["op"] == CALL:
            self._check_output_port(n, port)
            return self._grad_out(r, (n,), port)
        return r.grads[self._slot(r, n, port)]

    def _by_node(self, r: _Result, per_slot: list) -> dict:
        if not r.tape.kinds:
            return dict(zip(r.tape.order, per_slot))
        index = r.tape.index
        return {n: per_slot[index[n]] for n in self.nx}

    def _grads_by_node(self, r: _Result) -> dict:
        out = self._by_node(r, r.grads)
        if r.tape.calls:
            for n, a in self.nx._node.items():
                if a["op"] == CALL:
                    out[n] = self._grad_out(r, (n,), 0)
        return out

    def values(self) -> dict:
        """Every node's value (output port 0) by id."""
        r = self._res()
        return self._by_node(r, r.values)

    def grads(self) -> dict:
        """Every node's gradient (output port 0) by id (None off the output's ancestors)."""
        r = self._res()
        return self._grads_by_node(r)

    def evaluation(self) -> tuple:
        """``(tape, values, grads, root)`` of the last evaluation: lists aligned with
        ``tape.order`` and the output's tape slot (None without an output). Read only;
        views compare two of them to redraw just what changed.

        >>> g = Graph.from_expression("x*x", x=3.0); tape, vals, grads, root = g.evaluation()
        >>> vals[root], grads[tape.index[g.resolve("x")]]
        (9.0, 6.0)
        """
        r = self._res()
        return r.tape, r.values, r.grads, r.root

    def evaluated_output(self) -> int | None:
        """The node the current gradients are relative to."""
        r = self._res()
        return None if r.root_ref is None else r.root_ref[0]

    def evaluated_output_ref(self) -> tuple[int, int] | None:
        """(node, port) the current gradients are relative to."""
        return self._res().root_ref

    def _wire_amount(self, r: _Result, target: int, port: int):
        """What backward sent along the wire into input ``port`` of ``target`` (None: nothing)."""
        if self.nx._node[target]["op"] == CALL:
            return self._grad_in(r, (target,), port)
        sent = r.sent
        total = None
        for slot, slot_port in r.tape.wire_reads(target, port):
            s = sent[slot]
            if s is not None:
                total = s[slot_port] if total is None else total + s[slot_port]
        return total

    def contributions(self, ref, port: int = 0) -> list[tuple[int, int, float]]:
        """The terms that sum to ``grad(ref, port)``: (consumer, consumer's port, amount) for
        each wire out of output ``port``.

        >>> g = Graph.from_expression("a*a", a=3.0)
        >>> sorted(g.contributions("a"))
        [(2, 0, 3.0), (2, 1, 3.0)]

        Inside an instance, the consumers are body ids of its definition; for a constant of a
        definition (``"neuron.w"``) the terms are one per instance: ``(instance, None,
        amount)``, the instance a top-level id or an instance path.
        """
        if type(ref) is not int and self._composite_ref(ref):
            return self._contributions_at(self._res(), self.locate(ref), port)
        n = self.resolve(ref)
        self._check_output_port(n, port)
        r = self._res()
        out = []
        for t, ports in self.nx._succ[n].items():
            for p, d in ports.items():
                if d.get("source_port", 0) == port:
                    amount = self._wire_amount(r, t, p)
                    if amount is not None:
                        out.append((t, p, amount))
        return out

    def edge_grad(self, source, target, port):
        """The gradient sent back along one wire, or None if none flows (or there is no such
        wire). Inside an instance, give both ends as instance paths."""
        if any(type(r) is not int and self._composite_ref(r) for r in (source, target)):
            src, t = self.locate(source), self.locate(target)
            if not (isinstance(src, tuple) and isinstance(t, tuple) and isinstance(t[0], int)
                    and src[:-1] == t[:-1]):
                return None
            g = self._ctx_graph(t[:-1])
            if isinstance(port, bool) or not isinstance(port, int) or not g.nx.has_edge(src[-1], t[-1], port):
                return None
            return self._amount_into(self._res(), t[:-1], t[-1], port)
        src, t = self.resolve(source), self.resolve(target)
        if isinstance(port, bool) or not isinstance(port, int) or not self.nx.has_edge(src, t, port):
            return None
        return self._wire_amount(self._res(), t, port)

    def why_no_value(self, ref, port: int = 0) -> str:
        """Why the node (output ``port``) has no value: its own problem, or, when the
        trouble starts upstream, that node's label and problem (an unconnected input, a shape
        problem such as a class target out of range) rather than "an input has a problem
        upstream". Empty when it has a value.

        >>> g = Graph.from_expression("y = log(a * b); y + 1", a=1.0, b=2.0); g.disconnect(3, 1)
        (2, 0)
        >>> g.why_no_value(3), g.why_no_value(6)
        ("input 'b' is not connected", "mul#3: input 'b' is not connected")
        """
        n = self.resolve(ref)
        if self.value(n, port) is not None:
            return ""
        r = self._res()
        tape, vals = r.tape, r.values
        slot = self._slot(r, n, port)
        # The earliest slot, in topological order, of this one's ancestors that has no
        # value while every input it has does: that is where the missing value comes from.
        reach = [False] * (slot + 1)
        reach[slot] = True
        origin = slot
        for i in range(slot, -1, -1):
            if reach[i]:
                ps = [j for j in tape.parents[i] if j is not None]
                for j in ps:
                    reach[j] = True
                if vals[i] is None and all(vals[j] is not None for j in ps):
                    origin = i
        why = autodiff.problem(tape, vals, origin, r.errors) or "it has no value"
        if origin == slot:
            return why
        key = tape.order[origin]
        return f"{self.label(key) if key in self.nx else key}: {why}"

    def problems(self) -> dict[int, str]:
        """Nodes whose value is unusable, with the reason: unconnected inputs, NaN, inf."""
        r = self._res()
        t = r.tape
        out = {}
        slots = enumerate(t.order) if not t.kinds else ((t.index[n], n) for n in self.nx)
        for i, n in slots:
            why = autodiff.problem(t, r.values, i, r.errors)
            if why:
                out[n] = why
        return out

    def steps(self, output=None, port: int = 0):
        """The backward pass one node at a time (see :func:`engine.core.autodiff.steps`), with node
        ids instead of tape indices: ``(node, grad, [(port, input, amount, before, after)])``.
        Slots a node kind added are named by the keys it gave them."""
        if output is not None:
            n = self.resolve(output)
            root = (n, self._check_output_port(n, port))
        else:
            root = self.output_ref()
        if root is None:
            return []
        r = self._res()
        t = r.tape
        order = t.order
        return [
            (order[i], g, [(p, order[j], a, b, c) for p, j, a, b, c in sends])
            for i, g, sends in autodiff.steps(t, r.values, t.slot(*root))
        ]

    # ------------------------------------------------------------------ higher order

    def role(self, ref) -> str | None:
        """The node's role: ``"backward"`` for a node of a backward graph, else None."""
        return self.nx.nodes[self.resolve(ref)].get("role")

    def check_set_role(self, ref, role) -> tuple[int, str | None]:
        """Raise the GraphError that ``set_role(ref, role)`` would raise; return the node id
        and the role otherwise."""
        n = self.resolve(ref)
        if role is not None and role not in ROLES:
            raise InvalidValueError(
                f"unknown role {role!r} for node {self.label(n)}; roles: {', '.join(ROLES)}"
            )
        return n, role

    def set_role(self, ref, role) -> None:
        """Tag a node as part of a backward graph (``"backward"``) or untag it (None); kept in
        the file, no effect on evaluation."""
        n, role = self.check_set_role(ref, role)
        attrs = self.nx.nodes[n]
        old = attrs.get("role")
        if old == role:
            return
        if role is None:
            del attrs["role"]
        else:
            attrs["role"] = role
        self._emit(RoleChanged(n, old, role))

    def gradient_graph(self, output=None, wrt=None):
        """The gradient computation as a Graph: ``(graph, {wrt_node: grad_node})``.

        ``graph`` is a copy of this document (same ids; output pinned) plus the backward
        pass built from ordinary ops, each backward node tagged ``role = "backward"`` and
        placed below the document, mirrored to run right to left. ``wrt``: a node, a list,
        or None for every number the output depends on; a node without a path to the output
        maps to None. See :func:`engine.core.higher_order.gradient_graph` for the full result
        (contributions per wire, saved forward values, positions).

        >>> g = Graph.from_expression("y = x * x", x=3.0)
        >>> h, grads = g.gradient_graph("y", "x")
        >>> h.value(grads[g.resolve("x")]), h.role(grads[g.resolve("x")])
        (6.0, 'backward')
        """
        from .higher_order import gradient_graph

        r = gradient_graph(self, output, wrt)
        return r.graph, r.grads

    def nonfinite_origin(self, ref, output=None):
        """Where a node's non-finite value or gradient was born: ``(origin_node, reason)``,
        or None when both are finite (or absent).

        The value is traced first: the origin is the first node, in evaluation order, among
        the node and what it depends on, whose inputs are finite and whose result is not
        (``log of −1``, ``0/0``, ``exp overflowed at 800``). Else the gradient, along the paths
        from the node to the output (``output``: default the evaluated one): the first node in
        backward order that sent a non-finite amount although its own gradient was finite,
        or whose gradient became non-finite by summing finite amounts (the accumulating
        node). Reasons use the wording of :meth:`problems`.

        >>> g = Graph.from_expression("y = log(x - 3) * 2", x=2.0)
        >>> o, why = g.nonfinite_origin("y"); g.op(o), why
        ('log', 'log of −1')
        """
        from .nonfinite import origin

        n = self.resolve(ref)
        r = self._res()
        if output is not None and self.resolve(output) != self.evaluated_output():
            r = self._evaluate((self.resolve(output), 0))  # a private evaluation: no event
        return origin(r.tape, r.values, r.grads, r.root, r.tape.index[n], lambda: r.sent)

    def __repr__(self):
        return f"<Graph {len(self)} nodes, {self.nx.number_of_edges()} edges>"
