"""Help ▸ Examples: a small gallery, one picture and one-line lesson per bundled example.

The entries and their order come from :func:`engine.learn.gallery.gallery` (``gallery.json``, whose
lessons are checked against the documents). Each picture is the example drawn by the canvas's
own scene, so it looks exactly like what opens. Choosing one opens it through the window
(``open_example`` or ``open_file``), so the unsaved-changes prompt applies.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QIcon, QImage, QPainter, QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
)

from engine import DocumentError, Graph
from gui import style
from gui.shell.screen_fit import resize_to_screen

# Big enough that the first examples' numbers read at one device pixel per logical one (the
# fan-out, 8 nodes in four columns, needs 0.6 scene units per pixel; QA: the first two
# thumbnails showed names and coloured chips where the lesson's numbers should be).
THUMB = QSize(480, 240)
THUMB_ZOOM_MAX = 1.0  # scene units per logical pixel, at most: the canvas's own size
PATH_ROLE = Qt.ItemDataRole.UserRole


@dataclass(frozen=True)
class Example:
    path: Path
    title: str
    lesson: str


def examples() -> list[Example]:
    """The gallery's examples in teaching order; without a readable gallery list, every bundled
    document with the title and lesson stored in it."""
    try:
        from engine.learn.gallery import gallery

        return [Example(e.path, e.title, e.lesson) for e in gallery()]
    except (ImportError, DocumentError):
        pass
    import resources

    out = []
    for p in resources.examples():
        try:
            g = Graph.load(p)
        except DocumentError:
            continue
        out.append(Example(p, g.meta.get("title") or p.stem.replace("_", " "), g.meta.get("lesson", "")))
    return out


def thumbnail(graph: Graph, size: QSize = THUMB, dpr: float = 1.0) -> QPixmap:
    """The graph drawn by a read-only canvas scene, fitted into ``size`` (logical pixels) at
    ``dpr`` physical pixels per logical one, so it is as sharp as the screen it is shown on."""
    return QPixmap.fromImage(render_thumbnail(graph, size, dpr)[0])


_PICTURES: dict[tuple, QImage] = {}


def example_picture(path: Path, dpr: float = 1.0) -> QImage:
    """The example at ``path`` as :func:`thumbnail` draws it, drawn once per version of the
    file and pixel ratio: reopening the gallery does not load and draw every example again.
    Raises DocumentError as ``Graph.load``."""
    try:
        st = Path(path).stat()
    except OSError:
        return render_thumbnail(Graph.load(path), THUMB, dpr)[0]  # load says why it cannot
    key = (str(path), st.st_mtime_ns, st.st_size, float(dpr))
    picture = _PICTURES.get(key)
    if picture is None:
        picture = _PICTURES[key] = render_thumbnail(Graph.load(path), THUMB, dpr)[0]
    return picture


def render_thumbnail(graph: Graph, size: QSize = THUMB, dpr: float = 1.0) -> tuple[QImage, dict]:
    """:func:`thumbnail`'s picture and, for each node, what its paint drew: ``{id: (form,
    texts)}`` (see ``NodeItem.painted_form``), so a test can tell a legible picture from boxes."""
    from gui.canvas.scene import GraphScene

    scene = GraphScene.drawing(graph)
    dpr = max(1.0, float(dpr))
    image = QImage(QSize(round(size.width() * dpr), round(size.height() * dpr)),
                   QImage.Format.Format_ARGB32_Premultiplied)
    image.setDevicePixelRatio(dpr)
    image.fill(style.BACKGROUND)
    drawn = {}
    try:
        source = scene.items_bounding_rect()
        if not source.isEmpty():
            source = _legible_source(scene, source.adjusted(-12, -12, 12, 12), size, dpr)
            fit = min(size.width() / source.width(), size.height() / source.height())
            if fit > THUMB_ZOOM_MAX:  # a two-node example is not blown up to fill the picture
                c = source.center()
                w, h = size.width() / THUMB_ZOOM_MAX, size.height() / THUMB_ZOOM_MAX
                source = QRectF(c.x() - w / 2, c.y() - h / 2, w, h)
            p = QPainter(image)
            p.setRenderHint(QPainter.RenderHint.Antialiasing)
            p.setRenderHint(QPainter.RenderHint.TextAntialiasing)
            target = QRectF(0, 0, size.width(), size.height())
            scene.render(p, target, source, Qt.AspectRatioMode.KeepAspectRatio)
            p.end()
        drawn = {n: (it.painted_form, list(it.painted_texts)) for n, it in scene.node_items().items()}
    finally:
        scene.clear()
        scene.deleteLater()
    return image, drawn


def _legible_source(scene, whole: QRectF, size: QSize, dpr: float) -> QRectF:
    """The part of the scene a thumbnail shows: all of it if each node can still say what it
    is at that scale, else the part ending at the output at the least scale where it can (a
    picture of unreadable boxes teaches nothing)."""
    from gui.canvas.items import compact_zoom

    fit = min(size.width() / whole.width(), size.height() / whole.height())
    least = compact_zoom(dpr)
    if fit >= least:
        return whole
    w, h = size.width() / least, size.height() / least
    out = scene.graph.evaluated_output()
    item = scene.node_item(out) if out is not None else None
    anchor = item.sceneBoundingRect() if item is not None else whole
    right = min(whole.right(), anchor.right() + 12)
    top = max(whole.top(), min(anchor.center().y() - h / 2, whole.bottom() - h))
    return QRectF(right - w, top, w, h)


class GalleryDialog(QDialog):
    """The list of examples; ``chosen`` is the picked path after Accepted."""

    def __init__(self, parent=None, entries=None):
        super().__init__(parent)
        self.setWindowTitle("Examples")
        self.setObjectName("galleryDialog")
        self.chosen: Path | None = None
        self.entries = list(examples() if entries is None else entries)

        self.list = QListWidget()
        self.list.setObjectName("galleryList")
        self.list.setIconSize(THUMB)
        self.list.setWordWrap(True)
        self.list.setSpacing(4)
        self.list.setAlternatingRowColors(True)
        # A double click emits itemActivated as well as itemDoubleClicked: listening to both
        # opened the example twice (and asked twice about unsaved changes).
        self.list.itemActivated.connect(self._open_item)
        self.problems: list[str] = []
        dpr = self.devicePixelRatioF()
        for e in self.entries:
            item = QListWidgetItem(f"{e.title}\n{e.lesson}")
            item.setData(PATH_ROLE, str(e.path))
            item.setToolTip(f"{e.title}\n{e.lesson}\n{e.path.name}")
            try:
                item.setIcon(QIcon(QPixmap.fromImage(example_picture(e.path, dpr))))
            except DocumentError as err:
                self.problems.append(f"{e.path.name}: {err}")
                item.setToolTip(f"{e.title}\ncannot be opened: {err}")
            self.list.addItem(item)
        if self.list.count():
            self.list.setCurrentRow(0)

        hint = QLabel("Each example teaches one thing about gradients. Double-click one to open it.")
        hint.setWordWrap(True)
        sb = QDialogButtonBox.StandardButton
        self.buttons = QDialogButtonBox(sb.Open | sb.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(hint)
        lay.addWidget(self.list, 1)
        lay.addWidget(self.buttons)
        resize_to_screen(self, 920, 640)

    def paths(self) -> list[Path]:
        return [Path(self.list.item(i).data(PATH_ROLE)) for i in range(self.list.count())]

    def _open_item(self, item: QListWidgetItem):
        self.list.setCurrentItem(item)
        self.accept()

    def accept(self):
        item = self.list.currentItem()
        if item is None:
            return
        self.chosen = Path(item.data(PATH_ROLE))
        super().accept()


def open_example(window, path) -> bool:
    """Open ``path`` in ``window`` as an example (unsaved-changes prompt first)."""
    return bool(window.open_example(path))
