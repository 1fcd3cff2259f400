"""Activation functions as layers, each with its forward formula and its derivative.

An elementwise activation ``y = f(z)`` has the backward pass ``dL/dz = dL/dy * f'(z)``
(the chain rule, one element at a time). Each class below writes ``f`` and ``f'`` as two
small pure static methods, ``function`` and ``derivative``; the base class does the caching
and the multiplication. ``derivative(z, y)`` receives both the input and the output, so
sigmoid, tanh and exp can use the cheaper output form (``y (1 - y)``, ``1 - y^2``, ``y``).

Softmax is not elementwise: each output depends on every input of its row, so its backward
is a Jacobian-vector product (see ``Softmax``).

The dtype of the input is kept: float32 in, float32 out.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import functional as F
from .formula import Formula
from .layers import REGISTRY as LAYERS
from .layers import Layer
from .registry import Registry

__all__ = [
    "REGISTRY",
    "Activation",
    "Exp",
    "Identity",
    "LeakyReLU",
    "ReLU",
    "Sigmoid",
    "Softmax",
    "Step",
    "Tanh",
    "get",
    "names",
]


class Activation(Layer):
    """Base of the elementwise activations: ``y = function(z)``, ``dz = dy * derivative``.

    Each subclass states its formulas as class attributes, ``formula`` (of ``f(z)``) and
    ``derivative_formula`` (of ``f'(z)``), in text and TeX; ``explain`` renders them.
    """

    formula = Formula("f(z)", "f(z)")
    derivative_formula = Formula("f'(z)", "f'(z)")
    gives_probabilities = False  # whether the outputs are probabilities (sigmoid, softmax)
    keeps_shape = True

    def __init__(self, name: str | None = None) -> None:
        super().__init__(name)
        self._z: np.ndarray | None = None
        self._y: np.ndarray | None = None

    @staticmethod
    def function(z: np.ndarray) -> np.ndarray:
        """``f(z)``, elementwise."""
        raise NotImplementedError

    @staticmethod
    def derivative(z: np.ndarray, y: np.ndarray) -> np.ndarray:
        """``f'(z)`` elementwise, given ``z`` and ``y = f(z)``, as a new array.

        ``backward`` multiplies the result by the incoming gradient in place, so it must
        not be ``z``, ``y`` or a view of them.
        """
        raise NotImplementedError

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """``y = f(x)``; keeps ``x`` and ``y`` for backward."""
        z = np.asarray(x)
        if z.dtype.kind != "f":  # (a dtype.kind test: np.issubdtype costs microseconds)
            z = z.astype(np.float32)
        self._z = z
        self._y = self.function(z)
        return self._y

    def backward(self, grad: np.ndarray, need_input_grad: bool = True) -> np.ndarray:
        """``dL/dz = dL/dy * f'(z)``."""
        z = self._cached(self._z)
        grad = self._check_grad(grad, z.shape).astype(z.dtype, copy=False)
        d = self.derivative(z, self._cached(self._y))
        # In place: a NumPy binary operation that writes into one of its inputs ran up to
        # 2.7x faster here than one writing a new array (bench/inplace.py).
        d *= grad  # dL/dz = f'(z) * dL/dy
        return d

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Step(Activation):
    """Heaviside step: ``f(z) = 1 if z > 0 else 0`` (seed 000's perceptron output).

    ``f'(z) = 0`` wherever it exists (everywhere but ``z = 0``, where it is undefined).
    Backward therefore returns zeros: no gradient reaches the weights, and gradient descent
    cannot train through a step. Small changes of a weight do not change the output at
    all, so the loss surface is flat in every direction except at the jumps. That is why
    Rosenblatt's perceptron learns with its own rule, ``w += lr * (y - y_hat) * x``
    (``Perceptron.fit``), and why multi-layer networks use smooth activations.
    """

    formula = Formula("1 if z > 0 else 0", r"1 \text{ if } z > 0 \text{ else } 0")
    derivative_formula = Formula("0", "0")

    @staticmethod
    def function(z: np.ndarray) -> np.ndarray:
        """``1`` where ``z > 0``, else ``0``."""
        return (z > 0).astype(z.dtype)

    @staticmethod
    def derivative(z: np.ndarray, y: np.ndarray) -> np.ndarray:
        """``0`` everywhere (undefined at ``z = 0``; taken as 0)."""
        return np.zeros_like(z)


class Identity(Activation):
    """``f(z) = z``, ``f'(z) = 1`` (also called linear)."""

    formula = Formula("z", "z")
    derivative_formula = Formula("1", "1")

    @staticmethod
    def function(z: np.ndarray) -> np.ndarray:
        """``z`` itself."""
        return z

    @staticmethod
    def derivative(z: np.ndarray, y: np.ndarray) -> np.ndarray:
        """``1``."""
        return np.ones_like(z)

    def backward(self, grad: np.ndarray, need_input_grad: bool = True) -> np.ndarray:
        """``dL/dz = dL/dy`` (no multiplication needed)."""
        z = self._cached(self._z)
        return self._check_grad(grad, z.shape).astype(z.dtype, copy=False)


class Sigmoid(Activation):
    """``f(z) = 1 / (1 + exp(-z))``, ``f'(z) = f(z) (1 - f(z))``.

    Computed by the two-branch ``functional.sigmoid``, finite for every input.
    """

    formula = Formula("1 / (1 + exp(-z))", r"\frac{1}{1 + e^{-z}}")
    gives_probabilities = True
    derivative_formula = Formula("s(z) (1 - s(z))", r"\sigma(z)\,(1 - \sigma(z))")

    @staticmethod
    def function(z: np.ndarray) -> np.ndarray:
        """Logistic sigmoid, in (0, 1) up to rounding."""
        return F.sigmoid(z)

    @staticmethod
    def derivative(z: np.ndarray, y: np.ndarray) -> np.ndarray:
        """``y (1 - y)``, at most 0.25 (at ``z = 0``)."""
        d = 1 - y
        d *= y
        return d


class Tanh(Activation):
    """``f(z) = tanh(z)``, ``f'(z) = 1 - tanh(z)^2``."""

    formula = Formula("tanh(z)", r"\tanh(z)")
    derivative_formula = Formula("1 - tanh(z)^2", r"1 - \tanh^2(z)")

    @staticmethod
    def function(z: np.ndarray) -> np.ndarray:
        """Hyperbolic tangent, in (-1, 1)."""
        return np.tanh(z)

    @staticmethod
    def derivative(z: np.ndarray, y: np.ndarray) -> np.ndarray:
        """``1 - y^2``."""
        return 1 - np.square(y)  # (np.square(y) ran faster than y * y: bench/inplace.py)


class Exp(Activation):
    """``f(z) = exp(z)``, ``f'(z) = exp(z)``: positive outputs, the means of a Poisson
    regression (its log-link: the Dense layer before it gives ``log p``).

    Backward is ``dL/dz = dL/da * a``, the output kept from forward. Nothing is clipped:
    ``exp`` of a large ``z`` is ``inf`` (above about 88.7 in float32, 709.8 in float64), as
    NumPy computes it, and training reports that as a diverged step (``TrainingDiverged``)
    rather than going on with a clipped value.

    Before ``Poisson()`` training skips this backward and uses the fused gradient
    ``exp(z) - y`` on ``z`` instead (see ``lucidnet.losses``).
    """

    formula = Formula("exp(z)", r"e^{z}")
    derivative_formula = Formula("exp(z)", r"e^{z}")

    @staticmethod
    def function(z: np.ndarray) -> np.ndarray:
        """``exp(z)``, in ``(0, inf]``."""
        return np.exp(z)

    @staticmethod
    def derivative(z: np.ndarray, y: np.ndarray) -> np.ndarray:
        """``y`` itself (a copy: backward multiplies into it)."""
        return y.copy()


class ReLU(Activation):
    """``f(z) = max(0, z)``, ``f'(z) = 1 if z > 0 else 0`` (0 taken at the kink, as in
    PyTorch and Keras)."""

    formula = Formula("max(0, z)", r"\max(0, z)")
    derivative_formula = Formula("1 if z > 0 else 0", r"1 \text{ if } z > 0 \text{ else } 0")

    @staticmethod
    def function(z: np.ndarray) -> np.ndarray:
        """``max(0, z)``."""
        return np.maximum(z, 0)

    @staticmethod
    def derivative(z: np.ndarray, y: np.ndarray) -> np.ndarray:
        """``1`` where ``z > 0``, else ``0``."""
        return (z > 0).astype(z.dtype)


class LeakyReLU(Activation):
    """``f(z) = z if z > 0 else alpha z``, ``f'(z) = 1 if z > 0 else alpha``.

    ``alpha`` (default 0.01, PyTorch's; Keras uses 0.3) keeps a small gradient for
    negative inputs so that a unit cannot die.
    """

    formula = Formula("z if z > 0 else alpha z", r"z \text{ if } z > 0 \text{ else } \alpha z")
    derivative_formula = Formula(
        "1 if z > 0 else alpha", r"1 \text{ if } z > 0 \text{ else } \alpha"
    )

    def __init__(self, alpha: float = 0.01, name: str | None = None) -> None:
        super().__init__(name)
        alpha = float(alpha)
        if not (np.isfinite(alpha) and alpha >= 0):
            raise ValueError(f"LeakyReLU: alpha must be a finite number >= 0, got {alpha!r}")
        self.alpha = alpha

    def function(self, z: np.ndarray) -> np.ndarray:  # type: ignore[override]
        """``z`` where ``z > 0``, else ``alpha z``."""
        return np.where(z > 0, z, z * z.dtype.type(self.alpha))

    def derivative(self, z: np.ndarray, y: np.ndarray) -> np.ndarray:  # type: ignore[override]
        """``1`` where ``z > 0``, else ``alpha``."""
        return np.where(z > 0, z.dtype.type(1), z.dtype.type(self.alpha))

    def get_config(self) -> dict[str, Any]:
        """``alpha`` and the name."""
        return {"alpha": self.alpha, "name": self.name}

    def __repr__(self) -> str:
        return f"LeakyReLU(alpha={self.alpha})"


class Softmax(Activation):
    """``y_i = exp(z_i) / sum_j exp(z_j)`` over the last axis (each row sums to 1).

    The Jacobian of one row is ``dy_i/dz_j = y_i (delta_ij - y_j)``, that is
    ``diag(y) - y y^T``. Backward multiplies it by the incoming gradient ``g`` without
    building the matrix, for the whole batch at once::

        dL/dz = y * (g - sum(g * y, axis=-1, keepdims=True))

    Before a cross-entropy loss, training skips this product and uses the fused gradient
    ``p - y`` on the logits instead (see ``lucidnet.losses``).
    """

    formula = Formula("exp(z_i) / sum_j exp(z_j)", r"\frac{e^{z_i}}{\sum_j e^{z_j}}")
    gives_probabilities = True
    derivative_formula = Formula(
        "diag(a) - a a^T (one Jacobian per sample)", r"\operatorname{diag}(a) - a a^T"
    )

    @staticmethod
    def function(z: np.ndarray) -> np.ndarray:
        """Stable softmax over the last axis."""
        return F.softmax(z, axis=-1)

    def backward(self, grad: np.ndarray, need_input_grad: bool = True) -> np.ndarray:
        """Batched Jacobian-vector product ``y * (g - <g, y>)``, row by row."""
        y = self._cached(self._y)
        g = self._check_grad(grad, y.shape).astype(y.dtype, copy=False)
        d = g * y
        d = np.subtract(g, np.add.reduce(d, axis=-1, keepdims=True), out=d)
        d *= y
        return d


REGISTRY: Registry[Activation] = Registry("activation", Activation, default=Identity)
REGISTRY.register(Step, "heaviside")
REGISTRY.register(Identity, "linear")
REGISTRY.register(Sigmoid, "logistic")
REGISTRY.register(Tanh)
REGISTRY.register(ReLU)
REGISTRY.register(LeakyReLU, name="leaky_relu")
REGISTRY.register(Exp)
REGISTRY.register(Softmax)
for _cls in REGISTRY.classes().values():
    LAYERS.register(_cls)  # activations are layers: the layer table lists them too


def get(identifier: str | Activation | None) -> Activation:
    """Return a new activation layer for a name, the instance itself, or Identity for None.

    Names are case-insensitive: ``"relu"``, ``"sigmoid"``, ``"tanh"``, ``"softmax"``,
    ``"leaky_relu"``, ``"exp"``, ``"step"``, ``"identity"`` (and the aliases ``"linear"``,
    ``"logistic"``, ``"heaviside"``). Anything else raises ValueError listing them.
    """
    return REGISTRY.get(identifier)


def names() -> list[str]:
    """The valid activation names."""
    return REGISTRY.names()
