"""CSV import: a header row, chosen feature and target columns, every cell checked.

The reader is all or nothing: it returns a Dataset, or raises a DataError that names the row
(counted in the file, the header being row 1) and the column of the first bad cell, and
nothing is kept. It refuses an empty file, a header with blank or repeated names, ragged rows,
text or non-finite numbers in a number column, a file over the row limit (found without
reading past the limit), and a file that looks ``;``- or tab-separated when the separator is
``,`` (the message says which separator to choose). A UTF-8 byte-order mark is skipped.

The target column decides the task: all text (``setosa``) → classes in order of first
appearance; whole numbers with at most 32 distinct values → classes (their values, sorted,
become 0..C−1 and stay in ``class_names``); other numbers → regression. ``task=`` overrides.

>>> import io
>>> d = read_csv(io.StringIO("x1,x2,label\\n0.5,1,a\\n-1,2,b\\n3,0,a\\n"))
>>> d.X.tolist(), d.y.tolist(), d.class_names, d.features
([[0.5, 1.0], [-1.0, 2.0], [3.0, 0.0]], [0, 1, 0], ('a', 'b'), ('x1', 'x2'))
"""

from __future__ import annotations

import csv as _csv
import io
import math
import numbers
import re
from pathlib import Path

import numpy as np

from ..core import arrays
from .datasets import MAX_CLASSES, Dataset, _extent, _frozen, _real, _whole
from .errors import DataError

MAX_ROWS = 100_000
TASKS = ("auto", "classification", "regression")
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def read_csv(
    source,
    features=None,
    target=None,
    task: str = "auto",
    delimiter: str = ",",
    max_rows: int = MAX_ROWS,
    split: float = 1.0,
    seed: int = 0,
) -> Dataset:
    """Read a CSV file (a path, or an open text stream) into a Dataset.

    ``features``: the input columns (names or 0-based indices; default every column but the
    target); ``target``: the target column (default the last); ``task``: "auto",
    "classification" or "regression"; ``split``: the fraction of rows kept for training (the
    rest, chosen by ``RandomState(seed)``, are test rows). DataError on any problem.
    """
    if not isinstance(delimiter, str) or len(delimiter) != 1 or delimiter in '"\r\n':
        raise DataError(f"the separator must be one character such as ',' or ';', not {delimiter!r}")
    if task not in TASKS:
        raise DataError(f"task must be one of {', '.join(TASKS)}, not {task!r}")
    max_rows = _whole(max_rows, "max_rows", 1, MAX_ROWS)
    split = _real(split, "split", 0.0, 1.0)
    seed = _whole(seed, "seed", 0, 2**32 - 1)
    name = Path(source).stem if isinstance(source, (str, Path)) else "csv"
    with _open(source) as stream:
        try:
            header, rows = _read(stream, delimiter, max_rows)
        except UnicodeDecodeError as e:
            raise DataError(f"the file is not UTF-8 text (byte {e.start} cannot be read)") from None
        except _csv.Error as e:
            raise DataError(f"the file is not readable as CSV: {e}") from None
    t = _column(header, target if target is not None else len(header) - 1, "target")
    if features is None:
        fs = [k for k in range(len(header)) if k != t]
    else:
        if isinstance(features, (str, int)):
            features = [features]
        if not isinstance(features, (list, tuple)):
            raise DataError(f"features is a list of column names, not {features!r}")
        fs = [_column(header, f, "feature") for f in features]
        if len(set(fs)) != len(fs):
            raise DataError("a feature column is chosen twice")
    if not fs:
        raise DataError("no feature columns: the file needs a column besides the target")
    if t in fs:
        raise DataError(f"column {header[t]!r} cannot be both a feature and the target")
    if len(rows) * len(fs) > arrays.MAX_ELEMENTS:
        raise DataError(
            f"{len(rows):,} rows × {len(fs)} features is more than {arrays.MAX_ELEMENTS:,} numbers"
        )
    X = np.empty((len(rows), len(fs)))
    for r, (line, cells) in enumerate(rows):
        for c, k in enumerate(fs):
            X[r, c] = _number(cells[k], line, header[k])
    y, classes, names = _target(rows, t, header[t], task)
    n = len(rows)
    if split < 1.0:
        perm = np.random.RandomState(seed).permutation(n)
        k = round(n * split)
        if k < 1:
            raise DataError(f"split {split} leaves no training rows out of {n}")
        train, test = np.sort(perm[:k]), np.sort(perm[k:])
    else:
        train, test = np.arange(n), np.arange(0)
    return Dataset(
        _frozen(X),
        _frozen(y),
        _frozen(train),
        _frozen(test),
        classes,
        tuple(header[k] for k in fs),
        None,
        _extent(X),
        name,
        names,
    )


def read_header(source, delimiter: str = ",") -> list[str]:
    """The column names of a CSV file (for an import dialog), checked as :func:`read_csv`
    checks them."""
    with _open(source) as stream:
        try:
            return _header(_csv.reader(stream, delimiter=delimiter), delimiter)
        except UnicodeDecodeError as e:
            raise DataError(f"the file is not UTF-8 text (byte {e.start} cannot be read)") from None
        except _csv.Error as e:
            raise DataError(f"the file is not readable as CSV: {e}") from None


class _open:
    """A path opened as UTF-8 (a BOM skipped), or a caller's stream left open."""

    def __init__(self, source):
        self.source = source
        self.file = None

    def __enter__(self):
        if isinstance(self.source, (str, Path)):
            try:
                self.file = open(self.source, encoding="utf-8-sig", newline="")  # noqa: SIM115
            except OSError as e:
                raise DataError(f"cannot read {str(self.source)!r}: {e.strerror or e}") from None
            return self.file
        if isinstance(self.source, io.TextIOBase) or hasattr(self.source, "read"):
            return _SkipBom(self.source)
        raise DataError(f"a CSV source is a path or a text stream, not {type(self.source).__name__}")

    def __exit__(self, *exc):
        if self.file is not None:
            self.file.close()


class _SkipBom:
    """A caller's text stream whose first character, if a BOM, is dropped."""

    def __init__(self, stream):
        self.stream = stream
        self.first = True

    def __iter__(self):
        for line in self.stream:
            if self.first:
                self.first = False
                line = line.lstrip("\ufeff")
            yield line


def _header(reader, delimiter) -> list[str]:
    for cells in reader:
        if cells:
            break
    else:
        raise DataError("the file is empty: it needs a header row and data rows")
    header = [c.strip() for c in cells]
    if len(header) == 1:
        for sep, word in ((";", "';'"), ("\t", "tab")):
            if sep != delimiter and sep in header[0]:
                raise DataError(
                    f"row 1 is one column {header[0][:40]!r}: the file looks {word}-separated; "
                    f"choose {word} as the separator"
                )
    for k, name in enumerate(header):
        if not name:
            raise DataError(f"row 1: column {k + 1} has no name", 1, None)
        if name in header[:k]:
            raise DataError(f"row 1: the column name {name!r} appears twice", 1, name)
    return header


def _read(stream, delimiter, max_rows):
    reader = _csv.reader(stream, delimiter=delimiter)
    header = _header(reader, delimiter)
    rows = []
    for cells in reader:
        if not cells or (len(cells) == 1 and not cells[0].strip()):
            continue  # blank lines (a trailing newline, a gap) hold no row
        line = reader.line_num
        if len(cells) != len(header):
            raise DataError(f"row {line} has {len(cells)} cells; the header has {len(header)}", line, None)
        if len(rows) == max_rows:
            raise DataError(f"the file has more than {max_rows:,} data rows (the limit)", line, None)
        rows.append((line, cells))
    if not rows:
        raise DataError("the file has a header but no data rows")
    return header, rows


def _column(header, ref, what) -> int:
    if isinstance(ref, str):
        if ref in header:
            return header.index(ref)
        raise DataError(f"no {what} column {ref!r}; the columns are {', '.join(header)}")
    if isinstance(ref, numbers.Integral) and not isinstance(ref, bool) and 0 <= ref < len(header):
        return int(ref)
    raise DataError(
        f"no {what} column {ref!r}; give a name ({', '.join(header)}) or an index 0..{len(header) - 1}"
    )


def _number(cell: str, line: int, column: str) -> float:
    text = cell.strip()
    if not text:
        raise DataError(f"row {line}, column {column!r}: the cell is empty", line, column)
    if not _NUMBER.fullmatch(text):
        hint = " (a decimal comma? write 1.5, not 1,5)" if re.fullmatch(r"[+-]?\d+,\d+", text) else ""
        raise DataError(f"row {line}, column {column!r}: {text[:40]!r} is not a number{hint}", line, column)
    v = float(text)
    if not math.isfinite(v):
        raise DataError(
            f"row {line}, column {column!r}: {text[:40]!r} is too large for a number", line, column
        )
    return v


def _target(rows, t, column, task):
    cells = [(line, cells[t].strip()) for line, cells in rows]
    numeric = [bool(_NUMBER.fullmatch(text)) for _, text in cells]
    if task != "regression" and not any(numeric):
        for line, text in cells:
            if not text:
                raise DataError(f"row {line}, column {column!r}: the cell is empty", line, column)
        names = list(dict.fromkeys(text for _, text in cells))  # first appearance order
        if len(names) > MAX_CLASSES:
            raise DataError(
                f"column {column!r} has {len(names)} different labels; at most {MAX_CLASSES} classes"
            )
        if len(names) < 2:
            raise DataError(f"column {column!r} has one label {names[0]!r}: classes need at least two")
        index = {name: k for k, name in enumerate(names)}
        return np.array([index[text] for _, text in cells], dtype=np.int64), len(names), tuple(names)
    values = np.array([_number(text, line, column) for line, text in cells])
    whole = bool(np.all(np.floor(values) == values))
    distinct = np.unique(values)
    if task == "classification" or (task == "auto" and whole and len(distinct) <= MAX_CLASSES):
        if not whole:
            k = int(np.argmax(np.floor(values) != values))
            raise DataError(
                f"row {cells[k][0]}, column {column!r}: {cells[k][1]!r} is not a whole class label",
                cells[k][0],
                column,
            )
        if len(distinct) > MAX_CLASSES or len(distinct) < 2:
            raise DataError(
                f"column {column!r} has {len(distinct)} classes; classification needs 2..{MAX_CLASSES}"
            )
        if np.array_equal(distinct, np.arange(len(distinct))):
            return values.astype(np.int64), len(distinct), ()
        y = np.searchsorted(distinct, values).astype(np.int64)
        return y, len(distinct), tuple(f"{v:g}" for v in distinct)
    return values, None, ()


__all__ = ["MAX_ROWS", "read_csv", "read_header"]
