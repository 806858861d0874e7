"""A synthetic training State: what a Composer scheduler reads, and nothing else."""

from __future__ import annotations

import numbers
from typing import Any

from sched_cli.time import COUNTED_UNITS, Time, Timestamp, TimeUnit

__all__ = ["State"]


class State:
    """The parts of Composer's ``State`` that schedulers read.

    Args:
        max_duration: Length of the run, a time string or :class:`Time` in ``ep``, ``ba``, ``sp``
            or ``tok``.
        dataloader_len: Batches per epoch (an int, or a ``Time`` in ``ba``); needed whenever a time
            is given in epochs or as a fraction of a run measured in epochs.
        timestamp: Progress of the run; settable, all zeros by default.
        optimizers: Optional optimizers, for :func:`compile_composer_scheduler`.
        batch_size: Samples per batch, where known (Composer's State does not say). Only a
            scheduler that places sample or token times on the batch clock needs it.
        seq_len: Tokens per sample, where known.
        last_batch_size: Samples in the last batch of each epoch, where it is short and known.
    """

    def __init__(
        self,
        max_duration: str | Time,
        dataloader_len: int | Time | None = None,
        timestamp: Timestamp | None = None,
        optimizers: Any = None,
        batch_size: int | None = None,
        seq_len: int | None = None,
        last_batch_size: int | None = None,
    ) -> None:
        self.max_duration = max_duration
        self.dataloader_len = dataloader_len
        self.batch_size = _optional_count("batch_size", batch_size)
        self.seq_len = _optional_count("seq_len", seq_len)
        self.last_batch_size = _optional_count("last_batch_size", last_batch_size)
        self.timestamp = timestamp if timestamp is not None else Timestamp()
        if optimizers is None:
            self.optimizers: list[Any] = []
        elif isinstance(optimizers, (list, tuple)):
            self.optimizers = list(optimizers)
        else:
            self.optimizers = [optimizers]

    @property
    def max_duration(self) -> Time[int]:
        return self._max_duration

    @max_duration.setter
    def max_duration(self, value: str | Time) -> None:
        time = Time.from_input(value)
        if time.unit not in COUNTED_UNITS:
            allowed = ", ".join(u.value for u in COUNTED_UNITS)
            raise ValueError(f"max_duration {time} must be in one of {allowed}, not {time.unit.value!r}")
        self._max_duration = time

    @property
    def dataloader_len(self) -> Time[int] | None:
        """Batches per epoch, as a ``Time`` in ``ba`` (as in Composer), or ``None``."""
        return self._dataloader_len

    @dataloader_len.setter
    def dataloader_len(self, value: int | Time | None) -> None:
        if value is None:
            self._dataloader_len = None
            return
        time = Time.from_input(value, TimeUnit.BATCH)
        if time.unit is not TimeUnit.BATCH:
            raise ValueError(f"dataloader_len {time} must be a number of batches")
        self._dataloader_len = time

    @property
    def timestamp(self) -> Timestamp:
        return self._timestamp

    @timestamp.setter
    def timestamp(self, value: Timestamp) -> None:
        if not isinstance(value, Timestamp):
            raise TypeError(f"timestamp must be a Timestamp, not {type(value).__name__}")
        self._timestamp = value

    def get_elapsed_duration(self) -> Time[float]:
        """The fraction of the run done, as Composer 0.32's ``State.get_elapsed_duration``:
        ``timestamp.get(u) / max_duration`` with ``u`` the unit of ``max_duration``, a ``Time`` in
        ``dur`` (0.0 at the start, 1.0 at the end; the counter is truncated, so mid-epoch
        progress does not count on an epoch run). Composer returns ``None`` when the run has no
        ``max_duration``; here it always has one."""
        return self.timestamp.get(self.max_duration.unit) / self.max_duration

    @property
    def time(self) -> Timestamp:
        """Alias of :attr:`timestamp`, for scheduler code written against older Composer docs."""
        return self._timestamp

    def __repr__(self) -> str:
        return (
            f"State(max_duration={self.max_duration!s}, dataloader_len="
            f"{None if self.dataloader_len is None else int(self.dataloader_len)}, timestamp={self.timestamp!r})"
        )


def _optional_count(name: str, value: int | None) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a whole number of at least 1 or None, not {value!r}")
    return int(value)
