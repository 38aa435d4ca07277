"""The layout as it was before issue 8 (engine/drawing/layout.py at 52bb9e3), kept unchanged as the
baseline that tests/test_layout.py and benchmarks/layout_bench.py compare crossings against.

Layered left-to-right layout: a small Sugiyama-style layout for computational graphs.

Columns follow the data (every wire goes left to right); each input sits in the column just
before the op that first uses it; a wire that skips columns reserves a slot in each column it
crosses, so it does not run behind a node; rows are ordered to keep wires from crossing and
then nudged level with the nodes they connect.

>>> import networkx as nx
>>> g = nx.MultiDiGraph([(1, 3, 0), (2, 3, 1)])
>>> layered_positions(g)
{1: (0.0, 0.0), 2: (0.0, 110.0), 3: (200.0, 55.0)}
"""

from __future__ import annotations

import networkx as nx

COLUMN = 200.0
ROW = 110.0
WIRE_SLOT = 80.0  # height a wire crossing a column takes in it: room for the curve
_SWEEPS = 4
# Beyond this many nodes + wire slots (a canvas nobody reads node by node), columns are
# stacked in order without the refinement, which would cost time and memory per slot.
MAX_REFINED = 20_000


def layered_positions(g: nx.MultiDiGraph, column: float = COLUMN, row: float = ROW) -> dict:
    """Top-left position for every node of ``g``: x by column, y by row (see module doc)."""
    order = list(nx.topological_sort(g))
    if not order:
        return {}
    layer = _layers(g, order)
    slots = sum(max(layer[t] - layer[s] - 1, 0) for s, t in g.edges())
    if len(order) + slots > MAX_REFINED:
        return _plain(order, layer, column, row)
    layers, ins, outs = _with_wire_slots(g, order, layer)
    _order_rows(layers, ins, outs)
    height = {n: (row if n in layer else WIRE_SLOT) for members in layers for n in members}
    ys = _rows(layers, ins, outs, height, row)
    top = min(ys.values())
    return {n: (layer[n] * column, ys[n] - top) for n in order}


def _plain(order, layer, column, row) -> dict:
    """Columns stacked in topological order and centred on each other: linear time."""
    columns: dict[int, list] = {}
    for n in order:
        columns.setdefault(layer[n], []).append(n)
    tallest = max(len(c) for c in columns.values())
    pos = {}
    for d, members in columns.items():
        top = (tallest - len(members)) * row / 2.0
        for k, n in enumerate(members):
            pos[n] = (d * column, top + k * row)
    return pos


def _layers(g, order) -> dict:
    """Longest path from the sources, then every node that feeds something moved right to
    the column just before its first consumer (inputs next to the op that uses them)."""
    layer = {}
    for n in order:
        layer[n] = max((layer[p] + 1 for p in g.predecessors(n)), default=0)
    for n in reversed(order):
        succ = g.successors(n)
        first = min((layer[s] for s in succ), default=None)
        if first is not None:
            layer[n] = first - 1
    return layer


def _with_wire_slots(g, order, layer):
    """Columns of nodes plus one placeholder per column a wire crosses; and for every entry
    its neighbours one column left (``ins``) and right (``outs``) with the target port."""
    depth = max(layer.values()) + 1
    layers: list[list] = [[] for _ in range(depth)]
    for n in order:
        layers[layer[n]].append(n)
    ins: dict = {n: [] for n in order}
    outs: dict = {n: [] for n in order}
    for s, t, port in g.edges(keys=True):
        prev = s
        for k in range(layer[s] + 1, layer[t]):
            slot = ("wire", s, t, port, k)
            layers[k].append(slot)
            ins[slot], outs[slot] = [], []
            outs[prev].append((slot, port))
            ins[slot].append((prev, port))
            prev = slot
        outs[prev].append((t, port))
        ins[t].append((prev, port))
    return layers, ins, outs


def _order_rows(layers, ins, outs) -> None:
    """Barycentre sweeps: sort each column by the mean row of its neighbours, down then up;
    a node's inputs end up in port order (port 0 above port 1)."""
    for _ in range(_SWEEPS):
        for k in range(1, len(layers)):
            _sort_by(layers[k], ins, _index(layers[k - 1]))
        for k in range(len(layers) - 2, -1, -1):
            _sort_by(layers[k], outs, _index(layers[k + 1]))


def _index(members) -> dict:
    return {n: i for i, n in enumerate(members)}


def _sort_by(members, neighbours, pos) -> None:
    keys = {}
    for i, n in enumerate(members):
        near = neighbours[n]
        # port / 8: between two neighbours' rows, ordered by port, never past the next row
        keys[n] = sum(pos[m] + p / 8 for m, p in near) / len(near) if near else i
    members.sort(key=lambda n: keys[n])


def _rows(layers, ins, outs, height, row) -> dict:
    """y for every entry: in each column, as close to the mean y of its neighbours as the
    entries above it allow, over a few passes left to right and back."""
    ys = {}
    for members in layers:
        y = 0.0
        for n in members:
            ys[n] = y
            y += height[n]
    centre = {n: height[n] / 2 for n in ys}
    for _ in range(_SWEEPS):
        for members in layers + layers[::-1]:
            want = []
            for n in members:
                near = ins[n] + outs[n]
                if near:
                    want.append(sum(ys[m] + centre[m] for m, _ in near) / len(near) - centre[n])
                else:
                    want.append(ys[n])
            _pack(members, want, height, ys)
    return ys


def _pack(members, want, height, ys) -> None:
    """Place the column's entries in order at their wanted y without overlap, shifting the
    whole column so the total move is balanced rather than always pushing down."""
    placed = []
    bottom = None
    for n, w in zip(members, want):
        y = w if bottom is None else max(w, bottom)
        placed.append(y)
        bottom = y + height[n]
    if placed:
        shift = sum(w - y for w, y in zip(want, placed)) / len(placed)
        for n, y in zip(members, placed):
            ys[n] = y + shift
