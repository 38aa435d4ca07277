"""Colours of the pictures over the input plane, as TensorFlow Playground paints them: class 0
(Playground's −1) orange, class 1 (its +1) blue, further classes their own hues; a unit's
value from orange through white to blue, symmetric about 0; a gradient in the canvas's own
diverging map (blue down, red up, zero white), so a gradient picture reads like a gradient
heatmap on a node.

>>> import numpy as np
>>> class_colours(3).shape, unit_rgb(np.array([[-1.0, 0.0, 1.0]]))[0].tolist()
((3, 3), [[245, 147, 34], [232, 234, 238], [8, 119, 189]])
"""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QColor, QImage

from gui.canvas.tensor_view import diverging_colours, heat_colours

ORANGE = (245, 147, 34)
BLUE = (8, 119, 189)
MIDDLE = (232, 234, 238)
_MORE = ((76, 175, 80), (171, 71, 188), (229, 57, 53), (38, 166, 154), (253, 216, 53), (141, 110, 99),
         (236, 64, 122), (92, 107, 192))
BACKDROP = np.array((29, 32, 38), float)


def class_colours(classes: int) -> np.ndarray:
    """(C, 3) colours of classes 0..C−1."""
    base = [ORANGE, BLUE, *_MORE]
    return np.array([base[k % len(base)] for k in range(max(classes, 1))], float)


def class_qcolor(k: int, classes: int) -> QColor:
    r, g, b = class_colours(max(classes, k + 1))[k]
    return QColor(int(r), int(g), int(b))


def unit_rgb(values, scale: float | None = None) -> np.ndarray:
    """(H, W, 3) uint8: orange (−) → white → blue (+), ±``scale`` (default the largest
    magnitude, at least 1e-12) at the ends."""
    v = np.asarray(values, dtype=float)
    finite = np.isfinite(v)
    m = scale if scale is not None else (float(np.abs(v[finite]).max()) if finite.any() else 1.0)
    t = np.clip(np.where(finite, v, 0.0) / max(m, 1e-12), -1.0, 1.0)[..., None]
    neg, mid, pos = (np.array(c, float) for c in (ORANGE, MIDDLE, BLUE))
    rgb = np.where(t < 0, mid + (neg - mid) * (-t), mid + (pos - mid) * t)
    return rgb.round().astype(np.uint8)


def grad_rgb(values, scale: float | None = None) -> np.ndarray:
    """(H, W, 3) uint8 in the canvas's gradient map (symmetric, zero white), ±``scale`` at
    the ends (default: the largest magnitude)."""
    if scale is None:
        return heat_colours(np.asarray(values, dtype=float), diverging=True)
    return diverging_colours(values, scale)


def output_rgb(output, predicted, classes: int | None, mode_scale: float | None = None) -> np.ndarray:
    """The output picture: class probabilities (G, G, C) blended by how sure the network is
    (a pale mix near the boundary, the winning class's colour far from it), a score or a
    regression surface (G, G) from orange to blue."""
    out = np.asarray(output, dtype=float)
    if out.ndim == 3:
        C = out.shape[2]
        cols = class_colours(C)
        mix = np.einsum("ijc,cd->ijd", np.nan_to_num(out), cols)
        sure = (np.nan_to_num(out).max(axis=2) - 1.0 / C) / (1.0 - 1.0 / C)
        a = (0.25 + 0.6 * np.clip(sure, 0.0, 1.0))[..., None]
        return (BACKDROP * (1 - a) + mix * a).round().astype(np.uint8)
    rgb = unit_rgb(np.tanh(out) if mode_scale is None else out, 1.0 if mode_scale is None else mode_scale)
    return (BACKDROP * 0.35 + rgb * 0.65).round().astype(np.uint8)


# Pictures drawn every frame go through lookup tables of 32-bit pixels: one index per point
# instead of a colour blend per point, and QImage's RGB32, the format QPainter draws without
# converting (an RGB888 image is converted on every draw).
LEVELS = 511  # entries per table; odd, so 0 falls exactly on the middle entry


def argb(rgb) -> np.ndarray:
    """(…, 3) colours as (…) uint32 pixels 0xffRRGGBB (QImage.Format_RGB32)."""
    c = np.asarray(rgb).round().astype(np.uint32)
    return np.uint32(0xFF000000) | (c[..., 0] << 16) | (c[..., 1] << 8) | c[..., 2]


_RAMP = np.linspace(-1.0, 1.0, LEVELS)
_UNIT_LUT = argb(unit_rgb(_RAMP, 1.0))
_GRAD_LUT = argb(diverging_colours(_RAMP, 1.0))


def _levels(values, scale: float) -> np.ndarray:
    """Table indices of ``values / scale`` clipped to ±1; non-finite values to the middle."""
    v = np.asarray(values, dtype=float)
    t = v * (1.0 / scale if scale > 0 and np.isfinite(scale) else 1.0)
    t = np.clip(np.where(np.isfinite(t), t, 0.0), -1.0, 1.0)
    return np.rint((t + 1.0) * ((LEVELS - 1) / 2)).astype(np.intp)


def unit_pixels(values, scale: float) -> np.ndarray:
    """:func:`unit_rgb` as RGB32 pixels (to within one table step of 1/255 of the range)."""
    return _UNIT_LUT[_levels(values, scale)]


def grad_pixels(values, scale: float) -> np.ndarray:
    """:func:`grad_rgb` with ±``scale`` at the ends, as RGB32 pixels."""
    return _GRAD_LUT[_levels(values, scale)]


_SURFACE_LUT = argb(BACKDROP * 0.35 + unit_rgb(_RAMP, 1.0) * 0.65)
_P1 = np.linspace(0.0, 1.0, LEVELS)
_TWO_CLASS_LUT = argb(output_rgb(np.stack([1.0 - _P1, _P1], axis=-1)[None], None, 2)[0])


def output_pixels(output, predicted, classes: int | None) -> np.ndarray:
    """:func:`output_rgb` as RGB32 pixels: two classes and a score or surface by table (the
    colour depends on one number per point), more classes by the blend itself."""
    out = np.asarray(output, dtype=float)
    if out.ndim == 3 and out.shape[2] == 2:
        p1 = np.clip(np.nan_to_num(out[..., 1], nan=0.5), 0.0, 1.0)
        return _TWO_CLASS_LUT[np.rint(p1 * (LEVELS - 1)).astype(np.intp)]
    if out.ndim == 2:
        return _SURFACE_LUT[_levels(np.tanh(out), 1.0)]
    return argb(output_rgb(out, predicted, classes))


def to_image(pixels) -> QImage:
    """An (H, W) uint32 RGB32 array or an (H, W, 3) uint8 array as a QImage that owns its
    pixels (RGB32 either way: what QPainter draws fastest)."""
    a = np.asarray(pixels)
    if a.ndim == 3:
        a = argb(a)
    a = np.ascontiguousarray(a, dtype=np.uint32)
    h, w = a.shape[:2]
    return QImage(a.data, w, h, 4 * w, QImage.Format.Format_RGB32).copy()


__all__ = ["argb", "class_colours", "class_qcolor", "grad_pixels", "grad_rgb", "output_pixels", "output_rgb",
           "to_image", "unit_pixels", "unit_rgb"]
