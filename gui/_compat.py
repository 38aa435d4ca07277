"""Work-arounds for bugs in the Qt bindings. Imports no Qt itself."""

import sys


def pin_singletons() -> None:
    """Work around a PySide6 6.12.0 reference-count bug on Python < 3.12.

    Its bindings return None from void C++ methods (setPos, scale, update, ...) without
    taking a new reference, and lose references to True/False on some paths as well. On
    3.12+ these singletons are immortal (PEP 683) and nothing happens; on 3.11 every such
    call drops a count by one until the interpreter aborts with "Fatal Python error:
    none_dealloc" after a few thousand calls. pyproject.toml keeps 3.11 on PySide6 < 6.12;
    this covers an environment that has 6.12.0 anyway, by giving the singletons the
    effectively infinite count they have on 3.12. Idempotent.
    """
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return
    if getattr(sys, "_gradcanvas_singletons_pinned", False):
        return
    import ctypes

    for obj in (None, True, False):
        ctypes.c_ssize_t.from_address(id(obj)).value += 1 << 40  # ob_refcnt is the first field
    sys._gradcanvas_singletons_pinned = True
