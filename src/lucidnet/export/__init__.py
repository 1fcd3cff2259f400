"""Export to ONNX: a model trained here runs in any ONNX runtime (onnxruntime, OpenCV DNN,
TensorRT, onnxruntime-web), verified number for number.

::

    from lucidnet.export import to_onnx, verify_onnx
    to_onnx(model, "model.onnx")          # writes the file atomically, returns the proto
    verify_onnx(model, "model.onnx")      # onnxruntime against lucidnet: max |difference|

The command line: ``lucidnet export model.lucid model.onnx``.

Needs the ``onnx`` extra: ``pip install 'lucidnet[onnx]'`` (the ``onnx`` package builds
and checks the graph; ``onnxruntime`` runs it for ``verify_onnx``).

The graph
---------
- One input, ``"input"``: ``(batch, *input_shape)`` with a symbolic batch size, in the
  model's float type (float32, or float64 for a float64 model). Images are channels last,
  ``(batch, H, W, C)``, exactly what ``model.predict`` takes.
- One output: for a classifier ``"probabilities"``, what ``model.predict_proba`` returns
  (a model trained from logits gets its link function, softmax or sigmoid, as the last
  node); otherwise ``"output"``, what ``model.predict`` returns.
- Inference only: Dropout is left out, BatchNorm uses its running statistics.
- Metadata (``metadata_props``): ``lucidnet_version``, ``output`` (``"predict_proba"`` or
  ``"predict"``), ``task``, and ``class_names`` and ``feature_names`` as JSON lists when
  known (given, or from the data contract a CSV-trained model carries).
- ONNX opset 17 by default, with the lowest IR version it allows (8, by ONNX's table):
  onnxruntime 1.32, the release of the day, loads them (the tests run it), and so does
  every onnxruntime since 1.12; ``opset=13`` (IR version 7) suits older runtimes. Every
  graph passes ``onnx.checker.check_model(..., full_check=True)`` before it is written.

A layer without a converter (``converters.CONVERTERS``) raises ``ExportError`` naming it:
never a wrong graph.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from .. import __version__
from ..model import Sequential

__all__ = ["DEFAULT_OPSET", "ExportError", "to_onnx", "verify_onnx"]

DEFAULT_OPSET = 17
MIN_OPSET = 13  # Softmax over one axis, Gemm and the rest as used here


class ExportError(ValueError):
    """The model cannot be exported as it is (a layer without a converter, no input shape)."""


def _onnx() -> Any:
    try:
        import onnx
        import onnx.checker
        import onnx.helper
        import onnx.numpy_helper
        import onnx.shape_inference
    except ImportError as err:
        raise ImportError(
            "exporting to ONNX needs the onnx package: pip install 'lucidnet[onnx]'"
        ) from err
    return onnx


def _input_shape(model: Sequential, given: Any) -> tuple[int, ...]:
    own = model.input_shape
    if given is None:
        if own is None:
            raise ExportError(
                "to_onnx: the model has no input_shape; build it with "
                "Sequential(..., input_shape=...) or pass input_shape=(...) (per sample)"
            )
        return tuple(own)
    try:
        shape = tuple(given)
    except TypeError:
        shape = (given,)
    if not all(
        isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 1 for v in shape
    ):
        raise ExportError(f"to_onnx: input_shape must be whole numbers >= 1, got {given!r}")
    shape = tuple(int(v) for v in shape)
    if own is not None and tuple(own) != shape:
        raise ExportError(f"to_onnx: input_shape {shape} differs from the model's {tuple(own)}")
    model.shapes(shape)  # every layer accepts it, or a ValueError names the first that does not
    return shape


def _plain(value: Any) -> Any:
    """A class name as JSON takes it: a NumPy scalar as its Python value, other values
    that JSON cannot hold as text."""
    if isinstance(value, np.generic):
        value = value.item()
    return value if isinstance(value, (str, int, float, bool)) else str(value)


def _names(model: Sequential, class_names: Any, feature_names: Any) -> dict[str, str]:
    """The metadata of the export, with the data contract's names unless given."""
    data = model.info.get("data") if isinstance(model.info, dict) else None
    if data is not None:
        from ..data_contract import DataContract

        contract = DataContract.from_json(data, "to_onnx: model.info['data']")
        class_names = class_names if class_names is not None else contract.class_names
        feature_names = feature_names if feature_names is not None else contract.input_names
    props = {
        "lucidnet_version": __version__,
        "output": "predict_proba" if model.is_classifier else "predict",
        "task": "classification" if model.is_classifier else "regression",
    }
    if class_names is not None:  # numbers stay numbers, as in the data contract
        props["class_names"] = json.dumps([_plain(c) for c in class_names])
    if feature_names is not None:
        props["feature_names"] = json.dumps([str(f) for f in feature_names])
    return props


NO_FLOAT64_IN_ONNXRUNTIME = ("Conv2D", "AvgPool2D", "GlobalAveragePooling2D")


def _check_float64(model: Sequential) -> None:
    """A float64 graph with a Conv, AveragePool or GlobalAveragePool passes the checker but
    onnxruntime's CPU provider cannot load it: refused unless float64 is asked for."""
    for i, layer in enumerate(model.layers):
        if type(layer).__name__ in NO_FLOAT64_IN_ONNXRUNTIME:
            raise ExportError(
                f"to_onnx: layer {i} {layer.name!r} ({type(layer).__name__}) in float64: "
                "onnxruntime's CPU provider has no float64 Conv, AveragePool or "
                "GlobalAveragePool. Pass dtype='float32' (the graph in float32) or "
                "dtype='float64' (for a runtime that has them)"
            )


def to_onnx(
    model: Sequential,
    path: str | os.PathLike | None = None,
    opset: int = DEFAULT_OPSET,
    input_shape: Any = None,
    class_names: Any = None,
    feature_names: Any = None,
    ir_version: int | None = None,
    dtype: Any = None,
) -> Any:
    """Convert ``model`` to an ONNX ``ModelProto`` (see the module docstring); write it to
    ``path`` atomically when given.

    Parameters
    ----------
    model : Sequential
    path : where to write the ``.onnx`` file (None: only return the proto)
    opset : the ONNX operator set, 13 or newer (default 17)
    input_shape : the per-sample input shape, when the model was built without one
    class_names, feature_names : metadata; by default the model's data contract's
    ir_version : the ONNX IR version of the file (default: the lowest the opset allows, by
        ONNX's table: 8 for opset 17, 7 for opsets 13 and 14; a lower one is refused)
    dtype : the graph's float type, float32 or float64 (default: the model's). A float64
        model with a ``Conv2D``, ``AvgPool2D`` or ``GlobalAveragePooling2D`` needs it
        said: onnxruntime's CPU provider has no float64 version of those, so the default
        refuses; ``"float32"`` runs everywhere.

    Raises ExportError for a layer without a converter (naming its position, name and
    class) or a model without an input shape; ImportError without the onnx package.
    """
    from .converters import CONVERTERS
    from .graph import CHANNELS_FIRST, Graph

    onnx = _onnx()
    if not isinstance(model, Sequential):
        raise ExportError(f"to_onnx: expected a lucidnet Sequential, got {type(model).__name__}")
    if isinstance(opset, bool) or not isinstance(opset, int) or opset < MIN_OPSET:
        raise ExportError(f"to_onnx: opset must be an int >= {MIN_OPSET}, got {opset!r}")
    shape = _input_shape(model, input_shape)
    opset_id = onnx.helper.make_opsetid("", int(opset))
    lowest = onnx.helper.find_min_ir_version_for([opset_id])
    if ir_version is None:
        ir_version = lowest
    elif isinstance(ir_version, bool) or not isinstance(ir_version, int) or ir_version < lowest:
        raise ExportError(
            f"to_onnx: opset {opset} needs IR version {lowest} or newer, got {ir_version!r}"
        )
    out_name = "probabilities" if model.is_classifier else "output"
    chosen = np.dtype(model.dtype if dtype is None else dtype)
    if chosen not in (np.float32, np.float64):
        raise ExportError(f"to_onnx: dtype must be float32 or float64, got {chosen}")
    if dtype is None and chosen == np.float64:
        _check_float64(model)
    dtype = chosen
    g = Graph(onnx, dtype, "input", shape, reserved=(out_name,))
    for i, layer in enumerate(model.layers):
        convert = CONVERTERS.get(type(layer))
        if convert is None:
            kind = f"{type(layer).__module__}.{type(layer).__name__}"
            raise ExportError(
                f"to_onnx: layer {i} {layer.name!r} ({kind}) has no ONNX converter; the "
                f"layers that export are {', '.join(sorted(c.__name__ for c in CONVERTERS))}"
            )
        convert(g, layer, layer.name)
        g.shape = layer.output_shape(g.shape)
    if g.layout == CHANNELS_FIRST:
        g.channels_last("output")
    # the link of a classifier trained from logits; a regressor's output is what predict
    # returns, so Poisson(from_log=True)'s "exp" link (log means -> means) is left out
    link = model.loss.link if model.loss is not None else "identity"
    if link == "softmax":
        g.node("Softmax", [g.x], "link", axis=-1)
    elif link == "sigmoid":
        g.node("Sigmoid", [g.x], "link")
    g.nodes.append(onnx.helper.make_node("Identity", [g.x], [out_name], name="result"))
    elem = g.elem_type
    graph = onnx.helper.make_graph(
        g.nodes,
        "lucidnet",
        [onnx.helper.make_tensor_value_info("input", elem, ["batch", *shape])],
        [onnx.helper.make_tensor_value_info(out_name, elem, ["batch", *g.shape])],
        initializer=g.initializers,
    )
    proto = onnx.helper.make_model(
        graph,
        producer_name="lucidnet",
        producer_version=__version__,
        opset_imports=[opset_id],
    )
    proto.ir_version = int(ir_version)
    onnx.helper.set_model_props(proto, _names(model, class_names, feature_names))
    try:
        onnx.checker.check_model(proto, full_check=True)
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ExportError(f"to_onnx: the ONNX checker refused the graph: {first}") from None
    if path is not None:
        from ..serialization import _write_atomically

        _write_atomically(Path(path), proto.SerializeToString())
    return proto


def verify_onnx(
    model: Sequential,
    onnx_model: Any,
    batch_sizes: tuple[int, ...] = (1, 7),
    seed: int = 0,
    relative: bool = False,
) -> float:
    """Run the exported model in onnxruntime on random inputs of ``batch_sizes`` rows and
    return the largest absolute difference from lucidnet's ``predict_proba`` (classifiers)
    or ``predict``; with ``relative``, that difference divided by ``max(1, max |lucidnet's
    output|)`` (a regression's large targets round by more in float32). A NaN in one
    output where the other has a number is an infinite difference.
    ``onnx_model``: a path or a ``ModelProto``."""
    try:
        import onnxruntime
    except ImportError as err:
        raise ImportError(
            "verifying an export needs onnxruntime: pip install 'lucidnet[onnx]'"
        ) from err
    if isinstance(onnx_model, (str, os.PathLike)):
        source: Any = str(onnx_model)
    else:
        source = onnx_model.SerializeToString()
    try:
        session = onnxruntime.InferenceSession(source, providers=["CPUExecutionProvider"])
    except Exception as err:  # onnxruntime's own exception types
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise ExportError(f"verify_onnx: onnxruntime cannot load the graph: {first}") from None
    shape = tuple(int(d) for d in session.get_inputs()[0].shape[1:])
    rng = np.random.default_rng(seed)
    worst = 0.0
    kind = session.get_inputs()[0].type  # "tensor(float)" or "tensor(double)"
    onnx_dtype = np.float64 if "double" in kind else np.float32
    for n in batch_sizes:
        x = rng.normal(size=(n, *shape)).astype(model.dtype)
        expected = model.predict_proba(x) if model.is_classifier else model.predict(x)
        (got,) = session.run(None, {"input": x.astype(onnx_dtype)})
        if got.shape != expected.shape:
            raise ExportError(
                f"verify_onnx: onnxruntime's output has shape {got.shape}, lucidnet's "
                f"{expected.shape}"
            )
        got, expected = got.astype(np.float64), np.asarray(expected, dtype=np.float64)
        if (np.isnan(got) != np.isnan(expected)).any():
            return float("inf")
        both = ~np.isnan(got)
        diff = float(np.max(np.abs(got - expected), where=both, initial=0.0))
        scale = max(1.0, float(np.max(np.abs(expected), where=both, initial=0.0)))
        worst = max(worst, diff / scale if relative else diff)
    return worst
