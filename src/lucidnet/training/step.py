"""The Trainer: one training step and one epoch, the loop body every training loop shares.

One step on a batch ``(x, y)``::

    y_pred = model.forward(x, training=True)        # predictions
    value  = loss(y, y_pred)                         # how wrong they are
    model.backward(loss.gradient(y, y_pred))         # dL/dθ for every parameter
    gradient_hook(model.parameters())                # e.g. an all-reduce across processes
    check: value and every gradient finite           # else stop, weights untouched
    add penalties: value += l2 sum(w^2) ...          # once, from the parameters' settings
    optimizer.step(model.parameters())               # θ <- θ - lr * dL/dθ

with one refinement: the fused output pairs (``Sigmoid`` + binary cross-entropy,
``Softmax`` + cross-entropy) take the gradient ``p - y`` straight on the logits (see
``lucidnet.losses``). With sample weights (``sample_weight=`` on ``step``, ``gradients``,
``evaluate``; ``Batches`` carrying a third array) the loss is Keras'
``sum_i w_i l_i / batch`` (``lucidnet.weights``); without them (None) the loss is called
exactly as before, with no extra work.

The hook runs before the finiteness check so that every process of a data-parallel run
sees the same reduced gradients and takes the same decision: none can raise while another
waits.

``fit``, ``train_step``, the scikit-learn estimators (through ``fit``), the boundary
animation and ``gradcheck`` all run on this object; none has a loop of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

from .. import losses as losses_module
from ..batches import Batches
from ..callbacks import Callback
from ..layers import Layer
from ..losses import Loss
from ..model import Sequential
from ..optimizers import Optimizer
from ..parameters import ParameterList
from .penalties import PenaltyGradients

__all__ = ["LossAndGradients", "Trainer", "TrainingDiverged"]

GradientHook = Callable[[ParameterList], None]


class TrainingDiverged(FloatingPointError):
    """The loss or a gradient became NaN or infinite; the update was not applied.

    ``epoch`` and ``batch`` (from 0) say where, when raised by ``fit``.
    """

    def __init__(self, message: str, epoch: int | None = None, batch: int | None = None):
        super().__init__(message)
        self.epoch, self.batch = epoch, batch


class LossAndGradients(NamedTuple):
    """What one forward and backward pass found."""

    loss: float  # the loss value of the batch, penalties included
    y_pred: np.ndarray  # the model's output, (batch, *output_shape)
    grad_input: np.ndarray | None  # dL/dx (None when not asked for)


def all_finite(a: np.ndarray) -> bool:
    """Whether every value of ``a`` is finite: NaN and infinities reach the maximum or the
    minimum (two calls, no temporary array, and unlike a sum no overflow)."""
    if a.size == 0:
        return True
    return bool(np.isfinite(np.maximum.reduce(a, axis=None))) and bool(
        np.isfinite(np.minimum.reduce(a, axis=None))
    )


class Trainer:
    """One step (``step``) and one epoch (``run_epoch``) of ``model`` with ``loss`` and
    ``optimizer``; ``gradient_hook(parameters)`` runs between backward and the checks.

    The optimizer keeps its state (momentum, moments): use one Trainer, or at least one
    optimizer, for a whole training run.
    """

    def __init__(
        self,
        model: Sequential,
        loss: Loss | str,
        optimizer: Optimizer | None = None,
        gradient_hook: GradientHook | None = None,
    ) -> None:
        self.model = model
        self.loss = losses_module.get(loss)
        self.optimizer = optimizer
        self.gradient_hook = gradient_hook
        self._penalties = PenaltyGradients()
        layers = model.layers  # a tuple: fixed for the model's life
        # the logits form of the loss when the output layer and the loss are a fused pair
        self._fused = losses_module.fused_logits_loss(layers[-1], self.loss) if layers else None

    # --- forward and backward -------------------------------------------------------------

    def forward_loss(
        self,
        x: np.ndarray,
        y: np.ndarray,
        training: bool,
        need_gradient: bool,
        sample_weight: np.ndarray | None = None,
    ) -> tuple[float, np.ndarray, np.ndarray | None, int]:
        """Forward pass and loss (no penalties); return ``(value, y_pred, gradient, start)``.

        ``gradient`` is ``dL/d(input of layer start)``, where backward must begin: the output
        for an ordinary loss, the last layer's input (the logits) for a fused pair.
        ``sample_weight`` ``(batch,)`` weights the samples' losses (None: unweighted).
        """
        y_pred, out, loss, start = self.forward_output(x, training)
        value, g = self.loss_of(loss, y, out, need_gradient, sample_weight)
        return value, y_pred, g, start

    def forward_output(
        self, x: np.ndarray, training: bool
    ) -> tuple[np.ndarray, np.ndarray, Loss, int]:
        """The forward pass: ``(y_pred, out, loss, start)``, where ``loss`` is computed from
        ``out`` (``y_pred``, or the logits of a fused pair, whose backward begins at layer
        ``start``)."""
        layers = self.model.layers
        fused = self._fused
        if fused is None:
            y_pred = self.model.forward(x, training=training)
            return y_pred, y_pred, self.loss, len(layers)
        out = self.model.forward(x, training=training, end=len(layers) - 1)
        y_pred = layers[-1].forward(out, training=training)
        return y_pred, out, fused, len(layers) - 1  # the loss from the logits

    @staticmethod
    def loss_of(
        loss: Loss,
        y: np.ndarray,
        out: np.ndarray,
        need_gradient: bool,
        sample_weight: np.ndarray | None,
    ) -> tuple[float, np.ndarray | None]:
        """``loss.value_and_gradient`` on ``(y, out)``, with the sample weights if any."""
        if sample_weight is None:  # a custom loss need not know sample_weight
            return loss.value_and_gradient(y, out, need_gradient=need_gradient)
        return loss.value_and_gradient(
            y, out, need_gradient=need_gradient, sample_weight=sample_weight
        )

    def gradients(
        self,
        x: np.ndarray,
        y: np.ndarray,
        training: bool = True,
        need_input_grad: bool = True,
        sample_weight: np.ndarray | None = None,
    ) -> LossAndGradients:
        """Forward, loss, backward, the hook and the penalties, without the checks and the
        update: every parameter's ``grad`` holds ``dL/dθ`` after (what ``gradcheck``
        verifies)."""
        value, y_pred, grad, start = self.forward_loss(
            x, y, training, need_gradient=True, sample_weight=sample_weight
        )
        grad_input = self.model.backward(grad, need_input_grad, end=start)  # type: ignore[arg-type]
        params = self.model.parameters()
        if self.gradient_hook is not None:
            self.gradient_hook(params)
        value += self._penalties.add(params)
        return LossAndGradients(value, y_pred, grad_input)

    # --- one step -----------------------------------------------------------------------------

    # Overflow and NaN are found by the step's checks, which raise one clear error: NumPy's
    # RuntimeWarnings (with a source path) would only come ahead of it.
    @np.errstate(over="ignore", invalid="ignore", divide="ignore")
    def step(
        self,
        x: np.ndarray,
        y: np.ndarray,
        fallback: list[np.ndarray],
        fallback_name: str,
        check_update: bool = True,
        sample_weight: np.ndarray | None = None,
    ) -> tuple[float, np.ndarray]:
        """One update on the batch; return the loss (penalties included, before the step)
        and the predictions. ``sample_weight`` ``(batch,)`` weights the samples' losses.

        Raises TrainingDiverged, never leaving NaN in the model: a non-finite loss or
        gradient skips the update (the weights stay as they were); non-finite weights,
        found after the update (``check_update``) or when the next step's loss is NaN, are
        replaced by ``fallback`` (described by ``fallback_name``).
        """
        if self.optimizer is None:
            raise RuntimeError("Trainer.step: the trainer has no optimizer")
        model = self.model
        value, y_pred, grad, start = self.forward_loss(
            x, y, True, need_gradient=True, sample_weight=sample_weight
        )
        model.backward(grad, need_input_grad=False, end=start)  # type: ignore[arg-type]
        params = model.parameters()
        if self.gradient_hook is not None:
            self.gradient_hook(params)
        problem = None
        if not np.isfinite(value):
            problem = f"loss is {value}"
        elif (bad := self.first_non_finite(gradients=True)) is not None:
            problem = f"the gradient of {bad} is not finite"
        if problem is not None:
            self.restore_if_not_finite(
                fallback, fallback_name, f"{problem}; the update was skipped"
            )
        value += self._penalties.add(params)
        self.optimizer.step(params)
        if check_update:
            self.restore_if_not_finite(fallback, fallback_name, None)
        return value, y_pred

    def first_non_finite(self, gradients: bool) -> str | None:
        """The name of the first parameter (or gradient) holding NaN or infinity, or None.

        One check on the model's flat buffer when it has one; only when that fails are the
        arrays looked at one by one.
        """
        params = self.model.parameters()
        flat = params.flat
        if flat is not None and all_finite(flat.grads if gradients else flat.values):
            return None
        named = [(p.name, p.grad if gradients else p.value) for p in params]
        return next((name for name, a in named if not all_finite(a)), None)

    def restore_if_not_finite(
        self, fallback: list[np.ndarray], fallback_name: str, problem: str | None
    ) -> None:
        """Raise TrainingDiverged for ``problem`` or for non-finite weights, restoring
        ``fallback`` first if the weights are not finite. Return if nothing is wrong."""
        bad = self.first_non_finite(gradients=False)
        if bad is not None:
            self.model.set_weights(fallback)
            restored = f"the weights were restored to {fallback_name}"
            if problem is None:
                raise TrainingDiverged(f"the update made {bad} non-finite; {restored}")
            raise TrainingDiverged(f"{problem}; {bad} is not finite either; {restored}")
        if problem is not None:
            raise TrainingDiverged(problem)

    # --- one epoch -----------------------------------------------------------------------------

    def seed_epoch(self, batches: Batches, base_seed: int, epoch: int) -> None:
        """Give the shuffling and the layers with randomness generators from ``(seed, epoch)``.

        Layer ``i`` gets ``default_rng([seed, epoch, i + 1])``, the shuffling
        ``default_rng([seed, epoch, 0])``: independent streams, the same in every run.
        """
        batches.rng = np.random.default_rng([base_seed, epoch, 0])
        for i, layer in enumerate(self.model.layers):
            if type(layer).start_epoch is not Layer.start_epoch:  # only layers that use it
                self.start_layer_epoch(layer, epoch, [base_seed, epoch, i + 1])

    def start_layer_epoch(self, layer: Layer, epoch: int, seed: list[int]) -> None:
        """``layer.start_epoch`` with a generator from ``seed``."""
        layer.start_epoch(epoch, np.random.default_rng(seed))

    def run_epoch(
        self,
        batches: Batches,
        epoch: int,
        metrics: Sequence[tuple[str, Any]] = (),
        callbacks: Sequence[Callback] = (),
        start_weights: list[np.ndarray] | None = None,
    ) -> dict[str, float]:
        """One pass over the batches; return the epoch's mean loss and metrics.

        Batches of ``(x, y, sample_weight)`` train with those weights; the metrics stay
        unweighted. Stops after the current batch if a callback sets
        ``model.stop_training``. ``start_weights`` (``model.get_weights()`` now, copied here
        if None) are put back if an update makes a weight non-finite.
        """
        model = self.model
        # The fallback if an update makes a weight non-finite: one copy per epoch, not per step.
        if start_weights is None:
            start_weights = model.get_weights()
        start_name = f"those at the start of epoch {epoch + 1}"
        means = RunningMeans(self.loss, metrics)
        last = len(batches) - 1
        for batch, data in enumerate(batches):
            xb, yb = data[0], data[1]
            wb = data[2] if len(data) > 2 else None
            try:
                value, y_pred = self.step(
                    xb, yb, start_weights, start_name, check_update=False, sample_weight=wb
                )
                if batch == last or model.stop_training:  # no later loss will check this update
                    self.restore_if_not_finite(start_weights, start_name, None)
            except TrainingDiverged as err:
                raise TrainingDiverged(
                    f"training diverged at epoch {epoch + 1}, batch {batch + 1}: {err}. "
                    "Lower the learning rate or scale the inputs.",
                    epoch=epoch,
                    batch=batch,
                ) from None
            means.add(value, yb, y_pred)
            running = means.means()
            for cb in callbacks:
                cb.on_batch_end(batch, running)
            if model.stop_training:
                break
        return means.means()

    def evaluate(
        self,
        x: np.ndarray,
        y: np.ndarray,
        metrics: Sequence[tuple[str, Any]] = (),
        batch_size: int | None = None,
        sample_weight: np.ndarray | None = None,
    ) -> dict[str, float]:
        """Loss (penalties included) and metrics on prepared ``(x, y)``, in inference mode,
        in batches of ``batch_size`` (None: ``model.inference_batch_size()``, all at once
        for the usual MLP). ``sample_weight`` ``(n,)`` weights the loss
        (``sum_i w_i l_i / n``), not the metrics."""
        if batch_size is None:
            batch_size = self.model.inference_batch_size()
        size = max(len(x), 1) if batch_size is None else batch_size
        if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
            raise ValueError(f"evaluate: batch_size must be an int >= 1, got {batch_size!r}")
        means = RunningMeans(self.loss, metrics)
        penalty = self.model.penalty()
        for start in range(0, len(x), size):
            xb, yb = x[start : start + size], y[start : start + size]
            xb = xb.astype(self.model.dtype, copy=False)  # a memory map's rows, cast here
            wb = None if sample_weight is None else sample_weight[start : start + size]
            value, y_pred, _, _ = self.forward_loss(
                xb, yb, False, need_gradient=False, sample_weight=wb
            )
            means.add(value + penalty, yb, y_pred)
        return means.means()


class RunningMeans:
    """Means of the loss and the metrics over the batches of an epoch, each batch counted
    by its number of rows (so the epoch's loss is ``sum_i w_i l_i / n`` over its rows with
    sample weights, the plain mean without).

    Metrics see the model's output through the loss's link function (probabilities for a
    classifier trained from logits).
    """

    def __init__(self, loss: Loss, metrics: Sequence[tuple[str, Any]]) -> None:
        self.loss, self.metrics = loss, metrics
        self.sums = {"loss": 0.0, **{name: 0.0 for name, _ in metrics}}
        self.count = 0

    def add(self, value: float, y: np.ndarray, y_pred: np.ndarray) -> None:
        k = len(y)
        self.count += k
        self.sums["loss"] += value * k
        if self.metrics:
            probs = self.loss.probabilities(y_pred)
            for name, fn in self.metrics:
                self.sums[name] += float(fn(y, probs)) * k

    def means(self) -> dict[str, float]:
        return {key: total / max(self.count, 1) for key, total in self.sums.items()}
