"""Node geometry in scene units: one place for the numbers that the node painter, the wire
router and the layout all have to agree on. Pure Python (no Qt, no engine), so a layout
function can take these numbers without importing a GUI toolkit.

A node is a header, then one row per input port (labelled ``a``/``b``, ``base``/``exp``,
``x``), then the value row and the gradient row, then optional extra rows (a forward-mode
tangent). The output port sits level with the value row on the right edge; each input port
sits on its own row on the left edge.

>>> node_height(0), node_height(2), node_height(1, extra_rows=1)
(70.0, 106.0, 106.0)
>>> input_port_y(2, 0), input_port_y(2, 1), output_port_y(2)
(38.0, 56.0, 74.0)
"""

from __future__ import annotations

NODE_W = 140.0  # every node has the same width
HEAD_H = 24.0  # header: op symbol, name, id
ROW_H = 18.0  # one port row, the value row, the gradient row, an extra row
PAD = 5.0  # above the first row and below the last
PORT_R = 5.0  # drawn radius of a port dot
PORT_HIT_R = 12.0  # hit radius: a 24 px target around each port (the issue asks >= 16 px)


def node_height(arity: int, extra_rows: int = 0) -> float:
    """Height of a node with ``arity`` inputs (and ``extra_rows`` rows under the gradient)."""
    return HEAD_H + 2 * PAD + (arity + 2 + extra_rows) * ROW_H


def input_row_top(port: int) -> float:
    """Top of input ``port``'s row (the rows do not depend on the arity)."""
    return HEAD_H + PAD + port * ROW_H


def input_port_y(arity: int, port: int) -> float:
    """Centre height of input ``port`` (0-based) in node coordinates."""
    del arity  # each port has its own row, whatever the arity; kept for callers' symmetry
    return input_row_top(port) + ROW_H / 2


def value_row_top(arity: int) -> float:
    return HEAD_H + PAD + arity * ROW_H


def grad_row_top(arity: int) -> float:
    return value_row_top(arity) + ROW_H


def output_port_y(arity: int) -> float:
    """Centre height of the output port: level with the value row (the value leaves there)."""
    return value_row_top(arity) + ROW_H / 2


def node_size(arity: int, extra_rows: int = 0) -> tuple[float, float]:
    """(width, height) of a node, for a layout that packs nodes of different heights."""
    return NODE_W, node_height(arity, extra_rows)


__all__ = [
    "HEAD_H", "NODE_W", "PAD", "PORT_HIT_R", "PORT_R", "ROW_H", "grad_row_top", "input_port_y",
    "input_row_top", "node_height", "node_size", "output_port_y", "value_row_top",
]
