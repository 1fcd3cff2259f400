"""A single neuron: seed 002's Perceptron class, and Rosenblatt's learning rule (seed 000).

The API is the seed's, attribute for attribute::

    p = Perceptron(2, activation="sigmoid")
    p.weights, p.bias            # a vector (input_size,) and a scalar
    y = p.forward(x)             # z = x . w + b, then the activation
    d_x = p.backward(d_y, lr)    # gradients, then w -= lr dL/dw and b -= lr dL/db

Forward, for one sample ``x: (input_size,)`` (or a batch ``(n, input_size)``)::

    z = sum_i x_i w_i + b = x . w + b
    output = f(z)

Backward, given ``d_output = dL/doutput``::

    delta  = d_output * f'(z)      (just d_output without activation)
    dL/dw  = delta * x             (batch: x.T @ delta, summed over samples)
    dL/db  = delta                 (batch: sum of delta)
    dL/dx  = delta * w             (returned, for a layer before this one)

then the update ``w <- w - lr dL/dw``, ``b <- b - lr dL/db``.

The seed's activation objects have ``backward(output) -> f'``; here the activation is a
lucidnet layer whose ``backward(d_output)`` already returns ``d_output * f'(z)``. The
numbers are the same.
"""

from __future__ import annotations

import numpy as np

from . import activations
from .activations import Activation, Softmax, Step
from .initializers import small_normal
from .validation import check_finite, check_positive, check_rng, float_dtype

__all__ = ["Perceptron"]


class Perceptron:
    """One neuron with ``input_size`` weights, a bias and an optional activation.

    Parameters
    ----------
    input_size : int
        Number of inputs (and of weights).
    activation : str, Activation or None
        Applied to ``z``; None (the seed's default) means the output is ``z`` itself.
        ``"step"`` makes it Rosenblatt's perceptron, trainable with ``fit``.
    dtype : float32 (default) or float64
    seed : int, Generator or None
        Source of the initial weights ``randn(input_size) * 0.1`` (the seed's); the bias
        starts at 0.

    Attributes
    ----------
    weights : ndarray (input_size,)
    bias : float scalar of ``dtype``
    input, z, output : the last forward pass
    delta, d_weights, d_bias : the last backward pass
    """

    def __init__(
        self,
        input_size: int,
        activation: str | Activation | None = None,
        dtype: object = np.float32,
        seed: int | np.random.Generator | None = None,
    ) -> None:
        if isinstance(input_size, bool) or not isinstance(input_size, (int, np.integer)):
            raise ValueError(f"Perceptron: input_size must be an int >= 1, got {input_size!r}")
        if input_size < 1:
            raise ValueError(f"Perceptron: input_size must be an int >= 1, got {input_size!r}")
        self.input_size = int(input_size)
        self.dtype = float_dtype(dtype)
        self.weights = small_normal((self.input_size,), check_rng(seed), self.dtype)
        self.bias = self.dtype.type(0.0)
        self.activation = None if activation is None else activations.get(activation)
        if isinstance(self.activation, Softmax):
            raise ValueError("Perceptron: softmax needs several outputs; a neuron has one")
        self.input: np.ndarray | None = None
        self.z: np.ndarray | None = None
        self.output: np.ndarray | None = None

    def _check_input(self, x: np.ndarray, where: str) -> np.ndarray:
        x = np.asarray(x)
        if x.ndim not in (1, 2) or x.shape[-1] != self.input_size:
            raise ValueError(
                f"Perceptron.{where}: expected input of shape ({self.input_size},) or "
                f"(batch, {self.input_size}), got {x.shape}"
            )
        return x.astype(self.dtype, copy=False)

    def forward(self, input: np.ndarray) -> np.ndarray:
        """``output = f(x . w + b)``; a scalar for one sample, ``(batch,)`` for a batch."""
        x = self._check_input(input, "forward")
        self.input = x
        self.z = x @ self.weights + self.bias
        self.output = self.z if self.activation is None else self.activation.forward(self.z)
        return self.output

    def backward(self, d_output: np.ndarray | float, learning_rate: float) -> np.ndarray:
        """Gradients from ``d_output = dL/doutput``, one update step, and ``dL/dx``.

        Returns ``d_input = delta * w`` with the shape of the last input.
        """
        if self.input is None or self.z is None:
            raise RuntimeError("Perceptron: backward called before forward")
        lr = check_positive(learning_rate, "Perceptron.backward: learning_rate")
        d_out = np.asarray(d_output, dtype=self.dtype)
        if d_out.shape != np.shape(self.z):
            raise ValueError(
                f"Perceptron.backward: d_output must have the output's shape "
                f"{np.shape(self.z)}, got {d_out.shape}"
            )
        delta = d_out if self.activation is None else self.activation.backward(d_out)
        x = self.input
        if x.ndim == 1:
            d_input = delta * self.weights
            d_weights = delta * x
            d_bias = delta
        else:  # a batch: every sample pushes on the same weights, so the pushes add up
            d_input = np.outer(delta, self.weights)
            d_weights = x.T @ delta
            d_bias = np.sum(delta)
        self.delta, self.d_weights, self.d_bias = delta, d_weights, self.dtype.type(d_bias)
        self.weights -= self.dtype.type(lr) * d_weights
        self.bias = self.dtype.type(self.bias - lr * self.d_bias)
        return d_input

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Forward pass for a batch without touching the cached state."""
        x = self._check_input(X, "predict")
        z = x @ self.weights + self.bias
        return z if self.activation is None else self.activation.function(z)

    def fit(
        self, X: np.ndarray, y: np.ndarray, epochs: int = 100, learning_rate: float = 1.0
    ) -> Perceptron:
        """Rosenblatt's perceptron rule (seed 000), for a Step activation and 0/1 labels.

        For each sample in order, predict ``y_hat = step(x . w + b)`` and move the
        boundary only when it is wrong::

            w <- w + lr * (y - y_hat) * x
            b <- b + lr * (y - y_hat)

        An epoch without a mistake ends training. The perceptron convergence theorem
        guarantees that this happens after finitely many mistakes when a straight line
        separates the classes (AND, OR); when none does (XOR), it never happens.

        The rule is defined one sample at a time (each update changes the prediction for
        the next sample), so this loop is over samples by design; gradient-based training
        (``lucidnet.training``) is vectorized.

        Sets ``converged_`` (bool), ``n_epochs_`` and ``errors_`` (mistakes per epoch)
        and returns ``self``.
        """
        if not isinstance(self.activation, Step):
            raise ValueError(
                "Perceptron.fit uses Rosenblatt's rule, which needs activation='step'; "
                f"got {self.activation!r}. Train other activations with backward()."
            )
        x = self._check_input(X, "fit")
        if x.ndim != 2:
            raise ValueError(f"Perceptron.fit: X must be 2-D (samples, features), got {x.shape}")
        labels = np.asarray(y)
        if labels.shape != (x.shape[0],):
            raise ValueError(
                f"Perceptron.fit: y must have shape ({x.shape[0]},) to match X, got {labels.shape}"
            )
        if not np.isin(labels, (0, 1)).all():
            raise ValueError("Perceptron.fit: labels must be 0 or 1")
        if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 1:
            raise ValueError(f"Perceptron.fit: epochs must be an int >= 1, got {epochs!r}")
        lr = self.dtype.type(check_positive(learning_rate, "Perceptron.fit: learning_rate"))
        check_finite(x, "Perceptron.fit: X")
        targets = labels.astype(self.dtype)
        self.errors_: list[int] = []
        self.converged_ = False
        for _ in range(int(epochs)):
            mistakes = 0
            for xi, target in zip(x, targets, strict=True):
                mistakes += self.rule(xi, target, lr) != 0
            self.errors_.append(int(mistakes))
            if mistakes == 0:
                self.converged_ = True
                break
        self.n_epochs_ = len(self.errors_)
        return self

    def rule(self, x: np.ndarray, target: np.floating, learning_rate: np.floating) -> np.floating:
        """Rosenblatt's rule for one sample ``x (input_size,)`` with label ``target`` (0 or
        1): predict ``y_hat = step(x . w + b)`` and, if it is wrong, move the boundary::

            w <- w + lr * (target - y_hat) * x
            b <- b + lr * (target - y_hat)

        ``target`` and ``learning_rate`` are scalars of the perceptron's dtype (``fit``
        converts them once, not per sample). Returns ``lr * (target - y_hat)``, the step
        taken (0 when the prediction was right). ``fit`` applies the rule to every sample
        in turn; the playground one sample at a time.
        """
        predicted = x @ self.weights + self.bias > 0
        step = learning_rate * (target - predicted)
        if step:
            self.weights += step * x
            self.bias = self.dtype.type(self.bias + step)
        return step

    def __repr__(self) -> str:
        act = None if self.activation is None else type(self.activation).__name__
        return f"Perceptron(input_size={self.input_size}, activation={act!r})"
