"""What Dense and Conv2D share: a ``weights`` parameter with its penalties, a bias."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import initializers
from ..parameters import Parameter, parameter_property
from ..validation import check_non_negative, check_rng, float_dtype
from .base import Layer, Shape

__all__ = ["WeightedLayer"]


class WeightedLayer(Layer):
    """A layer whose trained arrays are ``weights`` (which carries the L1/L2 penalties)
    and, optionally, ``bias``. A subclass creates both with ``add_parameter`` and lists
    its own sizes in ``get_config`` through ``_weighted_config``."""

    weights = parameter_property("weights")
    bias = parameter_property("bias")
    grad_weights = parameter_property("weights", grad=True)
    grad_bias = parameter_property("bias", grad=True)

    def _create_weights(
        self,
        shape: Shape,
        init: str | initializers.Initializer,
        dtype: object,
        seed: int | np.random.Generator | None,
        l1: float,
        l2: float,
        bias: bool,
    ) -> None:
        """Create ``weights`` of ``shape`` from the initializer ``init`` (its penalties
        ``l1``, ``l2``) and, if ``bias``, a zero ``bias`` of the last axis' size. The
        Parameter objects are kept as ``_w`` and ``_b`` for the hot path: each stays the
        same object for the layer's life, and its arrays are read through it on every
        call."""
        dt = float_dtype(dtype)
        self.init = init
        weights = np.asarray(initializers.get(init)(shape, check_rng(seed), dt), dt)
        if weights.shape != shape:
            raise ValueError(
                f"{self.name}: initializer {init!r} returned shape {weights.shape}, "
                f"expected {shape}"
            )
        self._w: Parameter = self.add_parameter(
            "weights",
            weights,
            l1=check_non_negative(l1, f"{self.name}: l1"),
            l2=check_non_negative(l2, f"{self.name}: l2"),
        )
        self._b: Parameter | None = (
            self.add_parameter("bias", np.zeros(shape[-1], dtype=dt)) if bias else None
        )

    @property
    def l2(self) -> float:
        """The L2 factor on the weights (a setting of the weights parameter)."""
        return self.parameter("weights").l2

    @l2.setter
    def l2(self, value: float) -> None:
        self.parameter("weights").l2 = check_non_negative(value, f"{self.name}: l2")

    @property
    def l1(self) -> float:
        """The L1 factor on the weights (a setting of the weights parameter)."""
        return self.parameter("weights").l1

    @l1.setter
    def l1(self, value: float) -> None:
        self.parameter("weights").l1 = check_non_negative(value, f"{self.name}: l1")

    def _weighted_config(self, sizes: dict[str, Any]) -> dict[str, Any]:
        """``sizes`` with the bias flag, dtype, penalties and name (the arrays travel
        separately; ``l1`` only when set)."""
        config: dict[str, Any] = {
            **sizes,
            "bias": "bias" in self._parameters,
            "dtype": self.parameter("weights").value.dtype.name,
            "l2": self.l2,
            "name": self.name,
        }
        if self.l1:
            config["l1"] = self.l1
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Layer:
        """The layer with zero weights: a model file fills them in next."""
        return cls(**{**config, "init": "zeros"})
