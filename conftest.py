"""How many processes run the tests (pytest-xdist; pyproject's addopts ask for ``-n auto``).

The README's command (``python -m pytest -q``, no paths: pyproject's testpaths) runs the whole
suite on every core. A run of chosen files or tests (``pytest -q tests/test_foo.py -k bar``)
stays in one process: starting workers, each importing Qt and the engine, costs more than a few
tests take. ``-n 2`` or ``-n 0`` on the command line decides for itself, and so does
``PYTEST_XDIST_AUTO_NUM_WORKERS``.

This lives at the repository's root so that it also applies to a run of the doctests alone
(``pytest engine``); the test set-up itself is tests/conftest.py.
"""

import os

import pytest


@pytest.hookimpl(optionalhook=True)  # pytest-xdist may be missing: then everything runs in one process
def pytest_xdist_auto_num_workers(config):
    if config.args_source is not pytest.Config.ArgsSource.TESTPATHS and not os.environ.get(
        "PYTEST_XDIST_AUTO_NUM_WORKERS"
    ):
        return 0
    return None  # the whole suite: xdist counts the cores (or reads PYTEST_XDIST_AUTO_NUM_WORKERS)
