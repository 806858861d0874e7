"""DeepSpeed's schedules (sched_cli.schedulers.deepspeed): hand-computed LRs, quirks, and the two paths agreeing.

Values below are worked out by hand from DeepSpeed 0.19's ``lr_schedules.py`` with the engine's
stepping (update k trains with the LR after k ``step()`` calls; k = 0 is the constructor's LR).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sched_cli import registry
from sched_cli.schedulers.base import ScheduleError
from sched_cli.schedulers.deepspeed import (
    DS_SCHEDULERS,
    DSLRRangeTest,
    DSOneCycle,
    DSWarmupCosineLR,
    DSWarmupDecayLR,
    DSWarmupLR,
    warmup_clock,
    warmup_span,
    warmup_steps_of,
)
from sched_cli.simulator import Run, collect, simulate
from sched_cli.time import Time


class _Counters:
    def __init__(self, k: np.ndarray) -> None:
        self.k = np.asarray(k)

    def get(self, unit):  # noqa: ANN001, ANN201 - the Counters protocol
        return self.k


def lrs(scheduler, n: int) -> np.ndarray:  # noqa: ANN001
    from sched_cli.schedulers.base import RunShape

    return scheduler.learning_rates(_Counters(np.arange(n)), RunShape(Time.from_timestring(f"{n}ba")))


def test_warmup_lr_log_first_two_updates_at_the_minimum_and_peak_after_w_plus_one():
    s = DSWarmupLR(warmup_min_lr=0.0, warmup_max_lr=1.0, warmup_num_steps=4)
    got = lrs(s, 7)
    assert got[0] == 0.0 and got[1] == 0.0  # the constructor's value, then log(1) = 0
    assert got[2] == pytest.approx(math.log(2) / math.log(4))  # 0.5
    assert got[2] == pytest.approx(0.5, abs=1e-15)
    assert got[3] == pytest.approx(math.log(3) / math.log(4))
    assert got[4] == pytest.approx(1.0)  # log(4)/log(4)
    assert got[5] == 1.0 and got[6] == 1.0  # held


def test_warmup_lr_linear_and_the_minimum_warmup_of_two_steps():
    assert list(lrs(DSWarmupLR(0.0, 1.0, 4, "linear"), 6)) == [0.0, 0.0, 0.25, 0.5, 0.75, 1.0]
    # warmup_num_steps 1 is taken as 2 (DeepSpeed's max(2, ...)).
    assert list(lrs(DSWarmupLR(0.0, 1.0, 1, "linear"), 4)) == [0.0, 0.0, 0.5, 1.0]


def test_warmup_lr_min_and_max_and_unknown_type_read_as_log():
    got = lrs(DSWarmupLR(0.2, 1.0, 4, "linear"), 3)
    assert got[2] == pytest.approx(0.2 + 0.8 * 0.25)
    weird = DSWarmupLR(0.0, 1.0, 4, "cosine")
    assert lrs(weird, 3)[2] == pytest.approx(0.5)  # log: log(2)/log(4)


def test_warmup_lr_max_defaults_to_the_lr():
    s = DSWarmupLR(warmup_num_steps=2, warmup_type="linear", lr=3e-4)
    assert lrs(s, 4)[-1] == pytest.approx(3e-4)
    assert s.base_lr == 3e-4
    with pytest.raises(ScheduleError, match="warmup_max_lr"):
        DSWarmupLR()


def test_warmup_decay_lr_decays_to_zero_one_step_late():
    s = DSWarmupDecayLR(
        total_num_steps=10, warmup_min_lr=0.0, warmup_max_lr=1.0, warmup_num_steps=4, warmup_type="linear"
    )
    got = lrs(s, 13)
    assert got[5] == 1.0  # i = 4 = w: (10 - 4) / (10 - 4)
    assert got[6] == pytest.approx(5 / 6)
    assert got[10] == pytest.approx(1 / 6)
    assert got[11] == 0.0 and got[12] == 0.0  # i = 10, then max(0, negative)


def test_warmup_cosine_lr_starts_at_zero_and_clamps_at_the_end():
    s = DSWarmupCosineLR(
        total_num_steps=10, warmup_min_ratio=0.1, warmup_num_steps=4, cos_min_ratio=0.0, warmup_type="linear", lr=2.0
    )
    got = lrs(s, 16)
    assert got[0] == 0.0  # get_lr() before any step: 0.0
    assert got[1] == pytest.approx(0.2)  # 0.1 of the LR
    assert got[2] == pytest.approx(2.0 * (0.1 + 0.25 * 0.9))
    assert got[5] == pytest.approx(2.0 * (1 + math.cos(math.pi / 6)) / 2)
    assert got[10] == pytest.approx(0.0, abs=1e-15)
    assert np.all(got[10:] == got[10])  # progress clamped to 1: no oscillation back up
    with pytest.raises(ScheduleError, match="optimizer"):
        DSWarmupCosineLR(total_num_steps=10)


def test_one_cycle_up_down_then_decay():
    s = DSOneCycle(cycle_min_lr=0.1, cycle_max_lr=1.0, cycle_first_step_size=4)
    got = lrs(s, 11)
    assert got[0] == 0.1
    assert got[2] == pytest.approx(0.55)
    assert got[4] == pytest.approx(1.0)
    assert got[6] == pytest.approx(0.55)
    assert got[8] == pytest.approx(0.1)
    assert got[9] == 0.1 and got[10] == 0.1  # no decay without decay_lr_rate
    decayed = lrs(DSOneCycle(0.1, 1.0, decay_lr_rate=0.5, cycle_first_step_size=4, decay_step_size=2), 11)
    assert decayed[9] == pytest.approx(0.1 / 1.25)
    assert decayed[10] == pytest.approx(0.1 / 1.5)


def test_one_cycle_stairs():
    got = lrs(DSOneCycle(0.1, 1.0, cycle_first_step_size=4, cycle_first_stair_count=2), 9)
    assert got[1] == pytest.approx(0.1)  # floor(0.5) / 2
    assert got[2] == pytest.approx(0.55) and got[3] == pytest.approx(0.55)
    assert got[4] == pytest.approx(1.0)
    assert got[5] == pytest.approx(0.55)  # going down: floor((8 - 5) * 2 / 4) / 2


def test_lr_range_test_continuous_and_staircase():
    cont = lrs(DSLRRangeTest(0.01, 10, 2.0), 26)
    stair = lrs(DSLRRangeTest(0.01, 10, 2.0, True), 26)
    assert cont[0] == 0.01 and stair[0] == 0.01
    assert cont[5] == pytest.approx(0.02) and stair[5] == pytest.approx(0.01)
    assert cont[10] == pytest.approx(0.03) and stair[10] == pytest.approx(0.03)
    assert cont[25] == pytest.approx(0.06) and stair[25] == pytest.approx(0.05)


def test_every_type_is_registered_under_its_names():
    for name, cls in DS_SCHEDULERS.items():
        assert registry.lookup(f"ds:{name}").cls is cls
    assert registry.lookup("deepspeed_warmup_cosine_lr").cls is DSWarmupCosineLR
    assert registry.lookup("deepspeed_lr_range_test").cls is DSLRRangeTest
    assert registry.lookup("deepspeed_one_cycle").cls is DSOneCycle


def test_bad_arguments_are_refused():
    with pytest.raises(ScheduleError, match="warmup_num_steps"):
        DSWarmupLR(warmup_max_lr=1.0, warmup_num_steps=0)
    with pytest.raises(ScheduleError, match="warmup_num_steps"):
        DSWarmupLR(warmup_max_lr=1.0, warmup_num_steps=2.5)
    with pytest.raises(ScheduleError, match="ssr"):
        s = DSWarmupLR(warmup_max_lr=1.0)
        s.resolve(None, 2.0)


def test_simulated_run_gives_the_lr_column_and_skipped_steps_shift_it():
    s = DSWarmupLR(0.0, 1.0, 4, "linear")
    run = Run(max_duration="8ba", schedulers=(s,), lr=1.0, trainer="deepspeed")
    rows = collect(simulate(run, mode="trainer"))
    assert list(rows["lr"]) == [0.0, 0.0, 0.25, 0.5, 0.75, 1.0, 1.0, 1.0]
    # No step after updates 0 and 1: update k has seen k - 2 steps from update 2 on.
    skipped = Run(max_duration="8ba", schedulers=(s,), lr=1.0, trainer="deepspeed", skipped_steps=(0, 1))
    rows = collect(simulate(skipped, mode="trainer"))
    assert list(rows["lr"]) == [0.0, 0.0, 0.0, 0.0, 0.25, 0.5, 0.75, 1.0]


_TYPES = st.sampled_from(["log", "linear"])


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 50),
    st.floats(0, 1e-3),
    st.floats(1e-3, 1.0),
    _TYPES,
    st.integers(1, 200),
    st.integers(0, 120),
)
def test_scalar_and_vectorized_paths_agree(warmup, low, high, kind, total, k):
    from tests.conftest import state_at

    for s in (
        DSWarmupLR(low, high, warmup, kind),
        DSWarmupDecayLR(total, low, high, warmup, kind),
        DSWarmupCosineLR(total, 0.1, warmup, 0.01, kind, lr=high),
        DSOneCycle(low, high, 0.1, warmup, None, 0, None, 3),
        DSLRRangeTest(high, warmup, 0.5),
    ):
        vector = lrs(s, k + 1)[k] / s.base_lr
        assert s(state_at(f"{k + 1}ba", k)) == vector


@pytest.mark.parametrize("kind", ["log", "linear"])
def test_the_warmups_clock_and_its_inverse(kind):
    # g(i) = clock(i) / span(w): ln(i + 1) / ln w (log) or i / w (linear), and the span gives w back
    # (what sched check solves from two logged points).
    w = 37
    i = np.arange(w)
    fraction = warmup_clock(i, kind) / warmup_span(w, kind)
    by_hand = [math.log(k + 1) / math.log(w) if kind == "log" else k / w for k in range(w)]
    np.testing.assert_allclose(fraction, by_hand, rtol=1e-15, atol=0)
    assert warmup_steps_of(warmup_span(w, kind), kind) == pytest.approx(w, rel=1e-14)
    # the span between two points of the warmup, over their fractions' difference
    span = (warmup_clock(20, kind) - warmup_clock(5, kind)) / (by_hand[20] - by_hand[5])
    assert warmup_steps_of(float(span), kind) == pytest.approx(w, rel=1e-12)
