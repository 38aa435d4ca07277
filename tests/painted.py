"""What the canvas paints, read back the way a user sees it.

:func:`painted_texts` renders a scene to SVG with QSvgGenerator (which keeps every drawn
string as a ``<text>`` element) and returns each string with its place in scene coordinates
and its colour. :func:`check_numbers_current` then finds, for every painted number, what it
belongs to (a node's value or gradient row, a cell of an array grid, a wire's gradient label)
and compares it with the engine's current number, to the precision painted: "28" must be
within half a unit of the engine's number, "0.143" within 0.0005. The oracle is the engine
and the digits on the picture; the canvas's own formatter is not used.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QPointF, QRectF, QSize
from PySide6.QtGui import QPainter
from PySide6.QtSvg import QSvgGenerator

from engine.drawing import geometry as G
from gui import style

MINUS = "\u2212"
VALUE, GRAD, WIRE = style.VALUE.name(), style.GRAD.name(), style.WIRE_GRAD.name()
DIM = style.TEXT_DIM.name()  # ids, row labels and the shape notes of port rows
_SVG = "{http://www.w3.org/2000/svg}"
_NUMBER = re.compile(r"^[-+]?(\d+)(?:\.(\d*))?(?:e([-+]?\d+))?$")


@dataclass(frozen=True)
class Painted:
    text: str
    x: float  # scene coordinates of the text's baseline start
    y: float
    fill: str  # "#rrggbb"
    run: int = 0  # pieces of one drawText share it: consecutive in one <g>, one baseline, one colour


def svg_of(scene, margin: float = 40.0) -> tuple[str, QRectF]:
    """The scene drawn to SVG at one SVG unit per scene unit, and the scene rect drawn.
    Item caches are switched off meanwhile, as the app's own picture export does: a cached
    item would be blitted as a bitmap, with no text in the SVG."""
    source = scene.items_bounding_rect().adjusted(-margin, -margin, margin, margin)
    cached = [(it, it.cacheMode()) for it in scene.items() if it.cacheMode() != it.CacheMode.NoCache]
    for it, _ in cached:
        it.setCacheMode(it.CacheMode.NoCache)
    data = QByteArray()
    buf = QBuffer(data)
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    gen = QSvgGenerator()
    gen.setOutputDevice(buf)
    gen.setSize(QSize(math.ceil(source.width()), math.ceil(source.height())))
    gen.setViewBox(QRectF(0, 0, source.width(), source.height()))
    try:
        p = QPainter(gen)
        scene.render(p, QRectF(0, 0, source.width(), source.height()), source)
        p.end()
    finally:
        for it, mode in cached:
            it.setCacheMode(mode)
    return bytes(data.data()).decode("utf-8"), source


def _matrix(attr: str | None):
    if not attr or not attr.startswith("matrix("):
        return (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
    return tuple(float(v) for v in attr[7:-1].split(","))


def _compose(m, n):
    a, b, c, d, e, f = m
    a2, b2, c2, d2, e2, f2 = n
    return (a * a2 + c * b2, b * a2 + d * b2, a * c2 + c * d2, b * c2 + d * d2,
            a * e2 + c * f2 + e, b * e2 + d * f2 + f)


def painted_texts(scene, margin: float = 40.0) -> list[Painted]:
    """Every string the scene paints, with where (scene coordinates) and in which colour,
    within ``margin`` of the nodes' bounding rectangle."""
    svg, source = svg_of(scene, margin)
    root = ET.fromstring(svg)
    out: list[Painted] = []

    runs = [0]

    def walk(el, m):
        m = _compose(m, _matrix(el.get("transform")))
        previous = None
        for child in el:
            if child.tag != _SVG + "text":
                previous = None
                walk(child, m)
                continue
            x, y = float(child.get("x", 0)), float(child.get("y", 0))
            fill = (child.get("fill") or "").lower()
            here = (id(el), y, fill)
            if previous != here:
                runs[0] += 1
            previous = here
            sx = m[0] * x + m[2] * y + m[4] + source.left()
            sy = m[1] * x + m[3] * y + m[5] + source.top()
            out.append(Painted("".join(child.itertext()), sx, sy, fill, runs[0]))

    walk(root, (1.0, 0.0, 0.0, 1.0, 0.0, 0.0))
    return out


def agrees(text: str, number) -> bool:
    """Whether ``text`` as painted is ``number`` to the precision painted: "—" for None,
    NaN/inf by name, otherwise within half a unit of the last digit painted."""
    t = text.strip().replace(MINUS, "-")
    if number is None:
        return t == style.DASH
    x = float(number)
    if t == "NaN":
        return x != x
    if t in ("inf", "-inf"):
        return x == float(t)
    m = _NUMBER.match(t)
    if m is None or x != x or math.isinf(x):
        return False
    decimals = len(m.group(2) or "")
    exp = int(m.group(3) or 0)
    half = 0.5 * 10.0 ** (exp - decimals)
    return abs(float(t) - x) <= half * (1 + 1e-9) + 1e-300


def _shape_text(shape) -> str:
    if not shape:
        return "scalar"
    return "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"


def expected_port_note(g, s, t) -> str | None:
    """What port row (s -> t) should say, by hand: the shape arriving from an array, or the
    stretch an elementwise op gives it (``(3,) → (2, 3)``, ``scalar → (2, 2)``); nothing
    between scalars."""
    from engine import OPS

    sv, tv = g.value(s), g.value(t)
    a = sv.shape if type(sv) is np.ndarray else ()
    row = OPS.get(g.op(t))  # an instance is no elementwise op: its ports take what comes
    if tv is None or row is None or row.tensor:
        return _shape_text(a) if a else None
    b = tv.shape if type(tv) is np.ndarray else ()
    if a != b:
        return f"{_shape_text(a)} → {_shape_text(b)}"
    return _shape_text(a) if a else None


def _dims(shape) -> str:
    return "×".join(map(str, shape)) if len(shape) > 1 else _shape_text(shape)


def _node_owner(scene, p: QPointF):
    hits = []
    for n, it in scene.node_items().items():
        if it.mapRectToScene(it.body_rect()).contains(p):
            hits.append((n, it))
    return hits


def _cell(it, which: str, p: QPointF):
    """The array index of the grid cell (of ``which``) under scene point ``p``, or None."""
    r = it.tensor_rect(which)
    if r is None:
        return None
    r = it.mapRectToScene(r)
    if not r.contains(p):
        return None
    shape = it.tensor_shape
    rows, cols = (1, shape[0]) if len(shape) == 1 else (math.prod(shape[:-1]), shape[-1])
    i = min(rows - 1, int((p.y() - r.top()) / r.height() * rows))
    j = min(cols - 1, int((p.x() - r.left()) / r.width() * cols))
    return tuple(int(k) for k in np.unravel_index(i * cols + j, shape))


def _instance_slot(it, p: QPointF):
    """Which row of instance item ``it`` scene point ``p`` is in: ("in", k) an input row
    (it shows the gradient leaving through input k), ("out", j) a row of output j."""
    for k in range(G.input_rows(len(it.inputs))):  # a compact side: its kept rows and the summary
        if it.mapRectToScene(it.port_row_rect(k)).contains(p):
            return ("in", k)
    if G.compact_outputs(len(it.outputs)):
        return ("norm", None)  # a compact output side paints one number: its gradients' norm
    y = it.mapFromScene(p).y() - G.value_row_top(G.input_rows(it.arity))
    return ("out", min(max(int(y // (2 * G.ROW_H)), 0), len(it.outputs) - 1))


def grad_norm(g, n) -> float | None:
    """The 2-norm of the gradients of every output of instance ``n`` (None: none flows)."""
    grads = [g.grad(n, p) for p in range(g.output_arity(n))]
    grads = [float(v) for v in grads if v is not None]
    return math.sqrt(sum(v * v for v in grads)) if grads else None


def _check_node_text(g, n, it, t: Painted, p: QPointF) -> str | None:
    """None when the text agrees with node ``n``'s engine numbers, else what is wrong."""
    which = "value" if t.fill == VALUE else "grad"
    if it.op == "call" and not it.tensor_shape:  # an instance: a number per port row
        kind, k = _instance_slot(it, p)
        if kind == "norm":
            norm = grad_norm(g, n)
            return None if which == "grad" and agrees(t.text, norm) else f"gradient norm = {norm!r}"
        if kind == "in" and G.compact_inputs(len(it.inputs)) and k == G.KEEP_INPUTS:
            return "a number on the summary row of compacted inputs"  # it paints none
        if kind == "in":
            wire = g.input_wires(n)[k]
            sent = None if wire is None else g.edge_grad(wire[0], n, k)
            ok = which == "grad" and agrees(t.text, sent)
            return None if ok else f"gradient leaving input {k} = {sent!r}"
        number = g.value(n, k) if which == "value" else g.grad(n, k)
        return None if agrees(t.text, number) else f"{which} of output {k} = {number!r}"
    number = g.value(n) if which == "value" else g.grad(n)
    if type(number) is np.ndarray:
        idx = _cell(it, which, p)
        if idx is not None:
            return None if agrees(t.text, number[idx].item()) else f"{which}{list(idx)}"
        return None if t.text == _dims(number.shape) else f"{which} row (shape {number.shape})"
    return None if agrees(t.text, number) else f"{which} = {number!r}"


def _check_wire_text(g, w, t: Painted) -> str | None:
    s, d, port = w.key
    if t.text.startswith("×"):  # a bundle: the count of the wires between its two nodes
        count = g.nx.number_of_edges(s, d)
        ok = count >= G.BUNDLE_MIN and t.text == f"× {count}"
        return None if ok else f"{count} wires between {s} and {d}"
    amount = g.edge_grad(s, d, port)
    text = t.text.removeprefix("← ").removeprefix("←")  # the tight form has no space
    if amount is None:
        return f"wire {w.key} carries no gradient"
    if type(amount) is np.ndarray:
        if text.startswith("Σ over axis") or text == _shape_text(amount.shape):
            return None
        return f"wire {w.key} (array {amount.shape})"
    text = text.removeprefix("Σ all = ")
    return None if agrees(text, amount) else f"wire {w.key} = {amount!r}"


def _slot(scene, g, t: Painted, p: QPointF):
    """What a painted piece of text belongs to: ("wire", key), ("node", id, fill, cell index
    or "row") or ("note", id, port); None for any other text. (One drawText may reach the SVG
    as several <text> pieces, split where the script changes, as in "← Σ " + "all = 60": the
    pieces of one slot are joined before they are read.)"""
    if t.fill == WIRE:
        for w in scene.wire_items().values():
            r = w.label_rect()
            if r is not None and r.contains(p):
                return ("wire", w.key)
        return ("wire", None)
    if t.fill not in (VALUE, GRAD, DIM):
        return None
    owners = []
    for n, it in _node_owner(scene, p):
        if t.fill == DIM:
            for k in range(G.input_rows(len(it.inputs))):  # a compact side's rows only
                if it.mapRectToScene(it.port_row_rect(k)).contains(p):
                    return ("note", n, k)
            continue
        which = "value" if t.fill == VALUE else "grad"
        idx = _cell(it, which, p) if type(g.value(n)) is np.ndarray else None
        owners.append((n, idx))
    # nodes may overlap (an array grows its node over the next): any of them may own it
    return ("node", t.run, tuple(owners)) if owners else None


def check_numbers_current(scene, graph=None, wires_expected: bool | None = None) -> list[Painted]:
    """Assert that every number the scene paints (node value and gradient rows, array grids,
    wire gradient labels, the shape notes of port rows) is the engine's current one, and that
    every scalar node paints both its rows. Returns the texts checked (pieces joined)."""
    g = graph if graph is not None else scene.graph
    slots: dict = {}
    for t in painted_texts(scene):
        p = QPointF(t.x + 1.0, t.y - 2.0)  # just inside the glyphs, whatever the alignment
        key = _slot(scene, g, t, p)
        if key is None:
            continue
        key = (t.run, key)  # pieces join only within one drawText
        if key in slots:
            first, q = slots[key]
            slots[key] = (Painted(first.text + t.text, first.x, first.y, first.fill), q)
        else:
            slots[key] = (t, p)
    wrong, checked, rows_seen, notes_seen = [], [], {}, set()
    for (_run, key), (t, p) in slots.items():
        if key[0] == "note":
            _, n, k = key
            src = g.inputs(n)[k]
            want = expected_port_note(g, src, n) if src is not None else None
            if t.text != want:
                wrong.append(f"port row {k} of {g.label(n)} says {t.text!r}, expected {want!r}")
            notes_seen.add((n, k))
            continue
        if "…" in t.text:
            continue
        if key[0] == "wire":
            if key[1] is None:
                wrong.append(f"{t.text!r} at ({t.x:.0f}, {t.y:.0f}): a wire label on no wire's place")
                continue
            err = _check_wire_text(g, scene.wire_item(*key[1]), t)
        else:
            errs = [_check_node_text(g, n, scene.node_item(n), t, p) for n, _idx in key[2]]
            err = None if None in errs else errs[0]
            for (n, _idx), e in zip(key[2], errs):
                if e is None:
                    rows_seen.setdefault(n, set()).add(t.fill)
        if err is not None:
            wrong.append(f"{t.text!r} painted at ({t.x:.0f}, {t.y:.0f}), the engine says {err}")
        checked.append(t)
    for n in scene.node_items():  # and a note that should be there is there
        for k, src in enumerate(g.inputs(n)):
            if src is not None and expected_port_note(g, src, n) and (n, k) not in notes_seen:
                wrong.append(f"port row {k} of {g.label(n)} lacks {expected_port_note(g, src, n)!r}")
    def rows_due(n):  # a compact output side paints its gradients' norm, no value
        it = scene.node_item(n)
        return {GRAD} if it.op == "call" and G.compact_outputs(len(it.outputs)) else {VALUE, GRAD}

    missing = [g.label(n) for n in scene.node_items()
               if type(g.value(n)) is not np.ndarray and rows_seen.get(n) != rows_due(n)]
    assert not wrong, "stale or wrong numbers painted:\n" + "\n".join(wrong)
    assert not missing, f"nodes whose value or gradient row was not painted: {missing}"
    if wires_expected:
        assert any(t.fill == WIRE for t in checked), "no wire label painted"
    return checked
