"""Layers: the contract (``Layer``) and the layers built on it, one module each.

``REGISTRY`` is the table of layer classes (the activations of ``lucidnet.activations``
join it too): model files, the conformance tests and exporters read it. Adding a layer is
one class plus one ``REGISTRY.register`` line; see docs/architecture.md.
"""

from ..parameters import Buffer, Parameter
from ..registry import Registry
from .base import Layer, Shape
from .batchnorm import BatchNorm
from .conv import Conv2D
from .dense import Dense
from .dropout import Dropout
from .normalization import Standardize
from .pooling import AvgPool2D, GlobalAveragePooling2D, MaxPool2D
from .reshape import Flatten, Reshape
from .weighted import WeightedLayer

__all__ = [
    "REGISTRY",
    "AvgPool2D",
    "BatchNorm",
    "Buffer",
    "Conv2D",
    "Dense",
    "Dropout",
    "Flatten",
    "GlobalAveragePooling2D",
    "Layer",
    "MaxPool2D",
    "Parameter",
    "Reshape",
    "Shape",
    "Standardize",
    "WeightedLayer",
]

REGISTRY: Registry[Layer] = Registry("layer", Layer)
REGISTRY.register(Dense)
REGISTRY.register(Dropout)
REGISTRY.register(Standardize)
REGISTRY.register(Conv2D)
REGISTRY.register(MaxPool2D)
REGISTRY.register(AvgPool2D)
REGISTRY.register(GlobalAveragePooling2D)
REGISTRY.register(Flatten)
REGISTRY.register(BatchNorm)
REGISTRY.register(Reshape)
