"""Graph.gradient_graph on a grouped document against the same document flat, in one run.

The backward graph of a document with instances is drawn over the inlined document (every
instance ungrouped, each constant of a definition one node): this measures what the inlining
adds. The document is micrograd's demo network built with engine.nn (grouped: one instance
per network call, layers and neurons inside, one parameter bank) on a few two-moons points;
its peer is the same document with every instance ungrouped beforehand
(``engine.core.inlining.inline_copy``), so both build the same backward graph. The grouped
one also pays the inlining and a fresh layout of the inlined forward nodes (its instances'
insides come out on top of their neighbours); the flat peer keeps its positions.

Printed: each one's median time over interleaved rounds, the ratio grouped / flat, and that
the two backward graphs have the same number of nodes and the same gradient values.

    python benchmarks/gradient_graph_composites.py             # 5 rounds, MLP(2, [8, 8, 1]), 10 points
    python benchmarks/gradient_graph_composites.py --rounds 9 --points 20
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from mlp_step import moons  # noqa: E402

from engine import Value  # noqa: E402
from engine.core.inlining import inline_copy  # noqa: E402
from engine.nn import MLP  # noqa: E402


def grouped_loss(points: int, hidden: int):
    random.seed(1337)
    model = MLP(2, [hidden, hidden, 1])
    xs, ys = moons(points)
    scores = [model(list(map(Value, x))) for x in xs]
    losses = [(1 + -yi * s).relu() for yi, s in zip(ys, scores)]
    return (sum(losses) * (1.0 / len(losses))).graph()


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--points", type=int, default=10)
    ap.add_argument("--hidden", type=int, default=8)
    args = ap.parse_args()
    grouped = grouped_loss(args.points, args.hidden)
    flat, _where = inline_copy(grouped)
    print(f"document: {len(grouped)} top-level nodes grouped, {len(flat)} flat "
          f"({grouped.inlined_size()} inlined slots); load {os.getloadavg()[0]:.2f}")
    tg, tf = [], []
    for _ in range(args.rounds):  # interleaved, so load changes hit both alike
        t, (hg, gg) = timed(lambda: grouped.gradient_graph())
        tg.append(t)
        t, (hf, gf) = timed(lambda: flat.gradient_graph())
        tf.append(t)
    same = len(hg) == len(hf) and sorted(hg.value(n) for n in gg.values()) == \
        sorted(hf.value(n) for n in gf.values())
    mg, mf = statistics.median(tg), statistics.median(tf)
    print(f"gradient_graph grouped: {mg:.3f} s   flat: {mf:.3f} s   grouped / flat: {mg / mf:.2f}x")
    print(f"same backward graph size and gradient values: {same} ({len(hg)} nodes)")


if __name__ == "__main__":
    main()
