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

__all__ = ["Geometry", "GeometryError", "samples_before", "first_batch_with_samples"]


def samples_before(batch: Any, dataloader_len: int | None, batch_size: int, last_batch_size: int | None = None) -> Any:
    """Samples counted before ``batch`` starts (an int, or a numpy array of batches).

    Every batch holds ``batch_size`` samples but the last of each epoch, which holds
    ``last_batch_size``: ``(b // L) * samples_per_epoch + (b % L) * batch_size``.
    """
    if dataloader_len is None or last_batch_size is None or last_batch_size == batch_size:
        return batch * batch_size
    per_epoch = (dataloader_len - 1) * batch_size + last_batch_size
    return (batch // dataloader_len) * per_epoch + (batch % dataloader_len) * batch_size


def first_batch_with_samples(
    samples: int, dataloader_len: int | None, batch_size: int, last_batch_size: int | None = None
) -> int:
    """The first batch that starts with at least ``samples`` samples counted (the inverse of
    :func:`samples_before`)."""
    if dataloader_len is None or last_batch_size is None or last_batch_size == batch_size:
        return -(-samples // batch_size)
    per_epoch = (dataloader_len - 1) * batch_size + last_batch_size
    epochs, rest = divmod(samples, per_epoch)
    # Within an epoch, batch j starts at j * batch_size for j < L, and the next epoch at per_epoch.
    return epochs * dataloader_len + min(-(-rest // batch_size), dataloader_len)


class GeometryError(ValueError):
    """Geometry facts that cannot describe a real data loader; the message says which and why."""


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
