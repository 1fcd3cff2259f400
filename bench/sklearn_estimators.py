"""Training speed of the scikit-learn estimators: ``lucidnet.sklearn.MLPClassifier`` at a
base commit and in the working tree, against ``sklearn.neural_network.MLPClassifier``,
in float32 and in float64 (issue 16's change of the estimators' training loop).

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv-bench/bin/python \\
        bench/sklearn_estimators.py --base COMMIT [--rounds 5] [--rows 10000]

Each measurement is one fresh process timing ``fit`` (3 epochs of Adam, batch 128, a
784-256-128-10 network, ``tol=0`` so no epoch stops it; the network's construction is
included) on ``rows`` synthetic rows of 784 features and 10 classes, in the dtype under
test (the data given in that dtype, and ``dtype=`` passed to lucidnet). The base commit
is exported with ``git archive``; both versions are imported from their own ``src``.
Contenders run in rounds whose order rotates; the report gives medians, ranges and the
ratios new ÷ base and new ÷ scikit-learn (> 1: new is faster).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

WORKER = r"""
import json, sys, time, warnings
import numpy as np
which, dtype, rows = sys.argv[1], sys.argv[2], int(sys.argv[3])
rng = np.random.default_rng(0)
X = rng.standard_normal((rows, 784)).astype(dtype)
y = rng.integers(0, 10, rows)
kw = dict(hidden_layer_sizes=(256, 128), batch_size=128, max_iter=3, tol=0.0,
          n_iter_no_change=1000, random_state=0, alpha=0.0)
if which == "sklearn":
    from sklearn.neural_network import MLPClassifier
else:
    from lucidnet.sklearn import MLPClassifier
    kw["dtype"] = dtype
    import lucidnet
    assert lucidnet.__file__.startswith(sys.argv[4]), (lucidnet.__file__, sys.argv[4])
est = MLPClassifier(**kw)
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    start = time.perf_counter()
    est.fit(X, y)
    seconds = time.perf_counter() - start
assert str(est.coefs_[0].dtype) == dtype, est.coefs_[0].dtype
print(json.dumps({"seconds": seconds, "epochs": int(est.n_iter_)}))
"""


def run(which: str, src: Path | None, dtype: str, rows: int) -> float:
    env = {
        k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
    }
    env["OMP_NUM_THREADS"] = env["OPENBLAS_NUM_THREADS"] = "2"
    if src is not None:
        env["PYTHONPATH"] = str(src)
    args = [sys.executable, "-c", WORKER, which, dtype, str(rows), str(src or "")]
    out = subprocess.run(args, env=env, capture_output=True, text=True, check=True).stdout
    return float(json.loads(out.strip().splitlines()[-1])["seconds"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="the commit to compare with")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--rows", type=int, default=10000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "base"
        base.mkdir()
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", args.base, "src"], capture_output=True, check=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(base)], input=archive, check=True)
        contenders = {"base": base / "src", "new": ROOT / "src", "sklearn": None}
        for dtype in ("float32", "float64"):
            times: dict[str, list[float]] = {name: [] for name in contenders}
            names = list(contenders)
            for r in range(args.rounds):
                order = names[r % 3 :] + names[: r % 3]
                for name in order:
                    which = "sklearn" if name == "sklearn" else "lucidnet"
                    times[name].append(run(which, contenders[name], dtype, args.rows))
            med = {name: statistics.median(t) for name, t in times.items()}
            print(f"\n{dtype}, {args.rows} rows, 3 epochs, batch 128 ({args.rounds} rounds)")
            print("| contender | median s | range s |")
            print("|---|---|---|")
            for name, t in times.items():
                print(f"| {name} | {med[name]:.3f} | {min(t):.3f}-{max(t):.3f} |")
            ratios = [b / n for b, n in zip(times["base"], times["new"], strict=True)]
            vs_sk = [s / n for s, n in zip(times["sklearn"], times["new"], strict=True)]
            print(
                f"new ÷ base speed {med['base'] / med['new']:.2f}x (rounds "
                f"{min(ratios):.2f}-{max(ratios):.2f}); new ÷ scikit-learn "
                f"{med['sklearn'] / med['new']:.2f}x (rounds {min(vs_sk):.2f}-{max(vs_sk):.2f})"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
