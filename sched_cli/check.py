"""``sched check``: a run's logged LRs against the exact plan, and the reason when they differ.

The plan is what the trainer applies (``mode="trainer"``): row ``u`` is the LR optimizer update
``u`` trains with. A log's step ``s`` is tied to update ``s + offset`` by its logger's rule
(:class:`sched_cli.logs.Alignment`), never by trying offsets until one fits. A logged LR matches
when ``|logged - planned| <= tolerance x max(|logged|, |planned|)`` (plus ``1e-12`` of the plan's
peak, so that a logged 0 matches a planned 0 to the last digit).

When the log leaves the plan, :func:`sched_cli.check_reasons.explain` tries the explanations the
field keeps running into, each a whole alternative plan that must fit *every* logged point.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sched_cli.logs import ALIGNMENTS, Alignment, LogError, LoggedLRs
from sched_cli.simulator import Selection, collect
from sched_cli.specs import Spec

__all__ = ["DEFAULT_TOLERANCE", "Verdict", "Span", "compare", "planned_lrs", "CheckError"]

#: Relative tolerance: float32 logs (TensorBoard) round to 2**-24 = 6.0e-8; text logs with 7 or
#: more significant digits to 5e-7. 1e-6 covers both; ``--tolerance`` changes it.
DEFAULT_TOLERANCE = 1e-6
#: At most this many diverging spans in the verdict (``-v``: all).
SPANS_SHOWN = 5


class CheckError(ValueError):
    """A check that cannot be made (no base LR, a log beyond any plan...); one line."""


@dataclass
class Span:
    """Consecutive logged points off the plan, in the log's own step numbering."""

    first_step: int
    last_step: int
    points: int
    #: The point of the span farthest from the plan (by ratio): its step, logged and planned LR.
    worst_step: int
    worst_logged: float
    worst_planned: float

    @property
    def worst_ratio(self) -> float:
        return self.worst_logged / self.worst_planned if self.worst_planned else float("inf")

    def describe(self) -> str:
        where = f"step {self.first_step:,}" if self.points == 1 else f"steps {self.first_step:,}-{self.last_step:,}"
        ratio = f" (x{self.worst_ratio:.3g})" if self.worst_planned else ""
        return (
            f"{where} ({self.points:,} logged); farthest at step {self.worst_step:,}: logged "
            f"{self.worst_logged:.6g}, planned {self.worst_planned:.6g}{ratio}"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "first_step": self.first_step,
            "last_step": self.last_step,
            "points": self.points,
            "worst": {"step": self.worst_step, "logged": self.worst_logged, "planned": self.worst_planned},
        }


@dataclass
class Verdict:
    """How a log compares with a plan."""

    points: int
    matched: int
    alignment: Alignment
    max_rel_error: float
    tolerance: float
    first_divergence: dict[str, float] | None = None
    spans: list[Span] = field(default_factory=list)
    #: Logged steps past the plan's last update.
    beyond: int = 0
    reason: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.first_divergence is None and self.beyond == 0

    def headline(self) -> str:
        if self.ok:
            return (
                f"check: {self.points:,} logged LRs match the plan "
                f"(largest relative difference {self.max_rel_error:.2g}, tolerance {self.tolerance:g})"
            )
        if self.first_divergence is None:
            return f"check: {self.beyond:,} logged steps lie past the plan's last update"
        d = self.first_divergence
        ratio = d["logged"] / d["planned"] if d["planned"] else float("inf")
        return (
            f"check: the run leaves the plan at step {int(d['step']):,}: logged {d['logged']:.6g}, "
            f"planned {d['planned']:.6g} (x{ratio:.3g})"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "verdict": "match" if self.ok else "diverges",
            "points": self.points,
            "matched": self.matched,
            "alignment": {"name": self.alignment.name, "offset": self.alignment.offset, "rule": self.alignment.says},
            "tolerance": self.tolerance,
            "max_rel_error": self.max_rel_error,
            "first_divergence": self.first_divergence,
            "spans": [s.as_dict() for s in self.spans],
            "beyond_plan": self.beyond,
            "reason": self.reason,
        }


# -- the plan at the logged steps ----------------------------------------------------------------
def planned_lrs(spec: Spec, rows: np.ndarray, ssr: float | None = None) -> tuple[np.ndarray, int]:
    """The LR the trainer applies at each update in ``rows``, and the run's number of updates ``n``.
    Row ``n`` is the LR the optimizer holds once the run is over (what a logger that logs the next
    update's LR writes at the last step); rows past it give NaN."""
    from sched_cli.views import shown

    view = shown(spec, spec.ssrs[0] if ssr is None else ssr)
    if spec.run.lr is None and (spec.before is None or spec.before.run.lr is None):
        raise CheckError(f"{spec.source}: the plan has no base LR to compare logged LRs with; give --lr")
    total = view.batches
    inside = (rows >= 0) & (rows < total)
    wanted = rows[inside]
    if len(wanted) > 1 and bool((wanted[1:] >= wanted[:-1]).all()):
        # A log's steps come in order: its distinct rows without a sort (or numpy's hashing unique).
        wanted = wanted[np.append(True, wanted[1:] != wanted[:-1])]
    else:
        wanted = np.unique(wanted)
    out = np.full(rows.shape, np.nan)
    if len(wanted):
        # Most of the run: simulate it all (vectorized, in chunks); a few points: just those.
        selection = Selection() if len(wanted) * 4 > total else Selection(batches=tuple(wanted.tolist()))
        got = collect(view.rows("trainer", selection))
        out[inside] = got["lr"][np.searchsorted(got["batch"], rows[inside])]
    if (rows == total).any() and view.resumed is None and view.stopped is None:
        from sched_cli.simulator import end_of_run

        out[rows == total] = float(end_of_run(spec.run, view.ssr, mode="trainer")["lr"][0])
    return out, total


def compare(
    log: LoggedLRs,
    planned: np.ndarray,
    alignment: Alignment,
    tolerance: float = DEFAULT_TOLERANCE,
) -> Verdict:
    """Compare the logged LRs with the planned ones at the same points (NaN: past the plan)."""
    logged = log.lrs
    beyond = np.isnan(planned)
    peak = float(np.nanmax(np.abs(planned))) if (~beyond).any() else 0.0
    diff = np.abs(logged - np.where(beyond, 0.0, planned))
    scale = np.maximum(np.abs(logged), np.abs(np.where(beyond, 0.0, planned)))
    ok = (diff <= tolerance * scale + 1e-12 * peak) & ~beyond
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(scale > 0, diff / scale, 0.0)
    inside = ~beyond
    verdict = Verdict(
        points=len(logged),
        matched=int(ok.sum()),
        alignment=alignment,
        max_rel_error=float(rel[inside].max()) if inside.any() else 0.0,
        tolerance=tolerance,
        beyond=int(beyond.sum()),
        notes=list(log.notes),
    )
    bad = np.flatnonzero(~ok & inside)
    if len(bad):
        i = int(bad[0])
        verdict.first_divergence = {
            "step": int(log.steps[i]),
            "logged": float(logged[i]),
            "planned": float(planned[i]),
        }
        verdict.spans = _spans(log.steps, logged, planned, bad)
    return verdict


def _spans(steps: np.ndarray, logged: np.ndarray, planned: np.ndarray, bad: np.ndarray) -> list[Span]:
    breaks = np.flatnonzero(np.diff(bad) != 1) + 1
    out = []
    for group in np.split(bad, breaks):
        lo, pl = logged[group], planned[group]
        # How far off each point is: |log| of the ratio, infinite where one of the two is 0.
        with np.errstate(divide="ignore", invalid="ignore"):
            off = np.where((lo > 0) & (pl > 0), np.abs(np.log(lo / pl)), np.inf)
        w = group[int(np.argmax(off))]
        out.append(
            Span(
                int(steps[group[0]]),
                int(steps[group[-1]]),
                len(group),
                int(steps[w]),
                float(logged[w]),
                float(planned[w]),
            )
        )
    return out


def rows_of(log: LoggedLRs, alignment: Alignment) -> np.ndarray:
    """The plan's update each logged step describes."""
    if log.unit != "update":
        raise LogError(f"{log.source}: {log.tag} is logged against {log.unit}s; sched checks logs counted in updates")
    return log.steps + alignment.offset


def check(
    spec: Spec, log: LoggedLRs, alignment: Alignment, tolerance: float = DEFAULT_TOLERANCE
) -> tuple[Verdict, np.ndarray]:
    """The verdict of one log against one plan, and the planned LRs at the logged points."""
    planned, _ = planned_lrs(spec, rows_of(log, alignment))
    return compare(log, planned, alignment, tolerance), planned


def default_alignment(log: LoggedLRs, asked: str | None) -> tuple[Alignment, str | None]:
    """The logger's rule: ``--alignment``, else the log's own, else ``current`` with a note."""
    from sched_cli.logs import alignment_from_option

    if asked is not None:
        return alignment_from_option(asked), None
    if log.alignment is not None:
        return log.alignment, None
    rule = ALIGNMENTS["current"]
    return rule, (
        f"{log.source}: the log does not say which logger wrote it; assuming steps count updates done (from 1) "
        f"and each LR is the one that update trained with (--alignment current); give --alignment to say otherwise"
    )
