"""The picture budget: how big a picture (``gradcanvas render``, File ▸ Export Picture,
``gui.draw``) may be, checked before anything is drawn. Qt-free, so the command line refuses a
document over the budget before Qt starts.

A PNG is at most MAX_SIDE pixels on either side and MAX_PIXELS in all; an SVG's size is held
to the same numbers. A document too big for them at its usual scale is drawn smaller, down to
MIN_SCALE; one that would need less, or has more than MAX_NODES nodes, is refused with one line
(:class:`PictureTooLarge`, a ValueError) that names the node that is far out.

>>> fit_scale(1000, 500), fit_scale(30_000, 30_000, 2.0) < 0.3
(2.0, True)
"""

from __future__ import annotations

import math
from pathlib import Path

FORMATS = (".png", ".svg")
MARGIN = 24.0  # scene units around the drawing
SCALE = 2.0  # PNG pixels per scene unit: sharp on high-density screens

# A PNG is at most MAX_SIDE pixels on either side and MAX_PIXELS in all
# (256 MiB while it is drawn); an SVG's size is held to the same numbers. A document too big
# for them at SCALE is drawn smaller, down to MIN_SCALE (a 140-unit node is then ~4 px wide);
# one that would need less is refused with one line that names the node that is far out.
# Netron caps its exports at 100,000 px a side and 5e8 px; these are smaller, because a picture
# past 64 million pixels shows a graph no better and takes seconds and gigabytes to write.
MAX_SIDE = 16_384
MAX_PIXELS = 64_000_000
MIN_SCALE = 1 / 32
MAX_NODES = 50_000  # a picture of more is refused when they are counted, before any drawing
BUDGET_TEXT = (
    f"at most {MAX_SIDE:,} px a side and {MAX_PIXELS // 1_000_000} million px (a bigger document is "
    f"drawn smaller, down to 1/{round(1 / MIN_SCALE)} of its size), at most {MAX_NODES:,} nodes"
)


class PictureTooLarge(ValueError):
    """A picture that does not fit the budget even drawn at MIN_SCALE (or has too many nodes)."""


def check_format(out_path) -> str:
    """The output's suffix (".png" or ".svg"); ValueError for anything else."""
    suffix = Path(out_path).suffix.lower()
    if suffix not in FORMATS:
        shown = suffix or "no suffix"
        raise ValueError(f"'{out_path}' ({shown}): a picture must end in .png or .svg")
    return suffix


def fit_scale(width: float, height: float, scale: float = SCALE, max_pixels: int = MAX_PIXELS) -> float:
    """The scale at which ``width`` x ``height`` scene units fit the picture budget (at most
    ``max_pixels``): ``scale`` itself when it fits, else smaller; PictureTooLarge when even
    MIN_SCALE does not fit.

    >>> fit_scale(1000, 500), fit_scale(30_000, 30_000, 2.0) < 0.3, fit_scale(100, 100, 1.0)
    (2.0, True, 1.0)
    """
    s = float(scale)
    if not (math.isfinite(width) and math.isfinite(height)):
        s = 0.0
    elif width > 0 and height > 0:
        # sqrt of each factor: width * height may overflow where both are finite
        s = min(s, MAX_SIDE / width, MAX_SIDE / height,
                math.sqrt(max_pixels / width) / math.sqrt(height))  # fmt: skip
    if not s >= MIN_SCALE:
        raise PictureTooLarge(
            f"the picture would be {_span(width)} x {_span(height)} units, more than "
            f"{MAX_SIDE:,} px a side and {max_pixels / 1e6:g} million px hold even at "
            f"1/{round(1 / MIN_SCALE)} of its size"
        )
    return s


def _span(x: float) -> str:
    return f"{x:,.0f}" if math.isfinite(x) and x < 1e9 else f"{x:.3g}"


def check_graph(graph) -> None:
    """Refuse, before anything is drawn, a document the picture budget cannot hold: more
    than MAX_NODES nodes, or nodes so far apart that the picture would be drawn at less than
    MIN_SCALE. The message names the node farthest out. Qt-free and cheap (positions only)."""
    from engine.drawing.geometry import NODE_W

    n = len(graph)
    if n > MAX_NODES:
        raise PictureTooLarge(f"the document has {n:,} nodes; a picture draws at most {MAX_NODES:,}")
    if n == 0:
        return
    pos = {v: graph.position(v) for v in graph.nodes()}
    xs = sorted(p[0] for p in pos.values())
    ys = sorted(p[1] for p in pos.values())
    # Node boxes are at most a few hundred units tall (a heatmap): a generous bound is enough
    # here, the scene's own rectangle is checked again when the picture is drawn.
    width = (xs[-1] - xs[0]) + NODE_W + 2 * MARGIN
    height = (ys[-1] - ys[0]) + 400.0 + 2 * MARGIN
    try:
        fit_scale(width, height, MIN_SCALE)
    except PictureTooLarge as e:
        mx, my = xs[(len(xs) - 1) // 2], ys[(len(ys) - 1) // 2]
        far = max(pos, key=lambda v: max(abs(pos[v][0] - mx), abs(pos[v][1] - my)))
        x, y = pos[far]
        raise PictureTooLarge(
            f"node {graph.label(far)} at x = {x:.6g}, y = {y:.6g} is far from the others: {e}; "
            "move it nearer or lay the document out (L in the app)"
        ) from None


def load_for_picture(in_path, max_nodes: int = MAX_NODES):
    """Load a document to draw: DocumentError for a bad one, PictureTooLarge as soon as it is
    seen to have more than ``max_nodes`` nodes (before it is built)."""
    from engine.io import document

    try:
        return document.load(in_path, max_nodes=max_nodes)
    except document.TooManyNodesError as e:
        raise PictureTooLarge(
            f"the document has {e.count:,} nodes; a picture draws at most {e.limit:,}"
        ) from None
