"""Batch normalization over the last axis (features of vectors, channels of images)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..validation import float_dtype
from .base import Layer, Shape

__all__ = ["BatchNorm"]


class BatchNorm(Layer):
    """Batch normalization (Ioffe and Szegedy, 2015) of the last axis: per feature of a
    ``(N, F)`` batch, per channel of an ``(N, H, W, C)`` image batch. The statistics run
    over the ``m`` values of each feature (``m = N``, or ``N*H*W`` for images)::

        mu    = mean(x)                      per feature, over the m values
        var   = mean((x - mu)^2)             (biased, as used in the forward)
        x_hat = (x - mu) / sqrt(var + eps)
        y     = gamma * x_hat + beta

    ``gamma`` (ones) and ``beta`` (zeros) are trained. In training the layer uses the
    batch's ``mu`` and ``var`` and moves its running statistics (buffers, saved with the
    model, never trained) towards them::

        running_mean = (1 - momentum) * running_mean + momentum * mu
        running_var  = (1 - momentum) * running_var  + momentum * var * m / (m - 1)

    (PyTorch's convention: ``momentum`` is the new batch's weight, 0.1 by default; Keras'
    ``momentum=0.99`` is PyTorch's 0.01. The running variance is unbiased, as in both.)
    At inference (``training=False``) it uses the running statistics instead, so a
    prediction does not depend on the rest of the batch.

    Backward in training, compact form. With ``g = dL/dy`` and sums over the m values::

        dL/dgamma = sum(g * x_hat)
        dL/dbeta  = sum(g)
        dL/dx     = gamma / sqrt(var + eps) / m * (m g - sum(g) - x_hat * sum(g * x_hat))

    (``mu`` and ``var`` depend on every ``x``: the two sums are their paths of the chain
    rule.) At inference ``mu`` and ``var`` are constants and
    ``dL/dx = g * gamma / sqrt(running_var + eps)``.

    Parameters
    ----------
    features : int
        Size of the last axis (channels for images).
    momentum : float in (0, 1]
    eps : float > 0
        Added to the variance (1e-5, PyTorch's; Keras uses 1e-3).
    dtype : float32 (default) or float64
    name : str, optional
    """

    def __init__(
        self,
        features: int,
        momentum: float = 0.1,
        eps: float = 1e-5,
        dtype: object = np.float32,
        name: str | None = None,
    ) -> None:
        super().__init__(name)
        if (
            isinstance(features, bool)
            or not isinstance(features, (int, np.integer))
            or features < 1
        ):
            raise ValueError(f"{self.name}: features must be an int >= 1, got {features!r}")
        momentum, eps = float(momentum), float(eps)
        if not 0 < momentum <= 1:
            raise ValueError(f"{self.name}: momentum must be in (0, 1], got {momentum!r}")
        if not (np.isfinite(eps) and eps > 0):
            raise ValueError(f"{self.name}: eps must be a finite number > 0, got {eps!r}")
        self.features, self.momentum, self.eps = int(features), momentum, eps
        dt = float_dtype(dtype)
        self._gamma = self.add_parameter("gamma", np.ones(self.features, dtype=dt))
        self._beta = self.add_parameter("beta", np.zeros(self.features, dtype=dt))
        self._mean = self.add_buffer("running_mean", np.zeros(self.features, dtype=dt))
        self._var = self.add_buffer("running_var", np.ones(self.features, dtype=dt))
        self._x_hat: np.ndarray | None = None
        self._inv_std: np.ndarray | None = None
        self._x_shape: tuple[int, ...] | None = None  # of the last input (and output)
        self._training = False

    def output_shape(self, input_shape: Shape | None) -> Shape | None:
        """The input shape; its last axis must be ``features``."""
        if input_shape is not None and (not input_shape or input_shape[-1] != self.features):
            got = ", ".join(map(str, input_shape))
            raise ValueError(
                f"{self.name}: normalizes the last axis of (batch, ..., {self.features}), "
                f"but receives (batch, {got})"
                + (
                    "; this looks channels first: lucidnet takes channels last, "
                    "x.transpose(0, 2, 3, 1)"
                    if len(input_shape) == 3 and input_shape[0] == self.features
                    else ""
                )
            )
        return input_shape

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """Normalize with the batch's statistics (training) or the running ones."""
        x = np.asarray(x)
        if x.ndim < 2 or x.shape[-1] != self.features:
            self.output_shape(x.shape[1:] if x.ndim >= 1 else ())
            raise ValueError(
                f"{self.name}: expects a batch (N, ..., {self.features}), got {x.shape}"
            )
        dtype = self._gamma.value.dtype
        if x.dtype != dtype:
            x = x.astype(dtype)
        rows = x.reshape(-1, self.features)  # (m, F)
        m = len(rows)
        if training:
            if m < 2:
                raise ValueError(
                    f"{self.name}: training needs more than one value per feature to "
                    f"estimate a variance, got a batch of shape {x.shape}"
                )
            mu = rows.mean(axis=0)
            centred = rows - mu
            var = np.square(centred).mean(axis=0)
            mean_buf, var_buf = self._mean.value, self._var.value
            mean_buf *= 1 - self.momentum
            mean_buf += self.momentum * mu
            var_buf *= 1 - self.momentum
            var_buf += (self.momentum * m / (m - 1)) * var
        else:
            centred = rows - self._mean.value
            var = self._var.value
        inv_std = 1.0 / np.sqrt(var + dtype.type(self.eps))
        x_hat = centred
        x_hat *= inv_std
        self._x_hat, self._inv_std, self._training = x_hat, inv_std.astype(dtype), training
        self._x_shape = x.shape
        y = x_hat * self._gamma.value
        y += self._beta.value
        return y.reshape(x.shape)

    def backward(self, grad: np.ndarray, need_input_grad: bool = True) -> np.ndarray | None:
        """Write ``dL/dgamma``, ``dL/dbeta``; return ``dL/dx`` (compact form in training)."""
        x_hat = self._cached(self._x_hat)
        inv_std = self._cached(self._inv_std)
        grad = self._check_grad(grad, self._cached(self._x_shape))
        g = grad.reshape(-1, self.features).astype(x_hat.dtype, copy=False)
        sum_g = g.sum(axis=0)
        sum_g_xhat = (g * x_hat).sum(axis=0)
        self._gamma.grad[...] = sum_g_xhat
        self._beta.grad[...] = sum_g
        if not need_input_grad:
            return None
        scale = self._gamma.value * inv_std  # gamma / sqrt(var + eps)
        if not self._training:
            return (g * scale).reshape(grad.shape)
        m = len(g)
        dx = g * x_hat.dtype.type(m)
        dx -= sum_g
        dx -= x_hat * sum_g_xhat
        dx *= scale / x_hat.dtype.type(m)
        return dx.reshape(grad.shape)

    def get_config(self) -> dict[str, Any]:
        """Features, momentum, eps, dtype and name (the statistics travel as buffers)."""
        return {
            "features": self.features,
            "momentum": self.momentum,
            "eps": self.eps,
            "dtype": self._gamma.value.dtype.name,
            "name": self.name,
        }

    @classmethod
    def array_shapes(cls, config: dict[str, Any]) -> dict[str, Shape] | None:
        """Every array is ``(features,)``."""
        n = config.get("features")
        if not isinstance(n, int) or isinstance(n, bool):
            return None
        return {name: (n,) for name in ("gamma", "beta", "running_mean", "running_var")}

    def __repr__(self) -> str:
        return f"BatchNorm({self.features}, momentum={self.momentum}, eps={self.eps})"
