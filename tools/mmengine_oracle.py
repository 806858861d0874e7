"""Ask the real MMEngine for the LR of every training iteration, as JSON.

Run it with a Python that can ``import mmengine`` (see docs/mmengine-parity.md and
tools/envs/mmengine.sh); it is not part of ``sched_cli`` and imports nothing from it. One JSON
request on stdin, one line of JSON on stdout; anything MMEngine prints goes to stderr.

    python tools/mmengine_oracle.py < request.json

Request: ``{"cases": [case, ...]}``; a case has ``param_scheduler`` (MMEngine's list of
scheduler configs), ``train_loop`` (``"epoch"`` or ``"iter"``), ``max_epochs`` or
``max_iters``, ``epoch_length`` (iterations per epoch) and ``lr``.

File mode: a case ``{"config": path, "dataset_size": N, "devices": W}`` (optionally
``"batch_size"`` for a config without ``train_dataloader.batch_size``) reads a real config with
MMEngine's ``Config.fromfile`` (``_base_`` merged, ``custom_imports`` not imported) and derives the
case from it as the Runner would: the loop from ``train_cfg``; the epoch length from
``len(DataLoader)`` over MMEngine's own dataset wrappers (``RepeatDataset``, ``ConcatDataset``)
around leaf datasets of ``N`` rows, sampled by MMEngine's own ``DefaultSampler`` as rank 0 of ``W``;
the LR from ``optim_wrapper.optimizer.lr``, scaled by ``Runner.scale_lr`` when
``auto_scale_lr.enable``. A config it cannot derive (another package's wrapper, batch sampler or
scheduler hook) answers ``{"error": ...}``.

For each case the schedulers are built by MMEngine's own ``Runner._build_param_scheduler``
(default ``end`` from the loop, ``convert_to_iter_based`` through the ``PARAM_SCHEDULERS``
registry) on a real ``OptimWrapper`` around ``torch.optim.SGD``, and driven by MMEngine's own
``ParamSchedulerHook``: ``after_train_iter`` after each iteration, ``after_train_epoch`` after
each epoch (once, after the last iteration, for an iteration-based loop), as the train loops call
them. The LR is recorded at the start of each iteration. Answer: ``{"results": [...]}``, per case
``{"lrs": [...]}`` or ``{"lrs": [...so far], "error": "Type: message"}``.
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import sys
import warnings
from typing import Any


class _Runner:
    """Just what ``Runner._build_param_scheduler`` and ``ParamSchedulerHook`` read of a runner."""

    def __init__(self, loop: Any, max_epochs: int, max_iters: int, epoch_length: int) -> None:
        self._train_loop = loop
        self.max_epochs = max_epochs
        self.max_iters = max_iters
        self.train_dataloader = range(epoch_length)  # only its len() is read
        self.logger = logging.getLogger("mmengine_oracle")
        self.param_schedulers = None


def _case(case: dict[str, Any]) -> dict[str, Any]:
    import torch
    from mmengine.hooks import ParamSchedulerHook
    from mmengine.optim import OptimWrapper
    from mmengine.runner import Runner
    from mmengine.runner.loops import EpochBasedTrainLoop, IterBasedTrainLoop

    loop_kind = case["train_loop"]
    length = int(case["epoch_length"])
    if loop_kind == "epoch":
        max_epochs = int(case["max_epochs"])
        max_iters = max_epochs * length
        loop = object.__new__(EpochBasedTrainLoop)  # a BaseLoop, so that the Runner sets default ends
    else:
        max_epochs, max_iters = 1, int(case["max_iters"])
        loop = object.__new__(IterBasedTrainLoop)
    runner = _Runner(loop, max_epochs, max_iters, length)
    param = torch.nn.Parameter(torch.zeros(1))
    wrapper = OptimWrapper(torch.optim.SGD([param], lr=case["lr"]))
    lrs: list[float] = []
    try:
        runner.param_schedulers = Runner._build_param_scheduler(runner, copy.deepcopy(case["param_scheduler"]), wrapper)
        hook = ParamSchedulerHook()
        for i in range(max_iters):
            lrs.append(wrapper.optimizer.param_groups[0]["lr"])
            wrapper.optimizer.step()
            hook.after_train_iter(runner, batch_idx=i)
            if loop_kind == "epoch" and (i + 1) % length == 0:
                hook.after_train_epoch(runner)
        if loop_kind == "iter":
            hook.after_train_epoch(runner)
    except Exception as exc:  # noqa: BLE001 - every failure is part of the answer
        return {"lrs": lrs, "error": f"{type(exc).__name__}: {exc}"}
    return {"lrs": lrs}


_WRAPPERS = ("RepeatDataset", "ConcatDataset")


def _dataset(cfg: Any, n: int) -> Any:
    """The train dataset as MMEngine's wrappers build it, with every leaf dataset ``n`` rows long."""
    from mmengine.dataset import BaseDataset, ConcatDataset, RepeatDataset

    class Leaf(BaseDataset):
        METAINFO: dict = {}

        def __init__(self) -> None:
            self._fully_initialized = True
            self._metainfo = {}
            self.serialize_data = False
            self.data_list = []
            self.test_mode = False

        def full_init(self) -> None:
            return None

        def __len__(self) -> int:
            return n

    kind = cfg.get("type") if isinstance(cfg, dict) else None
    kind = getattr(kind, "__name__", kind)
    if kind == "RepeatDataset":
        return RepeatDataset(_dataset(cfg["dataset"], n), times=cfg["times"], lazy_init=False)
    if kind == "ConcatDataset":
        return ConcatDataset([_dataset(d, n) for d in cfg["datasets"]], lazy_init=False)
    if isinstance(kind, str) and (kind.endswith("Wrapper") or "Dataset" in kind and "Mix" in kind):
        raise ValueError(f"dataset wrapper {kind} is not one of MMEngine's ({', '.join(_WRAPPERS)})")
    if kind in ("ClassBalancedDataset",):
        raise ValueError("ClassBalancedDataset needs the real annotations")
    return Leaf()


def _file_case(case: dict[str, Any]) -> dict[str, Any]:
    import torch
    from mmengine.config import Config
    from mmengine.dataset import sampler as sampler_module
    from mmengine.runner import Runner

    cfg = Config.fromfile(case["config"], import_custom_modules=False).to_dict()
    devices, n = int(case.get("devices", 1)), int(case["dataset_size"])
    loader_cfg = cfg.get("train_dataloader") or {}
    batch_size = loader_cfg.get("batch_size", case.get("batch_size"))
    if batch_size is None:
        raise ValueError("no train_dataloader.batch_size")
    if loader_cfg.get("batch_sampler"):
        raise ValueError(f"batch_sampler {loader_cfg['batch_sampler']} is not MMEngine's")
    sampler_cfg = dict(loader_cfg.get("sampler") or {"type": "DefaultSampler"})
    sampler_type = sampler_cfg.pop("type", "DefaultSampler")
    sampler_type = getattr(sampler_type, "__name__", sampler_type)
    dataset = _dataset(loader_cfg.get("dataset"), n)
    train_cfg = cfg.get("train_cfg") or {}
    loop_type = getattr(train_cfg.get("type"), "__name__", train_cfg.get("type"))
    by_epoch = train_cfg.get("by_epoch", loop_type in (None, "EpochBasedTrainLoop"))
    if sampler_type not in ("DefaultSampler", "InfiniteSampler"):
        raise ValueError(f"sampler {sampler_type} is not MMEngine's")
    original = sampler_module.get_dist_info
    sampler_module.get_dist_info = lambda: (0, devices)
    try:
        sampler = sampler_module.DefaultSampler(dataset, shuffle=False, round_up=sampler_cfg.get("round_up", True))
    finally:
        sampler_module.get_dist_info = original
    length = len(
        torch.utils.data.DataLoader(
            range(len(dataset)), batch_size=batch_size, sampler=sampler, drop_last=loader_cfg.get("drop_last", False)
        )
    )
    optimizer = (cfg.get("optim_wrapper") or {}).get("optimizer") or {}
    if "lr" not in optimizer:
        raise ValueError("no optim_wrapper.optimizer.lr")
    lr = float(optimizer["lr"])
    auto = cfg.get("auto_scale_lr")
    if auto and auto.get("enable", False):
        from mmengine.optim import OptimWrapper

        holder = type("R", (), {})()
        holder._train_dataloader, holder.world_size, holder.param_schedulers = {"batch_size": batch_size}, devices, None
        holder.logger = logging.getLogger("mmengine_oracle")
        wrapper = OptimWrapper(torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr))
        Runner.scale_lr(holder, wrapper, auto)
        lr = wrapper.optimizer.param_groups[0]["lr"]
    schedulers = cfg.get("param_scheduler") or []  # none: the Runner trains at the optimizer's LR
    derived = {"param_scheduler": schedulers, "epoch_length": length, "lr": lr}
    if by_epoch:
        derived.update(train_loop="epoch", max_epochs=int(train_cfg["max_epochs"]))
    else:
        derived.update(train_loop="iter", max_iters=int(train_cfg["max_iters"]))
    answer = _case(derived)
    answer.update(epoch_length=length, lr=lr)
    return answer


def main() -> None:
    request = json.load(sys.stdin)
    results = []
    with contextlib.redirect_stdout(sys.stderr), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        logging.getLogger("mmengine_oracle").setLevel(logging.ERROR)
        for case in request["cases"]:
            if "config" not in case:
                results.append(_case(case))
                continue
            try:
                results.append(_file_case(case))
            except Exception as exc:  # noqa: BLE001 - every failure is part of the answer
                results.append({"error": f"{type(exc).__name__}: {exc}"})
    print(json.dumps({"results": results}))


if __name__ == "__main__":
    main()
