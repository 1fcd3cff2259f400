"""``lucidnet train`` across interrupts: Ctrl-C and SIGTERM save the last completed epoch
and exit 130, ``--resume`` continues bit-identically, ``--checkpoint`` writes every epoch.

The signal tests run the command in a subprocess whose stdout pipe is shrunk to one page
and no longer read after the line of epoch 2: the command then blocks on its progress
output long before its last epoch, so the signal always lands mid-run, however slow the
machine, and no test depends on timing.
"""

import argparse
import fcntl
import os
import signal
import subprocess
import sys

import numpy as np
import pytest

import lucidnet as ln
from lucidnet import progress
from lucidnet.cli import build_parser, main
from lucidnet.cli.resume import given_options

EPOCHS = 80  # far more lines than a one-page pipe holds
SPIRALS = [
    "train", "--data", "spirals", "--layers", "16", "--batch-size", "32", "--dropout", "0.2",
    "--optimizer", "adam", "--lr", "0.01", "--seed", "3", "--verbose", "2",
]  # fmt: skip


def _env():
    return {**os.environ, "PYTHONUNBUFFERED": "1"}


def _cli(*args, check=True):
    result = subprocess.run(
        [sys.executable, "-m", "lucidnet", *map(str, args)],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=120,
        check=False,
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


def run(argv):
    """``lucidnet.cli.main`` in this process, paths as strings."""
    return main([str(arg) for arg in argv])


def _weights(path):
    return ln.load(path).get_weights()


def _assert_same_weights(a, b):
    assert len(a) == len(b)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    """The same command as the interrupted ones, run to its end."""
    path = tmp_path_factory.mktemp("whole") / "whole.lucid"
    _cli(*SPIRALS, "--epochs", EPOCHS, "--out", path)
    return path


def _interrupt(out, sig):
    """Start the command, wait for the line of epoch 2, send ``sig``; the result."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "lucidnet", *SPIRALS, "--epochs", str(EPOCHS), "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
    )
    try:
        page = getattr(fcntl, "F_SETPIPE_SZ", None)
        if page is not None:  # Linux: the command blocks once one page of lines waits
            fcntl.fcntl(proc.stdout.fileno(), page, 4096)
        seen = []
        for line in proc.stdout:
            seen.append(line)
            if line.startswith(f"Epoch 2/{EPOCHS}"):
                break
        assert seen and seen[-1].startswith("Epoch 2/"), "".join(seen)
        proc.send_signal(sig)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        proc.kill()
        proc.wait()
    return proc.returncode, "".join(seen) + stdout, stderr


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_saves_the_last_epoch_and_resume_finishes_bit_identically(
    tmp_path, uninterrupted, sig
):
    out = tmp_path / "run.lucid"
    code, stdout, stderr = _interrupt(out, sig)
    assert "Epoch 1/" in stdout and "Traceback" not in stdout
    assert code == 130, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    model = ln.load(out)
    training = model.info["training"]
    done = training["epochs_done"]
    assert 1 <= done < EPOCHS  # 1 if it landed while the line of epoch 2 was printed
    assert (training["epochs"], training["seed"]) == (EPOCHS, 3)
    assert training["settings"]["data"] == "spirals" and training["settings"]["lr"] == 0.01
    assert len(training["history"]["loss"]) == done
    assert model.optimizer.iterations > 0
    cause = "Ctrl-C" if sig == signal.SIGINT else "SIGTERM"
    assert lines[0].startswith(f"lucidnet train: interrupted ({cause}) during epoch {done + 1}")
    assert f"after {done} of {EPOCHS} epochs" in lines[0]
    assert f"to {out}; resume with: lucidnet train --resume {out}" in lines[0]

    result = _cli("train", "--resume", out, "--verbose", "0")
    assert f"resuming {out} after epoch {done} of {EPOCHS}" in result.stdout
    assert f"saved {out}" in result.stdout
    _assert_same_weights(_weights(out), _weights(uninterrupted))
    resumed = ln.load(out).info["training"]
    assert resumed["epochs_done"] == EPOCHS
    whole = ln.load(uninterrupted).info["training"]
    assert resumed["history"] == whole["history"]


# --- in process: the same paths, interrupted from a patched progress callback -----------


def _interrupt_at_batch(monkeypatch, calls):
    """Raise KeyboardInterrupt at the ``calls``-th batch of the run."""
    seen = []

    def on_batch_end(self, batch, logs=None):
        seen.append(batch)
        if len(seen) == calls:
            raise KeyboardInterrupt

    monkeypatch.setattr(progress.ProgressLogger, "on_batch_end", on_batch_end)


def test_checkpoints_resume_bit_identically_with_a_cosine_schedule(tmp_path, capsys):
    common = [*SPIRALS, "--schedule", "cosine", "--epochs", "6", "--verbose", "0"]
    assert run([*common, "--out", tmp_path / "whole.lucid"]) == 0
    checkpoint = str(tmp_path / "ck-{epoch}.lucid")
    assert run([*common, "--out", tmp_path / "a.lucid", "--checkpoint", checkpoint]) == 0
    assert sorted(os.listdir(tmp_path)) == [
        "a.lucid", *(f"ck-{e}.lucid" for e in range(1, 7)), "whole.lucid"
    ]  # fmt: skip
    _assert_same_weights(_weights(tmp_path / "ck-6.lucid"), _weights(tmp_path / "whole.lucid"))
    third = ln.load(tmp_path / "ck-3.lucid").info["training"]
    assert (third["epochs_done"], third["epochs"], len(third["history"]["lr"])) == (3, 6, 3)
    capsys.readouterr()
    assert run(["train", "--resume", tmp_path / "ck-3.lucid", "--out", tmp_path / "b.lucid"]) == 0
    assert "trained 3 epochs (epochs 4-6)" in capsys.readouterr().out
    _assert_same_weights(_weights(tmp_path / "b.lucid"), _weights(tmp_path / "whole.lucid"))
    resumed = ln.load(tmp_path / "b.lucid").info["training"]
    assert resumed["history"] == ln.load(tmp_path / "whole.lucid").info["training"]["history"]


def test_an_in_process_interrupt_saves_and_resumes(tmp_path, monkeypatch, capsys):
    common = [*SPIRALS, "--epochs", "5"]  # verbose 2: the patched progress callback runs
    assert run([*common, "--out", tmp_path / "whole.lucid"]) == 0
    _interrupt_at_batch(monkeypatch, calls=3 * 14 + 5)  # 14 batches per epoch: in epoch 4
    out = tmp_path / "run.lucid"
    capsys.readouterr()
    assert run([*common, "--out", out]) == 130
    err = capsys.readouterr().err
    assert "interrupted (Ctrl-C) during epoch 4 of 5; saved the model after 3 of 5" in err
    assert ln.load(out).info["training"]["epochs_done"] == 3
    monkeypatch.undo()
    assert run(["train", "--resume", out]) == 0
    _assert_same_weights(_weights(out), _weights(tmp_path / "whole.lucid"))


def test_an_interrupt_before_the_first_epoch_ends_saves_nothing(tmp_path, monkeypatch, capsys):
    _interrupt_at_batch(monkeypatch, calls=2)
    out = tmp_path / "run.lucid"
    out.write_bytes(b"an older file, kept")
    assert run([*SPIRALS, "--epochs", "5", "--out", out]) == 130
    assert "interrupted (Ctrl-C) during epoch 1 of 5; nothing was saved" in capsys.readouterr().err
    assert out.read_bytes() == b"an older file, kept"


def test_when_out_cannot_be_written_the_model_goes_to_a_temporary_file(
    tmp_path, monkeypatch, capsys
):
    folder = tmp_path / "gone"
    folder.mkdir()
    calls = []

    def on_batch_end(self, batch, logs=None):
        calls.append(batch)
        if len(calls) == 2 * 14 + 1:  # in epoch 3, the folder of --out has vanished
            folder.rmdir()
            raise KeyboardInterrupt

    monkeypatch.setattr(progress.ProgressLogger, "on_batch_end", on_batch_end)
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)  # read TMPDIR again
    assert run([*SPIRALS, "--epochs", "5", "--out", folder / "run.lucid"]) == 130
    err = capsys.readouterr().err
    saved = os.listdir(tmp_path / "tmp")
    assert len(saved) == 1 and saved[0].startswith("run-interrupted-"), saved
    where = str(tmp_path / "tmp" / saved[0])
    assert f"saved the model after 2 of 5 epochs (with its optimizer state) to {where}" in err
    assert f"(could not write --out {folder / 'run.lucid'}: " in err
    assert ln.load(where).info["training"]["epochs_done"] == 2


# --- --resume: the stored settings, and what conflicts with them -------------------------


@pytest.fixture(scope="module")
def three_of_five(tmp_path_factory):
    """The checkpoint after epoch 3 of a 5-epoch run."""
    folder = tmp_path_factory.mktemp("resume")
    checkpoint = str(folder / "ck-{epoch}.lucid")
    argv = [*SPIRALS, "--epochs", "5", "--verbose", "0", "--checkpoint", checkpoint]
    assert run([*argv, "--out", folder / "five.lucid"]) == 0
    return folder / "ck-3.lucid"


def _error(capsys, argv):
    assert run(argv) == 1
    return capsys.readouterr().err


@pytest.mark.parametrize(
    ("option", "value", "stored"),
    [("--lr", "0.001", "0.01"), ("--seed", "0", "3"), ("--layers", "32", "'16'"),
     ("--data", "xor", "'spirals'"), ("--batch-size", "128", "32")],
)  # fmt: skip
def test_an_option_that_conflicts_with_the_stored_one_is_an_error(
    three_of_five, tmp_path, capsys, option, value, stored
):
    err = _error(
        capsys, ["train", "--resume", three_of_five, option, value, "--out", tmp_path / "x"]
    )
    assert f"{option} {value} differs from the {stored} it was trained with" in err
    assert not (tmp_path / "x").exists()


def test_options_given_again_with_their_stored_values_are_accepted(three_of_five, tmp_path):
    out = tmp_path / "again.lucid"
    again = [
        "--lr",
        "0.01",
        "--seed",
        "3",
        "--layers",
        "16",
        "--data",
        "SPIRALS",
        "--dropout",
        "0.2",
    ]
    assert run(["train", "--resume", three_of_five, *again, "--verbose", "0", "--out", out]) == 0
    assert ln.load(out).info["training"]["epochs_done"] == 5


def test_a_default_typed_out_is_a_conflict_too(three_of_five, capsys):
    """--lr 0.001 is the default, but the run used 0.01: typed, it is not ignored."""
    err = _error(capsys, ["train", "--resume", three_of_five, "--lr", "1e-3"])
    assert "--lr 0.001 differs from the 0.01" in err


def test_more_epochs_continue_a_constant_schedule_like_a_longer_run(three_of_five, tmp_path):
    run([*SPIRALS, "--epochs", "7", "--verbose", "0", "--out", tmp_path / "seven.lucid"])
    out = tmp_path / "more.lucid"
    run(["train", "--resume", three_of_five, "--epochs", "7", "--verbose", "0", "--out", out])
    _assert_same_weights(_weights(out), _weights(tmp_path / "seven.lucid"))
    assert ln.load(out).info["training"]["epochs"] == 7


def test_nothing_left_to_train_or_a_changed_cosine_length_is_an_error(tmp_path, capsys):
    done = tmp_path / "done.lucid"
    run([*SPIRALS, "--epochs", "2", "--verbose", "0", "--schedule", "cosine", "--out", done])
    err = _error(capsys, ["train", "--resume", done])
    assert "has trained 2 of 2 epochs; nothing is left to train. Give --epochs N with N > 2" in err
    err = _error(capsys, ["train", "--resume", done, "--epochs", "4"])
    assert "--epochs 4 would change the cosine schedule" in err


def test_a_file_without_training_settings_cannot_be_resumed(tmp_path, capsys):
    model = ln.Sequential([ln.Dense(2, 2, seed=0), ln.Softmax()]).compile("crossentropy", "adam")
    ln.save(model, tmp_path / "plain.lucid")
    err = _error(capsys, ["train", "--resume", tmp_path / "plain.lucid"])
    assert "holds no training settings" in err and "initial_epoch" in err


def test_a_csv_is_stored_by_absolute_path_and_checksum(tmp_path, monkeypatch, capsys):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((60, 3))
    y = (x[:, 0] > 0).astype(int)
    csv = tmp_path / "table.csv"
    np.savetxt(csv, np.column_stack([x, y]), delimiter=",", fmt=["%.6f"] * 3 + ["%d"])
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "t.lucid"
    run(["train", "--data", "table.csv", "--layers", "4", "--epochs", "2", "--verbose", "0",
          "--out", out])  # fmt: skip
    training = ln.load(out).info["training"]
    assert training["settings"]["data"] == str(csv)
    assert len(training["data_sha256"]) == 64
    moved = tmp_path / "moved.csv"
    csv.rename(moved)
    monkeypatch.chdir("/")
    err = _error(capsys, ["train", "--resume", out, "--epochs", "3"])
    assert f"the training data {csv} is not there any more" in err
    assert run(["train", "--resume", out, "--epochs", "3", "--data", moved, "--verbose", "0"]) == 0
    assert ln.load(out).info["training"]["settings"]["data"] == str(moved)  # its new place
    moved.write_text(moved.read_text().replace("1\n", "0\n", 1))
    err = _error(capsys, ["train", "--resume", out, "--epochs", "4"])
    assert f"the data file {moved} changed since the model was trained" in err


def test_given_options_tells_typed_values_from_defaults():
    parser = build_parser()
    args = parser.parse_args(["train", "--lr", "0.001", "--epochs", "15", "--seed", "0"])
    given = given_options(args)
    assert {"lr", "epochs", "seed"} <= given
    assert not given & {"dropout", "layers", "target", "batch_size", "out", "resume", "plots"}
    assert type(args.dropout) is float and type(args.epochs) is int and type(args.data) is str
    assert isinstance(args, argparse.Namespace) and not hasattr(args, "_flag_defaults")
