"""``sched report``: one self-contained HTML page of specs, their curves and summary."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from sched_cli.cli.options import (
    PLOT_POINTS,
    RUN_OPTIONS,
    AsTrainerOpt,
    SpecsArg,
    SsrOpt,
    XUnit,
    YAxis,
    app,
    with_global_options,
    with_run_options,
)
from sched_cli.cli.output import is_html, write_report
from sched_cli.cli.process import UserError, user_errors
from sched_cli.cli.settings import load_all

if TYPE_CHECKING:  # pragma: no cover
    from sched_cli.cli.settings import Settings


@app.command()
@with_global_options
@with_run_options(repeatable=True)
def report(
    specs: list[str] = SpecsArg,
    output: Path | None = typer.Option(
        None, "-o", "--output", help="The .html file to write. Default: standard output, if it is not a terminal."
    ),
    ssr: list[float] | None = SsrOpt,
    x: XUnit | None = typer.Option(
        None, "--x", help="X unit shown first. Default: max_duration's unit (dur for several specs)."
    ),
    y: YAxis | None = typer.Option(None, "--y", help="Y axis shown first: multiplier, or lr. Default: lr if known."),
    log: bool = typer.Option(False, "--log", help="Start with a logarithmic Y axis."),
    as_trainer: bool = AsTrainerOpt,
    points: int = typer.Option(PLOT_POINTS, "--points", min=2, help="Points per curve (breakpoints are always added)."),
    settings: Settings = RUN_OPTIONS,
) -> None:
    """Write one self-contained HTML page to explore and share: an interactive chart of every
    spec and SSR (zoom, hover for exact values, switch units), the summary table, the specs
    and their warnings. It opens offline in any browser.

    Example:  sched report sample_specs/resnet50_imagenet.yaml --ssr 0.5 --ssr 1 --ssr 2 -o resnet.html
    """
    with user_errors():
        if output is None and sys.stdout.isatty():
            raise UserError("sched report writes HTML: give -o report.html (or redirect standard output)")
        if output is not None and not is_html(output):
            raise UserError(f"-o {output}: a report is an .html file; use a name ending in .html")
        every = load_all(specs, settings, ssr, None)
        several = len(every.specs) > 1
        title = every.title
        write_report("report", every.specs, every.inputs, output, x, y, log, as_trainer, points, several, title)
