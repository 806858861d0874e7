"""The shape of ``sched_cli/cli/``: one module per command, registered by one line, and start-up
that leaves out what a command does not use (numpy, the spec layer, rich, pydantic, torch,
matplotlib). Run in fresh interpreters: the test session itself has imported everything."""

from __future__ import annotations

import subprocess
import sys

import pytest

from sched_cli import cli, readers
from sched_cli.cli.options import SpecFormat

#: Each command module and the command(s) it registers.
EXPECTED = {
    "plot": {"plot"},
    "report": {"report"},
    "export": {"export"},
    "compare": {"compare"},
    "resume": {"resume"},
    "table": {"table"},
    "check": {"check"},
    "catalog": {"list", "describe"},
    "validate": {"validate"},
}


def _modules_after(code: str) -> set[str]:
    """The modules a fresh Python has imported after running ``code``."""
    script = f"{code}\nimport sys\nprint('\\n'.join(sys.modules))"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    return set(result.stdout.split())


def _roots(modules: set[str]) -> set[str]:
    return {m.split(".")[0] for m in modules}


def test_each_command_module_registers_exactly_its_commands():
    registered: dict[str, set[str]] = {}
    for command in cli.app.registered_commands:
        module = command.callback.__module__.rpartition(".")[2]
        name = command.name or command.callback.__name__
        registered.setdefault(module, set()).add(name)
    assert registered == EXPECTED
    assert set(cli.COMMANDS) == set(EXPECTED)


def test_commands_are_listed_in_registration_order():
    names = [c.name or c.callback.__name__ for c in cli.app.registered_commands]
    assert names == ["plot", "report", "export", "compare", "resume", "table", "check", "list", "describe", "validate"]


def test_every_command_is_guarded():
    assert all(getattr(c.callback, "_sched_guarded", False) for c in cli.app.registered_commands)


def test_from_choices_are_sched_and_every_reader():
    """A new reader is a new --from choice without any edit to the CLI."""
    assert [f.value for f in SpecFormat] == ["sched", *readers.NAMES]


def test_importing_the_cli_imports_nothing_heavy():
    modules = _modules_after("import sched_cli.cli")
    assert not _roots(modules) & {"numpy", "torch", "matplotlib", "pydantic", "rich", "yaml", "uniplot", "orjson"}
    heavy_ours = {"sched_cli.specs", "sched_cli.views", "sched_cli.simulator", "sched_cli.registry", "sched_cli.render"}
    assert not modules & heavy_ours


@pytest.mark.parametrize("module", sorted(EXPECTED))
def test_a_command_module_alone_imports_nothing_heavy(module):
    modules = _modules_after(f"import sched_cli.cli.{module}")
    assert not _roots(modules) & {"numpy", "torch", "matplotlib", "pydantic", "rich"}


def test_help_imports_no_spec_layer_and_no_pydantic():
    code = (
        "import sys, contextlib, io\n"
        "from sched_cli.cli import app\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
        "    app(['--help'])"
    )
    modules = _modules_after(code)
    assert not _roots(modules) & {"numpy", "pydantic", "torch", "matplotlib"}
    assert "sched_cli.specs" not in modules


def test_an_export_runs_without_pydantic_matplotlib_or_torch(tmp_path):
    """typer 0.29 would coerce every option through pydantic; sched's own coercion does not."""
    out = tmp_path / "out.csv"
    code = (
        "import contextlib\n"
        "from sched_cli.cli import app\n"
        "with contextlib.suppress(SystemExit):\n"
        f"    app(['export', 'cosine_with_warmup(t_warmup=10ba)', '--max-duration', '100ba', '--every', '2',"
        f" '--lr', '0.1', '--from', 'sched', '-o', {str(out)!r}, '-q'])"
    )
    modules = _modules_after(code)
    assert not _roots(modules) & {"pydantic", "matplotlib", "torch"}
    header, *rows = out.read_text().splitlines()
    assert header.split(",")[-1] == "lr"
    batches = {int(row.split(",")[1]) for row in rows}
    # every 2nd batch, plus rows around the warmup's end (batch 10) and the last batch
    assert set(range(0, 100, 2)) <= batches <= set(range(0, 100, 2)) | {9, 11, 99}
    assert 99 in batches


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--every", "0"], "0 is less than the minimum, 1"),
        (["--every", "two"], "'two' is not a valid integer"),
        (["--lr", "fast"], "'fast' is not a valid float"),
        (["--from", "yaml"], "'yaml' is not one of 'sched', 'foundry'"),
        (["-f", "xml"], "'xml' is not one of 'csv', 'json', 'jsonl'"),
    ],
)
def test_a_bad_option_value_names_the_option_and_the_value(sched, args, expected):
    code, out, err = sched("export", "cosine", "--max-duration", "10ba", *args)
    assert code == 2 and out == ""
    assert expected in err, err


def test_a_command_run_builds_only_its_own_options(sched):
    """main() hands typer only the command being run; --help, a mistyped name and the others
    still see every command."""
    from sched_cli.cli.process import _only_the_command_run

    def names(app):
        return [c.name or c.callback.__name__ for c in app.registered_commands]

    assert names(_only_the_command_run(cli.app, ["-q", "export", "x", "--lr", "1"])) == ["export"]
    assert names(_only_the_command_run(cli.app, ["list"])) == ["list"]
    assert names(_only_the_command_run(cli.app, ["--help"])) == names(cli.app)
    assert names(_only_the_command_run(cli.app, ["exprot"])) == names(cli.app)
    assert len(cli.app.registered_commands) == len(EXPECTED) + 1  # the app itself is left whole
    code, out, _ = sched("--help")
    assert code == 0 and all(f"  {name} " in out for name in names(cli.app))
