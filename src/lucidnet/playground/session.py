"""One learner's playground: the data, the network, its training, and what the page draws.

The network is a lucidnet ``Sequential`` trained by lucidnet's ``Trainer`` (the engine
``fit`` runs on): per hidden layer ``Dense`` + activation (+ ``Dropout``), then the
output layer::

    binary classification   Dense(., 1) + Sigmoid,  binary cross-entropy
    k classes               Dense(., k) + Softmax,  cross-entropy
    regression              Dense(., 1),            mean squared error

One *frame* of the page trains ``epochs_per_frame`` epochs (one epoch is one pass over
the training set in batches, as TensorFlow Playground's "step") and sends back a
``snapshot``: every neuron's heatmap over the plane, the weights, the losses. A step that
diverges is not applied: the network keeps its last finite weights and the snapshot
carries the message.

In perceptron mode the model is seed 000's neuron (``lucidnet.Perceptron`` with a step
activation) and training is Rosenblatt's rule, one sample at a time.
"""

from __future__ import annotations

import base64
import math
import secrets
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from .. import activations, metrics
from ..batches import Batches
from ..explain import Trace, explain
from ..layers import Dense
from ..perceptron import Perceptron
from ..serialization import save
from ..training import Trainer, TrainingDiverged
from . import data as pdata
from . import network
from .settings import Settings

__all__ = ["FRAME_BUDGET", "Session", "history_stride"]

FRAME_BUDGET = 0.1  # seconds of training per frame, beyond the first epoch


def history_stride(epoch: int) -> int:
    """Every epoch of the first 1,000 goes into the loss curve, then every 10th up to
    10,000, every 100th up to 100,000, and so on: a curve of a long run stays a few
    thousand points (the page redraws it every frame), and each point keeps its place."""
    stride = 1
    while epoch >= 1000 * stride:
        stride *= 10
    return stride


def encode(values: np.ndarray, scale: float = 1.0) -> str:
    """``values / scale`` clipped to [-1, 1], as int8 (-127 .. 127) in base64: the
    page's heatmap format (2,500 bytes for 50 x 50 cells)."""
    q = np.clip(np.asarray(values, dtype=np.float64) / scale, -1.0, 1.0) * 127.0
    return base64.b64encode(np.rint(q).astype(np.int8).tobytes()).decode("ascii")


def _r(a: Any) -> Any:
    """Numbers for JSON: floats rounded to 6 significant digits, arrays as lists."""
    if isinstance(a, np.ndarray):
        return [_r(v) for v in a.tolist()] if a.ndim else _r(a.item())
    if isinstance(a, list | tuple):
        return [_r(v) for v in a]
    if isinstance(a, dict):
        return {k: _r(v) for k, v in a.items()}
    if isinstance(a, np.generic):  # a NumPy scalar: its Python value
        a = a.item()
    if isinstance(a, float):
        return float(f"{a:.6g}") if math.isfinite(a) else None
    return a


class Session:
    """The playground state of one page: ``configure`` it, ``train`` it, draw ``snapshot``."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings: Settings | None = None
        self.upload: pdata.Points | None = None
        self.upload_name: str | None = None
        self.configure(settings or Settings())

    # --- set-up -------------------------------------------------------------------------

    def configure(
        self,
        settings: Settings,
        upload: tuple[pdata.Points, str] | None = None,
        restart: bool = False,
    ) -> None:
        """Apply ``settings`` (and a newly uploaded data set with its file name): only the
        live settings when nothing else changed and ``restart`` is False, else start over
        (new data, a new network, epoch 0). Nothing changes if the new set-up is refused."""
        old = self.settings
        if not restart and upload is None and old is not None and not settings.restarts(old):
            self.settings = settings
            self._apply_live(old)
            return
        fresh = object.__new__(Session)  # built aside, adopted only once it works
        fresh.settings = settings
        fresh.upload, fresh.upload_name = upload or (self.upload, self.upload_name)
        fresh._build()
        self.__dict__.update(fresh.__dict__)

    def _apply_live(self, old: Settings) -> None:
        s = self.settings
        if (s.stop_epochs, s.stop_loss) != (old.stop_epochs, old.stop_loss):
            self.stop_done = False  # a changed stop condition may stop again
        penalty = s.regularization != "none" and s.reg_rate != old.reg_rate
        trains_otherwise = (
            s.learning_rate != old.learning_rate or s.batch_size != old.batch_size or penalty
        )
        if trains_otherwise and (self.epoch or self.cursor):  # the script cannot retrace it
            self.changed_by_hand.add("a setting changed during training")
        if self.network is not None:
            self.trainer.optimizer.learning_rate = s.learning_rate
            self._set_penalties()

    def _set_penalties(self) -> None:
        s = self.settings
        for layer in self.dense_layers:
            layer._w.l1 = s.reg_rate if s.regularization == "l1" else 0.0
            layer._w.l2 = s.reg_rate if s.regularization == "l2" else 0.0

    def _data(self) -> pdata.Points:
        s = self.settings
        if s.dataset == "upload":
            if self.upload is None:
                raise ValueError("dataset 'upload': no CSV file has been uploaded yet")
            return self.upload
        return pdata.generate(s.dataset, s.samples, s.noise, s.classes, s.seed)

    def _build(self) -> None:
        s = self.settings
        self.data = self._data()
        if s.dataset == "upload":  # the file decides the problem
            s.problem = "regression" if self.data.regression else "classification"
            if s.mode == "perceptron" and len(self.data.classes or ()) != 2:
                raise ValueError("perceptron mode needs a CSV file with 2 classes")
        train, test = pdata.split(self.data, s.train_ratio)
        x = pdata.features(self.data.points, s.features)
        self.x_train, self.x_test = x[train], x[test]
        self.points_train, self.points_test = self.data.points[train], self.data.points[test]
        self.y_train, self.y_test = (
            self._targets(self.data.targets[train]),
            self._targets(self.data.targets[test]),
        )
        self.labels_train, self.labels_test = self.data.targets[train], self.data.targets[test]
        self.grid_points = pdata.grid(self.data.domain, s.heatmap)
        self.grid = pdata.features(self.grid_points, s.features)
        self.build = secrets.token_hex(4)  # tells the page which set-up a snapshot is of
        self.version = 0  # counts the changes of the weights (one_step's check)
        self.pending_step: tuple[int, str, int, list[np.ndarray]] | None = None
        self.changed_by_hand: set[str] = set()  # why the exported script differs, if it does
        self.epoch = 0
        self.history: list[dict[str, Any]] = []  # thinned: see history_stride
        self.latest: dict[str, Any] = {}  # the scores of the weights now
        self.message: str | None = None  # a divergence, shown in the page
        self.stopped: str | None = None
        self.stop_done = False
        self.best: tuple[float, int, list[np.ndarray], Any] | None = None  # see train
        self.cursor = 0  # perceptron mode: the next sample of the rule
        self.last_rule: dict[str, Any] | None = None
        if s.mode == "perceptron":
            self.network = None
            self.perceptron = Perceptron(2, activation="step", seed=s.seed)
            self.dense_layers: list[Dense] = []
        else:
            self.perceptron = None
            self.network = network.build(s, self.n_outputs, self.task)
            self.dense_layers = [la for la in self.network.layers if isinstance(la, Dense)]
            self.trainer = Trainer(self.network, self.network.loss, self.network.optimizer)
        self._record()

    @property
    def n_outputs(self) -> int:
        k = len(self.data.classes or ())
        return k if k > 2 else 1

    @property
    def task(self) -> str:
        """``"binary"``, ``"multiclass"`` or ``"regression"``."""
        if self.data.regression:
            return "regression"
        return "binary" if self.binary else "multiclass"

    @property
    def binary(self) -> bool:
        return len(self.data.classes or ()) == 2

    def _targets(self, t: np.ndarray) -> np.ndarray:
        """What the loss takes: (n, 1) float 0/1 (binary), class indices (k classes),
        (n, 1) values (regression)."""
        return t.astype(np.float32)[:, None] if self.binary else t

    # --- training -------------------------------------------------------------------------

    def train(self, epochs: int = 1, samples: int = 0, budget: float | None = None) -> int:
        """Train up to ``epochs`` epochs, stopping early once ``budget`` seconds have passed
        (at least one epoch is trained; the server gives each frame ``FRAME_BUDGET``, so
        that the page stays responsive; None: no limit); in perceptron mode, ``samples``
        single-sample steps of the rule instead when given. Return the epochs (perceptron:
        steps) done.

        A divergence stops training with ``message`` set and the network (and the
        optimizer's state) put back to the epoch with the lowest training loss so far: a
        loss usually explodes over several finite epochs before it overflows, so the start
        of the epoch that diverged is often no good either.
        """
        self.stopped = self.message = None
        if self.perceptron is not None:
            steps = samples if samples else epochs * len(self.x_train)
            return self._perceptron_steps(steps, budget)
        if samples:
            raise ValueError("'samples' (single-sample steps) are for perceptron mode")
        s = self.settings
        batches = Batches(self.x_train, self.y_train, s.batch_size)
        start = time.perf_counter()
        for done in range(epochs):
            if done and budget is not None and time.perf_counter() - start > budget:
                return done
            self._keep_if_best()
            self.trainer.seed_epoch(batches, s.seed, self.epoch)
            try:
                self.trainer.run_epoch(batches, self.epoch)
            except TrainingDiverged as err:
                self._roll_back(err)
                return done
            self.epoch += 1
            self.version += 1
            self._record()
            if self._stop():
                return done + 1
        return epochs

    def _keep_if_best(self) -> None:
        """Keep a copy of the weights and the optimizer's state when the training loss now
        is the lowest so far."""
        loss = self.latest["train_loss"]
        loss = math.inf if loss is None else loss  # None: not finite
        if self.best is None or loss < self.best[0]:
            state = self.trainer.optimizer.snapshot()
            self.best = (loss, self.epoch, self.network.get_weights(), state)

    def _roll_back(self, err: TrainingDiverged) -> None:
        loss, epoch, weights, state = self.best  # type: ignore[misc]
        self.network.set_weights(weights)
        self.trainer.optimizer.restore(state)
        self.trainer.optimizer.learning_rate = self.settings.learning_rate  # the rate now
        self.version += 1
        self.changed_by_hand.add("training diverged and was rolled back")
        self.message = (
            f"{err} Then the playground put the network back to its weights after epoch "
            f"{epoch}, the lowest training loss so far ({loss:.4g})."
        )
        self._record(curve=False)

    def _stop(self) -> bool:
        """Whether a stop condition has just been met (once: play again goes on, until the
        condition is changed)."""
        s, latest = self.settings, self.latest
        if self.stop_done:
            return False
        if s.stop_epochs and self.epoch >= s.stop_epochs:
            self.stopped = f"stopped after {self.epoch} epochs (the stop condition)"
        elif s.stop_loss and latest["test_loss"] is not None and latest["test_loss"] <= s.stop_loss:
            self.stopped = f"stopped: test loss {latest['test_loss']:.4g} <= {s.stop_loss:g}"
        self.stop_done = self.stopped is not None
        return self.stop_done

    def _perceptron_steps(self, n: int, budget: float | None) -> int:
        p = self.perceptron
        assert p is not None
        lr = self.settings.learning_rate
        start = time.perf_counter()
        for done in range(n):
            if done % 256 == 255 and budget is not None and time.perf_counter() - start > budget:
                n = done
                break
            i = self.cursor
            x, target = self.x_train[i], float(self.labels_train[i])
            w, b = p.weights.copy(), float(p.bias)
            z = float(x @ w + b)
            step = float(p.rule(x, p.dtype.type(target), p.dtype.type(lr)))
            self.last_rule = {
                "index": i,
                "x": _r(x),
                "target": target,
                "w": _r(w),
                "b": _r(b),
                "z": _r(z),
                "y_hat": float(z > 0),
                "step": _r(step),
                "new_w": _r(p.weights),
                "new_b": _r(p.bias),
            }
            self.version += 1
            self.cursor = (i + 1) % len(self.x_train)
            if self.cursor == 0:
                self.epoch += 1
                self._record()
                if self._stop():
                    return done + 1
        if self.cursor:  # mid-epoch: the scores are of the weights now
            self._record(curve=False)
        return n

    # --- what the page shows ------------------------------------------------------------------

    def _loss(self, x: np.ndarray, y: np.ndarray) -> tuple[float, float | None]:
        """The data loss (no penalty) and the accuracy (classification) on a set."""
        if self.perceptron is not None:  # the error rate is the perceptron's "loss"
            wrong = float(np.mean(self.perceptron.predict(x) != y[:, 0]))
            return wrong, 1.0 - wrong
        value, y_pred, _, _ = self.trainer.forward_loss(x, y, False, need_gradient=False)
        if self.data.regression:
            return float(value), None
        return float(value), metrics.accuracy(y, y_pred)  # p > 0.5, or the argmax

    def _record(self, curve: bool = True) -> None:
        """Score the weights now (``latest``) and, at epochs the curve keeps, add them to
        ``history``."""
        train_loss, train_acc = self._loss(self.x_train, self.y_train)
        test_loss, test_acc = self._loss(self.x_test, self.y_test)
        self.latest = {
            "epoch": self.epoch + self.cursor / len(self.x_train) if self.cursor else self.epoch,
            "train_loss": _r(train_loss),
            "test_loss": _r(test_loss),
            "train_accuracy": _r(train_acc),
            "test_accuracy": _r(test_acc),
        }
        if curve and self.epoch % history_stride(self.epoch) == 0:
            self.history.append(self.latest)

    def neuron_outputs(self, x: np.ndarray) -> list[np.ndarray]:
        """Each hidden layer's activations (after the activation, before Dropout) and the
        network's output, for the rows of ``x``: ``[(n, units), ..., (n, outputs)]``."""
        outs, h = [], x
        layers = self.network.layers
        for i, layer in enumerate(layers):
            h = layer.forward(h, training=False)
            if i < len(layers) - 1 and isinstance(layer, activations.Activation):
                outs.append(h)
        return [*outs, h]

    def snapshot(self, history_from: int = 0) -> dict[str, Any]:
        """What the page draws after a frame: heatmaps, weights, losses, messages."""
        out: dict[str, Any] = {
            "build": self.build,
            "epoch": self.epoch,
            "history": self.history[history_from:],
            "history_length": len(self.history),
            "latest": self.latest,
            "message": self.message,
            "stopped": self.stopped,
        }
        if self.perceptron is not None:
            p = self.perceptron
            out["weights"] = [{"w": _r(p.weights[:, None]), "b": _r(np.atleast_1d(p.bias))}]
            out["output"] = encode(2.0 * self.perceptron.predict(self.grid) - 1.0)
            out["rule"] = self.last_rule
            out["neurons"] = []
            return out
        outs = self.neuron_outputs(self.grid)
        hidden, final = outs[:-1], outs[-1]
        out["neurons"] = [[encode(h[:, j]) for j in range(h.shape[1])] for h in hidden]
        if self.data.regression:
            out["output"] = encode(final[:, 0], self.output_scale)
        elif self.binary:
            out["output"] = encode(2.0 * final[:, 0] - 1.0)
        else:  # the winning class and its probability, one byte each
            out["output_class"] = base64.b64encode(final.argmax(1).astype(np.uint8)).decode()
            out["output"] = encode(2.0 * final.max(axis=1) - 1.0)
            out["outputs"] = [encode(2.0 * final[:, k] - 1.0) for k in range(final.shape[1])]
        out["weights"] = [{"w": _r(d.weights), "b": _r(d.bias)} for d in self.dense_layers]
        return out

    @property
    def output_scale(self) -> float:
        """Regression heatmaps show ``y / scale``: the largest target's size (at least 1)."""
        return max(float(np.abs(self.data.targets).max()), 1.0)

    def describe(self) -> dict[str, Any]:
        """What the page needs once per set-up: the points, the inputs' heatmaps, the
        layer sizes, and the first snapshot."""
        s = self.settings
        every = pdata.features(self.grid_points, list(pdata.FEATURES))  # used or not
        scale = np.maximum(np.abs(every).max(axis=0), 1e-9)
        return {
            "settings": s.to_dict(),
            "domain": self.data.domain,
            "classes": self.data.classes,
            "regression": self.data.regression,
            "output_scale": self.output_scale,
            "train": {"points": _r(self.points_train), "targets": _r(self.labels_train)},
            "test": {"points": _r(self.points_test), "targets": _r(self.labels_test)},
            "inputs": {f: encode(every[:, j], scale[j]) for j, f in enumerate(pdata.FEATURES)},
            "sizes": [len(s.features), *([] if self.perceptron else s.layers), self.n_outputs],
            "snapshot": self.snapshot(),
        }

    # --- edits ------------------------------------------------------------------------------------

    def set_weight(self, layer: int, source: int | None, neuron: int, value: float) -> None:
        """Set weight ``source -> neuron`` of Dense layer ``layer`` (from 0), or its bias
        when ``source`` is None: the page's click-to-edit."""
        if (
            not isinstance(value, int | float)
            or isinstance(value, bool)
            or (isinstance(value, int) and abs(value) > 2**53)
            or not math.isfinite(value)
        ):
            raise ValueError(f"a weight must be a finite number, got {value!r}")
        dense = self._dense(layer, neuron)
        with np.errstate(over="ignore"):
            stored = dense.weights.dtype.type(value)
        if not np.isfinite(stored):
            raise ValueError(f"{value!r} is too large for the weights' {dense.weights.dtype}")
        if source is None:
            dense.bias[neuron] = value
        elif isinstance(source, bool) or not isinstance(source, int):
            raise ValueError(f"source must be a whole number or null (the bias), got {source!r}")
        elif not 0 <= source < dense.in_features:
            last = dense.in_features - 1
            raise ValueError(f"layer {layer} has inputs 0 to {last}, got {source!r}")
        else:
            dense.weights[source, neuron] = value
        self.version += 1
        self.stopped = self.message = None
        self.changed_by_hand.add("a weight was edited")
        self._record(curve=False)

    def _dense(self, layer: int, neuron: int) -> Dense:
        """Dense layer ``layer`` (from 0), having checked that it has neuron ``neuron``."""
        if self.network is None:
            raise ValueError("perceptron mode has no network layers to edit")
        if (
            isinstance(layer, bool)
            or not isinstance(layer, int)
            or not 0 <= layer < len(self.dense_layers)
        ):
            raise ValueError(
                f"layer must be 0 to {len(self.dense_layers) - 1} (a Dense layer), got {layer!r}"
            )
        dense = self.dense_layers[layer]
        if isinstance(neuron, bool) or not isinstance(neuron, int):
            raise ValueError(f"neuron must be a whole number, got {neuron!r}")
        if not 0 <= neuron < dense.out_features:
            last = dense.out_features - 1
            raise ValueError(f"layer {layer} has neurons 0 to {last}, got {neuron!r}")
        return dense

    # --- the numbers of one sample --------------------------------------------------------------

    def sample(self, which: str, index: int) -> tuple[np.ndarray, np.ndarray]:
        """The features and target of sample ``index`` of the ``"train"`` or ``"test"`` set."""
        if which not in ("train", "test"):
            raise ValueError(f"set must be 'train' or 'test', got {which!r}")
        x, y = (self.x_train, self.y_train) if which == "train" else (self.x_test, self.y_test)
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(x):
            raise ValueError(f"the {which} set has samples 0 to {len(x) - 1}, got {index!r}")
        return x[index : index + 1], y[index : index + 1]

    def explain(self, which: str, index: int) -> Trace:
        """``lucidnet.explain`` of one sample, with one plain gradient step at the current
        learning rate."""
        if self.network is None:
            raise ValueError("perceptron mode: the rule's numbers come with each step")
        x, y = self.sample(which, index)
        return explain(self.network, x, y=y, learning_rate=self.settings.learning_rate)

    def neuron(self, which: str, index: int, layer: int, neuron: int) -> dict[str, Any]:
        """The numbers of one neuron for one sample (see ``neuron_numbers``) and the whole
        trace as text."""
        trace = self.explain(which, index)
        dense = self._dense(layer, neuron)
        names = (
            self.settings.features
            if layer == 0
            else [f"h{layer}.{k + 1}" for k in range(dense.in_features)]
        )
        return neuron_numbers(trace, layer, neuron, names) | {"text": trace.to_text()}

    def one_step(self, which: str, index: int) -> list[dict[str, Any]]:
        """The stages of one training step on one sample, in order: the forward pass layer
        by layer, the loss, the backward pass, the update (``explain``'s sections)."""
        from ..explain_render import section_text, sections

        trace = self.explain(which, index)
        new = [a for t in trace.layers for a in (t.new_weights, t.new_bias)]
        self.pending_step = (self.version, which, index, new)
        stages = []
        phase = "forward"
        for section in sections(trace):
            title = section.title
            if title.startswith("Backward"):
                phase = "backward"
            elif title.startswith("Update"):
                phase = "update"
            elif title.startswith("Loss"):
                phase = "loss"
            layer = None
            for t in trace.layers:
                if title.startswith(f"Layer {t.index} "):
                    layer = t.index - 1
            stages.append(
                {
                    "phase": phase,
                    "title": title,
                    "layer": layer,
                    "text": "\n".join(section_text(section)),
                }
            )
        return stages

    def apply_step(self, which: str, index: int) -> None:
        """Take the step ``one_step`` showed, exactly: its new weights (plain gradient
        descent on that one sample; dropout, the identity in a trace, is left out). Refused
        if the weights changed since (a frame of training, an edit) or for another sample:
        the step shown would not be the step taken."""
        if self.network is None:
            raise ValueError("perceptron mode: use step, which applies the rule")
        pending, self.pending_step = self.pending_step, None
        if pending is None or pending[1:3] != (which, index):
            raise ValueError(f"no step of {which} sample {index} is shown: show it first")
        if pending[0] != self.version:
            raise ValueError("the network changed since this step was shown; show it again")
        new = pending[3]
        if not all(np.isfinite(a).all() for a in new):
            self.message = "this step makes a weight non-finite; it was not applied"
            return
        self.network.set_weights(new)
        self.version += 1
        self.stopped = self.message = None
        self.changed_by_hand.add("a one-step update was applied")
        self._record(curve=False)

    # --- export -------------------------------------------------------------------------------

    def export_model(self) -> bytes:
        """The network as a ``.lucid`` file's bytes (``lucidnet.load`` reads it)."""
        if self.network is None:
            raise ValueError("perceptron mode has no network to export; switch to network mode")
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "playground.lucid"
            save(self.network, path)
            return path.read_bytes()

    def export_script(self) -> str:
        """A Python script that rebuilds and retrains this network with lucidnet."""
        from .export import script

        if self.network is None:
            raise ValueError("perceptron mode has no network to export; switch to network mode")
        return script(
            self.settings,
            self.epoch,
            self.n_outputs,
            self.task,
            self.upload_name,
            sorted(self.changed_by_hand),
        )


def neuron_numbers(trace: Trace, layer: int, neuron: int, inputs: list[str]) -> dict[str, Any]:
    """One neuron ``neuron`` of Dense layer ``layer`` in ``trace`` (one sample): its
    inputs ``x``, weights ``w`` and bias ``b``, ``z = x . w + b``, ``a = f(z)``, and after
    the loss ``dL/da``, ``f'(z)``, ``delta = dL/dz``, ``dL/dw = x delta (+ penalties)``,
    ``dL/db = delta`` and the updated ``w`` and ``b``: the trace's numbers, column
    ``neuron`` of layer ``layer``."""
    t = trace.layers[layer]
    j = neuron
    local = None if t.local is None or t.is_softmax else t.local[0, j]
    return _r(
        {
            "layer": layer,
            "neuron": neuron,
            "inputs": inputs,
            "activation": t.activation,
            "derivative": t.derivative_formula,
            "x": t.x[0],
            "w": t.weights[:, j],
            "b": t.bias[j],
            "z": t.z[0, j],
            "a": t.a[0, j],
            "loss": trace.loss,
            "y": None if trace.y is None else np.atleast_1d(trace.y[0]),
            "y_hat": trace.y_hat[0],
            "grad_a": None if t.grad_a is None else t.grad_a[0, j],
            "local": local,
            "delta": None if t.delta is None else t.delta[0, j],
            "fused": t.fused,
            "grad_w": None if t.grad_weights is None else t.grad_weights[:, j],
            "grad_b": None if t.grad_bias is None else t.grad_bias[j],
            "l1": t.l1,
            "l2": t.l2,
            "learning_rate": trace.learning_rate,
            "new_w": None if t.new_weights is None else t.new_weights[:, j],
            "new_b": None if t.new_bias is None else t.new_bias[j],
        }
    )
