"""Rules for tests as they are added, checked on the tests' syntax trees.

Every hypothesis test sizes itself through ``tests.oracles.examples(n)``, so CI=true runs half
the examples (derandomized, tests/conftest.py) and the whole suite stays near three minutes on
two cores, while a developer's run draws all of them; a bare ``@given`` would run hypothesis's
default 100 under CI as well. Every reference library is asked for through
``tests.oracles.require``, so that CI=true fails where it is missing instead of skipping.
"""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def _call_name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Call):
        f = node.func
        return f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None
    return None


def unsized_hypothesis(text: str) -> list[int]:
    """Lines of ``text`` (a test module) where a hypothesis test is not sized by examples(n):
    an ``@given`` test without ``@settings(max_examples=examples(...))``, or any settings'
    ``max_examples`` given as something else (a stateful machine's ``settings(...)`` included)."""
    bad = []
    for node in ast.walk(ast.parse(text)):
        if _call_name(node) == "settings":
            for kw in node.keywords:
                if kw.arg == "max_examples" and _call_name(kw.value) != "examples":
                    bad.append(kw.value.lineno)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names = [_call_name(d) for d in node.decorator_list]
            sized = any(
                _call_name(d) == "settings" and any(kw.arg == "max_examples" for kw in d.keywords)
                for d in node.decorator_list
            )
            if "given" in names and not sized:
                bad.append(node.lineno)
    return sorted(bad)


def test_every_hypothesis_test_is_sized_through_examples():
    bad = {}
    for path in sorted(TESTS.glob("*.py")):
        lines = unsized_hypothesis(path.read_text(encoding="utf-8"))
        if lines:
            bad[path.name] = lines
    assert not bad, f"size these with @settings(max_examples=examples(n)) (tests/oracles.py): {bad}"


def test_the_sizing_check_sees_each_way_to_forget():
    planted = '''
@given(st.integers())
def bare(n): ...

@settings(max_examples=40)
@given(st.integers())
def fixed(n): ...

@settings(deadline=None)
@given(st.integers())
def unsized(n): ...

@settings(max_examples=examples(40), deadline=None)
@given(st.integers())
def good(n): ...

Machine.TestCase.settings = settings(max_examples=30, stateful_step_count=20)
Other.TestCase.settings = settings(max_examples=examples(30))
'''
    assert unsized_hypothesis(planted) == [3, 5, 11, 17]  # bare, fixed, unsized, the machine


def test_references_are_asked_for_through_require():
    # tests/oracles.py: under CI=true a missing reference (torch, micrograd) must fail the test,
    # not skip it quietly, so only require() itself may call importorskip.
    found = {}
    for path in sorted(TESTS.glob("*.py")):
        if path.name == "oracles.py":
            continue
        lines = [n.lineno for n in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
                 if _call_name(n) == "importorskip"]
        if lines:
            found[path.name] = lines
    assert not found, f"use tests.oracles.require(module) instead of pytest.importorskip: {found}"
