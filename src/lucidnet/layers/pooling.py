"""Pooling over windows of channels-last images: max, average, and global average."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from .base import Layer, Shape
from .conv import check_image_batch, image_shape
from .windows import offset_view, pair, window_count

__all__ = ["AvgPool2D", "GlobalAveragePooling2D", "MaxPool2D"]


class _Pool2D(Layer):
    """Shared geometry of the window poolings: ``pool_size``, ``stride`` (default: the
    pool size, windows side by side), no padding; rows and columns that do not fill a
    last window are left out, as in PyTorch and Keras (``11 -> 5`` for a pool of 2)."""

    def __init__(
        self,
        pool_size: int | tuple[int, int] = 2,
        stride: int | tuple[int, int] | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(name)
        self.pool_size = pair(pool_size, f"{self.name}: pool_size")
        self.stride = self.pool_size if stride is None else pair(stride, f"{self.name}: stride")
        self._x_shape: tuple[int, ...] | None = None

    def _out_hw(self, h: int, w: int) -> tuple[int, int]:
        (ph, pw), (sh, sw) = self.pool_size, self.stride
        ho, wo = window_count(h, ph, sh, 0, 0), window_count(w, pw, sw, 0, 0)
        if ho < 1 or wo < 1:
            raise ValueError(f"{self.name}: a {ph}x{pw} window does not fit in a {h}x{w} input")
        return ho, wo

    def output_shape(self, input_shape: Shape | None) -> Shape | None:
        """``(Ho, Wo, C)`` for ``(H, W, C)``, ``Ho = (H - ph) // sh + 1``."""
        shape = image_shape(self, input_shape, None)
        if shape is None:
            return None
        return (*self._out_hw(shape[0], shape[1]), shape[2])

    def _offsets(
        self, x: np.ndarray, out_hw: tuple[int, int]
    ) -> Iterator[tuple[tuple[int, int], np.ndarray]]:
        """``((a, b), view)`` for each window offset in row-major order: ``view[n, i, j, c]
        = x[n, i*sh + a, j*sw + b, c]``, a strided view of shape ``(N, Ho, Wo, C)``."""
        ph, pw = self.pool_size
        for a in range(ph):
            for b in range(pw):
                yield (a, b), offset_view(x, (a, b), self.stride, out_hw)

    def _input(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        check_image_batch(self, x, None)
        if x.dtype.kind != "f":
            x = x.astype(np.float32)
        self._x_shape = x.shape
        return x

    @property
    def _overlapping(self) -> bool:
        return self.stride[0] < self.pool_size[0] or self.stride[1] < self.pool_size[1]

    def _new_input_grad(self, dtype: np.dtype) -> np.ndarray:
        """Zeros of the input's shape (only the windows' pixels are written after)."""
        return np.zeros(self._cached(self._x_shape), dtype=dtype)

    def get_config(self) -> dict[str, Any]:
        """Pool size, stride and name."""
        return {"pool_size": list(self.pool_size), "stride": list(self.stride), "name": self.name}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(pool_size={self.pool_size}, stride={self.stride})"


class MaxPool2D(_Pool2D):
    """Max pooling: each output is the largest input in its window, per channel::

        y[n, i, j, c] = max_{a < ph, b < pw} x[n, i*sh + a, j*sw + b, c]

    Backward: the maximum is the only input of the window that the output depends on
    (locally, ``y = x[argmax]``), so the whole gradient goes to it and the other inputs
    get 0::

        dL/dx[n, i*sh + a*, j*sw + b*, c] += dL/dy[n, i, j, c],   (a*, b*) = argmax

    Ties (equal maxima, such as a window of zeros after a ReLU) send the gradient to the
    first maximum in row-major window order, as PyTorch does; the gradient of the window
    is never counted twice. Overlapping windows (stride < pool size) add up at a pixel
    that is the maximum of several.

    Forward in training keeps the argmax of each window as a small integer (the offset
    ``a*pw + b``); after a forward for inference, backward finds it from the input.
    """

    def __init__(
        self,
        pool_size: int | tuple[int, int] = 2,
        stride: int | tuple[int, int] | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(pool_size, stride, name)
        self._argmax: np.ndarray | None = None
        self._x: np.ndarray | None = None

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """The maximum of each window; in training also its position."""
        x = self._input(x)
        y, self._argmax = self._max(x, with_argmax=training)
        self._x = None if training else x  # the argmax is found again if backward asks
        return y

    def _max(self, x: np.ndarray, with_argmax: bool) -> tuple[np.ndarray, np.ndarray | None]:
        """The window maxima ``(N, Ho, Wo, C)`` and, if asked, the offset of each one's
        first maximum (uint8 for windows up to 256 pixels)."""
        out_hw = self._out_hw(x.shape[1], x.shape[2])
        shape = (len(x), *out_hw, x.shape[3])
        y = np.empty(shape, dtype=x.dtype)
        # the offset a*pw + b of each maximum: uint8 up to 256 pixels a window
        index = np.min_scalar_type(self.pool_size[0] * self.pool_size[1] - 1)
        argmax = np.zeros(shape, dtype=index) if with_argmax else None
        greater = np.empty(shape, dtype=index) if with_argmax else None
        offsets = self._offsets(x, out_hw)
        _, first = next(offsets)
        np.copyto(y, first)
        for k, (_, view) in enumerate(offsets, start=1):
            if argmax is not None and greater is not None:
                np.greater(view, y, out=greater)  # strictly: a tie keeps the first
                # argmax = k where greater, else unchanged: k exceeds every earlier offset,
                # so max(argmax, k * greater) does it (np.copyto with where= ran 4x slower)
                greater *= k
                np.maximum(argmax, greater, out=argmax)
            np.maximum(y, view, out=y)
        return y, argmax

    def backward(self, grad: np.ndarray, need_input_grad: bool = True) -> np.ndarray | None:
        """Route each output's gradient to its window's (first) maximum."""
        argmax = self._argmax
        if argmax is None:  # forward ran for inference: find the maxima's positions now
            _, argmax = self._max(self._cached(self._x), with_argmax=True)
            assert argmax is not None
        g = self._check_grad(grad, argmax.shape)
        if not need_input_grad:
            return None
        dtype = g.dtype if g.dtype.kind == "f" else np.dtype(np.float32)
        dx = self._new_input_grad(dtype)

        hit = np.empty(argmax.shape, dtype=bool)
        for k, (_, view) in enumerate(self._offsets(dx, argmax.shape[1:3])):
            np.equal(argmax, k, out=hit)
            if self._overlapping:
                view += g * hit
            else:  # each pixel is in one window: write, no addition needed
                np.multiply(g, hit, out=view)
        return dx


class AvgPool2D(_Pool2D):
    """Average pooling: each output is the mean of its window, per channel::

        y[n, i, j, c] = 1/(ph*pw) * sum_{a < ph, b < pw} x[n, i*sh + a, j*sw + b, c]

    Backward: every input of the window gets the same share,
    ``dL/dx[n, i*sh + a, j*sw + b, c] += dL/dy[n, i, j, c] / (ph*pw)``.
    """

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """The mean of each window."""
        x = self._input(x)
        offsets = self._offsets(x, self._out_hw(x.shape[1], x.shape[2]))
        _, first = next(offsets)
        y = first.copy()
        for _, view in offsets:
            y += view
        y *= y.dtype.type(1.0 / (self.pool_size[0] * self.pool_size[1]))
        return y

    def backward(self, grad: np.ndarray, need_input_grad: bool = True) -> np.ndarray | None:
        """Spread each output's gradient evenly over its window."""
        shape = self._cached(self._x_shape)
        out_hw = self._out_hw(shape[1], shape[2])
        g = self._check_grad(grad, (shape[0], *out_hw, shape[3]))
        if not need_input_grad:
            return None
        dtype = g.dtype if g.dtype.kind == "f" else np.dtype(np.float32)
        share = g * dtype.type(1.0 / (self.pool_size[0] * self.pool_size[1]))
        dx = self._new_input_grad(dtype)
        for _, view in self._offsets(dx, out_hw):
            if self._overlapping:
                view += share
            else:
                view[...] = share
        return dx


class GlobalAveragePooling2D(Layer):
    """The mean of each channel over the whole image: ``(N, H, W, C) -> (N, C)``::

    y[n, c] = 1/(H*W) * sum_{i, j} x[n, i, j, c]
    dL/dx[n, i, j, c] = dL/dy[n, c] / (H*W)
    """

    def __init__(self, name: str | None = None) -> None:
        super().__init__(name)
        self._x_shape: tuple[int, ...] | None = None

    def output_shape(self, input_shape: Shape | None) -> Shape | None:
        """``(C,)`` for ``(H, W, C)``."""
        shape = image_shape(self, input_shape, None)
        return None if shape is None else (shape[2],)

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """The per-channel mean over height and width."""
        x = np.asarray(x)
        check_image_batch(self, x, None)
        if x.dtype.kind != "f":
            x = x.astype(np.float32)
        self._x_shape = x.shape
        return x.mean(axis=(1, 2))

    def backward(self, grad: np.ndarray, need_input_grad: bool = True) -> np.ndarray | None:
        """Each pixel gets ``1/(H*W)`` of its channel's gradient."""
        n, h, w, c = self._cached(self._x_shape)
        g = self._check_grad(grad, (n, c))
        if not need_input_grad:
            return None
        dtype = g.dtype if g.dtype.kind == "f" else np.dtype(np.float32)
        dx = np.empty((n, h, w, c), dtype=dtype)
        dx[...] = (g * dtype.type(1.0 / (h * w)))[:, None, None, :]
        return dx
