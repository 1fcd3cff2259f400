"""Callbacks: EarlyStopping, LearningRateScheduler, ReduceLROnPlateau, ModelCheckpoint."""

import numpy as np
import pytest

import lucidnet as ln
from lucidnet.schedules import StepDecay


class FakeModel:
    """Just what the callbacks touch: stop_training, an optimizer, weights."""

    def __init__(self):
        self.stop_training = False
        self.optimizer = ln.SGD(1.0)
        self.weights = [np.zeros(2)]

    def get_weights(self):
        return [w.copy() for w in self.weights]

    def set_weights(self, weights):
        self.weights = [w.copy() for w in weights]


def _drive(callback, values, key="val_loss", model=None):
    """Feed one monitored value per epoch; return the epoch after which training stopped."""
    model = model or FakeModel()
    callback.set_model(model)
    callback.on_train_begin()
    for epoch, value in enumerate(values):
        model.weights = [np.full(2, float(epoch))]
        callback.on_epoch_end(epoch, {key: value})
        if model.stop_training:
            callback.on_train_end()
            return epoch, model
    callback.on_train_end()
    return None, model


def test_early_stopping_patience_counts_epochs_without_improvement():
    # best at epoch 1 (0.5); epochs 2, 3 do not improve; patience 2 stops after epoch 3
    stopped, _ = _drive(ln.EarlyStopping(patience=2), [0.9, 0.5, 0.6, 0.55, 0.4])
    assert stopped == 3
    # patience 0 stops at the first epoch that does not improve
    stopped, _ = _drive(ln.EarlyStopping(patience=0), [0.9, 0.8, 0.85])
    assert stopped == 2


def test_early_stopping_min_delta_and_mode():
    # improvements smaller than min_delta do not count
    stopped, _ = _drive(ln.EarlyStopping(patience=1, min_delta=0.1), [1.0, 0.95, 0.92])
    assert stopped == 1
    # "auto" maximizes accuracies
    cb = ln.EarlyStopping(monitor="val_accuracy", patience=1)
    stopped, _ = _drive(cb, [0.5, 0.7, 0.6, 0.9], key="val_accuracy")
    assert stopped == 2 and cb.best == 0.7


def test_early_stopping_restores_the_best_weights():
    cb = ln.EarlyStopping(patience=2, restore_best_weights=True)
    stopped, model = _drive(cb, [0.9, 0.3, 0.5, 0.6, 0.1])
    assert stopped == 3 and cb.best_epoch == 1
    np.testing.assert_array_equal(model.weights[0], [1.0, 1.0])  # the weights of epoch 1


def test_early_stopping_restores_best_even_without_an_early_stop():
    cb = ln.EarlyStopping(patience=10, restore_best_weights=True)
    stopped, model = _drive(cb, [0.9, 0.2, 0.5])
    assert stopped is None
    np.testing.assert_array_equal(model.weights[0], [1.0, 1.0])


def test_missing_monitor_is_a_clear_error():
    with pytest.raises(ValueError, match=r"'val_loss' is not in the logs .pass validation data"):
        _drive(ln.EarlyStopping(), [0.5], key="loss")
    with pytest.raises(ValueError, match="mode must be 'auto', 'min' or 'max'"):
        ln.EarlyStopping(mode="lowest")
    with pytest.raises(ValueError, match="patience must be an int >= 0, got -1"):
        ln.EarlyStopping(patience=-1)


def test_early_stopping_on_an_overfitting_model_keeps_the_best_validation_weights():
    # 24 noisy training points and a wide network: validation loss falls, then rises
    x, y = ln.datasets.spirals(240, classes=3, noise=0.5, seed=0)  # rows come shuffled
    train, val = slice(0, 24), slice(24, 240)
    model = ln.Sequential(
        [
            ln.Dense(2, 256, init="he_normal", seed=0),
            ln.ReLU(),
            ln.Dense(256, 256, init="he_normal", seed=1),
            ln.ReLU(),
            ln.Dense(256, 3, seed=2),
            ln.Softmax(),
        ]
    )
    model.compile("crossentropy", ln.Adam(0.001))
    snapshots = []

    class Recorder(ln.Callback):
        def on_epoch_end(self, epoch, logs=None):
            snapshots.append(self.model.get_weights())

    stopper = ln.EarlyStopping(patience=10, restore_best_weights=True)
    history = model.fit(
        x[train],
        y[train],
        epochs=200,
        batch_size=24,
        validation_data=(x[val], y[val]),
        callbacks=[Recorder(), stopper],
        verbose=0,
        seed=0,
    )
    val_loss = history.history["val_loss"]
    best = int(np.argmin(val_loss))
    assert stopper.stopped_epoch is not None, "the model should overfit and stop early"
    assert best > 0 and val_loss[-1] > val_loss[best]  # it improved, then got worse
    assert history.history["loss"][-1] < history.history["loss"][best]  # while training improved
    assert stopper.best_epoch == best
    for kept, recorded in zip(model.get_weights(), snapshots[best], strict=True):
        np.testing.assert_array_equal(kept, recorded)
    assert model.evaluate(x[val], y[val])["loss"] == pytest.approx(val_loss[best], rel=1e-6)


def test_learning_rate_scheduler_sets_lr_each_epoch():
    x, y = ln.datasets.xor()
    model = ln.seeds.xor_network().compile("binary_crossentropy", ln.SGD(0.5))
    schedule = StepDecay(0.4, factor=0.5, every=2)
    history = model.fit(x, y, epochs=5, callbacks=[ln.LearningRateScheduler(schedule)], verbose=0)
    # 0.4 * 0.5 ** (epoch // 2)
    assert history.history["lr"] == pytest.approx([0.4, 0.4, 0.2, 0.2, 0.1])
    with pytest.raises(ValueError, match=r"schedule gave lr=-1.0 at epoch 0"):
        model.fit(
            x, y, epochs=1, callbacks=[ln.LearningRateScheduler(lambda e, lr: -1.0)], verbose=0
        )


def test_reduce_lr_on_plateau_with_cooldown_and_floor():
    cb = ln.ReduceLROnPlateau(factor=0.5, patience=2, cooldown=1, min_lr=0.3, min_delta=0.0)
    model = FakeModel()  # lr 1.0
    rates = []
    cb.set_model(model)
    cb.on_train_begin()
    for epoch, value in enumerate([1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]):
        cb.on_epoch_end(epoch, {"val_loss": value})
        rates.append(model.optimizer.lr)
    # Keras' rule. Epoch 0 improves (from inf); 1 stalls (wait 1); 2 stalls (wait 2): halve
    # to 0.5, cooldown 1. Epoch 3 counts the cooldown down to 0 and stalls (wait 1); 4
    # stalls (wait 2): 0.5 * 0.5 = 0.25, floored at min_lr 0.3. Then lr <= min_lr: no change.
    assert rates == [1.0, 1.0, 0.5, 0.5, 0.3, 0.3, 0.3, 0.3]


def test_model_checkpoint_every_epoch_and_best_only():
    calls = []
    every = ln.ModelCheckpoint(
        "m-{epoch:02d}-{val_loss:.1f}.lucid", save_fn=lambda m, p: calls.append(p)
    )
    _drive(every, [0.9, 0.5, 0.7])
    assert calls == ["m-01-0.9.lucid", "m-02-0.5.lucid", "m-03-0.7.lucid"]
    calls.clear()
    best = ln.ModelCheckpoint(
        "best.lucid", save_fn=lambda m, p: calls.append(p), save_best_only=True
    )
    _drive(best, [0.9, 0.5, 0.7, 0.4])
    assert calls == ["best.lucid"] * 3  # epochs 0, 1 and 3 improved
    with pytest.raises(ValueError, match="save_fn must be callable"):
        ln.ModelCheckpoint("x", save_fn=42)


def test_callback_hooks_are_called_in_order():
    events = []

    class Log(ln.Callback):
        def on_train_begin(self, logs=None):
            events.append("train_begin")

        def on_epoch_begin(self, epoch, logs=None):
            events.append(f"epoch_begin {epoch}")

        def on_batch_end(self, batch, logs=None):
            events.append(f"batch {batch}")

        def on_epoch_end(self, epoch, logs=None):
            events.append(f"epoch_end {epoch}")

        def on_train_end(self, logs=None):
            events.append("train_end")

    x, y = ln.datasets.xor()
    model = ln.seeds.xor_network().compile("binary_crossentropy", "sgd")
    log = Log()
    model.fit(x, y, epochs=2, batch_size=2, callbacks=[log], verbose=0)
    assert events == [
        "train_begin",
        "epoch_begin 0", "batch 0", "batch 1", "epoch_end 0",
        "epoch_begin 1", "batch 0", "batch 1", "epoch_end 1",
        "train_end",
    ]  # fmt: skip
    assert log.params == {"epochs": 2, "steps": 2, "samples": 4, "verbose": 0}


def test_early_stopping_stops_on_nan_from_the_first_epoch():
    # NaN never improves: epochs 0 and 1 make two epochs without improvement (Keras' rule)
    stopped, _ = _drive(ln.EarlyStopping(patience=2), [float("nan")] * 6)
    assert stopped == 1


def test_reduce_lr_cooldown_counts_down_while_improving_and_respects_min_lr():
    cb = ln.ReduceLROnPlateau(factor=0.5, patience=1, cooldown=2, min_delta=0.0)
    model = FakeModel()
    cb.set_model(model)
    cb.on_train_begin()
    rates = []
    for epoch, value in enumerate([1.0, 1.0, 0.9, 0.8, 0.8, 0.8, 0.8, 0.8]):
        cb.on_epoch_end(epoch, {"val_loss": value})
        rates.append(model.optimizer.lr)
    # reduce after epoch 1; cooldown 2 runs out during the improving epochs 2 and 3, so
    # epoch 4 reduces again; cooldown 5 and 6... (6 is out of cooldown and stalls: reduce)
    assert rates == [1.0, 0.5, 0.5, 0.5, 0.25, 0.25, 0.125, 0.125]
    low = ln.ReduceLROnPlateau(factor=0.5, patience=0, min_lr=1e-3)
    model = FakeModel()
    model.optimizer.lr = 1e-5
    low.set_model(model)
    low.on_train_begin()
    for epoch in range(3):
        low.on_epoch_end(epoch, {"val_loss": 1.0})
    assert model.optimizer.lr == 1e-5  # already below min_lr: never raised


def test_model_checkpoint_names_missing_fields():
    cb = ln.ModelCheckpoint("m-{val_acc}.lucid", save_fn=lambda m, p: None)
    with pytest.raises(
        ValueError, match=r"cannot fill 'm-{val_acc}.lucid'.*available fields: epoch, val_loss"
    ):
        _drive(cb, [0.5])
