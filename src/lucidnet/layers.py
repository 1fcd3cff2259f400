"""The layer contract and the Dense layer.

A layer maps a batch ``x: (batch, features)`` to ``y``. Its two methods sit side by side:

- ``forward(x, training=False) -> y`` computes ``y`` and keeps what ``backward`` needs;
- ``backward(grad_y) -> grad_x`` takes ``dL/dy`` (same shape as ``y``), stores ``dL/dθ``
  for each parameter θ in a buffer of θ's shape, and returns ``dL/dx``.

Gradients are overwritten by each ``backward``, not accumulated (Keras' behaviour; in
PyTorch terms there is an implicit ``zero_grad``). Parameters are live NumPy arrays,
reachable as ``Parameter(name, value, grad)``; optimizers update ``value`` in place, so
references to ``layer.weights`` stay valid.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

import numpy as np

from . import initializers
from .validation import check_fraction, check_rng, float_dtype

__all__ = ["Dense", "Dropout", "Layer", "Parameter"]


class Parameter(NamedTuple):
    """A trainable array, its gradient buffer, and its name (``"dense_1.weights"``)."""

    name: str
    value: np.ndarray
    grad: np.ndarray


def _snake_case(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z][a-z])", "_", name).lower()


class Layer:
    """Base class: an identity layer with no parameters.

    Subclasses override ``forward`` and ``backward``; those with parameters also override
    ``parameters`` and ``astype``; those that change the feature count override
    ``output_features``.
    """

    def __init__(self, name: str | None = None) -> None:
        self.name = name if name is not None else _snake_case(type(self).__name__)

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """Return the layer's output for the batch ``x``."""
        return np.asarray(x)

    def backward(self, grad: np.ndarray) -> np.ndarray:
        """Return ``dL/dx`` from ``dL/dy``; store parameter gradients."""
        return np.asarray(grad)

    def parameters(self) -> list[Parameter]:
        """The layer's trainable arrays with their gradient buffers (none by default)."""
        return []

    def penalty(self) -> float:
        """The layer's regularization term, added to the loss (0 by default)."""
        return 0.0

    def bind_parameters(self, values: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        """Use ``values[name]`` and ``grads[name]`` (same shapes, already holding the current
        numbers) as the parameter arrays from now on. ``Sequential`` calls it to lay all
        parameters out in one flat buffer. Layers without parameters have nothing to do."""

    def backward_parameters_only(self, grad: np.ndarray) -> None:
        """Like ``backward``, when nothing needs ``dL/dx`` (the first layer that has
        parameters): layers that can skip computing it override this."""
        self.backward(grad)

    def start_epoch(self, epoch: int, rng: np.random.Generator) -> None:
        """Called by ``fit`` before each epoch with a generator derived from
        ``(fit's seed, epoch)``, for layers with training-time randomness (Dropout).

        Deriving each epoch's randomness from the epoch number is what makes a run that
        stops, saves and resumes identical to a run in one piece.
        """

    def output_features(self, in_features: int | None) -> int | None:
        """Feature count of the output for ``in_features`` inputs (None: unknown).

        Raises ValueError if the layer cannot take ``in_features`` inputs.
        """
        return in_features

    def astype(self, dtype: object) -> Layer:
        """Convert parameters (if any) to ``dtype`` in place and return the layer."""
        float_dtype(dtype)
        return self

    def get_config(self) -> dict[str, Any]:
        """The constructor's keyword arguments, JSON-ready (model files store them)."""
        return {"name": self.name}

    def _cached(self, value: np.ndarray | None) -> np.ndarray:
        """Return a value cached by ``forward``, or say that ``forward`` never ran."""
        if value is None:
            raise RuntimeError(f"{self.name}: backward called before forward")
        return value

    def _check_grad(self, grad: np.ndarray, expected: tuple[int, ...]) -> np.ndarray:
        grad = np.asarray(grad)
        if grad.shape != expected:
            raise ValueError(
                f"{self.name}: backward expected a gradient of shape {expected} "
                f"(the shape of the last output), got {grad.shape}"
            )
        return grad

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


class Dense(Layer):
    """Fully connected layer ``z = x @ W + b``.

    Shapes: ``x: (batch, in_features)``, ``W: (in_features, out_features)``,
    ``b: (out_features,)``, ``z: (batch, out_features)``.

    This is seed 002's convention (``W in R^{input_size x output_size}``, one column per
    neuron). Seeds 001 and 003 write ``z = W x + b`` with one *row* per neuron and a single
    column vector ``x``; their matrix is the transpose of ``weights`` here. Rows of samples
    let one matrix product handle the whole batch.

    Backward, with ``g = dL/dz: (batch, out_features)`` (the chain rule, summed over the
    batch because every sample uses the same ``W`` and ``b``)::

        dL/dW = x.T @ g          (in_features, out_features)
        dL/db = g.sum(axis=0)    (out_features,)
        dL/dx = g @ W.T          (batch, in_features)

    With an L2 penalty ``l2 > 0`` the loss gains ``l2 * sum(W^2)`` (``penalty()``, the
    Keras ``kernel_regularizer`` convention; the bias is not penalized) and
    ``dL/dW`` gains ``2 * l2 * W``.

    Parameters
    ----------
    in_features, out_features : int
        Number of inputs and of neurons.
    init : str or callable
        Weight initializer (see ``lucidnet.initializers``); the bias starts at zero.
    bias : bool
        Whether to add ``b``.
    dtype : float32 (default) or float64
        Dtype of the parameters; inputs are cast to it, outputs have it.
    seed : int, numpy.random.Generator or None
        Source of the initial weights. The same int gives the same weights.
    l2 : float
        L2 penalty factor (>= 0) on the weights.
    name : str, optional
        Name used in messages and parameter names; Sequential makes it unique.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        init: str | initializers.Initializer = "glorot_uniform",
        bias: bool = True,
        dtype: object = np.float32,
        seed: int | np.random.Generator | None = None,
        l2: float = 0.0,
        name: str | None = None,
    ) -> None:
        super().__init__(name)
        l2 = float(l2)
        if not (l2 >= 0 and np.isfinite(l2)):
            raise ValueError(f"{self.name}: l2 must be a finite number >= 0, got {l2!r}")
        self.l2 = l2
        for arg, value in (("in_features", in_features), ("out_features", out_features)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{self.name}: {arg} must be an int >= 1, got {value!r}")
        self.in_features = int(in_features)
        self.out_features = int(out_features)
        self.dtype = float_dtype(dtype)
        self.init = init
        initializer = initializers.get(init)
        shape = (self.in_features, self.out_features)
        self.weights = np.asarray(initializer(shape, check_rng(seed), self.dtype), self.dtype)
        if self.weights.shape != shape:
            raise ValueError(
                f"{self.name}: initializer {init!r} returned shape {self.weights.shape}, "
                f"expected {shape}"
            )
        self.grad_weights = np.zeros_like(self.weights)
        self.bias: np.ndarray | None = None
        self.grad_bias: np.ndarray | None = None
        if bias:
            self.bias = np.zeros(self.out_features, dtype=self.dtype)
            self.grad_bias = np.zeros_like(self.bias)
        self._x: np.ndarray | None = None
        self._l2_scratch: np.ndarray | None = None
        self._ones: np.ndarray | None = None  # ones, for the bias gradient ones @ g

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """``z = x @ W + b`` for ``x: (batch, in_features)``."""
        x = np.asarray(x)
        if x.ndim != 2 or x.shape[1] != self.in_features:
            hint = " (a single sample needs reshape(1, -1))" if x.ndim == 1 else ""
            raise ValueError(
                f"{self.name}: expected input of shape (batch, {self.in_features}), "
                f"got {x.shape}{hint}"
            )
        if x.dtype != self.dtype:
            try:
                x = x.astype(self.dtype)
            except (TypeError, ValueError) as err:
                raise ValueError(
                    f"{self.name}: input must be numeric, got dtype {x.dtype}"
                ) from err
        self._x = x  # a reference, not a copy: change x only after backward
        z = x @ self.weights
        if self.bias is not None:
            z += self.bias
        return z

    def backward(self, grad: np.ndarray) -> np.ndarray:
        """Store ``dL/dW = x.T @ g`` and ``dL/db = sum(g)``; return ``dL/dx = g @ W.T``."""
        g = self._parameter_gradients(grad)
        return g @ self.weights.T

    def backward_parameters_only(self, grad: np.ndarray) -> None:
        """``dL/dW`` and ``dL/db`` without ``dL/dx``: for the first layer of a network,
        whose input gradient nobody uses, this saves a third of its backward work."""
        self._parameter_gradients(grad)

    def _parameter_gradients(self, grad: np.ndarray) -> np.ndarray:
        x = self._cached(self._x)
        g = self._check_grad(grad, (x.shape[0], self.out_features))
        g = g.astype(self.dtype, copy=False)
        np.matmul(x.T, g, out=self.grad_weights)
        if self.l2:  # + 2 l2 W, through a scratch buffer instead of a new array per step
            if self._l2_scratch is None or self._l2_scratch.dtype != self.dtype:
                self._l2_scratch = np.empty_like(self.weights)
            np.multiply(self.weights, self.dtype.type(2 * self.l2), out=self._l2_scratch)
            self.grad_weights += self._l2_scratch
        if self.grad_bias is not None:
            # dL/db = sum of g over the batch, computed as the product ones @ g: a BLAS
            # matrix-vector product, 2-3x faster than np.sum's row reduction at batch 1024
            ones = self._ones
            if ones is None or len(ones) != len(g) or ones.dtype != g.dtype:
                ones = self._ones = np.ones(len(g), dtype=g.dtype)
            np.matmul(ones, g, out=self.grad_bias)
        return g

    def parameters(self) -> list[Parameter]:
        """``weights`` and, if present, ``bias``, each with its gradient buffer."""
        params = [Parameter("weights", self.weights, self.grad_weights)]
        if self.bias is not None and self.grad_bias is not None:
            params.append(Parameter("bias", self.bias, self.grad_bias))
        return params

    def bind_parameters(self, values: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        """Adopt views into the model's flat buffers as ``weights``/``bias`` and grads."""
        self.weights, self.grad_weights = values["weights"], grads["weights"]
        if self.bias is not None:
            self.bias, self.grad_bias = values["bias"], grads["bias"]

    def get_config(self) -> dict[str, Any]:
        """Sizes, bias, dtype, l2 and name (the weights travel separately)."""
        return {
            "in_features": self.in_features,
            "out_features": self.out_features,
            "bias": self.bias is not None,
            "dtype": self.dtype.name,
            "l2": self.l2,
            "name": self.name,
        }

    def penalty(self) -> float:
        """``l2 * sum(W^2)`` (one dot product, no copy)."""
        if not self.l2:
            return 0.0
        return self.l2 * float(np.vdot(self.weights, self.weights))

    def output_features(self, in_features: int | None) -> int | None:
        """``out_features``; raises if ``in_features`` is known and differs."""
        if in_features is not None and in_features != self.in_features:
            raise ValueError(
                f"{self.name}: expects {self.in_features} input features, "
                f"but the previous layer gives {in_features}"
            )
        return self.out_features

    def astype(self, dtype: object) -> Dense:
        """Convert weights, bias and their gradients to ``dtype`` in place."""
        self.dtype = float_dtype(dtype)
        self.weights = self.weights.astype(self.dtype)
        self.grad_weights = self.grad_weights.astype(self.dtype)
        if self.bias is not None and self.grad_bias is not None:
            self.bias = self.bias.astype(self.dtype)
            self.grad_bias = self.grad_bias.astype(self.dtype)
        self._x = None
        return self

    def __repr__(self) -> str:
        l2 = f", l2={self.l2}" if self.l2 else ""
        return (
            f"Dense({self.in_features}, {self.out_features}, bias={self.bias is not None}, "
            f"dtype={self.dtype.name}{l2}, name={self.name!r})"
        )


class Dropout(Layer):
    """Inverted dropout: in training, zero each input with probability ``rate`` and scale
    the survivors by ``1 / (1 - rate)``, so that the expected output equals the input.

    ``training=True``::

        mask = (u >= rate) / (1 - rate),  u ~ U[0, 1) per element
        y = x * mask
        dL/dx = dL/dy * mask

    ``training=False`` (inference): ``y = x``. Because of the scaling nothing changes
    between training and inference, unlike the original (non-inverted) dropout.

    Randomness: with an int ``seed`` the masks come from ``default_rng(seed)`` and, in
    ``fit``, from ``default_rng([seed, epoch])`` at each epoch (so a resumed run repeats
    them); with no seed, ``fit`` supplies a generator derived from its own seed and the
    epoch; a ``Generator`` passed as ``seed`` is used as it is (not saved in model files).

    Set ``freeze_mask = True`` to reuse the last mask on later forward passes of the same
    shape: a gradient check needs the function fixed while it perturbs the input.
    """

    def __init__(
        self,
        rate: float,
        seed: int | np.random.Generator | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(name)
        self.rate = check_fraction(rate, f"{self.name}: rate")
        self._rng = check_rng(seed)
        self.seed = None if isinstance(seed, np.random.Generator) else seed
        self._own_generator = isinstance(seed, np.random.Generator)
        if self.seed is not None and self.seed < 0:
            raise ValueError(f"{self.name}: seed must be >= 0, got {seed!r}")
        self.freeze_mask = False
        self._mask: np.ndarray | None = None
        self._used_mask = False
        self._shape: tuple[int, ...] | None = None  # of the last input; None before forward

    def get_config(self) -> dict[str, Any]:
        """Rate, seed (an int or None) and name."""
        seed = None if self.seed is None else int(self.seed)
        return {"rate": self.rate, "seed": seed, "name": self.name}

    def start_epoch(self, epoch: int, rng: np.random.Generator) -> None:
        """Masks for this epoch: from ``[seed, epoch]``, from ``rng``, or the own Generator."""
        if self.seed is not None:
            self._rng = np.random.default_rng([int(self.seed), epoch])
        elif not self._own_generator:
            self._rng = rng

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """``x * mask`` in training, ``x`` otherwise."""
        x = np.asarray(x)
        if x.dtype.kind != "f":
            x = x.astype(np.float32)
        self._shape = x.shape
        self._used_mask = training and self.rate > 0
        if not self._used_mask:
            return x
        mask = self._mask
        fresh = mask is None or mask.shape != x.shape or mask.dtype != x.dtype
        if fresh or not self.freeze_mask:
            if fresh:
                mask = self._mask = np.empty(x.shape, dtype=x.dtype)
            self._rng.random(out=mask, dtype=mask.dtype)  # u ~ U[0, 1), into the buffer
            np.greater_equal(mask, self.rate, out=mask)  # 1 where kept, 0 where dropped
            mask *= x.dtype.type(1.0 / (1.0 - self.rate))
        y = x.copy()  # copy, then multiply in place: faster than x * mask (bench/inplace.py)
        y *= mask
        return y

    def backward(self, grad: np.ndarray) -> np.ndarray:
        """``dL/dx = dL/dy * mask`` (or ``dL/dy`` when no mask was applied)."""
        if self._shape is None:
            raise RuntimeError(f"{self.name}: backward called before forward")
        grad = self._check_grad(grad, self._shape)
        if not self._used_mask:
            return grad
        mask = self._cached(self._mask)
        g = grad.astype(mask.dtype)  # a copy (astype copies by default), then in place
        g *= mask
        return g

    def __repr__(self) -> str:
        return f"Dropout(rate={self.rate}, name={self.name!r})"
