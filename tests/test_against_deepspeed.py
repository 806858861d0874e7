"""Differential test: DeepSpeed configs replayed against the real ``deepspeed`` 0.19 (and HF's DeepSpeed integration).

Runs only when ``SCHED_DEEPSPEED_PYTHON`` names a Python with deepspeed, transformers and torch
(``bash tools/envs/deepspeed.sh`` builds one; docs/deepspeed.md). Random configs (fixed seed) of
every scheduler type of ``deepspeed.runtime.lr_schedules`` with every parameter (log, linear and
unknown warmup types, warmup_num_steps 1 and beyond total_num_steps, OneCycle with and without
stairs, second phase and decay, LRRangeTest both ways) and of torch.optim.lr_scheduler classes
built by the engine, some with skipped scheduler steps; each is written as a ``ds_config.json``
and read by sched as a user's file is. ``tools/deepspeed_oracle.py`` builds the scheduler as
``DeepSpeedEngine._scheduler_from_config`` does on a real torch optimizer and records the LR of
every update, stepping as ``_take_model_step`` does.

Hugging Face: random ``TrainingArguments`` files whose ``deepspeed`` key holds a config with
``"auto"`` values, explicit ones and mismatched ones; the oracle fills and checks it with
``HfTrainerDeepSpeedConfig.trainer_config_process`` / ``trainer_config_finalize`` given the
Trainer's step count, and replays the filled scheduler.

sched must give the same LR for every update within 1e-12 (relative; the count of bit-equal values
is printed), and refuse exactly where DeepSpeed or HF raise.
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sched_cli.simulator import collect, simulate
from sched_cli.specs import Overrides, SpecError, load_file
from tests.conftest import ask_oracle, reference_python

ENV = "SCHED_DEEPSPEED_PYTHON"
ORACLE = Path(__file__).resolve().parents[1] / "tools" / "deepspeed_oracle.py"
SEED = int(os.environ.get("SCHED_PARITY_SEED", "20261204"))
N_DS = int(os.environ.get("SCHED_DEEPSPEED_CASES", "400"))
N_HF = int(os.environ.get("SCHED_DEEPSPEED_HF_CASES", "250"))
TOL = 1e-12


def _python() -> str:
    return reference_python(
        ENV,
        "import deepspeed.runtime.lr_schedules, transformers, torch",
        "deepspeed, transformers and torch",
        f"set {ENV} to a Python with deepspeed (bash tools/envs/deepspeed.sh; docs/deepspeed.md)",
        timeout=300,
    )


def _ask(python: str, cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return ask_oracle(python, ORACLE, {"cases": cases}, timeout=1800)


# -- random configs ---------------------------------------------------------------------------------
def _lr(rng: random.Random) -> float:
    return rng.choice([1e-3, 2e-5, 3e-4, 0.1, round(rng.uniform(1e-6, 1e-2), 8), rng.uniform(1e-5, 1.0)])


def _warmup(rng: random.Random, params: dict[str, Any]) -> None:
    if rng.random() < 0.8:
        params["warmup_num_steps"] = rng.choice([1, 2, 3, 10, rng.randint(1, 400)])
    if rng.random() < 0.7:
        params["warmup_type"] = rng.choice(["log", "linear", "linear", "exp"])


def _ds_case(rng: random.Random) -> tuple[dict[str, Any], float | None, int]:
    kind = rng.choice(["WarmupLR", "WarmupDecayLR", "WarmupCosineLR", "OneCycle", "LRRangeTest", "torch"])
    lr = _lr(rng) if rng.random() < 0.8 else None
    params: dict[str, Any] = {}
    updates = rng.randint(1, 900)
    if kind in ("WarmupLR", "WarmupDecayLR"):
        if rng.random() < 0.6:
            params["warmup_min_lr"] = rng.choice([0, 0.0, rng.uniform(0, 1e-4)])
        if rng.random() < 0.8 or (lr is None and kind == "WarmupLR"):
            params["warmup_max_lr"] = _lr(rng)
        _warmup(rng, params)
        if kind == "WarmupDecayLR":
            params["total_num_steps"] = rng.choice([rng.randint(1, 900), rng.randint(200, 1200)])
    elif kind == "WarmupCosineLR":
        lr = lr or _lr(rng)
        params["total_num_steps"] = rng.randint(1, 1000)
        if rng.random() < 0.6:
            params["warmup_min_ratio"] = rng.choice([0.0, 0.01, rng.uniform(0, 1)])
        if rng.random() < 0.6:
            params["cos_min_ratio"] = rng.choice([0.0, 0.1, rng.uniform(0, 0.5)])
        _warmup(rng, params)
    elif kind == "OneCycle":
        low = rng.uniform(1e-6, 1e-3)
        params = {"cycle_min_lr": low, "cycle_max_lr": low * rng.uniform(1, 100)}
        params["cycle_first_step_size"] = rng.choice([1, 2, rng.randint(1, 300), round(rng.uniform(0.5, 50), 2)])
        if rng.random() < 0.5:
            params["cycle_second_step_size"] = rng.choice([0, rng.randint(1, 300)])
        if rng.random() < 0.4:
            params["cycle_first_stair_count"] = rng.randint(0, 8)
        if rng.random() < 0.3:
            params["cycle_second_stair_count"] = rng.randint(0, 8)
        if rng.random() < 0.5:
            params["decay_step_size"] = rng.choice([0, rng.randint(1, 100)])
        if rng.random() < 0.5:
            params["decay_lr_rate"] = rng.choice([0.0, rng.uniform(0, 2)])
        if rng.random() < 0.3:
            params["cycle_momentum"] = rng.choice([True, False])
        updates = rng.randint(1, 1500)
    elif kind == "LRRangeTest":
        params["lr_range_test_min_lr"] = rng.uniform(1e-6, 1e-2)
        params["lr_range_test_step_size"] = rng.choice([1, rng.randint(1, 500), round(rng.uniform(0.5, 50), 2)])
        params["lr_range_test_step_rate"] = rng.choice([1.0, rng.uniform(0.1, 10)])
        params["lr_range_test_staircase"] = rng.choice([True, False])
    else:
        lr = lr or _lr(rng)
        kind, params = rng.choice(
            [
                ("StepLR", {"step_size": rng.randint(1, 200), "gamma": rng.uniform(0.1, 0.9)}),
                ("ExponentialLR", {"gamma": rng.uniform(0.99, 0.9999)}),
                ("CosineAnnealingLR", {"T_max": rng.randint(1, 500), "eta_min": rng.uniform(0, 1e-5)}),
                ("LinearLR", {"start_factor": rng.uniform(0.01, 1), "total_iters": rng.randint(1, 300)}),
                ("MultiStepLR", {"milestones": sorted(rng.sample(range(1, 800), 3)), "gamma": 0.5}),
            ]
        )
    if rng.random() < 0.06:  # something DeepSpeed raises on: sched must refuse it too
        kind, params = rng.choice(
            [
                ("WarmupLR", {"warmup_max_lr": 1e-3, "warmup_num_steps": rng.choice([0, -5, 2.5])}),
                ("WarmupCosineLR", {"total_num_steps": 100, "warmup_num_steps": 0}),
                ("WarmupDecayLR", {"warmup_max_lr": 1e-3}),  # total_num_steps is required
                ("WarmupLR", {"warmup_max_lr": 1e-3, "warmup_steps": 100}),  # not an argument
                ("OneCycle", {"cycle_max_lr": 1e-3}),  # cycle_min_lr is required
                ("CosineAnnealing", {"T_max": 10}),  # no such class
            ]
        )
        lr = lr or _lr(rng)
    config: dict[str, Any] = {
        "train_batch_size": rng.choice([8, 32, 512]),
        "scheduler": {"type": kind, "params": params},
    }
    if lr is not None:
        config["optimizer"] = {"type": "AdamW", "params": {"lr": lr, "weight_decay": 0.0}}
    return config, lr, updates


def _sched_lrs(path: Path, overrides: Overrides) -> np.ndarray:
    spec = load_file(path, overrides)
    return collect(simulate(spec.run, mode="trainer"))["lr"]


def _compare(label: str, ours: np.ndarray, theirs: list[float], stats: dict[str, int]) -> None:
    theirs_a = np.asarray(theirs, dtype=np.float64)
    assert len(ours) == len(theirs_a), f"{label}: {len(ours)} updates vs DeepSpeed's {len(theirs_a)}"
    close = np.isclose(ours, theirs_a, rtol=TOL, atol=0.0) | (ours == theirs_a)
    if not close.all():
        i = int(np.argmin(close))
        pytest.fail(f"{label}: update {i}: sched {ours[i]!r} vs DeepSpeed {theirs_a[i]!r}")
    stats["values"] += len(ours)
    stats["bit_equal"] += int(np.sum(ours == theirs_a))


def test_deepspeed_configs_match_the_real_schedulers(tmp_path: Path) -> None:
    python = _python()
    rng = random.Random(SEED)
    cases, mine = [], []
    for n in range(N_DS):
        config, lr, updates = _ds_case(rng)
        skipped = sorted(rng.sample(range(updates), min(updates, rng.randint(1, 20)))) if rng.random() < 0.25 else []
        path = tmp_path / f"ds_{n}.json"
        path.write_text(json.dumps(config))
        cases.append({"config": config, "lr": lr, "updates": updates, "skipped": skipped})
        mine.append((path, updates, skipped))
    answers = _ask(python, cases)
    stats = {"values": 0, "bit_equal": 0, "refused": 0}
    for (path, updates, skipped), case, answer in zip(mine, cases, answers, strict=True):
        overrides = Overrides(
            source="deepspeed", max_duration=f"{updates}ba", skipped_steps="".join(f"{k}," for k in skipped) or None
        )
        label = f"{path.name} {json.dumps(case['config']['scheduler'])} skipped={skipped}"
        if "error" in answer:
            with pytest.raises(SpecError):
                _sched_lrs(path, overrides)
            stats["refused"] += 1
            continue
        _compare(label, _sched_lrs(path, overrides), answer["lrs"], stats)
    print(
        f"\nDeepSpeed: {N_DS} configs, {stats['values']} LRs, {stats['bit_equal']} bit-equal, "
        f"{stats['refused']} refused"
    )
    assert stats["values"] > 0 and stats["refused"] > 0


# -- under Hugging Face ------------------------------------------------------------------------------
def _hf_case(rng: random.Random) -> tuple[dict[str, Any], dict[str, Any], int, int]:
    learning_rate = _lr(rng)
    b, g, world = rng.choice([1, 4, 8]), rng.choice([1, 2, 8]), rng.choice([1, 2, 8])
    max_steps = rng.randint(1, 600)
    hf: dict[str, Any] = {
        "learning_rate": learning_rate,
        "per_device_train_batch_size": b,
        "gradient_accumulation_steps": g,
        "lr_scheduler_type": rng.choice(["cosine", "linear", "constant_with_warmup"]),
    }
    if rng.random() < 0.7:
        hf["warmup_steps"] = rng.choice([0, rng.randint(1, 200), round(rng.uniform(0.01, 0.5), 3)])
    if rng.random() < 0.3:
        hf["weight_decay"] = 0.01
    if rng.random() < 0.3:
        hf["fp16"] = True

    def maybe(auto_chance: float, value: Any, wrong: Any) -> Any:
        r = rng.random()
        return "auto" if r < auto_chance else (wrong if r > 0.93 else value)

    kind = rng.choice(["WarmupLR", "WarmupDecayLR", "WarmupCosineLR", None])
    config: dict[str, Any] = {
        "train_micro_batch_size_per_gpu": maybe(0.8, b, b + 1),
        "gradient_accumulation_steps": maybe(0.8, g, g * 2),
        "train_batch_size": maybe(0.8, b * g * world, b * g * world * 2),
        "zero_optimization": {"stage": rng.choice([0, 1, 2, 3])},
        "fp16": {"enabled": maybe(0.7, bool(hf.get("fp16")), not hf.get("fp16")), "loss_scale": 0},
        "bf16": {"enabled": maybe(0.7, False, True)},
        "gradient_clipping": maybe(0.5, 1.0, 0.5),
    }
    if rng.random() < 0.6:
        config["optimizer"] = {
            "type": "AdamW",
            "params": {
                "lr": maybe(0.8, learning_rate, learning_rate * 2),
                "weight_decay": "auto",
                "betas": maybe(0.6, [0.9, 0.999], [0.9, 0.95]),
                "eps": maybe(0.6, 1e-8, 1e-6),
            },
        }
    total = max_steps
    warmup = hf.get("warmup_steps", 0)
    warmup_steps = max(1, int(warmup) if warmup >= 1 else int(np.ceil(total * warmup)))
    if kind is not None:
        params: dict[str, Any] = {"warmup_num_steps": maybe(0.8, warmup_steps, warmup_steps + 1)}
        if kind != "WarmupCosineLR":
            params["warmup_min_lr"] = maybe(0.7, 0, 0)
            params["warmup_max_lr"] = maybe(0.8, learning_rate, learning_rate / 2)
        if kind != "WarmupLR":
            params["total_num_steps"] = maybe(0.8, total, total + 5)
        if rng.random() < 0.4:
            params["warmup_type"] = rng.choice(["log", "linear"])
        config["scheduler"] = {"type": kind, "params": params}
    return hf, config, max_steps, world


def test_hf_deepspeed_integration_matches_hf_and_deepspeed(tmp_path: Path) -> None:
    python = _python()
    rng = random.Random(SEED + 1)
    cases, mine = [], []
    for n in range(N_HF):
        hf, config, max_steps, world = _hf_case(rng)
        path = tmp_path / f"args_{n}.json"
        path.write_text(json.dumps({**hf, "max_steps": max_steps, "deepspeed": config}))
        cases.append({"hf": hf, "config": config, "max_steps": max_steps, "world_size": world, "updates": max_steps})
        mine.append((path, world))
    answers = _ask(python, cases)
    stats = {"values": 0, "bit_equal": 0, "refused": 0}
    for (path, world), case, answer in zip(mine, cases, answers, strict=True):
        overrides = Overrides(source="hf", devices=world)
        label = f"{path.name} {json.dumps(case['config'].get('scheduler'))}"
        if "error" in answer:
            with pytest.raises(SpecError, match="disagrees") as info:
                _sched_lrs(path, overrides)
            # HF lists each mismatch as "- ds KEY=VALUE vs hf ...": sched names the same ones.
            for line in answer["error"].splitlines():
                if line.startswith("- ds "):
                    assert line[2:].split(" vs ")[0] in str(info.value), (label, answer["error"])
            stats["refused"] += 1
            continue
        if "scheduler" not in case["config"]:
            _sched_lrs(path, overrides)  # HF's own schedule: tests/test_against_hf.py checks it
            continue
        _compare(label, _sched_lrs(path, overrides), answer["lrs"], stats)
    print(
        f"\nHF + DeepSpeed: {N_HF} files, {stats['values']} LRs, {stats['bit_equal']} bit-equal, "
        f"{stats['refused']} refused"
    )
    assert stats["values"] > 0 and stats["refused"] > 0
