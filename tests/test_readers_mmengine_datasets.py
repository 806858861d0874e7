"""An MMEngine epoch's length: dataset wrappers, sampler and loader, counted by hand."""

from __future__ import annotations

import pytest

from sched_cli.readers.mmengine_datasets import DatasetError, dataset_length, epoch_length

COCO = {"type": "CocoDataset", "ann_file": "instances_train2017.json"}


def test_plain_dataset_is_its_own_length():
    wrapped = dataset_length(COCO)
    assert wrapped.factor == 1 and not wrapped.wrappers
    assert wrapped.describe(10) == "--dataset-size 10 is the training set's length"


def test_repeat_dataset_multiplies_nested_times():
    wrapped = dataset_length(
        {"type": "RepeatDataset", "times": 3, "dataset": {"type": "mmdet.RepeatDataset", "times": 2, "dataset": COCO}}
    )
    assert wrapped.factor == 6
    assert "innermost dataset's length" in wrapped.describe(100) and "600 samples" in wrapped.describe(100)


def test_mix_and_concat_keep_the_length_they_wrap():
    mixed = dataset_length({"type": "MultiImageMixDataset", "dataset": COCO, "pipeline": []})
    assert mixed.factor == 1 and mixed.wrappers == ["MultiImageMixDataset"]
    concat = dataset_length(
        {"type": "RepeatDataset", "times": 2, "dataset": {"type": "ConcatDataset", "datasets": [COCO, COCO]}}
    )
    assert concat.factor == 2 and "their total" in concat.wrappers[-1]


def test_class_balanced_dataset_takes_its_own_length():
    wrapped = dataset_length({"type": "ClassBalancedDataset", "oversample_thr": 1e-3, "dataset": COCO})
    assert wrapped.balanced == "ClassBalancedDataset" and wrapped.factor == 1
    assert "ClassBalancedDataset's own length (its repeat factors depend on the data)" in wrapped.describe(5)


@pytest.mark.parametrize(
    ("dataset", "key", "words"),
    [
        ({"type": "KFoldDataset", "dataset": COCO}, "train_dataloader.dataset.type", "'KFoldDataset' wraps another"),
        ({"type": "RepeatDataset", "times": 0, "dataset": COCO}, "train_dataloader.dataset.times", "at least 1"),
        (
            {"type": "ConcatDataset", "datasets": [COCO, {"type": "RepeatDataset", "times": 2, "dataset": COCO}]},
            "train_dataloader.dataset.datasets[1]",
            "RepeatDataset inside a ConcatDataset",
        ),
    ],
)
def test_wrappers_sched_cannot_count_are_refused_by_name(dataset, key, words):
    with pytest.raises(DatasetError, match=words) as info:
        dataset_length(dataset)
    assert info.value.key == key


@pytest.mark.parametrize(
    ("size", "devices", "batch", "drop_last", "sampler", "expected"),
    [
        (351798, 8, 2, False, "DefaultSampler", 21988),  # COCO x 3: ceil(43974.75) = 43975, ceil(/2)
        (10, 3, 2, True, "DefaultSampler", 2),  # 4 per device (padded), floor(4 / 2)
        (11, 1, 4, True, "DefaultSampler", 2),
        (11, 1, 4, False, "DefaultSampler", 3),
        (100, 8, 4, False, "InfiniteSampler", 25),  # InfiniteSampler's len is the whole dataset
    ],
)
def test_epoch_length(size, devices, batch, drop_last, sampler, expected):
    assert epoch_length(size, devices, batch, drop_last, sampler) == expected


def _read(config: dict, **options):
    from sched_cli.readers.mmengine import read

    return read(config, "c.py", {"dataset_size": 10, "devices": 3, **options})


def _lrs(reading) -> list[float]:
    from pathlib import Path

    from sched_cli.simulator import collect, simulate
    from sched_cli.specs import from_mapping

    return collect(simulate(from_mapping(reading.spec, "c.py", Path.cwd()).run))["lr"].tolist()


def test_class_aware_sampler_counts_a_padded_share_per_device():
    # MMDetection's ClassAwareSampler (OpenImages' -cas- configs): num_samples = ceil(10 / 3) = 4 per device, in
    # batches of 2: 2 iterations an epoch; MultiStepLR at epoch 1 of 2: 0.1, 0.1, then 0.01, 0.01.
    config = {
        "train_dataloader": {"batch_size": 2, "sampler": {"type": "ClassAwareSampler", "num_sample_class": 1}},
        "train_cfg": {"type": "EpochBasedTrainLoop", "max_epochs": 2},
        "optim_wrapper": {"optimizer": {"type": "SGD", "lr": 0.1}},
        "param_scheduler": [{"type": "MultiStepLR", "by_epoch": True, "milestones": [1], "gamma": 0.1}],
    }
    assert epoch_length(10, 3, 2, False, "ClassAwareSampler") == 2
    assert _lrs(_read(config)) == pytest.approx([0.1, 0.1, 0.01, 0.01])


def test_a_sampler_sched_cannot_count_matters_only_where_an_epoch_is_counted():
    # Soft Teacher: GroupMultiSourceSampler under an IterBasedTrainLoop whose schedulers count iterations: no
    # epoch is ever counted, so the run reads exactly (MultiStepLR at iteration 2 of 4: 0.1, 0.1, 0.01, 0.01).
    config = {
        "train_dataloader": {
            "batch_size": 5,
            "sampler": {"type": "GroupMultiSourceSampler", "batch_size": 5, "source_ratio": [1, 4]},
            "dataset": {"type": "ConcatDataset", "datasets": [COCO, COCO]},
        },
        "train_cfg": {"type": "IterBasedTrainLoop", "max_iters": 4},
        "optim_wrapper": {"optimizer": {"type": "SGD", "lr": 0.1}},
        "param_scheduler": [{"type": "MultiStepLR", "by_epoch": False, "milestones": [2], "gamma": 0.1}],
    }
    reading = _read(config)
    assert reading.notes == [] and _lrs(reading) == pytest.approx([0.1, 0.1, 0.01, 0.01])
    # The same sampler where an epoch is counted (an epoch loop, or convert_to_iter_based) is refused by name.
    from sched_cli.readers.mmengine import MMEngineConfigError

    epochs = {**config, "train_cfg": {"type": "EpochBasedTrainLoop", "max_epochs": 2}}
    with pytest.raises(MMEngineConfigError, match="train_dataloader.sampler.type: 'GroupMultiSourceSampler'"):
        _read(epochs)
    converted = {
        **config,
        "param_scheduler": [{"type": "LinearLR", "by_epoch": True, "convert_to_iter_based": True, "end": 1}],
    }
    with pytest.raises(MMEngineConfigError, match="GroupMultiSourceSampler"):
        _read(converted)
