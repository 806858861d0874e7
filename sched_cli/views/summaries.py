"""The summary of each run `compare` prints, and what `validate` says a run is."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from typing import TYPE_CHECKING, Any

from sched_cli.render.tables import Column, Table, compact_text, compact_time
from sched_cli.simulator import (
    plan,
)
from sched_cli.specs import Spec
from sched_cli.time import TimeUnit

if TYPE_CHECKING:  # pragma: no cover
    pass
from sched_cli.views.charts import chart_title, several_ssrs, spec_labels
from sched_cli.views.shown import ProgressFactory, Shown, shown
from sched_cli.views.tables import footnotes

__all__ = ["summary_view", "SUMMARY_COLUMNS", "run_facts", "summary", "resume_notes"]


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


def resume_notes(spec: Spec, mode: str) -> list[str]:
    """Lines ``sched resume`` prints under its table: :func:`footnotes` of each SSR."""
    several = len(spec.ssrs) > 1
    return [
        (f"ssr {ssr:g}: " if several else "") + line for ssr in spec.ssrs for line in footnotes(shown(spec, ssr), mode)
    ]
