"""Figures that sum up a simulated run: where warmup ends, the final and mean multiplier, and
where the multiplier first falls below half its peak. Computed by streaming the rows, so a run
of any length costs flat memory."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from sched_cli.simulator import Plan, Selection, plan, simulate
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
    warmup_end: int | None  # batch where the first warmup ends
    peak: float
    final: float
    mean: float
    exact: bool  # False when the mean and half-peak come from a sample of the batches
    below_half: int | None  # first batch after the peak whose multiplier is below half of it


def summarize(run, ssr: float, mode: str = "formula", progress: Callable[[int], None] | None = None) -> Summary:
    p = plan(run, ssr)

    def simulated(selection: Selection, report: Callable[[int], None] | None) -> Iterator[dict[str, np.ndarray]]:
        return simulate(run, ssr, mode=mode, selection=selection, progress=report)  # type: ignore[arg-type]

    return summarize_rows(simulated, ssr, p.max_duration, p.batches, _warmup_end(p), progress)


def summarize_rows(
    simulated: Callable[[Selection, Callable[[int], None] | None], Iterator[dict[str, np.ndarray]]],
    ssr: float,
    max_duration: Time,
    batches: int,
    warmup_end: int | None,
    progress: Callable[[int], None] | None = None,
) -> Summary:
    """The summary of any stream of rows (a resumed run, a run stopped early): ``simulated(selection,
    progress)`` yields the rows of ``batches`` batches."""
    exact = batches <= EXACT_LIMIT
    selection = Selection() if exact else Selection(points=_SAMPLE_POINTS)

    def rows(report: Callable[[int], None] | None = None) -> Iterator[dict[str, np.ndarray]]:
        return simulated(selection, report)

    # First pass: peak, where it is, final value and mean.
    peak, peak_at, total, count, final = -np.inf, 0, 0.0, 0, 0.0
    for chunk in rows(progress):
        m = chunk["multiplier"]
        if not len(m):
            continue
        i = int(np.argmax(m))
        if m[i] > peak:
            peak, peak_at = float(m[i]), int(chunk["batch"][i])
        total += float(m.sum())
        count += len(m)
        final = float(m[-1])
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
        final=final,
        mean=total / count if count else float("nan"),
        exact=exact,
        below_half=below,
    )


def _warmup_end(p: Plan) -> int | None:
    for bp, batch in p.breakpoints:
        if bp.label == "warmup end":
            return batch
    return None
