"""``Perceptron``: Rosenblatt's learning rule (seed 000) as a scikit-learn classifier.

Not to be confused with ``lucidnet.perceptron``, seed 002's neuron class: this module is
``lucidnet.sklearn.perceptron`` and builds no lucidnet network.
"""

from __future__ import annotations

import warnings
from numbers import Integral
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from ..validation import is_number


class Perceptron(ClassifierMixin, BaseEstimator):
    """Rosenblatt's perceptron (seed 000), one-vs-rest for more than two classes.

    For each sample in turn, with the label coded ``y = +1`` (this class) or ``-1``::

        z = x . w + b;  prediction = +1 if z > 0 else -1
        if prediction != y:
            w <- w + eta0 * y * x
            b <- b + eta0 * y

    which is seed 000's ``w += lr * (target - prediction) * x`` with 0/1 labels and
    ``lr = eta0`` (``target - prediction`` is then +1 or -1 exactly when wrong). The rule is
    defined one sample at a time, so the loop is over samples; with several classes
    each sample updates every class's perceptron at once (a vector operation).

    Parameters
    ----------
    eta0 : float, default 1.0
        The learning rate.
    max_iter : int, default 1000
        Epochs at most.
    tol : float or None, default 1e-3
        Stop when the epoch's mean perceptron loss ``max(0, -y z)`` (over the samples as
        they are met, before their update, as scikit-learn counts it) has not dropped
        below ``best - tol`` for ``n_iter_no_change`` epochs in a row (None: run
        ``max_iter`` epochs, unless an epoch makes no mistake).
    n_iter_no_change : int, default 5
    shuffle : bool, default True
        Reshuffle the samples every epoch.
    random_state : int, RandomState or None, default 0 (scikit-learn's default)
    warm_start : bool, default False
        Continue from the current weights in the next ``fit``.

    Attributes
    ----------
    classes_, n_features_in_, coef_ ``(1, n_features)`` for two classes else
    ``(n_classes, n_features)``, intercept_, n_iter_, t_ (samples seen), errors_
    (mistakes per epoch of the last fit), converged_ (an epoch without mistakes).
    """

    def __init__(
        self,
        *,
        eta0: float = 1.0,
        max_iter: int = 1000,
        tol: float | None = 1e-3,
        n_iter_no_change: int = 5,
        shuffle: bool = True,
        random_state: Any = 0,
        warm_start: bool = False,
    ) -> None:
        self.eta0 = eta0
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.shuffle = shuffle
        self.random_state = random_state
        self.warm_start = warm_start

    def _check_params(self) -> None:
        eta = self.eta0
        if not is_number(eta) or eta <= 0:
            raise ValueError(f"Perceptron: eta0 must be a finite number > 0, got {eta!r}")
        for param in ("max_iter", "n_iter_no_change"):
            v = getattr(self, param)
            if not isinstance(v, Integral) or isinstance(v, bool) or v < 1:
                raise ValueError(f"Perceptron: {param} must be an int >= 1, got {v!r}")
        tol = self.tol
        if tol is not None and (not is_number(tol) or tol < 0):
            raise ValueError(f"Perceptron: tol must be a number >= 0 or None, got {tol!r}")

    def fit(self, X: Any, y: Any) -> Perceptron:
        """Learn with Rosenblatt's rule until an epoch makes no mistake or no epoch
        improves (see ``tol``), for at most ``max_iter`` epochs."""
        return self._fit(X, y, incremental=False)

    def partial_fit(self, X: Any, y: Any, classes: Any = None) -> Perceptron:
        """One epoch of Rosenblatt's rule over ``(X, y)``, from the current weights.

        ``classes`` (every label the estimator will see) is required on the first call.
        """
        if not hasattr(self, "coef_") and classes is None:
            raise ValueError(
                "Perceptron.partial_fit: pass classes= (every label) on the first call"
            )
        return self._fit(X, y, incremental=True, classes=classes)

    def _fit(self, X: Any, y: Any, incremental: bool, classes: Any = None) -> Perceptron:
        self._check_params()
        keep = hasattr(self, "coef_") and (incremental or self.warm_start)
        X, y = validate_data(self, X, y, reset=not keep, dtype=np.float64)
        check_classification_targets(y)
        if keep:
            if classes is not None and not np.array_equal(np.unique(classes), self.classes_):
                raise ValueError(
                    f"Perceptron: classes={classes!r} differs from the first fit's "
                    f"{self.classes_.tolist()}"
                )
            known = self.classes_
        else:
            known = np.unique(y if classes is None else classes)
        if not np.isin(y, known).all():
            raise ValueError(
                f"Perceptron: y has labels {np.setdiff1d(y, known).tolist()} that are not "
                f"among the classes {known.tolist()}"
            )
        if len(known) < 2:
            raise ValueError(
                f"Perceptron: y has only one class ({known[0]}); a classifier needs at "
                "least 2 classes"
            )
        self.classes_ = known
        # +1 for the sample's class, -1 for the others; one column per perceptron
        signs = np.where(y[:, None] == known[None, :], 1.0, -1.0)
        if len(known) == 2:
            signs = signs[:, 1:]  # one perceptron: the second class against the first
        if keep:
            w, b = self.coef_.T.copy(), self.intercept_.copy()
        else:
            w, b = np.zeros((X.shape[1], signs.shape[1])), np.zeros(signs.shape[1])
            self.n_iter_, self.t_ = 0, 0
        rng = check_random_state(self.random_state)
        best, stall = np.inf, 0
        self.errors_, self.converged_ = [], False
        epochs = 1 if incremental else int(self.max_iter)
        for _ in range(epochs):
            order = rng.permutation(len(X)) if self.shuffle else np.arange(len(X))
            mistakes, loss = self._epoch(X[order], signs[order], w, b)
            self.n_iter_ += 1
            self.t_ += len(X)
            self.errors_.append(mistakes)
            if mistakes == 0:
                self.converged_ = True
                break
            if self.tol is not None:  # the mean loss met during the epoch, as scikit-learn
                stall = 0 if loss < best - self.tol else stall + 1
                best = min(best, loss)
                if stall >= self.n_iter_no_change:
                    break
        else:
            if self.tol is not None and not incremental:
                warnings.warn(
                    f"Perceptron: stopped at max_iter={self.max_iter} epochs before the "
                    "loss stopped improving; raise max_iter",
                    ConvergenceWarning,
                    stacklevel=3,
                )
        self.coef_, self.intercept_ = w.T.copy(), b.copy()
        return self

    def _epoch(
        self, X: np.ndarray, signs: np.ndarray, w: np.ndarray, b: np.ndarray
    ) -> tuple[int, float]:
        """One pass of the rule over the rows in order, updating ``w`` and ``b`` in place;
        return the mistakes and the mean loss ``max(0, -y z)`` met on the way."""
        eta = float(self.eta0)
        mistakes, loss = 0, 0.0
        for xi, yi in zip(X, signs, strict=True):  # one sample at a time, by definition
            z = xi @ w + b
            loss += float(np.maximum(0.0, -yi * z).sum())
            wrong = (z > 0) != (yi > 0)  # predicted step(z) vs the target
            if wrong.any():
                step = eta * yi * wrong
                w += np.outer(xi, step)
                b += step
                mistakes += 1
        return mistakes, loss / len(X)

    def decision_function(self, X: Any) -> np.ndarray:
        """``z = X @ coef_.T + intercept_``: ``(n_samples,)`` for two classes (positive
        means ``classes_[1]``), else ``(n_samples, n_classes)``."""
        check_is_fitted(self, "coef_")
        X = validate_data(self, X, reset=False, dtype=np.float64)
        z = X @ self.coef_.T + self.intercept_
        return z.ravel() if len(self.classes_) == 2 else z

    def predict(self, X: Any) -> np.ndarray:
        """The class whose perceptron gives the largest ``z`` (two classes: ``z > 0``)."""
        z = self.decision_function(X)
        if len(self.classes_) == 2:
            return self.classes_[(z > 0).astype(int)]
        return self.classes_[np.argmax(z, axis=1)]
