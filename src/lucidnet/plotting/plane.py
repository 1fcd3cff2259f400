"""The input plane of a 2-input network: its decision boundary, the boundary's animation
while it trains (``BoundaryRecorder``, a callback of ``fit``), and each unit's activation
over the plane."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..callbacks import Callback
from ..serialization import _write_atomically
from ..validation import check_int
from ._common import (
    _block_title,
    _class_colour,
    _dense_blocks,
    _diverging,
    _figure,
    _finish,
    _labels,
    _PathLike,
    require_matplotlib,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ..model import Sequential

__all__ = ["BoundaryRecorder", "activation_maps", "boundary_animation", "decision_boundary"]


def _plane_input(model: Sequential | None, x: Any, who: str) -> np.ndarray:
    shape = model.input_shape if model is not None else None
    if shape is not None and shape != (2,):
        raise ValueError(f"{who}: the model takes inputs of shape {shape}; this picture needs (2,)")
    if x is None:
        return np.array([[-2.0, -2.0], [2.0, 2.0]])
    points = np.asarray(x, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] != 2 or len(points) == 0:
        raise ValueError(f"{who}: x must be points in the plane, shape (n, 2), got {points.shape}")
    if not np.all(np.isfinite(points)):
        raise ValueError(f"{who}: x contains NaN or infinity")
    return points


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
        self.output: np.ndarray = np.empty(0)  # the model's output on the grid, last drawn
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
        self.output = out
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
    resolution = check_int(resolution, f"{who}: resolution", 2)
    fig = _figure(6.0, 5.0)
    ax = fig.add_subplot()
    boundary = _Boundary(ax, model, points, labels, resolution, class_names)
    if boundary.classes == 1:
        label = "P(class 1)" if boundary.probability else "model output"
        fig.colorbar(boundary.image, ax=ax, label=label, shrink=0.9)
    correct = np.mean(model.predict_classes(points) == labels)
    ax.set_title(f"decision boundary: accuracy {correct:.3f} on these {len(points)} points")
    return _finish(fig, path)


class BoundaryRecorder(Callback):
    """A callback that records a 2-D classifier's decision boundary while ``fit`` trains it,
    for an animated GIF of the training run itself.

    A frame before the first epoch, then after the epochs that spread ``frames`` frames
    evenly over the run (every epoch when there are fewer epochs than frames), and after
    the last one: the last frame is the model that ``fit`` leaves, also after an early
    stop or restored weights. Each frame shows the epoch and the loss and metrics of
    ``model.evaluate(x, y)``. ``save(path)`` writes the GIF; ``outputs`` holds the
    model's output on ``grid`` (the plane's points) for each frame, ``epochs`` their
    epoch numbers. Recording reads the model only: the training is the same without it.
    """

    def __init__(
        self,
        x: Any,
        y: Any,
        frames: int = 20,
        resolution: int = 100,
        frame_ms: int = 200,
        class_names: Sequence[str] | None = None,
    ) -> None:
        super().__init__()
        who = "BoundaryRecorder"
        self.frames = check_int(frames, f"{who}: frames", 2)
        self.resolution = check_int(resolution, f"{who}: resolution", 2)
        self.frame_ms = check_int(frame_ms, f"{who}: frame_ms", 1)
        self.points = _plane_input(None, x, who)
        self.labels = _labels(y, len(self.points), who)
        self.x, self.y = x, y
        self.class_names = class_names
        self.grid, _ = _grid(self.points, self.resolution)
        self.images: list[Any] = []  # PIL images, one per frame
        self.outputs: list[np.ndarray] = []
        self.epochs: list[int] = []
        self.figure: Figure | None = None
        self._boundary: _Boundary | None = None
        self._marks: set[int] = set()
        self._done = 0

    def on_epoch_begin(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        """Before the run's first epoch: the first frame, and the epochs to draw."""
        if self._boundary is not None:
            return
        _plane_input(self.model, self.points, "BoundaryRecorder")
        require_matplotlib()
        last = int(self.params.get("epochs", epoch + 1))
        self._marks = set(np.round(np.linspace(epoch, last, self.frames)).astype(int).tolist())
        self.figure = _figure(5.5, 5.0)
        ax = self.figure.add_subplot()
        self._boundary = _Boundary(
            ax, self.model, self.points, self.labels, self.resolution, self.class_names
        )
        self._done = epoch
        self._capture(redraw=False)

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        """A frame after the epochs that were chosen to be drawn."""
        self._done = epoch + 1
        if self._done in self._marks:
            self._capture()

    def on_train_end(self, logs: dict[str, float] | None = None) -> None:
        """A last frame if the model changed since the last one (an early stop, weights
        restored by a callback before this one)."""
        if self._boundary is None:
            return
        before = self.outputs[-1]
        self._boundary.redraw()
        if self.epochs[-1] != self._done or not np.array_equal(self._boundary.output, before):
            self._capture(redraw=False)

    def _capture(self, redraw: bool = True) -> None:
        from PIL import Image  # a dependency of matplotlib

        assert self._boundary is not None and self.figure is not None
        if redraw:
            self._boundary.redraw()
        scores = "  ".join(f"{k} {v:.3f}" for k, v in self.model.evaluate(self.x, self.y).items())
        total = self.params.get("epochs", self._done)
        self._boundary.ax.set_title(f"epoch {self._done}/{total}   {scores}", fontsize=10)
        self.figure.canvas.draw()
        self.figure.set_layout_engine("none")  # keep the first frame's layout: no jumping axes
        rgba = np.asarray(self.figure.canvas.buffer_rgba())  # (height, width, 4)
        self.images.append(Image.fromarray(np.ascontiguousarray(rgba[..., :3])))
        self.outputs.append(self._boundary.output.copy())
        self.epochs.append(self._done)

    def save(self, path: _PathLike) -> None:
        """Write the frames as an animated GIF (atomically); the last is held 3x as long."""
        if Path(path).suffix.lower() != ".gif":
            raise ValueError(f"BoundaryRecorder.save: path must end in .gif, got {str(path)!r}")
        if not self.images:
            raise ValueError("BoundaryRecorder.save: no frames: fit has not run with it")
        durations = [self.frame_ms] * (len(self.images) - 1) + [3 * self.frame_ms]
        buffer = io.BytesIO()
        self.images[0].save(
            buffer,
            format="GIF",
            save_all=True,
            append_images=self.images[1:],
            duration=durations,
            loop=0,
        )
        _write_atomically(Path(path), buffer.getvalue())


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

    One run of ``model.fit(x, y, epochs=epochs, verbose=0, **fit_kwargs)`` with a
    ``BoundaryRecorder``: the first frame is the model as it is, the others spread evenly
    over the epochs (fewer frames if there are fewer epochs), the last is the trained
    model. The model must be compiled, and is trained in place. Each frame shows the
    epoch and the loss and metrics of ``model.evaluate(x, y)``; the last frame is held
    three times as long. Returns the figure, showing the last frame.
    """
    who = "boundary_animation"
    if Path(path).suffix.lower() != ".gif":
        raise ValueError(f"{who}: path must end in .gif, got {str(path)!r}")
    if getattr(model, "loss", None) is None:
        raise ValueError(f"{who}: compile the model first (model.compile(loss, optimizer))")
    epochs = check_int(epochs, f"{who}: epochs", 1)
    frames = check_int(frames, f"{who}: frames", 2)
    kwargs = dict(fit_kwargs or {})
    taken = sorted(set(kwargs) & {"x", "y", "epochs", "verbose"})
    if taken:
        raise ValueError(f"{who}: fit_kwargs may not set {', '.join(taken)}; they are set here")
    _plane_input(model, x, who)
    require_matplotlib()
    recorder = BoundaryRecorder(x, y, frames, resolution, frame_ms, class_names)
    callbacks = [*(kwargs.pop("callbacks", None) or []), recorder]
    model.fit(x, y, epochs=epochs, verbose=0, callbacks=callbacks, **kwargs)
    recorder.save(path)
    assert recorder.figure is not None
    return recorder.figure


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
    from ..activations import Sigmoid, Softmax

    who = "activation_maps"
    points = _plane_input(model, x, who)
    resolution = check_int(resolution, f"{who}: resolution", 2)
    max_units = check_int(max_units, f"{who}: max_units", 1)
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
