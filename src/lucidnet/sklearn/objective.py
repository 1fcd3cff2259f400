"""scikit-learn's MLP objective on a lucidnet network: how the loss and the L2 penalty
are scaled on each batch, and the rows of a sparse ``X`` made dense a batch at a time.

scikit-learn's MLPs minimise, on a batch ``B`` with sample weights ``w`` (all 1 without)::

    J = (1 / W) sum_{i in B} w_i sum_k l(y_ik, p_ik)  +  alpha / (2 W) sum ||coef||^2
    W = sum_{i in B} w_i

where ``l`` is the loss of one output: half the squared error (regression), half the
Poisson deviance (``loss="poisson"``), the log loss of one label (binary and multilabel)
or the cross-entropy summed over the classes (multiclass). Each batch is divided by its
own weight ``W``, the penalty included.

lucidnet's losses average over a row's outputs (MSE, binary cross-entropy, Poisson) and
weight rows Keras' way, ``sum_i v_i l_i / |B|``. The two agree with per-row weights::

    v_i = w_i * f * |B| / W

where ``f`` turns lucidnet's per-row loss into scikit-learn's: ``m / 2`` for the squared
error (``m`` outputs; lucidnet's MSE has no 1/2 and averages), ``m`` for the log loss of
``m`` labels and for Poisson, 1 for the cross-entropy. When ``f == 1`` and no weights are
given the unweighted path runs, unchanged. The penalty is ``Dense(l2=alpha / (2 W))`` on
every weight matrix (lucidnet's ``l2 sum(w^2)`` has no 1/2; biases are not penalised).

What scikit-learn *reports* (``loss_``, ``loss_curve_``) differs in one case: for the
squared error it averages the outputs (half the mean squared error) while its gradient
sums them. ``Objective.reported`` gives the reported number from the optimised one.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import scipy.sparse as sp

from .. import validation
from ..streaming import max_abs

# rows of a sparse matrix made dense at once (when the batch is not given): about 8 M
# values (64 MB of float64) whatever the width
DENSE_VALUES = 1 << 23

ADVICE = "scale the data or use dtype='float64'"  # what a range error suggests


class Objective:
    """The per-batch weights and penalty that turn a lucidnet loss into scikit-learn's.

    ``factor`` is ``f`` above; ``report_divisor`` is ``m`` for the squared error (its
    reported loss averages the outputs) and 1 otherwise.
    """

    def __init__(self, factor: float, report_divisor: float, alpha: float) -> None:
        self.factor, self.report_divisor, self.alpha = float(factor), report_divisor, alpha
        self._constant: dict[int, np.ndarray] = {}

    def batch(self, rows: int, sample_weight: np.ndarray | None) -> tuple[np.ndarray | None, float]:
        """``(v, l2)`` for a batch of ``rows`` rows: the row weights to hand the Trainer
        (None: unweighted) and the ``l2`` of every weight matrix. A batch whose weights
        sum to 0 gets ``l2 = inf``: it carries nothing to learn from (the caller skips
        it)."""
        if sample_weight is None:
            total = float(rows)
            if self.factor == 1.0:
                return None, self.alpha / (2.0 * total)
            v = self._constant.get(rows)
            if v is None:
                v = self._constant[rows] = np.full(rows, self.factor)
            return v, self.alpha / (2.0 * total)
        total = float(sample_weight.sum())
        if total <= 0.0:
            return None, np.inf
        return sample_weight * (self.factor * rows / total), self.alpha / (2.0 * total)

    def reported(self, value: float, penalty: float) -> float:
        """scikit-learn's reported loss from the optimised value (penalty included)."""
        if self.report_divisor == 1:
            return value
        return (value - penalty) / self.report_divisor + penalty


def dense_rows(X: Any, rows: Any, dtype: np.dtype) -> np.ndarray:
    """Rows of ``X`` (an index array or a slice) as a dense array of ``dtype``: the only
    place a sparse matrix becomes dense, one batch at a time."""
    part = X[rows]
    if sp.issparse(part):
        part = part.toarray()
    return np.asarray(part).astype(dtype, copy=False)


def chunks(X: Any, size: int | None = None) -> Iterator[slice]:
    """Slices of rows covering ``X``: all at once for a dense array (unless ``size``),
    ``size`` rows (default: about ``DENSE_VALUES`` values) at a time for a sparse one."""
    n = X.shape[0]
    if size is None:
        size = n if not sp.issparse(X) else max(1, DENSE_VALUES // max(X.shape[1], 1))
    for start in range(0, n, max(size, 1)):
        yield slice(start, min(start + size, n))


def check_range(X: Any, dtype: np.dtype, name: str, what: str = "X") -> None:
    """Refuse values that are finite in ``X`` (or the targets ``y``) but would overflow
    in ``dtype`` (a float64 1e39 cast to float32 is inf), naming the first row and
    column: ``validation.check_range``, and a sparse matrix's stored values."""
    dtype = np.dtype(dtype)
    if not sp.issparse(X):
        return validation.check_range(X, dtype, f"{name}: {what}", ADVICE)
    if dtype.itemsize >= X.dtype.itemsize or X.nnz == 0:
        return None
    if max_abs(X.data) <= float(np.finfo(dtype).max):  # in blocks: no |X| the size of X
        return None
    coo = X.tocoo()
    beyond = validation.beyond_range(coo.data, dtype)
    if beyond is None:
        return None
    i = int(np.flatnonzero(beyond)[0])
    value, row, col = float(coo.data[i]), int(coo.row[i]), int(coo.col[i])
    at = validation.position((row, col), 2)
    raise validation.range_error(f"{name}: {what}", value, at, dtype, ADVICE)
