"""Step mode: walk the backward pass one node at a time and watch the gradients add up.

The engine gives the pass as a list of steps (:meth:`engine.Graph.steps`), and
:func:`engine.stepper.state_after` replays the first k of them; this module only shows that
state on the canvas:

- the node being processed is highlighted, with its gradient above it;
- each wire into it carries the amount it sends back (``← 20``);
- each input it sends to shows its sum growing (``15 + 20 = 35``);
- nodes already done show their final gradient, nodes waiting for their turn their sum so far.

Nothing here edits the document. Any edit (other than moving a node) leaves step mode, since
the steps shown would no longer be the document's.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal
from shiboken6 import isValid

from engine.events import MetaChanged, NameChanged, NodeMoved
from engine.stepper import StepState, state_after
from gui.canvas.overlays import ABOVE, ACCENT, BELOW, DIM, GOOD, OverlayLayer
from gui.shell.style import MINUS, format_number

DEFAULT_INTERVAL_MS = 700
MIN_INTERVAL_MS, MAX_INTERVAL_MS = 50, 5000
_QUIET_EVENTS = (NodeMoved, NameChanged, MetaChanged)  # these leave the steps valid


def growth_text(before, amounts, after) -> str:
    """How an input's gradient grows in one step: ``15 + 20 = 35`` (a first contribution
    starts from 0; a negative amount is subtracted: ``4 − 3 = 1``)."""
    parts = [format_number(0.0 if before is None else before)]
    for a in amounts:
        if isinstance(a, (int, float)) and a < 0:
            parts.append(f"{MINUS} {format_number(-a)}")
        else:
            parts.append(f"+ {format_number(a)}")
    return f"{' '.join(parts)} = {format_number(after)}"


class StepMode(QObject):
    """The step-through state for one window: which step is shown, and playback.

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
        self._controller = controller
        self._scene = scene
        self.overlay = OverlayLayer(scene)
        self._steps: list = []
        self._k = 0
        self._active = False
        self._highlighted: int | None = None
        self._wire_grads = False
        self._timer = QTimer(self)
        self._timer.setInterval(DEFAULT_INTERVAL_MS)
        self._timer.timeout.connect(self._tick)
        controller.bridge.replaced.connect(self._on_document_replaced)
        controller.bridge.changed.connect(self._on_event)

    # ---------------------------------------------------------------- state

    @property
    def active(self) -> bool:
        return self._active

    @property
    def playing(self) -> bool:
        return self._timer.isActive()

    @property
    def k(self) -> int:
        """How many steps have been applied (0: only the output holds its seed)."""
        return self._k

    @property
    def total(self) -> int:
        return len(self._steps)

    @property
    def steps(self) -> list:
        """The engine's steps being walked (a copy)."""
        return list(self._steps)

    @property
    def highlighted(self) -> int | None:
        """The node whose step is shown, or None."""
        return self._highlighted

    def state(self) -> StepState | None:
        return state_after(self._steps, self._k) if self._active else None

    @property
    def interval(self) -> int:
        """Milliseconds between steps while playing."""
        return self._timer.interval()

    def set_interval(self, ms: int) -> None:
        self._timer.setInterval(max(MIN_INTERVAL_MS, min(MAX_INTERVAL_MS, int(ms))))

    # ---------------------------------------------------------------- mode

    def start(self) -> bool:
        """Enter step mode at step 0; False (with a message) if there is nothing to step."""
        if self._active:
            return True
        g = self._controller.graph
        steps = g.steps()
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
        self._k = 0
        self._active = True
        # The wires' own gradient labels show the final amounts: hide them while stepping, so
        # the only amounts on the wires are the ones sent so far.
        self._wire_grads = self._scene.show_wire_grads
        if self._wire_grads:
            self._scene.set_show_wire_grads(False)
        self.activeChanged.emit(True)
        self._show()
        return True

    def stop(self, reason: str | None = None) -> None:
        """Leave step mode and remove everything it drew."""
        if not self._active:
            return
        self.pause()
        self._active = False
        self._set_highlight(None)
        self.overlay.clear()
        if self._wire_grads and isValid(self._scene):
            self._scene.set_show_wire_grads(True)
        self._wire_grads = False
        self._steps = []
        self._k = 0
        self.activeChanged.emit(False)
        self.changed.emit()
        if reason:
            self.message.emit(reason)

    def set_active(self, on: bool) -> bool:
        if on:
            return self.start()
        self.stop()
        return True

    # ---------------------------------------------------------------- navigation

    def go_to(self, k: int) -> None:
        """Show the state after ``k`` steps (clamped to 0..total)."""
        if not self._active:
            return
        k = max(0, min(self.total, int(k)))
        if k != self._k:
            self._k = k
            self._show()

    def forward(self) -> bool:
        """One step on; False at the end."""
        if not self._active or self._k >= self.total:
            return False
        self.go_to(self._k + 1)
        return True

    def back(self) -> bool:
        """One step back; False at the start."""
        if not self._active or self._k <= 0:
            return False
        self.go_to(self._k - 1)
        return True

    def to_start(self) -> None:
        self.go_to(0)

    def to_end(self) -> None:
        self.go_to(self.total)

    def play(self) -> None:
        """Advance one step per interval until the end (from the start if already at the end)."""
        if not self._active and not self.start():
            return
        if self._k >= self.total:
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
        if not self.forward() or self._k >= self.total:
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
        s = state_after(self._steps, self._k)
        if s.k == 0:
            root = self._steps[0][0]
            return (
                f"Step 0 of {s.total}: backward starts at the output {g.label(root)} "
                f"with gradient 1. Step on to process it."
            )
        head = f"Step {s.k} of {s.total}: {g.label(s.node)} (gradient {format_number(s.grad)})"
        if not s.sends:
            tail = " is a number: nothing to send back; its gradient is final."
        else:
            parts = [f"{format_number(a)} to {g.label(src)}" for _p, src, a, _b, _c in s.sends]
            tail = " sends " + ", ".join(parts) + "."
        if s.done:
            tail += " Done: every gradient is final."
        return head + tail

    def _set_highlight(self, node) -> None:
        if self._highlighted is not None:
            it = self._scene.node_item(self._highlighted)
            if it is not None and isValid(it):
                it.set_highlight(False)
        self._highlighted = node
        if node is not None:
            it = self._scene.node_item(node)
            if it is not None:
                it.set_highlight(True)

    def labels(self) -> dict:
        """What the overlay shows: {key: text} (see :meth:`OverlayLayer.texts`)."""
        return self.overlay.texts()

    def _show(self) -> None:
        g = self._controller.graph
        s = state_after(self._steps, self._k)
        keys = []

        def node_label(n, text, colour, place=BELOW, bold=False, tip=""):
            self.overlay.node_label(n, text, colour, tip, place, bold)
            keys.append(("node", n, place))

        if s.k == 0:
            root = self._steps[0][0]
            self._set_highlight(root)
            node_label(root, "seed: gradient 1", ACCENT, ABOVE, True,
                       "backward starts here: d(output)/d(output) = 1")
        else:
            self._set_highlight(s.node)
            node_label(s.node, f"processing: gradient {format_number(s.grad)}", ACCENT, ABOVE, True,
                       "this node's gradient is final; it now sends gradient × local derivative back "
                       "along each input")
            growth: dict[int, list] = {}
            for port, src, amount, before, after in s.sends:
                self.overlay.wire_label(src, s.node, port, f"← {format_number(amount)}", ACCENT,
                                        f"{g.label(s.node)} sends {format_number(amount)} back to "
                                        f"{g.label(src)} through port {port}", bold=True)
                keys.append(("wire", src, s.node, port))
                entry = growth.setdefault(src, [before, [], after])
                entry[1].append(amount)
                entry[2] = after
            for src, (before, amounts, after) in growth.items():
                node_label(src, growth_text(before, amounts, after), ACCENT, BELOW, True,
                           f"{g.label(src)}'s gradient so far, growing by what {g.label(s.node)} sends")
        current_inputs = {src for _p, src, *_ in s.sends}
        done = set(s.processed)
        for n, grad in s.grads.items():
            if n in current_inputs or n == s.node or (s.k == 0 and n == self._steps[0][0]):
                continue
            if n in done:
                node_label(n, f"final {format_number(grad)}", GOOD, BELOW, False,
                           "processed: every consumer has sent its share")
            else:
                node_label(n, f"so far {format_number(grad)}", DIM, BELOW, False,
                           "waiting: more consumers may still add to this sum")
        self.overlay.keep_only(keys)
        self.changed.emit()
        self.message.emit(self.describe())
