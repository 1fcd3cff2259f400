"""Batch normalization over the last axis (features of vectors, channels of images)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..validation import check_int, float_dtype
from .base import Layer, Shape

__all__ = ["BatchNorm"]

_CHUNK_BYTES = 1 << 20  # a slice of rows of about 1 MiB stays in the L2 cache
_CHUNK_ROWS = 8192  # at most, as each slice's sums are summed in the dtype


def _row_chunks(rows: np.ndarray) -> list[slice]:
    """Consecutive slices of ``rows`` (m, F) that cover it, of about ``_CHUNK_BYTES``: the
    operations on a slice run back to back while it is in the cache, and the slices'
    sums are added in float64 (rounding that grows with the slice, not with ``m``)."""
    m, f = rows.shape
    step = max(1, min(_CHUNK_BYTES // (f * rows.itemsize), _CHUNK_ROWS))
    return [slice(i, i + step) for i in range(0, m, step)]


def _sum(a: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:
    """Per column of ``a`` (rows, F), in ``a``'s dtype: the sum over the rows of ``a``, or
    of ``a * b`` without an array for the product (one pass, no temporary)."""
    return np.einsum("ij->j", a) if b is None else np.einsum("ij,ij->j", a, b)


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

    How the code evaluates them: in few passes over the ``(m, F)`` array, and accurately
    when ``|mu| >> std``. The statistics are two-pass with a correction (the corrected
    two-pass variance of Chan, Golub and LeVeque): a first pass gives the mean ``k``,
    rounded to the dtype; ``c = x - k`` (kept for backward) is exact where ``x`` is near
    ``k``; with ``d = mean(c)`` (``k``'s rounding: ``mu = k + d``) and ``mean(c^2)``::

        var = mean(c^2) - d^2,     y = c * scale + (beta - d * scale),
        scale = gamma / sqrt(var + eps)

    Backward uses ``sum(g * x_hat) = (sum(g * c) - d * sum(g)) / sqrt(var + eps)`` and
    writes the compact ``dL/dx`` as ``scale * (c * s + g + t)``, with per-feature ``s`` and
    ``t``. The sums are ``einsum`` over the rows (``sum(g * c)`` without a product array);
    the work runs over slices of rows that stay in the cache (``c``'s sums right after
    ``c``'s slice is written; the in-place steps of ``y`` and ``dL/dx`` on one slice),
    each slice's sums added in float64; the per-feature arithmetic is float64.

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
        features = check_int(features, f"{self.name}: features")
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
        # of the last forward: c = x - k, d = mean(c), 1 / sqrt(var + eps) (float64)
        self._centred: np.ndarray | None = None
        self._offset: np.ndarray | None = None
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
        chunks = _row_chunks(rows)
        centred = np.empty_like(rows)
        if training:
            if m < 2:
                raise ValueError(
                    f"{self.name}: training needs more than one value per feature to "
                    f"estimate a variance, got a batch of shape {x.shape}"
                )
            sum_x, sum_c, sum_c2 = (np.zeros(self.features) for _ in range(3))
            for s in chunks:
                sum_x += _sum(rows[s])
            k = (sum_x / m).astype(dtype)  # the mean, rounded to the dtype
            for s in chunks:
                c = np.subtract(rows[s], k, out=centred[s])
                sum_c += _sum(c)
                sum_c2 += _sum(c, c)
            d = sum_c / m  # mu - k
            var = np.maximum(sum_c2 / m - d * d, 0.0)
            mean_buf, var_buf = self._mean.value, self._var.value
            mean_buf *= 1 - self.momentum
            mean_buf += self.momentum * (k + d)
            var_buf *= 1 - self.momentum
            var_buf += (self.momentum * m / (m - 1)) * var
        else:  # c = x - running_mean, written slice by slice below
            d = np.zeros(self.features)
            var = self._var.value.astype(np.float64)
        inv_std = 1.0 / np.sqrt(var + self.eps)
        scale = self._gamma.value * inv_std  # gamma / sqrt(var + eps), float64
        self._centred, self._offset, self._inv_std = centred, d, inv_std
        self._x_shape, self._training = x.shape, training
        scale_d = scale.astype(dtype)
        shift = (self._beta.value - d * scale).astype(dtype)
        y = np.empty_like(rows)
        for s in chunks:
            if not training:
                np.subtract(rows[s], self._mean.value, out=centred[s])
            part = np.multiply(centred[s], scale_d, out=y[s])
            part += shift
        return y.reshape(x.shape)

    def backward(self, grad: np.ndarray, need_input_grad: bool = True) -> np.ndarray | None:
        """Write ``dL/dgamma``, ``dL/dbeta``; return ``dL/dx`` (compact form in training)."""
        centred = self._cached(self._centred)
        d, inv_std = self._cached(self._offset), self._cached(self._inv_std)
        grad = self._check_grad(grad, self._cached(self._x_shape))
        dtype = centred.dtype
        g = grad.reshape(-1, self.features).astype(dtype, copy=False)
        m = len(g)
        chunks = _row_chunks(g)
        sum_g, sum_gc = np.zeros(self.features), np.zeros(self.features)
        for s in chunks:
            sum_g += _sum(g[s])
            sum_gc += _sum(g[s], centred[s])
        sum_g_xhat = inv_std * (sum_gc - d * sum_g)
        self._gamma.grad[...] = sum_g_xhat
        self._beta.grad[...] = sum_g
        if not need_input_grad:
            return None
        scale = self._gamma.value * inv_std  # gamma / sqrt(var + eps)
        if not self._training:
            return (g * scale.astype(dtype)).reshape(grad.shape)
        # scale * (g - sum(g)/m - x_hat * sum(g x_hat)/m) with x_hat = (c - d) * inv_std
        slope = -inv_std * sum_g_xhat / m
        slope_d = slope.astype(dtype)
        const = (-sum_g / m - slope * d).astype(dtype)
        scale_d = scale.astype(dtype)
        dx = np.empty_like(centred)
        for s in chunks:
            part = np.multiply(centred[s], slope_d, out=dx[s])
            part += g[s]
            part += const
            part *= scale_d
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
