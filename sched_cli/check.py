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

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from sched_cli.logs import ALIGNMENTS, Alignment, LogError, LoggedLRs
from sched_cli.simulator import Selection, collect
from sched_cli.specs import Spec, SpecError

__all__ = ["DEFAULT_TOLERANCE", "Verdict", "Span", "Explanation", "FitTest", "compare", "planned_lrs", "CheckError"]

#: Relative tolerance: float32 logs (TensorBoard) round to 2**-24 = 6.0e-8; text logs with 7 or
#: more significant digits to 5e-7. 1e-6 covers both; ``--tolerance`` changes it.
DEFAULT_TOLERANCE = 1e-6
#: Logged points a candidate plan is tested on before all of them (:class:`FitTest`).
SAMPLE = 64
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
    #: ``"sample"`` when the log's x counts samples (DeepSpeed's, Megatron's tags), else ``"update"``.
    unit: str = "update"

    @property
    def worst_ratio(self) -> float:
        return self.worst_logged / self.worst_planned if self.worst_planned else float("inf")

    def describe(self) -> str:
        x = "sample" if self.unit == "sample" else "step"
        where = f"{x} {self.first_step:,}" if self.points == 1 else f"{x}s {self.first_step:,}-{self.last_step:,}"
        ratio = f" (x{self.worst_ratio:.3g})" if self.worst_planned else ""
        return (
            f"{where} ({self.points:,} logged); farthest at {x} {self.worst_step:,}: logged "
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
class Explanation:
    """A reason that fits every logged point: what it says, and the plan it names.

    The plan under the explanation is ``spec`` read ``shift`` updates later, at ``ssr`` (``None``:
    the spec's own): a plan one step off is the plan shifted, another base LR the plan with that
    LR, another device count the plan on those devices. ``lrs`` are its LRs at the log's rows, as
    :func:`planned_lrs` gives them (computed once, when the explanation was tested on every point).
    """

    #: The reason in words, as ``sched check`` prints it.
    sentence: str
    #: A few words for a legend: ``--devices 1``, ``--lr 0.0004``, ``one step later``.
    label: str
    spec: Spec
    shift: int = 0
    ssr: float | None = None
    lrs: np.ndarray | None = None


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
    #: The first explanation that fits every logged point, if any (:mod:`sched_cli.check_reasons`).
    explanation: Explanation | None = None
    notes: list[str] = field(default_factory=list)
    #: What the log's x counts: ``"update"`` (steps), or ``"sample"``.
    unit: str = "update"

    @property
    def reason(self) -> str | None:
        return self.explanation.sentence if self.explanation is not None else None

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
        where = f"{int(d['step']):,} samples" if self.unit == "sample" else f"step {int(d['step']):,}"
        return (
            f"check: the run leaves the plan at {where}: logged {d['logged']:.6g}, "
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
            "explained_by": self.explanation.label if self.explanation is not None else None,
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
    ok = (diff <= tolerance * scale + 1e-12 * peak + log.resolution) & ~beyond
    # The relative difference beyond what the log's fixed decimals (if any) round away.
    diff = np.maximum(diff - log.resolution, 0.0) if log.resolution else diff
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
        unit=log.unit,
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
        for span in verdict.spans:
            span.unit = log.unit
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


def rows_of(log: LoggedLRs, alignment: Alignment, spec: Spec | None = None) -> np.ndarray:
    """The plan's update each logged step describes. A log counted in samples (DeepSpeed's
    ``Train/Samples/lr``, Megatron's ``learning-rate vs samples``) is turned into updates through
    ``spec``'s batch: the updates whose samples add up to each logged count."""
    if log.unit == "update":
        return log.steps + alignment.offset
    if log.unit != "sample" or spec is None:
        raise LogError(f"{log.source}: {log.tag} is logged against {log.unit}s; sched checks logs counted in updates")
    return updates_at_samples(spec, log)[0] + alignment.offset


def updates_at_samples(spec: Spec, log: LoggedLRs) -> tuple[np.ndarray, np.ndarray]:
    """For each logged sample count, the updates done when that many samples were seen (the
    largest ``k`` whose samples before update ``k`` are at most the count), and whether the count
    is exactly a boundary between updates. Refused when the plan does not say its batch."""
    from sched_cli.geometry import samples_before

    run = spec.run
    if run.batch_size == 1 and run.geometry is None and run.batch_schedule is None:
        raise LogError(
            f"{log.source}: {log.tag} is logged against samples seen, and {spec.source} does not say how many "
            "samples an update takes; give --batch-size N (the global batch: micro-batch x accumulation x devices)"
        )
    x = log.steps
    schedule = run.batch_schedule
    if _nominal(log):
        k = x // run.batch_size
        return k, k * run.batch_size == x
    if schedule is not None:
        starts = np.asarray(schedule.starts, dtype=np.int64)
        before = np.asarray(schedule.samples_before(starts), dtype=np.int64)
        i = np.searchsorted(before, x, side="right") - 1
        k = starts[i] + (x - before[i]) // np.asarray(schedule.sizes, dtype=np.int64)[i]
    elif run.dataloader_len is not None and run.last_batch_size is not None:
        per_epoch = (run.dataloader_len - 1) * run.batch_size + run.last_batch_size
        within = np.minimum((x % per_epoch) // run.batch_size, run.dataloader_len - 1)
        k = (x // per_epoch) * run.dataloader_len + within
    else:
        k = x // run.batch_size
    done = samples_before(k, run.dataloader_len, run.batch_size, run.last_batch_size, schedule)
    return k, np.asarray(done) == x


def _nominal(log: LoggedLRs) -> bool:
    """Whether the log counts ``train_batch_size`` samples an update whatever the batch held:
    DeepSpeed's engine adds it to ``global_samples`` at every boundary (a short last batch of an
    epoch included); Megatron-LM counts each iteration's global batch (a ramp's too)."""
    return log.alignment is not None and log.alignment.name == "deepspeed"


def steps_of_rows(log: LoggedLRs, alignment: Alignment, spec: Spec, rows: np.ndarray) -> np.ndarray:
    """Where the plan's update ``rows`` fall in the log's own numbering (the inverse of :func:`rows_of`)."""
    updates = np.asarray(rows, dtype=np.int64) - alignment.offset
    if log.unit != "sample":
        return updates
    from sched_cli.geometry import samples_before

    run = spec.run
    if _nominal(log):
        return np.maximum(updates, 0) * run.batch_size
    shape = (run.dataloader_len, run.batch_size, run.last_batch_size, run.batch_schedule)
    return np.asarray(samples_before(np.maximum(updates, 0), *shape))


def check(
    spec: Spec, log: LoggedLRs, alignment: Alignment, tolerance: float = DEFAULT_TOLERANCE
) -> tuple[Verdict, np.ndarray]:
    """The verdict of one log against one plan, and the planned LRs at the logged points."""
    planned, _ = planned_lrs(spec, rows_of(log, alignment, spec))
    verdict = compare(log, planned, alignment, tolerance)
    if log.unit == "sample":
        _, exact = updates_at_samples(spec, log)
        if not exact.all():
            first = int(log.steps[np.argmin(exact)])
            verdict.notes.append(
                f"{log.source}: {int((~exact).sum()):,} logged sample counts (the first {first:,}) fall inside an "
                f"update of the plan ({spec.run.batch_size:,} samples each): the run's batch is not the plan's"
            )
    return verdict, planned


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


class FitTest:
    """Whether a candidate plan fits every logged point: a sample of them first (:data:`SAMPLE`
    spread over the log, with its largest LR and its first divergence), then all of them, so that
    on a long log a plan that fails costs a few small simulations, not a replay of the run."""

    def __init__(
        self, log: LoggedLRs, alignment: Alignment, tolerance: float, first_row: int | None, spec: Spec
    ) -> None:
        self.log, self.alignment, self.tolerance = log, alignment, tolerance
        self.rows = rows_of(log, alignment, spec)
        n = len(self.rows)
        self.sample: np.ndarray | None = None
        if n > 2 * SAMPLE:
            extra = [int(np.argmax(np.abs(log.lrs)))]
            if first_row is not None:
                extra.append(min(int(np.searchsorted(self.rows, first_row)), n - 1))
            self.sample = np.unique(np.concatenate([np.linspace(0, n - 1, SAMPLE).astype(np.int64), extra]))
        #: The LRs at every logged row of each plan that fitted them all, kept for its explanation.
        self.fitted: list[tuple[Spec, int, float | None, np.ndarray]] = []

    def fits(self, spec: Spec | None, shift: int = 0, ssr: float | None = None) -> bool:
        """Whether ``spec`` read ``shift`` updates later, at ``ssr``, fits every logged point (``None``:
        no plan, no fit); a plan that cannot be simulated does not fit."""
        if spec is None:
            return False
        from sched_cli.schedulers.base import ScheduleError

        try:
            if self.sample is not None and not self._fits(spec, self.sample, shift, ssr):
                return False
            return self._fits(spec, None, shift, ssr)
        except (SpecError, ScheduleError, ValueError):
            return False

    def _fits(self, spec: Spec, index: np.ndarray | None, shift: int, ssr: float | None) -> bool:
        log, rows = self.log, self.rows
        if log.unit != "update":  # a log in samples: turned into updates through each candidate's batch
            rows = rows_of(log, self.alignment, spec)
        if index is not None:
            log, rows = replace(log, steps=log.steps[index], lrs=log.lrs[index], notes=[]), rows[index]
        planned, _ = planned_lrs(spec, rows + shift, ssr)
        ok = compare(log, planned, self.alignment, self.tolerance).ok
        if ok and index is None:
            self.fitted.append((spec, shift, ssr, planned))
        return ok

    def explained(self, found: Explanation) -> Explanation:
        """``found`` with its plan's LRs at every logged row: those its test computed."""
        for spec, shift, ssr, planned in self.fitted:
            if spec is found.spec and (shift, ssr) == (found.shift, found.ssr):
                return replace(found, lrs=planned)
        return replace(found, lrs=planned_lrs(found.spec, self.rows + found.shift, found.ssr)[0])
