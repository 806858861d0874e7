"""``sched check`` on real logs written by real trainers: each log passes against the plan of the
same run, and fails at the right step, with the right reason, against a plan that differs.

- Hugging Face Trainer, Lightning, MMEngine's Runner: in the environment ``tools/envs/logs.sh``
  builds (``SCHED_LOGS_PYTHON``);
- Composer's Trainer with ``LRMonitor`` to TensorBoard and to its ``FileLogger``
  (``SCHED_COMPOSER_PYTHON``, ``tools/envs/composer.sh``);
- a real DeepSpeed engine on the CPU with its TensorBoard and CSV monitors
  (``SCHED_DEEPSPEED_PYTHON``, ``tools/envs/deepspeed.sh``);
- Megatron-LM's TensorBoard tags written as its ``training_log`` does, from megatron-core's real
  scheduler driven as its training loop does (``SCHED_MEGATRON_PYTHON``, ``tools/envs/megatron.sh``;
  the loop itself needs CUDA).

Without the variable, the tests of that trainer skip. ``tools/logs_oracle.py`` runs each training
and prints the LR each update trained with, read from the optimizer before its step: the logs are
also checked against that, which tests each logger's rule without sched's plan.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

from sched_cli.logs.files import read_log
from tests.conftest import REPO, reference_python

HOW = "build it with bash tools/envs/{}.sh"


def _python(variable: str, env: str, probe: str, needs: str) -> str:
    return reference_python(variable, probe, needs, f"set {variable}; " + HOW.format(env))


def _train(kind: str, outdir: Path, config: dict, python: str | None = None) -> list[float]:
    """Run a real training; return the LR each update trained with (read from its optimizer)."""
    if python is None:
        python = _python("SCHED_LOGS_PYTHON", "logs", "import transformers, lightning, mmengine", "the trainers")
    done = subprocess.run(
        [python, str(REPO / "tools" / "logs_oracle.py"), kind, str(outdir)],
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


def test_a_real_mmengine_log_against_a_warmup_end_read_as_epochs(sched, mmengine_run, tmp_path):
    out, plan, _ = mmengine_run
    config = json.loads(plan.read_text())
    del config["param_scheduler"][0]["by_epoch"]  # MMEngine's default, true: end 5 is 5 epochs
    other = tmp_path / "config.json"
    other.write_text(json.dumps(config))
    code, stdout, _ = sched("check", str(other), str(out), "--dataset-size", "64")
    assert code == 1, stdout
    assert (
        "reason: the log matches the plan with a warmup ending at iteration 5 (param_scheduler.0 LinearLR end 5, "
        "by_epoch false), not end 5 in epochs (by_epoch true, MMEngine's default): end 5 meant as iterations, read "
        "as epochs\n"
    ) in stdout


# -- Composer: LRMonitor to TensorBoard and to the FileLogger --------------------------------------
COMPOSER = {
    "dataset_size": 40,
    "batch_size": 4,
    "lr": 0.1,
    "optimizer": "AdamW",
    "max_duration": "3ep",
    "schedulers": [{"name": "CosineAnnealingWithWarmupScheduler", "kwargs": {"t_warmup": "4ba"}}],
}
COMPOSER_PLAN = """max_duration: 3ep
dataloader_len: 10
lr: 0.1
schedulers:
  - name: CosineAnnealingWithWarmupScheduler
    t_warmup: {warmup}
"""


@pytest.fixture(scope="module")
def composer_run(tmp_path_factory):
    python = _python("SCHED_COMPOSER_PYTHON", "composer", "import composer, tensorboard", "composer and tensorboard")
    out = tmp_path_factory.mktemp("composer")
    trained = _train("composer", out, COMPOSER, python)
    plan = out / "plan.yaml"
    plan.write_text(COMPOSER_PLAN.format(warmup="4ba"))
    return out, plan, trained


def test_composer_logs_at_each_batch_end_the_lr_of_the_next_batch(composer_run):
    out, _, trained = composer_run
    # 40 samples in batches of 4 for 3 epochs: 30 updates. LRMonitor logs at BATCH_END, after the
    # schedulers stepped and the timestamp moved on: step s (updates done) holds the LR update s
    # (from 0) trains with; update 0's is never logged, and step 30 holds the LR after the run.
    tb = read_log(out / "tb")
    assert tb.tag == "lr-AdamW/group0" and tb.alignment.name == "composer" and len(trained) == 30
    assert tb.steps.tolist() == list(range(1, 31))
    np.testing.assert_allclose(tb.lrs[:-1], trained[1:], rtol=2**-24)
    text = read_log(out / "log.txt")
    assert text.kind == "composer FileLogger" and text.steps.tolist() == list(range(1, 31))
    # The FileLogger's "{:.4f}": the same LRs to 4 decimals.
    assert text.lrs[:-1].tolist() == [float(f"{lr:.4f}") for lr in trained[1:]]


@pytest.mark.parametrize("where", ["tb", "log.txt"])
def test_real_composer_logs_match_their_plan(sched, composer_run, where):
    out, plan, _ = composer_run
    code, stdout, err = sched("check", str(plan), str(out / where))
    assert code == 0, stdout + err
    assert stdout.startswith("check: 30 logged LRs match the plan")


@pytest.mark.parametrize(("where", "logged"), [("tb", "0.025"), ("log.txt", "0.025")])
def test_real_composer_logs_against_a_longer_warmup(sched, composer_run, tmp_path, where, logged):
    out, _, _ = composer_run
    plan = tmp_path / "plan.yaml"
    plan.write_text(COMPOSER_PLAN.format(warmup="6ba"))
    code, stdout, _ = sched("check", str(plan), str(out / where))
    # Composer steps its schedulers at a batch's end before the timestamp moves on, so update u
    # (from 1) trains with the schedule at batch u - 1: updates 0 and 1 both train at 0, and step 2
    # holds update 2's LR, the warmup at batch 1: 0.1 x 1/4 in the run, 0.1 x 1/6 in the plan.
    assert code == 1, stdout
    assert f"check: the run leaves the plan at step 2: logged {logged}, planned 0.0166667 (x1.5)" in stdout


# -- DeepSpeed: the engine's monitor, Train/Samples/lr against the samples seen ---------------------
DS_CONFIG = {
    "train_micro_batch_size_per_gpu": 2,
    "gradient_accumulation_steps": 3,
    "optimizer": {"type": "AdamW", "params": {"lr": 1e-3, "torch_adam": True}},
    "scheduler": {"type": "WarmupCosineLR", "params": {"total_num_steps": 12, "warmup_num_steps": 3}},
}


@pytest.fixture(scope="module")
def deepspeed_run(tmp_path_factory):
    python = _python("SCHED_DEEPSPEED_PYTHON", "deepspeed", "import deepspeed, tensorboard", "deepspeed, tensorboard")
    out = tmp_path_factory.mktemp("deepspeed")
    trained = _train("deepspeed", out, {"ds_config": DS_CONFIG, "updates": 12}, python)
    plan = out / "ds_config.json"
    plan.write_text(json.dumps(DS_CONFIG))
    return out, plan, trained


def test_deepspeed_logs_the_next_updates_lr_against_the_samples_of_the_updates_done(deepspeed_run):
    out, _, trained = deepspeed_run
    # 2 samples per micro-batch x 3 accumulated: 6 per update. At each accumulation boundary the
    # engine steps the scheduler, adds 6 to global_samples and logs get_lr() there: at 6k samples,
    # the LR of update k (from 0).
    for where, rtol in (("tb", 2**-24), ("csv/ds/Train_Samples_lr.csv", 0)):
        log = read_log(out / where)
        assert log.tag in ("Train/Samples/lr", "lr") and log.unit == "sample" and log.alignment.name == "deepspeed"
        assert log.steps.tolist() == [6 * k for k in range(1, 13)]
        np.testing.assert_allclose(log.lrs[:-1], trained[1:], rtol=rtol)


@pytest.mark.parametrize("where", ["tb", "csv/ds/Train_Samples_lr.csv"])
def test_real_deepspeed_logs_match_their_plan(sched, deepspeed_run, where):
    out, plan, _ = deepspeed_run
    code, stdout, err = sched("check", str(plan), str(out / where))
    assert code == 0, stdout + err
    assert stdout.startswith("check: 12 logged LRs match the plan")


def test_a_real_deepspeed_log_against_a_longer_warmup(sched, deepspeed_run, tmp_path):
    out, _, _ = deepspeed_run
    plan = tmp_path / "ds_config.json"
    config = json.loads(json.dumps(DS_CONFIG))
    config["scheduler"]["params"]["warmup_num_steps"] = 4
    plan.write_text(json.dumps(config))
    code, stdout, _ = sched("check", str(plan), str(out / "csv/ds/Train_Samples_lr.csv"))
    # At 12 samples (2 updates) the log holds update 2's LR; WarmupCosineLR's log warmup is
    # lr x log(step + 1) / log(warmup) with the scheduler one step behind (update 2 trains at step 1):
    # 1e-3 x log 2 / log 3 = 6.30930e-4 in the run, 1e-3 x log 2 / log 4 = 5e-4 in the plan.
    assert code == 1, stdout
    assert "check: the run leaves the plan at 12 samples: logged 0.00063093, planned 0.0005 (x1.26)" in stdout
    # One logged point inside the log-shaped warmup gives its length: log 2 / log w = 0.63093, w = 3.
    assert (
        "reason: the log matches the plan with a warmup of 3 updates (warmup_num_steps 3), not warmup_num_steps 4\n"
        in stdout
    )


def test_a_real_deepspeed_log_against_a_plan_on_two_devices(sched, deepspeed_run):
    out, plan, _ = deepspeed_run
    code, stdout, err = sched("check", str(plan), str(out / "tb"), "--devices", "2")
    # On 2 devices an update takes 12 samples: the log's 12 samples are 1 update there, not 2.
    assert code == 1, stdout
    assert "reason: the log matches the plan with --devices 1 (not 2)" in stdout
    assert "fall inside an update of the plan (12 samples each)" in err


# -- Megatron-LM: learning-rate (x: iteration) and learning-rate vs samples ------------------------
MEGATRON = {
    "train_samples": 400,
    "global_batch_size": 16,
    "micro_batch_size": 2,
    "rampup_batch_size": [4, 4, 96],
    "lr": 0.001,
    "min_lr": 1e-05,
    "lr_warmup_samples": 32,
    "lr_decay_style": "cosine",
}


def _megatron_flags(args: dict) -> str:
    words = []
    for name, value in args.items():
        words.append(f"--{name.replace('_', '-')} " + " ".join(map(str, value if isinstance(value, list) else [value])))
    return " \\\n  ".join(words) + "\n"


@pytest.fixture(scope="module")
def megatron_run(tmp_path_factory):
    python = _python(
        "SCHED_MEGATRON_PYTHON",
        "megatron",
        "import tensorboard; from megatron.core.optimizer_param_scheduler import OptimizerParamScheduler",
        "megatron-core and tensorboard",
    )
    out = tmp_path_factory.mktemp("megatron")
    config = {"case": {"args": MEGATRON, "world_size": 2}, "tensorboard_log_interval": 1}
    trained = _train("megatron", out / "tb", config, python)
    plan = out / "flags.txt"
    plan.write_text(_megatron_flags(MEGATRON))
    return out, plan, trained


def test_megatron_logs_after_each_iteration_against_iterations_and_samples(megatron_run):
    out, _, trained = megatron_run
    iterations = read_log(out / "tb")
    samples = read_log(out / "tb", tag="learning-rate vs samples")
    assert iterations.tag == "learning-rate" and iterations.unit == "update" and samples.unit == "sample"
    assert iterations.steps.tolist() == list(range(1, len(trained) + 1))
    # The ramp from 4 to 16 by 4 over 96 samples: 3 increments, one per 32 samples consumed; the
    # batch is 4 while fewer than 32 samples are consumed, then 8 until 64, 12 until 96, then 16.
    assert samples.steps[:14].tolist() == [4, 8, 12, 16, 20, 24, 28, 32, 40, 48, 56, 64, 76, 88]
    assert samples.steps[14:17].tolist() == [100, 116, 132]
    np.testing.assert_allclose(iterations.lrs[:-1], trained[1:], rtol=2**-24)
    np.testing.assert_array_equal(samples.lrs, iterations.lrs)


@pytest.mark.parametrize("tag", ["learning-rate", "learning-rate vs samples"])
def test_real_megatron_logs_match_their_plan(sched, megatron_run, tag):
    out, plan, trained = megatron_run
    code, stdout, err = sched("check", str(plan), str(out / "tb"), "--from", "megatron", "--devices", "2", "--tag", tag)
    assert code == 0, stdout + err
    assert stdout.startswith(f"check: {len(trained)} logged LRs match the plan")


@pytest.mark.parametrize(("tag", "where"), [("learning-rate", "step 1"), ("learning-rate vs samples", "4 samples")])
def test_real_megatron_logs_against_a_longer_warmup(sched, megatron_run, tmp_path, tag, where):
    out, _, _ = megatron_run
    plan = tmp_path / "flags.txt"
    plan.write_text(_megatron_flags({**MEGATRON, "lr_warmup_samples": 48}))
    code, stdout, _ = sched("check", str(plan), str(out / "tb"), "--from", "megatron", "--devices", "2", "--tag", tag)
    # After iteration 1 (4 samples consumed) the warmup is at 4/32 of 1e-3 in the run, 4/48 in the plan.
    assert code == 1, stdout
    assert f"check: the run leaves the plan at {where}: logged 0.000125, planned 8.33333e-05 (x1.5)" in stdout
    # The ramp's batches of 4 consume the run's 32 warmup samples in 8 iterations.
    assert (
        "reason: the log matches the plan with a warmup of 32 samples (--lr-warmup-samples 32: the first 8 iterations, "
        "through the batch-size ramp), not --lr-warmup-samples 48\n"
    ) in stdout


def test_a_real_megatron_log_every_third_iteration(sched, megatron_run, tmp_path):
    _, plan, trained = megatron_run
    python = os.environ["SCHED_MEGATRON_PYTHON"]
    config = {"case": {"args": MEGATRON, "world_size": 2}, "tensorboard_log_interval": 3}
    _train("megatron", tmp_path / "tb", config, python)
    log = read_log(tmp_path / "tb")
    # training_log writes when iteration % tensorboard_log_interval == 0.
    assert log.steps.tolist() == list(range(3, len(trained) + 1, 3))
    code, stdout, err = sched("check", str(plan), str(tmp_path / "tb"), "--from", "megatron", "--devices", "2")
    assert code == 0 and stdout.startswith(f"check: {len(trained) // 3} logged LRs match the plan"), stdout + err
