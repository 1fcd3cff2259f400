"""One training step: fused pairs, input checks, and divergence keeping the weights."""

import numpy as np
import pytest

import lucidnet as ln


def _model():
    return ln.Sequential([ln.Dense(2, 3, seed=0), ln.Tanh(), ln.Dense(3, 1, seed=1), ln.Sigmoid()])


def test_train_step_lowers_the_loss_on_xor_batch():
    x, y = ln.datasets.xor()
    model = _model()
    opt = ln.SGD(0.5)
    first = ln.train_step(model, x, y, "binary_crossentropy", opt)
    for _ in range(200):
        last = ln.train_step(model, x, y, "binary_crossentropy", opt)
    assert last < first


def test_loss_and_gradients_fused_matches_unfused_chain_rule():
    rng = np.random.default_rng(0)
    x, labels = rng.standard_normal((8, 3)), rng.integers(0, 4, 8)
    model = ln.Sequential([ln.Dense(3, 4, dtype=np.float64, seed=0), ln.Softmax()])
    result = ln.loss_and_gradients(model, x, labels, ln.CrossEntropy())
    fused = model.layers[0].grad_weights.copy()
    # the unfused chain: softmax backward of dL/dp = -y / p / n
    p = model.forward(x)
    model.backward(ln.CrossEntropy().gradient(p, labels))
    np.testing.assert_allclose(fused, model.layers[0].grad_weights, rtol=1e-9)
    np.testing.assert_allclose(result.y_pred, p)
    assert result.loss == pytest.approx(ln.CrossEntropy()(p, labels))
    assert result.grad_input.shape == x.shape


def test_nan_in_input_is_reported_with_row_and_column():
    x, y = ln.datasets.xor()
    x[2, 1] = np.nan
    with pytest.raises(
        ValueError, match=r"training input x contains 1 non-finite.*row 2, column 1"
    ):
        ln.train_step(_model(), x, y, "mse", ln.SGD(0.1))
    x, y = ln.datasets.xor()
    y = y.astype(float)
    y[3] = np.inf
    with pytest.raises(ValueError, match=r"training target y .* at index 3"):
        ln.train_step(_model(), x, y, "mse", ln.SGD(0.1))


def test_non_finite_loss_raises_and_keeps_weights():
    model = ln.Sequential([ln.Dense(1, 1, seed=0)])
    x = np.array([[1e20]], dtype=np.float32)
    y = np.array([[0.0]], dtype=np.float32)
    before = model.layers[0].weights.copy()
    with pytest.raises(ln.TrainingDiverged, match="weights are unchanged"):
        with np.errstate(over="ignore"):
            ln.train_step(model, x, y, "mse", ln.SGD(0.1))
    np.testing.assert_array_equal(model.layers[0].weights, before)


def test_finite_loss_with_overflowing_gradient_keeps_weights():
    # w = 0.1, x = 1e20: y_pred = 1e19 and the loss 1e38 is finite in float32,
    # but dL/dw = x * 2 * 1e19 = 2e39 overflows
    model = ln.Sequential([ln.Dense(1, 1, bias=False, seed=0)])
    model.layers[0].weights[:] = 0.1
    x = np.array([[1e20]], dtype=np.float32)
    with pytest.raises(ln.TrainingDiverged, match=r"gradient of dense.weights is not finite"):
        with np.errstate(over="ignore"):
            ln.train_step(model, x, np.zeros((1, 1), np.float32), "mse", ln.SGD(0.1))
    np.testing.assert_array_equal(model.layers[0].weights, [[np.float32(0.1)]])


def test_loss_and_gradients_accepts_a_loss_name():
    x, y = ln.datasets.xor()
    result = ln.loss_and_gradients(_model(), x, y, "binary_crossentropy")
    assert result.loss > 0 and result.y_pred.shape == (4, 1)
