"""Flatten and Reshape: each sample's array as one vector, or in another shape."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .base import Layer, Shape

__all__ = ["Flatten", "Reshape"]


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
        """``x.reshape(N, H*W*C)`` (a view when ``x`` is contiguous)."""
        x = np.asarray(x)
        if x.ndim < 1:
            raise ValueError(f"{self.name}: expects a batch (N, ...), got a scalar")
        if x.dtype.kind != "f":
            x = x.astype(np.float32)
        self._x_shape = x.shape
        if len(x):
            return x.reshape(len(x), -1)
        return x.reshape(0, math.prod(x.shape[1:]))  # -1 cannot size an empty batch

    def backward(self, grad: np.ndarray, need_input_grad: bool = True) -> np.ndarray | None:
        """The gradient in the input's shape."""
        shape = self._cached(self._x_shape)
        g = self._check_grad(grad, (shape[0], int(np.prod(shape[1:], dtype=np.int64))))
        return g.reshape(shape) if need_input_grad else None


class Reshape(Layer):
    """Each sample's array in a new shape of the same size: ``(N, *s) -> (N, *target)``,
    C order (Keras' ``Reshape``). ``Reshape((28, 28, 1))`` turns rows of 784 pixels into
    channels-last images for ``Conv2D``; the CLI's convolutional networks start with it,
    so that they take the same rows as its MLPs. Backward reshapes the gradient back.
    """

    def __init__(self, target_shape: tuple[int, ...] | list[int], name: str | None = None) -> None:
        super().__init__(name)
        shape = tuple(target_shape) if isinstance(target_shape, (tuple, list)) else None
        if not shape or not all(
            isinstance(d, (int, np.integer)) and not isinstance(d, bool) and d >= 1 for d in shape
        ):
            raise ValueError(
                f"{self.name}: target_shape must be a tuple of ints >= 1 (per sample, "
                f"without the batch), got {target_shape!r}"
            )
        self.target_shape = tuple(int(d) for d in shape)
        self._size = int(np.prod(self.target_shape, dtype=np.int64))
        self._x_shape: tuple[int, ...] | None = None

    def output_shape(self, input_shape: Shape | None) -> Shape:
        """``target_shape``; raises if ``input_shape`` has another number of elements."""
        if input_shape is not None:
            size = int(np.prod(input_shape, dtype=np.int64))
            if size != self._size:
                raise ValueError(
                    f"{self.name}: cannot reshape (batch, {', '.join(map(str, input_shape))}) "
                    f"({size} values per sample) to (batch, "
                    f"{', '.join(map(str, self.target_shape))}) ({self._size} values)"
                )
        return self.target_shape

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """``x.reshape(N, *target_shape)``."""
        x = np.asarray(x)
        if x.ndim < 1:
            raise ValueError(f"{self.name}: expects a batch (N, ...), got a scalar")
        self.output_shape(x.shape[1:])
        if x.dtype.kind != "f":
            x = x.astype(np.float32)
        self._x_shape = x.shape
        return x.reshape(len(x), *self.target_shape)

    def backward(self, grad: np.ndarray, need_input_grad: bool = True) -> np.ndarray | None:
        """The gradient in the input's shape."""
        shape = self._cached(self._x_shape)
        g = self._check_grad(grad, (shape[0], *self.target_shape))
        return g.reshape(shape) if need_input_grad else None

    def get_config(self) -> dict[str, Any]:
        """The target shape and the name."""
        return {"target_shape": list(self.target_shape), "name": self.name}

    def __repr__(self) -> str:
        return f"Reshape({self.target_shape}, name={self.name!r})"
