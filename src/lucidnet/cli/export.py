"""``lucidnet export MODEL.lucid MODEL.onnx``: the model as an ONNX file, checked by
onnxruntime against lucidnet (``--no-verify`` skips that)."""

from __future__ import annotations

import argparse

from ..export import DEFAULT_OPSET


def add_parser(commands: argparse._SubParsersAction) -> None:
    export = commands.add_parser(
        "export",
        help="write a model as an ONNX file, for onnxruntime and other runtimes",
        description="Convert a .lucid model to ONNX (needs pip install 'lucidnet[onnx]'). The "
        "file's input is 'input' (batch, *input shape), its output 'probabilities' for a "
        "classifier (predict_proba) or 'output'. Unless --no-verify, onnxruntime runs it on "
        "random inputs and its answers are compared with lucidnet's.",
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
        "--no-verify", action="store_true", help="do not run the export in onnxruntime"
    )
    export.set_defaults(run=cmd_export)


def cmd_export(args: argparse.Namespace) -> int:
    from ..export import ExportError, to_onnx, verify_onnx
    from ..serialization import load

    model = load(args.model)
    proto = to_onnx(model, args.out, opset=args.opset, dtype=args.dtype)
    graph = proto.graph
    shape = ", ".join(
        d.dim_param or str(d.dim_value) for d in graph.input[0].type.tensor_type.shape.dim
    )
    out = graph.output[0].name
    print(f"wrote {args.out}: ONNX opset {args.opset}, input 'input' ({shape}), output {out!r}")
    if not args.no_verify:
        worst = verify_onnx(model, args.out)
        double = proto.graph.input[0].type.tensor_type.elem_type == 11  # TensorProto.DOUBLE
        tolerance = 1e-10 if double else 1e-5
        if not worst <= tolerance:
            raise ExportError(
                f"onnxruntime differs from lucidnet by {worst:.3g} (more than {tolerance:g}); "
                f"{args.out} is written but does not compute what the model does"
            )
        print(f"onnxruntime agrees with lucidnet: max |difference| {worst:.2g} (batches of 1, 7)")
    return 0
