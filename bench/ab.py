"""Interleaved A/B benchmark of two versions of lucidnet against one PyTorch yardstick.

``python bench/ab.py --base COMMIT [--rounds N] [--quick] [--out FILE.md] [--json FILE]``
(``make bench-ab AB_BASE=COMMIT``). "base" is lucidnet at COMMIT, exported with
``git archive`` (no worktree, nothing written to the repository); "new" is the working
tree, uncommitted changes included, copied when the run starts so that edits made while
it goes on do not leak into it.

The measurements are those of ``make bench`` that a speed-regression check needs: (a)
training throughput at batch 32, 128 and 1024, (c) the XOR step (``train_step`` and
``fit``) and (d) single-sample predict, each in its own fresh process (``bench/workers.py``).
A lucidnet measurement of a version runs that version's own ``bench/workers.py`` with
``PYTHONPATH=<version>/src``, which comes before the editable install of the bench
environment (checked before the rounds: each version's ``lucidnet.__file__`` must lie in
its own copy). PyTorch runs once per round. Within a round, base, new and PyTorch run back
to back in an order that rotates from round to round, as in ``bench/run.py``, whose plan,
worker runner and environment scrubbing (OPENBLAS_CORETYPE, OPENBLAS_L2_SIZE) are reused.

The report is a Markdown table: per measurement the medians of base and new, new ÷ base
as a speed ratio (> 1: new is faster), its per-round range, and lucidnet ÷ PyTorch for
each version in the convention of ``docs/benchmarks.md``. Both versions share the
PyTorch runs, so the change of the PyTorch ratio is exactly the new ÷ base speed ratio.
Like ``run.py``, this script imports no NumPy.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import report
import run
from report import first, med_range, metric, num, paired, plural, span, stat, table

ROOT = run.ROOT
CASES = "acd"  # training throughput, XOR step, single-sample predict
NOISY = 0.3  # cores busy elsewhere during a measurement that make the report warn
TOLERANCE = 0.03  # the acceptance criterion: no speed regression beyond 3 %
ROUNDS = {"full": 9, "quick": 3}  # multiples of 3: every order of a 3-way rotation alike
UNITS = {  # the measured quantity per worker case, and whether higher is faster
    "train": ("samples_per_s", True),
    "xor": ("us_per_step", False),
    "predict": ("us_median", False),
}
CHECK_IMPORT = (
    "import json, lucidnet; "
    "print(json.dumps({'file': lucidnet.__file__, 'version': lucidnet.__version__}))"
)
_RUN_WORKER, _RUN_ENV = run.WORKER, run.worker_env


@dataclass
class Version:
    label: str  # "base" or "new"
    root: Path  # the copy holding src/ and bench/
    described: str  # the commit, as the report shows it
    worker: Path = Path()
    worker_note: str = ""
    lucidnet_file: str = ""

    @property
    def src(self) -> Path:
        return self.root / "src"


# --- the two versions -------------------------------------------------------------------


def git(*args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=True
    ).stdout.strip()


def export_commit(commit: str, folder: Path) -> str:
    """Write ``src/`` and ``bench/`` of ``commit`` into ``folder``; return the full hash."""
    try:
        full = git("rev-parse", "--verify", "--quiet", f"{commit}^{{commit}}")
    except subprocess.CalledProcessError:
        raise SystemExit(f"ab: {commit!r} is not a commit of {ROOT}") from None
    paths = [p for p in ("src", "bench") if git("ls-tree", "--name-only", full, p)]
    if "src" not in paths:
        raise SystemExit(f"ab: commit {commit} has no src/")
    folder.mkdir(parents=True)
    archive = subprocess.Popen(
        ["git", "-C", str(ROOT), "archive", "--format=tar", full, *paths],
        stdout=subprocess.PIPE,
    )
    subprocess.run(["tar", "-x", "-C", str(folder)], stdin=archive.stdout, check=True)
    archive.stdout.close()
    if archive.wait() != 0:
        raise SystemExit(f"ab: git archive {full} failed")
    return full


def snapshot_tree(folder: Path) -> None:
    """Copy the working tree's ``src/`` and ``bench/`` (uncommitted changes included)."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for part in ("src", "bench"):
        shutil.copytree(ROOT / part, folder / part, ignore=ignore)


def fingerprint(root: Path) -> str:
    """A hash of the ``.py`` files under ``root/src`` (paths relative to ``root``)."""
    digest = hashlib.sha256()
    for path in sorted((root / "src").rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def subject(commit: str) -> str:
    text = git("log", "-1", "--format=%s", commit)
    return text if len(text) <= 80 else text[:79].rstrip() + "…"


def file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def version_env(version: Version) -> dict:
    """``run.worker_env()`` with the version's ``src/`` first on the import path."""
    env = _RUN_ENV()
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(version.src), os.environ.get("PYTHONPATH", "")) if p
    )
    return env


def check_import(python: str, version: Version) -> None:
    """Fail unless ``import lucidnet`` in a worker's environment loads ``version``'s copy."""
    done = subprocess.run(
        [python, "-c", CHECK_IMPORT],
        capture_output=True,
        text=True,
        env=version_env(version),
        cwd=ROOT,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        tail = " | ".join(done.stderr.strip().splitlines()[-3:])
        raise SystemExit(f"ab: {version.label}: import lucidnet failed: {tail}")
    found = Path(json.loads(done.stdout.strip().splitlines()[-1])["file"]).resolve()
    if not found.is_relative_to(version.src.resolve()):
        raise SystemExit(
            f"ab: {version.label}: import lucidnet loaded {found}, not {version.src}: "
            "something on the path comes before PYTHONPATH"
        )
    version.lucidnet_file = str(found)


def measure(
    python: str, version: Version, case: str, contender: str, params: dict, timeout: float
) -> dict:
    """``run.run_worker`` with ``version``'s ``workers.py`` and library.

    run.py's runner reads its module globals ``WORKER`` and ``worker_env`` at each call:
    they point to this version for the duration of the call.
    """
    run.WORKER = version.worker
    run.worker_env = lambda: version_env(version)
    try:
        record = run.run_worker(python, case, contender, params, timeout)
    finally:
        run.WORKER, run.worker_env = _RUN_WORKER, _RUN_ENV
    record["version"] = version.label
    return record


# --- the plan ---------------------------------------------------------------------------


def plan(
    settings: dict, data: str, threads: int, base: Version, new: Version, cases: str = CASES
) -> list[dict]:
    """run.py's groups for ``cases`` (a, c, d): each lucidnet contender twice, PyTorch once.

    A group's units are (key, version, case, contender); PyTorch runs in new's worker
    (it imports no lucidnet). Base and new of one contender stay neighbours in the
    rotation.
    """
    groups = []
    for group in run.build_plan(cases, settings, data, threads):
        units = []
        for case, contender in group["contenders"]:
            if contender.startswith("lucidnet"):
                units.append((f"base:{contender}", base, case, contender))
                units.append((f"new:{contender}", new, case, contender))
        units += [("torch", new, case, c) for case, c in group["contenders"] if c == "torch"]
        groups.append({**group, "units": units})
    return groups


# --- the report -------------------------------------------------------------------------

ROW_NAMES = {
    "train": "training, batch {batch} (samples/s)",
    "xor-lucidnet-train_step": "XOR step, `train_step` (µs)",
    "xor-lucidnet-fit": "XOR step in `fit` (µs)",
    "predict": "single-sample predict (µs)",
}
VS_TORCH = {  # lucidnet ÷ PyTorch as docs/benchmarks.md writes it
    "training": "lucidnet ÷ PyTorch samples/s (higher is better)",
    "XOR": "PyTorch ÷ lucidnet µs, × faster (higher is better)",
    "predict": "lucidnet ÷ PyTorch µs (lower is better)",
}


def vs_torch(case: str, mine: float | None, torch: float | None) -> float | None:
    if case == "xor":
        return report.ratio(torch, mine)
    return report.ratio(mine, torch)


def busy(records: list[dict]) -> str:
    s = stat([r.get("foreign_cores") for r in records])
    return f"{s[0]:.2f} / {s[2]:.2f}" if s else "—"


def rows_of(groups: list[dict], results: dict) -> tuple[list[list[str]], list[dict]]:
    rows, verdicts = [], []
    for group in groups:
        found = results[group["key"]]
        torch_records = found.get("torch", [])
        for key, _version, case, contender in group["units"]:
            if not key.startswith("base:"):
                continue
            base_records, new_records = found[key], found[f"new:{contender}"]
            field, higher_is_faster = UNITS[case]
            digits = 0 if case == "train" else 1
            base_s, new_s = metric(base_records, field), metric(new_records, field)
            torch_med = first(metric(torch_records, field))
            speed = (
                report.ratio(first(new_s), first(base_s))
                if higher_is_faster
                else report.ratio(first(base_s), first(new_s))
            )
            per_round = paired(new_records, base_records, field, invert=not higher_is_faster)
            # Best of rounds: the fastest process of each version. A process can land in a
            # slow mode for its whole life (predict: ~29 or ~46 µs for the same code, seen
            # here); the best of the rounds compares the fast modes.
            best = (
                report.ratio(new_s[2], base_s[2])
                if higher_is_faster and new_s and base_s
                else report.ratio(base_s[1], new_s[1])
                if new_s and base_s
                else None
            )
            label = ROW_NAMES.get(f"{case}-{contender}") or ROW_NAMES[case].format(
                batch=group["params"].get("batch_size")
            )
            if speed is None:
                status, verdict = "not measured", "**not measured**"
            elif speed < 1 - TOLERANCE and best is not None and best >= 1 - TOLERANCE:
                status = "unclear"
                verdict = (
                    f"**unclear**: median {(1 - speed) * 100:.1f} % slower, best of rounds "
                    "within 3 %: rerun with more rounds"
                )
            elif speed < 1 - TOLERANCE:
                status = "more than 3 % slower than base"
                verdict = f"**regression** ({(1 - speed) * 100:.1f} % slower)"
            elif speed > 1 + TOLERANCE:
                status, verdict = "ok", f"ok ({(speed - 1) * 100:.1f} % faster)"
            else:
                status, verdict = "ok", "ok (within 3 %)"
            verdicts.append(
                {
                    "measurement": label,
                    "status": status,
                    "speed": speed,
                    "best": best,
                    "per_round": per_round,
                }
            )
            problems = "; ".join(
                f"{who}: {report.errors(records)}"
                for who, records in (
                    ("base", base_records),
                    ("new", new_records),
                    ("PyTorch", torch_records),
                )
                if report.errors(records)
            )
            rows.append(
                [
                    label,
                    med_range(base_s, digits),
                    med_range(new_s, digits),
                    num(speed, 3, "×"),
                    span(per_round, 3, "×"),
                    num(best, 3, "×"),
                    num(vs_torch(case, first(base_s), torch_med), 3, "×"),
                    num(vs_torch(case, first(new_s), torch_med), 3, "×"),
                    num(torch_med, digits),
                    busy(base_records + new_records + torch_records),
                    verdict + (f" ⚠ {problems}" if problems else ""),
                ]
            )
    return rows, verdicts


def render(meta: dict, groups: list[dict], results: dict) -> tuple[str, list[dict]]:
    rows, verdicts = rows_of(groups, results)
    header = [
        "measurement",
        "base, median (min–max)",
        "new, median (min–max)",
        "new ÷ base speed (> 1: new faster)",
        "per-round new ÷ base",
        "new ÷ base, best of rounds",
        "vs PyTorch, base",
        "vs PyTorch, new",
        "PyTorch, median",
        "busy elsewhere, cores (median / max)",
        "within 3 %?",
    ]
    settings, machine = meta["settings"], meta["machine"]
    everything = [r for g in results.values() for rs in g.values() for r in rs]
    foreign = stat([r.get("foreign_cores") for r in everything])
    base, new = meta["versions_compared"]["base"], meta["versions_compared"]["new"]
    same = " (the same source as base)" if new["fingerprint"] == base["fingerprint"] else ""
    lines = [f"## A/B: lucidnet {meta['base_commit'][:7]} (base) against {meta['new_name']}", ""]
    if meta["mode"] == "quick":
        lines += [
            "> **Quick run** (`--quick`): fewer rounds, samples and calls; it checks the "
            "harness, its figures are not the measurement.",
            "",
        ]
    lines += [
        f"- **Command**: `{meta['command']}`, on {meta['date']}; "
        f"{meta['elapsed_s'] / 60:.1f} min in all.",
        f"- **Base**: {base['described']}; lucidnet imported from `{base['lucidnet_file']}`; "
        f"src fingerprint {base['fingerprint']}.",
        f"- **New**: {new['described']}; lucidnet imported from `{new['lucidnet_file']}`; "
        f"src fingerprint {new['fingerprint']}{same}.",
        f"- **Workers**: {meta['workers']}",
        f"- **Run**: {meta['mode']}, {plural(settings['rounds'], 'round')}; "
        f"training epochs of {settings['samples']:,} rows, XOR {settings['xor_blocks']} "
        f"blocks of {settings['xor_steps']:,} steps, {settings['predict_calls']:,} predict "
        f"calls; {meta['threads']} threads for every contender. Every measurement ran in its "
        "own fresh process; within a round base, new and PyTorch ran back to back, their "
        "order rotated each round. Figures are medians over the rounds (min–max); ratios are "
        "ratios of the medians; the per-round range pairs base and new of the same round.",
        f"- **Machine**: {machine.get('cpu')}, {machine.get('logical_cpus')} logical CPUs "
        f"({machine.get('usable_cpus')} usable), {num(machine.get('ram_gib'), 1)} GiB RAM, "
        f"{machine.get('kernel')}.",
        f"- **Noise**: load average {meta['load_start']} at the start, {meta['load_end']} at "
        f"the end; CPU busy outside the measured process (cores): median "
        f"{num(first(foreign), 2)}, max {num(foreign and foreign[2], 2)}.",
        "- **Versions**: "
        + ", ".join(
            f"{k} {v}"
            for k, v in meta["versions"].items()
            if k not in ("lucidnet", "lucidnet_commit", "scikit-learn")
        )
        + "; OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE removed from every worker's environment.",
        f"- **Data**: {meta['data']}.",
    ]
    if foreign and foreign[2] > NOISY:
        lines.append(
            f"- **Warning**: up to {foreign[2]:.2f} cores were busy outside the benchmark "
            "during a measurement (see the *busy elsewhere* column): something else ran on "
            "the machine, and PyTorch's threads in particular slow down many times over "
            "when a core is taken. Rerun on a quiet machine before trusting a ratio."
        )
    if meta["tree_changed"]:
        lines.append(
            "- **Note**: the working tree's src/ changed while the run went on; the run "
            "measured the copy taken at its start."
        )
    problems = {}
    for v in verdicts:
        if v["status"] != "ok":
            problems.setdefault(v["status"], []).append(v["measurement"])
    summary = "**Verdict**: " + (
        "; ".join(f"{status}: {', '.join(names)}" for status, names in problems.items())
        if problems
        else "no measurement is more than 3 % slower than base"
    )
    if foreign and foreign[2] > NOISY:
        summary += " (on a busy machine: not conclusive)"
    lines += [
        "",
        table(header, rows),
        "",
        summary + ".",
        "",
        "*new ÷ base speed*: new's samples/s ÷ base's (training), base's µs ÷ new's (XOR, "
        "predict): above 1, new is faster. *Best of rounds*: the same ratio for each "
        "version's fastest process, robust to a process that runs in a slow mode throughout "
        "(single-sample predict does at times, same code). *vs PyTorch*: the ratio "
        "`docs/benchmarks.md` reports and the acceptance criterion names: "
        + "; ".join(f"{case}: {text}" for case, text in VS_TORCH.items())
        + ". Both versions are divided by the same PyTorch runs, so new's ratio ÷ base's is "
        "the speed ratio (its inverse for predict). *Within 3 %?* is judged on the median "
        "speed ratio; *unclear* when that is more than 3 % slower but the best of rounds is "
        "not.",
    ]
    return "\n".join(lines) + "\n", verdicts


# --- main -------------------------------------------------------------------------------


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/ab.py",
        description="Interleaved A/B benchmark: lucidnet at a commit against the working tree.",
    )
    parser.add_argument("--base", required=True, help="the commit to compare against")
    parser.add_argument("--new", help="compare against this commit instead of the working tree")
    parser.add_argument("--rounds", type=int, help="rounds (default 9; 3 with --quick)")
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: bench/run.py's quick sizes, 3 rounds"
    )
    parser.add_argument(
        "--cases", default=CASES, help=f"which of the cases {CASES} to run (default: all)"
    )
    parser.add_argument("--out", help="write the Markdown report here (default: stdout)")
    parser.add_argument("--json", help="also write every raw record to this JSON file")
    parser.add_argument("--threads", type=int, default=2, help="threads per contender (2)")
    parser.add_argument(
        "--python", default=sys.executable, help="the interpreter that runs the workers"
    )
    parser.add_argument(
        "--same-worker",
        action="store_true",
        help="run the working tree's bench/workers.py for base too (default: each its own)",
    )
    args = parser.parse_args(argv)
    if args.rounds is not None and args.rounds < 1:
        parser.error("--rounds must be >= 1")
    if not args.cases or set(args.cases) - set(CASES):
        parser.error(f"--cases: letters of {CASES!r}, got {args.cases!r}")
    if args.out and Path(args.out).resolve() == (ROOT / "docs" / "benchmarks.md").resolve():
        parser.error("--out: docs/benchmarks.md belongs to `make bench`; paste the table in")
    return args


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    log = run.log
    mode = "quick" if args.quick else "full"
    settings = dict(run.SETTINGS[mode])
    settings["rounds"] = args.rounds or ROUNDS[mode]
    started = time.perf_counter()
    tree_start, load_start = run.source_fingerprint(), run.loadavg()
    with tempfile.TemporaryDirectory(prefix="lucidnet-ab-") as scratch:
        folder = Path(scratch)
        base_commit = export_commit(args.base, folder / "base")
        if args.new:
            new_commit = export_commit(args.new, folder / "new")
            described = f"`{new_commit[:12]}` ({subject(new_commit)})"
        else:
            snapshot_tree(folder / "new")
            head = git("rev-parse", "--short=12", "HEAD")
            dirty = git("status", "--porcelain", "--", "src", "bench/workers.py")
            described = f"the working tree as copied at the start of the run: HEAD `{head}`" + (
                " with uncommitted changes in src/ or bench/workers.py" if dirty else ""
            )
        base = Version("base", folder / "base", f"`{base_commit[:12]}` ({subject(base_commit)})")
        new = Version("new", folder / "new", described)
        new.worker = new.root / "bench" / "workers.py"
        base.worker = base.root / "bench" / "workers.py"
        if args.same_worker or not base.worker.exists():
            why = "--same-worker" if args.same_worker else f"{args.base} has no bench/workers.py"
            base.worker = new.worker
            workers = f"new's `bench/workers.py` for both versions ({why})."
        elif file_hash(base.worker) == file_hash(new.worker):
            workers = "each version ran its own `bench/workers.py`; the two files are identical."
        else:
            workers = (
                "each version ran its own `bench/workers.py`; **the two files differ** (a "
                "change in how a case is measured shows in the ratios too)."
            )
        for version in (base, new):
            check_import(args.python, version)
            log(f"{version.label}: lucidnet from {version.lucidnet_file}")

        data = folder / "data"
        data.mkdir()
        # Base prepares the data: it is the known-good version (new may be mid-rewrite).
        prepared = measure(args.python, base, "prepare", "data", {"data": str(data)}, 300)
        data_source = prepared["metrics"]["source"] if prepared.get("ok") else prepared["error"]
        log(f"data: {data_source}")
        groups = plan(settings, str(data), args.threads, base, new, args.cases)
        results = {g["key"]: {u[0]: [] for u in g["units"]} for g in groups}
        total = settings["rounds"] * sum(len(g["units"]) for g in groups)
        done = 0
        log(f"ab: {mode} run, {settings['rounds']} rounds, {total} measurements")
        for round_index in range(settings["rounds"]):
            for group in groups:
                for key, version, case, contender in run.rotated(group["units"], round_index):
                    record = measure(
                        args.python, version, case, contender, group["params"], settings["timeout"]
                    )
                    record["round"] = round_index + 1
                    results[group["key"]][key].append(record)
                    done += 1
                    log(
                        f"[{done}/{total}] round {round_index + 1} {group['title']}: {key}: "
                        f"{run.describe(record)} ({record['wall_s']:.1f} s)"
                    )
        info = {
            v.label: {
                "described": v.described,
                "lucidnet_file": v.lucidnet_file.replace(scratch, "$TMP"),
                "fingerprint": fingerprint(v.root),
            }
            for v in (base, new)
        }

    quoted = " ".join(a if a and " " not in a else repr(a) for a in argv)
    python = Path(args.python)
    shown = os.path.relpath(python, ROOT) if python.is_absolute() else str(python)
    meta = {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "mode": mode,
        "settings": settings,
        "threads": args.threads,
        "command": " ".join(
            ["env", *(f"-u {name}" for name in run.UNSET), shown, "bench/ab.py", quoted]
        ),
        "machine": run.machine_facts(),
        "versions": run.versions(),
        "load_start": load_start,
        "load_end": run.loadavg(),
        "base_commit": base_commit,
        "versions_compared": info,
        "workers": workers,
        "data": data_source,
        "new_name": f"{args.new} (new)" if args.new else "the working tree (new)",
        "tree_changed": not args.new and run.source_fingerprint() != tree_start,
        "elapsed_s": time.perf_counter() - started,
    }
    text, verdicts = render(meta, groups, results)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text)
        log(f"wrote {args.out} in {meta['elapsed_s'] / 60:.1f} min")
    else:
        sys.stdout.write(text)
    if args.json:
        plain_groups = [
            {**g, "units": [(k, v.label, case, c) for k, v, case, c in g["units"]]} for g in groups
        ]
        Path(args.json).write_text(
            json.dumps(
                {"meta": meta, "groups": plain_groups, "results": results, "verdicts": verdicts},
                indent=1,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
