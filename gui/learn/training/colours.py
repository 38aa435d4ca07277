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


def to_image(rgb) -> QImage:
    """An (H, W, 3) uint8 array as a QImage that owns its pixels."""
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    h, w = rgb.shape[:2]
    img = QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888)
    return img.copy()


__all__ = ["class_colours", "class_qcolor", "grad_rgb", "output_rgb", "to_image", "unit_rgb"]
