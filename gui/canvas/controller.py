"""Controller: turns gestures into undo commands. The only writer of the Graph in the GUI.

Every public method takes untrusted input (from a gesture, a dialog or the clipboard), never
raises, and answers a refusal with a sentence on :attr:`Controller.message`. Multi-edit
gestures are one undo macro; a macro is never left open: if any edit inside it is refused,
the macro is closed, undone and dropped, so the document is exactly as before.

After every undo-stack step (push, undo, redo, macro end) the controller asks the document's
:class:`~gui.canvas.bridge.DocumentBridge` to re-run forward and backward synchronously; views
hear the result from the bridge. Whether an edit is allowed is the engine's decision (its
``check_*`` methods), never re-derived here; the clipboard carries an ordinary document fragment
(:func:`engine.io.document.fragment`), validated by the document loader.
"""

from __future__ import annotations

import json
from contextlib import contextmanager

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

from engine import NUMBER, OPS, DocumentError, Graph, GraphError, ParseError
from engine.core.arrays import ndarray, to_jsonable
from engine.core.graph import MAX_NAME, check_number
from engine.drawing import geometry as G
from engine.drawing.geometry import CALL
from engine.io import document as doc
from engine.io.parse import parse_value
from gui import style  # noqa: F401 - pins the None refcount (gui._compat) before Qt is used
from gui.canvas.bridge import DocumentBridge
from gui.canvas.commands import (
    AddNodeCommand,
    AdoptDefinitionsCommand,
    ConnectCommand,
    DisconnectCommand,
    ExposeAsInputCommand,
    GroupCommand,
    MakeUniqueCommand,
    MoveCommand,
    RemoveDefinitionCommand,
    RemoveNodeCommand,
    RenameDefinitionCommand,
    SetNameCommand,
    SetOutputCommand,
    SetParamsCommand,
    SetValuesCommand,
    UngroupCommand,
    same_value,
)

INSTANCE_OF = "call:"  # palette key of a definition: "call:neuron" adds an instance of neuron
CLIP_FORMAT = doc.FORMAT  # the clipboard holds a document fragment
NEW_NUMBER_VALUE = 0.0  # a new number node's value (the palette's number tile shows it)
PASTE_OFFSET = 30.0  # duplicate / paste without a target point lands this far down-right
MAX_PASTE = 100_000


def typed_value(text: str, like=None):
    """The value a person typed wherever a value is typed (a node's value editor, the
    inspector, the search box): read by the parser's own literal reader, so the same
    literals, limits and messages as in a program, and nothing typed is run. A node holding
    integer class targets (``like``, an int array) keeps integers when the typed array holds
    whole numbers. Raises ParseError.

    >>> typed_value("[[1, 2], [3, 4]]").tolist(), typed_value("[0, 2]", like=np.array([1, 0])).dtype
    ([[1.0, 2.0], [3.0, 4.0]], dtype('int64'))
    """
    value = parse_value(text)
    if (type(like) is ndarray and like.dtype.kind in "iu" and type(value) is ndarray
            and np.all(value == np.round(value)) and np.abs(value).max() < 2**53):
        value = value.astype(np.int64)
    return value


EDIT_ELEMENTS = 256  # an array up to this size opens in a value editor as its nested list
VALUE_PLACEHOLDER = "a value: 2.5, [[1, 2], [3, 4]], zeros(3), randn(2, 3, seed=0)"


def editable_text(value) -> str:
    """What a value editor starts with: the number in full (the shortest text that reads back
    as it, never the 5 digits the canvas shows), an array as its nested list, and nothing for
    an array too big to read in one line (the placeholder then says what may be typed).

    >>> editable_text(3.0), editable_text(-0.1), editable_text(np.array([[1.0, 2.5]]))
    ('3', '-0.1', '[[1, 2.5]]')
    """
    if type(value) is ndarray:
        if value.size > EDIT_ELEMENTS:
            return ""
        return json.dumps(_whole(to_jsonable(value)))
    text = repr(float(value)) if isinstance(value, float) else str(value)
    return text[:-2] if text.endswith(".0") else text


def _whole(x):
    """Nested lists with whole floats written as integers: [[1, 2.5]], not [[1.0, 2.5]]."""
    if isinstance(x, list):
        return [_whole(e) for e in x]
    return int(x) if isinstance(x, float) and x.is_integer() and abs(x) < 1e15 else x


def refusal(text: str, error: ParseError) -> str:
    """The status line for a typed value the parser refused: what was typed, where, and why."""
    shown = text.strip()
    shown = shown if len(shown) <= 40 else shown[:39] + "…"
    where = f" (column {error.col})" if error.col > 1 else ""
    return f"'{shown}'{where}: {error.msg}; value unchanged"


class _Refused(Exception):
    """A gesture the controller refuses before touching anything (message for the user)."""


class Controller(QObject):
    """Gestures -> commands/macros for one document (its bridge) and one QUndoStack. Given a
    Graph instead of a bridge, it makes the bridge itself.

    >>> from PySide6.QtGui import QUndoStack
    >>> c = Controller(Graph(), QUndoStack())              # doctest: +SKIP
    >>> a = c.add_node("number", (0, 0), value=3.0)         # doctest: +SKIP
    """

    message = Signal(str)

    def __init__(self, document, undo_stack: QUndoStack, parent=None):
        super().__init__(parent)
        if isinstance(document, Graph):
            document = DocumentBridge(document, self)
        self._bridge: DocumentBridge = document
        self._stack = undo_stack
        self._macro_depth = 0
        self._index = undo_stack.index()  # where the last evaluation left the history
        undo_stack.indexChanged.connect(self._after_step)
        document.externalEdit.connect(self._on_external_edit)

    # ---------------------------------------------------------------- properties

    @property
    def graph(self) -> Graph:
        return self._bridge.graph

    @property
    def _graph(self) -> Graph:
        return self._bridge.graph

    @property
    def bridge(self) -> DocumentBridge:
        return self._bridge

    @property
    def undo_stack(self) -> QUndoStack:
        return self._stack

    # ---------------------------------------------------------------- plumbing

    def _after_step(self, index=None):
        if self._macro_depth:
            return
        index = self._stack.index() if index is None else index
        before, self._index = self._index, index
        if index != before and self._only_moves(min(index, before), max(index, before)):
            return  # a move changes no number: no forward and backward for a drag or a layout
        self.refresh()

    def _only_moves(self, lo: int, hi: int) -> bool:
        """Whether the commands lo..hi-1 (the ones just done or undone) are all moves."""
        try:
            return all(isinstance(self._stack.command(i), MoveCommand) for i in range(lo, hi))
        except RuntimeError:  # the stack is being destroyed (its clear() still signals)
            return False

    def refresh(self) -> None:
        """Re-run forward and backward now (the bridge tells every view)."""
        self._bridge.recompute()

    def _on_external_edit(self, _event) -> None:
        """The document changed behind the undo stack's back (a script editing the Graph):
        the history no longer describes it, and undoing it could fail half-way, so it goes."""
        if self._stack.count() and not self._macro_depth:
            self._macro_depth += 1  # no evaluation per indexChanged of clear()
            try:
                self._stack.clear()
            finally:
                self._macro_depth -= 1
            self._index = self._stack.index()
            self._stack.resetClean()  # clear() would call the edited document unmodified
            self.message.emit("the document was edited outside the canvas: undo history cleared")

    def _push(self, cmd) -> None:
        cmd.apply()  # raises GraphError before anything reaches the stack
        self._stack.push(cmd)

    @contextmanager
    def macro(self, text: str):
        """Group edits into one undo step. On any exception the macro is closed, undone and
        dropped (document unchanged, no stack entry), then the exception propagates."""
        self._stack.beginMacro(text)
        self._macro_depth += 1
        ok = False
        try:
            yield
            ok = True
        finally:
            self._macro_depth -= 1
            self._stack.endMacro()
            # An inner macro lets the exception reach the outermost one, which drops it all.
            if not ok and self._macro_depth == 0:
                self._drop_last()

    def begin_macro(self, text: str) -> None:
        """Open a macro by hand; prefer ``with controller.macro(text):``. Close with end_macro()."""
        self._stack.beginMacro(text)
        self._macro_depth += 1

    def end_macro(self) -> None:
        if self._macro_depth:
            self._macro_depth -= 1
            self._stack.endMacro()

    def _drop_last(self) -> None:
        idx = self._stack.index()
        if idx <= 0:
            return
        cmd = self._stack.command(idx - 1)
        if cmd is not None:
            cmd.setObsolete(True)  # undone below, then deleted by the stack
        self._stack.undo()

    def _guard(self, fn, *args, default=None):
        try:
            return fn(*args)
        except _Refused as e:
            self.message.emit(str(e))
        except GraphError as e:
            self.message.emit(str(e))
        return default

    def _check_node(self, ref) -> int:
        return self._graph.check_remove(ref)  # exists (a GraphError is a refusal, see _guard)

    def _label(self, n) -> str:
        g = self._graph
        name = g.name(n)
        op = g.op(n)
        if op == CALL:
            return name or g.definition_of(n).name
        return name or (op if op == NUMBER else OPS[op].symbol if op in OPS else op)

    # ---------------------------------------------------------------- document

    def set_document(self, graph: Graph) -> None:
        """Replace the document: clears the undo stack, then the bridge emits ``replaced``
        and evaluates."""
        if not isinstance(graph, Graph):
            self.message.emit("not a document")
            return
        self._macro_depth += 1  # one evaluation below, not one per indexChanged of clear()
        try:
            self._stack.clear()
        finally:
            self._macro_depth -= 1
            self._index = self._stack.index()
        self._bridge.set_graph(graph)

    # ---------------------------------------------------------------- nodes

    def add_node(self, op: str, pos=(0.0, 0.0), value: float = NEW_NUMBER_VALUE, name=None) -> int | None:
        """Add a number (op "number") or an op node with its top-left corner at ``pos``."""
        return self._guard(self._add_node, op, pos, value, name)

    def _add_node(self, op, pos, value, name):
        if isinstance(op, str) and op.startswith(INSTANCE_OF):  # a definition from the palette
            return self._add_instance(op[len(INSTANCE_OF):], pos)
        if not isinstance(op, str) or (op != NUMBER and op not in OPS):
            raise _Refused(f"unknown node kind {op!r}")
        x, y = _point(pos)
        spec = self._graph.check_add(op, value, name, x, y)
        del spec["id"]  # the engine picks it when the command runs; redo re-uses it
        shown = op if op == "number" or op not in OPS else OPS[op].symbol
        cmd = AddNodeCommand(self._graph, spec, f"Add {shown}")
        self._push(cmd)  # an unpinned output follows the graph: no output edit needed
        return cmd.node_id

    def add_connected(self, op: str, pos, source=None, target=None, port=None,
                      value=NEW_NUMBER_VALUE) -> int | None:
        """Add an ``op`` node with its top-left corner at ``pos`` and wire it, as one undo step:
        ``source``'s output into the new node's first input, and/or the new node's output into
        input ``port`` of ``target`` (a wire dragged from a port and dropped on empty canvas).
        A number gets ``value``."""
        return self._guard(self._add_connected, op, pos, source, target, port, value)

    def _add_connected(self, op, pos, source, target, port, value=NEW_NUMBER_VALUE):
        g = self._graph
        s = None if source is None else self._check_node(source)
        t = None if target is None else self._check_node(target)
        if t is not None and not (isinstance(port, int) and 0 <= port < g.arity(t)):
            raise _Refused(f"{self._label(t)} has no input port {port!r}")
        if s is not None and op == NUMBER:
            raise _Refused("a number has no inputs: choose an op to feed "
                           f"{self._label(s)} into")
        text = f"Add {OPS[op].symbol if op in OPS else op}"
        with self.macro(text):
            n = self._add_node(op, pos, value, None)
            if s is not None:
                self._connect(s, n, 0)
            if t is not None:
                self._connect(n, t, port)
        return n

    # ---------------------------------------------------------------- composites

    def group(self, ids, name: str | None = None) -> int | None:
        """Group the nodes ``ids`` into one instance of a new definition ``name`` (default: a
        free name, ``group``, ``group2``, ...), as one undo step; returns the instance. A
        refusal (nothing selected, a selection that would make a cycle, a name taken) is
        said in the status bar with the engine's words."""
        return self._guard(self._group, ids, name)

    def _group(self, ids, name):
        nodes = list(_iter_ids(ids))
        if not nodes:
            raise _Refused("select the nodes to group first (Ctrl+G groups the selection)")
        g = self._graph
        name = (name or "").strip() or self.free_definition_name()
        g.check_group(nodes, name)
        cmd = GroupCommand(g, nodes, name, f"Group {len(nodes)} node{'s' * (len(nodes) != 1)} as {name}")
        self._push(cmd)
        return cmd.instance

    def _add_instance(self, definition, pos):
        g = self._graph
        if definition not in g.definitions:
            raise _Refused(f"there is no definition {definition!r} (it may have been deleted)")
        x, y = _point(pos)
        cmd = AddNodeCommand(g, {"op": CALL, "definition": definition, "name": None, "x": x, "y": y},
                             f"Add {definition}")
        self._push(cmd)
        return cmd.node_id

    def rename_definition(self, old: str, new: str) -> bool:
        """Rename definition ``old`` to ``new`` (its instances follow), one undo step."""
        return bool(self._guard(self._rename_definition, old, new, default=False))

    def _rename_definition(self, old, new):
        new = (new or "").strip()
        if new == old:
            return True
        self._graph.check_rename_definition(old, new)
        self._push(RenameDefinitionCommand(self._graph, old, new, f"Rename {old} to {new}"))
        return True

    def remove_definition(self, name: str) -> bool:
        """Delete an unused definition (one undo step); refused, with a message, while used."""
        return bool(self._guard(self._remove_definition, name, default=False))

    def _remove_definition(self, name):
        self._graph.check_remove_definition(name)
        self._push(RemoveDefinitionCommand(self._graph, name, f"Delete definition {name}"))
        return True

    def free_definition_name(self, base: str = "group") -> str:
        """``base``, else ``base2``, ``base3``...: the first name no definition has."""
        taken = set(self._graph.definitions)
        k = 1
        while (name := base if k == 1 else f"{base}{k}") in taken:
            k += 1
        return name

    def ungroup(self, ids) -> list[int]:
        """Put each instance among ``ids`` back as its body, inlined (one undo step); returns
        the nodes put back. Refused, with a message, when no instance is among ``ids``."""
        return self._guard(self._ungroup, ids, default=[])

    def _ungroup(self, ids):
        g = self._graph
        insts = [n for n in _iter_ids(ids) if n in g.nx and g.op(n) == CALL]
        if not insts:
            raise _Refused("select an instance to ungroup (a node made with Ctrl+G, marked ƒ)")
        for n in insts:
            g.check_ungroup(n)
        new = []
        with self.macro(f"Ungroup {', '.join(self._label(n) for n in insts)}"):
            for n in insts:
                box = (*g.position(n), *G.size_of(g.nx.nodes[n]))
                cmd = UngroupCommand(g, n)
                self._push(cmd)
                new.extend(cmd.new_ids)
                self._move_nodes(room_for(g, cmd.new_ids, box), "Make room")
        return new

    def make_unique(self, instance) -> str | None:
        """Give ``instance`` its own copy of its definition (one undo step): edits inside it
        then change it alone. Returns the copy's name."""
        return self._guard(self._make_unique, instance)

    def _make_unique(self, instance):
        g = self._graph
        if instance not in g.nx or g.op(instance) != CALL:
            raise _Refused("Make Unique applies to an instance (a node marked ƒ)")
        g.check_make_unique(instance)
        cmd = MakeUniqueCommand(g, instance, f"Make {self._label(instance)} unique")
        self._push(cmd)
        return cmd.name

    def expose_as_input(self, constant) -> dict | None:
        """Turn a constant of a definition (``("neuron", id)`` or ``"neuron.w"``) into a new
        input port of every instance, fed from a new number holding its value (one undo
        step): two instances can then have their own weights."""
        return self._guard(self._expose_as_input, constant)

    def _expose_as_input(self, constant):
        g = self._graph
        g.check_expose_as_input(constant)
        with self.macro(f"Expose {g.label(constant)} as input"):
            cmd = ExposeAsInputCommand(g, constant, f"Expose {g.label(constant)} as input")
            self._push(cmd)
            self._move_nodes(feeders_column(g, cmd.info), "Place the new inputs")
        return cmd.info

    def insert_on_wire(self, op: str, wire, pos) -> int | None:
        """Put a new ``op`` node on the wire (source, target, port): the source (from the
        same output) feeds the new node's first input, the new node feeds the old target
        port. One undo step."""
        return self._guard(self._insert_on_wire, op, wire, pos)

    def _insert_on_wire(self, op, wire, pos):
        g = self._graph
        s, t, p = self._check_wire(wire)
        if op == NUMBER or op not in OPS:
            raise _Refused(f"cannot insert {op!r} on a wire: choose an op with an input")
        sp = g.input_wires(t)[p][1]
        with self.macro(f"Insert {OPS[op].symbol} on {self._label(s)} → {self._label(t)}"):
            self._push(DisconnectCommand(g, t, p))
            n = self._add_node(op, pos, 0.0, None)
            self._push(ConnectCommand(g, s, n, 0, source_port=sp))
            self._push(ConnectCommand(g, n, t, p))
        return n

    def _check_wire(self, wire) -> tuple[int, int, int]:
        try:
            s, t, p = wire
        except (TypeError, ValueError):
            raise _Refused(f"not a wire: {wire!r}") from None
        s, t = self._check_node(s), self._check_node(t)
        if isinstance(p, bool) or not isinstance(p, int) or not self._graph.nx.has_edge(s, t, p):
            raise _Refused(f"there is no wire {self._label(s)} → {self._label(t)} on port {p!r}")
        return s, t, p

    def remove_nodes(self, ids, verb: str = "Delete") -> bool:
        """Delete nodes and every wire touching them as one undo step, named "``verb`` ..."
        (Cut names it "Cut relu")."""
        return bool(self._guard(self._remove_items, ids, (), verb, default=False))

    def remove_items(self, ids=(), wires=()) -> bool:
        """Delete nodes (with every wire touching them) and wires (source, target, port) as
        one undo step: a mixed selection deleted with one key press is undone with one undo."""
        return bool(self._guard(self._remove_items, ids, wires, default=False))

    def _remove_items(self, ids, wires_in, verb="Delete"):
        g = self._graph
        nodes = list(dict.fromkeys(self._check_node(n) for n in _iter_ids(ids)))
        cut = list(dict.fromkeys(self._check_wire(w) for w in _iter_ids(wires_in)))
        if not nodes and not cut:
            return False
        doomed = set(nodes)
        wires: dict = {(t, p): None for _s, t, p in cut}  # (target, port), stable order, each once
        for n in nodes:
            for p, s in enumerate(g.inputs(n)):
                if s is not None:
                    wires[(n, p)] = None
            for t, p in g.consumers(n):
                wires[(t, p)] = None
        if not nodes:
            s, t, _p = cut[0]
            text = (f"Delete wire {self._label(s)} → {self._label(t)}" if len(cut) == 1
                    else f"Delete {len(cut)} wires")
        else:
            text = f"{verb} {self._label(nodes[0])}" if len(nodes) == 1 else f"{verb} {len(nodes)} nodes"
            if cut:
                text += f" and {len(cut)} wire{'s' if len(cut) > 1 else ''}"
        with self.macro(text):
            for t, p in wires:
                self._push(DisconnectCommand(g, t, p))
            if g.pinned_output in doomed:  # unpinned with its node; undo pins it again
                self._push(SetOutputCommand(g, None))
            for n in nodes:
                self._push(RemoveNodeCommand(g, n))
        return True

    # ---------------------------------------------------------------- wires

    def connect(self, src, dst, port, source_port: int = 0) -> bool:
        """Wire output ``source_port`` of src into input ``port`` of dst; a used port's old
        wire is replaced in the same undo step. Cycles and self-wires are refused with a
        message."""
        return bool(self._guard(self._connect, src, dst, port, source_port, default=False))

    def _connect(self, src, dst, port, source_port=0):
        g = self._graph
        s, t = g.check_connect(src, dst, port, source_port, replacing=True)
        old = g.input_wires(t)[port]
        if old == (s, source_port):
            return True  # already wired exactly so: nothing to do, no empty undo step
        text = f"Connect {self._label(s)} → {self._label(t)}"
        if old is None:
            self._push(ConnectCommand(g, s, t, port, text, source_port))
        else:
            with self.macro(text):
                self._push(DisconnectCommand(g, t, port))
                self._push(ConnectCommand(g, s, t, port, source_port=source_port))
        return True

    def disconnect(self, dst, port) -> bool:
        """Remove the wire into ``port`` of dst."""
        return bool(self._guard(self._disconnect, dst, port, default=False))

    def _disconnect(self, dst, port):
        _s, t = self._graph.check_disconnect(dst, port)
        text = f"Disconnect {self._label(t)}"
        self._push(DisconnectCommand(self._graph, t, port, text))
        return True

    def move_wire(self, dst, port, new_dst, new_port) -> bool:
        """Move the end of the wire on (dst, port) to (new_dst, new_port) as one undo step."""
        return bool(self._guard(self._move_wire, dst, port, new_dst, new_port, default=False))

    def _move_wire(self, dst, port, new_dst, new_port):
        g = self._graph
        s, t = g.check_disconnect(dst, port)
        sp = g.input_wires(t)[port][1]
        nt = self._check_node(new_dst)
        if (nt, new_port) == (t, port):
            return True
        text = f"Rewire {self._label(s)} → {self._label(nt)}"
        with self.macro(text):
            self._push(DisconnectCommand(g, t, port))
            if not self._connect(s, nt, new_port, sp):
                raise _Refused("nothing to connect")
        return True

    # ---------------------------------------------------------------- attributes

    def set_value(self, node, value, merge: bool = False) -> bool:
        """Set a number node's value. ``merge=True`` folds consecutive edits of the same node
        into one undo step (for scrubbing)."""
        return bool(self._guard(self._set_values, {node: value}, "Set value", merge, default=False))

    def set_typed_value(self, node, text: str) -> bool:
        """Set a number node's value from typed text (see :func:`typed_value`) as one undo
        step; a refusal is said on :attr:`message` with the parser's reason."""
        g = self._graph
        like = g.number(node) if g.op(node) == NUMBER else None  # also (definition, id) constants
        try:
            value = typed_value(text, like)
        except ParseError as e:
            self.message.emit(refusal(text, e))
            return False
        return self.set_value(node, value)

    def set_values(self, values: dict, text: str = "Set values", merge: bool = False) -> bool:
        """Set several number nodes as one undo step."""
        return bool(self._guard(self._set_values, values, text, merge, default=False))

    def _set_values(self, values, text, merge):
        g = self._graph
        if not isinstance(values, dict):
            raise _Refused("values must be given as {node: value}")
        new = {}
        for ref, v in values.items():
            n, value = g.check_set_value(ref, v)
            new[n] = value
        new = {n: v for n, v in new.items() if not same_value(g.number(n), v)}
        if not new:
            return True
        if text == "Set value" and len(new) == 1:
            n = next(iter(new))
            shown = (f"{'×'.join(map(str, new[n].shape))} array" if type(new[n]) is ndarray
                     else _history_number(new[n]))
            text = f"Set {self._label(n)} = {shown}"
        self._push(SetValuesCommand(g, new, text, merge))
        return True

    def set_params(self, node, params: dict, text: str | None = None) -> bool:
        """Set an op node's parameters (axis, keepdims, shape), or a dataset node's recipe or
        points, as one undo step (``text`` names it in the history)."""
        return bool(self._guard(self._set_params, node, params, text, default=False))

    def _set_params(self, node, params, text=None):
        g = self._graph
        n, new = g.check_set_params(node, params)
        if new == g.params(n):
            return True
        if text is None:
            shown = ", ".join(f"{k}={v}" for k, v in new.items())
            text = f"Set {self._label(n)} {shown}"
        self._push(SetParamsCommand(g, n, new, text))
        return True

    def set_name(self, node, name) -> bool:
        """Rename a node (None or "" removes the name)."""
        return bool(self._guard(self._set_name, node, name, default=False))

    def _set_name(self, node, name):
        g = self._graph
        n, name = g.check_set_name(node, name)
        if name == g.name(n):
            return True
        self._push(SetNameCommand(g, n, name, f"Rename to {name}" if name else "Remove name"))
        return True

    def set_output(self, node, port: int = 0) -> bool:
        """Pin output ``port`` of ``node`` as the output backward starts from; None unpins it
        and the output follows the graph again (the sink that depends on the most nodes).
        One undo step and a status message either way."""
        return bool(self._guard(self._set_output, node, port, default=False))

    def unpin_output(self) -> bool:
        """Let the output follow the graph again (see :meth:`set_output`)."""
        return self.set_output(None)

    def _set_output(self, node, port=0):
        g = self._graph
        n = g.check_set_output(node, port)
        if (n, port if n is not None else 0) == (g.pinned_output, g.output_port):
            return True
        if n is not None:
            text = f"Pin output {self._label(n)}"
            self._push(SetOutputCommand(g, n, text, port))
            self.message.emit(f"Output pinned to {g.label(n)}: it stays the output as the graph grows "
                              "(click its output tag to let the output follow the graph again)")
        else:
            self._push(SetOutputCommand(g, None, "Unpin output"))
            now = g.output_node()
            text = "The output follows the graph again"
            if now is not None:
                text += f": now {g.label(now)}, the node that depends on the most others"
            self.message.emit(text)
        return True

    def move_nodes(self, positions: dict) -> bool:
        """Move nodes to {node: (x, y)} as one undo step (a whole drag)."""
        return bool(self._guard(self._move_nodes, positions, "Move", default=False))

    def _move_nodes(self, positions, text):
        g = self._graph
        if not isinstance(positions, dict):
            raise _Refused("positions must be given as {node: (x, y)}")
        new = {}
        for ref, pos in positions.items():
            x, y = _point(pos)
            n, x, y = g.check_set_position(ref, x, y)
            if g.position(n) != (x, y):
                new[n] = (x, y)
        if not new:
            return True
        if text == "Move":
            text = f"Move {self._label(next(iter(new)))}" if len(new) == 1 else f"Move {len(new)} nodes"
        self._push(MoveCommand(g, new, text))
        return True

    def auto_layout(self) -> bool:
        """Layered left-to-right layout of the whole document as one undo step."""
        return bool(self._guard(lambda: self._move_nodes(self._graph.layout(), "Auto-layout"), default=False))

    # ---------------------------------------------------------------- clipboard

    def copy_payload(self, ids) -> dict:
        """The nodes ``ids`` and the wires among them as a document fragment (JSON-ready data
        in the ordinary document format; wires to or from nodes outside the selection are
        left out, and so is the output mark)."""
        g = self._graph
        try:
            nodes = [n for n in dict.fromkeys(_iter_ids(ids)) if isinstance(n, int) and n in g.nx]
        except _Refused:
            nodes = []
        return doc.fragment(g, nodes)

    def paste(self, payload, at=None, verb: str = "Paste") -> list[int]:
        """Add a copy of ``payload`` (a document fragment from :meth:`copy_payload`, possibly
        via the clipboard, so untrusted) with fresh ids, its top-left corner at ``at``
        (default: offset from the original). Taken names get a suffix. One undo step, named
        "``verb`` N nodes". Returns the new ids."""
        return self._guard(self._paste, payload, at, verb, default=[])

    def _paste(self, payload, at, verb="Paste"):
        g = self._graph
        try:
            frag = doc.read_fragment(payload, max_nodes=MAX_PASTE)
        except DocumentError as e:
            raise _Refused(f"the clipboard does not hold gradcanvas nodes: {e}") from None
        nodes = [frag.node(n) for n in frag.nodes()]
        if not nodes:
            return []
        if at is None:
            dx = dy = PASTE_OFFSET
        else:
            ax, ay = _point(at)
            dx = ax - min(n["x"] for n in nodes)
            dy = ay - min(n["y"] for n in nodes)
        taken = {name for name in map(g.name, g.nodes()) if name}
        specs = []
        for n in nodes:
            name = _free_name(n["name"], taken)
            if name:
                taken.add(name)
            spec = {"op": n["op"], "name": name,
                    "x": check_number(n["x"] + dx, "x"), "y": check_number(n["y"] + dy, "y")}
            if n["op"] == NUMBER:
                spec["value"] = n["value"]
            elif n["op"] == CALL:
                spec["definition"] = n["definition"]  # renamed below if it comes in as name#2
            elif n.get("params") is not None:  # an op's axis, a dataset's recipe or points
                spec["params"] = n["params"]
            specs.append((n["id"], spec))
        new_id = {}
        text = f"{verb} 1 node" if len(specs) == 1 else f"{verb} {len(specs)} nodes"
        with self.macro(text):
            if frag.definitions:
                adopt = AdoptDefinitionsCommand(g, frag)
                self._push(adopt)
                for _old, spec in specs:
                    if spec["op"] == CALL:
                        spec["definition"] = adopt.mapping.get(spec["definition"], spec["definition"])
            for old, spec in specs:
                cmd = AddNodeCommand(g, spec)
                self._push(cmd)  # the engine picks a fresh id; redo re-uses it
                new_id[old] = cmd.node_id
            for s, sp, t, p in frag.wires():
                self._push(ConnectCommand(g, new_id[s], new_id[t], p, source_port=sp))
        return list(new_id.values())

    def duplicate(self, ids) -> list[int]:
        """Paste a copy of the nodes ``ids`` (and their inner wires) slightly offset."""
        return self.paste(self.copy_payload(ids), None, "Duplicate")


# -------------------------------------------------------------------- helpers


def feeders_column(g, info) -> dict:
    """Positions for the numbers ``expose_as_input`` made to feed the new port: a column of
    their own left of everything (nothing is covered), each level with its instance's port."""
    feeders = {i: f for i, f in info.get("feeders", {}).items() if isinstance(f, int) and f in g.nx}
    if not feeders:
        return {}
    others = [n for n in g.nx if n not in feeders.values()]
    x = min((g.position(n)[0] for n in others), default=0.0) - G.COLUMN_PITCH
    out = {}
    for inst, f in feeders.items():
        if isinstance(inst, int) and inst in g.nx:
            y = g.position(inst)[1] + G.input_port_y(info["port"]) - G.output_port_offset(NUMBER)[1]
            out[f] = (x, y)
    return out


def room_for(g, block, box) -> dict:
    """Positions that put the nodes ``block`` (an ungrouped body) where the instance was, at
    ``box`` (x, y, width, height), and move the rest out of their way, keeping every
    arrangement: what lay right of the instance moves right by the body's extra width, what
    lay below it in its column moves down by the extra height."""
    if not block:
        return {}
    size = {n: G.size_of(g.nx.nodes[n]) for n in g.nx}
    x0 = min(g.position(n)[0] for n in block)
    y0 = min(g.position(n)[1] for n in block)
    x1 = max(g.position(n)[0] + size[n][0] for n in block)
    y1 = max(g.position(n)[1] + size[n][1] for n in block)
    bx, by, bw, bh = box
    dx, dy = max(x1 - x0 - bw, 0.0), max(y1 - y0 - bh, 0.0)
    out = {n: (g.position(n)[0] - x0 + bx, g.position(n)[1] - y0 + by) for n in block}
    inside = set(block)
    for n in g.nx:
        if n in inside:
            continue
        x, y = g.position(n)
        if x >= bx + bw - 1.0:
            out[n] = (x + dx, y)
        elif x + size[n][0] > bx and y >= by:
            out[n] = (x, y + dy)
    return out


def _history_number(v: float) -> str:
    """A value as the undo history names it: like ``:g`` (six digits, the scrub's steps show),
    but -0 reads 0, as on the node (a learner should not meet a signed zero in the history)."""
    return f"{0.0 if v == 0 else v:g}"


def _point(pos) -> tuple[float, float]:
    try:
        x, y = pos
        return check_number(x, "x"), check_number(y, "y")
    except GraphError as e:
        raise _Refused(f"bad position: {e}") from None
    except (TypeError, ValueError):
        raise _Refused(f"bad position {pos!r}") from None


def _iter_ids(ids):
    if isinstance(ids, (int, str)):
        return [ids]
    try:
        return list(ids)
    except TypeError:
        raise _Refused(f"not a list of nodes: {ids!r}") from None


def _free_name(name, taken: set) -> str | None:
    if name is None:
        return None
    if name not in taken:
        return name
    k = 2
    while True:
        suffix = f"_{k}"
        cand = name[: MAX_NAME - len(suffix)] + suffix
        if cand not in taken:
            return cand
        k += 1
