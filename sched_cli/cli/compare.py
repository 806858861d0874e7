"""``sched compare``: a summary table and an overlay plot of several specs and SSRs."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from sched_cli.cli.options import (
    PLOT_POINTS,
    RUN_OPTIONS,
    AsTrainerOpt,
    LabelOpt,
    LogOpt,
    SpecsArg,
    SsrOpt,
    TableFormat,
    TitleOpt,
    XUnit,
    YAxis,
    app,
    with_global_options,
    with_run_options,
)
from sched_cli.cli.output import (
    chart,
    check_label_count,
    check_output_dir,
    draw,
    is_html,
    summary_table,
    write_report,
)
from sched_cli.cli.process import user_errors
from sched_cli.cli.settings import load_all

if TYPE_CHECKING:  # pragma: no cover
    from sched_cli.cli.settings import Settings


@app.command()
@with_global_options
@with_run_options(repeatable=True)
def compare(
    specs: list[str] = SpecsArg,
    ssr: list[float] | None = SsrOpt,
    output: Path | None = typer.Option(
        None, "-o", "--output", help="Write the overlay plot to a .png, .svg or .pdf, or a report to .html."
    ),
    x: XUnit = typer.Option(XUnit.dur, "--x", help="X axis: dur (fraction of each run) or an absolute unit."),
    y: YAxis | None = typer.Option(None, "--y", help="Y axis: multiplier, or lr (needs a base LR)."),
    log: bool = LogOpt,
    as_trainer: bool = AsTrainerOpt,
    no_plot: bool = typer.Option(False, "--no-plot", help="Print only the summary table."),
    width: int | None = typer.Option(None, "--width", min=40, help="Terminal plot width."),
    height: int = typer.Option(20, "--height", min=10, help="Terminal plot height in lines."),
    label: list[str] | None = LabelOpt,
    title: str | None = TitleOpt,
    fmt: TableFormat | None = typer.Option(
        None,
        "--format",
        "-f",
        help="Print only the summary, for scripts: text, csv, tsv or json (every column, exact values).",
    ),
    settings: Settings = RUN_OPTIONS,
) -> None:
    """Compare schedules across SSRs, specs or a run setting: a summary table and an overlay plot.

    Repeat a run setting to compare its values (--devices 8 --devices 16), one at a time; give a
    spec its own with SPEC@name=value (args.json@devices=16, 'cosine(...)@max_duration=1000ba').

    Example:  sched compare sample_specs/resnet50_imagenet.yaml --ssr 0.25 --ssr 0.5 --ssr 1
    """
    with user_errors():
        check_label_count(len(specs), label)  # before loading anything
        if output is not None:
            check_output_dir(output, specs)
        every = load_all(specs, settings, ssr, label)
        loaded = every.specs
        summary_table(loaded, as_trainer, fmt, every.title)
        title = title or every.title
        if is_html(output):
            write_report(
                "compare",
                loaded,
                every.inputs,
                output,
                x,
                y,
                log,
                as_trainer,
                PLOT_POINTS,
                by_fraction=True,
                title=title,
            )
        elif (not no_plot and fmt is None) or output is not None:
            drawn = chart(loaded, x, y, log, as_trainer, PLOT_POINTS, by_fraction=True, title=title)
            draw(drawn, output, width, height)
