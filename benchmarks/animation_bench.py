"""Animation benchmark: the two-layer perceptron's 30-step backward pass as a 1280x720 GIF.

    python benchmarks/animation_bench.py [--runs 5] [--size 1280x720] [--formats gif mp4 png]

Goal (issue 16): the 31-frame GIF (step 0 and 30 steps) in <= 10 s, the median of 5 runs on this
machine, printed with the load average. Each run is what ``gradcanvas animate`` does after the
document is loaded: build the offscreen scene, draw every frame, encode, write atomically.

The peer, measured in the same run: Pillow alone writing the same 31 frames (drawn once,
beforehand) as a GIF with the same settings: the part of our time that is encoding, so the
ratio says how much the canvas's drawing adds.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import resources  # noqa: E402
from engine.io import document  # noqa: E402
from gui.canvas.render import ensure_app  # noqa: E402
from gui.learn import movie  # noqa: E402
from gui.learn.animation import StepFrames, export_steps  # noqa: E402

GOAL_S = 10.0


def timed(fn):
    w, c = time.perf_counter(), time.process_time()
    result = fn()
    return time.perf_counter() - w, time.process_time() - c, result


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--size", default="1280x720")
    ap.add_argument("--formats", nargs="+", default=["gif"], choices=["gif", "mp4", "png"])
    args = ap.parse_args(argv)
    size = movie.parse_size(args.size)
    ensure_app()
    graph = document.load(resources.example_path("perceptron_2layer"))
    print(f"perceptron_2layer: {len(graph.steps())} backward steps, {movie.count_step_frames(graph)} frames "
          f"of {size[0]}x{size[1]}; load average {os.getloadavg()[0]:.2f} at the start")
    out_dir = Path(tempfile.mkdtemp(prefix="animation-bench-"))

    # the peer: the same frames, drawn once, written by Pillow alone
    with StepFrames(graph, size) as frames:
        draw_w, _, rgbs = timed(lambda: [frames.rgb(i) for i in range(len(frames))])

    class Drawn:
        def __len__(self):
            return len(rgbs)

        def rgb(self, i):
            return rgbs[i]

    per = 1000 * draw_w / len(rgbs)
    print(f"drawing the {len(rgbs)} frames alone: {draw_w:.2f} s ({per:.0f} ms a frame)")
    for fmt in args.formats:
        walls, cpus, peers = [], [], []
        for _ in range(args.runs):
            out = out_dir / f"steps.{fmt}"
            w, c, _ = timed(lambda out=out: export_steps(graph, out, size))
            walls.append(w)
            cpus.append(c)
            peer_out = out_dir / f"peer.{fmt}"
            pw, _, _ = timed(lambda peer_out=peer_out: movie.write_animation(Drawn(), peer_out))
            peers.append(pw)
        med, peer = statistics.median(walls), statistics.median(peers)
        goal = f"; goal <= {GOAL_S:g} s {'met' if med <= GOAL_S else 'NOT met'}" if fmt == "gif" else ""
        mb = os.path.getsize(out_dir / f"steps.{fmt}") / 1e6
        runs = ", ".join(f"{x:.2f}" for x in walls)
        print(f"{fmt}: median {med:.2f} s wall ({statistics.median(cpus):.2f} s CPU) over {args.runs} runs "
              f"[{runs}], {mb:.2f} MB{goal}")
        print(f"    peer (encoding pre-drawn frames): median {peer:.2f} s; ours / peer = {med / peer:.2f}x")
    print(f"load average {os.getloadavg()[0]:.2f} at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
