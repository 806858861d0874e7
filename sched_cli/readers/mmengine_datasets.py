"""How many iterations an MMEngine epoch has: the dataset wrappers, the sampler and the loader.

``len(train_dataloader)`` is what MMEngine's loops and ``convert_to_iter_based`` count an epoch
in. sched cannot load the dataset, so ``--dataset-size N`` gives the number of samples of the
*innermost* dataset (the one whose length only the data can tell), and the wrappers around it are
counted as MMEngine and the downstream packages count them (their ``__len__``):

- ``RepeatDataset`` (MMEngine, MMDetection...): ``times`` x the wrapped length;
- ``ConcatDataset``: the sum of its datasets' lengths; ``N`` is then their total (their parts
  may not be wrapped themselves, which one ``N`` could not describe);
- ``MultiImageMixDataset`` (MMDetection, MMYOLO), ``MultiImageMixDataset``-like wrappers that
  only transform samples: the wrapped length;
- ``ClassBalancedDataset`` (``CBGSDataset`` alike): repeats each image by a factor computed from
  its categories' frequencies, so its length depends on the data: ``N`` is then taken as the
  length of the *balanced* dataset (what ``len(dataset)`` prints), and a note says so;
- any other wrapper (a dataset config with its own ``dataset`` or ``datasets``): refused by name.

Per device, MMEngine's ``DefaultSampler`` (``round_up``, the default) gives
``ceil(N / devices)`` samples (the last device's share padded), and so does MMDetection's
``ClassAwareSampler`` (its ``num_samples``: it draws them class by class, as many as the dataset has);
``InfiniteSampler`` the whole dataset; the ``DataLoader`` (or MMDetection's ``AspectRatioBatchSampler``)
cuts them into batches, the last short batch dropped with ``drop_last`` (floor) or kept (ceil).

A run that never counts an epoch (an ``IterBasedTrainLoop`` whose schedulers count iterations) does not
need any of this: a sampler, batch sampler or wrapper sched cannot count is then no reason to refuse it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "DatasetLength",
    "dataset_length",
    "epoch_length",
    "loader_length",
    "device_batch",
    "drop_last",
    "sampler_name",
    "SAMPLERS",
    "BATCH_SAMPLERS",
    "WRAPPERS",
]

#: Wrappers whose length is the wrapped dataset's.
_SAME_LENGTH = ("MultiImageMixDataset",)
#: Wrappers whose length depends on the data (repeat factors computed from annotations).
_DATA_DEPENDENT = ("ClassBalancedDataset", "CBGSDataset")
WRAPPERS = ("RepeatDataset", "ConcatDataset", *_SAME_LENGTH, *_DATA_DEPENDENT)
#: Samplers whose per-device count sched knows: ``DefaultSampler`` and MMDetection's ``ClassAwareSampler``
#: (padded share), ``InfiniteSampler`` (all).
SAMPLERS = ("DefaultSampler", "InfiniteSampler", "ClassAwareSampler")
BATCH_SAMPLERS = ("AspectRatioBatchSampler",)


class DatasetError(ValueError):
    """A dataset config whose length sched cannot count: ``key`` names where, ``message`` why."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}")
        self.key = key
        self.message = message


@dataclass
class DatasetLength:
    """How the training set's length is counted from ``--dataset-size`` (``factor`` x it)."""

    factor: int = 1
    #: The wrappers from outside in, as ``type(args)``, for the note.
    wrappers: list[str] = field(default_factory=list)
    #: A data-dependent wrapper whose own length ``--dataset-size`` gives.
    balanced: str | None = None

    def describe(self, size: int) -> str:
        if not self.wrappers:
            return f"--dataset-size {size} is the training set's length"
        inner = (
            f"the {self.balanced}'s own length (its repeat factors depend on the data)"
            if self.balanced
            else ("the innermost dataset's length")
        )
        return (
            f"--dataset-size {size} is {inner}; through {' > '.join(self.wrappers)} an epoch draws from "
            f"{size * self.factor} samples"
        )


def _type(value: Any) -> str:
    if isinstance(value, type):
        return value.__name__
    return str(value).rpartition(".")[2]


def dataset_length(dataset: Any, where: str = "train_dataloader.dataset") -> DatasetLength:
    """The wrappers of a ``train_dataloader.dataset`` config and the factor they apply."""
    result = DatasetLength()
    node, key = dataset, where
    while isinstance(node, dict) and ("dataset" in node or "datasets" in node):
        name = _type(node.get("type", "?"))
        if name == "RepeatDataset":
            times = node.get("times")
            if isinstance(times, bool) or not isinstance(times, int) or times < 1:
                raise DatasetError(f"{key}.times", f"expected a whole number of at least 1, got {times!r}")
            result.factor *= times
            result.wrappers.append(f"RepeatDataset(times={times})")
        elif name == "ConcatDataset":
            parts = node.get("datasets")
            if not isinstance(parts, (list, tuple)) or not parts:
                raise DatasetError(f"{key}.datasets", f"expected a non-empty list of datasets, got {parts!r}")
            for i, part in enumerate(parts):
                if isinstance(part, dict) and ("dataset" in part or "datasets" in part):
                    raise DatasetError(
                        f"{key}.datasets[{i}]",
                        f"{_type(part.get('type', '?'))} inside a ConcatDataset: one --dataset-size cannot say "
                        "each part's length; give --dataloader-len (len(train_dataloader)) instead",
                    )
            result.wrappers.append(f"ConcatDataset({len(parts)} datasets, their total)")
            return result
        elif name in _SAME_LENGTH:
            result.wrappers.append(name)
        elif name in _DATA_DEPENDENT:
            result.wrappers.append(name)
            result.balanced = name
            return result  # --dataset-size is its own length
        else:
            raise DatasetError(
                f"{key}.type",
                f"{node.get('type')!r} wraps another dataset and may change an epoch's length, which sched does not "
                f"model (it counts {', '.join(WRAPPERS)}); give --dataloader-len (len(train_dataloader))",
            )
        node, key = node.get("dataset"), f"{key}.dataset"
    return result


def epoch_length(
    dataset_size: int, devices: int, batch_size: int, drop_last: bool = False, sampler: str = "DefaultSampler"
) -> int:
    """Iterations per epoch of one device: its samples (``ceil(dataset_size / devices)`` for
    ``DefaultSampler``, whose ``round_up`` pads the last device's share; all of them for
    ``InfiniteSampler``) in batches of ``batch_size``, the last one dropped if short with ``drop_last``."""
    per_device = dataset_size if sampler == "InfiniteSampler" else -(-dataset_size // devices)
    return per_device // batch_size if drop_last else -(-per_device // batch_size)


# -- what a config says of its loader (``config``: the reader's dotted view of the file) ---------------
def device_batch(config: Any, options: dict[str, Any], devices: int) -> int | None:
    """``train_dataloader.batch_size``, or ``--device-batch-size`` (which wins), or ``--batch-size``
    split over the devices."""
    if options.get("device_batch_size") is not None:
        return config.count(options, "device_batch_size")
    if options.get("batch_size") is not None:
        total = config.count(options, "batch_size")
        if total % devices:
            raise config.error(
                "--batch-size",
                f"{total} does not split over {devices} devices; "
                "MMEngine's batch_size is per device: give --device-batch-size",
            )
        return total // devices
    if config.read("train_dataloader.batch_size") is None:
        return None
    return config.whole("train_dataloader.batch_size")


def drop_last(config: Any, options: dict[str, Any]) -> bool:
    if options.get("drop_last") is not None:
        return bool(options["drop_last"])
    value = config.read("train_dataloader.drop_last")
    if value is not None and not isinstance(value, bool):
        raise config.error("train_dataloader.drop_last", f"expected true or false, got {value!r}")
    return bool(value)


def sampler_name(config: Any) -> str:
    sampler = config.read("train_dataloader.sampler")
    name = _type(sampler.get("type", "DefaultSampler")) if isinstance(sampler, dict) else "DefaultSampler"
    return name


def _wrapped(config: Any, sampler: str) -> DatasetLength:
    """The dataset wrappers of a loader sched can count; a ``DatasetError`` naming the sampler, batch
    sampler or wrapper that it cannot."""
    if sampler not in SAMPLERS:
        raise DatasetError(
            "train_dataloader.sampler.type",
            f"{sampler!r}: sched counts an epoch for {', '.join(SAMPLERS)}; "
            "give --dataloader-len (len(train_dataloader))",
        )
    batch_sampler = config.read("train_dataloader.batch_sampler")
    if isinstance(batch_sampler, dict) and _type(batch_sampler.get("type", "")) not in BATCH_SAMPLERS:
        raise DatasetError(
            "train_dataloader.batch_sampler.type",
            f"{batch_sampler.get('type')!r} may batch in its own way; give --dataloader-len (len(train_dataloader))",
        )
    return dataset_length(config.read("train_dataloader.dataset"))


def loader_length(
    config: Any, options: dict[str, Any], devices: int, batch: int | None, needed: bool, notes: list[str]
) -> tuple[int | None, int | None]:
    """``len(train_dataloader)`` and the training set's length (``None`` when not from ``--dataset-size``,
    or when nothing counts an epoch and sched cannot count this loader's)."""
    if options.get("dataloader_len") is not None:
        return config.count(options, "dataloader_len"), None
    if options.get("dataset_size") is None:
        return None, None
    size = config.count(options, "dataset_size")
    if batch is None:
        raise config.error(
            "train_dataloader.batch_size",
            "is required to count iterations from --dataset-size (or give --device-batch-size)",
        )
    sampler = sampler_name(config)
    try:
        wrapped = _wrapped(config, sampler)
    except DatasetError as exc:
        if not needed:
            return None, None  # nothing counts an epoch: how the loader would count one does not matter
        raise config.error(exc.key, exc.message) from None
    if wrapped.wrappers and needed:
        notes.append(f"{config.source}: train_dataloader.dataset: {wrapped.describe(size)}")
    total = size * wrapped.factor
    length = epoch_length(total, devices, batch, drop_last(config, options), sampler)
    if length < 1:
        raise config.error(
            "train_dataloader.drop_last",
            f"with {total} samples over {devices} device(s) and batch_size {batch}, an epoch has no full batch",
        )
    return length, total
