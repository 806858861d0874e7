"""A spec at one SSR as the commands show it (:class:`Shown`): a plain run, one stopped early, or a resumed run."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from sched_cli import resume as resumes
from sched_cli.schedulers.base import Breakpoint
from sched_cli.simulator import (
    Plan,
    Run,
    Selection,
    Timeline,
    breakpoints_in_force,
    plan,
    simulate_plan,
)
from sched_cli.specs import Spec

if TYPE_CHECKING:  # pragma: no cover
    pass


__all__ = ["AXIS_NAMES", "ProgressFactory", "ViewError", "Shown", "shown", "time_text", "has_custom_schedulers"]


#: Axis titles for each unit a chart's x axis may use.
AXIS_NAMES = {
    "ep": "epochs (ep)",
    "ba": "batches (ba)",
    "sp": "samples (sp)",
    "tok": "tokens (tok)",
    "dur": "fraction of run (dur)",
}


#: Trainers whose rows are optimizer steps (a Hugging Face or timm run's updates), not batches.
_UPDATE_TRAINERS = ("hf", "timm")


#: ``progress(spec, total, label)``: a context giving a callback for a progress bar, or None.
ProgressFactory = Callable[[Spec, int, str], AbstractContextManager[Any]]


class ViewError(ValueError):
    """An option that does not fit the specs it is asked to show (an LR axis without an LR...)."""


@dataclass
class Shown:
    """One spec at one SSR as the commands show it: a plain run, one stopped early (``--stop-at``),
    or a resumed run (``resume:``), whose rows are BEFORE's up to the checkpoint then AFTER's.

    In every case row ``i`` is batch ``i`` of the run (a resumed run's batch counter continues
    from the checkpoint).
    """

    spec: Spec
    ssr: float
    plan: Plan
    resumed: resumes.ResumedPlan | None = None
    #: Where a run stopped early stops (its batch count), when it does.
    stopped: int | None = None

    @property
    def batches(self) -> int:
        return self.resumed.batches if self.resumed is not None else self.plan.batches

    @property
    def breakpoints(self) -> list[tuple[Breakpoint, int]]:
        """Each breakpoint and the row where it falls, across both segments of a resumed run."""
        if self.resumed is None:
            return self.plan.breakpoints
        k = self.resumed.checkpoint
        return self.resumed.before.breakpoints + [(bp, k + j) for bp, j in self.resumed.after.breakpoints]

    def breakpoints_in(self, mode: str) -> list[tuple[Breakpoint, int]]:
        """The breakpoints that shape what ``mode`` shows (under the Trainer, only those of the
        scheduler in force), and the row where each falls."""
        if self.resumed is None:
            return breakpoints_in_force(self.plan, mode)  # type: ignore[arg-type]
        k = self.resumed.checkpoint
        after = breakpoints_in_force(self.resumed.after, mode)  # type: ignore[arg-type]
        return breakpoints_in_force(self.resumed.before, mode) + [(bp, k + j) for bp, j in after]  # type: ignore[arg-type]

    def rows(
        self, mode: str, selection: Selection | None = None, progress: Callable[[int], None] | None = None
    ) -> Iterator[dict[str, np.ndarray]]:
        if self.resumed is not None:
            return resumes.simulate_resumed(
                self.resumed.after.run,
                self.spec.resume,  # type: ignore[arg-type]
                self.ssr,
                mode=mode,  # type: ignore[arg-type]
                selection=selection,
                progress=progress,
                planned=self.resumed,
            )
        return simulate_plan(self.plan, mode=mode, selection=selection, progress=progress)  # type: ignore[arg-type]

    def counters_at(self, row: int) -> dict[str, np.ndarray]:
        """The counters at the start of row ``row`` (no scheduler evaluated)."""
        rp = self.resumed
        if rp is None or row < rp.checkpoint:
            return _row_at(self.plan.run if rp is None else rp.before.run, row)
        run = rp.after.run
        t = rp.segment.shift(run, Timeline.at_batch_starts(run, np.asarray([rp.segment.first + row - rp.checkpoint])))
        return {"batch": t.batch, "epoch": t.epoch, "sample": t.sample, "token": t.token}

    def marks(self, mode: str) -> list[tuple[int, str]]:
        """Rows to mark beyond the breakpoints: the resume (with the LR jump) and an early stop."""
        out: list[tuple[int, str]] = []
        if self.resumed is not None:
            j = resumes.jump(self.resumed, mode)  # type: ignore[arg-type]
            ratio = j.ratio
            out.append((self.resumed.checkpoint, "resume" + ("" if ratio is None else f" (x{ratio:.3g})")))
        if self.stopped is not None:
            out.append((self.stopped - 1, "stop"))
        return out


def shown(spec: Spec, ssr: float) -> Shown:
    """Plan a spec at one SSR, with its resume and early stop."""
    if spec.resume is not None:
        rp = resumes.plan_resumed(spec.run, spec.resume, ssr)
        stopped = None
        if spec.stop_at is not None:
            rp = resumes.stop_resumed(rp, spec.stop_at)
            stopped = rp.batches
        return Shown(spec, ssr, rp.after, rp, stopped)
    p = plan(spec.run, ssr)
    if spec.stop_at is not None:
        p = resumes.stop(p, spec.stop_at)
        return Shown(spec, ssr, p, None, p.batches)
    return Shown(spec, ssr, p)


def _whole(view: Shown) -> Plan:
    """A plan standing for a whole resumed run on an x axis: its batches, BEFORE's loader."""
    rp = view.resumed
    assert rp is not None
    return Plan(run=rp.before.run, ssr=view.ssr, max_duration=rp.after.max_duration, batches=rp.batches)


def _row_at(run: Run, batch: int) -> dict[str, np.ndarray]:
    t = Timeline.at_batch_starts(run, np.asarray([batch]))
    return {"batch": t.batch, "epoch": t.epoch, "sample": t.sample, "token": t.token}


def time_text(time: Any) -> str:
    """A time as a person writes it: ``4e12tok`` rather than ``4000000000000tok``."""
    value = time.value
    text = f"{value}" if abs(value) < 1e7 else f"{value:.6g}".replace("e+", "e")
    return f"{text}{time.unit.value}"


def has_custom_schedulers(spec: Spec) -> bool:
    """Whether a scheduler of ``spec`` is evaluated one call at a time (not a built-in one), so
    that a long run deserves a progress bar."""
    from sched_cli.schedulers.base import BuiltinScheduler

    return any(not isinstance(s, BuiltinScheduler) for s in spec.run.schedulers)
