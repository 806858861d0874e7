"""Ask the real timm for the learning rate of every optimizer update, as JSON.

Run it with a Python that has torch and timm (``tools/envs/timm.sh`` builds one); it is not part
of ``sched_cli`` and imports nothing from it. One JSON request on stdin, one line of JSON on
stdout.

    python tools/timm_oracle.py < request.json

The request is ``{"runs": [run, ...]}``. A run has ``args`` (keys of timm's ``args.yaml``; the
missing ones take ``train.py``'s defaults below), ``dataset_size`` and ``world_size``. For each
run the oracle does what ``train.py`` does, with timm's own code where timm has it:

- ``len(loader_train)`` from a real ``DataLoader`` over a dataset of ``dataset_size`` items, with
  ``DistributedSampler(num_replicas=world_size, rank=0)`` when ``world_size > 1`` and
  ``drop_last=True`` (timm's ``create_loader`` for training);
- ``args.lr`` from ``lr_base`` when ``lr`` is unset (train.py's lines, reproduced);
- ``updates_per_epoch = ceil(len(loader) / grad_accum_steps)`` and
  ``create_scheduler_v2(optimizer, **scheduler_kwargs(args), updates_per_epoch=...)``;
- the loop: from ``start_epoch`` (stepping the scheduler to it first), each update records the
  optimizer's LR, then ``step_update(num_updates)``; each epoch ends with ``step(epoch + 1)``.

The answer is ``{"runs": [{"lr": args.lr, "num_epochs": n, "updates_per_epoch": u,
"loader_len": l, "lrs": [...]} | {"error": "Type: message"}, ...]}``.

timm's package ``__init__`` imports its models, which need torchvision; the scheduler package
does not, so it is loaded alone: a stand-in ``timm`` package whose ``__path__`` is the real one
lets ``import timm.scheduler`` run only ``timm/scheduler/*.py``.
"""

from __future__ import annotations

import importlib.util
import json
import pathlib
import sys
import types
from typing import Any

#: train.py's defaults for the keys that matter here (timm 1.0.x).
TRAIN_DEFAULTS: dict[str, Any] = {
    "sched": "cosine",
    "sched_on_updates": False,
    "lr": None,
    "lr_base": 0.1,
    "lr_base_size": 256,
    "lr_base_scale": "",
    "lr_noise": None,
    "lr_noise_pct": 0.67,
    "lr_noise_std": 1.0,
    "lr_cycle_mul": 1.0,
    "lr_cycle_decay": 0.5,
    "lr_cycle_limit": 1,
    "lr_k_decay": 1.0,
    "warmup_lr": 1e-5,
    "min_lr": 0,
    "epochs": 300,
    "start_epoch": None,
    "decay_milestones": [90, 180, 270],
    "decay_epochs": None,  # train.py 1.0.29 says 90; None lets create_scheduler_v2 pick 90 (step) or 0.2 (wsd)
    "warmup_epochs": 5,
    "warmup_prefix": False,
    "cooldown_epochs": 0,
    "patience_epochs": 10,
    "decay_rate": 0.1,
    "seed": 42,
    "opt": "sgd",
    "batch_size": 128,
    "grad_accum_steps": 1,
    "eval_metric": "top1",
}


def load_timm_scheduler() -> types.ModuleType:
    """``timm.scheduler`` without running ``timm/__init__.py`` (which needs torchvision)."""
    if "timm" not in sys.modules:
        spec = importlib.util.find_spec("timm")
        if spec is None or not spec.submodule_search_locations:
            raise ImportError("timm is not installed")
        stub = types.ModuleType("timm")
        stub.__path__ = [str(pathlib.Path(list(spec.submodule_search_locations)[0]))]
        sys.modules["timm"] = stub
    import timm.scheduler

    return timm.scheduler


def loader_len(dataset_size: int, world_size: int, batch_size: int) -> int:
    import torch
    from torch.utils.data import DataLoader, Dataset

    class Items(Dataset):
        def __len__(self) -> int:
            return dataset_size

        def __getitem__(self, i: int) -> int:
            return i

    sampler = None
    if world_size > 1:
        sampler = torch.utils.data.distributed.DistributedSampler(Items(), num_replicas=world_size, rank=0)
    return len(DataLoader(Items(), batch_size=batch_size, sampler=sampler, shuffle=sampler is None, drop_last=True))


def run_one(run: dict[str, Any]) -> dict[str, Any]:
    import torch

    scheduler = load_timm_scheduler()
    args = types.SimpleNamespace(**{**TRAIN_DEFAULTS, **run["args"]})
    world_size = int(run.get("world_size", 1))
    args.grad_accum_steps = max(1, args.grad_accum_steps)
    n_batches = loader_len(int(run["dataset_size"]), world_size, args.batch_size)
    if not args.lr:  # train.py, verbatim in effect
        global_batch_size = float(args.batch_size) * world_size * args.grad_accum_steps
        batch_ratio = global_batch_size / args.lr_base_size
        if not args.lr_base_scale:
            on = args.opt.lower()
            args.lr_base_scale = "sqrt" if any([o in on for o in ("ada", "lamb")]) else "linear"
        if args.lr_base_scale == "sqrt":
            batch_ratio = batch_ratio**0.5
        args.lr = args.lr_base * batch_ratio
    param = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.SGD([param], lr=args.lr)
    updates_per_epoch = (n_batches + args.grad_accum_steps - 1) // args.grad_accum_steps
    lr_scheduler, num_epochs = scheduler.create_scheduler_v2(
        optimizer, **scheduler.scheduler_kwargs(args, decreasing_metric=None), updates_per_epoch=updates_per_epoch
    )
    start_epoch = args.start_epoch or 0
    if lr_scheduler is not None and start_epoch > 0:
        if args.sched_on_updates:
            lr_scheduler.step_update(start_epoch * updates_per_epoch)
        else:
            lr_scheduler.step(start_epoch)
    limit = int(run.get("max_updates", 200_000))
    lrs: list[float] = []
    for epoch in range(start_epoch, num_epochs):
        num_updates = epoch * updates_per_epoch
        for _ in range(updates_per_epoch):
            lrs.append(optimizer.param_groups[0]["lr"])
            num_updates += 1
            if lr_scheduler is not None:
                lr_scheduler.step_update(num_updates=num_updates, metric=None)
        if lr_scheduler is not None:
            lr_scheduler.step(epoch + 1, None)
        if len(lrs) > limit:
            raise RuntimeError(f"more than {limit} updates")
    return {
        "lr": args.lr,
        "num_epochs": num_epochs,
        "updates_per_epoch": updates_per_epoch,
        "loader_len": n_batches,
        "lrs": lrs,
    }


def main() -> None:
    request = json.load(sys.stdin)
    out = []
    for run in request["runs"]:
        try:
            out.append(run_one(run))
        except Exception as exc:  # noqa: BLE001 - every failure is an answer
            out.append({"error": f"{type(exc).__name__}: {exc}"})
    sys.stdout.write(json.dumps({"runs": out}) + "\n")


if __name__ == "__main__":
    main()
