"""Small data sets from the seeds, built in code: ``(X, y)`` with float32 features.

Labels are integers (int64), shaped ``(n,)``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["and_gate", "fruit", "or_gate", "xor"]

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
