"""``sched check`` through a real process: exit status, verdict lines, JSON, pictures, errors."""

from __future__ import annotations

import json

import pytest

from tests.check_case import HAND, write_plan
from tests.conftest import one_error_line


@pytest.fixture
def run(tmp_path):
    plan = write_plan(tmp_path)
    state = tmp_path / "out" / "trainer_state.json"
    state.parent.mkdir()

    def write(lrs, **facts):
        rows = [{"step": i + 1, "learning_rate": lr, "loss": 1.0} for i, lr in enumerate(lrs)]
        state.write_text(json.dumps({"log_history": rows, **facts}))
        return state

    write(HAND)
    return plan, state, write


def test_a_matching_log_exits_0_with_one_line(sched, run):
    plan, state, _ = run
    code, out, err = sched("check", str(plan), str(state.parent))
    assert code == 0 and err == ""
    assert out == "check: 10 logged LRs match the plan (largest relative difference 0, tolerance 1e-06)\n"


def test_a_diverging_log_exits_1_with_the_step_the_spans_and_the_reason(sched, run):
    plan, _, write = run
    state = write(HAND[:5] + [9e-4] * 5)
    code, out, _ = sched("check", str(plan), str(state))
    assert code == 1
    lines = out.splitlines()
    assert lines[0] == "check: the run leaves the plan at step 6: logged 0.0009, planned 0.000625 (x1.44)"
    assert "  off the plan: steps 6-10 (5 logged); farthest at step 10: logged 0.0009, planned 0.000125 (x7.2)" in lines
    assert lines[-1] == "  reason: no known explanation fits every logged point"


def test_json_verdict_for_scripts(sched, run):
    plan, _, write = run
    state = write(HAND[1:] + [0.0])  # the next update's LR: one step off under HF's current rule
    code, out, _ = sched("check", str(plan), str(state), "--format", "json")
    assert code == 1
    verdict = json.loads(out)
    assert verdict["verdict"] == "diverges" and verdict["points"] == 10
    assert verdict["first_divergence"] == {"step": 1, "logged": 5e-4, "planned": 0.0}
    assert verdict["alignment"]["name"] == "hf" and "one step later" in verdict["reason"]
    assert verdict["explained_by"] == "the plan one step later"
    # Said to be the logger's rule, the same log passes.
    # Its last point is the LR the optimizer holds after the run: the schedule's end, 0.
    code, out, _ = sched("check", str(plan), str(state), "--alignment", "hf-legacy", "--format", "json")
    verdict = json.loads(out)
    assert code == 0 and verdict["matched"] == 10 and verdict["reason"] is verdict["explained_by"] is None


def test_tolerance_option(sched, run):
    plan, _, write = run
    state = write([v * (1 + 1e-5) for v in HAND])
    assert sched("check", str(plan), str(state))[0] == 1
    code, out, _ = sched("check", str(plan), str(state), "--tolerance", "1e-4")
    assert code == 0 and "largest relative difference 1e-05" in out


def test_a_picture_of_the_plan_and_the_log(sched, run, tmp_path):
    plan, state, _ = run
    picture = tmp_path / "check.png"
    code, out, err = sched("check", str(plan), str(state), "-o", str(picture))
    assert code == 0 and f"wrote {picture}" in err
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.json"], "missing.json: no such file or directory"),
        (["{log}", "--alignment", "hff"], "--alignment 'hff' is neither a logger's rule"),
        (["{log}", "--tag", "lr"], "no key 'lr' in this log (it has: learning_rate, loss)"),
    ],
)
def test_errors_are_one_line_exit_2(sched, run, args, message):
    plan, state, _ = run
    args = [a.replace("{log}", str(state)) for a in args]
    code, out, err = sched("check", str(plan), *args)
    assert code == 2 and out == ""
    assert message in one_error_line(err)


def test_a_generic_csv_says_which_rule_it_assumed(sched, run, tmp_path):
    plan, _, _ = run
    log = tmp_path / "lr.csv"
    log.write_text("step,lr\n" + "".join(f"{i + 1},{v!r}\n" for i, v in enumerate(HAND)))
    code, out, err = sched("check", str(plan), str(log))
    assert code == 0 and "--alignment current" in err and err.startswith("warning:")
    code, _, err = sched("-q", "check", str(plan), str(log))
    assert code == 0 and err == ""


def test_deepspeeds_csv_monitor_log_in_samples(sched, run, tmp_path):
    plan, _, _ = run
    # DeepSpeed's csv_monitor writes Train/Samples/lr to Train_Samples_lr.csv: the samples of the
    # updates done, then the LR after the scheduler stepped (the next update's).
    log = tmp_path / "Train_Samples_lr.csv"
    log.write_text("step,lr\n" + "".join(f"{16 * k},{v!r}\n" for k, v in enumerate([*HAND[1:], 0.0], 1)))
    code, out, err = sched("check", str(plan), str(log), "--devices", "2")  # 8 a device (HF's default) x 2
    assert code == 0 and out.startswith("check: 10 logged LRs match the plan"), out + err
    bare = tmp_path / "plan.yaml"
    bare.write_text("max_duration: 10ba\nlr: 0.001\nschedulers:\n  - name: LinearScheduler\n")
    code, out, err = sched("check", str(bare), str(log))
    assert code == 2 and out == ""
    assert "does not say how many samples an update takes; give --batch-size N" in one_error_line(err)


def test_a_resume_under_another_spec_is_found(sched, tmp_path):
    from sched_cli.check import planned_lrs
    from sched_cli.specs import load

    before = "sample_specs/resume/gpt_before.yaml"
    extended = "sample_specs/resume/gpt_extended.yaml"  # resumed from gpt_before at batch 8,000
    import numpy as np

    steps = np.union1d(np.arange(0, 20_000, 37), np.arange(7_990, 8_010))
    logged, _ = planned_lrs(load(extended), steps)
    log = tmp_path / "lr.csv"
    log.write_text("step,lr\n" + "".join(f"{s},{float(v)!r}\n" for s, v in zip(steps, logged, strict=True)))
    code, out, _ = sched("check", before, str(log), "--alignment", "zero")
    assert code == 1 and "reason: no known explanation" in out
    # The resumed spec as it is (its resume: key says where it was resumed) is the whole schedule...
    code, out, _ = sched("check", before, str(log), "--alignment", "zero", "--explain-with", extended)
    assert code == 1 and f"reason: the log matches {extended}'s schedule, not the plan's" in out
    # ...and without its resume: key, the resume is found where the log leaves the plan.
    plain = tmp_path / "extended.yaml"
    text = open(extended).read()
    plain.write_text(text[: text.index("resume:")])
    code, out, _ = sched("check", before, str(log), "--alignment", "zero", "--explain-with", str(plain))
    assert code == 1
    reason = f"reason: the log matches the plan until update 8,000 (--resume-at 8000ba), then a resume with {plain}"
    assert reason in out
    code, out, _ = sched("check", before, str(log), "--alignment", "zero", "--explain-with", str(plain), "-f", "json")
    assert json.loads(out)["explained_by"] == "resumed with extended.yaml at update 8,000"
    # Logged every 37 steps only, the log cannot tell where between two points the resume was.
    rows = log.read_text().splitlines(True)
    sparse = tmp_path / "sparse.csv"
    sparse.write_text(rows[0] + "".join(r for r in rows[1:] if int(r.split(",")[0]) % 37 == 0))
    code, out, _ = sched("check", before, str(sparse), "--alignment", "zero", "--explain-with", str(plain))
    assert code == 1 and "a checkpoint between updates 7,992 and 8,028 (the log has no points in between" in out


def test_an_html_page_with_the_verdict(sched, run, tmp_path):
    plan, _, write = run
    state = write(HAND[:5] + [9e-4] * 5)
    page = tmp_path / "check.html"
    code, out, err = sched("check", str(plan), str(state), "-o", str(page))
    assert code == 1 and f"wrote {page}" in err
    text = page.read_text()
    assert text.startswith("<!DOCTYPE html>") and "default-src 'none'" in text
    assert "check: the run leaves the plan at step 6: logged 0.0009, planned 0.000625 (x1.44)" in text
    assert out.splitlines()[0] in text


def test_a_signal_while_the_page_is_written_leaves_the_old_file(sched, run, tmp_path):
    plan, state, _ = run
    page = tmp_path / "check.html"
    page.write_text("before")
    # SIGTERM arrives once the page is in its temporary file, before it is moved into place.
    prelude = (
        "import os, signal\n_fsync = os.fsync\n"
        "def fsync(fd):\n    os.kill(os.getpid(), signal.SIGTERM)\n    _fsync(fd)\n"
        "os.fsync = fsync\n"
    )
    code, _, err = sched("check", str(plan), str(state), "-o", str(page), prelude=prelude)
    assert code == 128 + 15 and "Traceback" not in err
    assert page.read_text() == "before"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["args.json", "check.html", "out"]


def test_the_new_reasons_through_the_command(sched, tmp_path):
    # 40 samples in micro-batches of 4 on one device, 1 epoch: 10 updates, 2 of warmup; the run
    # accumulated 2 micro-batches (5 updates): HF's linear by hand, lr x u / 2, then lr x (5 - u) / 3.
    plan = tmp_path / "args.json"
    keys = {"output_dir": "x", "learning_rate": 1e-3, "lr_scheduler_type": "linear", "warmup_steps": 2}
    plan.write_text(json.dumps({**keys, "num_train_epochs": 1, "per_device_train_batch_size": 4}))
    state = tmp_path / "trainer_state.json"
    five = [0.0, 5e-4, 1e-3, 1e-3 * 2 / 3, 1e-3 / 3]
    state.write_text(json.dumps({"log_history": [{"step": i + 1, "learning_rate": v} for i, v in enumerate(five)]}))
    code, out, _ = sched("check", str(plan), str(state), "--dataset-size", "40")
    assert code == 1
    assert out.splitlines()[-1] == (
        "  reason: the log matches the plan with --devices 2 (not 1) or gradient_accumulation_steps 2 (not 1): both "
        "make the same updates, so the log cannot tell them apart"
    )
    # Every LR twice the plan's: another base LR, named with the file's key.
    state.write_text(json.dumps({"log_history": [{"step": i + 1, "learning_rate": 2 * v} for i, v in enumerate(HAND)]}))
    plan.write_text(json.dumps({**keys, "max_steps": 10}))
    code, out, _ = sched("check", str(plan), str(state), "--format", "json")
    assert code == 1 and json.loads(out)["reason"].startswith(
        "the log matches the plan with learning_rate 0.002 (x2 the plan's 0.001; --lr 0.002)"
    )


# The sample plan prints a note (1 device assumed) when it loads: an error must come before it, alone.
SFT = ["sample_specs/check/sft_args.json", "--dataset-size", "1000"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["{huge}"], "one.txt: line 1: not a CSV log sched reads (field larger than field limit"),
        (["sample_specs/check/sft_args.json"], "sft_args.json is a plan (Hugging Face TrainingArguments), not a log"),
        (["sample_specs/bert_base.yaml"], "sample_specs/bert_base.yaml is a plan (a sched spec), not a log"),
        (
            ["{log}", "sample_specs/check/sft-run/trainer_state.json"],
            "the log sample_specs/check/sft-run is given already",
        ),
        (["{garbage}"], "model.bin: not a log sched reads: a binary file that is not TensorBoard events"),
        (["{empty}"], "empty.csv: the log is empty"),
        (["{log}", "--format", "csv"], "'csv' is not one of 'text', 'json'"),
        (["{log}", "--format", "json", "--plot"], "--plot draws on standard output, where --format json prints"),
        (["{log}", "--tolerance", "nan"], "--tolerance nan: give a finite relative tolerance"),
        (["{log}", "--explain-with", "nope.yaml"], "--explain-with nope.yaml: no such spec file"),
        (["{log}", "-o", "{tmp}/check.bmp"], "check.bmp: unknown image format '.bmp'; use .png, .svg, .pdf or .html"),
        (["{log}", "--alignment", "hff"], "did you mean 'hf'?"),
        (["{log}", "--tag", "learning_rat"], "no key 'learning_rat' in this log; did you mean 'learning_rate'?"),
        (
            ["{log}", "--step-col", "global_step"],
            "--step-col global_step: sample_specs/check/sft-run/trainer_state.json is a",
        ),
    ],
)
def test_a_user_error_is_the_only_line_before_any_work(sched, tmp_path, args, message):
    (tmp_path / "one.txt").write_text("x" * 200_000)
    (tmp_path / "model.bin").write_bytes(bytes(range(256)) * 40)
    (tmp_path / "empty.csv").write_text("")
    names = {"huge": "one.txt", "garbage": "model.bin", "empty": "empty.csv"}
    args = [a.replace("{log}", "sample_specs/check/sft-run").replace("{tmp}", str(tmp_path)) for a in args]
    args = [str(tmp_path / names[a[1:-1]]) if a[1:-1] in names else a for a in args]
    code, out, err = sched("check", *SFT, *args)
    assert code == 2 and out == ""  # no verdict printed, then refused
    assert message in one_error_line(err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.csv", "model.bin", "one.txt"]


@pytest.mark.parametrize("log_as_plan", ["sample_specs/check/sft-run", "sample_specs/check/sft-run/trainer_state.json"])
def test_swapped_arguments_are_recognised(sched, log_as_plan):
    code, out, err = sched("check", log_as_plan, "sample_specs/check/sft_args.json", "--dataset-size", "1000")
    assert code == 2 and out == ""
    assert one_error_line(err) == (
        f"sched: error: {log_as_plan} is a log (hf trainer_state.json, 'learning_rate'), given as PLAN: the plan "
        f"comes first, then the logs: sched check PLAN {log_as_plan} (is sample_specs/check/sft_args.json the plan?)"
    )


def test_a_log_on_stdin_or_from_a_named_pipe(sched, run, tmp_path):
    import os
    import threading

    plan, state, _ = run
    with open(state, "rb") as piped:
        code, out, _ = sched("check", str(plan), "-", stdin=piped)
    assert code == 0 and out.startswith("check: 10 logged LRs match the plan")
    with open(os.devnull, "rb") as nothing:
        code, out, err = sched("check", str(plan), "-", stdin=nothing)
    assert code == 2 and "sched: error: stdin: the log is empty" in one_error_line(err)
    fifo = tmp_path / "lr.csv"
    os.mkfifo(fifo)
    text = "step,lr\n" + "".join(f"{i + 1},{v!r}\n" for i, v in enumerate(HAND))
    writer = threading.Thread(target=lambda: fifo.write_text(text))
    writer.start()
    code, out, err = sched("check", str(plan), str(fifo), "--alignment", "hf", timeout=30)
    writer.join()
    assert code == 0 and out.startswith("check: 10 logged LRs match the plan"), err


def test_a_resumed_run_logging_steps_again_keeps_the_later_values(sched, run, tmp_path):
    plan, _, _ = run
    # The first run logged 1-7, its last two LRs wrong, and stopped; resumed from its checkpoint at
    # step 5 it logged 6-10 again, as planned.
    log = tmp_path / "lr.csv"
    first = [*HAND[:5], 9.0, 9.0]
    rows = [(i + 1, v) for i, v in enumerate(first)] + [(s, HAND[s - 1]) for s in range(6, 11)]
    log.write_text("step,lr\n" + "".join(f"{s},{v!r}\n" for s, v in rows))
    code, out, err = sched("check", str(plan), str(log), "--alignment", "hf")
    assert code == 0 and out.startswith("check: 10 logged LRs match the plan"), out + err
    assert f"warning: {log}: 2 steps (6 to 7) are logged more than once (a resumed run" in err


def test_an_lr_column_picked_among_others_is_said(sched, run, tmp_path):
    plan, _, _ = run
    log = tmp_path / "lr.csv"
    log.write_text("step,lr,lr-Adam/pg1\n" + "".join(f"{i + 1},{v!r},0.5\n" for i, v in enumerate(HAND)))
    code, _, err = sched("check", str(plan), str(log), "--alignment", "hf")
    assert code == 0 and f"{log}: read the LR column 'lr'; it also has 'lr-Adam/pg1': pick another with --lr-col" in err
    code, out, _ = sched("check", str(plan), str(log), "--alignment", "hf", "--lr-col", "lr-Adam/pg1")
    assert code == 1 and "logged 0.5" in out


def test_an_error_after_the_plan_is_read_comes_without_the_plans_notes(sched, tmp_path):
    # A Hugging Face run counted on 1 device (a note when it loads) whose plan has no base LR.
    plan = tmp_path / "plan.yaml"
    plan.write_text(
        "max_duration: 2ep\ntrainer: hf\ndataset_size: 100\nbatch_size: 10\nschedulers:\n  - name: ConstantScheduler\n"
    )
    log = tmp_path / "lr.csv"
    log.write_text("step,lr\n1,0.1\n")
    code, out, err = sched("check", str(plan), str(log))
    assert code == 2 and out == ""
    assert one_error_line(err) == f"sched: error: {plan}: the plan has no base LR to compare logged LRs with; give --lr"
    code, out, err = sched("check", str(plan), str(log), "--lr", "0.1", "--alignment", "hf")
    assert code == 0 and err.startswith(f"note: {plan}: a Hugging Face run previewed on 1 device"), err


def test_a_picture_and_the_terminal_chart_together(sched, run, tmp_path):
    plan, state, _ = run
    picture = tmp_path / "check.svg"
    code, out, err = sched(
        "check", str(plan), str(state), "-o", str(picture), "--plot", env={**_env(), "NO_COLOR": "1"}
    )
    assert code == 0 and f"wrote {picture}" in err
    assert picture.read_text().lstrip().startswith("<?xml") and "learning rate" in out  # --plot was dropped before


def _env():
    import os

    return dict(os.environ)
