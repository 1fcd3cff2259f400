"""The data sets of ``--data``: loading, the train/test split, classification or regression."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

DATA_HELP = (
    "fashion-mnist, mnist, digits (scikit-learn's 8x8 digits), xor, spirals, or a CSV "
    "file (its last column is the target unless --target says otherwise)"
)


class Split(NamedTuple):
    """A data set split for training and testing, and what kind of task it is."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    classes: int | None  # None for regression
    class_names: list[str] | None = None  # names of the labels 0, 1, ..., where known
    feature_names: list[str] | None = None  # the names of x's columns, where known (CSV)


FASHION_MNIST_CLASSES = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
]
IMAGE_SHAPE = (28, 28)  # MNIST and Fashion-MNIST: 784 inputs are 28x28 images

MAX_CLASSES = 1000


def _task(y: np.ndarray, task: str) -> int | None:
    """The number of classes, or None for regression.

    ``auto``: integer targets in ``[0, 1000)`` with at most 100 distinct values are class
    labels; anything else (fractions, negative or large numbers such as prices) is a
    number to predict.
    """
    labels = y.dtype.kind in "iu" and len(y) > 0 and y.min() >= 0 and y.max() < MAX_CLASSES
    if task == "regress" or (task == "auto" and not (labels and len(np.unique(y)) <= 100)):
        return None
    if not labels:
        raise ValueError(
            f"--task classify needs integer labels in [0, {MAX_CLASSES}), "
            f"got values from {y.min()} to {y.max()}"
        )
    return int(y.max()) + 1


def _holdout(x: np.ndarray, y: np.ndarray, fraction: float, seed: int, task: str) -> Split:
    if len(x) < 2:
        raise ValueError(f"the data has {len(x)} row(s); at least 2 are needed to train and test")
    order = np.random.default_rng(seed).permutation(len(x))
    cut = len(x) - max(1, round(len(x) * fraction))
    train, test = order[:cut], order[cut:]
    classes = _task(y, task)
    if classes is None:
        y = y.astype(np.float32)
    return Split(x[train], y[train], x[test], y[test], classes)


def load_data(source: str, seed: int = 0, target: str = "-1", task: str = "auto") -> Split:
    """The train/test split for a ``--data`` value (see ``DATA_HELP``)."""
    from .. import datasets

    name = source.lower()
    if name in ("fashion-mnist", "fashion_mnist", "mnist"):
        loader = datasets.load_mnist if name == "mnist" else datasets.load_fashion_mnist
        (x_train, y_train), (x_test, y_test) = loader()
        names = None if name == "mnist" else FASHION_MNIST_CLASSES
        return Split(x_train, y_train, x_test, y_test, 10, names)
    if name == "digits":
        try:
            from sklearn.datasets import load_digits
        except ImportError as err:
            raise ValueError(
                "--data digits needs scikit-learn: pip install 'lucidnet[sklearn]'"
            ) from err
        digits = load_digits()
        x = (digits.data / 16.0).astype(np.float32)
        return _holdout(x, digits.target.astype(np.int64), 0.25, seed, "classify")
    if name == "xor":
        x, y = datasets.xor()
        return Split(x, y, x, y, 2)  # four points: the test set is the truth table itself
    if name == "spirals":
        x, y = datasets.spirals(600, classes=3, noise=0.2, seed=seed)
        return _holdout(x, y, 0.2, seed, "classify")
    if source.lower().endswith(".csv"):
        column: int | str = int(target) if target.lstrip("-").isdigit() else target
        table = datasets.read_csv(source, target=column)
        split = _holdout(table.X, table.y, 0.2, seed, task)
        return split._replace(
            class_names=table.classes if split.classes else None,
            feature_names=list(table.feature_names),
        )
    raise ValueError(f"--data {source!r}: expected {DATA_HELP}")
