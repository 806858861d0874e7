"""The `sched` command line, end to end: every command, real files, outputs parsed back."""

from __future__ import annotations

import csv
import io
import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sched_cli.cli import app
from sched_cli.simulator import collect, simulate
from sched_cli.specs import load_file

SAMPLES = Path(__file__).resolve().parent.parent / "sample_specs"
SAMPLE_SPECS = sorted([*SAMPLES.glob("*.yaml"), *SAMPLES.glob("*.json")])
# What the Hugging Face samples cannot say (a TrainingArguments file has no dataset size).
SAMPLE_OPTIONS = {
    "hf_run_clm": ["--dataset-size", "2318", "--devices", "4"],
    "hf_trl_sft": ["--dataset-size", "52002"],
    "axolotl_llama3_lora": ["--dataset-size", "2000", "--devices", "2"],
    "llamafactory_qwen3_lora_sft": ["--dataset-size", "1000", "--devices", "4"],
    "recipe_hf": ["--dataset-size", "2001"],
    "recipe_axolotl": ["--dataset-size", "2001"],
    "recipe_llamafactory": ["--dataset-size", "2001"],
}
COLUMNS = ["ssr", "batch", "epoch", "sample", "token", "duration", "multiplier"]


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def run(runner: CliRunner, *args: str):
    result = runner.invoke(app, list(args))
    return result


def ok(runner: CliRunner, *args: str):
    result = run(runner, *args)
    assert result.exit_code == 0, (args, result.output, result.exception)
    assert "Traceback" not in result.output
    return result


# -- export -------------------------------------------------------------------------------------
def test_export_csv_equals_the_library_row_for_row(runner, tmp_path):
    out = tmp_path / "bert.csv"
    ok(runner, "export", str(SAMPLES / "bert_base.yaml"), "--every", "997", "-o", str(out))
    rows = list(csv.DictReader(out.open()))
    assert list(rows[0]) == COLUMNS + ["lr"]
    spec = load_file(SAMPLES / "bert_base.yaml")
    from sched_cli.simulator import Selection

    expected = collect(simulate(spec.run, 1.0, selection=Selection(every=997)))
    assert len(rows) == len(expected["batch"])
    for i, row in enumerate(rows):
        assert int(row["batch"]) == expected["batch"][i] and int(row["token"]) == expected["token"][i]
        assert float(row["multiplier"]) == expected["multiplier"][i]  # exact round trip
        assert float(row["lr"]) == expected["lr"][i]


def test_export_every_batch_by_default_with_hand_checked_values(runner):
    result = ok(runner, "export", "linear_decay_with_warmup(t_warmup=2ba)", "--max-duration", "6ba", "--lr", "0.5")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [int(r["batch"]) for r in rows] == [0, 1, 2, 3, 4, 5]
    # warmup 0, 1/2; then linear from 1 to 0 over batches 2..6: 1 - (t-2)/4.
    assert [float(r["multiplier"]) for r in rows] == [0.0, 0.5, 1.0, 0.75, 0.5, 0.25]
    assert [float(r["lr"]) for r in rows] == [0.0, 0.25, 0.5, 0.375, 0.25, 0.125]
    assert [float(r["duration"]) for r in rows] == [0.0, 1 / 6, 2 / 6, 3 / 6, 4 / 6, 5 / 6]


def test_export_several_ssrs_one_after_the_other(runner):
    result = ok(runner, "export", "cosine", "--max-duration", "10ba", "--ssr", "0.5", "--ssr", "2")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["ssr"] for r in rows] == ["0.5"] * 5 + ["2.0"] * 20
    assert float(rows[1]["multiplier"]) == pytest.approx(0.5 * (1 + math.cos(math.pi * 1 / 5)))


def test_export_json_and_jsonl(runner, tmp_path):
    out = tmp_path / "run.json"
    ok(runner, "export", str(SAMPLES / "sgdr_cifar.yaml"), "--points", "50", "-o", str(out))
    data = json.loads(out.read_text())
    assert set(data) == {"meta", "rows"}
    assert data["meta"]["max_duration"] == "150ep"
    keys = {tuple(row) for row in data["rows"]}
    assert keys == {tuple(COLUMNS + ["lr"])}
    batches = [row["batch"] for row in data["rows"]]
    assert batches == sorted(batches) and batches[0] == 0 and batches[-1] == 150 * 391 - 1
    # Restarts at epochs 10, 30, 70 are always included, with their full multiplier.
    for epoch in (10, 30, 70):
        row = next(r for r in data["rows"] if r["batch"] == epoch * 391)
        assert row["multiplier"] == 1.0
    out_l = tmp_path / "run.jsonl"
    ok(runner, "export", str(SAMPLES / "sgdr_cifar.yaml"), "--points", "50", "-o", str(out_l))
    lines = [json.loads(line) for line in out_l.read_text().splitlines()]
    assert lines == data["rows"]


def test_export_as_trainer_lags_one_batch_and_uses_only_the_last_scheduler(runner):
    spec = str(SAMPLES / "stacked_schedulers.yaml")
    formula = list(csv.DictReader(io.StringIO(ok(runner, "export", spec, "--every", "1000").stdout)))
    trainer = list(csv.DictReader(io.StringIO(ok(runner, "export", spec, "--every", "1000", "--as-trainer").stdout)))
    assert float(formula[0]["multiplier"]) == 0.0  # warmup starts at 0
    assert float(trainer[0]["multiplier"]) == 1.0  # the Trainer never applies the warmup
    last = {int(r["batch"]): float(r["multiplier"]) for r in trainer}
    # batch 5000 trains with the cosine at batch 4999: alpha_f + (1 - alpha_f)(1 + cos(pi * 4999/10000))/2
    assert last[5000] == pytest.approx(0.05 + 0.95 * (1 + math.cos(math.pi * 0.4999)) / 2, abs=1e-15)


def test_export_refuses_a_huge_run_without_every_or_points(runner, tmp_path):
    out = tmp_path / "big.csv"
    result = run(runner, "export", "cosine", "--max-duration", "1e12ba", "-o", str(out))
    assert result.exit_code == 2
    assert "1,000,000,000,000 batches" in result.output and "--points" in result.output
    assert not out.exists()
    ok(runner, "export", "cosine", "--max-duration", "1e12ba", "--points", "100", "-o", str(out))
    assert len(out.read_text().splitlines()) >= 101


def test_export_leaves_an_existing_file_alone_on_error(runner, tmp_path):
    out = tmp_path / "keep.csv"
    out.write_text("yesterday's good data\n")
    result = run(
        runner, "export", "cosine_with_warmup(t_warmup=1ba, t_max=5ba)", "--max-duration", "10ba", "-o", str(out)
    )
    assert result.exit_code == 2 and "shorter than max_duration" in result.output
    assert out.read_text() == "yesterday's good data\n"
    assert [p.name for p in tmp_path.iterdir()] == ["keep.csv"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["export", "cosine", "--max-duration", "10ba", "-o", "{tmp}/x.parquet"], "cannot tell the format"),
        (["export", "cosine", "--max-duration", "10ba", "-o", "{tmp}/missing/x.csv"], "does not exist"),
        (["export", "cosine", "--max-duration", "10ba", "--every", "2", "--points", "3"], "cannot be used together"),
        (["export", "cosine", "--max-duration", "10ba", "--format", "xml"], "xml"),
        (["export", "cosine"], "needs --max-duration"),
        (["export", "cosine", "--max-duration", "10 batches"], "invalid time string"),
        (["export", "cosine", "--max-duration", "10ba", "--ssr", "0"], "greater than 0"),
        (["export", "cosine", "--max-duration", "10ba", "--ssr", "0.01"], "to 0ba"),
        (["export", "cosine_with_warmpu(t_warmup=1ba)", "--max-duration", "10ba"], "did you mean 'cosine_with_warmup'"),
        (["plot", "cosine", "--max-duration", "10ba", "-o", "{tmp}/x.gif"], "unknown image format"),
        (["plot", "cosine", "--max-duration", "10ba", "--y", "lr"], "needs a base LR"),
        (["table", "cosine", "--max-duration", "10ba", "--at", "11ba"], "outside the run"),
        (
            ["table", "cosine", "--max-duration", "10ba", "--at", "ba"],
            "not a time; give a number and a unit, ep, ba, sp, tok or dur",
        ),
        (["describe", "cosin"], "did you mean"),
        (["validate", "{tmp}/nope.yaml"], "no such spec file"),
    ],
)
def test_user_errors_are_one_line_exit_2(runner, tmp_path, args, expected):
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    result = run(runner, *args)
    assert result.exit_code == 2, result.output
    assert expected in result.output
    assert "Traceback" not in result.output
    assert [p for p in tmp_path.iterdir()] == []


# -- plot ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("suffix", [".png", ".svg", ".pdf"])
def test_plot_writes_real_image_files(runner, tmp_path, suffix):
    out = tmp_path / f"resnet{suffix}"
    ok(runner, "plot", str(SAMPLES / "resnet50_imagenet.yaml"), "--ssr", "0.5", "--ssr", "1", "-o", str(out))
    data = out.read_bytes()
    magic = {".png": b"\x89PNG", ".svg": b"<?xml", ".pdf": b"%PDF"}[suffix]
    assert data.startswith(magic) and len(data) > 5000


def test_plot_in_the_terminal_fits_the_width_and_names_each_curve(runner):
    result = ok(
        runner,
        "plot",
        str(SAMPLES / "sgdr_cifar.yaml"),
        "--ssr",
        "0.5",
        "--ssr",
        "1",
        "--width",
        "90",
        "--height",
        "20",
    )
    lines = result.stdout.splitlines()
    assert lines and all(len(line) <= 90 for line in lines)
    assert "\x1b[" not in result.stdout  # not a terminal: no colour codes
    assert "ssr=0.5" in result.stdout and "ssr=1" in result.stdout
    assert "epochs (ep)" in result.stdout


def test_plot_options(runner, tmp_path):
    for extra in (["--x", "dur"], ["--x", "tok", "--y", "multiplier"], ["--log"], ["--as-trainer"], ["--x", "sp"]):
        ok(runner, "plot", str(SAMPLES / "gpt_llm_foundry.yaml"), "--width", "80", *extra)
    result = run(runner, "plot", "cosine", "--max-duration", "10ba", "--x", "ep")
    assert result.exit_code == 2 and "dataloader_len" in result.output


# -- compare, table, list, describe, validate ----------------------------------------------------
def test_compare_summary_table(runner):
    result = ok(runner, "compare", str(SAMPLES / "resnet50_imagenet.yaml"), "--ssr", "0.5", "--ssr", "1", "--no-plot")
    # In a pipe: tab-separated, a header line, exact values.
    rows = list(csv.DictReader(io.StringIO(result.stdout), delimiter="\t"))
    assert [r["max_duration"] for r in rows] == ["45ep", "90ep"]
    assert [r["batches"] for r in rows] == ["225225", "450450"]
    # Warmup is not scaled by SSR (scale_warmup is off): it ends at 5 epochs = 25,025 batches both times.
    assert [r["warmup end"] for r in rows] == ["25025", "25025"]
    assert [float(r["final"]) for r in rows] == [pytest.approx(0.001)] * 2


def test_compare_two_specs_with_an_overlay(runner, tmp_path):
    out = tmp_path / "cmp.png"
    ok(runner, "compare", str(SAMPLES / "bert_base.yaml"), str(SAMPLES / "gpt_llm_foundry.yaml"), "-o", str(out))
    assert out.read_bytes().startswith(b"\x89PNG")


def test_table_at_chosen_times(runner):
    result = ok(
        runner,
        "table",
        "cosine_with_warmup(t_warmup=10ba)",
        "--max-duration",
        "100ba",
        "--at",
        "0ba",
        "--at",
        "5ba",
        "--at",
        "0.55dur",
    )
    rows = list(csv.DictReader(io.StringIO(result.stdout), delimiter="\t"))
    assert [(r["time"], r["batch"]) for r in rows] == [("0ba", "0"), ("5ba", "5"), ("0.55dur", "55")]
    assert float(rows[1]["multiplier"]) == 0.5  # halfway through the warmup


def test_list_and_describe(runner):
    text = ok(runner, "list").stdout
    for name in ("CosineAnnealingWithWarmupScheduler", "linear_decay_with_warmup", "constant_with_warmup", "sgdr"):
        assert name in text
    described = ok(runner, "describe", "cosine_with_warmup").stdout
    assert "CosineAnnealingWithWarmupScheduler" in described and "alpha_f" in described and "t_warmup" in described


def test_validate_reports_warnings_and_errors(runner, tmp_path):
    result = ok(runner, "validate", str(SAMPLES / "stacked_schedulers.yaml"))
    assert "ok" in result.stdout and "only the last" in result.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("max_duration: 10ba\nschedulers: [{name: cosine_with_warmup, t_warmup: 2ep}]\n")
    result = run(runner, "validate", str(bad))
    assert result.exit_code == 2 and "dataloader_len" in result.output


def test_quiet_hides_notes(runner):
    result = ok(runner, "--quiet", "validate", str(SAMPLES / "stacked_schedulers.yaml"))
    assert "only the last" not in result.output


@pytest.mark.parametrize("spec", SAMPLE_SPECS, ids=lambda p: p.stem)
def test_every_sample_spec_through_every_command(runner, tmp_path, spec):
    more = SAMPLE_OPTIONS.get(spec.stem, [])
    ok(runner, "validate", str(spec), *more)
    ok(runner, "plot", str(spec), "--width", "100", *more)
    ok(runner, "plot", str(spec), "-o", str(tmp_path / "p.svg"), *more)
    ok(runner, "export", str(spec), "--points", "200", "-o", str(tmp_path / "e.csv"), *more)
    ok(runner, "export", str(spec), "--points", "200", "--as-trainer", "-o", str(tmp_path / "e.json"), *more)
    ok(runner, "compare", str(spec), "--width", "100", *more)
    ok(runner, "table", str(spec), *more)


# -- the installed command ----------------------------------------------------------------------
def _sched() -> list[str]:
    exe = shutil.which("sched", path=str(Path(sys.executable).parent))
    return [exe] if exe else [sys.executable, "-m", "sched_cli"]


def test_installed_command_and_module_entry_point(tmp_path):
    env = dict(os.environ, MPLBACKEND="Agg")
    version = subprocess.run(_sched() + ["--version"], capture_output=True, text=True, env=env)
    assert version.returncode == 0 and version.stdout.startswith("sched ")
    out = tmp_path / "x.csv"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "sched_cli",
            "export",
            str(SAMPLES / "resnet50_imagenet.yaml"),
            "--every",
            "5005",
            "-o",
            str(out),
        ],
        capture_output=True,
        text=True,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(out.open()))
    assert len(rows) >= 90 and rows[0]["multiplier"] == "0.0"


def test_error_in_a_subprocess_is_one_line_on_stderr(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text("max_duration: 10ba\nschedulers: [{name: cosine, alpha_f: .inf}]\n")
    result = subprocess.run(_sched() + ["export", str(spec)], capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "alpha_f" in lines[0] and "Traceback" not in result.stderr


def test_help_does_not_import_heavy_modules():
    code = (
        "import sys; from sched_cli.cli import app; "
        "assert not {'numpy', 'matplotlib', 'torch'} & set(sys.modules), sorted(sys.modules)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_custom_scheduler_errors_name_the_batch(runner, tmp_path):
    (tmp_path / "bad.py").write_text(
        "def boom(state):\n    if state.timestamp.batch >= 3:\n        raise RuntimeError('kaput')\n    return 1.0\n"
        "def nan(state):\n    return float('nan') if state.timestamp.batch == 4 else 1.0\n"
    )
    for name, expected in (("boom", "raised RuntimeError: kaput at batch 3"), ("nan", "returned nan at batch 4")):
        spec = tmp_path / f"{name}.yaml"
        spec.write_text(f"max_duration: 10ba\nschedulers: [{{name: 'bad.py:{name}'}}]\n")
        result = run(runner, "export", str(spec), "-o", str(tmp_path / "out.csv"))
        assert result.exit_code == 2 and expected in result.output, result.output
        assert not (tmp_path / "out.csv").exists()
