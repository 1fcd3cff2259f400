"""Penalties: L1 and L2 on the parameters that ask for them, applied once per step.

A parameter with factors ``l1`` and ``l2`` adds to the loss and to its gradient::

    penalty   = l1 * sum|w| + l2 * sum(w^2)
    dpenalty  = l1 * sign(w) + 2 * l2 * w

(Keras' ``kernel_regularizer`` convention: no 1/2 in front of the L2 term; TensorFlow
Playground offers both). The training step adds them after the gradient hook, so that a
sum of gradients across processes (data-parallel training) counts them once, not once per
process; ``Layer.backward`` never sees them.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from ..parameters import Parameter, penalty

__all__ = ["PenaltyGradients", "penalty"]


class PenaltyGradients:
    """Adds ``l1 sign(w) + 2 l2 w`` to each penalized parameter's gradient, through one
    scratch buffer per parameter instead of a new array per step."""

    def __init__(self) -> None:
        self._scratch: dict[int, np.ndarray] = {}

    def add(self, params: Iterable[Parameter]) -> float:
        """Add the penalty gradients in place and return the penalty's value (both at the
        current weights); parameters without penalties are skipped."""
        total = 0.0
        for p in params:
            if not p.penalized:
                continue
            total += penalty((p,))
            tmp = self._scratch.get(id(p))
            if tmp is None or tmp.shape != p.value.shape or tmp.dtype != p.value.dtype:
                tmp = self._scratch[id(p)] = np.empty_like(p.value)
            t = p.value.dtype.type
            if p.l2:
                np.multiply(p.value, t(2 * p.l2), out=tmp)
                p.grad += tmp
            if p.l1:
                np.sign(p.value, out=tmp)
                tmp *= t(p.l1)
                p.grad += tmp
        return total
