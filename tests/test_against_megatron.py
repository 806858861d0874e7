"""Differential test: Megatron-LM launches replayed against the real megatron-core 0.16.1.

Runs only when ``SCHED_MEGATRON_PYTHON`` names a Python with megatron-core and torch
(``bash tools/envs/megatron.sh`` builds one; docs/megatron.md). Random argument sets (fixed seed)
over every schedule flag: iteration- and sample-based runs, the global batch size given or derived
from micro batch x data-parallel size (world size from ``--devices``, torchrun's flags in the
script, or unknown), tensor/pipeline/context parallel sizes, the batch-size ramp with and without
``--decrease-batch-size-if-needed``, warmup as iterations, samples or a fraction, ``--lr-warmup-init``,
decay lengths given or defaulted, every decay style and WSD anneal style, ``--iterations-to-skip``,
``--skipped-steps`` (a count or indices) and ``--exit-interval``. Each is written as a launch
script, a flag file or a functional-test ``model_config.yaml`` and read by sched as a user's file is;
``tools/megatron_oracle.py`` drives megatron-core's ``OptimizerParamScheduler`` and num-microbatches
calculator with the same arguments, as ``training.py`` drives them.

sched must give the same iterations, the same LR for each (bit-equal), the same consumed samples
before each, and fail where Megatron fails. Megatron-LM's own functional-test configs that set LR
flags (tests/data/megatron, see its NOTICE) are read and replayed the same way, and a few cases go
through the ``sched export`` command itself.
"""

from __future__ import annotations

import ast
import csv
import os
import random
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from sched_cli.simulator import collect, simulate
from sched_cli.specs import Overrides, SpecError, load_file
from tests.conftest import ask_oracle, reference_python

ENV = "SCHED_MEGATRON_PYTHON"
ROOT = Path(__file__).resolve().parents[1]
ORACLE = ROOT / "tools" / "megatron_oracle.py"
DATA = Path(__file__).resolve().parent / "data" / "megatron"
SEED = int(os.environ.get("SCHED_PARITY_SEED", "20251204"))
N_CASES = int(os.environ.get("SCHED_MEGATRON_CASES", "400"))
N_CLI = 5
#: Data-parallel sizes that make each functional-test config valid (world = dp x tp x pp x cp).
CONFIG_DP = {
    "gpt3_15b_8t_release": 8,
    "mixtral_8x7b_alltoall_tp2pp4ep4_release": 16,
    "deepseekv3_proxy_flex_tp1pp4emp16etp1cp1_release": 16,
    "bert_release": 1,
    "gpt3_mcore_tp1_pp2_fp16": 8,
    "bert_mcore_tp2_pp2": 8,
    "gpt3_mcore_reruns_resume": 8,
}


def _python() -> str:
    return reference_python(
        ENV,
        "import torch; from megatron.core.optimizer_param_scheduler import OptimizerParamScheduler",
        "megatron-core and torch",
        f"set {ENV} to a Python with megatron-core (bash tools/envs/megatron.sh; docs/megatron.md)",
        timeout=300,
    )


def _ask(python: str, cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return ask_oracle(python, ORACLE, {"cases": cases}, timeout=3600)


# -- random argument sets --------------------------------------------------------------------------
def _case(rng: random.Random) -> dict[str, Any]:
    """Megatron arguments (argparse names), the world size, and how sched is told about it."""
    args: dict[str, Any] = {}
    tp, pp, cp = rng.choice([1, 1, 2]), rng.choice([1, 1, 2, 4]), rng.choice([1, 1, 2])
    for name, value in (("tensor_model_parallel_size", tp), ("pipeline_model_parallel_size", pp)):
        if value > 1 or rng.random() < 0.3:
            args[name] = value
    if cp > 1:
        args["context_parallel_size"] = cp
    dp = rng.choice([1, 2, 3, 4, 8])
    mbs = rng.choice([1, 1, 2, 4])
    args["micro_batch_size"] = mbs
    world = dp * tp * pp * cp if rng.random() < 0.95 else dp * tp * pp * cp + 1
    know_world = rng.random() < 0.8
    by_samples = rng.random() < 0.5
    if rng.random() < 0.75 or not know_world:
        args["global_batch_size"] = mbs * dp * rng.randint(1, 12) + (rng.choice([0, 0, 0, 1]) if know_world else 0)
    gbs = args.get("global_batch_size", mbs * dp)
    if rng.random() < 0.15:
        args["decrease_batch_size_if_needed"] = True
    if by_samples:
        args["train_samples"] = gbs * rng.randint(20, 900) + rng.randint(0, gbs - 1)
        if rng.random() < 0.5:
            unit = mbs * dp if know_world and rng.random() < 0.8 else rng.randint(1, 5)
            start = unit * rng.randint(1, 3)
            steps = rng.randint(1, 6)
            if gbs > start:
                increment = max(1, (gbs - start) // steps)
                if (gbs - start) % increment == 0 or rng.random() < 0.1:
                    args["rampup_batch_size"] = [start, increment, rng.randint(1, args["train_samples"])]
    else:
        args["train_iters"] = rng.randint(10, 1500)
    args["lr"] = rng.choice([1e-4, 3e-4, 6e-4, 1.5e-4, 0.01, 1.0]) * rng.choice([1, 1, 0.37])
    if rng.random() < 0.7:
        args["min_lr"] = args["lr"] * rng.choice([0.0, 0.1, 0.01, 0.5, 1.0])
    if rng.random() < 0.25:
        args["lr_warmup_init"] = args["lr"] * rng.choice([0.0, 0.01, 0.5])
    style = rng.choice(["constant", "linear", "cosine", "inverse-square-root", "WSD", "WSD", "cosine"])
    if style != "linear" or rng.random() < 0.5:
        args["lr_decay_style"] = style
    total = args.get("train_iters") or args["train_samples"]
    per = 1 if by_samples else 1
    suffix = "samples" if by_samples else "iters"
    if rng.random() < 0.6:
        args[f"lr_decay_{suffix}"] = max(1, int(total * rng.uniform(0.3, 1.4)) * per)
    decay = args.get(f"lr_decay_{suffix}", total)
    warm = rng.random()
    if warm < 0.35:
        args[f"lr_warmup_{suffix}"] = rng.randint(0, max(0, int(decay * 0.5)))
    elif warm < 0.6:
        args["lr_warmup_fraction"] = rng.choice([0.01, 0.05, 0.1, 0.3, 0.33])
    if style == "WSD" or rng.random() < 0.1:
        if rng.random() < 0.95:
            args[f"lr_wsd_decay_{suffix}"] = rng.randint(0, int(decay * 0.6))
        args["lr_wsd_decay_style"] = rng.choice(["exponential", "linear", "cosine", "minus_sqrt"])
    iterations_guess = args.get("train_iters") or max(1, args["train_samples"] // gbs)
    if rng.random() < 0.15:
        args["iterations_to_skip"] = sorted(rng.sample(range(iterations_guess), min(3, iterations_guess)))
    if rng.random() < 0.1:
        args["exit_interval"] = rng.randint(1, iterations_guess + 5)
    skipped: Any = None
    if rng.random() < 0.2:
        skipped = rng.randint(0, 30) if rng.random() < 0.5 else sorted(rng.sample(range(iterations_guess), 4))
    return {"args": args, "world": world if know_world else None, "skipped": skipped, "seq": rng.choice([None, 8])}


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _words(args: dict[str, Any]) -> list[tuple[str, list[str]]]:
    out = []
    for name, value in args.items():
        if value is True:
            out.append((_flag(name), []))
        elif isinstance(value, list):
            out.append((_flag(name), [str(v) for v in value]))
        else:
            out.append((_flag(name), [repr(value) if isinstance(value, float) else str(value)]))
    return out


def _write(case: dict[str, Any], rng: random.Random, directory: Path, i: int) -> tuple[Path, int | None]:
    """The case as a launch script, a flag file or a model_config.yaml; and the --devices to give."""
    args = dict(case["args"])
    if case["seq"]:
        args["seq_length"] = case["seq"]
    form = rng.choice(["script", "flags", "yaml"])
    devices = case["world"]
    if form == "yaml":
        body = {}
        for flag, words in _words(args):
            body[flag] = True if not words else (f"[{' '.join(words)}]" if len(words) > 1 else _scalar(words[0]))
        path = directory / f"case{i}.yaml"
        path.write_text(yaml.safe_dump({"ENV_VARS": {"X": 1}, "MODEL_ARGS": body}, sort_keys=False))
        return path, devices
    lines = []
    variables = []
    for flag, words in _words(args):
        if form == "script" and words and len(words) == 1 and rng.random() < 0.3:
            var = flag[2:].upper().replace("-", "_")
            variables.append(f"{var}={shlex.quote(words[0])}")
            words = [rng.choice([f"${var}", f"${{{var}}}", f'"${var}"'])]
        if words and len(words) == 1 and rng.random() < 0.3:
            lines.append(f"{flag}={words[0]}")
        else:
            lines.append(" ".join([flag, *[rng.choice([w, f"'{w}'", f'"{w}"']) if "$" not in w else w for w in words]]))
    if form == "flags":
        path = directory / f"case{i}.txt"
        path.write_text(" \\\n  ".join(lines) + "\n")
        return path, devices
    launch = []
    if devices is not None and rng.random() < 0.5:
        nodes = rng.choice([n for n in (1, 2, 4) if devices % n == 0])
        variables += [f"GPUS_PER_NODE={devices // nodes}", f"NUM_NODES={nodes}"]
        launch = ["torchrun --nproc_per_node $GPUS_PER_NODE --nnodes $NUM_NODES --master_port 6000 pretrain_gpt.py"]
        devices = None
    else:
        launch = ["python pretrain_gpt.py"]
    body = "\n".join(
        ["#!/bin/bash", "# generated", *variables, "TRAIN_ARGS=(", *[f"    {line}" for line in lines], ")"]
    )
    body += "\n" + launch[0] + " \\\n    ${TRAIN_ARGS[@]} \\\n    --data-path $DATA_PATH --save $1\n"
    path = directory / f"case{i}.sh"
    path.write_text(body)
    return path, devices


def _scalar(text: str) -> Any:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _sched(path: Path, devices: int | None, skipped: Any) -> dict[str, Any]:
    given = (
        None if skipped is None else (",".join(map(str, skipped)) + "," if isinstance(skipped, list) else str(skipped))
    )
    try:
        spec = load_file(path, Overrides(source="megatron", devices=devices, skipped_steps=given))
        rows = collect(simulate(spec.run, mode="trainer"))
    except SpecError as exc:
        return {"error": str(exc)}
    return {"lrs": rows["lr"], "samples": rows["sample"], "tokens": rows["token"], "seq": spec.run.seq_len}


def _oracle_case(case: dict[str, Any]) -> dict[str, Any]:
    skipped = case["skipped"]
    listed = list(range(skipped)) if isinstance(skipped, int) else (skipped or [])
    return {"args": case["args"], "world_size": case["world"], "skipped": listed}


def _compare(label: str, ours: dict[str, Any], theirs: dict[str, Any]) -> int:
    """Assert agreement; return how many LRs were compared."""
    if "error" in theirs or "error" in ours:
        assert ("error" in theirs) == ("error" in ours), f"{label}: sched {ours.get('error')!r}, Megatron {theirs}"[
            :3000
        ]
        return 0
    lrs, want = np.asarray(ours["lrs"]), np.asarray(theirs["lrs"], dtype=np.float64)
    assert len(lrs) == len(want), f"{label}: {len(lrs)} iterations, Megatron {len(want)}"
    assert np.array_equal(np.asarray(ours["samples"]), np.asarray(theirs["samples"])), f"{label}: consumed samples"
    bad = np.flatnonzero(lrs != want)
    assert not len(bad), f"{label}: iteration {bad[0]}: sched {lrs[bad[0]]!r}, Megatron {want[bad[0]]!r}"
    return len(lrs)


def test_random_launches_match_megatron(tmp_path):
    python = _python()
    rng = random.Random(SEED)
    cases = [_case(rng) for _ in range(N_CASES)]
    answers = _ask(python, [_oracle_case(c) for c in cases])
    compared = refused = 0
    for i, (case, theirs) in enumerate(zip(cases, answers, strict=True)):
        path, devices = _write(case, rng, tmp_path, i)
        ours = _sched(path, devices, case["skipped"])
        label = f"case {i} ({path.name}, devices {devices}, skipped {case['skipped']}): {case['args']}"
        n = _compare(label, ours, theirs)
        compared += n
        refused += n == 0
        if n and case["seq"]:
            assert np.array_equal(ours["tokens"], np.asarray(ours["samples"]) * case["seq"]), label
    print(f"\n{N_CASES} random launches: {compared:,} iterations bit-equal, {refused} refused by both")
    assert refused < N_CASES // 3, "too few cases exercise the schedule"


def _config_args(path: Path) -> dict[str, Any]:
    """A model_config.yaml's schedule flags as argparse holds them (read here, not by sched)."""
    body = yaml.safe_load(path.read_text())["MODEL_ARGS"]
    names = _oracle_defaults()
    args = {}
    for key, value in body.items():
        name = key[2:].replace("-", "_")
        if name not in names:
            continue
        if isinstance(value, str) and value.startswith("["):
            value = [int(v) for v in value.strip("[]").split()]
        elif isinstance(value, str):
            value = _scalar(value)
        args[name] = value
    return args


def _oracle_defaults() -> set[str]:
    """The argument names the oracle reads (its DEFAULTS), without importing it."""
    tree = ast.parse(ORACLE.read_text())
    node = next(n for n in tree.body if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", "") == "DEFAULTS")
    return {key.value for key in node.value.keys}  # type: ignore[attr-defined]


def test_functional_test_configs_match_megatron():
    python = _python()
    paths = sorted(DATA.glob("*.yaml"))
    assert len(paths) == len(CONFIG_DP)
    cases = []
    for path in paths:
        args = _config_args(path)
        model = 1
        for name in ("tensor_model_parallel_size", "pipeline_model_parallel_size", "context_parallel_size"):
            model *= args.get(name, 1)
        cases.append({"args": args, "world_size": CONFIG_DP[path.stem] * model, "skipped": []})
    answers = _ask(python, cases)
    compared = 0
    for path, case, theirs in zip(paths, cases, answers, strict=True):
        assert "error" not in theirs, f"{path.name}: {theirs}"
        ours = _sched(path, case["world_size"], None)
        n = _compare(path.name, ours, theirs)
        assert n > 0
        compared += n
    print(f"\n{len(paths)} functional-test configs: {compared:,} iterations bit-equal")


def test_export_command_matches_megatron(tmp_path):
    python = _python()
    rng = random.Random(SEED + 1)
    cases = []
    while len(cases) < N_CLI:
        case = _case(rng)
        if case["world"] is not None and "global_batch_size" in case["args"]:
            cases.append(case)
    answers = _ask(python, [_oracle_case(c) for c in cases])
    for i, (case, theirs) in enumerate(zip(cases, answers, strict=True)):
        path, devices = _write(case, rng, tmp_path, i)
        command = [
            sys.executable,
            "-m",
            "sched_cli",
            "export",
            str(path),
            "--from",
            "megatron",
            "-o",
            str(tmp_path / "o.csv"),
        ]
        if devices is not None:
            command += ["--devices", str(devices)]
        if case["skipped"] is not None:
            s = case["skipped"]
            command += ["--skipped-steps", ",".join(map(str, s)) + "," if isinstance(s, list) else str(s)]
        proc = subprocess.run(command, capture_output=True, text=True, timeout=300)
        if "error" in theirs:
            assert proc.returncode == 2 and proc.stderr.startswith("sched: error:"), proc.stderr
            continue
        assert proc.returncode == 0, proc.stderr
        with open(tmp_path / "o.csv") as f:
            rows = list(csv.DictReader(f))
        ours = {"lrs": [float(r["lr"]) for r in rows], "samples": [int(r["sample"]) for r in rows]}
        _compare(f"export {path.name}", ours, theirs)
