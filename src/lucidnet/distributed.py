"""Data-parallel training over MPI: N processes train one model as one process would.

Run the same script (or ``lucidnet train ... --distributed``) in N processes with
``mpiexec -n N``; each passes ``distributed=DataParallel()`` (or ``distributed=True``) to
``fit``, which runs its usual loop with a ``DistributedTrainer`` in place of the
``Trainer``. No second training loop exists: what changes is confined to four places.

1. **The same start.** The shuffling seed is rank 0's (broadcast), and so are the initial
   weights and buffers (broadcast at ``on_train_begin``). Every rank must hold the same
   data (each reads the file itself) and the same optimizer state (fresh, or loaded from
   the same file).
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
   progress bar and printing run on rank 0 only; a small callback on every rank then
   broadcasts what they may have changed: the learning rate (at each epoch's start and
   end), ``model.stop_training`` (at each epoch's end, and after each batch when a
   callback of rank 0 looks at batches), and at the end the weights (so an
   ``EarlyStopping(restore_best_weights=True)`` holds on every rank). A callback that
   changes anything else must be given to every rank itself.
4. **A failure ends the job.** An exception on one rank would leave the others waiting in
   the next all-reduce forever: ``fit`` prints it with its rank on stderr and calls
   ``MPI_Abort``, which ends every process of the job within seconds.
   ``TrainingDiverged``, which every rank raises at the same step, is raised normally.
   Ctrl-C (or SIGTERM) under ``mpiexec`` aborts too: resume from a ``ModelCheckpoint``.

Validation (``validation_split``/``validation_data``) is split by rows across the ranks
and the sums reduced. BatchNorm normalizes each rank's own rows (as PyTorch's
``BatchNorm`` without ``SyncBatchNorm``) and its running statistics are averaged over the
ranks after each epoch, so it equals one process only approximately.

Dropout (and any layer with training-time randomness) gets a stream of its own on each
rank, ``[seed, epoch, layer, rank]`` (a layer seeded by itself: ``[its seed, epoch,
rank]``): each rank's rows get independent masks, so with Dropout the run equals a single
process in distribution, not number for number. Without randomness, N ranks give the
weights of one process up to the order of the floating-point sums (measured: float64
to 1e-12, see ``docs/distributed.md``).

mpi4py is imported when a ``DataParallel`` is made, never by ``import lucidnet``.
"""

from __future__ import annotations

import inspect
import os
import sys
import traceback
from collections.abc import Iterator, Sequence
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
from .training.step import Trainer, TrainingDiverged

__all__ = ["DataParallel", "DistributedTrainer", "mpi_available"]

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

    @property
    def is_root(self) -> bool:
        return self.rank == 0

    def __repr__(self) -> str:
        return f"DataParallel(rank={self.rank}, size={self.size})"

    # --- what fit asks ----------------------------------------------------------------------

    def trainer(self, model: Sequential, loss: Loss, optimizer: Optimizer) -> DistributedTrainer:
        return DistributedTrainer(model, loss, optimizer, self)

    def seed(self, seed: int) -> int:
        """Rank 0's seed, on every rank (the shuffling must be the same everywhere)."""
        return int(self.comm.bcast(int(seed), root=0))

    def callbacks(
        self, callbacks: Sequence[Callback] | None, verbose: int
    ) -> tuple[list[Callback], int]:
        """This rank's callbacks and verbosity: rank 0's own ones then the synchronizing
        callback; on the other ranks that callback alone, silent."""
        mine = list(callbacks or []) if self.is_root else []
        looks_at_batches = any(type(cb).on_batch_end is not Callback.on_batch_end for cb in mine)
        looks_at_batches = bool(self.comm.bcast(looks_at_batches, root=0))
        return [*mine, _Synchronize(self, looks_at_batches)], (verbose if self.is_root else 0)

    @contextmanager
    def guard(self) -> Iterator[None]:
        """Raise ``TrainingDiverged`` (every rank raises it together); end the whole job
        on any other exception (``MPI_Abort`` after printing it), which would otherwise
        leave the other ranks waiting."""
        try:
            yield
        except TrainingDiverged:
            raise
        except BaseException as err:
            if self.size == 1:
                raise
            self.abort(err)

    def abort(self, err: BaseException, code: int = 1) -> None:
        """Print ``err`` with this rank on stderr, then end every process of the job."""
        text = "".join(traceback.format_exception(type(err), err, err.__traceback__))
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

    def average_buffers(self, model: Sequential) -> None:
        """The mean over the ranks of every buffer (BatchNorm's running statistics)."""
        mpi = _mpi()
        for b in model.buffers():
            if b.value.dtype.kind == "f":
                self.comm.Allreduce(mpi.IN_PLACE, b.value, op=mpi.SUM)
                b.value /= self.size


class _Synchronize(Callback):
    """On every rank, last among the callbacks: puts rank 0's decisions everywhere."""

    def __init__(self, job: DataParallel, each_batch: bool) -> None:
        super().__init__()
        self.job, self.each_batch = job, each_batch
        self._state = np.zeros(2)  # (learning rate, stop_training)

    def _sync(self) -> None:
        model = self.model
        optimizer = model.optimizer
        self._state[:] = (optimizer.lr, float(bool(model.stop_training)))
        self.job.comm.Bcast(self._state, root=0)
        optimizer.lr = float(self._state[0])
        model.stop_training = bool(self._state[1])

    def on_train_begin(self, logs: dict[str, float] | None = None) -> None:
        self.job.broadcast_model(self.model)
        self._sync()

    def on_epoch_begin(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        self._sync()  # a LearningRateScheduler of rank 0 sets the rate here

    def on_batch_end(self, batch: int, logs: dict[str, float] | None = None) -> None:
        if self.each_batch:
            self._sync()

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        self._sync()

    def on_train_end(self, logs: dict[str, float] | None = None) -> None:
        self.job.broadcast_model(self.model)


class DistributedTrainer(Trainer):
    """A ``Trainer`` whose step computes this rank's share of each global batch and
    all-reduces the gradient in its ``gradient_hook`` (see the module docstring)."""

    def __init__(
        self, model: Sequential, loss: Loss | str, optimizer: Optimizer | None, job: DataParallel
    ) -> None:
        super().__init__(model, loss, optimizer, gradient_hook=self.all_reduce_gradients)
        self.job = job
        self._rows = 1  # this rank's rows in the current step (0: a weightless stand-in)
        self._gather = False  # gather the predictions (when metrics need them)
        self._value = np.zeros(1)

    # --- one step ----------------------------------------------------------------------------

    def forward_loss(
        self,
        x: np.ndarray,
        y: np.ndarray,
        training: bool,
        need_gradient: bool,
        sample_weight: np.ndarray | None = None,
    ) -> tuple[float, np.ndarray, np.ndarray | None, int]:
        """With ``need_gradient`` (a training step): this rank's rows of the global batch
        ``(x, y)``; the loss reduced over the ranks, the loss gradient scaled by
        ``n_r / B``, the predictions gathered if metrics need them. Otherwise as the
        Trainer (every rank on all of ``x``)."""
        job = self.job
        if not need_gradient or job.size == 1:
            return super().forward_loss(x, y, training, need_gradient, sample_weight)
        rows = len(x)
        lo, hi = _share(rows, job.rank, job.size)
        n = hi - lo
        part = slice(lo, hi) if n else slice(0, 1)  # no rows: one row, weighing nothing
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

    # --- one epoch ---------------------------------------------------------------------------

    def seed_epoch(self, batches: Batches, base_seed: int, epoch: int) -> None:
        """The shuffling as the Trainer's (the same on every rank); the layers with
        randomness a stream per rank: ``[seed, epoch, layer, rank]``."""
        super().seed_epoch(batches, base_seed, epoch)
        job = self.job
        if job.size == 1:
            return
        for i, layer in enumerate(self.model.layers):
            if type(layer).start_epoch is Layer.start_epoch:
                continue
            rng = np.random.default_rng([base_seed, epoch, i + 1, job.rank])
            if "stream" in inspect.signature(layer.start_epoch).parameters:
                layer.start_epoch(epoch, rng, stream=(job.rank,))
            else:
                layer.start_epoch(epoch, rng)

    def run_epoch(
        self,
        batches: Batches,
        epoch: int,
        metrics: Sequence[tuple[str, Any]] = (),
        callbacks: Sequence[Callback] = (),
        start_weights: list[np.ndarray] | None = None,
    ) -> dict[str, float]:
        """The Trainer's epoch; then the buffers (BatchNorm's statistics) averaged."""
        self._gather = bool(metrics)
        logs = super().run_epoch(batches, epoch, metrics, callbacks, start_weights)
        if self.job.size > 1:
            self.job.average_buffers(self.model)
        return logs

    def evaluate(
        self,
        x: np.ndarray,
        y: np.ndarray,
        metrics: Sequence[tuple[str, Any]] = (),
        batch_size: int | None = None,
        sample_weight: np.ndarray | None = None,
    ) -> dict[str, float]:
        """The Trainer's evaluation of this rank's rows of ``(x, y)``, the row-weighted
        sums reduced: every rank returns the same means."""
        job = self.job
        if job.size == 1:
            return super().evaluate(x, y, metrics, batch_size, sample_weight)
        keys = ["loss", *(name for name, _ in metrics)]
        lo, hi = _share(len(x), job.rank, job.size)
        sums = np.zeros(len(keys) + 1)
        if hi > lo:
            w = None if sample_weight is None else sample_weight[lo:hi]
            local = super().evaluate(x[lo:hi], y[lo:hi], metrics, batch_size, w)
            sums[:-1] = [local[k] * (hi - lo) for k in keys]
            sums[-1] = hi - lo
        mpi = _mpi()
        job.comm.Allreduce(mpi.IN_PLACE, sums, op=mpi.SUM)
        return {k: float(s / sums[-1]) for k, s in zip(keys, sums[:-1], strict=True)}
