"""``Perceptron``: scikit-learn's ``Perceptron`` rewritten in NumPy, one-vs-rest classes
trained side by side.

scikit-learn's ``Perceptron`` is its ``SGDClassifier(loss="perceptron",
learning_rate="constant")``: plain stochastic gradient descent, one sample at a time, on
the loss ``max(0, -y z)``, which is Rosenblatt's rule (seed 000) once a tie ``z = 0`` is
counted as a mistake. This module follows that rule, its penalties and its stopping
rule; ``Perceptron``'s docstring says where it differs.

Not to be confused with ``lucidnet.perceptron``, seed 002's neuron class: this module is
``lucidnet.sklearn.perceptron`` and builds no lucidnet network.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from numbers import Integral
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import StratifiedShuffleSplit
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets, unique_labels
from sklearn.utils.validation import check_is_fitted, validate_data

from ..validation import is_number
from .perceptron_rule import (
    _accuracy,
    _Columns,
    _initial_weights,
    _row_blocks,
    _Rule,
    _sample_weight,
    _Stopping,
)

# penalty -> l1_ratio, as scikit-learn maps them ("elasticnet" takes the parameter)
_L1_RATIO = {"l2": 0.0, "l1": 1.0, "elasticnet": None}


def _is_bool(v: object) -> bool:
    return isinstance(v, (bool, np.bool_))


def _is_int(v: object, low: int) -> bool:
    return isinstance(v, Integral) and not _is_bool(v) and v >= low  # type: ignore[operator]


# Each hyperparameter's check and what it must be (checked in fit, never in __init__).
_PARAMS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "penalty": (
        lambda v: v is None or (isinstance(v, str) and v in _L1_RATIO),
        "None, 'l2', 'l1' or 'elasticnet'",
    ),
    "alpha": (lambda v: is_number(v) and v >= 0, "a finite number >= 0"),
    "l1_ratio": (lambda v: is_number(v) and 0 <= v <= 1, "a number in [0, 1]"),
    "fit_intercept": (_is_bool, "True or False"),
    "max_iter": (lambda v: _is_int(v, 1), "an int >= 1"),
    "tol": (lambda v: v is None or (is_number(v) and v >= 0), "None or a finite number >= 0"),
    "shuffle": (_is_bool, "True or False"),
    "verbose": (lambda v: _is_bool(v) or _is_int(v, 0), "an int >= 0"),
    "eta0": (lambda v: is_number(v) and v > 0, "a finite number > 0"),
    "n_jobs": (lambda v: v is None or _is_int(v, -(2**31)), "None or an int"),
    "random_state": (
        lambda v: v is None or _is_int(v, 0) or isinstance(v, np.random.RandomState),
        "None, an int >= 0 or a numpy RandomState",
    ),
    "early_stopping": (_is_bool, "True or False"),
    "validation_fraction": (lambda v: is_number(v) and 0 < v < 1, "a number in (0, 1)"),
    "n_iter_no_change": (lambda v: _is_int(v, 1), "an int >= 1"),
    "class_weight": (
        lambda v: v is None or isinstance(v, dict) or (isinstance(v, str) and v == "balanced"),
        "None, 'balanced' or a dict {class: weight}",
    ),
    "warm_start": (_is_bool, "True or False"),
}


class Perceptron(ClassifierMixin, BaseEstimator):
    """The perceptron as scikit-learn trains it: plain SGD on ``max(0, -y z)``.

    The same parameters, defaults, methods and fitted attributes as
    ``sklearn.linear_model.Perceptron``; with ``shuffle=False`` the same weights (to
    rounding). Each class ``k`` has its own linear perceptron ``z_k = x . w_k + b_k``
    trained one-vs-rest on ``y_k = +1`` (the sample is of class ``k``) or ``-1``; two
    classes have one perceptron, ``classes_[1]`` against ``classes_[0]``.

    **The rule.** For each training sample ``x`` in turn (in the order of ``X``, or
    reshuffled every epoch) and each class still training, with ``eta = eta0`` and
    ``s = class_weight * sample_weight``::

        z = x . w + b                          (the weights before this sample)
        mistake = y * z <= 0                   (a tie z = 0 is a mistake)
        w <- c * w                             (l2, elasticnet: c = max(0, 1 - (1 - r) eta alpha))
        if mistake: w <- w + eta * s * y * x;  b <- b + eta * s * y  (b if fit_intercept)
        l1, elasticnet: u <- u + r eta alpha, then for every feature j
            w_j > 0: w_j <- max(0, w_j - (u + q_j));  w_j < 0: w_j <- min(0, w_j + (u - q_j))
            q_j <- q_j + (the change just made to w_j)

    ``r`` is ``l1_ratio`` for ``"elasticnet"``, 0 for ``"l2"`` and 1 for ``"l1"`` (so those
    two are its end points, exactly); the ``l1`` step is the cumulative truncated gradient
    of Tsuruoka, Tsujii and Ananiadou (2009), ``u`` and ``q`` starting at 0 in each
    ``fit`` and each ``partial_fit`` call. The class weight is scikit-learn's: with two
    classes the sample's class's weight; with more, ``class_weight[k]`` for the samples
    of class ``k`` and 1 for the others (the "rest" is not weighted).

    **Stopping**, per class, after each epoch (scikit-learn's rule): the epoch's objective
    ``(sum of max(0, -y z) + penalty) / n_train``, summed as the samples are met (the
    penalty ``alpha ((1 - r) |w|^2 / 2 + r |w|_1)`` per sample, with the norms as
    scikit-learn caches them: from the last update, scaled by the l2 factor since), counts
    as no improvement when it is ``> best - tol``; with ``early_stopping``, the accuracy of
    the class's perceptron on the held-out fraction counts as none when it is
    ``< best + tol``. ``n_iter_no_change`` epochs in a row without improvement stop that
    class; the others go on. ``tol=None`` never stops early. ``n_iter_`` is the most
    epochs any class ran; a ``ConvergenceWarning`` follows when ``max_iter`` ran out
    before every class stopped (never with ``tol=None``).

    **Where it differs from scikit-learn** (the weights are otherwise the same):

    - Without a penalty, an epoch in which a class makes no update cannot change its
      weights again, so that class stops there (scikit-learn runs ``n_iter_no_change``
      more epochs, or to ``max_iter`` with ``tol=None``): the same weights, a smaller
      ``n_iter_`` and ``t_``, and no ``ConvergenceWarning`` for a separable problem.
    - ``shuffle=True`` draws one permutation per epoch from ``random_state``, shared by
      all classes; scikit-learn shuffles each class with its own C-level generator, so
      shuffled fits match it in quality, not in weights.
    - Sparse ``X`` trains exactly as its dense copy (rows are made dense a block at a
      time). scikit-learn damps the intercept's updates on sparse input by 0.01 and
      applies the l1 step only to a row's stored entries, so its sparse and dense fits
      differ.
    - ``early_stopping`` scores the perceptron being trained. scikit-learn's scores, with
      ``"l2"`` or ``"elasticnet"``, the weights divided by the product of the l2 factors
      ``c`` so far (its internal unscaled copy) with the intercept as it is, so it may
      stop at another epoch; without a penalty or with ``"l1"`` both stop together.
    - The ``ConvergenceWarning`` needs a class still training when ``max_iter`` ran out;
      scikit-learn's also comes when the last epoch is the one its rule stopped at.
    - Computation is in float64 whatever the input's dtype (scikit-learn keeps float32).
    - Stricter checks: negative ``sample_weight`` or ``class_weight`` values, a
      ``class_weight`` key that is not a class, ``warm_start`` on other classes than the
      previous fit's, and ``partial_fit`` with ``early_stopping=True`` or
      ``class_weight="balanced"`` raise ``ValueError`` (scikit-learn accepts some of them).
    - ``n_jobs`` is accepted and unused: the classes already train together, vectorized.

    Parameters
    ----------
    penalty : {None, "l2", "l1", "elasticnet"}, default None
    alpha : float, default 1e-4
        The penalty's strength.
    l1_ratio : float in [0, 1], default 0.15
        ``r`` for ``penalty="elasticnet"`` (0: l2, 1: l1); unused otherwise.
    fit_intercept : bool, default True
    max_iter : int, default 1000
        Epochs at most (``fit``; ``partial_fit`` runs one).
    tol : float or None, default 1e-3
    shuffle : bool, default True
        Reshuffle the training samples every epoch.
    verbose : int, default 0
        Print one line per epoch when > 0.
    eta0 : float, default 1.0
        The constant learning rate ``eta``.
    n_jobs : int or None, default None
        Unused (see above).
    random_state : int, RandomState or None, default 0
        Seeds the shuffles and the early-stopping split.
    early_stopping : bool, default False
        Stop on the accuracy of a held-out, stratified ``validation_fraction`` of the
        training data (scikit-learn's split, the same samples) instead of the loss.
    validation_fraction : float in (0, 1), default 0.1
    n_iter_no_change : int, default 5
    class_weight : dict {class: weight}, "balanced" or None, default None
        ``"balanced"``: ``n_samples / (n_classes * count(class))``.
    warm_start : bool, default False
        ``fit`` starts from the previous fit's weights (same classes and features).

    Attributes
    ----------
    classes_ : ndarray (n_classes,)
    coef_ : ndarray ``(1, n_features)`` for two classes, else ``(n_classes, n_features)``
    intercept_ : ndarray ``(1,)`` or ``(n_classes,)``
    n_features_in_, feature_names_in_ : as in scikit-learn
    n_iter_ : int
        Epochs of the last ``fit`` (the most over the classes), 1 after ``partial_fit``.
    t_ : float
        ``1 + n_samples * epochs`` counted over ``fit`` and the ``partial_fit`` calls
        since (scikit-learn's count).
    errors_ : list of int
        Per epoch of the last call: the training samples that updated at least one class.
        A misclassified sample of weight 0 changes nothing and is not counted.
    converged_ : bool
        Every class's last epoch made no update: each perceptron classified every
        (weighted) training sample correctly as it met it.
    """

    def __init__(
        self,
        *,
        penalty: str | None = None,
        alpha: float = 0.0001,
        l1_ratio: float = 0.15,
        fit_intercept: bool = True,
        max_iter: int = 1000,
        tol: float | None = 1e-3,
        shuffle: bool = True,
        verbose: int = 0,
        eta0: float = 1.0,
        n_jobs: int | None = None,
        random_state: Any = 0,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        n_iter_no_change: int = 5,
        class_weight: Any = None,
        warm_start: bool = False,
    ) -> None:
        self.penalty = penalty
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.shuffle = shuffle
        self.verbose = verbose
        self.eta0 = eta0
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.class_weight = class_weight
        self.warm_start = warm_start

    def _check_params(self) -> None:
        for param, (valid, expected) in _PARAMS.items():
            value = getattr(self, param)
            if not valid(value):
                raise ValueError(f"Perceptron: {param} must be {expected}, got {value!r}")

    # --- fitting ---------------------------------------------------------------------------

    def fit(
        self,
        X: Any,
        y: Any,
        coef_init: Any = None,
        intercept_init: Any = None,
        sample_weight: Any = None,
    ) -> Perceptron:
        """Train from zero weights (or ``coef_init`` / ``intercept_init``, or the previous
        fit's with ``warm_start``) for up to ``max_iter`` epochs.

        ``coef_init``: ``(n_classes, n_features)``, or ``(n_features,)`` /
        ``(1, n_features)`` for two classes; ``intercept_init``: ``(n_classes,)``, or a
        scalar / ``(1,)`` for two classes. ``sample_weight``: ``(n_samples,)`` or a
        scalar, >= 0, multiplied by the class weight.
        """
        self._check_params()
        X, y = validate_data(self, X, y, accept_sparse="csr", dtype=np.float64)
        check_classification_targets(y)
        classes = np.unique(y)
        if len(classes) < 2:
            raise ValueError(
                f"Perceptron: y has only one class ({classes[0]!r}); a classifier needs at "
                "least 2 classes"
            )
        if self.warm_start and hasattr(self, "coef_"):
            if coef_init is None:
                before = (self.classes_.tolist(), self.coef_.shape[1])
                if not np.array_equal(classes, self.classes_) or before[1] != X.shape[1]:
                    raise ValueError(
                        f"Perceptron: warm_start=True continues the previous fit, which had "
                        f"the classes {before[0]} and {before[1]} features, but y has the "
                        f"classes {classes.tolist()} and X {X.shape[1]} features; fit "
                        "without warm_start or pass coef_init"
                    )
                coef_init = self.coef_
            if intercept_init is None:
                intercept_init = self.intercept_
        W, b = _initial_weights(coef_init, intercept_init, len(classes), X.shape[1])
        sample_weight = _sample_weight(sample_weight, len(y), bool(self.early_stopping))
        unfinished = self._train(
            X,
            y,
            classes,
            _Columns.start(W, b, penalized=self.penalty is not None),
            self._class_weights(classes, y),
            sample_weight,
            max_iter=int(self.max_iter),
            t_start=1.0,
        )
        if self.tol is not None and unfinished:
            warnings.warn(
                f"Perceptron: max_iter={self.max_iter} epochs ran out before the stopping "
                "rule (tol, n_iter_no_change) stopped every class; raise max_iter",
                ConvergenceWarning,
                stacklevel=2,
            )
        return self

    def partial_fit(
        self, X: Any, y: Any, classes: Any = None, sample_weight: Any = None
    ) -> Perceptron:
        """One epoch over ``(X, y)`` from the current weights (zero on the first call).

        ``classes`` (every label the estimator will see) is required on the first call
        and, when given later, must be the same.
        """
        self._check_params()
        first = not hasattr(self, "classes_")
        if self.early_stopping:
            raise ValueError(
                "Perceptron: partial_fit runs one epoch and cannot stop early; set "
                "early_stopping=False"
            )
        if self.class_weight == "balanced":
            raise ValueError(
                "Perceptron: class_weight='balanced' needs the whole training set, which "
                "partial_fit does not see; pass a dict (e.g. from "
                "sklearn.utils.compute_class_weight) instead"
            )
        if first and classes is None:
            raise ValueError(
                "Perceptron.partial_fit: pass classes= (every label) on the first call"
            )
        X, y = validate_data(self, X, y, accept_sparse="csr", dtype=np.float64, reset=first)
        check_classification_targets(y)
        known = unique_labels(classes) if classes is not None else self.classes_
        if not first and not np.array_equal(known, self.classes_):
            raise ValueError(
                f"Perceptron.partial_fit: classes={classes!r} is not the same as on the "
                f"previous calls, {self.classes_.tolist()}"
            )
        if len(known) < 2:
            raise ValueError(
                f"Perceptron: classes has only one class ({known[0]!r}); a classifier needs "
                "at least 2 classes"
            )
        unknown = np.setdiff1d(y, known)
        if len(unknown):
            raise ValueError(
                f"Perceptron.partial_fit: y has the labels {unknown.tolist()}, which are not "
                f"among the classes {known.tolist()}"
            )
        if first:
            W, b = _initial_weights(None, None, len(known), X.shape[1])
        else:
            W, b = self.coef_.T.copy(), self.intercept_.copy()
        self._train(
            X,
            y,
            known,
            _Columns.start(W, b, penalized=self.penalty is not None),
            self._class_weights(known, y),
            _sample_weight(sample_weight, len(y), allow_all_zero=False),
            max_iter=1,
            t_start=1.0 if first else float(self.t_),
        )
        return self

    def _class_weights(self, classes: np.ndarray, y: np.ndarray) -> np.ndarray:
        """``(n_samples, n_columns)``: each sample's class weight in each perceptron."""
        cw = self.class_weight
        if cw is None:
            per_class = np.ones(len(classes))
        elif isinstance(cw, str):  # "balanced"
            counts = (y[:, None] == classes[None, :]).sum(axis=0)
            per_class = len(y) / (len(classes) * counts)
        else:
            names = [c.item() if isinstance(c, np.generic) else c for c in classes]
            unknown = [k for k in cw if k not in set(names)]
            if unknown:
                raise ValueError(
                    f"Perceptron: class_weight has the keys {unknown!r}, which are not "
                    f"classes; the classes are {names}"
                )
            for c in names:
                if not (is_number(cw.get(c, 1.0)) and cw.get(c, 1.0) >= 0):
                    raise ValueError(
                        "Perceptron: class_weight values must be finite numbers >= 0, got "
                        f"{cw[c]!r} for the class {c!r}"
                    )
            per_class = np.array([float(cw.get(c, 1.0)) for c in names])
        mine = y[:, None] == classes[None, :]  # (n_samples, n_classes)
        if len(classes) == 2:  # one perceptron: each sample weighs its own class's weight
            return per_class[mine.argmax(axis=1)][:, None]
        return np.where(mine, per_class[None, :], 1.0)  # the "rest" weighs 1, as sklearn

    def _train(
        self,
        X: Any,
        y: np.ndarray,
        classes: np.ndarray,
        start: _Columns,
        class_weights: np.ndarray,
        sample_weight: np.ndarray,
        max_iter: int,
        t_start: float,
    ) -> bool:
        """Run the rule from ``start`` for up to ``max_iter`` epochs; store what it learned.

        ``class_weights (n_samples, n_columns)``, ``sample_weight (n_samples,)``. Returns
        whether a class was still training when ``max_iter`` ran out.
        """
        Y = np.where(y[:, None] == classes[None, :], 1.0, -1.0)  # (n_samples, n_classes)
        if len(classes) == 2:
            Y = Y[:, 1:]  # one perceptron: the second class against the first
        steps = float(self.eta0) * Y * class_weights * sample_weight[:, None]  # eta * y * s
        rng = check_random_state(self.random_state)
        held = self._held_out(y, sample_weight)
        train = np.setdiff1d(np.arange(len(y)), held)
        X_held, Y_held, sw_held = X[held], Y[held], sample_weight[held]
        rule = _Rule(float(self.eta0), float(self.alpha), self._l1_ratio(), self.fit_intercept)
        stop = _Stopping(Y.shape[1], self.tol, int(self.n_iter_no_change), rule.l1_ratio is None)
        state, errors = start, []
        for epoch in range(1, max_iter + 1):
            cols = np.flatnonzero(stop.active)
            order = rng.permutation(train) if self.shuffle else train
            part = state.take(cols)
            with np.errstate(over="ignore", invalid="ignore"):  # overflow: raised below
                updates, objective, touched = rule.epoch(
                    _row_blocks(X, order, Y[:, cols], steps[:, cols]), part
                )
            state.put(cols, part)
            if not (np.isfinite(part.W).all() and np.isfinite(part.b).all()):
                raise ValueError(
                    f"Perceptron: the weights overflowed to inf or nan in epoch {epoch}; "
                    "scale X (e.g. StandardScaler) or lower eta0"
                )
            errors.append(touched)
            if len(held):
                score = _accuracy(X_held, Y_held[:, cols], sw_held, part)
                stop.after_epoch(cols, epoch, updates, score=score)
            else:
                stop.after_epoch(cols, epoch, updates, objective=objective / len(train))
            if self.verbose:
                print(
                    f"Perceptron: epoch {epoch}: {len(cols)} of {Y.shape[1]} perceptrons "
                    f"trained, {touched} samples updated them; objective per perceptron "
                    f"{np.round(objective / len(train), 6).tolist()}"
                )
            if not stop.active.any():
                break
        self.classes_ = classes
        self.coef_ = np.ascontiguousarray(state.W.T)
        self.intercept_ = state.b.copy()
        self.n_iter_ = int(stop.epochs.max())
        self.t_ = t_start + self.n_iter_ * len(y)
        self.errors_ = errors
        self.converged_ = bool((stop.last_updates == 0).all())
        return bool(stop.active.any())

    def _l1_ratio(self) -> float | None:
        """``r`` of the rule, or None without a penalty."""
        if self.penalty is None:
            return None
        fixed = _L1_RATIO[self.penalty]
        return float(self.l1_ratio) if fixed is None else fixed

    def _held_out(self, y: np.ndarray, sample_weight: np.ndarray) -> np.ndarray:
        """The samples held out for early stopping (none without it): scikit-learn's
        stratified split, the same samples for the same ``random_state``."""
        if not self.early_stopping:
            return np.zeros(0, dtype=np.intp)
        split = StratifiedShuffleSplit(
            test_size=self.validation_fraction, random_state=self.random_state
        )
        train, held = next(split.split(np.zeros((len(y), 1)), y))
        if len(train) == 0 or len(held) == 0:
            raise ValueError(
                f"Perceptron: early_stopping splits {len(y)} samples with "
                f"validation_fraction={self.validation_fraction} into {len(train)} for "
                f"training and {len(held)} for validation; both must be non-empty"
            )
        if not (sample_weight[held] > 0).any():
            raise ValueError(
                "Perceptron: every sample held out for early stopping has sample_weight "
                "0, so the validation accuracy is undefined; use another random_state"
            )
        return np.sort(held)

    # --- prediction -------------------------------------------------------------------------

    def decision_function(self, X: Any) -> np.ndarray:
        """``z = X @ coef_.T + intercept_``: ``(n_samples,)`` for two classes (positive
        means ``classes_[1]``), else ``(n_samples, n_classes)``."""
        check_is_fitted(self, "coef_")
        X = validate_data(self, X, accept_sparse="csr", reset=False, dtype=np.float64)
        z = np.asarray(X @ self.coef_.T) + self.intercept_
        return z.ravel() if len(self.classes_) == 2 else z

    def predict(self, X: Any) -> np.ndarray:
        """The class whose perceptron gives the largest ``z`` (two classes: ``z > 0``)."""
        z = self.decision_function(X)
        if len(self.classes_) == 2:
            return self.classes_[(z > 0).astype(int)]
        return self.classes_[np.argmax(z, axis=1)]

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
