"""The playground's settings: what the page's controls set, checked before anything runs.

The page sends every setting as JSON; ``Settings.from_dict`` takes a partial dict (the
rest keep their defaults), refuses an unknown key or a value out of its range with a
message naming the setting, and makes the dependent settings agree (one activation per
hidden layer). The same names make up the page's URL (``#dataset=xor&layers=4,2&...``),
so that a setup can be shared.

Changing a *live* setting (the learning rate, the regularization rate, the batch size, the
stop conditions) keeps the network and its training; changing any other one starts over,
as in TensorFlow Playground.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from .data import CLASSIFICATION, FEATURES, MAX_CLASSES, REGRESSION

__all__ = ["ACTIVATIONS", "LIVE", "OPTIMIZERS", "Settings"]

ACTIVATIONS = ("tanh", "relu", "sigmoid", "linear", "leaky_relu")
OPTIMIZERS = ("sgd", "momentum", "rmsprop", "adam")
MAX_LAYERS = 6
MAX_UNITS = 8
LIVE = frozenset(
    {"learning_rate", "reg_rate", "batch_size", "stop_epochs", "stop_loss", "epochs_per_frame"}
)

# numeric settings: (smallest, largest)
_RANGES: dict[str, tuple[float, float]] = {
    "classes": (2, MAX_CLASSES),
    "samples": (20, 2000),
    "noise": (0.0, 0.5),
    "train_ratio": (0.1, 0.9),
    "batch_size": (1, 2000),
    "learning_rate": (1e-6, 10.0),
    "reg_rate": (0.0, 10.0),
    "dropout": (0.0, 0.9),
    "seed": (0, 2**31 - 1),
    "stop_epochs": (0, 10**7),
    "stop_loss": (0.0, 1e6),
    "heatmap": (10, 100),
    "epochs_per_frame": (1, 100),
}
_CHOICES: dict[str, tuple[str, ...]] = {
    "mode": ("network", "perceptron"),
    "problem": ("classification", "regression"),
    "dataset": (*CLASSIFICATION, *REGRESSION, "upload"),
    "optimizer": OPTIMIZERS,
    "regularization": ("none", "l1", "l2"),
}


@dataclass
class Settings:
    """Every setting of the page, with TensorFlow Playground's defaults where it has one."""

    mode: str = "network"  # or "perceptron": Rosenblatt's rule (seed 000)
    problem: str = "classification"
    dataset: str = "circle"
    classes: int = 2  # for gauss and spiral
    samples: int = 500
    noise: float = 0.0
    train_ratio: float = 0.5
    batch_size: int = 10
    features: list[str] = field(default_factory=lambda: ["x1", "x2"])
    layers: list[int] = field(default_factory=lambda: [4, 2])
    activations: list[str] = field(default_factory=lambda: ["tanh", "tanh"])
    learning_rate: float = 0.03
    optimizer: str = "sgd"
    regularization: str = "none"
    reg_rate: float = 0.0
    dropout: float = 0.0
    seed: int = 1
    stop_epochs: int = 0  # 0: no limit
    stop_loss: float = 0.0  # 0: none; else stop when the test loss is at most this
    heatmap: int = 50  # cells per side of every heatmap
    epochs_per_frame: int = 1

    @classmethod
    def from_dict(cls, given: dict[str, Any], base: Settings | None = None) -> Settings:
        """``base`` (default: the defaults) updated with ``given``, checked."""
        if not isinstance(given, dict):
            raise ValueError(f"settings must be a JSON object, got {type(given).__name__}")
        values = asdict(base if base is not None else cls())
        known = {f.name for f in fields(cls)}
        for key, value in given.items():
            if key not in known:
                raise ValueError(f"unknown setting {key!r}; valid: {', '.join(sorted(known))}")
            values[key] = _check(key, value)
        settings = cls(**values)
        if base is not None and base.dataset == "upload" and "dataset" not in given:
            if given.get("problem", base.problem) != base.problem:  # away from the file
                settings.dataset = "circle" if settings.problem == "classification" else "plane"
        settings._agree(given)
        return settings

    def _agree(self, given: dict[str, Any]) -> None:
        """Make the settings consistent, or say which two disagree."""
        kind = "classification" if self.dataset in CLASSIFICATION else "regression"
        if self.dataset != "upload" and kind != self.problem:
            if "dataset" in given and "problem" in given:
                raise ValueError(f"dataset {self.dataset!r} is for {kind}, not {self.problem}")
            if "dataset" in given:  # a data set chosen: its problem follows
                self.problem = kind
            else:  # the problem changed: its first data set
                self.dataset = "circle" if self.problem == "classification" else "plane"
        if self.dataset in ("circle", "xor"):
            self.classes = 2
        n = len(self.layers)
        if len(self.activations) != n:  # layers added or removed: the last one's, repeated
            fill = self.activations[-1] if self.activations else "tanh"
            self.activations = (self.activations + [fill] * n)[:n]
        if self.mode == "perceptron":
            if self.problem != "classification" or self.classes != 2:
                raise ValueError(
                    "perceptron mode (Rosenblatt's rule) separates two classes: choose a "
                    "classification data set with 2 classes"
                )
            self.features = ["x1", "x2"]  # the line drawn is w1 x1 + w2 x2 + b = 0

    def restarts(self, other: Settings) -> bool:
        """Whether going from ``other`` to these settings starts the training over."""
        a, b = asdict(self), asdict(other)
        return any(a[k] != b[k] for k in a if k not in LIVE)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _number(key: str, value: Any, whole: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"setting {key!r} must be a number, got {value!r}")
    if isinstance(value, int) and abs(value) > 2**53:  # math.isfinite would overflow
        raise ValueError(f"setting {key!r} is too large, got {value!r}")
    if not math.isfinite(value) or (whole and value != int(value)):
        kind = "a whole number" if whole else "a finite number"
        raise ValueError(f"setting {key!r} must be {kind}, got {value!r}")
    lo, hi = _RANGES[key]
    if not lo <= value <= hi:
        raise ValueError(f"setting {key!r} must be between {lo:g} and {hi:g}, got {value!r}")
    return int(value) if whole else float(value)


def _check(key: str, value: Any) -> Any:
    default = getattr(Settings(), key)
    if key in _CHOICES:
        if value not in _CHOICES[key]:
            raise ValueError(
                f"setting {key!r} must be one of {', '.join(_CHOICES[key])}, got {value!r}"
            )
        return value
    if key in _RANGES:
        return _number(key, value, whole=isinstance(default, int))
    if not isinstance(value, list):
        raise ValueError(f"setting {key!r} must be a list, got {value!r}")
    if key == "features":
        bad = [f for f in value if not isinstance(f, str) or f not in FEATURES]
        if bad or not value or len(set(value)) != len(value):
            raise ValueError(
                f"setting 'features' must be distinct names from {', '.join(FEATURES)} "
                f"(at least one), got {value!r}"
            )
        return [f for f in FEATURES if f in value]  # the page's order
    if key == "layers":
        if len(value) > MAX_LAYERS or not all(
            not isinstance(u, bool) and isinstance(u, int) and 1 <= u <= MAX_UNITS for u in value
        ):
            raise ValueError(
                f"setting 'layers' must list 0 to {MAX_LAYERS} hidden layers of 1 to "
                f"{MAX_UNITS} neurons, got {value!r}"
            )
        return list(value)
    bad = [a for a in value if not isinstance(a, str) or a not in ACTIVATIONS]  # activations
    if bad:
        raise ValueError(
            f"setting 'activations': {bad[0]!r} is not one of {', '.join(ACTIVATIONS)}"
        )
    return list(value)
