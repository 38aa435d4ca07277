"""Backward-graph benchmark: Learn ▸ Show Backward Graph on a 1,000-node document.

    python benchmarks/backward_graph.py [--nodes 1000] [--runs 5] [--seed 0]

Goal (issue 16): the backward graph of a 1,000-node document built and drawn in <= 1 s, the
median of ``--runs`` runs, printed with the load average. One run is what the action does in
an open window: the engine's gradient_graph, the one undo step that inserts its nodes (one
Graph.insert_nodes edit, one NodesInserted event: the scene makes their items in one pass), the
evaluation that follows, and one full
frame of the canvas with the whole document in view (fit), as the event loop draws it.

The peer, measured in the same run on the same document: one forward-and-backward evaluation
of the forward graph (``Graph.evaluate``), the cost of what the backward graph shows.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine import Graph  # noqa: E402

GOAL_S = 1.0
OPS = ["add", "mul", "sub", "tanh", "sigmoid", "mul", "add"]


def document(n: int, seed: int) -> Graph:
    """A random scalar program of ``n`` nodes: a quarter numbers, the rest ops reading recent
    nodes (so the graph is deep as well as wide), one output at the end."""
    rng = random.Random(seed)
    g = Graph()
    made = [g.add_number(round(rng.uniform(-1, 1), 3)) for _ in range(n // 4)]
    while len(g) < n - 1:
        op = rng.choice(OPS)
        k = g.add_op(op)
        for port in range(g.arity(k)):
            g.connect(rng.choice(made[-40:]), k, port)
        made.append(k)
    total = g.add_op("add")
    g.connect(made[-1], total, 0)
    g.connect(made[-2], total, 1)
    g.apply_layout()
    return g


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nodes", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    from PySide6.QtWidgets import QApplication, QMessageBox

    app = QApplication.instance() or QApplication([])
    from gui.shell.main_window import MainWindow

    doc = document(args.nodes, args.seed)
    print(f"{len(doc)} nodes, {doc.nx.number_of_edges()} wires; load average {os.getloadavg()[0]:.2f}")
    ours, peer, sizes, phases = [], [], [], []
    for _ in range(args.runs):
        w = MainWindow(doc, use_settings=False)
        w.resize(1400, 900)
        w.show()
        app.processEvents()
        w.view.fit_all()
        app.processEvents()
        t0 = time.perf_counter()
        w.document.evaluate()
        peer.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        w.higher.backward.act_show.trigger()  # build, insert (one undo step), evaluate
        t1 = time.perf_counter()
        w.view.fit_all()
        app.processEvents()  # the window's next frame: the whole document drawn once, queued work done
        t2 = time.perf_counter()
        t3 = t2
        ours.append(t3 - t0)
        phases.append((t1 - t0, t2 - t1, t3 - t2))
        sizes.append(len(w.document) - len(doc))
        w.ask_unsaved = lambda: QMessageBox.StandardButton.Discard  # no dialog on close
        w.close()
        w.deleteLater()
        app.processEvents()
    m, p = statistics.median(ours), statistics.median(peer)
    print(f"backward graph: {sizes[0]} nodes built and drawn in {m:.3f} s median of {args.runs} "
          f"(runs: {', '.join(f'{t:.3f}' for t in ours)}); "
          f"goal <= {GOAL_S} s: {'met' if m <= GOAL_S else 'MISSED'}")
    print(f"peer, forward+backward evaluate of the {len(doc)}-node document: {p * 1000:.1f} ms median; "
          f"ratio {m / p:.1f}x")
    med = [statistics.median(p[i] for p in phases) for i in range(3)]
    print(f"phases (median): build+insert+evaluate {med[0]:.3f} s, "
          f"draw (the next frame, with queued events) {med[1]:.3f} s")
    print(f"load average {os.getloadavg()[0]:.2f} at the end")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
