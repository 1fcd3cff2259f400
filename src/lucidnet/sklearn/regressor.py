"""``MLPRegressor``: a linear output layer and the mean squared error, single or
multi-output, on the shared ``_BaseMLP``."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.model_selection import train_test_split

from ..layers import Layer
from .mlp import _BaseMLP, _seed


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
