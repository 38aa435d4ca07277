"""Pictures are bounded and atomic (issue 13, point 10): `gradcanvas render`, File ▸ Export
Picture and `gui.draw(...).save(...)` draw far-apart documents smaller or refuse them in one
line with exit 2, refuse a million-node chain before building it, and on a full disk leave the
old picture and no partial or temporary file.

The budget under test is the one the README states: at most 16,384 px a side and 64 million
px, drawn at no less than 1/32 of its size, at most 50,000 nodes.
"""

from __future__ import annotations

import json

import pytest
from PySide6.QtGui import QImage

import resources
from engine import Graph
from gui import cli
from tests.full_disk import FullDisk

pytestmark = pytest.mark.gui

FANOUT = str(resources.example_path("seed_fanout"))
README_SIDE, README_PIXELS = 16_384, 64_000_000


@pytest.fixture
def full_disk(tmp_path, monkeypatch):
    disk = FullDisk(tmp_path / "disk", monkeypatch)
    disk.mount()
    yield disk
    disk.unmount()


def two_nodes(tmp_path, x, y=0.0):
    """a = 3 at the origin and b = -a at (x, y): a 200-byte document."""
    doc = {"format": "gradcanvas", "version": 1, "output": 2,
           "nodes": [{"id": 1, "op": "number", "name": "a", "value": 3, "x": 0, "y": 0},
                     {"id": 2, "op": "neg", "name": "b", "x": x, "y": y}],
           "edges": [{"source": 1, "target": 2, "port": 0}]}  # fmt: skip
    p = tmp_path / f"far_{x:g}.json"
    p.write_text(json.dumps(doc))
    return str(p)


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one_error_line(err: str) -> str:
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("gradcanvas: error: ")
    return lines[0]


def test_nodes_15000_apart_are_drawn_smaller_within_the_budget(tmp_path, capsys, qapp):
    out = tmp_path / "far.png"
    code, _, err = run(capsys, "render", two_nodes(tmp_path, 15_000, 15_000), "-o", str(out))
    assert code == 0, err
    image = QImage(str(out))
    # At the usual 2 px a unit this was a 30,432 x 30,324 picture (922 million px).
    assert image.width() <= README_SIDE and image.height() <= README_SIDE
    assert image.width() * image.height() <= README_PIXELS
    # ... drawn as large as the budget allows: 15,000+ units a side at about 0.5 px a unit
    assert image.width() * image.height() > README_PIXELS * 0.9


@pytest.mark.parametrize("x", [1e9, 1e308])
@pytest.mark.parametrize("suffix", [".png", ".svg"])
def test_a_node_far_out_is_refused_in_one_line_and_the_old_picture_stays(tmp_path, capsys, qapp, x, suffix):
    out = tmp_path / f"old{suffix}"
    assert run(capsys, "render", FANOUT, "-o", str(out))[0] == 0
    before = out.read_bytes()
    code, _, err = run(capsys, "render", two_nodes(tmp_path, x), "-o", str(out))
    assert code == 2
    line = one_error_line(err)
    assert "node b" in line and "far" in line  # names the node that is out there
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([out.name, f"far_{x:g}.json"])


def test_a_million_node_chain_is_refused_before_it_is_built(tmp_path, capsys, qapp, monkeypatch):
    n = 1_000_000
    nodes = ",".join(f'{{"id":{i},"op":"neg"}}' for i in range(2, n + 1))
    edges = ",".join(f'{{"source":{i - 1},"target":{i},"port":0}}' for i in range(2, n + 1))
    src = tmp_path / "chain.json"
    src.write_text('{"format":"gradcanvas","version":1,"nodes":[{"id":1,"op":"number","value":0.5},'
                   f"{nodes}],\"edges\":[{edges}]}}")  # fmt: skip
    from engine.io import document

    def never(*a, **k):
        raise AssertionError("the document was validated and built before it was refused")

    monkeypatch.setattr(document, "from_dict", never)
    out = tmp_path / "chain.png"
    out.write_bytes(b"old picture")
    code, _, err = run(capsys, "render", str(src), "-o", str(out))
    assert code == 2
    line = one_error_line(err)
    assert "1,000,000 nodes" in line and "50,000" in line
    assert out.read_bytes() == b"old picture"


@pytest.mark.parametrize("suffix", [".png", ".svg"])
def test_render_on_a_full_disk_keeps_the_old_picture(full_disk, capsys, qapp, suffix):
    out = full_disk.folder / f"pic{suffix}"
    assert run(capsys, "render", FANOUT, "-o", str(out))[0] == 0
    before = out.read_bytes()
    full_disk.fill()
    code, _, err = run(capsys, "render", FANOUT, "-o", str(out))
    assert code == 2
    line = one_error_line(err)
    assert "No space left on device" in line and str(out) in line
    assert out.read_bytes() == before
    assert full_disk.files() == [out.name]  # no temporary file, no 0-byte file


def test_gui_draw_save_on_a_full_disk_keeps_the_old_picture(full_disk, qapp):
    import gui

    out = full_disk.folder / "draw.svg"
    drawing = gui.draw(Graph.from_expression("(a*4+3)*(a+2)", a=3))
    drawing.save(out)
    before = out.read_bytes()
    full_disk.fill()
    with pytest.raises(OSError) as info:
        drawing.save(out)
    assert str(info.value) == f"cannot write '{out}': No space left on device"
    assert out.read_bytes() == before
    assert full_disk.files() == ["draw.svg"]


def test_gui_draw_refuses_a_graph_with_a_node_far_out(qapp):
    import gui

    g = Graph.from_expression("-a", a=3)
    g.set_position("a", 1e9, 0)
    with pytest.raises(ValueError, match="node a .* far from the others"):
        gui.draw(g)


def test_export_picture_in_the_app_refuses_or_keeps_the_old_file(full_disk, qtbot, tmp_path):
    import gui

    w = gui.MainWindow()
    qtbot.addWidget(w)
    errors = []
    w.show_error = lambda title, text: errors.append(text)
    out = full_disk.folder / "canvas.png"
    assert w.export_picture(str(out))
    before = out.read_bytes()
    full_disk.fill()
    assert not w.export_picture(str(out))
    assert len(errors) == 1 and "No space left on device" in errors[0]
    assert out.read_bytes() == before and full_disk.files() == ["canvas.png"]

    assert w.open_file(two_nodes(tmp_path, 1e9))
    assert not w.export_picture(str(tmp_path / "far.png"))
    assert len(errors) == 2 and "1/32" in errors[1] and "Auto-Layout" in errors[1]
    assert not (tmp_path / "far.png").exists()
