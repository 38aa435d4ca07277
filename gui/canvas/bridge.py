"""DocumentBridge: the one Qt object per open document that listens to the engine.

Data flows one way: gesture -> undo command -> engine edit -> engine event -> bridge signal ->
views. The bridge is the only subscriber to a Graph in the GUI and the only caller of
``Graph.evaluate()``; the scene, the inspector and every Learn tool connect to its signals, so
replacing the document (:meth:`DocumentBridge.set_graph`) moves all of them at once.

Edits normally come from undo commands, which run inside :func:`undoable_edit`. An engine event
that arrives outside one means someone edited the Graph behind the undo stack's back (a script
holding ``window.document``); the bridge says so with :attr:`DocumentBridge.externalEdit`, and
the controller drops the undo history, which no longer describes the document.
"""

from __future__ import annotations

from contextlib import contextmanager

from PySide6.QtCore import QObject, QTimer, Signal

from engine import Graph
from engine.core import events as E

# Node and wire events say where they happened: ``definition`` None at the top level, else the
# definition whose body changed.
_PLACED = (E.NodesInserted, E.NodeAdded, E.NodeRemoved, E.EdgeAdded, E.EdgeRemoved, E.ValueChanged,
           E.ParamsChanged, E.NameChanged, E.NodeMoved, E.RoleChanged, E.InstanceChanged)

_undo_depth = [0]  # > 0 while an undo command applies its edit (Qt is single-threaded)


@contextmanager
def undoable_edit():
    """Mark the engine edits made inside as coming from the undo stack."""
    _undo_depth[0] += 1
    try:
        yield
    finally:
        _undo_depth[0] -= 1


class DocumentBridge(QObject):
    """Engine events of one Graph as typed Qt signals (see the module docstring).

    >>> b = DocumentBridge(Graph.from_expression("a*a", a=3))    # doctest: +SKIP
    >>> b.evaluated.connect(lambda: print(b.graph.grad("a")))    # doctest: +SKIP
    """

    nodeAdded = Signal(int)
    # many nodes and the wires into them added as one edit (Graph.insert_nodes): the node ids
    # and the (source, target, port, source_port) wires, drawn in one pass
    inserted = Signal(object, object)
    nodeRemoved = Signal(int)
    edgeAdded = Signal(int, int, int, int)  # source, target, port, source_port
    edgeRemoved = Signal(int, int, int, int)
    valueChanged = Signal(int)
    paramsChanged = Signal(int)  # an op node's axis/keepdims/shape changed
    nameChanged = Signal(int, object)  # node, new name (None: no name)
    nodeMoved = Signal(int, float, float)
    outputChanged = Signal(object, int)  # the pinned output and its port; None: follows the graph
    metaChanged = Signal(str)
    layoutApplied = Signal()  # many nodes moved at once: re-read every position
    reset = Signal()  # the same Graph was rebuilt wholesale: redraw everything
    replaced = Signal()  # another Graph is now the document: redraw everything, drop state
    evaluated = Signal()  # values and gradients are current
    # Composites: the body of a definition changed (every instance's inside did), or one
    # was added, removed or renamed; ``instancesChanged`` names what instance items must be
    # drawn anew (their ports changed): a definition's name (all its instances) or a node.
    definitionChanged = Signal(str)
    instancesChanged = Signal(object)
    changed = Signal(object)  # every engine event that changes the document, as the event
    externalEdit = Signal(object)  # an edit made outside any undo command

    def __init__(self, graph: Graph, parent=None):
        super().__init__(parent)
        self._graph = graph
        self._unsubscribe = None
        self._stale = False
        # A Graph may outlive its window (a script keeps it): never leave it calling a deleted
        # bridge. The lambda holds the box, not the bridge.
        box = self._box = [None]
        self.destroyed.connect(lambda *_: box[0] and box[0]())
        self._listen()

    @property
    def graph(self) -> Graph:
        return self._graph

    def set_graph(self, graph: Graph) -> None:
        """Make ``graph`` the document: emits :attr:`replaced`, then evaluates it."""
        if not isinstance(graph, Graph):
            raise TypeError(f"a Graph is needed, not {type(graph).__name__}")
        self._graph = graph
        self._listen()
        self.replaced.emit()
        self.recompute()

    def recompute(self) -> None:
        """Run forward and backward now; :attr:`evaluated` follows (through the engine event).
        The one place in the GUI that calls ``Graph.evaluate()``."""
        self._stale = False
        self._graph.evaluate()

    def close(self) -> None:
        """Stop listening to the Graph (the window closed; the Graph may live on)."""
        if self._unsubscribe is not None:
            self._unsubscribe()
        self._unsubscribe = self._box[0] = None

    # ---------------------------------------------------------------- engine events

    def _listen(self) -> None:
        self.close()
        self._unsubscribe = self._box[0] = self._graph.subscribe(self._on_event)

    def _on_event(self, ev: E.Event) -> None:
        if isinstance(ev, E.Evaluated):
            self._stale = False
            self.evaluated.emit()
            return
        if isinstance(ev, _PLACED) and ev.definition is not None:
            self.definitionChanged.emit(ev.definition)  # inside a body: no top-level item changed
        elif isinstance(ev, E.InstanceChanged):
            self.instancesChanged.emit(ev.node)
        elif isinstance(ev, (E.PortsChanged, E.DefinitionRenamed)):
            self.definitionChanged.emit(ev.definition)
            self.instancesChanged.emit(ev.definition)
        elif isinstance(ev, (E.DefinitionAdded, E.DefinitionRemoved)):
            self.definitionChanged.emit(ev.definition)
        elif isinstance(ev, E.NodesInserted):
            self.inserted.emit(ev.nodes, ev.wires)
        elif isinstance(ev, E.NodeAdded):
            self.nodeAdded.emit(ev.node)
        elif isinstance(ev, E.NodeRemoved):
            self.nodeRemoved.emit(ev.node)
        elif isinstance(ev, E.EdgeAdded):
            self.edgeAdded.emit(ev.source, ev.target, ev.port, ev.source_port)
        elif isinstance(ev, E.EdgeRemoved):
            self.edgeRemoved.emit(ev.source, ev.target, ev.port, ev.source_port)
        elif isinstance(ev, E.ValueChanged):
            self.valueChanged.emit(ev.node)
        elif isinstance(ev, E.ParamsChanged):
            self.paramsChanged.emit(ev.node)
        elif isinstance(ev, E.NameChanged):
            self.nameChanged.emit(ev.node, ev.new)
        elif isinstance(ev, E.NodeMoved):
            self.nodeMoved.emit(ev.node, *ev.new)
        elif isinstance(ev, E.OutputChanged):
            self.outputChanged.emit(ev.node, ev.port)
        elif isinstance(ev, E.MetaChanged):
            self.metaChanged.emit(ev.key)
        elif isinstance(ev, E.LayoutApplied):
            self.layoutApplied.emit()
        elif isinstance(ev, E.DocumentReset):
            self.reset.emit()
        self.changed.emit(ev)
        if not _undo_depth[0]:
            self.externalEdit.emit(ev)
        if not self._stale and not isinstance(ev, (E.NodeMoved, E.NameChanged, E.MetaChanged)):
            # The controller evaluates right after each undo step (synchronously, clearing
            # this); any other edit still gets its labels on the next turn of the event loop.
            self._stale = True
            QTimer.singleShot(0, self, self._evaluate_if_stale)

    def _evaluate_if_stale(self) -> None:
        if self._stale:
            self.recompute()
