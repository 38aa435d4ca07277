"""The higher-order and diagnosis tools of issue 16 on the canvas, added by ``install(window)``:
NaN/inf origins (:mod:`.nonfinite_view`), Gradient Health (:mod:`.health_view`), the
backward graph (:mod:`.backward_view`), second-order views (:mod:`.second_order_view`)."""

from __future__ import annotations

from PySide6.QtCore import QObject


class HigherOrderTools(QObject):
    """What :func:`install` adds to a window, as attributes: ``origins``, ``health``,
    ``backward``, ``second_order`` (a dock)."""

    def __init__(self, window):
        super().__init__(window)
        from .backward_view import BackwardGraphView
        from .health_view import GradientHealthView
        from .nonfinite_view import NonfiniteOrigins

        self.window = window
        self.origins = NonfiniteOrigins(window)
        self.health = GradientHealthView(window)
        self.backward = BackwardGraphView(window)
        self._add_second_order(window)

    def _add_second_order(self, window) -> None:
        from PySide6.QtGui import QKeySequence

        from .second_order_view import SecondOrderDock

        self.second_order = SecondOrderDock(window)
        beside = window.experiment.descent_dock if window.experiment is not None else None
        window.add_dock(self.second_order, tab_with=beside, visible=False)
        act = self.second_order.toggleViewAction()
        act.setText("Second &Order (Hessian, Jacobian, Newton)")
        act.setShortcut(QKeySequence("Ctrl+Shift+M"))
        tip = ("The Hessian over the selected numbers with its eigenvalues, the Jacobian of an array "
               "node, Newton's method beside gradient descent on a contour plot")
        act.setToolTip(f"{tip}  (Ctrl+Shift+M)")
        act.setStatusTip(tip)
        self.act_second_order = act
        # tabbed behind Descend: showing it must bring its tab to the front, then fill it
        act.toggled.connect(lambda on: on and (self.second_order.raise_(),
                                               self.second_order.panel.refresh(force=True)))
        window.add_learn_action(act)


def install(window) -> HigherOrderTools:
    """Add the tools to ``window`` once; kept as ``window.higher``."""
    tools = window.higher
    if tools is None:
        tools = HigherOrderTools(window)
        window.higher = tools
    return tools
