"""MMEngine configs read as specs: the keys sched takes, the epoch length, Python configs, errors."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

from sched_cli import readers
from sched_cli.readers.mmengine import MMEngineConfigError, epoch_length, read, recognise
from sched_cli.simulator import collect, simulate
from sched_cli.specs import Overrides, SpecError, from_mapping, load_file

SAMPLES = Path(__file__).resolve().parent.parent / "sample_specs"

MINIMAL = """
train_cfg: {by_epoch: false, max_iters: 6, val_interval: 2}
param_scheduler:
  type: LinearLR
  start_factor: 0.25
  by_epoch: false
  end: 4
optim_wrapper: {optimizer: {type: AdamW, lr: 0.001}}
"""


def spec_of(text: str, **options: Any) -> dict[str, Any]:
    return read(yaml.safe_load(textwrap.dedent(text)), "t.yaml", options).spec


def test_sample_mmdet_schedule():
    spec = load_file(SAMPLES / "mmdet_schedule.yaml")
    run = spec.run
    assert run.trainer == "mmengine"
    assert str(run.max_duration) == "12ep" or run.max_duration.value == 12
    # COCO's 117,266 images over 8 GPUs: ceil(117266 / 8) = 14,659 per GPU, in batches of 2.
    assert run.dataloader_len == 7330 and run.batch_size == 16 and run.lr == 0.02
    rows = collect(simulate(run))
    lr = rows["lr"]
    assert len(lr) == 12 * 7330
    assert lr[0] == pytest.approx(0.02 * 0.001)
    assert lr[499] == pytest.approx(0.02, rel=1e-15) and lr[498] < 0.02  # warmup done at end - 1
    assert lr[8 * 7330 - 1] == pytest.approx(0.02) and lr[8 * 7330] == pytest.approx(0.002)
    assert lr[11 * 7330] == pytest.approx(0.0002) and lr[-1] == pytest.approx(0.0002)
    assert rows["epoch"][8 * 7330] == 8 and rows["sample"][1] == 16
    # Each GPU's last batch of an epoch holds 14,659 - 7,329 x 2 = 1 image: 8 across the GPUs.
    assert rows["sample"][7330] == 7329 * 16 + 8


def test_command_line_geometry_wins_over_the_files():
    spec = load_file(SAMPLES / "mmdet_schedule.yaml", Overrides(dataloader_len=100))
    assert spec.run.dataloader_len == 100
    spec = load_file(SAMPLES / "mmdet_schedule.yaml", Overrides(dataset_size=1000, devices=2))
    assert spec.run.dataloader_len == 250 and spec.run.batch_size == 4


def test_drop_last_counts_as_mmengine_pads_then_drops():
    text = MINIMAL.replace("by_epoch: false, max_iters: 6", "by_epoch: true, max_epochs: 2")
    text += "train_dataloader: {batch_size: 2, drop_last: true}\ndataset_size: 10\ndevices: 3\n"
    # DefaultSampler pads 10 samples to 4 per device; two full batches. (PyTorch's
    # DistributedSampler with drop_last would leave 3, one batch.)
    spec = spec_of(text)
    assert spec["dataloader_len"] == 2 and spec["batch_size"] == 6
    # From the command line too: the reader gives the count itself, not sched's geometry.
    text = text.replace("dataset_size: 10\ndevices: 3\n", "")
    spec = spec_of(text, dataset_size=10, devices=3)
    assert spec["dataloader_len"] == 2 and "dataset_size" not in spec
    # 11 samples on 1 device in batches of 2: floor(11 / 2) = 5 with drop_last (6 without).
    assert spec_of(text, dataset_size=11)["dataloader_len"] == 5
    assert spec_of(text, dataset_size=11, drop_last=False)["dataset_size"] == 11


def test_minimal_iteration_loop():
    spec = spec_of(MINIMAL)
    assert spec["max_duration"] == "6ba" and spec["lr"] == 0.001 and spec["trainer"] == "mmengine"
    assert "dataloader_len" not in spec and "batch_size" not in spec
    run = from_mapping(spec, "t.yaml", Path.cwd()).run
    assert collect(simulate(run))["lr"].tolist() == pytest.approx(
        [0.00025, 0.0005, 0.00075, 0.001, 0.001, 0.001], rel=1e-15
    )


@pytest.mark.parametrize(
    ("size", "devices", "batch", "drop_last", "expected"),
    [(117266, 8, 2, False, 7330), (10, 3, 2, False, 2), (10, 3, 2, True, 2), (11, 1, 4, True, 2), (11, 1, 4, False, 3)],
)
def test_epoch_length_counts_like_default_sampler_and_dataloader(size, devices, batch, drop_last, expected):
    # ceil(size / devices) samples per device (round_up pads), then batches.
    assert epoch_length(size, devices, batch, drop_last) == expected


def test_auto_scale_lr_uses_devices_times_batch_over_base():
    text = MINIMAL + "train_dataloader: {batch_size: 2}\nauto_scale_lr: {enable: true, base_batch_size: 16}\n"
    assert spec_of(text, devices=4)["lr"] == pytest.approx(0.001 * 8 / 16)
    assert spec_of(text.replace("enable: true", "enable: false"), devices=4)["lr"] == 0.001
    assert spec_of(text, devices=4)["batch_size"] == 8


def test_recognised_by_param_scheduler_alone():
    assert recognise({"param_scheduler": []})
    assert not recognise({"max_duration": "10ba", "schedulers": [{"name": "linear"}]})
    assert not recognise({"scheduler": {"name": "cosine_with_warmup"}, "global_train_batch_size": 8})
    assert readers.recognise(yaml.safe_load(MINIMAL)) == "mmengine"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("train_cfg"), "train_cfg: is required"),
        (lambda d: d["train_cfg"].pop("by_epoch"), "train_cfg.by_epoch: expected true or false"),
        (lambda d: d["train_cfg"].update(type="EpochBasedTrainLoop"), "only one of them"),
        (lambda d: d.update(train_cfg={"type": "mmdet.MyLoop", "max_iters": 3}), "EpochBasedTrainLoop"),
        (lambda d: d["train_cfg"].pop("max_iters"), "train_cfg.max_iters: is required"),
        (lambda d: d.pop("optim_wrapper"), "optim_wrapper.optimizer.lr: is required"),
        (lambda d: d.update(param_scheduler=[{"type": "ReduceLR"}]), "ReduceLR lowers the LR when a validation"),
        (lambda d: d.update(param_scheduler=[{"type": "ReduceOnPlateauLR"}]), r"param_scheduler\[0\].type"),
        (lambda d: d.update(train_cfg={"by_epoch": True, "max_epochs": 2}), "--dataset-size"),
        (lambda d: d.update(_base_=["../_base_/schedules/schedule_1x.py"]), "_base_: .*--from mmengine"),
        (
            lambda d: d.update(
                optim_wrapper={"generator": {"optimizer": {"lr": 1}}, "discriminator": {"optimizer": {"lr": 2}}}
            ),
            "optimizers 'generator' .lr 1. and 'discriminator' .lr 2. have different LR schedules",
        ),
        (lambda d: d.update(optim_wrapper={"optimizer": {"type": "LARS"}}), "no default LR for 'LARS'"),
        (lambda d: d.update(lr_config={"policy": "step"}, param_scheduler=None), "lr_config: is MMCV 1.x's"),
        (lambda d: d.update(runner_type="MyRunner"), "runner_type: 'MyRunner'"),
    ],
)
def test_errors_name_the_file_and_key(change, message):
    data = yaml.safe_load(MINIMAL)
    change(data)
    with pytest.raises(MMEngineConfigError, match=message) as info:
        read(data, "t.yaml", {})
    assert str(info.value).startswith("t.yaml: ")


def test_lr_from_the_command_line_is_where_the_schedulers_start():
    data = yaml.safe_load(MINIMAL)
    del data["optim_wrapper"]
    assert read(data, "t.yaml", {"lr": 0.5}).spec["lr"] == 0.5
    # With an eta_min (absolute) the curve depends on the LR: --lr must reach the replay.
    data = yaml.safe_load(MINIMAL)
    data["param_scheduler"] = {"type": "PolyLR", "eta_min": 0.1, "by_epoch": False}
    spec = from_mapping(Overrides(lr=1.0).apply(read(data, "t.yaml", {"lr": 1.0}).spec), "t.yaml", Path.cwd())
    lr = collect(simulate(spec.run))["lr"]
    assert lr[1] == pytest.approx((1.0 - 0.1) * (1 - 1 / 5) + 0.1)  # T = 6 - 0 - 1 = 5


PYTHON_BASE = """
param_scheduler = [
    dict(type='LinearLR', start_factor=0.5, by_epoch=False, begin=0, end=3),
    dict(type='MultiStepLR', by_epoch=True, milestones=[1], gamma=0.1),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=2, val_interval=1)
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.02, momentum=0.9))
"""
PYTHON_CHILD = """
_base_ = ['./schedule.py']
optim_wrapper = dict(optimizer=dict(lr=0.04))
train_dataloader = dict(batch_size=2)
"""


def test_python_config_is_refused_without_from_mmengine(tmp_path):
    config = tmp_path / "faster_rcnn.py"
    marker = tmp_path / "ran"
    config.write_text(f"open({str(marker)!r}, 'w').close()\nparam_scheduler = []\n")
    with pytest.raises(SpecError, match="--from mmengine"):
        load_file(config)
    assert not marker.exists()  # the file was not run


def test_python_config_without_mmengine_names_the_extra(tmp_path, monkeypatch):
    config = tmp_path / "c.py"
    config.write_text(PYTHON_BASE)
    monkeypatch.setitem(sys.modules, "mmengine", None)
    monkeypatch.setitem(sys.modules, "mmengine.config", None)
    with pytest.raises(SpecError, match=r"pip install 'sched-cli\[mmengine\]'"):
        load_file(config, Overrides(source="mmengine"))


def test_python_config_with_base_read_by_mmengine(tmp_path):
    pytest.importorskip("mmengine.config")
    (tmp_path / "schedule.py").write_text(PYTHON_BASE)
    child = tmp_path / "child.py"
    child.write_text(PYTHON_CHILD)
    spec = load_file(child, Overrides(source="mmengine", dataloader_len=2))
    assert spec.run.lr == 0.04 and spec.run.dataloader_len == 2 and spec.run.batch_size == 2
    assert collect(simulate(spec.run))["lr"].tolist() == pytest.approx([0.02, 0.03, 0.004, 0.004], rel=1e-15)


def test_cli_export_of_an_mmengine_yaml(tmp_path):
    path = tmp_path / "cfg.yaml"
    path.write_text(MINIMAL)
    done = subprocess.run(
        [sys.executable, "-m", "sched_cli", "export", str(path), "--format", "json"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)["rows"]
    assert [r["batch"] for r in rows] == list(range(6))
    assert [r["lr"] for r in rows] == pytest.approx([0.00025, 0.0005, 0.00075, 0.001, 0.001, 0.001], rel=1e-15)


def test_cli_error_is_one_line(tmp_path):
    path = tmp_path / "cfg.yaml"
    path.write_text(MINIMAL.replace("LinearLR", "LinerLR"))
    done = subprocess.run([sys.executable, "-m", "sched_cli", "export", str(path)], capture_output=True, text=True)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and "did you mean 'LinearLR'" in done.stderr


def test_python_config_that_fails_is_one_error(tmp_path):
    pytest.importorskip("mmengine.config")
    config = tmp_path / "broken.py"
    config.write_text("param_scheduler = []\nraise RuntimeError('no dataset here')\n")
    with pytest.raises(SpecError, match=r"broken.py: MMEngine could not read it: .*no dataset here"):
        load_file(config, Overrides(source="mmengine"))
