"""layers/pooling.py: MaxPool2D, AvgPool2D and GlobalAveragePooling2D against loops.

The references visit every window (n, i, j, c) and every offset (a, b) in it, in
row-major order; max pooling's gradient goes to the window's first maximum in that order
(PyTorch's rule for ties).
"""

import numpy as np
import pytest

import lucidnet as ln


def _windows(shape, pool, stride):
    """Every (n, i, j, c) of the output and its list of input positions, row-major."""
    n_, h, w, c_ = shape
    (ph, pw), (sh, sw) = pool, stride
    ho, wo = (h - ph) // sh + 1, (w - pw) // sw + 1
    for n in range(n_):
        for i in range(ho):
            for j in range(wo):
                for c in range(c_):
                    cells = [(n, i * sh + a, j * sw + b, c) for a in range(ph) for b in range(pw)]
                    yield (n, i, j, c), cells


def _out_shape(shape, pool, stride):
    n, h, w, c = shape
    return n, (h - pool[0]) // stride[0] + 1, (w - pool[1]) // stride[1] + 1, c


def max_pool_loops(x, g, pool, stride):
    """y = the window's maximum; dx gets g at the window's first maximum."""
    y, dx = np.zeros(_out_shape(x.shape, pool, stride)), np.zeros(x.shape)
    for out, cells in _windows(x.shape, pool, stride):
        first = cells[0]
        for cell in cells[1:]:
            if x[cell] > x[first]:  # strictly: a tie keeps the earlier one
                first = cell
        y[out] = x[first]
        dx[first] += g[out]
    return y, dx


def avg_pool_loops(x, g, pool, stride):
    """y = the window's mean; every pixel of the window gets g / (ph*pw)."""
    y, dx = np.zeros(_out_shape(x.shape, pool, stride)), np.zeros(x.shape)
    size = pool[0] * pool[1]
    for out, cells in _windows(x.shape, pool, stride):
        for cell in cells:
            y[out] += x[cell] / size
            dx[cell] += g[out] / size
    return y, dx


# (id, input shape, pool, stride or None, output (Ho, Wo) by hand)
GEOMETRIES = [
    ("2x2", (2, 4, 6, 3), (2, 2), None, (2, 3)),
    ("2x2_odd_floor", (2, 5, 7, 2), (2, 2), None, (2, 3)),  # the last row and column left out
    ("3_stride_2_overlapping", (2, 7, 6, 2), (3, 3), (2, 2), (3, 2)),
    ("2x3_stride_1x2", (1, 4, 7, 3), (2, 3), (1, 2), (3, 3)),
    ("3_stride_1", (1, 5, 5, 1), (3, 3), (1, 1), (3, 3)),
    ("whole_image", (2, 3, 4, 2), (3, 4), None, (1, 1)),
    ("stride_bigger_than_pool", (1, 7, 7, 2), (2, 2), (3, 3), (2, 2)),
]
IDS = [g[0] for g in GEOMETRIES]
PARAMS = [g[1:] for g in GEOMETRIES]


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize(("shape", "pool", "stride", "out"), PARAMS, ids=IDS)
def test_max_pool_matches_the_loops(shape, pool, stride, out, training):
    """training=True keeps the argmax from forward; after an inference forward backward
    finds it again: both give the loops' answer."""
    rng = np.random.default_rng(sum(shape))
    layer = ln.MaxPool2D(pool, stride)
    x = rng.standard_normal(shape)  # negative values too: the maximum is not clipped at 0
    y = layer.forward(x, training=training)
    assert y.shape == (shape[0], *out, shape[3])
    assert layer.output_shape(shape[1:]) == (*out, shape[3])
    g = rng.standard_normal(y.shape)
    y_ref, dx_ref = max_pool_loops(x, g, pool, stride or pool)
    np.testing.assert_array_equal(y, y_ref)
    np.testing.assert_allclose(layer.backward(g), dx_ref, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize(("shape", "pool", "stride", "out"), PARAMS, ids=IDS)
def test_avg_pool_matches_the_loops(shape, pool, stride, out):
    rng = np.random.default_rng(sum(shape) + 1)
    layer = ln.AvgPool2D(pool, stride)
    x = rng.standard_normal(shape)
    y = layer.forward(x, training=True)
    assert y.shape == (shape[0], *out, shape[3])
    assert layer.output_shape(shape[1:]) == (*out, shape[3])
    g = rng.standard_normal(y.shape)
    y_ref, dx_ref = avg_pool_loops(x, g, pool, stride or pool)
    np.testing.assert_allclose(y, y_ref, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(layer.backward(g), dx_ref, rtol=1e-12, atol=1e-15)


def test_max_pool_ties_go_to_the_first_maximum_in_row_major_order():
    layer = ln.MaxPool2D(2)
    # one window [[1, 3], [3, 2]]: the maximum 3 twice, the first at (0, 1)
    x = np.array([[1.0, 3.0], [3.0, 2.0]]).reshape(1, 2, 2, 1)
    layer.forward(x, training=True)
    dx = layer.backward(np.full((1, 1, 1, 1), 5.0))
    np.testing.assert_array_equal(dx[0, :, :, 0], [[0, 5], [0, 0]])
    # a window of equal values (zeros after a ReLU): all of it to the top-left pixel
    x = np.zeros((2, 4, 4, 3))
    layer.forward(x, training=True)
    g = np.arange(1.0, 1 + 2 * 2 * 2 * 3).reshape(2, 2, 2, 3)
    dx = layer.backward(g)
    np.testing.assert_array_equal(dx[:, ::2, ::2], g)
    assert np.count_nonzero(dx) == g.size  # never counted twice
    # the same after an inference forward (backward finds the positions itself)
    layer.forward(x, training=False)
    np.testing.assert_array_equal(layer.backward(g), dx)


def test_max_pool_ties_in_overlapping_windows_keep_the_total_gradient():
    """Pool 3, stride 2, all values equal: each window sends its gradient to its own
    top-left pixel; windows share pixels but no gradient is lost or duplicated."""
    x = np.ones((1, 7, 7, 2))
    layer = ln.MaxPool2D(3, stride=2)
    g = np.random.default_rng(0).standard_normal((1, 3, 3, 2))
    for training in (True, False):
        layer.forward(x, training=training)
        dx = layer.backward(g)
        _, dx_ref = max_pool_loops(x, g, (3, 3), (2, 2))
        np.testing.assert_array_equal(dx, dx_ref)
        np.testing.assert_array_equal(dx[:, 0:6:2, 0:6:2], g)
        assert dx.sum() == pytest.approx(g.sum(), rel=1e-12)


def test_max_pool_overlapping_windows_add_up_at_a_shared_maximum():
    # 1x5 row, pool 1x3 stride 1x1: the 9 in the middle is the maximum of all 3 windows
    x = np.array([1.0, 2.0, 9.0, 3.0, 4.0]).reshape(1, 1, 5, 1)
    layer = ln.MaxPool2D((1, 3), stride=1)
    np.testing.assert_array_equal(layer.forward(x, training=True).ravel(), [9, 9, 9])
    dx = layer.backward(np.array([1.0, 10.0, 100.0]).reshape(1, 1, 3, 1))
    np.testing.assert_array_equal(dx.ravel(), [0, 0, 111, 0, 0])


@pytest.mark.parametrize(("shape", "pool", "stride", "out"), PARAMS, ids=IDS)
def test_max_pool_keeps_the_total_gradient(shape, pool, stride, out):
    layer = ln.MaxPool2D(pool, stride)
    rng = np.random.default_rng(2)
    y = layer.forward(rng.standard_normal(shape), training=True)
    g = rng.standard_normal(y.shape)
    assert layer.backward(g).sum() == pytest.approx(g.sum(), rel=1e-12, abs=1e-12)


def test_global_average_pooling_matches_the_loops():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 5, 4))
    layer = ln.GlobalAveragePooling2D()
    y = layer.forward(x)
    assert y.shape == (2, 4) and layer.output_shape((3, 5, 4)) == (4,)
    g = rng.standard_normal(y.shape)
    y_ref, dx_ref = np.zeros((2, 4)), np.zeros(x.shape)
    for n in range(2):
        for c in range(4):
            for i in range(3):
                for j in range(5):
                    y_ref[n, c] += x[n, i, j, c] / 15
                    dx_ref[n, i, j, c] = g[n, c] / 15
    np.testing.assert_allclose(y, y_ref, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(layer.backward(g), dx_ref, rtol=1e-12, atol=1e-15)


def test_a_hand_worked_pooling():
    x = np.array([[1.0, 2.0, 5.0], [4.0, 3.0, 0.0], [7.0, 6.0, 8.0]]).reshape(1, 3, 3, 1)
    # 2x2 windows, stride 1: max [[4, 5], [7, 8]]; mean [[10/4, 10/4], [20/4, 17/4]]
    np.testing.assert_array_equal(ln.MaxPool2D(2, 1).forward(x)[0, :, :, 0], [[4, 5], [7, 8]])
    mean = ln.AvgPool2D(2, 1).forward(x)[0, :, :, 0]
    np.testing.assert_allclose(mean, [[2.5, 2.5], [5.0, 4.25]])
    # pool 2, stride 2 on 3x3: one window, the last row and column left out
    np.testing.assert_array_equal(ln.MaxPool2D(2).forward(x).ravel(), [4])
    assert ln.GlobalAveragePooling2D().forward(x).ravel() == pytest.approx([36 / 9])


def test_floor_sizes():
    assert ln.MaxPool2D(2).output_shape((11, 11, 3)) == (5, 5, 3)
    assert ln.AvgPool2D(3, stride=2).output_shape((7, 8, 1)) == (3, 3, 1)
    assert ln.MaxPool2D((2, 3)).output_shape((5, 9, 4)) == (2, 3, 4)
    assert ln.MaxPool2D(2).stride == (2, 2)  # the default stride is the pool size


@pytest.mark.parametrize("cls", [ln.MaxPool2D, ln.AvgPool2D])
def test_integer_images_are_pooled_as_float32(cls):
    x = np.arange(16).reshape(1, 4, 4, 1)
    y = cls(2).forward(x)
    assert y.dtype == np.float32
    expected = [[5, 7], [13, 15]] if cls is ln.MaxPool2D else [[2.5, 4.5], [10.5, 12.5]]
    np.testing.assert_array_equal(y[0, :, :, 0], expected)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("cls", [ln.MaxPool2D, ln.AvgPool2D])
def test_the_input_dtype_is_kept(cls, dtype):
    layer = cls(2)
    y = layer.forward(np.ones((1, 4, 4, 2), dtype=dtype), training=True)
    assert y.dtype == dtype
    assert layer.backward(np.ones_like(y)).dtype == dtype


@pytest.mark.parametrize("cls", [ln.MaxPool2D, ln.AvgPool2D])
def test_bad_arguments_and_inputs_raise_naming_the_layer(cls):
    for kwargs in ({"pool_size": 0}, {"pool_size": (2, 2, 2)}, {"stride": -1}, {"stride": 0}):
        with pytest.raises(ValueError, match=r"pool: (pool_size|stride) must be an int >= 1"):
            cls(name="pool", **kwargs)
    layer = cls(3, name="pool")
    with pytest.raises(ValueError, match=r"pool: a 3x3 window does not fit in a 2x5 input"):
        layer.output_shape((2, 5, 1))
    with pytest.raises(ValueError, match=r"pool: a 3x3 window does not fit"):
        layer.forward(np.zeros((1, 2, 5, 1)))
    with pytest.raises(ValueError, match=r"pool: .*receives \(batch, 6, 6\).*x\[\.\.\., None\]"):
        layer.forward(np.zeros((1, 6, 6)))
    with pytest.raises(ValueError, match=r"pool: .*receives \(batch, 36\)"):
        layer.forward(np.zeros((1, 36)))
    with pytest.raises(RuntimeError, match="pool: backward called before forward"):
        cls(name="pool").backward(np.ones((1, 1, 1, 1)))
    layer.forward(np.zeros((1, 6, 6, 2)))
    with pytest.raises(
        ValueError, match=r"pool: backward expected a gradient of shape \(1, 2, 2, 2\)"
    ):
        layer.backward(np.ones((1, 2, 2, 3)))


def test_global_average_pooling_refuses_what_is_not_an_image():
    layer = ln.GlobalAveragePooling2D(name="gap")
    with pytest.raises(ValueError, match=r"gap: .*receives \(batch, 8\)"):
        layer.forward(np.zeros((2, 8)))
    with pytest.raises(ValueError, match=r"gap: .*x\[\.\.\., None\]"):
        layer.output_shape((4, 4))
    layer.forward(np.zeros((2, 3, 3, 4)))
    with pytest.raises(ValueError, match=r"gap: backward expected a gradient of shape \(2, 4\)"):
        layer.backward(np.zeros((2, 3)))


def test_config_round_trip():
    for layer in (ln.MaxPool2D((2, 3), stride=(1, 2), name="m"), ln.AvgPool2D(3)):
        twin = type(layer).from_config(layer.get_config())
        assert twin.get_config() == layer.get_config()
        assert (twin.pool_size, twin.stride) == (layer.pool_size, layer.stride)


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("pool", [(16, 16), (17, 17), (1, 300)])
def test_max_pool_windows_of_more_than_256_pixels(pool, training):
    """A window as large as a whole feature map (a global max pooling of a 17x17 map)
    has more offsets than a uint8 argmax can count."""
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, *pool, 2))
    layer = ln.MaxPool2D(pool)
    y = layer.forward(x, training=training)
    g = rng.standard_normal(y.shape)
    y_ref, dx_ref = max_pool_loops(x, g, pool, pool)
    np.testing.assert_array_equal(y, y_ref)
    np.testing.assert_array_equal(layer.backward(g), dx_ref)
