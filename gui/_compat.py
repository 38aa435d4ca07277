"""Work-arounds for bugs in the Qt bindings. Imports no Qt itself."""

import os
import sys

_BLAS_THREADS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def one_blas_thread() -> None:
    """Run NumPy's BLAS on one thread unless the user chose otherwise (an environment
    variable already set wins). The window's arrays are small (a 10,000 x 8 grid through an
    8 x 8 layer); OpenBLAS hands each product to a thread pool, and on a busy 2-core
    machine waking those threads made that product 0.14 ms single-threaded vs 4-6 ms
    threaded (benchmarks/playground_frame.py). Only takes effect before NumPy's first
    import, so it is called first thing in ``gui``.
    """
    if "numpy" in sys.modules:
        return
    for name in _BLAS_THREADS:
        os.environ.setdefault(name, "1")


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
