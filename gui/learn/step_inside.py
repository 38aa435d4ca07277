"""Step mode inside an instance stepped into (F11): the canvas enters the instance and the
step is drawn on its body, as on the top level: the node being processed lit, its
``processing:`` (or ``computing:``) callout, the amounts on the wires, the growing sums.

A step's address inside an instance is ``(instance, ..., body id)``; the instance path
(``step_context``) is what the canvas enters, the last id the body node drawn there. Steps at
another level (the input ports' sends to the outside, say) are drawn where they belong: on the
top level by :class:`gui.learn.stepper.StepMode`, not here.
"""

from __future__ import annotations

from shiboken6 import isValid

from engine.learn.stepper import OutputPort
from gui.canvas.items import SLOT_EMPTY
from gui.canvas.overlays import ABOVE, ACCENT, BELOW, OverlayLayer


def local_id(addr, ctx: tuple):
    """The body id ``addr`` is drawn at when the canvas shows instance path ``ctx``, or None
    when it lies elsewhere (an output port p >= 1 of a nested instance: that instance)."""
    base = addr.node if isinstance(addr, OutputPort) else addr
    if type(base) is tuple and base[:-1] == ctx:
        return base[-1]
    return None


def exit_port(g, addr, ctx: tuple):
    """For a port step of an instance nested in ``ctx`` (its address ``ctx + (instance,
    placeholder)``): (the instance's body id, the port's index among the definition's inputs,
    or None for an output); else None. Such a step is drawn on the closed instance."""
    if isinstance(addr, OutputPort) or type(addr) is not tuple or addr[:-2] != ctx or len(addr) < 2:
        return None
    inst = addr[:-1]
    ins = [p.node for p in g.definition_of(inst).inputs]
    return addr[-2], (ins.index(addr[-1]) if addr[-1] in ins else None)


class InsideStepView:
    """Draws step mode's state on the canvas area's entered instance; enters it when the
    shown step is inside an instance stepped into and leaves when it is not."""

    def __init__(self, area):
        self._area = area
        self._scene = None
        self._overlay: OverlayLayer | None = None
        self._entered = False  # whether step mode took the canvas in (so it brings it out)

    @property
    def overlay(self) -> OverlayLayer | None:
        """The labels on the entered instance (None when step mode is not drawing inside)."""
        return self._overlay if self._entered else None

    def show(self, ctx: tuple, into, draw) -> None:
        """The shown step's wires lie in the body of instance path ``ctx`` (``()``: the top
        level); ``into`` are the instances stepped into; ``draw(ctx, scene, overlay)`` puts the
        step on the inside when the canvas shows it."""
        area = self._area
        stepped = {a if type(a) is tuple else (a,) for a in into}
        if not ctx or ctx not in stepped:
            self.leave()
            return
        if area.path != ctx and not area.enter(ctx):
            return
        self._entered = True
        scene = area.scene_shown()
        if scene is not self._scene:  # entered anew: a fresh scene, nothing of ours on it yet
            self._scene, self._overlay = scene, OverlayLayer(scene)
        draw(ctx, scene, self._overlay)

    def leave(self) -> None:
        """Back to the top level if step mode took the canvas in."""
        if self._entered and isValid(self._area):
            self._area.leave_to(0)
        self._entered = False
        self._scene = self._overlay = None


def draw_backward(g, steps, s, ctx, scene, overlay, fmt, growth_text, sent_text) -> None:
    """The backward state ``s`` on the body of instance ``ctx``."""
    done = set(s.processed)
    keys = []
    rows = {}
    for n, _g, _s in steps:
        b = local_id(n, ctx)
        if b is not None:
            grad = s.grads.get(n)
            rows[b] = (None, SLOT_EMPTY if grad is None else fmt(grad), n in done)
    sent = {}
    for node, _g, sends in steps[: max(0, s.k - 1)]:
        t = local_id(node, ctx)
        for port, src, amount, _b, _a in sends:
            b = local_id(src, ctx)
            if t is not None and b is not None:
                sent[(b, t, port)] = fmt(amount)
    here = local_id(s.node, ctx) if s.node is not None else None
    exit_ = exit_port(g, s.node, ctx) if here is None and s.node is not None else None
    if exit_ is not None:  # a nested instance's input port sends along the wire into it
        here = exit_[0]
    _rows_and_light(scene, rows, here)
    for key, w in scene.wire_items().items():
        w.set_grad_text(sent.get(key))
    if here is not None:
        name = "/".join(g.label(s.node).split("/")[-2 if exit_ else -1:])
        overlay.node_label(here, f"processing {name}: gradient {fmt(s.grad)}", ACCENT,
                           "this node's gradient is final; it now sends gradient × local derivative "
                           "back along each input (Shift+F11 steps out)", ABOVE, True, True)
        keys.append(("node", here, ABOVE))
        growth: dict = {}
        for port, src, amount, before, after in s.sends:
            b = local_id(src, ctx)
            if b is None:
                continue
            if exit_ is not None:
                port = exit_[1]
            overlay.wire_label(b, here, port, f"← {sent_text(g, s, src, amount)}", ACCENT,
                               f"sends {fmt(amount)} back", bold=True)
            keys.append(("wire", b, here, port))
            entry = growth.setdefault(b, [before, [], after])
            entry[1].append(amount)
            entry[2] = after
        for b, (before, amounts, after) in growth.items():
            overlay.node_label(b, growth_text(before, amounts, after), ACCENT,
                               "this node's gradient so far, growing by what the step sends", BELOW, True)
            keys.append(("node", b, BELOW))
    overlay.keep_only(keys)
    _follow(scene, here)


def draw_forward(g, fsteps, f, ctx, scene, overlay, fmt) -> None:
    """The forward state ``f`` on the body of instance ``ctx``."""
    keys = []
    rows = {}
    for n, _v, _i in fsteps:
        b = local_id(n, ctx)
        if b is not None:
            v = f.values.get(n)
            rows[b] = (SLOT_EMPTY if n not in f.values else fmt(v[0] if type(v) is tuple else v),
                       SLOT_EMPTY, False)
    here = local_id(f.node, ctx) if f.node is not None else None
    exit_ = exit_port(g, f.node, ctx) if here is None and f.node is not None else None
    if exit_ is not None:  # a nested instance's output port: drawn on the instance
        here = exit_[0]
    _rows_and_light(scene, rows, here)
    for w in scene.wire_items().values():
        w.set_grad_text(None)  # no gradient yet in the forward pass
    if here is not None:
        name = "/".join(g.label(f.node).split("/")[-2 if exit_ else -1:])
        if g.op(f.node) == "input":
            text = f"{name} comes in: {fmt(f.value)}"
        else:
            text = f"{'computing' if f.inputs else 'given'} {name}: {fmt(f.value)}"
        overlay.node_label(here, text, ACCENT,
                           "forward pass: this node's value from the values arriving at its inputs",
                           ABOVE, True, True)
        keys.append(("node", here, ABOVE))
        for port, src, value in f.inputs:
            b = local_id(src, ctx)
            if b is not None:
                overlay.wire_label(b, here, port, f"{fmt(value)} →", ACCENT, "the value arriving", bold=True)
                keys.append(("wire", b, here, port))
    overlay.keep_only(keys)
    _follow(scene, here)


def _rows_and_light(scene, rows: dict, here) -> None:
    for n, it in scene.node_items().items():
        it.set_step_view(*rows.get(n, (None, None, False)))
        it.set_highlight(n == here)


def _follow(scene, here) -> None:
    it = scene.node_item(here) if here is not None else None
    if it is None:
        return
    for view in scene.views():
        if not view.mapToScene(view.viewport().rect()).boundingRect().contains(it.sceneBoundingRect()):
            view.ensureVisible(it.sceneBoundingRect(), 40, 40)
