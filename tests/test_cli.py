"""The lucidnet command: demo, help, version, python -m."""

import io
import subprocess
import sys

import pytest

from lucidnet import __version__, cli, demo


def test_demo_prints_the_four_stories_with_the_seed_numbers():
    out = io.StringIO()
    demo.run(out)
    text = out.getvalue()
    for needle in [
        "seed 000",
        "seed 001",
        "seed 002",
        "seed 003",
        "= 0.4100",
        "= 0.6011",
        "= 0.2398",
        "[ 0.0976 -0.2942]",
        "y_hat = sigmoid(z2) = 0.796",
        "accuracy 100%",
        "gradient check of this architecture passes",
    ]:
        assert needle in text, needle
    assert "AND" in text and "converged after" in text
    assert "no convergence" in text


def test_main_runs_demo(capsys):
    assert cli.main(["demo"]) == 0
    assert "seed 003" in capsys.readouterr().out


def test_no_command_prints_help_and_returns_2(capsys):
    assert cli.main([]) == 2
    assert "demo" in capsys.readouterr().err


def test_version(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["--version"])
    assert exc.value.code == 0
    assert __version__ in capsys.readouterr().out


def test_python_dash_m_works():
    result = subprocess.run(
        [sys.executable, "-m", "lucidnet", "--help"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0
    assert "demo" in result.stdout


def test_demo_into_a_closed_pipe_is_quiet():
    # -u: unbuffered, so later lines are written after the reader has gone
    proc = subprocess.Popen(
        [sys.executable, "-u", "-m", "lucidnet", "demo"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout.readline().startswith(b"lucidnet demo")
    proc.stdout.close()
    stderr = proc.stderr.read().decode()
    proc.stderr.close()
    assert proc.wait(timeout=60) == 0
    assert "Traceback" not in stderr
