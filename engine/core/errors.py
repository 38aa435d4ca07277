"""Exception classes. Each message says what was refused and names the node, port or place."""


class GraphError(Exception):
    """An edit or query the graph refused; the graph is unchanged."""


class NodeNotFoundError(GraphError, KeyError):
    def __str__(self):  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class CycleError(GraphError):
    pass


class PortError(GraphError):
    """A port that does not exist on that node."""


class PortInUseError(GraphError):
    """The input port already has a wire; disconnect it first."""


class PortNotConnectedError(GraphError):
    pass


class NameError_(GraphError):
    """A name that is malformed or already taken."""


class DuplicateNameError(NameError_):
    pass


class InvalidNameError(NameError_):
    pass


class InvalidValueError(GraphError):
    pass


class UnknownOpError(GraphError):
    pass


class NoOutputError(GraphError):
    """Backward needs one output and the graph does not say which."""


class ParseError(Exception):
    """An expression or program that the parser refuses. Has ``line`` and ``col`` (1-based)."""

    def __init__(self, message: str, line: int = 1, col: int = 1):
        self.msg = message
        self.line = line
        self.col = col
        super().__init__(f"line {line}, column {col}: {message}")


class DocumentError(Exception):
    """A document that cannot be loaded or saved; the open document is untouched."""
