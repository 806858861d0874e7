"""Reason 4 of ``sched check`` (sched_cli/check_reasons/warmup.py and warmup_keys.py): a run that
warmed up for another length than its plan, for every reader, each in its own key, units and rules.
Every log is built here from the tool's warmup computed by hand (never from sched's own output); the
explanation is named with its exact words when its plan fits every logged point, and nothing is
named for a log that no warmup length explains."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import yaml

from sched_cli.logs import ALIGNMENTS
from sched_cli.specs import Overrides
from tests.test_check import _log
from tests.test_check_reasons import _explanation, _hf_args, _hf_linear, _megatron, _megatron_linear, _reason

ROOT = Path(__file__).resolve().parent.parent


def _hf_cosine(total: int, warmup: int, lr: float) -> list[float]:
    """Hugging Face's cosine by hand: lr x u / w in the warmup, then lr x (1 + cos(pi (u - w) / (T - w))) / 2."""
    return [
        lr * u / warmup if u < warmup else lr * 0.5 * (1 + math.cos(math.pi * (u - warmup) / (total - warmup)))
        for u in range(total)
    ]


# -- Hugging Face and a sched spec (warmup_steps / warmup_ratio, t_warmup) --------------------------------------
def test_a_warmup_ratio_read_as_steps(tmp_path):
    # warmup_steps 0.05 is a ratio (5 of 100 updates) in transformers 5.x; the run had no warmup.
    path = _hf_args(tmp_path, warmup_steps=0.05, max_steps=100)
    log = _log(range(1, 101), _hf_linear(100, 0))
    assert _reason(path, log) == (
        "the log matches the plan with a warmup of 0 updates (warmup_steps 0), not warmup_steps 0.05: 0.05 read "
        "as 0 updates (as steps), not as a ratio of the run"
    )


def test_warmup_steps_meant_as_a_percentage(tmp_path):
    # warmup_steps 3 on a 1,000-update run; the log warms up over 30 updates (3% of the run).
    path = _hf_args(tmp_path, warmup_steps=3, max_steps=1000)
    steps = np.arange(1, 1001, 7)
    lrs = _hf_linear(1000, 30)
    log = _log(steps, [lrs[s - 1] for s in steps])
    assert _explanation(path, log).label == "warmup_steps 30"
    assert _reason(path, log) == (
        "the log matches the plan with a warmup of 30 updates (warmup_steps 30, a 0.03 ratio of the run's 1,000 "
        "updates), not warmup_steps 3: 3 meant as 3% of the run, not 3 updates"
    )


def test_a_composer_t_warmup_of_another_length(tmp_path):
    plan = tmp_path / "plan.yaml"
    plan.write_text(
        "max_duration: 100ba\nlr: 0.001\nschedulers:\n  - name: cosine_with_warmup\n    t_warmup: 0.02dur\n"
    )

    # Composer's cosine_with_warmup over 100 batches with a 20-batch warmup (alpha_f 0): at batch t
    # lr x t / 20, then lr x (1 + cos(pi x (t - 20) / 80)) / 2; its Trainer makes batch b >= 1 train
    # with the value at t = b - 1 (batch 0 at t = 0), and its LRMonitor logs batch b's LR at step b.
    def at(t: int) -> float:
        return 1e-3 * (t / 20 if t < 20 else 0.5 * (1 + math.cos(math.pi * (t - 20) / 80)))

    logged = [at(max(b - 1, 0)) for b in range(100)]
    found = _explanation(plan, _log(range(100), logged, alignment=ALIGNMENTS["composer"]), alignment="composer")
    assert found.label == "t_warmup 20ba"
    assert found.sentence == (
        "the log matches the plan with a warmup of 20 updates (t_warmup 20ba (0.2dur of the run's 100 updates)), "
        "not t_warmup 0.02dur: a warmup given as a ratio read as steps, or the reverse"
    )


def test_a_log_no_warmup_length_explains_has_no_warmup_reason(tmp_path):
    # HF's linear with its own 10-update warmup but a decay to update 120, not 100: no warmup_steps makes it.
    path = _hf_args(tmp_path, warmup_steps=10, max_steps=100)
    lrs = [1e-3 * u / 10 if u < 10 else 1e-3 * (120 - u) / 110 for u in range(100)]
    assert _reason(path, _log(range(1, 101), lrs)) is None


# -- axolotl and LLaMA-Factory: Hugging Face's keys, each tool's own rule for the ratio ----------------------------
def _sample(tmp_path, name: str, **keys):
    data = yaml.safe_load((ROOT / "sample_specs" / name).read_text(encoding="utf-8"))
    data = {k: v for k, v in {**data, **keys}.items() if v is not None}
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data))
    return path


def test_an_axolotl_warmup_of_another_length_in_axolotls_rounding(tmp_path):
    # axolotl's example, 2,000 samples on 2 devices: 475 updates, learning_rate 2e-4, HF's cosine.
    # Its warmup_steps 10 was meant as 10%: axolotl makes warmup_ratio 0.1 int(47.5) = 47 updates
    # (Hugging Face's ceil would make 48), and the log warms up over 47.
    path = _sample(tmp_path, "axolotl_llama3_lora.yml", warmup_ratio=None, warmup_steps=10)
    given = Overrides(dataset_size=2000, devices=2)
    log = _log(range(1, 476), _hf_cosine(475, 47, 2e-4))
    assert _explanation(path, log, given).label == "warmup_steps 47"
    assert _reason(path, log, given) == (
        "the log matches the plan with a warmup of 47 updates (warmup_steps 47, a 0.1 ratio of the run's 475 "
        "updates), not warmup_steps 10: 10 meant as 10% of the run, not 10 updates"
    )


def test_a_llamafactory_warmup_ratio_of_another_length(tmp_path):
    # LLaMA-Factory's example, 1,000 samples: 375 updates, learning_rate 1e-4, warmup_ratio 0.1 (38
    # updates). The log warms up over 19: Hugging Face's ceil(375 x 0.05) (axolotl's int() would make 18).
    path = _sample(tmp_path, "llamafactory_qwen3_lora_sft.yaml")
    given = Overrides(dataset_size=1000)
    log = _log(range(1, 376), _hf_cosine(375, 19, 1e-4))
    assert _explanation(path, log, given).label == "warmup_steps 19"
    assert _reason(path, log, given) == (
        "the log matches the plan with a warmup of 19 updates (warmup_steps 19, a 0.05 ratio of the run's 375 "
        "updates), not warmup_ratio 0.1: a warmup given as a ratio read as steps, or the reverse"
    )


# -- DeepSpeed: scheduler.params.warmup_num_steps and warmup_type ---------------------------------------------------
def _ds_config(tmp_path, **params):
    path = tmp_path / "ds_config.json"
    config = {
        "train_micro_batch_size_per_gpu": 4,
        "gradient_accumulation_steps": 10,
        "optimizer": {"type": "AdamW", "params": {"lr": 1e-3}},
        "scheduler": {"type": "WarmupDecayLR", "params": {"warmup_min_lr": 1e-4, "warmup_max_lr": 1e-3, **params}},
    }
    path.write_text(json.dumps(config))
    return path


def _warmup_decay(k: int, w: int, total: int, log_shaped: bool = True, low: float = 1e-4, high: float = 1e-3):
    """DeepSpeed's WarmupDecayLR by hand: update k trains with the LR at last_batch_iteration
    i = k - 1 (k = 0: the constructor's warmup_min_lr); from low, ln(i + 1) / ln(w) (log) or i / w
    (linear) of the way to high during the warmup, then high - (high - low) ... down a line to low at T."""
    if k == 0:
        return low
    i = k - 1
    if i < w:
        return low + (high - low) * (math.log(i + 1) / math.log(w) if log_shaped else i / w)
    return low + (high - low) * max(0.0, (total - i) / max(1, total - w))


def test_a_deepspeed_log_warmup_from_warmup_min_lr_of_another_length(tmp_path):
    # warmup_num_steps 200 in the plan; the run's log-shaped warmup from 1e-4 took 2,000 updates,
    # ten times as many: the config's gradient_accumulation_steps.
    path = _ds_config(tmp_path, warmup_num_steps=200, total_num_steps=5000)
    steps = range(0, 5000, 10)
    log = _log(steps, [_warmup_decay(k, 2000, 5000) for k in steps], ALIGNMENTS["zero"])
    assert _explanation(path, log, alignment="zero").label == "warmup_num_steps 2000"
    assert _reason(path, log, alignment="zero") == (
        "the log matches the plan with a warmup of 2,000 updates (warmup_num_steps 2000), not warmup_num_steps 200: "
        "the two differ by gradient_accumulation_steps 10: warmup_num_steps counts optimizer updates (the engine "
        "steps the scheduler once per update), not micro-batches"
    )


def test_a_deepspeed_linear_warmup_where_the_plan_has_the_log_one(tmp_path):
    path = _ds_config(tmp_path, warmup_num_steps=200, total_num_steps=5000)
    steps = range(0, 5000, 10)
    log = _log(steps, [_warmup_decay(k, 300, 5000, log_shaped=False) for k in steps], ALIGNMENTS["zero"])
    assert _explanation(path, log, alignment="zero").label == "warmup_type linear, warmup_num_steps 300"
    assert _reason(path, log, alignment="zero") == (
        "the log matches the plan with a linear warmup of 300 updates (warmup_type linear, warmup_num_steps 300), "
        "not a log one (warmup_type log, DeepSpeed's default; warmup_num_steps 200)"
    )


def test_a_deepspeed_log_no_warmup_explains(tmp_path):
    # The run's warmup took 2,000 updates, but its decay ends at update 6,000, not 5,000.
    path = _ds_config(tmp_path, warmup_num_steps=200, total_num_steps=5000)
    steps = range(0, 5000, 10)
    log = _log(steps, [_warmup_decay(k, 2000, 6000) for k in steps], ALIGNMENTS["zero"])
    assert _reason(path, log, alignment="zero") is None


# -- timm: warmup_epochs (whole epochs), per epoch or per update, from warmup_lr ----------------------------------
def _timm_args(tmp_path, text: str):
    path = tmp_path / "args.yaml"
    path.write_text("sched: cosine\nepochs: 10\nwarmup_lr: 1.0e-4\nlr: 0.01\nmin_lr: 0\nbatch_size: 32\n" + text)
    return path


def _timm_cosine(t: int, warmup: int, total: int) -> float:
    """timm's cosine by hand on its clock t (updates or epochs): built at warmup_lr (t = 0), then
    warmup_lr + t (lr - warmup_lr) / t_w during the warmup, then lr (1 + cos(pi t / T)) / 2
    (min_lr 0, no warmup_prefix: the cosine started at 0)."""
    if t < warmup:
        return 1e-4 + t * (0.01 - 1e-4) / warmup
    return 0.5 * 0.01 * (1 + math.cos(math.pi * t / total))


TIMM = Overrides(dataset_size=3200)  # 3,200 samples in batches of 32: 100 updates an epoch


def test_a_timm_warmup_of_other_whole_epochs_stepped_per_update(tmp_path):
    path = _timm_args(tmp_path, "warmup_epochs: 2\nsched_on_updates: true\n")
    log = _log(range(1000), [_timm_cosine(t, 300, 1000) for t in range(1000)], ALIGNMENTS["zero"])
    assert _explanation(path, log, TIMM, alignment="zero").label == "warmup_epochs 3"
    assert _reason(path, log, TIMM, alignment="zero") == (
        "the log matches the plan with a warmup of 3 epochs (warmup_epochs 3: 300 updates of 100 an epoch, stepped "
        "per update (sched_on_updates)), not warmup_epochs 2"
    )


def test_a_timm_warmup_stepped_per_epoch_against_train_pys_default(tmp_path):
    # No warmup_epochs: train.py's 5. The run warmed up over 2 epochs, one LR an epoch.
    path = _timm_args(tmp_path, "")
    log = _log(range(1000), [_timm_cosine(u // 100, 2, 10) for u in range(1000)], ALIGNMENTS["zero"])
    assert _reason(path, log, TIMM, alignment="zero") == (
        "the log matches the plan with a warmup of 2 epochs (warmup_epochs 2: 200 updates of 100 an epoch, stepped "
        "per epoch), not warmup_epochs 5 (train.py's default)"
    )


def test_timm_warmup_epochs_meant_as_updates(tmp_path):
    path = _timm_args(tmp_path, "warmup_epochs: 100\nsched_on_updates: true\n")
    log = _log(range(1000), [_timm_cosine(t, 100, 1000) for t in range(1000)], ALIGNMENTS["zero"])
    assert _reason(path, log, TIMM, alignment="zero") == (
        "the log matches the plan with a warmup of 1 epoch (warmup_epochs 1: 100 updates of 100 an epoch, stepped "
        "per update (sched_on_updates)), not warmup_epochs 100: 100 meant as updates, read as epochs: warmup_epochs "
        "counts epochs even with sched_on_updates (timm multiplies it by the 100 updates an epoch)"
    )


def test_a_timm_warmup_of_no_whole_number_of_epochs_is_not_named(tmp_path):
    # 250 updates are 2.5 epochs: no warmup_epochs says it (timm's is whole epochs).
    path = _timm_args(tmp_path, "warmup_epochs: 2\nsched_on_updates: true\n")
    log = _log(range(1000), [_timm_cosine(t, 250, 1000) for t in range(1000)], ALIGNMENTS["zero"])
    assert _reason(path, log, TIMM, alignment="zero") is None


# -- MMEngine: the end of the warmup LinearLR, in iterations or epochs --------------------------------------------
def _mmengine(tmp_path, loop: str, schedulers: str):
    path = tmp_path / "cfg.yaml"
    path.write_text(
        f"train_cfg: {loop}\nparam_scheduler:\n{schedulers}"
        "optim_wrapper: {optimizer: {type: SGD, lr: 0.1}}\ntrain_dataloader: {batch_size: 2}\n"
    )
    return path


def _linear_lr(i: int, end: int, start_factor: float = 0.1) -> float:
    """MMEngine's LinearLR (begin 0, end_factor 1) by hand: iteration i trains with lr x
    (s + (1 - s) x min(i, T) / T), T = end - begin - 1 (its last step reaches the full LR)."""
    total = end - 1
    return 0.1 * (start_factor + (1 - start_factor) * min(i, total) / total)


def test_an_mmengine_warmup_end_meant_as_iterations_read_as_epochs(tmp_path):
    # by_epoch is MMEngine's default, true: end 500 is 500 epochs of a 10-epoch run. The run counted
    # iterations (by_epoch: false): 200 samples in batches of 2 are 100 iterations an epoch.
    path = _mmengine(
        tmp_path,
        "{type: EpochBasedTrainLoop, max_epochs: 10}",
        "  - {type: LinearLR, start_factor: 0.1, begin: 0, end: 500}\n",
    )
    log = _log(range(1, 1001), [_linear_lr(i, 500) for i in range(1000)], ALIGNMENTS["mmengine"])
    given = Overrides(dataset_size=200)
    assert _explanation(path, log, given, "mmengine").label == "param_scheduler.0.end 500, by_epoch false"
    assert _reason(path, log, given, "mmengine") == (
        "the log matches the plan with a warmup ending at iteration 500 (param_scheduler.0 LinearLR end 500, "
        "by_epoch false), not end 500 in epochs (by_epoch true, MMEngine's default): end 500 meant as iterations, "
        "read as epochs"
    )


COSINE_AFTER = (
    "  - {type: LinearLR, start_factor: 0.1, by_epoch: false, begin: 0, end: 50}\n"
    "  - {type: CosineAnnealingLR, by_epoch: false, begin: 0, end: 1000, T_max: 1000}\n"
)


def test_an_mmengine_warmup_chained_with_a_cosine(tmp_path):
    # The cosine runs from iteration 0 with the warmup, their factors multiplied (eta_min 0): the
    # log warmed up to iteration 200, not 50.
    path = _mmengine(tmp_path, "{type: IterBasedTrainLoop, max_iters: 1000}", COSINE_AFTER)
    lrs = [_linear_lr(i, 200) * (1 + math.cos(math.pi * i / 1000)) / 2 for i in range(1000)]
    log = _log(range(1, 1001), lrs, ALIGNMENTS["mmengine"])
    assert _explanation(path, log, alignment="mmengine").label == "param_scheduler.0.end 200"
    assert _reason(path, log, alignment="mmengine") == (
        "the log matches the plan with a warmup ending at iteration 200 (param_scheduler.0 LinearLR end 200, "
        "by_epoch false), not end 50 in iterations"
    )


def test_an_mmengine_log_no_warmup_explains(tmp_path):
    # Warmed up to 200, and a cosine of 900 iterations, not 1,000: no end makes it.
    path = _mmengine(tmp_path, "{type: IterBasedTrainLoop, max_iters: 1000}", COSINE_AFTER)
    lrs = [_linear_lr(i, 200) * (1 + math.cos(math.pi * i / 900)) / 2 for i in range(1000)]
    assert _reason(path, _log(range(1, 1001), lrs, ALIGNMENTS["mmengine"]), alignment="mmengine") is None


# -- Megatron-LM: iterations and samples ------------------------------------------------------------------------------
MEGATRON = Overrides(source="megatron")


def test_a_megatron_warmup_fraction_of_another_length(tmp_path):
    path = _megatron(tmp_path, "--train-iters 100 --lr-warmup-fraction 0.1 --global-batch-size 8")
    # The run warmed up over 20 iterations (160 samples), not 10% of 100; Megatron logs at
    # iteration s the LR of the next one, which has consumed 8 x s samples.
    log = _log(range(1, 100), [_megatron_linear(8 * s, 160, 800) for s in range(1, 100)], ALIGNMENTS["megatron"])
    assert _explanation(path, log, MEGATRON, alignment="megatron").label == "--lr-warmup-iters 20"
    assert _reason(path, log, MEGATRON, alignment="megatron") == (
        "the log matches the plan with a warmup of 20 updates (--lr-warmup-iters 20, 0.2 of the run's 100 "
        "iterations), not --lr-warmup-fraction 0.1: a warmup given as a ratio read as steps, or the reverse"
    )


def test_megatron_warmup_iterations_meant_as_samples(tmp_path):
    path = _megatron(tmp_path, "--train-iters 100 --lr-warmup-iters 80 --global-batch-size 8")
    # 80 samples are 10 iterations at the global batch size 8 (decay over the 800 samples of 100).
    log = _log(range(1, 100), [_megatron_linear(8 * s, 80, 800) for s in range(1, 100)], ALIGNMENTS["megatron"])
    assert _reason(path, log, MEGATRON, alignment="megatron") == (
        "the log matches the plan with a warmup of 10 updates (--lr-warmup-iters 10, 0.1 of the run's 100 "
        "iterations), not --lr-warmup-iters 80: 80 meant as samples (10 iterations at the global batch size 8), not "
        "iterations"
    )


def test_megatron_warmup_samples_meant_as_iterations(tmp_path):
    path = _megatron(tmp_path, "--train-samples 800 --lr-warmup-samples 10 --global-batch-size 8")
    # The run warmed up over 80 samples (10 iterations); iteration s has consumed 8 x s.
    log = _log(range(1, 100), [_megatron_linear(8 * s, 80, 800) for s in range(1, 100)], ALIGNMENTS["megatron"])
    assert _explanation(path, log, MEGATRON, alignment="megatron").label == "--lr-warmup-samples 80"
    assert _reason(path, log, MEGATRON, alignment="megatron") == (
        "the log matches the plan with a warmup of 80 samples (--lr-warmup-samples 80: 10 iterations at the global "
        "batch size 8), not --lr-warmup-samples 10: 10 meant as iterations (10 x the global batch size 8 = 80 "
        "samples)"
    )


def test_a_megatron_warmup_fraction_of_samples_from_lr_warmup_init(tmp_path):
    path = _megatron(
        tmp_path, "--train-samples 800 --lr-warmup-fraction 0.1 --global-batch-size 8 --lr-warmup-init 1e-4"
    )

    # Megatron by hand from --lr-warmup-init: 1e-4 + (1e-3 - 1e-4) n / W up to W = 160 samples (not
    # 0.1 x 800 = 80), then the line down to 0 at 800.
    def lr(n: int) -> float:
        return 1e-4 + 9e-4 * n / 160 if n <= 160 else 1e-3 * (1 - (n - 160) / 640)

    log = _log(range(1, 100), [lr(8 * s) for s in range(1, 100)], ALIGNMENTS["megatron"])
    assert _reason(path, log, MEGATRON, alignment="megatron") == (
        "the log matches the plan with a warmup of 160 samples (--lr-warmup-samples 160: 20 iterations at the global "
        "batch size 8), not --lr-warmup-fraction 0.1: 0.2 of the decay's 800 samples, not 0.1"
    )


def test_a_megatron_log_no_warmup_explains(tmp_path):
    # Warmed up over 80 samples, but decayed to 960, not the run's 800: no warmup length makes it.
    path = _megatron(tmp_path, "--train-samples 800 --lr-warmup-samples 10 --global-batch-size 8")
    log = _log(range(1, 100), [_megatron_linear(8 * s, 80, 960) for s in range(1, 100)], ALIGNMENTS["megatron"])
    assert _reason(path, log, MEGATRON, alignment="megatron") is None
