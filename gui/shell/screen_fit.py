"""Dialog sizes bounded by the screen they open on.

A dialog sized in logical pixels can be taller than the screen: at ``QT_SCALE_FACTOR=2`` a
1600x1000 screen is 800x500 logical pixels, and the Examples dialog's 600 hid Open and Cancel
below the screen's edge. Every dialog asks for its size through :func:`resize_to_screen`.
"""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtGui import QGuiApplication

SCREEN_SHARE = 0.9  # leave room for a window manager's title bar and panels


def available_size(widget) -> QSize | None:
    """The free part of the screen ``widget`` (or its parent window) is on, in logical pixels."""
    screen = None
    for w in (widget, widget.parentWidget() if widget is not None else None):
        if w is not None:
            screen = w.screen()
            if screen is not None:
                break
    screen = screen or QGuiApplication.primaryScreen()
    return None if screen is None else screen.availableGeometry().size()


def resize_to_screen(dialog, width: int, height: int) -> QSize:
    """Resize ``dialog`` to ``width`` x ``height``, shrunk to fit nine tenths of its screen; the
    dialog's own minimum size is lowered to match so its layout cannot push it back out."""
    want = QSize(width, height)
    free = available_size(dialog)
    if free is not None and free.isValid():
        room = QSize(int(free.width() * SCREEN_SHARE), int(free.height() * SCREEN_SHARE))
        want = want.boundedTo(room)
        dialog.setMaximumSize(dialog.maximumSize().boundedTo(free))
        if dialog.layout() is not None:
            dialog.layout().setSizeConstraint(dialog.layout().SizeConstraint.SetDefaultConstraint)
        dialog.setMinimumSize(dialog.minimumSize().boundedTo(want))
    dialog.resize(want)
    return want
