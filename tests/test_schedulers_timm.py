"""timm's schedules, hand-computed: what train.py trains each epoch (or update) with."""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest

from sched_cli.schedulers import timm
from sched_cli.schedulers.base import RunShape, ScheduleError
from sched_cli.simulator import Run, collect, simulate
from sched_cli.time import Time


def lrs(scheduler: timm.TimmScheduler, epochs: int, per_epoch: int = 1, mode: str = "formula") -> np.ndarray:
    """The LR of every update of a run of ``epochs`` epochs, ``per_epoch`` updates each."""
    run = Run(
        max_duration=f"{epochs}ep",
        schedulers=(scheduler,),
        dataloader_len=per_epoch,
        step_every="batch" if scheduler.sched_on_updates else "epoch",
        lr=scheduler.lr,
        trainer="timm",
    )
    return collect(simulate(run, mode=mode))["lr"]


def test_cosine_per_epoch_starts_at_lr_and_never_reaches_min_lr():
    got = lrs(timm.TimmCosineScheduler(lr=0.1, epochs=4, min_lr=0.01, warmup_epochs=0), 4)
    # epoch e >= 1: 0.01 + 0.5 * 0.09 * (1 + cos(pi e / 4)); epoch 0: the optimizer's own LR.
    expected = [0.1, 0.01 + 0.045 * (1 + math.sqrt(0.5)), 0.055, 0.01 + 0.045 * (1 - math.sqrt(0.5))]
    np.testing.assert_allclose(got, expected, rtol=1e-15)
    assert got[-1] > 0.01  # min_lr is reached at epoch 4, which is never trained


def test_warmup_without_prefix_never_reaches_the_peak():
    got = lrs(timm.TimmCosineScheduler(lr=0.1, epochs=10, warmup_epochs=2, warmup_lr=0.0), 10)
    assert got[0] == 0.0 and got[1] == 0.05  # 0 + 1 * (0.1 - 0) / 2
    assert got[2] == pytest.approx(0.05 * (1 + math.cos(math.pi * 2 / 10)))  # the decay already at t = 2
    assert got.max() < 0.1


def test_warmup_prefix_reaches_the_peak_and_lengthens_the_run():
    s = timm.TimmCosineScheduler(lr=0.1, epochs=10, warmup_epochs=2, warmup_lr=0.0, warmup_prefix=True)
    got = lrs(s, 12)
    assert list(got[:3]) == [0.0, 0.05, 0.1]
    assert got[7] == pytest.approx(0.05)  # halfway through the 10 decay epochs after the warmup
    assert s.num_epochs(RunShape(Time(12, "ep"), 1), 10, cooldown_epochs=3) == 15


def test_multistep_milestone_applies_one_epoch_early():
    got = lrs(timm.TimmMultiStepScheduler(lr=1.0, decay_milestones=["3ep", "4ep"], decay_rate=0.1, epochs=6), 6)
    np.testing.assert_allclose(got, [1, 1, 0.1, 0.01, 0.01, 0.01], rtol=1e-15)


def test_multistep_milestone_at_epoch_one_is_not_applied_to_epoch_zero():
    # The formula at t = 0 is already decayed (bisect_right([1], 1) == 1), but epoch 0 trains with
    # the LR the optimizer had when the scheduler was built.
    got = lrs(timm.TimmMultiStepScheduler(lr=1.0, decay_milestones=["1ep"], decay_rate=0.5, epochs=3), 3)
    assert list(got) == [1.0, 0.5, 0.5]


def test_step_with_fractional_decay_epochs():
    got = lrs(timm.TimmStepScheduler(lr=1.0, decay_epochs=2.4, decay_rate=0.5, epochs=9), 9)
    # 0.5 ** floor(t / 2.4): t = 0..8 -> 0 0 0 1 1 2 2 2 3
    assert list(got) == [1, 1, 1, 0.5, 0.5, 0.25, 0.25, 0.25, 0.125]


def test_cycles_decay_and_end_at_min_lr():
    s = timm.TimmCosineScheduler(lr=1.0, epochs=4, lr_cycle_limit=2, lr_cycle_decay=0.5, min_lr=0.0)
    got = lrs(s, 10)
    assert got[4] == 0.5  # second cycle starts at half the peak
    assert got[6] == pytest.approx(0.25)  # 0.5 * 0.5 * (1 + cos(pi / 2))
    assert list(got[8:]) == [0.0, 0.0]  # past cycle_limit: min_lr (the cooldown epochs)
    assert s.num_epochs(RunShape(Time(10, "ep"), 1), 4, cooldown_epochs=2) == 10


def test_cycle_mul_lengthens_each_cycle():
    s = timm.TimmCosineScheduler(lr=1.0, epochs=2, lr_cycle_mul=2.0, lr_cycle_limit=2, lr_cycle_decay=0.1)
    # cycles of 2 then 4 epochs: floor(-2 (2**2 - 1) / (1 - 2)) = 6 epochs
    assert s.num_epochs(RunShape(Time(6, "ep"), 1), 2) == 6
    got = lrs(s, 6)
    assert got[2] == pytest.approx(0.1)  # t = 2: cycle 1 begins, peak 1 * 0.1
    assert got[4] == pytest.approx(0.05)  # halfway through the 4-epoch cycle


def test_cycle_mul_below_one_fails_where_timm_does():
    s = timm.TimmCosineScheduler(lr=1.0, epochs=4, lr_cycle_mul=0.5, lr_cycle_limit=1)
    with pytest.raises(ScheduleError, match="math domain error"):
        lrs(s, 9)  # t = 8: log(1 - 8/4 * 0.5) = log(0)


def test_k_decay_bends_the_cosine():
    got = lrs(timm.TimmCosineScheduler(lr=1.0, epochs=4, lr_k_decay=2.0), 4)
    assert got[2] == pytest.approx(0.5 * (1 + math.cos(math.pi * 4 / 16)))


def test_poly_power_is_decay_rate():
    got = lrs(timm.TimmPolyScheduler(lr=1.0, epochs=4, decay_rate=2.0), 4)
    np.testing.assert_allclose(got, [1, 0.75**2, 0.25, 0.0625], rtol=1e-15)


def test_tanh_epoch_zero_is_lr_not_the_formula():
    got = lrs(timm.TimmTanhScheduler(lr=1.0, epochs=10), 10)
    assert got[0] == 1.0
    # t = 5: tr = 0.5, tanh(-7 * 0.5 + 3 * 0.5) = tanh(-2)
    assert got[5] == pytest.approx(0.5 * (1 - math.tanh(-2.0)))


def test_tanh_warmup_without_prefix_climbs_to_the_tanh_value():
    s = timm.TimmTanhScheduler(lr=1.0, epochs=10, warmup_epochs=5, warmup_lr=0.0)
    got = lrs(s, 10)
    target = 0.5 * (1 - math.tanh(-2.0))
    assert got[1] == pytest.approx(target / 5)
    assert got[5] == pytest.approx(target)


def test_constant_holds_after_warmup():
    got = lrs(timm.TimmConstantScheduler(lr=0.4, epochs=5, warmup_epochs=2, warmup_lr=0.0), 5)
    assert list(got) == [0.0, 0.2, 0.4, 0.4, 0.4]


def test_wsd_decays_over_the_last_epochs():
    s = timm.TimmWSDScheduler(lr=1.0, epochs=10, decay_epochs=2, lr_decay_fn="linear")
    got = lrs(s, 10)
    assert list(got[:9]) == [1.0] * 9  # decay starts at t = 8 with progress 0
    assert got[9] == 0.5


def test_wsd_fraction_and_one_minus_sqrt():
    s = timm.TimmWSDScheduler(lr=1.0, epochs=10, decay_epochs=0.4)  # 0.4 * 10 = 4 epochs of 1-sqrt
    got = lrs(s, 10)
    assert got[7] == pytest.approx(1 - math.sqrt(0.25))


def test_rsqrt_needs_a_timescale_without_warmup():
    with pytest.raises(ScheduleError, match="lr_stable_timescale"):
        lrs(timm.TimmRsqrtScheduler(lr=1.0, epochs=10, decay_epochs=2), 10)
    got = lrs(timm.TimmRsqrtScheduler(lr=1.0, epochs=10, decay_epochs=2, lr_stable_timescale=1.0), 10)
    assert got[3] == pytest.approx(0.5)  # (1 + 3 / 1) ** -0.5


def test_per_update_stepping_uses_the_update_counter():
    s = timm.TimmCosineScheduler(lr=1.0, epochs=2, sched_on_updates=True)
    got = lrs(s, 2, per_epoch=3)
    expected = [1.0] + [0.5 * (1 + math.cos(math.pi * k / 6)) for k in range(1, 6)]
    np.testing.assert_allclose(got, expected, rtol=1e-15)


def test_formula_and_trainer_modes_agree():
    s = timm.TimmMultiStepScheduler(lr=1.0, decay_milestones=["1ep"], epochs=3, warmup_epochs=1, warmup_lr=0.1)
    assert list(lrs(s, 3, per_epoch=2)) == list(lrs(s, 3, per_epoch=2, mode="trainer"))


def test_noise_is_seeded_bounded_and_spares_epoch_zero():
    kwargs = {"lr": 1.0, "epochs": 20, "noise_start": 0.0, "lr_noise_pct": 0.1}
    noisy = lrs(timm.TimmConstantScheduler(**kwargs), 20)
    again = lrs(timm.TimmConstantScheduler(**kwargs), 20)
    other = lrs(timm.TimmConstantScheduler(**kwargs, seed=7), 20)
    assert noisy[0] == 1.0
    assert np.all(np.abs(noisy[1:] - 1.0) < 0.1) and np.any(noisy[1:] != 1.0)
    assert np.array_equal(noisy, again) and not np.array_equal(noisy, other)


def test_noise_range_end_is_exclusive():
    got = lrs(timm.TimmConstantScheduler(lr=1.0, epochs=10, noise_start=0.2, noise_end=0.5), 10)
    assert list(got[:2]) == [1.0, 1.0] and list(got[5:]) == [1.0] * 5
    assert np.all(got[2:5] != 1.0)


def test_noise_without_torch_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(ScheduleError, match=r"sched-cli\[torch\]"):
        lrs(timm.TimmConstantScheduler(lr=1.0, epochs=3, noise_start=0.0), 3)


def test_no_noise_no_torch(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)
    assert list(lrs(timm.TimmConstantScheduler(lr=1.0, epochs=3), 3)) == [1.0, 1.0, 1.0]


def test_ssr_scales_epochs_and_milestones_not_warmup():
    s = timm.TimmMultiStepScheduler(lr=1.0, decay_milestones=["4ep"], epochs=8, warmup_epochs=2, warmup_lr=0.0)
    run = Run("8ep", (s,), dataloader_len=1, step_every="epoch", lr=1.0, trainer="timm")
    got = collect(simulate(run, 0.5))["lr"]
    # epochs 4, milestone 2 (applies at t = 1, inside the warmup), warmup still 2 epochs
    assert list(got) == [0.0, 0.5, 0.1, 0.1]


def test_multiplier_is_lr_over_base_lr():
    s = timm.TimmCosineScheduler(lr=0.5, epochs=4, min_lr=0.1)
    run = Run("4ep", (s,), dataloader_len=1, step_every="epoch", lr=0.5, trainer="timm")
    rows = collect(simulate(run))
    np.testing.assert_allclose(rows["multiplier"], rows["lr"] / 0.5, rtol=1e-15)


def test_bad_arguments_are_refused():
    with pytest.raises(ScheduleError, match="lr_noise_pct"):
        timm.TimmCosineScheduler(lr=1.0, noise_start=0.1, lr_noise_pct=0.0)
    with pytest.raises(ScheduleError, match="lr_decay_fn"):
        timm.TimmWSDScheduler(lr=1.0, lr_decay_fn="square")
    with pytest.raises(ScheduleError, match="epochs"):
        timm.TimmMultiStepScheduler(lr=1.0, decay_milestones=["30ba"])
    with pytest.raises(ScheduleError, match="decay_epochs"):
        lrs(timm.TimmWSDScheduler(lr=1.0, epochs=4, decay_epochs=5), 4)


def test_the_step_after_the_last_epoch_can_fail_as_in_timm():
    # 4 + 2 epochs of one shrinking cycle: floor(4 * (1 - 0.5) / 0.5) = 4 epochs, then 2 of cooldown.
    # Epochs 0..5 train, but train.py still calls step(6), where log(1 - 6/4 * 0.5) is log(0.25)
    # (fine), while with 4 cooldown epochs step(8) takes log(0) and timm stops with an error.
    s = timm.TimmCosineScheduler(lr=1.0, epochs=4, lr_cycle_mul=0.5)
    assert len(lrs(s, 6)) == 6
    with pytest.raises(ScheduleError, match="math domain error"):
        lrs(s, 8)
