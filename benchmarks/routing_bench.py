"""Routing benchmark: a document whose wires are all long, before and after.

    QT_QPA_PLATFORM=offscreen python benchmarks/routing_bench.py [--levels 300] [--before REV]

The document (:func:`long_wires`) is one number ``x`` feeding every level of a 300-level chain
(``level_k = tanh(level_{k-1} * x + c_k)``, 4 nodes a level, 1,201 nodes): 300 wires from ``x``
run past up to 1,200 nodes each, which is what made its first paint take about 30 s.

"before" is engine/drawing/routing.py as of git revision REV (default: the commit before the
speed-up), read with ``git show`` into a module of its own; "after" is this worktree's. Both are
timed in this run, on the same document:

- engine: ``route_graph`` on the layout's positions (every wire routed), and the wires under nodes;
- canvas: a read-only GraphScene's first full paint at 100 %, drawn view by view (1600x1000
  QImages side by side along the whole document, as scrolling along it does): the canvas routes
  a long wire lazily, the first time it is drawn in detail, so every wire from ``x`` is routed in
  that paint (the canvas's ``routing`` module is swapped for the "before" one for its run).

Times are CPU time of this process (the machine is shared: wall-clock mostly measures neighbours).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine import Graph  # noqa: E402
from engine.drawing import routing  # noqa: E402

CLOCK = time.process_time
TILE_W, TILE_H = 1600, 1000  # one view's worth of the document at 100 %
BEFORE = "6b870ad"  # main when the speed-up began


def long_wires(levels: int = 300) -> Graph:
    """``x`` wired into every level of a chain: ``level_k = tanh(level_{k-1} * x + c_k)``."""
    g = Graph()
    x = g.add_number(0.5, name="x")
    prev = x
    for k in range(levels):
        c = g.add_number(0.01 * (k % 7))
        m = g.add_op("mul")
        g.connect(prev, m, 0)
        g.connect(x, m, 1)
        a = g.add_op("add")
        g.connect(m, a, 0)
        g.connect(c, a, 1)
        t = g.add_op("tanh")
        g.connect(a, t, 0)
        prev = t
    g.set_output(prev)
    g.apply_layout()
    return g


def routing_at(rev: str):
    """engine/drawing/routing.py as of ``rev``, as a module (it imports only the standard
    library and, lazily, engine.drawing.geometry, which it finds as a sibling)."""
    src = subprocess.run(["git", "-C", str(ROOT), "show", f"{rev}:engine/drawing/routing.py"],
                         check=True, capture_output=True, text=True).stdout
    path = Path(tempfile.mkdtemp(prefix="routing_before_")) / "routing_before.py"
    path.write_text(src)
    spec = importlib.util.spec_from_file_location("engine.drawing.routing_before", path)
    mod = importlib.util.module_from_spec(spec)
    mod.__package__ = "engine.drawing"
    spec.loader.exec_module(mod)
    return mod


def engine_run(mod, g: Graph) -> tuple[float, int, int]:
    pos = g.layout()
    t0 = CLOCK()
    routes, rects = mod.route_graph(g.nx, pos)
    t = CLOCK() - t0
    detours = sum(len(s) > 1 for s in routes.values())
    return t, routing.under_count(routes.values(), rects), detours


def canvas_run(mod, g: Graph) -> tuple[float, int, float]:
    from PySide6.QtCore import QRectF
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtWidgets import QApplication

    from gui.canvas import items
    from gui.canvas.scene import GraphScene

    QApplication.instance() or QApplication([])
    saved = items.routing
    items.routing = mod
    try:
        scene = GraphScene.drawing(g)
        whole = scene.itemsBoundingRect()
        image = QImage(TILE_W, TILE_H, QImage.Format.Format_ARGB32_Premultiplied)

        def full_paint() -> float:
            t0 = CLOCK()
            x = whole.left()
            while x < whole.right():
                painter = QPainter(image)
                scene.render(painter, QRectF(0, 0, TILE_W, TILE_H), QRectF(x, whole.top(), TILE_W, TILE_H))
                painter.end()
                x += TILE_W
            return CLOCK() - t0

        t = full_paint()
        QApplication.processEvents()  # the routed wires' bounds settle
        again = full_paint()  # every route known: what painting alone costs
        wires = [it for it in scene.items() if isinstance(it, items.WireItem)]
        routes = [w.route() for w in wires]
        rects = {it: items._body(it) for it in scene.node_items().values()}
        under = routing.under_count(routes, rects)
        scene.deleteLater()
        return t, under, again
    finally:
        items.routing = saved


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--levels", type=int, default=300)
    ap.add_argument("--before", default=BEFORE, help="git revision of the 'before' router")
    args = ap.parse_args(argv)
    g = long_wires(args.levels)
    before = routing_at(args.before)
    print(f"document: {g.nx.number_of_nodes():,} nodes, {g.nx.number_of_edges():,} wires "
          f"({args.levels} long ones); before = routing.py at {args.before}, CPU seconds")
    rows = []
    for name, run in (("engine route_graph", engine_run), ("canvas first paint", canvas_run)):
        b = run(before, g)
        a = run(routing, g)
        rows.append((name, b, a))
        print(f"{name:20s} before {b[0]:8.3f} s  after {a[0]:8.3f} s  ratio {b[0] / max(a[0], 1e-9):6.1f}x"
              f"   wires under nodes before {b[1]} after {a[1]}")
        if run is canvas_run:
            print(f"{'':20s} (second full paint, routes known: before {b[2]:.3f} s after {a[2]:.3f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
