"""The ``lucidnet`` command (also ``python -m lucidnet``).

Subcommands: ``train``, ``evaluate``, ``predict``, ``summary``, ``gradcheck``, ``demo``,
``explain``, ``playground``, ``export``.
Expected problems (a missing file, bad data, a bad option value, a model file that fails
validation, training that diverges) print one line on stderr and exit with 1; a usage
error (unknown option, missing argument) exits with 2, as argparse does; Ctrl-C (or
SIGTERM during training) exits with 130, ``train`` saving the last completed epoch first.

The modules: this one (the parser, ``main`` and its error handling), ``data`` (the data
sets of ``--data`` and their train/test split), ``train`` (the model it builds, training,
``--plots`` and ``--report``), ``memory`` (the memory a training run will need, checked
before it starts), ``resume`` (``--resume``, ``--checkpoint``, what a model file keeps to
resume, and Ctrl-C or SIGTERM during training: save and exit 130), ``commands``
(``evaluate``, ``predict``, ``summary``, ``gradcheck``, ``demo``) and ``explain``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Sequence

from .. import __version__
from . import export
from .commands import (
    EXIT_ERROR,
    cmd_demo,
    cmd_evaluate,
    cmd_gradcheck,
    cmd_predict,
    cmd_summary,
)
from .data import DATA_HELP, load_data
from .explain import EXAMPLES, cmd_explain
from .resume import EXIT_INTERRUPTED, mark_defaults
from .train import DIAGRAM_MAX_UNITS, SMALL_DATA_ROWS, build_model, cmd_train

__all__ = ["build_model", "build_parser", "load_data", "main"]


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
        "output for labels, linear output for numeric targets), or with --conv a "
        "convolutional network for images, and save it.",
    )
    train.add_argument("--data", default="fashion-mnist", help=DATA_HELP)
    train.add_argument("--target", default="-1", help="CSV target column: name or index")
    train.add_argument(
        "--task",
        default="auto",
        choices=["auto", "classify", "regress"],
        help="for CSV data: auto reads text labels, two distinct values or 0..k-1 (k <= 20) "
        "as classes and fractions as numbers; other whole numbers need classify or regress",
    )
    train.add_argument(
        "--no-standardize",
        action="store_true",
        help="for CSV data: use the features as they are (default: a Standardize layer, "
        "fitted on the training rows, comes first in the model)",
    )
    train.add_argument(
        "--conv",
        metavar="FILTERS",
        help="convolution blocks before the dense layers, filters per block like 32,64: "
        "each a 3x3 Conv2D (valid), [BatchNorm,] ReLU and a 2x2 MaxPool2D; image data only "
        "(fashion-mnist, mnist, digits). The recipe: --conv 32,64 --layers 128 (docs)",
    )
    train.add_argument(
        "--conv-padding",
        choices=["valid", "same"],
        default="valid",
        help="with --conv: the convolutions' padding (default valid: 28 -> 26 -> 13; same "
        "keeps the size: 28 -> 28 -> 14)",
    )
    train.add_argument(
        "--conv-dropout",
        type=float,
        default=0.0,
        help="with --conv: dropout rate on the flattened convolution features (default 0)",
    )
    train.add_argument(
        "--batchnorm",
        action="store_true",
        help="with --conv: a BatchNorm after each convolution (before its ReLU)",
    )
    train.add_argument("--layers", default="256,128", help="hidden sizes (default 256,128)")
    train.add_argument("--activation", default="relu", help="hidden activation (default relu)")
    train.add_argument("--dropout", type=float, default=0.2, help="dropout rate (default 0.2)")
    train.add_argument("--optimizer", default="adam", help="sgd, rmsprop, adam, adamw")
    train.add_argument(
        "--lr",
        "--learning-rate",
        dest="lr",
        type=float,
        default=1e-3,
        help="learning rate (default 1e-3)",
    )
    train.add_argument(
        "--schedule",
        default="constant",
        choices=["constant", "cosine"],
        help="learning rate: constant, or cosine decay from --lr over the epochs",
    )
    train.add_argument("--epochs", type=int, default=15, help="default 15")
    train.add_argument("--batch-size", type=int, default=128, help="default 128")
    train.add_argument(
        "--validation-split",
        type=float,
        default=None,
        help="fraction of the training rows held out for validation (default 0.1; none "
        f"when there are fewer than {SMALL_DATA_ROWS} training rows, such as xor's four)",
    )
    train.add_argument(
        "--class-weight",
        metavar="WEIGHTS",
        help="weigh the classes' losses: 'balanced' (n_samples / (n_classes * count), from "
        "the training rows) or CLASS:WEIGHT pairs like 0:1,1:5 or yes:5 (a class left out "
        "weighs 1); classification only; the metrics stay unweighted",
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
        f"{DIAGRAM_MAX_UNITS} wide), a convolutional network's filters and feature maps; "
        "needs matplotlib",
    )
    train.add_argument(
        "--report",
        metavar="FILE.html",
        help="write a standalone HTML training report (summary, curves, test metrics, "
        "confusion matrix, sample predictions); needs matplotlib",
    )
    train.add_argument(
        "--resume",
        metavar="FILE",
        help="continue training the model in FILE (written by train, also when interrupted, "
        "or by --checkpoint) with its stored data and settings, bit-identical to a run "
        "never interrupted; --epochs N trains up to N epochs in all; saves to FILE unless "
        "--out says otherwise",
    )
    train.add_argument(
        "--checkpoint",
        metavar="FILE",
        help="save the model (resumable with --resume) to FILE after every epoch, "
        "atomically; {epoch} in FILE numbers one file per epoch",
    )
    train.add_argument(
        "--distributed",
        action="store_true",
        help="data-parallel training over MPI: run as 'mpiexec -n N lucidnet train ... "
        "--distributed'; each batch is split across the N processes, rank 0 prints and "
        "saves (needs the mpi extra: pip install 'lucidnet[mpi]')",
    )
    mark_defaults(train)  # after the last option: --resume tells given options from defaults
    train.set_defaults(run=cmd_train)

    evaluate = commands.add_parser(
        "evaluate",
        help="score a saved model on a file (all its rows; only the held-out test rows when "
        "it is the training file) or on a built-in data set's test split",
    )
    evaluate.add_argument("model", help="a .lucid model file")
    evaluate.add_argument(
        "--data", help=f"{DATA_HELP} (default: the data the model was trained on)"
    )
    evaluate.add_argument(
        "--target", help="CSV target column, for models saved without their data contract"
    )
    evaluate.add_argument(
        "--seed", type=int, help="seed of the split, for models saved without their data contract"
    )
    evaluate.set_defaults(run=cmd_evaluate)

    predict = commands.add_parser("predict", help="predict for the rows of a CSV or .npy file")
    predict.add_argument("model", help="a .lucid model file")
    predict.add_argument(
        "input",
        help="INPUT.csv (columns by the names the model was trained on; a target column is "
        "dropped), INPUT.npy (2-D), or - to read CSV from standard input",
    )
    predict.add_argument("--out", help="write to FILE (.csv or .npy) instead of printing")
    predict.add_argument(
        "--proba", action="store_true", help="class probabilities, one column per class name"
    )
    predict.set_defaults(run=cmd_predict)

    summary = commands.add_parser("summary", help="show a saved model's layers")
    summary.add_argument("model", help="a .lucid model file")
    summary.set_defaults(run=cmd_summary)

    check = commands.add_parser(
        "gradcheck", help="gradient-check a small random network and print the report"
    )
    check.add_argument(
        "--layers",
        default="4,5,3",
        help="sizes, input first (default 4,5,3); with --conv the dense sizes after the "
        "convolutions, output last",
    )
    check.add_argument(
        "--conv",
        metavar="FILTERS",
        help="convolution blocks first (3x3 Conv2D, activation, 2x2 MaxPool2D), filters "
        "per block like 2,3, on random images of --image",
    )
    check.add_argument(
        "--image",
        default="10,10,1",
        help="with --conv: the image shape HEIGHT,WIDTH,CHANNELS (default 10,10,1)",
    )
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
    explain.add_argument(
        "--input",
        help="the sample, like 1,1 (an image's pixels row by row, channels together), or a "
        ".npy file of one sample or a tiny batch",
    )
    explain.add_argument(
        "--target", help="its target: values like 1 or 0,1; a class label for a softmax network"
    )
    explain.add_argument(
        "--lr", "--learning-rate", dest="lr", type=float, help="learning rate of one update step"
    )
    explain.add_argument(
        "--position",
        action="append",
        metavar="LAYER=ROW,COL,CHANNEL",
        help="the output position worked out for a convolution, pooling or BatchNorm "
        "(default: the centre of channel 0); repeatable",
    )
    explain.add_argument("--format", choices=("text", "markdown", "html"), default="text")
    explain.add_argument("--decimals", type=int, default=4, help="default 4")
    explain.add_argument("--out", help="write to FILE instead of printing")
    explain.set_defaults(run=cmd_explain)

    playground = commands.add_parser(
        "playground",
        help="a web page to build a network and watch it learn, number by number",
        description="Serve the playground page on this machine and open it in a browser. The "
        "training runs in lucidnet; the page draws every neuron, the weights and the "
        "losses, and shows any neuron's numbers for any sample.",
    )
    playground.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to bind (default 127.0.0.1: this machine only)",
    )
    playground.add_argument(
        "--port", type=_port, default=8765, help="port (default 8765; 0: any free port)"
    )
    playground.add_argument(
        "--no-browser", action="store_true", help="print the address without opening a browser"
    )
    playground.add_argument("--verbose", action="store_true", help="log every request")
    playground.set_defaults(run=cmd_playground)

    export.add_parser(commands)
    return parser


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"a port is a whole number from 0 to 65535, not {text!r}")
    return port


def cmd_playground(args: argparse.Namespace) -> int:
    """``lucidnet playground``: serve until Ctrl-C."""
    from ..playground import serve

    serve(args.host, args.port, open_browser=not args.no_browser, verbose=args.verbose)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    from ..datasets import DatasetNotFoundError, IDXError
    from ..serialization import ModelFileError
    from ..training import TrainingDiverged

    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    expected = (
        ValueError,
        OSError,
        MemoryError,  # the estimate of cli/memory.py stops most before they happen
        ModelFileError,
        IDXError,
        DatasetNotFoundError,
        TrainingDiverged,
        ImportError,  # an optional extra not installed: the message says which
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
        return EXIT_INTERRUPTED
    except expected as err:
        print(f"lucidnet {args.command}: error: {_one_line(err)}", file=sys.stderr)
        return EXIT_ERROR


def _one_line(err: BaseException) -> str:
    text = str(err) or type(err).__name__
    if isinstance(err, FileNotFoundError) and err.filename:
        text = f"no such file: {err.filename}"
    return " ".join(text.split())
