"""Composites cost nothing at evaluation time: micrograd's demo loss (MLP(2, [16, 16, 1]) on 100
two-moons points, 66k nodes flat) as a grouped document (engine.nn: one instance per call of
the network, layers and neurons inside, one parameter bank) against the same loss flat
(micrograd's own nn.py on engine.Value), same weights, same data, measured in one run.

Printed, each the median of interleaved rounds:

- evaluation after a value edit (a weight changes, forward + backward over the compiled tape):
  grouped / flat, the target is <= 1.1x;
- compiling the tape after a topology change (grouped: every instance inlined): grouped / flat;
- building the document from the loss Value (``loss.graph()``): grouped / flat, and each
  one's time and peak memory in a fresh process (what ``gui.show(loss)`` pays in the engine
  before the window draws anything).

    python benchmarks/composites.py               # 15 rounds
    python benchmarks/composites.py --rounds 31
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from mlp_step import moons  # noqa: E402

from engine import Value  # noqa: E402


def _micrograd_nn():
    """micrograd's nn.py with engine.Value in its namespace (it reads the name at call time)."""
    import micrograd.nn

    spec = importlib.util.spec_from_file_location("nn_flat", micrograd.nn.__file__)
    nn = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(nn)
    nn.Value = Value
    return nn


def demo_loss(grouped: bool, points: int = 100):
    """The demo's loss Value and its model, grouped (engine.nn) or flat (micrograd's nn)."""
    if grouped:
        from engine.nn import MLP
    else:
        MLP = _micrograd_nn().MLP  # noqa: N806
    random.seed(1337)
    model = MLP(2, [16, 16, 1])
    xs, ys = moons(points)
    scores = [model(list(map(Value, x))) for x in xs]
    losses = [(1 + -yi * si).relu() for yi, si in zip(ys, scores)]
    loss = sum(losses) * (1.0 / len(losses)) + 1e-4 * sum(p * p for p in model.parameters())
    return loss, model


def _first_weight(g, grouped: bool):
    """The address of the network's first weight in the document."""
    if grouped:
        bank = next(d for d in g.definitions.values() if d.name.endswith("parameters"))
        return (bank.name, bank.constants()[0])
    return next(n for n in g.nodes() if g.op(n) == "number" and g.consumers(n))


def _child(kind: str) -> None:
    """Run in a fresh process: build the document from the loss, print seconds and peak RSS."""
    import resource

    loss, _model = demo_loss(kind == "grouped")
    start = time.perf_counter()
    g = loss.graph()
    g.evaluate()
    took = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux -> MiB
    print(f"{took:.4f} {peak:.1f} {len(g)} {g.inlined_size()}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--child", choices=["grouped", "flat"], help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        _child(args.child)
        return

    print(f"python {sys.version.split()[0]}, load {os.getloadavg()[0]:.2f} (1 min), {os.cpu_count()} cores")
    docs = {}
    for kind in ("flat", "grouped"):
        loss, _ = demo_loss(kind == "grouped")
        g = loss.graph()
        g.evaluate()
        docs[kind] = (g, _first_weight(g, kind == "grouped"), loss.data)
    gf, gg = docs["flat"][0], docs["grouped"][0]
    assert abs(gf.value(gf.output_node()) - gg.value(gg.output_node())) <= 1e-12 * abs(docs["flat"][2])
    print(f"micrograd's demo loss: flat {len(gf):,} nodes; grouped {len(gg):,} top-level nodes "
          f"({len(gg) / len(gf):.1%}), {len(gg.definitions)} definitions, {gg.inlined_size():,} inlined")

    import gc

    times = {("eval", k): [] for k in docs} | {("compile", k): [] for k in docs}
    for what in ("eval", "compile"):  # one phase at a time: a compile's garbage stays out of evaluations
        for r in range(args.rounds):
            for kind in (("flat", "grouped") if r % 2 == 0 else ("grouped", "flat")):
                g, w, _ = docs[kind]
                gc.collect()
                if what == "eval":
                    value = g.number(w)
                    start = time.perf_counter()
                    g.set_value(w, value + 1e-3)
                    g.evaluate()
                    times[(what, kind)].append(time.perf_counter() - start)
                    g.set_value(w, value)
                else:
                    g._invalidate(topology=True)
                    start = time.perf_counter()
                    g.tape()
                    times[(what, kind)].append(time.perf_counter() - start)
                g.evaluate()
    med = {k: statistics.median(v) for k, v in times.items()}
    best = {k: min(v) for k, v in times.items()}
    for what in ("eval", "compile"):
        ratio = med[(what, "grouped")] / med[(what, "flat")]
        name = "evaluation after a value edit" if what == "eval" else "compiling the tape"
        flat_ms, grouped_ms = med[(what, "flat")] * 1e3, med[(what, "grouped")] * 1e3
        print(f"{name:32s} flat {flat_ms:7.1f} ms  grouped {grouped_ms:7.1f} ms  ratio {ratio:.2f}x"
              f" (best rounds {best[(what, 'grouped')] / best[(what, 'flat')]:.2f}x)"
              + ("  target <= 1.1x" if what == "eval" else ""))

    build = {"flat": [], "grouped": []}
    info = {}
    for r in range(max(3, args.rounds // 2)):
        for kind in (("flat", "grouped") if r % 2 == 0 else ("grouped", "flat")):
            out = subprocess.run([sys.executable, __file__, "--child", kind], capture_output=True, text=True,
                                 check=True)
            took, peak, top, inlined = out.stdout.split()
            build[kind].append(float(took))
            info[kind] = max(info.get(kind, 0.0), float(peak))
    for kind in ("flat", "grouped"):
        print(f"loss.graph() + first evaluation, {kind:7s}: {statistics.median(build[kind]):.2f} s, "
              f"peak RSS {info[kind]:.0f} MiB (fresh process)")
    ratio = statistics.median(build["grouped"]) / statistics.median(build["flat"])
    print(f"building the document: grouped / flat {ratio:.2f}x")


if __name__ == "__main__":
    main()
