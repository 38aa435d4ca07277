"""Bundles: many wires between the same two nodes drawn as one (DESIGN.md §7).

A parameter bank feeds each model instance hundreds of wires that would run side by side;
from ``geometry.BUNDLE_MIN`` of them on, the lowest-port wire draws them all with a count
("× 337"), its tooltip naming the first ports and the norm of the gradients they carry back,
and the others are hidden (each is still in the scene, with its own key, for edits and tests).
"""

from __future__ import annotations

from collections import defaultdict

from engine.core import gradsize
from engine.drawing import geometry as G


def grad_norm(amounts) -> float | None:
    """The 2-norm of the gradients ``amounts`` (None entries carry none; None if all are):
    engine.core.gradsize's, the one measure of a gradient's size."""
    amounts = [a for a in amounts if a is not None]
    return gradsize.norm(amounts) if amounts else None


def norm_text(amounts, fmt) -> str:
    n = grad_norm(amounts)
    return "gradient norm: none flows" if n is None else f"gradient norm ‖g‖ = {fmt(n)}"


def rebundle(wires: dict, edge_grad, fmt, pairs=None) -> None:
    """Bundle (or unbundle) the wires of ``wires`` ({(s, t, port): WireItem}) between each
    pair of nodes in ``pairs`` (every pair when None); ``edge_grad(s, t, port)`` reads what a
    wire carries back, ``fmt`` writes a number."""
    groups: dict = defaultdict(list)
    for (s, t, p), w in wires.items():
        if pairs is None or (s, t) in pairs:
            groups[(s, t)].append((p, w))
    for (s, t), members in groups.items():
        members.sort(key=lambda m: m[0])
        if len(members) < G.BUNDLE_MIN:
            for _p, w in members:
                if w.bundle:
                    w.set_bundle(())
                w.setVisible(True)
            continue
        ports = tuple(p for p, _w in members)
        try:
            tip = norm_text((edge_grad(s, t, p) for p in ports), fmt)
        except Exception:  # noqa: BLE001 - a tooltip line must never take the canvas down
            tip = ""
        head = members[0][1]
        head.set_bundle(ports, tip)
        head.setVisible(True)
        for _p, w in members[1:]:
            if w.bundle:
                w.set_bundle(())
            w.setVisible(False)
