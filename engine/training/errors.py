"""The refusals of engine.training: each says what was refused and names the node, step, row
or column. Both kinds are also ValueErrors, so callers that only know "bad input" catch them."""

from __future__ import annotations

from ..core.errors import DocumentError, GraphError


class TrainingError(GraphError, ValueError):
    """A training set-up the trainer refuses (a node that cannot be a parameter, data nodes of
    different lengths, a loss that is not a scalar, a bad hyperparameter); nothing was run."""


class TrainingStopped(TrainingError):
    """A run stopped at a step (a non-finite loss, gradient or update). ``step`` is the step
    that was not taken; the trainer keeps the state before it."""

    def __init__(self, message: str, step: int):
        super().__init__(message)
        self.step = step


class DataError(DocumentError, ValueError):
    """A dataset the generators or the CSV reader refuse. ``row`` and ``column`` (1-based row
    of the file, column name) say where, when a cell is to blame; nothing was loaded."""

    def __init__(self, message: str, row: int | None = None, column: str | None = None):
        super().__init__(message)
        self.row = row
        self.column = column


__all__ = ["DataError", "TrainingError", "TrainingStopped"]
