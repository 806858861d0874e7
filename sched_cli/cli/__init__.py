"""The ``sched`` command line: specs in; tables, plots, CSV and JSON out.

One module per command (``plot.py``, ``export.py``, ...), each registering on the Typer app of
``options.py`` and only parsing options, calling :mod:`sched_cli.views` and printing; the
process concerns (exit codes, pipes, signals, error lines, :func:`main`) are in ``process.py``.
A new command is a new module and one line below. Heavy modules (numpy, matplotlib, torch) are
imported inside the commands that need them, so ``sched --help`` starts fast.
"""

from __future__ import annotations

import importlib

from sched_cli.cli import coercion
from sched_cli.cli.options import app
from sched_cli.cli.process import guard_commands, main

#: The command modules, in the order `sched --help` lists their commands: importing one
#: registers its command(s) on `app`. A new command is a new module and one entry here.
COMMANDS = ("plot", "report", "export", "compare", "resume", "table", "check", "catalog", "validate")

for _name in COMMANDS:
    importlib.import_module(f"sched_cli.cli.{_name}")
guard_commands(app)
coercion.install()


def _whole_summaries() -> None:
    """Each command's summary in ``sched --help``: the first sentence (or clause before a colon)
    of its help, whole (click cuts the first line at the terminal's width with ``...``)."""
    for command in app.registered_commands:
        doc = command.help or (command.callback.__doc__ if command.callback else None)
        if command.short_help is None and doc:
            paragraph = " ".join(doc.strip().split("\n\n")[0].split())
            command.short_help = paragraph.split(". ")[0].split(": ")[0].rstrip(".")


_whole_summaries()

__all__ = ["app", "main"]
