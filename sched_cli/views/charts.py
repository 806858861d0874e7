"""Chart curves, labels and titles from specs."""

from __future__ import annotations

from contextlib import nullcontext
from typing import TYPE_CHECKING

import numpy as np

from sched_cli.render import Chart, Curve
from sched_cli.simulator import (
    Plan,
    Selection,
    collect,
)
from sched_cli.specs import Spec, short_expression

if TYPE_CHECKING:  # pragma: no cover
    pass
from sched_cli.views.shown import _UPDATE_TRAINERS, AXIS_NAMES, ProgressFactory, ViewError, _whole, shown

__all__ = ["chart", "spec_labels", "several_ssrs", "curve_labels", "TITLE_LIMIT", "chart_title", "x_values"]


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
