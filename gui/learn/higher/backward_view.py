"""Learn ▸ Show Backward Graph and Learn ▸ Differentiate Again (issue 16, point 2).

Show Backward Graph asks the engine for the gradient computation
(:func:`engine.core.higher_order.gradient_graph`) and inserts its nodes into the document as
one undo step: ordinary nodes tagged ``role = "backward"``, placed by the engine under the
forward graph and mirrored to run right to left, wired to the forward values they read. Those
wires are drawn dashed (what backprop must keep in memory), counted in the status bar, and a
frame round the backward nodes names it. Being ordinary nodes they are live, editable and
steppable like any other; the same action again (checked) removes them, one undo step too.

A structural edit of the forward graph leaves the backward graph stale (it no longer is the
gradient of the document): the frame and the status bar say so and Learn ▸ Rebuild Backward
Graph replaces it in one step. Differentiate Again takes the selected gradient node as an
output and inserts its own backward graph: second derivatives.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager

import networkx as nx
from PySide6.QtCore import QObject, QRectF, Qt
from PySide6.QtGui import QAction, QColor, QKeySequence, QPainter
from PySide6.QtWidgets import QGraphicsItem, QLabel
from shiboken6 import isValid

from engine import NUMBER
from engine.core.errors import GraphError
from engine.core.higher_order import gradient_graph
from gui import style
from gui.canvas.commands import EditCommand
from gui.canvas.node_marks import MarkSet, PillMark

BACKWARD = "backward"
SAVED = QColor("#7fb7ff")  # the dashes over a wire that carries a saved forward value
STEP = QColor("#ffd166")  # the step-through's accent: the backward node computing a step's amount
FRAME = QColor(127, 183, 255, 26)
DETAIL = 0.35  # below this zoom the saved wires are drawn plain
SHOW_KEY, AGAIN_KEY, REBUILD_KEY = "Ctrl+Shift+B", "Ctrl+Shift+D", "Ctrl+Alt+B"


@contextmanager
def collector_paused():
    """Python's cyclic collector paused while a backward graph is built, inserted and
    evaluated: thousands of objects made and none freed, which the collector would walk again
    and again (a fifth of Show Backward Graph on a 1,000-node document), as the scene pauses
    it while it rebuilds."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def backward_nodes(g) -> list:
    return [n for n in g.nx.nodes if g.nx.nodes[n].get("role") == BACKWARD]


def saved_values(g) -> list:
    """The forward nodes a backward node reads: the values backprop keeps in memory."""
    back = set(backward_nodes(g))
    return sorted({s for s, t in g.nx.edges() if t in back and s not in back})


def forward_shape(g) -> frozenset:
    """The forward graph's structure (nodes, ops, wires): what the backward graph was built for."""
    back = set(backward_nodes(g))
    nodes = frozenset((n, g.op(n)) for n in g.nx.nodes if n not in back)
    wires = frozenset((s, t, p) for s, t, p in g.nx.edges(keys=True) if s not in back and t not in back)
    return nodes | wires


class InsertNodesCommand(EditCommand):
    """Add nodes of ``source`` (a Graph holding the document plus them, same ids) with their
    names, values, parameters, positions and roles, and every wire into them; undo removes
    them. One undo step for the whole backward graph."""

    def __init__(self, graph, source, nodes, text: str):
        super().__init__(graph, text)
        self.specs = [source.node(n) for n in nodes]  # with their x and y
        new = set(nodes)
        self.wires = [w for w in source.wires() if w.target in new]

    def _do(self):
        # one edit, one event: the canvas adds the 1,200 nodes of a backward graph in one pass
        self.graph.insert_nodes(self.specs, self.wires)

    def _undo(self):
        for s in reversed(self.specs):
            self.graph.remove_node(s["id"])


class RemoveNodesCommand(EditCommand):
    """Remove nodes (and their wires); undo puts them back exactly."""

    def __init__(self, graph, nodes, text: str):
        super().__init__(graph, text)
        self._inverse = InsertNodesCommand(graph, graph, nodes, text)
        keep = set(nodes)
        # wires out of the removed nodes into nodes that stay come back too
        self._out = [w for w in graph.wires() if w.source in keep and w.target not in keep]

    def _do(self):
        self._inverse._undo()

    def _undo(self):
        self._inverse._do()
        for w in self._out:
            self.graph.connect(w.source, w.target, w.port, source_port=w.source_port)


class SavedWireMark(QGraphicsItem):
    """Dashes drawn over a wire that brings a saved forward value into the backward graph."""

    def __init__(self, wire):
        super().__init__(wire)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self._pen = style.pen(SAVED, 2.0, Qt.PenStyle.DashLine)
        self._under = style.pen(style.BACKGROUND, 3.0)

    def boundingRect(self) -> QRectF:  # noqa: N802
        return self.parentItem().boundingRect()

    def paint(self, painter: QPainter, option, widget=None):
        # Zoomed far out the dashes would not read, and asking for the wire's path routes it
        # (the canvas routes a wire only when it is drawn in detail): leave the plain wire.
        if option.levelOfDetailFromTransform(painter.worldTransform()) < DETAIL:
            return
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        path = self.parentItem().path()
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(self._under)  # hide the plain wire, so the gaps read as gaps
        painter.drawPath(path)
        painter.setPen(self._pen)
        painter.drawPath(path)


class BackwardFrame(QGraphicsItem):
    """A tinted frame behind the backward nodes, with its title in the top-left corner."""

    def __init__(self):
        super().__init__()
        self.setZValue(-3.0)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self._rect = QRectF()
        self.title = ""
        self._font = style.font(9.0, bold=True)

    def set(self, rect: QRectF, title: str) -> None:
        self.prepareGeometryChange()
        self._rect, self.title = QRectF(rect), title
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802
        return self._rect.adjusted(-2, -2, 2, 2)

    def paint(self, painter: QPainter, option, widget=None):
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(style.pen(SAVED, 1.0, Qt.PenStyle.DashLine))
        painter.setBrush(FRAME)
        painter.drawRoundedRect(self._rect, 10, 10)
        painter.setFont(self._font)
        painter.setPen(SAVED)
        painter.drawText(self._rect.adjusted(10, 6, -10, -6),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop, self.title)


class BackwardGraphView(QObject):
    """The backward-graph actions of one window and what they draw."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.scene = window.scene
        self.bridge = window.bridge
        self.stack = window.undo_stack
        self.built_for = None  # forward_shape() when the backward graph was (re)built
        self.sends: dict = {}  # (forward node, port) -> the backward node computing that amount
        self.step_marks = MarkSet(self.scene)
        self.frame: BackwardFrame | None = None
        self.dashes: dict = {}
        self.label = QLabel()
        self.label.setObjectName("backwardLabel")
        self.label.setStyleSheet(f"color: {SAVED.name()};")
        self.label.hide()
        window.statusBar().addPermanentWidget(self.label)

        self.act_show = self._action("Show &Backward Graph", self.toggle, SHOW_KEY,
                                     "Draw the gradient computation as nodes under the graph, right to "
                                     "left; dashed wires are the forward values it keeps (again: remove it)",
                                     checkable=True)
        self.act_rebuild = self._action("&Rebuild Backward Graph", self.rebuild, REBUILD_KEY,
                                        "Build the backward graph again for the forward graph as it is now")
        self.act_again = self._action("&Differentiate Again", self.differentiate_again, AGAIN_KEY,
                                      "Take the selected gradient node as an output and add its backward "
                                      "graph: second derivatives")
        window.add_learn_action(self.act_show, new_section=True)
        window.add_learn_action(self.act_rebuild)
        window.add_learn_action(self.act_again)
        self.bridge.evaluated.connect(self.refresh)
        self.bridge.replaced.connect(self._on_replaced)
        self.bridge.nodeMoved.connect(lambda *_: self._place_frame())
        if window.experiment is not None:  # step-through shows which backward node computes each amount
            self.stepper = window.experiment.step
            self.stepper.changed.connect(self.show_step)
            self.stepper.activeChanged.connect(lambda _on: self.show_step())
        else:
            self.stepper = None
        self.refresh()

    def _action(self, text, slot, key, tip, checkable=False) -> QAction:
        act = QAction(text, self.window)
        act.setShortcut(QKeySequence(key))
        shown = act.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        act.setToolTip(f"{tip}  ({shown})")
        act.setStatusTip(tip)
        act.setCheckable(checkable)
        act.triggered.connect(lambda _c=False: self._run(slot))
        return act

    @staticmethod
    def _run(slot) -> None:
        with collector_paused():
            slot()

    def say(self, text: str) -> None:
        self.window.show_message(text, 12000)

    # ---------------------------------------------------------------- edits (one undo step each)

    @property
    def shown(self) -> bool:
        return bool(backward_nodes(self.bridge.graph))

    def toggle(self) -> bool:
        """Insert the backward graph, or remove it when there is one."""
        ok = self.hide() if self.shown else self.show()
        self.act_show.setChecked(self.shown)
        return ok

    def _build(self, output=None):
        g = self.bridge.graph
        out = output if output is not None else g.output_node()
        if out is None:
            self.say("No backward graph: the graph has no output (pin one)" if len(g) else
                     "No backward graph: the document is empty")
            return None
        # The forward numbers the output depends on, the named ones when there are any (x, W;
        # not a constant exponent 2, whose derivative a**b·log a is NaN for a negative base),
        # as the second-order views choose them; never the backward pass's own constants.
        wrt = [n for n in nx.ancestors(g.nx, out) if g.op(n) == NUMBER and g.role(n) != BACKWARD]
        wrt = [n for n in wrt if g.name(n)] or wrt
        if not wrt:
            self.say(f"No backward graph: {g.label(out)} depends on no number")
            return None
        try:
            r = gradient_graph(g, out, sorted(wrt))
        except GraphError as e:
            self.say(f"No backward graph: {e}")
            return None
        new = [n for n in r.nodes if n not in g.nx]
        if not new:
            self.say("No backward graph: the output depends on no number")
            return None
        return r, new

    def show(self) -> bool:
        built = self._build()
        if built is None:
            return False
        r, new = built
        self.built_for = forward_shape(self.bridge.graph)
        self.sends = dict(r.sends)
        self.stack.push(InsertNodesCommand(self.bridge.graph, r.graph, new,
                                           f"Show backward graph ({len(new)} nodes)"))
        self.say(f"Backward graph: {len(new)} nodes, reading {len(r.saved)} saved forward values "
                 "(dashed wires); every node is live")
        return True

    def hide(self) -> bool:
        back = backward_nodes(self.bridge.graph)
        if not back:
            self.say("There is no backward graph to hide")
            return False
        text = f"Hide backward graph ({len(back)} nodes)"
        self.stack.push(RemoveNodesCommand(self.bridge.graph, back, text))
        self.say("Backward graph removed (undo brings it back)")
        return True

    def rebuild(self) -> bool:
        g = self.bridge.graph
        back = backward_nodes(g)
        if not back:
            return self.show()
        self.stack.beginMacro("Rebuild backward graph")
        try:
            self.stack.push(RemoveNodesCommand(g, back, "Hide backward graph"))
            built = self._build()
            if built is not None:
                r, new = built
                self.built_for = forward_shape(g)
                self.sends = dict(r.sends)
                self.stack.push(InsertNodesCommand(g, r.graph, new, "Show backward graph"))
        finally:
            self.stack.endMacro()
        if built is None:
            self.stack.undo()  # nothing to show: leave the document as it was
            return False
        self.say(f"Backward graph rebuilt: {len(new)} nodes")
        return True

    def differentiate_again(self) -> bool:
        g = self.bridge.graph
        sel = self.scene.selected_node_ids()
        if len(sel) != 1:
            self.say("Differentiate Again: select one gradient node (a node of the backward graph)")
            return False
        n = sel[0]
        if g.role(n) != BACKWARD:
            self.say(f"Differentiate Again: {g.label(n)} is not a gradient node; "
                     f"show the backward graph ({SHOW_KEY}) and select one of its nodes")
            return False
        built = self._build(n)
        if built is None:
            return False
        r, new = built
        self.stack.push(InsertNodesCommand(g, r.graph, new, f"Differentiate {g.label(n)} again"))
        self.say(f"Differentiated {g.label(n)} again: {len(new)} nodes of second derivatives added")
        return True

    # ---------------------------------------------------------------- drawing

    def _on_replaced(self):
        self.built_for = None
        self.sends = {}
        self.step_marks.clear()
        self.dashes = {}
        self.frame = None
        self.refresh()

    def stale(self) -> bool:
        built = self.built_for
        return self.shown and built is not None and forward_shape(self.bridge.graph) != built

    def refresh(self) -> None:
        if not (isValid(self.scene) and isValid(self.label)):
            return
        g = self.bridge.graph
        back = set(backward_nodes(g))
        self.act_show.setChecked(bool(back))
        if back and self.built_for is None:
            self.built_for = forward_shape(g)  # a document saved with its backward graph
        want = {}
        for s, t, p in g.nx.edges(keys=True):
            if t in back and s not in back:
                w = self.scene.wire_item(s, t, p)
                if w is not None:
                    want[(s, t, p)] = w
        for k in [k for k in self.dashes if k not in want or not isValid(self.dashes[k])
                  or self.dashes[k].parentItem() is not want.get(k)]:
            m = self.dashes.pop(k)
            if isValid(m) and m.scene() is not None:
                m.scene().removeItem(m)
        for k, w in want.items():
            if k not in self.dashes:
                self.dashes[k] = SavedWireMark(w)
        # both read every wire of the document: measured once for the label and the frame
        saved = len(saved_values(g)) if back else 0
        is_stale = bool(back) and self.stale()
        if back:
            stale = " · STALE: the forward graph changed, Rebuild (Ctrl+Alt+B)" if is_stale else ""
            self.label.setText(f"backward graph: {len(back)} nodes · {saved} saved forward values{stale}")
            self.label.setToolTip("The forward values the backward pass reads (dashed wires): what "
                                  "backprop has to keep in memory between the passes")
            self.label.show()
        else:
            self.label.hide()
        self._place_frame(saved, is_stale)

    def show_step(self) -> None:
        """While stepping backward, mark the backward node that computes each amount the
        current step sends (when the backward graph is shown and not stale)."""
        st = self.stepper
        state = st.state() if st is not None and st.active else None
        g = self.bridge.graph
        keys = []
        if state is not None and state.node is not None and self.sends and not self.stale():
            by_node: dict = {}  # an add passes its gradient on unchanged: one node, several amounts
            for port, src, amount, _before, _after in state.sends:
                b = self.sends.get((state.node, port))
                if b is not None and b in g.nx:
                    by_node.setdefault(b, []).append((src, amount))
            for b, sent in by_node.items():
                targets = ", ".join(dict.fromkeys(g.label(src) for src, _a in sent))
                text = f"computes {g.label(state.node)} → {targets}: {style.format_number(sent[0][1])}"
                tip = (f"This backward node computes what step {state.k} sends from "
                       f"{g.label(state.node)} back to {targets}")
                self.step_marks.set((b, "step"),
                                    lambda it, t=text, tp=tip: PillMark(it, t, STEP, style.BACKGROUND, tp))
                keys.append((b, "step"))
        self.step_marks.keep_only(keys)

    def _place_frame(self, saved: int | None = None, stale: bool | None = None) -> None:
        g = self.bridge.graph
        items = [self.scene.node_item(n) for n in backward_nodes(g)]
        items = [it for it in items if it is not None]
        if not items:
            if self.frame is not None and isValid(self.frame) and self.frame.scene() is not None:
                self.frame.scene().removeItem(self.frame)
            self.frame = None
            return
        box = QRectF()
        for it in items:
            box = box.united(it.mapRectToScene(it.body_rect()))
        if self.frame is None or not isValid(self.frame):
            self.frame = BackwardFrame()
            self.scene.addItem(self.frame)
        if saved is None:
            saved = len(saved_values(g))
        title = f"Backward pass · {len(items)} nodes · reads {saved} saved forward values (dashed)"
        if self.stale() if stale is None else stale:
            title += " · stale"
        self.frame.set(box.adjusted(-24, -40, 24, 24), title)
