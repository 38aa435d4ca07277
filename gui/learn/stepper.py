"""Step mode: walk the forward pass and then the backward pass one node at a time, and
watch the values appear and the gradients add up.

The engine gives the passes as lists of steps (:func:`engine.learn.stepper.forward_steps`,
:meth:`engine.Graph.steps`) and replays the first k of them (``forward_state_after``,
``state_after``); this module only shows that state on the canvas:

- forward: nodes not computed yet show an empty value slot; the node being computed is
  highlighted, with the values arriving on its input wires (``3 →``);
- backward: a node no gradient has reached shows an empty gradient slot (at step 0 only the
  output holds its seed 1), a reached node its sum so far (amber) or its final gradient (red);
- the node being processed is highlighted, with its gradient above it, and each wire into it
  carries the amount it sends back (``← 20``); wires processed earlier keep the amount they
  sent, wires not reached yet show nothing;
- each input it sends to shows its sum growing (``15 + 20 = 35``);
- the view keeps the node being processed in sight.

F8 starts at the backward pass's step 0 (the flagship lesson); stepping back from there, or
"Step Through Forward", walks the forward pass first. Home and End go to the start and end of
the pass being shown; stepping on past the forward pass's end enters the backward pass.

Nothing here edits the document. Any edit (other than moving a node) leaves step mode, since
the steps shown would no longer be the document's.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QRectF, QTimer, Signal
from shiboken6 import isValid

from engine import OPS
from engine.core.arrays import ndarray, shape_text
from engine.core.events import MetaChanged, NameChanged, NodeMoved
from engine.learn.stepper import (
    ForwardState,
    OutputPort,
    StepState,
    address_label,
    composite_forward_steps,
    composite_steps,
    forward_state_after,
    forward_steps,
    is_instance_step,
    state_after,
    step_context,
    step_out_index,
    top_node,
)
from gui.canvas.items import SLOT_EMPTY
from gui.canvas.overlays import ABOVE, ACCENT, BELOW, OverlayLayer
from gui.canvas.scene import summed_axes
from gui.learn.step_inside import InsideStepView, draw_backward, draw_forward
from gui.style import MINUS
from gui.style import format_number as _format_number

DEFAULT_INTERVAL_MS = 1000
MIN_INTERVAL_MS, MAX_INTERVAL_MS = 50, 5000
SPEED_STEPS = 20  # the speed slider's positions: 1 (slowest) .. SPEED_STEPS (fastest)
FORWARD, BACKWARD = "forward", "backward"


def speed_interval(position: int) -> int:
    """Milliseconds per step for speed-slider ``position`` (1..SPEED_STEPS): geometric from
    4 s (slow enough to say each step aloud) to MIN_INTERVAL_MS, so every notch feels alike."""
    p = max(1, min(SPEED_STEPS, int(position)))
    slow = 4000.0
    return round(slow * (MIN_INTERVAL_MS / slow) ** ((p - 1) / (SPEED_STEPS - 1)))


def speed_position(interval_ms: int) -> int:
    """The slider position whose interval is nearest ``interval_ms``."""
    return min(range(1, SPEED_STEPS + 1), key=lambda p: abs(speed_interval(p) - interval_ms))


_QUIET_EVENTS = (NodeMoved, NameChanged, MetaChanged)  # these leave the steps valid


def format_number(x) -> str:
    """A number as step mode writes it; an array by its shape alone (``4×8 array``): its
    numbers are drawn in its node's grid or heatmap, and a summary would crowd the pills; an
    instance's several outputs as ``(a, b)``."""
    if type(x) is tuple:
        return "(" + ", ".join(format_number(v) for v in x) + ")"
    if type(x) is ndarray:
        return f"{'×'.join(map(str, x.shape)) if x.ndim > 1 else shape_text(x.shape)} array"
    return _format_number(x)


def growth_text(before, amounts, after) -> str:
    """How an input's gradient grows in one step: ``15 + 20 = 35`` (a first contribution
    starts from 0; a negative amount is subtracted: ``4 − 3 = 1``)."""
    if type(after) is ndarray:  # the numbers are in the node's grid or heatmap
        n = len(amounts)
        return f"gradient so far: {format_number(after)}" + (f" (+ {n} terms)" if n > 1 else "")
    parts = [format_number(0.0 if before is None else before)]
    for a in amounts:
        if isinstance(a, (int, float)) and a < 0:
            parts.append(f"{MINUS} {format_number(-a)}")
        else:
            parts.append(f"+ {format_number(a)}")
    return f"{' '.join(parts)} = {format_number(after)}"


class StepMode(QObject):
    """The step-through state for one window: which pass and step is shown, and playback.

    ``changed`` fires after every change of the shown step (and on start/stop), ``activeChanged``
    when the mode starts or ends, ``playingChanged`` when playback starts or stops. ``message``
    carries a sentence for the status bar.
    """

    changed = Signal()
    activeChanged = Signal(bool)
    playingChanged = Signal(bool)
    message = Signal(str)

    def __init__(self, controller, scene, parent=None):
        super().__init__(parent)
        # Without a controller (an animation drawn offscreen on a read-only scene) the scene
        # gives the graph and the bridge: step mode never edits, so that is all it needs.
        self._controller = controller if controller is not None else scene
        controller = self._controller
        self._scene = scene
        self.overlay = OverlayLayer(scene)
        self._steps: list = []
        self._fsteps: list = []
        self._k = 0
        self._fk = 0
        self._phase = BACKWARD
        self._active = False
        self._highlighted: int | None = None
        self._wire_grads = False
        self._labelled_wires: set = set()  # wires whose own label step mode set
        self._viewed: set = set()  # nodes whose rows step mode overrides
        self._into: list = []  # instances stepped into (F11): ids, instance paths when nested
        self._inside: InsideStepView | None = None  # the canvas area F11 enters, when there is one
        self._timer = QTimer(self)
        self._timer.setInterval(DEFAULT_INTERVAL_MS)
        self._timer.timeout.connect(self._tick)
        controller.bridge.replaced.connect(self._on_document_replaced)
        controller.bridge.changed.connect(self._on_event)

    def set_canvas_area(self, area) -> None:
        """Enter instances stepped into on ``area`` (a :class:`gui.shell.entered.CanvasArea`)
        and draw their inside's steps there; without one the steps are told in callouts on the
        closed instance."""
        self._inside = InsideStepView(area)

    @property
    def inside_overlay(self):
        """The labels step mode shows on the entered instance (None when not inside)."""
        return self._inside.overlay if self._inside is not None else None

    # ---------------------------------------------------------------- state

    @property
    def active(self) -> bool:
        return self._active

    @property
    def playing(self) -> bool:
        return self._timer.isActive()

    @property
    def phase(self) -> str:
        """FORWARD or BACKWARD: which pass is shown."""
        return self._phase

    @property
    def k(self) -> int:
        """How many backward steps have been applied (0: only the output holds its seed; also
        0 while the forward pass is shown)."""
        return self._k if self._phase == BACKWARD else 0

    @property
    def total(self) -> int:
        return len(self._steps)

    @property
    def forward_k(self) -> int:
        """How many forward steps are shown (all of them once the backward pass is)."""
        return self._fk if self._phase == FORWARD else len(self._fsteps)

    @property
    def forward_total(self) -> int:
        return len(self._fsteps)

    @property
    def steps(self) -> list:
        """The engine's backward steps being walked (a copy)."""
        return list(self._steps)

    @property
    def highlighted(self) -> int | None:
        """The node whose step is shown, or None."""
        return self._highlighted

    def state(self) -> StepState | None:
        """The backward pass's state (None when inactive or while the forward pass is shown)."""
        return state_after(self._steps, self._k) if self._active and self._phase == BACKWARD else None

    def forward_state(self) -> ForwardState | None:
        if not self._active or self._phase != FORWARD:
            return None
        return forward_state_after(self._fsteps, self._fk)

    @property
    def interval(self) -> int:
        """Milliseconds between steps while playing."""
        return self._timer.interval()

    def set_interval(self, ms: int) -> None:
        self._timer.setInterval(max(MIN_INTERVAL_MS, min(MAX_INTERVAL_MS, int(ms))))

    # ---------------------------------------------------------------- mode

    def start(self, forward: bool = False) -> bool:
        """Enter step mode at the backward pass's step 0, or (``forward=True``) at the start
        of the forward pass; False (with a message) if there is nothing to step."""
        if self._active:
            if forward:
                self._phase, self._fk = FORWARD, 0
                self._show()
            return True
        g = self._controller.graph
        self._into = []
        steps, fsteps = self._passes(g)
        if not steps:
            out = g.output_node()
            why = (
                "no output: set one first"
                if out is None
                else f"the output {g.label(out)} has no value (an input is not connected)"
            )
            self.message.emit(f"Nothing to step through: {why}")
            return False
        self._steps = steps
        self._fsteps = fsteps
        self._k = self._fk = 0
        self._phase = FORWARD if forward else BACKWARD
        self._active = True
        # The wires' own gradient labels show the final amounts: step mode sets them itself,
        # showing only what has been sent so far.
        self._wire_grads = self._scene.show_wire_grads
        if self._wire_grads:
            self._scene.set_show_wire_grads(False)
        self.activeChanged.emit(True)
        self._show()
        return True

    def start_forward(self) -> bool:
        """Enter step mode at the start of the forward pass (no value computed yet)."""
        return self.start(forward=True)

    def stop(self, reason: str | None = None) -> None:
        """Leave step mode and remove everything it drew."""
        if not self._active:
            return
        self.pause()
        self._active = False
        self._set_highlight(None)
        self.overlay.clear()
        self._clear_rows()
        if isValid(self._scene):
            self._scene.set_show_wire_grads(self._wire_grads)  # also clears step mode's wire labels
        self._labelled_wires = set()
        self._wire_grads = False
        self._steps = []
        self._fsteps = []
        self._into = []
        self._k = self._fk = 0
        self._phase = BACKWARD
        if self._inside is not None:
            self._inside.leave()  # step mode took the canvas in: it brings it back out
        self.activeChanged.emit(False)
        self.changed.emit()
        if reason:
            self.message.emit(reason)

    def _passes(self, g) -> tuple[list, list]:
        """(backward steps, forward steps): a document with instances steps over each one,
        except those stepped into."""
        if any(g.op(n) == "call" for n in g.nodes()):
            return composite_steps(g, self._into), composite_forward_steps(g, self._into)
        return g.steps(), forward_steps(g)

    @property
    def stepped_into(self) -> list:
        """The instances stepped into (ids; instance paths when nested), in the order entered."""
        return list(self._into)

    def _next_address(self):
        if self._phase == FORWARD:
            return self._fsteps[self._fk][0] if self._fk < self.forward_total else None
        return self._steps[self._k][0] if self._k < self.total else None

    def step_into(self) -> bool:
        """F11: when the next step is an instance, step into it (its output ports, the nodes
        inside and its input ports become steps of their own) and take the first of them;
        otherwise one step, as F10. With a canvas area (:meth:`set_canvas_area`) the canvas
        enters the instance and draws the inside's steps on its body; the closed instance's
        callout tells them too. False at the end."""
        if not self._active:
            return self.start()
        g = self._controller.graph
        addr = self._next_address()
        if addr is None or not is_instance_step(g, addr):
            return self.forward()
        self._into.append(addr)  # a top-level id, or an instance path for a nested one
        # stepping into changes only the steps from this instance on: the position is kept
        self._steps, self._fsteps = self._passes(g)
        self.message.emit(f"Stepping into {g.label(addr)}: its inside, one node at a time "
                          "(Shift+F11 steps out)")
        return self.forward()

    def step_out(self) -> bool:
        """Shift+F11: run the remaining steps of the instance the next step is inside, and stop
        at the first step after it. False (with a message) at the top level."""
        if not self._active:
            return False
        g = self._controller.graph
        forward = self._phase == FORWARD
        steps, k = (self._fsteps, self._fk) if forward else (self._steps, self._k)
        target = step_out_index(steps, k)
        if target is None:
            self.message.emit("Not inside an instance: F11 steps into the instance that is the next step")
            return False
        inst = step_context(steps[k][0])
        inst = inst if len(inst) > 1 else inst[0]
        if forward:
            self.go_to_forward(target)
        else:
            self.go_to(target)
        self.message.emit(f"Stepped out of {g.label(inst)}. " + self.describe())
        return True

    def set_active(self, on: bool) -> bool:
        if on:
            return self.start()
        self.stop()
        return True

    # ---------------------------------------------------------------- navigation

    def go_to(self, k: int) -> None:
        """Show the backward pass after ``k`` steps (clamped to 0..total)."""
        if not self._active:
            return
        k = max(0, min(self.total, int(k)))
        if k != self._k or self._phase != BACKWARD:
            self._phase, self._k = BACKWARD, k
            self._show()

    def go_to_forward(self, k: int) -> None:
        """Show the forward pass after ``k`` of its steps (clamped to 0..forward_total)."""
        if not self._active:
            return
        k = max(0, min(self.forward_total, int(k)))
        if k != self._fk or self._phase != FORWARD:
            self._phase, self._fk = FORWARD, k
            self._show()

    def forward(self) -> bool:
        """One step on (from the forward pass's end into the backward pass); False at the end."""
        if not self._active:
            return False
        if self._phase == FORWARD:
            if self._fk < self.forward_total:
                self.go_to_forward(self._fk + 1)
            else:
                self.go_to(0)
            return True
        if self._k >= self.total:
            return False
        self.go_to(self._k + 1)
        return True

    def back(self) -> bool:
        """One step back (from the backward pass's step 0 into the forward pass's end);
        False at the very start."""
        if not self._active:
            return False
        if self._phase == FORWARD:
            if self._fk <= 0:
                return False
            self.go_to_forward(self._fk - 1)
            return True
        if self._k <= 0:
            if not self._fsteps:
                return False
            self.go_to_forward(self.forward_total)
            return True
        self.go_to(self._k - 1)
        return True

    def to_start(self) -> None:
        """The start of the pass being shown."""
        if self._phase == FORWARD:
            self.go_to_forward(0)
        else:
            self.go_to(0)

    def to_end(self) -> None:
        """The end of the pass being shown."""
        if self._phase == FORWARD:
            self.go_to_forward(self.forward_total)
        else:
            self.go_to(self.total)

    @property
    def at_end(self) -> bool:
        return self._phase == BACKWARD and self._k >= self.total

    def play(self) -> None:
        """Advance one step per interval until the end of the backward pass (from the start of
        the backward pass if already at the end)."""
        if not self._active and not self.start():
            return
        if self.at_end:
            self.go_to(0)
        if not self._timer.isActive():
            self._timer.start()
            self.playingChanged.emit(True)

    def pause(self) -> None:
        if self._timer.isActive():
            self._timer.stop()
            self.playingChanged.emit(False)

    def toggle_play(self) -> None:
        if self.playing:
            self.pause()
        else:
            self.play()

    def _tick(self) -> None:
        if not self.forward() or self.at_end:
            self.pause()

    # ---------------------------------------------------------------- document events

    def _on_document_replaced(self) -> None:
        self.stop("Step mode ended: another document was opened")

    def _on_event(self, ev) -> None:
        if not self._active:
            return
        if isinstance(ev, NodeMoved):
            self.overlay.relayout()
        elif not isinstance(ev, _QUIET_EVENTS):
            self.stop("Step mode ended: the graph was edited")

    # ---------------------------------------------------------------- drawing

    def describe(self) -> str:
        """The shown step in one sentence (toolbar and status bar)."""
        if not self._active:
            return ""
        g = self._controller.graph
        if self._phase == FORWARD:
            f = forward_state_after(self._fsteps, self._fk)
            if f.k == 0:
                return (f"Forward pass, step 0 of {f.total}: no value computed yet. Step on to "
                        f"compute each node from its inputs, in order.")
            head = f"Forward step {f.k} of {f.total}: {address_label(g, f.node)} = {format_number(f.value)}"
            if not f.inputs:
                tail = " (a number: its value is given)."
            elif g.op(f.node) in ("input", "output"):
                tail = f" ({_port_words(g, f)})."
            else:
                tail = f", computed from {forward_formula(g, f)}."
            if f.done:
                tail += " Forward pass done: step on to start the backward pass."
            return head + tail
        s = state_after(self._steps, self._k)
        if s.k == 0:
            root = self._steps[0][0]
            return (
                f"Step 0 of {s.total}: backward starts at the output {address_label(g, root)} "
                f"with gradient 1. Step on to process it."
            )
        head = f"Step {s.k} of {s.total}: {address_label(g, s.node)} (gradient {format_number(s.grad)})"
        if not s.sends:
            tail = " is a number: nothing to send back; its gradient is final."
        else:
            parts = [f"{format_number(a)} to {address_label(g, src)}" for _p, src, a, _b, _c in s.sends]
            tail = " sends " + ", ".join(parts) + "."
        if s.done:
            tail += " Done: every gradient is final."
        return head + tail

    def caption(self) -> str:
        """The shown step in the words of the canvas's callouts, for an animation frame:
        ``b sends 20 back to a: 15 + 20 = 35`` (see :func:`backward_caption`)."""
        if not self._active:
            return ""
        g = self._controller.graph
        if self._phase == FORWARD:
            return forward_caption(g, forward_state_after(self._fsteps, self._fk))
        return backward_caption(g, state_after(self._steps, self._k), self._steps[0][0])

    def _set_highlight(self, node) -> None:
        node = None if node is None else top_node(node)  # a step inside an instance: the instance
        if self._highlighted is not None:
            it = self._scene.node_item(self._highlighted)
            if it is not None and isValid(it):
                it.set_highlight(False)
        self._highlighted = node
        if node is not None:
            it = self._scene.node_item(node)
            if it is not None:
                it.set_highlight(True)
            self._follow(it)

    def _follow(self, item) -> None:
        """Keep the node being processed in sight, with the inputs its step touches when they
        fit too (their sums grow under them); scroll only when something is out of view."""
        if item is None or not isValid(self._scene):
            return
        rect = item.sceneBoundingRect()
        both = QRectF(rect)
        for n in self._step_inputs():
            other = self._scene.node_item(n)
            if other is not None:
                both = both.united(other.sceneBoundingRect().adjusted(0, 0, 0, 24))  # its label
        for view in self._scene.views():
            seen = view.mapToScene(view.viewport().rect()).boundingRect()
            want = both if both.width() + 80 <= seen.width() and both.height() + 80 <= seen.height() else rect
            if not seen.contains(want):
                view.ensureVisible(want, 40, 40)

    def _step_inputs(self) -> list:
        """The nodes the shown step reads (forward) or sends to (backward)."""
        if self._phase == FORWARD:
            f = forward_state_after(self._fsteps, self._fk)
            return [top_node(src) for _p, src, _v in f.inputs]
        s = state_after(self._steps, self._k)
        return [top_node(src) for _p, src, *_ in s.sends]

    def labels(self) -> dict:
        """What the overlay shows: {key: text} (see :meth:`OverlayLayer.texts`)."""
        return self.overlay.texts()

    def _clear_rows(self) -> None:
        for n in self._viewed:
            it = self._scene.node_item(n) if isValid(self._scene) else None
            if it is not None and isValid(it):
                it.set_step_view(None, None)
                it.set_step_array(None)
        self._viewed = set()

    def _set_rows(self, rows: dict) -> None:
        """{node: (value, grad, final)} for the nodes step mode shows; the rest show the engine.
        Addresses inside instances have no item of their own: they are left out."""
        rows = {n: r for n, r in rows.items() if type(n) is int}
        for n in self._viewed - set(rows):
            it = self._scene.node_item(n)
            if it is not None:
                it.set_step_view(None, None)
        for n, (value, grad, final) in rows.items():
            it = self._scene.node_item(n)
            if it is not None:
                it.set_step_view(value, grad, final)
        self._viewed = set(rows)

    def _set_step_arrays(self, grads: dict) -> None:
        """Array nodes draw the gradient they have received so far in their grid or heatmap."""
        for n, it in self._scene.node_items().items():
            if it.tensor_shape:
                gr = grads.get(n)
                it.set_step_array(gr if type(gr) is ndarray else None)

    def _set_wire_labels(self, amounts: dict) -> None:
        """{(src, dst, port): text} on the wires' own labels; every other wire step mode
        labelled before loses its label."""
        for key in self._labelled_wires - set(amounts):
            w = self._scene.wire_item(*key)
            if w is not None:
                w.set_grad_text(None)
        for key, text in amounts.items():
            w = self._scene.wire_item(*key)
            if w is not None:
                w.set_grad_text(text)
        self._labelled_wires = set(amounts)

    def _show(self) -> None:
        if self._phase == FORWARD:
            self._show_forward()
        else:
            self._show_backward()
        self._show_inside()
        self.changed.emit()
        self.message.emit(self.describe())

    def _show_forward(self) -> None:
        g = self._controller.graph
        f = forward_state_after(self._fsteps, self._fk)
        keys = []
        # every node of the pass: its value once computed, an empty slot before; no gradients yet
        rows = {n: (format_number(_first(f.values[n])) if n in f.values else SLOT_EMPTY, SLOT_EMPTY, False)
                for n, _v, _i in self._fsteps}
        self._set_rows(rows)
        self._set_wire_labels({})
        self._set_highlight(f.node)
        if f.node is not None:
            text = f"computing: {format_number(f.value)}" if f.inputs else f"given: {format_number(f.value)}"
            inside = type(f.node) is tuple
            if inside:  # the canvas shows the instance closed: the callout says where inside
                text = f"inside {g.label(f.node[0])}: {forward_caption(g, f)}"
            self.overlay.node_label(top_node(f.node), text, ACCENT,
                                    "forward pass: this node's value from the values arriving at its inputs",
                                    ABOVE, True)
            keys.append(("node", top_node(f.node), ABOVE))
            for port, src, value in f.inputs:
                wire = drawn_wire(g, f.node, port, src)
                if wire is None:
                    continue
                self.overlay.wire_label(*wire, f"{format_number(value)} →", ACCENT,
                                        f"{address_label(g, src)} sends its value {format_number(value)} "
                                        f"forward to {address_label(g, f.node)}", bold=True)
                keys.append(("wire", *wire))
        self.overlay.keep_only(keys)

    def _show_backward(self) -> None:
        g = self._controller.graph
        s = state_after(self._steps, self._k)
        keys = []

        def node_label(n, text, colour, place=BELOW, bold=False, tip="", must=False):
            self.overlay.node_label(n, text, colour, tip, place, bold, must)
            keys.append(("node", n, place))

        done = set(s.processed)
        # Rows: a gradient slot stays empty until something reaches it; a sum being built is
        # amber, a finished one red. Values are all known (the forward pass is done).
        rows = {}
        for n, _grad, _sends in self._steps:
            grad = s.grads.get(n)
            rows[n] = (None, SLOT_EMPTY if grad is None else format_number(grad), n in done)
        if s.k == 0:
            root = self._steps[0][0]
            rows[root] = (None, "1" if s.grads.get(root) == 1 else format_number(s.grads.get(root)), True)
        self._set_rows(rows)
        self._set_step_arrays(s.grads)
        # The wires' own labels: what was sent in the steps already taken (not the current one,
        # whose amounts the overlay shows in the accent colour).
        sent = {}
        for node, _g, sends in self._steps[: max(0, s.k - 1)]:
            for port, src, amount, _b, _a in sends:
                wire = drawn_wire(g, node, port, src)
                if wire is not None:
                    sent[wire] = format_number(amount)
        self._set_wire_labels(sent)

        if s.k == 0:
            root = self._steps[0][0]
            self._set_highlight(root)
            node_label(top_node(root), "seed: gradient 1", ACCENT, ABOVE, True,
                       "backward starts here: d(output)/d(output) = 1")
            self.overlay.keep_only(keys)
            return
        self._set_highlight(s.node)
        inside = type(s.node) is tuple
        growth: dict = {}
        for port, src, amount, before, after in s.sends:
            wire = drawn_wire(g, s.node, port, src)
            if wire is not None:
                self.overlay.wire_label(*wire, f"← {sent_text(g, s, src, amount)}", ACCENT,
                                        f"{address_label(g, s.node)} sends {format_number(amount)} back to "
                                        f"{address_label(g, src)}", bold=True)
                keys.append(("wire", *wire))
            entry = growth.setdefault(src, [before, [], after])
            entry[1].append(amount)
            entry[2] = after
        if inside:  # the canvas shows the instance closed: the callout tells the inside's step
            node_label(top_node(s.node), f"inside {g.label(s.node[0])}: {backward_caption(g, s, None)}",
                       ACCENT, ABOVE, True, "a step inside this instance (F11 stepped into it; "
                       "Shift+F11 steps out)")
        else:
            node_label(s.node, f"processing: gradient {format_number(s.grad)}", ACCENT, ABOVE, True,
                       "this node's gradient is final; it now sends gradient × local derivative back "
                       "along each input", must=True)
        for src, (before, amounts, after) in growth.items():
            if type(src) is tuple:  # a node inside an instance: told in the callout above
                continue
            node_label(top_node(src), growth_text(before, amounts, after), ACCENT, BELOW, True,
                       f"{address_label(g, src)}'s gradient so far, growing by what "
                       f"{address_label(g, s.node)} sends")
        self.overlay.keep_only(keys)
        self._follow_callout(("node", top_node(s.node), ABOVE))

    def _show_inside(self) -> None:
        """The shown step on the entered instance when it is inside one stepped into (see
        :func:`_level`: the port a pass leaves an instance by is drawn outside it)."""
        if self._inside is None:
            return
        g = self._controller.graph
        if self._phase == FORWARD:
            f = forward_state_after(self._fsteps, self._fk)
            level = _level(g, f.node, "output")
            self._inside.show(level, self._into, lambda ctx, scene, overlay: draw_forward(
                g, self._fsteps, f, ctx, scene, overlay, format_number))
            return
        s = state_after(self._steps, self._k)
        node = s.node if s.k else self._steps[0][0]
        level = _level(g, node, "input")
        self._inside.show(level, self._into, lambda ctx, scene, overlay: draw_backward(
            g, self._steps, s, ctx, scene, overlay, format_number, growth_text, sent_text))

    def _follow_callout(self, key) -> None:
        """Scroll the step's main callout ("processing: …") into sight when it was placed
        beside its node, past the view's edge."""
        tag = self.overlay.items().get(key)
        if tag is None or not isValid(tag) or not tag.isVisible():
            return
        box = tag.sceneBoundingRect()
        for view in self._scene.views():
            if not view.mapToScene(view.viewport().rect()).boundingRect().contains(box):
                view.ensureVisible(box, 12, 12)


def _level(g, node, exit_op: str) -> tuple:
    """The instance path whose body a step is drawn on (``()``: the top level). A pass enters
    an instance by one kind of port (forward its inputs, backward its outputs): drawn inside,
    so F11 shows the inside at once; it leaves by the other (``exit_op``), whose wire lies
    outside: drawn one level up, on the closed instance. Stepping out (Shift+F11) lands on an
    exit port, so it shows the outer level, as a debugger returns to the caller."""
    if node is None:
        return ()
    ctx = step_context(node)
    if ctx and not isinstance(node, OutputPort) and g.op(node) == exit_op:
        return ctx[:-1]
    return ctx


def _port_words(g, f: ForwardState) -> str:
    """What an instance's port does in the forward pass, in words."""
    src = address_label(g, f.inputs[0][1])
    if g.op(f.node) == "input":
        return f"comes into {g.label(f.node[:-1] if len(f.node) > 2 else f.node[0])} from {src}"
    return f"leaves the instance from {src}"


def _first(value):
    return value[0] if type(value) is tuple else value


def drawn_wire(g, node, port, src):
    """The canvas wire along which ``src`` and step ``node`` (through input ``port``) meet, as
    (source, target, port) of top-level nodes; None for a wire inside an instance. An input
    port of an instance stepped into (``(instance, placeholder)``) stands for the wire into
    that port of the instance."""
    src = src.node if isinstance(src, OutputPort) else src
    if type(src) is not int:
        return None
    if type(node) is int:
        return (src, node, port)
    if len(node) == 2 and g.op(node) == "input":
        d = g.definition_of(node[0])
        k = next(i for i, p in enumerate(d.inputs) if p.node == node[1])
        return (src, node[0], k)
    return None


def sent_text(g, s, src, amount) -> str:
    """What a backward step sends along a wire, as its pill says it: a number, or an array by
    its shape, with the sum over the axes broadcasting added (``Σ over axis 0 → (3,) array``)."""
    if type(amount) is not ndarray:
        return format_number(amount)
    grad = s.grad
    op = OPS.get(g.op(s.node))  # an instance or its port: no broadcasting of its own
    broadcast = type(grad) is ndarray and op is not None and not op.tensor
    axes = summed_axes(amount.shape, grad.shape) if broadcast else ()
    if axes:
        return f"Σ over axis {', '.join(map(str, axes))} → {format_number(amount)}"
    return format_number(amount)


def forward_formula(g, f: ForwardState) -> str:
    """The forward step as arithmetic: ``a × b = 3 × 4`` for binary ops, ``tanh(0.5)`` for
    unary ones."""
    op = OPS.get(g.op(f.node))
    vals = [format_number(v) for _p, _s, v in f.inputs]
    if op is None:
        return ", ".join(vals)
    if op.arity == 2 and len(vals) == 2:
        return f"{vals[0]} {op.symbol} {vals[1]}"
    return f"{op.name}({', '.join(vals)})"


def backward_caption(g, s: StepState, root) -> str:
    """A backward step in one line, with the numbers of its callouts (the amounts on the
    wires, each input's growing sum): ``b sends 20 back to a: 15 + 20 = 35``; a step that sends
    to two inputs names both, ``; `` between them. ``root`` is the output (step 0's node)."""
    if s.k == 0:
        return f"backward starts at the output {address_label(g, root)} with gradient 1"
    if not s.sends:
        return f"{address_label(g, s.node)} is a number: its gradient {format_number(s.grad)} is final"
    growth: dict[int, list] = {}
    for _port, src, amount, before, after in s.sends:
        entry = growth.setdefault(src, [before, [], after])
        entry[1].append(amount)
        entry[2] = after
    parts = []
    for src, (before, amounts, after) in growth.items():
        sent = " and ".join(sent_text(g, s, src, a) for a in amounts)
        parts.append(f"{sent} back to {address_label(g, src)}: {growth_text(before, amounts, after)}")
    return f"{address_label(g, s.node)} sends " + "; ".join(parts)


def forward_caption(g, f: ForwardState) -> str:
    """A forward step in one line: ``b = 3 × 4 = 12``, ``a = 3 (a number: given)``."""
    if f.k == 0:
        return "forward pass: no value computed yet"
    if not f.inputs:
        return f"{address_label(g, f.node)} = {format_number(f.value)} (a number: given)"
    if g.op(f.node) in ("input", "output"):
        return f"{address_label(g, f.node)} = {format_number(f.value)} ({_port_words(g, f)})"
    return f"{address_label(g, f.node)} = {forward_formula(g, f)} = {format_number(f.value)}"
