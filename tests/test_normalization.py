"""Standardize: statistics learned by adapt, kept as buffers, the formulas by hand."""

import numpy as np
import pytest

import lucidnet as ln


def test_adapt_learns_mean_and_scale_and_forward_standardizes():
    x = np.array([[1.0, 10.0, 5.0], [3.0, 10.0, 7.0], [5.0, 10.0, 9.0]])
    layer = ln.Standardize(3, dtype=np.float64).adapt(x)
    # column 1: mean 3, std sqrt(8/3); column 2 constant: scale 1; column 3: mean 7
    np.testing.assert_allclose(layer.buffers()[0].value, [3, 10, 7])
    np.testing.assert_allclose(layer.buffers()[1].value, [np.sqrt(8 / 3), 1, np.sqrt(8 / 3)])
    y = layer.forward(x)
    np.testing.assert_allclose(y.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(y[:, [0, 2]].std(axis=0), 1)
    np.testing.assert_array_equal(y[:, 1], 0)
    expected = np.broadcast_to(1 / layer.buffers()[1].value, (3, 3))
    np.testing.assert_allclose(layer.backward(np.ones((3, 3))), expected)


def test_before_adapt_it_is_the_identity_and_it_is_never_trained():
    layer = ln.Standardize(2)
    x = np.array([[1.5, -2.0]], dtype=np.float32)
    np.testing.assert_array_equal(layer.forward(x), x)
    model = ln.Sequential([layer, ln.Dense(2, 1, seed=0)])
    assert [p.name for p in model.parameters()] == ["dense.weights", "dense.bias"]
    assert [b.name for b in model.buffers()] == ["standardize.mean", "standardize.scale"]


def test_statistics_are_saved_with_the_model(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(5, 3, size=(50, 4))
    model = ln.Sequential([ln.Standardize(4).adapt(x), ln.Dense(4, 1, seed=0)])
    model.save(tmp_path / "m.lucid")
    again = ln.load(tmp_path / "m.lucid")
    np.testing.assert_array_equal(again.predict(x), model.predict(x))
    np.testing.assert_array_equal(again.layers[0].buffers()[0].value, x.mean(axis=0).astype("f4"))


def test_adapt_and_forward_refuse_what_they_cannot_use():
    layer = ln.Standardize(3)
    with pytest.raises(
        ValueError, match=r"adapt expects rows of shape \(n >= 1, 3\), got \(4, 2\)"
    ):
        layer.adapt(np.zeros((4, 2)))
    with pytest.raises(ValueError, match="adapt got NaN or infinity"):
        layer.adapt(np.array([[1.0, np.nan, 2.0]]))
    with pytest.raises(ValueError, match=r"expected input of shape \(batch, 3\), got \(2, 4\)"):
        layer.forward(np.zeros((2, 4)))
    with pytest.raises(ValueError, match=r"features must be an int >= 1, got 0"):
        ln.Standardize(0)
    with pytest.raises(ValueError, match=r"cannot take .* expects inputs of shape \(batch, 3\)"):
        ln.Sequential([ln.Dense(2, 4), ln.Standardize(3)])
