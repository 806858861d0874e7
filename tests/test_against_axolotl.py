"""sched's axolotl reader against the real axolotl: hundreds of random configs, every update's LR.

Runs only when ``SCHED_AXOLOTL_PYTHON`` names a Python with axolotl, transformers and torch
(``bash tools/envs/axolotl.sh``; docs/axolotl.md). ``tools/axolotl_oracle.py`` runs axolotl's own
config validation, batch normalisation, eval split, step count, warmup defaults and
``create_scheduler`` there; sched reads the same config as a YAML file, and both lists of LRs
must agree to a relative 1e-12 (bit for bit except where axolotl multiplies the LR twice:
jagged restarts, ``RexLR``'s warmup, ``OneCycleLR``'s absolute LRs).
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

ENV = "SCHED_AXOLOTL_PYTHON"
ORACLE = Path(__file__).resolve().parents[1] / "tools" / "axolotl_oracle.py"
SEED = int(os.environ.get("SCHED_PARITY_SEED", "20251204"))
N_CASES = int(os.environ.get("SCHED_AXOLOTL_CASES", "300"))
TOL = 1e-12
HF_TYPES = ("linear", "cosine", "cosine_with_restarts", "polynomial", "constant", "constant_with_warmup")
MORE_TYPES = ("inverse_sqrt", "cosine_with_min_lr", "warmup_stable_decay", "one_cycle", "rex")


def _python() -> str:
    return reference_python(
        ENV,
        "import axolotl.utils.schedulers, transformers, torch",
        "axolotl",
        f"set {ENV} to a Python with axolotl (bash tools/envs/axolotl.sh; docs/axolotl.md)",
        timeout=300,
    )


def _ask(python: str, cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return ask_oracle(python, ORACLE, {"cases": cases}, timeout=3600)


def _case(rng: random.Random) -> dict[str, Any]:
    cfg: dict[str, Any] = {
        "learning_rate": rng.choice([2e-5, 1e-4, 0.0002, 3e-4, 1.5e-3]),
        "micro_batch_size": rng.choice([1, 2, 4, 8]),
        "gradient_accumulation_steps": rng.choice([1, 2, 3, 4, 8]),
        "num_epochs": rng.choice([1, 2, 3, 4, 0.5, 1.5]),
        "lr_scheduler": rng.choice(HF_TYPES + MORE_TYPES),
    }
    kind = cfg["lr_scheduler"]
    if kind == "cosine_with_min_lr":
        cfg["lr_scheduler_kwargs"] = {"min_lr_rate": rng.choice([0.0, 0.1, 0.05])}
    elif kind == "warmup_stable_decay":
        cfg["lr_scheduler_kwargs"] = {"num_decay_steps": rng.randint(1, 40), "min_lr_ratio": rng.choice([0, 0.1])}
    elif kind == "cosine_with_restarts" and rng.random() < 0.5:
        cfg["lr_scheduler_kwargs"] = {"num_cycles": rng.choice([2, 3])}
    elif kind == "one_cycle" and rng.random() < 0.5:
        cfg["lr_scheduler_kwargs"] = {"div_factor": rng.choice([10.0, 25.0]), "three_phase": rng.random() < 0.3}
    if kind in ("cosine", "rex") and rng.random() < 0.5:
        cfg["cosine_min_lr_ratio"] = rng.choice([0.0, 0.1, 0.2])
        if kind == "cosine" and rng.random() < 0.5:
            cfg["cosine_constant_lr_ratio"] = rng.choice([0.5, 0.8])
    if kind == "cosine" and rng.random() < 0.25:
        cfg["lr_quadratic_warmup"] = True
    warmup = rng.random()
    if warmup < 0.35:
        cfg["warmup_steps"] = rng.choice([0, 1, 2, 5, 10, 30])
    elif warmup < 0.7:
        cfg["warmup_ratio"] = rng.choice([0.03, 0.05, 0.1, 0.25])
    if rng.random() < 0.4:
        cfg["val_set_size"] = rng.choice([0.05, 0.1, 0.02, 5, 20])
    if rng.random() < 0.2:
        cfg["max_steps"] = rng.randint(5, 120)
    if rng.random() < 0.2 and kind != "one_cycle":
        cfg["jagged_restart_steps"] = rng.randint(10, 60)
        if rng.random() < 0.5:
            cfg["jagged_restart_warmup_steps"] = rng.randint(1, 8)
        if rng.random() < 0.5:
            cfg["jagged_restart_anneal_steps"] = rng.randint(1, 5)
    devices = rng.choice([1, 1, 2, 4, 8])
    return {"cfg": cfg, "dataset_size": rng.randint(40, 3000), "devices": devices}


def _sched(path: Path, case: dict[str, Any]) -> dict[str, np.ndarray] | str:
    overrides = Overrides(dataset_size=case["dataset_size"], devices=case["devices"], source="axolotl")
    try:
        spec = load_file(path, overrides)
        return collect(simulate(spec.run, 1.0, mode="trainer"))
    except (SpecError, ValueError) as exc:
        return f"{type(exc).__name__}: {exc}"


def _file(tmp: Path, i: int, case: dict[str, Any]) -> Path:
    data = {"base_model": "oracle/none", "datasets": [{"path": "oracle.jsonl", "type": "alpaca"}], **case["cfg"]}
    path = tmp / f"axolotl{i}.yml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_random_configs_match_axolotl_update_for_update(tmp_path: Path) -> None:
    python = _python()
    rng = random.Random(SEED)
    cases = [_case(rng) for _ in range(N_CASES)]
    theirs = _ask(python, cases)
    stats: dict[str, Any] = {"updates": 0, "bit_equal": 0, "max_gap": 0.0, "both_fail": []}
    for i, (case, answer) in enumerate(zip(cases, theirs, strict=True)):
        compare_with_library("axolotl", case, _sched(_file(tmp_path, i, case), case), answer, stats, TOL)
    print(
        f"\naxolotl parity: {N_CASES} configs, {stats['updates']:,} updates, {stats['bit_equal']:,} LRs bit-equal, "
        f"largest relative gap {stats['max_gap']:.3g}; both refused {len(stats['both_fail'])} "
        f"({sorted(set(stats['both_fail']))})"
    )
    assert stats["updates"] > 0


def test_sched_export_command_matches(tmp_path: Path) -> None:
    """`sched export config.yml --from axolotl --dataset-size N --devices W -o out.csv`, end to end."""
    python = _python()
    rng = random.Random(SEED + 1)
    cases = [_case(rng) for _ in range(6)]
    for i, (case, answer) in enumerate(zip(cases, _ask(python, cases), strict=True)):
        if "error" in answer:
            continue
        out = tmp_path / f"out{i}.csv"
        cmd = [sys.executable, "-m", "sched_cli", "export", str(_file(tmp_path, i, case)), "--from", "axolotl"]
        cmd += ["--dataset-size", str(case["dataset_size"]), "--devices", str(case["devices"]), "-o", str(out)]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        with out.open(newline="") as f:
            lrs = np.array([float(r["lr"]) for r in csv.DictReader(f)])
        assert np.allclose(lrs, answer["lrs"], rtol=TOL, atol=0), json.dumps(case)
