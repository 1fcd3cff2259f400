"""CSV files: the user's own tabular data, every problem reported with its file, line and
column."""

from __future__ import annotations

import csv
import hashlib
import io
import math
import os
from pathlib import Path
from typing import NamedTuple

import numpy as np

__all__ = ["CSVTable", "RawTable", "load_csv", "read_csv", "read_raw"]

_Path = str | os.PathLike[str]


class CSVTable(NamedTuple):
    """A CSV file read by ``read_csv``.

    ``X``: ``(n, features)`` float32; ``y``: ``(n,)`` int64 (whole numbers or class
    indices) or float32; ``classes``: the sorted class names that ``y`` indexes, or None
    when the target column holds numbers. Read with ``target=None`` (no target column):
    ``y`` is empty, ``(0,)`` int64, ``target_name`` is ``""`` and ``classes`` None.
    """

    X: np.ndarray
    y: np.ndarray
    feature_names: list[str]
    target_name: str
    classes: list[str] | None


def _finite_number(cell: str) -> float | None:
    try:
        v = float(cell)
    except ValueError:
        return None
    return v if math.isfinite(v) else None


def _column(j: int, names: list[str] | None) -> str:
    return f"column {j + 1} ({names[j]!r})" if names else f"column {j + 1}"


def _cell_error(path: Path, line: int, j: int, names: list[str] | None, cell: str) -> str:
    at = f"{path}, line {line}, {_column(j, names)}"
    if not cell.strip():
        return f"{at}: empty cell"
    if _finite_number(cell) is None and _is_float(cell):
        return f"{at}: {cell.strip()!r} is not a finite number"
    return f"{at}: {cell.strip()!r} is not a number"


def _is_float(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _read_rows(path: Path, delimiter: str, text: str | None = None) -> list[tuple[int, list[str]]]:
    """The non-blank rows of the file (or of ``text``, read from standard input), each with
    the line (1-based) where it starts."""
    rows = []
    try:
        f = (
            io.StringIO(text, newline="")
            if text is not None
            else path.open(newline="", encoding="utf-8-sig")
        )
        with f:
            reader = csv.reader(f, delimiter=delimiter, strict=True)
            end = 0
            try:
                for row in reader:
                    start, end = end + 1, reader.line_num
                    if row and not (len(row) == 1 and not row[0].strip()):
                        rows.append((start, row))
            except csv.Error as err:
                raise ValueError(f"{path}, line {reader.line_num}: {err}") from err
    except UnicodeDecodeError as err:
        raise ValueError(f"{path}: not UTF-8 text ({err})") from err
    return rows


class RawTable:
    """A CSV file as text: its column names, its rows of cells (each with its line), and
    the SHA-256 of its bytes. ``read_raw`` makes one; the data contract
    (``lucidnet.data_contract``) reads features and targets from it by column name.

    Every row has as many cells as the first; a file without a header row gets the names
    ``"column 1"``, ``"column 2"``, ...
    """

    def __init__(
        self,
        source: str,
        names: list[str],
        has_header: bool,
        rows: list[tuple[int, list[str]]],
        sha256: str,
        first_line: int,
    ) -> None:
        self.source, self.names, self.has_header = source, names, has_header
        self.rows, self.sha256, self.first_line = rows, sha256, first_line

    @property
    def source_name(self) -> str:
        """The file's name without its folder (what a model file records)."""
        return os.path.basename(self.source) or self.source

    def where(self, line: int, j: int) -> str:
        """``"FILE, line L, column J ('name')"``."""
        return f"{self.source}, line {line}, {_column(j, self.names if self.has_header else None)}"

    def cell_error(self, line: int, j: int, cell: str) -> str:
        """What is wrong with a cell that should hold a number."""
        return _cell_error(
            Path(self.source), line, j, self.names if self.has_header else None, cell
        )

    def column_index(self, target: int | str) -> int:
        """The position of the column named ``target``, or at index ``target`` (negative
        counts from the end); ValueError naming the valid ones."""
        ncols = len(self.names)
        if isinstance(target, str):
            if not self.has_header:
                raise ValueError(
                    f"read_csv: target {target!r} is a column name, but {self.source} has no "
                    f"header row (line {self.first_line} holds only numbers); pass header=True "
                    "or an index"
                )
            matches = [j for j, name in enumerate(self.names) if name == target.strip()]
            if len(matches) != 1:
                problem = "is not in" if not matches else "appears more than once in"
                raise ValueError(
                    f"{self.source}, line {self.first_line}: target {target!r} {problem} the "
                    f"header; the columns are {self.names}"
                )
            return matches[0]
        if not -ncols <= target < ncols:
            raise ValueError(
                f"read_csv: target index {target} is out of range for {self.source}, which has "
                f"{ncols} columns (valid: {-ncols} to {ncols - 1})"
            )
        return int(target) % ncols


HEADER_SAMPLE = 1000  # rows compared with the first one to tell a header from data


def read_raw(
    path: _Path, delimiter: str = ",", header: bool | str = "auto", stdin: str | None = None
) -> RawTable:
    """Read a CSV file's cells as text (``path`` ``"-"`` with ``stdin``: text read from
    standard input). Raises ValueError for an empty file, a header without rows, or a row
    whose number of cells differs from the first's, naming the file and line.

    ``header="auto"``: the first row is a header when one of its cells is not a number and
    none of its text cells appears again in its column in the next ``HEADER_SAMPLE`` rows
    (a first row of data with text labels or categories, ``13.7,red,barolo``, shares them
    with later rows; column names do not)."""
    if not isinstance(delimiter, str) or len(delimiter) != 1:
        raise ValueError(f"read_csv: delimiter must be one character, got {delimiter!r}")
    if header not in (True, False, "auto"):
        raise ValueError(f"read_csv: header must be True, False or 'auto', got {header!r}")
    path = Path(path)
    source = "<stdin>" if stdin is not None and str(path) == "-" else str(path)
    if stdin is not None:
        stdin = stdin.removeprefix("\ufeff")  # a byte-order mark, as utf-8-sig drops it
        data = stdin.encode("utf-8")
        rows = _read_rows(Path(source), delimiter, stdin)
    else:
        if path.is_dir():
            raise ValueError(f"{path}: a folder, not a CSV file")
        data = path.read_bytes()
        rows = _read_rows(path, delimiter)
    if not rows:
        raise ValueError(f"{source}: the file is empty")
    first_line, first = rows[0]
    ncols = len(first)
    if header == "auto":
        text = [j for j, cell in enumerate(first) if _finite_number(cell) is None]
        below = rows[1 : 1 + HEADER_SAMPLE]  # enough to meet a repeated label again
        header = bool(text) and not any(
            first[j].strip() in {row[j].strip() for _, row in below if j < len(row)} for j in text
        )
    names = [f"column {j + 1}" for j in range(ncols)]
    if header:
        names = [c.strip() or f"column {j + 1}" for j, c in enumerate(first)]
        rows = rows[1:]
    for line, row in rows:
        if len(row) != ncols:
            given = names if header else None
            if len(row) < ncols:
                detail = f"{_column(len(row), given)} onwards missing"
            else:
                detail = f"cells after {_column(ncols - 1, given)}, the last, are extra"
            raise ValueError(
                f"{source}, line {line}: expected {ncols} cells (as on line {first_line}), "
                f"got {len(row)}: {detail}"
            )
    if not rows:
        raise ValueError(f"{source}: a header on line {first_line} but no data rows")
    digest = hashlib.sha256(data).hexdigest()
    return RawTable(source, names, bool(header), rows, digest, first_line)


def read_csv(
    path: _Path,
    target: int | str | None = -1,
    delimiter: str = ",",
    header: bool | str = "auto",
    text: str | None = None,
) -> CSVTable:
    """Read a CSV file of numeric features and one target column (or none).

    Parameters
    ----------
    path : str or os.PathLike
        A UTF-8 text file. Blank lines are skipped.
    target : int, str or None
        The target column: a 0-based index (negative counts from the end, ``-1`` is the
        last column) or a name from the header row; None: there is none, every column is
        a feature (inputs to predict on).
    delimiter : str
        The one-character cell separator.
    header : bool or "auto"
        Whether the first row holds column names; ``"auto"``: it does if any of its cells
        is not a finite number.
    text : str or None
        The file's content, already read (an upload): ``path`` then only names it in
        messages.

    Returns
    -------
    CSVTable
        ``X``: ``(n, features)`` float32, the other columns in file order;
        ``y``: ``(n,)``: int64 if every target is a whole number, float32 if they are
        numbers but not all whole, otherwise int64 indices into ``classes``, the sorted
        distinct target strings; ``feature_names`` and ``target_name`` from the header, or
        ``"column 1"``, ``"column 2"``, ... without one. With ``target=None``: ``X``
        holds every column, ``y`` is empty (shape ``(0,)``, int64), ``target_name`` is
        ``""`` and ``classes`` None.

    Raises
    ------
    ValueError
        The arguments are wrong, or the file is: empty, a row with the wrong number of
        cells, an empty cell, a non-numeric or non-finite feature, a target name that is
        not in the header. Each message names the file, the line (1-based) and the column
        (1-based, with its name when there is a header).
    FileNotFoundError
        There is no such file.
    """
    if target is not None and (
        isinstance(target, bool) or not isinstance(target, (int, np.integer, str))
    ):
        raise ValueError(
            f"read_csv: target must be a column index, a column name or None, got {target!r}"
        )
    table = read_raw(path, delimiter, header, stdin=text)
    path = Path(path)
    rows, first_line = table.rows, table.first_line
    ncols = len(table.names)
    names = table.names if table.has_header else None
    if target is not None and ncols < 2:
        raise ValueError(
            f"{path}, line {first_line}: found {ncols} column; need at least 2 (features "
            "and a target)"
        )
    t = None if target is None else table.column_index(target)  # None: all are features

    features = [j for j in range(ncols) if j != t]
    values: list[list[float]] = []
    targets: list[str] = []
    for line, row in rows:
        try:
            values.append([float(row[j]) for j in features])
        except ValueError:
            bad = next(j for j in features if not _is_float(row[j]))
            raise ValueError(_cell_error(path, line, bad, names, row[bad])) from None
        if t is None:
            continue
        cell = row[t].strip()
        if not cell or (_is_float(cell) and _finite_number(cell) is None):  # "", nan, inf
            raise ValueError(_cell_error(path, line, t, names, cell))
        targets.append(cell)
    with np.errstate(over="ignore"):
        x = np.array(values, dtype=np.float64).astype(np.float32)  # (n, features)
    if not np.isfinite(x).all():
        i, k = (int(v) for v in np.argwhere(~np.isfinite(x))[0])
        line, row = rows[i]
        j = features[k]
        at = f"{path}, line {line}, {_column(j, names)}"
        if _finite_number(row[j]) is not None:
            raise ValueError(f"{at}: {row[j].strip()!r} is too large for float32")
        raise ValueError(_cell_error(path, line, j, names, row[j]))
    all_names = names or [f"column {j + 1}" for j in range(ncols)]
    feature_names = [all_names[j] for j in features]
    if t is None:
        return CSVTable(x, np.empty(0, dtype=np.int64), feature_names, "", None)

    numbers = [_finite_number(v) for v in targets]
    classes = None
    if all(v is not None for v in numbers):
        y = np.array(numbers, dtype=np.float64)
        if np.all(y == np.round(y)) and np.all(np.abs(y) < 2.0**53):
            y = y.astype(np.int64)
        else:
            with np.errstate(over="ignore"):
                y = y.astype(np.float32)
            if not np.isfinite(y).all():
                i = int(np.argmin(np.isfinite(y)))
                at = f"{path}, line {rows[i][0]}, {_column(t, names)}"
                raise ValueError(f"{at}: {targets[i]!r} is too large for float32")
    else:
        classes = sorted(set(targets))
        index = {name: i for i, name in enumerate(classes)}
        y = np.array([index[v] for v in targets], dtype=np.int64)
    return CSVTable(x, y, feature_names, all_names[t], classes)


def load_csv(
    path: _Path,
    target: int | str | None = -1,
    delimiter: str = ",",
    header: bool | str = "auto",
) -> tuple[np.ndarray, np.ndarray]:
    """``read_csv(...)[:2]``: the features ``X: (n, features)`` float32 and the targets
    ``y: (n,)`` (empty with ``target=None``). See ``read_csv`` for the arguments, the target
    types and the errors."""
    table = read_csv(path, target=target, delimiter=delimiter, header=header)
    return table.X, table.y
