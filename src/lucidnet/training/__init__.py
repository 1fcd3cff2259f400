"""Training: the ``Trainer`` (one step, one epoch: ``step.py``), the penalties
(``penalties.py``), the loops around them (``fit.py``: ``fit``, ``evaluate``,
``train_step``, ``loss_and_gradients``) and what ``fit`` does on Ctrl-C
(``interrupt.py``: the rollback and ``TrainingInterrupted``)."""

from .fit import evaluate, fit, loss_and_gradients, train_step
from .interrupt import TrainingInterrupted
from .penalties import penalty
from .step import LossAndGradients, Trainer, TrainingDiverged

__all__ = [
    "LossAndGradients",
    "Trainer",
    "TrainingDiverged",
    "TrainingInterrupted",
    "evaluate",
    "fit",
    "loss_and_gradients",
    "penalty",
    "train_step",
]
