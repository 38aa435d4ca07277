"""Layout benchmark: crossings, wires under nodes, area and time, before and after.

    python benchmarks/layout_bench.py [--random 200] [--sizes 2000 10000] [--igraph]

"before" is the layout as of issue 8 (tests/baseline_layout.py) drawn as the canvas drew it
then: 140x70 nodes, ports spread over the body, one plain curve per wire. "after" is
engine.drawing.layout with engine.drawing.geometry's node sizes and every wire routed by
engine.drawing.routing, which is what the canvas draws now. With --igraph, python-igraph's
layout_sugiyama (if installed) is measured too: its layers and orderings, our node sizes and
router. Crossings are counted on the drawn curves (engine.drawing.routing.crossing_count), not
on an abstract layer model.
"""

from __future__ import annotations

import argparse
import glob
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import baseline_layout  # noqa: E402

from engine import Graph  # noqa: E402
from engine.core.ops import OPS  # noqa: E402
from engine.drawing import layout, routing  # noqa: E402
from engine.io.document import load  # noqa: E402

OLD_W, OLD_H, OLD_HEAD = 140.0, 70.0, 24.0


def old_drawing(g) -> tuple[dict, dict]:
    """The pre-issue-8 layout and wires: plain curves between the old port positions."""
    pos = baseline_layout.layered_positions(g)
    rects = {n: (x, y, x + OLD_W, y + OLD_H) for n, (x, y) in pos.items()}
    routes = {}
    for s, t, port in g.edges(keys=True):
        op = g.nodes[t]["op"]
        arity = OPS[op].arity
        iy = OLD_HEAD + (OLD_H - OLD_HEAD) * (port + 1) / (arity + 1)
        p0 = (pos[s][0] + OLD_W, pos[s][1] + OLD_HEAD + (OLD_H - OLD_HEAD) / 2)
        p1 = (pos[t][0], pos[t][1] + iy)
        routes[(s, t, port)] = routing.plain_curve(p0, p1)
    return routes, rects


def new_drawing(g) -> tuple[dict, dict]:
    return routing.route_graph(g, layout.layered_positions(g))


def igraph_drawing(g) -> tuple[dict, dict]:
    """igraph's Sugiyama layers and in-layer order, placed with our sizes and routed."""
    import igraph as ig

    nodes = list(g.nodes)
    idx = {n: i for i, n in enumerate(nodes)}
    h = ig.Graph(n=len(nodes), edges=[(idx[s], idx[t]) for s, t in g.edges()], directed=True)
    lay = h.layout_sugiyama()
    coords = lay.coords[: len(nodes)]
    columns: dict = {}
    for n, (x, y) in zip(nodes, coords):
        columns.setdefault(y, []).append((x, n))
    pos = {}
    for d, members in columns.items():
        yy = 0.0
        for _, n in sorted(members):
            pos[n] = (d * layout.COLUMN, yy)
            yy += routing.node_rects(g, {n: (0, 0)})[n][3] + layout.ROW_GAP + layout.CHANNEL
    return routing.route_graph(g, pos)


def measure(drawing) -> tuple[int, int, float]:
    routes, rects = drawing
    x0 = min(r[0] for r in rects.values())
    y0 = min(r[1] for r in rects.values())
    x1 = max(r[2] for r in rects.values())
    y1 = max(r[3] for r in rects.values())
    return (routing.crossing_count(list(routes.values())), routing.under_count(routes.values(), rects),
            (x1 - x0) * (y1 - y0))


def random_graph(rng: random.Random, max_ops: int = 14) -> Graph:
    """Like tests/strategies.py's specs: a few leaves, ops reading recent or any earlier node."""
    g = Graph()
    ids = [g.add_number(rng.uniform(-3, 3), name=f"x{k}") for k in range(rng.randint(1, 4))]
    names = sorted(OPS)
    for _ in range(rng.randint(1, max_ops)):
        op = rng.choice(names)
        m = g.add_op(op)
        first = rng.choice([len(ids) - 1, rng.randint(max(0, len(ids) - 3), len(ids) - 1),
                            rng.randint(0, len(ids) - 1)])
        for port in range(OPS[op].arity):
            src = first if port == 0 or rng.random() < 0.25 else rng.randint(0, len(ids) - 1)
            g.connect(ids[src], m, port)
        ids.append(m)
    g.set_output(ids[-1])
    return g


def random_dag(n: int, window: int = 40, seed: int = 1) -> Graph:
    """benchmarks/gui_bench.py's documents (window 40): numbers feeding ops that read one of the
    last ``window`` nodes. Window 3 gives deep graphs with short wires: the refined layout runs;
    window 40 gives so many long wires that the plain fallback does."""
    rng = random.Random(seed)
    g = Graph()
    nodes: list[int] = []
    for i in range(n):
        if i < 4 or rng.random() < 0.25:
            nodes.append(g.add_number(rng.uniform(-2, 2)))
            continue
        m = g.add_op(rng.choice(["add", "mul", "sub"] if rng.random() < 0.7 else ["tanh", "relu"]))
        for port in range(g.arity(m)):
            g.connect(rng.choice(nodes[-window:]), m, port)
        nodes.append(m)
    return g


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--random", type=int, default=200)
    ap.add_argument("--sizes", type=int, nargs="*", default=[2000, 10000])
    ap.add_argument("--igraph", action="store_true")
    args = ap.parse_args()
    kinds = [("before", old_drawing), ("after", new_drawing)]
    if args.igraph:
        kinds.append(("igraph", igraph_drawing))
    print(f"{'document':28} " + "  ".join(f"{k:>26}" for k, _ in kinds))
    print(f"{'':28} " + "  ".join(f"{'cross  under   area(kpx2)':>26}" for _ in kinds))
    totals = {k: [0, 0, 0.0] for k, _ in kinds}
    for f in sorted(glob.glob(str(ROOT / "resources/examples/*.json"))):
        if f.endswith("gallery.json"):
            continue
        g = load(f).nx
        row = []
        for k, fn in kinds:
            c, u, a = measure(fn(g))
            totals[k][0] += c
            totals[k][1] += u
            totals[k][2] += a
            row.append(f"{c:7d} {u:6d} {a / 1000:12.0f}")
        print(f"{Path(f).name:28} " + "  ".join(f"{r:>26}" for r in row))
    print(f"{'examples, total':28} " + "  ".join(
        f"{t[0]:7d} {t[1]:6d} {t[2] / 1000:12.0f}" for t in totals.values()))
    rng = random.Random(8)
    totals = {k: [0, 0, 0.0] for k, _ in kinds}
    for _ in range(args.random):
        g = random_graph(rng).nx
        for k, fn in kinds:
            c, u, a = measure(fn(g))
            totals[k][0] += c
            totals[k][1] += u
            totals[k][2] += a
    print(f"{f'{args.random} random graphs':28} " + "  ".join(
        f"{t[0]:7d} {t[1]:6d} {t[2] / 1000:12.0f}" for t in totals.values()))
    for n, window in ((n, w) for n in args.sizes for w in (3, 40)):
        g = random_dag(n, window).nx
        t = time.perf_counter()
        baseline_layout.layered_positions(g)
        t_old = time.perf_counter() - t
        t = time.perf_counter()
        layout.layered_positions(g)
        t_new = time.perf_counter() - t
        line = f"layout of {n:6d} nodes, window {window:2d}: before {t_old:6.2f} s, after {t_new:6.2f} s"
        if args.igraph:
            import igraph as ig

            idx = {v: i for i, v in enumerate(g.nodes)}
            h = ig.Graph(n=len(idx), edges=[(idx[s], idx[t]) for s, t in g.edges()], directed=True)
            t = time.perf_counter()
            h.layout_sugiyama()
            line += f", igraph layout_sugiyama {time.perf_counter() - t:6.2f} s"
        print(line)


if __name__ == "__main__":
    main()
