"""Animations for the classroom (issue 16, point 6): `gradcanvas animate`, File ▸ Export
Animation and the Descend panel's export.

Oracles: the files are decoded by independent readers (Pillow for GIF and APNG, imageio's
ffmpeg reader for MP4) and their frame counts compared with the step count of a hand
calculation; each decoded frame is matched to the frame the canvas drew for it; the caption
painted into frame k (read back from the same frame drawn as SVG) is compared with step k of
the seed's example worked out by hand below.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from PIL import Image, ImageSequence

import resources
from engine.io import document
from gui import cli
from tests.full_disk import FullDisk

pytestmark = pytest.mark.gui

FANOUT = str(resources.example_path("seed_fanout"))
SIZE = (640, 360)  # the longest caption fits on one line
SIZE_ARG = "640x360"

# e = c·d, c = b + 3, d = a + 2, b = 4·a with a = 3 (b = 12, c = 15, d = 5, e = 75), worked by
# hand: what each node sends back when its step comes, and each input's sum as it grows.
HAND = {
    "e": "e sends 5 back to c: 0 + 5 = 5; 15 back to d: 0 + 15 = 15",
    "c": "c sends 5 back to b: 0 + 5 = 5; 5 back to number#4: 0 + 5 = 5",
    "d": "d sends 15 back to a: 0 + 15 = 15; 15 back to number#6: 0 + 15 = 15",
    "b": "b sends 20 back to a: 15 + 20 = 35; 15 back to number#2: 0 + 15 = 15",
    "a": "a is a number: its gradient 35 is final",
    "number#2": "number#2 is a number: its gradient 15 is final",
    "number#4": "number#4 is a number: its gradient 5 is final",
    "number#6": "number#6 is a number: its gradient 15 is final",
}
START = "backward starts at the output e with gradient 1"
FANOUT_FRAMES = 1 + 8  # step 0 (the seed) and one step for each of the 8 nodes


@pytest.fixture
def full_disk(tmp_path, monkeypatch):
    disk = FullDisk(tmp_path / "disk", monkeypatch)
    disk.mount()
    yield disk
    disk.unmount()


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one_error_line(err: str) -> str:
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("gradcanvas: error: ")
    return lines[0]


def svg_texts(svg: str) -> list[str]:
    return [t.strip() for t in re.findall(r">([^<>]+)</text>", svg) if t.strip()]


def expected_captions(path) -> list[str]:
    """Step k's caption from HAND, in the order the engine processes the nodes."""
    g = document.load(path)
    return [START] + [HAND[g.label(node)] for node, _grad, _sends in g.steps()]


def drawn(path, forward=False):
    """The frames as the canvas draws them (arrays), and the caption painted into each
    (read from the same frame drawn as SVG)."""
    from gui.learn.animation import StepFrames

    with StepFrames(document.load(path), SIZE, forward) as frames:
        pixels = [_array(frames.rgb(i)) for i in range(len(frames))]
        painted = [svg_texts(frames.svg(i)) for i in range(len(frames))]
    return pixels, painted


def _array(rgb) -> np.ndarray:
    w, h, raw = rgb
    return np.frombuffer(raw, np.uint8).reshape(h, w, 3).astype(np.int16)


def nearest(frame: np.ndarray, pixels: list) -> int:
    return int(np.argmin([np.abs(frame - p).mean() for p in pixels]))


def decoded_gif_or_png(path):
    im = Image.open(path)
    frames = [np.asarray(f.convert("RGB"), np.int16) for f in ImageSequence.Iterator(im)]
    durations = [f.info.get("duration") for f in ImageSequence.Iterator(Image.open(path))]
    return frames, durations


def test_gif_one_frame_per_step_caption_k_is_step_k_and_the_last_held(tmp_path, capsys, qapp):
    out = tmp_path / "steps.gif"
    code, said, err = run(capsys, "animate", FANOUT, "-o", str(out), "--size", SIZE_ARG)
    assert code == 0, err
    assert "9 frames" in said
    frames, durations = decoded_gif_or_png(out)
    assert len(frames) == FANOUT_FRAMES
    assert durations == [500] * 8 + [500 + 2000]  # 2 steps a second, the last held 2 s more
    pixels, painted = drawn(FANOUT)
    assert [nearest(f, pixels) for f in frames] == list(range(FANOUT_FRAMES))
    captions = expected_captions(FANOUT)
    for k in range(FANOUT_FRAMES):
        assert captions[k] in painted[k], (k, painted[k])
    # a's gradient slot is empty at the start and reads 35 at the end; the pictures differ there
    assert "35" not in painted[0] and "35" in painted[-1]
    graph_area = slice(0, int(SIZE[1] * 0.85))
    assert np.abs(frames[0][graph_area] - frames[-1][graph_area]).mean() > 1.0


def test_mp4_repeats_the_last_frame_for_two_seconds(tmp_path, capsys, qapp):
    import imageio.v2 as imageio

    out = tmp_path / "steps.mp4"
    code, _, err = run(capsys, "animate", FANOUT, "-o", str(out), "--size", SIZE_ARG, "--fps", "3")
    assert code == 0, err
    reader = imageio.get_reader(str(out), "ffmpeg")
    assert reader.get_meta_data()["fps"] == 3
    frames = [f.astype(np.int16) for f in reader]
    reader.close()
    hold = 2 * 3  # 2 s at 3 frames a second
    assert len(frames) == FANOUT_FRAMES + hold
    pixels, _ = drawn(FANOUT)
    assert [nearest(f, pixels) for f in frames] == list(range(FANOUT_FRAMES)) + [FANOUT_FRAMES - 1] * hold
    assert np.abs(frames[0] - frames[-1]).mean() > 1.0


def test_apng_and_a_folder_of_frames(tmp_path, capsys, qapp):
    apng = tmp_path / "steps.png"
    assert run(capsys, "animate", FANOUT, "-o", str(apng), "--size", SIZE_ARG)[0] == 0
    frames, durations = decoded_gif_or_png(apng)
    assert len(frames) == FANOUT_FRAMES and durations == [500.0] * 8 + [2500.0]
    pixels, _ = drawn(FANOUT)
    assert all(np.array_equal(f, p) for f, p in zip(frames, pixels))  # lossless

    folder = tmp_path / "slides"
    folder.mkdir()
    (folder / "frame_0012.png").write_bytes(b"from a longer animation")
    (folder / "notes.txt").write_text("mine")
    assert run(capsys, "animate", FANOUT, "-o", str(folder), "--size", SIZE_ARG)[0] == 0
    names = sorted(p.name for p in folder.iterdir())
    assert names == [f"frame_{k:04d}.png" for k in range(1, FANOUT_FRAMES + 1)] + ["notes.txt"]
    for k in range(FANOUT_FRAMES):
        got = np.asarray(Image.open(folder / f"frame_{k + 1:04d}.png").convert("RGB"), np.int16)
        assert np.array_equal(got, pixels[k])
    made = str(tmp_path / "new") + "/"  # a path ending in a slash: a new folder
    assert run(capsys, "animate", FANOUT, "-o", made, "--size", SIZE_ARG)[0] == 0
    assert len(list((tmp_path / "new").glob("frame_*.png"))) == FANOUT_FRAMES


def test_forward_prepends_the_forward_pass(tmp_path, capsys, qapp):
    out = tmp_path / "both.gif"
    assert run(capsys, "animate", FANOUT, "-o", str(out), "--size", SIZE_ARG, "--forward")[0] == 0
    frames, _ = decoded_gif_or_png(out)
    assert len(frames) == 2 * FANOUT_FRAMES  # the forward pass's start and 8 steps, then backward's
    _, painted = drawn(FANOUT, forward=True)
    assert "forward pass: no value computed yet" in painted[0]
    # by hand: b = 3 × 4 = 12 (b's inputs are the constant 4 and a) and e = 15 × 5 = 75
    forward_text = [t for texts in painted[:FANOUT_FRAMES] for t in texts]
    assert "e = 15 × 5 = 75" in forward_text
    assert any(re.fullmatch(r"b = (4 × 3|3 × 4) = 12", t) for t in forward_text)
    assert START in painted[FANOUT_FRAMES]
    assert HAND["a"] in painted[-1]


def test_a_descend_run_one_frame_per_step(tmp_path, qapp):
    from engine.learn.descent import descend, plan_descent
    from gui.learn.animation import DescentFrames, export_descent

    path = resources.example_path("perceptron_2layer")
    out = tmp_path / "descent.gif"
    kind, n = export_descent(document.load(path), out, steps=4, lr=0.5, size=SIZE)
    assert (kind, n) == ("gif", 5)
    frames, durations = decoded_gif_or_png(out)
    assert len(frames) == 5 and durations[-1] == 2500
    # frame k shows the document after k steps: compare with the engine's own descent of k steps
    g = document.load(path)
    with DescentFrames(g, plan_descent(g, steps=4, lr=0.5, keep_path=True), SIZE) as drawn_frames:
        for k in range(5):
            after_k = document.load(path)
            loss = descend(after_k, steps=k, lr=0.5).history[-1] if k else after_k.value("loss")
            from gui.style import format_number

            assert f"loss = {format_number(loss)}" in " ".join(svg_texts(drawn_frames.svg(k)))
            assert nearest(frames[k], [_array(drawn_frames.rgb(j)) for j in range(5)]) == k


# ------------------------------------------------------------------ refusals


@pytest.mark.parametrize(
    "argv, words",
    [
        (["-o", "x.avi"], ".gif, .png (animated PNG), .mp4"),
        (["-o", "x.gif", "--size", "10x10"], "outside 64x64"),
        (["-o", "x.gif", "--size", "big"], "WIDTHxHEIGHT"),
        (["-o", "x.gif", "--fps", "0"], "frame rate"),
        (["-o", "x.gif", "--fps", "nan"], "frame rate"),
        (["-o", "x.gif", "--size", "3840x2160", "--forward"], "18 frames of 3840x2160"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, monkeypatch, argv, words):
    monkeypatch.chdir(tmp_path)
    if "3840x2160" in argv:  # 18 frames of 8.3 million px: within 300 million, so shrink the budget
        from gui.learn import movie

        monkeypatch.setattr(movie, "MAX_TOTAL_PIXELS", 100_000_000)
    code, _, err = run(capsys, "animate", FANOUT, *argv)
    assert code == 2
    assert words in one_error_line(err)
    assert list(tmp_path.iterdir()) == []


def test_a_document_over_the_frame_budget_is_refused_before_drawing(tmp_path, capsys):
    n = 1200  # a chain: 1,200 steps, 1,201 frames
    doc = {"format": "gradcanvas", "version": 1,
           "nodes": [{"id": 1, "op": "number", "name": "x", "value": 0.5}]
           + [{"id": i, "op": "neg", "x": 200.0 * i} for i in range(2, n + 1)],
           "edges": [{"source": i - 1, "target": i, "port": 0} for i in range(2, n + 1)]}  # fmt: skip
    src = tmp_path / "chain.json"
    src.write_text(json.dumps(doc))
    out = tmp_path / "chain.gif"
    code, _, err = run(capsys, "animate", str(src), "-o", str(out))
    assert code == 2
    line = one_error_line(err)
    assert "1,201 frames" in line and "at most 1,000 frames" in line
    assert not out.exists()


def test_nothing_to_step(tmp_path, capsys):
    src = tmp_path / "empty.json"
    src.write_text('{"format": "gradcanvas", "version": 1, "nodes": [], "edges": []}')
    code, _, err = run(capsys, "animate", str(src), "-o", str(tmp_path / "x.gif"))
    assert code == 2 and "nothing to step through" in one_error_line(err)


@pytest.mark.parametrize("name", ["steps.gif", "steps.mp4", "slides/"])
def test_a_full_disk_keeps_the_old_animation(full_disk, capsys, qapp, name):
    out = full_disk.folder / name
    target = str(out) + ("/" if name.endswith("/") else "")
    assert run(capsys, "animate", FANOUT, "-o", target, "--size", SIZE_ARG)[0] == 0
    before = {p.name: p.read_bytes() for p in (out.iterdir() if out.is_dir() else [out])}
    full_disk.fill()
    code, _, err = run(capsys, "animate", FANOUT, "-o", target, "--size", SIZE_ARG, "--fps", "1")
    assert code == 2
    assert "No space left on device" in one_error_line(err)
    after = {p.name: p.read_bytes() for p in (out.iterdir() if out.is_dir() else [out])}
    assert after == before  # the old file (or every old frame) as it was, nothing beside it
    assert full_disk.files() == [name.rstrip("/")]


def test_cancel_leaves_the_old_file(tmp_path, qapp):
    from gui.learn.animation import export_steps
    from gui.learn.movie import Cancelled

    out = tmp_path / "steps.gif"
    out.write_bytes(b"old")
    with pytest.raises(Cancelled):
        export_steps(document.load(FANOUT), out, SIZE, progress=lambda done, total: done < 3)
    assert out.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["steps.gif"]


# ------------------------------------------------------------------ in the app


def test_file_export_animation_and_the_descend_panel(tmp_path, qtbot):
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QMessageBox

    import gui
    from gui.shell.animation_dialog import AnimationOptions

    w = gui.MainWindow()
    qtbot.addWidget(w)
    w.ask_unsaved = lambda: QMessageBox.StandardButton.Discard  # the run is an edit
    w.show()
    w.open_file(FANOUT)
    exp = w.experiment
    file_menu = [a.text() for a in w.menus["file"].actions()]
    assert "Export &Animation…" in file_menu
    asked = []

    def ask(what, forward_option=True):
        asked.append((what, forward_option))
        return AnimationOptions(str(target), SIZE, 2.0, False)

    exp.animations.ask = ask
    target = tmp_path / "steps.gif"
    exp.animations.act_export.trigger()
    assert asked == [("the step-through", True)]
    assert Image.open(target).n_frames == FANOUT_FRAMES
    assert "9 frames" in w.statusBar().currentMessage()

    if not exp.act_descent_dock.isChecked():
        exp.act_descent_dock.trigger()  # Ctrl+5: the Descend dock
    exp.descent_dock.raise_()  # its tab in front of the chain rule's
    panel = exp.descent_dock.panel
    qtbot.waitUntil(panel.isVisible)
    assert not panel.export_button.isEnabled()
    panel.animate = False
    panel.steps.setValue(3)
    qtbot.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
    assert panel.export_button.isEnabled()
    target = tmp_path / "descent.gif"
    qtbot.mouseClick(panel.export_button, Qt.MouseButton.LeftButton)
    assert asked[-1] == ("the Descend run", False)
    assert Image.open(target).n_frames == 3 + 1


def test_export_animation_refusal_is_a_message_and_the_dialog_reads_back(tmp_path, qtbot):
    import gui
    from engine import Graph
    from gui.shell.animation_dialog import AnimationDialog

    w = gui.MainWindow(document=Graph())
    qtbot.addWidget(w)
    errors = []
    w.show_error = lambda title, text: errors.append(text)
    assert not w.experiment.animations.export()
    assert errors and "nothing to step through" in errors[0]

    d = AnimationDialog(w, tmp_path, "fanout", "the step-through")
    qtbot.addWidget(d)
    assert d.path.text() == str(tmp_path / "fanout.gif")
    d.format.setCurrentIndex(3)  # PNG frames in a folder
    assert d.path.text() == str(tmp_path / "fanout") + "/"
    d.format.setCurrentIndex(2)
    d.width_box.setValue(640)
    d.height_box.setValue(360)
    d.fps.setValue(4)
    d.forward.setChecked(True)
    o = d.options()
    assert (o.path, o.size, o.fps, o.forward) == (str(tmp_path / "fanout.mp4"), (640, 360), 4.0, True)


def test_a_node_far_out_is_refused_by_the_app_too(tmp_path, qtbot):
    import gui
    from engine import Graph
    from gui.shell.animation_dialog import AnimationOptions

    g = Graph.from_expression("-a", a=3)
    g.set_position("a", 1e9, 0)
    w = gui.MainWindow(document=g)
    qtbot.addWidget(w)
    errors = []
    w.show_error = lambda title, text: errors.append(text)
    out = tmp_path / "far.gif"
    assert not w.experiment.animations.export(AnimationOptions(str(out), SIZE))
    assert len(errors) == 1 and "node a" in errors[0] and "far from the others" in errors[0]
    assert not out.exists()
