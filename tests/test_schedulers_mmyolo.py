"""MMYOLO's LR hooks: hand-computed LRs, iteration by iteration (the differential test against
the released hooks is tests/test_against_mmengine.py)."""

from __future__ import annotations

import math

import pytest

from sched_cli.schedulers.base import ScheduleError
from sched_cli.schedulers.mmyolo import MMYOLOParamSchedulerHook
from sched_cli.simulator import Run, collect, simulate
from sched_cli.time import Time


def lrs(hook, *, lr=1.0, epochs, length):
    scheduler = MMYOLOParamSchedulerHook(hook, lr=lr)
    run = Run(Time.from_input(f"{epochs}ep"), (scheduler,), dataloader_len=length, lr=lr, trainer="mmengine")
    return collect(simulate(run, 1.0, mode="trainer"))["lr"].tolist()


def test_yolov5_linear_warmup_then_one_level_per_epoch_a_step_late():
    # f(e) = (1 - e/4)(1 - 0.2) + 0.2: 1, 0.8, 0.6, 0.4. L = 3, W = max(round(1 x 3), 2) = 3.
    # i = 0..2 (epoch 0): i/3 x f(0); i = 3 (epoch 1): f(1) (np.interp's right end);
    # i = 4, 5: warmup over, the LR stays; epoch 1 ends: f(1); epoch 2 ends: f(2).
    hook = dict(type="YOLOv5ParamSchedulerHook", lr_factor=0.2, max_epochs=4, warmup_epochs=1, warmup_mim_iter=2)
    got = lrs(hook, epochs=4, length=3, lr=2.0)
    want = [0.0, 2 / 3, 4 / 3, 1.6, 1.6, 1.6, 1.6, 1.6, 1.6, 1.2, 1.2, 1.2]
    assert got == pytest.approx(want, rel=1e-15)


def test_yolov5_cosine_and_warmup_ending_mid_epoch():
    # cosine: f(e) = (1 - cos(pi e / 2)) / 2 (0.5 - 1) + 1: f(0) = 1, f(1) = 0.75. L = 4,
    # W = max(round(0.5 x 4), 3) = 3: i = 3 is the last warmup iteration (f(0)); i = 4 begins epoch 1,
    # after warmup: epoch 0 ended with warmup running (its last iteration, 3, was not > W), so the LR
    # stays f(0) until epoch 1 ends.
    hook = dict(
        type="YOLOv5ParamSchedulerHook", scheduler_type="cosine", lr_factor=0.5, max_epochs=2, warmup_epochs=0.5,
        warmup_mim_iter=3,
    )  # fmt: skip
    got = lrs(hook, epochs=2, length=4)
    assert got == pytest.approx([0.0, 1 / 3, 2 / 3, 1.0, 1.0, 1.0, 1.0, 1.0], rel=1e-15)


def test_ppyoloe_warmup_then_cosine_to_its_minimum():
    # W = max(round(1 x 2), 2) = 2; start 0.5: i=0 -> 0.5, i=1 -> 0.75, i=2 -> 1.
    # After: 0.1 + 0.9 x 0.5 (cos(pi (i - 2) / (6 - 2)) + 1), T = 3 epochs x 2.
    hook = dict(
        type="PPYOLOEParamSchedulerHook", warmup_min_iter=2, start_factor=0.5, warmup_epochs=1, min_lr_ratio=0.1,
        total_epochs=3,
    )  # fmt: skip
    got = lrs(hook, epochs=3, length=2)
    want = [0.5, 0.75, 1.0] + [0.1 + 0.45 * (math.cos(math.pi * k / 4) + 1) for k in (1, 2, 3)]
    assert got == pytest.approx(want, rel=1e-15)


def test_unknown_hook_arguments_and_types_are_refused():
    with pytest.raises(ScheduleError, match="has no argument 'warmup_min_iter'.*warmup_mim_iter"):
        MMYOLOParamSchedulerHook(dict(type="YOLOv5ParamSchedulerHook", warmup_min_iter=3), lr=1.0)
    with pytest.raises(ScheduleError, match="'linear' or 'cosine'"):
        MMYOLOParamSchedulerHook(dict(type="YOLOv5ParamSchedulerHook", scheduler_type="step"), lr=1.0)
    with pytest.raises(ScheduleError, match="YOLOv5ParamSchedulerHook and PPYOLOEParamSchedulerHook"):
        MMYOLOParamSchedulerHook(dict(type="YOLOv8ParamSchedulerHook"), lr=1.0)
    with pytest.raises(ScheduleError, match="EpochBasedTrainLoop"):
        MMYOLOParamSchedulerHook(dict(type="PPYOLOEParamSchedulerHook"), lr=1.0, train_loop="iter")
