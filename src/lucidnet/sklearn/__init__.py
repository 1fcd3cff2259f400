"""scikit-learn estimators: ``MLPClassifier``, ``MLPRegressor`` and ``Perceptron``,
drop-ins for scikit-learn's (change the import; docs/sklearn.md).

They take scikit-learn's parameter names, defaults and meanings, fit the same objective
from the same initial weights in the same order, and keep the same fitted attributes, so
the same parameters give the same run (for ``solver="sgd"`` in float64, the same weights
to rounding). scikit-learn's own tests of these estimators run against them in
``make test`` (``tests/sklearn_peer.py``), and they pass scikit-learn's estimator checks
(``parametrize_with_checks``), so they work in ``Pipeline``, ``GridSearchCV``,
``cross_val_score``, ``clone`` and pickling.

Beyond scikit-learn's MLPs: ``dropout``, an ``activation`` per hidden layer, the
``rmsprop`` and ``adamw`` solvers, the ``step``, ``exponential`` and ``cosine``
schedules, and ``dtype``; ``model_`` is the trained lucidnet ``Sequential`` (save it
with ``est.model_.save("model.lucid")``: a file that loading never executes, unlike a
pickle).

Modules: ``mlp`` (what the two MLPs share: parameters, the network, the fit plumbing),
``solvers`` (the stochastic loop and L-BFGS on the lucidnet Trainer), ``objective``
(scikit-learn's loss scaling, sparse rows made dense a batch at a time),
``classifier``, ``regressor`` and ``perceptron`` (Rosenblatt's rule as an estimator;
``lucidnet.perceptron`` is seed 002's neuron, a different module). The package needs
scikit-learn (``pip install 'lucidnet[sklearn]'``); the rest of lucidnet does not.
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
