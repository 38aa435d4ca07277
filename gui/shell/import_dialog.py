""""Import program": type an expression or a short program, get its graph.

The text goes to :func:`engine.io.parse.parse_program` (Python syntax read by ``ast`` with a
whitelist; nothing typed is ever run). Errors show under the editor with their line and column
as you type, and OK stays disabled until the program parses. The result either replaces the
document or is added to it as one undo step.
"""

from __future__ import annotations

import math
import re

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QTextCursor
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QRadioButton,
    QVBoxLayout,
)

from engine import GraphError, ParseError
from engine.io import document
from engine.io.parse import parse_program
from gui import style
from gui.shell.screen_fit import resize_to_screen

EXAMPLE = "c = a + b\nd = a*b + b**3\nc += c + 1\nc - d"
_SEPARATORS = re.compile(r"[\s,;]+")


class InputsError(ValueError):
    """A NAME=VALUE list that cannot be read; the message says which item."""


def parse_inputs(text: str) -> dict[str, float]:
    """``"a=3, b=-2.5"`` (commas, semicolons, spaces or new lines between items) as a dict.

    >>> parse_inputs("a=3, b = −2.5")
    {'a': 3.0, 'b': -2.5}
    """
    text = (text or "").replace(style.MINUS, "-")
    # Allow spaces around "=" without mistaking them for separators.
    text = re.sub(r"\s*=\s*", "=", text.strip())
    values: dict[str, float] = {}
    for item in filter(None, _SEPARATORS.split(text)):
        name, sep, num = item.partition("=")
        if not sep or not name.isidentifier():
            raise InputsError(f"inputs: expected NAME=VALUE, got '{item}'")
        if name in values:
            raise InputsError(f"inputs: {name} is given twice")
        try:
            v = float(num)
        except ValueError:
            raise InputsError(f"inputs: {name}={num or '?'}: the value must be a number") from None
        if not math.isfinite(v):
            raise InputsError(f"inputs: {name}={num}: the value must be finite")
        values[name] = v
    return values


def hint_for(message: str) -> str:
    """A tip for the micrograd habits the parser still refuses. Value(-4.0), x.relu() and a
    final y.backward() parse as they are, and the parser's own messages explain x.data,
    x.grad and unknown methods; a plain attribute is the one left to explain."""
    if message.endswith("attribute access (a.b) is not allowed"):
        return (
            "Tip: the only methods are the ops, by name, like x.relu(), x.exp() or a.max(b); "
            "the only attribute that can be set is a label, v.label = 'x'."
        )
    return ""


def build(source: str, inputs_text: str):
    """The graph for a program and its inputs text; raises InputsError or ParseError."""
    values = parse_inputs(inputs_text)
    try:
        return parse_program(source, values)
    except GraphError as e:  # the parser promises ParseError only; be safe anyway
        raise ParseError(str(e)) from None


class ImportDialog(QDialog):
    """The dialog. After ``exec()`` returns Accepted, ``graph`` is the parsed document and
    ``replace`` says whether to replace the open document (else add to it)."""

    def __init__(self, parent=None, source: str = "", inputs: str = ""):
        super().__init__(parent)
        self.setWindowTitle("Import program")
        self.setObjectName("importDialog")
        self.graph = None
        self.error: str | None = None

        intro = QLabel(
            "An expression or a short program in Python syntax: numbers, names, + − × ÷ ** "
            "and the ops by name (exp(x), tanh(x), max(a, b), …), one statement per line; the last line "
            "is the output. Names read before they are assigned are inputs: give their values below. "
            "micrograd code and the lecture's cells paste as they are: Value(2.0, label='x'), "
            "v.label = '…' and o.backward() are read; print(…) and draw_dot(…) are skipped."
        )
        intro.setWordWrap(True)
        self.editor = QPlainTextEdit(source)
        self.editor.setObjectName("importSource")
        mono = QFont("DejaVu Sans Mono")
        mono.setStyleHint(QFont.StyleHint.Monospace)
        self.editor.setFont(mono)
        self.editor.setPlaceholderText(EXAMPLE)
        self.editor.setTabChangesFocus(True)
        self.inputs = QLineEdit(inputs)
        self.inputs.setObjectName("importInputs")
        self.inputs.setPlaceholderText("a=-4, b=2")
        self.message = QLabel()
        self.message.setObjectName("importMessage")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.replace_button = QRadioButton("Replace the document (asks to save changes first)")
        self.add_button = QRadioButton("Add to the document (one undo step)")
        self.replace_button.setChecked(True)
        sb = QDialogButtonBox.StandardButton
        self.buttons = QDialogButtonBox(sb.Ok | sb.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        lay = QVBoxLayout(self)
        lay.addWidget(intro)
        lay.addWidget(self.editor, 1)
        lay.addWidget(QLabel("Inputs (NAME=VALUE, separated by commas or spaces)"))
        lay.addWidget(self.inputs)
        lay.addWidget(self.message)
        lay.addWidget(self.replace_button)
        lay.addWidget(self.add_button)
        lay.addWidget(self.buttons)
        resize_to_screen(self, 520, 380)

        self.editor.textChanged.connect(self.validate)
        self.inputs.textChanged.connect(self.validate)
        self.validate()

    @property
    def replace(self) -> bool:
        return self.replace_button.isChecked()

    def set_program(self, source: str, inputs: str = "") -> None:
        self.editor.setPlainText(source)
        self.inputs.setText(inputs)

    def ok_button(self):
        return self.buttons.button(QDialogButtonBox.StandardButton.Ok)

    def validate(self) -> bool:
        """Parse now; show the result or the error; enable OK only for a good program."""
        source = self.editor.toPlainText()
        self.graph = None
        if not source.strip():
            self.error = None
            self._show("Type a program to import.", ok=None)
            self.ok_button().setEnabled(False)
            return False
        try:
            g = build(source, self.inputs.text())
        except InputsError as e:
            self.error = str(e)
            self._show(self.error, ok=False)
        except ParseError as e:
            self.error = str(e)
            hint = hint_for(self.error)
            self._show(self.error + (f"\n{hint}" if hint else ""), ok=False)
        else:
            self.error = None
            self.graph = g
            out = g.output_node()
            if out is None:
                self._show(f"{len(g)} nodes", ok=True)
            else:
                self._show(
                    f"{len(g)} nodes; output {g.label(out)} = {style.format_number(g.value(out))}", ok=True
                )
        self.ok_button().setEnabled(self.graph is not None)
        return self.graph is not None

    def error_position(self) -> tuple[int, int] | None:
        """(line, column) of the last parse error, 1-based, or None."""
        m = re.match(r"line (\d+), column (\d+):", self.error or "")
        return (int(m.group(1)), int(m.group(2))) if m else None

    def go_to_error(self) -> None:
        """Put the editor's cursor where the parser stopped."""
        pos = self.error_position()
        if pos is None:
            return
        line, col = pos
        block = self.editor.document().findBlockByNumber(line - 1)
        if not block.isValid():
            return
        cur = QTextCursor(block)
        cur.movePosition(QTextCursor.MoveOperation.Right, QTextCursor.MoveMode.MoveAnchor,
                         min(col - 1, max(0, block.length() - 1)))
        self.editor.setTextCursor(cur)

    def _show(self, text: str, ok) -> None:
        colour = {True: style.VALUE.name(), False: style.PROBLEM.name(), None: style.TEXT_DIM.name()}[ok]
        self.message.setStyleSheet(f"color: {colour};")
        self.message.setText(("✓ " if ok else "✗ " if ok is False else "") + text)

    def accept(self):
        if not self.validate():
            self.go_to_error()
            return
        super().accept()


def apply_import(window, graph, replace: bool) -> bool:
    """Put an imported graph into ``window``: replace the document (after the unsaved-changes
    prompt) or add a copy of it, to the right of what is there, as one undo step."""
    if replace:
        if not window.maybe_save():
            return False
        graph.meta.setdefault("title", "Imported program")
        # Untitled: Save must ask where, never overwrite the file the old document came from.
        window.replace_document(graph, None, "Imported program")
        return True
    doc = window.document
    right = max((doc.position(n)[0] for n in doc.nodes()), default=-style.NODE_W - 80.0)
    top = min((doc.position(n)[1] for n in doc.nodes()), default=0.0)
    new = window.controller.paste(document.fragment(graph, graph.nodes()), (right + style.NODE_W + 80.0, top))
    if new:
        window.scene.select_nodes(new)
        window.view.fit_all()
    return bool(new)
