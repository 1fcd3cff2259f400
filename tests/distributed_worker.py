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
- ``raise-0`` / ``raise-1``: rank 0's callback or rank 1's step raises ValueError midway.
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
        bad = int(case[-1])
        x, y, _ = data("float32")
        model = ln.Sequential([ln.Dense(5, 3, seed=0), ln.Softmax()])
        model.compile("crossentropy", ln.SGD(0.1))

        class Raise(ln.Callback):
            def on_epoch_end(self, epoch, logs=None):
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
