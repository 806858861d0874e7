"""Beyond Composer's 13, through the real CLI: LLM Foundry YAMLs and native PyTorch schedulers."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sched_cli.cli import app

DATA = Path(__file__).resolve().parent / "data" / "foundry"
SAMPLES = Path(__file__).resolve().parent.parent / "sample_specs"


def ok(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, (args, result.output, result.exception)
    return result.stdout


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_an_unmodified_llm_foundry_yaml_plots_and_exports(tmp_path):
    ok("plot", str(DATA / "mpt-125m.yaml"), "--width", "90")
    ok("plot", str(DATA / "mpt-125m.yaml"), "-o", str(tmp_path / "mpt.png"))
    assert (tmp_path / "mpt.png").read_bytes().startswith(b"\x89PNG")
    # MPT-125M is the run sample_specs/gpt_llm_foundry.yaml describes by hand: same LRs, batch for batch.
    foundry = rows(ok("export", str(DATA / "mpt-125m.yaml"), "--every", "97"))
    ours = rows(ok("export", str(SAMPLES / "gpt_llm_foundry.yaml"), "--every", "97"))
    assert [r["batch"] for r in foundry] == [r["batch"] for r in ours]
    assert [r["token"] for r in foundry] == [r["token"] for r in ours]
    for a, b in zip(foundry, ours, strict=True):
        assert float(a["lr"]) == pytest.approx(float(b["lr"]), rel=1e-12, abs=1e-18)


def test_foundry_shape_is_recognised_and_can_be_forced_or_refused(tmp_path):
    text = (DATA / "mpt-125m.yaml").read_text()
    renamed = tmp_path / "train.yaml"
    renamed.write_text(text)
    ok("validate", str(renamed))
    ok("validate", str(renamed), "--from", "foundry")
    result = CliRunner().invoke(app, ["validate", str(renamed), "--from", "sched"])
    assert result.exit_code == 2 and "unknown key" in result.output
    plain = tmp_path / "plain.yaml"
    plain.write_text("max_duration: 10ba\nmodel: {name: mpt}\nschedulers: [{name: linear}]\n")
    result = CliRunner().invoke(app, ["validate", str(plain)])
    assert result.exit_code == 2 and "model" in result.output  # a plain spec still rejects unknown keys


def test_foundry_epochs_need_dataloader_len_from_the_command_line():
    result = CliRunner().invoke(app, ["validate", str(DATA / "mpt-7b_dolly_sft.yaml")])
    assert result.exit_code == 2 and "--dataloader-len" in result.output
    ok("validate", str(DATA / "mpt-7b_dolly_sft.yaml"), "--dataloader-len", "120")


def test_a_pytorch_scheduler_steps_every_epoch_by_default_and_scales_like_composer():
    # StepLR(step_size=2, gamma=0.5), 5 epochs of 2 batches, ssr 2: Composer doubles step_size to 4
    # epochs and the run to 10 epochs; the LR halves after epochs 4 and 8.
    out = rows(
        ok("export", "StepLR(step_size=2, gamma=0.5)", "--max-duration", "5ep", "--dataloader-len", "2", "--ssr", "2")
    )
    by_epoch = {int(r["epoch"]): float(r["multiplier"]) for r in out}
    assert by_epoch == {0: 1, 1: 1, 2: 1, 3: 1, 4: 0.5, 5: 0.5, 6: 0.5, 7: 0.5, 8: 0.25, 9: 0.25}


def test_a_pytorch_scheduler_stepped_every_batch_equals_a_real_optimizer():
    torch = pytest.importorskip("torch")
    out = rows(
        ok(
            "export", "torch.optim.lr_scheduler.OneCycleLR(max_lr=0.01, total_steps=50)",
            "--max-duration", "50ba", "--step-every", "batch", "--lr", "0.01",
        )
    )  # fmt: skip
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(()))], lr=0.01)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.01, total_steps=50)
    for row in out:
        assert float(row["lr"]) == optimizer.param_groups[0]["lr"]
        optimizer.step()
        scheduler.step()


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (
            ["LinearLR(start_factor=0.5)", "--max-duration", "4ep", "--dataloader-len", "2", "--ssr", "2"],
            ["LinearLR", "ssr"],
        ),
        (["OneCycleLR(max_lr=1)", "--max-duration", "4ba"], ["OneCycleLR"]),
        (["StepLR(step_size=2); cosine", "--max-duration", "4ba"], ["only scheduler"]),
        (["LambdaLR(lr_lambda=1)", "--max-duration", "4ba"], ["LambdaLR"]),
    ],
)
def test_pytorch_scheduler_errors_are_clear(args, words):
    result = CliRunner().invoke(app, ["export", *args])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    for word in words:
        assert word in result.output


# -- issue 14: axes, Composer code, describe, Foundry run files ------------------------------------
def sched(*args: str, **kwargs) -> subprocess.CompletedProcess:
    """``sched ARGS`` in a real process, standard output and error to pipes."""
    return subprocess.run([sys.executable, "-m", "sched_cli", *args], capture_output=True, text=True, **kwargs)


@pytest.mark.parametrize("width", ["80", "120"])
def test_log_plot_notes_go_to_stderr_and_quiet_hides_them(width):
    args = ("plot", "cosine_with_warmup(t_warmup=10ba)", "--max-duration", "100ba", "--log", "--width", width)
    result = sched(*args)
    assert result.returncode == 0, result.stderr
    assert "left out" not in result.stdout and "10^" not in result.stdout
    assert {len(line) for line in result.stdout.splitlines()} == {int(width)}
    # Batch 0 (multiplier 0) cannot be drawn on a log axis; the curve is named by its expression.
    expected = "warning: log scale: left out 1 value(s) of cosine_with_warmup(t_warmup=10ba) that are not positive"
    assert result.stderr.strip() == expected
    quiet = sched("-q", *args)
    assert quiet.returncode == 0 and quiet.stderr == "" and quiet.stdout == result.stdout


ZERO_WARMUP = ("cosine_with_warmup(t_warmup=0ba)", "--max-duration", "100ba")


@pytest.mark.parametrize(
    "command",
    [
        ("plot", *ZERO_WARMUP, "--width", "80"),
        ("plot", *ZERO_WARMUP, "--width", "120", "--as-trainer"),
        ("export", *ZERO_WARMUP),
        ("table", *ZERO_WARMUP),
        ("compare", *ZERO_WARMUP, "--ssr", "0.5", "--ssr", "1"),
        ("validate", *ZERO_WARMUP),
    ],
)
def test_a_python_warning_is_one_warning_line_once_and_quiet_hides_it(command):
    result = sched(*command)
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr  # not the warnings module's report with its source line
    assert lines[0].startswith("warning: CosineAnnealingWithWarmupScheduler: The warmup duration is 0.")
    assert lines[0].endswith("the same unit as the trainer's max_duration parameter.")
    assert "UserWarning" not in result.stderr and "warning:" not in result.stdout
    quiet = sched("-q", *command)
    assert quiet.returncode == 0 and quiet.stderr == ""


def test_validate_warns_when_the_run_ends_before_its_warmup():
    result = sched("validate", "linear_decay_with_warmup(t_warmup=100ba)", "--max-duration", "50ba")
    assert result.returncode == 0
    assert result.stderr.startswith("warning: the warmup ends at 100ba but the run ends at 50ba")
    assert "the multiplier peaks at 0.49 (batch 49)" in result.stderr


def test_an_mcli_run_file_plots_as_it_is(tmp_path):
    run = DATA / "mcli-llama2-finetune.yaml"
    for width in ("80", "120"):
        result = sched("plot", str(run), "--dataloader-len", "500", "--width", width)
        assert result.returncode == 0, result.stderr
        assert {len(line) for line in result.stdout.splitlines()} == {int(width)}
    forced = rows(ok("export", str(run), "--from", "foundry", "--dataset-size", "10000", "--every", "50"))
    # 8 GPUs (compute.gpus) of 8 samples each, drop_last: 10,000 / 8 = 1,250 each, 156 batches.
    assert [r["batch"] for r in forced][-1] == "155" and forced[1]["sample"] == str(50 * 64)
    # 5e-7 peak, 100 batches of warmup: batch 50 trains at half of it.
    assert float(forced[1]["lr"]) == pytest.approx(2.5e-7, rel=1e-12)


@pytest.mark.parametrize("name", ["mcli-llama2-finetune.yaml", "mpt-7b_dolly_sft.yaml"])
def test_an_epoch_based_foundry_file_without_a_length_names_the_options(name):
    result = sched("plot", str(DATA / name))
    assert result.returncode == 2 and result.stdout == ""
    [line] = result.stderr.splitlines()
    assert "is in epochs" in line and "--dataset-size N" in line and "--dataloader-len L" in line
    assert "dataloader_len:" not in line


def test_describe_every_pytorch_scheduler_a_spec_accepts():
    from sched_cli.schedulers.torch_native import TORCH_SCHEDULERS

    for name in TORCH_SCHEDULERS:
        for spelled in (name, name.lower(), f"torch.optim.lr_scheduler.{name}"):
            text = ok("describe", spelled)
            assert f"torch.optim.lr_scheduler.{name}" in text and "unknown" not in text
    one_cycle = ok("describe", "OneCycleLR")
    assert "max_lr" in one_cycle and "(required)" in one_cycle and "pct_start" in one_cycle and "0.3" in one_cycle
    assert "Only ssr 1" in one_cycle


def test_describe_in_a_pipe_defines_x_for_multistep_with_warmup():
    result = sched("describe", "multistep_with_warmup")
    assert result.returncode == 0 and result.stderr == ""
    flat = " ".join(result.stdout.split())
    assert "γ ^ x" in flat and "x is the number of milestones reached by t" in flat
    assert "\x1b[" not in result.stdout


def test_a_zero_warmup_foundry_finetuning_config_warns_once_in_one_line(tmp_path):
    text = (DATA / "mpt-7b_dolly_sft.yaml").read_text().replace("t_warmup: 50ba", "t_warmup: 0ba")
    assert "t_warmup: 0ba" in text
    config = tmp_path / "finetune.yaml"
    config.write_text(text)
    for command in ("plot", "export", "validate"):
        result = sched(command, str(config), "--dataloader-len", "100")
        assert result.returncode == 0, result.stderr
        assert result.stderr.count("\n") == 1 and result.stderr.startswith("warning: LinearWithWarmupScheduler: ")
        assert sched("-q", command, str(config), "--dataloader-len", "100").stderr == ""
