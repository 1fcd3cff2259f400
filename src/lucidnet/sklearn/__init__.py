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

The package needs scikit-learn (``pip install 'lucidnet[sklearn]'``); the rest of
lucidnet does not. Its modules: ``mlp`` (what the two MLPs share: the network, the
optimizer, the training loop and the stopping rule), ``classifier``, ``regressor`` and
``perceptron`` (Rosenblatt's rule as an estimator; ``lucidnet.perceptron`` is seed 002's
neuron, a different module).
"""

from __future__ import annotations

try:  # fail here, with the fix, before a submodule fails with a bare ImportError
    from sklearn.utils.validation import validate_data  # noqa: F401  (scikit-learn >= 1.6)
except ImportError as err:  # pragma: no cover - exercised only without scikit-learn
    raise ImportError(
        "lucidnet.sklearn needs scikit-learn; install it with: pip install 'lucidnet[sklearn]'"
    ) from err

from .classifier import MLPClassifier
from .mlp import SCHEDULES, SOLVERS
from .perceptron import Perceptron
from .regressor import MLPRegressor

__all__ = [
    "EXPECTED_FAILED_CHECKS",
    "SCHEDULES",
    "SOLVERS",
    "MLPClassifier",
    "MLPRegressor",
    "Perceptron",
]

# Checks of scikit-learn's suite that an estimator is expected to fail, with the reason:
# passed to parametrize_with_checks(expected_failed_checks=...) by the tests and listed in
# docs/sklearn.md. All three estimators pass every check, so it is empty.
EXPECTED_FAILED_CHECKS: dict[str, str] = {}
