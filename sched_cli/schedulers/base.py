"""The scheduler protocol, Composer's time conversion, and the machinery of the built-ins.

Every built-in scheduler is written once, as a formula over *counters*: anything with a
``get(unit)`` that returns the run's progress in that unit, either a plain ``int`` (one timestamp,
the Composer protocol) or a numpy array (a whole timeline at once). ``__call__`` and
:meth:`BuiltinScheduler.evaluate` both go through that one formula, so they cannot drift apart.
"""

from __future__ import annotations

import difflib
import inspect
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from sched_cli.geometry import BatchSchedule, first_batch_with_samples, samples_before
from sched_cli.time import Time, Timestamp, TimeUnit

__all__ = [
    "ComposerScheduler",
    "BuiltinScheduler",
    "ScheduleError",
    "RunShape",
    "Breakpoint",
    "Counters",
    "convert_time",
    "call_scheduler",
    "takes_ssr",
    "scheduler_name",
    "require_same_unit",
    "suggest",
]

TimeArg = str | Time

ZERO_WARMUP_WARNING = (
    "The warmup duration is 0. If you specified warmup as a fraction of total\n"
    "training duration, take note that the warmup duration is calculated in the\n"
    "same unit as the trainer's max_duration parameter."
)


class ScheduleError(ValueError, RuntimeError):
    """A schedule that Composer would reject, or could not compute (it would divide by zero).

    A ``ValueError`` like Composer's own checks, and a ``RuntimeError`` like its complaint about a
    missing ``dataloader_len``, so that code catching either keeps working.
    """


class ComposerScheduler:
    r"""A stateless scheduler: ``alpha = scheduler(state, ssr)``, the multiplier of the base LR.

    Any function ``f(state)`` or ``f(state, ssr)`` is a scheduler too; subclassing is optional.
    With a scale schedule ratio :math:`\sigma`, :math:`\alpha_\sigma(t) = \alpha(t / \sigma)`.
    """

    def __call__(self, state: Any, ssr: float = 1.0) -> float:
        raise NotImplementedError


class Counters(Protocol):
    """The progress of a run in each unit: ints for one timestamp, arrays for a timeline."""

    def get(self, unit: TimeUnit) -> Any: ...


@dataclass(frozen=True)
class RunShape:
    """What time conversion reads from a State: the run's length and its batches per epoch.

    ``batch_size`` (samples per batch) and ``seq_len`` (tokens per sample) are known for a
    simulated run and ``None`` for a State that does not carry them. Composer's schedulers never
    read them; a schedule that places times in one unit on the batch clock does (a phase of a
    :class:`~sched_cli.schedulers.SequentialScheduler` given in tokens, say).
    """

    max_duration: Time
    dataloader_len: int | None = None
    batch_size: int | None = None
    seq_len: int | None = None
    #: Samples in the last batch of each epoch, when it is short (``None``: a full batch).
    last_batch_size: int | None = None
    #: A batch size that changes with the batch index (a batch-size ramp), when there is one.
    batch_schedule: BatchSchedule | None = None

    @classmethod
    def of(cls, state: Any) -> RunShape:
        return cls(
            state.max_duration,
            _optional_int(state.dataloader_len),
            _optional_int(getattr(state, "batch_size", None)),
            _optional_int(getattr(state, "seq_len", None)),
            _optional_int(getattr(state, "last_batch_size", None)),
        )

    def first_batch_reaching(self, time: Time) -> int | None:
        """The first batch whose start-of-batch counter in ``time.unit`` is at least ``time``.

        ``None`` where the run's shape does not tell (samples without ``batch_size``, say).
        """
        unit, value = TimeUnit(time.unit), int(time.value)
        if unit is TimeUnit.BATCH:
            return value
        if unit is TimeUnit.EPOCH:
            return value * self.dataloader_len if self.dataloader_len else None
        if self.batch_size is None or unit not in (TimeUnit.SAMPLE, TimeUnit.TOKEN):
            return None
        if unit is TimeUnit.TOKEN:
            if self.seq_len is None:
                return None
            value = -(-value // self.seq_len)  # tokens are whole samples of seq_len each
        return first_batch_with_samples(
            value, self.dataloader_len, self.batch_size, self.last_batch_size, self.batch_schedule
        )

    def counter_at(self, unit: TimeUnit, batch: int) -> int | None:
        """The counter in ``unit`` at the start of ``batch``, where the run's shape tells."""
        unit = TimeUnit(unit)
        if unit is TimeUnit.EPOCH:
            return batch // self.dataloader_len if self.dataloader_len else 0
        if unit is TimeUnit.BATCH:
            return batch
        if self.batch_size is None or unit not in (TimeUnit.SAMPLE, TimeUnit.TOKEN):
            return None
        samples = samples_before(batch, self.dataloader_len, self.batch_size, self.last_batch_size, self.batch_schedule)
        if unit is TimeUnit.TOKEN:
            return None if self.seq_len is None else samples * self.seq_len
        return samples


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


@dataclass(frozen=True)
class Breakpoint:
    """A time where a schedule changes course: a warmup end, a milestone, a restart."""

    label: str
    time: Time


class _TimestampCounters:
    """A single timestamp seen as counters of plain ints."""

    __slots__ = ("timestamp",)

    def __init__(self, timestamp: Timestamp) -> None:
        self.timestamp = timestamp

    def get(self, unit: TimeUnit) -> int:
        return int(self.timestamp.get(unit))


def convert_time(
    time: TimeArg, shape: RunShape, ssr: float = 1.0, *, owner: str = "scheduler", param: str = "time"
) -> Time[int]:
    """Convert a scheduler's time argument into the integer unit it is compared in.

    As Composer's scheduler module does: a ``dur`` time becomes ``int(value * max_duration)`` in the
    unit of ``max_duration`` (in batches, ``int(value * dataloader_len * max_duration)``, when the
    run is measured in epochs), and is *not* scaled by ``ssr`` since ``max_duration`` already is.
    Any other time becomes ``int(value * ssr)``, epochs first turned into batches. Wall-clock
    time is rejected.
    """
    if isinstance(time, str):
        time = Time.from_timestring(time)
    elif not isinstance(time, Time):
        raise ScheduleError(f"{owner}: {param} must be a time string or Time, not {time!r}")
    if time.unit is TimeUnit.SECOND:
        raise ScheduleError(f"{owner}: {param} {time} is wall-clock time, which a schedule cannot use")
    max_duration = shape.max_duration
    if time.unit is TimeUnit.DURATION:
        if max_duration.unit is TimeUnit.EPOCH:
            batches = _batches_per_epoch(shape, owner, param, time)
            return Time(int(time.value * batches * max_duration.value), TimeUnit.BATCH)
        return Time(int(time.value * max_duration.value), max_duration.unit)
    if time.unit is TimeUnit.EPOCH:
        # Epochs are too coarse to scale (1ep * 0.5 would be 0), so Composer counts them in batches.
        time = Time(time.value * _batches_per_epoch(shape, owner, param, time), TimeUnit.BATCH)
    return Time(int(time.value * ssr), time.unit)


def require_same_unit(owner: str, **times: tuple[Any, Time]) -> None:
    """Raise unless every converted time (given as ``param=(original, converted)``) has one unit."""
    units = {converted.unit for _, converted in times.values()}
    if len(units) > 1:
        described = ", ".join(f"{p}={original} ({converted})" for p, (original, converted) in times.items())
        raise ScheduleError(
            f"{owner}: {described} must be in the same unit once converted; give them all in one unit "
            "(or as fractions of the run, 'dur')"
        )


def _batches_per_epoch(shape: RunShape, owner: str, param: str, time: Time) -> int:
    if shape.dataloader_len is None:
        raise ScheduleError(
            f"{owner}: cannot convert {param} {time} to batches without dataloader_len "
            "(batches per epoch); set it for any run or time given in epochs"
        )
    return shape.dataloader_len


def takes_ssr(scheduler: Callable[..., Any]) -> bool:
    """Whether a scheduler accepts the ``ssr`` argument (Composer counts its parameters)."""
    try:
        return len(inspect.signature(scheduler).parameters) != 1
    except (TypeError, ValueError):
        return True


def call_scheduler(
    scheduler: Callable[..., Any], state: Any, ssr: float = 1.0, *, ssr_aware: bool | None = None
) -> Any:
    """Call any scheduler the way Composer's Trainer does.

    A scheduler that takes only ``state`` is called without ``ssr``, which is an error unless
    ``ssr == 1``.
    """
    if ssr_aware is None:
        ssr_aware = takes_ssr(scheduler)
    if ssr_aware:
        return scheduler(state, ssr)
    if ssr != 1.0:
        raise ScheduleError(
            f"scheduler {_describe(scheduler)} does not support a scale schedule ratio "
            f"(ssr={ssr:g}): to use one, it must take two arguments (state, ssr)"
        )
    return scheduler(state)


def scheduler_name(scheduler: Any) -> str:
    """A scheduler's name for messages: a built-in's class name, else the function or class."""
    name = getattr(scheduler, "name", None)
    if isinstance(name, str):
        return name
    return getattr(scheduler, "__qualname__", None) or type(scheduler).__qualname__


def _describe(scheduler: Any) -> str:
    return repr(scheduler_name(scheduler))


class Resolved(dict):
    """A scheduler's arguments converted for one run and SSR, read as attributes."""

    __getattr__ = dict.__getitem__


class BuiltinScheduler(ComposerScheduler):
    """A scheduler defined by a formula over counters (see the module docstring).

    Subclasses implement :meth:`resolve` (convert times for a run, check them) and :meth:`formula`
    (the multiplier, on ints or arrays alike).
    """

    #: Names of the constructor's time arguments, for error messages and specs.
    time_params: tuple[str, ...] = ()

    def resolve(self, shape: RunShape, ssr: float) -> Resolved:
        raise NotImplementedError

    def formula(self, r: Resolved, counters: Counters) -> Any:
        raise NotImplementedError

    def breakpoints(self, r: Resolved) -> list[Breakpoint]:
        """Times where the schedule changes course, for plots and sampling."""
        return []

    def check_reach(self, r: Resolved, counters: Counters) -> None:
        """Raise where Composer would raise only once the run reaches some time."""

    # -- the two paths --------------------------------------------------------------------------
    def __call__(self, state: Any, ssr: float = 1.0) -> float:
        r = self.resolve(RunShape.of(state), ssr)
        counters = _TimestampCounters(state.timestamp)
        self.check_reach(r, counters)
        return float(self._finite_formula(r, counters))

    def evaluate(self, counters: Counters, shape: RunShape, ssr: float = 1.0) -> np.ndarray:
        """The multiplier at every timestamp of a timeline, in one vectorized pass."""
        r = self.resolve(shape, ssr)
        self.check_reach(r, counters)
        alpha = self._finite_formula(r, counters)
        # A formula that does not depend on time (no milestones, say) comes back as one number.
        return np.broadcast_to(alpha, np.shape(counters.get(TimeUnit.BATCH))).copy() if alpha.ndim == 0 else alpha

    def _finite_formula(self, r: Resolved, counters: Counters) -> np.ndarray:
        # Python's float power raises where numpy's gives inf or nan (0.0 ** -1 is a ZeroDivisionError,
        # 1e300 ** 2 an OverflowError), so Composer fails exactly where the multiplier is not finite.
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            alpha = np.asarray(self.formula(r, counters), dtype=np.float64)
        bad = ~np.isfinite(alpha)
        if np.any(bad):
            batch = np.broadcast_to(np.asarray(counters.get(TimeUnit.BATCH)), alpha.shape)[bad].flat[0]
            raise ScheduleError(
                f"{self.name}: the multiplier is {alpha[bad].flat[0]} at batch {int(batch)} "
                f"(Composer fails there too, dividing by zero or overflowing); check its arguments: {self!r}"
            )
        return alpha

    # -- helpers for subclasses -------------------------------------------------------------------
    @property
    def name(self) -> str:
        return type(self).__name__

    def _convert(self, param: str, shape: RunShape, ssr: float = 1.0) -> Time[int]:
        return convert_time(getattr(self, param), shape, ssr, owner=self.name, param=param)

    def _nonzero(self, param: str, converted: Time, original: Any, shape: RunShape, ssr: float) -> None:
        if converted.value <= 0:
            raise ScheduleError(
                f"{self.name}: {param}={original} is {converted} for this run "
                f"(max_duration {shape.max_duration}, ssr {ssr:g}); it must be at least 1{converted.unit.value}, "
                "otherwise the schedule divides by zero"
            )

    def _warn_zero_warmup(self, t_warmup: Time) -> None:
        if t_warmup.value == 0:
            warnings.warn(f"{self.name}: {ZERO_WARMUP_WARNING}", UserWarning, stacklevel=4)

    def __repr__(self) -> str:
        params = inspect.signature(type(self).__init__).parameters
        args = ", ".join(f"{p}={getattr(self, p)!r}" for p in params if p != "self" and hasattr(self, p))
        return f"{self.name}({args})"


def suggest(word: str, choices: list[str] | tuple[str, ...]) -> str:
    """`` (did you mean 'x'?)`` for the closest choice, or an empty string."""
    lowered = {c.lower(): c for c in choices}
    close = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
    return f" (did you mean {lowered[close[0]]!r}?)" if close else ""
