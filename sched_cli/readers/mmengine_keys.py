"""Key accounting for MMEngine configs: what the reader does with every key it does not read.

MMEngine's Runner reads a closed set of top-level keys, so any other top-level key is a variable of
the config file (``max_epochs = 12``, ``base_lr = 0.01``), which counts only where the config used
it. A variable whose name could change the schedule and whose value no key uses gets a note; so
does a key the reader does not know inside the sections it reads (``train_cfg``,
``optim_wrapper``, ``train_dataloader``, ``auto_scale_lr``), a custom hook that could set
the LR, and an optimizer constructor that gives each layer its own LR (layer-wise decay).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sched_cli.readers import could_change_schedule

__all__ = ["accounted", "variable_notes", "custom_hook_notes", "constructor_notes", "SECTION_KEYS", "SECTIONS"]

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


#: The sections the reader reads, whose keys the key accounting checks too.
SECTIONS = ("train_cfg", "optim_wrapper", "train_dataloader", "auto_scale_lr")


def _unused(data: dict[str, Any], key: str, value: Any, used: set[Any]) -> bool:
    if isinstance(value, (bool, int, float, str)) and value in used:
        return False  # a variable of the Python config, used where it counts
    # a structure the config placed in another key (a pipeline, a batch-shape policy)
    return not (isinstance(value, (dict, list)) and value and _used_elsewhere(data, key, value))


def accounted(
    data: dict[str, Any], top_keys: Iterable[str], read_keys: Iterable[str]
) -> list[tuple[str, dict[str, Any]]]:
    """The places whose keys the reader contract's accounting checks (``(where, mapping)``): the top
    level without the config variables some key uses (the Runner never reads a variable; its value
    counts where the config put it), and the sections the reader reads (``optim_wrapper`` without
    its optimizers' names)."""
    top_keys = set(top_keys)
    used = _scalars({k: data.get(k) for k in read_keys if k in data})
    top = {k: v for k, v in data.items() if k in top_keys or _unused(data, k, v, used)}
    places = [("", top)]
    for section in SECTIONS:
        value = data.get(section)
        if isinstance(value, dict):
            if section == "optim_wrapper":
                value = {k: v for k, v in value.items() if not (isinstance(v, dict) and "optimizer" in v)}
            places.append((section, value))
    return places


def variable_notes(
    data: dict[str, Any], source: str, top_keys: Iterable[str], read_keys: Iterable[str], known: Iterable[str]
) -> list[str]:
    """Notes for unused config variables named like a key of a section (``max_epochs = 24`` beside
    ``train_cfg.max_epochs = 12``), which the contract's accounting takes for known keys."""
    top_keys, known = set(top_keys), set(known)
    used = _scalars({k: data.get(k) for k in read_keys if k in data})
    return [
        f"{source}: {key} = {_short(value)} is not a key MMEngine's Runner reads (a variable of the config that "
        "no key sched reads uses): it changes nothing, in training or here"
        for key, value in data.items()
        if key not in top_keys and key in known and could_change_schedule(str(key)) and _unused(data, key, value, used)
    ]


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


#: Optimizer constructors of OpenMMLab's packages that give each layer its own LR, decayed with its depth:
#: MMSegmentation's and MMDetection's ``LayerDecayOptimizerConstructor`` and
#: ``LearningRateDecayOptimizerConstructor``, MMPretrain's ``LearningRateDecayOptimWrapperConstructor``,
#: MMPose's ``LayerDecayOptimWrapperConstructor``.
_LAYER_DECAY = (
    "LayerDecayOptimizerConstructor",
    "LearningRateDecayOptimizerConstructor",
    "LearningRateDecayOptimWrapperConstructor",
    "LayerDecayOptimWrapperConstructor",
)


def constructor_notes(config: Any) -> list[str]:
    """A note for ``optim_wrapper.constructor`` when it decays the LR layer by layer: each parameter group
    then starts from its own LR (``optimizer.lr`` times the rate to the power of its depth from the top),
    and MMEngine logs the first group's (the deepest layer's: usually the smallest)."""
    wrapper = config.read("optim_wrapper")
    name = str(wrapper.get("constructor", "")).rpartition(".")[2] if isinstance(wrapper, dict) else ""
    if name not in _LAYER_DECAY:
        return []
    paramwise = wrapper.get("paramwise_cfg") if isinstance(wrapper.get("paramwise_cfg"), dict) else {}
    rate = paramwise.get("layer_decay_rate", paramwise.get("decay_rate"))
    rate_words = f" (rate {rate})" if rate is not None else ""
    return [
        f"{config.source}: optim_wrapper.constructor {name} decays the LR layer by layer{rate_words}: each layer "
        "trains at optimizer.lr times its own factor; the preview shows optimizer.lr's schedule, and MMEngine's log "
        "shows the first parameter group's"
    ]


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
