"""Node geometry shared by the layout, the wire router and the canvas: one table of sizes, so
the layout reserves exactly the room the canvas draws. Pure Python (the GUI imports it; the
engine never imports the GUI).

A node is a header, then one row per input port (labelled ``a``/``b``, ``base``/``exp``,
``x``), then the value row and the gradient row, then optional extra rows (a forward-mode
tangent). The output port sits level with the value row on the right edge; each input port
sits on its own row on the left edge. Coordinates are relative to the node's top-left corner
(the document's ``x``, ``y``).

>>> node_size("number"), node_size("mul")
((140.0, 70.0), (140.0, 106.0))
>>> input_port_offset("mul", 1), output_port_offset("mul")
((0.0, 56.0), (140.0, 74.0))
>>> node_height(1, extra_rows=1)
106.0
"""

from __future__ import annotations

from .ops import OPS

NODE_W = 140.0  # every node has the same width
HEAD_H = 24.0  # header: op symbol, name, id
ROW_H = 18.0  # one port row, the value row, the gradient row, an extra row
PORT_ROW_H = ROW_H
PAD = 5.0  # above the first row and below the last
PORT_R = 5.0  # drawn radius of a port dot
PORT_HIT_R = 12.0  # hit radius: a 24 px target around each port (the issue asks >= 16 px)


def arity(op: str) -> int:
    """Number of input ports of ``op`` (0 for numbers and unknown names)."""
    o = OPS.get(op)
    return o.arity if o is not None else 0


def node_height(n_inputs: int, extra_rows: int = 0) -> float:
    """Height of a node with ``n_inputs`` inputs (and ``extra_rows`` rows under the gradient)."""
    return HEAD_H + 2 * PAD + (n_inputs + 2 + extra_rows) * ROW_H


def node_size(op: str) -> tuple[float, float]:
    """(width, height) of a node of ``op``, as the layout reserves it."""
    return NODE_W, node_height(arity(op))


def input_row_top(port: int) -> float:
    """Top of input ``port``'s row (the rows do not depend on the arity)."""
    return HEAD_H + PAD + port * ROW_H


def input_port_y(port: int) -> float:
    """Centre height of input ``port`` (0-based) in node coordinates."""
    return input_row_top(port) + ROW_H / 2


def value_row_top(n_inputs: int) -> float:
    return HEAD_H + PAD + n_inputs * ROW_H


def grad_row_top(n_inputs: int) -> float:
    return value_row_top(n_inputs) + ROW_H


def output_port_y(n_inputs: int) -> float:
    """Centre height of the output port: level with the value row (the value leaves there)."""
    return value_row_top(n_inputs) + ROW_H / 2


def input_port_offset(op: str, port: int) -> tuple[float, float]:
    return 0.0, input_port_y(port)


def output_port_offset(op: str) -> tuple[float, float]:
    return NODE_W, output_port_y(arity(op))
