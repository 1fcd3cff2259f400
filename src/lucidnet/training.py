"""Training: one step, and the ``fit`` / ``evaluate`` loops around it.

``train_step`` is the loop body that every training loop repeats::

    y_pred = model.forward(x, training=True)       # predictions
    value  = loss(y_pred, y)                        # how wrong they are
    model.backward(loss.gradient(y_pred, y))        # dL/dθ for every parameter
    optimizer.step(model.parameters())              # θ <- θ - lr * dL/dθ

with three refinements: the fused output pairs (``Sigmoid`` + binary cross-entropy,
``Softmax`` + cross-entropy) take the gradient ``p - y`` straight on the logits (see
``lucidnet.losses``); layer penalties (``Dense(l2=...)``) join the loss; and a
non-finite loss or gradient stops before the update, so the weights are never
overwritten with NaN.

``fit`` runs that step over shuffled mini-batches for a number of epochs, with
validation, metrics, callbacks and progress output (Keras' ``model.fit``; the model
methods ``compile``/``fit``/``evaluate`` call the functions here).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from . import functional as F
from . import losses as losses_module
from .batches import Batches
from .callbacks import Callback, History
from .denormals import flush_denormals
from .layers import Layer
from .losses import BinaryCrossEntropy, CrossEntropy, Loss
from .model import Sequential
from .optimizers import Optimizer
from .progress import ProgressLogger
from .validation import check_finite

__all__ = [
    "LossAndGradients",
    "TrainingDiverged",
    "evaluate",
    "fit",
    "loss_and_gradients",
    "train_step",
]


class TrainingDiverged(FloatingPointError):
    """The loss or a gradient became NaN or infinite; the update was not applied.

    ``epoch`` and ``batch`` (from 0) say where, when raised by ``fit``.
    """

    def __init__(self, message: str, epoch: int | None = None, batch: int | None = None):
        super().__init__(message)
        self.epoch, self.batch = epoch, batch


class LossAndGradients(NamedTuple):
    """What one forward and backward pass found."""

    loss: float  # the loss value of the batch, penalties included
    y_pred: np.ndarray  # the model's output, (batch, outputs)
    grad_input: np.ndarray  # dL/dx, the gradient with respect to the input batch


def _forward_with_loss(
    model: Sequential, x: np.ndarray, y: np.ndarray, loss: Loss, training: bool, grad: bool
) -> tuple[float, np.ndarray, np.ndarray | None, int]:
    """Forward pass and loss; return ``(value, y_pred, gradient, start)``.

    ``gradient`` is ``dL/d(input of layer start)``, where backward must begin: the output
    for an ordinary loss, the last layer's input (the logits) for a fused pair.
    """
    layers = model.layers
    fused_loss = losses_module.fused_logits_loss(layers[-1], loss) if layers else None
    if fused_loss is None:
        y_pred = model.forward(x, training=training)
        value, g = loss.value_and_gradient(y_pred, y, need_gradient=grad)
        return value + model.penalty(), y_pred, g, len(layers)
    logits = np.asarray(x)
    for layer in layers[:-1]:
        logits = layer.forward(logits, training=training)
    y_pred = layers[-1].forward(logits, training=training)
    value, g = fused_loss.value_and_gradient(logits, y, need_gradient=grad)
    return value + model.penalty(), y_pred, g, len(layers) - 1


def loss_and_gradients(
    model: Sequential, x: np.ndarray, y: np.ndarray, loss: Loss | str, training: bool = True
) -> LossAndGradients:
    """Forward and backward for one batch; every gradient buffer holds ``dL/dθ`` after.

    The loss includes the layers' penalties (``model.penalty()``, from ``Dense(l2=...)``).
    When the last layer and the loss form a fused pair, the loss is computed from the last
    layer's input (the logits) and its gradient ``p - y`` enters the backward pass one
    layer earlier.
    """
    value, y_pred, grad, start = _forward_with_loss(
        model, x, y, losses_module.get(loss), training, grad=True
    )
    for layer in reversed(model.layers[:start]):
        grad = layer.backward(grad)
    return LossAndGradients(value, y_pred, grad)  # type: ignore[arg-type]


def _parameter_gradients(
    model: Sequential, x: np.ndarray, y: np.ndarray, loss: Loss
) -> tuple[float, np.ndarray]:
    """``loss_and_gradients`` for training: the backward pass stops at the first layer
    with parameters, which skips its input gradient (nobody needs ``dL/dx`` there)."""
    value, y_pred, grad, start = _forward_with_loss(model, x, y, loss, True, grad=True)
    layers = model.layers[:start]
    first = min(model.first_trainable, len(layers))
    for layer in reversed(layers[first + 1 :]):
        grad = layer.backward(grad)
    if first < len(layers):
        layers[first].backward_parameters_only(grad)
    return value, y_pred


def _first_non_finite(model: Sequential, gradients: bool) -> str | None:
    """The name of the first parameter (or gradient) holding NaN or infinity, or None.

    The largest and smallest value of the model's flat buffer answer "all finite?" in
    two calls (NaN and infinities reach the maximum or the minimum; no temporary array,
    and unlike a sum no overflow); only when not are the arrays looked at one by one.
    """
    flat = model.flat_buffers
    if flat is not None and _all_finite(flat[1 if gradients else 0]):
        return None
    named = [(p.name, p.grad if gradients else p.value) for p in model.parameters()]
    return next((name for name, a in named if not _all_finite(a)), None)


def _all_finite(a: np.ndarray) -> bool:
    """Whether every value of ``a`` is finite: NaN propagates through max and min."""
    if a.size == 0:
        return True
    return bool(np.isfinite(np.maximum.reduce(a, axis=None))) and bool(
        np.isfinite(np.minimum.reduce(a, axis=None))
    )


def _apply_step(
    model: Sequential,
    x: np.ndarray,
    y: np.ndarray,
    loss: Loss,
    optimizer: Optimizer,
    fallback: list[np.ndarray],
    fallback_name: str,
    check_update: bool = True,
) -> tuple[float, np.ndarray]:
    """Gradients, a finiteness check, the update, and (``check_update``) a check of the
    new weights; return the loss and the predictions.

    Raises TrainingDiverged, never leaving NaN in the model: a non-finite loss or gradient
    skips the update (the weights stay as they were); non-finite weights, found after the
    update or when the next step's loss is NaN, are replaced by ``fallback`` (described by
    ``fallback_name``). ``fit`` skips the per-step check of the weights: a non-finite
    weight makes the next loss NaN, and the epoch's end checks the last step.
    """
    value, y_pred = _parameter_gradients(model, x, y, loss)
    problem = None
    if not np.isfinite(value):
        problem = f"loss is {value}"
    elif (bad := _first_non_finite(model, gradients=True)) is not None:
        problem = f"the gradient of {bad} is not finite"
    if problem is not None:
        _restore_if_not_finite(model, fallback, fallback_name, f"{problem}; the update was skipped")
    optimizer.step(model.parameters())
    if check_update:
        _restore_if_not_finite(model, fallback, fallback_name, None)
    return value, y_pred


def _restore_if_not_finite(
    model: Sequential, fallback: list[np.ndarray], fallback_name: str, problem: str | None
) -> None:
    """Raise TrainingDiverged for ``problem`` or for non-finite weights, restoring
    ``fallback`` first if the weights are not finite. Return if there is nothing wrong."""
    bad = _first_non_finite(model, gradients=False)
    if bad is not None:
        model.set_weights(fallback)
        restored = f"the weights were restored to {fallback_name}"
        if problem is None:
            raise TrainingDiverged(f"the update made {bad} non-finite; {restored}")
        raise TrainingDiverged(f"{problem}; {bad} is not finite either; {restored}")
    if problem is not None:
        raise TrainingDiverged(problem)


def train_step(
    model: Sequential,
    x: np.ndarray,
    y: np.ndarray,
    loss: Loss | str,
    optimizer: Optimizer,
) -> float:
    """One gradient-descent step on the batch ``(x, y)``; return the loss before the step.

    Pass the same optimizer instance every step: it holds the state (momentum, moments).
    Raises ValueError naming the row and column of a NaN or infinity in ``x`` or ``y``,
    and ``TrainingDiverged`` if the loss, a gradient or an updated weight is not finite;
    the model then keeps the weights it had before the step.
    """
    if not isinstance(optimizer, Optimizer):
        raise ValueError(
            f"train_step: optimizer must be an Optimizer instance, got {optimizer!r}; pass "
            "the same instance every step (a name would start a fresh one, losing its state)"
        )
    check_finite(x, "training input x")
    check_finite(y, "training target y")
    before = model.get_weights()  # a copy per step: this is the simple, checked path
    try:
        with flush_denormals():
            value, _ = _apply_step(
                model, x, y, losses_module.get(loss), optimizer, before, "those before this step"
            )
    except TrainingDiverged as err:
        raise TrainingDiverged(
            f"{err}; the model keeps its last finite weights. Lower the learning rate or "
            "scale the inputs."
        ) from None
    return value


# --- fit and evaluate ---------------------------------------------------------------------


def _prepare(
    model: Sequential, loss: Loss, x: Any, y: Any, what: str
) -> tuple[np.ndarray, np.ndarray]:
    """Inputs as the model's dtype and targets as arrays, checked once, whole, before any
    step: shapes against the model, finiteness, and targets against the loss."""
    x = np.asarray(x)
    y = np.asarray(y)
    if x.ndim != 2:
        raise ValueError(f"{what}: x must be 2-D (samples, features), got shape {x.shape}")
    width = model.input_features
    if width is not None and x.shape[1] != width:
        raise ValueError(f"{what}: x has {x.shape[1]} features, but the model takes {width}")
    if len(y) != len(x):
        raise ValueError(f"{what}: x has {len(x)} samples but y has {len(y)}")
    if len(x) == 0:
        raise ValueError(f"{what}: no samples")
    try:
        x = x.astype(model.dtype, copy=False)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{what}: x must be numeric, got dtype {x.dtype}") from err
    if y.dtype.kind == "f":
        y = y.astype(model.dtype, copy=False)
    elif y.dtype.kind not in "iub":
        raise ValueError(f"{what}: y must be numeric, got dtype {y.dtype}")
    check_finite(x, f"{what}: x")
    check_finite(y, f"{what}: y")
    loss.check_targets(y, model.output_features(), f"{what}: y")
    return x, y


def _probabilities(model: Sequential, y_pred: np.ndarray) -> np.ndarray:
    """Outputs as probabilities: squashed when the compiled loss works from logits."""
    loss = getattr(model, "loss", None)
    if isinstance(loss, CrossEntropy) and loss.from_logits:
        return F.softmax(y_pred, axis=-1)
    if isinstance(loss, BinaryCrossEntropy) and loss.from_logits:
        return F.sigmoid(y_pred)
    return y_pred


class _RunningMeans:
    """Sample-weighted means of the loss and the metrics over the batches of an epoch."""

    def __init__(self, metrics: list[tuple[str, Any]], prefix: str = "") -> None:
        self.metrics, self.prefix = metrics, prefix
        self.sums = {f"{prefix}loss": 0.0, **{f"{prefix}{name}": 0.0 for name, _ in metrics}}
        self.count = 0

    def add(self, model: Sequential, value: float, y: np.ndarray, y_pred: np.ndarray) -> None:
        k = len(y)
        self.count += k
        self.sums[f"{self.prefix}loss"] += value * k
        if self.metrics:
            probs = _probabilities(model, y_pred)
            for name, fn in self.metrics:
                self.sums[f"{self.prefix}{name}"] += float(fn(y, probs)) * k

    def means(self) -> dict[str, float]:
        return {key: total / max(self.count, 1) for key, total in self.sums.items()}


def evaluate(model: Sequential, x: Any, y: Any, batch_size: int | None = None) -> dict[str, float]:
    """Loss (penalties included) and metrics of the compiled model on ``(x, y)``.

    Runs in inference mode (``training=False``), in batches of ``batch_size`` (all at
    once if None). Returns ``{"loss": ..., "<metric>": ...}``.
    """
    loss, metrics = _compiled(model)
    x, y = _prepare(model, loss, x, y, "evaluate")
    return _evaluate_prepared(model, loss, metrics, x, y, batch_size)


def _evaluate_prepared(
    model: Sequential,
    loss: Loss,
    metrics: list[tuple[str, Any]],
    x: np.ndarray,
    y: np.ndarray,
    batch_size: int | None,
) -> dict[str, float]:
    size = len(x) if batch_size is None else batch_size
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
        raise ValueError(f"evaluate: batch_size must be an int >= 1, got {batch_size!r}")
    means = _RunningMeans(metrics)
    for start in range(0, len(x), size):
        xb, yb = x[start : start + size], y[start : start + size]
        value, y_pred, _, _ = _forward_with_loss(model, xb, yb, loss, False, grad=False)
        means.add(model, value, yb, y_pred)
    return means.means()


def _compiled(model: Sequential) -> tuple[Loss, list[tuple[str, Any]]]:
    loss = getattr(model, "loss", None)
    if loss is None or getattr(model, "optimizer", None) is None:
        raise RuntimeError(
            "the model is not compiled: call model.compile(loss=..., optimizer=...) first"
        )
    return loss, model.metrics


def _split_validation(
    model: Sequential,
    loss: Loss,
    x: np.ndarray,
    y: np.ndarray,
    validation_split: float,
    validation_data: tuple[Any, Any] | None,
) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray] | None]:
    if validation_data is not None:
        if validation_split:
            raise ValueError("fit: give validation_data or validation_split, not both")
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise ValueError("fit: validation_data must be a tuple (x_val, y_val)")
        return x, y, _prepare(model, loss, *validation_data, "fit: validation_data")
    if not validation_split:
        return x, y, None
    if not 0 < validation_split < 1:
        raise ValueError(f"fit: validation_split must be in (0, 1), got {validation_split!r}")
    split_at = int(len(x) * (1 - validation_split))  # the last rows, before any shuffling
    if split_at < 1 or split_at >= len(x):
        raise ValueError(
            f"fit: validation_split={validation_split} of {len(x)} samples leaves an empty set"
        )
    return x[:split_at], y[:split_at], (x[split_at:], y[split_at:])


def fit(
    model: Sequential,
    x: Any,
    y: Any,
    epochs: int = 1,
    batch_size: int = 32,
    validation_split: float = 0.0,
    validation_data: tuple[Any, Any] | None = None,
    shuffle: bool = True,
    callbacks: Sequence[Callback] | None = None,
    verbose: int = 1,
    seed: int | None = None,
    initial_epoch: int = 0,
) -> History:
    """Train the compiled ``model`` on ``(x, y)``; return the History of every epoch.

    Parameters
    ----------
    x : array (samples, features); y : targets (labels or arrays, as the loss expects)
    epochs : int
        Passes over the training data.
    batch_size : int
        Rows per gradient step; the last batch of an epoch keeps the remainder.
    validation_split : float in (0, 1)
        Fraction of the *last* rows held out for validation (before shuffling, as Keras).
    validation_data : (x_val, y_val)
        Explicit validation set (instead of ``validation_split``).
    shuffle : bool
        Reshuffle the training rows every epoch.
    callbacks : list of Callback
        EarlyStopping, LearningRateScheduler, ReduceLROnPlateau, ModelCheckpoint, ...
    verbose : 0, 1 or 2
        Silent, a live bar (falls back to lines when not on a terminal), a line per epoch.
    seed : int or None
        Seeds the shuffling and the dropout layers built without a seed of their own: the
        same seed (with seeded layers) gives bit-identical weights and history. Each
        epoch's randomness is derived from ``(seed, epoch)``, so a run split in two (see
        ``initial_epoch``) equals the run in one piece.
    initial_epoch : int
        The epoch to start from (Keras' meaning): ``fit(..., epochs=4, initial_epoch=2)``
        trains epochs 2 and 3, continuing a model saved after epoch 2.

    Returns
    -------
    History
        ``history.history`` maps ``loss``, each metric, ``val_loss``, ``val_<metric>`` and
        ``lr`` to one value per epoch. Training values are means over the epoch's batches
        (in training mode, so with dropout active); validation values are computed after
        the epoch, in inference mode.

    Raises
    ------
    TrainingDiverged
        If the loss or a gradient becomes NaN or infinite (the update is skipped: the
        model keeps the weights before that step), or an update makes a weight NaN or
        infinite (the weights of the epoch's start are restored). It carries ``epoch``
        and ``batch``.
    """
    loss, metrics = _compiled(model)
    optimizer: Optimizer = model.optimizer
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 0:
        raise ValueError(f"fit: epochs must be an int >= 0, got {epochs!r}")
    if (
        isinstance(initial_epoch, bool)
        or not isinstance(initial_epoch, (int, np.integer))
        or not 0 <= initial_epoch <= epochs
    ):
        raise ValueError(f"fit: initial_epoch must be an int in [0, epochs], got {initial_epoch!r}")
    if seed is not None and (
        isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0
    ):
        raise ValueError(f"fit: seed must be an int >= 0 or None, got {seed!r}")
    if verbose not in (0, 1, 2):
        raise ValueError(f"fit: verbose must be 0, 1 or 2, got {verbose!r}")
    if isinstance(callbacks, Callback):
        callbacks = [callbacks]
    x, y = _prepare(model, loss, x, y, "fit")
    x, y, validation = _split_validation(model, loss, x, y, validation_split, validation_data)
    base_seed = int(np.random.SeedSequence().entropy) if seed is None else int(seed)  # type: ignore[arg-type]
    batches = Batches(x, y, batch_size, shuffle=shuffle)

    history = History()
    progress = [ProgressLogger(verbose)] if verbose else []
    every = [history, *(callbacks or []), *progress]
    params = {"epochs": int(epochs), "steps": len(batches), "samples": len(x), "verbose": verbose}
    for cb in every:
        cb.set_model(model)
        cb.set_params(params)
    model.stop_training = False
    logs: dict[str, float] = {}
    for cb in every:
        cb.on_train_begin()
    try:
        for epoch in range(int(initial_epoch), int(epochs)):
            _seed_epoch(model, batches, base_seed, epoch)
            for cb in every:
                cb.on_epoch_begin(epoch)
            with flush_denormals():  # subnormal arithmetic is 10-100x slower (denormals.py)
                logs = _run_epoch(model, batches, loss, optimizer, metrics, epoch, every)
            if validation is not None:
                val = _evaluate_prepared(model, loss, metrics, *validation, batch_size)
                logs.update({f"val_{k}": v for k, v in val.items()})
            logs["lr"] = optimizer.lr
            for cb in every:
                cb.on_epoch_end(epoch, logs)
            if model.stop_training:
                break
    except BaseException:
        for cb in progress:
            cb.on_train_end()  # close the bar; the other callbacks do not see a normal end
        raise
    for cb in every:
        cb.on_train_end(logs)
    return history


def _seed_epoch(model: Sequential, batches: Batches, base_seed: int, epoch: int) -> None:
    """Give the shuffling and the layers with randomness generators from ``(seed, epoch)``.

    Layer ``i`` gets ``default_rng([seed, epoch, i + 1])``, the shuffling
    ``default_rng([seed, epoch, 0])``: independent streams, the same in every run.
    """
    batches.rng = np.random.default_rng([base_seed, epoch, 0])
    for i, layer in enumerate(model.layers):
        if type(layer).start_epoch is not Layer.start_epoch:  # only layers that use it
            layer.start_epoch(epoch, np.random.default_rng([base_seed, epoch, i + 1]))


def _run_epoch(
    model: Sequential,
    batches: Batches,
    loss: Loss,
    optimizer: Optimizer,
    metrics: list[tuple[str, Any]],
    epoch: int,
    callbacks: list[Callback],
) -> dict[str, float]:
    """One pass over the batches; return the epoch's mean loss and metrics.

    Stops after the current batch if a callback sets ``model.stop_training``.
    """
    # The fallback if an update makes a weight non-finite: one copy per epoch, not per step.
    start_weights = model.get_weights()
    start_name = f"those at the start of epoch {epoch + 1}"
    means = _RunningMeans(metrics)
    last = len(batches) - 1
    for batch, (xb, yb) in enumerate(batches):
        try:
            value, y_pred = _apply_step(
                model, xb, yb, loss, optimizer, start_weights, start_name, check_update=False
            )
            if batch == last or model.stop_training:  # no later loss will check this update
                _restore_if_not_finite(model, start_weights, start_name, None)
        except TrainingDiverged as err:
            raise TrainingDiverged(
                f"training diverged at epoch {epoch + 1}, batch {batch + 1}: {err}. "
                "Lower the learning rate or scale the inputs.",
                epoch=epoch,
                batch=batch,
            ) from None
        means.add(model, value, yb, y_pred)
        running = means.means()
        for cb in callbacks:
            cb.on_batch_end(batch, running)
        if model.stop_training:
            break
    return means.means()
