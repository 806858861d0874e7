"""Key accounting for MMEngine configs: what the reader does with every key it does not read.

MMEngine's Runner reads a closed set of top-level keys, so any other top-level key is a variable of
the config file (``max_epochs = 12``, ``base_lr = 0.01``), which counts only where the config used
it. A variable whose name could change the schedule and whose value no key uses gets a note; so
does a key the reader does not know inside the sections it reads (``train_cfg``,
``optim_wrapper``, ``train_dataloader``, ``auto_scale_lr``), and a custom hook that could set
the LR.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sched_cli.readers import could_change_schedule, unknown_key_notes

__all__ = ["unknown_keys", "custom_hook_notes", "SECTION_KEYS"]

SECTION_KEYS = {
    "train_cfg": ("type", "by_epoch", "max_epochs", "max_iters", "_scope_"),
    "train_cfg:irrelevant": ("val_interval", "val_begin", "dynamic_intervals"),
    "optim_wrapper": ("type", "optimizer", "constructor", "_scope_"),
    "optim_wrapper:irrelevant": (
        "clip_grad",
        "paramwise_cfg",
        "loss_scale",
        "dtype",
        "accumulative_counts",
        "use_fsdp",
        "cumulative_iters",
    ),
    "train_dataloader": ("batch_size", "dataset", "drop_last", "sampler", "batch_sampler"),
    "train_dataloader:irrelevant": (
        "num_workers",
        "persistent_workers",
        "pin_memory",
        "collate_fn",
        "prefetch_factor",
        "worker_init_fn",
        "pin_memory_device",
        "timeout",
        "_scope_",
    ),
    "auto_scale_lr": ("enable", "base_batch_size"),
    "auto_scale_lr:irrelevant": (),
}


def unknown_keys(config: Any, runner_keys: Iterable[str], read_keys: Iterable[str], optimizers: list[str]) -> list[str]:
    """Notes for the keys sched does not account for: in the sections it reads, those whose names
    could change the schedule; at the top, a config variable whose value no key read uses."""
    notes = []
    for section in ("train_cfg", "optim_wrapper", "train_dataloader", "auto_scale_lr"):
        value = config.read(section)
        if isinstance(value, dict):
            known = (*SECTION_KEYS[section], *SECTION_KEYS[f"{section}:irrelevant"])
            if section == "optim_wrapper":
                known += tuple(optimizers)
            notes += unknown_key_notes(value, config.source, "MMEngine", known, where=section)
    runner_keys = set(runner_keys)
    used = _scalars({k: config.data.get(k) for k in read_keys if k in config.data})
    for key, value in config.data.items():
        if key in runner_keys or not could_change_schedule(str(key)):
            continue
        if isinstance(value, (bool, int, float, str)) and value in used:
            continue  # a variable of the Python config, used where it counts
        if isinstance(value, (dict, list)) and value and _used_elsewhere(config.data, key, value):
            continue  # a structure the config placed in another key (a pipeline, a batch-shape policy)
        notes.append(
            f"{config.source}: {key} = {_short(value)} is not a key MMEngine's Runner reads (a variable of the "
            "config that no key sched reads uses): it changes nothing, in training or here"
        )
    return notes


#: Hooks of OpenMMLab's configs that never touch the LR (``custom_hooks``).
_QUIET_HOOKS = {
    "EMAHook",
    "SetEpochInfoHook",
    "YOLOXModeSwitchHook",
    "SyncNormHook",
    "PipelineSwitchHook",
    "MeanTeacherHook",
    "CheckInvalidLossHook",
    "EmptyCacheHook",
    "NumClassCheckHook",
    "MemoryProfilerHook",
    "SwitchToDeployHook",
    "YOLOv6ModelSwitchDeployHook",
    "VisualizationHook",
    "DetVisualizationHook",
}


def custom_hook_notes(config: Any) -> list[str]:
    """A note for each ``custom_hooks`` entry whose type could set the LR (sched replays none of them)."""
    hooks = config.read("custom_hooks")
    if not isinstance(hooks, list):
        return []
    notes = []
    for i, hook in enumerate(hooks):
        name = str(hook.get("type", "")).rpartition(".")[2] if isinstance(hook, dict) else str(hook)
        if name not in _QUIET_HOOKS and could_change_schedule(name):
            notes.append(
                f"{config.source}: custom_hooks[{i}] {name} may change the LR during training, which sched does not "
                "model; the preview leaves it out"
            )
    return notes


def _used_elsewhere(data: dict[str, Any], key: str, value: Any) -> bool:
    def contains(node: Any) -> bool:
        if node == value:
            return True
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        return any(contains(child) for child in children)

    return any(contains(other) for name, other in data.items() if name != key)


def _scalars(value: Any) -> set[Any]:
    if isinstance(value, dict):
        return set().union(*(_scalars(v) for v in value.values())) if value else set()
    if isinstance(value, (list, tuple)):
        return set().union(*(_scalars(v) for v in value)) if value else set()
    return {value} if isinstance(value, (bool, int, float, str)) else set()


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
