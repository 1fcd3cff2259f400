"""lucidnet: neural networks from scratch on NumPy, every formula written out and checked.

The names a user types are exported here; the modules (``lucidnet.functional``,
``lucidnet.losses``, ...) hold the rest.
"""

from . import activations, datasets, functional, initializers, losses, optimizers
from .activations import Identity, LeakyReLU, ReLU, Sigmoid, Softmax, Step, Tanh
from .gradcheck import GradCheckReport, gradcheck
from .layers import Dense, Layer, Parameter
from .losses import MSE, BinaryCrossEntropy, CrossEntropy
from .model import Sequential
from .optimizers import SGD
from .perceptron import Perceptron
from .training import TrainingDiverged, loss_and_gradients, train_step

__version__ = "0.1.0"

__all__ = [
    "MSE",
    "SGD",
    "BinaryCrossEntropy",
    "CrossEntropy",
    "Dense",
    "GradCheckReport",
    "Identity",
    "Layer",
    "LeakyReLU",
    "Parameter",
    "Perceptron",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Softmax",
    "Step",
    "Tanh",
    "TrainingDiverged",
    "__version__",
    "activations",
    "datasets",
    "functional",
    "gradcheck",
    "initializers",
    "loss_and_gradients",
    "losses",
    "optimizers",
    "train_step",
]
