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
from sched_cli.schedulers.base import Breakpoint
from sched_cli.simulator import Plan, Run, Selection, Timeline, collect, first_batch_at, plan, simulate_plan
from sched_cli.specs import Spec
from sched_cli.time import Time, TimeStringError, TimeUnit

if TYPE_CHECKING:  # pragma: no cover
    from sched_cli.render.html import Report, SpecText, Table

__all__ = [
    "ViewError",
    "AXIS_NAMES",
    "chart",
    "x_values",
    "batches_at",
    "default_batches",
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
) -> Chart:
    """One curve per spec and SSR, sampled at ``points`` batches plus every breakpoint.

    ``x`` is a unit (default: the first spec's ``max_duration`` unit, or ``dur`` when comparing by
    fraction of the run); ``y`` is ``multiplier`` or ``lr`` (default: ``lr`` when every spec has
    a base LR).
    """
    unit, y_axis = _axes(specs, x, y, by_fraction)
    if unit == "ep" and any(
        s.before is not None and s.before.run.dataloader_len != s.run.dataloader_len for s in specs
    ):
        raise ViewError("--x ep: the resume changes batches per epoch, so epochs are not one axis; use ba, sp or tok")
    curves = []
    for s in specs:
        for ssr in s.ssrs:
            view = shown(s, ssr)
            p = view.plan if view.resumed is None else _whole(view)
            label = f"ssr={ssr:g}" if len(specs) == 1 else f"{s.label} ssr={ssr:g}"
            with progress(s, view.batches, label) if progress else nullcontext(None) as report:
                rows = collect(view.rows(mode, Selection(points=points), report))
            marked = [(batch, bp.label) for bp, batch in view.breakpoints] + view.marks(mode)
            marks = [(float(x_values(view.counters_at(batch), unit, p)[0]), text) for batch, text in marked]
            curves.append(
                Curve(
                    label=label,
                    x=np.asarray(x_values(rows, unit, p), dtype=float),
                    y=np.asarray(rows[y_axis], dtype=float),
                    marks=marks,
                )
            )
    title = specs[0].label if len(specs) == 1 else "comparison"
    if mode == "trainer":
        title += " (as the Trainer applies it)"
    return Chart(
        curves=curves,
        x_label=AXIS_NAMES[unit],
        y_label="learning rate" if y_axis == "lr" else "LR multiplier",
        title=title,
        log_y=log,
    )


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


def batches_at(p: Plan, times: list[str]) -> list[tuple[int, str]]:
    """The first batch at or after each time (``500ba``, ``0.5dur``, ``3ep``), with its text."""
    out = []
    for text in times:
        try:
            time = Time.from_timestring(text.strip())
        except TimeStringError as exc:
            raise ViewError(f"--at {text!r}: {exc}") from None
        batch = first_batch_at(p, time)
        if batch is None:
            raise ViewError(f"--at {text!r}: cannot place {time} in this run (epochs need dataloader_len)")
        if not 0 <= batch < p.batches:
            raise ViewError(f"--at {text!r}: batch {batch:,} is outside the run (batches 0 to {p.batches - 1:,})")
        out.append((batch, text.strip()))
    return out


def default_batches(p: Plan) -> list[tuple[int, str]]:
    """Eleven evenly spaced batches (0% to 100% of the run) and the breakpoints, in order."""
    chosen: dict[int, str] = {}
    for j, b in enumerate(np.round(np.linspace(0, p.batches - 1, 11)).astype(int)):
        chosen.setdefault(int(b), "last batch" if j == 10 else f"{b / p.batches:.0%} of run")
    for bp, batch in p.breakpoints[:40]:
        chosen[batch] = f"{bp.label} ({bp.time})"
    return sorted(chosen.items())


#: Columns of the summary table ``compare`` prints and the report shows.
SUMMARY_COLUMNS = ("spec", "ssr", "max_duration", "batches", "warmup end", "final", "mean", "below half peak at")
#: Points (sampled batches over all curves) a report may hold: a page of ~250 MB at most.
MAX_REPORT_POINTS = 2_000_000
# Spec text shown in a report is cut at this many characters (a spec is a few hundred).
_SPEC_TEXT_LIMIT = 100_000


def summary_table(specs: list[Spec], mode: str = "formula", progress: ProgressFactory | None = None) -> Table:
    """One row per spec and SSR: length, warmup end, final and mean multiplier, and the first
    batch below half the peak (a mean marked ``≈`` comes from a sample of the batches)."""
    from sched_cli.render.html import Table

    rows = []
    for s in specs:
        for ssr in s.ssrs:
            label = f"{s.label} ssr={ssr:g}"
            view = shown(s, ssr)
            with progress(s, view.batches, label) if progress else nullcontext(None) as report:
                sm = summary(view, mode, report)
            rows.append(
                [
                    s.label,
                    f"{ssr:g}",
                    str(sm.max_duration),
                    f"{sm.batches:,}",
                    "-" if sm.warmup_end is None else f"{sm.warmup_end:,}ba",
                    f"{sm.final:.6g}",
                    ("" if sm.exact else "≈") + f"{sm.mean:.6g}",
                    "never" if sm.below_half is None else f"{sm.below_half:,}ba ({sm.below_half / sm.batches:.1%})",
                ]
            )
    title = "as the Trainer applies it" if mode == "trainer" else ""
    return Table(title=title, columns=list(SUMMARY_COLUMNS), rows=rows)


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
    for s in specs:
        for ssr in s.ssrs:
            p = shown(s, ssr)  # a resumed run: both segments; one stopped early: up to the stop
            label = f"ssr={ssr:g}" if len(specs) == 1 else f"{s.label} ssr={ssr:g}"
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
            for batch, text in [(batch, bp.label) for bp, batch in p.breakpoints] + p.marks(mode):
                at = p.counters_at(batch)
                marks.append({"label": text, **{k: int(v[0]) for k, v in at.items()}})
            curves.append(
                ReportCurve(
                    label=label,
                    spec=s.label,
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
    title = specs[0].label if len(specs) == 1 else "comparison"
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
    lines = []
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
            except TimeStringError as exc:
                raise ViewError(f"--at {text!r}: {exc}") from None
            batch = resumes.batch_reaching(rp, time)
            if batch is None:
                raise ViewError(f"--at {text!r}: cannot place {time} in this run (epochs need dataloader_len)")
            if not 0 <= batch < rp.batches:
                raise ViewError(f"--at {text!r}: batch {batch:,} is outside the run (batches 0 to {rp.batches - 1:,})")
            out.append((batch, text.strip()))
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
