"""One measurement in a fresh process: ``python bench/workers.py CASE CONTENDER 'PARAMS-JSON'``.

``bench/run.py`` starts this script once per measurement, so every contender pays its own
imports and runs without the state (allocator, thread pools, caches) another one left
behind. The script prints exactly one JSON line on stdout::

    {"ok": true, "case": ..., "contender": ..., "metrics": {...}, "env": {...}}

or ``{"ok": false, "error": "..."}`` (exit status 1) when the contender cannot run, for
example when PyTorch is not installed. Timings exclude process start, imports, data
loading and model construction; each timed region is described where it is measured.

Cases and contenders:

- ``prepare``  ``data``: write the Fashion-MNIST arrays as ``.npy`` files for the others.
- ``train``    ``lucidnet`` (float32, its default) / ``lucidnet-f64`` / ``torch`` (float32) /
  ``sklearn-f64`` (its default) / ``sklearn-f32``: one epoch (cases a and e: samples/s
  and peak memory beyond the data). Each loads the data in its dtype (``TRAIN_DTYPES``)
  and records the dtype its parameters had after the epoch (``param_dtype``); the
  report refuses a measurement whose parameters were not in the dtype it claims.
- ``gemm``     ``numpy``: the 8 matrix products of one training step, alone (case b).
- ``xor``      ``lucidnet-train_step`` / ``lucidnet-fit`` / ``torch`` (case c).
- ``predict``  ``lucidnet`` / ``torch`` / ``sklearn`` (case d).
- ``recipe``   ``lucidnet``: the Fashion-MNIST recipe through the CLI (case f).
- ``conv``     ``lucidnet`` / ``torch``: one (partial) epoch of the convolutional network of
  issue 13 (case g: samples/s and peak memory beyond the data).
- ``onnx``     ``lucidnet`` / ``onnxruntime``: single-sample latency of case d's MLP,
  ``predict`` against the model exported to ONNX in onnxruntime (case h, issue 15).
- ``mpi``      ``allreduce`` / ``ranks-1`` / ``ranks-1-thread`` / ``ranks-2``: case j
  (issue 17), data-parallel training over MPI; ``allreduce`` and ``ranks-2`` start
  ``mpiexec -n 2`` on this script's ``mpi-rank`` case and report rank 0's result.
- ``stream``   ``1x`` / ``10x``: one epoch of case a's MLP from a memory-mapped float32
  ``.npy`` (Fashion-MNIST, or it tiled 10 times on disk): time and peak memory (case i,
  issue 17).

Only the standard library is imported at module level: each case imports the contender's
libraries itself, so a torch measurement never loads scikit-learn and the other way round.
"""

from __future__ import annotations

import json
import os
import re
import resource
import subprocess
import sys
import time
import traceback
from statistics import median

SIZES = (784, 256, 128, 10)  # the MLP of cases a, b, d, e, h
CLASSES = 10
IMAGE = (28, 28)  # Fashion-MNIST's images, one channel (case g)


# --- process facts --------------------------------------------------------------------


def _maxrss_kib() -> int:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _status_kib(field: str) -> int | None:
    """A ``/proc/self/status`` field in KiB (VmRSS, VmHWM), or None off Linux."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak_rss() -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0: write 5 to /proc/self/clear_refs).

    A cross-check of the ru_maxrss difference: that one cannot see training memory that
    stays below an earlier peak (for instance one left by the parent process, whose peak
    a child started with vfork inherits in ru_maxrss).
    """
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
        return True
    except OSError:
        return False


def _limit_blas_threads(threads: int) -> None:
    """Give NumPy's BLAS the same thread count as every other contender."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    threadpool_limits(limits=threads, user_api="blas")


def _environment() -> dict:
    """The BLAS/OpenMP libraries loaded in this process, thread counts, versions."""
    env: dict = {"python": sys.version.split()[0], "pid": os.getpid()}
    try:
        from threadpoolctl import threadpool_info

        env["threadpools"] = [
            {
                key: pool.get(key)
                for key in (
                    "user_api",
                    "internal_api",
                    "architecture",
                    "num_threads",
                    "version",
                    "threading_layer",
                    "prefix",
                )
            }
            for pool in threadpool_info()
        ]
    except ImportError:
        env["threadpools"] = "threadpoolctl is not installed"
    modules = sys.modules
    if "numpy" in modules:
        env["numpy"] = modules["numpy"].__version__
    if "torch" in modules:
        torch = modules["torch"]
        env["torch"] = torch.__version__
        env["torch_threads"] = torch.get_num_threads()
        env["torch_interop_threads"] = torch.get_num_interop_threads()
        # PyTorch links MKL statically: threadpoolctl sees only its OpenMP runtime.
        config = torch.__config__.show()
        blas = re.search(r"BLAS_INFO=(\w+)", config)
        mkl = re.search(r"Math Kernel Library Version ([^ ]+)", config)
        env["torch_blas"] = {
            "blas": blas.group(1) if blas else None,
            "mkl_version": mkl.group(1) if mkl else None,
            "cpu_capability": torch.backends.cpu.get_cpu_capability(),
            "mkldnn": bool(torch.backends.mkldnn.is_available()),
        }
    if "sklearn" in modules:
        env["sklearn"] = modules["sklearn"].__version__
    if "onnxruntime" in modules:
        env["onnxruntime"] = modules["onnxruntime"].__version__
    if "onnx" in modules:
        env["onnx"] = modules["onnx"].__version__
    if "lucidnet" in modules:
        env["lucidnet"] = modules["lucidnet"].__version__
        env["lucidnet_file"] = modules["lucidnet"].__file__  # PYTHONPATH or the install?
    env["openblas_vars"] = {
        name: os.environ[name]
        for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
        if name in os.environ
    }
    return env


# --- data -------------------------------------------------------------------------------


def _read_npy(path: str, dtype: str, rows: int | None = None):
    """Read a ``.npy`` file into a new array of ``dtype``, in chunks.

    Converting float32 to float64 with ``astype`` would hold both copies at once and
    leave a peak in ru_maxrss that hides the training memory measured after it; reading
    in 4096-row chunks into the final array keeps the peak at the data itself.
    """
    import numpy as np

    with open(path, "rb") as f:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, fortran, stored = np.lib.format.read_array_header_1_0(f)
        elif version == (2, 0):
            shape, fortran, stored = np.lib.format.read_array_header_2_0(f)
        else:
            raise ValueError(f"{path}: .npy format {version} is not supported here")
        if fortran:
            raise ValueError(f"{path}: expected a C-order array")
        total = shape[0] if rows is None else min(rows, shape[0])
        out = np.empty((total, *shape[1:]), dtype=dtype)
        row_items = int(np.prod(shape[1:], dtype=np.int64))
        chunk = 4096
        for start in range(0, total, chunk):
            stop = min(start + chunk, total)
            block = np.fromfile(f, dtype=stored, count=(stop - start) * row_items)
            out[start:stop] = block.reshape((stop - start, *shape[1:]))
    return out


def _load(params: dict, split: str = "train", dtype: str = "float32"):
    """``(x, y)`` of the prepared data (``params["data"]``), the first ``samples`` rows."""
    folder = params["data"]
    rows = params.get("samples") if split == "train" else params.get("test_samples")
    x = _read_npy(os.path.join(folder, f"x_{split}.npy"), dtype, rows)
    y = _read_npy(os.path.join(folder, f"y_{split}.npy"), "int64", rows)
    return x, y


def case_prepare(contender: str, params: dict) -> dict:
    """Write x_train/y_train/x_test/y_test ``.npy`` files into ``params["data"]``.

    Fashion-MNIST when it is installed; otherwise random data of its shape (the throughput
    cases only need the shape), and the report says so.
    """
    import numpy as np

    folder = params["data"]
    try:
        from lucidnet.datasets import load_fashion_mnist

        (x, y), (xt, yt) = load_fashion_mnist()
        source = "Fashion-MNIST"
    except Exception as err:  # a missing data set: fall back to its shape
        rng = np.random.default_rng(0)
        x = rng.random((60000, 784), dtype=np.float32)
        y = rng.integers(0, 10, 60000)
        xt = rng.random((10000, 784), dtype=np.float32)
        yt = rng.integers(0, 10, 10000)
        source = f"random data of Fashion-MNIST's shape ({type(err).__name__}: {err})"
    arrays = {
        "x_train": x.astype(np.float32),
        "y_train": y.astype(np.int64),
        "x_test": xt.astype(np.float32),
        "y_test": yt.astype(np.int64),
    }
    for name, array in arrays.items():
        np.save(os.path.join(folder, f"{name}.npy"), np.ascontiguousarray(array))
    return {"source": source, "train_rows": len(x), "test_rows": len(xt)}


# --- (a, e) one training epoch ---------------------------------------------------------


# The dtype each training contender is meant to train in: its data is loaded in it, and
# its parameters must have it after the epoch (``param_dtype`` in its metrics).
TRAIN_DTYPES = {
    "lucidnet": "float32",
    "lucidnet-f64": "float64",
    "torch": "float32",
    "sklearn-f64": "float64",
    "sklearn-f32": "float32",
}


def _lucidnet_mlp(dtype: str = "float32"):
    """Case (a)'s MLP; ``dtype`` of its parameters (the same initial values up to the
    rounding: the initializers draw in float64 and cast)."""
    import lucidnet as ln

    return ln.Sequential(
        [
            ln.Dense(784, 256, init="he_normal", seed=0, dtype=dtype),
            ln.ReLU(),
            ln.Dense(256, 128, init="he_normal", seed=1, dtype=dtype),
            ln.ReLU(),
            ln.Dense(128, 10, seed=2, dtype=dtype),
            ln.Softmax(),
        ]
    )


def _dtype_of(arrays) -> str | None:
    """The one dtype of ``arrays`` ("float32"), "mixed: float32, float64", or None when
    there are none."""
    found = sorted({str(a.dtype) for a in arrays})
    if not found:
        return None
    return found[0] if len(found) == 1 else "mixed: " + ", ".join(found)


def _torch_mlp(softmax: bool = False):
    import torch
    from torch import nn

    torch.manual_seed(0)
    layers = [
        nn.Linear(784, 256),
        nn.ReLU(),
        nn.Linear(256, 128),
        nn.ReLU(),
        nn.Linear(128, 10),
    ]
    if softmax:
        layers.append(nn.Softmax(dim=1))
    return nn.Sequential(*layers)


def _sklearn_mlp(batch_size: int):
    from sklearn.neural_network import MLPClassifier

    # alpha=0: no L2 term, the same objective as the other contenders.
    return MLPClassifier(
        hidden_layer_sizes=(256, 128),
        activation="relu",
        solver="adam",
        alpha=0.0,
        batch_size=batch_size,
        learning_rate_init=1e-3,
        max_iter=1,
        shuffle=True,
        random_state=0,
    )


def _timed_epoch(warm_up, epoch) -> tuple[float, dict]:
    """Seconds of ``epoch()`` after ``warm_up()``, and the memory they took beyond the data.

    Call it once the data is loaded and the model built: the baseline is ru_maxrss (and
    the RSS) at the call; the peak is taken after the timed epoch. The cross-check resets
    the kernel's peak RSS (VmHWM) at the baseline.
    """
    base_kib, rss_kib = _maxrss_kib(), _status_kib("VmRSS")
    reset = _reset_peak_rss()
    warm_up()
    start = time.perf_counter()
    epoch()
    seconds = time.perf_counter() - start
    peak_kib, hwm_kib = _maxrss_kib(), _status_kib("VmHWM")
    return seconds, {
        "rss_after_setup_mib": (rss_kib or 0) / 1024,
        "maxrss_setup_mib": base_kib / 1024,
        "maxrss_peak_mib": peak_kib / 1024,
        "beyond_data_mib": (peak_kib - base_kib) / 1024,
        "hwm_beyond_data_mib": (
            (hwm_kib - rss_kib) / 1024 if reset and hwm_kib and rss_kib else None
        ),
    }


def _torch_epochs(model, xt, yt, batch: int):
    """``epoch(rows)``: shuffled mini-batches of the first ``rows`` rows of ``xt, yt``,
    ``zero_grad(set_to_none=True)``, forward, ``nn.CrossEntropyLoss`` on the logits
    (log-softmax and NLL fused), ``backward``, ``torch.optim.Adam(lr=1e-3).step``."""
    import torch
    from torch import nn

    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(0)

    def epoch(rows: int) -> None:
        order = torch.randperm(rows, generator=generator)
        for i in range(0, rows, batch):
            index = order[i : i + batch]
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(xt[index]), yt[index])
            loss.backward()
            optimizer.step()

    model.train()
    epoch.optimizer = optimizer  # for the dtype of its state
    return epoch


def _lucidnet_epochs(model, x, y, batch: int):
    """``epoch(rows, seed)``: ``fit`` for one epoch on the first ``rows`` rows (after
    ``compile('crossentropy', Adam(1e-3), metrics=['accuracy'])``)."""
    import lucidnet as ln

    model.compile("crossentropy", ln.Adam(1e-3), metrics=["accuracy"])

    def epoch(rows: int, seed: int) -> None:
        model.fit(x[:rows], y[:rows], epochs=1, batch_size=batch, verbose=0, seed=seed)

    return epoch


def case_train(contender: str, params: dict) -> dict:
    """Steps per second over one epoch of ``samples`` rows at ``batch_size``.

    Order: load the data, build the model, take the memory baseline, warm up on
    ``warmup_batches`` batches (first-call allocations, lazy set-up), time one full epoch,
    take the memory peak, then (untimed) the training accuracy on the first 10,000 rows
    as a check that every contender did the same work.

    The data is loaded in the contender's dtype (``TRAIN_DTYPES``: ``dtype`` in the
    metrics) and the model built in it; ``param_dtype`` is the dtype of every parameter
    after the epoch, as the model holds it (``mixed: ...`` if they differ), and
    ``state_dtype`` that of the Adam moments, so the report can check that the contender
    trained in the dtype it claims.
    """
    batch = int(params["batch_size"])
    threads = int(params.get("threads", 2))
    warm = int(params.get("warmup_batches", 2)) * batch
    _limit_blas_threads(threads)
    if contender not in TRAIN_DTYPES:
        raise ValueError(f"train: unknown contender {contender!r}")
    dtype = TRAIN_DTYPES[contender]
    x, y = _load(params, "train", dtype)
    n = len(x)
    check = slice(0, min(n, 10000))

    if contender in ("lucidnet", "lucidnet-f64"):
        model = _lucidnet_mlp(dtype)
        epoch = _lucidnet_epochs(model, x, y, batch)
        seconds, memory = _timed_epoch(lambda: epoch(warm, 1), lambda: epoch(n, 0))
        accuracy = float(model.evaluate(x[check], y[check])["accuracy"])
        param_dtype = _dtype_of(p.value for p in model.parameters())
        state = model.optimizer.get_state().values()
        state_dtype = _dtype_of(b for buffers in state for k, b in buffers.items() if k != "step")
    elif contender == "torch":
        import torch

        torch.set_num_threads(threads)
        model = _torch_mlp()
        xt, yt = torch.from_numpy(x), torch.from_numpy(y)  # shares the NumPy memory
        epoch = _torch_epochs(model, xt, yt, batch)
        seconds, memory = _timed_epoch(lambda: epoch(warm), lambda: epoch(n))
        with torch.inference_mode():
            accuracy = float((model(xt[check]).argmax(1) == yt[check]).float().mean())
        param_dtype = _dtype_of(p.detach().numpy() for p in model.parameters())
        state = epoch.optimizer.state.values()  # Adam's exp_avg and exp_avg_sq
        state_dtype = _dtype_of(b.numpy() for st in state for k, b in st.items() if k != "step")
    else:  # sklearn-f64, sklearn-f32
        import warnings

        import numpy as np
        from sklearn.exceptions import ConvergenceWarning

        warnings.filterwarnings("ignore", category=ConvergenceWarning)
        model = _sklearn_mlp(batch)
        classes = np.arange(CLASSES)
        seconds, memory = _timed_epoch(
            lambda: model.partial_fit(x[:warm], y[:warm], classes=classes),  # initializes
            lambda: model.partial_fit(x, y),  # exactly one epoch (adam, shuffled batches)
        )
        accuracy = float(model.score(x[check], y[check]))
        param_dtype = _dtype_of([*model.coefs_, *model.intercepts_])
        adam = getattr(model, "_optimizer", None)  # private: its first and second moments
        moments = [*getattr(adam, "ms", []), *getattr(adam, "vs", [])]
        state_dtype = _dtype_of(moments)

    metrics = {
        "samples": n,
        "batch_size": batch,
        "seconds": seconds,
        "samples_per_s": n / seconds,
        "data_mib": x.nbytes / 2**20,
        **memory,
        "train_accuracy_check": accuracy,
        "dtype": dtype,
        "param_dtype": param_dtype,
        "state_dtype": state_dtype,
    }
    if contender.startswith("sklearn"):
        metrics["sklearn_param_dtype"] = param_dtype  # the name earlier reports used
    return metrics


# --- (g) the convolutional network of issue 13 -------------------------------------------


def _lucidnet_cnn():
    """conv 32 3x3 valid, ReLU, max-pool 2; conv 64 3x3 valid, ReLU, max-pool 2; flatten;
    dense 128, ReLU; dense 10; softmax (fused with the cross-entropy: the loss and its
    gradient are taken on the logits). Channels last: (N, 28, 28, 1)."""
    import lucidnet as ln

    return ln.Sequential(
        [
            ln.Conv2D(1, 32, 3, init="he_normal", seed=0),  # (26, 26, 32)
            ln.ReLU(),
            ln.MaxPool2D(2),  # (13, 13, 32)
            ln.Conv2D(32, 64, 3, init="he_normal", seed=1),  # (11, 11, 64)
            ln.ReLU(),
            ln.MaxPool2D(2),  # (5, 5, 64)
            ln.Flatten(),  # (1600,)
            ln.Dense(5 * 5 * 64, 128, init="he_normal", seed=2),
            ln.ReLU(),
            ln.Dense(128, CLASSES, seed=3),
            ln.Softmax(),
        ],
        input_shape=(*IMAGE, 1),
    )


def _torch_cnn():
    """The same network in PyTorch, channels first (N, 1, 28, 28), default initialization;
    no softmax layer: ``nn.CrossEntropyLoss`` takes the logits."""
    import torch
    from torch import nn

    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(1, 32, 3),  # (32, 26, 26)
        nn.ReLU(),
        nn.MaxPool2d(2),  # (32, 13, 13)
        nn.Conv2d(32, 64, 3),  # (64, 11, 11)
        nn.ReLU(),
        nn.MaxPool2d(2),  # (64, 5, 5)
        nn.Flatten(),  # (1600,)
        nn.Linear(64 * 5 * 5, 128),
        nn.ReLU(),
        nn.Linear(128, CLASSES),
    )


def case_conv(contender: str, params: dict) -> dict:
    """Samples per second of the convolutional network over ``samples`` rows at
    ``batch_size``, and the peak memory beyond the data, measured as ``case_train`` does
    (same order, warm-up, memory baseline and training loops). The images are a view of
    the ``(N, 784)`` rows: ``(N, 28, 28, 1)`` for lucidnet, ``(N, 1, 28, 28)`` for
    PyTorch (one channel: the same bytes, no copy). The untimed accuracy check uses the
    first 2,000 rows, 500 at a time.
    """
    batch = int(params["batch_size"])
    threads = int(params.get("threads", 2))
    warm = int(params.get("warmup_batches", 2)) * batch
    _limit_blas_threads(threads)
    x, y = _load(params, "train", "float32")
    n = len(x)
    if x.shape[1:] != (IMAGE[0] * IMAGE[1],):
        raise ValueError(f"conv: expected rows of {IMAGE[0] * IMAGE[1]} pixels, got {x.shape}")
    check = range(0, min(n, 2000), 500)

    if contender == "lucidnet":
        images = x.reshape(n, *IMAGE, 1)  # channels last
        model = _lucidnet_cnn()
        epoch = _lucidnet_epochs(model, images, y, batch)
        seconds, memory = _timed_epoch(lambda: epoch(warm, 1), lambda: epoch(n, 0))
        hits = sum(
            int((model.predict_classes(images[i : i + 500]) == y[i : i + 500]).sum()) for i in check
        )
    elif contender == "torch":
        import torch

        torch.set_num_threads(threads)
        model = _torch_cnn()
        xt = torch.from_numpy(x).view(n, 1, *IMAGE)  # channels first
        yt = torch.from_numpy(y)
        epoch = _torch_epochs(model, xt, yt, batch)
        seconds, memory = _timed_epoch(lambda: epoch(warm), lambda: epoch(n))
        model.eval()
        with torch.inference_mode():
            hits = sum(
                int((model(xt[i : i + 500]).argmax(1) == yt[i : i + 500]).sum()) for i in check
            )
    else:
        raise ValueError(f"conv: unknown contender {contender!r}")

    return {
        "samples": n,
        "batch_size": batch,
        "seconds": seconds,
        "samples_per_s": n / seconds,
        "data_mib": x.nbytes / 2**20,
        **memory,
        "train_accuracy_check": hits / min(n, 2000),
        "dtype": "float32",
    }


# --- (b) the GEMM bound -----------------------------------------------------------------


def gemm_shapes(batch: int) -> list[tuple[str, tuple[int, int], tuple[int, int], bool, bool]]:
    """The 8 products of one step: (name, A shape, B shape, transpose A, transpose B).

    Forward: X W1, H1 W2, H2 W3. Backward: dW = H^T G for the three layers and
    dH = G W^T for the two upper ones; the first layer's input gradient (dX, 784 wide)
    is not needed, and lucidnet skips it.
    """
    b, (d0, d1, d2, d3) = batch, SIZES
    return [
        ("forward X·W1", (b, d0), (d0, d1), False, False),
        ("forward H1·W2", (b, d1), (d1, d2), False, False),
        ("forward H2·W3", (b, d2), (d2, d3), False, False),
        ("dW3 = H2ᵀ·G3", (b, d2), (b, d3), True, False),
        ("dH2 = G3·W3ᵀ", (b, d3), (d2, d3), False, True),
        ("dW2 = H1ᵀ·G2", (b, d1), (b, d2), True, False),
        ("dH1 = G2·W2ᵀ", (b, d2), (d1, d2), False, True),
        ("dW1 = Xᵀ·G1", (b, d0), (b, d1), True, False),
    ]


def case_gemm(contender: str, params: dict) -> dict:
    """Seconds per step of the 8 float32 products, into preallocated outputs.

    Each trial repeats the step until it has run at least ``trial_s``; the result is the
    median over ``trials`` trials (the minimum is reported too). Each product is also
    timed alone the same way.
    """
    import numpy as np

    if contender != "numpy":
        raise ValueError(f"gemm: unknown contender {contender!r}")
    batch = int(params["batch_size"])
    _limit_blas_threads(int(params.get("threads", 2)))
    trials = int(params.get("trials", 15))
    trial_s = float(params.get("trial_s", 0.05))
    rng = np.random.default_rng(0)
    products = []
    flops = 0
    for name, a_shape, b_shape, ta, tb in gemm_shapes(batch):
        a = rng.standard_normal(a_shape, dtype=np.float32)
        b = rng.standard_normal(b_shape, dtype=np.float32)
        a, b = (a.T if ta else a), (b.T if tb else b)  # views: BLAS takes the transpose flag
        out = np.empty((a.shape[0], b.shape[1]), dtype=np.float32)
        products.append((name, a, b, out))
        flops += 2 * a.shape[0] * a.shape[1] * b.shape[1]

    def step() -> None:
        for _, a, b, out in products:
            np.matmul(a, b, out=out)

    def timed(fn) -> tuple[float, float]:
        for _ in range(5):
            fn()
        reps, start = 0, time.perf_counter()
        while time.perf_counter() - start < trial_s / 5:  # calibrate
            fn()
            reps += 1
        reps = max(1, reps * 5)
        per = []
        for _ in range(trials):
            start = time.perf_counter()
            for _ in range(reps):
                fn()
            per.append((time.perf_counter() - start) / reps)
        return median(per), min(per)

    step_median, step_min = timed(step)
    each = {}
    for name, a, b, out in products:
        each[name] = timed(lambda a=a, b=b, out=out: np.matmul(a, b, out=out))[0]
    return {
        "batch_size": batch,
        "step_s": step_median,
        "step_min_s": step_min,
        "flops_per_step": flops,
        "gflops": flops / step_median / 1e9,
        "products_s": each,
    }


# --- (c) XOR ------------------------------------------------------------------------------


def case_xor(contender: str, params: dict) -> dict:
    """Microseconds per full-batch training step of the 2-4-1 sigmoid XOR network.

    ``blocks`` blocks of ``steps`` steps after ``warmup`` steps; the result is the median
    block. ``lucidnet-fit`` runs ``fit(epochs=steps, batch_size=4)``: one step per epoch,
    so its figure includes the per-epoch work of fit (shuffling, seeding, history).
    """
    steps = int(params.get("steps", 5000))
    blocks = int(params.get("blocks", 5))
    warmup = int(params.get("warmup", 200))
    lr = float(params.get("lr", 0.5))
    threads = int(params.get("threads", 2))
    _limit_blas_threads(threads)
    import numpy as np

    rows = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    targets = np.array([[0], [1], [1], [0]], dtype=np.float32)
    per_block = []

    if contender.startswith("lucidnet"):
        import lucidnet as ln

        x, y = ln.datasets.xor()
        x, y = x.astype(np.float32), y.reshape(-1, 1).astype(np.float32)
        model = ln.Sequential(
            [ln.Dense(2, 4, seed=0), ln.Sigmoid(), ln.Dense(4, 1, seed=1), ln.Sigmoid()]
        )
        optimizer = ln.SGD(lr)
        if contender == "lucidnet-train_step":

            def run(count: int) -> None:
                for _ in range(count):
                    ln.train_step(model, x, y, "binary_crossentropy", optimizer)

        elif contender == "lucidnet-fit":
            model.compile("binary_crossentropy", optimizer)

            def run(count: int) -> None:
                model.fit(x, y, epochs=count, batch_size=4, verbose=0, seed=0)

        else:
            raise ValueError(f"xor: unknown contender {contender!r}")

        def final_loss() -> float:
            p = np.clip(model.predict(x), 1e-7, 1 - 1e-7)
            return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))

    elif contender == "torch":
        import torch
        from torch import nn

        torch.set_num_threads(threads)
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(2, 4), nn.Sigmoid(), nn.Linear(4, 1), nn.Sigmoid())
        optimizer = torch.optim.SGD(model.parameters(), lr=lr)
        loss_fn = nn.BCELoss()
        xt, yt = torch.from_numpy(rows), torch.from_numpy(targets)

        def run(count: int) -> None:
            for _ in range(count):
                optimizer.zero_grad(set_to_none=True)
                loss = loss_fn(model(xt), yt)
                loss.backward()
                optimizer.step()

        def final_loss() -> float:
            with torch.inference_mode():
                return float(loss_fn(model(xt), yt))

    else:
        raise ValueError(f"xor: unknown contender {contender!r}")

    run(warmup)
    for _ in range(blocks):
        start = time.perf_counter()
        run(steps)
        per_block.append((time.perf_counter() - start) / steps)
    return {
        "us_per_step": median(per_block) * 1e6,
        "us_per_step_blocks": [s * 1e6 for s in per_block],
        "steps": warmup + blocks * steps,
        "final_loss": final_loss(),
    }


# --- (d) single-sample predict ---------------------------------------------------------


def _sample_rows(x) -> list:
    """64 distinct ``(1, features)`` test rows, each its own C-contiguous array (cycled)."""
    return [x[i : i + 1].copy() for i in range(64)]


def _time_calls(fn, rows: list, calls: int, warmup: int) -> list[int]:
    """Nanoseconds of each of ``calls`` calls ``fn(row)``, each timed alone, the rows
    cycled, after ``warmup`` untimed calls."""
    clock = time.perf_counter_ns
    for i in range(warmup):
        fn(rows[i % len(rows)])
    times = []
    for i in range(calls):
        sample = rows[i % len(rows)]
        start = clock()
        fn(sample)
        times.append(clock() - start)
    return times


def _latency(times: list[int]) -> dict:
    """Median, 10th and 90th percentiles of the call times, in microseconds."""
    times = sorted(times)
    n = len(times)
    return {
        "us_median": times[n // 2] / 1e3,
        "us_p10": times[n // 10] / 1e3,
        "us_p90": times[(9 * n) // 10] / 1e3,
        "calls": n,
    }


def _latency_params(params: dict) -> tuple[int, int, int]:
    """``(calls, warmup, threads)`` of a single-sample latency case (d, h), the BLAS
    thread limit already set."""
    threads = int(params.get("threads", 2))
    _limit_blas_threads(threads)
    return int(params.get("calls", 20000)), int(params.get("warmup", 500)), threads


def case_predict(contender: str, params: dict) -> dict:
    """Latency of one ``(1, 784)`` prediction: the median of ``calls`` timed calls.

    lucidnet: ``model.predict(x1)``, probabilities out. PyTorch: ``model(from_numpy(x1))``
    with a softmax layer and ``.numpy()`` on the result, inside one ``inference_mode``
    block around the whole loop (its cheapest use). scikit-learn: ``predict_proba(x1)``
    on a model fitted for one epoch on 1,024 rows (float64, its default).
    """
    calls, warmup, threads = _latency_params(params)
    x, y = _load(params, "test")
    rows = _sample_rows(x)
    times: list[int] = []

    def measure(fn) -> None:
        times.extend(_time_calls(fn, rows, calls, warmup))

    if contender == "lucidnet":
        model = _lucidnet_mlp()
        measure(model.predict)
    elif contender == "torch":
        import torch

        torch.set_num_threads(threads)
        model = _torch_mlp(softmax=True).eval()
        with torch.inference_mode():
            measure(lambda row: model(torch.from_numpy(row)).numpy())
    elif contender == "sklearn":
        import warnings

        import numpy as np
        from sklearn.exceptions import ConvergenceWarning

        warnings.filterwarnings("ignore", category=ConvergenceWarning)
        model = _sklearn_mlp(128)
        model.partial_fit(x[:1024].astype(np.float64), y[:1024], classes=np.arange(CLASSES))
        rows = [r.astype(np.float64) for r in rows]
        measure(model.predict_proba)
    else:
        raise ValueError(f"predict: unknown contender {contender!r}")
    return _latency(times)


# --- (h) the exported MLP in onnxruntime (issue 15) -------------------------------------

ONNX_TOLERANCE = 1e-5  # the issue's: onnxruntime's output equals lucidnet's to 1e-5


def _onnx_session(model, folder: str, threads: int) -> tuple:
    """Export ``model`` with ``lucidnet.export.to_onnx`` into ``folder`` and open it in an
    onnxruntime ``InferenceSession`` on the CPU provider, ``intra_op_num_threads`` =
    ``threads``, the rest onnxruntime's defaults (sequential execution, every graph
    optimization). Returns ``(session, facts)``; raises unless the graph has the export
    contract's single input ``"input"`` and single output (``"probabilities"`` for a
    classifier, ``"output"`` otherwise)."""
    import onnxruntime as ort

    from lucidnet.export import to_onnx

    path = os.path.join(folder, "mlp.onnx")
    start = time.perf_counter()
    proto = to_onnx(model, path)
    export_s = time.perf_counter() - start
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    inputs = [i.name for i in session.get_inputs()]
    outputs = [o.name for o in session.get_outputs()]
    expected = "probabilities" if model.is_classifier else "output"
    if inputs != ["input"] or outputs != [expected]:
        raise RuntimeError(
            f"the exported graph has inputs {inputs} and outputs {outputs}; "
            f"the export contract says ['input'] and [{expected!r}]"
        )
    opsets = {o.domain or "ai.onnx": o.version for o in getattr(proto, "opset_import", [])}
    return session, {
        "export_s": export_s,
        "onnx_bytes": os.path.getsize(path),
        "opset": opsets.get("ai.onnx"),
        "ir_version": getattr(proto, "ir_version", None),
        "providers": session.get_providers(),
        "intra_op_num_threads": threads,
        "output_name": expected,
    }


def _check_onnx(model, session, x, output: str) -> float:
    """The largest ``|onnxruntime - lucidnet|`` over the test rows as one batch, and row
    by row over the 64 single rows that are timed (what ``predict_proba`` returns: the
    exported graph's values); raises beyond ``ONNX_TOLERANCE``, or on a shape or dtype
    that differs."""
    import numpy as np

    batch = np.ascontiguousarray(x[:256], dtype=np.float32)
    cases = [("a batch of 256 rows", batch)]
    cases += [(f"single row {i}", batch[i : i + 1].copy()) for i in range(64)]
    worst = 0.0
    for label, rows in cases:
        want = model.predict_proba(rows)
        got = session.run([output], {"input": rows})[0]
        if got.shape != want.shape or got.dtype != np.float32:
            raise RuntimeError(
                f"onnxruntime on {label}: {got.dtype} {got.shape}, "
                f"lucidnet's predict_proba: {want.dtype} {want.shape}"
            )
        diff = float(np.max(np.abs(got.astype(np.float64) - want)))
        if not diff <= ONNX_TOLERANCE:  # (NaN fails too)
            raise RuntimeError(
                f"onnxruntime differs from lucidnet's predict_proba on {label}: "
                f"max |difference| {diff:.3g} > {ONNX_TOLERANCE:g}"
            )
        worst = max(worst, diff)
    return worst


def case_onnx(contender: str, params: dict) -> dict:
    """Latency of one ``(1, 784)`` prediction of case (d)'s MLP (same construction, same
    seeds), timed as case (d) does: 500 warm-up calls, then ``calls`` calls each timed
    alone over 64 distinct test rows, cycled; the median and percentiles.

    lucidnet: ``model.predict(x1)``, as in case (d). onnxruntime: the model exported with
    ``lucidnet.export.to_onnx`` to a temporary file, opened by ``_onnx_session``, then
    ``session.run(["probabilities"], {"input": x1})[0]``. Before timing, the onnxruntime
    worker checks that the session's output equals lucidnet's ``predict_proba`` to 1e-5
    (``_check_onnx``) and fails otherwise.
    """
    calls, warmup, threads = _latency_params(params)
    x, _ = _load(params, "test")
    rows = _sample_rows(x)
    model = _lucidnet_mlp()
    if contender == "lucidnet":
        return _latency(_time_calls(model.predict, rows, calls, warmup))
    if contender != "onnxruntime":
        raise ValueError(f"onnx: unknown contender {contender!r}")
    import tempfile

    with tempfile.TemporaryDirectory(prefix="lucidnet-onnx-") as folder:
        session, facts = _onnx_session(model, folder, threads)
    output = facts["output_name"]
    facts["max_abs_diff"] = _check_onnx(model, session, x, output)
    names, run = [output], session.run
    times = _time_calls(lambda row: run(names, {"input": row})[0], rows, calls, warmup)
    return {**_latency(times), **facts}


# --- (f) the Fashion-MNIST recipe through the CLI --------------------------------------


def case_recipe(contender: str, params: dict) -> dict:
    """Run ``lucidnet train`` as a subprocess and read its report lines."""
    if contender != "lucidnet":
        raise ValueError(f"recipe: unknown contender {contender!r}")
    import tempfile

    extra = list(params.get("args", []))
    with tempfile.TemporaryDirectory() as folder:
        out = os.path.join(folder, "model.lucid")
        command = [sys.executable, "-m", "lucidnet", "train", "--data", "fashion-mnist"]
        command += [*extra, "--verbose", "0", "--out", out]
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - start
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise RuntimeError(f"lucidnet train exited {done.returncode}: {' | '.join(tail)}")
    text = done.stdout
    trained = re.search(r"trained (\d+) epochs in ([0-9.]+)s", text)
    test = re.search(r"^test\s+(.*)$", text, re.MULTILINE)
    if not trained or not test:
        raise RuntimeError(f"could not read the CLI's report: {text[-500:]!r}")
    values = dict(re.findall(r"(\w+) ([-0-9.eE+]+)", test.group(1)))
    return {
        "command": "lucidnet train --data fashion-mnist " + " ".join(extra),
        "epochs": int(trained.group(1)),
        "train_s": float(trained.group(2)),
        "wall_s": wall,
        "test": {k: float(v) for k, v in values.items()},
    }


# --- case j: data-parallel training over MPI (issue 17) ----------------------------------

MPI_ENV = {  # OpenMPI's settings for root and for more ranks than cores (MPICH needs none)
    "OMPI_ALLOW_RUN_AS_ROOT": "1",
    "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
    "OMPI_MCA_rmaps_base_oversubscribe": "1",
}


def _mpiexec() -> str:
    """The ``mpiexec`` beside this interpreter (MPICH's wheel), else the one on PATH."""
    import shutil

    beside = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    found = beside if os.path.exists(beside) else shutil.which("mpiexec")
    if found is None:
        raise RuntimeError("no mpiexec beside python or on PATH: pip install 'lucidnet[mpi]'")
    return found


def _under_mpiexec(ranks: int, contender: str, params: dict) -> dict:
    """Run ``case_mpi_rank(contender, params)`` in ``ranks`` processes; rank 0's metrics."""
    command = [_mpiexec(), "-n", str(ranks), sys.executable, os.path.abspath(__file__)]
    command += ["mpi-rank", contender, json.dumps(params)]
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=params.get("timeout", 600),
        env={**os.environ, **MPI_ENV},
        check=False,
    )
    for line in done.stdout.splitlines():
        if line.startswith("{"):
            record = json.loads(line)
            if record.get("ok") and record["metrics"].get("rank") == 0:
                return record["metrics"]
            if not record.get("ok"):
                raise RuntimeError(f"a rank failed: {record.get('error')}")
    tail = " | ".join((done.stderr or done.stdout).strip().splitlines()[-3:])
    raise RuntimeError(f"mpiexec exited {done.returncode} without rank 0's result: {tail}")


def _allreduce_costs(params: dict) -> dict:
    """Microseconds per ``Allreduce`` (sum, in place) of the MLP's float32 flat gradient
    buffer, each call timed alone after 50 warm-up calls, and of one float64 (the loss)."""
    import numpy as np
    from mpi4py import MPI

    _limit_blas_threads(1)
    comm = MPI.COMM_WORLD
    grads = _lucidnet_mlp("float32").parameters().flat.grads
    grads[:] = 1.0
    scalar = np.zeros(1)
    costs = {}
    for name, buffer in (("grads", grads), ("scalar", scalar)):
        for _ in range(50):
            comm.Allreduce(MPI.IN_PLACE, buffer, op=MPI.SUM)
        comm.Barrier()
        times = []
        for _ in range(params["allreduce_calls"]):
            start = time.perf_counter_ns()
            comm.Allreduce(MPI.IN_PLACE, buffer, op=MPI.SUM)
            times.append(time.perf_counter_ns() - start)
        times.sort()
        costs[name] = [times[len(times) // 10] / 1e3, median(times) / 1e3]
        costs[name].append(times[len(times) * 9 // 10] / 1e3)
    return {
        "rank": comm.Get_rank(),
        "ranks": comm.Get_size(),
        "floats": int(grads.size),
        "bytes": int(grads.nbytes),
        "allreduce_us": costs["grads"],  # p10, median, p90
        "scalar_us": costs["scalar"],
        "gb_per_s": grads.nbytes / (costs["grads"][1] * 1e3),
        "library": MPI.Get_library_version().splitlines()[0].strip(),
    }


def _mpi_epoch(params: dict, distributed: bool) -> dict:
    """Seconds of one ``fit`` epoch of the MLP (Adam, accuracy, batch ``batch_size``) over
    ``samples`` rows, after a warm-up epoch on 4 batches; with ``distributed``, on every
    rank of the job (the slowest rank's time), with the time spent in the gradient hook
    (the all-reduce and the wait for the other ranks) counted on rank 0."""
    import lucidnet as ln

    _limit_blas_threads(params["threads"])
    x, y = _load(params)
    batch = params["batch_size"]
    model = _lucidnet_mlp("float32")
    model.compile("crossentropy", ln.Adam(1e-3), metrics=["accuracy"])
    job, hook_ns = None, [0]
    if distributed:
        from lucidnet.distributed import DataParallel, DistributedTrainer

        job = DataParallel()
        all_reduce = DistributedTrainer.all_reduce_gradients

        def timed(self, params_):
            start = time.perf_counter_ns()
            all_reduce(self, params_)
            hook_ns[0] += time.perf_counter_ns() - start

        DistributedTrainer.all_reduce_gradients = timed
    rows = 4 * batch
    model.fit(x[:rows], y[:rows], batch_size=batch, verbose=0, seed=0, distributed=job)
    hook_ns[0] = 0
    if job is not None:
        job.comm.Barrier()
    start = time.perf_counter()
    model.fit(x, y, batch_size=batch, verbose=0, seed=1, distributed=job)
    seconds = time.perf_counter() - start
    if job is not None:
        from mpi4py import MPI

        seconds = job.comm.allreduce(seconds, op=MPI.MAX)
    steps = -(-len(x) // batch)
    return {
        "rank": 0 if job is None else job.rank,
        "ranks": 1 if job is None else job.size,
        "threads": params["threads"],
        "epoch_s": seconds,
        "rows_per_s": len(x) / seconds,
        "step_ms": seconds / steps * 1e3,
        "hook_ms_per_step": hook_ns[0] / steps / 1e6 if job is not None else None,
        "steps": steps,
    }


def case_mpi(contender: str, params: dict) -> dict:
    """Case (j): ``allreduce`` (2 ranks), ``ranks-1`` (one process, ``threads`` BLAS
    threads: plain ``fit``), ``ranks-1-thread`` (one process, one thread: the compute of
    one core), ``ranks-2`` (``mpiexec -n 2``, one thread each, ``distributed=True``)."""
    if contender == "allreduce":
        return _under_mpiexec(2, "allreduce", params)
    if contender == "ranks-2":
        return _under_mpiexec(2, "epoch", {**params, "threads": 1})
    if contender == "ranks-1":
        return _mpi_epoch(params, distributed=False)
    if contender == "ranks-1-thread":
        return _mpi_epoch({**params, "threads": 1}, distributed=False)
    raise ValueError(f"unknown contender {contender!r}")


def case_mpi_rank(contender: str, params: dict) -> dict:
    """One rank of case (j) under ``mpiexec`` (started by ``case_mpi``)."""
    if contender == "allreduce":
        return _allreduce_costs(params)
    if contender == "epoch":
        return _mpi_epoch(params, distributed=True)
    raise ValueError(f"unknown contender {contender!r}")


# --- (i) training from a memory map (issue 17) -------------------------------------------


def _tiled_npy(params: dict, name: str, times: int, rows: int) -> str:
    """``name.npy`` of the data folder, its first ``rows`` rows repeated ``times`` times
    on disk (written once, by the first worker that needs it, with plain writes: no page
    of it is mapped into this process). Returns the path."""
    import numpy as np

    source = os.path.join(params["data"], f"{name}.npy")
    path = os.path.join(params["data"], f"{name}_{rows}x{times}.npy")
    if os.path.exists(path):
        return path
    part = np.load(source, mmap_mode="r")[:rows]
    header = {"descr": np.lib.format.dtype_to_descr(part.dtype), "fortran_order": False}
    header["shape"] = (len(part) * times, *part.shape[1:])
    chunk = 4096
    with open(path + ".tmp", "wb") as f:
        np.lib.format.write_array_header_1_0(f, header)
        for _ in range(times):
            for start in range(0, len(part), chunk):
                np.ascontiguousarray(part[start : start + chunk]).tofile(f)
    del part
    os.replace(path + ".tmp", path)
    return path


def case_stream(contender: str, params: dict) -> dict:
    """One epoch of case a's MLP (float32, batch ``batch_size``, shuffled) with ``fit``
    reading x and y from memory maps of ``.npy`` files: the first ``samples`` rows of
    Fashion-MNIST (``1x``), or those rows written 10 times over (``10x``).

    Order: write the tiled files if they are missing, map them, build the model, warm up
    on 2 batches, time one epoch, then a second epoch under ``tracemalloc`` for the peak
    of what NumPy and Python allocate (a copy of the data would show there; the mapped
    file's pages do not, they are the kernel's page cache). The RSS peak (VmHWM reset at
    the baseline) is taken after the timed epoch: it counts the file's pages that the
    epoch touched, so it grows with the file while the allocations do not.
    """
    import tracemalloc

    import numpy as np

    times = {"1x": 1, "10x": 10}[contender]
    batch = int(params["batch_size"])
    _limit_blas_threads(int(params.get("threads", 2)))
    rows = int(params["samples"])
    x = np.load(_tiled_npy(params, "x_train", times, rows), mmap_mode="r")
    y = np.load(_tiled_npy(params, "y_train", times, rows), mmap_mode="r")
    model = _lucidnet_mlp("float32")
    epoch = _lucidnet_epochs(model, x, y, batch)
    seconds, memory = _timed_epoch(lambda: epoch(2 * batch, 1), lambda: epoch(len(x), 0))
    rss_file = _status_kib("RssFile")
    tracemalloc.start()
    epoch(len(x), 2)
    traced_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {
        "samples": len(x),
        "batch_size": batch,
        "seconds": seconds,
        "samples_per_s": len(x) / seconds,
        "file_mib": x.nbytes / 2**20,
        "allocated_peak_mib": traced_peak / 2**20,
        "rss_file_mib": (rss_file or 0) / 1024,
        **memory,
        "param_dtype": _dtype_of(p.value for p in model.parameters()),
    }


CASES = {
    "stream": case_stream,
    "prepare": case_prepare,
    "train": case_train,
    "gemm": case_gemm,
    "xor": case_xor,
    "predict": case_predict,
    "recipe": case_recipe,
    "conv": case_conv,
    "onnx": case_onnx,
    "mpi": case_mpi,
    "mpi-rank": case_mpi_rank,
}


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 2
    case, contender = argv[0], argv[1]
    record: dict = {"case": case, "contender": contender}
    try:
        params = json.loads(argv[2]) if len(argv) == 3 else {}
        if case not in CASES:
            raise ValueError(f"unknown case {case!r}; expected one of {', '.join(CASES)}")
        record["metrics"] = CASES[case](contender, params)
        record["env"] = _environment()
        record["ok"] = True
    except Exception as err:  # reported as a failed contender, never a crash of the suite
        record["ok"] = False
        record["error"] = f"{type(err).__name__}: {err}"
        record["traceback"] = traceback.format_exc(limit=6)
    sys.stdout.write(json.dumps(record) + "\n")
    sys.stdout.flush()
    return 0 if record["ok"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
