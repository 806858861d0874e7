"""The HTML report's content, from specs: curves of every SSR, the summary, the specs and warnings."""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from sched_cli.simulator import (
    Selection,
    collect,
)
from sched_cli.specs import Spec

if TYPE_CHECKING:  # pragma: no cover
    from sched_cli.render.html import Report, SpecText
    from sched_cli.render.html import Table as HtmlTable
from sched_cli.views.charts import _axes, chart_title, curve_labels, spec_labels
from sched_cli.views.shown import ProgressFactory, ViewError, shown
from sched_cli.views.summaries import summary_view

__all__ = ["MAX_REPORT_POINTS", "summary_table", "report"]


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
