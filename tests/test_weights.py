"""``lucidnet.weights``: sample weights checked, class weights turned into sample weights
(dicts and scikit-learn's "balanced"), and every error named."""

from __future__ import annotations

import numpy as np
import pytest

from lucidnet.losses import MSE, BinaryCrossEntropy, CrossEntropy
from lucidnet.weights import (
    balanced_class_weight,
    check_sample_weight,
    class_labels,
    class_sample_weight,
)


def test_check_sample_weight_returns_float64_and_accepts_ints_and_masks():
    w = check_sample_weight([1, 0, 2], 3, "w")
    assert w.dtype == np.float64
    np.testing.assert_array_equal(w, [1.0, 0.0, 2.0])
    np.testing.assert_array_equal(check_sample_weight(np.array([True, False]), 2, "w"), [1, 0])


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ([1.0, 2.0], r"w must have shape \(3,\), one weight per sample, got shape \(2,\)"),
        ([[1.0], [2.0], [3.0]], r"got shape \(3, 1\)"),
        (1.0, r"got shape \(\)"),
        ([1.0, -1.0, 1.0], r"w: weights must be finite and >= 0; index 1 has -1.0"),
        ([np.nan, 1.0, 1.0], r"index 0 has nan"),
        ([1.0, 1.0, -np.inf], r"index 2 has -inf"),
        (["1", "2", "3"], r"w must be real numbers, got dtype <U1"),
        ([0.0, 0.0, 0.0], r"w: every sample weight is zero"),
    ],
)
def test_check_sample_weight_errors(bad, message):
    with pytest.raises(ValueError, match=message):
        check_sample_weight(bad, 3, "w")


def test_all_zero_weights_are_allowed_for_one_batch():
    np.testing.assert_array_equal(check_sample_weight(np.zeros(2), 2, "w", allow_all_zero=True), 0)


def test_class_labels_from_labels_one_hot_rows_and_binary_targets():
    labels = np.array([2, 0, 1, 2])
    for y in (labels, labels.reshape(-1, 1), labels.astype(np.float32), np.eye(3)[labels]):
        found, classes = class_labels(CrossEntropy(), (3,), y, "cw")
        np.testing.assert_array_equal(found, labels)
        assert classes == 3
    for y in (np.array([1, 0, 1]), np.array([[1.0], [0.0], [1.0]])):
        found, classes = class_labels(BinaryCrossEntropy(), (1,), y, "cw")
        np.testing.assert_array_equal(found, [1, 0, 1])
        assert classes == 2


@pytest.mark.parametrize(
    ("loss", "shape", "y", "message"),
    [
        (MSE(), (3,), np.array([0, 1]), r"cw needs a classification loss; 'mse' is a regression"),
        (CrossEntropy(), (3,), np.array([[0.5, 0.5, 0.0]]), r"row 0 of the targets is not one-hot"),
        (CrossEntropy(), (3,), np.array([[1.0, 1.0, 0.0]]), r"row 0 of the targets is not one-hot"),
        (CrossEntropy(), (3,), np.array([0, 3]), r"label 3 at row 1 is not an integer in \[0, 3\)"),
        (CrossEntropy(), (3,), np.array([0.5]), r"label 0.5 at row 0"),
        (CrossEntropy(), (3,), np.ones((2, 4)), r"labels \(2,\) or one-hot rows \(2, 3\)"),
        (BinaryCrossEntropy(), (1,), np.array([0.0, 0.3]), r"targets 0 or 1 .* row 1 has 0.3"),
        (BinaryCrossEntropy(), (2,), np.eye(2), r"2 sigmoid outputs .* not one class per sample"),
        (CrossEntropy(), (2, 3), np.zeros((2, 2, 3)), r"output is \(batch, classes\)"),
        (CrossEntropy(), None, np.zeros(2), r"output is \(batch, classes\)"),
    ],
)
def test_class_labels_errors(loss, shape, y, message):
    with pytest.raises(ValueError, match=message):
        class_labels(loss, shape, y, "cw")


def test_balanced_is_scikit_learns_formula_worked_by_hand():
    # counts 6, 3, 1 of n = 10 over 3 classes: 10 / (3 * count)
    labels = np.array([0] * 6 + [1] * 3 + [2])
    assert balanced_class_weight(labels, 3) == pytest.approx({0: 10 / 18, 1: 10 / 9, 2: 10 / 3})
    # a class of the model absent from the data: n_classes counts those present (as
    # scikit-learn's compute_class_weight on np.unique(y)), and it gets no entry
    labels = np.array([0, 0, 0, 2])
    assert balanced_class_weight(labels, 3) == pytest.approx({0: 4 / 6, 2: 4 / 2})
    # balanced weights make every present class weigh n / n_classes in total
    w = class_sample_weight("balanced", CrossEntropy(), (3,), labels)
    assert w[labels == 0].sum() == pytest.approx(w[labels == 2].sum()) == pytest.approx(2.0)


def test_class_sample_weight_from_a_dict_defaults_missing_classes_to_one():
    labels = np.array([0, 1, 2, 1])
    w = class_sample_weight({1: 5.0, 2: 0}, CrossEntropy(), (3,), labels)
    np.testing.assert_array_equal(w, [1.0, 5.0, 0.0, 5.0])
    w = class_sample_weight({np.int64(0): 2}, BinaryCrossEntropy(), (1,), np.array([0, 1]))
    np.testing.assert_array_equal(w, [2.0, 1.0])


@pytest.mark.parametrize(
    ("class_weight", "message"),
    [
        ({3: 1.0}, r"cw: the key 3 is not a class of the model's output \(labels 0 to 2\)"),
        ({-1: 1.0}, r"the key -1 is not a class"),
        ({"a": 1.0}, r"class labels must be integers, got the key 'a'"),
        ({1.0: 1.0}, r"class labels must be integers, got the key 1.0"),
        ({True: 1.0}, r"class labels must be integers, got the key True"),
        ({0: -1.0}, r"the weight of class 0 must be a finite number >= 0, got -1.0"),
        ({0: float("nan")}, r"the weight of class 0 .* got nan"),
        ({2: "3"}, r"the weight of class 2 .* got '3'"),
        ("balance", r"cw must be a dict \{class label: weight\} or 'balanced', got 'balance'"),
        ([1.0, 2.0, 3.0], r"cw must be a dict"),
    ],
)
def test_class_weight_errors(class_weight, message):
    with pytest.raises(ValueError, match=message):
        class_sample_weight(class_weight, CrossEntropy(), (3,), np.array([0, 1, 2]), "cw")


def test_binary_class_weight_keys_are_0_and_1():
    with pytest.raises(ValueError, match=r"the key 2 is not a class .*labels 0 to 1"):
        class_sample_weight({2: 1.0}, BinaryCrossEntropy(), (1,), np.array([0, 1]), "cw")
