"""The comparison of logged LRs with the plan, and the explanations, on hand-computed logs."""

from __future__ import annotations

import json

import numpy as np
import pytest

from sched_cli.check import CheckError, check, compare, default_alignment, planned_lrs
from sched_cli.check_reasons import explain
from sched_cli.logs import ALIGNMENTS, LogError, LoggedLRs
from sched_cli.specs import Overrides, load
from tests.check_case import HAND, write_plan


@pytest.fixture
def hf_file(tmp_path):
    path = write_plan(tmp_path)
    return path


def _log(steps, lrs, alignment=ALIGNMENTS["hf"], **facts):
    return LoggedLRs("log", "test", "lr", np.asarray(steps), np.asarray(lrs, dtype=float), alignment, facts=facts)


def test_the_plan_is_what_the_trainer_applies(hf_file):
    planned, total = planned_lrs(load(str(hf_file)), np.arange(-1, 12))
    assert total == 10
    assert np.isnan(planned[0]) and np.isnan(planned[-1])
    # Row 10 is what the optimizer holds once the 10 updates are done: the schedule's end, 0.
    assert planned[1:-1] == pytest.approx([*HAND, 0.0], rel=1e-15, abs=0)


def test_a_log_that_follows_the_plan(hf_file):
    spec = load(str(hf_file))
    # Hugging Face logs step s (updates done) with the LR update s - 1 trained with.
    verdict, _ = check(spec, _log(range(1, 11), HAND), ALIGNMENTS["hf"])
    assert verdict.ok and verdict.matched == 10 and verdict.max_rel_error < 1e-15
    assert verdict.headline().startswith("check: 10 logged LRs match the plan")


def test_float32_rounding_is_within_the_default_tolerance(hf_file):
    logged = np.asarray(HAND, dtype=np.float32).astype(float)
    verdict, _ = check(load(str(hf_file)), _log(range(1, 11), logged), ALIGNMENTS["hf"])
    assert verdict.ok and 0 < verdict.max_rel_error < 6e-8


def test_a_divergence_is_named_at_its_first_step_in_the_logs_numbering(hf_file):
    logged = list(HAND)
    logged[5:7] = [9e-4, 9e-4]  # steps 6 and 7
    verdict, _ = check(load(str(hf_file)), _log(range(1, 11), logged), ALIGNMENTS["hf"])
    assert not verdict.ok and verdict.matched == 8
    assert verdict.first_divergence == {"step": 6, "logged": 9e-4, "planned": 6.25e-4}
    assert [(s.first_step, s.last_step, s.points) for s in verdict.spans] == [(6, 7, 2)]
    assert (verdict.spans[0].worst_step, verdict.spans[0].worst_logged, verdict.spans[0].worst_planned) == (
        7,
        9e-4,
        5e-4,
    )
    assert verdict.headline() == ("check: the run leaves the plan at step 6: logged 0.0009, planned 0.000625 (x1.44)")
    as_json = verdict.as_dict()
    assert as_json["verdict"] == "diverges" and as_json["first_divergence"]["step"] == 6


def test_steps_past_the_plan_are_a_divergence(hf_file):
    verdict = compare(_log([9, 10, 11], [2.5e-4, 1.25e-4, 0.0]), np.array([2.5e-4, 1.25e-4, np.nan]), ALIGNMENTS["hf"])
    assert not verdict.ok and verdict.beyond == 1 and verdict.first_divergence is None
    assert "past the plan's last update" in verdict.headline()


def _in_samples(samples, lrs, alignment=ALIGNMENTS["deepspeed"]):
    log = _log(samples, lrs, alignment)
    log.unit = "sample"
    return log


@pytest.mark.parametrize(
    ("plan", "samples", "updates"),
    [
        # 3 batches an epoch of 4, 4 and 2 samples: updates end at 4, 8, 10, 14, 18, 20.
        ("dataloader_len: 3\nbatch_size: 4\nlast_batch_size: 2\nmax_duration: 2ep", [4, 8, 9, 10, 20], [1, 2, 2, 3, 6]),
        # A ramp: 3 batches of 4, then 8: updates end at 4, 8, 12, 20, 28.
        ("batch_schedule: {0: 4, 3: 8}\nmax_duration: 6ba", [4, 12, 20, 24, 28], [1, 3, 4, 4, 5]),
    ],
)
def test_logs_in_samples_become_updates_through_the_plans_batch(tmp_path, plan, samples, updates):
    from sched_cli.check import steps_of_rows, updates_at_samples

    path = tmp_path / "plan.yaml"
    path.write_text(f"{plan}\nlr: 0.1\nschedulers:\n  - name: LinearScheduler\n")
    spec = load(str(path))
    # A logger that counts the samples each update held (Megatron-LM's consumed samples).
    log = _in_samples(samples, [0.1] * len(samples), ALIGNMENTS["megatron"])
    done, whole = updates_at_samples(spec, log)
    assert done.tolist() == updates
    # 9 and 24 samples fall inside an update: the updates done then are counted, and said to be.
    assert whole.tolist() == [s not in (9, 24) for s in samples]
    # Back again: the samples seen when each update is done.
    back = steps_of_rows(log, ALIGNMENTS["megatron"], spec, np.asarray(updates))
    assert [b for b, w in zip(back.tolist(), whole.tolist(), strict=True) if w] == [
        s for s in samples if s not in (9, 24)
    ]


def test_deepspeed_counts_its_train_batch_size_whatever_the_batch_held(tmp_path):
    from sched_cli.check import updates_at_samples

    path = tmp_path / "plan.yaml"
    path.write_text("dataloader_len: 3\nbatch_size: 4\nlast_batch_size: 2\nmax_duration: 2ep\nlr: 0.1\n")
    path.write_text(path.read_text() + "schedulers:\n  - name: LinearScheduler\n")
    # The engine adds train_batch_size (4) to global_samples at every boundary, the short last
    # batch of an epoch included: 12 samples are 3 updates for it, 2 (and inside the third) for a
    # loader that counts the samples it gave.
    deepspeed = _in_samples([12, 16], [0.1, 0.1])
    assert updates_at_samples(load(str(path)), deepspeed)[0].tolist() == [3, 4]
    counted = _in_samples([12, 16], [0.1, 0.1], ALIGNMENTS["megatron"])
    assert updates_at_samples(load(str(path)), counted)[0].tolist() == [3, 4]
    assert updates_at_samples(load(str(path)), counted)[1].tolist() == [False, False]


def test_a_log_in_samples_is_checked_in_updates_and_named_in_samples(tmp_path):
    path = tmp_path / "args.json"
    args = {"output_dir": "x", "learning_rate": 1e-3, "lr_scheduler_type": "linear", "warmup_steps": 2}
    path.write_text(json.dumps({**args, "max_steps": 10, "per_device_train_batch_size": 8}))
    spec = load(str(path))
    # 8 samples an update; the logger writes the next update's LR at the samples of the updates done.
    samples = [8 * k for k in range(1, 11)]
    verdict, _ = check(spec, _in_samples(samples, [*HAND[1:], 0.0]), ALIGNMENTS["deepspeed"])
    assert verdict.ok and verdict.points == 10
    logged = [*HAND[1:], 0.0]
    logged[3] = 1e-3  # the LR of update 4, logged at 32 samples
    verdict, _ = check(spec, _in_samples(samples, logged), ALIGNMENTS["deepspeed"])
    assert verdict.first_divergence == {"step": 32, "logged": 1e-3, "planned": 7.5e-4}
    assert verdict.headline().startswith("check: the run leaves the plan at 32 samples: logged 0.001")
    # On 2 devices an update takes 16 samples: the log's counts of 8, 24... fall inside updates.
    two = load(str(path), Overrides(devices=2))
    verdict, _ = check(two, _in_samples(samples, [*HAND[1:], 0.0]), ALIGNMENTS["deepspeed"])
    assert not verdict.ok and "5 logged sample counts (the first 8) fall inside an update" in verdict.notes[-1]
    reason = explain(
        two,
        _in_samples(samples, [*HAND[1:], 0.0]),
        ALIGNMENTS["deepspeed"],
        lambda ch: load(str(path), Overrides(**{"devices": 2, **ch})),
        Overrides(devices=2),
        consumes=("devices",),
    )
    assert reason is not None and reason.sentence == "the log matches the plan with --devices 1 (not 2)"


def test_a_log_in_samples_against_a_plan_without_a_batch_is_refused():
    spec = load("linear(alpha_f=0)", Overrides(max_duration="10ba", lr=1e-3))
    with pytest.raises(LogError, match=r"logged against samples seen.*does not say how many samples.*--batch-size"):
        check(spec, _in_samples([8, 16], [5e-4, 1e-3]), ALIGNMENTS["deepspeed"])


def test_a_log_with_fixed_decimals_matches_within_half_its_last_digit(hf_file):
    spec = load(str(hf_file))
    # Composer's FileLogger writes "{:.4f}": 8.75e-4 becomes 0.0009, 1.25e-4 becomes 0.0001.
    rounded = [float(f"{lr:.4f}") for lr in HAND]
    log = _log(range(1, 11), rounded)
    assert not check(spec, log, ALIGNMENTS["hf"])[0].ok
    log.resolution = 5e-5
    verdict, _ = check(spec, log, ALIGNMENTS["hf"])
    assert verdict.ok and verdict.max_rel_error < 1e-15  # what lies beyond the rounding
    log.lrs[4] += 6e-5  # more than half a last digit off
    assert check(spec, log, ALIGNMENTS["hf"])[0].first_divergence["step"] == 5


def test_alignment_defaults(hf_file):
    log = _log([1], [0.0], alignment=None)
    rule, note = default_alignment(log, None)
    assert rule is ALIGNMENTS["current"] and "--alignment" in note
    assert default_alignment(log, "next") == (ALIGNMENTS["next"], None)


def test_a_plan_without_a_base_lr_is_refused():
    spec = load("cosine_with_warmup(t_warmup=2ba)", Overrides(max_duration="10ba"))
    with pytest.raises(CheckError, match="no base LR.*--lr"):
        planned_lrs(spec, np.array([0]))
