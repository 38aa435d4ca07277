"""The size of a gradient, defined once: the trainer's per-layer norms (the Train dock's
curves and badges) and gradient health (View ▸ Gradient Health) both measure with these.

- :func:`norm`: √(Σ g²) over every element of several gradients (a layer's parameters), as
  ``torch.nn.utils.clip_grad_norm_`` reports it.
- :func:`rms`: the root mean square of the elements, ``norm / √count``: a big array and a
  scalar compare fairly, so this is what health thresholds judge.

Both avoid overflow and underflow in the squares (a gradient of 1e200 has a norm, not inf).

>>> import numpy as np
>>> norm([np.array([3.0]), 4.0, None]), rms(np.array([3.0, 4.0, 0.0, 0.0]))
(5.0, 2.5)
"""

from __future__ import annotations

import math

import numpy as np

_TINY = 1e-150  # below it the squares lose digits: scale first
_HUGE = 1e150  # above it they overflow


def norm(gs) -> float:
    """√(Σ g²) over the elements of ``gs`` (arrays or numbers; None counts as nothing)."""
    total = 0.0
    for g in gs:
        if g is None:
            continue
        if type(g) is np.ndarray:
            total += float(np.vdot(g, g))
        else:
            total += float(g) * float(g)
    if _TINY < total < _HUGE:  # else (0 too: the squares may have underflowed) scale first
        return math.sqrt(total)
    return _scaled(gs)


def _scaled(gs) -> float:
    """:func:`norm` as max·√(Σ (g/max)²): exact to rounding where the squares over- or underflow."""
    arrays = [np.abs(np.asarray(g, dtype=float)).ravel() for g in gs if g is not None]
    if not arrays:
        return 0.0
    with np.errstate(all="ignore"):
        big = max(float(a.max()) if a.size else 0.0 for a in arrays)
        if not math.isfinite(big) or big == 0.0:
            return big
        return big * math.sqrt(sum(float(np.sum((a / big) ** 2)) for a in arrays))


def count(gs) -> int:
    """How many elements ``gs`` hold (a number is one; None none)."""
    return sum(int(np.size(g)) for g in gs if g is not None)


def rms(g) -> float | None:
    """The root mean square of ``g``'s elements (|g| for a number); None for no gradient,
    inf or NaN for a non-finite one, 0 for an empty array."""
    if g is None:
        return None
    if type(g) is np.ndarray:
        return norm([g]) / math.sqrt(g.size) if g.size else 0.0
    try:
        return abs(float(g))
    except OverflowError:
        return math.inf


def rms_of_norm(n: float, elements: int) -> float:
    """The RMS of ``elements`` numbers whose :func:`norm` is ``n`` (a recorded layer norm)."""
    return n / math.sqrt(elements) if elements else 0.0


__all__ = ["count", "norm", "rms", "rms_of_norm"]
