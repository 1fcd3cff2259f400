"""docs/architecture.md: its worked example ("how to add a layer") runs as written and
prints what the page shows."""

import re
from pathlib import Path

PAGE = Path(__file__).resolve().parents[1] / "docs" / "architecture.md"


def test_add_a_layer_example_runs_and_prints_what_the_page_shows(tmp_path, monkeypatch, capsys):
    text = PAGE.read_text(encoding="utf-8")
    code = re.findall(r"```python\n(.*?)```", text, re.S)[-1]
    expected = text.split(code, 1)[1]
    expected = re.search(r"```text\n(.*?)```", expected, re.S).group(1)
    monkeypatch.chdir(tmp_path)
    exec(compile(code, str(PAGE), "exec"), {"__name__": "architecture_example"})
    assert capsys.readouterr().out == expected
    assert (tmp_path / "scale.lucid").exists()


def test_page_names_every_module_of_the_core():
    text = PAGE.read_text(encoding="utf-8")
    src = PAGE.parents[1] / "src" / "lucidnet"
    for name in ("parameters.py", "registry.py", "model.py", "layers/", "training/"):
        assert (src / name.rstrip("/")).exists(), name
        assert name in text, name
