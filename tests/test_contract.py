"""The layer contract, proved by layers written here against it (issue 11's acceptance
test), and one regression test for each failure that issue listed."""

import copy
import gc
import inspect
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import lucidnet as ln
from lucidnet import metrics
from lucidnet.activations import Activation
from lucidnet.formula import Formula
from lucidnet.layers import Layer
from lucidnet.parameters import parameter_property

C, H, W, K = 3, 4, 4, 3  # channels, height, width, classes


# --- layers written against the contract, in the test file itself -----------------------------


def _chw(layer, input_shape):
    """Check that a per-sample shape is (channels, height, width); None stays unknown."""
    if input_shape is None:
        return None
    if len(input_shape) != 3:
        raise ValueError(
            f"{layer.name}: expects inputs of shape (batch, channels, height, width), "
            f"but receives (batch, {', '.join(map(str, input_shape))})"
        )
    return tuple(input_shape)


class SignedSquare(Layer):
    """Parameter-free, on (C, H, W): ``y = x |x|``, ``dL/dx = dL/dy * 2 |x|``."""

    def __init__(self, name=None):
        super().__init__(name)
        self._x = None

    def output_shape(self, input_shape):
        return _chw(self, input_shape)

    def forward(self, x, training=False):
        x = np.asarray(x)
        self._x = x
        return x * np.abs(x)

    def backward(self, grad, need_input_grad=True):
        x = self._cached(self._x)
        grad = self._check_grad(grad, x.shape)
        return grad * 2 * np.abs(x)


class FlattenLike(Layer):
    """``(C, H, W) -> (C * H * W,)``; backward reshapes back."""

    def __init__(self, name=None):
        super().__init__(name)
        self._shape = None

    def output_shape(self, input_shape):
        if input_shape is None:
            return None
        return (int(np.prod(input_shape)),)

    def forward(self, x, training=False):
        x = np.asarray(x)
        self._shape = x.shape
        return x.reshape(len(x), -1)

    def backward(self, grad, need_input_grad=True):
        if self._shape is None:
            raise RuntimeError(f"{self.name}: backward called before forward")
        return np.asarray(grad).reshape(self._shape)


class ChannelScale(Layer):
    """One trained scale per channel on (C, H, W): ``y[:, c] = x[:, c] * s[c]``."""

    scale = parameter_property("scale")

    def __init__(self, channels, dtype="float32", name=None):
        super().__init__(name)
        self.channels = int(channels)
        self.add_parameter("scale", np.ones(self.channels, dtype=dtype))
        self._x = None

    def output_shape(self, input_shape):
        shape = _chw(self, input_shape)
        if shape is not None and shape[0] != self.channels:
            raise ValueError(
                f"{self.name}: expects {self.channels} channels, but receives {shape[0]}"
            )
        return shape

    def forward(self, x, training=False):
        x = np.asarray(x, dtype=self.scale.dtype)
        self._x = x
        return x * self.scale[:, None, None]

    def backward(self, grad, need_input_grad=True):
        x = self._cached(self._x)
        grad = self._check_grad(grad, x.shape)
        p = self.parameter("scale")
        p.grad[...] = np.einsum("bchw,bchw->c", grad, x)
        return grad * self.scale[:, None, None] if need_input_grad else None

    def get_config(self):
        return {"channels": self.channels, "dtype": self.dtype.name, "name": self.name}


CUSTOM = {"SignedSquare": SignedSquare, "FlattenLike": FlattenLike, "ChannelScale": ChannelScale}


def _images(n=240, seed=0):
    """Images whose class is the channel with the largest mean."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0.0, 1.0, (n, C, H, W))
    x[np.arange(n), rng.integers(0, C, n)] += 1.0
    return x.astype(np.float32), np.argmax(x.mean(axis=(2, 3)), axis=1)


def _acceptance_model():
    """Sequential([parameter-free layer, flatten-like, Dense, Softmax])."""
    return ln.Sequential(
        [SignedSquare(), FlattenLike(), ln.Dense(C * H * W, K, seed=0), ln.Softmax()],
        input_shape=(C, H, W),
    )


def _scaled_model():
    """The same behind a custom layer with a parameter, so that fit runs SignedSquare's
    backward too (the first trained layer is ChannelScale)."""
    return ln.Sequential(
        [
            ChannelScale(C),
            SignedSquare(),
            FlattenLike(),
            ln.Dense(C * H * W, K, seed=0),
            ln.Softmax(),
        ],
        input_shape=(C, H, W),
    )


MODELS = [_acceptance_model, _scaled_model]


# --- the acceptance test ----------------------------------------------------------------------


@pytest.mark.parametrize("build", MODELS, ids=["acceptance", "with_channel_scale"])
def test_custom_layers_train_end_to_end_on_4d_data(build, tmp_path):
    x, labels = _images()
    model = build()
    model.compile(ln.CrossEntropy(), ln.Adam(0.01), metrics=["accuracy"])
    before = model.evaluate(x, labels)
    history = model.fit(x, labels, epochs=15, batch_size=32, verbose=0, seed=0)
    after = model.evaluate(x, labels)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    assert after["loss"] < 0.5 * before["loss"]
    assert after["accuracy"] >= 0.9
    assert model.predict(x[:7]).shape == (7, K)
    np.testing.assert_allclose(model.predict(x[:7]).sum(axis=1), 1.0, rtol=1e-5)

    path = tmp_path / "custom.lucid"
    ln.save(model, path)
    loaded = ln.load(path, custom_objects=CUSTOM)
    assert [type(layer) for layer in loaded.layers] == [type(layer) for layer in model.layers]
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    assert loaded.evaluate(x, labels) == pytest.approx(after)
    for a, b in zip(loaded.get_weights(), model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_channel_scale_is_trained_by_fit():
    x, labels = _images()
    model = _scaled_model()
    model.compile(ln.CrossEntropy(), ln.Adam(0.01))
    model.fit(x, labels, epochs=3, verbose=0, seed=0)
    assert not np.allclose(model.layers[0].scale, 1.0)


@pytest.mark.parametrize("build", MODELS, ids=["acceptance", "with_channel_scale"])
def test_load_without_custom_objects_names_the_class(build, tmp_path):
    path = tmp_path / "custom.lucid"
    ln.save(build(), path)
    first = type(build().layers[0]).__name__
    with pytest.raises(ln.ModelFileError, match=rf"layer 0: unknown type '{first}'") as info:
        ln.load(path)
    assert "custom_objects" in str(info.value)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("build", MODELS, ids=["acceptance", "with_channel_scale"])
def test_gradcheck_passes_on_the_custom_layers(build):
    x, labels = _images(n=3, seed=1)
    model = build()
    model.layers[-2].weights = np.random.default_rng(2).normal(0, 0.3, (C * H * W, K))
    report = ln.gradcheck(model, x, labels, ln.CrossEntropy())
    assert report.passed, str(report)
    names = [(e.layer, e.parameter) for e in report.entries]
    assert ("(model)", "input") in names
    assert ("dense", "weights") in names
    report = ln.gradcheck(model, x)  # the objective sum(y * R), no fused pair
    assert report.passed, str(report)


@pytest.mark.parametrize("layer", [SignedSquare(), ChannelScale(C), FlattenLike()])
def test_gradcheck_passes_on_each_custom_layer(layer):
    x = np.random.default_rng(3).normal(0, 1, (2, C, H, W))
    if isinstance(layer, ChannelScale):
        layer.scale = [0.5, -1.5, 2.0]
    report = ln.gradcheck(layer, x)
    assert report.passed, str(report)
    assert len(report.entries) == 1 + len(layer.parameters())


def test_gradcheck_catches_a_wrong_custom_backward():
    class WrongSquare(SignedSquare):
        def backward(self, grad, need_input_grad=True):
            return super().backward(grad) / 2  # should be 2|x|, gives |x|

    x = np.random.default_rng(3).normal(0, 1, (2, C, H, W))
    report = ln.gradcheck(WrongSquare(), x)
    assert not report.passed
    assert [(e.layer, e.parameter) for e in report.failures()] == [("(model)", "input")]


def test_shapes_are_inferred_and_checked_at_construction():
    model = _scaled_model()
    assert model.input_shape == (C, H, W)
    assert model.output_shape == (K,)
    assert model.shapes((C, H, W)) == [(C, H, W), (C, H, W), (C * H * W,), (K,), (K,)]
    with pytest.raises(ValueError, match=r"layer 0 \(channel_scale, ChannelScale\)") as info:
        model.shapes((5, H, W))
    assert "expects 3 channels, but receives 5" in str(info.value)
    with pytest.raises(ValueError, match=r"layer 2 \(dense, Dense\)") as info:
        ln.Sequential([SignedSquare(), FlattenLike(), ln.Dense(10, K)], input_shape=(C, H, W))
    assert "expects inputs of shape (batch, 10), but receives (batch, 48)" in str(info.value)
    with pytest.raises(ValueError, match=r"layer 0 \(signed_square, SignedSquare\)"):
        ln.Sequential([SignedSquare(), FlattenLike()], input_shape=(48,))


def test_a_model_without_input_shape_still_trains_on_4d_data():
    # No layer before the Dense fixes the input shape: it stays unknown (None) until data
    # arrive; fit checks it then.
    model = ln.Sequential(
        [ChannelScale(C), SignedSquare(), FlattenLike(), ln.Dense(C * H * W, K, seed=0)]
    )
    assert model.input_shape is None
    assert model.output_shape == (K,)
    x, labels = _images(n=64)
    model.compile(ln.CrossEntropy(from_logits=True), "adam")
    model.fit(x, labels, epochs=2, verbose=0, seed=0)
    assert model.predict(x).shape == (64, K)


def test_summary_prints_the_real_shapes(capsys):
    model = _acceptance_model()
    assert model.summary() is None
    printed = capsys.readouterr().out
    text = str(model)
    assert printed.rstrip("\n") == text
    lines = text.splitlines()
    assert lines[0] == "Input shape: (batch, 3, 4, 4)"
    rows = {line.split()[0]: line for line in lines if line.split()[0].islower()}
    assert "(batch, 3, 4, 4)" in rows["signed_square"]
    assert "(batch, 48)" in rows["flatten_like"]
    assert "(batch, 3)" in rows["dense"] and rows["dense"].rstrip().endswith("147")
    assert "(batch, 3)" in rows["softmax"]
    assert "Total params: 147" in text
    captured = []
    model.summary(print_fn=captured.append)
    assert captured == [text]


@pytest.mark.parametrize("where", ["fit", "predict", "evaluate"])
def test_wrong_input_shape_names_expected_and_received(where):
    model = _acceptance_model()
    model.compile(ln.CrossEntropy(), "adam")
    x = np.zeros((10, H, W, C), np.float32)  # channels last: the wrong layout
    labels = np.zeros(10, int)
    call = {
        "fit": lambda: model.fit(x, labels, verbose=0),
        "predict": lambda: model.predict(x),
        "evaluate": lambda: model.evaluate(x, labels),
    }[where]
    with pytest.raises(ValueError, match=rf"{where}: x has shape \(10, 4, 4, 3\)") as info:
        call()
    assert "(batch, 3, 4, 4)" in str(info.value)


def test_single_sample_gets_a_hint():
    model = _acceptance_model()
    with pytest.raises(ValueError, match="a single sample needs a batch dimension"):
        model.predict(np.zeros((C, H, W), np.float32))


@pytest.mark.parametrize("where", ["fit", "evaluate"])
def _runner(model, x, where):
    if where == "fit":
        return lambda y: model.fit(x, y, verbose=0)
    return lambda y: model.evaluate(x, y)


@pytest.mark.parametrize("where", ["fit", "evaluate"])
def test_labels_that_do_not_fit_the_output_raise(where):
    model = _acceptance_model()
    model.compile(ln.CrossEntropy(), "adam")
    x, _ = _images(n=10)
    run = _runner(model, x, where)
    with pytest.raises(ValueError, match=rf"{where}: y: .*label 3 at index 2 .*\[0, 3\)"):
        run(np.array([0, 1, 3, 0, 1, 2, 0, 1, 2, 0]))
    with pytest.raises(ValueError, match=rf"{where}: x has 10 samples but y has 9"):
        run(np.zeros(9, int))


@pytest.mark.parametrize("where", ["fit", "evaluate"])
def test_one_hot_rows_of_the_wrong_width_are_checked_up_front(where):
    # Checked with the data, before any step, and named as the data's problem: not only
    # by the loss inside the first step.
    model = _acceptance_model()
    model.compile(ln.CrossEntropy(), "adam")
    x, _ = _images(n=10)
    with pytest.raises(ValueError, match=rf"{where}: y") as info:
        _runner(model, x, where)(np.zeros((10, 5)))  # 5 classes for 3 outputs
    assert "(10, 5)" in str(info.value) and "3" in str(info.value)


def test_validation_targets_are_checked_before_training():
    model = _acceptance_model()
    model.compile(ln.CrossEntropy(), "adam")
    x, labels = _images(n=10)
    before = model.get_weights()
    with pytest.raises(ValueError, match=r"fit: validation_data: y") as info:
        model.fit(x, labels, validation_data=(x, np.zeros((10, 5))), verbose=0)
    assert "(10, 5)" in str(info.value)
    for a, b in zip(model.get_weights(), before, strict=True):
        np.testing.assert_array_equal(a, b)  # no epoch ran before the error


def test_regression_targets_that_do_not_fit_the_output_raise():
    model = ln.Sequential([FlattenLike(), ln.Dense(C * H * W, 2)], input_shape=(C, H, W))
    model.compile("mse", "sgd")
    x, _ = _images(n=10)
    with pytest.raises(ValueError, match=r"fit: y.*has shape \(10, 3\)") as info:
        model.fit(x, np.zeros((10, 3)), verbose=0)
    assert "(batch, 2)" in str(info.value) and "(10, 2)" in str(info.value)


def test_fit_shows_its_real_arguments():
    params = list(inspect.signature(ln.Sequential.fit).parameters)
    assert params == [
        "self",
        "x",
        "y",
        "epochs",
        "batch_size",
        "validation_split",
        "validation_data",
        "shuffle",
        "callbacks",
        "verbose",
        "seed",
        "initial_epoch",
        "sample_weight",
        "class_weight",
        "distributed",
    ]
    # the same arguments as the function it calls, and evaluate's too
    assert params[1:] == list(inspect.signature(ln.fit).parameters)[1:]
    assert (
        list(inspect.signature(ln.Sequential.evaluate).parameters)[1:]
        == list(inspect.signature(ln.evaluate).parameters)[1:]
    )


# --- regression tests: one for each failure listed in issue 11 -----------------------------


def _xor():
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    return x, np.array([[0], [1], [1], [0]], dtype=np.float32)


def test_assigned_weights_are_the_ones_trained_and_used(tmp_path):
    model = ln.Sequential([ln.Dense(2, 1, seed=0), ln.Sigmoid()])
    dense = model.layers[0]
    dense.weights = np.zeros((2, 1))
    x, y = _xor()
    np.testing.assert_array_equal(model.predict(x), np.full((4, 1), 0.5, np.float32))
    np.testing.assert_array_equal(model.get_weights()[0], np.zeros((2, 1)))
    assert np.shares_memory(dense.weights, model.parameters().flat.values)
    assert model.parameters()[0] is dense.parameter("weights")

    path = tmp_path / "zeros.lucid"
    ln.save(model, path)
    np.testing.assert_array_equal(ln.load(path).layers[0].weights, np.zeros((2, 1)))

    dense.weights = [[1.0], [-2.0]]
    model.compile("binary_crossentropy", ln.SGD(0.5))
    model.fit(x, y, epochs=3, batch_size=4, verbose=0)
    trained = dense.weights.copy()
    assert not np.allclose(trained, [[1.0], [-2.0]])  # fit trained the assigned weights
    np.testing.assert_array_equal(model.get_weights()[0], trained)
    expected = 1 / (1 + np.exp(-(x @ trained + dense.bias)))
    np.testing.assert_allclose(model.predict(x), expected, rtol=1e-6)
    ln.save(model, path)
    np.testing.assert_array_equal(ln.load(path).layers[0].weights, trained)


def test_assigning_weights_of_the_wrong_shape_or_type_raises():
    model = ln.Sequential([ln.Dense(2, 3, seed=0)])
    dense = model.layers[0]
    before = dense.weights.copy()
    with pytest.raises(
        ValueError,
        match=r"dense\.weights: expected an array of shape \(2, 3\), "
        r"got \(3, 2\)",
    ):
        dense.weights = np.zeros((3, 2))
    with pytest.raises(ValueError, match=r"dense\.bias: expected an array of shape \(3,\)"):
        dense.bias = np.zeros(4)
    with pytest.raises(ValueError, match=r"dense\.weights: expected real numbers.*complex"):
        dense.weights = np.zeros((2, 3), complex)
    np.testing.assert_array_equal(dense.weights, before)
    dense.weights = np.arange(6).reshape(2, 3)  # integers are cast
    assert dense.weights.dtype == np.float32
    np.testing.assert_array_equal(dense.weights, np.arange(6).reshape(2, 3))


def test_a_layer_cannot_join_a_second_live_model():
    layers = [ln.Dense(2, 4, seed=0), ln.Tanh(), ln.Dense(4, 1, seed=1)]
    first = ln.Sequential(layers)
    with pytest.raises(
        ValueError,
        match=r"layer 0 \(dense\) already belongs to another "
        "Sequential",
    ):
        ln.Sequential(layers)
    with pytest.raises(ValueError, match=r"layer 1 \(tanh\) already belongs"):
        ln.Sequential([ln.Dense(2, 4), layers[1]])
    # a deep copy is independent and trains on its own
    twin = ln.Sequential([copy.deepcopy(layer) for layer in layers])
    twin.compile("mse", ln.SGD(0.1))
    x, y = _xor()
    twin.fit(x, y, epochs=2, batch_size=4, verbose=0)
    assert not np.array_equal(twin.layers[0].weights, first.layers[0].weights)
    assert first.layers[0].owner is first and twin.layers[0].owner is twin
    # once the first model is gone, its layers may join another one
    del first
    gc.collect()
    second = ln.Sequential(layers)
    assert layers[0].owner is second


def test_the_same_layer_twice_in_one_model_raises():
    dense = ln.Dense(2, 2)
    with pytest.raises(ValueError, match="the same layer object appears twice"):
        ln.Sequential([dense, ln.Tanh(), dense])


def test_astype_on_a_layer_inside_a_model_keeps_it_training():
    model = ln.Sequential([ln.Dense(2, 4, seed=0), ln.Tanh(), ln.Dense(4, 1, seed=1)])
    old_flat = model.parameters().flat
    for layer in model.layers:
        layer.astype(np.float64)
    flat = model.parameters().flat
    assert flat is not None and flat is not old_flat
    assert flat.values.dtype == np.float64 and flat.values.size == 17
    for p in model.parameters():
        assert np.shares_memory(p.value, flat.values) and np.shares_memory(p.grad, flat.grads)
    model.compile("mse", ln.SGD(0.1))
    x, y = _xor()
    before = [layer.weights.copy() for layer in (model.layers[0], model.layers[2])]
    model.fit(x, y, epochs=2, batch_size=4, verbose=0)
    for layer, old in zip((model.layers[0], model.layers[2]), before, strict=True):
        assert layer.weights.dtype == np.float64
        assert not np.allclose(layer.weights, old), f"{layer.name} was frozen by astype"


def test_astype_on_one_layer_of_a_model_mixing_dtypes_keeps_it_training():
    model = ln.Sequential([ln.Dense(2, 4, seed=0), ln.Tanh(), ln.Dense(4, 1, seed=1)])
    model.layers[0].astype(np.float64)
    assert model.parameters().flat is None  # two dtypes: no flat buffer, and it says so
    assert model.parameters()[0] is model.layers[0].parameter("weights")
    model.compile("mse", ln.SGD(0.1))
    x, y = _xor()
    before = [model.layers[0].weights.copy(), model.layers[2].weights.copy()]
    model.fit(x, y, epochs=2, batch_size=4, verbose=0)
    assert model.layers[0].weights.dtype == np.float64
    assert model.layers[2].weights.dtype == np.float32
    assert not np.allclose(model.layers[0].weights, before[0])
    assert not np.allclose(model.layers[2].weights, before[1])


class ZeroGradDense(ln.Dense):
    """A Dense whose backward keeps the input gradient but zeroes its own gradients."""

    calls = 0

    def backward(self, grad, need_input_grad=True):
        ZeroGradDense.calls += 1
        out = super().backward(grad, need_input_grad)
        for p in self.parameters():
            p.grad[...] = 0
        return out


def test_fit_honours_an_overridden_backward_of_the_first_layer():
    ZeroGradDense.calls = 0
    model = ln.Sequential(
        [ZeroGradDense(2, 4, seed=0), ln.Tanh(), ln.Dense(4, 1, seed=1), ln.Sigmoid()]
    )
    model.compile("binary_crossentropy", ln.SGD(0.5))
    first = model.get_weights()
    x, y = _xor()
    model.fit(x, y, epochs=3, batch_size=2, verbose=0)
    assert ZeroGradDense.calls == 6
    np.testing.assert_array_equal(model.layers[0].weights, first[0])
    np.testing.assert_array_equal(model.layers[0].bias, first[1])
    assert not np.array_equal(model.layers[2].weights, first[2])


def test_gradcheck_honours_an_overridden_backward():
    model = ln.Sequential([ZeroGradDense(2, 3, seed=0), ln.Tanh(), ln.Dense(3, 1, seed=1)])
    x, _ = _xor()
    report = ln.gradcheck(model, x + 0.1)
    failed = [(e.layer, e.parameter) for e in report.failures()]
    assert failed == [("zero_grad_dense", "weights"), ("zero_grad_dense", "bias")]


def test_explain_renders_a_new_activations_derivative_from_its_class():
    class Cube(Activation):
        formula = Formula("z^3", "z^3")
        derivative_formula = Formula("3 z^2 (from Cube)", r"3 z^{2}_{\mathrm{cube}}")

        @staticmethod
        def function(z):
            return z**3

        @staticmethod
        def derivative(z, y):
            return 3 * z**2

    model = ln.Sequential([ln.Dense(2, 1, seed=0), Cube()])
    trace = ln.explain(model, [1.0, 2.0], y=[[1.0]], loss="mse")
    assert trace.layers[0].derivative == Cube.derivative_formula
    assert "3 z^2 (from Cube)" in trace.to_text()
    assert "f'(z)    = 3 z^2 (from Cube) = [" in trace.to_text()
    assert r"3 z^{2}_{\mathrm{cube}}" in trace.to_markdown()
    tanh = ln.explain(ln.Sequential([ln.Dense(2, 1, seed=0), ln.Tanh()]), [1.0, 2.0], y=[[1.0]])
    assert "1 - tanh(z)^2" in tanh.to_text()


@pytest.mark.parametrize(
    ("last", "loss", "expected"),
    [
        (ln.Sigmoid(), None, True),  # probabilities out: a classifier even before compile
        (ln.Softmax(), ln.MSE(), True),
        (ln.Identity(), ln.CrossEntropy(from_logits=True), True),
        (ln.Identity(), ln.BinaryCrossEntropy(from_logits=True), True),
        (ln.Identity(), ln.MSE(), False),
        (ln.Tanh(), None, False),
        (ln.Tanh(), ln.MSE(), False),
    ],
)
def test_is_classifier_is_one_rule(last, loss, expected):
    model = ln.Sequential([ln.Dense(2, 2), last])
    if loss is not None:
        model.compile(loss, "sgd")
    assert model.is_classifier is expected
    if loss is not None:
        assert loss.is_classifier is (loss.task == "classification")


def test_the_link_function_is_public():
    z = np.array([[0.0, np.log(3.0)], [2.0, 2.0]])
    softmax = ln.CrossEntropy(from_logits=True)
    assert softmax.link == "softmax"
    np.testing.assert_allclose(softmax.probabilities(z), [[0.25, 0.75], [0.5, 0.5]])
    sigmoid = ln.BinaryCrossEntropy(from_logits=True)
    assert sigmoid.link == "sigmoid"
    np.testing.assert_allclose(sigmoid.probabilities([[0.0], [np.log(3.0)]]), [[0.5], [0.75]])
    for loss in (ln.MSE(), ln.CrossEntropy(), ln.BinaryCrossEntropy()):
        assert loss.link == "identity"
        np.testing.assert_array_equal(loss.probabilities(z), z)
    model = ln.Sequential([ln.Dense(2, 2, seed=0)])
    model.compile(softmax, "sgd")
    x = np.array([[1.0, 2.0]], np.float32)
    np.testing.assert_allclose(
        model.predict_proba(x), softmax.probabilities(model.predict(x)), rtol=1e-6
    )


def test_binary_crossentropy_in_keras_order_and_as_keywords():
    expected = -(np.log(0.9) + np.log(0.8)) / 2  # 0.16425
    bce = ln.BinaryCrossEntropy()
    assert bce(y_true=[[1], [0]], y_pred=[[0.9], [0.2]]) == pytest.approx(expected, rel=1e-6)
    assert bce([[1], [0]], [[0.9], [0.2]]) == pytest.approx(0.164252, abs=1e-6)
    assert bce(y_pred=[[0.9], [0.2]], y_true=[[1], [0]]) == pytest.approx(expected, rel=1e-6)
    grad = bce.gradient(y_pred=np.array([[0.9], [0.2]]), y_true=np.array([[1.0], [0.0]]))
    np.testing.assert_allclose(grad, [[-1 / 0.9 / 2], [1 / 0.8 / 2]], rtol=1e-6)


@pytest.mark.parametrize(
    ("loss", "y_true", "y_pred", "expected"),
    [
        (ln.MSE(), [[1.0, 2.0]], [[2.0, 4.0]], 2.5),
        (ln.CrossEntropy(), [1, 0], [[0.5, 0.5], [0.8, 0.2]], -(np.log(0.5) + np.log(0.8)) / 2),
        (ln.CrossEntropy(from_logits=True), [0], [[0.0, 0.0]], np.log(2.0)),
        (ln.BinaryCrossEntropy(from_logits=True), [[1.0]], [[0.0]], np.log(2.0)),
    ],
)
def test_every_loss_takes_y_true_first_and_keywords(loss, y_true, y_pred, expected):
    assert loss(y_true, y_pred) == pytest.approx(expected, rel=1e-6)
    assert loss(y_true=y_true, y_pred=y_pred) == pytest.approx(expected, rel=1e-6)
    value, grad = loss.value_and_gradient(y_true=y_true, y_pred=y_pred)
    assert value == pytest.approx(expected, rel=1e-6)
    assert grad.shape == np.shape(y_pred)


def test_metrics_take_y_true_first_and_keywords():
    y = np.array([0, 1, 1])
    p = np.array([[0.9, 0.1], [0.2, 0.8], [0.7, 0.3]])
    assert metrics.accuracy(y, p) == pytest.approx(2 / 3)
    assert metrics.accuracy(y_pred=p, y_true=y) == pytest.approx(2 / 3)
    assert metrics.mse(y_true=[1.0, 2.0], y_pred=[2.0, 4.0]) == pytest.approx(2.5)
    assert metrics.mae(y_pred=[2.0, 4.0], y_true=[1.0, 2.0]) == pytest.approx(1.5)
    assert metrics.binary_accuracy(y_true=[[1], [0]], y_pred=[[0.9], [0.7]]) == 0.5
    assert metrics.top_k_accuracy(y_true=y, y_pred=p, k=1) == pytest.approx(2 / 3)


def test_accuracy_with_swapped_arguments_raises():
    y = np.array([0, 1, 1])
    p = np.array([[0.9, 0.1], [0.2, 0.8], [0.7, 0.3]])
    with pytest.raises(ValueError, match=r"were the arguments swapped\?"):
        metrics.accuracy(p[:, 1], y)  # probabilities as y_true
    with pytest.raises(ValueError, match=r"index 0 holds \S*0\.1\b.*swapped"):
        metrics.accuracy(p[:, 1], y)
    with pytest.raises(ValueError, match="swapped"):
        metrics.top_k_accuracy(p[:, 1], p, k=1)
    with pytest.raises(ValueError, match="swapped"):
        metrics.confusion_matrix(p[:, 1], y)


@pytest.mark.parametrize(
    ("fn", "y_true", "y_pred", "shapes"),
    [
        (ln.MSE(), np.zeros((4, 1)), np.zeros((4, 2)), r"\(4, 1\) but y_pred has shape \(4, 2\)"),
        (ln.MSE(), np.zeros(4), np.zeros((1, 4)), r"\(4,\) but y_pred has shape \(1, 4\)"),
        (ln.MSE(), np.zeros((3, 3)), np.zeros((3, 1)), r"\(3, 3\) but y_pred has shape \(3, 1\)"),
        (
            ln.BinaryCrossEntropy(),
            np.zeros((4, 1)),
            np.full((4, 2), 0.5),
            r"\(4, 1\) but y_pred has shape \(4, 2\)",
        ),
        (metrics.mse, np.zeros(3), np.zeros((3, 3)), r"\(3,\) but y_pred has shape \(3, 3\)"),
        (metrics.mae, np.zeros((2, 3)), np.zeros(3), r"\(2, 3\) but y_pred has shape \(3,\)"),
        (
            metrics.binary_accuracy,
            np.zeros((3, 2)),
            np.zeros((3, 1)),
            r"\(3, 2\) but y_pred has shape \(3, 1\)",
        ),
    ],
)
def test_shape_mismatch_raises_instead_of_broadcasting(fn, y_true, y_pred, shapes):
    with pytest.raises(ValueError, match=rf"y_true has shape {shapes}"):
        fn(y_true, y_pred)


def test_a_column_of_targets_for_one_output_still_works():
    assert ln.MSE()([1.0, 2.0], [[2.0], [4.0]]) == pytest.approx(2.5)
    assert metrics.mse([1.0, 2.0], [[2.0], [4.0]]) == pytest.approx(2.5)


def test_import_starts_no_subprocess():
    script = textwrap.dedent(
        """
        import sys
        fired = []
        def hook(event, args):
            if event in ("subprocess.Popen", "os.posix_spawn", "os.fork", "os.system") or (
                event.startswith("os.exec") or event.startswith("os.spawn")
            ):
                fired.append(event)
        sys.addaudithook(hook)
        import lucidnet
        import lucidnet.denormals
        print("EVENTS", fired)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert "EVENTS []" in done.stdout, done.stdout + done.stderr


def test_the_hook_would_see_a_subprocess():
    """The audit hook of the test above does see what import used to do: find_library
    runs ldconfig (or gcc) in a subprocess."""
    script = textwrap.dedent(
        """
        import sys
        fired = []
        sys.addaudithook(lambda e, a: fired.append(e) if e == "subprocess.Popen" else None)
        import ctypes.util
        ctypes.util.find_library("m")
        print("EVENTS", fired[:1])
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert "EVENTS ['subprocess.Popen']" in done.stdout


@pytest.mark.parametrize("cls", [ln.SGD, ln.RMSprop, ln.Adam, ln.AdamW])
def test_learning_rate_is_accepted_where_lr_is(cls):
    assert cls(learning_rate=0.05).lr == pytest.approx(0.05)
    assert cls(lr=0.05).lr == pytest.approx(0.05)
    assert cls(0.05).lr == pytest.approx(0.05)
    with pytest.raises(ValueError, match="lr or learning_rate"):
        cls(lr=0.1, learning_rate=0.2)


def test_learning_rate_gives_the_same_training_as_lr():
    x, y = _xor()
    runs = []
    for kwargs in ({"lr": 0.3}, {"learning_rate": 0.3}):
        model = ln.Sequential([ln.Dense(2, 3, seed=0), ln.Tanh(), ln.Dense(3, 1, seed=1)])
        model.compile("mse", ln.SGD(**kwargs))
        model.fit(x, y, epochs=3, batch_size=4, verbose=0, shuffle=False, seed=0)
        runs.append(model.get_weights())
    for a, b in zip(*runs, strict=True):
        np.testing.assert_array_equal(a, b)


def test_seeds_train_accepts_learning_rate():
    x, y = _xor()
    a, b = ln.seeds.xor_network(), ln.seeds.xor_network()
    curve_lr = ln.seeds.train(a, x, y, epochs=3, lr=0.5)
    curve_learning_rate = ln.seeds.train(b, x, y, epochs=3, learning_rate=0.5)
    assert curve_lr == curve_learning_rate
