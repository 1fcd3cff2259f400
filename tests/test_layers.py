"""Dense, and the conformance harness that every layer passes."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lucidnet as ln
from lucidnet.layers import Layer

# One factory per layer kind: (name, make(dtype) -> layer, input features).
LAYERS = [
    ("dense", lambda dtype: ln.Dense(3, 4, dtype=dtype, seed=0), 3),
    ("dense_no_bias", lambda dtype: ln.Dense(3, 2, bias=False, dtype=dtype, seed=0), 3),
    ("dense_he", lambda dtype: ln.Dense(3, 5, init="he_normal", dtype=dtype, seed=0), 3),
    ("step", lambda dtype: ln.Step(), 4),
    ("identity", lambda dtype: ln.Identity(), 4),
    ("sigmoid", lambda dtype: ln.Sigmoid(), 4),
    ("tanh", lambda dtype: ln.Tanh(), 4),
    ("relu", lambda dtype: ln.ReLU(), 4),
    ("leaky_relu", lambda dtype: ln.LeakyReLU(0.2), 4),
    ("softmax", lambda dtype: ln.Softmax(), 4),
    ("dropout", lambda dtype: ln.Dropout(0.5, seed=0), 4),
]
IDS = [name for name, _, _ in LAYERS]


def _input(features, dtype, batch=5, seed=1):
    x = np.random.default_rng(seed).standard_normal((batch, features))
    x[np.abs(x) < 1e-3] = 0.5  # keep away from the ReLU/Step kink at 0
    return x.astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("name", "make", "features"), LAYERS, ids=IDS)
def test_conformance_shapes_and_dtype(name, make, features, dtype):
    layer = make(dtype)
    x = _input(features, dtype)
    y = layer.forward(x)
    expected_shape = layer.output_shape((features,))
    assert y.shape == (5, *expected_shape)
    assert y.dtype == np.dtype(dtype), f"{name} forward changed {dtype} to {y.dtype}"
    grad_x = layer.backward(np.ones_like(y))
    assert grad_x.shape == x.shape
    assert grad_x.dtype == np.dtype(dtype), f"{name} backward changed {dtype} to {grad_x.dtype}"
    for p in layer.parameters():
        assert p.value.dtype == np.dtype(dtype)
        assert p.grad.shape == p.value.shape
        assert p.grad.dtype == np.dtype(dtype)


@pytest.mark.parametrize(("name", "make", "features"), LAYERS, ids=IDS)
def test_conformance_gradient_check(name, make, features):
    report = ln.gradcheck(make(np.float32), _input(features, np.float64))
    assert report.passed, f"{name}\n{report}"
    assert report.max_rel_error < 1e-6


@pytest.mark.parametrize(("name", "make", "features"), LAYERS, ids=IDS)
def test_conformance_deterministic_with_seed(name, make, features):
    a, b = make(np.float32), make(np.float32)
    x = _input(features, np.float32)
    np.testing.assert_array_equal(a.forward(x), b.forward(x))
    for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
        np.testing.assert_array_equal(pa.value, pb.value)


@pytest.mark.parametrize(("name", "make", "features"), LAYERS, ids=IDS)
def test_conformance_backward_before_forward(name, make, features):
    with pytest.raises(RuntimeError, match="backward called before forward"):
        make(np.float32).backward(np.ones((5, 4), np.float32))


@pytest.mark.parametrize(("name", "make", "features"), LAYERS, ids=IDS)
def test_conformance_wrong_gradient_shape(name, make, features):
    layer = make(np.float32)
    y = layer.forward(_input(features, np.float32))
    with pytest.raises(ValueError, match=layer.name):
        layer.backward(np.ones((y.shape[0] + 1, y.shape[1]), np.float32))


def test_dense_forward_is_x_at_w_plus_b():
    layer = ln.Dense(2, 3, dtype=np.float64, seed=0)
    layer.weights[:] = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    layer.bias[:] = [0.5, -0.5, 1.0]
    # row [1, 2]: [1*1 + 2*4, 1*2 + 2*5, 1*3 + 2*6] + b = [9.5, 11.5, 16]
    y = layer.forward(np.array([[1.0, 2.0], [0.0, 0.0]]))
    np.testing.assert_allclose(y, [[9.5, 11.5, 16.0], [0.5, -0.5, 1.0]])


def test_dense_backward_formulas():
    layer = ln.Dense(2, 3, dtype=np.float64, seed=0)
    x = np.array([[1.0, 2.0], [3.0, -1.0]])
    g = np.array([[1.0, 0.0, -1.0], [0.5, 2.0, 1.0]])
    layer.forward(x)
    grad_x = layer.backward(g)
    np.testing.assert_allclose(layer.grad_weights, x.T @ g)
    np.testing.assert_allclose(layer.grad_bias, [1.5, 2.0, 0.0])
    np.testing.assert_allclose(grad_x, g @ layer.weights.T)


def test_dense_parameters_are_live_arrays():
    layer = ln.Dense(2, 2, seed=0)
    names = [p.name for p in layer.parameters()]
    assert names == ["weights", "bias"]
    layer.parameters()[0].value[0, 0] = 42.0
    assert layer.weights[0, 0] == 42.0
    layer.forward(np.ones((1, 2)))
    layer.backward(np.ones((1, 2)))
    assert layer.parameters()[0].grad is layer.grad_weights


def test_dense_shapes_follow_seed_002_convention():
    layer = ln.Dense(5, 3)
    assert layer.weights.shape == (5, 3)
    assert layer.bias.shape == (3,)
    assert layer.weights.dtype == np.float32


def test_dense_without_bias():
    layer = ln.Dense(2, 2, bias=False, seed=0)
    assert layer.bias is None
    assert [p.name for p in layer.parameters()] == ["weights"]
    np.testing.assert_allclose(layer.forward(np.zeros((3, 2))), 0.0)


@pytest.mark.parametrize(
    ("x_shape", "match"),
    [
        ((4, 2), r"dense: expected input of shape \(batch, 3\), got \(4, 2\)"),
        ((3,), r"got \(3,\) \(a single sample needs reshape\(1, -1\)\)"),
        ((2, 3, 1), r"got \(2, 3, 1\)"),
    ],
)
def test_dense_rejects_bad_input_shape(x_shape, match):
    with pytest.raises(ValueError, match=match):
        ln.Dense(3, 4).forward(np.zeros(x_shape))


@pytest.mark.parametrize("bad", [0, -1, 2.5, True, "3"])
def test_dense_rejects_bad_sizes(bad):
    with pytest.raises(ValueError, match="in_features must be an int >= 1"):
        ln.Dense(bad, 2)


def test_dense_rejects_bad_dtype_and_init():
    with pytest.raises(ValueError, match="dtype must be float32 or float64, got int32"):
        ln.Dense(2, 2, dtype=np.int32)
    with pytest.raises(ValueError, match=r"unknown initializer 'nope'; valid names: .*he_normal"):
        ln.Dense(2, 2, init="nope")


def test_dense_casts_input_to_its_dtype():
    layer = ln.Dense(2, 1, dtype=np.float32, seed=0)
    assert layer.forward(np.ones((1, 2), dtype=np.float64)).dtype == np.float32
    assert layer.forward(np.ones((1, 2), dtype=np.int64)).dtype == np.float32


def test_dense_same_seed_same_weights_different_seed_different():
    a, b, c = ln.Dense(4, 4, seed=7), ln.Dense(4, 4, seed=7), ln.Dense(4, 4, seed=8)
    np.testing.assert_array_equal(a.weights, b.weights)
    assert not np.array_equal(a.weights, c.weights)


def test_dense_astype_converts_every_array():
    layer = ln.Dense(2, 3, seed=0).astype(np.float64)
    assert all(
        p.value.dtype == np.float64 and p.grad.dtype == np.float64 for p in layer.parameters()
    )


def test_layer_names_default_to_snake_case():
    assert ln.LeakyReLU().name == "leaky_relu"
    assert ln.Dense(1, 1).name == "dense"
    assert ln.Dense(1, 1, name="hidden").name == "hidden"
    assert isinstance(ln.ReLU(), Layer)


@settings(max_examples=40, deadline=None)
@given(
    batch=st.integers(1, 6),
    n_in=st.integers(1, 5),
    n_out=st.integers(1, 5),
    seed=st.integers(0, 2**16),
)
def test_dense_property_shapes_and_gradients(batch, n_in, n_out, seed):
    rng = np.random.default_rng(seed)
    layer = ln.Dense(n_in, n_out, dtype=np.float64, seed=seed)
    x = rng.standard_normal((batch, n_in))
    y = layer.forward(x)
    assert y.shape == (batch, n_out)
    g = rng.standard_normal((batch, n_out))
    grad_x = layer.backward(g)
    # dL/dx for L = sum(y * g) is g @ W.T, and dL/dW = x.T @ g (no Python loop over samples)
    np.testing.assert_allclose(grad_x, g @ layer.weights.T, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(layer.grad_weights, x.T @ g, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(layer.grad_bias, g.sum(axis=0), rtol=1e-12, atol=1e-12)


def test_dense_rejects_initializer_of_wrong_shape_and_non_numeric_input():
    with pytest.raises(
        ValueError, match=r"initializer .* returned shape \(3, 2\), expected \(2, 3\)"
    ):
        ln.Dense(2, 3, init=lambda shape, rng, dtype: np.zeros((3, 2)))
    with pytest.raises(ValueError, match="dense: input must be numeric, got dtype <U1"):
        ln.Dense(2, 1).forward(np.array([["a", "b"]]))


# --- Dropout --------------------------------------------------------------------------


def test_dropout_is_identity_at_inference():
    x = np.random.default_rng(0).standard_normal((4, 6)).astype(np.float32)
    layer = ln.Dropout(0.5, seed=0)
    np.testing.assert_array_equal(layer.forward(x), x)
    np.testing.assert_array_equal(layer.backward(np.ones_like(x)), np.ones_like(x))


def test_dropout_training_zeroes_and_rescales():
    x = np.ones((200, 500), dtype=np.float32)
    y = ln.Dropout(0.3, seed=0).forward(x, training=True)
    assert y.dtype == np.float32
    kept = y != 0
    # survivors are scaled by 1 / (1 - 0.3) so that the mean stays 1
    np.testing.assert_allclose(y[kept], 1 / 0.7, rtol=1e-6)
    assert kept.mean() == pytest.approx(0.7, abs=0.01)
    assert y.mean() == pytest.approx(1.0, abs=0.02)


def test_dropout_backward_uses_the_same_mask():
    x = np.random.default_rng(1).standard_normal((5, 8))
    layer = ln.Dropout(0.5, seed=3)
    y = layer.forward(x, training=True)
    g = np.random.default_rng(2).standard_normal((5, 8))
    mask = np.where(y != 0, 2.0, 0.0)  # 1 / (1 - 0.5) where kept
    np.testing.assert_allclose(layer.backward(g), g * mask)


def test_dropout_seeded_masks_repeat_and_change_per_call():
    x = np.ones((3, 10))
    a, b = ln.Dropout(0.5, seed=7), ln.Dropout(0.5, seed=7)
    first = a.forward(x, training=True)
    np.testing.assert_array_equal(first, b.forward(x, training=True))
    assert not np.array_equal(first, a.forward(x, training=True))


def test_dropout_gradient_check_with_a_frozen_mask():
    x = np.random.default_rng(0).standard_normal((4, 5))
    layer = ln.Dropout(0.4, seed=0)
    layer.forward(x, training=True)
    layer.freeze_mask = True
    report = ln.gradcheck(layer, x, training=True)
    assert report.passed, str(report)
    model = ln.Sequential(
        [ln.Dense(5, 6, seed=0), ln.Tanh(), ln.Dropout(0.5, seed=1), ln.Dense(6, 2, seed=2)]
    )
    model.forward(x, training=True)
    model.layers[2].freeze_mask = True
    assert ln.gradcheck(model, x, training=True).passed


@pytest.mark.parametrize("rate", [-0.1, 1.0, 1.5, "half"])
def test_dropout_rejects_bad_rate(rate):
    with pytest.raises(ValueError, match="rate must be"):
        ln.Dropout(rate)


# --- L2 penalty -----------------------------------------------------------------------


def test_l2_penalty_value_and_gradient():
    layer = ln.Dense(2, 2, dtype=np.float64, l2=0.1, seed=0)
    layer.weights[:] = [[1.0, 2.0], [3.0, -1.0]]
    # 0.1 * (1 + 4 + 9 + 1) = 1.5
    assert layer.penalty() == pytest.approx(1.5)
    x, g = np.array([[1.0, 0.5]]), np.array([[0.25, -0.5]])
    # backward writes the data gradient only: the training step adds the penalty, once
    layer.forward(x)
    layer.backward(g)
    np.testing.assert_allclose(layer.grad_weights, x.T @ g)
    # through the training path: MSE with targets z - g has dL/dz = 2 g / 2 = g (two
    # elements) and the value mean(g^2) = (0.0625 + 0.25) / 2 = 0.15625, plus the penalty 1.5
    model = ln.Sequential([layer])
    y = model.predict(x) - g
    result = ln.loss_and_gradients(model, x, y, "mse")
    assert result.loss == pytest.approx(0.15625 + 1.5)
    np.testing.assert_allclose(layer.grad_weights, x.T @ g + 2 * 0.1 * layer.weights)


def test_l2_model_passes_gradient_check_with_and_without_loss():
    model = ln.Sequential(
        [ln.Dense(3, 4, l2=0.05, seed=0), ln.Tanh(), ln.Dense(4, 2, l2=0.2, seed=1)]
    )
    x = np.random.default_rng(0).standard_normal((5, 3))
    assert ln.gradcheck(model, x).passed
    assert ln.gradcheck(
        model, x, np.array([0, 1, 1, 0, 1]), ln.CrossEntropy(from_logits=True)
    ).passed


def test_l2_rejects_negative():
    with pytest.raises(ValueError, match=r"^dense: l2 must be a finite number >= 0, got -1$"):
        ln.Dense(2, 2, l2=-1)


def test_backward_without_input_grad_matches_backward():
    a, b = ln.Dense(3, 4, seed=0, dtype=np.float64), ln.Dense(3, 4, seed=0, dtype=np.float64)
    x = np.random.default_rng(0).standard_normal((5, 3))
    g = np.random.default_rng(1).standard_normal((5, 4))
    a.forward(x)
    b.forward(x)
    a.backward(g)
    assert b.backward(g, need_input_grad=False) is None
    np.testing.assert_array_equal(a.grad_weights, b.grad_weights)
    np.testing.assert_array_equal(a.grad_bias, b.grad_bias)


def test_dropout_and_dense_leave_their_inputs_unchanged():
    # the hot path multiplies and adds in place, into arrays the layer made itself
    rng = np.random.default_rng(4)
    x = rng.standard_normal((6, 3)).astype(np.float32)
    grad = rng.standard_normal((6, 3)).astype(np.float32)
    x_copy, grad_copy = x.copy(), grad.copy()
    drop = ln.Dropout(0.5, seed=1)
    y = drop.forward(x, training=True)
    g = drop.backward(grad)
    assert not np.shares_memory(y, x) and not np.shares_memory(g, grad)
    dense = ln.Dense(3, 2, seed=0)
    dense.forward(x)
    dense.backward(rng.standard_normal((6, 2)).astype(np.float32))
    np.testing.assert_array_equal(x, x_copy)
    np.testing.assert_array_equal(grad, grad_copy)


def test_dense_bias_gradient_is_the_batch_sum_for_every_batch_size():
    dense = ln.Dense(3, 2, seed=0)
    rng = np.random.default_rng(5)
    for rows in (4, 7, 4, 1):  # the cached vector of ones follows the batch size
        dense.forward(rng.standard_normal((rows, 3)).astype(np.float32))
        g = rng.standard_normal((rows, 2)).astype(np.float32)
        dense.backward(g)
        np.testing.assert_allclose(dense.grad_bias, g.sum(axis=0), rtol=1e-6, atol=1e-6)


def test_astype_converts_float_buffers_and_keeps_integer_ones():
    class Counter(ln.Layer):
        def __init__(self):
            super().__init__()
            self.add_buffer("mean", np.zeros(3, dtype=np.float32))
            self.add_buffer("seen", np.zeros((), dtype=np.int64))

    layer = Counter().astype(np.float64)
    assert layer.buffers()[0].value.dtype == np.float64
    assert layer.buffers()[1].value.dtype == np.int64
