"""Layers: the contract (``Layer``) and the layers built on it, one module each.

``REGISTRY`` is the table of layer classes (the activations of ``lucidnet.activations``
join it too): model files, the conformance tests and exporters read it. Adding a layer is
one class plus one ``REGISTRY.register`` line; see docs/architecture.md.
"""

from ..parameters import Buffer, Parameter
from ..registry import Registry
from .base import Layer, Shape
from .dense import Dense
from .dropout import Dropout
from .normalization import Standardize

__all__ = [
    "REGISTRY",
    "Buffer",
    "Dense",
    "Dropout",
    "Layer",
    "Parameter",
    "Shape",
    "Standardize",
]

REGISTRY: Registry[Layer] = Registry("layer", Layer)
REGISTRY.register(Dense)
REGISTRY.register(Dropout)
REGISTRY.register(Standardize)
