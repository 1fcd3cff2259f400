"""Progress output: bar on a terminal, lines otherwise, silence at verbose=0."""

import io

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
    assert "Epoch 1/2" in text
    assert "3/3" in text
    assert "loss: 0.25" in text and "accuracy: 0.75" in text
    assert "lr:" not in text


def test_bad_verbose():
    with pytest.raises(ValueError, match="verbose must be 0, 1 or 2, got 3"):
        ProgressLogger(verbose=3)
