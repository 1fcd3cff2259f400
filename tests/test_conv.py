"""layers/conv.py: Conv2D against its loop-by-loop definition, its errors, its
initializer fans, and a convolutional network (shapes, summary, files, training).

The reference computes every number with explicit loops over n, i, j (the output
position), a, b (the window offset), c (input channel) and f (filter), in float64, with
its own padding rule; the forward and all three gradients are compared with it.
"""

import math
import re

import numpy as np
import pytest

import lucidnet as ln

# --- the definition, loop by loop ----------------------------------------------------------


def _same_pads(size, k, s):
    """TensorFlow's "same", written out: ceil(size / s) positions, the odd zero after."""
    out = math.ceil(size / s)
    total = max((out - 1) * s + k - size, 0)
    return total // 2, total - total // 2


def _pads(padding, h, w, kernel, stride):
    """(top, bottom, left, right)."""
    if padding == "valid":
        return 0, 0, 0, 0
    if padding == "same":
        return (*_same_pads(h, kernel[0], stride[0]), *_same_pads(w, kernel[1], stride[1]))
    ph, pw = padding if isinstance(padding, tuple) else (padding, padding)
    return ph, ph, pw, pw


def _padded(x, pads):
    top, bottom, left, right = pads
    n_, h, w, c_ = x.shape
    xp = np.zeros((n_, h + top + bottom, w + left + right, c_))
    for n in range(n_):
        for i in range(h):
            for j in range(w):
                for c in range(c_):
                    xp[n, top + i, left + j, c] = x[n, i, j, c]
    return xp


def conv_loops(x, kernel, bias, stride, pads):
    """z[n, i, j, f] = bias[f] + sum_{a, b, c} xp[n, i*sh + a, j*sw + b, c] W[a, b, c, f]."""
    xp = _padded(x, pads)
    n_, hp, wp, c_ = xp.shape
    kh, kw, _, f_ = kernel.shape
    sh, sw = stride
    ho, wo = (hp - kh) // sh + 1, (wp - kw) // sw + 1
    z = np.zeros((n_, ho, wo, f_))
    for n in range(n_):
        for i in range(ho):
            for j in range(wo):
                for f in range(f_):
                    total = 0.0 if bias is None else bias[f]
                    for a in range(kh):
                        for b in range(kw):
                            for c in range(c_):
                                total += xp[n, i * sh + a, j * sw + b, c] * kernel[a, b, c, f]
                    z[n, i, j, f] = total
    return z


def conv_grads_loops(x, kernel, g, stride, pads):
    """dL/dW, dL/db, dL/dx for dL/dz = g, each by the chain rule through the sum above:

    dW[a, b, c, f] = sum_{n, i, j} xp[n, i*sh + a, j*sw + b, c] g[n, i, j, f]
    db[f]          = sum_{n, i, j} g[n, i, j, f]
    dxp[n, i*sh + a, j*sw + b, c] += W[a, b, c, f] g[n, i, j, f]    (then cropped)
    """
    xp = _padded(x, pads)
    n_, ho, wo, f_ = g.shape
    kh, kw, c_, _ = kernel.shape
    sh, sw = stride
    dw, db, dxp = np.zeros(kernel.shape), np.zeros(f_), np.zeros(xp.shape)
    for n in range(n_):
        for i in range(ho):
            for j in range(wo):
                for f in range(f_):
                    gij = g[n, i, j, f]
                    db[f] += gij
                    for a in range(kh):
                        for b in range(kw):
                            for c in range(c_):
                                dw[a, b, c, f] += xp[n, i * sh + a, j * sw + b, c] * gij
                                dxp[n, i * sh + a, j * sw + b, c] += kernel[a, b, c, f] * gij
    top, _, left, _ = pads
    return dw, db, dxp[:, top : top + x.shape[1], left : left + x.shape[2]]


# (id, batch, H, W, C, F, kernel, stride, padding, bias, output (Ho, Wo) by hand)
GEOMETRIES = [
    ("c1_valid", 2, 5, 6, 1, 2, (3, 3), (1, 1), "valid", True, (3, 4)),
    # (7-3)//2+1 = 3 rows, (6-2)//2+1 = 3 columns
    ("c2_stride2_nonsquare_kernel", 2, 7, 6, 2, 3, (3, 2), (2, 2), "valid", True, (3, 3)),
    ("c9_same", 2, 5, 4, 9, 3, (3, 3), (1, 1), "same", True, (5, 4)),
    # ceil(5/2) = 3, ceil(7/2) = 4; padding (0, 1) rows (the odd one after), (1, 2) columns
    ("c2_same_stride2_even_kernel", 1, 5, 7, 2, 2, (2, 4), (2, 2), "same", True, (3, 4)),
    # padded 6x7: (6-3)//2+1 = 2, 7-3+1 = 5
    ("c1_int_padding_stride_2_1", 2, 4, 5, 1, 2, (3, 3), (2, 1), 1, True, (2, 5)),
    # padded 8x7: 8-3+1 = 6, (7-2)//2+1 = 3
    ("c9_pair_padding", 1, 4, 5, 9, 2, (3, 2), (1, 2), (2, 1), True, (6, 3)),
    ("c3_1x1_no_bias", 2, 3, 4, 3, 4, (1, 1), (1, 1), "valid", False, (3, 4)),
    ("c8_threshold", 1, 4, 4, 8, 2, (2, 2), (1, 1), "valid", True, (3, 3)),
    # stride 3 leaves the last row and column out: (7-2)//3+1 = 2, (8-2)//3+1 = 3
    ("c1_stride3_drops_edges", 1, 7, 8, 1, 2, (2, 2), (3, 3), "valid", True, (2, 3)),
    ("c2_same_stride3", 1, 7, 5, 2, 2, (3, 3), (3, 3), "same", False, (3, 2)),
]


def _layer(c, f, kernel, stride, padding, bias, seed):
    layer = ln.Conv2D(
        c, f, kernel, stride=stride, padding=padding, bias=bias, dtype=np.float64, seed=seed
    )
    if bias:  # the bias starts at zero: give it values so that it is checked
        layer.bias = np.random.default_rng(seed + 1).standard_normal(f)
    return layer


@pytest.mark.parametrize(
    ("n", "h", "w", "c", "f", "kernel", "stride", "padding", "bias", "out"),
    [pytest.param(*g[1:], id=g[0]) for g in GEOMETRIES],
)
def test_forward_and_gradients_match_the_loops(n, h, w, c, f, kernel, stride, padding, bias, out):
    rng = np.random.default_rng(h * 10 + w + c)
    layer = _layer(c, f, kernel, stride, padding, bias, seed=c + f)
    x = rng.standard_normal((n, h, w, c))
    pads = _pads(padding, h, w, kernel, stride)
    assert layer.output_shape((h, w, c)) == (*out, f)
    z = layer.forward(x, training=True)
    assert z.shape == (n, *out, f) and z.dtype == np.float64
    np.testing.assert_allclose(
        z, conv_loops(x, layer.weights, layer.bias, stride, pads), rtol=1e-12, atol=1e-12
    )
    g = rng.standard_normal(z.shape)
    dx = layer.backward(g)
    dw, db, dx_ref = conv_grads_loops(x, layer.weights, g, stride, pads)
    assert dx.shape == x.shape
    np.testing.assert_allclose(layer.grad_weights, dw, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dx, dx_ref, rtol=1e-12, atol=1e-12)
    if bias:
        np.testing.assert_allclose(layer.grad_bias, db, rtol=1e-12, atol=1e-12)
    else:
        assert layer.grad_bias is None and [p.name for p in layer.parameters()] == ["weights"]


def test_without_the_input_gradient_the_parameter_gradients_are_still_written():
    rng = np.random.default_rng(0)
    layer = _layer(2, 3, (3, 2), (2, 1), 1, True, seed=0)
    x, pads = rng.standard_normal((2, 5, 4, 2)), _pads(1, 5, 4, (3, 2), (2, 1))
    g = rng.standard_normal(layer.forward(x).shape)
    assert layer.backward(g, need_input_grad=False) is None
    dw, db, _ = conv_grads_loops(x, layer.weights, g, (2, 1), pads)
    np.testing.assert_allclose(layer.grad_weights, dw, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(layer.grad_bias, db, rtol=1e-12, atol=1e-12)


def test_backward_uses_the_last_forward_when_shapes_change():
    """The im2col work buffer is reused while the shape stays: a new input, of a new
    shape or of the same one, must replace what backward reads."""
    rng = np.random.default_rng(1)
    layer = _layer(9, 2, (2, 2), (1, 1), "same", True, seed=3)
    pads = _pads("same", 4, 5, (2, 2), (1, 1))
    for shape in [(2, 6, 6, 9), (1, 4, 5, 9), (1, 4, 5, 9)]:
        x = rng.standard_normal(shape)
        z = layer.forward(x)
    np.testing.assert_allclose(z, conv_loops(x, layer.weights, layer.bias, (1, 1), pads))
    g = rng.standard_normal(z.shape)
    dx = layer.backward(g)
    dw, db, dx_ref = conv_grads_loops(x, layer.weights, g, (1, 1), pads)
    np.testing.assert_allclose(layer.grad_weights, dw, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(layer.grad_bias, db, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dx, dx_ref, rtol=1e-12, atol=1e-12)


def test_a_hand_worked_output_position():
    # one 3x3 image, one 2x2 filter of ones but W[1, 1] = 2, bias 0.5:
    # x = [[1, 2, 3], [4, 5, 6], [7, 8, 9]]; each output is its window's sum, the
    # bottom-right pixel twice, plus 0.5:
    # z[0, 0] = 1 + 2 + 4 + 2*5 + 0.5 = 17.5    z[0, 1] = 2 + 3 + 5 + 2*6 + 0.5 = 22.5
    # z[1, 0] = 4 + 5 + 7 + 2*8 + 0.5 = 32.5    z[1, 1] = 5 + 6 + 8 + 2*9 + 0.5 = 37.5
    layer = ln.Conv2D(1, 1, 2, dtype=np.float64)
    kernel = np.ones((2, 2, 1, 1))
    kernel[1, 1] = 2
    layer.weights, layer.bias = kernel, [0.5]
    x = np.arange(1.0, 10.0).reshape(1, 3, 3, 1)
    np.testing.assert_array_equal(layer.forward(x)[0, :, :, 0], [[17.5, 22.5], [32.5, 37.5]])


def test_float32_layer_casts_its_input_and_stays_float32():
    layer = ln.Conv2D(2, 3, 3, padding="same", seed=0)
    x = np.random.default_rng(0).standard_normal((2, 5, 5, 2))
    z = layer.forward(x)
    assert z.dtype == np.float32
    ref = conv_loops(x, layer.weights.astype(np.float64), layer.bias, (1, 1), (1, 1, 1, 1))
    np.testing.assert_allclose(z, ref, rtol=1e-5, atol=1e-5)
    assert layer.backward(np.ones_like(z)).dtype == np.float32
    assert layer.forward(np.ones((1, 4, 4, 2), dtype=np.int64)).dtype == np.float32


# --- errors -------------------------------------------------------------------------------


def test_channels_first_input_names_the_transpose():
    layer = ln.Conv2D(1, 4, 3, name="c1")
    fix = r"c1: .*channels first.*x\.transpose\(0, 2, 3, 1\)"
    with pytest.raises(ValueError, match=fix):
        layer.forward(np.zeros((2, 1, 28, 28)))
    with pytest.raises(ValueError, match=fix):
        ln.Sequential([layer], input_shape=(1, 28, 28))
    with pytest.raises(ValueError, match=r"c3: .*x\.transpose\(0, 2, 3, 1\)"):
        ln.Conv2D(3, 4, name="c3").forward(np.zeros((2, 3, 32, 32)))


@pytest.mark.parametrize("c", [1, 9])
def test_the_named_fix_for_channels_first_works(c):
    """x.transpose(0, 2, 3, 1) is a non-contiguous view: the layer takes it as it is."""
    rng = np.random.default_rng(c)
    x_nchw = rng.standard_normal((2, c, 6, 5))
    x = x_nchw.transpose(0, 2, 3, 1)
    assert c == 1 or not x.flags.c_contiguous  # one channel: the same memory order
    layer = _layer(c, 3, (3, 2), (2, 1), "same", True, seed=0)
    pads = _pads("same", 6, 5, (3, 2), (2, 1))
    z = layer.forward(x)
    np.testing.assert_allclose(z, conv_loops(x, layer.weights, layer.bias, (2, 1), pads))
    g = rng.standard_normal(z.shape)
    _, _, dx_ref = conv_grads_loops(x, layer.weights, g, (2, 1), pads)
    np.testing.assert_allclose(layer.backward(g), dx_ref, rtol=1e-12, atol=1e-12)


def test_an_image_without_its_channel_axis_names_x_none():
    layer = ln.Conv2D(1, 4, 3, name="c1")
    fix = (
        r"c1: expects images \(batch, height, width, 1\).*receives \(batch, 28, 28\)"
        r".*x\[\.\.\., None\]"
    )
    with pytest.raises(ValueError, match=fix):
        layer.forward(np.zeros((2, 28, 28)))
    with pytest.raises(ValueError, match=fix):
        ln.Sequential([layer], input_shape=(28, 28))


def test_wrong_channel_count_and_vectors_are_refused():
    layer = ln.Conv2D(3, 4, 3, name="c3")
    with pytest.raises(ValueError, match=r"c3: .*\(batch, height, width, 3\).*\(batch, 8, 8, 2\)"):
        layer.forward(np.zeros((1, 8, 8, 2)))
    with pytest.raises(ValueError, match=r"c3: .*receives \(batch, 192\)"):
        layer.forward(np.zeros((1, 192)))
    with pytest.raises(ValueError, match=r"c3: expects images.*\(batch, 1, 8, 8, 3\)"):
        layer.forward(np.zeros((1, 1, 8, 8, 3)))


def test_a_kernel_bigger_than_the_input_is_refused():
    layer = ln.Conv2D(1, 2, 5, name="big")
    message = r"big: a 5x5 kernel does not fit in a 3x4 input"
    with pytest.raises(ValueError, match=message):
        layer.output_shape((3, 4, 1))
    with pytest.raises(ValueError, match=message):
        layer.forward(np.zeros((1, 3, 4, 1)))
    with pytest.raises(ValueError, match="big"):
        ln.Sequential([layer], input_shape=(3, 4, 1))
    # with "same" padding the same kernel fits (2 zeros on each side)
    assert ln.Conv2D(1, 2, 5, padding="same").output_shape((3, 4, 1)) == (3, 4, 2)
    assert ln.Conv2D(1, 2, (1, 5), padding=(0, 1)).output_shape((3, 3, 1)) == (3, 1, 2)


@pytest.mark.parametrize(
    ("kwargs", "what"),
    [
        ({"kernel_size": 0}, "kernel_size"),
        ({"kernel_size": (3, 0)}, "kernel_size"),
        ({"kernel_size": (3, 3, 3)}, "kernel_size"),
        ({"kernel_size": True}, "kernel_size"),
        ({"kernel_size": 2.0}, "kernel_size"),
        ({"padding": "full"}, "padding"),
        ({"padding": -1}, "padding"),
        ({"padding": (1, 2, 3)}, "padding"),
        ({"stride": -1}, "stride"),
        ({"stride": 0}, "stride"),
        ({"stride": (1, 0)}, "stride"),
        ({"in_channels": 0}, "in_channels"),
        ({"out_channels": 2.5}, "out_channels"),
        ({"l2": -0.1}, "l2"),
        ({"init": "no_such_initializer"}, "no_such_initializer"),
    ],
)
def test_bad_arguments_raise_naming_the_layer_and_the_value(kwargs, what):
    arguments = {"in_channels": 1, "out_channels": 2, "name": "my_conv", **kwargs}
    with pytest.raises(ValueError) as info:
        ln.Conv2D(**arguments)
    message = str(info.value)
    assert what in message
    if what != "no_such_initializer":  # the initializer table raises with its own name
        assert "my_conv" in message
        assert repr(next(iter(kwargs.values()))) in message, message


def test_backward_checks_its_gradient_and_needs_a_forward():
    layer = ln.Conv2D(1, 2, 3, name="c")
    with pytest.raises(RuntimeError, match="c: backward called before forward"):
        layer.backward(np.ones((1, 2, 2, 2)))
    layer.forward(np.ones((1, 4, 5, 1)))
    with pytest.raises(
        ValueError, match=r"c: backward expected a gradient of shape \(1, 2, 3, 2\)"
    ):
        layer.backward(np.ones((1, 3, 2, 2)))


def test_config_round_trip():
    layer = ln.Conv2D(3, 5, (3, 2), stride=(2, 1), padding=(1, 0), bias=False, l2=0.01, name="k")
    twin = ln.Conv2D.from_config(layer.get_config())
    assert twin.get_config() == layer.get_config()
    assert twin.weights.shape == (3, 2, 3, 5) and not twin.weights.any()
    assert ln.Conv2D.array_shapes(layer.get_config()) == {"weights": (3, 2, 3, 5)}
    same = ln.Conv2D(2, 4, padding="same")
    assert ln.Conv2D.from_config(same.get_config()).padding == "same"


# --- initializer fans ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("init", "limit"),
    [
        # fan_in = kh*kw*C = 3*2*3 = 18, fan_out = kh*kw*F = 3*2*64 = 384
        ("he_uniform", math.sqrt(6 / 18)),
        ("glorot_uniform", math.sqrt(6 / (18 + 384))),
    ],
)
def test_the_kernel_fans_count_the_receptive_field(init, limit):
    layer = ln.Conv2D(3, 64, (3, 2), init=init, dtype=np.float64, seed=0)
    w = np.abs(layer.weights)  # 1,152 draws from U(-limit, limit)
    assert w.max() <= limit
    assert w.max() > 0.99 * limit  # the chance that all stay below is 0.99**1152 < 1e-5
    assert np.mean(w) == pytest.approx(limit / 2, rel=0.06)  # E|U(-a, a)| = a/2
    same = ln.Conv2D(3, 64, (3, 2), init=init, dtype=np.float64, seed=0)
    np.testing.assert_array_equal(same.weights, layer.weights)


# --- in a model --------------------------------------------------------------------------


def _cnn():
    return ln.Sequential(
        [
            ln.Conv2D(1, 8, 3, seed=0),
            ln.BatchNorm(8),
            ln.ReLU(),
            ln.MaxPool2D(2),
            ln.Conv2D(8, 16, 3, stride=2, padding="same", seed=1),
            ln.ReLU(),
            ln.Flatten(),
            ln.Dense(7 * 7 * 16, 10, seed=2),
            ln.Softmax(),
        ],
        input_shape=(28, 28, 1),
    )


def test_a_cnn_reports_every_shape_and_parameter_count():
    model = _cnn()
    # 28 -> 26 (3x3 valid) -> 13 (pool 2) -> ceil(13/2) = 7 (stride 2, same)
    expected = [
        (26, 26, 8),
        (26, 26, 8),
        (26, 26, 8),
        (13, 13, 8),
        (7, 7, 16),
        (7, 7, 16),
        (784,),
        (10,),
        (10,),
    ]
    assert model.shapes((28, 28, 1)) == expected
    assert model.output_shape == (10,)
    text = str(model)
    # params: 3*3*1*8 + 8 = 80; BatchNorm 2*8 = 16; 3*3*8*16 + 16 = 1,168; 784*10 + 10 = 7,850
    for layer, shape, count in [
        (r"conv2d \(Conv2D\)", r"\(batch, 26, 26, 8\)", "80"),
        (r"batch_norm \(BatchNorm\)", r"\(batch, 26, 26, 8\)", "16"),
        (r"max_pool2d \(MaxPool2D\)", r"\(batch, 13, 13, 8\)", "0"),
        (r"conv2d_1 \(Conv2D\)", r"\(batch, 7, 7, 16\)", "1,168"),
        (r"flatten \(Flatten\)", r"\(batch, 784\)", "0"),
        (r"dense \(Dense\)", r"\(batch, 10\)", "7,850"),
    ]:
        assert re.search(rf"^{layer}\s+{shape}\s+{count}$", text, re.MULTILINE), (layer, text)
    assert "Input shape: (batch, 28, 28, 1)" in text
    assert "Total params: 9,114" in text  # 80 + 16 + 1,168 + 7,850
    assert "Non-trainable (buffers): 16" in text  # running mean and variance of 8 channels
    assert model.count_parameters() == 9114


def test_a_cnn_round_trips_through_a_file_with_its_buffers(tmp_path):
    model = _cnn()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 28, 28, 1)).astype(np.float32)
    model.compile("cross_entropy", ln.Adam(1e-3))
    model.fit(x, np.arange(6) % 10, epochs=1, batch_size=3, verbose=0, seed=0)
    norm = model.layers[1]
    assert not np.allclose(norm.buffers()[0].value, 0)  # the running mean moved
    path = tmp_path / "cnn.lucid"
    ln.save(model, path)
    loaded = ln.load(path)
    assert [type(a) for a in loaded.layers] == [type(a) for a in model.layers]
    for a, b in zip(model.get_weights(), loaded.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    assert str(loaded) == str(model)


def _bars(n, seed):
    """8x8 images with one bright bar: horizontal (label 0) or vertical (label 1)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0.0, 0.1, (n, 8, 8, 1))
    y = np.arange(n) % 2
    where = rng.integers(0, 8, n)
    for k in range(n):
        if y[k]:
            x[k, :, where[k], 0] += 1.0
        else:
            x[k, where[k], :, 0] += 1.0
    return x.astype(np.float32), y


def test_a_tiny_cnn_learns_vertical_against_horizontal_bars():
    x, y = _bars(64, seed=0)
    x_test, y_test = _bars(64, seed=1)
    model = ln.Sequential(
        [
            ln.Conv2D(1, 4, 3, init="he_uniform", seed=0),
            ln.ReLU(),
            ln.MaxPool2D(2),
            ln.Flatten(),
            ln.Dense(3 * 3 * 4, 2, seed=1),
            ln.Softmax(),
        ],
        input_shape=(8, 8, 1),
    )
    model.compile("cross_entropy", ln.Adam(0.02), metrics=["accuracy"])
    before = model.evaluate(x_test, y_test)
    model.fit(x, y, epochs=15, batch_size=16, verbose=0, seed=0)
    after = model.evaluate(x_test, y_test)
    assert before["accuracy"] < 0.8
    assert after["accuracy"] >= 0.95, after
    assert after["loss"] < before["loss"] / 4


@pytest.mark.parametrize(
    ("layer", "shape", "out"),
    [
        (lambda: ln.Conv2D(2, 3, 3, seed=0), (0, 6, 6, 2), (0, 4, 4, 3)),
        (
            lambda: ln.Conv2D(2, 3, 3, padding="same", bias=False, seed=0),
            (0, 5, 5, 2),
            (0, 5, 5, 3),
        ),
        (lambda: ln.MaxPool2D(2), (0, 6, 6, 2), (0, 3, 3, 2)),
        (lambda: ln.AvgPool2D(2), (0, 6, 6, 2), (0, 3, 3, 2)),
        (lambda: ln.GlobalAveragePooling2D(), (0, 6, 6, 2), (0, 2)),
        (lambda: ln.Flatten(), (0, 6, 6, 2), (0, 72)),
        (lambda: ln.Reshape((36, 2)), (0, 72), (0, 36, 2)),
    ],
)
def test_an_empty_batch_gives_an_empty_batch_of_the_right_shape(layer, shape, out):
    y = layer().forward(np.zeros(shape, dtype=np.float32))
    assert y.shape == out and y.dtype == np.float32
