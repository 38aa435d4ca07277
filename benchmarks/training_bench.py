"""Training speed (issue 15): engine.training against PyTorch eager float64 in the same run.

1. A training step of a 2-8-8-1 tanh MLP (MSE) on 500 points, full batch, SGD and Adam:
   ours (Trainer.step on its private tape) vs torch (forward, zero_grad, backward, optimizer
   step) from the same weights; the losses are checked to agree before any time is printed.
   Goal: ours / torch <= 1.0x.
2. The engine part of one Playground frame: an epoch at batch 10 (Playground's 500 points,
   half for training: 25 steps), the 100x100 output picture, and 25x25 value and gradient
   pictures of every unit of every node that depends on the input point. Median of 5 frames,
   ms per part and frames per second. Goal: the whole frame >= 30 fps with drawing, so the
   engine part well under 33 ms.
3. Time travel over 10,000 steps of that network (batch 10, Adam): the snapshots' bytes
   (as counted, and as tracemalloc measures them) against the 64 MiB default budget, the
   steps kept, and the time to show a kept and a thinned-out step; then the same with a
   1 MiB budget, where thinning and replay are visible.

    python benchmarks/training_bench.py            # about a minute
    python benchmarks/training_bench.py --quick    # fewer rounds, 2,000 time-travel steps
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.training import DEFAULT_BUDGET, PlanePictures, build_mlp, dataset  # noqa: E402


def network(split=1.0):
    d = dataset("circle", n=500, noise=0.1, seed=0, split=split)
    return build_mlp(d, hidden=[8, 8], activation="tanh", loss="mse", seed=0)


class TorchStep:
    def __init__(self, net, optimizer, lr):
        import torch

        torch.set_num_threads(1)
        g = net.graph
        self.torch = torch
        self.P = {n: torch.tensor(np.array(g.number(n)), requires_grad=True) for n in net.params}
        self.X = torch.tensor(np.array(g.number("X")))
        self.y = torch.tensor(np.array(g.number("y")))
        cls = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam}[optimizer]
        self.opt = cls(list(self.P.values()), lr=lr)

    def step(self):
        P, torch = self.P, self.torch
        h1 = torch.tanh(self.X @ P["W1"] + P["b1"])
        h2 = torch.tanh(h1 @ P["W2"] + P["b2"])
        loss = torch.nn.functional.mse_loss(h2 @ P["W3"] + P["b3"], self.y)
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        return loss.item()


def bench_step(rounds, per_round):
    print(
        "1. one training step: 2-8-8-1 tanh MLP, MSE, 500 points, full batch (seconds per step, best round)"
    )
    net = network()
    out = {}
    for opt, lr in (("sgd", 0.05), ("adam", 0.01)):
        ours = net.trainer(optimizer=opt, lr=lr)
        theirs = TorchStep(net, opt, lr)
        for _ in range(5):
            a, b = ours.step().loss, theirs.step()
            if abs(a - b) > 1e-9 * abs(b):
                print(f"   MISMATCH ({opt}): ours {a!r}, torch {b!r}")
                return None
        best = {"ours": float("inf"), "torch": float("inf")}
        for _ in range(rounds):
            for name, fn in (("ours", ours.step), ("torch", theirs.step)):
                gc.collect()
                t0 = time.perf_counter()
                for _ in range(per_round):
                    fn()
                best[name] = min(best[name], (time.perf_counter() - t0) / per_round)
        ratio = best["ours"] / best["torch"]
        out[opt] = ratio
        print(
            f"   {opt:5s} ours {best['ours'] * 1e6:7.1f} us   torch {best['torch'] * 1e6:7.1f} us   "
            f"ours/torch {ratio:.2f}x  (goal <= 1.0x: {'PASS' if ratio <= 1.0 else 'MISS'})"
        )
    return out


def bench_frame(frames):
    print(
        "2. the engine part of one Playground frame (500 points, 250 for training, batch 10; median of "
        f"{frames} frames)"
    )
    net = network(split=0.5)
    trainer = net.trainer(optimizer="sgd", lr=0.03, batch=10, seed=0)
    pictures = PlanePictures(trainer, output_size=100, unit_size=25, extent=(-6, 6, -6, 6))
    pictures.frame()
    parts = {"epoch (25 steps)": [], "output picture 100x100": [], "unit pictures 25x25": []}
    count = 0
    for _ in range(frames):
        t0 = time.perf_counter()
        trainer.run(epochs=1)
        t1 = time.perf_counter()
        frame = pictures.frame()
        t2 = time.perf_counter()
        count = len(frame.units)
        # the frame's two passes timed apart: the unit pass alone
        t3 = time.perf_counter()
        pictures._units()
        t4 = time.perf_counter()
        parts["epoch (25 steps)"].append(t1 - t0)
        parts["unit pictures 25x25"].append(t4 - t3)
        parts["output picture 100x100"].append(max(0.0, (t2 - t1) - (t4 - t3)))
    total = sum(statistics.median(v) for v in parts.values())
    for name, v in parts.items():
        m = statistics.median(v)
        print(f"   {name:28s} {m * 1e3:6.2f} ms   {m / total:5.1%}")
    grads = sum(u.grad is not None for u in frame.units)
    print(
        f"   {'engine part of a frame':28s} {total * 1e3:6.2f} ms   = {1 / total:.0f} frames per second "
        f"({count} unit pictures, {grads} with their gradient picture)"
    )
    ok = total < 0.0165
    print(f"   goal: well under 33 ms (half of it, 16.5 ms, left for drawing): {'PASS' if ok else 'MISS'}")
    return total


def _traced_run(steps, budget):
    """A run under tracemalloc: the trainer, the bytes it holds afterwards, the seconds."""
    net = network(split=0.5)
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    trainer = net.trainer(optimizer="adam", lr=0.01, batch=10, seed=0, budget=budget)
    t0 = time.perf_counter()
    trainer.run(steps=steps)
    dt = time.perf_counter() - t0
    gc.collect()
    held = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    return trainer, held, dt


def bench_time_travel(steps, budgets):
    # A run that keeps only two snapshots holds everything else (the history, the tape): the
    # snapshots' memory is what a run with a budget holds beyond it.
    _, control, _ = _traced_run(steps, 0)
    for budget, label in budgets:
        trainer, held, dt = _traced_run(steps, budget)
        snaps = held - control
        kept = trainer.kept_steps()
        thinned = next((k for k in range(steps, 0, -1) if k not in kept), None)
        t1 = time.perf_counter()
        trainer.state_at(kept[len(kept) // 2])
        t_kept = time.perf_counter() - t1
        t_thin = None
        if thinned is not None:
            t1 = time.perf_counter()
            trainer.state_at(thinned)
            t_thin = time.perf_counter() - t1
        print(
            f"   {label}: {steps:,} steps in {dt:.1f} s (under tracemalloc); the snapshots hold "
            f"{snaps / 2**20:.2f} MiB (tracemalloc; {trainer.memory / 2**20:.2f} MiB as the timeline counts "
            f"them), budget {budget / 2**20:g} MiB: {'PASS' if snaps <= budget else 'MISS'}"
        )
        print(
            f"      {len(kept):,} steps kept (every {trainer.timeline.stride}); showing a kept step "
            f"{t_kept * 1e6:.0f} us"
            + (
                f", a thinned-out step (replayed) {t_thin * 1e3:.1f} ms"
                if t_thin
                else ", no step thinned out"
            )
        )


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    load = os.getloadavg() if hasattr(os, "getloadavg") else ("?",) * 3
    print(
        f"python {platform.python_version()}, numpy {np.__version__}, {platform.machine()}, "
        f"load average {' '.join(f'{x:.2f}' for x in load)}"
    )
    try:
        import torch

        print(f"torch {torch.__version__}")
        bench_step(3 if args.quick else 7, 50 if args.quick else 200)
    except ImportError:
        print("1. torch is not installed: the step comparison is skipped")
    bench_frame(5)
    steps = 2000 if args.quick else 10_000
    print(f"3. time travel over {steps:,} steps (2-8-8-1, batch 10, Adam)")
    bench_time_travel(steps, [(DEFAULT_BUDGET, "default budget"), (2**20, "1 MiB budget")])
    return 0


if __name__ == "__main__":
    sys.exit(main())
