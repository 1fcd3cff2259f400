"""flush_denormals: subnormal floats become zero inside the block, and only there."""

import numpy as np
import pytest

from lucidnet import denormals

pytestmark = pytest.mark.skipif(
    not denormals.supported(), reason="flush-to-zero is only wired up for Linux on x86-64"
)

SUBNORMAL = np.float32(1e-39)  # below finfo(float32).tiny = 1.18e-38


def test_subnormals_are_zero_inside_and_back_after():
    a = np.full(8, SUBNORMAL)
    assert (a * np.float32(1.0))[0] == SUBNORMAL  # ordinary IEEE behaviour first
    with denormals.flush_denormals():
        assert (a * np.float32(1.0))[0] == 0.0  # an input treated as zero (DAZ)
        tiny = np.full(8, np.finfo(np.float32).tiny)
        assert (tiny * np.float32(0.5))[0] == 0.0  # a result flushed to zero (FTZ)
    assert (a * np.float32(1.0))[0] == SUBNORMAL


def test_state_is_restored_after_an_exception():
    a = np.full(4, SUBNORMAL)
    with pytest.raises(RuntimeError), denormals.flush_denormals():
        raise RuntimeError("boom")
    assert (a * np.float32(1.0))[0] == SUBNORMAL


def test_normal_numbers_are_untouched():
    x = np.random.default_rng(0).standard_normal(1000).astype(np.float32)
    outside = x * np.float32(3.0) + np.float32(1.0)
    with denormals.flush_denormals():
        inside = x * np.float32(3.0) + np.float32(1.0)
    np.testing.assert_array_equal(inside, outside)
