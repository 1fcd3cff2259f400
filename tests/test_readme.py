"""The README's example runs as written."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_opens_with_the_two_commands():
    first_block = re.search(r"```sh\n(.*?)```", README.read_text(), re.S).group(1)
    commands = [line.split("#")[0].strip() for line in first_block.splitlines()]
    assert commands == ["make demo", "make test"]


def test_readme_python_example_runs(capsys):
    code = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)[0]
    exec(compile(code, str(README), "exec"), {})
    out = capsys.readouterr().out
    assert "Total params: 33" in out
    assert "gradient check PASSED" in out


def test_readme_training_example_runs(capsys):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    code = next(b for b in blocks if "model.compile(" in b)
    exec(compile(code, str(README), "exec"), {})
    out = capsys.readouterr().out
    assert "'accuracy'" in out


def test_readme_sklearn_example_runs(capsys):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    code = next(b for b in blocks if "lucidnet.sklearn" in b)
    exec(compile(code, str(README), "exec"), {})
    assert float(capsys.readouterr().out) > 0.9


def test_readme_explain_example_runs(capsys):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    code = next(b for b in blocks if "ln.explain(" in b)
    exec(compile(code, str(README), "exec"), {})
    out = capsys.readouterr().out
    assert out.startswith("[[0.8 1.2]] [[1.36]] [[0.79575")
    assert "Backward pass" in out
