"""Input checks shared by layers, losses and training, with messages that say where.

Every message names the place (a layer, a loss, an argument), what was expected and what
was received, so that the user can find the bad value without a debugger.
"""

from __future__ import annotations

from numbers import Real

import numpy as np

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
    """Raise ValueError naming the first NaN or infinity in ``x`` and its position.

    The position is given as row and column for 2-D arrays, as an index otherwise.
    """
    x = np.asarray(x)
    if x.dtype.kind not in "fc":
        return
    # In blocks of rows: a whole-array np.isfinite would allocate a boolean copy of the
    # data set (47 MB for Fashion-MNIST) just to say "yes".
    rows = max(1, (1 << 18) // max(1, x[0].size if x.ndim > 1 and len(x) else 1))
    blocks = [x] if x.ndim < 2 else [x[i : i + rows] for i in range(0, len(x), rows)]
    if all(np.isfinite(block).all() for block in blocks):
        return
    bad = np.argwhere(~np.isfinite(x))
    count = len(bad)
    first = tuple(int(i) for i in bad[0])
    value = x[first]
    if x.ndim == 2:
        at = f"row {first[0]}, column {first[1]}"
    else:
        at = f"index {first if x.ndim != 1 else first[0]}"
    raise ValueError(
        f"{where} contains {count} non-finite value(s); the first is {value} at {at}. "
        "Remove or impute NaN and infinity before training."
    )


def check_range(x: np.ndarray, dtype: object, where: str, advice: str) -> None:
    """Refuse finite values of ``x`` beyond the range of the narrower float ``dtype``
    (a float64 1e39 cast to float32 is inf), naming the first by row and column (the
    column counted in the flattened row). ``advice`` ends the message.

    In blocks of rows, never a whole-array copy: ``x`` may be a memory map.
    """
    dtype = np.dtype(dtype)  # type: ignore[call-overload]
    if x.dtype.kind != "f" or dtype.kind != "f" or dtype.itemsize >= x.dtype.itemsize:
        return
    big = float(np.finfo(dtype).max)
    rows = max(1, (1 << 18) // max(1, x[0].size if x.ndim > 1 and len(x) else 1))
    for start in range(0, len(x), rows):
        part = np.asarray(x[start : start + rows])
        block = part.reshape(len(part), -1)
        beyond = np.abs(block) > big
        if beyond.any() and (beyond := beyond & np.isfinite(block)).any():  # inf: check_finite
            row, col = (int(v[0]) for v in np.nonzero(beyond))
            raise range_error(where, float(block[row, col]), start + row, col, dtype, advice)


def range_error(
    where: str, value: float, row: int, col: int, dtype: np.dtype, advice: str
) -> ValueError:
    """The error of ``check_range`` for ``value`` at ``(row, col)``."""
    big = float(np.finfo(dtype).max)
    return ValueError(
        f"{where} has {value!r} at row {row}, column {col}, beyond the range of "
        f"{dtype.name} (max {big:.4g}); {advice}"
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
