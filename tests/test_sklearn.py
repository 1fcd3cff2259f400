"""Tests of ``lucidnet.sklearn``: scikit-learn's own estimator checks, the ecosystem
(Pipeline, GridSearchCV, cross_val_score, clone, pickle), the hyperparameters beyond
scikit-learn's, and the Rosenblatt Perceptron."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")  # the optional extra: without it these tests are skipped

from sklearn.base import clone
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.estimator_checks import parametrize_with_checks

import lucidnet as ln
from blobs import blobs
from lucidnet.sklearn import EXPECTED_FAILED_CHECKS, MLPClassifier, MLPRegressor, Perceptron

# Short trainings end at max_iter on purpose; tests that expect the warning use pytest.warns.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@parametrize_with_checks(
    [MLPClassifier(random_state=0), MLPRegressor(random_state=0), Perceptron()],
    expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS.get(type(est).__name__, {}),
)
def test_scikit_learn_estimator_checks(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)


# --- the ecosystem -------------------------------------------------------------------------


def _blobs(n=120, classes=3, seed=0):
    return blobs(n, classes, seed)


def test_pipeline_cross_val_score_and_clone():
    from sklearn.model_selection import cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = _blobs()
    pipe = make_pipeline(
        StandardScaler(), MLPClassifier((16,), learning_rate_init=0.01, random_state=0)
    )
    scores = cross_val_score(pipe, X, y, cv=3)
    assert scores.shape == (3,) and scores.mean() > 0.85
    twin = clone(pipe)
    assert twin.get_params()["mlpclassifier__hidden_layer_sizes"] == (16,)
    assert not hasattr(twin[-1], "model_")  # clone copies the settings, not the fit


def test_grid_search_with_two_jobs():
    from sklearn.model_selection import GridSearchCV

    X, y = _blobs()
    grid = GridSearchCV(
        MLPClassifier(learning_rate_init=0.01, max_iter=100, random_state=0),
        {"hidden_layer_sizes": [(4,), (16,)], "solver": ["adam", "rmsprop"]},
        cv=2,
        n_jobs=2,
    )
    grid.fit(X, y)
    assert grid.best_params_["hidden_layer_sizes"] in [(4,), (16,)]
    assert len(grid.cv_results_["mean_test_score"]) == 4
    assert grid.best_estimator_.score(X, y) > 0.85


def test_pickle_round_trip_predicts_the_same():
    X, y = _blobs()
    est = MLPClassifier((8,), max_iter=20, random_state=0).fit(X, y)
    back = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(back.predict_proba(X), est.predict_proba(X))
    twin = pickle.loads(pickle.dumps(est))
    back.partial_fit(X, y)  # the optimizer state came along too: the same step as the twin's
    est.partial_fit(X, y)
    assert back.n_iter_ == 1 and len(back.loss_curve_) == len(est.loss_curve_)
    np.testing.assert_array_equal(back.coefs_[0], est.coefs_[0])
    twin.coefs_[0][...] = 0.0  # coefs_ are the network's own arrays after unpickling too
    assert not np.allclose(twin.predict_proba(X), back.predict_proba(X))


def test_model_saves_in_lucidnets_safe_format(tmp_path):
    X, y = _blobs()
    est = MLPClassifier((8,), max_iter=20, random_state=0).fit(X, y)
    path = tmp_path / "est.lucid"
    est.model_.save(str(path))
    loaded = ln.load(str(path))
    np.testing.assert_allclose(loaded.predict(X.astype(np.float32)), est.predict_proba(X))


# --- scikit-learn's bundled data sets, against scikit-learn's own MLP ---------------------


def _split(loader, stratify=True):
    from sklearn.model_selection import train_test_split

    X, y = loader(return_X_y=True)
    return train_test_split(X, y, test_size=0.25, random_state=0, stratify=y if stratify else None)


# The same settings for both; scores are means over SEEDS random states, because a single
# seed's score moves by a test sample or two either way for either library.
MATCHING = {"hidden_layer_sizes": (64,), "alpha": 1e-4, "learning_rate_init": 1e-3, "max_iter": 300}
SEEDS = range(5)


def _mean_scores(make, X_tr, X_te, y_tr, y_te):  # train_test_split's order
    return float(np.mean([make(seed).fit(X_tr, y_tr).score(X_te, y_te) for seed in SEEDS]))


@pytest.mark.parametrize("name", ["breast_cancer", "iris", "digits"])
def test_classification_matches_scikit_learns_mlp(name):
    import sklearn.datasets
    from sklearn.neural_network import MLPClassifier as SkMLP
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    data = _split(getattr(sklearn.datasets, f"load_{name}"))
    ours = _mean_scores(
        lambda seed: make_pipeline(StandardScaler(), MLPClassifier(random_state=seed, **MATCHING)),
        *data,
    )
    theirs = _mean_scores(
        lambda seed: make_pipeline(
            StandardScaler(), SkMLP(solver="adam", random_state=seed, **MATCHING)
        ),
        *data,
    )
    one_sample = 1 / len(data[3])
    print(f"{name}: lucidnet {ours:.4f}, scikit-learn {theirs:.4f} (one sample {one_sample:.4f})")
    assert ours >= theirs - one_sample


def test_diabetes_regression_matches_scikit_learns_mlp():
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.datasets import load_diabetes
    from sklearn.neural_network import MLPRegressor as SkMLP
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    def standardized(regressor):  # inputs and targets standardized, for both
        return TransformedTargetRegressor(
            make_pipeline(StandardScaler(), regressor), transformer=StandardScaler()
        )

    data = _split(load_diabetes, stratify=False)
    ours = _mean_scores(
        lambda seed: standardized(MLPRegressor(random_state=seed, **MATCHING)), *data
    )
    theirs = _mean_scores(
        lambda seed: standardized(SkMLP(solver="adam", random_state=seed, **MATCHING)), *data
    )
    print(f"diabetes: lucidnet R^2 {ours:.4f}, scikit-learn {theirs:.4f}")
    assert ours >= theirs - 0.01


# --- what lucidnet adds, and the conventions ------------------------------------------------


def test_dropout_and_one_activation_per_layer_build_that_network():
    X, y = _blobs()
    est = MLPClassifier(
        (8, 6), activation=["tanh", "relu"], dropout=[0.2, 0.0], max_iter=5, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
    kinds = [type(layer).__name__ for layer in est.model_.layers]
    assert kinds == ["Dense", "Tanh", "Dropout", "Dense", "ReLU", "Dense", "Softmax"]
    assert [w.shape for w in est.coefs_] == [(6, 8), (8, 6), (6, 3)]
    assert [b.shape for b in est.intercepts_] == [(8,), (6,), (3,)]
    assert est.n_layers_ == 4 and est.out_activation_ == "softmax"


@pytest.mark.parametrize(
    ("solver", "extra", "kind", "momentum", "nesterov"),
    [
        ("sgd", {"momentum": 0.0}, "SGD", 0.0, False),
        ("sgd", {"nesterovs_momentum": False}, "SGD", 0.9, False),
        ("sgd", {}, "SGD", 0.9, True),  # scikit-learn's default: Nesterov's momentum 0.9
        ("rmsprop", {}, "RMSprop", None, None),
        ("adam", {}, "Adam", None, None),
        ("adamw", {}, "AdamW", None, None),
    ],
)
def test_every_solver_learns(solver, extra, kind, momentum, nesterov):
    X, y = _blobs()
    lr = 0.05 if solver == "sgd" else 0.01
    est = MLPClassifier(
        (16,), solver=solver, learning_rate_init=lr, max_iter=60, random_state=0, **extra
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
    opt = est.model_.optimizer
    assert type(opt).__name__ == kind
    if solver == "sgd":
        assert opt.momentum == momentum and opt.nesterov == nesterov
    assert est.loss_curve_[-1] < est.loss_curve_[0] / 2
    assert est.score(X, y) > 0.9


@pytest.mark.parametrize(
    ("schedule", "last_lr"),
    [
        ("step", 0.01 * 0.5**3),  # halved every 20 // 4 = 5 epochs; epoch 19 is in the 4th
        ("exponential", 0.01 * 0.96**19),
        ("cosine", float(ln.schedules.CosineDecay(0.01, epochs=20)(19))),
    ],
)
def test_schedules_set_the_rate_of_each_epoch(schedule, last_lr):
    X, y = _blobs()
    est = MLPClassifier(
        (8,),
        learning_rate=schedule,
        learning_rate_init=0.01,
        max_iter=20,
        tol=0,
        n_iter_no_change=100,
        warm_start=True,
        random_state=0,
    )
    with pytest.warns(ConvergenceWarning, match=r"Maximum iterations \(20\)"):
        est.fit(X, y)
    assert est.n_iter_ == 20
    assert est.model_.optimizer.lr == pytest.approx(last_lr)
    with pytest.warns(ConvergenceWarning):
        est.fit(X, y)  # a warm start restarts the schedule: the same rates again
    assert est.n_iter_ == 20 and len(est.loss_curve_) == 40  # n_iter_ counts this fit
    assert est.model_.optimizer.lr == pytest.approx(last_lr)


def test_adaptive_divides_the_rate_by_five_where_it_would_stop():
    X, y = _blobs()
    est = MLPClassifier(
        (8,),
        solver="sgd",
        learning_rate="adaptive",
        learning_rate_init=0.1,
        tol=10.0,
        n_iter_no_change=2,
        max_iter=7,
        random_state=0,
    )
    with pytest.warns(ConvergenceWarning):
        est.fit(X, y)  # tol=10: only the first epoch counts as progress
    assert est.model_.optimizer.lr == pytest.approx(0.1 * 0.2**2)  # after epochs 4 and 7


def test_stops_when_the_loss_stops_improving_like_scikit_learn():
    X, y = _blobs()
    est = MLPClassifier((8,), tol=10.0, n_iter_no_change=3, max_iter=100, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # it stopped, so no warning
        est.fit(X, y)
    # the first epoch improves on infinity; then more than n_iter_no_change without progress
    assert est.n_iter_ == 1 + 3 + 1
    assert len(est.loss_curve_) == 5 and est.best_loss_ == min(est.loss_curve_)


class _SpyOnValidation(MLPClassifier):
    """Keeps the held-out rows that early stopping scores, to check the kept weights."""

    def _validation_score(self, X_val, y_val, sample_weight):
        self.held_out = (X_val, y_val)
        return super()._validation_score(X_val, y_val, sample_weight)


def test_early_stopping_records_validation_scores_and_keeps_the_best_weights():
    X, y = _blobs(n=200)
    est = _SpyOnValidation(
        (16,),
        early_stopping=True,
        validation_fraction=0.25,
        n_iter_no_change=5,
        max_iter=200,
        random_state=0,
    ).fit(X, y)
    scores = est.validation_scores_
    assert len(scores) == est.n_iter_ == len(est.loss_curve_)
    assert est.best_loss_ is None  # scikit-learn's: the loss is not what stops it
    assert est.n_iter_ < 200  # it stopped early
    assert len(est.held_out[0]) == 50  # a quarter of the rows, never trained on
    assert est.best_validation_score_ == max(scores)
    assert est.score(*est.held_out) == est.best_validation_score_  # the best weights


def test_partial_fit_runs_one_epoch_and_needs_classes_first():
    X, y = _blobs()
    est = MLPClassifier((8,), random_state=0)
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        est.partial_fit(X, y)
    est.partial_fit(X[:60], y[:60], classes=[0, 1, 2])
    est.partial_fit(X[60:], y[60:])
    assert est.n_iter_ == 1 and len(est.loss_curve_) == 2 and est.t_ == 120
    with pytest.raises(ValueError, match=r"`y` has classes not in `self.classes_`"):
        est.partial_fit(X, y + 5)


def test_warm_start_continues_from_the_current_weights():
    X, y = _blobs()
    est = MLPClassifier(
        (8,), max_iter=5, tol=0, n_iter_no_change=100, warm_start=True, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
        first = [w.copy() for w in est.coefs_]
        est.fit(X, y)
    assert est.n_iter_ == 5 and len(est.loss_curve_) == 10 and est.t_ == 10 * len(X)
    assert not np.array_equal(first[0], est.coefs_[0])
    cold = MLPClassifier((8,), max_iter=5, tol=0, n_iter_no_change=100, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        cold.fit(X, y)
        cold.fit(X, y)
    assert cold.n_iter_ == 5  # without warm_start, a fresh network each time


def test_same_random_state_same_weights_and_the_dtype_of_x():
    X, y = _blobs()
    kw = {"hidden_layer_sizes": (8,), "max_iter": 10, "random_state": 3}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a, b = MLPClassifier(**kw).fit(X, y), MLPClassifier(**kw).fit(X, y)
        c = MLPClassifier(**kw).fit(X.astype(np.float32), y)
        d = MLPClassifier(dtype="float32", **kw).fit(X, y)
    np.testing.assert_array_equal(a.coefs_[0], b.coefs_[0])
    assert a.coefs_[0].dtype == np.float64 and a.predict_proba(X).dtype == np.float64
    for est in (c, d):  # float32 data, or float32 asked for
        assert est.coefs_[0].dtype == np.float32
        assert est.predict_proba(X.astype(np.float32)).dtype == np.float32
    assert d.predict_proba(X).dtype == np.float64  # float64 rows give float64, as scikit-learn


def test_binary_gives_one_sigmoid_output_and_two_probability_columns():
    X, y = _blobs(classes=2)
    labels = np.array(["no", "yes"])[y]
    est = MLPClassifier((8,), learning_rate_init=0.01, random_state=0).fit(X, labels)
    assert est.model_.layers[-1].__class__.__name__ == "Sigmoid" and est.n_outputs_ == 1
    p = est.predict_proba(X)
    assert p.shape == (len(X), 2)
    np.testing.assert_allclose(p.sum(axis=1), 1, rtol=1e-6)
    assert set(est.predict(X)) <= {"no", "yes"} and est.score(X, labels) > 0.9


def test_multilabel_targets_get_one_sigmoid_per_label():
    from sklearn.datasets import make_multilabel_classification

    X, Y = make_multilabel_classification(n_samples=150, n_features=8, n_classes=3, random_state=0)
    est = MLPClassifier((32,), max_iter=300, random_state=0).fit(X, Y)
    assert est.predict(X).shape == Y.shape and est.predict_proba(X).shape == Y.shape
    np.testing.assert_array_equal(est.classes_, [0, 1, 2])
    assert est.score(X, Y) > 0.5  # subset accuracy (every label right)


def test_regressor_single_and_multi_output():
    X, y = make_regression(n_samples=150, n_features=5, noise=1.0, random_state=0)
    y = y / y.std()
    est = MLPRegressor(
        hidden_layer_sizes=(32,), max_iter=300, learning_rate_init=0.01, random_state=0
    ).fit(X, y)
    assert est.predict(X).shape == (150,) and est.score(X, y) > 0.9
    Y = np.column_stack([y, -2 * y])
    multi = MLPRegressor(
        hidden_layer_sizes=(32,), max_iter=300, learning_rate_init=0.01, random_state=0
    ).fit(X, Y)
    assert multi.predict(X).shape == (150, 2) and multi.score(X, Y) > 0.9


def test_verbose_prints_a_line_per_epoch(capsys):
    X, y = _blobs()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        MLPClassifier((4,), max_iter=3, verbose=True, random_state=0).fit(X, y)
    out = capsys.readouterr()
    assert out.out.count("Iteration ") == 3 and out.out.count("loss = ") == 3


@pytest.mark.parametrize(
    ("param", "value", "match"),
    [
        ("hidden_layer_sizes", (8, 0), "hidden_layer_sizes"),
        ("activation", ["relu"] * 3, "activation has 3 entries"),
        ("activation", "swish", "unknown activation"),
        ("dropout", 1.0, "dropout"),
        ("solver", "newton", "solver must be one of"),
        ("learning_rate", "sometimes", "learning_rate must be one of"),
        ("n_iter_no_change", 0, "n_iter_no_change must be an int >= 1 or numpy.inf"),
        ("max_fun", 0, "max_fun must be an int >= 1"),
        ("momentum", 1.5, "momentum must be"),
        ("alpha", -1.0, "alpha"),
        ("batch_size", 0, "batch_size"),
        ("max_iter", 0, "max_iter"),
        ("validation_fraction", 1.0, "validation_fraction"),
        ("dtype", "float16", "float32 or float64"),
    ],
)
def test_bad_hyperparameters_fail_in_fit_with_their_name(param, value, match):
    X, y = _blobs()
    est = MLPClassifier(**{param: value})  # __init__ accepts anything: scikit-learn's rule
    assert est.get_params()[param] == value
    with pytest.raises(ValueError, match=match):
        est.fit(X, y)


# --- Perceptron -----------------------------------------------------------------------------

# Its tests, against scikit-learn's Perceptron: tests/test_sklearn_perceptron.py


def test_the_code_blocks_of_docs_sklearn_md_run(capsys):
    import re
    from pathlib import Path

    doc = Path(__file__).resolve().parents[1] / "docs" / "sklearn.md"
    blocks = re.findall(r"```python\n(.*?)```", doc.read_text(), re.S)
    assert len(blocks) == 3
    namespace: dict = {}
    for code in blocks:  # one namespace: later blocks use what earlier ones made
        exec(compile(code, str(doc), "exec"), namespace)
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("test accuracy ") and float(out[0].split()[-1]) > 0.9
    assert "Total params:" in "\n".join(out)  # the summary of model_
    assert out[-3].startswith("[0 0 0 1] True") and out[-2] == "False"  # AND, then XOR
    assert out[-1] == "True"  # the .lucid file predicts what the estimator does


# --- warm starts, repeated fits and partial_fit (after a review) -----------------------------


def test_warm_start_with_early_stopping_keeps_the_best_weights_across_fits():
    X, y = make_classification(300, 10, flip_y=0.3, random_state=1)
    est = _SpyOnValidation(
        (32,),
        early_stopping=True,
        warm_start=True,
        n_iter_no_change=3,
        learning_rate_init=0.05,
        random_state=0,
    )
    for _ in (1, 2):  # the best score (and its weights) carry over, as scikit-learn's
        est.fit(X, y)
        assert est.score(*est.held_out) == est.best_validation_score_
        assert len(est.validation_scores_) == len(est.loss_curve_)
        assert est.best_validation_score_ == max(est.validation_scores_)


def test_warm_start_refuses_a_changed_network_and_takes_a_new_learning_rate():
    X, y = _blobs()
    est = MLPClassifier((8,), max_iter=3, warm_start=True, random_state=0).fit(X, y)
    est.set_params(learning_rate_init=0.05)
    est.fit(X, y)
    assert est.model_.optimizer.lr == 0.05
    for param, value, match in [
        ("hidden_layer_sizes", (4, 4), "hidden_layer_sizes changed"),
        ("dropout", 0.5, "dropout changed"),
        ("activation", "tanh", "activation changed"),
        ("dtype", "float32", "dtype='float32' but the network was built in float64"),
    ]:
        changed = pickle.loads(pickle.dumps(est)).set_params(**{param: value})
        with pytest.raises(ValueError, match=match):
            changed.fit(X, y)
    est.set_params(solver="sgd").fit(X, y)  # the solver may change: each fit makes its own
    assert type(est.model_.optimizer).__name__ == "SGD"


def test_refit_without_warm_start_builds_a_new_network_for_new_data():
    X, y = _blobs()
    est = MLPClassifier((8,), max_iter=5, random_state=0).fit(X, y)
    X2, y2 = _blobs(classes=2)
    est.fit(X2[:, :4], np.array(["a", "b"])[y2])
    assert est.coefs_[0].shape == (4, 8) and est.n_outputs_ == 1
    assert list(est.classes_) == ["a", "b"] and est.n_iter_ == 5


def test_classifier_rejects_targets_of_another_kind():
    X, y = _blobs()
    with pytest.raises(ValueError, match="multiclass-multioutput"):
        MLPClassifier().fit(X, np.column_stack([y, y]))
    est = MLPClassifier((4,), max_iter=2).fit(X, y)
    indicator = np.column_stack([y == 0, y >= 1, np.ones_like(y)]).astype(int)
    with pytest.raises(ValueError, match="one label per sample"):
        est.partial_fit(X, indicator)


def test_the_penalty_follows_the_batch_of_each_call_and_the_labels():
    from sklearn.datasets import make_multilabel_classification

    X, y = _blobs()
    est = MLPClassifier((4,), alpha=1.0, random_state=0)
    est.partial_fit(X[:10], y[:10], classes=[0, 1, 2])
    assert est.model_.layers[0].l2 == pytest.approx(0.5 / 10)
    est.partial_fit(X, y)
    assert est.model_.layers[0].l2 == pytest.approx(0.5 / 120)
    Xm, Ym = make_multilabel_classification(n_samples=50, n_classes=5, random_state=0)
    multi = MLPClassifier((4,), alpha=1.0, max_iter=1, random_state=0).fit(Xm, Ym)
    assert multi.model_.layers[0].l2 == pytest.approx(0.5 / 50)  # the labels: in the weights
    Xr, yr = make_regression(n_samples=40, n_features=3, random_state=0)
    reg = MLPRegressor(hidden_layer_sizes=(4,), alpha=1.0, max_iter=1, random_state=0)
    reg.fit(Xr, yr, sample_weight=np.full(40, 2.0))
    assert reg.model_.layers[0].l2 == pytest.approx(0.5 / 80)  # alpha / (2 sum(w))


def test_regressor_takes_one_output_as_a_vector_or_a_column():
    X, y = make_regression(n_samples=60, n_features=3, random_state=0)
    est = MLPRegressor(hidden_layer_sizes=(4,), max_iter=2, random_state=0).fit(X, y[:, None])
    est.partial_fit(X, y)
    est.partial_fit(X, y[:, None])
    assert est.predict(X).shape == (60,) and est.predict(X).dtype == np.float64
    with pytest.raises(ValueError, match="2 output"):
        est.partial_fit(X, np.column_stack([y, y]))


def test_predict_log_proba_and_feature_names():
    pd = pytest.importorskip("pandas")
    X, y = _blobs()
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(6)])
    est = MLPClassifier((8,), max_iter=5, random_state=0).fit(frame, y)
    assert list(est.feature_names_in_) == list(frame.columns)
    np.testing.assert_allclose(
        np.exp(est.predict_log_proba(frame)), est.predict_proba(frame), rtol=1e-6
    )
