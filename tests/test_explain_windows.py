"""Tests of ``lucidnet.explain_windows``: each worked position against a hand-worked
example and against a direct definition written here, and the check that refuses a layer
output that differs from the worked number."""

from __future__ import annotations

import numpy as np
import pytest

import lucidnet as ln
from lucidnet.explain_windows import (
    ConvPosition,
    NormPosition,
    PoolPosition,
    check_positions,
    default_position,
    fill_backward,
    work_out,
)


def _forward(layer, x):
    return layer.forward(x, training=False)


def test_a_convolution_worked_by_hand():
    # x is 3x3 with one channel; a 2x2 kernel [[1, 2], [3, 4]] and bias 0.5.
    # z[0, 1, 0, 0] covers rows 1..2, columns 0..1: [[4, 5], [7, 8]]
    # sum = 4*1 + 5*2 + 7*3 + 8*4 = 4 + 10 + 21 + 32 = 67; z = 67 + 0.5 = 67.5
    layer = ln.Conv2D(1, 1, 2, dtype=np.float64)
    layer.weights[:, :, 0, 0] = [[1, 2], [3, 4]]
    layer.bias[:] = 0.5
    x = np.arange(1.0, 10.0).reshape(1, 3, 3, 1)
    w = work_out(layer, x, _forward(layer, x), (1, 0, 0))
    assert isinstance(w, ConvPosition)
    assert (list(w.rows), list(w.cols)) == ([1, 2], [0, 1])
    np.testing.assert_array_equal(w.x[:, :, 0], [[4, 5], [7, 8]])
    np.testing.assert_array_equal(w.products[:, :, 0], [[4, 10], [21, 32]])
    assert (w.total, w.bias, w.value, w.output) == (67.0, 0.5, 67.5, 67.5)
    assert not w.padding.any()


def _direct_conv(x, kernel, bias, stride, pads):
    """z by the definition, one output at a time, on an explicitly padded input."""
    top, bottom, left, right = pads
    xp = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)))
    kh, kw, _, f = kernel.shape
    sh, sw = stride
    ho, wo = (xp.shape[1] - kh) // sh + 1, (xp.shape[2] - kw) // sw + 1
    z = np.empty((len(x), ho, wo, f))
    for n in range(len(x)):
        for i in range(ho):
            for j in range(wo):
                patch = xp[n, i * sh : i * sh + kh, j * sw : j * sw + kw]
                z[n, i, j] = np.tensordot(patch, kernel, axes=3) + bias
    return z


@pytest.mark.parametrize(
    ("kernel", "stride", "padding", "pads"),
    [
        ((3, 2), (2, 1), "valid", (0, 0, 0, 0)),
        ((3, 3), (1, 1), "same", (1, 1, 1, 1)),
        ((2, 3), (2, 2), "same", (0, 1, 0, 1)),  # TensorFlow's rule: the odd zero after
        ((3, 2), (1, 2), (2, 1), (2, 2, 1, 1)),
    ],
)
def test_every_convolution_position_equals_the_direct_definition(kernel, stride, padding, pads):
    rng = np.random.default_rng(0)
    layer = ln.Conv2D(3, 2, kernel, stride, padding, dtype=np.float64, seed=1)
    layer.bias[:] = rng.standard_normal(2)
    x = rng.standard_normal((1, 5, 6, 3))
    z = _forward(layer, x)
    expected = _direct_conv(x, np.asarray(layer.weights), np.asarray(layer.bias), stride, pads)
    assert z.shape == expected.shape
    top, left = pads[0], pads[2]
    for i in range(z.shape[1]):
        for j in range(z.shape[2]):
            for f in range(2):
                w = work_out(layer, x, z, (i, j, f))
                assert w.value == pytest.approx(expected[0, i, j, f], abs=1e-12)
                rows = range(i * stride[0] - top, i * stride[0] - top + kernel[0])
                cols = range(j * stride[1] - left, j * stride[1] - left + kernel[1])
                assert (w.rows, w.cols) == (rows, cols)
                outside = [[not (0 <= r < 5 and 0 <= c < 6) for c in cols] for r in rows]
                np.testing.assert_array_equal(w.padding, outside)
                assert np.all(w.x[w.padding] == 0)
                np.testing.assert_allclose(w.channel_sums.sum(), w.total)


def test_a_wrong_layer_output_raises_naming_layer_position_and_numbers():
    layer = ln.Conv2D(1, 2, 3, seed=0, name="conv")
    x = np.random.default_rng(0).random((1, 6, 6, 1)).astype(np.float32)
    z = _forward(layer, x).copy()
    work_out(layer, x, z)  # the layer's own output passes
    z[0, 1, 1, 0] += 1e-3  # the default position: the centre (1, 1) of filter 0 (4x4)
    with pytest.raises(RuntimeError, match=r"conv: the value worked out at z\[0, 1, 1, 0\]"):
        work_out(layer, x, z)
    work_out(layer, x, z, (1, 1, 1))  # another position is still right


def test_max_pool_names_the_first_maximum_and_its_ties():
    layer = ln.MaxPool2D(2, name="pool")
    x = np.zeros((1, 4, 4, 2), dtype=np.float32)
    x[0, 2:4, 0:2, 1] = [[0.5, 0.9], [0.9, 0.1]]  # window (1, 0) of channel 1: a tie
    z = _forward(layer, x)
    w = work_out(layer, x, z, (1, 0, 1))
    assert isinstance(w, PoolPosition) and w.kind == "max"
    assert (w.value, w.argmax, w.ties) == (pytest.approx(0.9), (0, 1), 2)
    assert (list(w.rows), list(w.cols)) == ([2, 3], [0, 1])
    # backward sends the whole gradient to the first maximum only
    layer.backward(np.ones_like(z))
    grad_x = layer.backward(np.full_like(z, 2.0))
    fill_backward(w, layer, np.full_like(z, 2.0), grad_x)
    np.testing.assert_array_equal(w.grad_window, [[0, 2], [0, 0]])
    z2 = z.copy()
    z2[0, 1, 0, 1] = np.nextafter(z2[0, 1, 0, 1], np.float32(2))  # one unit off: refused
    with pytest.raises(RuntimeError, match="pool"):
        work_out(layer, x, z2, (1, 0, 1))


def test_average_poolings_are_means_of_their_windows():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((1, 5, 7, 3)).astype(np.float32)
    avg = ln.AvgPool2D((2, 3), stride=(2, 2))
    w = work_out(avg, x, _forward(avg, x), (1, 2, 2))
    np.testing.assert_array_equal(w.window, x[0, 2:4, 4:7, 2])
    assert w.value == pytest.approx(float(np.mean(x[0, 2:4, 4:7, 2], dtype=np.float64)))
    gap = ln.GlobalAveragePooling2D()
    z = _forward(gap, x)
    assert default_position(z.shape[1:]) == (0,)
    w = work_out(gap, x, z, 1)
    assert (w.row, w.window.shape, w.index) == (None, (5, 7), (0, 1))
    assert w.value == pytest.approx(float(x[0, :, :, 1].astype(np.float64).mean()))


def test_batch_norm_one_value_from_its_running_statistics():
    layer = ln.BatchNorm(2, dtype=np.float64)
    layer.buffers()[0].value[:] = [1.0, -2.0]  # running mean
    layer.buffers()[1].value[:] = [4.0, 0.25]  # running variance
    layer.parameter("gamma").value[:] = [3.0, 2.0]
    layer.parameter("beta").value[:] = [0.5, -1.0]
    x = np.random.default_rng(2).standard_normal((1, 3, 3, 2))
    w = work_out(layer, x, _forward(layer, x), (0, 2, 1))
    assert isinstance(w, NormPosition) and w.at == (0, 2, 1)
    # z = 2 * (x + 2) / sqrt(0.25 + 1e-5) - 1
    expected = 2.0 * (x[0, 0, 2, 1] + 2.0) / np.sqrt(0.25 + 1e-5) - 1.0
    assert w.value == pytest.approx(expected, rel=1e-12)
    vectors = np.random.default_rng(3).standard_normal((2, 2))
    assert work_out(layer, vectors, _forward(layer, vectors)).at == (0,)


def test_default_positions_are_centres_of_channel_zero():
    assert default_position((26, 26, 8)) == (12, 12, 0)
    assert default_position((5, 4, 3)) == (2, 1, 0)
    assert default_position((10,)) == (0,)


@pytest.mark.parametrize(
    ("position", "match"),
    [
        ((1, 2), r"conv2d must be \(row, column, channel\) of its output \(4, 4, 2\)"),
        ((0, 4, 0), r"position \(0, 4, 0\) is outside the output of conv2d"),
        ((0, 0, -1), "outside"),
        ((0.5, 0, 0), "must be"),
    ],
)
def test_bad_positions_name_the_layer_and_its_output_shape(position, match):
    layer = ln.Conv2D(1, 2, 3)
    x = np.zeros((1, 6, 6, 1), dtype=np.float32)
    with pytest.raises(ValueError, match=match):
        work_out(layer, x, _forward(layer, x), position)


def test_positions_must_name_worked_layers():
    layers = [ln.Conv2D(1, 2, 3, name="c"), ln.ReLU(), ln.Flatten(name="f")]
    assert check_positions({"c": (0, 0, 0)}, layers) == {"c": (0, 0, 0)}
    with pytest.raises(ValueError, match=r"'f', which is not a convolution.*those are \['c'\]"):
        check_positions({"f": (0,)}, layers)
