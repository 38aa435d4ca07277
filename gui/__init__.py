"""gradcanvas GUI (PySide6). Importing this package loads no Qt: the headless command line
lives in :mod:`gui.cli` and must start without it. ``gui.MainWindow``, ``gui.show`` and
``gui.draw`` (pictures for notebooks) are imported on first use.
"""

from gui._compat import one_blas_thread, pin_singletons

one_blas_thread()  # before NumPy is first imported (see gui/_compat.py)
pin_singletons()  # before any Qt call anywhere in the GUI (see gui/_compat.py)

_LAZY = {
    "MainWindow": ("gui.shell.main_window", "MainWindow"),
    "show": ("gui.shell.app", "show"),
    "draw": ("gui.canvas.draw", "draw"),
}

__all__ = ["MainWindow", "draw", "show"]


def __getattr__(name):
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        value = getattr(importlib.import_module(module), attr)
        globals()[name] = value  # later lookups skip this function
        return value
    raise AttributeError(f"module 'gui' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
