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

__all__ = ["app", "main"]
