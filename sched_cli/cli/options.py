"""The Typer app and what its commands share: the enums of option values, the option
declarations, the decorators that add the run options and the global options to a command, and
loading a spec with its warnings printed.

Commands register on :data:`app` in their own modules (``sched_cli/cli/<command>.py``).
"""

from __future__ import annotations

import enum
import functools
import inspect
import re
import typing
from typing import TYPE_CHECKING

import typer

from sched_cli.cli.process import Options, assumed, warning, warnings_as_lines
from sched_cli.readers import NAMES as READER_NAMES

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Callable

    from sched_cli.specs import Overrides, Spec

#: Points per curve in plots (breakpoints are always added).
PLOT_POINTS = 2000

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


#: ``--from``: sched's own spec format, then every reader of :mod:`sched_cli.readers` (a new
#: reader is a choice here without any edit to the CLI).
SpecFormat = enum.Enum("SpecFormat", {name: name for name in ("sched", *READER_NAMES)}, type=str)


def mode_of(as_trainer: bool) -> str:
    return "trainer" if as_trainer else "formula"


# -- shared options ---------------------------------------------------------------------------------
SpecArg = typer.Argument(
    ...,
    metavar="SPEC",
    help="A spec file (.yaml/.json/.toml) or an inline scheduler, e.g. 'cosine_with_warmup(t_warmup=100ba)'.",
)
SpecsArg = typer.Argument(..., metavar="SPEC...", help="One or more spec files or inline schedulers.")
SsrOpt = typer.Option(None, "--ssr", help="Scale schedule ratio; repeat for several. Default: the spec's, else 1.")
MaxDurationOpt = typer.Option(
    None, "--max-duration", help="Run length, e.g. 90ep, 10000ba, 1e9tok (overrides the spec)."
)
DataloaderLenOpt = typer.Option(None, "--dataloader-len", min=1, help="Batches per epoch (overrides the spec).")
DatasetSizeOpt = typer.Option(
    None, "--dataset-size", min=1, help="Training samples; with --devices and a batch size gives batches per epoch."
)
DevicesOpt = typer.Option(None, "--devices", min=1, help="Number of devices (world size).")
DeviceBatchSizeOpt = typer.Option(None, "--device-batch-size", min=1, help="Samples per batch on each device.")
BatchSizeOpt = typer.Option(
    None, "--batch-size", min=1, help="Samples per batch across all devices (overrides the spec)."
)
DropLastOpt = typer.Option(
    None, "--drop-last/--no-drop-last", help="Drop the samples that do not fill a batch (default: no)."
)
SeqLenOpt = typer.Option(None, "--seq-len", min=1, help="Tokens per sample (overrides the spec).")
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
    "TrainingArguments file (JSON/YAML), a timm args.yaml, a DeepSpeed config, an MMEngine config (a .py one "
    "only with this option, as reading it runs it) or a Megatron-LM launch (a script or flag file only with this "
    "option, or a model_config.yaml). Default: recognised from its keys.",
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
LogOpt = typer.Option(False, "--log", help="Logarithmic Y axis.")

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
SkippedStepsOpt = typer.Option(
    None,
    "--skipped-steps",
    metavar="STEPS",
    help="Updates after which the scheduler did not step (fp16 loss-scale overflows): a count N (the first N) "
    "or 0-based indices such as 3,10,40-47.",
)
DeepSpeedConfigOpt = typer.Option(
    None,
    "--deepspeed-config",
    metavar="PATH",
    help="The DeepSpeed config a Hugging Face file's deepspeed key means (default: that path, from the file's "
    "directory, else the working directory).",
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
    "skipped_steps": (str | None, SkippedStepsOpt),
    "deepspeed_config": (str | None, DeepSpeedConfigOpt),
}
#: Placeholder default of the ``overrides`` parameter that :func:`with_run_options` fills in.
RUN_OPTIONS = None


def with_run_options(command=None, *, repeatable: bool = False):
    """Give a command the options that describe the run (``--max-duration`` ... ``--step-every``),
    declared once here, and hand it their values as one :class:`Overrides` in ``overrides``.

    ``repeatable``: the run settings may be given several times, to compare their values
    (``--devices 8 --devices 16``); the command gets a :class:`~sched_cli.cli.settings.Settings`
    in ``settings`` instead."""
    if command is None:
        return functools.partial(with_run_options, repeatable=repeatable)
    from sched_cli.cli.settings import REPEATABLE

    target = "settings" if repeatable else "overrides"
    signature = inspect.signature(command)
    # Typer needs real types; `Overrides` stands only in the annotation this wrapper removes.
    hints = typing.get_type_hints(command, localns={"Overrides": object, "Settings": object})
    own = [p.replace(annotation=hints[name]) for name, p in signature.parameters.items() if name != target]
    added = [
        inspect.Parameter(
            name,
            inspect.Parameter.KEYWORD_ONLY,
            default=option,
            annotation=list[typing.get_args(kind)[0]] | None if repeatable and name in REPEATABLE else kind,
        )
        for name, (kind, option) in _RUN_OPTIONS.items()
    ]

    @functools.wraps(command)
    def wrapper(**kwargs):
        from sched_cli.specs import Overrides as _Overrides

        values = {name: kwargs.pop(name) for name in _RUN_OPTIONS}
        values = {name: _plain(v) for name, v in values.items()}
        from sched_cli.cli.process import user_errors

        if not repeatable:
            with user_errors():
                overrides = _Overrides(**values)
            return command(**kwargs, overrides=overrides)
        from sched_cli.cli.settings import settings_from

        with user_errors():
            settings = settings_from(values, _Overrides)
        return command(**kwargs, settings=settings)

    parameters = own + added
    wrapper.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {p.name: p.annotation for p in parameters}
    return wrapper


def _plain(value):
    """An option's value without its enum (in a list too)."""
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value.value if isinstance(value, enum.Enum) else value


# -q/-v/--debug work before the command (on the app) and after it (on each command): declared once.
QuietOpt = typer.Option(False, "--quiet", "-q", help="Print no notes or warnings, only results and errors.")
VerboseOpt = typer.Option(False, "--verbose", "-v", help="Also print what sched is doing.")
DebugOpt = typer.Option(False, "--debug", help="Show a Python traceback on errors.")
_GLOBAL_OPTIONS = {"quiet": QuietOpt, "verbose": VerboseOpt, "debug": DebugOpt}


def with_global_options(command):
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
                setattr(Options, name, True)
        return command(**kwargs)

    parameters = list(signature.parameters.values()) + added
    wrapper.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {**getattr(command, "__annotations__", {}), **{p.name: bool for p in added}}
    return wrapper


def load(
    arg: str, overrides: Overrides, ssrs: list[float] | None, later: list[Callable[[], None]] | None = None
) -> Spec:
    """The spec ``arg`` names, with the run options and SSRs applied; its warnings printed, or kept
    in ``later`` for the command to print once it has not failed (``sched check``)."""
    from sched_cli.specs import check, with_ssrs
    from sched_cli.specs import load as load_spec

    if arg is None:  # typer 0.16 with click 8.5 hands a missing argument over as None
        from sched_cli.cli.process import UserError

        raise UserError("Missing argument 'SPEC': give a spec file or an inline scheduler")
    refuse_directory(arg)
    spec = with_ssrs(load_spec(arg, overrides), ssrs or [])
    said = [functools.partial(assumed, m) for m in assumptions(spec, overrides)]
    said += [functools.partial(warning, m) for m in check(spec)]
    if later is not None:
        later.extend(said)
    else:
        for say in said:
            say()
    return spec


def refuse_directory(arg: str) -> None:
    """A directory given as SPEC: refused in one line naming the spec files in it."""
    from pathlib import Path

    from sched_cli.cli.process import UserError

    path = Path(arg)
    try:
        if not arg.strip() or not path.is_dir():  # Path("") is the current directory
            return
        found = sorted(p.name for p in path.iterdir() if p.suffix.lower() in (".yaml", ".yml", ".json", ".toml"))
    except OSError:
        return
    inside = f"; spec files in it: {', '.join(found[:5])}{' ...' if len(found) > 5 else ''}" if found else ""
    raise UserError(f"{arg} is a directory, not a spec file: give a .yaml, .yml, .json or .toml file{inside}")


#: A world size written in another tool's file (sched's own ``devices`` key, or the tool's).
_DEVICES_KEY = re.compile(r"^\s*[\"']?(devices|world_size|gpus|num_gpus)[\"']?\s*[:=]", re.MULTILINE)
_TOOL_NAMES = {"hf": "Hugging Face", "timm": "timm", "mmengine": "MMEngine"}


def assumptions(spec: Spec, overrides: Overrides) -> list[str]:
    """The defaults that change this spec's numbers and that nothing on the command line or in
    the file chose: a Hugging Face, timm or MMEngine run counted on 1 device when the number of
    optimizer steps per epoch depends on the world size."""
    run = spec.run
    tool = _TOOL_NAMES.get(run.trainer)
    if tool is None or overrides.devices is not None or run.dataloader_len is None:
        return []
    geometry_devices = getattr(run.geometry, "devices", None)
    if geometry_devices not in (None, 1):
        return []
    try:
        with open(spec.source, encoding="utf-8", errors="replace") as f:
            if _DEVICES_KEY.search(f.read(1_000_000)):
                return []
    except OSError:
        pass
    return [
        f"{spec.source}: a {tool} run previewed on 1 device: its steps per epoch depend on the world size; "
        "give --devices N for N GPUs"
    ]


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
    Options.quiet, Options.verbose, Options.debug = quiet, verbose, debug
    Options.warned = set()
    ctx.with_resource(warnings_as_lines())
