"""``MLPClassifier``: binary (one sigmoid output), multiclass (softmax) and multilabel
(one sigmoid per label) targets, on the shared ``_BaseMLP``."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.model_selection import train_test_split
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import column_or_1d

from .. import activations as activations_module
from ..layers import Layer
from .mlp import _BaseMLP, _seed


class MLPClassifier(ClassifierMixin, _BaseMLP):
    """Multi-layer perceptron classifier: binary, multiclass and multilabel.

    Parameters (scikit-learn's names and defaults where it has them)
    ----------
    hidden_layer_sizes : tuple of int, default (100,)
        Neurons per hidden layer.
    activation : str or list of str, default "relu"
        One name for every hidden layer, or one per layer: relu, tanh, logistic
        (sigmoid), identity, leaky_relu, ...
    dropout : float or list of float, default 0.0
        Dropout rate after each hidden layer (one for all, or one per layer).
    optimizer : {"sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw"}, default "adam"
    alpha : float, default 1e-4
        L2 penalty, scaled as scikit-learn's (see the ``lucidnet.sklearn`` docstring).
    batch_size : int or "auto", default "auto" (``min(200, n_samples)``)
    learning_rate_init : float, default 1e-3
    learning_rate : {"constant", "step", "exponential", "cosine", "adaptive"}
        The schedule over the epochs: "step" halves the rate every ``max_iter // 4``
        epochs, "exponential" multiplies it by 0.96 per epoch, "cosine" follows half a
        cosine to ~0 at ``max_iter``; "adaptive" (scikit-learn's) divides it by 5 each time
        the stopping rule would stop, and stops once it is below 1e-6. For any optimizer
        (scikit-learn's apply to SGD only).
    max_iter, tol, n_iter_no_change : the stopping rule (epochs), as scikit-learn's.
    early_stopping : bool, default False
        Hold out ``validation_fraction`` (stratified, except for multilabel targets) and
        stop on its accuracy (multilabel: the fraction of rows with every label right).
        Each ``fit`` keeps the weights of its own best validation score.
    momentum : float, default 0.9 (optimizers "momentum" and "nesterov")
    beta_1, beta_2, epsilon : Adam's and AdamW's; "adamw" decays the weights by
        ``weight_decay=0.01`` (lucidnet's default), on top of ``alpha``.
    shuffle : bool, default True
    random_state : int, RandomState or None
        Initial weights, dropout masks, the shuffling and the validation split.
    warm_start : bool, default False
        ``fit`` continues the network of the previous fit (its architecture, optimizer
        and optimizer state; changing those raises ValueError), restarting the learning
        rate at ``learning_rate_init`` and the schedule at its first epoch.
    verbose : bool, default False (True prints a line per epoch)
    dtype : "float32" (default) or "float64"

    Attributes
    ----------
    classes_, n_features_in_, feature_names_in_ (when X has column names), n_outputs_,
    n_layers_, n_iter_, t_, loss_curve_, best_loss_, validation_scores_,
    best_validation_score_, coefs_, intercepts_, out_activation_, and ``model_``.
    """

    _loss_name = "binary_crossentropy"

    def _output_layers(self) -> list[Layer]:
        kind = self._target_kind
        self.out_activation_ = "softmax" if kind == "multiclass" else "logistic"
        self._loss_name = "crossentropy" if kind == "multiclass" else "binary_crossentropy"
        return [activations_module.get(self.out_activation_)]

    def _penalty_scale(self) -> float:
        # scikit-learn's log loss sums over the labels of a multilabel target, lucidnet's
        # binary cross-entropy averages over them: the penalty shrinks by as much
        labels = len(self.classes_) if self._target_kind == "multilabel-indicator" else 1
        return 0.5 / labels

    def _prepare_targets(self, y: Any, fitting: bool, classes: Any = None) -> np.ndarray:
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
        if fitting:
            if kind == "multilabel-indicator":
                self.classes_ = np.arange(y.shape[1])
            else:
                known = np.unique(y) if classes is None else np.unique(np.asarray(classes))
                if classes is not None and not np.isin(np.unique(y), known).all():
                    raise ValueError(f"{name}: y has labels that are not in classes={classes!r}")
                if len(known) < 2:
                    raise ValueError(
                        f"{name}: y has only one class ({known[0]}); a classifier needs "
                        "at least 2 classes"
                    )
                self.classes_ = known
                kind = "binary" if len(known) == 2 else "multiclass"
            self._target_kind = kind
        elif self._target_kind == "multilabel-indicator":
            if kind != "multilabel-indicator" or y.shape[1] != len(self.classes_):
                raise ValueError(
                    f"{name}: was fitted on multilabel targets with {len(self.classes_)} "
                    f"labels; got y of type {kind} with shape {y.shape}"
                )
        elif y.ndim != 1:
            raise ValueError(
                f"{name}: was fitted on one label per sample; got y of shape {y.shape}"
            )
        elif not np.isin(y, self.classes_).all():
            unseen = np.setdiff1d(np.unique(y), self.classes_)
            raise ValueError(
                f"{name}: y has labels {unseen.tolist()} not seen in the first fit "
                f"(classes_ = {self.classes_.tolist()})"
            )
        if self._target_kind == "multilabel-indicator":
            return y.astype(self._dtype)
        codes = np.searchsorted(self.classes_, y)
        if self._target_kind == "binary":
            return codes.astype(self._dtype).reshape(-1, 1)
        return codes

    def _n_outputs(self, targets: np.ndarray) -> int:
        if self._target_kind == "multiclass":
            return len(self.classes_)
        return targets.shape[1]

    def _split(
        self, X: np.ndarray, targets: np.ndarray, rng: np.random.RandomState
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, Any]:
        stratify = targets if self._target_kind != "multilabel-indicator" else None
        X_tr, X_val, t_tr, t_val = train_test_split(
            X,
            targets,
            test_size=self.validation_fraction,
            random_state=_seed(rng),
            stratify=stratify,
        )
        return X_tr, X_val, t_tr, self._labels(t_val)

    def _labels(self, targets: np.ndarray) -> np.ndarray:
        """Network targets back to the user's labels (for the validation score)."""
        if self._target_kind == "multilabel-indicator":
            return targets.astype(int)
        return self.classes_[np.asarray(targets).reshape(-1).astype(int)]

    def partial_fit(self, X: Any, y: Any, classes: Any = None) -> MLPClassifier:
        """One epoch over ``(X, y)``, from the current weights and learning rate (the
        schedules and early stopping belong to ``fit``).

        ``classes`` (all the labels the estimator will see) is required on the first
        call unless y is multilabel; later calls may omit it.
        """
        if not hasattr(self, "model_"):
            self._check_params()
            y_arr = np.asarray(y)
            if classes is None and not (y_arr.ndim == 2 and y_arr.shape[1] > 1):
                raise ValueError(
                    "MLPClassifier.partial_fit: pass classes= (every label) on the first call"
                )
        elif classes is not None and not np.array_equal(np.unique(classes), self.classes_):
            raise ValueError(
                f"MLPClassifier.partial_fit: classes={classes!r} differs from the first "
                f"call's {self.classes_.tolist()}"
            )
        return self._fit(X, y, incremental=True, classes=classes)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, ``(n_samples, n_classes)``; multilabel: one per label."""
        p = self._forward(X)
        if self._target_kind == "binary":
            return np.hstack([1 - p, p])
        return p

    def predict_log_proba(self, X: Any) -> np.ndarray:
        """``log(predict_proba(X))``."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X: Any) -> np.ndarray:
        """The most likely class (multilabel: every label with probability > 0.5)."""
        p = self.predict_proba(X)
        if self._target_kind == "multilabel-indicator":
            return (p > 0.5).astype(int)
        return self.classes_[np.argmax(p, axis=1)]

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags
