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

Convolutional networks (images channels last, ``(batch, height, width, channels)``) are
traced through the same steps. A ``Conv2D``, ``MaxPool2D``, ``AvgPool2D``,
``GlobalAveragePooling2D``, ``Flatten``, ``Reshape`` or ``BatchNorm`` is a layer of the trace of its
own (with the activation after it, if any); its feature maps are too many numbers to
read, so the trace gives the shapes of its input and output and works out one output
number by hand (``explain_windows``): for a convolution, the sum over the receptive field
of one position of one filter (window values, kernel values, products, sum, + bias = z);
for a pooling, its window and which value is the maximum (or their mean); for a
BatchNorm, one value normalized with the running statistics. Each worked number is
checked against the layer's own output (a mismatch raises). By default the position is
the centre of channel 0 of the first sample; ``positions={"conv2d": (row, col,
filter)}`` chooses others. Backward, such a layer gives the norms (and shapes) of
``dL/da``, ``dL/dz``, its parameters' gradients and ``dL/dx``, and the gradient at the
worked position; every number stays shown for Dense layers. ``trace.shapes`` lists every
layer of the model with its input and output shapes and its parameter count.

A ``BatchNorm`` uses its running statistics, as ``predict`` does (training would use the
batch's own statistics), and says so in a note.

When the output layer and the loss form a fused pair (sigmoid + binary cross-entropy,
softmax + cross-entropy, exp + Poisson), ``delta`` of the output layer is computed as
training computes it, ``y_hat - y`` (divided by the batch size, or by the number of
outputs for binary cross-entropy and Poisson), and the trace still shows ``dL/dy_hat`` and
``f'(z)``, whose product it equals.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from . import losses as losses_module
from .activations import Activation, Exp, Identity, Sigmoid, Softmax
from .explain_windows import WORKED, Worked, check_positions, describe, fill_backward, work_out
from .formula import Formula
from .layers import BatchNorm, Dense, Dropout, Flatten, Layer, Reshape, Standardize
from .losses import BinaryCrossEntropy, CrossEntropy, Loss, Poisson
from .model import Sequential
from .perceptron import Perceptron
from .training.penalties import PenaltyGradients

__all__ = ["LayerShape", "LayerTrace", "Trace", "explain"]

TRACED = (Dense, *WORKED, Flatten, Reshape)  # the layers a trace shows (and activation after)
Groups = list[tuple[Layer | None, Activation | None]]  # a layer and its activation


class LayerShape(NamedTuple):
    """One layer of the model: its name, type, input and output shapes (with the batch)
    and its parameter count, as ``summary`` counts them."""

    name: str
    kind: str
    input: tuple[int, ...]
    output: tuple[int, ...] | None  # None: the layer does not say
    parameters: int


@dataclass
class LayerTrace:
    """One layer's numbers: a ``Dense`` layer (or a convolution, pooling, ``Flatten`` or
    ``BatchNorm``) and its activation (either may be absent).

    Arrays have a row per sample (images: ``(batch, height, width, channels)``). The
    backward and update fields stay None when the trace has no loss gradient (no ``y``
    and no ``grad_output``) or no learning rate. ``weights`` and ``bias`` are a Dense
    layer's; another layer's parameters are in ``params``, by name.
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
    kind: str = "Dense"  # the layer's class name; "Activation" for an activation alone
    info: str = ""  # the layer's geometry: "3x3, 1 -> 8 channels, stride 1, padding 'valid'"
    worked: Worked | None = None  # one output worked out by hand (explain_windows)
    params: dict[str, np.ndarray] = field(default_factory=dict)  # not Dense: by name
    grad_params: dict[str, np.ndarray] = field(default_factory=dict)
    new_params: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def is_dense(self) -> bool:
        return self.weights is not None

    @property
    def shows_every_number(self) -> bool:
        """A Dense layer or an activation on vectors: every number is shown. Other layers
        show shapes, norms and their worked position."""
        vectors = all(np.ndim(v) <= 2 for v in (self.x, self.z, self.a))
        return (self.is_dense or self.kind == "Activation") and vectors

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
    shapes: list[LayerShape] = field(default_factory=list)  # every layer of the model

    @property
    def dense_only(self) -> bool:
        """Only Dense layers and activations: the seeds' kind of network."""
        return all(t.is_dense or t.kind == "Activation" for t in self.layers)

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
    """Pair each Dense layer (or convolution, pooling, ...) with the activation after it;
    leave Dropout out."""
    groups: Groups = []
    for layer in layers:
        if isinstance(layer, Dropout):
            notes.append(f"{layer.name} (Dropout) is the identity outside training: left out")
        elif isinstance(layer, TRACED):
            if isinstance(layer, BatchNorm):
                notes.append(
                    f"{layer.name} (BatchNorm) normalizes with its running statistics, as "
                    "predict does (training would use the batch's own mean and variance)"
                )
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
    """The loss a network's output suggests: the one it fuses with, else MSE."""
    if type(last) is Sigmoid:  # exactly, as training fuses them
        return BinaryCrossEntropy()
    if type(last) is Softmax:
        return CrossEntropy()
    if type(last) is Exp:
        return Poisson()
    return losses_module.MSE()


def _local_derivative(act: Activation, z: np.ndarray, a: np.ndarray) -> np.ndarray | None:
    if type(act) is Softmax:  # per sample: diag(a) - a a^T
        if a.ndim != 2:
            return None  # a softmax over images' channels: no Jacobian shown
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
    positions: Mapping[str, Any] | None = None,
) -> Trace:
    """Trace ``x`` through ``model``: forward, loss, backward and (with ``learning_rate``)
    one gradient-descent step; return a ``Trace``.

    Parameters
    ----------
    model : Sequential, or a ``Perceptron`` (seed 002's neuron)
    x : one sample ``(features,)`` or a tiny batch ``(batch, features)``; for a network
        of images, one image ``(height, width, channels)`` or a tiny batch of them
    y : the target(s), as the loss expects them (optional: without ``y`` and
        ``grad_output`` the trace is the forward pass only)
    loss : a loss or its name; by default the model's compiled loss, else the one its
        output suggests (binary cross-entropy after a sigmoid, cross-entropy after a
        softmax, Poisson after an exp, MSE otherwise)
    learning_rate : with it, the trace adds ``W <- W - lr dL/dW`` for every layer and
        the new prediction
    grad_output : ``dL/dy_hat`` given directly instead of a loss (seed 002 gives 0.2)
    positions : the output position worked out for a convolution, pooling or BatchNorm,
        by layer name: ``(row, column, channel)`` of its output for images (the channel
        of a convolution is its filter), ``(channel,)`` for vectors; of the first sample.
        A layer left out gets the centre of channel 0 (``(channel 0,)`` for vectors).
    """
    notes: list[str] = []
    net = _as_sequential(model)
    x_in = _batch(np.asarray(x, dtype=net.dtype), net)
    if len(x_in) > 16:
        raise ValueError(f"explain: traces are for a sample or a tiny batch; got {len(x_in)} rows")
    if learning_rate is not None and not (float(learning_rate) > 0):
        raise ValueError(f"explain: learning_rate must be > 0, got {learning_rate!r}")
    layers = list(net.layers)
    chosen = check_positions(positions, layers)
    x_arr = x_in
    if layers and isinstance(layers[0], Standardize):  # the inputs' preprocessing, first
        x_arr = _standardize(layers.pop(0), x_arr, notes)
    groups = _groups(layers, notes)
    traces = _forward(groups, x_arr, chosen)
    y_hat = traces[-1].a
    trace = Trace(x=x_arr, y=None, layers=traces, y_hat=y_hat, notes=notes)
    trace.shapes = _shapes(net, x_in)
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
        _update(net, groups, traces, trace, x_in)
    return trace


def _batch(x: np.ndarray, net: Sequential) -> np.ndarray:
    """``x`` with its batch axis: one sample ``(features,)`` or one image ``(height,
    width, channels)`` gets it; a batch of either is kept."""
    image = net.input_shape if net.input_shape is not None and len(net.input_shape) == 3 else None
    if image is not None and x.ndim in (1, 2):
        hint = ""
        if x.shape == tuple(image[:2]) and image[2] == 1:
            hint = "; add the channel axis with x[..., None]"
        elif x.shape[-1] == int(np.prod(image)):
            hint = f"; reshape each sample with x.reshape(-1, {', '.join(map(str, image))})"
        raise ValueError(
            f"explain: the model takes images {tuple(image)} (height, width, channels: "
            f"channels last), but x has shape {x.shape}{hint}"
        )
    if x.ndim == 1:
        return x.reshape(1, -1)
    if x.ndim == 3:
        return x[None]
    if x.ndim not in (2, 4):
        raise ValueError(
            "explain: x must be one sample (features,) or a batch (batch, features), or one "
            f"image (height, width, channels) or a batch of them; got shape {x.shape}"
        )
    return x


def _shapes(net: Sequential, x: np.ndarray) -> list[LayerShape]:
    """Every layer with its input and output shapes for the batch ``x``."""
    n, shape = len(x), tuple(x.shape[1:])
    out: list[LayerShape] = []
    for layer, next_shape in zip(net.layers, net.shapes(shape), strict=True):
        count = sum(p.value.size for p in layer.parameters())
        output = None if next_shape is None else (n, *next_shape)
        out.append(LayerShape(layer.name, type(layer).__name__, (n, *shape), output, count))
        if next_shape is None:
            break  # the layer does not say: the shapes after it are unknown
        shape = tuple(next_shape)
    return out


def _short(name: str) -> str:
    """A parameter's name in its layer: ``"conv2d.weights" -> "weights"``."""
    return name.rsplit(".", 1)[-1]


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


def _forward(groups: Groups, x: np.ndarray, positions: dict[str, Any]) -> list[LayerTrace]:
    traces = []
    h = x
    for i, (main, act) in enumerate(groups):
        z = main.forward(h, training=False) if main is not None else h
        a = act.forward(z, training=False) if act is not None else z
        dense = main if isinstance(main, Dense) else None
        t = LayerTrace(
            index=i + 1,
            name=main.name if main is not None else act.name,  # type: ignore[union-attr]
            activation=type(act).__name__ if act is not None else "Identity",
            derivative=(act if act is not None else Identity()).derivative_formula,
            x=h,
            weights=None if dense is None else dense.weights.copy(),
            bias=None if dense is None or dense.bias is None else dense.bias.copy(),
            z=np.array(z),
            a=np.array(a),
            l2=float(getattr(main, "l2", 0.0) or 0.0),
            l1=float(getattr(main, "l1", 0.0) or 0.0),
            kind="Activation" if main is None else type(main).__name__,
            info=describe(main),
        )
        if main is not None and dense is None:
            t.params = {_short(p.name): p.value.copy() for p in main.parameters()}
        if isinstance(main, WORKED):
            t.worked = work_out(main, h, t.z, positions.get(main.name))
        traces.append(t)
        h = a
    return traces


def _backward(
    groups: Groups,
    traces: list[LayerTrace],
    grad: np.ndarray,
    fused_delta: np.ndarray | None,
) -> None:
    for i in reversed(range(len(groups))):
        main, act = groups[i]
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
        if main is None:
            t.grad_x = t.delta
        else:
            t.grad_x = np.array(main.backward(t.delta))
            PenaltyGradients().add(main.parameters())  # + 2 l2 W, as the training step adds
            if isinstance(main, Dense):
                t.grad_weights = main.grad_weights.copy()
                t.grad_bias = None if main.grad_bias is None else main.grad_bias.copy()
            else:
                t.grad_params = {_short(p.name): p.grad.copy() for p in main.parameters()}
            if t.worked is not None:
                fill_backward(t.worked, main, t.delta, t.grad_x)
        grad = t.grad_x


def _update(
    net: Sequential,
    groups: Groups,
    traces: list[LayerTrace],
    trace: Trace,
    x: np.ndarray,
) -> None:
    """One step on every parameter; the new prediction for ``x``, the inputs as given
    (a ``Standardize`` layer of the model standardizes them again)."""
    lr = trace.learning_rate
    for (main, _), t in zip(groups, traces, strict=True):
        if isinstance(main, Dense):
            main.weights -= main.dtype.type(lr) * t.grad_weights
            t.new_weights = main.weights.copy()
            if main.bias is not None:
                main.bias -= main.dtype.type(lr) * t.grad_bias
                t.new_bias = main.bias.copy()
        elif main is not None:
            for p in main.parameters():
                name = _short(p.name)
                p.value -= p.value.dtype.type(lr) * t.grad_params[name]
                t.new_params[name] = p.value.copy()
    trace.new_y_hat = net.predict(x)
    if trace.y is not None and trace.loss_function is not None:
        with np.errstate(divide="ignore", invalid="ignore"):
            value = trace.loss_function(trace.y, trace.new_y_hat)
        trace.new_loss = float(value) + float(net.penalty())
