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
from sched_cli.simulator import collect, plan, simulate
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


# -- issue 17: configs as people have them -------------------------------------------------------------
DATA = Path(__file__).resolve().parent / "data" / "mmengine"
EPOCHS = MINIMAL.replace("by_epoch: false, max_iters: 6", "type: EpochBasedTrainLoop, max_epochs: 2")


def reading_of(text: str, **options: Any) -> readers.Reading:
    return read(yaml.safe_load(textwrap.dedent(text)), "t.yaml", options)


def test_repeat_dataset_makes_an_epoch_times_longer():
    text = (
        EPOCHS + "train_dataloader:\n  batch_size: 2\n  dataset: {type: RepeatDataset, times: 3, dataset: {type: X}}\n"
    )
    # 10 images x 3 = 30 samples; 2 devices: 15 each, in batches of 2: ceil(7.5) = 8 iterations.
    reading = reading_of(text, dataset_size=10, devices=2)
    spec = from_mapping(reading.spec, "t.yaml", Path.cwd())
    assert plan(spec.run, 1.0).shape.dataloader_len == 8
    assert collect(simulate(spec.run))["lr"].shape == (16,)
    assert any("--dataset-size 10 is the innermost dataset's length" in n and "30 samples" in n for n in reading.notes)


def test_class_balanced_dataset_needs_its_own_length():
    text = EPOCHS + "train_dataloader:\n  batch_size: 2\n  dataset: {type: ClassBalancedDataset, dataset: {type: X}}\n"
    with pytest.raises(MMEngineConfigError, match="--dataset-size"):
        reading_of(text)
    reading = reading_of(text, dataset_size=9)
    assert reading.spec["dataset_size"] == 9
    assert any("ClassBalancedDataset's own length" in n for n in reading.notes)


def test_device_batch_size_when_the_config_has_none():
    # A base schedule file: no train_dataloader at all.
    spec = reading_of(EPOCHS, dataset_size=100, devices=4, device_batch_size=5).spec
    assert spec["device_batch_size"] == 5 and spec["devices"] == 4 and spec["dataset_size"] == 100
    # --batch-size is the total, split over the devices.
    assert reading_of(EPOCHS, dataset_size=100, devices=4, batch_size=20).spec["device_batch_size"] == 5
    with pytest.raises(MMEngineConfigError, match="--device-batch-size"):
        reading_of(EPOCHS, dataset_size=100, devices=3, batch_size=20)


def test_optimizer_without_lr_trains_with_torch_default():
    text = MINIMAL.replace("{type: AdamW, lr: 0.001}", "{type: Adam, betas: [0.5, 0.999]}")
    reading = reading_of(text)
    assert reading.spec["lr"] == 1e-3
    assert "optim_wrapper.optimizer.lr: not given: Adam's default in PyTorch 2.x, 0.001" in reading.facts


def test_default_lr_table_is_torchs():
    import inspect

    torch = pytest.importorskip("torch")
    from sched_cli.readers.mmengine import DEFAULT_LR

    for name, lr in DEFAULT_LR.items():
        assert inspect.signature(getattr(torch.optim, name)).parameters["lr"].default == lr, name


def test_gan_optimizers_with_one_schedule_are_shown_once():
    data = yaml.safe_load(MINIMAL)
    optimizer = {"optimizer": {"type": "Adam", "lr": 0.0002}}
    data["optim_wrapper"] = {
        "constructor": "MultiOptimWrapperConstructor",
        "generator": optimizer,
        "discriminator": optimizer,
    }
    reading = read(data, "t.yaml", {})
    assert reading.spec["lr"] == 0.0002
    assert any("2 optimizers (generator, discriminator) with the same LR schedule" in n for n in reading.notes)
    # Each its own list, equal: the same; different: refused naming both.
    data["param_scheduler"] = {"generator": data["param_scheduler"], "discriminator": data["param_scheduler"]}
    assert read(data, "t.yaml", {}).spec["lr"] == 0.0002
    data["param_scheduler"]["discriminator"] = {"type": "ConstantLR", "by_epoch": False}
    with pytest.raises(MMEngineConfigError, match="'generator' .* and 'discriminator' .* param_scheduler differs"):
        read(data, "t.yaml", {})


def test_momentum_and_weight_decay_schedulers_are_named_and_left_out():
    data = yaml.safe_load(MINIMAL)
    data["param_scheduler"] = [
        data["param_scheduler"],
        {"type": "CosineAnnealingMomentum", "by_epoch": False},
        {"type": "CosineAnnealingParamScheduler", "param_name": "weight_decay", "by_epoch": False},
    ]
    reading = read(data, "t.yaml", {})
    assert [n.split(" schedules ")[1].split(",")[0] for n in reading.notes] == ["momentum", "weight decay"]
    assert len(reading.spec["schedulers"][0]["param_scheduler"]) == 1
    # Only non-LR schedulers: MMEngine keeps the LR constant.
    data["param_scheduler"] = data["param_scheduler"][1:]
    spec = from_mapping(read(data, "t.yaml", {}).spec, "t.yaml", Path.cwd())
    assert collect(simulate(spec.run))["lr"].tolist() == [0.001] * 6


def test_custom_imports_are_not_imported_and_said_so():
    data = yaml.safe_load(MINIMAL)
    data["custom_imports"] = {"imports": ["mmdet.engine.schedulers"], "allow_failed_imports": False}
    notes = read(data, "t.yaml", {}).notes
    assert len(notes) == 1 and "custom_imports (mmdet.engine.schedulers) not imported" in notes[0]


def test_a_python_configs_custom_imports_are_named_not_imported(tmp_path):
    # MMDetection's ConvNeXt configs import mmpretrain.models for the backbone (allow_failed_imports=False): the
    # schedule reads without that package, and the note says the imports were left out.
    pytest.importorskip("mmengine", reason="Python MMEngine configs are read by MMEngine itself")
    from sched_cli.readers.mmengine import load_python

    path = tmp_path / "convnext_config.py"
    path.write_text(
        "custom_imports = dict(imports=['sched_no_such_package.models'], allow_failed_imports=False)\n"
        "train_cfg = dict(type='IterBasedTrainLoop', max_iters=6)\n"
        "optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.1))\n"
        "param_scheduler = [dict(type='LinearLR', start_factor=0.5, by_epoch=False, begin=0, end=2)]\n"
    )
    reading = read(load_python(path), str(path), {})
    (note,) = reading.notes
    assert "custom_imports (sched_no_such_package.models) not imported" in note
    spec = from_mapping(reading.spec, str(path), Path.cwd())
    # LinearLR from 0.5 to 1, end=2 exclusive: MMEngine's total_iters is end - begin - 1 = 1, so 0.05 then 0.1.
    assert collect(simulate(spec.run))["lr"].tolist() == pytest.approx([0.05, 0.1, 0.1, 0.1, 0.1, 0.1])


def test_auto_scale_lr_option_switches_it_on_as_the_launchers_do():
    text = MINIMAL + "train_dataloader: {batch_size: 4}\nauto_scale_lr: {enable: false, base_batch_size: 16}\n"
    assert reading_of(text, devices=8).spec["lr"] == 0.001
    reading = reading_of(text, devices=8, auto_scale_lr=True)
    assert (
        reading.spec["lr"] == pytest.approx(0.001 * 32 / 16) and "auto_scale_lr: LR x 8 x 4 / 16 = x 2" in reading.facts
    )
    with pytest.raises(
        MMEngineConfigError, match="--auto-scale-lr needs auto_scale_lr with enable and base_batch_size"
    ):
        reading_of(MINIMAL, auto_scale_lr=True)


def test_auto_scale_lr_option_on_the_command_line(tmp_path):
    path = tmp_path / "cfg.yaml"
    path.write_text(
        MINIMAL + "train_dataloader: {batch_size: 4}\nauto_scale_lr: {enable: false, base_batch_size: 16}\n"
    )
    args = [sys.executable, "-m", "sched_cli", "export", str(path), "--format", "json", "--devices", "8"]
    done = subprocess.run([*args, "--auto-scale-lr"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["rows"][3]["lr"] == pytest.approx(0.002)
    spec = tmp_path / "spec.yaml"
    spec.write_text("max_duration: 10ba\nschedulers: [{name: constant}]\n")
    done = subprocess.run(
        [sys.executable, "-m", "sched_cli", "export", str(spec), "--auto-scale-lr"], capture_output=True, text=True
    )
    assert done.returncode == 2 and "--auto-scale-lr" in done.stderr and done.stderr.count("\n") == 1


def test_mmyolo_hook_config_is_recognised_and_replayed():
    data = {
        "default_hooks": {
            "param_scheduler": {
                "type": "YOLOv5ParamSchedulerHook",
                "lr_factor": 0.2,
                "max_epochs": 4,
                "warmup_epochs": 1,
                "warmup_mim_iter": 2,
            }
        },
        "train_cfg": {"type": "EpochBasedTrainLoop", "max_epochs": 4},
        "optim_wrapper": {"optimizer": {"type": "SGD", "lr": 2.0}},
        "train_dataloader": {"batch_size": 1},
        "param_scheduler": None,
    }
    assert recognise(data)
    spec = from_mapping(read(data, "t.yaml", {"dataloader_len": 3}).spec, "t.yaml", Path.cwd())
    want = [0.0, 2 / 3, 4 / 3, 1.6, 1.6, 1.6, 1.6, 1.6, 1.6, 1.2, 1.2, 1.2]  # tests/test_schedulers_mmyolo.py
    assert collect(simulate(spec.run, 1.0, mode="trainer"))["lr"].tolist() == pytest.approx(want, rel=1e-15)
    data["param_scheduler"] = [{"type": "LinearLR"}]
    with pytest.raises(MMEngineConfigError, match="param_scheduler: is given with default_hooks.param_scheduler"):
        read(data, "t.yaml", {"dataloader_len": 3})
    data["default_hooks"]["param_scheduler"]["type"] = "MyHook"
    with pytest.raises(MMEngineConfigError, match="default_hooks.param_scheduler.type: 'MyHook' replaces"):
        read(data, "t.yaml", {"dataloader_len": 3})


def test_every_key_is_accounted_for():
    data = yaml.safe_load(MINIMAL)
    data.update(model={"type": "RetinaNet"}, env_cfg={}, log_level="INFO", load_from=None, visualizer={})
    data.update(max_iters=6, base_lr=0.5, warmup_ratio=0.1)  # config variables: used, unused
    data["train_cfg"]["warmup_iters"] = 100  # not a key of IterBasedTrainLoop that sched knows
    data["optim_wrapper"]["clip_grad"] = {"max_norm": 35}
    data["custom_hooks"] = [{"type": "EMAHook", "momentum": 0.0002}, {"type": "mmdet.LrWarmupHook"}]
    notes = readers.read("mmengine", data, "t.yaml", {}).notes
    assert len(notes) == 4, notes
    for words in (
        "train_cfg.warmup_iters is not modelled",
        "t.yaml: base_lr is not modelled",
        "t.yaml: warmup_ratio is",
    ):
        assert any(words in note for note in notes), (words, notes)
    assert any("custom_hooks[1] LrWarmupHook may change the LR" in note for note in notes)


@pytest.mark.parametrize(
    ("name", "size", "devices", "length"),
    [
        # 3 x 117,266 COCO images over 8 GPUs: ceil(351798 / 8) = 43,975, in batches of 2: 21,988.
        ("mmdet_faster-rcnn_r50_fpn_ms-3x_coco.yaml", 117266, 8, 21988),
        # SSD300: 5 x 117,266 = 586,330 over 8: 73,292, in batches of 8: 9,162 (x 24 epochs).
        ("mmdet_ssd300_coco.yaml", 117266, 8, 9162),
        # YOLOX: MultiImageMixDataset keeps 117,266 over 8: 14,659, in batches of 8: 1,833.
        ("mmdet_yolox_s_8xb8-300e_coco.yaml", 117266, 8, 1833),
        # YOLOv5: 117,266 over 8: 14,659, in batches of 16: 917.
        ("mmyolo_yolov5_s-v61_syncbn_8xb16-300e_coco.yaml", 117266, 8, 917),
    ],
)
def test_real_openmmlab_configs(name, size, devices, length):
    spec = load_file(DATA / name, Overrides(dataset_size=size, devices=devices))
    assert plan(spec.run, 1.0).shape.dataloader_len == length
    rows = collect(simulate(spec.run, 1.0, mode="trainer"))
    epochs = int(spec.run.max_duration.value)
    assert len(rows["lr"]) == epochs * length


def test_real_configs_that_need_no_dataset_size():
    # MMSegmentation's poly schedule and MMagic's CycleGAN: iteration loops, the schedule alone.
    seg = load_file(DATA / "mmseg_deeplabv3_r50-d8_4xb4-40k_pascal-context-59-480x480.yaml")
    lr = collect(simulate(seg.run, 1.0, mode="trainer"))["lr"]
    # PolyLR(eta_min=1e-4, power=0.9) from 0.004 over 40,000 iterations: T = 39,999.
    assert lr[0] == 0.004 and lr[20000] == pytest.approx((0.004 - 1e-4) * (1 - 20000 / 39999) ** 0.9 + 1e-4, rel=1e-9)
    gan = load_file(DATA / "mmagic_cyclegan_lsgan-resnet-in_1xb1-80kiters_facades.yaml")
    assert gan.run.lr == 0.0002 and any("same LR schedule" in n for n in gan.notes)


def test_a_python_config_counts_its_dataset_wrappers_through_the_command_line(tmp_path):
    # --dataset-size is the innermost dataset: RepeatDataset(times=3) makes an epoch 300 samples,
    # 150 per device on 2, so ceil(150 / 4) = 38 iterations and 76 for 2 epochs. The option must
    # not be applied a second time over what the reader counted (it once was, for .py configs).
    pytest.importorskip("mmengine", reason="Python MMEngine configs are read by MMEngine itself")
    from sched_cli.specs import Overrides, load

    path = tmp_path / "repeat_config.py"
    path.write_text(
        "train_dataloader = dict(batch_size=4, dataset=dict(type='RepeatDataset', times=3, "
        "dataset=dict(type='MyDataset')))\n"
        "train_cfg = dict(by_epoch=True, max_epochs=2)\n"
        "optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.1))\n"
        "param_scheduler = [dict(type='MultiStepLR', milestones=[1], by_epoch=True)]\n"
    )
    spec = load(str(path), Overrides(source="mmengine", dataset_size=100, devices=2))
    assert spec.run.dataloader_len == 38
    assert collect(simulate(spec.run))["batch"].size == 76


def test_default_scope_mmpose_builds_mmposes_constant_lr():
    # RTMO-style: a boost of x2.5 for one epoch late in the run; MMPose's ConstantLR, built from default_scope.
    text = (
        "train_cfg: {by_epoch: false, max_iters: 6}\n"
        "param_scheduler: [{type: ConstantLR, factor: 2.5, by_epoch: false, begin: 2, end: 4}]\n"
        "optim_wrapper: {optimizer: {type: SGD, lr: 0.1}}\n"
    )
    with pytest.raises(MMEngineConfigError, match="factor"):
        reading_of(text)  # MMEngine's ConstantLR refuses 2.5
    spec = from_mapping(reading_of("default_scope: mmpose\n" + text).spec, "t.yaml", Path.cwd())
    # begin 2, end 4: total_iters 1: x2.5 at iteration 2, back to the LR at 3.
    assert collect(simulate(spec.run))["lr"].tolist() == pytest.approx([0.1, 0.1, 0.25, 0.1, 0.1, 0.1])
