"""Metrics: ``metric(y_true, y_pred) -> float``, and a confusion matrix.

The argument order is scikit-learn's and Keras' (truth first), the same as the losses';
both may be given as keywords. Shapes that do not fit raise ValueError.

``y_pred`` may be probabilities or scores ``(n, classes)``, a single probability column
``(n, 1)`` or ``(n,)`` for binary problems, or predicted labels ``(n,)`` of an integer
dtype. ``y_true`` may be labels ``(n,)`` (or ``(n, 1)``) or one-hot rows ``(n, classes)``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .registry import Registry

__all__ = [
    "REGISTRY",
    "accuracy",
    "binary_accuracy",
    "confusion_matrix",
    "get",
    "mae",
    "mse",
    "names",
    "r2_score",
    "top_k_accuracy",
]

Metric = Callable[[np.ndarray, np.ndarray], float]


def _matched(y_true: np.ndarray, y_pred: np.ndarray, who: str) -> tuple[np.ndarray, np.ndarray]:
    """``y_true`` and ``y_pred`` as arrays of one shape; ``(n,)`` pairs with ``(n, 1)``."""
    y, p = np.asarray(y_true), np.asarray(y_pred)
    given = (y.shape, p.shape)
    if y.shape != p.shape and y.ndim + p.ndim == 3 and y.shape[0] == p.shape[0]:
        y, p = y.reshape(len(y), -1), p.reshape(len(p), -1)  # (n,) against (n, 1)
    if y.shape != p.shape:
        raise ValueError(f"{who}: y_true has shape {given[0]} but y_pred has shape {given[1]}")
    return y, p


def _true_labels(y_true: np.ndarray, n: int, classes: int | None = None) -> np.ndarray:
    """Labels ``(n,)`` from labels ``(n,)``/``(n, 1)`` or one-hot rows ``(n, classes)``.

    Labels must be whole numbers (probabilities in ``y_true`` usually mean that the
    arguments were given in the wrong order, which would otherwise score silently) and,
    when the number of ``classes`` is known, in ``[0, classes)``.
    """
    y = np.asarray(y_true)
    if y.ndim == 2 and y.shape[1] > 1:
        y = np.argmax(y, axis=1)  # one-hot rows
    elif y.ndim > 2:
        raise ValueError(f"y_true must be labels (n,) or one-hot rows (n, classes), got {y.shape}")
    y = y.reshape(-1)
    if y.shape[0] != n:
        raise ValueError(f"y_true has {y.shape[0]} samples but y_pred has {n}")
    if y.dtype.kind == "f":
        bad = np.flatnonzero(np.floor(y) != y)  # NaN counts as bad too
        if bad.size:
            raise ValueError(
                f"y_true must hold class labels (whole numbers), but index {bad[0]} holds "
                f"{y[bad[0]].item()!r}; metrics take (y_true, y_pred): were the arguments swapped?"
            )
    elif y.dtype.kind not in "iub":
        raise ValueError(f"y_true must hold numeric class labels, got dtype {y.dtype}")
    if classes is not None and y.size:
        bad = np.flatnonzero((y < 0) | (y >= classes))
        if bad.size:
            raise ValueError(
                f"y_true label {y[bad[0]].item()!r} at index {bad[0]} is not a class of "
                f"y_pred, whose {classes} columns are the classes 0 to {classes - 1}"
            )
    return y


def predicted_labels(y_pred: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """Class labels from predictions: argmax of scores, ``p > threshold`` for one column,
    integer predictions as they are."""
    p = np.asarray(y_pred)
    if p.ndim == 2 and p.shape[1] > 1:
        return np.argmax(p, axis=1)
    p = p.reshape(-1)
    if p.dtype.kind in "iub":
        return p.astype(np.int64)
    return (p > threshold).astype(np.int64)


def accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Fraction of samples whose predicted class equals the true class.

    The predicted class is the argmax for several columns and ``p > 0.5`` for one.
    """
    p = np.asarray(y_pred)
    classes = p.shape[1] if p.ndim == 2 and p.shape[1] > 1 else None
    pred = predicted_labels(p)
    return float(np.mean(pred == _true_labels(y_true, pred.shape[0], classes)))


def binary_accuracy(y_true: np.ndarray, y_pred: np.ndarray, threshold: float = 0.5) -> float:
    """Fraction of elements with ``(y_pred > threshold) == y_true`` (multi-label too)."""
    y, p = _matched(y_true, y_pred, "binary_accuracy")
    bad = np.flatnonzero((y != 0) & (y != 1))
    if bad.size:
        raise ValueError(
            f"binary_accuracy: y_true must hold 0 or 1, but element {bad[0]} of the flattened "
            f"targets is {y.reshape(-1)[bad[0]].item()!r}; metrics take (y_true, y_pred): "
            "were the arguments swapped?"
        )
    return float(np.mean((p > threshold) == (y > 0.5)))


def top_k_accuracy(y_true: np.ndarray, y_pred: np.ndarray, k: int = 5) -> float:
    """Fraction of samples whose true class is among the ``k`` highest scores.

    A sample counts when fewer than ``k`` classes score strictly higher than the true one
    (so ties favour the true class, as in Keras).
    """
    scores = np.asarray(y_pred)
    if scores.ndim != 2:
        raise ValueError(f"top_k_accuracy: y_pred must be (n, classes), got {scores.shape}")
    labels = _true_labels(y_true, scores.shape[0], scores.shape[1]).astype(np.intp)
    true_scores = scores[np.arange(scores.shape[0]), labels]
    higher = np.sum(scores > true_scores[:, None], axis=1)
    return float(np.mean(higher < k))


def mse(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Mean squared error over all elements."""
    y, p = _matched(y_true, y_pred, "mse")
    return float(np.mean((p.astype(np.float64) - y) ** 2))


def mae(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Mean absolute error over all elements."""
    y, p = _matched(y_true, y_pred, "mae")
    return float(np.mean(np.abs(p.astype(np.float64) - y)))


def r2_score(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """The coefficient of determination ``R² = 1 - sum((y - p)²) / sum((y - mean(y))²)``,
    per output column and averaged over them (scikit-learn's ``r2_score``).

    1 is a perfect fit, 0 is what predicting the mean gives, and it is negative for worse.
    A column whose true values are all equal scores 1 if predicted exactly, else 0 (as
    scikit-learn). Not a ``fit`` metric: a mean of per-batch R² is not the R² of the data.
    """
    y, p = _matched(y_true, y_pred, "r2_score")
    y = y.astype(np.float64).reshape(len(y), -1)
    p = p.astype(np.float64).reshape(len(p), -1)
    if len(y) < 2:
        raise ValueError(f"r2_score: needs at least 2 samples, got {len(y)}")
    residual = np.sum((y - p) ** 2, axis=0)
    total = np.sum((y - y.mean(axis=0)) ** 2, axis=0)
    constant = total == 0
    scores = np.where(constant, np.where(residual == 0, 1.0, 0.0), 0.0)
    scores[~constant] = 1.0 - residual[~constant] / total[~constant]
    return float(np.mean(scores))


def confusion_matrix(
    y_true: np.ndarray, y_pred: np.ndarray, num_classes: int | None = None
) -> np.ndarray:
    """Counts ``C[i, j]`` of samples of true class ``i`` predicted as ``j`` (sklearn's layout).

    ``y_pred`` may be labels or scores (converted as in ``accuracy``). The number of
    classes is ``num_classes`` or one more than the largest label seen.
    """
    pred = predicted_labels(y_pred)
    true = _true_labels(y_true, pred.shape[0]).astype(np.int64)
    if num_classes is None:
        num_classes = int(max(true.max(initial=-1), pred.max(initial=-1))) + 1
    if true.size and (true.min() < 0 or pred.min() < 0):
        raise ValueError("confusion_matrix: labels must be >= 0")
    if true.size and max(true.max(), pred.max()) >= num_classes:
        raise ValueError(f"confusion_matrix: a label is >= num_classes={num_classes}")
    counts = np.bincount(true * num_classes + pred, minlength=num_classes * num_classes)
    return counts.reshape(num_classes, num_classes)


REGISTRY: Registry[Metric] = Registry("metric")
REGISTRY.register(accuracy, "acc")
REGISTRY.register(binary_accuracy)
REGISTRY.register(top_k_accuracy)
REGISTRY.register(mse)
REGISTRY.register(mae)


def get(identifier: str | Metric) -> tuple[str, Metric]:
    """``(name, function)`` for a metric name or a callable (named by its ``__name__``).

    Raises ValueError naming the bad value and listing the valid names.
    """
    fn = REGISTRY.get(identifier)
    return getattr(fn, "__name__", type(fn).__name__), fn


def names() -> list[str]:
    """The valid metric names."""
    return REGISTRY.names()
