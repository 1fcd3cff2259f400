"""lucidnet.report: one standalone HTML page, every picture embedded, nothing fetched."""

import base64
import io
import sys
from html.parser import HTMLParser

import numpy as np
import pytest

import lucidnet as ln
from lucidnet.report import training_report

PIL = pytest.importorskip("PIL.Image")
pytest.importorskip("matplotlib")

PNG_URI = "data:image/png;base64,"


class _Page(HTMLParser):
    """The page's <img> sources, the text of its <pre> blocks, and every attribute."""

    def __init__(self):
        super().__init__()
        self.images, self.pre, self.attributes, self.tags = [], [], [], []
        self._in_pre = False

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attributes += [value or "" for _, value in attrs]
        if tag == "img":
            self.images.append(dict(attrs)["src"])
        self._in_pre = self._in_pre or tag == "pre"

    def handle_endtag(self, tag):
        if tag == "pre":
            self._in_pre = False

    def handle_data(self, data):
        if self._in_pre:
            self.pre.append(data)


def _parse(path):
    page = _Page()
    text = path.read_text(encoding="utf-8")
    page.feed(text)
    page.close()
    return page, text


def _assert_standalone(page, text):
    """Every image is an embedded PNG that decodes; no external resource anywhere."""
    assert "http://" not in text and "https://" not in text
    assert not [a for a in page.attributes if a.startswith(("//", "file:"))]
    assert not {"script", "link", "iframe"} & set(page.tags)
    for src in page.images:
        assert src.startswith(PNG_URI), src[:40]
        png = base64.b64decode(src[len(PNG_URI) :], validate=True)
        with PIL.open(io.BytesIO(png)) as image:
            assert image.format == "PNG"
            image.verify()


def _trained(x, y, model, loss, epochs=3):
    model.compile(loss, ln.Adam(lr=0.05), metrics=["accuracy"] if loss != "mse" else ["mae"])
    history = model.fit(x, y, epochs=epochs, validation_split=0.25, verbose=0, seed=0)
    return model, history


def _shown(model, x, y, samples=10):
    right = int(np.sum(model.predict_classes(x) == y))
    return min(right, samples) + min(len(y) - right, samples)


def test_a_report_on_image_data(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.random((80, 64), dtype=np.float32)  # 8x8 "images"
    y = (x[:, :32].mean(axis=1) > x[:, 32:].mean(axis=1)).astype(np.int64)
    model = ln.Sequential(
        [ln.Dense(64, 6, seed=0), ln.ReLU(), ln.Dense(6, 2, seed=1), ln.Softmax()]
    )
    model, history = _trained(x[:60], y[:60], model, "crossentropy")
    path = tmp_path / "report.html"
    html = training_report(
        model, history, x[60:], y[60:], path, class_names=["left", "right"], image_shape=(8, 8)
    )
    page, text = _parse(path)
    assert text == html
    _assert_standalone(page, text)
    assert str(model) in "".join(page.pre)
    # curves + confusion matrix + first-layer weights + one image per sample shown: up to
    # 10 right and up to 10 wrong ones
    assert len(page.images) == 3 + _shown(model, x[60:], y[60:])
    assert "<h2>Confusion matrix</h2>" in text and "<h2>Sample predictions</h2>" in text
    test = model.evaluate(x[60:], y[60:])
    assert f"{test['accuracy']:.4f}" in text and f"{test['loss']:.4f}" in text
    assert "true: left" in text or "true: right" in text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]  # no temp file left


def test_a_report_on_tabular_2d_data_adds_the_decision_boundary(tmp_path):
    x, y = ln.datasets.moons(80, noise=0.2, seed=0)
    model = ln.Sequential([ln.Dense(2, 4, seed=0), ln.Tanh(), ln.Dense(4, 1, seed=0), ln.Sigmoid()])
    model, history = _trained(x[:60], y[:60], model, "binary_crossentropy", epochs=2)
    path = tmp_path / "moons.html"
    training_report(model, history.history, x[60:], y[60:], path, title="Moons <test>")
    page, text = _parse(path)
    _assert_standalone(page, text)
    assert len(page.images) == 3  # curves, confusion matrix, decision boundary
    assert "<h1>Moons &lt;test&gt;</h1>" in text  # escaped
    assert "<th>x[0]</th><th>x[1]</th><th>predicted</th>" in text  # a table of rows
    assert text.count("<tr class=") == _shown(model, x[60:], y[60:])  # one row per sample


def test_a_regression_report_has_r2_and_predicted_against_true_not_a_confusion_matrix(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(50, 3)).astype(np.float32)
    y = (x @ np.array([1.0, -2.0, 0.5])).astype(np.float32)
    model, history = _trained(x, y, ln.Sequential([ln.Dense(3, 1, seed=0)]), "mse")
    path = tmp_path / "regression.html"
    training_report(model, history, x, y, path, samples=5)
    page, text = _parse(path)
    _assert_standalone(page, text)
    assert len(page.images) == 2  # the curves, predicted against true
    assert "Confusion matrix" not in text and "<h2>Predicted against true</h2>" in text
    assert "5 closest" in text and "5 furthest" in text and "mae" in text
    r2 = ln.metrics.r2_score(y, model.predict(x))
    assert f'<span class="big">{r2:.3f}</span> test R²' in text
    assert "<th>R²</th>" in text and f"<td>{r2:.4f}</td>" in text


def test_the_tables_name_the_columns_by_their_feature_names(tmp_path):
    x, y = ln.datasets.moons(40, noise=0.2, seed=0)
    model = ln.Sequential([ln.Dense(2, 1, seed=0), ln.Sigmoid()])
    page = training_report(model, None, x, y, tmp_path / "c.html", feature_names=["a", "b&c"])
    assert "<th>row</th><th>a</th><th>b&amp;c</th><th>predicted</th>" in page
    assert "x[0]" not in page
    reg = ln.Sequential([ln.Dense(2, 1, seed=0)]).compile("mse", "sgd")
    page = training_report(reg, None, x, x[:, 0], tmp_path / "r.html", feature_names=["a", "b"])
    assert "<th>row</th><th>a</th><th>b</th><th>predicted</th>" in page
    with pytest.raises(ValueError, match="3 feature_names for 2 columns"):
        training_report(model, None, x, y, tmp_path / "e.html", feature_names=["a", "b", "c"])


def test_report_without_history_or_compile(tmp_path):
    x, y = ln.datasets.moons(20, seed=0)
    model = ln.Sequential([ln.Dense(2, 4, seed=0), ln.Tanh(), ln.Dense(4, 1, seed=0), ln.Sigmoid()])
    training_report(model, None, x, y, tmp_path / "r.html")
    page, text = _parse(tmp_path / "r.html")
    assert "not compiled" in text and "<h2>Training</h2>" not in text
    assert len(page.images) == 2  # confusion matrix, decision boundary


def test_report_errors(tmp_path, monkeypatch):
    x, y = ln.datasets.moons(20, seed=0)
    model = ln.Sequential([ln.Dense(2, 1, seed=0), ln.Sigmoid()])
    with pytest.raises(ValueError, match=r"image_shape \(28, 28\) has 784 pixels"):
        training_report(model, None, x, y, tmp_path / "r.html", image_shape=(28, 28))
    with pytest.raises(ValueError, match="x_test has 20 rows but y_test has 19"):
        training_report(model, None, x, y[:-1], tmp_path / "r.html")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        training_report(model, None, x, y, tmp_path / "missing" / "r.html")
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match=r"lucidnet\[plot\]"):
        training_report(model, None, x, y, tmp_path / "r.html")
    assert not list(tmp_path.iterdir())


def test_a_sigmoid_classifier_trained_with_mse_is_still_a_classifier(tmp_path):
    x, y = ln.datasets.xor()
    model = ln.Sequential([ln.Dense(2, 4, seed=0), ln.Tanh(), ln.Dense(4, 1, seed=1), ln.Sigmoid()])
    model.compile("mse", ln.SGD(0.5))  # seed 001's way
    history = model.fit(x, y.astype(np.float32), epochs=5, batch_size=4, verbose=0)
    page = training_report(model, history, x, y.astype(np.float32), tmp_path / "r.html")
    assert "Confusion matrix" in page and "closest" not in page


def test_multi_output_regression_ranks_rows_by_their_largest_error(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 3)).astype(np.float32)
    y = np.column_stack([x.sum(axis=1), x[:, 0]]).astype(np.float32)
    model = ln.Sequential([ln.Dense(3, 8, seed=0), ln.Tanh(), ln.Dense(8, 2, seed=1)])
    model.compile("mse", "adam")
    history = model.fit(x, y, epochs=3, verbose=0)
    page = training_report(model, history, x, y, tmp_path / "r.html")
    assert "predicted (output 0)" in page and "|error| (largest)" in page
