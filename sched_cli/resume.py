"""A run resumed from a checkpoint, continued the way Composer 0.32's ``Trainer(load_path=...)`` does.

A resumed run is two segments. Segment 0 is BEFORE's rows up to the checkpoint at batch *K*
(BEFORE's own rows, in either mode). Segment 1 is AFTER's schedulers continuing from the
timestamp restored from the checkpoint, under AFTER's geometry and AFTER's (SSR-scaled)
``max_duration``: a :class:`~sched_cli.simulator.Segment` of AFTER's own timeline with the
restored counters added. What Composer does, read from its source and checked against a real
Trainer (``docs/resume.md``):

- The checkpoint holds the timestamp (``epoch``, ``batch``, ``sample``, ``token``,
  ``batch_in_epoch``) but not ``max_duration``: AFTER's ``max_duration`` is scaled by AFTER's SSR
  when the Trainer is built, once, and never by BEFORE's.
- A checkpoint taken every ``N ba`` (or ``sp``, ``tok``) is saved after the batch, before the
  epoch ends: at an epoch's last batch the restored epoch is still the finished one and
  ``batch_in_epoch == dataloader_len``. One taken every ``N ep`` is saved after the epoch ends.
- On resume the Trainer skips the first ``batch_in_epoch`` batches of AFTER's loader in the
  restored epoch. If AFTER's loader is longer, the epoch goes on; if not, no batch trains in it,
  the epoch ends (epoch-stepped schedulers step) and the next starts.
- The schedulers are AFTER's, rebuilt, and stateless: from their first step on, the LR is the
  last one's alpha at the timestamp of the step. Until then the optimizer holds the LR saved in
  the checkpoint (what BEFORE's schedulers last set). And the ``LambdaLR`` state in the
  checkpoint restores BEFORE's base LR (``base_lrs``): AFTER's ``lr`` is ignored by the Trainer.
- Training stops when the timestamp reaches AFTER's ``max_duration``; if the restored timestamp
  has already reached it, ``Trainer.fit()`` raises.

``formula`` mode shows the schedule as written: AFTER's formulas at each batch's restored
timestamp, times AFTER's ``lr``. ``trainer`` mode shows what the optimizer really holds.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np

from sched_cli.schedulers.base import BuiltinScheduler
from sched_cli.schedulers.torch_native import TorchScheduler
from sched_cli.simulator import (
    DEFAULT_CHUNK,
    Mode,
    Plan,
    Run,
    Segment,
    Selection,
    SimulationError,
    Timeline,
    first_batch_at,
    plan,
    simulate_plan,
)
from sched_cli.time import Time, Timestamp, TimeUnit

__all__ = [
    "Resume",
    "ResumedPlan",
    "Jump",
    "plan_resumed",
    "simulate_resumed",
    "stop_batches",
    "jump",
    "notes",
    "first_set_row",
]


@dataclass(frozen=True)
class Resume:
    """Where a run was resumed from: the run BEFORE the checkpoint, at its SSR, and the checkpoint.

    ``at`` is any time of BEFORE's (``ba``, ``sp``, ``tok``, ``ep``, ``dur``): the checkpoint is
    the first batch boundary that reaches it (an ``ep`` checkpoint is taken after the epoch ends).
    """

    before: Run
    at: Time
    before_ssr: float = 1.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "at", Time.from_input(self.at))


@dataclass
class ResumedPlan:
    """A resumed run at one SSR: both segments planned, the checkpoint and the restored timestamp."""

    before: Plan
    after: Plan
    checkpoint: int
    restored: Timestamp
    segment: Segment
    saved_multiplier: float
    warnings: list[str] = field(default_factory=list)
    #: Where BEFORE's warmup ends (its batch), if it has one.
    before_warmup_end: int | None = None
    #: Where AFTER's warmup ends, as a row of segment 1 (<= 0: it had ended by the resume).
    after_warmup_end: int | None = None

    @property
    def batches(self) -> int:
        """Rows of the whole resumed run: BEFORE's up to the checkpoint, then AFTER's."""
        return self.checkpoint + self.after.batches


def _refuse_torch(run: Run, which: str) -> None:
    if any(isinstance(s, TorchScheduler) for s in run.schedulers):
        raise SimulationError(
            f"{which} uses a PyTorch scheduler: resuming one restores its own state, which sched does not model"
        )


def _checkpoint_batch(p: Plan, at: Time) -> int:
    """The batch boundary at which the checkpoint for ``at`` is saved (batches BEFORE trained)."""
    run = p.run
    if at.unit is TimeUnit.EPOCH:
        if not run.dataloader_len:
            raise SimulationError(f"resume point {at} is in epochs, but BEFORE has no dataloader_len to convert it")
        k = int(at.value) * run.dataloader_len
    elif at.unit in (TimeUnit.BATCH, TimeUnit.SAMPLE, TimeUnit.TOKEN, TimeUnit.DURATION):
        k = first_batch_at(p, at)
        if k is None:
            raise SimulationError(f"resume point {at} does not convert to a batch of BEFORE")
    else:
        raise SimulationError(f"resume point {at} must be in ba, sp, tok, ep or dur, not {at.unit.value!r}")
    if k < 1:
        raise SimulationError(f"resume point {at} is at the very start of BEFORE: there is nothing to resume")
    if k > p.batches:
        raise SimulationError(
            f"resume point {at} (batch {k:,}) is past the end of BEFORE, which trains {p.batches:,} batches "
            f"(max_duration {p.max_duration}); no such checkpoint exists"
        )
    return k


def _restored(run: Run, k: int, by_epoch: bool) -> Timestamp:
    """The timestamp saved with a checkpoint after ``k`` batches of ``run``."""
    t = Timeline.at_batch_starts(run, np.asarray([k]))
    sample, token = int(t.sample[0]), int(t.token[0])
    dl = run.dataloader_len
    if not dl:
        epoch, in_epoch = 0, k
    elif by_epoch:
        epoch, in_epoch = k // dl, 0
    elif k % dl == 0:
        # Saved at BATCH_CHECKPOINT, before the epoch ends: the epoch counter has not moved on.
        epoch, in_epoch = k // dl - 1, dl
    else:
        epoch, in_epoch = k // dl, k % dl
    return Timestamp(epoch=epoch, batch=k, sample=sample, token=token, batch_in_epoch=in_epoch)


def plan_resumed(after: Run, resume: Resume, ssr: float = 1.0) -> ResumedPlan:
    """Plan BEFORE up to the checkpoint and AFTER from the restored timestamp to its end.

    Raises :class:`SimulationError` where Composer would fail: a checkpoint past BEFORE's end or
    a time that does not convert, and a restored timestamp that has already reached AFTER's
    (scaled) ``max_duration`` (``Trainer.fit()`` raises "No training would occur").
    """
    before = resume.before
    _refuse_torch(before, "BEFORE")
    _refuse_torch(after, "AFTER")
    for run, which in ((before, "BEFORE"), (after, "AFTER")):
        if run.trainer != "composer":
            raise SimulationError(
                f"{which} is a {run.trainer} run: resuming is modelled as Composer's Trainer(load_path=...) does it"
            )
    # One base LR for both segments where only one spec gives it.
    if before.lr is None and after.lr is not None:
        before = dataclasses.replace(before, lr=after.lr)
    if after.lr is None and before.lr is not None:
        after = dataclasses.replace(after, lr=before.lr)
    pb = plan(before, resume.before_ssr)
    k = _checkpoint_batch(pb, resume.at)
    restored = _restored(before, k, resume.at.unit is TimeUnit.EPOCH)

    md = after.scaled_max_duration(ssr)
    elapsed = restored.get(md.unit)
    if md.value <= elapsed.value:
        raise SimulationError(
            f"resume point {resume.at} restores {md.unit.value} {elapsed.value:,}, which has already reached "
            f"AFTER's max_duration {md}: Composer's Trainer.fit() refuses (no training would occur); "
            "give AFTER a longer max_duration"
        )
    dl = after.dataloader_len
    in_epoch = int(restored.batch_in_epoch)
    first = in_epoch if not dl or in_epoch < dl else dl
    start = Timeline.at_batch_starts(after, np.asarray([first]))
    segment = Segment(
        first=first,
        epoch=int(restored.epoch),
        batch=k - first,
        sample=int(restored.sample) - int(start.sample[0]),
        token=int(restored.token) - int(start.token[0]),
        base_lr=before.lr,
    )
    end = _own_batch_reaching(after, segment, md)
    n = max(end - first, 0)
    warnings = []
    if n == 0:
        warnings.append(
            f"no batch trains after the resume at {resume.at}: the restored epoch ends with AFTER's shorter "
            f"loader ({dl} batches) and AFTER's max_duration {md} is then reached"
        )
    pa = Plan(run=after, ssr=ssr, max_duration=md, batches=n)
    after_warmup = None
    for scheduler in after.schedulers:
        if isinstance(scheduler, BuiltinScheduler):
            for bp in scheduler.breakpoints(scheduler.resolve(pa.shape, ssr)):
                own = _own_batch_reaching(after, segment, bp.time)
                if own is None:
                    continue
                if bp.label == "warmup end" and after_warmup is None:
                    after_warmup = own - first
                if 0 <= own - first < n:
                    pa.breakpoints.append((bp, own - first))
    pa.breakpoints.sort(key=lambda item: item[1])
    before_warmup = next((b for bp, b in pb.breakpoints if bp.label == "warmup end"), None)

    saved = _saved_multiplier(pb, k, resume.at.unit is TimeUnit.EPOCH)
    segment = dataclasses.replace(segment, initial=saved)
    pb = dataclasses.replace(pb, batches=k, breakpoints=[(bp, b) for bp, b in pb.breakpoints if b < k])
    return ResumedPlan(
        before=pb,
        after=pa,
        checkpoint=k,
        restored=restored,
        segment=segment,
        saved_multiplier=saved,
        warnings=warnings,
        before_warmup_end=before_warmup,
        after_warmup_end=after_warmup,
    )


def _own_batch_reaching(run: Run, segment: Segment, time: Time) -> int | None:
    """The first of the run's own batches whose restored start-of-batch counter reaches ``time``."""
    offset = {
        TimeUnit.EPOCH: segment.epoch,
        TimeUnit.BATCH: segment.batch,
        TimeUnit.SAMPLE: segment.sample,
        TimeUnit.TOKEN: segment.token,
    }.get(time.unit)
    if offset is None:
        return None
    value = time.value - offset
    if value <= 0:
        return 0
    return run.unscaled_shape().first_batch_reaching(Time(value, time.unit))


def _saved_multiplier(p: Plan, k: int, by_epoch: bool) -> float:
    """What BEFORE's optimizer held when the checkpoint after ``k`` batches was saved, over its base
    LR: the LR Composer's Trainer would have trained batch ``k`` with. Stepping every epoch, a
    checkpoint saved at an epoch's last batch comes before the epoch's step: batch ``k - 1``'s."""
    run = p.run
    row = k
    if run.step_every == "epoch" and not by_epoch and run.dataloader_len and k % run.dataloader_len == 0:
        row = k - 1
    # The row may be one past BEFORE's end (a checkpoint at the end of training): the Trainer
    # stepped its schedulers after the last batch all the same.
    extended = dataclasses.replace(p, batches=max(p.batches, row + 1))
    rows = next(simulate_plan(extended, mode="trainer", selection=Selection(batches=(row,))))
    return float(rows["multiplier"][0])


def simulate_resumed(
    after: Run,
    resume: Resume,
    ssr: float = 1.0,
    *,
    mode: Mode = "formula",
    selection: Selection | None = None,
    chunk: int = DEFAULT_CHUNK,
    progress: Callable[[int], None] | None = None,
    planned: ResumedPlan | None = None,
) -> Iterator[dict[str, np.ndarray]]:
    """The rows of the whole resumed run, in chunks, with a ``segment`` column (0 before, 1 after).

    ``selection`` applies to each segment (``points`` shared out by their lengths); the last row
    before the resume and the first after it are always included.
    """
    rp = planned or plan_resumed(after, resume, ssr)
    selection = selection or Selection()
    sel_before = sel_after = selection
    if selection.batches is not None:
        # Batches of the resumed run: BEFORE's below the checkpoint, AFTER's rows from it on.
        chosen = sorted(set(selection.batches))
        if chosen and (chosen[0] < 0 or chosen[-1] >= rp.batches):
            raise SimulationError(f"batches must lie in 0..{rp.batches - 1}")
        sel_before = Selection(batches=tuple(b for b in chosen if b < rp.checkpoint))
        sel_after = Selection(batches=tuple(b - rp.checkpoint for b in chosen if b >= rp.checkpoint))
    if selection.points is not None:
        share = max(2, round(selection.points * rp.checkpoint / max(rp.batches, 1)))
        sel_before = Selection(points=min(share, selection.points))
        sel_after = Selection(points=max(2, selection.points - share))
    segment = rp.segment if mode == "trainer" else dataclasses.replace(rp.segment, base_lr=None)

    def tagged(chunks: Iterator[dict[str, np.ndarray]], index: int) -> Iterator[dict[str, np.ndarray]]:
        for c in chunks:
            c["segment"] = np.full(len(c["batch"]), index, dtype=np.int64)
            yield c

    after_progress = None if progress is None else (lambda n: progress(rp.checkpoint + n))
    if sel_before.batches != ():
        yield from tagged(simulate_plan(rp.before, mode=mode, selection=sel_before, chunk=chunk, progress=progress), 0)
    if rp.after.batches and sel_after.batches != ():
        chunks = simulate_plan(
            rp.after, mode=mode, selection=sel_after, segment=segment, chunk=chunk, progress=after_progress
        )
        yield from tagged(chunks, 1)


def stop_batches(p: Plan, at: Time) -> int:
    """How many batches a run stopped early at ``at`` trains: up to the first batch boundary that
    reaches it (``--stop-at``), at most the whole run."""
    if at.unit is TimeUnit.EPOCH:
        if not p.run.dataloader_len:
            raise SimulationError(f"stop point {at} is in epochs, but the run has no dataloader_len")
        k = int(at.value) * p.run.dataloader_len
    else:
        k = first_batch_at(p, at)
        if k is None:
            raise SimulationError(f"stop point {at} does not convert to a batch of this run")
    if k < 1:
        raise SimulationError(f"stop point {at} is at the very start of the run: nothing would train")
    if k > p.batches:
        _past_the_end(at, p.batches, p.ssr)
    return min(k, p.batches)


class StopPastEndWarning(UserWarning):
    """``--stop-at`` names a point after the run's last batch: the run trains to its end."""


def _past_the_end(at: Time, batches: int, ssr: float) -> None:
    # Not an error: compared across SSRs, one stop point can fall inside one run and past another.
    warnings.warn(
        f"stop point {at} is past the end of the run at ssr {ssr:g} ({batches:,} batches): it trains to its end",
        StopPastEndWarning,
        stacklevel=3,
    )


@dataclass(frozen=True)
class Jump:
    """The LR (or multiplier, without a base LR) of the last batch before the resume and of the
    first batch after it whose LR AFTER's schedulers set (``after_row`` of segment 1; in trainer
    mode the first batch after a resume still trains with the LR saved in the checkpoint)."""

    before: float
    after: float | None
    after_row: int | None
    what: str  # "lr" or "multiplier"

    @property
    def ratio(self) -> float | None:
        if self.after is None or self.before == 0:
            return None
        return self.after / self.before


def first_set_row(rp: ResumedPlan, mode: Mode) -> int | None:
    """The first row of segment 1 whose LR AFTER's schedulers set (``None``: none of them)."""
    n = rp.after.batches
    if mode == "formula":
        row = 0
    elif rp.after.run.step_every == "batch":
        row = 1
    else:
        dl = rp.after.run.dataloader_len
        first = rp.segment.first
        row = 0 if dl and first >= dl else (dl - first if dl else n)
    return row if row < n else None


def jump(rp: ResumedPlan, mode: Mode) -> Jump:
    """What the LR does across the resume (see :class:`Jump`)."""
    segment = rp.segment if mode == "trainer" else dataclasses.replace(rp.segment, base_lr=None)
    last = next(simulate_plan(rp.before, mode=mode, selection=Selection(batches=(rp.checkpoint - 1,))))
    what = "lr" if "lr" in last else "multiplier"
    row = first_set_row(rp, mode)
    after = None
    if row is not None:
        rows = next(simulate_plan(rp.after, mode=mode, selection=Selection(batches=(row,)), segment=segment))
        after = float(rows[what][0])
    return Jump(before=float(last[what][0]), after=after, after_row=row, what=what)


def notes(rp: ResumedPlan, mode: Mode = "trainer") -> list[str]:
    """Warnings about a resume: a jump of the LR by more than 2x, a warmup that restarts or vanishes."""
    out = list(rp.warnings)
    j = jump(rp, mode)
    at = f"the resume at batch {rp.checkpoint:,}"
    ratio = j.ratio
    if ratio is not None and (ratio > 2 or ratio < 0.5):
        out.append(
            f"{at} makes the {j.what} jump from {j.before:.6g} to {j.after:.6g} (x{ratio:.3g}) "
            f"at batch {rp.checkpoint + (j.after_row or 0):,}"
        )
    before_warm = rp.before_warmup_end is not None and rp.before_warmup_end > rp.checkpoint
    after_warm = rp.after_warmup_end is not None and rp.after_warmup_end > 0
    if after_warm and not before_warm:
        out.append(
            f"{at} restarts a warmup: AFTER's warmup ends at batch {rp.checkpoint + rp.after_warmup_end:,}, "
            "so the LR climbs again from where AFTER's formula puts it"
        )
    if before_warm and not after_warm:
        out.append(
            f"{at} makes BEFORE's warmup vanish: it was still warming up (until batch {rp.before_warmup_end:,}) "
            "and AFTER's schedule has no warmup left at the restored timestamp"
        )
    return out


def stop(p: Plan, at: Time) -> Plan:
    """The plan of a run stopped early at ``at`` (``--stop-at``): the same schedule, fewer batches."""
    k = stop_batches(p, at)
    return dataclasses.replace(p, batches=k, breakpoints=[(bp, b) for bp, b in p.breakpoints if b < k])


def stop_resumed(rp: ResumedPlan, at: Time) -> ResumedPlan:
    """A resumed run stopped early at ``at``, a time of the resumed run (counters as restored)."""
    if at.unit is TimeUnit.DURATION:
        own = rp.segment.first + int(at.value * rp.after.batches)
    else:
        own = _own_batch_reaching(rp.after.run, rp.segment, at)
    if own is None:
        raise SimulationError(f"stop point {at} does not convert to a batch of the resumed run")
    rows = own - rp.segment.first
    if rows < 1:
        raise SimulationError(
            f"stop point {at} comes before the first batch after the resume (batch {rp.checkpoint:,}); "
            "stop a resumed run after its resume point"
        )
    if rows > rp.after.batches:
        _past_the_end(at, rp.segment.first + rp.after.batches, rp.after.ssr)
    after = dataclasses.replace(
        rp.after,
        batches=min(rows, rp.after.batches),
        breakpoints=[(bp, b) for bp, b in rp.after.breakpoints if b < rows],
    )
    return dataclasses.replace(rp, after=after)


def batch_reaching(rp: ResumedPlan, time: Time) -> int | None:
    """The first batch of the resumed run whose start has reached ``time`` (``dur``: a fraction of
    the whole resumed run), counting as the run counted: BEFORE's counters before the checkpoint,
    the restored ones after it."""
    if time.unit is TimeUnit.DURATION:
        return int(time.value * rp.batches)
    before = first_batch_at(rp.before, time)
    if before is not None and before < rp.checkpoint:
        return before
    own = _own_batch_reaching(rp.after.run, rp.segment, time)
    if own is None:
        return None
    return rp.checkpoint + max(own - rp.segment.first, 0)
