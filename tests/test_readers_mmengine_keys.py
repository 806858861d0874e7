"""Key accounting of MMEngine configs: config variables, section keys, custom hooks (through
readers.read, which applies the reader contract's accounting with the reader's accounted())."""

from __future__ import annotations

from sched_cli import readers
from sched_cli.readers.mmengine import _Config, accounted
from sched_cli.readers.mmengine_keys import custom_hook_notes

BASE = {
    "param_scheduler": [{"type": "LinearLR", "by_epoch": False, "end": 3}],
    "train_cfg": {"type": "IterBasedTrainLoop", "max_iters": 10, "val_interval": 2},
    "optim_wrapper": {"optimizer": {"type": "SGD", "lr": 0.1}},
}


def notes_of(extra):
    return readers.read("mmengine", {**BASE, **extra}, "c.py", {}).notes


def test_a_variable_used_by_a_key_read_is_accounted_for():
    assert notes_of({"max_iters": 10}) == []
    (note,) = notes_of({"max_iters": 24})  # the config sets one value and trains with another
    assert note == (
        "c.py: max_iters = 24 is not a key MMEngine's Runner reads (a variable of the config that no key sched "
        "reads uses): it changes nothing, in training or here"
    )
    (note,) = notes_of({"base_lr": 0.5})
    assert note.startswith("c.py: base_lr is not modelled by sched's MMEngine reader")
    assert notes_of({"base_lr": 0.1}) == []


def test_a_structure_placed_in_another_key_is_accounted_for():
    pipeline = [{"type": "Resize", "scale": [640, 640]}]
    data = {**BASE, "train_pipeline_stage2": pipeline, "train_dataloader": {"dataset": {"pipeline": pipeline}}}
    assert [where for where, mapping in accounted(data) if "train_pipeline_stage2" in mapping] == []


def test_names_that_cannot_change_the_schedule_and_irrelevant_keys_are_quiet():
    assert notes_of({"model": {"type": "RetinaNet"}, "img_scale": [640, 640], "num_classes": 80}) == []


def test_openmmlab_data_side_variables_are_quiet():
    # RTMPose-style: the PipelineSwitchHook's switch epoch computed from a variable (its value not visible in any
    # key), and MMYOLO's validation batch-shape policy switched off: neither is read by the Runner's schedule.
    hooks = [{"type": "PipelineSwitchHook", "switch_epoch": 180, "switch_pipeline": []}]
    assert notes_of({"stage2_num_epochs": 30, "custom_hooks": hooks, "batch_shapes_cfg": None}) == []


def test_unknown_section_keys_are_named_where_they_are():
    (note,) = notes_of({"train_cfg": {**BASE["train_cfg"], "warmup_iters": 5}})
    assert note.startswith("c.py: train_cfg.warmup_iters is not modelled by sched's MMEngine reader")


def test_custom_hooks_that_could_set_the_lr():
    config = _Config({"custom_hooks": [{"type": "EMAHook"}, {"type": "SetEpochInfoHook"}, {"type": "MyLrHook"}]}, "c")
    assert custom_hook_notes(config) == [
        "c: custom_hooks[2] MyLrHook may change the LR during training, which sched does not model; "
        "the preview leaves it out"
    ]
