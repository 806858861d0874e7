"""Disagreements with Composer 0.32.1 found by tests/test_against_composer.py, pinned by hand.

These need no Composer: each expected value is worked out from Composer's source
(``composer/optim/scheduler.py`` and ``composer/trainer/trainer.py`` at v0.32.1), as noted.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from sched_cli.schedulers import (
    ConstantScheduler,
    CosineAnnealingWarmRestartsScheduler,
    CosineAnnealingWithWarmupScheduler,
    LinearScheduler,
    LinearWithWarmupScheduler,
    MultiStepWithWarmupScheduler,
    PolynomialScheduler,
    PolynomialWithWarmupScheduler,
    RunShape,
    ScheduleError,
    StepScheduler,
)
from sched_cli.simulator import Run, Timeline, collect, simulate
from sched_cli.state import State
from sched_cli.time import Time, Timestamp


def alpha(scheduler, max_duration, batch, dataloader_len=None, ssr=1.0, batch_size=1, seq_len=1):
    epoch = batch // dataloader_len if dataloader_len else 0
    sample = batch * batch_size
    ts = Timestamp(epoch=epoch, batch=batch, sample=sample, token=sample * seq_len)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return scheduler(State(max_duration, dataloader_len, ts), ssr)


def timeline(batches, dataloader_len=None):
    batches = np.asarray(batches, dtype=np.int64)
    epoch = batches // dataloader_len if dataloader_len else np.zeros_like(batches)
    return Timeline(epoch=epoch, batch=batches, sample=batches, token=batches)


# -- MultiStepWithWarmupScheduler converts its milestones only after warmup ----------------------
# Composer: `if state.timestamp < t_warmup: return self.warmup_scheduler(...)` comes before
# `self.step_scheduler(state, ssr)`, the only place the milestones are converted.


def test_milestones_that_cannot_convert_do_not_stop_the_warmup():
    scheduler = MultiStepWithWarmupScheduler(t_warmup="5ba", milestones=["2ep", "4ep"])
    # No dataloader_len, so "2ep" has no meaning in batches; the warmup ramp t / 5 still works.
    assert [alpha(scheduler, "100ba", b) for b in range(5)] == [0.0, 0.2, 0.4, 0.6, 0.8]
    with pytest.raises(ScheduleError, match="dataloader_len"):
        alpha(scheduler, "100ba", 5)


def test_milestones_that_cannot_convert_vectorized():
    scheduler = MultiStepWithWarmupScheduler(t_warmup="5ba", milestones=["3sec"])
    shape = RunShape(Time(100, "ba"), None)
    assert scheduler.evaluate(timeline(range(5)), shape).tolist() == [0.0, 0.2, 0.4, 0.6, 0.8]
    with pytest.raises(ScheduleError, match="wall-clock"):
        scheduler.evaluate(timeline(range(6)), shape)


# -- a warmup ramp scaled to zero fails only while warming up ------------------------------------
# Composer divides by the ramp (LinearScheduler(0, peak, t_warmup) called with ssr) only when
# `state.timestamp < t_warmup`; after warmup the ramp is never looked at.


def test_ramp_scaled_to_zero_fails_during_warmup_only():
    scheduler = CosineAnnealingWithWarmupScheduler(t_warmup="1ba", scale_warmup=True)
    # ssr 0.5: the ramp runs over int(1 * 0.5) = 0 batches, where Composer raises ZeroDivisionError.
    with pytest.raises(ScheduleError, match="divides by zero"):
        alpha(scheduler, "10ba", 0, ssr=0.5)
    # After warmup: t_max = int(1.0 * 10) = 10ba, tau = (t - 1) / (10 - 1).
    assert alpha(scheduler, "10ba", 1, ssr=0.5) == 1.0
    assert alpha(scheduler, "10ba", 4, ssr=0.5) == pytest.approx((1 + math.cos(math.pi / 3)) / 2, abs=1e-15)


def test_ramp_scaled_to_zero_vectorized():
    scheduler = LinearWithWarmupScheduler(t_warmup="2ba", alpha_i=1.5, scale_warmup=True)
    shape = RunShape(Time(12, "ba"), None)
    # ssr 0.25: ramp int(2 * 0.25) = 0; after warmup alpha = 1.5 * (1 - (t - 2) / (12 - 2)).
    assert scheduler.evaluate(timeline([2, 7, 12]), shape, 0.25).tolist() == [1.5, 0.75, 0.0]
    with pytest.raises(ScheduleError):
        scheduler.evaluate(timeline([1, 2, 7]), shape, 0.25)


# -- a constant after-warmup value over a timeline (it used to raise IndexError) -----------------


def test_warmup_without_milestones_over_a_timeline():
    scheduler = MultiStepWithWarmupScheduler(t_warmup="4ba", milestones=[])
    values = scheduler.evaluate(timeline(range(7)), RunShape(Time(7, "ba"), None))
    assert values.tolist() == [0.0, 0.25, 0.5, 0.75, 1.0, 1.0, 1.0]
    run = Run(max_duration=Time(6, "ba"), schedulers=(scheduler,), dataloader_len=3)
    # The Trainer's one-batch lag: batch k trains with alpha(k - 1), and batch 0 with alpha(0).
    assert collect(simulate(run, mode="trainer"))["multiplier"].tolist() == [0.0, 0.0, 0.25, 0.5, 0.75, 1.0]


# -- a multiplier Composer cannot compute: Python's float power raises where numpy gives inf -----


def test_negative_power_at_the_end_of_the_decay():
    scheduler = PolynomialScheduler(power=-1.0, t_max="10ba")
    assert alpha(scheduler, "10ba", 5) == 2.0  # (1 - 0.5) ** -1
    with pytest.raises(ScheduleError, match="inf at batch 10"):  # 0.0 ** -1: ZeroDivisionError in Composer
        alpha(scheduler, "10ba", 10)
    with pytest.raises(ScheduleError, match="at batch 15"):
        PolynomialWithWarmupScheduler(t_warmup="5ba", power=-0.5, t_max="15ba").evaluate(
            timeline(range(16)), RunShape(Time(15, "ba"), None)
        )


def test_overflowing_decay_factor():
    scheduler = StepScheduler(step_size="1ba", gamma=1e300)
    assert alpha(scheduler, "10ba", 1) == 1e300
    with pytest.raises(ScheduleError, match="inf at batch 2"):  # 1e300 ** 2: OverflowError in Composer
        alpha(scheduler, "10ba", 2)


# -- the Trainer builds and steps every scheduler, not only the last (whose LR wins) -------------
# `_compile_schedulers` builds a LambdaLR per scheduler (each evaluates alpha(0) with the unscaled
# max_duration), and `_train_loop` calls `scheduler.step()` on every one of them after each batch.


def test_a_shadowed_scheduler_that_fails_mid_run_stops_the_trainer():
    # Restart intervals 8, 4, 2, 1, then int(0.5 * 1) = 0 at batch 15: Composer raises ValueError there.
    first = CosineAnnealingWarmRestartsScheduler(t_0="8ba", t_mult=0.5)
    run = Run(max_duration=Time(40, "ba"), schedulers=(first, ConstantScheduler(alpha=0.5)), dataloader_len=10)
    with pytest.raises(ScheduleError, match="decays to 0"):
        collect(simulate(run, mode="trainer"))
    short = Run(max_duration=Time(15, "ba"), schedulers=run.schedulers, dataloader_len=10)
    # Batch 14 trains with the LR set after batch 13; the step after batch 14 is never reached.
    assert collect(simulate(short, mode="trainer"))["multiplier"].tolist() == [0.5] * 15


def test_a_shadowed_scheduler_that_fails_on_construction_stops_the_trainer():
    # Built before max_duration is scaled: t_max = int(40 * 0.5) = 20ba < max_duration 40ba.
    first = CosineAnnealingWithWarmupScheduler(t_warmup="2ba", t_max="40ba")
    run = Run(max_duration=Time(40, "ba"), schedulers=(first, LinearScheduler()), dataloader_len=10)
    with pytest.raises(ScheduleError, match="shorter than max_duration"):
        collect(simulate(run, 0.5, mode="trainer"))
    # At ssr 1 it is valid, and the last scheduler alone sets the LR: Linear over 40 batches.
    lrs = collect(simulate(run, 1.0, mode="trainer"))["multiplier"]
    assert lrs[:4].tolist() == [1.0, 1.0, 1 - 1 / 40, 1 - 2 / 40]
