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

A node holding an array grows: under its value row and under its gradient row it draws the
array, as a grid of numbers when every 2-D slice is small (``tensor_grid``), else as a heatmap.
Only the height changes, so ports and wires keep their places.

>>> tensor_grid((2, 3)), tensor_grid((8, 16)), tensor_block_h(())
((2, 3), None, 0.0)
>>> node_size("add", (2, 3))
(140.0, 166.0)
"""

from __future__ import annotations

from ..core import kinds
from ..core.ops import OPS

NODE_W = 140.0  # every node has the same width
HEAD_H = 24.0  # header: op symbol, name, id
ROW_H = 18.0  # one port row, the value row, the gradient row, an extra row
PORT_ROW_H = ROW_H
PAD = 5.0  # above the first row and below the last
PORT_R = 5.0  # drawn radius of a port dot
COLUMN_PITCH = 180.0  # the layout's column pitch (engine.drawing.layout.COLUMN): width plus gap
PORT_HIT_R = 12.0  # hit radius: a 24 px target around each port (the issue asks >= 16 px)
# A definition's body holds a placeholder per port: an input's (no inputs, one output) and an
# output's (one input, one output: what leaves the instance there).
PLACEHOLDERS = {"input": 0, "output": 1}


def arity(op: str) -> int:
    """Number of port rows under the header of a node of ``op``: its input ports (0 for
    numbers and unknown names); for a node kind with several outputs (a dataset node), the
    rows its output ports take on the right."""
    o = OPS.get(op)
    if o is not None:
        return o.arity
    if op in PLACEHOLDERS:
        return PLACEHOLDERS[op]
    kind = kinds.KINDS.get(op)
    if kind is None:
        return 0
    outs = len(kind.outputs({}))
    return max(len(kind.inputs({})), outs if outs > 1 else 0)


GRID_MAX = 4  # a 2-D slice up to 4×4 is drawn as its numbers; bigger arrays as a heatmap
CELL_H = 13.0  # one row of a grid of numbers
HEAT_H = 44.0  # a heatmap's height, whatever the shape


def tensor_grid(shape) -> tuple[int, int] | None:
    """(rows, columns) of the grid of numbers a value of ``shape`` is drawn as, or None when it
    is a scalar (no grid) or too big to write out (a heatmap instead)."""
    if not shape or len(shape) > 2:
        return None
    rows, cols = (1, shape[0]) if len(shape) == 1 else shape
    return (rows, cols) if rows <= GRID_MAX and cols <= GRID_MAX else None


def tensor_block_h(shape) -> float:
    """Height of the block drawn under the value row (and again under the gradient row) for a
    value of ``shape``: 0 for a scalar or no value."""
    if not shape:
        return 0.0
    grid = tensor_grid(shape)
    return grid[0] * CELL_H + 4.0 if grid is not None else HEAT_H + 4.0


def node_height(n_inputs: int, extra_rows: int = 0, shape=None) -> float:
    """Height of a node with ``n_inputs`` inputs (and ``extra_rows`` rows under the gradient),
    holding a value of ``shape`` (None or () for a scalar)."""
    return HEAD_H + 2 * PAD + (n_inputs + 2 + extra_rows) * ROW_H + 2 * tensor_block_h(shape)


def node_size(op: str, shape=None) -> tuple[float, float]:
    """(width, height) of a node of ``op`` holding a value of ``shape``, as the layout
    reserves it."""
    return NODE_W, node_height(arity(op), shape=shape)


def input_row_top(port: int) -> float:
    """Top of input ``port``'s row (the rows do not depend on the arity)."""
    return HEAD_H + PAD + port * ROW_H


def input_port_y(port: int) -> float:
    """Centre height of input ``port`` (0-based) in node coordinates."""
    return input_row_top(port) + ROW_H / 2


def value_row_top(n_inputs: int) -> float:
    return HEAD_H + PAD + n_inputs * ROW_H


def grad_row_top(n_inputs: int, shape=None) -> float:
    return value_row_top(n_inputs) + ROW_H + tensor_block_h(shape)


def output_port_y(n_inputs: int) -> float:
    """Centre height of the output port: level with the value row (the value leaves there)."""
    return value_row_top(n_inputs) + ROW_H / 2


def input_port_offset(op: str, port: int) -> tuple[float, float]:
    return 0.0, input_port_y(port)


def output_port_offset(op: str) -> tuple[float, float]:
    return NODE_W, output_port_y(arity(op))


# ---------------------------------------------------------------- instances (composites)
# An instance of a definition draws one labelled row per input (its port on the left, the
# gradient leaving through it on the right of the row), then for each output a value row (its
# port on the right) and a gradient row: a one-output instance is laid out as any op.

CALL = "call"


COMPACT_PORTS = 48
"""An instance with more ports than this on one side draws that side compactly: a parameter
bank's 337 outputs (DESIGN.md §7, engine.nn) as one summary row, not 337 rows."""
KEEP_INPUTS = 2
"""A compact input side keeps its first inputs' rows (engine.nn puts the data inputs first,
the parameters after them); every later input's port sits on one summary row under them."""
BUNDLE_MIN = 4
"""At least this many wires between the same two nodes are drawn as one bundle with a count."""


def compact_inputs(n_inputs: int) -> bool:
    return n_inputs > COMPACT_PORTS


def compact_outputs(n_outputs: int) -> bool:
    return n_outputs > COMPACT_PORTS


def input_rows(n_inputs: int) -> int:
    """Rows an instance's inputs take: one each, or when compact the kept ones plus a summary.

    >>> input_rows(3), input_rows(339)
    (3, 3)
    """
    return KEEP_INPUTS + 1 if compact_inputs(n_inputs) else n_inputs


def instance_input_row(n_inputs: int, port: int) -> int:
    """The row input ``port`` sits on (the summary row for every compacted input)."""
    return min(port, KEEP_INPUTS) if compact_inputs(n_inputs) else port


def instance_rows(n_inputs: int, n_outputs: int) -> int:
    """The ``n_inputs`` argument of :func:`node_height` for an instance: its input rows plus
    the value and gradient rows of every output past the first (a compact output side has
    only the summary row, where the value row is, and the gradient norm's row under it)."""
    extra = 0 if compact_outputs(n_outputs) else 2 * max(n_outputs - 1, 0)
    return input_rows(n_inputs) + extra


def instance_output_y(n_inputs: int, port: int, n_outputs: int = 1) -> float:
    """Centre height of output ``port`` of an instance with ``n_inputs`` inputs: level with
    that output's value row (every output of a compact side: level with the summary row).

    >>> instance_output_y(2, 0) == output_port_y(2), instance_output_y(2, 1) - instance_output_y(2, 0)
    (True, 36.0)
    >>> instance_output_y(0, 200, 337) == instance_output_y(0, 0, 337)
    True
    """
    if compact_outputs(n_outputs):
        port = 0
    return value_row_top(input_rows(n_inputs)) + 2 * port * ROW_H + ROW_H / 2


def instance_input_y(n_inputs: int, port: int) -> float:
    """Centre height of input ``port`` of an instance with ``n_inputs`` inputs."""
    return input_port_y(instance_input_row(n_inputs, port))


def ports_of(attrs) -> tuple[int, int]:
    """(inputs, outputs) of the node whose attributes are ``attrs`` (an instance's come from
    its definition; 1 output for every other node)."""
    op = attrs.get("op", "number")
    if op == CALL:
        d = attrs.get("definition")
        return (d.arity, d.output_arity) if d is not None and hasattr(d, "arity") else (0, 1)
    return arity(op), 1


def size_of(attrs, shape=None) -> tuple[float, float]:
    """(width, height) of the node with attributes ``attrs``, as the canvas draws it: an
    instance grows with its ports."""
    if attrs.get("op") == CALL:
        k, m = ports_of(attrs)
        return NODE_W, node_height(instance_rows(k, m), shape=shape if m == 1 else None)
    return node_size(attrs.get("op", "number"), shape)


def output_offset_of(attrs, port: int = 0) -> tuple[float, float]:
    """Offset of output ``port`` of the node with attributes ``attrs`` from its top-left."""
    if attrs.get("op") == CALL:
        k, m = ports_of(attrs)
        return NODE_W, instance_output_y(k, port, m)
    return output_port_offset(attrs.get("op", "number"))


def input_offset_of(attrs, port: int) -> tuple[float, float]:
    """Offset of input ``port`` of the node with attributes ``attrs`` from its top-left."""
    if attrs.get("op") == CALL:
        return 0.0, instance_input_y(ports_of(attrs)[0], port)
    return input_port_offset(attrs.get("op", "number"), port)
