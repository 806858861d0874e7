"""Benchmarks for sched, measured side by side in one run on one machine.

Run:  python benchmarks/run.py            (writes benchmarks/RESULTS.md; a few minutes)
      python benchmarks/run.py --quick    (smaller sizes and fewer runs, prints only)

What it measures: start-up (a bare ``python -c "import numpy"``, ``sched --help``, a 1,000-row
``sched export``) and its ratios to bare numpy; 1,000,000-row CSV, JSON and JSON Lines exports
beyond start-up; the simulator's cost per chunk; each reader's speed on a long run (a config file
of 1,000,000 updates read, simulated and collected in this process, and the whole ``sched
export`` of it); ``report``'s page weight and draw time in Chromium; vectorized vs per-call
evaluation (and Composer's own schedulers when SCHED_COMPOSER_PYTHON names a Python with
Composer); peak memory of a 10,000,000-row export.

Every figure is a median of several runs made in this one session, since the machine may be
shared and noisy; cold processes are also given in CPU seconds (user + system, which another
process's load inflates less than wall-clock time). A new reader is one line in READERS.
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import importlib.metadata
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sched_cli.schedulers import ConstantScheduler, CosineAnnealingWithWarmupScheduler
from sched_cli.schedulers.base import RunShape
from sched_cli.simulator import DEFAULT_CHUNK, Run, Timeline, collect, simulate
from sched_cli.state import State
from sched_cli.time import Time, Timestamp

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
COSINE = "cosine_with_warmup(t_warmup=0.01dur, alpha_f=0.1)"

#: Readers timed on a long run: (name, config file with a run of 1,000,000 updates, command-line
#: overrides as ``Overrides`` fields). A new reader is one line here and one file in long_runs/.
READERS: list[tuple[str, str, dict[str, Any]]] = [
    ("Hugging Face", "benchmarks/long_runs/hf.yaml", {}),
    ("timm", "benchmarks/long_runs/timm.yaml", {}),
    ("MMEngine", "benchmarks/long_runs/mmengine.yaml", {}),
    ("DeepSpeed", "benchmarks/long_runs/deepspeed.json", {}),
    ("Megatron-LM", "benchmarks/long_runs/megatron.sh", {"source": "megatron", "devices": 32}),
]

#: Targets from the issues, printed beside the figures.
TARGETS = {"help": 1.5, "export_1000": 2.0, "csv": 0.5, "jsonl": 0.7}


# Each built-in scheduler with the arguments it is benchmarked with, as data, so that the same
# list builds ours and, for the optional comparison, Composer's own.
BENCH_SCHEDULERS = [
    ("StepScheduler", {"step_size": "10000ba", "gamma": 0.5}),
    ("MultiStepScheduler", {"milestones": ["300000ba", "600000ba", "900000ba"], "gamma": 0.1}),
    ("ConstantScheduler", {"alpha": 0.5, "t_max": "0.5dur"}),
    ("LinearScheduler", {"alpha_i": 1.0, "alpha_f": 0.1}),
    ("ExponentialScheduler", {"gamma": 0.99999, "decay_period": "1ba"}),
    ("CosineAnnealingScheduler", {"alpha_f": 0.1}),
    ("CosineAnnealingWarmRestartsScheduler", {"t_0": "50000ba", "t_mult": 2.0}),
    ("PolynomialScheduler", {"power": 2.0, "alpha_f": 0.05}),
    ("MultiStepWithWarmupScheduler", {"t_warmup": "10000ba", "milestones": ["300000ba", "600000ba"], "gamma": 0.1}),
    ("ConstantWithWarmupScheduler", {"t_warmup": "10000ba"}),
    ("LinearWithWarmupScheduler", {"t_warmup": "10000ba", "alpha_f": 0.0}),
    ("CosineAnnealingWithWarmupScheduler", {"t_warmup": "10000ba", "alpha_f": 0.1}),
    ("PolynomialWithWarmupScheduler", {"t_warmup": "10000ba", "power": 2.0}),
]

# Run with a Python that has Composer: times its own schedulers, one call per step.
_COMPOSER_PER_CALL = """
import json, sys, time, warnings
from types import SimpleNamespace
from composer.core import Time, Timestamp
from composer.optim import scheduler as module
steps, count, schedulers = json.loads(sys.stdin.read())
state = SimpleNamespace(max_duration=Time(steps, "ba"), dataloader_len=Time(1000, "ba"), timestamp=Timestamp())
stride = max(1, steps // count)
stamps = [Timestamp(epoch=b // 1000, batch=b, sample=b * 8, token=b * 8 * 128) for b in range(0, steps, stride)]
out = {}
warnings.simplefilter("ignore")
for name, kwargs in schedulers:
    s = getattr(module, name)(**kwargs)
    runs = []
    for _ in range(3):
        start = time.perf_counter()
        for ts in stamps:
            state.timestamp = ts
            s(state, 1.0)
        runs.append((time.perf_counter() - start) / len(stamps))
    out[name] = sorted(runs)[1]
print(json.dumps(out))
"""


def composer_per_call(steps: int, count: int) -> dict[str, float] | None:
    """Composer's own per-step cost for each scheduler, if SCHED_COMPOSER_PYTHON names a Python
    with Composer installed (see docs/composer.md); else None."""
    python = os.environ.get("SCHED_COMPOSER_PYTHON")
    if not python:
        return None
    request = json.dumps([steps, count, BENCH_SCHEDULERS])
    out = subprocess.run([python, "-c", _COMPOSER_PER_CALL], input=request, capture_output=True, text=True)
    if out.returncode != 0:
        print(f"Composer timing failed: {out.stderr.strip()[-500:]}", file=sys.stderr)
        return None
    return json.loads(out.stdout.strip().splitlines()[-1])


def builtin_schedulers():
    import sched_cli.schedulers as module

    return [getattr(module, name)(**kwargs) for name, kwargs in BENCH_SCHEDULERS]


def median_time(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bench_paths(steps: int, per_call_steps: int) -> list[tuple[str, float, float, float]]:
    """Per scheduler: vectorized seconds for `steps`, per-call seconds per step, and the ratio."""
    run = Run(Time(steps, "ba"), (ConstantScheduler(),), dataloader_len=1000, batch_size=8, seq_len=128)
    timeline = Timeline.at_batch_starts(run, np.arange(steps, dtype=np.int64))
    shape = RunShape(Time(steps, "ba"), 1000)
    state = State(Time(steps, "ba"), 1000)
    stride = max(1, steps // per_call_steps)
    stamps = [Timestamp(epoch=b // 1000, batch=b, sample=b * 8, token=b * 8 * 128) for b in range(0, steps, stride)]
    results = []
    for scheduler in builtin_schedulers():
        vector = median_time(lambda s=scheduler: s.evaluate(timeline, shape, 1.0), 5)

        def per_call(s=scheduler):
            for ts in stamps:
                state.timestamp = ts
                s(state, 1.0)

        per_step = median_time(per_call, 3) / len(stamps)
        results.append((type(scheduler).__name__, vector, per_step, per_step * steps / vector))
    return results


def bench_big_cosine(steps: int) -> float:
    scheduler = CosineAnnealingWithWarmupScheduler("0.01dur", alpha_f=0.1)
    run = Run(Time(steps, "ba"), (scheduler,))
    timeline = Timeline.at_batch_starts(run, np.arange(steps, dtype=np.int64))
    shape = RunShape(Time(steps, "ba"))
    return median_time(lambda: scheduler.evaluate(timeline, shape, 1.0), 5)


# -- cold processes ---------------------------------------------------------------------------------
def sched_command() -> list[str]:
    exe = Path(sys.executable).with_name("sched")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "sched_cli"]


def cold(cmd: Sequence[str], repeat: int) -> tuple[float, float]:
    """Median wall-clock and median CPU (user + system) seconds of a fresh process running ``cmd``."""

    def children_cpu() -> float:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return usage.ru_utime + usage.ru_stime

    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO)  # warm the cache
    walls, cpus = [], []
    for _ in range(repeat):
        cpu, wall = children_cpu(), time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO)
        walls.append(time.perf_counter() - wall)
        cpus.append(children_cpu() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def export_cmd(spec: str, out: Path, *options: str) -> list[str]:
    return [*sched_command(), "export", spec, *options, "-o", str(out)]


def bench_startup(repeat: int) -> list[tuple[str, float, float]]:
    """Start-up of a bare numpy import, ``sched --help`` and a 1,000-row export to standard output."""
    with tempfile.TemporaryDirectory() as tmp:
        return [
            ('`python -c "import numpy"`', *cold([sys.executable, "-c", "import numpy"], repeat)),
            ("`sched --help`", *cold([*sched_command(), "--help"], repeat)),
            (
                "`sched export` of 1,000 rows",
                *cold(
                    export_cmd(
                        "cosine_with_warmup(t_warmup=10ba)", Path(tmp) / "small.csv", "--max-duration", "1000ba"
                    ),
                    repeat,
                ),
            ),
        ]


def bench_export(rows: int, fmt: str, repeat: int) -> tuple[float, float, float, float]:
    """Wall and CPU seconds of `sched export` of ``rows`` rows in ``fmt``, total and beyond the
    start-up of a 10-row export of the same kind."""
    with tempfile.TemporaryDirectory() as tmp:
        big = cold(export_cmd(COSINE, Path(tmp) / f"big.{fmt}", "--max-duration", f"{rows}ba", "--lr", "0.001"), repeat)
        small = cold(export_cmd(COSINE, Path(tmp) / f"small.{fmt}", "--max-duration", "10ba", "--lr", "0.001"), repeat)
    return big[0], big[0] - small[0], big[1], big[1] - small[1]


def peak_rss_mb(rows: int) -> float:
    """Peak resident memory of a `sched export` of ``rows`` batches to a CSV file, in MB."""
    with tempfile.TemporaryDirectory() as tmp:
        # VmHWM, not getrusage: ru_maxrss survives fork and exec, so a child of this (large)
        # process would report this process's size.
        code = (
            "import sys, runpy\n"
            f"sys.argv = ['sched', 'export', 'cosine_with_warmup(t_warmup=0.01dur)', '--max-duration', '{rows}ba', "
            f"'--lr', '0.001', '-o', '{tmp}/big.csv']\n"
            "try:\n"
            "    runpy.run_module('sched_cli', run_name='__main__')\n"
            "except SystemExit:\n"
            "    pass\n"
            "status = open('/proc/self/status').read().split('VmHWM:')[1]\n"
            "print(int(status.split()[0]))\n"
        )
        out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd=REPO)
        return int(out.stdout.strip().splitlines()[-1]) / 1024


# -- the simulator and the readers, in this process ------------------------------------------------
def bench_chunks(rows: int, repeat: int) -> tuple[float, int]:
    """Seconds to simulate a ``rows``-batch cosine run with an LR (all rows, default chunks), and the chunk count."""
    run = Run(Time(rows, "ba"), (CosineAnnealingWithWarmupScheduler("0.01dur", alpha_f=0.1),), lr=0.001)
    chunks = len(list(simulate(run)))
    return median_time(lambda: [None for _ in simulate(run)], repeat), chunks


def load_spec(path: Path, options: dict[str, Any]) -> Any:
    """The spec a file gives, read as ``sched`` reads it (with ``options`` as command-line overrides)."""
    from sched_cli import specs

    return specs.load(str(path), specs.Overrides(**options))


def cli_options(options: dict[str, Any]) -> list[str]:
    """The command-line form of Overrides fields (``source`` is ``--from``)."""
    flags = {"source": "--from"}
    return [
        part for key, value in options.items() for part in (flags.get(key, f"--{key.replace('_', '-')}"), str(value))
    ]


def bench_readers(directory: Path, repeat: int) -> list[tuple[str, str, int, float, float, float, float]]:
    """Per reader: its file, the rows, seconds to read the file, to simulate + collect its rows,
    and wall and CPU seconds of the whole `sched export` of it (cold)."""
    results = []
    for name, file, options in READERS:
        path = REPO / file
        spec = load_spec(path, options)
        read = median_time(lambda p=path, o=options: load_spec(p, o), repeat)
        rows = len(collect(simulate(spec.run, spec.ssrs[0]))["batch"])
        simulated = median_time(lambda s=spec: collect(simulate(s.run, s.ssrs[0])), repeat)
        wall, cpu = cold(export_cmd(file, directory / f"{path.stem}.csv", *cli_options(options)), repeat)
        results.append((name, file, rows, read, simulated, wall, cpu))
    return results


# -- report, in a real browser ----------------------------------------------------------------------
def bench_report(directory: Path, specs: list[tuple[str, list[str]]], loads: int) -> list[tuple[str, int, float]] | str:
    """Per report: its page's bytes and its median draw time in Chromium (ms from navigation to a
    drawn chart, the page's own ``readyAt``); or why there is no browser to draw it in."""
    if not os.path.exists(CHROMIUM):
        return f"no Chromium at {CHROMIUM}"
    try:
        # Imported by name, as the tests import it (pytest.importorskip): playwright is in the test
        # extra, not a dependency of sched, and the dependency check (deptry) scans benchmarks/.
        sync_playwright = importlib.import_module("playwright.sync_api").sync_playwright
    except ImportError:
        return "playwright is not installed (the test extra)"
    pages = []
    for label, args in specs:
        page = directory / f"report-{len(pages)}.html"
        subprocess.run([*sched_command(), "report", *args, "-o", str(page)], check=True, capture_output=True, cwd=REPO)
        pages.append((label, page))
    results = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for label, page in pages:
                times = []
                for _ in range(loads):
                    context = browser.new_context(viewport={"width": 1200, "height": 900})
                    tab = context.new_page()
                    tab.goto(page.as_uri())
                    tab.wait_for_function("document.body.dataset.ready === '1'", timeout=30_000)
                    times.append(tab.evaluate("window.schedReport.readyAt"))
                    context.close()
                results.append((label, page.stat().st_size, statistics.median(times)))
        finally:
            browser.close()
    return results


# -- the machine ---------------------------------------------------------------------------------
def machine() -> list[str]:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    versions = []
    for dist in ("sched-cli", "numpy", "orjson", "typer", "playwright"):
        try:
            versions.append(f"{dist} {importlib.metadata.version(dist)}")
        except importlib.metadata.PackageNotFoundError:
            pass
    chromium = ""
    if os.path.exists(CHROMIUM):
        out = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True)
        chromium = out.stdout.strip()
    return [
        f"- machine: {platform.system()} {platform.machine()}, {cpu}, {os.cpu_count()} cores, {mem:.0f} GiB RAM",
        f"- Python {platform.python_version()}; {', '.join(versions)}" + (f"; {chromium}" if chromium else ""),
    ]


def load_average() -> str:
    try:
        return ", ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:  # pragma: no cover - not POSIX
        return "unknown"


# -- the page -----------------------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, fewer runs; print, do not write RESULTS.md")
    args = parser.parse_args()
    quick = args.quick
    steps, big, per_call, export_rows, rss_rows = (
        (100_000, 1_000_000, 2_000, 100_000, 200_000)
        if quick
        else (1_000_000, 10_000_000, 20_000, 1_000_000, 10_000_000)
    )
    startup_runs, export_runs, inner_runs = (5, 3, 3) if quick else (15, 7, 5)
    started = time.perf_counter()
    load_before = load_average()
    lines = [
        "# Benchmark results",
        "",
        f"- date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC",
        *machine(),
        "- command: `python benchmarks/run.py`; every figure is a median of the runs counted beside it, all "
        "made in this one session, side by side; sched's bytecode compiled first, as an installed package has it",
    ]

    # An installed sched has its bytecode compiled (pip compiles it); a checkout run with
    # PYTHONDONTWRITEBYTECODE=1 (as this machine sets) would compile every module on every start.
    import compileall

    compileall.compile_dir(str(REPO / "sched_cli"), quiet=1)
    startup = bench_startup(startup_runs)
    numpy_wall, numpy_cpu = startup[0][1], startup[0][2]
    lines += [
        "",
        f"## Start-up (fresh processes, median of {startup_runs})",
        "",
        "| command | wall | × bare numpy | CPU | × bare numpy (CPU) | target |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for (label, wall, cpu), target in zip(
        startup, ("", f"<= {TARGETS['help']}×", f"<= {TARGETS['export_1000']}×"), strict=True
    ):
        ratio, cpu_ratio = wall / numpy_wall, cpu / max(numpy_cpu, 1e-9)
        lines.append(f"| {label} | {wall:.3f} s | {ratio:.2f}× | {cpu:.3f} s | {cpu_ratio:.2f}× | {target} |")

    lines += [
        "",
        f"## Export of {export_rows:,} rows (`sched export '{COSINE}' --lr 0.001 -o FILE`, median of {export_runs})",
        "",
        "Beyond start-up: minus the same command for a 10-row run. The file is written whole, fsynced and renamed "
        "into place.",
        "",
        "| format | total | beyond start-up | CPU beyond start-up | rows/s beyond start-up | target |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for fmt in ("csv", "json", "jsonl"):
        total, work, _, work_cpu = bench_export(export_rows, fmt, export_runs)
        target = f"<= {TARGETS[fmt]} s" if fmt in TARGETS else ""
        rate = export_rows / max(work, 1e-9)
        lines.append(f"| {fmt} | {total:.2f} s | {work:.2f} s | {work_cpu:.2f} s | {rate:,.0f} | {target} |")
    sim, chunks = bench_chunks(export_rows, inner_runs)
    lines += [
        "",
        f"The simulator alone (in this process) yields those {export_rows:,} rows in {sim:.3f} s: {chunks} chunks of "
        f"up to {DEFAULT_CHUNK:,} rows, {sim / chunks * 1e3:.1f} ms each; the rest is turning numbers into text "
        "and writing the file.",
    ]

    with tempfile.TemporaryDirectory() as tmp:
        readers = bench_readers(Path(tmp), inner_runs)
    lines += [
        "",
        f"## Readers on a long run (median of {inner_runs})",
        "",
        "Each reader's config file with a run of 1,000,000 updates: read as `sched` reads it, its rows simulated and "
        "collected in this process, and the whole `sched export FILE -o rows.csv` in a fresh process.",
        "",
        "| reader | file | rows | read | simulate + collect | `sched export` (wall) | `sched export` (CPU) |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for name, file, rows, read, simulated, wall, cpu in readers:
        lines.append(
            f"| {name} | {file} | {rows:,} | {read * 1e3:.1f} ms | {simulated:.3f} s | {wall:.2f} s | {cpu:.2f} s |"
        )

    import bench_check  # benchmarks/ is on sys.path when this file runs as a script

    checked = bench_check.measure(repeat=3 if quick else 5)
    lines += [
        "",
        "## `sched check` on a log of 1,000,000 LR points",
        "",
        "The log is checked against the plan of a 1,000,000-update cosine (`benchmarks/bench_check.py`): a CSV and a "
        "TensorBoard event file with that many scalars (written by tensorboardX, the test extra), read and compared "
        "in a fresh process (start-up included), and the parts in this process. Target: under 2 s.",
        "",
        "| what | median |",
        "|---|---:|",
    ]
    lines += [f"| {what} | {seconds:.2f} s |" for what, seconds in checked.items()]

    with tempfile.TemporaryDirectory() as tmp:
        report = bench_report(
            Path(tmp),
            [
                (
                    "sample_specs/bert_base.yaml, --ssr 0.5 --ssr 1 --ssr 2",
                    ["sample_specs/bert_base.yaml", "--ssr", "0.5", "--ssr", "1", "--ssr", "2"],
                ),
                ("Hugging Face run of 1,000,000 updates (long_runs/hf.yaml)", [READERS[0][1]]),
                (
                    "three specs: bert_base, resnet50_imagenet, mmdet_schedule",
                    [
                        "sample_specs/bert_base.yaml",
                        "sample_specs/resnet50_imagenet.yaml",
                        "sample_specs/mmdet_schedule.yaml",
                    ],
                ),
            ],
            loads=3 if quick else 7,
        )
    lines += ["", "## `sched report` page weight and draw time", ""]
    if isinstance(report, str):
        lines.append(f"Not measured: {report}.")
    else:
        lines += [
            f"Draw time: Chromium's milliseconds from navigation to a drawn chart (the page's `readyAt`), median of "
            f"{3 if quick else 7} loads, each in a fresh browser context.",
            "",
            "| report of | page | draw time |",
            "|---|---:|---:|",
        ]
        lines += [f"| {label} | {size:,} bytes ({size / 1024:.0f} KiB) | {ms:.0f} ms |" for label, size, ms in report]

    lines += [
        "",
        f"## Vectorized vs per-call evaluation ({steps:,} steps)",
        "",
        "The per-call path is how Composer evaluates a schedule: one Python call of the scheduler per step, "
        f"re-converting its times each call. It is timed on {per_call:,} steps spread over the run and scaled to "
        f"{steps:,} (its cost per step does not depend on the step).",
        "",
        f"| scheduler | vectorized, {steps:,} steps | per call, per step "
        f"| per call, {steps:,} steps (scaled) | speed-up |",
        "|---|---:|---:|---:|---:|",
    ]
    paths = bench_paths(steps, per_call)
    ratios = [ratio for *_, ratio in paths]
    for name, vector, per_step, ratio in paths:
        lines.append(
            f"| {name} | {vector * 1e3:.1f} ms | {per_step * 1e6:.1f} µs | {per_step * steps:.1f} s | {ratio:,.0f}x |"
        )
    lines += [
        "",
        f"Smallest speed-up: {min(ratios):,.0f}x (target >= 1000x); median {statistics.median(ratios):,.0f}x.",
        "",
    ]
    composer = composer_per_call(steps, per_call)
    if composer:
        lines += [
            "Composer 0.32.1's own schedulers, called the same way (one call per step, in a Python with Composer "
            "installed, on the same machine in the same session):",
            "",
            f"| scheduler | Composer, per step | Composer, {steps:,} steps (scaled) | sched vectorized speed-up |",
            "|---|---:|---:|---:|",
        ]
        for name, vector, _, _ in paths:
            cost = composer[name]
            lines.append(f"| {name} | {cost * 1e6:.1f} µs | {cost * steps:.1f} s | {cost * steps / vector:,.0f}x |")
        lines.append("")
    else:
        lines += ["(Set SCHED_COMPOSER_PYTHON to a Python with Composer to also time Composer's own schedulers.)", ""]
    lines += [
        f"## {big:,} steps of cosine-with-warmup, vectorized",
        "",
        f"{bench_big_cosine(big):.3f} s (target <= 0.5 s).",
        "",
        f"## Peak memory of a {rss_rows:,}-row CSV export",
        "",
        f"{peak_rss_mb(rss_rows):.0f} MB peak RSS (target <= 300 MB): the exporting process's VmHWM; rows are "
        "simulated and written in chunks, so this does not grow with the run.",
        "",
        f"Benchmark wall time: {time.perf_counter() - started:.0f} s; load average (1, 5, 15 min) {load_before} at "
        f"the start, {load_average()} at the end, on {os.cpu_count()} cores.",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if not quick:
        (HERE / "RESULTS.md").write_text(text)


if __name__ == "__main__":
    main()
