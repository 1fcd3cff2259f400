"""lucidnet.datasets.toy: the truth tables, fruit, spirals, moons and circles."""

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


# --- moons and circles ------------------------------------------------------------------


@pytest.mark.parametrize("make", [datasets.moons, datasets.circles])
def test_toy_sets_shape_balance_and_seed(make):
    x, y = make(201, seed=0)
    assert x.shape == (201, 2) and x.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_array_equal(np.bincount(y), [101, 100])  # n - n // 2, n // 2
    x2, y2 = make(201, seed=0)
    np.testing.assert_array_equal(x, x2)
    np.testing.assert_array_equal(y, y2)
    assert not np.array_equal(x, make(201, seed=1)[0])
    # rows are shuffled: the last 20% hold both classes, the labels are not sorted
    assert set(y[-40:]) == {0, 1} and not np.all(np.diff(y) >= 0)
    assert make()[0].shape == (200, 2)  # default n = 200


def test_moons_without_noise_lie_on_two_half_circles():
    x, y = datasets.moons(100, noise=0.0, seed=0)
    upper, lower = x[y == 0], x[y == 1]
    # class 0: (cos t, sin t), t in [0, pi]: unit circle around (0, 0), upper half
    np.testing.assert_allclose(np.hypot(upper[:, 0], upper[:, 1]), 1.0, atol=1e-6)
    assert upper[:, 1].min() >= -1e-6
    # class 1: (1 - cos t, 1/2 - sin t): unit circle around (1, 1/2), lower half
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1, lower[:, 1] - 0.5), 1.0, atol=1e-6)
    assert lower[:, 1].max() <= 0.5 + 1e-6
    # the ends: t = 0 and t = pi give (1, 0), (-1, 0) and (0, 0.5), (2, 0.5)
    for point in ([1, 0], [-1, 0]):
        assert np.min(np.linalg.norm(upper - point, axis=1)) < 1e-6
    for point in ([0, 0.5], [2, 0.5]):
        assert np.min(np.linalg.norm(lower - point, axis=1)) < 1e-6


def test_circles_without_noise_have_radii_one_and_factor():
    x, y = datasets.circles(100, noise=0.0, factor=0.3, seed=0)
    r = np.hypot(x[:, 0], x[:, 1])
    np.testing.assert_allclose(r[y == 0], 1.0, atol=1e-6)
    np.testing.assert_allclose(r[y == 1], 0.3, atol=1e-6)
    # 50 angles evenly spaced over [0, 2 pi) on each circle: steps of 2 pi / 50
    for k in (0, 1):
        angles = np.sort(np.mod(np.arctan2(x[y == k, 1], x[y == k, 0]), 2 * np.pi))
        np.testing.assert_allclose(np.diff(angles), 2 * np.pi / 50, atol=1e-5)


@pytest.mark.parametrize("noise", [0.05, 0.2])
def test_noise_is_gaussian_of_the_given_scale(noise):
    # with noise s per coordinate, the distance to the true circle has std about s
    x, y = datasets.circles(4000, noise=noise, factor=0.5, seed=0)
    r = np.hypot(x[:, 0], x[:, 1])
    residual = np.concatenate([r[y == 0] - 1.0, r[y == 1] - 0.5])
    assert residual.std() == pytest.approx(noise, rel=0.1)
    x, y = datasets.moons(4000, noise=noise, seed=0)
    upper, lower = x[y == 0], x[y == 1]
    residual = np.concatenate(
        [np.hypot(*upper.T) - 1.0, np.hypot(lower[:, 0] - 1, lower[:, 1] - 0.5) - 1.0]
    )
    assert residual.std() == pytest.approx(noise, rel=0.15)


@pytest.mark.parametrize(
    ("make", "kwargs", "match"),
    [
        (datasets.moons, {"n": 1}, r"moons: n must be an int >= 2, got 1"),
        (datasets.moons, {"n": 10.0}, r"moons: n must be an int >= 2, got 10\.0"),
        (datasets.moons, {"n": True}, r"moons: n must be an int >= 2, got True"),
        (datasets.moons, {"noise": -0.1}, r"moons: noise must be >= 0, got -0\.1"),
        (datasets.moons, {"noise": float("nan")}, r"moons: noise must be >= 0, got nan"),
        (datasets.moons, {"noise": "a"}, r"moons: noise must be a number >= 0, got 'a'"),
        (datasets.circles, {"n": 0}, r"circles: n must be an int >= 2, got 0"),
        (datasets.circles, {"noise": -1}, r"circles: noise must be >= 0, got -1"),
        (datasets.circles, {"factor": 0}, r"circles: factor must be in \(0, 1\), got 0"),
        (datasets.circles, {"factor": 1.0}, r"circles: factor must be in \(0, 1\), got 1\.0"),
        (datasets.circles, {"factor": None}, r"circles: factor must be a number in \(0, 1\)"),
    ],
)
def test_toy_set_validation(make, kwargs, match):
    with pytest.raises(ValueError, match=match):
        make(**kwargs)
