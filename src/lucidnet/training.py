"""One training step: forward, loss, backward, update.

``train_step`` is the loop body that every training loop repeats::

    y_pred = model.forward(x, training=True)       # predictions
    value  = loss(y_pred, y)                        # how wrong they are
    model.backward(loss.gradient(y_pred, y))        # dL/dθ for every parameter
    optimizer.step(model.parameters())              # θ <- θ - lr * dL/dθ

with two refinements: the fused output pairs (``Sigmoid`` + binary cross-entropy,
``Softmax`` + cross-entropy) take the gradient ``p - y`` straight on the logits (see
``lucidnet.losses``), and a non-finite loss stops before the update, so the weights are
never overwritten with NaN.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from . import losses as losses_module
from . import optimizers as optimizers_module
from .losses import Loss
from .model import Sequential
from .optimizers import Optimizer
from .validation import check_finite

__all__ = ["LossAndGradients", "TrainingDiverged", "loss_and_gradients", "train_step"]


class TrainingDiverged(FloatingPointError):
    """The loss became NaN or infinite; the parameters were left as they were."""


class LossAndGradients(NamedTuple):
    """What one forward and backward pass found."""

    loss: float  # the loss value of the batch
    y_pred: np.ndarray  # the model's output, (batch, outputs)
    grad_input: np.ndarray  # dL/dx, the gradient with respect to the input batch


def loss_and_gradients(
    model: Sequential, x: np.ndarray, y: np.ndarray, loss: Loss | str, training: bool = True
) -> LossAndGradients:
    """Forward and backward for one batch; every gradient buffer holds ``dL/dθ`` after.

    When the last layer and the loss form a fused pair, the loss is computed from the last
    layer's input (the logits) and its gradient ``p - y`` enters the backward pass one
    layer earlier.
    """
    loss = losses_module.get(loss)
    layers = model.layers
    fused = fused_loss = None
    if layers:
        fused_loss = losses_module.fused_logits_loss(layers[-1], loss)
    if fused_loss is not None:
        fused = layers[-1]
        out = np.asarray(x)
        for layer in layers[:-1]:
            out = layer.forward(out, training=training)
        y_pred = fused.forward(out, training=training)
        value, grad = fused_loss.value_and_gradient(out, y)
        for layer in reversed(layers[:-1]):
            grad = layer.backward(grad)
        return LossAndGradients(value, y_pred, grad)
    y_pred = model.forward(x, training=training)
    value, grad = loss.value_and_gradient(y_pred, y)
    return LossAndGradients(value, y_pred, model.backward(grad))


def train_step(
    model: Sequential,
    x: np.ndarray,
    y: np.ndarray,
    loss: Loss | str,
    optimizer: Optimizer | str,
) -> float:
    """One gradient-descent step on the batch ``(x, y)``; return the loss before the step.

    Raises ValueError naming the row and column of a NaN or infinity in ``x`` or ``y``,
    and ``TrainingDiverged`` if the loss or a gradient is not finite (the update is then
    skipped, so the model keeps its last finite weights).
    """
    loss = losses_module.get(loss)
    optimizer = optimizers_module.get(optimizer)
    check_finite(x, "training input x")
    check_finite(y, "training target y")
    value = loss_and_gradients(model, x, y, loss, training=True).loss
    parameters = model.parameters()
    if not np.isfinite(value):
        problem = f"loss is {value}"
    else:  # a finite loss can still have overflowing gradients; one sum per array finds them
        with np.errstate(over="ignore", invalid="ignore"):
            bad = [p.name for p in parameters if not np.isfinite(np.sum(p.grad))]
        problem = f"the gradient of {bad[0]} is not finite" if bad else ""
    if problem:
        raise TrainingDiverged(
            f"{problem}; the update was skipped and the weights are unchanged. "
            "Lower the learning rate or scale the inputs."
        )
    optimizer.step(parameters)
    return value
