"""One training step: fused pairs, input checks, and divergence keeping the weights."""

import importlib

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


# --- sample and class weights -------------------------------------------------------------


def _weighted_setup(outputs=3, n=24, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 4)).astype(dtype)
    labels = np.arange(n) % outputs if outputs > 1 else np.arange(n) % 2
    last = [ln.Softmax()] if outputs > 1 else [ln.Sigmoid()]
    model = ln.Sequential(
        [
            ln.Dense(4, 5, seed=1, dtype=dtype),
            ln.Tanh(),
            ln.Dense(5, outputs, seed=2, dtype=dtype),
            *last,
        ]
    )
    return model, x, labels


def _fit(model, x, y, loss="crossentropy", metrics=("accuracy",), **kwargs):
    model.compile(loss, ln.SGD(0.3), metrics=list(metrics))
    options = {"epochs": 3, "batch_size": 8, "verbose": 0, "seed": 7, **kwargs}
    history = model.fit(x, y, **options)
    return model.get_weights(), history.history


def test_a_zero_weight_removes_the_sample():
    # one full batch: weights 0 on the last 4 of 12 rows and 12/8 on the others give
    # sum_i w_i l_i / 12 = sum over the 8 kept rows of l_i / 8: training on those 8 alone
    model, x, y = _weighted_setup(n=12)
    w = np.r_[np.full(8, 12 / 8), np.zeros(4)]
    weighted, h_weighted = _fit(model, x, y, batch_size=12, sample_weight=w)
    model, _, _ = _weighted_setup(n=12)
    alone, h_alone = _fit(model, x[:8], y[:8], batch_size=8)
    for a, b in zip(weighted, alone, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(h_weighted["loss"], h_alone["loss"], rtol=1e-12)
    # and the weights mattered: without them the 4 rows change the result
    model, _, _ = _weighted_setup(n=12)
    plain, _ = _fit(model, x, y, batch_size=12)
    assert not np.allclose(plain[0], alone[0])


@pytest.mark.parametrize("form", ["labels", "one-hot"])
def test_class_weight_equals_the_equivalent_sample_weight(form):
    model, x, labels = _weighted_setup()
    y = labels if form == "labels" else np.eye(3)[labels]
    table = {0: 0.5, 1: 3.0}  # class 2 is missing: it weighs 1
    by_class = _fit(model, x, y, class_weight=table)
    model, _, _ = _weighted_setup()
    by_sample = _fit(model, x, y, sample_weight=np.array([0.5, 3.0, 1.0])[labels])
    for a, b in zip(by_class[0], by_sample[0], strict=True):
        np.testing.assert_array_equal(a, b)
    assert by_class[1] == by_sample[1]
    model, _, _ = _weighted_setup()
    plain = _fit(model, x, y)
    assert plain[1]["loss"] != by_class[1]["loss"]


def test_binary_class_weight_on_one_sigmoid_output():
    model, x, y = _weighted_setup(outputs=1)
    by_class = _fit(model, x, y, "binary_crossentropy", ["binary_accuracy"], class_weight={1: 4})
    model, _, _ = _weighted_setup(outputs=1)
    by_sample = _fit(
        model, x, y, "binary_crossentropy", ["binary_accuracy"], sample_weight=1 + 3.0 * y
    )
    assert by_class[1] == by_sample[1]


def test_sample_weight_and_class_weight_multiply():
    model, x, y = _weighted_setup()
    sw = np.linspace(0.5, 2.0, len(y))
    both = _fit(model, x, y, sample_weight=sw, class_weight={2: 3.0})
    model, _, _ = _weighted_setup()
    product = _fit(model, x, y, sample_weight=sw * np.where(y == 2, 3.0, 1.0))
    assert both[1] == product[1]


def test_balanced_class_weight_uses_the_training_rows_only():
    # 20 rows; validation_split=0.2 holds out the last 4. Training labels: 12 zeros,
    # 3 ones, 1 two -> n = 16, weights 16 / (3 * count) = 4/9, 16/9, 16/3
    model, x, _ = _weighted_setup(n=20)
    y = np.array([0] * 12 + [1] * 3 + [2] + [1, 2, 2, 2])
    balanced = _fit(model, x, y, class_weight="balanced", validation_split=0.2)
    model, _, _ = _weighted_setup(n=20)
    table = np.array([16 / 36, 16 / 9, 16 / 3])
    w = np.r_[table[y[:16]], np.ones(4)]  # the validation rows are not class-weighted
    by_hand = _fit(model, x, y, sample_weight=w, validation_split=0.2)
    for a, b in zip(balanced[0], by_hand[0], strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-13)
    np.testing.assert_allclose(balanced[1]["loss"], by_hand[1]["loss"], rtol=1e-13)
    assert balanced[1]["val_loss"] == by_hand[1]["val_loss"]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_weights_of_one_train_as_no_weights_up_to_rounding(dtype):
    model, x, y = _weighted_setup(dtype=dtype)
    plain = _fit(model, x, y, validation_split=0.25)
    model, _, _ = _weighted_setup(dtype=dtype)
    ones = _fit(model, x, y, validation_split=0.25, sample_weight=np.ones(len(y)))
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    for a, b in zip(plain[0], ones[0], strict=True):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol)
    for key in plain[1]:
        np.testing.assert_allclose(plain[1][key], ones[1][key], rtol=rtol)


def test_unweighted_fit_runs_none_of_the_weighting_code(monkeypatch):
    # sample_weight=None takes exactly the code path of before the weights existed: the
    # losses' weighted branch, the weight checks and the weighted batches never run
    model, x, y = _weighted_setup()
    reference = _fit(model, x, y, validation_split=0.25)

    def boom(*args, **kwargs):
        raise AssertionError("weighting code ran without weights")

    fit_module = importlib.import_module("lucidnet.training.fit")  # the name fit is the function
    monkeypatch.setattr(ln.losses.Loss, "_sample_weight", boom)
    monkeypatch.setattr(ln.batches.Batches, "_weighted", boom)
    monkeypatch.setattr(fit_module, "check_sample_weight", boom)
    monkeypatch.setattr(fit_module, "class_sample_weight", boom)
    model, _, _ = _weighted_setup()
    again = _fit(model, x, y, validation_split=0.25)
    for a, b in zip(reference[0], again[0], strict=True):
        np.testing.assert_array_equal(a, b)
    assert reference[1] == again[1]
    model, _, _ = _weighted_setup()
    with pytest.raises(AssertionError, match="weighting code ran"):
        _fit(model, x, y, sample_weight=np.ones(len(y)))


def test_reported_loss_is_weighted_and_metrics_are_not():
    model, x, y = _weighted_setup(n=12)
    w = np.linspace(0.0, 3.0, 12)
    model.compile("crossentropy", ln.SGD(0.3), metrics=["accuracy"])
    p = model.predict(x)
    per_sample = -np.log(p[np.arange(12), y])
    expected_loss = np.dot(w, per_sample) / 12  # sum_i w_i l_i / n
    accuracy = np.mean(p.argmax(axis=1) == y)
    result = model.evaluate(x, y, sample_weight=w)
    assert result["loss"] == pytest.approx(expected_loss, rel=1e-12)
    assert result["accuracy"] == accuracy
    # in batches the same (each batch is sum w l / batch, counted by its rows)
    assert model.evaluate(x, y, batch_size=5, sample_weight=w)["loss"] == pytest.approx(
        expected_loss, rel=1e-12
    )
    # fit reports the loss before each step: one full batch, one epoch
    history = model.fit(x, y, epochs=1, batch_size=12, sample_weight=w, verbose=0, seed=0)
    assert history.history["loss"][0] == pytest.approx(expected_loss, rel=1e-12)
    assert history.history["accuracy"][0] == accuracy


def test_validation_split_keeps_the_held_out_rows_weights():
    model, x, y = _weighted_setup(n=20)
    w = np.linspace(0.1, 2.0, 20)
    _, history = _fit(model, x, y, epochs=1, sample_weight=w, validation_split=0.25)
    expected = model.evaluate(x[15:], y[15:], sample_weight=w[15:])["loss"]
    assert history["val_loss"][0] == pytest.approx(expected, rel=1e-12)
    assert expected != pytest.approx(model.evaluate(x[15:], y[15:])["loss"])


def test_validation_data_takes_a_third_element_of_weights():
    model, x, y = _weighted_setup(n=20)
    w_val = np.array([0.0, 1.0, 2.0, 5.0])
    x_val, y_val = x[:4] + 0.5, y[:4]
    _, history = _fit(model, x, y, epochs=1, validation_data=(x_val, y_val, w_val))
    expected = model.evaluate(x_val, y_val, sample_weight=w_val)["loss"]
    assert history["val_loss"][0] == pytest.approx(expected, rel=1e-12)
    assert expected != pytest.approx(model.evaluate(x_val, y_val)["loss"])
    # (x, y, None) is unweighted, as Keras reads it
    _, history = _fit(model, x, y, epochs=1, validation_data=(x_val, y_val, None))
    assert history["val_loss"][0] == pytest.approx(model.evaluate(x_val, y_val)["loss"])


def test_train_step_and_loss_and_gradients_take_sample_weight():
    model, x, y = _weighted_setup(n=6)
    w = np.array([1.0, 0.0, 2.0, 1.0, 0.5, 0.0])
    expected = ln.CrossEntropy()(y, model.predict(x), sample_weight=w)
    result = ln.loss_and_gradients(model, x, y, "crossentropy", sample_weight=w)
    assert result.loss == pytest.approx(expected, rel=1e-12)
    assert ln.train_step(model, x, y, "crossentropy", ln.SGD(0.1), sample_weight=w) == (
        pytest.approx(expected, rel=1e-12)
    )
    with pytest.raises(ValueError, match=r"train_step: sample_weight must have shape \(6,\)"):
        ln.train_step(model, x, y, "crossentropy", ln.SGD(0.1), sample_weight=w[:3])


def _fit_error(message, model_outputs=3, loss="crossentropy", **kwargs):
    model, x, y = _weighted_setup(outputs=model_outputs, n=12)
    y = kwargs.pop("y", y)
    model.compile(loss, "sgd")
    with pytest.raises(ValueError, match=message):
        model.fit(x, y, epochs=1, verbose=0, **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"sample_weight": np.ones(11)}, r"fit: sample_weight must have shape \(12,\)"),
        ({"sample_weight": np.ones((12, 1))}, r"got shape \(12, 1\)"),
        ({"sample_weight": -np.ones(12)}, r"fit: sample_weight: .*>= 0; index 0 has -1.0"),
        ({"sample_weight": np.r_[np.ones(11), np.nan]}, r"index 11 has nan"),
        ({"sample_weight": np.zeros(12)}, r"fit: sample_weight: every sample weight is zero"),
        (
            {"sample_weight": np.r_[np.zeros(9), np.ones(3)], "validation_split": 0.25},
            r"fit: every training row weighs 0",
        ),
        (
            {"sample_weight": np.r_[np.ones(9), np.zeros(3)], "validation_split": 0.25},
            r"every sample weight of the validation rows \(the last 3, validation_split=0.25\)",
        ),
        (
            {"class_weight": {0: 0.0, 1: 0.0, 2: 0.0}},
            r"fit: every training row weighs 0 \(sample_weight times class_weight\)",
        ),
        ({"class_weight": {3: 2.0}}, r"fit: class_weight: the key 3 is not a class"),
        ({"class_weight": {0: -2.0}}, r"fit: class_weight: the weight of class 0 .* -2.0"),
        ({"class_weight": {0: np.inf}}, r"the weight of class 0 .* got inf"),
        ({"class_weight": "equal"}, r"fit: class_weight must be a dict .* got 'equal'"),
        (
            {"validation_data": (np.zeros((2, 4)), np.zeros(2, int), np.ones(3))},
            r"fit: validation_data sample weights must have shape \(2,\)",
        ),
        (
            {"validation_data": (np.zeros((2, 4)), np.zeros(2, int), np.zeros(2))},
            r"fit: validation_data sample weights: every sample weight is zero",
        ),
        (
            {"validation_data": (np.zeros((2, 4)), np.zeros(2, int), np.ones(2), 1)},
            r"validation_data must be a tuple \(x_val, y_val\) or \(x_val, y_val, sample_we",
        ),
    ],
)
def test_weight_errors_are_clear_and_come_before_training(kwargs, message):
    _fit_error(message, **kwargs)


def test_class_weight_on_a_regression_loss_is_an_error():
    _fit_error(
        r"fit: class_weight needs a classification loss; 'mse' is a regression loss",
        loss="mse",
        y=np.zeros((12, 3)),
        class_weight={0: 1.0},
    )


def test_class_weight_needs_one_class_per_sample():
    soft = np.full((12, 3), 1 / 3)
    _fit_error(r"row 0 of the targets is not one-hot", y=soft, class_weight="balanced")


def test_evaluate_checks_its_weights():
    model, x, y = _weighted_setup(n=6)
    model.compile("crossentropy", "sgd")
    with pytest.raises(ValueError, match=r"evaluate: sample_weight must have shape \(6,\)"):
        model.evaluate(x, y, sample_weight=np.ones(5))
    with pytest.raises(ValueError, match=r"evaluate: sample_weight: every sample weight is zero"):
        model.evaluate(x, y, sample_weight=np.zeros(6))


def test_a_loss_without_sample_weight_trains_unweighted_and_refuses_weights():
    class Plain(ln.losses.Loss):  # a user's loss written before sample weights existed
        name = "plain"

        def value_and_gradient(self, y_true, y_pred, need_gradient=True):
            diff = y_pred - y_true
            return float(np.mean(diff**2)), 2 * diff / diff.size

    model = ln.Sequential([ln.Dense(4, 1, seed=0, dtype=np.float64)])
    x, y = np.ones((6, 4)), np.zeros((6, 1))
    model.compile(Plain(), ln.SGD(0.1))
    model.fit(x, y, epochs=1, verbose=0)  # unweighted: the loss is called as before
    with pytest.raises(ValueError, match=r"fit: the loss Plain does not take sample_weight"):
        model.fit(x, y, epochs=1, verbose=0, sample_weight=np.ones(6))


def test_a_loss_taking_keyword_arguments_is_given_the_weights():
    seen = []

    class Keywords(ln.losses.MSE):
        def value_and_gradient(self, y_true, y_pred, need_gradient=True, **kwargs):
            seen.append(kwargs.get("sample_weight"))
            return super().value_and_gradient(y_true, y_pred, need_gradient, **kwargs)

    model = ln.Sequential([ln.Dense(4, 1, seed=0, dtype=np.float64)])
    model.compile(Keywords(), ln.SGD(0.1))
    model.fit(np.ones((4, 4)), np.zeros((4, 1)), epochs=1, verbose=0, sample_weight=np.ones(4))
    np.testing.assert_array_equal(seen[0], np.ones(4))
