"""Read MMEngine configs (MMDetection, MMPretrain, MMSegmentation, ...) as sched specs.

An MMEngine config describes the whole training run; sched reads the keys that decide the
learning rate and ignores the rest (``model``, ``val_cfg``, ``default_hooks``, ...):

===============================================  ================================================
MMEngine                                         sched spec
===============================================  ================================================
``param_scheduler`` (one mapping or a list)      ``schedulers: [{name: mmengine, param_scheduler,
                                                 lr, train_loop}]``: the whole chain, replayed by
                                                 :class:`~sched_cli.schedulers.mmengine.MMEngineParamSchedulers`
``train_cfg``: ``type: EpochBasedTrainLoop`` or  ``max_duration: <max_epochs>ep``
``by_epoch: true``, with ``max_epochs``
``train_cfg``: ``type: IterBasedTrainLoop`` or   ``max_duration: <max_iters>ba``
``by_epoch: false``, with ``max_iters``
``optim_wrapper.optimizer.lr``                   ``lr`` (times ``auto_scale_lr``'s ratio when it
                                                 is enabled: devices x batch size / base);
                                                 ``--lr`` replaces the result
``train_dataloader.batch_size`` (per device)     ``batch_size`` = it x ``--devices``
``--dataset-size``, ``--devices`` (or the       ``dataloader_len`` (iterations per epoch), as
file's ``dataset_size``, ``devices``: sched's    MMEngine's ``DefaultSampler`` and PyTorch's
own keys; ``dataloader_len`` gives it outright)  ``DataLoader`` count them: per device
                                                 ``ceil(dataset_size / devices)`` samples, in
                                                 batches (``train_dataloader.drop_last``)
===============================================  ================================================

Also: ``default_hooks.param_scheduler`` of MMYOLO (``YOLOv5ParamSchedulerHook``,
``PPYOLOEParamSchedulerHook``: :mod:`sched_cli.schedulers.mmyolo`), the dataset wrappers
(:mod:`sched_cli.readers.mmengine_datasets`), an optimizer without ``lr`` (PyTorch's default for
its class), several optimizers with the same schedule (a GAN's), ``auto_scale_lr`` (``enable``, or
``--auto-scale-lr`` as the OpenMMLab launchers have it). Every other key is accounted for:
:data:`KEYS` are read, :data:`IRRELEVANT` cannot change the LR, and any other top-level key is a
variable of the config file, which the Runner never reads (it counts where the config used it). The result is a run with
``trainer: mmengine``: one row per iteration, each with the LR it trains with.

A YAML or JSON file is recognised by its ``param_scheduler`` key (or read with
``--from mmengine``). A Python config file (``.py``, with ``_base_`` inheritance) is code, and
reading it runs it: sched does so only when the file is named on the command line *and*
``--from mmengine`` is given, and only with MMEngine installed (``pip install
'sched-cli[mmengine]'``), whose own ``Config.fromfile`` reads it.
"""

from __future__ import annotations

import math
import numbers
from pathlib import Path
from typing import Any

from sched_cli.readers import ReaderError, Reading
from sched_cli.readers.mmengine_datasets import device_batch, drop_last, epoch_length, loader_length, sampler_name
from sched_cli.readers.mmengine_keys import SECTION_KEYS, constructor_notes, custom_hook_notes, variable_notes
from sched_cli.readers.mmengine_keys import accounted as _accounted
from sched_cli.schedulers.base import ScheduleError
from sched_cli.schedulers.mmengine import DOWNSTREAM, SkippedScheduler, parse_param_schedulers
from sched_cli.schedulers.mmyolo import HOOKS

__all__ = [
    "NAME",
    "TITLE",
    "TRAINER",
    "REFERENCE",
    "CONSUMES",
    "KEYS",
    "IRRELEVANT",
    "MMEngineConfigError",
    "DEFAULT_LR",
    "recognise",
    "read",
    "load_python",
    "epoch_length",
]

NAME = "mmengine"
TITLE = "MMEngine"
TRAINER = "mmengine"
REFERENCE = "mmengine"
#: Options its files have no use for (the reader contract refuses them).
NOT_FOR = {
    "step_every": (
        "each param_scheduler entry steps by its own by_epoch (true: after every epoch, false: after every "
        "iteration); set by_epoch in the file"
    )
}
CONSUMES = (
    "dataset_size",
    "devices",
    "device_batch_size",
    "batch_size",
    "drop_last",
    "dataloader_len",
    "lr",
    "auto_scale_lr",
)
_LOOPS = {"EpochBasedTrainLoop": "epoch", "IterBasedTrainLoop": "iter"}
#: Keys of sched's own that an MMEngine YAML may carry (MMEngine ignores unknown top-level keys).
SCHED_KEYS = ("dataset_size", "devices", "dataloader_len")
#: Top-level keys read (``custom_imports`` and ``runner_type`` only to say what they do).
KEYS = (
    "param_scheduler",
    "train_cfg",
    "optim_wrapper",
    "train_dataloader",
    "auto_scale_lr",
    "default_hooks",
    "custom_hooks",
    "custom_imports",
    "runner_type",
    "_base_",
    *SCHED_KEYS,
)
#: Top-level keys of MMEngine's Runner (and OpenMMLab's configs) that do not change the LR or
#: the number of iterations.
IRRELEVANT = (
    "model",
    "data_preprocessor",
    "train_pipeline",
    "val_pipeline",
    "test_pipeline",
    "val_dataloader",
    "test_dataloader",
    "val_evaluator",
    "test_evaluator",
    "val_cfg",
    "test_cfg",
    "visualizer",
    "vis_backends",
    "env_cfg",
    "log_level",
    "log_processor",
    "load_from",
    "resume",
    "work_dir",
    "launcher",
    "randomness",
    "default_scope",
    "experiment_name",
    "dataset_type",
    "data_root",
    "backend_args",
    "file_client_args",
    "tta_model",
    "tta_pipeline",
    "metainfo",
    # Variables of OpenMMLab's configs that only the data or model side reads: MMYOLO's validation batch-shape
    # policy, the epochs before RTMDet's / RTMPose's PipelineSwitchHook changes the data pipeline.
    "batch_shapes_cfg",
    "stage2_num_epochs",
    "qfl_beta",  # RTMDet's QualityFocalLoss beta, a model variable
    "img_ratios",  # MMSegmentation's test-time-augmentation scales, expanded into tta_pipeline
)
#: Runner keys: a top-level key outside these is a variable of the Python config, never read by the Runner.
_TOP_READ = KEYS
_TOP_KEYS = set(KEYS) | set(IRRELEVANT) | {"cfg"}
# The keys of the sections read count too (the contract checks them where they are: accounted()).
KEYS = (*KEYS, *(k for name, keys in SECTION_KEYS.items() if ":" not in name for k in keys))
IRRELEVANT = (*IRRELEVANT, *(k for name, keys in SECTION_KEYS.items() if ":" in name for k in keys if k not in KEYS))


def accounted(data: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Where the keys to account for are: see :func:`sched_cli.readers.mmengine_keys.accounted`."""
    return _accounted(data, _TOP_KEYS, _TOP_READ)


#: PyTorch's default ``lr`` of each ``torch.optim`` class (torch 2.x; checked against the installed
#: torch in tests): what an MMEngine optimizer config without ``lr`` trains with.
DEFAULT_LR = {
    "Adadelta": 1.0,
    "Adafactor": 1e-2,
    "Adagrad": 1e-2,
    "Adam": 1e-3,
    "AdamW": 1e-3,
    "Adamax": 2e-3,
    "ASGD": 1e-2,
    "LBFGS": 1.0,
    "NAdam": 2e-3,
    "RAdam": 1e-3,
    "RMSprop": 1e-2,
    "Rprop": 1e-2,
    "SGD": 1e-3,
    "SparseAdam": 1e-3,
}


class MMEngineConfigError(ReaderError):
    """An MMEngine config that sched cannot read; the message names the file and the key."""


def recognise(data: Any) -> bool:
    """Whether a parsed file is an MMEngine config: it has ``param_scheduler``, or MMYOLO's
    ``default_hooks.param_scheduler`` hook (no sched key)."""
    if not isinstance(data, dict):
        return False
    hook = (
        (data.get("default_hooks") or {}).get("param_scheduler")
        if isinstance(data.get("default_hooks"), dict)
        else None
    )
    return "param_scheduler" in data or (isinstance(hook, dict) and _type(hook.get("type", "")) in HOOKS)


def read(data: Any, source: str, options: dict[str, Any]) -> Reading:
    """What sched makes of an MMEngine config (``options``: ``dataset_size``, ``devices``,
    ``device_batch_size``, ``drop_last``, ``dataloader_len``, ``lr`` and ``auto_scale_lr`` from
    the command line)."""
    if not isinstance(data, dict):
        raise MMEngineConfigError(f"{source}: an MMEngine config is a mapping of keys, not {type(data).__name__}")
    config = _Config(data, source)
    options = {**{k: data[k] for k in SCHED_KEYS if data.get(k) is not None}, **options}
    notes: list[str] = []
    facts: list[str] = []
    _refuse_foreign(config)
    hook = _hook(config)
    skipped: list[SkippedScheduler] = []
    chains = _chains(config, hook, skipped)
    notes += [s.note for s in skipped]
    if data.get("custom_imports"):
        modules = (data["custom_imports"] or {}).get("imports") if isinstance(data["custom_imports"], dict) else None
        notes.append(
            f"{source}: custom_imports ({_listed(modules)}) not imported: sched reads the schedule without them "
            f"(it replays {', '.join(DOWNSTREAM)} from their source); a scheduler they register is refused by name"
        )
    loop, length_key = _train_loop(config)
    duration = config.whole(f"train_cfg.{length_key}")
    devices = config.count(options, "devices", default=1)
    batch = device_batch(config, options, devices)
    lrs = _lrs(config, options, devices, batch, facts)
    shown = _one_schedule(config, chains, lrs, notes)
    lr, param_scheduler = lrs[shown], chains[shown]
    if hook is not None:
        scheduler: dict[str, Any] = {"name": "mmyolo_hook", "hook": hook, "lr": lr, "train_loop": loop}
        if _type(hook.get("type")) == "YOLOv5ParamSchedulerHook":
            notes.append(
                f"{source}: default_hooks.param_scheduler YOLOv5ParamSchedulerHook: the LR shown is the weights' "
                f"(parameter group 0); biases warm up from warmup_bias_lr={hook.get('warmup_bias_lr', 0.1)} instead "
                "of 0 (group 2)"
            )
    else:
        if param_scheduler is None:
            facts.append("param_scheduler: none (or only non-LR schedulers): MMEngine keeps the LR constant")
            param_scheduler = [{"type": "ConstantLR", "factor": 1.0, "by_epoch": False}]
        scheduler = {"name": "mmengine", "param_scheduler": param_scheduler, "lr": lr, "train_loop": loop}
    spec: dict[str, Any] = {
        "trainer": "mmengine",
        "max_duration": f"{duration}{'ep' if loop == 'epoch' else 'ba'}",
        "lr": lr,
        "schedulers": [scheduler],
    }
    needs_length = loop == "epoch" or hook is not None or _converts(param_scheduler)
    length, size = loader_length(config, options, devices, batch, needs_length, notes)
    if length is None:
        if needs_length:
            why = "an EpochBasedTrainLoop" if loop == "epoch" else "convert_to_iter_based"
            raise config.error(
                "train_dataloader",
                f"{why} needs the iterations per epoch, which the config does not say: give --dataset-size N "
                "(samples in the training set) and --devices D, or --dataloader-len",
            )
        if batch is not None:
            spec["batch_size"] = batch * devices
    elif size is None or drop_last(config, options) or sampler_name(config) == "InfiniteSampler":
        # sched's own geometry would count --dataset-size as PyTorch's DistributedSampler drops it;
        # MMEngine's DefaultSampler pads each device's share first: give the count itself.
        spec.update(dataloader_len=length, batch_size=batch * devices if batch is not None else 1)
    else:
        # Without drop_last, DefaultSampler and DistributedSampler agree: let sched's geometry
        # count it (and the short last batch of each epoch).
        spec.update(dataset_size=size, devices=devices, device_batch_size=batch)
    notes += variable_notes(data, source, _TOP_KEYS, _TOP_READ, (*KEYS, *IRRELEVANT)) + custom_hook_notes(config)
    notes += constructor_notes(config)
    return Reading(spec, notes, facts)


def load_python(path: str | Path) -> dict[str, Any]:
    """Read a Python config with MMEngine's own ``Config.fromfile`` (``_base_`` included).

    This runs the file: call it only for a file the user named with ``--from mmengine``.
    """
    try:
        from mmengine.config import Config
    except ImportError:
        raise MMEngineConfigError(
            f"{path}: a Python config is read by MMEngine itself, which is not installed; "
            "pip install 'sched-cli[mmengine]' (or give the config as YAML/JSON)"
        ) from None
    try:
        # custom_imports register a model's or a package's modules; sched replays only the schedulers it knows
        # (read() names the imports), so a config reads where the training environment's packages are absent.
        config = Config.fromfile(str(path), import_custom_modules=False)
        data = config.to_dict() if hasattr(config, "to_dict") else dict(config._cfg_dict.to_dict())
    except Exception as exc:  # noqa: BLE001 - anything the config's own code raises
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise MMEngineConfigError(f"{path}: MMEngine could not read it: {type(exc).__name__}: {message}") from None
    return _plain(data)


# -- the keys sched reads ------------------------------------------------------------------------
def _listed(values: Any) -> str:
    if isinstance(values, (list, tuple)):
        return ", ".join(map(str, values))
    return str(values)


def _refuse_foreign(config: _Config) -> None:
    """What another loader or runner would have to do first: ``_base_``, an MMCV 1.x config,
    a custom runner."""
    data = config.data
    if "_base_" in data:
        raise config.error(
            "_base_",
            "this config inherits from other files, which sched does not merge for a YAML/JSON config: "
            "give the Python config with --from mmengine (MMEngine merges it), or the merged config "
            "(MMEngine's tools/misc/print_config.py --save-path merged.yaml)",
        )
    if "lr_config" in data and data.get("param_scheduler") is None:
        raise config.error(
            "lr_config",
            "is MMCV 1.x's (OpenMMLab 1.x: runner, optimizer, lr_config); sched reads MMEngine configs "
            "(OpenMMLab 2.x: param_scheduler, train_cfg, optim_wrapper); migrate it as MMEngine's guide says",
        )
    runner = data.get("runner_type")
    if runner is not None and _type(runner) != "Runner":
        raise config.error(
            "runner_type",
            f"{runner!r}: a custom runner may train in its own way; sched replays MMEngine's Runner",
        )


def _hook(config: _Config) -> dict[str, Any] | None:
    """MMYOLO's LR hook in ``default_hooks.param_scheduler``, or ``None`` for MMEngine's own."""
    hook = config.read("default_hooks.param_scheduler")
    if hook is None:
        return None
    if not isinstance(hook, dict):
        raise config.error("default_hooks.param_scheduler", f"expected a mapping with a type, got {hook!r}")
    name = _type(hook.get("type", "ParamSchedulerHook"))
    if name == "ParamSchedulerHook":
        return None
    if name not in HOOKS:
        raise config.error(
            "default_hooks.param_scheduler.type",
            f"{hook.get('type')!r} replaces MMEngine's ParamSchedulerHook and sets the LR its own way; sched "
            f"replays ParamSchedulerHook and MMYOLO's {' and '.join(HOOKS)}",
        )
    if config.read("param_scheduler") is not None:
        raise config.error(
            "param_scheduler",
            f"is given with default_hooks.param_scheduler {name}, which also sets the LR; sched does not replay both",
        )
    return _plain(hook)


def _scoped(value: Any, scope: Any) -> Any:
    """The schedulers with the config's ``default_scope`` as their ``_scope_`` where they name none: the
    registry the Runner builds them from (MMPose's ``ConstantLR`` is not MMEngine's)."""
    if not isinstance(scope, str):
        return value
    if isinstance(value, dict):
        if "type" in value:
            return {"_scope_": scope, **value}
        return {k: _scoped(v, scope) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_scoped(v, scope) for v in value]
    return value


def _chains(config: _Config, hook: Any, skipped: list[SkippedScheduler]) -> dict[str, list[Any] | None]:
    """Each optimizer's ``param_scheduler`` list (``None``: no LR scheduler), checked; the key is the
    optimizer's name (``""`` for a single optimizer)."""
    names = _optimizer_names(config)
    value = _scoped(_plain(config.read("param_scheduler")), config.read("default_scope"))
    if hook is not None or value is None or value == []:
        return dict.fromkeys(names)
    per_optimizer = isinstance(value, dict) and "type" not in value and names != [""]
    chains: dict[str, list[Any] | None] = {}
    for name in names:
        chain = value[name] if per_optimizer else value
        if per_optimizer and name not in value:
            raise config.error("param_scheduler", f"has no schedulers for optimizer {name!r} (MMEngine's KeyError)")
        try:
            kept = parse_param_schedulers(chain, skipped if not chains else None)
        except ScheduleError as exc:
            where = f"param_scheduler.{name}" if per_optimizer else "param_scheduler"
            raise MMEngineConfigError(f"{config.source}: {str(exc).replace('param_scheduler', where, 1)}") from None
        chain = [chain] if isinstance(chain, dict) else list(chain)
        chains[name] = [chain[c.index] for c in kept] if kept else None
    return chains


def _optimizer_names(config: _Config) -> list[str]:
    """``[""]`` for one optimizer, else the names of ``optim_wrapper``'s optimizers (a GAN's
    ``generator``, ``discriminator``: MMEngine's ``MultiOptimWrapperConstructor``)."""
    optim = config.read("optim_wrapper")
    if isinstance(optim, dict) and "optimizer" not in optim:
        several = [k for k, v in optim.items() if isinstance(v, dict) and "optimizer" in v]
        if several:
            return several
    return [""]


def _lrs(
    config: _Config, options: dict[str, Any], devices: int, batch: int | None, facts: list[str]
) -> dict[str, float]:
    """Each optimizer's LR when the schedulers are built: ``--lr`` if given, else its ``lr`` (or
    PyTorch's default for its class) times ``auto_scale_lr``'s ratio when that is enabled."""
    lrs = {}
    for name in _optimizer_names(config):
        key = f"optim_wrapper.{name}.optimizer" if name else "optim_wrapper.optimizer"
        if options.get("lr") is not None:
            lrs[name] = config.positive("--lr", options["lr"])
            continue
        optimizer = config.read(key)
        if not isinstance(optimizer, dict):
            raise config.error(f"{key}.lr", "is required (the optimizer's LR), or give --lr")
        lr = optimizer.get("lr")
        if lr is None:
            kind = _type(optimizer.get("type", ""))
            if kind not in DEFAULT_LR:
                raise config.error(
                    f"{key}.lr",
                    f"is not given, and sched knows no default LR for {optimizer.get('type')!r} (it knows "
                    "torch.optim's); give lr in the config or --lr",
                )
            lr = DEFAULT_LR[kind]
            facts.append(f"{key}.lr: not given: {kind}'s default in PyTorch 2.x, {lr:g}")
        lrs[name] = config.positive(f"{key}.lr", lr) * _auto_scale(config, options, devices, batch, facts)
    return lrs


def _auto_scale(config: _Config, options: dict[str, Any], devices: int, batch: int | None, facts: list[str]) -> float:
    """``Runner.scale_lr``'s ratio: ``devices x batch_size / base_batch_size`` when ``enable``
    (or ``--auto-scale-lr``, which needs ``auto_scale_lr`` with both keys, as the launchers do)."""
    auto = config.read("auto_scale_lr")
    if options.get("auto_scale_lr"):
        if not isinstance(auto, dict) or "enable" not in auto or "base_batch_size" not in auto:
            raise config.error(
                "auto_scale_lr",
                "--auto-scale-lr needs auto_scale_lr with enable and base_batch_size in the config, as "
                "OpenMMLab's tools/train.py --auto-scale-lr does (it raises otherwise)",
            )
        auto = {**auto, "enable": True}
    if not isinstance(auto, dict) or not auto.get("enable", False):
        return 1.0
    base = config.whole("auto_scale_lr.base_batch_size")
    if batch is None:
        raise config.error(
            "train_dataloader.batch_size", "is required when auto_scale_lr is enabled (or give --device-batch-size)"
        )
    ratio = float(devices * batch) / float(base)
    facts.append(f"auto_scale_lr: LR x {devices} x {batch} / {base} = x {ratio:g}")
    return ratio


def _one_schedule(config: _Config, chains: dict[str, Any], lrs: dict[str, float], notes: list[str]) -> str:
    """The optimizer whose schedule is shown: the only one, or the first of several whose LR
    schedules are the same (else a refusal naming two that differ)."""
    names = list(chains)
    first = names[0]
    for other in names[1:]:
        if (lrs[other], chains[other]) != (lrs[first], chains[first]):
            why = "LR" if lrs[other] != lrs[first] else "param_scheduler"
            raise config.error(
                "optim_wrapper",
                f"optimizers {first!r} (lr {lrs[first]:g}) and {other!r} (lr {lrs[other]:g}) have different LR "
                f"schedules (their {why} differs); sched previews one: keep one of them in a copy of the config",
            )
    if len(names) > 1:
        notes.append(
            f"{config.source}: optim_wrapper has {len(names)} optimizers ({', '.join(names)}) with the same LR "
            f"schedule, shown once (as {first!r})"
        )
    return first


def _converts(param_scheduler: Any) -> bool:
    items = [param_scheduler] if isinstance(param_scheduler, dict) else param_scheduler or []
    return any(isinstance(s, dict) and s.get("convert_to_iter_based") for s in items)


def _train_loop(config: _Config) -> tuple[str, str]:
    train_cfg = config.read("train_cfg")
    if not isinstance(train_cfg, dict):
        raise config.error(
            "train_cfg",
            "is required: e.g. {type: EpochBasedTrainLoop, max_epochs: 12} or {by_epoch: false, max_iters: 90000}",
        )
    if "type" in train_cfg:
        if "by_epoch" in train_cfg:
            raise config.error("train_cfg", "has both type and by_epoch; MMEngine accepts only one of them")
        name = _type(train_cfg["type"])
        if name not in _LOOPS:
            raise config.error(
                "train_cfg.type",
                f"{train_cfg['type']!r}: sched replays MMEngine's EpochBasedTrainLoop and IterBasedTrainLoop",
            )
        loop = _LOOPS[name]
    else:
        by_epoch = train_cfg.get("by_epoch")
        if not isinstance(by_epoch, bool):
            raise config.error(
                "train_cfg.by_epoch", f"expected true or false (MMEngine requires it without a type), got {by_epoch!r}"
            )
        loop = "epoch" if by_epoch else "iter"
    return loop, "max_epochs" if loop == "epoch" else "max_iters"


def _type(value: Any) -> str:
    if isinstance(value, type):
        return value.__name__
    return str(value).rpartition(".")[2]


def _plain(value: Any) -> Any:
    """Plain mappings, lists and scalars (a Python config's ConfigDicts, tuples and classes)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, type):
        return value.__name__
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    name = getattr(value, "_module", None) or getattr(value, "__name__", None)  # a lazy import
    return _type(name) if isinstance(name, str) else str(value)


class _Config:
    """Dotted reads of a parsed config, with errors that name the file and the key."""

    def __init__(self, data: dict[str, Any], source: str) -> None:
        self.data = data
        self.source = source

    def error(self, key: str, message: str) -> MMEngineConfigError:
        return MMEngineConfigError(f"{self.source}: {key}: {message}")

    def read(self, key: str) -> Any:
        node: Any = self.data
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                return None
            node = node[part]
        return node

    def whole(self, key: str) -> int:
        value = self.read(key)
        if value is None:
            raise self.error(key, "is required")
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise self.error(key, f"expected a whole number of at least 1, got {value!r}")
        return value

    def count(self, options: dict[str, Any], key: str, default: int | None = None) -> int:
        """A count from the command line (or sched's own key): a whole number of at least 1."""
        value = options.get(key, default)
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
            option = f"--{key.replace('_', '-')}"
            raise MMEngineConfigError(
                f"{self.source}: {key} ({option}): expected a whole number of at least 1, got {value!r}"
            )
        return int(value)

    def positive(self, key: str, value: Any) -> float:
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                raise self.error(key, f"expected a number, got text {value!r}") from None
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or value <= 0:
            raise self.error(key, f"expected a number greater than 0, got {value!r}")
        return float(value)
