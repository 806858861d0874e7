"""Differential test: Hugging Face TrainingArguments files replayed against the real transformers 5.x.

Runs only when ``SCHED_HF_PYTHON`` names a Python with transformers, accelerate and torch
(``bash tools/envs/hf.sh`` builds one; docs/hf.md). Random argument sets (fixed seed):
every step-driven ``lr_scheduler_type`` with random kwargs, warmup as steps and as a ratio, runs
in epochs (fractional) and in max_steps, accumulation 1-16, devices 1-64, drop_last both ways,
dataset sizes that do and do not divide. Each is written as a JSON or YAML file and read by
sched as a user's file is; ``tools/hf_oracle.py`` answers for the same file:

- world size 1: a real ``Trainer`` run on a tiny model, the LR of every update recorded in the
  optimizer after ``optimizer.step()`` and the samples the model saw before it;
- world size > 1: HF's own code for rank 0 (``accelerate``'s sharded loader,
  ``Trainer.set_initial_training_values``, ``get_scheduler`` stepped ``max_steps`` times) and
  every rank's micro-batches over one epoch.

sched must give the same number of updates, the same LR for each within 1e-12 (relative; most
are bit-equal, and the count is printed), the same samples before each update, and fail where HF
fails. A few cases go through the ``sched export`` command itself.
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

from sched_cli.schedulers.hf import HF_SCHEDULERS
from sched_cli.simulator import collect, simulate
from sched_cli.specs import Overrides, SpecError, load_file
from tests.conftest import ask_oracle, reference_python

ENV = "SCHED_HF_PYTHON"
ORACLE = Path(__file__).resolve().parents[1] / "tools" / "hf_oracle.py"
SEED = int(os.environ.get("SCHED_PARITY_SEED", "20251125"))
N_TRAINER = int(os.environ.get("SCHED_HF_TRAINER_CASES", "60"))
N_STEPS = int(os.environ.get("SCHED_HF_STEPS_CASES", "300"))
N_CLI = 6
TOL = 1e-12


def _hf_python() -> str:
    return reference_python(
        ENV,
        "import transformers, accelerate, torch",
        "transformers, accelerate and torch",
        f"set {ENV} to a Python with transformers (bash tools/envs/hf.sh; docs/hf.md)",
        timeout=120,
    )


def _ask(python: str, cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return ask_oracle(python, ORACLE, {"cases": cases}, timeout=1800)


# -- random argument sets --------------------------------------------------------------------------
def _kwargs(rng: random.Random, kind: str, lr: float) -> dict[str, Any]:
    """Random lr_scheduler_kwargs for a type, sometimes leaving the defaults."""
    kw: dict[str, Any] = {}
    if kind in ("cosine", "cosine_with_min_lr", "cosine_warmup_with_min_lr") and rng.random() < 0.4:
        kw["num_cycles"] = rng.choice([0.25, 0.5, 1.0, 1.5, 2])
    if kind == "cosine_with_restarts" and rng.random() < 0.7:
        kw["num_cycles"] = rng.choice([1, 2, 3, 5])
    if kind == "polynomial":
        if rng.random() < 0.6:
            kw["lr_end"] = lr * rng.choice([0.0, 0.01, 0.1, 0.5])
        if rng.random() < 0.6:
            kw["power"] = rng.choice([0.5, 1.0, 2.0, 3.0])
    if kind == "inverse_sqrt" and rng.random() < 0.5:
        kw["timescale"] = rng.choice([5, 50, 1000])
    if kind in ("cosine_with_min_lr", "cosine_warmup_with_min_lr"):
        if rng.random() < 0.5:
            kw["min_lr_rate"] = rng.choice([0.0, 0.05, 0.1, 0.3])
        else:
            kw["min_lr"] = lr * rng.choice([0.01, 0.1, 0.2])
    if kind == "cosine_warmup_with_min_lr" and rng.random() < 0.5:
        kw["warmup_lr_rate"] = rng.choice([0.0, 0.01, 0.1])
    if kind == "warmup_stable_decay":
        kw["num_decay_steps"] = rng.randint(0, 40)
        if rng.random() < 0.3:
            kw["num_stable_steps"] = rng.randint(0, 60)
        kw["warmup_type"] = rng.choice(["linear", "cosine", "1-sqrt"])
        kw["decay_type"] = rng.choice(["linear", "cosine", "1-sqrt"])
        if rng.random() < 0.5:
            kw["min_lr_ratio"] = rng.choice([0.0, 0.1, 0.25])
        if rng.random() < 0.3:
            kw["num_cycles"] = rng.choice([0.5, 1.0])
    return kw


def _case(rng: random.Random, mode: str, i: int) -> dict[str, Any]:
    kinds = sorted(HF_SCHEDULERS)
    kind = kinds[i % len(kinds)]
    lr = rng.choice([1e-3, 5e-5, 2e-5, 0.1, 3e-4])
    devices = 1 if mode == "trainer" else rng.choice([1, 2, 3, 4, 7, 8, 16, 32, 64])
    b = rng.randint(1, 8)
    g = rng.choice([1, 1, 2, 3, 4, 5, 8, 16])
    drop_last = rng.random() < 0.4
    unit = devices * b
    # Sizes that divide the global micro-batch (and the accumulation) and sizes that do not.
    if rng.random() < 0.3:
        size = unit * g * rng.randint(1, 6)
    else:
        size = rng.randint(1, 300 if mode == "trainer" else 2000)
    if drop_last and size < unit:
        size += unit  # an empty loader trains nothing; tested on its own
    args: dict[str, Any] = {
        "learning_rate": lr,
        "lr_scheduler_type": kind,
        "per_device_train_batch_size": b,
        "gradient_accumulation_steps": g,
        "dataloader_drop_last": drop_last,
    }
    if rng.random() < 0.35:
        args["max_steps"] = rng.randint(1, 120 if mode == "trainer" else 400)
        if rng.random() < 0.5:
            args["num_train_epochs"] = rng.choice([1, 2.5])  # ignored: max_steps wins
    else:
        args["num_train_epochs"] = rng.choice([1, 2, 3, 0.5, 1.7, 2.25, 0.05])
    r = rng.random()
    if r < 0.35:
        args["warmup_steps"] = rng.choice([0.05, 0.1, 0.3, 0.99, 0.5])
    elif r < 0.75:
        args["warmup_steps"] = rng.randint(1, 60)
    elif r < 0.85:
        args["warmup_steps"] = rng.choice([2.7, 10.0])  # HF takes int() of a float >= 1
    kw = _kwargs(rng, kind, lr)
    if kw:
        args["lr_scheduler_kwargs"] = json.dumps(kw) if rng.random() < 0.25 else kw
    if mode == "trainer":
        # Keep real runs short: at most ~400 micro-batches.
        micro = -(-size // b)
        if "max_steps" not in args and micro * float(args["num_train_epochs"]) > 400:
            args["num_train_epochs"] = rng.choice([1, 0.5])
            if micro * float(args["num_train_epochs"]) > 400:
                args["max_steps"] = rng.randint(1, 60)
    return {"mode": mode, "devices": devices, "dataset_size": size, "args": args}


def _cases(n: int, mode: str, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [_case(rng, mode, i) for i in range(n)]


# -- sched's side -------------------------------------------------------------------------------
def _write(tmp: Path, i: int, args: dict[str, Any]) -> Path:
    if i % 3 == 0:
        path = tmp / f"args{i}.yaml"
        path.write_text(yaml.safe_dump(args), encoding="utf-8")
    else:
        path = tmp / f"args{i}.json"
        path.write_text(json.dumps(args), encoding="utf-8")
    return path


def _sched(path: Path, case: dict[str, Any]) -> dict[str, np.ndarray] | str:
    overrides = Overrides(dataset_size=case["dataset_size"], devices=case["devices"], source="hf")
    try:
        spec = load_file(path, overrides)
        return collect(simulate(spec.run, 1.0, mode="trainer"))
    except (SpecError, ValueError) as exc:
        return f"{type(exc).__name__}: {exc}"


def _sched_cli(path: Path, case: dict[str, Any], out: Path) -> dict[str, np.ndarray]:
    cmd = [sys.executable, "-m", "sched_cli", "export", str(path), "--from", "hf"]
    cmd += ["--dataset-size", str(case["dataset_size"]), "--devices", str(case["devices"]), "-o", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    with out.open(newline="") as f:
        rows = list(csv.DictReader(f))
    return {key: np.array([float(r[key]) for r in rows]) for key in ("batch", "sample", "lr")}


def _compare(case: dict[str, Any], ours: dict[str, np.ndarray] | str, theirs: dict[str, Any], stats: dict) -> None:
    where = json.dumps(case)
    if "error" in theirs:
        assert isinstance(ours, str), f"HF fails ({theirs['error']}) but sched does not: {where}"
        stats["both_fail"].append((theirs["error"].split(":")[0], ours.split(":")[0]))
        return
    assert not isinstance(ours, str), f"sched fails ({ours}) but HF trains {theirs['max_steps']} updates: {where}"
    lrs = np.asarray(theirs["lrs"], dtype=np.float64)
    assert len(ours["lr"]) == len(lrs) == theirs["max_steps"], (
        f"{len(ours['lr'])} updates in sched, {len(lrs)} in HF (max_steps {theirs['max_steps']}): {where}"
    )
    ours_lr = np.asarray(ours["lr"], dtype=np.float64)
    gap = np.abs(ours_lr - lrs) / np.maximum(np.abs(lrs), 1e-300)
    gap[(ours_lr == lrs)] = 0.0
    worst = int(np.argmax(gap)) if len(gap) else 0
    assert not len(gap) or gap[worst] <= TOL, f"update {worst}: sched lr {ours_lr[worst]!r}, HF {lrs[worst]!r}: {where}"
    stats["updates"] += len(lrs)
    stats["bit_equal"] += int(np.sum(ours_lr == lrs))
    stats["max_gap"] = max(stats["max_gap"], float(gap.max()) if len(gap) else 0.0)
    # In steps mode HF's samples cover the first epoch, which a short run may not finish.
    k = min(len(theirs["samples"]), len(ours["sample"]))
    samples = np.asarray(theirs["samples"][:k], dtype=np.int64)
    assert np.array_equal(np.asarray(ours["sample"][:k], dtype=np.int64), samples), (
        f"samples before each update differ: sched {ours['sample'][:12]}, HF {samples[:12]}: {where}"
    )
    if theirs.get("updates_per_epoch") is not None and len(ours["batch"]):
        epochs = np.asarray(ours["batch"], dtype=np.int64) // theirs["updates_per_epoch"]
        assert np.array_equal(np.asarray(ours["epoch"], dtype=np.int64), epochs), where


def _run(mode: str, n: int, seed: int, tmp_path: Path) -> dict:
    python = _hf_python()
    cases = _cases(n, mode, seed)
    theirs = _ask(python, cases)
    stats: dict[str, Any] = {"updates": 0, "bit_equal": 0, "max_gap": 0.0, "both_fail": []}
    for i, (case, answer) in enumerate(zip(cases, theirs, strict=True)):
        path = _write(tmp_path, i, case["args"])
        _compare(case, _sched(path, case), answer, stats)
    return stats


def _report(mode: str, n: int, stats: dict) -> None:
    print(
        f"\nhf parity ({mode}): {n} argument sets, {stats['updates']:,} updates, {stats['bit_equal']:,} LRs "
        f"bit-equal, largest relative gap {stats['max_gap']:.3g}; both failed in {len(stats['both_fail'])} "
        f"({sorted(set(stats['both_fail']))})"
    )


def test_real_trainer_world_size_1(tmp_path: Path) -> None:
    stats = _run("trainer", N_TRAINER, SEED, tmp_path)
    _report("Trainer, 1 device", N_TRAINER, stats)
    assert stats["updates"] > 0


def test_hf_step_counts_and_schedulers_many_devices(tmp_path: Path) -> None:
    stats = _run("steps", N_STEPS, SEED + 1, tmp_path)
    _report("HF step counts + get_scheduler, 1-64 devices", N_STEPS, stats)
    assert stats["updates"] > 0


def test_sched_export_command_matches(tmp_path: Path) -> None:
    """`sched export args.json --from hf --dataset-size N --devices W -o out.csv`, end to end."""
    python = _hf_python()
    cases = _cases(N_CLI, "steps", SEED + 2)
    for case in cases:
        case["args"]["lr_scheduler_type"] = "cosine_with_min_lr"
        case["args"]["lr_scheduler_kwargs"] = {"min_lr_rate": 0.1}
    theirs = _ask(python, cases)
    stats: dict[str, Any] = {"updates": 0, "bit_equal": 0, "max_gap": 0.0, "both_fail": []}
    for i, (case, answer) in enumerate(zip(cases, theirs, strict=True)):
        path = _write(tmp_path, i, case["args"])
        ours = _sched_cli(path, case, tmp_path / f"out{i}.csv")
        ours["epoch"] = ours["batch"] // (answer["updates_per_epoch"] or 1)
        _compare(case, ours, answer, stats)
    assert stats["updates"] > 0


def test_every_training_arguments_field_is_accounted_for() -> None:
    """Each field of the real ``TrainingArguments`` is read, known irrelevant or known unmodelled:
    a release that adds a field fails here until the reader says what the field does."""
    from sched_cli.readers import hf_fields

    python = _hf_python()
    probe = (
        "import dataclasses, json, transformers; "
        "print(json.dumps([f.name for f in dataclasses.fields(transformers.TrainingArguments)]))"
    )
    out = subprocess.run([python, "-c", probe], capture_output=True, text=True, timeout=300, check=True).stdout
    fields = set(json.loads(out.splitlines()[-1]))
    known = set(hf_fields.READ) | set(hf_fields.IRRELEVANT) | set(hf_fields.UNMODELLED)
    assert len(fields) > 100
    assert sorted(fields - known) == []
