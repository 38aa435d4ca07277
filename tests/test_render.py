"""`gradcanvas render` of every bundled example: real pictures, of the right size, with the
value-green and gradient-red of the canvas in them; SVGs that parse."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from PySide6.QtGui import QColor, QImage

import resources
from engine import Graph
from engine.io.document import load
from gui import cli, style
from gui.canvas import render
from gui.shell import files

pytestmark = pytest.mark.gui

EXAMPLES = [path for _, path in files.examples()]  # every document in resources/examples


def _near(c: QColor, target: QColor, tol: int = 40) -> bool:
    return (
        abs(c.red() - target.red()) <= tol
        and abs(c.green() - target.green()) <= tol
        and abs(c.blue() - target.blue()) <= tol
    )


def _colour_stats(image: QImage, step: int | None = None):
    """Distinct colours and counts of value-green and grad-red pixels, from a grid of samples
    (about 80,000 of them, so that big documents stay quick to check)."""
    if step is None:
        step = max(1, round((image.width() * image.height() / 80_000) ** 0.5))
    colours, green, red = set(), 0, 0
    for y in range(0, image.height(), step):
        for x in range(0, image.width(), step):
            c = image.pixelColor(x, y)
            colours.add(c.rgb())
            green += _near(c, style.VALUE)
            red += _near(c, style.GRAD)
    return colours, green, red


def _expected_size(path) -> tuple[int, int]:
    import shiboken6

    from gui.canvas.scene import GraphScene

    render.ensure_app()
    scene = GraphScene.drawing(load(path))  # read-only: no controller, no undo stack
    try:
        return render.picture_size(scene)
    finally:
        shiboken6.delete(scene)


def test_there_are_examples():
    assert len(EXAMPLES) >= 1
    assert resources.example_path("seed_fanout") in EXAMPLES


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_render_png_of_every_example(example, tmp_path, qapp):
    out = tmp_path / f"{example.stem}.png"
    assert cli.main(["render", str(example), "-o", str(out)]) == 0
    image = QImage(str(out))
    assert not image.isNull()
    assert (image.width(), image.height()) == _expected_size(example)
    colours, green, red = _colour_stats(image)
    assert len(colours) > 10
    assert green > 20, "no value-green text"
    assert red > 20, "no gradient-red text"


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_render_svg_of_every_example(example, tmp_path, qapp):
    out = tmp_path / f"{example.stem}.svg"
    assert cli.main(["render", str(example), "-o", str(out)]) == 0
    root = ET.parse(out).getroot()
    assert root.tag.endswith("svg")
    text = out.read_text(encoding="utf-8")
    assert style.VALUE.name() in text.lower() and style.GRAD.name() in text.lower()


def test_render_graph_leaves_the_callers_graph_alone(tmp_path, qapp):
    g = Graph.from_expression("(a*4+3)*(a+2)", a=3)
    before = g.to_dict()
    out = render.render_graph(g, tmp_path / "x.png", scale=1.0)
    assert out.is_file()
    assert g.to_dict() == before and g._subscribers == []
    assert g.grad("a") == 35


def test_unsupported_suffix_is_a_value_error(tmp_path, qapp):
    ex = str(resources.example_path("seed_fanout"))
    with pytest.raises(ValueError, match=r"\.png or \.svg"):
        render.render_file(ex, tmp_path / "out.jpg")
    assert cli.main(["render", ex, "-o", str(tmp_path / "out.jpg")]) == 2
    assert not (tmp_path / "out.jpg").exists()


def test_bad_document_is_refused(tmp_path, qapp):
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    assert cli.main(["render", str(bad), "-o", str(tmp_path / "out.png")]) == 2


def test_render_empty_graph(tmp_path, qapp):
    out = render.render_graph(Graph(), tmp_path / "empty.png")
    assert not QImage(str(out)).isNull()


def test_render_window_screenshot(tmp_path, qapp):
    from benchmarks.readme_pictures import render_window  # README tooling, not a runtime module

    out = render_window(tmp_path / "window.png", size=(1000, 700), select="a")
    image = QImage(str(out))
    assert (image.width(), image.height()) == (1000, 700)
    colours, green, red = _colour_stats(image, step=1)
    assert green > 10 and red > 10
