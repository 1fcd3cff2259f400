"""Render the records of ``bench/run.py`` as ``docs/benchmarks.md``.

Pure functions of the records: medians over the rounds, min-max ranges, ratios of
medians (and the range of the per-round ratios, each round's pair measured back to back),
and the issue's targets judged on the ratios of medians. A training measurement whose
parameters, optimizer state or data were not in its contender's dtype
(``workers.TRAIN_DTYPES``) is refused: counted as failed, with the mismatch as its error.
"""

from __future__ import annotations

import math
from statistics import median

from workers import TRAIN_DTYPES

NOTES_MARKER = "<!-- notes -->"
BATCHES = (32, 128, 1024)
CONV_BATCHES = (32, 128)
PRODUCTS_NOTE = (
    "forward: 3 products (X·W1, H1·W2, H2·W3); backward: dW for the 3 layers and the input "
    "gradient dH for the 2 upper layers. lucidnet skips the first layer's input gradient "
    "(dX, 784 wide, which nothing uses), so the bound counts 8 products, not 9."
)


# --- statistics -----------------------------------------------------------------------


def ok(records: list[dict]) -> list[dict]:
    return [r for r in records if r.get("ok")]


def stat(values: list[float]) -> tuple[float, float, float] | None:
    """(median, min, max) or None when nothing was measured."""
    values = [v for v in values if v is not None]
    if not values:
        return None
    return median(values), min(values), max(values)


def metric(records: list[dict], key: str) -> tuple[float, float, float] | None:
    return stat([r["metrics"].get(key) for r in ok(records)])


def paired(a: list[dict], b: list[dict], key: str, invert: bool = False) -> list[float]:
    """Per-round ratios a/b (b/a with ``invert``) for the rounds where both ran."""
    by_round = {r["round"]: r["metrics"][key] for r in ok(b)}
    ratios = []
    for r in ok(a):
        other = by_round.get(r["round"])
        mine = r["metrics"][key]
        if other and mine:
            ratios.append(other / mine if invert else mine / other)
    return ratios


def errors(records: list[dict]) -> str:
    seen = []
    for r in records:
        if not r.get("ok"):
            message = r.get("error", "unknown error").replace("|", "/").replace("\n", " ")
            if message not in seen:
                seen.append(message)
    if not seen:
        return ""
    failed = len(records) - len(ok(records))
    return f"{failed}/{len(records)} failed: " + "; ".join(m[:200] for m in seen)


# --- formatting -----------------------------------------------------------------------


def num(value: float | None, digits: int = 0, unit: str = "") -> str:
    if value is None:
        return "—"
    return f"{value:,.{digits}f}{unit}"


def med_range(s: tuple[float, float, float] | None, digits: int = 0, unit: str = "") -> str:
    if s is None:
        return "—"
    return f"{num(s[0], digits, unit)} ({num(s[1], digits)}–{num(s[2], digits)})"


def span(values: list[float], digits: int = 2, unit: str = "") -> str:
    if not values:
        return "—"
    return f"{min(values):.{digits}f}–{max(values):.{digits}f}{unit}"


def plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def ratio(a: float | None, b: float | None) -> float | None:
    if a is None or not b:
        return None
    return a / b


def cell(records: list[dict], text: str) -> str:
    """``text``, or the errors when nothing was measured (errors appended otherwise)."""
    problem = errors(records)
    if not ok(records):
        return f"**error**: {problem}" if problem else "—"
    return f"{text} ⚠ {problem}" if problem else text


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def first(s: tuple[float, float, float] | None) -> float | None:
    return s[0] if s else None


# --- sections ---------------------------------------------------------------------------

CONTENDER_NAMES = {
    "lucidnet": "lucidnet",
    "lucidnet-f64": "lucidnet float64",
    "torch": "PyTorch",
    "sklearn-f64": "scikit-learn float64 (default)",
    "sklearn-f32": "scikit-learn float32",
    "sklearn": "scikit-learn (float64)",
    "numpy": "NumPy GEMMs alone",
    "lucidnet-train_step": "lucidnet `train_step`",
    "lucidnet-fit": "lucidnet in `fit` (per step)",
    "onnxruntime": "onnxruntime (the exported graph)",
}


def name(contender: str) -> str:
    return CONTENDER_NAMES.get(contender, contender)


# --- training dtypes (cases a, b, e) ------------------------------------------------------

# Case (a)'s contenders in table order; "lucidnet" is float32, its default.
TRAIN_ORDER = ("lucidnet", "lucidnet-f64", "torch", "sklearn-f32", "sklearn-f64")
TRAIN_NAMES = {"lucidnet": "lucidnet float32 (default)"}
# The pairs at equal dtype: (dtype, lucidnet's contender, scikit-learn's).
SKLEARN_PAIRS = (("float32", "lucidnet", "sklearn-f32"), ("float64", "lucidnet-f64", "sklearn-f64"))
# Each library's default: what the report compared before the float64 lucidnet existed.
DEFAULTS_PAIR = ("lucidnet", "sklearn-f64")


def train_name(contender: str) -> str:
    return TRAIN_NAMES.get(contender, name(contender))


def same_dtype_lucidnet(contender: str) -> str | None:
    """The lucidnet contender in ``contender``'s dtype (None for lucidnet's own)."""
    if contender.startswith("lucidnet") or contender not in TRAIN_DTYPES:
        return None
    want = TRAIN_DTYPES[contender]
    return next(c for c in ("lucidnet", "lucidnet-f64") if TRAIN_DTYPES[c] == want)


def dtype_problem(contender: str, record: dict) -> str | None:
    """Why a training record was not measured in ``contender``'s dtype, or None.

    Checks the worker's ``dtype`` (of the data), ``param_dtype`` (every parameter after
    the epoch; required) and ``state_dtype`` (the Adam moments, when recorded).
    """
    want = TRAIN_DTYPES.get(contender)
    if want is None or not record.get("ok"):
        return None
    m = record.get("metrics", {})
    found = {
        "data": m.get("dtype"),
        "parameters": m.get("param_dtype", m.get("sklearn_param_dtype")),
        "optimizer state": m.get("state_dtype"),
    }
    if found["parameters"] is None:
        return f"dtype not checked: the worker recorded no parameter dtype (expected {want})"
    wrong = [f"{what} {got}" for what, got in found.items() if got is not None and got != want]
    if wrong:
        return f"dtype mismatch: {contender} should train in {want}, got " + ", ".join(wrong)
    return None


def refuse_wrong_dtypes(results: dict) -> dict:
    """``results`` with every training record not in its contender's dtype turned into a
    failure (``ok`` False, the mismatch as ``error``, ``dtype_refused`` True; its other
    keys kept), so that it shows as an error and stays out of every median and ratio."""
    checked: dict = {}
    for key, group in results.items():
        checked[key] = {}
        for contender, records in group.items():
            out = []
            for r in records:
                problem = dtype_problem(contender, r) if key.startswith("train-") else None
                out.append(
                    {**r, "ok": False, "error": problem, "dtype_refused": True} if problem else r
                )
            checked[key][contender] = out
    return checked


def refused(*groups: list[dict]) -> bool:
    """Whether any of these records was refused for its dtype."""
    return any(r.get("dtype_refused") for records in groups for r in records)


def param_dtypes(records: list[dict]) -> str:
    """The parameters' dtype(s) the measured records trained in, for the tables."""
    found = sorted({r["metrics"].get("param_dtype") or "?" for r in ok(records)})
    return ", ".join(found) or "—"


def busy(records: list[dict]) -> str:
    return num(first(stat([r.get("foreign_cores") for r in records])), 2)


def section_training(results: dict, facts: dict) -> str:
    rows, pair_rows = [], []
    for batch in BATCHES:
        group = results.get(f"train-{batch}", {})
        if "torch" not in group:
            continue
        for contender in TRAIN_ORDER:
            records = group.get(contender, [])
            s = metric(records, "samples_per_s")
            twin = same_dtype_lucidnet(contender)
            if twin is None:
                r, per_round = "—", "—"
            else:
                mine = group.get(twin, [])
                value = ratio(first(metric(mine, "samples_per_s")), first(s))
                r = num(value, 2, "×")
                per_round = span(paired(mine, records, "samples_per_s"), 2, "×")
                facts[f"train/{contender}/{batch}"] = value  # lucidnet at equal dtype ÷ it
                if refused(mine, records):
                    facts[f"train/{contender}/{batch}/refused"] = True
            rows.append(
                [
                    str(batch),
                    train_name(contender),
                    param_dtypes(records),
                    cell(records, med_range(s)),
                    num(first(metric(records, "seconds")), 2),
                    r,
                    per_round,
                    num(first(metric(records, "train_accuracy_check")), 3),
                    busy(records),
                ]
            )
        defaults = ("each library's default: lucidnet float32, scikit-learn float64",)
        for label, mine_name, theirs_name in (*SKLEARN_PAIRS, defaults + DEFAULTS_PAIR):
            mine, theirs = group.get(mine_name, []), group.get(theirs_name, [])
            mine_s, theirs_s = metric(mine, "samples_per_s"), metric(theirs, "samples_per_s")
            value = ratio(first(mine_s), first(theirs_s))
            pair_rows.append(
                [
                    str(batch),
                    label,
                    cell(mine, num(first(mine_s))),
                    cell(theirs, num(first(theirs_s))),
                    num(value, 2, "×"),
                    span(paired(mine, theirs, "samples_per_s"), 2, "×"),
                ]
            )
    if not rows:
        return ""
    header = [
        "batch",
        "contender",
        "parameters' dtype (as trained)",
        "samples/s, median (min–max)",
        "epoch s",
        "lucidnet ÷ contender at the contender's dtype (samples/s: higher is better for lucidnet)",
        "per-round ratio range",
        "train acc. check",
        "busy elsewhere (cores)",
    ]
    pair_header = [
        "batch",
        "dtype",
        "lucidnet samples/s (median)",
        "scikit-learn samples/s (median)",
        "lucidnet ÷ scikit-learn (higher is better for lucidnet)",
        "per-round ratio range",
    ]
    return "\n".join(
        [
            "## (a) Training throughput",
            "",
            "One epoch over the training rows, 784-256-128-10 MLP, ReLU, softmax cross-entropy, "
            "Adam lr 1e-3, shuffled mini-batches, after a 2-batch warm-up; the time excludes "
            "process start, imports, data loading and model construction. PyTorch: "
            "`nn.Sequential` + `nn.CrossEntropyLoss` on logits + `torch.optim.Adam`, "
            "`zero_grad`/forward/backward/step per batch, float32. lucidnet: "
            "`compile('crossentropy', Adam(1e-3), metrics=['accuracy'])`, `fit(x, y, "
            "epochs=1, batch_size=b, verbose=0)` (so it also tracks the accuracy of each "
            "batch); float32 is its default, float64 builds the same layers with "
            "`Dense(..., dtype='float64')` and float64 X. scikit-learn: "
            "`MLPClassifier(solver='adam', alpha=0, learning_rate_init=1e-3)`, one "
            "`partial_fit` = one epoch; float64 is its default (float64 X), float32 keeps "
            "float32 X. Each worker loads the data in its contender's dtype and records the "
            "dtype of its parameters and Adam moments after the epoch; a measurement in "
            "another dtype than its contender's is refused (an error in the table, out of "
            "the medians). lucidnet is set against each contender in that contender's "
            "dtype. *train acc. check*: accuracy on the first 10,000 training rows after the "
            "epoch (untimed), to show every contender did the same work.",
            "",
            table(header, rows),
            "",
            "lucidnet against scikit-learn at equal dtype (both float32, both float64), and "
            "each library's default as the earlier reports compared them:",
            "",
            table(pair_header, pair_rows),
        ]
    )


def section_gemm(results: dict, facts: dict, samples: int, trials: int) -> str:
    rows, breakdown = [], {}
    for batch in BATCHES:
        group = results.get(f"train-{batch}", {})
        if "numpy" not in group:
            continue
        gemm, mine = group["numpy"], group.get("lucidnet", [])
        step = metric(gemm, "step_s")
        epoch = metric(mine, "seconds")
        steps = samples / batch
        bound = first(step) * steps if step else None
        fraction = ratio(bound, first(epoch))
        facts[f"gemm/{batch}"] = fraction
        gemm_by_round = {r["round"]: r["metrics"]["step_s"] * steps for r in ok(gemm)}
        per_round = [
            gemm_by_round[r["round"]] / r["metrics"]["seconds"]
            for r in ok(mine)
            if r["round"] in gemm_by_round
        ]
        rows.append(
            [
                str(batch),
                num(steps, 2),
                cell(gemm, med_range(step and tuple(v * 1e6 for v in step))),
                num(first(metric(gemm, "gflops"))),
                num(bound, 3),
                cell(mine, num(first(epoch), 3)),
                num(fraction and fraction * 100, 1, " %"),
                span([p * 100 for p in per_round], 1, " %"),
                busy(gemm),
            ]
        )
        for r in ok(gemm):
            for product, seconds in r["metrics"]["products_s"].items():
                breakdown.setdefault(product, {}).setdefault(batch, []).append(seconds * 1e6)
    if not rows:
        return ""
    header = [
        "batch",
        f"steps per epoch ({samples:,} ÷ batch)",
        "8 products, µs per step: median (min–max)",
        "GFLOP/s",
        "GEMM bound, s per epoch",
        "lucidnet epoch, s (median)",
        "fraction of the bound (higher is better)",
        "per-round range",
        "busy elsewhere during the GEMMs (cores)",
    ]
    parts = [
        "## (b) Fraction of the GEMM bound",
        "",
        "The 8 float32 matrix products of one training step, timed alone with NumPy "
        "(`np.matmul(..., out=...)` into preallocated arrays, transposes as views), in a "
        f"fresh process with the same BLAS and threads; the median of {trials} trials per "
        "process. "
        f"{PRODUCTS_NOTE} The bound is the time per step × {samples:,} ÷ batch (the last, "
        "partial batch pro rata); the fraction is the bound ÷ lucidnet's epoch time from (a).",
        "",
        table(header, rows),
    ]
    if breakdown:
        batches = [b for b in BATCHES if any(b in v for v in breakdown.values())]
        brows = [
            [product, *(num(first(stat(per.get(b, []))), 1) for b in batches)]
            for product, per in breakdown.items()
        ]
        parts += [
            "",
            "Each product alone, µs (median over the rounds):",
            "",
            table(["product", *(f"batch {b}" for b in batches)], brows),
        ]
    return "\n".join(parts)


def section_xor(results: dict, facts: dict, settings: dict) -> str:
    group = results.get("xor")
    if not group:
        return ""
    torch = group.get("torch", [])
    torch_med = first(metric(torch, "us_per_step"))
    rows = []
    for contender in ("lucidnet-train_step", "lucidnet-fit", "torch"):
        records = group.get(contender, [])
        s = metric(records, "us_per_step")
        if contender == "torch":
            slower, faster, per_round = "—", "—", "—"
        else:
            slower = num(ratio(first(s), torch_med), 2, "×")
            speedup = ratio(torch_med, first(s))
            faster = num(speedup, 2, "×")
            per_round = span(paired(records, torch, "us_per_step", invert=True), 2, "×")
            facts[f"xor/{contender}"] = speedup
        rows.append(
            [
                name(contender),
                cell(records, med_range(s, 1)),
                slower,
                faster,
                per_round,
                num(first(metric(records, "final_loss")), 4),
                busy(records),
            ]
        )
    header = [
        "contender",
        "µs per step, median (min–max)",
        "time ÷ PyTorch's (lower is better)",
        "speed-up over PyTorch (higher is better)",
        "per-round speed-up range",
        "BCE loss after training",
        "busy elsewhere (cores)",
    ]
    return "\n".join(
        [
            "## (c) XOR 2-4-1, sigmoid, full batch",
            "",
            "One step on the 4 XOR rows (float32, targets as a (4, 1) column): forward, "
            "binary cross-entropy, backward, SGD lr 0.5. lucidnet `train_step`: the public "
            "`ln.train_step(model, x, y, 'binary_crossentropy', opt)` (it validates inputs "
            "and keeps the previous weights to undo a diverging step); lucidnet in `fit`: "
            "`fit(epochs=N, batch_size=4)` ÷ N: one step per epoch, so it includes fit's "
            "per-epoch work. PyTorch: `zero_grad(set_to_none=True)`, forward, `nn.BCELoss`, "
            "`backward`, `torch.optim.SGD.step`. Each process: 200 warm-up steps, then the "
            f"median of {settings['xor_blocks']} blocks of {settings['xor_steps']:,} steps.",
            "",
            table(header, rows),
        ]
    )


def latency_cells(records: list) -> list[str]:
    """A latency row's first cells: the median µs per call (min–max over processes) and
    the p10–p90 range, for cases (d) and (h)."""
    s = metric(records, "us_median")
    p10_p90 = (
        num(first(metric(records, "us_p10")), 1) + "–" + num(first(metric(records, "us_p90")), 1)
        if ok(records)
        else "—"
    )
    return [cell(records, med_range(s, 1)), p10_p90]


def section_predict(results: dict, facts: dict) -> str:
    group = results.get("predict")
    if not group:
        return ""
    mine = group.get("lucidnet", [])
    mine_med = first(metric(mine, "us_median"))
    rows = []
    for contender in ("lucidnet", "torch", "sklearn"):
        records = group.get(contender, [])
        s = metric(records, "us_median")
        if contender == "lucidnet":
            r, per_round = "—", "—"
        else:
            value = ratio(mine_med, first(s))
            r = num(value, 2, "×")
            per_round = span(paired(mine, records, "us_median"), 2, "×")
            facts[f"predict/{contender}"] = value
        rows.append([name(contender), *latency_cells(records), r, per_round, busy(records)])
    header = [
        "contender",
        "µs per call, median (min–max over processes)",
        "p10–p90 µs",
        "lucidnet ÷ contender latency (lower is better for lucidnet)",
        "per-round ratio range",
        "busy elsewhere (cores)",
    ]
    return "\n".join(
        [
            "## (d) Single-sample predict latency",
            "",
            "One (1, 784) float32 row in, 10 probabilities out, the 784-256-128-10 MLP; each "
            "call timed alone, 500 warm-up calls, then the median of many calls per process "
            "(64 distinct test rows, cycled). lucidnet: `model.predict(x1)`. PyTorch: "
            "`model(torch.from_numpy(x1)).numpy()` with a softmax layer, inside one "
            "`torch.inference_mode()` block around the whole loop (its cheapest use). "
            "scikit-learn: `predict_proba(x1)` (float64, its default) after a short fit.",
            "",
            table(header, rows),
        ]
    )


def section_onnx(results: dict, threads: int) -> str:
    """Case (h): no target in issue 15, so nothing goes into the facts."""
    group = results.get("onnx")
    if not group:
        return ""
    mine = group.get("lucidnet", [])
    runtime = group.get("onnxruntime", [])
    mine_med = first(metric(mine, "us_median"))
    rows = []
    for contender, records in (("lucidnet", mine), ("onnxruntime", runtime)):
        s = metric(records, "us_median")
        if contender == "lucidnet":
            r, per_round, check = "—", "—", "—"
        else:
            value = ratio(mine_med, first(s))
            r = num(value, 2, "×")
            per_round = span(paired(mine, records, "us_median"), 2, "×")
            worst = stat([rec["metrics"].get("max_abs_diff") for rec in ok(records)])
            check = f"{worst[2]:.1e}" if worst else "—"
        rows.append([name(contender), *latency_cells(records), r, per_round, check, busy(records)])
    graph = next((r["metrics"] for r in ok(runtime)), {})
    version = next((r["env"].get("onnxruntime") for r in ok(runtime)), None)
    header = [
        "contender",
        "µs per call, median (min–max over processes)",
        "p10–p90 µs",
        "lucidnet ÷ onnxruntime latency (lower is better for lucidnet)",
        "per-round ratio range",
        "largest difference from `predict_proba` over the processes (checked ≤ 1e-5 each)",
        "busy elsewhere (cores)",
    ]
    return "\n".join(
        [
            "## (h) The exported MLP in onnxruntime (issue 15)",
            "",
            "Case (d)'s MLP and timing (the same weights; one (1, 784) float32 row in, 10 "
            "probabilities out; each call timed alone after 500 warm-up calls, the median of "
            "many calls per process, 64 distinct test rows cycled). lucidnet: "
            "`model.predict(x1)`. onnxruntime: the model written by "
            "`lucidnet.export.to_onnx(model, path)` to a temporary file"
            + (f" (opset {graph['opset']})" if graph.get("opset") else "")
            + ", opened by `onnxruntime.InferenceSession` "
            + (f"{version} " if version else "")
            + f"on `CPUExecutionProvider` with `intra_op_num_threads={threads}` (otherwise "
            "its defaults), then `session.run(['probabilities'], {'input': x1})[0]`. Before "
            "timing, each onnxruntime process checks its output against lucidnet's "
            "`predict_proba` on 256 test rows at once and on the 64 timed rows one by one, "
            "and fails if any value differs by more than 1e-5.",
            "",
            table(header, rows),
        ]
    )


# --- case j: data-parallel training over MPI (issue 17) ----------------------------------

# The paper estimate's networks: (name, bandwidth in GB/s an all-reduce reaches, latency of
# one message in µs). Round textbook figures, not measurements: 10 Gb/s Ethernet over TCP
# and 100 Gb/s InfiniBand (HDR) with RDMA.
NETWORKS = (("10 Gb/s Ethernet", 1.1, 30.0), ("100 Gb/s InfiniBand", 11.0, 2.0))
CLUSTER_RANKS = (2, 4, 8, 16, 32)


def ring_allreduce_us(nbytes: float, ranks: int, gb_per_s: float, latency_us: float) -> float:
    """A ring all-reduce: 2 (N-1) messages of ``nbytes / N`` each way (reduce-scatter then
    all-gather): ``2 (N-1)/N * bytes / bandwidth + 2 (N-1) * latency``."""
    if ranks < 2:
        return 0.0
    return 2 * (ranks - 1) / ranks * nbytes / (gb_per_s * 1e3) + 2 * (ranks - 1) * latency_us


def section_mpi(results: dict) -> str:
    """Case (j): measured here, then the estimate for a cluster from the measured compute."""
    group = results.get("mpi")
    if not group:
        return ""
    reduce_records = group.get("allreduce", [])
    one, one_thread, two = (group.get(c, []) for c in ("ranks-1", "ranks-1-thread", "ranks-2"))
    allreduce = stat([r["metrics"]["allreduce_us"][1] for r in ok(reduce_records)])
    scalar = stat([r["metrics"]["scalar_us"][1] for r in ok(reduce_records)])
    facts = next((r["metrics"] for r in ok(reduce_records)), {})
    nbytes = facts.get("bytes")
    rows = [
        [
            "Allreduce of the flat gradient buffer (2 ranks)",
            cell(reduce_records, med_range(allreduce, 0, " µs")),
            cell(reduce_records, num(nbytes and allreduce and nbytes / allreduce[0] / 1e3, 2))
            + " GB/s",
        ],
        [
            "Allreduce of the loss (one float64)",
            cell(reduce_records, med_range(scalar, 1, " µs")),
            "",
        ],
    ]
    step_one_thread = first(metric(one_thread, "step_ms"))
    epochs = []
    for label, records in (
        ("1 process, 2 BLAS threads (plain `fit`)", one),
        ("1 process, 1 thread", one_thread),
        ("2 ranks × 1 thread (`mpiexec -n 2`, `distributed=True`)", two),
    ):
        e = metric(records, "epoch_s")
        hook = metric(records, "hook_ms_per_step")
        epochs.append(
            [
                label,
                cell(records, med_range(e, 2, " s")),
                cell(records, med_range(metric(records, "step_ms"), 2, " ms")),
                num(first(hook), 2, " ms") if hook else "—",
                busy(records),
            ]
        )
    e1, e2 = first(metric(one, "epoch_s")), first(metric(two, "epoch_s"))
    foreign = max(
        (r.get("foreign_cores", 0.0) for r in ok([*one, *one_thread, *two])), default=None
    )
    speed = ratio(e1, e2)
    lines = [
        "## (j) Data-parallel training over MPI (issue 17)",
        "",
        "`lucidnet.distributed` on this machine: "
        + (f"{facts['library']}, " if facts.get("library") else "")
        + f"{facts.get('floats', 0):,} float32 parameters of the 784-256-128-10 MLP "
        f"({num((nbytes or 0) / 2**20, 2)} MiB per all-reduce). Each all-reduce is timed "
        "alone (`MPI_Allreduce`, sum, in place) after 50 warm-up calls; the median over the "
        "calls of a process, then the median (min–max) over processes.",
        "",
        table(["what", "µs per call, median (min–max)", "throughput"], rows),
        "",
        "One epoch of `fit` at batch 128 (Adam, accuracy; the global batch of 128 rows is "
        "split 64 + 64 across the ranks; the slowest rank's time). The hook column is the "
        "time per step inside the gradient hook on rank 0: the all-reduce plus the wait for "
        "the other rank.",
        "",
        table(
            ["run", "epoch", "per step", "in the hook per step", "busy elsewhere (cores)"], epochs
        ),
        "",
        f"2 ranks ÷ 1 process with 2 threads: **{num(speed, 2, '×')}** the speed; ÷ 1 "
        f"process with 1 thread: **{num(ratio(first(metric(one_thread, 'epoch_s')), e2), 2, '×')}**"
        + (
            " (no gain). "
            if speed is not None and speed < 1.05
            else " (the 1-process run may have lost more to its 2 BLAS threads than 2 "
            "ranks lose to the all-reduce). "
        )
        + "This machine has 2 cores: 1 process already uses both through BLAS threads, "
        "so 2 ranks can only trade threading inside each matrix product for a split of "
        "the batch, and pay the all-reduce, the wait for the slower rank and the "
        "duplicated per-step work (gathering the global batch, the optimizer's update of "
        "every weight on every rank) on top. Little gain is expected here."
        + (
            f" **The machine was busy** (up to {foreign:.1f} cores used by other processes "
            "during these runs): 2 BLAS threads or 2 ranks then share a core with someone "
            "else, and OpenBLAS's spinning threads suffer most; rerun on an idle machine "
            "before reading the ratios."
            if foreign is not None and foreign > 0.3
            else ""
        ),
    ]
    if step_one_thread and nbytes:
        lines += ["", *_cluster_estimate(step_one_thread, nbytes, scalar)]
    return "\n".join(lines)


def _cluster_estimate(step_ms: float, nbytes: int, scalar: tuple | None) -> list[str]:
    """Strong and weak scaling on paper from the measured compute of one core."""
    compute_us = step_ms * 1e3
    rows = []
    for name, gb, latency in NETWORKS:
        for n in CLUSTER_RANKS:
            comm = ring_allreduce_us(nbytes, n, gb, latency) + math.log2(n) * latency  # + loss
            strong = compute_us / (compute_us / n + comm)
            weak = n * compute_us / (compute_us + comm)
            rows.append([name, str(n), num(comm, 0, " µs"), num(strong, 1, "×"), num(weak, 1, "×")])
    return [
        "### Scaling on a cluster, on paper",
        "",
        f"From the measured compute of one core, **{step_ms:.2f} ms per step of 128 rows** "
        "(1 process, 1 thread), one rank per node, and a ring all-reduce of the "
        f"{nbytes / 1e6:.2f} MB gradient, `2 (N-1)/N · bytes / bandwidth + 2 (N-1) · "
        "latency`, plus the loss's all-reduce (`log2 N` latencies; the gathering of the "
        "predictions for the metrics, 5 KB, is left out). The networks are round "
        "figures, not measurements: "
        + "; ".join(f"{n} ≈ {gb:g} GB/s, {lat:g} µs" for n, gb, lat in NETWORKS)
        + ". *Strong* scaling keeps the global batch at 128 (each rank computes 128/N rows: "
        "`t1 / (t1/N + comm)`), and assumes the compute shrinks linearly with the rows, "
        "which small batches do not quite do (a matrix product on 16 rows runs at a lower "
        "rate than on 128); *weak* scaling keeps 128 rows per rank (global batch 128·N, "
        "throughput `N · t1 / (t1 + comm)`), which needs the learning-rate rule of "
        "docs/distributed.md. Both ignore the optimizer's update, the same on every rank "
        "(not parallel), and the load imbalance between ranks.",
        "",
        table(
            ["network", "ranks N", "communication per step", "strong speed-up", "weak speed-up"],
            rows,
        ),
        "",
        f"Read: this MLP is small ({nbytes / 4e6:.2f} M parameters, {step_ms:.1f} ms of "
        "compute per step on one core), so a fixed batch of 128 stops gaining after a few "
        "ranks on "
        "Ethernet: the all-reduce costs as much as the compute. Growing the batch with the "
        "ranks (weak scaling) keeps most of the gain; a larger network (more compute per "
        "byte of gradient) scales better.",
    ]


def section_memory(results: dict, facts: dict) -> str:
    group = results.get("train-128", {})
    if "lucidnet" not in group or "torch" not in group:
        return ""
    rows = []
    for contender in TRAIN_ORDER:
        records = group.get(contender, [])
        s = metric(records, "beyond_data_mib")
        if contender == "lucidnet":
            facts["memory"] = first(s)
        rows.append(
            [
                train_name(contender),
                num(first(metric(records, "data_mib")), 0),
                num(first(metric(records, "rss_after_setup_mib")), 0),
                cell(records, med_range(s, 1)),
                med_range(metric(records, "hwm_beyond_data_mib"), 1),
            ]
        )
    header = [
        "contender",
        "training data, MiB",
        "RSS after setup, MiB",
        "peak beyond the data, MiB (ru_maxrss − baseline; lower is better)",
        "cross-check: VmHWM after a reset, MiB",
    ]
    return "\n".join(
        [
            "## (e) Peak training memory beyond the data (batch 128)",
            "",
            "In the training workers of (a) at batch 128: the baseline is ru_maxrss after "
            "loading the data (in the contender's dtype: float64 for lucidnet float64 and "
            "scikit-learn's default) "
            "and building the model; the figure is ru_maxrss after the warm-up and the timed "
            "epoch, minus that baseline. The data is read in chunks so that loading leaves no "
            "peak above the data itself. Cross-check: the kernel's peak RSS reset at the "
            "baseline (`/proc/self/clear_refs`), then VmHWM − the RSS at the reset.",
            "",
            table(header, rows),
        ]
    )


def section_recipe(recipe: dict | None, facts: dict, quick: bool) -> str:
    if recipe is None:
        return ""
    if not recipe.get("ok"):
        body = f"**error**: {errors([recipe])}"
    else:
        m = recipe["metrics"]
        facts["recipe"] = m
        test = m["test"]
        body = table(
            [
                "command",
                "epochs",
                "training, s (the CLI's 'trained N epochs in Xs')",
                "whole process, s",
                "test accuracy",
                "test loss",
            ],
            [
                [
                    f"`{m['command'].strip()}`",
                    str(m["epochs"]),
                    num(m["train_s"], 1),
                    num(m["wall_s"], 1),
                    num(test.get("accuracy"), 4),
                    num(test.get("loss"), 4),
                ]
            ],
        )
    quick_note = (
        " **This quick run trained 1 epoch: the figures are a smoke test, not the recipe.**"
        if quick
        else ""
    )
    return "\n".join(
        [
            "## (f) The Fashion-MNIST recipe",
            "",
            "`lucidnet train --data fashion-mnist --layers 512,256 --dropout 0.3 --schedule "
            "cosine --epochs 40`: 784-512-256-10, ReLU, dropout 0.3 after each hidden layer, "
            "Adam lr 1e-3 with cosine decay, 40 epochs, batch 128, seed 0, 10 % of the "
            "training rows held out for validation; tested on the 10,000 test images. One "
            "run (a subprocess; its report lines parsed), after the rounds." + quick_note,
            "",
            body,
        ]
    )


def judged(rows: list[list[str]], label: str, value: object, text: str, met: object) -> None:
    """Append a target's row: "not measured" when ``value`` is None, else met or not."""
    if value is None:
        rows.append([label, "not measured", "—"])
    else:
        rows.append([label, text, "met" if met else "**not met**"])


def section_targets(facts: dict, quick: bool) -> str:
    rows = []

    def judge(label: str, value: float | None, text: str, met: bool | None) -> None:
        judged(rows, label, value, text, met)

    def judge_training(label: str, key: str, goal: float) -> None:
        """A case (a) ratio; not judged when a measurement behind it was refused for its
        dtype (the ratio would rest on the rounds that were left)."""
        v = facts.get(key)
        if facts.get(key + "/refused"):
            shown = f"{v:.2f}×" if v else "—"
            rows.append(
                [label, shown, "not judged: a measurement was in the wrong dtype (see (a))"]
            )
        else:
            judge(label, v, f"{v:.2f}×" if v else "", v is not None and v >= goal)

    for batch, goal in ((128, 1.5), (1024, 1.5), (32, 1.2)):
        label = f"training ≥ {goal}× PyTorch samples/s, batch {batch}"
        judge_training(label, f"train/torch/{batch}", goal)
    for dtype, _, theirs in SKLEARN_PAIRS:
        for batch in BATCHES:
            label = f"training ≥ 3× scikit-learn MLPClassifier, both {dtype}, batch {batch}"
            judge_training(label, f"train/{theirs}/{batch}", 3)
    v = facts.get("gemm/1024")
    judge(
        "≥ 65 % of the GEMM bound, batch 1024", v, f"{v * 100:.1f} %" if v else "", v and v >= 0.65
    )
    for contender, label in (("lucidnet-train_step", "`train_step`"), ("lucidnet-fit", "in `fit`")):
        v = facts.get(f"xor/{contender}")
        judge(
            f"XOR step ≥ 4× faster than PyTorch ({label})",
            v,
            f"{v:.2f}× faster" if v else "",
            v is not None and v >= 4,
        )
    v = facts.get("predict/torch")
    judge(
        "single-sample predict ≤ 0.7× PyTorch's latency",
        v,
        f"{v:.2f}×" if v else "",
        v is not None and v <= 0.7,
    )
    v = facts.get("memory")
    judge(
        "training memory beyond the data ≤ 120 MiB (batch 128)",
        v,
        f"{v:.1f} MiB" if v is not None else "",
        v is not None and v <= 120,
    )
    recipe = facts.get("recipe")
    if recipe is None:
        rows.append(["Fashion-MNIST recipe ≥ 0.90 test accuracy", "not measured", "—"])
        rows.append(["Fashion-MNIST recipe trains in < 3 min on 2 cores", "not measured", "—"])
    else:
        acc, seconds = recipe["test"].get("accuracy"), recipe["train_s"]
        if quick:
            status = "not judged (quick run: 1 epoch)"
            rows.append(["Fashion-MNIST recipe ≥ 0.90 test accuracy", f"{acc:.4f}", status])
            rows.append(["Fashion-MNIST recipe trains in < 3 min", f"{seconds:.1f} s", status])
        else:
            judge("Fashion-MNIST recipe ≥ 0.90 test accuracy", acc, f"{acc:.4f}", acc >= 0.90)
            judge(
                "Fashion-MNIST recipe trains in < 3 min on 2 cores",
                seconds,
                f"{seconds:.1f} s training ({recipe['wall_s']:.1f} s whole process)",
                seconds < 180,
            )
    return "\n".join(
        [
            "## Targets (issue 5)",
            "",
            "Judged on the ratios of the medians of this run (OpenBLAS variables unset).",
            "",
            table(["target", "measured", "status"], rows),
        ]
    )


def section_conv(results: dict, facts: dict, settings: dict, recipe: dict | None) -> str:
    rows = []
    for batch in CONV_BATCHES:
        group = results.get(f"conv-{batch}")
        if not group:
            continue
        mine = group.get("lucidnet", [])
        torch = group.get("torch", [])
        value = ratio(first(metric(mine, "samples_per_s")), first(metric(torch, "samples_per_s")))
        facts[f"conv/torch/{batch}"] = value
        facts[f"conv/memory/{batch}"] = first(metric(mine, "beyond_data_mib"))
        for contender, records in (("lucidnet", mine), ("torch", torch)):
            is_mine = contender == "lucidnet"
            rows.append(
                [
                    str(batch),
                    name(contender),
                    cell(records, med_range(metric(records, "samples_per_s"))),
                    num(first(metric(records, "seconds")), 2),
                    "—" if is_mine else num(value, 2, "×"),
                    "—" if is_mine else span(paired(mine, records, "samples_per_s"), 2, "×"),
                    med_range(metric(records, "beyond_data_mib"), 1),
                    med_range(metric(records, "hwm_beyond_data_mib"), 1),
                    num(first(metric(records, "train_accuracy_check")), 3),
                    busy(records),
                ]
            )
    recipe_row = cnn_recipe_row(recipe, facts)
    if not rows and not (recipe and recipe.get("found")):
        return ""  # the case did not run and there is no recipe file to show
    samples = settings.get("conv_samples")
    parts = [
        "## (g) Convolutional network (issue 13)",
        "",
        "The same network in both: conv 32 3×3 valid, ReLU, max-pool 2; conv 64 3×3 "
        "valid, ReLU, max-pool 2; flatten; dense 128, ReLU; dense 10; softmax "
        "cross-entropy on the logits; Adam lr 1e-3; float32; 28×28 one-channel images, "
        "shuffled mini-batches. lucidnet takes them channels last, `(N, 28, 28, 1)`: "
        "`Conv2D` is im2col and one matrix product through NumPy's BLAS, `MaxPool2D` "
        "strided slices; `compile('crossentropy', Adam(1e-3), metrics=['accuracy'])`, "
        "`fit(epochs=1, batch_size=b)`, he_normal kernels. PyTorch takes them channels "
        "first, `(N, 1, 28, 28)` (one channel: the same bytes, no copy on either side): "
        "`nn.Conv2d`, `nn.MaxPool2d` (its own CPU convolution kernels), default "
        "initialization, `nn.CrossEntropyLoss` and `torch.optim.Adam` in the loop of (a). "
        + (f"Each measurement is one pass over {samples:,} training rows " if samples else "")
        + "after a 2-batch warm-up, in a fresh process; the time excludes process start, "
        "imports, data loading and model construction. Memory beyond the data as in (e): "
        "ru_maxrss after the timed pass minus ru_maxrss after loading the data and "
        "building the model; cross-check: VmHWM after a reset at that point. *train acc. "
        "check*: accuracy on the first 2,000 training rows afterwards (untimed). "
        "`bench/conv_layout.py` measures the layout choice itself (channels last against "
        "channels first, im2col stage by stage).",
    ]
    if rows:
        header = [
            "batch",
            "contender",
            "samples/s, median (min–max)",
            "s per pass",
            "lucidnet ÷ PyTorch (samples/s: higher is better for lucidnet)",
            "per-round ratio range",
            "peak beyond the data, MiB (lower is better)",
            "cross-check: VmHWM after a reset, MiB",
            "train acc. check",
            "busy elsewhere (cores)",
        ]
        parts += ["", table(header, rows)]
    parts += [
        "",
        "The convolutional Fashion-MNIST recipe: one run of the CLI, not repeated by this "
        "suite; its result is read from a file written after that run"
        + (f" (`{recipe['path']}`)" if recipe else "")
        + ".",
        "",
        table(["command", "test accuracy", "training, s", "source"], [recipe_row]),
    ]
    return "\n".join(parts)


def cnn_recipe_row(recipe: dict | None, facts: dict) -> list[str]:
    """The recipe's table row from ``run.read_cnn_recipe``'s record (None: not read)."""
    if recipe is None or not recipe.get("found"):
        where = f"no `{recipe['path']}`" if recipe else "not read"
        return ["not measured", "—", "—", where]
    if "error" in recipe:
        facts["cnn_recipe_error"] = recipe["error"]
        problem = recipe["error"].replace("|", "\\|")
        return [f"**error**: {problem}", "—", "—", f"`{recipe['path']}`"]
    facts["cnn_recipe"] = recipe
    source = f"`{recipe['path']}`" + (f", {recipe['date']}" if recipe.get("date") else "")
    return [
        "`" + recipe["command"].strip().replace("|", "\\|") + "`",
        num(recipe["accuracy"], 4),
        num(recipe["seconds"], 1),
        source,
    ]


def section_targets_conv(facts: dict) -> str:
    rows: list[list[str]] = []
    for batch in CONV_BATCHES:
        v = facts.get(f"conv/torch/{batch}")
        judged(
            rows,
            f"convolutional training ≥ 1.0× PyTorch samples/s, batch {batch}",
            v,
            f"{v:.2f}×" if v is not None else "",
            v is not None and v >= 1.0,
        )
    v = facts.get("conv/memory/128")
    judged(
        rows,
        "convolutional training memory beyond the data ≤ 300 MiB (batch 128)",
        v,
        f"{v:.1f} MiB" if v is not None else "",
        v is not None and v <= 300,
    )
    recipe = facts.get("cnn_recipe")
    labels = (
        "convolutional recipe ≥ 0.92 test accuracy (aim 0.93), one CLI command",
        "convolutional recipe trains in ≤ 5 min on 2 cores",
    )
    if "cnn_recipe_error" in facts:
        rows += [[label, "**error** in the recipe's file (see (g))", "—"] for label in labels]
    elif recipe is None:
        rows += [[label, "not measured", "—"] for label in labels]
    else:
        acc, seconds = recipe["accuracy"], recipe["seconds"]
        judged(rows, labels[0], acc, f"{acc:.4f}", acc >= 0.92)
        judged(rows, labels[1], seconds, f"{seconds:.1f} s training", seconds <= 300)
    return "\n".join(
        [
            "## Targets (issue 13)",
            "",
            "Throughput and memory from (g), judged on the ratio of the medians of this run; "
            "the recipe from its file (see (g)).",
            "",
            table(["target", "measured", "status"], rows),
        ]
    )


def _pools(env: dict) -> str:
    pools = env.get("threadpools")
    if not isinstance(pools, list):
        return str(pools)
    parts = []
    for p in pools:
        what = p.get("internal_api") or p.get("user_api")
        detail = ", ".join(
            str(x)
            for x in (
                p.get("prefix"),
                p.get("version") and f"v{p['version']}",
                p.get("architecture") and f"kernel {p['architecture']}",
                f"{p.get('num_threads')} threads",
            )
            if x
        )
        parts.append(f"{what} ({detail})")
    return "<br>".join(parts) or "none"


def _family(contender: str) -> str:
    for prefix, label in (
        ("lucidnet", "lucidnet"),
        ("torch", "PyTorch"),
        ("sklearn", "scikit-learn"),
        ("numpy", "NumPy (GEMM bound)"),
        ("onnxruntime", "onnxruntime"),
    ):
        if contender.startswith(prefix):
            return label
    return contender


def section_environment(results: dict) -> str:
    seen: dict[str, dict] = {}
    for group in results.values():
        for contender, records in group.items():
            for r in ok(records):
                seen.setdefault(_family(contender), r["env"])
                break
    rows = []
    for label, env in seen.items():
        torch = env.get("torch_blas")
        torch_text = (
            f"{env.get('torch_threads')} intra-op / {env.get('torch_interop_threads')} inter-op; "
            f"{torch.get('blas')} {torch.get('mkl_version') or ''}, {torch.get('cpu_capability')}"
            if torch
            else "—"
        )
        blas_vars = env.get("openblas_vars")
        rows.append(
            [
                label,
                _pools(env),
                torch_text,
                "unset" if not blas_vars else ", ".join(f"{k}={v}" for k, v in blas_vars.items()),
            ]
        )
    if not rows:
        return ""
    return "\n".join(
        [
            "## BLAS, kernels and threads per contender",
            "",
            "As each worker process saw them after its measurement (threadpoolctl's "
            "`threadpool_info()`: internal_api, library, version, kernel (architecture), "
            "threads; PyTorch's own `get_num_threads()` and its statically linked BLAS, "
            "which threadpoolctl cannot see).",
            "",
            table(
                [
                    "process",
                    "thread pools (threadpoolctl)",
                    "PyTorch threads and BLAS",
                    "OPENBLAS_CORETYPE / L2_SIZE",
                ],
                rows,
            ),
        ]
    )


def header(meta: dict, results: dict, recipe: dict | None) -> str:
    command = meta["command"]
    if command["make"]:
        produced = f"`make bench`, which runs `{command['underlying']}`"
    else:
        produced = f"`{command['underlying']}`"
    machine, versions, settings = meta["machine"], meta["versions"], meta["settings"]
    all_records = [r for g in results.values() for rs in g.values() for r in rs]
    if recipe:
        all_records.append(recipe)
    foreign = stat([r.get("foreign_cores") for r in all_records])
    lines = [
        "# Benchmarks",
        "",
        f"Generated by `bench/run.py` on {meta['date']}; regenerate it rather than edit it "
        "(the Notes section at the end is kept across regenerations).",
        "",
    ]
    if meta["mode"] == "quick":
        lines += [
            "> **Quick smoke run** (`--quick`): "
            f"{plural(settings['rounds'], 'round')}, {settings['samples']:,} training rows "
            "per epoch"
            + (
                f" ({settings['conv_samples']:,} for the convolutional network)"
                if "g" in meta["cases"] and "conv_samples" in settings
                else ""
            )
            + ", shorter loops, a 1-epoch recipe. It checks the harness; the figures are not "
            "the suite's measurement. `make bench` runs the full suite.",
            "",
        ]
    found = command["unset_found"]
    lines += [
        f"- **Command**: {produced}.",
        f"- **Run**: {meta['mode']}, cases {', '.join(meta['cases'])}, "
        f"{plural(settings['rounds'], 'round')}, {meta['elapsed_s'] / 60:.1f} min in all. "
        "Every measurement ran in its own "
        "fresh Python process; within a round the contenders of a comparison ran back to "
        "back, their order rotated each round. Figures are medians over the rounds with the "
        "(min–max) range; ratios are ratios of the medians.",
        f"- **Machine**: {machine.get('cpu')}, {machine.get('logical_cpus')} logical CPUs "
        f"({machine.get('usable_cpus')} usable), {num(machine.get('ram_gib'), 1)} GiB RAM, "
        f"{machine.get('kernel')}, SIMD: {', '.join(machine.get('simd', [])) or 'unknown'}.",
        f"- **Noise**: load average {meta.get('load_start')} at the start, "
        f"{meta.get('load_end')} at the end; CPU busy outside the benchmark process during "
        f"the measurements (in cores, of {machine.get('logical_cpus')}): median "
        f"{num(first(foreign), 2)}, max {num(foreign and foreign[2], 2)}. The machine is "
        "shared: treat single figures with care, ratios of interleaved runs with less.",
        "- **Versions**: "
        + ", ".join(f"{k} {v}" for k, v in versions.items() if k not in ("lucidnet_commit",))
        + (f" (lucidnet at {versions['lucidnet_commit']})" if "lucidnet_commit" in versions else "")
        + ".",
        *(
            [
                "- **Warning**: lucidnet's source files changed while this run went on; "
                "its figures may mix versions of the library."
            ]
            if meta.get("source_changed")
            else []
        ),
        *lucidnet_source(meta),
        f"- **Threads**: {meta['threads']} for every contender (NumPy's BLAS through "
        "threadpoolctl, `torch.set_num_threads`).",
        "- **OpenBLAS variables**: OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE removed from "
        "every worker's environment, as on a user's machine"
        + (
            f" (this shell had {', '.join(f'{k}={v}' for k, v in found.items())})."
            if found
            else "."
        ),
        f"- **Data**: {meta.get('data')}.",
    ]
    return "\n".join(lines)


def lucidnet_source(meta: dict) -> list[str]:
    """The header's line on where the lucidnet workers imported the library from."""
    inside, elsewhere = meta.get("lucidnet_files", []), meta.get("lucidnet_elsewhere", [])
    if not inside and not elsewhere:
        return []
    line = "- **lucidnet imported from**: " + ", ".join(f"`{f}`" for f in inside + elsewhere)
    if elsewhere:
        line += (
            " — **warning**: not (only) this checkout's `src/`: the figures are not "
            "those of the commit named above"
        )
    return [line + "."]


def notes_of(previous: str) -> str:
    """The hand-written text after the notes marker of an earlier report, if any."""
    if NOTES_MARKER not in previous:
        return ""
    return previous.split(NOTES_MARKER, 1)[1].strip("\n")


def section_stream(results: dict) -> str:
    """(i): one epoch from a memory map at 1x and 10x the rows on disk (issue 17)."""
    group = results.get("stream", {})
    if not group:
        return ""
    rows = []
    for contender in ("1x", "10x"):
        records = group.get(contender, [])
        rows.append(
            [
                contender,
                num(first(metric(records, "samples")), 0),
                num(first(metric(records, "file_mib")), 0),
                cell(records, med_range(metric(records, "seconds"), 2, " s")),
                med_range(metric(records, "samples_per_s"), 0),
                med_range(metric(records, "allocated_peak_mib"), 1),
                med_range(metric(records, "beyond_data_mib"), 1),
                med_range(metric(records, "hwm_beyond_data_mib"), 1),
            ]
        )
    header = [
        "data on disk",
        "rows",
        "file, MiB",
        "time per epoch",
        "samples/s",
        "peak allocated, MiB (tracemalloc)",
        "peak RSS − baseline, MiB (ru_maxrss)",
        "VmHWM after a reset, MiB",
    ]
    return "\n".join(
        [
            "## (i) Training from a memory map: 1x and 10x the data on disk",
            "",
            "Case (a)'s MLP in float32, batch 128, one shuffled epoch with `fit` on "
            "`np.load(path, mmap_mode='r')` of the training rows (float32 `.npy`), and of "
            "those rows written 10 times over. *Peak allocated* is tracemalloc's peak over a "
            "second epoch (what NumPy and Python allocate: a copy of the data would show "
            "here); it should be the same at 1x and 10x but for the shuffled order, 8 bytes "
            "a row. The RSS figures count the file's pages the epoch touched (the kernel's "
            "page cache, given back under memory pressure), so they grow with the file.",
            "",
            table(header, rows),
        ]
    )


def render(
    meta: dict,
    groups: list[dict],
    results: dict,
    recipe: dict | None,
    previous_notes: str = "",
) -> str:
    facts: dict = {}
    results = refuse_wrong_dtypes(results)
    samples = meta["settings"]["samples"]
    quick = meta["mode"] == "quick"
    sections = [
        section_training(results, facts),
        section_gemm(results, facts, samples, meta["settings"]["gemm_trials"]),
        section_xor(results, facts, meta["settings"]),
        section_predict(results, facts),
        section_memory(results, facts),
        section_recipe(recipe, facts, quick),
        section_conv(results, facts, meta["settings"], meta.get("cnn_recipe")),
        section_onnx(results, meta["threads"]),
        section_stream(results),
        section_mpi(results),
    ]
    body = [
        header(meta, results, recipe),
        section_targets(facts, quick),
        section_targets_conv(facts),
    ]
    body += [s for s in sections if s]
    body.append(section_environment(results))
    body.append(
        "## Notes\n\nHand-written analysis (kept when the file is regenerated).\n\n"
        + NOTES_MARKER
        + "\n"
        + (previous_notes + "\n" if previous_notes else "")
    )
    return "\n\n".join(b for b in body if b).rstrip("\n") + "\n"
