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
    # MMSegmentation's default_runtime: the test-time-augmentation scales, expanded by a comprehension into
    # tta_pipeline (so no key holds the list itself); "ratio" is a schedule word, the list is not read by training.
    ratios = [0.5, 0.75, 1.0, 1.25, 1.5, 1.75]
    tta = [{"type": "TestTimeAug", "transforms": [[{"type": "Resize", "scale_factor": r} for r in ratios]]}]
    assert notes_of({"img_ratios": ratios, "tta_pipeline": tta}) == []
    (note,) = notes_of({"img_ratio_schedule": ratios, "tta_pipeline": tta})  # a name it does not know still speaks
    assert "img_ratio_schedule" in note


def test_unknown_section_keys_are_named_where_they_are():
    (note,) = notes_of({"train_cfg": {**BASE["train_cfg"], "warmup_iters": 5}})
    assert note.startswith("c.py: train_cfg.warmup_iters is not modelled by sched's MMEngine reader")


def test_custom_hooks_that_could_set_the_lr():
    config = _Config({"custom_hooks": [{"type": "EMAHook"}, {"type": "SetEpochInfoHook"}, {"type": "MyLrHook"}]}, "c")
    assert custom_hook_notes(config) == [
        "c: custom_hooks[2] MyLrHook may change the LR during training, which sched does not model; "
        "the preview leaves it out"
    ]


def test_layer_decay_constructors_are_named():
    # BEiT on MMSegmentation: each layer's LR is optimizer.lr x 0.9^(depth from the top); the preview is lr's own.
    wrapper = {
        "optimizer": {"type": "AdamW", "lr": 3e-5},
        "constructor": "LayerDecayOptimizerConstructor",
        "paramwise_cfg": {"num_layers": 12, "layer_decay_rate": 0.9},
    }
    (note,) = notes_of({"optim_wrapper": wrapper})
    assert note == (
        "c.py: optim_wrapper.constructor LayerDecayOptimizerConstructor decays the LR layer by layer (rate 0.9): "
        "each layer trains at optimizer.lr times its own factor; the preview shows optimizer.lr's schedule, and "
        "MMEngine's log shows the first parameter group's"
    )
    mmdet = {
        **wrapper,
        "constructor": "mmdet.LearningRateDecayOptimizerConstructor",
        "paramwise_cfg": {"decay_rate": 0.95},
    }
    assert (
        "LearningRateDecayOptimizerConstructor decays the LR layer by layer (rate 0.95)"
        in notes_of({"optim_wrapper": mmdet})[0]
    )
    # The default constructor (and MMSegmentation's forced default) keep one LR: nothing to say.
    for quiet in ("DefaultOptimWrapperConstructor", "ForceDefaultOptimWrapperConstructor"):
        assert notes_of({"optim_wrapper": {**wrapper, "constructor": quiet}}) == []
