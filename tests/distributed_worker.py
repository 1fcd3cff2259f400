"""The programs that ``tests/test_distributed.py`` runs under ``mpiexec`` (and, for the
single-process reference, imports): ``python tests/distributed_worker.py CASE OUT_DIR``.

Cases:
- ``same``: float64 and float32 models trained with every feature that touches the
  reduction (a fused softmax + cross-entropy pair, sample weights, an L2 penalty,
  validation, metrics, a learning-rate schedule, a callback that stops mid-epoch, a last
  batch of one row); each rank saves its weights and history to ``OUT_DIR``.
- ``dropout``: a model with Dropout (one seeded by the fit, one by itself).
- ``diverge``: a learning rate that makes the loss infinite: every rank prints what it
  caught and exits 3.
- ``rank0``: what rank 0 alone holds or decides, against one process: its optimizer
  state (a model warmed by a first fit on rank 0 only), a callback that changes the
  optimizer's weight decay, a stop set by an instance-level ``on_batch_end`` hook, an
  ``every_rank`` callback, and a metric that is not a mean over rows (``r2_score``) on
  validation data.
- ``disagree``: ranks that call ``fit`` with other data (fewer rows, other values,
  validation data on one rank, another layer; then a NaN at another row on each rank,
  which each rank's check refuses before training, then an infinity on rank 1 alone):
  every rank prints the error it caught and exits 4.
- ``raise-0`` / ``raise-1``: rank 0's callback or rank 1's step raises ValueError midway;
  ``raise-diverged``: rank 0's callback raises ``TrainingDiverged`` (not every rank's).
"""

from __future__ import annotations

import json
import os
import sys

import numpy as np

import lucidnet as ln

ROWS, BATCH, EPOCHS = 97, 32, 6  # 97 = 3 * 32 + 1: the last batch has one row


def data(dtype: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(ROWS + 20, 5)).astype(dtype)
    y = (x[:, 0] * x[:, 1] > 0).astype(int) + (x[:, 2] > 0.8)
    w = rng.uniform(0.5, 2.0, size=len(x))
    return x, y, w


class StopAt(ln.Callback):
    """Stops training after ``batch`` of ``epoch`` (a callback that looks at batches)."""

    def __init__(self, epoch: int, batch: int) -> None:
        super().__init__()
        self.stop, self.epoch = (epoch, batch), 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_batch_end(self, batch, logs=None):
        if (self.epoch, batch) == self.stop:
            self.model.stop_training = True


def train_same(dtype: str, distributed: bool) -> tuple[ln.Sequential, dict]:
    """The ``same`` case's model and history."""
    x, y, w = data(dtype)
    model = ln.Sequential(
        [ln.Dense(5, 16, seed=1, l2=1e-3), ln.Tanh(), ln.Dense(16, 3, seed=2), ln.Softmax()]
    ).astype(dtype)
    # every rank starts from other weights: rank 0's are broadcast
    if distributed and ln_rank() != 0:
        model.set_weights([v + 1 for v in model.get_weights()])
    model.compile("crossentropy", ln.Adam(0.02), metrics=["accuracy"])
    history = model.fit(
        x[:ROWS],
        y[:ROWS],
        epochs=EPOCHS,
        batch_size=BATCH,
        seed=7,
        verbose=0,
        sample_weight=w[:ROWS],
        validation_data=(x[ROWS:], y[ROWS:]),
        callbacks=[
            ln.LearningRateScheduler(lambda epoch, lr: lr * 0.8),
            StopAt(EPOCHS - 2, 1),
        ],
        distributed=distributed,
    )
    return model, history.history


def train_dropout(distributed: bool) -> tuple[ln.Sequential, dict]:
    x, y, _ = data("float64")
    model = ln.Sequential(
        [
            ln.Dense(5, 32, seed=1),
            ln.ReLU(),
            ln.Dropout(0.3),
            ln.Dense(32, 32, seed=2),
            ln.ReLU(),
            ln.Dropout(0.3, seed=5),
            ln.Dense(32, 3, seed=3),
            ln.Softmax(),
        ]
    ).astype("float64")
    model.compile("crossentropy", ln.Adam(0.01))
    history = model.fit(
        x, y, epochs=EPOCHS, batch_size=BATCH, seed=7, verbose=0, distributed=distributed
    )
    return model, history.history


class EveryRank(ln.Callback):
    """On every rank (``every_rank``): the sum of the weights at each epoch's end, which
    shows ranks drifting apart (the final broadcast of rank 0's weights would hide it)."""

    every_rank = True

    def __init__(self) -> None:
        super().__init__()
        self.sums: list[float] = []

    def on_epoch_end(self, epoch, logs=None):
        self.sums.append(float(self.model.parameters().flat.values.sum()))


class Decay(ln.Callback):
    """Sets the optimizer's weight decay after batch 0 of epoch 2: a hyperparameter other
    than lr, changed mid-epoch."""

    def __init__(self) -> None:
        super().__init__()
        self.epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_batch_end(self, batch, logs=None):
        if (self.epoch, batch) == (2, 0):
            self.model.optimizer.weight_decay = 0.1


def train_rank0(distributed: bool) -> tuple[ln.Sequential, dict]:
    """The ``rank0`` case's model and history (with ``every_rank``: EveryRank's count)."""
    x, _, _ = data("float64")
    y = np.tanh(x @ np.array([[1.0], [-2.0], [0.5], [0.0], [1.5]])) + 0.1 * x[:, :1] ** 2
    model = ln.Sequential([ln.Dense(5, 16, seed=1), ln.Tanh(), ln.Dense(16, 1, seed=2)])
    model = model.astype("float64")
    model.compile("mse", ln.AdamW(0.01, weight_decay=0.0), metrics=[ln.metrics.r2_score])
    rows = 3 * BATCH  # r2_score needs 2 rows a batch: no last batch of one
    if not distributed or ln_rank() == 0:  # rank 0 goes on from a first run of its own
        model.fit(x[:rows], y[:rows], epochs=2, batch_size=BATCH, seed=3, verbose=0)
    state = {"epoch": 0}
    stop = ln.Callback()  # hooks set on the instance, as a lambda callback would

    def on_epoch_begin(epoch, logs=None):
        state["epoch"] = epoch

    def on_batch_end(batch, logs=None):
        if (state["epoch"], batch) == (3, 1):
            stop.model.stop_training = True

    stop.on_epoch_begin, stop.on_batch_end = on_epoch_begin, on_batch_end
    counter = EveryRank()
    history = model.fit(
        x[:rows],
        y[:rows],
        epochs=6,
        batch_size=BATCH,
        seed=7,
        verbose=0,
        validation_data=(x[ROWS:], y[ROWS:]),
        callbacks=[Decay(), stop, counter],
        distributed=distributed,
    )
    return model, {**history.history, "every_rank": counter.sums}


def ln_rank() -> int:
    from mpi4py import MPI

    return MPI.COMM_WORLD.Get_rank()


def save(out: str, name: str, model: ln.Sequential, history: dict) -> None:
    np.save(os.path.join(out, f"{name}_{ln_rank()}.npy"), model.parameters().flat.values)
    with open(os.path.join(out, f"{name}_{ln_rank()}.json"), "w") as f:
        json.dump(history, f)


def main(case: str, out: str) -> int:
    if case == "same":
        for dtype in ("float64", "float32"):
            save(out, dtype, *train_same(dtype, distributed=True))
    elif case == "dropout":
        save(out, "dropout", *train_dropout(distributed=True))
    elif case == "rank0":
        save(out, "rank0", *train_rank0(distributed=True))
    elif case == "disagree":
        x, y, _ = data("float64")
        model = ln.Sequential([ln.Dense(5, 3, seed=0), ln.Softmax()]).astype("float64")
        model.compile("crossentropy", ln.SGD(0.1))
        rank = ln_rank()
        other = ln.Sequential([ln.Dense(5, 3, seed=0, l2=0.5 * rank), ln.Softmax()])
        attempts = [  # (model, x, y, validation_data): rank 1 differs in each
            (model, x[: ROWS - rank], y[: ROWS - rank], None),
            (model, x + rank, y, None),
            (model, x, y, (x[:10], y[:10]) if rank == 1 else None),
            (other.astype("float64"), x, y, None),
            (model, np.where(np.arange(len(x))[:, None] == 5 + 50 * rank, np.nan, x), y, None),
            (
                model,
                np.where(np.arange(len(x))[:, None] == 7 + 1000 * (1 - rank), np.inf, x),
                y,
                None,
            ),
        ]
        for net, xr, yr, validation in attempts:
            net.compile("crossentropy", ln.SGD(0.1))
            try:
                net.fit(
                    xr, yr, epochs=2, batch_size=BATCH, verbose=0, validation_data=validation,
                    distributed=True,
                )  # fmt: skip
            except ValueError as err:
                print(f"rank {rank} caught {type(err).__name__}: {err}", flush=True)
        return 4
    elif case == "diverge":
        x, y, _ = data("float32")
        model = ln.Sequential([ln.Dense(5, 1, seed=0)])
        model.compile("mse", ln.SGD(1e30))
        try:
            model.fit(x * 1e10, y * 1e10, epochs=3, batch_size=BATCH, verbose=0, distributed=True)
        except ln.TrainingDiverged as err:
            print(f"rank {ln_rank()} caught: {err}", flush=True)
            return 3
    elif case.startswith("raise-"):
        bad = int(case[-1]) if case[-1].isdigit() else 0
        x, y, _ = data("float32")
        model = ln.Sequential([ln.Dense(5, 3, seed=0), ln.Softmax()])
        model.compile("crossentropy", ln.SGD(0.1))

        class Raise(ln.Callback):
            def on_epoch_end(self, epoch, logs=None):
                if epoch == 1 and case == "raise-diverged":
                    raise ln.TrainingDiverged("rank 0's callback found a bad val_loss")
                if epoch == 1:
                    raise ValueError("rank 0's callback broke")

        if bad == 1 and ln_rank() == 1:
            from lucidnet.distributed import DistributedTrainer

            calls = []
            forward_loss = DistributedTrainer.forward_loss

            def breaking(self, *args, **kwargs):
                calls.append(1)
                if len(calls) == 5:
                    raise ValueError("rank 1's step broke")
                return forward_loss(self, *args, **kwargs)

            DistributedTrainer.forward_loss = breaking
        model.fit(x, y, epochs=1000, batch_size=8, verbose=0, callbacks=[Raise()], distributed=True)
        print("not reached", flush=True)
    else:
        raise SystemExit(f"unknown case {case!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
