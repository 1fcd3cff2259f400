"""Inverted dropout."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..validation import check_fraction, check_rng
from .base import Layer

__all__ = ["Dropout"]


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
    epoch; a ``Generator`` passed as ``seed`` is used as it is (not saved in model files),
    except in data-parallel training, where each epoch takes one draw of it and mixes in
    the rank (``start_epoch``'s ``stream``).

    Set ``freeze_mask = True`` to reuse the last mask on later forward passes of the same
    shape: a gradient check needs the function fixed while it perturbs the input.
    """

    keeps_shape = True

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
        self._generator = seed if self._own_generator else None  # the Generator given
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

    def start_epoch(
        self, epoch: int, rng: np.random.Generator, stream: tuple[int, ...] = ()
    ) -> None:
        """Masks for this epoch: from ``[seed, epoch, *stream]``, from ``rng``, or the own
        Generator (with a ``stream``, one draw of it, alike in every process, then
        ``[draw, *stream]``: each process its own masks)."""
        if self.seed is not None:
            self._rng = np.random.default_rng([int(self.seed), epoch, *stream])
        elif not self._own_generator:
            self._rng = rng
        elif stream:  # (getattr: a layer pickled before _generator existed)
            generator = getattr(self, "_generator", None) or self._rng
            draw = int(generator.integers(2**63))
            self._rng = np.random.default_rng([draw, *stream])

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

    def backward(self, grad: np.ndarray, need_input_grad: bool = True) -> np.ndarray:
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
