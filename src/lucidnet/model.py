"""Sequential: a stack of layers, each feeding the next, trained Keras-style.

Forward runs the layers in order; backward runs them in reverse, each turning the gradient
of its output into the gradient of its input (the chain rule, one layer at a time)::

    y = layer_n(... layer_2(layer_1(x)))
    dL/dx = layer_1.backward(layer_2.backward(... layer_n.backward(dL/dy)))

The model owns nothing twice: its parameters are the layers' own ``Parameter`` objects,
laid out in two flat buffers (values, gradients) whose views they hold, so the optimizer
can update the whole model in a few whole-array calls. A layer belongs to one model at a
time.
"""

from __future__ import annotations

import copy
import weakref
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from . import losses as losses_module
from . import metrics as metrics_module
from . import optimizers as optimizers_module
from .layers import Layer, Shape
from .losses import Loss
from .optimizers import Optimizer
from .parameters import Buffer, FlatBuffers, Parameter, ParameterList, penalty

if TYPE_CHECKING:  # training imports this module; the methods below import it lazily
    from .callbacks import Callback, History

__all__ = ["Sequential"]


ALIGNMENT = 64  # bytes: a cache line, and what BLAS kernels load fastest from
INFERENCE_VALUES = 1 << 23  # values of the widest layer output predict runs at once


def _aligned(make: Callable[..., np.ndarray], size: int, dtype: np.dtype) -> np.ndarray:
    """``make(size, dtype)`` (``np.empty``, ``np.zeros``) starting on a 64-byte boundary.

    NumPy only promises 16-byte alignment; a matrix product reading the first layer's
    weights from a buffer that starts mid-cache-line measured 10-15 % slower here
    (single-sample predict, 784-256-128-10).
    """
    raw = make(size * dtype.itemsize + ALIGNMENT, dtype=np.uint8)
    offset = -raw.ctypes.data % ALIGNMENT
    return raw[offset : offset + size * dtype.itemsize].view(dtype)


def _shape_text(shape: Shape | None) -> str:
    if shape is None:
        return "(batch, ?)"
    return "(" + ", ".join(["batch", *map(str, shape)]) + ")"


def _execution_order(layers: Sequence[Layer]) -> tuple[int, ...]:
    """Layer positions in run order: each exact ``ReLU`` directly followed by an exact
    ``MaxPool2D`` swapped with it (``Sequential.forward`` says why that is exact)."""
    from .activations import ReLU
    from .layers import MaxPool2D

    order = list(range(len(layers)))
    i = 0
    while i < len(layers) - 1:
        if type(layers[i]) is ReLU and type(layers[i + 1]) is MaxPool2D:
            order[i], order[i + 1] = i + 1, i
            i += 2
        else:
            i += 1
    return tuple(order)


class Sequential:
    """A feed-forward network: ``Sequential([Dense(2, 4), ReLU(), Dense(4, 1), Sigmoid()])``.

    Layer names are made unique on construction (``dense``, ``dense_1``, ...), and the
    shape of every layer's output is worked out there (``input_shape``, per sample, or
    inferred from the first layer that fixes it, such as ``Dense(in, out)``), so a
    mismatch is reported before any data flows. ``parameters()`` returns every trainable
    array as the layers' own ``Parameter`` objects, named ``"dense_1.weights"``.

    Training follows Keras: ``compile(loss=..., optimizer=..., metrics=[...])``, then
    ``fit(x, y, epochs=..., batch_size=...)``, ``evaluate(x, y)``, ``predict(x)``; for
    classifiers also ``predict_proba`` and ``predict_classes``. The step and the loops are
    written out in ``lucidnet.training``.
    """

    def __init__(self, layers: Iterable[Layer], input_shape: Sequence[int] | None = None) -> None:
        # a tuple: a layer appended afterwards would run in forward but never be trained
        self._layers: tuple[Layer, ...] = tuple(layers)
        for i, layer in enumerate(self._layers):
            if not isinstance(layer, Layer):
                raise TypeError(
                    f"Sequential: layer {i} must be a lucidnet Layer, got {type(layer).__name__}"
                )
            if not hasattr(layer, "_parameters"):
                raise TypeError(
                    f"Sequential: layer {i} ({type(layer).__name__}) did not run "
                    "Layer.__init__; call super().__init__(name) in its constructor"
                )
        if len({id(layer) for layer in self.layers}) != len(self.layers):
            raise ValueError("Sequential: the same layer object appears twice; create a new one")
        for i, layer in enumerate(self.layers):
            owner = layer.owner
            if owner is not None and owner is not self:
                raise ValueError(
                    f"Sequential: layer {i} ({layer.name}) already belongs to another "
                    "Sequential, which trains its parameters in its own buffers; build new "
                    "layers, or use copy.deepcopy(layer) for an independent copy (a model "
                    "that is still referenced, e.g. by a History from fit, keeps its layers)"
                )
        self._order = _execution_order(self._layers)
        self._run = tuple(self._layers[k] for k in self._order)  # the layers in that order
        self._make_names_unique()
        self._input_shape = self._infer_input_shape(input_shape)
        self._shapes = self.shapes(self._input_shape)  # raises on a mismatch
        for layer in self.layers:
            layer._owner = weakref.ref(self)
        self._pack_parameters()
        self.loss: Loss | None = None
        self.optimizer: Optimizer | None = None
        self.metrics: list[tuple[str, Any]] = []
        self.stop_training = False
        # what the model knows of its data and training, saved with it as JSON: the data
        # contract of the CLI ("data": feature and class names, task, target, split) and
        # where training stands ("training": epochs done, seed, settings)
        self.info: dict[str, Any] = {}

    @property
    def layers(self) -> tuple[Layer, ...]:
        """The layers, input to output: a tuple fixed at construction (a layer added later
        would run in ``forward`` but never be trained, named or saved)."""
        return self._layers

    def _make_names_unique(self) -> None:
        used: set[str] = set()
        next_suffix: dict[str, int] = {}  # per base name, so that renaming stays linear
        for layer in self.layers:
            base = name = layer.name
            k = next_suffix.get(base, 1)
            while name in used:
                name, k = f"{base}_{k}", k + 1
            next_suffix[base] = k
            layer.name = name
            used.add(name)

    # --- shapes -----------------------------------------------------------------------------

    def _infer_input_shape(self, given: Sequence[int] | None) -> Shape | None:
        """The per-sample input shape: ``given``, or that of the first layer that fixes
        its own, when every layer before it keeps the shape (``keeps_shape``: the
        activations, Dropout)."""
        if given is not None:
            shape = tuple(given)
            if not all(
                isinstance(d, (int, np.integer)) and not isinstance(d, bool) and d >= 1
                for d in shape
            ):
                raise ValueError(
                    f"Sequential: input_shape must be a tuple of ints >= 1 (per sample, "
                    f"without the batch), got {given!r}"
                )
            return tuple(int(d) for d in shape)
        for i, layer in enumerate(self.layers):
            fixed = layer.input_shape
            if fixed is None:
                continue
            keeps = all(before.keeps_shape for before in self.layers[:i])
            return tuple(fixed) if keeps else None
        return None

    def shapes(self, input_shape: Sequence[int] | None = None) -> list[Shape | None]:
        """The per-sample output shape of every layer for ``input_shape`` (default: the
        model's own input shape; None where a shape is unknown).

        Raises ValueError naming the layer (position, name, type) that cannot take what
        the layer before it gives.
        """
        if input_shape is None:
            input_shape = getattr(self, "_input_shape", None)  # (unset while __init__ runs)
        shape: Shape | None = None if input_shape is None else tuple(input_shape)
        out: list[Shape | None] = []
        for i, layer in enumerate(self.layers):
            try:
                shape = layer.output_shape(shape)
            except ValueError as err:
                raise ValueError(
                    f"Sequential: layer {i} ({layer.name}, {type(layer).__name__}) cannot take "
                    f"the output of the layer before it: {err}"
                ) from None
            out.append(None if shape is None else tuple(shape))
        return out

    @property
    def input_shape(self) -> Shape | None:
        """The per-sample input shape (None if no layer fixes it)."""
        return self._input_shape

    @property
    def output_shape(self) -> Shape | None:
        """The per-sample output shape (None if unknown)."""
        return self._shapes[-1] if self._shapes else self._input_shape

    def check_input(self, x: np.ndarray, where: str) -> Shape | None:
        """Check the batch ``x`` against the model's input shape; return the per-sample
        output shape for it. Raises ValueError saying what was expected and received."""
        x_shape = tuple(np.shape(x))
        if len(x_shape) < 1:
            raise ValueError(f"{where}: x must have a batch dimension, got a scalar")
        sample = x_shape[1:]
        expected = self._input_shape
        if expected is not None:
            if sample != expected:
                hint = ""
                if x_shape == expected:
                    hint = "; a single sample needs a batch dimension (x[None] or reshape(1, -1))"
                raise ValueError(
                    f"{where}: x has shape {x_shape}, but the model takes "
                    f"{_shape_text(expected)}{hint}"
                )
            return self.output_shape
        if not sample:
            raise ValueError(f"{where}: x must be (samples, *features), got shape {x_shape}")
        return self.shapes(sample)[-1] if self.layers else sample

    # --- parameters -------------------------------------------------------------------------

    def __setstate__(self, state: dict[str, Any]) -> None:
        """After ``copy.deepcopy`` the layers hold independent copies of what were views;
        adopt them and lay them out in fresh flat buffers again."""
        self.__dict__.update(state)
        for layer in self.layers:
            layer._owner = weakref.ref(self)
        self._pack_parameters()

    def __copy__(self) -> Sequential:
        """``copy.copy`` gives an independent model, as ``copy.deepcopy`` does: a layer
        belongs to one model at a time."""
        return copy.deepcopy(self)

    def _pack_parameters(self) -> None:
        """Name every parameter ``"<layer>.<parameter>"`` and lay them out in one flat
        buffer, every gradient in another.

        Each ``Parameter``'s ``value`` and ``grad`` become views into them (same shapes,
        same numbers), so an optimizer can update the whole model with a few calls on two
        flat arrays, and checks such as "is every gradient finite?" take one call.
        Parameters of several dtypes (a float32 layer beside a float64 one) are left as
        they are, and the list carries no flat buffers.
        """
        params: list[Parameter] = []
        for layer in self.layers:
            for local, p in layer._parameters.items():
                p.name = f"{layer.name}.{local}"
                params.append(p)
            for local, b in layer._buffers.items():
                b.name = f"{layer.name}.{local}"
        # the first layer with parameters: training stops the backward pass there
        self.first_trainable = next(
            (i for i, layer in enumerate(self.layers) if layer._parameters), len(self.layers)
        )
        dtypes = {p.value.dtype for p in params}
        if len(dtypes) != 1:
            self._parameters = ParameterList(params)
            self._keep_optimizer_state()
            return
        size = sum(p.value.size for p in params)
        dtype = dtypes.pop()
        values = _aligned(np.empty, size, dtype)
        grads = _aligned(np.zeros, size, dtype)
        start = 0
        for p in params:
            stop = start + p.value.size
            value_view = values[start:stop].reshape(p.value.shape)
            value_view[...] = p.value
            p._bind(value=value_view, grad=grads[start:stop].reshape(p.value.shape))
            start = stop
        self._parameters = ParameterList(params, FlatBuffers(values, grads))
        self._keep_optimizer_state()

    def _keep_optimizer_state(self) -> None:
        """After a new layout (``astype``, a deep copy, a layer that grew a parameter), hand
        the optimizer its state for the new arrays, cast to their dtype, so that training
        goes on where it was (momentum, Adam's moments and step counts)."""
        optimizer = self.__dict__.get("optimizer")
        if optimizer is None or not optimizer.state:
            return
        params = {p.name: p.value for p in self._parameters}
        kept = {}
        for name, buffers in optimizer.get_state().items():
            value = params.get(name)
            if value is None:
                continue
            kept[name] = {
                # copies: flat state shares one step counter between all the names
                key: buf.copy() if key == "step" else buf.astype(value.dtype)
                for key, buf in buffers.items()
                if key == "step" or buf.shape == value.shape
            }
        optimizer.set_state(kept, self._parameters, optimizer.iterations)

    @property
    def flat_buffers(self) -> FlatBuffers | None:
        """``(values, grads)``: the flat buffers the parameters are views of (None if the
        layers mix dtypes)."""
        return self._parameters.flat

    def parameters(self) -> ParameterList:
        """Every trainable ``Parameter`` (the layers' own objects), named
        ``"<layer>.<parameter>"``, with the flat buffers they are views of.

        The list is made when the parameters are laid out (construction, ``astype``).
        """
        return self._parameters

    def buffers(self) -> list[Buffer]:
        """Every saved, untrained array (running statistics), named like parameters."""
        return [b for layer in self.layers for b in layer.buffers()]

    def penalty(self) -> float:
        """The parameters' penalties (L1, L2), part of the training loss."""
        return penalty(self._parameters)

    @property
    def dtype(self) -> np.dtype:
        """The dtype of the parameters (float32 if the model has none)."""
        params = self._parameters
        return params[0].value.dtype if params else np.dtype(np.float32)

    def get_weights(self) -> list[np.ndarray]:
        """Copies of every parameter array, then every buffer, in ``parameters()`` and
        ``buffers()`` order (Keras: trainable, then non-trainable weights)."""
        return [a.value.copy() for a in [*self._parameters, *self.buffers()]]

    def set_weights(self, weights: Sequence[np.ndarray]) -> None:
        """Copy ``weights`` (as from ``get_weights``) into the live parameters and buffers."""
        arrays: list[Buffer] = [*self._parameters, *self.buffers()]
        if len(weights) != len(arrays):
            raise ValueError(
                f"set_weights: expected {len(arrays)} arrays ({len(self._parameters)} "
                f"parameters, {len(arrays) - len(self._parameters)} buffers), got {len(weights)}"
            )
        for a, w in zip(arrays, weights, strict=True):
            w = np.asarray(w)
            if w.shape != a.value.shape:
                raise ValueError(f"set_weights: {a.name} has shape {a.value.shape}, got {w.shape}")
        for a, w in zip(arrays, weights, strict=True):
            a.assign(w)

    def count_parameters(self) -> int:
        """Total number of trainable numbers."""
        return sum(p.value.size for p in self._parameters)

    def astype(self, dtype: object) -> Sequential:
        """Convert every layer's parameters and (float) buffers to ``dtype`` in place;
        return the model. Its optimizer state is kept, cast to ``dtype``."""
        for layer in self.layers:
            layer._owner = None  # one layout at the end, not one per layer
            try:
                layer.astype(dtype)
            finally:
                layer._owner = weakref.ref(self)
        self._pack_parameters()
        return self

    # --- computation --------------------------------------------------------------------------

    def forward(self, x: np.ndarray, training: bool = False, end: int | None = None) -> np.ndarray:
        """Run every layer on the batch ``x: (batch, *input_shape)``; return the output.

        ``training=True`` is passed to each layer (it changes what Dropout does). ``end``
        stops below layer ``end`` (training stops below a fused output activation).

        A ``ReLU`` followed by a ``MaxPool2D`` runs as pooling first:
        ``max(relu(x)) = relu(max(x))`` for each window, and the gradients agree too (a
        window's first maximum is the same before and after the ReLU when it is positive,
        and no gradient passes either way when it is not), so only the ReLU's work
        shrinks, to a quarter for a 2x2 pool. ``execution_order`` lists the order.
        """
        out = np.asarray(x)
        for layer in self._run if end is None else self._run_below(end):
            out = layer.forward(out, training=training)
        return out

    def _run_below(self, end: int) -> tuple[Layer, ...]:
        """The layers below position ``end`` in execution order (kept per ``end``)."""
        runs = self.__dict__.setdefault("_runs_below", {})
        run = runs.get(end)
        if run is None:
            run = runs[end] = tuple(self.layers[k] for k in self._order if k < end)
        return run

    @property
    def execution_order(self) -> tuple[int, ...]:
        """The positions of the layers in the order ``forward`` runs them (``backward``
        runs the reverse): the layer order, with each ``ReLU`` directly followed by a
        ``MaxPool2D`` run after it (see ``forward``)."""
        return self._order

    __call__ = forward

    def backward(
        self, grad: np.ndarray, need_input_grad: bool = True, end: int | None = None
    ) -> np.ndarray | None:
        """Propagate ``dL/dy`` back through every layer; return ``dL/dx``.

        Each layer writes its parameter gradients on the way. Without ``need_input_grad``
        the pass stops at the first layer with parameters, which skips its input
        gradient, and returns None. ``end`` starts the pass below layer ``end`` instead
        of at the top (``grad`` is then ``dL/d(output of layer end - 1)``: training
        starts below a fused output activation).
        """
        layers = self.layers if end is None else self.layers[:end]
        if not layers:
            return grad if need_input_grad else None
        stop = 0 if need_input_grad else min(self.first_trainable, len(layers) - 1)
        for layer in self._backward_run(len(layers), stop):
            grad = layer.backward(grad)
        return layers[stop].backward(grad, need_input_grad=need_input_grad)

    def _backward_run(self, end: int, stop: int) -> tuple[Layer, ...]:
        """The layers between positions ``stop`` and ``end`` (both left out), in reverse
        execution order (kept per pair). A swapped (ReLU, MaxPool2D) pair never straddles
        ``stop``, which has parameters."""
        runs = self.__dict__.setdefault("_backward_runs", {})
        run = runs.get((end, stop))
        if run is None:
            order = [k for k in reversed(self._order) if stop < k < end]
            run = runs[(end, stop)] = tuple(self.layers[k] for k in order)
        return run

    def inference_batch_size(self) -> int | None:
        """The rows ``predict`` and ``evaluate`` run at once when no ``batch_size`` is
        given: as many as keep every layer's output (and a convolution's im2col copy) under
        ``INFERENCE_VALUES`` values, so that 10,000 images through a CNN do not need
        gigabytes at once; None (all rows at once) when a shape is unknown. An MLP's
        layers are narrow enough that its usual inputs run in one piece."""
        from .layers import Conv2D

        limit = INFERENCE_VALUES
        cached = self.__dict__.get("_inference_rows")
        # kept: the layers and shapes are fixed, and working it out took 20 us, against
        # 150 us for a whole predict of 8 rows of a 784-256-128-10 MLP
        if cached is not None and cached[0] == limit:
            return cached[1]
        widest: int | None = 0
        for layer, shape in zip(self.layers, self._shapes, strict=True):
            if shape is None:
                widest = None
                break
            values = int(np.prod(shape))
            if isinstance(layer, Conv2D):
                kh, kw = layer.kernel_size
                values += shape[0] * shape[1] * kh * kw * layer.in_channels
            widest = max(widest, values)  # type: ignore[type-var]
        rows = None if widest is None else max(1, limit // max(widest, 1))
        self._inference_rows = (limit, rows)
        return rows

    def predict(self, x: np.ndarray, batch_size: int | None = None) -> np.ndarray:
        """Inference output for ``x`` (``training=False``), in batches of ``batch_size``
        (default: ``inference_batch_size()``)."""
        x = np.asarray(x)
        if batch_size is not None and (
            isinstance(batch_size, bool)
            or not isinstance(batch_size, (int, np.integer))
            or batch_size < 1
        ):
            raise ValueError(f"predict: batch_size must be an int >= 1, got {batch_size!r}")
        if self._input_shape is not None and x.shape[1:] != self._input_shape:
            self.check_input(x, "predict")  # raises, saying what was expected
        if batch_size is None and len(x) > 1:  # (a single sample needs no splitting)
            batch_size = self.inference_batch_size()
        if batch_size is None or len(x) <= batch_size:
            return self.forward(x, training=False)
        parts = [self.forward(x[i : i + batch_size]) for i in range(0, len(x), batch_size)]
        return np.concatenate(parts)

    # --- training -----------------------------------------------------------------------------

    def compile(
        self,
        loss: Loss | str,
        optimizer: Optimizer | str = "adam",
        metrics: Sequence[Any] | None = None,
    ) -> Sequential:
        """Choose the loss, the optimizer (instance or name) and the metrics for ``fit``.

        Metrics are names (``"accuracy"``, ``"binary_accuracy"``, ``"top_k_accuracy"``,
        ``"mse"``, ``"mae"``) or functions ``f(y_true, y_pred) -> float``.
        """
        self.loss = losses_module.get(loss)
        self.optimizer = optimizers_module.get(optimizer)
        if isinstance(metrics, str) or callable(metrics):
            metrics = [metrics]
        self.metrics = [metrics_module.get(m) for m in (metrics or [])]
        return self

    def fit(
        self,
        x: Any,
        y: Any,
        epochs: int = 1,
        batch_size: int = 32,
        validation_split: float = 0.0,
        validation_data: tuple[Any, ...] | None = None,
        shuffle: bool = True,
        callbacks: Sequence[Callback] | None = None,
        verbose: int = 1,
        seed: int | None = None,
        initial_epoch: int = 0,
        sample_weight: Any = None,
        class_weight: dict[int, float] | str | None = None,
        distributed: Any = None,
    ) -> History:
        """Train on ``(x, y)``; return the History. See ``lucidnet.training.fit``
        (``sample_weight`` and ``class_weight`` as Keras': the loss of a batch is
        ``sum_i w_i l_i / batch``; the metrics stay unweighted)."""
        from .training import fit

        return fit(
            self,
            x,
            y,
            epochs=epochs,
            batch_size=batch_size,
            validation_split=validation_split,
            validation_data=validation_data,
            shuffle=shuffle,
            callbacks=callbacks,
            verbose=verbose,
            seed=seed,
            initial_epoch=initial_epoch,
            sample_weight=sample_weight,
            class_weight=class_weight,
            distributed=distributed,
        )

    def evaluate(
        self, x: Any, y: Any, batch_size: int | None = None, sample_weight: Any = None
    ) -> dict[str, float]:
        """``{"loss": ..., "<metric>": ...}`` on ``(x, y)``, in inference mode; the loss
        weighted by ``sample_weight`` ``(n,)`` if given, the metrics unweighted."""
        from .training import evaluate

        return evaluate(self, x, y, batch_size=batch_size, sample_weight=sample_weight)

    @property
    def is_classifier(self) -> bool:
        """The one rule for "is this a classifier?": the compiled loss's task is
        classification, or the output layer gives probabilities (sigmoid, softmax: a
        classifier trained with MSE, as seed 001's XOR, still counts)."""
        last = self.layers[-1] if self.layers else None
        gives_probabilities = bool(getattr(last, "gives_probabilities", False))
        return gives_probabilities or (self.loss is not None and self.loss.is_classifier)

    def predict_proba(self, x: np.ndarray, batch_size: int | None = None) -> np.ndarray:
        """Class probabilities ``(n, classes)``, or ``(n, 1)`` for one sigmoid output.

        The model's output through the compiled loss's link function (softmax or sigmoid
        when the loss works from logits, the identity otherwise).
        """
        out = self.predict(x, batch_size=batch_size)
        return out if self.loss is None else self.loss.probabilities(out)

    def predict_classes(self, x: np.ndarray, batch_size: int | None = None) -> np.ndarray:
        """Predicted class labels ``(n,)``: the argmax, or ``p > 0.5`` for one output."""
        return metrics_module.predicted_labels(self.predict_proba(x, batch_size=batch_size))

    def save(self, path: str, include_optimizer: bool = True) -> None:
        """Write the model to ``path`` (``lucidnet.save``): safe, atomic, no pickle."""
        from .serialization import save

        save(self, path, include_optimizer=include_optimizer)

    # --- text -----------------------------------------------------------------------------------

    def summary(self, print_fn: Callable[[str], Any] | None = None) -> None:
        """Print a table of layers, output shapes and parameter counts, with the totals
        (Keras' ``summary``). ``print_fn`` receives the text instead of ``print``;
        ``str(model)`` returns it."""
        (print if print_fn is None else print_fn)(self._summary_text())

    def _summary_text(self) -> str:
        rows = [("Layer (type)", "Output shape", "Params")]
        for layer, shape in zip(self.layers, self._shapes, strict=True):
            count = sum(p.value.size for p in layer.parameters())
            rows.append(
                (f"{layer.name} ({type(layer).__name__})", _shape_text(shape), f"{count:,}")
            )
        widths = [max(len(row[i]) for row in rows) for i in range(3)]
        line = "-" * (sum(widths) + 4)

        def fmt(row: tuple[str, str, str]) -> str:
            return f"{row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  {row[2]:>{widths[2]}}"

        body = [f"Input shape: {_shape_text(self._input_shape)}", fmt(rows[0]), line]
        body += [*(fmt(r) for r in rows[1:]), line]
        body.append(f"Total params: {self.count_parameters():,}")
        n_buffers = sum(b.value.size for b in self.buffers())
        if n_buffers:
            body.append(f"Non-trainable (buffers): {n_buffers:,}")
        return "\n".join(body)

    def __str__(self) -> str:
        return self._summary_text()

    def __repr__(self) -> str:
        inner = ", ".join(repr(layer) for layer in self.layers)
        return f"Sequential([{inner}])"
