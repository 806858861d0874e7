"""axolotl's own schedules (sched_cli/schedulers/axolotl.py): values worked out by hand from the
formulas in axolotl/utils/schedulers.py, torch's extra constructor step of RexLR and of the jagged
wrapper, the scalar and vectorized paths agreeing, and axolotl's argument checks."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sched_cli import registry
from sched_cli.schedulers import RunShape, ScheduleError
from sched_cli.schedulers import axolotl as ax
from sched_cli.simulator import Timeline
from sched_cli.state import State
from sched_cli.time import Time, Timestamp


def at(scheduler, total: int, k: int) -> float:
    return scheduler(State(f"{total}ba", None, Timestamp(batch=k)), 1.0)


def curve(scheduler, total: int) -> np.ndarray:
    k = np.arange(total, dtype=np.int64)
    return scheduler.evaluate(Timeline(epoch=0 * k, batch=k, sample=k, token=k), RunShape(Time(total, "ba")))


def test_quadratic_warmup_then_half_cosine_by_hand():
    s = ax.AxolotlCosineQuadraticWarmupScheduler(warmup_steps=4)
    assert at(s, 10, 0) == 0.0
    assert at(s, 10, 2) == 0.25  # (2 / 4) ** 2
    assert at(s, 10, 4) == 1.0
    assert at(s, 10, 7) == pytest.approx(0.5)  # p = 3 / 6: (1 + cos(pi / 2)) / 2


def test_cosine_min_lr_decays_to_the_floor():
    s = ax.AxolotlCosineMinLRScheduler(min_lr_ratio=0.1)
    assert at(s, 10, 0) == 1.0
    assert at(s, 10, 5) == pytest.approx(0.9 * 0.5 + 0.1)
    assert at(s, 10, 10) == pytest.approx(0.1)


def test_cosine_decay_constant_holds_the_floor_from_int_T_times_c():
    s = ax.AxolotlCosineDecayConstantScheduler(min_lr_ratio=0.1, constant_lr_ratio=0.5)
    # C = int(10 * 0.5) = 5: the cosine reaches 0.1 at update 5 and stays.
    assert at(s, 10, 0) == pytest.approx(1.0)
    assert at(s, 10, 2) == pytest.approx(0.9 * 0.5 * (1 + math.cos(math.pi * 0.4)) + 0.1)
    assert at(s, 10, 5) == pytest.approx(0.1)
    assert at(s, 10, 9) == pytest.approx(0.1)


def test_rex_runs_one_step_ahead_of_the_update():
    s = ax.AxolotlRexScheduler(lr_init=1.0, warmup_steps=2)
    # RexLR is built with last_epoch=0 and torch's constructor steps once: update k is step k + 1.
    assert at(s, 10, 0) == 0.5  # s = 1: 1 / 2
    assert at(s, 10, 1) == 1.0  # s = 2: the warmup's end
    z = (8 - 1) / 8
    assert at(s, 10, 2) == z / (0.1 + 0.9 * z)  # s = 3: one step into the 8 after warmup
    assert at(s, 10, 9) == 0.0  # s = 10: past the decay, the floor (min_lr 0)


def test_rex_floor_and_checks():
    s = ax.AxolotlRexScheduler(lr_init=2e-5, warmup_steps=0, min_lr_ratio=0.1)
    assert at(s, 5, 4) == 0.1  # s = 5 = T: min_lr
    with pytest.raises(ScheduleError, match="between 0.0 and 1.0"):
        ax.AxolotlRexScheduler(lr_init=1.0, min_lr_ratio=1.5)
    with pytest.raises(ScheduleError, match="less than or equal to total_steps"):
        at(ax.AxolotlRexScheduler(lr_init=1.0, warmup_steps=20), 10, 0)


def test_jagged_restarts_dip_and_rewarm_one_step_ahead():
    s = ax.AxolotlJaggedRestartScheduler(
        inner={"name": "hf:constant"}, restart_steps=10, warmup_steps=2, anneal_steps=3, min_lr_scale=0.001
    )
    values = curve(s, 25)
    # s = k + 1: full scale below R - A = 7; s = 8, 9 anneal (R - q) / A; s = 10: q = 0, the floor;
    # s = 11: q = 1, half way back.
    assert list(values[:6]) == [1.0] * 6
    assert values[7] == pytest.approx(2 / 3 * 0.999 + 0.001)
    assert values[8] == pytest.approx(1 / 3 * 0.999 + 0.001)
    assert values[9] == pytest.approx(0.001)
    assert values[10] == pytest.approx(0.5 * 0.999 + 0.001)
    assert values[11] == 1.0


def test_jagged_runs_its_inner_schedule_one_update_ahead():
    inner = {"name": "hf:linear", "warmup_steps": 0}
    s = ax.AxolotlJaggedRestartScheduler(inner=inner, restart_steps=100)
    linear = registry.lookup("hf:linear").cls(warmup_steps=0)
    assert at(s, 50, 3) == at(linear, 50, 4)


def test_jagged_refuses_an_inner_schedule_that_is_not_hf_or_axolotl():
    with pytest.raises(ScheduleError, match="hf: or axolotl:"):
        ax.AxolotlJaggedRestartScheduler(inner={"name": "cosine"}, restart_steps=10)


@pytest.mark.parametrize("name", sorted(ax.AXOLOTL_SCHEDULERS))
def test_scalar_and_vectorized_paths_agree(name):
    kwargs = {
        "cosine_quadratic_warmup": {"warmup_steps": 7},
        "cosine_min_lr": {"min_lr_ratio": 0.1, "warmup_steps": 0.1},
        "cosine_decay_constant": {"min_lr_ratio": 0.2, "constant_lr_ratio": 0.8, "warmup_steps": 5},
        "rex": {"lr_init": 2e-4, "warmup_steps": 6, "min_lr_ratio": 0.05},
        "jagged_restarts": {"inner": {"name": "axolotl:rex", "lr_init": 1.0, "warmup_steps": 3}, "restart_steps": 17},
    }[name]
    s = registry.lookup(f"axolotl:{name}").cls(**kwargs)
    values = curve(s, 60)
    assert np.array_equal(values, [at(s, 60, k) for k in range(60)])
