"""Headless pictures: the annotated canvas as PNG or SVG, and the whole window for screenshots.

Works without a display: when no QApplication exists yet, one is created on Qt's offscreen
platform (unless QT_QPA_PLATFORM says otherwise), so ``gradcanvas render`` runs on a server.

>>> from engine import Graph
>>> render_graph(Graph.from_expression("(a*4+3)*(a+2)", a=3), "fanout.png")  # doctest: +SKIP
"""

from __future__ import annotations

import math
import os
from pathlib import Path

from engine.io import atomic
from gui.canvas.budget import (  # noqa: F401 — the budget is part of this module's API
    BUDGET_TEXT,
    FORMATS,
    MARGIN,
    MAX_NODES,
    MAX_PIXELS,
    MAX_SIDE,
    MIN_SCALE,
    SCALE,
    PictureTooLarge,
    check_format,
    check_graph,
    fit_scale,
    load_for_picture,
)


def ensure_app():
    """The running QApplication, or a new one on Qt's offscreen platform (unless
    QT_QPA_PLATFORM says otherwise), because a picture needs no window and a server may have
    no (working) display. The choice is passed to this application only (``-platform``), not
    written into the environment, so child processes start as they would have."""
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is not None:
        return app
    argv = ["gradcanvas"]
    if not os.environ.get("QT_QPA_PLATFORM"):
        argv += ["-platform", "offscreen"]
    return QApplication(argv)


def picture_rect(scene, margin: float = MARGIN):
    """The part of the scene a picture shows: every item plus a margin, in scene coordinates."""
    rect = scene.items_bounding_rect()
    if rect.isNull() or rect.isEmpty():
        from PySide6.QtCore import QRectF

        rect = QRectF(0, 0, 200, 100)
    return rect.adjusted(-margin, -margin, margin, margin)


def picture_scale(scene, scale: float = SCALE, margin: float = MARGIN) -> float:
    """The scale a picture of ``scene`` is drawn at: ``scale``, or less to fit the budget
    (PictureTooLarge when nothing fits)."""
    r = picture_rect(scene, margin)
    return fit_scale(r.width(), r.height(), scale)


def _pixels(length: float, scale: float) -> int:
    # floor: at the budget's edge ceil would give 8,015 x 7,986 px, just over 64 million
    return min(MAX_SIDE, max(1, math.floor(length * scale)))


def picture_size(scene, scale: float = SCALE, margin: float = MARGIN) -> tuple[int, int]:
    """Pixel size of a PNG of ``scene`` at ``scale`` (or smaller, within the budget)."""
    r = picture_rect(scene, margin)
    s = fit_scale(r.width(), r.height(), scale)
    return _pixels(r.width(), s), _pixels(r.height(), s)


def _background():
    from PySide6.QtGui import QColor

    from gui import style

    return QColor(style.BACKGROUND)


def render_scene(scene, out_path, scale: float = SCALE, margin: float = MARGIN) -> Path:
    """Draw every item of ``scene`` into a PNG (raster, ``scale`` pixels per scene unit) or an
    SVG (vector, one unit per scene unit), chosen by the suffix of ``out_path``, within the
    picture budget (drawn smaller when it would not fit). Selection highlights are left out.
    The file is replaced atomically: on any failure the old picture stays and no partial
    file is left. Raises ValueError for another suffix, PictureTooLarge (a ValueError) when
    the scene does not fit the budget, OSError when the file cannot be written."""
    suffix = check_format(out_path)
    out = Path(out_path)
    data = picture_bytes(scene, suffix, scale, margin)
    try:
        atomic.write_bytes(out, data)
    except OSError as e:
        raise atomic.write_error(out, e) from None
    return out


def picture_bytes(scene, suffix: str, scale: float = SCALE, margin: float = MARGIN) -> bytes:
    """The PNG or SVG (``suffix``) of ``scene`` as bytes; see :func:`render_scene`."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRectF, QSize
    from PySide6.QtGui import QImage, QPainter

    source = picture_rect(scene, margin)
    s = fit_scale(source.width(), source.height(), scale if suffix == ".png" else 1.0)
    w, h = _pixels(source.width(), s), _pixels(source.height(), s)
    selected = [it for it in scene.selectedItems()]
    for it in selected:
        it.setSelected(False)
    # Cached items would be blitted as bitmaps: blurry when scaled, and no vector text in SVG.
    cached = [(it, it.cacheMode()) for it in scene.items() if it.cacheMode() != it.CacheMode.NoCache]
    for it, _ in cached:
        it.setCacheMode(it.CacheMode.NoCache)
    data = QByteArray()
    buf = QBuffer(data)
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    try:
        if suffix == ".png":
            image = QImage(w, h, QImage.Format.Format_ARGB32_Premultiplied)
            if image.isNull():
                raise PictureTooLarge(f"cannot draw a {w:,} x {h:,} picture: not enough memory")
            image.setDevicePixelRatio(1.0)
            image.fill(_background())
            painter = QPainter(image)
            _hints(painter)
            scene.render(painter, QRectF(0, 0, w, h), source)
            painter.end()
            # Light compression past 16 million px: zlib's default took 6 s on a picture
            # at the budget's edge, 80 takes 3 s for a file a few times bigger.
            if not image.save(buf, "PNG", 80 if w * h > 16_000_000 else -1):
                raise atomic.WriteError(None, f"cannot encode a {w:,} x {h:,} PNG")
        else:
            from PySide6.QtSvg import QSvgGenerator

            gen = QSvgGenerator()
            gen.setOutputDevice(buf)
            gen.setSize(QSize(w, h))
            gen.setViewBox(QRectF(0, 0, w, h))
            gen.setTitle("gradcanvas")
            gen.setDescription("A computational graph with values and gradients, drawn by gradcanvas")
            painter = QPainter()
            if not painter.begin(gen):
                raise atomic.WriteError(None, "cannot start an SVG drawing")
            _hints(painter)
            painter.fillRect(QRectF(0, 0, w, h), _background())
            scene.render(painter, QRectF(0, 0, w, h), source)
            painter.end()
    finally:
        buf.close()
        for it, mode in cached:
            it.setCacheMode(mode)
        for it in selected:
            it.setSelected(True)
    return bytes(data.data())


def _hints(painter) -> None:
    from PySide6.QtGui import QPainter

    painter.setRenderHint(QPainter.Antialiasing, True)
    painter.setRenderHint(QPainter.TextAntialiasing, True)
    painter.setRenderHint(QPainter.SmoothPixmapTransform, True)


def render_graph(
    graph, out_path, scale: float = SCALE, margin: float = MARGIN, wire_grads: bool = True
) -> Path:
    """Evaluate ``graph`` and draw it, annotated with values and gradients (and, with
    ``wire_grads``, the gradient flowing back along each wire), to ``out_path`` (.png or
    .svg). The caller's graph is not touched: a copy is drawn, read-only. A document the
    picture budget cannot hold is refused (PictureTooLarge) before anything is drawn."""
    check_format(out_path)
    check_graph(graph)
    ensure_app()
    import shiboken6

    from gui.canvas.scene import GraphScene

    scene = GraphScene.drawing(graph)  # a copy: the caller's graph gains no subscriber
    scene.set_show_wire_grads(wire_grads)
    try:
        return render_scene(scene, out_path, scale, margin)
    finally:
        shiboken6.delete(scene)


def render_file(in_path, out_path, scale: float = SCALE) -> Path:
    """Load a document and draw it (the ``gradcanvas render`` command). Raises ValueError for
    an unsupported output suffix, PictureTooLarge (a ValueError) for a document over the
    picture budget (too many nodes is seen before the document is built), DocumentError for a
    bad document, OSError when the picture cannot be written."""
    check_format(out_path)
    return render_graph(load_for_picture(in_path), out_path, scale)
