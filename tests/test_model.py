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
    for p in model.parameters():
        assert p.value.base is values and p.grad.base is grads
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
    assert model.layers[2].weights.base is model.flat_buffers[0]


def test_mixed_dtypes_are_left_unpacked():
    model = ln.Sequential([ln.Dense(2, 2, seed=0), ln.Dense(2, 2, dtype=np.float64, seed=1)])
    assert model.flat_buffers is None
    assert model.forward(np.ones((1, 2))).dtype == np.float64


def test_a_deep_copy_has_its_own_flat_buffers():
    import copy

    model = _mlp()
    clone = copy.deepcopy(model)
    values, _ = clone.flat_buffers
    assert clone.layers[0].weights.base is values
    assert not np.shares_memory(values, model.flat_buffers[0])
    clone.layers[0].weights[0, 0] = 123.0
    assert model.layers[0].weights[0, 0] != 123.0
