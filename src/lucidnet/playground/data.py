"""The playground's data: the 2-D data sets, the input features, and uploaded CSV files.

Points live in the plane ``[-6, 6] x [-6, 6]`` (TensorFlow Playground's), where the page
draws them over the network's output. Classification labels are class indices ``0 .. k-1``
(int64); regression targets are a column ``(n, 1)`` of float32.

``noise`` (0 to 0.5, the page's 0-50 %) is the standard deviation of the Gaussian added to
each coordinate, as a fraction of ``NOISE_UNIT`` (for the regression sets, to the target,
as a fraction of its range). Every set is drawn from ``numpy.random.default_rng(seed)``:
the same settings give the same points.

Input features are computed from the two coordinates, as TensorFlow Playground's are::

    x1, x2, x1^2, x2^2, x1*x2, sin(x1), sin(x2)
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ..datasets import toy
from ..datasets.tabular import read_csv

__all__ = [
    "CLASSIFICATION",
    "DOMAIN",
    "FEATURES",
    "REGRESSION",
    "Points",
    "features",
    "generate",
    "grid",
    "read_upload",
    "split",
]

DOMAIN = 6.0  # the plane drawn: [-DOMAIN, DOMAIN] on both axes
RADIUS = 5.0  # the data sets fill a disc of this radius
NOISE_UNIT = 2.5  # noise 1.0 would be a standard deviation of 2.5 in the plane
MAX_UPLOAD_BYTES = 1 << 20  # 1 MiB
MAX_UPLOAD_ROWS = 5000
MAX_CLASSES = 8

FEATURES: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "x1": lambda p: p[:, 0],
    "x2": lambda p: p[:, 1],
    "x1^2": lambda p: p[:, 0] ** 2,
    "x2^2": lambda p: p[:, 1] ** 2,
    "x1*x2": lambda p: p[:, 0] * p[:, 1],
    "sin(x1)": lambda p: np.sin(p[:, 0]),
    "sin(x2)": lambda p: np.sin(p[:, 1]),
}


class Points(NamedTuple):
    """A data set: ``points (n, 2)`` float32 in the plane and its targets; ``classes``
    names the classes (None for regression); ``domain`` is ``(x_min, x_max, y_min,
    y_max)``, the part of the plane drawn."""

    points: np.ndarray
    targets: np.ndarray
    classes: list[str] | None
    domain: tuple[float, float, float, float] = (-DOMAIN, DOMAIN, -DOMAIN, DOMAIN)

    @property
    def regression(self) -> bool:
        return self.classes is None


def _noisy(rng: np.random.Generator, points: np.ndarray, noise: float) -> np.ndarray:
    return points + rng.normal(scale=noise * NOISE_UNIT, size=points.shape)


def _xor(n: int, noise: float, rng: np.random.Generator) -> np.ndarray:
    """Uniform in the square of side ``2 RADIUS``, kept away from the axes by 0.3 (as
    TensorFlow Playground does) so that the quadrants are clear without noise."""
    p = rng.uniform(-RADIUS, RADIUS, size=(n, 2))
    p += np.where(p > 0, 0.3, -0.3)
    return p


def _gauss_centres(classes: int) -> np.ndarray:
    """Two clusters at (2, 2) and (-2, -2); more, evenly spaced on a circle of radius 3."""
    if classes == 2:
        return np.array([[-2.0, -2.0], [2.0, 2.0]])
    angle = 2 * np.pi * np.arange(classes) / classes
    return 3.0 * np.column_stack([np.cos(angle), np.sin(angle)])


def _classification(
    name: str, n: int, noise: float, classes: int, rng: np.random.Generator, seed: int
) -> tuple[np.ndarray, np.ndarray, int]:
    if name == "circle":  # class 1 inside radius 2.5, class 0 on the ring 3.5 to 5
        inner = np.arange(n) % 2 == 1
        r = np.where(inner, rng.uniform(0, 0.5, n), rng.uniform(0.7, 1.0, n)) * RADIUS
        angle = rng.uniform(0, 2 * np.pi, n)
        p = np.column_stack([r * np.cos(angle), r * np.sin(angle)])
        return _noisy(rng, p, noise), inner.astype(np.int64), 2
    if name == "xor":  # class 1 where x1 x2 > 0 (before the noise)
        p = _xor(n, noise, rng)
        labels = (p[:, 0] * p[:, 1] > 0).astype(np.int64)
        return _noisy(rng, p, noise), labels, 2
    if name == "gauss":
        labels = np.arange(n) % classes
        p = _gauss_centres(classes)[labels] + rng.normal(scale=0.6, size=(n, 2))
        return _noisy(rng, p, noise), labels.astype(np.int64), classes
    if name == "spiral":  # lucidnet.datasets.spirals, scaled to the disc
        p, labels = toy.spirals(n, classes, noise=0.05 + noise, seed=seed)
        return p.astype(np.float64) * RADIUS, labels, classes
    raise ValueError(f"playground: unknown classification data set {name!r}")


def _regression(name: str, n: int, noise: float, rng: np.random.Generator) -> tuple:
    p = rng.uniform(-RADIUS, RADIUS, size=(n, 2))
    if name == "plane":  # a tilted plane, from -1 to 1 over the disc
        y = (p[:, 0] + p[:, 1]) / (2 * RADIUS)
    elif name == "reg-gauss":  # two bumps up and two down
        centres = np.array([[-2.5, 2.5], [2.5, -2.5], [2.5, 2.5], [-2.5, -2.5]])
        signs = np.array([1.0, 1.0, -1.0, -1.0])
        d2 = ((p[:, None, :] - centres[None]) ** 2).sum(axis=2)  # (n, 4)
        y = (signs * np.exp(-d2 / 4.0)).sum(axis=1)
    else:
        raise ValueError(f"playground: unknown regression data set {name!r}")
    y = y + rng.normal(scale=noise, size=n)  # noise as a fraction of the range, about 2
    return p, y


CLASSIFICATION = ("circle", "xor", "gauss", "spiral")
REGRESSION = ("plane", "reg-gauss")


def generate(name: str, n: int, noise: float, classes: int = 2, seed: int = 0) -> Points:
    """Draw ``n`` points of the data set ``name`` (one of ``CLASSIFICATION`` or
    ``REGRESSION``); ``classes`` applies to ``gauss`` and ``spiral`` (circle and xor
    have two). The rows come shuffled."""
    rng = np.random.default_rng(seed)
    if name in REGRESSION:
        p, y = _regression(name, n, noise, rng)
        order = rng.permutation(n)
        return Points(p[order].astype(np.float32), y[order, None].astype(np.float32), None)
    p, labels, k = _classification(name, n, noise, classes, rng, seed)
    order = rng.permutation(n)
    names = [str(i) for i in range(k)]
    return Points(p[order].astype(np.float32), labels[order], names)


def split(data: Points, train_ratio: float) -> tuple[np.ndarray, np.ndarray]:
    """The rows of the training and test sets: the first ``round(n ratio)`` rows (the
    rows are shuffled), at least one in each."""
    n = len(data.points)
    n_train = min(max(round(n * train_ratio), 1), n - 1)
    return np.arange(n_train), np.arange(n_train, n)


def features(points: np.ndarray, names: list[str]) -> np.ndarray:
    """The network's inputs for ``points (n, 2)``: one column per feature name, float32."""
    unknown = [f for f in names if f not in FEATURES]
    if unknown:
        raise ValueError(
            f"playground: unknown feature {unknown[0]!r}; valid: {', '.join(FEATURES)}"
        )
    if not names:
        raise ValueError("playground: choose at least one input feature")
    return np.column_stack([FEATURES[f](points) for f in names]).astype(np.float32)


def grid(domain: tuple[float, float, float, float], size: int) -> np.ndarray:
    """``size * size`` points covering ``domain``, row by row from the top (largest x2)
    down, as the page draws a heatmap: ``(size * size, 2)`` float32. Each point is the
    centre of its cell."""
    x0, x1, y0, y1 = domain
    xs = x0 + (np.arange(size) + 0.5) * (x1 - x0) / size
    ys = y1 - (np.arange(size) + 0.5) * (y1 - y0) / size
    gx, gy = np.meshgrid(xs, ys)
    return np.column_stack([gx.ravel(), gy.ravel()]).astype(np.float32)


def read_upload(name: str, text: str) -> Points:
    """An uploaded CSV of two feature columns and a label, read by ``read_csv`` (its
    messages name the file, line and column). Labels that are whole numbers or text make
    a classification problem (at most ``MAX_CLASSES`` classes), others a regression.

    The domain drawn is the data's bounding box with a margin of a tenth of its size.
    """
    safe = Path(name or "upload.csv").name or "upload.csv"
    size = len(text.encode("utf-8"))
    if size > MAX_UPLOAD_BYTES:
        raise ValueError(f"{safe}: {size} bytes; the playground takes at most {MAX_UPLOAD_BYTES}")
    table = read_csv(safe, target=-1, text=text)
    if table.X.shape[1] != 2:
        raise ValueError(
            f"{safe}: the playground needs 2 feature columns and a label, got "
            f"{table.X.shape[1]} feature column(s) ({', '.join(table.feature_names)})"
        )
    n = len(table.X)
    if n < 2 or n > MAX_UPLOAD_ROWS:
        raise ValueError(f"{safe}: {n} rows; the playground takes 2 to {MAX_UPLOAD_ROWS}")
    lo, hi = table.X.min(axis=0), table.X.max(axis=0)
    margin = np.maximum((hi - lo) / 10, 1e-3)
    domain = (
        float(lo[0] - margin[0]),
        float(hi[0] + margin[0]),
        float(lo[1] - margin[1]),
        float(hi[1] + margin[1]),
    )
    order = np.random.default_rng(0).permutation(n)  # a fair train/test split
    points = table.X[order]
    if table.y.dtype.kind == "f":
        return Points(points, table.y[order, None].astype(np.float32), None, domain)
    if table.classes is not None:
        labels, names = table.y, list(table.classes)
    else:  # whole numbers: the classes are the distinct values, in order
        values, labels = np.unique(table.y, return_inverse=True)
        names = [str(v) for v in values]
    if len(names) > MAX_CLASSES:
        raise ValueError(
            f"{safe}: the label column has {len(names)} distinct values; the playground "
            f"classifies at most {MAX_CLASSES} classes (whole-number labels are classes; "
            "a regression target needs fractional values)"
        )
    if len(names) < 2:
        raise ValueError(f"{safe}: the label column has one value; a classifier needs two")
    return Points(points, labels[order].astype(np.int64), names, domain)
