"""What the commands show, computed from specs: chart curves and the batches a table lists.

This sits between the simulator and the renderers: it runs specs through the simulator and hands
the renderers arrays and labels, so that the CLI only parses options and prints.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sched_cli.render import Chart, Curve
from sched_cli.simulator import Plan, Run, Selection, Timeline, collect, first_batch_at, plan, simulate
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
    curves = []
    for s in specs:
        for ssr in s.ssrs:
            p = plan(s.run, ssr)
            label = f"ssr={ssr:g}" if len(specs) == 1 else f"{s.label} ssr={ssr:g}"
            with progress(s, p.batches, label) if progress else nullcontext(None) as report:
                rows = collect(simulate(s.run, ssr, mode=mode, selection=Selection(points=points), progress=report))
            marks = [(float(x_values(_row_at(s.run, batch), unit, p)[0]), bp.label) for bp, batch in p.breakpoints]
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
    from sched_cli.summary import summarize

    rows = []
    for s in specs:
        for ssr in s.ssrs:
            label = f"{s.label} ssr={ssr:g}"
            with progress(s, plan(s.run, ssr).batches, label) if progress else nullcontext(None) as report:
                sm = summarize(s.run, ssr, mode, report)
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
    plans = [plan(s.run, ssr) for s in specs for ssr in s.ssrs]
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
            p = plan(s.run, ssr)
            label = f"ssr={ssr:g}" if len(specs) == 1 else f"{s.label} ssr={ssr:g}"
            selection = Selection(points=points)
            values = {}
            for m in (mode, other):
                with progress(s, p.batches, f"{label} ({m})") if progress else nullcontext(None) as report_progress:
                    rows = collect(simulate(s.run, ssr, mode=m, selection=selection, progress=report_progress))  # type: ignore[arg-type]
                if m == mode:
                    counters = {name: rows[name] for name in ("batch", "epoch", "sample", "token", "duration")}
                values[m] = {name: rows[name] for name in value_names if name in rows}
            if all(np.array_equal(values[mode][n], values[other][n]) for n in values[mode]):
                del values[other]
            marks = []
            for bp, batch in p.breakpoints:
                at = _row_at(s.run, batch)
                marks.append({"label": bp.label, **{k: int(v[0]) for k, v in at.items()}})
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
