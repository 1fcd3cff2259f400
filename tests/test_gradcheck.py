"""The public gradient check: it passes correct layers and catches wrong ones."""

from itertools import pairwise

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import lucidnet as ln
from lucidnet.activations import Activation


def _data(batch=6, features=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((batch, features)), rng.integers(0, 3, batch)


def test_report_lists_every_parameter_and_the_input():
    model = ln.Sequential([ln.Dense(3, 4, seed=0), ln.Tanh(), ln.Dense(4, 3, seed=1)])
    x, _ = _data()
    report = ln.gradcheck(model, x)
    rows = [(e.layer, e.parameter) for e in report.entries]
    assert rows == [
        ("dense", "weights"),
        ("dense", "bias"),
        ("dense_1", "weights"),
        ("dense_1", "bias"),
        ("(model)", "input"),
    ]
    assert report.passed and bool(report)
    assert report.max_rel_error < 1e-6
    text = str(report)
    assert "dense_1" in text and "weights" in text and "4x3" in text
    assert "PASSED" in text


@pytest.mark.parametrize(
    ("last", "loss"),
    [
        (ln.Softmax(), ln.CrossEntropy()),  # fused path
        (ln.Identity(), ln.CrossEntropy(from_logits=True)),
        (ln.Sigmoid(), ln.MSE()),
        (ln.Tanh(), ln.MSE()),
    ],
)
def test_model_with_loss_passes(last, loss):
    model = ln.Sequential([ln.Dense(3, 5, seed=0), ln.LeakyReLU(0.1), ln.Dense(5, 3, seed=1), last])
    x, labels = _data()
    y = labels if isinstance(loss, ln.CrossEntropy) else np.eye(3)[labels]
    report = ln.gradcheck(model, x, y, loss)
    assert report.passed, str(report)


def test_fused_sigmoid_binary_crossentropy_passes():
    model = ln.Sequential([ln.Dense(3, 4, seed=0), ln.ReLU(), ln.Dense(4, 1, seed=1), ln.Sigmoid()])
    x, labels = _data()
    report = ln.gradcheck(model, x, labels % 2, "binary_crossentropy")
    assert report.passed, str(report)


class _WrongSigmoid(Activation):
    """A deliberate bug: the derivative is missing a factor (y instead of y (1 - y))."""

    @staticmethod
    def function(z):
        return ln.functional.sigmoid(z)

    @staticmethod
    def derivative(z, y):
        return y


class _WrongDense(ln.Dense):
    """A deliberate bug: the bias gradient is the mean instead of the sum."""

    def backward(self, grad, need_input_grad=True):
        out = super().backward(grad, need_input_grad=need_input_grad)
        self.parameter("bias").grad /= grad.shape[0]  # grad_bias itself is read-only
        return out


def test_wrong_activation_derivative_fails_with_a_readable_report():
    x, _ = _data()
    report = ln.gradcheck(_WrongSigmoid(), x)
    assert not report.passed
    assert [e.parameter for e in report.failures()] == ["input"]
    assert "FAIL" in str(report) and "FAILED" in str(report)


def test_wrong_parameter_gradient_is_named():
    model = ln.Sequential([_WrongDense(3, 2, seed=0, name="broken"), ln.Sigmoid()])
    x, _ = _data()
    report = ln.gradcheck(model, x)
    assert [(e.layer, e.parameter) for e in report.failures()] == [("broken", "bias")]


def test_original_model_is_untouched_and_stays_float32():
    model = ln.Sequential([ln.Dense(3, 2, seed=0)])
    before = model.layers[0].weights.copy()
    x, _ = _data()
    ln.gradcheck(model, x)
    assert model.layers[0].weights.dtype == np.float32
    np.testing.assert_array_equal(model.layers[0].weights, before)


def test_bad_arguments():
    with pytest.raises(TypeError, match="expected a Sequential or a Layer, got str"):
        ln.gradcheck("model", np.zeros((1, 1)))
    with pytest.raises(ValueError, match="a loss needs targets y"):
        ln.gradcheck(ln.Identity(), np.zeros((1, 1)), loss="mse")


ACTIVATIONS = ["sigmoid", "tanh", "leaky_relu", "identity", "softmax"]


@settings(max_examples=25, deadline=None)
@given(
    widths=st.lists(st.integers(1, 4), min_size=2, max_size=4),
    activation=st.sampled_from(ACTIVATIONS),
    batch=st.integers(1, 4),
    seed=st.integers(0, 2**16),
)
def test_property_random_networks_pass(widths, activation, batch, seed):
    rng = np.random.default_rng(seed)
    layers = []
    for i, (n_in, n_out) in enumerate(pairwise(widths)):
        layers += [ln.Dense(n_in, n_out, seed=seed + i), ln.activations.get(activation)]
    x = rng.uniform(-2, 2, size=(batch, widths[0]))
    # LeakyReLU has a kink at 0: stay away from it (central differences straddle it)
    out = x
    for layer in layers:
        if isinstance(layer, ln.LeakyReLU):
            assume(np.abs(out).min() > 1e-3)
        out = layer.forward(out)
    report = ln.gradcheck(ln.Sequential(layers), x, seed=seed)
    assert report.passed, str(report)


class _SignFlipDense(ln.Dense):
    """A deliberate bug in small entries: the weights of feature 1 get the wrong sign."""

    def backward(self, grad, need_input_grad=True):
        out = super().backward(grad, need_input_grad=need_input_grad)
        self.grad_weights[1] *= -1
        return out


def test_wrong_small_entries_among_large_ones_are_caught():
    # feature 1 is ~1e-7, so its weight gradients are ~1e-7 next to ~1 for feature 0;
    # an array-wide relative error would hide the flipped sign, the elementwise one does not
    x = np.random.default_rng(0).normal(size=(8, 2))
    x[:, 1] *= 1e-7
    report = ln.gradcheck(ln.Sequential([_SignFlipDense(2, 3, seed=0), ln.Tanh()]), x)
    assert [(e.layer, e.parameter) for e in report.failures()] == [("_sign_flip_dense", "weights")]


def test_relu_kink_is_reported_not_hidden():
    # z = x @ W + b = 0 exactly for x = 0 and b = 0: ReLU has no derivative there
    model = ln.Sequential([ln.Dense(2, 3, seed=0), ln.ReLU()])
    report = ln.gradcheck(model, np.zeros((1, 2)))
    assert not report.passed


# --- with sample weights ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("last", "loss", "binary"),
    [
        (ln.Softmax(), ln.CrossEntropy(), False),  # fused path
        (ln.Identity(), ln.CrossEntropy(from_logits=True), False),
        (ln.Sigmoid(), ln.BinaryCrossEntropy(), True),  # fused path
        (ln.Identity(), ln.BinaryCrossEntropy(from_logits=True), True),
        (ln.Tanh(), ln.MSE(), False),
    ],
)
def test_model_with_weighted_loss_passes(last, loss, binary):
    outputs = 1 if binary else 3
    model = ln.Sequential(
        [ln.Dense(3, 5, seed=0, l2=0.1), ln.Tanh(), ln.Dense(5, outputs, seed=1), last]
    )
    x, labels = _data()
    if binary:
        y = labels % 2
    else:
        y = labels if isinstance(loss, ln.CrossEntropy) else np.eye(3)[labels]
    w = np.array([0.0, 0.5, 1.0, 2.0, 3.0, 0.25])
    report = ln.gradcheck(model, x, y, loss, sample_weight=w)
    assert report.passed, str(report)


class _IgnoresWeightsInGradient(ln.MSE):
    """A deliberate bug: the value is weighted, the gradient is not."""

    def value_and_gradient(self, y_true, y_pred, need_gradient=True, sample_weight=None):
        value, _ = super().value_and_gradient(y_true, y_pred, False, sample_weight)
        return value, super().value_and_gradient(y_true, y_pred, need_gradient)[1]


def test_a_gradient_that_ignores_the_weights_fails():
    model = ln.Sequential([ln.Dense(3, 2, seed=0)])
    x, _ = _data()
    y = np.zeros((6, 2))
    w = np.linspace(0.0, 2.0, 6)
    assert ln.gradcheck(model, x, y, ln.MSE(), sample_weight=w).passed
    report = ln.gradcheck(model, x, y, _IgnoresWeightsInGradient(), sample_weight=w)
    assert not report.passed
    # without weights the two losses are the same, and both pass
    assert ln.gradcheck(model, x, y, _IgnoresWeightsInGradient()).passed


def test_sample_weight_needs_a_loss():
    model = ln.Sequential([ln.Dense(3, 2, seed=0)])
    x, _ = _data()
    with pytest.raises(ValueError, match="sample_weight weighs a loss; give loss= and y="):
        ln.gradcheck(model, x, sample_weight=np.ones(6))
