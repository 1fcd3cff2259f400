"""Single-sample latency of an MLP shaped like case (d)'s (784-256-128-10 with a softmax
output; its own random weights and rows): lucidnet's predict against the same model
exported with ``to_onnx`` in onnxruntime, in one process, in alternating blocks of 2,000
calls (15 rounds after a warm-up), after checking that both give the same numbers to 1e-5.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python bench/onnx_latency.py

``make bench`` measures the same in fresh processes per round (case h); this in-process
A/B is steadier on a noisy machine.
"""

import os
import statistics
import tempfile
import time

import numpy as np
import onnxruntime as ort

import lucidnet as ln
from lucidnet.export import to_onnx


def main() -> None:
    rng = np.random.default_rng(0)
    model = ln.Sequential(
        [
            ln.Dense(784, 256, seed=0),
            ln.ReLU(),
            ln.Dense(256, 128, seed=1),
            ln.ReLU(),
            ln.Dense(128, 10, seed=2),
            ln.Softmax(),
        ],
        input_shape=(784,),
    ).compile("cross_entropy", "adam")
    path = os.path.join(tempfile.mkdtemp(), "mlp.onnx")
    to_onnx(model, path)
    options = ort.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = 2, 1
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    rows = rng.normal(size=(64, 1, 784)).astype(np.float32)

    def onnx_predict(x: np.ndarray) -> np.ndarray:
        return session.run(["probabilities"], {"input": x})[0]

    worst = max(np.abs(onnx_predict(x) - model.predict(x)).max() for x in rows)
    if not worst <= 1e-5:
        raise SystemExit(f"onnxruntime differs from lucidnet by {worst}: nothing measured")

    def block(f, n: int = 2000) -> float:
        start = time.perf_counter()
        for i in range(n):
            f(rows[i % 64])
        return (time.perf_counter() - start) / n * 1e6

    for _ in range(3):  # warm-up
        block(model.predict, 500)
        block(onnx_predict, 500)
    ours, theirs = [], []
    for _ in range(15):
        ours.append(block(model.predict))
        theirs.append(block(onnx_predict))
    a, b = statistics.median(ours), statistics.median(theirs)
    ratios = [x / y for x, y in zip(ours, theirs, strict=True)]
    print(f"lucidnet predict {a:.1f} us ({min(ours):.1f}-{max(ours):.1f})")
    print(f"onnxruntime      {b:.1f} us ({min(theirs):.1f}-{max(theirs):.1f})")
    print(f"lucidnet / onnxruntime {a / b:.2f}x (per block {min(ratios):.2f}-{max(ratios):.2f})")


if __name__ == "__main__":
    main()
