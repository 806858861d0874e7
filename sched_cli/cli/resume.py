"""``sched resume``: a run resumed from one spec's checkpoint with another spec."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from sched_cli.cli.options import (
    PLOT_POINTS,
    RUN_OPTIONS,
    AsTrainerOpt,
    LogOpt,
    SsrOpt,
    XUnit,
    YAxis,
    app,
    load,
    mode_of,
    with_run_options,
)
from sched_cli.cli.output import chart, draw, is_html, stdout_console, summary_table, write_report
from sched_cli.cli.process import UserError, user_errors

if TYPE_CHECKING:  # pragma: no cover
    from sched_cli.specs import Overrides


@app.command("resume")
@with_run_options
def resume_(
    before: str = typer.Argument(..., metavar="BEFORE", help="The spec the run was trained with until the checkpoint."),
    after: str = typer.Argument(..., metavar="AFTER", help="The spec the run was resumed with."),
    at: str = typer.Option(..., "--at", metavar="TIME", help="Where the checkpoint was taken, e.g. 5000ba, 3ep."),
    ssr: list[float] | None = SsrOpt,
    output: Path | None = typer.Option(
        None, "-o", "--output", help="Write the plot to a .png, .svg or .pdf, or an interactive .html page."
    ),
    x: XUnit | None = typer.Option(None, "--x", help="X axis unit. Default: ba."),
    y: YAxis | None = typer.Option(None, "--y", help="Y axis: the multiplier, or the LR. Default: lr if known."),
    log: bool = LogOpt,
    as_trainer: bool = AsTrainerOpt,
    width: int | None = typer.Option(None, "--width", min=40, help="Terminal plot width."),
    height: int = typer.Option(20, "--height", min=10, help="Terminal plot height in lines."),
    overrides: Overrides = RUN_OPTIONS,
) -> None:
    """Show a run resumed from BEFORE's checkpoint with AFTER: both segments plotted, the LR
    across the resume, and what Composer's Trainer makes of it (the run options apply to AFTER).

    Example:  sched resume before.yaml after.yaml --at 5000ba --as-trainer
    """
    with user_errors():
        from dataclasses import replace

        from sched_cli.views import resume_notes

        if overrides.resume_from is not None or overrides.resume_at is not None:
            raise UserError("sched resume takes BEFORE and --at itself; drop --resume-from/--resume-at")
        loaded = load(after, replace(overrides, resume_from=before, resume_at=at), ssr)
        if is_html(output):
            write_report("resume", [loaded], [after], output, x or XUnit.ba, y, log, as_trainer, PLOT_POINTS, False)
        else:
            drawn = chart([loaded], x or XUnit.ba, y, log, as_trainer, PLOT_POINTS, by_fraction=False)
            draw(drawn, output, width, height)
        summary_table([loaded], as_trainer)
        console = stdout_console()
        for line in resume_notes(loaded, mode_of(as_trainer)):
            console.print(line, markup=False, soft_wrap=True)
