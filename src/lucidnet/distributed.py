"""Data-parallel training over MPI: N processes train one model as one process would.

Run the same script (or ``lucidnet train ... --distributed``) in N processes with
``mpiexec -n N``; each passes ``distributed=DataParallel()`` (or ``distributed=True``) to
``fit``, which runs its usual loop with a ``DistributedTrainer`` in place of the
``Trainer``. No second training loop exists: what changes is confined to four places.

1. **The same start.** Every rank must call ``fit`` with the same data (each reads the
   file itself) and settings: the ranks first compare a hash of their data (a sample of
   ``x``'s rows, all of ``y`` and the weights, the validation data) and their settings
   (batch size, epochs, shuffling, the architecture, loss and optimizer), and every rank
   raises ``RanksDisagree`` naming what differs (otherwise they would hang, or train on
   a mixture). The shuffling seed is rank 0's, and so are the initial weights, buffers
   and optimizer state (moments, step counts, hyperparameters), broadcast at
   ``on_train_begin``: a model loaded or warmed on rank 0 alone goes on as one process.
2. **One global batch, split by rows.** Every rank draws the same global batch of ``B``
   rows (the same permutation) and takes its share, rows ``[B r / N, B (r+1) / N)``. A
   loss averages over the rows it sees (``sum_i w_i l_i / n``, sample weights included,
   and the fused pairs' ``p - y`` too), so rank ``r``'s gradient, from ``n_r`` rows, is
   ``g_r = (1/n_r) sum_{i in r} dl_i/dθ``. Scaled by ``n_r / B`` (on the loss gradient,
   which is ``n_r x outputs``, not on the parameters) and summed over the ranks it is the
   full batch's gradient::

       sum_r (n_r / B) g_r = (1/B) sum_i dl_i/dθ

   The sum is **one** ``MPI_Allreduce`` of the model's flat gradient buffer
   (``model.parameters().flat.grads``) per step, in the Trainer's ``gradient_hook``,
   which runs between backward and the finiteness check: every rank then holds the same
   gradient, takes the same decision, and a diverging step raises ``TrainingDiverged`` on
   every rank at once (never a hang). The loss is reduced the same way (one scalar
   all-reduce after the forward pass, ``sum_r (n_r / B) L_r``), and when metrics are
   compiled the predictions are gathered (``Allgatherv``) so that metrics see the global
   batch. The penalties (L1/L2) are added after the hook, on identical weights, once.
   A rank with no rows (a last batch smaller than N) runs one row with weight 0.
3. **Rank 0 speaks.** The user's callbacks (checkpoints, schedules, early stopping), the
   progress bar and printing run on rank 0 only (a callback with ``every_rank = True``
   runs on every rank, before that hook's synchronization); a small callback on every
   rank then broadcasts what they may have changed: ``model.stop_training`` and the
   optimizer's hyperparameters (the learning rate, a weight decay: ``get_config()``)
   after each batch and at each epoch's start and end (one broadcast of a few numbers),
   and at the end the weights (so an ``EarlyStopping(restore_best_weights=True)`` holds
   on every rank). Anything else a callback of rank 0 changes (a layer's attribute)
   stays on rank 0: give such a callback ``every_rank = True``.
4. **No rank is left waiting.** An error in the checks before training (this rank's data,
   its arguments) is taken to the ranks' first meeting (``agree``): the failed rank
   raises its own error, the others ``RanksDisagree`` quoting it, so every rank raises
   and a caller can catch it. The step's ``TrainingDiverged``, found after the
   all-reduce, is raised by every rank at once too (``is_collective``). Any other
   exception during training (a callback of rank 0 that raises, even
   ``TrainingDiverged``) would leave the others waiting in the next all-reduce forever:
   ``fit`` prints it with its rank on stderr and calls ``MPI_Abort``, which ends every
   process of the job within seconds. Ctrl-C (or SIGTERM) under ``mpiexec`` aborts too:
   resume from a ``ModelCheckpoint``. Code of the script outside ``fit`` is the
   script's: ``mpiexec -n N python -m mpi4py script.py`` aborts the job on an exception
   there.

Validation in ``fit`` (``validation_split``/``validation_data``) walks the chunks one
process walks; each rank computes the outputs of its share of a chunk,
the outputs are gathered, and every rank computes the loss and the metrics of the whole
chunk from them, as one process does (a metric that is not a mean over rows, such as
``r2_score``, included). BatchNorm normalizes each rank's own rows (as PyTorch's
``BatchNorm`` without ``SyncBatchNorm``) and its running statistics are averaged over the
ranks after each epoch, so it equals one process only approximately. Like one process's
BatchNorm, it needs at least 2 rows a batch in training, on every rank: with N ranks a
global batch of fewer than 2N rows (a short last batch) fails, so choose ``batch_size``
and the number of rows so that the last batch keeps at least 2N rows.

Dropout (and any layer with training-time randomness) gets a stream of its own on each
rank, ``[seed, epoch, layer, rank]`` (a layer seeded by itself: ``[its seed, epoch,
rank]``; a layer given its own Generator: one draw of it, alike on every rank, then
``[draw, rank]``): each rank's rows get independent masks, so with Dropout the run equals
a single process in distribution, not number for number. A layer of your own that seeds
itself should take ``stream`` in ``start_epoch`` (``Layer.start_epoch``); one that does
not draws alike on every rank. Without randomness, N ranks give the
weights of one process up to the order of the floating-point sums (tested: float64 to
1e-10, float32 to 1e-5; see ``docs/distributed.md``).

mpi4py is imported when a ``DataParallel`` is made, never by ``import lucidnet``.
"""

from __future__ import annotations

import hashlib
import inspect
import os
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from .batches import Batches
from .callbacks import Callback
from .layers import Layer
from .losses import Loss
from .model import Sequential
from .optimizers import Optimizer
from .parameters import ParameterList
from .streaming import row_blocks
from .training.step import Trainer, TrainingDiverged

__all__ = ["DataParallel", "DistributedTrainer", "RanksDisagree", "is_collective", "mpi_available"]

INSTALL_HINT = "pip install 'lucidnet[mpi]' (mpi4py and MPICH from PyPI)"


def _mpi() -> Any:
    """The ``mpi4py.MPI`` module, imported on first use."""
    try:
        from mpi4py import MPI
    except ImportError as err:
        raise ImportError(
            f"lucidnet.distributed needs mpi4py and an MPI library: {INSTALL_HINT}"
        ) from err
    return MPI


def mpi_available() -> bool:
    """Whether mpi4py imports (and so finds an MPI library)."""
    try:
        _mpi()
    except (ImportError, RuntimeError):
        return False
    return True


def _share(rows: int, rank: int, size: int) -> tuple[int, int]:
    """Rank ``rank``'s rows ``[lo, hi)`` of ``rows``: contiguous, sizes differ by <= 1."""
    return rows * rank // size, rows * (rank + 1) // size


class RanksDisagree(ValueError):
    """The ranks called ``fit`` with different data or settings (raised on every rank)."""

    collective = True


def is_collective(err: BaseException) -> bool:
    """Whether every rank raises ``err`` at the same point (a divergence found after the
    all-reduce, ranks that disagree): it can be raised normally, with no abort."""
    return bool(getattr(err, "collective", False))


SAMPLED_ROWS = 1024  # rows of x that the ranks compare (all of y and the weights)


def digest(a: np.ndarray | None, dtype: Any, rows: int | None = None) -> str | None:
    """A short hash of ``a`` as ``dtype`` (of ``rows`` rows spread evenly over it, if
    given) and of its shape: what the ranks compare to know they hold the same data.
    Cast and hashed a block of rows at a time: no copy of ``a``."""
    if a is None:
        return None
    h = hashlib.blake2b(str(a.shape).encode(), digest_size=12)
    if rows is not None and len(a) > rows:
        a = a[np.linspace(0, len(a) - 1, rows).astype(np.int64)]
    for block in row_blocks(a):
        h.update(np.ascontiguousarray(a[block], dtype=dtype).tobytes())
    return h.hexdigest()


def _config(obj: Any) -> Any:
    """``obj.get_config()``, or None for an object without one."""
    get = getattr(obj, "get_config", None)
    return get() if callable(get) else None


def fit_facts(
    model: Sequential,
    x: np.ndarray,
    y: np.ndarray,
    sample_weight: np.ndarray | None,
    validation: tuple[np.ndarray, np.ndarray, np.ndarray | None] | None,
    settings: dict[str, Any],
) -> dict[str, Any]:
    """What every rank's ``fit`` must agree on (``DataParallel.agree``): the data (a hash
    of ``SAMPLED_ROWS`` rows of ``x``, of all of ``y`` and the weights), the validation
    data, the layers (type and configuration: sizes, penalties, rates), the parameters'
    shapes, the loss (and its configuration), the metrics, the optimizer's class, and
    ``settings`` (batch size, epochs, shuffling)."""
    dtype = model.dtype
    facts: dict[str, Any] = {
        "the layers": [(type(layer).__name__, _config(layer)) for layer in model.layers],
        "the parameters": [(p.name, p.value.shape, p.value.dtype.str) for p in model.parameters()],
        "the loss": (type(model.loss).__name__, _config(model.loss)),
        "the metrics": [name for name, _ in model.metrics],
        "the optimizer": type(model.optimizer).__name__,
        **settings,
        "the number of rows": len(x),
        "x (a hash of its rows)": digest(x, dtype, SAMPLED_ROWS),
        "y (a hash)": digest(y, np.float64),
        "sample_weight (a hash)": digest(sample_weight, np.float64),
        "validation data": validation is not None,
    }
    if validation is not None:
        x_val, y_val, w_val = validation
        facts["validation x (a hash of its rows)"] = digest(x_val, dtype, SAMPLED_ROWS)
        facts["validation y (a hash)"] = digest(y_val, np.float64)
        facts["validation sample_weight (a hash)"] = digest(w_val, np.float64)
    return facts


class DataParallel:
    """The MPI job as ``fit`` sees it: ``comm`` (default ``MPI.COMM_WORLD``), ``rank``,
    ``size``, ``is_root``.

    ``model.fit(x, y, ..., distributed=DataParallel())`` in every process of
    ``mpiexec -n N python script.py`` trains one model on N processes.
    """

    def __init__(self, comm: Any = None) -> None:
        mpi = _mpi()
        self.comm = mpi.COMM_WORLD if comm is None else comm
        self.rank: int = self.comm.Get_rank()
        self.size: int = self.comm.Get_size()
        self._agreed = False  # whether this fit's ranks have met in agree (guard resets it)

    @property
    def is_root(self) -> bool:
        return self.rank == 0

    def __repr__(self) -> str:
        return f"DataParallel(rank={self.rank}, size={self.size})"

    # --- what fit asks ----------------------------------------------------------------------

    def trainer(self, model: Sequential, loss: Loss, optimizer: Optimizer) -> DistributedTrainer:
        return DistributedTrainer(model, loss, optimizer, self)

    def agree(self, seed: int, facts: dict[str, Any], failure: Exception | None = None) -> int:
        """Rank 0's seed, on every rank (the shuffling must be the same everywhere), once
        every rank's ``facts`` (``fit``'s data digests and settings) equal rank 0's.

        Ranks that disagree would not run the same number of steps (a hang) or would
        train on a mixture of data sets: every rank raises ``RanksDisagree`` instead,
        naming the first fact that differs and the ranks.

        The first collective of a ``fit``, so also where a rank that failed before it
        (``failure``: bad data, a missing folder; see ``guard``) tells the others: it
        raises its own error, they raise ``RanksDisagree`` quoting it; nothing aborts."""
        self._agreed = True
        said = None if failure is None else f"{type(failure).__name__}: {failure}"
        everyone = self.comm.allgather((int(seed), facts, said))
        failed = [(rank, text) for rank, (_, _, text) in enumerate(everyone) if text is not None]
        if failure is not None:
            failure.collective = True  # type: ignore[attr-defined]
            raise failure
        if failed:
            rank, text = failed[0]
            raise RanksDisagree(f"distributed fit: rank {rank} failed before training: {text}")
        root_seed, ours, _ = everyone[0]
        for rank, (_, theirs, _) in enumerate(everyone[1:], start=1):
            for key in [*ours, *(k for k in theirs if k not in ours)]:
                if theirs.get(key) != ours.get(key):
                    raise RanksDisagree(
                        f"distributed fit: rank {rank} has {key} {theirs.get(key)!r} but "
                        f"rank 0 has {ours.get(key)!r}; every rank must call fit with the "
                        "same data (the same rows in the same order) and the same settings"
                    )
        return int(root_seed)

    def callbacks(
        self, callbacks: Sequence[Callback] | None, verbose: int
    ) -> tuple[list[Callback], int]:
        """This rank's callbacks and verbosity: on rank 0 every callback, elsewhere those
        marked ``every_rank = True``; then the synchronizing callback. Output on rank 0."""
        mine = [cb for cb in callbacks or [] if self.is_root or getattr(cb, "every_rank", False)]
        return [*mine, _Synchronize(self)], (verbose if self.is_root else 0)

    @contextmanager
    def guard(self, describe: Callable[[BaseException], str] | None = None) -> Iterator[None]:
        """Raise an exception every rank raises together (``is_collective``: a diverging
        step, ranks that disagree). An exception before the ranks have met in ``agree``
        (a check of this rank's data) is taken there, to the others, and raised on every
        rank. Any other ends the whole job (``MPI_Abort`` after printing it, as
        ``describe(err)`` says or with its traceback), which would otherwise leave the
        other ranks waiting."""
        self._agreed = False
        try:
            yield
        except BaseException as err:
            if self.size == 1 or is_collective(err):
                raise
            if isinstance(err, Exception) and not self._agreed:
                self.agree(0, {}, failure=err)  # raises, on every rank
            self.abort(err, describe=describe)

    def abort(
        self,
        err: BaseException,
        code: int = 1,
        describe: Callable[[BaseException], str] | None = None,
    ) -> None:
        """Print ``err`` with this rank on stderr, then end every process of the job."""
        if describe is None:
            text = "".join(traceback.format_exception(type(err), err, err.__traceback__))
        else:
            text = describe(err) + "\n"
        sys.stdout.flush()
        sys.stderr.write(
            f"lucidnet.distributed: rank {self.rank} of {self.size} failed; aborting the "
            f"job.\n{text}"
        )
        sys.stderr.flush()
        self.comm.Abort(code)
        # MPICH's MPI_Abort can return in the calling process: end it here, running none of
        # the caller's code after a failure (the other ranks are being ended by mpiexec)
        os._exit(code)

    # --- collectives on the model -------------------------------------------------------

    def broadcast_model(self, model: Sequential) -> None:
        """Rank 0's weights and buffers, on every rank (in place)."""
        params = model.parameters()
        arrays = [params.flat.values] if params.flat is not None else [p.value for p in params]
        arrays += [b.value for b in model.buffers()]
        for a in arrays:
            self.comm.Bcast(a, root=0)

    def broadcast_optimizer(self, model: Sequential) -> None:
        """Rank 0's optimizer state (its moments, step counts, ``iterations``) and
        hyperparameters, on every rank: a model warmed or loaded on rank 0 alone goes on
        as one process would."""
        optimizer = model.optimizer
        params = model.parameters()
        payload = None
        if self.is_root:
            payload = (optimizer.state_of(params), optimizer.iterations, optimizer.get_config())
        state, iterations, config = self.comm.bcast(payload, root=0)
        if not self.is_root:
            optimizer.set_state(state, params, iterations)
            set_config(optimizer, config)

    def average_buffers(self, model: Sequential) -> None:
        """The mean over the ranks of every buffer (BatchNorm's running statistics)."""
        mpi = _mpi()
        for b in model.buffers():
            if b.value.dtype.kind == "f":
                self.comm.Allreduce(mpi.IN_PLACE, b.value, op=mpi.SUM)
                b.value /= self.size


def set_config(optimizer: Optimizer, config: dict[str, Any]) -> None:
    """Set the hyperparameters of ``config`` (``get_config``'s) on ``optimizer``."""
    for key, value in config.items():
        if getattr(optimizer, key, value) != value:
            setattr(optimizer, key, value)


def _like(old: Any, new: float) -> Any:
    """``new`` (a broadcast float) as a bool if ``old`` is one, as an int if ``old`` is one
    and ``new`` is whole (rank 0 may have set a float where this rank holds an int)."""
    if isinstance(old, (bool, np.bool_)):
        return bool(new)
    if isinstance(old, (int, np.integer)) and new == int(new):
        return int(new)
    return new


class _Synchronize(Callback):
    """On every rank, last among the callbacks: puts rank 0's decisions everywhere.

    After each batch and at each epoch's start and end: ``stop_training`` and the
    optimizer's hyperparameters (``get_config()``: the learning rate, a weight decay, a
    momentum), in one broadcast of a few numbers. At the start the weights and the
    optimizer's state, at the end the weights."""

    def __init__(self, job: DataParallel) -> None:
        super().__init__()
        self.job = job

    def _sync(self) -> None:
        model = self.model
        optimizer = model.optimizer
        config = optimizer.get_config()
        if not all(isinstance(v, (bool, int, float, np.number)) for v in config.values()):
            set_config(optimizer, self.job.comm.bcast(config, root=0))  # not numbers: pickled
            config = {}
        numbers = np.array([float(bool(model.stop_training)), *map(float, config.values())])
        self.job.comm.Bcast(numbers, root=0)
        model.stop_training = bool(numbers[0])
        received = zip(config.items(), numbers[1:].tolist(), strict=True)
        set_config(optimizer, {key: _like(old, new) for (key, old), new in received})

    def on_train_begin(self, logs: dict[str, float] | None = None) -> None:
        self.job.broadcast_model(self.model)
        self.job.broadcast_optimizer(self.model)
        self._sync()

    def on_epoch_begin(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        self._sync()  # a LearningRateScheduler of rank 0 sets the rate here

    def on_batch_end(self, batch: int, logs: dict[str, float] | None = None) -> None:
        self._sync()

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        self._sync()

    def on_train_end(self, logs: dict[str, float] | None = None) -> None:
        self.job.broadcast_model(self.model)


class DistributedTrainer(Trainer):
    """A ``Trainer`` whose step computes this rank's share of each global batch and
    all-reduces the gradient in its ``gradient_hook``, and whose evaluation computes this
    rank's share of each chunk and gathers the outputs (see the module docstring)."""

    def __init__(
        self, model: Sequential, loss: Loss | str, optimizer: Optimizer | None, job: DataParallel
    ) -> None:
        super().__init__(model, loss, optimizer, gradient_hook=self.all_reduce_gradients)
        self.job = job
        self._rows = 1  # this rank's rows in the current step (0: a weightless stand-in)
        self._gather = False  # gather the predictions (when metrics need them)
        self._value = np.zeros(1)
        self._diverged = False  # whether this epoch's TrainingDiverged is the step's own

    # --- one step ----------------------------------------------------------------------------

    def forward_loss(
        self,
        x: np.ndarray,
        y: np.ndarray,
        training: bool,
        need_gradient: bool,
        sample_weight: np.ndarray | None = None,
    ) -> tuple[float, np.ndarray, np.ndarray | None, int]:
        """This rank's rows of the global batch (or evaluation chunk) ``(x, y)``.

        With ``need_gradient`` (a training step): the loss reduced over the ranks, the
        loss gradient scaled by ``n_r / B``, the predictions gathered if metrics need
        them. Without (evaluation): the outputs gathered, and the loss of the whole chunk
        computed from them on every rank, as one process computes it."""
        job = self.job
        if job.size == 1:
            return super().forward_loss(x, y, training, need_gradient, sample_weight)
        rows = len(x)
        lo, hi = _share(rows, job.rank, job.size)
        n = hi - lo
        part = slice(lo, hi) if n else slice(0, 1)  # no rows: one row, weighing nothing
        if not need_gradient:
            y_pred, out, loss, start = self.forward_output(x[part], training)
            gathered = self._gather_rows(out[:n], rows)
            if y_pred is not out:
                y_pred = self._gather_rows(y_pred[:n], rows)
            else:
                y_pred = gathered
            value, _ = self.loss_of(loss, y, gathered, False, sample_weight)
            return value, y_pred, None, start
        w = None if sample_weight is None else sample_weight[part]
        value, y_pred, g, start = super().forward_loss(x[part], y[part], training, True, w)
        share = n / rows
        if g is not None and share != 1:
            g = g * share  # a new array: (n_r, outputs), the loss's own buffer untouched
        self._rows = n
        mpi = _mpi()
        self._value[0] = share * value if n else 0.0
        job.comm.Allreduce(mpi.IN_PLACE, self._value, op=mpi.SUM)
        if self._gather:
            y_pred = self._gather_rows(y_pred[:n], rows)
        return float(self._value[0]), y_pred, g, start

    def _gather_rows(self, local: np.ndarray, rows: int) -> np.ndarray:
        """Every rank's rows of ``local`` ``(n_r, *shape)``, in rank order: ``(B, *shape)``."""
        job = self.job
        per_row = int(np.prod(local.shape[1:]))
        shares = (_share(rows, r, job.size) for r in range(job.size))
        counts = [(hi - lo) * per_row for lo, hi in shares]
        out = np.empty((rows, *local.shape[1:]), dtype=local.dtype)
        job.comm.Allgatherv(np.ascontiguousarray(local), [out, counts])
        return out

    def all_reduce_gradients(self, params: ParameterList) -> None:
        """The gradient hook: ``sum_r`` of the ranks' scaled gradients, in place, on every
        rank (one ``Allreduce`` of the flat buffer)."""
        if self.job.size == 1:
            return
        mpi = _mpi()
        flat = params.flat
        grads = [flat.grads] if flat is not None else [p.grad for p in params]
        for g in grads:
            if self._rows == 0:
                g.fill(0)
            self.job.comm.Allreduce(mpi.IN_PLACE, g, op=mpi.SUM)

    def restore_if_not_finite(
        self, fallback: list[np.ndarray], fallback_name: str, problem: str | None
    ) -> None:
        """The Trainer's check, on weights and gradients every rank holds alike: its
        ``TrainingDiverged`` is raised by every rank at once (``is_collective``)."""
        try:
            super().restore_if_not_finite(fallback, fallback_name, problem)
        except TrainingDiverged:
            self._diverged = True
            raise

    # --- one epoch ---------------------------------------------------------------------------

    def start_layer_epoch(self, layer: Layer, epoch: int, seed: list[int]) -> None:
        """A stream per rank for the layers with randomness: ``[seed, epoch, layer,
        rank]``, and ``stream=(rank,)`` for a layer that seeds itself."""
        job = self.job
        if job.size == 1:
            return super().start_layer_epoch(layer, epoch, seed)
        rng = np.random.default_rng([*seed, job.rank])
        if "stream" in inspect.signature(layer.start_epoch).parameters:
            layer.start_epoch(epoch, rng, stream=(job.rank,))
        else:
            layer.start_epoch(epoch, rng)
        return None

    def run_epoch(
        self,
        batches: Batches,
        epoch: int,
        metrics: Sequence[tuple[str, Any]] = (),
        callbacks: Sequence[Callback] = (),
        start_weights: list[np.ndarray] | None = None,
    ) -> dict[str, float]:
        """The Trainer's epoch; then the buffers (BatchNorm's statistics) averaged. A
        divergence found by the step is marked collective (a ``TrainingDiverged`` that a
        callback of rank 0 raises is not, and ends the job)."""
        self._gather = bool(metrics)
        self._diverged = False
        try:
            logs = super().run_epoch(batches, epoch, metrics, callbacks, start_weights)
        except TrainingDiverged as err:
            if self._diverged and self.job.size > 1:
                err.collective = True  # type: ignore[attr-defined]
                self.job.average_buffers(self.model)
            raise
        if self.job.size > 1:
            self.job.average_buffers(self.model)
        return logs
