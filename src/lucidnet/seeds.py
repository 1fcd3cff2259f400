"""The worked examples of the four source documents (the "seeds"), as ready objects.

``tests/test_seeds.py`` checks their numbers and ``lucidnet demo`` prints them.

- seed 000: Rosenblatt's perceptron (``Perceptron(..., activation="step").fit``) on the
  AND, OR and XOR truth tables (``lucidnet.datasets``).
- seed 001: a two-layer NumPy network that learns XOR (``xor_network``, ``train``).
- seed 002: one sigmoid neuron, one forward and backward pass by hand (``neuron_example``
  and the ``NEURON_*`` constants).
- seed 003: the fruit network, 2-2-1 with ReLU and sigmoid (``fruit_network``).
"""

from __future__ import annotations

import numpy as np

from .activations import ReLU, Sigmoid
from .layers import Dense
from .losses import Loss
from .model import Sequential
from .optimizers import SGD
from .perceptron import Perceptron
from .training import train_step

__all__ = [
    "NEURON_D_OUTPUT",
    "NEURON_INPUT",
    "NEURON_LEARNING_RATE",
    "fruit_network",
    "neuron_example",
    "train",
    "xor_network",
]

# Seed 002's example: x = [0.5, -1.2], dL/doutput = 0.2, learning rate 0.1.
NEURON_INPUT = np.array([0.5, -1.2])
NEURON_D_OUTPUT = 0.2
NEURON_LEARNING_RATE = 0.1


def neuron_example(dtype: object = np.float64) -> Perceptron:
    """Seed 002's neuron: weights ``[0.1, -0.3]``, bias 0, sigmoid activation."""
    neuron = Perceptron(2, activation="sigmoid", dtype=dtype, seed=0)
    neuron.weights[:] = [0.1, -0.3]
    neuron.bias = neuron.dtype.type(0.0)
    return neuron


def fruit_network(dtype: object = np.float64) -> Sequential:
    """Seed 003's network: 2 inputs, 2 ReLU hidden neurons, 1 sigmoid output.

    The seed writes ``W1 = [[0.5, 0.2], [0.3, 0.8]]`` with one row per hidden neuron
    (``z = W1 x + b``); ``Dense.weights`` has one column per neuron, so it holds ``W1.T``.
    Likewise ``W2 = [0.4, 0.7]`` becomes the column ``[[0.4], [0.7]]``.
    """
    hidden = Dense(2, 2, dtype=dtype, name="hidden")
    hidden.weights[:] = np.array([[0.5, 0.2], [0.3, 0.8]]).T
    hidden.bias[:] = [0.1, 0.1]  # type: ignore[index]
    output = Dense(2, 1, dtype=dtype, name="output")
    output.weights[:] = np.array([[0.4, 0.7]]).T
    output.bias[:] = [0.2]  # type: ignore[index]
    return Sequential([hidden, ReLU(), output, Sigmoid()])


def xor_network(hidden: int = 8, seed: int = 0, dtype: object = np.float32) -> Sequential:
    """Seed 001's network for XOR: ``Dense(2, hidden)``, ReLU, ``Dense(hidden, 1)``, sigmoid.

    He initialization suits the ReLU layer, Glorot the sigmoid output.
    """
    rng = np.random.default_rng(seed)
    return Sequential(
        [
            Dense(2, hidden, init="he_normal", dtype=dtype, seed=rng),
            ReLU(),
            Dense(hidden, 1, init="glorot_uniform", dtype=dtype, seed=rng),
            Sigmoid(),
        ]
    )


def train(
    model: Sequential,
    x: np.ndarray,
    y: np.ndarray,
    loss: Loss | str = "binary_crossentropy",
    epochs: int = 2000,
    lr: float | None = None,
    learning_rate: float | None = None,
) -> list[float]:
    """Full-batch gradient descent for ``epochs`` steps; return the loss of each step.

    ``lr`` (or ``learning_rate``, Keras' name) defaults to 0.5.
    """
    if lr is None and learning_rate is None:
        lr = 0.5
    optimizer = SGD(lr, learning_rate=learning_rate)
    return [train_step(model, x, y, loss, optimizer) for _ in range(epochs)]
