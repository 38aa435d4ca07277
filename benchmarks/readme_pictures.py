"""The README's pictures: the window screenshot, the step-mode picture and the Descend panel,
the tensor tour, the spiral mid-training, and the step-through GIF.

    QT_QPA_PLATFORM=offscreen python benchmarks/readme_pictures.py [--out docs] [--only gif|training]

Tooling for the documentation, kept out of the runtime modules: it drives a real MainWindow
(private settings: nothing is read or written) the way a user would, then saves what it shows.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gui.canvas.render import ensure_app, render_scene  # noqa: E402
from gui.learn.experiment import install  # noqa: E402
from gui.shell.app import apply_style  # noqa: E402
from gui.shell.main_window import MainWindow  # noqa: E402


def render_window(out_path, document=None, size=(1400, 850), select=None) -> Path:
    """A PNG of the whole main window on ``document`` (default: the built-in example), as a
    user sees it at first, optionally with the node ``select`` (id or name) selected so the
    inspector shows it; for README screenshots. Settings are neither read nor written."""
    out = Path(out_path)
    if out.suffix.lower() != ".png":
        raise ValueError(f"cannot write a window screenshot to '{out}': use a .png file")
    app = ensure_app()
    from PySide6.QtCore import QCoreApplication
    from PySide6.QtGui import QPalette

    # Look like the app, then give a caller's running application its own look back.
    saved = (app.styleSheet(), QPalette(app.palette()), app.style().name())
    apply_style(app)
    window = MainWindow(document, use_settings=False)
    window.resize(*size)
    window.show()
    for _ in range(3):
        QCoreApplication.processEvents()
    if select is not None:
        window.scene.select_nodes([window.document.resolve(select)])
    window.view.fit_all()
    QCoreApplication.processEvents()
    try:
        if not window.grab().save(str(out), "PNG"):
            raise OSError(f"cannot write '{out}'")
    finally:
        window.undo_stack.setClean()  # nothing to ask about: this window was never edited
        window.close()
        window.deleteLater()
        app.setStyleSheet(saved[0])
        app.setPalette(saved[1])
        app.setStyle(saved[2])
    return out



def tour_pictures(folder) -> tuple:
    """Write ``step.png`` (the seed example mid-step, where a gradient grows by a second
    term) and ``descent.png`` (the Descend panel after a run) into ``folder``, for the README's
    feature tour. Uses a private window; nothing is read from or written to the settings."""
    from pathlib import Path

    from PySide6.QtWidgets import QApplication

    from engine import Graph

    out = Path(folder)
    window = MainWindow(use_settings=False)
    exp = install(window)
    try:
        window.resize(1300, 800)
        window.show()
        QApplication.processEvents()
        steps = window.document.steps()
        # The first step whose amount lands on a sum that already holds something: "15 + 20 = 35".
        k = next((i + 1 for i, (_n, _g, sends) in enumerate(steps) if any(s[3] is not None for s in sends)),
                 max(1, len(steps) // 2))
        exp.step.start()
        exp.step.go_to(k)
        step_png = render_scene(window.scene, out / "step.png")
        exp.step.stop()

        window.replace_document(Graph.from_expression("(x - 3)**2 + (y + 1)**2", x=0, y=0))
        dock = exp.descent_dock
        dock.show()
        dock.setFloating(True)
        dock.resize(380, 600)
        panel = dock.panel
        panel.animate = False
        panel.lr.setValue(0.05)
        panel.steps.setValue(60)
        panel.run()
        QApplication.processEvents()
        descent_png = out / "descent.png"
        if not dock.grab().save(str(descent_png), "PNG"):
            raise OSError(f"cannot write '{descent_png}'")
    finally:
        window.undo_stack.setClean()
        window.close()
        window.deleteLater()
    return step_png, descent_png


def tensor_pictures(folder) -> tuple:
    """Write ``tensor_broadcast.png`` (x + b mid-step: b's gradient arrives summed over the
    broadcast axis) and ``tensor_mlp.png`` (the XOR MLP mid-step: every array's gradient so
    far as a grid or heatmap) into ``folder``, for the README's tour."""
    from PySide6.QtWidgets import QApplication

    from engine.learn.gallery import tensor_gallery

    out = Path(folder)
    entries = {e.file: e for e in tensor_gallery()}
    written = []
    for file, png, k in (("broadcast_bias.json", "tensor_broadcast.png", 2),
                         ("xor_mlp.json", "tensor_mlp.png", 5)):
        window = MainWindow(use_settings=False)
        exp = install(window)
        try:
            window.resize(1400, 900)
            window.show()
            window.open_file(entries[file].path)
            window.scene.set_show_wire_grads(True)
            QApplication.processEvents()
            exp.step.start()
            exp.step.go_to(k)  # mid-step: some gradients final, some still empty slots
            written.append(render_scene(window.scene, out / png))
            exp.step.stop()
        finally:
            window.undo_stack.setClean()
            window.close()
            window.deleteLater()
    return tuple(written)


def step_through_gif(folder) -> Path:
    """``step_through.gif``: the built-in example's backward pass, one frame a step, as
    ``gradcanvas animate`` writes it (960x540, a step a second)."""
    from gui.learn.animation import export_steps
    from gui.shell.files import builtin_document

    out = Path(folder) / "step_through.gif"
    export_steps(builtin_document(), out, (960, 540), fps=1.0)
    return out


def backward_graph_picture(out_dir) -> Path:
    """docs/backward_graph.png: the built-in example with Learn ▸ Show Backward Graph, the
    canvas alone (render_scene), as the README shows it."""
    from PySide6.QtCore import QCoreApplication

    window = MainWindow(None, use_settings=False)
    window.resize(1400, 900)
    window.show()
    QCoreApplication.processEvents()
    window.higher.backward.act_show.trigger()
    QCoreApplication.processEvents()
    try:
        return render_scene(window.scene, Path(out_dir) / "backward_graph.png")
    finally:
        window.undo_stack.setClean()
        window.close()
        window.deleteLater()


def training_picture(folder) -> Path:
    """Write ``training_spiral.png``: the window on Playground's spiral example after 60 steps
    played from the Train dock, the canvas on z2 and h2 with each unit's picture and gradient
    picture beside its node. Uses a private window; settings are neither read nor written."""
    from PySide6.QtCore import QPointF
    from PySide6.QtWidgets import QApplication

    app = ensure_app()
    apply_style(app)
    out = Path(folder) / "training_spiral.png"
    window = MainWindow(use_settings=False)
    try:
        window.resize(1600, 1000)
        window.show()
        QApplication.processEvents()
        root = Path(__file__).resolve().parents[1]
        if not window.open_example(root / "resources" / "examples" / "train_spiral.json"):
            raise OSError("cannot open the spiral example")
        tr = window.training
        tr.show_docks()
        panel = tr.train_dock.ensure_panel()
        panel.limit_kind.setCurrentIndex(1)  # steps
        panel.limit.setValue(60)
        session = tr.session
        if not session.play():
            raise RuntimeError("the spiral example does not train")
        while session.playing:
            QApplication.processEvents()
        g = window.document
        view = window.view
        view.zoom_by(1.0 / view.zoom())
        a, b = (window.scene.node_item(g.resolve(n)) for n in ("z2", "h2"))
        mid = (a.sceneBoundingRect().center() + b.sceneBoundingRect().center()) / 2
        view.centerOn(mid + QPointF(0, 60))
        for _ in range(5):
            QApplication.processEvents()
        if not window.grab().save(str(out), "PNG"):
            raise OSError(f"cannot write '{out}'")
    finally:
        window.close()
    return out


def composites_picture(folder) -> Path:
    """``composites.png``: micrograd's MLP (engine.nn, MLP(2, [3, 1]) on one point) collapsed
    to its parameter bank and one instance, beside the inside of one of its neurons entered
    with that neuron's live values and gradients."""
    import random

    from PySide6.QtCore import QRectF, Qt
    from PySide6.QtGui import QColor, QFont, QImage, QPainter

    from engine import Value
    from engine.nn import MLP
    from gui import style

    random.seed(1337)
    model = MLP(2, [3, 1])
    score = model([Value(0.5), Value(-1.0)])
    loss = (1 + -1 * score).relu()
    loss.name = "loss"
    g = loss.graph()
    ensure_app()
    apply_style(ensure_app())
    w = MainWindow(g, use_settings=False)
    w.resize(1400, 900)
    w.show()
    g = w.document
    mlp = next(n for n in g.nodes() if g.op(n) == "call" and g.arity(n))
    # the first hidden layer of this call of the network, and its first neuron
    body = g.definition_of(mlp).body
    layer = next(n for n in body.nodes() if body.op(n) == "call")
    lbody = body.definition_of(layer).body
    neuron = next(n for n in lbody.nodes() if lbody.op(n) == "call")
    left = Path(folder) / "_composites_top.png"
    right = Path(folder) / "_composites_neuron.png"
    render_scene(w.scene, left, scale=1.0)
    w.enter_instance((mlp, layer, neuron))
    render_scene(w.canvas_area.scene_shown(), right, scale=1.0)
    a, b = QImage(str(left)), QImage(str(right))
    head = 40
    out_img = QImage(a.width() + b.width() + 30, max(a.height(), b.height()) + head,
                     QImage.Format.Format_RGB32)
    out_img.fill(style.BACKGROUND)
    p = QPainter(out_img)
    p.setRenderHint(QPainter.RenderHint.TextAntialiasing)
    p.setPen(QColor("#e8eaee"))
    p.setFont(QFont(p.font().family(), 13, QFont.Weight.Bold))
    p.drawText(QRectF(12, 0, a.width(), head), Qt.AlignmentFlag.AlignVCenter,
               "micrograd's MLP, collapsed: one parameter bank, one call of the network")
    p.drawText(QRectF(a.width() + 42, 0, b.width(), head), Qt.AlignmentFlag.AlignVCenter,
               "Tab in ▸ layer ▸ neuron: its live gradients")
    p.drawImage(0, head, a)
    p.fillRect(a.width() + 14, head, 2, out_img.height() - head, QColor("#454c58"))
    p.drawImage(a.width() + 30, head, b)
    p.end()
    out = Path(folder) / "composites.png"
    out_img.save(str(out))
    left.unlink()
    right.unlink()
    w.ask_unsaved = lambda: None
    w.close()
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "docs"))
    parser.add_argument("--only", choices=["gif", "training", "backward", "composites"],
                        help="write only this picture")
    args = parser.parse_args(argv)
    ensure_app()
    out = Path(args.out)
    if args.only == "training":
        print(training_picture(out))
        return 0
    if args.only == "composites":
        print(composites_picture(out))
        return 0
    if args.only == "backward":
        print(backward_graph_picture(out))
        return 0
    gif = step_through_gif(out)
    print(gif)
    if args.only:
        return 0
    shot = render_window(out / "screenshot.png", select="a")
    step, descent = tour_pictures(out)
    tensors = tensor_pictures(out)
    for p in (shot, step, descent, *tensors, training_picture(out), backward_graph_picture(out),
              composites_picture(out)):
        print(p)
    return 0


if __name__ == "__main__":
    sys.exit(main())
