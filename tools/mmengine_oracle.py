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
``len(DataLoader)`` over the dataset MMEngine's ``DATASETS`` builds from the config's wrappers
(``RepeatDataset``; ``ConcatDataset``, whose parts share the ``N`` rows out; ``ClassBalancedDataset``
over rows of one category, so that its repeat factors are 1; MMDetection's ``MultiImageMixDataset``,
which keeps its dataset's length), sampled as rank 0 of ``W`` by MMEngine's ``DefaultSampler`` or
``InfiniteSampler`` or MMDetection's ``ClassAwareSampler``, batched by PyTorch's ``BatchSampler`` or
MMDetection's ``AspectRatioBatchSampler`` (both MMDetection classes loaded from the downstream
sources); the LR from ``optim_wrapper.optimizer.lr``, scaled by ``Runner.scale_lr`` when
``auto_scale_lr.enable``. A config it cannot derive (another package's wrapper, sampler or
scheduler hook) answers ``{"error": ...}``, except that an iteration loop never asks for the
epoch's length unless a scheduler converts from epochs.

For each case the schedulers are built by MMEngine's own ``Runner._build_param_scheduler``
(default ``end`` from the loop, ``convert_to_iter_based`` through the ``PARAM_SCHEDULERS``
registry) on a real ``OptimWrapper`` around ``torch.optim.SGD``, and driven by MMEngine's own
``ParamSchedulerHook``: ``after_train_iter`` after each iteration, ``after_train_epoch`` after
each epoch (once, after the last iteration, for an iteration-based loop), as the train loops call
them. The LR is recorded at the start of each iteration. Answer: ``{"results": [...]}``, per case
``{"lrs": [...]}`` or ``{"lrs": [...so far], "error": "Type: message"}``.

Downstream packages: with ``"downstream": DIR`` in the request (the wheels of MMDetection 3.3.0,
MMPose 1.3.2, MMSegmentation 1.2.2, MMagic 1.2.0 and MMYOLO 0.6.0 unpacked there by
``tools/envs/mmengine_downstream.sh``), their own scheduler and hook modules are loaded from their
files (their package's registry module replaced by one that registers into MMEngine's), so that
``QuadraticWarmupLR`` (MMDetection's; MMPose's as ``MMPose_QuadraticWarmupLR``), ``PolyLRRatio``,
``LinearLrInterval``, ``YOLOv5ParamSchedulerHook`` and ``PPYOLOEParamSchedulerHook`` are the real
classes. A case with ``"hook"`` (MMYOLO's ``default_hooks.param_scheduler``) is driven by that hook
as MMYOLO's Runner calls it (``before_train``, ``before_train_iter``, ``after_train_epoch``) on an
optimizer with three parameter groups (weights, norms, biases); the LR of group 0 is recorded.

A case with ``"config"`` (a whole merged config), ``"dataset_size"`` and ``"world_size"`` is read
as the Runner reads it: the optimizer built by MMEngine's ``OPTIMIZERS`` registry (PyTorch's
default LR where the config gives none), ``Runner.scale_lr`` for ``auto_scale_lr``, the epoch
length as in file mode (the same loader, around ``dataset_size`` items on rank 0 of
``world_size``); then its schedulers or hook as above.
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
        # only its len() is read, and used only by convert_to_iter_based (None: a loader the oracle cannot build,
        # in a run that converts nothing: _case refuses one that does)
        self.train_dataloader = range(epoch_length or 0)
        self.logger = logging.getLogger("mmengine_oracle")
        self.param_schedulers = None


_DOWNSTREAM_FILES = {
    "mmdet": ["mmdet/engine/schedulers/quadratic_warmup.py"],
    "mmpose": ["mmpose/engine/schedulers/quadratic_warmup.py"],
    "mmseg": ["mmseg/engine/schedulers/poly_ratio_scheduler.py"],
    "mmagic": ["mmagic/engine/schedulers/linear_lr_scheduler_with_interval.py"],
    "mmyolo": [
        "mmyolo/engine/hooks/yolov5_param_scheduler_hook.py",
        "mmyolo/engine/hooks/ppyoloe_param_scheduler_hook.py",
    ],
}


class _Registry:
    """Stands in for a downstream package's registry: registers into MMEngine's own, renamed for MMPose."""

    def __init__(self, target: Any, prefix: str = "") -> None:
        self.target, self.prefix = target, prefix

    def register_module(self, name: Any = None, force: bool = False, module: Any = None) -> Any:
        def register(cls: Any) -> Any:
            self.target.register_module(name=self.prefix + cls.__name__, force=True, module=cls)
            return cls

        return register(module) if module is not None else register


#: Downstream classes the file mode builds itself (not through a registry): MMDetection's batch sampler.
_LOADED: dict[str, Any] = {}


def _load_downstream(root: str) -> None:
    import importlib.util
    import types
    from pathlib import Path

    from mmengine.registry import DATA_SAMPLERS, HOOKS, PARAM_SCHEDULERS

    def load(name: str, path: str) -> Any:
        spec = importlib.util.spec_from_file_location(name, Path(root) / path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    for package, files in _DOWNSTREAM_FILES.items():
        registry = types.ModuleType(f"{package}.registry")
        registry.PARAM_SCHEDULERS = _Registry(PARAM_SCHEDULERS, "MMPose_" if package == "mmpose" else "")
        registry.HOOKS = _Registry(HOOKS)
        registry.DATA_SAMPLERS = _Registry(DATA_SAMPLERS, f"{package}_")
        sys.modules.setdefault(package, types.ModuleType(package))
        sys.modules[f"{package}.registry"] = registry
        for i, path in enumerate(files):
            load(f"_downstream_{package}_{i}", path)
    # MMDetection's AspectRatioBatchSampler: its module imports the video sampler beside it, which it does not use.
    track = types.ModuleType("mmdet.datasets.samplers.track_img_sampler")
    track.TrackImgSampler = type("TrackImgSampler", (), {})
    sys.modules.setdefault(track.__name__, track)
    if (Path(root) / "mmdet/datasets/samplers/batch_sampler.py").is_file():
        module = load("_downstream_mmdet_batch_sampler", "mmdet/datasets/samplers/batch_sampler.py")
        _LOADED["AspectRatioBatchSampler"] = module.AspectRatioBatchSampler
        module = load("_downstream_mmdet_class_aware", "mmdet/datasets/samplers/class_aware_sampler.py")
        sys.modules[module.__name__] = module
        _LOADED["ClassAwareSampler"] = module.ClassAwareSampler


def _hook_case(case: dict[str, Any]) -> dict[str, Any]:
    """An MMYOLO hook driven as MMEngine's EpochBasedTrainLoop calls it."""
    import torch
    from mmengine.optim import OptimWrapper
    from mmengine.registry import HOOKS

    length, max_epochs = int(case["epoch_length"]), int(case["max_epochs"])
    groups = [{"params": [torch.nn.Parameter(torch.zeros(1))]} for _ in range(3)]
    wrapper = OptimWrapper(torch.optim.SGD(groups, lr=case["lr"], momentum=0.937))
    runner = _Runner(None, max_epochs, max_epochs * length, length)
    runner.optim_wrapper = wrapper
    lrs: list[float] = []
    try:
        hook = HOOKS.build({k: v for k, v in case["hook"].items() if k != "priority"})
        hook.before_train(runner)
        for epoch in range(max_epochs):
            runner.epoch = epoch
            for batch in range(length):
                runner.iter = epoch * length + batch
                hook.before_train_iter(runner, batch_idx=batch)
                lrs.append(float(wrapper.optimizer.param_groups[0]["lr"]))
                hook.after_train_iter(runner, batch_idx=batch)
            hook.after_train_epoch(runner)
    except Exception as exc:  # noqa: BLE001
        return {"lrs": lrs, "error": f"{type(exc).__name__}: {exc}"}
    return {"lrs": lrs}


def _config_case(case: dict[str, Any]) -> dict[str, Any]:
    """A whole config read as the Runner reads it (see the module docstring)."""
    import torch
    from mmengine.registry import OPTIMIZERS
    from mmengine.runner import Runner

    config = copy.deepcopy(case["config"])
    size, world = int(case["dataset_size"]), int(case["world_size"])

    loader_cfg = config["train_dataloader"]
    length = _loader_length(loader_cfg, size, world, loader_cfg["batch_size"])
    optim = config["optim_wrapper"]
    if "optimizer" not in optim:  # several optimizers: the first (sched shows them only when equal)
        optim = next(v for v in optim.values() if isinstance(v, dict) and "optimizer" in v)
    optimizer_cfg = optim["optimizer"]
    optimizer_cfg = {k: v for k, v in optimizer_cfg.items() if k != "batch_size_per_gpu"}  # MMYOLO's constructor's
    optimizer = OPTIMIZERS.build({**optimizer_cfg, "params": [torch.nn.Parameter(torch.zeros(1))]})
    from mmengine.optim import OptimWrapper

    wrapper = OptimWrapper(optimizer)
    fake = _Runner(None, 1, 1, length)
    fake.world_size = world
    fake._train_dataloader = loader_cfg
    Runner.scale_lr(fake, wrapper, config.get("auto_scale_lr"))
    lr = wrapper.optimizer.param_groups[0]["lr"]
    train_cfg = config["train_cfg"]
    by_epoch = train_cfg.get("by_epoch", str(train_cfg.get("type", "")).endswith("EpochBasedTrainLoop"))
    hook = (config.get("default_hooks") or {}).get("param_scheduler") or {}
    base = {"epoch_length": length, "lr": lr}
    if str(hook.get("type", "")).rpartition(".")[2] in ("YOLOv5ParamSchedulerHook", "PPYOLOEParamSchedulerHook"):
        answer = _hook_case({**base, "hook": hook, "max_epochs": train_cfg["max_epochs"]})
    else:
        chain = config.get("param_scheduler")
        if isinstance(chain, dict) and "type" not in chain:
            chain = next(iter(chain.values()))  # several optimizers, each its own (equal) list
        answer = _case(
            {
                **base,
                "param_scheduler": chain,
                "train_loop": "epoch" if by_epoch else "iter",
                "max_epochs": train_cfg.get("max_epochs"),
                "max_iters": train_cfg.get("max_iters"),
            }
        )
    return {**answer, "epoch_length": length, "lr": lr}


def _case(case: dict[str, Any]) -> dict[str, Any]:
    import torch
    from mmengine.hooks import ParamSchedulerHook
    from mmengine.logging import MessageHub
    from mmengine.optim import OptimWrapper
    from mmengine.runner import Runner
    from mmengine.runner.loops import EpochBasedTrainLoop, IterBasedTrainLoop

    loop_kind = case["train_loop"]
    length = int(case["epoch_length"]) if case["epoch_length"] is not None else None
    if loop_kind == "epoch":
        max_epochs = int(case["max_epochs"])
        max_iters = max_epochs * length
        loop = object.__new__(EpochBasedTrainLoop)  # a BaseLoop, so that the Runner sets default ends
    else:
        max_epochs, max_iters = 1, int(case["max_iters"])
        loop = object.__new__(IterBasedTrainLoop)
    chain = [case["param_scheduler"]] if isinstance(case["param_scheduler"], dict) else case["param_scheduler"]
    if length is None and any(c.get("convert_to_iter_based") for c in chain):
        return {"lrs": [], "error": "ValueError: convert_to_iter_based needs the epoch's length: the oracle cannot "
                "build this loader's sampler"}  # fmt: skip
    runner = _Runner(loop, max_epochs, max_iters, length)
    for config in [case["param_scheduler"]] if isinstance(case["param_scheduler"], dict) else case["param_scheduler"]:
        # A downstream scope: MMDetection's registry finds its own; MMPose's is registered renamed.
        scope, _, name = str(config.get("type", "")).rpartition(".")
        if scope in ("mmdet", "mmseg", "mmagic", "mmpose", "mmyolo"):
            config["type"] = f"MMPose_{name}" if scope == "mmpose" else name
    param = torch.nn.Parameter(torch.zeros(1))
    wrapper = OptimWrapper(torch.optim.SGD([param], lr=case["lr"]))
    lrs: list[float] = []
    try:
        runner.param_schedulers = Runner._build_param_scheduler(runner, copy.deepcopy(case["param_scheduler"]), wrapper)
        hook = ParamSchedulerHook()
        hub = MessageHub.get_current_instance()  # what RuntimeInfoHook keeps (MMagic's LinearLrInterval reads it)
        hub.update_info("epoch", 0)
        for i in range(max_iters):
            hub.update_info("iter", i)
            if loop_kind == "epoch" and i % length == 0:
                hub.update_info("epoch", i // length)
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


_WRAPPERS = ("RepeatDataset", "ConcatDataset", "ClassBalancedDataset", "MultiImageMixDataset")


def _dataset(cfg: Any, n: int) -> Any:
    """The train dataset as MMEngine's ``DATASETS`` builds it from the config, around ``n`` rows: a
    ``ConcatDataset``'s parts share them out (``--dataset-size`` is their total, as sched takes it);
    ``ClassBalancedDataset`` is MMEngine's own over rows of one category, whose repeat factors are then
    all 1 (``--dataset-size`` is the balanced set's length, as sched takes it); MMDetection's
    ``MultiImageMixDataset`` has its dataset's length (its ``__len__`` is ``len(dataset)``)."""
    from mmengine.dataset import BaseDataset
    from mmengine.registry import DATASETS

    class OracleLeaf(BaseDataset):
        METAINFO: dict = {}

        def __init__(self, count: int) -> None:
            self._fully_initialized = True
            self._metainfo = {"classes": ("one",)}  # every row of one category (get_cat_ids)
            self.serialize_data = False
            self.data_list = []
            self.test_mode = False
            self.count = count

        def full_init(self) -> None:
            return None

        def __len__(self) -> int:
            return self.count

        def get_cat_ids(self, idx: int) -> list[int]:
            return [0]

    DATASETS.register_module(name="OracleLeaf", force=True, module=OracleLeaf)

    def config(node: Any, count: int) -> dict[str, Any]:
        kind = node.get("type") if isinstance(node, dict) else None
        kind = getattr(kind, "__name__", kind)
        kind = kind.rpartition(".")[2] if isinstance(kind, str) else kind
        if kind == "RepeatDataset":
            return {"type": "RepeatDataset", "times": node["times"], "dataset": config(node["dataset"], count)}
        if kind == "ConcatDataset":
            k = len(node["datasets"])
            shares = [count // k + (1 if i < count % k else 0) for i in range(k)]
            parts = [config(part, m) for part, m in zip(node["datasets"], shares, strict=True)]
            return {"type": "ConcatDataset", "datasets": parts}
        if kind == "ClassBalancedDataset":
            inner = config(node["dataset"], count)
            return {"type": "ClassBalancedDataset", "oversample_thr": node["oversample_thr"], "dataset": inner}
        if kind == "MultiImageMixDataset":
            return config(node["dataset"], count)
        if isinstance(node, dict) and ("dataset" in node or "datasets" in node):
            raise ValueError(f"dataset wrapper {kind} is not one the oracle builds ({', '.join(_WRAPPERS)})")
        return {"type": "OracleLeaf", "count": count}

    return DATASETS.build(config(cfg, n))


def _batch_sampler(cfg: dict[str, Any] | None, sampler: Any, batch_size: int, drop_last: bool) -> Any:
    """MMDetection's ``AspectRatioBatchSampler``, the real class (loaded from the downstream sources), or
    PyTorch's ``BatchSampler`` as the Runner builds it without one."""
    import torch

    kind = str((cfg or {}).get("type", "")).rpartition(".")[2]
    if not cfg:
        return torch.utils.data.BatchSampler(sampler, batch_size, drop_last)
    if kind != "AspectRatioBatchSampler" or "AspectRatioBatchSampler" not in _LOADED:
        raise ValueError(f"batch_sampler {cfg} is not one the oracle loads (MMDetection's AspectRatioBatchSampler)")
    return _LOADED["AspectRatioBatchSampler"](sampler, batch_size=batch_size, drop_last=drop_last)


def _loader_length(loader_cfg: dict[str, Any], n: int, devices: int, batch_size: int) -> int:
    """``len(train_dataloader)`` as the Runner builds it, as rank 0 of ``devices``, around ``n`` rows."""
    import torch
    from mmengine.dataset import sampler as sampler_module

    sampler_cfg = dict(loader_cfg.get("sampler") or {"type": "DefaultSampler"})
    sampler_type = sampler_cfg.pop("type", "DefaultSampler")
    sampler_type = getattr(sampler_type, "__name__", sampler_type).rpartition(".")[2]
    dataset = _dataset(loader_cfg.get("dataset"), n)
    if sampler_type not in ("DefaultSampler", "InfiniteSampler") and sampler_type not in _LOADED:
        raise ValueError(f"sampler {sampler_type} is not one the oracle builds")
    original = sampler_module.get_dist_info
    sampler_module.get_dist_info = lambda: (0, devices)
    try:
        if sampler_type == "InfiniteSampler":  # its len() is the whole dataset's, on every rank
            sampler = sampler_module.InfiniteSampler(dataset, shuffle=False)
        elif sampler_type == "DefaultSampler":
            sampler = sampler_module.DefaultSampler(dataset, shuffle=False, round_up=sampler_cfg.get("round_up", True))
        else:  # a downstream sampler, the real class: its module's own get_dist_info answers rank 0 of devices
            module = sys.modules[_LOADED[sampler_type].__module__]
            own = module.get_dist_info
            module.get_dist_info = lambda: (0, devices)
            try:
                sampler = _LOADED[sampler_type](dataset, seed=0, **sampler_cfg)
            finally:
                module.get_dist_info = own
    finally:
        sampler_module.get_dist_info = original
    batches = _batch_sampler(loader_cfg.get("batch_sampler"), sampler, batch_size, loader_cfg.get("drop_last", False))
    return len(torch.utils.data.DataLoader(range(len(dataset)), batch_sampler=batches))


def _file_case(case: dict[str, Any]) -> dict[str, Any]:
    import torch
    from mmengine.config import Config
    from mmengine.runner import Runner

    cfg = Config.fromfile(case["config"], import_custom_modules=False).to_dict()
    devices, n = int(case.get("devices", 1)), int(case["dataset_size"])
    loader_cfg = cfg.get("train_dataloader") or {}
    batch_size = loader_cfg.get("batch_size", case.get("batch_size"))
    if batch_size is None:
        raise ValueError("no train_dataloader.batch_size")
    train_cfg = cfg.get("train_cfg") or {}
    loop_type = getattr(train_cfg.get("type"), "__name__", train_cfg.get("type"))
    by_epoch = train_cfg.get("by_epoch", loop_type in (None, "EpochBasedTrainLoop"))
    try:
        length: int | None = _loader_length(loader_cfg, n, devices, batch_size)
    except ValueError:
        if by_epoch:
            raise
        length = None  # an iteration loop never counts an epoch; a scheduler converting from epochs fails
    optim = cfg.get("optim_wrapper") or {}
    if "optimizer" not in optim:  # several optimizers (a GAN's): the first (sched shows them only when equal)
        optim = next((v for v in optim.values() if isinstance(v, dict) and "optimizer" in v), {})
    optimizer = optim.get("optimizer") or {}
    if "lr" in optimizer:
        lr = float(optimizer["lr"])
    else:  # the optimizer class's own default, as the Runner's OPTIMIZERS.build gives it
        from mmengine.registry import OPTIMIZERS

        built = OPTIMIZERS.build({**optimizer, "params": [torch.nn.Parameter(torch.zeros(1))]})
        lr = float(built.param_groups[0]["lr"])
    auto = cfg.get("auto_scale_lr")
    if auto and auto.get("enable", False):
        from mmengine.optim import OptimWrapper

        holder = type("R", (), {})()
        holder._train_dataloader, holder.world_size, holder.param_schedulers = {"batch_size": batch_size}, devices, None
        holder.logger = logging.getLogger("mmengine_oracle")
        wrapper = OptimWrapper(torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr))
        Runner.scale_lr(holder, wrapper, auto)
        lr = wrapper.optimizer.param_groups[0]["lr"]
    hook = (cfg.get("default_hooks") or {}).get("param_scheduler") or {}
    if str(hook.get("type", "")).rpartition(".")[2] in ("YOLOv5ParamSchedulerHook", "PPYOLOEParamSchedulerHook"):
        answer = _hook_case({"epoch_length": length, "lr": lr, "hook": hook, "max_epochs": train_cfg["max_epochs"]})
        answer.update(epoch_length=length, lr=lr)
        return answer
    schedulers = cfg.get("param_scheduler") or []  # none: the Runner trains at the optimizer's LR
    if isinstance(schedulers, dict) and "type" not in schedulers:
        schedulers = next(iter(schedulers.values()))  # several optimizers, each its own (equal) list
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
        if request.get("downstream"):
            _load_downstream(request["downstream"])
        for case in request["cases"]:
            if isinstance(case.get("config"), str):  # a config file, as tools/corpus_survey.py asks
                try:
                    results.append(_file_case(case))
                except Exception as exc:  # noqa: BLE001 - every failure is part of the answer
                    results.append({"error": f"{type(exc).__name__}: {exc}"})
            elif "config" in case:
                try:
                    results.append(_config_case(case))
                except Exception as exc:  # noqa: BLE001 - the Runner would fail before training
                    results.append({"lrs": [], "error": f"{type(exc).__name__}: {exc}"})
            elif "hook" in case:
                results.append(_hook_case(case))
            else:
                results.append(_case(case))
    print(json.dumps({"results": results}))


if __name__ == "__main__":
    main()
