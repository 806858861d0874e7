"""What ``sched check`` shows: the verdict of a run's logs against its plan, the spans off the
plan, and the reason when one explanation fits every logged point."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from sched_cli.check import SPANS_SHOWN, Verdict, check, default_alignment, rows_of, steps_of_rows
from sched_cli.check_reasons import explain
from sched_cli.logs import Alignment, LogError, LoggedLRs
from sched_cli.logs.files import read_logs
from sched_cli.render import Band, Callout, Chart, Curve
from sched_cli.simulator import Selection, collect
from sched_cli.specs import Overrides, Spec, SpecError, load, plan_file, with_ssrs

if TYPE_CHECKING:  # pragma: no cover
    from sched_cli.render.chart_page import ChartPage

__all__ = ["CheckView", "check_view", "read_check_logs", "plan_or_swapped", "readable_specs"]


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

    def page(self, command: str = "") -> ChartPage:
        """The verdict, its lines and every span off the plan around the chart, for an HTML page."""
        from sched_cli import __version__
        from sched_cli.render.chart_page import ChartPage
        from sched_cli.render.html import Table

        v = self.verdict
        spans = Table(
            f"Spans off the plan ({len(v.spans):,})",
            ["first step", "last step", "logged points", "farthest at step", "logged", "planned", "ratio"],
            [
                [
                    f"{s.first_step:,}",
                    f"{s.last_step:,}",
                    f"{s.points:,}",
                    f"{s.worst_step:,}",
                    f"{s.worst_logged:.6g}",
                    f"{s.worst_planned:.6g}",
                    f"x{s.worst_ratio:.3g}" if s.worst_planned else "",
                ]
                for s in v.spans
            ],
        )
        return ChartPage(
            self.chart if self.chart is not None else Chart([], "", ""),
            v.headline(),
            ok=v.ok,
            lines=self.lines(verbose=False),
            tables=[spans] if v.spans else [],
            notes=self.notes,
            version=__version__,
            command=command,
        )


def read_check_logs(plan_arg: str, log_args: list[str], tag: str | None, step_col: str | None) -> LoggedLRs:
    """The run's logs, read as one; when they cannot be read and PLAN is a log, the arguments were
    given the wrong way round, and the error says so."""
    try:
        log = read_logs(log_args, tag, step_col)
    except LogError as exc:
        said = _swapped(plan_arg, log_args) or next(filter(None, map(_a_plan, log_args)), None)
        raise LogError(said or str(exc)) from None
    if step_col is not None and log.kind in _OWN_STEPS:
        raise LogError(
            f"--step-col {step_col}: {log.source} is a {log.kind} log, whose steps are its own; --step-col names "
            "the step column of a CSV or JSON lines log"
        )
    return log


#: The logs whose steps are not a column (``--step-col`` does not apply).
_OWN_STEPS = ("tensorboard", "hf trainer_state.json", "composer FileLogger")


def plan_or_swapped(plan_arg: str, log_args: list[str], load_plan: Callable[[], Spec]) -> Spec:
    """``load_plan()``; when PLAN cannot be read as a plan but as a log, the error says the
    arguments were given the wrong way round."""
    try:
        return load_plan()
    except Exception:  # any refusal (a directory, an unknown key...): re-raised unless PLAN is a log
        swapped = _swapped(plan_arg, log_args)
        if swapped:
            raise SpecError(swapped) from None
        raise


def readable_specs(paths: list[str], overrides: Overrides) -> None:
    """Refuse an ``--explain-with`` spec that cannot be read: a missing or mistyped file would
    otherwise be an explanation silently not tried."""
    for path in paths:
        try:
            load(path, overrides)
        except SpecError as exc:
            said = str(exc)
            raise SpecError(f"--explain-with {said if said.startswith(path) else f'{path}: {said}'}") from None


def _a_plan(log_arg: str) -> str | None:
    """The error for a plan given as LOG: a trainer's config or a sched spec, by its keys."""
    from pathlib import Path

    if not Path(log_arg).is_file():
        return None
    try:
        tool, data = plan_file(log_arg)
    except Exception:  # noqa: BLE001 - not a plan either: the log's own error stands
        return None
    if tool is None and not (isinstance(data, dict) and {"schedulers", "scheduler"} & set(data)):
        return None
    from sched_cli.readers import reader

    what = f"{reader(tool).TITLE}" if tool else "a sched spec"
    return (
        f"{log_arg} is a plan ({what}), not a log: LOG is what the run logged (its trainer_state.json or output "
        "directory, TensorBoard event files, a CSV of its LRs...)"
    )


def _swapped(plan_arg: str, log_args: list[str]) -> str | None:
    """The error for PLAN and LOG given the wrong way round: PLAN reads as a log (a file or directory
    of one), and none is read from it otherwise."""
    from pathlib import Path

    path = Path(plan_arg)
    if not (path.is_file() or path.is_dir()):
        return None
    try:
        as_log = read_logs([plan_arg])
    except (LogError, OSError):
        return None
    return (
        f"{plan_arg} is a log ({as_log.kind}, {as_log.tag!r}), given as PLAN: the plan comes first, then the "
        f"logs: sched check PLAN {plan_arg}" + (f" (is {log_args[0]} the plan?)" if len(log_args) == 1 else "")
    )


def check_view(
    spec: Spec,
    plan_arg: str,
    log_args: list[str] | LoggedLRs,
    overrides: Overrides,
    *,
    alignment: str | None = None,
    tolerance: float = 1e-6,
    tag: str | None = None,
    step_col: str | None = None,
    explain_with: list[str] | None = None,
) -> CheckView:
    log = log_args if isinstance(log_args, LoggedLRs) else read_logs(log_args, tag, step_col)
    rule, note = default_alignment(log, alignment)
    notes = [note] if note else []
    verdict, planned = check(spec, log, rule, tolerance)
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
        verdict.explanation = explain(
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
            plan_file=_plan_file(plan_arg, overrides),
        )
    return CheckView(verdict, notes, _chart(spec, log, rule, verdict, planned))


def _plan_file(plan_arg: str, overrides: Overrides) -> tuple[str | None, Any]:
    """The plan's reader and keys, for the explanations that change a key; none if it cannot be read
    again without running code."""
    if overrides.source == "mmengine":
        return "mmengine", None
    try:
        return plan_file(plan_arg, overrides)
    except (SpecError, ValueError):
        return None, None


def _chart(
    spec: Spec, log: LoggedLRs, rule: Alignment, verdict: Verdict, planned: np.ndarray, points: int = 2000
) -> Chart:
    """The plan as a line and the logged LRs as points, both against the log's steps. The plan an
    explanation names, when one fits, is a dashed line through the logged points (its LRs at the
    logged steps). The logged points off the plan are drawn again in red, over a band for each span
    off the plan (and one for the steps past the plan's end); the first divergence is pointed at
    with its numbers."""
    from sched_cli.views import shown

    view = shown(spec, spec.ssrs[0])
    rows = collect(view.rows("trainer", Selection(points=points)))
    # Update u is logged at step u - offset (the logger's rule, read backwards; in samples for a
    # log counted in samples).
    x = steps_of_rows(log, rule, spec, rows["batch"]).astype(np.float64)
    plan = Curve(f"plan: {spec.label}", x, rows["lr"])
    steps = log.steps.astype(np.float64)
    marks = [(float(s.first_step), "off the plan") for s in verdict.spans[:SPANS_SHOWN]]
    logged = Curve(f"logged: {log.tag}", steps, log.lrs, marks=marks, points=True)
    curves = [plan, logged]
    explained = verdict.explanation
    if explained is not None and explained.lrs is not None:
        on = ~np.isnan(explained.lrs)  # logged steps past the explanation's plan have no LR
        curves.append(Curve(f"explained: {explained.label}", steps[on], explained.lrs[on], dashed=True))
    # Half a step either side, so that a span of one step shows and neighbouring spans touch.
    bands = [Band(s.first_step - 0.5, s.last_step + 0.5, f"off the plan: {s.describe()}") for s in verdict.spans]
    # Logged steps outside the plan (before its first update, or past its end): a band for each
    # run of consecutive ones.
    past = np.isnan(planned)
    where = np.flatnonzero(past)
    for run in np.split(where, np.flatnonzero(np.diff(where) != 1) + 1) if len(where) else []:
        first, last = float(steps[run[0]]), float(steps[run[-1]])
        bands.append(Band(first - 0.5, last + 0.5, f"{len(run):,} logged steps outside the plan"))
    off = past.copy()
    for s in verdict.spans:
        # The log's steps are in order, so a span is every logged step from its first to its last.
        off |= (log.steps >= s.first_step) & (log.steps <= s.last_step)
    if off.any():
        curves.append(
            Curve(f"off the plan: {int(off.sum()):,} logged", steps[off], log.lrs[off], points=True, alarm=True)
        )
    callouts = []
    if verdict.first_divergence is not None:
        d = verdict.first_divergence
        where = f"{int(d['step']):,} samples" if verdict.unit == "sample" else f"step {int(d['step']):,}"
        callouts.append(
            Callout(
                float(d["step"]),
                float(d["logged"]),
                f"leaves the plan at {where}: logged {d['logged']:.3g}, planned {d['planned']:.3g}",
            )
        )
    verdict_line = "matches the plan" if verdict.ok else "leaves the plan"
    return Chart(
        curves,
        x_label="samples seen" if log.unit == "sample" else f"step ({log.kind}'s numbering)",
        y_label="learning rate",
        title=f"{spec.label}: the log {verdict_line}",
        bands=bands,
        callouts=callouts,
    )
