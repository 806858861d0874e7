"""Run geometry: what a training loop sees of its data, from the facts users know.

Users know their dataset size, how many devices they train on and the batch each device takes;
Composer's Trainer sees ``len(dataloader)`` on each rank and counts the samples of every batch
summed over ranks. :class:`Geometry` derives the second from the first, exactly as PyTorch's
``DistributedSampler`` (one per rank) and ``DataLoader`` do:

- the sampler gives each of the ``W`` ranks ``ceil(N / W)`` samples, repeating some to pad the
  last ranks to that length (``W * ceil(N / W) - N`` duplicates an epoch); with
  ``drop_last=True`` it gives each ``floor(N / W)`` and drops the rest;
- the loader cuts a rank's samples into batches of ``B``; the last one is short unless
  ``drop_last=True``, which drops it.

So an epoch is ``dataloader_len`` batches on every rank; each batch holds ``W * B`` samples across
ranks except the last, which holds ``W * last_device_batch``. ``drop_last`` applies to both the
sampler and the loader, as Composer's ``dist.get_sampler(dataset, drop_last=...)`` and LLM
Foundry's loaders pass it.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Geometry", "GeometryError", "BatchSchedule", "samples_before", "first_batch_with_samples"]


def samples_before(
    batch: Any,
    dataloader_len: int | None,
    batch_size: int,
    last_batch_size: int | None = None,
    schedule: BatchSchedule | None = None,
) -> Any:
    """Samples counted before ``batch`` starts (an int, or a numpy array of batches).

    Every batch holds ``batch_size`` samples but the last of each epoch, which holds
    ``last_batch_size``: ``(b // L) * samples_per_epoch + (b % L) * batch_size``. With a
    ``schedule`` (a batch size that changes with the batch index) the schedule counts them.
    """
    if schedule is not None:
        return schedule.samples_before(batch)
    if dataloader_len is None or last_batch_size is None or last_batch_size == batch_size:
        return batch * batch_size
    per_epoch = (dataloader_len - 1) * batch_size + last_batch_size
    return (batch // dataloader_len) * per_epoch + (batch % dataloader_len) * batch_size


def first_batch_with_samples(
    samples: int,
    dataloader_len: int | None,
    batch_size: int,
    last_batch_size: int | None = None,
    schedule: BatchSchedule | None = None,
) -> int:
    """The first batch that starts with at least ``samples`` samples counted (the inverse of
    :func:`samples_before`)."""
    if schedule is not None:
        return schedule.first_batch_with_samples(samples)
    if dataloader_len is None or last_batch_size is None or last_batch_size == batch_size:
        return -(-samples // batch_size)
    per_epoch = (dataloader_len - 1) * batch_size + last_batch_size
    epochs, rest = divmod(samples, per_epoch)
    # Within an epoch, batch j starts at j * batch_size for j < L, and the next epoch at per_epoch.
    return epochs * dataloader_len + min(-(-rest // batch_size), dataloader_len)


class GeometryError(ValueError):
    """Geometry facts that cannot describe a real data loader; the message says which and why."""


@dataclass(frozen=True)
class BatchSchedule:
    """A global batch size that changes with the batch index, piecewise constant (a batch-size ramp).

    Args:
        starts: The first batch of each piece: ``0``, then strictly increasing.
        sizes: The samples of every batch of each piece (across devices), one per start.

    Batch ``b`` of piece ``i`` (``starts[i] <= b < starts[i+1]``) holds ``sizes[i]`` samples, and the
    last piece lasts to the end of the run, so the samples counted before batch ``b`` are
    ``C_i + (b - starts[i]) * sizes[i]`` with ``C_i`` the samples of the pieces before ``i``.
    """

    starts: tuple[int, ...]
    sizes: tuple[int, ...]

    def __post_init__(self) -> None:
        starts, sizes = tuple(self.starts), tuple(self.sizes)
        object.__setattr__(self, "starts", starts)
        object.__setattr__(self, "sizes", sizes)
        if not starts or len(starts) != len(sizes):
            raise GeometryError("a batch schedule needs one size per start, and at least one piece")
        for value in (*starts, *sizes):
            if isinstance(value, bool) or not isinstance(value, numbers.Integral):
                raise GeometryError(f"a batch schedule holds whole numbers, not {value!r}")
        if starts[0] != 0:
            raise GeometryError(f"a batch schedule starts at batch 0, not {starts[0]}")
        if any(b <= a for a, b in zip(starts, starts[1:], strict=False)):
            raise GeometryError(f"a batch schedule's starts must increase strictly, not {list(starts)}")
        if any(size < 1 for size in sizes):
            raise GeometryError(f"batch sizes must be at least 1, not {list(sizes)}")
        before = [0]
        for i in range(1, len(starts)):
            before.append(before[-1] + (starts[i] - starts[i - 1]) * sizes[i - 1])
        object.__setattr__(self, "_before", tuple(before))

    @classmethod
    def of(cls, pieces: Any) -> BatchSchedule:
        """From ``{first_batch: size, ...}`` or ``[[first_batch, size], ...]``, merging equal neighbours."""
        items = sorted(pieces.items()) if isinstance(pieces, dict) else [tuple(p) for p in pieces]
        starts: list[int] = []
        sizes: list[int] = []
        for start, size in items:
            if sizes and sizes[-1] == size:
                continue
            starts.append(start)
            sizes.append(size)
        return cls(tuple(starts), tuple(sizes))

    @property
    def final_size(self) -> int:
        return self.sizes[-1]

    def size_at(self, batch: Any) -> Any:
        """Samples in ``batch`` (an int or an array of batch indices)."""
        i = np.searchsorted(self.starts, batch, side="right") - 1
        sizes = np.asarray(self.sizes, dtype=np.int64)[i]
        return int(sizes) if np.ndim(sizes) == 0 else sizes

    def samples_before(self, batch: Any) -> Any:
        """Samples counted before ``batch`` starts (an int, or a numpy array of batches)."""
        i = np.searchsorted(self.starts, batch, side="right") - 1
        starts = np.asarray(self.starts, dtype=np.int64)[i]
        before = np.asarray(self._before, dtype=np.int64)[i]  # type: ignore[attr-defined]
        sizes = np.asarray(self.sizes, dtype=np.int64)[i]
        if np.ndim(batch) == 0:
            return int(before) + (int(batch) - int(starts)) * int(sizes)  # Python ints: no overflow
        return before + (np.asarray(batch, dtype=np.int64) - starts) * sizes

    def first_batch_with_samples(self, samples: int) -> int:
        """The first batch that starts with at least ``samples`` samples counted."""
        before: tuple[int, ...] = self._before  # type: ignore[attr-defined]
        i = max(0, int(np.searchsorted(before, samples, side="right")) - 1)
        return self.starts[i] + max(0, -(-(samples - before[i]) // self.sizes[i]))

    def as_dict(self) -> dict[int, int]:
        """``{first_batch: size}``, the form a spec's ``batch_schedule`` takes."""
        return dict(zip(self.starts, self.sizes, strict=True))


@dataclass(frozen=True)
class Geometry:
    """A data-parallel run's data loading.

    Args:
        dataset_size: Samples in the training set, ``N``.
        device_batch_size: Samples per batch on each device (rank), ``B``.
        devices: Number of devices (the world size), ``W``. Default 1.
        drop_last: Whether the sampler and the loader drop what does not fill a rank or a batch.
    """

    dataset_size: int
    device_batch_size: int
    devices: int = 1
    drop_last: bool = False

    def __post_init__(self) -> None:
        for name in ("dataset_size", "device_batch_size", "devices"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
                raise GeometryError(f"{name} must be a whole number of at least 1, not {value!r}")
        if not isinstance(self.drop_last, bool):
            raise GeometryError(f"drop_last must be true or false, not {self.drop_last!r}")
        if self.dataloader_len == 0:
            raise GeometryError(
                f"with drop_last, {self.dataset_size:,} samples over {self.devices:,} device(s) leave "
                f"{self.rank_samples:,} per device, less than one batch of {self.device_batch_size:,}: "
                "every epoch would be empty"
            )

    @property
    def rank_samples(self) -> int:
        """Samples each rank's ``DistributedSampler`` yields per epoch (padding included)."""
        n, w = self.dataset_size, self.devices
        if self.drop_last and n % w:
            return -((w - n) // w)  # ceil((N - W) / W), as the sampler computes it
        return -(-n // w)

    @property
    def dataloader_len(self) -> int:
        """Batches per epoch on each rank: ``len(DataLoader)``."""
        if self.drop_last:
            return self.rank_samples // self.device_batch_size
        return -(-self.rank_samples // self.device_batch_size)

    @property
    def batch_size(self) -> int:
        """Samples in a full batch, across all ranks."""
        return self.devices * self.device_batch_size

    @property
    def last_device_batch_size(self) -> int:
        """Samples in each rank's last batch of an epoch."""
        if self.drop_last:
            return self.device_batch_size
        return self.rank_samples - (self.dataloader_len - 1) * self.device_batch_size

    @property
    def last_batch_size(self) -> int:
        """Samples in the last batch of an epoch, across all ranks."""
        return self.devices * self.last_device_batch_size

    @property
    def samples_per_epoch(self) -> int:
        """Samples the Trainer counts in one epoch, across ranks (the sampler's duplicates included)."""
        return (self.dataloader_len - 1) * self.batch_size + self.last_batch_size

    @property
    def padding(self) -> int:
        """Samples the sampler repeats each epoch to give every rank the same number."""
        return max(0, self.devices * self.rank_samples - self.dataset_size)

    @property
    def dropped(self) -> int:
        """Samples of the dataset no rank sees in an epoch (``drop_last``)."""
        return max(0, self.dataset_size - self.samples_per_epoch)

    def describe(self) -> str:
        """One line for ``validate`` and reports."""
        per_batch = f"{self.batch_size:,} samples per batch ({self.devices:,} x {self.device_batch_size:,})"
        last = "" if self.last_batch_size == self.batch_size else f", the last {self.last_batch_size:,}"
        extra = ""
        if self.padding:
            extra = f"; the sampler repeats {self.padding:,} sample(s) an epoch to even out the devices"
        elif self.dropped:
            extra = f"; drop_last leaves out {self.dropped:,} sample(s) an epoch"
        return (
            f"{self.dataset_size:,} samples on {self.devices:,} device(s): {self.dataloader_len:,} batches per epoch "
            f"of {per_batch}{last}; {self.samples_per_epoch:,} samples counted per epoch{extra}"
        )

    def as_dict(self) -> dict[str, Any]:
        """The facts and what follows from them, for JSON metadata."""
        return {
            "dataset_size": self.dataset_size,
            "devices": self.devices,
            "device_batch_size": self.device_batch_size,
            "drop_last": self.drop_last,
            "dataloader_len": self.dataloader_len,
            "batch_size": self.batch_size,
            "last_batch_size": self.last_batch_size,
            "samples_per_epoch": self.samples_per_epoch,
        }
