"""An ONNX graph under construction: nodes, constants, unique names, and where the data
stands (its layout and per-sample shape) between lucidnet's layers.

lucidnet's images are channels last, ``(N, H, W, C)``; ONNX's ``Conv``, ``MaxPool``,
``AveragePool``, ``GlobalAveragePool`` and ``BatchNormalization`` take channels first,
``(N, C, H, W)``. The graph keeps the layout of the current tensor and transposes only when
the next layer needs the other one::

    to channels first:  Transpose(perm=[0, 3, 1, 2])     before an image layer
    to channels last:   Transpose(perm=[0, 2, 3, 1])     before Flatten, Reshape, the output

so a ``Flatten`` after convolutions flattens in lucidnet's ``(H, W, C)`` order, which the
following ``Dense`` layer's weights were trained on.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["Graph"]

VECTOR, CHANNELS_LAST, CHANNELS_FIRST, OTHER = "vector", "nhwc", "nchw", "other"


class Graph:
    """Nodes and initializers of one graph, built in order; ``x`` is the current tensor's
    name, ``layout`` and ``shape`` (per sample, in lucidnet's channels-last terms) say
    what it holds."""

    def __init__(
        self,
        onnx: Any,
        dtype: np.dtype,
        x: str,
        shape: tuple[int, ...],
        reserved: tuple[str, ...] = (),
    ) -> None:
        self.onnx = onnx
        self.dtype = np.dtype(dtype)
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self._names: set[str] = {x, *reserved}  # the graph's input and output names
        self.x = x
        self.shape = tuple(shape)
        self.layout = VECTOR if len(shape) == 1 else CHANNELS_LAST if len(shape) == 3 else OTHER

    def name(self, hint: str) -> str:
        """``hint``, or ``hint_2``, ``hint_3``, ... : a name not used yet."""
        name, k = hint, 1
        while name in self._names:
            k += 1
            name = f"{hint}_{k}"
        self._names.add(name)
        return name

    def const(self, hint: str, value: Any, dtype: Any = None) -> str:
        """An initializer holding ``value`` (in the graph's float type unless ``dtype``)."""
        array = np.asarray(value, dtype=self.dtype if dtype is None else dtype)
        name = self.name(hint)
        self.initializers.append(self.onnx.numpy_helper.from_array(array, name))
        return name

    def node(self, op: str, inputs: list[str], hint: str, **attributes: Any) -> str:
        """Add ``op(inputs)`` with ``attributes``; its output becomes the current tensor."""
        out, name = self.name(hint), self.name(f"{hint}/{op}")
        self.nodes.append(self.onnx.helper.make_node(op, inputs, [out], name=name, **attributes))
        self.x = out
        return out

    def channels_first(self, hint: str) -> None:
        """Transpose an image to ``(N, C, H, W)`` if it is channels last."""
        if self.layout == CHANNELS_LAST:
            self.node("Transpose", [self.x], f"{hint}/to_nchw", perm=[0, 3, 1, 2])
            self.layout = CHANNELS_FIRST

    def channels_last(self, hint: str) -> None:
        """Transpose an image back to lucidnet's ``(N, H, W, C)`` if it is channels first."""
        if self.layout == CHANNELS_FIRST:
            self.node("Transpose", [self.x], f"{hint}/to_nhwc", perm=[0, 2, 3, 1])
            self.layout = CHANNELS_LAST

    @property
    def elem_type(self) -> int:
        """The ONNX element type of the graph's floats."""
        tp = self.onnx.TensorProto
        return tp.DOUBLE if self.dtype == np.float64 else tp.FLOAT
