"""What a training run is, for the simulator: its length, geometry, schedulers and base LR
(:class:`Run`), checked when it is made, and the counters of many of its timestamps at once
(:class:`Timeline`). :mod:`sched_cli.simulator` turns a run into rows.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from sched_cli.geometry import BatchSchedule, Geometry, samples_before
from sched_cli.schedulers.base import RunShape, ScheduleError
from sched_cli.state import State
from sched_cli.time import COUNTED_UNITS, Time, Timestamp, TimeUnit

__all__ = [
    "Run",
    "Timeline",
    "SimulationError",
    "TRAINERS",
    "hf_scaled_length",
    "scheduler_steps",
    "require_count",
    "require_ssr",
]

StepEvery = Literal["batch", "epoch"]

#: Training loops whose stepping ``mode="trainer"`` replays: Composer's Trainer (schedulers
#: step after each batch, one batch late; see the module docstring), Hugging Face's (``LambdaLR``
#: stepped after each optimizer update: update *k* trains with the factor at *k*), timm's
#: train.py (whose schedulers' formulas already give what each update trains with) and MMEngine's
#: Runner (whose parameter schedulers are replayed as its hook steps them), Megatron-LM's
#: ``training.py`` (whose scheduler, stepped by the samples of each successful iteration, gives the
#: LR of the next: the ``megatron`` formula already is that replay) and DeepSpeed's engine (its
#: scheduler stepped after each optimizer update, as Hugging Face's: update *k* trains with the LR
#: after *k* steps).
TRAINERS = ("composer", "hf", "timm", "mmengine", "megatron", "deepspeed")
# Counters are int64: refuse runs whose token count could overflow it.
_INT64_LIMIT = 2**62


class SimulationError(ScheduleError):
    """A run that cannot be simulated, or a scheduler that misbehaved during one."""


@dataclass(frozen=True)
class Run:
    """A training run to preview.

    Args:
        max_duration: Length of the run before SSR scaling (``ep``, ``ba``, ``sp`` or ``tok``).
        schedulers: One or more schedulers, in the order the Trainer is given them.
        dataloader_len: Batches per epoch; ``None`` for a loader that never ends an epoch.
        batch_size: Samples per batch.
        seq_len: Tokens per sample.
        step_every: ``"batch"`` or ``"epoch"``: when the Trainer steps the schedulers.
        lr: Optional base learning rate; adds the ``lr`` column.
        trainer: Whose training loop steps the schedulers; ``mode="trainer"`` replays it.
        last_batch_size: Samples in the last batch of each epoch (across ranks), when it is
            shorter than ``batch_size``; needs ``dataloader_len``.
        geometry: The dataset size, devices and per-device batch the loader was derived from.
        batch_schedule: A global batch size that changes with the batch index (a batch-size ramp,
            piecewise constant); ``batch_size`` is then its last size. Needs a run without epochs.
    """

    max_duration: Time
    schedulers: tuple[Callable[..., Any], ...]
    dataloader_len: int | None = None
    batch_size: int = 1
    seq_len: int = 1
    step_every: StepEvery = "batch"
    lr: float | None = None
    #: Whose Trainer steps the schedulers, for ``mode="trainer"`` (see :data:`TRAINERS`).
    trainer: str = "composer"
    #: Samples in the last batch of each epoch, when the data does not divide (``None``: full).
    last_batch_size: int | None = None
    #: The facts the loader geometry was derived from, when it was (for reports).
    geometry: Geometry | None = None
    #: Hugging Face's ``num_train_epochs`` (fractional allowed) when the run's length is counted in
    #: epochs: ``max_duration`` is then the ``ceil(epochs x dataloader_len)`` updates it rounds to,
    #: and SSR scales the epochs (see :func:`hf_scaled_length`).
    num_train_epochs: float | None = None
    #: Updates after which the trainer did not step the schedulers (DeepSpeed and Hugging Face
    #: skip the step after an fp16 overflow): update *k* is then scheduled as the update
    #: ``k - (skipped updates before k)`` of a run without skips (see :func:`scheduler_steps`).
    skipped_steps: tuple[int, ...] = ()
    #: Samples per batch when they change with the batch index (see :class:`BatchSchedule`).
    batch_schedule: BatchSchedule | None = None

    def __post_init__(self) -> None:
        md = Time.from_input(self.max_duration)
        object.__setattr__(self, "max_duration", md)
        object.__setattr__(self, "schedulers", tuple(self.schedulers))
        if md.unit not in COUNTED_UNITS:
            raise SimulationError(f"max_duration {md} must be in ep, ba, sp or tok, not {md.unit.value!r}")
        if md.value <= 0:
            raise SimulationError(f"max_duration {md} must be positive")
        if not self.schedulers:
            raise SimulationError("a run needs at least one scheduler")
        for name in ("batch_size", "seq_len"):
            require_count(name, getattr(self, name))
        if self.dataloader_len is not None:
            require_count("dataloader_len", self.dataloader_len)
        elif md.unit is TimeUnit.EPOCH:
            raise SimulationError(f"max_duration {md} is in epochs, so dataloader_len (batches per epoch) is required")
        if self.last_batch_size is not None:
            require_count("last_batch_size", self.last_batch_size)
            if self.last_batch_size > self.batch_size:
                raise SimulationError(
                    f"last_batch_size {self.last_batch_size} cannot exceed batch_size {self.batch_size}"
                )
            if self.dataloader_len is None and self.last_batch_size != self.batch_size:
                raise SimulationError("a short last batch (last_batch_size) needs dataloader_len: it ends an epoch")
            if self.last_batch_size == self.batch_size:
                object.__setattr__(self, "last_batch_size", None)
        if self.batch_schedule is not None:
            _check_batch_schedule(self)
        if self.trainer not in TRAINERS:
            raise SimulationError(f"trainer must be one of {', '.join(TRAINERS)}, not {self.trainer!r}")
        if self.num_train_epochs is not None:
            _check_hf_epochs(self)
        skipped = tuple(self.skipped_steps)
        for k in skipped:
            if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 0:
                raise SimulationError(f"skipped_steps must be update indices of at least 0, not {k!r}")
        object.__setattr__(self, "skipped_steps", tuple(sorted(set(int(k) for k in skipped))))
        if self.step_every not in ("batch", "epoch"):
            raise SimulationError(f"step_every must be 'batch' or 'epoch', not {self.step_every!r}")
        if self.lr is not None and not (isinstance(self.lr, numbers.Real) and math.isfinite(self.lr)):
            raise SimulationError(f"lr must be a finite number, not {self.lr!r}")

    @property
    def tokens_per_batch(self) -> int:
        """Tokens in the run's largest batch."""
        largest = max(self.batch_schedule.sizes) if self.batch_schedule is not None else self.batch_size
        return largest * self.seq_len

    def scaled_max_duration(self, ssr: float) -> Time:
        """``max_duration`` scaled as the Trainer does: ``int(value * ssr)``, never 0 (Hugging
        Face's runs: :func:`hf_scaled_length`)."""
        require_ssr(ssr)
        scaled = hf_scaled_length(self, ssr) if self.trainer == "hf" else self.max_duration * ssr
        if scaled.value <= 0:
            raise SimulationError(
                f"ssr {ssr:g} scales max_duration {self.max_duration} to {scaled}: the run would be empty "
                "(Composer rejects this); use a larger ssr or a longer run"
            )
        return scaled

    def shape(self, ssr: float) -> RunShape:
        """What the schedulers see at this SSR: the scaled ``max_duration``."""
        return self.shape_with(self.scaled_max_duration(ssr))

    def unscaled_shape(self) -> RunShape:
        return self.shape_with(self.max_duration)

    def shape_with(self, max_duration: Time) -> RunShape:
        """What the schedulers see of this run with the given (scaled) ``max_duration``."""
        return RunShape(
            max_duration, self.dataloader_len, self.batch_size, self.seq_len, self.last_batch_size, self.batch_schedule
        )

    def state(self, max_duration: Time, timestamp: Timestamp | None = None) -> State:
        """A State of this run (with its batch and sequence sizes), at ``timestamp``."""
        return State(
            max_duration,
            self.dataloader_len,
            timestamp,
            batch_size=self.batch_size,
            seq_len=self.seq_len,
            last_batch_size=self.last_batch_size,
        )

    def batches(self, ssr: float) -> int:
        """How many batches the run trains at this SSR (the last one may overshoot sp/tok)."""
        md = self.scaled_max_duration(ssr)
        if md.unit is TimeUnit.BATCH:
            n = md.value
        elif md.unit is TimeUnit.EPOCH:
            n = md.value * self.dataloader_len  # type: ignore[operator]
        else:
            n = self.shape_with(md).first_batch_reaching(md)
        if n * self.tokens_per_batch >= _INT64_LIMIT:
            raise SimulationError(
                f"a run of {_count_text(n)} batches of {_count_text(self.tokens_per_batch)} tokens overflows the "
                "64-bit token counter"
            )
        return n


def hf_scaled_length(run: Run, ssr: float) -> Time:
    """A Hugging Face run's length at ``ssr``, in optimizer updates.

    Hugging Face has no scale schedule ratio; sched reads ``ssr`` as "train ``ssr`` times as long"
    and recomputes what the Trainer would from the scaled argument: ``num_train_epochs x ssr``
    (a float, as ``TrainingArguments`` takes it) becomes ``ceil(epochs x updates per epoch)``
    updates, as in ``Trainer.set_initial_training_values``; a ``max_steps`` run becomes
    ``int(max_steps x ssr)`` updates (truncated, as Composer scales ``max_duration``). Warmup
    given as a ratio follows, since the schedulers compute it from this length.
    """
    if run.num_train_epochs is not None:
        epochs = run.num_train_epochs * ssr
        return Time(math.ceil(epochs * run.dataloader_len), TimeUnit.BATCH)  # type: ignore[operator]
    return run.max_duration * ssr


def _check_hf_epochs(run: Run) -> None:
    epochs = run.num_train_epochs
    if isinstance(epochs, bool) or not isinstance(epochs, numbers.Real) or not math.isfinite(epochs) or epochs <= 0:
        raise SimulationError(f"num_train_epochs must be a number greater than 0, not {epochs!r}")
    if run.trainer != "hf" or run.dataloader_len is None:
        raise SimulationError("num_train_epochs belongs to a Hugging Face run (trainer: hf) with dataloader_len")
    expected = Time(math.ceil(epochs * run.dataloader_len), TimeUnit.BATCH)
    if run.max_duration != expected:
        raise SimulationError(
            f"max_duration {run.max_duration} disagrees with num_train_epochs {epochs:g} x {run.dataloader_len} "
            f"updates per epoch = {expected}"
        )


def _check_batch_schedule(run: Run) -> None:
    if not isinstance(run.batch_schedule, BatchSchedule):
        raise SimulationError(f"batch_schedule must be a BatchSchedule, not {run.batch_schedule!r}")
    if run.dataloader_len is not None or run.last_batch_size is not None:
        raise SimulationError(
            "a batch size that changes with the batch index (batch_schedule) needs a run without epochs: "
            "drop dataloader_len and last_batch_size"
        )
    object.__setattr__(run, "batch_size", run.batch_schedule.final_size)


def scheduler_steps(run: Run, batch: np.ndarray) -> np.ndarray:
    """How many scheduler steps have been taken when each update of ``batch`` starts: the update
    index less the ``skipped_steps`` before it (an update skipped at index *i* does not step the
    schedulers after it, so every later update sees one step fewer)."""
    batch = np.asarray(batch, dtype=np.int64)
    if not run.skipped_steps:
        return batch
    return batch - np.searchsorted(np.asarray(run.skipped_steps, dtype=np.int64), batch, side="left")


def _count_text(n: int) -> str:
    """A count for messages: exact with separators, or ``~1e+30`` past 2**53, where a count read
    from text such as ``1e30ba`` went through a float and its trailing digits mean nothing."""
    return f"{n:,}" if n <= 2**53 else f"~{float(n):.6g}"


def require_count(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise SimulationError(f"{name} must be a whole number of at least 1, not {value!r}")


def require_ssr(ssr: Any) -> None:
    if isinstance(ssr, bool) or not isinstance(ssr, numbers.Real) or not math.isfinite(ssr) or ssr <= 0:
        raise SimulationError(f"ssr must be a finite number greater than 0, not {ssr!r}")


# -- timelines --------------------------------------------------------------------------------
@dataclass
class Timeline:
    """Counters of many timestamps at once: the array form of a ``Timestamp``."""

    epoch: np.ndarray
    batch: np.ndarray
    sample: np.ndarray
    token: np.ndarray
    #: Batches since the epoch began, where the counters alone do not tell it (a resumed run).
    in_epoch: np.ndarray | None = None

    def get(self, unit: TimeUnit) -> np.ndarray:
        unit = TimeUnit(unit)
        if unit is TimeUnit.EPOCH:
            return self.epoch
        if unit is TimeUnit.BATCH:
            return self.batch
        if unit is TimeUnit.SAMPLE:
            return self.sample
        if unit is TimeUnit.TOKEN:
            return self.token
        if unit in (TimeUnit.ITERATION, TimeUnit.SECOND):
            return np.zeros_like(self.batch)  # a synthetic run has one iteration and takes no time
        raise ValueError(f"a timeline has no counter in {unit.value!r}")

    def __len__(self) -> int:
        return len(self.batch)

    def timestamp(self, i: int, run: Run | None = None) -> Timestamp:
        """Timestamp ``i``; with its run, the in-epoch counters too (for custom schedulers)."""
        epoch, batch, sample, token = (int(a[i]) for a in (self.epoch, self.batch, self.sample, self.token))
        if run is None:
            return Timestamp(epoch=epoch, batch=batch, sample=sample, token=token)
        # Batches since the epoch began: dataloader_len right after an epoch's last batch, whose
        # epoch counter has not moved on yet (the Trainer's epoch-stepping moment).
        if self.in_epoch is not None:
            in_epoch = int(self.in_epoch[i])
        else:
            in_epoch = batch - epoch * run.dataloader_len if run.dataloader_len else batch
        in_epoch_samples = samples_before(
            in_epoch, run.dataloader_len, run.batch_size, run.last_batch_size, run.batch_schedule
        )
        return Timestamp(
            epoch=epoch,
            batch=batch,
            sample=sample,
            token=token,
            epoch_in_iteration=epoch,
            token_in_iteration=token,
            batch_in_epoch=in_epoch,
            sample_in_epoch=in_epoch_samples,
            token_in_epoch=in_epoch_samples * run.seq_len,
        )

    @classmethod
    def at_batch_starts(cls, run: Run, batches: np.ndarray) -> Timeline:
        """The timestamps at the start of each batch in ``batches``."""
        batches = np.asarray(batches, dtype=np.int64)
        epoch = batches // run.dataloader_len if run.dataloader_len else np.zeros_like(batches)
        sample = samples_before(batches, run.dataloader_len, run.batch_size, run.last_batch_size, run.batch_schedule)
        return cls(epoch=epoch, batch=batches, sample=sample, token=sample * run.seq_len)
