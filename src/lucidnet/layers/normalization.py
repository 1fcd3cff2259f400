"""Standardization as a layer: ``y = (x - mean) / scale``, statistics learned by ``adapt``."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..validation import check_int, float_dtype
from .base import Layer, Shape

__all__ = ["Standardize"]


class Standardize(Layer):
    """Standardize each feature with statistics of the training data (Keras'
    ``Normalization`` with ``adapt``, scikit-learn's ``StandardScaler``, as a layer).

    ``adapt(x)`` computes, over the rows of ``x``::

        mean  = mean(x, axis=0)                       (features,)
        scale = std(x, axis=0), 1 where std is 0      (features,)

    and stores them as buffers: saved and loaded with the model, never trained. Then::

        forward:   y = (x - mean) / scale
        backward:  dL/dx = dL/dy / scale

    A feature that is constant in the training data keeps ``scale = 1`` (it is only
    shifted), as scikit-learn does. Before ``adapt`` the layer is the identity
    (``mean = 0``, ``scale = 1``). Inside the model, the statistics travel wherever the
    model goes: model files, ``explain``, exported graphs.

    Parameters
    ----------
    features : int
        The number of input features; inputs are ``(batch, features)``.
    dtype : float32 (default) or float64
    name : str, optional
    """

    def __init__(self, features: int, dtype: object = np.float32, name: str | None = None) -> None:
        super().__init__(name)
        features = check_int(features, f"{self.name}: features")
        self.features = int(features)
        dt = float_dtype(dtype)
        self.add_buffer("mean", np.zeros(self.features, dtype=dt))
        self.add_buffer("scale", np.ones(self.features, dtype=dt))

    @property
    def input_shape(self) -> Shape:
        """``(features,)``."""
        return (self.features,)

    def output_shape(self, input_shape: Shape | None) -> Shape:
        """``(features,)``; raises for any other known input shape."""
        self._check_input_shape(input_shape)
        return (self.features,)

    def adapt(self, x: Any) -> Standardize:
        """Learn ``mean`` and ``scale`` from the rows of ``x: (n, features)`` (the training
        rows only: statistics of test rows would leak into the model). Returns the layer."""
        x = np.asarray(x)
        if x.ndim != 2 or x.shape[1] != self.features or len(x) == 0:
            raise ValueError(
                f"{self.name}: adapt expects rows of shape (n >= 1, {self.features}), got {x.shape}"
            )
        if x.dtype.kind not in "fiub":
            raise ValueError(f"{self.name}: adapt expects numbers, got dtype {x.dtype}")
        x64 = x.astype(np.float64, copy=False)
        if not np.isfinite(x64).all():
            raise ValueError(f"{self.name}: adapt got NaN or infinity")
        mean = x64.mean(axis=0)
        std = x64.std(axis=0)
        self._buffers["mean"].assign(mean)
        self._buffers["scale"].assign(np.where(std > 0, std, 1.0))
        return self

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """``(x - mean) / scale`` for ``x: (batch, features)``."""
        x = np.asarray(x)
        mean, scale = self._buffers["mean"].value, self._buffers["scale"].value
        if x.ndim != 2 or x.shape[1] != self.features:
            raise ValueError(
                f"{self.name}: expected input of shape (batch, {self.features}), got {x.shape}"
            )
        if x.dtype != mean.dtype:
            x = x.astype(mean.dtype)
        y = x - mean
        y /= scale
        return y

    def backward(self, grad: np.ndarray, need_input_grad: bool = True) -> np.ndarray | None:
        """``dL/dx = dL/dy / scale``."""
        if not need_input_grad:
            return None
        scale = self._buffers["scale"].value
        g = np.asarray(grad)
        if g.ndim != 2 or g.shape[1] != self.features:
            raise ValueError(
                f"{self.name}: backward expected a gradient of shape (batch, {self.features}), "
                f"got {g.shape}"
            )
        return g / scale

    def get_config(self) -> dict[str, Any]:
        """Features, dtype and name (the statistics travel as buffers)."""
        return {"features": self.features, "dtype": self.dtype.name, "name": self.name}

    @classmethod
    def array_shapes(cls, config: dict[str, Any]) -> dict[str, Shape] | None:
        """``mean`` and ``scale``: ``(features,)``."""
        n = config.get("features")
        if not isinstance(n, int) or isinstance(n, bool):
            return None
        return {"mean": (n,), "scale": (n,)}

    def __repr__(self) -> str:
        return f"Standardize({self.features}, name={self.name!r})"
