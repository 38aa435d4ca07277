"""The Data dock: the training and test points over the input plane with the network's output
under them (the decision boundary, or the regression surface), as TensorFlow Playground
shows its data; a chooser that regenerates the dataset node's recipe; CSV import; and
points added and removed by clicking.

Clicks edit the dataset node (each one undo step; the dataset then holds its points inline):
a left click adds a point of the class chosen under the plane, a right click one of the
next class (Playground's two colours with the two buttons), Shift adds it to the test
points, and a click on a point removes it. For regression the target is the value chosen
(right click: its negative). Data held in plain number nodes (``X``, ``y``) are shown but
not edited: the dock says how to make them a dataset node.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from engine import GraphError
from engine.training import GENERATORS, MULTICLASS, DataError, dataset_of, dataset_params
from engine.training.setup import data_nodes
from gui import style
from gui.learn.training.colours import class_qcolor, output_pixels, to_image

HIT_PX = 7.0  # a click this close to a point removes it
POINT_R = 3.6


@dataclass
class Points:
    """What the plane draws: training and test points (first two columns), their targets,
    the number of classes (None: regression), the plane's extent, and the dataset node
    (None when the data are plain number nodes)."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    classes: int | None
    extent: tuple
    node: int | None


def document_points(graph) -> Points | None:
    """The points of the document's data (its dataset node, else X and y), or None."""
    try:
        data, test = data_nodes(graph)
    except (GraphError, ValueError):
        return None
    node = data[0][0] if graph.op(data[0][0]) == "dataset" else None
    if node is not None:
        d = dataset_of(graph, node)
        return Points(d.X_train, d.y_train, d.X_test, d.y_test, d.classes, d.extent, node)
    X = graph.number(data[0][0])
    y = np.asarray(graph.number(data[1][0]))
    if test is not None:
        Xt, yt = graph.number(test[0][0]), np.asarray(graph.number(test[1][0]))
    else:
        Xt, yt = X[:0], y[:0]
    if X.ndim != 2 or X.shape[1] < 2 or len(y) != len(X):
        return None
    classes = int(y.max()) + 1 if y.dtype.kind in "iu" and len(y) else None
    lo, hi = X[:, :2].min(axis=0), X[:, :2].max(axis=0)
    pad = np.maximum((hi - lo) * 0.1, 1e-3)
    extent = (lo[0] - pad[0], hi[0] + pad[0], lo[1] - pad[1], hi[1] + pad[1])
    return Points(X, y, Xt, yt, classes, tuple(float(v) for v in extent), None)


class PlaneWidget(QWidget):
    """The input plane: the output picture under the points. ``clicked(x1, x2, button,
    shift)`` in data coordinates."""

    clicked = Signal(float, float, object, bool)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("dataPlane")
        self.points: Points | None = None
        self.frame = None
        self._image = None
        self._image_key = None
        self._layer = None  # the points, drawn once (see _points_layer)
        self._layer_key = None
        self.setMinimumSize(180, 180)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMouseTracking(True)
        self.setToolTip("Left click: add a point of the chosen class · right click: the next class · "
                        "Shift: to the test points · click a point: remove it")

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(280, 280)

    def heightForWidth(self, w: int) -> int:  # noqa: N802
        return w

    def set_points(self, points: Points | None) -> None:
        self.points = points
        self.update()

    def set_frame(self, frame) -> None:
        self.frame = frame
        self._image = None
        self.update()

    def extent(self) -> tuple:
        if self.frame is not None:
            return self.frame.extent
        return self.points.extent if self.points is not None else (-6.0, 6.0, -6.0, 6.0)

    def plot_rect(self) -> QRectF:
        side = max(10.0, min(self.width(), self.height()) - 12.0)
        return QRectF((self.width() - side) / 2, (self.height() - side) / 2, side, side)

    def to_screen(self, x1, x2) -> tuple:
        r = self.plot_rect()
        e = self.extent()
        sx = r.left() + (np.asarray(x1) - e[0]) / (e[1] - e[0]) * r.width()
        sy = r.top() + (e[3] - np.asarray(x2)) / (e[3] - e[2]) * r.height()
        return sx, sy

    def to_data(self, px: float, py: float) -> tuple[float, float]:
        r = self.plot_rect()
        e = self.extent()
        return (e[0] + (px - r.left()) / r.width() * (e[1] - e[0]),
                e[3] - (py - r.top()) / r.height() * (e[3] - e[2]))

    def point_at(self, px: float, py: float):
        """("train" | "test", index) of the point within HIT_PX pixels, or None."""
        p = self.points
        if p is None:
            return None
        best = None
        for split, X in (("train", p.X_train), ("test", p.X_test)):
            if not len(X):
                continue
            sx, sy = self.to_screen(X[:, 0], X[:, 1])
            d = np.hypot(sx - px, sy - py)
            k = int(np.argmin(d))
            if d[k] <= HIT_PX and (best is None or d[k] < best[2]):
                best = (split, k, d[k])
        return None if best is None else best[:2]

    def _output_image(self):
        f = self.frame
        if f is None or f.output is None:
            return None
        key = id(f)
        if self._image is None or self._image_key != key:
            classes = self.points.classes if self.points is not None else None
            self._image = to_image(output_pixels(f.output, f.predicted, classes))
            self._image_key = key
        return self._image

    def paintEvent(self, event):  # noqa: N802
        p = QPainter(self)
        p.fillRect(self.rect(), style.BACKGROUND)
        r = self.plot_rect()
        img = self._output_image()
        if img is not None:
            p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
            p.drawImage(r, img)
        else:
            p.fillRect(r, QColor("#262a31"))
        p.setPen(QPen(style.GRID_MAJOR_C, 1))
        p.drawRect(r)
        # the axes through 0 where they cross the plane
        e = self.extent()
        p.setPen(QPen(QColor(255, 255, 255, 40), 1))
        if e[0] < 0 < e[1]:
            x0 = self.to_screen(0.0, 0.0)[0]
            p.drawLine(QPointF(float(x0), r.top()), QPointF(float(x0), r.bottom()))
        if e[2] < 0 < e[3]:
            y0 = self.to_screen(0.0, 0.0)[1]
            p.drawLine(QPointF(r.left(), float(y0)), QPointF(r.right(), float(y0)))
        p.setFont(style.font(7.0))
        p.setPen(style.TEXT_DIM)
        left, right = Qt.AlignmentFlag.AlignLeft, Qt.AlignmentFlag.AlignRight
        p.drawText(QRectF(r.left() + 3, r.bottom() - 14, 80, 12), left, f"{e[0]:.3g}")
        p.drawText(QRectF(r.right() - 83, r.bottom() - 14, 80, 12), right, f"{e[1]:.3g}")
        pts = self.points
        if pts is None:
            p.setPen(style.TEXT_DIM)
            p.drawText(r, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                       "No data: Learn ▸ New Network… makes a dataset node and a network")
            return
        p.drawPixmap(0, 0, self._points_layer())

    def _points_layer(self) -> QPixmap:
        """The points drawn once on a transparent layer, again only when they, the plane or
        the widget's size change (the output picture under them changes every frame)."""
        pts = self.points
        key = (id(pts), self.width(), self.height(), self.extent(), self.devicePixelRatioF())
        if self._layer is not None and self._layer_key == key:
            return self._layer
        dpr = self.devicePixelRatioF()
        layer = QPixmap(max(1, round(self.width() * dpr)), max(1, round(self.height() * dpr)))
        layer.setDevicePixelRatio(dpr)
        layer.fill(Qt.GlobalColor.transparent)
        p = QPainter(layer)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        lim = np.max(np.abs(pts.y_train)) if pts.classes is None and len(pts.y_train) else 1.0
        outline = QPen(QColor(255, 255, 255, 200), 1.0)
        for X, y, test in ((pts.X_train, pts.y_train, False), (pts.X_test, pts.y_test, True)):
            if not len(X):
                continue
            sx, sy = self.to_screen(X[:, 0], X[:, 1])
            flat = np.asarray(y).reshape(len(y), -1)[:, 0]
            colours: dict = {}
            for xx, yy, t in zip(sx, sy, flat):
                c = colours.get(t)
                if c is None:
                    c = colours[t] = self._point_colour(t, pts.classes, lim)
                if test:  # test points: a ring
                    p.setPen(QPen(c, 2.0))
                    p.setBrush(Qt.BrushStyle.NoBrush)
                else:
                    p.setPen(outline)
                    p.setBrush(c)
                p.drawEllipse(QPointF(float(xx), float(yy)), POINT_R, POINT_R)
        p.end()
        self._layer, self._layer_key = layer, key
        return layer

    @staticmethod
    def _point_colour(t, classes, lim) -> QColor:
        if classes is not None:
            return class_qcolor(int(t), classes)
        if not np.isfinite(t):
            return style.PROBLEM
        u = float(np.clip(t / (lim or 1.0), -1.0, 1.0))
        a, b = (QColor(245, 147, 34), QColor(8, 119, 189))
        c = b if u >= 0 else a
        w = abs(u)
        return QColor(int(232 + (c.red() - 232) * w), int(234 + (c.green() - 234) * w),
                      int(238 + (c.blue() - 238) * w))

    def mousePressEvent(self, event):  # noqa: N802
        pos = event.position()
        if not self.plot_rect().contains(pos):
            return
        x1, x2 = self.to_data(pos.x(), pos.y())
        shift = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        self.clicked.emit(float(x1), float(x2), event.button(), shift)
        event.accept()


class DataPanel(QWidget):
    """Plane, legend, click options, the dataset chooser and CSV import (see the module
    docstring). Edits go through ``controller`` (one undo step each)."""

    def __init__(self, controller, session, window=None, parent=None):
        super().__init__(parent)
        self.setObjectName("dataPanel")
        self.controller = controller
        self.session = session
        self.window = window
        self.plane = PlaneWidget(self)
        self.plane.clicked.connect(self.plane_clicked)
        self.legend = QLabel("")
        self.legend.setObjectName("dataLegend")
        self.legend.setWordWrap(True)
        self.click_class = QSpinBox()
        self.click_class.setObjectName("dataClickClass")
        self.click_class.setRange(0, 31)
        self.click_class.setToolTip("The class a left click adds (a right click adds the next one)")
        self.click_value = QDoubleSpinBox()
        self.click_value.setRange(-1e6, 1e6)
        self.click_value.setDecimals(3)
        self.click_value.setValue(1.0)
        self.click_value.setToolTip("The target a left click adds in a regression set "
                                    "(a right click: its negative)")
        clicks = QHBoxLayout()
        self.click_label = QLabel("Click adds class")
        clicks.addWidget(self.click_label)
        clicks.addWidget(self.click_class)
        clicks.addWidget(self.click_value)
        clicks.addStretch(1)

        self.generator = QComboBox()
        self.generator.setObjectName("dataGenerator")
        self.generator.addItems(list(GENERATORS))
        self.generator.setToolTip("TensorFlow Playground's sets and scikit-learn's moons")
        self.n = QSpinBox()
        self.n.setObjectName("dataPoints")
        self.n.setRange(2, 100_000)
        self.n.setValue(200)
        self.noise = QDoubleSpinBox()
        self.noise.setObjectName("dataNoise")
        self.noise.setRange(0.0, 5.0)
        self.noise.setDecimals(2)
        self.noise.setSingleStep(0.05)
        self.noise.setToolTip("Playground's noise (0 to 0.5 on its slider); moons: the standard deviation")
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.split = QDoubleSpinBox()
        self.split.setRange(0.01, 1.0)
        self.split.setDecimals(2)
        self.split.setSingleStep(0.05)
        self.split.setValue(0.5)
        self.split.setToolTip("The fraction of points used for training (the rest are test points)")
        self.classes = QSpinBox()
        self.classes.setRange(2, 32)
        self.classes.setToolTip("Classes (gauss and spiral make any number)")
        self.generator.currentTextChanged.connect(self._enable)
        self.apply = QPushButton("Generate")
        self.apply.setObjectName("dataGenerate")
        self.apply.setToolTip("Give the dataset node this recipe (one undo step)")
        self.apply.clicked.connect(self.generate)
        self.csv_button = QPushButton("Import CSV…")
        self.csv_button.setObjectName("dataImportCsv")
        self.csv_button.setToolTip("Points from a CSV file: a header row, feature and target columns")
        self.csv_button.clicked.connect(self.import_csv)
        form = QFormLayout()
        form.addRow("Generator", self.generator)
        form.addRow("Points", self.n)
        form.addRow("Noise", self.noise)
        form.addRow("Seed", self.seed)
        form.addRow("Train split", self.split)
        form.addRow("Classes", self.classes)
        row = QHBoxLayout()
        row.addWidget(self.apply)
        row.addWidget(self.csv_button)
        self.status = QLabel("")
        self.status.setObjectName("dataStatus")
        self.status.setWordWrap(True)

        inner = QWidget()
        lay = QVBoxLayout(inner)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.addWidget(self.plane, 1)
        lay.addWidget(self.legend)
        lay.addLayout(clicks)
        lay.addLayout(form)
        lay.addLayout(row)
        lay.addWidget(self.status)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(inner)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)

        b = controller.bridge
        b.evaluated.connect(self.refresh)
        b.replaced.connect(self.refresh)
        session.framed.connect(self.plane.set_frame)
        session.built.connect(self.refresh)
        self.refresh()
        self._enable()

    # ---------------------------------------------------------------- showing

    def refresh(self, *_):
        g = self.controller.graph
        pts = document_points(g)
        self.plane.set_points(pts)
        if pts is None:
            self.legend.setText("No data yet: Learn ▸ New Network… makes a dataset node and a network "
                                "for it.")
            return
        if pts.node is not None:
            d = dataset_of(g, pts.node)
            if d.recipe is not None:
                self._load_recipe(d.recipe)
            how = (f"recipe: {d.recipe['generator']}, {d.recipe['n']} points, noise {d.recipe['noise']:g}, "
                   f"seed {d.recipe['seed']}" if d.recipe else "points stored in the document")
        else:
            how = "number nodes X and y (to edit points by clicking, build a network on a dataset node)"
        what = (f"{pts.classes} classes" if pts.classes is not None else "regression")
        note = self.session.picture_note  # a slice through more than two inputs, or no pictures
        self.legend.setText(f"{len(pts.X_train)} training points (filled) and {len(pts.X_test)} test points "
                            f"(rings); {what}; {how}" + (f". Pictures: {note}" if note else ""))
        reg = pts.classes is None
        self.click_class.setVisible(not reg)
        self.click_value.setVisible(reg)
        self.click_label.setText("Click adds target" if reg else "Click adds class")
        if not reg:
            self.click_class.setMaximum(max(pts.classes - 1, 0))
        self.plane.setEnabled(True)

    def _load_recipe(self, r: dict) -> None:
        for w in (self.generator, self.n, self.noise, self.seed, self.split, self.classes):
            w.blockSignals(True)
        try:
            self.generator.setCurrentText(r["generator"])
            self.n.setValue(r["n"])
            self.noise.setValue(r["noise"])
            self.seed.setValue(r["seed"])
            self.split.setValue(r["split"])
            self.classes.setValue(r.get("classes", 2))
        finally:
            for w in (self.generator, self.n, self.noise, self.seed, self.split, self.classes):
                w.blockSignals(False)
        self._enable()

    def _enable(self, *_):
        name = self.generator.currentText()
        self.classes.setEnabled(name in MULTICLASS)

    def recipe(self) -> dict:
        name = self.generator.currentText()
        r = {"generator": name, "n": self.n.value(), "noise": self.noise.value(), "seed": self.seed.value(),
             "split": self.split.value()}
        if name in MULTICLASS:
            r["classes"] = self.classes.value()
        return r

    def _say(self, text: str) -> None:
        self.status.setText(text)
        if self.window is not None:
            self.window.show_message(text, 8000)

    # ---------------------------------------------------------------- edits

    def _dataset_node(self) -> int | None:
        pts = document_points(self.controller.graph)
        return None if pts is None else pts.node

    def set_dataset(self, data, text: str) -> bool:
        """Give the document's dataset node ``data`` (a Dataset) as one undo step."""
        node = self._dataset_node()
        if node is None:
            self._say("The document has no dataset node: Learn ▸ New Network… makes one with a network")
            return False
        try:
            params = dataset_params(data)
        except DataError as e:
            self._say(f"Cannot use this data: {e}")
            return False
        return self.controller.set_params(node, params, text=text)

    def generate(self) -> bool:
        from engine.training import from_recipe

        try:
            d = from_recipe(self.recipe())
        except DataError as e:
            self._say(f"Cannot generate: {e}")
            return False
        ok = self.set_dataset(d, f"Data: {d.recipe['generator']}, {d.n} points")
        if ok:
            self._say(f"Generated {d.n} points of {d.recipe['generator']}")
        return ok

    def plane_clicked(self, x1: float, x2: float, button, shift: bool) -> bool:
        g = self.controller.graph
        pts = document_points(g)
        if pts is None:
            return False
        if pts.node is None:
            self._say("These points are number nodes X and y: clicks edit a dataset node's points "
                      "(Learn ▸ New Network… builds on one)")
            return False
        d = dataset_of(g, pts.node)
        if d.X.shape[1] != 2:
            self._say(f"Points are clicked in for two inputs; this data has {d.X.shape[1]}")
            return False
        sx, sy = self.plane.to_screen(x1, x2)
        hit = self.plane.point_at(float(sx), float(sy))
        try:
            if hit is not None:
                split, k = hit
                index = int((d.train if split == "train" else d.test)[k])
                new = d.remove_point(index)
                text = f"Remove a {split} point at ({d.X[index, 0]:.2f}, {d.X[index, 1]:.2f})"
            else:
                right = button == Qt.MouseButton.RightButton
                if d.classes is None:
                    label = -self.click_value.value() if right else self.click_value.value()
                    what = f"target {label:g}"
                else:
                    label = (self.click_class.value() + (1 if right else 0)) % d.classes
                    what = f"class {label}"
                new = d.add_point([x1, x2], label, test=shift)
                text = f"Add a {'test' if shift else 'training'} point ({what}) at ({x1:.2f}, {x2:.2f})"
        except DataError as e:
            self._say(f"Cannot edit the points: {e}")
            return False
        ok = self.set_dataset(new, text)
        if ok:
            self._say(text)
        return ok

    def import_csv(self):
        from gui.learn.training.csv_dialog import CsvDialog

        dlg = CsvDialog(self)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.accepted.connect(lambda: dlg.dataset is not None and self._csv_done(dlg))
        dlg.open()
        self.csv_dialog = dlg
        return dlg

    def _csv_done(self, dlg) -> None:
        d = dlg.dataset
        name = dlg.path.name if dlg.path is not None else "CSV"
        if self._dataset_node() is None:
            self._say("The document has no dataset node: Learn ▸ New Network… can build on this CSV")
            return
        if self.set_dataset(d, f"Data from {name}: {d.n} rows"):
            self._say(f"Imported {d.n} rows of {name}; features {', '.join(d.features)}")


class DataDock(QDockWidget):
    def __init__(self, controller, session, window=None, parent=None):
        super().__init__("Data", parent)
        self.setObjectName("dataDock")
        self.panel = DataPanel(controller, session, window, self)
        self.setWidget(self.panel)


__all__ = ["DataDock", "DataPanel", "PlaneWidget", "Points", "document_points"]
