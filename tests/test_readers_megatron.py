"""The Megatron-LM reader: launch scripts and flag files (bash words without running bash),
functional-test model_config.yaml files, and Megatron's semantics, checked by hand."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import one_error_line

from sched_cli import readers
from sched_cli.readers import ReaderError
from sched_cli.readers.megatron import load_text, parse_skipped, ramp_schedule, read
from sched_cli.simulator import collect, simulate
from sched_cli.specs import Overrides, SpecError, load_file

DATA = Path(__file__).resolve().parent / "data" / "megatron"


def test_unclosed_quote_is_refused(tmp_path):
    path = tmp_path / "bad.sh"
    path.write_text("run --lr '3e-4\n")
    with pytest.raises(ReaderError, match="single quote is not closed"):
        load_text(path)


# -- the reader ------------------------------------------------------------------------------------
def script(tmp_path: Path, body: str, name: str = "train.sh") -> Path:
    path = tmp_path / name
    path.write_text(body)
    return path


def test_unresolvable_variable_is_a_one_line_error(tmp_path, sched):
    path = script(tmp_path, "torchrun pretrain_gpt.py --train-iters 100 --global-batch-size 8 --lr $LR\n")
    with pytest.raises(SpecError, match=r"--lr \$LR: depends on \$LR"):
        load_file(path, Overrides(source="megatron"))
    code, _, err = sched("export", str(path), "--from", "megatron", "-o", str(tmp_path / "o.csv"))
    assert code == 2
    line = one_error_line(err)
    assert line.startswith("sched: error:") and "$LR" in line and "train.sh" in line


def test_an_unresolved_variable_of_an_irrelevant_flag_is_fine(tmp_path):
    path = script(tmp_path, "run --data-path $DATA --train-iters 10 --global-batch-size 4 --lr 1.0 $EXTRA\n")
    spec = load_file(path, Overrides(source="megatron"))
    assert any("$EXTRA" in note and "not read" in note for note in spec.notes)
    assert not any("$DATA" in note for note in spec.notes)


def test_a_string_of_flags_with_an_unresolved_path_keeps_its_literal_flags(tmp_path):
    # The shape of Megatron-LM's multimodal scripts (written here): the flags are one string variable, a path in
    # it comes from the environment or `pwd`, and a test of $WORKSPACE guards the launch.
    body = (
        'if [[ -z $WORKSPACE ]]; then\n  echo "set WORKSPACE"\nfi\nSRC=`pwd`\nOUT="${WORKSPACE}/out"\n'
        'OPTIONS=" --train-iters 300 --global-batch-size 16 --lr 2e-4 --min-lr 2e-5 --lr-decay-style cosine '
        '--lr-warmup-iters 30 --data-path ${SRC}/data.yaml --save ${OUT}"\n'
        "torchrun --nproc_per_node 8 train.py ${OPTIONS}\n"
    )
    spec = load_file(script(tmp_path, body), Overrides(source="megatron", devices=8))
    assert spec.run.max_duration.value == 300
    assert not any("WORKSPACE" in note or "pwd" in note for note in spec.notes)
    rows = collect(simulate(spec.run, mode="trainer"))
    assert rows["lr"][15] == 2e-4 * 15 / 30 and rows["lr"][30] == 2e-4  # linear warmup over 30 iterations


def test_an_unresolved_word_in_the_launch_command_is_still_named(tmp_path):
    body = 'ARGS="--train-iters 10 --global-batch-size 4 --lr 1.0 $EXTRA"\nrun $ARGS\n'
    spec = load_file(script(tmp_path, body), Overrides(source="megatron"))
    assert any("$EXTRA" in note and "not read" in note for note in spec.notes)


def test_iteration_run_by_hand(tmp_path):
    body = (
        "GBS=16\nrun --train-iters 100 --global-batch-size $GBS --micro-batch-size 2 --lr 1e-3 --min-lr 1e-4 \\\n"
        "  --lr-warmup-iters 10 --lr-decay-iters 80 --lr-decay-style cosine --seq-length 512\n"
    )
    spec = load_file(script(tmp_path, body), Overrides(source="megatron", devices=8))
    rows = collect(simulate(spec.run, mode="trainer"))
    assert len(rows["lr"]) == 100
    assert rows["sample"][37] == 37 * 16 and rows["token"][37] == 37 * 16 * 512
    assert rows["lr"][0] == 0.0 and rows["lr"][5] == 1e-3 * 80 / 160 and rows["lr"][10] == 1e-3
    assert rows["lr"][81] == 1e-4  # n = 1296 > D = 80 x 16
    assert "100 iterations; global batch size 16, data-parallel size 8" in spec.facts


def test_sample_run_with_a_ramp_by_hand():
    # 16, 16, 2000 towards 64: 2000 / 3 samples per step; int(consumed / 666.67) steps.
    schedule, iterations = ramp_schedule(16, 16, 2000, 64, 20000)
    assert schedule.as_dict() == {0: 16, 42: 32, 63: 48, 77: 64}
    # update_train_iters: 77 ramp iterations reach 2016 samples, then (20000 - 2016) // 64 = 281.
    assert iterations == 77 + 281
    # A ramp that reaches the global batch size at exactly its last sample (4310 / 4 = 1077.5 per step):
    # 360 x 3 = 1080, + 269 x 4 = 2156, + 216 x 5 = 3236, + 179 x 6 = 4310; the iteration at 4310
    # still counts in update_train_iters' ramp loop, then (5871 - 4317) // 7 = 222 more.
    schedule, iterations = ramp_schedule(3, 1, 4310, 7, 5871)
    assert schedule.as_dict() == {0: 3, 360: 4, 629: 5, 845: 6, 1024: 7}
    assert iterations == 1025 + 222
    # Rounding down to micro batch x data parallel (4 x 5 = 20) with --decrease-batch-size-if-needed.
    schedule, _ = ramp_schedule(20, 20, 300, 60, 3000, unit=20, decrease=True)
    assert schedule.sizes[0] == 20
    with pytest.raises(ReaderError, match="not divisible"):
        ramp_schedule(16, 16, 2000, 64, 20000, unit=32)
    with pytest.raises(ReaderError, match="multiple of the increment"):
        ramp_schedule(16, 15, 2000, 64, 20000)
    with pytest.raises(ReaderError, match="no ramp"):
        ramp_schedule(64, 16, 2000, 64, 20000)


def test_the_ramp_in_a_script(tmp_path):
    body = (
        "run --train-samples 20000 --global-batch-size 64 --micro-batch-size 1 --rampup-batch-size 16 16 2000 "
        "--lr 3e-4 --lr-warmup-samples 1000 --lr-decay-style WSD --lr-wsd-decay-samples 4000 --seq-length 8\n"
    )
    spec = load_file(script(tmp_path, body), Overrides(source="megatron"))
    rows = collect(simulate(spec.run, mode="trainer"))
    assert rows["sample"][42] == 672 and rows["sample"][43] == 704 and rows["sample"][77] == 2016
    assert rows["lr"][42] == 3e-4 * 672 / 1000
    assert rows["lr"][100] == 3e-4  # n = 2016 + 23 x 64 = 3488: stable
    # The WSD anneal (exponential) from sample 16000: iteration 77 + ceil((16000 - 2016) / 64) = 296.
    assert rows["sample"][296] == 2016 + 219 * 64 and rows["lr"][295] == 3e-4
    u = (rows["sample"][300] - 16000) / 4000
    assert rows["lr"][300] == 0.0 + (2.0 * 0.5**u - 1.0) * 3e-4


def test_megatron_refusals(tmp_path):
    cases = {
        "--train-iters 10 --train-samples 100 --global-batch-size 4 --lr 1": "exactly one",
        "--train-iters 10 --global-batch-size 4 --lr 1 --rampup-batch-size 2 2 10": "iteration-based run",
        "--train-samples 100 --global-batch-size 4 --lr 1 --lr-warmup-iters 5": "sample-based run",
        "--train-iters 10 --global-batch-size 4 --lr 1 --lr-warmup-iters 10": "warmup < decay",
        "--train-iters 10 --global-batch-size 4 --lr 1 --lr-decay-style WSD": "--lr-wsd-decay-iters",
        "--train-iters 10 --global-batch-size 4": "--lr is required",
        "--train-iters 10 --lr 1 --micro-batch-size 2": "--global-batch-size is not given",
        "--train-iters 10 --global-batch-size 6 --micro-batch-size 4 --lr 1 --nproc_per_node 1": "not divisible",
        "--train-iters 10 --global-batch-size 4 --lr 1 --yaml-cfg x.yaml": "--yaml-cfg",
    }
    for flags, message in cases.items():
        path = script(tmp_path, flags + "\n", "flags.txt")
        with pytest.raises(SpecError, match=message):
            load_file(path, Overrides(source="megatron"))


def test_notes_for_what_is_not_modelled(tmp_path):
    body = (
        "run --train-iters 100 --global-batch-size 8 --lr 1e-3 --fp16 --decoupled-lr 2e-3 --exit-interval 40 "
        "--lr-foo 3 --step-batch-size-schedule 0:8 --eval-iters 10 --weight-decay 0.1\n"
    )
    spec = load_file(script(tmp_path, body), Overrides(source="megatron"))
    notes = " | ".join(spec.notes)
    assert "--fp16" in notes and "--skipped-steps" in notes
    assert "--decoupled-lr" in notes and "--lr-foo" in notes and "--step-batch-size-schedule" in notes
    assert "--exit-interval 40 ends this launch after iteration 40 of 100" in notes
    assert "--eval-iters" not in notes and "--weight-decay" not in notes
    assert spec.run.max_duration.value == 40


def test_skipped_steps_option(tmp_path):
    path = script(tmp_path, "run --train-iters 20 --global-batch-size 8 --lr 1.0 --lr-warmup-iters 10 --fp16\n")
    spec = load_file(path, Overrides(source="megatron", skipped_steps="2"))
    rows = collect(simulate(spec.run, mode="trainer"))
    assert rows["lr"][:3].tolist() == [0.0, 0.0, 0.0] and rows["lr"][3] == 8 / 80
    assert not any("--fp16" in n for n in spec.notes)
    assert parse_skipped("30") == 30 and parse_skipped("3,17") == [3, 17] and parse_skipped("[5]") == [5]
    with pytest.raises(ReaderError):
        parse_skipped("x")
    # Other trainers hold their schedule back by the skipped updates in the run itself (Hugging
    # Face, like DeepSpeed, does not step its scheduler after an overflowed update).
    hf = tmp_path / "args.json"
    hf.write_text('{"learning_rate": 0.1, "max_steps": 10}')
    assert load_file(hf, Overrides(skipped_steps="3")).run.skipped_steps == (0, 1, 2)


def test_functional_test_config(tmp_path):
    path = DATA / "gpt3_15b_8t_release.yaml"
    import yaml

    data = yaml.safe_load(path.read_text())
    assert readers.recognise(data) == "megatron"
    reading = read(data, str(path), {"devices": 64})
    config = reading.spec["schedulers"][0]
    assert config["decay_samples"] == 1949218748 and config["warmup_samples"] == 3906252
    assert config["decay_style"] == "cosine" and config["lr"] == 4.5e-4 and config["min_lr"] == 4.5e-5
    assert reading.spec["seq_len"] == 4096
    # The ramp (384, 384, 97656250 towards 1152) never leaves 384 in 19531250 samples.
    assert reading.spec["batch_size"] == 384
    # update_train_iters' ramp loop counts the iteration starting at 50862 x 384 = 19531008 <= 19531250
    # samples too: 50863 iterations, one more than 19531250 // 384.
    assert reading.spec["max_duration"] == "50863ba"
    assert any("--decoupled-lr" in n for n in reading.notes)
    with pytest.raises(ReaderError, match=r"--lr \$\{LR\}: depends on \$LR"):
        read({"MODEL_ARGS": {"--train-iters": 10, "--global-batch-size": 4, "--lr": "${LR}"}}, "m.yaml", {})


def test_sample_spec_exports(tmp_path, sched):
    sample = Path(__file__).resolve().parents[1] / "sample_specs" / "megatron_gpt_pretrain.sh"
    out = tmp_path / "o.csv"
    code, _, err = sched("export", str(sample), "--from", "megatron", "-o", str(out))
    assert code == 0, err
    lines = out.read_text().splitlines()
    assert lines[0].split(",")[:5] == ["ssr", "batch", "epoch", "sample", "token"]
