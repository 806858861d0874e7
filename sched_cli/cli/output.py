"""What several commands print through: standard output's console, tables, charts drawn in the
terminal or to a file, the HTML report, progress bars, and the checks on an output path."""

from __future__ import annotations

import errno
import sys
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from sched_cli.cli.options import PLOT_POINTS, TableFormat, mode_of
from sched_cli.cli.process import Options, UserError, note, stderr_console, wrote

if TYPE_CHECKING:  # pragma: no cover
    from sched_cli.specs import Spec

__all__ = ["PLOT_POINTS"]

#: Bounds on what a plot computes and draws (more than a screen or an image can show).
MAX_PLOT_POINTS = 100_000
MAX_PLOT_WIDTH = 1_000
#: The narrowest terminal plot (``--width``'s minimum): room for a legend and tick labels.
MIN_PLOT_WIDTH = 40
MAX_PLOT_HEIGHT = 500


def stdout_console():
    from rich.console import Console

    class PipeConsole(Console):
        def on_broken_pipe(self) -> None:
            # Rich's own handling exits with code 1; leave it to `guarded`, as for any output.
            raise BrokenPipeError(errno.EPIPE, "Broken pipe")

    console = PipeConsole(highlight=False)
    if not console.is_terminal:
        # In a pipe or file there is no screen to fit: do not wrap tables at 80 columns.
        console = PipeConsole(highlight=False, width=200)
    return console


def progress(total: int, label: str, enabled: bool):
    """A progress callback (and its context) for long per-call evaluations, on a terminal only."""
    if not enabled or Options.quiet or not sys.stderr.isatty():
        return nullcontext(None)
    from rich.progress import Progress

    @contextmanager
    def bar():
        with Progress(transient=True, console=stderr_console()) as shown:
            task = shown.add_task(label, total=total)
            yield lambda done: shown.update(task, completed=done)

    return bar()


def progress_for(spec: Spec, total: int, label: str):
    """A progress bar for a spec whose schedulers are evaluated one call at a time (custom ones)."""
    from sched_cli.views import has_custom_schedulers

    return progress(total, label, has_custom_schedulers(spec))


def print_table(view, fmt: TableFormat | None) -> None:
    """A table on standard output: boxed and fitted to the width on a terminal; with --format,
    or in a pipe (as tsv), plain text for scripts with every column and exact values."""
    from sched_cli.render.tables import render_text, rich_table

    console = stdout_console()
    if fmt is None and console.is_terminal:
        console.print(rich_table(view, console.width))
        return
    sys.stdout.write(render_text(view, fmt.value if fmt else "tsv"))
    sys.stdout.flush()
    if view.caption:
        # Lines about the table (the LR across a resume...) go to stderr, so stdout stays parsable.
        typer.echo(view.caption, err=True)


def summary_table(specs, as_trainer: bool, fmt: TableFormat | None = None, title: str | None = None) -> None:
    """``compare``'s summary; ``title`` (what a what-if varies) replaces the specs' names."""
    from sched_cli.views import summary_view

    view = summary_view(specs, mode_of(as_trainer), progress_for)
    if title:
        view.title = title + (" (as the Trainer applies it)" if as_trainer else "")
    print_table(view, fmt)


# -- charts -----------------------------------------------------------------------------------------
def draw(chart, output: Path | None, width: int | None, height: int) -> None:
    """A chart in the terminal, or to the image file ``output``."""
    check_plot_size(width=width, height=height)
    if output is not None:
        from sched_cli.render.figure import save_figure

        check_image_suffix(output, html=False)
        check_output_dir(output)
        save_figure(chart, output)
        wrote(f"wrote {output}")
        return
    from sched_cli.render.terminal import render_terminal_plot

    console = stdout_console()
    # Never narrower than --width allows (a narrow terminal wraps the lines, not the plot), and
    # under NO_COLOR curves differ by glyph, not by a colour that is not shown.
    width = width or max(MIN_PLOT_WIDTH, min(console.width, 140))
    color = console.is_terminal and not console.no_color
    drawn = render_terminal_plot(chart, width=width, height=height, color=color)
    sys.stdout.write(drawn.text if drawn.text.endswith("\n") else drawn.text + "\n")
    sys.stdout.flush()
    for line in drawn.notes:
        note(line)


def labelled(specs: list[Spec], labels: list[str] | None) -> list[Spec]:
    """The specs named by ``--label`` (one per spec, in order), as their titles."""
    from dataclasses import replace

    if not labels:
        return specs
    check_label_count(len(specs), labels)
    return [replace(s, title=label) for s, label in zip(specs, labels, strict=True)]


def check_label_count(specs: int, labels: list[str] | None) -> None:
    if labels and len(labels) != specs:
        raise UserError(
            f"--label was given {len(labels)} time{'s' if len(labels) != 1 else ''} for {specs} "
            f"spec{'s' if specs != 1 else ''}; give one --label per spec, in the same order"
        )


def view_options(x, y, log, as_trainer, points, by_fraction) -> dict[str, Any]:
    """The chart options plot, compare and report share, as the views take them."""
    return {
        "x": x.value if x else None,
        "y": y.value if y else None,
        "log": log,
        "mode": mode_of(as_trainer),
        "points": points,
        "by_fraction": by_fraction,
        "progress": progress_for,
    }


def chart(specs, x, y, log, as_trainer, points, by_fraction, title=None):
    from sched_cli.views import chart as make_chart

    check_plot_size(points=points)
    return make_chart(specs, **view_options(x, y, log, as_trainer, points, by_fraction), title=title)


def check_plot_size(points: int | None = None, width: int | None = None, height: int | None = None) -> None:
    """Bound what a plot computes and draws: points per curve, and the terminal plot's size."""
    for option, value, limit in (
        ("--points", points, MAX_PLOT_POINTS),
        ("--width", width, MAX_PLOT_WIDTH),
        ("--height", height, MAX_PLOT_HEIGHT),
    ):
        if value is not None and value > limit:
            raise UserError(f"{option} {value:,} is more than a plot can use (at most {limit:,})")


# -- the HTML report --------------------------------------------------------------------------------
def check_image_suffix(output: Path, html: bool = True) -> None:
    """Refuse an ``-o`` that names no picture sched draws (before anything runs, when the command
    calls it first); ``html``: an HTML page is one of them."""
    if output.suffix.lower() not in (".png", ".svg", ".pdf") and not (html and is_html(output)):
        raise UserError(
            f"-o {output}: unknown image format {output.suffix or '(none)'!r}; use .png, .svg, .pdf or .html"
        )


def is_html(output: Path | None) -> bool:
    return output is not None and output.suffix.lower() in (".html", ".htm")


def write_report(
    name: str, specs, inputs, output: Path | None, x, y, log, as_trainer, points, by_fraction, title=None
) -> None:
    from sched_cli.render.html import render_html, save_html
    from sched_cli.views import report

    if output is not None:
        check_output_dir(output)
    command = command_line(name, inputs, output)
    page = report(
        specs, inputs, **view_options(x, y, log, as_trainer, points, by_fraction), command=command, title=title
    )
    if output is None:
        sys.stdout.write(render_html(page))
        sys.stdout.flush()
        return
    save_html(page, output)
    wrote(f"wrote {output} ({page.points:,} points)")


def write_chart_page(page, output: Path) -> None:
    """A chart page (``check -o x.html``): written whole, or not at all on an error or a signal."""
    from sched_cli.render.chart_page import save_chart_page

    check_output_dir(output)
    save_chart_page(page, output)
    wrote(f"wrote {output}")


def command_line(name: str, inputs, output: Path | None) -> str:
    """The command line as the user typed it, for a page to show."""
    import shlex

    if Options.argv is not None:
        return "sched " + shlex.join(Options.argv)
    # called as a library (tests' CliRunner): the raw command line is not known
    return f"sched {name} " + shlex.join([*inputs] + (["-o", str(output)] if output is not None else []))


# -- output paths -----------------------------------------------------------------------------------
def check_output_dir(output: Path, inputs: list[str] | tuple[str, ...] = ()) -> None:
    """Refuse an output that cannot or must not be written (see ``check_output``): before
    anything runs when the command gives its ``inputs``, so a spec is never overwritten."""
    from sched_cli.render.writers import check_output
    from sched_cli.specs import is_spec_file_argument

    check_output(output, [arg for arg in inputs if is_spec_file_argument(arg)])
