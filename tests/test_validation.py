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


def test_check_range_names_the_first_value_the_cast_makes_infinite():
    from lucidnet.validation import check_range

    x = np.zeros((5, 3))
    x[2, 1] = np.nextafter(float(np.finfo(np.float32).max), np.inf)  # rounds down: kept
    check_range(x, np.float32, "x", "scale it")
    x[4, 2], x[3, 0] = -1e39, np.inf  # infinity is check_finite's to name
    message = r"^x has -1e\+39 at row 4, column 2, beyond the range of float32 \(max 3.403e\+38\)"
    with pytest.raises(ValueError, match=message + "; scale it$"):
        check_range(x, np.float32, "x", "scale it")
    images = np.zeros((3, 1, 4, 4))
    images[1, 0, 2, 3] = 1e300
    with pytest.raises(ValueError, match=r"at index \(1, 0, 2, 3\),"):
        check_range(images, np.float32, "x", "")
    check_range(images, np.float64, "x", "")  # as wide: nothing to check
    check_range(np.full(3, 2**62), np.float32, "y", "")  # integers fit any float
    check_range(np.zeros((0, 3)), np.float32, "x", "")


def test_check_finite_counts_across_blocks_and_names_the_first():
    x = np.zeros((300_000, 2))  # several blocks of rows
    x[150_000, 1], x[299_999, 0] = np.nan, -np.inf
    first = r"contains 2 non-finite value\(s\); the first is nan at row 150000, column 1"
    with pytest.raises(ValueError, match=first):
        check_finite(x, "x")
    with pytest.raises(ValueError, match=r"the first is inf at index 0"):
        check_finite(np.array(np.inf), "a scalar")
