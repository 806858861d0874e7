"""What every explanation of ``sched check`` works on: the plan, how to read it again with a
change, the log and the test a changed plan must pass on every logged point (:class:`Case`), with
the small readers of a plan file's keys the explanations share."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from sched_cli.check import Explanation, FitTest, planned_lrs
from sched_cli.logs import Alignment, LoggedLRs
from sched_cli.specs import Overrides, Spec, SpecError

__all__ = [
    "Case",
    "Replan",
    "Reason",
    "HF_FAMILY",
    "first_fit",
    "try_plan",
    "is_number",
    "flag",
    "number",
    "paths_of",
    "at",
]

#: Readers whose schedule is Hugging Face's ``lr_scheduler_type`` (and its warmup keys).
HF_FAMILY = ("hf", "axolotl", "llamafactory")

Replan = Callable[[dict[str, Any]], Spec]


@dataclass
class Case:
    """What the explanations know: the plan, how to read it again with changes, and the log."""

    spec: Spec
    log: LoggedLRs
    alignment: Alignment
    replan: Replan
    overrides: Overrides
    test: FitTest
    consumes: tuple[str, ...]
    #: The reader of the plan's file (``None``: a sched spec) and its parsed keys (``None``: none to change).
    reader: str | None
    data: Any

    def plan(self, changes: dict[str, Any]) -> Spec | None:
        """The plan read again with ``changes`` (``patch``: keys of the file, added to any given)."""
        from sched_cli.schedulers.base import ScheduleError

        if "patch" in changes:
            changes = {**changes, "patch": (*self.overrides.patch, *changes["patch"])}
        try:
            return self.replan(changes)
        except (SpecError, ScheduleError, ValueError):
            return None

    def fits(self, changes: dict[str, Any]) -> Spec | None:
        """The plan read again with ``changes``, if it fits every logged point."""
        candidate = self.plan(changes)
        return candidate if self.test.fits(candidate) else None

    @property
    def keys(self) -> dict[str, Any]:
        return self.data if isinstance(self.data, dict) else {}

    @property
    def updates(self) -> int:
        return planned_lrs(self.spec, np.zeros(0, dtype=np.int64))[1]


#: An explanation: the case in, the reason found (``None``: it does not fit) out.
Reason = Callable[[Case], Explanation | None]


def first_fit(case: Case, tries: Iterable[tuple[int, dict[str, Any]]]) -> tuple[int, Spec] | None:
    """Of ``tries`` (a value, and the changes that plan it), the first whose plan fits the log:
    that value and that plan."""
    for value, changes in tries:
        candidate = case.fits(changes)
        if candidate is not None:
            return value, candidate
    return None


def try_plan(replan: Replan, changes: dict[str, Any]) -> Spec | None:
    from sched_cli.schedulers.base import ScheduleError

    try:
        return replan(changes)
    except (SpecError, ScheduleError, ValueError):
        return None


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def flag(data: Any, flag: str) -> str | None:
    """A Megatron launch's value of ``flag`` (its flags, or a ``model_config.yaml``'s mapping)."""
    if isinstance(data, dict):
        value = data.get("MODEL_ARGS", data).get(flag)
        return None if value is None else str(value)
    values = getattr(data, "values", {}).get(flag)
    return None if not values else values[0].text


def number(text: str | None) -> float | None:
    try:
        return float(text) if text is not None else None
    except ValueError:
        return None


def paths_of(data: Any, key: str, prefix: str = "") -> list[str]:
    """The dotted paths of ``key`` in nested mappings and lists."""
    out: list[str] = []
    items = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else ()
    for k, value in items:
        path = f"{prefix}{k}"
        if k == key:
            out.append(path)
        out += paths_of(value, key, path + ".")
    return out


def at(data: Any, path: str) -> Any:
    for part in path.split("."):
        data = data[int(part)] if isinstance(data, list) else data[part]
    return data
