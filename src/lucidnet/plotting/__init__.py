"""Pictures of a network and its training, drawn with matplotlib (the ``plot`` extra).

Each function draws one picture on a fresh ``matplotlib.figure.Figure`` with the Agg
canvas (no pyplot, no window, and the user's own backend is left alone) and returns it; a
notebook shows the returned figure. With ``path=...`` the picture is also written there,
atomically (a temporary file in the same folder, then a rename): PNG unless the suffix
names another format matplotlib writes (``.svg``, ``.pdf``).

- ``training_curves``: loss and each metric per epoch, training and validation.
- ``decision_boundary``: a 2-D classifier's prediction over the plane, data on top.
- ``boundary_animation``: the same as an animated GIF while the model trains, recorded by
  ``BoundaryRecorder``, a ``fit`` callback (pass it to your own ``fit`` too).
- ``network_diagram``: neurons and weights (colour: sign, width: size).
- ``activation_maps``: each hidden unit's activation over the plane (2 inputs).
- ``first_layer_weights``: the first layer's weight columns as images (28x28 inputs).
- ``plot_filters``: a convolution's learned kernels as a grid of small images.
- ``plot_feature_maps``: one image through a convolutional network, a row of channel
  images per convolution and pooling.
- ``confusion_matrix``: true against predicted classes, counts in the cells.
- ``predicted_vs_true``: a regression's predictions against the true values, with R².

The colours are TensorFlow Playground's: blue for positive values and class 1, orange for
negative values and class 0. ``import lucidnet`` does not import matplotlib; these
functions import it when called and, without it, raise ImportError with the install
command.

The modules: ``_common`` (matplotlib on demand, figures and their atomic save, colours,
shared checks), ``curves`` (training curves), ``plane`` (the input-plane pictures),
``network`` (the network's weights), ``filters`` (a convolutional network's filters
and feature maps) and ``results`` (the confusion matrix and the
predicted-against-true scatter).
"""

from ._common import (
    CLASS_COLOURS,
    DPI,
    INSTALL_HINT,
    NEGATIVE,
    NEUTRAL,
    POSITIVE,
    require_matplotlib,
)
from .curves import training_curves
from .filters import plot_feature_maps, plot_filters
from .network import first_layer_weights, network_diagram
from .plane import BoundaryRecorder, activation_maps, boundary_animation, decision_boundary
from .results import confusion_matrix, predicted_vs_true

__all__ = [
    "CLASS_COLOURS",
    "DPI",
    "INSTALL_HINT",
    "NEGATIVE",
    "NEUTRAL",
    "POSITIVE",
    "BoundaryRecorder",
    "activation_maps",
    "boundary_animation",
    "confusion_matrix",
    "decision_boundary",
    "first_layer_weights",
    "network_diagram",
    "plot_feature_maps",
    "plot_filters",
    "predicted_vs_true",
    "require_matplotlib",
    "training_curves",
]
