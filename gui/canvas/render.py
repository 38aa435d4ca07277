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

FORMATS = (".png", ".svg")
MARGIN = 24.0
SCALE = 2.0


def ensure_app():
    """The running QApplication, or a new one; a new one is offscreen unless told otherwise,
    because a picture needs no window and a server may have no (working) display."""
    if "QT_QPA_PLATFORM" not in os.environ:
        from PySide6.QtWidgets import QApplication

        if QApplication.instance() is None:
            os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtWidgets import QApplication

    return QApplication.instance() or QApplication([])


def check_format(out_path) -> str:
    """The output's suffix (".png" or ".svg"); ValueError for anything else."""
    suffix = Path(out_path).suffix.lower()
    if suffix not in FORMATS:
        shown = suffix or "no suffix"
        raise ValueError(f"cannot render to '{out_path}' ({shown}): the output must end in .png or .svg")
    return suffix


def picture_rect(scene, margin: float = MARGIN):
    """The part of the scene a picture shows: every item plus a margin, in scene coordinates."""
    rect = scene.items_bounding_rect()
    if rect.isNull() or rect.isEmpty():
        from PySide6.QtCore import QRectF

        rect = QRectF(0, 0, 200, 100)
    return rect.adjusted(-margin, -margin, margin, margin)


def picture_size(scene, scale: float = SCALE, margin: float = MARGIN) -> tuple[int, int]:
    """Pixel size of a PNG of ``scene`` at ``scale``."""
    r = picture_rect(scene, margin)
    return max(1, math.ceil(r.width() * scale)), max(1, math.ceil(r.height() * scale))


def _background():
    from PySide6.QtGui import QColor

    from gui import style

    return QColor(style.BACKGROUND)


def render_scene(scene, out_path, scale: float = SCALE, margin: float = MARGIN) -> Path:
    """Draw every item of ``scene`` into a PNG (raster, ``scale`` pixels per scene unit) or an
    SVG (vector), chosen by the suffix of ``out_path``. Selection highlights are left out.
    Raises ValueError for another suffix and OSError when the file cannot be written."""
    from PySide6.QtCore import QRectF, QSize
    from PySide6.QtGui import QImage, QPainter

    suffix = check_format(out_path)
    out = Path(out_path)
    source = picture_rect(scene, margin)
    selected = [it for it in scene.selectedItems()]
    for it in selected:
        it.setSelected(False)
    # Cached items would be blitted as bitmaps: blurry when scaled, and no vector text in SVG.
    cached = [(it, it.cacheMode()) for it in scene.items() if it.cacheMode() != it.CacheMode.NoCache]
    for it, _ in cached:
        it.setCacheMode(it.CacheMode.NoCache)
    try:
        if suffix == ".png":
            w, h = picture_size(scene, scale, margin)
            image = QImage(w, h, QImage.Format_ARGB32_Premultiplied)
            image.setDevicePixelRatio(1.0)
            image.fill(_background())
            painter = QPainter(image)
            _hints(painter)
            scene.render(painter, QRectF(0, 0, w, h), source)
            painter.end()
            if not image.save(str(out), "PNG"):
                raise OSError(f"cannot write '{out}'")
        else:
            from PySide6.QtSvg import QSvgGenerator

            if out.parent and not out.parent.is_dir():
                raise OSError(f"cannot write '{out}': no directory '{out.parent}'")
            gen = QSvgGenerator()
            gen.setFileName(str(out))
            size = QSize(math.ceil(source.width()), math.ceil(source.height()))
            gen.setSize(size)
            gen.setViewBox(QRectF(0, 0, size.width(), size.height()))
            gen.setTitle("gradcanvas")
            gen.setDescription("A computational graph with values and gradients, drawn by gradcanvas")
            painter = QPainter()
            if not painter.begin(gen):
                raise OSError(f"cannot write '{out}'")
            _hints(painter)
            painter.fillRect(QRectF(0, 0, size.width(), size.height()), _background())
            scene.render(painter, QRectF(0, 0, size.width(), size.height()), source)
            painter.end()
            if not out.is_file():
                raise OSError(f"cannot write '{out}'")
    finally:
        for it, mode in cached:
            it.setCacheMode(mode)
        for it in selected:
            it.setSelected(True)
    return out


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
    .svg). The caller's graph is not touched: a copy is drawn, read-only."""
    check_format(out_path)
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
    an unsupported output suffix, DocumentError for a bad document, OSError when the picture
    cannot be written."""
    check_format(out_path)
    from engine.io import document

    return render_graph(document.load(in_path), out_path, scale)
