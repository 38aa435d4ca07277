"""The Graph's composite half: definitions, instances, addressing inside them, and the edits
that create, change and remove them (each with a ``check_*`` twin and an exact inverse).

Addresses (DESIGN §7 "Composites"):

- ``7`` or ``"loss"``: a node of the document's top level (as always);
- ``("neuron", 3)`` or ``("neuron", "w")``: node 3 (or the node named w) of definition
  ``neuron``'s body. Every edit method takes this form, and an edit there changes every
  instance; the events it causes carry ``definition="neuron"``;
- ``"neuron.w"``: the same as ``("neuron", "w")``, for a named constant;
- ``(5, 3)``, ``(5, 2, 3)``: node 3 as computed inside instance 5 (inside instance 2 of
  instance 5's body, ...): one instance's live value, gradient and contributions. Edits given
  this form edit the definition (they cannot change one instance alone: see make_unique).

A constant (a number in a body) has one value for every instance and, at its definition
address, the gradient summed over all of them; its contributions there are one term per
instance, ``(instance, None, amount)`` (``instance`` a top-level id, or an instance path
tuple when the definition is nested).
"""

from __future__ import annotations

import dataclasses
import math
from collections import Counter
from types import MappingProxyType

from . import autodiff
from .composites import (
    CALL,
    INPUT,
    OUTPUT,
    PLACEHOLDERS,
    CompositeError,
    Definition,
    DefinitionInUseError,
    DefinitionNotFoundError,
    Port,
    call_graph,
    check_calls,
    check_definitions,
    expand,
    multiplicity,
)
from .errors import GraphError, InvalidNameError, InvalidValueError, NodeNotFoundError, PortError
from .events import (
    DefinitionAdded,
    DefinitionRemoved,
    DefinitionRenamed,
    InstanceChanged,
    NodeAdded,
    NodeRemoved,
    ParamsChanged,
    PortsChanged,
    ValueChanged,
)
from .grouping import plan_group, plan_ungroup
from .ops import NUMBER

# ---------------------------------------------------------------------------- node kinds


def _compile_call(build, n, attrs, inputs):
    calls = build.tape.calls
    return expand(build, attrs["definition"], (n,), tuple(inputs), calls)


def _not_compiled(build, n, attrs, inputs):
    raise CompositeError(f"a port placeholder ({attrs['op']}) exists only inside a definition's body")


def _register_kinds():
    from . import kinds

    if CALL in kinds.KINDS:
        return
    kinds.register(kinds.NodeKind(
        CALL,
        # Asked without attributes (by op name only, as node geometry does), an instance has
        # no ports to tell: its definition says how many.
        inputs=lambda a: tuple(a["definition"].input_names) if "definition" in a else (),
        outputs=lambda a: tuple(a["definition"].output_names) if "definition" in a else (),
        compile=_compile_call,
        doc="an instance of a definition (a composite)",
    ))
    kinds.register(kinds.NodeKind(INPUT, inputs=lambda a: (), outputs=lambda a: ("x",),
                                  compile=_not_compiled, doc="an input port of a definition"))
    kinds.register(kinds.NodeKind(OUTPUT, inputs=lambda a: ("x",), outputs=lambda a: (),
                                  compile=_not_compiled, doc="an output port of a definition"))


_register_kinds()


def check_definition_name(name) -> str:
    """A definition's name: a valid node name without '.' (which separates a definition from
    a constant's name, ``neuron.w``)."""
    from .groups import check_group_name

    return check_group_name(name)


def _add(a, b):
    if a is None:
        return b
    if b is None:
        return a
    return a + b


class Composites:
    """Mixed into :class:`engine.core.graph.Graph`: see the module docstring."""

    # set in Graph.__init__ through _init_composites
    _defs: dict
    _owner = None  # the document a definition's body belongs to (None: this is a document)
    _definition = None  # the Definition whose body this graph is

    def _init_composites(self):
        self._defs = {}
        self._group_pin = None  # the instance group() pinned the output on, to unpin on ungroup

    # ------------------------------------------------------------------ the registry

    def _root(self):
        return self._owner if self._owner is not None else self

    @property
    def definitions(self):
        """Definition name -> :class:`~engine.core.composites.Definition` (read only; change
        them through the edit methods)."""
        return MappingProxyType(self._root()._defs)

    def definition(self, name) -> Definition:
        """The definition called ``name``; DefinitionNotFoundError if there is none."""
        defs = self._root()._defs
        if isinstance(name, Definition):
            name = name.name
        d = defs.get(name) if isinstance(name, str) else None
        if d is None:
            known = ", ".join(sorted(defs)) or "none"
            raise DefinitionNotFoundError(f"no definition named {name!r} (definitions: {known})")
        return d

    def definition_of(self, ref) -> Definition:
        """The Definition instance ``ref`` (any address) uses; CompositeError for a node that
        is not an instance."""
        g, n = self._at(ref)
        a = g.nx._node[n]
        if a["op"] != CALL:
            raise CompositeError(f"node {self.label(ref)} is not an instance of a definition")
        return a["definition"]

    def instances(self, name) -> list:
        """Every instance of definition ``name``: top-level ids, and ``(definition, id)`` for
        instances inside other definitions' bodies."""
        root = self._root()
        d = root.definition(name)
        out = [n for n, a in root.nx._node.items() if a["op"] == CALL and a["definition"] is d]
        for other in root._defs.values():
            for n, a in other.body.nx._node.items():
                if a["op"] == CALL and a["definition"] is d:
                    out.append((other.name, n))
        return out

    def _top_counts(self) -> Counter:
        return Counter(a["definition"].name for a in self.nx._node.values() if a["op"] == CALL)

    def inlined_size(self) -> int:
        """How many slots the tape has once every instance is inlined."""
        root = self._root()
        if not root._defs:
            return len(root.nx)
        top = root._top_counts()
        return check_definitions(root._defs, top, len(root.nx) - sum(top.values()))

    def _limits(self, calls=None, top=None, top_slots=None, size=True) -> None:
        """Refuse what an edit would make of the registry: recursion, nesting past 64 levels
        and (``size``) an inlined tape past 2,000,000 nodes. ``calls`` overrides some
        definitions' callees (name -> Counter), ``top`` the top level's instance counts."""
        root = self._root()
        graph = call_graph(root._defs)
        if calls:
            graph.update({k: Counter({c: n for c, n in v.items() if n > 0}) for k, v in calls.items()})
        if not size:
            check_calls(graph)
            return
        counts = root._top_counts()
        if top_slots is None:
            top_slots = len(root.nx) - sum(counts.values())
        check_definitions(root._defs, counts if top is None else top, top_slots, graph)

    def _check_growth(self, extra: int) -> None:
        """Refuse adding ``extra`` nodes here (a body adds them to every inlined instance)."""
        root = self._root()
        if not root._defs:
            return
        size = root.inlined_size()
        times = 1
        if self._definition is not None:
            top = root._top_counts()
            times = multiplicity(root._defs, top)[self._definition.name]
        from .composites import MAX_INLINED

        if size + extra * times > MAX_INLINED:
            where = f" ({times:,} instance(s) of {self._definition.name!r})" if times > 1 else ""
            raise CompositeError(
                f"the document would inline to {size + extra * times:,} nodes{where}; "
                f"at most {MAX_INLINED:,} are allowed"
            )

    # ------------------------------------------------------------------ addresses

    def _composite_ref(self, ref) -> bool:
        """Whether ``ref`` addresses a node inside a definition (tuple, or "def.name")."""
        t = type(ref)
        if t is tuple:
            return True
        return t is str and "." in ref and ref not in self._names and self._owner is None

    def _dotted(self, ref: str):
        root = self._root()
        for k in range(len(ref)):
            if ref[k] == "." and ref[:k] in root._defs:
                return ref[:k], ref[k + 1:]
        raise NodeNotFoundError(f"no node named '{ref}'")

    def _at(self, ref):
        """``(graph, id)``: the graph holding node ``ref`` (this one or a definition's body)
        and the node's id in it. Instance paths give the innermost definition's body."""
        if type(ref) is int and ref in self.nx._node:
            return self, ref
        if not self._composite_ref(ref):
            return self, self.resolve(ref)
        addr = self.locate(ref)
        if isinstance(addr[0], str):
            body = self._root()._defs[addr[0]].body
            return body, addr[1]
        g = self._root()
        for k in addr[:-1]:
            g = g.nx._node[k]["definition"].body
        return g, addr[-1]

    def locate(self, ref):
        """The canonical address of ``ref`` (see the module docstring): an int for a top-level
        node, ``(definition, id)``, or an instance path ``(instance, ..., id)`` of ints.
        NodeNotFoundError (or DefinitionNotFoundError) when it names nothing.

        >>> from engine import Graph
        >>> g = Graph.from_expression("def f(x):\\n    w = 2.0\\n    return x * w\\nf(3.0) + f(4.0)")
        >>> g.locate("f.w"), g.locate(("f", "w"))
        (('f', 2), ('f', 2))
        """
        if type(ref) is tuple:
            if not ref:
                raise NodeNotFoundError("an empty address names no node")
            head = ref[0]
            defs = self._root()._defs
            if isinstance(head, str) and not head.strip().lstrip("-").isdecimal() and head in defs:
                if len(ref) != 2:
                    raise NodeNotFoundError(
                        f"a definition address is (definition, node), not {ref!r}; "
                        "use an instance path (instance, ..., node) for one instance's values"
                    )
                d = self._root()._defs[head]
                return head, d.body.resolve(ref[1])
            if len(ref) == 1:
                raise NodeNotFoundError(
                    f"no node {ref!r}: an instance path is (instance, ..., node), at least two parts"
                )
            g = self._root()
            path = []
            for k, part in enumerate(ref):
                n = g.resolve(part)
                path.append(n)
                if k < len(ref) - 1:
                    a = g.nx._node[n]
                    if a["op"] != CALL:
                        raise NodeNotFoundError(
                            f"{g.label(n)} is not an instance, so {ref!r} is not an instance path"
                        )
                    g = a["definition"].body
            return tuple(path)
        if type(ref) is str and self._composite_ref(ref):
            name, node = self._dotted(ref)
            return name, self._root()._defs[name].body.resolve(node)
        return self.resolve(ref)

    def _route(self, *refs):
        """``(graph, ids)``: the one graph that holds every node of ``refs`` (edits happen
        there), and their ids in it. Refs in different bodies are refused."""
        places = [self._at(r) for r in refs]
        g = places[0][0]
        for other, _n in places[1:]:
            if other is not g:
                raise GraphError(
                    f"{refs[0]!r} and {refs[1]!r} are in different places (top level or a "
                    "definition's body); a wire joins nodes of one graph"
                )
        return g, [n for _g, n in places]

    def _address(self, g, n):
        """The address of node ``n`` of graph ``g`` (this document or one of its bodies)."""
        return n if g._definition is None else (g._definition.name, n)

    # ------------------------------------------------------------------ body plumbing

    def _new_body(self, defn: Definition):
        body = type(self)()
        body._owner = self._root()
        body._definition = defn
        return body

    def _forward_event(self, ev) -> None:
        """A body's event, told to the document's subscribers with the definition's name."""
        root = self._owner
        name = self._definition.name
        if isinstance(ev, ValueChanged):
            tape = root._tape
            if tape is not None:
                slot = tape.index.get((name, ev.node))
                if slot is not None:
                    tape.set_number(slot, ev.new)
        elif isinstance(ev, ParamsChanged):
            self._definition.changed()
            root._invalidate(topology=True)
        if hasattr(ev, "definition"):
            ev = dataclasses.replace(ev, definition=name)
        root._emit(ev)

    def _body_invalidated(self, topology: bool) -> None:
        if topology:
            self._definition.changed()
        self._owner._invalidate(topology=topology)

    # ------------------------------------------------------------------ instances

    def check_add_instance(self, definition, name=None, x=0.0, y=0.0, node_id=None, inside=None) -> dict:
        """Raise the GraphError that :meth:`add_instance` would raise; return the cleaned
        attributes otherwise."""
        if inside is not None:
            return self._root().definition(inside).body.check_add_instance(definition, name, x, y, node_id)
        d = self.definition(definition)
        attrs = self.check_add(NUMBER, 0.0, name, x, y, node_id)
        attrs.pop("value")
        attrs["op"] = CALL
        attrs["definition"] = d
        if self._definition is not None:
            calls = self._definition.callees()
            calls[d.name] += 1
            self._limits({self._definition.name: calls})
        else:
            top = self._root()._top_counts()
            top[d.name] += 1
            self._limits(top=top)
        return attrs

    def add_instance(self, definition, name=None, x=0.0, y=0.0, node_id=None, inside=None):
        """Add an instance of ``definition`` (here, or in definition ``inside``'s body) and
        return its address. Refused when it would make a definition contain itself, nest more
        than 64 levels or inline to more than 2,000,000 nodes.

        >>> from engine import Graph
        >>> g = Graph.from_expression("def sq(x):\\n    return x * x\\nsq(3.0)")
        >>> i = g.add_instance("sq"); g.arity(i), g.output_arity(i)
        (1, 1)
        """
        if inside is not None:
            body = self._root().definition(inside).body
            return self._address(body, body.add_instance(definition, name, x, y, node_id))
        attrs = self.check_add_instance(definition, name, x, y, node_id)
        n = attrs.pop("id")
        self._insert(n, attrs)
        return n

    def _insert(self, n, attrs) -> None:
        """Add a node whose attributes are checked already; emits NodeAdded."""
        self.nx.add_node(n, **attrs)
        if attrs.get("name"):
            self._names[attrs["name"]] = n
        self._next_id = max(self._next_id, n + 1)
        self._invalidate(topology=True)
        self._emit(NodeAdded(n))

    def _wire(self, s, sp, t, p) -> None:
        """Add a wire known to be valid; emits EdgeAdded."""
        from .events import EdgeAdded

        if sp:
            self.nx.add_edge(s, t, key=p, source_port=sp)
        else:
            self.nx.add_edge(s, t, key=p)
        self._invalidate(topology=True)
        self._emit(EdgeAdded(t, s, p, sp))

    # ------------------------------------------------------------------ group / ungroup

    def check_group(self, nodes, name, node_id=None):
        """Raise the GraphError that :meth:`group` would raise; return the plan
        (:class:`~engine.core.grouping.GroupPlan`) otherwise."""
        nodes = list(nodes) if not isinstance(nodes, (str, bytes, int, tuple)) else nodes
        if isinstance(nodes, list) and nodes and any(self._composite_ref(r) for r in nodes):
            g, ids = self._route(*nodes)
            if g is not self:
                return g.check_group(ids, name, node_id)
        name = check_definition_name(name)
        root = self._root()
        plan = plan_group(self, nodes, name)
        if name in root._defs:
            # Allowed only for the very body it holds (undoing the ungroup of one of its
            # instances): then the selection becomes an instance of it again.
            from ..io.document import definition_dict

            def shape(d):  # what computes: not where nodes sit, nor what ports are called
                data = definition_dict(root, d)
                for node in data["nodes"]:
                    node.pop("x", None), node.pop("y", None)
                return data["nodes"], data["edges"], [p["node"] for p in data["inputs"]], [
                    p["node"] for p in data["outputs"]]

            if shape(self._plan_definition(plan)) != shape(root._defs[name]):
                raise CompositeError(f"a definition named {name!r} exists already; choose another name")
        inst = self._new_id(node_id)
        if inst in plan.nodes:
            raise GraphError(f"node id {inst} is used by the selection")
        calls = Counter(self.nx._node[n]["definition"].name for n in plan.nodes
                        if self.nx._node[n]["op"] == CALL)
        override = {name: calls}
        if self._definition is not None:
            own = self._definition.callees()
            own.subtract(calls)
            own[name] += 1
            override[self._definition.name] = own
        self._limits(override, size=False)  # grouping moves nodes; the inlined size stays
        return plan

    def _plan_definition(self, plan) -> Definition:
        """The definition a group plan makes: its body a copy of the selection with the same
        ids and names, a placeholder per port."""
        d = Definition(plan.name, None)
        d.body = self._new_body(d)
        body = d.body
        for n in plan.nodes:
            attrs = dict(self.nx._node[n])
            body.nx.add_node(n, **attrs)
            if attrs.get("name"):
                body._names[attrs["name"]] = n
        body._next_id = max(plan.nodes) + 1
        for s, sp, t, p in plan.internal:
            _raw_edge(body.nx, s, sp, t, p)
        for k, (pname, _src, uses) in enumerate(plan.inputs):
            ph = body._next_id
            x, y = plan.input_places[k]
            body.nx.add_node(ph, op=INPUT, name=None, x=x, y=y)
            body._next_id += 1
            d.inputs.append(Port(pname, ph))
            for t, p in uses:
                _raw_edge(body.nx, ph, 0, t, p)
        for k, (pname, (s, sp), _uses) in enumerate(plan.outputs):
            ph = body._next_id
            x, y = plan.output_places[k]
            body.nx.add_node(ph, op=OUTPUT, name=None, x=x, y=y)
            body._next_id += 1
            d.outputs.append(Port(pname, ph))
            _raw_edge(body.nx, s, sp, ph, 0)
        return d

    def group(self, nodes, name, node_id=None):
        """Make a definition ``name`` from the selected ``nodes`` and put one instance of it
        in their place; returns the instance's address. The exact inverse is
        :meth:`ungroup`. Nodes inside a definition (``("f", 3)``) are grouped within it.

        >>> from engine import Graph
        >>> g = Graph.from_expression("y = (a * b + 1) * a", a=2.0, b=3.0)
        >>> before = (g.value("y"), g.grad("a"))
        >>> inst = g.group([3, 4, 5], "f")
        >>> (g.value("y"), g.grad("a")) == before, g.definitions["f"].input_names
        (True, ['a', 'b'])
        """
        if isinstance(nodes, list) and nodes and any(self._composite_ref(r) for r in nodes):
            g, ids = self._route(*nodes)
            if g is not self:
                return self._address(g, g.group(ids, name, node_id))
        plan = self.check_group(nodes, name, node_id)
        inst = self._new_id(node_id)
        root = self._root()
        out_before = self.output_ref() if self._definition is None else None
        was_pinned = self._definition is None and self._output is not None
        # 1. The definition (or the existing one with this very body: ungroup undone).
        d = root._defs.get(plan.name)
        if d is None:
            d = self._plan_definition(plan)
            root._defs[d.name] = d
            self._emit(DefinitionAdded(d.name))
        # 2. The selection leaves (wires first, with events), the instance comes in.
        sel = set(plan.nodes)
        x, y = plan.position
        # Where each node stood in the graph's order, so that ungroup puts it back there.
        order = list(self.nx._node)
        place = {n: k for k, n in enumerate(order)}
        anchors = tuple((n, order[place[n] - 1] if place[n] else None) for n in sorted(sel, key=place.get))
        for n in plan.nodes:
            for t, p, _sp in list(_out_wires(self, n)):
                self.disconnect(t, p)
            for _s, _sp, p in list(_in_wires(self, n)):
                self.disconnect(n, p)
        for n in plan.nodes:
            self._drop(n)
        self._insert(inst, {"op": CALL, "definition": d, "name": None, "x": x, "y": y, "_anchors": anchors})
        first = min(place[n] for n in sel)
        before = [n for n in order[:first] if n not in sel]
        self._set_order(before + [inst] + [n for n in order[first:] if n not in sel])
        for k, (_pname, (s, sp), _uses) in enumerate(plan.inputs):
            self._wire(s, sp, inst, k)
        for k, (_pname, _src, outside) in enumerate(plan.outputs):
            for t, p in outside:
                if t not in sel:
                    self._wire(inst, k, t, p)
        # 3. The output stays where it was.
        if self._definition is None and out_before is not None and plan.output is not None:
            want = (inst, plan.output)
            if was_pinned or self.output_ref() != want:
                self.set_output(inst, plan.output)
                if not was_pinned:
                    self._group_pin = inst
        return inst

    def _restore_order(self, anchors, ids, restored, where) -> None:
        """Put restored nodes back where they stood in the graph's order before grouping
        (``anchors``: (node, the node before it) in that order), so the document reads back
        the same; the others (an instance never grouped here, an anchor since deleted) go
        where the instance stood, after ``where`` (None: first)."""
        moved = set(restored)
        rest = [n for n in self.nx._node if n not in moved]
        follow: dict = {}
        head: list = []
        placed: set = set()
        for n, a in anchors:
            n = ids.get(n, n)
            a = None if a is None else ids.get(a, a)
            if n not in moved:
                continue
            if a is None:
                head.append(n)
                placed.add(n)
            elif a in self.nx._node:
                follow.setdefault(a, []).append(n)
                placed.add(n)
        loose = [n for n in restored if n not in placed]
        if loose:
            if where is None or where not in self.nx._node or where in moved:
                head = loose + head
            else:
                follow.setdefault(where, []).extend(loose)
        order = []

        def emit(n):
            stack = [n]
            while stack:
                m = stack.pop()
                order.append(m)
                stack.extend(reversed(follow.pop(m, ())))

        for n in head:
            emit(n)
        for n in rest:
            emit(n)
        for leftovers in follow.values():
            order.extend(leftovers)
        self._set_order(order)

    def restore_order(self, order) -> None:
        """List the nodes in ``order`` (every node once): the order files list them in. Undo
        of an edit that removed and re-added nodes (the GUI's ungroup) puts it back with this,
        so the document reads back as it was. No event: nothing drawn or computed changes.

        >>> from engine import Graph
        >>> g = Graph.from_expression("a*b", a=1, b=2)
        >>> g.restore_order([3, 2, 1]); list(g.nx)
        [3, 2, 1]
        """
        order = list(order)
        if len(order) != len(self.nx) or set(order) != set(self.nx):
            raise ValueError("restore_order needs every node of the graph exactly once")
        self._set_order(order)

    def _set_order(self, order) -> None:
        """Reorder the graph's nodes (networkx keeps insertion order; the file lists nodes so)."""
        g = self.nx
        if order == list(g._node):
            return
        for d in (g._node, g._succ, g._pred):
            items = [(n, d[n]) for n in order]
            d.clear()
            d.update(items)

    def _drop(self, n) -> None:
        """Remove node ``n`` (no wires left) with its name; emits NodeRemoved."""
        name = self.nx._node[n].get("name")
        if name:
            del self._names[name]
        if self._output == n:
            self._output, self._output_port = None, 0
        self.nx.remove_node(n)
        self._invalidate(topology=True)
        self._emit(NodeRemoved(n))

    def check_ungroup(self, ref):
        """Raise the GraphError that :meth:`ungroup` would raise; return the plan otherwise."""
        if self._composite_ref(ref):
            g, (n,) = self._route(ref)
            if g is not self:
                return g.check_ungroup(n)
        n = self.resolve(ref)

        def new_id(used):
            k = max(self._next_id, max(self.nx._node, default=0) + 1)
            while k in self.nx._node or k in used:
                k += 1
            return k

        plan = plan_ungroup(self, n, self.nx._node, self._names, new_id)
        d = self.nx._node[n]["definition"]
        constants = len(d.constants())
        if constants and len(self._root().instances(d.name)) > 1:
            self._check_growth(constants)  # its constants become numbers of their own here
        return plan

    def ungroup(self, ref) -> dict:
        """Put instance ``ref``'s body back in its place (ids and names kept where free) and
        return ``{body id: new id}``; a definition left without instances is removed. The
        exact inverse of :meth:`group`.

        >>> from engine import Graph
        >>> g = Graph.from_expression("y = (a * b + 1) * a", a=2.0, b=3.0)
        >>> before = g.to_dict(); inst = g.group([3, 4, 5], "f")
        >>> ids = g.ungroup(inst); g.to_dict() == before, "f" in g.definitions
        (True, False)
        """
        if self._composite_ref(ref):
            g, (n,) = self._route(ref)
            if g is not self:
                return g.ungroup(n)
        plan = self.check_ungroup(ref)
        inst = plan.instance
        d = self.nx._node[inst]["definition"]
        pinned_by_group = self._group_pin == inst
        was_pinned_here = self._output == inst
        anchors = self.nx._node[inst].get("_anchors", ())
        order = list(self.nx._node)
        k = order.index(inst)
        where = order[k - 1] if k else None
        for t, p, _sp in list(_out_wires(self, inst)):
            self.disconnect(t, p)
        for _s, _sp, p in list(_in_wires(self, inst)):
            self.disconnect(inst, p)
        self._drop(inst)
        for node in plan.nodes:
            attrs = dict(node)
            n = attrs.pop("id")
            self._insert(n, attrs)
        self._restore_order(anchors, plan.ids, [node["id"] for node in plan.nodes], where)
        for s, sp, t, p in plan.wires:
            self._wire(s, sp, t, p)
        if self._definition is None and plan.output is not None:
            if pinned_by_group:
                self._group_pin = None
                self.set_output(None)
                if self.output_ref() != plan.output:
                    self.set_output(*plan.output)
            elif was_pinned_here:
                self.set_output(*plan.output)
        if not self.instances(d.name):
            self._remove_definition(d.name)
        return dict(plan.ids)

    # ------------------------------------------------------------------ definitions

    def definition_data(self, name) -> dict:
        """Definition ``name`` as document data (``{"inputs", "outputs", "nodes", "edges"}``,
        the format of a document's ``"definitions"`` entry): what :meth:`add_definition`
        takes back."""
        from ..io.document import definition_dict

        return definition_dict(self._root(), self.definition(name))

    def check_add_definition(self, name, data) -> dict:
        """Raise what :meth:`add_definition` would raise; the validated parts otherwise."""
        from ..io.document import read_definition

        name = check_definition_name(name)
        root = self._root()
        if name in root._defs:
            raise CompositeError(f"a definition named {name!r} exists already; choose another name")
        try:
            return read_definition(name, data, root._defs)
        except Exception as e:  # DocumentError: the data is refused as a document's would be
            raise CompositeError(str(e)) from None

    def add_definition(self, name, data) -> None:
        """Add definition ``name`` from document data (see :meth:`definition_data`): the
        inverse of :meth:`remove_definition`; emits DefinitionAdded."""
        parts = self.check_add_definition(name, data)
        root = self._root()
        d = root._make_definition(parts)
        root._defs[d.name] = d
        root._invalidate(topology=True)
        root._emit(DefinitionAdded(d.name))

    def check_adopt_definitions(self, other, names=None) -> list:
        """Raise what :meth:`adopt_definitions` would raise (``other`` not a Graph, an unknown
        name); the names it would bring otherwise."""
        if not isinstance(other, Composites):
            raise GraphError(f"definitions come from another Graph, not {type(other).__name__}")
        if names is None:
            return list(other.definitions)
        if isinstance(names, str):
            names = [names]
        return [other.definition(n).name for n in names]

    def adopt_definitions(self, other, names=None) -> dict:
        """Bring the definitions another document's instances need (``other``: a Graph, say
        a pasted fragment; ``names``: which of its definitions, default all) into this one,
        callees first: one with the same name and the same data is shared, one whose name is
        taken by different data comes in as ``name#2`` (its callers follow). Returns
        ``{their name: name here}``; the definitions it added are the values that were not
        here before (remove them, last first, to undo). Emits DefinitionAdded per addition.

        >>> from engine import Graph
        >>> a = Graph.from_expression("def f(x):\\n    return x * 2\\nf(1.0)")
        >>> b = Graph.from_expression("def f(x):\\n    return x * 3\\nf(1.0)")
        >>> a.adopt_definitions(b)
        {'f': 'f#2'}
        """
        from ..io.document import _in_order

        theirs = other.definitions
        wanted = set(self.check_adopt_definitions(other, names))
        todo = list(wanted)
        while todo:  # and everything they use
            d = theirs[todo.pop()]
            for c in d.callees():
                if c not in wanted:
                    wanted.add(c)
                    todo.append(c)
        mapping: dict = {}
        root = self._root()
        for d in _in_order({n: theirs[n] for n in wanted}):
            data = other.definition_data(d.name)
            for node in data["nodes"]:
                if node.get("op") == CALL:
                    node["definition"] = mapping[node["definition"]]
            name = d.name
            k = 1
            while name in root._defs and self.definition_data(name) != data:
                k += 1
                name = f"{d.name}#{k}"
            if name not in root._defs:
                self.add_definition(name, data)
            mapping[d.name] = name
        return mapping

    def check_remove_definition(self, name) -> str:
        d = self.definition(name)
        used = self.instances(d.name)
        if used:
            shown = ", ".join(str(u) for u in used[:5]) + (" …" if len(used) > 5 else "")
            raise DefinitionInUseError(
                f"definition {d.name!r} is used by {len(used)} instance(s) ({shown}); "
                "delete or ungroup them first"
            )
        return d.name

    def remove_definition(self, name) -> dict:
        """Delete an unused definition; returns its data (for :meth:`add_definition`, its
        inverse). Refused while any instance uses it."""
        name = self.check_remove_definition(name)
        data = self.definition_data(name)
        self._remove_definition(name)
        return data

    def _remove_definition(self, name) -> None:
        root = self._root()
        root._defs.pop(name, None)
        root._invalidate(topology=True)
        root._emit(DefinitionRemoved(name))

    def check_rename_definition(self, old, new) -> tuple[str, str]:
        d = self.definition(old)
        new = check_definition_name(new)
        if new != d.name and new in self._root()._defs:
            raise CompositeError(f"a definition named {new!r} exists already")
        return d.name, new

    def rename_definition(self, old, new) -> None:
        """Rename a definition (every instance follows); emits DefinitionRenamed. Its inverse
        is renaming it back."""
        old, new = self.check_rename_definition(old, new)
        if old == new:
            return
        root = self._root()
        d = root._defs.pop(old)
        d.name = new
        d.changed()
        root._defs[new] = d
        root._invalidate(topology=True)
        root._emit(DefinitionRenamed(new, old))

    def check_set_definition(self, ref, name):
        g, (n,) = self._route(ref)
        a = g.nx._node[n]
        if a["op"] != CALL:
            raise CompositeError(f"node {g.label(n)} is not an instance")
        d = self.definition(name)
        old = a["definition"]
        if d is old:
            return g, n, old, d
        if d.arity != old.arity or d.output_arity != old.output_arity:
            raise CompositeError(
                f"{d.name!r} has {d.arity} input(s) and {d.output_arity} output(s), "
                f"{old.name!r} {old.arity} and {old.output_arity}: an instance can only switch "
                "to a definition with the same ports"
            )
        if g._definition is not None:
            calls = g._definition.callees()
            calls[old.name] -= 1
            calls[d.name] += 1
            self._limits({g._definition.name: calls})
        else:
            top = self._root()._top_counts()
            top[old.name] -= 1
            top[d.name] += 1
            self._limits(top=top)
        return g, n, old, d

    def set_definition(self, ref, name) -> str:
        """Make instance ``ref`` use definition ``name`` (same number of inputs and outputs);
        returns the definition it used before (the inverse is setting that one back). Emits
        InstanceChanged."""
        g, n, old, d = self.check_set_definition(ref, name)
        if d is not old:
            g.nx._node[n]["definition"] = d
            g._invalidate(topology=True)
            g._emit(InstanceChanged(n, old.name, d.name))
        return old.name

    def check_make_unique(self, ref, name=None) -> str:
        g, (n,) = self._route(ref)
        a = g.nx._node[n]
        if a["op"] != CALL:
            raise CompositeError(f"node {g.label(n)} is not an instance; only an instance can be made unique")
        d = a["definition"]
        root = self._root()
        if name is None:
            k = 2
            base = d.name.split("#")[0] or d.name
            name = f"{base}#{k}"
            while name in root._defs:
                k += 1
                name = f"{base}#{k}"
        name = check_definition_name(name)
        if name in root._defs:
            raise CompositeError(f"a definition named {name!r} exists already")
        return name

    def make_unique(self, ref, name=None) -> str:
        """Give instance ``ref`` its own copy of its definition (named ``name``, else
        ``neuron#2``, ...), so it can be edited alone; returns the new name. The inverse is
        :meth:`share_definition` with the old name."""
        name = self.check_make_unique(ref, name)
        g, (n,) = self._route(ref)
        d = g.nx._node[n]["definition"]
        self.add_definition(name, self.definition_data(d.name))
        self.set_definition(self._address(g, n), name)
        return name

    def check_share_definition(self, ref, name):
        """Raise what :meth:`share_definition` would raise (as :meth:`check_set_definition`)."""
        return self.check_set_definition(ref, name)

    def share_definition(self, ref, name) -> dict | None:
        """Make instance ``ref`` use definition ``name`` again (the inverse of
        :meth:`make_unique`): its own definition, left without instances, is removed and its
        data returned (None when other instances still use it)."""
        old = self.set_definition(ref, name)
        if old != self.definition(name).name and not self.instances(old):
            return self.remove_definition(old)
        return None

    # ------------------------------------------------------------------ ports

    def check_expose_as_input(self, ref, name=None):
        addr = self.locate(ref)
        if not isinstance(addr, tuple):
            raise CompositeError(f"node {self.label(addr)} is not inside a definition; only a constant "
                                 "of a definition can become an input")
        body, n = self._at(ref)
        d = body._definition
        a = body.nx._node[n]
        if a["op"] != NUMBER:
            raise CompositeError(f"node {body.label(n)} of {d.name!r} is a {a['op']}, not a constant; "
                                 "only a number inside a definition can become an input")
        taken = set(d.input_names)
        base = name if name is not None else (a.get("name") or f"in{d.arity + 1}")
        if not isinstance(base, str) or not base.strip():
            raise InvalidNameError("a port needs a name")
        base = base.strip()
        if name is not None and base in taken:
            raise CompositeError(f"{d.name!r} has an input named {base!r} already")
        port_name, k = base, 2
        while port_name in taken:
            port_name, k = f"{base}_{k}", k + 1
        # Each instance gets a number node: room for them, where the instances are.
        for inst in self.instances(d.name):
            g, _ = self._at(inst)
            g._check_growth(1)
        return body, n, d, port_name

    def expose_as_input(self, ref, name=None, feeder_ids=None) -> dict:
        """Turn constant ``ref`` of a definition into a new last input port (named ``name``,
        else the constant's name); every instance is fed from a new number node holding the
        constant's value, so nothing changes numerically. Returns ``{"definition", "port",
        "node", "value", "feeders": {instance address: number address}}``; the inverse is
        :meth:`unexpose_input`. ``feeder_ids`` ({instance address: id}, as a first call
        returned them in ``"feeders"``) gives the new numbers those ids where free: a redo
        makes the very nodes it made the first time.
        """
        body, n, d, port_name = self.check_expose_as_input(ref, name)
        a = dict(body.nx._node[n])
        value = a["value"]
        consumers = list(_out_wires(body, n))
        for t, p, _sp in consumers:
            body.disconnect(t, p)
        body._replace(n, {"op": INPUT, "name": None, "x": a["x"], "y": a["y"]})
        d.inputs.append(Port(port_name, n))
        for t, p, _sp in consumers:
            body._wire(n, 0, t, p)
        d.changed()
        self._root()._invalidate(topology=True)
        self._root()._emit(PortsChanged(d.name))
        feeders = {}
        port = d.arity - 1
        for inst in self.instances(d.name):
            g, i = self._at(inst)
            ia = g.nx._node[i]
            want = (feeder_ids or {}).get(inst)
            want = want[-1] if isinstance(want, tuple) else want
            num = want if isinstance(want, int) and want not in g.nx._node else g._next_id
            while num in g.nx._node:
                num += 1
            g._insert(num, {"op": NUMBER, "name": None, "x": ia["x"] - 160.0, "y": ia["y"] + 40.0 * port,
                            "value": value})
            g._wire(num, 0, i, port)
            feeders[inst] = self._address(g, num)
        return {"definition": d.name, "port": port, "node": n, "name": a.get("name"), "value": value,
                "feeders": feeders}

    def check_unexpose_input(self, definition, port):
        d = self.definition(definition)
        if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port < d.arity:
            raise PortError(f"{d.name!r} has inputs 0..{d.arity - 1}, not {port!r}")
        if port != d.arity - 1:
            raise CompositeError("only the last input can become a constant again")
        return d

    def unexpose_input(self, definition, port, value=None, name=None) -> None:
        """Turn the last input ``port`` of ``definition`` back into a constant holding
        ``value`` (default: what feeds the first instance's port, else 0): the inverse of
        :meth:`expose_as_input`. Wires into that port are removed, and so are number nodes
        that fed only it."""
        d = self.check_unexpose_input(definition, port)
        insts = self.instances(d.name)
        feeders = []
        for inst in insts:
            g, i = self._at(inst)
            for s, _sp, p in list(_in_wires(g, i)):
                if p == port:
                    feeders.append((g, s))
                    if value is None and g.nx._node[s]["op"] == NUMBER:
                        value = g.nx._node[s]["value"]
                    g.disconnect(i, p)
        for g, s in feeders:
            if s in g.nx._node and g.nx._node[s]["op"] == NUMBER and not g.nx._succ[s] and not g.nx._pred[s]:
                g._drop(s)
        body = d.body
        n = d.inputs[port].node
        a = dict(body.nx._node[n])
        consumers = list(_out_wires(body, n))
        for t, p, _sp in consumers:
            body.disconnect(t, p)
        d.inputs.pop(port)
        body._replace(n, {"op": NUMBER, "name": body._free_name(name), "x": a["x"], "y": a["y"],
                          "value": 0.0 if value is None else value})
        for t, p, _sp in consumers:
            body._wire(n, 0, t, p)
        d.changed()
        self._root()._invalidate(topology=True)
        self._root()._emit(PortsChanged(d.name))

    def _replace(self, n, attrs) -> None:
        """Give node ``n`` (no wires left) new attributes where it stands in the order;
        announced as NodeRemoved then NodeAdded."""
        old = self.nx._node[n]
        if old.get("name"):
            del self._names[old["name"]]
        self._invalidate(topology=True)
        self._emit(NodeRemoved(n))
        old.clear()
        old.update(attrs)
        if attrs.get("name"):
            self._names[attrs["name"]] = n
        self._invalidate(topology=True)
        self._emit(NodeAdded(n))

    def _free_name(self, name):
        return name if name and name not in self._names else None

    def check_rename_port(self, definition, kind, port, name) -> str:
        d = self.definition(definition)
        ports = d.inputs if kind == "input" else d.outputs if kind == "output" else None
        if ports is None:
            raise GraphError(f"a port is an 'input' or an 'output', not {kind!r}")
        if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port < len(ports):
            raise PortError(f"{d.name!r} has {kind}s 0..{len(ports) - 1}, not {port!r}")
        from .graph import check_name

        clean = check_name(name)
        if clean is None:
            raise InvalidNameError("a port needs a name")
        if any(p.name == clean for k, p in enumerate(ports) if k != port):
            raise CompositeError(f"{d.name!r} has an {kind} named {clean!r} already")
        return clean

    def rename_port(self, definition, kind, port, name) -> str:
        """Rename input or output ``port`` (kind "input" or "output") of a definition;
        returns the old name (renaming back is the inverse). Emits PortsChanged."""
        clean = self.check_rename_port(definition, kind, port, name)
        d = self.definition(definition)
        ports = d.inputs if kind == "input" else d.outputs
        old = ports[port].name
        ports[port] = Port(clean, ports[port].node)
        self._root()._emit(PortsChanged(d.name))
        return old

    # ------------------------------------------------------------------ building

    def _make_definition(self, parts) -> Definition:
        """A Definition (owned by this document) from validated parts: ``{"name", "inputs":
        [(name, id)], "outputs": [(name, id)], "nodes": [...], "edges": [...]}``; instance
        nodes name their definition, which must exist already (or be ``parts["self"]``)."""
        d = Definition(parts["name"], None)
        d.body = self._new_body(d)
        nodes = []
        for node in parts["nodes"]:
            node = dict(node)
            if node["op"] == CALL and isinstance(node["definition"], str):
                node["definition"] = self._defs[node["definition"]]
            nodes.append(node)
        d.body._build_silently(nodes, parts["edges"])
        d.inputs = [Port(nm, n) for nm, n in parts["inputs"]]
        d.outputs = [Port(nm, n) for nm, n in parts["outputs"]]
        return d

    def _build_definitions(self, definitions) -> None:
        """Add validated definitions (callees before callers) without events."""
        for parts in definitions:
            d = self._make_definition(parts)
            self._defs[d.name] = d

    def _copy_definitions_into(self, other) -> None:
        """Copy every definition into document ``other`` (an empty copy of this one's top
        level), repointing instances at the copies."""
        mapping = {}
        for name, d in self._defs.items():
            c = Definition(name, None, d.inputs, d.outputs)
            c.body = other._new_body(c)
            b = d.body
            c.body.nx = b.nx.copy()
            c.body._names = dict(b._names)
            c.body._next_id = b._next_id
            mapping[d] = c
            other._defs[name] = c
        for g in [other] + [c.body for c in other._defs.values()]:
            for a in g.nx._node.values():
                if a["op"] == CALL:
                    a["definition"] = mapping[a["definition"]]

    # ------------------------------------------------------------------ reading inside instances

    def _record(self, r, path):
        rec = r.tape.calls.get(path)
        if rec is None:
            raise NodeNotFoundError(f"{path!r} is not an instance of this document")
        return rec

    def _ctx_graph(self, ctx):
        """The graph of context ``ctx`` (() the top level, else an instance path's body)."""
        g = self
        for k in ctx:
            g = g.nx._node[k]["definition"].body
        return g

    def _slot_at(self, r, addr, port=0):
        """The tape slot holding output ``port`` of the node at ``addr``, None where there is
        none (a definition's non-constant node, a constant of an unused definition)."""
        tape = r.tape
        if type(addr) is int:
            return tape.slot(addr, port)
        if isinstance(addr[0], str):
            body = self._root()._defs[addr[0]].body
            if body.nx._node[addr[1]]["op"] == NUMBER:
                return tape.index.get(addr)
            return None
        ctx, n = addr[:-1], addr[-1]
        rec = self._record(r, ctx)
        d = self._root()._defs[rec.definition]
        op = d.body.nx._node[n]["op"]
        if op == NUMBER:
            return tape.index.get((d.name, n))
        if op == CALL:
            return self._record(r, addr).outputs[port]
        if op == INPUT:
            return rec.inputs[d.input_port(n)]
        if op == OUTPUT:
            return rec.outputs[d.output_port(n)]
        return tape.index[addr]

    def _memo(self, r) -> dict:
        m = getattr(r, "_port_grads", None)
        if m is None:
            m = r._port_grads = {}
        return m

    def _amount_into(self, r, ctx, t, p):
        """What node ``t`` of context ``ctx`` sends back along its input port ``p``."""
        g = self._ctx_graph(ctx)
        op = g.nx._node[t]["op"]
        if op == CALL:
            return self._grad_in(r, ctx + (t,), p)
        if op == OUTPUT:
            return self._grad_out(r, ctx, g._definition.output_port(t))
        s = r.sent[r.tape.index[t if not ctx else ctx + (t,)]]
        return None if s is None else s[p]

    def _grad_in(self, r, path, k):
        """The gradient instance ``path`` sends back through its input port ``k``."""
        memo = self._memo(r)
        key = ("in", path, k)
        if key in memo:
            return memo[key]
        g = self._ctx_graph(path)
        ph = g._definition.inputs[k].node
        total = None
        for t, p, _sp in _out_wires(g, ph):
            total = _add(total, self._amount_into(r, path, t, p))
        memo[key] = total
        return total

    def _grad_out(self, r, path, m):
        """The gradient arriving at output port ``m`` of instance ``path``."""
        memo = self._memo(r)
        key = ("out", path, m)
        if key in memo:
            return memo[key]
        ctx, inst = path[:-1], path[-1]
        g = self._ctx_graph(ctx)
        # Every output port's sum in one pass over the instance's wires (each port's terms in
        # the same order as alone): a parameter bank has hundreds of outputs and wires to match.
        totals: dict = {}
        for t, p, sp in _out_wires(g, inst):
            totals[sp] = _add(totals.get(sp), self._amount_into(r, ctx, t, p))
        ports = set(totals) | {m}
        if not ctx and isinstance(r.root_ref, tuple) and r.root_ref[0] == inst:
            ports.add(r.root_ref[1])
        for port in ports:
            total = totals.get(port)
            if not ctx and r.root_ref == (inst, port):
                total = _add(autodiff.output_seed(r.values[r.root]), total)
            memo[("out", path, port)] = total
        return memo[key]

    def _value_at(self, r, addr, port=0):
        slot = self._slot_at(r, addr, port)
        return None if slot is None else r.values[slot]

    def _grad_at(self, r, addr, port=0):
        """The gradient at ``addr`` (see the module docstring for what it means where)."""
        if type(addr) is int:
            if self.nx._node[addr]["op"] == CALL:
                return self._grad_out(r, (addr,), port)
            return r.grads[r.tape.slot(addr, port)]
        if isinstance(addr[0], str):
            slot = self._slot_at(r, addr, port)
            return None if slot is None else r.grads[slot]
        ctx, n = addr[:-1], addr[-1]
        g = self._ctx_graph(ctx)
        op = g.nx._node[n]["op"]
        d = g._definition
        if op == CALL:
            return self._grad_out(r, addr, port)
        if op == INPUT:
            return self._grad_in(r, ctx, d.input_port(n))
        if op == OUTPUT:
            return self._grad_out(r, ctx, d.output_port(n))
        if op == NUMBER:  # this instance's share of the constant's gradient
            total = None
            for t, p, _sp in _out_wires(g, n):
                total = _add(total, self._amount_into(r, ctx, t, p))
            return total
        return r.grads[r.tape.index[addr]]

    def _contributions_at(self, r, addr, port=0) -> list:
        if isinstance(addr[0], str):
            d = self._root()._defs[addr[0]]
            n = addr[1]
            if d.body.nx._node[n]["op"] != NUMBER:
                return []
            out = []
            for path, rec in r.tape.calls.items():
                if rec.definition != d.name:
                    continue
                total = None
                for t, p, _sp in _out_wires(d.body, n):
                    total = _add(total, self._amount_into(r, path, t, p))
                if total is not None:
                    out.append((path[0] if len(path) == 1 else path, None, total))
            return out
        ctx, n = addr[:-1], addr[-1]
        g = self._ctx_graph(ctx)
        out = []
        for t, p, sp in _out_wires(g, n):
            if sp == port:
                amount = self._amount_into(r, ctx, t, p)
                if amount is not None:
                    out.append((t, p, amount))
        return out

    def instance_view(self, path):
        """A read-only view of one instance's inside (``path``: a top-level instance id or an
        instance path): its body's nodes and wires with *this instance's* values, gradients and
        contributions. See :class:`InstanceView`."""
        if isinstance(path, tuple) and len(path) > 1:
            addr = self.locate(path)
        else:
            addr = (self.resolve(path[0] if isinstance(path, tuple) and path else path),)
        if not isinstance(addr, tuple) or not all(isinstance(k, int) for k in addr):
            raise CompositeError(f"{path!r} is not an instance path")
        if self._ctx_graph(addr[:-1]).nx._node[addr[-1]]["op"] != CALL:
            raise CompositeError(f"{path!r} is not an instance")
        return InstanceView(self, addr)

    def jacobian(self, path) -> list:
        """The local Jacobian of instance ``path`` at its current inputs: ``J[m][k]`` =
        d(output m)/d(input k) (numbers; arrays for tensor values, of shape output shape +
        input shape), by forward mode through its inside. None where an input is unwired."""
        from ..learn.explain import instance_jacobian

        return instance_jacobian(self, path)


class InstanceView:
    """One instance's inside, read only: the definition's body with this instance's numbers.

    ``path`` is the instance's address; ``definition`` its Definition; ``graph`` the body (a
    Graph: ids, names, ops, positions, wires). ``value(n)``, ``grad(n)``, ``contributions(n)``
    and ``edge_grad(s, t, p)`` take body ids and answer for this instance; the placeholders
    carry what comes in (value) and what goes back out (gradient) through each port.
    """

    def __init__(self, document, path):
        self.document = document
        self.path = tuple(path)
        self.graph = document._ctx_graph(self.path)
        self.definition = self.graph._definition

    def _addr(self, n):
        return self.path + (self.graph.resolve(n),)

    def value(self, n, port=0):
        return self.document.value(self._addr(n), port)

    def grad(self, n, port=0):
        return self.document.grad(self._addr(n), port)

    def contributions(self, n, port=0):
        return self.document.contributions(self._addr(n), port)

    def edge_grad(self, source, target, port):
        t = self.graph.resolve(target)
        s = self.graph.resolve(source)
        if not self.graph.nx.has_edge(s, t, port):
            return None
        r = self.document._res()
        return self.document._amount_into(r, self.path, t, port)

    def values(self) -> dict:
        return {n: self.value(n) for n in self.graph.nx if self.graph.nx._node[n]["op"] != OUTPUT or True}

    def grads(self) -> dict:
        return {n: self.grad(n) for n in self.graph.nx}

    def nodes(self) -> list:
        return self.graph.nodes()

    def __repr__(self):
        return f"<InstanceView {self.path!r} of {self.definition.name!r}>"


def _raw_edge(g, s, sp, t, p) -> None:
    if sp:
        g.add_edge(s, t, key=p, source_port=sp)
    else:
        g.add_edge(s, t, key=p)


def _in_wires(g, n):
    for s, ports in g.nx._pred[n].items():
        for p, d in ports.items():
            yield s, (d.get("source_port", 0) if d else 0), p


def _out_wires(g, n):
    for t, ports in g.nx._succ[n].items():
        for p, d in ports.items():
            yield t, p, (d.get("source_port", 0) if d else 0)


__all__ = ["Composites", "InstanceView", "check_definition_name"]


_ = (math, InvalidValueError, PLACEHOLDERS)


def _elsewhere(graph, *refs):
    """``(body, ids)`` when ``refs`` address nodes of a definition's body (edits go there),
    else None."""
    if not any(graph._composite_ref(r) for r in refs if type(r) is not int):
        return None
    g, ids = graph._route(*refs)
    return None if g is graph else (g, ids)
