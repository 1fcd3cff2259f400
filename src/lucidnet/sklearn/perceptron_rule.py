"""The Perceptron estimator's training, one-vs-rest columns side by side: the per-sample
rule with scikit-learn's penalties (``_Rule``), the columns being trained
(``_Columns``), each column's stopping rule (``_Stopping``), and the rows made dense a
block at a time. ``lucidnet.sklearn.perceptron`` holds the estimator that drives them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from ..validation import check_finite

# How much of a sparse X (or of a shuffled dense X) is made dense at once, in floats.
_BLOCK_FLOATS = 1 << 20

# Without a penalty, find the next mistake by a matrix product over the rows ahead
# (_Rule._plain) rather than row by row (_Rule._plain_reference, the definition).
_LOOKAHEAD = True

# --- the rule --------------------------------------------------------------------------------


@dataclass
class _Columns:
    """The perceptrons being trained, one column each.

    ``W (n_features, n_columns)``, ``b (n_columns,)``; with a penalty also the l1 step's
    ``q (n_features, n_columns)`` (the l1 change applied to each weight so far) and
    ``u`` (the most it could have been), and the norms ``sq`` (``|w|^2``) and ``l1``
    (``|w|_1``) as scikit-learn's objective reads them (``(n_columns,)``).
    """

    W: np.ndarray
    b: np.ndarray
    q: np.ndarray | None = None
    sq: np.ndarray | None = None
    l1: np.ndarray | None = None
    u: float = 0.0

    @classmethod
    def start(cls, W: np.ndarray, b: np.ndarray, penalized: bool) -> _Columns:
        if not penalized:
            return cls(W, b)
        return cls(W, b, np.zeros_like(W), (W * W).sum(axis=0), np.abs(W).sum(axis=0))

    def take(self, cols: np.ndarray) -> _Columns:
        """A copy of the columns ``cols`` (the perceptrons still training)."""
        if self.q is None:
            return _Columns(self.W[:, cols], self.b[cols])
        assert self.sq is not None and self.l1 is not None
        return _Columns(
            self.W[:, cols], self.b[cols], self.q[:, cols], self.sq[cols], self.l1[cols], self.u
        )

    def put(self, cols: np.ndarray, part: _Columns) -> None:
        """Write back what ``take(cols)`` gave, after training."""
        self.W[:, cols] = part.W
        self.b[cols] = part.b
        if self.q is not None:
            assert self.sq is not None and self.l1 is not None
            self.q[:, cols], self.sq[cols], self.l1[cols] = part.q, part.sq, part.l1
            self.u = part.u


_Blocks = Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class _Rule:
    """One epoch of plain SGD on ``max(0, -y z)`` at the constant rate ``eta0`` (the rule
    in ``Perceptron``'s docstring), for all columns at once. ``l1_ratio`` None: no
    penalty."""

    eta0: float
    alpha: float
    l1_ratio: float | None
    fit_intercept: bool

    def epoch(self, blocks: _Blocks, cols: _Columns) -> tuple[np.ndarray, np.ndarray, int]:
        """Train ``cols`` in place on the rows of ``blocks`` (``x``, ``y`` and the step
        ``eta * y * s`` per column) in order. Returns per column the updates made and
        the summed objective (loss, and penalty, met before each sample's update), and
        the rows that updated at least one column."""
        if self.l1_ratio is not None:
            return self._penalized(blocks, cols, self.l1_ratio)
        return self._plain(blocks, cols) if _LOOKAHEAD else self._plain_reference(blocks, cols)

    def _plain(self, blocks: _Blocks, cols: _Columns) -> tuple[np.ndarray, np.ndarray, int]:
        """The rule without a penalty, skipping ahead: the weights change only at a
        mistake, so ``z`` for the next rows (a window that doubles while no row is wrong)
        is one matrix product, and the rule resumes at the first mistaken row. The same
        updates as ``_plain_reference`` (``z`` to rounding); ``_LOOKAHEAD`` picks it."""
        W, b = cols.W, cols.b
        updates = np.zeros(W.shape[1], dtype=np.int64)
        loss = np.zeros(W.shape[1])
        touched = 0
        for X, Y, S in blocks:
            i, window = 0, 8
            while i < len(X):
                YZ = Y[i : i + window] * (X[i : i + window] @ W + b)  # (window, n_columns)
                bad = (YZ <= 0).any(axis=1)
                k = int(bad.argmax())
                if not bad[k]:  # no mistake in the window: nothing changed
                    i, window = i + window, min(2 * window, 256)
                    continue
                yz = YZ[k]
                wrong = yz <= 0
                loss -= yz * wrong  # max(0, -y z)
                step = S[i + k] * wrong
                if step.any():
                    W += np.outer(X[i + k], step)
                    if self.fit_intercept:
                        b += step
                    updates += step != 0
                    touched += 1
                i, window = i + k + 1, max(4, 2 * (k + 1))
        return updates, loss, touched

    def _plain_reference(
        self, blocks: _Blocks, cols: _Columns
    ) -> tuple[np.ndarray, np.ndarray, int]:
        """The rule without a penalty, one sample at a time as defined."""
        W, b = cols.W, cols.b
        updates = np.zeros(W.shape[1], dtype=np.int64)
        loss = np.zeros(W.shape[1])
        touched = 0
        for X, Y, S in blocks:
            for x, y, s in zip(X, Y, S, strict=True):
                yz = y * (x @ W + b)
                wrong = yz <= 0
                if wrong.any():
                    loss -= yz * wrong  # max(0, -y z)
                    step = s * wrong
                    if step.any():
                        W += np.outer(x, step)
                        if self.fit_intercept:
                            b += step
                        updates += step != 0
                        touched += 1
        return updates, loss, touched

    def _penalized(
        self, blocks: _Blocks, cols: _Columns, r: float
    ) -> tuple[np.ndarray, np.ndarray, int]:
        W, b, q = cols.W, cols.b, cols.q
        sq, l1 = cols.sq, cols.l1
        assert q is not None and sq is not None and l1 is not None
        shrink = max(0.0, 1.0 - (1.0 - r) * self.eta0 * self.alpha)  # 1 for pure l1
        l1_step = r * self.eta0 * self.alpha
        updates = np.zeros(W.shape[1], dtype=np.int64)
        objective = np.zeros(W.shape[1])
        touched = 0
        for X, Y, S in blocks:
            for x, y, s in zip(X, Y, S, strict=True):
                yz = y * (x @ W + b)
                wrong = yz <= 0
                objective -= yz * wrong
                objective += self.alpha * ((1.0 - r) * 0.5 * sq + r * l1)
                if shrink != 1.0:
                    W *= shrink
                    sq *= shrink * shrink
                    l1 *= shrink
                step = s * wrong
                if step.any():
                    W += np.outer(x, step)
                    if self.fit_intercept:
                        b += step
                    changed = step != 0
                    sq[:] = np.where(changed, np.einsum("ij,ij->j", W, W), sq)
                    l1[:] = np.where(changed, np.abs(W).sum(axis=0), l1)
                    updates += changed
                    touched += 1
                if l1_step:  # truncate towards 0 by what the l1 penalty still owes
                    cols.u += l1_step
                    cut = np.where(
                        W > 0,
                        np.maximum(0.0, W - (cols.u + q)),
                        np.where(W < 0, np.minimum(0.0, W + (cols.u - q)), W),
                    )
                    q += cut - W
                    W[:] = cut
        return updates, objective, touched


@dataclass
class _Stopping:
    """scikit-learn's stopping rule, kept per column; a stopped column is frozen."""

    n_columns: int
    tol: float | None
    patience: int
    stop_without_updates: bool  # lucidnet's extra: no update, no penalty -> nothing left
    active: np.ndarray = field(init=False)
    best: np.ndarray = field(init=False)
    stall: np.ndarray = field(init=False)
    epochs: np.ndarray = field(init=False)
    last_updates: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.active = np.ones(self.n_columns, dtype=bool)
        self.best = np.full(self.n_columns, np.nan)
        self.stall = np.zeros(self.n_columns, dtype=np.int64)
        self.epochs = np.zeros(self.n_columns, dtype=np.int64)
        self.last_updates = np.zeros(self.n_columns, dtype=np.int64)

    def after_epoch(
        self,
        cols: np.ndarray,
        epoch: int,
        updates: np.ndarray,
        objective: np.ndarray | None = None,
        score: np.ndarray | None = None,
    ) -> None:
        """Count the epoch for ``cols``: the objective (lower is better) or the validation
        score (higher is better) against the best so far; freeze those that stop."""
        self.epochs[cols] = epoch
        self.last_updates[cols] = updates
        if score is not None:  # scikit-learn: no improvement when score < best + tol
            best = np.where(np.isnan(self.best[cols]), -np.inf, self.best[cols])
            worse = score < best + self.tol if self.tol is not None else np.zeros_like(score, bool)
            self.best[cols] = np.maximum(best, score)
        else:  # scikit-learn: no improvement when objective > best - tol
            assert objective is not None
            best = np.where(np.isnan(self.best[cols]), np.inf, self.best[cols])
            worse = (
                objective > best - self.tol if self.tol is not None else np.zeros_like(best, bool)
            )
            self.best[cols] = np.minimum(best, objective)
        self.stall[cols] = np.where(worse, self.stall[cols] + 1, 0)
        done = self.stall[cols] >= self.patience
        if self.stop_without_updates:
            done |= updates == 0
        self.active[cols[done]] = False


def _row_blocks(X: Any, order: np.ndarray, Y: np.ndarray, S: np.ndarray) -> _Blocks:
    """The rows ``order`` of ``X`` (dense, or made dense a block at a time), ``Y`` and
    ``S``, in blocks of at most ``_BLOCK_FLOATS`` values of ``X``."""
    size = max(1, _BLOCK_FLOATS // max(1, X.shape[1]))
    for start in range(0, len(order), size):
        rows = order[start : start + size]
        block = X[rows]
        yield (block.toarray() if sp.issparse(block) else block), Y[rows], S[rows]


def _accuracy(X: Any, Y: np.ndarray, sample_weight: np.ndarray, cols: _Columns) -> np.ndarray:
    """Each column's weighted accuracy on ``(X, Y)``, ``z > 0`` predicting +1."""
    correct = (np.asarray(X @ cols.W) + cols.b > 0) == (Y > 0)  # (n_samples, n_columns)
    return np.average(correct, axis=0, weights=sample_weight)


def _initial_weights(
    coef_init: Any, intercept_init: Any, n_classes: int, n_features: int
) -> tuple[np.ndarray, np.ndarray]:
    """``W (n_features, n_columns)`` and ``b (n_columns,)`` from the given ones, or zeros."""
    n_cols = 1 if n_classes == 2 else n_classes
    W, b = np.zeros((n_features, n_cols)), np.zeros(n_cols)
    what = f"{n_classes} classes and {n_features} features"
    if coef_init is not None:
        coef = np.array(coef_init, dtype=np.float64)
        if n_classes == 2:
            ok, expected = (
                coef.shape in ((n_features,), (1, n_features)),
                (f"({n_features},) or (1, {n_features})"),
            )
        else:
            ok, expected = coef.shape == (n_classes, n_features), f"{(n_classes, n_features)}"
        if not ok:
            raise ValueError(
                f"Perceptron: coef_init must have the shape {expected} for {what}, got {coef.shape}"
            )
        check_finite(coef, "Perceptron: coef_init")
        W = coef.reshape(n_cols, n_features).T.copy()
    if intercept_init is not None:
        intercept = np.array(intercept_init, dtype=np.float64)
        shapes = ((), (1,)) if n_classes == 2 else ((n_classes,),)
        if intercept.shape not in shapes:
            expected = "() or (1,)" if n_classes == 2 else f"({n_classes},)"
            raise ValueError(
                f"Perceptron: intercept_init must have the shape {expected} for {what}, "
                f"got {intercept.shape}"
            )
        check_finite(intercept, "Perceptron: intercept_init")
        b = intercept.reshape(n_cols).copy()
    return W, b


def _sample_weight(sample_weight: Any, n_samples: int, allow_all_zero: bool) -> np.ndarray:
    """``(n_samples,)`` weights >= 0 from None (ones), a number or an array."""
    if sample_weight is None:
        return np.ones(n_samples)
    sw = np.asarray(sample_weight, dtype=np.float64)
    if sw.ndim == 0:
        sw = np.full(n_samples, float(sw))
    if sw.shape != (n_samples,):
        raise ValueError(
            f"Perceptron: sample_weight must have the shape ({n_samples},), one weight per "
            f"sample of X, got {sw.shape}"
        )
    check_finite(sw, "Perceptron: sample_weight")
    if (sw < 0).any():
        i = int(np.argmax(sw < 0))
        raise ValueError(f"Perceptron: sample_weight must be >= 0, got {sw[i]} for the sample {i}")
    if not allow_all_zero and not (sw > 0).any():
        raise ValueError("Perceptron: every sample_weight is zero; there is nothing to learn")
    return sw
