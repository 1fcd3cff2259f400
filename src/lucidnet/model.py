"""Sequential: a stack of layers, each feeding the next, trained Keras-style.

Forward runs the layers in order; backward runs them in reverse, each turning the gradient
of its output into the gradient of its input (the chain rule, one layer at a time)::

    y = layer_n(... layer_2(layer_1(x)))
    dL/dx = layer_1.backward(layer_2.backward(... layer_n.backward(dL/dy)))
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from . import losses as losses_module
from . import metrics as metrics_module
from . import optimizers as optimizers_module
from .layers import Layer, Parameter
from .losses import Loss
from .optimizers import Optimizer

if TYPE_CHECKING:  # training imports this module; the methods below import it lazily
    from .callbacks import History

__all__ = ["Sequential"]


class Sequential:
    """A feed-forward network: ``Sequential([Dense(2, 4), ReLU(), Dense(4, 1), Sigmoid()])``.

    Layer names are made unique on construction (``dense``, ``dense_1``, ...), and the
    feature counts of consecutive layers are checked there, so a mismatch is reported
    before any data flows. ``parameters()`` returns every trainable array as
    ``Parameter("dense_1.weights", value, grad)``.

    Training follows Keras: ``compile(loss=..., optimizer=..., metrics=[...])``, then
    ``fit(X, y, epochs=..., batch_size=...)``, ``evaluate(X, y)``, ``predict(X)``; for
    classifiers also ``predict_proba`` and ``predict_classes``. The loops themselves are
    written out in ``lucidnet.training``.
    """

    def __init__(self, layers: Iterable[Layer]) -> None:
        self.layers: list[Layer] = list(layers)
        for i, layer in enumerate(self.layers):
            if not isinstance(layer, Layer):
                raise TypeError(
                    f"Sequential: layer {i} must be a lucidnet Layer, got {type(layer).__name__}"
                )
        if len({id(layer) for layer in self.layers}) != len(self.layers):
            raise ValueError("Sequential: the same layer object appears twice; create a new one")
        self._make_names_unique()
        self.output_features()  # raises on a feature-count mismatch
        self._pack_parameters()
        self.loss: Loss | None = None
        self.optimizer: Optimizer | None = None
        self.metrics: list[tuple[str, Any]] = []
        self.stop_training = False

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

    @property
    def input_features(self) -> int | None:
        """The number of input features the model takes (None if no layer fixes it)."""
        for layer in self.layers:
            width = getattr(layer, "in_features", None)
            if width is not None:
                return int(width)
        return None

    def __setstate__(self, state: dict[str, Any]) -> None:
        """After ``copy.deepcopy`` the layers hold independent copies of what were views;
        lay them out in fresh flat buffers again."""
        self.__dict__.update(state)
        self._pack_parameters()

    @property
    def flat_buffers(self) -> tuple[np.ndarray, np.ndarray] | None:
        """``(values, gradients)``: the flat buffers the parameters are views of (None if
        the layers mix dtypes)."""
        return self._flat

    def _pack_parameters(self) -> None:
        """Lay every parameter out in one flat buffer, and every gradient in another.

        Each layer's arrays become views into them (same shapes, same numbers), so an
        optimizer can update the whole model with a few calls on two flat arrays, and
        checks such as "is every gradient finite?" take one call. Parameters of several
        dtypes (a float32 layer beside a float64 one) are left as they are.
        """
        self._parameters: list[Parameter] = []
        params = [(layer, p) for layer in self.layers for p in layer.parameters()]
        # the first layer with parameters: training stops the backward pass there
        self.first_trainable = next(
            (i for i, layer in enumerate(self.layers) if layer.parameters()), len(self.layers)
        )
        dtypes = {p.value.dtype for _, p in params}
        if len(dtypes) != 1:
            self._flat = None
            self._parameters = self._collect_parameters()
            return
        size = sum(p.value.size for _, p in params)
        values = np.empty(size, dtype=dtypes.pop())
        grads = np.zeros_like(values)
        start = 0
        views: dict[int, tuple[dict[str, np.ndarray], dict[str, np.ndarray]]] = {}
        for layer, p in params:
            stop = start + p.value.size
            value_view = values[start:stop].reshape(p.value.shape)
            value_view[...] = p.value
            grad_view = grads[start:stop].reshape(p.value.shape)
            layer_values, layer_grads = views.setdefault(id(layer), ({}, {}))
            layer_values[p.name], layer_grads[p.name] = value_view, grad_view
            start = stop
        for layer in self.layers:
            if id(layer) in views:
                layer.bind_parameters(*views[id(layer)])
        self._flat = (values, grads)
        self._parameters = self._collect_parameters()

    def _collect_parameters(self) -> list[Parameter]:
        return [
            Parameter(f"{layer.name}.{p.name}", p.value, p.grad)
            for layer in self.layers
            for p in layer.parameters()
        ]

    def output_features(self, in_features: int | None = None) -> int | None:
        """Feature count after the last layer (None if no layer fixes it)."""
        features = in_features
        for layer in self.layers:
            features = layer.output_features(features)
        return features

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """Run every layer on the batch ``x: (batch, features)`` and return the output.

        ``training=True`` is passed to each layer (it changes what Dropout does).
        """
        out = np.asarray(x)
        for layer in self.layers:
            out = layer.forward(out, training=training)
        return out

    __call__ = forward

    def backward(self, grad: np.ndarray) -> np.ndarray:
        """Propagate ``dL/dy`` back through every layer; return ``dL/dx``.

        Each layer stores its parameter gradients on the way.
        """
        for layer in reversed(self.layers):
            grad = layer.backward(grad)
        return grad

    def predict(self, x: np.ndarray, batch_size: int | None = None) -> np.ndarray:
        """Inference output for ``x`` (``training=False``), in batches if ``batch_size``."""
        x = np.asarray(x)
        if batch_size is not None and (
            isinstance(batch_size, bool)
            or not isinstance(batch_size, (int, np.integer))
            or batch_size < 1
        ):
            raise ValueError(f"predict: batch_size must be an int >= 1, got {batch_size!r}")
        if batch_size is None or len(x) <= batch_size:
            return self.forward(x, training=False)
        parts = [self.forward(x[i : i + batch_size]) for i in range(0, len(x), batch_size)]
        return np.concatenate(parts)

    def parameters(self) -> list[Parameter]:
        """Every trainable array with its gradient, named ``"<layer>.<parameter>"``.

        The list is made when the parameters are laid out (construction, ``astype``) and
        handed out as a copy: training asks for it every step.
        """
        return list(self._parameters)

    def penalty(self) -> float:
        """The sum of the layers' regularization terms (L2), part of the training loss."""
        return sum(layer.penalty() for layer in self.layers)

    @property
    def dtype(self) -> np.dtype:
        """The dtype of the parameters (float32 if the model has none)."""
        params = self.parameters()
        return params[0].value.dtype if params else np.dtype(np.float32)

    def get_weights(self) -> list[np.ndarray]:
        """Copies of every parameter array, in ``parameters()`` order."""
        return [p.value.copy() for p in self.parameters()]

    def set_weights(self, weights: Sequence[np.ndarray]) -> None:
        """Copy ``weights`` (as from ``get_weights``) into the live parameter arrays."""
        params = self.parameters()
        if len(weights) != len(params):
            raise ValueError(f"set_weights: expected {len(params)} arrays, got {len(weights)}")
        for p, w in zip(params, weights, strict=True):
            w = np.asarray(w)
            if w.shape != p.value.shape:
                raise ValueError(f"set_weights: {p.name} has shape {p.value.shape}, got {w.shape}")
            np.copyto(p.value, w, casting="same_kind")

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

    def fit(self, x: Any, y: Any, **kwargs: Any) -> History:
        """Train; see ``lucidnet.training.fit`` for the arguments. Returns the History."""
        from .training import fit

        return fit(self, x, y, **kwargs)

    def evaluate(self, x: Any, y: Any, batch_size: int | None = None) -> dict[str, float]:
        """``{"loss": ..., "<metric>": ...}`` on ``(x, y)``, in inference mode."""
        from .training import evaluate

        return evaluate(self, x, y, batch_size=batch_size)

    def predict_proba(self, x: np.ndarray, batch_size: int | None = None) -> np.ndarray:
        """Class probabilities ``(n, classes)``, or ``(n, 1)`` for one sigmoid output.

        The model's output, passed through softmax or sigmoid when the compiled loss works
        from logits (``from_logits=True``).
        """
        from .training import _probabilities

        return _probabilities(self, self.predict(x, batch_size=batch_size))

    def predict_classes(self, x: np.ndarray, batch_size: int | None = None) -> np.ndarray:
        """Predicted class labels ``(n,)``: the argmax, or ``p > 0.5`` for one output."""
        return metrics_module.predicted_labels(self.predict_proba(x, batch_size=batch_size))

    def save(self, path: str, include_optimizer: bool = True) -> None:
        """Write the model to ``path`` (``lucidnet.save``): safe, atomic, no pickle."""
        from .serialization import save

        save(self, path, include_optimizer=include_optimizer)

    def count_parameters(self) -> int:
        """Total number of trainable numbers."""
        return sum(p.value.size for p in self.parameters())

    def astype(self, dtype: object) -> Sequential:
        """Convert every layer's parameters to ``dtype`` in place; return the model."""
        for layer in self.layers:
            layer.astype(dtype)
        self._pack_parameters()
        return self

    def summary(self) -> str:
        """A table of layers, output shapes and parameter counts, with the total.

        Returns the text (``print(model.summary())``).
        """
        rows = [("Layer (type)", "Output shape", "Params")]
        features: int | None = None
        for layer in self.layers:
            features = layer.output_features(features)
            count = sum(p.value.size for p in layer.parameters())
            shape = f"(batch, {features if features is not None else '?'})"
            rows.append((f"{layer.name} ({type(layer).__name__})", shape, f"{count:,}"))
        widths = [max(len(row[i]) for row in rows) for i in range(3)]
        line = "-" * (sum(widths) + 4)

        def fmt(row: tuple[str, str, str]) -> str:
            return f"{row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  {row[2]:>{widths[2]}}"

        body = [fmt(rows[0]), line, *(fmt(r) for r in rows[1:]), line]
        body.append(f"Total params: {self.count_parameters():,}")
        return "\n".join(body)

    def __repr__(self) -> str:
        inner = ", ".join(repr(layer) for layer in self.layers)
        return f"Sequential([{inner}])"
