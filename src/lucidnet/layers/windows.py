"""Sliding windows over images: sizes, padding, im2col and col2im, written once.

Images are channels last, ``(batch, height, width, channels)`` (NHWC, Keras' layout);
docs/convolution.md says why (measured: ``bench/conv_layout.py``). A window of
``kh x kw`` pixels moves over the image in steps of ``stride``; at output position
``(i, j)`` it covers input rows ``i*stride .. i*stride + kh - 1`` and columns
``j*stride .. j*stride + kw - 1`` of the padded image. The number of positions along
one axis of size ``n``, padded by ``before + after``::

    out = (n + before + after - k) // stride + 1

(a window that would stick out past the padding is dropped, as in PyTorch and Keras).

**im2col** copies every window into one row::

    x     (N, H, W, C)
    xp    (N, H + pt + pb, W + pl + pr, C)        zero padded
    cols  (N, Ho, Wo, kh, kw, C)                  cols[n, i, j, a, b, c] =
                                                     xp[n, i*s + a, j*s + b, c]

so that, reshaped to ``(N*Ho*Wo, kh*kw*C)``, one matrix product with the kernel
``(kh*kw*C, F)`` computes every output position of every image at once.

**col2im** is its adjoint: each window's values are added back onto the pixels they were
copied from (a pixel in several windows receives the sum), which is how the gradient of
the input collects the contributions of every window it took part in.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

__all__ = [
    "col2im",
    "im2col",
    "offset_view",
    "pad_amounts",
    "pad_image",
    "pair",
    "window_count",
]

# With few channels the per-offset copy (kh*kw slab copies) is faster; with many, one copy
# through a strided window view (bench/conv_layout.py, batch 128, 2026-11-30: 1 channel
# 0.79 ms against 1.69 ms, 32 channels 4.70 ms against 1.14 ms).
_VIEW_COPY_MIN_CHANNELS = 8


def pair(value: object, what: str) -> tuple[int, int]:
    """``3 -> (3, 3)``; ``(3, 2) -> (3, 2)``; raises ValueError naming ``what``."""
    items = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if len(items) != 2 or not all(
        isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 1 for v in items
    ):
        raise ValueError(f"{what} must be an int >= 1 or a pair of them, got {value!r}")
    return int(items[0]), int(items[1])


def pad_amounts(
    padding: str | int | tuple[int, int], size: int, kernel: int, stride: int, axis: int
) -> tuple[int, int]:
    """Zeros ``(before, after)`` along one spatial axis (``axis`` 0: height, 1: width).

    - ``"valid"``: none.
    - ``"same"``: the output has ``ceil(size / stride)`` positions; the total padding
      ``max((out - 1) * stride + kernel - size, 0)`` is split with the odd one after
      (TensorFlow's rule; for stride 1 and an odd kernel, ``(kernel - 1) / 2`` each side).
    - an int ``p`` or a pair ``(ph, pw)``: that many zeros on both sides (PyTorch).
    """
    if padding == "valid":
        return 0, 0
    if padding == "same":
        out = -(-size // stride)
        total = max((out - 1) * stride + kernel - size, 0)
        return total // 2, total - total // 2
    p = padding[axis] if isinstance(padding, tuple) else padding
    return int(p), int(p)


def window_count(size: int, kernel: int, stride: int, before: int, after: int) -> int:
    """Window positions along an axis: ``(size + before + after - kernel) // stride + 1``
    (0 or less: the window does not fit)."""
    return (size + before + after - kernel) // stride + 1


def pad_image(x: np.ndarray, pads: tuple[int, int, int, int]) -> np.ndarray:
    """``x (N, H, W, C)`` with ``(top, bottom, left, right)`` rows/columns of zeros
    (``x`` itself when there are none)."""
    top, bottom, left, right = pads
    if not (top or bottom or left or right):
        return x
    n, h, w, c = x.shape
    xp = np.zeros((n, h + top + bottom, w + left + right, c), dtype=x.dtype)
    xp[:, top : top + h, left : left + w] = x
    return xp


def offset_view(
    x: np.ndarray, offset: tuple[int, int], stride: tuple[int, int], out_hw: tuple[int, int]
) -> np.ndarray:
    """The pixels at one window offset ``(a, b)`` of every window position, a strided view
    of ``x (N, H, W, C)`` of shape ``(N, Ho, Wo, C)``::

        view[n, i, j, c] = x[n, i*sh + a, j*sw + b, c]

    Writing into the view writes into ``x``. im2col, col2im and the poolings are loops
    over the ``kh*kw`` offsets of this view.
    """
    (a, b), (sh, sw), (ho, wo) = offset, stride, out_hw
    return x[:, a : a + (ho - 1) * sh + 1 : sh, b : b + (wo - 1) * sw + 1 : sw]


def im2col(
    xp: np.ndarray,
    kernel: tuple[int, int],
    stride: tuple[int, int],
    out_hw: tuple[int, int],
    out: np.ndarray | None = None,
) -> np.ndarray:
    """The windows of the padded batch ``xp (N, Hp, Wp, C)`` as
    ``cols (N, Ho, Wo, kh, kw, C)``, a contiguous copy
    (``cols[n, i, j, a, b, c] = xp[n, i*sh + a, j*sw + b, c]``), written into ``out``
    when given (a work buffer of that shape and dtype)."""
    (kh, kw), (sh, sw), (ho, wo) = kernel, stride, out_hw
    n, _, _, c = xp.shape
    if out is None:
        out = np.empty((n, ho, wo, kh, kw, c), dtype=xp.dtype)
    if c >= _VIEW_COPY_MIN_CHANNELS:
        # view (N, Ho', Wo', C, kh, kw) of every window (no copy), strided, reordered
        view = sliding_window_view(xp, (kh, kw), axis=(1, 2))
        view = view[:, : (ho - 1) * sh + 1 : sh, : (wo - 1) * sw + 1 : sw]
        np.copyto(out, view.transpose(0, 1, 2, 4, 5, 3))
    else:
        for a in range(kh):  # one slab per offset (a, b) of the window
            for b in range(kw):
                out[:, :, :, a, b, :] = xp[
                    :, a : a + (ho - 1) * sh + 1 : sh, b : b + (wo - 1) * sw + 1 : sw
                ]
    return out


def col2im(
    dcols: np.ndarray,
    padded_hw: tuple[int, int],
    stride: tuple[int, int],
) -> np.ndarray:
    """The adjoint of ``im2col``: ``dcols (kh, kw, N, Ho, Wo, C)`` (one slab per window
    offset) summed back onto the padded image ``(N, Hp, Wp, C)``::

        dxp[n, i*sh + a, j*sw + b, c] += dcols[a, b, n, i, j, c]   for every a, b, i, j

    Offset-major slabs make each of the ``kh*kw`` additions run over whole image rows.
    """
    kh, kw, n, ho, wo, c = dcols.shape
    dxp = np.zeros((n, *padded_hw, c), dtype=dcols.dtype)
    for a in range(kh):
        for b in range(kw):
            offset_view(dxp, (a, b), stride, (ho, wo))[...] += dcols[a, b]
    return dxp
