"""Gradient health on a document with a composite instance: the instance's inlined insides
have no gradient entry of their own, and the per-composite summary reads the instance's
gradient (by hand: y = (a·b + 1)·a, the instance computes a·b + 1, whose gradient is a = 2)."""

from __future__ import annotations

import math

import pytest

from engine import Graph
from engine.learn.health import gradient_health


def test_health_of_a_grouped_document_summarises_the_instance():
    g = Graph.from_expression("y = (a * b + 1) * a", a=2.0, b=3.0)
    inst = g.group([3, 4, 5], "f")
    h = gradient_health(g, groups={"f": [inst]})
    assert h.nodes[inst].reading.size == pytest.approx(2.0)
    # by hand: dy/da = 2ab + 1 = 13, the output's gradient is 1
    assert h.nodes[g.resolve("a")].log10 == pytest.approx(math.log10(13.0))
    (f,) = h.groups
    assert f.name == "f" and f.reading.size == pytest.approx(2.0) and f.vanishing == 0
