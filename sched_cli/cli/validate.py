"""``sched validate``: check specs, one line each, for CI."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from sched_cli.cli.options import (
    RUN_OPTIONS,
    SsrOpt,
    app,
    assumptions,
    refuse_directory,
    with_global_options,
    with_run_options,
)
from sched_cli.cli.process import EXIT_USAGE, EXIT_WARNINGS, Options, UserError, assumed, error, note, user_errors

if TYPE_CHECKING:  # pragma: no cover
    from sched_cli.specs import Overrides


@app.command()
@with_global_options
@with_run_options
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
    with user_errors():
        for spec in specs:
            try:
                refuse_directory(spec)
                loaded = with_ssrs(load(spec, overrides), ssr or [])
                notes = check(loaded)
            except (SpecError, ScheduleError, TimeStringError, UserError) as exc:
                if Options.debug:
                    raise
                # One line per invalid spec, and on to the next: CI wants every problem at once.
                message = str(exc)
                error("error", message if spec in message else f"{spec}: {message}")
                invalid += 1
                continue
            for line in assumptions(loaded, overrides):
                assumed(line)
            for line in notes:
                note(line if len(specs) == 1 else f"{spec}: {line}")
            warned += bool(notes)
            run = loaded.run
            typer.echo(
                f"{loaded.source if loaded.source != '<inline>' else spec}: ok: {len(run.schedulers)} scheduler(s), "
                f"max_duration {run.max_duration}, ssr {', '.join(f'{s:g}' for s in loaded.ssrs)}"
                + (f" ({len(notes)} warning{'s' if len(notes) != 1 else ''})" if notes else "")
            )
            if len(specs) == 1 or Options.verbose:
                # What the run is; with several specs only under -v, so that each gets one line.
                from sched_cli.views import run_facts

                for line in run_facts(loaded):
                    typer.echo(f"  {line}")
    if invalid:
        raise typer.Exit(EXIT_USAGE)
    if strict and warned:
        error("error", f"--strict: {warned} spec{'s' if warned != 1 else ''} with warnings")
        raise typer.Exit(EXIT_WARNINGS)
