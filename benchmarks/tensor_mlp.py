"""One training step of micrograd's demo MLP on 100 two-moons points, as a tensor graph: our
Graph (about twenty nodes), our Value holding arrays, PyTorch eager float64, and micrograd's own
scalar ``MLP(2, [16, 16, 1])`` (about 66,000 Value nodes per step), measured in the same run.

The computation is the demo notebook's: two ReLU layers of 16, a linear output, SVM hinge loss
``mean(relu(1 - y * score))`` plus L2 regularisation (alpha 1e-4), then SGD with learning rate
``1 - 0.9 * k / 100``. Every implementation starts from micrograd's initial weights and takes the
same steps; the script checks that their losses agree before printing any time.

A step is: set the parameters, forward, backward, update. The implementations take turns (a
round of each, best round kept), so load from elsewhere on the machine lands on all of them.

    python benchmarks/tensor_mlp.py                # 5 rounds of 3 steps
    python benchmarks/tensor_mlp.py --rounds 10 --steps 5

Targets (issue 10): Graph step <= 0.01x micrograd's and <= 1.0x PyTorch's.
"""

from __future__ import annotations

import argparse
import gc
import platform
import random
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from mlp_step import moons  # noqa: E402

from engine import Graph, Value  # noqa: E402

ALPHA = 1e-4
HIDDEN = 16
PROGRAM = """
h1 = relu(x @ W1 + b1)
h2 = relu(h1 @ W2 + b2)
score = h2 @ W3 + b3
data_loss = mean(relu(1 - y * score))
reg = alpha * (sum(W1 * W1) + sum(b1 * b1) + sum(W2 * W2) + sum(b2 * b2) + sum(W3 * W3) + sum(b3 * b3))
loss = data_loss + reg
loss.backward()
"""
PARAMS = ("W1", "b1", "W2", "b2", "W3", "b3")


def micrograd_model(seed=1337):
    from micrograd.nn import MLP

    random.seed(seed)
    return MLP(2, [HIDDEN, HIDDEN, 1])


def weights_of(model) -> dict:
    """micrograd's parameters as arrays: layer k's W[i, j] is neuron j's weight i."""
    out = {}
    for k, layer in enumerate(model.layers, 1):
        out[f"W{k}"] = np.array(
            [[n.w[i].data for n in layer.neurons] for i in range(len(layer.neurons[0].w))]
        )
        out[f"b{k}"] = np.array([n.b.data for n in layer.neurons])
    return out


def lr_at(k, steps=100):
    return 1.0 - 0.9 * k / steps


# ---------------------------------------------------------------------------- the four


class Micrograd:
    name = "micrograd 0.1.0 (scalar MLP)"

    def __init__(self, xs, ys):
        from micrograd.engine import Value as MV

        self.MV = MV
        self.model = micrograd_model()
        self.inputs = [list(map(MV, x)) for x in xs]
        self.ys = ys

    def step(self, k):
        MV = self.MV
        scores = list(map(self.model, self.inputs))
        losses = [(1 + -yi * si).relu() for yi, si in zip(self.ys, scores)]
        data_loss = sum(losses) * (1.0 / len(losses))
        reg = ALPHA * sum(p * p for p in self.model.parameters())
        loss = data_loss + reg
        self.model.zero_grad()
        loss.backward()
        lr = lr_at(k)
        for p in self.model.parameters():
            p.data -= lr * p.grad
        del MV
        return loss.data


class TensorGraph:
    name = "ours: Graph with arrays"

    def __init__(self, xs, ys):
        w = weights_of(micrograd_model())
        self.g = Graph.from_expression(
            PROGRAM, x=np.array(xs), y=np.array(ys, dtype=float).reshape(-1, 1), alpha=ALPHA, **w
        )
        self.w = w

    def step(self, k):
        g = self.g
        loss = g.value("loss")
        lr = lr_at(k)
        new = {name: g.number(name) - lr * g.grad(name) for name in PARAMS}  # all grads first
        for name, v in new.items():
            g.set_value(name, v)
        return loss


class TensorValue:
    name = "ours: Value with arrays"

    def __init__(self, xs, ys):
        self.w = weights_of(micrograd_model())
        self.x = Value(np.array(xs))
        self.y = Value(np.array(ys, dtype=float).reshape(-1, 1))

    def step(self, k):
        p = {n: Value(v) for n, v in self.w.items()}
        h1 = (self.x @ p["W1"] + p["b1"]).relu()
        h2 = (h1 @ p["W2"] + p["b2"]).relu()
        score = h2 @ p["W3"] + p["b3"]
        data_loss = (1 - self.y * score).relu().mean()
        reg = ALPHA * sum(((v * v).sum() for v in p.values()), Value(0.0))
        loss = data_loss + reg
        loss.backward()
        lr = lr_at(k)
        self.w = {n: v.data - lr * v.grad for n, v in p.items()}
        return loss.data


class Torch:
    name = "torch (eager, float64)"

    def __init__(self, xs, ys):
        import torch

        self.torch = torch
        w = weights_of(micrograd_model())
        self.p = {n: torch.tensor(v, dtype=torch.float64, requires_grad=True) for n, v in w.items()}
        self.x = torch.tensor(xs, dtype=torch.float64)
        self.y = torch.tensor(ys, dtype=torch.float64).reshape(-1, 1)

    def step(self, k):
        torch, p = self.torch, self.p
        h1 = torch.relu(self.x @ p["W1"] + p["b1"])
        h2 = torch.relu(h1 @ p["W2"] + p["b2"])
        score = h2 @ p["W3"] + p["b3"]
        data_loss = torch.relu(1 - self.y * score).mean()
        reg = ALPHA * sum((v * v).sum() for v in p.values())
        loss = data_loss + reg
        for v in p.values():
            v.grad = None
        loss.backward()
        lr = lr_at(k)
        with torch.no_grad():
            for v in p.values():
                v -= lr * v.grad
        return loss.item()


# ---------------------------------------------------------------------------- running


def available(xs, ys):
    out, notes = [], []
    for cls in (Micrograd, TensorGraph, TensorValue, Torch):
        try:
            out.append(cls(xs, ys))
        except ImportError as e:
            notes.append(f"{cls.name}: skipped, {e.name or e} is not installed")
    return out, notes


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--steps", type=int, default=3)
    args = ap.parse_args(argv)
    xs, ys = moons(100)
    runs, notes = available(xs, ys)
    if not any(isinstance(r, Micrograd) for r in runs):
        print("micrograd is not installed (pip install micrograd): nothing to compare against")
        return 1
    # Same weights, same steps: the losses must agree before any time means anything.
    check, _ = available(xs, ys)
    losses = {r.name: [r.step(k) for k in range(3)] for r in check}
    ref = losses[Micrograd.name]
    for name, ls in losses.items():
        for a, b in zip(ls, ref):
            if abs(a - b) > 1e-9 * max(1.0, abs(b)):
                print(f"MISMATCH: {name} loss {a!r} vs micrograd {b!r}")
                return 1
    best = {r.name: float("inf") for r in runs}
    k = 0
    for _ in range(args.rounds):
        for r in runs:
            gc.collect()
            t = time.perf_counter()
            for j in range(args.steps):
                r.step(k + j)
            best[r.name] = min(best[r.name], (time.perf_counter() - t) / args.steps)
        k += args.steps
    print(f"python {platform.python_version()}, numpy {np.__version__}, {platform.machine()}")
    print(
        f"one step: MLP(2, [{HIDDEN}, {HIDDEN}, 1]) on 100 moons points, forward + backward + SGD;"
        f" best of {args.rounds} rounds x {args.steps} steps; losses agree to 1e-9 for 3 steps"
    )
    mg = best[Micrograd.name]
    torch_t = next((best[r.name] for r in runs if isinstance(r, Torch)), None)
    print(f"{'implementation':32} {'seconds/step':>14} {'/ micrograd':>12} {'/ torch':>9}")
    for r in runs:
        t = best[r.name]
        vs_torch = f"{t / torch_t:8.2f}x" if torch_t else "      —"
        print(f"{r.name:32} {t:14.6f} {t / mg:11.4f}x {vs_torch}")
    for n in notes:
        print("note:", n)
    graph_t = best[TensorGraph.name]
    print("targets:")
    print(
        f"  Graph step / micrograd step   {graph_t / mg:.4f}x   <= 0.01x  "
        f"{'PASS' if graph_t / mg <= 0.01 else 'MISS'}"
    )
    if torch_t:
        ok = graph_t / torch_t <= 1.0
        print(
            f"  Graph step / torch step       {graph_t / torch_t:.2f}x     <= 1.0x   "
            f"{'PASS' if ok else 'MISS'}"
        )
    else:
        print("  Graph step / torch step       not measured: torch is not installed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
