"""Flatten: each sample's array as one vector."""

from __future__ import annotations

import numpy as np

from .base import Layer, Shape

__all__ = ["Flatten"]


class Flatten(Layer):
    """``(N, d1, d2, ...) -> (N, d1*d2*...)``, in C order (the last axis varies fastest).

    For a channels-last image ``(H, W, C)`` the vector runs pixel by pixel, each pixel's
    channels together: element ``(i*W + j)*C + c`` is ``x[i, j, c]``. (PyTorch flattens
    its channels-first ``(C, H, W)`` channel by channel; weights moved between the two
    need that permutation.) Backward reshapes the gradient back.
    """

    def __init__(self, name: str | None = None) -> None:
        super().__init__(name)
        self._x_shape: tuple[int, ...] | None = None

    def output_shape(self, input_shape: Shape | None) -> Shape | None:
        """``(prod(input_shape),)``."""
        if input_shape is None:
            return None
        return (int(np.prod(input_shape, dtype=np.int64)),)

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """``x.reshape(N, -1)`` (a view when ``x`` is contiguous)."""
        x = np.asarray(x)
        if x.ndim < 1:
            raise ValueError(f"{self.name}: expects a batch (N, ...), got a scalar")
        if x.dtype.kind != "f":
            x = x.astype(np.float32)
        self._x_shape = x.shape
        return x.reshape(len(x), -1)

    def backward(self, grad: np.ndarray, need_input_grad: bool = True) -> np.ndarray | None:
        """The gradient in the input's shape."""
        shape = self._cached(self._x_shape)
        g = self._check_grad(grad, (shape[0], int(np.prod(shape[1:], dtype=np.int64))))
        return g.reshape(shape) if need_input_grad else None
