"""``lucidnet explain``: one sample through a network, of a worked example or a saved model."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np

EXAMPLES = ("fruit", "neuron", "xor")


def _example(name: str) -> tuple[Any, list[float], dict[str, Any], float]:
    """``(model, x, target keyword, learning rate)`` of a worked example."""
    from .. import seeds

    if name == "fruit":  # seed 003: an orange, round fruit; label 1 = orange
        return seeds.fruit_network(), [1.0, 1.0], {"y": [[1.0]]}, 0.1
    if name == "neuron":  # seed 002: dL/doutput given as 0.2
        neuron = seeds.neuron_example()
        x = [float(v) for v in seeds.NEURON_INPUT]
        return neuron, x, {"grad_output": seeds.NEURON_D_OUTPUT}, seeds.NEURON_LEARNING_RATE
    # seed 001: XOR's input (1, 0) through a fresh 2-4-1 network, target 1
    return seeds.xor_network(hidden=4, seed=0, dtype=np.float64), [1.0, 0.0], {"y": [[1.0]]}, 0.5


def _numbers(text: str, what: str) -> list[float]:
    try:
        return [float(v) for v in text.split(",")]
    except ValueError:
        msg = f"{what} must be numbers separated by commas, like 1,0.5; got {text!r}"
        raise ValueError(msg) from None


def _input(text: str, model: Any) -> Any:
    """``--input``: numbers (an image's pixels in C order, for a model of images) or a
    .npy file holding one sample or a tiny batch."""
    if text.lower().endswith(".npy"):
        try:
            x = np.load(text, allow_pickle=False)
        except (OSError, ValueError) as err:
            raise ValueError(f"--input {text}: cannot read a numeric .npy array ({err})") from None
        if x.dtype.kind not in "iuf":
            raise ValueError(f"--input {text}: expected numbers, got an array of {x.dtype}")
        return x
    values = _numbers(text, "--input")
    shape = getattr(model, "input_shape", None)
    if shape is not None and len(shape) > 1 and len(values) == int(np.prod(shape)):
        return np.reshape(values, shape)  # an image's pixels, row by row, channels together
    return values


def _positions(items: list[str] | None) -> dict[str, tuple[int, ...]] | None:
    """``--position conv2d=12,12,0`` (repeatable) as explain's ``positions``."""
    if not items:
        return None
    out: dict[str, tuple[int, ...]] = {}
    for item in items:
        name, sep, where = item.partition("=")
        numbers = [v.strip() for v in where.split(",")]
        if not (sep and name.strip() and all(v.lstrip("-").isdigit() for v in numbers)):
            raise ValueError(
                f"--position must be LAYER=ROW,COLUMN,CHANNEL (or LAYER=CHANNEL), got {item!r}"
            )
        out[name.strip()] = tuple(int(v) for v in numbers)
    return out


def cmd_explain(args: argparse.Namespace) -> int:
    from ..activations import Softmax
    from ..explain import explain
    from ..serialization import _write_atomically, load

    if (args.model is None) == (args.example is None):
        raise ValueError("give a MODEL file or --example fruit|neuron|xor (one of the two)")
    if args.example is not None:
        model, x, target, lr = _example(args.example)
    else:
        if args.input is None:
            raise ValueError("--input is needed with a MODEL file, like --input 1,1")
        model, x, target, lr = load(args.model), [], {}, None
    if args.input is not None:
        x = _input(args.input, model)
    if args.target is not None:
        values = _numbers(args.target, "--target")
        last = model.layers[-1] if hasattr(model, "layers") else None
        if isinstance(last, Softmax) and len(values) == 1:  # a class label
            if not float(values[0]).is_integer():
                raise ValueError(
                    f"--target for a softmax network is a class label, got {args.target}"
                )
            target = {"y": [int(values[0])]}
        else:  # the output values (a one-hot row for a softmax network)
            target = {"y": [values]}
    if args.lr is not None:
        lr = args.lr
    if not 0 <= args.decimals <= 12:
        raise ValueError(f"--decimals must be in 0..12, got {args.decimals}")
    positions = _positions(args.position)
    trace = explain(model, x, learning_rate=lr, positions=positions, **target)
    render = {"text": trace.to_text, "markdown": trace.to_markdown, "html": trace.to_html}
    output = render[args.format](decimals=args.decimals).rstrip("\n") + "\n"
    if args.out:
        _write_atomically(Path(args.out), output.encode())
        print(f"wrote {args.out}", file=sys.stderr)
    else:
        print(output, end="")
    return 0
