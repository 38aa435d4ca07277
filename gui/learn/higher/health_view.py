"""View ▸ Gradient Health (issue 16, point 5): every node coloured by how big its gradient is
next to the output's, with a scale bar, and marks where gradients vanish, explode or a ReLU is
dead; a summary per layer or per composite instance where the document has them.

The numbers come from :func:`engine.learn.health.gradient_health` (one module for the math);
this module only draws them. Colour: log10(|grad| / |output's grad|) from −8 (blue: vanishing)
through 0 (green: like the output's) to +8 (red: exploding), clamped beyond. A node without a
gradient (no path to the output) gets no colour.

Layers: nodes named like a network's (``W3``, ``b3``, ``z3``, ``h3``, or ``w3``: a letter of
W/w/b/z/h then the layer number) form "layer 3" when at least two layers are found; each
composite instance is a group of its own. The summary is drawn under the scale bar.
"""

from __future__ import annotations

import math
import re

from PySide6.QtCore import QObject, QPointF, QRectF, Qt
from PySide6.QtGui import QAction, QColor, QKeySequence, QLinearGradient, QPainter
from PySide6.QtWidgets import QGraphicsItem
from shiboken6 import isValid

from engine.core.errors import GraphError
from engine.learn.health import EXPLODING, VANISHING, gradient_health
from gui import style
from gui.canvas.node_marks import BOTTOM, HaloMark, MarkSet, PillMark

SHORTCUT = "Ctrl+Shift+H"
SPAN = 8.0  # the bar runs from 10^−8 to 10^8 times the output's gradient
LOW, MID, HIGH = QColor("#4f7dff"), QColor("#7ed491"), QColor("#ff5c5c")
DEAD = QColor("#b0b0b0")
_LAYER = re.compile(r"^[Wwbzh](\d+)(?:_.*)?$")
MAX_GROUP_ROWS = 12


def colour_for(log10: float) -> QColor:
    """The colour of a relative size, ``log10`` of it: blue at −8 and below, green at 0, red
    at +8 and above, blended linearly between."""
    t = max(-1.0, min(1.0, log10 / SPAN)) if math.isfinite(log10) else (-1.0 if log10 < 0 else 1.0)
    a, b = (MID, LOW) if t < 0 else (MID, HIGH)
    t = abs(t)
    return QColor.fromRgbF(a.redF() + (b.redF() - a.redF()) * t, a.greenF() + (b.greenF() - a.greenF()) * t,
                           a.blueF() + (b.blueF() - a.blueF()) * t)


def power(log10: float) -> str:
    """A relative size as a power of ten: ``1e−9.3``, ``1`` for 10^0, ``0`` for an exact 0."""
    if log10 == -math.inf:
        return "0"
    if abs(log10) < 0.05:
        return "1"
    return f"1e{log10:+.1f}".replace("+", "").replace("-", style.MINUS)


def groups_of(g) -> dict:
    """{group name: node ids}: network layers by name, and one group per composite instance."""
    layers: dict = {}
    for n in g.nx.nodes:
        m = _LAYER.match(g.name(n) or "")
        if m:
            layers.setdefault(f"layer {int(m.group(1))}", []).append(n)
    out = {k: layers[k] for k in sorted(layers, key=lambda k: int(k.split()[1]))} if len(layers) >= 2 else {}
    for n in g.nx.nodes:
        if g.op(n) == "call":
            out[g.label(n)] = [n]
    return out


class HealthLegend(QGraphicsItem):
    """The scale bar over the document's top-left corner, and the per-group summary under it."""

    W, BAR_H = 260.0, 10.0

    def __init__(self, health, graph):
        super().__init__()
        self.setZValue(40.0)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self._font = style.font(7.5, mono=True)
        self._bold = style.font(8.0, bold=True)
        out = graph.label(health.output)
        self.title = f"Gradient health: |grad| ÷ |grad of {out}|"
        lo, hi = health.scale
        self.range_text = f"here: {power(lo)} … {power(hi)}"
        self.lo, self.hi = lo, hi
        self.rows = []
        for gh in health.groups[:MAX_GROUP_ROWS]:
            size = power(gh.reading.log10) if gh.reading.log10 is not None else style.DASH
            notes = [f"{k} {what}" for k, what in ((gh.vanishing, "vanishing"), (gh.exploding, "exploding"),
                                                   (gh.dead_relus, "dead ReLU")) if k]
            self.rows.append((gh.name, size, ", ".join(notes), gh.reading.log10))
        self.setToolTip(
            "Each node's colour: log10 of its gradient's size (RMS for arrays) over the output's.\n"
            f"Below {VANISHING:g} of it a gradient is marked vanishing, above {EXPLODING:g} exploding;\n"
            "a ReLU none of whose inputs is positive is dead (nothing passes back through it)."
            + ("\nRows: per layer or composite, all its gradients' size together." if self.rows else ""))
        self._h = 58.0 + 14.0 * len(self.rows)

    def boundingRect(self) -> QRectF:  # noqa: N802
        return QRectF(-4, -4, self.W + 8, self._h + 8)

    def _x(self, log10: float) -> float:
        return (max(-SPAN, min(SPAN, log10)) + SPAN) / (2 * SPAN) * self.W

    def paint(self, painter: QPainter, option, widget=None):
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(style.pen(style.NODE_BORDER, 1.0))
        painter.setBrush(style.LABEL_BG)
        painter.drawRoundedRect(QRectF(-4, -4, self.W + 8, self._h + 8), 6, 6)
        painter.setFont(self._bold)
        painter.setPen(style.TEXT)
        painter.drawText(QPointF(0, 10), self.title)
        bar = QRectF(0, 16, self.W, self.BAR_H)
        grad = QLinearGradient(bar.topLeft(), bar.topRight())
        for k in range(9):
            grad.setColorAt(k / 8, colour_for(-SPAN + 2 * SPAN * k / 8))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(grad)
        painter.drawRect(bar)
        painter.setPen(style.pen(style.TEXT, 1.5))  # the document's range on the bar
        for v in (self.lo, self.hi):
            x = self._x(v)
            painter.drawLine(QPointF(x, bar.top() - 2), QPointF(x, bar.bottom() + 2))
        painter.setFont(self._font)
        painter.setPen(style.TEXT_DIM)
        for v, text, align in ((-SPAN, f"1e{style.MINUS}8", 0), (0.0, "1", 0.5), (SPAN, "1e8", 1)):
            w = painter.fontMetrics().horizontalAdvance(text)
            painter.drawText(QPointF(self._x(v) - w * align, bar.bottom() + 11), text)
        painter.drawText(QPointF(0, bar.bottom() + 24), self.range_text)
        y = bar.bottom() + 38
        for name, size, notes, log10 in self.rows:
            if log10 is not None:
                painter.setPen(Qt.PenStyle.NoPen)
                painter.setBrush(colour_for(log10))
                painter.drawRoundedRect(QRectF(0, y - 8, 8, 8), 2, 2)
            painter.setPen(style.TEXT)
            painter.drawText(QPointF(14, y), f"{name}  {size}" + (f"  {notes}" if notes else ""))
            y += 14.0


class GradientHealthView(QObject):
    """The View ▸ Gradient Health toggle of one window: halos, marks, legend, status line."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.scene = window.scene
        self.bridge = window.bridge
        self.marks = MarkSet(self.scene)
        self.legend: HealthLegend | None = None
        self.health = None
        self.act = QAction("Gradient &Health", window)
        self.act.setCheckable(True)
        self.act.setShortcut(QKeySequence(SHORTCUT))
        tip = ("Colour every node by its gradient's size next to the output's; mark vanishing, "
               "exploding and dead ReLUs")
        shown = QKeySequence(SHORTCUT).toString(QKeySequence.SequenceFormat.NativeText)
        self.act.setToolTip(f"{tip}  ({shown})")
        self.act.setStatusTip(tip)
        self.act.toggled.connect(self.set_on)
        window.add_menu_item("view", self.act, after=window.act_wire_grads)
        self.bridge.evaluated.connect(self._refresh_if_on)
        self.bridge.replaced.connect(self._refresh_if_on)

    @property
    def on(self) -> bool:
        return self.act.isChecked()

    def set_on(self, on: bool) -> None:
        if self.act.isChecked() != on:
            self.act.setChecked(on)  # comes back here through toggled
            return
        if on:
            self.refresh()
            self.window.show_message(self.summary(), 12000)
        else:
            self.clear()
            self.window.show_message("Gradient Health off", 4000)

    def _refresh_if_on(self) -> None:
        if self.on:
            self.refresh()

    def clear(self) -> None:
        self.marks.clear()
        if self.legend is not None and isValid(self.legend) and self.legend.scene() is not None:
            self.legend.scene().removeItem(self.legend)
        self.legend = None
        self.health = None

    def refresh(self) -> None:
        if not isValid(self.scene):
            return
        g = self.bridge.graph
        self.clear()
        try:
            self.health = gradient_health(g, groups=groups_of(g))
        except GraphError as e:  # no output, an empty document: say it, keep the toggle
            self.health = None
            self._why = str(e)
            return
        keys = []
        for n, h in self.health.nodes.items():
            r = h.reading
            size = "no gradient" if r.size is None else style.format_number(r.size)
            rel = "" if r.log10 is None else f" = {power(r.log10)} × the output's"
            tip = f"Gradient health of {g.label(n)}: |grad| = {size}{rel}"
            if r.log10 is not None:
                colour = colour_for(r.log10)
                self.marks.set((n, "halo"), lambda it, c=colour, t=tip: HaloMark(it, c, t))
                keys.append((n, "halo"))
            note = None
            if h.dead_relu:
                note, fill = "dead ReLU", DEAD
                tip += "\nDead: no element of its input is positive, so nothing passes back through it."
            elif h.vanishing:
                note, fill = f"vanishing {power(r.log10)}", LOW
            elif h.exploding:
                note, fill = f"exploding {power(r.log10)}", HIGH
            elif h.dead_units:
                note, fill = f"{h.dead_units} dead units", DEAD
            if note:
                self.marks.set((n, "note"), lambda it, s=note, f=fill, t=tip:
                               PillMark(it, s, f, style.BACKGROUND, t, edge=BOTTOM))
                keys.append((n, "note"))
        self.marks.keep_only(keys)
        self.legend = HealthLegend(self.health, g)
        box = self.scene.items_bounding_rect()
        self.scene.addItem(self.legend)
        self.legend.setPos(box.left(), box.top() - self.legend.boundingRect().height() - 6)

    def summary(self) -> str:
        if self.health is None:
            return f"Gradient Health: {getattr(self, '_why', 'nothing to show')}"
        h = self.health
        g = self.bridge.graph
        parts = [f"{len(h.vanishing())} vanishing", f"{len(h.exploding())} exploding",
                 f"{len(h.dead_relus())} dead ReLU{'s' if len(h.dead_relus()) != 1 else ''}"]
        return f"Gradient Health, relative to {g.label(h.output)}'s gradient: " + ", ".join(parts)
