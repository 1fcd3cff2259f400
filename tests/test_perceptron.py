"""Perceptron: seed 002's API on one sample and on a batch, and Rosenblatt's rule."""

import numpy as np
import pytest

import lucidnet as ln


def test_forward_without_activation_is_z():
    p = ln.Perceptron(3, dtype=np.float64, seed=0)
    p.weights[:] = [1.0, -1.0, 2.0]
    p.bias = 0.5
    # 1*1 + 2*(-1) + 3*2 + 0.5 = 5.5
    assert p.forward(np.array([1.0, 2.0, 3.0])) == pytest.approx(5.5)


def test_initial_weights_are_small_normal_and_seeded():
    a, b = ln.Perceptron(1000, seed=3), ln.Perceptron(1000, seed=3)
    np.testing.assert_array_equal(a.weights, b.weights)
    assert a.weights.std() == pytest.approx(0.1, rel=0.1)  # randn * 0.1
    assert a.bias == 0.0
    assert a.weights.dtype == np.float32


def test_batch_backward_sums_the_per_sample_gradients():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 3))
    d_out = rng.standard_normal(4)
    batch = ln.Perceptron(3, activation="tanh", dtype=np.float64, seed=1)
    single = ln.Perceptron(3, activation="tanh", dtype=np.float64, seed=1)
    w0 = batch.weights.copy()
    batch.forward(x)
    d_input = batch.backward(d_out, 0.1)
    total = np.zeros(3)
    for i in range(4):  # the reference, one sample at a time from the same weights
        single.weights[:] = w0
        single.bias = 0.0
        single.forward(x[i])
        np.testing.assert_allclose(single.backward(d_out[i], 0.1), d_input[i], rtol=1e-12)
        total += single.d_weights
    np.testing.assert_allclose(batch.d_weights, total, rtol=1e-12)
    np.testing.assert_allclose(batch.weights, w0 - 0.1 * total, rtol=1e-12)


def test_bad_inputs_are_named():
    p = ln.Perceptron(2)
    with pytest.raises(
        ValueError, match=r"expected input of shape \(2,\) or \(batch, 2\), got \(3,\)"
    ):
        p.forward(np.zeros(3))
    with pytest.raises(RuntimeError, match="backward called before forward"):
        ln.Perceptron(2).backward(0.1, 0.1)
    p.forward(np.zeros(2))
    with pytest.raises(ValueError, match=r"d_output must have the output's shape \(\), got \(2,\)"):
        p.backward(np.zeros(2), 0.1)
    with pytest.raises(ValueError, match="learning_rate must be > 0, got -1"):
        p.backward(0.1, -1)
    with pytest.raises(ValueError, match="input_size must be an int >= 1, got 0"):
        ln.Perceptron(0)
    with pytest.raises(ValueError, match="softmax needs several outputs"):
        ln.Perceptron(2, activation="softmax")


@pytest.mark.parametrize(("gate", "truth"), [("and_gate", [0, 0, 0, 1]), ("or_gate", [0, 1, 1, 1])])
def test_rosenblatt_rule_converges_on_linearly_separable_gates(gate, truth):
    x, y = getattr(ln.datasets, gate)()
    np.testing.assert_array_equal(y, truth)
    p = ln.Perceptron(2, activation="step", seed=0).fit(x, y, epochs=100)
    assert p.converged_
    assert p.n_epochs_ < 100
    assert p.errors_[-1] == 0
    np.testing.assert_array_equal(p.predict(x), y)


@pytest.mark.parametrize("seed", range(5))
def test_rosenblatt_rule_reports_no_convergence_on_xor(seed):
    x, y = ln.datasets.xor()
    p = ln.Perceptron(2, activation="step", seed=seed).fit(x, y, epochs=60)
    assert not p.converged_
    assert p.n_epochs_ == 60
    assert min(p.errors_) > 0  # never an epoch without a mistake
    assert np.mean(p.predict(x) == y) <= 0.75  # no line gets all four right


def test_rosenblatt_update_by_hand():
    # w = [0, 0], b = 0; sample x = [1, 1] with y = 1: y_hat = step(0) = 0 (step(0) is 0),
    # so w += 1 * (1 - 0) * [1, 1] = [1, 1] and b += 1. The next epoch has no mistake.
    p = ln.Perceptron(2, activation="step", dtype=np.float64, seed=0)
    p.weights[:] = 0.0
    p.fit(np.array([[1.0, 1.0]]), np.array([1]), epochs=5, learning_rate=1.0)
    np.testing.assert_allclose(p.weights, [1.0, 1.0])
    assert p.bias == 1.0
    assert p.errors_ == [1, 0]


def test_fit_validates_its_inputs():
    x, y = ln.datasets.and_gate()
    with pytest.raises(ValueError, match="needs activation='step'"):
        ln.Perceptron(2, activation="sigmoid").fit(x, y)
    p = ln.Perceptron(2, activation="step")
    with pytest.raises(ValueError, match=r"y must have shape \(4,\) to match X, got \(3,\)"):
        p.fit(x, y[:3])
    with pytest.raises(ValueError, match="labels must be 0 or 1"):
        p.fit(x, y + 1)
    with pytest.raises(ValueError, match="epochs must be an int >= 1, got 0"):
        p.fit(x, y, epochs=0)
    x[1, 0] = np.nan
    with pytest.raises(ValueError, match=r"non-finite value.*row 1, column 0"):
        p.fit(x, y)
