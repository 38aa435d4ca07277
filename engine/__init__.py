"""gradcanvas engine: the document model and all the math. Pure Python + networkx, no Qt.

>>> from engine import NumberWithGrad
>>> a = NumberWithGrad(3); e = (a * 4 + 3) * (a + 2); e.backward(); a.grad
35
"""

from . import training as _training  # noqa: E402,F401,I001 - registers the dataset node kind (engine.core.kinds)
from .core.arrays import ShapeError
from .core.composites import CompositeError, Definition, DefinitionInUseError, RecursiveDefinitionError
from .core.errors import (
    CycleError,
    DocumentError,
    DuplicateNameError,
    GraphError,
    InvalidNameError,
    InvalidValueError,
    NodeNotFoundError,
    NoOutputError,
    ParseError,
    PortError,
    PortInUseError,
    PortNotConnectedError,
    UnknownOpError,
)
from .core.graph import Event, Graph
from .core.groups import group
from .core.higher_order import NoPathError, grad
from .core.ops import HELPER_OPS, NUMBER, OPERATORS, OPS, SCALAR_OPS, TENSOR_OPS, Op
from .core.value import NumberWithGrad, Value, ensure_number

__version__ = "0.1.0"

__all__ = [
    "HELPER_OPS",
    "NUMBER",
    "OPERATORS",
    "OPS",
    "SCALAR_OPS",
    "TENSOR_OPS",
    "ShapeError",
    "CompositeError",
    "CycleError",
    "Definition",
    "DefinitionInUseError",
    "DocumentError",
    "DuplicateNameError",
    "Event",
    "Graph",
    "GraphError",
    "InvalidNameError",
    "InvalidValueError",
    "NodeNotFoundError",
    "NoOutputError",
    "NoPathError",
    "NumberWithGrad",
    "Op",
    "ParseError",
    "PortError",
    "PortInUseError",
    "PortNotConnectedError",
    "RecursiveDefinitionError",
    "UnknownOpError",
    "Value",
    "__version__",
    "ensure_number",
    "grad",
    "group",
]
