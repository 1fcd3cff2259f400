"""Metrics: accuracy and its variants, regression errors, the confusion matrix, the
registry. Expected values are worked by hand in the comments."""

import re

import numpy as np
import pytest
import sklearn.metrics
from hypothesis import given, settings
from hypothesis import strategies as st

from lucidnet import metrics
from lucidnet.metrics import (
    accuracy,
    binary_accuracy,
    confusion_matrix,
    mae,
    mse,
    top_k_accuracy,
)

# ---------------------------------------------------------------------------------------
# accuracy

# argmax of each row: 1, 0, 2, 1
PROBS = np.array(
    [
        [0.1, 0.7, 0.2],
        [0.8, 0.1, 0.1],
        [0.3, 0.3, 0.4],
        [0.2, 0.5, 0.3],
    ]
)
LABELS = np.array([1, 0, 1, 1])  # right, right, wrong (2 != 1), right: 3/4


def test_accuracy_probability_rows():
    assert accuracy(LABELS, PROBS) == 0.75


def test_accuracy_one_hot_and_column_labels():
    one_hot = np.eye(3)[LABELS]
    assert accuracy(one_hot, PROBS) == 0.75
    assert accuracy(LABELS.reshape(-1, 1), PROBS) == 0.75
    assert accuracy(LABELS.astype(np.float64), PROBS) == 0.75


def test_accuracy_unnormalized_scores_use_argmax():
    # Logits, not probabilities: argmax rows 2, 0 -> labels [2, 1]: 1/2
    scores = np.array([[-3.0, 1.0, 5.0], [10.0, -2.0, 9.5]])
    assert accuracy(np.array([2, 1]), scores) == 0.5


@pytest.mark.parametrize("shape", [(5, 1), (5,)])
def test_accuracy_single_sigmoid_column_thresholds_at_half(shape):
    p = np.array([0.9, 0.2, 0.6, 0.4, 0.5]).reshape(shape)
    # p > 0.5 -> [1, 0, 1, 0, 0] (0.5 itself is not > 0.5)
    y = np.array([1, 0, 0, 0, 1])
    # matches:    1, 1, 0, 1, 0 -> 3/5
    assert accuracy(y, p) == pytest.approx(0.6)
    assert accuracy(y.reshape(-1, 1), p) == pytest.approx(0.6)


def test_accuracy_integer_predicted_labels_are_not_thresholded():
    # Label 2 stays 2 (a threshold would turn it into 1).
    pred = np.array([2, 0, 1, 1])
    y = np.array([2, 1, 1, 1])  # right, wrong, right, right: 3/4
    assert accuracy(y, pred) == 0.75
    assert accuracy(y, pred.astype(np.int32)) == 0.75


def test_accuracy_extremes():
    assert accuracy(np.array([0, 1]), np.array([[0.9, 0.1], [0.2, 0.8]])) == 1.0
    assert accuracy(np.array([1, 0]), np.array([[0.9, 0.1], [0.2, 0.8]])) == 0.0
    assert isinstance(accuracy(LABELS, PROBS), float)


# ---------------------------------------------------------------------------------------
# binary_accuracy


def test_binary_accuracy_threshold():
    y = np.array([1, 0, 1, 0])
    p = np.array([0.7, 0.3, 0.4, 0.6])
    # threshold 0.5: p > 0.5 = [1, 0, 0, 1] -> right, right, wrong, wrong = 0.5
    assert binary_accuracy(y, p) == 0.5
    # threshold 0.35: [1, 0, 1, 1] -> right, right, right, wrong = 0.75
    assert binary_accuracy(y, p, threshold=0.35) == 0.75
    # threshold 0.65: [1, 0, 0, 0] -> right, right, wrong, right = 0.75
    assert binary_accuracy(y, p, threshold=0.65) == 0.75


def test_binary_accuracy_multi_label_counts_elements():
    y = np.array([[1, 0, 1], [0, 1, 0]])
    p = np.array([[0.9, 0.6, 0.2], [0.1, 0.8, 0.4]])
    # p > 0.5 = [[1, 1, 0], [0, 1, 0]]: matches [[y, n, n], [y, y, y]] = 4/6
    assert binary_accuracy(y, p) == pytest.approx(4 / 6)


def test_binary_accuracy_labels_against_a_column():
    y = np.array([1, 0, 1])
    p = np.array([[0.8], [0.7], [0.1]])  # [1, 1, 0]: right, wrong, wrong = 1/3
    assert binary_accuracy(y, p) == pytest.approx(1 / 3)


def test_binary_accuracy_shape_mismatch_raises():
    with pytest.raises(ValueError, match=re.escape("(2, 3)")):
        binary_accuracy(np.zeros((2, 3)), np.zeros((3, 2)))


# ---------------------------------------------------------------------------------------
# top_k_accuracy

TOP_K_SCORES = np.array(
    [
        [0.1, 0.4, 0.3, 0.2],  # true 2: one class (0.4) higher -> top-2, not top-1
        [0.5, 0.2, 0.2, 0.1],  # true 1: one higher (0.5); the tie with class 2 favours it
        [0.05, 0.15, 0.3, 0.5],  # true 0: three higher -> only top-4
        [0.25, 0.25, 0.25, 0.25],  # true 3: all tied, none higher -> even top-1
    ]
)
TOP_K_LABELS = np.array([2, 1, 0, 3])


@pytest.mark.parametrize(("k", "expected"), [(1, 0.25), (2, 0.75), (3, 0.75), (4, 1.0)])
def test_top_k_accuracy_hand_worked_with_ties(k, expected):
    assert top_k_accuracy(TOP_K_LABELS, TOP_K_SCORES, k=k) == expected
    assert top_k_accuracy(np.eye(4)[TOP_K_LABELS], TOP_K_SCORES, k=k) == expected


def test_top_k_accuracy_default_k_is_5():
    # 6 classes, the true class ranked 5th (4 higher) counts, 6th (5 higher) does not.
    scores = np.array([[0.6, 0.5, 0.4, 0.3, 0.2, 0.1]] * 2)
    assert top_k_accuracy(np.array([4, 5]), scores) == 0.5


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 30), classes=st.integers(2, 6))
def test_top_1_equals_accuracy_without_ties(seed, n, classes):
    rng = np.random.default_rng(seed)
    scores = rng.random((n, classes))  # continuous: ties have probability 0
    labels = rng.integers(0, classes, n)
    assert top_k_accuracy(labels, scores, k=1) == accuracy(labels, scores)
    assert top_k_accuracy(labels, scores, k=classes) == 1.0


def test_top_k_accuracy_needs_score_rows():
    with pytest.raises(ValueError, match=re.escape("(4,)")):
        top_k_accuracy(np.array([0, 1, 0, 1]), np.array([0.1, 0.9, 0.2, 0.8]), k=1)


# ---------------------------------------------------------------------------------------
# mse / mae


def test_mse_and_mae_hand_worked():
    y = np.array([1.0, 2.0, 3.0])
    p = np.array([2.0, 2.0, 5.0])
    # differences 1, 0, 2: squared 1, 0, 4 -> 5/3; absolute 1, 0, 2 -> 3/3 = 1
    assert mse(y, p) == pytest.approx(5 / 3)
    assert mae(y, p) == 1.0
    assert mse(y, y) == 0.0
    assert mae(y, y) == 0.0


def test_mse_and_mae_2d_and_column_against_vector():
    y = np.array([[0.0, 1.0], [2.0, -1.0]])
    p = np.array([[0.5, 1.0], [0.0, 2.0]])
    # differences -0.5, 0, 2, -3: squares 0.25 + 0 + 4 + 9 = 13.25 / 4 = 3.3125;
    # absolutes 0.5 + 0 + 2 + 3 = 5.5 / 4 = 1.375
    assert mse(y, p) == pytest.approx(3.3125)
    assert mae(y, p) == pytest.approx(1.375)
    # labels (n,) against predictions (n, 1): the same per-sample comparison
    assert mse(np.array([1.0, 3.0]), np.array([[2.0], [1.0]])) == pytest.approx((1 + 4) / 2)
    assert mae(np.array([1.0, 3.0]), np.array([[2.0], [1.0]])) == pytest.approx((1 + 2) / 2)


def test_mse_and_mae_integer_inputs_do_not_overflow_or_truncate():
    y = np.array([0, 0], dtype=np.int8)
    p = np.array([100, 101], dtype=np.int8)
    # (100^2 + 101^2) / 2 = (10000 + 10201) / 2 = 10100.5 (int8 arithmetic would wrap)
    assert mse(y, p) == 10100.5
    assert mae(y, p) == 100.5


# ---------------------------------------------------------------------------------------
# confusion_matrix

CM_TRUE = np.array([0, 1, 2, 2, 1, 0])
CM_PRED = np.array([0, 2, 2, 1, 1, 0])
# pairs (true, pred): (0,0) (1,2) (2,2) (2,1) (1,1) (0,0)
CM = np.array(
    [
        [2, 0, 0],
        [0, 1, 1],
        [0, 1, 1],
    ]
)


def test_confusion_matrix_hand_worked():
    got = confusion_matrix(CM_TRUE, CM_PRED)
    np.testing.assert_array_equal(got, CM)
    assert got.sum() == len(CM_TRUE)
    # rows are true classes: transposing the arguments transposes the matrix
    np.testing.assert_array_equal(confusion_matrix(CM_PRED, CM_TRUE), CM.T)


def test_confusion_matrix_from_scores_and_one_hot():
    rng = np.random.default_rng(0)
    # scores whose argmax is CM_PRED: one-hot plus noise below 0.5
    scores = np.eye(3)[CM_PRED] + 0.4 * rng.random((6, 3))
    np.testing.assert_array_equal(confusion_matrix(CM_TRUE, scores), CM)
    np.testing.assert_array_equal(confusion_matrix(np.eye(3)[CM_TRUE], scores), CM)


def test_confusion_matrix_from_a_sigmoid_column():
    y = np.array([1, 0, 1, 0, 1])
    p = np.array([[0.9], [0.6], [0.2], [0.1], [0.7]])  # -> 1, 1, 0, 0, 1
    # (1,1) (0,1) (1,0) (0,0) (1,1): [[TN=1, FP=1], [FN=1, TP=2]]
    np.testing.assert_array_equal(confusion_matrix(y, p), [[1, 1], [1, 2]])


def test_confusion_matrix_num_classes_pads():
    got = confusion_matrix(CM_TRUE, CM_PRED, num_classes=5)
    assert got.shape == (5, 5)
    np.testing.assert_array_equal(got[:3, :3], CM)
    assert got[3:].sum() == 0
    assert got[:, 3:].sum() == 0


def test_confusion_matrix_default_size_covers_labels_seen_in_either():
    # true labels only 0, predicted up to 2 -> 3 x 3
    got = confusion_matrix(np.array([0, 0]), np.array([2, 0]))
    np.testing.assert_array_equal(got, [[1, 0, 1], [0, 0, 0], [0, 0, 0]])


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 50),
    classes=st.integers(2, 6),
)
def test_confusion_matrix_matches_sklearn(seed, n, classes):
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, classes, n)
    y_pred = rng.integers(0, classes, n)
    want = sklearn.metrics.confusion_matrix(y_true, y_pred, labels=np.arange(classes))
    np.testing.assert_array_equal(confusion_matrix(y_true, y_pred, num_classes=classes), want)
    # the diagonal over n is the accuracy
    got = confusion_matrix(y_true, y_pred, num_classes=classes)
    assert np.trace(got) / n == pytest.approx(accuracy(y_true, y_pred))


@pytest.mark.parametrize(
    ("y_true", "y_pred"),
    [
        (np.array([-1, 0, 1]), np.array([0, 0, 1])),
        (np.array([0, 0, 1]), np.array([0, -2, 1])),
    ],
)
def test_confusion_matrix_negative_labels_raise(y_true, y_pred):
    with pytest.raises(ValueError, match=">= 0"):
        confusion_matrix(y_true, y_pred)
    with pytest.raises(ValueError, match=">= 0"):
        confusion_matrix(y_true, y_pred, num_classes=3)


@pytest.mark.parametrize(
    ("y_true", "y_pred"),
    [
        (np.array([0, 3, 1]), np.array([0, 0, 1])),
        (np.array([0, 0, 1]), np.array([0, 5, 1])),
    ],
)
def test_confusion_matrix_labels_beyond_num_classes_raise(y_true, y_pred):
    with pytest.raises(ValueError, match="num_classes=3"):
        confusion_matrix(y_true, y_pred, num_classes=3)


# ---------------------------------------------------------------------------------------
# mismatched sample counts


@pytest.mark.parametrize(
    "fn",
    [accuracy, top_k_accuracy, confusion_matrix, binary_accuracy, mse, mae],
    ids=lambda f: f.__name__,
)
def test_mismatched_sample_counts_raise(fn):
    y_true = np.array([0, 1, 1])
    y_pred = np.array([[0.9, 0.1], [0.2, 0.8], [0.3, 0.7], [0.6, 0.4]])
    with pytest.raises(ValueError):
        fn(y_true, y_pred)


def test_accuracy_mismatch_message_gives_both_counts():
    with pytest.raises(ValueError, match="y_true has 3 samples but y_pred has 4"):
        accuracy(np.array([0, 1, 1]), PROBS)


@pytest.mark.parametrize("fn", [mse, mae], ids=lambda f: f.__name__)
def test_regression_metrics_reject_mismatched_counts_of_equal_size(fn):
    # 4 targets against 2 predictions of 2 outputs: the element counts agree (4), the
    # sample counts do not (4 vs 2), so this is a mistake, not a (n,) vs (n, 1) case.
    with pytest.raises(ValueError):
        fn(np.array([1.0, 2.0, 3.0, 4.0]), np.array([[1.0, 2.0], [3.0, 4.0]]))


# ---------------------------------------------------------------------------------------
# registry


@pytest.mark.parametrize(
    ("name", "canonical", "fn"),
    [
        ("accuracy", "accuracy", accuracy),
        ("acc", "accuracy", accuracy),
        ("ACC", "accuracy", accuracy),
        ("Accuracy", "accuracy", accuracy),
        ("binary_accuracy", "binary_accuracy", binary_accuracy),
        ("top_k_accuracy", "top_k_accuracy", top_k_accuracy),
        ("mse", "mse", mse),
        ("MAE", "mae", mae),
    ],
)
def test_registry_names(name, canonical, fn):
    assert metrics.get(name) == (canonical, fn)


def test_registry_callables_are_named_by_their_name():
    def f1_score(y_true, y_pred):
        return 0.0

    assert metrics.get(f1_score) == ("f1_score", f1_score)
    assert metrics.get(mse) == ("mse", mse)

    class Scorer:
        def __call__(self, y_true, y_pred):
            return 1.0

    scorer = Scorer()
    assert metrics.get(scorer) == ("Scorer", scorer)


@pytest.mark.parametrize("bad", ["f1", "", "accuracy ", "top_k", 3, None])
def test_registry_bad_names_list_the_valid_ones(bad):
    with pytest.raises(ValueError, match=re.escape(f"unknown metric {bad!r}")) as info:
        metrics.get(bad)
    assert "valid names: acc, accuracy, binary_accuracy, mae, mse, top_k_accuracy" in str(
        info.value
    )


def test_labels_outside_the_classes_of_y_pred_raise():
    scores = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1]])
    with pytest.raises(ValueError, match=r"label 3 at index 1 is not a class of y_pred"):
        metrics.accuracy([0, 3], scores)
    with pytest.raises(ValueError, match=r"label -1 at index 0 is not a class of y_pred"):
        metrics.top_k_accuracy([-1, 1], scores, k=2)
    assert metrics.top_k_accuracy([2, 1], scores, k=2) == 0.5


def test_binary_accuracy_with_swapped_arguments_raises():
    y, p = np.array([[1], [0], [1]]), np.array([[0.9], [0.2], [0.4]])
    assert metrics.binary_accuracy(y, p) == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match=r"y_true must hold 0 or 1, .* is 0\.9; .*swapped"):
        metrics.binary_accuracy(p, y)


def test_r2_score_hand_worked():
    from lucidnet.metrics import r2_score

    y = np.array([1.0, 2.0, 3.0, 4.0])
    # residuals 0, 0, 0, 1: 1; around the mean 2.5: 2.25 + 0.25 + 0.25 + 2.25 = 5 -> 1 - 1/5
    assert r2_score(y, np.array([1.0, 2.0, 3.0, 5.0])) == pytest.approx(0.8)
    assert r2_score(y, y) == 1.0
    assert r2_score(y, np.full(4, 2.5)) == 0.0  # the mean scores 0
    assert r2_score(y, -y) < 0  # worse than the mean
    # columns scored apart and averaged; a constant column: 1 if exact, else 0
    two = np.column_stack([y, np.full(4, 7.0)])
    assert r2_score(two, np.column_stack([[1.0, 2.0, 3.0, 5.0], np.full(4, 7.0)])) == 0.9
    assert r2_score(two, np.column_stack([y, np.full(4, 6.0)])) == 0.5
    assert r2_score(y, y.reshape(4, 1)) == 1.0  # (n,) pairs with (n, 1)
    rng = np.random.default_rng(0)
    truth, pred = rng.normal(size=(20, 3)), rng.normal(size=(20, 3))
    assert r2_score(truth, pred) == pytest.approx(sklearn.metrics.r2_score(truth, pred))
    with pytest.raises(ValueError, match="at least 2 samples"):
        r2_score(y[:1], y[:1])
