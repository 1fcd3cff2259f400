"""Ctrl-C during ``fit``: the model rolls back to the start of the interrupted epoch, and
saving it and continuing is bit-identical to a run never interrupted."""

import io
import pickle
import sys

import numpy as np
import pytest

import lucidnet as ln
from lucidnet.schedules import CosineDecay

SEED = 11
EPOCHS = 5


def _data():
    return ln.datasets.spirals(120, classes=3, noise=0.2, seed=0)


def _model():
    """Unseeded dropout (fit seeds it), Adam, and a cosine schedule: every kind of state."""
    return ln.Sequential(
        [
            ln.Dense(2, 16, init="he_normal", seed=0),
            ln.ReLU(),
            ln.Dropout(0.3),
            ln.Dense(16, 3, seed=1),
            ln.Softmax(),
        ]
    ).compile("crossentropy", ln.Adam(0.02), metrics=["accuracy"])


def _fit(model, callbacks=(), **kwargs):
    x, y = _data()
    schedule = ln.LearningRateScheduler(CosineDecay(0.02, EPOCHS))
    options = {"epochs": EPOCHS, "batch_size": 16, "validation_split": 0.2, "verbose": 0}
    options.update(kwargs)
    return model.fit(x, y, callbacks=[schedule, *callbacks], seed=SEED, **options)


class InterruptAt(ln.Callback):
    """Raise KeyboardInterrupt at a chosen hook of a chosen epoch (batch)."""

    def __init__(self, hook, epoch, batch=None):
        super().__init__()
        self.hook, self.epoch, self.batch = hook, epoch, batch
        self.current = None

    def on_train_begin(self, logs=None):
        if self.hook == "on_train_begin":
            raise KeyboardInterrupt

    def on_epoch_begin(self, epoch, logs=None):
        self.current = epoch
        if self.hook == "on_epoch_begin" and epoch == self.epoch:
            raise KeyboardInterrupt

    def on_batch_end(self, batch, logs=None):
        if self.hook == "on_batch_end" and self.current == self.epoch and batch == self.batch:
            raise KeyboardInterrupt

    def on_epoch_end(self, epoch, logs=None):
        if self.hook == "on_epoch_end" and epoch == self.epoch:
            raise KeyboardInterrupt


def _assert_same_state(a, b):
    """Weights, buffers, optimizer buffers, step counts, iterations and lr all equal."""
    for wa, wb in zip(a.get_weights(), b.get_weights(), strict=True):
        np.testing.assert_array_equal(wa, wb)
    oa, ob = a.optimizer, b.optimizer
    assert (oa.iterations, oa.lr) == (ob.iterations, ob.lr)
    sa, sb = oa.get_state(), ob.get_state()
    assert sa.keys() == sb.keys()
    for name in sa:
        assert sa[name].keys() == sb[name].keys()
        for key in sa[name]:
            np.testing.assert_array_equal(sa[name][key], sb[name][key])


def _trained(epochs):
    model = _model()
    _fit(model, epochs=epochs)
    return model


def test_interrupt_mid_epoch_rolls_back_and_the_saved_model_resumes_bit_identically(tmp_path):
    whole = _model()
    whole_history = _fit(whole)

    model = _model()
    with pytest.raises(ln.TrainingInterrupted) as caught:
        _fit(model, [InterruptAt("on_batch_end", epoch=2, batch=3)])
    err = caught.value
    assert isinstance(err, KeyboardInterrupt)
    assert (err.epochs_done, err.epoch, err.seed) == (2, 2, SEED)
    assert err.history.epoch == [0, 1]
    assert err.history.history["loss"] == whole_history.history["loss"][:2]
    assert "initial_epoch=2, seed=11" in str(err)
    _assert_same_state(model, _trained(2))  # exactly the model after two epochs

    ln.save(model, tmp_path / "interrupted.lucid")
    resumed = ln.load(tmp_path / "interrupted.lucid")
    history = _fit(resumed, initial_epoch=err.epochs_done)
    _assert_same_state(resumed, whole)
    assert history.history["val_loss"] == whole_history.history["val_loss"][2:]


def test_an_interrupt_inside_an_optimizer_update_is_rolled_back():
    """Adam's moments moved and the weights half did: the epoch's start comes back."""
    model = _model()
    optimizer = model.optimizer
    update = optimizer._update
    calls = []

    def update_then_interrupt(value, grad, state, step):
        update(value, grad, state, step)
        calls.append(step)
        if len(calls) == 9:  # epoch 1 (6 batches per epoch), after moments and weights moved
            raise KeyboardInterrupt

    optimizer._update = update_then_interrupt
    with pytest.raises(ln.TrainingInterrupted) as caught:
        _fit(model)
    assert (caught.value.epochs_done, caught.value.epoch) == (1, 1)
    optimizer._update = update
    _assert_same_state(model, _trained(1))
    _fit(model, initial_epoch=1)
    _assert_same_state(model, _trained(EPOCHS))


def test_an_interrupt_after_the_history_recorded_the_epoch_drops_that_epoch():
    model = _model()
    with pytest.raises(ln.TrainingInterrupted) as caught:
        _fit(model, [InterruptAt("on_epoch_end", epoch=1)])
    err = caught.value
    assert (err.epochs_done, err.epoch) == (1, 1)
    assert err.history.epoch == [0]
    assert all(len(values) == 1 for values in err.history.history.values())
    _assert_same_state(model, _trained(1))


@pytest.mark.parametrize("hook", ["on_train_begin", "on_epoch_begin"])
def test_an_interrupt_before_any_step_leaves_the_model_as_it_was(hook):
    model = _model()
    before = model.get_weights()
    with pytest.raises(ln.TrainingInterrupted) as caught:
        _fit(model, [InterruptAt(hook, epoch=0)])
    err = caught.value
    assert err.epochs_done == 0
    assert err.epoch == (None if hook == "on_train_begin" else 0)
    assert err.history.epoch == []
    for a, b in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert model.optimizer.iterations == 0 and model.optimizer.state == {}


def test_a_continuation_counts_from_initial_epoch():
    model = _model()
    _fit(model, epochs=2)
    with pytest.raises(ln.TrainingInterrupted) as caught:
        _fit(model, [InterruptAt("on_batch_end", epoch=3, batch=0)], initial_epoch=2)
    assert (caught.value.epochs_done, caught.value.history.epoch) == (3, [2])
    _assert_same_state(model, _trained(3))


def test_without_a_seed_the_exception_gives_the_one_drawn():
    x, y = _data()
    model = _model()
    with pytest.raises(ln.TrainingInterrupted) as caught:
        model.fit(
            x, y, epochs=3, batch_size=16, verbose=0, callbacks=[InterruptAt("on_batch_end", 1, 2)]
        )
    seed = caught.value.seed
    assert isinstance(seed, int)
    model.fit(x, y, epochs=3, batch_size=16, verbose=0, seed=seed, initial_epoch=1)
    whole = _model()
    whole.fit(x, y, epochs=3, batch_size=16, verbose=0, seed=seed)
    _assert_same_state(model, whole)


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_the_progress_bar_is_closed(monkeypatch):
    from tqdm import tqdm

    terminal = _Terminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    with pytest.raises(ln.TrainingInterrupted):
        _fit(_model(), [InterruptAt("on_batch_end", epoch=1, batch=2)], verbose=1)
    monkeypatch.undo()
    assert "Epoch 2/5" in terminal.getvalue()
    assert not [bar for bar in tqdm._instances if bar.fp is terminal]  # no bar left open
    # the closed bar ended its line, or erased it (the epoch's line replaces a finished
    # bar): either way the next output starts at the beginning of a line
    assert terminal.getvalue().endswith(("\n", "\r"))


def test_the_exception_survives_pickling():
    history = ln.History()
    history.on_epoch_end(0, {"loss": 1.0})
    err = pickle.loads(pickle.dumps(ln.TrainingInterrupted(1, history, 7, 1)))
    assert (err.epochs_done, err.seed, err.epoch, err.history.history) == (1, 7, 1, {"loss": [1.0]})
    assert "initial_epoch=1, seed=7" in str(err)
