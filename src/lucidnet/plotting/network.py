"""The network itself: neurons and weights as a diagram, and the first layer's weights
as images."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from ..validation import check_int
from ._common import (
    NEGATIVE,
    NEUTRAL,
    POSITIVE,
    _block_title,
    _dense_blocks,
    _diverging,
    _figure,
    _finish,
    _PathLike,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ..model import Sequential

__all__ = ["first_layer_weights", "network_diagram"]


def _shown_units(n: int, max_units: int) -> list[int | None]:
    """The units drawn for a layer of ``n``: all, or the first ones, None (an
    ellipsis), and the last ones, ``max_units`` slots in all."""
    if n <= max_units:
        return list(range(n))
    head = max_units // 2
    tail = max_units - 1 - head
    return [*range(head), None, *range(n - tail, n)]


def network_diagram(
    model: Sequential, path: _PathLike | None = None, max_units: int = 12
) -> Figure:
    """Neurons as circles, one column per layer (input, hidden..., output), and weights
    as lines: blue for positive, orange for negative, wider and darker for larger
    ``|w|`` (relative to the largest weight of that layer). A neuron's fill shows its
    bias the same way. A layer wider than ``max_units`` shows its first units, an
    ellipsis with the number left out, and its last units. Dense layers only.
    """
    who = "network_diagram"
    max_units = check_int(max_units, f"{who}: max_units", 3)
    from matplotlib.collections import LineCollection
    from matplotlib.colors import to_rgba
    from matplotlib.patches import Circle

    blocks = _dense_blocks(model, who)
    widths = [blocks[0][0].in_features] + [dense.out_features for dense, _ in blocks]
    shown = [_shown_units(n, max_units) for n in widths]
    slots = max(len(units) for units in shown)
    spacing, radius = 2.6, 0.3

    def y_of(column: int, slot: int) -> float:
        return (len(shown[column]) - 1) / 2.0 - slot

    fig = _figure(max(4.5, 1.4 * len(widths) + 1.5), max(3.0, 0.48 * slots + 1.4))
    ax = fig.add_subplot()
    cmap = _diverging()
    for c, (dense, _) in enumerate(blocks):
        w = np.asarray(dense.weights, dtype=np.float64)  # (in_features, out_features)
        largest = float(np.max(np.abs(w))) or 1.0
        segments, colours, line_widths = [], [], []
        for s_in, i in enumerate(shown[c]):
            for s_out, j in enumerate(shown[c + 1]):
                if i is None or j is None:
                    continue
                size = abs(w[i, j]) / largest
                segments.append(
                    [(c * spacing, y_of(c, s_in)), ((c + 1) * spacing, y_of(c + 1, s_out))]
                )
                colours.append(to_rgba(POSITIVE if w[i, j] >= 0 else NEGATIVE, 0.15 + 0.85 * size))
                line_widths.append(0.3 + 3.0 * size)
        ax.add_collection(
            LineCollection(segments, colors=colours, linewidths=line_widths, zorder=1)
        )
    for c, units in enumerate(shown):
        bias = None
        if c > 0 and blocks[c - 1][0].bias is not None:
            bias = np.asarray(blocks[c - 1][0].bias, dtype=np.float64)
        bias_scale = float(np.max(np.abs(bias))) if bias is not None and bias.size else 0.0
        for slot, unit in enumerate(units):
            xy = (c * spacing, y_of(c, slot))
            if unit is None:
                ax.text(*xy, "⋮", ha="center", va="center", fontsize=16, color="#555")
                hidden = widths[c] - (len(units) - 1)
                ax.text(
                    xy[0] + 0.3,
                    xy[1],
                    f"+{hidden}",
                    va="center",
                    fontsize=7,
                    color="#333",
                    bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none"},
                    zorder=3,
                )
                continue
            face = "white"
            if bias is not None:
                face = cmap(0.5 + 0.5 * bias[unit] / bias_scale) if bias_scale else NEUTRAL
            ax.add_patch(Circle(xy, radius, facecolor=face, edgecolor="#444", lw=1, zorder=2))
        kind = "input" if c == 0 else _block_title(c - 1, len(blocks), blocks[c - 1][1])
        bottom = -(slots - 1) / 2.0 - 0.9
        ax.text(
            c * spacing, bottom, f"{kind}\n{widths[c]} units", ha="center", va="top", fontsize=8
        )
    ax.set_xlim(-1.2, (len(widths) - 1) * spacing + 1.2)
    ax.set_ylim(-(slots - 1) / 2.0 - 2.2, (slots - 1) / 2.0 + 0.8)
    ax.set_aspect("equal")
    ax.set_axis_off()
    ax.set_title("weights: blue +, orange −, width ∝ |w|;  fill: bias", fontsize=9)
    return _finish(fig, path)


def first_layer_weights(
    model: Sequential,
    path: _PathLike | None = None,
    shape: tuple[int, int] = (28, 28),
    max_units: int = 64,
) -> Figure:
    """The first Dense layer's weight columns as images, one per unit: what each unit
    looks for in the picture. ``W[:, j]`` reshaped to ``shape`` (28x28 for MNIST and
    Fashion-MNIST), blue where a bright pixel raises the unit, orange where it lowers it,
    each on its own symmetric scale. At most ``max_units`` units (the first ones).
    """
    who = "first_layer_weights"
    dense = _dense_blocks(model, who)[0][0]
    dims = tuple(int(d) for d in shape)
    if len(dims) != 2 or min(dims) < 1:
        raise ValueError(f"{who}: shape must be (height, width), got {shape!r}")
    if dense.in_features != dims[0] * dims[1]:
        raise ValueError(
            f"{who}: the first Dense layer takes {dense.in_features} inputs, but shape "
            f"{dims} has {dims[0] * dims[1]} pixels"
        )
    max_units = check_int(max_units, f"{who}: max_units", 1)
    w = np.asarray(dense.weights, dtype=np.float64)  # (pixels, units)
    n = min(dense.out_features, int(max_units))
    columns = math.ceil(math.sqrt(n))
    rows = math.ceil(n / columns)
    fig = _figure(0.95 * columns + 0.3, 0.95 * rows + 0.6)
    axes = fig.subplots(rows, columns, squeeze=False).ravel()
    cmap = _diverging()
    for j, ax in enumerate(axes):
        ax.set_axis_off()
        if j >= n:
            continue
        image = w[:, j].reshape(dims)
        scale = float(np.max(np.abs(image))) or 1.0
        ax.imshow(image, cmap=cmap, vmin=-scale, vmax=scale, interpolation="nearest")
        ax.set_title(str(j), fontsize=7, pad=1)
    of = f"{n} of {dense.out_features} units" if n < dense.out_features else f"{n} units"
    fig.suptitle(f"first-layer weights ({of}): blue +, orange −", fontsize=11)
    return _finish(fig, path)
