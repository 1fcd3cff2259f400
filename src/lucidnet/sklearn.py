"""scikit-learn estimators: ``MLPClassifier``, ``MLPRegressor`` and ``Perceptron``.

They follow scikit-learn's conventions, so they work in ``Pipeline``, ``GridSearchCV``,
``cross_val_score`` and ``clone``, and they pass scikit-learn's own estimator checks
(``tests/test_sklearn.py`` runs ``parametrize_with_checks`` on all three):

- ``__init__`` stores its arguments unchanged; every check happens in ``fit``;
- what ``fit`` learns ends in ``_``: ``classes_``, ``n_features_in_``, ``loss_curve_``,
  ``validation_scores_``, ``n_iter_``, and ``model_``, the trained lucidnet
  ``Sequential`` (save it with ``est.model_.save("model.lucid")``: a file that loading
  never executes, unlike a pickle);
- ``partial_fit``, ``warm_start``, ``random_state``, ``score``, ``get_params`` /
  ``set_params``, early stopping on a held-out ``validation_fraction``.

Beyond scikit-learn's ``MLPClassifier`` / ``MLPRegressor`` (which have not taken these
up: scikit-learn issues #6175, #10097, #18507, #14571): ``dropout``, an ``activation``
per hidden layer, six optimizers (``sgd``, ``momentum``, ``nesterov``, ``rmsprop``,
``adam``, ``adamw``), learning-rate schedules (``constant``, ``step``, ``exponential``,
``cosine``, ``adaptive``), ``dtype`` (float32 by default, float64 on request) and the
per-epoch ``validation_scores_`` whenever ``early_stopping`` holds data out.

Choices where scikit-learn's MLP differs or is silent (docs/sklearn.md lists them):

- ``alpha`` has scikit-learn's scale: each batch's mean loss gains
  ``alpha / (2 * batch_size) * sum(W^2)``, built as ``Dense(l2=alpha / (2 * batch_size))``.
  The regressor's loss is the mean squared error, where scikit-learn's is half of it, so
  there the penalty is doubled (``Dense(l2=alpha / batch_size)``) to keep the same balance,
  and ``loss_curve_`` reads twice scikit-learn's.
- Training stops like scikit-learn's: when the training loss (or, with early stopping,
  the validation score) has not improved by ``tol`` for ``n_iter_no_change`` epochs in
  a row; reaching ``max_iter`` first raises a ``ConvergenceWarning``. Early stopping
  keeps the weights of the best validation score.
- Binary targets get one sigmoid output and multiclass targets a softmax, each trained
  with the fused cross-entropy; multilabel indicator targets get one sigmoid per label.

The module needs scikit-learn (``pip install 'lucidnet[sklearn]'``); the rest of
lucidnet does not.
"""

from __future__ import annotations

import warnings
from numbers import Integral, Real
from typing import Any

import numpy as np

try:
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.model_selection import train_test_split
    from sklearn.utils import check_random_state
    from sklearn.utils.multiclass import check_classification_targets, type_of_target
    from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data
except ImportError as err:  # pragma: no cover - exercised only without scikit-learn
    raise ImportError(
        "lucidnet.sklearn needs scikit-learn; install it with: pip install 'lucidnet[sklearn]'"
    ) from err

from . import activations as activations_module
from .callbacks import Callback, LearningRateScheduler
from .layers import Dense, Dropout, Layer
from .model import Sequential
from .optimizers import SGD, Adam, AdamW, Optimizer, RMSprop
from .schedules import CosineDecay, ExponentialDecay, StepDecay
from .validation import float_dtype

__all__ = ["MLPClassifier", "MLPRegressor", "Perceptron"]

OPTIMIZERS = ("sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw")
SCHEDULES = ("constant", "step", "exponential", "cosine", "adaptive")

# Checks of scikit-learn's suite that an estimator is expected to fail, with the reason:
# passed to parametrize_with_checks(expected_failed_checks=...) by the tests and listed in
# docs/sklearn.md. All three estimators pass every check, so it is empty.
EXPECTED_FAILED_CHECKS: dict[str, str] = {}


def _seed(rng: np.random.RandomState) -> int:
    """An int seed for lucidnet's generators, drawn from scikit-learn's ``random_state``."""
    return int(rng.randint(np.iinfo(np.int32).max))


def _is_number(v: Any) -> bool:
    """A finite real number (bools excluded)."""
    return isinstance(v, Real) and not isinstance(v, bool) and bool(np.isfinite(v))


def _as_list(value: Any, n: int, what: str) -> list[Any]:
    """One value per hidden layer: a single value repeated, or a list of exactly ``n``."""
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        if len(value) != n:
            raise ValueError(
                f"{what} has {len(value)} entries but hidden_layer_sizes has {n} layers; "
                "give one value, or one per hidden layer"
            )
        return list(value)
    return [value] * n


class _StopRule(Callback):
    """scikit-learn's stopping rule, the loss curve and the validation scores, per epoch.

    Without a validation set: stop when the training loss has not dropped below
    ``best - tol`` for more than ``n_iter_no_change`` epochs. With one: the same on the
    validation score (higher is better), and remember the weights of the best score.
    With ``learning_rate="adaptive"`` the rate is divided by 5 instead of stopping, until
    it is below 1e-6 (scikit-learn's rule).
    """

    def __init__(self, estimator: _BaseMLP, validation: tuple[np.ndarray, Any] | None) -> None:
        super().__init__()
        self.est, self.validation = estimator, validation

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        est = self.est
        loss = float((logs or {})["loss"])
        est.loss_curve_.append(loss)
        est.n_iter_ += 1
        est.t_ += self.params.get("samples", 0)
        if self.validation is None:
            improved = loss < est.best_loss_ - est.tol
            est.best_loss_ = min(est.best_loss_, loss)
        else:
            score = est._validation_score(*self.validation)
            est.validation_scores_.append(score)
            improved = score > est.best_validation_score_ + est.tol
            if score > est.best_validation_score_:
                est.best_validation_score_ = score
                est._best_weights = self.model.get_weights()
        est._no_improvement_count = 0 if improved else est._no_improvement_count + 1
        if est._no_improvement_count > est.n_iter_no_change:
            optimizer = self.model.optimizer
            if est.learning_rate == "adaptive" and optimizer.lr > 1e-6:
                optimizer.lr /= 5  # scikit-learn's "adaptive": a smaller step, not a stop
                est._no_improvement_count = 0
            else:
                self.model.stop_training = True


class _BaseMLP(BaseEstimator):
    """What the classifier and the regressor share: the network, the optimizer, the loop."""

    _loss_name = ""

    def __init__(
        self,
        hidden_layer_sizes: Any = (100,),
        activation: Any = "relu",
        *,
        dropout: Any = 0.0,
        optimizer: str = "adam",
        alpha: float = 0.0001,
        batch_size: Any = "auto",
        learning_rate_init: float = 0.001,
        learning_rate: str = "constant",
        max_iter: int = 200,
        tol: float = 1e-4,
        n_iter_no_change: int = 10,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        momentum: float = 0.9,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        shuffle: bool = True,
        random_state: Any = None,
        warm_start: bool = False,
        verbose: bool = False,
        dtype: Any = "float32",
    ) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.dropout = dropout
        self.optimizer = optimizer
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.momentum = momentum
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.shuffle = shuffle
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose
        self.dtype = dtype

    # --- checks of the hyperparameters (in fit, never in __init__) ------------------------

    def _check_params(self) -> None:
        name = type(self).__name__

        def fail(param: str, expected: str) -> None:
            raise ValueError(f"{name}: {param} must be {expected}, got {getattr(self, param)!r}")

        sizes = self.hidden_layer_sizes
        if isinstance(sizes, np.ndarray):
            sizes = sizes.tolist()
        if isinstance(sizes, Integral) and not isinstance(sizes, bool):
            sizes = (sizes,)
        if not isinstance(sizes, (list, tuple)) or not all(
            isinstance(s, Integral) and not isinstance(s, bool) and s >= 1 for s in sizes
        ):
            fail("hidden_layer_sizes", "an int >= 1 or a tuple of them (empty: no hidden layer)")
        self._sizes = [int(s) for s in sizes]
        for param, positive in (
            ("alpha", False),
            ("tol", False),
            ("learning_rate_init", True),
            ("epsilon", True),
        ):
            v = getattr(self, param)
            if not _is_number(v) or not (v > 0 if positive else v >= 0):
                fail(param, f"a finite number {'>' if positive else '>='} 0")
        for param in ("momentum", "beta_1", "beta_2"):
            if not _is_number(getattr(self, param)) or not 0 <= getattr(self, param) < 1:
                fail(param, "a number in [0, 1)")
        for param in ("max_iter", "n_iter_no_change"):
            v = getattr(self, param)
            if not isinstance(v, Integral) or isinstance(v, bool) or v < 1:
                fail(param, "an int >= 1")
        bs = self.batch_size
        if not (
            bs == "auto" or (isinstance(bs, Integral) and not isinstance(bs, bool) and bs >= 1)
        ):
            fail("batch_size", "'auto' or an int >= 1")
        if self.optimizer not in OPTIMIZERS:
            fail("optimizer", f"one of {', '.join(OPTIMIZERS)}")
        if self.learning_rate not in SCHEDULES:
            fail("learning_rate", f"one of {', '.join(SCHEDULES)}")
        vf = self.validation_fraction
        if not _is_number(vf) or not 0 < vf < 1:
            fail("validation_fraction", "a number in (0, 1)")
        try:
            self._dtype = float_dtype(self.dtype)
        except ValueError as err:
            raise ValueError(f"{name}: {err}") from None
        self._activations = _as_list(self.activation, len(self._sizes), f"{name}: activation")
        for act in self._activations:
            try:
                activations_module.get(act)
            except ValueError as err:
                raise ValueError(f"{name}: {err}") from None
        self._dropouts = _as_list(self.dropout, len(self._sizes), f"{name}: dropout")
        for rate in self._dropouts:
            if not _is_number(rate) or not 0 <= rate < 1:
                raise ValueError(f"{name}: dropout rates must be in [0, 1), got {self.dropout!r}")

    # --- building blocks --------------------------------------------------------------------

    def _batch(self, n_samples: int) -> int:
        return min(200, n_samples) if self.batch_size == "auto" else min(self.batch_size, n_samples)

    def _output_layers(self) -> list[Layer]:
        """The activation after the last Dense layer (Identity for regression)."""
        raise NotImplementedError

    def _build(self, n_features: int, n_outputs: int, rng: np.random.RandomState) -> None:
        """A fresh network ``model_``, compiled with the loss and optimizer."""
        layers: list[Layer] = []
        width = n_features
        for size, act, rate in zip(self._sizes, self._activations, self._dropouts, strict=True):
            layers.append(Dense(width, size, dtype=self._dtype, seed=_seed(rng)))
            layers.append(activations_module.get(act))
            if rate > 0:
                layers.append(Dropout(float(rate), seed=_seed(rng)))
            width = size
        layers.append(Dense(width, n_outputs, dtype=self._dtype, seed=_seed(rng)))
        layers += self._output_layers()
        self.model_ = Sequential(layers)
        self.model_.compile(self._loss_name, self._make_optimizer())
        self._network = self._network_params()
        self.n_layers_ = len(self._sizes) + 2
        self.n_outputs_ = n_outputs
        self.loss_curve_: list[float] = []
        self.validation_scores_: list[float] | None = [] if self.early_stopping else None
        self.best_loss_ = np.inf
        self.best_validation_score_ = -np.inf if self.early_stopping else None
        self.n_iter_ = 0
        self.t_ = 0
        self._no_improvement_count = 0

    def _network_params(self) -> dict[str, Any]:
        """What a warm start cannot change: the network and its optimizer."""
        return {
            "hidden_layer_sizes": tuple(self._sizes),
            "activation": tuple(
                str(a).lower() if isinstance(a, str) else a for a in self._activations
            ),
            "dropout": tuple(float(r) for r in self._dropouts),
            "optimizer": self.optimizer,
            "dtype": self._dtype,
        }

    def _check_same_network(self) -> None:
        for param, value in self._network_params().items():
            if value != self._network[param]:
                raise ValueError(
                    f"{type(self).__name__}: {param} changed from {self._network[param]!r} "
                    f"to {value!r} since the network was built; warm_start and partial_fit "
                    "continue that network: refit with warm_start=False"
                )

    def _penalty_scale(self) -> float:
        """``l2 / (alpha / n)`` that reproduces scikit-learn's penalty for this loss."""
        return 0.5  # scikit-learn: loss + alpha / (2 n) * sum(W^2)

    def _set_penalty(self, batch: int) -> None:
        """Each Dense layer's ``l2`` for batches of ``batch`` rows (scikit-learn's alpha)."""
        l2 = float(self.alpha) * self._penalty_scale() / batch
        for layer in self.model_.layers:
            if isinstance(layer, Dense):
                layer.l2 = l2

    def _make_optimizer(self) -> Optimizer:
        lr = float(self.learning_rate_init)
        name = self.optimizer
        if name == "sgd":
            return SGD(lr)
        if name in ("momentum", "nesterov"):
            return SGD(lr, momentum=self.momentum, nesterov=name == "nesterov")
        if name == "rmsprop":
            return RMSprop(lr)
        cls = Adam if name == "adam" else AdamW
        return cls(lr, beta1=self.beta_1, beta2=self.beta_2, eps=self.epsilon)

    def _schedule(self, start: int) -> list[Callback]:
        """The learning-rate schedule of one fit, counted from its first epoch ``start``."""
        lr, kind = float(self.learning_rate_init), self.learning_rate
        if kind in ("constant", "adaptive"):  # "adaptive" lives in the stopping rule
            return []
        schedule = {
            "step": lambda: StepDecay(lr, factor=0.5, every=max(1, self.max_iter // 4)),
            "exponential": lambda: ExponentialDecay(lr, rate=0.96),
            "cosine": lambda: CosineDecay(lr, epochs=self.max_iter),
        }[kind]()
        return [LearningRateScheduler(lambda epoch, _lr: schedule(epoch - start))]

    # --- training -----------------------------------------------------------------------------

    def _prepare_targets(self, y: Any, fitting: bool, classes: Any = None) -> np.ndarray:
        """Targets as the network trains on them (and, when fitting, the output size)."""
        raise NotImplementedError

    def _n_outputs(self, targets: np.ndarray) -> int:
        raise NotImplementedError

    def _fit(self, X: Any, y: Any, incremental: bool, classes: Any = None) -> _BaseMLP:
        self._check_params()
        keep = hasattr(self, "model_") and (incremental or self.warm_start)
        X, y = validate_data(
            self, X, y, reset=not keep, dtype=(np.float64, np.float32), multi_output=True
        )
        X = X.astype(self._dtype, copy=False)
        targets = self._prepare_targets(y, fitting=not keep, classes=classes)
        rng = check_random_state(self.random_state)
        if keep:
            self._check_same_network()
        else:
            self._build(X.shape[1], self._n_outputs(targets), rng)
        validation = None
        if self.early_stopping and not incremental:
            X, X_val, targets, y_val = self._split(X, targets, rng)
            validation = (X_val, y_val)
        batch = self._batch(len(X))
        self._set_penalty(batch)
        start = self.n_iter_
        if not incremental:  # each fit: its own rate schedule and its own early stopping
            self.model_.optimizer.lr = float(self.learning_rate_init)
            self._no_improvement_count = 0
            if validation is not None:
                self.validation_scores_ = self.validation_scores_ or []
                self.best_validation_score_ = -np.inf
        epochs = 1 if incremental else int(self.max_iter)
        rule = _StopRule(self, validation)
        callbacks = [rule] + ([] if incremental else self._schedule(start))
        self.model_.fit(
            X,
            targets,
            epochs=start + epochs,
            initial_epoch=start,
            batch_size=batch,
            shuffle=bool(self.shuffle),
            callbacks=callbacks,
            verbose=2 if self.verbose else 0,
            seed=_seed(rng),
        )
        if validation is not None and getattr(self, "_best_weights", None) is not None:
            self.model_.set_weights(self._best_weights)
        self._best_weights = None
        if not incremental and not self.model_.stop_training and self.n_iter_ - start == epochs:
            warnings.warn(
                f"{type(self).__name__}: stopped at max_iter={self.max_iter} epochs before "
                f"the {'validation score' if validation else 'loss'} stopped improving by "
                f"tol={self.tol}; raise max_iter or tol",
                ConvergenceWarning,
                stacklevel=3,
            )
        return self

    def _split(
        self, X: np.ndarray, targets: np.ndarray, rng: np.random.RandomState
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, Any]:
        """Hold out ``validation_fraction`` of the rows (stratified for classifiers)."""
        raise NotImplementedError

    def _validation_score(self, X_val: np.ndarray, y_val: Any) -> float:
        return float(self.score(X_val, y_val))

    def fit(self, X: Any, y: Any) -> _BaseMLP:
        """Train on ``(X, y)`` for up to ``max_iter`` epochs; return ``self``.

        A fresh network each call, unless ``warm_start=True`` and the estimator is fitted:
        then training continues from the current weights.
        """
        return self._fit(X, y, incremental=False)

    def _forward(self, X: Any) -> np.ndarray:
        """The network's output for ``X``, after the checks scikit-learn expects."""
        check_is_fitted(self, "model_")
        X = validate_data(self, X, reset=False, dtype=(np.float64, np.float32))
        return self.model_.predict(X.astype(self.model_.dtype, copy=False))

    @property
    def coefs_(self) -> list[np.ndarray]:
        """Weight matrices of the Dense layers, input to output (scikit-learn's name)."""
        check_is_fitted(self, "model_")
        return [layer.weights for layer in self.model_.layers if isinstance(layer, Dense)]

    @property
    def intercepts_(self) -> list[np.ndarray]:
        """Bias vectors of the Dense layers, input to output (scikit-learn's name)."""
        check_is_fitted(self, "model_")
        return [layer.bias for layer in self.model_.layers if isinstance(layer, Dense)]


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
        L2 penalty, scaled as scikit-learn's (see the module docstring).
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


class MLPRegressor(RegressorMixin, _BaseMLP):
    """Multi-layer perceptron regressor (squared error), single or multi-output.

    The parameters and attributes are MLPClassifier's (without ``classes_``); the output
    layer is linear (``out_activation_ = "identity"``) and the loss is the mean squared
    error. Early stopping scores the held-out rows with R^2. ``predict`` returns
    ``(n_samples,)`` for a network with one output (fitted on ``y`` of shape ``(n,)`` or
    ``(n, 1)``, as scikit-learn's), ``(n_samples, n_outputs)`` otherwise.
    """

    _loss_name = "mse"

    def _penalty_scale(self) -> float:
        # scikit-learn's squared loss is half the MSE; against the full MSE used here the
        # same balance of data and penalty needs twice the penalty: alpha / n * sum(W^2)
        return 1.0

    def _output_layers(self) -> list[Layer]:
        self.out_activation_ = "identity"
        return []

    def _prepare_targets(self, y: Any, fitting: bool, classes: Any = None) -> np.ndarray:
        targets = np.asarray(y).reshape(len(y), -1).astype(self._dtype)
        if not fitting and targets.shape[1] != self.n_outputs_:
            raise ValueError(
                f"MLPRegressor: y has {targets.shape[1]} output(s); the network was built "
                f"for {self.n_outputs_}"
            )
        return targets

    def _n_outputs(self, targets: np.ndarray) -> int:
        return targets.shape[1]

    def _split(
        self, X: np.ndarray, targets: np.ndarray, rng: np.random.RandomState
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, Any]:
        X_tr, X_val, t_tr, t_val = train_test_split(
            X, targets, test_size=self.validation_fraction, random_state=_seed(rng)
        )
        return X_tr, X_val, t_tr, t_val.ravel() if t_val.shape[1] == 1 else t_val

    def partial_fit(self, X: Any, y: Any) -> MLPRegressor:
        """One epoch over ``(X, y)``, from the current weights and learning rate (the
        schedules and early stopping belong to ``fit``)."""
        return self._fit(X, y, incremental=True)

    def predict(self, X: Any) -> np.ndarray:
        """Predicted values, as float64 (scikit-learn's rule for regressors; the network
        itself computes in ``dtype``)."""
        out = self._forward(X).astype(np.float64)
        return out.ravel() if self.n_outputs_ == 1 else out

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags


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
        if not _is_number(eta) or eta <= 0:
            raise ValueError(f"Perceptron: eta0 must be a finite number > 0, got {eta!r}")
        for param in ("max_iter", "n_iter_no_change"):
            v = getattr(self, param)
            if not isinstance(v, Integral) or isinstance(v, bool) or v < 1:
                raise ValueError(f"Perceptron: {param} must be an int >= 1, got {v!r}")
        tol = self.tol
        if tol is not None and (not _is_number(tol) or tol < 0):
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
