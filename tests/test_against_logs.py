"""``sched check`` on real logs written by real trainers (Hugging Face Trainer, Lightning, MMEngine's
Runner): each log passes against the plan of the same run, and fails at the right step, with the
right reason, against a plan that differs.

The trainings run in the reference environment that ``tools/envs/logs.sh`` builds, named by
``SCHED_LOGS_PYTHON``; without it these tests skip.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO

PYTHON = os.environ.get("SCHED_LOGS_PYTHON")
pytestmark = pytest.mark.skipif(
    not PYTHON, reason="set SCHED_LOGS_PYTHON to a Python built by tools/envs/logs.sh to run real trainers"
)


def _train(kind: str, outdir: Path, config: dict) -> list[float]:
    """Run a real training; return the LR each update trained with (read from its optimizer)."""
    done = subprocess.run(
        [PYTHON, str(REPO / "tools" / "logs_oracle.py"), kind, str(outdir)],
        input=json.dumps(config),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={**os.environ, "TOKENIZERS_PARALLELISM": "false", "MPLBACKEND": "Agg"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])["trained"]


HF_ARGS = {
    "learning_rate": 1e-3,
    "lr_scheduler_type": "cosine",
    "warmup_steps": 3,
    "num_train_epochs": 2,
    "per_device_train_batch_size": 4,
    "gradient_accumulation_steps": 2,
}


@pytest.fixture(scope="module")
def hf_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("hf")
    trained = _train("hf", out, {"args": HF_ARGS, "dataset_size": 50})
    plan = out / "args.json"
    plan.write_text(json.dumps({"output_dir": "x", **HF_ARGS}))
    return out, plan, trained


@pytest.mark.parametrize("where", ["trainer_state.json", "", "runs"])
def test_a_real_hugging_face_log_matches_its_plan(sched, hf_run, where):
    out, plan, trained = hf_run
    code, stdout, err = sched("check", str(plan), str(out / where), "--dataset-size", "50")
    assert code == 0, stdout + err
    assert stdout.startswith(f"check: {len(trained)} logged LRs match the plan")


def test_a_real_hugging_face_log_against_a_plan_on_more_devices(sched, hf_run):
    out, plan, trained = hf_run
    code, stdout, _ = sched(
        "check", str(plan), str(out / "trainer_state.json"), "--dataset-size", "50", "--devices", "2"
    )
    assert code == 1
    # On 2 devices the run has 8 updates (50 samples, 4 per device, 2 micro-batches per update),
    # so the cosine decays twice as fast: the log leaves that plan after the warmup's end.
    assert "check: the run leaves the plan at step 5:" in stdout
    assert "reason: the log matches the plan with --devices 1 (not 2)" in stdout


def test_a_real_hugging_face_log_against_a_plan_without_accumulation(sched, hf_run, tmp_path):
    out, _, _ = hf_run
    plan = tmp_path / "args.json"
    plan.write_text(json.dumps({"output_dir": "x", **HF_ARGS, "gradient_accumulation_steps": 1}))
    code, stdout, _ = sched("check", str(plan), str(out / "trainer_state.json"), "--dataset-size", "50")
    # Without accumulation the plan has 26 updates, not 14: the cosine decays more slowly after the
    # warmup. On one process, 2 devices make the same 7 updates an epoch as 2 accumulated micro-batches.
    assert code == 1 and "check: the run leaves the plan at step 5:" in stdout
    assert (
        "reason: the log matches the plan with --devices 2 (not 1) or gradient_accumulation_steps 2 (not 1): both "
        "make the same updates, so the log cannot tell them apart"
    ) in stdout


def test_a_real_hugging_face_log_read_as_the_legacy_rule_is_one_step_off(sched, hf_run):
    out, plan, _ = hf_run
    code, stdout, _ = sched(
        "check", str(plan), str(out / "trainer_state.json"), "--dataset-size", "50", "--alignment", "hf-legacy"
    )
    assert code == 1 and "check: the run leaves the plan at step 1:" in stdout
    assert "one step earlier" in stdout


@pytest.fixture(scope="module")
def lightning_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("lightning")
    config = {
        "lr": 0.1,
        "scheduler": "OneCycleLR",
        "kwargs": {"max_lr": 0.1, "total_steps": 20},
        "dataset_size": 64,
        "batch_size": 8,
        "max_steps": 20,
    }
    trained = _train("lightning", out, config)
    plan = out / "plan.yaml"
    plan.write_text(
        "max_duration: 20ba\nlr: 0.1\nstep_every: batch\nschedulers:\n  - name: OneCycleLR\n    max_lr: 0.1\n"
        "    total_steps: 20\n"
    )
    return out, plan, trained


@pytest.mark.parametrize("where", ["csv/version_0/metrics.csv", "tb"])
def test_real_lightning_logs_match_their_plan(sched, lightning_run, where):
    out, plan, trained = lightning_run
    code, stdout, err = sched("check", str(plan), str(out / where))
    assert code == 0, stdout + err
    assert stdout.startswith(f"check: {len(trained)} logged LRs match the plan")


def test_a_real_lightning_log_against_another_peak(sched, lightning_run, tmp_path):
    out, plan, _ = lightning_run
    other = tmp_path / "plan.yaml"
    other.write_text(
        plan.read_text().replace("pct_start", "x").replace("total_steps: 20", "total_steps: 20\n    pct_start: 0.5")
    )
    code, stdout, _ = sched("check", str(other), str(out / "csv/version_0/metrics.csv"))
    # OneCycleLR's first LR is max_lr / 25 whatever pct_start is: the runs part at step 1.
    assert code == 1 and "check: the run leaves the plan at step 1:" in stdout
    assert "reason: no known explanation" in stdout


@pytest.fixture(scope="module")
def mmengine_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("mmengine")
    schedulers = [
        {"type": "LinearLR", "start_factor": 0.1, "by_epoch": False, "begin": 0, "end": 5},
        {"type": "CosineAnnealingLR", "T_max": 3, "by_epoch": True, "begin": 0, "end": 3},
    ]
    config = {
        "lr": 0.1,
        "dataset_size": 64,
        "batch_size": 8,
        "param_scheduler": schedulers,
        "train_cfg": {"by_epoch": True, "max_epochs": 3},
    }
    trained = _train("mmengine", out, config)
    plan = out / "config.json"
    plan.write_text(
        json.dumps(
            {
                "optim_wrapper": {"optimizer": {"type": "SGD", "lr": 0.1}},
                "param_scheduler": schedulers,
                "train_cfg": {"by_epoch": True, "max_epochs": 3},
                "train_dataloader": {"batch_size": 8},
            }
        )
    )
    return out, plan, trained


def test_a_real_mmengine_log_matches_its_plan(sched, mmengine_run):
    out, plan, trained = mmengine_run
    code, stdout, err = sched("check", str(plan), str(out), "--dataset-size", "64")
    assert code == 0, stdout + err
    assert stdout.startswith(f"check: {len(trained)} logged LRs match the plan")


def test_a_real_mmengine_log_against_a_plan_on_another_dataset(sched, mmengine_run):
    out, plan, _ = mmengine_run
    code, stdout, _ = sched("check", str(plan), str(out), "--dataset-size", "128")
    # 16 iterations per epoch instead of 8: the epoch-based cosine steps later, first at step 9.
    assert code == 1 and "check: the run leaves the plan at step 9:" in stdout
