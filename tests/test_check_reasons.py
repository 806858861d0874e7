"""The explanations of a log that leaves its plan, each on a log built from a schedule computed by
hand here (never from sched's own output): it is named with its exact words when it fits every
logged point, and nothing is named for a log that fits none."""

from __future__ import annotations

import json
import math
import time
from dataclasses import replace

import numpy as np
import pytest

from sched_cli.check import check, planned_lrs
from sched_cli.check_reasons import explain
from sched_cli.logs import ALIGNMENTS, LoggedLRs
from sched_cli.specs import Overrides, load, plan_file
from tests.check_case import HAND
from tests.test_check import _log, hf_file  # noqa: F401  (hf_file: a fixture)


def _hf_args(tmp_path, **keys):
    path = tmp_path / "args.json"
    path.write_text(json.dumps({"output_dir": "x", "learning_rate": 1e-3, "lr_scheduler_type": "linear", **keys}))
    return path


def _reason(path, log, given=None, alignment="hf", **options):
    """What ``sched check`` says of ``log`` against the plan ``path`` read with ``given``: the verdict
    must diverge, and the reason is what explain() names (as views_check calls it), in words."""
    found = _explanation(path, log, given, alignment, **options)
    return found.sentence if found is not None else None


def _explanation(path, log, given=None, alignment="hf", **options):
    """explain()'s answer itself: its words, its label and its plan's LRs at the logged rows, which
    pass through every logged point (the tests' logs are computed by hand: so are these LRs)."""
    given = given or Overrides()
    spec = load(str(path), given)
    rule = ALIGNMENTS[alignment]
    verdict, _ = check(spec, log, rule)
    assert not verdict.ok
    found = explain(
        spec,
        log,
        rule,
        lambda changes: load(str(path), replace(given, **changes)),
        given,
        consumes=("devices",),
        plan_file=plan_file(str(path), given),
        **options,
    )
    if found is not None:
        assert found.lrs is not None and found.lrs.shape == log.lrs.shape
        scale = np.maximum(np.abs(found.lrs), np.abs(log.lrs))
        assert (np.abs(found.lrs - log.lrs) <= 1e-6 * scale + 1e-12 * np.max(np.abs(log.lrs))).all()
    return found


def _hf_linear(total: int, warmup: int, lr: float = 1e-3) -> list[float]:
    """Hugging Face's linear schedule by hand: update u trains with lr x u / w in the warmup, then
    lr x (T - u) / (T - w)."""
    return [lr * u / warmup if u < warmup else lr * (total - u) / max(1, total - warmup) for u in range(total)]


# -- the moved basics -----------------------------------------------------------------------------------
def test_off_by_one_is_a_divergence_whose_reason_says_so(hf_file):  # noqa: F811
    spec = load(str(hf_file))
    # A logger that writes the next update's LR (Hugging Face before 2025) under HF's current rule.
    log = _log(range(1, 10), HAND[1:])
    found = _explanation(hf_file, log)
    assert found is not None and "one step later" in found.sentence and "--alignment" in found.sentence
    # The plan it names: the plan itself, one update later (step s: update s, not s - 1).
    assert (found.label, found.shift, found.ssr) == ("the plan one step later", 1, None)
    assert found.lrs.tolist() == pytest.approx(HAND[1:], rel=1e-15, abs=0)
    # Stated as the logger's rule, the same log matches.
    assert check(spec, log, ALIGNMENTS["hf-legacy"])[0].ok


def test_another_device_count_is_found(tmp_path):
    path = tmp_path / "args.json"
    path.write_text(
        json.dumps({"output_dir": "x", "learning_rate": 2e-5, "lr_scheduler_type": "cosine", "warmup_steps": 0.1})
    )
    given = Overrides(dataset_size=4000, devices=8)
    actual = load(str(path), replace(given, devices=4))
    steps = np.arange(1, 376, 5)
    logged, _ = planned_lrs(actual, steps - 1)
    # Fewer devices make more updates: no gradient accumulation (at least 1) can.
    found = _explanation(path, _log(steps, logged), given)
    assert found.sentence == "the log matches the plan with --devices 4 (not 8)"
    # The plan it names: the run on 4 devices, 4000 / (8 x 4) = 125 updates an epoch, 3 epochs.
    assert found.label == "--devices 4" and planned_lrs(found.spec, np.zeros(0, dtype=np.int64))[1] == 375


def test_another_run_length_from_the_logs_max_steps(hf_file):  # noqa: F811
    longer = load(str(hf_file), Overrides(max_duration="20ba"))
    logged, _ = planned_lrs(longer, np.arange(0, 20))
    found = _explanation(hf_file, _log(range(1, 21), logged, max_steps=20))
    assert found is not None and "20 updates (the log's max_steps)" in found.sentence
    assert found.label == "max_steps 20" and str(found.spec.run.max_duration) == "20ba"


def test_a_log_that_fits_nothing_has_no_reason(hf_file):  # noqa: F811
    assert _reason(hf_file, _log(range(1, 11), [1e-3] * 10)) is None


# -- another base LR ------------------------------------------------------------------------------------
def test_every_lr_times_one_constant_is_another_base_lr(hf_file):  # noqa: F811
    found = _explanation(hf_file, _log(range(1, 11), [2.5 * v for v in HAND]))
    # The plan it names: the plan at 2.5 times its LR, every point of it.
    assert found.label == "--lr 0.0025" and found.spec.run.lr == 0.0025
    assert found.lrs.tolist() == pytest.approx([2.5 * v for v in HAND], rel=1e-15, abs=0)
    assert found.sentence == (
        "the log matches the plan with learning_rate 0.0025 (x2.5 the plan's 0.001; --lr 0.0025): every logged LR "
        "is the planned one times 2.5; a launcher or a script that scales the LR (by the device count or the batch) "
        "does this"
    )


def test_a_sched_spec_with_another_lr(tmp_path):
    plan = tmp_path / "plan.yaml"
    plan.write_text("max_duration: 10ba\nlr: 0.1\nschedulers:\n  - name: linear\n    alpha_f: 0.0\n")
    # Composer's linear from 1 to 0 over 10 batches, at a base LR of 0.05. Composer's Trainer steps
    # the scheduler at each batch's end before the timestamp advances: batch b >= 1 trains with the
    # schedule at b - 1, batch 0 with it at 0. The log counts batches done (step s: batch s - 1).
    logged = [0.05 * (1 - max(b - 1, 0) / 10) for b in range(10)]
    reason = _reason(plan, _log(range(1, 11), logged), alignment="current")
    assert reason is not None and reason.startswith("the log matches the plan with lr 0.05 (x0.5 the plan's 0.1;")


def test_a_scale_that_varies_is_not_another_base_lr(hf_file):  # noqa: F811
    logged = [2 * v for v in HAND]
    logged[-1] *= 1.01
    assert _reason(hf_file, _log(range(1, 11), logged)) is None


def test_mmengine_auto_scale_lr_is_named(tmp_path):
    path = tmp_path / "cfg.yaml"
    path.write_text(
        "train_cfg: {type: IterBasedTrainLoop, max_iters: 20}\n"
        "param_scheduler:\n  - {type: LinearLR, start_factor: 0.5, by_epoch: false, begin: 0, end: 4}\n"
        "optim_wrapper: {optimizer: {type: SGD, lr: 0.1}}\n"
        "auto_scale_lr: {enable: false, base_batch_size: 16}\ntrain_dataloader: {batch_size: 2}\ndevices: 4\n"
    )
    # MMEngine's LinearLR over total_iters = end - begin - 1 = 3 iterations: factor 0.5 + 0.5 x min(i, 3) / 3;
    # auto_scale_lr on 4 devices of 2 samples: lr x 8 / 16. MMEngine logs iteration i + 1 with i's LR.
    logged = [0.1 * 8 / 16 * (0.5 + 0.5 * min(i, 3) / 3) for i in range(20)]
    reason = _reason(path, _log(range(1, 21), logged, ALIGNMENTS["mmengine"]), alignment="mmengine")
    assert reason == (
        "the log matches the plan with MMEngine's auto_scale_lr enabled: every LR x0.5 for the run's batch "
        "(the launcher's --auto-scale-lr switches it on; so does sched's)"
    )


@pytest.mark.parametrize(
    ("paramwise", "words"),
    [
        (
            "paramwise_cfg: {custom_keys: {backbone: {lr_mult: 0.1}}}",
            "MMEngine logs the LR of parameter group 0, and paramwise_cfg.custom_keys.backbone.lr_mult 0.1 scales it "
            "when group 0 is a parameter of 'backbone' (usually the first): the plan's LR is then right",
        ),
        (
            "paramwise_cfg: {custom_keys: {backbone: {lr_mult: 0.5}}}",
            "MMEngine's auto_scale_lr or a launcher that scales the LR does this, or paramwise_cfg's lr_mult: MMEngine "
            "logs the LR of parameter group 0, which an lr_mult scales",
        ),
    ],
)
def test_an_mmengine_log_scaled_by_a_backbone_lr_mult_names_it(tmp_path, paramwise, words):
    # DETR's recipe: the backbone trains at 0.1 x optimizer.lr, and MMEngine logs group 0's LR, the backbone's first
    # parameter. The plan's LR is the other groups'; the log is every planned LR x 0.1.
    path = tmp_path / "cfg.yaml"
    path.write_text(
        "train_cfg: {type: IterBasedTrainLoop, max_iters: 20}\n"
        "param_scheduler:\n  - {type: LinearLR, start_factor: 0.5, by_epoch: false, begin: 0, end: 4}\n"
        f"optim_wrapper: {{optimizer: {{type: AdamW, lr: 0.0001}}, {paramwise}}}\n"
    )
    logged = [0.0001 * 0.1 * (0.5 + 0.5 * min(i, 3) / 3) for i in range(20)]
    reason = _reason(path, _log(range(1, 21), logged, ALIGNMENTS["mmengine"]), alignment="mmengine")
    assert reason == (
        "the log matches the plan with optim_wrapper.optimizer.lr 1e-05 (x0.1 the plan's 0.0001; --lr 1e-05): every "
        f"logged LR is the planned one times 0.1; {words}"
    )


# -- gradient accumulation ---------------------------------------------------------------------------------
ONE_EPOCH = {"warmup_steps": 2, "num_train_epochs": 1, "per_device_train_batch_size": 4}


def test_gradient_accumulation_is_solved_for(tmp_path):
    # 44 samples in micro-batches of 4: 11 per epoch. Accumulating 2 makes ceil(11 / 2) = 6 updates;
    # with dataloader_drop_last no device count does (2 devices: floor(11 / 2) = 5).
    path = _hf_args(tmp_path, **ONE_EPOCH, gradient_accumulation_steps=1, dataloader_drop_last=True)
    log = _log(range(1, 7), _hf_linear(6, 2))
    assert _explanation(path, log, Overrides(dataset_size=44)).label == "gradient_accumulation_steps 2"
    assert _reason(path, log, Overrides(dataset_size=44)) == (
        "the log matches the plan with gradient_accumulation_steps 2 (not 1): the run accumulated 2 micro-batches "
        f"per optimizer update; set gradient_accumulation_steps: 2 in {path} to plan it"
    )


def test_devices_and_accumulation_that_the_log_cannot_tell_apart(tmp_path):
    # 40 samples in micro-batches of 4: 10 per epoch; 2 devices or 2 accumulated both make 5 updates.
    path = _hf_args(tmp_path, **ONE_EPOCH)
    log = _log(range(1, 6), _hf_linear(5, 2))
    found = _explanation(path, log, Overrides(dataset_size=40))
    # Drawn as the plan on 2 devices: both make the same updates, so the same LRs.
    assert found.label == "--devices 2 or gradient_accumulation_steps 2"
    assert planned_lrs(found.spec, np.zeros(0, dtype=np.int64))[1] == 5
    assert _reason(path, log, Overrides(dataset_size=40)) == (
        "the log matches the plan with --devices 2 (not 1) or gradient_accumulation_steps 2 (not 1): both make the "
        "same updates, so the log cannot tell them apart"
    )


# -- Megatron-LM ------------------------------------------------------------------------------------------
def _megatron(tmp_path, flags: str):
    path = tmp_path / "train.sh"
    path.write_text(
        f"torchrun pretrain_gpt.py --lr 1e-3 --min-lr 0 --lr-decay-style linear --micro-batch-size 1 {flags}\n"
    )
    return path


def _megatron_linear(samples: float, warmup: float, decay: float, lr: float = 1e-3) -> float:
    """Megatron's linear schedule by hand, over the samples consumed before an iteration: lr x s / w
    up to the warmup's end (inclusive), then lr x (1 - (s - w) / (d - w))."""
    return lr * samples / warmup if samples <= warmup else lr * (1 - (samples - warmup) / (decay - warmup))


def test_a_megatron_run_with_another_global_batch(tmp_path):
    path = _megatron(tmp_path, "--train-samples 800 --lr-warmup-samples 80 --global-batch-size 8")
    # At a global batch of 16 the 800 samples are 50 iterations; iteration s has consumed 16 x s.
    log = _log(range(1, 50), [_megatron_linear(16 * s, 80, 800) for s in range(1, 50)], ALIGNMENTS["megatron"])
    assert _explanation(path, log, Overrides(source="megatron"), alignment="megatron").label == (
        "--global-batch-size 16"
    )
    assert _reason(path, log, Overrides(source="megatron"), alignment="megatron") == (
        "the log matches the plan with --global-batch-size 16 (not 8): the run's global batch (micro batch x "
        "data-parallel size x gradient accumulation) sets its iterations"
    )


# -- a DeepSpeed block in place of Hugging Face's schedule ----------------------------------------------------
def _warmup_lr(k: int, w: int, lr: float, log_shaped: bool = True) -> float:
    """DeepSpeed's WarmupLR as its engine steps it: update k trains with the LR at
    last_batch_iteration i = k - 1 (k = 0: the constructor's, the minimum 0); during the warmup
    lr x ln(i + 1) / ln(w) (log) or lr x i / w (linear), then lr."""
    if k == 0:
        return 0.0
    i = k - 1
    if i >= w:
        return lr
    return lr * (math.log(i + 1) / math.log(w) if log_shaped else i / w)


@pytest.mark.parametrize("deepspeed", [None, "ds_config.json"])
def test_a_deepspeed_warmuplr_in_place_of_hf_cosine(tmp_path, deepspeed):
    keys = {"lr_scheduler_type": "cosine", "warmup_steps": 10, "max_steps": 100}
    if deepspeed:  # a DeepSpeed config without a scheduler block: HF's cosine stays in force
        (tmp_path / deepspeed).write_text(json.dumps({"zero_optimization": {"stage": 2}}))
        keys["deepspeed"] = deepspeed
    path = _hf_args(tmp_path, **keys)
    log = _log(range(1, 101), [_warmup_lr(k, 10, 1e-3) for k in range(100)])
    assert _explanation(path, log).label == "DeepSpeed WarmupLR, log warmup"
    where = (
        f"check {deepspeed}, the file the deepspeed key names"
        if deepspeed
        else "the plan names no DeepSpeed config: the run had one; give it with --deepspeed-config"
    )
    assert _reason(path, log) == (
        "the log matches DeepSpeed's WarmupLR (log warmup over 10 updates to 0.001, then constant at update 100: "
        "what Hugging Face fills for 'auto') in place of lr_scheduler_type cosine: a DeepSpeed config's scheduler "
        f"block replaced Hugging Face's ({where})"
    )


def test_a_linear_deepspeed_warmup_is_told_from_the_log_one(tmp_path):
    path = _hf_args(tmp_path, lr_scheduler_type="cosine", warmup_steps=10, max_steps=100)
    log = _log(range(1, 101), [_warmup_lr(k, 10, 1e-3, log_shaped=False) for k in range(100)])
    reason = _reason(path, log)
    assert reason is not None and reason.startswith("the log matches DeepSpeed's WarmupLR (linear warmup over 10")


def test_a_deepspeed_warmupdecaylr_in_place_of_hf_linear(tmp_path):
    path = _hf_args(tmp_path, warmup_steps=10, max_steps=100)

    # DeepSpeed's WarmupDecayLR (linear warmup): at last_batch_iteration i, lr x i / w during the
    # warmup, then lr x max(0, (T - i) / max(1, T - w)); update k trains at i = k - 1 (k = 0: 0).
    def decay(k: int) -> float:
        i = k - 1
        return 0.0 if k == 0 else 1e-3 * (i / 10 if i < 10 else max(0.0, (100 - i) / 90))

    reason = _reason(path, _log(range(1, 101), [decay(k) for k in range(100)]))
    assert reason is not None and reason.startswith(
        "the log matches DeepSpeed's WarmupDecayLR (linear warmup over 10 updates to 0.001, then linear to 0 at "
        "update 100: what Hugging Face fills for 'auto') in place of lr_scheduler_type linear"
    )


# -- another SSR -------------------------------------------------------------------------------------------------
def test_a_run_stretched_by_another_ssr(tmp_path):
    plan = tmp_path / "plan.yaml"
    plan.write_text("max_duration: 10ba\nlr: 0.1\nschedulers:\n  - name: linear\n    alpha_f: 0.0\n")
    # Composer's linear from 1 to 0 stretched to 20 batches (--ssr 2): batch b >= 1 trains with
    # the schedule at b - 1, batch 0 at 0 (as above); the log counts batches done.
    logged = [0.1 * (1 - max(b - 1, 0) / 20) for b in range(20)]
    found = _explanation(plan, _log(range(1, 21), logged), alignment="current")
    assert found.sentence == ("the log matches the plan at --ssr 2 (not 1): the run was stretched or shortened")
    assert (found.label, found.shift, found.ssr) == ("--ssr 2", 0, 2.0)
    assert found.lrs.tolist() == pytest.approx(logged, rel=1e-12, abs=0)


def test_the_explanations_lrs_are_those_its_test_computed(hf_file, monkeypatch):  # noqa: F811
    # The plan an explanation names is simulated at every logged row once, when it is tested on
    # them all: the explanation keeps that array, and no path of its own computes it again.
    import sched_cli.check

    made = []

    def recorded(*args, **kwargs):
        out = planned(*args, **kwargs)
        made.append(out[0])
        return out

    def explained(self, found):
        before = len(made)
        out = explain_it(self, found)
        calls.append(len(made) - before)
        return out

    planned, explain_it = sched_cli.check.planned_lrs, sched_cli.check.FitTest.explained
    calls: list[int] = []
    monkeypatch.setattr(sched_cli.check, "planned_lrs", recorded)
    monkeypatch.setattr(sched_cli.check.FitTest, "explained", explained)
    found = _explanation(hf_file, _log(range(1, 11), [2.5 * v for v in HAND]))
    assert found.label == "--lr 0.0025" and calls == [0] and any(found.lrs is m for m in made)


# -- cost -------------------------------------------------------------------------------------------------------
def test_a_long_log_that_fits_nothing_is_explained_quickly(tmp_path):
    path = _hf_args(tmp_path, warmup_steps=100, max_steps=200_000, gradient_accumulation_steps=2)
    rng = np.random.default_rng(0)
    log = LoggedLRs("log", "test", "lr", np.arange(1, 200_001), rng.uniform(1e-4, 1e-3, 200_000), ALIGNMENTS["hf"])
    start = time.perf_counter()
    assert _reason(path, log) is None
    assert time.perf_counter() - start < 3.0
