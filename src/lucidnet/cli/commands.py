"""The small commands: ``evaluate``, ``predict``, ``summary``, ``gradcheck``, ``demo``."""

from __future__ import annotations

import argparse
import sys
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..data_contract import DataContract
from .data import load_data

if TYPE_CHECKING:
    from ..model import Sequential
from .train import _format_metrics, _parse_layers

EXIT_ERROR = 1  # the exit code of an expected problem (see main), and of a failed gradcheck


def _contract(model: Sequential, where: str) -> DataContract | None:
    """The model's data contract, or None for a model file written without one."""
    data = model.info.get("data")
    return None if data is None else DataContract.from_json(data, where)


def cmd_evaluate(args: argparse.Namespace) -> int:
    from ..datasets.tabular import read_raw
    from ..serialization import load

    model = load(args.model)
    if model.loss is None:
        raise ValueError(f"{args.model}: the model was saved without a loss; cannot evaluate")
    contract = _contract(model, args.model)
    source = args.data
    if source is None and contract is not None:  # the data it was trained on
        source = contract.split.get("path", contract.source)
        if contract.features is not None and not Path(source).is_file():
            raise ValueError(
                f"{args.model}: its training file {source} is not there any more; give --data"
            )
    if source is None:
        raise ValueError(f"{args.model}: saved without its data contract; give --data")
    if contract is not None and contract.features is not None:  # a CSV model
        if not source.lower().endswith(".csv"):
            raise ValueError(f"--data {source}: this model reads CSV files ({contract.source})")
        for option in ("target", "seed"):
            if getattr(args, option) is not None:
                raise ValueError(
                    f"--{option}: the model file stores its target column and split; leave it out"
                )
        table = read_raw(source)
        rows, what = contract.rows_to_score(table)
        x, y = contract.encode(table, rows), contract.targets(table, rows)
        print(f"scoring {source}: {what}")
    else:
        task = "classify" if model.is_classifier else "regress"
        stored = None if contract is None else contract.split.get("seed")
        if args.seed is not None and stored is not None and args.seed != stored:
            raise ValueError(
                f"--seed {args.seed}: the model was trained on the split of seed {stored}; "
                "another seed would score some of its training rows"
            )
        seed = stored if stored is not None else (0 if args.seed is None else args.seed)
        data = load_data(source, seed=seed, target=args.target or "-1", task=task)
        x, y = data.x_test, data.y_test
        if contract is None:
            print(f"note: {args.model} has no data contract: scoring a re-split test set")
        print(f"scoring the {len(x)} test rows of {source}")
    model.check_input(x, f"--data {source}")
    print(f"test        {_format_metrics(model.evaluate(x, y, 1024))}")
    return 0


def _read_inputs(path: str, contract: DataContract | None) -> np.ndarray:
    from ..datasets import read_csv
    from ..datasets.tabular import read_raw
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
    if path == "-" or path.lower().endswith(".csv"):
        stdin = sys.stdin.read() if path == "-" else None
        if contract is not None and contract.features is not None:
            return contract.encode(read_raw(path, stdin=stdin))
        if stdin is not None:
            raise ValueError("-: standard input is read as CSV, for a model trained on a CSV file")
        table = read_csv(path, target=None)
        return table.X
    raise ValueError(f"{path}: expected a .csv or .npy file, or - for standard input")


def cmd_predict(args: argparse.Namespace) -> int:
    from ..metrics import predicted_labels
    from ..serialization import load

    model = load(args.model)
    contract = _contract(model, args.model)
    x = _read_inputs(args.input, contract)
    model.check_input(x, args.input)
    out = model.predict_proba(x, batch_size=1024)
    # named predictions (CSV with a header) from a model that knows its data; a .npy
    # file gets the numbers (class indices or probabilities) as before
    named = contract is not None and not (args.out or "").lower().endswith(".npy")
    if args.proba and not model.is_classifier:
        raise ValueError("--proba: the model predicts numbers, not classes")
    if named:
        header, rows = _named_predictions(out, contract, args.proba, model.is_classifier)
        text = "\n".join([",".join(header), *(",".join(row) for row in rows)]) + "\n"
        if args.out:
            from ..serialization import _write_atomically

            _write_atomically(Path(args.out), text.encode("utf-8"))
            print(f"wrote {len(rows)} predictions to {args.out}")
        else:
            sys.stdout.write(text)
        return 0
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


def _named_predictions(
    out: np.ndarray, contract: DataContract, proba: bool, classifier: bool
) -> tuple[list[str], list[list[str]]]:
    """A header and rows of text: the predicted class names (or numbers), and with
    ``proba`` one probability column per class name."""
    from ..metrics import predicted_labels

    target = contract.target or "prediction"
    if not classifier:
        values = np.asarray(out).reshape(len(out), -1)
        header = (
            [target] if values.shape[1] == 1 else [f"{target}[{k}]" for k in range(values.shape[1])]
        )
        return header, [[f"{v:.9g}" for v in row] for row in values]  # float32: every digit
    labels = predicted_labels(out)
    names = [_csv_cell(contract.class_name(int(k))) for k in range(_n_classes(out))]
    if not proba:
        return [target], [[names[int(k)]] for k in labels]
    probs = np.asarray(out).reshape(len(out), -1)
    if probs.shape[1] == 1:  # one sigmoid output: P(class 1)
        probs = np.hstack([1 - probs, probs])
    header = [target] + [_csv_cell(f"P({name})") for name in names]
    return header, [
        [names[int(k)], *(f"{p:.6g}" for p in row)] for k, row in zip(labels, probs, strict=True)
    ]


def _n_classes(out: np.ndarray) -> int:
    out = np.asarray(out)
    return 2 if out.ndim == 1 or out.shape[1] == 1 else out.shape[1]


def _csv_cell(value: object) -> str:
    """A value as one CSV cell (quoted when it holds a comma, a quote or a line break)."""
    text = str(value)
    if any(c in text for c in ',"\n\r'):
        return '"' + text.replace('"', '""') + '"'
    return text


def cmd_summary(args: argparse.Namespace) -> int:
    from ..serialization import load

    model = load(args.model)
    model.summary()
    if model.loss is not None:
        print(f"Loss: {model.loss!r}  Optimizer: {model.optimizer!r}")
    return 0


def parse_shape(
    text: str, option: str, expected: str, length: int | None = None
) -> tuple[int, ...]:
    """A per-sample shape given as ``10,10,1``: whole numbers >= 1 (``length`` of them, if
    given); raises ValueError naming ``option`` and what was ``expected``."""
    try:
        shape = tuple(int(part) for part in text.split(","))
    except ValueError:
        shape = ()
    if not shape or (length is not None and len(shape) != length) or min(shape) < 1:
        raise ValueError(f"{option} {text!r}: expected {expected}")
    return shape


def _parse_image(text: str) -> tuple[int, int, int]:
    return parse_shape(text, "--image", "HEIGHT,WIDTH,CHANNELS like 10,10,1", 3)  # type: ignore[return-value]


def cmd_gradcheck(args: argparse.Namespace) -> int:
    from .. import activations, gradcheck
    from ..layers import Conv2D, Dense, Flatten, Layer, MaxPool2D
    from ..model import Sequential
    from .train import _parse_conv, conv_shapes

    sizes = _parse_layers(args.layers)
    if args.batch < 1:
        raise ValueError(f"--batch must be >= 1, got {args.batch}")
    rng = np.random.default_rng(args.seed)
    layers: list[Layer] = []
    input_shape: tuple[int, ...]
    if args.conv:
        input_shape = _parse_image(args.image)
        shapes = conv_shapes(input_shape, _parse_conv(args.conv))  # type: ignore[arg-type]
        for before, after in pairwise(shapes):
            layers += [Conv2D(before[2], after[2], 3, seed=rng)]
            layers += [activations.get(args.activation), MaxPool2D(2)]
        layers.append(Flatten())
        sizes = [int(np.prod(shapes[-1])), *sizes]
    elif len(sizes) < 2:
        raise ValueError("--layers needs at least an input and an output size, like 4,5,3")
    else:
        input_shape = (sizes[0],)
    for n_in, n_out in pairwise(sizes):
        layers += [Dense(n_in, n_out, seed=rng), activations.get(args.activation)]
    model = Sequential(layers, input_shape=input_shape)
    x = rng.standard_normal((args.batch, *input_shape))
    report = gradcheck(model, x, seed=args.seed)
    model.summary()
    print(report)
    return 0 if report.passed else EXIT_ERROR


def cmd_demo(args: argparse.Namespace) -> int:
    from ..demo import run

    run(sys.stdout)
    return 0
