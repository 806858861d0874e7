"""``sched check``: a run's logged LRs against the exact plan, and the reason when they differ."""

from __future__ import annotations

import enum
import math
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from sched_cli.cli.options import RUN_OPTIONS, SsrOpt, app, load, with_global_options, with_run_options
from sched_cli.cli.output import check_image_suffix, check_output_dir, command_line, draw, is_html, write_chart_page
from sched_cli.cli.process import Options, UserError, user_errors, warning

if TYPE_CHECKING:  # pragma: no cover
    from sched_cli.specs import Overrides

#: ``sched check``: the log leaves the plan.
EXIT_DIVERGES = 1


class CheckFormat(str, enum.Enum):
    """``sched check --format``: the verdict in words, or as one JSON object."""

    text = "text"
    json = "json"


@app.command()
@with_global_options
@with_run_options
def check(
    plan: str = typer.Argument(..., metavar="PLAN", help="What the run was meant to do: any spec or file sched reads."),
    logs: list[str] = typer.Argument(
        ...,
        metavar="LOG...",
        help="The run's log: trainer_state.json (or its output directory), a TensorBoard event file or directory, "
        "trainer_log.jsonl, scalars.json, metrics.csv, a Composer FileLogger .txt, DeepSpeed's Train_Samples_lr.csv, "
        "a W&B export, or any CSV/JSON lines with a step and an LR column; - reads it from standard input. "
        "Several: one run's logs (a resumed run's), read as one.",
    ),
    ssr: list[float] | None = SsrOpt,
    alignment: str | None = typer.Option(
        None,
        "--alignment",
        help="The logger's rule: hf, hf-legacy, composer, lightning, mmengine, megatron, deepspeed, current, next, "
        "zero, or an offset N (step s logs the LR of update s+N). Default: the log's own.",
    ),
    tolerance: float = typer.Option(
        1e-6, "--tolerance", min=0.0, help="Relative tolerance (float32 logs round to 6e-8). Default: 1e-6."
    ),
    tag: str | None = typer.Option(
        None,
        "--tag",
        "--lr-col",
        help="The TensorBoard tag or column of the LR. Default: the LR the log's trainer writes.",
    ),
    step_col: str | None = typer.Option(None, "--step-col", help="The column of the step, in a CSV or JSON log."),
    fmt: CheckFormat | None = typer.Option(None, "--format", "-f", help="json: the verdict as one JSON object."),
    output: Path | None = typer.Option(
        None,
        "-o",
        "--output",
        help="Also draw the plan and the logged LRs, the spans off the plan marked, to a .png, .svg or .pdf, "
        "or to a self-contained .html page with the verdict.",
    ),
    plot: bool = typer.Option(False, "--plot", help="Also draw the plan and the logged LRs in the terminal."),
    explain_with: list[str] | None = typer.Option(
        None,
        "--explain-with",
        metavar="SPEC",
        help="Another spec the run may have followed (a DeepSpeed-scheduled twin, the spec it was resumed "
        "with): tried as the whole plan, then as a resume from PLAN where the log leaves it. Repeat for several.",
    ),
    overrides: Overrides = RUN_OPTIONS,
) -> None:
    """Check a run's logged LRs against the plan: exit 0 when every logged LR matches, 1 at the
    first divergence (with the spans off the plan, and the reason when one fits), 2 on an error.

    The run options below (--dataset-size, --devices, ...) say how the plan was run, as in the
    other commands.

    \b
    Examples:
      sched check args.json output_dir/ --dataset-size 52000 --devices 8
      sched check args.json output_dir/runs -o check.png    (TensorBoard events; a picture)
      sched check plan.yaml metrics.csv --format json       (the verdict for a script)
    """
    with user_errors():
        from sched_cli.logs import alignment_from_option
        from sched_cli.views_check import check_view, plan_or_swapped, read_check_logs, readable_specs

        # Every option is checked, and the logs read, before the plan is loaded, and the plan's
        # notes are printed once the check is made: an error is the one line on stderr.
        if fmt is not None and fmt.value == "json" and plot:
            raise UserError(
                "--plot draws on standard output, where --format json prints the verdict: give -o FILE instead"
            )
        if not math.isfinite(tolerance):
            raise UserError(f"--tolerance {tolerance}: give a finite relative tolerance, such as 1e-6 (the default)")
        if output is not None:
            check_image_suffix(output)
            check_output_dir(output, [plan, *logs])
        if alignment is not None:
            alignment_from_option(alignment)
        log = read_check_logs(plan, logs, tag, step_col)
        readable_specs(explain_with or [], overrides)
        said: list = []  # the plan's notes, printed once the check has not failed
        loaded = plan_or_swapped(plan, logs, lambda: load(plan, overrides, ssr, later=said))
        view = check_view(
            loaded,
            plan,
            log,
            overrides,
            alignment=alignment,
            tolerance=tolerance,
            tag=tag,
            step_col=step_col,
            explain_with=explain_with,
        )
        for say in said:
            say()
        for note in view.notes:
            warning(note)
        if fmt is not None and fmt.value == "json":
            import json

            typer.echo(json.dumps(view.verdict.as_dict()))
        else:
            typer.echo(view.verdict.headline())
            for line in view.lines(verbose=Options.verbose):
                typer.echo(f"  {line}")
        if is_html(output):
            write_chart_page(view.page(command_line("check", [plan, *logs], output)), output)
        elif output is not None:
            draw(view.chart, output, None, 20)
        if plot:
            draw(view.chart, None, None, 20)
        if not view.verdict.ok:
            raise typer.Exit(EXIT_DIVERGES)
