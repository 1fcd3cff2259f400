"""``fit`` and ``evaluate`` (Keras' ``model.fit``), and the one-call helpers ``train_step``
and ``loss_and_gradients``, all on the ``Trainer`` of ``step.py``.

``fit`` runs the Trainer's step over shuffled mini-batches for a number of epochs, with
validation, metrics, callbacks and progress output; the model methods
``compile``/``fit``/``evaluate`` call the functions here. Data are checked once, whole,
before any step: shapes against the model (``(batch, *input_shape)``), the range of the
model's dtype and finiteness (named by row and column), targets against the loss and the
output shape, and the weights (``sample_weight``, ``class_weight``: ``lucidnet.weights``).

``x`` may be a memory map (``np.load(path, mmap_mode="r")``): it is read a batch at a
time and never copied whole (``lucidnet.streaming``), so data larger than memory trains.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..batches import Batches
from ..callbacks import Callback, History
from ..denormals import flush_denormals
from ..losses import Loss
from ..model import Sequential
from ..optimizers import Optimizer
from ..progress import ProgressLogger
from ..streaming import on_disk
from ..validation import check_finite, check_range
from ..weights import check_sample_weight, class_sample_weight
from .interrupt import EpochStart, TrainingInterrupted, trim_history
from .step import LossAndGradients, Trainer, TrainingDiverged

if TYPE_CHECKING:  # mpi4py is imported only when a DataParallel is made
    from ..distributed import DataParallel

__all__ = ["evaluate", "fit", "loss_and_gradients", "train_step"]

RANGE_ADVICE = "scale the data, or train a float64 model (model.astype('float64'))"


def loss_and_gradients(
    model: Sequential,
    x: np.ndarray,
    y: np.ndarray,
    loss: Loss | str,
    training: bool = True,
    sample_weight: np.ndarray | None = None,
) -> LossAndGradients:
    """Forward and backward for one batch; every gradient buffer holds ``dL/dθ`` after.

    The loss and the gradients include the parameters' penalties (``Dense(l2=...)``).
    When the last layer and the loss form a fused pair, the loss is computed from the last
    layer's input (the logits) and its gradient ``p - y`` enters the backward pass one
    layer earlier. ``sample_weight`` ``(batch,)`` weights the samples' losses
    (``sum_i w_i l_i / batch``).
    """
    return Trainer(model, loss).gradients(
        np.asarray(x), np.asarray(y), training=training, sample_weight=sample_weight
    )


def train_step(
    model: Sequential,
    x: np.ndarray,
    y: np.ndarray,
    loss: Loss | str,
    optimizer: Optimizer,
    sample_weight: np.ndarray | None = None,
) -> float:
    """One gradient-descent step on the batch ``(x, y)``; return the loss before the step.

    ``sample_weight`` ``(batch,)`` weights the samples' losses (``sum_i w_i l_i / batch``).

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
    if sample_weight is not None:
        sample_weight = check_sample_weight(sample_weight, len(x), "train_step: sample_weight")
    before = model.get_weights()  # a copy per step: this is the simple, checked path
    try:
        with flush_denormals():
            value, _ = Trainer(model, loss, optimizer).step(
                x, y, before, "those before this step", sample_weight=sample_weight
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
    step: shapes against the model, the range of the model's dtype and finiteness (in
    blocks of rows), and targets against the loss. A memory-mapped ``x`` is returned as
    it is, in its own dtype: the batches cast it (``lucidnet.streaming``)."""
    x = np.asarray(x)
    y = np.asarray(y)
    output_shape = model.check_input(x, what)
    if y.ndim == 0:
        raise ValueError(f"{what}: y must have one row per sample, got a scalar")
    if len(y) != len(x):
        raise ValueError(f"{what}: x has {len(x)} samples but y has {len(y)}")
    if len(x) == 0:
        raise ValueError(f"{what}: no samples")
    # before the cast: 1e39 would become inf in float32, then be blamed as non-finite
    check_range(x, model.dtype, f"{what}: x", RANGE_ADVICE)
    check_range(y, model.dtype, f"{what}: y", RANGE_ADVICE)
    if on_disk(x):  # a memory map stays on disk: each batch is cast as it is read
        if x.dtype.kind not in "biuf":
            raise ValueError(f"{what}: x must be numeric, got dtype {x.dtype}")
    else:
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
    loss.check_targets(y, output_shape, f"{what}: y")
    return x, y


def evaluate(
    model: Sequential,
    x: Any,
    y: Any,
    batch_size: int | None = None,
    sample_weight: Any = None,
) -> dict[str, float]:
    """Loss (penalties included) and metrics of the compiled model on ``(x, y)``.

    Runs in inference mode (``training=False``), in batches of ``batch_size`` (None:
    ``model.inference_batch_size()``, all at once for the usual MLP). ``sample_weight``
    ``(n,)`` weights the loss, ``sum_i w_i l_i / n``; the metrics stay unweighted.
    Returns ``{"loss": ..., "<metric>": ...}``.
    """
    loss, metrics = _compiled(model)
    x, y = _prepare(model, loss, x, y, "evaluate")
    _check_weighted_loss(loss, sample_weight, "evaluate")
    if sample_weight is not None:
        sample_weight = check_sample_weight(sample_weight, len(x), "evaluate: sample_weight")
    return Trainer(model, loss).evaluate(x, y, metrics, batch_size, sample_weight)


def _check_weighted_loss(loss: Loss, weights: Any, where: str) -> None:
    """A loss whose ``value_and_gradient`` has no ``sample_weight`` cannot be weighted."""
    if weights is None:
        return
    parameters = inspect.signature(loss.value_and_gradient).parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
    if "sample_weight" not in parameters and not takes_any:
        raise ValueError(
            f"{where}: the loss {type(loss).__name__} does not take sample_weight in "
            "value_and_gradient, so the samples cannot be weighted"
        )


def _compiled(model: Sequential) -> tuple[Loss, list[tuple[str, Any]]]:
    loss = getattr(model, "loss", None)
    if loss is None or getattr(model, "optimizer", None) is None:
        raise RuntimeError(
            "the model is not compiled: call model.compile(loss=..., optimizer=...) first"
        )
    return loss, model.metrics


Validation = tuple[np.ndarray, np.ndarray, np.ndarray | None]


def _split_validation(
    model: Sequential,
    loss: Loss,
    x: np.ndarray,
    y: np.ndarray,
    w: np.ndarray | None,
    validation_split: float,
    validation_data: tuple[Any, ...] | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, Validation | None]:
    """The training rows and the validation set, each with its weights (or None)."""
    if validation_data is not None:
        if validation_split:
            raise ValueError("fit: give validation_data or validation_split, not both")
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
            raise ValueError(
                "fit: validation_data must be a tuple (x_val, y_val) or (x_val, y_val, "
                "sample_weight_val)"
            )
        x_val, y_val = _prepare(model, loss, *validation_data[:2], "fit: validation_data")
        w_val = validation_data[2] if len(validation_data) == 3 else None
        if w_val is not None:
            _check_weighted_loss(loss, w_val, "fit: validation_data")
            w_val = check_sample_weight(w_val, len(x_val), "fit: validation_data sample weights")
        return x, y, w, (x_val, y_val, w_val)
    if not validation_split:
        return x, y, w, None
    if not 0 < validation_split < 1:
        raise ValueError(f"fit: validation_split must be in (0, 1), got {validation_split!r}")
    split_at = int(len(x) * (1 - validation_split))  # the last rows, before any shuffling
    if split_at < 1 or split_at >= len(x):
        raise ValueError(
            f"fit: validation_split={validation_split} of {len(x)} samples leaves an empty set"
        )
    if w is None:
        return x[:split_at], y[:split_at], None, (x[split_at:], y[split_at:], None)
    w_val = w[split_at:]
    if not w_val.any():
        raise ValueError(
            f"fit: every sample weight of the validation rows (the last {len(w_val)}, "
            f"validation_split={validation_split}) is 0, so val_loss would be 0"
        )
    return x[:split_at], y[:split_at], w[:split_at], (x[split_at:], y[split_at:], w_val)


def _training_weights(
    model: Sequential,
    loss: Loss,
    x: np.ndarray,
    y: np.ndarray,
    w: np.ndarray | None,
    class_weight: Any,
) -> np.ndarray | None:
    """The training rows' weights: ``sample_weight`` times the weight of each row's class
    (``class_weight``), or None when neither is given."""
    if class_weight is not None:
        _check_weighted_loss(loss, class_weight, "fit: class_weight")
        per_class = class_sample_weight(
            class_weight, loss, model.check_input(x, "fit"), y, "fit: class_weight"
        )
        w = per_class if w is None else w * per_class
    if w is not None and not w.any():
        raise ValueError(
            "fit: every training row weighs 0 (sample_weight times class_weight), so "
            "nothing would be learned"
        )
    return w


def fit(
    model: Sequential,
    x: Any,
    y: Any,
    epochs: int = 1,
    batch_size: int = 32,
    validation_split: float = 0.0,
    validation_data: tuple[Any, ...] | None = None,
    shuffle: bool = True,
    callbacks: Sequence[Callback] | None = None,
    verbose: int = 1,
    seed: int | None = None,
    initial_epoch: int = 0,
    sample_weight: Any = None,
    class_weight: dict[int, float] | str | None = None,
    distributed: DataParallel | bool | None = None,
) -> History:
    """Train the compiled ``model`` on ``(x, y)``; return the History of every epoch.

    Parameters
    ----------
    x : array (samples, *input_shape)
    y : targets (labels or arrays, as the loss expects), one row per sample
    epochs : int
        Passes over the training data.
    batch_size : int
        Rows per gradient step; the last batch of an epoch keeps the remainder.
    validation_split : float in (0, 1)
        Fraction of the *last* rows held out for validation (before shuffling, as Keras).
    validation_data : (x_val, y_val) or (x_val, y_val, sample_weight_val)
        Explicit validation set (instead of ``validation_split``), with its own sample
        weights if a third element is given.
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
    sample_weight : array (samples,) or None
        A weight ``>= 0`` per sample (finite, not all 0). The loss of a batch of ``n``
        rows is ``sum_i w_i l_i / n`` (Keras' default reduction, "sum over batch size"),
        and the reported ``loss`` is that weighted loss; the metrics stay unweighted
        (Keras' ``metrics``, not ``weighted_metrics``). Rows held out by
        ``validation_split`` keep their weights for ``val_loss``.
    class_weight : dict {class label: weight}, "balanced" or None
        A weight per class for the training rows (not the validation rows, as Keras),
        multiplied into ``sample_weight``; a class missing from the dict weighs 1.
        ``"balanced"`` is scikit-learn's ``n_samples / (n_classes * bincount(y))`` on the
        training rows. Needs a classification loss and one class per sample (labels,
        one-hot rows, or 0/1 targets of one sigmoid output); a key outside the model's
        classes is an error. See ``lucidnet.weights``.
    distributed : DataParallel, True or None
        Data-parallel training over MPI (``lucidnet.distributed``; True: a
        ``DataParallel()`` on ``MPI.COMM_WORLD``): every process of ``mpiexec -n N``
        calls ``fit`` with the same data; each global batch of ``batch_size`` rows is
        split across the N processes and their gradients all-reduced, so that the update
        is one process's on the whole batch. The ranks first check that they hold the
        same data and settings (``RanksDisagree`` on every rank otherwise). Callbacks
        (but those with ``every_rank = True``) and output on rank 0 only; every rank
        returns the same History and weights. An error in one rank's checks before
        training is raised on every rank (the others raise ``RanksDisagree``); during
        training, an exception that not every rank raises at once (all but the step's
        ``TrainingDiverged``) ends the whole job (``MPI_Abort``).

    Returns
    -------
    History
        ``history.history`` maps ``loss``, each metric, ``val_loss``, ``val_<metric>`` and
        ``lr`` to one value per epoch. Training values are means over the epoch's batches
        (in training mode, so with dropout active); validation values are computed after
        the epoch, in inference mode.

    Raises
    ------
    TrainingInterrupted
        On Ctrl-C (any ``KeyboardInterrupt``, also from a callback): the model and its
        optimizer (buffers, step counts, ``iterations``, ``lr``) are rolled back to the
        start of the interrupted epoch, the progress bar is closed, and the exception (a
        ``KeyboardInterrupt``) carries ``epochs_done`` (completed epochs, as
        ``initial_epoch`` counts them), ``history`` (those epochs) and ``seed``. Save the
        model (``lucidnet.save`` keeps the optimizer state) and continue later with
        ``fit(..., initial_epoch=err.epochs_done, seed=err.seed)``: bit-identical to a run
        never interrupted. The rollback costs one copy of the weights and of the
        optimizer's buffers per epoch (the weights' copy is shared with the divergence
        fallback). Callbacks' own state (EarlyStopping's patience, ReduceLROnPlateau's
        counters) is not part of it: they start afresh in the continuation, as in Keras.
    TrainingDiverged
        If the loss or a gradient becomes NaN or infinite (the update is skipped: the
        model keeps the weights before that step), or an update makes a weight NaN or
        infinite (the weights of the epoch's start are restored). It carries ``epoch``
        and ``batch``.
    """
    job = _data_parallel(distributed)
    arguments = (model, x, y, epochs, batch_size, validation_split, validation_data, shuffle)
    more = (callbacks, verbose, seed, initial_epoch, sample_weight, class_weight, job)
    if job is None:
        return _fit(*arguments, *more)
    with job.guard():  # an exception on one rank ends the job instead of a hang
        return _fit(*arguments, *more)


def _data_parallel(distributed: DataParallel | bool | None) -> DataParallel | None:
    if distributed is None or distributed is False:
        return None
    if distributed is True:
        from ..distributed import DataParallel

        return DataParallel()
    return distributed


def _fit(
    model: Sequential,
    x: Any,
    y: Any,
    epochs: int,
    batch_size: int,
    validation_split: float,
    validation_data: tuple[Any, ...] | None,
    shuffle: bool,
    callbacks: Sequence[Callback] | None,
    verbose: int,
    seed: int | None,
    initial_epoch: int,
    sample_weight: Any,
    class_weight: dict[int, float] | str | None,
    job: DataParallel | None,
) -> History:
    """``fit``'s body; ``job`` the MPI job of a data-parallel run, or None."""
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
    w = None
    if sample_weight is not None:
        _check_weighted_loss(loss, sample_weight, "fit")
        w = check_sample_weight(sample_weight, len(x), "fit: sample_weight")
    x, y, w, validation = _split_validation(model, loss, x, y, w, validation_split, validation_data)
    w = _training_weights(model, loss, x, y, w, class_weight)
    base_seed = int(np.random.SeedSequence().entropy) if seed is None else int(seed)  # type: ignore[arg-type]
    batches = Batches(x, y, batch_size, shuffle=shuffle, sample_weight=w, dtype=model.dtype)
    if job is None:
        trainer = Trainer(model, loss, optimizer)
    else:  # the ranks agree; rank 0's seed; callbacks and output on rank 0, then a sync
        from ..distributed import fit_facts

        settings = {"batch_size": batch_size, "epochs": epochs, "initial_epoch": initial_epoch}
        settings["shuffle"] = shuffle
        base_seed = job.agree(base_seed, fit_facts(model, x, y, w, validation, settings))
        trainer = job.trainer(model, loss, optimizer)
        callbacks, verbose = job.callbacks(callbacks, verbose)

    history = History()
    progress = [ProgressLogger(verbose)] if verbose else []
    every = [history, *(callbacks or []), *progress]
    params = {"epochs": int(epochs), "steps": len(batches), "samples": len(x), "verbose": verbose}
    for cb in every:
        cb.set_model(model)
        cb.set_params(params)
    model.stop_training = False
    logs: dict[str, float] = {}
    # (completed epochs, the snapshot of the running epoch's start or None), assigned in
    # one statement, so that an interrupt landing anywhere finds the two consistent
    where: tuple[int, EpochStart | None] = (int(initial_epoch), None)
    try:
        for cb in every:
            cb.on_train_begin()
        for epoch in range(int(initial_epoch), int(epochs)):
            start = EpochStart.take(model, optimizer)
            where = (epoch, start)
            trainer.seed_epoch(batches, base_seed, epoch)
            for cb in every:
                cb.on_epoch_begin(epoch)
            with flush_denormals():  # subnormal arithmetic is 10-100x slower (denormals.py)
                logs = trainer.run_epoch(batches, epoch, metrics, every, start.weights)
            if validation is not None:
                x_val, y_val, w_val = validation
                val = trainer.evaluate(x_val, y_val, metrics, batch_size, w_val)
                logs.update({f"val_{k}": v for k, v in val.items()})
            logs["lr"] = optimizer.lr
            for cb in every:
                cb.on_epoch_end(epoch, logs)
            where = (epoch + 1, None)
            if model.stop_training:
                break
    except KeyboardInterrupt as err:
        done, start_of_epoch = where
        if start_of_epoch is not None:
            start_of_epoch.restore(model, optimizer)
        for cb in progress:
            cb.on_train_end()  # close the bar; the other callbacks do not see a normal end
        trim_history(history, done)
        interrupted = TrainingInterrupted(
            done, history, base_seed, None if start_of_epoch is None else done
        )
        raise interrupted.with_traceback(err.__traceback__) from None
    except BaseException:
        for cb in progress:
            cb.on_train_end()
        raise
    for cb in every:
        cb.on_train_end(logs)
    return history
