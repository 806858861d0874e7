"""Files of tools no reader models (axolotl, TRL's online trainers, LLaMA-Factory) are refused in
one line naming the tool, by `sched` itself and under --from hf; never read as an HF file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from sched_cli import readers
from sched_cli.readers import tools
from tests.conftest import one_error_line

# An axolotl QLoRA recipe's keys (examples/llama-3/qlora.yml in axolotl's repository, shortened).
AXOLOTL = {
    "base_model": "NousResearch/Meta-Llama-3-8B",
    "load_in_4bit": True,
    "datasets": [{"path": "mhenrichsen/alpaca_2k_test", "type": "alpaca"}],
    "adapter": "qlora",
    "sequence_len": 4096,
    "sample_packing": True,
    "gradient_accumulation_steps": 4,
    "micro_batch_size": 2,
    "num_epochs": 4,
    "optimizer": "paged_adamw_32bit",
    "lr_scheduler": "cosine",
    "learning_rate": 0.0002,
    "warmup_ratio": 0.1,
}
# TRL's GRPOConfig fields, as open-r1's recipes write them.
GRPO = {
    "learning_rate": 1e-6,
    "lr_scheduler_type": "cosine_with_min_lr",
    "num_generations": 16,
    "per_device_train_batch_size": 16,
    "use_vllm": True,
    "max_completion_length": 1024,
    "beta": 0.04,
}
PPO = {"learning_rate": 3e-6, "num_ppo_epochs": 4, "per_device_train_batch_size": 64, "total_episodes": 10000}
RLOO = {"learning_rate": 3e-6, "rloo_k": 2, "per_device_train_batch_size": 64}
ONLINE_DPO = {"learning_rate": 5e-7, "missing_eos_penalty": 1.0, "per_device_train_batch_size": 4}
# LLaMA-Factory's examples/train_lora/llama3_lora_sft.yaml keys.
LLAMA_FACTORY = {
    "model_name_or_path": "meta-llama/Meta-Llama-3-8B-Instruct",
    "stage": "sft",
    "do_train": True,
    "finetuning_type": "lora",
    "lora_target": "all",
    "dataset": "identity,alpaca_en_demo",
    "template": "llama3",
    "cutoff_len": 2048,
    "output_dir": "saves/llama3-8b/lora/sft",
    "per_device_train_batch_size": 1,
    "gradient_accumulation_steps": 8,
    "learning_rate": 1.0e-4,
    "num_train_epochs": 3.0,
    "lr_scheduler_type": "cosine",
    "warmup_ratio": 0.1,
}


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (GRPO, ("TRL GRPOConfig", "completions")),
        (PPO, ("TRL PPOConfig", "completions")),
        (RLOO, ("TRL RLOOConfig", "rloo_k")),
        (ONLINE_DPO, ("OnlineDPOConfig", "missing_eos_penalty")),
    ],
)
def test_identify_names_the_tool_and_what_it_adds(data, words):
    refusal = tools.identify(data, "f.yaml")
    assert refusal is not None and refusal.startswith("f.yaml: this is a")
    for word in words:
        assert word in refusal
    assert "\n" not in refusal


@pytest.mark.parametrize(
    "data",
    [
        {"learning_rate": 2e-5, "lr_scheduler_type": "cosine", "per_device_train_batch_size": 4, "bf16": True},
        {"max_duration": "100ba", "schedulers": [{"name": "constant"}]},
        {"sched": "cosine", "epochs": 300, "batch_size": 256},
        # one axolotl-looking key alone is not enough
        {"learning_rate": 2e-5, "adapter": "lora"},
        # TRL's ModelConfig fields beside SFTConfig's (alignment-handbook's QLoRA recipes): not axolotl
        {"learning_rate": 2e-4, "load_in_4bit": True, "use_peft": True, "lora_target_modules": ["q_proj"]},
    ],
)
def test_files_of_modelled_tools_are_not_refused(data):
    # axolotl and LLaMA-Factory files have readers now (tests/test_readers_axolotl.py, ..._llamafactory.py)
    assert tools.identify(data, "f.yaml") is None


def test_a_single_key_of_another_tool_is_a_note_of_the_hf_reader():
    reading = readers.read("hf", {"learning_rate": 2e-5, "adapter": "lora"}, "f.json", {"dataset_size": 80})
    assert len(reading.notes) == 1 and "adapter" in reading.notes[0]


def sched(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sched_cli", *args], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("from_hf", [False, True])
@pytest.mark.parametrize(
    ("data", "word", "from_hf_only"),
    [(AXOLOTL, "--from axolotl", True), (GRPO, "GRPO", False), (LLAMA_FACTORY, "--from llamafactory", True)],
)
def test_the_cli_refuses_in_one_line_with_exit_2(tmp_path, data, word, from_hf_only, from_hf):
    """GRPO files are refused always; axolotl and LLaMA-Factory files only when read as HF files."""
    if from_hf_only and not from_hf:
        pytest.skip("read by their own readers")
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data))
    proc = sched("validate", str(path), "--dataset-size", "1000", *(["--from", "hf"] if from_hf else []))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("sched: error: ") and word in lines[0]
    assert str(path) in lines[0]


def test_an_empty_file_under_from_hf_says_what_an_hf_file_needs(tmp_path):
    for text in ("", "{}\n"):
        path = tmp_path / "args.json"
        path.write_text(text)
        proc = sched("validate", str(path), "--from", "hf")
        assert proc.returncode == 2
        assert "learning_rate" in proc.stderr and "per_device_train_batch_size" in proc.stderr
        assert "max_duration" not in proc.stderr.replace("sched spec", "")


def test_an_empty_sched_spec_still_names_sched_keys(tmp_path):
    path = Path(tmp_path / "spec.yaml")
    path.write_text("")
    proc = sched("validate", str(path))
    assert proc.returncode == 2 and "max_duration" in proc.stderr


def test_an_accelerate_launch_config_is_refused_by_name(sched, tmp_path):
    path = tmp_path / "deepspeed_zero3.yaml"
    path.write_text(
        "compute_environment: LOCAL_MACHINE\ndistributed_type: DEEPSPEED\nmachine_rank: 0\n"
        "mixed_precision: bf16\nnum_machines: 1\nnum_processes: 8\nuse_cpu: false\n"
    )
    code, out, err = sched("validate", str(path))
    assert code == 2 and out == ""
    line = one_error_line(err)
    assert "this is an accelerate launch config" in line and "--devices" in line
