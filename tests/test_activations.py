"""Tests of ``lucidnet.activations``: forward values, backward = grad * f'(z), gradcheck,
dtype, error messages and the ``get`` registry.

The derivatives are written out here, from the textbook formulas, and compared with what
``backward`` returns; Softmax's backward is compared with the explicit Jacobian
``diag(y) - y y^T`` built row by row.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

import lucidnet
from lucidnet import activations
from lucidnet.activations import Exp, Identity, LeakyReLU, ReLU, Sigmoid, Softmax, Step, Tanh

DTYPES = [np.float32, np.float64]
LN2, LN3 = math.log(2), math.log(3)


def all_activations() -> list[activations.Activation]:
    return [Step(), Identity(), Sigmoid(), Tanh(), ReLU(), LeakyReLU(alpha=0.2), Exp(), Softmax()]


def ids(layers: list[activations.Activation]) -> list[str]:
    return [repr(layer) for layer in layers]


# --- forward on hand-picked inputs --------------------------------------------------------


def test_step_forward() -> None:
    # 1 where z > 0, else 0: the step is 0 at z = 0 itself
    z = np.array([[-2.0, -1e-12, 0.0, 1e-12, 3.0]])
    np.testing.assert_array_equal(Step().forward(z), [[0, 0, 0, 1, 1]])


def test_identity_forward() -> None:
    z = np.array([[-2.5, 0.0, 7.0]])
    np.testing.assert_array_equal(Identity().forward(z), z)


def test_sigmoid_forward() -> None:
    # sigmoid(0) = 1/2, sigmoid(ln 3) = 1 / (1 + 1/3) = 3/4, sigmoid(-ln 3) = 1 / (1 + 3) = 1/4
    z = np.array([[0.0, LN3, -LN3]])
    np.testing.assert_allclose(Sigmoid().forward(z), [[0.5, 0.75, 0.25]], rtol=1e-15)


def test_tanh_forward() -> None:
    # tanh(ln 2) = (2 - 1/2) / (2 + 1/2) = 0.6; tanh(ln 3) = (3 - 1/3) / (3 + 1/3) = 0.8
    z = np.array([[0.0, LN2, -LN2, LN3]])
    np.testing.assert_allclose(Tanh().forward(z), [[0.0, 0.6, -0.6, 0.8]], rtol=1e-15, atol=0)


def test_relu_forward() -> None:
    z = np.array([[-2.0, 0.0, 0.5, 3.0]])
    np.testing.assert_array_equal(ReLU().forward(z), [[0.0, 0.0, 0.5, 3.0]])


def test_leaky_relu_forward() -> None:
    # z for z > 0, alpha z otherwise: -2 * 0.1 = -0.2
    z = np.array([[-2.0, 0.0, 0.5, 3.0]])
    np.testing.assert_allclose(LeakyReLU(alpha=0.1).forward(z), [[-0.2, 0.0, 0.5, 3.0]])
    assert LeakyReLU().alpha == 0.01  # the documented default


def test_exp_forward() -> None:
    # exp(0) = 1, exp(ln 2) = 2, exp(-ln 4) = 1/4, exp(ln 3) = 3
    z = np.array([[0.0, LN2, -2 * LN2, LN3]])
    np.testing.assert_allclose(Exp().forward(z), [[1.0, 2.0, 0.25, 3.0]], rtol=1e-15)


@pytest.mark.parametrize(("dtype", "big"), [(np.float32, 89.0), (np.float64, 710.0)])
def test_exp_overflows_to_inf_and_is_not_clipped(dtype: type, big: float) -> None:
    # exp(88.7) ~ 3.4e38 is float32's largest number, exp(709.8) ~ 1.8e308 float64's:
    # just above, the output is inf (training then raises TrainingDiverged), not a clipped max
    layer = Exp()
    z = np.array([[big, big - 2.0, -big]], dtype=dtype)
    with np.errstate(over="ignore"):
        y = layer.forward(z)
    assert y.dtype == dtype
    assert y[0, 0] == np.inf
    assert np.isfinite(y[0, 1]) and y[0, 1] == pytest.approx(math.exp(big - 2.0), rel=1e-6)
    assert y[0, 2] == pytest.approx(math.exp(-big), rel=1e-6, abs=1e-300)
    with np.errstate(over="ignore", invalid="ignore"):
        assert layer.backward(np.ones_like(z))[0, 0] == np.inf


def test_softmax_forward() -> None:
    # softmax([0, ln 3]) = [1, 3] / 4; softmax([0, ln 2, ln 5]) = [1, 2, 5] / 8
    np.testing.assert_allclose(Softmax().forward(np.array([[0.0, LN3]])), [[0.25, 0.75]])
    z = np.array([[0.0, LN2, math.log(5)], [7.0, 7.0, 7.0]])
    expected = [[0.125, 0.25, 0.625], [1 / 3, 1 / 3, 1 / 3]]
    np.testing.assert_allclose(Softmax().forward(z), expected, rtol=1e-15)


# --- backward = grad * f'(z) --------------------------------------------------------------

Z = np.array([[-2.0, -0.5, 0.0, 0.25, 1.5], [3.0, -1e-3, 2e-3, -4.0, 0.0]])


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-z))  # fine for the moderate z used here


DERIVATIVES = {
    # f'(z) of each elementwise activation, from the textbook formula
    "step": lambda z: np.zeros_like(z),  # flat on both sides of the jump
    "identity": lambda z: np.ones_like(z),
    "sigmoid": lambda z: _sigmoid(z) * (1 - _sigmoid(z)),
    "tanh": lambda z: 1 / np.cosh(z) ** 2,  # sech^2 z = 1 - tanh^2 z
    "relu": lambda z: np.where(z > 0, 1.0, 0.0),  # 0 at the kink z = 0
    "leaky_relu": lambda z: np.where(z > 0, 1.0, 0.2),  # alpha = 0.2 at and below the kink
    "exp": np.exp,  # its own derivative
}


def _make(name: str) -> activations.Activation:
    return LeakyReLU(alpha=0.2) if name == "leaky_relu" else activations.get(name)


@pytest.mark.parametrize("name", sorted(DERIVATIVES))
def test_backward_is_grad_times_derivative(name: str) -> None:
    layer = _make(name)
    grad = np.random.default_rng(1).normal(size=Z.shape)
    layer.forward(Z)
    np.testing.assert_allclose(layer.backward(grad), grad * DERIVATIVES[name](Z), rtol=1e-12)


def test_hand_worked_derivatives() -> None:
    # sigmoid'(0) = 1/2 * 1/2 = 0.25; sigmoid'(ln 3) = 3/4 * 1/4 = 0.1875
    s = Sigmoid()
    s.forward(np.array([[0.0, LN3]]))
    np.testing.assert_allclose(s.backward(np.ones((1, 2))), [[0.25, 0.1875]], rtol=1e-15)
    # tanh'(ln 2) = 1 - 0.6^2 = 0.64, times an incoming gradient of 2 -> 1.28
    t = Tanh()
    t.forward(np.array([[LN2]]))
    np.testing.assert_allclose(t.backward(np.array([[2.0]])), [[1.28]], rtol=1e-14)
    # exp'(ln 3) = 3, times an incoming gradient of -0.5 -> -1.5; exp'(0) = 1, times 4 -> 4
    e = Exp()
    e.forward(np.array([[LN3, 0.0]]))
    np.testing.assert_allclose(e.backward(np.array([[-0.5, 4.0]])), [[-1.5, 4.0]], rtol=1e-15)


def test_step_backward_is_all_zeros() -> None:
    layer = Step()
    layer.forward(np.array([[-1.0, 0.0, 2.0]]))
    out = layer.backward(np.array([[5.0, -3.0, 7.0]]))
    np.testing.assert_array_equal(out, np.zeros((1, 3)))


def test_relu_derivative_at_zero_is_zero() -> None:
    layer = ReLU()
    layer.forward(np.array([[0.0, 0.0, 1.0]]))
    np.testing.assert_array_equal(layer.backward(np.array([[4.0, -2.0, 3.0]])), [[0, 0, 3.0]])


def test_softmax_backward_equals_explicit_jacobian_product() -> None:
    rng = np.random.default_rng(2)
    z = rng.normal(size=(5, 4)) * 3
    g = rng.normal(size=(5, 4))
    layer = Softmax()
    y = layer.forward(z)
    expected = np.empty_like(z)
    for i in range(z.shape[0]):
        e = np.exp(z[i] - z[i].max())
        y_i = e / e.sum()
        jacobian = np.diag(y_i) - np.outer(y_i, y_i)  # dy_a/dz_b = y_a (delta_ab - y_b)
        expected[i] = jacobian.T @ g[i]  # dL/dz_b = sum_a dL/dy_a dy_a/dz_b
    np.testing.assert_allclose(y, np.exp(z) / np.exp(z).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(layer.backward(g), expected, rtol=1e-12, atol=1e-15)


# --- gradient check -----------------------------------------------------------------------


@pytest.mark.parametrize("layer", all_activations(), ids=ids(all_activations()))
def test_gradcheck_passes(layer: activations.Activation) -> None:
    rng = np.random.default_rng(3)
    # magnitudes in [0.01, 3], random signs: at least 1e-3 away from any kink, far beyond
    # gradcheck's step of 1e-6
    x = rng.uniform(0.01, 3.0, size=(4, 5)) * rng.choice([-1.0, 1.0], size=(4, 5))
    report = lucidnet.gradcheck(layer, x)
    assert report.passed, str(report)
    assert report.max_rel_error < 1e-6, str(report)


# --- dtype and errors ---------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layer", all_activations(), ids=ids(all_activations()))
def test_dtype_is_kept(layer: activations.Activation, dtype: type) -> None:
    x = np.array([[-1.5, 0.5, 2.0], [0.1, -0.2, 0.0]], dtype=dtype)
    y = layer.forward(x)
    assert y.dtype == dtype
    dx = layer.backward(np.ones_like(y))
    assert dx.dtype == dtype


@pytest.mark.parametrize("layer", all_activations(), ids=ids(all_activations()))
def test_backward_before_forward_raises(layer: activations.Activation) -> None:
    with pytest.raises(RuntimeError, match=re.escape(layer.name)):
        layer.backward(np.ones((2, 3)))


@pytest.mark.parametrize("cls", [Step, Identity, Sigmoid, Tanh, ReLU, LeakyReLU, Exp, Softmax])
def test_wrong_gradient_shape_names_the_layer(cls: type[activations.Activation]) -> None:
    layer = cls(name="output_act")
    layer.forward(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="output_act") as err:
        layer.backward(np.ones((3, 2)))
    assert "(2, 3)" in str(err.value) and "(3, 2)" in str(err.value)
    # the default name (derived from the class) is named too
    default = cls()
    default.forward(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=re.escape(default.name)):
        default.backward(np.ones((2, 4)))


@pytest.mark.parametrize("alpha", [-1.0, -1e-9, float("nan"), float("inf")])
def test_leaky_relu_rejects_bad_alpha(alpha: float) -> None:
    with pytest.raises(ValueError, match="alpha"):
        LeakyReLU(alpha=alpha)


# --- registry -----------------------------------------------------------------------------

NAMES = {
    "step": Step,
    "heaviside": Step,
    "identity": Identity,
    "linear": Identity,
    "sigmoid": Sigmoid,
    "logistic": Sigmoid,
    "tanh": Tanh,
    "relu": ReLU,
    "leaky_relu": LeakyReLU,
    "exp": Exp,
    "softmax": Softmax,
}


@pytest.mark.parametrize(("name", "cls"), sorted(NAMES.items()))
def test_get_by_name_is_case_insensitive(name: str, cls: type) -> None:
    for spelling in (name, name.upper(), name.title()):
        layer = activations.get(spelling)
        assert type(layer) is cls


def test_get_returns_a_fresh_instance_per_name() -> None:
    first, second = activations.get("relu"), activations.get("relu")
    assert first is not second


def test_get_passes_instances_through_and_maps_none_to_identity() -> None:
    layer = LeakyReLU(alpha=0.3)
    assert activations.get(layer) is layer
    assert type(activations.get(None)) is Identity


def test_registry_lists_the_names() -> None:
    assert sorted(activations.names()) == sorted(NAMES)


@pytest.mark.parametrize("bad", ["swish", "", 3, 1.5, ReLU])
def test_get_rejects_unknown_values_and_lists_names(bad: object) -> None:
    with pytest.raises(ValueError) as err:
        activations.get(bad)  # type: ignore[arg-type]
    message = str(err.value)
    assert repr(bad) in message
    for name in NAMES:
        assert name in message


@pytest.mark.parametrize("make", [Sigmoid, Identity, Softmax, ReLU, Exp])
def test_float64_gradient_into_float32_layer_stays_float32(make) -> None:
    layer = make()
    layer.forward(np.ones((2, 3), dtype=np.float32))
    assert layer.backward(np.ones((2, 3), dtype=np.float64)).dtype == np.float32


@pytest.mark.parametrize("layer", all_activations(), ids=ids(all_activations()))
def test_backward_leaves_its_inputs_and_the_cached_output_unchanged(
    layer: activations.Activation,
) -> None:
    # backward multiplies in place into the derivative it made, never into these
    rng = np.random.default_rng(3)
    x = rng.standard_normal((5, 4)).astype(np.float32)
    grad = rng.standard_normal((5, 4)).astype(np.float32)
    x_copy, grad_copy = x.copy(), grad.copy()
    y = layer.forward(x)
    y_copy = y.copy()
    first = layer.backward(grad)
    np.testing.assert_array_equal(x, x_copy)
    np.testing.assert_array_equal(grad, grad_copy)
    np.testing.assert_array_equal(y, y_copy)
    np.testing.assert_array_equal(layer.backward(grad), first)  # repeatable


# --- Exp, the output of a Poisson regression ----------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
def test_exp_backward_in_each_dtype_matches_central_differences(dtype: type) -> None:
    # objective sum(g * exp(z)): its derivative is g exp(z), here by central differences
    # in float64 (relative error ~h^2 / 6); the float32 backward is within its rounding of
    # z (|z| 6e-8) and of exp
    rng = np.random.default_rng(8)
    z = rng.uniform(-6.0, 6.0, size=(4, 5))
    g = rng.normal(size=(4, 5))
    layer = Exp()
    layer.forward(z.astype(dtype))
    got = layer.backward(g.astype(dtype))
    assert got.dtype == dtype
    h = 1e-6
    numeric = g * (np.exp(z + h) - np.exp(z - h)) / (2 * h)
    np.testing.assert_allclose(got, numeric, rtol=2e-6 if dtype == np.float32 else 1e-8)


def test_exp_gradcheck_over_a_wide_range() -> None:
    # exp changes by orders of magnitude over [-8, 8]: the relative check holds throughout
    x = np.linspace(-8.0, 8.0, 24).reshape(4, 6)
    report = lucidnet.gradcheck(Exp(), x)
    assert report.passed, str(report)


@pytest.mark.parametrize("dtype", DTYPES)
def test_a_model_ending_in_exp_saves_and_loads(dtype: type, tmp_path) -> None:
    rng = np.random.default_rng(9)
    x = rng.normal(size=(32, 3)).astype(dtype)
    y = rng.poisson(np.exp(x @ np.array([[0.3], [-0.2], [0.5]]))).astype(dtype)
    model = lucidnet.Sequential([lucidnet.Dense(3, 1, seed=0, dtype=dtype), Exp()])
    model.compile("poisson", lucidnet.Adam(0.01))
    model.fit(x, y, epochs=2, batch_size=8, verbose=0, seed=0)
    path = tmp_path / "poisson.lucid"
    lucidnet.save(model, path)
    loaded = lucidnet.load(path)
    assert [type(layer) for layer in loaded.layers] == [lucidnet.Dense, Exp]
    assert type(loaded.loss) is lucidnet.Poisson and not loaded.loss.from_log
    assert loaded.predict(x).dtype == dtype
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    assert loaded.evaluate(x, y) == model.evaluate(x, y)
    # training continues identically from the file (Adam's moments included)
    model.fit(x, y, epochs=3, batch_size=8, verbose=0, seed=0, initial_epoch=2)
    loaded.fit(x, y, epochs=3, batch_size=8, verbose=0, seed=0, initial_epoch=2)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
