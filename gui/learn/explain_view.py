"""The "Chain rule" panel: the selected node's gradient written out as a sum of terms.

Each term is one wire out of the node: the consumer's gradient times the consumer's local
derivative (from :func:`engine.explain.explain`). Clicking a term selects that consumer, so a
reader can walk from an input back up to the output one term at a time.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QDockWidget, QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget
from shiboken6 import isValid

from engine.explain import SUM, explain
from gui.shell.style import format_number

NODE_ROLE = Qt.ItemDataRole.UserRole
HINT = "Select one node to see its gradient written out with the chain rule."


class ExplainView(QWidget):
    """Summary sentence, one clickable row per term, and the sum. Follows the scene's selection
    and every re-evaluation; ``termActivated(node)`` fires when a term's consumer is selected."""

    termActivated = Signal(int)

    def __init__(self, controller, scene, parent=None):
        super().__init__(parent)
        self.setObjectName("chainRuleView")
        self._controller = controller
        self._scene = scene
        self.explanation = None

        self.summary = QLabel(HINT)
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.summary.setObjectName("chainRuleSummary")
        self.terms = QListWidget()
        self.terms.setObjectName("chainRuleTerms")
        self.terms.setToolTip("Click a term to select the node it comes through")
        self.terms.setWordWrap(True)
        self.terms.setUniformItemSizes(False)
        self.terms.itemClicked.connect(self._activate)
        self.terms.itemActivated.connect(self._activate)
        self.total = QLabel()
        self.total.setObjectName("chainRuleSum")
        self.total.setWordWrap(True)
        self.total.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.addWidget(self.summary)
        lay.addWidget(self.terms, 1)
        lay.addWidget(self.total)

        scene.selectionChanged.connect(self.refresh)
        controller.bridge.evaluated.connect(self.refresh)
        controller.bridge.replaced.connect(self.refresh)
        self.refresh()

    def selected_node(self) -> int | None:
        ids = self._scene.selected_node_ids()
        return ids[0] if len(ids) == 1 else None

    def term_texts(self) -> list[str]:
        """The rows as shown (for tests and screen readers)."""
        return [self.terms.item(i).text() for i in range(self.terms.count())]

    def text(self) -> str:
        """Everything shown, as plain text."""
        lines = [self.summary.text() if self.explanation is None else self.explanation.summary()]
        lines += self.term_texts()
        if self.total.text():
            lines.append(self.total.text())
        return "\n".join(lines)

    def refresh(self, *_):
        if not (isValid(self) and isValid(self._scene)):
            return  # the window is being torn down
        g = self._controller.graph
        node = self.selected_node()
        self.terms.clear()
        if node is None or node not in g:
            self.explanation = None
            self.summary.setText(HINT)
            self.total.setText("")
            self.terms.setVisible(False)
            return
        ex = self.explanation = explain(g, node)
        self.summary.setText(html.escape(ex.summary()))
        for t in ex.terms:
            item = QListWidgetItem(ex.term_text(t, format_number))
            item.setData(NODE_ROLE, t.consumer)
            item.setToolTip(
                f"{t.consumer_label}'s gradient ({format_number(t.consumer_grad)}) × its local "
                f"derivative with respect to input '{t.port_name}' ({format_number(t.local)}). "
                f"Click to select {t.consumer_label}."
            )
            self.terms.addItem(item)
        for consumer, label in ex.unused:
            item = QListWidgetItem(f"via {label}: no path to the output, contributes nothing")
            item.setData(NODE_ROLE, consumer)
            item.setForeground(self.palette().placeholderText())
            self.terms.addItem(item)
        self.terms.setVisible(self.terms.count() > 0)
        self.total.setText(ex.sum_line(format_number) if ex.kind == SUM else "")

    def _activate(self, item: QListWidgetItem):
        node = item.data(NODE_ROLE)
        if node is None:
            return
        self._scene.select_nodes([int(node)])
        self.termActivated.emit(int(node))


class ExplainDock(QDockWidget):
    """The :class:`ExplainView` as a dock ("Chain rule"), placed under the inspector."""

    def __init__(self, controller, scene, parent=None):
        super().__init__("Chain rule", parent)
        self.setObjectName("chainRuleDock")
        self.view = ExplainView(controller, scene, self)
        self.setWidget(self.view)
