"""What ``MLPClassifier`` and ``MLPRegressor`` share: ``_BaseMLP``, with scikit-learn's
parameters and their checks, the network (built from scikit-learn's initialisation, or
from ``coefs_`` and ``intercepts_`` a user set), the optimizer and the ``fit`` /
``partial_fit`` plumbing. The solvers are in ``solvers.py``, the loss scaling in
``objective.py``.

**State, as scikit-learn keeps it.** A *first pass* (no fitted weights, or ``fit`` without
``warm_start``) draws new weights and resets ``n_iter_``, ``t_``, ``loss_curve_``,
``best_loss_``, ``validation_scores_``, ``best_validation_score_`` and the count of
epochs without progress. Otherwise (``warm_start``, ``partial_fit``) the network and all
of those carry on; ``n_iter_`` counts the epochs of the current call only. ``fit`` starts
a new optimizer (learning rate back at ``learning_rate_init``, no momentum yet);
``partial_fit`` keeps the one it has.

**coefs_ and intercepts_** are the network's weight arrays themselves (views): editing one
in place edits the network. Assigning new arrays (``est.coefs_[0] = W``) is also seen:
before any use the estimator copies every array that is no longer the network's own into
it, after checking its shape; an estimator given ``coefs_`` and ``intercepts_``
without a network builds one from them at its next ``partial_fit`` or warm-started
``fit`` (scikit-learn's worked example does this). A network assigned to ``model_``
replaces the arrays: ``coefs_`` become its own.
"""

from __future__ import annotations

import warnings
from numbers import Integral, Real
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from .. import activations as activations_module
from ..activations import Sigmoid
from ..layers import Dense, Dropout, Layer
from ..model import Sequential
from ..optimizers import SGD, Adam, AdamW, Optimizer, RMSprop
from ..parameters import Parameter
from ..schedules import CosineDecay, ExponentialDecay, StepDecay
from ..streaming import on_disk
from ..validation import float_dtype, is_number
from ..weights import check_sample_weight
from .objective import Objective, check_range, chunks, dense_rows
from .solvers import fit_lbfgs, fit_stochastic, split_for_early_stopping

SOLVERS = ("lbfgs", "sgd", "adam", "rmsprop", "adamw")
STOCHASTIC = ("sgd", "adam", "rmsprop", "adamw")
SCHEDULES = ("constant", "invscaling", "adaptive", "step", "exponential", "cosine")


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


def _stochastic_solver(est: _BaseMLP) -> bool:
    """``partial_fit`` exists only for the stochastic solvers (scikit-learn's rule)."""
    if est.solver not in STOCHASTIC:
        raise AttributeError(
            f"partial_fit is only available for stochastic optimizers. {est.solver} is not "
            "stochastic."
        )
    return True


class _BaseMLP(BaseEstimator):
    """What the classifier and the regressor share: the network, the optimizer, the fit."""

    _loss_name = ""
    _y_numeric = False  # the regressor's targets must be numbers

    def __init__(
        self,
        hidden_layer_sizes: Any = (100,),
        activation: Any = "relu",
        *,
        solver: str = "adam",
        alpha: float = 0.0001,
        batch_size: Any = "auto",
        learning_rate: str = "constant",
        learning_rate_init: float = 0.001,
        power_t: float = 0.5,
        max_iter: int = 200,
        shuffle: bool = True,
        random_state: Any = None,
        tol: float = 1e-4,
        verbose: bool = False,
        warm_start: bool = False,
        momentum: float = 0.9,
        nesterovs_momentum: bool = True,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        n_iter_no_change: Any = 10,
        max_fun: int = 15000,
        dropout: Any = 0.0,
        dtype: Any = None,
    ) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.dropout = dropout
        self.dtype = dtype

    # --- checks of the hyperparameters (in fit, never in __init__) ------------------------

    def _fail(self, param: str, expected: str) -> None:
        raise ValueError(
            f"{type(self).__name__}: {param} must be {expected}, got {getattr(self, param)!r}"
        )

    def _check_params(self) -> None:
        name = type(self).__name__
        sizes = self.hidden_layer_sizes
        if isinstance(sizes, np.ndarray):
            sizes = sizes.tolist()
        if isinstance(sizes, Integral) and not isinstance(sizes, bool):
            sizes = (sizes,)
        if not isinstance(sizes, (list, tuple)) or not all(
            isinstance(s, Integral) and not isinstance(s, bool) and s >= 1 for s in sizes
        ):
            self._fail(
                "hidden_layer_sizes", "an int >= 1 or a tuple of them (empty: no hidden layer)"
            )
        self._sizes = [int(s) for s in sizes]
        for param, positive in (
            ("alpha", False),
            ("tol", False),
            ("learning_rate_init", True),
            ("epsilon", True),
            ("power_t", False),
        ):
            v = getattr(self, param)
            if not is_number(v) or not (v > 0 if positive else v >= 0):
                self._fail(param, f"a finite number {'>' if positive else '>='} 0")
        for param in ("momentum", "beta_1", "beta_2"):
            v = getattr(self, param)
            if not is_number(v) or not 0 <= v <= 1 or (param != "momentum" and v == 1):
                self._fail(param, "a number in [0, 1]" if param == "momentum" else "in [0, 1)")
        for param in ("max_iter", "max_fun"):
            v = getattr(self, param)
            if not isinstance(v, Integral) or isinstance(v, bool) or v < 1:
                self._fail(param, "an int >= 1")
        v = self.n_iter_no_change
        if not (
            (isinstance(v, Integral) and not isinstance(v, bool) and v >= 1)
            or (isinstance(v, Real) and v == np.inf)
        ):
            self._fail("n_iter_no_change", "an int >= 1 or numpy.inf")
        bs = self.batch_size
        if not (
            bs == "auto" or (isinstance(bs, Integral) and not isinstance(bs, bool) and bs >= 1)
        ):
            self._fail("batch_size", "'auto' or an int >= 1")
        if self.solver not in SOLVERS:
            self._fail("solver", f"one of {', '.join(SOLVERS)}")
        if self.learning_rate not in SCHEDULES:
            self._fail("learning_rate", f"one of {', '.join(SCHEDULES)}")
        vf = self.validation_fraction
        if not is_number(vf) or not 0 <= vf < 1:
            self._fail("validation_fraction", "a number in [0, 1)")
        if self.dtype is not None:
            try:
                float_dtype(self.dtype)
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
        if self.solver == "lbfgs" and any(r > 0 for r in self._dropouts):
            raise ValueError(
                f"{name}: solver='lbfgs' needs the same loss for the same weights, which "
                "dropout changes from one evaluation to the next; use a stochastic solver "
                "or dropout=0"
            )

    # --- what the subclasses define -------------------------------------------------------

    def _output_layers(self) -> list[Layer]:
        """The activation after the last Dense layer (none for the identity)."""
        raise NotImplementedError

    def _targets(self, y: Any, first_pass: bool, incremental: bool) -> np.ndarray:
        """``y`` checked and coded as the network trains on it; on a first pass it also
        fixes what the targets are (classes, outputs)."""
        raise NotImplementedError

    def _n_outputs(self) -> int:
        raise NotImplementedError

    def _loss_factor(self) -> tuple[float, float]:
        """``(f, report_divisor)`` of ``objective.Objective`` for this estimator's loss."""
        raise NotImplementedError

    def _stratify(self, T: np.ndarray) -> Any:
        """What early stopping stratifies its split on (None: not stratified)."""
        return None

    def _labels(self, T: np.ndarray) -> Any:
        """Network targets back to what ``score`` compares with."""
        raise NotImplementedError

    def _validation_score(self, X: Any, y: Any, sample_weight: Any) -> float:
        raise NotImplementedError

    # --- building blocks --------------------------------------------------------------------

    def _batch_size(self, n_samples: int) -> int:
        if self.batch_size == "auto":
            return min(200, n_samples)
        if self.batch_size > n_samples:
            warnings.warn(
                f"{type(self).__name__}: batch_size={self.batch_size} is larger than the "
                f"{n_samples} training samples; it is clipped to {n_samples}",
                stacklevel=4,
            )
        return int(min(self.batch_size, n_samples))

    def _objective(self) -> Objective:
        factor, divisor = self._loss_factor()
        return Objective(factor, divisor, float(self.alpha))

    def _weight_parameters(self) -> list[Parameter]:
        """The weight matrices (what ``alpha`` penalises), input to output."""
        return [layer.parameter("weights") for layer in self._dense_layers()]

    def _dense_layers(self) -> list[Dense]:
        return [layer for layer in self.model_.layers if isinstance(layer, Dense)]

    def _layer_units(self, n_features: int) -> list[int]:
        return [n_features, *self._sizes, self._n_outputs()]

    def _build(self, units: list[int], dtype: np.dtype) -> None:
        """The network for ``units`` (input, hidden..., output), its weights zero until
        scikit-learn's initialisation (or the user's arrays) are set."""
        layers: list[Layer] = []
        for i, (size, act, rate) in enumerate(
            zip(self._sizes, self._activations, self._dropouts, strict=True)
        ):
            layers.append(Dense(units[i], size, init="zeros", dtype=dtype))
            layers.append(activations_module.get(act))
            if rate > 0:
                layers.append(Dropout(float(rate), seed=_seed(self._random_state)))
        layers.append(Dense(units[-2], units[-1], init="zeros", dtype=dtype))
        layers += self._output_layers()
        self.model_ = Sequential(layers)
        self.model_.compile(self._loss_name, "sgd")
        self.n_layers_ = len(units)
        self.n_outputs_ = units[-1]
        self._network = self._network_params()

    def _initial_weights(self, units: list[int], dtype: np.dtype) -> list[np.ndarray]:
        """scikit-learn's initialisation (Glorot and Bengio's uniform): for each layer in
        turn, ``coef`` then ``intercept`` drawn from ``U(-b, b)`` with
        ``b = sqrt(6 / (fan_in + fan_out))``, or ``sqrt(2 / ...)`` when the layer's
        activation is the logistic (the output layer takes the last hidden one's)."""
        rs = self._random_state
        out = []
        for i in range(len(units) - 1):
            act = self._activations[min(i, len(self._activations) - 1)] if self._sizes else None
            logistic = act is not None and type(activations_module.get(act)) is Sigmoid
            if not self._sizes and self.activation in ("logistic", "sigmoid"):
                logistic = True
            bound = np.sqrt((2.0 if logistic else 6.0) / (units[i] + units[i + 1]))
            coef = rs.uniform(-bound, bound, (units[i], units[i + 1]))
            intercept = rs.uniform(-bound, bound, units[i + 1])
            out += [coef.astype(dtype, copy=False), intercept.astype(dtype, copy=False)]
        return out

    def _network_params(self) -> dict[str, Any]:
        """What a warm start cannot change: the network's shape and layers."""
        return {
            "hidden_layer_sizes": tuple(self._sizes),
            "activation": tuple(
                str(a).lower() if isinstance(a, str) else a for a in self._activations
            ),
            "dropout": tuple(float(r) for r in self._dropouts),
        }

    def _check_same_network(self) -> None:
        for param, value in self._network_params().items():
            if value != self._network[param]:
                raise ValueError(
                    f"{type(self).__name__}: {param} changed from {self._network[param]!r} "
                    f"to {value!r} since the network was built; warm_start and partial_fit "
                    "continue that network: refit with warm_start=False"
                )
        if self.dtype is not None and float_dtype(self.dtype) != self.model_.dtype:
            raise ValueError(
                f"{type(self).__name__}: dtype={self.dtype!r} but the network was built in "
                f"{self.model_.dtype}; refit with warm_start=False"
            )

    def _link_attributes(self) -> None:
        """``coefs_`` and ``intercepts_``: the network's own arrays (and which network)."""
        dense = self._dense_layers()
        self.coefs_ = [layer.weights for layer in dense]
        self.intercepts_ = [layer.bias for layer in dense]
        self._linked_model = self.model_

    def _adopt_attributes(self) -> None:
        """Copy into the network every ``coefs_`` / ``intercepts_`` array that is no longer
        the network's own (replaced by the user), after checking every shape first (a bad
        one changes nothing)."""
        if getattr(self, "_linked_model", None) is not self.model_:
            self._link_attributes()  # a network assigned to model_: its arrays are the truth
            return
        dense = self._dense_layers()
        pending = []
        for what, arrays, attr in (
            ("coefs_", getattr(self, "coefs_", None), "weights"),
            ("intercepts_", getattr(self, "intercepts_", None), "bias"),
        ):
            if arrays is None:
                continue
            if len(arrays) != len(dense):
                raise ValueError(
                    f"{type(self).__name__}: {what} has {len(arrays)} arrays but the network "
                    f"has {len(dense)} layers"
                )
            for i, (a, layer) in enumerate(zip(arrays, dense, strict=True)):
                live = getattr(layer, attr)
                if a is live:
                    continue
                a = np.asarray(a)
                if a.shape != live.shape:
                    raise ValueError(
                        f"{type(self).__name__}: {what}[{i}] has shape {a.shape}; layer "
                        f"{i} ({layer.name}) needs {live.shape}"
                    )
                pending.append((live, a))
        for live, a in pending:
            live[...] = a
        self._link_attributes()

    def _network_from_attributes(self, n_features: int) -> None:
        """A network from ``coefs_`` and ``intercepts_`` set by the user (no ``model_``)."""
        coefs, intercepts = list(self.coefs_), list(getattr(self, "intercepts_", []))
        shapes = [np.shape(c) for c in coefs]
        units = self._layer_units(n_features)
        expected = [(units[i], units[i + 1]) for i in range(len(units) - 1)]
        if shapes != expected or len(intercepts) != len(coefs):
            raise ValueError(
                f"{type(self).__name__}: coefs_ have shapes {shapes} and there are "
                f"{len(intercepts)} intercepts_; hidden_layer_sizes={self.hidden_layer_sizes!r} "
                f"with {n_features} features and {units[-1]} output(s) needs {expected}"
            )
        dtype = np.result_type(*[np.asarray(c).dtype for c in coefs], np.float32)
        dtype = float_dtype(self.dtype) if self.dtype is not None else dtype
        self._build(units, dtype)
        self._linked_model = self.model_  # the arrays in coefs_ are the user's, to adopt
        self._adopt_attributes()

    def _make_optimizer(self) -> Optimizer:
        lr = float(self.learning_rate_init)
        name = self.solver
        if name == "sgd":
            momentum = float(self.momentum)
            nesterov = bool(self.nesterovs_momentum) and momentum > 0
            return SGD(lr, momentum=momentum, nesterov=nesterov)
        if name == "rmsprop":
            return RMSprop(lr)
        cls = Adam if name == "adam" else AdamW
        return cls(lr, beta1=self.beta_1, beta2=self.beta_2, eps=self.epsilon)

    def _extra_schedule(self) -> Any:
        """lucidnet's schedules (for every stochastic solver), as ``epoch -> rate``."""
        lr, kind = float(self.learning_rate_init), self.learning_rate
        if kind == "step":
            return StepDecay(lr, factor=0.5, every=max(1, self.max_iter // 4))
        if kind == "exponential":
            return ExponentialDecay(lr, rate=0.96)
        if kind == "cosine":
            return CosineDecay(lr, epochs=self.max_iter)
        return None  # "constant"; scikit-learn's "invscaling" and "adaptive" are in the loop

    # --- fit --------------------------------------------------------------------------------

    def _validate(self, X: Any, y: Any, reset: bool) -> tuple[Any, Any]:
        X, y = validate_data(
            self,
            X,
            y,
            reset=reset,
            accept_sparse="csr",
            dtype=(np.float64, np.float32),
            multi_output=True,
            y_numeric=self._y_numeric,
        )
        return X, y

    def _fit(self, X: Any, y: Any, sample_weight: Any, incremental: bool) -> _BaseMLP:
        self._check_params()
        if incremental and self.early_stopping:
            raise ValueError(
                "partial_fit does not support early_stopping=True (it holds data out of "
                "fit's epochs); set early_stopping=False"
            )
        # Everything that can refuse the data runs before training, and a refusal puts the
        # estimator back as it was (a first pass builds a new network beside the old one):
        # a refused fit never leaves a half-built estimator.
        before = dict(self.__dict__)
        try:
            X, T, sw, validation = self._prepare(X, y, sample_weight, incremental)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(before)
            raise
        if self.solver == "lbfgs":
            fit_lbfgs(self, X, T, sw)
        else:
            fit_stochastic(self, X, T, sw, incremental, validation)
        self._link_attributes()
        return self

    def _prepare(self, X: Any, y: Any, sample_weight: Any, incremental: bool) -> tuple[Any, ...]:
        """The checked data as the solver takes it, ``(X, T, sw, validation)``, and the
        network ready: a new one on a first pass, the current one otherwise."""
        name = type(self).__name__
        first_pass = not hasattr(self, "coefs_") or (not self.warm_start and not incremental)
        X, y = self._validate(X, y, reset=first_pass)
        sw = None
        if sample_weight is not None:
            if isinstance(sample_weight, Real):  # one number for every sample, as scikit-learn
                sample_weight = np.full(X.shape[0], sample_weight)
            sw = check_sample_weight(sample_weight, X.shape[0], f"{name}: sample_weight")
        dtype = self._network_dtype(first_pass, X)
        check_range(X, dtype, name)
        if self._y_numeric:
            check_range(np.asarray(y, dtype=np.float64), dtype, name, what="y")
        T = self._targets(y, first_pass, incremental)
        self._random_state = check_random_state(self.random_state)
        if first_pass:
            units = self._layer_units(X.shape[1])
            self._build(units, dtype)
            self.model_.set_weights(self._initial_weights(units, dtype))
            self._link_attributes()
            self._best_weights = None  # set by the first fit with early stopping
            self.n_iter_, self.t_, self._optimizer = 0, 0, None
            self.loss_curve_ = []
            self._no_improvement_count = 0
            if self.solver == "lbfgs":  # scikit-learn's stochastic-only attributes
                self.validation_scores_ = self.best_validation_score_ = self.best_loss_ = None
            elif self.early_stopping:
                self.validation_scores_, self.best_validation_score_ = [], -np.inf
                self.best_loss_ = None
            else:
                self.validation_scores_ = self.best_validation_score_ = None
                self.best_loss_ = np.inf
        else:
            if not hasattr(self, "model_"):
                self._network_from_attributes(X.shape[1])
            else:
                self._check_same_network()
                self._adopt_attributes()
            self._continue_state()
        if not sp.issparse(X) and not on_disk(X):  # a memory map is cast a batch at a time
            X = X.astype(self.model_.dtype, copy=False)
        T = T.astype(self.model_.dtype, copy=False) if T.dtype.kind == "f" else T
        validation = None
        if self.early_stopping and self.solver != "lbfgs":
            X, T, sw, validation = split_for_early_stopping(self, X, T, sw)
        return X, T, sw, validation

    def _network_dtype(self, first_pass: bool, X: Any) -> np.dtype:
        """The dtype the network has, or will have when this fit builds it."""
        if first_pass:
            return float_dtype(self.dtype) if self.dtype is not None else X.dtype
        if hasattr(self, "model_"):
            return self.model_.dtype
        given = np.result_type(*[np.asarray(c).dtype for c in self.coefs_], np.float32)
        return float_dtype(self.dtype) if self.dtype is not None else given

    def _continue_state(self) -> None:
        """Fill in the state a continued fit needs but a user-built estimator lacks."""
        defaults = {
            "n_iter_": 0,
            "t_": 0,
            "loss_curve_": [],
            "_no_improvement_count": 0,
            "_optimizer": None,
        }
        for name, value in defaults.items():
            if not hasattr(self, name):
                setattr(self, name, value)
        if self.early_stopping:
            if getattr(self, "validation_scores_", None) is None:
                self.validation_scores_ = []
            if getattr(self, "best_validation_score_", None) is None:
                self.best_validation_score_ = -np.inf
            self.best_loss_ = None
        else:
            if getattr(self, "best_loss_", None) is None:
                self.best_loss_ = np.inf
            self.validation_scores_ = getattr(self, "validation_scores_", None)
            self.best_validation_score_ = getattr(self, "best_validation_score_", None)

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> _BaseMLP:
        """Train on ``(X, y)`` (``X`` dense or sparse, ``sample_weight`` one weight per
        row); return ``self``. A fresh network each call, unless ``warm_start=True`` and
        the estimator is fitted: then training continues from the current weights."""
        return self._fit(X, y, sample_weight, incremental=False)

    # --- predictions ------------------------------------------------------------------------

    def _output(self, X: Any) -> np.ndarray:
        """The network's output for checked rows (a sparse X a chunk at a time)."""
        model = self.model_
        if not sp.issparse(X):
            return model.predict(np.asarray(X).astype(model.dtype, copy=False))
        parts = [model.predict(dense_rows(X, rows, model.dtype)) for rows in chunks(X)]
        if not parts:
            return model.predict(np.zeros((0, X.shape[1]), dtype=model.dtype))
        return np.concatenate(parts)

    def _forward(self, X: Any) -> np.ndarray:
        """The network's output for ``X``, after the checks scikit-learn expects."""
        check_is_fitted(self, "model_")
        self._adopt_attributes()
        X = validate_data(self, X, reset=False, accept_sparse="csr", dtype=(np.float64, np.float32))
        check_range(X, self.model_.dtype, type(self).__name__)
        out = self._output(X)
        # float64 rows through a float32 network give float64, as scikit-learn's matmul
        return out.astype(np.result_type(X.dtype, out.dtype), copy=False)

    def __setstate__(self, state: dict[str, Any]) -> None:
        """After unpickling (or a deep copy) ``coefs_`` and ``intercepts_`` are copies:
        take them into the network (an array assigned but not yet used included), then
        make them the network's own arrays again."""
        self.__dict__.update(state)
        if "model_" in state and "coefs_" in state:
            self._adopt_attributes()

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
