"""Training: the ``Trainer`` (one step, one epoch: ``step.py``), the penalties
(``penalties.py``) and the loops around them (``fit.py``: ``fit``, ``evaluate``,
``train_step``, ``loss_and_gradients``)."""

from .fit import evaluate, fit, loss_and_gradients, train_step
from .penalties import penalty
from .step import LossAndGradients, Trainer, TrainingDiverged

__all__ = [
    "LossAndGradients",
    "Trainer",
    "TrainingDiverged",
    "evaluate",
    "fit",
    "loss_and_gradients",
    "penalty",
    "train_step",
]
