"""One converter per layer class: the ONNX nodes that compute the layer's inference
forward. A class missing from ``CONVERTERS`` (a layer of your own, or a subclass of one of
lucidnet's that may compute something else) is refused by ``to_onnx``: never a wrong graph.

=======================  =============================================================
lucidnet                 ONNX (opset 13 or newer)
=======================  =============================================================
Dense                    Gemm(x, W, b) with W (in, out) as stored; MatMul without bias
Identity                 (nothing)
Sigmoid, Tanh, ReLU      Sigmoid, Tanh, Relu
Exp                      Exp
LeakyReLU(alpha)         LeakyRelu(alpha); float64: Where(x > 0, x, alpha x)
Step                     Cast(Greater(x, 0)): 1 where z > 0, else 0
Softmax                  Softmax over the last axis (the channels of an image)
Dropout                  (nothing: the identity at inference)
Standardize              Div(Sub(x, mean), scale)
Conv2D                   Conv, W transposed (kh, kw, C, F) -> (F, C, kh, kw), the padding
                         as explicit pads (``"same"`` worked out for the input's size)
MaxPool2D, AvgPool2D     MaxPool, AveragePool (no padding, partial windows left out)
GlobalAveragePooling2D   GlobalAveragePool, then Flatten: (N, C)
BatchNorm                Add(Mul(Sub(x, mean), scale), beta), scale = gamma / sqrt(var +
                         eps) in float64, as lucidnet computes it
Flatten                  Flatten(axis=1) of the channels-last tensor: lucidnet's order
Reshape                  Reshape to (-1, *target_shape), from channels last
=======================  =============================================================
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .. import activations as act
from ..layers import (
    AvgPool2D,
    BatchNorm,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    GlobalAveragePooling2D,
    Layer,
    MaxPool2D,
    Reshape,
    Standardize,
)
from ..layers.windows import pad_amounts
from .graph import CHANNELS_FIRST, CHANNELS_LAST, OTHER, VECTOR, Graph

__all__ = ["CONVERTERS"]

Converter = Callable[[Graph, Any, str], None]


def _dense(g: Graph, layer: Dense, hint: str) -> None:
    w = g.const(f"{hint}/weights", layer.weights)
    if layer.bias is None:
        g.node("MatMul", [g.x, w], hint)
    else:
        g.node("Gemm", [g.x, w, g.const(f"{hint}/bias", layer.bias)], hint)


def _elementwise(op: str) -> Converter:
    def convert(g: Graph, layer: Layer, hint: str) -> None:
        g.node(op, [g.x], hint)

    return convert


def _leaky(g: Graph, layer: act.LeakyReLU, hint: str) -> None:
    """``LeakyRelu`` in float32; in float64 ``Where(x > 0, x, alpha x)``, since ONNX keeps
    the ``alpha`` attribute as a float32, which would round it."""
    if g.dtype == np.float32:
        g.node("LeakyRelu", [g.x], hint, alpha=float(layer.alpha))
        return
    x = g.x
    above = g.node("Greater", [x, g.const(f"{hint}/zero", 0.0)], f"{hint}/above")
    leaked = g.node("Mul", [x, g.const(f"{hint}/alpha", layer.alpha)], f"{hint}/leaked")
    g.node("Where", [above, x, leaked], hint)


def _step(g: Graph, layer: act.Step, hint: str) -> None:
    above = g.node("Greater", [g.x, g.const(f"{hint}/zero", 0.0)], f"{hint}/above")
    g.node("Cast", [above], hint, to=g.elem_type)


def _softmax(g: Graph, layer: act.Softmax, hint: str) -> None:
    g.node("Softmax", [g.x], hint, axis=1 if g.layout == CHANNELS_FIRST else -1)


def _nothing(g: Graph, layer: Layer, hint: str) -> None:
    return None


def _standardize(g: Graph, layer: Standardize, hint: str) -> None:
    mean, scale = layer._buffers["mean"].value, layer._buffers["scale"].value
    centred = g.node("Sub", [g.x, g.const(f"{hint}/mean", mean)], f"{hint}/centred")
    g.node("Div", [centred, g.const(f"{hint}/scale", scale)], hint)


def _conv(g: Graph, layer: Conv2D, hint: str) -> None:
    h, w = g.shape[0], g.shape[1]
    (kh, kw), (sh, sw) = layer.kernel_size, layer.stride
    top, bottom = pad_amounts(layer.padding, h, kh, sh, 0)
    left, right = pad_amounts(layer.padding, w, kw, sw, 1)
    g.channels_first(hint)
    inputs = [g.x, g.const(f"{hint}/weights", np.transpose(layer.weights, (3, 2, 0, 1)))]
    if layer.bias is not None:
        inputs.append(g.const(f"{hint}/bias", layer.bias))
    g.node(
        "Conv",
        inputs,
        hint,
        kernel_shape=[kh, kw],
        strides=[sh, sw],
        pads=[top, left, bottom, right],
    )


def _pool(op: str) -> Converter:
    def convert(g: Graph, layer: MaxPool2D | AvgPool2D, hint: str) -> None:
        g.channels_first(hint)
        g.node(op, [g.x], hint, kernel_shape=list(layer.pool_size), strides=list(layer.stride))

    return convert


def _global_average(g: Graph, layer: GlobalAveragePooling2D, hint: str) -> None:
    g.channels_first(hint)
    pooled = g.node("GlobalAveragePool", [g.x], f"{hint}/pool")
    g.node("Flatten", [pooled], hint, axis=1)
    g.layout = VECTOR


def _batchnorm(g: Graph, layer: BatchNorm, hint: str) -> None:
    """``(x - running_mean) * scale + beta`` with ``scale = gamma / sqrt(running_var +
    eps)`` worked out here in float64, as lucidnet computes it: subtracting the mean first
    keeps float32 accurate when the mean is large against the spread (ONNX's
    ``BatchNormalization`` folds the mean into the shift and loses that), and ``eps`` never
    goes through ONNX's float32 attribute. The constants broadcast over the channels: the
    last axis, or axis 1 of a channels-first image."""
    gamma = layer.parameter("gamma").value.astype(np.float64)
    mean = layer._buffers["running_mean"].value.astype(np.float64)
    var = layer._buffers["running_var"].value.astype(np.float64)
    scale = gamma / np.sqrt(var + layer.eps)
    beta = layer.parameter("beta").value.astype(np.float64)
    shape = (-1, 1, 1) if g.layout == CHANNELS_FIRST else (-1,)
    centred = g.node("Sub", [g.x, g.const(f"{hint}/running_mean", mean.reshape(shape))], hint)
    scaled = g.node("Mul", [centred, g.const(f"{hint}/scale", scale.reshape(shape))], hint)
    g.node("Add", [scaled, g.const(f"{hint}/beta", beta.reshape(shape))], hint)


def _flatten(g: Graph, layer: Flatten, hint: str) -> None:
    g.channels_last(hint)
    g.node("Flatten", [g.x], hint, axis=1)
    g.layout = VECTOR


def _reshape(g: Graph, layer: Reshape, hint: str) -> None:
    g.channels_last(hint)
    target = [int(v) for v in layer.target_shape]
    g.node("Reshape", [g.x, g.const(f"{hint}/shape", [-1, *target], np.int64)], hint)
    g.layout = {1: VECTOR, 3: CHANNELS_LAST}.get(len(target), OTHER)


CONVERTERS: dict[type, Converter] = {
    Dense: _dense,
    act.Identity: _nothing,
    act.Sigmoid: _elementwise("Sigmoid"),
    act.Tanh: _elementwise("Tanh"),
    act.ReLU: _elementwise("Relu"),
    act.Exp: _elementwise("Exp"),
    act.LeakyReLU: _leaky,
    act.Step: _step,
    act.Softmax: _softmax,
    Dropout: _nothing,
    Standardize: _standardize,
    Conv2D: _conv,
    MaxPool2D: _pool("MaxPool"),
    AvgPool2D: _pool("AveragePool"),
    GlobalAveragePooling2D: _global_average,
    BatchNorm: _batchnorm,
    Flatten: _flatten,
    Reshape: _reshape,
}
