"""Small data sets from the seeds, built in code: ``(X, y)`` with float32 features.

Labels are integers (int64), shaped ``(n,)``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["and_gate", "fruit", "or_gate", "spirals", "xor"]

_GATE_INPUTS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)


def _gate(outputs: list[int]) -> tuple[np.ndarray, np.ndarray]:
    return _GATE_INPUTS.copy(), np.array(outputs, dtype=np.int64)


def xor() -> tuple[np.ndarray, np.ndarray]:
    """The XOR truth table: 1 when exactly one input is 1. No straight line separates it."""
    return _gate([0, 1, 1, 0])


def and_gate() -> tuple[np.ndarray, np.ndarray]:
    """The AND truth table: 1 only for ``[1, 1]``. Linearly separable."""
    return _gate([0, 0, 0, 1])


def or_gate() -> tuple[np.ndarray, np.ndarray]:
    """The OR truth table: 1 unless both inputs are 0. Linearly separable."""
    return _gate([0, 1, 1, 1])


def fruit() -> tuple[np.ndarray, np.ndarray]:
    """Seed 003's fruit: features (color: 0 red, 1 orange; roundness: 0 to 1), label
    0 = apple, 1 = orange. The seed's one worked example is the very orange, very round
    fruit ``[1, 1]``, an orange."""
    return np.array([[1.0, 1.0]], dtype=np.float32), np.array([1], dtype=np.int64)


def spirals(
    n: int = 300, classes: int = 3, noise: float = 0.2, seed: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """``classes`` interleaved spiral arms in 2-D, ``n`` points in all (CS231n's classic).

    Arm ``k`` has radius ``r`` running from 0 to 1 and angle
    ``theta = 4 r + 2 pi k / classes`` plus Gaussian noise of scale ``noise``; the points
    are ``r (sin theta, cos theta)``. No straight line separates two arms: a network needs
    a hidden layer. Returns ``X: (n, 2)`` float32 and labels ``(n,)``, rows shuffled.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < classes:
        raise ValueError(f"spirals: n must be an int >= classes, got {n!r}")
    if isinstance(classes, bool) or not isinstance(classes, (int, np.integer)) or classes < 2:
        raise ValueError(f"spirals: classes must be an int >= 2, got {classes!r}")
    if not noise >= 0:
        raise ValueError(f"spirals: noise must be >= 0, got {noise!r}")
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % classes  # as equal as n allows
    r = np.empty(n)
    for k in range(classes):  # a loop over the arms, not the samples
        members = labels == k
        r[members] = np.linspace(0.0, 1.0, int(members.sum()))
    theta = 4.0 * r + 2.0 * np.pi * labels / classes + rng.normal(scale=noise, size=n)
    x = np.column_stack([r * np.sin(theta), r * np.cos(theta)]).astype(np.float32)
    order = rng.permutation(n)  # shuffled, so that any slice (a validation split) is fair
    return x[order], labels[order].astype(np.int64)
