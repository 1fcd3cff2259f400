"""``lucidnet.sklearn.MLPClassifier`` / ``MLPRegressor`` as drop-ins for scikit-learn's
MLPs, pinned mostly by comparing with scikit-learn's own estimators on small data.

- ``solver="sgd"`` in float64 gives scikit-learn's run to 1e-10 (coefs_, intercepts_,
  loss_curve_, n_iter_, t_, best_loss_, validation_scores_, predictions): targets of every
  kind, sample weights, early stopping, momentum and Nesterov, the learning-rate
  schedules, warm starts and partial_fit sequences.
- Adam differs only by where epsilon sits (see ``test_adam_*``); L-BFGS reaches the same
  minimum; sparse input equals dense input and is made dense a batch / a chunk at a time.
- What lucidnet does beyond scikit-learn: the dtype following X, divergence keeping finite
  weights, Ctrl-C, coefs_ adopted into the network, the error messages.

The measured gaps are written next to each tolerance.
"""

from __future__ import annotations

import copy
import inspect
import itertools
import pickle
import re
import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")  # the optional extra: without it these tests are skipped

import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.neural_network import MLPRegressor as SkMLPRegressor

from lucidnet.sklearn import MLPClassifier, MLPRegressor, objective
from lucidnet.training import Trainer

# Short trainings end at max_iter on purpose; tests that expect the warning use pytest.warns.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

TOL = 1e-10  # parity with scikit-learn's SGD in float64 (measured: <= 1.2e-15 here)

# --- data: 60 training rows (16-row batches leave a short last one), 15 unseen rows -------

_rng = np.random.RandomState(0)
X = _rng.randn(60, 4)
X_TEST = _rng.randn(15, 4)
SW = _rng.uniform(0.2, 2.0, 60)
_lin = X @ np.array([1.0, -2.0, 0.5, 0.0])
TARGETS = {
    "binary": (_lin > 0).astype(int),
    "binary-str": np.where(X[:, 0] + X[:, 1] > 0, "yes", "no"),
    "multiclass-str": np.array(["a", "b", "c"])[(X[:, 0] > 0).astype(int) + (X[:, 2] > 0.5)],
    "multiclass-int": np.array([3, 7, 11])[(X[:, 1] > 0).astype(int) + (X[:, 3] > 0.5)],
    "multilabel": np.c_[X[:, 0] > 0, X[:, 1] > 0, X[:, 2] + X[:, 3] > 0].astype(int),
    "regression-1": _lin + 0.1 * _rng.randn(60),
    "regression-2": np.c_[_lin, np.sin(X[:, 1])],
}
ALL_TARGETS = list(TARGETS)

SGD = {
    "hidden_layer_sizes": (5,),
    "solver": "sgd",
    "random_state": 1,
    "max_iter": 15,
    "learning_rate_init": 0.05,
    "batch_size": 16,
}


def _classes(y):
    """``classes=`` for a first partial_fit: the labels, or the columns of a multilabel y."""
    return np.arange(y.shape[1]) if y.ndim == 2 else np.unique(y)


def _pair(target, **params):
    """scikit-learn's estimator and lucidnet's, with the same parameters (lucidnet's own,
    dropout and dtype, for lucidnet only), and ``y``."""
    y = TARGETS[target]
    sk_params = {k: v for k, v in params.items() if k not in ("dropout", "dtype")}
    if target.startswith("regression"):
        return SkMLPRegressor(**sk_params), MLPRegressor(**params), y
    return SkMLPClassifier(**sk_params), MLPClassifier(**params), y


def _weights(est):
    return [np.array(a, copy=True) for a in (*est.coefs_, *est.intercepts_)]


def _assert_arrays(ours, theirs, rtol=TOL, atol=TOL, what="weights"):
    assert len(ours) == len(theirs), what
    for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=f"{what}[{i}]")


def _assert_same_state(ours, theirs):
    """What ``fit`` / ``partial_fit`` leave, against scikit-learn's."""
    _assert_arrays(ours.coefs_, theirs.coefs_, what="coefs_")
    _assert_arrays(ours.intercepts_, theirs.intercepts_, what="intercepts_")
    assert ours.n_iter_ == theirs.n_iter_
    assert ours.t_ == theirs.t_
    np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=TOL, atol=TOL)
    np.testing.assert_allclose(ours.loss_, theirs.loss_, rtol=TOL, atol=TOL)
    if theirs.validation_scores_ is None:
        assert ours.validation_scores_ is None
        assert ours.best_validation_score_ is None
        np.testing.assert_allclose(ours.best_loss_, theirs.best_loss_, rtol=TOL, atol=TOL)
    else:
        np.testing.assert_allclose(
            ours.validation_scores_, theirs.validation_scores_, rtol=TOL, atol=TOL
        )
        np.testing.assert_allclose(
            ours.best_validation_score_, theirs.best_validation_score_, rtol=TOL, atol=TOL
        )
        assert ours.best_loss_ is None and theirs.best_loss_ is None


def _assert_same_predictions(ours, theirs, Xp):
    if isinstance(theirs, SkMLPClassifier):
        np.testing.assert_array_equal(ours.classes_, theirs.classes_)
        np.testing.assert_array_equal(ours.predict(Xp), theirs.predict(Xp))
        np.testing.assert_allclose(
            ours.predict_proba(Xp), theirs.predict_proba(Xp), rtol=TOL, atol=TOL
        )
        np.testing.assert_allclose(
            ours.predict_log_proba(Xp), theirs.predict_log_proba(Xp), rtol=TOL, atol=TOL
        )
    else:
        np.testing.assert_allclose(ours.predict(Xp), theirs.predict(Xp), rtol=TOL, atol=TOL)
    assert ours.predict(Xp).shape == theirs.predict(Xp).shape


def _glorot(random_state, units, logistic=False):
    """scikit-learn's initialisation, written out: per layer, coef then intercept from
    ``U(-b, b)``, ``b = sqrt(6 / (fan_in + fan_out))`` (2 instead of 6 for logistic)."""
    rs = np.random.RandomState(random_state)
    coefs, intercepts = [], []
    for fan_in, fan_out in itertools.pairwise(units):
        bound = np.sqrt((2.0 if logistic else 6.0) / (fan_in + fan_out))
        coefs.append(rs.uniform(-bound, bound, (fan_in, fan_out)))
        intercepts.append(rs.uniform(-bound, bound, fan_out))
    return coefs + intercepts


# --- 1. SGD parity with scikit-learn ------------------------------------------------------

SGD_OPTIONS = {
    "nesterov": ({}, {}),
    "momentum-0": ({"momentum": 0.0}, {}),
    "classical-momentum": ({"nesterovs_momentum": False}, {}),
    "sample-weight": ({}, {"sample_weight": SW}),
    "early-stopping": ({"early_stopping": True}, {}),
    "early-stopping-weighted": ({"early_stopping": True}, {"sample_weight": SW}),
    "early-stopping-stops": ({"early_stopping": True, "n_iter_no_change": 2, "max_iter": 100}, {}),
    "invscaling": ({"learning_rate": "invscaling", "power_t": 0.3}, {}),
    "adaptive": ({"learning_rate": "adaptive", "n_iter_no_change": 1, "tol": 0.5}, {}),
    "loss-stops": ({"n_iter_no_change": 2, "tol": 0.05, "max_iter": 100}, {}),
    "n-iter-no-change-inf": ({"n_iter_no_change": np.inf, "tol": 10.0}, {}),
    "no-shuffle": ({"shuffle": False}, {}),
    "batch-25": ({"batch_size": 25}, {}),
    "batch-auto": ({"batch_size": "auto"}, {}),
    "two-logistic-layers": ({"hidden_layer_sizes": (4, 3), "activation": "logistic"}, {}),
    "tanh-alpha": ({"activation": "tanh", "alpha": 0.5}, {}),
    "no-hidden-layer": ({"hidden_layer_sizes": ()}, {}),
}


@pytest.mark.parametrize("option", list(SGD_OPTIONS))
@pytest.mark.parametrize("target", ALL_TARGETS)
def test_sgd_fit_equals_scikit_learn(target, option):
    params, fit_kwargs = SGD_OPTIONS[option]
    theirs, ours, y = _pair(target, **{**SGD, **params})
    theirs.fit(X, y, **fit_kwargs)
    ours.fit(X, y, **fit_kwargs)
    _assert_same_state(ours, theirs)
    _assert_same_predictions(ours, theirs, X_TEST)
    # the options do what their names say, in scikit-learn's run
    if option in ("early-stopping-stops", "loss-stops"):
        assert theirs.n_iter_ < theirs.max_iter
    if option == "adaptive":
        assert theirs._optimizer.learning_rate < SGD["learning_rate_init"]


@pytest.mark.parametrize(
    "params",
    [{}, {"learning_rate": "invscaling"}, {"early_stopping": True, "n_iter_no_change": 2}],
    ids=["constant", "invscaling", "early-stopping"],
)
@pytest.mark.parametrize("target", ["multiclass-str", "multilabel", "regression-2"])
def test_sgd_warm_start_equals_scikit_learn(target, params):
    """n_iter_ counts each fit; t_, loss_curve_ and the early-stopping state carry on."""
    theirs, ours, y = _pair(target, **{**SGD, "max_iter": 6, "warm_start": True, **params})
    early = params.get("early_stopping", False)
    previous, epochs, unimproved = None, 0, 0
    for _ in range(3):
        best_before = getattr(ours, "best_validation_score_", None)
        theirs.fit(X, y)
        ours.fit(X, y)
        if early:
            # scikit-learn ends an early-stopping fit with coefs_ = _best_coefs (the same
            # arrays), so its next warm fit updates its "best" weights in place and can end
            # on the last epoch's. lucidnet keeps the true best; copying scikit-learn's
            # weights after each fit gives it that too.
            theirs.coefs_ = [c.copy() for c in theirs.coefs_]
            theirs.intercepts_ = [c.copy() for c in theirs.intercepts_]
            if ours.best_validation_score_ == best_before:  # no better score in this fit:
                _assert_arrays(_weights(ours), previous, rtol=0, atol=0)  # the earlier best
                unimproved += 1
        _assert_same_state(ours, theirs)
        assert ours.n_iter_ <= 6
        previous = _weights(ours)
        epochs += ours.n_iter_
    assert unimproved > 0 or not early  # the case scikit-learn gets wrong is exercised
    rows = 54 if params.get("early_stopping") else 60  # early stopping holds 6 out
    assert len(ours.loss_curve_) == ours.t_ // rows == epochs
    _assert_same_predictions(ours, theirs, X_TEST)


@pytest.mark.parametrize(
    "params, weighted",
    [
        ({}, False),
        ({}, True),
        ({"learning_rate": "invscaling"}, False),
        ({"learning_rate": "adaptive", "n_iter_no_change": 1, "tol": 10.0}, False),
        ({"momentum": 0.0}, False),
    ],
    ids=["plain", "sample-weight", "invscaling", "adaptive", "momentum-0"],
)
@pytest.mark.parametrize("target", ALL_TARGETS)
def test_sgd_partial_fit_sequence_equals_scikit_learn(target, params, weighted):
    """Several partial_fit calls on overlapping slices (the first with ``classes=``): one
    epoch each, the optimizer (momentum, rate) kept from call to call."""
    theirs, ours, y = _pair(target, **{**SGD, **params})
    classifier = isinstance(theirs, SkMLPClassifier)
    for i in range(4):
        rows = slice(10 * i, 10 * i + 30)
        kwargs = {"sample_weight": SW[rows]} if weighted else {}
        if classifier and i == 0:
            kwargs["classes"] = _classes(y)
        theirs.partial_fit(X[rows], y[rows], **kwargs)
        ours.partial_fit(X[rows], y[rows], **kwargs)
        _assert_same_state(ours, theirs)
        assert ours.n_iter_ == 1
    _assert_same_predictions(ours, theirs, X_TEST)


@pytest.mark.parametrize("target", ["binary-str", "multilabel", "regression-1"])
def test_sgd_fit_then_partial_fit_then_warm_fit_equals_scikit_learn(target):
    """fit starts a fresh optimizer, partial_fit continues the one it finds."""
    theirs, ours, y = _pair(target, **{**SGD, "max_iter": 5})
    for est in (theirs, ours):
        est.fit(X, y)
        est.partial_fit(X[:40], y[:40])
        est.set_params(warm_start=True)
        est.fit(X, y)
    _assert_same_state(ours, theirs)
    assert len(ours.loss_curve_) == 11
    _assert_same_predictions(ours, theirs, X_TEST)


def test_partial_fit_emits_no_convergence_warning():
    """As scikit-learn's: one epoch per call, never the max_iter warning."""
    est = MLPClassifier(**{**SGD, "max_iter": 1})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est.partial_fit(X, TARGETS["binary"], classes=[0, 1])
        est.partial_fit(X, TARGETS["binary"])
    assert est.n_iter_ == 1 and est.t_ == 120


def test_fit_warns_at_max_iter():
    with pytest.warns(ConvergenceWarning, match=r"Maximum iterations \(3\) reached"):
        MLPRegressor(**{**SGD, "max_iter": 3}).fit(X, TARGETS["regression-1"])


def test_float32_follows_scikit_learn_closely():
    """In float32 both libraries run in float32; the sums' rounding differs a little
    (measured: weights within 6e-7, loss_curve_ within 5.4e-7 relative)."""
    X32 = X.astype(np.float32)
    for target in ("multiclass-str", "regression-1"):
        theirs, ours, y = _pair(target, **{**SGD, "max_iter": 10})
        theirs.fit(X32, y)
        ours.fit(X32, y)
        _assert_arrays(_weights(ours), _weights(theirs), rtol=0, atol=1e-5)
        np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-5)


def test_signature_is_scikit_learns():
    """Same parameter names, order, kinds and defaults (lucidnet's dropout and dtype last)."""
    for theirs, ours in ((SkMLPClassifier, MLPClassifier), (SkMLPRegressor, MLPRegressor)):
        sk = inspect.signature(theirs).parameters
        ln = inspect.signature(ours).parameters
        assert list(ln) == [*sk, "dropout", "dtype"]
        for name, p in sk.items():
            assert ln[name].kind == p.kind, name
            assert ln[name].default == p.default, name
    assert next(iter(inspect.signature(MLPRegressor).parameters)) == "loss"


# --- 2. Adam ------------------------------------------------------------------------------

ADAM = {**SGD, "solver": "adam", "learning_rate_init": 0.01, "max_iter": 20}


@pytest.mark.parametrize("target", ["binary", "multiclass-str", "multilabel", "regression-2"])
def test_adam_equals_scikit_learn_without_epsilon(target):
    """The only difference is where epsilon sits. scikit-learn:
    ``lr * sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps)``; lucidnet (PyTorch's):
    ``lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)``, i.e. scikit-learn's with
    ``eps * sqrt(1 - b2^t)``. With an epsilon too small to matter the runs are equal."""
    theirs, ours, y = _pair(target, **{**ADAM, "epsilon": 1e-30})
    theirs.fit(X, y)
    ours.fit(X, y)
    _assert_same_state(ours, theirs)
    _assert_same_predictions(ours, theirs, X_TEST)


@pytest.mark.parametrize("target", ["binary", "multiclass-str", "multilabel", "regression-2"])
def test_adam_close_to_scikit_learn_with_default_epsilon(target):
    """With epsilon=1e-8 the smaller effective epsilon changes the steps slightly; over 20
    epochs, measured: loss_curve_ within 9e-7 relative, weights within 1.3e-6. (It grows
    where a weight's gradients are themselves near 1e-8, e.g. a nearly dead ReLU unit:
    1e-4 relative seen on another binary problem.)"""
    theirs, ours, y = _pair(target, **ADAM)
    theirs.fit(X, y)
    ours.fit(X, y)
    assert ours.n_iter_ == theirs.n_iter_
    np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-5)
    _assert_arrays(_weights(ours), _weights(theirs), rtol=0, atol=1e-5)
    # and the difference is real: the runs are not identical
    assert (
        max(np.abs(a - b).max() for a, b in zip(_weights(ours), _weights(theirs), strict=True))
        > 1e-12
    )


# --- 3. L-BFGS ----------------------------------------------------------------------------

LBFGS = {"solver": "lbfgs", "activation": "tanh", "random_state": 1, "tol": 1e-10}


@pytest.mark.parametrize(
    "target, hidden, alpha",
    [
        ("multiclass-str", (3,), 1.0),
        ("binary", (3,), 1.0),
        ("regression-1", (3,), 1.0),
        ("multiclass-str", (), 0.1),
        ("binary", (), 0.1),
        ("regression-1", (), 0.1),
    ],
)
def test_lbfgs_converges_to_scikit_learns_loss(target, hidden, alpha):
    """Both run to convergence (no ConvergenceWarning); measured: relative gaps <= 1.5e-7."""
    theirs, ours, y = _pair(
        target, **{**LBFGS, "hidden_layer_sizes": hidden, "alpha": alpha, "max_iter": 3000}
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        theirs.fit(X, y)
        ours.fit(X, y)
    assert ours.loss_ == pytest.approx(theirs.loss_, rel=1e-6)
    assert ours.n_iter_ <= 3000
    if hidden == ():  # a convex problem: the same minimum, so the same predictions
        if isinstance(theirs, SkMLPClassifier):
            np.testing.assert_allclose(
                ours.predict_proba(X_TEST), theirs.predict_proba(X_TEST), atol=1e-4
            )
        else:
            np.testing.assert_allclose(ours.predict(X_TEST), theirs.predict(X_TEST), atol=1e-4)


def test_lbfgs_two_output_ridge_is_the_closed_form():
    """No hidden layer and two outputs: the minimum of scikit-learn's objective (its
    gradient sums the outputs' half squared errors; scikit-learn's own lbfgs is given the
    outputs' mean as the value with that gradient, so it is not compared here) is ridge
    regression with an unpenalised intercept, ``(A'A + alpha P) B = A'Y``.

    L-BFGS also stops, as SciPy's, when the loss changes by less than ftol = 2.2e-9
    relative: the objective is then that close, the weights only about its square root
    (measured: 4.7e-6; scikit-learn's lbfgs on one output stops as far, 1.9e-5)."""
    y = TARGETS["regression-2"]
    alpha, n = 0.5, len(X)
    est = MLPRegressor(**{**LBFGS, "hidden_layer_sizes": (), "alpha": alpha, "max_iter": 500})
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est.fit(X, y)
    A = np.c_[X, np.ones(n)]
    P = np.diag([1.0] * X.shape[1] + [0.0])
    B = np.linalg.solve(A.T @ A + alpha * P, A.T @ y)
    np.testing.assert_allclose(est.coefs_[0], B[:-1], atol=1e-4)
    np.testing.assert_allclose(est.intercepts_[0], B[-1], atol=1e-4)

    def objective(W, b):  # summed over the outputs: what the gradient is of
        return ((X @ W + b - y) ** 2).sum() / (2 * n) + alpha / (2 * n) * (W**2).sum()

    def reported(W, b):  # what scikit-learn reports: the outputs' mean, plus the penalty
        return ((X @ W + b - y) ** 2).mean() / 2 + alpha / (2 * n) * (W**2).sum()

    best = objective(B[:-1], B[-1])
    reached = objective(est.coefs_[0], est.intercepts_[0])
    assert best <= reached <= best * (1 + 1e-8)
    assert est.loss_ == pytest.approx(reported(est.coefs_[0], est.intercepts_[0]), rel=1e-12)


@pytest.mark.parametrize(
    "limit, match",
    [({"max_iter": 5}, "max_iter reached"), ({"max_fun": 7}, "max_fun reached")],
    ids=["max_iter", "max_fun"],
)
def test_lbfgs_limits_warn(limit, match):
    params = {**LBFGS, "hidden_layer_sizes": (3,), "alpha": 1.0, **limit}
    theirs, ours, y = _pair("multiclass-str", **params)
    with pytest.warns(ConvergenceWarning, match=f"lbfgs failed to converge.*{match}"):
        ours.fit(X, y)
    with pytest.warns(ConvergenceWarning, match="lbfgs failed to converge"):
        theirs.fit(X, y)
    assert 1 <= ours.n_iter_ <= ours.max_iter
    if "max_iter" in limit:
        assert ours.n_iter_ == theirs.n_iter_ == 5
    else:
        assert ours.n_iter_ < ours.max_iter  # max_fun, not max_iter, stopped it


def test_lbfgs_warm_start_counts_iterations_per_fit():
    params = {**LBFGS, "hidden_layer_sizes": (3,), "alpha": 1.0, "max_iter": 5}
    theirs, ours, y = _pair("multiclass-str", **params, warm_start=True)
    losses = []
    for _ in range(3):
        with pytest.warns(ConvergenceWarning, match="lbfgs failed to converge"):
            ours.fit(X, y)
        theirs.fit(X, y)
        assert ours.n_iter_ == theirs.n_iter_ == 5  # per fit, not 5, 10, 15
        losses.append(ours.loss_)
    assert losses[0] > losses[1] > losses[2]  # each fit continues the previous one
    ours.set_params(max_iter=3000, tol=1e-8)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        ours.fit(X, y)
        converged = ours.loss_
        ours.fit(X, y)  # from the minimum: almost nothing left to do
    assert ours.n_iter_ <= 2
    assert ours.loss_ == pytest.approx(converged, rel=1e-8)


@pytest.mark.parametrize("cls", [MLPClassifier, MLPRegressor])
def test_lbfgs_refuses_dropout(cls):
    y = TARGETS["binary"] if cls is MLPClassifier else TARGETS["regression-1"]
    with pytest.raises(ValueError, match=r"solver='lbfgs' needs the same loss.*dropout=0"):
        cls(solver="lbfgs", dropout=0.5).fit(X, y)


@pytest.mark.parametrize("cls", [MLPClassifier, MLPRegressor])
def test_partial_fit_only_for_stochastic_solvers(cls):
    assert not hasattr(cls(solver="lbfgs"), "partial_fit")
    assert hasattr(cls(solver="sgd"), "partial_fit")
    assert hasattr(cls(solver="adam"), "partial_fit")
    with pytest.raises(AttributeError, match="partial_fit"):
        _ = cls(solver="lbfgs").partial_fit


# --- 4. sparse X --------------------------------------------------------------------------

SPARSE_FORMATS = [sp.csr_matrix, sp.csc_matrix, sp.csr_array, sp.csc_array]
_X_SPARSE = np.where(X > 0.3, X, 0.0)  # about 40% non-zero


@pytest.fixture
def densified(monkeypatch):
    """Chunks of 5 rows (DENSE_VALUES = 20 values of 4 features), and the number of rows
    of every block a CSR matrix (what a CSC X is converted to) is made dense into."""
    monkeypatch.setattr(objective, "DENSE_VALUES", 20)
    rows = []
    for cls in (sp.csr_matrix, sp.csr_array):
        original = cls.toarray

        def spy(self, *args, _original=original, **kwargs):
            rows.append(self.shape[0])
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(cls, "toarray", spy)
    return rows


@pytest.mark.parametrize("fmt", SPARSE_FORMATS, ids=lambda f: f.__name__)
@pytest.mark.parametrize(
    "params",
    [
        {"solver": "sgd"},
        {"solver": "sgd", "shuffle": False},
        {"solver": "sgd", "early_stopping": True},
        {"solver": "lbfgs"},
    ],
    ids=["sgd", "sgd-no-shuffle", "sgd-early-stopping", "lbfgs"],
)
@pytest.mark.parametrize("target", ["multiclass-str", "regression-1"])
def test_sparse_equals_dense_a_batch_or_chunk_at_a_time(target, params, fmt, densified):
    """Measured: sgd identical, lbfgs within 7e-14 (its sums run per chunk)."""
    params = {**SGD, **params}
    _, dense_est, y = _pair(target, **params)
    _, sparse_est, _ = _pair(target, **params)
    dense_est.fit(_X_SPARSE, y)
    assert densified == []
    sparse_est.fit(fmt(_X_SPARSE), y)
    limit = 16 if params["solver"] == "sgd" else 5  # a batch; an lbfgs chunk
    assert len(densified) > 1 and max(densified) <= limit
    _assert_arrays(_weights(sparse_est), _weights(dense_est), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(sparse_est.loss_curve_, dense_est.loss_curve_, rtol=1e-12)
    densified.clear()
    out, ref = sparse_est.predict(fmt(X_TEST)), dense_est.predict(X_TEST)
    assert max(densified) <= 5 and sum(densified) == len(X_TEST)  # chunk by chunk, once
    if isinstance(sparse_est, MLPClassifier):
        np.testing.assert_array_equal(out, ref)
        out, ref = sparse_est.predict_proba(fmt(X_TEST)), dense_est.predict_proba(X_TEST)
    np.testing.assert_allclose(out, ref, rtol=1e-12, atol=1e-12)


def test_sparse_sgd_equals_scikit_learn():
    y = TARGETS["multiclass-str"]
    theirs, ours, _ = _pair("multiclass-str", **SGD)
    theirs.fit(sp.csr_matrix(_X_SPARSE), y, sample_weight=SW)
    ours.fit(sp.csr_matrix(_X_SPARSE), y, sample_weight=SW)
    _assert_same_state(ours, theirs)


# --- 5. dtype -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "x_dtype, dtype, expected",
    [
        (np.float32, None, np.float32),
        (np.float64, None, np.float64),
        (np.int64, None, np.float64),
        (np.float16, None, np.float64),
        (np.float64, "float32", np.float32),
        (np.int64, "float32", np.float32),
        (np.float32, "float64", np.float64),
        ("csr-float32", None, np.float32),
    ],
)
@pytest.mark.parametrize("target", ["multiclass-str", "regression-1"])
def test_dtype_follows_x_unless_forced(target, x_dtype, dtype, expected):
    if x_dtype == "csr-float32":
        Xd = sp.csr_matrix(X.astype(np.float32))
    else:
        Xd = np.round(X * 2).astype(x_dtype) if x_dtype is np.int64 else X.astype(x_dtype)
    _, est, y = _pair(target, **{**SGD, "max_iter": 3, "dtype": dtype, "learning_rate_init": 0.01})
    est.fit(Xd, y)
    assert all(a.dtype == expected for a in (*est.coefs_, *est.intercepts_))
    out = est.predict_proba(Xd) if isinstance(est, MLPClassifier) else est.predict(Xd)
    # the output: the network's dtype, but float64 rows give float64, as scikit-learn's
    # matmul (scikit-learn validates any X that is not float32 to float64)
    rows = np.float32 if x_dtype in (np.float32, "csr-float32") else np.float64
    assert out.dtype == np.result_type(rows, expected)
    assert np.all(np.isfinite(out))


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize("target", ["multiclass-str", "regression-1"])
def test_forced_float32_refuses_values_beyond_its_range(target, sparse):
    big = X.copy()
    big[7, 2] = 1e39
    big = sp.csr_matrix(big) if sparse else big
    _, est, y = _pair(target, **{**SGD, "max_iter": 2, "dtype": "float32"})
    name = type(est).__name__
    pattern = rf"{name}: X has .*1e\+39.* at row 7, column 2, beyond the range of float32"
    with pytest.raises(ValueError, match=pattern):
        est.fit(big, y)
    est.fit(X, y)
    with pytest.raises(ValueError, match=pattern):
        est.predict(big)
    # without the forced dtype the network is float64 and takes the value (a tiny rate
    # keeps the step from the huge input finite)
    _, est64, _ = _pair(target, **{**SGD, "max_iter": 1, "learning_rate_init": 1e-80})
    est64.fit(big, y)
    assert est64.coefs_[0].dtype == np.float64
    out = est64.predict_proba(X_TEST) if isinstance(est64, MLPClassifier) else est64.predict(X_TEST)
    assert np.all(np.isfinite(out))


# --- 6. divergence and Ctrl-C -------------------------------------------------------------

# regression with momentum 0.9 and a rate that diverges at epoch 9, its lowest loss at 2
DIVERGING = {**SGD, "max_iter": 30, "learning_rate_init": 0.14, "batch_size": 10}


def test_divergence_keeps_the_lowest_loss_epochs_weights():
    y = TARGETS["regression-1"]
    est = MLPRegressor(**DIVERGING)
    with pytest.raises(ValueError, match=r"^Solver produced non-finite parameter weights") as err:
        est.fit(X, y)
    assert "lowest training loss" in str(err.value)
    curve = est.loss_curve_
    assert np.isnan(curve[-1]) and np.all(np.isfinite(curve[:-1]))
    assert est.n_iter_ == len(curve)
    lowest = int(np.argmin(curve[:-1])) + 1  # epochs, from 1
    assert 1 < lowest < len(curve) - 1  # the scenario: neither the first nor the last
    # scikit-learn's run is the same up to the divergence (it carries on with NaN)
    sk = SkMLPRegressor(**DIVERGING)
    with warnings.catch_warnings(), pytest.raises(ValueError, match="non-finite"):
        warnings.simplefilter("ignore")
        sk.fit(X, y)
    np.testing.assert_allclose(curve[:-1], sk.loss_curve_[: len(curve) - 1], rtol=1e-8)
    at_lowest = SkMLPRegressor(**{**DIVERGING, "max_iter": lowest}).fit(X, y)
    _assert_arrays(_weights(est), _weights(at_lowest))
    assert all(np.all(np.isfinite(a)) for a in _weights(est))
    np.testing.assert_allclose(est.predict(X_TEST), at_lowest.predict(X_TEST), atol=TOL)


def test_divergence_in_the_first_epoch_keeps_the_initial_weights():
    est = MLPRegressor(**{**SGD, "learning_rate_init": 1e3, "batch_size": 10})
    with pytest.raises(ValueError, match=r"^Solver produced non-finite.*start of this fit"):
        est.fit(X, TARGETS["regression-1"])
    assert len(est.loss_curve_) == 1 and np.isnan(est.loss_curve_[0])
    _assert_arrays(_weights(est), _glorot(1, [4, 5, 1]), rtol=0, atol=0)


def test_divergence_with_early_stopping_keeps_the_best_validation_weights():
    params = {**DIVERGING, "learning_rate_init": 0.2, "early_stopping": True}
    y = TARGETS["regression-1"]
    est = MLPRegressor(**params)
    with pytest.warns(ConvergenceWarning, match=r"diverged.*weights of the best validation"):
        est.fit(X, y)
    assert np.isnan(est.loss_curve_[-1]) and np.isnan(est.validation_scores_[-1])
    assert len(est.loss_curve_) == len(est.validation_scores_) == est.n_iter_
    assert est.best_validation_score_ == max(est.validation_scores_[:-1])
    # scikit-learn trains on with NaN and also ends on the best validation weights
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sk = SkMLPRegressor(**params).fit(X, y)
    n = est.n_iter_ - 1
    np.testing.assert_allclose(est.validation_scores_[:n], sk.validation_scores_[:n], rtol=1e-8)
    assert est.best_validation_score_ == pytest.approx(sk.best_validation_score_, rel=1e-10)
    _assert_arrays(_weights(est), _weights(sk))
    assert all(np.all(np.isfinite(a)) for a in _weights(est))


def test_divergent_classifier_raises_and_stays_finite():
    est = MLPClassifier(**{**SGD, "learning_rate_init": 10.0, "batch_size": 10, "max_iter": 30})
    with pytest.raises(ValueError, match=r"^Solver produced non-finite parameter weights"):
        est.fit(X * 100, TARGETS["multiclass-str"])
    assert np.isnan(est.loss_curve_[-1])
    assert all(np.all(np.isfinite(a)) for a in _weights(est))
    assert np.all(np.isfinite(est.predict_proba(X_TEST)))


def _interrupt_at(monkeypatch, call):
    """Make ``Trainer.step`` raise KeyboardInterrupt on its ``call``-th call (from 1)."""
    calls = [0]
    original = Trainer.step

    def step(self, *args, **kwargs):
        calls[0] += 1
        if calls[0] == call:
            raise KeyboardInterrupt
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Trainer, "step", step)
    return calls


def test_ctrl_c_keeps_the_weights_of_the_last_full_epoch(monkeypatch):
    y = TARGETS["regression-1"]
    calls = _interrupt_at(monkeypatch, 10)  # 4 batches an epoch: epoch 3, batch 2
    est = MLPRegressor(**SGD)
    with pytest.warns(UserWarning, match=r"^Training interrupted by user\..*start of epoch 3"):
        est.fit(X, y)
    assert calls[0] == 10
    assert est.n_iter_ == 2 and est.t_ == 120 and len(est.loss_curve_) == 2
    two_epochs = SkMLPRegressor(**{**SGD, "max_iter": 2}).fit(X, y)
    _assert_same_state(est, two_epochs)


def test_ctrl_c_at_the_first_step_keeps_the_initial_weights(monkeypatch):
    _interrupt_at(monkeypatch, 1)
    est = MLPClassifier(**{**SGD, "activation": "logistic"})
    with pytest.warns(UserWarning, match="Training interrupted by user"):
        est.fit(X, TARGETS["multiclass-str"])
    assert est.n_iter_ == 0 and est.loss_curve_ == []
    _assert_arrays(_weights(est), _glorot(1, [4, 5, 3], logistic=True), rtol=0, atol=0)


def test_ctrl_c_with_early_stopping_keeps_the_best_validation_weights(monkeypatch):
    y = TARGETS["multiclass-str"]
    params = {**SGD, "early_stopping": True}
    _interrupt_at(monkeypatch, 4 * 4 + 2)  # 54 training rows: 4 batches; epoch 5, batch 2
    est = MLPClassifier(**params)
    with pytest.warns(UserWarning, match="Training interrupted by user"):
        est.fit(X, y)
    assert est.n_iter_ == 4
    four_epochs = SkMLPClassifier(**{**params, "max_iter": 4}).fit(X, y)
    _assert_same_state(est, four_epochs)


def test_ctrl_c_in_partial_fit_keeps_the_previous_calls_weights(monkeypatch):
    y = TARGETS["regression-1"]
    est = MLPRegressor(**SGD).partial_fit(X, y)
    after_first = _weights(est)
    _interrupt_at(monkeypatch, 3)
    with pytest.warns(UserWarning, match="Training interrupted by user"):
        est.partial_fit(X, y)
    _assert_arrays(_weights(est), after_first, rtol=0, atol=0)


# --- 7. coefs_ and intercepts_ are the network's ------------------------------------------


def _relu_forward(est, Xp):
    """The regressor's prediction from its coefs_ / intercepts_, by hand."""
    h = Xp
    for W, b in zip(est.coefs_[:-1], est.intercepts_[:-1], strict=True):
        h = np.maximum(h @ W + b, 0.0)
    return (h @ est.coefs_[-1] + est.intercepts_[-1]).ravel()


@pytest.fixture
def fitted():
    return MLPRegressor(**{**SGD, "max_iter": 5}).fit(X, TARGETS["regression-1"])


def test_coefs_edited_in_place_change_predict(fitted):
    before = fitted.predict(X_TEST)
    np.testing.assert_allclose(before, _relu_forward(fitted, X_TEST), rtol=1e-12)
    fitted.coefs_[1][...] = 0.0
    np.testing.assert_allclose(fitted.predict(X_TEST), fitted.intercepts_[1][0], rtol=1e-12)
    fitted.intercepts_[0] += 1.0
    fitted.coefs_[1][...] = 1.0
    after = fitted.predict(X_TEST)
    np.testing.assert_allclose(after, _relu_forward(fitted, X_TEST), rtol=1e-12)
    assert not np.allclose(after, before)


def test_coefs_assigned_are_adopted(fitted):
    rng = np.random.RandomState(5)
    fitted.coefs_[0] = rng.randn(4, 5)
    fitted.intercepts_[1] = np.array([2.5])
    expected = _relu_forward(fitted, X_TEST)
    np.testing.assert_allclose(fitted.predict(X_TEST), expected, rtol=1e-12)
    # adopted means copied into the network, which coefs_ shows again
    assert np.shares_memory(fitted.coefs_[0], fitted.model_.layers[0].weights)
    fitted.coefs_ = [np.ones((4, 5)), np.full((5, 1), 0.5)]  # the whole list replaced
    np.testing.assert_allclose(fitted.predict(X_TEST), _relu_forward(fitted, X_TEST))


def test_coefs_assigned_before_a_warm_fit_equal_scikit_learn():
    y = TARGETS["multiclass-str"]
    theirs, ours, _ = _pair("multiclass-str", **{**SGD, "max_iter": 4, "warm_start": True})
    theirs.fit(X, y)
    ours.fit(X, y)
    new_coef = np.linspace(-1, 1, 20).reshape(4, 5)
    new_intercept = np.array([0.5, -0.25, 0.0])
    for est in (theirs, ours):
        est.coefs_[0] = new_coef.copy()
        est.intercepts_[1] = new_intercept.copy()
        est.fit(X, y)
    _assert_same_state(ours, theirs)


def test_coefs_of_the_wrong_shape_are_refused(fitted):
    fitted.coefs_[0] = np.ones((4, 4))
    message = "MLPRegressor: coefs_[0] has shape (4, 4); layer 0 (dense) needs (4, 5)"
    with pytest.raises(ValueError, match=re.escape(message)):
        fitted.predict(X_TEST)
    fitted.coefs_[0] = np.ones((4, 5))
    fitted.intercepts_[1] = np.ones(2)
    with pytest.raises(ValueError, match=re.escape("intercepts_[1] has shape (2,)")):
        fitted.predict(X_TEST)
    fitted.intercepts_[1] = np.ones(1)
    fitted.coefs_ = fitted.coefs_[:1]
    with pytest.raises(ValueError, match="coefs_ has 1 arrays but the network has 2 layers"):
        fitted.predict(X_TEST)


def test_pickle_keeps_coefs_linked_to_the_network(fitted):
    clone = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(clone.predict(X_TEST), fitted.predict(X_TEST))
    assert np.shares_memory(clone.coefs_[1], clone.model_.layers[-1].weights)
    clone.coefs_[1][...] *= 2.0
    np.testing.assert_allclose(clone.predict(X_TEST), _relu_forward(clone, X_TEST))
    assert not np.allclose(clone.predict(X_TEST), fitted.predict(X_TEST))


@pytest.mark.parametrize("roundtrip", ["pickle", "deepcopy"])
def test_coefs_assigned_survive_a_copy(fitted, roundtrip):
    fitted.coefs_[1] = np.zeros((5, 1))  # assigned, not used yet
    copied = pickle.loads(pickle.dumps(fitted)) if roundtrip == "pickle" else copy.deepcopy(fitted)
    np.testing.assert_allclose(copied.predict(X_TEST), fitted.predict(X_TEST))


@pytest.mark.parametrize("sklearn_extras", [False, True], ids=["bare", "sklearn-attributes"])
def test_network_built_from_user_coefs_worked_example(sklearn_extras):
    """scikit-learn's test_fit, compacted: weights set by hand, one partial_fit step,
    checked against the step written out in NumPy (logistic units, momentum 0)."""
    Xw = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.5]])
    yw = np.array([1, 0])
    W1 = np.array([[0.2, -0.1], [0.4, 0.3], [-0.3, 0.1]])
    b1 = np.array([0.05, -0.2])
    W2 = np.array([[0.6], [-0.4]])
    b2 = np.array([0.3])
    lr, alpha, n = 0.5, 0.2, 2

    def sigmoid(z):
        return 1.0 / (1.0 + np.exp(-z))

    h = sigmoid(Xw @ W1 + b1)
    p = sigmoid(h @ W2 + b2)
    loss = -np.mean(yw * np.log(p[:, 0]) + (1 - yw) * np.log(1 - p[:, 0]))
    loss += alpha / (2 * n) * ((W1**2).sum() + (W2**2).sum())
    d2 = (p - yw[:, None]) / n
    d1 = d2 @ W2.T * h * (1 - h)
    new = [
        W1 - lr * (Xw.T @ d1 + alpha / n * W1),
        W2 - lr * (h.T @ d2 + alpha / n * W2),
        b1 - lr * d1.sum(axis=0),
        b2 - lr * d2.sum(axis=0),
    ]
    proba = sigmoid(sigmoid(Xw @ new[0] + new[2]) @ new[1] + new[3])[:, 0]

    mlp = MLPClassifier(
        hidden_layer_sizes=2,
        activation="logistic",
        solver="sgd",
        learning_rate_init=lr,
        alpha=alpha,
        momentum=0.0,
        random_state=1,
        max_iter=1,
    )
    mlp.coefs_ = [W1.copy(), W2.copy()]
    mlp.intercepts_ = [b1.copy(), b2.copy()]
    if sklearn_extras:  # what scikit-learn's test sets besides the weights
        mlp.n_outputs_, mlp.n_layers_, mlp.n_features_in_ = 1, 3, 3
        mlp.n_iter_, mlp.t_, mlp.best_loss_, mlp.loss_curve_ = 0, 0, np.inf, []
        mlp.out_activation_ = "logistic"
        mlp._no_improvement_count = 0
    mlp.partial_fit(Xw, yw, classes=[0, 1])
    _assert_arrays(_weights(mlp), new, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(mlp.loss_curve_, [loss], rtol=1e-12)
    np.testing.assert_allclose(mlp.predict_proba(Xw)[:, 1], proba, rtol=1e-12)
    assert mlp.n_iter_ == 1 and mlp.t_ == 2


# --- 8. errors and their messages ---------------------------------------------------------


def _messages(theirs_call, ours_call, error=ValueError):
    """Both calls raise ``error``; return the two messages."""
    with pytest.raises(error) as theirs:
        theirs_call()
    with pytest.raises(error) as ours:
        ours_call()
    return str(ours.value), str(theirs.value)


@pytest.mark.parametrize("target", ["binary", "regression-1"])
def test_partial_fit_refuses_early_stopping(target):
    theirs, ours, y = _pair(target, **{**SGD, "early_stopping": True})
    kwargs = {"classes": [0, 1]} if target == "binary" else {}
    msg, sk = _messages(
        lambda: theirs.partial_fit(X, y, **kwargs), lambda: ours.partial_fit(X, y, **kwargs)
    )
    assert msg.startswith(sk)  # "partial_fit does not support early_stopping=True"
    assert not hasattr(ours, "coefs_")


@pytest.mark.parametrize("target", ["multiclass-str", "multilabel", "regression-2"])
def test_validation_set_too_small(target):
    theirs, ours, y = _pair(target, **{**SGD, "early_stopping": True})
    msg, sk = _messages(lambda: theirs.fit(X[:10], y[:10]), lambda: ours.fit(X[:10], y[:10]))
    assert sk.startswith("The validation set is too small.")
    assert msg.startswith(sk.rstrip("."))
    assert "held out 1 of 10 rows" in msg


def test_warm_start_with_other_classes():
    y = TARGETS["multiclass-str"]
    fewer = y != "c"
    theirs, ours, _ = _pair("multiclass-str", **{**SGD, "max_iter": 2, "warm_start": True})
    msg, sk = _messages(
        lambda: theirs.fit(X, y).fit(X[fewer], y[fewer]),
        lambda: ours.fit(X, y).fit(X[fewer], y[fewer]),
    )
    assert msg == sk
    assert msg.startswith("warm_start can only be used where `y` has the same classes")


def test_partial_fit_classes_errors():
    y = TARGETS["multiclass-str"]
    theirs, ours, _ = _pair("multiclass-str", **SGD)
    msg, sk = _messages(lambda: theirs.partial_fit(X, y), lambda: ours.partial_fit(X, y))
    assert msg == sk == "classes must be passed on the first call to partial_fit."
    theirs.partial_fit(X, y, classes=["a", "b", "c"])
    ours.partial_fit(X, y, classes=["a", "b", "c"])
    msg, sk = _messages(
        lambda: theirs.partial_fit(X, y, classes=["a", "b", "d"]),
        lambda: ours.partial_fit(X, y, classes=["a", "b", "d"]),
    )
    assert msg == sk
    assert "is not the same as on last call to partial_fit" in msg
    other = np.where(y == "a", "z", y)
    msg, sk = _messages(lambda: theirs.partial_fit(X, other), lambda: ours.partial_fit(X, other))
    assert msg == sk
    assert msg.startswith("`y` has classes not in `self.classes_`")


@pytest.mark.parametrize(
    "param, value, expected",
    [
        ("solver", "newton", "one of lbfgs, sgd, adam, rmsprop, adamw, got 'newton'"),
        ("learning_rate", "linear", "one of constant, invscaling, adaptive, step,"),
        ("n_iter_no_change", 0, "an int >= 1 or numpy.inf, got 0"),
        ("n_iter_no_change", 2.5, "an int >= 1 or numpy.inf, got 2.5"),
    ],
)
@pytest.mark.parametrize("cls", [MLPClassifier, MLPRegressor])
def test_bad_parameter_names(cls, param, value, expected):
    y = TARGETS["binary"] if cls is MLPClassifier else TARGETS["regression-1"]
    est = cls(**{param: value})  # __init__ stores it unchecked
    assert getattr(est, param) == value
    with pytest.raises(ValueError, match=f"^{cls.__name__}: {param} must be {re.escape(expected)}"):
        est.fit(X, y)
    sk = (SkMLPClassifier if cls is MLPClassifier else SkMLPRegressor)(**{param: value})
    with pytest.raises(ValueError, match=param):  # scikit-learn refuses it too
        sk.fit(X, y)


def test_bad_loss_name():
    with pytest.raises(
        ValueError, match=r"^MLPRegressor: loss must be one of squared_error, poisson, got 'mae'"
    ):
        MLPRegressor("mae").fit(X, TARGETS["regression-1"])


# --- 9. pandas ----------------------------------------------------------------------------


@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("target", ["binary-str", "regression-1"])
def test_dataframe_with_early_stopping_gives_no_feature_name_warning(target, solver):
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    _, est, y = _pair(target, **{**SGD, "solver": solver, "early_stopping": True, "max_iter": 4})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(frame, y)
        est.predict(frame)
        est.score(frame, y)
    np.testing.assert_array_equal(est.feature_names_in_, ["a", "b", "c", "d"])
    assert len(est.validation_scores_) == est.n_iter_
    with pytest.warns(UserWarning, match="X does not have valid feature names"):
        est.predict(X)  # the check is live: a plain array after a frame is noticed


# --- 10. more of scikit-learn's semantics -------------------------------------------------


def test_single_class_fits_and_predicts_that_class():
    only = np.full(60, "only")
    theirs = SkMLPClassifier(**{**SGD, "max_iter": 3}).fit(X, only)
    est = MLPClassifier(**{**SGD, "max_iter": 3}).fit(X, only)
    np.testing.assert_array_equal(est.classes_, ["only"])
    np.testing.assert_array_equal(est.predict(X_TEST), theirs.predict(X_TEST))
    np.testing.assert_array_equal(est.predict(X_TEST), np.full(15, "only"))
    assert est.score(X_TEST, np.full(15, "only")) == 1.0
    # one column per class (scikit-learn's has two columns for its one class)
    np.testing.assert_array_equal(est.predict_proba(X_TEST), np.ones((15, 1)))


def _saturated_fits():
    """A logistic regression whose first predictions are confidently wrong (logits ~ +-300:
    probabilities far below float64's eps)."""
    Xs = np.array([[1000.0], [-1000.0], [500.0], [-500.0]])
    ys = np.array([0, 1, 0, 1])
    params = {
        "hidden_layer_sizes": (),
        "solver": "sgd",
        "random_state": 0,
        "max_iter": 1,
        "learning_rate_init": 1e-4,
        "shuffle": False,
    }
    return SkMLPClassifier(**params).fit(Xs, ys), MLPClassifier(**params).fit(Xs, ys)


def test_saturated_log_loss_takes_scikit_learns_step():
    theirs, ours = _saturated_fits()
    _assert_arrays(_weights(ours), _weights(theirs))


def test_saturated_log_loss_is_exact_where_scikit_learn_clips():
    """A documented difference (docs/sklearn.md): lucidnet's log loss comes from the logits
    and is exact; scikit-learn clips the probabilities to [eps, 1 - eps], so it counts a
    confidently wrong label as at most -log(eps) ~ 36.04. The steps are the same."""
    theirs, ours = _saturated_fits()
    Xs, ys = np.array([[1000.0], [-1000.0], [500.0], [-500.0]]), np.array([0, 1, 0, 1])
    rs = np.random.RandomState(0)  # the first weights: Glorot's uniform, bound sqrt(6 / 2)
    w, b = (
        rs.uniform(-np.sqrt(3.0), np.sqrt(3.0), (1, 1)),
        rs.uniform(-np.sqrt(3.0), np.sqrt(3.0), 1),
    )
    z = (Xs @ w + b).ravel()
    exact = np.mean(np.logaddexp(0.0, z) - ys * z)  # softplus(z) - y z, no clipping
    exact += 1e-4 / (2 * 4) * float(w[0, 0] ** 2)  # alpha / (2 n) sum(coef^2)
    eps = np.finfo(np.float64).eps
    assert theirs.loss_curve_[0] <= -np.log(eps) + 1e-6  # clipped: at most -log(eps) a label
    np.testing.assert_allclose(ours.loss_curve_[0], exact, rtol=1e-12)
    assert ours.loss_curve_[0] > 2 * theirs.loss_curve_[0]
    np.testing.assert_allclose(_weights(ours)[0], _weights(theirs)[0], rtol=1e-10)


def test_poisson_regressor_equals_scikit_learn():
    theirs, ours, y = _pair("regression-1", **{**SGD, "loss": "poisson", "max_iter": 5})
    counts = np.round(np.abs(y))
    theirs.fit(X, counts)
    ours.fit(X, counts)
    _assert_same_state(ours, theirs)
    np.testing.assert_allclose(ours.predict(X_TEST), theirs.predict(X_TEST), rtol=TOL)


# --- 11. after a review: refused fits change nothing, interrupts and swaps keep the truth --


def test_a_refused_fit_leaves_the_fitted_estimator_as_it_was():
    est = MLPRegressor(**{**SGD, "dtype": "float32"}).fit(X, TARGETS["regression-1"])
    before, n_iter, curve = est.predict(X_TEST), est.n_iter_, list(est.loss_curve_)
    bad = X.copy()
    bad[7, 1] = 1e39  # finite in float64, infinite in the float32 network
    with pytest.raises(ValueError, match=r"X has 1e\+39 at row 7, column 1"):
        est.fit(bad, TARGETS["regression-1"])
    y_bad = TARGETS["regression-1"].copy()
    y_bad[3] = -1e39
    with pytest.raises(ValueError, match=r"y has -1e\+39 at index 3,"):
        est.fit(X, y_bad)
    small = MLPRegressor(**{**SGD, "early_stopping": True, "validation_fraction": 0.01})
    est.set_params(early_stopping=True, validation_fraction=0.01)
    with pytest.raises(ValueError, match="The validation set is too small"):
        est.fit(X, TARGETS["regression-1"])  # 1 of 60 rows: refused before any change
    with pytest.raises(ValueError, match="The validation set is too small"):
        small.fit(X, TARGETS["regression-1"])
    np.testing.assert_array_equal(est.predict(X_TEST), before)
    assert est.n_iter_ == n_iter and est.loss_curve_ == curve


def test_warm_started_early_stopping_that_diverges_keeps_the_previous_fit():
    est = MLPRegressor(**{**SGD, "warm_start": True}).fit(X, TARGETS["regression-1"])
    before = est.predict(X_TEST)
    est.set_params(early_stopping=True, learning_rate_init=1e200)
    with pytest.warns(ConvergenceWarning, match="keeps the weights from the start of this fit"):
        est.fit(X, TARGETS["regression-1"])
    assert np.isnan(est.validation_scores_[-1])
    np.testing.assert_array_equal(est.predict(X_TEST), before)


def test_ctrl_c_under_early_stopping_says_it_keeps_the_best_weights(monkeypatch):
    est = MLPClassifier(**{**SGD, "early_stopping": True, "max_iter": 30})
    real_step, calls = Trainer.step, []

    def step(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 12:  # the last batch of epoch 3 (54 training rows: 4 batches)
            raise KeyboardInterrupt
        return real_step(self, *args, **kwargs)

    monkeypatch.setattr(Trainer, "step", step)
    with pytest.warns(UserWarning, match="keeps the weights of the best validation score"):
        est.fit(X, TARGETS["binary"])
    assert len(est.validation_scores_) == 2
    best = int(np.argmax(est.validation_scores_))
    assert est.best_validation_score_ == est.validation_scores_[best]


def test_ctrl_c_in_lbfgs_keeps_the_last_accepted_point(monkeypatch):
    from lucidnet.sklearn import solvers

    real, seen = solvers.minimize, {}

    def minimize(fun, x0, **kwargs):
        count = [0]

        def interrupted(theta):
            count[0] += 1
            if count[0] == 12:
                raise KeyboardInterrupt
            return fun(theta)

        def callback(theta, f):
            seen["x"], seen["f"] = theta.copy(), f
            kwargs["callback"](theta, f)

        return real(interrupted, x0, **{**kwargs, "callback": callback})

    monkeypatch.setattr(solvers, "minimize", minimize)
    est = MLPRegressor(hidden_layer_sizes=(5,), solver="lbfgs", random_state=0, max_iter=200)
    with pytest.warns(UserWarning, match=r"Training interrupted by user\. .* L-BFGS iteration"):
        est.fit(X, TARGETS["regression-1"])
    flat = est.model_.parameters().flat.values
    np.testing.assert_array_equal(flat, seen["x"])  # the last accepted point, not a trial
    assert est.n_iter_ == len(est.loss_curve_) > 0 and est.loss_ == est.loss_curve_[-1]


def test_a_network_assigned_to_model_replaces_the_arrays(tmp_path):
    import lucidnet as ln

    good = MLPRegressor(**SGD).fit(X, TARGETS["regression-1"])
    est = MLPRegressor(**{**SGD, "max_iter": 1}).fit(X, TARGETS["regression-1"])
    path = tmp_path / "good.lucid"
    good.model_.save(str(path))
    est.model_ = ln.load(str(path))
    np.testing.assert_allclose(est.predict(X_TEST), good.predict(X_TEST), rtol=1e-12)
    assert est.coefs_[0] is est.model_.layers[0].weights


def test_scikit_learns_looser_inputs():
    y = TARGETS["binary"]
    MLPClassifier(**{**SGD, "validation_fraction": 0.0}).fit(X, y)  # allowed without early stop
    scalar = MLPClassifier(**SGD).fit(X, y, sample_weight=2.0)
    full = MLPClassifier(**SGD).fit(X, y, sample_weight=np.full(len(X), 2.0))
    _assert_arrays(_weights(scalar), _weights(full), rtol=0, atol=0)
    est32 = MLPClassifier(**{**SGD, "dtype": "float32"}).fit(X, y)
    assert est32.predict_proba(X_TEST).dtype == np.float64  # float64 rows, as scikit-learn
    assert est32.predict_proba(X_TEST.astype(np.float32)).dtype == np.float32


def test_lbfgs_says_max_fun_when_a_line_search_runs_out_of_evaluations():
    from lucidnet.lbfgs import minimize

    def steep(x):  # a line search that needs several evaluations from the first step on
        return float(np.sum(np.exp(x)) - np.sum(x)), np.exp(x) - 1.0

    result = minimize(steep, np.full(3, 5.0), max_fun=3)
    assert not result.converged and result.message == "max_fun reached"
