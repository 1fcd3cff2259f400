"""Optimizers: one update rule each, applied in place to ``Parameter`` values.

``optimizer.step(model.parameters())`` reads each parameter's gradient (left there by
``backward``) and updates its value in place, so every reference to ``layer.weights``
stays valid.
"""

from __future__ import annotations

from collections.abc import Iterable

from .layers import Parameter
from .validation import check_positive

__all__ = ["SGD", "Optimizer", "get"]


class Optimizer:
    """Base class: ``step(parameters)`` applies one update to every parameter."""

    def __init__(self, lr: float) -> None:
        self.lr = check_positive(lr, f"{type(self).__name__}: learning rate")

    def step(self, parameters: Iterable[Parameter]) -> None:
        """Update each ``value`` in place from its ``grad``."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(lr={self.lr})"


class SGD(Optimizer):
    """Plain gradient descent: ``w <- w - lr * dL/dw`` (seed 003's update rule).

    ``lr`` (eta in the seeds) is the step size, > 0.
    """

    def __init__(self, lr: float = 0.01) -> None:
        super().__init__(lr)

    def step(self, parameters: Iterable[Parameter]) -> None:
        """``w -= lr * grad`` for every parameter, in place."""
        for _, value, grad in parameters:
            value -= self.lr * grad


_REGISTRY: dict[str, type[Optimizer]] = {"sgd": SGD}


def get(identifier: str | Optimizer) -> Optimizer:
    """Return a new optimizer (default hyperparameters) for a name, or the instance itself.

    Raises ValueError naming the bad value and listing the valid names.
    """
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str) and identifier.lower() in _REGISTRY:
        return _REGISTRY[identifier.lower()]()
    raise ValueError(
        f"unknown optimizer {identifier!r}; valid names: {', '.join(sorted(_REGISTRY))}"
    )
