"""The tutorials in docs/tutorials/ run as written, and print the numbers their prose states.

Conventions of the tutorial files (also in docs/tutorials/README.md):

- every ```python block runs, in order, in one namespace per file, in an empty temporary
  working directory;
- a ```text block that directly follows a ```python block is that block's printed output:
  it must match what the block prints. Numbers may differ by one unit in their last
  printed digit (another CPU rounds float32 training a little differently); whole numbers
  must be equal; ``...`` stands for any text (values that depend on the machine);
- ```python fashion-mnist blocks need Fashion-MNIST, which not every machine has: they
  run (and their output is checked) where the data is installed, and are skipped, with
  the reason, elsewhere;
- ```sh blocks are shown, not run; their ``lucidnet ...`` lines must parse.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import NamedTuple

import pytest

from lucidnet.cli import build_parser

TUTORIALS = Path(__file__).resolve().parents[1] / "docs" / "tutorials"
FILES = sorted(TUTORIALS.glob("[0-9][0-9]-*.md"))

_FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```[ \t]*$", re.S | re.M)
_NUMBER = r"(?<![\w.])(-?\d+(?:\.\d+)?(?:e[+-]?\d+)?)(?![\w.])"


class Block(NamedTuple):
    info: str  # the fence's info string: "python", "text", "sh", "python fashion-mnist"
    code: str
    line: int  # the line of the opening fence, 1-based
    output: str | None  # for a python block: the text block right after it, if any


def parse(path: Path) -> list[Block]:
    """The fenced blocks of a Markdown file, each python block paired with its output."""
    text = path.read_text(encoding="utf-8")
    found = [
        (m.group(1).strip(), m.group(2), text.count("\n", 0, m.start()) + 1, m.start(), m.end())
        for m in _FENCE.finditer(text)
    ]
    blocks = []
    for i, (info, code, line, _, end) in enumerate(found):
        output = None
        if info.startswith("python") and i + 1 < len(found):
            next_info, next_code, _, next_start, _ = found[i + 1]
            if next_info == "text" and not text[end:next_start].strip():
                output = next_code
        blocks.append(Block(info, code, line, output))
    return blocks


def _tidy(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip("\n").splitlines())


def _unit(number: str) -> float | None:
    """One unit in the last digit of a printed float; None for a whole number."""
    mantissa, _, exponent = number.lower().partition("e")
    if "." not in mantissa and not exponent:
        return None
    decimals = len(mantissa.partition(".")[2])
    return 10.0 ** (int(exponent or 0) - decimals)


def output_mismatch(expected: str, actual: str) -> str | None:
    """Why ``actual`` does not match the documented output ``expected``, or None if it does.

    Whitespace runs match any whitespace, ``...`` matches any text, and each number
    matches a number within one unit of its last printed digit (whole numbers exactly).
    """
    expected, actual = _tidy(expected), _tidy(actual)
    numbers: list[str] = []
    pattern = []
    for i, literal in enumerate(expected.split("...")):
        if i:
            pattern.append(".*?")
        for j, piece in enumerate(re.split(_NUMBER, literal)):
            if j % 2:  # a number
                numbers.append(piece)
                pattern.append(_NUMBER)
            else:
                words = re.split(r"\s+", piece)
                pattern.append(r"\s+".join(re.escape(w) for w in words))
    match = re.fullmatch("".join(pattern), actual, re.S)
    if match is None:
        return f"the text differs:\n--- documented\n{expected}\n--- printed\n{actual}"
    for want, got in zip(numbers, match.groups(), strict=True):
        unit = _unit(want)
        if (unit is None and got != want) or (
            unit is not None and abs(float(got) - float(want)) > 1.0001 * unit
        ):
            return f"printed {got} where the text says {want}:\n{actual}"
    return None


def run_tutorial(path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    """Run every python block of ``path`` in one namespace; check each documented output.

    Returns everything the blocks printed.
    """
    namespace: dict[str, object] = {"__name__": f"tutorial_{path.stem.replace('-', '_')}"}
    printed = []
    blocks = [b for b in parse(path) if b.info == "python"]
    assert blocks, f"{path.name} has no python block"
    capsys.readouterr()
    for block in blocks:
        # Blank lines in front, so that a traceback names the line of the Markdown file.
        code = compile("\n" * block.line + block.code, str(path), "exec")
        exec(code, namespace)
        out = capsys.readouterr().out
        printed.append(out)
        problem = None if block.output is None else output_mismatch(block.output, out)
        if problem is not None:
            pytest.fail(f"{path.name}, block at line {block.line}: {problem}", pytrace=False)
    return "".join(printed)


# A few key lines of each tutorial, checked once more by name (the seeds' worked examples).
KEY_NUMBERS = {
    "01-perceptron.md": ["AND converged after 6 epochs", "XOR did not converge"],
    "02-layers-and-forward.md": ["z1 = [0.8 1.2]", "z2 = 1.36", "y_hat = 0.796"],
    "03-backprop-and-gradcheck.md": [
        "z = 0.4100",
        "output = 0.6011",
        "delta = 0.0480",
        "new weights = [ 0.0976 -0.2942]",
        "gradient check PASSED",
    ],
    "04-training.md": ["EarlyStopping"],
    "05-real-data-and-cli.md": ["saved", "x_train (48, 784)"],
    "06-convolution.md": [
        "same as by hand: True",
        "dL/dx the same: True",
        "gradient check PASSED",
        "Total params: 6,122",
    ],
}


def test_there_are_six_tutorials_and_each_has_key_numbers():
    assert [f.name for f in FILES] == sorted(KEY_NUMBERS)


@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
def test_tutorial_runs_and_prints_its_numbers(path, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LUCIDNET_DATA", raising=False)
    printed = run_tutorial(path, capsys)
    for key in KEY_NUMBERS[path.name]:
        assert key in printed, f"{path.name} should print {key!r}"


@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
def test_blocks_that_do_not_run_still_compile_and_parse(path):
    parser = build_parser()
    for block in parse(path):
        if block.info.startswith("python") and block.info != "python":
            compile(block.code, f"{path}:{block.line}", "exec")
        if block.info == "sh":
            for line in block.code.splitlines():
                argv = shlex.split(line, comments=True)
                if argv and argv[0] == "lucidnet":
                    parser.parse_args(argv[1:])  # a usage error raises SystemExit


def test_index_links_every_tutorial():
    index = (TUTORIALS / "README.md").read_text(encoding="utf-8")
    for path in FILES:
        assert f"]({path.name})" in index


@pytest.mark.parametrize(
    ("expected", "actual", "ok"),
    [
        ("y_hat = 0.796", "y_hat = 0.796\n", True),
        ("y_hat = 0.796", "y_hat = 0.797", True),  # one unit in the last digit
        ("y_hat = 0.796", "y_hat = 0.798", False),
        ("after 6 epochs", "after 7 epochs", False),  # whole numbers are exact
        ("[0.8 1.2]", "[0.8  1.2]", True),
        ("error 1e-06", "error 1.0e-06", True),
        ("took ... s\nloss 0.25", "took 0.123 s\nloss 0.25", True),
        ("loss 0.25", "loss 0.25 extra", False),
        ("w = -0.30", "w = 0.30", False),
    ],
)
def test_output_matching(expected, actual, ok):
    assert (output_mismatch(expected, actual) is None) is ok


def _fashion_mnist_installed() -> bool:
    from lucidnet.datasets import DatasetNotFoundError, load_fashion_mnist

    try:
        load_fashion_mnist(download=False)
    except DatasetNotFoundError:
        return False
    return True


def test_fashion_mnist_blocks_run_where_the_data_is(tmp_path, monkeypatch, capsys):
    blocks = [(path, b) for path in FILES for b in parse(path) if b.info == "python fashion-mnist"]
    assert blocks, "the tutorials train on Fashion-MNIST somewhere"
    if not _fashion_mnist_installed():
        pytest.skip("Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)")
    monkeypatch.chdir(tmp_path)
    for path, block in blocks:
        capsys.readouterr()
        exec(compile("\n" * block.line + block.code, str(path), "exec"), {})
        out = capsys.readouterr().out
        problem = None if block.output is None else output_mismatch(block.output, out)
        assert problem is None, f"{path.name}, block at line {block.line}: {problem}"
