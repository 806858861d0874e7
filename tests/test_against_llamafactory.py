"""sched's LLaMA-Factory reader against the real LLaMA-Factory: hundreds of random configs, every update's LR.

Runs only when ``SCHED_LLAMAFACTORY_PYTHON`` names a Python with llamafactory, transformers and
torch (``bash tools/envs/llamafactory.sh``; docs/llamafactory.md). ``tools/llamafactory_oracle.py``
runs LLaMA-Factory's eval split, its TrainingArguments, Hugging Face's step count over the sharded
loader and LLaMA-Factory's ``create_custom_scheduler`` + the Trainer's ``create_scheduler`` there;
sched reads the same keys as a YAML file, and both lists of LRs must agree to a relative 1e-12.
"""

from __future__ import annotations

import csv
import json
import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from sched_cli.simulator import collect, simulate
from sched_cli.specs import Overrides, SpecError, load_file
from tests.conftest import ask_oracle, compare_with_library, reference_python

ENV = "SCHED_LLAMAFACTORY_PYTHON"
ORACLE = Path(__file__).resolve().parents[1] / "tools" / "llamafactory_oracle.py"
SEED = int(os.environ.get("SCHED_PARITY_SEED", "20251204"))
N_CASES = int(os.environ.get("SCHED_LLAMAFACTORY_CASES", "300"))
TOL = 1e-12
TYPES = ("linear", "cosine", "cosine_with_restarts", "polynomial", "constant_with_warmup", "inverse_sqrt")


def _python() -> str:
    # LLaMA-Factory 0.9.5 wants transformers <= 5.6; the environment has hf.sh's 5.24.
    env = {**os.environ, "DISABLE_VERSION_CHECK": "1"}
    probe = "import llamafactory.hparams.training_args, transformers, torch"
    how = f"set {ENV} to a Python with llamafactory (bash tools/envs/llamafactory.sh; docs/llamafactory.md)"
    return reference_python(ENV, probe, "llamafactory", how, env=env)


def _ask(python: str, cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return ask_oracle(python, ORACLE, {"cases": cases}, timeout=3600)


def _case(rng: random.Random) -> dict[str, Any]:
    args: dict[str, Any] = {
        "model_name_or_path": "oracle/none",
        "do_train": True,  # without it LLaMA-Factory's workflows do not train (and sched refuses the file)
        "stage": rng.choice(["sft", "sft", "rm", "dpo", "kto"]),
        "finetuning_type": rng.choice(["lora", "full"]),
        "template": "qwen3_nothink",
        "dataset": "alpaca_en_demo",
        "learning_rate": rng.choice([1e-5, 5e-5, 1.0e-4, 2e-4]),
        "per_device_train_batch_size": rng.choice([1, 2, 4, 8]),
        "gradient_accumulation_steps": rng.choice([1, 2, 4, 8]),
        "num_train_epochs": rng.choice([1.0, 2.0, 3.0, 0.5, 2.5]),
        "lr_scheduler_type": rng.choice(TYPES + ("warmup_stable_decay", "warmup_stable_decay", "cosine_with_min_lr")),
    }
    kind = args["lr_scheduler_type"]
    if kind == "warmup_stable_decay":
        kwargs: dict[str, Any] = {}
        if rng.random() < 0.3:
            kwargs["num_decay_steps"] = rng.randint(1, 30)
        if rng.random() < 0.2:
            kwargs["num_stable_steps"] = rng.randint(0, 30)
        if rng.random() < 0.4:
            kwargs["min_lr_ratio"] = 0.1
        if kwargs or rng.random() < 0.5:
            args["lr_scheduler_kwargs"] = kwargs
    elif kind == "cosine_with_min_lr":
        args["lr_scheduler_kwargs"] = {"min_lr_rate": 0.1}
    warmup = rng.random()
    if warmup < 0.3:
        args["warmup_steps"] = rng.choice([0, 1, 5, 20])
    elif warmup < 0.7:
        args["warmup_ratio"] = rng.choice([0.03, 0.1, 0.2])
    if rng.random() < 0.4:
        args["val_size"] = rng.choice([0.1, 0.05, 0.2, 10, 50])
    if rng.random() < 0.4:
        args["max_samples"] = rng.choice([100, 500, 1000])
    if rng.random() < 0.15:
        args["max_steps"] = rng.randint(5, 120)
    if rng.random() < 0.2:
        args["dataloader_drop_last"] = True
    return {"args": args, "dataset_size": rng.randint(60, 3000), "devices": rng.choice([1, 1, 2, 3, 4, 8])}


def _sched(path: Path, case: dict[str, Any]) -> dict[str, np.ndarray] | str:
    overrides = Overrides(dataset_size=case["dataset_size"], devices=case["devices"], source="llamafactory")
    try:
        spec = load_file(path, overrides)
        return collect(simulate(spec.run, 1.0, mode="trainer"))
    except (SpecError, ValueError) as exc:
        return f"{type(exc).__name__}: {exc}"


def _file(tmp: Path, i: int, case: dict[str, Any]) -> Path:
    path = tmp / f"llamafactory{i}.yaml"
    path.write_text(yaml.safe_dump(case["args"]), encoding="utf-8")
    return path


def test_random_configs_match_llamafactory_update_for_update(tmp_path: Path) -> None:
    python = _python()
    rng = random.Random(SEED)
    cases = [_case(rng) for _ in range(N_CASES)]
    theirs = _ask(python, cases)
    stats: dict[str, Any] = {"updates": 0, "bit_equal": 0, "max_gap": 0.0, "both_fail": []}
    for i, (case, answer) in enumerate(zip(cases, theirs, strict=True)):
        compare_with_library("LLaMA-Factory", case, _sched(_file(tmp_path, i, case), case), answer, stats, TOL)
    print(
        f"\nllamafactory parity: {N_CASES} configs, {stats['updates']:,} updates, "
        f"{stats['bit_equal']:,} LRs bit-equal, "
        f"largest relative gap {stats['max_gap']:.3g}; both refused {len(stats['both_fail'])} "
        f"({sorted(set(stats['both_fail']))})"
    )
    assert stats["updates"] > 0


def test_sched_export_command_matches(tmp_path: Path) -> None:
    """`sched export config.yaml --from llamafactory --dataset-size N --devices W -o out.csv`, end to end."""
    python = _python()
    rng = random.Random(SEED + 1)
    cases = [_case(rng) for _ in range(6)]
    for i, (case, answer) in enumerate(zip(cases, _ask(python, cases), strict=True)):
        if "error" in answer:
            continue
        out = tmp_path / f"out{i}.csv"
        cmd = [sys.executable, "-m", "sched_cli", "export", str(_file(tmp_path, i, case)), "--from", "llamafactory"]
        cmd += ["--dataset-size", str(case["dataset_size"]), "--devices", str(case["devices"]), "-o", str(out)]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        with out.open(newline="") as f:
            lrs = np.array([float(r["lr"]) for r in csv.DictReader(f)])
        assert np.allclose(lrs, answer["lrs"], rtol=TOL, atol=0), json.dumps(case)
