"""Where a training step of case (g)'s convolutional network spends its time, layer by layer.

``env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv-bench/bin/python bench/conv_profile.py
[--batch 128] [--steps 30]`` prints a Markdown table: the median milliseconds of each
layer's forward and backward over ``--steps`` training steps (in the model's execution
order, so the first ReLU runs after its pooling), the loss and the Adam update, and the
share of the step each takes. The network is the one of ``bench/workers.py``'s conv case:
conv 32 3x3, ReLU, max-pool 2; conv 64 3x3, ReLU, max-pool 2; dense 128, ReLU; dense 10.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))  # this checkout's lucidnet

import numpy as np

import lucidnet as ln


def network() -> ln.Sequential:
    return ln.Sequential(
        [
            ln.Conv2D(1, 32, 3, init="he_normal", seed=0),
            ln.ReLU(),
            ln.MaxPool2D(2),
            ln.Conv2D(32, 64, 3, init="he_normal", seed=1),
            ln.ReLU(),
            ln.MaxPool2D(2),
            ln.Flatten(),
            ln.Dense(1600, 128, init="he_normal", seed=2),
            ln.ReLU(),
            ln.Dense(128, 10, seed=3),
            ln.Softmax(),
        ],
        input_shape=(28, 28, 1),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--steps", type=int, default=30)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    x = rng.random((args.batch, 28, 28, 1), dtype=np.float32)
    y = rng.integers(0, 10, args.batch)
    model = network()
    model.compile("crossentropy", ln.Adam(1e-3))
    loss = ln.losses.CrossEntropy(from_logits=True)
    layers, order = model.layers, model.execution_order[:-1]  # the softmax fuses with the loss
    times: dict[str, list[float]] = {}

    def timed(name: str, fn, *a, **kw):
        start = time.perf_counter()
        out = fn(*a, **kw)
        times.setdefault(name, []).append(time.perf_counter() - start)
        return out

    for step in range(args.steps + 3):
        if step == 3:
            times.clear()  # warm-up steps left out
        h = x
        for k in order:
            h = timed(f"{layers[k].name} forward", layers[k].forward, h, training=True)
        _, g = timed("loss", loss.value_and_gradient, y, h)
        for k in reversed(order):
            first = k == 0
            g = timed(f"{layers[k].name} backward", layers[k].backward, g, not first)
        timed("Adam update", model.optimizer.step, model.parameters())
    medians = {name: 1e3 * float(np.median(v)) for name, v in times.items()}
    total = sum(medians.values())
    print(f"batch {args.batch}, {args.steps} steps: median ms per step\n")
    print("| part | ms | share |\n|---|---|---|")
    for name, ms in medians.items():
        print(f"| {name} | {ms:.2f} | {ms / total:.0%} |")
    print(f"| **step** | **{total:.2f}** | {args.batch / total * 1e3:,.0f} samples/s |")


if __name__ == "__main__":
    main()
