"""How fast the row writers are: rows per second for CSV, JSON and JSON Lines.

Run:  python benchmarks/bench_writers.py               (1M rows x 8 columns, ~10 s)
      python benchmarks/bench_writers.py --to-file     (through atomic_output into a real file)
      python benchmarks/bench_writers.py --baselines   (also numpy.savetxt and Python's repr, ~25 s)

The rows are shaped like the simulator's: ssr, batch, epoch, sample, token, duration,
multiplier, lr. Each figure is the median of several runs (the machine may be shared and
noisy); "CPU" is this process's CPU time, the work done, which noise from other processes
inflates less than the wall-clock time. The product's target is a whole export of 1M CSV rows in at
most 0.5 s beyond start-up, simulation and file included (benchmarks/run.py measures that).
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sched_cli.render.writers import FORMATS, atomic_output, write_rows  # noqa: E402

COLUMNS = ("ssr", "batch", "epoch", "sample", "token", "duration", "multiplier", "lr")
TARGET_CSV_SECONDS = 0.5


def table(rows: int) -> dict[str, np.ndarray]:
    """A cosine-with-warmup run of ``rows`` batches, 1000 batches per epoch."""
    batch = np.arange(rows, dtype=np.int64)
    duration = batch / rows
    warm = np.minimum(duration / 0.1, 1.0)
    multiplier = warm * 0.5 * (1 + np.cos(np.pi * np.clip((duration - 0.1) / 0.9, 0, 1)))
    return {
        "ssr": np.full(rows, 0.5),
        "batch": batch,
        "epoch": batch // 1000,
        "sample": batch * 256,
        "token": batch * 256 * 2048,
        "duration": duration,
        "multiplier": multiplier,
        "lr": 6e-4 * multiplier,
    }


def chunks_of(data: dict[str, np.ndarray], size: int = 1 << 20):
    """The table in chunks of the simulator's default size."""
    n = len(data["batch"])
    for start in range(0, n, size):
        yield {k: v[start : start + size] for k, v in data.items()}


def measure(job: Callable[[], int], repeats: int) -> tuple[float, float, int]:
    """Median wall-clock seconds, median CPU seconds, and the bytes written, over ``repeats`` runs."""
    walls, cpus, size = [], [], 0
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        size = job()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus), size


class CountingNull(io.TextIOBase):
    """A text stream that throws its text away and counts the characters."""

    def __init__(self) -> None:
        self.count = 0

    def write(self, text: str) -> int:
        self.count += len(text)
        return len(text)


def writer_job(data: dict[str, np.ndarray], fmt: str, directory: Path | None) -> Callable[[], int]:
    def job() -> int:
        if directory is None:
            sink = CountingNull()
            write_rows(chunks_of(data), fmt, sink, COLUMNS, {"bench": True})
            return sink.count
        path = directory / f"rows.{fmt}"
        with atomic_output(path) as stream:
            write_rows(chunks_of(data), fmt, stream, COLUMNS, {"bench": True})
        return path.stat().st_size

    return job


def savetxt_job(data: dict[str, np.ndarray]) -> Callable[[], int]:
    def job() -> int:
        with open(os.devnull, "w") as sink:
            # Its default format, "%.18e": not even shortest round-trip text, and still slow.
            np.savetxt(sink, np.column_stack([data[c] for c in COLUMNS]), delimiter=",")
        return 0

    return job


def repr_job(data: dict[str, np.ndarray]) -> Callable[[], int]:
    def job() -> int:
        texts = [list(map(repr, data[c].tolist())) for c in COLUMNS]
        with open(os.devnull, "w") as sink:
            sink.write("\n".join(map(",".join, zip(*texts, strict=True))))
        return 0

    return job


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--to-file", action="store_true", help="write real files through atomic_output")
    parser.add_argument("--baselines", action="store_true", help="also time numpy.savetxt and Python's repr (slow)")
    args = parser.parse_args()

    data = table(args.rows)
    write_rows(chunks_of(table(1000)), "csv", CountingNull(), COLUMNS)  # warm up: import orjson
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp) if args.to_file else None
        for fmt in FORMATS:
            results.append((f"sched {fmt}", *measure(writer_job(data, fmt, directory), args.repeats)))
    if args.baselines:
        # One run each: they are slow, and only there to show the scale of the difference.
        results.append(("numpy.savetxt (CSV, %.18e; 1 run)", *measure(savetxt_job(data), 1)))
        results.append(("repr over .tolist() (CSV; 1 run)", *measure(repr_job(data), 1)))

    target = "a file, fsynced" if args.to_file else "a null stream"
    print(f"{args.rows:,} rows x {len(COLUMNS)} columns to {target}, median of {args.repeats}\n")
    print("| writer | wall s | CPU s | rows/s (wall) | MB/s (wall) |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, wall, cpu, size in results:
        mb = f"{size / 1e6 / wall:,.0f}" if size else "-"
        print(f"| {name} | {wall:.3f} | {cpu:.3f} | {args.rows / wall:,.0f} | {mb} |")
    csv_wall, csv_cpu = results[0][1], results[0][2]
    if args.rows == 1_000_000:
        verdict = "meets" if csv_cpu <= TARGET_CSV_SECONDS else "MISSES"
        print(
            f"\nCSV {verdict} the target of {TARGET_CSV_SECONDS:g} s of work for 1M rows "
            f"(CPU {csv_cpu:.3f} s, wall {csv_wall:.3f} s)."
        )


if __name__ == "__main__":
    main()
