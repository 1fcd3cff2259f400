"""``lucidnet export MODEL.lucid MODEL.onnx``: the model as an ONNX file, checked by
onnxruntime against lucidnet before it is written (``--no-verify`` skips the check)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..export import DEFAULT_OPSET
from .commands import parse_shape

SHAPE_HELP = "whole numbers >= 1 separated by commas, like 28,28,1"

# The largest difference accepted, relative to max(1, the largest output): float32
# rounding of a whole network stays far below 1e-5; float64's far below 1e-10.
TOLERANCE = {"float32": 1e-5, "float64": 1e-10}


def add_parser(commands: argparse._SubParsersAction) -> None:
    export = commands.add_parser(
        "export",
        help="write a model as an ONNX file, for onnxruntime and other runtimes",
        description="Convert a .lucid model to ONNX (needs pip install 'lucidnet[onnx]'). The "
        "file's input is 'input' (batch, *input shape), its output 'probabilities' for a "
        "classifier (predict_proba) or 'output'. Unless --no-verify, onnxruntime first runs "
        "it on random inputs, and the file is written only if its answers are lucidnet's.",
    )
    export.add_argument("model", help="a .lucid model file")
    export.add_argument("out", help="the .onnx file to write")
    export.add_argument(
        "--opset", type=int, default=DEFAULT_OPSET, help=f"ONNX opset (default {DEFAULT_OPSET})"
    )
    export.add_argument(
        "--dtype",
        choices=("float32", "float64"),
        help="the graph's float type (default: the model's; onnxruntime has no float64 Conv)",
    )
    export.add_argument(
        "--input-shape",
        help="the per-sample input shape, like 28,28,1, for a model saved without one",
    )
    export.add_argument(
        "--no-verify", action="store_true", help="write without running it in onnxruntime"
    )
    export.set_defaults(run=cmd_export)


def cmd_export(args: argparse.Namespace) -> int:
    from ..export import ExportError, to_onnx, verify_onnx
    from ..serialization import _write_atomically, load

    model = load(args.model)
    given = args.input_shape
    input_shape = None if given is None else parse_shape(given, "--input-shape", SHAPE_HELP)
    proto = to_onnx(model, opset=args.opset, dtype=args.dtype, input_shape=input_shape)
    graph = proto.graph
    shape = ", ".join(
        d.dim_param or str(d.dim_value) for d in graph.input[0].type.tensor_type.shape.dim
    )
    what = f"ONNX opset {args.opset}, input 'input' ({shape}), output {graph.output[0].name!r}"
    if not args.no_verify:
        try:
            worst = verify_onnx(model, proto, relative=True)
        except ImportError as err:
            raise ImportError(f"{err} (or write it unchecked with --no-verify)") from None
        double = graph.input[0].type.tensor_type.elem_type == 11  # TensorProto.DOUBLE
        precision = "float64" if double and model.dtype.itemsize == 8 else "float32"
        if not worst <= TOLERANCE[precision]:
            raise ExportError(
                f"onnxruntime's answers differ from lucidnet's by {worst:.3g} (relative to the "
                f"largest output; at most {TOLERANCE[precision]:g} in {precision}); "
                f"{args.out} was not written"
            )
    _write_atomically(Path(args.out), proto.SerializeToString())
    print(f"wrote {args.out}: {what}")
    if not args.no_verify:
        print(
            f"onnxruntime agrees with lucidnet: largest difference {worst:.2g} relative to the "
            "largest output (batches of 1 and 7 random rows)"
        )
    return 0
