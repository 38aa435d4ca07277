"""One full TensorFlow Playground frame in the window, drawn offscreen (issue 15 point 9).

A frame, as the Train dock plays it: a training epoch at batch 10 (the circle set, 500 points,
250 for training: 25 steps) of a 2-8-8-2 tanh network on a dataset node; the 100x100 output
picture and 25x25 value and gradient pictures of every unit of every node that depends on the
input point (engine); those pictures drawn (the strips under the canvas's nodes, the Data
dock's plane); every number on the canvas repainted from the preview (the
canvas viewport rendered); the Train dock's curves updated and rendered. Median of 15 frames
after 3 warm-up frames, wall and CPU time, with the machine's load printed. Goal: >= 30 frames per second.

    QT_QPA_PLATFORM=offscreen python benchmarks/playground_frame.py
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import gui  # noqa: E402,F401  (pins Qt's None refcount, as the app does)
from engine import training as T  # noqa: E402

WARM, FRAMES = 3, 15


def document():
    d = T.dataset("circle", n=500, noise=0.1, seed=0, split=0.5)
    net = T.build_mlp(d, hidden=[8, 8], activation="tanh", seed=0)
    T.use_dataset_node(net.graph, d)
    net.graph.apply_layout()
    return net.graph


def main() -> int:
    from PySide6.QtWidgets import QApplication

    from gui import MainWindow

    app = QApplication.instance() or QApplication([])
    w = MainWindow(document(), use_settings=False)
    w.resize(1600, 1000)
    w.show()
    app.processEvents()
    tr = w.training
    tr.show_docks()
    panel = tr.train_dock.ensure_panel()
    s = tr.session
    s.settings.batch = 10
    s.set_settings(s.settings)
    assert s.ensure()
    w.view.fit_all()
    app.processEvents()
    s._run_left = None  # noqa: SLF001 - the benchmark drives frames itself, without the timer
    s.playing = True  # as while playing: the canvas shows the trainer's weights through the preview
    names = ("epoch (25 steps)", "pictures (engine)", "pictures drawn", "canvas numbers drawn",
             "curves drawn")
    # Wall time is what the user waits for; CPU time (this process) is the same frame's
    # cost without the other engineers' processes in the way: on the shared 2 cores the two
    # differ by the load, so both are printed.
    wall = {n: [] for n in names}
    cpu = {n: [] for n in names}
    units = 0
    for k in range(WARM + FRAMES):
        marks = [(time.perf_counter(), time.process_time())]
        s.run_frame(budget=float("inf"))
        marks.append((time.perf_counter(), time.process_time()))
        frame = s.pictures.frame()
        marks.append((time.perf_counter(), time.process_time()))
        s.frame = frame
        s.framed.emit(frame)  # strips under the nodes, the Data plane (the Network dock is a tab behind it)
        tr.data_dock.panel.plane.grab()
        marks.append((time.perf_counter(), time.process_time()))
        s._set_preview(s.trainer.values)  # noqa: SLF001 - what a playing frame does
        w.view.viewport().grab()
        marks.append((time.perf_counter(), time.process_time()))
        panel.refresh_curves()
        panel.loss_plot.grab()
        panel.norm_plot.grab()
        marks.append((time.perf_counter(), time.process_time()))
        if k >= WARM:
            for i, name in enumerate(names):
                wall[name].append(marks[i + 1][0] - marks[i][0])
                cpu[name].append(marks[i + 1][1] - marks[i][1])
        units = len(frame.units)
    s.playing = False
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"one Playground frame in the window, offscreen (median of {FRAMES} frames; load average "
          f"{load:.1f} on {os.cpu_count()} cores)")
    print(f"   {'part':24s} {'wall':>9s} {'share':>6s}   {'cpu':>9s} {'share':>6s}")
    tw = sum(statistics.median(v) for v in wall.values())
    tc = sum(statistics.median(v) for v in cpu.values())
    for name in names:
        mw, mc = statistics.median(wall[name]), statistics.median(cpu[name])
        print(f"   {name:24s} {mw * 1e3:6.2f} ms {mw / tw:6.1%}   {mc * 1e3:6.2f} ms {mc / tc:6.1%}")
    t = time.perf_counter()
    tr.network_dock.panel.canvas.grab()
    extra = time.perf_counter() - t
    grads = sum(u.grad is not None for u in frame.units)
    print(f"   {'whole frame':24s} {tw * 1e3:6.2f} ms = {1 / tw:.1f} fps (wall);  {tc * 1e3:.2f} ms = "
          f"{1 / tc:.1f} fps (cpu)   ({units} unit pictures, {grads} with a gradient picture; "
          f"{s.trainer.t} steps)")
    print(f"   goal: >= 30 frames per second: wall {'PASS' if 1 / tw >= 30 else 'MISS'}, "
          f"cpu {'PASS' if 1 / tc >= 30 else 'MISS'}")
    # The dock redraws its curves at most CURVES_HZ times a second while playing: at 30 frames
    # a second that is one frame in three. The goal above counts them in every frame.
    from gui.learn.training.train_dock import CURVES_HZ

    share = min(1.0, CURVES_HZ / 30)
    cw = statistics.median(wall["curves drawn"]) * (1 - share)
    cc = statistics.median(cpu["curves drawn"]) * (1 - share)
    print(f"   as the dock plays it (curves redrawn {CURVES_HZ} times a second): "
          f"{1 / (tw - cw):.1f} fps (wall), {1 / (tc - cc):.1f} fps (cpu)")
    print(f"   (the Network dock, when it is the tab shown, adds {extra * 1e3:.1f} ms a frame)")
    w.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
