"""How long ``sched check`` takes on a log of 1,000,000 LR points: a CSV and a TensorBoard event file
with that many scalars, each checked against the plan of a 1,000,000-update run (a real process,
start-up included), and the parts: reading the log, and the plan at every logged step; and two
diverging CSVs, for which every explanation is tried (one explained, one that none fits).

Run:  python benchmarks/bench_check.py      (prints a JSON object of medians, in seconds)

The event file is written by tensorboardX (the test extra) when it is installed, else skipped.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from sched_cli.check import planned_lrs
from sched_cli.logs.files import read_log
from sched_cli.specs import load

POINTS = 1_000_000
PLAN = "max_duration: 1000000ba\nlr: 0.001\nschedulers:\n  - name: cosine_with_warmup\n    t_warmup: 1000ba\n"


def _median(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure(repeat: int = 3) -> dict[str, float]:
    out: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        plan = Path(tmp) / "plan.yaml"
        plan.write_text(PLAN)
        spec = load(str(plan))
        steps = np.arange(POINTS)
        out["plan at 1M steps"] = _median(lambda: planned_lrs(spec, steps), repeat)
        lrs, _ = planned_lrs(spec, steps)
        csv = Path(tmp) / "lr.csv"
        csv.write_text("step,lr\n" + "".join(f"{s},{v!r}\n" for s, v in zip(steps.tolist(), lrs.tolist(), strict=True)))
        out["read 1M-row CSV"] = _median(lambda: read_log(csv), repeat)
        command = [sys.executable, "-m", "sched_cli", "check", str(plan), str(csv), "--alignment", "zero"]
        out["sched check, 1M-row CSV"] = _median(
            lambda: subprocess.run(command, check=True, capture_output=True), repeat
        )
        # Diverging logs: every explanation is tried. Twice the plan's LR is explained (another base
        # LR, confirmed on every point); a wobble of 1% fits no explanation (each fails on a sample).
        for name, factor in (("explained", 2.0 + 0.0 * steps), ("no reason fits", 1 + 0.01 * np.sin(steps))):
            off = Path(tmp) / f"off-{factor[1]:.3f}.csv"
            rows = zip(steps.tolist(), (lrs * factor).tolist(), strict=True)
            off.write_text("step,lr\n" + "".join(f"{s},{v!r}\n" for s, v in rows))
            command = [sys.executable, "-m", "sched_cli", "check", str(plan), str(off), "--alignment", "zero"]
            out[f"sched check, 1M-row CSV, diverging, {name}"] = _median(
                lambda command=command: subprocess.run(command, check=False, capture_output=True), repeat
            )
        try:
            import tensorboardX
        except ImportError:
            return out
        events = Path(tmp) / "tb"
        writer = tensorboardX.SummaryWriter(str(events))
        for s, v in zip(steps.tolist(), lrs.tolist(), strict=True):
            writer.add_scalar("lr", v, s)
        writer.close()
        out["read 1M-scalar event file"] = _median(lambda: read_log(events), repeat)
        command = [sys.executable, "-m", "sched_cli", "check", str(plan), str(events), "--alignment", "zero"]
        out["sched check, 1M-scalar event file"] = _median(
            lambda: subprocess.run(command, check=False, capture_output=True), repeat
        )
    return out


if __name__ == "__main__":
    print(json.dumps(measure(), indent=2))
