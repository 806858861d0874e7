"""What the commands print for people and scripts: curve labels, tables that fit the terminal
without cutting a number, the final LR, options after the command, and validate for CI."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sched_cli.cli import app

SAMPLES = Path(__file__).resolve().parent.parent / "sample_specs"


def run(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(app, list(args), env=env)


def ok(*args: str, env: dict[str, str] | None = None):
    result = run(*args, env=env)
    assert result.exit_code == 0, (args, result.output, result.exception)
    return result


def _sched() -> list[str]:
    exe = shutil.which("sched", path=str(Path(sys.executable).parent))
    return [exe] if exe else [sys.executable, "-m", "sched_cli"]


# -- global options anywhere, what -o wrote, completion ----------------------------------------
@pytest.mark.parametrize("flag", ["--quiet", "-q"])
def test_quiet_after_the_command(flag):
    stacked = str(SAMPLES / "stacked_schedulers.yaml")
    loud = ok("validate", stacked)
    assert "only the last" in loud.stderr
    for args in (["validate", stacked, flag], [flag, "validate", stacked]):
        result = ok(*args)
        assert "only the last" not in result.stderr and "ok" in result.stdout


def test_verbose_and_debug_after_the_command(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("max_duration: 10ba\nschedulers: [{name: cosine, alpha_f: .inf}]\n")
    result = run("export", str(bad), "--debug")
    assert result.exit_code != 0 and result.exception is not None and not isinstance(result.exception, SystemExit)
    assert run("export", str(bad)).exit_code == 2


def test_global_options_are_listed_in_each_commands_help():
    for command in ("plot", "export", "compare", "table", "list", "describe", "validate"):
        text = ok(command, "--help").stdout
        for flag in ("--quiet", "-q", "--verbose", "-v", "--debug"):
            assert flag in text, (command, flag)


def test_writing_a_file_says_what_was_written(tmp_path):
    out = tmp_path / "run.csv"
    result = ok("export", "cosine", "--max-duration", "10ba", "-o", str(out))
    assert result.stderr.strip() == f"wrote 10 rows to {out}" and result.stdout == ""
    assert out.read_text().count("\n") == 11
    image = tmp_path / "c.svg"
    result = ok("plot", "cosine", "--max-duration", "10ba", "-o", str(image))
    assert result.stderr.strip() == f"wrote {image}"
    quiet = ok("export", "cosine", "--max-duration", "10ba", "-o", str(out), "-q")
    assert quiet.stderr == ""


def test_shell_completion_is_offered():
    assert "--install-completion" in ok("--help").stdout
    script = subprocess.run(
        _sched() + ["--show-completion", "bash"],
        capture_output=True,
        text=True,
        env=dict(os.environ, SHELL="/bin/bash"),
    )
    assert script.returncode == 0 and "complete" in script.stdout and "_SCHED_COMPLETE" in script.stdout


# -- names of curves ---------------------------------------------------------------------------
def test_compare_names_inline_specs_by_their_expressions():
    result = ok(
        "compare", "cosine", "linear(alpha_f=0.5)", "--max-duration", "100ba", "--width", "80", "--height", "12"
    )
    assert "inline" not in result.stdout
    assert "cosine vs linear(alpha_f=0.5)" in result.stdout  # the plot's title
    assert "ssr=1" not in result.stdout
    assert result.stdout.count("linear(alpha_f=0.5)") == 3  # the summary table, title and legend


def test_labels_and_title_given_on_the_command_line(tmp_path):
    result = ok(
        "compare",
        "cosine",
        "linear",
        "--max-duration",
        "100ba",
        "--label",
        "cos",
        "--label",
        "lin",
        "--title",
        "two decays",
        "--width",
        "80",
        "--height",
        "12",
    )
    assert "two decays" in result.stdout and "cos" in result.stdout and "lin" in result.stdout
    assert "linear" not in result.stdout
    one = ok("plot", "cosine", "--max-duration", "100ba", "--label", "mine", "--width", "80", "--height", "12")
    assert "mine" in one.stdout


@pytest.mark.parametrize("labels", [["a"], ["a", "b", "c"]])
def test_label_count_must_match_the_specs(labels):
    args = [a for label in labels for a in ("--label", label)]
    result = run("compare", "cosine", "linear", "--max-duration", "100ba", "--no-plot", *args)
    assert result.exit_code == 2 and "one --label per spec" in result.stderr
    result = run("plot", "cosine", "--max-duration", "100ba", "--label", "a", "--label", "b")
    assert result.exit_code == 2 and "2 times for 1 spec" in result.stderr
