"""What ``sched export`` writes, apart from writing it: the columns, the metadata (the run, its
schedulers, a resume's checkpoint and the LR across it), the row limit, and the rows."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from sched_cli.simulator import COLUMNS, Selection
from sched_cli.specs import Spec
from sched_cli.views import Shown, ViewError, shown


@dataclass
class ExportPlan:
    """An export, ready to write: ``chunks(progress)`` computes the rows."""

    views: list[Shown]
    mode: str
    selection: Selection
    columns: list[str]
    meta: dict[str, Any]

    @property
    def batches(self) -> int:
        return sum(v.batches for v in self.views)

    def chunks(self, progress: Callable[[int], None] | None = None) -> Iterator[Any]:
        """The rows, chunk by chunk. The first chunk is computed before this returns: most errors
        show up there, and then standard output gets no half-written table."""
        chunks = itertools.chain.from_iterable(v.rows(self.mode, self.selection, progress) for v in self.views)
        first = next(chunks, None)
        return itertools.chain([] if first is None else [first], chunks)


def export_plan(spec: Spec, mode: str, every: int | None, points: int | None, max_rows: int) -> ExportPlan:
    """What exporting ``spec`` (every batch, every ``every``-th or ``points`` spread) writes;
    a :class:`ViewError` if that is more than ``max_rows`` rows."""
    from sched_cli import __version__

    selection = Selection(every=every, points=points)
    views = [shown(spec, ssr) for ssr in spec.ssrs]
    check_rows(views, selection, max_rows)
    has_lr = spec.run.lr is not None or (spec.before is not None and spec.before.run.lr is not None)
    columns = list(COLUMNS) + (["lr"] if has_lr else []) + (["segment"] if spec.before is not None else [])
    meta: dict[str, Any] = {
        "sched_version": __version__,
        "source": spec.source,
        "mode": mode,
        "max_duration": str(spec.run.max_duration),
        "scaled_max_duration": {f"{v.plan.ssr:g}": str(v.plan.max_duration) for v in views},
        "batches": {f"{v.ssr:g}": v.batches for v in views},
        "dataloader_len": spec.run.dataloader_len,
        "batch_size": spec.run.batch_size,
        "last_batch_size": spec.run.last_batch_size or spec.run.batch_size,
        "geometry": spec.run.geometry.as_dict() if spec.run.geometry else None,
        "seq_len": spec.run.seq_len,
        "step_every": spec.run.step_every,
        "lr": spec.run.lr,
        "ssrs": list(spec.ssrs),
        "schedulers": [describe_scheduler(s) for s in spec.run.schedulers],
        "columns": columns,
    }
    if spec.stop_at is not None:
        meta["stop_at"] = str(spec.stop_at)
    if spec.before is not None:
        meta["resume"] = resume_meta(spec, views, mode)
    return ExportPlan(views, mode, selection, columns, meta)


def resume_meta(spec: Spec, views: list[Shown], mode: str) -> dict[str, Any]:
    """What export records of a resume: BEFORE's spec, the checkpoint, and the LR across it."""
    from sched_cli.resume import jump

    before = spec.before
    assert before is not None
    out: dict[str, Any] = {
        "from": before.source,
        "at": str(spec.resume_at),
        "before": {
            "max_duration": str(before.run.max_duration),
            "ssr": before.ssrs[0],
            "dataloader_len": before.run.dataloader_len,
            "batch_size": before.run.batch_size,
            "last_batch_size": before.run.last_batch_size or before.run.batch_size,
            "seq_len": before.run.seq_len,
            "step_every": before.run.step_every,
            "lr": before.run.lr,
            "schedulers": [describe_scheduler(s) for s in before.run.schedulers],
        },
        "segments": "rows with segment 0 come from the spec in resume.from, segment 1 from this spec",
    }
    for v in views:
        rp = v.resumed
        j = jump(rp, mode)
        ts = rp.restored
        out.setdefault("by_ssr", {})[f"{v.ssr:g}"] = {
            "checkpoint_batch": rp.checkpoint,
            "restored": {
                "epoch": int(ts.epoch),
                "batch": int(ts.batch),
                "sample": int(ts.sample),
                "token": int(ts.token),
                "batch_in_epoch": int(ts.batch_in_epoch),
            },
            f"{j.what}_before_resume": j.before,
            f"{j.what}_after_resume": j.after,
            "first_batch_set_by_after": None if j.after_row is None else rp.checkpoint + j.after_row,
            "jump": j.ratio,
        }
    return out


def check_rows(views: list[Shown], selection: Selection, max_rows: int) -> None:
    """Refuse, before writing anything, an export of more than ``max_rows`` rows, whatever selects
    them (all batches, --every, --points): each breakpoint adds up to three rows, the end one."""
    total = sum(selection.count(v.batches) + 3 * len(v.breakpoints) + 1 for v in views)
    if total <= max_rows:
        return
    over = " over all SSRs" if len(views) > 1 else ""
    if selection.is_all:
        batches = sum(v.batches for v in views)
        raise ViewError(
            f"the run has {batches:,} batches{over}, too many to list one by one (the limit is --max-rows "
            f"{max_rows:,}); pass --every N or --points N (e.g. --points 10000), or raise --max-rows"
        )
    chosen = f"--every {selection.every}" if selection.every is not None else f"--points {selection.points}"
    raise ViewError(
        f"{chosen} gives up to {total:,} rows{over}, more than the limit of --max-rows {max_rows:,}; "
        "choose fewer rows, or raise --max-rows"
    )


def describe_scheduler(scheduler: Any) -> str:
    """A built-in or PyTorch scheduler with its arguments; any other by its name."""
    from sched_cli.schedulers.base import BuiltinScheduler, scheduler_name
    from sched_cli.schedulers.torch_native import TorchScheduler

    if isinstance(scheduler, (BuiltinScheduler, TorchScheduler)):
        return repr(scheduler)
    return scheduler_name(scheduler)
