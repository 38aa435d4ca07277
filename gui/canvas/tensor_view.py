"""How an array is drawn inside a node: a grid of its numbers when it is small, else a heatmap
(value: a sequential colour map; gradient: a diverging one, zero white), and which element
sits under a point of either.

An array of any rank is drawn as a 2-D table: a vector as one row, a matrix as itself, a 3-D
or 4-D array with its leading axes stacked into rows (``(2, 3, 4)`` is 6 rows of 4).

>>> import numpy as np
>>> table_shape((3,)), table_shape((2, 3, 4))
((1, 3), (6, 4))
>>> element_index((2, 3, 4), 5, 1)
(1, 2, 1)
>>> index_text("W", (0, 1))
'W[0,1]'
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QRectF
from PySide6.QtGui import QImage

# Sequential map for values (dark blue -> teal -> yellow, viridis-like: reads on the dark
# node body and in greyscale); diverging map for gradients (blue -> white -> red, zero white:
# the sign of a gradient is what a learner looks for first).
_SEQ = np.array([(68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (253, 231, 37)], float)
_DIV = np.array([(33, 102, 172), (146, 197, 222), (247, 247, 247), (244, 165, 130), (178, 24, 43)], float)


def table_shape(shape) -> tuple[int, int]:
    """(rows, columns) of the 2-D table an array of ``shape`` is drawn as."""
    shape = tuple(shape)
    if len(shape) <= 1:
        return 1, (shape[0] if shape else 1)
    return math.prod(shape[:-1]), shape[-1]


def as_table(a) -> np.ndarray:
    """``a`` as a float 2-D table (see :func:`table_shape`)."""
    a = np.asarray(a, dtype=np.float64)
    return a.reshape(table_shape(a.shape))


def element_index(shape, row: int, col: int) -> tuple:
    """The array index drawn at (row, col) of the table."""
    rows, cols = table_shape(shape)
    if not shape:
        return ()
    return tuple(int(i) for i in np.unravel_index(row * cols + col, tuple(shape)))


def index_text(name: str, index) -> str:
    """``W[0,1]``: how an element is named in tooltips and choosers."""
    return f"{name}[{','.join(map(str, index))}]"


def _ramp(t: np.ndarray, stops: np.ndarray) -> np.ndarray:
    """Colours for t in [0, 1] along the stops, as uint8 RGB."""
    t = np.clip(np.nan_to_num(t, nan=0.5), 0.0, 1.0) * (len(stops) - 1)
    k = np.minimum(t.astype(int), len(stops) - 2)
    f = (t - k)[..., None]
    return (stops[k] * (1 - f) + stops[k + 1] * f).round().astype(np.uint8)


def heat_colours(a, diverging: bool) -> np.ndarray:
    """(rows, cols, 3) uint8 colours of ``a``'s table. Sequential: min to max. Diverging:
    -m to +m with m the largest magnitude, so zero is white whatever the range."""
    t = as_table(a)
    finite = t[np.isfinite(t)]
    with np.errstate(all="ignore"):
        if diverging:
            m = float(np.abs(finite).max()) if finite.size else 0.0
            u = 0.5 + 0.5 * t / m if m > 0 else np.full(t.shape, 0.5)
            return _ramp(u, _DIV)
        lo = float(finite.min()) if finite.size else 0.0
        hi = float(finite.max()) if finite.size else 0.0
        u = (t - lo) / (hi - lo) if hi > lo else np.full(t.shape, 0.5)
        return _ramp(u, _SEQ)


def diverging_colours(a, scale: float) -> np.ndarray:
    """(…, 3) uint8 colours of ``a`` in the gradient map with ±``scale`` at the ends (zero
    white): pictures that share one scale (a layer's units) compare."""
    t = np.asarray(a, dtype=np.float64) / (scale if scale > 0 else 1.0)
    return _ramp(0.5 + 0.5 * np.clip(t, -1.0, 1.0), _DIV)


def heat_image(a, diverging: bool) -> QImage:
    """The heatmap of ``a`` as an image with one pixel per element (scaled when drawn)."""
    rgb = np.ascontiguousarray(heat_colours(a, diverging))
    rows, cols = rgb.shape[:2]
    rgba = np.empty((rows, cols, 4), np.uint8)
    rgba[..., :3] = rgb
    rgba[..., 3] = 255
    img = QImage(rgba.data, cols, rows, 4 * cols, QImage.Format.Format_RGBA8888)
    return img.copy()  # own the pixels: the numpy buffer goes away


def cell_at(rect: QRectF, shape, x: float, y: float) -> tuple | None:
    """The array index whose cell of a table drawn in ``rect`` contains (x, y), or None."""
    if not shape or not rect.contains(x, y):
        return None
    rows, cols = table_shape(shape)
    r = min(rows - 1, int((y - rect.top()) / rect.height() * rows))
    c = min(cols - 1, int((x - rect.left()) / rect.width() * cols))
    return element_index(shape, r, c)


def element_of(a, index):
    """Element ``index`` of ``a`` as a Python number (None when there is none)."""
    if a is None:
        return None
    if type(a) is not np.ndarray:
        return a
    try:
        return a[index].item()
    except (IndexError, TypeError):
        return None
