"""Layered left-to-right layout: column = topological generation, rows spread evenly.

>>> import networkx as nx
>>> g = nx.MultiDiGraph([(1, 3, 0), (2, 3, 1)])
>>> layered_positions(g)
{1: (0.0, 0.0), 2: (0.0, 110.0), 3: (200.0, 55.0)}
"""

from __future__ import annotations

import networkx as nx

COLUMN = 200.0
ROW = 110.0


def layered_positions(g: nx.MultiDiGraph, column: float = COLUMN, row: float = ROW) -> dict:
    """Position for every node: x by longest path from a source, y by order within the column,
    columns centred on each other so wires run mostly horizontally."""
    depth: dict = {}
    for n in nx.topological_sort(g):
        depth[n] = max((depth[s] + 1 for s in g.predecessors(n)), default=0)
    columns: dict[int, list] = {}
    for n, d in depth.items():
        columns.setdefault(d, []).append(n)
    tallest = max((len(c) for c in columns.values()), default=0)
    pos = {}
    for d, members in columns.items():
        top = (tallest - len(members)) * row / 2.0
        for k, n in enumerate(members):
            pos[n] = (d * column, top + k * row)
    return pos
