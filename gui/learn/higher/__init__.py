"""The higher-order and diagnosis tools of issue 16 on the canvas, added by ``install(window)``:
NaN/inf origins (:mod:`.nonfinite_view`), Gradient Health (:mod:`.health_view`), the
backward graph (:mod:`.backward_view`)."""

from __future__ import annotations

from PySide6.QtCore import QObject


class HigherOrderTools(QObject):
    """What :func:`install` adds to a window, as attributes: ``origins``, ``health``, ``backward``."""

    def __init__(self, window):
        super().__init__(window)
        from .backward_view import BackwardGraphView
        from .health_view import GradientHealthView
        from .nonfinite_view import NonfiniteOrigins

        self.window = window
        self.origins = NonfiniteOrigins(window)
        self.health = GradientHealthView(window)
        self.backward = BackwardGraphView(window)


def install(window) -> HigherOrderTools:
    """Add the tools to ``window`` once; kept as ``window.higher``."""
    tools = getattr(window, "higher", None)
    if tools is None:
        tools = HigherOrderTools(window)
        window.higher = tools
    return tools
