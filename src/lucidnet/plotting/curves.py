"""Training curves: loss and each metric per epoch, training and validation."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from ._common import NEGATIVE, POSITIVE, _figure, _finish, _PathLike

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["training_curves"]

_LOWER_IS_BETTER = ("loss", "mse", "mae")


def training_curves(history: Any, path: _PathLike | None = None) -> Figure:
    """Loss and each metric per epoch, training (blue) and validation (orange).

    ``history`` is the ``History`` that ``fit`` returns, or its ``history`` dict
    (``{"loss": [...], "val_loss": [...], "accuracy": [...], "lr": [...]}``). One panel per
    quantity; the best validation value is marked. The learning rate gets a panel of its
    own when it changed during training (a schedule).
    """
    logs = getattr(history, "history", history)
    if not isinstance(logs, Mapping):
        raise TypeError(
            f"training_curves: expected a History or a dict of lists, got {type(history).__name__}"
        )
    curves = {str(k): np.asarray(v, dtype=np.float64).reshape(-1) for k, v in logs.items()}
    if not any(len(v) for v in curves.values()):
        raise ValueError("training_curves: the history is empty; train the model first")
    panels: list[str] = []
    for key in curves:
        base = key.removeprefix("val_")
        if base != "lr" and base not in panels:
            panels.append(base)
    panels.sort(key=lambda name: name != "loss")  # loss first, the metrics in their order
    lr = curves.get("lr")
    if lr is not None and len(lr) > 1 and np.ptp(lr) > 0:
        panels.append("lr")
    columns = min(len(panels), 3)
    rows = math.ceil(len(panels) / columns)
    fig = _figure(4.2 * columns, 3.2 * rows)
    axes = fig.subplots(rows, columns, squeeze=False).ravel()
    for ax, name in zip(axes, panels, strict=False):
        _curve_panel(ax, name, curves.get(name), curves.get(f"val_{name}"))
    for ax in axes[len(panels) :]:
        ax.set_axis_off()
    return _finish(fig, path)


def _curve_panel(ax: Axes, name: str, train: np.ndarray | None, val: np.ndarray | None) -> None:
    from matplotlib.ticker import MaxNLocator

    for values, colour, label in ((train, POSITIVE, "training"), (val, NEGATIVE, "validation")):
        if values is None or len(values) == 0:
            continue
        epochs = np.arange(1, len(values) + 1)
        marker = "o" if len(values) <= 30 else None
        ax.plot(epochs, values, color=colour, marker=marker, markersize=3, label=label)
    if val is not None and len(val) and np.any(np.isfinite(val)):
        best = int(np.nanargmin(val) if name in _LOWER_IS_BETTER else np.nanargmax(val))
        ax.scatter(
            [best + 1],
            [val[best]],
            s=60,
            facecolor="none",
            edgecolor="#333",
            zorder=3,
            label=f"best {val[best]:.4g} (epoch {best + 1})",
        )
    if name == "lr":
        ax.set_yscale("log")
    ax.set_title("learning rate" if name == "lr" else name)
    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0] and name != "lr":
        ax.legend(fontsize=8)
