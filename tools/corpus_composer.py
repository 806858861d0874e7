"""An llm-foundry train YAML of the corpus as a run of ``tools/composer_oracle.py trainer``.

llm-foundry's ``train.py`` builds Composer's ``Trainer`` from the YAML: the scheduler by its registry
name (``cosine_with_warmup`` is Composer's ``CosineAnnealingWithWarmupScheduler``, and so on; llm-foundry's
``schedulers`` registry), ``max_duration``, the optimizer's ``lr``, schedulers stepped every batch, and a
train loader of ``global_train_batch_size / devices`` samples per rank (``train_loader.drop_last``).
On one process the oracle's loader holds the global batch; for the corpus' sizes (``--dataset-size``
a multiple of the world size) its length is each rank's. A run in batches without ``--dataset-size``
(a streaming pretraining set) gets one epoch as long as the run, of one-sample batches: its schedule is
counted in batches alone. Runs above ``LIMIT`` batches are left to the others (a real Trainer on CPU).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

#: llm-foundry's ``schedulers`` registry: its names for Composer's classes.
SCHEDULERS = {
    "constant_with_warmup": "ConstantWithWarmupScheduler",
    "cosine_with_warmup": "CosineAnnealingWithWarmupScheduler",
    "linear_decay_with_warmup": "LinearWithWarmupScheduler",
    "constant": "ConstantScheduler",
    "cosine": "CosineAnnealingScheduler",
    "linear": "LinearScheduler",
    "multistep": "MultiStepScheduler",
    "step": "StepScheduler",
    "polynomial": "PolynomialScheduler",
    "exponential": "ExponentialScheduler",
}
LIMIT = 35_000


def trainer_config(file: Path, dataset_size: int | None, devices: int) -> dict[str, Any]:
    """The oracle's run for ``file``, or ``{"skip": reason}``."""
    data = yaml.safe_load(file.read_text())
    block = dict(data["scheduler"])
    name = block.pop("name")
    if name not in SCHEDULERS:
        return {"skip": f"scheduler {name!r} is not one of Composer's"}
    duration = str(data["max_duration"])
    lr = float(data["optimizer"]["lr"])
    run: dict[str, Any] = {
        "schedulers": [{"scheduler": SCHEDULERS[name], "kwargs": block}],
        "max_duration": duration,
        "lr": lr,
        "step_every": "batch",
    }
    if dataset_size is not None:
        batch = int(data["global_train_batch_size"])
        if dataset_size % devices:
            return {"skip": "--dataset-size is not a multiple of --devices"}
        drop_last = bool((data.get("train_loader") or {}).get("drop_last", False))
        return {**run, "dataset_size": dataset_size, "batch_size": batch, "drop_last": drop_last}
    if not duration.endswith("ba"):
        return {"skip": f"max_duration {duration} without --dataset-size"}
    batches = int(duration.removesuffix("ba"))
    if batches > LIMIT:
        return {"skip": f"{batches:,} batches: longer than a real Trainer on CPU is run here ({LIMIT:,})"}
    return {**run, "dataloader_len": batches, "batch_size": 1}
