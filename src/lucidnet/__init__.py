"""lucidnet: neural networks from scratch on NumPy, every formula written out and checked.

The names a user types are exported here; the modules (``lucidnet.functional``,
``lucidnet.losses``, ...) hold the rest.
"""

__version__ = "0.1.0"  # before the imports: submodules read it

from . import (
    activations,
    callbacks,
    datasets,
    functional,
    initializers,
    losses,
    metrics,
    optimizers,
    schedules,
    seeds,
    serialization,
    weights,
)
from .activations import Exp, Identity, LeakyReLU, ReLU, Sigmoid, Softmax, Step, Tanh
from .callbacks import (
    Callback,
    EarlyStopping,
    History,
    LearningRateScheduler,
    ModelCheckpoint,
    ReduceLROnPlateau,
)
from .explain import Trace, explain
from .gradcheck import GradCheckReport, gradcheck
from .layers import (
    AvgPool2D,
    BatchNorm,
    Buffer,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    GlobalAveragePooling2D,
    Layer,
    MaxPool2D,
    Parameter,
    Reshape,
    Standardize,
)
from .losses import MSE, BinaryCrossEntropy, CrossEntropy, Poisson
from .model import Sequential
from .optimizers import SGD, Adam, AdamW, RMSprop
from .perceptron import Perceptron
from .serialization import ModelFileError, load, save
from .training import (
    Trainer,
    TrainingDiverged,
    TrainingInterrupted,
    evaluate,
    fit,
    loss_and_gradients,
    train_step,
)

__all__ = [
    "MSE",
    "SGD",
    "Adam",
    "AdamW",
    "AvgPool2D",
    "BatchNorm",
    "BinaryCrossEntropy",
    "Buffer",
    "Callback",
    "Conv2D",
    "CrossEntropy",
    "Dense",
    "Dropout",
    "EarlyStopping",
    "Exp",
    "Flatten",
    "GlobalAveragePooling2D",
    "GradCheckReport",
    "History",
    "Identity",
    "Layer",
    "LeakyReLU",
    "LearningRateScheduler",
    "MaxPool2D",
    "ModelCheckpoint",
    "ModelFileError",
    "Parameter",
    "Perceptron",
    "Poisson",
    "RMSprop",
    "ReLU",
    "ReduceLROnPlateau",
    "Reshape",
    "Sequential",
    "Sigmoid",
    "Softmax",
    "Standardize",
    "Step",
    "Tanh",
    "Trace",
    "Trainer",
    "TrainingDiverged",
    "TrainingInterrupted",
    "__version__",
    "activations",
    "callbacks",
    "datasets",
    "evaluate",
    "explain",
    "fit",
    "functional",
    "gradcheck",
    "initializers",
    "load",
    "loss_and_gradients",
    "losses",
    "metrics",
    "optimizers",
    "save",
    "schedules",
    "seeds",
    "serialization",
    "train_step",
    "weights",
]
