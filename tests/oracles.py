"""The reference libraries tests compare against (PyTorch, micrograd), and what CI=true changes.

Outside CI a missing reference skips the tests that need it, so the suite runs anywhere. Under
``CI=true`` it fails them instead: CI installs every reference (``.ci/run``), and an oracle test
that quietly skips there would let a wrong gradient through. Every test asks through
:func:`require` (or the ``torch`` fixture of ``tests/conftest.py``), never
``pytest.importorskip`` itself.
"""

from __future__ import annotations

import importlib
import os

import pytest

CI = os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def require(module: str):
    """``module`` imported; if it is missing, skip the test (fail it under CI=true)."""
    if not CI:
        return pytest.importorskip(module)
    try:
        return importlib.import_module(module)
    except ImportError as e:
        pytest.fail(f"CI=true needs the reference {module!r} (.ci/run installs it): {e}", pytrace=False)


def examples(n: int) -> int:
    """``max_examples`` for a hypothesis test sized ``n``: all of them while developing (a new
    random draw every run), half under CI=true but at least 10 (or ``n`` if smaller). CI runs
    derandomized (the same examples every time, see tests/conftest.py), and the whole suite
    stays near three minutes on two cores."""
    return max(min(n, 10), n // 2) if CI else n
