"""Progress output: bar on a terminal, lines otherwise, silence at verbose=0."""

import fcntl
import io
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios

import pytest

import lucidnet as ln
from lucidnet.progress import ProgressLogger


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def _fit(verbose, capsys=None, callbacks=()):
    x, y = ln.datasets.xor()
    model = ln.seeds.xor_network().compile("binary_crossentropy", "sgd", metrics=["accuracy"])
    model.fit(
        x,
        y,
        epochs=3,
        batch_size=2,
        validation_data=(x, y),
        verbose=verbose,
        callbacks=list(callbacks),
    )


def test_verbose_2_prints_one_line_per_epoch(capsys):
    _fit(2)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("Epoch 1/3 - ")
    for key in ("loss: ", "accuracy: ", "val_loss: ", "val_accuracy: "):
        assert key in lines[2]
    assert "lr" not in lines[0]


def test_verbose_1_without_a_terminal_falls_back_to_lines(capsys):
    _fit(1)
    out = capsys.readouterr().out
    assert "\r" not in out and len(out.splitlines()) == 3


def test_verbose_0_is_silent(capsys):
    _fit(0)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_verbose_1_on_a_terminal_draws_a_bar():
    stream = FakeTerminal()
    logger = ProgressLogger(verbose=1, stream=stream)
    logger.set_params({"epochs": 2, "steps": 3})
    logger.on_epoch_begin(0)
    for batch in range(3):
        logger.on_batch_end(batch, {"loss": 0.5})
    logger.on_epoch_end(0, {"loss": 0.25, "accuracy": 0.75, "lr": 0.1})
    text = stream.getvalue()
    assert "0/3" in text  # the bar was drawn
    last = text.replace("\r", "\n").splitlines()[-1]  # then gave way to the epoch's line
    assert last.startswith("Epoch 1/2 - ")
    assert "loss: 0.25" in last and "accuracy: 0.75" in last
    assert "lr:" not in text


def test_the_epoch_line_wraps_to_the_terminal_width():
    from lucidnet.progress import _wrap

    parts = ["Epoch 1/2", "0.25s", "loss: 0.1234", "accuracy: 0.9", "val_loss: 0.2345"]
    lines = _wrap(parts, 40)
    assert lines == [
        "Epoch 1/2 - 0.25s - loss: 0.1234",
        "    accuracy: 0.9 - val_loss: 0.2345",
    ]
    assert _wrap(parts, 200) == [" - ".join(parts)]


def _run_on_a_terminal(args, columns, timeout=120):
    """Run ``python -m lucidnet ARGS`` on a pseudo-terminal ``columns`` wide; its output."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    child = subprocess.Popen(
        [sys.executable, "-m", "lucidnet", *map(str, args)],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
    )
    os.close(slave)
    chunks = []
    try:
        while select.select([master], [], [], timeout)[0]:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
    finally:
        os.close(master)
        child.kill() if child.poll() is None else None
    assert child.wait(timeout=timeout) == 0, b"".join(chunks).decode(errors="replace")
    return b"".join(chunks).decode("utf-8")


def test_an_80_column_terminal_shows_the_validation_metrics(tmp_path):
    text = _run_on_a_terminal(
        ["train", "--data", "spirals", "--layers", "16", "--epochs", "2", "--batch-size", "8",
         "--validation-split", "0.2", "--out", tmp_path / "s.lucid"],
        columns=80,
    )  # fmt: skip
    assert "\r" in text  # a live bar was drawn (the output was a terminal)
    visible = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text)  # without escape sequences
    pieces = re.split(r"[\r\n]", visible)  # what each carriage return or newline redraws
    too_wide = [p for p in pieces if len(p) > 80]
    assert not too_wide, too_wide
    epoch_lines = [p for p in pieces if "val_loss: " in p or "val_accuracy: " in p]
    assert len(epoch_lines) >= 2  # both epochs' validation results were shown
    assert any("val_accuracy: " in p for p in epoch_lines)


def test_bad_verbose():
    with pytest.raises(ValueError, match="verbose must be 0, 1 or 2, got 3"):
        ProgressLogger(verbose=3)
