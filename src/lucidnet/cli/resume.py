"""``lucidnet train`` across interrupts: what a model file keeps to resume, ``--resume``,
``--checkpoint``, and Ctrl-C or SIGTERM.

``model.info["training"]`` holds where training stands::

    {"epochs_done": 6, "epochs": 20, "seed": 0,
     "settings": {"data": "/abs/path/wine.csv", "target": "-1", "layers": "256,128",
                  "lr": 0.001, "schedule": "cosine", "batch_size": 128, ...},
     "data_sha256": "...",                      # a CSV's checksum (absent for named sets)
     "history": {"loss": [...], "val_loss": [...], "lr": [...], ...}}

``settings`` are every ``train`` option except those that only say where output goes
(``OUTPUT_OPTIONS``): an option added later is stored, restored and checked without a
change here. ``--resume FILE`` takes them from the file; an option given again with
another value is an error, since the run would no longer be the one that was
interrupted. Training continues with ``fit(..., initial_epoch=epochs_done, seed=seed)``,
which repeats the uninterrupted run bit for bit (every epoch's randomness comes from
``(seed, epoch)``; the file holds the optimizer's state; a cosine schedule is a function
of the epoch).

While ``fit`` runs, SIGTERM (and SIGINT, unless it was ignored when the command started)
raise ``KeyboardInterrupt``: ``fit`` rolls the model back to the start of the interrupted
epoch and raises ``TrainingInterrupted``; the command saves that model with
``epochs_done`` and exits with 130.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import math
import os
import shlex
import signal
import sys
import tempfile
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ..callbacks import Callback, History, Logs

if TYPE_CHECKING:
    from ..model import Sequential
    from ..training import TrainingInterrupted

EXIT_INTERRUPTED = 130  # 128 + SIGINT, the shell's code for Ctrl-C; SIGTERM gives it too

# options that do not change the training run: never stored, free to change on --resume
OUTPUT_OPTIONS = frozenset(
    {
        "command",
        "run",
        "resume",
        "epochs",
        "verbose",
        "out",
        "plots",
        "report",
        "checkpoint",
        "distributed",
    }
)


# --- which options were given on the command line -----------------------------------------


class _DefaultInt(int):
    pass


class _DefaultFloat(float):
    pass


class _DefaultStr(str):
    __slots__ = ()


_MARKS = ((int, _DefaultInt), (float, _DefaultFloat), (str, _DefaultStr))


_FLAGS = "_flag_defaults"  # where mark_defaults leaves the defaults it cannot mark


def mark_defaults(parser: argparse.ArgumentParser) -> None:
    """Make the defaults of ``parser``'s options recognisable, so that ``given_options``
    tells ``--lr 0.001`` typed from the default 0.001 (argparse cannot)."""
    flags = {}
    for action in parser._actions:
        default = action.default
        if default is argparse.SUPPRESS:
            continue
        if isinstance(default, str) and action.type is not None:
            default = action.type(default)  # argparse would convert it, losing the mark
        for base, mark in _MARKS:
            if type(default) is base:
                action.default = mark(default)
                break
        else:
            flags[action.dest] = default  # True, False, None: given when the value differs
    parser.set_defaults(**{_FLAGS: flags})


def given_options(args: argparse.Namespace) -> set[str]:
    """The options the user gave; unmark the defaults of ``args`` in place."""
    flags = vars(args).pop(_FLAGS, {})
    given = set()
    for dest, value in vars(args).items():
        mark = next((m for _, m in _MARKS if type(value) is m), None)
        if mark is not None:
            setattr(args, dest, mark.__mro__[1](value))
        elif dest not in flags or value is not flags[dest]:
            given.add(dest)
    return given


def _option(dest: str) -> str:
    return "--" + dest.replace("_", "-")


# --- what a model file keeps --------------------------------------------------------------


def data_fingerprint(source: str) -> str | None:
    """The SHA-256 of the data file ``source`` (None for a named data set)."""
    if not os.path.isfile(source):
        return None
    digest = hashlib.sha256()
    with open(source, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def training_info(args: argparse.Namespace, epochs_done: int = 0) -> dict[str, Any]:
    """``model.info["training"]`` for a run with the options ``args``."""
    settings = {
        dest: value
        for dest, value in vars(args).items()
        if dest not in OUTPUT_OPTIONS and dest != "seed" and not callable(value)
    }
    if os.path.isfile(args.data):
        settings["data"] = os.path.abspath(args.data)  # resumable from another folder
    info: dict[str, Any] = {
        "epochs_done": epochs_done,
        "epochs": args.epochs,
        "seed": args.seed,
        "settings": settings,
        "history": {},
    }
    fingerprint = data_fingerprint(args.data)
    if fingerprint is not None:
        info["data_sha256"] = fingerprint
    return info


class Resume:
    """A model file to continue: the model, its ``info["training"]``, the epoch to start at."""

    def __init__(self, path: str, model: Sequential, info: dict[str, Any]) -> None:
        self.path, self.model, self.info = path, model, info
        self.initial_epoch = int(info["epochs_done"])


def read_resume(args: argparse.Namespace, given: set[str]) -> Resume:
    """Load ``args.resume`` and put its stored settings into ``args``.

    An option given again with another value than the stored one is a ValueError; so is
    a data file that changed, a model file without training settings, and an ``--epochs``
    that leaves nothing to train (or changes a cosine schedule's length).
    """
    from ..serialization import load

    path = args.resume
    model = load(path)
    info = model.info.get("training")
    if not isinstance(info, dict) or not {"epochs_done", "epochs", "seed", "settings"} <= set(info):
        raise ValueError(
            f"--resume {path}: the file holds no training settings (it was not written by "
            "lucidnet train); continue it from Python with fit(..., initial_epoch=...)"
        )
    if model.optimizer is None:
        raise ValueError(f"--resume {path}: the file holds no optimizer state")
    stored = {**info["settings"], "seed": info["seed"]}
    for dest, value in stored.items():
        if dest in given and not _same_setting(dest, getattr(args, dest, None), value, info):
            raise ValueError(
                f"--resume {path}: {_option(dest)} {getattr(args, dest)} differs from the "
                f"{value!r} it was trained with; leave it out (the stored settings are used)"
            )
        if dest == "data" and dest in given and os.path.isfile(args.data):
            info["settings"]["data"] = os.path.abspath(args.data)  # the same bytes, moved
            continue
        setattr(args, dest, value)
    _check_data(args.data, info, path)
    done, total = int(info["epochs_done"]), int(info["epochs"])
    if "epochs" not in given:
        args.epochs = total
    elif args.schedule == "cosine" and args.epochs != total:
        raise ValueError(
            f"--resume {path}: --epochs {args.epochs} would change the cosine schedule, which "
            f"runs over the {total} epochs it was started with; leave --epochs out"
        )
    if args.epochs <= done:
        raise ValueError(
            f"--resume {path}: the model has trained {done} of {total} epochs; nothing is "
            f"left to train. Give --epochs N with N > {done} to train further"
        )
    if "out" not in given:
        args.out = path
    info["epochs"] = args.epochs
    return Resume(path, model, info)


def _same_setting(dest: str, given: Any, stored: Any, info: dict[str, Any]) -> bool:
    """Whether a setting given again says what the stored one says."""
    if dest == "data" and isinstance(given, str) and isinstance(stored, str):
        if os.path.isfile(given):  # the same file, or the same bytes moved elsewhere
            same_path = os.path.abspath(given) == stored
            return same_path or data_fingerprint(given) == info.get("data_sha256")
        return given.lower() == stored.lower()  # a named data set
    if dest == "layers" and isinstance(given, str) and isinstance(stored, str):
        return given.replace(" ", "").strip(",") == stored.replace(" ", "").strip(",")
    return bool(given == stored)


def _check_data(source: str, info: dict[str, Any], path: str) -> None:
    expected = info.get("data_sha256")
    if expected is None:
        return
    if not os.path.isfile(source):
        raise ValueError(
            f"--resume {path}: the training data {source} is not there any more; give "
            "--data with its new place"
        )
    if data_fingerprint(source) != expected:
        raise ValueError(
            f"--resume {path}: the data file {source} changed since the model was trained "
            "(its SHA-256 differs); resuming would not continue the same run"
        )


# --- during training ----------------------------------------------------------------------


def _json_number(value: float) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


class TrainingState(Callback):
    """Keeps ``model.info["training"]`` current after every epoch (before ``--checkpoint``
    writes the file), from the history the file had when this run began."""

    def __init__(self, info: dict[str, Any]) -> None:
        super().__init__()
        self.info = info
        self.before = {key: list(values) for key, values in info.get("history", {}).items()}

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        """Count the epoch and append its logs."""
        self.info["epochs_done"] = epoch + 1
        history = self.info.setdefault("history", {})
        for key, value in (logs or {}).items():
            history.setdefault(key, []).append(_json_number(value))

    def interrupted(self, err: TrainingInterrupted) -> None:
        """Set the state to what ``fit`` rolled back to."""
        self.info["epochs_done"] = err.epochs_done
        history = {key: list(values) for key, values in self.before.items()}
        for key, values in err.history.history.items():
            history.setdefault(key, []).extend(_json_number(v) for v in values)
        self.info["history"] = history


def full_history(info: dict[str, Any]) -> History:
    """A History of every epoch trained so far, across resumes, from ``info["training"]``."""
    history = History()
    history.history = {
        key: [math.nan if v is None else v for v in values]
        for key, values in info.get("history", {}).items()
    }
    history.epoch = list(range(len(next(iter(history.history.values()), []))))
    return history


@contextlib.contextmanager
def signals_as_interrupt(received: list[str]) -> Iterator[None]:
    """While inside, SIGTERM (and SIGINT, unless ignored) raise ``KeyboardInterrupt``, and
    the signal's name is appended to ``received``."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers belong to the main thread (main() run from a thread)
        return

    def interrupt(signum: int, frame: object) -> None:
        received.append(signal.Signals(signum).name)
        raise KeyboardInterrupt(signal.Signals(signum).name)

    previous = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        if signal.getsignal(sig) is not signal.SIG_IGN:
            previous[sig] = signal.signal(sig, interrupt)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@contextlib.contextmanager
def signals_deferred() -> Iterator[None]:
    """While inside (saving the model), SIGINT and SIGTERM are noted and ignored, so that
    a second Ctrl-C does not lose the file being written."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        if signal.getsignal(sig) is not signal.SIG_IGN:
            previous[sig] = signal.signal(sig, lambda signum, frame: None)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


# --- after an interrupt -------------------------------------------------------------------


def save_interrupted(
    model: Sequential,
    err: TrainingInterrupted,
    state: TrainingState,
    out: str,
    initial_epoch: int,
    received: list[str],
) -> int:
    """Save the rolled-back model to ``out`` (to a temporary file if ``out`` cannot be
    written), say what was saved and how to resume, and return the exit status 130."""
    from ..serialization import save

    state.interrupted(err)
    done, total = err.epochs_done, state.info["epochs"]
    cause = received[0] if received and received[0] != "SIGINT" else "Ctrl-C"
    head = f"lucidnet train: interrupted ({cause})"
    if err.epoch is not None:
        head += f" during epoch {err.epoch + 1} of {total}"
    if done == initial_epoch:
        what = "the file resumed from is unchanged" if done else "no epoch was completed"
        print(f"{head}; nothing was saved ({what})", file=sys.stderr, flush=True)
        return EXIT_INTERRUPTED
    with signals_deferred():
        saved, problem = _save_somewhere(save, model, out)
    kept = f"the model after {done} of {total} epochs (with its optimizer state)"
    if saved is None:
        print(f"{head}; could not save {kept}: {problem}", file=sys.stderr, flush=True)
        return EXIT_INTERRUPTED
    note = f" (could not write --out {out}: {problem})" if saved != out else ""
    print(
        f"{head}; saved {kept} to {saved}{note}; resume with: "
        f"lucidnet train --resume {shlex.quote(saved)}",
        file=sys.stderr,
        flush=True,
    )
    return EXIT_INTERRUPTED


def _save_somewhere(save: Any, model: Sequential, out: str) -> tuple[str | None, str]:
    """Save to ``out``, else to a new file in the temporary folder; (where, problem)."""
    try:
        save(model, out)
        return out, ""
    except OSError as err:
        problem = err.strerror or str(err)
    stem = os.path.splitext(os.path.basename(out))[0] or "model"
    try:
        fd, fallback = tempfile.mkstemp(prefix=f"{stem}-interrupted-", suffix=".lucid")
        os.close(fd)
        save(model, fallback)
        return fallback, problem
    except OSError as err:
        return None, f"{problem}; and in {tempfile.gettempdir()}: {err.strerror or err}"
