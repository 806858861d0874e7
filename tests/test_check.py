"""The comparison of logged LRs with the plan, and the explanations, on hand-computed logs."""

from __future__ import annotations

import json

import numpy as np
import pytest

from sched_cli.check import CheckError, check, compare, default_alignment, planned_lrs
from sched_cli.logs import ALIGNMENTS, LoggedLRs
from sched_cli.specs import Overrides, load

# Hugging Face's linear schedule, 10 updates, 2 of warmup, peak 1e-3: the LR update u trains with
# is 1e-3 * u / 2 during the warmup, then 1e-3 * (10 - u) / 8.
HAND = [0.0, 5e-4, 1e-3, 8.75e-4, 7.5e-4, 6.25e-4, 5e-4, 3.75e-4, 2.5e-4, 1.25e-4]


@pytest.fixture
def hf_file(tmp_path):
    path = tmp_path / "args.json"
    path.write_text(
        json.dumps(
            {
                "output_dir": "x",
                "learning_rate": 1e-3,
                "lr_scheduler_type": "linear",
                "warmup_steps": 2,
                "max_steps": 10,
            }
        )
    )
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


def test_alignment_defaults(hf_file):
    log = _log([1], [0.0], alignment=None)
    rule, note = default_alignment(log, None)
    assert rule is ALIGNMENTS["current"] and "--alignment" in note
    assert default_alignment(log, "next") == (ALIGNMENTS["next"], None)


def test_a_plan_without_a_base_lr_is_refused():
    spec = load("cosine_with_warmup(t_warmup=2ba)", Overrides(max_duration="10ba"))
    with pytest.raises(CheckError, match="no base LR.*--lr"):
        planned_lrs(spec, np.array([0]))
