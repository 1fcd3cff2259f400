"""The conformance harness: every layer class in ``lucidnet.layers.REGISTRY`` passes it.

A layer joins by being in the table. A class whose constructor needs arguments must have
an example construction in ``EXAMPLES`` below; the harness fails for one that has none,
so that no layer can be added without passing it. ``ShiftScale``, defined here, is a
test-only layer with a buffer (a BatchNorm-like running mean), saved and loaded through
``custom_objects``: it covers the buffer path.

An example is ``(case id, make(dtype) -> layer)``, optionally with a third element, a
``Spec``, saying which inputs the layer takes when it is not a shape-agnostic layer of
``(..., FEATURES)``: the per-sample shapes to check it on (images ``(H, W, C)``), the
shapes it must refuse (with the fix its message names), and, for a layer that takes any
shape but changes it (Flatten), the output shape to expect.
"""

import copy
import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest

import lucidnet as ln
from lucidnet.layers import REGISTRY, Layer
from lucidnet.parameters import parameter_property


class ShiftScale(Layer):
    """``y = (x - running_mean) * gamma`` over the last axis (any leading shape).

    ``running_mean`` is a buffer: in training, each forward moves it towards the batch
    mean (``m <- momentum m + (1 - momentum) mean(x)``) before using it; the gradient
    treats it as a constant. Outside training it is only read.
    """

    gamma = parameter_property("gamma")

    def __init__(self, features, momentum=0.5, dtype="float32", name=None):
        super().__init__(name)
        self.features, self.momentum = int(features), float(momentum)
        self.add_parameter("gamma", np.ones(self.features, dtype=dtype))
        self.add_buffer("running_mean", np.zeros(self.features, dtype=dtype))
        self._centred = None

    def output_shape(self, input_shape):
        if input_shape is not None and (not input_shape or input_shape[-1] != self.features):
            raise ValueError(
                f"{self.name}: expects inputs of shape (batch, ..., {self.features}), "
                f"but receives (batch, {', '.join(map(str, input_shape))})"
            )
        return input_shape

    def forward(self, x, training=False):
        x = np.asarray(x, dtype=self.dtype)
        self.output_shape(x.shape[1:])
        mean = self._buffers["running_mean"].value
        if training:
            batch_mean = x.reshape(-1, self.features).mean(axis=0)
            mean *= self.momentum
            mean += (1 - self.momentum) * batch_mean
        self._centred = x - mean
        return self._centred * self.gamma

    def backward(self, grad, need_input_grad=True):
        centred = self._cached(self._centred)
        grad = self._check_grad(grad, centred.shape)
        p = self.parameter("gamma")
        p.grad[...] = (grad * centred).reshape(-1, self.features).sum(axis=0)
        return grad * self.gamma if need_input_grad else None

    def get_config(self):
        return {
            "features": self.features,
            "momentum": self.momentum,
            "dtype": self.dtype.name,
            "name": self.name,
        }


FEATURES = 4  # the last axis of every shape-agnostic input below

Shape = tuple[int, ...]


@dataclass(frozen=True)
class Spec:
    """The inputs of an example that is not a shape-agnostic layer of ``(..., FEATURES)``.

    shapes
        Per-sample input shapes to check the layer on (None: the layer's own fixed
        shape, or random ``(..., FEATURES)`` shapes).
    rejects
        ``(shape, fix)`` pairs: ``output_shape(shape)``, a model with that input shape
        and ``forward`` on such a batch must raise ValueError naming the layer (and, for
        ``output_shape``, the shape received), with a message that matches the regex
        ``fix`` too. None: ``(FEATURES + 1,)`` for a layer that fixes its input shape,
        nothing for a shape-agnostic one.
    output
        For a shape-agnostic layer (no rejects): its per-sample output shape for an
        input shape (default: the same shape).
    stateful_training
        True when forward in training moves state that it then uses (ShiftScale's running
        mean): the output is then no function of the input, and only the inference mode
        is gradient-checked.
    """

    shapes: tuple[Shape, ...] | None = None
    rejects: tuple[tuple[Shape, str], ...] | None = None
    output: Callable[[Shape], Shape] | None = None
    stateful_training: bool = False


@dataclass(frozen=True)
class Case:
    """One parametrized case: the construction and its spec."""

    make: Callable[[object], Layer]
    spec: Spec


def _image_rejects(shape, channels):
    """What a layer of images ``(H, W, C)`` must refuse: a flattened vector, an image
    without its channel axis (the fix ``x[..., None]`` named when a channel axis of 1
    would do), and, when it fixes ``channels``, a wrong channel count and the
    channels-first ``(C, H, W)`` of PyTorch (the fix ``x.transpose(0, 2, 3, 1)`` named).
    A pooling layer takes any channel count, so channels first cannot be told apart."""
    h, w, c = shape
    assert len({h, w, c}) == 3, "distinct sizes, so that channels first is recognizable"
    rejects = [
        ((h * w * c,), "channels last"),
        ((h, w), r"x\[\.\.\., None\]" if channels in (None, 1) else "channels last"),
    ]
    if channels is not None:
        rejects += [((h, w, c + 1), "channels last"), ((c, h, w), r"transpose\(0, 2, 3, 1\)")]
    return tuple(rejects)


def _conv(shapes, **kwargs):
    """A Conv2D example on ``shapes`` (the first one's channels are in_channels)."""
    channels = shapes[0][-1]
    out = kwargs.pop("out", 2)

    def make(dtype):
        return ln.Conv2D(channels, out, dtype=dtype, **kwargs)

    return make, Spec(shapes=shapes, rejects=_image_rejects(shapes[0], channels))


def _pool(cls, shapes, **kwargs):
    return (
        lambda dtype: cls(**kwargs),
        Spec(shapes=shapes, rejects=_image_rejects(shapes[0], None)),
    )


def _flatten_output(shape):
    return (int(np.prod(shape, dtype=np.int64)),)


# Example constructions, by class name: (case id, make(dtype) -> layer[, Spec]). Every
# registered class whose constructor needs arguments must be here; others may add cases.
EXAMPLES = {
    "Dense": [
        ("dense", lambda dtype: ln.Dense(FEATURES, 3, dtype=dtype, seed=0)),
        ("dense_no_bias", lambda dtype: ln.Dense(FEATURES, 2, bias=False, dtype=dtype, seed=1)),
        ("dense_l2_l1", lambda dtype: ln.Dense(FEATURES, 2, dtype=dtype, l2=0.1, l1=0.05, seed=2)),
    ],
    "Dropout": [("dropout", lambda dtype: ln.Dropout(0.4, seed=0))],
    "LeakyReLU": [("leaky_relu", lambda dtype: ln.LeakyReLU(0.2))],
    "Standardize": [("standardize", lambda dtype: ln.Standardize(FEATURES, dtype=dtype))],
    "Conv2D": [
        # non-square inputs throughout; a window that does not fill the last row is dropped
        ("conv", *_conv(((5, 6, 2), (4, 7, 2)), out=3, kernel_size=3, seed=0)),
        ("conv_stride2", *_conv(((7, 6, 2), (5, 8, 2)), kernel_size=3, stride=2, seed=1)),
        ("conv_same", *_conv(((5, 4, 3), (6, 7, 3)), kernel_size=3, padding="same", seed=2)),
        # "same" with an even kernel and stride 2: the odd zero goes after
        (
            "conv_same_stride2_even_kernel",
            *_conv(((5, 7, 2), (4, 6, 2)), kernel_size=(2, 4), stride=2, padding="same", seed=3),
        ),
        ("conv_padding_int", *_conv(((5, 4, 1), (3, 6, 1)), kernel_size=3, padding=1, seed=4)),
        (
            "conv_padding_pair_stride_pair",
            *_conv(((4, 5, 2),), out=3, kernel_size=(3, 2), padding=(2, 1), stride=(1, 2), seed=5),
        ),
        ("conv_nonsquare_kernel", *_conv(((4, 6, 3), (5, 4, 3)), kernel_size=(2, 3), seed=6)),
        ("conv_no_bias", *_conv(((5, 4, 2),), out=3, kernel_size=2, bias=False, seed=7)),
        ("conv_l2_l1", *_conv(((5, 6, 2),), kernel_size=3, l2=0.1, l1=0.05, seed=8)),
        # 9 channels: im2col's strided-view copy (8 channels or more) instead of per offset
        ("conv_9_channels", *_conv(((4, 5, 9),), kernel_size=2, stride=(2, 1), seed=9)),
    ],
    "MaxPool2D": [
        ("max_pool", *_pool(ln.MaxPool2D, ((4, 6, 3), (5, 7, 2)), pool_size=2)),
        (
            "max_pool_overlapping",
            *_pool(ln.MaxPool2D, ((7, 6, 2), (5, 8, 1)), pool_size=3, stride=2),
        ),
        ("max_pool_nonsquare", *_pool(ln.MaxPool2D, ((4, 7, 2),), pool_size=(2, 3), stride=(1, 2))),
    ],
    "AvgPool2D": [
        ("avg_pool", *_pool(ln.AvgPool2D, ((4, 6, 3), (5, 7, 2)), pool_size=2)),
        (
            "avg_pool_overlapping",
            *_pool(ln.AvgPool2D, ((7, 6, 2), (5, 8, 1)), pool_size=3, stride=2),
        ),
    ],
    "GlobalAveragePooling2D": [
        ("global_average_pooling", *_pool(ln.GlobalAveragePooling2D, ((3, 4, 2), (2, 5, 6)))),
    ],
    "Flatten": [("flatten", lambda dtype: ln.Flatten(), Spec(output=_flatten_output))],
    "Reshape": [
        (
            "reshape_to_image",
            lambda dtype: ln.Reshape((2, 2, 3)),
            Spec(
                shapes=((12,), (3, 4), (2, 2, 3)),
                rejects=(((FEATURES + 1,), "cannot reshape"), ((5, 7), "35 values")),
            ),
        )
    ],
    "BatchNorm": [
        (
            "batch_norm",
            lambda dtype: ln.BatchNorm(FEATURES, dtype=dtype),
            Spec(rejects=(((FEATURES + 1,), ""),)),
        ),
        (
            "batch_norm_momentum_eps",
            lambda dtype: ln.BatchNorm(FEATURES, momentum=0.5, eps=1e-3, dtype=dtype),
            Spec(rejects=(((FEATURES + 1,), ""),)),
        ),
        (
            "batch_norm_images",
            lambda dtype: ln.BatchNorm(3, dtype=dtype),
            Spec(
                shapes=((4, 5, 3), (2, 6, 3)),
                rejects=(
                    ((4, 5, 4), ""),
                    ((4, 5), ""),
                    ((3, 4, 5), r"transpose\(0, 2, 3, 1\)"),
                ),
            ),
        ),
    ],
}
TEST_ONLY = {"ShiftScale": ShiftScale}
TEST_ONLY_EXAMPLES = {
    "ShiftScale": [
        (
            "shift_scale",
            lambda dtype: ShiftScale(FEATURES, dtype=dtype),
            Spec(rejects=(((FEATURES + 1,), ""),), stateful_training=True),
        )
    ]
}

# Layers that estimate statistics from the batch in training: a batch with one value per
# feature must be refused there (a variance of one value is no estimate).
BATCH_STATISTICS = (ln.BatchNorm,)


def _needs_arguments(cls):
    signature = inspect.signature(cls.__init__)
    return any(
        p.default is inspect.Parameter.empty
        and p.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
        for name, p in signature.parameters.items()
        if name != "self"
    )


def _cases():
    cases = []
    all_examples = {**EXAMPLES, **TEST_ONLY_EXAMPLES}
    for name, cls in {**REGISTRY.classes(), **TEST_ONLY}.items():
        examples = all_examples.get(name)
        if examples is None and not _needs_arguments(cls):
            examples = [(name.lower(), lambda dtype, cls=cls: cls())]
        for case_id, make, *spec in examples or []:
            (spec,) = spec or [Spec()]
            cases.append(pytest.param(cls, Case(make, spec), id=case_id))
    return cases


CASES = _cases()


def _has_parameters(case):
    _cls, example = case.values
    return bool(example.make(np.float32).parameters())


PARAMETRIC = [case for case in CASES if _has_parameters(case)]


def _in_both_modes(cases):
    """Each case with training False, and True unless its training forward is stateful."""
    return [
        pytest.param(*case.values, training, id=f"{case.id}-{'train' if training else 'infer'}")
        for case in cases
        for training in (False, True)
        if not (training and case.values[1].spec.stateful_training)
    ]


MODES = _in_both_modes(CASES)


def test_every_registered_layer_class_has_an_example():
    missing = [
        name
        for name, cls in REGISTRY.classes().items()
        if name not in EXAMPLES and _needs_arguments(cls)
    ]
    assert not missing, f"add example constructions to EXAMPLES for {missing}"
    covered = {case.values[0] for case in CASES}
    assert set(REGISTRY.classes().values()) <= covered
    assert ShiftScale in covered


def test_the_harness_covers_the_known_layers():
    names = set(REGISTRY.classes())
    assert {"Dense", "Dropout", "ReLU", "Sigmoid", "Softmax", "Tanh", "Identity", "Step"} <= names
    assert {"LeakyReLU", "Exp"} <= names
    convolutional = {"Conv2D", "MaxPool2D", "AvgPool2D", "GlobalAveragePooling2D", "Flatten"}
    assert convolutional | {"BatchNorm"} <= names


def test_the_example_table_names_only_registered_classes():
    assert set(EXAMPLES) <= set(REGISTRY.classes())


def test_the_image_examples_cover_the_geometry_the_brief_names():
    """The harness itself must not lose a case: stride, "same" and int padding, a
    non-square kernel and input, no bias, penalties, 9 channels (im2col's view path),
    overlapping pools, BatchNorm on vectors and on images."""
    convs = [c.values[1].make(np.float64) for c in CASES if c.values[0] is ln.Conv2D]
    assert any(c.stride != (1, 1) for c in convs)
    assert {"same", (1, 1)} <= {c.padding for c in convs}
    assert any(kh != kw for kh, kw in (c.kernel_size for c in convs))
    assert any(c.bias is None for c in convs) and any(c.l2 and c.l1 for c in convs)
    assert {1, 2, 3, 9} <= {c.in_channels for c in convs}
    pools = [c.values[1].make(np.float64) for c in CASES if c.values[0] is ln.MaxPool2D]
    assert any(p.stride < p.pool_size for p in pools)
    norms = [c.values[1].spec for c in CASES if c.values[0] is ln.BatchNorm]
    assert any(s.shapes is None for s in norms) and any(s.shapes for s in norms)


def _shapes(case, layer, seed):
    """Per-sample input shapes to check ``layer`` on: the example's own, the layer's if it
    fixes one, else random ones (a vector, a matrix and a 3-D block, all ending in
    FEATURES)."""
    if case.spec.shapes is not None:
        return list(case.spec.shapes)
    if layer.input_shape is not None:
        return [tuple(layer.input_shape)]
    rng = np.random.default_rng(seed)
    a, b = rng.integers(2, 5, 2)
    return [(FEATURES,), (int(a), FEATURES), (int(b), int(a), FEATURES)]


def _rejects(case, layer):
    """The ``(shape, fix)`` pairs the layer must refuse (see ``Spec``)."""
    if case.spec.rejects is not None:
        return case.spec.rejects
    return (((FEATURES + 1,), ""),) if layer.input_shape is not None else ()


def _input(shape, dtype, seed):
    """Values in +-[0.2, 2): away from the kinks at 0 (ReLU, Step, L1)."""
    rng = np.random.default_rng(seed)
    magnitude = rng.uniform(0.2, 2.0, shape)
    return (magnitude * rng.choice([-1.0, 1.0], shape)).astype(dtype)


def _randomize(layer, seed):
    """Parameters and buffers away from their initial values (and from 0); buffers
    positive (running statistics: a variance or a scale must be)."""
    rng = np.random.default_rng(seed)
    for a in [*layer.parameters(), *layer.buffers()]:
        value = _input(a.value.shape, np.float64, int(rng.integers(1 << 30)))
        a.assign(value if isinstance(a, ln.Parameter) else np.abs(value))
    return layer


def _param_free(layer):
    return not layer.parameters() and not layer.buffers()


def _batches(seed):
    return [1, int(np.random.default_rng(seed).integers(2, 6))]


def _one_value_per_feature(layer, batch, shape):
    """True when a layer of BATCH_STATISTICS sees one value per feature in training."""
    return isinstance(layer, BATCH_STATISTICS) and batch * int(np.prod(shape[:-1])) < 2


def _freeze_randomness(layer):
    """Keep a layer's training-time randomness (Dropout's mask) fixed while a gradient
    check perturbs its input."""
    if hasattr(layer, "freeze_mask"):
        layer.freeze_mask = True


@pytest.mark.parametrize(("cls", "case"), CASES)
def test_output_shape_matches_forward(cls, case):
    layer = case.make(np.float32)
    assert isinstance(layer, cls) and isinstance(layer, Layer)
    for i, shape in enumerate(_shapes(case, layer, seed=1)):
        for batch in _batches(seed=i):
            x = _input((batch, *shape), np.float32, seed=i)
            for training in (False, True):
                if training and _one_value_per_feature(layer, batch, shape):
                    with pytest.raises(ValueError, match=layer.name):
                        layer.forward(x, training=True)
                    continue
                y = layer.forward(x, training=training)
                assert y.shape[0] == batch
                assert layer.output_shape(shape) == y.shape[1:], (shape, training)
                grad_x = layer.backward(np.ones_like(y))
                assert grad_x.shape == x.shape
        assert layer.output_shape(None) in (None, layer.output_shape(shape))


@pytest.mark.parametrize(("cls", "case"), CASES)
def test_output_shape_rejects_what_the_layer_cannot_take(cls, case):
    layer = case.make(np.float32)
    rejects = _rejects(case, layer)
    if not rejects:  # shape-agnostic: any shape, with the output the spec names
        expected = case.spec.output or (lambda shape: shape)
        for shape in [(5, 7), (5,), (2, 3, 5)]:
            assert layer.output_shape(shape) == expected(shape)
            y = layer.forward(_input((2, *shape), np.float32, seed=0))
            assert y.shape == (2, *expected(shape))
        return
    for shape, fix in rejects:
        with pytest.raises(ValueError, match=layer.name) as info:
            layer.output_shape(shape)
        message = str(info.value)
        assert f"(batch, {', '.join(map(str, shape))})" in message, (shape, message)
        assert re.search(fix, message), f"{shape}: {message!r} does not name {fix!r}"
        if len(shape) == 1:
            with pytest.raises(ValueError, match=r"layer 1 \(.*\) cannot take the output"):
                ln.Sequential([ln.Dense(2, shape[0]), layer])
        else:
            pattern = rf"layer 0 \({layer.name}, {cls.__name__}\) cannot take"
            with pytest.raises(ValueError, match=pattern):
                ln.Sequential([layer], input_shape=shape)
        with pytest.raises(ValueError, match=layer.name):  # forward refuses it too
            layer.forward(_input((2, *shape), np.float32, seed=0), training=True)


@pytest.mark.parametrize(("cls", "case", "training"), MODES)
def test_gradient_check_inputs_and_every_parameter(cls, case, training):
    """In both modes: training=True checks batch statistics (BatchNorm) and a frozen
    Dropout mask; training=False the running statistics and the identity."""
    layer = _randomize(case.make(np.float32), seed=3)
    _freeze_randomness(layer)
    for i, shape in enumerate(_shapes(case, layer, seed=2)):
        x = _input((3, *shape), np.float64, seed=10 + i)
        report = ln.gradcheck(layer, x, training=training)
        assert report.passed, f"{cls.__name__} on {shape}, training={training}\n{report}"
        checked = [e.parameter for e in report.entries]
        assert checked == [*(p.name for p in layer.parameters()), "input"]
        shapes = [e.shape for e in report.entries[:-1]]
        assert shapes == [p.value.shape for p in layer.parameters()]


def test_the_dropout_gradient_check_runs_with_a_mask():
    layer = ln.Dropout(0.5, seed=0)
    layer.freeze_mask = True
    x = _input((4, FEATURES), np.float64, seed=0)
    report = ln.gradcheck(layer, x, training=True)
    assert report.passed, str(report)
    y = layer.forward(x, training=True)
    assert (y == 0).any() and (y != 0).any()  # the check ran on a real mask
    np.testing.assert_array_equal(layer.forward(x, training=True), y)  # frozen


def test_the_batch_norm_gradient_check_in_training_uses_batch_statistics():
    """The training-mode check is a different function from the inference one: the batch
    statistics make every output depend on every input of its feature. A backward that
    treats the batch's mean and variance as constants passes at inference's formula but
    fails the training check."""

    class ConstantStatistics(ln.BatchNorm):
        def forward(self, x, training=False):
            self.x = np.asarray(x)
            return super().forward(x, training)

        def backward(self, grad, need_input_grad=True):
            super().backward(grad, need_input_grad)  # gamma and beta are right
            var = self.x.reshape(-1, self.features).var(axis=0)
            return grad * self.parameter("gamma").value / np.sqrt(var + self.eps)

    layer = _randomize(ln.BatchNorm(FEATURES, dtype=np.float64), seed=3)
    x = _input((3, 2, FEATURES), np.float64, seed=0)
    assert not np.allclose(layer.forward(x, training=True), layer.forward(x, training=False))
    assert ln.gradcheck(layer, x, training=True).passed
    naive = copy.deepcopy(layer)
    naive.__class__ = ConstantStatistics
    report = ln.gradcheck(naive, x, training=True)
    assert [e.parameter for e in report.failures()] == ["input"], str(report)


@pytest.mark.parametrize(("cls", "case", "training"), MODES)
def test_gradient_check_catches_a_broken_backward(cls, case, training):
    """The harness's gradient check can fail: the same layer with its input gradient
    scaled by 1.5 does not pass."""

    class Broken(cls):
        def backward(self, grad, need_input_grad=True):
            out = super().backward(grad, need_input_grad)
            return None if out is None else out * 1.5

    layer = case.make(np.float64)
    broken = copy.deepcopy(layer)
    broken.__class__ = Broken
    broken = _randomize(broken, seed=3)
    _freeze_randomness(broken)
    shape = _shapes(case, layer, seed=2)[0]
    report = ln.gradcheck(broken, _input((3, *shape), np.float64, seed=4), training=training)
    if isinstance(layer, ln.Step):  # its gradient is 0: scaling keeps it right
        assert report.passed
        return
    assert [e.parameter for e in report.failures()] == ["input"]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("cls", "case"), CASES)
def test_dtype_is_kept_and_astype_converts(cls, case, dtype):
    other = np.float64 if dtype == np.float32 else np.float32
    layer = case.make(dtype)
    shape = _shapes(case, layer, seed=5)[-1]
    for a in [*layer.parameters(), *layer.buffers()]:
        assert a.value.dtype == dtype
    for x_dtype in (np.float32, np.float64):
        y = layer.forward(_input((2, *shape), x_dtype, seed=6), training=False)
        expected = x_dtype if _param_free(layer) else dtype
        assert y.dtype == expected, f"{x_dtype.__name__} input gave {y.dtype}"
        g = layer.backward(np.ones_like(y))
        assert g.dtype == expected
        for p in layer.parameters():
            assert p.grad.dtype == dtype
    assert layer.astype(other) is layer
    for a in [*layer.parameters(), *layer.buffers()]:
        assert a.value.dtype == other
    for p in layer.parameters():
        assert p.grad.dtype == other and p.grad.shape == p.value.shape
    if not _param_free(layer):
        assert layer.dtype == other
        y = layer.forward(_input((2, *shape), dtype, seed=6))
        assert y.dtype == other


@pytest.mark.parametrize(("cls", "case"), CASES)
def test_deepcopy_gives_independent_arrays(cls, case):
    layer = _randomize(case.make(np.float32), seed=7)
    model = ln.Sequential([layer])
    twin = copy.deepcopy(layer)
    assert twin.owner is None and layer.owner is model
    ln.Sequential([twin])  # a copy may join a model of its own
    pairs = list(
        zip(
            [*layer.parameters(), *layer.buffers()],
            [*twin.parameters(), *twin.buffers()],
            strict=True,
        )
    )
    for a, b in pairs:
        np.testing.assert_array_equal(a.value, b.value)
        assert not np.shares_memory(a.value, b.value)
        if isinstance(a, ln.Parameter):
            assert not np.shares_memory(a.grad, b.grad)
    for a, b in pairs:
        b.value[...] += 1
        assert not np.array_equal(a.value, b.value)
    shape = _shapes(case, layer, seed=8)[0]
    x = _input((3, *shape), np.float32, seed=9)
    if pairs:
        assert not np.array_equal(layer.forward(x), twin.forward(x))
    else:
        np.testing.assert_array_equal(layer.forward(x), twin.forward(x))
    model_twin = copy.deepcopy(model)
    for a, b in zip(model.parameters(), model_twin.parameters(), strict=True):
        np.testing.assert_array_equal(a.value, b.value)
        assert not np.shares_memory(a.value, b.value)
        assert np.shares_memory(b.value, model_twin.parameters().flat.values)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("cls", "case"), CASES)
def test_save_load_round_trip(cls, case, dtype, tmp_path):
    layer = _randomize(case.make(dtype), seed=11)
    shape = _shapes(case, layer, seed=12)[-1]
    model = ln.Sequential([layer], input_shape=shape)
    path = tmp_path / "layer.lucid"
    ln.save(model, path)
    loaded = ln.load(path, custom_objects=TEST_ONLY)
    (twin,) = loaded.layers
    assert type(twin) is cls
    assert twin.get_config() == layer.get_config()
    assert [p.name for p in loaded.parameters()] == [p.name for p in model.parameters()]
    assert [b.name for b in loaded.buffers()] == [b.name for b in model.buffers()]
    for a, b in zip(
        [*model.parameters(), *model.buffers()],
        [*loaded.parameters(), *loaded.buffers()],
        strict=True,
    ):
        assert b.value.dtype == a.value.dtype
        np.testing.assert_array_equal(b.value, a.value)
    x = _input((4, *shape), dtype, seed=13)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))


def test_save_load_keeps_the_models_input_shape(tmp_path):
    # a shape no layer fixes: only the model knows it
    model = ln.Sequential([ShiftScale(FEATURES), ln.ReLU()], input_shape=(2, 3, FEATURES))
    path = tmp_path / "shape.lucid"
    ln.save(model, path)
    loaded = ln.load(path, custom_objects=TEST_ONLY)
    assert loaded.input_shape == (2, 3, FEATURES)
    assert loaded.output_shape == (2, 3, FEATURES)
    with pytest.raises(ValueError, match=r"predict: x has shape \(1, 4\)"):
        loaded.predict(np.zeros((1, FEATURES)))


@pytest.mark.parametrize(("cls", "case"), PARAMETRIC)
def test_astype_inside_a_model_keeps_it_training(cls, case):
    layer = _randomize(case.make(np.float32), seed=14)
    shape = _shapes(case, layer, seed=15)[-1]
    model = ln.Sequential([layer], input_shape=shape)
    old_flat = model.parameters().flat
    layer.astype(np.float64)
    params = model.parameters()
    assert params.flat is not None and params.flat is not old_flat
    assert params.flat.values.dtype == np.float64
    assert [id(p) for p in params] == [id(p) for p in layer.parameters()]
    for p in params:
        assert np.shares_memory(p.value, params.flat.values)
        assert np.shares_memory(p.grad, params.flat.grads)
    rng = np.random.default_rng(16)
    x = _input((16, *shape), np.float64, seed=17)
    y = rng.standard_normal((16, *model.output_shape))
    model.compile("mse", ln.SGD(0.05))
    before = [p.value.copy() for p in layer.parameters()]
    loss_before = model.evaluate(x, y)["loss"]
    model.fit(x, y, epochs=3, batch_size=8, verbose=0, seed=0)
    for p, old in zip(layer.parameters(), before, strict=True):
        assert p.value.dtype == np.float64
        assert not np.array_equal(p.value, old), f"{p.name} was not trained after astype"
    assert model.evaluate(x, y)["loss"] < loss_before
    np.testing.assert_array_equal(model.predict(x), layer.forward(x))


@pytest.mark.parametrize(("cls", "case"), CASES)
def test_keeps_shape_is_true_only_for_layers_that_keep_every_shape(cls, case):
    """``keeps_shape`` lets a model infer its input shape through the layer: it must hold
    for every shape the layer takes, in output_shape and in forward."""
    layer = case.make(np.float32)
    if not layer.keeps_shape:
        return
    assert layer.input_shape is None, f"{cls.__name__} keeps shapes but fixes its input"
    for shape in [(FEATURES,), (2, FEATURES), (3, 2, FEATURES)]:
        assert layer.output_shape(shape) == shape
        x = _input((2, *shape), np.float32, seed=21)
        assert layer.forward(x, training=True).shape == x.shape


@pytest.mark.parametrize(("cls", "case"), PARAMETRIC)
def test_forward_reads_the_live_parameters_inside_a_model(cls, case):
    """A layer must read its arrays through its Parameter objects on every call (a copy
    kept in __init__ would keep the numbers from before the model's layout, and training
    would update arrays that forward never reads)."""
    layer = _randomize(case.make(np.float64), seed=18)
    shape = _shapes(case, layer, seed=19)[-1]
    model = ln.Sequential([layer], input_shape=shape)
    x = _input((4, *shape), np.float64, seed=20)
    before = model.predict(x)
    model.flat_buffers.values[...] *= 1.5  # what an optimizer step does: write the buffer
    assert not np.allclose(model.predict(x), before), f"{cls.__name__} reads stale arrays"


# --- the buffer path --------------------------------------------------------------------


def _buffer_model():
    return ln.Sequential([ShiftScale(FEATURES), ln.Dense(FEATURES, 1, seed=0)])


def _regression(n=32, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(3.0, 1.0, (n, FEATURES)).astype(np.float32)
    return x, x @ np.array([[1.0], [-1.0], [0.5], [2.0]], np.float32)


def test_buffers_are_listed_and_never_trained():
    model = _buffer_model()
    assert [b.name for b in model.buffers()] == ["shift_scale.running_mean"]
    assert [p.name for p in model.parameters()] == [
        "shift_scale.gamma",
        "dense.weights",
        "dense.bias",
    ]
    assert model.count_parameters() == FEATURES + FEATURES + 1
    assert "Non-trainable (buffers): 4" in str(model)
    buffer = model.layers[0].buffers()[0]
    assert not np.shares_memory(buffer.value, model.parameters().flat.values)
    x, y = _regression()
    model.compile("mse", ln.SGD(0.01))
    model.fit(x, y, epochs=2, batch_size=8, verbose=0, seed=0)
    # the buffer moved only through forward's running mean, towards the data's mean
    assert np.all(buffer.value > 2.0)
    assert not hasattr(buffer, "grad")
    for name in model.optimizer.get_state():
        assert "running_mean" not in name


def test_get_weights_and_set_weights_cover_buffers():
    model = _buffer_model()
    x, _ = _regression()
    model.forward(x, training=True)
    weights = model.get_weights()
    assert len(weights) == 4
    np.testing.assert_array_equal(weights[3], model.buffers()[0].value)
    assert np.all(weights[3] != 0)
    other = _buffer_model()
    other.set_weights(weights)
    np.testing.assert_array_equal(other.buffers()[0].value, weights[3])
    np.testing.assert_array_equal(other.predict(x), model.predict(x))
    with pytest.raises(ValueError, match=r"expected 4 arrays \(3 parameters, 1 buffers\), got 3"):
        other.set_weights(weights[:3])
    bad = [*weights[:3], np.zeros(FEATURES + 1)]
    with pytest.raises(ValueError, match=r"shift_scale\.running_mean has shape \(4,\), got \(5,\)"):
        other.set_weights(bad)


def test_save_load_keeps_buffers_and_optimizer_state(tmp_path):
    model = _buffer_model()
    x, y = _regression()
    model.compile("mse", ln.Adam(0.01))
    model.fit(x, y, epochs=2, batch_size=8, verbose=0, seed=0)
    path = tmp_path / "buffers.lucid"
    ln.save(model, path)
    loaded = ln.load(path, custom_objects=TEST_ONLY)
    np.testing.assert_array_equal(loaded.buffers()[0].value, model.buffers()[0].value)
    for a, b in zip(loaded.get_weights(), model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    # training continues identically from the file (buffers and Adam's moments included)
    model.fit(x, y, epochs=3, batch_size=8, verbose=0, seed=0, initial_epoch=2)
    loaded.fit(x, y, epochs=3, batch_size=8, verbose=0, seed=0, initial_epoch=2)
    for a, b in zip(loaded.get_weights(), model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_early_stopping_restores_buffers():
    class Score(ln.Callback):
        """Makes epoch 1 the best of a made-up score; records each epoch's weights."""

        def __init__(self):
            super().__init__()
            self.weights = []

        def on_epoch_end(self, epoch, logs=None):
            logs["score"] = [3.0, 1.0, 2.0, 4.0, 5.0][epoch]
            self.weights.append(self.model.get_weights())

    model = _buffer_model()
    x, y = _regression()
    model.compile("mse", ln.SGD(0.001))
    score = Score()
    stop = ln.EarlyStopping(monitor="score", patience=10, restore_best_weights=True)
    model.fit(x, y, epochs=5, batch_size=8, verbose=0, seed=0, callbacks=[score, stop])
    assert stop.best_epoch == 1
    best, last = score.weights[1], score.weights[-1]
    assert not np.array_equal(best[3], last[3])  # the buffer moved after the best epoch
    for a, b in zip(model.get_weights(), best, strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(model.buffers()[0].value, best[3])
