"""A training report: one standalone HTML page about a trained model.

``training_report`` writes the model summary, the test metrics (with the last epoch's
training and validation values), the training curves, the confusion matrix (a classifier)
or R² and the predicted-against-true scatter (a regression) and a grid of sample
predictions, right and wrong, into a single file. The pictures are PNGs embedded as
``data:`` URIs and the style sheet is inline, so the page opens anywhere, offline, and can
be mailed or attached as it is. Needs matplotlib (the ``plot`` extra), like
``lucidnet.plotting``.
"""

from __future__ import annotations

import base64
import datetime
import html
import io
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from . import __version__, metrics, plotting
from .layers import Conv2D
from .plotting._common import _encoded, _labels
from .serialization import _write_atomically

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from .model import Sequential

__all__ = ["training_report"]

_CSS = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #222;
       background: #f4f5f7; margin: 0; padding: 24px; }
main { max-width: 1200px; margin: 0 auto; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 0 0 12px; }
.meta { color: #666; margin-bottom: 20px; }
.row { display: flex; flex-wrap: wrap; gap: 20px; margin-bottom: 20px; }
.card { background: white; border-radius: 8px; padding: 18px 20px;
        box-shadow: 0 1px 3px rgba(0, 0, 0, 0.12); flex: 1 1 360px; min-width: 0; }
.card.wide { flex: 3 1 560px; }
.card img.plot { max-width: 100%; height: auto; display: block; margin: 0 auto; }
pre { font: 13px/1.35 ui-monospace, Menlo, Consolas, monospace; overflow-x: auto;
      background: #f7f7f9; padding: 10px; border-radius: 4px; margin: 0; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { padding: 4px 12px; text-align: right; border-bottom: 1px solid #e5e5e5; }
th:first-child, td:first-child { text-align: left; }
th { font-weight: 600; color: #444; }
.big { font-size: 30px; font-weight: 600; color: #0877bd; }
.groups { display: flex; flex-wrap: wrap; gap: 8px 40px; }
.group { flex: 0 1 auto; min-width: 0; }
h3 { font-size: 15px; margin: 4px 0 8px; }
.samples { display: flex; flex-wrap: wrap; gap: 10px; }
figure { margin: 0; width: 104px; text-align: center; font-size: 12px; }
figure img { width: 84px; height: 84px; image-rendering: pixelated;
             border: 3px solid; border-radius: 4px; }
figure.right img { border-color: #2ca02c; }
figure.wrong img { border-color: #d62728; }
figcaption { line-height: 1.25; overflow-wrap: anywhere; }
tr.right td.mark { color: #2ca02c; }
tr.wrong td.mark { color: #d62728; }
.note { color: #666; font-size: 13px; }
"""


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _plot_img(fig: Figure, alt: str) -> str:
    return f'<img class="plot" src="{_data_uri(_encoded(fig))}" alt="{html.escape(alt)}">'


def _gray_png(image: np.ndarray, lo: float, hi: float) -> bytes:
    """An 8-bit grayscale PNG of ``image`` scaled from ``[lo, hi]`` to black..white."""
    from PIL import Image  # a dependency of matplotlib

    scaled = np.clip((image - lo) / ((hi - lo) or 1.0), 0.0, 1.0)
    buffer = io.BytesIO()
    Image.fromarray(np.round(scaled * 255).astype(np.uint8), mode="L").save(buffer, "PNG")
    return buffer.getvalue()


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], row_classes: Any = None) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = []
    for i, row in enumerate(rows):
        css = f' class="{row_classes[i]}"' if row_classes is not None else ""
        cells = "".join(
            f'<td class="mark">{c}</td>' if c in ("✓", "✗") else f"<td>{html.escape(c)}</td>"
            for c in row
        )
        body.append(f"<tr{css}>{cells}</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def _card(title: str, body: str, note: str = "", css: str = "card") -> str:
    extra = f'<p class="note">{html.escape(note)}</p>' if note else ""
    return f'<section class="{css}"><h2>{html.escape(title)}</h2>{body}{extra}</section>'


def _results_card(history: Any, test: dict[str, float], n_test: int) -> str:
    """Train, validation (last epoch) and test values of the loss and each metric."""
    logs = getattr(history, "history", history) or {}
    names = list(test)
    rows = []
    for label, prefix in (("train", ""), ("validation", "val_")):
        values = [logs.get(prefix + name) for name in names]
        if any(v for v in values):
            rows.append([label] + [f"{v[-1]:.4f}" if v else "" for v in values])
    rows.append(["test"] + [f"{test[name]:.4f}" for name in names])
    headline = ""
    if "accuracy" in test:
        headline = f'<p><span class="big">{test["accuracy"]:.1%}</span> test accuracy</p>'
    elif "R²" in test:
        headline = f'<p><span class="big">{test["R²"]:.3f}</span> test R²</p>'
    epochs = max((len(v) for v in logs.values()), default=0)
    note = f"test: {n_test} samples" + (f"; train and validation: epoch {epochs}" if epochs else "")
    return _card("Results", headline + _table(["", *names], rows), note)


def _task(model: Sequential, y_test: np.ndarray) -> str:
    """ "classification" or "regression", by the model's one rule (``is_classifier``)."""
    return "classification" if model.is_classifier else "regression"


def _test_metrics(
    model: Sequential, x: np.ndarray, y: np.ndarray, out: np.ndarray
) -> dict[str, float]:
    """The compiled loss and metrics on the test data, with accuracy for a classifier."""
    results: dict[str, float] = {}
    if getattr(model, "loss", None) is not None:
        results = model.evaluate(x, y, batch_size=1024)
    if _task(model, y) == "classification" and "accuracy" not in results:
        results["accuracy"] = metrics.accuracy(y, out)
    if _task(model, y) == "regression" and not results:
        results = {"mse": metrics.mse(y, out), "mae": metrics.mae(y, out)}
    if _task(model, y) == "regression" and len(y) >= 2:
        results["R²"] = metrics.r2_score(y, out)
    return results


def _pick(indices: np.ndarray, count: int, seed: int = 0) -> np.ndarray:
    """Up to ``count`` of ``indices``, drawn evenly at random (the same every time)."""
    if len(indices) <= count:
        return indices
    return np.sort(np.random.default_rng(seed).choice(indices, size=count, replace=False))


def _feature_header(x: np.ndarray, feature_names: Sequence[str] | None) -> list[str]:
    """The names of the first (up to) 8 columns: ``feature_names``, or ``x[j]``."""
    shown = min(x.shape[1], 8)
    if feature_names is None:
        return [f"x[{j}]" for j in range(shown)]
    return [str(name) for name in feature_names[:shown]]


def _samples_card(
    x: np.ndarray,
    y_true: np.ndarray,
    out: np.ndarray,
    names: list[str],
    image_shape: tuple[int, int] | None,
    count: int,
    feature_names: Sequence[str] | None = None,
) -> str:
    """Right predictions (drawn at random) and the most confident wrong ones."""
    pred = metrics.predicted_labels(out)
    out2 = out.reshape(len(out), -1)
    if out2.shape[1] == 1:  # one sigmoid output: the probability of the predicted class
        confidence = np.where(pred == 1, out2[:, 0], 1.0 - out2[:, 0])
    else:
        confidence = out2[np.arange(len(out2)), pred]
    right = _pick(np.flatnonzero(pred == y_true), count)
    wrong = np.flatnonzero(pred != y_true)
    wrong = wrong[np.argsort(-confidence[wrong], kind="stable")][:count]

    def name(label: int) -> str:
        return names[label] if 0 <= label < len(names) else str(label)

    parts = []
    for title, chosen, css in (
        ("right", right, "right"),
        ("wrong, most confident", wrong, "wrong"),
    ):
        parts.append(f'<div class="group"><h3>{len(chosen)} {title}</h3>')
        if len(chosen) == 0:
            parts.append('<p class="note">none</p></div>')
            continue
        if image_shape is not None:
            lo, hi = float(np.min(x)), float(np.max(x))
            figures = []
            for i in chosen:
                png = _gray_png(x[i].reshape(image_shape), lo, hi)
                caption = (
                    f"{html.escape(name(pred[i]))} {confidence[i]:.0%}"
                    f"<br>true: {html.escape(name(y_true[i]))}"
                )
                alt = f"sample {i}"
                figures.append(
                    f'<figure class="{css}"><img src="{_data_uri(png)}" alt="{alt}">'
                    f"<figcaption>{caption}</figcaption></figure>"
                )
            parts.append(f'<div class="samples">{"".join(figures)}</div></div>')
        else:
            features = _feature_header(x, feature_names)
            shown = len(features)
            header = ["row", *features, "predicted", "p", "true", ""]
            rows = [
                [
                    str(i),
                    *(f"{v:.4g}" for v in x[i, :shown]),
                    name(pred[i]),
                    f"{confidence[i]:.2f}",
                    name(y_true[i]),
                    "✓" if pred[i] == y_true[i] else "✗",
                ]
                for i in chosen
            ]
            parts.append(_table(header, rows, [css] * len(rows)) + "</div>")
    return _card("Sample predictions", f'<div class="groups">{"".join(parts)}</div>')


def _regression_card(
    x: np.ndarray,
    y_true: np.ndarray,
    out: np.ndarray,
    count: int,
    feature_names: Sequence[str] | None = None,
) -> str:
    """The closest and the furthest predictions, as a table."""
    pred = out.reshape(len(out), -1)
    truth = y_true.reshape(len(y_true), -1)
    if pred.shape[1] > 1:  # several outputs: rank rows by their largest error, show output 0
        error = np.abs(pred - truth).max(axis=1)
    else:
        error = np.abs(pred - truth)[:, 0]
    several = pred.shape[1] > 1
    pred, y_true = pred[:, 0], truth[:, 0]
    order = np.argsort(error, kind="stable")
    features = _feature_header(x, feature_names)
    shown = len(features)
    which = " (output 0)" if several else ""
    header = [
        "row",
        *features,
        f"predicted{which}",
        f"true{which}",
        "|error|" + (" (largest)" if several else ""),
    ]
    parts = []
    for title, chosen in (("closest", order[:count]), ("furthest", order[::-1][:count])):
        rows = [
            [
                str(i),
                *(f"{v:.4g}" for v in x[i, :shown]),
                f"{pred[i]:.4g}",
                f"{y_true[i]:.4g}",
                f"{error[i]:.4g}",
            ]
            for i in chosen
        ]
        parts.append(
            f'<div class="group"><h3>{len(chosen)} {title}</h3>{_table(header, rows)}</div>'
        )
    return _card("Sample predictions", f'<div class="groups">{"".join(parts)}</div>')


def training_report(
    model: Sequential,
    history: Any,
    x_test: Any,
    y_test: Any,
    path: str | Path,
    class_names: Sequence[str] | None = None,
    image_shape: tuple[int, int] | None = None,
    title: str = "lucidnet training report",
    samples: int = 10,
    feature_names: Sequence[str] | None = None,
) -> str:
    """Write one standalone HTML page about ``model`` to ``path``; return the HTML.

    ``history`` is what ``fit`` returned (a ``History`` or its dict; None leaves out the
    curves). ``(x_test, y_test)`` are the test data: rows ``(n, features)`` and labels
    (classification) or numbers (regression, a model compiled with ``"mse"``). With
    ``image_shape=(28, 28)`` the sample predictions are drawn as images (and the first
    layer's weights too); otherwise they are tables of feature values. ``samples`` is how
    many right and how many wrong predictions to show; ``feature_names`` names the
    columns of ``x_test`` in its tables (``x[0]``, ``x[1]``, ... without). A regression
    gets R² and a picture of its predictions against the true values. The file is
    written atomically.
    """
    x = np.asarray(x_test)
    y = np.asarray(y_test)
    if x.ndim != 2 or len(x) == 0:
        raise ValueError(f"training_report: x_test must be rows (n, features), got {x.shape}")
    if len(y) != len(x):
        raise ValueError(f"training_report: x_test has {len(x)} rows but y_test has {len(y)}")
    if image_shape is not None and int(np.prod(image_shape)) != x.shape[1]:
        raise ValueError(
            f"training_report: image_shape {tuple(image_shape)} has {int(np.prod(image_shape))} "
            f"pixels, but x_test has {x.shape[1]} columns"
        )
    if feature_names is not None and len(feature_names) != x.shape[1]:
        raise ValueError(
            f"training_report: {len(feature_names)} feature_names for {x.shape[1]} columns"
        )
    plotting.require_matplotlib()
    out = model.predict_proba(x, batch_size=1024)
    task = _task(model, y)
    test = _test_metrics(model, x, y, out)

    top = [_results_card(history, test, len(x))]
    top.append(_card("Model", f"<pre>{html.escape(str(model))}</pre>", _compiled(model)))
    cards = [f'<div class="row">{"".join(top)}</div>']
    if history is not None and any(getattr(history, "history", history).values()):
        curves = _plot_img(plotting.training_curves(history), "training curves")
        cards.append(f'<div class="row">{_card("Training", curves)}</div>')
    pictures = []
    if task == "classification":
        labels = _labels(y, len(x), "training_report")
        k = max(out.shape[1] if out.ndim == 2 and out.shape[1] > 1 else 2, labels.max() + 1)
        names = [str(n) for n in class_names] if class_names else [str(i) for i in range(k)]
        if len(names) < k:
            raise ValueError(f"training_report: {len(names)} class_names for {k} classes")
        matrix = plotting.confusion_matrix(labels, out, labels=names[:k])
        pictures.append(
            _card("Confusion matrix", _plot_img(matrix, "confusion matrix"), css="card wide")
        )
        if x.shape[1] == 2:
            boundary = plotting.decision_boundary(model, x, labels, class_names=names)
            pictures.append(_card("Decision boundary", _plot_img(boundary, "decision boundary")))
    if task == "regression" and len(x) >= 2:
        scatter = plotting.predicted_vs_true(y, out)
        pictures.append(
            _card(
                "Predicted against true",
                _plot_img(scatter, "predictions against the true values"),
                "Each point a test sample; a perfect model's points lie on the grey line.",
            )
        )
    if any(isinstance(layer, Conv2D) for layer in model.layers):
        filters = plotting.plot_filters(model)
        pictures.append(
            _card(
                "What the first convolution looks for",
                _plot_img(filters, "first-convolution filters"),
                "Each filter's kernel (the mean over its input channels): blue weights raise "
                "its output, orange ones lower it.",
            )
        )
    elif image_shape is not None:
        weights = plotting.first_layer_weights(model, shape=tuple(image_shape), max_units=36)
        pictures.append(
            _card(
                "What the first layer looks for",
                _plot_img(weights, "first-layer weights"),
                "Each unit's weights over the image: blue pixels raise it, orange ones lower it.",
            )
        )
    if pictures:
        cards.append(f'<div class="row">{"".join(pictures)}</div>')
    if task == "classification":
        shape = tuple(image_shape) if image_shape is not None else None
        cards.append(_samples_card(x, labels, out, names, shape, samples, feature_names))
    else:
        cards.append(_regression_card(x, y.astype(np.float64), out, samples, feature_names))

    written = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    page = (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head>\n"
        f"<body><main><h1>{html.escape(title)}</h1>"
        f'<p class="meta">{task}, written {written} by lucidnet {__version__}</p>\n'
        + "\n".join(cards)
        + "\n</main></body></html>\n"
    )
    _write_atomically(Path(path), page.encode("utf-8"))
    return page


def _compiled(model: Sequential) -> str:
    if getattr(model, "loss", None) is None:
        return "not compiled"
    return f"loss {model.loss!r}, optimizer {model.optimizer!r}"
