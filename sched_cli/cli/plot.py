"""``sched plot``: a schedule in the terminal, or to an image or HTML file."""

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
    SpecArg,
    SsrOpt,
    TitleOpt,
    XUnit,
    YAxis,
    app,
    with_global_options,
    with_run_options,
)
from sched_cli.cli.output import chart, check_label_count, check_output_dir, draw, is_html, write_report
from sched_cli.cli.process import user_errors
from sched_cli.cli.settings import load_all

if TYPE_CHECKING:  # pragma: no cover
    from sched_cli.cli.settings import Settings


@app.command()
@with_global_options
@with_run_options(repeatable=True)
def plot(
    spec: str = SpecArg,
    ssr: list[float] | None = SsrOpt,
    output: Path | None = typer.Option(
        None,
        "-o",
        "--output",
        help="Write a .png, .svg or .pdf, or an interactive .html page, instead of plotting in the terminal.",
    ),
    x: XUnit | None = typer.Option(None, "--x", help="X axis unit. Default: the unit of max_duration."),
    y: YAxis | None = typer.Option(
        None, "--y", help="Y axis: the multiplier, or the LR (needs a base LR). Default: lr if known."
    ),
    log: bool = LogOpt,
    as_trainer: bool = AsTrainerOpt,
    points: int = typer.Option(PLOT_POINTS, "--points", min=2, help="Points per curve (breakpoints are always added)."),
    width: int | None = typer.Option(None, "--width", min=40, help="Terminal plot width (default: the terminal's)."),
    height: int = typer.Option(24, "--height", min=10, help="Terminal plot height in lines."),
    label: list[str] | None = LabelOpt,
    title: str | None = TitleOpt,
    settings: Settings = RUN_OPTIONS,
) -> None:
    """Plot a schedule, one curve per SSR (or per value of a repeated run setting), in the terminal or to a file.

    Example:  sched plot sample_specs/resnet50_imagenet.yaml --ssr 0.5 --ssr 1 -o resnet.png
    """
    with user_errors():
        if output is not None:
            check_output_dir(output, [spec])
        check_label_count(1, label)
        every = load_all([spec], settings, ssr, label)
        title = title or every.title
        if is_html(output):
            write_report(
                "plot", every.specs, every.inputs, output, x, y, log, as_trainer, points, by_fraction=False, title=title
            )
            return
        drawn = chart(every.specs, x, y, log, as_trainer, points, by_fraction=False, title=title)
        draw(drawn, output, width, height)
