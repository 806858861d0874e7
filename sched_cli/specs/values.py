"""The spec layer's error and the checks of single values: where in a spec a value sits, and
whether it is a time, a number, a count or a list of SSRs. Every problem is a :class:`SpecError`
whose message names the file, the key, the bad value and what would be valid."""

from __future__ import annotations

import math
import numbers
from typing import Any

from sched_cli.time import Time, TimeStringError, TimeUnit
from sched_cli.trust import Trust

# Larger counts are typos (or units mixed up): no real loader has 2**53 batches per epoch.
MAX_COUNT = 2**53


class SpecError(Exception):
    """A spec that cannot be used; the message says where and why."""


class _Where:
    """Where in a spec a value sits, for messages: ``file: schedulers[0].t_warmup: ...``."""

    def __init__(self, source: str, prefix: str = "", trust: Trust | None = None) -> None:
        self.source = source
        self.prefix = prefix
        #: What custom code the spec may run (see :mod:`sched_cli.trust`), carried to every nested place.
        self.trust = trust or Trust.for_inline()

    def at(self, key: str) -> _Where:
        return _Where(self.source, f"{self.prefix}{key}", self.trust)

    def error(self, key: str, message: str) -> SpecError:
        path = f"{self.prefix}.{key}" if self.prefix and key else self.prefix or key
        return SpecError(f"{self.source}: {path}: {message}" if path else f"{self.source}: {message}")


def _kind(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"a boolean ({value!r})"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, str):
        return f"text {value!r}"
    return f"{type(value).__name__} {value!r}"


def _time_value(where: _Where, key: str, value: Any) -> Time:
    if isinstance(value, Time):
        return value
    if not isinstance(value, str):
        raise where.error(key, f"expected a time such as '100ba', '5ep', '3e4tok' or '0.1dur', got {_kind(value)}")
    try:
        time = Time.from_timestring(value.strip())
    except TimeStringError as exc:
        raise where.error(key, str(exc)) from None
    if time.unit is TimeUnit.SECOND:
        raise where.error(key, f"{value!r} is wall-clock time; use ep, ba, sp, tok or dur")
    if time.unit is TimeUnit.ITERATION:
        raise where.error(key, f"{value!r} is in iterations, which sched does not model; use ep, ba, sp, tok or dur")
    if not math.isfinite(time.value) or time.value < 0:
        raise where.error(key, f"{value!r} must be a finite time of at least 0")
    return time


def _number(where: _Where, key: str, value: Any) -> float:
    if isinstance(value, str):
        # YAML 1.1 reads 1e-5 (no dot) as text: accept any number written as text.
        try:
            value = float(value)
        except ValueError:
            raise where.error(key, f"expected a number, got {_kind(value)}") from None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise where.error(key, f"expected a number, got {_kind(value)}")
    try:
        finite = math.isfinite(value)
    except OverflowError:  # an integer beyond any float (10**400): too large to compute with
        digits = int(value.bit_length() * math.log10(2)) + 1  # type: ignore[union-attr]
        raise where.error(
            key, f"an integer of about {digits} digits is too large; numbers must be below 1.8e308"
        ) from None
    if not finite:
        raise where.error(key, f"{value!r} is not a finite number")
    return value


def _count(where: _Where, key: str, value: Any, required: bool = True) -> int | None:
    if value is None:
        if required:
            raise where.error(key, "expected a whole number of at least 1, got nothing")
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise where.error(key, f"expected a whole number of at least 1, got {_kind(value)}")
    if value < 1:
        raise where.error(key, f"{value} must be at least 1")
    if value > MAX_COUNT:
        raise where.error(key, f"{value} is absurdly large (more than 2**53)")
    return int(value)


def _ssrs(where: _Where, value: Any) -> tuple[float, ...]:
    values = value if isinstance(value, list) else [value]
    if not values:
        raise where.error("ssr", "expected a number or a list of numbers, got an empty list")
    out = []
    for v in values:
        number = _number(where, "ssr", v)
        if number <= 0:
            raise where.error("ssr", f"{number!r} must be greater than 0")
        out.append(float(number))
    return tuple(out)


def skipped_steps(source: str, value: Any) -> tuple[int, ...]:
    """``skipped_steps`` (spec key or ``--skipped-steps``): the updates after which the trainer did
    not step the schedulers. A whole number N means the first N updates (0 .. N-1: an fp16 run's
    loss scale starts too high); a list (or text ``3,10,40-47``) names update indices and ranges."""
    if value is None:
        return ()
    fix = "give a count (8: the first 8 updates) or update indices such as 3,10,40-47"
    if isinstance(value, bool):
        raise SpecError(f"{source}: skipped_steps: {value!r} is not a count or a list of updates; {fix}")
    if isinstance(value, int):
        if not 0 <= value <= MAX_COUNT:
            raise SpecError(f"{source}: skipped_steps: {value} must be a count of at least 0; {fix}")
        return tuple(range(value))
    items: list[Any]
    if isinstance(value, str):
        text = value.strip()
        if text.isdigit():
            return skipped_steps(source, int(text))
        items = [part.strip() for part in text.split(",") if part.strip()]
    elif isinstance(value, (list, tuple)):
        items = list(value)
    else:
        raise SpecError(f"{source}: skipped_steps: {value!r} is not a count or a list of updates; {fix}")
    steps: set[int] = set()
    for item in items:
        if isinstance(item, int) and not isinstance(item, bool) and item >= 0:
            steps.add(item)
            continue
        low, _, high = str(item).partition("-")
        if not (low.strip().isdigit() and (not high or high.strip().isdigit())) or isinstance(item, bool):
            raise SpecError(f"{source}: skipped_steps: {item!r} is not an update index or a range a-b; {fix}")
        first, last = int(low), int(high) if high else int(low)
        if last < first or last - first > 10_000_000:
            raise SpecError(f"{source}: skipped_steps: the range {item!r} is empty or too long; {fix}")
        steps.update(range(first, last + 1))
    return tuple(sorted(steps))
