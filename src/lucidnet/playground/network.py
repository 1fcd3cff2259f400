"""The playground's network, written once as a list of layer specifications.

``Session`` builds the network from ``layer_specs`` and the exported Python script prints
the same list as code, so the script rebuilds exactly the network the page trained::

    per hidden layer   Dense(inputs, units, l1=..., l2=...), its activation, [Dropout(rate)]
    output             Dense(., 1) + Sigmoid      two classes, binary cross-entropy
                       Dense(., k) + Softmax      k classes, cross-entropy
                       Dense(., 1)                regression, mean squared error

The penalty (``regularization``, ``reg_rate``) applies to the weights of every Dense
layer, the output's included, as in TensorFlow Playground. Every Dense layer draws its
initial weights from one generator, ``numpy.random.default_rng(seed)``, in order.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from ..model import Sequential
from ..optimizers import SGD, Adam, Optimizer, RMSprop
from .settings import Settings

__all__ = ["LayerSpec", "build", "layer_specs", "loss_name", "optimizer", "optimizer_code"]

ACTIVATION_CLASSES = {
    "tanh": "Tanh",
    "relu": "ReLU",
    "sigmoid": "Sigmoid",
    "linear": "Identity",
    "leaky_relu": "LeakyReLU",
}


class LayerSpec(NamedTuple):
    """A layer as ``lucidnet.<kind>(*args, **kwargs)``; Dense layers also take the shared
    generator as ``seed``."""

    kind: str
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] | None = None


def layer_specs(s: Settings, n_outputs: int, task: str) -> list[LayerSpec]:
    """The layers for settings ``s``; ``task`` is ``"binary"``, ``"multiclass"`` or
    ``"regression"``."""
    penalty = {s.regularization: s.reg_rate} if s.regularization != "none" and s.reg_rate else {}
    specs = []
    n_in = len(s.features)
    for i, (units, act) in enumerate(zip(s.layers, s.activations, strict=True)):
        specs.append(LayerSpec("Dense", (n_in, units), {"name": f"hidden{i + 1}", **penalty}))
        specs.append(LayerSpec(ACTIVATION_CLASSES[act]))
        if s.dropout:
            specs.append(LayerSpec("Dropout", (s.dropout,)))
        n_in = units
    specs.append(LayerSpec("Dense", (n_in, n_outputs), {"name": "output", **penalty}))
    if task == "binary":
        specs.append(LayerSpec("Sigmoid"))
    elif task == "multiclass":
        specs.append(LayerSpec("Softmax"))
    return specs


def loss_name(task: str) -> str:
    return {"binary": "bce", "multiclass": "cross_entropy", "regression": "mse"}[task]


def optimizer(s: Settings) -> Optimizer:
    """SGD, SGD with momentum 0.9, RMSprop or Adam at the learning rate."""
    if s.optimizer == "sgd":
        return SGD(s.learning_rate)
    if s.optimizer == "momentum":
        return SGD(s.learning_rate, momentum=0.9)
    if s.optimizer == "rmsprop":
        return RMSprop(s.learning_rate)
    return Adam(s.learning_rate)


def optimizer_code(s: Settings) -> str:
    """``optimizer(s)`` as Python source."""
    return {
        "sgd": f"ln.SGD({s.learning_rate!r})",
        "momentum": f"ln.SGD({s.learning_rate!r}, momentum=0.9)",
        "rmsprop": f"ln.RMSprop({s.learning_rate!r})",
        "adam": f"ln.Adam({s.learning_rate!r})",
    }[s.optimizer]


def build(s: Settings, n_outputs: int, task: str) -> Sequential:
    """The compiled network of ``layer_specs``."""
    import lucidnet

    rng = np.random.default_rng(s.seed)
    layers = []
    for spec in layer_specs(s, n_outputs, task):
        cls = getattr(lucidnet, spec.kind)
        extra = {"seed": rng} if spec.kind == "Dense" else {}
        layers.append(cls(*spec.args, **(spec.kwargs or {}), **extra))
    model = Sequential(layers, input_shape=(len(s.features),))
    return model.compile(loss_name(task), optimizer(s))
