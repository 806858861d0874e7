"""``sched list`` and ``sched describe``: the schedulers sched knows."""

from __future__ import annotations

import typer

from sched_cli.cli.options import TableFormat, TableFormatOpt, app, with_global_options
from sched_cli.cli.output import print_table, stdout_console
from sched_cli.cli.process import UserError, user_errors


@app.command("list")
@with_global_options
def list_(
    match: str | None = typer.Argument(
        None, metavar="[TEXT]", help="Only the schedulers whose name, alias or parameters contain TEXT, e.g. cosine."
    ),
    fmt: TableFormat | None = TableFormatOpt,
) -> None:
    """List every built-in scheduler with its aliases (or those matching TEXT).

    Example:  sched list cosine
    """
    from sched_cli.views import scheduler_table

    console = stdout_console()
    # Three columns of whole names need about 110 columns; narrower, aliases go under each name.
    table = scheduler_table(stacked=console.is_terminal and console.width < 110, match=match)
    if match is not None and not table.columns[0].values:
        with user_errors():
            from sched_cli.registry import all_names, suggest

            raise UserError(f"no built-in scheduler matches {match!r}{suggest(match, all_names())}; run `sched list`")
    print_table(table, fmt)
    if fmt is not None or not console.is_terminal:
        return
    console.print(
        "Also: any PyTorch scheduler by its class name (torch.optim.lr_scheduler.OneCycleLR, StepLR, ...; "
        "needs the torch extra), and your own as path/to/file.py:name or package.module:name.",
        markup=False,
    )


@app.command()
@with_global_options
def describe(name: str = typer.Argument(..., help="A scheduler name or alias, e.g. cosine_with_warmup.")) -> None:
    """Show a scheduler's formula, parameters and defaults.

    Example:  sched describe cosine_with_warmup
    """
    with user_errors():
        from sched_cli.registry import all_names, lookup, suggest
        from sched_cli.schedulers.torch_native import is_torch_scheduler_name

        entry = lookup(name)
        if entry is None and is_torch_scheduler_name(name):
            _describe_torch(name)
            return
        if entry is None:
            raise UserError(f"unknown scheduler {name!r}{suggest(name, all_names())}; run `sched list` for every name")

        console = stdout_console()
        console.print(f"[bold]{entry.name}[/]  (aliases: {', '.join(entry.aliases)})")
        console.print(entry.doc_text, markup=False, highlight=False)
        params = _params_table(console)
        for column in ("name", "kind", "default"):
            params.add_column(column)
        for p in entry.params:
            params.add_row(p.name, p.kind, "(required)" if p.required else repr(p.default))
        console.print(params)


def _params_table(console):
    """The parameters' table: boxed on a terminal, plain aligned columns in a pipe or file."""
    from rich import box
    from rich.table import Table

    framed = console.is_terminal
    return Table(title="parameters", title_justify="left", box=box.HEAVY_HEAD if framed else None, pad_edge=framed)


def _describe_torch(name: str) -> None:
    from sched_cli.schedulers.torch_native import PREFIX, describe_torch_scheduler

    described = describe_torch_scheduler(name)
    console = stdout_console()
    console.print(f"[bold]{PREFIX}{described.name}[/]  (PyTorch)")
    if described.summary:
        console.print(described.summary, markup=False, highlight=False)
    for line in described.notes:
        console.print(line, markup=False, highlight=False)
    if described.params:
        params = _params_table(console)
        for column in ("name", "default"):
            params.add_column(column)
        for param, default in described.params:
            params.add_row(param, "(required)" if default is None else default)
        console.print(params)
