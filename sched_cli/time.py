"""Training time with explicit units, as in Composer's ``composer.core.time``.

``Time(value, unit)`` is a static amount of training time; ``Timestamp`` is a snapshot of the
progress of a run in epochs, batches, samples and tokens. Both behave like Composer's so that a
custom scheduler written against Composer runs here unchanged, e.g.
``if state.timestamp.epoch < 10: return 1.0``.

This module is the bottom layer of ``sched_cli``: it imports nothing from the package.
"""

from __future__ import annotations

import enum
import math
import re
from typing import Any, Generic, TypeVar

__all__ = ["TimeUnit", "Time", "Timestamp", "TimeStringError"]


class TimeUnit(str, enum.Enum):
    """Units of training time, with Composer's string values."""

    ITERATION = "iter"
    EPOCH = "ep"
    BATCH = "ba"
    SAMPLE = "sp"
    TOKEN = "tok"
    DURATION = "dur"
    SECOND = "sec"

    @classmethod
    def _missing_(cls, value: object) -> TimeUnit | None:
        # Composer's StringEnum accepts any case ("BA", "Ep") and the member names ("BATCH").
        if isinstance(value, str):
            lowered = value.lower()
            for member in cls:
                if member.value == lowered or member.name.lower() == lowered:
                    return member
        return None

    def __str__(self) -> str:
        return self.value


#: Units whose values are integer counts (every unit but ``dur``).
INTEGER_UNITS = frozenset(u for u in TimeUnit if u is not TimeUnit.DURATION)

#: Units of a run's progress that a synthetic run counts: what ``max_duration`` may be given in.
COUNTED_UNITS = (TimeUnit.EPOCH, TimeUnit.BATCH, TimeUnit.SAMPLE, TimeUnit.TOKEN)


class TimeStringError(ValueError, TypeError):
    """A time string that cannot be parsed.

    It is both a ``ValueError`` (what Composer raises for an unknown unit) and a ``TypeError``
    (what Composer raises for a fractional value in an integer unit), so code written for either
    keeps working.
    """


# Composer tries the unit suffixes in the order of its enum; "sec" and "ep" never collide.
_TIME_STRING = re.compile(r"^(?P<value>.+?)(?P<unit>" + "|".join(u.value for u in TimeUnit) + r")$", re.IGNORECASE)
# Wall-clock strings such as "1h30m", "90s" (Composer reads them as seconds).
_WALL_CLOCK = re.compile(r"^(?:(?P<h>\d+)h)?(?:(?P<m>\d+)m)?(?:(?P<s>\d+)s)?$")

TValue = TypeVar("TValue", int, float)


class Time(Generic[TValue]):
    """A static amount of training time: a value and a :class:`TimeUnit`.

    Values are integers in every unit but ``dur`` (a float fraction of the run). Arithmetic follows
    Composer: ``+``, ``-`` and ``%`` need the same unit; ``Time / Time`` gives ``dur``;
    ``Time * number`` and ``Time / number`` keep the unit and truncate to an integer; a comparison
    with a plain number reads it in the left operand's unit.

    >>> Time(2, "ep") * 0.5
    Time(1, TimeUnit.EPOCH)
    >>> Time(4, "ep") / Time(2, "ep")
    Time(2.0, TimeUnit.DURATION)
    """

    __slots__ = ("_value", "_unit")

    def __init__(self, value: TValue, unit: str | TimeUnit) -> None:
        unit = TimeUnit(unit)
        if unit is TimeUnit.DURATION:
            value = float(value)  # type: ignore[assignment]
        elif not isinstance(value, int) or isinstance(value, bool):
            raise TypeError(
                f"value {value!r} is of type {type(value).__name__}; unit {unit.value!r} requires an integer value"
            )
        self._value: TValue = value
        self._unit = unit

    # -- constructors -------------------------------------------------------------------------
    @classmethod
    def from_timestring(cls, timestring: str) -> Time:
        """Parse ``"10ba"``, ``"3e4tok"``, ``"0.5dur"``, ``"2EP"``, ``"1h30m"``.

        The unit suffix is case-insensitive; the value may use scientific notation. A value that is
        not a whole number in an integer unit is an error, as in Composer.
        """
        if not isinstance(timestring, str):
            raise TimeStringError(f"time string must be a str, not {type(timestring).__name__}")
        wall = _WALL_CLOCK.match(timestring)
        if wall and timestring:
            h, m, s = (int(wall.group(k) or 0) for k in "hms")
            return cls(h * 3600 + m * 60 + s, TimeUnit.SECOND)
        match = _TIME_STRING.match(timestring)
        if match is None:
            units = ", ".join(u.value for u in TimeUnit)
            raise TimeStringError(
                f"invalid time string {timestring!r}: expected a number followed by a unit ({units}), "
                "e.g. '10ba', '3e4tok', '0.5dur'"
            )
        unit = TimeUnit(match.group("unit"))
        try:
            number = float(match.group("value"))
        except ValueError:
            raise TimeStringError(
                f"invalid time string {timestring!r}: {match.group('value')!r} is not a number"
            ) from None
        if unit is TimeUnit.DURATION:
            return cls(number, unit)
        if not math.isfinite(number):
            raise TimeStringError(f"invalid time string {timestring!r}: the value is not finite")
        if int(number) != number:
            raise TimeStringError(
                f"invalid time string {timestring!r}: {number:g} is not a whole number, "
                f"and unit {unit.value!r} counts whole {_PLURAL[unit]}"
            )
        return cls(int(number), unit)

    @classmethod
    def from_input(cls, value: str | int | float | Time, default_int_unit: str | TimeUnit | None = None) -> Time:
        """A ``Time`` from a ``Time``, a time string, or a number in ``default_int_unit``."""
        if isinstance(value, Time):
            return value
        if isinstance(value, str):
            return cls.from_timestring(value)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if default_int_unit is None:
                raise RuntimeError("default_int_unit must be given to build a Time from a number")
            return cls(value, default_int_unit)
        raise TypeError(f"cannot convert {value!r} of type {type(value).__name__} to Time")

    @classmethod
    def from_epoch(cls, epoch: int) -> Time:
        return cls(epoch, TimeUnit.EPOCH)

    @classmethod
    def from_batch(cls, batch: int) -> Time:
        return cls(batch, TimeUnit.BATCH)

    @classmethod
    def from_sample(cls, sample: int) -> Time:
        return cls(sample, TimeUnit.SAMPLE)

    @classmethod
    def from_token(cls, token: int) -> Time:
        return cls(token, TimeUnit.TOKEN)

    @classmethod
    def from_duration(cls, duration: float) -> Time:
        return cls(duration, TimeUnit.DURATION)

    # -- accessors ----------------------------------------------------------------------------
    @property
    def value(self) -> TValue:
        return self._value

    @property
    def unit(self) -> TimeUnit:
        return self._unit

    def __repr__(self) -> str:
        return f"Time({self._value}, TimeUnit.{self._unit.name})"

    def __str__(self) -> str:
        return f"{self._value}{self._unit.value}"

    def to_timestring(self) -> str:
        return str(self)

    def __int__(self) -> int:
        return int(self._value)

    def __float__(self) -> float:
        return float(self._value)

    def __hash__(self) -> int:
        return hash((self._value, self._unit))

    # -- comparison ---------------------------------------------------------------------------
    def _same_unit(self, other: Any, verb: str) -> Time:
        other = Time.from_input(other, self._unit)
        if other._unit is not self._unit:
            raise RuntimeError(f"cannot {verb} {self} and {other}: they have different units")
        return other

    def _compare(self, other: Any) -> int:
        if not isinstance(other, (int, float, Time, str)) or isinstance(other, bool):
            return NotImplemented  # type: ignore[return-value]
        if isinstance(other, (int, float)):
            other = type(self)(other, self._unit)
        other = self._same_unit(other, "compare")
        return (self._value > other._value) - (self._value < other._value)

    def __eq__(self, other: Any) -> bool:  # type: ignore[override]
        result = self._compare(other)
        return result if result is NotImplemented else result == 0

    def __ne__(self, other: Any) -> bool:  # type: ignore[override]
        result = self._compare(other)
        return result if result is NotImplemented else result != 0

    def __lt__(self, other: Any) -> bool:
        result = self._compare(other)
        return result if result is NotImplemented else result < 0

    def __le__(self, other: Any) -> bool:
        result = self._compare(other)
        return result if result is NotImplemented else result <= 0

    def __gt__(self, other: Any) -> bool:
        result = self._compare(other)
        return result if result is NotImplemented else result > 0

    def __ge__(self, other: Any) -> bool:
        result = self._compare(other)
        return result if result is NotImplemented else result >= 0

    # -- arithmetic ---------------------------------------------------------------------------
    def __add__(self, other: Any) -> Time:
        other = self._same_unit(other, "add")
        return Time(self._value + other._value, self._unit)

    def __radd__(self, other: Any) -> Time:
        return self + other

    def __sub__(self, other: Any) -> Time:
        other = self._same_unit(other, "subtract")
        return Time(self._value - other._value, self._unit)

    def __rsub__(self, other: Any) -> Time:
        return (-self) + other

    def __neg__(self) -> Time:
        return Time(-self._value, self._unit)

    def __pos__(self) -> Time:
        return Time(self._value, self._unit)

    def __mod__(self, other: Any) -> Time:
        other = self._same_unit(other, "take the remainder of")
        return Time(self._value % other._value, self._unit)

    def __truediv__(self, other: Any) -> Time:
        if isinstance(other, (int, float)) and not isinstance(other, bool):
            return Time(type(self._value)(self._value / other), self._unit)
        other = self._same_unit(other, "divide")
        return Time(self._value / other._value, TimeUnit.DURATION)

    def __mul__(self, other: Any) -> Time:
        if isinstance(other, (int, float)) and not isinstance(other, bool):
            return Time(type(self._value)(self._value * other), self._unit)
        other = Time.from_input(other, self._unit)
        if TimeUnit.DURATION not in (self._unit, other._unit):
            raise RuntimeError(f"cannot multiply {self} by {other}: one of them must be in 'dur'")
        unit = self._unit if other._unit is TimeUnit.DURATION else other._unit
        kind = float if unit is TimeUnit.DURATION else int
        return Time(kind(self._value * other._value), unit)

    def __rmul__(self, other: Any) -> Time:
        return self * other


_PLURAL = {
    TimeUnit.ITERATION: "iterations",
    TimeUnit.EPOCH: "epochs",
    TimeUnit.BATCH: "batches",
    TimeUnit.SAMPLE: "samples",
    TimeUnit.TOKEN: "tokens",
    TimeUnit.DURATION: "fractions of the run",
    TimeUnit.SECOND: "seconds",
}


def _counter(value: int | Time, unit: TimeUnit, name: str) -> Time:
    time = Time.from_input(value, unit)
    if time.unit is not unit:
        raise ValueError(f"the `{name}` argument is in {time.unit.value!r}, not {unit.value!r}")
    return time


class Timestamp:
    """A snapshot of a run's progress: epochs, batches, samples and tokens trained so far.

    Attributes return :class:`Time` values, and a timestamp compares against a ``Time`` in any of
    its units by reading the matching counter, as in Composer:

    >>> Timestamp(epoch=3, batch=300) < Time(5, "ep")
    True
    """

    #: Counters, in Composer's order of constructor arguments, and the unit of each.
    FIELDS = (
        ("iteration", TimeUnit.ITERATION),
        ("epoch", TimeUnit.EPOCH),
        ("batch", TimeUnit.BATCH),
        ("sample", TimeUnit.SAMPLE),
        ("token", TimeUnit.TOKEN),
        ("epoch_in_iteration", TimeUnit.EPOCH),
        ("token_in_iteration", TimeUnit.TOKEN),
        ("batch_in_epoch", TimeUnit.BATCH),
        ("sample_in_epoch", TimeUnit.SAMPLE),
        ("token_in_epoch", TimeUnit.TOKEN),
    )
    __slots__ = tuple(f"_{name}" for name, _ in FIELDS)

    def __init__(
        self,
        iteration: int | Time = 0,  # first, as in Composer, so positional arguments mean the same
        epoch: int | Time = 0,
        batch: int | Time = 0,
        sample: int | Time = 0,
        token: int | Time = 0,
        epoch_in_iteration: int | Time = 0,
        token_in_iteration: int | Time = 0,
        batch_in_epoch: int | Time = 0,
        sample_in_epoch: int | Time = 0,
        token_in_epoch: int | Time = 0,
    ) -> None:
        values = locals()
        for name, unit in self.FIELDS:
            setattr(self, f"_{name}", _counter(values[name], unit, name))

    @property
    def epoch_in_iteration(self) -> Time[int]:
        return self._epoch_in_iteration

    @property
    def token_in_iteration(self) -> Time[int]:
        return self._token_in_iteration

    @property
    def batch_in_epoch(self) -> Time[int]:
        return self._batch_in_epoch

    @property
    def sample_in_epoch(self) -> Time[int]:
        return self._sample_in_epoch

    @property
    def token_in_epoch(self) -> Time[int]:
        return self._token_in_epoch

    @property
    def epoch(self) -> Time[int]:
        return self._epoch

    @property
    def batch(self) -> Time[int]:
        return self._batch

    @property
    def sample(self) -> Time[int]:
        return self._sample

    @property
    def token(self) -> Time[int]:
        return self._token

    @property
    def iteration(self) -> Time[int]:
        return self._iteration

    def get(self, unit: str | TimeUnit) -> Time[int]:
        """The counter in ``unit`` (``ep``, ``ba``, ``sp``, ``tok`` or ``iter``)."""
        unit = TimeUnit(unit)
        if unit is TimeUnit.EPOCH:
            return self._epoch
        if unit is TimeUnit.BATCH:
            return self._batch
        if unit is TimeUnit.SAMPLE:
            return self._sample
        if unit is TimeUnit.TOKEN:
            return self._token
        if unit is TimeUnit.ITERATION:
            return self._iteration
        if unit is TimeUnit.SECOND:
            return Time(0, TimeUnit.SECOND)  # a synthetic run takes no wall-clock time
        raise ValueError(f"a timestamp has no counter in {unit.value!r}")

    def copy(self, **changes: int | Time) -> Timestamp:
        """A copy with the given counters replaced."""
        fields = {name: getattr(self, name) for name, _ in self.FIELDS}
        fields.update(changes)
        return Timestamp(**fields)

    def to_next_batch(self, samples: int = 0, tokens: int = 0) -> Timestamp:
        """The timestamp after one more batch, as Composer's Trainer advances it."""
        return self.copy(
            batch=self._batch + 1,
            batch_in_epoch=self._batch_in_epoch + 1,
            sample=self._sample + samples,
            sample_in_epoch=self._sample_in_epoch + samples,
            token=self._token + tokens,
            token_in_epoch=self._token_in_epoch + tokens,
            token_in_iteration=self._token_in_iteration + tokens,
        )

    def to_next_epoch(self) -> Timestamp:
        """The timestamp after the end of an epoch: the in-epoch counters start again."""
        return self.copy(
            epoch=self._epoch + 1,
            epoch_in_iteration=self._epoch_in_iteration + 1,
            batch_in_epoch=0,
            sample_in_epoch=0,
            token_in_epoch=0,
        )

    def _as_tuple(self) -> tuple[int, ...]:
        return tuple(int(getattr(self, name)) for name, _ in self.FIELDS)

    def _counter_for(self, other: Any) -> tuple[Time, Time] | None:
        if isinstance(other, str):
            other = Time.from_timestring(other)
        if not isinstance(other, Time):
            return None
        return self.get(other.unit), other

    def __eq__(self, other: Any) -> bool:  # type: ignore[override]
        if isinstance(other, Timestamp):
            return self._as_tuple() == other._as_tuple()
        pair = self._counter_for(other)
        return NotImplemented if pair is None else pair[0] == pair[1]

    def __ne__(self, other: Any) -> bool:  # type: ignore[override]
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    def __lt__(self, other: Any) -> bool:
        pair = self._counter_for(other)
        return NotImplemented if pair is None else pair[0] < pair[1]

    def __le__(self, other: Any) -> bool:
        pair = self._counter_for(other)
        return NotImplemented if pair is None else pair[0] <= pair[1]

    def __gt__(self, other: Any) -> bool:
        pair = self._counter_for(other)
        return NotImplemented if pair is None else pair[0] > pair[1]

    def __ge__(self, other: Any) -> bool:
        pair = self._counter_for(other)
        return NotImplemented if pair is None else pair[0] >= pair[1]

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"Timestamp(epoch={int(self._epoch)}, batch={int(self._batch)}, "
            f"sample={int(self._sample)}, token={int(self._token)})"
        )


TimeLike = str | Time
