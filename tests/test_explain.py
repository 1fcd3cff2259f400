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
