"""lucidnet's benchmark suite: ``make bench``, or ``python bench/run.py [--quick] [--cases a,c]``.

Every measurement runs in its own fresh process (``bench/workers.py``), the contenders of
a comparison interleaved in rounds whose order rotates (round 1: A B C, round 2: B C A,
...), and the report (``docs/benchmarks.md`` by default) gives the median of the rounds,
their range and the ratio of the medians per pair. Cases, from issue 5:

  a  training throughput, one epoch, batch 32/128/1024: lucidnet in float32 (its
     default) and in float64, PyTorch (float32), scikit-learn in float64 (its default)
     and in float32; the report sets lucidnet against scikit-learn at equal dtype, and
     refuses a measurement whose parameters were not in the dtype it claims
  b  fraction of the GEMM bound (the step's 8 matrix products alone, with NumPy)
  c  XOR 2-4-1 sigmoid, full batch: microseconds per step
  d  single-sample predict latency
  e  peak training memory beyond the data, batch 128
  f  the Fashion-MNIST recipe through the CLI: test accuracy and wall time (one run)

and from issue 13:

  g  the convolutional network (conv 32, pool, conv 64, pool, dense 128, dense 10),
     batch 32 and 128: lucidnet (channels last) against PyTorch (channels first),
     samples/s and peak memory beyond the data; the report also shows the convolutional
     recipe's accuracy and training time, read from ``bench/results/cnn_recipe.json``
     (``--cnn-recipe``) when that file exists: ``{"accuracy": ..., "seconds": ...,
     "command": ...}``

and from issue 15:

  h  single-sample latency of case d's MLP exported to ONNX (``lucidnet.export.to_onnx``),
     in onnxruntime (CPU provider, the suite's thread count) against lucidnet's own
     ``predict``; the onnxruntime worker first checks that both agree to 1e-5

and from issue 17:

  i  one epoch of case a's MLP (batch 128) with ``fit`` reading a memory-mapped float32
     ``.npy`` (``np.load(..., mmap_mode="r")``): the training rows, and those rows tiled
     10 times on disk; time per epoch and peak memory (the same expected at 1x and 10x)
  j  data-parallel training over MPI (``lucidnet.distributed``): the all-reduce of the
     MLP's float32 flat gradient buffer per step (2 ranks), one epoch at batch 128 on 1
     process against 2 ranks, and the report's paper estimate of scaling on a cluster

Workers import lucidnet from this checkout: ``src/`` of the tree holding this script is
put first on their PYTHONPATH, before an editable install that may point elsewhere (the
report names the file each lucidnet worker imported).

OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are removed from every worker's environment, as on
a user's machine (``make bench`` also unsets them for this script itself). This script
imports no NumPy: its children started with vfork inherit its peak RSS in ru_maxrss, so
it stays small.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import report

ROOT = Path(__file__).resolve().parent.parent
WORKER = ROOT / "bench" / "workers.py"
UNSET = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
BATCHES = (32, 128, 1024)
CONV_BATCHES = (32, 128)
ALL_CASES = "abcdefghij"
CNN_RECIPE = Path("bench") / "results" / "cnn_recipe.json"
# Case (a)'s contenders: "lucidnet" is float32 (the name older reports and bench/ab.py
# use), each scikit-learn dtype has its lucidnet twin (workers.TRAIN_DTYPES).
TRAIN_CONTENDERS = ("lucidnet", "lucidnet-f64", "torch", "sklearn-f64", "sklearn-f32")
# The documented Fashion-MNIST recipe (README): what `lucidnet train` runs for case (f).
RECIPE = ["--layers", "512,256", "--dropout", "0.3", "--schedule", "cosine", "--epochs", "40"]

# Full run: what `make bench` does. Quick: a smoke run of the same code paths.
SETTINGS = {
    "full": {
        "rounds": 5,
        "samples": 60000,
        "warmup_batches": 2,
        "gemm_trials": 15,
        "xor_steps": 5000,
        "xor_blocks": 5,
        "predict_calls": 20000,
        "recipe_args": RECIPE,
        "conv_samples": 20000,
        "allreduce_calls": 2000,
        "timeout": 900,
    },
    "quick": {
        "rounds": 2,
        "samples": 15000,
        "warmup_batches": 2,
        "gemm_trials": 5,
        "xor_steps": 1000,
        "xor_blocks": 3,
        "predict_calls": 3000,
        "recipe_args": [*RECIPE[:-2], "--epochs", "1"],
        "conv_samples": 2048,
        "allreduce_calls": 300,
        "timeout": 600,
    },
}


# --- the plan ---------------------------------------------------------------------------


def build_plan(cases: str, settings: dict, data: str, threads: int) -> list[dict]:
    """Comparison groups: each a key, the worker case, its contenders and their params."""
    groups: list[dict] = []
    train_batches = set()
    if "a" in cases:
        train_batches |= set(BATCHES)
    if "e" in cases:
        train_batches.add(128)
    if "b" in cases:
        train_batches |= set(BATCHES)
    for batch in BATCHES:
        if batch not in train_batches:
            continue
        contenders: list[tuple[str, str]] = []
        if "a" in cases or ("e" in cases and batch == 128):
            contenders += [("train", c) for c in TRAIN_CONTENDERS]
        elif "b" in cases:
            contenders.append(("train", "lucidnet"))
        if "b" in cases:
            contenders.append(("gemm", "numpy"))
        groups.append(
            {
                "key": f"train-{batch}",
                "title": f"training, batch {batch}",
                "contenders": contenders,
                "params": {
                    "data": data,
                    "batch_size": batch,
                    "samples": settings["samples"],
                    "warmup_batches": settings["warmup_batches"],
                    "trials": settings["gemm_trials"],
                    "threads": threads,
                },
            }
        )
    if "c" in cases:
        groups.append(
            {
                "key": "xor",
                "title": "XOR step",
                "contenders": [
                    ("xor", "lucidnet-train_step"),
                    ("xor", "lucidnet-fit"),
                    ("xor", "torch"),
                ],
                "params": {
                    "steps": settings["xor_steps"],
                    "blocks": settings["xor_blocks"],
                    "threads": threads,
                },
            }
        )
    if "d" in cases:
        groups.append(
            {
                "key": "predict",
                "title": "single-sample predict",
                "contenders": [
                    ("predict", "lucidnet"),
                    ("predict", "torch"),
                    ("predict", "sklearn"),
                ],
                "params": {"data": data, "calls": settings["predict_calls"], "threads": threads},
            }
        )
    if "g" in cases:
        for batch in CONV_BATCHES:
            groups.append(
                {
                    "key": f"conv-{batch}",
                    "title": f"convolutional network, batch {batch}",
                    "contenders": [("conv", "lucidnet"), ("conv", "torch")],
                    "params": {
                        "data": data,
                        "batch_size": batch,
                        "samples": settings["conv_samples"],
                        "warmup_batches": settings["warmup_batches"],
                        "threads": threads,
                    },
                }
            )
    if "h" in cases:
        groups.append(
            {
                "key": "onnx",
                "title": "exported MLP, single-sample latency",
                "contenders": [("onnx", "lucidnet"), ("onnx", "onnxruntime")],
                "params": {"data": data, "calls": settings["predict_calls"], "threads": threads},
            }
        )
    if "i" in cases:
        groups.append(stream_group(settings, data, threads))
    if "j" in cases:
        groups.append(mpi_group(settings, data, threads))
    return groups


def stream_group(settings: dict, data: str, threads: int) -> dict:
    """Case (i): training from a memory map, 1x and 10x the rows on disk (issue 17)."""
    return {
        "key": "stream",
        "title": "training from a memory map",
        "contenders": [("stream", "1x"), ("stream", "10x")],
        "params": {
            "data": data,
            "batch_size": 128,
            "samples": settings["samples"],
            "threads": threads,
        },
    }


def mpi_group(settings: dict, data: str, threads: int) -> dict:
    """Case (j), issue 17: the all-reduce of the MLP's gradient, and one epoch at batch 128
    on 1 process (``threads`` and 1 BLAS threads) against 2 MPI ranks (1 thread each)."""
    return {
        "key": "mpi",
        "title": "data-parallel training over MPI",
        "contenders": [
            ("mpi", "allreduce"),
            ("mpi", "ranks-1"),
            ("mpi", "ranks-1-thread"),
            ("mpi", "ranks-2"),
        ],
        "params": {
            "data": data,
            "batch_size": 128,
            "samples": settings["samples"],
            "allreduce_calls": settings["allreduce_calls"],
            "threads": threads,
            "timeout": settings["timeout"],
        },
    }


def rotated(items: list, shift: int) -> list:
    shift %= len(items)
    return items[shift:] + items[:shift]


# --- running workers --------------------------------------------------------------------


def worker_env() -> dict:
    """This environment without the OpenBLAS variables, with this checkout's ``src/``
    first on PYTHONPATH (it comes before any installed lucidnet)."""
    env = {k: v for k, v in os.environ.items() if k not in UNSET}
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(ROOT / "src"), os.environ.get("PYTHONPATH", "")) if p
    )
    return env


def _busy_jiffies() -> int | None:
    """All CPUs' busy time since boot (the ``cpu`` line of /proc/stat), or None."""
    try:
        with open("/proc/stat") as stat:
            fields = [int(v) for v in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    guest = sum(fields[8:10]) if len(fields) > 9 else 0  # already counted in user
    return sum(fields) - idle - guest


def run_worker(python: str, case: str, contender: str, params: dict, timeout: float) -> dict:
    """Run one worker; always return a record (``ok`` False with ``error`` on failure).

    Adds ``wall_s`` (the whole process) and ``foreign_cores``: the CPU time the rest of
    the machine used meanwhile, in cores (busy time of all CPUs minus the worker's own,
    over the wall time): a measure of how noisy the measurement was.
    """
    command = [python, str(WORKER), case, contender, json.dumps(params)]
    hz = os.sysconf("SC_CLK_TCK")
    before_busy = _busy_jiffies()
    before_child = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=worker_env(),
            cwd=ROOT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        record = {"ok": False, "error": f"timed out after {timeout:.0f} s"}
    except OSError as err:
        record = {"ok": False, "error": f"could not start {python}: {err}"}
    else:
        record = _parse(done)
    wall = time.perf_counter() - start
    after_child = resource.getrusage(resource.RUSAGE_CHILDREN)
    after_busy = _busy_jiffies()
    record.update(case=case, contender=contender, wall_s=wall)
    if before_busy is not None and after_busy is not None and wall > 0:
        own = (after_child.ru_utime - before_child.ru_utime) + (
            after_child.ru_stime - before_child.ru_stime
        )
        record["foreign_cores"] = max(0.0, ((after_busy - before_busy) / hz - own) / wall)
    return record


def _parse(done: subprocess.CompletedProcess) -> dict:
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if lines:
        try:
            return json.loads(lines[-1])
        except json.JSONDecodeError:
            pass
    tail = " | ".join((done.stderr or done.stdout or "").strip().splitlines()[-3:])
    return {"ok": False, "error": f"worker exited {done.returncode} without a result: {tail}"}


def describe(record: dict) -> str:
    if not record.get("ok"):
        return "ERROR " + record.get("error", "?")[:120]
    m = record["metrics"]
    if "allocated_peak_mib" in m:  # case i
        return (
            f"{m['samples']:,} rows from a memory map: {m['samples_per_s']:,.0f} samples/s, "
            f"peak allocated {m['allocated_peak_mib']:.1f} MiB"
        )
    if "samples_per_s" in m:
        dtype = f", {m['param_dtype']} parameters" if m.get("param_dtype") else ""
        return f"{m['samples_per_s']:,.0f} samples/s, +{m['beyond_data_mib']:.0f} MiB{dtype}"
    if "allreduce_us" in m:
        return f"Allreduce {m['allreduce_us'][1]:,.0f} µs ({m['gb_per_s']:.1f} GB/s)"
    if "epoch_s" in m:
        return f"{m['ranks']} rank(s) x {m['threads']} thread(s): {m['epoch_s']:.2f} s/epoch"
    if "step_s" in m:
        return f"{m['step_s'] * 1e6:,.0f} us per step of 8 products ({m['gflops']:.0f} GFLOP/s)"
    if "us_per_step" in m:
        return f"{m['us_per_step']:.1f} us per step"
    if "us_median" in m:
        return f"{m['us_median']:.1f} us per call"
    if "train_s" in m:
        return f"{m['epochs']} epochs in {m['train_s']:.1f} s, test {m['test']}"
    return json.dumps(m)[:120]


# --- facts for the report ---------------------------------------------------------------


def read_cnn_recipe(path: Path) -> dict:
    """The convolutional recipe's result as the lead recorded it, checked.

    ``{"path", "found": False}`` when the file does not exist; otherwise ``accuracy``
    (a test accuracy in [0, 1]), ``seconds`` (training time, > 0) and ``command`` (the
    command line that produced them), or ``error`` naming the file and what is wrong.
    Optional keys kept when present: ``date``, ``epochs``, ``note``.
    """
    try:
        shown = str(path.relative_to(ROOT))
    except ValueError:
        shown = str(path)
    found = {"path": shown, "found": path.exists()}
    if not found["found"]:
        return found
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        return {**found, "error": f"{shown}: cannot be read as JSON ({err})"}
    problems = []
    if not isinstance(data, dict):
        return {**found, "error": f"{shown}: expected a JSON object, got {type(data).__name__}"}
    accuracy, seconds, command = data.get("accuracy"), data.get("seconds"), data.get("command")
    number = (int, float)
    if isinstance(accuracy, bool) or not isinstance(accuracy, number) or not 0 <= accuracy <= 1:
        problems.append(f'"accuracy" must be a number in [0, 1], got {accuracy!r}')
    if isinstance(seconds, bool) or not isinstance(seconds, number) or not seconds > 0:
        problems.append(f'"seconds" must be a number > 0, got {seconds!r}')
    if not isinstance(command, str) or not command.strip():
        problems.append(f'"command" must be the command line (a string), got {command!r}')
    if problems:
        return {**found, "error": f"{shown}: " + "; ".join(problems)}
    extra = {k: data[k] for k in ("date", "epochs", "note") if k in data}
    return {**found, "accuracy": accuracy, "seconds": seconds, "command": command, **extra}


def imported_lucidnet(results: dict) -> tuple[list[str], list[str]]:
    """The files workers imported lucidnet from (the lucidnet contenders, and the
    onnxruntime one of case h, which exports with lucidnet): those in this checkout's
    ``src/`` (relative to the checkout) and those elsewhere (absolute)."""
    src = (ROOT / "src").resolve()
    inside, elsewhere = set(), set()
    for group in results.values():
        for records in group.values():
            for r in records:
                where = r.get("env", {}).get("lucidnet_file") if r.get("ok") else None
                if not where:
                    continue
                path = Path(where).resolve()
                if path.is_relative_to(src):
                    inside.add(str(path.relative_to(ROOT.resolve())))
                else:
                    elsewhere.add(str(path))
    return sorted(inside), sorted(elsewhere)


def machine_facts() -> dict:
    facts: dict = {
        "cpu": "unknown",
        "logical_cpus": os.cpu_count(),
        "kernel": f"{platform.system()} {platform.release()}",
    }
    try:
        facts["usable_cpus"] = len(os.sched_getaffinity(0))
    except AttributeError:
        facts["usable_cpus"] = os.cpu_count()
    try:
        with open("/proc/cpuinfo") as info:
            text = info.read()
        for line in text.splitlines():
            if line.startswith("model name"):
                facts["cpu"] = line.split(":", 1)[1].strip()
                break
        flags = next((ln for ln in text.splitlines() if ln.startswith("flags")), "")
        facts["simd"] = [f for f in ("avx2", "fma", "avx512f", "avx512_bf16") if f" {f}" in flags]
    except OSError:
        pass
    try:
        with open("/proc/meminfo") as info:
            kib = int(next(ln for ln in info if ln.startswith("MemTotal")).split()[1])
        facts["ram_gib"] = kib / 2**20
    except (OSError, StopIteration, ValueError):
        pass
    return facts


def versions() -> dict:
    found = {"python": platform.python_version()}
    for dist in (
        "lucidnet",
        "numpy",
        "torch",
        "scikit-learn",
        "threadpoolctl",
        "onnx",
        "onnxruntime",
    ):
        try:
            found[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            found[dist] = "not installed"
    try:
        commit = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(ROOT), "status", "--porcelain", "--", "src"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        found["lucidnet_commit"] = commit + (" with uncommitted changes in src/" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        pass
    return found


def source_fingerprint() -> str:
    """A hash of lucidnet's source files, to tell whether they changed during the run."""
    digest = hashlib.sha256()
    for path in sorted((ROOT / "src").rglob("*.py")):
        digest.update(str(path.relative_to(ROOT)).encode())
        try:
            digest.update(path.read_bytes())
        except OSError:
            pass
    return digest.hexdigest()[:12]


def loadavg() -> str | None:
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return None


def command_line(argv: list[str]) -> dict:
    python = Path(sys.executable)
    try:
        shown = str(python.relative_to(ROOT)) if python.is_absolute() else str(python)
    except ValueError:
        shown = str(python)
    script = "bench/run.py"
    underlying = " ".join(["env", *(f"-u {name}" for name in UNSET), shown, script, *argv])
    return {
        "make": bool(os.environ.get("MAKELEVEL")),
        "underlying": underlying,
        "unset_found": {name: os.environ[name] for name in UNSET if name in os.environ},
    }


# --- main -------------------------------------------------------------------------------


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/run.py",
        description=(
            "lucidnet's benchmark suite against PyTorch, scikit-learn and onnxruntime "
            "(issues 5, 13, 15, 17)."
        ),
    )
    parser.add_argument("--quick", action="store_true", help="smoke run: 2 rounds, fewer samples")
    parser.add_argument("--out", default="docs/benchmarks.md", help="the Markdown report")
    parser.add_argument(
        "--cases",
        default=",".join(ALL_CASES),
        help="comma-separated subset of a,b,c,d,e,f,g,h,i,j (default: all)",
    )
    parser.add_argument("--rounds", type=int, help="override the number of rounds")
    parser.add_argument("--threads", type=int, default=2, help="threads per contender (default 2)")
    parser.add_argument(
        "--python", default=sys.executable, help="the interpreter that runs the workers"
    )
    parser.add_argument("--json", help="also write every raw record to this JSON file")
    parser.add_argument(
        "--cnn-recipe",
        default=str(CNN_RECIPE),
        help=f"the convolutional recipe's result, if the file exists (default {CNN_RECIPE})",
    )
    args = parser.parse_args(argv)
    cases = "".join(sorted({c.strip() for c in args.cases.split(",") if c.strip()}))
    bad = [c for c in cases if c not in ALL_CASES]
    if bad or not cases:
        parser.error(f"--cases: expected letters from {','.join(ALL_CASES)}, got {args.cases!r}")
    args.cases = cases
    if args.rounds is not None and args.rounds < 1:
        parser.error("--rounds must be >= 1")
    return args


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    mode = "quick" if args.quick else "full"
    settings = dict(SETTINGS[mode])
    if args.rounds:
        settings["rounds"] = args.rounds
    started = time.perf_counter()
    meta = {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "mode": mode,
        "cases": args.cases,
        "settings": settings,
        "threads": args.threads,
        "command": command_line(argv),
        "machine": machine_facts(),
        "versions": versions(),
        "load_start": loadavg(),
        "source_start": source_fingerprint(),
    }
    log(f"bench: {mode} run, cases {','.join(args.cases)}, {settings['rounds']} rounds")

    with tempfile.TemporaryDirectory(prefix="lucidnet-bench-") as data:
        prepared = run_worker(args.python, "prepare", "data", {"data": data}, 300)
        meta["data"] = (
            prepared["metrics"]["source"] if prepared.get("ok") else prepared.get("error")
        )
        log(f"data: {meta['data']}")
        groups = build_plan(args.cases, settings, data, args.threads)
        results: dict[str, dict[str, list[dict]]] = {
            g["key"]: {c: [] for _, c in g["contenders"]} for g in groups
        }
        total = settings["rounds"] * sum(len(g["contenders"]) for g in groups)
        done = 0
        for round_index in range(settings["rounds"]):
            for group in groups:
                for case, contender in rotated(group["contenders"], round_index):
                    record = run_worker(
                        args.python, case, contender, group["params"], settings["timeout"]
                    )
                    record["round"] = round_index + 1
                    results[group["key"]][contender].append(record)
                    done += 1
                    log(
                        f"[{done}/{total}] round {round_index + 1} {group['title']}: "
                        f"{contender}: {describe(record)} ({record['wall_s']:.1f} s)"
                    )
        recipe = None
        if "f" in args.cases:
            log("recipe: lucidnet train --data fashion-mnist " + " ".join(RECIPE) + " (one run)")
            recipe = run_worker(
                args.python,
                "recipe",
                "lucidnet",
                {"args": settings["recipe_args"]},
                max(settings["timeout"], 1800),
            )
            log(f"recipe: {describe(recipe)} ({recipe['wall_s']:.1f} s)")

    meta["load_end"] = loadavg()
    meta["lucidnet_files"], meta["lucidnet_elsewhere"] = imported_lucidnet(results)
    if meta["lucidnet_elsewhere"]:
        log(
            "WARNING: lucidnet workers imported "
            + ", ".join(meta["lucidnet_elsewhere"])
            + f", not {ROOT / 'src'}"
        )
    recipe_path = Path(args.cnn_recipe)
    meta["cnn_recipe"] = read_cnn_recipe(
        recipe_path if recipe_path.is_absolute() else ROOT / recipe_path
    )
    # src/ may change while a long run goes on (someone editing the library): say so.
    meta["source_changed"] = source_fingerprint() != meta["source_start"]
    meta["elapsed_s"] = time.perf_counter() - started
    out = ROOT / args.out if not os.path.isabs(args.out) else Path(args.out)
    previous = out.read_text() if out.exists() else ""
    text = report.render(meta, groups, results, recipe, previous_notes=report.notes_of(previous))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    if args.json:
        Path(args.json).write_text(
            json.dumps({"meta": meta, "results": results, "recipe": recipe}, indent=1)
        )
    log(f"wrote {out} in {meta['elapsed_s'] / 60:.1f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main())
