"""layers/batchnorm.py: batch statistics in training, running statistics (PyTorch's
momentum, unbiased variance) at inference, and the compact backward against a loop over
the Jacobian of the normalization."""

import numpy as np
import pytest

import lucidnet as ln

EPS = 1e-5


def _layer(features, seed, **kwargs):
    """A float64 BatchNorm with gamma and beta away from 1 and 0."""
    layer = ln.BatchNorm(features, dtype=np.float64, **kwargs)
    rng = np.random.default_rng(seed)
    layer.parameter("gamma").assign(rng.uniform(0.5, 2.0, features) * rng.choice([-1, 1], features))
    layer.parameter("beta").assign(rng.standard_normal(features))
    return layer


def _per_feature(x):
    """The m values of each feature as columns: (m, F)."""
    return x.reshape(-1, x.shape[-1])


@pytest.mark.parametrize("shape", [(16, 3), (4, 5, 6, 3), (2, 7, 3)])
def test_training_output_has_mean_0_and_variance_1_per_feature(shape):
    rng = np.random.default_rng(0)
    x = rng.normal([3.0, -2.0, 0.5], [2.0, 0.1, 5.0], shape)  # each feature its own scale
    layer = ln.BatchNorm(3, dtype=np.float64)
    y = _per_feature(layer.forward(x, training=True))
    var = _per_feature(x).var(axis=0)
    np.testing.assert_allclose(y.mean(axis=0), 0, atol=1e-12)
    # 1 up to the eps in the denominator: var(y) = var / (var + eps)
    np.testing.assert_allclose(y.var(axis=0), var / (var + EPS), rtol=1e-12)
    # with gamma and beta: mean beta, standard deviation |gamma|
    layer = _layer(3, seed=1)
    y = _per_feature(layer.forward(x, training=True))
    np.testing.assert_allclose(y.mean(axis=0), layer.parameter("beta").value, atol=1e-12)
    np.testing.assert_allclose(
        y.std(axis=0), np.abs(layer.parameter("gamma").value) * np.sqrt(var / (var + EPS))
    )


def test_float32_training_output_is_normalized_too():
    x = np.random.default_rng(2).normal(100.0, 3.0, (4, 5, 5, 2))
    y = _per_feature(ln.BatchNorm(2).forward(x, training=True))
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(y.var(axis=0), 1, atol=1e-4)


@pytest.mark.parametrize("momentum", [0.1, 0.3, 1.0])
@pytest.mark.parametrize("shape", [(8, 3), (2, 3, 4, 3)])
def test_running_statistics_after_two_batches(shape, momentum):
    rng = np.random.default_rng(3)
    layer = ln.BatchNorm(3, momentum=momentum, dtype=np.float64)
    x1 = rng.normal(2.0, 3.0, shape)
    x2 = rng.normal(-1.0, 0.5, shape)
    layer.forward(x1, training=True)
    layer.forward(x2, training=True)
    # by hand: start at mean 0, variance 1; each batch has weight momentum; the variance
    # of the batch is the unbiased one (divided by m - 1), PyTorch's convention
    mean, var = np.zeros(3), np.ones(3)
    for x in (x1, x2):
        rows = _per_feature(x)
        m = len(rows)
        batch_mean = rows.sum(axis=0) / m
        batch_var = ((rows - batch_mean) ** 2).sum(axis=0) / (m - 1)
        mean = (1 - momentum) * mean + momentum * batch_mean
        var = (1 - momentum) * var + momentum * batch_var
    running_mean, running_var = (b.value for b in layer.buffers())
    np.testing.assert_allclose(running_mean, mean, rtol=1e-12)
    np.testing.assert_allclose(running_var, var, rtol=1e-12)
    assert [b.name for b in layer.buffers()] == ["running_mean", "running_var"]


def test_inference_uses_the_running_statistics_and_leaves_them():
    rng = np.random.default_rng(4)
    layer = _layer(3, seed=5)
    layer.forward(rng.normal(1.0, 2.0, (10, 3)), training=True)
    mean, var = (b.value.copy() for b in layer.buffers())
    gamma, beta = layer.parameter("gamma").value, layer.parameter("beta").value
    x = rng.standard_normal((4, 2, 2, 3))
    y = layer.forward(x, training=False)
    for index in np.ndindex(x.shape):
        f = index[-1]
        expected = gamma[f] * (x[index] - mean[f]) / np.sqrt(var[f] + EPS) + beta[f]
        assert y[index] == pytest.approx(expected, rel=1e-12, abs=1e-12)
    np.testing.assert_array_equal(layer.buffers()[0].value, mean)  # unchanged
    np.testing.assert_array_equal(layer.buffers()[1].value, var)
    # a prediction does not depend on the rest of the batch
    np.testing.assert_array_equal(layer.forward(x[1:2]), y[1:2])


def _jacobian_backward(x, g, gamma, eps):
    """dL/dx, dL/dgamma, dL/dbeta by the chain rule written per feature, without the
    compact form: with x_hat_k = (x_k - mu) / s and s = sqrt(var + eps),

        d x_hat_k / d x_i = ((i == k) - 1/m) / s - x_hat_k x_hat_i / (m s)

    (mu and var depend on every x_i: d mu/d x_i = 1/m, d s/d x_i = (x_i - mu)/(m s)),
    and dL/dx_i = sum_k g_k gamma d x_hat_k / d x_i."""
    rows, grads = _per_feature(x), _per_feature(g)
    m, features = rows.shape
    dx, dgamma, dbeta = np.zeros(rows.shape), np.zeros(features), np.zeros(features)
    for f in range(features):
        mu = sum(rows[k, f] for k in range(m)) / m
        s = np.sqrt(sum((rows[k, f] - mu) ** 2 for k in range(m)) / m + eps)
        x_hat = [(rows[k, f] - mu) / s for k in range(m)]
        for k in range(m):
            dgamma[f] += grads[k, f] * x_hat[k]
            dbeta[f] += grads[k, f]
        for i in range(m):
            for k in range(m):
                jac = ((i == k) - 1 / m) / s - x_hat[k] * x_hat[i] / (m * s)
                dx[i, f] += grads[k, f] * gamma[f] * jac
    return dx.reshape(x.shape), dgamma, dbeta


@pytest.mark.parametrize("shape", [(5, 3), (2, 3, 2, 3), (3, 1, 1, 3)])
def test_training_backward_matches_the_jacobian_loops(shape):
    rng = np.random.default_rng(6)
    layer = _layer(3, seed=7)
    x = rng.normal(1.0, 2.0, shape)
    y = layer.forward(x, training=True)
    g = rng.standard_normal(y.shape)
    dx = layer.backward(g)
    gamma = layer.parameter("gamma").value
    dx_ref, dgamma, dbeta = _jacobian_backward(x, g, gamma, EPS)
    assert dx.shape == x.shape
    np.testing.assert_allclose(dx, dx_ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(layer.parameter("gamma").grad, dgamma, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(layer.parameter("beta").grad, dbeta, rtol=1e-12, atol=1e-12)
    # each feature's input gradient sums to 0: shifting a feature's inputs changes nothing
    np.testing.assert_allclose(_per_feature(dx).sum(axis=0), 0, atol=1e-12)


def _compact_reference(x, g, gamma, beta, eps):
    """Forward and training backward in float64 by the docstring's formulas, vectorized."""
    rows, grads = _per_feature(x).astype(np.float64), _per_feature(g).astype(np.float64)
    m = len(rows)
    mu = rows.mean(axis=0)
    var = ((rows - mu) ** 2).mean(axis=0)
    x_hat = (rows - mu) / np.sqrt(var + eps)
    y = gamma * x_hat + beta
    sum_g, sum_g_xhat = grads.sum(axis=0), (grads * x_hat).sum(axis=0)
    dx = gamma / np.sqrt(var + eps) / m * (m * grads - sum_g - x_hat * sum_g_xhat)
    return y.reshape(x.shape), dx.reshape(x.shape), sum_g_xhat, sum_g, mu, var


@pytest.mark.parametrize("shape", [(5, 50, 50, 3), (4, 30, 30, 64)])
def test_large_batches_match_the_formulas(shape):
    """Batches of many slices of rows (the layer works slice by slice) against the
    formulas evaluated directly."""
    rng = np.random.default_rng(11)
    layer = _layer(shape[-1], seed=12)
    x = rng.normal(rng.normal(0, 3, shape[-1]), rng.uniform(0.1, 4, shape[-1]), shape)
    g = rng.standard_normal(shape)
    gamma, beta = layer.parameter("gamma").value, layer.parameter("beta").value
    y_ref, dx_ref, dgamma, dbeta, _, _ = _compact_reference(x, g, gamma, beta, EPS)
    np.testing.assert_allclose(layer.forward(x, training=True), y_ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(layer.backward(g), dx_ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(layer.parameter("gamma").grad, dgamma, rtol=1e-10)
    np.testing.assert_allclose(layer.parameter("beta").grad, dbeta, rtol=1e-10)


@pytest.mark.parametrize("shape", [(8, 6, 6, 4), (64, 16, 16, 4)])
def test_float32_with_a_large_mean_and_a_small_spread(shape):
    """Mean 1000, standard deviation 0.01: float32 holds 1000 to about 6e-5, so the
    statistics must not come from sums of x itself (the mean's rounding alone would
    shift x_hat by about 0.02, and x^2 - mu^2 would lose the variance). Forward,
    backward and running statistics against float64 on the same float32 values."""
    rng = np.random.default_rng(13)
    x = rng.normal(1000.0, 0.01, shape).astype(np.float32)
    x_hat_ref = (x.astype(np.float64) - 1000.0) / 0.01  # about N(0, 1), for g below
    g = (rng.standard_normal(shape) + 0.5 * x_hat_ref).astype(np.float32)
    layer = ln.BatchNorm(4, momentum=1.0)  # float32; running statistics = the batch's
    gamma, beta = np.array([1.0, 2.0, -0.5, 0.25]), np.array([0.0, 1.0, 0.0, -1.0])
    layer.parameter("gamma").assign(gamma)
    layer.parameter("beta").assign(beta)
    y_ref, dx_ref, dgamma, dbeta, mu, var = _compact_reference(x, g, gamma, beta, EPS)
    y = layer.forward(x, training=True)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y, y_ref, atol=2e-4)
    z = _per_feature((y - beta) / gamma)
    np.testing.assert_allclose(z.mean(axis=0, dtype=np.float64), 0, atol=1e-5)
    np.testing.assert_allclose(z.var(axis=0, dtype=np.float64), var / (var + EPS), rtol=1e-4)
    dx = layer.backward(g)
    assert dx.dtype == np.float32
    np.testing.assert_allclose(dx, dx_ref, atol=1e-4 * np.abs(dx_ref).max())
    np.testing.assert_allclose(layer.parameter("gamma").grad, dgamma, rtol=1e-4)
    np.testing.assert_allclose(layer.parameter("beta").grad, dbeta, rtol=1e-4)
    m = len(_per_feature(x))
    running_mean, running_var = (b.value for b in layer.buffers())
    np.testing.assert_allclose(running_mean, mu, rtol=1e-7)
    np.testing.assert_allclose(running_var, var * m / (m - 1), rtol=1e-4)


def test_inference_backward_treats_the_statistics_as_constants():
    rng = np.random.default_rng(8)
    layer = _layer(2, seed=9)
    layer.forward(rng.normal(0.0, 3.0, (6, 2)), training=True)
    mean, var = (b.value for b in layer.buffers())
    gamma = layer.parameter("gamma").value
    x = rng.standard_normal((3, 4, 2))
    layer.forward(x, training=False)
    g = rng.standard_normal(x.shape)
    dx = layer.backward(g)
    np.testing.assert_allclose(dx, g * gamma / np.sqrt(var + EPS), rtol=1e-12)
    x_hat = (x - mean) / np.sqrt(var + EPS)
    np.testing.assert_allclose(
        layer.parameter("gamma").grad, (g * x_hat).sum(axis=(0, 1)), rtol=1e-12
    )
    np.testing.assert_allclose(layer.parameter("beta").grad, g.sum(axis=(0, 1)), rtol=1e-12)
    assert layer.backward(g, need_input_grad=False) is None


@pytest.mark.parametrize("shape", [(1, 3), (1, 1, 1, 3), (1, 1, 3)])
def test_training_on_one_value_per_feature_is_refused(shape):
    layer = ln.BatchNorm(3, name="bn")
    before = [b.value.copy() for b in layer.buffers()]
    with pytest.raises(ValueError, match=r"bn: training needs more than one value per feature"):
        layer.forward(np.ones(shape), training=True)
    for b, old in zip(layer.buffers(), before, strict=True):
        np.testing.assert_array_equal(b.value, old)  # nothing moved
    assert layer.forward(np.ones(shape), training=False).shape == shape  # inference may
    assert layer.forward(np.ones((1, 2, 1, 3)), training=True).shape == (1, 2, 1, 3)  # m = 2


def test_wrong_features_and_channels_first_are_refused():
    layer = ln.BatchNorm(3, name="bn")
    with pytest.raises(ValueError, match=r"bn: .*\(batch, \.\.\., 3\).*receives \(batch, 4\)"):
        layer.output_shape((4,))
    with pytest.raises(ValueError, match=r"bn: .*receives \(batch, 5, 5, 4\)"):
        layer.forward(np.zeros((2, 5, 5, 4)))
    with pytest.raises(ValueError, match=r"bn: .*channels first.*x\.transpose\(0, 2, 3, 1\)"):
        layer.forward(np.zeros((2, 3, 8, 8)))
    with pytest.raises(ValueError, match="bn"):
        layer.forward(np.zeros(3))
    assert layer.output_shape((8, 8, 3)) == (8, 8, 3) and layer.output_shape(None) is None


def test_backward_checks_the_gradient_shape():
    layer = ln.BatchNorm(3, name="bn")
    with pytest.raises(RuntimeError, match="bn: backward called before forward"):
        layer.backward(np.ones((2, 3)))
    layer.forward(np.ones((2, 4, 4, 3)), training=True)
    for bad in [(2, 4, 4, 2), (32, 3), (2, 16, 3), (2, 4, 4, 3, 1)]:
        with pytest.raises(
            ValueError, match=r"bn: backward expected a gradient of shape \(2, 4, 4, 3\)"
        ):
            layer.backward(np.ones(bad))


@pytest.mark.parametrize(
    ("kwargs", "what"),
    [
        ({"features": 0}, "features"),
        ({"features": 2.5}, "features"),
        ({"features": True}, "features"),
        ({"momentum": 0.0}, "momentum"),
        ({"momentum": 1.5}, "momentum"),
        ({"eps": 0.0}, "eps"),
        ({"eps": float("nan")}, "eps"),
    ],
)
def test_bad_arguments_raise_naming_the_layer(kwargs, what):
    with pytest.raises(ValueError, match=rf"bn: {what} must be"):
        ln.BatchNorm(**{"features": 3, "name": "bn", **kwargs})


def test_config_round_trip_and_array_shapes():
    layer = ln.BatchNorm(5, momentum=0.2, eps=1e-3, dtype=np.float64, name="bn")
    twin = ln.BatchNorm.from_config(layer.get_config())
    assert twin.get_config() == layer.get_config()
    assert twin.dtype == np.float64
    assert ln.BatchNorm.array_shapes(layer.get_config()) == {
        "gamma": (5,),
        "beta": (5,),
        "running_mean": (5,),
        "running_var": (5,),
    }


def test_in_a_model_fit_moves_the_statistics_and_predict_uses_them():
    rng = np.random.default_rng(10)
    x = rng.normal(5.0, 2.0, (32, 4, 4, 2)).astype(np.float32)
    y = (x.mean(axis=(1, 2, 3)) > 5.0).astype(np.int64)
    model = ln.Sequential(
        [ln.BatchNorm(2), ln.Flatten(), ln.Dense(32, 2, seed=0), ln.Softmax()],
        input_shape=(4, 4, 2),
    )
    model.compile("cross_entropy", ln.SGD(0.01))
    model.fit(x, y, epochs=3, batch_size=8, verbose=0, seed=0)
    mean, var = (b.value for b in model.layers[0].buffers())
    # 12 batches of momentum 0.1 from (0, 1): most of the way to the data's (5, 4)
    assert np.all((mean > 3.0) & (mean < 5.5)) and np.all((var > 2.5) & (var < 5.0))
    first = model.layers[0].forward(x[:1], training=False)
    expected = (x[:1] - mean) / np.sqrt(var + EPS) * model.layers[0].parameter("gamma").value
    expected += model.layers[0].parameter("beta").value
    np.testing.assert_allclose(first, expected, rtol=1e-5, atol=1e-5)
    # the same prediction alone as in a batch (up to float32 rounding of the product)
    np.testing.assert_allclose(model.predict(x[:1]), model.predict(x)[:1], rtol=1e-6)
