"""Tests of ``lucidnet.sklearn.Perceptron``: scikit-learn's ``Perceptron`` to 1e-10 with
``shuffle=False`` (every penalty, weights, intercept, initial weights, early stopping,
partial_fit, warm_start), sparse input as dense, the tie rule, seed 000's rule, the
errors, and what lucidnet does differently on purpose.

scikit-learn's estimator checks run in ``tests/test_sklearn.py``.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")  # the optional extra: without it these tests are skipped

import scipy.sparse as sp
from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Perceptron as SkPerceptron
from sklearn.preprocessing import StandardScaler

import lucidnet as ln
import lucidnet.sklearn.perceptron_rule as perceptron_module
from blobs import blobs
from lucidnet.sklearn import Perceptron

# Short trainings end at max_iter on purpose; tests that expect the warning use pytest.warns.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

AND = (np.array([[0, 0], [0, 1], [1, 0], [1, 1]]), np.array([0, 0, 0, 1]))
IRIS_X, IRIS_Y = load_iris(return_X_y=True)
IRIS_XS = StandardScaler().fit_transform(IRIS_X)
WEIGHTS = np.random.RandomState(0).uniform(0.2, 2.0, len(IRIS_Y))

PROBLEMS = {  # name: (X, y); the raw iris is far from centred: many mistakes, long runs
    "binary": (IRIS_X, (IRIS_Y == 1).astype(int)),  # versicolor: not linearly separable
    "binary-scaled": (IRIS_XS, np.where(IRIS_Y == 2, "virginica", "other")),
    "3-class": (IRIS_X, IRIS_Y),
    "3-class-scaled": (IRIS_XS, IRIS_Y),
}


def _blobs(n=150, classes=3, seed=1):
    return blobs(n, classes, seed)


def assert_same_fit(ours, theirs):
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=0, atol=1e-10)
    np.testing.assert_allclose(ours.intercept_, theirs.intercept_, rtol=0, atol=1e-10)
    np.testing.assert_array_equal(ours.classes_, theirs.classes_)
    assert ours.coef_.shape == theirs.coef_.shape
    assert ours.intercept_.shape == theirs.intercept_.shape
    assert (ours.n_iter_, ours.t_) == (theirs.n_iter_, theirs.t_)


def _fit_both(X, y, fit_params=None, **params):
    # a copy of fit_params each: scikit-learn trains in the caller's coef_init array
    def copied():
        return {
            k: np.copy(v) if isinstance(v, np.ndarray) else v for k, v in (fit_params or {}).items()
        }

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        theirs = SkPerceptron(shuffle=False, **params).fit(X, y, **copied())
        ours = Perceptron(shuffle=False, **params).fit(X, y, **copied())
    return ours, theirs


# --- the same weights as scikit-learn (shuffle=False) --------------------------------------

VARIANTS = {
    "defaults": ({}, {}),
    "sample_weight": ({}, {"sample_weight": WEIGHTS}),
    "class_weight-dict": ({"class_weight": "a dict, made per problem"}, {}),
    "class_weight-balanced": ({"class_weight": "balanced"}, {"sample_weight": WEIGHTS}),
    "fit_intercept=False": ({"fit_intercept": False}, {}),
    "alpha-eta0": ({"alpha": 0.01, "eta0": 0.3}, {}),
    "tol=None": ({"tol": None, "max_iter": 40}, {}),
    "n_iter_no_change": ({"n_iter_no_change": 2, "tol": 0.05}, {}),
}


@pytest.mark.parametrize("penalty", [None, "l2", "l1", "elasticnet"])
@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("problem", list(PROBLEMS))
def test_same_weights_as_scikit_learn(problem, variant, penalty):
    X, y = PROBLEMS[problem]
    params, fit_params = VARIANTS[variant]
    if variant == "class_weight-dict":
        classes = np.unique(y)
        params = {"class_weight": {classes[-1].item(): 3.0, classes[0].item(): 0.5}}
    ours, theirs = _fit_both(X, y, fit_params, penalty=penalty, **params)
    if penalty is None:  # lucidnet may stop sooner (an epoch without updates), same weights
        assert ours.n_iter_ <= theirs.n_iter_
        theirs.n_iter_, theirs.t_ = ours.n_iter_, ours.t_
    assert_same_fit(ours, theirs)
    assert ours.t_ == 1 + ours.n_iter_ * len(y)


def test_each_class_stops_on_its_own_as_in_scikit_learn():
    # scikit-learn trains each one-vs-rest perceptron with its own stopping rule; here
    # they stop at different epochs, and the multiclass fit still matches to 1e-10
    X, y = IRIS_XS, IRIS_Y
    alone = [
        SkPerceptron(shuffle=False, penalty="l2").fit(X, (y == k).astype(int)).n_iter_
        for k in range(3)
    ]
    assert len(set(alone)) > 1, alone
    ours, theirs = _fit_both(X, y, penalty="l2")
    assert ours.n_iter_ == theirs.n_iter_ == max(alone)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=0, atol=1e-10)


def test_digits_every_penalty_matches_scikit_learn():
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X)[::3]  # 599 samples, 10 classes, 64 features
    y = y[::3]
    for penalty in (None, "l2", "l1", "elasticnet"):
        ours, theirs = _fit_both(X, y, penalty=penalty, alpha=0.001)
        np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=0, atol=1e-10)
        np.testing.assert_allclose(ours.intercept_, theirs.intercept_, rtol=0, atol=1e-10)


@pytest.mark.parametrize("penalty", [None, "l2", "l1", "elasticnet"])
@pytest.mark.parametrize("problem", ["binary", "3-class"])
def test_initial_weights_match_scikit_learn(problem, penalty):
    X, y = PROBLEMS[problem]
    n_classes = len(np.unique(y))
    rows = 1 if n_classes == 2 else n_classes
    rng = np.random.RandomState(3)
    coef, intercept = rng.randn(rows, X.shape[1]), rng.randn(rows)
    ours, theirs = _fit_both(
        X, y, {"coef_init": coef, "intercept_init": intercept}, penalty=penalty
    )
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=0, atol=1e-10)
    np.testing.assert_allclose(ours.intercept_, theirs.intercept_, rtol=0, atol=1e-10)
    before = coef.copy()
    Perceptron().fit(X, y, coef_init=coef)
    np.testing.assert_array_equal(coef, before)  # lucidnet does not train in the caller's array


@pytest.mark.parametrize("penalty", [None, "l1"])
@pytest.mark.parametrize("problem", ["binary", "3-class-scaled"])
def test_early_stopping_matches_scikit_learn(problem, penalty):
    X, y = PROBLEMS[problem]
    ours, theirs = _fit_both(X, y, penalty=penalty, early_stopping=True, validation_fraction=0.2)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=0, atol=1e-10)
    np.testing.assert_allclose(ours.intercept_, theirs.intercept_, rtol=0, atol=1e-10)


def test_early_stopping_scores_the_perceptron_being_trained():
    # With l2, scikit-learn scores its unscaled copy of the weights (w / prod(c)) with the
    # intercept as it is; lucidnet scores coef_ and intercept_. Replay the fit epoch by
    # epoch (tol=None runs the same epochs) and apply scikit-learn's rule to the accuracy
    # of each epoch's perceptron on the held-out samples: it stops where the fit stopped.
    X, y = IRIS_XS, (IRIS_Y == 1).astype(int)
    params = {"shuffle": False, "penalty": "l2", "alpha": 0.01, "early_stopping": True}
    est = Perceptron(**params).fit(X, y)
    assert est.n_iter_ < 30
    held = est._held_out(y, np.ones(len(y)))
    best, stall, stopped_at = -np.inf, 0, None
    for epoch in range(1, 31):
        run = Perceptron(**params, tol=None, max_iter=epoch).fit(X, y)
        score = run.score(X[held], y[held])
        stall = stall + 1 if score < best + est.tol else 0
        best = max(best, score)
        if stall >= est.n_iter_no_change:
            stopped_at = epoch
            break
    assert stopped_at == est.n_iter_


def test_partial_fit_and_warm_start_match_scikit_learn():
    X, y = IRIS_X, IRIS_Y
    ours = Perceptron(shuffle=False, penalty="elasticnet")
    theirs = SkPerceptron(shuffle=False, penalty="elasticnet")
    for _ in range(3):
        ours.partial_fit(X, y, classes=[0, 1, 2], sample_weight=WEIGHTS)
        theirs.partial_fit(X, y, classes=[0, 1, 2], sample_weight=WEIGHTS)
        assert_same_fit(ours, theirs)
    assert ours.n_iter_ == 1 and ours.t_ == 1 + 3 * len(y)

    ours = Perceptron(shuffle=False, warm_start=True, max_iter=3, tol=None, penalty="l2")
    theirs = SkPerceptron(shuffle=False, warm_start=True, max_iter=3, tol=None, penalty="l2")
    for _ in range(2):
        ours.fit(X, y)
        theirs.fit(X, y)
        assert_same_fit(ours, theirs)


def test_partial_fit_continues_a_fit_and_needs_classes_first():
    X, y = AND
    p = Perceptron(shuffle=False)
    with pytest.raises(ValueError, match="classes="):
        p.partial_fit(X, y)
    for epoch in range(1, 4):
        p.partial_fit(X, y, classes=[0, 1])
        assert p.n_iter_ == 1 and p.t_ == 1 + 4 * epoch  # scikit-learn's counts
    full = Perceptron(shuffle=False, max_iter=3, tol=None).fit(X, y)
    np.testing.assert_array_equal(p.coef_, full.coef_)  # three epochs either way
    p.partial_fit(X, y)  # classes may be left out after the first call
    assert p.t_ == 17


# --- sparse input --------------------------------------------------------------------------


@pytest.mark.parametrize("container", [sp.csr_matrix, sp.csc_matrix, sp.csr_array, sp.coo_matrix])
@pytest.mark.parametrize("penalty", [None, "l1", "elasticnet"])
def test_sparse_input_trains_as_its_dense_copy(container, penalty):
    X, y = IRIS_XS.copy(), IRIS_Y
    X[np.abs(X) < 0.5] = 0  # a third of the entries are zero
    dense = Perceptron(penalty=penalty, random_state=4).fit(X, y)
    sparse = Perceptron(penalty=penalty, random_state=4).fit(container(X), y)
    np.testing.assert_array_equal(sparse.coef_, dense.coef_)
    np.testing.assert_array_equal(sparse.intercept_, dense.intercept_)
    np.testing.assert_allclose(
        sparse.decision_function(container(X)), dense.decision_function(X), rtol=1e-12
    )
    assert sparse.n_iter_ == dense.n_iter_


def test_sparse_rows_are_made_dense_a_block_at_a_time(monkeypatch):
    X = sp.random(50, 7, density=0.3, format="csr", random_state=0)
    order = np.random.RandomState(0).permutation(50)
    Y, S = np.ones((50, 2)), np.ones((50, 2))
    monkeypatch.setattr(perceptron_module, "_BLOCK_FLOATS", 21)  # 3 rows of 7
    blocks = list(perceptron_module._row_blocks(X, order, Y, S))
    assert [len(b[0]) for b in blocks] == [3] * 16 + [2]
    assert all(isinstance(b[0], np.ndarray) for b in blocks)
    np.testing.assert_array_equal(np.vstack([b[0] for b in blocks]), X.toarray()[order])
    # and a fit in blocks of 3 rows is the fit in one block
    Xd, y = IRIS_XS, IRIS_Y
    small = Perceptron(penalty="elasticnet").fit(sp.csr_matrix(Xd), y)
    monkeypatch.setattr(perceptron_module, "_BLOCK_FLOATS", 1 << 20)
    whole = Perceptron(penalty="elasticnet").fit(Xd, y)
    np.testing.assert_array_equal(small.coef_, whole.coef_)


# --- the rule ------------------------------------------------------------------------------


def test_a_tie_is_a_mistake():
    # From zero weights, sample 0 (class 0, y = -1) has z = 0: a mistake (y z <= 0), so
    #   w = -[1, 0] = [-1, 0], b = -1;
    # sample 1 (class 1, y = +1): z = [-1, 0] . [0, 1] - 1 = -1 < 0, a mistake:
    #   w = [-1, 0] + [0, 1] = [-1, 1], b = -1 + 1 = 0.
    # Counting the tie as right for the negative class would give w = [0, 1], b = 1.
    X, y = np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([0, 1])
    est = Perceptron(shuffle=False, max_iter=1, tol=None).fit(X, y)
    np.testing.assert_array_equal(est.coef_, [[-1.0, 1.0]])
    np.testing.assert_array_equal(est.intercept_, [0.0])
    assert est.errors_ == [2]
    sk = SkPerceptron(shuffle=False, max_iter=1, tol=None).fit(X, y)
    np.testing.assert_array_equal(est.coef_, sk.coef_)
    np.testing.assert_array_equal(est.intercept_, sk.intercept_)


def test_seed_000s_rule_where_no_tie_arises():
    # Rosenblatt's rule as seed 000 (lucidnet.Perceptron.fit) predicts step(z) = [z > 0],
    # so it differs from this rule only at a tie z = 0. Start both at b = 0.5: with
    # integer inputs and steps, z stays a half-integer and the updates are the same.
    X, y = AND
    est = Perceptron(shuffle=False, tol=None).fit(X, y, intercept_init=0.5)
    assert est.converged_ and est.errors_[-1] == 0
    np.testing.assert_array_equal(est.predict(X), y)
    neuron = ln.Perceptron(2, activation="step", dtype=np.float64)
    neuron.weights[:] = 0
    neuron.bias = np.float64(0.5)
    neuron.fit(X, y, epochs=100, learning_rate=1.0)
    np.testing.assert_array_equal(est.coef_.ravel(), neuron.weights)
    assert est.intercept_[0] == neuron.bias
    assert est.errors_ == neuron.errors_


def test_perceptron_never_converges_on_xor():
    X, xor = AND[0], np.array([0, 1, 1, 0])
    est = Perceptron(max_iter=50, tol=None, shuffle=False).fit(X, xor)
    assert not est.converged_ and est.n_iter_ == 50 and min(est.errors_) > 0
    # XOR from zero weights repeats the same epoch: the loss never improves, but with
    # tol=0 scikit-learn counts no improvement only for a loss > best - tol, strictly
    with pytest.warns(ConvergenceWarning):
        ours = Perceptron(tol=0.0, shuffle=False, max_iter=60).fit(X, xor)
    theirs = SkPerceptron(tol=0.0, shuffle=False, max_iter=60).fit(X, xor)
    assert ours.n_iter_ == theirs.n_iter_ == 60
    ours, theirs = _fit_both(X, xor, tol=0.25)
    assert ours.n_iter_ == theirs.n_iter_ == 6  # epoch 1 sets the best, 5 more equal


def test_without_a_penalty_an_epoch_without_updates_ends_training():
    # AND's last mistake is in epoch 8 and epoch 9 makes none: lucidnet stops there,
    # scikit-learn runs until its loss rule fires (or max_iter): the same weights
    X, y = AND
    ours, theirs = _fit_both(X, y, tol=None, max_iter=30)
    assert ours.n_iter_ == 9 and ours.errors_[-2:] == [1, 0] and theirs.n_iter_ == 30
    np.testing.assert_array_equal(ours.coef_, theirs.coef_)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        Perceptron(shuffle=False, max_iter=9).fit(X, y)  # finished at max_iter: no warning
    with pytest.warns(ConvergenceWarning, match="max_iter=8"):
        Perceptron(shuffle=False, max_iter=8).fit(X, y)
    # with a penalty the weights keep shrinking, so scikit-learn's rule decides
    ours, theirs = _fit_both(X, y, penalty="l2")
    assert ours.n_iter_ == theirs.n_iter_


def test_multiclass_weighs_the_rest_one_as_scikit_learn():
    # with more than two classes, class k's perceptron weighs its own samples by
    # class_weight[k] and the others by 1 (not by their own class's weight)
    X, y = IRIS_X, IRIS_Y
    weighted = Perceptron(shuffle=False, class_weight={0: 1.0, 1: 1.0, 2: 2.0}).fit(X, y)
    by_sample = Perceptron(shuffle=False).fit(X, y, sample_weight=np.where(y == 2, 2.0, 1.0))
    sk = SkPerceptron(shuffle=False, class_weight={2: 2.0}).fit(X, y)
    np.testing.assert_allclose(weighted.coef_, sk.coef_, rtol=0, atol=1e-10)
    np.testing.assert_array_equal(weighted.coef_[2], by_sample.coef_[2])  # class 2's own
    assert not np.array_equal(weighted.coef_[1], by_sample.coef_[1])  # the rest differ


def test_shuffle_draws_one_permutation_per_epoch_shared_by_the_classes():
    X, y = IRIS_XS, IRIS_Y
    est = Perceptron(max_iter=1, tol=None, random_state=7).fit(X, y)
    order = np.random.RandomState(7).permutation(len(y))
    by_hand = Perceptron(max_iter=1, tol=None, shuffle=False).fit(X[order], y[order])
    np.testing.assert_array_equal(est.coef_, by_hand.coef_)
    again = Perceptron(max_iter=1, tol=None, random_state=7).fit(X, y)
    other = Perceptron(max_iter=1, tol=None, random_state=8).fit(X, y)
    np.testing.assert_array_equal(est.coef_, again.coef_)
    assert not np.array_equal(est.coef_, other.coef_)


@pytest.mark.parametrize("problem", list(PROBLEMS))
@pytest.mark.parametrize("shuffle", [False, True])
def test_the_lookahead_makes_the_updates_of_the_reference_loop(monkeypatch, problem, shuffle):
    X, y = PROBLEMS[problem]
    fast = Perceptron(shuffle=shuffle, tol=None, max_iter=20).fit(X, y, sample_weight=WEIGHTS)
    monkeypatch.setattr(perceptron_module, "_LOOKAHEAD", False)
    slow = Perceptron(shuffle=shuffle, tol=None, max_iter=20).fit(X, y, sample_weight=WEIGHTS)
    np.testing.assert_allclose(fast.coef_, slow.coef_, rtol=0, atol=1e-12)
    np.testing.assert_allclose(fast.intercept_, slow.intercept_, rtol=0, atol=1e-12)
    assert fast.errors_ == slow.errors_


def test_penalties_are_end_points_of_elasticnet():
    X, y = IRIS_XS, IRIS_Y
    for penalty, ratio in (("l2", 0.0), ("l1", 1.0)):
        one = Perceptron(penalty=penalty, alpha=0.01).fit(X, y)
        two = Perceptron(penalty="elasticnet", l1_ratio=ratio, alpha=0.01).fit(X, y)
        np.testing.assert_array_equal(one.coef_, two.coef_)
        assert one.n_iter_ == two.n_iter_
    sparse = Perceptron(penalty="l1", alpha=0.05).fit(X, y)
    assert (sparse.coef_ == 0).sum() > 0  # the l1 step truncates weights to exactly 0


# --- the estimator ------------------------------------------------------------------------


def test_one_vs_rest_separates_three_blobs():
    X, y = _blobs()
    X = X + 3 * np.eye(6)[y]  # push each class along its own axis: linearly separable
    est = Perceptron(random_state=0).fit(X, y)
    assert est.coef_.shape == (3, 6) and est.decision_function(X).shape == (150, 3)
    assert est.converged_ and est.score(X, y) == 1.0


def test_iris_is_on_par_with_scikit_learns():
    seeds = range(5)  # versicolor is not linearly separable: no convergence, so the
    X, y = IRIS_XS, IRIS_Y  # score depends on where it stops; compare means
    ours = np.mean([Perceptron(random_state=s).fit(X, y).score(X, y) for s in seeds])
    theirs = np.mean([SkPerceptron(random_state=s).fit(X, y).score(X, y) for s in seeds])
    print(f"iris perceptron: lucidnet {ours:.3f}, scikit-learn {theirs:.3f}")
    assert ours > 0.8 and ours >= theirs - 0.05


def test_parameters_are_scikit_learns():
    ours, theirs = Perceptron().get_params(), SkPerceptron().get_params()
    assert ours == theirs
    with pytest.raises(TypeError):
        Perceptron(None)  # keyword-only, as scikit-learn
    for method in ("predict_proba", "predict_log_proba"):
        assert not hasattr(Perceptron(), method)


def test_verbose_prints_a_line_per_epoch(capsys):
    Perceptron(verbose=1, shuffle=False, max_iter=3, tol=None).fit(*PROBLEMS["3-class"])
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 and lines[0].startswith("Perceptron: epoch 1: 3 of 3 perceptrons")


def test_feature_names_and_n_jobs():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(IRIS_X, columns=["a", "b", "c", "d"])
    est = Perceptron(n_jobs=4).fit(frame, IRIS_Y)  # n_jobs: accepted, unused
    assert list(est.feature_names_in_) == ["a", "b", "c", "d"] and est.n_features_in_ == 4


# --- errors that say what is wrong ---------------------------------------------------------


@pytest.mark.parametrize(
    "param, value",
    [
        ("penalty", "l3"),
        ("alpha", -1.0),
        ("l1_ratio", 1.5),
        ("fit_intercept", "yes"),
        ("max_iter", 0),
        ("tol", -0.1),
        ("shuffle", None),
        ("verbose", -1),
        ("eta0", 0.0),
        ("n_jobs", 1.5),
        ("random_state", "seed"),
        ("early_stopping", 1),
        ("validation_fraction", 1.0),
        ("n_iter_no_change", 0),
        ("class_weight", "auto"),
        ("warm_start", "no"),
    ],
)
def test_bad_parameters_fail_in_fit_with_their_name(param, value):
    est = Perceptron(**{param: value})  # __init__ accepts anything: scikit-learn's rule
    with pytest.raises(
        ValueError, match=rf"Perceptron: {param} must be .*, got {re.escape(repr(value))}"
    ):
        est.fit(*AND)
    with pytest.raises(ValueError, match=rf"{param} must be"):
        est.partial_fit(*AND, classes=[0, 1])


@pytest.mark.parametrize(
    "sample_weight, match",
    [
        (np.ones(3), r"sample_weight must have the shape \(4,\).*got \(3,\)"),
        (np.ones((4, 1)), r"shape \(4,\).*got \(4, 1\)"),
        ([1.0, -1.0, 1.0, 1.0], r"sample_weight must be >= 0, got -1.0 for the sample 1"),
        ([1.0, np.nan, 1.0, 1.0], "sample_weight"),
        (np.zeros(4), "every sample_weight is zero"),
    ],
)
def test_bad_sample_weight(sample_weight, match):
    with pytest.raises(ValueError, match=match):
        Perceptron().fit(*AND, sample_weight=sample_weight)


def test_a_scalar_sample_weight_weighs_every_sample():
    X, y = IRIS_X, IRIS_Y
    a = Perceptron(shuffle=False).fit(X, y, sample_weight=2.0)
    b = Perceptron(shuffle=False).fit(X, y, sample_weight=np.full(len(y), 2.0))
    np.testing.assert_array_equal(a.coef_, b.coef_)


def test_bad_class_weight():
    with pytest.raises(ValueError, match=r"class_weight has the keys \[5\], which are not classes"):
        Perceptron(class_weight={0: 1.0, 5: 2.0}).fit(*AND)
    with pytest.raises(ValueError, match=r"finite numbers >= 0, got -2.0 for the class 1"):
        Perceptron(class_weight={1: -2.0}).fit(*AND)
    with pytest.raises(ValueError, match="class_weight='balanced' needs the whole"):
        Perceptron(class_weight="balanced").partial_fit(*AND, classes=[0, 1])


@pytest.mark.parametrize(
    "y, fit_params, match",
    [
        (
            AND[1],
            {"coef_init": np.zeros(3)},
            r"coef_init must have the shape \(2,\) or \(1, 2\) "
            r"for 2 classes and 2 features, got \(3,\)",
        ),
        (AND[1], {"coef_init": np.zeros((2, 2))}, r"got \(2, 2\)"),
        (
            np.array([0, 1, 2, 2]),
            {"coef_init": np.zeros((2, 2))},
            r"coef_init must have the shape \(3, 2\) for 3 classes and 2 features, got \(2, 2\)",
        ),
        (
            AND[1],
            {"intercept_init": np.zeros(2)},
            r"intercept_init must have the shape \(\) or \(1,\) .*got \(2,\)",
        ),
        (
            np.array([0, 1, 2, 2]),
            {"intercept_init": 0.0},
            r"intercept_init must have the shape \(3,\) for 3 classes .*got \(\)",
        ),
        (AND[1], {"coef_init": [np.inf, 0.0]}, "coef_init"),
    ],
)
def test_initial_weights_of_the_wrong_shape(y, fit_params, match):
    with pytest.raises(ValueError, match=match):
        Perceptron().fit(AND[0], y, **fit_params)


def test_warm_start_and_partial_fit_keep_their_classes():
    X, y = AND
    est = Perceptron(warm_start=True).fit(X, y)
    with pytest.raises(
        ValueError, match=r"classes \[0, 1\] and 2 features, but y has the classes \[1, 2\]"
    ):
        est.fit(X, y + 1)
    with pytest.raises(ValueError, match="and X 3 features"):
        est.fit(np.hstack([X, X[:, :1]]), y)
    est.fit(X, y + 1, coef_init=np.zeros(2))  # new initial weights: new classes allowed
    p = Perceptron().partial_fit(X, y, classes=[0, 1, 2])
    with pytest.raises(ValueError, match=r"classes=\[0, 1\] is not the same as on the previous"):
        p.partial_fit(X, y, classes=[0, 1])
    with pytest.raises(ValueError, match=r"y has the labels \[7\], which are not among"):
        p.partial_fit(X, np.array([0, 1, 7, 1]))
    with pytest.raises(ValueError, match="X has 3 features"):
        p.partial_fit(np.hstack([X, X[:, :1]]), y)
    with pytest.raises(ValueError, match="early_stopping=False"):
        Perceptron(early_stopping=True).partial_fit(X, y, classes=[0, 1])


def test_one_class_and_overflow_and_held_out_weights():
    with pytest.raises(ValueError, match="only one class"):
        Perceptron().fit(AND[0], np.zeros(4))
    with pytest.raises(ValueError, match="only one class"):
        Perceptron().partial_fit(AND[0], np.zeros(4), classes=[0])
    X = np.array([[1e308], [-1e308], [1e308], [-1e308]])
    with pytest.raises(ValueError, match="overflowed to inf or nan in epoch 1"):
        Perceptron(eta0=1e10, shuffle=False).fit(X, [0, 0, 1, 1])
    X, y = _blobs(n=40, classes=2)
    est = Perceptron(early_stopping=True, validation_fraction=0.25)
    held = est._held_out(y, np.ones(40))
    weights = np.ones(40)
    weights[held] = 0
    with pytest.raises(ValueError, match="held out for early stopping has sample_weight 0"):
        est.fit(X, y, sample_weight=weights)
    with pytest.raises(ValueError, match="least populated class"):  # scikit-learn's split
        Perceptron(early_stopping=True).fit(*AND)
