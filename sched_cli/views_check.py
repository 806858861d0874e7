"""What ``sched check`` shows: the verdict of a run's logs against its plan, the spans off the
plan, and the reason when one explanation fits every logged point."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from sched_cli.check import SPANS_SHOWN, Verdict, check, default_alignment, explain, rows_of, steps_of_rows
from sched_cli.logs import Alignment, LoggedLRs
from sched_cli.logs.files import read_logs
from sched_cli.render import Chart, Curve
from sched_cli.simulator import Selection, collect
from sched_cli.specs import Overrides, Spec, load, with_ssrs

__all__ = ["CheckView", "check_view"]


@dataclass
class CheckView:
    verdict: Verdict
    notes: list[str] = field(default_factory=list)
    #: The planned curve and the logged points, in the log's step numbering.
    chart: Chart | None = None

    def lines(self, verbose: bool = False) -> list[str]:
        """The spans off the plan (a few, all with ``verbose``) and the reason, one line each."""
        v = self.verdict
        out = []
        spans = v.spans if verbose else v.spans[:SPANS_SHOWN]
        for span in spans:
            out.append(f"off the plan: {span.describe()}")
        if len(v.spans) > len(spans):
            out.append(f"... {len(v.spans) - len(spans):,} more spans (-v shows all)")
        if v.beyond:
            out.append(f"{v.beyond:,} logged steps lie past the plan's last update")
        if not v.ok:
            out.append(f"logger's rule: {v.alignment.name} ({v.alignment.says})")
            out.append(f"reason: {v.reason}" if v.reason else "reason: no known explanation fits every logged point")
        return out


def check_view(
    spec: Spec,
    plan_arg: str,
    log_args: list[str],
    overrides: Overrides,
    *,
    alignment: str | None = None,
    tolerance: float = 1e-6,
    tag: str | None = None,
    step_col: str | None = None,
    explain_with: list[str] | None = None,
) -> CheckView:
    log = read_logs(log_args, tag, step_col)
    rule, note = default_alignment(log, alignment)
    notes = [note] if note else []
    verdict, _ = check(spec, log, rule, tolerance)
    notes.extend(verdict.notes)
    if not verdict.ok:

        def replan(changes: dict[str, Any]) -> Spec:
            return with_ssrs(load(plan_arg, replace(overrides, **changes)), list(spec.ssrs))

        def other_plan(path: str):
            def replan_other(changes: dict[str, Any]) -> Spec:
                resumed = {"resume_from": plan_arg} if "resume_at" in changes else {}
                return with_ssrs(load(path, replace(overrides, **resumed, **changes)), list(spec.ssrs))

            return path, replan_other

        first_row = last_good_row = None
        if verdict.first_divergence is not None:
            step = int(verdict.first_divergence["step"])
            rows = rows_of(log, rule, spec)
            first = int(np.searchsorted(log.steps, step))
            first_row = int(rows[first])
            last_good_row = int(rows[first - 1]) if first else None
        verdict.reason = explain(
            spec,
            log,
            rule,
            replan,
            overrides,
            tolerance,
            consumes=("devices",),
            others=[other_plan(p) for p in explain_with or []],
            first_row=first_row,
            last_good_row=last_good_row,
        )
    return CheckView(verdict, notes, _chart(spec, log, rule, verdict))


def _chart(spec: Spec, log: LoggedLRs, rule: Alignment, verdict: Verdict, points: int = 2000) -> Chart:
    """The plan as a line and the logged LRs as points, both against the log's steps; each span
    off the plan marked where it starts."""
    from sched_cli.views import shown

    view = shown(spec, spec.ssrs[0])
    rows = collect(view.rows("trainer", Selection(points=points)))
    # Update u is logged at step u - offset (the logger's rule, read backwards; in samples for a
    # log counted in samples).
    x = steps_of_rows(log, rule, spec, rows["batch"]).astype(np.float64)
    plan = Curve(f"plan: {spec.label}", x, rows["lr"])
    marks = [(float(s.first_step), "off the plan") for s in verdict.spans[:SPANS_SHOWN]]
    logged = Curve(f"logged: {log.tag}", log.steps.astype(np.float64), log.lrs, marks=marks, points=True)
    verdict_line = "matches the plan" if verdict.ok else "leaves the plan"
    return Chart(
        [plan, logged],
        x_label="samples seen" if log.unit == "sample" else f"step ({log.kind}'s numbering)",
        y_label="learning rate",
        title=f"{spec.label}: the log {verdict_line}",
    )
