"""What the commands print for people and scripts: curve labels, tables that fit the terminal
without cutting a number, the final LR, options after the command, and validate for CI."""

from __future__ import annotations

import csv
import io
import json
import os
import re
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


# -- tables that never cut a number ------------------------------------------------------------
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def in_terminal(args: list[str], columns: int) -> tuple[str, str]:
    """Run sched with its standard output on a real pseudo-terminal ``columns`` wide; return what
    it showed (colour codes removed) and its standard error."""
    import pty

    master, slave = pty.openpty()
    env = dict(os.environ, COLUMNS=str(columns), LINES="50", TERM="xterm")
    env.pop("NO_COLOR", None)
    proc = subprocess.Popen(_sched() + args, stdout=slave, stderr=subprocess.PIPE, env=env)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    stderr = proc.stderr.read().decode() if proc.stderr else ""
    proc.wait()
    assert proc.returncode == 0, stderr
    return ANSI.sub("", b"".join(chunks).decode()).replace("\r\n", "\n"), stderr


def _cells(text: str) -> list[str]:
    return [cell.strip() for line in text.splitlines() for cell in re.split(r"[│┃]", line) if cell.strip()]


@pytest.mark.parametrize("columns", [80, 120])
def test_table_fits_the_terminal_and_every_number_is_whole(columns):
    text, _ = in_terminal(["table", str(SAMPLES / "gpt_llm_foundry.yaml"), "--ssr", "0.5", "--ssr", "1"], columns)
    lines = text.splitlines()
    assert lines and max(len(line) for line in lines) <= columns
    assert "…" not in text
    cells = _cells(text)
    # Tokens equal samples x 2048 here, so both columns show; epochs do not (no dataloader_len).
    assert "epoch" not in cells and "multiplier" in cells and "token" in cells
    # The end of the run at ssr 1: 4,800 batches, 2,516,582,400 tokens (compact only if it must).
    assert ("2,516,582,400" in cells) or ("2.52e9" in cells)
    assert "end of run" in text and "0.000591337" in cells or "5.91e-4" in cells


@pytest.mark.parametrize("columns", [80, 120])
def test_compare_and_list_fit_the_terminal_without_cutting_names(columns):
    text, _ = in_terminal(
        ["compare", str(SAMPLES / "gpt_llm_foundry.yaml"), "--ssr", "0.5", "--ssr", "1", "--no-plot"], columns
    )
    assert max(len(line) for line in text.splitlines()) <= columns and "…" not in text
    listed, _ = in_terminal(["list"], columns)
    assert max(len(line) for line in listed.splitlines()) <= columns and "…" not in listed
    words = set(re.findall(r"[\w:]+", listed))
    from sched_cli.registry import ENTRIES

    for entry in ENTRIES:
        assert entry.name in words and set(entry.aliases) <= words, entry.name


def test_in_a_pipe_a_table_is_tab_separated_with_exact_values():
    proc = subprocess.run(
        _sched()
        + ["table", "linear(alpha_f=0.2)", "--max-duration", "10ba", "--lr", "3e-4", "--at", "0ba", "--at", "1dur"],
        capture_output=True,
        text=True,
        env=dict(os.environ, COLUMNS="80"),
    )
    assert proc.returncode == 0, proc.stderr
    assert not set("┏┃│━─") & set(proc.stdout)
    lines = proc.stdout.splitlines()
    assert lines[0].split("\t") == ["ssr", "time", "batch", "epoch", "sample", "token", "multiplier", "lr"]
    assert lines[1].split("\t") == ["1.0", "0ba", "0", "0", "0", "0", "1.0", "0.0003"]
    end = lines[2].split("\t")
    assert end[:3] == ["1.0", "1dur (end of run)", "10"]
    # Composer's linear at the end: alpha_i + (alpha_f - alpha_i) * 1, which is not quite 0.2 in
    # floats; shortest round-trip text gives that value back exactly.
    alpha = 1.0 + (0.2 - 1.0) * 1.0
    assert end[6] == repr(alpha) and float(end[7]) == 3e-4 * alpha


@pytest.mark.parametrize("fmt", ["text", "csv", "tsv", "json"])
def test_table_formats_for_scripts(fmt):
    args = ["table", "sample_specs/gpt_llm_foundry.yaml", "--at", "0.1dur", "--at", "1dur", "--format", fmt]
    out = ok(*[a if not a.startswith("sample_specs") else str(SAMPLES / Path(a).name) for a in args]).stdout
    if fmt == "json":
        rows = json.loads(out)["rows"]
    elif fmt == "text":
        header, *body = out.splitlines()
        names = header.split()
        rows = [dict(zip(names, re.split(r"\s{2,}", line.strip()), strict=True)) for line in body]
    else:
        rows = list(csv.DictReader(io.StringIO(out), delimiter="," if fmt == "csv" else "\t"))
    assert [str(r["batch"]) for r in rows] == ["480", "4800"]
    assert [str(r["token"]) for r in rows] == ["251658240", "2516582400"]  # every column, whole
    assert float(rows[0]["lr"]) == 0.0006 * float(rows[0]["multiplier"])
    assert float(rows[1]["multiplier"]) == 0.1


def test_a_bad_at_is_named_after_the_good_rows_are_shown():
    result = run(
        "table", "cosine", "--max-duration", "10ba", "--at", "2ba", "--at", "5iter", "--at", "5sec", "--at", "1dur"
    )
    assert result.exit_code == 2
    rows = list(csv.DictReader(io.StringIO(result.stdout), delimiter="\t"))
    assert [r["time"] for r in rows] == ["2ba", "1dur (end of run)"]
    errors = result.stderr.strip().splitlines()
    assert len(errors) == 2
    assert "'5iter'" in errors[0] and "no iterations" in errors[0] and "dataloader_len" not in errors[0]
    assert "'5sec'" in errors[1] and "wall-clock" in errors[1]


def test_the_end_of_a_run_in_epochs_and_in_trainer_mode():
    spec = str(SAMPLES / "resnet50_imagenet.yaml")
    for at in ("1dur", "90ep", "450450ba"):
        rows = list(csv.DictReader(io.StringIO(ok("table", spec, "--at", at).stdout), delimiter="\t"))
        assert [(r["batch"], r["epoch"]) for r in rows] == [("450450", "90")]
        assert float(rows[0]["multiplier"]) == pytest.approx(0.001)
    # linear 1 -> 0: formula 0 at the end; the Trainer's last step (after batch 9) leaves alpha(9) = 0.1.
    formula = ok("table", "linear", "--max-duration", "10ba", "--at", "1dur", "-f", "csv").stdout
    trainer = ok("table", "linear", "--max-duration", "10ba", "--at", "1dur", "-f", "csv", "--as-trainer").stdout
    assert float(next(csv.DictReader(io.StringIO(formula)))["multiplier"]) == 0.0
    assert float(next(csv.DictReader(io.StringIO(trainer)))["multiplier"]) == pytest.approx(0.1)


def test_compare_format_gives_only_the_summary():
    out = ok("compare", str(SAMPLES / "bert_base.yaml"), "--ssr", "0.5", "--ssr", "1", "-f", "json").stdout
    rows = json.loads(out)["rows"]
    assert [(r["ssr"], r["batches"]) for r in rows] == [(0.5, 500000), (1.0, 1000000)]
    assert all(r["final"] == 0.0 for r in rows)


# -- validate for CI ---------------------------------------------------------------------------
def test_validate_checks_every_spec_and_fails_after_all(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("max_duration: 10ba\nschedulers: [{name: cosine, alpha_f: .inf}]\n")
    names = ("bert_base", "gpt_llm_foundry", "resnet50_imagenet", "sgdr_cifar", "stacked_schedulers")
    specs = [str(SAMPLES / f"{name}.yaml") for name in names]
    result = run("validate", specs[0], str(bad), *specs[1:], str(tmp_path / "missing.yaml"))
    assert result.exit_code == 2
    ok_lines = result.stdout.splitlines()
    assert [line.split(": ok: ")[0] for line in ok_lines] == specs  # one line each, in order, all checked
    errors = [line for line in result.stderr.splitlines() if line.startswith("sched: error:")]
    assert len(errors) == 2 and str(bad) in errors[0] and "alpha_f" in errors[0] and "missing.yaml" in errors[1]


def test_validate_labels_warnings_and_strict_fails_on_them():
    stacked, clean = str(SAMPLES / "stacked_schedulers.yaml"), str(SAMPLES / "bert_base.yaml")
    result = ok("validate", stacked, clean)
    warnings = result.stderr.strip().splitlines()
    assert len(warnings) == 1 and warnings[0].startswith(f"warning: {stacked}: 2 schedulers")
    assert "note:" not in result.stderr and "(1 warning)" in result.stdout
    strict = run("validate", stacked, clean, "--strict")
    assert strict.exit_code == 1 and "--strict: 1 spec with warnings" in strict.stderr
    assert len(strict.stdout.splitlines()) == 2
    assert run("validate", stacked, "--strict", "-q").exit_code == 1  # -q hides warnings, not their verdict
    assert ok("validate", clean, "--strict").stderr == ""


def test_trainer_plots_mark_only_breakpoints_of_the_scheduler_in_force(tmp_path):
    # Only the last scheduler (cosine) is in force under the Trainer: the first one's warmup never
    # happens, so neither the plot nor the table nor the summary shows it.
    stacked = str(SAMPLES / "stacked_schedulers.yaml")
    formula = ok("plot", stacked, "--width", "80", "--height", "12", "-q").stdout
    trainer = ok("plot", stacked, "--width", "80", "--height", "12", "-q", "--as-trainer").stdout
    assert "warmup end" in formula and "warmup end" not in trainer
    assert "warmup end" not in ok("table", stacked, "--as-trainer", "-q").stdout
    assert "warmup end" in ok("table", stacked, "-q").stdout
    summary = json.loads(ok("compare", stacked, "--as-trainer", "-q", "-f", "json").stdout)["rows"][0]
    assert summary["warmup end"] is None
    assert json.loads(ok("compare", stacked, "-q", "-f", "json").stdout)["rows"][0]["warmup end"] == 1000


def test_help_with_completion_stays_light():
    # --help runs the whole command line (completion included) and still loads nothing heavy.
    code = (
        "import sys\n"
        "sys.argv = ['sched', '--help']\n"
        "from sched_cli.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "heavy = {'numpy', 'matplotlib', 'torch', 'yaml'} & set(sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "--install-completion" in result.stdout and "validate" in result.stdout


# -- reading the terminal plot (issue 23), through the real CLI -------------------------------------
def _terminal_env(**extra: str) -> dict[str, str]:
    """A terminal as rich sees one (FORCE_COLOR), with ``extra`` (NO_COLOR, COLUMNS...)."""
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "COLUMNS", "LINES", "TERM")}
    return {**env, "FORCE_COLOR": "1", "TERM": "xterm", **extra}


def _plot_rows(out: str) -> list[str]:
    return [
        re.sub(r"\x1b\[[0-9;]*m", "", line) for line in out.splitlines() if line.lstrip("\x1b[0-9;m").startswith("│")
    ]


def _labels(out: str) -> list[str]:
    return [row.rsplit("│", 1)[1].strip() for row in _plot_rows(out) if row.rsplit("│", 1)[1].strip()]


def test_the_y_axis_ends_near_the_peak_not_a_step_above(sched) -> None:
    # A peak LR of 6e-4: the axis is labelled 0 and 5 (x1e-4) and the peak is in the top row,
    # not under an axis running to 10 with a third of the plot empty.
    code, out, err = sched(
        "plot", "cosine_with_warmup(t_warmup=100ba)", "--max-duration", "1000ba", "--lr", "6e-4",
        "--width", "60", "--height", "12",
    )  # fmt: skip
    assert code == 0, err
    assert _labels(out) == ["5", "0"]
    rows = _plot_rows(out)
    assert "▀" in rows[0] or "▄" in rows[0]  # the peak's row is the top one


def test_a_floor_a_tenth_of_the_peak_is_above_the_zero_row(sched) -> None:
    code, out, err = sched(
        "plot", "cosine_with_warmup(t_warmup=100ba, alpha_f=0.1)", "--max-duration", "1000ba", "--lr", "2e-5",
        "--width", "60",
    )  # fmt: skip
    assert code == 0, err
    rows = _plot_rows(out)
    assert _labels(out)[0] == "2" and rows[-1].rsplit("│", 1)[1].strip() == "0"  # the axis ends at the peak
    # The curve's end (the floor, 2e-6) is drawn in a row above the one labelled 0.
    ends = [i for i, row in enumerate(rows) if row[row.rindex("│") - 1] != " "]
    assert ends and max(ends) < len(rows) - 1


def test_log_axis_labels_every_decade(sched) -> None:
    code, out, err = sched(
        "plot", "cosine_with_warmup(t_warmup=100ba, alpha_f=0.00001)", "--max-duration", "1000ba", "--lr", "2e-5",
        "--log", "--width", "60", "--height", "24",
    )  # fmt: skip
    assert code == 0, err
    labels = _labels(out)
    exponents = [int(label.split("e")[1]) for label in labels]
    assert exponents == list(range(exponents[0], exponents[-1] - 1, -1)) and len(exponents) >= 5


def test_no_color_gives_each_curve_its_own_glyph(sched) -> None:
    code, out, err = sched(
        "plot", str(SAMPLES / "llm_wsd.yaml"), "--ssr", "1", "--ssr", "0.5", "--width", "60", "--height", "12",
        env=_terminal_env(NO_COLOR="1"),
    )  # fmt: skip
    assert code == 0, err
    assert "\x1b[" not in out
    legend = out.strip().splitlines()[-1]
    assert legend.split()[0] != legend.split()[2]  # "++ ssr=1   xx ssr=0.5"
    assert legend.split()[0] == "++" and legend.split()[2] == "xx"


def test_a_narrow_terminal_keeps_the_plot_minimum_width_and_the_whole_legend(sched) -> None:
    label = "a label longer than the narrowest plot is wide, kept whole"
    code, out, err = sched(
        "compare", str(SAMPLES / "llm_wsd.yaml"), "cosine_with_warmup(t_warmup=100ba)@max_duration=1000ba",
        "--label", "wsd", "--label", label, "--height", "14", env=_terminal_env(COLUMNS="30", NO_COLOR="1"),
    )  # fmt: skip
    assert code == 0, err
    plot = out[out.index("↑") :]
    assert all(len(line) == 40 for line in plot.splitlines())
    assert " ".join(plot.split()).count(label) == 1 and "…" not in plot


def test_hf_rows_are_optimizer_steps_on_the_axis(sched) -> None:
    code, out, err = sched("plot", str(SAMPLES / "hf_run_clm.yaml"), "--dataset-size", "1000", "--width", "60")
    assert code == 0, err
    assert "optimizer steps (ba) →" in out and "batches (ba)" not in out


def test_describe_into_a_pipe_has_no_box(sched) -> None:
    code, out, err = sched("describe", "linear")
    assert code == 0, err
    assert not set("┃━┏┓┡┩│─└┘") & set(out)
    rows = [line.split() for line in out[out.index("parameters") :].splitlines()[1:] if line.strip()]
    assert rows[0] == ["name", "kind", "default"] and rows[1] == ["alpha_i", "number", "1.0"]


def test_list_filters_by_text(sched) -> None:
    code, out, err = sched("list", "cosine", "-f", "tsv")
    assert code == 0, err
    names = [line.split("\t")[0] for line in out.splitlines()[1:]]
    assert "CosineAnnealingScheduler" in names and "LinearScheduler" not in names
    assert all("cosine" in line.lower() for line in out.splitlines()[1:])
    code, _, err = sched("list", "nothing-like-it")
    assert code == 2 and "no built-in scheduler matches 'nothing-like-it'" in err


def test_top_level_help_keeps_every_summary_whole(sched) -> None:
    code, out, err = sched("--help", env={**os.environ, "COLUMNS": "80"})
    assert code == 0, err
    commands = out[out.index("Commands:") :]
    assert "..." not in commands
    assert "Compare schedules across SSRs, specs or a run setting" in commands
