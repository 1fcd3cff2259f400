"""layers/reshape.py: Flatten's order (pixel by pixel, channels together) and backward."""

import numpy as np
import pytest

import lucidnet as ln


def test_flatten_runs_pixel_by_pixel_with_each_pixels_channels_together():
    rng = np.random.default_rng(0)
    n_, h, w, c_ = 2, 3, 4, 5
    x = rng.standard_normal((n_, h, w, c_))
    y = ln.Flatten().forward(x)
    assert y.shape == (n_, h * w * c_)
    for n in range(n_):
        for i in range(h):
            for j in range(w):
                for c in range(c_):
                    assert y[n, (i * w + j) * c_ + c] == x[n, i, j, c]


def test_a_hand_worked_order():
    # a 2x2 image with 2 channels: pixel (0, 0) is (1, 10), (0, 1) is (2, 20), ...
    x = np.array([[[1, 10], [2, 20]], [[3, 30], [4, 40]]], dtype=np.float64)[None]
    np.testing.assert_array_equal(ln.Flatten().forward(x), [[1, 10, 2, 20, 3, 30, 4, 40]])


def test_backward_puts_each_gradient_back_where_its_value_came_from():
    rng = np.random.default_rng(1)
    layer = ln.Flatten()
    x = rng.standard_normal((3, 2, 4, 3))
    y = layer.forward(x)
    g = rng.standard_normal(y.shape)
    dx = layer.backward(g)
    assert dx.shape == x.shape
    # the gradient of sum(y * g) with respect to x[n, i, j, c] is g at y's index of it
    for n, i, j, c in np.ndindex(x.shape):
        assert dx[n, i, j, c] == g[n, (i * 4 + j) * 3 + c]
    assert layer.backward(g, need_input_grad=False) is None


def test_a_non_contiguous_input_flattens_in_its_logical_order():
    x_nchw = np.arange(2 * 3 * 2 * 2, dtype=np.float64).reshape(2, 3, 2, 2)
    x = x_nchw.transpose(0, 2, 3, 1)  # a view, channels last
    y = ln.Flatten().forward(x)
    np.testing.assert_array_equal(y, np.ascontiguousarray(x).reshape(2, -1))
    np.testing.assert_array_equal(y[0, :3], x_nchw[0, :, 0, 0])  # pixel (0, 0), 3 channels


@pytest.mark.parametrize(
    ("shape", "out"), [((4,), (4,)), ((5, 7), (35,)), ((2, 3, 5), (30,)), ((28, 28, 1), (784,))]
)
def test_output_shape_is_the_product(shape, out):
    layer = ln.Flatten()
    assert layer.output_shape(shape) == out
    assert layer.forward(np.zeros((2, *shape))).shape == (2, *out)
    assert layer.output_shape(None) is None


def test_dtypes_and_errors():
    layer = ln.Flatten(name="flat")
    assert layer.forward(np.ones((2, 3, 3), dtype=np.int64)).dtype == np.float32
    assert layer.forward(np.ones((2, 3), dtype=np.float64)).dtype == np.float64
    with pytest.raises(ValueError, match="flat: expects a batch"):
        layer.forward(np.float64(3.0))
    with pytest.raises(RuntimeError, match="flat: backward called before forward"):
        ln.Flatten(name="flat").backward(np.ones((1, 4)))
    layer.forward(np.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match=r"flat: backward expected a gradient of shape \(2, 12\)"):
        layer.backward(np.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match=r"flat: backward expected a gradient of shape \(2, 12\)"):
        layer.backward(np.zeros((2, 11)))
