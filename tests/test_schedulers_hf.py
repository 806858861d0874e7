"""Hugging Face's schedule types (sched_cli/schedulers/hf.py): values worked out by hand from the
formulas in transformers/optimization.py, warmup steps as TrainingArguments computes them, the
scalar and vectorized paths agreeing, and HF's own argument checks."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sched_cli import registry
from sched_cli.schedulers import RunShape, ScheduleError, hf
from sched_cli.simulator import Timeline
from sched_cli.state import State
from sched_cli.time import Time, Timestamp


def at(scheduler, total: int, k: int) -> float:
    """The scalar path: the factor at update ``k`` of a run of ``total`` updates."""
    return scheduler(State(f"{total}ba", None, Timestamp(batch=k)), 1.0)


def curve(scheduler, total: int) -> np.ndarray:
    """The vectorized path over every update of the run."""
    k = np.arange(total, dtype=np.int64)
    return scheduler.evaluate(Timeline(epoch=0 * k, batch=k, sample=k, token=k), RunShape(Time(total, "ba")))


@pytest.mark.parametrize(
    ("warmup_steps", "total", "expected"),
    [(0, 100, 0), (10, 100, 10), (2.7, 100, 2), (1, 5, 1), (0.1, 95, 10), (0.99, 5, 5), (0.5, 3, 2), (0.05, 10, 1)],
)
def test_warmup_steps_are_whole_updates_or_a_ratio_rounded_up(warmup_steps, total, expected):
    assert hf.hf_warmup_steps(warmup_steps, total) == expected


def test_linear_by_hand():
    s = hf.HFLinearScheduler(warmup_steps=2)
    # warmup k/2, then (10 - k) / 8
    assert [at(s, 10, k) for k in (0, 1, 2, 6, 9)] == [0.0, 0.5, 1.0, 0.5, 0.125]


def test_cosine_by_hand():
    s = hf.HFCosineScheduler()
    assert at(s, 10, 0) == 1.0
    assert at(s, 10, 5) == pytest.approx(0.5, abs=1e-15)
    two = hf.HFCosineScheduler(num_cycles=1.0)  # a full wave: back to 1 at the end
    assert at(two, 10, 5) == pytest.approx(0.0, abs=1e-15)


def test_cosine_with_restarts_by_hand():
    s = hf.HFCosineWithRestartsScheduler(num_cycles=2)
    # p = k/12; (2p mod 1) = 0.5 at k=3 (halfway down), 0 at k=6 (restart)
    assert at(s, 12, 3) == pytest.approx(0.5, abs=1e-15)
    assert at(s, 12, 6) == 1.0
    assert at(s, 12, 5) < at(s, 12, 6)
    assert [b.label for b in s.breakpoints(s.resolve(RunShape(Time(12, "ba")), 1.0))] == [
        "restart 1",
        "num_training_steps",
    ]


def test_polynomial_by_hand():
    square = hf.HFPolynomialScheduler(lr_init=1.0, lr_end=0.0, power=2.0)
    assert at(square, 10, 5) == 0.25  # (1 - 5/10)^2
    line = hf.HFPolynomialScheduler(lr_init=1.0, lr_end=0.1, warmup_steps=2)
    assert at(line, 10, 1) == 0.5
    assert at(line, 10, 6) == pytest.approx(0.9 * 0.5 + 0.1, abs=1e-15)  # pct remaining (10-6)/8
    # the factor is an LR ratio: lr_end 1e-5 of lr 1e-4 ends at 0.1 (just past the run)
    tenth = hf.HFPolynomialScheduler(lr_init=1e-4, lr_end=1e-5)
    assert at(tenth, 10, 10) == pytest.approx(0.1)
    assert at(tenth, 10, 11) == 1e-5 / 1e-4


def test_polynomial_rejects_what_hf_rejects():
    with pytest.raises(ScheduleError, match=r"lr_end \(0.001\) must be smaller than initial lr \(0.001\)"):
        hf.HFPolynomialScheduler(lr_init=1e-3, lr_end=1e-3)
    whole_run_warmup = hf.HFPolynomialScheduler(lr_init=1.0, warmup_steps=0.99)
    with pytest.raises(ScheduleError, match="divides by zero"):
        at(whole_run_warmup, 5, 0)  # w = ceil(4.95) = 5 = T: the step after the last update fails


def test_constant_types_by_hand():
    assert at(hf.HFConstantScheduler(), 10, 7) == 1.0
    warm = hf.HFConstantWithWarmupScheduler(warmup_steps=4)
    assert [at(warm, 10, k) for k in (0, 1, 3, 4, 9)] == [0.0, 0.25, 0.75, 1.0, 1.0]


def test_inverse_sqrt_by_hand():
    s = hf.HFInverseSqrtScheduler(warmup_steps=4)  # timescale defaults to the warmup
    assert at(s, 100, 2) == 0.5
    assert at(s, 100, 4) == 1.0
    assert at(s, 100, 12) == pytest.approx(1 / math.sqrt(3), abs=1e-15)
    no_warmup = hf.HFInverseSqrtScheduler()  # timescale 10000, shift 10000
    assert at(no_warmup, 40000, 30000) == 0.5
    scaled = hf.HFInverseSqrtScheduler(warmup_steps=4, timescale=1)  # shift -3
    assert at(scaled, 100, 7) == 0.5


def test_cosine_with_min_lr_by_hand():
    rate = hf.HFCosineWithMinLRScheduler(min_lr_rate=0.1)
    assert at(rate, 10, 5) == pytest.approx(0.55, abs=1e-15)  # 0.5 * 0.9 + 0.1
    absolute = hf.HFCosineWithMinLRScheduler(min_lr=1e-5, lr_init=1e-4)
    assert at(absolute, 10, 5) == pytest.approx(0.55, abs=1e-15)
    with pytest.raises(ScheduleError, match="Only one of min_lr or min_lr_rate"):
        hf.HFCosineWithMinLRScheduler(min_lr=1e-5, min_lr_rate=0.1, lr_init=1e-4)
    with pytest.raises(ScheduleError, match="One of min_lr or min_lr_rate should be set"):
        hf.HFCosineWithMinLRScheduler()


def test_cosine_warmup_with_min_lr_is_one_update_ahead():
    s = hf.HFCosineWarmupWithMinLRScheduler(warmup_steps=4, min_lr_rate=0.2)
    # warmup (k + 1) / 4: it starts above 0 and reaches 1 at the last warmup update
    assert [at(s, 12, k) for k in range(4)] == [0.25, 0.5, 0.75, 1.0]
    # decay progress (k - 4 + 1) / 8: the floor at the last update, k = 11
    assert at(s, 12, 11) == pytest.approx(0.2, abs=1e-15)
    assert at(s, 12, 7) == pytest.approx(0.5 * 0.8 + 0.2, abs=1e-15)  # p = 0.5
    rated = hf.HFCosineWarmupWithMinLRScheduler(warmup_steps=4, min_lr_rate=0.0, warmup_lr_rate=0.1)
    assert at(rated, 12, 0) == 0.1
    assert at(rated, 12, 3) == 1.0  # 0.1 + 0.9 * 3 / 3


def test_warmup_stable_decay_by_hand():
    s = hf.HFWarmupStableDecayScheduler(num_decay_steps=4, warmup_steps=2)  # stable 10 - 2 - 4 = 4
    values = [at(s, 10, k) for k in range(10)]
    assert values[:6] == [0.0, 0.5, 1.0, 1.0, 1.0, 1.0]
    assert values[6] == 1.0 and values[8] == pytest.approx(0.5, abs=1e-15)
    floor = hf.HFWarmupStableDecayScheduler(num_decay_steps=4, warmup_steps=2, decay_type="linear", min_lr_ratio=0.2)
    assert at(floor, 10, 0) == 0.2  # the warmup starts at the floor too
    assert at(floor, 10, 8) == pytest.approx(0.6, abs=1e-15)  # (1 - 0.5) * 0.8 + 0.2
    assert at(floor, 12, 11) == pytest.approx(0.4, abs=1e-15)  # stable 12 - 2 - 4 = 6: p = 3/4 at k = 11
    short = hf.HFWarmupStableDecayScheduler(num_decay_steps=4, warmup_steps=2, num_stable_steps=2, min_lr_ratio=0.2)
    assert at(short, 12, 8) == 0.2 and at(short, 12, 11) == 0.2  # past warmup + stable + decay: the floor
    sqrt = hf.HFWarmupStableDecayScheduler(num_decay_steps=4, warmup_steps=4, warmup_type="1-sqrt", decay_type="1-sqrt")
    assert at(sqrt, 12, 3) == pytest.approx(0.5, abs=1e-15)  # 1 - sqrt(1 - 3/4)
    assert at(sqrt, 12, 9) == pytest.approx(0.5, abs=1e-15)  # 1 - sqrt(1/4)
    with pytest.raises(ScheduleError, match="Unknown decay type"):
        hf.HFWarmupStableDecayScheduler(num_decay_steps=4, decay_type="step")


@pytest.mark.parametrize("name", sorted(hf.HF_SCHEDULERS))
def test_scalar_and_vectorized_paths_agree_bit_for_bit(name):
    extra = {
        "polynomial": {"lr_init": 1e-3, "power": 2.0},
        "cosine_with_min_lr": {"min_lr_rate": 0.1},
        "cosine_warmup_with_min_lr": {"min_lr_rate": 0.1},
        "warmup_stable_decay": {"num_decay_steps": 7},
    }.get(name, {})
    cls = hf.HF_SCHEDULERS[name]
    s = cls(**extra) if name == "constant" else cls(warmup_steps=0.1, **extra)
    values = curve(s, 53)
    assert values.tolist() == [at(s, 53, k) for k in range(53)]


def test_registered_under_their_hf_names():
    for name, cls in hf.HF_SCHEDULERS.items():
        assert registry.lookup(f"hf:{name}").cls is cls
        assert registry.lookup(f"hf_{name}").cls is cls
    assert "reduce_lr_on_plateau" in hf.NOT_PREVIEWABLE and "reduce_lr_on_plateau" not in hf.HF_SCHEDULERS


def test_runs_must_count_updates():
    with pytest.raises(ScheduleError, match="counts optimizer updates"):
        hf.HFLinearScheduler().resolve(RunShape(Time(1000, "sp")), 1.0)
    r = hf.HFLinearScheduler(warmup_steps=0.1).resolve(RunShape(Time(3, "ep"), dataloader_len=7), 1.0)
    assert (r.total, r.warmup) == (21, 3)
