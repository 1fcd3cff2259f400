"""docs/deploy.md runs as written, as the tutorials do (tests/test_tutorials.py's rules)."""

from pathlib import Path

import pytest

pytest.importorskip("onnx", reason="the onnx extra is not installed")
pytest.importorskip("onnxruntime", reason="the onnx extra is not installed")

from lucidnet.cli import build_parser
from test_tutorials import parse, run_tutorial

PAGE = Path(__file__).resolve().parents[1] / "docs" / "deploy.md"


def test_the_deploy_page_runs_and_prints_what_it_says(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    printed = run_tutorial(PAGE, capsys)
    assert "probabilities" in printed and (tmp_path / "spirals.onnx").is_file()


def test_the_deploy_pages_commands_parse():
    parser = build_parser()
    commands = [
        line.split("#")[0].split()
        for block in parse(PAGE)
        if block.info == "sh"
        for line in block.code.splitlines()
        if line.startswith("lucidnet ")
    ]
    assert commands
    for argv in commands:
        parser.parse_args(argv[1:])
