"""ONNX export (issue 15): every layer class and whole models, run in onnxruntime and
compared number for number with lucidnet; metadata, errors, ``verify_onnx`` and the CLI.

The contract: ``to_onnx(model, path=None, opset=17, input_shape=None, class_names=None,
feature_names=None)`` gives a graph with one input ``"input"`` of shape
``[batch, *input_shape]`` (channels-last images, the model's dtype) and one output,
``"probabilities"`` (``predict_proba``) for a classifier, ``"output"`` (``predict``)
otherwise. Each comparison runs batches of 1, 2 and 7 to 1e-5 (float32) or 1e-10
(float64), and every exported model passes ``onnx.checker.check_model(full_check=True)``.
"""

import copy
import inspect
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

onnx = pytest.importorskip("onnx", reason="the ONNX export tests need the onnx package")
ort = pytest.importorskip(
    "onnxruntime", reason="the ONNX export tests need onnxruntime (pip install 'lucidnet[onnx]')"
)

import lucidnet as ln  # noqa: E402
from lucidnet import export  # noqa: E402
from lucidnet.data_contract import DataContract, FeatureColumn  # noqa: E402

# (the contract's ``from lucidnet.export import ...``; imported through the package so
# that the import sorting does not depend on whether the module exists yet)
ExportError, to_onnx, verify_onnx = export.ExportError, export.to_onnx, export.verify_onnx

BATCHES = (1, 2, 7)
ATOL32 = 1e-5
ATOL64 = 1e-10


# --- helpers --------------------------------------------------------------------------


def _session(proto_or_path):
    options = ort.SessionOptions()
    options.log_severity_level = 3  # errors only
    source = proto_or_path
    if isinstance(source, onnx.ModelProto):
        source = source.SerializeToString()
    else:
        source = str(source)
    return ort.InferenceSession(source, options, providers=["CPUExecutionProvider"])


def _run(proto, x):
    (out,) = _session(proto).run(None, {"input": x})
    return out


def _op_types(proto):
    return [node.op_type for node in proto.graph.node]


def _metadata(proto):
    return {p.key: p.value for p in proto.metadata_props}


def _expected(model, x):
    return model.predict_proba(x) if model.is_classifier else model.predict(x)


def _randomize(model, seed, bias_scale=0.5):
    """Random weights: kernels scaled by 1/sqrt(fan_in) (outputs of order 1), vectors
    (biases, BatchNorm's gamma and beta) of ``bias_scale``; gamma kept away from 0."""
    rng = np.random.default_rng(seed)
    for p in model.parameters():
        shape = p.value.shape
        if len(shape) >= 2:
            value = rng.normal(0.0, 1.0 / np.sqrt(np.prod(shape[:-1])), shape)
        elif p.name.endswith("gamma"):
            value = rng.uniform(0.5, 2.0, shape) * rng.choice([-1.0, 1.0], shape)
        else:
            value = rng.normal(0.0, bias_scale, shape)
        p.assign(value)
    return model


def _set_running_stats(bn, seed):
    """Running statistics far from the defaults (mean 0, var 1), with variances of the
    order of a non-default eps, so that a wrong eps or a mix-up of var and std shows."""
    rng = np.random.default_rng(seed)
    bn._buffers["running_mean"].assign(rng.normal(0.0, 1.0, bn.features))
    bn._buffers["running_var"].assign(rng.uniform(0.01, 0.2, bn.features))


def _check_signature(proto, model, input_shape, output_name):
    """One input "input" [batch, *input_shape] and one output ``output_name``, both of
    the model's dtype."""
    elem = onnx.TensorProto.DOUBLE if model.dtype == np.float64 else onnx.TensorProto.FLOAT
    inputs = [
        i for i in proto.graph.input if i.name not in {t.name for t in proto.graph.initializer}
    ]
    assert [i.name for i in inputs] == ["input"]
    (inp,) = inputs
    assert inp.type.tensor_type.elem_type == elem
    dims = inp.type.tensor_type.shape.dim
    assert dims[0].dim_param == "batch" and not dims[0].HasField("dim_value")
    assert [d.dim_value for d in dims[1:]] == list(input_shape)
    assert [o.name for o in proto.graph.output] == [output_name]
    assert proto.graph.output[0].type.tensor_type.elem_type == elem


def _conforms(model, ops=(), x_for=None, seed=0, atol=None, **export_args):
    """Export ``model``, check the graph, and compare onnxruntime with lucidnet for
    batches of 1, 2 and 7. ``ops``: alternatives (sets of op types), one of which the graph
    must contain. ``x_for(rng, n)`` makes the inputs (default: standard normal).
    Returns the proto."""
    proto = to_onnx(model, **export_args)
    assert isinstance(proto, onnx.ModelProto)
    onnx.checker.check_model(proto, full_check=True)
    shape = tuple(export_args.get("input_shape") or model.input_shape)
    name = "probabilities" if model.is_classifier else "output"
    _check_signature(proto, model, shape, name)
    if ops:
        present = set(_op_types(proto))
        assert any(set(alt) <= present for alt in ops), (ops, _op_types(proto))
    dtype = model.dtype
    if atol is None:
        atol = ATOL64 if dtype == np.float64 else ATOL32
    session = _session(proto)
    rng = np.random.default_rng(seed)
    for n in BATCHES:
        x = rng.standard_normal((n, *shape)) if x_for is None else x_for(rng, n)
        x = np.asarray(x, dtype=dtype)
        want = _expected(model, x)
        (got,) = session.run(None, {"input": x})
        assert got.dtype == want.dtype, (got.dtype, want.dtype)
        assert got.shape == want.shape, (got.shape, want.shape)
        np.testing.assert_allclose(got, want, rtol=atol, atol=atol, err_msg=f"batch {n}")
    return proto


# --- one model per layer class --------------------------------------------------------


@pytest.mark.parametrize("bias", [True, False])
def test_dense(bias):
    model = _randomize(ln.Sequential([ln.Dense(5, 3, bias=bias, seed=1)]), seed=1)
    proto = _conforms(model, ops=[{"Gemm"}, {"MatMul"}])
    if not bias:  # no bias in the graph: no Gemm C, no Add of a bias
        assert "Add" not in _op_types(proto)


ACTIVATIONS = [
    ("identity", ln.Identity, []),  # may be dropped, as Dropout is
    ("sigmoid", ln.Sigmoid, [{"Sigmoid"}]),
    ("tanh", ln.Tanh, [{"Tanh"}]),
    ("relu", ln.ReLU, [{"Relu"}, {"Max"}]),
    ("leaky_relu", lambda: ln.LeakyReLU(0.2), [{"LeakyRelu"}, {"Where"}]),
    ("exp", ln.Exp, [{"Exp"}]),
    ("softmax", ln.Softmax, [{"Softmax"}]),
    ("step", ln.Step, [{"Greater", "Cast"}, {"Less", "Cast"}]),
]


def _with_zeros(rng, n):
    """Inputs of both signs and magnitudes that saturate sigmoid and tanh, with exact
    zeros (Step(0) is 0, ReLU's kink) in every batch."""
    x = 3.0 * rng.standard_normal((n, 6))
    x[:, ::3] = 0.0
    return x


@pytest.mark.parametrize(("kind", "make", "ops"), ACTIVATIONS, ids=[a[0] for a in ACTIVATIONS])
def test_activation(kind, make, ops):
    model = ln.Sequential([make()], input_shape=(6,))
    _conforms(model, ops=ops, x_for=_with_zeros)


@pytest.mark.parametrize(("kind", "make", "ops"), ACTIVATIONS, ids=[a[0] for a in ACTIVATIONS])
def test_activation_after_a_dense(kind, make, ops):
    model = _randomize(ln.Sequential([ln.Dense(4, 6, seed=2), make()]), seed=2, bias_scale=1.0)
    _conforms(model, ops=ops)


def test_step_at_zero_is_zero():
    model = ln.Sequential([ln.Step()], input_shape=(4,))
    x = np.array([[-1.0, 0.0, 1e-30, 2.0]], dtype=np.float32)
    out = _run(to_onnx(model), x)
    np.testing.assert_array_equal(out, [[0.0, 0.0, 1.0, 1.0]])


@pytest.mark.parametrize(
    "make", [ln.Softmax, ln.ReLU, lambda: ln.LeakyReLU(0.3), ln.Step, ln.Sigmoid, ln.Exp]
)
def test_activation_on_images_after_a_conv(make):
    """Softmax runs over the channels (lucidnet's last axis) even where the graph keeps
    images channels first inside."""
    model = ln.Sequential(
        [ln.Conv2D(2, 4, 3, padding="same", seed=3), make()], input_shape=(5, 6, 2)
    )
    _randomize(model, seed=3)
    _conforms(model)


def test_softmax_on_images_normalizes_the_channels():
    model = ln.Sequential([ln.Conv2D(2, 4, 1, seed=4), ln.Softmax()], input_shape=(3, 5, 2))
    _randomize(model, seed=4)
    x = np.random.default_rng(4).standard_normal((2, 3, 5, 2)).astype(np.float32)
    out = _run(to_onnx(model), x)
    np.testing.assert_allclose(out.sum(axis=-1), 1.0, atol=1e-5)


def test_dropout_is_dropped():
    model = ln.Sequential(
        [ln.Dense(4, 6, seed=5), ln.Dropout(0.5, seed=0), ln.ReLU(), ln.Dense(6, 2, seed=6)]
    )
    _randomize(model, seed=5)
    proto = _conforms(model, ops=[{"Relu"}])
    assert "Dropout" not in _op_types(proto)


def _tabular(rng, n):
    loc = np.array([10.0, -5.0, 0.0, 100.0, 3.0])
    scale = np.array([2.0, 0.5, 1.0, 30.0, 0.0])  # the last column is constant
    return loc + scale * rng.standard_normal((n, 5))


def test_standardize():
    layer = ln.Standardize(5).adapt(_tabular(np.random.default_rng(100), 200))
    mean, scale = layer._buffers["mean"].value, layer._buffers["scale"].value
    assert np.abs(mean).max() > 50 and np.abs(scale - 1).max() > 10  # not the identity
    model = ln.Sequential([layer])
    _conforms(model, ops=[{"Sub"}, {"Add"}, {"BatchNormalization"}], x_for=_tabular)


CONVS = [
    # (kernel, stride, padding, bias, input (H, W, C))
    (3, 1, "valid", True, (6, 7, 2)),
    (3, 1, "same", True, (6, 7, 2)),
    (3, 2, "same", True, (7, 8, 2)),  # padding (1, 1) rows, (0, 1) columns: the odd zero after
    ((2, 3), (2, 1), "same", False, (7, 8, 3)),
    (4, 2, "same", True, (9, 6, 1)),
    (3, 2, "valid", True, (8, 9, 2)),  # the last row and column fit no window
    (3, 1, 1, True, (5, 5, 2)),
    ((3, 2), (1, 2), (2, 1), False, (5, 6, 2)),
    (1, 1, "valid", True, (4, 3, 5)),
]


@pytest.mark.parametrize(("kernel", "stride", "padding", "bias", "shape"), CONVS)
def test_conv2d(kernel, stride, padding, bias, shape):
    conv = ln.Conv2D(shape[2], 3, kernel, stride=stride, padding=padding, bias=bias, seed=7)
    model = _randomize(ln.Sequential([conv], input_shape=shape), seed=7)
    proto = _conforms(model, ops=[{"Conv"}])
    assert model.output_shape[-1] == 3  # channels last out: (N, Ho, Wo, F), checked above
    assert _op_types(proto).count("Conv") == 1


POOLS = [
    # (pool_size, stride, input (H, W, C))
    (2, None, (6, 6, 3)),
    (2, None, (7, 5, 2)),  # the odd row and column left out
    (3, 2, (7, 8, 2)),  # overlapping windows
    ((2, 3), (1, 2), (5, 7, 3)),
    (3, 1, (4, 4, 1)),
]


@pytest.mark.parametrize(("pool", "stride", "shape"), POOLS)
@pytest.mark.parametrize(("cls", "op"), [(ln.MaxPool2D, "MaxPool"), (ln.AvgPool2D, "AveragePool")])
def test_pooling(cls, op, pool, stride, shape):
    model = ln.Sequential([cls(pool, stride=stride)], input_shape=shape)
    _conforms(model, ops=[{op}])


@pytest.mark.parametrize(("cls", "op"), [(ln.MaxPool2D, "MaxPool"), (ln.AvgPool2D, "AveragePool")])
def test_pooling_between_convolutions(cls, op):
    model = ln.Sequential(
        [
            ln.Conv2D(2, 4, 3, padding="same", seed=8),
            cls(2),
            ln.Conv2D(4, 3, 2, seed=9),
        ],
        input_shape=(8, 9, 2),
    )
    _conforms(_randomize(model, seed=8), ops=[{"Conv", op}])


def test_global_average_pooling():
    model = ln.Sequential([ln.GlobalAveragePooling2D()], input_shape=(5, 4, 3))
    _conforms(model, ops=[{"GlobalAveragePool"}, {"ReduceMean"}])
    assert model.output_shape == (3,)


def test_global_average_pooling_after_a_conv_before_a_dense():
    model = ln.Sequential(
        [ln.Conv2D(3, 5, 3, seed=10), ln.ReLU(), ln.GlobalAveragePooling2D(), ln.Dense(5, 2)],
        input_shape=(6, 7, 3),
    )
    _conforms(_randomize(model, seed=10), ops=[{"GlobalAveragePool"}, {"ReduceMean"}])


def test_batchnorm_vectors():
    bn = ln.BatchNorm(5, eps=0.05)
    model = ln.Sequential([ln.Dense(4, 5, seed=11), bn])
    _randomize(model, seed=11)
    _set_running_stats(bn, seed=11)
    _conforms(model, ops=[{"Sub"}, {"Mul"}, {"Add"}])
    # the test data separate eps = 0.05 from the default 1e-5: a lost eps would show
    x = np.random.default_rng(11).standard_normal((7, 4)).astype(np.float32)
    want = model.predict(x)
    bn.eps = 1e-5
    assert np.abs(model.predict(x) - want).max() > 1e-2


@pytest.mark.parametrize("eps", [1e-3, 0.05])
def test_batchnorm_images(eps):
    bn = ln.BatchNorm(4, eps=eps)
    model = ln.Sequential(
        [ln.Conv2D(3, 4, 3, padding="same", seed=12), bn, ln.ReLU()], input_shape=(6, 5, 3)
    )
    _randomize(model, seed=12)
    _set_running_stats(bn, seed=12)
    _conforms(model, ops=[{"Conv"}, {"Mul"}])


def test_batchnorm_on_the_input_images():
    bn = ln.BatchNorm(3, eps=0.05)
    model = ln.Sequential([bn], input_shape=(4, 5, 3))
    _randomize(model, seed=13)
    _set_running_stats(bn, seed=13)
    _conforms(model, ops=[{"Mul"}])


@pytest.mark.parametrize("shape", [(6, 4), (5, 5), (2, 3, 2, 4)])
def test_batchnorm_normalizes_the_last_axis_of_any_shape(shape):
    """lucidnet normalizes the last axis whatever the rank (sequences (T, F) after a
    Reshape, say); ONNX's BatchNormalization normalizes axis 1. With T == F, (5, 5), a graph
    that normalized axis 1 would even pass the checker, and compute something else."""
    features = shape[-1]
    bn = ln.BatchNorm(features, eps=0.05)
    size = int(np.prod(shape))
    model = ln.Sequential([ln.Reshape(shape), bn], input_shape=(size,))
    _randomize(model, seed=50)
    _set_running_stats(bn, seed=50)
    _conforms(model)


def test_batchnorm_statistics_matter():
    """The test data above separates running statistics from the batch's own: an export
    that normalized with the batch statistics (training mode) would differ."""
    bn = ln.BatchNorm(3, eps=0.05)
    model = ln.Sequential([bn], input_shape=(3,))
    _randomize(model, seed=14)
    _set_running_stats(bn, seed=14)
    x = np.random.default_rng(14).standard_normal((7, 3)).astype(np.float32)
    out = _run(to_onnx(model), x)
    np.testing.assert_allclose(out, model.predict(x), atol=ATOL32)
    training_mode = bn.forward(x, training=True)
    assert np.abs(training_mode - out).max() > 0.1


def test_flatten_keeps_lucidnet_element_order():
    """(H, W, C) flattened pixel by pixel, each pixel's channels together."""
    model = ln.Sequential([ln.Flatten()], input_shape=(3, 4, 2))
    proto = _conforms(model, ops=[{"Flatten"}, {"Reshape"}])
    x = np.arange(2 * 24, dtype=np.float32).reshape(2, 3, 4, 2)
    np.testing.assert_array_equal(_run(proto, x), x.reshape(2, 24))


def test_flatten_after_a_conv_then_dense():
    """A Dense after Flatten with random weights: any other element order (channels first,
    PyTorch's) gives other numbers."""
    model = ln.Sequential(
        [ln.Conv2D(2, 3, 2, seed=15), ln.Flatten(), ln.Dense(4 * 5 * 3, 4, seed=16)],
        input_shape=(5, 6, 2),
    )
    _randomize(model, seed=15)
    proto = _conforms(model, ops=[{"Conv"}])
    # the check can fail: the channels-first order gives numbers far from lucidnet's
    x = np.random.default_rng(15).standard_normal((3, 5, 6, 2)).astype(np.float32)
    feature_maps = model.forward(x, end=1)
    dense = model.layers[2]
    wrong = feature_maps.transpose(0, 3, 1, 2).reshape(3, -1) @ dense.weights + dense.bias
    assert np.abs(wrong - model.predict(x)).max() > 0.1
    np.testing.assert_allclose(_run(proto, x), model.predict(x), atol=ATOL32, rtol=ATOL32)


def test_reshape_rows_to_images():
    model = ln.Sequential(
        [
            ln.Reshape((4, 3, 2)),
            ln.Conv2D(2, 3, 2, seed=17),
            ln.Flatten(),
            ln.Dense(3 * 2 * 3, 2, seed=18),
        ],
        input_shape=(24,),
    )
    _conforms(_randomize(model, seed=17), ops=[{"Reshape", "Conv"}])


def test_reshape_alone():
    model = ln.Sequential([ln.Reshape((6, 4))], input_shape=(4, 6))
    proto = _conforms(model, ops=[{"Reshape"}])
    x = np.arange(48, dtype=np.float32).reshape(2, 4, 6)
    np.testing.assert_array_equal(_run(proto, x), x.reshape(2, 6, 4))


def test_reshape_of_feature_maps():
    """Reshaping a conv's channels-last output: the order is lucidnet's, whatever layout
    the graph uses inside."""
    model = ln.Sequential([ln.Conv2D(2, 3, 1, seed=19), ln.Reshape((12, 3))], input_shape=(3, 4, 2))
    _conforms(_randomize(model, seed=19), ops=[{"Conv", "Reshape"}])


# --- whole models -----------------------------------------------------------------------


def _check_metadata(proto, output, task, class_names=None, feature_names=None):
    meta = _metadata(proto)
    assert meta["lucidnet_version"] == ln.__version__
    assert meta["output"] == output
    assert meta["task"] == task
    if class_names is None:
        assert "class_names" not in meta
    else:
        assert json.loads(meta["class_names"]) == class_names
    if feature_names is None:
        assert "feature_names" not in meta
    else:
        assert json.loads(meta["feature_names"]) == feature_names


def _mlp(n_in, n_out, seed, dtype=np.float32, hidden=16):
    model = ln.Sequential(
        [
            ln.Dense(n_in, hidden, seed=seed, dtype=dtype),
            ln.ReLU(),
            ln.Dense(hidden, n_out, seed=seed + 1, dtype=dtype),
        ]
    )
    return _randomize(model, seed=seed)


def test_mlp_classifier_from_logits_gives_softmax_probabilities():
    model = _mlp(4, 3, seed=20).compile(ln.CrossEntropy(from_logits=True))
    proto = _conforms(model, class_names=["cat", "dog", "bird"], feature_names=list("abcd"))
    _check_metadata(proto, "predict_proba", "classification", ["cat", "dog", "bird"], list("abcd"))
    x = np.random.default_rng(20).standard_normal((7, 4)).astype(np.float32)
    out = _run(proto, x)
    np.testing.assert_allclose(out.sum(axis=1), 1.0, atol=1e-6)
    assert np.abs(out - model.predict(x)).max() > 0.1  # the link is in the graph


def test_binary_classifier_from_logits_gives_sigmoid_probabilities():
    model = ln.Sequential([ln.Dense(4, 8, seed=21), ln.Tanh(), ln.Dense(8, 1, seed=22)])
    _randomize(model, seed=21, bias_scale=1.0)
    model.compile(ln.BinaryCrossEntropy(from_logits=True))
    proto = _conforms(model, ops=[{"Sigmoid"}])
    _check_metadata(proto, "predict_proba", "classification")
    x = np.random.default_rng(21).standard_normal((7, 4)).astype(np.float32)
    out = _run(proto, x)
    assert out.shape == (7, 1) and ((out > 0) & (out < 1)).all()
    assert np.abs(out - model.predict(x)).max() > 0.1


def test_poisson_regressor_exports_its_means_or_its_log_means():
    """A regressor's graph gives ``predict``: the means after an Exp layer; from log means
    (``Poisson(from_log=True)``, no Exp) the log means, as ``predict`` returns them (its
    ``"exp"`` link is for the metrics, not part of the output)."""
    logs = _mlp(4, 2, seed=23).compile(ln.Poisson(from_log=True))
    means = _mlp(4, 2, seed=23)
    means = ln.Sequential([*copy.deepcopy(means.layers), ln.Exp()]).compile("poisson")
    proto = _conforms(means, ops=[{"Exp"}])
    _check_metadata(proto, "predict", "regression")
    proto = _conforms(logs)
    assert "Exp" not in _op_types(proto)
    x = np.random.default_rng(23).standard_normal((7, 4)).astype(np.float32)
    np.testing.assert_allclose(np.exp(_run(proto, x)), means.predict(x), rtol=1e-5)


def test_classifier_ending_in_softmax_with_plain_cross_entropy():
    model = ln.Sequential(
        [ln.Dense(4, 8, seed=23), ln.ReLU(), ln.Dense(8, 3, seed=24), ln.Softmax()]
    )
    _randomize(model, seed=23, bias_scale=1.0)
    model.compile("cross_entropy")
    proto = _conforms(model)
    _check_metadata(proto, "predict_proba", "classification")
    assert _op_types(proto).count("Softmax") == 1  # no second softmax on probabilities
    x = np.random.default_rng(23).standard_normal((7, 4)).astype(np.float32)
    np.testing.assert_allclose(_run(proto, x), model.predict(x), atol=ATOL32)


def test_regressor():
    model = _mlp(3, 2, seed=25).compile("mse")
    assert not model.is_classifier
    proto = _conforms(model, feature_names=["x", "y", "z"])
    _check_metadata(proto, "predict", "regression", feature_names=["x", "y", "z"])


def _cnn(seed, dtype=np.float32):
    model = ln.Sequential(
        [
            ln.Conv2D(3, 4, 3, padding="same", seed=seed, dtype=dtype),
            ln.ReLU(),
            ln.MaxPool2D(2),
            ln.Conv2D(4, 6, 3, stride=2, padding="same", seed=seed + 1, dtype=dtype),
            ln.ReLU(),
            ln.AvgPool2D(2, stride=1),
            ln.Flatten(),
            ln.Dense(3 * 3 * 6, 10, seed=seed + 2, dtype=dtype),
            ln.LeakyReLU(0.1),
            ln.Dense(10, 3, seed=seed + 3, dtype=dtype),
        ],
        input_shape=(16, 14, 3),
    )
    return _randomize(model, seed=seed)


def test_cnn_classifier():
    model = _cnn(seed=26).compile(ln.CrossEntropy(from_logits=True))
    assert model.shapes()[5] == (3, 3, 6)
    proto = _conforms(model, ops=[{"Conv", "MaxPool", "AveragePool", "Softmax"}])
    _check_metadata(proto, "predict_proba", "classification")


def test_model_with_standardize_first():
    layer = ln.Standardize(5).adapt(_tabular(np.random.default_rng(101), 300))
    model = ln.Sequential(
        [layer, ln.Dense(5, 8, seed=27), ln.Tanh(), ln.Dense(8, 1, seed=28)]
    ).compile("mse")
    _randomize(model, seed=27)
    proto = _conforms(model, x_for=_tabular)
    _check_metadata(proto, "predict", "regression")


def test_float64_mlp():
    model = _mlp(4, 3, seed=29, dtype=np.float64).compile(ln.CrossEntropy(from_logits=True))
    assert model.dtype == np.float64
    proto = _conforms(model)
    for init in proto.graph.initializer:
        assert init.data_type in (onnx.TensorProto.DOUBLE, onnx.TensorProto.INT64), init.name
    # float32 arithmetic could not pass 1e-10: the check above can fail
    x = np.random.default_rng(29).standard_normal((7, 4))
    as32 = _mlp(4, 3, seed=29).compile(ln.CrossEntropy(from_logits=True))
    assert np.abs(as32.predict_proba(x.astype(np.float32)) - model.predict_proba(x)).max() > ATOL64


def test_float64_images_with_batchnorm_and_max_pooling():
    """eps = 0.05 is not a float32 number, and ONNX's BatchNormalization takes its
    epsilon as a float32 attribute: passed that way it is off by 7e-10, which moves the
    outputs by about 3e-9. A float64 export keeps eps in float64 (added to the running
    variance, with epsilon 0, or as float64 Mul and Add constants)."""
    bn = ln.BatchNorm(3, eps=0.05)
    model = ln.Sequential(
        [bn, ln.ReLU(), ln.MaxPool2D(2), ln.Flatten(), ln.Dense(3 * 3 * 3, 2, seed=31)],
        input_shape=(6, 7, 3),
    )
    _randomize(model, seed=30)
    _set_running_stats(bn, seed=30)
    model.astype(np.float64)
    assert model.dtype == np.float64
    _conforms(model, ops=[{"MaxPool"}])


def test_float64_conv_runs_or_is_refused():
    """onnxruntime's CPU provider has no float64 Conv, AveragePool or GlobalAveragePool: a
    float64 graph with them would pass the checker and then fail to load. The export
    either computes them another way (and matches to 1e-10) or refuses, naming the layer."""
    model = ln.Sequential(
        [ln.Conv2D(2, 4, 3, stride=2, padding="same", seed=32), ln.ReLU(), ln.Flatten()],
        input_shape=(8, 7, 2),
    )
    _randomize(model, seed=32)
    model.astype(np.float64)
    try:
        proto = to_onnx(model)
    except ValueError as err:
        assert "conv2d" in str(err) and "Conv2D" in str(err), err
        return
    _conforms(model)
    assert verify_onnx(model, proto) < ATOL64


def test_metadata_from_the_data_contract():
    contract = DataContract(
        source="flowers.csv",
        task="classification",
        target="species",
        class_names=["setosa", "versicolor", "virginica"],
        features=[FeatureColumn("petal"), FeatureColumn("colour", ["blue", "red"])],
    )
    model = _mlp(3, 3, seed=31).compile(ln.CrossEntropy(from_logits=True))
    model.info["data"] = contract.to_json()
    proto = to_onnx(model)
    _check_metadata(
        proto,
        "predict_proba",
        "classification",
        ["setosa", "versicolor", "virginica"],
        ["petal", "colour=blue", "colour=red"],
    )
    # the arguments win over the contract
    proto = to_onnx(model, class_names=["a", "b", "c"], feature_names=["p", "q", "r"])
    _check_metadata(proto, "predict_proba", "classification", ["a", "b", "c"], ["p", "q", "r"])


def test_metadata_from_a_regression_contract_with_whole_number_class_names():
    contract = DataContract(
        source="houses.csv",
        task="regression",
        target="price",
        features=[FeatureColumn("rooms"), FeatureColumn("area")],
    )
    model = _mlp(2, 1, seed=32).compile("mse")
    model.info["data"] = contract.to_json()
    _check_metadata(to_onnx(model), "predict", "regression", feature_names=["rooms", "area"])
    binary = DataContract(source="b.csv", task="classification", target="y", class_names=[-1, 1])
    model = ln.Sequential([ln.Dense(2, 1, seed=33)]).compile(
        ln.BinaryCrossEntropy(from_logits=True)
    )
    model.info["data"] = binary.to_json()
    _check_metadata(to_onnx(model), "predict_proba", "classification", [-1, 1])


def test_opset_and_ir_version():
    model = _mlp(3, 2, seed=34)
    proto = to_onnx(model)
    opsets = {o.domain: o.version for o in proto.opset_import}
    assert opsets.get("", opsets.get("ai.onnx")) == 17
    assert proto.ir_version == 8
    proto18 = _conforms(model, opset=18)
    opsets = {o.domain: o.version for o in proto18.opset_import}
    assert opsets.get("", opsets.get("ai.onnx")) == 18


def test_input_shape_argument_supplies_a_missing_shape():
    model = ln.Sequential([ln.Conv2D(3, 4, 3, seed=35), ln.ReLU(), ln.GlobalAveragePooling2D()])
    assert model.input_shape is None
    _conforms(_randomize(model, seed=35), input_shape=(8, 7, 3))
    model = ln.Sequential([ln.Tanh()])
    _conforms(model, input_shape=(5,))


def test_export_writes_the_file_atomically(tmp_path):
    model = _mlp(3, 2, seed=36)
    path = tmp_path / "model.onnx"
    path.write_bytes(b"old")
    proto = to_onnx(model, path)
    assert onnx.load(str(path)).SerializeToString() == proto.SerializeToString()
    assert sorted(os.listdir(tmp_path)) == ["model.onnx"]  # no temporary file left
    x = np.random.default_rng(36).standard_normal((2, 3)).astype(np.float32)
    np.testing.assert_allclose(
        _session(path).run(None, {"input": x})[0], model.predict(x), atol=ATOL32
    )
    # a failed export leaves the old file as it was
    bad = ln.Sequential([ln.Dense(3, 2), Doubler()])
    with pytest.raises(ExportError):
        to_onnx(bad, path)
    assert onnx.load(str(path)).SerializeToString() == proto.SerializeToString()
    assert sorted(os.listdir(tmp_path)) == ["model.onnx"]
    with pytest.raises(ExportError):
        to_onnx(bad, tmp_path / "new.onnx")
    assert not (tmp_path / "new.onnx").exists()


# --- a trained model, through a model file ---------------------------------------------


def _blobs(seed, n=300):
    rng = np.random.default_rng(seed)
    centres = np.array([[0.0, 0.0, 2.0, -1.0], [3.0, 1.0, -1.0, 0.0], [-2.0, 3.0, 0.0, 2.0]])
    y = rng.integers(0, 3, n)
    x = centres[y] + 0.7 * rng.standard_normal((n, 4))
    return x.astype(np.float32), y


def test_trained_mlp_saved_and_loaded(tmp_path):
    x, y = _blobs(37)
    model = ln.Sequential(
        [
            ln.Dense(4, 16, seed=37),
            ln.BatchNorm(16),
            ln.ReLU(),
            ln.Dropout(0.2, seed=1),
            ln.Dense(16, 3, seed=38),
        ]
    ).compile(ln.CrossEntropy(from_logits=True), ln.Adam(0.01))
    model.fit(x, y, epochs=5, batch_size=32, verbose=0, seed=0)
    bn = model.layers[1]
    assert np.abs(bn._buffers["running_mean"].value).max() > 0.1  # real statistics
    path = tmp_path / "trained.lucid"
    ln.save(model, path)
    loaded = ln.load(path)
    proto = to_onnx(loaded, tmp_path / "trained.onnx")
    onnx.checker.check_model(str(tmp_path / "trained.onnx"), full_check=True)
    assert [o.name for o in proto.graph.output] == ["probabilities"]
    session = _session(tmp_path / "trained.onnx")
    xt, yt = _blobs(38, n=100)
    for n in BATCHES:
        (got,) = session.run(None, {"input": xt[:n]})
        np.testing.assert_allclose(got, model.predict_proba(xt[:n]), atol=ATOL32, rtol=ATOL32)
    (got,) = session.run(None, {"input": xt})
    np.testing.assert_allclose(got, loaded.predict_proba(xt), atol=ATOL32, rtol=ATOL32)
    assert (got.argmax(axis=1) == yt).mean() > 0.9  # the model learned: real numbers
    assert verify_onnx(loaded, proto) < ATOL32


# --- verify_onnx --------------------------------------------------------------------------


def test_verify_onnx_reports_the_difference(tmp_path):
    model = _mlp(4, 3, seed=39).compile(ln.CrossEntropy(from_logits=True))
    proto = to_onnx(model, tmp_path / "m.onnx")
    diff = verify_onnx(model, proto)
    assert isinstance(diff, float) and 0 <= diff < ATOL32
    assert verify_onnx(model, tmp_path / "m.onnx", batch_sizes=(3,), seed=5) < ATOL32
    assert verify_onnx(model, str(tmp_path / "m.onnx")) < ATOL32
    other = _mlp(4, 3, seed=40).compile(ln.CrossEntropy(from_logits=True))
    assert verify_onnx(other, proto) > 1e-2  # another model's graph: a large difference


def test_verify_onnx_on_images():
    model = _cnn(seed=41)
    proto = to_onnx(model)
    assert verify_onnx(model, proto, batch_sizes=(1, 2, 7)) < ATOL32
    assert verify_onnx(_cnn(seed=42), proto) > 1e-3


# --- errors -------------------------------------------------------------------------------


class Doubler(ln.Layer):
    """A custom layer without a converter."""

    keeps_shape = True

    def forward(self, x, training=False):
        return 2 * np.asarray(x)

    def backward(self, grad, need_input_grad=True):
        return 2 * np.asarray(grad)


class ShiftedReLU(ln.ReLU):
    """A subclass of a known activation with another function: exporting it as Relu would
    be a wrong graph."""

    @staticmethod
    def function(z):
        return np.maximum(z - 1, 0)


def test_custom_layer_is_an_error_naming_it():
    model = ln.Sequential([ln.Dense(3, 4), Doubler(name="twice"), ln.Dense(4, 2)])
    with pytest.raises(ExportError) as err:
        to_onnx(model)
    message = str(err.value)
    assert re.search(r"\b1\b", message), message
    assert "twice" in message and "Doubler" in message
    assert issubclass(ExportError, ValueError)


def test_subclass_of_a_known_layer_is_an_error():
    model = ln.Sequential([ln.Dense(3, 4), ln.Tanh(), ShiftedReLU(name="shifted")])
    with pytest.raises(ExportError) as err:
        to_onnx(model)
    message = str(err.value)
    assert re.search(r"\b2\b", message), message
    assert "shifted" in message and "ShiftedReLU" in message


def test_model_without_input_shape_needs_the_argument():
    model = ln.Sequential([ln.ReLU(), ln.Sigmoid()])
    with pytest.raises(ValueError, match="input_shape"):
        to_onnx(model)


@pytest.mark.parametrize(
    "shape",
    [
        (3, 8, 8),  # channels first
        (8, 8),  # no channel axis
        (2, 2, 3),  # too small for the 3x3 kernel
        (192,),  # rows, not images
    ],
)
def test_conv_network_with_a_wrong_input_shape(shape, tmp_path):
    model = ln.Sequential([ln.Conv2D(3, 4, 3), ln.ReLU(), ln.GlobalAveragePooling2D()])
    path = tmp_path / "m.onnx"
    with pytest.raises(ValueError):
        to_onnx(model, path, input_shape=shape)
    assert not path.exists()


def test_input_shape_argument_that_contradicts_the_model():
    model = ln.Sequential([ln.Dense(4, 2)])
    with pytest.raises(ValueError):
        to_onnx(model, input_shape=(5,))
    conv = ln.Sequential([ln.Conv2D(3, 4, 3)], input_shape=(8, 8, 3))
    with pytest.raises(ValueError):
        to_onnx(conv, input_shape=(9, 9, 3))


def test_not_a_model():
    with pytest.raises((TypeError, ValueError)):
        to_onnx(ln.Dense(3, 2))


# --- the command line -----------------------------------------------------------------------


def _cli(*args, cwd):
    src = Path(ln.__file__).resolve().parents[1]  # the lucidnet these tests import
    env = {**os.environ, "PYTHONPATH": str(src), "PYTHONUNBUFFERED": "1"}
    return subprocess.run(
        [sys.executable, "-m", "lucidnet", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=120,
        check=False,
    )


def test_cli_export(tmp_path):
    model = _cnn(seed=43).compile(ln.CrossEntropy(from_logits=True))
    ln.save(model, tmp_path / "m.lucid")
    result = _cli("export", "m.lucid", "m.onnx", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "m.onnx" in result.stdout
    # the max difference, the first number after "diff..."
    found = re.search(r"diff[^0-9]*([0-9][0-9.]*(?:e[-+]?[0-9]+)?)", result.stdout.lower())
    assert found and float(found.group(1)) < ATOL32, result.stdout
    proto = onnx.load(str(tmp_path / "m.onnx"))
    onnx.checker.check_model(proto, full_check=True)
    x = np.random.default_rng(43).standard_normal((7, 16, 14, 3)).astype(np.float32)
    (got,) = _session(tmp_path / "m.onnx").run(["probabilities"], {"input": x})
    np.testing.assert_allclose(got, model.predict_proba(x), atol=ATOL32, rtol=ATOL32)


def test_cli_export_float64_cnn_never_a_traceback(tmp_path):
    """onnxruntime's CPU provider has no float64 Conv: the command either writes a graph
    that runs, or says what is wrong in one line (exit 1) -- never a traceback."""
    model = ln.Sequential([ln.Conv2D(2, 3, 3, seed=51), ln.Flatten()], input_shape=(5, 5, 2))
    model.astype(np.float64)
    ln.save(model, tmp_path / "c.lucid")
    result = _cli("export", "c.lucid", "c.onnx", cwd=tmp_path)
    assert "Traceback" not in result.stderr, result.stderr
    if result.returncode == 0:
        x = np.random.default_rng(51).standard_normal((2, 5, 5, 2))
        session = _session(tmp_path / "c.onnx")
        x = x.astype(np.float64 if "double" in session.get_inputs()[0].type else np.float32)
        (got,) = session.run(None, {"input": x})
        np.testing.assert_allclose(got, model.predict(x.astype(np.float64)), atol=ATOL32)
    else:
        assert result.returncode == 1
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_float64_cnn_exported_as_float32():
    """The exporter's way around onnxruntime's missing float64 Conv: ``dtype=float32``."""
    if "dtype" not in inspect.signature(to_onnx).parameters:
        pytest.skip("to_onnx has no dtype argument")
    model = _cnn(seed=52)
    model.astype(np.float64)
    proto = to_onnx(model, dtype=np.float32)
    onnx.checker.check_model(proto, full_check=True)
    assert proto.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    x = np.random.default_rng(52).standard_normal((7, 16, 14, 3))
    got = _run(proto, x.astype(np.float32))
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, model.predict(x), atol=ATOL32, rtol=ATOL32)


def test_cli_export_missing_file(tmp_path):
    result = _cli("export", "nowhere.lucid", "out.onnx", cwd=tmp_path)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "nowhere.lucid" in lines[0] and "Traceback" not in result.stderr
    assert not (tmp_path / "out.onnx").exists()


def test_cli_export_opset_no_verify_and_a_bad_file(tmp_path, capsys):
    from lucidnet import cli

    model = _mlp(3, 2, seed=44).compile("mse")
    ln.save(model, tmp_path / "m.lucid")
    out = tmp_path / "m.onnx"
    assert (
        cli.main(["export", str(tmp_path / "m.lucid"), str(out), "--opset", "18", "--no-verify"])
        == 0
    )
    printed = capsys.readouterr().out
    assert str(out) in printed or "m.onnx" in printed
    assert "diff" not in printed.lower()  # nothing verified
    proto = onnx.load(str(out))
    assert {o.domain: o.version for o in proto.opset_import}.get("") == 18
    x = np.random.default_rng(44).standard_normal((2, 3)).astype(np.float32)
    np.testing.assert_allclose(
        _session(out).run(None, {"input": x})[0], model.predict(x), atol=ATOL32
    )

    (tmp_path / "bad.lucid").write_bytes(b"not a model file")
    assert cli.main(["export", str(tmp_path / "bad.lucid"), str(tmp_path / "bad.onnx")]) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "bad.lucid" in err, err
    assert not (tmp_path / "bad.onnx").exists()


def test_an_older_opset_and_ir_version_for_older_runtimes():
    model = ln.Sequential(
        [ln.Dense(3, 4, seed=40), ln.Tanh(), ln.Dense(4, 2, seed=41), ln.Softmax()],
        input_shape=(3,),
    )
    proto = to_onnx(model, opset=13)  # the lowest IR version opset 13 allows, by ONNX's table
    assert proto.ir_version == 7
    assert [(o.domain, o.version) for o in proto.opset_import] == [("", 13)]
    assert verify_onnx(model, proto) < 1e-5
    assert to_onnx(model, opset=21).ir_version == 10
    with pytest.raises(ExportError, match="opset 15 needs IR version 8 or newer, got 7"):
        to_onnx(model, opset=15, ir_version=7)


@pytest.mark.parametrize("opset", [12, 0, "17", True])
def test_an_opset_before_13_is_refused(opset):
    model = ln.Sequential([ln.Dense(3, 2, seed=42)], input_shape=(3,))
    with pytest.raises(ExportError, match="opset must be an int >= 13"):
        to_onnx(model, opset=opset)


def test_batchnorm_with_a_large_mean_keeps_float32_accuracy():
    """(x - mean) * scale + beta, as lucidnet computes it: a folded x * scale + shift would
    cancel badly in float32 when the mean is large against the spread (a year column)."""
    bn = ln.BatchNorm(3)
    model = ln.Sequential([bn], input_shape=(3,))
    mean = np.array([1e3, 2e3, 5e4])
    bn._buffers["running_mean"].assign(mean)
    bn._buffers["running_var"].assign(np.array([0.01, 1.0, 100.0]))
    x = (mean + np.random.default_rng(50).standard_normal((9, 3)) * [0.1, 1, 10]).astype(np.float32)
    session = _session(to_onnx(model))
    (got,) = session.run(None, {"input": x})
    np.testing.assert_allclose(got, model.predict(x), atol=1e-5)


def test_float64_leaky_relu_keeps_alpha_exact():
    model = ln.Sequential(
        [ln.Dense(3, 4, seed=51, dtype=np.float64), ln.LeakyReLU(0.2)], input_shape=(3,)
    )
    proto = to_onnx(model)
    assert "LeakyRelu" not in {n.op_type for n in proto.graph.node}  # its alpha is a float32
    assert verify_onnx(model, proto, batch_sizes=(1, 7, 50)) < 1e-12


def test_verify_counts_a_nan_where_lucidnet_has_a_number_as_infinite():
    model = ln.Sequential([ln.Dense(3, 2, seed=52)], input_shape=(3,))
    proto = to_onnx(model)
    weights = next(t for t in proto.graph.initializer if t.name.endswith("weights"))
    import onnx.numpy_helper

    w = onnx.numpy_helper.to_array(weights).copy()
    w[0, 0] = np.nan
    weights.CopyFrom(onnx.numpy_helper.from_array(w, weights.name))
    assert verify_onnx(model, proto) == float("inf")


@pytest.mark.parametrize(("name", "loss"), [("output", None), ("probabilities", "cross_entropy")])
def test_a_layer_named_like_the_graphs_output_exports(name, loss):
    model = ln.Sequential([ln.Dense(3, 2, seed=53, name=name)], input_shape=(3,))
    if loss:
        model.compile(ln.CrossEntropy(from_logits=True))
    assert verify_onnx(model, to_onnx(model)) < 1e-5


def test_importing_lucidnet_and_its_cli_does_not_import_onnx():
    code = (
        "import sys, lucidnet, lucidnet.cli, lucidnet.export; lucidnet.cli.build_parser(); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('onnx', 'onnxruntime')))"
    )
    src = Path(ln.__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(src)}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert out.stdout.strip() == "[]"


def test_cli_writes_nothing_when_onnxruntime_disagrees(tmp_path, monkeypatch):
    from lucidnet import cli
    from lucidnet import export as export_module

    model = ln.Sequential([ln.Dense(3, 2, seed=54)], input_shape=(3,))
    ln.save(model, tmp_path / "m.lucid")
    monkeypatch.setattr(export_module, "verify_onnx", lambda *a, **k: 0.5)
    assert cli.main(["export", str(tmp_path / "m.lucid"), str(tmp_path / "m.onnx")]) == 1
    assert not (tmp_path / "m.onnx").exists()


def test_cli_judges_a_large_regression_output_relative_to_its_size(tmp_path, capsys):
    from lucidnet import cli

    model = ln.Sequential(
        [ln.Dense(3, 16, seed=55), ln.ReLU(), ln.Dense(16, 1, seed=56)], input_shape=(3,)
    )
    for p in model.parameters():
        p.value[...] *= 300.0  # outputs around 1e5: float32 rounds them by about 1e-2
    ln.save(model, tmp_path / "price.lucid")
    assert cli.main(["export", str(tmp_path / "price.lucid"), str(tmp_path / "p.onnx")]) == 0
    assert "relative to the largest output" in capsys.readouterr().out


def test_cli_takes_an_input_shape_for_a_model_saved_without_one(tmp_path, capsys):
    from lucidnet import cli

    model = ln.Sequential([ln.Conv2D(1, 2, 3, seed=57), ln.ReLU(), ln.GlobalAveragePooling2D()])
    ln.save(model, tmp_path / "c.lucid")
    out = tmp_path / "c.onnx"
    assert cli.main(["export", str(tmp_path / "c.lucid"), str(out)]) == 1
    assert "input_shape" in capsys.readouterr().err
    assert cli.main(["export", str(tmp_path / "c.lucid"), str(out), "--input-shape", "6,6,1"]) == 0
    assert "(batch, 6, 6, 1)" in capsys.readouterr().out
