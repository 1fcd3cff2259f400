"""Shared input checks."""

import numpy as np
import pytest

from lucidnet.validation import check_finite, check_positive, check_rng, float_dtype


def test_check_finite_names_position():
    x = np.zeros((3, 4))
    check_finite(x, "x")
    x[2, 3] = -np.inf
    with pytest.raises(
        ValueError,
        match=r"x contains 1 non-finite value\(s\); the first is -inf at row 2, column 3",
    ):
        check_finite(x, "x")
    with pytest.raises(ValueError, match="at index 1"):
        check_finite(np.array([0.0, np.nan]), "v")
    check_finite(np.array([1, 2]), "ints are always finite")


def test_check_positive_and_rng_and_dtype():
    assert check_positive(0.5, "lr") == 0.5
    with pytest.raises(ValueError, match="lr must be > 0, got 0"):
        check_positive(0, "lr")
    g = np.random.default_rng(0)
    assert check_rng(g) is g
    assert check_rng(3).integers(1000) == np.random.default_rng(3).integers(1000)
    with pytest.raises(ValueError, match=r"seed must be None, an int or a numpy.random.Generator"):
        check_rng(1.5)
    assert float_dtype("float64") == np.float64
    with pytest.raises(ValueError, match="dtype must be float32 or float64"):
        float_dtype("int8")


def test_check_finite_finds_nan_past_the_first_block():
    x = np.zeros((3000, 784), dtype=np.float32)  # blocks of 1337 rows
    check_finite(x, "x")
    x[2500, 17] = np.inf
    with pytest.raises(ValueError, match="row 2500, column 17"):
        check_finite(x, "x")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1, True),
        (0.5, True),
        (np.float32(2), True),
        (True, False),
        (np.nan, False),
        (np.inf, False),
        ("1", False),
        (None, False),
    ],
)
def test_is_number(value, expected):
    from lucidnet.validation import is_number

    assert is_number(value) is expected
