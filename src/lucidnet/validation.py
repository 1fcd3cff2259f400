"""Input checks shared by layers, losses and training, with messages that say where.

Every message names the place (a layer, a loss, an argument), what was expected and what
was received, so that the user can find the bad value without a debugger.
"""

from __future__ import annotations

from numbers import Real

import numpy as np

from .streaming import row_blocks

__all__ = [
    "check_finite",
    "check_fraction",
    "check_int",
    "check_non_negative",
    "check_positive",
    "check_range",
    "check_rng",
    "is_number",
]

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def float_dtype(dtype: object) -> np.dtype:
    """Return ``dtype`` as a NumPy dtype, accepting only float32 and float64."""
    try:
        dt = np.dtype(dtype)  # type: ignore[call-overload]
    except TypeError as err:
        raise ValueError(f"dtype must be float32 or float64, got {dtype!r}") from err
    if dt not in FLOAT_DTYPES:
        raise ValueError(f"dtype must be float32 or float64, got {dt.name}")
    return dt


def is_number(value: object) -> bool:
    """Whether ``value`` is a finite real number (``True``/``False`` are not numbers here)."""
    return isinstance(value, Real) and not isinstance(value, bool) and bool(np.isfinite(value))


def check_finite(x: np.ndarray, where: str) -> None:
    """Raise ValueError naming the first NaN or infinity in ``x``, its position and how
    many there are.

    The position is given as row and column for 2-D arrays, as an index otherwise. In
    blocks of rows: a whole-array ``np.isfinite`` would allocate a boolean copy of the
    data set (47 MB for Fashion-MNIST) just to say "yes", and ``x`` may be a memory map.
    """
    x = np.asarray(x)
    if x.dtype.kind not in "fc":
        return
    if x.ndim == 0:
        x = x.reshape(1)
    first: tuple[int, ...] | None = None
    count = 0
    for rows in row_blocks(x):
        finite = np.isfinite(x[rows])
        if finite.all():
            continue
        bad = ~finite
        count += int(bad.sum())
        if first is None:
            index = tuple(int(i) for i in np.argwhere(bad)[0])
            first = (rows.start + index[0], *index[1:])
    if first is None:
        return
    raise ValueError(
        f"{where} contains {count} non-finite value(s); the first is {x[first]} at "
        f"{position(first, x.ndim)}. Remove or impute NaN and infinity before training."
    )


def position(index: tuple[int, ...], ndim: int) -> str:
    """Where ``index`` is, in words: row and column for 2-D arrays, an index otherwise."""
    if ndim == 2:
        return f"row {index[0]}, column {index[1]}"
    return f"index {index if ndim != 1 else index[0]}"


def check_range(x: np.ndarray, dtype: object, where: str, advice: str) -> None:
    """Refuse finite values of ``x`` that the narrower float ``dtype`` cannot hold (a
    float64 1e39 cast to float32 is inf), naming the first by its position (as
    ``check_finite``). ``advice`` ends the message.

    In blocks of rows, never a whole-array copy: ``x`` may be a memory map.
    """
    dtype = np.dtype(dtype)  # type: ignore[call-overload]
    if x.dtype.kind != "f" or dtype.kind != "f" or dtype.itemsize >= x.dtype.itemsize:
        return
    for rows in row_blocks(x):
        block = np.asarray(x[rows])
        beyond = beyond_range(block, dtype)
        if beyond is not None:
            index = tuple(int(i) for i in np.argwhere(beyond)[0])
            value = float(block[index])
            at = position((rows.start + index[0], *index[1:]), x.ndim)
            raise range_error(where, value, at, dtype, advice)


def beyond_range(values: np.ndarray, dtype: np.dtype) -> np.ndarray | None:
    """Where finite ``values`` become infinite cast to ``dtype`` (a mask), or None."""
    beyond = np.abs(values) > float(np.finfo(dtype).max)
    if not beyond.any():  # the usual answer, after one pass
        return None
    with np.errstate(over="ignore"):  # values just above the max round down to it
        beyond &= np.isfinite(values) & np.isinf(values.astype(dtype))
    return beyond if beyond.any() else None


def range_error(where: str, value: float, at: str, dtype: np.dtype, advice: str) -> ValueError:
    """The error of ``check_range`` for ``value`` at ``at`` (``position``)."""
    big = float(np.finfo(dtype).max)
    return ValueError(
        f"{where} has {value!r} at {at}, beyond the range of {dtype.name} (max {big:.4g}); {advice}"
    )


def check_int(value: object, what: str, minimum: int = 1) -> int:
    """``value`` as an int, or ValueError echoing it if it is not an int >= ``minimum``
    (a bool is not an int here; a NumPy integer is)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{what} must be an int >= {minimum}, got {value!r}")
    return int(value)


def check_positive(value: float, what: str) -> float:
    """Return ``value`` as a float, or raise ValueError echoing it if it is not > 0."""
    try:
        v = float(value)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{what} must be a number > 0, got {value!r}") from err
    if not v > 0 or not np.isfinite(v):
        raise ValueError(f"{what} must be > 0, got {value!r}")
    return v


def check_non_negative(value: float, what: str) -> float:
    """``value`` as a float >= 0 and finite (a penalty factor, a decay), or ValueError
    echoing it."""
    try:
        v = float(value)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{what} must be a finite number >= 0, got {value!r}") from err
    if not (v >= 0.0 and np.isfinite(v)):
        raise ValueError(f"{what} must be a finite number >= 0, got {value!r}")
    return v


def check_fraction(value: float, what: str) -> float:
    """``value`` as a float in [0, 1) (a rate, a decay, a momentum), or ValueError
    echoing it."""
    try:
        v = float(value)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{what} must be a number in [0, 1), got {value!r}") from err
    if not 0.0 <= v < 1.0:
        raise ValueError(f"{what} must be in [0, 1), got {value!r}")
    return v


def check_rng(seed: int | np.random.Generator | None) -> np.random.Generator:
    """Turn ``seed`` (None, an int, or a Generator) into a ``numpy.random.Generator``.

    None draws fresh entropy from the operating system (not reproducible); an int gives a
    reproducible stream; a Generator is used as it is, so several layers can share one.
    """
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or (isinstance(seed, (int, np.integer)) and not isinstance(seed, bool)):
        return np.random.default_rng(seed)
    raise ValueError(f"seed must be None, an int or a numpy.random.Generator, got {seed!r}")
