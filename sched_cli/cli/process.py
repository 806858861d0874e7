"""What every ``sched`` command shares as a process: exit codes, the warning/error/info lines on
stderr, the guard that turns expected failures into one line, closed pipes, signals, standard
streams, and :func:`main`.

Only the standard library and typer are imported here; rich loads when a line is printed.
"""

from __future__ import annotations

import errno
import functools
import io
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer

EXIT_USAGE = 2
#: sched could not finish for a reason that is not the user's input (a bug of its own, a full
#: disk): 3, apart from 1, which means a verdict (``check``: the log leaves the plan;
#: ``validate --strict``: warnings), so that a CI job never reads a crash as a verdict.
EXIT_INTERNAL = 3
#: ``validate --strict``: every spec is valid, but some have warnings.
EXIT_WARNINGS = 1
EXIT_INTERRUPTED = 130
#: A closed pipe ends sched as SIGPIPE ends other Unix tools: 128 + 13, quietly.
EXIT_PIPE_CLOSED = 141
#: Write failures that mean "the disk is full" (or the user's file size limit is reached): exit 3.
DISK_FULL = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT}
_STREAM_ERRNOS = {errno.EPIPE, errno.EBADF, errno.EIO, *DISK_FULL}


class Options:
    """What the global options asked for, for the current command."""

    #: The command line as typed (set by :func:`main`), for a report to say how it was made.
    argv: list[str] | None = None
    quiet = False
    verbose = False
    debug = False
    #: Warnings already printed by this command, so that each is printed once.
    warned: set[str] = set()
    interrupted = False  # "sched: interrupted" was printed


class UserError(Exception):
    """A problem with what the user typed: reported in one line, exit code 2."""


# -- lines on stderr --------------------------------------------------------------------------------
def stderr_console():
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def note(message: str) -> None:
    """A warning about the spec (it is valid, but probably not what was meant); not with -q."""
    warning(message)


def assumed(message: str) -> None:
    """``note: MESSAGE`` on one line of stderr: a default sched chose that changes the numbers
    (1 device when none is given...); once per message per command, not with -q."""
    _once("[cyan]note:[/]", message)


def wrote(message: str) -> None:
    """Say what a command wrote to a file (on stderr, so stdout stays for results); not with -q.
    Plain text, as it is: no style to draw, so rich (about 25 ms to import) is not loaded for it."""
    if not Options.quiet:
        sys.stderr.write(message + "\n")
        sys.stderr.flush()


def warning(message: str) -> None:
    """``warning: MESSAGE`` on one line of stderr, once per message per command, unless -q."""
    _once("[yellow]warning:[/]", message)


def _once(label: str, message: str) -> None:
    """``label MESSAGE`` on one line of stderr, its whitespace folded; once per message per
    command (a note and a warning of the same words count as one), not with -q."""
    text = " ".join(message.split())
    if Options.quiet or text in Options.warned:
        return
    Options.warned.add(text)
    from rich.markup import escape

    stderr_console().print(f"{label} {escape(text)}", soft_wrap=True)


def info(message: str) -> None:
    if Options.verbose:
        stderr_console().print(f"[dim]{message}[/]", soft_wrap=True)


def error(kind: str, message: str) -> None:
    from rich.markup import escape

    text = escape(" ".join(message.split("\n")))
    stderr_console().print(f"[red]sched: {kind}:[/] {text}", soft_wrap=True, highlight=False)


@contextmanager
def warnings_as_lines() -> Iterator[None]:
    """Python warnings raised while a command runs (Composer's zero-warmup warning, a library's
    deprecation) printed by :func:`warning`: one line each, once, hidden by -q; never the
    warnings module's own report with its source line."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.showwarning = lambda message, *_args, **_kwargs: warning(str(message))
        yield


# -- the guard around a command's body --------------------------------------------------------------
@contextmanager
def user_errors() -> Iterator[None]:
    """Turn every expected failure into one line on stderr and exit code 2 (130 on Ctrl-C).

    A full disk is exit code 1; a closed pipe, a signal or a failing standard output pass on to
    :func:`guarded`, which handles them the same way for every command."""
    try:
        yield
    except KeyboardInterrupt:
        report_interrupted()
        raise typer.Exit(EXIT_INTERRUPTED) from None
    except _user_errors() as exc:
        if Options.debug:
            raise
        error("error", str(exc))
        raise typer.Exit(exit_code_of(exc)) from None
    except (typer.Exit, typer.Abort, _click_exception()):
        raise
    except Exception as exc:  # noqa: BLE001 - a bug of ours: still one line, not a traceback
        if is_stream_failure(exc):
            raise
        internal_error(exc)
        raise typer.Exit(EXIT_INTERNAL) from None


#: The errors a user's input or environment causes, by module: each is one line and exit 2.
USER_ERRORS = (
    ("sched_cli.check", "CheckError"),
    ("sched_cli.logs", "LogError"),
    ("sched_cli.render.writers", "OutputError"),
    ("sched_cli.schedulers.base", "ScheduleError"),
    ("sched_cli.specs", "SpecError"),
    ("sched_cli.time", "TimeStringError"),
    ("sched_cli.views", "ViewError"),
)


def _user_errors() -> tuple[type[BaseException], ...]:
    """:class:`UserError` and each error class of :data:`USER_ERRORS` whose module is loaded.

    Looked up when an exception arrives, not imported when a command starts: a module that was
    never imported cannot have raised its error, and importing ``check`` or ``logs`` for every
    command would only slow its start."""
    loaded = (sys.modules.get(module) for module, _ in USER_ERRORS)
    return (UserError, *(getattr(m, name) for m, (_, name) in zip(loaded, USER_ERRORS, strict=True) if m is not None))


def report_interrupted() -> None:
    """``sched: interrupted``, once, wherever Ctrl-C arrived."""
    if not Options.interrupted:
        Options.interrupted = True
        stderr_console().print("[red]sched: interrupted[/]")


def internal_error(exc: BaseException) -> None:
    """One line for a bug of ours (the traceback with --debug)."""
    if Options.debug or "--debug" in sys.argv[1:]:
        import traceback

        traceback.print_exception(exc)
        return
    error("internal error", f"{type(exc).__name__}: {exc} (run with --debug for the traceback, and please report it)")


def exit_code_of(exc: BaseException) -> int:
    """2 for a user error; 1 when the disk (or the user's file size limit) is full."""
    return EXIT_INTERNAL if getattr(exc, "errno", None) in DISK_FULL else EXIT_USAGE


def _click_exception() -> type[Exception]:
    """Click's base exception, reached through typer's public ``BadParameter``: current typer
    vendors click (as ``typer._click``) and no longer installs it, so ``import click`` fails."""
    return next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")


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


def is_stream_failure(exc: BaseException) -> bool:
    """Whether ``exc`` is standard output failing (closed pipe, full disk, closed descriptor)
    rather than a bug: those end every command the same way, in :func:`guarded`."""
    if not isinstance(exc, OSError) or exc.errno not in _STREAM_ERRNOS:
        return False
    from sched_cli.render.writers import OutputError

    return not isinstance(exc, OutputError)


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
    error("error", f"cannot write to standard output: {exc.strerror or exc}")
    _pipe_closed()  # whatever is still buffered cannot be written either
    return exit_code_of(exc)


def _stopped(signum: int) -> int:
    import signal

    error("stopped", f"{signal.Signals(signum).name}; nothing was left half-written")
    return 128 + signum


def guarded(command):
    """Run a command so that a closed pipe, a failing stdout and signals end it the same way for
    every command, whether or not its body uses :func:`user_errors`."""

    @functools.wraps(command)
    def run(*args, **kwargs):
        twice = _repeated_option()
        if twice is not None:
            error("error", twice)
            raise typer.Exit(EXIT_USAGE)
        missing = _missing_argument(command, kwargs)
        if missing is not None:
            error("error", missing)
            raise typer.Exit(EXIT_USAGE)
        try:
            return command(*args, **kwargs)
        except BrokenPipeError:
            raise typer.Exit(_pipe_closed()) from None
        except KeyboardInterrupt:  # outside user_errors (typer would exit 130 silently)
            report_interrupted()
            raise typer.Exit(EXIT_INTERRUPTED) from None
        except Terminated as exc:
            raise typer.Exit(_stopped(exc.signum)) from None
        except OSError as exc:
            if not is_stream_failure(exc):
                raise
            raise typer.Exit(_stream_failed(exc)) from None

    run._sched_guarded = True  # type: ignore[attr-defined]
    return run


def _missing_argument(command: Any, values: dict[str, Any]) -> str | None:
    """A required argument left out, as click's usage error says it. Click checks this itself, but
    typer 0.16 under click 8.5 hands the command ``None`` instead."""
    import inspect

    for name, param in inspect.signature(command).parameters.items():
        info = param.default
        if type(info).__name__ == "ArgumentInfo" and info.default is ... and values.get(name) is None:
            return f"Missing argument {(info.metavar or name.upper())!r}"
    return None


def _repeated_option() -> str | None:
    """A single-value option given twice on the command line (click would keep the last value
    silently), as the message that says so; ``None`` when there is none."""
    import importlib

    # The click typer runs on (its own vendored copy in typer 0.23+, else click itself).
    core = next(c for c in typer.Context.__mro__ if c.__module__.endswith(".core")).__module__
    package = core.rsplit(".", 1)[0]
    ctx = importlib.import_module(f"{package}.globals").get_current_context(silent=True)
    if ctx is None or Options.argv is None:
        return None
    single = {}
    takes_value = set()
    for param in ctx.command.params:
        if getattr(param, "param_type_name", None) != "option":
            continue
        if not param.is_flag and not param.count:
            takes_value.update(param.opts)
            if not param.multiple:
                single.update({opt: param for opt in param.opts})
    args = Options.argv
    name = ctx.info_name
    args = args[args.index(name) + 1 :] if name in args else args
    seen: dict[Any, list[str]] = {}
    i = 0
    while i < len(args):
        word = args[i]
        if word == "--":
            break
        opt, eq, value = word.partition("=") if word.startswith("--") else (word, "", "")
        if opt in takes_value and not eq:
            value = args[i + 1] if i + 1 < len(args) else ""
            i += 1
        if opt in single:
            seen.setdefault(single[opt], []).append(value)
        i += 1
    for param, values in seen.items():
        if len(values) > 1:
            opt = max(param.opts, key=len)
            from sched_cli.cli.settings import REPEATABLE

            more = " (compare, plot and report compare several values)" if param.name in REPEATABLE else ""
            return f"{opt} was given {len(values)} times ({', '.join(values)}); give it once{more}"
    return None


def guard_commands(app: typer.Typer) -> None:
    """Wrap every registered command in :func:`guarded` (once)."""
    for command in app.registered_commands:
        if command.callback is not None and not hasattr(command.callback, "_sched_guarded"):
            command.callback = guarded(command.callback)


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
    ``warning:`` line, as :func:`warnings_as_lines` prints those raised inside a command."""
    warning(str(message) if str(message).strip() else category.__name__)


def _only_the_command_run(app: typer.Typer, args: list[str]) -> typer.Typer:
    """``app`` with only the command that ``args`` runs: typer builds the options of every
    registered command before running one, a tenth of a small export's time. The whole app when
    no command is named (``sched --help``), the name is not one (its error lists the others), or
    the shell completes a command line."""
    import copy

    # The app's own options (-q, -v, --debug, --version, --help...) are flags: the first other
    # word names the command.
    name = next((arg for arg in args if not arg.startswith("-")), None)
    if name is None or any(key.endswith("_COMPLETE") for key in os.environ):
        return app
    chosen = [c for c in app.registered_commands if (c.name or getattr(c.callback, "__name__", None)) == name]
    if len(chosen) != 1:
        return app
    single = copy.copy(app)
    single.registered_commands = chosen
    return single


def _usage_error(exc: Any) -> int:
    """A mistyped command line (an unknown option or command, a bad or missing value) as one
    ``sched: error:`` line with a did-you-mean, instead of click's usage block."""
    kind = type(exc).__name__
    ctx = getattr(exc, "ctx", None)
    if kind == "NoArgsIsHelpError":  # `sched` alone: the help
        exc.show()
        return exc.exit_code
    message = exc.format_message()
    if kind == "NoSuchOption":
        # In sched's own words: click's wording differs between releases ("No such option: --x",
        # "No such option '--x'.").
        possibilities = sorted(exc.possibilities or ())
        message = f"No such option: {exc.option_name}" + (
            f"; did you mean {' or '.join(possibilities)}?" if possibilities else ""
        )
    elif message.startswith("No such command") and exc.message.count("'") >= 2:
        # Our own suggestion: click's wording (and whether it suggests at all) differs by release.
        import difflib

        name = exc.message.split("'")[1]
        close = difflib.get_close_matches(name, ctx.command.list_commands(ctx)) if ctx is not None else []
        message = f"No such command {name!r}" + (f"; did you mean {', '.join(map(repr, close))}?" if close else "")
    message = message.rstrip(".")
    help_command = ctx.command_path if ctx is not None and ctx.command_path else "sched"
    error("error", f"{message} (see `{help_command} --help`)")
    return exc.exit_code


def main() -> None:
    """Entry point of the ``sched`` console script."""
    from sched_cli.cli import app

    Options.argv = sys.argv[1:]
    code: Any
    try:
        _prepare_process()
        # Not standalone: click's usage and conversion errors come here, to be told in sched's voice.
        result = _only_the_command_run(app, sys.argv[1:])(standalone_mode=False)
        code = result if isinstance(result, int) else 0
        if code == EXIT_INTERRUPTED:  # typer turns Ctrl-C while parsing options into a silent exit 130
            report_interrupted()
    except _click_exception() as exc:
        code = _usage_error(exc)
    except typer.Abort:
        report_interrupted()
        code = EXIT_INTERRUPTED
    except SystemExit as exc:
        code = exc.code
        if code == EXIT_INTERRUPTED:  # typer turns Ctrl-C while parsing options into a silent exit 130
            report_interrupted()
    except KeyboardInterrupt:  # Ctrl-C outside a command body: no traceback
        report_interrupted()
        code = EXIT_INTERRUPTED
    except Terminated as exc:
        code = _stopped(exc.signum)
    except BrokenPipeError:
        code = _pipe_closed()
    except Exception as exc:  # noqa: BLE001 - a bug outside a command body
        if isinstance(exc, OSError) and is_stream_failure(exc):
            code = _stream_failed(exc)
        else:
            internal_error(exc)
            code = EXIT_INTERNAL
    try:
        if sys.stdout is not None:
            sys.stdout.flush()
    except BrokenPipeError:
        code = _pipe_closed()
    except OSError as exc:
        code = _stream_failed(exc)
    sys.exit(code)
