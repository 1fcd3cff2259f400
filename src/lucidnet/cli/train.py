"""``lucidnet train``: build an MLP, train it, save it, and its ``--plots`` and ``--report``."""

from __future__ import annotations

import argparse
import os
import time
from typing import TYPE_CHECKING, Any

import numpy as np

from .data import IMAGE_SHAPE, Split, load_data

if TYPE_CHECKING:
    from ..model import Sequential

DIAGRAM_MAX_UNITS = 64  # --plots draws the network diagram when no layer is wider


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
    from .. import activations
    from ..layers import Dense, Dropout
    from ..model import Sequential

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


def load_training_data(args: argparse.Namespace) -> Split:
    """The data of a ``train`` run (or of the run ``--resume`` continues): the one place
    that turns the stored settings into the same split."""
    return load_data(args.data, seed=args.seed, target=args.target, task=args.task)


def cmd_train(args: argparse.Namespace) -> int:
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
    out_folder = os.path.dirname(os.path.abspath(args.out))
    if not os.path.isdir(out_folder):
        raise ValueError(f"--out {args.out}: the folder {out_folder} does not exist")
    if args.checkpoint:
        folder = os.path.dirname(os.path.abspath(args.checkpoint))
        if not os.path.isdir(folder):
            raise ValueError(f"--checkpoint {args.checkpoint}: the folder {folder} does not exist")
    _check_picture_options(args)
    hidden = _parse_layers(args.layers)
    data = load_training_data(args)
    if resumed is None:
        model = build_model(
            data.x_train.shape[1], hidden, data.classes, args.activation, args.dropout, args.seed
        )
        optimizer = optimizers.get(args.optimizer)
        optimizer.lr = check_positive(args.lr, "--lr")
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
    start = time.perf_counter()
    received: list[str] = []
    try:
        with resuming.signals_as_interrupt(received):
            history = model.fit(
                data.x_train,
                data.y_train,
                epochs=args.epochs,
                batch_size=args.batch_size,
                validation_split=args.validation_split,
                verbose=args.verbose,
                seed=args.seed,
                callbacks=callbacks,
                initial_epoch=initial_epoch,
            )
    except TrainingInterrupted as err:
        return resuming.save_interrupted(model, err, state, args.out, initial_epoch, received)
    seconds = time.perf_counter() - start
    with resuming.signals_deferred():  # saved first: an interrupt after this loses nothing
        save(model, args.out)
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
            title=f"lucidnet: {os.path.basename(args.data)}",
        )
        print(f"wrote the report {args.report}")
    return 0


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
    from .. import plotting

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
