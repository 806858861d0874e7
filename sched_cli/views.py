"""What the commands show, computed from specs: chart curves and the batches a table lists.

This sits between the simulator and the renderers: it runs specs through the simulator and hands
the renderers arrays and labels, so that the CLI only parses options and prints.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sched_cli import resume as resumes
from sched_cli.render import Chart, Curve
from sched_cli.render.tables import Column, Table, compact_text, compact_time
from sched_cli.schedulers.base import Breakpoint
from sched_cli.simulator import (
    Plan,
    Run,
    Selection,
    Timeline,
    breakpoints_in_force,
    collect,
    end_of_run,
    first_batch_at,
    plan,
    simulate,
    simulate_plan,
)
from sched_cli.specs import Spec, short_expression
from sched_cli.time import Time, TimeStringError, TimeUnit

if TYPE_CHECKING:  # pragma: no cover
    from sched_cli.render.html import Report, SpecText
    from sched_cli.render.html import Table as HtmlTable

__all__ = [
    "ViewError",
    "AXIS_NAMES",
    "chart",
    "spec_labels",
    "curve_labels",
    "chart_title",
    "x_values",
    "batches_at",
    "place_times",
    "default_batches",
    "table_view",
    "summary_view",
    "scheduler_table",
    "END_OF_RUN",
    "summary_table",
    "report",
    "run_facts",
    "Shown",
    "shown",
]

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


def chart(
    specs: list[Spec],
    *,
    x: str | None = None,
    y: str | None = None,
    log: bool = False,
    mode: str = "formula",
    points: int = 2000,
    by_fraction: bool = False,
    progress: ProgressFactory | None = None,
    title: str | None = None,
) -> Chart:
    """One curve per spec and SSR, sampled at ``points`` batches plus every breakpoint.

    ``x`` is a unit (default: the first spec's ``max_duration`` unit, or ``dur`` when comparing by
    fraction of the run); ``y`` is ``multiplier`` or ``lr`` (default: ``lr`` when every spec has
    a base LR). Curves are named by :func:`curve_labels`; the title is ``title``, else
    :func:`chart_title`.
    """
    unit, y_axis = _axes(specs, x, y, by_fraction)
    if unit == "ep" and any(
        s.before is not None and s.before.run.dataloader_len != s.run.dataloader_len for s in specs
    ):
        raise ViewError("--x ep: the resume changes batches per epoch, so epochs are not one axis; use ba, sp or tok")
    curves = []
    names = iter(curve_labels(specs))
    for s in specs:
        for ssr in s.ssrs:
            view = shown(s, ssr)
            p = view.plan if view.resumed is None else _whole(view)
            label = next(names)
            with progress(s, view.batches, label) if progress else nullcontext(None) as report:
                rows = collect(view.rows(mode, Selection(points=points), report))
            marked = [(batch, bp.label) for bp, batch in view.breakpoints_in(mode)] + view.marks(mode)
            marks = [(float(x_values(view.counters_at(batch), unit, p)[0]), text) for batch, text in marked]
            curves.append(
                Curve(
                    label=label,
                    x=np.asarray(x_values(rows, unit, p), dtype=float),
                    y=np.asarray(rows[y_axis], dtype=float),
                    marks=marks,
                )
            )
    title = chart_title(specs) if title is None else title
    if mode == "trainer":
        title += " (as the Trainer applies it)"
    x_label = AXIS_NAMES[unit]
    if unit == "ba" and all(s.run.trainer in _UPDATE_TRAINERS for s in specs):
        x_label = "optimizer steps (ba)"
    return Chart(
        curves=curves,
        x_label=x_label,
        y_label="learning rate" if y_axis == "lr" else "LR multiplier",
        title=title,
        log_y=log,
    )


def spec_labels(specs: list[Spec]) -> list[str]:
    """Each spec's label (its title, inline expression or file stem), made distinct: specs whose
    short labels collide are shown at full length, and any still equal get ``#2``, ``#3``..."""
    short = [s.label for s in specs]
    labels = [s.long_label if short.count(s.label) > 1 else s.label for s in specs]
    seen: dict[str, int] = {}
    for i, label in enumerate(labels):
        if labels.count(label) > 1:
            seen[label] = seen.get(label, 0) + 1
            if seen[label] > 1:
                labels[i] = f"{label} #{seen[label]}"
    return labels


def several_ssrs(specs: list[Spec]) -> bool:
    """Whether the SSR tells curves (or rows) apart: more than one SSR among the specs."""
    return len({ssr for s in specs for ssr in s.ssrs}) > 1


def curve_labels(specs: list[Spec]) -> list[str]:
    """One label per spec and SSR, in order: ``ssr=0.5`` for one spec at several SSRs, the
    spec's label for several specs at one SSR, both when both vary; with a single curve, the
    spec's label (its SSR goes in the title)."""
    labels = spec_labels(specs)
    by_ssr = several_ssrs(specs)
    out = []
    for label, s in zip(labels, specs, strict=True):
        for ssr in s.ssrs:
            if by_ssr and len(specs) == 1:
                out.append(f"ssr={ssr:g}")
            elif by_ssr:
                out.append(f"{label} ssr={ssr:g}")
            else:
                out.append(label)
    return out


#: Titles longer than this list the first specs and say how many more.
TITLE_LIMIT = 72


def chart_title(specs: list[Spec]) -> str:
    """The spec labels joined with ``vs``; when that is longer than :data:`TITLE_LIMIT`, inline
    specs by their scheduler names alone (the legend has their arguments), and if still too
    long the first specs and how many more. With the SSR when all curves share one that is not 1.
    """
    labels = spec_labels(specs)
    title = " vs ".join(labels)
    if len(title) > TITLE_LIMIT:
        labels = [
            _names_only(s) if s.expression and not s.title else label for s, label in zip(specs, labels, strict=True)
        ]
        title = " vs ".join(labels)
    if len(title) > TITLE_LIMIT:
        for keep in range(len(labels) - 1, 0, -1):
            title = " vs ".join(labels[:keep]) + f" and {len(labels) - keep} more"
            if len(title) <= TITLE_LIMIT or keep == 1:
                break
    ssrs = {ssr for s in specs for ssr in s.ssrs}
    if len(ssrs) == 1 and ssrs != {1.0}:
        title += f" (ssr {next(iter(ssrs)):g})"
    return title


def _names_only(spec: Spec) -> str:
    """An inline spec's scheduler names, without their arguments: ``linear; cosine``."""
    return "; ".join(short_expression(part, limit=None).split("(")[0] for part in spec.expression.split(";"))


def _axes(specs: list[Spec], x: str | None, y: str | None, by_fraction: bool) -> tuple[str, str]:
    """The x unit and y axis to show: the ones asked for, checked against the specs, or defaults."""
    if y == "lr" and any(s.run.lr is None for s in specs):
        raise ViewError("--y lr needs a base LR: set lr in the spec or pass --lr")
    y_axis = y or ("lr" if all(s.run.lr is not None for s in specs) else "multiplier")
    unit = x or ("dur" if by_fraction else specs[0].run.max_duration.unit.value)
    if unit == "ep" and any(s.run.dataloader_len is None for s in specs):
        raise ViewError("--x ep needs dataloader_len (batches per epoch) in every spec")
    return unit, y_axis


def x_values(rows: dict[str, np.ndarray], unit: str, p: Plan) -> np.ndarray:
    """Where each row sits on an x axis in ``unit``: epochs as fractions, ``dur`` as the
    fraction of the run's batches."""
    if unit == "ba":
        return rows["batch"]
    if unit == "sp":
        return rows["sample"]
    if unit == "tok":
        return rows["token"]
    if unit == "ep":
        return rows["batch"] / p.run.dataloader_len
    return rows["batch"] / p.batches


def _whole(view: Shown) -> Plan:
    """A plan standing for a whole resumed run on an x axis: its batches, BEFORE's loader."""
    rp = view.resumed
    assert rp is not None
    return Plan(run=rp.before.run, ssr=view.ssr, max_duration=rp.after.max_duration, batches=rp.batches)


def _row_at(run: Run, batch: int) -> dict[str, np.ndarray]:
    t = Timeline.at_batch_starts(run, np.asarray([batch]))
    return {"batch": t.batch, "epoch": t.epoch, "sample": t.sample, "token": t.token}


#: The label of the row after the last batch, and its ``--at`` spellings' suffix.
END_OF_RUN = "end of run"
_PLACES = "ep, ba, sp, tok or dur"


def place_times(p: Plan, times: list[str]) -> tuple[list[tuple[int, str]], list[str]]:
    """Each time (``500ba``, ``0.5dur``, ``3ep``) as the first batch whose start has reached
    it, with its text, and a message for each time that cannot be placed.

    Batch ``p.batches`` is the end of the run (``1dur``, ``max_duration`` itself): the moment
    after the last batch, shown by :func:`~sched_cli.simulator.end_of_run`; its text gets
    ``(end of run)``. Times beyond it, in iterations or seconds (a synthetic run has one
    iteration and takes no time), or in epochs without ``dataloader_len`` are messages.
    """
    placed, errors = [], []
    for text in times:
        shown = text.strip()
        try:
            time = Time.from_timestring(shown)
        except TimeStringError:
            errors.append(_not_a_time(text))
            continue
        unit = time.unit.value
        if unit in ("iter", "sec"):
            what = "iterations (it is one iteration)" if unit == "iter" else "wall-clock time (it takes no time)"
            errors.append(f"--at {text!r}: a previewed run has no {what}; give the time in {_PLACES}")
            continue
        batch = first_batch_at(p, time)
        if batch is None:
            errors.append(
                f"--at {text!r}: cannot place {time} in this run: epochs need dataloader_len "
                "(set it in the spec or pass --dataloader-len)"
            )
        elif not 0 <= batch <= p.batches:
            errors.append(
                f"--at {text!r}: batch {batch:,} is outside the run (batches 0 to {p.batches - 1:,}, "
                f"then the end of the run, {p.max_duration}, at 1dur)"
            )
        else:
            placed.append((batch, shown if batch < p.batches else f"{shown} ({END_OF_RUN})"))
    return placed, errors


def _not_a_time(text: str) -> str:
    """``--at TEXT`` that is not a time, in the units a previewed run has (not iter or sec)."""
    return f"--at {text!r}: not a time; give a number and a unit, {_PLACES} (e.g. 500ba, 3ep, 0.5dur)"


def batches_at(p: Plan, times: list[str]) -> list[tuple[int, str]]:
    """The first batch at or after each time, with its text; the first bad one raises
    :class:`ViewError` (see :func:`place_times`)."""
    placed, errors = place_times(p, times)
    if errors:
        raise ViewError(errors[0])
    return placed


def default_batches(p: Plan, mode: str = "formula") -> list[tuple[int, str]]:
    """Eleven evenly spaced batches (0% to 100% of the run), the breakpoints in force in
    ``mode``, and the end of the run (batch ``p.batches``), in order."""
    chosen: dict[int, str] = {}
    for j, b in enumerate(np.round(np.linspace(0, p.batches - 1, 11)).astype(int)):
        chosen.setdefault(int(b), "last batch" if j == 10 else f"{b / p.batches:.0%} of run")
    for bp, batch in breakpoints_in_force(p, mode)[:40]:  # type: ignore[arg-type]
        chosen[batch] = f"{bp.label} ({bp.time})"
    chosen[p.batches] = END_OF_RUN
    return sorted(chosen.items())


def table_view(spec: Spec, at: list[str] | None = None, mode: str = "formula") -> tuple[Table, list[str]]:
    """The rows ``sched table`` shows, and a message for each ``--at`` that cannot be placed.

    One row per SSR and time (``at``, else :func:`default_batches`): ssr, time, batch, epoch,
    sample, token, multiplier and lr (with a base LR). Columns that say nothing here are marked
    hidden for people: ssr with one SSR (then in the title when not 1), epoch without
    ``dataloader_len``, sample when a batch is one sample, token when a sample is one token.
    """
    run = spec.run
    if spec.resume is not None or spec.stop_at is not None:
        return _resumed_table_view(spec, at, mode), []
    names = ["ssr", "time", "batch", "epoch", "sample", "token", "multiplier"] + (["lr"] if run.lr is not None else [])
    values: dict[str, list[Any]] = {name: [] for name in names}
    errors: list[str] = []
    for ssr in spec.ssrs:
        p = plan(run, ssr)
        wanted, bad = place_times(p, at) if at else (default_batches(p, mode), [])
        errors.extend(e for e in bad if e not in errors)
        inside = sorted({b for b, _ in wanted if b < p.batches})
        rows = collect(simulate(run, ssr, mode=mode, selection=Selection(batches=tuple(inside)))) if inside else {}
        end = end_of_run(run, ssr, mode=mode) if any(b == p.batches for b, _ in wanted) else {}
        index = {int(b): i for i, b in enumerate(rows.get("batch", []))}
        for batch, label in wanted:
            source, i = (end, 0) if batch == p.batches else (rows, index[batch])
            values["ssr"].append(float(ssr))
            values["time"].append(label)
            for name in names[2:]:
                value = source[name][i]
                values[name].append(int(value) if name in ("batch", "epoch", "sample", "token") else float(value))
    one_ssr = len(spec.ssrs) == 1
    hidden = {
        "ssr": one_ssr,
        "epoch": run.dataloader_len is None,
        "sample": run.batch_size == 1,
        "token": run.seq_len == 1,
    }
    kinds = {"ssr": "float", "time": "text", "multiplier": "float", "lr": "float"}
    title = spec_labels([spec])[0]
    if one_ssr and spec.ssrs[0] != 1.0:
        title += f" (ssr {spec.ssrs[0]:g})"
    if mode == "trainer":
        title += " (as the Trainer applies it)"
    columns = [Column(n, kinds.get(n, "int"), values[n], hide=hidden.get(n, False)) for n in names]  # type: ignore[arg-type]
    return Table(columns, title=title), errors


def _resumed_end(view: Shown, mode: str) -> dict[str, np.ndarray]:
    """The end of a resumed run (the row after AFTER's last batch), as :func:`end_of_run` gives a
    plain run's; a run stopped early has no end beyond its stop."""
    import dataclasses

    rp = view.resumed
    if rp is None or view.stopped is not None:
        raise ViewError("--at: the end of the run is past where the run stops (--stop-at); ask for an earlier time")
    segment = rp.segment if mode == "trainer" else dataclasses.replace(rp.segment, base_lr=None)
    selection = Selection(batches=(rp.after.batches,))
    return collect(simulate_plan(rp.after, mode=mode, selection=selection, segment=segment, through_end=True))  # type: ignore[arg-type]


def _resumed_table_view(spec: Spec, at: list[str] | None, mode: str) -> Table:
    """:func:`table_view` of a resumed run, or one stopped early: the rows around the resume or the
    stop, and under the table the LR across the resume (the jump) and where the run stops."""
    has_lr = spec.run.lr is not None or (spec.before is not None and spec.before.run.lr is not None)
    names = ["ssr", "time", "batch", "epoch", "sample", "token", "multiplier"] + (["lr"] if has_lr else [])
    values: dict[str, list[Any]] = {name: [] for name in names}
    notes: list[str] = []
    for ssr in spec.ssrs:
        view = shown(spec, ssr)
        # The end of each segment (a row after its last batch) is not a row of a resumed run,
        # unless asked for (--at 1dur): the end of the whole run.
        wanted = [(b, t) for b, t in table_batches(view, at, mode) if b < view.batches or at]
        inside = tuple(sorted({b for b, _ in wanted if b < view.batches}))
        rows = collect(view.rows(mode, Selection(batches=inside))) if inside else {"batch": []}
        end = _resumed_end(view, mode) if any(b == view.batches for b, _ in wanted) else {}
        notes.extend((f"ssr {ssr:g}: " if len(spec.ssrs) > 1 else "") + n for n in footnotes(view, mode))
        index = {int(b): i for i, b in enumerate(rows["batch"])}
        for batch, label in wanted:
            rows_of, i = (end, 0) if batch == view.batches else (rows, index[batch])
            values["ssr"].append(float(ssr))
            values["time"].append(label)
            for name in names[2:]:
                value = rows_of[name][i]
                values[name].append(int(value) if name in ("batch", "epoch", "sample", "token") else float(value))
    kinds = {"ssr": "float", "time": "text", "multiplier": "float", "lr": "float"}
    title = spec_labels([spec])[0] + (" (as the Trainer applies it)" if mode == "trainer" else "")
    columns = [Column(n, kinds.get(n, "int"), values[n], hide=n == "ssr" and len(spec.ssrs) == 1) for n in names]  # type: ignore[arg-type]
    return Table(columns, title=title, caption="\n".join(notes))


def summary_view(specs: list[Spec], mode: str = "formula", progress: ProgressFactory | None = None) -> Table:
    """``sched compare``'s summary: per spec and SSR, the scaled ``max_duration``, batches, where
    warmup ends, the final LR multiplier (at the end of the run), the mean, and the first batch
    below half the peak. Times are batches (shown as ``100ba``); the spec column is hidden for
    one spec (its name is the title), the ssr column for one SSR, warmup end when none has one.
    """
    labels = spec_labels(specs)
    names = list(SUMMARY_COLUMNS)
    values: dict[str, list[Any]] = {name: [] for name in names}
    display: dict[str, list[str]] = {"warmup end": [], "mean": [], "below half peak at": []}
    compact: dict[str, list[str]] = {"max_duration": [], "mean": [], "below half peak at": []}
    for s, label in zip(specs, labels, strict=True):
        for ssr in s.ssrs:
            view = shown(s, ssr)  # a resumed run: both segments; one stopped early: up to the stop
            p = view.plan if view.resumed is None else view.resumed.after
            with progress(s, view.batches, f"{label} ssr={ssr:g}") if progress else nullcontext(None) as report:
                sm = summary(view, mode, report)
            # The run's geometry: batches per epoch, samples in an epoch's last batch, and what
            # the whole run counts (a short last batch or several devices change the samples).
            geometry = [
                s.run.dataloader_len,
                s.run.batch_size,
                s.run.last_batch_size,
                p.shape.counter_at(TimeUnit.SAMPLE, p.batches),
                p.shape.counter_at(TimeUnit.TOKEN, p.batches),
            ]
            for name, value in zip(
                names,
                [
                    label,
                    float(ssr),
                    str(sm.max_duration),
                    sm.batches,
                    *geometry,
                    sm.warmup_end,
                    sm.final,
                    None if s.run.lr is None else sm.final * s.run.lr,
                    sm.mean,
                    sm.below_half,
                ],
                strict=True,
            ):
                values[name].append(value)
            display["warmup end"].append("-" if sm.warmup_end is None else f"{sm.warmup_end:,}ba")
            display["mean"].append(("" if sm.exact else "≈") + f"{sm.mean:.6g}")
            display["below half peak at"].append(
                "never" if sm.below_half is None else f"{sm.below_half:,}ba ({sm.below_half / sm.batches:.1%})"
            )
            compact["max_duration"].append(compact_time(str(sm.max_duration)))
            compact["mean"].append(("" if sm.exact else "≈") + compact_text(sm.mean, "float"))
            compact["below half peak at"].append("never" if sm.below_half is None else f"{sm.below_half:,}ba")
    kinds = {
        "spec": "text",
        "ssr": "float",
        "max_duration": "text",
        "final": "float",
        "final lr": "float",
        "mean": "float",
    }
    hidden = {
        "spec": len(specs) == 1,
        "ssr": not several_ssrs(specs),
        "warmup end": all(v is None for v in values["warmup end"]),
        "per epoch": all(v is None for v in values["per epoch"]),
        # The batch size and the final LR are shown where they tell rows apart (a what-if across
        # --devices or --lr); the final multiplier and the geometry say the rest.
        "batch size": len(set(values["batch size"])) < 2,
        "last batch size": all(s.run.last_batch_size is None for s in specs),
        "final lr": any(s.run.lr is None for s in specs) or len(set(values["final lr"])) < 2,
        "samples": all(s.run.batch_size == 1 and s.run.geometry is None for s in specs),
        "tokens": all(s.run.seq_len == 1 for s in specs),
    }
    title = chart_title(specs) if len(specs) == 1 or hidden["ssr"] else ""
    if mode == "trainer":
        title = f"{title} (as the Trainer applies it)".strip()
    columns = [
        Column(
            n,
            kinds.get(n, "int"),  # type: ignore[arg-type]
            values[n],
            shown=display.get(n),
            compact=compact.get(n),
            hide=hidden.get(n, False),
            copyable=n != "spec",
        )
        for n in names
    ]
    return Table(columns, title=title)


def scheduler_table(stacked: bool = False, match: str | None = None) -> Table:
    """``sched list``: every built-in scheduler, its aliases and its parameters with defaults.

    ``stacked`` puts the aliases under each name (one per line) instead of in a column of
    their own, for terminals too narrow for three columns of names that must stay whole.
    ``match``: only the schedulers whose name, an alias or a parameter contains it (any case).
    """
    from sched_cli.registry import ENTRIES as ALL

    text = (match or "").lower()
    ENTRIES = [  # noqa: N806 - the registry's entries, filtered
        e for e in ALL if text in " ".join([e.name, *e.aliases, *(p.name for p in e.params)]).lower()
    ]

    names = [e.name for e in ENTRIES]
    aliases = [", ".join(e.aliases) for e in ENTRIES]
    params = [", ".join(p.name if p.required else f"{p.name}={p.default!r}" for p in e.params) for e in ENTRIES]
    if stacked:
        first = Column(
            "scheduler (aliases)",
            "text",
            names,
            shown=["\n".join([e.name, *(f"  {a}" for a in e.aliases)]) for e in ENTRIES],
            copyable=True,
        )
    else:
        first = Column("scheduler", "text", names, copyable=True)
    return Table(
        [
            first,
            Column(
                "aliases", "text", aliases, shown=["\n".join(e.aliases) for e in ENTRIES], hide=stacked, copyable=True
            ),
            Column("parameters (default)", "text", params),
        ],
        title="built-in schedulers (use any name in a spec's `name:`)",
    )


#: Columns of the summary table ``compare`` prints and the report shows.
SUMMARY_COLUMNS = (
    "spec",
    "ssr",
    "max_duration",
    "batches",
    "per epoch",
    "batch size",
    "last batch size",
    "samples",
    "tokens",
    "warmup end",
    "final",
    "final lr",
    "mean",
    "below half peak at",
)
#: Points (sampled batches over all curves) a report may hold: a page of ~250 MB at most.
MAX_REPORT_POINTS = 2_000_000
# Spec text shown in a report is cut at this many characters (a spec is a few hundred).
_SPEC_TEXT_LIMIT = 100_000


def summary_table(specs: list[Spec], mode: str = "formula", progress: ProgressFactory | None = None) -> HtmlTable:
    """:func:`summary_view` as the HTML report shows it: every column, as a person reads it
    (a mean marked ``≈`` comes from a sample of the batches)."""
    from sched_cli.render.html import Table as HtmlTable
    from sched_cli.render.tables import display_rows

    view = summary_view(specs, mode, progress)
    title = "as the Trainer applies it" if mode == "trainer" else ""
    # Beside an LR chart, say which numbers are multipliers of the base LR.
    names = [_HTML_NAMES.get(c.name, c.name) for c in view.columns]
    return HtmlTable(title=title, columns=names, rows=display_rows(view))


_HTML_NAMES = {"final": "final multiplier", "mean": "mean multiplier"}


def report(
    specs: list[Spec],
    inputs: list[str],
    *,
    x: str | None = None,
    y: str | None = None,
    log: bool = False,
    mode: str = "formula",
    points: int = 2000,
    by_fraction: bool = False,
    command: str = "",
    progress: ProgressFactory | None = None,
    title: str | None = None,
) -> Report:
    """What an HTML report shows of ``specs`` (given on the command line as ``inputs``).

    Each spec at each SSR is sampled at ``points`` batches plus every breakpoint and its
    neighbours, in ``mode`` and in the other mode; the other is kept only where it differs
    (the Trainer's one-batch lag, or only its last scheduler in force), to be switched on in
    the page. Every curve carries all counters (batch, epoch, sample, token, duration) and
    the multiplier and LR, so the page can switch units and show exact values. ``x``, ``y``
    and ``log`` choose what the page shows first, with the defaults of :func:`chart`.
    """
    from sched_cli import __version__
    from sched_cli.render.html import Report, ReportCurve
    from sched_cli.specs import check

    if mode not in ("formula", "trainer"):
        raise ViewError(f"mode must be formula or trainer, not {mode!r}")
    unit, y_axis = _axes(specs, x, y, by_fraction)
    plans = [shown(s, ssr) for s in specs for ssr in s.ssrs]
    total = sum(min(points, p.batches) for p in plans)
    if total > MAX_REPORT_POINTS:
        raise ViewError(
            f"a report of {len(plans)} curves at {points:,} points each would hold {total:,} points, more than "
            f"the {MAX_REPORT_POINTS:,} a browser draws smoothly; pass fewer --points, specs or SSRs"
        )
    other = "trainer" if mode == "formula" else "formula"
    value_names = ("multiplier", "lr")
    curves = []
    names = iter(curve_labels(specs))
    for s, spec_label in zip(specs, spec_labels(specs), strict=True):
        for ssr in s.ssrs:
            p = shown(s, ssr)  # a resumed run: both segments; one stopped early: up to the stop
            label = next(names)
            selection = Selection(points=points)
            values = {}
            for m in (mode, other):
                with progress(s, p.batches, f"{label} ({m})") if progress else nullcontext(None) as report_progress:
                    rows = collect(p.rows(m, selection, report_progress))
                if m == mode:
                    counters = {name: rows[name] for name in ("batch", "epoch", "sample", "token", "duration")}
                values[m] = {name: rows[name] for name in value_names if name in rows}
            if all(np.array_equal(values[mode][n], values[other][n]) for n in values[mode]):
                del values[other]
            marks = []
            for batch, text in [(batch, bp.label) for bp, batch in p.breakpoints_in(mode)] + p.marks(mode):
                at = p.counters_at(batch)
                marks.append({"label": text, **{k: int(v[0]) for k, v in at.items()}})
            curves.append(
                ReportCurve(
                    label=label,
                    spec=spec_label,
                    ssr=ssr,
                    batches=p.batches,
                    dataloader_len=s.run.dataloader_len,
                    counters=counters,
                    values=values,
                    marks=marks,
                )
            )
    tables = [summary_table(specs, mode, progress)]
    if any(len(c.values) > 1 for c in curves):
        tables.append(summary_table(specs, other, progress))
    notes = []
    for s in specs:
        for note in check(s):
            notes.append(note if len(specs) == 1 else f"{s.label}: {note}")
    title = chart_title(specs) if title is None else title
    return Report(
        title=title,
        curves=curves,
        x_unit=unit,
        y_axis=y_axis,
        log_y=log,
        mode=mode,
        points_per_curve=points,
        tables=tables,
        specs=[_spec_text(arg, s) for arg, s in zip(inputs, specs, strict=True)],
        notes=notes,
        version=__version__,
        command=command,
    )


def _spec_text(arg: str, spec: Spec) -> SpecText:
    """The spec as written: the file's text (cut at a limit), or the inline expression."""
    from sched_cli.render.html import SpecText

    path = Path(spec.source)
    if spec.source != "<inline>" and path.is_file():
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read(_SPEC_TEXT_LIMIT + 1)
        if len(text) > _SPEC_TEXT_LIMIT:
            text = text[:_SPEC_TEXT_LIMIT] + f"\n... (cut at {_SPEC_TEXT_LIMIT:,} characters)"
        return SpecText(source=spec.source, text=text)
    return SpecText(source="inline", text=arg)


def run_facts(spec: Spec) -> list[str]:
    """What the run is, in a few lines for ``validate``: the data geometry (derived or given) and,
    at each SSR, how many batches, samples and tokens it trains."""
    run = spec.run
    lines = list(spec.facts)
    if run.geometry is not None:
        lines.append(f"data: {run.geometry.describe()}")
    elif run.dataloader_len is not None:
        # A Hugging Face run's batches are optimizer updates (the HF reader makes them so).
        what = "optimizer updates" if run.trainer == "hf" else "batches"
        last = f" (the last {run.last_batch_size:,})" if run.last_batch_size is not None else ""
        lines.append(f"data: {run.dataloader_len:,} {what} per epoch of {run.batch_size:,} samples{last}")
    for ssr in spec.ssrs:
        p = plan(run, ssr)
        end = p.shape.counter_at
        samples, tokens = end(TimeUnit.SAMPLE, p.batches), end(TimeUnit.TOKEN, p.batches)
        epochs = f", {p.batches / run.dataloader_len:,.6g} epochs" if run.dataloader_len else ""
        lines.append(
            f"run at ssr {ssr:g}: max_duration {p.max_duration}, {p.batches:,} batches{epochs}, "
            f"{samples:,} samples, {tokens:,} tokens"
        )
    return lines


def table_batches(view: Shown, times: list[str] | None, mode: str) -> list[tuple[int, str]]:
    """The batches ``sched table`` lists for a view: the ``--at`` times, else the default ones,
    plus (by default) the batches around a resume and the last batch before a stop."""
    rp = view.resumed
    if rp is None:
        wanted = batches_at(view.plan, times) if times else default_batches(view.plan)
        if view.stopped is not None and not times:
            wanted = [(b, t) for b, t in wanted if b != view.stopped - 1] + [(view.stopped - 1, "stop (final)")]
        return sorted(wanted)
    if times:
        out = []
        for text in times:
            try:
                time = Time.from_timestring(text.strip())
            except TimeStringError:
                raise ViewError(_not_a_time(text)) from None
            batch = resumes.batch_reaching(rp, time)
            if batch is None:
                raise ViewError(f"--at {text!r}: cannot place {time} in this run (epochs need dataloader_len)")
            if not 0 <= batch <= rp.batches or (batch == rp.batches and not rp.after.batches):
                raise ViewError(
                    f"--at {text!r}: batch {batch:,} is outside the run (batches 0 to {rp.batches - 1:,}, "
                    f"then the end of the run, at 1dur)"
                )
            out.append((batch, text.strip() + (f" ({END_OF_RUN})" if batch == rp.batches else "")))
        return out
    k = rp.checkpoint
    chosen: dict[int, str] = {}
    for batch, label in default_batches(rp.before):
        chosen[batch] = f"{label} (before)"
    if rp.after.batches:
        for j, label in default_batches(rp.after):
            chosen[k + j] = label.replace("of run", "of the rest")
    chosen[k - 1] = "last before resume"
    if rp.after.batches:
        chosen[k] = "first after resume"
    row = resumes.first_set_row(rp, mode)  # type: ignore[arg-type]
    if row is not None and row > 0:
        chosen[k + row] = "first LR set by AFTER"
    if view.stopped is not None:
        chosen[view.stopped - 1] = "stop (final)"
    return sorted(chosen.items())


def footnotes(view: Shown, mode: str, rows: dict[str, np.ndarray] | None = None) -> list[str]:
    """Lines ``sched table`` prints under the table: the LR across a resume, where a run stops."""
    out = []
    rp = view.resumed
    if rp is not None:
        j = resumes.jump(rp, mode)  # type: ignore[arg-type]
        ts = rp.restored
        where = (
            f"resume at {time_text(view.spec.resume_at)} = batch {rp.checkpoint:,} (restored epoch {int(ts.epoch)}, "
            f"batch_in_epoch {int(ts.batch_in_epoch)}, sample {int(ts.sample):,}, token {int(ts.token):,})"
        )
        if j.after is None:
            out.append(f"{where}: {j.what} {j.before:.6g} before it; AFTER's schedulers never set the LR")
        else:
            ratio = j.ratio
            out.append(
                f"{where}: {j.what} {j.before:.6g} just before, {j.after:.6g} at batch {rp.checkpoint + j.after_row:,}"
                + ("" if ratio is None else f", a jump of x{ratio:.4g}")
            )
        out.extend(rp.warnings)
    if view.stopped is not None:
        last = view.stopped - 1
        final = collect(view.rows(mode, Selection(batches=(last,))))
        what = "lr" if "lr" in final else "multiplier"
        out.append(
            f"stopped at {time_text(view.spec.stop_at)}: batch {last:,} is the last trained, "
            f"at {what} {float(final[what][0]):.6g} ({view.stopped:,} batches)"
        )
    return out


def summary(view: Shown, mode: str, progress: Callable[[int], None] | None = None) -> Any:
    """The summary row of ``compare`` for a view: a plain run's, or a resumed or stopped run's."""
    from sched_cli.summary import summarize, summarize_rows

    if view.resumed is None and view.stopped is None:
        return summarize(view.spec.run, view.ssr, mode, progress)
    warmup = next((b for bp, b in view.breakpoints if bp.label == "warmup end"), None)
    max_duration = view.resumed.after.max_duration if view.resumed is not None else view.plan.max_duration
    return summarize_rows(
        lambda selection, report: view.rows(mode, selection, report),
        view.ssr,
        max_duration,
        view.batches,
        warmup,
        progress,
    )


def time_text(time: Any) -> str:
    """A time as a person writes it: ``4e12tok`` rather than ``4000000000000tok``."""
    value = time.value
    text = f"{value}" if abs(value) < 1e7 else f"{value:.6g}".replace("e+", "e")
    return f"{text}{time.unit.value}"


def resume_notes(spec: Spec, mode: str) -> list[str]:
    """Lines ``sched resume`` prints under its table: :func:`footnotes` of each SSR."""
    several = len(spec.ssrs) > 1
    return [
        (f"ssr {ssr:g}: " if several else "") + line for ssr in spec.ssrs for line in footnotes(shown(spec, ssr), mode)
    ]


def has_custom_schedulers(spec: Spec) -> bool:
    """Whether a scheduler of ``spec`` is evaluated one call at a time (not a built-in one), so
    that a long run deserves a progress bar."""
    from sched_cli.schedulers.base import BuiltinScheduler

    return any(not isinstance(s, BuiltinScheduler) for s in spec.run.schedulers)
