"""The memory a ``lucidnet train`` run will need, estimated before anything is allocated.

``check_memory`` stops with a one-line error (the estimate in GiB and what to reduce) when
the estimate exceeds the memory available: ``MemAvailable`` of ``/proc/meminfo`` where it
exists, or the cap in the ``LUCIDNET_MEMORY_LIMIT`` environment variable (bytes, or a
number with ``K``, ``M``, ``G`` or ``T``: ``LUCIDNET_MEMORY_LIMIT=2G``), which wins when
set. Where neither exists nothing is checked.
"""

from __future__ import annotations

import itertools
import os
import re

import numpy as np

__all__ = [
    "ENV_LIMIT",
    "available_bytes",
    "check_memory",
    "model_training_bytes",
    "training_bytes",
]

ENV_LIMIT = "LUCIDNET_MEMORY_LIMIT"
EVAL_ROWS = 1024  # the CLI evaluates and predicts 1024 rows at a time
ARRAYS_PER_LAYER = 4  # forward outputs, dropout masks and backward gradients, per width
_UNITS = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}


def optimizer_slots(optimizer: object) -> int:
    """Arrays the optimizer keeps per parameter: Adam 2 (its moments), RMSprop 1 (plus 1
    with momentum), SGD 0 (1 with momentum); 2 for one it does not know."""
    from ..optimizers import SGD, Adam, RMSprop

    momentum = 1 if getattr(optimizer, "momentum", 0) else 0
    if isinstance(optimizer, Adam):
        return 2
    if isinstance(optimizer, RMSprop):
        return 1 + momentum
    if isinstance(optimizer, SGD):
        return momentum
    return 2


def training_bytes(
    widths: list[int], batch_size: int, slots: int, itemsize: int = 4, samples: int | None = None
) -> dict[str, int]:
    """The bytes of an MLP whose layer widths are ``widths`` (input first, output last).

    ``parameters``: the weights and biases; ``gradients``: one more copy; ``optimizer``:
    ``slots`` more copies; ``snapshot``: what ``fit`` keeps of each epoch's start to roll
    back to on an interrupt or a divergence (the weights and the optimizer's buffers,
    ``1 + slots`` copies); ``activations``: ``ARRAYS_PER_LAYER`` arrays ``(rows, width)``
    per layer, ``rows`` the larger of the training batch and the 1024 rows evaluated at
    once, but at most ``samples`` (the rows of the largest data set) when given.
    """
    params = sum((a + 1) * b for a, b in itertools.pairwise(widths))
    rows = max(batch_size, EVAL_ROWS)
    if samples is not None:
        rows = min(rows, samples)
    return {
        "parameters": params * itemsize,
        "gradients": params * itemsize,
        "optimizer": slots * params * itemsize,
        "snapshot": (1 + slots) * params * itemsize,
        "activations": ARRAYS_PER_LAYER * rows * sum(widths) * itemsize,
    }


def model_training_bytes(
    model: object, batch_size: int, slots: int, itemsize: int = 4, samples: int | None = None
) -> dict[str, int]:
    """``training_bytes`` for any Sequential with a known input shape (a convolutional
    network): its parameter count, and ``ARRAYS_PER_LAYER`` arrays per layer output of
    ``model.shapes()``, plus each Conv2D's im2col buffer (``Ho*Wo*kh*kw*C`` per row)."""
    from ..layers import Conv2D

    params = int(model.count_parameters())  # type: ignore[attr-defined]
    rows = max(batch_size, EVAL_ROWS)
    if samples is not None:
        rows = min(rows, samples)
    values = 0
    shape = model.input_shape  # type: ignore[attr-defined]
    for layer, out in zip(model.layers, model.shapes(shape), strict=True):  # type: ignore[attr-defined]
        values += ARRAYS_PER_LAYER * int(np.prod(out or (0,)))
        if isinstance(layer, Conv2D) and out is not None:
            kh, kw = layer.kernel_size
            values += out[0] * out[1] * kh * kw * layer.in_channels
        shape = out
    return {
        "parameters": params * itemsize,
        "gradients": params * itemsize,
        "optimizer": slots * params * itemsize,
        "snapshot": (1 + slots) * params * itemsize,
        "activations": rows * values * itemsize,
    }


def _parse_size(text: str) -> int:
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?)i?B?\s*", text, re.IGNORECASE)
    if match is None:
        raise ValueError(
            f"{ENV_LIMIT}={text!r}: expected a number of bytes, or one with K, M, G or T"
        )
    return int(float(match.group(1)) * _UNITS[match.group(2).upper()])


def available_bytes() -> int | None:
    """``LUCIDNET_MEMORY_LIMIT`` if set, else ``MemAvailable`` from ``/proc/meminfo``, else
    None (unknown)."""
    limit = os.environ.get(ENV_LIMIT)
    if limit:
        return _parse_size(limit)
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024  # kB
    except (OSError, ValueError, IndexError):
        pass
    return None


def check_memory(
    widths: list[int],
    batch_size: int,
    optimizer: object,
    itemsize: int = 4,
    samples: int | None = None,
    label: str = "",
    model: object | None = None,
) -> None:
    """Raise ValueError (one line, after ``label``: the estimate in GiB and what to reduce)
    when training this network would need more memory than is available: the MLP of
    ``widths``, or ``model`` when given (``model_training_bytes``)."""
    available = available_bytes()
    if available is None:
        return
    slots = optimizer_slots(optimizer)
    if model is not None:
        need = model_training_bytes(model, batch_size, slots, itemsize, samples)
    else:
        need = training_bytes(widths, batch_size, slots, itemsize, samples)
    total = sum(need.values())
    if total <= available:
        return
    name = type(optimizer).__name__
    buffers = f"{slots} buffer" + ("s" if slots != 1 else "")
    parts = [
        f"parameters {_size(need['parameters'])}",
        f"gradients {_size(need['gradients'])}",
        f"{name}'s {buffers} {_size(need['optimizer'])}",
        f"the epoch's rollback copy {_size(need['snapshot'])}",
        f"activations {_size(need['activations'])}",
    ]
    if need["activations"] > total / 2:
        advice = "use a smaller --batch-size or --layers"
    else:
        advice = "use smaller --layers" + (" (or --optimizer sgd)" if slots else "")
    raise ValueError(
        (f"{label}: " if label else "")
        + f"training needs about {_size(total)} of memory ({', '.join(parts)}), "
        f"more than the {_size(available)} available; {advice}"
    )


def _size(size: int) -> str:
    """``size`` bytes in GiB, or MiB or KiB below a tenth of the unit above."""
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20)):
        if size >= scale / 10:
            return f"{size / scale:.1f} {unit}"
    return f"{size / 2**10:.1f} KiB"
