"""The LLaMA-Factory reader (sched_cli/readers/llamafactory.py): its example config and variants,
step counts and warmup_stable_decay defaults worked out by hand from LLaMA-Factory 0.9.5's rules
and Hugging Face's, refusals by name, through the library and a real `sched` process."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from conftest import one_error_line

from sched_cli import readers

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_specs" / "llamafactory_qwen3_lora_sft.yaml"  # examples/train_lora/qwen3_lora_sft.yaml
DATA = ROOT / "tests" / "data" / "llamafactory"


def example() -> dict:
    return yaml.safe_load(SAMPLE.read_text(encoding="utf-8"))


def read(data: dict, **options) -> readers.Reading:
    return readers.read("llamafactory", data, "lf.yaml", options)


def run_length(reading: readers.Reading) -> int:
    return int(reading.spec["max_duration"].removesuffix("ba"))


def test_the_example_is_hugging_faces_schedule_over_the_loaded_samples():
    reading = read(example(), dataset_size=1000)
    # identity (91) + alpaca_en_demo (1000 rows in the repository; any split within max_samples):
    # 1000 samples, micro-batches of 1, 8 per update: 125 updates an epoch, 3 epochs.
    assert run_length(reading) == 375
    assert reading.spec["schedulers"] == [{"name": "hf:cosine", "warmup_steps": 0.1}]  # ceil(37.5) = 38
    assert "llamafactory: warmup: 38 updates" in reading.facts
    assert reading.notes == []


def test_warmup_stable_decay_gets_llamafactorys_split_of_the_updates_after_warmup():
    reading = read({**example(), "lr_scheduler_type": "warmup_stable_decay"}, dataset_size=1000)
    config = reading.spec["schedulers"][0]
    # T = 375, w = 38: 337 after warmup; stable 337 // 3 = 112, decay 225.
    assert config["num_stable_steps"] == 112 and config["num_decay_steps"] == 225
    assert any("num_stable_steps = 112, num_decay_steps = 225" in fact for fact in reading.facts)


def test_a_given_decay_keeps_llamafactorys_stable_default():
    data = {**example(), "lr_scheduler_type": "warmup_stable_decay", "lr_scheduler_kwargs": {"num_decay_steps": 50}}
    config = read(data, dataset_size=1000).spec["schedulers"][0]
    assert config["num_decay_steps"] == 50 and config["num_stable_steps"] == 112  # not HF's T - w - d


def test_max_samples_then_val_size_cut_the_training_set():
    data = {**example(), "dataset": "alpaca_en_demo", "max_samples": 500, "val_size": 0.1}
    reading = read(data, dataset_size=1000)
    # 500 kept, ceil(50.0) = 50 held out: 450 samples, ceil(450 / 8) = 57 updates an epoch.
    assert run_length(reading) == 171
    assert "llamafactory: val_size holds out 50 of 500 samples: 450 train" in reading.facts


def test_max_samples_over_several_datasets_is_refused_when_it_may_cut_them():
    with pytest.raises(readers.ReaderError, match="caps each of the 2 datasets"):
        read(example(), dataset_size=1091)


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        ({"stage": "ppo"}, ("ppo", "PPO")),
        ({"tensor_model_parallel_size": 2}, ("Megatron",)),
        ({"use_v1": True}, ("v1",)),
        ({"stage": "pt"}, ("packing", "max_steps")),
        ({"neat_packing": True}, ("neat_packing",)),
        ({"val_size": 0.1, "eval_dataset": "x"}, ("eval_dataset",)),
    ],
)
def test_stages_and_backends_without_hfs_schedule_are_refused(extra, words):
    with pytest.raises(readers.ReaderError) as info:
        read({**example(), **extra}, dataset_size=1000)
    for word in words:
        assert word in str(info.value)


# Written here, in the shape of LLaMA-Factory's own examples: a chat config, an export config, a v1-trainer config
# (USE_V1=1: micro_batch_size, dist_config) and a file of new special tokens. None of them trains under
# `llamafactory-cli train` (do_train defaults to False in HF's TrainingArguments), or the HF Trainer is not the one.
@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"model_name_or_path": "org/m", "template": "qwen3", "infer_backend": "vllm"}, ("do_train", "chat")),
        ({"model_name_or_path": "org/m", "template": "qwen3", "export_dir": "out", "export_size": 5}, ("export",)),
        ({**example(), "do_train": False}, ("do_train: false",)),
        ({"model": "org/m", "micro_batch_size": 2, "learning_rate": 1e-4, "max_steps": 10}, ("micro_batch_size", "v1")),
        ({"model": "org/m", "dist_config": {"name": "fsdp2"}, "train_dataset": "d.yaml"}, ("dist_config", "v1")),
        ({"<|tag|>": "a special token", "<|end|>": "its end"}, ("do_train",)),
    ],
)
def test_files_that_do_not_train_with_hfs_trainer_are_refused_by_name(data, words):
    with pytest.raises(readers.ReaderError) as info:
        read(data, dataset_size=1000)
    for word in words:
        assert word in str(info.value)


def test_a_file_without_do_train_is_refused_in_one_line_by_the_cli(sched, tmp_path):
    path = tmp_path / "chat.yaml"
    path.write_text("model_name_or_path: org/m\ntemplate: qwen3\ninfer_backend: huggingface\n")
    code, _, err = sched("validate", str(path), "--from", "llamafactory", "--dataset-size", "1000")
    assert code == 2
    assert "do_train" in one_error_line(err)


def test_a_packed_run_with_max_steps_is_previewed():
    reading = read({**example(), "stage": "pt", "max_steps": 200})
    assert run_length(reading) == 200


@pytest.mark.parametrize(
    "name", ["train_lora_qwen3_lora_dpo.yaml", "train_lora_qwen3_lora_kto.yaml", "train_lora_qwen3_lora_reward.yaml"]
)
def test_every_hf_stage_example_reads(name):
    data = yaml.safe_load((DATA / name).read_text(encoding="utf-8"))
    reading = read(data, dataset_size=1000)
    assert run_length(reading) > 0 and reading.notes == []


def test_the_cli_refuses_the_megatron_example_in_one_line(sched):
    code, _, err = sched("validate", str(DATA / "megatron_qwen3_moe_full.yaml"), "--dataset-size", "1000")
    assert code == 2
    assert "Megatron" in one_error_line(err)


def test_validate_prints_the_derived_numbers(sched):
    code, out, err = sched("validate", str(SAMPLE), "--dataset-size", "1000", "--devices", "4")
    assert code == 0, err
    # 4 ranks: 250 micro-batches each, ceil(250 / 8) = 32 updates an epoch, 96 in all.
    assert "llamafactory: stage sft: Hugging Face's Trainer runs 96 updates" in out


def test_a_deepspeed_scheduler_block_replaces_the_schedule():
    ds = {"scheduler": {"type": "WarmupDecayLR", "params": {"total_num_steps": "auto", "warmup_num_steps": "auto"}}}
    reading = read({**example(), "deepspeed": ds}, dataset_size=1000)
    assert reading.spec["schedulers"][0]["name"].startswith("ds:")
