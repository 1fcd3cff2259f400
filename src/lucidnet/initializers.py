"""Weight initializers: ``init(shape, rng, dtype) -> array``.

For a Dense weight matrix of shape ``(fan_in, fan_out)``, or a convolution kernel
``(kh, kw, in_channels, out_channels)`` whose fans count the receptive field
(``fan_in = kh*kw*in_channels``, ``fan_out = kh*kw*out_channels``). The scale rules keep the
variance of activations roughly constant from layer to layer:

==================  ==========================================  ======================
name                distribution                                for
==================  ==========================================  ======================
``zeros``           0 (every neuron stays identical: only for   biases, tests
                    a single neuron or a demonstration)
``small_normal``    N(0, 1) * 0.1 (seed 002's ``randn * 0.1``)  the seeds' examples
``glorot_uniform``  U(-a, a), a = sqrt(6 / (fan_in + fan_out))  sigmoid, tanh (default)
``glorot_normal``   N(0, 2 / (fan_in + fan_out))                sigmoid, tanh
``he_uniform``      U(-a, a), a = sqrt(6 / fan_in)              ReLU family
``he_normal``       N(0, 2 / fan_in)                            ReLU family
``lecun_uniform``   U(-a, a), a = sqrt(3 / fan_in)              SELU, linear
``lecun_normal``    N(0, 1 / fan_in)                            SELU, linear
==================  ==========================================  ======================

``xavier_uniform`` and ``xavier_normal`` are aliases of the Glorot pair. The normal
variants are plain (untruncated) normals, as in PyTorch; Keras truncates at 2 standard
deviations.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .registry import Registry

__all__ = [
    "REGISTRY",
    "Initializer",
    "get",
    "glorot_normal",
    "glorot_uniform",
    "he_normal",
    "he_uniform",
    "lecun_normal",
    "lecun_uniform",
    "names",
    "small_normal",
    "zeros",
]

Initializer = Callable[[tuple[int, ...], np.random.Generator, np.dtype], np.ndarray]


def _fans(shape: tuple[int, ...]) -> tuple[int, int]:
    """``(fan_in, fan_out)``: ``(in, out)`` for a Dense matrix; for a convolution kernel
    ``(kh, kw, in_channels, out_channels)`` each counts the receptive field,
    ``(kh*kw*in_channels, kh*kw*out_channels)`` (Keras' and PyTorch's rule)."""
    if len(shape) > 2:
        field = int(np.prod(shape[:-2]))
        return shape[-2] * field, shape[-1] * field
    fan_in = shape[0] if len(shape) >= 1 else 1
    fan_out = shape[1] if len(shape) >= 2 else shape[0]
    return fan_in, fan_out


def _uniform(
    limit: float, shape: tuple[int, ...], rng: np.random.Generator, dtype: np.dtype
) -> np.ndarray:
    return rng.uniform(-limit, limit, size=shape).astype(dtype)


def _normal(
    std: float, shape: tuple[int, ...], rng: np.random.Generator, dtype: np.dtype
) -> np.ndarray:
    return (rng.standard_normal(size=shape) * std).astype(dtype)


def zeros(shape: tuple[int, ...], rng: np.random.Generator, dtype: np.dtype) -> np.ndarray:
    """All zeros."""
    return np.zeros(shape, dtype=dtype)


def small_normal(shape: tuple[int, ...], rng: np.random.Generator, dtype: np.dtype) -> np.ndarray:
    """``randn(*shape) * 0.1``, the initialization of seed 002."""
    return _normal(0.1, shape, rng, dtype)


def glorot_uniform(shape: tuple[int, ...], rng: np.random.Generator, dtype: np.dtype) -> np.ndarray:
    """Glorot/Xavier uniform: ``U(-a, a)``, ``a = sqrt(6 / (fan_in + fan_out))``."""
    fan_in, fan_out = _fans(shape)
    return _uniform(np.sqrt(6.0 / (fan_in + fan_out)), shape, rng, dtype)


def glorot_normal(shape: tuple[int, ...], rng: np.random.Generator, dtype: np.dtype) -> np.ndarray:
    """Glorot/Xavier normal: ``N(0, std^2)``, ``std = sqrt(2 / (fan_in + fan_out))``."""
    fan_in, fan_out = _fans(shape)
    return _normal(np.sqrt(2.0 / (fan_in + fan_out)), shape, rng, dtype)


def he_uniform(shape: tuple[int, ...], rng: np.random.Generator, dtype: np.dtype) -> np.ndarray:
    """He/Kaiming uniform: ``U(-a, a)``, ``a = sqrt(6 / fan_in)``."""
    return _uniform(np.sqrt(6.0 / _fans(shape)[0]), shape, rng, dtype)


def he_normal(shape: tuple[int, ...], rng: np.random.Generator, dtype: np.dtype) -> np.ndarray:
    """He/Kaiming normal: ``N(0, std^2)``, ``std = sqrt(2 / fan_in)``."""
    return _normal(np.sqrt(2.0 / _fans(shape)[0]), shape, rng, dtype)


def lecun_uniform(shape: tuple[int, ...], rng: np.random.Generator, dtype: np.dtype) -> np.ndarray:
    """LeCun uniform: ``U(-a, a)``, ``a = sqrt(3 / fan_in)``."""
    return _uniform(np.sqrt(3.0 / _fans(shape)[0]), shape, rng, dtype)


def lecun_normal(shape: tuple[int, ...], rng: np.random.Generator, dtype: np.dtype) -> np.ndarray:
    """LeCun normal: ``N(0, std^2)``, ``std = sqrt(1 / fan_in)``."""
    return _normal(np.sqrt(1.0 / _fans(shape)[0]), shape, rng, dtype)


REGISTRY: Registry[Initializer] = Registry("initializer")
REGISTRY.register(zeros)
REGISTRY.register(small_normal)
REGISTRY.register(glorot_uniform, "xavier_uniform")
REGISTRY.register(glorot_normal, "xavier_normal")
REGISTRY.register(he_uniform)
REGISTRY.register(he_normal)
REGISTRY.register(lecun_uniform)
REGISTRY.register(lecun_normal)


def get(identifier: str | Initializer) -> Initializer:
    """Return the initializer named ``identifier`` (case-insensitive) or the callable itself.

    Raises ValueError naming the bad value and listing the valid names.
    """
    return REGISTRY.get(identifier)


def names() -> list[str]:
    """The valid initializer names."""
    return REGISTRY.names()
