"""``sched export``: the multiplier (and LR) of every batch as CSV, JSON or JSON Lines."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from sched_cli.cli.options import (
    RUN_OPTIONS,
    AsTrainerOpt,
    Format,
    SpecArg,
    SsrOpt,
    app,
    load,
    mode_of,
    with_global_options,
    with_run_options,
)
from sched_cli.cli.output import check_output_dir, progress_for
from sched_cli.cli.process import UserError, user_errors, wrote

if TYPE_CHECKING:  # pragma: no cover
    from sched_cli.specs import Overrides

#: Above this many rows, export asks for --every or --points instead of listing every batch.
MAX_EXPORT_ROWS = 50_000_000


@app.command()
@with_global_options
@with_run_options
def export(
    spec: str = SpecArg,
    ssr: list[float] | None = SsrOpt,
    fmt: Format | None = typer.Option(
        None, "--format", "-f", help="csv, json or jsonl. Default: from -o's extension, else csv."
    ),
    output: Path | None = typer.Option(
        None, "-o", "--output", help="Output file (written whole or not at all); - or no -o: standard output."
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
    with user_errors():
        from sched_cli.render.writers import format_for_path

        if every is not None and points is not None:
            raise UserError("--every and --points cannot be used together: choose one")
        if output is not None and str(output) == "-":
            output = None  # `-o -`: standard output, as in curl and tar (not a file named '-')
        if output is not None:
            check_output_dir(output, [spec])
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
        _export(load(spec, overrides, ssr), fmt_name, output, mode_of(as_trainer), every, points, max_rows)


def _export(spec, fmt: str, output: Path | None, mode: str, every, points, max_rows: int) -> None:
    from sched_cli.render.writers import atomic_output, preload, write_rows
    from sched_cli.views_export import export_plan

    preload()
    plan = export_plan(spec, mode, every, points, max_rows)
    with progress_for(spec, plan.batches, "simulating") as progress:
        chunks = plan.chunks(progress)
        if output is None:
            write_rows(chunks, fmt, sys.stdout, plan.columns, plan.meta)
            sys.stdout.flush()
        else:
            check_output_dir(output)
            with atomic_output(output) as stream:
                rows = write_rows(chunks, fmt, stream, plan.columns, plan.meta)
            wrote(f"wrote {rows:,} rows to {output}")
