"""Composer 0.32's thirteen schedulers at hand-computed points.

Every expected value is derived by hand from ``composer/optim/scheduler.py`` (v0.32.1), with the
arithmetic written out in the test. Time conversion (``_convert_time``) there:

- ``dur``: ``int(v * max_duration)`` in max_duration's unit (``int(v * dataloader_len * max_duration)``
  batches when max_duration is in epochs); *not* scaled by ssr;
- ``ep``: ``v * dataloader_len`` batches, then ``int(. * ssr)``;
- ``ba``/``sp``/``tok``: ``int(v * ssr)``.

The warmup schedulers end their warmup at the *unscaled* ``t_warmup``; ``scale_warmup`` only
rescales the ramp (a ``LinearScheduler(0, peak, t_warmup)`` called with ssr).
"""

from __future__ import annotations

import inspect
import math
import warnings

import numpy as np
import pytest

from sched_cli.schedulers import (
    ComposerScheduler,
    ConstantScheduler,
    ConstantWithWarmupScheduler,
    CosineAnnealingScheduler,
    CosineAnnealingWarmRestartsScheduler,
    CosineAnnealingWithWarmupScheduler,
    ExponentialScheduler,
    LinearScheduler,
    LinearWithWarmupScheduler,
    MultiStepScheduler,
    MultiStepWithWarmupScheduler,
    PolynomialScheduler,
    PolynomialWithWarmupScheduler,
    RunShape,
    ScheduleError,
    StepScheduler,
    call_scheduler,
    convert_time,
    takes_ssr,
)
from sched_cli.simulator import Timeline
from sched_cli.state import State
from sched_cli.time import Time, Timestamp, TimeUnit


def cos_anneal(x: float, alpha_f: float = 0.0) -> float:
    """Composer's ``_cosine_anneal``: x clipped to [0, 1]."""
    x = min(max(x, 0.0), 1.0)
    return alpha_f + (1 - alpha_f) * (1 + math.cos(math.pi * x)) / 2


# -- signatures ---------------------------------------------------------------------------------
_REQUIRED = inspect.Parameter.empty

COMPOSER_SIGNATURES = {
    StepScheduler: [("step_size", _REQUIRED), ("gamma", 0.1)],
    MultiStepScheduler: [("milestones", _REQUIRED), ("gamma", 0.1)],
    ConstantScheduler: [("alpha", 1.0), ("t_max", "1dur")],
    LinearScheduler: [("alpha_i", 1.0), ("alpha_f", 0.0), ("t_max", "1dur")],
    ExponentialScheduler: [("gamma", _REQUIRED), ("decay_period", "1ep")],
    CosineAnnealingScheduler: [("t_max", "1dur"), ("alpha_f", 0.0)],
    CosineAnnealingWarmRestartsScheduler: [("t_0", _REQUIRED), ("t_mult", 1.0), ("alpha_f", 0.0)],
    PolynomialScheduler: [("power", _REQUIRED), ("t_max", "1dur"), ("alpha_f", 0.0)],
    MultiStepWithWarmupScheduler: [
        ("t_warmup", _REQUIRED),
        ("milestones", _REQUIRED),
        ("gamma", 0.1),
        ("scale_warmup", False),
    ],
    ConstantWithWarmupScheduler: [("t_warmup", _REQUIRED), ("alpha", 1.0), ("t_max", "1dur"), ("scale_warmup", False)],
    LinearWithWarmupScheduler: [
        ("t_warmup", _REQUIRED),
        ("alpha_i", 1.0),
        ("alpha_f", 0.0),
        ("t_max", "1dur"),
        ("scale_warmup", False),
    ],
    CosineAnnealingWithWarmupScheduler: [
        ("t_warmup", _REQUIRED),
        ("t_max", "1dur"),
        ("alpha_f", 0.0),
        ("scale_warmup", False),
    ],
    PolynomialWithWarmupScheduler: [
        ("t_warmup", _REQUIRED),
        ("power", 2.0),
        ("t_max", "1dur"),
        ("alpha_f", 0.0),
        ("scale_warmup", False),
    ],
}


@pytest.mark.parametrize("cls", list(COMPOSER_SIGNATURES), ids=lambda c: c.__name__)
def test_names_signatures_and_defaults_match_composer(cls):
    params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    assert [(p.name, p.default) for p in params] == COMPOSER_SIGNATURES[cls]
    assert issubclass(cls, ComposerScheduler)
    assert takes_ssr(cls.__new__(cls))  # built-ins accept (state, ssr)


# -- StepScheduler ------------------------------------------------------------------------------
def test_step_in_batches(alpha):
    s = StepScheduler("10ba", gamma=0.5)
    assert alpha(s, "100ba", 0) == 1.0
    assert alpha(s, "100ba", 9) == 1.0
    assert alpha(s, "100ba", 10) == 0.5
    assert alpha(s, "100ba", 25) == 0.5**2
    assert alpha(s, "100ba", 99) == 0.5**9


def test_step_default_gamma(alpha):
    assert alpha(StepScheduler("10ba"), "100ba", 35) == pytest.approx(0.1**3, rel=1e-15)


def test_step_in_epochs_counts_batches(alpha, at):
    # '2ep' with 5 batches per epoch is 2 * 5 = 10 batches
    s = StepScheduler("2ep", gamma=0.5)
    assert alpha(s, "10ep", 9, dataloader_len=5) == 1.0
    assert alpha(s, "10ep", 10, dataloader_len=5) == 0.5
    assert alpha(s, "10ep", 20, dataloader_len=5) == 0.25
    # it is the batch counter that is read, whatever the epoch counter says
    state = State("10ep", dataloader_len=5, timestamp=Timestamp(epoch=0, batch=10))
    assert s(state) == 0.5


def test_step_in_samples_and_tokens(alpha):
    # 16 samples per batch: batch 4 starts at sample 64
    assert alpha(StepScheduler("64sp", 0.5), "1000sp", 3, batch_size=16) == 1.0
    assert alpha(StepScheduler("64sp", 0.5), "1000sp", 4, batch_size=16) == 0.5
    # 4 * 128 = 512 tokens per batch: batch 2 starts at token 1024 >= 1000
    assert alpha(StepScheduler("1000tok"), "1e5tok", 1, batch_size=4, seq_len=128) == 1.0
    assert alpha(StepScheduler("1000tok"), "1e5tok", 2, batch_size=4, seq_len=128) == pytest.approx(0.1)


@pytest.mark.parametrize(
    "max_duration, run, step_batches",
    [
        ("100ba", {}, 25),  # int(0.25 * 100) = 25 batches
        ("4ep", {"dataloader_len": 10}, 10),  # int(0.25 * 10 * 4) = 10 batches
        ("1000sp", {"batch_size": 50}, 5),  # int(0.25 * 1000) = 250 samples = 5 batches of 50
        ("1e4tok", {"batch_size": 10, "seq_len": 50}, 5),  # 2500 tokens = 5 batches of 500
    ],
)
def test_step_in_duration_for_each_max_duration_unit(alpha, max_duration, run, step_batches):
    s = StepScheduler("0.25dur", gamma=0.5)
    assert alpha(s, max_duration, step_batches - 1, **run) == 1.0
    assert alpha(s, max_duration, step_batches, **run) == 0.5
    assert alpha(s, max_duration, 2 * step_batches, **run) == 0.25


def test_step_with_ssr(alpha):
    # int(10 * 0.5) = 5 batches
    assert alpha(StepScheduler("10ba", 0.5), "50ba", 4, ssr=0.5) == 1.0
    assert alpha(StepScheduler("10ba", 0.5), "50ba", 5, ssr=0.5) == 0.5
    # epochs become batches first: int(1 * 10 * 0.75) = 7 batches
    assert alpha(StepScheduler("1ep"), "10ep", 6, ssr=0.75, dataloader_len=10) == 1.0
    assert alpha(StepScheduler("1ep"), "10ep", 7, ssr=0.75, dataloader_len=10) == pytest.approx(0.1)


def test_duration_times_are_not_scaled_by_ssr(alpha):
    # max_duration is already scaled (100ba * 0.5 = 50ba); int(0.25 * 50) = 12, not int(12.5 * 0.5) = 6
    s = StepScheduler("0.25dur", gamma=0.5)
    assert alpha(s, "50ba", 11, ssr=0.5) == 1.0
    assert alpha(s, "50ba", 12, ssr=0.5) == 0.5
    assert alpha(s, "50ba", 6, ssr=0.5) == 1.0


def test_epochs_become_batches_before_ssr_truncation(alpha):
    # '1ep' with 3 batches per epoch and ssr 0.5: int(1 * 3 * 0.5) = 1 batch, not int(1 * 0.5) * 3 = 0
    s = ExponentialScheduler(gamma=0.5, decay_period="1ep")
    assert alpha(s, "5ep", 2, ssr=0.5, dataloader_len=3) == 0.5 ** (2 / 1)


# -- MultiStepScheduler ---------------------------------------------------------------------------
def test_multistep_factor(alpha):
    s = MultiStepScheduler(["10ba", "20ba", "30ba"], gamma=0.3)
    assert alpha(s, "100ba", 9) == 1.0
    assert alpha(s, "100ba", 10) == 1.0 * 0.3
    assert alpha(s, "100ba", 19) == 1.0 * 0.3
    assert alpha(s, "100ba", 20) == 1.0 * 0.3 * 0.3
    assert alpha(s, "100ba", 35) == 1.0 * 0.3 * 0.3 * 0.3  # factor *= gamma, once per milestone


def test_multistep_mixed_units_each_in_its_own_counter(alpha):
    # 1ep = 10 batches; 300sp at 10 samples per batch = batch 30; 0.5dur of 100ba = 50 batches
    s = MultiStepScheduler(["1ep", "300sp", "0.5dur"], gamma=0.5)
    run = {"dataloader_len": 10, "batch_size": 10}
    assert alpha(s, "100ba", 9, **run) == 1.0
    assert alpha(s, "100ba", 10, **run) == 0.5
    assert alpha(s, "100ba", 30, **run) == 0.25
    assert alpha(s, "100ba", 49, **run) == 0.25
    assert alpha(s, "100ba", 50, **run) == 0.125


def test_multistep_with_ssr(alpha):
    # '100ba' * 1.5 = 150 batches; '0.5dur' of the (scaled) 300ba run = 150 batches, unscaled
    s = MultiStepScheduler(["100ba", "0.75dur"], gamma=0.5)
    assert alpha(s, "300ba", 149, ssr=1.5) == 1.0
    assert alpha(s, "300ba", 150, ssr=1.5) == 0.5
    assert alpha(s, "300ba", 224, ssr=1.5) == 0.5
    assert alpha(s, "300ba", 225, ssr=1.5) == 0.25  # int(0.75 * 300)


def test_multistep_rejects_a_single_time():
    with pytest.raises(ScheduleError, match="MultiStepScheduler.*milestones"):
        MultiStepScheduler("10ba")(State("100ba"))  # type: ignore[arg-type]


# -- ConstantScheduler ----------------------------------------------------------------------------
def test_constant(alpha):
    s = ConstantScheduler(alpha=0.5, t_max="10ba")
    assert alpha(s, "100ba", 0) == 0.5
    assert alpha(s, "100ba", 9) == 0.5
    assert alpha(s, "100ba", 10) == 1.0
    assert alpha(s, "100ba", 99) == 1.0


def test_constant_defaults_hold_one_all_run(alpha):
    for batch in (0, 50, 99, 100):
        assert alpha(ConstantScheduler(), "100ba", batch) == 1.0


def test_constant_over_a_fraction_of_an_epoch_run(alpha):
    # int(0.5 * 4 * 10) = 20 batches
    s = ConstantScheduler(alpha=0.25, t_max="0.5dur")
    assert alpha(s, "10ep", 19, dataloader_len=4) == 0.25
    assert alpha(s, "10ep", 20, dataloader_len=4) == 1.0


def test_constant_with_zero_t_max_is_fine(alpha):
    # no division in Composer's ConstantScheduler: t_max 0 means "never active"
    assert alpha(ConstantScheduler(alpha=0.5, t_max="0ba"), "100ba", 0) == 1.0


def test_constant_with_ssr(alpha):
    s = ConstantScheduler(alpha=0.5, t_max="10ba")  # int(10 * 2) = 20
    assert alpha(s, "200ba", 19, ssr=2.0) == 0.5
    assert alpha(s, "200ba", 20, ssr=2.0) == 1.0


# -- LinearScheduler ------------------------------------------------------------------------------
def test_linear(alpha):
    s = LinearScheduler(alpha_i=1.0, alpha_f=0.1, t_max="100ba")
    assert alpha(s, "200ba", 0) == 1.0
    assert alpha(s, "200ba", 25) == pytest.approx(1.0 + 25 / 100 * (0.1 - 1.0), rel=1e-15)
    assert alpha(s, "200ba", 100) == pytest.approx(0.1, rel=1e-15)
    assert alpha(s, "200ba", 150) == pytest.approx(0.1, rel=1e-15)  # tau clipped to 1


def test_linear_defaults_over_the_run(alpha):
    assert alpha(LinearScheduler(), "200ba", 50) == 1.0 + 50 / 200 * (0.0 - 1.0)


def test_linear_in_tokens_with_ssr(alpha):
    # int(1e4 * 0.5) = 5000 tokens; 100 tokens per batch: batch 20 is token 2000
    s = LinearScheduler(alpha_i=0.0, alpha_f=1.0, t_max="1e4tok")
    assert alpha(s, "5e4tok", 20, ssr=0.5, batch_size=10, seq_len=10) == pytest.approx(2000 / 5000, rel=1e-15)


def test_linear_parses_t_max_eagerly_as_composer_does():
    assert LinearScheduler(t_max="10ba").t_max == Time(10, "ba")
    with pytest.raises(TypeError):
        LinearScheduler(t_max="1.5ba")


# -- ExponentialScheduler ---------------------------------------------------------------------------
def test_exponential_default_period_is_an_epoch(alpha):
    s = ExponentialScheduler(gamma=0.5)
    assert alpha(s, "10ep", 0, dataloader_len=4) == 1.0
    assert alpha(s, "10ep", 6, dataloader_len=4) == pytest.approx(0.5 ** (6 / 4), rel=1e-14)
    assert alpha(s, "10ep", 8, dataloader_len=4) == 0.25


def test_exponential_in_samples(alpha):
    s = ExponentialScheduler(gamma=0.9, decay_period="100sp")
    assert alpha(s, "1e4sp", 7, batch_size=32) == pytest.approx(0.9 ** (7 * 32 / 100), rel=1e-14)


def test_exponential_needs_dataloader_len_for_epochs(at):
    with pytest.raises(ScheduleError, match="ExponentialScheduler.*decay_period.*1ep.*dataloader_len") as info:
        ExponentialScheduler(gamma=0.5)(at("100ba", 3))
    assert isinstance(info.value, RuntimeError)  # what Composer raises there


# -- CosineAnnealingScheduler ---------------------------------------------------------------------
def test_cosine(alpha):
    s = CosineAnnealingScheduler(t_max="90ba")
    assert alpha(s, "90ba", 0) == 1.0
    assert alpha(s, "90ba", 45) == pytest.approx(0.5 * (1 + math.cos(math.pi * 45 / 90)), rel=1e-14)
    assert alpha(s, "90ba", 30) == pytest.approx(0.5 * (1 + math.cos(math.pi * 30 / 90)), rel=1e-14)
    assert alpha(s, "90ba", 90) == pytest.approx(0.0, abs=1e-15)
    assert alpha(s, "90ba", 120) == pytest.approx(0.0, abs=1e-15)  # clipped


def test_cosine_alpha_f_and_duration(alpha):
    s = CosineAnnealingScheduler(alpha_f=0.1)  # t_max = 1dur of 2ep * 50 batches = 100 batches
    expected = 0.1 + (1 - 0.1) * 0.5 * (1 + math.cos(math.pi * 30 / 100))
    assert alpha(s, "2ep", 30, dataloader_len=50) == pytest.approx(expected, rel=1e-14)
    assert alpha(s, "2ep", 100, dataloader_len=50) == pytest.approx(0.1, rel=1e-14)


# -- CosineAnnealingWarmRestartsScheduler -----------------------------------------------------------
def test_warm_restarts_t_mult_1(alpha):
    s = CosineAnnealingWarmRestartsScheduler(t_0="10ba")
    assert alpha(s, "100ba", 0) == 1.0
    assert alpha(s, "100ba", 5) == pytest.approx(0.5, rel=1e-14)
    assert alpha(s, "100ba", 9) == pytest.approx(cos_anneal(9 / 10), rel=1e-14)
    assert alpha(s, "100ba", 10) == 1.0  # restart
    assert alpha(s, "100ba", 15) == pytest.approx(0.5, rel=1e-14)
    assert alpha(s, "100ba", 97) == pytest.approx(cos_anneal(7 / 10), rel=1e-14)


def test_warm_restarts_t_mult_2(alpha):
    # cycles [0, 10), [10, 30), [30, 70), [70, 150)
    s = CosineAnnealingWarmRestartsScheduler(t_0="10ba", t_mult=2.0, alpha_f=0.2)
    assert alpha(s, "200ba", 9) == pytest.approx(cos_anneal(9 / 10, 0.2), rel=1e-14)
    assert alpha(s, "200ba", 10) == 1.0
    assert alpha(s, "200ba", 20) == pytest.approx(cos_anneal(10 / 20, 0.2), rel=1e-14)
    assert alpha(s, "200ba", 29) == pytest.approx(cos_anneal(19 / 20, 0.2), rel=1e-14)
    assert alpha(s, "200ba", 30) == 1.0
    assert alpha(s, "200ba", 69) == pytest.approx(cos_anneal(39 / 40, 0.2), rel=1e-14)
    assert alpha(s, "200ba", 70) == 1.0
    assert alpha(s, "200ba", 150) == 1.0
    assert alpha(s, "200ba", 199) == pytest.approx(cos_anneal(49 / 160, 0.2), rel=1e-14)


def test_warm_restarts_fractional_t_mult_truncates_each_length(alpha):
    # lengths 4, int(1.5*4)=6, int(1.5*6)=9, int(1.5*9)=13: starts 0, 4, 10, 19, 32
    s = CosineAnnealingWarmRestartsScheduler(t_0="4ba", t_mult=1.5)
    assert alpha(s, "100ba", 19) == 1.0
    assert alpha(s, "100ba", 25) == pytest.approx(cos_anneal(6 / 13), rel=1e-14)
    assert alpha(s, "100ba", 32) == 1.0


def test_warm_restarts_in_epochs(alpha):
    s = CosineAnnealingWarmRestartsScheduler(t_0="1ep")
    assert alpha(s, "5ep", 25, dataloader_len=10) == pytest.approx(0.5, rel=1e-14)
    assert alpha(s, "5ep", 30, dataloader_len=10) == 1.0


def test_warm_restarts_decaying_interval_raises_when_it_reaches_zero(alpha):
    # lengths 8, 4, 2, 1, then int(0.5 * 1) = 0: cycles start at 0, 8, 12, 14 and the last ends at 15
    s = CosineAnnealingWarmRestartsScheduler(t_0="8ba", t_mult=0.5)
    assert alpha(s, "100ba", 10) == pytest.approx(cos_anneal(2 / 4), rel=1e-14)
    assert alpha(s, "100ba", 13) == pytest.approx(cos_anneal(1 / 2), rel=1e-14)
    assert alpha(s, "100ba", 14) == 1.0
    with pytest.raises(ScheduleError, match="CosineAnnealingWarmRestartsScheduler.*0.5"):
        alpha(s, "100ba", 15)
    with pytest.raises(ValueError):
        alpha(s, "100ba", 40)


def test_warm_restarts_negative_t_mult_fails_fast_instead_of_looping(alpha):
    # Composer's while loop never ends here (the lengths alternate -10, 10, ...); ours raises
    s = CosineAnnealingWarmRestartsScheduler(t_0="10ba", t_mult=-1.0)
    assert alpha(s, "100ba", 5) == pytest.approx(0.5, rel=1e-14)  # the first cycle is fine
    with pytest.raises(ScheduleError, match="t_mult"):
        alpha(s, "100ba", 15)


def test_warm_restarts_vectorized_raises_once_the_timeline_reaches_the_dead_end():
    s = CosineAnnealingWarmRestartsScheduler(t_0="8ba", t_mult=0.5)
    shape = RunShape(Time(100, "ba"))

    def timeline(n):
        b = np.arange(n, dtype=np.int64)
        return Timeline(epoch=np.zeros_like(b), batch=b, sample=b, token=b)

    assert len(s.evaluate(timeline(15), shape)) == 15
    with pytest.raises(ScheduleError):
        s.evaluate(timeline(16), shape)


def test_warm_restarts_zero_t_0_raises(alpha):
    with pytest.raises(ScheduleError, match="t_0"):
        alpha(CosineAnnealingWarmRestartsScheduler(t_0="0ba"), "100ba", 0)


# -- PolynomialScheduler --------------------------------------------------------------------------
def test_polynomial(alpha):
    s = PolynomialScheduler(power=2.0, t_max="100ba", alpha_f=0.1)
    assert alpha(s, "100ba", 0) == 1.0
    assert alpha(s, "100ba", 30) == pytest.approx(0.1 + (1 - 30 / 100) ** 2 * (1 - 0.1), rel=1e-14)
    assert alpha(s, "100ba", 100) == pytest.approx(0.1, rel=1e-14)
    assert alpha(s, "100ba", 130) == pytest.approx(0.1, rel=1e-14)  # tau clipped to 1


def test_polynomial_square_root_over_samples(alpha):
    s = PolynomialScheduler(power=0.5)  # 1dur of 6400 samples
    assert alpha(s, "6400sp", 50, batch_size=64) == pytest.approx((1 - 3200 / 6400) ** 0.5, rel=1e-14)


# -- warmup schedulers ------------------------------------------------------------------------------
def test_multistep_with_warmup(alpha):
    s = MultiStepWithWarmupScheduler(t_warmup="10ba", milestones=["20ba", "40ba"], gamma=0.5)
    assert alpha(s, "100ba", 0) == 0.0
    assert alpha(s, "100ba", 5) == 5 / 10
    assert alpha(s, "100ba", 10) == 1.0
    assert alpha(s, "100ba", 20) == 0.5
    assert alpha(s, "100ba", 40) == 0.25


def test_multistep_with_warmup_milestone_inside_warmup_waits_for_its_end(alpha):
    s = MultiStepWithWarmupScheduler(t_warmup="10ba", milestones=["5ba"], gamma=0.5)
    assert alpha(s, "100ba", 7) == 7 / 10
    assert alpha(s, "100ba", 10) == 0.5


def test_multistep_with_warmup_scale_warmup(alpha):
    # ssr 2: milestones int(20 * 2) = 40; warmup ends at the unscaled 10 batches
    plain = MultiStepWithWarmupScheduler(t_warmup="10ba", milestones=["20ba"], gamma=0.5)
    scaled = MultiStepWithWarmupScheduler(t_warmup="10ba", milestones=["20ba"], gamma=0.5, scale_warmup=True)
    assert alpha(plain, "200ba", 5, ssr=2.0) == 5 / 10
    assert alpha(scaled, "200ba", 5, ssr=2.0) == 5 / 20  # ramp over int(10 * 2) = 20 batches
    assert alpha(scaled, "200ba", 9, ssr=2.0) == 9 / 20  # never reaches 1 inside the warmup
    assert alpha(scaled, "200ba", 10, ssr=2.0) == 1.0
    assert alpha(scaled, "200ba", 39, ssr=2.0) == 1.0
    assert alpha(scaled, "200ba", 40, ssr=2.0) == 0.5
    # ssr 0.5: the ramp runs over int(10 * 0.5) = 5 batches and saturates until batch 10
    assert alpha(scaled, "50ba", 3, ssr=0.5) == 3 / 5
    assert alpha(scaled, "50ba", 7, ssr=0.5) == 1.0
    assert alpha(scaled, "50ba", 10, ssr=0.5) == 0.5  # milestone int(20 * 0.5) = 10
    assert alpha(plain, "50ba", 7, ssr=0.5) == 7 / 10


def test_constant_with_warmup_holds_alpha_after_t_max(alpha):
    s = ConstantWithWarmupScheduler(t_warmup="10ba", alpha=0.5, t_max="100ba")
    assert alpha(s, "100ba", 0) == 0.0
    assert alpha(s, "100ba", 5) == 5 / 10 * 0.5
    assert alpha(s, "100ba", 10) == 0.5
    assert alpha(s, "100ba", 99) == 0.5
    # Composer's docstring says 1.0 after t_max, but it is a LinearWithWarmup from alpha to alpha
    assert alpha(s, "100ba", 150) == 0.5


def test_linear_with_warmup(alpha):
    s = LinearWithWarmupScheduler(t_warmup="10ba", alpha_i=0.8, alpha_f=0.1, t_max="110ba")
    assert alpha(s, "110ba", 0) == 0.0
    assert alpha(s, "110ba", 5) == pytest.approx(5 / 10 * 0.8, rel=1e-15)
    assert alpha(s, "110ba", 10) == 0.8
    assert alpha(s, "110ba", 60) == pytest.approx(0.8 + (60 - 10) / (110 - 10) * (0.1 - 0.8), rel=1e-14)
    assert alpha(s, "110ba", 110) == pytest.approx(0.1, rel=1e-14)


def test_linear_with_warmup_t_max_before_warmup_end_holds_alpha_i(alpha):
    # Composer: frac = 0.0 when t_max <= t_warmup
    s = LinearWithWarmupScheduler(t_warmup="200ba", alpha_i=0.7, t_max="100ba")
    assert alpha(s, "100ba", 150) == 150 / 200 * 0.7
    assert alpha(s, "100ba", 200) == 0.7
    assert alpha(s, "100ba", 500) == 0.7


def test_cosine_with_warmup(alpha):
    s = CosineAnnealingWithWarmupScheduler(t_warmup="10ba", t_max="100ba")
    assert alpha(s, "100ba", 0) == 0.0
    assert alpha(s, "100ba", 4) == 4 / 10
    assert alpha(s, "100ba", 10) == 1.0
    assert alpha(s, "100ba", 55) == pytest.approx(0.5 * (1 + math.cos(math.pi * 45 / 90)), rel=1e-14)
    assert alpha(s, "100ba", 100) == pytest.approx(0.0, abs=1e-15)


def test_polynomial_with_warmup(alpha):
    s = PolynomialWithWarmupScheduler(t_warmup="10ba", t_max="110ba", alpha_f=0.05)  # power 2 by default
    assert alpha(s, "110ba", 3) == 3 / 10
    assert alpha(s, "110ba", 60) == pytest.approx(0.05 + (1 - 50 / 100) ** 2 * (1 - 0.05), rel=1e-14)
    s3 = PolynomialWithWarmupScheduler(t_warmup="10ba", power=3.0, t_max="110ba")
    assert alpha(s3, "110ba", 85) == pytest.approx((1 - 75 / 100) ** 3, rel=1e-14)


@pytest.mark.parametrize(
    "max_duration, run, per_batch",
    [
        # warmup int(0.1 * M), t_max int(1.0 * M), in the unit of M; per_batch: counter per batch
        ("100ba", {}, 1),
        ("10ep", {"dataloader_len": 10}, 1),  # in batches: int(0.1 * 10 * 10) = 10, int(1 * 10 * 10) = 100
        ("1000sp", {"batch_size": 10}, 10),
        ("1e5tok", {"batch_size": 10, "seq_len": 100}, 1000),
    ],
)
def test_cosine_with_warmup_in_duration_for_each_max_duration_unit(alpha, max_duration, run, per_batch):
    s = CosineAnnealingWithWarmupScheduler(t_warmup="0.1dur", alpha_f=0.1)
    # warmup: 10 batches in every case; decay over the next 90 batches
    assert alpha(s, max_duration, 4, **run) == pytest.approx(4 * per_batch / (10 * per_batch), rel=1e-15)
    assert alpha(s, max_duration, 10, **run) == 1.0
    expected = 0.1 + (1 - 0.1) * 0.5 * (1 + math.cos(math.pi * (55 - 10) / (100 - 10)))
    assert alpha(s, max_duration, 55, **run) == pytest.approx(expected, rel=1e-14)
    assert alpha(s, max_duration, 100, **run) == pytest.approx(0.1, rel=1e-14)


def test_warmup_in_epochs_with_t_max_in_duration(alpha):
    # '1ep' -> 10 batches, '1dur' of 5ep -> 50 batches: both in batches
    s = LinearWithWarmupScheduler(t_warmup="1ep")
    assert alpha(s, "5ep", 5, dataloader_len=10) == 5 / 10
    assert alpha(s, "5ep", 30, dataloader_len=10) == pytest.approx(1.0 + (30 - 10) / (50 - 10) * (0.0 - 1.0))


def test_duration_truncation_of_warmup(alpha):
    # 0.29 * 100 is 28.999999999999996 in floating point: Composer's int() makes it 28 batches
    s = CosineAnnealingWithWarmupScheduler(t_warmup="0.29dur")
    warmup = int(0.29 * 100)
    assert warmup == 28
    assert alpha(s, "100ba", 27) == 27 / 28
    assert alpha(s, "100ba", 28) == 1.0


def test_warmup_ends_at_the_unscaled_t_warmup_and_t_max_scales(alpha):
    # ssr 2: warmup stays 10 batches, t_max = int(100 * 2) = 200 batches
    plain = CosineAnnealingWithWarmupScheduler(t_warmup="10ba", t_max="100ba")
    assert alpha(plain, "200ba", 5, ssr=2.0) == 5 / 10
    assert alpha(plain, "200ba", 10, ssr=2.0) == 1.0
    assert alpha(plain, "200ba", 105, ssr=2.0) == pytest.approx(0.5 * (1 + math.cos(math.pi * 95 / 190)), rel=1e-14)


def test_scale_warmup_rescales_the_ramp_only(alpha):
    scaled = CosineAnnealingWithWarmupScheduler(t_warmup="10ba", t_max="100ba", scale_warmup=True)
    # ssr 2: ramp over int(10 * 2) = 20 batches, but the warmup still ends at batch 10
    assert alpha(scaled, "200ba", 5, ssr=2.0) == 5 / 20
    assert alpha(scaled, "200ba", 9, ssr=2.0) == 9 / 20
    assert alpha(scaled, "200ba", 10, ssr=2.0) == 1.0
    # ssr 0.5: ramp over 5 batches, saturated from batch 5 to the end of warmup
    assert alpha(scaled, "50ba", 2, ssr=0.5) == 2 / 5
    assert alpha(scaled, "50ba", 8, ssr=0.5) == 1.0
    # t_max = int(100 * 0.5) = 50
    assert alpha(scaled, "50ba", 30, ssr=0.5) == pytest.approx(0.5 * (1 + math.cos(math.pi * 20 / 40)), rel=1e-14)
    # linear / polynomial / constant warmups behave the same
    lin = LinearWithWarmupScheduler(t_warmup="10ba", alpha_i=0.5, t_max="100ba", scale_warmup=True)
    assert alpha(lin, "200ba", 9, ssr=2.0) == 9 / 20 * 0.5
    const = ConstantWithWarmupScheduler(t_warmup="10ba", alpha=0.5, t_max="100ba", scale_warmup=True)
    assert alpha(const, "200ba", 9, ssr=2.0) == 9 / 20 * 0.5
    poly = PolynomialWithWarmupScheduler(t_warmup="10ba", t_max="100ba", scale_warmup=True)
    assert alpha(poly, "50ba", 8, ssr=0.5) == 1.0


def test_scale_warmup_does_not_touch_a_duration_warmup(alpha):
    # dur times are never scaled by ssr: warmup int(0.1 * 50) = 5 both ways
    for scale in (False, True):
        s = CosineAnnealingWithWarmupScheduler(t_warmup="0.1dur", scale_warmup=scale)
        assert alpha(s, "50ba", 2, ssr=0.5) == 2 / 5


# -- Composer's fail-fast checks -----------------------------------------------------------------
WARMUP_WITH_T_MAX = [
    ConstantWithWarmupScheduler,
    LinearWithWarmupScheduler,
    CosineAnnealingWithWarmupScheduler,
    PolynomialWithWarmupScheduler,
]


@pytest.mark.parametrize("cls", WARMUP_WITH_T_MAX, ids=lambda c: c.__name__)
def test_warmup_and_t_max_unit_mismatch(cls, at):
    with pytest.raises(ScheduleError) as info:
        cls(t_warmup="100sp", t_max="1dur")(at("1000ba"))
    message = str(info.value)
    for part in (cls.__name__, "t_warmup", "100sp", "t_max", "1000ba"):
        assert part in message


@pytest.mark.parametrize("cls", WARMUP_WITH_T_MAX, ids=lambda c: c.__name__)
def test_t_max_shorter_than_max_duration(cls, at):
    with pytest.raises(ScheduleError) as info:
        cls(t_warmup="10ba", t_max="50ba")(at("100ba"))
    message = str(info.value)
    for part in (cls.__name__, "t_max", "50ba", "max_duration", "100ba"):
        assert part in message
    # a fraction of the run under 1 is shorter too
    with pytest.raises(ValueError):
        cls(t_warmup="10ba", t_max="0.9dur")(at("100ba"))
    # max_duration in epochs compares through dataloader_len: 10ep * 10 = 100 batches > 50
    with pytest.raises(ScheduleError, match="50ba"):
        cls(t_warmup="10ba", t_max="50ba")(at("10ep", dataloader_len=10))
    # equal, longer or incomparable units pass
    cls(t_warmup="10ba", t_max="100ba")(at("100ba"))
    cls(t_warmup="10ba", t_max="100ba")(at("10ep", dataloader_len=10))
    cls(t_warmup="10sp", t_max="50sp")(at("100ba"))


def test_t_max_check_sees_the_ssr_scaled_t_max(at):
    # Composer evaluates alpha(0) when compiling, before the Trainer scales max_duration:
    # t_max int(100 * 0.5) = 50ba against the unscaled 100ba is rejected, against 50ba accepted
    s = CosineAnnealingWithWarmupScheduler(t_warmup="10ba", t_max="100ba")
    with pytest.raises(ScheduleError, match="50ba"):
        s(at("100ba"), 0.5)
    assert s(at("50ba", 5), 0.5) == 5 / 10


@pytest.mark.parametrize(
    "scheduler, param, original, converted",
    [
        (StepScheduler("1ba"), "step_size", "1ba", "0ba"),
        (LinearScheduler(t_max="1ba"), "t_max", "1ba", "0ba"),
        (ExponentialScheduler(0.5, decay_period="1sp"), "decay_period", "1sp", "0sp"),
        (CosineAnnealingScheduler(t_max="1tok"), "t_max", "1tok", "0tok"),
        (PolynomialScheduler(2.0, t_max="1ba"), "t_max", "1ba", "0ba"),
        (CosineAnnealingWarmRestartsScheduler(t_0="1ba"), "t_0", "1ba", "0ba"),
        (
            CosineAnnealingWithWarmupScheduler(t_warmup="1ba", t_max="100ba", scale_warmup=True),
            "t_warmup",
            "1ba",
            "0ba",
        ),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, ComposerScheduler) else str(v),
)
def test_durations_truncating_to_zero_raise_instead_of_dividing_by_zero(at, scheduler, param, original, converted):
    # ssr 0.5: int(1 * 0.5) = 0, where Composer would raise ZeroDivisionError
    with pytest.raises(ScheduleError) as info:
        scheduler(at("50ba"), 0.5)
    message = str(info.value)
    for part in (type(scheduler).__name__, param, original, converted):
        assert part in message


def test_duration_fraction_truncating_to_zero_raises(at):
    with pytest.raises(ScheduleError, match="CosineAnnealingScheduler.*t_max.*0.001dur.*0ba"):
        CosineAnnealingScheduler(t_max="0.001dur")(at("100ba"))


@pytest.mark.parametrize(
    "scheduler, param",
    [
        (StepScheduler("10sec"), "step_size"),
        (MultiStepScheduler(["1h30m"]), "milestones"),
        (CosineAnnealingScheduler(t_max="1h"), "t_max"),
        (CosineAnnealingWithWarmupScheduler(t_warmup="30sec"), "t_warmup"),
        (ConstantScheduler(t_max="10sec"), "t_max"),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, ComposerScheduler) else str(v),
)
def test_wall_clock_units_are_rejected(at, scheduler, param):
    with pytest.raises(ScheduleError) as info:
        scheduler(at("100ba"))
    message = str(info.value)
    assert type(scheduler).__name__ in message
    assert param in message
    assert "wall-clock" in message


@pytest.mark.parametrize(
    "scheduler, max_duration",
    [
        (StepScheduler("1ep"), "100ba"),
        (CosineAnnealingWithWarmupScheduler(t_warmup="1ep", t_max="100ba"), "100ba"),
        (CosineAnnealingScheduler(), "10ep"),  # 1dur of a run in epochs needs batches per epoch
        (MultiStepScheduler(["2ep"]), "100ba"),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, ComposerScheduler) else str(v),
)
def test_epochs_without_dataloader_len(at, scheduler, max_duration):
    with pytest.raises(ScheduleError, match=type(scheduler).__name__ + ".*dataloader_len"):
        scheduler(at(max_duration))


@pytest.mark.parametrize(
    "scheduler",
    [
        CosineAnnealingWithWarmupScheduler(t_warmup="0ba"),
        LinearWithWarmupScheduler(t_warmup="0ba"),
        PolynomialWithWarmupScheduler(t_warmup="0ba"),
        ConstantWithWarmupScheduler(t_warmup="0ba"),
        MultiStepWithWarmupScheduler(t_warmup="0ba", milestones=["50ba"]),
        CosineAnnealingWithWarmupScheduler(t_warmup="0.001dur"),  # int(0.001 * 100) = 0
    ],
    ids=lambda s: type(s).__name__,
)
def test_zero_warmup_warns_and_goes_straight_to_the_schedule(at, scheduler):
    with pytest.warns(UserWarning, match="The warmup duration is 0"):
        value = scheduler(at("100ba", 0))
    assert value == 1.0  # t=0 is not < t_warmup=0: no ramp


def test_nonzero_warmup_does_not_warn(at):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        CosineAnnealingWithWarmupScheduler(t_warmup="1ba")(at("100ba", 0))


def test_bad_time_strings_surface_as_value_errors(at):
    with pytest.raises(ValueError):
        StepScheduler("10 batches")(at("100ba"))
    with pytest.raises(ValueError):
        CosineAnnealingScheduler(t_max=10)(at("100ba"))  # type: ignore[arg-type]


# -- convert_time -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "time, shape, ssr, expected",
    [
        ("0.5dur", RunShape(Time(10, "ep"), 7), 3.0, Time(35, "ba")),  # int(0.5 * 7 * 10), no ssr
        ("0.3dur", RunShape(Time(1000, "sp")), 0.5, Time(300, "sp")),
        ("2ep", RunShape(Time(100, "ba"), 7), 0.5, Time(7, "ba")),  # int(2 * 7 * 0.5)
        ("3ep", RunShape(Time(100, "ba"), 7), 1.0, Time(21, "ba")),
        ("15sp", RunShape(Time(100, "ba")), 0.1, Time(1, "sp")),  # int(1.5)
        (Time(99, "tok"), RunShape(Time(100, "ba")), 1.5, Time(148, "tok")),  # int(148.5)
    ],
)
def test_convert_time(time, shape, ssr, expected):
    converted = convert_time(time, shape, ssr)
    assert converted == expected
    assert type(converted.value) is int


# -- custom schedulers: Composer's own docstring examples, as the sample spec ships them ------------
def _docstring_examples():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "sample_specs" / "custom_schedulers.py"
    spec = importlib.util.spec_from_file_location("custom_schedulers_sample", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return [module.ten_epoch_decay_scheduler, module.VariableEpochDecayScheduler(num_epochs=10)]


@pytest.mark.parametrize("scheduler", _docstring_examples(), ids=["function", "class"])
def test_composer_docstring_examples_run_unchanged(scheduler, at):
    assert not takes_ssr(scheduler)
    assert call_scheduler(scheduler, at("20ep", 99, dataloader_len=10)) == 1.0  # epoch 9
    assert call_scheduler(scheduler, at("20ep", 100, dataloader_len=10)) == 0.5  # epoch 10
    with pytest.raises(ScheduleError, match="ssr"):
        call_scheduler(scheduler, at("20ep", 0, dataloader_len=10), 2.0)


def test_call_scheduler_passes_ssr_to_two_argument_schedulers(at):
    seen = []

    def with_ssr(state, ssr):
        seen.append(ssr)
        return 0.25

    assert takes_ssr(with_ssr)
    assert call_scheduler(with_ssr, at("10ba"), 1.5) == 0.25
    assert call_scheduler(with_ssr, at("10ba")) == 0.25
    assert seen == [1.5, 1.0]
    assert call_scheduler(lambda state: 0.5, at("10ba"), 1.0) == 0.5
    with pytest.raises(ValueError):
        call_scheduler(lambda state: 0.5, at("10ba"), 0.5)


def test_base_protocol_is_abstract(at):
    with pytest.raises(NotImplementedError):
        ComposerScheduler()(at("10ba"))


def test_schedule_error_is_a_value_error_and_a_runtime_error():
    assert issubclass(ScheduleError, ValueError)
    assert issubclass(ScheduleError, RuntimeError)


def test_timeunit_of_converted_times():
    # The returned unit is what the formula reads from the timestamp.
    assert convert_time("1ep", RunShape(Time(3, "ep"), 4)).unit is TimeUnit.BATCH
    assert convert_time("1dur", RunShape(Time(3, "tok"))).unit is TimeUnit.TOKEN
