"""``MLPRegressor``: a linear output and half the squared error (or an exponential output
and half the Poisson deviance), single or multi-output, on the shared ``_BaseMLP``."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.metrics import r2_score
from sklearn.utils.metaestimators import available_if

from .. import activations as activations_module
from ..layers import Layer
from .classifier import PARAMETERS
from .mlp import _BaseMLP, _stochastic_solver

LOSSES = ("squared_error", "poisson")


class MLPRegressor(RegressorMixin, _BaseMLP):
    """Multi-layer perceptron regressor, single or multi-output.

    A drop-in for ``sklearn.neural_network.MLPRegressor``. ``loss="squared_error"``
    (default): a linear output (``out_activation_ = "identity"``) and half the squared
    error; ``loss="poisson"``: an exponential output (``"exp"``) and half the Poisson
    deviance, for counts and other non-negative targets. Early stopping scores the
    held-out rows with R^2. ``predict`` returns ``(n_samples,)`` for one output (``y`` of
    shape ``(n,)`` or ``(n, 1)``), ``(n_samples, n_outputs)`` otherwise: float32 for
    float32 input to a float32 network, float64 otherwise (as scikit-learn's).

    ``loss`` comes first, as in scikit-learn: ``MLPRegressor(hidden_layer_sizes=(50,))``.
    """

    __doc__ = (__doc__ or "") + PARAMETERS.replace(
        "    Parameters (scikit-learn's names, defaults and meanings; lucidnet's additions last)\n"
        "    ----------\n",
        "    Parameters (scikit-learn's names, defaults and meanings; lucidnet's additions last)\n"
        "    ----------\n"
        '    loss : {"squared_error", "poisson"}, default "squared_error"\n',
    )

    _loss_name = "mse"
    _y_numeric = True

    def __init__(
        self,
        loss: str = "squared_error",
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
        self.loss = loss
        super().__init__(
            hidden_layer_sizes,
            activation,
            solver=solver,
            alpha=alpha,
            batch_size=batch_size,
            learning_rate=learning_rate,
            learning_rate_init=learning_rate_init,
            power_t=power_t,
            max_iter=max_iter,
            shuffle=shuffle,
            random_state=random_state,
            tol=tol,
            verbose=verbose,
            warm_start=warm_start,
            momentum=momentum,
            nesterovs_momentum=nesterovs_momentum,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            n_iter_no_change=n_iter_no_change,
            max_fun=max_fun,
            dropout=dropout,
            dtype=dtype,
        )

    def _check_params(self) -> None:
        if self.loss not in LOSSES:
            self._fail("loss", f"one of {', '.join(LOSSES)}")
        super()._check_params()

    def _network_params(self) -> dict[str, Any]:
        return {**super()._network_params(), "loss": self.loss}

    def _output_layers(self) -> list[Layer]:
        if self.loss == "poisson":
            self.out_activation_, self._loss_name = "exp", "poisson"
            return [activations_module.get("exp")]
        self.out_activation_, self._loss_name = "identity", "mse"
        return []

    def _loss_factor(self) -> tuple[float, float]:
        m = float(self.n_outputs_)
        if self.loss == "poisson":
            return m, 1.0  # scikit-learn sums the outputs' deviances; lucidnet averages
        # half the squared error summed over the outputs (scikit-learn's gradient) from
        # lucidnet's mean over them; the reported loss averages them (divisor m)
        return m / 2.0, m

    def _targets(self, y: Any, first_pass: bool, incremental: bool) -> np.ndarray:
        y = np.asarray(y)
        targets = y.reshape(len(y), -1).astype(np.float64)
        if first_pass or not hasattr(self, "n_outputs_"):
            self._outputs = targets.shape[1]
        else:
            self._outputs = self.n_outputs_
        if targets.shape[1] != self._outputs:
            raise ValueError(
                f"MLPRegressor: y has {targets.shape[1]} output(s); the network was built "
                f"for {self.n_outputs_}"
            )
        if self.loss == "poisson" and targets.size and targets.min() < 0:
            row = int(np.flatnonzero((targets < 0).any(axis=1))[0])
            raise ValueError(
                f"MLPRegressor: loss='poisson' needs targets >= 0; row {row} has "
                f"{targets[row].tolist()}"
            )
        return targets

    def _n_outputs(self) -> int:
        return self._outputs

    def _labels(self, T: np.ndarray) -> np.ndarray:
        return T.ravel() if T.shape[1] == 1 else T

    def _validation_score(self, X: Any, y: Any, sample_weight: Any) -> float:
        out = self._output(X)
        if not np.all(np.isfinite(out)):
            return float("nan")
        return float(r2_score(y, self._shape(out), sample_weight=sample_weight))

    def _shape(self, out: np.ndarray) -> np.ndarray:
        return out.ravel() if out.shape[1] == 1 else out

    @available_if(_stochastic_solver)
    def partial_fit(self, X: Any, y: Any, sample_weight: Any = None) -> MLPRegressor:
        """One epoch over ``(X, y)`` from the current weights and optimizer (stochastic
        solvers only, as scikit-learn's)."""
        return self._fit(X, y, sample_weight, incremental=True)

    def predict(self, X: Any) -> np.ndarray:
        """Predicted values (float32 only from float32 rows through a float32 network)."""
        return self._shape(self._forward(X))

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
