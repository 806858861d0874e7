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

``val_interval``, ``val_begin`` and everything else are ignored. The result is a run with
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

from sched_cli.readers import ReaderError
from sched_cli.schedulers.base import ScheduleError
from sched_cli.schedulers.mmengine import parse_param_schedulers

__all__ = ["NAME", "TITLE", "MMEngineConfigError", "recognise", "read", "load_python", "epoch_length"]

NAME = "mmengine"
TITLE = "MMEngine"

_LOOPS = {"EpochBasedTrainLoop": "epoch", "IterBasedTrainLoop": "iter"}
#: Keys of sched's own that an MMEngine YAML may carry (MMEngine ignores unknown top-level keys).
SCHED_KEYS = ("dataset_size", "devices", "dataloader_len")


class MMEngineConfigError(ReaderError):
    """An MMEngine config that sched cannot read; the message names the file and the key."""


def recognise(data: Any) -> bool:
    """Whether a parsed file is an MMEngine config: it has ``param_scheduler`` (no sched key)."""
    return isinstance(data, dict) and "param_scheduler" in data


def read(data: Any, source: str, options: dict[str, Any]) -> dict[str, Any]:
    """The sched spec mapping of an MMEngine config (``options``: ``dataset_size``, ``devices``,
    ``dataloader_len`` and ``lr`` from the command line)."""
    if not isinstance(data, dict):
        raise MMEngineConfigError(f"{source}: an MMEngine config is a mapping of keys, not {type(data).__name__}")
    config = _Config(data, source)
    # sched's own keys, for a file that should say its geometry itself; the command line wins.
    given = options
    options = {**{k: data[k] for k in SCHED_KEYS if data.get(k) is not None}, **options}
    if "_base_" in data:
        raise config.error(
            "_base_",
            "this config inherits from other files, which sched does not merge for a YAML/JSON config: "
            "give the Python config with --from mmengine (MMEngine merges it), or the merged config "
            "(MMEngine's tools/misc/print_config.py --save-path merged.yaml)",
        )
    if "param_scheduler" not in data or data["param_scheduler"] is None:
        raise config.error("param_scheduler", "is required: the LR schedulers, e.g. [{type: LinearLR, end: 500}]")
    try:
        schedulers = parse_param_schedulers(_plain(data["param_scheduler"]))
    except ScheduleError as exc:
        raise MMEngineConfigError(f"{source}: {exc}") from None
    if not schedulers:
        raise config.error("param_scheduler", "has no LR scheduler (only momentum or other parameters)")
    loop, length_key = _train_loop(config)
    duration = config.whole(f"train_cfg.{length_key}")
    devices = _option_count(config, options, "devices", default=1)
    batch = config.read("train_dataloader.batch_size")
    batch = config.whole("train_dataloader.batch_size") if batch is not None else None
    lr = _lr(config, options, devices, batch)
    spec: dict[str, Any] = {
        "trainer": "mmengine",
        "max_duration": f"{duration}{'ep' if loop == 'epoch' else 'ba'}",
        "lr": lr,
        "schedulers": [
            {
                "name": "mmengine",
                "param_scheduler": _plain(data["param_scheduler"]),
                "lr": lr,
                "train_loop": loop,
            }
        ],
    }
    length = _epoch_length(config, options, devices, batch)
    if length is None:
        if loop == "epoch" or any(s.convert_to_iter_based for s in schedulers):
            why = "an EpochBasedTrainLoop" if loop == "epoch" else "convert_to_iter_based"
            raise config.error(
                "train_dataloader",
                f"{why} needs the iterations per epoch, which the config does not say: give --dataset-size N "
                "(samples in the training set) and --devices D, or --dataloader-len",
            )
        if batch is not None:
            spec["batch_size"] = batch * devices
    elif options.get("dataloader_len") is not None or config.read("train_dataloader.drop_last"):
        if "dataset_size" in given and "dataloader_len" not in given:
            # sched's geometry would recount --dataset-size as PyTorch's DistributedSampler does,
            # which drops samples where MMEngine's DefaultSampler pads them.
            raise config.error(
                "train_dataloader.drop_last",
                f"is true: MMEngine pads each device's share before dropping the short batch, which "
                f"--dataset-size cannot say; give --dataloader-len {length} instead",
            )
        spec.update(dataloader_len=length, batch_size=batch * devices if batch is not None else 1)
    else:
        # Without drop_last, MMEngine's DefaultSampler and PyTorch's DistributedSampler agree: let
        # sched's geometry count it (and the short last batch of each epoch).
        spec.update(dataset_size=options["dataset_size"], devices=devices, device_batch_size=batch)
    return spec


def epoch_length(dataset_size: int, devices: int, batch_size: int, drop_last: bool = False) -> int:
    """Iterations per epoch of one device: ``ceil(dataset_size / devices)`` samples (MMEngine's
    ``DefaultSampler``, whose ``round_up`` pads the last device's share), in batches of
    ``batch_size`` (the last one dropped if short, with ``drop_last``)."""
    per_device = -(-dataset_size // devices)
    return per_device // batch_size if drop_last else -(-per_device // batch_size)


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
        config = Config.fromfile(str(path))
        data = config.to_dict() if hasattr(config, "to_dict") else dict(config._cfg_dict.to_dict())
    except Exception as exc:  # noqa: BLE001 - anything the config's own code raises
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise MMEngineConfigError(f"{path}: MMEngine could not read it: {type(exc).__name__}: {message}") from None
    return _plain(data)


# -- the keys sched reads ------------------------------------------------------------------------
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


def _lr(config: _Config, options: dict[str, Any], devices: int, batch: int | None) -> float:
    """The optimizer's LR when the schedulers are built: ``--lr`` if given, else
    ``optim_wrapper.optimizer.lr`` times ``auto_scale_lr``'s ratio when that is enabled."""
    optim = config.read("optim_wrapper")
    if (
        isinstance(optim, dict)
        and optim
        and "optimizer" not in optim
        and all(isinstance(v, dict) for v in optim.values())
    ):
        raise config.error(
            "optim_wrapper",
            "holds several optimizers (" + ", ".join(map(str, optim)) + "); sched previews one LR",
        )
    if options.get("lr") is not None:
        return config.positive("--lr", options["lr"])
    lr = config.read("optim_wrapper.optimizer.lr")
    if lr is None:
        raise config.error("optim_wrapper.optimizer.lr", "is required (the optimizer's LR), or give --lr")
    lr = config.positive("optim_wrapper.optimizer.lr", lr)
    auto = config.read("auto_scale_lr")
    if isinstance(auto, dict) and auto.get("enable", False):
        base = config.whole("auto_scale_lr.base_batch_size")
        if batch is None:
            raise config.error("train_dataloader.batch_size", "is required when auto_scale_lr is enabled")
        # Runner.scale_lr: lr * (world_size * batch_size) / base_batch_size
        lr = lr * (float(devices * batch) / float(base))
    return lr


def _epoch_length(config: _Config, options: dict[str, Any], devices: int, batch: int | None) -> int | None:
    if options.get("dataloader_len") is not None:
        return _option_count(config, options, "dataloader_len")
    size = options.get("dataset_size")
    if size is None:
        return None
    size = _option_count(config, options, "dataset_size")
    if batch is None:
        raise config.error("train_dataloader.batch_size", "is required to count iterations from --dataset-size")
    drop_last = config.read("train_dataloader.drop_last")
    if drop_last is not None and not isinstance(drop_last, bool):
        raise config.error("train_dataloader.drop_last", f"expected true or false, got {drop_last!r}")
    length = epoch_length(size, devices, batch, bool(drop_last))
    if length < 1:
        raise config.error(
            "train_dataloader.drop_last",
            f"with --dataset-size {size} over {devices} device(s) and batch_size {batch}, an epoch has no full batch",
        )
    return length


def _option_count(config: _Config, options: dict[str, Any], key: str, default: int | None = None) -> int:
    value = options.get(key, default)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise MMEngineConfigError(
            f"{config.source}: {key} (--{key.replace('_', '-')}): expected a whole number of at least 1, got {value!r}"
        )
    return int(value)


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

    def positive(self, key: str, value: Any) -> float:
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                raise self.error(key, f"expected a number, got text {value!r}") from None
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or value <= 0:
            raise self.error(key, f"expected a number greater than 0, got {value!r}")
        return float(value)
