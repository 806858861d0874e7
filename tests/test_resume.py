"""Resumed runs and early stops: hand-computed regressions of Composer 0.32's ``load_path`` resume
(checked against a real Trainer in tests/test_against_composer.py), and the commands that show them."""

from __future__ import annotations

import csv
import io
import json
import math
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from sched_cli.cli import app
from sched_cli.resume import (
    Resume,
    StopPastEndWarning,
    first_set_row,
    jump,
    notes,
    plan_resumed,
    simulate_resumed,
    stop,
    stop_resumed,
)
from sched_cli.schedulers import (
    CosineAnnealingScheduler,
    LinearScheduler,
    LinearWithWarmupScheduler,
    StepScheduler,
)
from sched_cli.simulator import Run, Selection, SimulationError, collect, plan, simulate

WARM = LinearWithWarmupScheduler(t_warmup="4ba", alpha_f=0.0)


def resumed(after: Run, before: Run, at: str, ssr: float = 1.0, before_ssr: float = 1.0, mode: str = "trainer"):
    return collect(simulate_resumed(after, Resume(before, at, before_ssr), ssr, mode=mode))


def linear_warmup(t: int, warmup: int, total: int) -> float:
    """LinearWithWarmupScheduler(alpha_f=0) by hand: t/warmup, then 1 - (t - warmup)/(total - warmup)."""
    return t / warmup if t < warmup else 1 - (t - warmup) / (total - warmup)


# -- what the Trainer does after load_path ---------------------------------------------------------
def test_a_longer_run_resumed_mid_epoch_keeps_the_saved_lr_for_one_batch_then_follows_after():
    before = Run("20ba", [WARM], dataloader_len=8, batch_size=2, lr=0.1)
    after = Run("40ba", [WARM], dataloader_len=8, batch_size=2, lr=0.1)
    rows = resumed(after, before, "6ba")
    assert len(rows["batch"]) == 40
    assert list(rows["segment"][:6]) == [0] * 6 and set(rows["segment"][6:]) == {1}
    # Batch 5 (before) trains with alpha at batch 4 (the one-batch lag): 1.0.
    assert rows["lr"][5] == pytest.approx(0.1)
    # Batch 6 trains with what the optimizer saved: BEFORE's alpha at batch 5 = 1 - 1/16.
    assert rows["lr"][6] == pytest.approx(0.1 * linear_warmup(5, 4, 20))
    # Then AFTER's formula at the start of the previous batch, against AFTER's 40ba.
    for b in (7, 8, 20, 39):
        assert rows["lr"][b] == pytest.approx(0.1 * linear_warmup(b - 1, 4, 40))
    assert list(rows["epoch"][[6, 7, 8, 16]]) == [0, 0, 1, 2]
    assert list(rows["sample"][[6, 7, 8]]) == [12, 14, 16]


def test_formula_mode_shows_afters_formula_from_the_first_batch_after_the_resume():
    before = Run("20ba", [WARM], lr=0.1)
    after = Run("40ba", [WARM], lr=0.1)
    rows = resumed(after, before, "6ba", mode="formula")
    assert rows["lr"][5] == pytest.approx(0.1 * linear_warmup(5, 4, 20))
    assert rows["lr"][6] == pytest.approx(0.1 * linear_warmup(6, 4, 40))
    assert rows["duration"][6] == pytest.approx(6 / 40)


def test_the_checkpoints_base_lr_wins_over_afters_in_the_trainer():
    before = Run("20ba", [WARM], lr=0.1)
    after = Run("40ba", [WARM], lr=0.5)
    trainer = resumed(after, before, "6ba")
    formula = resumed(after, before, "6ba", mode="formula")
    assert trainer["lr"][10] == pytest.approx(0.1 * linear_warmup(9, 4, 40))
    assert formula["lr"][10] == pytest.approx(0.5 * linear_warmup(10, 4, 40))


def test_a_checkpoint_at_an_epochs_last_batch_with_a_shorter_loader_starts_the_next_epoch():
    cosine = CosineAnnealingScheduler()
    before = Run("20ba", [cosine], dataloader_len=8, batch_size=2, lr=0.1)
    after = Run("30ba", [cosine], dataloader_len=5, batch_size=3, lr=0.1)
    rows = resumed(after, before, "8ba", ssr=2.0)  # AFTER's own SSR: 60ba
    assert len(rows["batch"]) == 60
    # Saved at batch 8 before the epoch ended (batch_in_epoch 8 >= 5): the Trainer skips the whole
    # new loader, ends epoch 0 and trains batch 8 in epoch 1.
    assert list(rows["epoch"][8:15]) == [1] * 5 + [2, 2]
    assert list(rows["sample"][8:11]) == [16, 19, 22]
    assert rows["lr"][9] == pytest.approx(0.1 * (1 + math.cos(math.pi * 8 / 60)) / 2)


def test_a_longer_loader_lets_the_restored_epoch_go_on_and_epoch_stepping_waits_for_its_end():
    linear = LinearScheduler(alpha_f=0.1)
    before = Run("3ep", [linear], dataloader_len=8, batch_size=2, step_every="epoch", lr=0.1)
    after = Run("4ep", [linear], dataloader_len=10, batch_size=2, step_every="epoch", lr=0.1)
    rows = resumed(after, before, "8ba")
    assert list(rows["epoch"][8:11]) == [0, 0, 1]
    assert list(rows["lr"][8:10]) == pytest.approx([0.1, 0.1])  # epoch 0's LR, saved
    # Stepped after batch 9: batch 10 of AFTER's 40 (4 epochs of 10): 1 - 0.9 * 10/40.
    assert rows["lr"][10] == pytest.approx(0.1 * (1 - 0.9 * 10 / 40))
    assert len(rows["batch"]) == 40


def test_an_epoch_checkpoint_restores_the_next_epoch_and_its_stepped_lr():
    step = StepScheduler(step_size="1ep", gamma=0.5)
    before = Run("3ep", [step], dataloader_len=8, step_every="epoch", lr=1.0)
    after = Run("4ep", [step], dataloader_len=8, step_every="epoch", lr=1.0)
    rp = plan_resumed(after, Resume(before, "1ep"))
    assert (int(rp.restored.epoch), int(rp.restored.batch_in_epoch)) == (1, 0)
    rows = resumed(after, before, "1ep")
    assert list(rows["lr"][[7, 8, 16, 24]]) == pytest.approx([1.0, 0.5, 0.25, 0.125])


def test_a_short_last_batch_keeps_counting_samples_under_afters_geometry():
    linear = LinearScheduler()
    before = Run("20ba", [linear], dataloader_len=8, batch_size=2, lr=0.1)
    after = Run("20ba", [linear], dataloader_len=5, batch_size=3, last_batch_size=1, lr=0.1)  # 13 samples
    rows = resumed(after, before, "6ba")
    # batch_in_epoch 6 >= 5: epoch 1 starts at batch 6, sample 12; its last batch holds 1 sample.
    assert list(rows["sample"][6:13]) == [12, 15, 18, 21, 24, 25, 28]
    assert list(rows["epoch"][6:12]) == [1, 1, 1, 1, 1, 2]


def test_ssr_is_afters_own_and_applied_once():
    cosine = CosineAnnealingScheduler()
    before = Run("20ba", [cosine], lr=1.0)
    after = Run("20ba", [cosine], lr=1.0)
    rp = plan_resumed(after, Resume(before, "5ba", before_ssr=0.5), ssr=1.0)
    assert rp.before.max_duration.value == 10 and rp.after.max_duration.value == 20
    rows = resumed(after, before, "5ba", before_ssr=0.5)
    assert rows["lr"][6] == pytest.approx((1 + math.cos(math.pi * 5 / 20)) / 2)


# -- what Composer refuses --------------------------------------------------------------------------
@pytest.mark.parametrize(("after_duration", "at"), [("10ba", "10ba"), ("5ba", "6ba"), ("1ep", "8ba")])
def test_a_resume_at_or_past_afters_end_is_refused_as_trainer_fit_refuses(after_duration, at):
    before = Run("30ba", [LinearScheduler()], dataloader_len=8)
    after = Run(after_duration, [LinearScheduler()], dataloader_len=8)
    if after_duration == "1ep":  # restored epoch 0 (saved before the epoch ended) < 1ep: it trains nothing
        rp = plan_resumed(after, Resume(before, at))
        assert rp.after.batches == 0 and rp.warnings
        return
    with pytest.raises(SimulationError, match="no training would occur"):
        plan_resumed(after, Resume(before, at))


@pytest.mark.parametrize(
    ("at", "message"),
    [("31ba", "past the end of BEFORE"), ("0ba", "very start"), ("2ep", "no dataloader_len"), ("5s", "must be in")],
)
def test_resume_points_that_do_not_exist_are_errors(at, message):
    before = Run("30ba", [LinearScheduler()])
    with pytest.raises(SimulationError, match=message):
        plan_resumed(Run("60ba", [LinearScheduler()]), Resume(before, at))


def test_pytorch_schedulers_are_not_resumed():
    pytest.importorskip("torch")
    from sched_cli.schedulers.torch_native import TorchScheduler

    torch_step = TorchScheduler("StepLR", step_size=2)
    with pytest.raises(SimulationError, match="PyTorch scheduler"):
        plan_resumed(Run("60ba", [torch_step], lr=0.1), Resume(Run("30ba", [LinearScheduler()], lr=0.1), "5ba"))


# -- the jump and the warnings ------------------------------------------------------------------------
def test_jump_ratio_and_first_row_set_by_after():
    before = Run("100ba", [LinearScheduler(alpha_f=0.0)], lr=1.0)
    after = Run("1000ba", [LinearScheduler(alpha_f=0.0)], lr=1.0)
    rp = plan_resumed(after, Resume(before, "80ba"))
    assert first_set_row(rp, "formula") == 0 and first_set_row(rp, "trainer") == 1
    j = jump(rp, "formula")
    assert j.before == pytest.approx(1 - 79 / 100) and j.after == pytest.approx(1 - 80 / 1000)
    assert j.ratio == pytest.approx((1 - 80 / 1000) / (1 - 79 / 100))
    assert any("jump" in n and "x4.38" in n for n in notes(rp, "formula"))


def test_warnings_for_a_warmup_that_restarts_or_vanishes():
    cosine = CosineAnnealingScheduler()
    restart = plan_resumed(
        Run("100ba", [LinearWithWarmupScheduler(t_warmup="50ba")], lr=1.0), Resume(Run("100ba", [cosine]), "20ba")
    )
    assert any("restarts a warmup" in n for n in notes(restart))
    vanish = plan_resumed(
        Run("100ba", [cosine]), Resume(Run("100ba", [LinearWithWarmupScheduler(t_warmup="50ba")]), "20ba")
    )
    assert any("vanish" in n for n in notes(vanish))
    quiet = plan_resumed(Run("110ba", [cosine]), Resume(Run("100ba", [cosine]), "20ba"))
    assert notes(quiet) == []


def test_points_selection_keeps_the_rows_on_both_sides_of_the_resume():
    before = Run("1000ba", [LinearScheduler()], lr=1.0)
    after = Run("2000ba", [LinearScheduler()], lr=1.0)
    rows = collect(simulate_resumed(after, Resume(before, "777ba"), selection=Selection(points=20)))
    assert {776, 777} <= set(rows["batch"].tolist())
    assert np.all(np.diff(rows["batch"]) > 0)


# -- stopping early --------------------------------------------------------------------------------------
def test_stop_keeps_the_schedule_and_ends_early():
    run = Run("5000tok", [CosineAnnealingScheduler()], batch_size=10, seq_len=10, lr=1.0)
    p = stop(plan(run), Time_from("4000tok"))
    assert p.batches == 40
    full = collect(simulate(run))
    assert full["multiplier"][39] == pytest.approx((1 + math.cos(math.pi * 3900 / 5000)) / 2)


def test_a_stop_point_past_the_end_trains_to_the_end_and_says_so():
    # 50 batches of 100 tokens: a stop at 6,000 tokens lies 10 batches past the end (it was shown as "stopped at
    # 6000tok" with no word that the run had ended first).
    run = Run("5000tok", [CosineAnnealingScheduler()], batch_size=10, seq_len=10, lr=1.0)
    with pytest.warns(StopPastEndWarning, match=r"stop point 6000tok is past the end of the run at ssr 1 \(50 "):
        assert stop(plan(run), Time_from("6000tok")).batches == 50
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert stop(plan(run), Time_from("5000tok")).batches == 50  # at the end exactly: nothing to say
    after = Run("200ba", [LinearScheduler()], lr=1.0)
    with pytest.warns(StopPastEndWarning, match=r"past the end of the run at ssr 1 \(200 batches\)"):
        rp = stop_resumed(
            plan_resumed(after, Resume(Run("100ba", [LinearScheduler()], lr=1.0), "40ba")), Time_from("250ba")
        )
    assert rp.checkpoint + rp.after.batches == 200


def Time_from(text: str):
    from sched_cli.time import Time

    return Time.from_timestring(text)


# -- the commands ----------------------------------------------------------------------------------------
BEFORE = """max_duration: 100ba
lr: 1.0
schedulers:
  - name: linear
    alpha_f: 0.0
"""
AFTER = """max_duration: 1000ba
lr: 1.0
schedulers:
  - name: linear
    alpha_f: 0.0
resume:
  from: before.yaml
  at: 80ba
"""


@pytest.fixture
def specs(tmp_path: Path) -> Path:
    (tmp_path / "before.yaml").write_text(BEFORE)
    (tmp_path / "after.yaml").write_text(AFTER)
    (tmp_path / "plain.yaml").write_text(AFTER.split("resume:")[0])
    return tmp_path


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


def test_export_writes_both_segments_with_a_segment_column(specs):
    result = invoke("export", str(specs / "after.yaml"))
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 1000
    assert rows[79]["segment"] == "0" and rows[80]["segment"] == "1"
    assert float(rows[79]["lr"]) == pytest.approx(1 - 79 / 100)
    assert float(rows[80]["lr"]) == pytest.approx(1 - 80 / 1000)


def test_options_resume_a_plain_spec_and_json_meta_records_both(specs):
    result = invoke(
        "export",
        str(specs / "plain.yaml"),
        "--resume-from",
        str(specs / "before.yaml"),
        "--resume-at",
        "80ba",
        "--as-trainer",
        "-f",
        "json",
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    meta = data["meta"]["resume"]
    assert meta["from"].endswith("before.yaml") and meta["at"] == "80ba"
    assert meta["before"]["max_duration"] == "100ba"
    assert meta["by_ssr"]["1"]["checkpoint_batch"] == 80
    assert "segment" in data["meta"]["columns"]
    lrs = [row["lr"] for row in data["rows"]]
    assert lrs[80] == pytest.approx(1 - 79 / 100)  # saved in the checkpoint
    assert lrs[81] == pytest.approx(1 - 80 / 1000)


def test_table_reports_the_lr_across_the_resume(specs):
    result = invoke("table", str(specs / "after.yaml"))
    assert result.exit_code == 0, result.output
    assert "last before resume" in result.stdout and "first after resume" in result.stdout
    assert "a jump of x4.381" in result.output  # under the table: on stderr in a pipe


def test_validate_warns_of_the_jump(specs):
    result = invoke("validate", str(specs / "after.yaml"))
    assert result.exit_code == 0, result.output
    assert "jump" in result.output


def test_plot_marks_the_resume_and_the_stop(specs):
    result = invoke("plot", str(specs / "after.yaml"), "--width", "80", "--stop-at", "900ba")
    assert result.exit_code == 0, result.output
    assert "resume" in result.stdout and "stop" in result.stdout


def test_stop_at_in_table_and_export(specs):
    result = invoke("table", str(specs / "plain.yaml"), "--stop-at", "0.5dur")
    assert result.exit_code == 0, result.output
    assert "stop (final)" in result.stdout and "batch 499 is the last trained" in result.output
    exported = invoke("export", str(specs / "plain.yaml"), "--stop-at", "300ba")
    assert len(exported.stdout.strip().splitlines()) == 301


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--resume-at", "5ba"], "--resume-at needs --resume-from"),
        (["--resume-from", "before.yaml"], "--resume-from needs --resume-at"),
        (["--resume-from", "before.yaml", "--resume-at", "500ba"], "past the end of BEFORE"),
        (["--resume-from", "missing.yaml", "--resume-at", "5ba"], "no such spec file"),
        (["--stop-at", "soon"], "--stop-at"),
    ],
)
def test_bad_resume_options_are_one_line_errors(specs, monkeypatch, args, message):
    monkeypatch.chdir(specs)
    result = invoke("export", "plain.yaml", *args)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_resume_key_errors_name_the_key(specs):
    (specs / "bad.yaml").write_text(AFTER.replace("at: 80ba", "when: 80ba"))
    result = invoke("validate", str(specs / "bad.yaml"))
    assert result.exit_code == 2 and "resume.when" in result.output
    (specs / "chain.yaml").write_text(AFTER.replace("from: before.yaml", "from: after.yaml"))
    result = invoke("validate", str(specs / "chain.yaml"))
    assert result.exit_code == 2 and "chained" in result.output


def test_the_resume_command_plots_and_summarises(specs):
    result = invoke(
        "resume", str(specs / "before.yaml"), str(specs / "plain.yaml"), "--at", "80ba", "--as-trainer", "--width", "80"
    )
    assert result.exit_code == 0, result.output
    assert "resume (x4.18)" in result.stdout
    assert "lr 0.22 just before, 0.92 at batch 81, a jump of x4.182" in result.stdout


def test_compare_summarises_the_resumed_run(specs):
    result = invoke("compare", str(specs / "after.yaml"), "--no-plot")
    assert result.exit_code == 0, result.output
    assert "\t1000\t" in result.stdout  # batches, exact in a pipe


SAMPLES = Path(__file__).resolve().parent.parent / "sample_specs" / "resume"


def test_the_sample_resume_jumps_as_the_readme_says():
    # cosine_with_warmup(500ba, alpha_f=0.1) by hand: 0.1 + 0.9 * (1 + cos(pi * tau)) / 2.
    def cosine(batch: int, total: int) -> float:
        tau = (batch - 500) / (total - 500)
        return 0.1 + 0.9 * (1 + math.cos(math.pi * tau)) / 2

    result = invoke("table", str(SAMPLES / "gpt_extended.yaml"), "--as-trainer", "--at", "8001ba")
    assert result.exit_code == 0, result.output
    assert f"{6e-4 * cosine(8000, 20000):.6g}" in result.stdout
    assert f"a jump of x{cosine(8000, 20000) / cosine(7998, 10000):.4g}" in result.output
    stopped = invoke("table", str(SAMPLES / "olmo_5t_tokens.yaml"), "--stop-at", "4e12tok", "--at", "0ba")
    assert stopped.exit_code == 0, stopped.output
    assert "stopped at 4e12tok: batch 953,674 is the last trained" in stopped.output  # ceil(4e12 / 4,194,304) - 1


# -- a property: resuming a run with its own spec changes nothing -------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    dl=st.integers(1, 9),
    bs=st.integers(1, 4),
    last=st.integers(1, 4),
    epochs=st.integers(1, 4),
    k=st.integers(1, 40),
    by_epoch=st.booleans(),
    step_every=st.sampled_from(["batch", "epoch"]),
    which=st.integers(0, 2),
    mode=st.sampled_from(["formula", "trainer"]),
)
def test_resuming_with_the_same_spec_reproduces_the_uninterrupted_run(
    dl, bs, last, epochs, k, by_epoch, step_every, which, mode
):
    schedulers = [WARM, CosineAnnealingScheduler(), StepScheduler(step_size="1ep", gamma=0.5)][which]
    run = Run(
        f"{epochs}ep",
        [schedulers],
        dataloader_len=dl,
        batch_size=bs,
        last_batch_size=min(last, bs),
        seq_len=3,
        step_every=step_every,
        lr=0.5,
    )
    total = epochs * dl
    at = f"{1 + (k - 1) % epochs}ep" if by_epoch else f"{1 + (k - 1) % total}ba"
    whole = collect(simulate(run, mode=mode))
    try:
        again = resumed(run, run, at, mode=mode)
    except SimulationError as exc:  # only a checkpoint at the very end: nothing left to train
        assert "no training would occur" in str(exc)
        return
    assert len(again["batch"]) == len(whole["batch"])
    for key in ("batch", "epoch", "sample", "token"):
        assert np.array_equal(again[key], whole[key]), key
    assert np.allclose(again["lr"], whole["lr"], rtol=1e-12, atol=0)


def test_table_places_times_of_any_unit_in_a_resumed_run(tmp_path):
    (tmp_path / "before.yaml").write_text("max_duration: 100ba\nbatch_size: 4\nschedulers: [{name: linear}]\n")
    (tmp_path / "after.yaml").write_text(
        "max_duration: 200ba\nbatch_size: 10\nschedulers: [{name: linear}]\nresume: {from: before.yaml, at: 50ba}\n"
    )
    result = invoke("table", str(tmp_path / "after.yaml"), "--at", "196sp", "--at", "210sp", "--at", "0.5dur")
    assert result.exit_code == 0, result.output
    rows = [line.split("\t") for line in result.stdout.splitlines()[1:]]  # tab-separated in a pipe
    batches = [row[2] for row in rows if row[1].endswith(("sp", "dur"))]
    # 196sp: batch 49 of BEFORE (4 a batch); 210sp: 200 restored at batch 50, then 10 a batch -> 51.
    assert batches == ["49", "51", "100"]


CODE = """open({mark!r}, 'w').close()

def f(state, ssr=1.0):
    return 1.0
"""


def test_resume_from_cannot_widen_what_code_a_spec_may_run(tmp_path):
    # BEFORE sits beside AFTER's tree with a custom scheduler of its own: named by AFTER's resume.from
    # it may not run (AFTER's tree is what the user chose); named on the command line it may.
    (tmp_path / "theirs").mkdir()
    (tmp_path / "mine").mkdir()
    (tmp_path / "theirs" / "sched.py").write_text(CODE.format(mark=str(tmp_path / "RAN")))
    (tmp_path / "theirs" / "before.yaml").write_text("max_duration: 10ba\nschedulers: [{name: 'sched.py:f'}]\n")
    (tmp_path / "mine" / "after.yaml").write_text(
        "max_duration: 20ba\nschedulers: [{name: linear}]\nresume: {from: ../theirs/before.yaml, at: 5ba}\n"
    )
    refused = invoke("validate", str(tmp_path / "mine" / "after.yaml"))
    assert refused.exit_code == 2 and "outside the spec's directory" in refused.output
    assert not (tmp_path / "RAN").exists()
    (tmp_path / "mine" / "plain.yaml").write_text("max_duration: 20ba\nschedulers: [{name: linear}]\n")
    chosen = invoke(
        "validate",
        str(tmp_path / "mine" / "plain.yaml"),
        "--resume-from",
        str(tmp_path / "theirs" / "before.yaml"),
        "--resume-at",
        "5ba",
    )
    assert chosen.exit_code == 0, chosen.output
    assert (tmp_path / "RAN").exists()


def test_the_html_report_shows_both_segments_and_marks_the_resume(specs):
    from sched_cli.specs import load
    from sched_cli.views import report

    spec = load(str(specs / "after.yaml"))
    page = report([spec], [str(specs / "after.yaml")], points=50)
    curve = page.curves[0]
    assert curve.batches == 1000
    resume = next(m for m in curve.marks if m["label"].startswith("resume"))
    assert resume["batch"] == 80 and resume["label"] == "resume (x4.38)"
