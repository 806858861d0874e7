"""Benchmarks for sched: vectorized vs per-call evaluation, export speed, memory, cold start.

Run:  python benchmarks/run.py            (writes benchmarks/RESULTS.md, about a minute)
      python benchmarks/run.py --quick    (smaller sizes, prints only)

Every figure is a median of several runs, and ratios compare runs made side by side in this one
process, since the machine may be shared and noisy.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from sched_cli.schedulers import ConstantScheduler, CosineAnnealingWithWarmupScheduler
from sched_cli.schedulers.base import RunShape
from sched_cli.simulator import Run, Timeline
from sched_cli.state import State
from sched_cli.time import Time, Timestamp

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


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


def sched_command() -> list[str]:
    exe = Path(sys.executable).with_name("sched")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "sched_cli"]


def cold(cmd: list[str], repeat: int = 7) -> float:
    def once():
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO)

    once()  # warm the OS file cache, as a user's second run would be
    return median_time(once, repeat)


def bench_export(rows: int, fmt: str, repeat: int = 3) -> tuple[float, float]:
    """Seconds for `sched export` of `rows` batches in `fmt`, and the same minus start-up."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / f"out.{fmt}"
        cmd = sched_command() + [
            "export",
            "cosine_with_warmup(t_warmup=0.01dur, alpha_f=0.1)",
            "--max-duration",
            f"{rows}ba",
            "--lr",
            "0.001",
            "-o",
            str(out),
        ]
        total = cold(cmd, repeat)
        small = cold(
            sched_command()
            + [
                "export",
                "cosine_with_warmup(t_warmup=1ba)",
                "--max-duration",
                "10ba",
                "-o",
                str(Path(tmp) / f"small.{fmt}"),
            ],
            repeat,
        )
    return total, total - small


def peak_rss_mb(rows: int) -> float:
    """Peak resident memory of a `sched export` of `rows` batches to a CSV file, in MB."""
    with tempfile.TemporaryDirectory() as tmp:
        # VmHWM, not getrusage: ru_maxrss survives fork and exec, so a child of this (large)
        # process would report this process's size.
        code = (
            "import sys\n"
            "from sched_cli.cli import app\n"
            "try:\n"
            f"    app(['export', 'cosine_with_warmup(t_warmup=0.01dur)', '--max-duration', '{rows}ba', "
            f"'--lr', '0.001', '-o', '{tmp}/big.csv'])\n"
            "except SystemExit:\n"
            "    pass\n"
            "status = open('/proc/self/status').read().split('VmHWM:')[1]\n"
            "print(int(status.split()[0]))\n"
        )
        out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd=REPO)
        return int(out.stdout.strip().splitlines()[-1]) / 1024


def machine() -> str:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores ({cpu or 'unknown CPU'}), "
        f"{mem:.0f} GiB RAM, Python {platform.python_version()}, numpy {np.__version__}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes; print, do not write RESULTS.md")
    args = parser.parse_args()
    steps, big, per_call, export_rows, rss_rows = (
        (100_000, 1_000_000, 2_000, 100_000, 200_000)
        if args.quick
        else (1_000_000, 10_000_000, 20_000, 1_000_000, 10_000_000)
    )
    started = time.perf_counter()
    lines = [
        "# Benchmark results",
        "",
        f"- date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC",
        f"- machine: {machine()}",
        "- command: `python benchmarks/run.py`; every figure is a median of 3 to 7 runs made in this one session",
        "",
        f"## Vectorized vs per-call evaluation ({steps:,} steps)",
        "",
        "The per-call path is how Composer evaluates a schedule: one Python call of the scheduler per step, "
        "re-converting its times each call. It is timed on "
        f"{per_call:,} steps spread over the run and scaled to {steps:,} "
        "(its cost per step does not depend on the step).",
        "",
        f"| scheduler | vectorized, {steps:,} steps | per call, per step "
        f"| per call, {steps:,} steps (scaled) | speed-up |",
        "|---|---:|---:|---:|---:|",
    ]
    ratios = []
    paths = bench_paths(steps, per_call)
    for name, vector, per_step, ratio in paths:
        ratios.append(ratio)
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
    ]
    big_time = bench_big_cosine(big)
    lines.append(f"{big_time:.3f} s (target <= 0.5 s).")
    lines += [
        "",
        f"## Export of {export_rows:,} rows (`sched export ... -o FILE`, cold process)",
        "",
        "| format | total | beyond start-up | rows/s beyond start-up |",
        "|---|---:|---:|---:|",
    ]
    for fmt in ("csv", "json", "jsonl"):
        total, work = bench_export(export_rows, fmt)
        lines.append(f"| {fmt} | {total:.2f} s | {work:.2f} s | {export_rows / max(work, 1e-9):,.0f} |")
    lines += ["", "CSV target: <= 1 s beyond start-up for 1,000,000 rows.", ""]
    rss = peak_rss_mb(rss_rows)
    lines += [
        f"## Peak memory of a {rss_rows:,}-row CSV export",
        "",
        f"{rss:.0f} MB peak RSS (target <= 300 MB): the exporting process's VmHWM; rows are simulated and "
        "written in chunks, so this does not grow with the run.",
        "",
    ]
    helptime = cold(sched_command() + ["--help"])
    small = cold(sched_command() + ["export", "cosine_with_warmup(t_warmup=10ba)", "--max-duration", "1000ba"])
    lines += [
        "## Cold start",
        "",
        f"- `sched --help`: {helptime:.3f} s (target <= 0.3 s)",
        f"- `sched export` of a 1,000-batch run to standard output: {small:.3f} s (target <= 0.5 s)",
        "",
        f"Benchmark wall time: {time.perf_counter() - started:.0f} s.",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if not args.quick:
        (HERE / "RESULTS.md").write_text(text)


if __name__ == "__main__":
    main()
