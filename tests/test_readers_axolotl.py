"""The axolotl reader (sched_cli/readers/axolotl.py): step counts, warmups and schedules worked out
by hand from axolotl 0.19's rules, on its own example config and on small variants, through the
library and a real `sched` process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from conftest import one_error_line

from sched_cli import readers
from sched_cli.readers.axolotl import axolotl_warmup

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_specs" / "axolotl_llama3_lora.yml"  # axolotl's examples/llama-3/instruct-lora-8b.yml


def example() -> dict:
    return yaml.safe_load(SAMPLE.read_text(encoding="utf-8"))


def read(data: dict, **options) -> readers.Reading:
    return readers.read("axolotl", data, "a.yml", options)


def run_length(reading: readers.Reading) -> int:
    return int(reading.spec["max_duration"].removesuffix("ba"))


def test_the_example_counts_steps_after_the_eval_split_and_rounds_the_warmup_ratio_down():
    reading = read(example(), dataset_size=2000, devices=2)
    # val_set_size 0.05 holds out ceil(100) = 100; B = 2 x 4 x 2 = 16; T = ceil(1900 x 4 / 16) = 475.
    assert run_length(reading) == 475
    facts = "\n".join(reading.facts)
    assert "1,900 samples train" in facts
    assert "ceil(1,900 x 4 / 16) = 475 updates" in facts
    # warmup_ratio 0.1: int(47.5) = 47 where HF's ceil gives 48.
    assert "warmup_ratio 0.1 of 475 updates = 47 (HF would use 48)" in facts
    assert reading.spec["schedulers"] == [{"name": "hf:cosine", "warmup_steps": 47}]
    assert reading.notes == []


@pytest.mark.parametrize(
    ("steps", "ratio", "total", "expected"),
    [
        (None, None, 1000, 30),  # min(int(0.03 x 1000), 100)
        (None, None, 10_000, 100),  # capped at 100
        (None, None, 40, 2),  # int(1.2) = 1, and a warmup of 1 becomes 2
        (1, None, 500, 2),
        (0, None, 500, 0),
        (7, None, 500, 7),
        (None, 0.1, 475, 47),
        (None, 0.001, 475, 0),
    ],
)
def test_axolotl_warmup_defaults_and_rounding(steps, ratio, total, expected):
    assert axolotl_warmup(steps, ratio, total) == expected


def test_max_steps_runs_that_many_updates_with_the_warmup_taken_from_the_smaller_count():
    reading = read({**example(), "max_steps": 50}, dataset_size=2000, devices=2)
    assert run_length(reading) == 50
    assert reading.spec["schedulers"][0]["warmup_steps"] == 5  # int(0.1 x min(475, 50))


def test_context_parallel_divides_the_world_size_in_the_batch():
    reading = read({**example(), "context_parallel_size": 2}, dataset_size=2000, devices=8)
    # W' = 8 // 2 = 4: B = 2 x 4 x 4 = 32; T = ceil(1900 x 4 / 32) = 238.
    assert run_length(reading) == 238
    assert reading.spec["batch_size"] == 32


def test_a_world_size_of_zero_in_the_file_is_refused_not_read_as_one_device():
    # sched's `devices` key in an axolotl file: 0 was taken for "not given" (`devices or 1`) and previewed on 1 device.
    with pytest.raises(readers.ReaderError) as refused:
        read({**example(), "devices": 0}, dataset_size=2000)
    assert str(refused.value) == "a.yml: devices: 0 must be a whole number of at least 1 (the world size)"
    assert run_length(read({**example(), "devices": 2}, dataset_size=2000)) == 475  # the file's world size is read


def test_a_count_val_set_size_holds_out_that_many():
    reading = read({**example(), "val_set_size": 100}, dataset_size=1000)
    assert run_length(reading) == 450  # ceil(900 x 4 / 8)


@pytest.mark.parametrize(
    ("extra", "name"),
    [
        ({"lr_quadratic_warmup": True}, "axolotl:cosine_quadratic_warmup"),
        ({"cosine_min_lr_ratio": 0.1}, "axolotl:cosine_min_lr"),
        ({"cosine_min_lr_ratio": 0.1, "cosine_constant_lr_ratio": 0.8}, "axolotl:cosine_decay_constant"),
        ({"cosine_min_lr_ratio": 0.0}, "hf:cosine"),  # 0 is falsy: HF's cosine
        ({"lr_scheduler": "rex"}, "axolotl:rex"),
        ({"lr_scheduler": "one_cycle"}, "one_cycle"),
        ({"lr_scheduler": "linear", "cosine_min_lr_ratio": 0.1}, "hf:linear"),
        ({"jagged_restart_steps": 100}, "axolotl:jagged_restarts"),
    ],
)
def test_axolotl_picks_its_schedule_as_create_scheduler_does(extra, name):
    reading = read({**example(), **extra}, dataset_size=2000)
    assert reading.spec["schedulers"][0]["name"] == name


def test_plugins_that_only_patch_the_model_keep_the_schedule_exact_and_others_are_named():
    plain = ["axolotl.integrations.cut_cross_entropy.CutCrossEntropyPlugin", "axolotl.integrations.liger.LigerPlugin"]
    assert read({**example(), "plugins": plain}, dataset_size=2000, devices=2).notes == []
    mine = "my_pkg.plugins.MyPlugin"  # could override create_lr_scheduler: named, the rest not
    (note,) = read({**example(), "plugins": [*plain, mine]}, dataset_size=2000, devices=2).notes
    assert mine in note and "LigerPlugin" not in note and "create_lr_scheduler" in note


def test_early_stopping_is_named_and_refused_where_axolotl_refuses_it():
    with pytest.raises(readers.ReaderError, match="early_stopping_patience: 3: axolotl refuses it"):
        read({**example(), "early_stopping_patience": 3}, dataset_size=2000)  # no save_steps / eval_steps
    with pytest.raises(readers.ReaderError, match="here 50 and 20"):
        read({**example(), "early_stopping_patience": 3, "save_steps": 50, "eval_steps": 20}, dataset_size=2000)
    data = {**example(), "early_stopping_patience": 3, "save_steps": 60, "eval_steps": 20}
    data.update(evals_per_epoch=None, saves_per_epoch=None)  # axolotl: each exclusive with its *_steps
    (note,) = read(data, dataset_size=2000, devices=2).notes
    assert "EarlyStoppingCallback" in note


def test_one_cycle_starts_its_peak_at_the_warmup_fraction():
    spec = read({**example(), "lr_scheduler": "one_cycle"}, dataset_size=2000).spec
    one_cycle = spec["schedulers"][0]
    # T = ceil(1900 x 4 / 8) = 950; warmup int(95.0) = 95; pct_start = 95 / 950.
    assert one_cycle == {"name": "one_cycle", "t_max": "950ba", "pct_start": 0.1, "anneal_strategy": "cos"}


def test_sample_packing_is_refused_in_one_line_unless_the_run_is_given(sched, tmp_path):
    path = tmp_path / "packed.yml"
    path.write_text(yaml.safe_dump({**example(), "sample_packing": True}))
    code, _, err = sched("validate", str(path), "--dataset-size", "2000")
    assert code == 2
    line = one_error_line(err)
    assert "sample_packing" in line and "--max-duration" in line
    code, out, err = sched("validate", str(path), "--max-duration", "300ba")
    assert code == 0, err
    assert "max_duration 300ba" in out and "updates = 30" in out  # int(0.1 x 300)


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        ({"batch_size": 64}, ("batch_size", "gradient_accumulation_steps")),
        ({"rl": "grpo"}, ("rl", "grpo")),
        ({"reward_model": True}, ("reward_model",)),
        ({"val_set_size": 1.0}, ("val_set_size",)),
    ],
)
def test_what_axolotl_does_not_let_sched_count_is_refused(extra, words):
    with pytest.raises(readers.ReaderError) as info:
        read({**example(), **extra}, dataset_size=2000)
    for word in words:
        assert word in str(info.value)


def test_a_deepspeed_scheduler_block_wins_over_axolotls_schedule(tmp_path):
    ds = {"scheduler": {"type": "WarmupLR", "params": {"warmup_num_steps": "auto", "warmup_max_lr": "auto"}}}
    (tmp_path / "ds.json").write_text(json.dumps(ds))
    source = str(tmp_path / "a.yml")
    data = {**example(), "lr_scheduler": "rex", "deepspeed": "ds.json"}
    reading = readers.read("axolotl", data, source, {"dataset_size": 2000})
    assert reading.spec["schedulers"][0]["name"].startswith("ds:")
    assert any("replaces" in note for note in reading.notes)
    plain = {**example(), "lr_scheduler": "rex", "deepspeed": {"zero_optimization": {"stage": 2}}}
    assert readers.read("axolotl", plain, source, {"dataset_size": 2000}).spec["schedulers"][0]["name"] == "axolotl:rex"


def test_export_gives_the_peak_lr_at_the_end_of_the_warmup(sched, tmp_path):
    out = tmp_path / "out.csv"
    code, _, err = sched("export", str(SAMPLE), "--dataset-size", "2000", "--devices", "2", "-o", str(out))
    assert code == 0, err
    rows = out.read_text().splitlines()
    header = rows[0].split(",")
    lrs = [float(row.split(",")[header.index("lr")]) for row in rows[1:]]
    assert len(lrs) == 475
    assert lrs[0] == 0.0 and lrs[47] == 0.0002  # warmup 47: k / 47, then the cosine from 1
