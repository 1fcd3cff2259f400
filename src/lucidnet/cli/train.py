"""``lucidnet train``: build an MLP, train it, save it, and its ``--plots`` and ``--report``."""

from __future__ import annotations

import argparse
import contextlib
import os
import time
from typing import TYPE_CHECKING

import numpy as np

from ..data_contract import class_key
from .data import IMAGE_SHAPE, Split, image_shape_of, load_data
from .memory import check_memory

if TYPE_CHECKING:
    from ..distributed import DataParallel
    from ..model import Sequential
    from ..plotting import BoundaryRecorder

DIAGRAM_MAX_UNITS = 64  # --plots draws the network diagram when no layer is wider
SMALL_DATA_ROWS = 100  # fewer training rows: no validation split unless asked for
DEFAULT_VALIDATION_SPLIT = 0.1


def _parse_layers(text: str) -> list[int]:
    try:
        sizes = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ValueError(f"--layers {text!r}: expected sizes like 256,128") from None
    if any(size < 1 for size in sizes):
        raise ValueError(f"--layers {text!r}: every size must be >= 1")
    return sizes


def _parse_conv(text: str | None) -> list[int]:
    if not text:
        return []
    try:
        filters = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ValueError(f"--conv {text!r}: expected filter counts like 32,64") from None
    if not filters or any(f < 1 for f in filters):
        raise ValueError(f"--conv {text!r}: expected filter counts >= 1 like 32,64")
    return filters


def conv_shapes(
    image_shape: tuple[int, int, int], conv: list[int], padding: str = "valid"
) -> list[tuple[int, int, int]]:
    """The image shape before each ``--conv`` block and after the last: a 3x3 convolution
    and a 2x2 pooling take ``h x w`` to ``(h - 2) // 2 x (w - 2) // 2`` with ``valid``
    padding, to ``h // 2 x w // 2`` with ``same``."""
    trim = 2 if padding == "valid" else 0
    shapes = [image_shape]
    for filters in conv:
        h, w, _ = shapes[-1]
        if min(h, w) - trim < 2:  # the pool needs 2x2 after the convolution
            raise ValueError(
                f"--conv {','.join(map(str, conv))}: too many blocks for "
                f"{image_shape[0]}x{image_shape[1]} images (each 3x3 convolution "
                f"({padding}) and 2x2 pooling takes {h}x{w} to "
                f"{(h - trim) // 2}x{(w - trim) // 2})"
            )
        shapes.append(((h - trim) // 2, (w - trim) // 2, filters))
    return shapes


def build_model(
    n_in: int,
    hidden: list[int],
    classes: int | None,
    activation: str,
    dropout: float,
    seed: int,
    standardize: np.ndarray | None = None,
    conv: list[int] | None = None,
    image_shape: tuple[int, int, int] | None = None,
    batchnorm: bool = False,
    conv_dropout: float = 0.0,
    conv_padding: str = "valid",
) -> Sequential:
    """An MLP: ``Dense -> activation [-> Dropout]`` per hidden size, then the output:
    softmax over ``classes``, or one linear output for regression. With ``standardize``
    (training rows), a ``Standardize`` layer adapted to them comes first.

    With ``conv`` (filters per block) and ``image_shape`` (of each row, channels last),
    convolution blocks come before the dense layers: ``Reshape(image_shape)``, then per
    block ``Conv2D(3x3, conv_padding) [-> BatchNorm] -> activation -> MaxPool2D(2)``, then
    ``Flatten`` [``-> Dropout(conv_dropout)``]. The model still takes rows of pixels, as
    the MLPs do.
    """
    from .. import activations
    from ..layers import (
        BatchNorm,
        Conv2D,
        Dense,
        Dropout,
        Flatten,
        Layer,
        MaxPool2D,
        Reshape,
        Standardize,
    )
    from ..model import Sequential

    rng = np.random.default_rng(seed)
    init = "he_normal" if activation in ("relu", "leaky_relu") else "glorot_uniform"
    layers: list[Layer] = []
    if standardize is not None:
        layers.append(Standardize(n_in).adapt(standardize))
    width = n_in
    if conv:
        if image_shape is None or int(np.prod(image_shape)) != n_in:
            raise ValueError(f"--conv needs images; rows of {n_in} values are not {image_shape}")
        layers.append(Reshape(image_shape))
        shapes = conv_shapes(image_shape, conv, conv_padding)
        for shape, filters in zip(shapes, conv, strict=False):
            layers.append(Conv2D(shape[2], filters, 3, padding=conv_padding, init=init, seed=rng))
            if batchnorm:
                layers.append(BatchNorm(filters))
            layers += [activations.get(activation), MaxPool2D(2)]
        layers.append(Flatten())
        if conv_dropout > 0:
            layers.append(Dropout(conv_dropout))
        width = int(np.prod(shapes[-1]))
    for size in hidden:
        layers += [Dense(width, size, init=init, seed=rng), activations.get(activation)]
        if dropout > 0:
            layers.append(Dropout(dropout))
        width = size
    if classes is None:
        layers.append(Dense(width, 1, seed=rng))
    else:
        layers += [Dense(width, classes, seed=rng), activations.Softmax()]
    return Sequential(layers, input_shape=(n_in,))


def parse_class_weight(
    text: str, classes: int | None, class_names: list[str] | None = None
) -> dict[int, float] | str:
    """``--class-weight``: ``"balanced"``, or ``CLASS:WEIGHT`` pairs separated by commas,
    as the ``class_weight`` of ``fit`` (label index -> weight).

    ``CLASS`` is a class name as the data writes it (``yes:3``), or, when the data has no
    names or none of its names is a number, the label's index (``1:3``). Raises ValueError
    (one line) for a regression (``classes`` None), a class that is not one of the data's,
    a weight that is not a finite number >= 0, or a class given twice.
    """
    if classes is None:
        raise ValueError(
            "--class-weight needs a classification target; this data is a regression "
            "(a number to predict)"
        )
    if text.strip().lower() == "balanced":
        return "balanced"
    names = [str(name) for name in class_names] if class_names is not None else None
    by_index = names is None or not any(_is_int(name) for name in names)
    table: dict[int, float] = {}
    for item in text.split(","):
        key, sep, value = item.strip().rpartition(":")
        if not sep or not key.strip():
            raise ValueError(
                f"--class-weight {text!r}: expected 'balanced' or CLASS:WEIGHT pairs like 0:1,1:5"
            )
        key = key.strip()
        keys = None if names is None else [class_key(n) for n in names]
        if keys is not None and class_key(key) in keys:
            index = keys.index(class_key(key))  # "+1" is the class -1/+1 data calls 1
        elif by_index and _is_int(key) and 0 <= int(key) < classes:
            index = int(key)
        else:
            known = ", ".join(names) if names is not None else f"0 to {classes - 1}"
            raise ValueError(f"--class-weight: {key!r} is not a class of the data ({known})")
        try:
            weight = float(value)
        except ValueError:
            weight = float("nan")
        if not (np.isfinite(weight) and weight >= 0):
            raise ValueError(
                f"--class-weight: the weight of {key!r} must be a number >= 0, got {value!r}"
            )
        if index in table:
            raise ValueError(f"--class-weight: {key!r} is given twice")
        table[index] = weight
    return table


def _is_int(text: str) -> bool:
    return text.strip().lstrip("+-").isdigit()


def _format_metrics(results: dict[str, float]) -> str:
    return "  ".join(f"{k} {v:.4f}" for k, v in results.items())


def load_training_data(args: argparse.Namespace) -> Split:
    """The data of a ``train`` run (or of the run ``--resume`` continues): the one place
    that turns the stored settings into the same split."""
    return load_data(args.data, seed=args.seed, target=args.target, task=args.task)


def cmd_train(args: argparse.Namespace) -> int:
    """``lucidnet train``; with ``--distributed``, one process of an MPI job: rank 0 prints
    and saves, the others train silently (``lucidnet.distributed``)."""
    if not getattr(args, "distributed", False):
        return _train(args, None)
    from ..distributed import DataParallel, is_collective

    job = DataParallel()
    with contextlib.ExitStack() as stack:
        if not job.is_root:
            quiet = stack.enter_context(open(os.devnull, "w"))
            stack.enter_context(contextlib.redirect_stdout(quiet))
        # the whole command, not only fit: a rank that fails reading its data or checking
        # its --out would otherwise leave the others waiting in fit's first collective
        try:
            with job.guard(describe=_describe):
                return _train(args, job)
        except Exception as err:  # the guard lets out only what every rank raises
            if job.is_root or not is_collective(err):
                raise
            return 1  # rank 0 says it (a divergence, a rank that failed before training)
    return 1  # not reached: the guard raises or aborts


def _describe(err: BaseException) -> str:
    """A failed rank's error, as the command line says errors: one line (with the type
    of an error the command line does not expect)."""
    text = " ".join(str(err).split())
    if not isinstance(err, (ValueError, OSError)) or not text:
        text = f"{type(err).__name__}: {text}" if text else type(err).__name__
    return f"lucidnet train: error: {text}"


def _train(args: argparse.Namespace, job: DataParallel | None) -> int:
    from .. import optimizers
    from ..serialization import save
    from ..training import TrainingInterrupted
    from ..validation import check_positive
    from . import resume as resuming

    given = resuming.given_options(args)
    resumed = resuming.read_resume(args, given) if args.resume else None
    if not 0 <= args.dropout < 1:
        raise ValueError(f"--dropout must be in [0, 1), got {args.dropout}")
    for option, value in (("--epochs", args.epochs), ("--batch-size", args.batch_size)):
        if value < 1:
            raise ValueError(f"{option} must be >= 1, got {value}")
    if args.seed < 0:
        raise ValueError(f"--seed must be >= 0, got {args.seed}")
    check_output_file("--out", args.out, "model.lucid")
    if args.checkpoint:  # checked as the first epoch's file would be named
        check_output_file("--checkpoint", _checkpoint_name(args.checkpoint), "model.lucid")
    _check_picture_options(args)
    hidden = _parse_layers(args.layers)
    conv = _parse_conv(args.conv)
    if args.batchnorm and not conv:
        raise ValueError("--batchnorm goes with --conv (it normalizes the convolutions)")
    if not 0 <= args.conv_dropout < 1:
        raise ValueError(f"--conv-dropout must be in [0, 1), got {args.conv_dropout}")
    if args.conv_dropout and not conv:
        raise ValueError("--conv-dropout goes with --conv (it drops convolution features)")
    data = load_training_data(args)
    image_shape = image_shape_of(args.data, data.x_train.shape[1]) if conv else None
    class_weight = None
    if args.class_weight is not None:
        class_weight = parse_class_weight(args.class_weight, data.classes, data.class_names)
    validation_split = _validation_split(args.validation_split, len(data.x_train))
    if resumed is None:
        optimizer = optimizers.get(args.optimizer)
        optimizer.lr = check_positive(args.lr, "--lr")
        n_in = data.x_train.shape[1]
        shapes = conv_shapes(image_shape, conv, args.conv_padding) if image_shape else None
        flat = int(np.prod(shapes[-1])) if shapes else n_in
        memory_label = (
            (f"--conv {args.conv} " if conv else "")
            + f"--layers {args.layers} with --batch-size {args.batch_size} "
            f"and --optimizer {args.optimizer}"
        )
        check_memory(  # before any array of the model is allocated
            [flat, *hidden, data.classes or 1],
            args.batch_size,
            optimizer,
            samples=max(len(data.x_train), len(data.x_test)),
            label=memory_label,
        )
        standardize = None
        if (
            data.contract is not None
            and data.contract.features is not None
            and not (args.no_standardize)
        ):  # CSV features, standardized on the rows fit trains on (validation_split
            # holds out the last ones, as Keras does)
            fit_rows = int(len(data.x_train) * (1 - validation_split))
            standardize = data.x_train[: max(1, fit_rows)]
        model = build_model(
            n_in,
            hidden,
            data.classes,
            args.activation,
            args.dropout,
            args.seed,
            standardize,
            conv=conv,
            image_shape=image_shape,
            batchnorm=args.batchnorm,
            conv_dropout=args.conv_dropout,
            conv_padding=args.conv_padding,
        )
        if conv:  # the feature maps and im2col buffers too, before training allocates them
            check_memory(
                [],
                args.batch_size,
                optimizer,
                samples=max(len(data.x_train), len(data.x_test)),
                label=memory_label,
                model=model,
            )
        if data.contract is not None:
            model.info["data"] = data.contract.to_json()
        if data.classes is None:
            model.compile("mse", optimizer, metrics=["mae"])
        else:
            model.compile("crossentropy", optimizer, metrics=["accuracy"])
        model.info["training"] = resuming.training_info(args)
        initial_epoch = 0
    else:
        model, initial_epoch = resumed.model, resumed.initial_epoch
    model.summary()
    print(f"training on {len(data.x_train)} samples, testing on {len(data.x_test)}")
    if resumed is not None:
        print(f"resuming {resumed.path} after epoch {initial_epoch} of {args.epochs}")
    state = resuming.TrainingState(model.info["training"])
    callbacks = [state]  # first: a checkpoint saves what it records
    if args.schedule == "cosine":
        from ..callbacks import LearningRateScheduler
        from ..schedules import CosineDecay

        callbacks.append(LearningRateScheduler(CosineDecay(args.lr, args.epochs)))
    if args.checkpoint:
        from ..callbacks import ModelCheckpoint

        callbacks.append(ModelCheckpoint(args.checkpoint))
    recorder = _boundary_recorder(args, data)
    if recorder is not None:
        callbacks.append(recorder)
    start = time.perf_counter()
    received: list[str] = []
    try:
        with resuming.signals_as_interrupt(received):
            history = model.fit(
                data.x_train,
                data.y_train,
                epochs=args.epochs,
                batch_size=args.batch_size,
                validation_split=validation_split,
                verbose=args.verbose,
                seed=args.seed,
                callbacks=callbacks,
                initial_epoch=initial_epoch,
                class_weight=class_weight,
                distributed=job,
            )
            seconds = time.perf_counter() - start
            if job is not None and not job.is_root:
                return 0  # rank 0 saves, evaluates and writes
            # saved first, with signals held from the moment fit returns: an interrupt
            # after this loses nothing
            with resuming.signals_deferred():
                save(model, args.out)
    except TrainingInterrupted as err:
        return resuming.save_interrupted(model, err, state, args.out, initial_epoch, received)
    last = {k: v[-1] for k, v in history.history.items() if k != "lr"}
    train = {k: v for k, v in last.items() if not k.startswith("val_")}
    val = {k[4:]: v for k, v in last.items() if k.startswith("val_")}
    test = model.evaluate(data.x_test, data.y_test, batch_size=1024)
    resumed_at = "" if resumed is None else f" (epochs {initial_epoch + 1}-{args.epochs})"
    print(f"trained {len(history.epoch)} epochs{resumed_at} in {seconds:.1f}s")
    print(f"train       {_format_metrics(train)}")
    if val:
        print(f"validation  {_format_metrics(val)}")
    print(f"test        {_format_metrics(test)}")
    print(f"saved {args.out}")
    if resumed is not None:  # the curves of the whole run, not only of its last part
        history = resuming.full_history(model.info["training"])
    if args.plots:
        written = _write_plots(model, history, data, args.plots, recorder)
        print(f"wrote {len(written)} plots to {args.plots}: {', '.join(written)}")
    if args.report:
        from ..report import training_report

        image_shape = IMAGE_SHAPE if data.x_test.shape[1] == np.prod(IMAGE_SHAPE) else None
        training_report(
            model,
            history,
            data.x_test,
            data.y_test,
            args.report,
            class_names=data.class_names,
            image_shape=image_shape,
            feature_names=data.feature_names,
            title=f"lucidnet: {os.path.basename(args.data)}",
        )
        print(f"wrote the report {args.report}")
    return 0


def _checkpoint_name(pattern: str) -> str:
    """The file ``--checkpoint`` names after the first epoch (``{epoch}`` filled in)."""
    try:
        return pattern.format(epoch=1, loss=0.0, val_loss=0.0)
    except (KeyError, IndexError, ValueError) as err:
        raise ValueError(f"--checkpoint {pattern}: a bad {{...}} field ({err})") from None


def _validation_split(fraction: float | None, rows: int) -> float:
    """``--validation-split``, or its default: 0.1 of the training rows, but none for fewer
    than ``SMALL_DATA_ROWS`` rows (a handful of validation rows measures nothing, and the
    model needs every row: xor has four)."""
    if fraction is not None:
        return fraction
    if rows < SMALL_DATA_ROWS:
        print(
            f"no validation split: fewer than {SMALL_DATA_ROWS} training rows "
            "(--validation-split sets one)"
        )
        return 0.0
    return DEFAULT_VALIDATION_SPLIT


def _boundary_recorder(args: argparse.Namespace, data: Split) -> BoundaryRecorder | None:
    """For ``--plots`` on 2-D classification: the callback that records the decision
    boundary during the training run, for its GIF (up to 20 frames); else None."""
    if not args.plots or data.x_train.shape[1] != 2 or data.classes is None:
        return None
    from ..plotting import BoundaryRecorder

    frames = max(2, min(20, args.epochs + 1))
    return BoundaryRecorder(data.x_train, data.y_train, frames=frames, class_names=data.class_names)


def _check_picture_options(args: argparse.Namespace) -> None:
    """Fail before training when --plots or --report cannot be written."""
    if not (args.plots or args.report):
        return
    from ..plotting import INSTALL_HINT, require_matplotlib

    try:
        require_matplotlib()
    except ImportError:
        option = "--plots" if args.plots else "--report"
        raise ValueError(f"{option} needs matplotlib: {INSTALL_HINT}") from None
    if args.report:
        check_output_file("--report", args.report, "report.html")
    if args.plots:
        if os.path.exists(args.plots) and not os.path.isdir(args.plots):
            raise ValueError(f"--plots {args.plots}: exists and is not a folder")
        try:
            os.makedirs(args.plots, exist_ok=True)
        except OSError as err:
            reason = err.strerror or type(err).__name__
            raise ValueError(f"--plots {args.plots}: cannot create the folder ({reason})") from None
        _check_writable("--plots", args.plots, args.plots)


def check_output_file(option: str, path: str, example: str) -> None:
    """Fail (ValueError naming ``option`` and ``path``) unless a file can be written at
    ``path``: not a folder, in a folder that exists and takes new files."""
    target = os.path.abspath(path)
    if os.path.isdir(target):
        suggestion = os.path.join(path, example)
        raise ValueError(f"{option} {path}: is a folder; give a file name such as {suggestion}")
    folder = os.path.dirname(target)
    if not os.path.isdir(folder):
        raise ValueError(f"{option} {path}: the folder {folder} does not exist")
    _check_writable(option, path, folder)


def _check_writable(option: str, path: str, folder: str) -> None:
    """Create and remove a file in ``folder`` (files are written there through a temporary
    file and a rename), or fail naming ``option`` and ``path``."""
    import tempfile

    try:
        handle, probe = tempfile.mkstemp(dir=folder, prefix=".lucidnet-check-")
    except OSError as err:
        reason = err.strerror or type(err).__name__
        raise ValueError(f"{option} {path}: cannot write in {folder} ({reason})") from None
    os.close(handle)
    os.remove(probe)


def _write_plots(
    model: Sequential,
    history: object,
    data: Split,
    folder: str,
    recorder: BoundaryRecorder | None = None,
) -> list[str]:
    """The pictures that fit this model and data, in ``folder``; their names.

    Always the training curves; for classification the confusion matrix on the test set;
    for 784 inputs (28x28 images) the first layer's weights; for 2 inputs the decision
    boundary (classification) and the activation maps, and, given the ``recorder`` that
    watched the training, the GIF of the boundary during that run (its last frame is the
    saved model); for a convolutional network its first convolution's filters and the
    feature maps of the first test image; else the network diagram when no layer is
    wider than ``DIAGRAM_MAX_UNITS``.
    """
    from .. import plotting
    from ..layers import Conv2D

    written: list[str] = []

    def path(name: str) -> str:
        written.append(name)
        return os.path.join(folder, name)

    plotting.training_curves(history, path("training_curves.png"))
    names, n_in = data.class_names, data.x_test.shape[1]
    if data.classes is not None:
        predicted = model.predict_proba(data.x_test, batch_size=1024)
        plotting.confusion_matrix(data.y_test, predicted, names, path("confusion_matrix.png"))
    convolutional = any(isinstance(layer, Conv2D) for layer in model.layers)
    if n_in == np.prod(IMAGE_SHAPE) and not convolutional:
        plotting.first_layer_weights(model, path("first_layer_weights.png"), IMAGE_SHAPE)
    if n_in == 2:
        x, y = data.x_train, data.y_train
        if data.classes is not None:
            boundary = path("decision_boundary.png")
            plotting.decision_boundary(model, x, y, boundary, class_names=names)
        plotting.activation_maps(model, x, path("activation_maps.png"))
        if recorder is not None:
            recorder.save(path("decision_boundary_training.gif"))
    if convolutional:
        plotting.plot_filters(model, path("filters.png"))
        plotting.plot_feature_maps(model, data.x_test[0], path("feature_maps.png"))
        return written
    widths = [n_in] + [getattr(layer, "out_features", 0) for layer in model.layers]
    if max(widths) <= DIAGRAM_MAX_UNITS:
        plotting.network_diagram(model, path("network_diagram.png"))
    return written
