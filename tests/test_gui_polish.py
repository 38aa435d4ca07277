"""What a QA engineer saw in a real X window, each seen the way the user saw it, each fixed."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication, QMessageBox

from engine import Graph
from gui.learn.experiment import install
from gui.shell.main_window import MainWindow

pytestmark = pytest.mark.gui
EXAMPLES = sorted(p for p in (Path(__file__).resolve().parents[1] / "resources" / "examples").glob("*.json")
                  if p.name != "gallery.json")


def _window(qtbot, w=1280, h=800, graph=None):
    win = MainWindow(graph, use_settings=False)
    win.ask_unsaved = lambda: QMessageBox.Discard
    win.show_error = lambda title, text: None
    install(win)
    qtbot.addWidget(win)
    win.resize(w, h)
    win.show()
    qtbot.waitExposed(win)
    return win


@pytest.fixture
def win(qtbot):
    w = _window(qtbot)
    yield w
    w.experiment.step.stop()


def test_adding_a_number_does_not_ask_to_wire_its_inputs(win):
    win.add_at_view_centre("number")
    said = win.statusBar().currentMessage()
    assert "inputs" not in said and "value" in said
    win.add_at_view_centre("mul")
    assert "wire its inputs" in win.statusBar().currentMessage()


_DIALOGS = """
import os, sys
sys.path.insert(0, {root!r})
from PySide6.QtWidgets import QApplication
from gui.shell.main_window import MainWindow
from gui.shell.gallery_dialog import GalleryDialog
from gui.shell.import_dialog import ImportDialog
app = QApplication([])
w = MainWindow(use_settings=False)
w.show()
free = w.screen().availableGeometry()
print(free.width(), free.height())
for d in (GalleryDialog(w), ImportDialog(w)):
    d.show()
    app.processEvents()
    b = d.buttons.geometry()
    print(type(d).__name__, d.frameGeometry().width(), d.frameGeometry().height(), b.bottom(), d.height())
"""


@pytest.mark.parametrize("scale", ["1", "2"])
def test_dialogs_fit_the_screen_at_any_scale_factor(tmp_path, scale):
    # QA: at QT_SCALE_FACTOR=2 the Examples dialog was taller than the screen; Open and Cancel
    # were below its edge. The offscreen screen is 800x800 device pixels (400x400 logical at 2).
    import os
    import subprocess
    import sys

    script = tmp_path / "dialogs.py"
    script.write_text(_DIALOGS.format(root=str(Path(__file__).resolve().parents[1])))
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", QT_SCALE_FACTOR=scale)
    r = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60, env=env)
    assert r.returncode == 0, r.stderr[-2000:]
    lines = r.stdout.split("\n")
    free_w, free_h = map(int, lines[0].split())
    for line in lines[1:3]:
        name, w, h, buttons_bottom, inner_h = line.split()
        assert int(w) <= free_w and int(h) <= free_h, line
        assert int(buttons_bottom) < int(inner_h), line  # Open / OK and Cancel are on the screen


def _seen(win):
    return win.view.mapToScene(win.view.viewport().rect()).boundingRect()


def _opening_is_readable_and_honest(win):
    from gui.canvas.items import readable_zoom

    g, view = win.document, win.view
    assert view.zoom() >= readable_zoom(1.0, margin=1.0) - 1e-9  # node text >= 7 px
    seen, whole = _seen(win), win.scene.items_bounding_rect()
    fits = min(view.viewport().width() / whole.width(), view.viewport().height() / whole.height())
    rects = {n: it.sceneBoundingRect() for n, it in win.scene.node_items().items()}
    if fits >= readable_zoom(1.0, margin=1.0) * 1.1:  # the whole document fits with readable text
        assert all(seen.contains(r) for r in rects.values()), "everything is in view"
    assert seen.contains(rects[g.evaluated_output()]), "the output is in view, whole"
    for n, b in rects.items():  # nothing cut in half by the left or right edge
        if b.bottom() > seen.top() and b.top() < seen.bottom():
            assert not (b.left() < seen.left() < b.right() or b.left() < seen.right() < b.right()), g.label(n)


@pytest.mark.parametrize("size", [(720, 540), (800, 600), (1600, 1000)], ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("path", [None, *EXAMPLES], ids=lambda p: "builtin" if p is None else p.stem)
def test_a_document_opens_readable_whole_if_it_fits_else_around_the_output(qtbot, size, path):
    g = None if path is None else Graph.load(path)
    win = _window(qtbot, *size, graph=g)
    qtbot.wait(30)
    QApplication.processEvents()
    assert win.width() == size[0]
    _opening_is_readable_and_honest(win)
    if path is None and size[0] <= 800:
        # QA: at 800x600 the built-in lesson opened without `a`, the node it is about
        assert _seen(win).contains(win.scene.node_item(win.document.resolve("a")).sceneBoundingRect())
        assert all(_seen(win).contains(it.sceneBoundingRect()) for it in win.scene.node_items().values())


def test_micrograd_sanity_opens_without_x_cut_in_half(qtbot):
    win = _window(qtbot, 1280, 800, graph=Graph.load(EXAMPLES[0].parent / "micrograd_sanity.json"))
    qtbot.wait(30)
    _opening_is_readable_and_honest(win)


def test_a_restored_document_opens_at_a_readable_zoom(qtbot, tmp_path, monkeypatch):
    from gui.shell import session as S

    monkeypatch.setattr(S, "recovery_dir", lambda: tmp_path)
    big = Graph.load(EXAMPLES[0].parent / "perceptron_2layer.json")
    big.save(tmp_path / "4242424-abcdef.json")  # left by a session that is gone (no lock held)
    win = _window(qtbot, 1280, 800)
    win._use_settings = True
    win.ask_restore = lambda found: True
    assert win.offer_recovery()
    assert len(win.document) == len(big)
    _opening_is_readable_and_honest(win)
