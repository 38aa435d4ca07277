"""engine.grad(create_graph=True) against PyTorch's torch.autograd.grad(create_graph=True) on the
same scalar graph: micrograd's demo MLP loss (MLP(2, [16, 16, 1]) on 100 two-moons points, SVM
hinge loss + L2), built with micrograd's own nn.py on our Value and on float64 torch scalars
(one tensor per number, as the scalar graph is), from the same weights.

Timed: the gradient of the loss with respect to every parameter, built as a graph (the forward
graph is built before the clock starts), and then one more pass through that gradient graph:
d/dparams of sum(grad * v) (a Hessian-vector product). Both take turns in the same process and
the best round of each is kept; the gradients are checked to agree.

    python benchmarks/create_graph.py               # 5 rounds
    python benchmarks/create_graph.py --rounds 10
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import platform
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from mlp_step import load_nn, make_model, moons, step_loss  # noqa: E402

from engine import Value, grad  # noqa: E402

GOAL = 3.0


def ours(model, xs, ys):
    loss = step_loss(model, Value, xs, ys)
    params = model.parameters()
    t0 = time.perf_counter()
    firsts = grad(loss, params, create_graph=True)
    t1 = time.perf_counter()
    rnd = random.Random(5)
    dot = sum(g * rnd.uniform(-1, 1) for g in firsts)
    grad(dot, params, allow_unused=True)
    t2 = time.perf_counter()
    return t1 - t0, t2 - t1, [g.data for g in firsts]


def theirs(torch, model, xs, ys):
    def tensor(v):
        return torch.tensor(v, dtype=torch.float64, requires_grad=True)

    loss = step_loss(model, tensor, xs, ys)
    params = model.parameters()
    t0 = time.perf_counter()
    firsts = torch.autograd.grad(loss, params, create_graph=True)
    t1 = time.perf_counter()
    rnd = random.Random(5)
    dot = sum(g * rnd.uniform(-1, 1) for g in firsts)
    torch.autograd.grad(dot, params, allow_unused=True)
    t2 = time.perf_counter()
    return t1 - t0, t2 - t1, [g.item() for g in firsts]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=5, help="rounds per engine, best kept (default 5)")
    args = ap.parse_args(argv)
    try:
        import torch
    except ImportError:
        print("torch is not installed: nothing to compare with")
        return 2
    try:
        import micrograd.nn  # noqa: F401
    except ImportError:
        print("micrograd is not installed (pip install micrograd): its nn.py builds the model")
        return 2
    torch.set_num_threads(1)
    xs, ys = moons()
    our_model = make_model(load_nn(Value))
    torch_model = make_model(load_nn(lambda v: torch.tensor(v, dtype=torch.float64, requires_grad=True)))

    load = os.getloadavg() if hasattr(os, "getloadavg") else ("?",) * 3
    print(f"d loss / d params with create_graph=True: MLP(2, [16, 16, 1]), {len(xs)} two-moons points, "
          f"{len(our_model.parameters())} parameters")
    print(f"python {platform.python_version()}, torch {torch.__version__}, {platform.platform()}")
    print(f"cpus: {os.cpu_count()}, load average {' '.join(f'{x:.2f}' for x in load)}")
    best = {"ours": [math.inf, math.inf], "torch": [math.inf, math.inf]}
    worst = 0.0
    for _ in range(args.rounds):
        gc.collect()
        a1, a2, ga = ours(our_model, xs, ys)
        gc.collect()
        b1, b2, gb = theirs(torch, torch_model, xs, ys)
        best["ours"] = [min(best["ours"][0], a1), min(best["ours"][1], a2)]
        best["torch"] = [min(best["torch"][0], b1), min(best["torch"][1], b2)]
        worst = max(worst, max(abs(x - y) / max(abs(y), 1e-300) for x, y in zip(ga, gb)))
    print("seconds, best round:        grad(create_graph)   then grad of <grad, v>")
    for name in ("ours", "torch"):
        print(f"  {name:6s}                     {best[name][0]:8.3f}            {best[name][1]:8.3f}")
    ratio = best["ours"][0] / best["torch"][0]
    ratio2 = best["ours"][1] / best["torch"][1]
    print(f"ours / torch: {ratio:.2f}x building the gradient graph (goal <= {GOAL:g}x: "
          f"{'PASS' if ratio <= GOAL else 'MISS'}), {ratio2:.2f}x differentiating it again")
    print(f"first gradients agree to {worst:.1e} relative")
    return 0 if worst <= 1e-9 else 1


if __name__ == "__main__":
    raise SystemExit(main())
