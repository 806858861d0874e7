"""``sched table``: the multiplier (and LR) at chosen times of the run."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from sched_cli.cli.options import (
    RUN_OPTIONS,
    AsTrainerOpt,
    SpecArg,
    SsrOpt,
    TableFormat,
    TableFormatOpt,
    app,
    load,
    mode_of,
    with_global_options,
    with_run_options,
)
from sched_cli.cli.output import print_table
from sched_cli.cli.process import UserError, error, user_errors

if TYPE_CHECKING:  # pragma: no cover
    from sched_cli.specs import Overrides


@app.command()
@with_global_options
@with_run_options
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
    with user_errors():
        from sched_cli.views import table_view

        view, errors = table_view(load(spec, overrides, ssr), at, mode_of(as_trainer))
        if view.rows:
            print_table(view, fmt)
        if errors:
            # The times that could be placed are shown above; each other one gets its line, and
            # the command fails.
            for message in errors[:-1]:
                error("error", message)
            raise UserError(errors[-1])
