"""The README's example runs as written."""

import re
from pathlib import Path

import pytest

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


FASHION = Path("/usr/share/datasets/fashion-mnist")


@pytest.mark.skipif(
    not FASHION.is_dir(),
    reason="Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)",
)
def test_readme_cnn_example_runs(capsys):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    code = next(b for b in blocks if "ln.Conv2D(" in b)
    scope = {}
    exec(compile(code, str(README), "exec"), scope)
    out = capsys.readouterr().out
    assert "max_pool2d_1 (MaxPool2D)  (batch, 5, 5, 64)" in out
    assert "Total params: 225,034" in out
    assert scope["x"].shape == (60000, 28, 28, 1)
    assert scope["model"].execution_order[:3] == (0, 2, 1)


ROOT = README.parent
PAGES = [README, *sorted((ROOT / "docs").rglob("*.md"))]


def _references(text):
    """Link targets (``[...](target)``, external ones left out) and any path with ``../``."""
    links = re.findall(r"\]\(([^)\s]+)\)", text)
    links = [t.split("#")[0] for t in links if not re.match(r"[a-z]+:|#", t)]
    climbing = re.findall(r"(?:\.\./)+[\w.\-/]*", text)
    return [t for t in links if t], climbing


def test_every_reference_of_the_docs_stays_inside_the_repository():
    assert len(PAGES) > 5
    problems = []
    for page in PAGES:
        links, climbing = _references(page.read_text(encoding="utf-8"))
        for target in [*links, *climbing]:
            resolved = (page.parent / target).resolve()
            where = f"{page.relative_to(ROOT)}: {target}"
            if not resolved.is_relative_to(ROOT):
                problems.append(f"{where} leaves the repository")
            elif not resolved.exists():
                problems.append(f"{where} does not exist")
    assert not problems, problems


def test_the_reference_check_catches_a_path_outside():
    links, climbing = _references("see [x](../../elsewhere.md) and `../shared/seeds/`")
    assert links == ["../../elsewhere.md"] and climbing == [
        "../../elsewhere.md",
        "../shared/seeds/",
    ]
    assert not (README.parent / "../shared/seeds/").resolve().is_relative_to(ROOT)
