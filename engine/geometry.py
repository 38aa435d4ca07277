"""Node geometry shared by the layout, the wire router and the canvas.

One table of sizes, so the layout reserves exactly the room the canvas draws: a node is a
header, a value row, a gradient row, then one row per input port (each port on its own
labelled row, so a node grows with its arity). The output port sits on the right edge,
level with the value/gradient block; input ports sit on the left edge, one per port row.
Coordinates are relative to the node's top-left corner (the document's ``x``, ``y``).

>>> node_size("number"), node_size("mul")
((140.0, 70.0), (140.0, 106.0))
>>> input_port_offset("mul", 1), output_port_offset("mul")
((0.0, 90.0), (140.0, 47.0))
"""

from __future__ import annotations

from .ops import OPS

NODE_W = 140.0
HEAD_H = 24.0  # title row: op symbol, name, id
LINE_H = 18.0  # value row, gradient row
PORT_ROW_H = 18.0  # one row per input port, below the value and gradient rows
TOP_PAD = 3.0  # between the header and the value row
BOTTOM_PAD = 7.0
NODE_H = HEAD_H + TOP_PAD + 2 * LINE_H + BOTTOM_PAD  # a node without inputs (a number)
OUT_Y = HEAD_H + (NODE_H - HEAD_H) / 2  # the output port: level with the value/gradient block


def arity(op: str) -> int:
    """Number of input ports of ``op`` (0 for numbers and unknown names)."""
    o = OPS.get(op)
    return o.arity if o is not None else 0


def node_height(n_inputs: int) -> float:
    return NODE_H + n_inputs * PORT_ROW_H


def node_size(op: str) -> tuple[float, float]:
    """(width, height) of a node of ``op``."""
    return NODE_W, node_height(arity(op))


def input_port_y(port: int) -> float:
    """Centre height of input ``port``'s row (the first port row starts under the grad row)."""
    return HEAD_H + TOP_PAD + 2 * LINE_H + (port + 0.5) * PORT_ROW_H


def input_port_offset(op: str, port: int) -> tuple[float, float]:
    return 0.0, input_port_y(port)


def output_port_offset(op: str) -> tuple[float, float]:
    return NODE_W, OUT_Y
