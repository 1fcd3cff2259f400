"""What ``MLPClassifier`` and ``MLPRegressor`` share: ``_BaseMLP`` (the hyperparameters and
their checks, the network, the optimizer and schedule, the training loop), ``_StopRule``
(scikit-learn's stopping rule, as a lucidnet callback) and small helpers."""

from __future__ import annotations

import warnings
from numbers import Integral
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from .. import activations as activations_module
from ..callbacks import Callback, LearningRateScheduler
from ..layers import Dense, Dropout, Layer
from ..model import Sequential
from ..optimizers import SGD, Adam, AdamW, Optimizer, RMSprop
from ..schedules import CosineDecay, ExponentialDecay, StepDecay
from ..validation import float_dtype, is_number

OPTIMIZERS = ("sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw")
SCHEDULES = ("constant", "step", "exponential", "cosine", "adaptive")


def _seed(rng: np.random.RandomState) -> int:
    """An int seed for lucidnet's generators, drawn from scikit-learn's ``random_state``."""
    return int(rng.randint(np.iinfo(np.int32).max))


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
            if not is_number(v) or not (v > 0 if positive else v >= 0):
                fail(param, f"a finite number {'>' if positive else '>='} 0")
        for param in ("momentum", "beta_1", "beta_2"):
            if not is_number(getattr(self, param)) or not 0 <= getattr(self, param) < 1:
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
        if not is_number(vf) or not 0 < vf < 1:
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
            if not is_number(rate) or not 0 <= rate < 1:
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
