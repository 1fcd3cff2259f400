"""L1 and L2 penalties (training/penalties.py): on the parameters, applied once per step."""

import numpy as np
import pytest

import lucidnet as ln
from lucidnet.parameters import Parameter
from lucidnet.training import Trainer, penalty
from lucidnet.training.penalties import PenaltyGradients

W = np.array([[1.0, -2.0], [0.5, 0.0]])


def test_penalty_value_by_hand():
    p = Parameter("w", W.copy(), l1=0.1, l2=0.3)
    # l1 * (1 + 2 + 0.5 + 0) + l2 * (1 + 4 + 0.25 + 0) = 0.35 + 1.575
    assert penalty([p]) == pytest.approx(1.925, rel=1e-15)
    assert penalty([Parameter("w", W.copy(), l2=0.3)]) == pytest.approx(1.575, rel=1e-15)
    assert penalty([Parameter("w", W.copy(), l1=0.1)]) == pytest.approx(0.35, rel=1e-15)
    assert penalty([Parameter("w", W.copy())]) == 0.0
    assert penalty([p, Parameter("v", np.array([3.0]), l2=1.0)]) == pytest.approx(10.925)


def test_penalty_gradient_by_hand():
    p = Parameter("w", W.copy(), grad=np.full((2, 2), 10.0), l1=0.1, l2=0.3)
    untouched = Parameter("b", np.array([5.0, -5.0]), grad=np.array([1.0, 2.0]))
    adder = PenaltyGradients()
    adder.add([p, untouched])
    # grad += l1 sign(w) + 2 l2 w; sign(0) = 0
    expected = 10.0 + np.array([[0.1 + 0.6, -0.1 - 1.2], [0.1 + 0.3, 0.0]])
    np.testing.assert_allclose(p.grad, expected, rtol=1e-15)
    np.testing.assert_array_equal(untouched.grad, [1.0, 2.0])
    adder.add([p])  # adds again: it is a step's addition, not a setting
    np.testing.assert_allclose(p.grad, expected + (expected - 10.0), rtol=1e-15)
    np.testing.assert_array_equal(p.value, W)  # the weights are not touched


def test_penalty_gradient_keeps_float32():
    p = Parameter("w", W.astype(np.float32), l2=0.5)
    PenaltyGradients().add([p])
    assert p.grad.dtype == np.float32
    np.testing.assert_allclose(p.grad, W, rtol=1e-7)


def test_layer_and_model_penalty():
    dense = ln.Dense(2, 2, l1=0.1, l2=0.3, dtype=np.float64)
    dense.weights = W
    dense.bias = [7.0, 7.0]  # the bias is not penalized
    assert dense.penalty() == pytest.approx(1.925)
    other = ln.Dense(2, 1, l2=1.0, dtype=np.float64)
    other.weights = [[3.0], [0.0]]
    model = ln.Sequential([dense, ln.Tanh(), other])
    assert model.penalty() == pytest.approx(1.925 + 9.0)
    assert [p.penalized for p in model.parameters()] == [True, False, True, False]


def test_dense_settings_live_on_the_weights_parameter():
    dense = ln.Dense(2, 2, l1=0.1, l2=0.3)
    weights = dense.parameter("weights")
    assert (dense.l1, dense.l2) == (weights.l1, weights.l2) == (0.1, 0.3)
    dense.l2 = 0.5
    assert weights.l2 == 0.5
    assert dense.parameter("bias").l2 == 0.0
    with pytest.raises(ValueError, match=r"dense: l2 must be a finite number >= 0, got -1"):
        ln.Dense(2, 2, l2=-1)
    with pytest.raises(ValueError, match=r"dense: l1 must be a finite number >= 0, got nan"):
        dense.l1 = float("nan")
    assert dense.get_config()["l2"] == 0.5 and dense.get_config()["l1"] == 0.1


def _one_layer(l2=0.0, l1=0.0):
    dense = ln.Dense(2, 2, l2=l2, l1=l1, dtype=np.float64)
    dense.weights = W
    dense.bias = [0.1, -0.1]
    return dense


X = np.array([[1.0, 2.0], [-1.0, 0.5], [0.3, 0.3]])
Y = np.array([[0.0, 1.0], [1.0, 0.0], [0.5, 0.5]])


def test_dense_backward_adds_no_penalty():
    dense = _one_layer(l2=0.3, l1=0.1)
    dense.forward(X)
    g = np.arange(6.0).reshape(3, 2)
    dense.backward(g)
    np.testing.assert_array_equal(dense.grad_weights, X.T @ g)  # no 2 l2 W, no l1 sign(W)
    np.testing.assert_array_equal(dense.grad_bias, g.sum(axis=0))
    model = ln.Sequential([_one_layer(l2=0.3, l1=0.1)])
    model.forward(X)
    model.backward(g)
    np.testing.assert_array_equal(model.layers[0].grad_weights, X.T @ g)


def test_the_training_step_adds_the_l2_gradient_once():
    model = ln.Sequential([_one_layer(l2=0.3)])
    result = Trainer(model, "mse").gradients(X, Y)
    z = X @ W + [0.1, -0.1]
    data_grad = X.T @ (2 * (z - Y) / Y.size)
    np.testing.assert_allclose(model.layers[0].grad_weights, data_grad + 2 * 0.3 * W, rtol=1e-13)
    assert result.loss == pytest.approx(np.mean((z - Y) ** 2) + 0.3 * np.sum(W**2), rel=1e-13)


def test_the_training_step_adds_the_l1_gradient_once():
    model = ln.Sequential([_one_layer(l1=0.1)])
    Trainer(model, "mse").gradients(X, Y)
    z = X @ W + [0.1, -0.1]
    data_grad = X.T @ (2 * (z - Y) / Y.size)
    np.testing.assert_allclose(
        model.layers[0].grad_weights, data_grad + 0.1 * np.sign(W), rtol=1e-13
    )


def test_an_sgd_step_with_l2_by_hand():
    model = ln.Sequential([_one_layer(l2=0.3)])
    z = X @ W + [0.1, -0.1]
    data_grad = X.T @ (2 * (z - Y) / Y.size)
    value = ln.train_step(model, X, Y, "mse", ln.SGD(0.5))
    np.testing.assert_allclose(model.layers[0].weights, W - 0.5 * (data_grad + 0.6 * W), rtol=1e-13)
    assert value == pytest.approx(np.mean((z - Y) ** 2) + 0.3 * np.sum(W**2), rel=1e-13)


@pytest.mark.parametrize(("l1", "l2"), [(0.2, 0.0), (0.0, 0.2), (0.1, 0.3)])
def test_gradcheck_covers_the_penalties(l1, l2):
    rng = np.random.default_rng(0)
    model = ln.Sequential(
        [ln.Dense(3, 4, l1=l1, l2=l2, seed=0), ln.Tanh(), ln.Dense(4, 2, l1=l1, seed=1)]
    )
    x = rng.standard_normal((5, 3))
    report = ln.gradcheck(model, x)
    assert report.passed, str(report)
    report = ln.gradcheck(model, x, rng.standard_normal((5, 2)), "mse")
    assert report.passed, str(report)


def test_gradcheck_would_catch_a_missing_l1_gradient(monkeypatch):
    model = ln.Sequential([ln.Dense(3, 2, l1=0.5, seed=0)])
    x = np.random.default_rng(0).standard_normal((4, 3))
    monkeypatch.setattr(PenaltyGradients, "add", lambda self, params: None)
    report = ln.gradcheck(model, x)
    assert [(e.layer, e.parameter) for e in report.failures()] == [("dense", "weights")]


def test_fit_and_evaluate_count_the_penalty():
    model = ln.Sequential([_one_layer(l2=0.3)])
    model.compile("mse", ln.SGD(0.01))
    z = X @ W + [0.1, -0.1]
    expected = np.mean((z - Y) ** 2) + 0.3 * np.sum(W**2)
    assert model.evaluate(X, Y)["loss"] == pytest.approx(expected, rel=1e-12)
    history = model.fit(X, Y, epochs=1, batch_size=3, verbose=0)
    assert history.history["loss"][0] == pytest.approx(expected, rel=1e-12)


def test_penalties_survive_save_and_load(tmp_path):
    model = ln.Sequential([ln.Dense(2, 2, l1=0.1, l2=0.3)])
    path = tmp_path / "p.lucid"
    ln.save(model, path)
    dense = ln.load(path).layers[0]
    assert (dense.l1, dense.l2) == (0.1, 0.3)
