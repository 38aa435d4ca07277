"""gui.draw: inline pictures for notebooks, drawn headless by the app's own canvas."""

from __future__ import annotations

import math
import re
import struct

import pytest

import gui
from engine import Graph, NumberWithGrad, Value
from gui.canvas import draw as draw_module
from tests.oracles import require

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def texts(svg: str) -> list[str]:
    """Every piece of text the SVG draws."""
    return [t.strip() for t in re.findall(r">([^<>]+)</text>", svg) if t.strip()]


def png_size(png: bytes) -> tuple[int, int]:
    assert png.startswith(PNG_MAGIC)
    return struct.unpack(">II", png[16:24])


def lecture_expression():
    a = Value(2.0, label="a")
    b = Value(-3.0, label="b")
    c = Value(10.0, label="c")
    e = a * b
    e.label = "e"
    d = e + c
    d.label = "d"
    f = Value(-2.0, label="f")
    L = d * f  # noqa: N806
    L.label = "L"
    return a, L


def test_svg_and_png_for_jupyter_with_names_legible_at_natural_size(qapp):
    _, L = lecture_expression()
    pic = gui.draw(L)
    svg = pic._repr_svg_()
    png, meta = pic._repr_png_()
    assert svg.startswith("<?xml") and "<svg" in svg
    assert png.startswith(PNG_MAGIC) and len(png) > 1000
    # Shown at its natural size, the PNG is drawn at twice that for sharp text on dense screens.
    w, h = pic.size
    assert (meta["width"], meta["height"]) == (w, h) and png_size(png) == (w * 2, h * 2)
    assert f'viewBox="0 0 {w} {h}"' in svg
    assert {"a", "b", "c", "d", "e", "f", "L"} <= set(texts(svg))
    # Natural size is one SVG unit per pixel; no text is smaller than 10 of them.
    sizes = [float(s) for s in re.findall(r'font-size="([0-9.]+)"', svg)]
    assert sizes and min(sizes) >= 10
    assert pic.nodes == 7 and pic.left_out == 0 and "7 nodes" in repr(pic)


def test_a_value_is_drawn_with_its_own_grads_before_and_after_backward(qapp):
    a, L = lecture_expression()
    before = texts(gui.draw(L).svg)
    assert before.count("0") == 7  # every grad is 0 before backward(), as draw_dot shows it
    L.backward()
    after = texts(gui.draw(L).svg)
    assert "0" not in after and {"6", "−4", "1"} <= set(after)
    L.backward()  # a second pass accumulates; the picture shows what the Values hold
    assert "12" in texts(gui.draw(L).svg) and a.grad == 12.0
    n = NumberWithGrad(3)
    assert "—" in texts(gui.draw(n * 4).svg)  # the seed's "not reached yet"


def test_wire_gradients_on_request(qapp):
    _, L = lecture_expression()
    L.backward()
    plain = texts(gui.draw(L).svg)
    wired = texts(gui.draw(L, wire_grads=True).svg)
    assert not any(t.startswith("←") for t in plain)
    assert {"← 6", "← −4", "← 4"} <= set(wired)


def test_inf_nan_huge_leaves_and_awkward_labels_are_drawn(qapp):
    x1 = Value(math.inf, label="x")
    x2 = Value(10**400, label="x")
    y = Value(math.nan, label="12")
    pic = gui.draw(x1 * x2 + y)
    shown = texts(pic.svg)
    assert {"x", "x (2)", "12", "inf", "NaN"} <= set(shown)
    assert max(len(t) for t in shown) < 200  # 10**400 is not spelled out


def test_a_graph_is_drawn_as_the_app_evaluates_it(qapp, tmp_path):
    g = Graph.from_expression("(a*4+3)*(a+2)", a=3)
    pic = gui.draw(g, wire_grads=True)
    shown = texts(pic.svg)
    assert {"a", "35", "75"} <= set(shown) and "← 20" in shown
    assert pic.save(tmp_path / "g.svg").read_text(encoding="utf-8") == pic.svg
    assert (tmp_path / "g.png").exists() is False
    assert pic.save(tmp_path / "g.png").read_bytes() == pic.png
    with pytest.raises(ValueError, match="png or .svg"):
        pic.save(tmp_path / "g.jpg")


def test_bad_arguments(qapp):
    with pytest.raises(TypeError, match="Value or a Graph"):
        gui.draw(3.0)
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="max_nodes"):
            gui.draw(Value(1.0), max_nodes=bad)


def chain(n):
    x = Value(0.5, label="x")
    y = x
    for _ in range(n - 1):
        y = y * 1.0 if _ % 2 else y + 1.0
    return x, y


def test_a_big_value_is_cut_near_the_output_and_says_so(qapp):
    x, y = chain(101)  # 101 ops, each with a constant: 201 nodes
    y.backward()
    pic = gui.draw(y, max_nodes=20)
    assert pic.nodes == 20 and pic.left_out == 201 - 20
    assert pic.caption.startswith("181 of 201 nodes left out")
    shown = " ".join(texts(pic.svg))
    assert "181 of 201 nodes left out" in shown and draw_module.CUT in shown
    # the caller's Values are untouched by the cut
    assert x.label == "x" and x.grad == 1.0 and y.grad == 1
    g = y.graph()
    assert len(g) == 201


def test_a_big_graph_is_cut_too(qapp):
    _, y = chain(60)
    g = y.graph()
    pic = gui.draw(g, max_nodes=15)
    assert pic.nodes == 15 and pic.left_out == len(g) - 15
    assert f"of {len(g)} nodes left out" in " ".join(texts(pic.svg))


def test_the_mlp_step_graph_is_capped(qapp):
    """micrograd's demo MLP on 100 points: a 66k-node loss. The default cap keeps the picture
    (and the time it takes, measured in benchmarks/mlp_step.py --draw) bounded."""
    import random

    micrograd_nn = require("micrograd.nn")
    import importlib.util

    spec = importlib.util.spec_from_file_location("nn_for_draw", micrograd_nn.__file__)
    nn = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(nn)
    nn.Value = Value
    random.seed(1337)
    model = nn.MLP(2, [16, 16, 1])
    rng = random.Random(0)
    xs = [[rng.uniform(-1, 2), rng.uniform(-1, 1)] for _ in range(100)]
    scores = [model(list(map(Value, x))) for x in xs]
    loss = sum((1 + -s).relu() for s in scores) * 0.01 + 1e-4 * sum(p * p for p in model.parameters())
    loss.backward()
    total = len(loss._topo())
    assert total > 60_000
    pic = gui.draw(loss)
    assert pic.nodes == draw_module.MAX_NODES and pic.left_out == total - draw_module.MAX_NODES
    assert f"{total - draw_module.MAX_NODES:,} of {total:,} nodes left out" in " ".join(texts(pic.svg))
    w, h = png_size(pic.png)
    assert w * h <= draw_module.MAX_PIXELS * 1.01


def test_gui_draw_loads_no_qt_until_it_draws():
    import subprocess
    import sys
    from pathlib import Path

    code = "import sys, gui; gui.draw; assert 'PySide6' not in sys.modules, 'Qt loaded'"
    root = Path(__file__).resolve().parent.parent
    proc = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
