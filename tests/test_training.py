"""One training step: fused pairs, input checks, and divergence keeping the weights."""

import numpy as np
import pytest

import lucidnet as ln


def _model():
    return ln.Sequential([ln.Dense(2, 3, seed=0), ln.Tanh(), ln.Dense(3, 1, seed=1), ln.Sigmoid()])


def test_train_step_lowers_the_loss_on_xor_batch():
    x, y = ln.datasets.xor()
    model = _model()
    opt = ln.SGD(0.5)
    first = ln.train_step(model, x, y, "binary_crossentropy", opt)
    for _ in range(200):
        last = ln.train_step(model, x, y, "binary_crossentropy", opt)
    assert last < first


def test_loss_and_gradients_fused_matches_unfused_chain_rule():
    rng = np.random.default_rng(0)
    x, labels = rng.standard_normal((8, 3)), rng.integers(0, 4, 8)
    model = ln.Sequential([ln.Dense(3, 4, dtype=np.float64, seed=0), ln.Softmax()])
    result = ln.loss_and_gradients(model, x, labels, ln.CrossEntropy())
    fused = model.layers[0].grad_weights.copy()
    # the unfused chain: softmax backward of dL/dp = -y / p / n
    p = model.forward(x)
    model.backward(ln.CrossEntropy().gradient(labels, p))
    np.testing.assert_allclose(fused, model.layers[0].grad_weights, rtol=1e-9)
    np.testing.assert_allclose(result.y_pred, p)
    assert result.loss == pytest.approx(ln.CrossEntropy()(labels, p))
    assert result.grad_input.shape == x.shape


def test_nan_in_input_is_reported_with_row_and_column():
    x, y = ln.datasets.xor()
    x[2, 1] = np.nan
    with pytest.raises(
        ValueError, match=r"training input x contains 1 non-finite.*row 2, column 1"
    ):
        ln.train_step(_model(), x, y, "mse", ln.SGD(0.1))
    x, y = ln.datasets.xor()
    y = y.astype(float)
    y[3] = np.inf
    with pytest.raises(ValueError, match=r"training target y .* at index 3"):
        ln.train_step(_model(), x, y, "mse", ln.SGD(0.1))


def test_non_finite_loss_raises_and_keeps_weights():
    model = ln.Sequential([ln.Dense(1, 1, seed=0)])
    x = np.array([[1e20]], dtype=np.float32)
    y = np.array([[0.0]], dtype=np.float32)
    before = model.layers[0].weights.copy()
    with pytest.raises(ln.TrainingDiverged, match="update was skipped; the model keeps its last"):
        with np.errstate(over="ignore"):
            ln.train_step(model, x, y, "mse", ln.SGD(0.1))
    np.testing.assert_array_equal(model.layers[0].weights, before)


def test_finite_loss_with_overflowing_gradient_keeps_weights():
    # w = 0.1, x = 1e20: y_pred = 1e19 and the loss 1e38 is finite in float32,
    # but dL/dw = x * 2 * 1e19 = 2e39 overflows
    model = ln.Sequential([ln.Dense(1, 1, bias=False, seed=0)])
    model.layers[0].weights[:] = 0.1
    x = np.array([[1e20]], dtype=np.float32)
    with pytest.raises(ln.TrainingDiverged, match=r"gradient of dense.weights is not finite"):
        with np.errstate(over="ignore"):
            ln.train_step(model, x, np.zeros((1, 1), np.float32), "mse", ln.SGD(0.1))
    np.testing.assert_array_equal(model.layers[0].weights, [[np.float32(0.1)]])


def test_loss_and_gradients_accepts_a_loss_name():
    x, y = ln.datasets.xor()
    result = ln.loss_and_gradients(_model(), x, y, "binary_crossentropy")
    assert result.loss > 0 and result.y_pred.shape == (4, 1)


# --- fit, evaluate, predict -----------------------------------------------------------

OPTIMIZERS = {
    "sgd": lambda: ln.SGD(0.5),
    "sgd_momentum": lambda: ln.SGD(0.1, momentum=0.9),
    "sgd_nesterov": lambda: ln.SGD(0.1, momentum=0.9, nesterov=True),
    "rmsprop": lambda: ln.RMSprop(0.01),
    "rmsprop_centered_momentum": lambda: ln.RMSprop(0.005, momentum=0.5, centered=True),
    "adam": lambda: ln.Adam(0.01),
    "adam_amsgrad": lambda: ln.Adam(0.005, amsgrad=True),
    "adamw": lambda: ln.AdamW(0.01),
}


def _spiral_model(seed=0):
    rng = np.random.default_rng(seed)
    return ln.Sequential(
        [
            ln.Dense(2, 64, init="he_normal", seed=rng),
            ln.ReLU(),
            ln.Dense(64, 64, init="he_normal", seed=rng),
            ln.ReLU(),
            ln.Dense(64, 3, seed=rng),
            ln.Softmax(),
        ]
    )


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_each_optimizer_learns_xor(name):
    x, y = ln.datasets.xor()
    model = ln.seeds.xor_network(hidden=8, seed=0)
    model.compile("binary_crossentropy", OPTIMIZERS[name](), metrics=["accuracy"])
    model.fit(x, y, epochs=500, batch_size=4, verbose=0, seed=0)
    assert model.evaluate(x, y)["accuracy"] >= 0.97


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_each_optimizer_learns_the_spiral(name):
    x, y = ln.datasets.spirals(300, classes=3, noise=0.2, seed=0)
    model = _spiral_model()
    model.compile("crossentropy", OPTIMIZERS[name](), metrics=["accuracy"])
    model.fit(x, y, epochs=200, batch_size=32, verbose=0, seed=0)
    assert model.evaluate(x, y)["accuracy"] >= 0.97


def test_digits_mlp_with_dropout_and_adam_reaches_96_percent():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x_train, x_test, y_train, y_test = train_test_split(
        digits.data / 16.0, digits.target, test_size=0.25, random_state=0, stratify=digits.target
    )
    model = ln.Sequential(
        [
            ln.Dense(64, 128, init="he_normal", seed=0),
            ln.ReLU(),
            ln.Dropout(0.2),
            ln.Dense(128, 10, seed=1),
            ln.Softmax(),
        ]
    )
    model.compile("crossentropy", ln.Adam(1e-3), metrics=["accuracy"])
    history = model.fit(x_train, y_train, epochs=50, batch_size=32, verbose=0, seed=0)
    assert len(history.history["loss"]) == 50
    assert model.evaluate(x_test, y_test)["accuracy"] >= 0.96
    np.testing.assert_array_equal(
        model.predict_classes(x_test), model.predict_proba(x_test).argmax(axis=1)
    )


def _run(seed):
    x, y = ln.datasets.spirals(120, classes=3, seed=1)
    model = ln.Sequential(
        [ln.Dense(2, 16, seed=5), ln.ReLU(), ln.Dropout(0.3), ln.Dense(16, 3, seed=6), ln.Softmax()]
    )
    model.compile("crossentropy", ln.Adam(0.01), metrics=["accuracy"])
    history = model.fit(x, y, epochs=5, batch_size=16, validation_split=0.2, verbose=0, seed=seed)
    return model.get_weights(), history.history


def test_same_seed_gives_bit_identical_weights_and_history():
    w1, h1 = _run(seed=42)
    w2, h2 = _run(seed=42)
    for a, b in zip(w1, w2, strict=True):
        np.testing.assert_array_equal(a, b)
    assert h1 == h2
    w3, _ = _run(seed=43)
    assert not all(np.array_equal(a, b) for a, b in zip(w1, w3, strict=True))


def test_history_keeps_training_and_validation_per_epoch():
    x, y = ln.datasets.spirals(90, classes=3, seed=0)
    model = _spiral_model().compile("crossentropy", "adam", metrics=["accuracy", "top_k_accuracy"])
    history = model.fit(x, y, epochs=3, validation_split=0.2, verbose=0, seed=0)
    keys = {
        "loss",
        "accuracy",
        "top_k_accuracy",
        "val_loss",
        "val_accuracy",
        "val_top_k_accuracy",
        "lr",
    }
    assert set(history.history) == keys
    assert all(len(v) == 3 for v in history.history.values())
    assert history.epoch == [0, 1, 2]
    # the validation numbers are those of evaluate on the last 20% after the epoch
    assert history.history["val_loss"][-1] == pytest.approx(model.evaluate(x[72:], y[72:])["loss"])


def test_epoch_loss_is_the_sample_weighted_mean_of_batch_losses():
    x, y = ln.datasets.spirals(50, classes=2, seed=0)  # batches of 16, 16, 16, 2
    model = _spiral_model().compile("crossentropy", ln.SGD(1e-9), metrics=[])
    x2, y2 = x, y
    batch_means = []

    class Spy(ln.Callback):
        def on_batch_end(self, batch, logs=None):
            batch_means.append(logs["loss"])

    history = model.fit(
        x2, y2, epochs=1, batch_size=16, shuffle=False, callbacks=[Spy()], verbose=0
    )
    # with a negligible learning rate each batch loss is the loss of the starting weights
    losses = [model.evaluate(x2[i : i + 16], y2[i : i + 16])["loss"] for i in range(0, 50, 16)]
    sizes = [16, 16, 16, 2]
    expected = sum(v * k for v, k in zip(losses, sizes, strict=True)) / 50
    assert history.history["loss"][0] == pytest.approx(expected, rel=1e-5)
    assert len(batch_means) == 4
    assert batch_means[0] == pytest.approx(losses[0], rel=1e-5)


def test_validation_data_and_split_checks():
    x, y = ln.datasets.spirals(60, classes=3, seed=0)
    model = _spiral_model().compile("crossentropy", "adam")
    with pytest.raises(ValueError, match="not both"):
        model.fit(x, y, validation_split=0.2, validation_data=(x, y), verbose=0)
    with pytest.raises(ValueError, match=r"validation_split must be in \(0, 1\), got 1.5"):
        model.fit(x, y, validation_split=1.5, verbose=0)
    with pytest.raises(ValueError, match="tuple"):
        model.fit(x, y, validation_data=x, verbose=0)
    history = model.fit(x, y, epochs=1, validation_data=(x[:10], y[:10]), verbose=0)
    assert "val_loss" in history.history


def test_fit_rejects_bad_data_with_clear_messages():
    x, y = ln.datasets.spirals(30, classes=3, seed=0)
    model = _spiral_model().compile("crossentropy", "adam")
    x_bad = x.copy()
    x_bad[4, 1] = np.nan
    with pytest.raises(ValueError, match=r"fit: x contains 1 non-finite.*row 4, column 1"):
        model.fit(x_bad, y, verbose=0)
    with pytest.raises(ValueError, match="fit: x has 30 samples but y has 29"):
        model.fit(x, y[:-1], verbose=0)
    with pytest.raises(
        ValueError, match=r"fit: x has shape \(30,\), but the model takes \(batch, 2\)"
    ):
        model.fit(x[:, 0], y, verbose=0)
    with pytest.raises(
        ValueError, match=r"fit: x has shape \(30, 3\), but the model takes \(batch, 2\)"
    ):
        model.fit(np.zeros((30, 3)), y, batch_size=16, verbose=0)
    with pytest.raises(RuntimeError, match="not compiled"):
        _spiral_model().fit(x, y, verbose=0)


def test_divergence_stops_with_epoch_and_batch_and_keeps_finite_weights():
    x, y = ln.datasets.spirals(64, classes=3, seed=0)
    model = _spiral_model().compile("crossentropy", ln.SGD(1e6))
    with pytest.raises(
        ln.TrainingDiverged, match=r"training diverged at epoch \d+, batch \d+"
    ) as info:  # and no RuntimeWarning before it (pytest turns warnings into errors)
        model.fit(x, y, epochs=5, batch_size=16, verbose=0, seed=0)
    assert info.value.epoch is not None and info.value.batch is not None
    assert all(np.isfinite(w).all() for w in model.get_weights())


def test_epochs_zero_trains_nothing():
    x, y = ln.datasets.xor()
    model = ln.seeds.xor_network().compile("binary_crossentropy", "sgd")
    before = model.get_weights()
    assert model.fit(x, y, epochs=0, verbose=0).history == {}
    for a, b in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_predict_proba_and_classes_from_logits():
    x, _ = ln.datasets.spirals(60, classes=3, seed=0)
    model = ln.Sequential([ln.Dense(2, 8, seed=0), ln.Tanh(), ln.Dense(8, 3, seed=1)])
    model.compile(ln.CrossEntropy(from_logits=True), "adam", metrics=["accuracy"])
    probs = model.predict_proba(x)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(model.predict_classes(x), model.predict(x).argmax(axis=1))
    binary = ln.Sequential([ln.Dense(2, 1, seed=0)]).compile(
        ln.BinaryCrossEntropy(from_logits=True)
    )
    p = binary.predict_proba(x)
    assert p.shape == (60, 1) and ((p > 0) & (p < 1)).all()
    np.testing.assert_array_equal(
        binary.predict_classes(x), (binary.predict(x)[:, 0] > 0).astype(int)
    )


def test_evaluate_includes_the_l2_penalty_and_metrics():
    x = np.array([[1.0, 2.0], [0.0, -1.0]], dtype=np.float32)
    y = np.array([[1.0], [0.0]], dtype=np.float32)
    model = ln.Sequential([ln.Dense(2, 1, l2=0.5, seed=0)]).compile("mse", "sgd", metrics=["mae"])
    w, b = model.layers[0].weights, model.layers[0].bias
    pred = x @ w + b
    result = model.evaluate(x, y, batch_size=1)
    assert result["loss"] == pytest.approx(
        float(np.mean((pred - y) ** 2) + 0.5 * np.sum(w**2)), rel=1e-5
    )
    assert result["mae"] == pytest.approx(float(np.mean(np.abs(pred - y))), rel=1e-5)


def test_get_and_set_weights_keep_references():
    model = _spiral_model()
    weights = model.get_weights()
    live = model.layers[0].weights
    model.set_weights([w * 0 for w in weights])
    assert model.layers[0].weights is live and not live.any()
    with pytest.raises(ValueError, match=r"dense.weights has shape \(2, 64\), got \(3, 3\)"):
        model.set_weights([np.zeros((3, 3)), *weights[1:]])
    with pytest.raises(ValueError, match=r"expected 6 arrays \(6 parameters, 0 buffers\), got 1"):
        model.set_weights(weights[:1])


# --- found in review ------------------------------------------------------------------


def test_an_update_that_overflows_the_weights_is_undone():
    # lr 1e38 times a gradient of order 100 overflows float32 weights (max 3.4e38) at once
    x = 100 * np.random.default_rng(0).standard_normal((16, 3)).astype(np.float32)
    y = np.ones((16, 1), dtype=np.float32)
    model = ln.Sequential([ln.Dense(3, 1, seed=0)]).compile("mse", ln.SGD(1e38))
    start = model.get_weights()
    with pytest.raises(ln.TrainingDiverged, match="restored to those at the start of epoch 1"):
        with np.errstate(all="ignore"):
            model.fit(x, y, epochs=3, batch_size=16, verbose=0)
    for kept, first in zip(model.get_weights(), start, strict=True):
        np.testing.assert_array_equal(kept, first)
    # the step function keeps the weights before the step
    with pytest.raises(ln.TrainingDiverged, match="non-finite; the weights were restored"):
        with np.errstate(all="ignore"):
            ln.train_step(model, x, y, "mse", ln.SGD(1e38))
    assert all(np.isfinite(w).all() for w in model.get_weights())


def test_train_step_refuses_an_optimizer_name():
    x, y = ln.datasets.xor()
    with pytest.raises(ValueError, match="optimizer must be an Optimizer instance"):
        ln.train_step(_model(), x, y, "mse", "adam")


def test_labels_are_checked_before_any_step_with_their_row():
    x, y = ln.datasets.spirals(300, classes=3, seed=0)
    y = y.copy()
    y[250] = 3
    model = _spiral_model().compile("crossentropy", "adam")
    before = model.get_weights()
    with pytest.raises(ValueError, match=r"fit: y: crossentropy: label 3 at index 250 is not"):
        model.fit(x, y, verbose=0)
    for a, b in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    binary = ln.seeds.xor_network().compile("binary_crossentropy", "sgd")
    with pytest.raises(ValueError, match=r"targets in \[0, 1\]; row 2 has"):
        binary.fit(np.zeros((4, 2)), np.array([0, 1, 2, 0]), verbose=0)
    with pytest.raises(ValueError, match=r"y has shape \(4, 2\), but the model's output is"):
        binary.fit(np.zeros((4, 2)), np.zeros((4, 2)), verbose=0)


def test_validation_data_is_checked_before_training():
    x, y = ln.datasets.spirals(60, classes=3, seed=0)
    model = _spiral_model().compile("crossentropy", "adam")
    with pytest.raises(
        ValueError,
        match=r"fit: validation_data: x has shape \(60, 1\), but the model takes \(batch, 2\)",
    ):
        model.fit(x, y, validation_data=(x[:, :1], y), verbose=0)


def test_metrics_may_be_a_single_name_and_callbacks_a_single_callback():
    x, y = ln.datasets.xor()
    model = ln.seeds.xor_network().compile("binary_crossentropy", "sgd", metrics="accuracy")
    history = model.fit(x, y, epochs=2, verbose=0, callbacks=ln.EarlyStopping(monitor="loss"))
    assert "accuracy" in history.history


def test_an_optimizer_reused_on_a_fresh_model_starts_fresh():
    x, y = ln.datasets.spirals(60, classes=3, seed=0)
    shared = ln.Adam(0.01)
    _spiral_model().compile("crossentropy", shared).fit(x, y, epochs=2, verbose=0, seed=0)
    reused = _spiral_model().compile("crossentropy", shared)
    reused.fit(x, y, epochs=2, verbose=0, seed=0)
    fresh = _spiral_model().compile("crossentropy", ln.Adam(0.01))
    fresh.fit(x, y, epochs=2, verbose=0, seed=0)
    for a, b in zip(reused.get_weights(), fresh.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_stop_training_from_a_batch_stops_after_that_batch():
    x, y = ln.datasets.spirals(100, classes=3, seed=0)
    seen = []

    class StopAtThree(ln.Callback):
        def on_batch_end(self, batch, logs=None):
            seen.append(batch)
            if batch == 2:
                self.model.stop_training = True

    model = _spiral_model().compile("crossentropy", "adam")
    history = model.fit(x, y, epochs=5, batch_size=10, callbacks=[StopAtThree()], verbose=0)
    assert seen == [0, 1, 2]
    assert history.epoch == [0]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("where", [0, 777, 4095])
def test_all_finite_finds_one_bad_value_anywhere(dtype, bad, where):
    from lucidnet.training.step import all_finite

    a = np.random.default_rng(0).standard_normal(4096).astype(dtype)
    assert all_finite(a)
    a[where] = bad
    assert not all_finite(a)


def test_all_finite_does_not_overflow_on_huge_finite_values():
    from lucidnet.training.step import all_finite

    big = np.full(1000, 3e38, dtype=np.float32)  # their sum would be inf
    assert all_finite(big) and all_finite(-big) and all_finite(big[:0])
