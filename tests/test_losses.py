"""Tests of ``lucidnet.losses``: values worked by hand, gradients by gradcheck, stability of
the logits forms, label and shape errors, dtypes, the fused output pairs and ``get``.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

import lucidnet
from lucidnet import losses
from lucidnet.activations import Exp, Identity, Sigmoid, Softmax
from lucidnet.layers import Dense
from lucidnet.losses import MSE, BinaryCrossEntropy, CrossEntropy, Poisson, fused_logits_loss
from lucidnet.model import Sequential

DTYPES = [np.float32, np.float64]
HUGE = 3e38  # close to float32's largest number, 3.4028235e38


# --- values worked by hand ----------------------------------------------------------------


def test_mse_hand_worked() -> None:
    # seed 003's formula 1/n sum (y - y_hat)^2: y = [1, 0], y_hat = [0.8, 0.3]
    # differences y_hat - y = [-0.2, 0.3]; (0.04 + 0.09) / 2 = 0.065
    # gradient 2 (y_hat - y) / n = [-0.2, 0.3]
    p, y = np.array([[0.8], [0.3]]), np.array([[1.0], [0.0]])
    value, grad = MSE().value_and_gradient(y, p)
    assert value == pytest.approx(0.065, rel=1e-14)
    np.testing.assert_allclose(grad, [[-0.2], [0.3]], rtol=1e-14)


def test_mse_averages_over_every_element() -> None:
    # differences [[0, 2], [3, 0]] over 4 elements: (0 + 4 + 9 + 0) / 4 = 3.25;
    # gradient 2 d / 4 = [[0, 1], [1.5, 0]]
    p, y = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[1.0, 0.0], [0.0, 4.0]])
    value, grad = MSE().value_and_gradient(y, p)
    assert value == pytest.approx(3.25, rel=1e-15)
    np.testing.assert_allclose(grad, [[0.0, 1.0], [1.5, 0.0]], rtol=1e-15)


def test_bce_hand_worked() -> None:
    # p = 0.8, y = 1: -(1 ln 0.8 + 0 ln 0.2) = -ln 0.8 = 0.22314...
    assert BinaryCrossEntropy()(np.array([[1.0]]), np.array([[0.8]])) == pytest.approx(
        -math.log(0.8), rel=1e-14
    )
    # batch p = [0.8, 0.4], y = [1, 0]: (-ln 0.8 - ln 0.6) / 2 = 0.36698...
    # gradient (p - y) / (p (1 - p)) / n: -0.2 / 0.16 / 2 = -0.625 (= -1 / 0.8 / 2)
    #                                      0.4 / 0.24 / 2 = 0.8333... (= 1 / 0.6 / 2)
    p, y = np.array([[0.8], [0.4]]), np.array([[1.0], [0.0]])
    value, grad = BinaryCrossEntropy().value_and_gradient(y, p)
    assert value == pytest.approx((-math.log(0.8) - math.log(0.6)) / 2, rel=1e-14)
    np.testing.assert_allclose(grad, [[-0.625], [1 / 0.6 / 2]], rtol=1e-14)


def test_bce_from_logits_hand_worked() -> None:
    # z = ln 4 gives p = 1 / (1 + 1/4) = 0.8; the loss is softplus(z) - y z
    # = ln(1 + 4) - ln 4 = ln 1.25 = -ln 0.8 (the probability example above);
    # gradient sigmoid(z) - y = 0.8 - 1 = -0.2
    z = np.array([[math.log(4)]])
    value, grad = BinaryCrossEntropy(from_logits=True).value_and_gradient(np.array([[1.0]]), z)
    assert value == pytest.approx(-math.log(0.8), rel=1e-14)
    np.testing.assert_allclose(grad, [[-0.2]], rtol=1e-14)


def test_crossentropy_hand_worked() -> None:
    # p = [[0.25, 0.75], [0.5, 0.5]], labels [1, 0]: (-ln 0.75 - ln 0.5) / 2 = 0.49041...
    # gradient -y / p / batch: row 0 [0, -1 / 0.75 / 2], row 1 [-1 / 0.5 / 2, 0]
    p = np.array([[0.25, 0.75], [0.5, 0.5]])
    value, grad = CrossEntropy().value_and_gradient(np.array([1, 0]), p)
    assert value == pytest.approx((-math.log(0.75) - math.log(0.5)) / 2, rel=1e-14)
    np.testing.assert_allclose(grad, [[0.0, -2 / 3], [-1.0, 0.0]], rtol=1e-14)


def test_crossentropy_from_logits_hand_worked() -> None:
    # logits [[0, ln 3], [0, 0]] have softmax [[0.25, 0.75], [0.5, 0.5]]: the example above;
    # gradient (softmax - y) / batch = [[0.25, -0.25], [-0.5, 0.5]] / 2
    z = np.array([[0.0, math.log(3)], [0.0, 0.0]])
    value, grad = CrossEntropy(from_logits=True).value_and_gradient(np.array([1, 0]), z)
    assert value == pytest.approx((-math.log(0.75) - math.log(0.5)) / 2, rel=1e-14)
    np.testing.assert_allclose(grad, [[0.125, -0.125], [-0.25, 0.25]], rtol=1e-14)


def test_call_and_gradient_agree_with_value_and_gradient() -> None:
    p, y = np.array([[0.3, 0.7], [0.6, 0.4]]), np.array([1, 0])
    loss = CrossEntropy()
    value, grad = loss.value_and_gradient(y, p)
    assert isinstance(loss(y, p), float)
    assert loss(y, p) == value
    np.testing.assert_array_equal(loss.gradient(y, p), grad)


# --- gradients by central differences -----------------------------------------------------


def _cases() -> list[tuple[str, losses.Loss, np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(0)
    probs = rng.uniform(0.1, 0.9, size=(4, 3))  # away from the clipping at eps and 1 - eps
    logits = rng.normal(size=(4, 3)) * 2
    labels = np.array([0, 2, 1, 2])
    onehot = np.eye(3)[labels]
    binary = rng.integers(0, 2, size=(4, 3)).astype(float)
    soft = rng.uniform(0, 1, size=(4, 3))
    counts = np.array([[0, 1, 3], [2, 0, 0], [1, 5, 2], [0, 1, 7]], dtype=float)  # with zeros
    return [
        ("mse", MSE(), rng.normal(size=(4, 3)), rng.normal(size=(4, 3))),
        ("mse (n,) targets", MSE(), rng.normal(size=(5, 1)), rng.normal(size=5)),
        ("bce", BinaryCrossEntropy(), probs, binary),
        ("bce soft targets", BinaryCrossEntropy(), probs, soft),
        ("bce logits", BinaryCrossEntropy(from_logits=True), logits, binary),
        ("ce labels", CrossEntropy(), probs, labels),
        ("ce one-hot", CrossEntropy(), probs, onehot),
        ("ce logits labels", CrossEntropy(from_logits=True), logits, labels),
        ("ce logits one-hot", CrossEntropy(from_logits=True), logits, onehot),
        ("poisson", Poisson(), np.exp(logits / 2), counts),
        ("poisson fractional targets", Poisson(), np.exp(logits / 2), soft * 3),
        ("poisson log", Poisson(from_log=True), logits / 2, counts),
    ]


@pytest.mark.parametrize(
    ("loss", "p", "y"), [c[1:] for c in _cases()], ids=[c[0] for c in _cases()]
)
def test_gradcheck_passes(loss: losses.Loss, p: np.ndarray, y: np.ndarray) -> None:
    # Identity has no parameters and passes its gradient through: the input gradient
    # checked here is dL/dp itself.
    report = lucidnet.gradcheck(Identity(), p, y, loss)
    assert report.passed, str(report)
    assert report.max_rel_error < 1e-6, str(report)


# --- stability of the logits forms --------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("big", [1e4, HUGE])
def test_crossentropy_from_logits_is_stable(dtype: type, big: float) -> None:
    loss = CrossEntropy(from_logits=True)
    z = np.array([[big, -big]], dtype=dtype)
    # label 0: -log_softmax(z)_0 = ln(1 + e^(-2 big)) ≈ 0; gradient softmax - y = [0, 0]
    value, grad = loss.value_and_gradient(np.array([0]), z)
    assert value == pytest.approx(0.0, abs=1e-30)
    np.testing.assert_array_equal(grad, np.zeros((1, 2), dtype=dtype))
    # label 1: -log_softmax(z)_1 = 2 big + ln(1 + e^(-2 big)) ≈ 2 big; gradient [1, -1]
    value, grad = loss.value_and_gradient(np.array([1]), z)
    if 2 * big <= float(np.finfo(dtype).max):
        assert value == pytest.approx(2 * big, rel=1e-6)
    else:  # 6e38 is not representable in float32: the rounded value is inf
        assert value > float(np.finfo(dtype).max)
    np.testing.assert_array_equal(grad, np.array([[1.0, -1.0]], dtype=dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_crossentropy_from_logits_at_the_dtype_limit(dtype: type) -> None:
    # logits [0.9 max, -0.9 max]: the difference overflows to -inf inside log_softmax, but
    # label 0 still loses ln(1 + e^(-1.8 max)) ≈ 0 and its gradient is [0, 0]
    big = 0.9 * float(np.finfo(dtype).max)
    z = np.array([[big, -big]], dtype=dtype)
    value, grad = CrossEntropy(from_logits=True).value_and_gradient(np.array([0]), z)
    assert value == pytest.approx(0.0, abs=1e-30)
    np.testing.assert_array_equal(grad, np.zeros((1, 2), dtype=dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("big", [1e4, HUGE])
def test_bce_from_logits_is_stable_per_element(dtype: type, big: float) -> None:
    loss = BinaryCrossEntropy(from_logits=True)
    # softplus(z) - y z: z = big, y = 1 -> ln(1 + e^-big) ≈ 0, gradient sigmoid(z) - y = 0
    #                    z = big, y = 0 -> big + ln(1 + e^-big) ≈ big, gradient 1
    #                    z = -big, y = 0 -> ≈ 0, gradient 0; z = -big, y = 1 -> ≈ big, gradient -1
    for z, y, expected, expected_grad in [
        (big, 1.0, 0.0, 0.0),
        (big, 0.0, big, 1.0),
        (-big, 0.0, 0.0, 0.0),
        (-big, 1.0, big, -1.0),
    ]:
        value, grad = loss.value_and_gradient(np.array([[y]]), np.array([[z]], dtype=dtype))
        assert value == pytest.approx(expected, rel=1e-6, abs=1e-30)
        np.testing.assert_array_equal(grad, np.array([[expected_grad]], dtype=dtype))


# The mean of representable per-sample losses is representable, so it must be finite.


@pytest.mark.parametrize("dtype", DTYPES)
def test_bce_from_logits_mean_of_huge_losses_is_finite(dtype: type) -> None:
    # four elements with losses [0, 3e38, 0, 3e38] (see the per-element test): the mean
    # 1.5e38 is below float32's largest number 3.4e38, although the sum 6e38 is not
    z = np.array([[HUGE], [HUGE], [-HUGE], [-HUGE]], dtype=dtype)
    value, grad = BinaryCrossEntropy(from_logits=True).value_and_gradient([1, 0, 0, 1], z)
    assert value == pytest.approx(HUGE / 2, rel=1e-6)
    np.testing.assert_allclose(grad, np.array([[0.0], [1.0], [0.0], [-1.0]]) / 4)


@pytest.mark.parametrize("dtype", DTYPES)
def test_crossentropy_from_logits_mean_of_huge_losses_is_finite(dtype: type) -> None:
    # two rows [1e38, -1e38] with label 1: each loses 2e38 (the sum 4e38 is not
    # representable in float32, the mean 2e38 is)
    z = np.array([[1e38, -1e38], [1e38, -1e38]], dtype=dtype)
    value, grad = CrossEntropy(from_logits=True).value_and_gradient([1, 1], z)
    assert value == pytest.approx(2e38, rel=1e-6)
    np.testing.assert_allclose(grad, np.array([[1.0, -1.0], [1.0, -1.0]]) / 2)


# --- labels, shapes, dtypes ---------------------------------------------------------------


@pytest.mark.parametrize("from_logits", [False, True])
def test_integer_labels_and_onehot_agree(from_logits: bool) -> None:
    rng = np.random.default_rng(4)
    raw = rng.uniform(0.05, 0.95, size=(6, 4)) if not from_logits else rng.normal(size=(6, 4))
    labels = np.array([3, 0, 1, 1, 2, 0])
    onehot = np.zeros((6, 4))
    onehot[np.arange(6), labels] = 1.0
    loss = CrossEntropy(from_logits=from_logits)
    v_labels, g_labels = loss.value_and_gradient(labels, raw)
    v_onehot, g_onehot = loss.value_and_gradient(onehot, raw)
    # labels take a gather, one-hot rows a masked product: equal up to rounding
    assert v_labels == pytest.approx(v_onehot, rel=1e-14)
    np.testing.assert_allclose(g_labels, g_onehot, rtol=1e-14, atol=1e-17)
    # float labels that are whole numbers are labels too
    v_float, _ = loss.value_and_gradient(labels.astype(float), raw)
    assert v_float == v_labels


@pytest.mark.parametrize("from_logits", [False, True])
@pytest.mark.parametrize(
    ("labels", "bad", "index"),
    [
        ([0, 3, 1], "3", 1),  # out of range for 3 classes
        ([-1, 0, 1], "-1", 0),  # negative
        ([0, 1, 1.5], "1.5", 2),  # not an integer
        ([0, float("nan"), 1], "nan", 1),  # not a number at all
        ([0, 1, 1e30], "1e+30", 2),  # far beyond int64
    ],
)
def test_bad_labels_name_the_label_and_its_index(
    from_logits: bool, labels: list[float], bad: str, index: int
) -> None:
    p = np.full((3, 3), 1 / 3)
    with pytest.raises(ValueError, match=r"label .*" + re.escape(bad)) as err:
        CrossEntropy(from_logits=from_logits).value_and_gradient(np.array(labels), p)
    assert f"index {index}" in str(err.value)


@pytest.mark.parametrize(
    ("loss", "p_shape", "y_shape"),
    [
        (MSE(), (4, 2), (4, 3)),
        (MSE(), (4, 2), (4,)),
        (MSE(), (4, 1), (5,)),
        (BinaryCrossEntropy(), (4, 2), (2, 4)),
        (BinaryCrossEntropy(from_logits=True), (4, 1), (4, 2)),
        (CrossEntropy(), (4, 3), (4, 2)),
        (CrossEntropy(from_logits=True), (4, 3), (5,)),
        (Poisson(), (4, 2), (4, 3)),
        (Poisson(from_log=True), (4, 1), (5,)),
    ],
    ids=repr,
)
def test_mismatched_shapes_name_both_shapes(
    loss: losses.Loss, p_shape: tuple[int, ...], y_shape: tuple[int, ...]
) -> None:
    p = np.full(p_shape, 0.5)
    y = np.zeros(y_shape)
    with pytest.raises(ValueError) as err:
        loss.value_and_gradient(y, p)
    message = str(err.value)
    assert str(p_shape) in message and str(y_shape) in message


@pytest.mark.parametrize(
    "loss",
    [MSE(), BinaryCrossEntropy(), BinaryCrossEntropy(True), Poisson(), Poisson(from_log=True)],
    ids=repr,
)
def test_targets_of_shape_n_are_accepted_for_predictions_n_by_1(loss: losses.Loss) -> None:
    p = np.array([[0.2], [0.7], [0.9]])
    y = np.array([0.0, 1.0, 1.0])
    value, grad = loss.value_and_gradient(y, p)
    expected_value, expected_grad = loss.value_and_gradient(y.reshape(-1, 1), p)
    assert grad.shape == (3, 1)
    assert value == expected_value
    np.testing.assert_array_equal(grad, expected_grad)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "loss",
    [
        MSE(),
        BinaryCrossEntropy(),
        BinaryCrossEntropy(True),
        CrossEntropy(),
        CrossEntropy(True),
        Poisson(),
        Poisson(True),
    ],
    ids=repr,
)
def test_gradient_dtype_is_the_prediction_dtype(loss: losses.Loss, dtype: type) -> None:
    p = np.array([[0.2, 0.8], [0.6, 0.4]], dtype=dtype)
    # targets in another dtype (and integer labels) must not change the gradient's dtype
    targets = [np.array([[0.0, 1.0], [1.0, 0.0]], dtype=np.float64), np.array([[0, 1], [1, 0]])]
    if isinstance(loss, CrossEntropy):
        targets.append(np.array([1, 0]))
    for y in targets:
        value, grad = loss.value_and_gradient(y, p)
        assert isinstance(value, float)
        assert grad.dtype == dtype
        assert grad.shape == p.shape


# --- fused output pairs -------------------------------------------------------------------


def _param_grads(model: Sequential) -> list[np.ndarray]:
    return [p.grad.copy() for p in model.parameters()]


def _unfused(model: Sequential, x: np.ndarray, y: np.ndarray, loss: losses.Loss) -> tuple:
    y_pred = model.forward(x)
    value, grad = loss.value_and_gradient(y, y_pred)
    grad_x = model.backward(grad)
    return value, _param_grads(model), grad_x


@pytest.mark.parametrize(
    ("last", "loss", "outputs", "targets"),
    [
        (Softmax, CrossEntropy, 4, lambda rng: rng.integers(0, 4, size=6)),
        (Sigmoid, BinaryCrossEntropy, 1, lambda rng: rng.integers(0, 2, size=6).astype(float)),
        (Sigmoid, BinaryCrossEntropy, 3, lambda rng: rng.integers(0, 2, size=(6, 3)) * 1.0),
        (Exp, Poisson, 1, lambda rng: rng.poisson(1.5, size=6).astype(float)),
        (Exp, Poisson, 3, lambda rng: rng.poisson(1.5, size=(6, 3)).astype(float)),
    ],
    ids=["softmax+ce", "sigmoid+bce", "sigmoid+bce 3 outputs", "exp+poisson", "exp+poisson 3"],
)
def test_fused_path_equals_unfused_chain_rule(last, loss, outputs: int, targets) -> None:
    rng = np.random.default_rng(5)
    x = rng.normal(size=(6, 3))
    y = targets(rng)
    model = Sequential([Dense(3, outputs, dtype=np.float64, seed=0), last()])
    model.layers[0].bias[:] = rng.normal(size=outputs) * 0.1
    fused = lucidnet.loss_and_gradients(model, x, y, loss())
    fused_grads = _param_grads(model)
    value, grads, grad_x = _unfused(model, x, y, loss())
    assert fused.loss == pytest.approx(value, rel=1e-12)
    for got, expected in zip(fused_grads, grads, strict=True):
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(fused.grad_input, grad_x, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(fused.y_pred, model.forward(x), rtol=1e-15)


def test_fused_softmax_crossentropy_with_huge_logits_stays_finite() -> None:
    rng = np.random.default_rng(6)
    x = rng.normal(size=(6, 3))
    labels = np.array([0, 1, 2, 3, 0, 1])
    dense = Dense(3, 4, dtype=np.float64, seed=0)
    dense.weights *= 1e4  # logits of order 1e4: softmax saturates to 0 and 1
    model = Sequential([dense, Softmax()])
    result = lucidnet.loss_and_gradients(model, x, labels, CrossEntropy())
    assert np.isfinite(result.loss)
    for p in model.parameters():
        assert np.all(np.isfinite(p.grad)), p.name
    # dL/dz = (softmax(z) - onehot) / batch, written out here, then dW = x^T dL/dz
    z = x @ dense.weights + dense.bias
    e = np.exp(z - z.max(axis=1, keepdims=True))
    dz = (e / e.sum(axis=1, keepdims=True) - np.eye(4)[labels]) / 6
    np.testing.assert_allclose(dense.grad_weights, x.T @ dz, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dense.grad_bias, dz.sum(axis=0), rtol=1e-10, atol=1e-12)


def test_fused_sigmoid_bce_with_huge_logits_stays_finite() -> None:
    rng = np.random.default_rng(7)
    x = rng.normal(size=(6, 3))
    y = np.array([0.0, 1.0, 1.0, 0.0, 1.0, 0.0])
    dense = Dense(3, 1, dtype=np.float64, seed=0)
    dense.weights *= 1e4
    model = Sequential([dense, Sigmoid()])
    result = lucidnet.loss_and_gradients(model, x, y, BinaryCrossEntropy())
    assert np.isfinite(result.loss)
    for p in model.parameters():
        assert np.all(np.isfinite(p.grad)), p.name
    # dL/dz = (sigmoid(z) - y) / n; sigmoid of |z| ~ 1e4 is 0 or 1 to double precision
    z = (x @ dense.weights + dense.bias)[:, 0]
    dz = ((z > 0).astype(float) - y) / 6
    np.testing.assert_allclose(dense.grad_weights[:, 0], x.T @ dz, rtol=1e-10, atol=1e-12)


def test_fused_logits_loss_recognises_exactly_the_three_pairs() -> None:
    bce = fused_logits_loss(Sigmoid(), BinaryCrossEntropy())
    assert isinstance(bce, BinaryCrossEntropy) and bce.from_logits
    ce = fused_logits_loss(Softmax(), CrossEntropy())
    assert isinstance(ce, CrossEntropy) and ce.from_logits
    poisson = fused_logits_loss(Exp(), Poisson())
    assert isinstance(poisson, Poisson) and poisson.from_log
    for layer, loss in [
        (Exp(), Poisson(from_log=True)),
        (Exp(), MSE()),
        (Exp(), BinaryCrossEntropy()),
        (Identity(), Poisson()),
        (Sigmoid(), Poisson()),
        (Softmax(), Poisson()),
        (Dense(2, 2), Poisson()),
        (Identity(), MSE()),
        (Sigmoid(), MSE()),
        (Softmax(), CrossEntropy(from_logits=True)),
        (Sigmoid(), BinaryCrossEntropy(from_logits=True)),
        (Softmax(), BinaryCrossEntropy()),
        (Sigmoid(), CrossEntropy()),
        (Identity(), CrossEntropy()),
        (Dense(2, 2), BinaryCrossEntropy()),
    ]:
        assert fused_logits_loss(layer, loss) is None, (layer, loss)


# --- registry -----------------------------------------------------------------------------

NAMES = {
    "mse": MSE,
    "mean_squared_error": MSE,
    "binary_crossentropy": BinaryCrossEntropy,
    "bce": BinaryCrossEntropy,
    "crossentropy": CrossEntropy,
    "categorical_crossentropy": CrossEntropy,
    "sparse_categorical_crossentropy": CrossEntropy,
    "cross_entropy": CrossEntropy,
    "poisson": Poisson,
}


@pytest.mark.parametrize(("name", "cls"), sorted(NAMES.items()))
def test_get_by_name(name: str, cls: type) -> None:
    for spelling in (name, name.upper()):
        loss = losses.get(spelling)
        assert type(loss) is cls
        assert not getattr(loss, "from_logits", False)  # names give the probability forms
        assert not getattr(loss, "from_log", False)  # and the means form
    assert losses.get(name) is not losses.get(name)


def test_get_passes_instances_through() -> None:
    loss = CrossEntropy(from_logits=True)
    assert losses.get(loss) is loss
    assert sorted(losses.names()) == sorted(NAMES)


@pytest.mark.parametrize("bad", ["hinge", "", 7, None])
def test_get_rejects_unknown_values_and_lists_names(bad: object) -> None:
    with pytest.raises(ValueError) as err:
        losses.get(bad)  # type: ignore[arg-type]
    message = str(err.value)
    assert repr(bad) in message
    for name in NAMES:
        assert name in message


# --- found in review --------------------------------------------------------------------


@pytest.mark.parametrize(
    "loss", [MSE(), BinaryCrossEntropy(), CrossEntropy(from_logits=True), Poisson()]
)
def test_empty_batch_is_a_clear_error(loss) -> None:
    with pytest.raises(ValueError, match="the batch is empty"):
        loss(np.zeros((0, 2)), np.zeros((0, 2)))


@pytest.mark.parametrize("loss", [BinaryCrossEntropy(), CrossEntropy()])
def test_probability_losses_reject_logits(loss) -> None:
    with pytest.raises(ValueError, match=r"must be probabilities in \[0, 1\].*from_logits=True"):
        loss(np.array([[1.0, 0.0]]), np.array([[2.5, -1.0]]))


def test_crossentropy_targets_whose_rows_do_not_sum_to_one() -> None:
    # multi-hot and all-zero rows: dL/dz = softmax(z) * sum(y) - y, not softmax(z) - y
    z = np.array([[0.3, -0.2, 0.5], [1.0, 2.0, -1.0]])
    y = np.array([[1.0, 1.0, 0.0], [0.0, 0.0, 0.0]])
    report = lucidnet.gradcheck(lucidnet.Identity(), z, y, CrossEntropy(from_logits=True))
    assert report.passed, str(report)


def test_crossentropy_accepts_a_column_of_labels() -> None:
    z = np.array([[0.3, -0.2, 0.5], [1.0, 2.0, -1.0]])
    loss = CrossEntropy(from_logits=True)
    assert loss(np.array([[2], [1]]), z) == loss(np.array([2, 1]), z)


def test_a_subclass_of_the_output_activation_is_not_fused():
    class SharpSoftmax(lucidnet.Softmax):  # softmax(2 z): not the function the fused pair assumes
        @staticmethod
        def function(z):
            return lucidnet.functional.softmax(2 * z, axis=-1)

        def backward(self, grad, need_input_grad=True):
            y = self._cached(self._y)
            return 2 * y * (grad - np.sum(grad * y, axis=-1, keepdims=True))

    assert losses.fused_logits_loss(SharpSoftmax(), lucidnet.CrossEntropy()) is None
    assert losses.fused_logits_loss(lucidnet.Softmax(), lucidnet.CrossEntropy()) is not None
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(16, 3)), rng.integers(0, 4, 16)
    model = lucidnet.Sequential([lucidnet.Dense(3, 4, seed=0, dtype=np.float64), SharpSoftmax()])
    model.compile("crossentropy", lucidnet.SGD(0.1))
    expected = lucidnet.CrossEntropy()(y, model.predict(x))
    assert model.evaluate(x, y)["loss"] == pytest.approx(expected, rel=1e-12)
    assert lucidnet.gradcheck(model, x[:4], y[:4], "crossentropy").passed


# --- sample weights -----------------------------------------------------------------------


def test_weighted_mse_hand_worked() -> None:
    # two samples of two outputs; per-sample means of squared errors:
    # sample 0: diff [0.5, -0.5] -> (0.25 + 0.25) / 2 = 0.25
    # sample 1: diff [1, 0]      -> (1 + 0) / 2 = 0.5
    # w = [2, 0.5]: L = (2 * 0.25 + 0.5 * 0.5) / 2 = 0.375
    # dL/dp = 2 w_i diff / N, N = 4: sample 0: 2 * 2 * [0.5, -0.5] / 4 = [0.5, -0.5]
    #                                sample 1: 2 * 0.5 * [1, 0] / 4 = [0.25, 0]
    y = np.array([[0.0, 1.0], [2.0, 3.0]])
    p = np.array([[0.5, 0.5], [3.0, 3.0]])
    w = np.array([2.0, 0.5])
    value, grad = MSE().value_and_gradient(y, p, sample_weight=w)
    assert value == pytest.approx(0.375)
    np.testing.assert_allclose(grad, [[0.5, -0.5], [0.25, 0.0]])


def test_weighted_bce_hand_worked() -> None:
    # p = [0.8, 0.4], y = [1, 0]: l = [-log 0.8, -log 0.6]; w = [3, 1]
    # L = (3 (-log 0.8) + (-log 0.6)) / 2
    # dL/dp_i = w_i (p - y) / (p (1 - p)) / 2: [3 (-0.2) / 0.16 / 2, 0.4 / 0.24 / 2]
    p, y, w = np.array([[0.8], [0.4]]), np.array([1.0, 0.0]), np.array([3.0, 1.0])
    value, grad = BinaryCrossEntropy().value_and_gradient(y, p, sample_weight=w)
    assert value == pytest.approx((-3 * math.log(0.8) - math.log(0.6)) / 2)
    np.testing.assert_allclose(grad, [[3 * -0.2 / 0.16 / 2], [0.4 / 0.24 / 2]])
    # from logits z = [0, 2]: l = softplus(z) - y z = [log 2, log(1 + e^2)]
    z = np.array([[0.0], [2.0]])
    logit_loss = BinaryCrossEntropy(from_logits=True)
    value, grad = logit_loss.value_and_gradient(y, z, sample_weight=w)
    assert value == pytest.approx((3 * math.log(2) + math.log(1 + math.e**2)) / 2)
    s = 1 / (1 + math.exp(-2))
    np.testing.assert_allclose(grad, [[3 * (0.5 - 1) / 2], [1 * s / 2]])


def test_weighted_bce_averages_each_samples_outputs_first() -> None:
    # two outputs per sample: l_i = mean_j l_ij, L = sum_i w_i l_i / batch
    p = np.array([[0.8, 0.5], [0.4, 0.9]])
    y = np.array([[1.0, 0.0], [0.0, 1.0]])
    w = np.array([0.0, 4.0])
    l1 = -(math.log(0.6) + math.log(0.9)) / 2
    assert BinaryCrossEntropy()(y, p, sample_weight=w) == pytest.approx(4 * l1 / 2)


def test_weighted_crossentropy_hand_worked() -> None:
    # p rows [0.7, 0.2, 0.1] and [0.1, 0.3, 0.6], labels [0, 2]: l = [-log 0.7, -log 0.6]
    # w = [1, 3]: L = (-log 0.7 - 3 log 0.6) / 2; dL/dp = -w y / p / 2
    p = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]])
    labels, w = np.array([0, 2]), np.array([1.0, 3.0])
    value, grad = CrossEntropy().value_and_gradient(labels, p, sample_weight=w)
    assert value == pytest.approx((-math.log(0.7) - 3 * math.log(0.6)) / 2)
    expected = np.zeros((2, 3))
    expected[0, 0], expected[1, 2] = -1 / 0.7 / 2, -3 / 0.6 / 2
    np.testing.assert_allclose(grad, expected)
    # from logits: dL/dz = w_i (softmax(z_i) - y_i) / batch
    z = np.log(p)  # softmax(log p) = p
    for y in (labels, np.eye(3)[labels]):
        value, grad = CrossEntropy(from_logits=True).value_and_gradient(y, z, sample_weight=w)
        assert value == pytest.approx((-math.log(0.7) - 3 * math.log(0.6)) / 2)
        np.testing.assert_allclose(grad, (p - np.eye(3)[labels]) * w[:, None] / 2)


@pytest.mark.parametrize(
    ("loss", "p", "y"), [c[1:] for c in _cases()], ids=[c[0] for c in _cases()]
)
def test_weighted_value_is_the_weighted_sum_of_per_sample_losses(loss, p, y) -> None:
    # l_i from the unweighted loss of sample i alone; L = sum_i w_i l_i / batch
    w = np.arange(len(p), dtype=float) * 0.5 + 0.25
    w[1] = 0.0
    per_sample = [loss(y[i : i + 1], p[i : i + 1]) for i in range(len(p))]
    assert loss(y, p, sample_weight=w) == pytest.approx(np.dot(w, per_sample) / len(p))
    # the gradient of sample i is w_i times its share of the unweighted gradient
    grad = loss.gradient(y, p, sample_weight=w)
    for i in range(len(p)):
        alone = loss.gradient(y[i : i + 1], p[i : i + 1]) / len(p)
        np.testing.assert_allclose(grad[i : i + 1], w[i] * alone, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize(
    ("loss", "p", "y"), [c[1:] for c in _cases()], ids=[c[0] for c in _cases()]
)
@pytest.mark.parametrize("dtype", DTYPES)
def test_weights_of_one_give_the_unweighted_loss(loss, p, y, dtype) -> None:
    p = p.astype(dtype)
    ones = np.ones(len(p))
    value, grad = loss.value_and_gradient(y, p)
    w_value, w_grad = loss.value_and_gradient(y, p, sample_weight=ones)
    assert w_value == pytest.approx(value, rel=1e-6 if dtype == np.float32 else 1e-12)
    assert w_grad.dtype == grad.dtype == dtype
    np.testing.assert_allclose(w_grad, grad, rtol=1e-6 if dtype == np.float32 else 1e-12)


@pytest.mark.parametrize(
    ("loss", "p", "y"), [c[1:] for c in _cases()], ids=[c[0] for c in _cases()]
)
def test_gradcheck_passes_with_sample_weights(loss, p, y) -> None:
    w = np.linspace(0.0, 2.0, len(p))  # a zero weight among them
    report = lucidnet.gradcheck(Identity(), p, y, loss, sample_weight=w)
    assert report.passed, str(report)
    # and the weights matter: the weighted gradient differs from the unweighted one
    assert not np.allclose(loss.gradient(y, p, sample_weight=w), loss.gradient(y, p))


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (np.ones(3), r"shape \(4,\), one weight per sample, got shape \(3,\)"),
        (np.ones((4, 1)), r"shape \(4,\), one weight per sample, got shape \(4, 1\)"),
        (np.array([1.0, -0.5, 1.0, 1.0]), r"finite and >= 0; index 1 has -0.5"),
        (np.array([1.0, 1.0, np.nan, 1.0]), r"finite and >= 0; index 2 has nan"),
        (np.array([1.0, 1.0, 1.0, np.inf]), r"finite and >= 0; index 3 has inf"),
        (np.array(["a", "b", "c", "d"]), r"must be real numbers"),
    ],
)
@pytest.mark.parametrize(
    "loss", [MSE(), BinaryCrossEntropy(), CrossEntropy(from_logits=True), Poisson()]
)
def test_bad_sample_weights_are_clear_errors(loss, bad, message) -> None:
    p = np.full((4, 1), 0.5) if not isinstance(loss, CrossEntropy) else np.zeros((4, 3))
    y = np.zeros(4, dtype=int)
    with pytest.raises(ValueError, match=f"{loss.name}: sample_weight.*{message}"):
        loss(y, p, sample_weight=bad)


def test_a_batch_whose_weights_are_all_zero_has_loss_and_gradient_zero() -> None:
    p, y = np.array([[0.2, 0.8]]), np.array([1])
    value, grad = CrossEntropy().value_and_gradient(y, p, sample_weight=np.zeros(1))
    assert value == 0.0
    assert not grad.any()


def test_sample_weight_is_accepted_positionally_by_call_and_gradient() -> None:
    p, y, w = np.array([[0.5], [1.5]]), np.array([0.0, 0.0]), np.array([1.0, 0.0])
    assert MSE()(y, p, w) == pytest.approx(0.25 / 2)
    np.testing.assert_allclose(MSE().gradient(y, p, w), [[0.5], [0.0]])


# --- Poisson ------------------------------------------------------------------------------


def _half_deviance(y: np.ndarray, p: np.ndarray) -> np.ndarray:
    """y log(y / p) - y + p elementwise, written out in float64 (0 log 0 = 0)."""
    y, p = np.asarray(y, np.float64), np.asarray(p, np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        y_log = np.where(y > 0, y * np.log(y / p), 0.0)
    return y_log - y + p


def test_poisson_hand_worked() -> None:
    # p = [2, 1], y = [1, 0]: 1 log(1/2) - 1 + 2 = 1 - ln 2; 0 - 0 + 1 = 1 (0 log 0 = 0)
    # L = (2 - ln 2) / 2 = 0.65343...; dL/dp = (1 - y / p) / 2 = [0.5 / 2, 1 / 2]
    p, y = np.array([[2.0], [1.0]]), np.array([[1.0], [0.0]])
    value, grad = Poisson().value_and_gradient(y, p)
    assert value == pytest.approx((2 - math.log(2)) / 2, rel=1e-15)
    np.testing.assert_allclose(grad, [[0.25], [0.5]], rtol=1e-15)


def test_poisson_from_log_hand_worked() -> None:
    # the example above from z = log p = [ln 2, 0]: exp(z) - y z + y log y - y
    # = 2 - ln 2 + 0 - 1 and 1 - 0 + 0 - 0: the same value;
    # dL/dz = (exp(z) - y) / 2 = [1 / 2, 1 / 2] = dL/dp * p (the chain rule through exp)
    z, y = np.array([[math.log(2)], [0.0]]), np.array([[1.0], [0.0]])
    value, grad = Poisson(from_log=True).value_and_gradient(y, z)
    assert value == pytest.approx((2 - math.log(2)) / 2, rel=1e-15)
    np.testing.assert_allclose(grad, [[0.5], [0.5]], rtol=1e-15)


@pytest.mark.parametrize("from_log", [False, True])
def test_poisson_is_zero_at_a_perfect_prediction(from_log: bool) -> None:
    # p = y > 0: y log 1 - y + y = 0 exactly and the gradient vanishes; so for y = 0 as p -> 0
    y = np.array([[1.0, 4.0, 0.5], [7.0, 2.5, 1e-3]])
    value, grad = Poisson(from_log=from_log).value_and_gradient(y, np.log(y) if from_log else y)
    assert value == pytest.approx(0.0, abs=1e-15)
    np.testing.assert_allclose(grad, 0.0, atol=1e-15)
    tiny = np.array([[1e-12]])
    value = Poisson(from_log=from_log)(np.zeros((1, 1)), np.log(tiny) if from_log else tiny)
    assert value == pytest.approx(1e-12, rel=1e-6)


def test_poisson_matches_a_written_out_deviance() -> None:
    rng = np.random.default_rng(11)
    p = rng.uniform(0.05, 6.0, size=(7, 3))
    y = rng.poisson(p).astype(float)
    y[0] = 0.0
    y[1] = rng.uniform(0, 3, 3)  # any non-negative values, not only counts
    expected = _half_deviance(y, p).mean()
    assert Poisson()(y, p) == pytest.approx(expected, rel=1e-14)
    assert Poisson(from_log=True)(y, np.log(p)) == pytest.approx(expected, rel=1e-13)


def test_weighted_poisson_hand_worked() -> None:
    # the example above, w = [3, 1]: L = (3 (1 - ln 2) + 1) / 2;
    # dL/dp = w (1 - y / p) / 2 = [3 0.5 / 2, 1 / 2]; dL/dz = w (exp(z) - y) / 2 = [3 / 2, 1 / 2]
    y, w = np.array([1.0, 0.0]), np.array([3.0, 1.0])
    expected = (3 * (1 - math.log(2)) + 1) / 2
    value, grad = Poisson().value_and_gradient(y, np.array([[2.0], [1.0]]), sample_weight=w)
    assert value == pytest.approx(expected, rel=1e-15)
    np.testing.assert_allclose(grad, [[0.75], [0.5]], rtol=1e-15)
    z = np.array([[math.log(2)], [0.0]])
    value, grad = Poisson(from_log=True).value_and_gradient(y, z, sample_weight=w)
    assert value == pytest.approx(expected, rel=1e-15)
    np.testing.assert_allclose(grad, [[1.5], [0.5]], rtol=1e-15)


def _central_differences(f, a: np.ndarray, h: float = 1e-6) -> np.ndarray:
    out = np.zeros_like(a)
    for i in np.ndindex(a.shape):
        up, down = a.copy(), a.copy()
        up[i] += h
        down[i] -= h
        out[i] = (f(up) - f(down)) / (2 * h)
    return out


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("from_log", [False, True])
@pytest.mark.parametrize("dtype", DTYPES)
def test_poisson_gradient_in_each_dtype_matches_central_differences(
    dtype: type, from_log: bool, weighted: bool
) -> None:
    # the differences on the float64 value; the float32 gradient within float32 rounding
    rng = np.random.default_rng(12)
    z = rng.uniform(-2.0, 2.0, size=(5, 3))
    y = rng.poisson(np.exp(z)).astype(float)
    y[0, 0] = 0.0
    w = np.array([0.0, 0.5, 1.0, 2.0, 3.0]) if weighted else None
    loss = Poisson(from_log=from_log)
    x = z if from_log else np.exp(z)
    numeric = _central_differences(lambda a: loss(y, a, w), x)
    grad = loss.gradient(y, x.astype(dtype), w)
    assert grad.dtype == dtype
    tol = 1e-5 if dtype == np.float32 else 1e-8
    np.testing.assert_allclose(grad, numeric, rtol=tol, atol=tol * np.abs(numeric).max())
    if weighted:
        assert not np.allclose(grad, loss.gradient(y, x.astype(dtype)))


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("dtype", DTYPES)
def test_fused_exp_poisson_equals_the_unfused_value_and_chain_rule(
    dtype: type, weighted: bool
) -> None:
    # training's fused path (the log form on Dense's output z, Exp's backward skipped)
    # against forward, Poisson() on the means and backward through Exp
    rng = np.random.default_rng(13)
    x = rng.normal(size=(8, 3)).astype(dtype)
    y = rng.poisson(2.0, size=(8, 2)).astype(dtype)
    y[:2] = 0.0
    w = rng.uniform(0.0, 2.0, size=8) if weighted else None
    model = Sequential([Dense(3, 2, dtype=dtype, seed=0), Exp()])
    model.layers[0].bias[:] = [0.3, -0.4]
    assert isinstance(fused_logits_loss(model.layers[-1], Poisson()), Poisson)
    fused = lucidnet.loss_and_gradients(model, x, y, Poisson(), sample_weight=w)
    fused_grads = _param_grads(model)
    y_pred = model.forward(x)
    value, grad = Poisson().value_and_gradient(y, y_pred, sample_weight=w)
    grad_x = model.backward(grad)
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    assert fused.loss == pytest.approx(value, rel=rtol)
    for got, expected in zip(fused_grads, _param_grads(model), strict=True):
        np.testing.assert_allclose(got, expected, rtol=rtol, atol=rtol * np.abs(expected).max())
    np.testing.assert_allclose(fused.grad_input, grad_x, rtol=rtol, atol=1e-7 * rtol)
    # dL/dz = w (exp(z) - y) / N written out, then dL/dW = x^T dL/dz
    dense = model.layers[0]
    z = x.astype(np.float64) @ dense.weights + dense.bias
    dz = (np.exp(z) - y) / y.size * (1.0 if w is None else w[:, None])
    np.testing.assert_allclose(fused_grads[0], x.T @ dz, rtol=10 * rtol, atol=rtol)


def test_training_skips_exps_backward() -> None:
    model = Sequential([Dense(2, 1, dtype=np.float64, seed=0), Exp()])

    def never(grad, need_input_grad=True):
        raise AssertionError("Exp.backward ran: the fused pair was not used")

    model.layers[1].backward = never
    x, y = np.array([[0.5, -1.0], [1.0, 2.0]]), np.array([3.0, 0.0])
    model.compile("poisson", lucidnet.SGD(0.1))
    model.fit(x, y, epochs=2, verbose=0)
    report = lucidnet.gradcheck(model, x, y, "poisson")  # the fused path, checked
    assert report.passed, str(report)


def test_poisson_errors_name_the_bad_value() -> None:
    loss = Poisson()
    p = np.ones((3, 2))
    with pytest.raises(ValueError, match=r"poisson: y_true must be finite and >= 0.*row 1 has -1"):
        loss(np.array([[0.0, 1.0], [2.0, -1.0], [1.0, 1.0]]), p)
    for bad in (np.nan, np.inf):
        y = np.ones((3, 2))
        y[2, 0] = bad
        with pytest.raises(ValueError, match=f"row 2 has {bad}"):
            Poisson(from_log=True)(y, p)
    for means in ([[0.5], [0.0]], [[0.5], [-2.0]]):
        with pytest.raises(ValueError, match=r"y_pred must be means > 0.*from_log=True"):
            loss(np.ones(2), np.array(means))
    # log means may be any number
    assert Poisson(from_log=True)(np.ones(2), np.array([[-3.0], [0.0]])) > 0


def test_poisson_check_targets_names_the_row() -> None:
    y = np.array([0.0, 2.0, 5.0, -0.5, 1.0])
    with pytest.raises(ValueError, match=r"y: the Poisson loss needs finite targets >= 0; row 3"):
        Poisson().check_targets(y, (1,), "y")
    Poisson().check_targets(np.abs(y), (1,), "y")
    model = Sequential([Dense(1, 1, seed=0), Exp()]).compile("poisson", "sgd")
    with pytest.raises(ValueError, match=r"row 3 has -0\.5"):
        model.fit(np.ones((5, 1)), y, epochs=1, verbose=0)


def test_poisson_link_and_task() -> None:
    z = np.array([[0.0], [math.log(3)]])
    means, logs = Poisson(), Poisson(from_log=True)
    assert means.task == logs.task == "regression" and not means.is_classifier
    assert means.link == "identity" and logs.link == "exp"
    np.testing.assert_array_equal(means.probabilities(z), z)
    np.testing.assert_allclose(logs.probabilities(z), [[1.0], [3.0]], rtol=1e-15)
    assert "y log(y / y_hat)" in means.formula.text and r"\log" in means.formula.tex
    assert repr(logs) == "Poisson(from_log=True)" and logs.get_config() == {"from_log": True}


@pytest.mark.parametrize("dtype", DTYPES)
def test_an_overflowing_exp_stops_training_and_keeps_the_weights(dtype: type) -> None:
    # z = 200 x: exp(z) is inf in both dtypes for x = 5; the fused loss exp(z) - y z is inf
    model = Sequential([Dense(1, 1, dtype=dtype, seed=0), Exp()])
    model.layers[0].weights[:] = 200.0
    before = model.get_weights()
    model.compile("poisson", lucidnet.SGD(0.1))
    with pytest.raises(lucidnet.TrainingDiverged, match="loss is inf"):
        model.fit(np.array([[1.0], [5.0]], dtype=dtype), np.array([1.0, 2.0]), epochs=1, verbose=0)
    for a, b in zip(model.get_weights(), before, strict=True):
        np.testing.assert_array_equal(a, b)


def test_poisson_regression_recovers_the_log_linear_coefficients() -> None:
    # y ~ Poisson(exp(b + w x)): plain SGD on full batches reaches the maximum-likelihood
    # fit (found here by Newton's method) and so the true (b, w) up to its sampling error
    # (about 0.004 and 0.006 for 40,000 rows)
    rng = np.random.default_rng(14)
    n, b_true, w_true = 40_000, 0.5, 1.2
    x = rng.uniform(-1.0, 1.0, size=(n, 1))
    y = rng.poisson(np.exp(b_true + w_true * x[:, 0])).astype(float)
    design = np.column_stack([np.ones(n), x[:, 0]])
    beta = np.zeros(2)
    for _ in range(30):  # Newton on the mean half deviance: gradient X^T (mu - y) / n
        mu = np.exp(design @ beta)
        beta -= np.linalg.solve(design.T @ (mu[:, None] * design), design.T @ (mu - y))
    model = Sequential([Dense(1, 1, dtype=np.float64, seed=0), Exp()])
    model.compile("poisson", lucidnet.SGD(0.4))
    model.fit(x, y, epochs=200, batch_size=n, verbose=0)
    fitted = np.array([model.layers[0].bias[0], model.layers[0].weights[0, 0]])
    np.testing.assert_allclose(fitted, beta, atol=1e-6)
    np.testing.assert_allclose(fitted, [b_true, w_true], atol=1e-2)


def test_poisson_from_log_round_trips_through_a_model_file(tmp_path) -> None:
    model = Sequential([Dense(2, 1, seed=0)]).compile(Poisson(from_log=True), "sgd")
    lucidnet.save(model, tmp_path / "log.lucid")
    loaded = lucidnet.load(tmp_path / "log.lucid")
    assert type(loaded.loss) is Poisson and loaded.loss.from_log
