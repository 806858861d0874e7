"""Properties of the schedulers, checked with Hypothesis.

(a) SSR invariance, Composer's own contract (``ComposerScheduler.__call__``'s docstring):
    ``alpha`` at time ``t`` with ssr 1 equals ``alpha`` at ``t * s`` with ssr ``s``, the Trainer having
    scaled ``max_duration`` to ``int(M * s)``. Composer truncates every converted time with ``int``,
    so the property is exact only where every product is a whole number: the tests draw dyadic
    fractions of the run, SSRs ``p / q`` with ``q`` a power of two, and run lengths that are
    multiples of the denominators, so that no truncation happens and no float rounds.
(b) Warmup schedulers give 0 at ``t = 0`` and their peak at ``t = t_warmup``.
(c) Outputs are finite.
(d) The vectorized path (``evaluate`` over a Timeline) equals the scalar path (``scheduler(state, ssr)``)
    point by point, and raises the same error type where the scalar path raises.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import outcome
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from sched_cli.schedulers import (
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
    StepScheduler,
    convert_time,
)
from sched_cli.simulator import Timeline
from sched_cli.state import State
from sched_cli.time import Time, Timestamp

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

multipliers = st.floats(0.0, 2.0, allow_nan=False)
gammas = st.floats(0.01, 1.0, allow_nan=False)
powers = st.floats(0.1, 4.0, allow_nan=False)


# -- strategies ---------------------------------------------------------------------------------
@st.composite
def times(draw, units=("ba", "ep", "sp", "tok", "dur"), at_least_run=False):
    """A time string in one of ``units``; ``at_least_run``: a t_max (dur >= 1)."""
    unit = draw(st.sampled_from(units))
    if unit == "dur":
        low = 1.0 if at_least_run else 0.0
        return f"{draw(st.floats(low, 1.5, allow_nan=False))!r}dur"
    high = {"ba": 300, "ep": 6, "sp": 3000, "tok": 100_000}[unit]
    return f"{draw(st.integers(0, high))}{unit}"


def schedulers(time_strategy=times, t_max_strategy=None, t_mult=st.floats(-2.0, 3.0)):  # noqa: B008
    """Any of the thirteen schedulers with random arguments."""
    t = time_strategy()
    t_max = t_max_strategy() if t_max_strategy is not None else st.one_of(time_strategy(), st.just("1dur"))
    milestones = st.lists(t, max_size=4)
    return st.one_of(
        st.builds(StepScheduler, t, gammas),
        st.builds(MultiStepScheduler, milestones, gammas),
        st.builds(ConstantScheduler, multipliers, t),
        st.builds(LinearScheduler, multipliers, multipliers, t),
        st.builds(ExponentialScheduler, gammas, t),
        st.builds(CosineAnnealingScheduler, t, multipliers),
        st.builds(CosineAnnealingWarmRestartsScheduler, t, t_mult, multipliers),
        st.builds(PolynomialScheduler, powers, t, multipliers),
        warmup_schedulers(time_strategy, t_max),
    )


def warmup_schedulers(time_strategy=times, t_max=None, milestones=None):
    t = time_strategy()
    t_max = t_max if t_max is not None else st.one_of(time_strategy(), st.just("1dur"))
    milestones = milestones if milestones is not None else st.lists(t, max_size=3)
    scale = st.booleans()
    return st.one_of(
        st.builds(MultiStepWithWarmupScheduler, t, milestones, gammas, scale),
        st.builds(ConstantWithWarmupScheduler, t, multipliers, t_max, scale),
        st.builds(LinearWithWarmupScheduler, t, multipliers, multipliers, t_max, scale),
        st.builds(CosineAnnealingWithWarmupScheduler, t, t_max, multipliers, scale),
        st.builds(PolynomialWithWarmupScheduler, t, powers, t_max, multipliers, scale),
    )


@st.composite
def run_shapes(draw):
    """(max_duration, dataloader_len, batch_size, seq_len), any unit, sometimes no epoch length."""
    unit = draw(st.sampled_from(["ep", "ba", "sp", "tok"]))
    value = draw(
        {
            "ep": st.integers(1, 8),
            "ba": st.integers(1, 400),
            "sp": st.integers(1, 5000),
            "tok": st.integers(1, 200_000),
        }[unit]
    )
    dataloader_len = draw(st.one_of(st.none(), st.integers(1, 60)))
    return Time(value, unit), dataloader_len, draw(st.integers(1, 64)), draw(st.integers(1, 256))


ssrs = st.one_of(st.sampled_from([1.0, 0.5, 0.25, 0.75, 1.5, 2.0, 3.0]), st.floats(0.05, 4.0))


# -- (d) and (c): vectorized == scalar, and finite ------------------------------------------------
@SETTINGS
@given(
    scheduler=schedulers(),
    shape=run_shapes(),
    ssr=ssrs,
    batches=st.lists(st.integers(0, 2000), min_size=1, max_size=40),
)
def test_vectorized_path_equals_scalar_path(scheduler, shape, ssr, batches):
    max_duration, dataloader_len, batch_size, seq_len = shape
    b = np.array(sorted(set(batches)), dtype=np.int64)
    epoch = b // dataloader_len if dataloader_len else np.zeros_like(b)
    timeline = Timeline(epoch=epoch, batch=b, sample=b * batch_size, token=b * batch_size * seq_len)

    vector, vector_error = outcome(lambda: scheduler.evaluate(timeline, RunShape(max_duration, dataloader_len), ssr))
    scalars = [
        outcome(lambda i=i: scheduler(State(max_duration, dataloader_len, timeline.timestamp(i)), ssr))
        for i in range(len(b))
    ]
    scalar_errors = {error for _, error in scalars if error is not None}

    event(f"vectorized: {vector_error.__name__ if vector_error else 'values'}")
    if vector_error is not None:
        # the same error, raised by the scalar path at least where the timeline reaches it
        assert scalar_errors == {vector_error}
        return
    assert not scalar_errors, f"scalar path raised {scalar_errors}, vectorized path did not"
    assert vector.shape == b.shape
    assert vector.dtype == np.float64
    assert np.all(np.isfinite(vector))
    for i, (value, _) in enumerate(scalars):
        assert isinstance(value, float)
        assert math.isfinite(value)
        assert abs(vector[i] - value) <= 1e-12, (i, int(b[i]), vector[i], value)


# -- (a) SSR invariance ---------------------------------------------------------------------------
@st.composite
def exact_runs(draw):
    """A grid where no conversion truncates: (D, ssr, q, p, M) with ssr = p / q, M = D * q * c.

    Fractions of the run are j / D (D a power of two, so exact in binary), and an ssr of p / q
    with q a power of two is exact too, so j / D * M and M * ssr are exact whole numbers.
    """
    denominator = 2 ** draw(st.integers(0, 5))
    q = draw(st.sampled_from([1, 2, 4]))
    p = draw(st.integers(1, 12))
    c = draw(st.integers(1, 4))
    return denominator, p / q, q, p, denominator * q * c


def dur_times(denominator):
    def make(at_least_run=False):
        low = denominator if at_least_run else 0
        return st.integers(low, denominator + denominator // 2).map(lambda j: f"{j / denominator!r}dur")

    return make


@SETTINGS
@given(data=st.data(), grid=exact_runs())
def test_duration_schedules_stretch_with_ssr(data, grid):
    """alpha_ssr(M' = M * ssr, t * ssr) == alpha_1(M, t) for schedulers built only from 'dur' times."""
    denominator, ssr, q, p, run_batches = grid
    make = dur_times(denominator)
    scheduler = data.draw(
        schedulers(
            lambda: make(), t_max_strategy=lambda: make(at_least_run=True), t_mult=st.sampled_from([1.0, 2.0, 3.0])
        )
    )
    s = data.draw(st.integers(0, run_batches // q + 2))  # t = q * s runs past the end a little
    scaled_run = int(run_batches * ssr)
    assert scaled_run == run_batches // q * p  # the grid really is exact

    def at(max_duration, batch):
        return State(Time(max_duration, "ba"), None, Timestamp(batch=batch, sample=batch, token=batch))

    plain, plain_error = outcome(lambda: scheduler(at(run_batches, q * s), 1.0))
    stretched, stretched_error = outcome(lambda: scheduler(at(scaled_run, p * s), ssr))
    event(f"dur stretch: {plain_error.__name__ if plain_error else 'values'}")
    assert plain_error == stretched_error
    if plain_error is None:
        assert abs(plain - stretched) <= 1e-12, (plain, stretched)


@st.composite
def _scaled_integer_time(draw, q, dataloader_len, denominator):
    unit = draw(st.sampled_from(["ba", "sp", "tok", "ep", "dur"]))
    if unit == "dur":
        return f"{draw(st.integers(0, denominator + denominator // 2)) / denominator!r}dur"
    if unit == "ep":
        return f"{draw(st.integers(0, 4))}ep"  # v * dataloader_len * p / q is whole: dataloader_len % q == 0
    return f"{q * draw(st.integers(0, 60))}{unit}"


@SETTINGS
@given(data=st.data(), grid=exact_runs())
def test_non_warmup_schedules_stretch_with_ssr_in_every_unit(data, grid):
    """Composer's docstring contract for the schedulers without a warmup, times in any unit.

    Times in ba/sp/tok are multiples of q and the epoch length is a multiple of q, so that
    ``int(v * ssr)`` truncates nothing. (The warmup schedulers break this contract on purpose:
    their warmup ends at the unscaled t_warmup.)
    """
    denominator, ssr, q, p, run_batches = grid
    dataloader_len = q * data.draw(st.integers(1, 8))

    def t():
        return _scaled_integer_time(q, dataloader_len, denominator)

    milestones = st.lists(t(), max_size=4)
    scheduler = data.draw(
        st.one_of(
            st.builds(StepScheduler, t(), gammas),
            st.builds(MultiStepScheduler, milestones, gammas),
            st.builds(ConstantScheduler, multipliers, t()),
            st.builds(LinearScheduler, multipliers, multipliers, t()),
            st.builds(ExponentialScheduler, gammas, t()),
            st.builds(CosineAnnealingScheduler, t(), multipliers),
            st.builds(CosineAnnealingWarmRestartsScheduler, t(), st.sampled_from([1.0, 2.0]), multipliers),
            st.builds(PolynomialScheduler, powers, t(), multipliers),
        )
    )
    s = data.draw(st.integers(0, run_batches // q + 2))
    scaled_run = run_batches // q * p

    def at(max_duration, batch):
        # one sample and one token per batch; epochs counted from the batch
        return State(
            Time(max_duration, "ba"),
            dataloader_len,
            Timestamp(epoch=batch // dataloader_len, batch=batch, sample=batch, token=batch),
        )

    plain, plain_error = outcome(lambda: scheduler(at(run_batches, q * s), 1.0))
    stretched, stretched_error = outcome(lambda: scheduler(at(scaled_run, p * s), ssr))
    event(f"unit stretch: {plain_error.__name__ if plain_error else 'values'}")
    assert plain_error == stretched_error
    if plain_error is None:
        assert abs(plain - stretched) <= 1e-12, (scheduler, plain, stretched)


def test_warmup_schedules_break_the_stretch_contract_as_composer_does():
    # The counterexample that (a) would find for the warmup schedulers: the warmup is not stretched.
    s = CosineAnnealingWithWarmupScheduler(t_warmup="10ba", t_max="100ba")
    plain = s(State("100ba", timestamp=Timestamp(batch=10)), 1.0)
    stretched = s(State("200ba", timestamp=Timestamp(batch=20)), 2.0)
    assert plain == 1.0
    assert stretched != plain


# -- (b) warmup: 0 at the start, peak at t_warmup ---------------------------------------------------
@SETTINGS
@given(
    scheduler=warmup_schedulers(),
    shape=run_shapes(),
    ssr=ssrs,
)
def test_warmup_starts_at_zero_and_peaks_at_t_warmup(scheduler, shape, ssr):
    max_duration, dataloader_len, _, _ = shape
    run = RunShape(max_duration, dataloader_len)
    tw, error = outcome(lambda: convert_time(scheduler.t_warmup, run))
    if error is not None or tw.value == 0:
        event("warmup: no warmup")
        return  # no warmup to check (epochs without dataloader_len, or a warmup of 0)

    def at(counter):
        # every counter at the same value: the scheduler reads the one in t_warmup's unit
        return State(max_duration, dataloader_len, Timestamp(batch=counter, sample=counter, token=counter))

    start, start_error = outcome(lambda: scheduler(at(0), ssr))
    if start_error is not None:
        event("warmup: rejected")
        return
    event("warmup: checked")  # a check on t_max or the ramp failed: covered by the scheduler tests
    assert start == 0.0

    peak, peak_error = outcome(lambda: scheduler(at(tw.value), ssr))
    if isinstance(scheduler, MultiStepWithWarmupScheduler):
        # once warmed up, it is Composer's MultiStepScheduler, errors included
        expected, expected_error = outcome(
            lambda: MultiStepScheduler(scheduler.milestones, scheduler.gamma)(at(tw.value), ssr)
        )
        assert peak_error == expected_error
        if expected_error is not None:
            return
    elif isinstance(scheduler, ConstantWithWarmupScheduler):
        expected = scheduler.alpha
    elif isinstance(scheduler, LinearWithWarmupScheduler):
        expected = scheduler.alpha_i
    else:
        expected = 1.0  # cosine and polynomial: tau_w = 0
    assert peak_error is None
    assert peak == pytest.approx(expected, abs=1e-12)

    if not scheduler.scale_warmup and tw.value > 1:
        # one step before the end, without scale_warmup: (t_warmup - 1) / t_warmup of the peak
        peak_of_ramp = getattr(scheduler, "alpha_i", 1.0)
        last, _ = outcome(lambda: scheduler(at(tw.value - 1), ssr))
        assert last == pytest.approx((tw.value - 1) / tw.value * peak_of_ramp, abs=1e-12)


@SETTINGS
@given(scheduler=schedulers(), shape=run_shapes(), ssr=ssrs, batch=st.integers(0, 10**6))
def test_outputs_are_finite_floats(scheduler, shape, ssr, batch):
    max_duration, dataloader_len, batch_size, seq_len = shape
    ts = Timestamp(
        epoch=batch // dataloader_len if dataloader_len else 0,
        batch=batch,
        sample=batch * batch_size,
        token=batch * batch_size * seq_len,
    )
    value, error = outcome(lambda: scheduler(State(max_duration, dataloader_len, ts), ssr))
    if error is None:
        assert isinstance(value, float)
        assert math.isfinite(value)
    else:
        assert issubclass(error, ValueError)  # ScheduleError, or a malformed time (never a crash)
