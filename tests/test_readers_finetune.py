"""What the fine-tuning front-ends share (sched_cli/readers/_finetune.py): the eval split as
``datasets.train_test_split`` sizes it, and the deepspeed config's scheduler block."""

from __future__ import annotations

import json

import pytest

from sched_cli.readers import ReaderError
from sched_cli.readers._finetune import deepspeed_replaces, split_train_size


@pytest.mark.parametrize(
    ("size", "value", "expected"),
    [(1000, 0.05, (950, 50)), (1001, 0.05, (950, 51)), (1000, 20, (980, 20)), (1000, 5.7, (995, 5)), (3, 0.1, (2, 1))],
)
def test_a_fraction_holds_out_its_ceiling_and_a_count_its_whole_part(size, value, expected):
    assert split_train_size("f.yml", "val_set_size", size, value) == expected


@pytest.mark.parametrize(("size", "value"), [(1000, 1.0), (1000, 1000), (10, 0.95), (1000, -0.1)])
def test_a_split_that_leaves_nothing_to_train_is_refused(size, value):
    with pytest.raises(ReaderError, match="val_set_size"):
        split_train_size("f.yml", "val_set_size", size, value)


def test_a_deepspeed_scheduler_block_replaces_the_schedule_and_a_plain_config_does_not(tmp_path):
    (tmp_path / "ds.json").write_text(json.dumps({"scheduler": {"type": "WarmupLR", "params": {}}}))
    assert deepspeed_replaces({"deepspeed": "ds.json"}, str(tmp_path / "a.yml"), {})
    assert not deepspeed_replaces({"deepspeed": {"zero_optimization": {"stage": 3}}}, "a.yml", {})
    assert not deepspeed_replaces({}, "a.yml", {})
