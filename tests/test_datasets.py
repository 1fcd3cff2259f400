"""The seeds' small data sets."""

import numpy as np
import pytest

from lucidnet import datasets


@pytest.mark.parametrize(
    ("make", "labels"),
    [
        (datasets.xor, [0, 1, 1, 0]),
        (datasets.and_gate, [0, 0, 0, 1]),
        (datasets.or_gate, [0, 1, 1, 1]),
    ],
)
def test_truth_tables(make, labels):
    x, y = make()
    assert x.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_array_equal(x, [[0, 0], [0, 1], [1, 0], [1, 1]])
    np.testing.assert_array_equal(y, labels)
    x[0, 0] = 9  # a fresh copy each call
    assert make()[0][0, 0] == 0


def test_fruit_is_the_seed_example():
    x, y = datasets.fruit()
    np.testing.assert_array_equal(x, [[1.0, 1.0]])
    np.testing.assert_array_equal(y, [1])


def test_spirals_shape_balance_and_seed():
    x, y = datasets.spirals(300, classes=3, noise=0.1, seed=0)
    assert x.shape == (300, 2) and x.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_array_equal(np.bincount(y), [100, 100, 100])
    x2, y2 = datasets.spirals(300, classes=3, noise=0.1, seed=0)
    np.testing.assert_array_equal(x, x2)
    np.testing.assert_array_equal(y, y2)
    assert not np.array_equal(x, datasets.spirals(300, classes=3, noise=0.1, seed=1)[0])
    # radii run from 0 to 1 (noise only turns the angle)
    r = np.hypot(x[:, 0], x[:, 1])
    assert r.min() == pytest.approx(0.0, abs=1e-6) and r.max() == pytest.approx(1.0, abs=1e-6)
    # rows are shuffled: the last 20% hold every class
    assert set(y[-60:]) == {0, 1, 2}


def test_spirals_without_noise_follow_the_formula():
    x, y = datasets.spirals(30, classes=2, noise=0.0, seed=0)
    r = np.hypot(x[:, 0], x[:, 1])
    theta = np.arctan2(x[:, 0], x[:, 1])  # x = r sin(theta), y = r cos(theta)
    expected = 4 * r + np.pi * y  # 2 pi k / classes with classes = 2
    diff = np.angle(np.exp(1j * (theta - expected)))  # compare angles modulo 2 pi
    np.testing.assert_allclose(diff[r > 1e-6], 0.0, atol=1e-5)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n": 2, "classes": 3}, "n must be an int >= classes"),
        ({"classes": 1}, "classes must be"),
        ({"noise": -1}, "noise must be >= 0"),
    ],
)
def test_spirals_validation(kwargs, match):
    with pytest.raises(ValueError, match=match):
        datasets.spirals(**kwargs)
