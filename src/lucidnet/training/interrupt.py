"""What ``fit`` does on Ctrl-C: roll back to the start of the interrupted epoch.

An interrupt (``KeyboardInterrupt``) can land anywhere: between two optimizer updates,
or inside one, after Adam's moments moved and before the weights did. ``fit`` therefore
keeps an ``EpochStart`` snapshot, taken before each epoch's first callback: a copy of the
weights and buffers (the copy the divergence check needed already, now shared) and of the
optimizer's state (its buffers, step counts, ``iterations`` and ``lr``). On an interrupt
it puts the snapshot back and raises ``TrainingInterrupted``, so that the model is
exactly the model after its last completed epoch: save it, and
``fit(..., initial_epoch=err.epochs_done, seed=err.seed)`` later continues bit-identically.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from ..callbacks import History
from ..model import Sequential
from ..optimizers import Optimizer, OptimizerSnapshot

__all__ = ["EpochStart", "TrainingInterrupted"]


class EpochStart(NamedTuple):
    """The model and optimizer state at the start of an epoch."""

    weights: list[np.ndarray]  # model.get_weights(): parameters, then buffers
    optimizer: OptimizerSnapshot

    @classmethod
    def take(cls, model: Sequential, optimizer: Optimizer) -> EpochStart:
        """Copy the weights, buffers and optimizer state of ``model`` now."""
        return cls(model.get_weights(), optimizer.snapshot())

    def restore(self, model: Sequential, optimizer: Optimizer) -> None:
        """Put the copied state back into ``model`` and ``optimizer``."""
        model.set_weights(self.weights)
        optimizer.restore(self.optimizer)


class TrainingInterrupted(KeyboardInterrupt):
    """``fit`` was interrupted (Ctrl-C); the model holds its state after ``epochs_done``.

    A ``KeyboardInterrupt``, so code that stops on Ctrl-C still stops. Attributes:

    - ``epochs_done``: the completed epochs, counted as Keras' ``initial_epoch`` counts
      them (the next ``fit(..., initial_epoch=epochs_done)`` trains the interrupted epoch
      again, from its start);
    - ``history``: the ``History`` of those epochs (the interrupted one left out);
    - ``seed``: the seed the run used (drawn at random if ``fit`` had ``seed=None``), which
      the continuation needs to be bit-identical;
    - ``epoch``: the epoch that was interrupted and rolled back (from 0), or None if the
      interrupt came before the first epoch or between two epochs (nothing to roll back).
    """

    def __init__(
        self, epochs_done: int, history: History, seed: int, epoch: int | None = None
    ) -> None:
        where = "" if epoch is None else f" during epoch {epoch + 1} (rolled back to its start)"
        super().__init__(
            f"training interrupted{where}; the model holds its weights and optimizer state "
            f"after {epochs_done} completed epoch(s). Save it, and continue with "
            f"fit(..., initial_epoch={epochs_done}, seed={seed})"
        )
        self.epochs_done, self.history, self.seed, self.epoch = epochs_done, history, seed, epoch

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled with its fields (a process pool passes exceptions back that way)."""
        return type(self), (self.epochs_done, self.history, self.seed, self.epoch)


def trim_history(history: History, epochs_done: int) -> None:
    """Drop the entries of epochs from ``epochs_done`` on (an interrupted epoch that
    reached the History before another callback was interrupted)."""
    keep = sum(1 for epoch in history.epoch if epoch < epochs_done)
    del history.epoch[keep:]
    for values in history.history.values():
        del values[keep:]
