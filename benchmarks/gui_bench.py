"""Canvas benchmark, offscreen: open + first paint, fit + paint, value-edit refresh, node-drag
step, and a ``gui.show()`` of an MLP's loss built with Value.

    QT_QPA_PLATFORM=offscreen python benchmarks/gui_bench.py [--sizes 1000 10000 50000] [--mlp]
                                                             [--configs]

Documents are random DAGs with fan-out built with the engine's edit methods (numbers feeding
binary and unary ops, each op reading from recent nodes), laid out with Graph.layout().
"Open" is the scene and view built and the first frame painted at 100 % centred on the output
(where a document opens); "fit" is Fit (the whole document on screen, drawn at low detail).
"Edit" is a value edit through the undo stack until every label is up to date (forward,
backward, the labels that changed); "drag step" is one mouse move of a node with its repaint.

Goals (issue 8): at 10,000 nodes edit <= 4 ms, drag step <= 16 ms, open <= 1 s; at 50,000 nodes
edit <= 16 ms, drag step <= 33 ms. ``--mlp`` runs, in a fresh process so its peak RSS is its
own, micrograd's ``MLP(2, [16, 16, 1])`` on 100 points with a hinge loss and L2 term, built
with OUR Value (micrograd.nn with its Value replaced by engine.Value), and ``gui.show(loss)``
to the first painted frame: goal <= 8 s and < 1.5 GiB peak RSS. ``--configs`` compares the
scene index (BSP vs none) and the viewport update mode, which is how the defaults in
gui/canvas/scene.py and gui/canvas/view.py were chosen.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import shiboken6  # noqa: E402
from PySide6.QtCore import QObject, QPoint, QPointF, Qt  # noqa: E402
from PySide6.QtGui import QMouseEvent, QUndoStack  # noqa: E402
from PySide6.QtWidgets import QApplication, QGraphicsScene, QGraphicsView  # noqa: E402

from engine import Graph  # noqa: E402
from engine.core.ops import BINARY, UNARY  # noqa: E402
from gui import style  # noqa: E402
from gui.canvas.controller import Controller  # noqa: E402
from gui.canvas.scene import GraphScene  # noqa: E402
from gui.canvas.view import GraphView  # noqa: E402

VIEW_W, VIEW_H = 1280, 800
# CPU time of this process: on a shared machine wall-clock time mostly measures the neighbours.
# Offscreen painting runs in this thread, so it is included. --wall switches to wall-clock time.
CLOCK = time.process_time


def random_dag(n: int, seed: int = 1) -> Graph:
    """``n`` nodes: a quarter numbers, the rest ops wired to recent nodes (so values fan out)."""
    rng = random.Random(seed)
    g = Graph()
    nodes: list[int] = []
    safe_binary = [op for op in BINARY if op != "pow"]  # keep most values finite
    safe_unary = [op for op in UNARY if op not in ("log", "sqrt", "exp")]
    for i in range(n):
        if i < 4 or rng.random() < 0.25:
            nodes.append(g.add_number(rng.uniform(-2, 2)))
            continue
        op = rng.choice(safe_binary if rng.random() < 0.7 else safe_unary)
        m = g.add_op(op)
        window = nodes[-40:]
        for port in range(g.arity(m)):
            g.connect(rng.choice(window), m, port)
        nodes.append(m)
    sinks = [v for v in g.nodes() if g.nx.out_degree(v) == 0]
    g.set_output(sinks[-1])
    g.apply_layout()
    return g


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f}"


def send_mouse(view, kind, pos: QPoint, held=True):
    types = {"press": QMouseEvent.Type.MouseButtonPress, "move": QMouseEvent.Type.MouseMove,
             "release": QMouseEvent.Type.MouseButtonRelease}
    left = Qt.MouseButton.LeftButton
    button = Qt.MouseButton.NoButton if kind == "move" else left
    buttons = left if held and kind != "release" else Qt.MouseButton.NoButton
    vp = view.viewport()
    p = QPointF(pos)
    ev = QMouseEvent(types[kind], p, p, QPointF(vp.mapToGlobal(pos)), button, buttons,
                     Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(vp, ev)


def measure(n: int, index=None, update_mode=None, edits: int = 40, moves: int = 60) -> dict:
    app = QApplication.instance()
    g = random_dag(n)
    t0 = CLOCK()
    root = QObject()  # owns the stack, controller and scene; deleted explicitly at the end
    stack = QUndoStack(root)
    controller = Controller(g, stack, root)
    scene = GraphScene(controller, root)
    if index is not None:
        scene.setItemIndexMethod(index)
    view = GraphView(scene)
    if update_mode is not None:
        view.setViewportUpdateMode(update_mode)
    view.resize(VIEW_W, VIEW_H)
    view.show()
    t_build = CLOCK() - t0
    out = scene.node_item(g.output_node())
    view.centerOn(out.sceneBoundingRect().center())  # where a document opens: at its output
    view.viewport().grab()  # paints every visible item once
    app.processEvents()
    t_open = CLOCK() - t0
    t1 = CLOCK()
    view.fit_all()
    view.viewport().grab()  # the whole document, at low detail
    app.processEvents()
    t_fit = CLOCK() - t1
    view.resetTransform()
    view.centerOn(out.sceneBoundingRect().center())
    app.processEvents()

    # value edit -> evaluate -> labels updated (then the repaint that follows)
    nums = [v for v in g.nodes() if g.op(v) == "number" and g.grad(v) is not None]
    target = nums[len(nums) // 2]
    edit_times, paint_times = [], []
    for k in range(edits):
        t1 = CLOCK()
        controller.set_value(target, (k % 7) * 0.25 - 0.5, merge=True)
        t2 = CLOCK()
        app.processEvents()
        t3 = CLOCK()
        edit_times.append(t2 - t1)
        paint_times.append(t3 - t2)
    it = scene.node_item(target)
    assert it.value_text == style.format_number(g.value(target))

    # drag one node at 100 % zoom: press on its body, move with the button held, release
    view.resetTransform()
    view.centerOn(it.sceneBoundingRect().center())
    app.processEvents()
    start = view.mapFromScene(it.mapToScene(QPointF(style.NODE_W / 2, style.NODE_H - 10)))
    send_mouse(view, "press", start)
    move_times, move_paint = [], []
    for k in range(1, moves + 1):
        p = QPoint(start.x() + (k % 30) * 4, start.y() + (k % 20) * 3)
        t1 = CLOCK()
        send_mouse(view, "move", p)
        t2 = CLOCK()
        app.processEvents()  # the repaint of the dirty region
        t3 = CLOCK()
        move_times.append(t2 - t1)
        move_paint.append(t3 - t1)
    send_mouse(view, "release", p)
    moved = g.position(target)
    # the item and the document agree on where the node is (to float noise: Qt keeps qreal)
    assert stack.index() >= 1 and abs(moved[0] - it.pos().x()) + abs(moved[1] - it.pos().y()) < 1e-6
    view.close()
    shiboken6.delete(view)
    shiboken6.delete(root)
    app.processEvents()
    return {
        "n": n, "build": t_build, "open": t_open, "fit": t_fit,
        "edit": statistics.median(edit_times), "edit_paint": statistics.median(paint_times),
        "move": statistics.median(move_times), "move_paint": statistics.median(move_paint),
    }


def mlp_loss():
    """micrograd's MLP(2, [16, 16, 1]) on 100 two-dimensional points with the hinge loss and
    the L2 term of its demo notebook, built with engine.Value (micrograd's nn module runs on
    whatever Value its module global names)."""
    import micrograd.nn as mnn

    from engine import Value

    mnn.Value = Value
    random.seed(1337)
    model = mnn.MLP(2, [16, 16, 1])
    rng = random.Random(0)
    xs = [[rng.uniform(-2, 2), rng.uniform(-1.5, 1.5)] for _ in range(100)]
    ys = [1 if x[0] * x[0] + x[1] > 1 else -1 for x in xs]
    scores = [model([Value(a), Value(b)]) for a, b in xs]
    losses = [(1 + -yi * si).relu() for yi, si in zip(ys, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = 1e-4 * sum(p * p for p in model.parameters())
    return data_loss + reg_loss


def mlp_child() -> int:
    """Run in a fresh process: time gui.show(loss) to the first painted frame, print JSON."""
    t0 = time.perf_counter()
    QApplication.instance() or QApplication([])  # ours: show() returns instead of running a loop
    import gui

    t1 = time.perf_counter()
    loss = mlp_loss()
    t2 = time.perf_counter()
    c2 = time.process_time()
    win = gui.show(loss)
    t3 = time.perf_counter()
    win.view.viewport().grab()
    QApplication.processEvents()
    t4 = time.perf_counter()
    c4 = time.process_time()
    doc = win.document
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB
    print(json.dumps({"nodes": len(doc), "wires": doc.nx.number_of_edges(), "startup": t1 - t0,
                      "build_loss": t2 - t1, "show": t3 - t2, "first_paint": t4 - t3,
                      "cpu": c4 - c2, "rss": rss}))
    win.ask_unsaved = lambda: None
    return 0


def run_mlp() -> dict:
    env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    out = subprocess.run([sys.executable, __file__, "--mlp-child"], capture_output=True, text=True,
                         env=env, timeout=600)
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
    if out.returncode != 0 or not lines:
        raise RuntimeError(f"MLP child failed ({out.returncode}): {out.stderr[-2000:]}")
    return json.loads(lines[-1])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 50000])
    ap.add_argument("--mlp", action="store_true", help="also gui.show() an MLP loss (~66k nodes)")
    ap.add_argument("--mlp-child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--configs", action="store_true", help="compare index and update modes")
    ap.add_argument("--configs-n", type=int, default=1000, help="document size for --configs")
    ap.add_argument("--wall", action="store_true", help="wall-clock instead of process CPU time")
    args = ap.parse_args(argv)
    if args.mlp_child:
        return mlp_child()
    global CLOCK
    if args.wall:
        CLOCK = time.perf_counter
    QApplication.instance() or QApplication([])
    clock = "wall-clock" if args.wall else "process CPU"
    load = os.getloadavg()
    print(f"gradcanvas canvas benchmark (offscreen, view {VIEW_W}x{VIEW_H}, {clock} time, medians; ms; "
          f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f})")
    head = f"{'nodes':>6} {'build':>8} {'open+paint':>10} {'fit+paint':>9} {'edit':>8} {'edit paint':>10} " \
           f"{'drag step':>9} {'drag+paint':>10}"
    print(head)
    print("-" * len(head))
    rows = []
    for n in args.sizes:
        r = measure(n)
        rows.append(r)
        print(f"{n:>6} {ms(r['build'])} {ms(r['open']):>10} {ms(r['fit']):>9} {ms(r['edit'])} "
              f"{ms(r['edit_paint']):>10} {ms(r['move']):>9} {ms(r['move_paint']):>10}", flush=True)
    goals = []
    for r in rows:
        if r["n"] == 1000:
            goals.append(("edit refresh @1000 <= 16 ms", r["edit"] <= 0.016))
            goals.append(("drag step (with repaint) @1000 <= 16 ms", r["move_paint"] <= 0.016))
        if r["n"] == 10000:
            goals.append(("edit -> labels @10,000 <= 4 ms", r["edit"] <= 0.004))
            goals.append(("drag step (with repaint) @10,000 <= 16 ms", r["move_paint"] <= 0.016))
            goals.append(("open + first paint @10,000 <= 1 s", r["open"] <= 1.0))
        if r["n"] == 50000:
            goals.append(("edit -> labels @50,000 <= 16 ms", r["edit"] <= 0.016))
            goals.append(("drag step (with repaint) @50,000 <= 33 ms", r["move_paint"] <= 0.033))
    if args.mlp:
        m = run_mlp()
        total = m["show"] + m["first_paint"]
        print(f"\nMLP(2, [16, 16, 1]) hinge loss on 100 points, built with engine.Value: "
              f"{m['nodes']:,} nodes, {m['wires']:,} wires (fresh process, wall-clock)")
        print(f"  build the loss {m['build_loss']:.2f} s; gui.show() {m['show']:.2f} s; first paint "
              f"{m['first_paint']:.2f} s (of which this process's CPU: {m['cpu']:.2f} s); "
              f"peak RSS {m['rss'] / 2**30:.2f} GiB")
        goals.append(("MLP loss: gui.show() to first paint <= 8 s", total <= 8.0))
        goals.append(("MLP loss: peak RSS < 1.5 GiB", m["rss"] < 1.5 * 2**30))
    for text, ok in goals:
        print(f"  {'ok  ' if ok else 'MISS'} {text}")
    if args.configs:
        print(f"\nscene index / viewport update mode at {args.configs_n:,} nodes "
              "(drag+paint, edit paint, open; ms)")
        idx = {"BSP": QGraphicsScene.ItemIndexMethod.BspTreeIndex,
               "NoIndex": QGraphicsScene.ItemIndexMethod.NoIndex}
        upd = {
            "Smart": QGraphicsView.ViewportUpdateMode.SmartViewportUpdate,
            "Minimal": QGraphicsView.ViewportUpdateMode.MinimalViewportUpdate,
            "BoundingRect": QGraphicsView.ViewportUpdateMode.BoundingRectViewportUpdate,
            "Full": QGraphicsView.ViewportUpdateMode.FullViewportUpdate,
        }
        for iname, i in idx.items():
            for uname, u in upd.items():
                r = measure(args.configs_n, i, u, edits=10, moves=30)
                print(f"  {iname:>7} {uname:>12} {ms(r['move_paint'])} {ms(r['edit_paint'])} {ms(r['open'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
