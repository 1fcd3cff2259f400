"""Data that is not in memory: a NumPy memory map (``np.load(path, mmap_mode="r")``, or
``np.memmap``) read a batch at a time.

``fit`` and the scikit-learn estimators keep a memory-mapped input where it is, on disk:
they never cast it whole to the network's dtype (each batch is cast as it is gathered),
they check finiteness and range in blocks of rows, and early stopping splits row indices
rather than copying rows. The peak memory of training is then the batch buffers, the
network and the optimizer, whatever the size of the file; the operating system's page
cache holds the file's pages and gives them back under pressure.

An array in memory takes the paths it always took (one cast up front, then batches
gathered from memory): casting once costs less than casting every batch of every epoch.
"""

from __future__ import annotations

import mmap
from collections.abc import Iterator
from typing import Any

import numpy as np

__all__ = ["Rows", "max_abs", "on_disk", "row_blocks", "take_rows"]

BLOCK_VALUES = 1 << 18  # values per block of a whole-array check (2 MB of float64)


def on_disk(x: Any) -> bool:
    """Whether ``x`` is (a view of) a memory-mapped file: ``np.memmap``, the arrays
    ``np.load(..., mmap_mode=...)`` returns, and views of them (``np.asarray``, slices).

    It follows ``base`` to the buffer the data live in: an ``np.memmap`` that a function
    returned (``np.take(m, rows)``) is in memory, and its chain ends elsewhere."""
    while isinstance(x, np.ndarray):
        x = x.base
    return isinstance(x, mmap.mmap)


def take_rows(
    x: np.ndarray, rows: np.ndarray, out: np.ndarray, raw: np.ndarray | None = None
) -> np.ndarray:
    """Gather ``x[rows]`` into ``out`` (``(len(rows), *x.shape[1:])``) and return it.

    When ``out`` has ``x``'s dtype the rows go straight in; otherwise they are gathered
    into ``raw`` (a buffer of ``x``'s dtype, at least ``len(rows)`` rows) and cast into
    ``out``, as ``astype`` casts. Either way nothing the size of ``x`` is allocated.
    """
    if out.dtype == x.dtype:
        # mode="clip": the indices are valid, and "raise" would buffer the output
        return np.take(x, rows, axis=0, out=out, mode="clip")
    if raw is None:
        raw = np.empty(out.shape, dtype=x.dtype)
    part = np.take(x, rows, axis=0, out=raw[: len(rows)], mode="clip")
    np.copyto(out, part, casting="unsafe")
    return out


def row_blocks(x: np.ndarray, values: int = BLOCK_VALUES) -> Iterator[slice]:
    """Slices of rows covering ``x``, each about ``values`` values (at least one row): how
    a whole-array check or sum reads ``x`` without a temporary the size of ``x``."""
    per_row = int(np.prod(x.shape[1:], dtype=np.int64)) if x.ndim > 1 else 1
    rows = max(1, values // max(1, per_row))
    for start in range(0, len(x), rows):
        yield slice(start, start + rows)


def max_abs(x: np.ndarray) -> float:
    """``max(|x|)`` over a non-empty array, a block of rows at a time (no copy of ``x``)."""
    return max(float(np.abs(x[rows]).max()) for rows in row_blocks(x))


class Rows:
    """The rows ``index`` of an on-disk array ``x``, without copying them: what early
    stopping trains on when it holds rows out of a memory map. The solver gathers
    ``x[index[batch]]`` a batch at a time."""

    def __init__(self, x: np.ndarray, index: np.ndarray) -> None:
        self.x, self.index = x, np.asarray(index)
        self.shape = (len(self.index), *x.shape[1:])
        self.dtype = x.dtype

    def __len__(self) -> int:
        return len(self.index)
