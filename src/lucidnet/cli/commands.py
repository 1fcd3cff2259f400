"""The small commands: ``evaluate``, ``predict``, ``summary``, ``gradcheck``, ``demo``."""

from __future__ import annotations

import argparse
import sys
from itertools import pairwise

import numpy as np

from .data import load_data
from .train import _format_metrics, _parse_layers

EXIT_ERROR = 1  # the exit code of an expected problem (see main), and of a failed gradcheck


def cmd_evaluate(args: argparse.Namespace) -> int:
    from ..serialization import load

    model = load(args.model)
    if model.loss is None:
        raise ValueError(f"{args.model}: the model was saved without a loss; cannot evaluate")
    task = "classify" if model.is_classifier else "regress"
    data = load_data(args.data, seed=args.seed, target=args.target, task=task)
    model.check_input(data.x_test, f"--data {args.data}")
    print(f"test        {_format_metrics(model.evaluate(data.x_test, data.y_test, 1024))}")
    return 0


def _read_inputs(path: str) -> np.ndarray:
    from ..datasets import read_csv
    from ..validation import check_finite

    if path.lower().endswith(".npy"):
        try:  # memory-mapped: a header that lies about the shape fails here, cheaply
            x = np.load(path, allow_pickle=False, mmap_mode="r")
        except ValueError as err:
            raise ValueError(f"{path}: not a plain numeric .npy array ({err})") from None
        if not isinstance(x, np.ndarray) or x.ndim != 2 or x.dtype.kind not in "iuf":
            kind = f"{x.dtype} {x.shape}" if isinstance(x, np.ndarray) else type(x).__name__
            raise ValueError(f"{path}: expected a 2-D numeric array, got {kind}")
        x = np.array(x)
        check_finite(x, path)
        return x
    if path.lower().endswith(".csv"):
        table = read_csv(path, target=None)
        return table.X
    raise ValueError(f"{path}: expected a .csv or .npy file")


def cmd_predict(args: argparse.Namespace) -> int:
    from ..metrics import predicted_labels
    from ..serialization import load

    model = load(args.model)
    x = _read_inputs(args.input)
    model.check_input(x, args.input)
    out = model.predict_proba(x, batch_size=1024)
    result = out if (args.proba or not model.is_classifier) else predicted_labels(out)
    if args.out:
        if args.out.lower().endswith(".npy"):
            np.save(args.out, result, allow_pickle=False)
        else:
            np.savetxt(args.out, result, delimiter=",", fmt="%d" if result.ndim == 1 else "%.6g")
        print(f"wrote {len(result)} predictions to {args.out}")
    else:
        for row in np.atleast_1d(result):
            print(row if np.ndim(row) == 0 else ",".join(f"{v:.6g}" for v in row))
    return 0


def cmd_summary(args: argparse.Namespace) -> int:
    from ..serialization import load

    model = load(args.model)
    model.summary()
    if model.loss is not None:
        print(f"Loss: {model.loss!r}  Optimizer: {model.optimizer!r}")
    return 0


def cmd_gradcheck(args: argparse.Namespace) -> int:
    from .. import activations, gradcheck
    from ..layers import Dense
    from ..model import Sequential

    sizes = _parse_layers(args.layers)
    if args.batch < 1:
        raise ValueError(f"--batch must be >= 1, got {args.batch}")
    if len(sizes) < 2:
        raise ValueError("--layers needs at least an input and an output size, like 4,5,3")
    rng = np.random.default_rng(args.seed)
    layers = []
    for n_in, n_out in pairwise(sizes):
        layers += [Dense(n_in, n_out, seed=rng), activations.get(args.activation)]
    model = Sequential(layers)
    x = rng.standard_normal((args.batch, sizes[0]))
    report = gradcheck(model, x, seed=args.seed)
    model.summary()
    print(report)
    return 0 if report.passed else EXIT_ERROR


def cmd_demo(args: argparse.Namespace) -> int:
    from ..demo import run

    run(sys.stdout)
    return 0
