"""Learning-rate schedules: ``schedule(epoch, lr) -> lr`` for ``LearningRateScheduler``.

Each depends only on the epoch (from 0) and its own ``initial_lr``, so the same epoch
always gets the same rate, whatever happened before.
"""

from __future__ import annotations

import math

from .validation import check_int, check_positive


def _check_factor(value: float, what: str) -> float:
    """``value`` as a float in (0, 1], or ValueError echoing it."""
    try:
        v = float(value)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{what} must be a number in (0, 1], got {value!r}") from err
    if not 0 < v <= 1:
        raise ValueError(f"{what} must be in (0, 1], got {value!r}")
    return v


__all__ = ["CosineDecay", "ExponentialDecay", "StepDecay"]


class StepDecay:
    """``initial_lr * factor ** (epoch // every)``: drop by ``factor`` every ``every`` epochs."""

    def __init__(self, initial_lr: float, factor: float = 0.5, every: int = 10) -> None:
        self.initial_lr = check_positive(initial_lr, "StepDecay: initial_lr")
        self.factor = _check_factor(factor, "StepDecay: factor")
        self.every = check_int(every, "StepDecay: every")

    def __call__(self, epoch: int, lr: float | None = None) -> float:
        """The rate for ``epoch``."""
        return self.initial_lr * self.factor ** (epoch // self.every)


class ExponentialDecay:
    """``initial_lr * rate ** epoch``: a smooth drop by ``rate`` per epoch."""

    def __init__(self, initial_lr: float, rate: float = 0.96) -> None:
        self.initial_lr = check_positive(initial_lr, "ExponentialDecay: initial_lr")
        self.rate = _check_factor(rate, "ExponentialDecay: rate")

    def __call__(self, epoch: int, lr: float | None = None) -> float:
        """The rate for ``epoch``."""
        return self.initial_lr * self.rate**epoch


class CosineDecay:
    """Half a cosine from ``initial_lr`` down to ``min_lr`` over ``epochs`` epochs::

        min_lr + (initial_lr - min_lr) * (1 + cos(pi * min(epoch, epochs) / epochs)) / 2

    then ``min_lr`` (which must be > 0 for the optimizer: default 1e-6 of the start).
    """

    def __init__(self, initial_lr: float, epochs: int, min_lr: float | None = None) -> None:
        self.initial_lr = check_positive(initial_lr, "CosineDecay: initial_lr")
        self.epochs = check_int(epochs, "CosineDecay: epochs")
        floor = self.initial_lr * 1e-6 if min_lr is None else min_lr
        self.min_lr = check_positive(floor, "CosineDecay: min_lr")
        if self.min_lr > self.initial_lr:
            raise ValueError(
                f"CosineDecay: min_lr must be <= initial_lr, got {self.min_lr} > {initial_lr}"
            )

    def __call__(self, epoch: int, lr: float | None = None) -> float:
        """The rate for ``epoch``."""
        progress = min(epoch, self.epochs) / self.epochs
        cosine = (1 + math.cos(math.pi * progress)) / 2
        return self.min_lr + (self.initial_lr - self.min_lr) * cosine
