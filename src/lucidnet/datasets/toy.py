"""Toy data sets built in code: ``(X, y)`` with float32 features and int64 labels ``(n,)``.

- The seeds' truth tables (``xor``, ``and_gate``, ``or_gate``) and ``fruit``.
- 2-D sets that no straight line separates, seeded and shuffled: ``spirals``, ``moons``,
  ``circles``.
"""

from __future__ import annotations

import math

import numpy as np

from ..validation import check_int

__all__ = ["and_gate", "circles", "fruit", "moons", "or_gate", "spirals", "xor"]

# ---------------------------------------------------------------------------------------
# The seeds' truth tables and fruit
# ---------------------------------------------------------------------------------------

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


# ---------------------------------------------------------------------------------------
# 2-D toy sets: spirals, moons, circles
# ---------------------------------------------------------------------------------------


def _check_noise(noise: object, where: str) -> float:
    try:
        v = float(noise)  # type: ignore[arg-type]
    except (TypeError, ValueError) as err:
        raise ValueError(f"{where}: noise must be a number >= 0, got {noise!r}") from err
    if not (v >= 0 and math.isfinite(v)):
        raise ValueError(f"{where}: noise must be >= 0, got {noise!r}")
    return v


def _shuffled(
    rng: np.random.Generator, points: np.ndarray, labels: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    order = rng.permutation(len(labels))  # shuffled, so that any slice (a split) is fair
    return points[order].astype(np.float32), labels[order].astype(np.int64)


def spirals(
    n: int = 300, classes: int = 3, noise: float = 0.2, seed: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """``classes`` interleaved spiral arms in 2-D, ``n`` points in all (CS231n's classic).

    Arm ``k`` has radius ``r`` running from 0 to 1 and angle
    ``theta = 4 r + 2 pi k / classes`` plus Gaussian noise of scale ``noise``; the points
    are ``r (sin theta, cos theta)``. No straight line separates two arms: a network needs
    a hidden layer. Returns ``X: (n, 2)`` float32 and labels ``(n,)``, rows shuffled.
    """
    if isinstance(classes, bool) or not isinstance(classes, (int, np.integer)) or classes < 2:
        raise ValueError(f"spirals: classes must be an int >= 2, got {classes!r}")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < classes:
        raise ValueError(f"spirals: n must be an int >= classes, got {n!r}")
    noise = _check_noise(noise, "spirals")
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


def moons(
    n: int = 200, noise: float = 0.1, seed: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles of radius 1 in 2-D, ``n`` points in all.

    Class 0 is the upper half circle ``(cos t, sin t)`` and class 1 the lower one shifted
    right and up, ``(1 - cos t, 1/2 - sin t)``, for ``t`` evenly spaced in ``[0, pi]``;
    each coordinate then gets Gaussian noise of scale ``noise``. Class 0 has
    ``n - n // 2`` points, class 1 ``n // 2``. No straight line separates the two.

    Parameters
    ----------
    n : int
        Number of points, >= 2.
    noise : float
        Standard deviation of the Gaussian noise added to each coordinate, >= 0.
    seed : int or None
        Seed of the NumPy ``Generator`` that draws the noise and shuffles the rows.

    Returns
    -------
    X : ndarray of shape (n, 2), float32
    y : ndarray of shape (n,), int64, labels 0 and 1, rows shuffled.
    """
    n = check_int(n, "moons: n", 2)
    noise = _check_noise(noise, "moons")
    rng = np.random.default_rng(seed)
    n_lower = n // 2
    t_upper = np.linspace(0.0, np.pi, n - n_lower)
    t_lower = np.linspace(0.0, np.pi, n_lower)
    points = np.concatenate(
        [
            np.column_stack([np.cos(t_upper), np.sin(t_upper)]),  # (n - n // 2, 2)
            np.column_stack([1.0 - np.cos(t_lower), 0.5 - np.sin(t_lower)]),  # (n // 2, 2)
        ]
    )
    points += rng.normal(scale=noise, size=points.shape)
    labels = np.repeat([0, 1], [n - n_lower, n_lower])
    return _shuffled(rng, points, labels)


def circles(
    n: int = 200, noise: float = 0.05, factor: float = 0.5, seed: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Two concentric circles in 2-D, ``n`` points in all.

    Class 0 lies on the outer circle ``(cos t, sin t)`` (radius 1) and class 1 on the inner
    circle ``factor (cos t, sin t)``, with ``t`` evenly spaced over ``[0, 2 pi)``; each
    coordinate then gets Gaussian noise of scale ``noise``. Class 0 has ``n - n // 2``
    points, class 1 ``n // 2``. No straight line separates the two.

    Parameters
    ----------
    n : int
        Number of points, >= 2.
    noise : float
        Standard deviation of the Gaussian noise added to each coordinate, >= 0.
    factor : float
        Radius of the inner circle, ``0 < factor < 1``.
    seed : int or None
        Seed of the NumPy ``Generator`` that draws the noise and shuffles the rows.

    Returns
    -------
    X : ndarray of shape (n, 2), float32
    y : ndarray of shape (n,), int64, labels 0 (outer) and 1 (inner), rows shuffled.
    """
    n = check_int(n, "circles: n", 2)
    noise = _check_noise(noise, "circles")
    try:
        f = float(factor)
    except (TypeError, ValueError) as err:
        raise ValueError(f"circles: factor must be a number in (0, 1), got {factor!r}") from err
    if not 0.0 < f < 1.0:
        raise ValueError(f"circles: factor must be in (0, 1), got {factor!r}")
    rng = np.random.default_rng(seed)
    n_inner = n // 2
    t_outer = np.linspace(0.0, 2.0 * np.pi, n - n_inner, endpoint=False)
    t_inner = np.linspace(0.0, 2.0 * np.pi, n_inner, endpoint=False)
    points = np.concatenate(
        [
            np.column_stack([np.cos(t_outer), np.sin(t_outer)]),  # (n - n // 2, 2)
            f * np.column_stack([np.cos(t_inner), np.sin(t_inner)]),  # (n // 2, 2)
        ]
    )
    points += rng.normal(scale=noise, size=points.shape)
    labels = np.repeat([0, 1], [n - n_inner, n_inner])
    return _shuffled(rng, points, labels)
