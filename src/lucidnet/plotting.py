"""Pictures of a network and its training, drawn with matplotlib (the ``plot`` extra).

Each function draws one picture on a fresh ``matplotlib.figure.Figure`` with the Agg
canvas (no pyplot, no window, and the user's own backend is left alone) and returns it; a
notebook shows the returned figure. With ``path=...`` the picture is also written there,
atomically (a temporary file in the same folder, then a rename): PNG unless the suffix
names another format matplotlib writes (``.svg``, ``.pdf``).

- ``training_curves``: loss and each metric per epoch, training and validation.
- ``decision_boundary``: a 2-D classifier's prediction over the plane, data on top.
- ``boundary_animation``: the same as an animated GIF while the model trains.
- ``network_diagram``: neurons and weights (colour: sign, width: size).
- ``activation_maps``: each hidden unit's activation over the plane (2 inputs).
- ``first_layer_weights``: the first layer's weight columns as images (28x28 inputs).
- ``confusion_matrix``: true against predicted classes, counts in the cells.

The colours are TensorFlow Playground's: blue for positive values and class 1, orange for
negative values and class 0. ``import lucidnet`` does not import matplotlib; these
functions import it when called and, without it, raise ImportError with the install
command.
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from . import metrics
from .serialization import _write_atomically

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.colors import Colormap
    from matplotlib.figure import Figure

    from .layers import Dense, Layer
    from .model import Sequential

__all__ = [
    "activation_maps",
    "boundary_animation",
    "confusion_matrix",
    "decision_boundary",
    "first_layer_weights",
    "network_diagram",
    "training_curves",
]

INSTALL_HINT = "pip install 'lucidnet[plot]'"
DPI = 100  # pixels per inch: a figure of 6 x 5 inches is a 600 x 500 PNG

NEGATIVE = "#f59322"  # Playground's orange: negative values, class 0
NEUTRAL = "#e8eaeb"
POSITIVE = "#0877bd"  # Playground's blue: positive values, class 1
CLASS_COLOURS = (
    NEGATIVE,
    POSITIVE,
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)
_LOWER_IS_BETTER = ("loss", "mse", "mae")
_PathLike = str | os.PathLike[str]


# ---------------------------------------------------------------------------------------
# Figures, files and colours
# ---------------------------------------------------------------------------------------


def require_matplotlib() -> None:
    """Import matplotlib, or raise ImportError that names the ``plot`` extra."""
    try:
        import matplotlib  # first: a missing (or blocked) package fails here
        import matplotlib.backends.backend_agg
        import matplotlib.figure  # noqa: F401
    except ImportError as err:
        raise ImportError(
            f"lucidnet's plots need matplotlib, which is not installed: {INSTALL_HINT}"
        ) from err


def _figure(width: float, height: float) -> Figure:
    """A figure of ``width x height`` inches on its own Agg canvas (no pyplot state)."""
    require_matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _encoded(fig: Figure, fmt: str = "png") -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format=fmt)
    return buffer.getvalue()


def _finish(fig: Figure, path: _PathLike | None) -> Figure:
    """Write ``fig`` to ``path`` (if given) atomically, in the format its suffix names."""
    if path is not None:
        fmt = Path(path).suffix.lstrip(".").lower() or "png"
        supported = fig.canvas.get_supported_filetypes()
        if fmt not in supported:
            raise ValueError(f"cannot save {path}: unknown format {fmt!r}; use .png")
        _write_atomically(Path(path), _encoded(fig, fmt))
    return fig


def _diverging() -> Colormap:
    """Orange (negative) through grey to blue (positive), as in the Playground."""
    from matplotlib.colors import LinearSegmentedColormap

    return LinearSegmentedColormap.from_list("lucidnet", [NEGATIVE, NEUTRAL, POSITIVE])


def _class_colour(k: int) -> str:
    return CLASS_COLOURS[k % len(CLASS_COLOURS)]


def _labels(y: Any, n: int, who: str) -> np.ndarray:
    """Class labels ``(n,)`` from labels ``(n,)``/``(n, 1)`` or one-hot rows ``(n, k)``."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1:
        y = np.argmax(y, axis=1)
    y = y.reshape(-1)
    if len(y) != n:
        raise ValueError(f"{who}: x has {n} rows but y has {len(y)} labels")
    if y.dtype.kind == "f" and not np.all(y == np.round(y)):
        raise ValueError(f"{who}: y must be class labels (whole numbers), got fractions")
    if len(y) and y.min() < 0:
        raise ValueError(
            f"{who}: y must be class labels 0, 1, ..., got {int(y.min())} (map -1/+1 labels "
            "to 0/1 first)"
        )
    return y.astype(np.int64)


def _dense_blocks(model: Sequential, who: str) -> list[tuple[Dense, list[Layer]]]:
    """Each Dense layer with the layers after it up to the next Dense (its activation)."""
    from .layers import Dense

    blocks: list[tuple[Dense, list[Layer]]] = []
    for layer in model.layers:
        if isinstance(layer, Dense):
            blocks.append((layer, []))
        elif blocks:
            blocks[-1][1].append(layer)
    if not blocks:
        raise ValueError(f"{who}: the model has no Dense layer to draw")
    return blocks


def _block_title(index: int, count: int, following: list[Layer]) -> str:
    kind = "output" if index == count - 1 else f"hidden {index + 1}"
    names = [type(layer).__name__ for layer in following]
    return f"{kind} ({', '.join(names)})" if names else kind


# ---------------------------------------------------------------------------------------
# Training curves
# ---------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------
# The input plane: decision boundary, its animation, activation maps
# ---------------------------------------------------------------------------------------


def _plane_input(model: Sequential, x: Any, who: str) -> np.ndarray:
    width = model.input_features
    if width is not None and width != 2:
        raise ValueError(f"{who}: the model takes {width} inputs; this picture needs 2")
    if x is None:
        return np.array([[-2.0, -2.0], [2.0, 2.0]])
    points = np.asarray(x, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] != 2 or len(points) == 0:
        raise ValueError(f"{who}: x must be points in the plane, shape (n, 2), got {points.shape}")
    if not np.all(np.isfinite(points)):
        raise ValueError(f"{who}: x contains NaN or infinity")
    return points


def _check_int(value: Any, least: int, what: str) -> int:
    """``value`` as an int, or ValueError echoing it if it is not an int >= ``least``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < least:
        raise ValueError(f"{what} must be an int >= {least}, got {value!r}")
    return int(value)


def _grid(points: np.ndarray, resolution: int) -> tuple[np.ndarray, tuple[float, ...]]:
    """``resolution**2`` points covering ``points`` with a margin, and the image extent.

    Row ``i`` of the reshaped ``(resolution, resolution)`` image is the ``i``-th y value
    from the bottom (draw with ``origin="lower"``).
    """
    lo, hi = points.min(axis=0), points.max(axis=0)
    span = hi - lo
    pad = np.where(span > 0, 0.1 * span, 0.5)
    lo, hi = lo - pad, hi + pad
    xx, yy = np.meshgrid(
        np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution)
    )  # (resolution, resolution) each
    grid = np.column_stack([xx.ravel(), yy.ravel()])  # (resolution**2, 2)
    return grid, (lo[0], hi[0], lo[1], hi[1])


class _Boundary:
    """A classifier's prediction over the plane on ``ax``, with ``redraw()`` for frames."""

    def __init__(
        self,
        ax: Axes,
        model: Sequential,
        x: np.ndarray,
        labels: np.ndarray,
        resolution: int,
        class_names: Sequence[str] | None,
    ) -> None:
        self.ax, self.model, self.resolution = ax, model, resolution
        self.grid, extent = _grid(x, resolution)
        self.contour: Any = None
        surface, self.classes = self._surface()
        binary = self.classes == 1
        self.probability = binary and 0.0 <= surface.min() and surface.max() <= 1.0
        limits = (0.0, 1.0) if self.probability else (surface.min(), surface.max())
        self.image = ax.imshow(
            surface,
            origin="lower",
            extent=extent,
            aspect="auto",
            interpolation="bilinear",
            cmap=_diverging() if binary else None,
            vmin=limits[0] if binary else None,
            vmax=limits[1] if binary else None,
        )
        self._draw_contour(surface)
        n_labels = max(2, self.classes, int(labels.max(initial=0)) + 1)
        size = 28 if len(x) <= 300 else 10 if len(x) <= 3000 else 3
        for k in range(n_labels):
            members = labels == k
            if not members.any():
                continue
            name = str(class_names[k]) if class_names and k < len(class_names) else f"class {k}"
            ax.scatter(
                x[members, 0],
                x[members, 1],
                s=size,
                color=_class_colour(k),
                edgecolor="white",
                linewidth=0.6,
                label=name,
                zorder=3,
            )
        ax.set_xlim(extent[0], extent[1])
        ax.set_ylim(extent[2], extent[3])
        ax.legend(loc="upper right", fontsize=8, framealpha=0.85)

    def _surface(self) -> tuple[np.ndarray, int]:
        """The image: P(class 1) ``(r, r)`` for one output, class colours ``(r, r, 3)``
        (paler where the network is less sure) for several."""
        r = self.resolution
        out = np.asarray(self.model.predict_proba(self.grid, batch_size=8192), np.float64)
        out = out.reshape(len(self.grid), -1)  # (r*r, classes) or (r*r, 1)
        if out.shape[1] == 1:
            return out[:, 0].reshape(r, r), 1
        from matplotlib.colors import to_rgb

        k = out.shape[1]
        colours = np.array([to_rgb(_class_colour(c)) for c in range(k)])  # (k, 3)
        sure = (out.max(axis=1) - 1.0 / k) / (1.0 - 1.0 / k)  # 0 at a tie, 1 when certain
        alpha = (0.2 + 0.6 * np.clip(sure, 0.0, 1.0))[:, None]  # (r*r, 1)
        rgb = 1.0 - alpha * (1.0 - colours[np.argmax(out, axis=1)])  # blended with white
        return rgb.reshape(r, r, 3), k

    def _draw_contour(self, surface: np.ndarray) -> None:
        if self.contour is not None:
            self.contour.remove()
            self.contour = None
        if self.classes == 1 and self.probability and surface.min() < 0.5 < surface.max():
            extent = self.image.get_extent()
            xs = np.linspace(extent[0], extent[1], self.resolution)
            ys = np.linspace(extent[2], extent[3], self.resolution)
            self.contour = self.ax.contour(
                xs, ys, surface, levels=[0.5], colors="#333", linewidths=1.0
            )

    def redraw(self) -> None:
        surface, _ = self._surface()
        self.image.set_data(surface)
        self._draw_contour(surface)


def decision_boundary(
    model: Sequential,
    x: Any,
    y: Any,
    path: _PathLike | None = None,
    resolution: int = 200,
    class_names: Sequence[str] | None = None,
) -> Figure:
    """A 2-D classifier's prediction over the input plane, the points ``(x, y)`` on top.

    One sigmoid output: P(class 1) on a diverging scale, orange (0) to blue (1), with the
    ``p = 0.5`` line. Several softmax outputs: the predicted class's colour, paler where
    the network is less sure. ``x: (n, 2)``, ``y``: labels ``(n,)`` or one-hot rows;
    the plane covers ``x`` with a 10% margin at ``resolution x resolution`` points.
    """
    who = "decision_boundary"
    points = _plane_input(model, x, who)
    labels = _labels(y, len(points), who)
    resolution = _check_int(resolution, 2, f"{who}: resolution")
    fig = _figure(6.0, 5.0)
    ax = fig.add_subplot()
    boundary = _Boundary(ax, model, points, labels, resolution, class_names)
    if boundary.classes == 1:
        label = "P(class 1)" if boundary.probability else "model output"
        fig.colorbar(boundary.image, ax=ax, label=label, shrink=0.9)
    correct = np.mean(model.predict_classes(points) == labels)
    ax.set_title(f"decision boundary: accuracy {correct:.3f} on these {len(points)} points")
    return _finish(fig, path)


def boundary_animation(
    model: Sequential,
    x: Any,
    y: Any,
    path: _PathLike,
    epochs: int = 60,
    frames: int = 20,
    fit_kwargs: Mapping[str, Any] | None = None,
    resolution: int = 100,
    frame_ms: int = 200,
    class_names: Sequence[str] | None = None,
) -> Figure:
    """An animated GIF of the decision boundary while ``model`` trains on ``(x, y)``.

    The first frame is the model as it is; between frames it trains with
    ``model.fit(x, y, epochs=k, verbose=0, **fit_kwargs)``, ``epochs`` epochs in all,
    spread evenly over the ``frames`` frames (fewer frames if there are fewer epochs). The
    model must be compiled, and is trained in place. Each frame shows the epoch and the
    loss and metrics of ``model.evaluate(x, y)``; the last frame is held three times as
    long. Returns the figure, showing the last frame.
    """
    who = "boundary_animation"
    if Path(path).suffix.lower() != ".gif":
        raise ValueError(f"{who}: path must end in .gif, got {str(path)!r}")
    if getattr(model, "loss", None) is None:
        raise ValueError(f"{who}: compile the model first (model.compile(loss, optimizer))")
    epochs = _check_int(epochs, 1, f"{who}: epochs")
    frames = _check_int(frames, 2, f"{who}: frames")
    kwargs = dict(fit_kwargs or {})
    taken = sorted(set(kwargs) & {"x", "y", "epochs", "verbose"})
    if taken:
        raise ValueError(f"{who}: fit_kwargs may not set {', '.join(taken)}; they are set here")
    points = _plane_input(model, x, who)
    labels = _labels(y, len(points), who)
    resolution = _check_int(resolution, 2, f"{who}: resolution")
    require_matplotlib()
    from PIL import Image  # a dependency of matplotlib

    marks = np.unique(np.round(np.linspace(0, epochs, frames)).astype(int))  # epochs done
    fig = _figure(5.5, 5.0)
    ax = fig.add_subplot()
    boundary = _Boundary(ax, model, points, labels, resolution, class_names)
    images = []
    done = 0
    for mark in marks:
        if mark > done:
            model.fit(x, y, epochs=int(mark - done), verbose=0, **kwargs)
            done = int(mark)
            boundary.redraw()
        scores = "  ".join(f"{k} {v:.3f}" for k, v in model.evaluate(x, y).items())
        ax.set_title(f"epoch {done}/{epochs}   {scores}", fontsize=10)
        fig.canvas.draw()
        fig.set_layout_engine("none")  # keep the first frame's layout: no jumping axes
        rgba = np.asarray(fig.canvas.buffer_rgba())  # (height, width, 4)
        images.append(Image.fromarray(np.ascontiguousarray(rgba[..., :3])))
    durations = [int(frame_ms)] * (len(images) - 1) + [3 * int(frame_ms)]
    buffer = io.BytesIO()
    images[0].save(
        buffer,
        format="GIF",
        save_all=True,
        append_images=images[1:],
        duration=durations,
        loop=0,
    )
    _write_atomically(Path(path), buffer.getvalue())
    return fig


def activation_maps(
    model: Sequential,
    x: Any = None,
    path: _PathLike | None = None,
    resolution: int = 60,
    max_units: int = 16,
) -> Figure:
    """Playground's thumbnails: each unit's activation over the input plane, per layer.

    For a network with 2 inputs. Each row is a layer (hidden layers, then the output),
    each small image one unit's output (after its activation) at every point of the
    plane, orange negative to blue positive on a scale shared within the row. The plane
    covers ``x`` (points ``(n, 2)``) with a margin, or ``[-2, 2]^2`` without ``x``. Rows
    show at most ``max_units`` units (the first ones).
    """
    from .activations import Sigmoid, Softmax

    who = "activation_maps"
    points = _plane_input(model, x, who)
    resolution = _check_int(resolution, 2, f"{who}: resolution")
    max_units = _check_int(max_units, 1, f"{who}: max_units")
    blocks = _dense_blocks(model, who)
    grid, extent = _grid(points, resolution)
    ends = {id(following[-1] if following else dense) for dense, following in blocks}
    h = grid.astype(model.dtype)
    rows: list[np.ndarray] = []
    for layer in model.layers:
        h = layer.forward(h, training=False)  # (resolution**2, units)
        if id(layer) in ends:
            rows.append(h[:, :max_units].T.reshape(-1, resolution, resolution))
    titles = [_block_title(i, len(blocks), following) for i, (_, following) in enumerate(blocks)]
    columns = max(len(maps) for maps in rows)
    fig = _figure(1.05 * columns + 1.2, 1.25 * len(rows) + 0.4)
    axes = fig.subplots(len(rows), columns, squeeze=False)
    cmap = _diverging()
    for r, (maps, (dense, following)) in enumerate(zip(rows, blocks, strict=True)):
        scale = float(np.max(np.abs(maps))) or 1.0
        limits = {"vmin": -scale, "vmax": scale}
        if any(isinstance(layer, (Sigmoid, Softmax)) for layer in following):
            limits = {"vmin": 0.0, "vmax": 1.0}  # probabilities: 0.5 is the neutral grey
        for c in range(columns):
            ax = axes[r, c]
            ax.set_xticks([])
            ax.set_yticks([])
            if c >= len(maps):
                ax.set_axis_off()
                continue
            ax.imshow(maps[c], origin="lower", extent=extent, aspect="auto", cmap=cmap, **limits)
            ax.set_title(f"unit {c}", fontsize=7, pad=2)
        more = dense.out_features - len(maps)
        label = titles[r] + (f"\n(first {len(maps)} of {dense.out_features})" if more else "")
        axes[r, 0].set_ylabel(label, fontsize=8)
    return _finish(fig, path)


# ---------------------------------------------------------------------------------------
# The network itself
# ---------------------------------------------------------------------------------------


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
    max_units = _check_int(max_units, 3, f"{who}: max_units")
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
    max_units = _check_int(max_units, 1, f"{who}: max_units")
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


# ---------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------


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
