"""Single-sample latency of case (d)'s MLP: lucidnet's predict against the same model
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

rng = np.random.default_rng(0)
m = ln.Sequential(
    [
        ln.Dense(784, 256, seed=0),
        ln.ReLU(),
        ln.Dense(256, 128, seed=1),
        ln.ReLU(),
        ln.Dense(128, 10, seed=2),
    ],
    input_shape=(784,),
).compile(ln.CrossEntropy(from_logits=True), "adam")
path = os.path.join(tempfile.mkdtemp(), "m.onnx")
to_onnx(m, path)
so = ort.SessionOptions()
so.intra_op_num_threads = 2
so.inter_op_num_threads = 1
s = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
xs = rng.normal(size=(64, 1, 784)).astype(np.float32)
assert (
    max(np.abs(s.run(["probabilities"], {"input": x})[0] - m.predict_proba(x)).max() for x in xs)
    < 1e-5
)


def block(f, n=2000):
    t = time.perf_counter()
    for i in range(n):
        f(xs[i % 64])
    return (time.perf_counter() - t) / n * 1e6


for _ in range(3):
    block(m.predict, 500)
    block(lambda x: s.run(["probabilities"], {"input": x}), 500)
a, b = [], []
for r in range(15):
    a.append(block(m.predict))
    b.append(block(lambda x: s.run(["probabilities"], {"input": x})))
print(
    f"lucidnet predict {statistics.median(a):.1f} us ({min(a):.1f}-{max(a):.1f}); onnxruntime {statistics.median(b):.1f} us ({min(b):.1f}-{max(b):.1f}); ratio {statistics.median(a) / statistics.median(b):.2f}x; per-block ratios {min(x / y for x, y in zip(a, b)):.2f}-{max(x / y for x, y in zip(a, b)):.2f}"
)
