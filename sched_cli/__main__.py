"""``python -m sched_cli`` and the ``sched`` command.

Importing the CLI takes a moment (typer, rich): Ctrl-C then must end sched quietly too, so this
entry point catches it around the import itself.
"""

import sys


def main() -> None:
    """Import the CLI and run it; Ctrl-C while importing exits 130 without a traceback."""
    try:
        from sched_cli.cli import main as run
    except KeyboardInterrupt:
        sys.stderr.write("sched: interrupted\n")
        sys.exit(130)
    run()


if __name__ == "__main__":
    main()
