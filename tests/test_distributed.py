"""Data-parallel training over MPI (``lucidnet.distributed``), run for real: ``mpiexec -n 2``
on the programs of ``tests/distributed_worker.py``, each with a timeout, so a hang fails
the test instead of the suite.

The MPI tests are skipped (with the reason) only where mpi4py or ``mpiexec`` is missing;
``make test`` installs both (the ``mpi`` extra, in ``dev``: mpi4py and MPICH from PyPI).
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import lucidnet as ln
from distributed_worker import BATCH, ROWS, train_dropout, train_rank0, train_same

WORKER = Path(__file__).with_name("distributed_worker.py")
TIMEOUT = 60  # s: far above a run (about 1 s), far below a hang


def _mpiexec() -> str | None:
    """The ``mpiexec`` of this environment (MPICH's wheel puts it beside python), else
    the one on PATH."""
    beside = Path(sys.executable).with_name("mpiexec")
    return str(beside) if beside.exists() else shutil.which("mpiexec")


MPIEXEC = _mpiexec()
MISSING = (
    "mpi4py is not installed (pip install 'lucidnet[mpi]')"
    if importlib.util.find_spec("mpi4py") is None
    else "no mpiexec beside python or on PATH (pip install 'lucidnet[mpi]')"
    if MPIEXEC is None
    else None
)
needs_mpi = pytest.mark.skipif(MISSING is not None, reason=str(MISSING))


def mpirun(*args: str, n: int = 2, timeout: float = TIMEOUT) -> subprocess.CompletedProcess:
    """``mpiexec -n N ARGS`` with a timeout; OpenMPI's settings for running as root (and
    for more ranks than cores) set here, not asked of the user; one BLAS thread a rank."""
    env = {
        **os.environ,
        "OMPI_ALLOW_RUN_AS_ROOT": "1",
        "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
        "OMPI_MCA_rmaps_base_oversubscribe": "1",
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
    }
    assert MPIEXEC is not None
    return subprocess.run(
        [MPIEXEC, "-n", str(n), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


def worker(case: str, out: Path, **kwargs) -> subprocess.CompletedProcess:
    return mpirun(sys.executable, str(WORKER), case, str(out), **kwargs)


def _ok(result: subprocess.CompletedProcess) -> None:
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"


# --- without MPI ------------------------------------------------------------------------------


def test_import_lucidnet_does_not_import_mpi4py():
    code = (
        "import sys, lucidnet, lucidnet.distributed, lucidnet.cli; "
        "assert 'mpi4py' not in sys.modules, 'mpi4py imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=TIMEOUT)


def test_rows_are_shared_contiguously_and_completely():
    from lucidnet.distributed import _share

    for rows in (1, 2, 7, 32, 97):
        for size in (1, 2, 3, 5):
            parts = [_share(rows, r, size) for r in range(size)]
            assert parts[0][0] == 0 and parts[-1][1] == rows
            assert all(a[1] == b[0] for a, b in itertools.pairwise(parts))
            assert max(hi - lo for lo, hi in parts) - min(hi - lo for lo, hi in parts) <= 1


# --- 2 ranks against 1 process ---------------------------------------------------------------


@needs_mpi
def test_two_ranks_equal_one_process(tmp_path):
    """Global batch 32 on 2 ranks (16 rows each, the last batch of 1 row on rank 1 only,
    rank 0 standing in with a weightless row) against 1 process on batch 32: sample
    weights, an L2 penalty, the fused softmax + cross-entropy pair, Adam, a learning-rate
    schedule and a callback that stops mid-epoch, both on rank 0 only. float64: the same
    weights to 1e-10; float32: to 1e-5 (rounding: the sums run in another order)."""
    _ok(worker("same", tmp_path))
    for dtype, tol in (("float64", 1e-10), ("float32", 1e-5)):
        one, history = train_same(dtype, distributed=False)
        expected = one.parameters().flat.values
        ranks = [np.load(tmp_path / f"{dtype}_{r}.npy") for r in (0, 1)]
        np.testing.assert_array_equal(ranks[0], ranks[1])  # the ranks agree exactly
        np.testing.assert_allclose(ranks[0], expected, rtol=0, atol=tol, err_msg=dtype)
        assert np.abs(ranks[0] - expected).max() < tol
        for r in (0, 1):
            got = json.loads((tmp_path / f"{dtype}_{r}.json").read_text())
            assert got.keys() == history.keys()
            assert len(got["loss"]) == len(history["loss"]) == 5  # stopped in epoch 5
            for key, values in history.items():
                np.testing.assert_allclose(got[key], values, rtol=1e-5 if tol > 1e-9 else 1e-10)


@needs_mpi
def test_dropout_trains_with_a_stream_per_rank_and_the_ranks_agree(tmp_path):
    _ok(worker("dropout", tmp_path))
    w0, w1 = (np.load(tmp_path / f"dropout_{r}.npy") for r in (0, 1))
    np.testing.assert_array_equal(w0, w1)
    assert np.isfinite(w0).all()
    loss = json.loads((tmp_path / "dropout_0.json").read_text())["loss"]
    assert loss[-1] < loss[0]
    # the masks differ from one process's (each rank's rows draw their own): equal only
    # in distribution, so the weights differ
    one, _ = train_dropout(distributed=False)
    assert np.abs(one.parameters().flat.values - w0).max() > 1e-6


@needs_mpi
def test_what_rank_0_alone_holds_or_decides_reaches_every_rank(tmp_path):
    """Rank 0's optimizer state (its model warmed by a first fit of its own), a weight
    decay its callback sets, a stop its instance-level hook sets mid-epoch, against one
    process; an ``every_rank`` callback runs on both ranks; ``r2_score`` (not a mean
    over rows) on validation data equals one process's, the outputs gathered per chunk."""
    _ok(worker("rank0", tmp_path))
    one, history = train_rank0(distributed=False)
    expected = one.parameters().flat.values
    ranks = [np.load(tmp_path / f"rank0_{r}.npy") for r in (0, 1)]
    np.testing.assert_array_equal(ranks[0], ranks[1])
    np.testing.assert_allclose(ranks[0], expected, rtol=0, atol=1e-10)
    assert len(history["every_rank"]) == 4  # stopped in epoch 4
    got = [json.loads((tmp_path / f"rank0_{r}.json").read_text()) for r in (0, 1)]
    assert got[0]["every_rank"] == got[1]["every_rank"]  # no drift at any epoch's end
    for r in (0, 1):
        assert got[r].keys() == history.keys() and "val_r2_score" in got[r]
        for key, values in history.items():
            np.testing.assert_allclose(got[r][key], values, rtol=1e-10, err_msg=key)


@needs_mpi
def test_ranks_with_other_data_raise_on_every_rank(tmp_path):
    result = worker("disagree", tmp_path)
    assert result.returncode == 4, result.stderr
    for rank in (0, 1):
        assert (
            f"rank {rank} caught RanksDisagree: distributed fit: rank 1 has the number of "
            f"rows {ROWS - 1} but rank 0 has {ROWS}; every rank must call fit with the same"
        ) in result.stdout
        caught = f"rank {rank} caught RanksDisagree: distributed fit: rank 1 has"
        assert f"{caught} x (a hash of" in result.stdout
        assert f"{caught} validation data True but rank 0 has False" in result.stdout
        assert f"{caught} the layers [('Dense', {{" in result.stdout
        assert "'l2': 0.5" in result.stdout
        # a check that fails before training on a rank is raised on every rank, each
        # its own (rank 0 reports first, and rank 0's comes first)
        nan = f"non-finite value(s); the first is nan at row {5 + 50 * rank}, column 0"
        assert f"rank {rank} caught ValueError: fit: x contains 5" in result.stdout
        assert nan in result.stdout
    assert (
        "rank 0 caught RanksDisagree: distributed fit: rank 1 failed before training: "
        "ValueError: fit: x contains 5 non-finite value(s); the first is inf at row 7"
    ) in result.stdout
    inf = "x contains 5 non-finite value(s); the first is inf at row 7, column 0"
    assert f"rank 1 caught ValueError: fit: {inf}" in result.stdout


# --- failures end the job ---------------------------------------------------------------------


@needs_mpi
def test_a_diverging_run_stops_every_rank_with_the_error(tmp_path):
    result = worker("diverge", tmp_path, timeout=30)
    assert result.returncode == 3, result.stderr
    for rank in (0, 1):
        assert f"rank {rank} caught: training diverged at epoch 1, batch " in result.stdout


@needs_mpi
@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("raise-0", "ValueError: rank 0's callback broke"),
        ("raise-1", "ValueError: rank 1's step broke"),
        ("raise-diverged", "TrainingDiverged: rank 0's callback found a bad val_loss"),
    ],
)
def test_a_rank_that_raises_ends_the_job_within_seconds(tmp_path, case, message):
    start = time.perf_counter()
    result = worker(case, tmp_path, timeout=30)
    seconds = time.perf_counter() - start
    assert result.returncode != 0
    assert seconds < 15, f"the job took {seconds:.1f}s to end"
    rank = case[-1] if case[-1].isdigit() else "0"
    assert f"lucidnet.distributed: rank {rank} of 2 failed; aborting the job." in result.stderr
    assert message in result.stderr
    assert "not reached" not in result.stdout


# --- the command line ------------------------------------------------------------------------


@needs_mpi
def test_cli_train_distributed_prints_and_saves_once(tmp_path):
    lucidnet = Path(sys.executable).with_name("lucidnet")
    common = ["train", "--data", "spirals", "--layers", "16", "--dropout", "0", "--epochs", "3"]
    common += ["--batch-size", str(BATCH), "--verbose", "2"]
    out = tmp_path / "two.lucid"
    result = mpirun(str(lucidnet), *common, "--out", str(out), "--distributed")
    _ok(result)
    assert result.stdout.count(f"saved {out}") == 1  # rank 0 only
    assert result.stdout.count("Epoch 3/3") == 1
    from lucidnet.cli import main

    one = tmp_path / "one.lucid"
    assert main([*common, "--out", str(one)]) == 0
    two_w, one_w = ln.load(str(out)).get_weights(), ln.load(str(one)).get_weights()
    for a, b in zip(two_w, one_w, strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-5)  # float32, summed in another order


@needs_mpi
def test_cli_train_distributed_divergence_is_said_once(tmp_path):
    lucidnet = Path(sys.executable).with_name("lucidnet")
    result = mpirun(
        str(lucidnet),
        "train",
        "--data",
        "spirals",
        "--layers",
        "16",
        "--epochs",
        "2",
        "--lr",
        "1e30",
        "--optimizer",
        "sgd",
        "--out",
        str(tmp_path / "m.lucid"),
        "--distributed",
        timeout=30,
    )
    assert result.returncode == 1, result.stderr
    assert result.stderr.count("error: training diverged") == 1, result.stderr
    assert not (tmp_path / "m.lucid").exists()


@needs_mpi
def test_cli_rank_that_fails_before_training_stops_every_rank(tmp_path):
    # rank 1 alone is given an --out in a folder that does not exist (a path that exists
    # on one node only): it fails before fit (it used to leave rank 0 waiting in fit),
    # tells the others where the ranks meet first, and rank 0 says it once
    lucidnet = str(Path(sys.executable).with_name("lucidnet"))
    common = ["train", "--data", "spirals", "--layers", "16", "--epochs", "3", "--distributed"]
    missing = tmp_path / "missing" / "m.lucid"
    start = time.perf_counter()
    result = mpirun(
        lucidnet, *common, "--out", str(tmp_path / "m.lucid"), ":",
        "-n", "1", lucidnet, *common, "--out", str(missing),
        n=1, timeout=30,
    )  # fmt: skip
    seconds = time.perf_counter() - start
    assert result.returncode == 1, result.stderr
    assert seconds < 15, f"the job took {seconds:.1f}s to end"
    assert result.stderr == (
        "lucidnet train: error: distributed fit: rank 1 failed before training: "
        f"ValueError: --out {missing}: the folder {missing.parent} does not exist\n"
    )
    assert not (tmp_path / "m.lucid").exists()


def test_dropout_given_a_generator_draws_a_stream_per_process():
    # one draw of the Generator, alike in every process, then [draw, rank]: rank 0 and 1
    # get other masks; in one process (no stream) the Generator is used as it is
    layers = [ln.Dropout(0.5, seed=np.random.default_rng(3)) for _ in range(3)]
    x = np.ones((4, 64))
    for rank, layer in enumerate(layers[:2]):
        layer.start_epoch(0, np.random.default_rng(0), stream=(rank,))
    masks = [layer.forward(x, training=True) for layer in layers[:2]]
    assert not np.array_equal(masks[0], masks[1])
    layers[2].start_epoch(0, np.random.default_rng(0))
    expected = (np.random.default_rng(3).random((4, 64)) >= 0.5) / 0.5
    np.testing.assert_array_equal(layers[2].forward(x, training=True), expected)


def test_a_broadcast_hyperparameter_keeps_this_ranks_kind_only_where_it_can():
    from lucidnet.distributed import _like

    assert _like(False, 1.0) is True
    assert _like(0, 0.1) == 0.1  # rank 0 set a float where this rank holds an int
    assert _like(0, 3.0) == 3 and isinstance(_like(0, 3.0), int)
    assert _like(0.5, 0.25) == 0.25
