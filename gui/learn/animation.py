"""The step-through as an animation for slides: one frame per step, drawn offscreen by the
canvas's own scene and step mode, with the step's caption under it.

:class:`StepFrames` walks a document's backward pass (``forward=True`` walks the forward pass
first), exactly as Learn ▸ Step Through shows it: a :class:`~gui.learn.stepper.StepMode` drives
a read-only :class:`~gui.canvas.scene.GraphScene` on a copy of the document, and each frame is
that scene painted into an image, with the step's caption
(:meth:`~gui.learn.stepper.StepMode.caption`, e.g. ``b sends 20 back to a: 15 + 20 = 35``) in
a band below. :class:`DescentFrames` does the same for a Descend run, one frame per step.
:func:`export_steps` and :func:`export_descent` write them as GIF, APNG, MP4 or numbered
PNGs (:func:`gui.learn.movie.write_animation`).

The frame budget (:mod:`gui.learn.movie`): at most MAX_FRAMES frames of at most MAX_WIDTH x
MAX_HEIGHT pixels and MAX_TOTAL_PIXELS pixels in all; a document whose animation would need
more is refused (AnimationTooLarge) when its steps are counted, before anything is drawn.

>>> from engine import Graph
>>> frames = StepFrames(Graph.from_expression("(a*4+3)*(a+2)", a=3))   # doctest: +SKIP
>>> len(frames), frames.caption(2)                                    # doctest: +SKIP
(9, 'add sends 5 back to mul: 0 + 5 = 5; 5 back to 3: 0 + 5 = 5')
"""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRectF, QSize, Qt
from PySide6.QtGui import QFont, QFontMetricsF, QImage, QPainter
from PySide6.QtSvg import QSvgGenerator

from engine import GraphError
from engine.learn.descent import plan_descent
from gui import style as S
from gui.canvas.budget import check_graph
from gui.canvas.render import _hints
from gui.canvas.scene import GraphScene
from gui.learn import movie
from gui.learn.movie import DEFAULT_SIZE, check_budget, check_size, count_step_frames
from gui.learn.stepper import BACKWARD, FORWARD, StepMode
from gui.style import format_number

MAX_ZOOM = 1.5  # a small graph is not blown up past this
READABLE_ZOOM = 0.9  # below this the canvas's smallest text is under ~7 px: follow the step instead
BAND = 0.13  # the caption band's share of the frame's height


class Frames:
    """Frames drawn from a read-only scene: ``len()``, ``caption(i)``, ``counter(i)`` (the
    small line above the caption), ``image(i)`` (a QImage of ``size``), ``svg(i)`` (the same
    frame as SVG text, whose ``<text>`` holds the caption). Subclasses put frame ``i`` on the
    scene in :meth:`show`. Call :meth:`close` when done (or use ``with``)."""

    def __init__(self, scene, size):
        self.size = size
        self.scene = scene
        # A cached item would be blitted as a bitmap: blurry when scaled, no text in the SVG.
        for it in scene.items():
            it.setCacheMode(it.CacheMode.NoCache)
        self._content = _nodes_rect(scene)
        self._shown = None

    def __len__(self) -> int:
        raise NotImplementedError

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self) -> None:
        if self.scene is not None and shiboken6.isValid(self.scene):
            shiboken6.delete(self.scene)
        self.scene = None

    def _index(self, i: int) -> int:
        if isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < len(self):
            raise IndexError(f"frame {i!r} is outside 0..{len(self) - 1}")
        return i

    def show(self, i: int) -> None:
        raise NotImplementedError

    def caption(self, i: int) -> str:
        raise NotImplementedError

    def counter(self, i: int) -> str:
        raise NotImplementedError

    def focus(self) -> QRectF | None:
        """The part of the scene the shown frame is about (followed when the whole document
        cannot be shown legibly); None: the whole document."""
        return None

    def _go(self, i: int) -> None:
        i = self._index(i)
        if self._shown != i:
            self.show(i)
            self._shown = i

    def image(self, i: int) -> QImage:
        """Frame ``i`` as an RGB image of ``size``."""
        self._go(i)
        w, h = self.size
        image = QImage(w, h, QImage.Format.Format_RGB32)
        image.setDevicePixelRatio(1.0)
        image.fill(S.BACKGROUND)
        painter = QPainter(image)
        try:
            self._paint(painter, i)
        finally:
            painter.end()
        return image

    def rgb(self, i: int) -> tuple[int, int, bytes]:
        """Frame ``i`` as (width, height, packed RGB bytes): what Pillow and ffmpeg take."""
        rgb = self.image(i).convertToFormat(QImage.Format.Format_RGB888)
        w, h, bpl = rgb.width(), rgb.height(), rgb.bytesPerLine()
        raw = bytes(rgb.constBits())
        if bpl != 3 * w:  # Qt pads each line to 4 bytes
            raw = b"".join(raw[y * bpl: y * bpl + 3 * w] for y in range(h))
        return w, h, raw[: 3 * w * h]

    def png(self, i: int) -> bytes:
        """Frame ``i`` as PNG bytes."""
        data = QByteArray()
        buf = QBuffer(data)
        buf.open(QIODevice.OpenModeFlag.WriteOnly)
        self.image(i).save(buf, "PNG")
        buf.close()
        return bytes(data.data())

    def svg(self, i: int) -> str:
        """Frame ``i`` as SVG text (its ``<text>`` elements hold what the frame writes)."""
        self._go(i)
        w, h = self.size
        data = QByteArray()
        buf = QBuffer(data)
        buf.open(QIODevice.OpenModeFlag.WriteOnly)
        gen = QSvgGenerator()
        gen.setOutputDevice(buf)
        gen.setResolution(96)
        gen.setSize(QSize(w, h))
        gen.setViewBox(QRectF(0, 0, w, h))
        painter = QPainter(gen)
        try:
            painter.fillRect(QRectF(0, 0, w, h), S.BACKGROUND)
            self._paint(painter, i)
        finally:
            painter.end()
            buf.close()
        return bytes(data.data()).decode("utf-8")

    # ---------------------------------------------------------------- drawing

    def _paint(self, painter: QPainter, i: int) -> None:
        w, h = self.size
        band = max(28.0, round(h * BAND))
        _hints(painter)
        area = QRectF(0, 0, w, h - band)
        self.scene.render(painter, area, self._camera(area), Qt.AspectRatioMode.KeepAspectRatio)
        painter.fillRect(QRectF(0, h - band, w, band), S.NODE_BODY)
        pad = max(6.0, round(h * 0.02))
        small = _pixel_font(max(9.0, band * 0.22))
        painter.setFont(small)
        painter.setPen(S.TEXT_DIM)
        top = QRectF(pad, h - band + pad * 0.5, w - 2 * pad, band * 0.32)
        painter.drawText(top, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, self.counter(i))
        text = self.caption(i)
        line = QRectF(pad, top.bottom(), w - 2 * pad, h - top.bottom() - pad * 0.5)
        font = _fitting_font(text, line.width(), max(10.0, band * 0.36), max(9.0, band * 0.2))
        painter.setFont(font)
        painter.setPen(S.TEXT)
        metrics = QFontMetricsF(font)
        flags = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        if metrics.horizontalAdvance(text) > line.width():  # too long even small: two lines, if they fit
            wrapped = metrics.boundingRect(line, flags | Qt.TextFlag.TextWordWrap, text)
            if wrapped.height() <= line.height():
                painter.drawText(line, flags | Qt.TextFlag.TextWordWrap, text)
                return
            text = metrics.elidedText(text, Qt.TextElideMode.ElideRight, line.width())
        painter.drawText(line, flags, text)

    def _camera(self, area: QRectF) -> QRectF:
        """The scene rectangle drawn into ``area``: the whole document when it reads at that
        size (zoomed in at most MAX_ZOOM), else the shown step's nodes at READABLE_ZOOM, kept
        inside the document."""
        content = self._content
        fit = min(area.width() / content.width(), area.height() / content.height())
        zoom = min(fit, MAX_ZOOM)
        focus = self.focus() if fit < READABLE_ZOOM else None
        if focus is None:
            centre = content.center()
        else:
            zoom = READABLE_ZOOM
            centre = focus.center()
        vw, vh = area.width() / zoom, area.height() / zoom
        x, y = centre.x() - vw / 2, centre.y() - vh / 2
        if focus is not None:  # no empty canvas past the document's edge when it can be helped
            x = _clamp(x, content.left(), content.right() - vw)
            y = _clamp(y, content.top(), content.bottom() - vh)
        return QRectF(x, y, vw, vh)


def _clamp(v: float, lo: float, hi: float) -> float:
    return (lo + hi) / 2 if hi < lo else min(max(v, lo), hi)


def _nodes_rect(scene) -> QRectF:
    """Every node, with room around it for the callouts step mode puts above and below."""
    rect = QRectF()
    for it in scene.node_items().values():
        rect = rect.united(it.sceneBoundingRect())
    if rect.isEmpty():
        rect = QRectF(0, 0, 200, 100)
    return rect.adjusted(-60, -50, 60, 50)


def _pixel_font(px: float, bold: bool = False) -> QFont:
    f = S.font(9.0, bold=bold)
    f.setPixelSize(max(1, round(px)))
    return f


def _fitting_font(text: str, width: float, largest: float, smallest: float) -> QFont:
    """The largest font between ``largest`` and ``smallest`` pixels in which ``text`` fits
    ``width`` (the smallest when none does; the text is then cut with an ellipsis)."""
    px = largest
    while True:
        f = _pixel_font(px)
        if px <= smallest or QFontMetricsF(f).horizontalAdvance(text) <= width:
            return f
        px = max(smallest, px * 0.9)


# ------------------------------------------------------------------ the step-through


class StepFrames(Frames):
    """The step-through of ``graph`` (a copy is drawn; ``graph`` is not touched): frame 0 is
    the backward pass's step 0 (or the forward pass's, with ``forward``), each later frame one
    step on, the last the finished pass. Raises GraphError when there is nothing to step
    (no output, an unconnected input upstream of it), AnimationTooLarge over the frame budget
    and PictureTooLarge for a node far out, all before any drawing."""

    def __init__(self, graph, size=DEFAULT_SIZE, forward: bool = False):
        size = check_size(size)
        check_budget(count_step_frames(graph, forward), size)
        check_graph(graph)  # a node far out: the camera following a step would show empty canvas
        self._title = graph.meta.get("title") if isinstance(graph.meta.get("title"), str) else ""
        scene = GraphScene.drawing(graph)
        self.mode = StepMode(None, scene, scene)
        if not self.mode.start(forward=forward):
            shiboken6.delete(scene)
            raise GraphError("nothing to step through")
        back = self.mode.total
        fwd = self.mode.forward_total if forward else -1
        self._positions = [(FORWARD, k) for k in range(fwd + 1)] + [(BACKWARD, k) for k in range(back + 1)]
        super().__init__(scene, size)

    def __len__(self) -> int:
        return len(self._positions)

    def show(self, i: int) -> None:
        phase, k = self._positions[self._index(i)]
        if phase == FORWARD:
            self.mode.go_to_forward(k)
        else:
            self.mode.go_to(k)

    def caption(self, i: int) -> str:
        self._go(i)
        return self.mode.caption()

    def counter(self, i: int) -> str:
        phase, k = self._positions[self._index(i)]
        if phase == FORWARD:
            where = f"forward pass, step {k} of {self.mode.forward_total}"
        else:
            where = f"backward pass, step {k} of {self.mode.total}"
            if k == self.mode.total:
                where += ": every gradient is final"
        return f"{self._title} · {where}" if self._title else where

    def focus(self) -> QRectF | None:
        node = self.mode.highlighted
        if node is None:
            return None
        nodes = [node]
        s, f = self.mode.state(), self.mode.forward_state()
        if s is not None:
            nodes += [src for _p, src, *_ in s.sends]
        elif f is not None:
            nodes += [src for _p, src, _v in f.inputs]
        rect = QRectF()
        for n in nodes:
            it = self.scene.node_item(n)
            if it is not None:
                rect = rect.united(it.sceneBoundingRect())
        return rect if not rect.isEmpty() else None


# ------------------------------------------------------------------ a Descend run


class DescentFrames(Frames):
    """A Descend run (:func:`engine.learn.descent.plan_descent` with ``keep_path=True``) on
    ``graph`` (the document as it was when the run started; a copy is drawn), one frame per
    point of its history: frame 0 the start, frame k the document after step k, every value
    and gradient as the canvas shows them, the gradient on each wire."""

    def __init__(self, graph, result, size=DEFAULT_SIZE):
        size = check_size(size)
        if len(result.path) != len(result.history):
            raise ValueError("the run was planned without keep_path=True: its steps are not known")
        check_budget(len(result.path), size, "the Descend run")
        check_graph(graph)
        self._title = graph.meta.get("title") if isinstance(graph.meta.get("title"), str) else ""
        self.result = result
        scene = GraphScene.drawing(graph)
        scene.set_show_wire_grads(True)
        super().__init__(scene, size)

    def __len__(self) -> int:
        return len(self.result.path)

    def show(self, i: int) -> None:
        g = self.scene.graph
        for n, v in self.result.path[self._index(i)].items():
            g.set_value(n, v)
        self.scene.bridge.recompute()

    def caption(self, i: int) -> str:
        r = self.result
        i = self._index(i)
        out = self.scene.graph.label(r.output)
        rule = f"{'+' if r.maximize else '−'}{format_number(r.lr)} × its gradient"
        if i == 0:
            return f"{out} = {format_number(r.history[0])} at the start; each step moves every trainable number by {rule}"  # noqa: E501
        return f"{out} = {format_number(r.history[i])} (was {format_number(r.history[i - 1])}): every trainable number moved by {rule}"  # noqa: E501

    def counter(self, i: int) -> str:
        goal = "ascent" if self.result.maximize else "descent"
        where = f"gradient {goal}, step {self._index(i)} of {len(self) - 1}"
        return f"{self._title} · {where}" if self._title else where


# ------------------------------------------------------------------ export


def export_steps(graph, out, size=DEFAULT_SIZE, fps: float = movie.DEFAULT_FPS, forward: bool = False,
                 progress=None) -> tuple[str, int]:
    """Write the step-through of ``graph`` to ``out`` (.gif, .png, .mp4 or a folder; see
    :func:`gui.learn.movie.write_animation`); returns (kind, frames written). Raises
    ValueError for a bad output, size or rate, AnimationTooLarge over the budget and
    GraphError when there is nothing to step, all before drawing; OSError when writing fails
    (the old file stays)."""
    kind = movie.output_kind(out)
    fps = movie.check_fps(fps)
    with StepFrames(graph, movie.size_for(kind, size), forward) as frames:
        return movie.write_animation(frames, out, fps, progress)


def export_descent(graph, out, *, steps: int, lr: float, trainable=None, maximize: bool = False,
                   size=DEFAULT_SIZE, fps: float = movie.DEFAULT_FPS, progress=None) -> tuple[str, int]:
    """Write a Descend run on ``graph`` (the document as the run starts; not touched) to
    ``out``, one frame per step: the run is planned again with
    :func:`engine.learn.descent.plan_descent` (the same arguments give the same run), keeping
    each step's values. As :func:`export_steps` otherwise; the budget is checked before the
    run is planned."""
    kind = movie.output_kind(out)
    fps = movie.check_fps(fps)
    size = movie.size_for(kind, size)
    check_budget(int(steps) + 1, size, "the Descend run")
    result = plan_descent(graph, steps=steps, lr=lr, trainable=trainable, maximize=maximize, keep_path=True)
    with DescentFrames(graph, result, size) as frames:
        return movie.write_animation(frames, out, fps, progress)


__all__ = ["DescentFrames", "Frames", "StepFrames", "export_descent", "export_steps"]
