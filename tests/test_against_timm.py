"""Differential test: timm args.yaml files read by sched against the real timm 1.0.x schedulers.

Runs only when ``SCHED_TIMM_PYTHON`` names a Python with torch and timm (``tools/envs/timm.sh``
builds one; see docs/timm.md). A few hundred random ``args.yaml`` configurations (fixed
seed) covering every time-based scheduler (cosine, tanh, poly, step, multistep, constant, wsd,
rsqrt, none), cycles, k-decay, warmup with and without prefix, cooldown, noise, per-epoch and
per-update stepping, gradient accumulation, several devices and LR scaling from ``lr_base`` go
to ``tools/timm_oracle.py`` in one subprocess, which drives timm's own ``create_scheduler_v2``
the way ``train.py`` does and records the optimizer's LR at every update. For each:

- where timm fails (a cycle schedule whose ``math.log`` leaves its domain, an impossible wsd
  decay), sched must refuse the file too;
- otherwise ``sched``'s rows (one per update) must be exactly as many, with the same epoch of
  each update, and the same learning rate, bit for bit (for a run resumed at ``start_epoch``,
  sched's rows of the full run from that epoch on).
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from sched_cli import specs
from sched_cli.simulator import collect, simulate
from tests.conftest import ask_oracle, reference_python

ENV = "SCHED_TIMM_PYTHON"
ORACLE = Path(__file__).resolve().parents[1] / "tools" / "timm_oracle.py"
SEED = int(os.environ.get("SCHED_PARITY_SEED", "20251125"))
N_CASES = int(os.environ.get("SCHED_TIMM_CASES", "400"))
SCHEDS = ("cosine", "tanh", "poly", "step", "multistep", "constant", "wsd", "rsqrt", "none")


def _timm_python() -> str:
    return reference_python(
        ENV,
        "import importlib.util, sys; sys.exit(importlib.util.find_spec('timm') is None)",
        "timm",
        f"set {ENV} to a Python with torch and timm (bash tools/envs/timm.sh builds /work/envs/timm)",
        timeout=60,
    )


def _ask(python: str, runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return ask_oracle(python, ORACLE, {"runs": runs}, answer="runs", timeout=1200)


def random_case(rng: random.Random, sched: str) -> dict[str, Any]:
    """A random args.yaml and loader, small enough to step through every update."""
    on_updates = rng.random() < 0.5
    epochs = rng.randint(1, 12) if on_updates else rng.randint(1, 40)
    args: dict[str, Any] = {
        "sched": sched,
        "sched_on_updates": on_updates,
        "epochs": epochs,
        "warmup_epochs": rng.choice([0, 0, 1, 2, 3, 5]),
        "warmup_prefix": rng.random() < 0.5,
        "warmup_lr": rng.choice([1e-5, 1e-6, 0.0, 1e-4, 0.02]),
        "min_lr": rng.choice([0, 0, 1e-6, 1e-5, 3e-4]),
        "cooldown_epochs": rng.choice([0, 0, 1, 3]),
        "seed": rng.choice([42, 0, 1, rng.randint(0, 10_000)]),
        "opt": rng.choice(["sgd", "adamw", "lamb", "momentum", "adam"]),
        "batch_size": rng.choice([8, 16, 32, 64]),
        "grad_accum_steps": rng.choice([1, 1, 1, 2, 3]),
        "lr_k_decay": rng.choice([1.0, 1.0, 0.5, 2.0, 1.5]),
        "decay_rate": rng.choice([0.1, 0.5, 0.97, 0.9, 2.0]),
    }
    if rng.random() < 0.3:
        args["lr"] = None
        args["lr_base"] = rng.choice([0.1, 5e-4, 1e-3])
        args["lr_base_size"] = rng.choice([256, 512, 1024])
        args["lr_base_scale"] = rng.choice(["", "", "linear", "sqrt"])
    else:
        args["lr"] = rng.choice([0.1, 0.5, 3e-4, 1e-3, 0.008, rng.uniform(1e-4, 1.0)])
    if rng.random() < 0.5:  # cycles
        args["lr_cycle_mul"] = rng.choice([1.0, 1.0, 2.0, 1.5, 0.5])
        args["lr_cycle_decay"] = rng.choice([0.5, 1.0, 0.1, 0.8])
        args["lr_cycle_limit"] = rng.choice([1, 2, 3, 5])
    if rng.random() < 0.3:  # noise
        args["lr_noise"] = rng.choice([[0.3], [0.2, 0.8], 0.5, [0.0, 1.0], [0.5, 0.6, 0.9]])
        args["lr_noise_pct"] = rng.choice([0.67, 0.1, 0.3])
        args["lr_noise_std"] = rng.choice([1.0, 0.5, 2.0])
    if sched == "step":
        args["decay_epochs"] = rng.choice([1, 2, 2.4, 3, 0.5, 7])
    elif sched == "multistep":
        k = rng.randint(0, 4)
        args["decay_milestones"] = sorted(rng.sample(range(0, epochs + 3), min(k, epochs + 3)))
    elif sched in ("wsd", "rsqrt"):
        args["decay_epochs"] = rng.choice([None, 0.2, 0.5, 1, 2, 0.05])
        if rng.random() < 0.5:
            args["lr_decay_fn"] = rng.choice(["linear", "1-sqrt", "cosine", "power", "exp"])
        if sched == "rsqrt" and rng.random() < 0.5:
            args["lr_stable_timescale"] = rng.choice([1, 2, 0.5])
    if rng.random() < 0.15:  # resumed: timm steps the scheduler to start_epoch first
        args["start_epoch"] = rng.randint(1, epochs)
    world_size = rng.choice([1, 1, 2, 3, 8])
    per_device_batches = rng.randint(1, 12 if on_updates else 6)
    dataset_size = world_size * args["batch_size"] * per_device_batches + rng.randint(-3, args["batch_size"])
    return {"args": args, "world_size": world_size, "dataset_size": max(1, dataset_size)}


def cases() -> list[dict[str, Any]]:
    rng = random.Random(SEED)
    return [random_case(rng, SCHEDS[i % len(SCHEDS)]) for i in range(N_CASES)]


def ours(case: dict[str, Any], tmp_path: Path, i: int) -> dict[str, Any]:
    path = tmp_path / f"args{i}.yaml"
    path.write_text(yaml.safe_dump(case["args"]))
    overrides = specs.Overrides(source="timm", dataset_size=case["dataset_size"], devices=case["world_size"])
    try:
        spec = specs.load_file(path, overrides)
        rows = collect(simulate(spec.run, 1.0))
    except specs.SpecError as exc:
        return {"error": str(exc)}
    except Exception as exc:  # noqa: BLE001 - reported with the case
        return {"error": f"{type(exc).__name__}: {exc}"}
    return {"rows": rows, "run": spec.run}


def test_timm_update_by_update(tmp_path: Path) -> None:
    python = _timm_python()
    runs = cases()
    answers = _ask(python, runs)
    failures, both_failed, compared, updates = [], 0, 0, 0
    for i, (case, theirs) in enumerate(zip(runs, answers, strict=True)):
        mine = ours(case, tmp_path, i)
        label = f"case {i}: {json.dumps(case)}"
        if "error" in theirs or "error" in mine:
            # timm "trains" a loader shorter than one batch with no update at all; sched refuses it.
            empty = "error" not in theirs and not theirs["lrs"] and "every epoch would be empty" in mine["error"]
            if ("error" in theirs and "error" in mine) or empty:
                both_failed += 1
            else:
                failures.append(f"{label}\n  timm: {theirs.get('error', 'ok')}\n  sched: {mine.get('error', 'ok')}")
            continue
        run, upe = mine["run"], theirs["updates_per_epoch"]
        # A resumed run trains from start_epoch with the LRs of the full run from there on.
        start = (case["args"].get("start_epoch") or 0) * upe
        rows = {key: column[start:] for key, column in mine["rows"].items()}
        expected = np.asarray(theirs["lrs"], dtype=np.float64)
        if run.dataloader_len != upe or len(rows["batch"]) != len(expected):
            failures.append(
                f"{label}\n  timm: {theirs['num_epochs']} epochs x {upe} updates = {len(expected)}; "
                f"sched: {run.max_duration} x {run.dataloader_len} = {len(rows['batch'])}"
            )
            continue
        if not np.array_equal(rows["epoch"], (start + np.arange(len(expected))) // upe):
            failures.append(f"{label}\n  epoch counters differ")
        if not np.array_equal(rows["lr"], expected):
            k = int(np.flatnonzero(rows["lr"] != expected)[0])
            failures.append(f"{label}\n  update {k}: timm {expected[k]!r}, sched {rows['lr'][k]!r}")
        compared += 1
        updates += len(expected)
    print(f"timm parity: {compared} runs ({updates:,} updates) identical, {both_failed} refused by both")
    assert not failures, f"{len(failures)} of {len(runs)} differ:\n" + "\n".join(failures[:10])
    assert compared > len(runs) * 0.7  # most random cases must be real runs, not errors


def test_timm_through_sched_export(tmp_path: Path) -> None:
    """A few random files through the real command line: ``sched export`` gives timm's LRs."""
    python = _timm_python()
    chosen = ("cosine", "multistep", "wsd", "tanh")
    runs = [c for c in cases()[:60] if c["args"]["sched"] in chosen and not c["args"].get("start_epoch")][:8]
    answers = _ask(python, runs)
    checked = 0
    for i, (case, theirs) in enumerate(zip(runs, answers, strict=True)):
        if "error" in theirs:
            continue
        path = tmp_path / f"args{i}.yaml"
        path.write_text(yaml.safe_dump(case["args"]))
        out = tmp_path / f"rows{i}.json"
        command = [sys.executable, "-m", "sched_cli", "export", str(path), "-o", str(out)]
        command += ["--dataset-size", str(case["dataset_size"]), "--devices", str(case["world_size"])]
        proc = subprocess.run(command, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        rows = json.loads(out.read_text())["rows"]
        assert [row["lr"] for row in rows] == theirs["lrs"], f"case {i}: {case}"
        assert [row["epoch"] for row in rows] == [k // theirs["updates_per_epoch"] for k in range(len(rows))]
        checked += 1
    assert checked >= 5
