"""Key accounting of MMEngine configs: config variables, section keys, custom hooks."""

from __future__ import annotations

from sched_cli.readers.mmengine import _RUNNER_KEYS, KEYS, _Config
from sched_cli.readers.mmengine_keys import custom_hook_notes, unknown_keys


def notes_of(data):
    return unknown_keys(_Config(data, "c.py"), _RUNNER_KEYS, KEYS, [""])


def test_a_variable_used_by_a_key_read_is_accounted_for():
    data = {"max_epochs": 12, "train_cfg": {"type": "EpochBasedTrainLoop", "max_epochs": 12}}
    assert notes_of(data) == []
    data["max_epochs"] = 24  # the config sets one value and trains with another
    assert notes_of(data) == [
        "c.py: max_epochs = 24 is not a key MMEngine's Runner reads (a variable of the config that no key sched "
        "reads uses): it changes nothing, in training or here"
    ]


def test_a_structure_placed_in_another_key_is_accounted_for():
    pipeline = [{"type": "Resize", "scale": [640, 640]}]
    data = {"train_pipeline_stage2": pipeline, "train_dataloader": {"dataset": {"pipeline": pipeline}}}
    assert notes_of(data) == []


def test_names_that_cannot_change_the_schedule_and_irrelevant_keys_are_quiet():
    assert notes_of({"model": {"type": "RetinaNet"}, "img_scale": [640, 640], "num_classes": 80}) == []


def test_unknown_section_keys_are_named_where_they_are():
    data = {"train_cfg": {"by_epoch": False, "max_iters": 10, "warmup_iters": 5, "val_interval": 2}}
    (note,) = notes_of(data)
    assert note.startswith("c.py: train_cfg.warmup_iters is not modelled by sched's MMEngine reader")


def test_custom_hooks_that_could_set_the_lr():
    config = _Config({"custom_hooks": [{"type": "EMAHook"}, {"type": "SetEpochInfoHook"}, {"type": "MyLrHook"}]}, "c")
    assert custom_hook_notes(config) == [
        "c: custom_hooks[2] MyLrHook may change the LR during training, which sched does not model; "
        "the preview leaves it out"
    ]
