"""A convolutional network's pictures: the learned filters, and the feature maps of one
image."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from ..validation import check_int
from ._common import _diverging, _figure, _finish, _PathLike

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ..layers import Conv2D
    from ..model import Sequential

__all__ = ["plot_feature_maps", "plot_filters"]


def _conv_layer(model: Any, layer: int | str | None, who: str) -> Conv2D:
    """The Conv2D to draw: ``model`` itself, or the model's first one (``layer`` None),
    the one named ``layer`` or the ``layer``-th (from 0) of the model's Conv2D layers."""
    from ..layers import Conv2D
    from ..model import Sequential

    if isinstance(model, Conv2D):
        if layer is not None:
            raise ValueError(f"{who}: layer chooses among a model's Conv2D layers; got a layer")
        return model
    if not isinstance(model, Sequential):
        raise ValueError(f"{who}: expected a Sequential or a Conv2D, got {type(model).__name__}")
    convs = [m for m in model.layers if isinstance(m, Conv2D)]
    if not convs:
        raise ValueError(f"{who}: the model has no Conv2D layer")
    names = [c.name for c in convs]
    if layer is None:
        return convs[0]
    if isinstance(layer, str):
        if layer not in names:
            raise ValueError(f"{who}: no Conv2D layer named {layer!r}; the model's are {names}")
        return convs[names.index(layer)]
    index = check_int(layer, f"{who}: layer", 0)
    if index >= len(convs):
        raise ValueError(
            f"{who}: layer {index}: the model has {len(convs)} Conv2D layer(s) {names}"
        )
    return convs[index]


def filter_images(conv: Conv2D, channel: int | None = None) -> np.ndarray:
    """``(F, kh, kw)``: each filter's kernel ``W[:, :, c, f]`` for input channel
    ``channel``, or the mean over the input channels (``channel`` None)."""
    w = np.asarray(conv.weights, dtype=np.float64)  # (kh, kw, C, F)
    if channel is None:
        return w.mean(axis=2).transpose(2, 0, 1)
    c = check_int(channel, f"{conv.name}: channel", 0)
    if c >= conv.in_channels:
        raise ValueError(
            f"{conv.name}: channel {c} is not an input channel (it has {conv.in_channels})"
        )
    return w[:, :, c, :].transpose(2, 0, 1)


def plot_filters(
    model: Sequential | Conv2D,
    path: _PathLike | None = None,
    layer: int | str | None = None,
    channel: int | None = None,
    max_filters: int = 64,
) -> Figure:
    """The kernels of a ``Conv2D`` as a grid of small images, one per filter: what each
    filter looks for in a window, blue where a bright input raises its output, orange
    where it lowers it, all on one symmetric colour scale (so filters compare).

    ``model`` is a ``Sequential`` (its first Conv2D, or ``layer``: a name or the index
    among its Conv2D layers, from 0) or a ``Conv2D``. A kernel is ``(kh, kw,
    in_channels)`` per filter: with one input channel the image is that channel; with
    more, ``channel=None`` (default) shows the mean over the input channels and
    ``channel=c`` shows input channel ``c``. At most ``max_filters`` filters (the first).
    """
    who = "plot_filters"
    conv = _conv_layer(model, layer, who)
    max_filters = check_int(max_filters, f"{who}: max_filters", 1)
    images = filter_images(conv, channel)
    n = min(len(images), max_filters)
    columns = math.ceil(math.sqrt(n))
    rows = math.ceil(n / columns)
    width, height = max(0.8 * columns + 0.4, 3.6), 0.8 * rows + 0.9  # inches
    fig = _figure(width, height, layout=None)
    margin = 0.2 / width
    fig.subplots_adjust(left=margin, right=1 - margin, bottom=0.1 / height, top=1 - 0.7 / height)
    axes = fig.subplots(rows, columns, squeeze=False, gridspec_kw={"hspace": 0.3}).ravel()
    scale = float(np.max(np.abs(images[:n]))) or 1.0
    cmap = _diverging()
    for f, ax in enumerate(axes):
        ax.set_axis_off()
        if f >= n:
            continue
        ax.imshow(images[f], cmap=cmap, vmin=-scale, vmax=scale, interpolation="nearest")
        ax.set_title(str(f), fontsize=7, pad=1)
    kh, kw = conv.kernel_size
    of = f"{n} of {conv.out_channels}" if n < conv.out_channels else f"{n}"
    which = ""
    if conv.in_channels > 1:
        which = (
            f", mean of {conv.in_channels} input channels"
            if channel is None
            else f", input channel {channel}"
        )
    fig.suptitle(
        f"{conv.name}: {of} filters {kh}x{kw}{which}\nblue +, orange −, one scale ±{scale:.3g}",
        fontsize=10,
    )
    return _finish(fig, path)


def feature_maps(model: Sequential, image: Any, who: str) -> list[tuple[str, np.ndarray]]:
    """``(label, maps (H, W, C))`` for the input and each Conv2D, MaxPool2D and AvgPool2D
    output of ``model`` for one image (the layers run for inference)."""
    from ..layers import AvgPool2D, Conv2D, MaxPool2D

    x = np.asarray(image)
    wanted = model.input_shape
    expected = (3,) if wanted is None else (len(wanted),)
    if x.ndim == expected[0] + 1 and len(x) == 1:  # a batch of one
        x = x[0]
    if (wanted is None and x.ndim != 3) or (wanted is not None and x.shape != tuple(wanted)):
        shape = "(height, width, channels)" if wanted is None else str(tuple(wanted))
        raise ValueError(f"{who}: image must be one image {shape}, got shape {x.shape}")
    if x.dtype.kind not in "iuf":
        raise ValueError(f"{who}: image must be numbers, got {x.dtype}")
    kinds = (Conv2D, MaxPool2D, AvgPool2D)
    last = max((i for i, m in enumerate(model.layers) if isinstance(m, kinds)), default=None)
    if last is None:
        raise ValueError(f"{who}: the model has no Conv2D, MaxPool2D or AvgPool2D layer")
    out: list[tuple[str, np.ndarray]] = []
    h = x[None].astype(model.dtype)
    for layer in model.layers[: last + 1]:
        if not out and h.ndim == 4:  # the image as the first image layer sees it (rows of
            out.append(("input", np.asarray(h[0], np.float64)))  # pixels: after Reshape)
        h = layer.forward(h, training=False)
        if isinstance(layer, kinds):
            out.append((f"{layer.name} ({type(layer).__name__})", np.asarray(h[0], np.float64)))
    return out


def plot_feature_maps(
    model: Sequential,
    image: Any,
    path: _PathLike | None = None,
    max_channels: int = 16,
) -> Figure:
    """What one image becomes: a row per layer (the input, then each Conv2D, MaxPool2D and
    AvgPool2D), each small image one channel of that layer's output for this image.

    ``image`` is one sample of the model's input shape (or a batch of one): an image
    ``(height, width, channels)``, or a row of pixels for a model that starts with a
    ``Reshape`` (the CLI's ``--conv`` networks), whose input row shows it reshaped. A
    convolution's row is its own output, before the activation that follows it: orange
    where negative, blue where positive, on one symmetric scale per row; a pooling's row
    likewise; the input is in grey. Rows show at most ``max_channels`` channels (the
    first ones).
    """
    who = "plot_feature_maps"
    max_channels = check_int(max_channels, f"{who}: max_channels", 1)
    rows = feature_maps(model, image, who)
    columns = min(max_channels, max(maps.shape[2] for _, maps in rows))
    width, height = 0.9 * columns + 1.4, 1.0 * len(rows) + 0.5  # inches
    fig = _figure(width, height, layout=None)
    # 1.2 in of row labels on the left, the title above, 0.15 in of channel titles per row
    fig.subplots_adjust(
        left=1.2 / width, right=1 - 0.1 / width, bottom=0.1 / height, top=1 - 0.45 / height
    )
    axes = fig.subplots(len(rows), columns, squeeze=False, gridspec_kw={"hspace": 0.35})
    cmap = _diverging()
    for r, (label, maps) in enumerate(rows):
        shown = min(maps.shape[2], max_channels)
        if r == 0:
            limits = {"cmap": "gray", "vmin": float(maps.min()), "vmax": float(maps.max())}
        else:
            scale = float(np.max(np.abs(maps[:, :, :shown]))) or 1.0
            limits = {"cmap": cmap, "vmin": -scale, "vmax": scale}
        for c in range(columns):
            ax = axes[r, c]
            ax.set_xticks([])
            ax.set_yticks([])
            if c >= shown:
                ax.set_axis_off()
                continue
            ax.imshow(maps[:, :, c], interpolation="nearest", **limits)
            ax.set_title(str(c), fontsize=6, pad=1)
        h, w, channels = maps.shape
        more = f"\n(first {shown} of {channels})" if shown < channels else ""
        axes[r, 0].set_ylabel(f"{label}\n{h}x{w}x{channels}{more}", fontsize=7)
    fig.suptitle("feature maps of one image: blue +, orange −", fontsize=10)
    return _finish(fig, path)
