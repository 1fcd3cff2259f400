"""The Trainer (training/step.py): one step, one epoch, the gradient hook's place."""

import numpy as np
import pytest

import lucidnet as ln
from lucidnet.batches import Batches
from lucidnet.functional import softmax
from lucidnet.parameters import ParameterList
from lucidnet.training import LossAndGradients, Trainer, TrainingDiverged

LR = 0.1
L2 = 0.3


def _model(l2=L2):
    return ln.Sequential(
        [
            ln.Dense(3, 4, dtype=np.float64, seed=0, l2=l2),
            ln.Tanh(),
            ln.Dense(4, 2, dtype=np.float64, seed=1),
        ]
    )


def _data(n=6, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, 3)), rng.standard_normal((n, 2))


def _raw_gradients(model, x, y):
    """dL/dθ by hand from forward, the loss gradient and backward: no hook, no penalty."""
    y_pred = model.forward(x, training=True)
    model.backward(ln.MSE().gradient(y, y_pred))
    return [p.grad.copy() for p in model.parameters()]


def _penalty_gradient(p):
    return 2 * p.l2 * p.value


def test_the_hook_sees_the_parameter_list_after_backward_and_before_penalties():
    model = _model()
    x, y = _data()
    raw = _raw_gradients(model, x, y)
    seen = []

    def hook(params):
        seen.append((params, [p.grad.copy() for p in params]))

    trainer = Trainer(model, "mse", ln.SGD(LR), gradient_hook=hook)
    trainer.step(x, y, model.get_weights(), "the start")
    assert len(seen) == 1
    params, grads = seen[0]
    assert isinstance(params, ParameterList) and params is model.parameters()
    assert params.flat is not None and params.flat.grads.dtype == np.float64
    for got, expected in zip(grads, raw, strict=True):
        np.testing.assert_array_equal(got, expected)  # no L2 term yet


def test_a_hook_that_halves_gradients_changes_the_update_exactly():
    x, y = _data()
    plain, halved = _model(), _model()
    raw = _raw_gradients(_model(), x, y)
    start = [p.value.copy() for p in plain.parameters()]

    def halve(params):
        grads = params.flat.grads  # the flat buffer, as an all-reduce would use it
        grads *= 0.5

    Trainer(plain, "mse", ln.SGD(LR)).step(x, y, plain.get_weights(), "the start")
    Trainer(halved, "mse", ln.SGD(LR), gradient_hook=halve).step(
        x, y, halved.get_weights(), "the start"
    )
    for p_plain, p_half, w0, g in zip(
        plain.parameters(), halved.parameters(), start, raw, strict=True
    ):
        penalty = 2 * p_plain.l2 * w0
        np.testing.assert_allclose(p_plain.value, w0 - LR * (g + penalty), rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(
            p_half.value, w0 - LR * (0.5 * g + penalty), rtol=1e-13, atol=1e-15
        )
    assert not np.allclose(plain.get_weights()[0], halved.get_weights()[0])


def test_penalties_are_added_once_after_the_hook():
    """A hook that doubles the gradients (two processes summing theirs) does not double
    the L2 term."""
    model = _model()
    x, y = _data()
    raw = _raw_gradients(_model(), x, y)
    w0 = [p.value.copy() for p in model.parameters()]

    def double(params):
        for p in params:
            p.grad *= 2

    trainer = Trainer(model, "mse", ln.SGD(LR), gradient_hook=double)
    value, _ = trainer.step(x, y, model.get_weights(), "the start")
    weights = model.parameters()[0]
    assert weights.name == "dense.weights" and weights.l2 == L2
    expected = w0[0] - LR * (2 * raw[0] + 2 * L2 * w0[0])
    np.testing.assert_allclose(weights.value, expected, rtol=1e-13)
    doubled_penalty = w0[0] - LR * 2 * (raw[0] + 2 * L2 * w0[0])
    assert not np.allclose(weights.value, doubled_penalty)
    # the returned value is the loss before the step plus the penalty, once
    y_pred = _model().predict(x)
    assert value == pytest.approx(ln.MSE()(y, y_pred) + L2 * np.sum(w0[0] ** 2), rel=1e-12)


def test_a_hook_that_makes_a_gradient_nan_stops_the_step_before_the_update():
    model = _model()
    x, y = _data()
    before = model.get_weights()
    zeros = [np.zeros_like(w) for w in before]

    def poison(params):
        params[2].grad[0, 0] = np.nan

    optimizer = ln.SGD(LR)
    trainer = Trainer(model, "mse", optimizer, gradient_hook=poison)
    with pytest.raises(
        TrainingDiverged,
        match=r"the gradient of dense_1\.weights is not finite; the update was skipped",
    ):
        trainer.step(x, y, zeros, "zeros")
    for a, b in zip(model.get_weights(), before, strict=True):
        np.testing.assert_array_equal(a, b)  # unchanged, and not the fallback either
    assert optimizer.iterations == 0


def test_a_hook_runs_even_when_the_loss_is_not_finite():
    model = _model()
    x, y = _data()
    y[1, 0] = np.nan
    calls = []
    trainer = Trainer(model, "mse", ln.SGD(LR), gradient_hook=calls.append)
    before = model.get_weights()
    with pytest.raises(TrainingDiverged, match="loss is nan; the update was skipped"):
        trainer.step(x, y, before, "the start")
    assert len(calls) == 1  # every process reaches the hook (an all-reduce), then all raise
    for a, b in zip(model.get_weights(), before, strict=True):
        np.testing.assert_array_equal(a, b)


def test_an_update_that_makes_weights_non_finite_restores_the_fallback():
    model = _model(l2=0.0)
    x, y = _data()
    zeros = [np.zeros_like(w) for w in model.get_weights()]
    trainer = Trainer(model, "mse", ln.SGD(1e308))
    with (
        np.errstate(over="ignore", invalid="ignore"),
        pytest.raises(
            TrainingDiverged,
            match=r"the update made dense\.weights non-finite; the weights were "
            r"restored to the zeros",
        ),
    ):
        trainer.step(x, y * 1e10, zeros, "the zeros")
    for w in model.get_weights():
        np.testing.assert_array_equal(w, 0)


def test_step_needs_an_optimizer():
    model = _model()
    x, y = _data()
    with pytest.raises(RuntimeError, match=r"Trainer\.step: the trainer has no optimizer"):
        Trainer(model, "mse").step(x, y, model.get_weights(), "the start")


def test_gradients_include_the_penalty_once_and_overwrite():
    model = _model()
    x, y = _data()
    raw = _raw_gradients(_model(), x, y)
    trainer = Trainer(model, ln.MSE())
    for _ in range(2):  # a second call overwrites, it does not accumulate
        result = trainer.gradients(x, y)
        assert isinstance(result, LossAndGradients)
        params = model.parameters()
        for p, g in zip(params, raw, strict=True):
            np.testing.assert_allclose(p.grad, g + _penalty_gradient(p), rtol=1e-13, atol=1e-15)
    w = params[0].value
    assert result.loss == pytest.approx(ln.MSE()(y, result.y_pred) + L2 * np.sum(w**2), rel=1e-12)
    assert result.grad_input.shape == x.shape
    assert trainer.gradients(x, y, need_input_grad=False).grad_input is None


def test_forward_loss_starts_backward_at_the_logits_for_a_fused_pair():
    model = ln.Sequential([ln.Dense(3, 4, dtype=np.float64, seed=0), ln.Softmax()])
    x, _ = _data()
    labels = np.array([0, 1, 2, 3, 0, 1])
    value, y_pred, grad, start = Trainer(model, "crossentropy").forward_loss(
        x, labels, training=True, need_gradient=True
    )
    logits = model.layers[0].forward(x)
    assert start == 1
    np.testing.assert_allclose(y_pred, softmax(logits, axis=-1), rtol=1e-13)
    np.testing.assert_allclose(grad, (softmax(logits, axis=-1) - np.eye(4)[labels]) / 6, atol=1e-15)
    assert value == pytest.approx(-np.mean(np.log(y_pred[np.arange(6), labels])), rel=1e-12)
    plain = ln.Sequential([ln.Dense(3, 4, dtype=np.float64, seed=0), ln.Tanh()])
    *_, start = Trainer(plain, "mse").forward_loss(x, np.zeros((6, 4)), True, need_gradient=False)
    assert start == 2


def test_run_epoch_returns_the_sample_weighted_means():
    model = _model(l2=0.0)
    x, y = _data(n=5)
    trainer = Trainer(model, "mse", ln.SGD(LR))
    losses = []
    original_step = trainer.step

    def recording_step(xb, yb, *args, **kwargs):
        value, y_pred = original_step(xb, yb, *args, **kwargs)
        losses.append((value, len(xb)))
        return value, y_pred

    trainer.step = recording_step
    logs = trainer.run_epoch(Batches(x, y, 2, shuffle=False), epoch=0)
    assert [n for _, n in losses] == [2, 2, 1]
    assert logs["loss"] == pytest.approx(sum(v * n for v, n in losses) / 5, rel=1e-12)


def test_run_epoch_stops_when_a_callback_asks():
    class StopAfterFirstBatch(ln.Callback):
        def on_batch_end(self, batch, logs=None):
            self.model.stop_training = True

    model = _model()
    x, y = _data(n=6)
    optimizer = ln.SGD(LR)
    callback = StopAfterFirstBatch()
    callback.set_model(model)
    Trainer(model, "mse", optimizer).run_epoch(
        Batches(x, y, 2, shuffle=False), epoch=0, callbacks=[callback]
    )
    assert optimizer.iterations == 1


def test_run_epoch_names_the_epoch_and_batch_that_diverged():
    model = _model()
    x, y = _data(n=6)
    x[3, 0] = np.nan
    with pytest.raises(TrainingDiverged, match="training diverged at epoch 3, batch 2") as info:
        Trainer(model, "mse", ln.SGD(LR)).run_epoch(Batches(x, y, 2, shuffle=False), epoch=2)
    assert (info.value.epoch, info.value.batch) == (2, 1)


def test_seed_epoch_derives_every_generator_from_seed_and_epoch():
    def masks(seed, epoch):
        model = ln.Sequential([ln.Dense(3, 8, seed=0), ln.Dropout(0.5)])
        trainer = Trainer(model, "mse")
        batches = Batches(*_data(n=6), 2)
        trainer.seed_epoch(batches, seed, epoch)
        order = batches.rng.permutation(6)
        return order, model.forward(np.ones((4, 3)), training=True) == 0

    (o1, m1), (o2, m2), (_, m3) = masks(7, 1), masks(7, 1), masks(7, 2)
    np.testing.assert_array_equal(o1, o2)
    np.testing.assert_array_equal(m1, m2)
    assert not np.array_equal(m1, m3)


def test_evaluate_includes_the_penalty():
    model = _model()
    x, y = _data()
    logs = Trainer(model, "mse").evaluate(x, y, batch_size=4)
    w = model.parameters()[0].value
    assert logs["loss"] == pytest.approx(ln.MSE()(y, model.predict(x)) + L2 * np.sum(w**2))
    with pytest.raises(ValueError, match="evaluate: batch_size must be an int >= 1, got 0"):
        Trainer(model, "mse").evaluate(x, y, batch_size=0)


def test_fit_train_step_and_the_estimators_run_on_the_trainer(monkeypatch):
    calls = []
    original = Trainer.step

    def counting(self, *args, **kwargs):
        calls.append(self)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Trainer, "step", counting)
    model = _model()
    x, y = _data(n=10)
    model.compile("mse", ln.SGD(LR))
    model.fit(x, y, epochs=2, batch_size=4, verbose=0)
    assert len(calls) == 6 and all(t.model is model for t in calls)
    ln.train_step(model, x, y, "mse", ln.SGD(LR))
    assert len(calls) == 7

    from sklearn.exceptions import ConvergenceWarning

    from lucidnet.sklearn import MLPClassifier

    calls.clear()
    labels = (x[:, 0] > 0).astype(int)
    with pytest.warns(ConvergenceWarning):
        MLPClassifier((4,), max_iter=3, batch_size=5, random_state=0).fit(x, labels)
    assert len(calls) == 6


def test_fit_reports_where_training_diverged():
    model = ln.Sequential([ln.Dense(3, 1, seed=0)])
    x, _ = _data(n=8)
    model.compile("mse", ln.SGD(1e30))
    with np.errstate(over="ignore", invalid="ignore"), pytest.raises(TrainingDiverged) as info:
        model.fit(x, np.full((8, 1), 1e20), epochs=5, batch_size=4, verbose=0, shuffle=False)
    assert info.value.epoch is not None and info.value.batch is not None
    assert f"epoch {info.value.epoch + 1}, batch {info.value.batch + 1}" in str(info.value)
    for w in model.get_weights():
        assert np.all(np.isfinite(w))
