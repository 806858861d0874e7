"""The simulator: runs, rows, SSR scaling, formula and trainer-replay modes, selection, streaming.

Trainer-replay expectations follow Composer 0.32's ``Trainer``: schedulers are compiled into
``LambdaLR`` (which evaluates alpha once, at construction) *before* ``max_duration`` is scaled by
SSR; ``scheduler.step()`` runs after each batch, before ``timestamp.to_next_batch()``; stepping every
epoch, it runs after the last batch of an epoch, before ``timestamp.to_next_epoch()``.
"""

from __future__ import annotations

import math
import time
import warnings

import numpy as np
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from sched_cli.schedulers import (
    ComposerScheduler,
    CosineAnnealingScheduler,
    CosineAnnealingWarmRestartsScheduler,
    CosineAnnealingWithWarmupScheduler,
    ExponentialScheduler,
    LinearScheduler,
    LinearWithWarmupScheduler,
    MultiStepScheduler,
    MultiStepWithWarmupScheduler,
    PolynomialScheduler,
    ScheduleError,
    StepScheduler,
    call_scheduler,
)
from sched_cli.simulator import COLUMNS, Run, Selection, SimulationError, collect, end_of_run, simulate
from sched_cli.state import State
from sched_cli.time import Time, Timestamp


# -- Run validation -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "max_duration, options, match",
    [
        ("1dur", {}, "max_duration"),
        ("10sec", {}, "max_duration"),
        ("3iter", {}, "max_duration"),
        ("0ba", {}, "positive"),
        ("10ep", {}, "dataloader_len"),  # epochs need batches per epoch
        ("10ba", {"batch_size": 0}, "batch_size"),
        ("10ba", {"batch_size": 1.5}, "batch_size"),
        ("10ba", {"batch_size": True}, "batch_size"),
        ("10ba", {"seq_len": -3}, "seq_len"),
        ("10ba", {"dataloader_len": 0}, "dataloader_len"),
        ("10ba", {"step_every": "step"}, "step_every"),
        ("10ba", {"lr": float("nan")}, "lr"),
        ("10ba", {"lr": "0.1"}, "lr"),
    ],
)
def test_run_validation(run_factory, max_duration, options, match):
    with pytest.raises(SimulationError, match=match):
        run_factory(max_duration, LinearScheduler(), **options)


def test_run_needs_a_scheduler(run_factory):
    with pytest.raises(SimulationError, match="scheduler"):
        run_factory("10ba")


def test_simulation_error_is_a_schedule_error():
    assert issubclass(SimulationError, ScheduleError)
    assert issubclass(SimulationError, ValueError)


@pytest.mark.parametrize("ssr", [0, -1.0, float("nan"), float("inf"), True, "1"])
def test_invalid_ssr(run_factory, ssr):
    with pytest.raises(SimulationError, match="ssr"):
        simulate(run_factory("10ba", LinearScheduler()), ssr)


def test_invalid_mode_and_selection(run_factory):
    run = run_factory("10ba", LinearScheduler())
    with pytest.raises(SimulationError, match="mode"):
        simulate(run, mode="replay")  # type: ignore[arg-type]
    with pytest.raises(SimulationError):
        Selection(every=2, points=3)
    with pytest.raises(SimulationError, match="every"):
        Selection(every=0)
    with pytest.raises(SimulationError, match="points"):
        Selection(points=-1)


# -- batch counts and rows ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "max_duration, options, batches",
    [
        ("5ep", {"dataloader_len": 7}, 5 * 7),
        ("100ba", {}, 100),
        ("100ba", {"dataloader_len": 7}, 100),
        ("1000sp", {"batch_size": 64}, 16),  # ceil(1000 / 64): batch 15 starts at sample 960
        ("1024sp", {"batch_size": 64}, 16),  # exactly 16 batches
        ("1e4tok", {"batch_size": 8, "seq_len": 100}, 13),  # ceil(10000 / 800)
        ("3e4tok", {"batch_size": 4, "seq_len": 1000}, 8),  # ceil(30000 / 4000)
    ],
)
def test_batch_counts(run_factory, rows, max_duration, options, batches):
    run = run_factory(max_duration, LinearScheduler(t_max="1000000ba"), **options)
    assert run.batches(1.0) == batches
    out = rows(run)
    assert len(out["batch"]) == batches
    np.testing.assert_array_equal(out["batch"], np.arange(batches))


def test_last_batch_overshoots_samples_and_tokens(run_factory, rows):
    out = rows(run_factory("1000sp", LinearScheduler(t_max="1e6ba"), batch_size=64))
    assert out["sample"][-1] == 15 * 64 < 1000 <= 16 * 64  # the last batch starts short and ends past
    out = rows(run_factory("1e4tok", LinearScheduler(t_max="1e6ba"), batch_size=8, seq_len=100))
    assert out["token"][-1] == 12 * 800 < 10_000 <= 13 * 800


def test_run_stops_mid_epoch(run_factory, rows):
    out = rows(run_factory("50ba", LinearScheduler(), dataloader_len=20))
    np.testing.assert_array_equal(out["epoch"], [0] * 20 + [1] * 20 + [2] * 10)


def test_row_columns_and_values(run_factory, rows):
    run = run_factory("3ep", LinearScheduler(), dataloader_len=2, batch_size=4, seq_len=5, lr=0.1)
    out = rows(run)
    assert list(out) == [*COLUMNS, "lr"]
    assert list(COLUMNS) == ["ssr", "batch", "epoch", "sample", "token", "duration", "multiplier"]
    np.testing.assert_array_equal(out["ssr"], [1.0] * 6)
    np.testing.assert_array_equal(out["batch"], [0, 1, 2, 3, 4, 5])
    np.testing.assert_array_equal(out["epoch"], [0, 0, 1, 1, 2, 2])
    np.testing.assert_array_equal(out["sample"], [0, 4, 8, 12, 16, 20])
    np.testing.assert_array_equal(out["token"], [0, 20, 40, 60, 80, 100])
    # duration: the counter in max_duration's unit (epochs) over max_duration
    np.testing.assert_array_equal(out["duration"], [0, 0, 1 / 3, 1 / 3, 2 / 3, 2 / 3])
    # LinearScheduler over 1dur = 3 * 2 = 6 batches
    np.testing.assert_allclose(out["multiplier"], [1 - b / 6 for b in range(6)], rtol=1e-15)
    np.testing.assert_allclose(out["lr"], [0.1 * (1 - b / 6) for b in range(6)], rtol=1e-15)


def test_no_lr_column_without_base_lr(run_factory, rows):
    assert "lr" not in rows(run_factory("5ba", LinearScheduler()))


@pytest.mark.parametrize(
    "max_duration, options, counter",
    [
        ("40ba", {}, "batch"),
        ("640sp", {"batch_size": 16}, "sample"),
        ("12800tok", {"batch_size": 16, "seq_len": 20}, "token"),
    ],
)
def test_duration_column_in_each_unit(run_factory, rows, max_duration, options, counter):
    out = rows(run_factory(max_duration, LinearScheduler(), **options))
    md = Time.from_timestring(max_duration).value
    np.testing.assert_array_equal(out["duration"], out[counter] / md)
    assert out["duration"][0] == 0.0
    assert out["duration"][-1] < 1.0


# -- SSR ------------------------------------------------------------------------------------------
def test_ssr_scales_max_duration_by_truncation(run_factory, rows):
    run = run_factory("10ep", LinearScheduler(), dataloader_len=4)
    assert run.scaled_max_duration(0.55) == Time(5, "ep")  # int(10 * 0.55)
    out = rows(run, 0.55)
    assert len(out["batch"]) == 5 * 4
    np.testing.assert_array_equal(out["ssr"], [0.55] * 20)
    np.testing.assert_array_equal(out["duration"], out["epoch"] / 5)
    assert run_factory("100sp", LinearScheduler()).scaled_max_duration(1.5) == Time(150, "sp")
    assert run_factory("7ba", LinearScheduler()).batches(0.5) == 3  # int(3.5)


def test_ssr_scaling_to_zero_is_an_error(run_factory):
    run = run_factory("3ba", LinearScheduler())
    with pytest.raises(SimulationError, match="ssr.*3ba.*0ba"):
        run.scaled_max_duration(0.2)  # int(0.6) = 0
    with pytest.raises(SimulationError):
        simulate(run, 0.2)


def test_ssr_reaches_the_schedulers(run_factory, rows):
    # t_max int(100 * 0.5) = 50 batches over a run of int(100 * 0.5) = 50 batches
    out = rows(run_factory("100ba", LinearScheduler(t_max="100ba")), 0.5)
    assert len(out["batch"]) == 50
    np.testing.assert_allclose(out["multiplier"], [1 - b / 50 for b in range(50)], rtol=1e-15)


# -- formula mode -----------------------------------------------------------------------------------
def test_formula_mode_is_the_product_of_the_schedulers(run_factory, rows):
    run = run_factory("100ba", LinearScheduler(t_max="100ba"), StepScheduler("25ba", gamma=0.5))
    out = rows(run)
    expected = [(1 - k / 100) * 0.5 ** (k // 25) for k in range(100)]
    np.testing.assert_allclose(out["multiplier"], expected, rtol=1e-14)


def test_formula_mode_stepping_every_epoch_is_constant_within_an_epoch(run_factory, rows):
    out = rows(run_factory("4ep", LinearScheduler(), dataloader_len=10, step_every="epoch"))
    # alpha at the start of each epoch: 1 - (10 e) / 40
    expected = [1 - (k // 10 * 10) / 40 for k in range(40)]
    np.testing.assert_allclose(out["multiplier"], expected, rtol=1e-15)


def stamp_reader(state):
    """Encodes the timestamp it sees: 1 + epoch + batch / 1000 (epoch and batch < 1000)."""
    return 1.0 + int(state.timestamp.epoch) + int(state.timestamp.batch) / 1000


def test_formula_mode_epoch_stepping_reads_the_epoch_start(run_factory, rows):
    out = rows(run_factory("3ep", stamp_reader, dataloader_len=4, step_every="epoch"))
    expected = [1 + e + 4 * e / 1000 for e in (0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2)]
    np.testing.assert_allclose(out["multiplier"], expected, rtol=1e-15)


# -- trainer mode -----------------------------------------------------------------------------------
def test_trainer_mode_lags_one_batch(run_factory, rows):
    out = rows(run_factory("100ba", LinearScheduler()), mode="trainer")
    # batch 0: alpha(0) from LambdaLR's construction; batch k >= 1: alpha at the start of batch k - 1
    expected = [1.0] + [1 - (k - 1) / 100 for k in range(1, 100)]
    np.testing.assert_allclose(out["multiplier"], expected, rtol=1e-15)
    assert out["multiplier"][0] == out["multiplier"][1] == 1.0


def test_end_of_run_is_the_timestamp_after_the_last_batch(run_factory):
    # linear 1 -> 0 over 100ba: the formula gives alpha(100ba) = 0; the Trainer's last step comes
    # after batch 99, before the timestamp advances, so the optimizer is left with alpha(99) = 0.01.
    run = run_factory("100ba", LinearScheduler(), dataloader_len=30, batch_size=4, seq_len=3, lr=2.0)
    end = end_of_run(run)
    assert {k: v.tolist() for k, v in end.items()} == {
        "ssr": [1.0],
        "batch": [100],
        "epoch": [3],
        "sample": [400],
        "token": [1200],
        "duration": [1.0],
        "multiplier": [0.0],
        "lr": [0.0],
    }
    assert end_of_run(run, mode="trainer")["multiplier"].tolist() == [pytest.approx(0.01)]
    # At ssr 0.5 the run is 50 batches and ends at alpha(50ba of 50ba) = 0.
    half = end_of_run(run, 0.5)
    assert half["batch"].tolist() == [50] and half["multiplier"].tolist() == [0.0]


def test_end_of_run_stepping_every_epoch(run_factory):
    # 3 epochs of 10 batches, stepping each epoch, halving every epoch (Composer converts 1ep to
    # 10ba and counts batches). The last step comes after epoch 2 ends, the batch counter at 30:
    # 0.5 ** 3 in both modes, while the last epoch trained at 0.5 ** 2 (stepped after epoch 1).
    run = run_factory("3ep", StepScheduler(step_size="1ep", gamma=0.5), dataloader_len=10, step_every="epoch")
    assert end_of_run(run)["multiplier"].tolist() == [0.125]
    assert end_of_run(run, mode="trainer")["multiplier"].tolist() == [0.125]
    assert end_of_run(run, mode="trainer")["epoch"].tolist() == [3]
    last = collect(simulate(run, mode="trainer", selection=Selection(batches=(29,))))
    assert last["multiplier"].tolist() == [0.25]


def test_trainer_mode_first_batch_sees_the_unscaled_max_duration(run_factory, rows):
    def reads_max_duration(state, ssr):
        return int(state.max_duration.value) / 1000

    out = rows(run_factory("100ba", reads_max_duration), 0.5, mode="trainer")
    # compiled before the Trainer scales max_duration: 100ba at construction, 50ba afterwards
    assert out["multiplier"][0] == 100 / 1000
    np.testing.assert_array_equal(out["multiplier"][1:], [50 / 1000] * 49)


def test_trainer_mode_fails_where_construction_fails(run_factory, rows):
    # t_max int(100 * 0.5) = 50ba is checked at construction against the unscaled 100ba (Composer raises)
    run = run_factory("100ba", CosineAnnealingWithWarmupScheduler(t_warmup="10ba", t_max="100ba"))
    with pytest.raises(ScheduleError, match="t_max"):
        rows(run, 0.5, mode="trainer")
    assert len(rows(run, 0.5, mode="formula")["batch"]) == 50


def test_trainer_mode_epoch_stepping_reads_the_previous_epoch(run_factory, rows):
    out = rows(run_factory("3ep", stamp_reader, dataloader_len=4, step_every="epoch"), mode="trainer")
    # epoch 0: alpha(0); epoch e >= 1: stepped after epoch e-1's last batch, at batch 4e while the
    # epoch counter still reads e - 1
    expected = [1.0] * 4 + [1 + 0 + 4 / 1000] * 4 + [1 + 1 + 8 / 1000] * 4
    np.testing.assert_allclose(out["multiplier"], expected, rtol=1e-15)


def test_trainer_mode_batch_stepping_reads_the_epoch_of_the_previous_batch(run_factory, rows):
    out = rows(run_factory("2ep", stamp_reader, dataloader_len=3), mode="trainer")
    expected = [1.0] + [1 + (k - 1) // 3 + (k - 1) / 1000 for k in range(1, 6)]
    np.testing.assert_allclose(out["multiplier"], expected, rtol=1e-15)


def test_trainer_mode_only_the_last_scheduler_is_in_force(run_factory, rows):
    run = run_factory("100ba", StepScheduler("10ba", gamma=0.5), LinearScheduler())
    trainer = rows(run, mode="trainer")
    formula = rows(run, mode="formula")
    np.testing.assert_allclose(trainer["multiplier"], [1.0] + [1 - (k - 1) / 100 for k in range(1, 100)])
    np.testing.assert_allclose(formula["multiplier"], [(1 - k / 100) * 0.5 ** (k // 10) for k in range(100)])


def test_trainer_mode_earlier_schedulers_can_still_fail(run_factory, rows):
    # every scheduler is compiled by the Trainer: a one-argument one with ssr != 1 stops the run
    run = run_factory("100ba", lambda state: 1.0, LinearScheduler())
    with pytest.raises(ScheduleError, match="ssr"):
        rows(run, 0.5, mode="trainer")


def test_trainer_mode_matches_a_real_lambda_lr_loop(run_factory, rows):
    """Replay Composer's Trainer loop with torch: compile, scale max_duration, step after each batch."""
    torch = pytest.importorskip("torch")
    from sched_cli.schedulers import compile_composer_scheduler

    for step_every in ("batch", "epoch"):
        for ssr in (1.0, 1.5, 0.5):
            scheduler = CosineAnnealingWithWarmupScheduler(t_warmup="0.1dur", alpha_f=0.05)
            run = run_factory("8ep", scheduler, dataloader_len=5, batch_size=3, step_every=step_every)
            param = torch.nn.Parameter(torch.zeros(1))
            optimizer = torch.optim.SGD([param], lr=1.0)
            state = State("8ep", dataloader_len=5, optimizers=[optimizer])
            lambda_lr = compile_composer_scheduler(scheduler, state, ssr)
            state.max_duration = state.max_duration * ssr
            trained = []
            while state.timestamp < state.max_duration:
                for _ in range(5):
                    trained.append(optimizer.param_groups[0]["lr"])
                    optimizer.step()
                    if step_every == "batch":
                        lambda_lr.step()
                    state.timestamp = state.timestamp.to_next_batch(samples=3, tokens=3)
                if step_every == "epoch":
                    lambda_lr.step()
                state.timestamp = state.timestamp.to_next_epoch()
            out = rows(run, ssr, mode="trainer")
            np.testing.assert_allclose(out["multiplier"], trained, rtol=1e-12, atol=1e-15)


# -- Composer's docstring examples through the simulator ------------------------------------------------
def ten_epoch_decay_scheduler(state):
    if state.timestamp.epoch < 10:
        return 1.0
    return 0.5


class VariableEpochDecayScheduler(ComposerScheduler):
    def __init__(self, num_epochs):
        self.num_epochs = num_epochs

    def __call__(self, state):
        if state.time.epoch < self.num_epochs:
            return 1.0
        return 0.5


@pytest.mark.parametrize("scheduler", [ten_epoch_decay_scheduler, VariableEpochDecayScheduler(num_epochs=10)])
def test_composer_docstring_examples_in_the_simulator(run_factory, rows, scheduler):
    run = run_factory("20ep", scheduler, dataloader_len=5)
    formula = rows(run)
    np.testing.assert_array_equal(formula["multiplier"], [1.0] * 50 + [0.5] * 50)
    trainer = rows(run, mode="trainer")
    # batch 50 (first of epoch 10) still trains with alpha at batch 49, epoch 9
    np.testing.assert_array_equal(trainer["multiplier"], [1.0] * 51 + [0.5] * 49)
    with pytest.raises(ScheduleError, match="ssr"):
        rows(run, 2.0)


# -- selection ---------------------------------------------------------------------------------------
def _warmup_run(run_factory):
    return run_factory("100ba", CosineAnnealingWithWarmupScheduler(t_warmup="10ba"))


def test_selection_every(run_factory, rows):
    run = _warmup_run(run_factory)
    out = rows(run, selection=Selection(every=25))
    # the grid, the last batch, and the batches around the end of warmup (10)
    np.testing.assert_array_equal(out["batch"], [0, 9, 10, 11, 25, 50, 75, 99])
    full = rows(run)
    np.testing.assert_array_equal(out["multiplier"], full["multiplier"][out["batch"]])


def test_selection_every_around_milestones_in_samples(run_factory, rows):
    # '1000sp' at 64 samples per batch: first reached at batch ceil(1000 / 64) = 16
    run = run_factory("3200sp", MultiStepScheduler(["1000sp", "2000sp"]), batch_size=64)
    out = rows(run, selection=Selection(every=20))
    # 2000sp: batch ceil(2000 / 64) = 32
    np.testing.assert_array_equal(out["batch"], [0, 15, 16, 17, 20, 31, 32, 33, 40, 49])


def test_selection_points(run_factory, rows):
    run = _warmup_run(run_factory)
    out = rows(run, selection=Selection(points=5))
    batches = out["batch"]
    assert {0, 9, 10, 11, 99} <= set(batches.tolist())
    assert np.all(np.diff(batches) > 0)
    assert len(batches) <= 5 + 4
    # the evenly spread points leave no gap wider than a quarter of the run (plus rounding)
    assert np.max(np.diff(batches)) <= math.ceil(99 / 4) + 1
    full = rows(run)
    np.testing.assert_array_equal(out["multiplier"], full["multiplier"][batches])


def test_selection_points_more_than_batches_gives_every_batch(run_factory, rows):
    out = rows(run_factory("20ba", LinearScheduler()), selection=Selection(points=1000))
    np.testing.assert_array_equal(out["batch"], np.arange(20))


@pytest.mark.parametrize("selection", [None, Selection(every=2), Selection(every=9), Selection(points=17)], ids=repr)
@pytest.mark.parametrize("mode", ["formula", "trainer"])
def test_chunked_streaming_gives_the_same_rows(run_factory, selection, mode):
    run = run_factory(
        "7ep",
        MultiStepWithWarmupScheduler(t_warmup="13ba", milestones=["30ba", "61ba"], gamma=0.5),
        stamp_reader,
        dataloader_len=15,
        lr=0.5,
    )
    whole = list(simulate(run, 1.0, mode=mode, selection=selection))
    chunks = list(simulate(run, 1.0, mode=mode, selection=selection, chunk=7))
    assert len(whole) == 1
    assert len(chunks) > 1
    assert all(len(c["batch"]) <= 7 for c in chunks)
    joined = collect(chunks)
    assert list(joined) == list(whole[0])
    for key in joined:
        np.testing.assert_array_equal(joined[key], whole[0][key], err_msg=key)


def test_progress_reports_batches_covered(run_factory):
    seen = []
    list(simulate(run_factory("50ba", LinearScheduler()), chunk=16, progress=seen.append))
    assert seen == [16, 32, 48, 50]


def test_a_trillion_batch_run_with_points_is_fast(run_factory):
    run = run_factory(
        "1000000000000ba",
        CosineAnnealingWithWarmupScheduler(t_warmup="0.01dur", alpha_f=0.1),
        stamp_reader_big,
        lr=1e-3,
    )
    start = time.perf_counter()
    out = collect(simulate(run, selection=Selection(points=1000), mode="formula"))
    elapsed = time.perf_counter() - start
    assert elapsed < 5.0
    n = 10**12
    batches = out["batch"]
    assert batches[0] == 0 and batches[-1] == n - 1
    assert {n // 100 - 1, n // 100, n // 100 + 1} <= set(batches.tolist())
    assert len(batches) <= 1000 + 4
    # spot-check one row by hand: the end of warmup is 1e10 batches, cosine over the next 99e10
    k = int(batches[500])
    expected = 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * (k - n // 100) / (n - n // 100)))
    assert out["multiplier"][500] == pytest.approx(expected * (1 + k / n), rel=1e-12)


def stamp_reader_big(state):
    return 1.0 + int(state.timestamp.batch) / 10**12


# -- misbehaving custom schedulers -------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["formula", "trainer"])
@pytest.mark.parametrize("bad", ["0.5", float("nan"), float("inf"), None])
def test_custom_scheduler_returning_a_non_number_names_the_batch(run_factory, rows, mode, bad):
    def misbehaves(state):
        return bad if int(state.timestamp.batch) >= 7 else 1.0

    with pytest.raises(SimulationError, match="misbehaves.*batch 7"):
        rows(run_factory("20ba", misbehaves), mode=mode)


def test_custom_scheduler_that_raises_names_the_batch(run_factory, rows):
    def explodes(state):
        if int(state.timestamp.batch) == 12:
            raise KeyError("boom")
        return 1.0

    with pytest.raises(SimulationError, match="explodes.*batch 12"):
        rows(run_factory("20ba", explodes))


def test_builtin_errors_surface_from_the_simulator(run_factory, rows):
    with pytest.raises(ScheduleError, match="CosineAnnealingWarmRestartsScheduler"):
        rows(run_factory("100ba", CosineAnnealingWarmRestartsScheduler(t_0="8ba", t_mult=0.5)))
    # the same schedule in a run that ends before the interval decays to 0 is fine
    assert len(rows(run_factory("15ba", CosineAnnealingWarmRestartsScheduler(t_0="8ba", t_mult=0.5)))["batch"]) == 15


# -- formula mode == the scalar library, batch by batch --------------------------------------------------
SCHEDULER_SETS = [
    (CosineAnnealingWithWarmupScheduler(t_warmup="0.1dur", alpha_f=0.1),),
    (LinearWithWarmupScheduler(t_warmup="1ep", alpha_i=0.9, alpha_f=0.2, scale_warmup=True),),
    (MultiStepScheduler(["2ep", "0.7dur"], gamma=0.3), ExponentialScheduler(0.9, decay_period="1ep")),
    (CosineAnnealingWarmRestartsScheduler(t_0="0.2dur", t_mult=1.5), PolynomialScheduler(1.5)),
    (StepScheduler("0.25dur", gamma=0.5), CosineAnnealingScheduler(alpha_f=0.05), stamp_reader),
]


@settings(max_examples=80, deadline=None)
@given(
    schedulers=st.sampled_from(SCHEDULER_SETS),
    unit=st.sampled_from(["ep", "ba", "sp", "tok"]),
    dataloader_len=st.integers(1, 12),
    batch_size=st.integers(1, 16),
    seq_len=st.integers(1, 16),
    ssr=st.sampled_from([1.0, 0.5, 0.75, 1.3, 2.0]),
    step_every=st.sampled_from(["batch", "epoch"]),
)
def test_formula_mode_agrees_with_the_scalar_library(
    schedulers, unit, dataloader_len, batch_size, seq_len, ssr, step_every
):
    per_epoch = {
        "ep": 1,
        "ba": dataloader_len,
        "sp": dataloader_len * batch_size,
        "tok": dataloader_len * batch_size * seq_len,
    }[unit]
    max_duration = Time(6 * per_epoch, unit)  # six epochs' worth in every unit
    scaled = int(6 * per_epoch * ssr)  # the Trainer's int(value * ssr)
    per_batch = {"ep": None, "ba": 1, "sp": batch_size, "tok": batch_size * seq_len}[unit]
    batches = scaled * dataloader_len if unit == "ep" else -(-scaled // per_batch)

    def expected_rows():
        values = []
        for k in range(batches):
            if step_every == "epoch":
                k = k // dataloader_len * dataloader_len  # evaluated at the start of the epoch
            state = State(
                Time(scaled, unit),
                dataloader_len,
                Timestamp(epoch=k // dataloader_len, batch=k, sample=k * batch_size, token=k * batch_size * seq_len),
            )
            alpha = 1.0
            for scheduler in schedulers:
                alpha *= call_scheduler(scheduler, state, ssr)
            values.append(alpha)
        return values

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run = Run(max_duration, schedulers, dataloader_len, batch_size, seq_len, step_every=step_every)
        try:
            out = collect(simulate(run, ssr))
        except ScheduleError as exc:
            # the simulator refuses exactly what the library (or the Trainer) refuses
            event(f"simulator raised {type(exc).__name__}")
            if scaled == 0:
                assert isinstance(exc, SimulationError)
                return
            with pytest.raises(type(exc)):
                expected_rows()
            return
        event("rows")
        expected = expected_rows()
    assert len(out["batch"]) == batches
    np.testing.assert_allclose(out["multiplier"], expected, rtol=1e-12, atol=1e-15)


def test_custom_schedulers_see_in_epoch_counters_as_in_composer():
    from sched_cli.simulator import Run, collect, simulate

    seen = []

    def spy(state):
        ts = state.timestamp
        seen.append(
            (int(ts.epoch), int(ts.batch), int(ts.batch_in_epoch), int(ts.sample_in_epoch), int(ts.token_in_epoch))
        )
        return 1.0

    run = Run("2ep", (spy,), dataloader_len=3, batch_size=2, seq_len=5)
    collect(simulate(run))
    assert seen == [
        (0, 0, 0, 0, 0),
        (0, 1, 1, 2, 10),
        (0, 2, 2, 4, 20),
        (1, 3, 0, 0, 0),
        (1, 4, 1, 2, 10),
        (1, 5, 2, 4, 20),
    ]
    seen.clear()
    # Stepping every epoch, the Trainer steps after the last batch of epoch 0: batch 3, epoch 0,
    # and 3 batches into that epoch.
    collect(simulate(Run("2ep", (spy,), dataloader_len=3, batch_size=2, seq_len=5, step_every="epoch"), mode="trainer"))
    assert (0, 3, 3, 6, 30) in seen


# -- Hugging Face runs ----------------------------------------------------------------------------
def test_hf_runs_scale_their_epochs_or_max_steps_and_replay_the_formula():
    from sched_cli.schedulers.hf import HFLinearScheduler
    from sched_cli.simulator import hf_scaled_length

    # 2.5 epochs of 42 updates: 105; at ssr 0.5, ceil(1.25 x 42) = 53 (not int(105 x 0.5) = 52)
    epochs = Run("105ba", [HFLinearScheduler(warmup_steps=0.1)], 42, trainer="hf", num_train_epochs=2.5)
    assert hf_scaled_length(epochs, 0.5) == Time(53, "ba") and epochs.batches(0.5) == 53
    steps = Run("100ba", [HFLinearScheduler()], trainer="hf")
    assert hf_scaled_length(steps, 1 / 3) == Time(33, "ba")
    # update k trains with the factor at k: trainer mode is the formula (0, 1/11, ..., warmup ceil(10.5) = 11)
    formula = collect(simulate(epochs, mode="formula"))["multiplier"]
    trainer = collect(simulate(epochs, mode="trainer"))["multiplier"]
    np.testing.assert_array_equal(formula, trainer)
    assert formula[1] == 1 / 11 and formula[11] == 1.0


def test_hf_epochs_must_agree_with_max_duration():
    from sched_cli.schedulers.hf import HFLinearScheduler

    with pytest.raises(SimulationError, match="disagrees with num_train_epochs 2.5"):
        Run("100ba", [HFLinearScheduler()], 42, trainer="hf", num_train_epochs=2.5)
    with pytest.raises(SimulationError, match="belongs to a Hugging Face run"):
        Run("105ba", [HFLinearScheduler()], 42, num_train_epochs=2.5)


def test_to_dataframe_keeps_columns_order_and_dtypes():
    pd = pytest.importorskip("pandas")
    from sched_cli.schedulers import LinearWithWarmupScheduler
    from sched_cli.simulator import to_dataframe

    run = Run(max_duration=Time(10, "ba"), schedulers=(LinearWithWarmupScheduler(t_warmup="4ba"),), lr=0.5)
    chunks = list(simulate(run, chunk=3))
    frame = to_dataframe(chunks)
    assert isinstance(frame, pd.DataFrame) and list(frame.columns) == [*COLUMNS, "lr"]
    assert frame["batch"].dtype == np.int64 and frame["multiplier"].dtype == np.float64
    # 4 batches of warmup to 1, then linear to 0 at batch 10: batch 2 is 0.5, batch 7 is 0.5.
    assert frame["multiplier"].tolist()[:5] == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert frame.loc[7, "multiplier"] == 0.5 and frame.loc[7, "lr"] == 0.25
    assert to_dataframe(collect(chunks)).equals(frame)


def test_to_dataframe_without_pandas_says_how_to_install_it(monkeypatch):
    import sys

    from sched_cli.simulator import to_dataframe

    monkeypatch.setitem(sys.modules, "pandas", None)  # import pandas now raises ImportError
    with pytest.raises(ImportError, match=r"pip install 'sched-cli\[pandas\]'"):
        to_dataframe({"batch": np.arange(3)})


# -- skipped scheduler steps ------------------------------------------------------------------------
def test_skipped_steps_hold_the_schedule_back_for_any_trainer():
    from sched_cli.schedulers.hf import HFLinearScheduler
    from sched_cli.simulator import scheduler_steps

    # hf:linear over 10 updates, warmup 4: factor k/4, then (10 - k)/6.
    run = Run(max_duration="10ba", schedulers=(HFLinearScheduler(4),), trainer="hf", lr=1.0, skipped_steps=(1, 2))
    # No step after updates 1 and 2: updates 2 and 3 still see 1 step, update k > 2 sees k - 2.
    assert list(scheduler_steps(run, np.arange(6))) == [0, 1, 1, 1, 2, 3]
    rows = collect(simulate(run, mode="trainer"))
    assert list(rows["lr"][:6]) == [0.0, 0.25, 0.25, 0.25, 0.5, 0.75]
    assert rows["lr"][9] == pytest.approx(3 / 6)  # 7 steps: (10 - 7) / (10 - 4)
    with pytest.raises(SimulationError, match="skipped_steps"):
        Run(max_duration="10ba", schedulers=(HFLinearScheduler(4),), skipped_steps=(-1,))
