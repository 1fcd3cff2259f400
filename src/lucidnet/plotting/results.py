"""Results of a trained classifier: the confusion matrix."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import metrics
from ._common import _figure, _finish, _PathLike

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["confusion_matrix"]


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
