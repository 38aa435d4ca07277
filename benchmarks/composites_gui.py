"""Composites on the canvas: ``gui.show(loss)`` of micrograd's demo MLP (MLP(2, [16, 16, 1]) on
100 two-moons points, 66k scalar nodes flat) built with ``engine.nn`` (grouped) against the same
loss flat (micrograd's nn.py on engine.Value), each opened the same way in a fresh process, to
the first painted frame; and entering an instance (Tab) to its first painted frame.

Printed: seconds and peak RSS of each, and the ratios grouped / flat (targets: grouped opens in
<= 2 s and <= 0.5 GiB); the time to enter (median of rounds; target <= 100 ms).

    QT_QPA_PLATFORM=offscreen python benchmarks/composites_gui.py
    QT_QPA_PLATFORM=offscreen python benchmarks/composites_gui.py --points 20 --rounds 5
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))


def _child(kind: str, points: int, rounds: int) -> None:
    """In a fresh process: build the loss, gui.show it, paint; then (grouped) enter each of a
    few instances and paint. Prints one JSON line."""
    from composites import demo_loss
    from PySide6.QtWidgets import QApplication

    QApplication.instance() or QApplication([])
    import gui

    loss, _model = demo_loss(kind == "grouped", points)
    t0 = time.perf_counter()
    win = gui.show(loss)
    win.view.viewport().grab()
    QApplication.processEvents()
    opened = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB
    g = win.document
    enters = []
    if kind == "grouped":
        insts = [n for n in g.nodes() if g.op(n) == "call" and g.arity(n)][:rounds]
        for n in insts:
            t = time.perf_counter()
            win.enter_instance(n)
            win.canvas_area.inside.viewport().grab()
            enters.append(time.perf_counter() - t)
            win.leave_instance()
    print(json.dumps({"nodes": len(g), "open": opened, "rss": rss, "enter": enters}))
    win.ask_unsaved = lambda: None


def _run(kind: str, points: int, rounds: int) -> dict:
    env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    out = subprocess.run([sys.executable, __file__, "--child", kind, "--points", str(points),
                          "--rounds", str(rounds)], capture_output=True, text=True, env=env, timeout=900)
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
    if out.returncode != 0 or not lines:
        raise RuntimeError(f"{kind} child failed ({out.returncode}): {out.stderr[-2000:]}")
    return json.loads(lines[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--points", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=7, help="instances entered (grouped)")
    ap.add_argument("--child", choices=["grouped", "flat"], help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        _child(args.child, args.points, args.rounds)
        return
    print(f"python {sys.version.split()[0]}, load {os.getloadavg()[0]:.2f} (1 min), {os.cpu_count()} cores")
    got = {kind: _run(kind, args.points, args.rounds) for kind in ("grouped", "flat")}
    gi, fl = got["grouped"], got["flat"]
    for kind, m in got.items():
        print(f"{kind:8s} {m['nodes']:6d} top-level nodes: gui.show to first paint {m['open']:.2f} s, "
              f"peak RSS {m['rss'] / 2**30:.2f} GiB")
    print(f"grouped / flat: open {gi['open'] / fl['open']:.2f}x, peak RSS {gi['rss'] / fl['rss']:.2f}x")
    if gi["enter"]:
        print(f"enter an instance to its first paint: median {1000 * statistics.median(gi['enter']):.0f} ms "
              f"(max {1000 * max(gi['enter']):.0f} ms, {len(gi['enter'])} instances)")
    print(f"targets: grouped open <= 2 s: {gi['open'] <= 2.0}; <= 0.5 GiB: {gi['rss'] <= 0.5 * 2**30}; "
          f"enter <= 100 ms: {bool(gi['enter']) and statistics.median(gi['enter']) <= 0.1}")


if __name__ == "__main__":
    main()
