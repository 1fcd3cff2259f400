"""``MLPClassifier``: binary (one sigmoid output), multiclass (softmax) and multilabel
(one sigmoid per label) targets, on the shared ``_BaseMLP``."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.metrics import accuracy_score
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets, type_of_target, unique_labels
from sklearn.utils.validation import column_or_1d

from .. import activations as activations_module
from ..layers import Layer
from .mlp import _BaseMLP, _stochastic_solver

PARAMETERS = """
    Parameters (scikit-learn's names, defaults and meanings; lucidnet's additions last)
    ----------
    hidden_layer_sizes : int or tuple of int, default (100,)
        Neurons per hidden layer (``()``: no hidden layer).
    activation : str or list of str, default "relu"
        "identity", "logistic", "tanh", "relu" (or lucidnet's "leaky_relu", ...), one for
        every hidden layer or a list with one per layer.
    solver : {"lbfgs", "sgd", "adam", "rmsprop", "adamw"}, default "adam"
        "lbfgs": full-batch L-BFGS (``lucidnet.lbfgs``), best for small data sets; "sgd":
        SGD with ``momentum`` (Nesterov's when ``nesterovs_momentum``); "adam"; and
        lucidnet's "rmsprop" and "adamw" (weight decay 0.01 on top of ``alpha``).
    alpha : float, default 1e-4
        L2 penalty: each batch's loss gains ``alpha / (2 n) * sum ||coef||^2``.
    batch_size : int or "auto", default "auto" (``min(200, n_samples)``)
    learning_rate : {"constant", "invscaling", "adaptive", "step", "exponential", "cosine"}
        scikit-learn's three apply to ``solver="sgd"`` only, as there: "invscaling" sets
        ``learning_rate_init / (t_ + 1) ** power_t`` after each epoch, "adaptive" divides
        the rate by 5 where the stopping rule would stop (until it is at most 1e-6).
        lucidnet's, for every stochastic solver and per ``fit``: "step" halves the rate
        every ``max_iter // 4`` epochs, "exponential" multiplies it by 0.96 per epoch,
        "cosine" follows half a cosine to ~0 at ``max_iter``.
    learning_rate_init : float, default 1e-3
    power_t : float, default 0.5
    max_iter : int, default 200
        Epochs (stochastic solvers) or iterations (lbfgs).
    shuffle : bool, default True
    random_state : int, RandomState or None
        The initial weights, the shuffling, the validation split (and dropout masks).
    tol : float, default 1e-4
        Progress that counts: the loss (or validation score) must beat the best by
        ``tol``; for lbfgs, the largest gradient component at which it stops.
    verbose : bool, default False
        Prints "Iteration k, loss = ..." after each epoch.
    warm_start : bool, default False
        ``fit`` continues the current network (and its ``n_iter_``-independent state).
    momentum : float, default 0.9
    nesterovs_momentum : bool, default True
    early_stopping : bool, default False
        Hold out ``validation_fraction`` and stop on its score; ends with the best
        score's weights. Not with ``partial_fit`` (ValueError) nor lbfgs (ignored).
    validation_fraction : float, default 0.1
    beta_1, beta_2, epsilon : float, default 0.9, 0.999, 1e-8 (Adam's)
    n_iter_no_change : int or numpy.inf, default 10
    max_fun : int, default 15000
        lbfgs: the most loss evaluations.
    dropout : float or list of float, default 0.0
        lucidnet's: dropout after each hidden layer (one rate, or one per layer).
    dtype : None, "float32" or "float64", default None
        lucidnet's: the network's dtype. None follows ``X`` (float32 stays float32,
        anything else is float64), as scikit-learn's.
"""


class MLPClassifier(ClassifierMixin, _BaseMLP):
    """Multi-layer perceptron classifier: binary, multiclass and multilabel.

    A drop-in for ``sklearn.neural_network.MLPClassifier``: the same parameters, fitted
    attributes, errors and objective (docs/sklearn.md lists the differences).
    """

    __doc__ = (
        (__doc__ or "")
        + PARAMETERS
        + """
    Attributes
    ----------
    classes_, n_features_in_, feature_names_in_ (when X has column names), n_outputs_,
    n_layers_, out_activation_, n_iter_, t_, loss_, loss_curve_, best_loss_,
    validation_scores_, best_validation_score_, coefs_ and intercepts_ (the network's own
    arrays), and ``model_``, the lucidnet ``Sequential``.
    """
    )

    _loss_name = "binary_crossentropy"

    def _output_layers(self) -> list[Layer]:
        kind = self._target_kind
        self.out_activation_ = "softmax" if kind == "multiclass" else "logistic"
        self._loss_name = "crossentropy" if kind == "multiclass" else "binary_crossentropy"
        return [activations_module.get(self.out_activation_)]

    def _loss_factor(self) -> tuple[float, float]:
        # scikit-learn's log loss sums over the labels of a multilabel target; lucidnet's
        # binary cross-entropy averages over them
        labels = len(self.classes_) if self._target_kind == "multilabel-indicator" else 1
        return float(labels), 1.0

    def _n_outputs(self) -> int:
        kind = self._target_kind
        return len(self.classes_) if kind in ("multiclass", "multilabel-indicator") else 1

    def _set_classes(self, y: np.ndarray, labels: Any = None) -> None:
        """``classes_`` and the kind of target, from ``y`` (or the ``labels`` given)."""
        if type_of_target(y) == "multilabel-indicator":
            self.classes_ = np.arange(y.shape[1])
            self._target_kind = "multilabel-indicator"
            return
        self.classes_ = np.unique(y if labels is None else np.asarray(labels))
        self._target_kind = {1: "single", 2: "binary"}.get(len(self.classes_), "multiclass")

    def _targets(self, y: Any, first_pass: bool, incremental: bool) -> np.ndarray:
        name = type(self).__name__
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        kind = type_of_target(y)
        if kind not in ("binary", "multiclass", "multilabel-indicator"):
            raise ValueError(
                f"{name}: y of type {kind!r} is not supported: give one label per sample "
                "(binary or multiclass) or a 0/1 indicator matrix (multilabel)"
            )
        if not hasattr(self, "classes_") or (not self.warm_start and not incremental):
            self._set_classes(y)
        else:
            multilabel = self._target_kind == "multilabel-indicator"
            if multilabel != (kind == "multilabel-indicator") or (
                multilabel and y.shape[1] != len(self.classes_)
            ):
                raise ValueError(
                    f"{name}: was fitted on {self._describe_targets()}; got y of type {kind} "
                    f"with shape {y.shape}"
                )
            classes = unique_labels(y)
            if self.warm_start:
                if set(classes) != set(self.classes_):
                    raise ValueError(
                        "warm_start can only be used where `y` has the same classes as in "
                        f"the previous call to fit. Previously got {self.classes_}, `y` has "
                        f"{classes}"
                    )
            elif len(np.setdiff1d(classes, self.classes_)):
                raise ValueError(
                    f"`y` has classes not in `self.classes_`. `self.classes_` has "
                    f"{self.classes_}. 'y' has {classes}."
                )
        return self._encode(y)

    def _describe_targets(self) -> str:
        if self._target_kind == "multilabel-indicator":
            return f"multilabel targets with {len(self.classes_)} labels"
        return f"one label per sample (classes {self.classes_.tolist()})"

    def _encode(self, y: np.ndarray) -> np.ndarray:
        """Labels as the network trains on them: 0/1 columns, or class indices."""
        kind = self._target_kind
        if kind == "multilabel-indicator":
            return y.astype(np.float64)
        if kind == "single":
            return np.zeros((len(y), 1))
        if kind == "binary":
            return (y == self.classes_[1]).astype(np.float64).reshape(-1, 1)
        return np.searchsorted(self.classes_, y)

    def _stratify(self, T: np.ndarray) -> Any:
        # scikit-learn stratifies on its binarised y when there is one output column
        return (T > 0.5) if self._n_outputs() == 1 else None

    def _labels(self, T: np.ndarray) -> np.ndarray:
        kind = self._target_kind
        if kind == "multilabel-indicator":
            return np.asarray(T).astype(int)
        if kind == "multiclass":
            return self.classes_[np.asarray(T).astype(int)]
        if kind == "single":
            return np.repeat(self.classes_, len(T))
        return self.classes_[(np.asarray(T).ravel() > 0.5).astype(int)]

    def _proba(self, out: np.ndarray) -> np.ndarray:
        kind = self._target_kind
        if kind == "single":
            return np.ones((len(out), 1), dtype=out.dtype)
        if kind == "binary":
            return np.hstack([1 - out, out])
        return out

    def _predict_from(self, proba: np.ndarray) -> np.ndarray:
        if self._target_kind == "multilabel-indicator":
            return (proba > 0.5).astype(int)
        return self.classes_[np.argmax(proba, axis=1)]

    def _validation_score(self, X: Any, y: Any, sample_weight: Any) -> float:
        out = self._output(X)
        if not np.all(np.isfinite(out)):
            return float("nan")
        return float(
            accuracy_score(y, self._predict_from(self._proba(out)), sample_weight=sample_weight)
        )

    @available_if(_stochastic_solver)
    def partial_fit(
        self, X: Any, y: Any, sample_weight: Any = None, classes: Any = None
    ) -> MLPClassifier:
        """One epoch over ``(X, y)`` from the current weights and optimizer.

        ``classes`` (every label the estimator will see) is required on the first call;
        later calls may omit it. Only for the stochastic solvers (as scikit-learn's).
        """
        if not hasattr(self, "classes_"):
            if classes is None:
                raise ValueError("classes must be passed on the first call to partial_fit.")
            self._check_params()
            self._set_classes(
                np.asarray(y), None if type_of_target(y).startswith("multilabel") else classes
            )
        elif classes is not None and not np.array_equal(self.classes_, unique_labels(classes)):
            raise ValueError(
                f"`classes={classes!r}` is not the same as on last call to partial_fit, was: "
                f"{self.classes_!r}"
            )
        return self._fit(X, y, sample_weight, incremental=True)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, ``(n_samples, n_classes)``; multilabel: one per label."""
        return self._proba(self._forward(X))

    def predict_log_proba(self, X: Any) -> np.ndarray:
        """``log(predict_proba(X))``."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X: Any) -> np.ndarray:
        """The most likely class (multilabel: every label with probability > 0.5)."""
        return self._predict_from(self.predict_proba(X))

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags
