"""Mini-batches: the data set in slices of ``batch_size`` rows, reshuffled every epoch.

``Batches(x, y, batch_size, shuffle=True, rng=...)`` is iterated once per epoch. With
shuffling, each epoch draws one permutation of the row indices from the seeded
``numpy.random.Generator`` and gathers each batch into two buffers allocated once
(``np.take(..., out=...)``): no copy of the whole data set per epoch, no allocation per
batch. Without shuffling the batches are views of the data. The last batch keeps the
remaining rows, even if fewer than ``batch_size``.

Given ``sample_weight`` (one weight per row), each batch is ``(x_batch, y_batch,
w_batch)``, the weights gathered with their rows by the same permutation (Keras' form of
a weighted batch); without, ``(x_batch, y_batch)`` exactly as before.

A yielded batch is valid until the next one is drawn (the buffers are reused).

``dtype`` (default ``x``'s) is the dtype of the yielded ``x`` batches. When it differs
from ``x``'s, each batch is cast as it is gathered, into a buffer allocated once: this is
how a memory-mapped ``x`` (``lucidnet.streaming``) is read, a batch at a time, never cast
whole.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from .streaming import take_rows

__all__ = ["Batches"]


class Batches:
    """Iterable of ``(x_batch, y_batch)`` over the rows of ``x`` and ``y``, or of
    ``(x_batch, y_batch, w_batch)`` when ``sample_weight`` is given."""

    def __init__(
        self,
        x: np.ndarray,
        y: np.ndarray,
        batch_size: int,
        shuffle: bool = True,
        rng: np.random.Generator | None = None,
        sample_weight: np.ndarray | None = None,
        dtype: np.dtype | None = None,
    ) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)):
            raise ValueError(f"batch_size must be an int >= 1, got {batch_size!r}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be an int >= 1, got {batch_size!r}")
        if len(x) != len(y):
            raise ValueError(f"x has {len(x)} rows but y has {len(y)}")
        if sample_weight is not None and np.shape(sample_weight) != (len(x),):
            raise ValueError(
                f"sample_weight must have shape ({len(x)},), one weight per row, got "
                f"{np.shape(sample_weight)}"
            )
        self.x, self.y = x, y
        self.sample_weight = None if sample_weight is None else np.asarray(sample_weight)
        self.batch_size = int(min(batch_size, max(len(x), 1)))
        self.shuffle = bool(shuffle)
        self.rng = rng if rng is not None else np.random.default_rng()
        self.dtype = x.dtype if dtype is None else np.dtype(dtype)
        self._xb = self._yb = self._wb = self._raw = None
        cast = self.dtype != x.dtype
        if self.shuffle or cast:
            self._xb = np.empty((self.batch_size, *x.shape[1:]), dtype=self.dtype)
        if cast and self.shuffle:  # the rows as they are in x, before the cast
            self._raw = np.empty((self.batch_size, *x.shape[1:]), dtype=x.dtype)
        if self.shuffle:
            self._yb = np.empty((self.batch_size, *y.shape[1:]), dtype=y.dtype)
            if self.sample_weight is not None:
                self._wb = np.empty(self.batch_size, dtype=self.sample_weight.dtype)

    def __len__(self) -> int:
        """Batches per epoch: ``ceil(rows / batch_size)``."""
        return -(-len(self.x) // self.batch_size)

    def __iter__(self) -> Iterator[tuple[np.ndarray, ...]]:
        if self.sample_weight is not None:
            yield from self._weighted()
            return
        n, size = len(self.x), self.batch_size
        if not self.shuffle:
            if self.dtype == self.x.dtype:
                for start in range(0, n, size):
                    yield self.x[start : start + size], self.y[start : start + size]
                return
            for start in range(0, n, size):
                yield self._slice(start, start + size), self.y[start : start + size]
            return
        if self._raw is not None:
            yield from self._cast_shuffled()
            return
        order = self.rng.permutation(n)
        for start in range(0, n, size):
            idx = order[start : start + size]
            xb, yb = self._xb[: len(idx)], self._yb[: len(idx)]  # type: ignore[index]
            # mode="clip": the indices are valid, and "raise" would buffer the output
            np.take(self.x, idx, axis=0, out=xb, mode="clip")
            np.take(self.y, idx, axis=0, out=yb, mode="clip")
            yield xb, yb

    def _slice(self, start: int, end: int) -> np.ndarray:
        """Rows ``start:end`` of ``x`` in ``dtype``: a view, or cast into the buffer."""
        part = self.x[start:end]
        if self.dtype == self.x.dtype:
            return part
        xb = self._xb[: len(part)]  # type: ignore[index]
        np.copyto(xb, part, casting="unsafe")
        return xb

    def _cast_shuffled(self) -> Iterator[tuple[np.ndarray, ...]]:
        """The shuffled batches, each gathered in ``x``'s dtype and cast to ``dtype``."""
        n, size, w = len(self.x), self.batch_size, self.sample_weight
        order = self.rng.permutation(n)
        for start in range(0, n, size):
            idx = order[start : start + size]
            k = len(idx)
            xb = take_rows(self.x, idx, self._xb[:k], self._raw)  # type: ignore[index]
            yb = np.take(self.y, idx, axis=0, out=self._yb[:k], mode="clip")  # type: ignore[index]
            if w is None:
                yield xb, yb
            else:
                yield xb, yb, np.take(w, idx, out=self._wb[:k], mode="clip")  # type: ignore[index]

    def _weighted(self) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """The batches with their weights: the same slices, or the same permutation."""
        n, size, w = len(self.x), self.batch_size, self.sample_weight
        assert w is not None
        if not self.shuffle:
            for start in range(0, n, size):
                end = start + size
                yield self._slice(start, end), self.y[start:end], w[start:end]
            return
        if self._raw is not None:
            yield from self._cast_shuffled()  # type: ignore[misc]
            return
        order = self.rng.permutation(n)
        for start in range(0, n, size):
            idx = order[start : start + size]
            k = len(idx)
            xb, yb, wb = self._xb[:k], self._yb[:k], self._wb[:k]  # type: ignore[index]
            np.take(self.x, idx, axis=0, out=xb, mode="clip")
            np.take(self.y, idx, axis=0, out=yb, mode="clip")
            np.take(w, idx, out=wb, mode="clip")
            yield xb, yb, wb
