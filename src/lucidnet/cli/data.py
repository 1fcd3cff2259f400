"""The data sets of ``--data``: loading, the train/test split, classification or regression,
and the data contract each one carries into the model file (``lucidnet.data_contract``)."""

from __future__ import annotations

import os
from typing import NamedTuple

import numpy as np

from ..data_contract import DataContract, fit_contract

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
    contract: DataContract | None = None  # what the model file stores about the data
    feature_names: list[str] | None = None  # the names of the model's inputs, where known


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


def image_shape_of(source: str, features: int) -> tuple[int, int, int]:
    """The channels-last image shape of each row of a ``--data`` image set (``--conv``):
    28x28x1 for fashion-mnist and mnist, 8x8x1 for digits. Raises ValueError for other
    data (a CSV's columns are features, not pixels in a known shape)."""
    shapes = {"fashion-mnist": (28, 28, 1), "fashion_mnist": (28, 28, 1), "mnist": (28, 28, 1)}
    shapes["digits"] = (8, 8, 1)
    shape = shapes.get(source.lower())
    if shape is None or shape[0] * shape[1] != features:
        raise ValueError(
            f"--conv needs image data (fashion-mnist, mnist or digits), not {source!r}; "
            "leave --conv out to train an MLP"
        )
    return shape


def _holdout(x: np.ndarray, y: np.ndarray, fraction: float, seed: int, classes: int) -> Split:
    """A seeded split of a built-in labelled data set (its labels are ``0..classes-1``)."""
    order = np.random.default_rng(seed).permutation(len(x))
    cut = len(x) - max(1, round(len(x) * fraction))
    train, test = order[:cut], order[cut:]
    return Split(x[train], y[train], x[test], y[test], classes)


def _with_contract(split: Split, source: str, seed: int | None = None) -> Split:
    """``split`` with the contract of an array data set (built in: no CSV columns); the
    ``seed`` of its split, for those split by one (``evaluate`` uses the same)."""
    names = split.class_names or [str(k) for k in range(split.classes or 0)]
    contract = DataContract(
        source,
        "regression" if split.classes is None else "classification",
        class_names=None if split.classes is None else list(names),
        split={} if seed is None else {"seed": int(seed)},
    )
    return split._replace(contract=contract)


def load_csv_split(source: str, target: str, task: str, seed: int) -> Split:
    """A CSV file through its data contract: features by name (text columns one-hot),
    targets by the task rule, a seeded 80/20 split whose test rows the contract keeps."""
    from ..datasets.tabular import read_raw

    column: int | str = int(target) if target.lstrip("-").isdigit() else target
    fitted = fit_contract(read_raw(source), column, task=task, seed=seed, test_fraction=0.2)
    contract = fitted.contract
    contract.split["path"] = os.path.abspath(source)  # where evaluate looks by default
    train, test = fitted.train_rows, fitted.test_rows
    names = None if contract.class_names is None else [str(n) for n in contract.class_names]
    classes = None if names is None else len(names)
    return Split(
        fitted.x[train],
        fitted.y[train],
        fitted.x[test],
        fitted.y[test],
        classes,
        names,
        contract,
        contract.input_names,
    )


def load_data(source: str, seed: int = 0, target: str = "-1", task: str = "auto") -> Split:
    """The train/test split for a ``--data`` value (see ``DATA_HELP``)."""
    from .. import datasets

    name = source.lower()
    if name in ("fashion-mnist", "fashion_mnist", "mnist"):
        loader = datasets.load_mnist if name == "mnist" else datasets.load_fashion_mnist
        (x_train, y_train), (x_test, y_test) = loader()
        names = None if name == "mnist" else FASHION_MNIST_CLASSES
        return _with_contract(Split(x_train, y_train, x_test, y_test, 10, names), name)
    if name == "digits":
        try:
            from sklearn.datasets import load_digits
        except ImportError as err:
            raise ValueError(
                "--data digits needs scikit-learn: pip install 'lucidnet[sklearn]'"
            ) from err
        digits = load_digits()
        x = (digits.data / 16.0).astype(np.float32)
        split = _holdout(x, digits.target.astype(np.int64), 0.25, seed, classes=10)
        return _with_contract(split, name, seed)
    if name == "xor":
        x, y = datasets.xor()
        # four points: the test set is the truth table itself
        return _with_contract(Split(x, y, x, y, 2), name)
    if name == "spirals":
        x, y = datasets.spirals(600, classes=3, noise=0.2, seed=seed)
        return _with_contract(_holdout(x, y, 0.2, seed, classes=3), name, seed)
    if source.lower().endswith(".csv"):
        return load_csv_split(source, target, task, seed)
    raise ValueError(f"--data {source!r}: expected {DATA_HELP}")
