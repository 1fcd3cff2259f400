"""The 2-D convolution, as im2col and one matrix product."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import initializers
from ..validation import check_int
from .base import Layer, Shape
from .weighted import WeightedLayer
from .windows import im2col, offset_view, pad_amounts, pad_image, pair, window_count

__all__ = ["Conv2D", "check_image_batch", "image_shape"]


def _padding(value: object, name: str) -> str | tuple[int, int]:
    if value in ("valid", "same"):
        return value  # type: ignore[return-value]
    items = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if len(items) != 2 or not all(
        isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 0 for v in items
    ):
        raise ValueError(
            f"{name}: padding must be 'valid', 'same', an int >= 0 or a pair of them, got {value!r}"
        )
    return int(items[0]), int(items[1])


def image_shape(layer: Layer, input_shape: Shape | None, channels: int | None) -> Shape | None:
    """Check a per-sample image shape ``(height, width, channels)`` for ``layer``.

    Raises ValueError with the fix for a channels-first shape ``(C, H, W)`` or a missing
    channel axis ``(H, W)``. ``channels`` None accepts any channel count.
    """
    if input_shape is None:
        return None
    shape = tuple(input_shape)
    wanted = f"(batch, height, width, {'channels' if channels is None else channels})"
    got = "(batch, " + ", ".join(map(str, shape)) + ")"
    if len(shape) == 2 and channels in (None, 1):
        raise ValueError(
            f"{layer.name}: expects images {wanted} (channels last), but receives {got}; "
            "add the channel axis with x[..., None]"
        )
    if len(shape) != 3:
        raise ValueError(
            f"{layer.name}: expects images {wanted} (channels last), but receives {got}"
            + ("; flatten comes after the convolutions" if len(shape) == 1 else "")
        )
    if channels is not None and shape[2] != channels:
        hint = ""
        if shape[0] == channels:
            hint = (
                "; this looks channels first (PyTorch's layout): lucidnet takes channels "
                "last, x.transpose(0, 2, 3, 1)"
            )
        raise ValueError(
            f"{layer.name}: expects images {wanted} (channels last), but receives {got}{hint}"
        )
    return shape


def check_image_batch(layer: Layer, x: np.ndarray, channels: int | None) -> None:
    """Raise ValueError unless ``x`` is a batch of images ``(N, H, W, channels)``."""
    if x.ndim != 4:
        image_shape(layer, x.shape[1:] if x.ndim >= 1 else (), channels)
        raise ValueError(f"{layer.name}: expects a batch of images, got shape {x.shape}")
    image_shape(layer, x.shape[1:], channels)


class Conv2D(WeightedLayer):
    """2-D convolution (cross-correlation, as in every framework) of channels-last images.

    Shapes: ``x: (N, H, W, C)``, kernel ``W: (kh, kw, C, F)``, bias ``b: (F,)``,
    output ``z: (N, Ho, Wo, F)``. Output position ``(i, j)`` of filter ``f`` is the sum
    over its receptive field::

        z[n, i, j, f] = b[f] + sum_{a < kh, b' < kw, c < C}
                        xp[n, i*s + a, j*s + b', c] * W[a, b', c, f]

    where ``xp`` is ``x`` zero-padded. Forward, as im2col and one product (the shape of
    each intermediate on its right)::

        xp    = pad(x)                              (N, Hp, Wp, C)
        cols  = im2col(xp)                          (N, Ho, Wo, kh, kw, C)
        X     = cols.reshape(N*Ho*Wo, kh*kw*C)      one row per output position
        Wm    = W.reshape(kh*kw*C, F)               one column per filter
        z     = (X @ Wm + b).reshape(N, Ho, Wo, F)

    Backward, with ``G = dL/dz`` reshaped to ``(N*Ho*Wo, F)``. The layer is a Dense layer
    applied to the rows of ``X`` with shared weights, so Dense's three formulas hold, and
    the input gradient then flows back through the copying of im2col::

        dL/dWm = X.T @ G                            (kh*kw*C, F)
        dL/db  = sum of G over its rows             (F,)
        dL/dX  = G @ Wm.T                           (N*Ho*Wo, kh*kw*C)
        dL/dx  = col2im(dL/dX), padding cropped     (N, H, W, C)

    im2col copies each pixel into every window that covers it; by the chain rule a
    pixel's gradient is the sum of the gradients of all those copies, which is what
    col2im adds up. ``dL/dX`` is computed offset by offset (``G @ W[a, b].T``, ``kh*kw``
    products of ``(N*Ho*Wo, F) @ (F, C)``), each added onto its pixels at once
    (``windows.col2im`` is the same sum written on its own).

    In the code the bias rides in the products: ``X`` carries a last column of ones, so
    ``[X 1] @ [Wm; b] = X @ Wm + b`` and ``[X 1].T @ G = [dL/dWm; dL/db]``.

    Parameters
    ----------
    in_channels, out_channels : int
        Channels ``C`` of the input, filters ``F`` (channels of the output).
    kernel_size : int or (kh, kw)
    stride : int or (sh, sw)
    padding : "valid" (default), "same", an int or (ph, pw)
        "valid": no padding; "same": ``ceil(H / stride)`` output rows (TensorFlow's
        rule, the odd zero after); an int: that many zeros on each side (PyTorch).
    bias : bool
    init : str or callable
        Kernel initializer; fans count the receptive field
        (``fan_in = kh*kw*C``, ``fan_out = kh*kw*F``). The bias starts at zero.
    dtype, seed, l2, l1, name
        As for ``Dense``; the penalties sit on the kernel.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int] = 3,
        stride: int | tuple[int, int] = 1,
        padding: str | int | tuple[int, int] = "valid",
        bias: bool = True,
        init: str | initializers.Initializer = "glorot_uniform",
        dtype: object = np.float32,
        seed: int | np.random.Generator | None = None,
        l2: float = 0.0,
        l1: float = 0.0,
        name: str | None = None,
    ) -> None:
        super().__init__(name)
        self.in_channels = check_int(in_channels, f"{self.name}: in_channels")
        self.out_channels = check_int(out_channels, f"{self.name}: out_channels")
        self.kernel_size = pair(kernel_size, f"{self.name}: kernel_size")
        self.stride = pair(stride, f"{self.name}: stride")
        self.padding = _padding(padding, self.name)
        shape = (*self.kernel_size, self.in_channels, self.out_channels)
        self._create_weights(shape, init, dtype, seed, l1, l2, bias)
        self._cols: np.ndarray | None = None  # im2col of the last input (a work buffer)
        # of the last input: padded size, padding, (N, Ho, Wo)
        self._geometry: (
            tuple[tuple[int, int], tuple[int, int, int, int], tuple[int, int, int]] | None
        ) = None

    # --- shapes ---------------------------------------------------------------------------

    def _layout(self, h: int, w: int) -> tuple[tuple[int, int], tuple[int, int, int, int]]:
        """``((Ho, Wo), (top, bottom, left, right))`` for an ``h x w`` input."""
        (kh, kw), (sh, sw) = self.kernel_size, self.stride
        top, bottom = pad_amounts(self.padding, h, kh, sh, 0)
        left, right = pad_amounts(self.padding, w, kw, sw, 1)
        ho = window_count(h, kh, sh, top, bottom)
        wo = window_count(w, kw, sw, left, right)
        if ho < 1 or wo < 1:
            raise ValueError(
                f"{self.name}: a {kh}x{kw} kernel does not fit in a {h}x{w} input with "
                f"padding {self.padding!r}"
            )
        return (ho, wo), (top, bottom, left, right)

    def output_shape(self, input_shape: Shape | None) -> Shape | None:
        """``(Ho, Wo, out_channels)`` for ``(H, W, in_channels)``."""
        shape = image_shape(self, input_shape, self.in_channels)
        if shape is None:
            return None
        (ho, wo), _ = self._layout(shape[0], shape[1])
        return (ho, wo, self.out_channels)

    # --- computation ------------------------------------------------------------------------

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """``z = im2col(pad(x)) @ W + b`` for ``x: (N, H, W, in_channels)``."""
        x = np.asarray(x)
        check_image_batch(self, x, self.in_channels)
        w = self._w.value
        if x.dtype != w.dtype:
            if x.dtype.kind not in "fiub":
                raise ValueError(f"{self.name}: input must be numeric, got dtype {x.dtype}")
            x = x.astype(w.dtype)
        n, h, wd, c = x.shape
        (ho, wo), pads = self._layout(h, wd)
        xp = pad_image(x, pads)
        (kh, kw), f = self.kernel_size, self.out_channels
        k = kh * kw * c
        x_ext, windows = self._work_buffer(n, ho, wo, x.dtype)
        im2col(xp, self.kernel_size, self.stride, (ho, wo), out=windows)
        self._cols = x_ext
        self._geometry = (xp.shape[1:3], pads, (n, ho, wo))
        if self._b is None:
            z = x_ext @ w.reshape(k, f)
        else:  # [X 1] @ [Wm; b] = X @ Wm + b: the bias rides in the product
            w_ext = np.empty((k + 1, f), dtype=w.dtype)
            w_ext[:k] = w.reshape(k, f)
            w_ext[k] = self._b.value
            z = x_ext @ w_ext
        return z.reshape(n, ho, wo, f)

    def _work_buffer(
        self, n: int, ho: int, wo: int, dtype: np.dtype
    ) -> tuple[np.ndarray, np.ndarray]:
        """The rows ``X`` of the im2col matrix, ``(N*Ho*Wo, kh*kw*C)``, followed by a column
        of ones when the layer has a bias, and the window view ``(N, Ho, Wo, kh, kw, C)``
        of its first ``kh*kw*C`` columns that im2col writes into. Kept and reused while
        the shape stays (the ones are written once)."""
        (kh, kw), c = self.kernel_size, self.in_channels
        k = kh * kw * c
        shape = (n * ho * wo, k + (self._b is not None))
        x_ext = self._cols
        if x_ext is None or x_ext.shape != shape or x_ext.dtype != dtype:
            x_ext = np.empty(shape, dtype=dtype)
            x_ext[:, k:] = 1.0
        windows = x_ext[:, :k].reshape(n, ho, wo, kh, kw, c)
        # splitting axes never copies; a copy would leave the buffer unwritten, so say so
        # (may_share_memory: a bounds test, 0.4 us, where shares_memory took 5 us)
        if windows.size and not np.may_share_memory(windows, x_ext):  # (empty: no memory)
            raise RuntimeError(f"{self.name}: the im2col window view is not a view")
        return x_ext, windows

    def backward(self, grad: np.ndarray, need_input_grad: bool = True) -> np.ndarray | None:
        """Write ``dL/dW = X.T @ G`` and ``dL/db``; return ``dL/dx = col2im(G @ Wm.T)``."""
        x_ext = self._cached(self._cols)
        padded_hw, (top, bottom, left, right), (n, ho, wo) = self._cached(self._geometry)
        (kh, kw), c, f = self.kernel_size, self.in_channels, self.out_channels
        k = kh * kw * c
        rows = len(x_ext)
        w = self._w
        g = self._check_grad(grad, (n, ho, wo, f))
        g2 = g.reshape(rows, f).astype(w.value.dtype, copy=False)
        b = self._b
        # [X 1].T @ G = [X.T @ G; sum of G's rows]: dL/dW and dL/db in one product, taken
        # as (G.T @ [X 1]).T (OpenBLAS ran this orientation 1.1-1.2x faster here)
        grads_t = g2.T @ x_ext  # (F, kh*kw*C [+ 1])
        w.grad.reshape(k, f)[...] = grads_t[:, :k].T
        if b is not None:
            b.grad[...] = grads_t[:, k]
        if not need_input_grad:
            return None
        # col2im fused with the product, offset by offset: the slab of offset (a, b) is
        # G @ W[a, b].T, (N*Ho*Wo, F) @ (F, C), added onto the pixels it came from while
        # it is still in cache (1.8 ms faster at batch 128 than one product, then col2im)
        kernel = w.value.reshape(kh, kw, c, f)
        dxp = np.zeros((n, *padded_hw, c), dtype=g2.dtype)
        slab = np.empty((n * ho * wo, c), dtype=g2.dtype)
        slab4 = slab.reshape(n, ho, wo, c)
        for a in range(kh):
            for b in range(kw):
                np.matmul(g2, kernel[a, b].T, out=slab)
                offset_view(dxp, (a, b), self.stride, (ho, wo))[...] += slab4
        hp, wp = padded_hw
        return dxp[:, top : hp - bottom, left : wp - right]  # the padding cropped: a view

    # --- configuration ----------------------------------------------------------------------

    def get_config(self) -> dict[str, Any]:
        """Sizes, geometry, bias, dtype, penalties and name (the kernel travels separately)."""
        return self._weighted_config(
            {
                "in_channels": self.in_channels,
                "out_channels": self.out_channels,
                "kernel_size": list(self.kernel_size),
                "stride": list(self.stride),
                "padding": self.padding if isinstance(self.padding, str) else list(self.padding),
            }
        )

    @classmethod
    def array_shapes(cls, config: dict[str, Any]) -> dict[str, Shape] | None:
        """``weights: (kh, kw, in, out)`` and ``bias: (out,)`` from the configuration."""
        try:
            layer_shape = pair(config.get("kernel_size", 3), "kernel_size")
            n_in = check_int(config.get("in_channels"), "in_channels")
            n_out = check_int(config.get("out_channels"), "out_channels")
        except ValueError:
            return None
        shapes: dict[str, Shape] = {"weights": (*layer_shape, n_in, n_out)}
        if config.get("bias", True):
            shapes["bias"] = (n_out,)
        return shapes

    def __repr__(self) -> str:
        kh, kw = self.kernel_size
        return (
            f"Conv2D({self.in_channels}, {self.out_channels}, kernel_size=({kh}, {kw}), "
            f"stride={self.stride}, padding={self.padding!r}, name={self.name!r})"
        )
