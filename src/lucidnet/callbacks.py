"""Callbacks: code that ``fit`` calls at fixed points of training (Keras' design).

``fit`` calls, in order: ``set_model``, ``set_params``, ``on_train_begin``, then per epoch
``on_epoch_begin``, ``on_batch_end`` after every batch, ``on_epoch_end`` (with the epoch's
logs: ``loss``, metrics, ``val_*``, ``lr``), and finally ``on_train_end``. A callback stops
training by setting ``model.stop_training = True``.

Epochs are numbered from 0 in calls, as in Keras.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = [
    "Callback",
    "EarlyStopping",
    "History",
    "LearningRateScheduler",
    "ModelCheckpoint",
    "ReduceLROnPlateau",
]

Logs = dict[str, float]


class Callback:
    """Base class: every hook does nothing. ``self.model`` is the model being trained.

    In data-parallel training (``fit(..., distributed=...)``) callbacks run on rank 0 only,
    unless ``every_rank`` is True (``lucidnet.distributed``)."""

    every_rank = False  # data-parallel training: run on every rank, not on rank 0 alone

    def __init__(self) -> None:
        self.model: Any = None
        self.params: dict[str, Any] = {}

    def set_model(self, model: Any) -> None:
        """Called first: the model being trained."""
        self.model = model

    def set_params(self, params: dict[str, Any]) -> None:
        """Called second: ``epochs``, ``steps`` (batches per epoch), ``samples``, ``verbose``."""
        self.params = params

    def on_train_begin(self, logs: Logs | None = None) -> None:
        """Before the first epoch."""

    def on_train_end(self, logs: Logs | None = None) -> None:
        """After the last epoch (also after an early stop; not after an exception)."""

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        """Before the batches of ``epoch``."""

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        """After ``epoch``, with its training and validation results in ``logs``."""

    def on_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        """After each batch, with the running mean ``loss`` and metrics of the epoch."""


class History(Callback):
    """Records the logs of every epoch: ``history.history["val_loss"][epoch]``.

    ``fit`` returns it. Unlike scikit-learn's ``loss_curve_``, it keeps the training and
    validation loss and every metric, per epoch.
    """

    def __init__(self) -> None:
        super().__init__()
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        """Append each value of ``logs`` to its list."""
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)


def _logged(logs: Logs | None, monitor: str, who: str) -> float:
    if not logs or monitor not in logs:
        available = ", ".join(sorted(logs or {})) or "nothing"
        hint = " (pass validation data to fit)" if monitor.startswith("val_") else ""
        raise ValueError(f"{who}: '{monitor}' is not in the logs{hint}; available: {available}")
    return float(logs[monitor])


class _Monitor:
    """Whether a monitored value improved: lower for ``mode="min"``, higher for ``"max"``.

    ``mode="auto"`` means max for names containing "acc", "auc", "precision", "recall" or
    "f1", min otherwise. An improvement
    must beat the best by more than ``min_delta``.
    """

    def __init__(self, monitor: str, mode: str, min_delta: float, who: str) -> None:
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"{who}: mode must be 'auto', 'min' or 'max', got {mode!r}")
        if not min_delta >= 0:
            raise ValueError(f"{who}: min_delta must be >= 0, got {min_delta!r}")
        if mode == "auto":
            higher_is_better = ("acc", "auc", "precision", "recall", "f1")
            mode = "max" if any(word in monitor for word in higher_is_better) else "min"
        self.monitor, self.mode, self.min_delta, self.who = monitor, mode, min_delta, who
        self.best = math.inf if mode == "min" else -math.inf

    def reset(self) -> None:
        self.best = math.inf if self.mode == "min" else -math.inf

    def improved(self, logs: Logs | None) -> bool:
        """Read the value; if it improved, remember it as the best and return True."""
        current = _logged(logs, self.monitor, self.who)
        if self.mode == "min":
            better = current < self.best - self.min_delta
        else:
            better = current > self.best + self.min_delta
        if better:
            self.best = current
        return better


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved for ``patience`` epochs.

    With ``restore_best_weights=True`` the model ends training with the weights of its
    best epoch, whether training stopped early or ran out of epochs (Keras restores only
    on an early stop; keeping the best weights in both cases is what the name promises).
    ``stopped_epoch`` and ``best_epoch`` tell what happened.
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        mode: str = "auto",
        patience: int = 0,
        min_delta: float = 0.0,
        restore_best_weights: bool = False,
    ) -> None:
        super().__init__()
        if isinstance(patience, bool) or not isinstance(patience, int) or patience < 0:
            raise ValueError(f"EarlyStopping: patience must be an int >= 0, got {patience!r}")
        self._monitor = _Monitor(monitor, mode, min_delta, "EarlyStopping")
        self.patience = patience
        self.restore_best_weights = restore_best_weights

    def on_train_begin(self, logs: Logs | None = None) -> None:
        """Reset, so that the callback can be reused."""
        self._monitor.reset()
        self.wait = 0
        self.best_epoch: int | None = None
        self.stopped_epoch: int | None = None
        self.best_weights: list[np.ndarray] | None = None

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        """Count epochs without improvement; stop after ``patience`` of them."""
        if self._monitor.improved(logs):
            self.wait = 0
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            return
        self.wait += 1
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs: Logs | None = None) -> None:
        """Put the best weights back if asked to."""
        if self.restore_best_weights and self.best_weights is not None:
            self.model.set_weights(self.best_weights)

    @property
    def best(self) -> float:
        """The best value of the monitored quantity so far."""
        return self._monitor.best


class LearningRateScheduler(Callback):
    """Set the optimizer's learning rate at the start of every epoch.

    ``schedule(epoch, lr) -> new_lr``: any callable, such as the schedules in
    ``lucidnet.schedules`` (``StepDecay``, ``ExponentialDecay``, ``CosineDecay``).
    """

    def __init__(self, schedule: Callable[[int, float], float]) -> None:
        super().__init__()
        if not callable(schedule):
            raise ValueError(f"LearningRateScheduler: schedule must be callable, got {schedule!r}")
        self.schedule = schedule

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        """``optimizer.lr = schedule(epoch, optimizer.lr)``."""
        optimizer = self.model.optimizer
        lr = float(self.schedule(epoch, optimizer.lr))
        if not (lr > 0 and math.isfinite(lr)):
            raise ValueError(f"LearningRateScheduler: schedule gave lr={lr!r} at epoch {epoch}")
        optimizer.lr = lr


class ReduceLROnPlateau(Callback):
    """Multiply the learning rate by ``factor`` when ``monitor`` stalls for ``patience``
    epochs; then wait ``cooldown`` epochs before counting again; never below ``min_lr``."""

    def __init__(
        self,
        monitor: str = "val_loss",
        factor: float = 0.1,
        patience: int = 10,
        mode: str = "auto",
        min_delta: float = 1e-4,
        cooldown: int = 0,
        min_lr: float = 0.0,
    ) -> None:
        super().__init__()
        if not 0 < factor < 1:
            raise ValueError(f"ReduceLROnPlateau: factor must be in (0, 1), got {factor!r}")
        if isinstance(patience, bool) or not isinstance(patience, int) or patience < 0:
            raise ValueError(f"ReduceLROnPlateau: patience must be an int >= 0, got {patience!r}")
        if isinstance(cooldown, bool) or not isinstance(cooldown, int) or cooldown < 0:
            raise ValueError(f"ReduceLROnPlateau: cooldown must be an int >= 0, got {cooldown!r}")
        if not min_lr >= 0:
            raise ValueError(f"ReduceLROnPlateau: min_lr must be >= 0, got {min_lr!r}")
        self._monitor = _Monitor(monitor, mode, min_delta, "ReduceLROnPlateau")
        self.factor, self.patience = factor, patience
        self.cooldown, self.min_lr = cooldown, min_lr

    def on_train_begin(self, logs: Logs | None = None) -> None:
        """Reset the counters."""
        self._monitor.reset()
        self.wait = 0
        self.cooldown_left = 0

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        """Lower the learning rate after ``patience`` epochs without improvement.

        The cooldown counts down every epoch, improving or not (Keras' rule), and a rate
        at or below ``min_lr`` is left alone.
        """
        if self.cooldown_left > 0:
            self.cooldown_left -= 1
            self.wait = 0
        if self._monitor.improved(logs):
            self.wait = 0
        elif self.cooldown_left == 0:
            self.wait += 1
            optimizer = self.model.optimizer
            if self.wait >= self.patience and optimizer.lr > self.min_lr:
                optimizer.lr = max(optimizer.lr * self.factor, self.min_lr)
                self.cooldown_left = self.cooldown
                self.wait = 0


class ModelCheckpoint(Callback):
    """Save the model after every epoch, or only when ``monitor`` improves.

    ``filepath`` may hold fields of the epoch's logs and ``epoch`` (from 1):
    ``"model-{epoch:02d}-{val_loss:.3f}.lucid"``. ``save_fn(model, path)`` writes the file;
    by default ``lucidnet.save`` (atomic, with the optimizer state, so training can
    resume from a checkpoint).
    """

    def __init__(
        self,
        filepath: str,
        save_fn: Callable[[Any, str], None] | None = None,
        monitor: str = "val_loss",
        mode: str = "auto",
        save_best_only: bool = False,
    ) -> None:
        super().__init__()
        if save_fn is None:
            from .serialization import save as save_fn
        if not callable(save_fn):
            raise ValueError(f"ModelCheckpoint: save_fn must be callable, got {save_fn!r}")
        self.filepath, self.save_fn = str(filepath), save_fn
        self.save_best_only = save_best_only
        self._monitor = _Monitor(monitor, mode, 0.0, "ModelCheckpoint")
        self.saved: list[str] = []

    def on_train_begin(self, logs: Logs | None = None) -> None:
        """Forget the best value and the files of an earlier run."""
        self._monitor.reset()
        self.saved = []

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        """Save if every epoch is wanted or this one is the best so far."""
        if self.save_best_only and not self._monitor.improved(logs):
            return
        try:
            path = self.filepath.format(epoch=epoch + 1, **(logs or {}))
        except (KeyError, IndexError, ValueError) as err:
            available = ", ".join(["epoch", *sorted(logs or {})])
            raise ValueError(
                f"ModelCheckpoint: cannot fill {self.filepath!r} ({err!r}); "
                f"available fields: {available}"
            ) from err
        self.save_fn(self.model, path)
        self.saved.append(path)
