"""timm's args.yaml read as a sched spec: recognition, geometry, LR scaling, run length, errors."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from conftest import assert_import_leaves_out

from sched_cli import readers, specs
from sched_cli.readers import ReaderError
from sched_cli.readers import timm as timm_reader
from sched_cli.simulator import collect, simulate

SAMPLE = Path(__file__).resolve().parents[1] / "sample_specs" / "timm_imagenet_args.yaml"


def read(args: dict[str, Any], **options: Any) -> dict[str, Any]:
    return timm_reader.read(args, "args.yaml", options).spec


def rows(args: dict[str, Any], **options: Any) -> dict[str, np.ndarray]:
    spec = specs.from_mapping(read(args, **options), "args.yaml", Path("."))
    return collect(simulate(spec.run))


def test_recognised_by_its_keys_and_nothing_else():
    sample = yaml.safe_load(SAMPLE.read_text())
    assert readers.recognise(sample) == "timm"
    assert readers.recognise({"sched": "cosine", "epochs": 10}) == "timm"
    assert readers.recognise({"max_duration": "10ep", "schedulers": [{"name": "cosine"}]}) is None
    assert readers.recognise({"sched": 3}) is None
    assert readers.recognise({"global_train_batch_size": 8, "scheduler": {"name": "cosine_with_warmup"}}) == "foundry"


def test_updates_per_epoch_follow_timms_loader_and_accumulation():
    # ceil(1000 / 3) = 334 per device, // 64 = 5 batches (the partial one dropped); accumulating 2
    # gives ceil(5 / 2) = 3 updates, the last of one batch.
    mapping = read(
        {"sched": "cosine", "epochs": 2, "batch_size": 64, "grad_accum_steps": 2}, dataset_size=1000, devices=3
    )
    assert mapping["dataloader_len"] == 3
    assert mapping["batch_size"] == 3 * 64 * 2 and mapping["last_batch_size"] == 3 * 64
    got = rows({"sched": "cosine", "epochs": 2, "batch_size": 64, "grad_accum_steps": 2}, dataset_size=1000, devices=3)
    assert list(got["sample"]) == [0, 384, 768, 960, 1344, 1728]
    assert list(got["epoch"]) == [0, 0, 0, 1, 1, 1]


def test_single_device_drops_the_partial_batch():
    assert read({"sched": "cosine", "batch_size": 10}, dataset_size=99)["dataloader_len"] == 9
    assert read({"sched": "cosine", "batch_size": 10}, dataloader_len=7)["dataloader_len"] == 7


def test_lr_from_lr_base_scales_linearly_with_the_global_batch():
    args = {"sched": "cosine", "lr": None, "lr_base": 0.1, "lr_base_size": 256, "batch_size": 128, "opt": "sgd"}
    assert read(args, dataset_size=10_000, devices=4)["lr"] == pytest.approx(0.2)  # 0.1 * 512 / 256
    args["grad_accum_steps"] = 2
    assert read(args, dataset_size=10_000, devices=4)["lr"] == pytest.approx(0.4)


def test_lr_scaling_is_sqrt_for_adaptive_optimizers():
    args = {"sched": "cosine", "lr": None, "lr_base": 0.1, "batch_size": 128, "opt": "adamw"}
    assert read(args, dataset_size=10_000, devices=4)["lr"] == pytest.approx(0.1 * math.sqrt(2))
    args.update(opt="sgd", lr_base_scale="sqrt")
    assert read(args, dataset_size=10_000, devices=4)["lr"] == pytest.approx(0.1 * math.sqrt(2))
    args.update(opt="lamb", lr_base_scale="linear")
    assert read(args, dataset_size=10_000, devices=4)["lr"] == pytest.approx(0.2)


def test_lr_option_replaces_lr_but_warmup_lr_stays_absolute():
    args = {"sched": "constant", "lr": 0.1, "warmup_epochs": 2, "warmup_lr": 0.0, "epochs": 4, "batch_size": 1}
    got = rows(args, dataloader_len=1, lr=0.4)
    assert list(got["lr"]) == [0.0, 0.2, 0.4, 0.4]


@pytest.mark.parametrize(
    ("args", "epochs"),
    [
        ({"sched": "cosine", "epochs": 10, "cooldown_epochs": 3}, 13),
        ({"sched": "cosine", "epochs": 10, "warmup_epochs": 2, "warmup_prefix": True}, 12),
        ({"sched": "cosine", "epochs": 10, "lr_cycle_limit": 3, "lr_cycle_mul": 1.0}, 30),
        ({"sched": "step", "epochs": 10, "cooldown_epochs": 5}, 10),  # cooldown only for cycle schedules
        ({"sched": "step", "epochs": 10, "warmup_epochs": 3, "warmup_prefix": True}, 13),
        ({"sched": "none", "epochs": 10, "warmup_epochs": 3, "warmup_prefix": True}, 13),
        ({"sched": "wsd", "epochs": 10, "warmup_epochs": 2, "cooldown_epochs": 1}, 11),
    ],
)
def test_run_length_is_create_scheduler_v2s_num_epochs(args, epochs):
    assert read({"batch_size": 1, **args}, dataloader_len=4)["max_duration"] == f"{epochs}ep"


def test_per_update_cooldown_is_floored_to_whole_epochs():
    # cycles of 4 then 2 epochs at 3 updates each: floor(-12 * (0.5**2 - 1) / 0.5) = 18 updates, plus
    # 3 of cooldown = 21 // 3 = 7 epochs.
    args = {"sched": "cosine", "epochs": 4, "lr_cycle_mul": 0.5, "lr_cycle_limit": 2, "cooldown_epochs": 1}
    mapping = read({**args, "sched_on_updates": True, "batch_size": 1}, dataloader_len=3)
    assert mapping["max_duration"] == "7ep" and mapping["step_every"] == "batch"


def test_null_seed_is_timms_42():
    assert read({"sched": "cosine", "seed": None, "batch_size": 1}, dataloader_len=1)["schedulers"][0]["seed"] == 42


def test_train_py_defaults_fill_missing_keys():
    config = read({"sched": "cosine", "batch_size": 1}, dataloader_len=1)["schedulers"][0]
    assert config["epochs"] == 300 and config["warmup_epochs"] == 5 and config["warmup_lr"] == 1e-5
    assert config["lr_cycle_decay"] == 0.5 and config["seed"] == 42


def test_text_numbers_are_parsed_as_argparse_would():
    config = read(
        {"sched": "cosine", "warmup_lr": "1e-5", "epochs": "20", "lr": "0.1", "batch_size": 1}, dataloader_len=1
    )
    assert config["lr"] == 0.1 and config["max_duration"] == "20ep"
    assert config["schedulers"][0]["warmup_lr"] == 1e-5


def test_noise_and_milestones_are_carried():
    config = read(
        {"sched": "multistep", "decay_milestones": [30, 60], "lr_noise": [0.4, 0.9], "batch_size": 1},
        dataloader_len=1,
    )["schedulers"][0]
    assert config["decay_milestones"] == ["30ep", "60ep"]
    assert (config["noise_start"], config["noise_end"]) == (0.4, 0.9)


@pytest.mark.parametrize(
    ("args", "options", "message"),
    [
        ({"sched": "plateau"}, {"dataloader_len": 1}, "plateau"),
        ({"sched": "cosine_annealing"}, {"dataloader_len": 1}, "not a timm scheduler"),
        ({"sched": "cosine"}, {}, "--dataset-size"),
        ({"sched": "cosine", "batch_size": 64}, {"dataset_size": 100, "devices": 2}, "every epoch would be empty"),
        ({"sched": "cosine", "lr_noise": []}, {"dataloader_len": 1}, "lr_noise"),
        ({"sched": "cosine", "warmup_prefix": "yes"}, {"dataloader_len": 1}, "warmup_prefix"),
        ({"sched": "cosine", "epochs": "many"}, {"dataloader_len": 1}, "epochs"),
        ({"sched": "cosine"}, {"dataloader_len": 1, "drop_last": False}, "drops the last"),
        ({"sched": "cosine"}, {"dataloader_len": 1, "batch_size": 10, "devices": 3}, "not divisible"),
        ({"sched": "cosine", "epochs": 30.0}, {"dataloader_len": 1}, r"range\(30.0\)"),
        ({"sched": "cosine", "lr": None, "opt": None}, {"dataloader_len": 1}, "opt"),
        ({"sched": "cosine", "lr": None, "lr_base_size": None}, {"dataloader_len": 1}, "lr_base_size"),
    ],
)
def test_errors_name_the_key_and_the_fix(args, options, message):
    with pytest.raises(ReaderError, match=message) as info:
        read(args, **options)
    assert str(info.value).startswith("args.yaml: ")


def test_sample_reads_and_the_cli_exports_it(tmp_path):
    out = tmp_path / "rows.json"
    command = [sys.executable, "-m", "sched_cli", "export", str(SAMPLE), "--devices", "8", "--every", "625", "-o"]
    proc = subprocess.run([*command, str(out)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(out.read_text())
    assert data["meta"]["dataloader_len"] == 625  # ceil(1281167 / 8) // 256
    first, warm = data["rows"][0], data["rows"][1]
    assert (first["lr"], first["epoch"]) == (0.0001, 0)  # warmup_lr, per update
    assert warm["batch"] == 625 and warm["lr"] == pytest.approx(0.0001 + 625 * (0.008 - 0.0001) / 3125)


def test_plateau_is_one_line_and_exit_2(tmp_path):
    path = tmp_path / "args.yaml"
    path.write_text("sched: plateau\nepochs: 10\n")
    proc = subprocess.run(
        [sys.executable, "-m", "sched_cli", "validate", str(path), "--dataset-size", "100"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.count("\n") == 1 and "sched: 'plateau'" in proc.stderr


def test_from_timm_forces_the_reader(tmp_path):
    path = tmp_path / "args.yaml"
    path.write_text("sched: cosine\nepochs: 3\nwarmup_epochs: 0\nlr: 0.5\nbatch_size: 1\n")
    spec = specs.load_file(path, specs.Overrides(source="timm", dataloader_len=2))
    assert spec.run.trainer == "timm" and spec.run.dataloader_len == 2 and str(spec.run.max_duration) == "3ep"


def test_reading_loads_nothing_heavy():
    assert_import_leaves_out("sched_cli.readers.timm", ("torch", "matplotlib"))
