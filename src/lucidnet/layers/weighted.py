"""What Dense and Conv2D share: a ``weights`` parameter with its penalties, a bias."""

from __future__ import annotations

from typing import Any

from ..parameters import parameter_property
from ..validation import check_non_negative
from .base import Layer

__all__ = ["WeightedLayer"]


class WeightedLayer(Layer):
    """A layer whose trained arrays are ``weights`` (which carries the L1/L2 penalties)
    and, optionally, ``bias``. A subclass creates both with ``add_parameter`` and lists
    its own sizes in ``get_config`` through ``_weighted_config``."""

    weights = parameter_property("weights")
    bias = parameter_property("bias")
    grad_weights = parameter_property("weights", grad=True)
    grad_bias = parameter_property("bias", grad=True)

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
