"""The ``lucidnet`` command (also ``python -m lucidnet``).

Subcommands: ``train``, ``evaluate``, ``predict``, ``summary``, ``gradcheck``, ``demo``,
``explain``.
Expected problems (a missing file, bad data, a bad option value, a model file that fails
validation, training that diverges) print one line on stderr and exit with 1; a usage
error (unknown option, missing argument) exits with 2, as argparse does.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from collections.abc import Sequence
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from . import __version__

if TYPE_CHECKING:
    from .model import Sequential

__all__ = ["build_model", "build_parser", "load_data", "main"]

EXIT_ERROR = 1

DATA_HELP = (
    "fashion-mnist, mnist, digits (scikit-learn's 8x8 digits), xor, spirals, or a CSV "
    "file (its last column is the target unless --target says otherwise)"
)


class Split(NamedTuple):
    """A data set split for training and testing, and what kind of task it is."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    classes: int | None  # None for regression
    class_names: list[str] | None = None  # names of the labels 0, 1, ..., where known


FASHION_MNIST_CLASSES = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
]
IMAGE_SHAPE = (28, 28)  # MNIST and Fashion-MNIST: 784 inputs are 28x28 images
DIAGRAM_MAX_UNITS = 64  # --plots draws the network diagram when no layer is wider


MAX_CLASSES = 1000


def _task(y: np.ndarray, task: str) -> int | None:
    """The number of classes, or None for regression.

    ``auto``: integer targets in ``[0, 1000)`` with at most 100 distinct values are class
    labels; anything else (fractions, negative or large numbers such as prices) is a
    number to predict.
    """
    labels = y.dtype.kind in "iu" and len(y) > 0 and y.min() >= 0 and y.max() < MAX_CLASSES
    if task == "regress" or (task == "auto" and not (labels and len(np.unique(y)) <= 100)):
        return None
    if not labels:
        raise ValueError(
            f"--task classify needs integer labels in [0, {MAX_CLASSES}), "
            f"got values from {y.min()} to {y.max()}"
        )
    return int(y.max()) + 1


def _holdout(x: np.ndarray, y: np.ndarray, fraction: float, seed: int, task: str) -> Split:
    if len(x) < 2:
        raise ValueError(f"the data has {len(x)} row(s); at least 2 are needed to train and test")
    order = np.random.default_rng(seed).permutation(len(x))
    cut = len(x) - max(1, round(len(x) * fraction))
    train, test = order[:cut], order[cut:]
    classes = _task(y, task)
    if classes is None:
        y = y.astype(np.float32)
    return Split(x[train], y[train], x[test], y[test], classes)


def load_data(source: str, seed: int = 0, target: str = "-1", task: str = "auto") -> Split:
    """The train/test split for a ``--data`` value (see ``DATA_HELP``)."""
    from . import datasets

    name = source.lower()
    if name in ("fashion-mnist", "fashion_mnist", "mnist"):
        loader = datasets.load_mnist if name == "mnist" else datasets.load_fashion_mnist
        (x_train, y_train), (x_test, y_test) = loader()
        names = None if name == "mnist" else FASHION_MNIST_CLASSES
        return Split(x_train, y_train, x_test, y_test, 10, names)
    if name == "digits":
        try:
            from sklearn.datasets import load_digits
        except ImportError as err:
            raise ValueError(
                "--data digits needs scikit-learn: pip install 'lucidnet[sklearn]'"
            ) from err
        digits = load_digits()
        x = (digits.data / 16.0).astype(np.float32)
        return _holdout(x, digits.target.astype(np.int64), 0.25, seed, "classify")
    if name == "xor":
        x, y = datasets.xor()
        return Split(x, y, x, y, 2)  # four points: the test set is the truth table itself
    if name == "spirals":
        x, y = datasets.spirals(600, classes=3, noise=0.2, seed=seed)
        return _holdout(x, y, 0.2, seed, "classify")
    if source.lower().endswith(".csv"):
        column: int | str = int(target) if target.lstrip("-").isdigit() else target
        table = datasets.read_csv(source, target=column)
        split = _holdout(table.X, table.y, 0.2, seed, task)
        return split._replace(class_names=table.classes if split.classes else None)
    raise ValueError(f"--data {source!r}: expected {DATA_HELP}")


def _parse_layers(text: str) -> list[int]:
    try:
        sizes = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ValueError(f"--layers {text!r}: expected sizes like 256,128") from None
    if any(size < 1 for size in sizes):
        raise ValueError(f"--layers {text!r}: every size must be >= 1")
    return sizes


def build_model(
    n_in: int,
    hidden: list[int],
    classes: int | None,
    activation: str,
    dropout: float,
    seed: int,
) -> Sequential:
    """An MLP: ``Dense -> activation [-> Dropout]`` per hidden size, then the output:
    softmax over ``classes``, or one linear output for regression."""
    from . import activations
    from .layers import Dense, Dropout
    from .model import Sequential

    rng = np.random.default_rng(seed)
    init = "he_normal" if activation in ("relu", "leaky_relu") else "glorot_uniform"
    layers = []
    width = n_in
    for size in hidden:
        layers += [Dense(width, size, init=init, seed=rng), activations.get(activation)]
        if dropout > 0:
            layers.append(Dropout(dropout))
        width = size
    if classes is None:
        layers.append(Dense(width, 1, seed=rng))
    else:
        layers += [Dense(width, classes, seed=rng), activations.Softmax()]
    return Sequential(layers)


def _format_metrics(results: dict[str, float]) -> str:
    return "  ".join(f"{k} {v:.4f}" for k, v in results.items())


def cmd_train(args: argparse.Namespace) -> int:
    from . import optimizers
    from .serialization import save
    from .validation import check_positive

    if not 0 <= args.dropout < 1:
        raise ValueError(f"--dropout must be in [0, 1), got {args.dropout}")
    for option, value in (("--epochs", args.epochs), ("--batch-size", args.batch_size)):
        if value < 1:
            raise ValueError(f"{option} must be >= 1, got {value}")
    if args.seed < 0:
        raise ValueError(f"--seed must be >= 0, got {args.seed}")
    out_folder = os.path.dirname(os.path.abspath(args.out))
    if not os.path.isdir(out_folder):
        raise ValueError(f"--out {args.out}: the folder {out_folder} does not exist")
    _check_picture_options(args)
    hidden = _parse_layers(args.layers)
    data = load_data(args.data, seed=args.seed, target=args.target, task=args.task)
    model = build_model(
        data.x_train.shape[1], hidden, data.classes, args.activation, args.dropout, args.seed
    )
    optimizer = optimizers.get(args.optimizer)
    optimizer.lr = check_positive(args.lr, "--lr")
    if data.classes is None:
        model.compile("mse", optimizer, metrics=["mae"])
    else:
        model.compile("crossentropy", optimizer, metrics=["accuracy"])
    print(model.summary())
    print(f"training on {len(data.x_train)} samples, testing on {len(data.x_test)}")
    callbacks = []
    if args.schedule == "cosine":
        from .callbacks import LearningRateScheduler
        from .schedules import CosineDecay

        callbacks.append(LearningRateScheduler(CosineDecay(optimizer.lr, args.epochs)))
    start = time.perf_counter()
    history = model.fit(
        data.x_train,
        data.y_train,
        epochs=args.epochs,
        batch_size=args.batch_size,
        validation_split=args.validation_split,
        verbose=args.verbose,
        seed=args.seed,
        callbacks=callbacks,
    )
    seconds = time.perf_counter() - start
    last = {k: v[-1] for k, v in history.history.items() if k != "lr"}
    train = {k: v for k, v in last.items() if not k.startswith("val_")}
    val = {k[4:]: v for k, v in last.items() if k.startswith("val_")}
    test = model.evaluate(data.x_test, data.y_test, batch_size=1024)
    print(f"trained {len(history.epoch)} epochs in {seconds:.1f}s")
    print(f"train       {_format_metrics(train)}")
    if val:
        print(f"validation  {_format_metrics(val)}")
    print(f"test        {_format_metrics(test)}")
    save(model, args.out)
    print(f"saved {args.out}")
    if args.plots:
        replay = None  # 2-D classification: the same network from its start, for the GIF
        if data.x_train.shape[1] == 2 and data.classes is not None:
            replay = build_model(2, hidden, data.classes, args.activation, args.dropout, args.seed)
            replay_optimizer = optimizers.get(args.optimizer)
            replay_optimizer.lr = args.lr
            replay.compile("crossentropy", replay_optimizer, metrics=["accuracy"])
        fit_kwargs = {"batch_size": args.batch_size, "seed": args.seed}
        written = _write_plots(model, history, data, args.plots, replay, args.epochs, fit_kwargs)
        print(f"wrote {len(written)} plots to {args.plots}: {', '.join(written)}")
    if args.report:
        from .report import training_report

        image_shape = IMAGE_SHAPE if data.x_test.shape[1] == np.prod(IMAGE_SHAPE) else None
        training_report(
            model,
            history,
            data.x_test,
            data.y_test,
            args.report,
            class_names=data.class_names,
            image_shape=image_shape,
            title=f"lucidnet: {os.path.basename(args.data)}",
        )
        print(f"wrote the report {args.report}")
    return 0


def _check_picture_options(args: argparse.Namespace) -> None:
    """Fail before training when --plots or --report cannot be written."""
    if not (args.plots or args.report):
        return
    from .plotting import INSTALL_HINT, require_matplotlib

    try:
        require_matplotlib()
    except ImportError:
        option = "--plots" if args.plots else "--report"
        raise ValueError(f"{option} needs matplotlib: {INSTALL_HINT}") from None
    if args.report:
        folder = os.path.dirname(os.path.abspath(args.report))
        if not os.path.isdir(folder):
            raise ValueError(f"--report {args.report}: the folder {folder} does not exist")
    if args.plots:
        if os.path.exists(args.plots) and not os.path.isdir(args.plots):
            raise ValueError(f"--plots {args.plots}: exists and is not a folder")
        os.makedirs(args.plots, exist_ok=True)


def _write_plots(
    model: Sequential,
    history: object,
    data: Split,
    folder: str,
    replay: Sequential | None = None,
    epochs: int = 1,
    fit_kwargs: dict[str, Any] | None = None,
) -> list[str]:
    """The pictures that fit this model and data, in ``folder``; their names.

    Always the training curves; for classification the confusion matrix on the test set;
    for 784 inputs (28x28 images) the first layer's weights; for 2 inputs the decision
    boundary (classification) and the activation maps, and, given ``replay`` (the same
    network, untrained and compiled), a GIF of the boundary while it trains ``epochs``
    epochs again (without the learning-rate schedule); and the network diagram when no
    layer is wider than ``DIAGRAM_MAX_UNITS``.
    """
    from . import plotting

    written: list[str] = []

    def path(name: str) -> str:
        written.append(name)
        return os.path.join(folder, name)

    plotting.training_curves(history, path("training_curves.png"))
    names, n_in = data.class_names, data.x_test.shape[1]
    if data.classes is not None:
        predicted = model.predict_proba(data.x_test, batch_size=1024)
        plotting.confusion_matrix(data.y_test, predicted, names, path("confusion_matrix.png"))
    if n_in == np.prod(IMAGE_SHAPE):
        plotting.first_layer_weights(model, path("first_layer_weights.png"), IMAGE_SHAPE)
    if n_in == 2:
        x, y = data.x_train, data.y_train
        if data.classes is not None:
            boundary = path("decision_boundary.png")
            plotting.decision_boundary(model, x, y, boundary, class_names=names)
        plotting.activation_maps(model, x, path("activation_maps.png"))
        if replay is not None:
            gif = path("decision_boundary_training.gif")
            frames = max(2, min(20, epochs + 1))
            plotting.boundary_animation(
                replay,
                x,
                y,
                gif,
                epochs=epochs,
                frames=frames,
                fit_kwargs=fit_kwargs,
                class_names=names,
            )
    widths = [n_in] + [getattr(layer, "out_features", 0) for layer in model.layers]
    if max(widths) <= DIAGRAM_MAX_UNITS:
        plotting.network_diagram(model, path("network_diagram.png"))
    return written


def cmd_evaluate(args: argparse.Namespace) -> int:
    from .serialization import load

    model = load(args.model)
    if model.loss is None:
        raise ValueError(f"{args.model}: the model was saved without a loss; cannot evaluate")
    task = "regress" if model.loss.name == "mse" else "classify"
    data = load_data(args.data, seed=args.seed, target=args.target, task=task)
    width = model.input_features
    if width is not None and data.x_test.shape[1] != width:
        raise ValueError(
            f"--data {args.data}: {data.x_test.shape[1]} features, but the model takes {width}"
        )
    print(f"test        {_format_metrics(model.evaluate(data.x_test, data.y_test, 1024))}")
    return 0


def _read_inputs(path: str) -> np.ndarray:
    from .datasets import read_csv
    from .validation import check_finite

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
    from .metrics import predicted_labels
    from .serialization import load

    model = load(args.model)
    x = _read_inputs(args.input)
    width = model.input_features
    if width is not None and x.shape[1] != width:
        raise ValueError(f"{args.input}: {x.shape[1]} columns, but the model takes {width}")
    out = model.predict_proba(x, batch_size=1024)
    is_classifier = model.loss is not None and model.loss.name != "mse"
    result = out if (args.proba or not is_classifier) else predicted_labels(out)
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
    from .serialization import load

    model = load(args.model)
    print(model.summary())
    if model.loss is not None:
        print(f"Loss: {model.loss!r}  Optimizer: {model.optimizer!r}")
    return 0


def cmd_gradcheck(args: argparse.Namespace) -> int:
    from . import activations, gradcheck
    from .layers import Dense
    from .model import Sequential

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
    print(model.summary())
    print(report)
    return 0 if report.passed else EXIT_ERROR


EXAMPLES = ("fruit", "neuron", "xor")


def _example(name: str) -> tuple[Any, list[float], dict[str, Any], float]:
    """``(model, x, target keyword, learning rate)`` of a worked example."""
    from . import seeds

    if name == "fruit":  # seed 003: an orange, round fruit; label 1 = orange
        return seeds.fruit_network(), [1.0, 1.0], {"y": [[1.0]]}, 0.1
    if name == "neuron":  # seed 002: dL/doutput given as 0.2
        neuron = seeds.neuron_example()
        x = [float(v) for v in seeds.NEURON_INPUT]
        return neuron, x, {"grad_output": seeds.NEURON_D_OUTPUT}, seeds.NEURON_LEARNING_RATE
    # seed 001: XOR's input (1, 0) through a fresh 2-4-1 network, target 1
    return seeds.xor_network(hidden=4, seed=0, dtype=np.float64), [1.0, 0.0], {"y": [[1.0]]}, 0.5


def _numbers(text: str, what: str) -> list[float]:
    try:
        return [float(v) for v in text.split(",")]
    except ValueError:
        msg = f"{what} must be numbers separated by commas, like 1,0.5; got {text!r}"
        raise ValueError(msg) from None


def cmd_explain(args: argparse.Namespace) -> int:
    from .activations import Softmax
    from .explain import explain
    from .serialization import _write_atomically, load

    if (args.model is None) == (args.example is None):
        raise ValueError("give a MODEL file or --example fruit|neuron|xor (one of the two)")
    if args.example is not None:
        model, x, target, lr = _example(args.example)
    else:
        if args.input is None:
            raise ValueError("--input is needed with a MODEL file, like --input 1,1")
        model, x, target, lr = load(args.model), [], {}, None
    if args.input is not None:
        x = _numbers(args.input, "--input")
    if args.target is not None:
        values = _numbers(args.target, "--target")
        last = model.layers[-1] if hasattr(model, "layers") else None
        if isinstance(last, Softmax) and len(values) == 1:  # a class label
            if not float(values[0]).is_integer():
                raise ValueError(
                    f"--target for a softmax network is a class label, got {args.target}"
                )
            target = {"y": [int(values[0])]}
        else:  # the output values (a one-hot row for a softmax network)
            target = {"y": [values]}
    if args.lr is not None:
        lr = args.lr
    if not 0 <= args.decimals <= 12:
        raise ValueError(f"--decimals must be in 0..12, got {args.decimals}")
    trace = explain(model, x, learning_rate=lr, **target)
    render = {"text": trace.to_text, "markdown": trace.to_markdown, "html": trace.to_html}
    output = render[args.format](decimals=args.decimals).rstrip("\n") + "\n"
    if args.out:
        _write_atomically(Path(args.out), output.encode())
        print(f"wrote {args.out}", file=sys.stderr)
    else:
        print(output, end="")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from .demo import run

    run(sys.stdout)
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, with one subcommand per job."""
    parser = argparse.ArgumentParser(
        prog="lucidnet",
        description="Neural networks from scratch on NumPy, every formula written out.",
    )
    parser.add_argument("--version", action="version", version=f"lucidnet {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    train = commands.add_parser(
        "train",
        help="train an MLP on a data set and save it",
        description="Train an MLP (Dense + activation [+ Dropout] per hidden layer, softmax "
        "output for labels, linear output for numeric targets) and save it.",
    )
    train.add_argument("--data", default="fashion-mnist", help=DATA_HELP)
    train.add_argument("--target", default="-1", help="CSV target column: name or index")
    train.add_argument(
        "--task",
        default="auto",
        choices=["auto", "classify", "regress"],
        help="for CSV data: auto treats small non-negative integer targets as classes",
    )
    train.add_argument("--layers", default="256,128", help="hidden sizes (default 256,128)")
    train.add_argument("--activation", default="relu", help="hidden activation (default relu)")
    train.add_argument("--dropout", type=float, default=0.2, help="dropout rate (default 0.2)")
    train.add_argument("--optimizer", default="adam", help="sgd, rmsprop, adam, adamw")
    train.add_argument("--lr", type=float, default=1e-3, help="learning rate (default 1e-3)")
    train.add_argument(
        "--schedule",
        default="constant",
        choices=["constant", "cosine"],
        help="learning rate: constant, or cosine decay from --lr over the epochs",
    )
    train.add_argument("--epochs", type=int, default=15, help="default 15")
    train.add_argument("--batch-size", type=int, default=128, help="default 128")
    train.add_argument(
        "--validation-split", type=float, default=0.1, help="held-out fraction (default 0.1)"
    )
    train.add_argument("--seed", type=int, default=0, help="default 0")
    train.add_argument("--verbose", type=int, default=1, choices=[0, 1, 2])
    train.add_argument("--out", default="model.lucid", help="where to save the model")
    train.add_argument(
        "--plots",
        metavar="DIR",
        help="write plots into DIR (created if missing): training curves, confusion "
        "matrix, first-layer weights (28x28 inputs), decision boundary, its GIF during "
        "training and activation maps (2 inputs), network diagram (layers up to "
        f"{DIAGRAM_MAX_UNITS} wide); needs matplotlib",
    )
    train.add_argument(
        "--report",
        metavar="FILE.html",
        help="write a standalone HTML training report (summary, curves, test metrics, "
        "confusion matrix, sample predictions); needs matplotlib",
    )
    train.set_defaults(run=cmd_train)

    evaluate = commands.add_parser("evaluate", help="test a saved model on a data set's test split")
    evaluate.add_argument("model", help="a .lucid model file")
    evaluate.add_argument("--data", default="fashion-mnist", help=DATA_HELP)
    evaluate.add_argument("--target", default="-1", help="CSV target column: name or index")
    evaluate.add_argument("--seed", type=int, default=0, help="seed of the split (default 0)")
    evaluate.set_defaults(run=cmd_evaluate)

    predict = commands.add_parser("predict", help="predict for the rows of a CSV or .npy file")
    predict.add_argument("model", help="a .lucid model file")
    predict.add_argument("input", help="INPUT.csv (numbers only) or INPUT.npy (2-D)")
    predict.add_argument("--out", help="write to FILE (.csv or .npy) instead of printing")
    predict.add_argument("--proba", action="store_true", help="class probabilities")
    predict.set_defaults(run=cmd_predict)

    summary = commands.add_parser("summary", help="show a saved model's layers")
    summary.add_argument("model", help="a .lucid model file")
    summary.set_defaults(run=cmd_summary)

    check = commands.add_parser(
        "gradcheck", help="gradient-check a small random network and print the report"
    )
    check.add_argument("--layers", default="4,5,3", help="sizes, input first (default 4,5,3)")
    check.add_argument("--activation", default="tanh", help="default tanh")
    check.add_argument("--batch", type=int, default=6, help="inputs to check (default 6)")
    check.add_argument("--seed", type=int, default=0, help="default 0")
    check.set_defaults(run=cmd_gradcheck)

    demo = commands.add_parser(
        "demo",
        help="a short tour of the four seed stories, numbers printed",
        description="Reproduce the worked examples of the source documents, in seconds.",
    )
    demo.set_defaults(run=cmd_demo)

    explain = commands.add_parser(
        "explain",
        help="one sample through a network, number by number",
        description="Trace one sample forward, through the loss and backward, layer by layer, "
        "and (with --lr) one gradient-descent step: a worked example of the seeds "
        "(--example) or a saved model with --input and --target.",
    )
    explain.add_argument("model", nargs="?", help="a .lucid model file")
    explain.add_argument("--example", choices=EXAMPLES, help="a worked example of the seeds")
    explain.add_argument("--input", help="the sample, like 1,1")
    explain.add_argument(
        "--target", help="its target: values like 1 or 0,1; a class label for a softmax network"
    )
    explain.add_argument("--lr", type=float, help="learning rate of one update step")
    explain.add_argument("--format", choices=("text", "markdown", "html"), default="text")
    explain.add_argument("--decimals", type=int, default=4, help="default 4")
    explain.add_argument("--out", help="write to FILE instead of printing")
    explain.set_defaults(run=cmd_explain)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    from .datasets import DatasetNotFoundError, IDXError
    from .serialization import ModelFileError
    from .training import TrainingDiverged

    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    expected = (
        ValueError,
        OSError,
        ModelFileError,
        IDXError,
        DatasetNotFoundError,
        TrainingDiverged,
    )
    try:
        return args.run(args)
    except BrokenPipeError:
        # The reader stopped early (``lucidnet demo | head``): not an error. Point stdout
        # at devnull so that the interpreter's final flush stays quiet.
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print("lucidnet: interrupted", file=sys.stderr)
        return 130
    except expected as err:
        print(f"lucidnet {args.command}: error: {_one_line(err)}", file=sys.stderr)
        return EXIT_ERROR


def _one_line(err: BaseException) -> str:
    text = str(err) or type(err).__name__
    if isinstance(err, FileNotFoundError) and err.filename:
        text = f"no such file: {err.filename}"
    return " ".join(text.split())
