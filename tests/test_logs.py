"""Reading training logs: TensorBoard event files (written by a real writer), trainer_state.json,
JSON lines, CSV; recognised by content; corrupt, truncated, empty and huge logs refused in one line."""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest

from sched_cli.logs import ALIGNMENTS, FLOAT32_EPS, LogError, alignment_from_option
from sched_cli.logs import tensorboard as tb
from sched_cli.logs.files import read_log

tensorboardX = pytest.importorskip("tensorboardX", reason="the TensorBoard tests write real event files with it")


def _write_events(directory, scalars, writer_kwargs=None):
    """Real event files, written by tensorboardX's SummaryWriter (the writer PyTorch's mirrors)."""
    writer = tensorboardX.SummaryWriter(str(directory), **(writer_kwargs or {}))
    for tag, step, value in scalars:
        writer.add_scalar(tag, value, step)
    writer.close()
    return sorted(directory.glob("events.out.tfevents.*"))


def test_event_file_scalars_are_read_exactly_as_float32(tmp_path):
    lrs = np.linspace(0.0, 3e-4, 257)
    files = _write_events(
        tmp_path,
        [("train/learning_rate", i, float(v)) for i, v in enumerate(lrs)] + [("train/loss", 3, 1.5)],
    )
    log = read_log(files[0])
    assert log.kind == "tensorboard" and log.tag == "train/learning_rate"
    assert np.array_equal(log.steps, np.arange(257))
    # What was written, rounded to float32 as simple_value stores it; 0.0 (left out of the
    # record by protobuf) reads as 0.
    assert np.array_equal(log.lrs, lrs.astype(np.float32).astype(np.float64))
    assert log.precision == FLOAT32_EPS
    assert log.alignment is ALIGNMENTS["hf"]


def test_every_record_layout_decodes_like_the_slow_parser(tmp_path):
    # Steps of 1 to 5 varint bytes, several tags of several lengths, negative and zero values.
    steps = [0, 1, 127, 128, 16383, 16384, 2**21 + 5, 2**28 + 7]
    scalars = [
        (tag, s, v) for s in steps for tag, v in (("lr", 1e-3 + s * 1e-12), ("x/lr-long-name", -0.5), ("z", 0.0))
    ]
    path = _write_events(tmp_path, scalars)[0]
    fast = tb.read_event_file(path)
    buf = path.read_bytes()
    offsets, lengths, _ = tb._records(buf, str(path))
    slow: dict[str, list[tuple[int, float]]] = {}
    for start, length in zip(offsets.tolist(), lengths.tolist(), strict=True):
        step, values = tb._parse_event(buf, start, start + length)
        for tag, value, _ in values:
            slow.setdefault(tag, []).append((step, value))
    assert set(fast.steps) == set(slow) == {"lr", "x/lr-long-name", "z"}
    for tag, pairs in slow.items():
        assert fast.steps[tag].tolist() == [s for s, _ in pairs]
        assert fast.values[tag].tolist() == [v for _, v in pairs]


def test_a_directory_of_event_files_and_tag_choice(tmp_path):
    _write_events(tmp_path / "run", [("lr-AdamW", i, 0.1 * i) for i in range(5)] + [("loss", 1, 2.0)])
    log = read_log(tmp_path)
    assert log.tag == "lr-AdamW" and log.alignment is ALIGNMENTS["lightning"]
    with pytest.raises(LogError, match="no tag 'lr-adamw'.*did you mean 'lr-AdamW'"):
        read_log(tmp_path, tag="lr-adamw")
    assert read_log(tmp_path, tag="loss").lrs.tolist() == [2.0]


def test_a_truncated_event_file_keeps_the_records_before_the_cut(tmp_path):
    path = _write_events(tmp_path, [("lr", i, 0.25) for i in range(10)])[0]
    data = path.read_bytes()
    cut = tmp_path / "cut" / path.name
    cut.parent.mkdir()
    cut.write_bytes(data[:-7])
    log = read_log(cut)
    assert log.steps.tolist() == list(range(9))
    assert any("ends inside the record" in note for note in log.notes)


def test_a_corrupt_event_file_is_one_error_naming_the_byte(tmp_path):
    bad = tmp_path / "events.out.tfevents.bad"
    payload = b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"  # a varint that never ends
    bad.write_bytes(struct.pack("<Q", len(payload)) + b"\0" * 4 + payload + b"\0" * 4)
    with pytest.raises(LogError, match=r"events.out.tfevents.bad: byte 0: not a TensorBoard event record"):
        read_log(bad)


def _trainer_state(path, rows, **facts):
    path.write_text(json.dumps({"log_history": rows, **facts}))
    return path


def test_trainer_state_json_and_its_directory_forms(tmp_path):
    rows = [{"step": s, "learning_rate": lr, "loss": 1.0} for s, lr in ((1, 1e-4), (2, 2e-4), (3, 3e-4))] + [
        {"step": 3, "eval_loss": 0.5}
    ]
    out = tmp_path / "out"
    (out / "checkpoint-2").mkdir(parents=True)
    (out / "checkpoint-10").mkdir()
    _trainer_state(out / "checkpoint-2" / "trainer_state.json", rows[:2])
    _trainer_state(out / "checkpoint-10" / "trainer_state.json", rows, max_steps=3, train_batch_size=8)
    log = read_log(out)  # the newest checkpoint (10 > 2, compared as numbers)
    assert log.source.endswith("checkpoint-10/trainer_state.json")
    assert log.steps.tolist() == [1, 2, 3] and log.lrs.tolist() == [1e-4, 2e-4, 3e-4]
    assert log.facts == {"max_steps": 3, "train_batch_size": 8}
    assert log.alignment is ALIGNMENTS["hf"]


def test_llamafactory_and_mmengine_json_lines(tmp_path):
    lf = tmp_path / "trainer_log.jsonl"
    lf.write_text("\n".join(json.dumps({"current_steps": s, "total_steps": 3, "lr": 0.1 * s}) for s in (1, 2, 3)))
    log = read_log(tmp_path)
    assert log.kind.startswith("llamafactory") and log.steps.tolist() == [1, 2, 3]
    mm = tmp_path / "vis" / "scalars.json"
    mm.parent.mkdir()
    lines = [
        json.dumps({"lr": 0.01 * s, "data_time": 0.1, "loss": 1.0, "time": 0.2, "iter": s, "step": s}) for s in (1, 2)
    ]
    mm.write_text("\n".join(lines) + '\n{"lr": 0.0')  # the last line cut short: a run still writing
    log = read_log(mm)
    assert log.kind.startswith("mmengine") and log.alignment is ALIGNMENTS["mmengine"]
    assert log.lrs.tolist() == [0.01, 0.02]


def test_csv_logs_lightning_and_generic(tmp_path):
    lightning = tmp_path / "metrics.csv"
    lightning.write_text("epoch,lr-SGD,step,train_loss\n,0.1,0,\n0,,0,1.5\n,0.2,1,\n")
    log = read_log(lightning)
    assert log.tag == "lr-SGD" and log.steps.tolist() == [0, 1] and log.lrs.tolist() == [0.1, 0.2]
    assert log.alignment is ALIGNMENTS["lightning"]
    wandb = tmp_path / "wandb.csv"
    wandb.write_text('"_step","train/learning_rate","train/loss"\n0,0.001,2\n5,0.002,1\n')
    log = read_log(wandb)
    assert log.tag == "train/learning_rate" and log.steps.tolist() == [0, 5]
    generic = tmp_path / "mine.tsv"
    generic.write_text("it\tmy_lr\n1\t0.5\n2\t0.25\n")
    with pytest.raises(LogError, match="no step column.*--step-col"):
        read_log(generic)
    log = read_log(generic, tag="my_lr", step_col="it")
    assert log.steps.tolist() == [1, 2] and log.alignment is None


def test_a_csv_without_its_last_line_end_says_it_may_be_cut_short(tmp_path):
    path = tmp_path / "Train_Samples_lr.csv"
    path.write_text("step,lr\n32,0.001\n64,0.00")  # the run was writing 0.002
    log = read_log(path)
    assert log.lrs.tolist() == [0.001, 0.0] and "may have been cut short" in log.notes[0]
    path.write_text("step,lr\n32,0.001\n64,0.002\n")
    assert read_log(path).notes == []


def test_repeated_steps_keep_the_last_value_and_say_so(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("step,lr\n1,0.1\n2,0.2\n2,0.3\n3,0.4\n")
    log = read_log(path)
    assert log.steps.tolist() == [1, 2, 3] and log.lrs.tolist() == [0.1, 0.3, 0.4]
    assert "step 2 is logged more than once" in log.notes[0]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "the log is empty"),
        ("step,lr\n1,abc\n", r"line 2: lr 'abc' is not a number"),
        ("step,lr\n1.5,0.1\n", "is not a step"),
        ("step,lr\n1,nan\n", "not a finite number"),
        ('{"log_history": [{"step": 1, "loss": 2}]}', "log_history has no 'learning_rate' entries"),
        ("step,loss\n1,2\n", "no learning-rate column found"),
    ],
)
def test_bad_logs_are_one_clear_error(tmp_path, content, message):
    path = tmp_path / "log.csv"
    path.write_text(content)
    with pytest.raises(LogError, match=message):
        read_log(path)


def test_missing_and_bounded_inputs(tmp_path, monkeypatch):
    with pytest.raises(LogError, match="no such file or directory"):
        read_log(tmp_path / "nope.csv")
    with pytest.raises(LogError, match="no log found in this directory"):
        read_log(tmp_path)
    from sched_cli.logs import files

    big = tmp_path / "big.csv"
    big.write_text("step,lr\n" + "1,0.1\n" * 100)
    monkeypatch.setattr(files, "MAX_LOG_BYTES", 100)
    with pytest.raises(LogError, match="more than sched reads from one text log"):
        read_log(big)


def test_alignment_option():
    assert alignment_from_option("hf-legacy").offset == 0
    assert alignment_from_option("-1").offset == -1 and alignment_from_option("2").offset == 2
    with pytest.raises(LogError, match="did you mean 'mmengine'"):
        alignment_from_option("mmengin")


# -- Composer's FileLogger ---------------------------------------------------------------------------
FILE_LOG = """[hyperparameter]: composer_version: "0.32.1" 
[metric][batch=0]: time/epoch: 0 
[metric][batch=0]: loss/train/total: 0.2889 
[metric][batch=1]: lr-AdamW/group0: 0.0000 
[metric][batch=1]: lr-AdamW/group1: 0.0000 
[stdout]: some line the run printed: 3 
[metric][batch=1]: time/batch: 1 
[metric][batch=2]: lr-AdamW/group0: 0.0250 
[metric][batch=2]: lr-AdamW/group1: 0.0025 
[metric][batch=3]: lr-AdamW/group0: 0.0500 
[metric][batch=3]: lr-AdamW/group1: 0.0050 
"""  # noqa: W291 - FileLogger ends every line with a space


def test_composer_file_logger_text_is_recognised_by_its_lines(tmp_path):
    path = tmp_path / "logs-rank0.txt"
    path.write_text(FILE_LOG)
    with pytest.raises(
        LogError,
        match=r"several LR metrics \('lr-AdamW/group0', 'lr-AdamW/group1'\); pick one with --tag 'lr-AdamW/group0'",
    ):
        read_log(path)
    log = read_log(path, tag="lr-AdamW/group1")
    assert log.kind == "composer FileLogger" and log.alignment is ALIGNMENTS["composer"]
    assert log.steps.tolist() == [1, 2, 3] and log.lrs.tolist() == [0.0, 0.0025, 0.005]
    # "{:.4f}": each value is the LR to within half its last digit.
    assert log.resolution == 5e-5 and any("4 decimals" in note for note in log.notes)
    run = tmp_path / "run"
    run.mkdir()
    (run / "logs-rank0.txt").write_text(FILE_LOG.replace("lr-AdamW/group1", "grad/norm"))
    assert read_log(tmp_path / "run").tag == "lr-AdamW/group0"  # a directory holding one


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('[hyperparameter]: composer_version: "0.32.1" \n', r"no learning-rate metric found \(it has: none\)"),
        ("[metric][batch=1]: lr-SGD/group0: abc \n", "lr-SGD/group0 'abc' is not a number"),
        ("[metric][batch=1]: lr-SGD/group0: nan \n", "not a finite number"),
        ("[metric][batch=1]: time/batch: 1 \n", r"no learning-rate metric found \(it has: time/batch\)"),
    ],
)
def test_bad_composer_file_logs_are_one_clear_error(tmp_path, content, message):
    path = tmp_path / "log.txt"
    path.write_text(content)
    with pytest.raises(LogError, match=message):
        read_log(path)


def test_a_composer_file_log_cut_short_leaves_out_its_last_line(tmp_path):
    path = tmp_path / "log.txt"
    # The run was writing 0.0125: "0.01" alone would be a wrong LR, so the line is left out.
    path.write_text("[metric][batch=1]: lr-SGD/group0: 0.0250 \n[metric][batch=2]: lr-SGD/group0: 0.01")
    log = read_log(path)
    assert log.steps.tolist() == [1] and log.lrs.tolist() == [0.025]
    assert "the last line is cut short" in log.notes[0]


# -- W&B history exports, DeepSpeed's and Megatron's logs in samples ---------------------------------
def test_wandb_exports_read_the_trainers_own_step_column(tmp_path):
    # Hugging Face's WandbCallback logs train/global_step with each call; W&B's _step counts calls
    # (an eval between two training logs moves it on).
    hf = tmp_path / "hf.csv"
    hf.write_text(
        '"_step","train/global_step","train/learning_rate","eval/loss"\n0,10,0.001,\n1,10,,0.5\n2,20,0.002,\n'
    )
    log = read_log(hf)
    assert (log.tag, log.kind) == ("train/learning_rate", "wandb export (Hugging Face WandbCallback)")
    assert log.steps.tolist() == [10, 20] and log.alignment is ALIGNMENTS["hf"]
    # Lightning's WandbLogger adds trainer/global_step; its LearningRateMonitor's rule.
    lightning = tmp_path / "lightning.csv"
    lightning.write_text("_step,epoch,lr-AdamW,trainer/global_step\n0,0,0.1,0\n1,0,0.2,1\n2,0,,1\n")
    log = read_log(lightning)
    assert log.kind == "wandb export (Lightning WandbLogger)" and log.alignment is ALIGNMENTS["lightning"]
    assert log.steps.tolist() == [0, 1]
    # Composer's WandBLogger logs at the batch (W&B's step); run.history() saved as JSON records.
    composer = tmp_path / "history.json"
    composer.write_text(json.dumps([{"_step": 1, "lr-SGD/group0": 0.5}, {"_step": 2, "lr-SGD/group0": 0.25}]))
    log = read_log(composer)
    assert log.kind == "wandb export (Composer WandBLogger)" and log.alignment is ALIGNMENTS["composer"]
    assert log.steps.tolist() == [1, 2] and log.lrs.tolist() == [0.5, 0.25]
    # DeepSpeed's WandbMonitor logs at step=global_samples; Megatron-LM's at the iteration.
    deepspeed = tmp_path / "ds.csv"
    deepspeed.write_text("_step,Train/Samples/lr\n32,0.001\n64,0.002\n")
    log = read_log(deepspeed)
    assert log.unit == "sample" and log.alignment is ALIGNMENTS["deepspeed"] and log.steps.tolist() == [32, 64]
    megatron = tmp_path / "megatron.jsonl"
    megatron.write_text('{"_step": 10, "learning-rate": 0.001}\n{"_step": 20, "samples vs steps": 640}\n')
    log = read_log(megatron)
    assert log.kind == "wandb export (Megatron-LM)" and log.alignment is ALIGNMENTS["megatron"]
    assert log.steps.tolist() == [10] and log.unit == "update"
    # W&B's _step is used when nothing else counts the steps, under the "current" assumption.
    plain = tmp_path / "plain.jsonl"
    plain.write_text('{"_step": 0, "learning_rate": 0.1}\n{"_step": 1, "learning_rate": 0.2}\n')
    log = read_log(plain)
    assert log.steps.tolist() == [0, 1] and log.alignment is None


def test_logs_counted_in_samples(tmp_path):
    _write_events(tmp_path / "ds", [("Train/Samples/lr", 32 * k, 1e-3) for k in (1, 2)])
    log = read_log(tmp_path / "ds")
    assert log.unit == "sample" and log.alignment is ALIGNMENTS["deepspeed"]
    _write_events(tmp_path / "mg", [("learning-rate", 1, 1e-3), ("learning-rate vs samples", 16, 1e-3)])
    assert read_log(tmp_path / "mg").tag == "learning-rate"  # the iterations first
    # tensorboardX writes the tag with "_" for its spaces (torch's SummaryWriter keeps them).
    log = read_log(tmp_path / "mg", tag="learning-rate_vs_samples")
    assert log.unit == "sample" and log.alignment is ALIGNMENTS["megatron"] and log.steps.tolist() == [16]
    # DeepSpeed's csv_monitor: one file per tag, named after it, its "step" the samples seen.
    csv_monitor = tmp_path / "Train_Samples_lr.csv"
    csv_monitor.write_text("step,lr\n32,0.001\n64,0.002\n")
    log = read_log(csv_monitor)
    assert log.kind == "deepspeed csv_monitor" and log.unit == "sample" and log.steps.tolist() == [32, 64]
    other = tmp_path / "lr.csv"
    other.write_text(csv_monitor.read_text())
    assert read_log(other).unit == "update"


def test_non_finite_logged_lrs_are_refused_with_their_step(tmp_path):
    _write_events(tmp_path, [("train/learning_rate", 1, 1e-5), ("train/learning_rate", 2, float("nan"))])
    with pytest.raises(LogError, match=r"train/learning_rate is nan at step 2 \(1 such points\), not a finite number"):
        read_log(tmp_path)


def test_event_files_of_several_runs_under_one_directory_are_refused(tmp_path):
    # Hugging Face's runs/<date>_<host>/: two launches, each from step 1.
    for run in ("Dec05_b", "Dec04_a"):
        _write_events(tmp_path / "runs" / run, [("train/learning_rate", s, 1e-5 * s) for s in range(1, 6)])
    with pytest.raises(LogError, match=r"logged from step 1 in more than one directory .*several runs"):
        read_log(tmp_path)


def test_a_resumed_runs_directories_read_in_the_order_written(tmp_path):
    # The crashed run logged steps 1-6, the last two wrong; resumed from its checkpoint at 4, the
    # run logged 5-8 again, in a directory whose name sorts first ("Apr" < "Dec"): the newer file,
    # by the time in its name, wins.
    first = _write_events(
        tmp_path / "runs" / "Dec31_a", [("lr", s, [0.1, 0.2, 0.3, 0.4, 9.0, 9.0][s - 1]) for s in range(1, 7)]
    )
    second = _write_events(tmp_path / "runs" / "Apr01_b", [("lr", s, 0.1 * s) for s in range(5, 9)])
    stamp = int(first[0].name.split(".")[3])
    second[0].rename(
        second[0].with_name(second[0].name.replace(str(int(second[0].name.split(".")[3])), str(stamp + 60)))
    )
    log = read_log(tmp_path)
    assert log.steps.tolist() == list(range(1, 9))
    assert np.allclose(log.lrs, [0.1 * s for s in range(1, 9)], rtol=1e-7)
    assert "2 steps (5 to 6) are logged more than once (a resumed run" in log.notes[0]


def test_binary_garbage_and_a_huge_line_are_said_to_be_no_log(tmp_path):
    garbage = tmp_path / "model.bin"
    garbage.write_bytes(bytes(range(256)) * 40)
    with pytest.raises(
        LogError, match="model.bin: not a log sched reads: a binary file that is not TensorBoard events"
    ):
        read_log(garbage)
    huge = tmp_path / "one.txt"
    huge.write_text("x" * 200_000)
    with pytest.raises(LogError, match=r"one.txt: line 1: not a CSV log sched reads \(field larger than field limit"):
        read_log(huge)
    line = tmp_path / "one.jsonl"
    line.write_text('{"step": 1, "lr": ')  # a single line cut short holds no record to read
    with pytest.raises(LogError, match=r"one.jsonl: line 1: not JSON"):
        read_log(line)


def test_the_lr_picked_among_others_is_said_and_momentum_is_no_lr(tmp_path):
    both = tmp_path / "both.csv"
    both.write_text("step,lr,lr-Adam/pg1\n1,0.1,0.2\n")
    log = read_log(both)
    assert log.tag == "lr" and log.notes == [
        f"{both}: read the LR column 'lr'; it also has 'lr-Adam/pg1': pick another with --lr-col"
    ]
    # Lightning's LearningRateMonitor(log_momentum=True, log_weight_decay=True), MMEngine's base_lr.
    lightning = tmp_path / "metrics.csv"
    lightning.write_text("step,lr-Adam,lr-Adam-momentum,lr-Adam-weight_decay,base_lr\n0,0.1,0.9,0.01,0.5\n")
    log = read_log(lightning)
    assert log.tag == "lr-Adam" and log.notes == []
    with pytest.raises(LogError, match=r"no column 'stpe' in this log; did you mean --step-col 'step'\?"):
        read_log(lightning, step_col="stpe")


def test_trainer_state_keys_are_suggested_for_a_mistyped_tag(tmp_path):
    path = _trainer_state(tmp_path / "trainer_state.json", [{"step": 1, "learning_rate": 1e-4, "loss": 2.0}])
    with pytest.raises(LogError, match=r"no key 'learning_rat' in this log; did you mean 'learning_rate'\?"):
        read_log(path, tag="learning_rat")


def test_a_wandb_chart_export_of_one_run_or_several(tmp_path):
    # A W&B chart's "Export CSV": its x as "Step", each run's column "<run> - <key>" with __MIN and __MAX beside it.
    one = tmp_path / "chart.csv"
    one.write_text('"Step","a - lr","a - lr__MIN","a - lr__MAX"\n1,0.1,0.1,0.1\n2,0.2,0.2,0.2\n')
    log = read_log(one)
    assert (log.tag, log.steps.tolist(), log.lrs.tolist()) == ("a - lr", [1, 2], [0.1, 0.2])
    two = tmp_path / "runs.csv"
    two.write_text('"Step","a - lr","a - lr__MIN","b - lr","b - lr__MAX"\n1,0.1,0.1,0.3,0.3\n')
    with pytest.raises(LogError, match=r"several LR columns \('a - lr', 'b - lr'\); pick one with --lr-col 'a - lr'"):
        read_log(two)
    assert read_log(two, tag="b - lr").lrs.tolist() == [0.3]


def test_a_json_lines_log_cut_short_says_so(tmp_path):
    path = tmp_path / "trainer_log.jsonl"
    path.write_text('{"current_steps": 1, "lr": 0.1}\n{"current_steps": 2, "lr": 0.2}\n{"current_steps": 3, "l')
    log = read_log(path)
    assert log.steps.tolist() == [1, 2] and log.notes == [
        f"{path}: line 3 is cut short (still being written?); read up to it"
    ]


def test_lightning_logs_directory_with_one_version_or_several(tmp_path):
    # CSVLogger writes lightning_logs/version_<N>/metrics.csv, one version per fit.
    (tmp_path / "version_0").mkdir()
    (tmp_path / "version_0" / "metrics.csv").write_text("lr-Adam,step\n0.1,0\n0.2,1\n")
    log = read_log(tmp_path)
    assert (log.tag, log.steps.tolist(), log.lrs.tolist()) == ("lr-Adam", [0, 1], [0.1, 0.2])
    (tmp_path / "version_1").mkdir()
    (tmp_path / "version_1" / "metrics.csv").write_text("lr-Adam,step\n0.1,0\n")
    with pytest.raises(LogError, match=r"several Lightning metrics.csv logs \(.*version_0/metrics.csv, .*version_1/m"):
        read_log(tmp_path)
