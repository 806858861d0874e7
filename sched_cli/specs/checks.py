"""Checks beyond validity, behind ``validate`` and the warnings of every command: a warmup that
never ends, milestones inside it, the Trainer's replay departing from the formula, a resume
that jumps."""

from __future__ import annotations

import warnings
from typing import Any

from sched_cli.schedulers.base import BuiltinScheduler, ScheduleError, scheduler_name
from sched_cli.schedulers.torch_native import TorchScheduler
from sched_cli.simulator import Run, plan
from sched_cli.specs.types import Spec
from sched_cli.specs.values import SpecError
from sched_cli.time import TimeStringError


# -- checks beyond validity ----------------------------------------------------------------------
def check(spec: Spec, ssrs: tuple[float, ...] | None = None) -> list[str]:
    """Resolve every scheduler at every SSR (raising :class:`SpecError` on a Composer error) and
    return warnings: zero warmup, milestones inside the warmup, trainer replay differing."""
    notes: list[str] = [" ".join(note.split()) for note in spec.notes]
    for ssr in ssrs or spec.ssrs:
        for scheduler in spec.run.schedulers:
            if isinstance(scheduler, TorchScheduler):
                try:
                    scheduler.check_ssr(ssr)
                except ScheduleError as exc:
                    raise SpecError(f"{spec.source}: {exc}") from None
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                p = plan(spec.run, ssr)
            except (ScheduleError, TimeStringError) as exc:
                raise SpecError(f"{spec.source}: at ssr {ssr:g}: {exc}") from None
            past_the_end = _warmup_past_the_end(spec.run, p)
        for w in caught:
            # The whole message, as one line: the CLI prints each warning on one line.
            note = " ".join(str(w.message).split())
            if note not in notes:
                notes.append(note)
        if past_the_end and past_the_end not in notes:
            notes.append(past_the_end)
        for i, scheduler in enumerate(spec.run.schedulers):
            if (
                isinstance(scheduler, BuiltinScheduler)
                and hasattr(scheduler, "milestones")
                and hasattr(scheduler, "t_warmup")
            ):
                r = scheduler.resolve(p.shape, ssr)
                inside = [str(m) for m in r.milestones if m.unit is r.t_warmup.unit and m.value < r.t_warmup.value]
                note = (
                    f"schedulers[{i}]: milestones {', '.join(inside)} fall inside the warmup (ends {r.t_warmup}); "
                    "they take effect only once it ends"
                )
                if inside and note not in notes:
                    notes.append(note)
            note = _hf_warmup_note(scheduler, p, ssr)
            if note and note not in notes:
                notes.append(note)
    notes.extend(replay_notes(spec.run, (ssrs or spec.ssrs)[0]))
    notes.extend(resume_notes(spec, ssrs))
    return notes


def resume_notes(spec: Spec, ssrs: tuple[float, ...] | None = None) -> list[str]:
    """Check a resume (and an early stop) at every SSR: errors where Composer's Trainer would fail,
    warnings where the LR jumps by more than 2x or a warmup restarts or vanishes."""
    from sched_cli import resume as resumes

    notes: list[str] = []
    for ssr in ssrs or spec.ssrs:
        try:
            if spec.resume is not None:
                rp = resumes.plan_resumed(spec.run, spec.resume, ssr)
                if spec.stop_at is not None:
                    resumes.stop_resumed(rp, spec.stop_at)
                at = f" (ssr {ssr:g})" if len(ssrs or spec.ssrs) > 1 else ""
                for note in resumes.notes(rp, "trainer"):
                    if note + at not in notes:
                        notes.append(note + at)
            elif spec.stop_at is not None:
                resumes.stop(plan(spec.run, ssr), spec.stop_at)
        except (ScheduleError, TimeStringError) as exc:
            raise SpecError(f"{spec.source}: at ssr {ssr:g}: {exc}") from None
    return notes


def _hf_warmup_note(scheduler: Any, p: Any, ssr: float) -> str | None:
    """A Hugging Face schedule's warning about a warmup that takes most of the run."""
    from sched_cli.schedulers.hf import HF_SCHEDULERS

    if not isinstance(scheduler, tuple(HF_SCHEDULERS.values())):
        return None
    return scheduler.warmup_note(scheduler.resolve(p.shape, ssr))


def _warmup_past_the_end(run: Run, p: Any) -> str | None:
    """A warning when a scheduler's warmup ends at or after the run's end: the LR never reaches
    its peak, and the multiplier the run does reach is said."""
    import numpy as np

    from sched_cli.simulator import Selection, collect, simulate

    for i, scheduler in enumerate(run.schedulers):
        # Hugging Face's schedules say it in their own words (warmup_note), in updates.
        if not isinstance(scheduler, BuiltinScheduler) or hasattr(scheduler, "warmup_note"):
            continue
        for bp in scheduler.breakpoints(scheduler.resolve(p.shape, p.ssr)):
            if bp.label != "warmup end":
                continue
            batch = run.unscaled_shape().first_batch_reaching(bp.time)
            if batch is not None and batch < p.batches:
                continue
            rows = collect(simulate(run, p.ssr, mode="formula", selection=Selection(points=2000)))
            peak = int(np.argmax(rows["multiplier"]))
            where = f"schedulers[{i}]: " if len(run.schedulers) > 1 else ""
            return (
                f"{where}the warmup ends at {bp.time} but the run ends at {p.max_duration}"
                f"{f' (ssr {p.ssr:g})' if p.ssr != 1 else ''}: the LR never reaches its peak, the multiplier "
                f"peaks at {rows['multiplier'][peak]:.4g} (batch {int(rows['batch'][peak]):,}); "
                "shorten t_warmup or lengthen max_duration"
            )
    return None


def replay_notes(run: Run, ssr: float = 1.0) -> list[str]:
    """Where the Trainer's replay departs from the formula, in words and by how much."""
    notes = []
    if run.step_every == "epoch" and run.dataloader_len is None:
        notes.append(
            "step_every is epoch but the run has no dataloader_len, so no epoch ever ends and the "
            "schedulers never step after the first batch; set dataloader_len or step_every: batch"
        )
    if len(run.schedulers) < 2:
        return notes
    last = scheduler_name(run.schedulers[-1])
    notes.append(
        f"{len(run.schedulers)} schedulers: the formula multiplies them, but Composer's Trainer gives each its own "
        f"LambdaLR and only the last ({last}) sets the LR{_largest_gap(run, ssr)}; "
        "use --as-trainer to see what the Trainer applies"
    )
    return notes


def _largest_gap(run: Run, ssr: float) -> str:
    """Where, over the run, the formula and the Trainer's replay differ the most."""
    import numpy as np

    from sched_cli.simulator import Selection, collect, simulate

    selection = Selection(points=2000)
    formula = collect(simulate(run, ssr, mode="formula", selection=selection))
    trainer = collect(simulate(run, ssr, mode="trainer", selection=selection))
    gap = np.abs(formula["multiplier"] - trainer["multiplier"])
    i = int(np.argmax(gap))
    if gap[i] == 0:
        return ""
    return (
        f" (at ssr {ssr:g} they differ by up to {gap[i]:.3g}: at batch {int(formula['batch'][i]):,} the formula "
        f"gives {formula['multiplier'][i]:.4g}, the Trainer {trainer['multiplier'][i]:.4g})"
    )
