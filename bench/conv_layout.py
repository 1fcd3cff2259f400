"""Channels last (NHWC) against channels first (NCHW) for an im2col convolution, stage by stage.

``python bench/conv_layout.py [--quick] [--repeats N] [--batch N] [--threads N]``
(run it as ``make bench`` runs its workers: ``env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE
.venv-bench/bin/python bench/conv_layout.py``). It prints Markdown tables: the median
milliseconds of each stage of one forward and backward pass of the two convolutions of
the benchmark network (case g of ``bench/run.py``), 3x3, stride 1, no padding, float32,
batch 128:

    conv1  (N, 28, 28, 1)  -> 32 filters -> (N, 26, 26, 32)
    conv2  (N, 13, 13, 32) -> 64 filters -> (N, 11, 11, 64)

Why the layout matters for im2col. With ``P = Ho*Wo`` output positions per image and
``K = kh*kw*C`` values per window, the convolution is one product of the windows
``(positions, K)`` with the kernel ``(K, F)``. Which way round, and whether transposes
are needed, follows from where the channels sit:

- **NHWC** (lucidnet): the windows ``cols (N, Ho, Wo, kh, kw, C)`` are rows of
  ``(N*P, K)``; ``cols @ W`` is ``(N*P, F)``, which *is* the NHWC output
  ``(N, Ho, Wo, F)``: no transpose anywhere, one large product for the whole batch.
  ``dW = cols.T @ G`` and ``dcols = G @ W.T`` are single products too, and
  ``G (N, Ho, Wo, F)`` reshapes to ``(N*P, F)`` without a copy.
- **NCHW, per image** (Caffe's loop, batched): ``cols (N, K, P)``; ``W (F, K) @ cols``
  is ``(N, F, P)``, the NCHW output, but as N small products (``np.matmul`` batched);
  ``dW`` sums N products ``G[n] @ cols[n].T`` (or one product after two transposing
  copies: ``np.tensordot``).
- **NCHW, one product**: ``cols (K, N*P)``; ``W @ cols`` is one large product but gives
  ``(F, N, P)``, which must be transposed into ``(N, F, P)``; backward transposes the
  gradient the other way, ``(N, F, P) -> (F, N*P)``, before its two products.

im2col itself copies ``kh*kw`` slabs (one per window offset) or one strided window view;
both are measured for every layout, and col2im is the adjoint of each. "dx" is the input
gradient: its product and col2im; the first layer of a network needs none (lucidnet
skips it), so the table's totals are given with and without it. The last table times
lucidnet's ``Conv2D`` itself (this checkout's ``src/``; forward and backward, bias
included), to show whether the library runs the fastest NHWC path measured here.

Every variant is checked against a float64 reference (output, kernel gradient and input
gradient, in lucidnet's layout) before anything is timed; a wrong variant stops the
script. Timing: ``--repeats`` rounds; each round runs every stage once, in a fixed order,
so that a slow moment of a shared machine hits all of them; the figure is the median.
NumPy's BLAS is limited to ``--threads`` threads (threadpoolctl), as in ``make bench``.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from statistics import median

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

# lucidnet from this checkout, ahead of an installed copy (as bench/run.py's workers)
SRC = Path(__file__).resolve().parent.parent / "src"
sys.path.insert(0, str(SRC))

LAYERS = {"conv1": (28, 1, 32), "conv2": (13, 32, 64)}  # (height = width, in, out channels)
K = 3  # kernel height and width
LAYOUTS = ("NHWC", "NCHW, per image", "NCHW, one product")
STAGES = [  # the order of the rows
    "im2col",
    "forward product",
    "output transpose",
    "gradient transpose",
    "dW",
    "dx product",
    "col2im",
]


@dataclass
class Step:
    """One timed stage. ``choice`` = (family, options): the step belongs to each of these
    options of the family (im2col by slabs or by a window view, ...); the totals count
    the option whose steps add up to the least time."""

    stage: str
    variant: str
    run: Callable[[], object]
    choice: tuple[str, tuple[str, ...]] | None = None
    in_dx: bool = False  # part of the input gradient (not needed by a first layer)
    times: list[float] = field(default_factory=list)

    @property
    def ms(self) -> float:
        return median(self.times) * 1e3


# --- the three layouts, stage by stage --------------------------------------------------


def nhwc_steps(x: np.ndarray, w: np.ndarray, g: np.ndarray) -> tuple[list[Step], dict]:
    """lucidnet's layout. ``x (N, H, W, C)``, ``w (kh, kw, C, F)``, ``g (N, Ho, Wo, F)``."""
    n, h, _, c = x.shape
    f, ho = w.shape[3], h - K + 1
    cols = np.empty((n, ho, ho, K, K, c), np.float32)  # a reused work buffer, as in Conv2D
    cols2 = cols.reshape(n * ho * ho, K * K * c)  # (N*P, K): one row per window
    wm = w.reshape(K * K * c, f)
    g2 = g.reshape(n * ho * ho, f)  # no copy
    per_offset = w.reshape(K * K, c, f).transpose(0, 2, 1)  # (kh*kw, F, C), a view

    def im2col_slabs():
        for a in range(K):
            for b in range(K):
                cols[:, :, :, a, b, :] = x[:, a : a + ho, b : b + ho, :]
        return cols

    def im2col_view():
        view = sliding_window_view(x, (K, K), axis=(1, 2))  # (N, Ho, Wo, C, kh, kw)
        np.copyto(cols, view.transpose(0, 1, 2, 4, 5, 3))
        return cols

    def dx_offset_major():  # kh*kw products (N*P, F) @ (F, C): slabs of whole image rows
        return np.matmul(g2, per_offset).reshape(K, K, n, ho, ho, c)

    def dx_offset_major_copy():  # the same with the kernel copied contiguous first
        return np.matmul(g2, np.ascontiguousarray(per_offset)).reshape(K, K, n, ho, ho, c)

    def col2im_offset_major(dcols):
        dx = np.zeros_like(x)
        for a in range(K):
            for b in range(K):
                dx[:, a : a + ho, b : b + ho] += dcols[a, b]
        return dx

    def dx_window_major():  # one product (N*P, F) @ (F, K): windows side by side
        return (g2 @ wm.T).reshape(n, ho, ho, K, K, c)

    def col2im_window_major(dcols):
        dx = np.zeros_like(x)
        for a in range(K):
            for b in range(K):
                dx[:, a : a + ho, b : b + ho] += dcols[:, :, :, a, b]
        return dx

    im2col_slabs()
    d_off, d_win = dx_offset_major(), dx_window_major()
    offset, copied, window = ("dx", ("offset",)), ("dx", ("copied",)), ("dx", ("window",))
    steps = [
        Step("im2col", "per-offset slabs", im2col_slabs, ("im2col", ("slabs",))),
        Step("im2col", "one strided-view copy", im2col_view, ("im2col", ("view",))),
        Step("forward product", "(N·P, K) @ (K, F)", lambda: cols2 @ wm),
        Step("dW", "(K, N·P) @ (N·P, F)", lambda: cols2.T @ g2),
        Step("dx product", "per offset (N·P, F) @ (F, C), kernel view", dx_offset_major, offset),
        Step("dx product", "the same, kernel copied first", dx_offset_major_copy, copied),
        Step(
            "col2im",
            "offset-major slabs",
            lambda: col2im_offset_major(d_off),
            ("dx", ("offset", "copied")),
        ),
        Step("dx product", "one (N·P, F) @ (F, K)", dx_window_major, window),
        Step("col2im", "window-major slabs", lambda: col2im_window_major(d_win), window),
    ]
    for step in steps:
        step.in_dx = step.stage in ("dx product", "col2im")
    results = {
        "z": (cols2 @ wm).reshape(n, ho, ho, f),
        "dw": (cols2.T @ g2).reshape(K, K, c, f),
        "dx": col2im_offset_major(d_off),
        "dx (kernel copied)": col2im_offset_major(dx_offset_major_copy()),
        "dx (window-major)": col2im_window_major(d_win),
        "im2col (view)": im2col_view().copy(),
    }
    im2col_slabs()
    results["im2col (slabs)"] = cols.copy()
    return steps, results


def nchw_per_image_steps(x: np.ndarray, w: np.ndarray, g: np.ndarray) -> tuple[list[Step], dict]:
    """``x (N, C, H, W)``, ``w (F, C, kh, kw)`` (PyTorch's), ``g (N, F, Ho, Wo)``."""
    n, c, h, _ = x.shape
    f, ho = w.shape[0], h - K + 1
    p, k = ho * ho, K * K * c
    cols = np.empty((n, c, K, K, ho, ho), np.float32)
    cols3 = cols.reshape(n, k, p)  # (N, K, P): one column per window of each image
    w2 = w.reshape(f, k)
    g3 = g.reshape(n, f, p)  # no copy

    def im2col_slabs():
        for a in range(K):
            for b in range(K):
                cols[:, :, a, b] = x[:, :, a : a + ho, b : b + ho]
        return cols

    def im2col_view():
        view = sliding_window_view(x, (K, K), axis=(2, 3))  # (N, C, Ho, Wo, kh, kw)
        np.copyto(cols, view.transpose(0, 1, 4, 5, 2, 3))
        return cols

    def dw_batched():  # N products (F, P) @ (P, K), then their sum
        return np.matmul(g3, cols3.transpose(0, 2, 1)).sum(axis=0)

    def dw_tensordot():  # one product after copying both operands into (F, N·P), (N·P, K)
        return np.tensordot(g3, cols3, axes=([0, 2], [0, 2]))

    def dx_product():  # N products (K, F) @ (F, P)
        return np.matmul(w2.T, g3)

    def col2im(dcols):
        dcols = dcols.reshape(n, c, K, K, ho, ho)
        dx = np.zeros_like(x)
        for a in range(K):
            for b in range(K):
                dx[:, :, a : a + ho, b : b + ho] += dcols[:, :, a, b]
        return dx

    im2col_slabs()
    dcols = dx_product()
    steps = [
        Step("im2col", "per-offset slabs", im2col_slabs, ("im2col", ("slabs",))),
        Step("im2col", "one strided-view copy", im2col_view, ("im2col", ("view",))),
        Step("forward product", "N × (F, K) @ (K, P)", lambda: np.matmul(w2, cols3)),
        Step("dW", "N × (F, P) @ (P, K), summed", dw_batched, ("dW", ("batched",))),
        Step(
            "dW", "np.tensordot (2 transposing copies + 1 product)", dw_tensordot, ("dW", ("td",))
        ),
        Step("dx product", "N × (K, F) @ (F, P)", dx_product, in_dx=True),
        Step("col2im", "per-offset slabs", lambda: col2im(dcols), in_dx=True),
    ]
    results = {
        "z": np.matmul(w2, cols3).reshape(n, f, ho, ho),
        "dw": dw_batched().reshape(f, c, K, K),
        "dw (tensordot)": dw_tensordot().reshape(f, c, K, K),
        "dx": col2im(dcols),
        "im2col (view)": im2col_view().copy(),
    }
    im2col_slabs()
    results["im2col (slabs)"] = cols.copy()
    return steps, results


def nchw_one_product_steps(x: np.ndarray, w: np.ndarray, g: np.ndarray) -> tuple[list[Step], dict]:
    """As ``nchw_per_image_steps``, with the batch folded into the columns: ``cols
    (K, N·P)``, one product each way, and transposes between ``(F, N, P)`` and
    ``(N, F, P)``."""
    n, c, h, _ = x.shape
    f, ho = w.shape[0], h - K + 1
    p, k = ho * ho, K * K * c
    cols = np.empty((c, K, K, n, ho, ho), np.float32)
    cols2 = cols.reshape(k, n * p)
    w2 = w.reshape(f, k)

    def im2col_slabs():
        for a in range(K):
            for b in range(K):
                cols[:, a, b] = x[:, :, a : a + ho, b : b + ho].transpose(1, 0, 2, 3)
        return cols

    def im2col_view():
        view = sliding_window_view(x, (K, K), axis=(2, 3))  # (N, C, Ho, Wo, kh, kw)
        np.copyto(cols, view.transpose(1, 4, 5, 0, 2, 3))
        return cols

    def output_transpose(zc):  # (F, N·P) -> (N, F, P)
        return np.ascontiguousarray(zc.reshape(f, n, p).transpose(1, 0, 2))

    def grad_transpose():  # (N, F, Ho, Wo) -> (F, N·P)
        return np.ascontiguousarray(g.transpose(1, 0, 2, 3)).reshape(f, n * p)

    def col2im(dcols):  # dcols (K, N·P), rows ordered (c, a, b)
        dcols = dcols.reshape(c, K, K, n, ho, ho)
        dx = np.zeros_like(x)
        for a in range(K):
            for b in range(K):
                dx[:, :, a : a + ho, b : b + ho] += dcols[:, a, b].transpose(1, 0, 2, 3)
        return dx

    im2col_slabs()
    zc, gc = w2 @ cols2, grad_transpose()
    dcols = w2.T @ gc
    steps = [
        Step("im2col", "per-offset slabs, transposed", im2col_slabs, ("im2col", ("slabs",))),
        Step("im2col", "one strided-view copy", im2col_view, ("im2col", ("view",))),
        Step("forward product", "(F, K) @ (K, N·P)", lambda: w2 @ cols2),
        Step("output transpose", "(F, N, P) -> (N, F, P)", lambda: output_transpose(zc)),
        Step("gradient transpose", "(N, F, P) -> (F, N·P)", grad_transpose),
        Step("dW", "(F, N·P) @ (N·P, K)", lambda: gc @ cols2.T),
        Step("dx product", "(K, F) @ (F, N·P)", lambda: w2.T @ gc, in_dx=True),
        Step("col2im", "per-offset slabs, transposed", lambda: col2im(dcols), in_dx=True),
    ]
    results = {
        "z": output_transpose(zc).reshape(n, f, ho, ho),
        "dw": (gc @ cols2.T).reshape(f, c, K, K),
        "dx": col2im(dcols),
        "im2col (view)": im2col_view().copy(),
    }
    im2col_slabs()
    results["im2col (slabs)"] = cols.copy()
    return steps, results


# --- checks -----------------------------------------------------------------------------


def reference(x: np.ndarray, w: np.ndarray, g: np.ndarray) -> dict:
    """Output, kernel gradient and input gradient in float64, NHWC, position by position
    of the window (no im2col): ``z[n, i, j] = sum_{a, b} x[n, i+a, j+b] @ w[a, b]``."""
    x, w, g = x.astype(np.float64), w.astype(np.float64), g.astype(np.float64)
    ho = x.shape[1] - K + 1
    z = sum(x[:, a : a + ho, b : b + ho] @ w[a, b] for a in range(K) for b in range(K))
    dw = np.empty_like(w)
    dx = np.zeros_like(x)
    for a in range(K):
        for b in range(K):
            patch = x[:, a : a + ho, b : b + ho]  # (N, Ho, Wo, C)
            dw[a, b] = np.tensordot(patch, g, axes=([0, 1, 2], [0, 1, 2]))
            dx[:, a : a + ho, b : b + ho] += g @ w[a, b].T
    return {"z": z, "dw": dw, "dx": dx}


def to_nhwc(name: str, array: np.ndarray) -> np.ndarray:
    """A channels-first result in lucidnet's layout: images (N, C, H, W) -> (N, H, W, C);
    kernels (F, C, kh, kw) -> (kh, kw, C, F)."""
    return array.transpose(2, 3, 1, 0) if name.startswith("dw") else array.transpose(0, 2, 3, 1)


def check(layer: str, layout: str, results: dict, ref: dict) -> None:
    """Raise AssertionError naming the layer, layout and result that disagree with the
    float64 reference (relative to its largest magnitude) or with the other im2col."""
    slabs, view = results.pop("im2col (slabs)"), results.pop("im2col (view)")
    if not np.array_equal(slabs, view):
        raise AssertionError(f"{layer}, {layout}: the two im2col variants differ")
    for name, got in results.items():
        if layout != "NHWC":
            got = to_nhwc(name, got)
        want = ref[name.split(" ")[0]]
        if got.shape != want.shape:
            raise AssertionError(
                f"{layer}, {layout}, {name}: shape {got.shape}, expected {want.shape}"
            )
        error = float(np.max(np.abs(got - want)) / np.max(np.abs(want)))
        if not error < 1e-5:
            raise AssertionError(
                f"{layer}, {layout}, {name}: largest error {error:.2e} of the reference's "
                "largest value (float32 should stay below 1e-5)"
            )


# --- lucidnet's own Conv2D ----------------------------------------------------------------


def lucidnet_steps(x: np.ndarray, w: np.ndarray, g: np.ndarray, ref: dict) -> list[Step]:
    """``Conv2D.forward(x, training=True)`` and ``backward(g)`` with and without the input
    gradient, checked against the reference first (bias zero)."""
    import lucidnet as ln

    layer = ln.Conv2D(w.shape[2], w.shape[3], K, seed=0)
    layer.weights = w
    z = layer.forward(x, training=True)
    dx = layer.backward(g)
    for name, got in (("z", z), ("dw", layer.grad_weights), ("dx", dx)):
        error = float(np.max(np.abs(got - ref[name])) / np.max(np.abs(ref[name])))
        if not error < 1e-5:
            raise AssertionError(f"lucidnet Conv2D, {name}: largest relative error {error:.2e}")
    return [
        Step("lucidnet", "Conv2D.forward (im2col, product, bias)", lambda: layer.forward(x, True)),
        Step("lucidnet", "Conv2D.backward, no dx (dW, db)", lambda: layer.backward(g, False)),
        Step("lucidnet", "Conv2D.backward (dW, db, dx)", lambda: layer.backward(g)),
    ]


# --- timing and the report --------------------------------------------------------------


def measure(steps: list[Step], repeats: int) -> None:
    """Each step once to warm up, then ``repeats`` rounds of every step once."""
    for step in steps:
        step.run()
    clock = time.perf_counter
    for _ in range(repeats):
        for step in steps:
            start = clock()
            step.run()
            step.times.append(clock() - start)


def totals(steps: list[Step]) -> tuple[float, float, dict]:
    """(total with dx, total without dx, the fastest option of each family), in ms."""
    fixed_all = sum(s.ms for s in steps if s.choice is None)
    fixed_nodx = sum(s.ms for s in steps if s.choice is None and not s.in_dx)
    options: dict[str, dict[str, list[Step]]] = {}
    for s in steps:
        if s.choice:
            for option in s.choice[1]:
                options.setdefault(s.choice[0], {}).setdefault(option, []).append(s)
    best, with_dx, without_dx = {}, fixed_all, fixed_nodx
    for family, by_option in options.items():
        option = min(by_option, key=lambda o: sum(s.ms for s in by_option[o]))
        best[family] = option
        with_dx += sum(s.ms for s in by_option[option])
        without_dx += sum(s.ms for s in by_option[option] if not s.in_dx)
    return with_dx, without_dx, best


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])


def layer_table(plans: dict[str, list[Step]]) -> str:
    """One row per (stage, variant) of any layout; a cell per layout that has it."""
    order: list[tuple[str, str]] = []
    cells: dict[tuple[str, str], dict[str, str]] = {}
    for layout, steps in plans.items():
        _, _, best = totals(steps)
        for s in steps:
            key = (s.stage, s.variant)
            if key not in cells:
                order.append(key)
                cells[key] = {}
            chosen = s.choice is None or best[s.choice[0]] in s.choice[1]
            cells[key][layout] = f"{s.ms:.2f}" if chosen else f"({s.ms:.2f})"
    order.sort(key=lambda k: STAGES.index(k[0]))
    rows = [
        [stage, variant, *(cells[(stage, variant)].get(lay, "—") for lay in plans)]
        for stage, variant in order
    ]
    for label, index in (("**total, forward + backward**", 0), ("**total without dx**", 1)):
        rows.append([label, "", *(f"**{totals(s)[index]:.2f}**" for s in plans.values())])
    return markdown_table(["stage", "variant", *plans], rows)


def limit_blas_threads(threads: int) -> bool:
    """Limit NumPy's BLAS to ``threads`` threads; False without threadpoolctl."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return False
    threadpool_limits(limits=threads, user_api="blas")
    return True


def environment() -> list[str]:
    """NumPy, BLAS and its threads, the OpenBLAS variables, the load: for the header."""
    info = [
        f"NumPy {np.__version__}, Python {platform.python_version()}, "
        f"{os.cpu_count()} logical CPUs",
    ]
    try:
        from threadpoolctl import threadpool_info

        pools = [
            f"{p.get('internal_api')} {p.get('version')} ({p.get('architecture')}, "
            f"{p.get('num_threads')} threads)"
            for p in threadpool_info()
            if p.get("user_api") == "blas"
        ]
        info.append("BLAS: " + (", ".join(pools) or "none found"))
    except ImportError:
        info.append("BLAS threads: not limited (threadpoolctl is not installed)")
    found = {v: os.environ[v] for v in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if v in os.environ}
    if found:
        info.append(
            "**OpenBLAS variables set** (make bench unsets them): "
            + ", ".join(f"{k}={v}" for k, v in found.items())
        )
    try:
        info.append("load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    except OSError:
        pass
    return info


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/conv_layout.py",
        description="im2col convolution, channels last against channels first, stage by stage",
    )
    parser.add_argument("--quick", action="store_true", help="smoke run: 3 repeats, batch 16")
    parser.add_argument("--repeats", type=int, help="timed rounds (default 30; 3 with --quick)")
    parser.add_argument("--batch", type=int, help="images per batch (default 128; 16 with --quick)")
    parser.add_argument("--threads", type=int, default=2, help="BLAS threads (default 2)")
    parser.add_argument("--no-lucidnet", action="store_true", help="skip lucidnet's Conv2D table")
    args = parser.parse_args(argv)
    args.repeats = args.repeats or (3 if args.quick else 30)
    args.batch = args.batch or (16 if args.quick else 128)
    if args.repeats < 1 or args.batch < 1 or args.threads < 1:
        parser.error("--repeats, --batch and --threads must be >= 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    limit_blas_threads(args.threads)
    info = environment()
    rng = np.random.default_rng(0)
    out = [
        "## im2col convolution: channels last (NHWC) against channels first (NCHW)",
        "",
        f"Median ms of {args.repeats} interleaved rounds, batch {args.batch}, 3x3 valid, "
        f"float32, {args.threads} BLAS threads; " + "; ".join(info) + ". "
        "In parentheses: the slower option of a stage that has two (the totals count the "
        "faster). dx (its product and col2im) is the input gradient, which a first layer "
        "does not need.",
    ]
    summary = []
    lucid_rows = []
    for layer, (size, c, f) in LAYERS.items():
        ho = size - K + 1
        x = rng.standard_normal((args.batch, size, size, c), dtype=np.float32)
        w = rng.standard_normal((K, K, c, f), dtype=np.float32) / np.sqrt(K * K * c)
        g = rng.standard_normal((args.batch, ho, ho, f), dtype=np.float32)
        x_cf = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
        w_cf = np.ascontiguousarray(w.transpose(3, 2, 0, 1))
        g_cf = np.ascontiguousarray(g.transpose(0, 3, 1, 2))
        ref = reference(x, w, g)
        plans = {}
        for layout, build, arrays in (
            ("NHWC", nhwc_steps, (x, w, g)),
            ("NCHW, per image", nchw_per_image_steps, (x_cf, w_cf, g_cf)),
            ("NCHW, one product", nchw_one_product_steps, (x_cf, w_cf, g_cf)),
        ):
            steps, results = build(*arrays)
            check(layer, layout, results, ref)
            plans[layout] = steps
        lucid = [] if args.no_lucidnet else lucidnet_steps(x, w, g, ref)
        measure([s for steps in plans.values() for s in steps] + lucid, args.repeats)
        first = layer == "conv1"
        out += [
            "",
            f"### {layer}: ({args.batch}, {size}, {size}, {c}) -> {f} filters -> "
            f"({args.batch}, {ho}, {ho}, {f})",
            "",
            layer_table(plans),
        ]
        needed = 1 if first else 0  # a first layer needs no dx
        summary.append(
            [
                f"{layer}" + (" (first layer: without dx)" if first else ""),
                *(f"{totals(steps)[needed]:.2f}" for steps in plans.values()),
                *(
                    f"{totals(steps)[needed] / totals(plans['NHWC'])[needed]:.2f}×"
                    for layout, steps in plans.items()
                    if layout != "NHWC"
                ),
            ]
        )
        for s in lucid:
            lucid_rows.append([layer, s.variant, f"{s.ms:.2f}"])
    cells = [list(map(float, row[1:4])) for row in summary]
    network = [sum(col) for col in zip(*cells, strict=True)]
    summary.append(
        [
            "**both, as the network needs them**",
            *(f"**{v:.2f}**" for v in network),
            *(f"**{v / network[0]:.2f}×**" for v in network[1:]),
        ]
    )
    out += [
        "",
        "### Summary: ms per training step of the two convolutions",
        "",
        markdown_table(
            ["layer", *LAYOUTS, *(f"{lay} ÷ NHWC (time)" for lay in LAYOUTS[1:])], summary
        ),
    ]
    if lucid_rows:
        import lucidnet

        out += [
            "",
            "### lucidnet's Conv2D (NHWC), same inputs, bias included",
            "",
            f"lucidnet {lucidnet.__version__} from `{lucidnet.__file__}`.",
            "",
            markdown_table(["layer", "call", "ms"], lucid_rows),
        ]
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
