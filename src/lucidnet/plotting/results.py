"""Results of a trained model on test data: the confusion matrix of a classifier, the
predicted-against-true scatter of a regression."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import metrics
from ..validation import check_int
from ._common import POSITIVE, _figure, _finish, _PathLike

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["confusion_matrix", "predicted_vs_true"]


def confusion_matrix(
    y_true: Any,
    y_pred: Any,
    labels: Sequence[str] | None = None,
    path: _PathLike | None = None,
) -> Figure:
    """True classes (rows) against predicted classes (columns), the count in each cell.

    ``y_pred`` may be labels or probabilities (as for ``lucidnet.metrics``); ``labels``
    names the classes, in order. The colour is the fraction of the row (the true class),
    so that a rare class's mistakes show as clearly as a common one's.
    """
    names = [str(name) for name in labels] if labels is not None else None
    counts = metrics.confusion_matrix(y_true, y_pred, num_classes=len(names) if names else None)
    k = counts.shape[0]
    if k == 0 or counts.sum() == 0:
        raise ValueError("confusion_matrix: there are no samples to count")
    names = names or [str(i) for i in range(k)]
    fraction = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)  # (k, k) row shares
    size = max(4.0, 0.5 * k + 2.2)
    fig = _figure(size + 0.8, size)
    ax = fig.add_subplot()
    image = ax.imshow(fraction, cmap="Blues", vmin=0.0, vmax=1.0)
    font = 9 if k <= 10 else 7 if k <= 20 else 5
    for i in range(k):
        for j in range(k):
            colour = "white" if fraction[i, j] > 0.5 else "#222"
            ax.text(j, i, str(counts[i, j]), ha="center", va="center", fontsize=font, color=colour)
    ax.set_xticks(range(k))
    ax.set_yticks(range(k))
    long_names = max(len(name) for name in names) > 3
    ax.set_xticklabels(
        names, rotation=45 if long_names else 0, ha="right" if long_names else "center"
    )
    ax.set_yticklabels(names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    total = int(counts.sum())
    ax.set_title(f"accuracy {np.trace(counts) / total:.3f} on {total} samples", fontsize=10)
    fig.colorbar(image, ax=ax, label="fraction of the true class", shrink=0.8)
    return _finish(fig, path)


def predicted_vs_true(
    y_true: Any,
    y_pred: Any,
    path: _PathLike | None = None,
    max_outputs: int = 4,
) -> Figure:
    """A regression's predictions (vertical) against the true values (horizontal), with
    the line ``predicted = true`` on which a perfect model's points would lie.

    One panel per output column (the first ``max_outputs``), each titled with its R²
    (``lucidnet.metrics.r2_score``) and the number of samples. ``y_true`` and ``y_pred``:
    ``(n,)`` or ``(n, outputs)``, of one shape (``(n,)`` pairs with ``(n, 1)``).
    """
    max_outputs = check_int(max_outputs, "predicted_vs_true: max_outputs", 1)
    y, p = metrics._matched(y_true, y_pred, "predicted_vs_true")
    y = y.astype(np.float64).reshape(len(y), -1)
    p = p.astype(np.float64).reshape(len(p), -1)
    if len(y) < 2:
        raise ValueError(f"predicted_vs_true: needs at least 2 samples, got {len(y)}")
    if not (np.all(np.isfinite(y)) and np.all(np.isfinite(p))):
        raise ValueError("predicted_vs_true: the values contain NaN or infinity")
    panels = min(y.shape[1], max_outputs)
    fig = _figure(4.4 * panels + 0.2, 4.4)
    axes = fig.subplots(1, panels, squeeze=False)[0]
    size = 18 if len(y) <= 300 else 6 if len(y) <= 3000 else 2
    for k, ax in enumerate(axes):
        truth, pred = y[:, k], p[:, k]
        lo, hi = min(truth.min(), pred.min()), max(truth.max(), pred.max())
        pad = 0.05 * (hi - lo) or 0.5
        ax.plot([lo - pad, hi + pad], [lo - pad, hi + pad], color="#888", lw=1, zorder=1)
        ax.scatter(truth, pred, s=size, color=POSITIVE, alpha=0.7, linewidth=0, zorder=2)
        ax.set_xlim(lo - pad, hi + pad)
        ax.set_ylim(lo - pad, hi + pad)
        ax.set_aspect("equal")
        ax.set_xlabel("true" if y.shape[1] == 1 else f"true (output {k})")
        ax.set_ylabel("predicted")
        score = metrics.r2_score(truth, pred)
        ax.set_title(f"R² {score:.3f} on {len(truth)} samples", fontsize=10)
    return _finish(fig, path)
