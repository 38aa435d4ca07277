"""Learn ▸ New Network…: an MLP for a dataset in two clicks (the menu item, then OK), built
by :func:`engine.training.build_mlp` from ordinary tensor nodes on a dataset node, so the
result is a graph like any other: add a residual wire, change an activation, tie weights.

The dataset is the document's own dataset node when it has one (its recipe or points), else a
generator's recipe chosen here. Layers: as many as wanted, each of any width with its own
activation. Playground's feature transforms for two-column data. The loss follows the data:
cross-entropy over C outputs for classes, the mean squared error for regression targets.
The new network replaces the document as one undo step (:func:`apply_network`).
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from engine import GraphError
from engine.io import document as doc
from engine.training import (
    ACTIVATIONS,
    FEATURES,
    GENERATORS,
    MULTICLASS,
    DataError,
    build_mlp,
    dataset_of,
    find_dataset,
    from_recipe,
    use_dataset_node,
)
from engine.training.network import MAX_LAYERS, MAX_UNITS
from gui import style
from gui.shell.screen_fit import resize_to_screen

FEATURE_TEXT = {"x1": "x₁", "x2": "x₂", "x1_sq": "x₁²", "x2_sq": "x₂²", "x1x2": "x₁·x₂",
                "sin_x1": "sin x₁", "sin_x2": "sin x₂"}


class NetworkDialog(QDialog):
    """After OK, ``graph`` is the network built (a new Graph) and ``summary`` says what it is."""

    def __init__(self, document=None, parent=None):
        super().__init__(parent)
        self.setWindowTitle("New network")
        self.setObjectName("networkDialog")
        self.graph = None
        self.summary = ""
        self.own = None  # the document's dataset, if it has a dataset node
        if document is not None:
            ds = find_dataset(document)
            if ds is not None:
                self.own = dataset_of(document, ds)

        # data
        self.source = QComboBox()
        self.source.setObjectName("networkDataSource")
        if self.own is not None:
            self.source.addItem(f"the document's data ({self.own.n} points)")
        self.source.addItem("a generated dataset")
        self.source.currentIndexChanged.connect(self._enable)
        self.generator = QComboBox()
        self.generator.setObjectName("networkGenerator")
        self.generator.addItems(list(GENERATORS))
        self.generator.setCurrentText("spiral")
        self.n = QSpinBox()
        self.n.setRange(2, 100_000)
        self.n.setValue(200)
        self.noise = QDoubleSpinBox()
        self.noise.setRange(0.0, 5.0)
        self.noise.setSingleStep(0.05)
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.split = QDoubleSpinBox()
        self.split.setRange(0.01, 1.0)
        self.split.setSingleStep(0.05)
        self.split.setValue(0.5)
        self.classes = QSpinBox()
        self.classes.setRange(2, 32)
        self.generator.currentTextChanged.connect(self._enable)
        data_box = QGroupBox("Data")
        form = QFormLayout(data_box)
        form.addRow("From", self.source)
        form.addRow("Generator", self.generator)
        form.addRow("Points", self.n)
        form.addRow("Noise", self.noise)
        form.addRow("Seed", self.seed)
        form.addRow("Train split", self.split)
        form.addRow("Classes", self.classes)

        # layers
        self.layers = QSpinBox()
        self.layers.setObjectName("networkLayers")
        self.layers.setRange(0, MAX_LAYERS)
        self.layers.setValue(2)
        self.layers.setToolTip("Hidden layers (0: a linear model)")
        self.layers.valueChanged.connect(self._layer_rows)
        self.width_all = QSpinBox()
        self.width_all.setRange(1, MAX_UNITS)
        self.width_all.setValue(8)
        self.width_all.setToolTip("Set every layer's width")
        self.width_all.valueChanged.connect(lambda v: [w.setValue(v) for w, _a in self.rows])
        self.act_all = QComboBox()
        self.act_all.addItems(list(ACTIVATIONS))
        self.act_all.setCurrentText("tanh")
        self.act_all.setToolTip("Set every layer's activation")
        self.act_all.currentTextChanged.connect(lambda t: [a.setCurrentText(t) for _w, a in self.rows])
        self.rows: list = []
        self.rows_widget = QWidget()
        self.rows_grid = QGridLayout(self.rows_widget)
        self.rows_grid.setContentsMargins(0, 0, 0, 0)
        layer_box = QGroupBox("Hidden layers")
        lay = QVBoxLayout(layer_box)
        top = QHBoxLayout()
        top.addWidget(QLabel("Layers"))
        top.addWidget(self.layers)
        top.addWidget(QLabel("all:"))
        top.addWidget(self.width_all)
        top.addWidget(self.act_all)
        lay.addLayout(top)
        lay.addWidget(self.rows_widget)

        # features and loss
        self.features = {}
        feat_box = QGroupBox("Inputs (Playground's feature transforms, for two input columns)")
        grid = QGridLayout(feat_box)
        for k, name in enumerate(FEATURES):
            box = QCheckBox(FEATURE_TEXT[name])
            box.setChecked(name in ("x1", "x2"))
            self.features[name] = box
            grid.addWidget(box, k // 4, k % 4)
        self.loss = QLabel("")
        self.loss.setObjectName("networkLoss")
        self.loss.setWordWrap(True)
        self.weight_seed = QSpinBox()
        self.weight_seed.setRange(0, 2**31 - 1)
        self.weight_seed.setToolTip("Initial weights: biases 0, matrices Glorot-uniform from this seed")
        self.error = QLabel("")
        self.error.setObjectName("networkError")
        self.error.setWordWrap(True)
        self.error.setStyleSheet(f"color: {style.PROBLEM.name()}")
        bottom = QFormLayout()
        bottom.addRow("Loss", self.loss)
        bottom.addRow("Weight seed", self.weight_seed)
        ok_cancel = QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        self.buttons = QDialogButtonBox(ok_cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Build")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        outer = QVBoxLayout(self)
        outer.addWidget(data_box)
        outer.addWidget(layer_box)
        outer.addWidget(feat_box)
        outer.addLayout(bottom)
        outer.addWidget(self.error)
        outer.addWidget(self.buttons)
        self._layer_rows(self.layers.value())
        self._enable()
        resize_to_screen(self, 520, 640)

    def _layer_rows(self, count: int) -> None:
        while len(self.rows) > count:
            w, a = self.rows.pop()
            w.deleteLater()
            a.deleteLater()
        while len(self.rows) < count:
            k = len(self.rows)
            w = QSpinBox()
            w.setRange(1, MAX_UNITS)
            w.setValue(self.width_all.value())
            w.setToolTip(f"Neurons in hidden layer {k + 1}")
            a = QComboBox()
            a.addItems(list(ACTIVATIONS))
            a.setCurrentText(self.act_all.currentText())
            a.setToolTip(f"Activation of hidden layer {k + 1}")
            self.rows_grid.addWidget(QLabel(f"layer {k + 1}"), k, 0)
            self.rows_grid.addWidget(w, k, 1)
            self.rows_grid.addWidget(a, k, 2)
            self.rows.append((w, a))
        # labels of removed rows: drop any label beyond the rows kept
        for i in reversed(range(self.rows_grid.count())):
            item = self.rows_grid.itemAt(i)
            r, _c, _rs, _cs = self.rows_grid.getItemPosition(i)
            if r >= count and item.widget() is not None:
                item.widget().deleteLater()

    def _enable(self, *_):
        generated = self.source.currentIndex() == (1 if self.own is not None else 0)
        for w in (self.generator, self.n, self.noise, self.seed, self.split):
            w.setEnabled(generated)
        self.classes.setEnabled(generated and self.generator.currentText() in MULTICLASS)
        try:
            d = self.data()
        except DataError:
            d = None
        two = d is not None and d.X.shape[1] == 2
        for box in self.features.values():
            box.setEnabled(two)
        if d is None:
            self.loss.setText("")
        elif d.classes is None:
            self.loss.setText("mean squared error (the targets are numbers)")
        else:
            self.loss.setText(f"cross-entropy over {d.classes} outputs (the targets are {d.classes} classes)")

    def data(self):
        if self.own is not None and self.source.currentIndex() == 0:
            return self.own
        r = {"generator": self.generator.currentText(), "n": self.n.value(), "noise": self.noise.value(),
             "seed": self.seed.value(), "split": self.split.value()}
        if r["generator"] in MULTICLASS:
            r["classes"] = self.classes.value()
        return from_recipe(r)

    def choices(self) -> dict:
        feats = [n for n, b in self.features.items() if b.isChecked() and b.isEnabled()]
        return {
            "hidden": [w.value() for w, _a in self.rows],
            "activation": [a.currentText() for _w, a in self.rows],
            "features": None if feats in ([], ["x1", "x2"]) else feats,
            "seed": self.weight_seed.value(),
        }

    def build(self) -> bool:
        """Build the network with the choices made; False (the reason shown) if refused."""
        try:
            d = self.data()
            c = self.choices()
            net = build_mlp(d, hidden=c["hidden"], activation=c["activation"] or "tanh",
                            features=c["features"], seed=c["seed"])
            g = net.graph
            use_dataset_node(g, d)
            g.set_output(None)  # the loss is the node the output rule picks
            g.apply_layout()
        except (GraphError, ValueError) as e:
            self.error.setText(f"Cannot build: {e}")
            return False
        widths = [d.X.shape[1] if not c["features"] else len(c["features"])] + c["hidden"]
        widths.append(d.classes if d.classes is not None else 1)
        name = d.recipe["generator"] if d.recipe else "points"
        self.summary = f"{'-'.join(map(str, widths))} network on {name}"
        g.meta["title"] = f"A {self.summary}"
        self.graph = g
        return True

    def accept(self):
        if self.build():
            super().accept()


def apply_network(controller, graph, text: str) -> bool:
    """Replace the document's nodes by ``graph``'s as one undo step (undo gives the old
    document back whole)."""
    old = controller.graph.nodes()
    payload = doc.fragment(graph, graph.nodes())
    xs = [graph.position(n) for n in graph.nodes()]
    at = (min(x for x, _ in xs), min(y for _, y in xs)) if xs else (0.0, 0.0)
    with controller.macro(text):
        if old and not controller.remove_nodes(old):
            raise GraphError("the old document could not be cleared")
        new = controller.paste(payload, at=at, verb="Build")
        if not new:
            raise GraphError("the network could not be added")
    return True


__all__ = ["NetworkDialog", "apply_network"]
