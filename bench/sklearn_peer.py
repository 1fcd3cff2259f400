"""Run scikit-learn's own tests of its MLPs and its Perceptron against lucidnet's
estimators, with only the estimator imports changed (issue 16's peer run).

The two test files are copied from the installed scikit-learn into a temporary folder at
run time (never kept in this repository); in the copies::

    from sklearn.neural_network import MLPClassifier, MLPRegressor
    from sklearn.linear_model import Perceptron

become ``from lucidnet.sklearn import ...``. pytest then runs them; this script prints
the count of passing tests and, for each failing one, the first line of its error.

    .venv/bin/python bench/sklearn_peer.py [--verbose]

It is a measuring tool for now (issue 16 is open): ``make test`` does not run it.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

FILES = {
    "test_mlp.py": ("neural_network/tests/test_mlp.py", "neural_network"),
    "test_perceptron.py": ("linear_model/tests/test_perceptron.py", "linear_model"),
}
SWAPS = [
    (
        r"^from sklearn\.neural_network import MLPClassifier, MLPRegressor$",
        "from lucidnet.sklearn import MLPClassifier, MLPRegressor",
    ),
    (r"^from sklearn\.linear_model import Perceptron$", "from lucidnet.sklearn import Perceptron"),
]


def copy_tests(folder: Path) -> list[Path]:
    """The two test files, their estimator imports swapped; raises if an import moved."""
    import sklearn

    root = Path(sklearn.__file__).parent
    out = []
    for name, (relative, _) in FILES.items():
        text = (root / relative).read_text(encoding="utf-8")
        swapped = 0
        for pattern, replacement in SWAPS:
            text, n = re.subn(pattern, replacement, text, flags=re.M)
            swapped += n
        if swapped != 1:
            raise SystemExit(f"{relative}: expected one estimator import to swap, found {swapped}")
        path = folder / name
        path.write_text(text, encoding="utf-8")
        out.append(path)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--verbose", action="store_true", help="pytest's whole output")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        paths = copy_tests(Path(tmp))
        run = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-rfE", "-p", "no:cacheprovider", "--tb=line"]
            + [str(p) for p in paths],
            capture_output=True,
            text=True,
            cwd=tmp,
        )
    output = run.stdout + run.stderr
    if args.verbose:
        print(output)
    for line in output.splitlines():
        if line.startswith(("FAILED", "ERROR")):
            print(line[:300])
    summary = [line for line in output.splitlines() if re.search(r"\d+ (passed|failed)", line)]
    print(summary[-1] if summary else output[-2000:])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
