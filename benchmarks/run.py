"""Benchmarks for sched: vectorized vs per-call evaluation, export speed, memory, cold start.

Run:  python benchmarks/run.py            (writes benchmarks/RESULTS.md, about a minute)
      python benchmarks/run.py --quick    (smaller sizes, prints only)

Every figure is a median of several runs, and ratios compare runs made side by side in this one
process, since the machine may be shared and noisy.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from sched_cli.schedulers import (
    ConstantScheduler,
    ConstantWithWarmupScheduler,
    CosineAnnealingScheduler,
    CosineAnnealingWarmRestartsScheduler,
    CosineAnnealingWithWarmupScheduler,
    ExponentialScheduler,
    LinearScheduler,
    LinearWithWarmupScheduler,
    MultiStepScheduler,
    MultiStepWithWarmupScheduler,
    PolynomialScheduler,
    PolynomialWithWarmupScheduler,
    StepScheduler,
)
from sched_cli.schedulers.base import RunShape
from sched_cli.simulator import Run, Timeline
from sched_cli.state import State
from sched_cli.time import Time, Timestamp

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


def builtin_schedulers():
    return [
        StepScheduler("10000ba", 0.5),
        MultiStepScheduler(["300000ba", "600000ba", "900000ba"], 0.1),
        ConstantScheduler(0.5, "0.5dur"),
        LinearScheduler(1.0, 0.1),
        ExponentialScheduler(0.99999, "1ba"),
        CosineAnnealingScheduler(alpha_f=0.1),
        CosineAnnealingWarmRestartsScheduler("50000ba", 2.0),
        PolynomialScheduler(2.0, alpha_f=0.05),
        MultiStepWithWarmupScheduler("10000ba", ["300000ba", "600000ba"], 0.1),
        ConstantWithWarmupScheduler("10000ba"),
        LinearWithWarmupScheduler("10000ba", alpha_f=0.0),
        CosineAnnealingWithWarmupScheduler("10000ba", alpha_f=0.1),
        PolynomialWithWarmupScheduler("10000ba", power=2.0),
    ]


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
        code = (
            "import resource, sys\n"
            "from sched_cli.cli import app\n"
            "try:\n"
            f"    app(['export', 'cosine_with_warmup(t_warmup=0.01dur)', '--max-duration', '{rows}ba', "
            f"'--lr', '0.001', '-o', '{tmp}/big.csv'])\n"
            "except SystemExit:\n"
            "    pass\n"
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
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
    for name, vector, per_step, ratio in bench_paths(steps, per_call):
        ratios.append(ratio)
        lines.append(
            f"| {name} | {vector * 1e3:.1f} ms | {per_step * 1e6:.1f} µs | {per_step * steps:.1f} s | {ratio:,.0f}x |"
        )
    lines += [
        "",
        f"Smallest speed-up: {min(ratios):,.0f}x (target >= 1000x); median {statistics.median(ratios):,.0f}x.",
        "",
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
    lines += [f"## Peak memory of a {rss_rows:,}-row CSV export", "", f"{rss:.0f} MB peak RSS (target <= 300 MB).", ""]
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
