"""The ``sched`` command line: specs in; tables, plots, CSV and JSON out.

Commands parse options and call into the library; they do not compute. Heavy modules (numpy,
matplotlib, torch) are imported inside the commands that need them, so ``sched --help`` starts
fast.
"""

from __future__ import annotations

import enum
import errno
import functools
import inspect
import io
import os
import sys
import typing
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:  # pragma: no cover
    from sched_cli.specs import Overrides, Spec

__all__ = ["app", "main"]

EXIT_USAGE = 2
EXIT_INTERNAL = 1
#: ``validate --strict``: every spec is valid, but some have warnings.
EXIT_WARNINGS = 1
EXIT_INTERRUPTED = 130
#: A closed pipe ends sched as SIGPIPE ends other Unix tools: 128 + 13, quietly.
EXIT_PIPE_CLOSED = 141
#: Write failures that mean "the disk is full" (or the user's file size limit is reached): exit 1.
_DISK_FULL = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT}
#: Above this many rows, export asks for --every or --points instead of listing every batch.
MAX_EXPORT_ROWS = 50_000_000
#: Points per curve in plots (breakpoints are always added).
PLOT_POINTS = 2000
#: Bounds on what a plot computes and draws (more than a screen or an image can show).
MAX_PLOT_POINTS = 100_000
MAX_PLOT_WIDTH = 1_000
MAX_PLOT_HEIGHT = 500

app = typer.Typer(
    name="sched",
    help=(
        "Preview and export Composer-style learning-rate schedules, exactly as Composer 0.32 computes them.\n\n"
        "Example:  sched plot sample_specs/gpt_llm_foundry.yaml --ssr 0.5 --ssr 1"
    ),
    add_completion=True,
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


class _Options:
    #: The command line as typed (set by :func:`main`), for a report to say how it was made.
    argv: list[str] | None = None
    quiet = False
    verbose = False
    debug = False
    #: Warnings already printed by this command, so that each is printed once.
    warned: set[str] = set()
    interrupted = False  # "sched: interrupted" was printed


class XUnit(str, enum.Enum):
    ep = "ep"
    ba = "ba"
    sp = "sp"
    tok = "tok"
    dur = "dur"


class YAxis(str, enum.Enum):
    multiplier = "multiplier"
    lr = "lr"


class Format(str, enum.Enum):
    csv = "csv"
    json = "json"
    jsonl = "jsonl"


class TableFormat(str, enum.Enum):
    text = "text"
    csv = "csv"
    tsv = "tsv"
    json = "json"


class StepEvery(str, enum.Enum):
    batch = "batch"
    epoch = "epoch"


class SpecFormat(str, enum.Enum):
    sched = "sched"
    foundry = "foundry"
    hf = "hf"
    timm = "timm"
    mmengine = "mmengine"


# -- shared options ---------------------------------------------------------------------------------
SpecArg = typer.Argument(
    ...,
    metavar="SPEC",
    help="A spec file (.yaml/.json/.toml) or an inline scheduler, e.g. 'cosine_with_warmup(t_warmup=100ba)'.",
)
SsrOpt = typer.Option(None, "--ssr", help="Scale schedule ratio; repeat for several. Default: the spec's, else 1.")
MaxDurationOpt = typer.Option(
    None, "--max-duration", help="Run length, e.g. 90ep, 10000ba, 1e9tok (overrides the spec)."
)
DataloaderLenOpt = typer.Option(None, "--dataloader-len", help="Batches per epoch (overrides the spec).")
DatasetSizeOpt = typer.Option(
    None, "--dataset-size", help="Training samples; with --devices and a batch size gives batches per epoch."
)
DevicesOpt = typer.Option(None, "--devices", help="Number of devices (world size).")
DeviceBatchSizeOpt = typer.Option(None, "--device-batch-size", help="Samples per batch on each device.")
BatchSizeOpt = typer.Option(None, "--batch-size", help="Samples per batch across all devices (overrides the spec).")
DropLastOpt = typer.Option(
    None, "--drop-last/--no-drop-last", help="Drop the samples that do not fill a batch (default: no)."
)
SeqLenOpt = typer.Option(None, "--seq-len", help="Tokens per sample (overrides the spec).")
LrOpt = typer.Option(None, "--lr", help="Base learning rate (overrides the spec).")
AutoScaleLrOpt = typer.Option(
    None,
    "--auto-scale-lr",
    help="MMEngine configs: switch auto_scale_lr on, as OpenMMLab's tools/train.py --auto-scale-lr does.",
)
StepEveryOpt = typer.Option(None, "--step-every", help="When schedulers step (overrides the spec).")
FromOpt = typer.Option(
    None,
    "--from",
    help="Read SPEC as a sched spec, an LLM Foundry YAML (training config or MCLI run), a Hugging Face "
    "TrainingArguments file (JSON/YAML), a timm args.yaml or an MMEngine config (a .py one only with this "
    "option, as reading it runs it). Default: recognised from its keys.",
)
LabelOpt = typer.Option(
    None, "--label", help="Name a spec in legends and tables; repeat, one per spec, in order. Default: its title."
)
TitleOpt = typer.Option(None, "--title", help="Title of the plot. Default: the specs' titles.")
TableFormatOpt = typer.Option(
    None,
    "--format",
    "-f",
    help="For scripts: text (aligned), csv, tsv or json, every column, exact values. "
    "Default: a table fitted to the terminal; tsv in a pipe.",
)
AllowImportOpt = typer.Option(
    None,
    "--allow-import",
    metavar="PKG",
    help="Let the spec's custom schedulers come from module PKG (and its submodules); repeat for several. "
    "Also: SCHED_ALLOW_IMPORT=pkg1,pkg2.",
)
AsTrainerOpt = typer.Option(
    False,
    "--as-trainer",
    help="Show what Composer's Trainer applies (one-batch lag; only the last scheduler in force).",
)

ResumeFromOpt = typer.Option(
    None,
    "--resume-from",
    metavar="BEFORE",
    help="The run was resumed from a checkpoint of BEFORE (a spec): show both segments. Needs --resume-at.",
)
ResumeAtOpt = typer.Option(
    None, "--resume-at", metavar="TIME", help="Where BEFORE's checkpoint was taken, e.g. 5000ba, 3ep, 4e9tok."
)
StopAtOpt = typer.Option(
    None, "--stop-at", metavar="TIME", help="Preview the run stopped early at TIME (e.g. 4e12tok): the LR it ends on."
)

# The options that describe the run, shared by every command that reads a spec.
_RUN_OPTIONS = {
    "max_duration": (str | None, MaxDurationOpt),
    "dataloader_len": (int | None, DataloaderLenOpt),
    "dataset_size": (int | None, DatasetSizeOpt),
    "devices": (int | None, DevicesOpt),
    "device_batch_size": (int | None, DeviceBatchSizeOpt),
    "batch_size": (int | None, BatchSizeOpt),
    "drop_last": (bool | None, DropLastOpt),
    "seq_len": (int | None, SeqLenOpt),
    "lr": (float | None, LrOpt),
    "auto_scale_lr": (bool | None, AutoScaleLrOpt),
    "step_every": (StepEvery | None, StepEveryOpt),
    "source": (SpecFormat | None, FromOpt),
    "resume_from": (str | None, ResumeFromOpt),
    "resume_at": (str | None, ResumeAtOpt),
    "stop_at": (str | None, StopAtOpt),
    "allow_import": (list[str] | None, AllowImportOpt),
}
#: Placeholder default of the ``overrides`` parameter that :func:`_with_run_options` fills in.
RUN_OPTIONS = None


def _with_run_options(command):
    """Give a command the options that describe the run (``--max-duration`` ... ``--step-every``),
    declared once here, and hand it their values as one :class:`Overrides` in ``overrides``."""
    signature = inspect.signature(command)
    # Typer needs real types; `Overrides` stands only in the annotation this wrapper removes.
    hints = typing.get_type_hints(command, localns={"Overrides": object})
    own = [p.replace(annotation=hints[name]) for name, p in signature.parameters.items() if name != "overrides"]
    added = [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=option, annotation=kind)
        for name, (kind, option) in _RUN_OPTIONS.items()
    ]

    @functools.wraps(command)
    def wrapper(**kwargs):
        from sched_cli.specs import Overrides as _Overrides

        values = {name: kwargs.pop(name) for name in _RUN_OPTIONS}
        values = {name: v.value if isinstance(v, enum.Enum) else v for name, v in values.items()}
        return command(**kwargs, overrides=_Overrides(**values))

    parameters = own + added
    wrapper.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {p.name: p.annotation for p in parameters}
    return wrapper


# -q/-v/--debug work before the command (on the app) and after it (on each command): declared once.
QuietOpt = typer.Option(False, "--quiet", "-q", help="Print no notes or warnings, only results and errors.")
VerboseOpt = typer.Option(False, "--verbose", "-v", help="Also print what sched is doing.")
DebugOpt = typer.Option(False, "--debug", help="Show a Python traceback on errors.")
_GLOBAL_OPTIONS = {"quiet": QuietOpt, "verbose": VerboseOpt, "debug": DebugOpt}


def _with_global_options(command):
    """Let ``-q``, ``-v`` and ``--debug`` follow the command too (``sched plot spec.yaml -q``):
    each is added to the command's own options and switches on what the app-level one does."""
    signature = inspect.signature(command)
    added = [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=option, annotation=bool)
        for name, option in _GLOBAL_OPTIONS.items()
    ]

    @functools.wraps(command)
    def wrapper(**kwargs):
        for name in _GLOBAL_OPTIONS:
            if kwargs.pop(name):
                setattr(_Options, name, True)
        return command(**kwargs)

    parameters = list(signature.parameters.values()) + added
    wrapper.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {**getattr(command, "__annotations__", {}), **{p.name: bool for p in added}}
    return wrapper


def _load(arg: str, overrides: Overrides, ssrs: list[float] | None) -> Spec:
    from sched_cli.specs import check, load, with_ssrs

    spec = with_ssrs(load(arg, overrides), ssrs or [])
    for warning in check(spec):
        _warning(warning)
    return spec


# -- output helpers ---------------------------------------------------------------------------------
def _stderr_console():
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def _stdout_console():
    from rich.console import Console

    class PipeConsole(Console):
        def on_broken_pipe(self) -> None:
            # Rich's own handling exits with code 1; leave it to _guarded, as for any output.
            raise BrokenPipeError(errno.EPIPE, "Broken pipe")

    console = PipeConsole(highlight=False)
    if not console.is_terminal:
        # In a pipe or file there is no screen to fit: do not wrap tables at 80 columns.
        console = PipeConsole(highlight=False, width=200)
    return console


def _note(message: str) -> None:
    """A warning about the spec (it is valid, but probably not what was meant); not with -q."""
    _warning(message)


def _wrote(message: str) -> None:
    """Say what a command wrote to a file (on stderr, so stdout stays for results); not with -q."""
    if not _Options.quiet:
        from rich.markup import escape

        _stderr_console().print(escape(message), soft_wrap=True)


def _warning(message: str) -> None:
    """``warning: MESSAGE`` on one line of stderr, once per message per command, unless -q."""
    text = " ".join(message.split())
    if _Options.quiet or text in _Options.warned:
        return
    _Options.warned.add(text)
    from rich.markup import escape

    _stderr_console().print(f"[yellow]warning:[/] {escape(text)}", soft_wrap=True)


@contextmanager
def _warnings_as_lines() -> Iterator[None]:
    """Python warnings raised while a command runs (Composer's zero-warmup warning, a library's
    deprecation) printed by :func:`_warning`: one line each, once, hidden by -q; never the
    warnings module's own report with its source line."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.showwarning = lambda message, *_args, **_kwargs: _warning(str(message))
        yield


def _info(message: str) -> None:
    if _Options.verbose:
        _stderr_console().print(f"[dim]{message}[/]", soft_wrap=True)


class UserError(Exception):
    """A problem with what the user typed: reported in one line, exit code 2."""


@contextmanager
def _user_errors() -> Iterator[None]:
    """Turn every expected failure into one line on stderr and exit code 2 (130 on Ctrl-C).

    A full disk is exit code 1; a closed pipe, a signal or a failing standard output pass on to
    :func:`_guarded`, which handles them the same way for every command."""
    from sched_cli.render.writers import OutputError
    from sched_cli.schedulers.base import ScheduleError
    from sched_cli.specs import SpecError
    from sched_cli.time import TimeStringError
    from sched_cli.views import ViewError

    try:
        yield
    except KeyboardInterrupt:
        _report_interrupted()
        raise typer.Exit(EXIT_INTERRUPTED) from None
    except (UserError, SpecError, ScheduleError, TimeStringError, OutputError, ViewError) as exc:
        if _Options.debug:
            raise
        _error("error", str(exc))
        raise typer.Exit(_exit_code_of(exc)) from None
    except (typer.Exit, typer.Abort, _click_exception()):
        raise
    except Exception as exc:  # noqa: BLE001 - a bug of ours: still one line, not a traceback
        if _is_stream_failure(exc):
            raise
        _internal_error(exc)
        raise typer.Exit(EXIT_INTERNAL) from None


def _report_interrupted() -> None:
    """``sched: interrupted``, once, wherever Ctrl-C arrived."""
    if not _Options.interrupted:
        _Options.interrupted = True
        _stderr_console().print("[red]sched: interrupted[/]")


def _internal_error(exc: BaseException) -> None:
    """One line for a bug of ours (the traceback with --debug)."""
    if _Options.debug or "--debug" in sys.argv[1:]:
        import traceback

        traceback.print_exception(exc)
        return
    _error("internal error", f"{type(exc).__name__}: {exc} (run with --debug for the traceback, and please report it)")


def _exit_code_of(exc: BaseException) -> int:
    """2 for a user error; 1 when the disk (or the user's file size limit) is full."""
    return EXIT_INTERNAL if getattr(exc, "errno", None) in _DISK_FULL else EXIT_USAGE


def _error(kind: str, message: str) -> None:
    from rich.markup import escape

    text = escape(" ".join(message.split("\n")))
    _stderr_console().print(f"[red]sched: {kind}:[/] {text}", soft_wrap=True, highlight=False)


def _click_exception() -> type[Exception]:
    """Click's base exception, reached through typer's public ``BadParameter``: current typer
    vendors click (as ``typer._click``) and no longer installs it, so ``import click`` fails."""
    return next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")


def _progress(total: int, label: str, enabled: bool):
    """A progress callback (and its context) for long per-call evaluations, on a terminal only."""
    if not enabled or _Options.quiet or not sys.stderr.isatty():
        return nullcontext(None)
    from rich.progress import Progress

    @contextmanager
    def bar():
        with Progress(transient=True, console=_stderr_console()) as progress:
            task = progress.add_task(label, total=total)
            yield lambda done: progress.update(task, completed=done)

    return bar()


def _custom(spec: Spec) -> bool:
    from sched_cli.schedulers.base import BuiltinScheduler

    return any(not isinstance(s, BuiltinScheduler) for s in spec.run.schedulers)


# -- global options ---------------------------------------------------------------------------------
def _version(value: bool) -> None:
    if value:
        from sched_cli import __version__

        typer.echo(f"sched {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    ctx: typer.Context,
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version and exit."
    ),
    quiet: bool = QuietOpt,
    verbose: bool = VerboseOpt,
    debug: bool = DebugOpt,
) -> None:
    """Preview and export Composer-style learning-rate schedules."""
    _Options.quiet, _Options.verbose, _Options.debug = quiet, verbose, debug
    _Options.warned = set()
    ctx.with_resource(_warnings_as_lines())


# -- plot -----------------------------------------------------------------------------------------
@app.command()
@_with_global_options
@_with_run_options
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
    log: bool = typer.Option(False, "--log", help="Logarithmic Y axis."),
    as_trainer: bool = AsTrainerOpt,
    points: int = typer.Option(PLOT_POINTS, "--points", min=2, help="Points per curve (breakpoints are always added)."),
    width: int | None = typer.Option(None, "--width", min=40, help="Terminal plot width (default: the terminal's)."),
    height: int = typer.Option(24, "--height", min=10, help="Terminal plot height in lines."),
    label: list[str] | None = LabelOpt,
    title: str | None = TitleOpt,
    overrides: Overrides = RUN_OPTIONS,
) -> None:
    """Plot a schedule, one curve per SSR, in the terminal or to an image file.

    Example:  sched plot sample_specs/resnet50_imagenet.yaml --ssr 0.5 --ssr 1 -o resnet.png
    """
    with _user_errors():
        if output is not None:
            _check_output_dir(output, [spec])
        loaded = _labelled([_load(spec, overrides, ssr)], label)
        if _is_html(output):
            _write_report("plot", loaded, [spec], output, x, y, log, as_trainer, points, by_fraction=False)
            return
        chart = _chart(loaded, x, y, log, as_trainer, points, by_fraction=False, title=title)
        _draw(chart, output, width, height)


def _draw(chart, output: Path | None, width: int | None, height: int) -> None:
    _check_plot_size(width=width, height=height)
    if output is not None:
        from sched_cli.render.figure import save_figure

        if output.suffix.lower() not in (".png", ".svg", ".pdf"):
            raise UserError(
                f"-o {output}: unknown image format {output.suffix or '(none)'!r}; use .png, .svg, .pdf or .html"
            )
        _check_output_dir(output)
        save_figure(chart, output)
        _wrote(f"wrote {output}")
        return
    from sched_cli.render.terminal import render_terminal_plot

    console = _stdout_console()
    drawn = render_terminal_plot(
        chart, width=width or min(console.width, 140), height=height, color=console.is_terminal
    )
    sys.stdout.write(drawn.text if drawn.text.endswith("\n") else drawn.text + "\n")
    sys.stdout.flush()
    for note in drawn.notes:
        _note(note)


def _labelled(specs: list[Spec], labels: list[str] | None) -> list[Spec]:
    """The specs named by ``--label`` (one per spec, in order), as their titles."""
    from dataclasses import replace

    if not labels:
        return specs
    if len(labels) != len(specs):
        raise UserError(
            f"--label was given {len(labels)} time{'s' if len(labels) != 1 else ''} for {len(specs)} "
            f"spec{'s' if len(specs) != 1 else ''}; give one --label per spec, in the same order"
        )
    return [replace(s, title=label) for s, label in zip(specs, labels, strict=True)]


def _view_options(x, y, log, as_trainer, points, by_fraction) -> dict[str, Any]:
    """The chart options plot, compare and report share, as the views take them."""
    return {
        "x": x.value if x else None,
        "y": y.value if y else None,
        "log": log,
        "mode": "trainer" if as_trainer else "formula",
        "points": points,
        "by_fraction": by_fraction,
        "progress": lambda spec, total, label: _progress(total, label, _custom(spec)),
    }


def _chart(specs, x, y, log, as_trainer, points, by_fraction, title=None):
    from sched_cli.views import chart

    _check_plot_size(points=points)
    return chart(specs, **_view_options(x, y, log, as_trainer, points, by_fraction), title=title)


# -- report ---------------------------------------------------------------------------------------
@app.command()
@_with_global_options
@_with_run_options
def report(
    specs: list[str] = typer.Argument(..., metavar="SPEC...", help="One or more spec files or inline schedulers."),
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
    overrides: Overrides = RUN_OPTIONS,
) -> None:
    """Write one self-contained HTML page to explore and share: an interactive chart of every
    spec and SSR (zoom, hover for exact values, switch units), the summary table, the specs
    and their warnings. It opens offline in any browser.

    Example:  sched report sample_specs/resnet50_imagenet.yaml --ssr 0.5 --ssr 1 --ssr 2 -o resnet.html
    """
    with _user_errors():
        if output is None and sys.stdout.isatty():
            raise UserError("sched report writes HTML: give -o report.html (or redirect standard output)")
        if output is not None and not _is_html(output):
            raise UserError(f"-o {output}: a report is an .html file; use a name ending in .html")
        loaded = [_load(s, overrides, ssr) for s in specs]
        _write_report("report", loaded, specs, output, x, y, log, as_trainer, points, by_fraction=len(specs) > 1)


def _is_html(output: Path | None) -> bool:
    return output is not None and output.suffix.lower() in (".html", ".htm")


def _write_report(name: str, specs, inputs, output: Path | None, x, y, log, as_trainer, points, by_fraction) -> None:
    import shlex

    from sched_cli.render.html import render_html, save_html
    from sched_cli.views import report

    if output is not None:
        _check_output_dir(output)
    if _Options.argv is not None:
        command = "sched " + shlex.join(_Options.argv)
    else:  # called as a library (tests' CliRunner): the raw command line is not known
        command = f"sched {name} " + shlex.join([*inputs] + (["-o", str(output)] if output is not None else []))
    page = report(
        specs,
        inputs,
        **_view_options(x, y, log, as_trainer, points, by_fraction),
        command=command,
    )
    if output is None:
        sys.stdout.write(render_html(page))
        sys.stdout.flush()
        return
    save_html(page, output)
    _wrote(f"wrote {output} ({page.points:,} points)")


# -- export ---------------------------------------------------------------------------------------
@app.command()
@_with_global_options
@_with_run_options
def export(
    spec: str = SpecArg,
    ssr: list[float] | None = SsrOpt,
    fmt: Format | None = typer.Option(
        None, "--format", "-f", help="csv, json or jsonl. Default: from -o's extension, else csv."
    ),
    output: Path | None = typer.Option(
        None, "-o", "--output", help="Output file (written whole or not at all). Default: standard output."
    ),
    as_trainer: bool = AsTrainerOpt,
    every: int | None = typer.Option(None, "--every", min=1, help="Only every N-th batch (plus breakpoints)."),
    points: int | None = typer.Option(
        None, "--points", min=2, help="Only N points spread over the run (plus breakpoints)."
    ),
    max_rows: int = typer.Option(
        MAX_EXPORT_ROWS, "--max-rows", min=1, help="Refuse to write more rows than this (a runaway guard)."
    ),
    overrides: Overrides = RUN_OPTIONS,
) -> None:
    """Export the multiplier (and LR) of every batch as CSV, JSON or JSON Lines.

    Example:  sched export sample_specs/bert_base.yaml --ssr 0.5 -o bert.csv
    """
    with _user_errors():
        from sched_cli.render.writers import format_for_path

        if every is not None and points is not None:
            raise UserError("--every and --points cannot be used together: choose one")
        if output is not None:
            _check_output_dir(output, [spec])
        if fmt is None and output is not None:
            guessed = format_for_path(output)
            if guessed is None:
                raise UserError(
                    f"-o {output}: cannot tell the format from {output.suffix or 'a name without extension'!r}; "
                    "use .csv, .json or .jsonl, or pass --format"
                )
            fmt_name = guessed
        else:
            fmt_name = (fmt or Format.csv).value
        loaded = _load(spec, overrides, ssr)
        _export(loaded, fmt_name, output, as_trainer, every, points, max_rows)


def _export(spec, fmt: str, output: Path | None, as_trainer: bool, every, points, max_rows=MAX_EXPORT_ROWS) -> None:
    import itertools

    from sched_cli import __version__
    from sched_cli.render.writers import atomic_output, preload, write_rows
    from sched_cli.simulator import COLUMNS, Selection
    from sched_cli.views import shown

    preload()

    selection = Selection(every=every, points=points)
    mode = "trainer" if as_trainer else "formula"
    views = [shown(spec, ssr) for ssr in spec.ssrs]
    plans = [v.plan for v in views]
    _check_rows(views, selection, max_rows)
    has_lr = spec.run.lr is not None or (spec.before is not None and spec.before.run.lr is not None)
    columns = list(COLUMNS) + (["lr"] if has_lr else []) + (["segment"] if spec.before is not None else [])
    meta = {
        "sched_version": __version__,
        "source": spec.source,
        "mode": mode,
        "max_duration": str(spec.run.max_duration),
        "scaled_max_duration": {f"{p.ssr:g}": str(p.max_duration) for p in plans},
        "batches": {f"{v.ssr:g}": v.batches for v in views},
        "dataloader_len": spec.run.dataloader_len,
        "batch_size": spec.run.batch_size,
        "last_batch_size": spec.run.last_batch_size or spec.run.batch_size,
        "geometry": spec.run.geometry.as_dict() if spec.run.geometry else None,
        "seq_len": spec.run.seq_len,
        "step_every": spec.run.step_every,
        "lr": spec.run.lr,
        "ssrs": list(spec.ssrs),
        "schedulers": [_describe_scheduler(s) for s in spec.run.schedulers],
        "columns": columns,
    }
    if spec.stop_at is not None:
        meta["stop_at"] = str(spec.stop_at)
    if spec.before is not None:
        meta["resume"] = _resume_meta(spec, views, mode)
    with _progress(sum(v.batches for v in views), "simulating", _custom(spec)) as progress:
        chunks = itertools.chain.from_iterable(v.rows(mode, selection, progress) for v in views)
        # Compute the first rows before writing anything: most errors show up there, and then
        # standard output gets no half-written table.
        first = next(chunks, None)
        chunks = itertools.chain([] if first is None else [first], chunks)
        if output is None:
            write_rows(chunks, fmt, sys.stdout, columns, meta)
            sys.stdout.flush()
        else:
            _check_output_dir(output)
            with atomic_output(output) as stream:
                rows = write_rows(chunks, fmt, stream, columns, meta)
            _wrote(f"wrote {rows:,} rows to {output}")


def _resume_meta(spec, views, mode: str) -> dict[str, Any]:
    """What export records of a resume: BEFORE's spec, the checkpoint, and the LR across it."""
    from sched_cli.resume import jump

    before = spec.before
    out: dict[str, Any] = {
        "from": before.source,
        "at": str(spec.resume_at),
        "before": {
            "max_duration": str(before.run.max_duration),
            "ssr": before.ssrs[0],
            "dataloader_len": before.run.dataloader_len,
            "batch_size": before.run.batch_size,
            "last_batch_size": before.run.last_batch_size or before.run.batch_size,
            "seq_len": before.run.seq_len,
            "step_every": before.run.step_every,
            "lr": before.run.lr,
            "schedulers": [_describe_scheduler(s) for s in before.run.schedulers],
        },
        "segments": "rows with segment 0 come from the spec in resume.from, segment 1 from this spec",
    }
    for v in views:
        rp = v.resumed
        j = jump(rp, mode)
        ts = rp.restored
        out.setdefault("by_ssr", {})[f"{v.ssr:g}"] = {
            "checkpoint_batch": rp.checkpoint,
            "restored": {
                "epoch": int(ts.epoch),
                "batch": int(ts.batch),
                "sample": int(ts.sample),
                "token": int(ts.token),
                "batch_in_epoch": int(ts.batch_in_epoch),
            },
            f"{j.what}_before_resume": j.before,
            f"{j.what}_after_resume": j.after,
            "first_batch_set_by_after": None if j.after_row is None else rp.checkpoint + j.after_row,
            "jump": j.ratio,
        }
    return out


def _check_rows(plans, selection, max_rows: int) -> None:
    """Refuse, before writing anything, an export of more than ``max_rows`` rows, whatever selects
    them (all batches, --every, --points): each breakpoint adds up to three rows, the end one."""
    total = sum(selection.count(p.batches) + 3 * len(p.breakpoints) + 1 for p in plans)
    if total <= max_rows:
        return
    over = " over all SSRs" if len(plans) > 1 else ""
    if selection.is_all:
        batches = sum(p.batches for p in plans)
        raise UserError(
            f"the run has {batches:,} batches{over}, too many to list one by one (the limit is --max-rows "
            f"{max_rows:,}); pass --every N or --points N (e.g. --points 10000), or raise --max-rows"
        )
    chosen = f"--every {selection.every}" if selection.every is not None else f"--points {selection.points}"
    raise UserError(
        f"{chosen} gives up to {total:,} rows{over}, more than the limit of --max-rows {max_rows:,}; "
        "choose fewer rows, or raise --max-rows"
    )


def _check_plot_size(points: int | None = None, width: int | None = None, height: int | None = None) -> None:
    """Bound what a plot computes and draws: points per curve, and the terminal plot's size."""
    for option, value, limit in (
        ("--points", points, MAX_PLOT_POINTS),
        ("--width", width, MAX_PLOT_WIDTH),
        ("--height", height, MAX_PLOT_HEIGHT),
    ):
        if value is not None and value > limit:
            raise UserError(f"{option} {value:,} is more than a plot can use (at most {limit:,})")


def _describe_scheduler(scheduler: Any) -> str:
    """A built-in or PyTorch scheduler with its arguments; any other by its name."""
    from sched_cli.schedulers.base import BuiltinScheduler, scheduler_name
    from sched_cli.schedulers.torch_native import TorchScheduler

    if isinstance(scheduler, (BuiltinScheduler, TorchScheduler)):
        return repr(scheduler)
    return scheduler_name(scheduler)


def _check_output_dir(output: Path, inputs: list[str] | tuple[str, ...] = ()) -> None:
    """Refuse an output that cannot or must not be written (see ``check_output``): before
    anything runs when the command gives its ``inputs``, so a spec is never overwritten."""
    from sched_cli.render.writers import check_output

    check_output(output, [arg for arg in inputs if _is_file_argument(arg)])


def _is_file_argument(arg: str) -> bool:
    from sched_cli.specs import is_spec_file_argument

    return is_spec_file_argument(arg)


# -- compare --------------------------------------------------------------------------------------
@app.command()
@_with_global_options
@_with_run_options
def compare(
    specs: list[str] = typer.Argument(..., metavar="SPEC...", help="One or more spec files or inline schedulers."),
    ssr: list[float] | None = SsrOpt,
    output: Path | None = typer.Option(
        None, "-o", "--output", help="Write the overlay plot to a .png, .svg or .pdf, or a report to .html."
    ),
    x: XUnit = typer.Option(XUnit.dur, "--x", help="X axis: dur (fraction of each run) or an absolute unit."),
    y: YAxis | None = typer.Option(None, "--y", help="Y axis: multiplier, or lr (needs a base LR)."),
    log: bool = typer.Option(False, "--log", help="Logarithmic Y axis."),
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
    overrides: Overrides = RUN_OPTIONS,
) -> None:
    """Compare schedules across SSRs (and specs): a summary table and an overlay plot.

    Example:  sched compare sample_specs/resnet50_imagenet.yaml --ssr 0.25 --ssr 0.5 --ssr 1
    """
    with _user_errors():
        if label and len(label) != len(specs):
            _labelled(specs, label)  # type: ignore[arg-type] - raises the count error before loading
        if output is not None:
            _check_output_dir(output, specs)
        loaded = _labelled([_load(s, overrides, ssr) for s in specs], label)
        _summary_table(loaded, as_trainer, fmt)
        if _is_html(output):
            _write_report("compare", loaded, specs, output, x, y, log, as_trainer, PLOT_POINTS, by_fraction=True)
        elif (not no_plot and fmt is None) or output is not None:
            chart = _chart(loaded, x, y, log, as_trainer, PLOT_POINTS, by_fraction=True, title=title)
            _draw(chart, output, width, height)


def _summary_table(specs, as_trainer: bool, fmt: TableFormat | None = None) -> None:
    from sched_cli.views import summary_view

    mode = "trainer" if as_trainer else "formula"
    _print_table(summary_view(specs, mode, lambda spec, total, label: _progress(total, label, _custom(spec))), fmt)


# -- resume ---------------------------------------------------------------------------------------
@app.command("resume")
@_with_run_options
def resume_(
    before: str = typer.Argument(..., metavar="BEFORE", help="The spec the run was trained with until the checkpoint."),
    after: str = typer.Argument(..., metavar="AFTER", help="The spec the run was resumed with."),
    at: str = typer.Option(..., "--at", metavar="TIME", help="Where the checkpoint was taken, e.g. 5000ba, 3ep."),
    ssr: list[float] | None = SsrOpt,
    output: Path | None = typer.Option(None, "-o", "--output", help="Write the plot to a .png, .svg or .pdf."),
    x: XUnit | None = typer.Option(None, "--x", help="X axis unit. Default: ba."),
    y: YAxis | None = typer.Option(None, "--y", help="Y axis: the multiplier, or the LR. Default: lr if known."),
    log: bool = typer.Option(False, "--log", help="Logarithmic Y axis."),
    as_trainer: bool = AsTrainerOpt,
    width: int | None = typer.Option(None, "--width", min=40, help="Terminal plot width."),
    height: int = typer.Option(20, "--height", min=10, help="Terminal plot height in lines."),
    overrides: Overrides = RUN_OPTIONS,
) -> None:
    """Show a run resumed from BEFORE's checkpoint with AFTER: both segments plotted, the LR
    across the resume, and what Composer's Trainer makes of it (the run options apply to AFTER).

    Example:  sched resume before.yaml after.yaml --at 5000ba --as-trainer
    """
    with _user_errors():
        from dataclasses import replace

        from sched_cli.views import footnotes, shown

        if overrides.resume_from is not None or overrides.resume_at is not None:
            raise UserError("sched resume takes BEFORE and --at itself; drop --resume-from/--resume-at")
        loaded = _load(after, replace(overrides, resume_from=before, resume_at=at), ssr)
        mode = "trainer" if as_trainer else "formula"
        chart = _chart([loaded], x or XUnit.ba, y, log, as_trainer, PLOT_POINTS, by_fraction=False)
        _draw(chart, output, width, height)
        _summary_table([loaded], as_trainer)
        console = _stdout_console()
        for value in loaded.ssrs:
            for note in footnotes(shown(loaded, value), mode):
                console.print((f"ssr {value:g}: " if len(loaded.ssrs) > 1 else "") + note, markup=False, soft_wrap=True)


# -- table ----------------------------------------------------------------------------------------
@app.command()
@_with_global_options
@_with_run_options
def table(
    spec: str = SpecArg,
    at: list[str] | None = typer.Option(
        None,
        "--at",
        help="A time to show, e.g. 500ba, 0.5dur, 3ep, 1dur (the end of the run); repeat. "
        "Default: breakpoints, 10 even points and the end of the run.",
    ),
    ssr: list[float] | None = SsrOpt,
    as_trainer: bool = AsTrainerOpt,
    fmt: TableFormat | None = TableFormatOpt,
    overrides: Overrides = RUN_OPTIONS,
) -> None:
    """Print the multiplier (and LR) at chosen times of the run.

    Example:  sched table sample_specs/bert_base.yaml --at 0ba --at 10000ba --at 0.5dur
    """
    with _user_errors():
        from sched_cli.views import table_view

        loaded = _load(spec, overrides, ssr)
        view, errors = table_view(loaded, at, "trainer" if as_trainer else "formula")
        if view.rows:
            _print_table(view, fmt)
        if errors:
            # The times that could be placed are shown above; each other one gets its line, and
            # the command fails.
            for message in errors[:-1]:
                _error("error", message)
            raise UserError(errors[-1])


def _print_table(view, fmt: TableFormat | None) -> None:
    """A table on standard output: boxed and fitted to the width on a terminal; with --format,
    or in a pipe (as tsv), plain text for scripts with every column and exact values."""
    from sched_cli.render.tables import render_text, rich_table

    console = _stdout_console()
    if fmt is None and console.is_terminal:
        console.print(rich_table(view, console.width))
        return
    sys.stdout.write(render_text(view, fmt.value if fmt else "tsv"))
    sys.stdout.flush()
    if view.caption:
        # Lines about the table (the LR across a resume...) go to stderr, so stdout stays parsable.
        typer.echo(view.caption, err=True)


# -- list / describe ------------------------------------------------------------------------------
@app.command("list")
@_with_global_options
def list_(fmt: TableFormat | None = TableFormatOpt) -> None:
    """List every built-in scheduler with its aliases.

    Example:  sched list
    """
    from sched_cli.views import scheduler_table

    console = _stdout_console()
    # Three columns of whole names need about 110 columns; narrower, aliases go under each name.
    _print_table(scheduler_table(stacked=console.is_terminal and console.width < 110), fmt)
    if fmt is not None or not console.is_terminal:
        return
    console.print(
        "Also: any PyTorch scheduler by its class name (torch.optim.lr_scheduler.OneCycleLR, StepLR, ...; "
        "needs the torch extra), and your own as path/to/file.py:name or package.module:name.",
        markup=False,
    )


@app.command()
@_with_global_options
def describe(name: str = typer.Argument(..., help="A scheduler name or alias, e.g. cosine_with_warmup.")) -> None:
    """Show a scheduler's formula, parameters and defaults.

    Example:  sched describe cosine_with_warmup
    """
    with _user_errors():
        from rich.table import Table

        from sched_cli.registry import all_names, lookup, suggest
        from sched_cli.schedulers.torch_native import is_torch_scheduler_name

        entry = lookup(name)
        if entry is None and is_torch_scheduler_name(name):
            _describe_torch(name)
            return
        if entry is None:
            raise UserError(f"unknown scheduler {name!r}{suggest(name, all_names())}; run `sched list` for every name")

        console = _stdout_console()
        console.print(f"[bold]{entry.name}[/]  (aliases: {', '.join(entry.aliases)})")
        console.print(entry.doc_text, markup=False, highlight=False)
        params = Table(title="parameters", title_justify="left")
        for column in ("name", "kind", "default"):
            params.add_column(column)
        for p in entry.params:
            params.add_row(p.name, p.kind, "(required)" if p.required else repr(p.default))
        console.print(params)


def _describe_torch(name: str) -> None:
    from rich.table import Table

    from sched_cli.schedulers.torch_native import PREFIX, describe_torch_scheduler

    described = describe_torch_scheduler(name)
    console = _stdout_console()
    console.print(f"[bold]{PREFIX}{described.name}[/]  (PyTorch)")
    if described.summary:
        console.print(described.summary, markup=False, highlight=False)
    for note in described.notes:
        console.print(note, markup=False, highlight=False)
    if described.params:
        params = Table(title="parameters", title_justify="left")
        for column in ("name", "default"):
            params.add_column(column)
        for param, default in described.params:
            params.add_row(param, "(required)" if default is None else default)
        console.print(params)


# -- validate -------------------------------------------------------------------------------------
@app.command()
@_with_global_options
@_with_run_options
def validate(
    specs: list[str] = typer.Argument(..., metavar="SPEC...", help="One or more spec files or inline schedulers."),
    ssr: list[float] | None = SsrOpt,
    strict: bool = typer.Option(False, "--strict", help="Fail (exit 1) when a spec has warnings, as CI wants."),
    overrides: Overrides = RUN_OPTIONS,
) -> None:
    """Check specs without producing output: one line per spec; exit 2 if any is invalid (after
    checking them all), 1 with --strict if any has warnings, else 0.

    Example:  sched validate sample_specs/bert_base.yaml sample_specs/stacked_schedulers.yaml --strict
    """
    from sched_cli.schedulers.base import ScheduleError
    from sched_cli.specs import SpecError, check, load, with_ssrs
    from sched_cli.time import TimeStringError

    invalid = warned = 0
    with _user_errors():
        for spec in specs:
            try:
                loaded = with_ssrs(load(spec, overrides), ssr or [])
                notes = check(loaded)
            except (SpecError, ScheduleError, TimeStringError) as exc:
                if _Options.debug:
                    raise
                # One line per invalid spec, and on to the next: CI wants every problem at once.
                message = str(exc)
                _error("error", message if spec in message else f"{spec}: {message}")
                invalid += 1
                continue
            for note in notes:
                _note(note if len(specs) == 1 else f"{spec}: {note}")
            warned += bool(notes)
            run = loaded.run
            typer.echo(
                f"{loaded.source if loaded.source != '<inline>' else spec}: ok: {len(run.schedulers)} scheduler(s), "
                f"max_duration {run.max_duration}, ssr {', '.join(f'{s:g}' for s in loaded.ssrs)}"
                + (f" ({len(notes)} warning{'s' if len(notes) != 1 else ''})" if notes else "")
            )
            if len(specs) == 1 or _Options.verbose:
                # What the run is; with several specs only under -v, so that each gets one line.
                from sched_cli.views import run_facts

                for line in run_facts(loaded):
                    typer.echo(f"  {line}")
    if invalid:
        raise typer.Exit(EXIT_USAGE)
    if strict and warned:
        _error("error", f"--strict: {warned} spec{'s' if warned != 1 else ''} with warnings")
        raise typer.Exit(EXIT_WARNINGS)


# -- the process: pipes, signals, standard streams -----------------------------------------------
class Terminated(BaseException):
    """A signal that ends the process (SIGTERM, SIGHUP) arrived: unwind like Ctrl-C does, so that
    half-written files are removed, then exit 128 + the signal number."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class _ClosedStdout(io.TextIOBase):
    """Standard output when the shell closed it (``>&-``): writing to it is a clear error."""

    def write(self, text: str) -> int:
        raise OSError(errno.EBADF, "it is closed; redirect it or write to a file with -o")


def _is_stream_failure(exc: BaseException) -> bool:
    """Whether ``exc`` is standard output failing (closed pipe, full disk, closed descriptor)
    rather than a bug: those end every command the same way, in :func:`_guarded`."""
    from sched_cli.render.writers import OutputError

    return isinstance(exc, OSError) and not isinstance(exc, OutputError) and exc.errno in _STREAM_ERRNOS


_STREAM_ERRNOS = {errno.EPIPE, errno.EBADF, errno.EIO, *_DISK_FULL}


def _pipe_closed() -> int:
    """The reader of our output went away (``| head``): stop quietly. Point stdout at /dev/null so
    that the interpreter's last flush does not fail again (as Python's docs on SIGPIPE advise)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        sys.stdout = None  # type: ignore[assignment]
    return EXIT_PIPE_CLOSED


def _stream_failed(exc: OSError) -> int:
    """Standard output cannot be written: one line, exit 1 for a full disk, 2 otherwise."""
    if exc.errno == errno.EPIPE:
        return _pipe_closed()
    _error("error", f"cannot write to standard output: {exc.strerror or exc}")
    _pipe_closed()  # whatever is still buffered cannot be written either
    return _exit_code_of(exc)


def _stopped(signum: int) -> int:
    import signal

    _error("stopped", f"{signal.Signals(signum).name}; nothing was left half-written")
    return 128 + signum


def _guarded(command):
    """Run a command so that a closed pipe, a failing stdout and signals end it the same way for
    every command, whether or not its body uses :func:`_user_errors`."""

    @functools.wraps(command)
    def run(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except BrokenPipeError:
            raise typer.Exit(_pipe_closed()) from None
        except KeyboardInterrupt:  # outside _user_errors (typer would exit 130 silently)
            _report_interrupted()
            raise typer.Exit(EXIT_INTERRUPTED) from None
        except Terminated as exc:
            raise typer.Exit(_stopped(exc.signum)) from None
        except OSError as exc:
            if not _is_stream_failure(exc):
                raise
            raise typer.Exit(_stream_failed(exc)) from None

    return run


def _prepare_process() -> None:
    """Standard streams and signals as a command-line tool needs them."""
    import signal

    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            # Occupy the closed descriptor, so that no file sched opens is taken for stdout.
            if os.open(os.devnull, os.O_RDWR) != fd:  # pragma: no cover - lowest free fd is fd
                continue
            if fd == 1:
                sys.stdout = _ClosedStdout()
            elif fd == 2:
                sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - nowhere left to report to

    def terminate(signum: int, frame: Any) -> None:
        signal.signal(signum, signal.SIG_DFL)  # a second signal ends sched at once
        raise Terminated(signum)

    for name in ("SIGTERM", "SIGHUP"):
        number = getattr(signal, name, None)
        # A signal the caller chose to ignore (nohup) stays ignored.
        if number is not None and signal.getsignal(number) is signal.SIG_DFL:
            signal.signal(number, terminate)
    import warnings

    warnings.showwarning = _show_warning
    if hasattr(signal, "SIGXFSZ"):
        # Past `ulimit -f`, a write then fails with EFBIG (reported, temp file removed) instead
        # of the signal killing sched on the spot.
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


def _show_warning(message: Any, category: Any, filename: str, lineno: int, file: Any = None, line: Any = None) -> None:
    """A warning that reaches the top (e.g. a custom scheduler's negative multiplier): one
    ``warning:`` line, as :func:`_warnings_as_lines` prints those raised inside a command."""
    _warning(str(message) if str(message).strip() else category.__name__)


def main() -> None:
    """Entry point of the ``sched`` console script."""
    _Options.argv = sys.argv[1:]
    try:
        _prepare_process()
        app()
        code: Any = 0  # pragma: no cover - typer always ends with SystemExit
    except SystemExit as exc:
        code = exc.code
        if code == EXIT_INTERRUPTED:  # typer turns Ctrl-C while parsing options into a silent exit 130
            _report_interrupted()
    except KeyboardInterrupt:  # Ctrl-C outside a command body: no traceback
        _report_interrupted()
        code = EXIT_INTERRUPTED
    except Terminated as exc:
        code = _stopped(exc.signum)
    except BrokenPipeError:
        code = _pipe_closed()
    except Exception as exc:  # noqa: BLE001 - a bug outside a command body
        if isinstance(exc, OSError) and _is_stream_failure(exc):
            code = _stream_failed(exc)
        else:
            _internal_error(exc)
            code = EXIT_INTERNAL
    try:
        if sys.stdout is not None:
            sys.stdout.flush()
    except BrokenPipeError:
        code = _pipe_closed()
    except OSError as exc:
        code = _stream_failed(exc)
    sys.exit(code)


def _guard_commands() -> None:
    for info in app.registered_commands:
        if info.callback is not None and not hasattr(info.callback, "_sched_guarded"):
            info.callback = _guarded(info.callback)
            info.callback._sched_guarded = True  # type: ignore[attr-defined]


_guard_commands()

if __name__ == "__main__":  # pragma: no cover
    main()
