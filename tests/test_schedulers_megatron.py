"""Megatron-LM's OptimizerParamScheduler over consumed samples: values computed by hand from
``get_lr``'s formulas, scalar and vectorized paths agreeing, and Megatron's assertions as errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sched_cli.geometry import BatchSchedule
from sched_cli.schedulers.base import ScheduleError
from sched_cli.schedulers.megatron import MegatronScheduler, skipped_iterations
from sched_cli.simulator import Run, collect, simulate
from sched_cli.time import Time

GBS = 8  # samples per iteration in these runs


def lrs(scheduler: MegatronScheduler, iterations: int, batch_size: int = GBS, **run: object) -> np.ndarray:
    """The LR every iteration trains with, through the simulator (Megatron's loop)."""
    spec = Run(Time(iterations, "ba"), (scheduler,), batch_size=batch_size, lr=scheduler.lr, trainer="megatron", **run)
    return collect(simulate(spec, mode="trainer"))["lr"]


def test_iteration_one_trains_at_the_warmup_init():
    # step(0) on construction: num_steps 0, inside the warmup: init_lr.
    s = MegatronScheduler(lr=1e-3, decay_samples=800, warmup_samples=80)
    assert lrs(s, 3)[0] == 0.0
    s = MegatronScheduler(lr=1e-3, decay_samples=800, warmup_samples=80, warmup_init=1e-5)
    assert lrs(s, 3)[0] == 1e-5
    # Without warmup, iteration 1 trains at the peak (decay ratio 0).
    assert lrs(MegatronScheduler(lr=1e-3, decay_samples=800), 3)[0] == 1e-3


def test_warmup_and_its_boundary():
    s = MegatronScheduler(lr=1e-3, decay_samples=800, warmup_samples=80, warmup_init=1e-4)
    out = lrs(s, 100)
    # Iteration k starts with n = 8k samples: init + (max - init) * n / W.
    assert out[5] == 1e-4 + (1e-3 - 1e-4) * 40 / 80
    assert out[10] == 1e-3  # n = 80 = W: still the warmup branch, at the peak
    # n = 88: linear decay, ratio (88 - 80) / (800 - 80) = 1/90.
    assert out[11] == pytest.approx(1e-3 * (1 - 1 / 90), rel=1e-15)


def test_decay_end_and_after():
    s = MegatronScheduler(lr=1e-3, min_lr=1e-4, decay_samples=800, decay_style="linear")
    out = lrs(s, 120)
    assert out[100] == 1e-4  # n = 800 = D: ratio 1, min_lr
    assert out[101] == 1e-4 and out[119] == 1e-4  # n > D: min_lr
    assert out[50] == pytest.approx(1e-4 + 0.5 * 9e-4, rel=1e-15)


def test_cosine_midpoint_and_warmup_fraction():
    # --lr-warmup-fraction 0.1 of D = 800 samples: W = 80.0 (a float, as Megatron computes it).
    s = MegatronScheduler(lr=2.0, min_lr=0.0, decay_samples=800, warmup_samples=0.1 * 800, decay_style="cosine")
    out = lrs(s, 101)
    assert out[55] == 1.0  # n = 440: ratio 360 / 720 = 0.5, cos(pi/2) ~ 6e-17, 0.5 * (1 + that) * 2
    assert out[10] == 2.0
    assert out[100] == 0.0


def test_constant_ignores_the_decay_end():
    s = MegatronScheduler(lr=3e-4, min_lr=1e-5, decay_samples=80, warmup_samples=16, decay_style="constant")
    out = lrs(s, 30)
    assert out[1] == 3e-4 * 8 / 16 and out[2] == 3e-4
    assert out[29] == 3e-4  # past D: still lr, Megatron returns before its n > D check


def test_inverse_square_root():
    s = MegatronScheduler(
        lr=1e-3, min_lr=1e-4, decay_samples=10**6, warmup_samples=80, decay_style="inverse-square-root"
    )
    out = lrs(s, 1000)
    assert out[40] == 1e-3 * 80**0.5 / 320**0.5  # = lr / 2, in Megatron's x ** 0.5
    assert out[40] == pytest.approx(5e-4, rel=1e-15)
    assert out[999] == max(1e-4, 1e-3 * 80**0.5 / 7992**0.5)


@pytest.mark.parametrize(
    ("style", "iteration", "expected_coeff"),
    [
        ("linear", 80, 1.0),  # n = 640 = D - A: still stable
        ("linear", 90, 0.5),  # n = 720: u = 80 / 160
        ("cosine", 90, 0.5 * (math.cos(math.pi * 0.5) + 1.0)),
        ("exponential", 90, 2.0 * math.pow(0.5, 0.5) - 1.0),  # sqrt(2) - 1
        ("minus_sqrt", 85, 0.5),  # n = 680: u = 0.25, 1 - sqrt(0.25)
        ("exponential", 100, 0.0),  # n = 800 = D: 2 * 0.5 - 1
    ],
)
def test_wsd_tail(style, iteration, expected_coeff):
    s = MegatronScheduler(
        lr=1e-3,
        min_lr=1e-5,
        decay_samples=800,
        warmup_samples=80,
        decay_style="WSD",
        wsd_decay_samples=160,
        wsd_decay_style=style,
    )
    out = lrs(s, 110)
    assert out[iteration] == 1e-5 + expected_coeff * (1e-3 - 1e-5)
    assert out[50] == 1e-3  # the stable phase
    assert out[105] == 1e-5


def test_skipped_iterations_do_not_advance_the_schedule():
    s = MegatronScheduler(lr=1e-3, decay_samples=800, warmup_samples=80, skipped=3)
    out = lrs(s, 20)
    assert out[:4].tolist() == [0.0, 0.0, 0.0, 0.0]  # iterations 0-2 skipped: n stays 0 at iteration 3
    assert out[5] == 1e-3 * 16 / 80  # n = 40 - 24
    listed = MegatronScheduler(lr=1e-3, decay_samples=800, warmup_samples=80, skipped=[2, 7])
    out = lrs(listed, 20)
    assert out[2] == 1e-3 * 16 / 80 and out[3] == 1e-3 * 16 / 80  # iteration 2's samples never count
    assert out[8] == 1e-3 * (64 - 16) / 80
    assert skipped_iterations(3) == (0, 1, 2) and skipped_iterations([7, 2, 2]) == (2, 7)


def test_skipped_iterations_count_the_ramp_sizes():
    ramp = BatchSchedule.of({0: 4, 3: 8})
    s = MegatronScheduler(lr=1.0, decay_samples=1000, warmup_samples=100, skipped=[1, 4])
    out = lrs(s, 8, batch_size=1, batch_schedule=ramp)
    # consumed before iteration 6: 4 + 4 + 4 + 8 + 8 + 8 = 36; skipped 1 (4) and 4 (8): n = 24.
    assert out[6] == 24 / 100


def test_ramp_counts_samples_not_iterations():
    ramp = BatchSchedule.of({0: 2, 5: 4, 10: 8})
    s = MegatronScheduler(lr=1.0, decay_samples=1000, warmup_samples=100)
    spec = Run(Time(15, "ba"), (s,), lr=1.0, trainer="megatron", batch_schedule=ramp, seq_len=4)
    rows = collect(simulate(spec, mode="trainer"))
    assert rows["sample"].tolist()[:12] == [0, 2, 4, 6, 8, 10, 14, 18, 22, 26, 30, 38]
    assert rows["token"].tolist()[11] == 38 * 4
    assert rows["lr"][11] == 38 / 100


def test_scalar_and_vectorized_paths_agree():
    s = MegatronScheduler(lr=1e-3, min_lr=1e-5, decay_samples=777, warmup_samples=33.3, decay_style="cosine")
    n = np.arange(0, 900, 7)
    vector = s.learning_rate(n)
    assert [s.learning_rate(int(k)) for k in n] == vector.tolist()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"lr": 1e-3, "decay_samples": 80, "warmup_samples": 80}, "less than decay_samples"),
        ({"lr": 1e-3, "decay_samples": 0}, "greater than 0"),
        ({"lr": 1e-3, "min_lr": 1e-2, "decay_samples": 80}, "at least min_lr"),
        ({"lr": 1e-3, "warmup_init": 1e-2, "decay_samples": 80}, "at most lr"),
        ({"lr": 1e-3, "decay_samples": 80, "decay_style": "WSD"}, "wsd_decay_samples"),
        ({"lr": 1e-3, "decay_samples": 80, "decay_style": "poly"}, "must be one of"),
        ({"lr": 1e-3, "decay_samples": 80, "skipped": -1}, "count of at least 0"),
    ],
)
def test_megatron_assertions_are_errors(kwargs, message):
    with pytest.raises(ScheduleError, match=message):
        MegatronScheduler(**kwargs)
