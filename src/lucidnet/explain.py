"""``explain``: one sample (or a tiny batch) through a network, number by number.

The trace follows the seeds' story: the forward pass layer by layer (``z = x W + b``, then
the activation), the loss, the backward pass layer by layer by the chain rule, and, with a
learning rate, one step of gradient descent and the new prediction::

    trace = lucidnet.explain(lucidnet.seeds.fruit_network(), [[1, 1]], y=[[1]],
                             learning_rate=0.1)
    trace.layers[0].z          # array([[0.8, 1.2]])   seed 003's z1
    trace.y_hat                # array([[0.7958]])     its y_hat
    print(trace.to_text())     # or to_markdown() (LaTeX), to_html() (one standalone page)

A "layer" of the trace is a ``Dense`` layer with the activation that follows it (a
network's ``Sequential`` lists them as two layers). For layer ``l`` with input ``x``::

    forward:   z = x W + b,        a = f(z)
    backward:  delta = dL/dz = dL/da * f'(z)          (elementwise; softmax: a Jacobian)
               dL/dW = x^T delta,  dL/db = sum of delta over the batch,
               dL/dx = delta W^T   (the dL/da of the layer before)
    update:    W <- W - lr dL/dW,  b <- b - lr dL/db

The numbers are the library's own: the trace runs the layers' ``forward`` and
``backward`` (on a copy: the model passed in is not changed). Dropout is the identity
outside training and is left out of the trace, with a note.

When the output layer and the loss form a fused pair (sigmoid + binary cross-entropy,
softmax + cross-entropy), ``delta`` of the output layer is computed as training computes
it, ``y_hat - y`` (divided by the batch size), and the trace still shows ``dL/dy_hat`` and
``f'(z)``, whose product it equals.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import losses as losses_module
from .activations import Activation, Identity, Sigmoid, Softmax
from .formula import Formula
from .layers import Dense, Dropout, Layer, Standardize
from .losses import BinaryCrossEntropy, CrossEntropy, Loss
from .model import Sequential
from .perceptron import Perceptron
from .training.penalties import PenaltyGradients

__all__ = ["LayerTrace", "Trace", "explain"]

Groups = list[tuple[Dense | None, Activation | None]]  # a Dense layer and its activation


@dataclass
class LayerTrace:
    """One layer's numbers: a ``Dense`` layer and its activation (either may be absent).

    Arrays have a row per sample. The backward and update fields stay None when the
    trace has no loss gradient (no ``y`` and no ``grad_output``) or no learning rate.
    """

    index: int  # from 1, input to output
    name: str
    activation: str  # "ReLU", "Sigmoid", ... ("Identity" when none follows the Dense)
    derivative: Formula  # f'(z), from the activation class's ``derivative_formula``
    x: np.ndarray
    weights: np.ndarray | None
    bias: np.ndarray | None
    z: np.ndarray
    a: np.ndarray
    grad_a: np.ndarray | None = None  # dL/da (for the last layer dL/dy_hat)
    local: np.ndarray | None = None  # f'(z); for softmax (batch, k, k) Jacobians
    delta: np.ndarray | None = None  # dL/dz
    grad_weights: np.ndarray | None = None
    grad_bias: np.ndarray | None = None
    grad_x: np.ndarray | None = None  # dL/dx, the dL/da of the layer before
    new_weights: np.ndarray | None = None
    new_bias: np.ndarray | None = None
    fused: bool = False  # delta came from the fused output/loss pair
    l2: float = 0.0  # the Dense layer's L2 factor: dL/dW = x^T delta + 2 l2 W
    l1: float = 0.0  # its L1 factor: dL/dW gains l1 sign(W)

    @property
    def is_dense(self) -> bool:
        return self.weights is not None

    @property
    def derivative_formula(self) -> str:
        return self.derivative.text

    @property
    def is_softmax(self) -> bool:
        return self.activation == "Softmax"

    @property
    def local_label(self) -> str:
        """``f'(z)``, or which sample's Jacobian a softmax layer shows."""
        if self.is_softmax:
            return f"J (sample 1 of {len(self.z)})" if len(self.z) > 1 else "J"
        return "f'(z)"

    @property
    def delta_formula(self) -> str:
        if self.is_softmax:  # a Jacobian per sample, not an elementwise product
            return "dL/dz = J^T dL/da"
        return "dL/dz = dL/da * f'(z)"

    @property
    def grad_weights_formula(self) -> str:
        return (
            "x^T delta"
            + (f" + 2 l2 W (l2 = {self.l2:g})" if self.l2 else "")
            + (f" + l1 sign(W) (l1 = {self.l1:g})" if self.l1 else "")
        )


@dataclass
class Trace:
    """What ``explain`` found; ``to_text``, ``to_markdown`` and ``to_html`` render it."""

    x: np.ndarray
    y: np.ndarray | None
    layers: list[LayerTrace]
    y_hat: np.ndarray
    loss_name: str | None = None
    loss: float | None = None
    penalty: float = 0.0  # the layers' L2 penalties, included in ``loss``
    grad_y_hat: np.ndarray | None = None  # dL/dy_hat
    learning_rate: float | None = None
    new_y_hat: np.ndarray | None = None
    new_loss: float | None = None
    notes: list[str] = field(default_factory=list)
    loss_function: Loss | None = None  # the loss object itself (from_logits and all)

    @property
    def loss_formula(self) -> str:
        if self.loss_name is None:
            return "dL/dy_hat given"
        if self.loss_function is not None and type(self.loss_function).formula != Loss.formula:
            return self.loss_function.formula.text
        return f"L = {self.loss_name}(y, y_hat)"

    def to_text(self, decimals: int = 4) -> str:
        """Aligned vectors and matrices for the terminal (large layers abbreviated)."""
        from .explain_render import to_text

        return to_text(self, decimals)

    def to_markdown(self, decimals: int = 4) -> str:
        """Markdown with LaTeX math (``$$ ... $$``), in the style of seed 003."""
        from .explain_render import to_markdown

        return to_markdown(self, decimals)

    def to_html(self, decimals: int = 4) -> str:
        """One standalone HTML page: no network access, an inline SVG of the network."""
        from .explain_render import to_html

        return to_html(self, decimals)

    def __str__(self) -> str:
        return self.to_text()


def _as_sequential(model: Sequential | Perceptron) -> Sequential:
    """A private copy to run: a Sequential as it is, seed 002's neuron as Dense + f."""
    if isinstance(model, Perceptron):
        dense = Dense(model.input_size, 1, dtype=model.dtype, name="neuron")
        dense.weights[:, 0] = model.weights
        dense.bias[:] = model.bias  # type: ignore[index]
        act = copy.deepcopy(model.activation) if model.activation is not None else Identity()
        return Sequential([dense, act])
    if not isinstance(model, Sequential):
        raise ValueError(f"explain: model must be a Sequential or a Perceptron, got {model!r}")
    if not model.layers:
        raise ValueError("explain: the model has no layers")
    return copy.deepcopy(model)


def _standardize(layer: Standardize, x: np.ndarray, notes: list[str]) -> np.ndarray:
    """Run the model's ``Standardize`` layer on ``x`` and say so with its numbers: the
    trace then starts from the standardized inputs."""
    mean, scale = (b.value for b in layer.buffers())
    y = layer.forward(x)
    with np.printoptions(precision=4, suppress=True):
        notes.append(
            f"{layer.name} (Standardize): the inputs x become (x - mean) / scale with "
            f"mean = {mean} and scale = {scale}; the trace starts from them: {y}"
        )
    return y


def _groups(layers: list[Layer], notes: list[str]) -> Groups:
    """Pair each Dense layer with the activation after it; leave Dropout out."""
    groups: Groups = []
    for layer in layers:
        if isinstance(layer, Dropout):
            notes.append(f"{layer.name} (Dropout) is the identity outside training: left out")
        elif isinstance(layer, Dense):
            groups.append((layer, None))
        elif isinstance(layer, Activation):
            if groups and groups[-1][0] is not None and groups[-1][1] is None:
                groups[-1] = (groups[-1][0], layer)
            else:
                groups.append((None, layer))
        else:
            raise ValueError(f"explain: cannot trace layer {layer.name} of type {type(layer)}")
    return groups


def _default_loss(last: Activation | None) -> Loss:
    """The loss a network's output suggests: its matching cross-entropy, else MSE."""
    if type(last) is Sigmoid:  # exactly, as training fuses them
        return BinaryCrossEntropy()
    if type(last) is Softmax:
        return CrossEntropy()
    return losses_module.MSE()


def _local_derivative(act: Activation, z: np.ndarray, a: np.ndarray) -> np.ndarray:
    if type(act) is Softmax:  # per sample: diag(a) - a a^T
        return np.einsum("bi,ij->bij", a, np.eye(a.shape[1], dtype=a.dtype)) - np.einsum(
            "bi,bj->bij", a, a
        )
    return act.derivative(z, a)


def explain(
    model: Sequential | Perceptron,
    x: Any,
    y: Any = None,
    loss: Loss | str | None = None,
    learning_rate: float | None = None,
    grad_output: Any = None,
) -> Trace:
    """Trace ``x`` through ``model``: forward, loss, backward and (with ``learning_rate``)
    one gradient-descent step; return a ``Trace``.

    Parameters
    ----------
    model : Sequential, or a ``Perceptron`` (seed 002's neuron)
    x : one sample ``(features,)`` or a tiny batch ``(batch, features)``
    y : the target(s), as the loss expects them (optional: without ``y`` and
        ``grad_output`` the trace is the forward pass only)
    loss : a loss or its name; by default the model's compiled loss, else the one its
        output suggests (binary cross-entropy after a sigmoid, cross-entropy after a
        softmax, MSE otherwise)
    learning_rate : with it, the trace adds ``W <- W - lr dL/dW`` for every layer and
        the new prediction
    grad_output : ``dL/dy_hat`` given directly instead of a loss (seed 002 gives 0.2)
    """
    notes: list[str] = []
    net = _as_sequential(model)
    x_arr = np.asarray(x, dtype=net.dtype)
    if x_arr.ndim == 1:
        x_arr = x_arr.reshape(1, -1)
    if x_arr.ndim != 2:
        raise ValueError(f"explain: x must be one sample or a batch (2-D), got shape {x_arr.shape}")
    if len(x_arr) > 16:
        raise ValueError(f"explain: traces are for a sample or a tiny batch; got {len(x_arr)} rows")
    if learning_rate is not None and not (float(learning_rate) > 0):
        raise ValueError(f"explain: learning_rate must be > 0, got {learning_rate!r}")
    layers = list(net.layers)
    if layers and isinstance(layers[0], Standardize):  # the inputs' preprocessing, first
        x_arr = _standardize(layers.pop(0), x_arr, notes)
    groups = _groups(layers, notes)
    traces = _forward(groups, x_arr)
    y_hat = traces[-1].a
    trace = Trace(x=x_arr, y=None, layers=traces, y_hat=y_hat, notes=notes)
    if y is None and grad_output is None:
        for given, what in ((learning_rate, "learning_rate"), (loss, "loss")):
            if given is not None:
                raise ValueError(f"explain: {what} needs a target y (or grad_output)")
        return trace
    if y is not None and grad_output is not None:
        raise ValueError("explain: give y (with a loss) or grad_output, not both")
    last = groups[-1][1]
    fused_delta = None
    loss_obj = None
    if y is not None:
        loss_obj = _pick_loss(model, loss, last)
        y_arr = _targets(y, y_hat, loss_obj)
        loss_obj.check_targets(y_arr, y_hat.shape[1:], "explain: y")
        with np.errstate(divide="ignore", invalid="ignore"):
            value, grad = loss_obj.value_and_gradient(y_arr, y_hat)
        fused = losses_module.fused_logits_loss(last, loss_obj) if last is not None else None
        if fused is not None:
            _, fused_delta = fused.value_and_gradient(y_arr, traces[-1].z)
        trace.y, trace.loss_name, trace.loss_function = y_arr, loss_obj.name, loss_obj
        trace.penalty = float(net.penalty())
        trace.loss = float(value) + trace.penalty
    else:
        if loss is not None:
            raise ValueError("explain: loss and grad_output exclude each other")
        grad = np.broadcast_to(np.asarray(grad_output, dtype=net.dtype), y_hat.shape).copy()
    trace.grad_y_hat = np.asarray(grad)
    _backward(groups, traces, trace.grad_y_hat, fused_delta)
    if learning_rate is not None:
        trace.learning_rate = float(learning_rate)
        _update(net, groups, traces, trace)
    return trace


def _targets(y: Any, y_hat: np.ndarray, loss: Loss) -> np.ndarray:
    """``y`` shaped like the batch: a scalar or one sample's targets get their row."""
    y_arr = np.asarray(y)
    if isinstance(loss, CrossEntropy) and y_arr.ndim <= 1 and y_hat.shape[1] > 1:
        labels = y_arr.reshape(-1)  # class labels, one per sample
        if len(labels) == y_hat.shape[1] and len(y_hat) == 1 and set(labels) <= {0, 1}:
            return labels.reshape(1, -1)  # one one-hot row
        return labels
    if y_arr.ndim == 0 or (y_arr.ndim == 1 and len(y_hat) == 1):
        return y_arr.reshape(1, -1)
    if y_arr.ndim == 1 and y_hat.shape[1] == 1:
        return y_arr.reshape(-1, 1)
    return y_arr


def _pick_loss(model: Any, loss: Loss | str | None, last: Activation | None) -> Loss:
    if loss is not None:
        return losses_module.get(loss)
    compiled = getattr(model, "loss", None)
    return compiled if isinstance(compiled, Loss) else _default_loss(last)


def _forward(groups: Groups, x: np.ndarray) -> list[LayerTrace]:
    traces = []
    h = x
    for i, (dense, act) in enumerate(groups):
        z = dense.forward(h, training=False) if dense is not None else h
        a = act.forward(z, training=False) if act is not None else z
        traces.append(
            LayerTrace(
                index=i + 1,
                name=dense.name if dense is not None else act.name,  # type: ignore[union-attr]
                activation=type(act).__name__ if act is not None else "Identity",
                derivative=(act if act is not None else Identity()).derivative_formula,
                x=h,
                weights=None if dense is None else dense.weights.copy(),
                bias=None if dense is None or dense.bias is None else dense.bias.copy(),
                z=np.array(z),
                a=np.array(a),
                l2=0.0 if dense is None else float(dense.l2),
                l1=0.0 if dense is None else float(dense.l1),
            )
        )
        h = a
    return traces


def _backward(
    groups: Groups,
    traces: list[LayerTrace],
    grad: np.ndarray,
    fused_delta: np.ndarray | None,
) -> None:
    for i in reversed(range(len(groups))):
        dense, act = groups[i]
        t = traces[i]
        t.grad_a = np.array(grad)
        if act is None:
            t.delta = np.array(grad)
        else:
            with np.errstate(invalid="ignore", over="ignore"):
                t.local = _local_derivative(act, t.z, t.a)
            if fused_delta is not None and i == len(groups) - 1:
                t.delta, t.fused = np.array(fused_delta), True
            else:
                t.delta = np.array(act.backward(grad))
        if dense is None:
            t.grad_x = t.delta
        else:
            t.grad_x = np.array(dense.backward(t.delta))
            PenaltyGradients().add(dense.parameters())  # + 2 l2 W, as the training step adds
            t.grad_weights = dense.grad_weights.copy()
            t.grad_bias = None if dense.grad_bias is None else dense.grad_bias.copy()
        grad = t.grad_x


def _update(
    net: Sequential,
    groups: Groups,
    traces: list[LayerTrace],
    trace: Trace,
) -> None:
    lr = trace.learning_rate
    for (dense, _), t in zip(groups, traces, strict=True):
        if dense is None:
            continue
        dense.weights -= dense.dtype.type(lr) * t.grad_weights
        t.new_weights = dense.weights.copy()
        if dense.bias is not None:
            dense.bias -= dense.dtype.type(lr) * t.grad_bias
            t.new_bias = dense.bias.copy()
    trace.new_y_hat = net.predict(trace.x)
    if trace.y is not None and trace.loss_function is not None:
        with np.errstate(divide="ignore", invalid="ignore"):
            value = trace.loss_function(trace.y, trace.new_y_hat)
        trace.new_loss = float(value) + float(net.penalty())
