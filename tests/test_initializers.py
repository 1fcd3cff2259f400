"""Tests of ``lucidnet.initializers``: shape, dtype, determinism, the statistics of every
registered initializer on a large matrix, the xavier aliases and the registry.

The expected standard deviations are written here from the published formulas, with
``fan_in, fan_out = shape``; a uniform ``U(-a, a)`` has standard deviation ``a / sqrt(3)``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from lucidnet import initializers

DTYPES = [np.float32, np.float64]
FAN_IN, FAN_OUT = 500, 400
N = FAN_IN * FAN_OUT

# name -> (distribution, expected standard deviation for a (500, 400) matrix)
EXPECTED = {
    "zeros": ("zeros", 0.0),
    "small_normal": ("normal", 0.1),  # randn * 0.1
    "glorot_normal": ("normal", math.sqrt(2 / (FAN_IN + FAN_OUT))),
    "xavier_normal": ("normal", math.sqrt(2 / (FAN_IN + FAN_OUT))),
    # U(-a, a), a = sqrt(6 / (fan_in + fan_out)): std a / sqrt(3) = sqrt(2 / (fan_in + fan_out))
    "glorot_uniform": ("uniform", math.sqrt(2 / (FAN_IN + FAN_OUT))),
    "xavier_uniform": ("uniform", math.sqrt(2 / (FAN_IN + FAN_OUT))),
    "he_normal": ("normal", math.sqrt(2 / FAN_IN)),
    # a = sqrt(6 / fan_in): std sqrt(2 / fan_in)
    "he_uniform": ("uniform", math.sqrt(2 / FAN_IN)),
    "lecun_normal": ("normal", math.sqrt(1 / FAN_IN)),
    # a = sqrt(3 / fan_in): std sqrt(1 / fan_in)
    "lecun_uniform": ("uniform", math.sqrt(1 / FAN_IN)),
}
RANDOM = sorted(name for name, (kind, _) in EXPECTED.items() if kind != "zeros")


def test_every_registered_initializer_is_tested_here() -> None:
    assert sorted(initializers.names()) == sorted(EXPECTED)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(EXPECTED))
@pytest.mark.parametrize("shape", [(3, 5), (1, 1), (7, 2)])
def test_shape_and_dtype(name: str, dtype: type, shape: tuple[int, int]) -> None:
    w = initializers.get(name)(shape, np.random.default_rng(0), np.dtype(dtype))
    assert isinstance(w, np.ndarray)
    assert w.shape == shape
    assert w.dtype == dtype
    assert np.all(np.isfinite(w))


@pytest.mark.parametrize("name", RANDOM)
def test_same_seed_same_values_other_seed_other_values(name: str) -> None:
    init = initializers.get(name)
    first = init((20, 10), np.random.default_rng(0), np.dtype(np.float64))
    again = init((20, 10), np.random.default_rng(0), np.dtype(np.float64))
    other = init((20, 10), np.random.default_rng(1), np.dtype(np.float64))
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    # float32 gives the float64 values rounded (the same stream of random numbers)
    single = init((20, 10), np.random.default_rng(0), np.dtype(np.float32))
    np.testing.assert_array_equal(single, first.astype(np.float32))


@pytest.mark.parametrize("dtype", DTYPES)
def test_zeros_is_zeros(dtype: type) -> None:
    w = initializers.zeros((FAN_IN, FAN_OUT), np.random.default_rng(0), np.dtype(dtype))
    assert w.dtype == dtype
    assert not np.any(w)


@pytest.mark.parametrize("name", RANDOM)
def test_statistics_of_a_large_matrix(name: str) -> None:
    kind, std = EXPECTED[name]
    w = initializers.get(name)((FAN_IN, FAN_OUT), np.random.default_rng(0), np.dtype(np.float64))
    # mean 0: the sample mean has standard error std / sqrt(N) ≈ 0.0022 std; allow 5 of them
    assert abs(w.mean()) < 5 * std / math.sqrt(N)
    # std within 1 %: the sample std has relative standard error about 1 / sqrt(2 N) ≈ 0.16 %
    assert w.std() == pytest.approx(std, rel=0.01)
    beyond_two_std = np.mean(np.abs(w) > 2 * std)
    if kind == "uniform":
        limit = math.sqrt(3) * std  # U(-a, a) has std a / sqrt(3)
        assert np.all(np.abs(w) <= limit)
        assert np.abs(w).max() > 0.999 * limit  # and reaches its bounds
        # flat: half of the values within a / 2 of 0
        assert np.mean(np.abs(w) <= limit / 2) == pytest.approx(0.5, abs=0.005)
        assert beyond_two_std == 0.0  # sqrt(3) std < 2 std
    else:
        # untruncated normal: P(|w| > 2 std) = erfc(2 / sqrt(2)) ≈ 4.55 %
        assert beyond_two_std == pytest.approx(math.erfc(math.sqrt(2)), abs=0.003)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", RANDOM)
def test_statistics_hold_in_both_dtypes(name: str, dtype: type) -> None:
    _, std = EXPECTED[name]
    w = initializers.get(name)((FAN_IN, FAN_OUT), np.random.default_rng(1), np.dtype(dtype))
    assert w.dtype == dtype
    assert float(np.std(w, dtype=np.float64)) == pytest.approx(std, rel=0.01)


@pytest.mark.parametrize("kind", ["uniform", "normal"])
def test_xavier_aliases_match_glorot(kind: str) -> None:
    xavier, glorot = initializers.get(f"xavier_{kind}"), initializers.get(f"glorot_{kind}")
    a = xavier((30, 20), np.random.default_rng(5), np.dtype(np.float64))
    b = glorot((30, 20), np.random.default_rng(5), np.dtype(np.float64))
    np.testing.assert_array_equal(a, b)


def test_get_is_case_insensitive_and_passes_callables_through() -> None:
    assert initializers.get("He_Normal") is initializers.he_normal
    assert initializers.get("GLOROT_UNIFORM") is initializers.glorot_uniform

    def custom(shape: tuple[int, ...], rng: np.random.Generator, dtype: np.dtype) -> np.ndarray:
        return np.ones(shape, dtype=dtype)

    assert initializers.get(custom) is custom


@pytest.mark.parametrize("bad", ["kaiming", "", 3, None])
def test_get_rejects_unknown_values_and_lists_names(bad: object) -> None:
    with pytest.raises(ValueError) as err:
        initializers.get(bad)  # type: ignore[arg-type]
    message = str(err.value)
    assert repr(bad) in message
    for name in EXPECTED:
        assert name in message
