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
