"""playground.session: one page's data, network, training, edits, exports and drawings."""

import base64
import json

import numpy as np
import pytest

import lucidnet as ln
from lucidnet.playground.data import FEATURES, read_upload
from lucidnet.playground.session import Session
from lucidnet.playground.settings import Settings

PHASES = ["forward", "loss", "backward", "update"]


def session(**given):
    return Session(Settings.from_dict(given))


def weights_of(s):
    return [w.copy() for w in s.network.get_weights()]


def decode(text, dtype=np.int8):
    return np.frombuffer(base64.b64decode(text), dtype=dtype)


def quantize(values):
    """The page's heatmap bytes, written out: [-1, 1] to -127 .. 127."""
    return np.rint(np.clip(np.asarray(values, np.float64), -1, 1) * 127).astype(np.int8)


def page_grid(size, domain=(-6.0, 6.0, -6.0, 6.0)):
    """The heatmap's cell centres, row by row from the top."""
    x0, x1, y0, y1 = domain
    xs = x0 + (np.arange(size) + 0.5) * (x1 - x0) / size
    ys = y1 - (np.arange(size) + 0.5) * (y1 - y0) / size
    return np.array([[x, y] for y in ys for x in xs], dtype=np.float32)


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


# --- training ---------------------------------------------------------------------------------


def test_a_new_session_starts_at_epoch_0_with_one_history_point():
    s = Session()
    assert s.epoch == 0 and len(s.history) == 1 and s.history[0]["epoch"] == 0
    assert s.settings == Settings()
    assert len(s.x_train) + len(s.x_test) == 500 and len(s.x_train) == 250


def test_training_reduces_the_test_loss_on_circle():
    s = Session()
    first = s.history[0]["test_loss"]
    s.train(30)
    assert s.epoch == 30 and len(s.history) == 31
    assert [h["epoch"] for h in s.history] == list(range(31))
    assert s.history[-1]["test_loss"] < 0.85 * first
    assert s.history[-1]["test_accuracy"] > s.history[0]["test_accuracy"]
    assert s.message is None and s.stopped is None


def test_history_losses_are_the_networks_losses():
    s = session(dataset="xor")
    s.train(3)
    p = s.network.predict(s.x_test)[:, 0].astype(np.float64)
    y = s.y_test[:, 0]
    eps = 1e-7
    bce = -np.mean(y * np.log(np.clip(p, eps, 1)) + (1 - y) * np.log(np.clip(1 - p, eps, 1)))
    assert s.history[-1]["test_loss"] == pytest.approx(bce, rel=1e-4)
    assert s.history[-1]["test_accuracy"] == pytest.approx(np.mean((p > 0.5) == (y > 0.5)))


CONFIGS = {
    "default": {},
    "dropout": {"dropout": 0.3},
    "l2": {"regularization": "l2", "reg_rate": 0.01},
    "l1": {"regularization": "l1", "reg_rate": 0.003},
    "adam": {"optimizer": "adam"},
    "momentum": {"optimizer": "momentum", "batch_size": 7},
    "spiral3": {"dataset": "spiral", "classes": 3, "features": ["x1", "x2", "sin(x1)"]},
    "plane": {"problem": "regression", "dataset": "plane", "activations": ["relu", "linear"]},
    "no-hidden": {"layers": [], "dataset": "gauss"},
}


def run_script(source, capsys):
    """Execute an exported script without writing its model file; return its namespace."""
    save_line = 'ln.save(model, "playground.lucid")\n'
    assert source.count(save_line) == 1
    namespace = {"__name__": "__playground_script__"}
    exec(compile(source.replace(save_line, ""), "playground_script.py", "exec"), namespace)
    assert capsys.readouterr().out.startswith("test:")
    return namespace


@pytest.mark.parametrize("given", CONFIGS.values(), ids=CONFIGS.keys())
def test_exported_script_retrains_to_the_same_weights(given, capsys):
    s = session(samples=120, **given)
    s.train(4)
    assert s.message is None
    model = run_script(s.export_script(), capsys)["model"]
    ours, theirs = s.network.get_weights(), model.get_weights()
    assert len(ours) == len(theirs) == 2 * (len(s.settings.layers) + 1)
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(ours[0], session(samples=120, **given).network.get_weights()[0])


def test_exported_script_of_an_upload_reads_the_file(tmp_path, monkeypatch, capsys):
    rng = np.random.default_rng(0)
    pts = rng.uniform(-3, 3, size=(60, 2))
    rows = "".join(f"{a:.3f},{b:.3f},{'in' if a * a + b * b < 4 else 'out'}\n" for a, b in pts)
    text = "u,v,where\n" + rows
    s = Session()
    s.configure(
        Settings.from_dict({"dataset": "upload"}), upload=(read_upload("p.csv", text), "p.csv")
    )
    assert s.data.classes == ["in", "out"]
    s.train(3)
    (tmp_path / "p.csv").write_text(text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    model = run_script(s.export_script(), capsys)["model"]
    for a, b in zip(s.network.get_weights(), model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_exported_model_loads_and_predicts_the_same(tmp_path):
    s = session(dataset="spiral", classes=3, layers=[5, 4])
    s.train(2)
    path = tmp_path / "m.lucid"
    path.write_bytes(s.export_model())
    model = ln.load(path)
    np.testing.assert_array_equal(model.predict(s.x_test), s.network.predict(s.x_test))
    assert model.predict(s.x_test).shape == (len(s.x_test), 3)


# --- one neuron's numbers ---------------------------------------------------------------------


def manual_pass(s, x, y):
    """The default network (2-4-2-1, tanh, sigmoid, binary cross-entropy) by hand, float64."""
    (w1, b1), (w2, b2), (w3, b3) = [
        (d.weights.astype(np.float64), d.bias.astype(np.float64)) for d in s.dense_layers
    ]
    x = x.astype(np.float64)
    z1 = x @ w1 + b1
    a1 = np.tanh(z1)
    z2 = a1 @ w2 + b2
    a2 = np.tanh(z2)
    z3 = a2 @ w3 + b3
    p = sigmoid(z3)
    loss = -(y * np.log(p) + (1 - y) * np.log(1 - p))[0]
    d3 = p - y
    d2 = (d3 @ w3.T) * (1 - a2**2)
    d1 = (d2 @ w2.T) * (1 - a1**2)
    ins, zs, acts, deltas = [x, a1, a2], [z1, z2, z3], [a1, a2, p], [d1, d2, d3]
    ws, bs = [w1, w2, w3], [b1, b2, b3]
    return ins, ws, bs, zs, acts, deltas, loss


@pytest.mark.parametrize(("layer", "neuron"), [(0, 1), (0, 3), (1, 0), (2, 0)])
def test_neuron_numbers_agree_with_numpy(layer, neuron):
    s = Session()
    s.train(3)
    index = 7
    x, y = s.x_test[index], s.y_test[index]
    ins, ws, bs, zs, acts, deltas, loss = manual_pass(s, x, y)
    got = s.neuron("test", index, layer, neuron)
    lr = 0.03
    grad_w = ins[layer] * deltas[layer][neuron]
    close = {"rel": 1e-4, "abs": 1e-6}
    assert got["layer"] == layer and got["neuron"] == neuron
    assert got["inputs"] == (
        ["x1", "x2"] if layer == 0 else [f"h{layer}.{k + 1}" for k in range(4 if layer == 1 else 2)]
    )
    assert got["x"] == pytest.approx(ins[layer], **close)
    assert got["w"] == pytest.approx(ws[layer][:, neuron], **close)
    assert got["b"] == pytest.approx(bs[layer][neuron], **close)
    assert got["z"] == pytest.approx(zs[layer][neuron], **close)
    assert got["a"] == pytest.approx(acts[layer][neuron], **close)
    assert got["loss"] == pytest.approx(loss, **close)
    assert got["y"] == pytest.approx([y[0]])
    assert got["y_hat"] == pytest.approx([acts[2][0]], **close)
    assert got["delta"] == pytest.approx(deltas[layer][neuron], **close)
    assert got["grad_w"] == pytest.approx(grad_w, **close)
    assert got["grad_b"] == pytest.approx(deltas[layer][neuron], **close)
    assert got["learning_rate"] == lr
    assert got["new_w"] == pytest.approx(ws[layer][:, neuron] - lr * grad_w, **close)
    assert got["new_b"] == pytest.approx(bs[layer][neuron] - lr * deltas[layer][neuron], **close)
    if layer < 2:  # tanh: f'(z) = 1 - a^2, and dL/da * f'(z) = delta
        assert got["activation"] == "Tanh"
        assert got["local"] == pytest.approx(1 - acts[layer][neuron] ** 2, **close)
        assert got["grad_a"] * got["local"] == pytest.approx(got["delta"], rel=1e-4)
    json.dumps(got, allow_nan=False)


def test_neuron_numbers_agree_with_explain():
    s = session(dataset="gauss", layers=[3], regularization="l2", reg_rate=0.05)
    s.train(2)
    trace = s.explain("train", 4)
    t = trace.layers[0]
    got = s.neuron("train", 4, 0, 2)
    assert got["w"] == pytest.approx(t.weights[:, 2], rel=1e-5)
    assert got["z"] == pytest.approx(t.z[0, 2], rel=1e-5)
    assert got["grad_w"] == pytest.approx(t.grad_weights[:, 2], rel=1e-5)
    assert got["new_w"] == pytest.approx(t.new_weights[:, 2], rel=1e-5)
    assert got["l2"] == 0.05
    # with the penalty: dL/dw = x delta + 2 l2 w
    expected = np.asarray(got["x"]) * got["delta"] + 2 * 0.05 * np.asarray(got["w"])
    assert got["grad_w"] == pytest.approx(expected, rel=1e-4)
    assert got["text"] == trace.to_text()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("valid", 0, 0, 0), r"set must be 'train' or 'test', got 'valid'"),
        (("train", 250, 0, 0), r"the train set has samples 0 to 249, got 250"),
        (("test", -1, 0, 0), r"the test set has samples 0 to 249, got -1"),
        (("train", 0, 3, 0), r"layer must be 0 to 2 \(a Dense layer\), got 3"),
        (("train", 0, 1, 2), r"layer 1 has neurons 0 to 1, got 2"),
    ],
)
def test_neuron_refuses_bad_indices(args, message):
    with pytest.raises(ValueError, match=message):
        Session().neuron(*args)


# --- one step ---------------------------------------------------------------------------------


def test_one_step_stages_come_in_order():
    s = Session()
    stages = s.one_step("train", 3)
    phases = [st["phase"] for st in stages]
    assert sorted(set(phases), key=PHASES.index) == PHASES
    assert [PHASES.index(p) for p in phases] == sorted(PHASES.index(p) for p in phases)
    assert all(set(st) == {"phase", "title", "layer", "text"} for st in stages)
    forward = [st["layer"] for st in stages if st["phase"] == "forward" and st["layer"] is not None]
    backward = [
        st["layer"] for st in stages if st["phase"] == "backward" and st["layer"] is not None
    ]
    update = [st["layer"] for st in stages if st["phase"] == "update" and st["layer"] is not None]
    assert forward == [0, 1, 2] and backward == [2, 1, 0] and update == [0, 1, 2]
    loss = [st for st in stages if st["phase"] == "loss"]
    assert len(loss) == 1 and "binary_crossentropy" in loss[0]["text"]
    assert all(st["text"].startswith(st["title"]) for st in stages if st["title"])


APPLY = {
    "default": {},
    "l2": {"regularization": "l2", "reg_rate": 0.1},
    "l1": {"regularization": "l1", "reg_rate": 0.1},
    "adam": {"optimizer": "adam"},  # the step shown is plain gradient descent
    "spiral3": {"dataset": "spiral", "classes": 3},
    "plane": {"problem": "regression"},
    "dropout": {"dropout": 0.5},
}


@pytest.mark.parametrize("given", APPLY.values(), ids=APPLY.keys())
def test_apply_step_takes_exactly_the_step_shown(given):
    s = session(**given)
    s.train(2)
    trace = s.explain("test", 3)
    before = weights_of(s)
    epoch, points = s.epoch, len(s.history)
    s.one_step("test", 3)
    s.apply_step("test", 3)
    for t, dense in zip(trace.layers, s.dense_layers, strict=True):
        np.testing.assert_array_equal(dense.weights, t.new_weights)
        np.testing.assert_array_equal(dense.bias, t.new_bias)
    assert not np.array_equal(before[0], s.dense_layers[0].weights)
    assert s.epoch == epoch and len(s.history) == points  # the curve is per epoch
    assert s.message is None
    assert s.latest["train_loss"] == pytest.approx(s._loss(s.x_train, s.y_train)[0], rel=1e-5)


@pytest.mark.parametrize(
    "between",
    [
        lambda s: s.train(1),
        lambda s: s.set_weight(0, 0, 0, 0.5),
    ],
    ids=["train", "edit"],
)
def test_apply_step_is_refused_when_the_network_changed_since_it_was_shown(between):
    s = session()
    s.one_step("train", 0)
    between(s)
    before = s.network.get_weights()
    with pytest.raises(ValueError, match="changed since this step was shown"):
        s.apply_step("train", 0)
    for a, b in zip(before, s.network.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_apply_step_after_a_rate_change_takes_the_step_shown_at_the_old_rate():
    s = session()
    trace = s.explain("train", 0)  # at 0.03, as one_step shows it
    s.one_step("train", 0)
    s.configure(Settings.from_dict({"learning_rate": 3.0}, s.settings))
    s.apply_step("train", 0)
    for t, dense in zip(trace.layers, s.dense_layers, strict=True):
        np.testing.assert_array_equal(dense.weights, t.new_weights)


def test_apply_step_is_refused_for_another_sample_or_twice():
    s = session()
    s.one_step("train", 0)
    with pytest.raises(ValueError, match="no step of test sample 0 is shown"):
        s.apply_step("test", 0)
    s.one_step("train", 1)
    s.apply_step("train", 1)
    with pytest.raises(ValueError, match="no step of train sample 1 is shown"):
        s.apply_step("train", 1)


# --- edits ------------------------------------------------------------------------------------


def test_set_weight_edits_one_weight():
    s = Session()
    before = weights_of(s)
    s.set_weight(1, 2, 0, 0.75)
    after = s.network.get_weights()
    expected = [w.copy() for w in before]
    expected[2][2, 0] = 0.75  # layer 1's weights (the third array: w0, b0, w1, ...)
    for a, b in zip(after, expected, strict=True):
        np.testing.assert_array_equal(a, b)
    snap = s.snapshot()
    assert snap["weights"][1]["w"][2][0] == 0.75


def test_set_weight_with_no_source_edits_the_bias():
    s = Session()
    before = weights_of(s)
    s.set_weight(0, None, 3, -1.5)
    expected = [w.copy() for w in before]
    expected[1][3] = -1.5
    for a, b in zip(s.network.get_weights(), expected, strict=True):
        np.testing.assert_array_equal(a, b)
    # the edit changes what the network computes
    x = s.x_test[:5].astype(np.float64)
    w1, b1 = s.dense_layers[0].weights, s.dense_layers[0].bias
    np.testing.assert_allclose(np.tanh(x @ w1 + b1)[:, 3], np.tanh(x @ w1[:, 3] - 1.5), rtol=1e-6)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((3, 0, 0, 1.0), r"layer must be 0 to 2 \(a Dense layer\), got 3"),
        ((-1, 0, 0, 1.0), r"layer must be 0 to 2 \(a Dense layer\), got -1"),
        ((0, 0, 4, 1.0), r"layer 0 has neurons 0 to 3, got 4"),
        ((2, None, 1, 1.0), r"layer 2 has neurons 0 to 0, got 1"),
        ((0, 2, 0, 1.0), r"layer 0 has inputs 0 to 1, got 2"),
        ((1, -1, 0, 1.0), r"layer 1 has inputs 0 to 3, got -1"),
        ((0, 0, 0, float("nan")), r"a weight must be a finite number, got nan"),
        ((0, 0, 0, float("inf")), r"a weight must be a finite number, got inf"),
        ((0, 0, 0, "1"), r"a weight must be a finite number, got '1'"),
        ((0, 0, 0, True), r"a weight must be a finite number, got True"),
        ((0, 0, 0, 1e39), r"too large for the weights' float32"),  # inf as float32
    ],
)
def test_set_weight_refuses_bad_edits_and_changes_nothing(args, message):
    s = Session()
    before = weights_of(s)
    with pytest.raises(ValueError, match=message):
        s.set_weight(*args)
    for a, b in zip(s.network.get_weights(), before, strict=True):
        np.testing.assert_array_equal(a, b)


# --- divergence and stops ---------------------------------------------------------------------


def assert_diverged(s, epochs):
    assert s.message is not None and "diverged" in s.message
    assert "back to its weights after epoch" in s.message
    assert s.epoch < epochs  # training stopped
    assert all(np.isfinite(w).all() for w in s.network.get_weights())
    assert s.history[-1]["epoch"] == s.epoch
    json.dumps(s.snapshot(), allow_nan=False)


def test_a_diverging_learning_rate_stops_training_with_finite_weights():
    s = session(problem="regression", learning_rate=10.0, activations=["relu", "relu"])
    s.train(5)
    assert_diverged(s, 5)


def test_a_divergence_rolls_back_to_the_lowest_training_loss_and_a_lower_rate_trains_on():
    s = session(problem="regression", learning_rate=3.0, activations=["relu", "relu"])
    seen = {0: (s.latest["train_loss"], s.network.get_weights())}
    while s.message is None and s.epoch < 20:  # epoch by epoch, until it diverges
        s.train(1)
        if s.message is None:
            seen[s.epoch] = (s.latest["train_loss"], s.network.get_weights())
    assert s.message is not None, "this set-up was expected to diverge"
    best = min(seen, key=lambda e: seen[e][0])
    assert f"back to its weights after epoch {best}, the lowest training loss" in s.message
    for a, b in zip(seen[best][1], s.network.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert s.trainer.optimizer.learning_rate == 3.0  # the rate now, not the snapshot's
    s.configure(Settings.from_dict({"learning_rate": 0.001}, s.settings))
    epoch = s.epoch
    s.train(3)
    assert s.message is None and s.epoch == epoch + 3
    assert s.latest["train_loss"] < 10 * seen[best][0]  # trainable weights, not exploded
    assert "training diverged and was rolled back" in s.export_script()


def test_an_edited_huge_weight_stops_training_with_finite_weights():
    s = session(problem="regression")
    s.set_weight(2, 0, 0, 1e30)
    s.train(5)
    assert_diverged(s, 5)


def test_training_again_after_a_divergence_clears_the_message():
    s = session(problem="regression")
    s.set_weight(2, 0, 0, 1e30)
    s.train(1)
    assert s.message is not None
    s.set_weight(2, 0, 0, 0.1)
    s.train(1)
    assert s.message is None and s.epoch == 1


def test_stop_epochs_stops_training():
    s = session(stop_epochs=3)
    s.train(10)
    assert s.epoch == 3 and s.stopped is not None and "3 epochs" in s.stopped


def test_stop_loss_stops_at_the_first_epoch_at_or_below_it():
    s = session(stop_loss=0.6)
    s.train(200)
    losses = [h["test_loss"] for h in s.history]
    assert s.stopped is not None and "0.6" in s.stopped
    assert losses[-1] <= 0.6 < min(losses[:-1])
    assert s.epoch < 200


# --- settings changes -------------------------------------------------------------------------


def test_a_live_setting_keeps_the_training():
    s = Session()
    s.train(2)
    before, history = weights_of(s), list(s.history)
    s.configure(Settings.from_dict({"learning_rate": 0.1, "batch_size": 25}, s.settings))
    assert s.epoch == 2 and s.history == history
    for a, b in zip(s.network.get_weights(), before, strict=True):
        np.testing.assert_array_equal(a, b)
    assert s.settings.learning_rate == 0.1


def test_a_live_learning_rate_is_the_one_training_uses():
    changed = Session()
    changed.configure(Settings.from_dict({"learning_rate": 0.1}, changed.settings))
    fresh = session(learning_rate=0.1)
    changed.train(2)
    fresh.train(2)
    for a, b in zip(changed.network.get_weights(), fresh.network.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    slow = Session()
    slow.train(2)
    assert not np.array_equal(slow.network.get_weights()[0], fresh.network.get_weights()[0])


def test_a_structural_setting_starts_over():
    s = Session()
    s.train(2)
    s.configure(Settings.from_dict({"layers": [3]}, s.settings))
    assert s.epoch == 0 and len(s.history) == 1
    assert [d.weights.shape for d in s.dense_layers] == [(2, 3), (3, 1)]


def test_a_refused_configure_leaves_the_session_unchanged():
    s = Session()
    s.train(2)
    settings, data, before = s.settings, s.data, weights_of(s)
    with pytest.raises(ValueError, match=r"dataset 'upload': no CSV file has been uploaded"):
        s.configure(Settings.from_dict({"dataset": "upload"}, s.settings))
    three = read_upload("three.csv", "0,0,a\n1,1,b\n2,0,c\n0,2,a\n")
    perceptron = Settings.from_dict({"mode": "perceptron", "dataset": "upload"})
    with pytest.raises(ValueError, match=r"perceptron mode needs a CSV file with 2 classes"):
        s.configure(perceptron, upload=(three, "three.csv"))
    assert s.settings is settings and s.data is data and s.epoch == 2
    assert s.upload is None and s.upload_name is None
    for a, b in zip(s.network.get_weights(), before, strict=True):
        np.testing.assert_array_equal(a, b)
    s.train(1)
    assert s.epoch == 3


def test_an_upload_decides_the_problem():
    s = Session()
    reg = read_upload("r.csv", "0,0,0.5\n1,1,1.5\n2,0,-0.25\n0,2,2.75\n")
    s.configure(Settings.from_dict({"dataset": "upload"}), upload=(reg, "r.csv"))
    assert s.task == "regression" and s.settings.problem == "regression"
    assert s.upload_name == "r.csv" and s.data.domain == reg.domain


# --- perceptron mode --------------------------------------------------------------------------


def test_perceptron_rule_one_sample_at_a_time():
    s = session(mode="perceptron", dataset="gauss", seed=2)
    p, lr = s.perceptron, s.settings.learning_rate
    mistakes = 0
    for _ in range(40):
        i = s.cursor
        x, target = s.x_train[i], float(s.labels_train[i])
        w, b = p.weights.copy(), float(p.bias)
        y_hat = float(x.astype(np.float64) @ w + b > 0)
        s.train(samples=1)
        rule = s.last_rule
        expected_w = w + np.float32(lr) * np.float32(target - y_hat) * x
        np.testing.assert_allclose(p.weights, expected_w, rtol=1e-6)
        assert float(p.bias) == pytest.approx(b + lr * (target - y_hat), abs=1e-7)
        assert rule["index"] == i and rule["target"] == target and rule["y_hat"] == y_hat
        assert rule["x"] == pytest.approx(x, rel=1e-5)
        assert rule["w"] == pytest.approx(w, rel=1e-5)
        assert rule["step"] == pytest.approx(lr * (target - y_hat), rel=1e-5)
        assert rule["new_w"] == pytest.approx(expected_w, rel=1e-5, abs=1e-9)
        mistakes += rule["step"] != 0
    assert mistakes >= 1  # the rule moved the line, and was checked doing it
    assert s.cursor == 40


def test_perceptron_reaches_no_error_on_separable_gauss():
    s = session(mode="perceptron", dataset="gauss", seed=2)
    assert s.history[0]["train_loss"] > 0.5  # the first line is wrong
    s.train(epochs=10)
    assert s.history[-1]["train_loss"] == 0.0 and s.epoch == 10
    labels = s.perceptron.predict(s.x_train)
    np.testing.assert_array_equal(labels, s.labels_train)


def test_perceptron_snapshot_draws_its_line():
    s = session(mode="perceptron", dataset="gauss", seed=2, heatmap=20)
    s.train(samples=30)
    snap = s.snapshot()
    assert snap["rule"] == s.last_rule and snap["neurons"] == []
    w, b = s.perceptron.weights.astype(np.float64), float(s.perceptron.bias)
    g = page_grid(20)
    expected = np.where(g @ w + b > 0, 127, -127)
    np.testing.assert_array_equal(decode(snap["output"]), expected)
    assert snap["latest"]["epoch"] == pytest.approx(30 / len(s.x_train))
    assert [h["epoch"] for h in snap["history"]] == [0]  # the curve is per whole epoch


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda s: s.export_model(), "perceptron mode has no network to export"),
        (lambda s: s.export_script(), "perceptron mode has no network to export"),
        (lambda s: s.apply_step("train", 0), "perceptron mode: use step"),
        (lambda s: s.neuron("train", 0, 0, 0), "perceptron mode: the rule's numbers"),
        (lambda s: s.set_weight(0, 0, 0, 1.0), "perceptron mode has no network layers"),
    ],
)
def test_perceptron_mode_refuses_network_actions(call, message):
    s = session(mode="perceptron", dataset="xor")
    with pytest.raises(ValueError, match=message):
        call(s)


# --- what the page draws ----------------------------------------------------------------------


def test_snapshot_heatmaps_are_the_networks_outputs_on_the_grid():
    s = session(heatmap=20)
    snap = s.snapshot()
    g = page_grid(20)
    p = s.network.predict(g)[:, 0]
    expected = quantize(2.0 * p.astype(np.float64) - 1.0)
    got = decode(snap["output"])
    assert got.shape == (400,)
    assert np.abs(got.astype(int) - expected).max() <= 1
    flipped = expected.reshape(20, 20)[::-1].ravel()  # the test tells top from bottom
    assert np.abs(got.astype(int) - flipped).max() > 1
    w1, b1 = s.dense_layers[0].weights, s.dense_layers[0].bias
    hidden = np.tanh(g.astype(np.float64) @ w1 + b1)
    assert [len(layer) for layer in snap["neurons"]] == [4, 2]
    for j in range(4):
        assert np.abs(decode(snap["neurons"][0][j]).astype(int) - quantize(hidden[:, j])).max() <= 1


def test_multiclass_snapshot_has_the_winning_class():
    s = session(dataset="spiral", classes=3, heatmap=15)
    s.train(2)
    snap = s.snapshot()
    probs = s.network.predict(page_grid(15))
    np.testing.assert_array_equal(decode(snap["output_class"], np.uint8), probs.argmax(axis=1))
    got = decode(snap["output"]).astype(int)
    assert np.abs(got - quantize(2.0 * probs.max(axis=1) - 1.0)).max() <= 1


def test_regression_snapshot_scales_by_the_largest_target():
    s = session(problem="regression", dataset="reg-gauss", heatmap=12)
    s.train(1)
    scale = max(float(np.abs(s.data.targets).max()), 1.0)
    assert s.output_scale == scale
    pred = s.network.predict(page_grid(12))[:, 0].astype(np.float64)
    assert np.abs(decode(s.snapshot()["output"]).astype(int) - quantize(pred / scale)).max() <= 1


def test_snapshot_weights_and_history_from():
    s = Session()
    s.train(3)
    snap = s.snapshot(history_from=2)
    assert [h["epoch"] for h in snap["history"]] == [2, 3]
    assert snap["history_length"] == 4 and snap["epoch"] == 3
    for drawn, dense in zip(snap["weights"], s.dense_layers, strict=True):
        np.testing.assert_allclose(drawn["w"], dense.weights, rtol=1e-5)
        np.testing.assert_allclose(drawn["b"], dense.bias, rtol=1e-5, atol=1e-12)
    json.dumps(snap, allow_nan=False)


def test_describe_gives_the_points_and_the_input_maps():
    s = session(dataset="gauss", classes=3, samples=90, heatmap=10, features=["x1", "x2^2"])
    d = s.describe()
    json.dumps(d, allow_nan=False)
    assert d["classes"] == ["0", "1", "2"] and d["regression"] is False
    assert d["sizes"] == [2, 4, 2, 3]
    assert len(d["train"]["points"]) == 45 and len(d["test"]["targets"]) == 45
    np.testing.assert_allclose(d["train"]["points"], s.points_train, rtol=1e-5)
    assert d["train"]["targets"] == s.labels_train.tolist()
    g = page_grid(10).astype(np.float64)
    x1, x2sq = g[:, 0], g[:, 1] ** 2
    assert list(d["inputs"]) == list(FEATURES)  # every input, used or not, by name
    assert (
        np.abs(decode(d["inputs"]["x1"]).astype(int) - quantize(x1 / np.abs(x1).max())).max() <= 1
    )
    assert np.abs(decode(d["inputs"]["x2^2"]).astype(int) - quantize(x2sq / x2sq.max())).max() <= 1
    assert d["snapshot"]["epoch"] == 0 and d["settings"] == s.settings.to_dict()


# --- long runs, frames, stops -----------------------------------------------------------------


def test_the_curve_keeps_every_epoch_then_every_tenth_and_so_on():
    from lucidnet.playground.session import history_stride

    kept = [e for e in range(0, 25_000) if e % history_stride(e) == 0]
    assert kept[:1001] == list(range(1001)) and kept[1000:1003] == [1000, 1010, 1020]
    assert kept[-3:] == [24_700, 24_800, 24_900] and len(kept) == 1000 + 900 + 150
    assert len([e for e in range(10**6) if e % history_stride(e) == 0]) < 4000  # a few thousand


def test_a_frame_stops_after_its_time_budget_but_trains_at_least_one_epoch():
    s = session()
    assert s.train(50, budget=0.0) == 1 and s.epoch == 1  # the budget is spent at once
    assert s.train(3) == 3 and s.epoch == 4  # no budget: every epoch asked for


def test_a_perceptron_frame_has_a_time_budget_too():
    s = session(mode="perceptron", dataset="gauss")
    assert s.train(100, budget=0.0) == 255  # checked every 256 steps
    assert s.cursor == 255 % len(s.x_train)


def test_play_after_a_stop_goes_on_and_a_changed_condition_stops_again():
    s = session(stop_epochs=3)
    s.train(10)
    assert s.epoch == 3 and "3 epochs" in s.stopped
    s.train(2)
    assert s.epoch == 5 and s.stopped is None  # no stop again at once
    s.configure(Settings.from_dict({"stop_epochs": 6}, s.settings))
    s.train(10)
    assert s.epoch == 6 and "6 epochs" in s.stopped


def test_stop_loss_looks_at_the_latest_test_loss():
    s = session(stop_loss=0.5, learning_rate=0.3)
    s.train(100)
    assert s.stopped is not None and s.latest["test_loss"] <= 0.5
    assert s.epoch < 100


def test_multi_class_snapshots_carry_each_class_probability():
    s = session(dataset="spiral", classes=3, heatmap=10)
    snap = s.snapshot()
    p = s.network.predict(s.grid)
    assert len(snap["outputs"]) == 3
    for k in range(3):
        assert np.abs(decode(snap["outputs"][k]) - quantize(2 * p[:, k] - 1)).max() <= 1


def test_the_script_says_when_the_page_changed_the_training_by_hand():
    s = session()
    s.train(2)
    assert "It ends with the same weights as the page's network." in s.export_script()
    s.configure(Settings.from_dict({"batch_size": 20}, s.settings))  # live, mid-run
    s.set_weight(0, 0, 0, 0.5)
    text = s.export_script()
    assert "Its weights will differ" in text
    assert "a setting changed during training; a weight was edited" in text


def test_single_sample_steps_are_for_perceptron_mode():
    with pytest.raises(ValueError, match=r"'samples' .* are for perceptron mode"):
        session().train(0, samples=3)


@pytest.mark.parametrize("kind", ["l1", "l2"])
def test_the_penalty_is_applied_in_training_and_shown_in_the_numbers(kind):
    plain, penalized = session(), session(regularization=kind, reg_rate=0.01)
    for dense in penalized.dense_layers:  # every Dense layer, the output's included
        assert getattr(dense._w, kind) == 0.01
    plain.train(3)
    penalized.train(3)
    assert not np.array_equal(plain.dense_layers[0].weights, penalized.dense_layers[0].weights)
    n = penalized.neuron("train", 0, 0, 0)
    assert n[kind] == 0.01
    extra = 0.01 * np.sign(n["w"]) if kind == "l1" else 2 * 0.01 * np.array(n["w"])
    np.testing.assert_allclose(
        n["grad_w"], np.array(n["x"]) * n["delta"] + extra, rtol=1e-4, atol=1e-7
    )


def test_dropout_trains_differently_and_leaves_the_drawn_outputs_deterministic():
    plain, dropped = session(), session(dropout=0.5)
    plain.train(2)
    dropped.train(2)
    assert not np.array_equal(plain.dense_layers[0].weights, dropped.dense_layers[0].weights)
    first = dropped.neuron_outputs(dropped.grid)
    again = dropped.neuron_outputs(dropped.grid)
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)  # inference: no mask


def test_a_huge_integer_weight_is_refused_as_a_value_not_a_crash():
    s = session()
    with pytest.raises(ValueError, match="a weight must be a finite number"):
        s.set_weight(0, 0, 0, 10**400)


def test_only_a_change_that_trains_otherwise_makes_the_script_differ():
    s = session(stop_epochs=2)
    s.train(5)
    assert s.stopped is not None
    for given in ({"epochs_per_frame": 5}, {"heatmap": 50}, {"reg_rate": 0.5}):
        s.configure(Settings.from_dict(given, s.settings))  # regularization is "none"
    assert not s.changed_by_hand
    s.train(1)
    assert s.stopped is None and s.epoch == 3  # the same stop condition: no stop again
    s.configure(Settings.from_dict({"learning_rate": 0.1}, s.settings))
    assert s.changed_by_hand == {"a setting changed during training"}
