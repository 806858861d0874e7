"""Figures that sum up a simulated run: where warmup ends, the multiplier at the end of the run
and its mean over the batches, and where it first falls below half its peak. Computed by
streaming the rows, so a run of any length costs flat memory."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from sched_cli.simulator import Plan, Selection, breakpoints_in_force, end_of_run, plan, simulate
from sched_cli.time import Time

__all__ = ["Summary", "summarize", "summarize_rows", "EXACT_LIMIT"]

#: Runs longer than this are summarised from evenly spread points (the mean is then approximate).
EXACT_LIMIT = 20_000_000
_SAMPLE_POINTS = 200_000


@dataclass(frozen=True)
class Summary:
    ssr: float
    max_duration: Time
    batches: int
    warmup_end: int | None  # batch where the first warmup ends (of a scheduler in force)
    peak: float
    final: float  # at the end of the run, after the last batch (simulator.end_of_run)
    mean: float
    exact: bool  # False when the mean and half-peak come from a sample of the batches
    below_half: int | None  # first batch after the peak whose multiplier is below half of it


def summarize(run, ssr: float, mode: str = "formula", progress: Callable[[int], None] | None = None) -> Summary:
    p = plan(run, ssr)

    def simulated(selection: Selection, report: Callable[[int], None] | None) -> Iterator[dict[str, np.ndarray]]:
        return simulate(run, ssr, mode=mode, selection=selection, progress=report)  # type: ignore[arg-type]

    final = float(end_of_run(run, ssr, mode=mode)["multiplier"][0])  # type: ignore[arg-type]
    return summarize_rows(simulated, ssr, p.max_duration, p.batches, _warmup_end(p, mode), progress, final)


def summarize_rows(
    simulated: Callable[[Selection, Callable[[int], None] | None], Iterator[dict[str, np.ndarray]]],
    ssr: float,
    max_duration: Time,
    batches: int,
    warmup_end: int | None,
    progress: Callable[[int], None] | None = None,
    final: float | None = None,
) -> Summary:
    """The summary of any stream of rows (a resumed run, a run stopped early): ``simulated(selection,
    progress)`` yields the rows of ``batches`` batches; ``final`` is the multiplier at the end of
    the run (default: the last row's)."""
    exact = batches <= EXACT_LIMIT
    selection = Selection() if exact else Selection(points=_SAMPLE_POINTS)

    def rows(report: Callable[[int], None] | None = None) -> Iterator[dict[str, np.ndarray]]:
        return simulated(selection, report)

    # First pass: peak, where it is, final value and mean.
    peak, peak_at, total, count, last = -np.inf, 0, 0.0, 0, float("nan")
    for chunk in rows(progress):
        m = chunk["multiplier"]
        if not len(m):
            continue
        i = int(np.argmax(m))
        if m[i] > peak:
            peak, peak_at = float(m[i]), int(chunk["batch"][i])
        total += float(m.sum())
        count += len(m)
        last = float(m[-1])
    # Second pass: the first batch after the peak below half of it.
    below = None
    for chunk in rows():
        b, m = chunk["batch"], chunk["multiplier"]
        hits = np.nonzero((b > peak_at) & (m < peak / 2))[0]
        if len(hits):
            below = int(b[hits[0]])
            break
    return Summary(
        ssr=ssr,
        max_duration=max_duration,
        batches=batches,
        warmup_end=warmup_end,
        peak=peak,
        final=last if final is None else final,
        mean=total / count if count else float("nan"),
        exact=exact,
        below_half=below,
    )


def _warmup_end(p: Plan, mode: str) -> int | None:
    for bp, batch in breakpoints_in_force(p, mode):  # type: ignore[arg-type]
        if bp.label == "warmup end":
            return batch
    return None
