"""The schedulers of a run evaluated over timelines: built-in ones vectorized, PyTorch's stepped on
a real optimizer, any other callable once per distinct timestamp through a real
:class:`~sched_cli.state.State`, its values checked (a number, finite, and a warning when
negative).
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from sched_cli.run import SimulationError, Timeline, scheduler_steps
from sched_cli.schedulers.base import BuiltinScheduler, ScheduleError, call_scheduler, scheduler_name, takes_ssr
from sched_cli.schedulers.torch_native import TorchScheduler, steps_taken, trainer_steps
from sched_cli.state import State
from sched_cli.time import Timestamp

if TYPE_CHECKING:  # pragma: no cover
    from sched_cli.simulator import Plan

__all__ = ["Evaluator", "NegativeMultiplierWarning", "check_lr"]


class Evaluator:
    """One scheduler evaluated over timelines: vectorized if built in, else call by call."""

    def __init__(self, scheduler: Callable[..., Any], p: Plan) -> None:
        self.scheduler = scheduler
        self.plan = p
        self.builtin = isinstance(scheduler, BuiltinScheduler)
        self.torch_lrs: np.ndarray | None = None
        if isinstance(scheduler, TorchScheduler):
            # A real PyTorch scheduler, stepped once per Trainer step up front (plus the step after
            # the last batch, which fails in a real run if the scheduler runs out of steps).
            run = p.run
            steps = trainer_steps(p.batches, run.step_every, run.dataloader_len) + 1
            self.torch_raw = scheduler.lrs(steps, p.ssr, run.lr or 1.0)
            self.torch_lrs = self.torch_raw / (run.lr or 1.0)
        elif not self.builtin:
            self.ssr_aware = takes_ssr(scheduler)
            if not self.ssr_aware and p.ssr != 1.0:
                call_scheduler(scheduler, None, p.ssr, ssr_aware=False)  # raises the clear error
            self.state = p.run.state(p.max_duration)

    def __call__(self, at: Timeline, rows: Timeline) -> np.ndarray:
        """The multiplier of each row, evaluated at the timestamps ``at`` (see _evaluation_times)."""
        if self.torch_lrs is not None:
            return self.torch_lrs[self._torch_steps(rows)]
        if self.builtin:
            return self.scheduler.evaluate(at, self.plan.shape, self.plan.ssr)  # type: ignore[attr-defined]
        return self._call_each(at)

    def _torch_steps(self, rows: Timeline) -> np.ndarray:
        # The optimizer's own LR: batch k trains with the LR after the steps taken before it, in
        # either mode (there is no formula apart from what the optimizer holds).
        run = self.plan.run
        return steps_taken(scheduler_steps(run, rows.batch), run.step_every, run.dataloader_len)

    def torch_lr(self, rows: Timeline) -> np.ndarray:
        """The LR the real optimizer holds for each row, to the bit (not base LR x multiplier)."""
        return self.torch_raw[self._torch_steps(rows)]

    def scalar(self, state: State, ssr: float) -> float:
        if self.torch_lrs is not None:
            return float(self.torch_lrs[0])
        if self.builtin:
            return _checked(self.scheduler(state, ssr), self.scheduler, state.timestamp)
        return _checked(_call_user(self.scheduler, state, ssr, self.ssr_aware), self.scheduler, state.timestamp)

    def _call_each(self, at: Timeline) -> np.ndarray:
        # Many rows share a timestamp (epoch stepping, the trainer's lag): call once per distinct one.
        keys = np.stack([at.epoch, at.batch], axis=1)
        _, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
        values = np.empty(len(first), dtype=np.float64)
        state = self.state
        for j, i in enumerate(first):
            state.timestamp = at.timestamp(int(i), self.plan.run)
            values[j] = _checked(
                _call_user(self.scheduler, state, self.plan.ssr, self.ssr_aware), self.scheduler, state.timestamp
            )
        return values[inverse.reshape(-1)]


def _call_user(scheduler: Callable[..., Any], state: State, ssr: float, ssr_aware: bool) -> Any:
    """Call a custom scheduler; whatever it raises becomes an error that says where."""
    try:
        return call_scheduler(scheduler, state, ssr, ssr_aware=ssr_aware)
    except ScheduleError:
        raise
    except (Exception, SystemExit) as exc:  # noqa: BLE001 - user code may raise anything, sys.exit() too
        ts = state.timestamp
        what = (
            f"called sys.exit({exc.code!r})" if isinstance(exc, SystemExit) else f"raised {type(exc).__name__}: {exc}"
        )
        raise SimulationError(
            f"scheduler {scheduler_name(scheduler)!r} {what} at batch {int(ts.batch)} (epoch {int(ts.epoch)})"
        ) from exc


def _checked(value: Any, scheduler: Any, timestamp: Timestamp) -> float:
    name = scheduler_name(scheduler)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise SimulationError(
            f"scheduler {name!r} returned {value!r} ({type(value).__name__}) at batch {int(timestamp.batch)}; "
            "a scheduler must return a number"
        )
    try:
        value = float(value)
    except OverflowError:  # an int such as 10**400
        raise SimulationError(
            f"scheduler {name!r} returned a number too large for a float ({_digits(value)}) at batch "
            f"{int(timestamp.batch)}; a multiplier must be finite"
        ) from None
    if value < 0 and not isinstance(scheduler, BuiltinScheduler):
        _warn_negative(scheduler, value, timestamp)
    if not math.isfinite(value):
        raise SimulationError(
            f"scheduler {name!r} returned {value} at batch {int(timestamp.batch)} "
            f"(epoch {int(timestamp.epoch)}); a multiplier must be finite"
        )
    return value


_warned_negative: set[int] = set()


def _warn_negative(scheduler: Any, value: float, timestamp: Timestamp) -> None:
    """A custom scheduler returned a negative multiplier: legal, but a negative LR ascends the
    loss; warn once per scheduler."""
    if id(scheduler) in _warned_negative:
        return
    _warned_negative.add(id(scheduler))
    warnings.warn(
        f"scheduler {scheduler_name(scheduler)!r} returned a negative multiplier ({value:g}) at batch "
        f"{int(timestamp.batch)}: the LR would be negative there",
        NegativeMultiplierWarning,
        stacklevel=2,
    )


class NegativeMultiplierWarning(UserWarning):
    """A custom scheduler returned a multiplier below 0."""


def _digits(value: Any) -> str:
    try:
        return f"{len(str(abs(int(value)))):,} digits"
    except (ValueError, TypeError, OverflowError):
        return type(value).__name__


def check_lr(lr: np.ndarray, base: float, multiplier: np.ndarray, batch: np.ndarray) -> None:
    """The LR column must be finite: a huge base LR times a huge multiplier overflows to inf."""
    finite = np.isfinite(lr)
    if not finite.all():
        i = int(np.argmin(finite))
        raise SimulationError(
            f"lr {base:g} x multiplier {float(multiplier[i]):g} overflows to {float(lr[i])} at batch {int(batch[i])}; "
            "use a smaller lr or multiplier"
        )
