"""Hugging Face TrainingArguments files read as specs (sched_cli/readers/hf.py): step counts and
samples worked out by hand as transformers 5.x and accelerate compute them, SSR, errors, and the
commands on the bundled samples."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sched_cli import readers
from sched_cli.readers.hf import HFConfigError, HFGeometry, read, recognise
from sched_cli.simulator import collect, simulate
from sched_cli.specs import Overrides, SpecError, load_file

SAMPLES = Path(__file__).resolve().parent.parent / "sample_specs"

BASE = {
    "output_dir": "out",
    "learning_rate": 2e-5,
    "lr_scheduler_type": "cosine_with_min_lr",
    "lr_scheduler_kwargs": {"min_lr_rate": 0.1},
    "warmup_steps": 0.03,
    "num_train_epochs": 2.5,
    "per_device_train_batch_size": 4,
    "gradient_accumulation_steps": 3,
}


def write(tmp_path: Path, name: str = "args.json", **changes: Any) -> Path:
    data = {**BASE, **changes}
    for key in [k for k, v in data.items() if v is None]:
        del data[key]
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def rows(path: Path, ssr: float = 1.0, **options: Any) -> dict[str, np.ndarray]:
    spec = load_file(path, Overrides(**options))
    return collect(simulate(spec.run, ssr, mode="trainer"))


# -- geometry -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("n", "b", "w", "g", "drop", "rank_batches", "updates", "last_update"),
    [
        # 250 micro-batches, 125 per rank; 42 updates of 3, the last of 2 (2 x 8 samples)
        (1000, 4, 2, 3, False, 125, 42, 16),
        # one process: 3 + 3 + 3 + 1 samples; updates of 2 micro-batches, the last 3 + 1
        (10, 3, 1, 2, False, 4, 2, 4),
        (10, 3, 1, 2, True, 3, 2, 3),
        # 5 micro-batches over 3 ranks: a second round completed from the start (even_batches)
        (10, 2, 3, 1, False, 2, 2, 6),
        (10, 2, 3, 1, True, 1, 1, 6),
        # 4 micro-batches over 2 ranks divide, yet the last one (1 sample) is completed to 3
        (10, 3, 2, 1, False, 2, 2, 6),
        # fewer micro-batches than the accumulation: one short update per epoch
        (12, 4, 1, 16, False, 3, 1, 12),
    ],
)
def test_updates_per_epoch_and_the_last_update(n, b, w, g, drop, rank_batches, updates, last_update):
    geometry = HFGeometry(n, b, w, g, drop)
    assert geometry.rank_batches == rank_batches
    assert geometry.updates_per_epoch == updates
    assert geometry.update_size == w * b * g
    assert geometry.last_update_size == last_update


def test_a_run_in_epochs_by_hand(tmp_path):
    out = rows(write(tmp_path), dataset_size=1000, devices=2)
    assert len(out["batch"]) == 105  # ceil(2.5 x 42)
    assert out["epoch"].tolist()[40:44] == [0, 0, 1, 1]
    # 41 full updates of 24 samples, then 16: the next epoch starts at sample 1000
    assert out["sample"].tolist()[40:44] == [960, 984, 1000, 1024]
    assert out["multiplier"][0] == 0.0 and out["multiplier"][4] == 1.0  # warmup ceil(0.03 x 105) = 4
    assert out["lr"][4] == 2e-5
    assert out["multiplier"][-1] == pytest.approx(0.1, abs=1e-3)
    np.testing.assert_array_equal(out["duration"], np.arange(105) / 105)


def test_max_steps_wins_and_needs_no_dataset_size(tmp_path):
    path = write(tmp_path, max_steps=50, lr_scheduler_type="linear", lr_scheduler_kwargs=None, warmup_steps=10)
    out = rows(path)
    assert len(out["batch"]) == 50
    assert out["sample"][1] == 12  # 4 samples x 3 micro-batches, one device
    assert out["multiplier"][5] == 0.5 and out["multiplier"][30] == 0.5  # 5/10; (50 - 30) / 40
    with_data = rows(path, dataset_size=100, devices=1)
    assert len(with_data["batch"]) == 50 and with_data["epoch"][9] == 1  # 9 updates an epoch


def test_epochs_without_a_dataset_size_say_what_to_give(tmp_path):
    with pytest.raises(SpecError, match=r"num_train_epochs: .*--dataset-size"):
        load_file(write(tmp_path))


def test_ssr_scales_the_epochs_or_max_steps_and_warmup_follows(tmp_path):
    half = rows(write(tmp_path), 0.5, dataset_size=1000, devices=2)
    assert len(half["batch"]) == 53  # ceil(1.25 x 42), not half of 105
    assert half["multiplier"][2] == 1.0  # warmup ceil(0.03 x 53) = 2
    steps = write(tmp_path, "steps.json", max_steps=100, warmup_steps=10)
    assert len(rows(steps, 1 / 3)["batch"]) == 33  # int(100 / 3)
    assert rows(steps, 1 / 3)["multiplier"][10] == 1.0  # 10 warmup updates whatever the length


def test_options_replace_the_file(tmp_path):
    path = write(tmp_path)
    out = rows(path, dataset_size=1000, devices=1, device_batch_size=8, drop_last=True, lr=1e-3, seq_len=128)
    assert len(out["batch"]) == 105  # 125 micro-batches of 8, 42 updates, as with 2 x 4
    assert out["lr"][4] == 1e-3
    assert out["token"][1] == 24 * 128
    assert len(rows(path, dataset_size=1000, max_duration="7ba")["batch"]) == 7
    assert len(rows(path, dataset_size=1000, max_duration="1ep")["batch"]) == 84  # 250 micro-batches: 84 updates


def test_the_loader_must_not_be_empty(tmp_path):
    with pytest.raises(SpecError, match="dataloader_drop_last: 3 samples .* 0 steps"):
        load_file(write(tmp_path, dataloader_drop_last=True), Overrides(dataset_size=3, devices=2))


# -- what the file says -------------------------------------------------------------------------
def test_recognised_by_its_keys_and_never_a_sched_spec():
    assert recognise({"lr_scheduler_type": "cosine"})
    assert recognise({"per_device_train_batch_size": 8, "learning_rate": 1e-4})
    assert not recognise({"max_duration": "10ba", "schedulers": [{"name": "cosine"}]})
    assert not recognise({"max_duration": "10ba", "scheduler": {"name": "cosine_with_warmup"}, "optimizer": {}})
    assert readers.recognise({"output_dir": "x", "num_train_epochs": 1}) == "hf"


def test_defaults_are_transformers_5(tmp_path):
    spec = read({"output_dir": "x"}, "args.json", {"dataset_size": 80}).spec
    # linear, no warmup, lr 5e-5, 3 epochs of 80 / 8 = 10 updates
    assert spec["schedulers"] == [{"name": "hf:linear", "warmup_steps": 0}]
    assert (spec["lr"], spec["max_duration"], spec["batch_size"]) == (5e-5, "30ba", 8)


def test_kwargs_as_json_text_are_typed_as_hf_types_them(tmp_path):
    path = write(tmp_path, lr_scheduler_type="cosine_with_restarts", lr_scheduler_kwargs='{"num_cycles": "3"}')
    spec = load_file(path, Overrides(dataset_size=1000))
    assert spec.run.schedulers[0].num_cycles == 3


def test_warmup_ratio_of_transformers_4(tmp_path):
    path = write(tmp_path, warmup_steps=None, warmup_ratio=0.1)
    assert rows(path, dataset_size=1000, devices=2)["multiplier"][11] == 1.0  # ceil(0.1 x 105) = 11
    both = write(tmp_path, "both.json", warmup_steps=5, warmup_ratio=0.1)
    assert rows(both, dataset_size=1000, devices=2)["multiplier"][5] == 1.0  # 4.x: warmup_steps wins


def test_constant_types_ignore_kwargs_as_hf_does(tmp_path):
    path = write(tmp_path, lr_scheduler_type="constant", lr_scheduler_kwargs={"whatever": 1}, warmup_steps=10)
    assert set(rows(path, dataset_size=100)["multiplier"]) == {1.0}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"lr_scheduler_type": "reduce_lr_on_plateau"},
            "lr_scheduler_type: 'reduce_lr_on_plateau' cannot be previewed",
        ),
        ({"lr_scheduler_type": "greedy"}, "cannot be previewed: GreedyLR"),
        ({"lr_scheduler_type": "cosine_with_min"}, "did you mean 'cosine_with_min_lr'"),
        (
            {"lr_scheduler_kwargs": {"min_lr_rate": 0.1, "eta": 2}},
            "lr_scheduler_kwargs.eta: 'cosine_with_min_lr' takes no",
        ),
        ({"lr_scheduler_kwargs": {}}, "lr_scheduler_kwargs: .*One of min_lr or min_lr_rate"),
        ({"lr_scheduler_kwargs": "{num_cycles: 2"}, "lr_scheduler_kwargs: malformed JSON"),
        ({"lr_scheduler_kwargs": {"min_lr_rate": "low"}}, "lr_scheduler_kwargs.min_lr_rate: expected a number"),
        ({"warmup_steps": -1}, "warmup_steps: -1 must be at least 0"),
        ({"max_steps": 0}, "max_steps: 0 makes transformers 5.x train one single update"),
        ({"learning_rate": "fast"}, "learning_rate: expected a number, got text 'fast'"),
        ({"gradient_accumulation_steps": 0}, "gradient_accumulation_steps: expected a whole number of at least 1"),
        (
            {"lr_scheduler_type": "polynomial", "lr_scheduler_kwargs": {"lr_end": 1.0}},
            r"lr_end \(1.0\) must be smaller",
        ),
    ],
)
def test_errors_name_the_file_and_key(tmp_path, changes, message):
    with pytest.raises(SpecError, match=message) as info:
        load_file(write(tmp_path, **changes), Overrides(dataset_size=1000))
    assert str(info.value).startswith(str(tmp_path / "args.json"))


def test_options_that_mean_something_else_are_refused(tmp_path):
    with pytest.raises(SpecError, match="--batch-size does not apply .* --device-batch-size"):
        load_file(write(tmp_path), Overrides(dataset_size=1000, batch_size=64))
    with pytest.raises(HFConfigError):
        read({"lr_scheduler_type": "linear"}, "a.json", {"dataloader_len": 10})


# -- commands -----------------------------------------------------------------------------------
def sched(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sched_cli", *args], capture_output=True, text=True, timeout=120)


def test_export_command_writes_one_row_per_update(tmp_path):
    out = tmp_path / "out.csv"
    proc = sched(
        "export", str(write(tmp_path)), "--from", "hf", "--dataset-size", "1000", "--devices", "2", "-o", str(out)
    )
    assert proc.returncode == 0, proc.stderr
    with out.open(newline="") as f:
        table = list(csv.DictReader(f))
    assert len(table) == 105 and table[42]["sample"] == "1000" and float(table[4]["lr"]) == 2e-5


def test_plateau_is_one_line_and_exit_2(tmp_path):
    proc = sched("plot", str(write(tmp_path, lr_scheduler_type="reduce_lr_on_plateau")), "--dataset-size", "10")
    assert proc.returncode == 2 and "cannot be previewed" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr


def test_bundled_samples_compare_with_a_composer_recipe_on_samples(tmp_path):
    for name in ("hf_trl_sft.json", "hf_run_clm.yaml"):
        proc = sched("validate", str(SAMPLES / name), "--dataset-size", "52002", "--devices", "8")
        assert proc.returncode == 0, proc.stderr
    proc = sched(
        "compare",
        str(SAMPLES / "hf_trl_sft.json"),
        str(SAMPLES / "gpt_llm_foundry.yaml"),
        "--x",
        "sp",
        "--dataset-size",
        "52002",
        "--devices",
        "8",
        "-o",
        str(tmp_path / "cmp.png"),
    )
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "cmp.png").stat().st_size > 0


def test_sched_only_keys_in_the_file_and_options_win(tmp_path):
    path = write(tmp_path, dataset_size=1000, devices=2, seq_len=16)
    out = rows(path)
    assert len(out["batch"]) == 105 and out["token"][1] == 24 * 16
    assert len(rows(path, devices=1)["batch"]) == 210  # 84 updates an epoch on one device


def test_forcing_hf_on_a_sched_spec_is_an_error_not_a_default_run():
    with pytest.raises(SpecError, match="schedulers: a TrainingArguments file has no such key"):
        load_file(SAMPLES / "bert_base.yaml", Overrides(source="hf"))


def test_validate_warns_when_the_warmup_takes_most_of_the_run():
    from sched_cli.specs import check

    four = check(load_file(SAMPLES / "hf_run_clm.yaml", Overrides(dataset_size=2318, devices=4)))
    assert four == [
        "hf:cosine: the warmup is 100 of the run's 111 updates (90%); check warmup_steps against the run's "
        "length, which follows the dataset size, devices and gradient accumulation"
    ]
    assert (
        "lasts the whole run of 57"
        in check(load_file(SAMPLES / "hf_run_clm.yaml", Overrides(dataset_size=2318, devices=8)))[0]
    )
    assert check(load_file(SAMPLES / "hf_run_clm.yaml", Overrides(dataset_size=2318))) == []  # 100 of 435


def test_a_file_without_any_trainingarguments_field_is_refused(tmp_path):
    # LLaMA-Factory's special-tokens list (examples/extras/multi_tokens/tokens_cfg.yaml) is a YAML
    # mapping too: read with every default, it would be a run the file never describes.
    path = tmp_path / "tokens_cfg.yaml"
    path.write_text('"<|START_OF_SVG|>": "Marks the beginning"\n"<|END_OF_SVG|>": "Marks the end"\n')
    with pytest.raises(SpecError, match="none of its keys .* is a TrainingArguments field"):
        load_file(path, Overrides(source="hf", dataset_size=100))
