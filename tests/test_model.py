"""Sequential: forward, backward, parameters, predict, summary, construction checks."""

import numpy as np
import pytest

import lucidnet as ln


def _mlp(dtype=np.float32):
    return ln.Sequential(
        [
            ln.Dense(3, 4, dtype=dtype, seed=0),
            ln.ReLU(),
            ln.Dense(4, 2, dtype=dtype, seed=1),
            ln.Softmax(),
        ]
    )


def test_forward_chains_layers_in_order():
    model = _mlp(np.float64)
    x = np.random.default_rng(0).standard_normal((5, 3))
    d1, _, d2, _ = model.layers
    h = np.maximum(x @ d1.weights + d1.bias, 0)
    z = h @ d2.weights + d2.bias
    expected = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(model.forward(x), expected, rtol=1e-12)
    np.testing.assert_allclose(model(x), expected, rtol=1e-12)


def test_backward_runs_layers_in_reverse_and_returns_input_gradient():
    model = ln.Sequential([ln.Dense(2, 3, dtype=np.float64, seed=0), ln.Tanh()])
    x = np.array([[0.3, -0.7]])
    y = model.forward(x)
    g = np.array([[1.0, -2.0, 0.5]])
    grad_x = model.backward(g)
    dense = model.layers[0]
    delta = g * (1 - y**2)  # tanh' = 1 - tanh^2, then Dense backward
    np.testing.assert_allclose(dense.grad_weights, x.T @ delta, rtol=1e-12)
    np.testing.assert_allclose(grad_x, delta @ dense.weights.T, rtol=1e-12)


def test_layer_names_are_made_unique_and_parameters_named():
    model = _mlp()
    assert [layer.name for layer in model.layers] == ["dense", "relu", "dense_1", "softmax"]
    names = [p.name for p in model.parameters()]
    assert names == ["dense.weights", "dense.bias", "dense_1.weights", "dense_1.bias"]
    model.parameters()[0].value[0, 0] = 7.0
    assert model.layers[0].weights[0, 0] == 7.0


def test_unique_names_do_not_collide_with_given_names():
    model = ln.Sequential(
        [ln.Dense(2, 2, name="dense_1"), ln.Dense(2, 2), ln.Dense(2, 2), ln.Dense(2, 2)]
    )
    names = [layer.name for layer in model.layers]
    assert len(set(names)) == 4, names


def test_count_parameters_and_summary(capsys):
    model = _mlp()
    assert model.count_parameters() == (3 * 4 + 4) + (4 * 2 + 2)
    # summary() prints the text (or hands it to print_fn) and returns None; str() is the text
    assert model.summary() is None
    text = str(model)
    assert capsys.readouterr().out == text + "\n"
    printed = []
    assert model.summary(print_fn=printed.append) is None
    assert printed == [text]
    assert "dense (Dense)" in text
    assert "(batch, 4)" in text
    assert "dense_1 (Dense)" in text and "(batch, 2)" in text
    assert text.strip().endswith("Total params: 26")
    lines = text.splitlines()
    assert lines[0] == "Input shape: (batch, 3)"
    assert lines[1].split()[:2] == ["Layer", "(type)"]
    assert any(line.split()[-1] == "16" for line in lines)  # 3*4 + 4
    assert any(line.split()[-1] == "10" for line in lines)  # 4*2 + 2


def test_summary_of_activation_only_model_has_unknown_width():
    text = str(ln.Sequential([ln.ReLU()]))
    assert text.splitlines()[0] == "Input shape: (batch, ?)"
    row = text.splitlines()[3]
    assert row.startswith("relu (ReLU)") and "(batch, ?)" in row


def test_mismatched_feature_counts_are_rejected_at_construction():
    with pytest.raises(
        ValueError,
        match=r"layer 2 \(dense_1, Dense\) cannot take the output of the layer before it: "
        r"dense_1: expects inputs of shape \(batch, 5\), but receives \(batch, 4\)",
    ):
        ln.Sequential([ln.Dense(3, 4), ln.ReLU(), ln.Dense(5, 1)])


def test_non_layers_and_repeated_layers_are_rejected():
    with pytest.raises(TypeError, match="layer 1 must be a lucidnet Layer, got str"):
        ln.Sequential([ln.Dense(2, 2), "relu"])
    shared = ln.ReLU()
    with pytest.raises(ValueError, match="appears twice"):
        ln.Sequential([shared, shared])


def test_wrong_input_names_the_layer_and_shapes():
    with pytest.raises(
        ValueError, match=r"dense: expected input of shape \(batch, 3\), got \(2, 5\)"
    ):
        _mlp().forward(np.zeros((2, 5)))


def test_predict_in_batches_equals_one_pass():
    model = _mlp()
    x = np.random.default_rng(0).standard_normal((103, 3)).astype(np.float32)
    np.testing.assert_allclose(model.predict(x, batch_size=10), model.predict(x), rtol=1e-6)
    assert model.predict(x, batch_size=10).shape == (103, 2)
    with pytest.raises(ValueError, match="batch_size must be an int >= 1, got 0"):
        model.predict(x, batch_size=0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_kept_through_the_model(dtype):
    model = _mlp(dtype)
    y = model.forward(np.ones((2, 3), dtype=dtype))
    assert y.dtype == np.dtype(dtype)
    assert model.backward(np.ones_like(y)).dtype == np.dtype(dtype)


def test_astype_converts_the_whole_model():
    model = _mlp().astype(np.float64)
    assert all(p.value.dtype == np.float64 for p in model.parameters())
    assert model.forward(np.ones((1, 3))).dtype == np.float64


def test_repr_lists_layers():
    assert repr(ln.Sequential([ln.Dense(2, 1), ln.Sigmoid()])).startswith("Sequential([Dense(2, 1")


def test_parameters_live_in_two_flat_buffers():
    model = _mlp()
    values, grads = model.flat_buffers
    assert values.size == model.count_parameters() and grads.shape == values.shape
    offset = 0
    assert values.ctypes.data % 64 == 0 and grads.ctypes.data % 64 == 0  # cache-line aligned
    for p in model.parameters():
        assert np.shares_memory(p.value, values) and np.shares_memory(p.grad, grads)
        start = (p.value.ctypes.data - values.ctypes.data) // values.itemsize
        assert start == offset  # consecutive views, in parameters() order
        np.testing.assert_array_equal(values[offset : offset + p.value.size], p.value.ravel())
        offset += p.value.size
    # weights keep their values through packing, and writes go through
    model.layers[0].weights[0, 0] = 5.0
    assert values[0] == 5.0


def test_packing_keeps_the_numbers_and_repacks_after_astype():
    layers = [ln.Dense(3, 4, seed=0), ln.ReLU(), ln.Dense(4, 2, seed=1)]
    before = [layers[0].weights.copy(), layers[2].weights.copy()]
    model = ln.Sequential(layers)
    np.testing.assert_array_equal(model.layers[0].weights, before[0])
    np.testing.assert_array_equal(model.layers[2].weights, before[1])
    model.astype(np.float64)
    assert model.flat_buffers[0].dtype == np.float64
    assert np.shares_memory(model.layers[2].weights, model.flat_buffers[0])


def test_mixed_dtypes_are_left_unpacked():
    model = ln.Sequential([ln.Dense(2, 2, seed=0), ln.Dense(2, 2, dtype=np.float64, seed=1)])
    assert model.flat_buffers is None
    assert model.forward(np.ones((1, 2))).dtype == np.float64


def test_a_deep_copy_has_its_own_flat_buffers():
    import copy

    model = _mlp()
    clone = copy.deepcopy(model)
    values, _ = clone.flat_buffers
    assert np.shares_memory(clone.layers[0].weights, values)
    assert not np.shares_memory(values, model.flat_buffers[0])
    clone.layers[0].weights[0, 0] = 123.0
    assert model.layers[0].weights[0, 0] != 123.0


# --- one owner per parameter, across copies, layouts and late changes ---------------------


def _xor_model():
    model = ln.Sequential([ln.Dense(2, 4, seed=0), ln.Tanh(), ln.Dense(4, 1, seed=1)])
    model.compile("mse", ln.Adam(0.05))
    return model


def test_copy_copy_gives_independent_layers_and_models():
    import copy

    x, y = ln.datasets.xor()
    model = _xor_model()
    twin = copy.copy(model)  # a shallow copy would share the parameter objects
    layer_copy = copy.copy(model.layers[0])
    ln.Sequential([layer_copy, ln.Tanh()])  # adopting the copy must not touch the original
    assert model.layers[0].owner is model and twin.layers[0].owner is twin
    before = model.predict(x)
    model.fit(x, y, epochs=20, verbose=0, seed=0)
    assert not np.allclose(model.predict(x), before)  # the original still trains
    np.testing.assert_array_equal(twin.predict(x), before)  # and the copy did not move


def test_deepcopy_and_astype_keep_the_optimizer_state():
    import copy

    x, y = ln.datasets.xor()
    model = _xor_model()
    model.fit(x, y, epochs=3, batch_size=2, verbose=0, seed=0)
    twin = copy.deepcopy(model)
    assert twin.optimizer.state["dense.weights"]["step"] == 6
    model.fit(x, y, epochs=4, initial_epoch=3, batch_size=2, verbose=0, seed=0)
    twin.fit(x, y, epochs=4, initial_epoch=3, batch_size=2, verbose=0, seed=0)
    for a, b in zip(model.get_weights(), twin.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    moments = model.optimizer.state["dense.weights"]["m"].copy()
    model.astype(np.float32)  # the same dtype: a new layout, the same moments
    np.testing.assert_array_equal(model.optimizer.state["dense.weights"]["m"], moments)
    model.astype(np.float64)
    state = model.optimizer.state["dense.weights"]
    assert state["m"].dtype == np.float64 and state["step"] == 8
    np.testing.assert_allclose(state["m"], moments, rtol=1e-7)


def test_astype_after_training_then_save_and_load(tmp_path):
    x, y = ln.datasets.xor()
    model = _xor_model()
    model.fit(x, y, epochs=2, verbose=0, seed=0)
    model.astype(np.float64)
    model.save(tmp_path / "m.lucid")
    again = ln.load(tmp_path / "m.lucid")
    assert again.dtype == np.float64
    np.testing.assert_array_equal(again.predict(x), model.predict(x))


def test_assigning_a_parameters_value_or_grad_copies_into_the_live_array():
    x, y = ln.datasets.xor()
    model = _xor_model()
    p = model.parameters()[0]
    view = p.value
    p.value = np.zeros((2, 4))
    assert p.value is view and np.all(model.flat_buffers.values[:8] == 0)
    model.fit(x, y, epochs=5, verbose=0, seed=0)
    assert np.any(model.layers[0].weights != 0)  # the zeros were trained, not a detached copy
    with pytest.raises(ValueError, match=r"dense\.weights: expected an array of shape \(2, 4\)"):
        p.value = np.zeros((4, 2))
    with pytest.raises(ValueError, match=r"dense\.weights: l2 must be a finite number >= 0"):
        p.l2 = -1


def test_a_backward_that_assigns_grad_trains():
    class Scale(ln.Layer):
        def __init__(self):
            super().__init__()
            self.add_parameter("s", np.ones(2))
            self._x = None

        @property
        def input_shape(self):
            return (2,)

        def forward(self, x, training=False):
            self._x = np.asarray(x, dtype=np.float64)
            return self._x * self.parameter("s").value

        def backward(self, grad, need_input_grad=True):
            s = self.parameter("s")
            s.grad = (grad * self._x).sum(axis=0)  # assignment: copied into the live buffer
            return grad * s.value

    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    y = 3 * x
    model = ln.Sequential([Scale()])
    model.compile("mse", ln.SGD(0.01))
    history = model.fit(x, y, epochs=300, batch_size=2, verbose=0, seed=0)
    assert history.history["loss"][-1] < 0.01 * history.history["loss"][0]
    np.testing.assert_allclose(model.layers[0].parameter("s").value, [3, 3], atol=0.05)


def test_layers_are_fixed_and_a_late_parameter_joins_the_layout():
    model = _xor_model()
    with pytest.raises(AttributeError):
        model.layers.append(ln.Dense(1, 1))  # a tuple: forward and training cannot diverge
    layer = model.layers[0]
    layer.add_parameter("extra", np.ones(3, dtype=np.float32))
    names = [p.name for p in model.parameters()]
    assert "dense.extra" in names
    assert model.flat_buffers.values.size == model.count_parameters() == 8 + 4 + 4 + 1 + 3


def test_input_shape_is_inferred_only_through_layers_that_keep_the_shape():
    class FlattenLike(ln.Layer):  # keeps (48,) as (48,), but not (3, 4, 4)
        def output_shape(self, input_shape):
            return None if input_shape is None else (int(np.prod(input_shape)),)

        def forward(self, x, training=False):
            self._shape = np.shape(x)
            return np.reshape(x, (len(x), -1))

        def backward(self, grad, need_input_grad=True):
            return np.reshape(grad, self._shape)

    assert ln.Sequential([ln.ReLU(), ln.Dropout(0.1), ln.Dense(3, 1)]).input_shape == (3,)
    model = ln.Sequential([FlattenLike(), ln.Dense(48, 2), ln.Softmax()])
    assert model.input_shape is None and model.output_shape == (2,)
    x = np.random.default_rng(0).normal(size=(8, 3, 4, 4))
    model.compile("crossentropy", "adam")
    model.fit(x, np.arange(8) % 2, epochs=1, verbose=0, seed=0)
    with pytest.raises(ValueError, match=r"expects inputs of shape \(batch, 48\), but receives"):
        model.fit(np.zeros((8, 3, 4, 5)), np.zeros(8), epochs=1, verbose=0)


def test_a_layer_of_a_model_kept_alive_elsewhere_names_the_reason():
    x, y = ln.datasets.xor()
    layers = [ln.Dense(2, 1, seed=0)]
    model = ln.Sequential(layers)
    model.compile("mse", "sgd")
    history = model.fit(x, y, epochs=1, verbose=0)
    del model
    with pytest.raises(ValueError, match=r"still referenced, e\.g\. by a History"):
        ln.Sequential(layers)
    del history
    import gc

    gc.collect()
    assert ln.Sequential(layers).layers[0] is layers[0]  # free again once nothing holds it


def test_layers_cannot_be_replaced_after_construction():
    model = _xor_model()
    with pytest.raises(AttributeError):
        model.layers = (*model.layers, ln.Dense(1, 1))


def test_astype_on_one_layer_keeps_the_optimizer_state_of_all():
    x, y = ln.datasets.xor()
    model = _xor_model()
    model.fit(x, y, epochs=2, batch_size=2, verbose=0, seed=0)
    model.layers[0].astype(np.float64)  # mixed dtypes: no flat buffers, state kept per array
    assert model.flat_buffers is None
    steps = {name: int(s["step"]) for name, s in model.optimizer.state.items()}
    assert steps == dict.fromkeys(steps, 4)
    assert model.optimizer.state["dense.weights"]["m"].dtype == np.float64
    model.fit(x, y, epochs=3, initial_epoch=2, batch_size=2, verbose=0, seed=0)
    steps = {name: int(s["step"]) for name, s in model.optimizer.state.items()}
    assert steps == dict.fromkeys(steps, 6)


def _relu_pool_model():
    return ln.Sequential(
        [
            ln.Conv2D(2, 4, 3, padding="same", seed=0),
            ln.ReLU(),
            ln.MaxPool2D(2),
            ln.Flatten(),
            ln.Dense(4 * 3 * 4, 3, seed=1),
            ln.Softmax(),
        ],
        input_shape=(6, 8, 2),
    )


def test_relu_before_max_pool_runs_pool_first_with_the_same_numbers():
    model = _relu_pool_model()
    assert model.execution_order == (0, 2, 1, 3, 4, 5)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 6, 8, 2))
    x[0] = 0.0  # windows of ties (zeros) and windows with no positive value
    x[1] = -np.abs(x[1])
    y = rng.integers(0, 3, 5)
    found = ln.loss_and_gradients(model, x, y, "crossentropy")  # the model's order
    grads = {p.name: p.grad.copy() for p in model.parameters()}
    # the same step by hand, in the layers' own order
    out = x
    for layer in model.layers[:-1]:
        out = layer.forward(out, training=True)
    value, g = ln.CrossEntropy(from_logits=True).value_and_gradient(y, out)
    grad_x = g
    for layer in reversed(model.layers[:-1]):
        grad_x = layer.backward(grad_x)
    assert found.loss == value
    np.testing.assert_array_equal(found.y_pred, model.layers[-1].forward(out))
    np.testing.assert_array_equal(found.grad_input, grad_x)
    for p in model.parameters():
        np.testing.assert_array_equal(grads[p.name], p.grad)
    assert np.any(grads["conv2d.weights"] != 0)


def test_only_the_exact_relu_max_pool_pair_is_reordered():
    class MyReLU(ln.ReLU):
        pass

    for first, second in [
        (ln.LeakyReLU(0.1), ln.MaxPool2D(2)),
        (MyReLU(), ln.MaxPool2D(2)),
        (ln.ReLU(), ln.AvgPool2D(2)),
    ]:
        model = ln.Sequential([first, second], input_shape=(4, 4, 1))
        assert model.execution_order == (0, 1)
    model = ln.Sequential([ln.ReLU(), ln.MaxPool2D(2), ln.ReLU(), ln.MaxPool2D(2)])
    assert model.execution_order == (1, 0, 3, 2)


def test_predict_and_evaluate_run_a_cnn_in_pieces_of_bounded_size(monkeypatch):
    model = _relu_pool_model()
    # widest: the conv output 6*8*4 = 192 values a row, plus its im2col copy 6*8*9*2 = 864
    assert model.inference_batch_size() == ln.model.INFERENCE_VALUES // (192 + 864)
    mlp = ln.Sequential([ln.Dense(784, 256), ln.ReLU(), ln.Dense(256, 10)])
    assert mlp.inference_batch_size() == (1 << 23) // 256  # 32,768 rows in one piece
    assert ln.Sequential([ln.ReLU()]).inference_batch_size() is None  # shapes unknown
    monkeypatch.setattr(ln.model, "INFERENCE_VALUES", 1056 * 3)  # 3 rows at once
    assert model.inference_batch_size() == 3
    x = np.random.default_rng(1).standard_normal((10, 6, 8, 2))
    seen = []
    forward = model.forward
    monkeypatch.setattr(model, "forward", lambda x, **kw: seen.append(len(x)) or forward(x, **kw))
    y = model.predict(x)
    assert seen == [3, 3, 3, 1]
    np.testing.assert_allclose(y, forward(x), rtol=1e-6)
    model.compile("crossentropy", "sgd", metrics=["accuracy"])
    seen.clear()
    labels = np.arange(10) % 3
    scores = model.evaluate(x, labels)
    assert seen == [3, 3, 3, 1]
    assert scores == pytest.approx(model.evaluate(x, labels, batch_size=10), rel=1e-6)


def test_a_cnn_predicts_zero_rows_as_zero_rows():
    model = ln.Sequential(
        [
            ln.Conv2D(1, 2, 3, seed=0),
            ln.ReLU(),
            ln.MaxPool2D(2),
            ln.Flatten(),
            ln.Dense(2 * 3 * 3, 4, seed=1),
            ln.Softmax(),
        ],
        input_shape=(8, 8, 1),
    )
    assert model.predict(np.zeros((0, 8, 8, 1), dtype=np.float32)).shape == (0, 4)
