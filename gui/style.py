"""Canvas look: colours, fonts, pens, node geometry and number formatting.

Every drawn item takes its colours and sizes from here, so the canvas, the headless renderer
and the tests agree on one look.

>>> format_number(35.0), format_number(None), format_number(float("nan")), format_number(-2.5)
('35', '—', 'NaN', '−2.5')
"""

from __future__ import annotations

import math
import sys

from gui._compat import pin_singletons  # noqa: E402

pin_singletons()

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtGui import QColor, QFont, QPalette, QPen  # noqa: E402

DASH = "—"  # shown where a node has no value (unconnected input) or no path to the output
MINUS = "\u2212"

# ---------------------------------------------------------------- geometry (scene units)
# The node's numbers live in gui.canvas.geometry (Qt-free, so a layout can share them).
from engine.core import arrays as _arrays  # noqa: E402
from engine.core.arrays import ndarray as _ndarray  # noqa: E402
from engine.drawing.geometry import HEAD_H, NODE_W, PORT_HIT_R, PORT_R, node_height  # noqa: E402, F401
from engine.drawing.geometry import ROW_H as LINE_H  # noqa: E402, F401

NODE_H = node_height(0)  # a number node: header, value row, grad row
CORNER = 7.0
GRID = 20.0
GRID_MAJOR = 5  # every fifth grid line is stronger

# ---------------------------------------------------------------- colours (dark theme)
BACKGROUND = QColor("#1d2026")
GRID_MINOR = QColor("#272b33")
GRID_MAJOR_C = QColor("#323843")
NODE_BODY = QColor("#2a2f38")
NODE_HEAD_NUMBER = QColor("#2c4a50")
NODE_HEAD_OP = QColor("#3b3857")
NODE_BORDER = QColor("#454c58")
TEXT = QColor("#e8eaee")
TEXT_DIM = QColor("#9aa3b0")
VALUE = QColor("#7ed491")
GRAD = QColor("#ff7b7b")
EXTRA = QColor("#7fb7ff")
WIRE = QColor("#8b95a5")
WIRE_GRAD = QColor("#ffa07a")
WIRE_RUBBER = QColor("#c8d0dc")
PORT_IN = QColor("#aab3c0")
PORT_OUT = QColor("#7ed491")
PORT_EMPTY = QColor("#f5a623")
SELECTED = QColor("#4aa3ff")
OUTPUT = QColor("#f2c14e")
PROBLEM = QColor("#ff5c5c")
UNCONNECTED = QColor("#f5a623")
HIGHLIGHT = QColor("#5ad1ff")
BADGE = QColor("#c792ea")
LABEL_BG = QColor(29, 32, 38, 215)


def plot_surface(widget, min_w: int, min_h: int) -> None:
    """Make ``widget`` a plot surface: the canvas's background, growing with its dock (the
    Descend curve and the second-order views share this)."""
    from PySide6.QtWidgets import QSizePolicy

    widget.setMinimumSize(min_w, min_h)
    widget.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
    widget.setAutoFillBackground(True)
    pal = widget.palette()
    pal.setColor(QPalette.ColorRole.Window, BACKGROUND)
    widget.setPalette(pal)


def font(point_size: float = 9.0, bold: bool = False, italic: bool = False, mono: bool = False) -> QFont:
    """A canvas font; numbers use a monospace face so digits line up while values change."""
    f = QFont("DejaVu Sans Mono" if mono else "DejaVu Sans")
    if mono:
        f.setStyleHint(QFont.StyleHint.Monospace)
    f.setPointSizeF(point_size)
    f.setBold(bold)
    f.setItalic(italic)
    return f


def pen(color: QColor, width: float = 1.0, style=Qt.PenStyle.SolidLine) -> QPen:
    p = QPen(color, width, style)
    p.setCapStyle(Qt.PenCapStyle.RoundCap)
    p.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    return p


NEAR_INTEGER_ULPS = 4  # how many machine epsilons (relative) from an integer still print as it


def snap_near_integer(xf: float) -> float:
    """``xf``, or the integer n it lies within 4ε·max(1, |n|) of: rounding left in the last
    bits (log-sum-exp's m.grad = 1.1e-16, 0.1 + 0.2 − 0.3) is not a number to show, and a
    lesson that says 0 must match the node.

    >>> [snap_near_integer(x) for x in (1.1102230246251565e-16, 3.0000000000000004, 1e-9, -0.0)]
    [0.0, 3.0, 1e-09, 0.0]
    """
    n = round(xf)
    return float(n) if abs(xf - n) <= NEAR_INTEGER_ULPS * sys.float_info.epsilon * max(1.0, abs(n)) else xf


def _compact(xf: float, digits: int, int_limit: float) -> str:
    """``xf`` in at most ``digits`` significant digits, whole numbers below ``int_limit``
    without a decimal point (a near-integer as that integer, see snap_near_integer),
    NaN/inf by name, a short exponent, the typographic minus."""
    if xf != xf:
        return "NaN"
    if math.isinf(xf):
        return "inf" if xf > 0 else MINUS + "inf"
    xf = snap_near_integer(xf)
    if xf == 0:
        return "0"
    if xf.is_integer() and abs(xf) < int_limit:
        text = str(int(xf))
    else:
        text = f"{xf:.{digits}g}"
        if "e" in text:
            mant, exp = text.split("e")
            text = f"{mant}e{int(exp)}"
    return text.replace("-", MINUS)


def format_cell(x) -> str:
    """One element of an array grid: whole numbers up to four digits, else three significant
    digits, so a 4×4 grid fits a node's width."""
    return _compact(float(x), 3, 1e4)


def format_short(x, digits: int = 2) -> str:
    """``x`` in ``digits`` significant digits (whole numbers below 1000 stay whole): the
    tightest form of a wire's gradient label."""
    return _compact(float(x), digits, 1e3)


def format_number(x) -> str:
    """Compact text for a value or gradient: "—" for None, "NaN", "inf", "−inf", integers
    without a decimal point, otherwise five significant digits (exponent when needed)."""
    if x is None:
        return DASH
    if type(x) is _ndarray:  # an array: its shape and range (or its few numbers), never a repr
        text = _arrays.summary(x)
        if x.ndim == 1:  # "(8,) array", as shapes are written elsewhere, rather than "8 array"
            text = _arrays.shape_text(x.shape) + text[len(str(x.shape[0])):]
        return text.replace("-", MINUS)
    try:
        xf = float(x)
    except (TypeError, ValueError, OverflowError):
        return str(x)
    return _compact(xf, 5, 1e9)
