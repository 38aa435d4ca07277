"""The workload people run: one training step of micrograd's demo MLP, on micrograd's Value and
on ours, with micrograd's own ``nn.py`` both times.

The step is the demo notebook's: ``MLP(2, [16, 16, 1])`` on 100 two-moons points, forward,
SVM hinge loss + L2 regularisation (alpha 1e-4), ``zero_grad``, ``backward``, SGD update with
the decaying learning rate. micrograd's ``nn.py`` is loaded twice: once as it is, once as a
copy whose module namespace has ``Value`` replaced by ``engine.Value`` (``nn.py`` looks the
name up at call time, so nothing else changes). Both models start from the same weights, see
the same data and take the same steps, so their losses must agree; the script checks it.

The two take turns in the same process (a round of micrograd steps, then a round of ours, ...)
and the best round of each is kept, so load from elsewhere on the machine lands on both. The
garbage collector stays on, as it is for anyone running the notebook; garbage left by one
round is collected before the other's round is timed.

    python benchmarks/mlp_step.py               # 8 rounds of 3 steps each
    python benchmarks/mlp_step.py --rounds 20 --steps 5
    python benchmarks/mlp_step.py --draw       # also: gui.draw on the step's graph (imports Qt)
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import math
import os
import platform
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine import Value as OurValue  # noqa: E402

# Losses agree to the last bits, not always bit for bit: micrograd orders its backward pass by
# iterating sets of Values, whose order follows memory addresses and changes from run to run,
# so sums over a node's consumers are added in a different order (micrograd against itself
# differs as much between two processes).
REL = 1e-12


def moons(n=100, noise=0.1, seed=1):
    """sklearn's make_moons(n, noise) without sklearn: two interleaved half circles."""
    rng = random.Random(seed)
    half = n // 2
    xs, ys = [], []
    for i in range(half):
        t = math.pi * i / (half - 1)
        xs.append([math.cos(t), math.sin(t)])
        ys.append(-1)
    for i in range(n - half):
        t = math.pi * i / (n - half - 1)
        xs.append([1 - math.cos(t), 1 - math.sin(t) - 0.5])
        ys.append(1)
    xs = [[a + rng.gauss(0, noise), b + rng.gauss(0, noise)] for a, b in xs]
    return xs, ys


def load_nn(value_class=None):
    """micrograd's nn.py as a fresh module; with ``value_class``, that Value in its namespace."""
    import micrograd.nn

    spec = importlib.util.spec_from_file_location(f"nn_{id(value_class)}", micrograd.nn.__file__)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    if value_class is not None:
        mod.Value = value_class
    return mod


def make_model(nn):
    random.seed(1337)  # the demo's seed: both models get the same weights
    return nn.MLP(2, [16, 16, 1])


def step(model, value_class, xs, ys, k):
    """One step of the demo notebook's training loop; returns (loss, accuracy)."""
    inputs = [list(map(value_class, xrow)) for xrow in xs]
    scores = list(map(model, inputs))
    losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(ys, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    alpha = 1e-4
    reg_loss = alpha * sum(p * p for p in model.parameters())
    total_loss = data_loss + reg_loss
    accuracy = sum((yi > 0) == (s.data > 0) for yi, s in zip(ys, scores)) / len(ys)
    model.zero_grad()
    total_loss.backward()
    learning_rate = 1.0 - 0.9 * k / 100
    for p in model.parameters():
        p.data -= learning_rate * p.grad
    return total_loss.data, accuracy


def step_loss(model, value_class, xs, ys):
    """One step's loss, not yet differentiated."""
    inputs = [list(map(value_class, xrow)) for xrow in xs]
    scores = list(map(model, inputs))
    losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(ys, scores)]
    return sum(losses) * (1.0 / len(losses)) + 1e-4 * sum(p * p for p in model.parameters())


def graph_size(model, value_class, xs, ys) -> int:
    """Nodes in one step's graph (ours: our Value's count, which has one node per - and /)."""
    total = step_loss(model, value_class, xs, ys)
    seen, stack = {total}, [total]
    while stack:
        for c in stack.pop()._prev:
            if c not in seen:
                seen.add(c)
                stack.append(c)
    return len(seen)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=8, help="rounds per engine, best kept (default 8)")
    ap.add_argument("--steps", type=int, default=3, help="training steps per round (default 3)")
    ap.add_argument("--draw", action="store_true", help="also time gui.draw on one step's graph")
    args = ap.parse_args(argv)
    try:
        import micrograd.engine
    except ImportError:
        print("micrograd is not installed (pip install micrograd): nothing to compare with")
        return 2

    xs, ys = moons()
    theirs_nn, ours_nn = load_nn(), load_nn(OurValue)
    theirs, ours = make_model(theirs_nn), make_model(ours_nn)
    peers = [("micrograd", theirs, micrograd.engine.Value), ("ours", ours, OurValue)]

    load = os.getloadavg() if hasattr(os, "getloadavg") else ("?",) * 3
    print(f"MLP(2, [16, 16, 1]) training step, micrograd's nn.py, {len(xs)} two-moons points")
    print(f"python {platform.python_version()} ({platform.python_implementation()}), {platform.platform()}")
    print(f"cpus: {os.cpu_count()}, load average {' '.join(f'{x:.2f}' for x in load)}")
    print(f"graph per step: micrograd {graph_size(theirs, micrograd.engine.Value, xs, ys):,} nodes, "
          f"ours {graph_size(ours, OurValue, xs, ys):,} nodes")

    best = {name: math.inf for name, _, _ in peers}
    k = 0
    mismatch = None
    worst = 0.0
    for _ in range(args.rounds):
        results = {}
        for name, model, cls in peers:
            gc.collect()
            t0 = time.perf_counter()
            out = [step(model, cls, xs, ys, k + i) for i in range(args.steps)]
            dt = (time.perf_counter() - t0) / args.steps
            best[name] = min(best[name], dt)
            results[name] = out
        for i, (m, o) in enumerate(zip(results["micrograd"], results["ours"])):
            worst = max(worst, abs(m[0] - o[0]) / abs(m[0]))
            if (abs(m[0] - o[0]) > REL * abs(m[0]) or m[1] != o[1]) and mismatch is None:
                mismatch = (k + i, m, o)
        k += args.steps
    print(f"{k} steps each, alternating rounds of {args.steps}; seconds per step, best round:")
    for name, _, _ in peers:
        print(f"  {name:10s} {best[name]:.4f} s   {best[name] / best['micrograd']:.3f}x micrograd")
    ratio = best["ours"] / best["micrograd"]
    print(f"ours / micrograd per step: {ratio:.3f}x  (target <= 0.1x: {'PASS' if ratio <= 0.1 else 'MISS'})")
    final = results["ours"][-1]
    if mismatch is None:
        print(f"losses agree on every step to {worst:.1e} relative, accuracies equal "
              f"(last: loss {final[0]:.6f}, accuracy {final[1]:.0%})")
    else:
        print(f"LOSS MISMATCH from step {mismatch[0]}: micrograd {mismatch[1]}, ours {mismatch[2]}")
    if args.draw:
        time_draw(ours, xs, ys)
    return 0 if mismatch is None else 1


def time_draw(model, xs, ys, reps=3):
    """gui.draw on one step's loss (after backward): the picture a notebook would show."""
    import os

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import gui

    loss = step_loss(model, OurValue, xs, ys)
    loss.backward()
    gui.draw(OurValue(1.0))  # Qt's start-up is not the picture's cost
    best, pic = math.inf, None
    for _ in range(reps):
        t0 = time.perf_counter()
        pic = gui.draw(loss)
        best = min(best, time.perf_counter() - t0)
    print(f"gui.draw on the step's {pic.nodes + pic.left_out:,}-node loss: {best:.2f} s (best of {reps}); "
          f"{pic.nodes} nodes drawn, {pic.left_out:,} left out, picture {pic.size[0]}x{pic.size[1]}")


if __name__ == "__main__":
    raise SystemExit(main())
