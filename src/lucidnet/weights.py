"""Weights per sample and per class (Keras' ``sample_weight`` and ``class_weight``).

A sample's weight ``w_i >= 0`` scales its loss ``l_i``. The loss of a batch of ``n`` rows
is Keras' default reduction, "sum over batch size"::

    L = sum_i w_i l_i / n

so weights of 1 give the plain mean, a weight of 0 removes the sample from the gradient
(it still counts in ``n``), and a weight of 2 counts the sample twice.

``class_weight`` gives a weight per class: ``{label: weight}``, or ``"balanced"``
(scikit-learn's ``n_samples / (n_classes * bincount(y))``, where ``n_classes`` counts the
classes present in ``y``). It becomes a weight per sample, the weight of the sample's
class; a class missing from the dict weighs 1 (Keras). With both, the two weights
multiply (Keras). It needs a classification loss and one class per sample: integer
labels ``(n,)``, one-hot rows ``(n, classes)``, or 0/1 targets for one sigmoid output.

This module checks the weights and turns class weights into sample weights;
``lucidnet.losses`` applies them, ``lucidnet.training.fit`` passes them along.
"""

from __future__ import annotations

from collections.abc import Mapping
from numbers import Real
from typing import Any

import numpy as np

__all__ = ["balanced_class_weight", "check_sample_weight", "class_labels", "class_sample_weight"]


def check_sample_weight(
    sample_weight: Any, n: int, where: str, allow_all_zero: bool = False
) -> np.ndarray:
    """``sample_weight`` as a float64 array of shape ``(n,)``, checked: one real number
    per sample, finite, ``>= 0``, and (unless ``allow_all_zero``) not all zero.

    Raises ValueError naming ``where``, the shape or the first bad value and its index.
    """
    w = np.asarray(sample_weight)
    if w.dtype.kind not in "biuf":
        raise ValueError(f"{where} must be real numbers, got dtype {w.dtype}")
    if w.shape != (n,):
        raise ValueError(
            f"{where} must have shape ({n},), one weight per sample, got shape {w.shape}"
        )
    w = w.astype(np.float64, copy=False)
    # two reductions, no temporary array: NaN makes the minimum NaN, which fails ">= 0"
    if n and not (np.minimum.reduce(w) >= 0 and np.isfinite(np.maximum.reduce(w))):
        i = int(np.flatnonzero(~(np.isfinite(w) & (w >= 0)))[0])
        raise ValueError(f"{where}: weights must be finite and >= 0; index {i} has {w[i].item()!r}")
    if not allow_all_zero and n and not w.any():
        raise ValueError(
            f"{where}: every sample weight is zero, so nothing would be learned or scored"
        )
    return w


def class_labels(
    loss: Any, output_shape: tuple[int, ...] | None, y: np.ndarray, where: str
) -> tuple[np.ndarray, int]:
    """The class of each sample ``(n,)`` as integers and the number of classes, for
    ``class_weight``.

    ``loss`` must be a classification loss (``loss.task``). The classes come from the
    model's per-sample output: ``(classes,)`` with ``classes > 1`` takes integer labels
    ``(n,)`` (or a column of them) or one-hot rows ``(n, classes)``; ``(1,)`` (one
    sigmoid output) takes 0/1 targets and has two classes. Several sigmoid outputs
    (binary cross-entropy on ``(k,)``, multi-label) have no one class per sample: an error.
    """
    if getattr(loss, "task", None) != "classification":
        raise ValueError(
            f"{where} needs a classification loss; {getattr(loss, 'name', loss)!r} is a "
            "regression loss (weight the samples with sample_weight instead)"
        )
    y = np.asarray(y)
    n = len(y)
    if output_shape is None or len(output_shape) != 1:
        raise ValueError(
            f"{where} needs a model whose output is (batch, classes), got output shape "
            f"{output_shape}"
        )
    outputs = output_shape[0]
    if outputs == 1:  # one sigmoid output: targets 0 or 1
        classes = 2
        labels = y.reshape(n, -1) if y.ndim > 1 else y.reshape(n, 1)
        if labels.shape[1] != 1:
            raise ValueError(f"{where}: targets have shape {y.shape}, expected ({n},) or ({n}, 1)")
        labels = labels[:, 0]
        bad = ~((labels == 0) | (labels == 1))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"{where} needs targets 0 or 1 (a class per sample); row {i} has "
                f"{labels[i].item()!r}"
            )
        return labels.astype(np.intp), classes
    from .losses import BinaryCrossEntropy  # losses imports this module

    if isinstance(loss, BinaryCrossEntropy):
        raise ValueError(
            f"{where}: {outputs} sigmoid outputs trained with binary cross-entropy are "
            f"{outputs} independent yes/no targets, not one class per sample; give "
            "sample_weight instead"
        )
    classes = outputs
    if y.ndim == 2 and y.shape[1] == 1:
        y = y.reshape(-1)
    if y.ndim == 1:  # labels: already checked against the loss by fit
        bad = ~((y >= 0) & (y < classes) & (np.floor(y) == y))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"{where}: label {y[i].item()!r} at row {i} is not an integer in [0, {classes})"
            )
        return y.astype(np.intp), classes
    if y.shape != (n, classes):
        raise ValueError(
            f"{where} needs labels ({n},) or one-hot rows ({n}, {classes}), got {y.shape}"
        )
    one_hot = ((y == 0) | (y == 1)).all(axis=1) & (y.sum(axis=1) == 1)
    if not one_hot.all():
        i = int(np.flatnonzero(~one_hot)[0])
        raise ValueError(
            f"{where} needs one class per sample, but row {i} of the targets is not one-hot "
            f"({y[i].tolist()}); give sample_weight instead"
        )
    return np.argmax(y, axis=1).astype(np.intp), classes


def balanced_class_weight(labels: np.ndarray, classes: int) -> dict[int, float]:
    """scikit-learn's ``"balanced"`` weights: ``n_samples / (n_classes * count(class))``
    for each class present in ``labels`` (``n_classes`` counts those present)."""
    counts = np.bincount(labels, minlength=classes)
    present = np.flatnonzero(counts)
    scale = len(labels) / len(present)
    return {int(k): float(scale / counts[k]) for k in present}


def _check_class_weight(class_weight: Any, classes: int, where: str) -> dict[int, float]:
    if not isinstance(class_weight, Mapping):
        raise ValueError(
            f"{where} must be a dict {{class label: weight}} or 'balanced', got {class_weight!r}"
        )
    table: dict[int, float] = {}
    for key, value in class_weight.items():
        if isinstance(key, (bool, np.bool_)) or not isinstance(key, (int, np.integer)):
            raise ValueError(f"{where}: class labels must be integers, got the key {key!r}")
        if not 0 <= key < classes:
            raise ValueError(
                f"{where}: the key {key!r} is not a class of the model's output "
                f"(labels 0 to {classes - 1})"
            )
        if (
            isinstance(value, (bool, np.bool_))
            or not isinstance(value, Real)
            or not np.isfinite(value)
            or value < 0
        ):
            raise ValueError(
                f"{where}: the weight of class {key} must be a finite number >= 0, got {value!r}"
            )
        table[int(key)] = float(value)
    return table


def class_sample_weight(
    class_weight: Mapping[int, float] | str,
    loss: Any,
    output_shape: tuple[int, ...] | None,
    y: np.ndarray,
    where: str = "class_weight",
) -> np.ndarray:
    """The weight of each sample's class, float64 ``(n,)``; a class missing from the dict
    weighs 1. ``"balanced"`` computes the weights from ``y`` (``balanced_class_weight``).

    Raises ValueError for a regression loss, targets that are not one class per sample,
    a key outside the model's classes (named), or a weight that is not finite and >= 0.
    """
    labels, classes = class_labels(loss, output_shape, y, where)
    if isinstance(class_weight, str):
        if class_weight != "balanced":
            raise ValueError(
                f"{where} must be a dict {{class label: weight}} or 'balanced', got "
                f"{class_weight!r}"
            )
        table = balanced_class_weight(labels, classes)
    else:
        table = _check_class_weight(class_weight, classes, where)
    lookup = np.ones(classes, dtype=np.float64)
    for key, value in table.items():
        lookup[key] = value
    return lookup[labels]
