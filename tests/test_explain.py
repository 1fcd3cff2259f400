"""Tests of ``lucidnet.explain``: the seeds' worked examples reproduced from the trace
object (not by parsing text), the trace against the library's own gradients, and the
three renderers."""

from __future__ import annotations

from html.parser import HTMLParser

import numpy as np
import pytest

import lucidnet as ln
from lucidnet import seeds


def fruit_trace(lr=0.1):
    return ln.explain(seeds.fruit_network(), [[1, 1]], y=[[1]], learning_rate=lr)


def test_seed_003_fruit_forward_numbers():
    t = fruit_trace()
    hidden, output = t.layers
    np.testing.assert_allclose(hidden.z, [[0.8, 1.2]])  # z1 = W1 x + b1
    np.testing.assert_allclose(hidden.a, [[0.8, 1.2]])  # h1 = relu(z1)
    np.testing.assert_allclose(output.z, [[1.36]])  # z2 = 0.32 + 0.84 + 0.2
    assert round(float(t.y_hat[0, 0]), 3) == 0.796
    assert (hidden.activation, output.activation) == ("ReLU", "Sigmoid")
    np.testing.assert_array_equal(hidden.weights.T, [[0.5, 0.2], [0.3, 0.8]])  # the seed's W1


def test_seed_003_fruit_backward_numbers_by_the_chain_rule():
    t = fruit_trace()
    hidden, output = t.layers
    y_hat = 1 / (1 + np.exp(-1.36))
    # binary cross-entropy: L = -log(y_hat); dL/dy_hat = -1 / y_hat
    assert t.loss == pytest.approx(-np.log(y_hat))
    np.testing.assert_allclose(output.grad_a, [[-1 / y_hat]])
    np.testing.assert_allclose(output.local, [[y_hat * (1 - y_hat)]])  # sigmoid'
    np.testing.assert_allclose(output.delta, [[y_hat - 1]])  # = dL/dy_hat * sigmoid'
    assert round(float(output.delta[0, 0]), 4) == -0.2042  # seed 003's "error" y_hat - y
    h1, w2 = np.array([0.8, 1.2]), np.array([0.4, 0.7])
    np.testing.assert_allclose(output.grad_weights[:, 0], (y_hat - 1) * h1)
    np.testing.assert_allclose(output.grad_bias, [y_hat - 1])
    np.testing.assert_allclose(output.grad_x[0], (y_hat - 1) * w2)  # blame by weight
    np.testing.assert_allclose(hidden.local, [[1, 1]])  # relu' at z1 = [0.8, 1.2] > 0
    np.testing.assert_allclose(hidden.delta[0], (y_hat - 1) * w2)
    np.testing.assert_allclose(hidden.grad_weights, np.outer([1, 1], (y_hat - 1) * w2))


def test_seed_003_one_step_moves_the_prediction_toward_the_label():
    t = fruit_trace(lr=0.1)
    hidden, output = t.layers
    np.testing.assert_allclose(output.new_weights, output.weights - 0.1 * output.grad_weights)
    np.testing.assert_allclose(hidden.new_bias, hidden.bias - 0.1 * hidden.grad_bias)
    assert t.y_hat[0, 0] < t.new_y_hat[0, 0] < 1
    assert t.new_loss < t.loss


def test_seed_002_neuron_numbers():
    t = ln.explain(seeds.neuron_example(), seeds.NEURON_INPUT, grad_output=0.2, learning_rate=0.1)
    (n,) = t.layers
    assert round(float(n.z[0, 0]), 4) == 0.41
    assert round(float(n.a[0, 0]), 4) == 0.6011
    assert round(float(n.local[0, 0]), 4) == 0.2398
    assert round(float(n.delta[0, 0]), 4) == 0.0480
    np.testing.assert_allclose(n.grad_weights[:, 0], [0.0240, -0.0576], atol=1e-4)
    assert round(float(n.grad_bias[0]), 4) == 0.0480
    np.testing.assert_array_equal(np.round(n.grad_x[0], 4), [0.0048, -0.0144])
    np.testing.assert_array_equal(np.round(n.new_weights[:, 0], 4), [0.0976, -0.2942])
    assert round(float(n.new_bias[0]), 4) == -0.0048
    assert t.loss is None and t.grad_y_hat[0, 0] == pytest.approx(0.2)


def test_trace_equals_the_librarys_own_gradients_and_leaves_the_model_alone():
    model = ln.Sequential(
        [
            ln.Dense(3, 4, seed=0, dtype=np.float64),
            ln.Tanh(),
            ln.Dense(4, 3, seed=1, dtype=np.float64),
            ln.Softmax(),
        ]
    )
    x = np.random.default_rng(0).standard_normal((2, 3))
    y = np.array([0, 2])
    before = [w.copy() for w in model.get_weights()]
    t = ln.explain(model, x, y=y, learning_rate=0.5)
    for w, b in zip(model.get_weights(), before, strict=True):
        np.testing.assert_array_equal(w, b)  # explain ran on a copy
    result = ln.loss_and_gradients(model, x, y, "crossentropy")
    assert t.loss == pytest.approx(result.loss)
    grads = {p.name: p.grad for p in model.parameters()}
    first, second = t.layers
    np.testing.assert_allclose(first.grad_weights, grads["dense.weights"])
    np.testing.assert_allclose(second.grad_bias, grads["dense_1.bias"])
    np.testing.assert_allclose(first.grad_x, result.grad_input)
    # softmax: a Jacobian per sample, and delta = J^T dL/da, = (p - onehot) / batch
    assert second.local.shape == (2, 3, 3) and second.fused
    np.testing.assert_allclose(second.delta, np.einsum("bij,bi->bj", second.local, second.grad_a))
    np.testing.assert_allclose(second.delta, (t.y_hat - np.eye(3)[y]) / 2)


def test_an_exp_output_takes_the_poisson_loss_and_its_fused_delta():
    # exp + Poisson fuse like sigmoid + binary cross-entropy: delta = (y_hat - y) / n
    model = ln.Sequential([ln.Dense(3, 2, seed=0, dtype=np.float64), ln.Exp()])
    x = np.random.default_rng(1).standard_normal((2, 3))
    y = np.array([[0.0, 3.0], [1.0, 2.0]])
    t = ln.explain(model, x, y=y)
    assert t.loss_name == "poisson" and not t.loss_function.from_log
    (layer,) = t.layers
    assert layer.fused
    np.testing.assert_allclose(layer.delta, (t.y_hat - y) / 4, rtol=1e-12)
    np.testing.assert_allclose(layer.delta, layer.grad_a * layer.local, rtol=1e-12)
    assert t.loss == pytest.approx(ln.loss_and_gradients(model, x, y, "poisson").loss)


def test_forward_only_and_dropout_left_out_with_a_note():
    model = ln.Sequential([ln.Dense(2, 3, seed=0), ln.ReLU(), ln.Dropout(0.5), ln.Dense(3, 1)])
    t = ln.explain(model, [0.5, -1.0])
    assert len(t.layers) == 2 and t.layers[1].activation == "Identity"
    assert any("Dropout" in note for note in t.notes)
    np.testing.assert_allclose(t.y_hat, model.predict(np.array([[0.5, -1.0]], np.float32)))
    assert t.grad_y_hat is None and t.layers[0].delta is None
    assert "Backward" not in t.to_text()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"x": np.zeros((1, 3))}, r"expected input of shape \(batch, 2\)"),
        ({"x": np.zeros((20, 2))}, "tiny batch"),
        ({"y": [[1]], "grad_output": 0.2}, "not both"),
        ({"y": [[1]], "learning_rate": -1}, "learning_rate"),
    ],
)
def test_bad_arguments_say_what_is_wrong(kwargs, match):
    args = {"x": [[1, 1]], **kwargs}
    with pytest.raises(ValueError, match=match):
        ln.explain(seeds.fruit_network(), **args)


def test_text_rendering_shows_the_numbers_aligned():
    text = fruit_trace().to_text()
    for number in ("0.8000  1.2000", "1.3600", "0.7958", "-0.2042", "New prediction"):
        assert number in text
    assert fruit_trace().to_text(decimals=2).count("0.80  1.20") >= 2


def test_large_layers_are_abbreviated_not_dumped():
    model = ln.Sequential([ln.Dense(784, 128, seed=0), ln.ReLU(), ln.Dense(128, 10), ln.Softmax()])
    x = np.random.default_rng(0).random((1, 784))
    t = ln.explain(model, x, y=[3], learning_rate=0.1)
    for text in (t.to_text(), t.to_markdown(), t.to_html()):
        assert "abbreviated" in text or r"\cdots" in text
        assert len(text) < 40_000  # the 100k weights are not printed
    assert len(t.to_text().splitlines()) < 150


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.attrs = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += [v or "" for _, v in attrs]


def test_html_is_one_standalone_page_with_an_svg_of_the_network():
    page = fruit_trace().to_html()
    parser = _Tags()
    parser.feed(page)
    assert parser.tags[0] == "html" and "svg" in parser.tags and "script" not in parser.tags
    assert parser.tags.count("circle") == 2 + 2 + 1  # inputs, hidden, output
    assert parser.tags.count("line") == 2 * 2 + 2 * 1  # one per weight
    assert not any(a.startswith(("http:", "https:", "//")) for a in parser.attrs)
    assert "http" not in page
    assert "0.7958" in page


class _Text(HTMLParser):
    """The text of a page: a line per ``div`` or paragraph, a space per table cell."""

    def __init__(self):
        super().__init__()
        self.lines = [""]

    def handle_starttag(self, tag, attrs):
        if tag in ("div", "p", "h1", "h2", "h3"):
            self.lines.append("")
        elif tag == "td":
            self.lines[-1] += " "

    def handle_data(self, data):
        self.lines[-1] += data


def test_html_rows_keep_each_label_apart_from_its_value():
    parser = _Text()
    parser.feed(fruit_trace().to_html())
    lines = [" ".join(line.split()) for line in parser.lines]
    new_loss = next(line for line in lines if line.startswith("New loss L"))
    assert new_loss.startswith("New loss L = 0.2080"), new_loss
    rows = [line for line in lines if line.split(" ")[0] in ("x", "z", "a", "L", "dL/dz")]
    assert len(rows) > 5 and all(" = " in line for line in rows), rows
    assert "L = 0.2285" in lines


def test_markdown_uses_latex_matrices_like_seed_003():
    md = fruit_trace().to_markdown()
    assert md.startswith("# ") and "$$ z_1 = x_1 W_1 + b_1" in md
    assert r"\begin{bmatrix} 0.8000 & 1.2000 \end{bmatrix}" in md
    assert r"\delta_2" in md and r"\eta = 0.1" in md


def test_logits_losses_keep_from_logits_for_the_new_loss():
    model = ln.Sequential(
        [
            ln.Dense(2, 3, seed=0, dtype=np.float64),
            ln.Tanh(),
            ln.Dense(3, 1, seed=1, dtype=np.float64),
        ]
    )
    loss = ln.BinaryCrossEntropy(from_logits=True)
    t = ln.explain(model, [0.5, -1.0], y=[1], loss=loss, learning_rate=0.1)
    trained = ln.Sequential(
        [ln.Dense(2, 3, dtype=np.float64), ln.Tanh(), ln.Dense(3, 1, dtype=np.float64)]
    )
    trained.set_weights([w for layer in t.layers for w in (layer.new_weights, layer.new_bias)])
    x = np.array([[0.5, -1.0]])
    assert t.new_loss == pytest.approx(loss(np.array([[1.0]]), trained.predict(x)))
    assert t.new_loss < t.loss
    multi = ln.Sequential([ln.Dense(2, 3, seed=0), ln.Dense(3, 3, seed=1)])
    t2 = ln.explain(multi, [1, 2], y=[2], loss=ln.CrossEntropy(from_logits=True), learning_rate=0.1)
    assert t2.new_loss < t2.loss


def test_l2_no_bias_and_softmax_batches_are_rendered_with_their_own_formulas():
    model = ln.Sequential(
        [
            ln.Dense(2, 3, seed=0, l2=0.5, bias=False),
            ln.ReLU(),
            ln.Dense(3, 3, seed=1),
            ln.Softmax(),
        ]
    )
    t = ln.explain(model, np.ones((3, 2)), y=[0, 1, 2], learning_rate=0.1)
    first = t.layers[0]
    assert first.l2 == 0.5 and first.grad_bias is None
    np.testing.assert_allclose(
        first.grad_weights, first.x.T @ first.delta + 2 * 0.5 * first.weights, rtol=1e-5
    )
    text, md, page = t.to_text(), t.to_markdown(), t.to_html()
    assert "x^T delta + 2 l2 W (l2 = 0.5)" in text and "2 l2 W" in page
    assert r"+ 2 \cdot 0.5 \, W_1" in md
    assert "nan" not in md and "nan" not in text
    assert "J (sample 1 of 3)" in text and "dL/dz = J^T dL/da" in text and "J_2^T" in md


@pytest.mark.parametrize(
    ("y", "shape"),
    [(1, (1, 1)), ([1], (1, 1)), ([[1]], (1, 1))],
)
def test_targets_of_one_sample_take_its_shape(y, shape):
    t = ln.explain(seeds.fruit_network(), [1, 1], y=y)
    assert t.y.shape == shape and t.loss == pytest.approx(fruit_trace().loss)


def test_one_hot_and_label_targets_give_the_same_softmax_trace():
    model = ln.Sequential([ln.Dense(2, 3, seed=0), ln.Softmax()])
    a = ln.explain(model, [1, 2], y=[0, 1, 0])
    b = ln.explain(model, [1, 2], y=[1])
    assert a.loss == pytest.approx(b.loss)
    np.testing.assert_allclose(a.layers[0].delta, b.layers[0].delta, rtol=1e-6)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"learning_rate": 0.1}, "learning_rate needs a target"),
        ({"loss": "mse"}, "loss needs"),
        ({"grad_output": 0.2, "loss": "mse"}, "exclude each other"),
    ],
)
def test_arguments_that_would_be_ignored_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ln.explain(seeds.fruit_network(), [1, 1], **kwargs)


# --- the command line -------------------------------------------------------------------------


@pytest.mark.parametrize("example", ["fruit", "neuron", "xor"])
def test_cli_explains_each_worked_example(example, capsys):
    from lucidnet.cli import main

    assert main(["explain", "--example", example]) == 0
    out = capsys.readouterr().out
    assert "Backward pass" in out and "New prediction" in out
    expected = {"fruit": "0.7958", "neuron": "0.6011", "xor": "Layer 2"}[example]
    assert expected in out


def test_cli_explains_a_saved_model_into_a_file(tmp_path, capsys):
    from lucidnet.cli import main

    model = ln.Sequential([ln.Dense(2, 3, seed=0), ln.Tanh(), ln.Dense(3, 2, seed=1), ln.Softmax()])
    model.save(str(tmp_path / "m.lucid"))
    for fmt, marker in [("text", "Backward pass"), ("markdown", "$$"), ("html", "<svg")]:
        out = tmp_path / f"trace.{fmt}"
        args = [
            "explain",
            str(tmp_path / "m.lucid"),
            "--input",
            "1,0.5",
            "--target",
            "1",
            "--lr",
            "0.1",
            "--format",
            fmt,
            "--out",
            str(out),
        ]
        assert main(args) == 0
        assert marker in out.read_text()
    expected = ln.explain(model, [1, 0.5], y=[1], learning_rate=0.1).to_text()
    assert (tmp_path / "trace.text").read_text() == expected + "\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["explain"], "MODEL file or --example"),
        (["explain", "--example", "fruit", "--input", "1,x"], "--input must be numbers"),
        (["explain", "m.lucid"], "--input is needed"),
        (["explain", "--example", "fruit", "--decimals", "-1"], "--decimals must be in 0..12"),
    ],
)
def test_cli_explain_errors_are_one_line(args, message, capsys, tmp_path, monkeypatch):
    from lucidnet.cli import main

    monkeypatch.chdir(tmp_path)
    assert main(args) == 1
    assert message in capsys.readouterr().err


def test_cli_softmax_target_is_a_label_or_a_one_hot_row(tmp_path, capsys):
    from lucidnet.cli import main

    model = ln.Sequential([ln.Dense(2, 3, seed=0), ln.Softmax()])
    path = str(tmp_path / "m.lucid")
    model.save(path)
    assert main(["explain", path, "--input", "1,2", "--target", "1"]) == 0
    by_label = capsys.readouterr().out
    assert main(["explain", path, "--input", "1,2", "--target", "0,1,0"]) == 0
    by_row = capsys.readouterr().out

    def without_y(text):  # the target line shows 1 or [0 1 0]; everything else is equal
        return [line for line in text.splitlines() if not line.startswith("  y ")]

    assert without_y(by_row) == without_y(by_label) and by_row != by_label
    assert main(["explain", path, "--input", "1,2", "--target", "1.7"]) == 1
    assert "class label" in capsys.readouterr().err


def test_a_standardize_layer_is_traced_as_the_inputs_preprocessing():
    x = np.array([[1.0, 10.0], [3.0, 30.0]])
    model = ln.Sequential(
        [
            ln.Standardize(2, dtype=np.float64).adapt(x),
            ln.Dense(2, 1, seed=0, dtype=np.float64),
        ]
    )
    trace = ln.explain(model, x[:1], y=[[1.0]], loss="mse")
    np.testing.assert_allclose(trace.layers[0].x, [[-1.0, -1.0]])  # (x - mean) / scale
    assert "standardize (Standardize): the inputs x become (x - mean) / scale" in trace.notes[0]
    assert "mean = [ 2. 20.]" in trace.notes[0] and "scale = [ 1. 10.]" in trace.notes[0]
    np.testing.assert_allclose(trace.y_hat, model.predict(x[:1]))


def test_a_standardize_models_new_prediction_standardizes_once():
    x = np.array([[1.0, 10.0], [3.0, 30.0]])
    model = ln.Sequential(
        [ln.Standardize(2, dtype=np.float64).adapt(x), ln.Dense(2, 1, seed=0, dtype=np.float64)]
    )
    trace = ln.explain(model, x[:1], y=[[1.0]], loss="mse", learning_rate=1e-12)
    np.testing.assert_allclose(trace.new_y_hat, trace.y_hat)  # a step of ~0 changes ~nothing


# --- convolutional networks ---------------------------------------------------------------


def small_cnn(dtype=np.float32, batch_norm=False):
    """8x8x2 images: conv 3x3 (same) -> [BatchNorm] -> ReLU -> max-pool 2 -> conv 3x3 ->
    average-pool 1 -> flatten -> Dense -> softmax."""
    layers = [
        ln.Conv2D(2, 3, 3, padding="same", seed=0, dtype=dtype, name="conv"),
        *([ln.BatchNorm(3, dtype=dtype, name="bn")] if batch_norm else []),
        ln.ReLU(),
        ln.MaxPool2D(2, name="pool"),
        ln.Conv2D(3, 4, 3, seed=1, dtype=dtype, name="conv2"),
        ln.AvgPool2D(1, name="avg"),
        ln.Flatten(name="flat"),
        ln.Dropout(0.5),
        ln.Dense(2 * 2 * 4, 3, seed=2, dtype=dtype, name="head"),
        ln.Softmax(),
    ]
    model = ln.Sequential(layers, input_shape=(8, 8, 2))
    for layer in model.layers:
        if isinstance(layer, ln.Conv2D):  # biases that show in the sums
            layer.bias[:] = np.linspace(-0.2, 0.3, layer.out_channels)
    return model


def image(seed=0, shape=(8, 8, 2)):
    return np.random.default_rng(seed).standard_normal(shape)


def test_a_cnn_trace_has_every_layers_shapes_as_summary_counts_them():
    model = small_cnn()
    t = ln.explain(model, image())
    expected = model.shapes((8, 8, 2))
    assert [s.name for s in t.shapes] == [layer.name for layer in model.layers]
    assert [s.output[1:] for s in t.shapes] == expected
    assert [s.input[1:] for s in t.shapes] == [(8, 8, 2), *expected[:-1]]
    assert all(s.input[0] == 1 for s in t.shapes)
    counts = [sum(p.value.size for p in layer.parameters()) for layer in model.layers]
    assert [s.parameters for s in t.shapes] == counts == [57, 0, 0, 112, 0, 0, 0, 51, 0]
    summary = str(model)  # summary() prints the same shapes and counts
    for s in t.shapes:
        line = next(row for row in summary.splitlines() if row.startswith(s.name + " "))
        assert "(batch, " + ", ".join(map(str, s.output[1:])) + ")" in line
        assert line.endswith(f"{s.parameters:,}")
    # the trace's own arrays have those shapes
    kinds = [layer.kind for layer in t.layers]
    assert kinds == ["Conv2D", "MaxPool2D", "Conv2D", "AvgPool2D", "Flatten", "Dense"]
    assert [layer.a.shape for layer in t.layers] == [
        (1, 8, 8, 3),
        (1, 4, 4, 3),
        (1, 2, 2, 4),
        (1, 2, 2, 4),
        (1, 16),
        (1, 3),
    ]


def test_the_worked_convolution_is_the_layers_output_and_the_sum_over_its_window():
    model = small_cnn(np.float64)
    x = image()
    t = ln.explain(model, x)
    conv = t.layers[0]
    w = conv.worked
    assert (w.row, w.col, w.channel) == (3, 3, 0)  # the centre of the 8x8 output, filter 0
    assert w.output == conv.z[0, 3, 3, 0]
    assert w.value == pytest.approx(conv.z[0, 3, 3, 0], abs=1e-12)
    # the window of the input, the kernel of filter 0, and the sum written out here
    np.testing.assert_array_equal(w.x, x[2:5, 2:5, :])
    np.testing.assert_array_equal(w.kernel, model.layers[0].weights[:, :, :, 0])
    total = sum(
        x[2 + a, 2 + b, c] * w.kernel[a, b, c] for a in range(3) for b in range(3) for c in range(2)
    )
    assert w.total == pytest.approx(total, abs=1e-12)
    assert w.value == pytest.approx(total + model.layers[0].bias[0], abs=1e-12)
    # a corner position reaches into the zero padding
    corner = ln.explain(model, x, positions={"conv": (0, 7, 2)}).layers[0].worked
    assert corner.padding[0].all() and corner.padding[:, 2].all() and not corner.padding[1, 1]
    assert corner.value == pytest.approx(conv.z[0, 0, 7, 2], abs=1e-12)


def test_the_worked_pooling_and_batch_norm_numbers_are_the_layers():
    model = small_cnn(batch_norm=True)
    norm = model.layers[1]
    norm.buffers()[0].value[:] = [0.1, -0.2, 0.3]
    norm.buffers()[1].value[:] = [2.0, 0.5, 1.5]
    t = ln.explain(model, image(1), positions={"pool": (1, 2, 2), "bn": (4, 5, 1)})
    conv, bn, pool = t.layers[:3]
    p = pool.worked
    np.testing.assert_array_equal(p.window, bn.a[0, 2:4, 4:6, 2])  # after the ReLU
    assert p.value == p.output == bn.a[0, 2:4, 4:6, 2].max() == pool.z[0, 1, 2, 2]
    a, b = p.argmax
    assert p.window[a, b] == p.value
    n = bn.worked
    x_hat = (conv.z[0, 4, 5, 1] - (-0.2)) / np.sqrt(np.float32(0.5) + 1e-5)
    assert n.value == pytest.approx(x_hat, rel=1e-5) and n.output == bn.z[0, 4, 5, 1]
    assert any("bn (BatchNorm) normalizes with its running statistics" in s for s in t.notes)


def test_cnn_gradients_are_the_librarys_own_and_the_model_is_left_alone():
    model = small_cnn(np.float64, batch_norm=True)
    x = np.stack([image(0), image(1)])
    before = [w.copy() for w in model.get_weights()]
    t = ln.explain(model, x, y=[0, 2], learning_rate=0.05)
    for w, b in zip(model.get_weights(), before, strict=True):
        np.testing.assert_array_equal(w, b)
    result = ln.loss_and_gradients(model, x, np.array([0, 2]), "crossentropy", training=False)
    assert t.loss == pytest.approx(result.loss)
    grads = {p.name: p.grad for p in model.parameters()}
    conv, bn, _, conv2 = t.layers[:4]
    np.testing.assert_allclose(conv.grad_params["weights"], grads["conv.weights"], atol=1e-12)
    np.testing.assert_allclose(conv2.grad_params["bias"], grads["conv2.bias"], atol=1e-12)
    np.testing.assert_allclose(bn.grad_params["gamma"], grads["bn.gamma"], atol=1e-12)
    np.testing.assert_allclose(t.layers[-1].grad_weights, grads["head.weights"], atol=1e-12)
    np.testing.assert_allclose(conv.grad_x, result.grad_input, atol=1e-12)
    # the gradient at a worked position is dL/dz there
    assert conv2.worked.grad_output == conv2.delta[conv2.worked.index]
    # the update moves every parameter, convolutions and BatchNorm included
    np.testing.assert_allclose(
        conv.new_params["weights"], conv.params["weights"] - 0.05 * conv.grad_params["weights"]
    )
    np.testing.assert_allclose(
        bn.new_params["beta"], bn.params["beta"] - 0.05 * bn.grad_params["beta"]
    )
    stepped = small_cnn(np.float64, batch_norm=True)
    stepped.set_weights(before)
    for layer in stepped.layers:
        for p in layer.parameters():
            p.value -= 0.05 * grads[p.name]
    np.testing.assert_allclose(t.new_y_hat, stepped.predict(x), atol=1e-12)
    assert t.new_loss < t.loss


def test_a_layer_whose_output_is_not_its_formula_stops_the_trace(monkeypatch):
    model = small_cnn()
    original = ln.Conv2D.forward

    def off_by_a_little(self, x, training=False):
        z = original(self, x, training)
        z[0, 3, 3, 0] += 1e-3  # the position explain works out by default
        return z

    monkeypatch.setattr(ln.Conv2D, "forward", off_by_a_little)
    with pytest.raises(RuntimeError, match=r"conv: the value worked out at z\[0, 3, 3, 0\]"):
        ln.explain(model, image())


def test_cnn_inputs_one_image_a_batch_and_clear_errors():
    model = small_cnn()
    one = ln.explain(model, image())
    batch = ln.explain(model, np.stack([image(), image(1)]))
    np.testing.assert_allclose(batch.y_hat[:1], one.y_hat, rtol=1e-6)
    gray = ln.Sequential([ln.Conv2D(1, 2, 3), ln.Flatten(), ln.Dense(8, 1)], input_shape=(4, 4, 1))
    with pytest.raises(ValueError, match=r"takes images \(4, 4, 1\).*x\[\.\.\., None\]"):
        ln.explain(gray, np.zeros((4, 4)))
    with pytest.raises(ValueError, match=r"x.reshape\(-1, 4, 4, 1\)"):
        ln.explain(gray, np.zeros(16))
    with pytest.raises(ValueError, match="which is not a convolution"):
        ln.explain(model, image(), positions={"head": (0,)})
    with pytest.raises(ValueError, match=r"position \(8, 0, 0\) is outside the output of conv"):
        ln.explain(model, image(), positions={"conv": (8, 0, 0)})


def test_cnn_renderings_show_the_worked_numbers_and_stay_short():
    model = small_cnn(batch_norm=True)
    t = ln.explain(model, image(), y=[1], learning_rate=0.1)
    conv = t.layers[0].worked
    text, md, page = t.to_text(), t.to_markdown(), t.to_html()
    assert "Shapes, layer by layer" in text and "(1, 8, 8, 3)" in text
    assert "Worked: z[0, 3, 3, 0], filter 0 at output row 3, column 3" in text
    assert "x[2..4, 2..4, 0]" in text and "W[:, :, 1, 0]" in text
    assert f"  z[0, 3, 3, 0]    = sum + b = {conv.value:.4f}" in text  # "=" aligned
    assert f"(the layer's own output: {conv.output:.4f})" in text
    assert "||dL/dW||" in text and "dL/dx[2..3, 2..3, 0]" in text  # the pooled window
    assert "Note: bn (BatchNorm)" in text
    assert r"z_1[0,3,3,0] = \sum x W + b_1[0]" in md and "| conv | Conv2D |" in md
    for rendering in (text, md, page):
        assert "nan" not in rendering and len(rendering) < 40_000
    parser = _Tags()
    parser.feed(page)
    assert "script" not in parser.tags and parser.tags.count("th") == 5  # the shapes table
    assert parser.tags.count("circle") == 9 + 3  # the Dense head: 7 + ellipsis + 2 of 16 inputs


def test_a_28x28_network_with_many_channels_is_abbreviated():
    layers = [ln.Conv2D(1, 32, 3, seed=0), ln.ReLU(), ln.MaxPool2D(2)]
    layers += [ln.Conv2D(32, 64, 3, seed=1), ln.ReLU(), ln.GlobalAveragePooling2D()]
    model = ln.Sequential(
        [*layers, ln.Dense(64, 10, seed=2), ln.Softmax()], input_shape=(28, 28, 1)
    )
    t = ln.explain(model, image(shape=(28, 28, 1)), y=[3], learning_rate=0.1)
    text = t.to_text()
    assert "channels 3..31 appear only here" in text
    assert len(text.splitlines()) < 250 and len(t.to_html()) < 60_000


def test_cli_explains_a_cnn_model_file_from_a_npy_image(tmp_path, capsys):
    from lucidnet.cli import main

    model = small_cnn()
    model.save(str(tmp_path / "cnn.lucid"))
    np.save(tmp_path / "x.npy", image())
    args = ["explain", str(tmp_path / "cnn.lucid"), "--input", str(tmp_path / "x.npy")]
    assert main([*args, "--target", "2", "--position", "conv=1,2,1", "--lr", "0.1"]) == 0
    out = capsys.readouterr().out
    expected = ln.explain(model, image(), y=[2], learning_rate=0.1, positions={"conv": (1, 2, 1)})
    assert out == expected.to_text() + "\n"
    assert "Worked: z[0, 1, 2, 1]" in out
    pixels = ",".join(str(v) for v in image().astype(np.float32).reshape(-1))
    assert main(["explain", str(tmp_path / "cnn.lucid"), "--input", pixels]) == 0
    assert "Worked: z[0, 3, 3, 0]" in capsys.readouterr().out
    assert main([*args, "--position", "conv:1"]) == 1
    assert "--position must be LAYER=ROW,COLUMN,CHANNEL" in capsys.readouterr().err


def test_a_network_ending_in_a_convolution_renders_its_image_output_by_shape():
    model = ln.Sequential([ln.Conv2D(1, 2, 3, seed=0), ln.ReLU()], input_shape=(5, 5, 1))
    t = ln.explain(model, image(shape=(5, 5, 1)), y=np.zeros((1, 3, 3, 2)), loss="mse")
    assert t.loss == pytest.approx(float(np.mean(t.y_hat.astype(np.float64) ** 2)), rel=1e-6)
    text = t.to_text()
    assert "Prediction y_hat: (1 x 3 x 3 x 2), not printed" in text
    assert "y: (1 x 3 x 3 x 2), not printed" in text
    assert "$$" in t.to_markdown() and "<h2>" in t.to_html()
