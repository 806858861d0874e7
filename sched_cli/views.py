"""What the commands show, computed from specs: chart curves and the batches a table lists.

This sits between the simulator and the renderers: it runs specs through the simulator and hands
the renderers arrays and labels, so that the CLI only parses options and prints.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import numpy as np

from sched_cli.render import Chart, Curve
from sched_cli.simulator import Plan, Run, Selection, Timeline, collect, first_batch_at, plan, simulate
from sched_cli.specs import Spec
from sched_cli.time import Time, TimeStringError, TimeUnit

__all__ = ["ViewError", "AXIS_NAMES", "chart", "x_values", "batches_at", "default_batches", "run_facts"]

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
    if y == "lr" and any(s.run.lr is None for s in specs):
        raise ViewError("--y lr needs a base LR: set lr in the spec or pass --lr")
    y_axis = y or ("lr" if all(s.run.lr is not None for s in specs) else "multiplier")
    unit = x or ("dur" if by_fraction else specs[0].run.max_duration.unit.value)
    if unit == "ep" and any(s.run.dataloader_len is None for s in specs):
        raise ViewError("--x ep needs dataloader_len (batches per epoch) in every spec")
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


def run_facts(spec: Spec) -> list[str]:
    """What the run is, in a few lines for ``validate``: the data geometry (derived or given) and,
    at each SSR, how many batches, samples and tokens it trains."""
    run = spec.run
    lines = []
    if run.geometry is not None:
        lines.append(f"data: {run.geometry.describe()}")
    elif run.dataloader_len is not None:
        lines.append(f"data: {run.dataloader_len:,} batches per epoch of {run.batch_size:,} samples")
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
