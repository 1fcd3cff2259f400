"""Worked positions: one output number of a convolution, a pooling or a BatchNorm, computed
again by hand from the layer's definition with every term kept, and checked against the
number the layer itself computed.

``explain`` shows an image layer through one such position (the whole feature map is too
many numbers to read). The arithmetic here is written loop by loop from the formulas in
the layers' docstrings, independently of their im2col and strided views, so that the
check means something::

    Conv2D      z[n, i, j, f] = b[f] + sum_{a, b, c} xp[n, i*sh + a, j*sw + b, c] W[a, b, c, f]
    MaxPool2D   z[n, i, j, c] = max_{a, b} x[n, i*sh + a, j*sw + b, c]   (first maximum wins)
    AvgPool2D   z[n, i, j, c] = mean_{a, b} x[n, i*sh + a, j*sw + b, c]
    GlobalAveragePooling2D    z[n, c] = mean_{i, j} x[n, i, j, c]
    BatchNorm   z = gamma (x - running_mean) / sqrt(running_var + eps) + beta  (inference)

``xp`` is the input zero-padded as the layer pads it. A worked number that differs from
the layer's own by more than rounding raises ``RuntimeError`` naming the layer, the
position and both numbers: a trace never shows a sum that is not the layer's.

A position is ``(row, column, channel)`` of the layer's output for an image, or
``(channel,)`` for a vector output (``GlobalAveragePooling2D``, ``BatchNorm`` on
features), always of the first sample. ``default_position`` picks the centre
``((Ho - 1) // 2, (Wo - 1) // 2)`` of channel 0, or channel 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from .layers import AvgPool2D, BatchNorm, Conv2D, GlobalAveragePooling2D, Layer, MaxPool2D
from .layers.windows import pad_amounts

__all__ = [
    "WORKED",
    "ConvPosition",
    "NormPosition",
    "PoolPosition",
    "check_positions",
    "default_position",
    "describe",
    "fill_backward",
    "work_out",
]

WORKED = (Conv2D, MaxPool2D, AvgPool2D, GlobalAveragePooling2D, BatchNorm)
SAMPLE = 0  # worked positions are of the first sample of the batch

Position = tuple[int, ...]


@dataclass
class ConvPosition:
    """One output of a ``Conv2D`` as the sum over its receptive field (sample ``SAMPLE``).

    ``rows`` and ``cols`` are the input rows and columns the window covers, in the
    unpadded input's numbering: a row below 0 or past the last is zero padding (marked in
    ``padding``). Arrays are float64 copies of the layer's numbers.
    """

    layer: str
    row: int
    col: int
    channel: int  # the filter f
    rows: range
    cols: range
    x: np.ndarray  # (kh, kw, C): the window of the zero-padded input
    padding: np.ndarray  # (kh, kw) bool: True where the window lies on the padding
    kernel: np.ndarray  # (kh, kw, C): W[:, :, :, f]
    products: np.ndarray  # (kh, kw, C): x * kernel
    bias: float | None  # b[f], None for a layer without bias
    value: float  # sum of the products + bias, worked out here
    output: float  # z[0, row, col, f] as the layer computed it
    grad_output: float | None = None  # dL/dz at this position, once the backward ran

    @property
    def index(self) -> Position:
        return (SAMPLE, self.row, self.col, self.channel)

    @property
    def channel_sums(self) -> np.ndarray:
        """``(C,)``: the products summed over the window, one per input channel."""
        return self.products.sum(axis=(0, 1))

    @property
    def total(self) -> float:
        """The sum of every product (the value without the bias)."""
        return float(self.products.sum())


@dataclass
class PoolPosition:
    """One output of a pooling: its window and the maximum or the mean of it.

    ``GlobalAveragePooling2D``'s window is the whole map of one channel (``row`` and
    ``col`` are None). ``argmax`` is the window offset ``(a, b)`` of the first maximum in
    row-major order (the one the gradient goes to), ``ties`` how many values equal it.
    """

    layer: str
    kind: str  # "max" or "mean"
    row: int | None
    col: int | None
    channel: int
    rows: range
    cols: range
    window: np.ndarray  # (ph, pw), or (H, W) for the global average
    value: float
    output: float
    argmax: tuple[int, int] | None = None
    ties: int = 1
    grad_output: float | None = None  # dL/dz at this position, once the backward ran
    grad_window: np.ndarray | None = None  # dL/dx over the window (non-overlapping only)

    @property
    def index(self) -> Position:
        if self.row is None:
            return (SAMPLE, self.channel)
        return (SAMPLE, self.row, self.col, self.channel)  # type: ignore[return-value]


@dataclass
class NormPosition:
    """One output of a ``BatchNorm`` at inference, from its running statistics."""

    layer: str
    at: Position  # the position in the sample, the channel last: (i, j, c) or (c,)
    x: float
    mean: float
    var: float
    eps: float
    gamma: float
    beta: float
    value: float  # gamma * x_hat + beta, worked out here
    output: float
    grad_output: float | None = None
    grad_input: float | None = None  # dL/dx at this position = dL/dz gamma / sqrt(var + eps)

    @property
    def channel(self) -> int:
        return self.at[-1]

    @property
    def index(self) -> Position:
        return (SAMPLE, *self.at)

    @property
    def x_hat(self) -> float:
        return (self.x - self.mean) / np.sqrt(self.var + self.eps)


Worked = ConvPosition | PoolPosition | NormPosition


def check_positions(positions: Mapping[str, Any] | None, layers: list[Layer]) -> dict[str, Any]:
    """The chosen worked positions by layer name; a name that is not such a layer raises."""
    if positions is None:
        return {}
    if not isinstance(positions, Mapping):
        raise ValueError(f"explain: positions must map layer names to positions, got {positions!r}")
    names = [layer.name for layer in layers if isinstance(layer, WORKED)]
    for name in positions:
        if name not in names:
            raise ValueError(
                f"explain: positions names {name!r}, which is not a convolution, pooling or "
                f"BatchNorm of the model; those are {names}"
            )
    return dict(positions)


def describe(layer: Layer | None) -> str:
    """The geometry of a layer, for the trace's titles."""
    if isinstance(layer, Conv2D):
        (kh, kw), (sh, sw) = layer.kernel_size, layer.stride
        return (
            f"{kh}x{kw}, {layer.in_channels} -> {layer.out_channels} channels, stride "
            f"{sh}x{sw}, padding {layer.padding!r}"
        )
    if isinstance(layer, (MaxPool2D, AvgPool2D)):
        (ph, pw), (sh, sw) = layer.pool_size, layer.stride
        return f"{ph}x{pw} windows, stride {sh}x{sw}"
    if isinstance(layer, BatchNorm):
        return f"{layer.features} features, eps {layer.eps:g}, running statistics"
    return ""


def default_position(output_shape: tuple[int, ...]) -> Position:
    """The centre of channel 0 for an image output ``(Ho, Wo, C)``; channel 0 else."""
    if len(output_shape) == 3:
        return ((output_shape[0] - 1) // 2, (output_shape[1] - 1) // 2, 0)
    return (0,) * len(output_shape)


def _position(layer: Layer, position: Any, output_shape: tuple[int, ...]) -> Position:
    """``position`` as a tuple of ints inside ``output_shape``, or ValueError naming the
    layer and the shape."""
    items = position if isinstance(position, (tuple, list)) else (position,)
    wanted = "(row, column, channel)" if len(output_shape) == 3 else "(channel,)"
    if len(items) != len(output_shape) or not all(
        isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in items
    ):
        raise ValueError(
            f"explain: the position of {layer.name} must be {wanted} of its output "
            f"{output_shape}, got {position!r}"
        )
    at = tuple(int(v) for v in items)
    if not all(0 <= v < n for v, n in zip(at, output_shape, strict=True)):
        raise ValueError(
            f"explain: position {at} is outside the output of {layer.name}, whose shape "
            f"per sample is {output_shape}"
        )
    return at


def work_out(layer: Layer, x: np.ndarray, z: np.ndarray, position: Any = None) -> Worked:
    """The output of ``layer`` at ``position`` (default: ``default_position``) of the
    first sample, from its input ``x`` and checked against its output ``z``."""
    at = default_position(z.shape[1:]) if position is None else position
    at = _position(layer, at, z.shape[1:])
    if isinstance(layer, Conv2D):
        worked: Worked = _conv(layer, x, z, at)
    elif isinstance(layer, (MaxPool2D, AvgPool2D)):
        worked = _pool(layer, x, z, at)
    elif isinstance(layer, GlobalAveragePooling2D):
        worked = _global_average(layer, x, z, at)
    elif isinstance(layer, BatchNorm):
        worked = _norm(layer, x, z, at)
    else:
        raise ValueError(f"explain: no worked position for {layer.name} ({type(layer).__name__})")
    _check(worked, _tolerance(worked, z.dtype))
    return worked


def _conv(layer: Conv2D, x: np.ndarray, z: np.ndarray, at: Position) -> ConvPosition:
    i, j, f = at
    (kh, kw), (sh, sw) = layer.kernel_size, layer.stride
    _, h, w, c = x.shape
    top = pad_amounts(layer.padding, h, kh, sh, 0)[0]
    left = pad_amounts(layer.padding, w, kw, sw, 1)[0]
    rows = range(i * sh - top, i * sh - top + kh)  # input rows under the window
    cols = range(j * sw - left, j * sw - left + kw)
    window = np.zeros((kh, kw, c))
    padding = np.ones((kh, kw), dtype=bool)
    for a, r in enumerate(rows):
        for b, s in enumerate(cols):
            if 0 <= r < h and 0 <= s < w:  # else a zero of the padding
                window[a, b] = x[SAMPLE, r, s]
                padding[a, b] = False
    kernel = np.asarray(layer.weights[:, :, :, f], dtype=np.float64)
    products = window * kernel
    bias = None if layer.bias is None else float(layer.bias[f])
    value = float(products.sum()) + (bias or 0.0)
    output = float(z[SAMPLE, i, j, f])
    return ConvPosition(
        layer.name, i, j, f, rows, cols, window, padding, kernel, products, bias, value, output
    )


def _pool(layer: MaxPool2D | AvgPool2D, x: np.ndarray, z: np.ndarray, at: Position) -> PoolPosition:
    i, j, c = at
    (ph, pw), (sh, sw) = layer.pool_size, layer.stride
    rows, cols = range(i * sh, i * sh + ph), range(j * sw, j * sw + pw)
    window = np.asarray(x[SAMPLE, rows.start : rows.stop, cols.start : cols.stop, c], np.float64)
    output = float(z[SAMPLE, i, j, c])
    if isinstance(layer, AvgPool2D):
        return PoolPosition(layer.name, "mean", i, j, c, rows, cols, window, _mean(window), output)
    best = float(window.max())
    first = next((a, b) for a in range(ph) for b in range(pw) if window[a, b] == best)
    ties = int((window == best).sum())
    return PoolPosition(layer.name, "max", i, j, c, rows, cols, window, best, output, first, ties)


def _global_average(
    layer: GlobalAveragePooling2D, x: np.ndarray, z: np.ndarray, at: Position
) -> PoolPosition:
    (c,) = at
    _, h, w, _ = x.shape
    window = np.asarray(x[SAMPLE, :, :, c], dtype=np.float64)
    output = float(z[SAMPLE, c])
    return PoolPosition(
        layer.name, "mean", None, None, c, range(h), range(w), window, _mean(window), output
    )


def _mean(window: np.ndarray) -> float:
    total = 0.0
    for v in window.reshape(-1):  # the sum written out, not np.mean's pairwise one
        total += float(v)
    return total / window.size


def _norm(layer: BatchNorm, x: np.ndarray, z: np.ndarray, at: Position) -> NormPosition:
    c = at[-1]
    stats = {b.name.rsplit(".", 1)[-1]: float(b.value[c]) for b in layer.buffers()}
    mean, var = stats["running_mean"], stats["running_var"]
    gamma, beta = (float(layer.parameter(name).value[c]) for name in ("gamma", "beta"))
    value_x = float(x[(SAMPLE, *at)])
    value = gamma * (value_x - mean) / np.sqrt(var + layer.eps) + beta
    output = float(z[(SAMPLE, *at)])
    return NormPosition(
        layer.name, at, value_x, mean, var, layer.eps, gamma, beta, float(value), output
    )


def _tolerance(worked: Worked, dtype: np.dtype) -> float:
    """How far the layer's rounding may take its number from the worked one: a few units
    of its dtype's precision per term, relative to the size of the terms."""
    eps = float(np.finfo(dtype).eps) if np.dtype(dtype).kind == "f" else 0.0
    tiny = float(np.finfo(np.float64).tiny)
    if isinstance(worked, ConvPosition):
        size = float(np.abs(worked.products).sum()) + abs(worked.bias or 0.0)
        return 2.0 * (worked.products.size + 1) * eps * size + tiny
    if isinstance(worked, PoolPosition):
        if worked.kind == "max":
            return 0.0  # a maximum is one of the inputs: no rounding
        return 2.0 * (worked.window.size + 1) * eps * float(np.abs(worked.window).mean()) + tiny
    scale = abs(worked.gamma) / np.sqrt(worked.var + worked.eps)
    size = (abs(worked.x) + abs(worked.mean)) * scale + abs(worked.beta) + abs(worked.value)
    return 8.0 * eps * float(size) + tiny


def _check(worked: Worked, tolerance: float) -> None:
    difference = abs(worked.value - worked.output)
    if not difference <= tolerance:  # NaN fails too
        at = ", ".join(map(str, worked.index))
        raise RuntimeError(
            f"explain: {worked.layer}: the value worked out at z[{at}] is {worked.value!r}, "
            f"but the layer's output there is {worked.output!r} (difference "
            f"{difference:.3g} > tolerance {tolerance:.3g}); this is a bug in lucidnet"
        )


def fill_backward(worked: Worked, layer: Layer, grad_z: np.ndarray, grad_x: np.ndarray) -> None:
    """Add the backward numbers of the worked position: ``dL/dz`` there and, for a
    pooling of non-overlapping windows, ``dL/dx`` over its window (which then comes from
    this window alone); for a BatchNorm ``dL/dx`` at the position."""
    worked.grad_output = float(grad_z[worked.index])
    if isinstance(worked, NormPosition):
        worked.grad_input = float(grad_x[worked.index])
    elif isinstance(worked, PoolPosition) and not _overlapping(layer):
        r, s = worked.rows, worked.cols
        window = grad_x[SAMPLE, r.start : r.stop, s.start : s.stop, worked.channel]
        worked.grad_window = np.asarray(window, dtype=np.float64)


def _overlapping(layer: Layer) -> bool:
    if isinstance(layer, (MaxPool2D, AvgPool2D)):
        (ph, pw), (sh, sw) = layer.pool_size, layer.stride
        return sh < ph or sw < pw
    return False
