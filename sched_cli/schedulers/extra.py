r"""Schedulers beyond Composer's thirteen, written the same way: one formula for both paths.

- :class:`InverseSquareRootWithWarmupScheduler`: LLM Foundry's, number for number;
- :class:`WarmupStableDecayScheduler`: warmup, a long stable phase, a short decay (WSD);
- :class:`OneCycleScheduler`: the shape of PyTorch's ``OneCycleLR``, step for step;
- :class:`SequentialScheduler`: schedulers run one after another, each on its own clock.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from sched_cli.schedulers import libm
from sched_cli.schedulers.base import (
    Breakpoint,
    BuiltinScheduler,
    Counters,
    Resolved,
    RunShape,
    ScheduleError,
    TimeArg,
    call_scheduler,
    convert_time,
    require_same_unit,
    scheduler_name,
    takes_ssr,
)
from sched_cli.schedulers.composer import _ratio, _WarmupScheduler, cosine_anneal
from sched_cli.state import State
from sched_cli.time import Time, Timestamp, TimeStringError, TimeUnit

__all__ = [
    "InverseSquareRootWithWarmupScheduler",
    "WarmupStableDecayScheduler",
    "OneCycleScheduler",
    "SequentialScheduler",
]

#: A phase of a :class:`SequentialScheduler`: ``(scheduler, duration)`` or
#: ``{"scheduler": scheduler, "duration": duration}``.
PhaseArg = tuple[Callable[..., Any], TimeArg] | dict[str, Any]

_COUNTERS = (TimeUnit.EPOCH, TimeUnit.BATCH, TimeUnit.SAMPLE, TimeUnit.TOKEN)


# -- argument checks shared by the constructors --------------------------------------------------
def _parse_time(owner: str, param: str, value: Any) -> Time:
    """``value`` as a ``Time``, or a :class:`ScheduleError` that names the argument."""
    if isinstance(value, Time):
        return value
    if not isinstance(value, str):
        raise ScheduleError(f"{owner}: {param} must be a time string such as '100ba' or a Time, not {value!r}")
    try:
        return Time.from_timestring(value.strip())
    except TimeStringError as exc:
        raise ScheduleError(f"{owner}: {param}: {exc}") from None


def _choice(owner: str, param: str, value: Any, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ScheduleError(f"{owner}: {param}={value!r} is not one of {', '.join(map(repr, choices))}")
    return value


def _real(owner: str, param: str, value: Any, *, low: float | None = None, high: float | None = None) -> None:
    """A finite number, greater than ``low`` (exclusive) and at most ``high``, where given."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ScheduleError(f"{owner}: {param} must be a finite number, not {value!r}")
    if low is not None and value <= low:
        raise ScheduleError(f"{owner}: {param}={value!r} must be greater than {low:g}")
    if high is not None and value > high:
        raise ScheduleError(f"{owner}: {param}={value!r} must be at most {high:g}")


# -- LLM Foundry's inverse square root ------------------------------------------------------------
class InverseSquareRootWithWarmupScheduler(_WarmupScheduler):
    r"""Linear warmup, inverse square root decay, then an optional linear cooldown (LLM Foundry's).

    .. math:: \alpha(t) = \begin{cases} t / t_{warmup}, & t < t_{warmup} \\
        \alpha_{f,decay} + (1 - \alpha_{f,decay}) / \sqrt{\tau_d(t)}, & t_{warmup} \le t < t_{cd} \\
        \alpha_{cd} + (\alpha_{f,cooldown} - \alpha_{cd}) \times \tau_c, & \text{otherwise} \end{cases}

    where :math:`t` is the time elapsed in the run,
    :math:`\tau_d(t) = (t - t_{warmup} + t_{scale}) / t_{scale}`, the cooldown starting at
    :math:`t_{cd} = \max(t_{warmup}, t_{max} - t_{cooldown})`, :math:`\alpha_{cd}` the decay's value
    at :math:`t_{cd}` and :math:`\tau_c = \min(1, (t - t_{cd}) / t_{cooldown})` (with a cooldown of
    0, :math:`\alpha_{cd}` holds).

    As in LLM Foundry (``llmfoundry/optim/scheduler.py``): ``t_warmup``, ``t_scale`` and
    ``t_cooldown`` must be in ``max_duration``'s unit and never in ``dur`` (the schedule is meant for
    continued training, where ``max_duration`` changes); the warmup is never scaled by SSR, the
    other times are; ``alpha_f_decay >= alpha_f_cooldown``. Checks on ``t_scale``, ``t_cooldown``
    and ``t_max`` (a ``t_scale`` of 0, a ``t_max`` in another unit) fail once warmup is over, as
    there.

    Args:
        t_warmup (str | Time): Warmup time.
        t_scale (str | Time): Time scale of the decay: 3 of them after warmup, :math:`\alpha`
            is halfway down to :math:`\alpha_{f,decay}`.
        t_cooldown (str | Time): Duration of the final linear cooldown.
        t_max (str | Time): Duration of the schedule. Default ``"1dur"``.
        alpha_f_decay (float): Multiplier the decay tends to at infinite time. Default ``0.0``.
        alpha_f_cooldown (float): Multiplier at the end of the cooldown. Default ``0.0``.
    """

    time_params = ("t_warmup", "t_scale", "t_cooldown", "t_max")
    scale_warmup = False  # LLM Foundry never scales its warmup

    def __init__(
        self,
        t_warmup: TimeArg,
        t_scale: TimeArg,
        t_cooldown: TimeArg,
        t_max: TimeArg = "1dur",
        alpha_f_decay: float = 0.0,
        alpha_f_cooldown: float = 0.0,
    ) -> None:
        if alpha_f_decay < alpha_f_cooldown:
            raise ScheduleError(
                f"{self.name}: alpha_f_decay={alpha_f_decay!r} must be at least alpha_f_cooldown={alpha_f_cooldown!r}, "
                "so that the multiplier keeps falling after warmup"
            )
        for param, value in (("t_warmup", t_warmup), ("t_scale", t_scale), ("t_cooldown", t_cooldown)):
            if _parse_time(self.name, param, value).unit is TimeUnit.DURATION:
                raise ScheduleError(
                    f"{self.name}: {param}={value} cannot be in 'dur'; give it in max_duration's unit "
                    "(the schedule is meant for runs whose max_duration changes)"
                )
        self.t_warmup = t_warmup
        self.t_scale = t_scale
        self.t_cooldown = t_cooldown
        self.t_max = t_max
        self.alpha_f_decay = alpha_f_decay
        self.alpha_f_cooldown = alpha_f_cooldown

    def resolve(self, shape: RunShape, ssr: float) -> Resolved:
        md = shape.max_duration
        for param in ("t_warmup", "t_scale", "t_cooldown"):
            value = getattr(self, param)
            unit = _parse_time(self.name, param, value).unit
            if unit is not md.unit:
                raise ScheduleError(
                    f"{self.name}: {param}={value} is in {unit.value!r}, but it must be in the unit of "
                    f"max_duration {md} ({md.unit.value!r}), as LLM Foundry requires"
                )
        r = self._resolve_warmup(shape, ssr)
        self._warn_zero_warmup(r.t_warmup)
        try:
            # LLM Foundry converts these only once warmup is over, so their errors wait until then.
            self._resolve_after_warmup(r, shape, ssr)
        except ScheduleError as exc:
            r["after_warmup_error"] = exc
        return r

    def _resolve_after_warmup(self, r: Resolved, shape: RunShape, ssr: float) -> None:
        t_scale = self._convert("t_scale", shape, ssr)
        t_cooldown = self._convert("t_cooldown", shape, ssr)
        t_max = self._convert("t_max", shape, ssr)
        require_same_unit(self.name, t_max=(self.t_max, t_max), t_cooldown=(self.t_cooldown, t_cooldown))
        self._nonzero("t_scale", t_scale, self.t_scale, shape, ssr)
        r.update(
            t_scale=t_scale,
            t_cooldown=t_cooldown,
            t_max=t_max,
            cooldown_start=max(r.t_warmup.value, t_max.value - t_cooldown.value),
        )
        r["alpha_cd"] = float(self._decay(r, r.cooldown_start))

    def _decay(self, r: Resolved, t: Any) -> Any:
        r""":math:`\alpha_{f,decay} + (1 - \alpha_{f,decay}) / \sqrt{\tau_d}`, in LLM Foundry's order of operations."""
        shift = r.t_scale.value - r.t_warmup.value
        coeff = 1 / libm.power(_ratio(t + shift, r.t_scale.value), 0.5)
        return self.alpha_f_decay + coeff * (1.0 - self.alpha_f_decay)

    def after_warmup(self, r: Resolved, counters: Counters) -> Any:
        if r.after_warmup_error is not None:
            return 0.0  # never in force: check_reach stops a run as soon as it leaves its warmup
        t = counters.get(r.t_warmup.unit)
        if r.t_cooldown.value == 0:
            cooldown: Any = r.alpha_cd
        else:
            frac = np.minimum(1.0, _ratio(t - r.cooldown_start, r.t_cooldown.value))
            cooldown = r.alpha_cd + frac * (self.alpha_f_cooldown - r.alpha_cd)
        return np.where(t < r.cooldown_start, self._decay(r, t), cooldown)

    def breakpoints(self, r: Resolved) -> list[Breakpoint]:
        points = super().breakpoints(r)  # the warmup's end, and t_max once warmup can end
        if "t_max" in r and r.t_cooldown.value > 0:
            points.insert(-1, Breakpoint("cooldown start", Time(r.cooldown_start, r.t_max.unit)))
        return points


# -- warmup, stable, decay ----------------------------------------------------------------------
#: The decay of :class:`WarmupStableDecayScheduler`, from 1 at :math:`\tau = 0` to 0 at :math:`\tau = 1`.
_DECAYS: dict[str, Callable[[Any], Any]] = {
    "linear": lambda tau: 1.0 - tau,
    "cosine": lambda tau: cosine_anneal(tau),
    "1-sqrt": lambda tau: 1.0 - np.sqrt(tau),
}


class WarmupStableDecayScheduler(_WarmupScheduler):
    r"""Linear warmup, then 1.0, then a decay to ``alpha_f`` over the last ``t_decay`` before ``t_max`` (WSD).

    .. math:: \alpha(t) = \begin{cases} t / t_{warmup}, & t < t_{warmup} \\
        1, & t_{warmup} \le t < t_{max} - t_{decay} \\
        \alpha_f + (1 - \alpha_f) \times d(\tau), & \text{otherwise} \end{cases}
        \quad \tau = \min(1, (t - t_{max} + t_{decay}) / t_{decay})

    where :math:`t` is the time elapsed in the run and the decay :math:`d` is ``linear``: :math:`1 - \tau`, ``cosine``:
    :math:`\tfrac{1}{2} (1 + \cos(\pi \tau))` or ``1-sqrt``: :math:`1 - \sqrt{\tau}`. After
    ``t_max``, ``alpha_f`` holds.

    ``t_decay`` and ``t_max`` are scaled by SSR; ``t_warmup`` is not unless ``scale_warmup``. Unlike
    Composer's warmup schedulers (whose warmup always *ends* at the unscaled ``t_warmup``),
    ``scale_warmup=True`` scales the whole warmup. Once converted, the three times must share a
    unit, and ``t_warmup + t_decay <= t_max``.

    Args:
        t_warmup (str | Time): Warmup time.
        t_decay (str | Time): Duration of the decay, which ends at ``t_max``.
        t_max (str | Time): End of the decay. Default ``"1dur"``.
        alpha_f (float): Final multiplier. Default ``0.0``.
        decay_shape (str): ``"linear"``, ``"cosine"`` or ``"1-sqrt"``. Default ``"linear"``.
        scale_warmup (bool): Let SSR scale the warmup too. Default ``False``.
    """

    time_params = ("t_warmup", "t_decay", "t_max")

    def __init__(
        self,
        t_warmup: TimeArg,
        t_decay: TimeArg,
        t_max: TimeArg = "1dur",
        alpha_f: float = 0.0,
        decay_shape: str = "linear",
        scale_warmup: bool = False,
    ) -> None:
        for param, value in (("t_warmup", t_warmup), ("t_decay", t_decay), ("t_max", t_max)):
            _parse_time(self.name, param, value)
        _real(self.name, "alpha_f", alpha_f)
        self.t_warmup = t_warmup
        self.t_decay = t_decay
        self.t_max = t_max
        self.alpha_f = alpha_f
        self.decay_shape = _choice(self.name, "decay_shape", decay_shape, tuple(_DECAYS))
        self.scale_warmup = scale_warmup

    def resolve(self, shape: RunShape, ssr: float) -> Resolved:
        t_warmup = self._convert("t_warmup", shape, ssr if self.scale_warmup else 1.0)
        t_decay = self._convert("t_decay", shape, ssr)
        t_max = self._convert("t_max", shape, ssr)
        require_same_unit(
            self.name,
            t_warmup=(self.t_warmup, t_warmup),
            t_decay=(self.t_decay, t_decay),
            t_max=(self.t_max, t_max),
        )
        self._nonzero("t_decay", t_decay, self.t_decay, shape, ssr)
        if t_warmup.value + t_decay.value > t_max.value:
            raise ScheduleError(
                f"{self.name}: t_warmup={self.t_warmup} ({t_warmup}) and t_decay={self.t_decay} ({t_decay}) "
                f"add up to more than t_max={self.t_max} ({t_max}) for this run (max_duration "
                f"{shape.max_duration}, ssr {ssr:g}); the warmup and the decay would overlap"
            )
        self._warn_zero_warmup(t_warmup)
        # The warmup's ramp runs over the warmup itself, scaled or not (ramp == t_warmup).
        return Resolved(
            t_warmup=t_warmup,
            ramp=t_warmup,
            ramp_error=None,
            after_warmup_error=None,
            t_decay=t_decay,
            t_max=t_max,
            decay_start=t_max.value - t_decay.value,
        )

    def after_warmup(self, r: Resolved, counters: Counters) -> Any:
        t = counters.get(r.t_warmup.unit)
        tau = np.clip(_ratio(t - r.decay_start, r.t_decay.value), 0.0, 1.0)
        decay = self.alpha_f + (1.0 - self.alpha_f) * _DECAYS[self.decay_shape](tau)
        return np.where(t < r.decay_start, 1.0, decay)

    def breakpoints(self, r: Resolved) -> list[Breakpoint]:
        points = super().breakpoints(r)  # the warmup's end and t_max
        points.insert(-1, Breakpoint("decay start", Time(r.decay_start, r.t_max.unit)))
        return points


# -- one cycle --------------------------------------------------------------------------------------
class OneCycleScheduler(BuiltinScheduler):
    r"""PyTorch's ``OneCycleLR`` as a multiplier of the peak LR: up from ``1 / div_factor`` to 1, then down.

    .. math:: \alpha(s) = a_k + (b_k - a_k) \times \tfrac{1}{2} (1 - \cos(\pi p)) \text{ (cos) or }
        a_k + (b_k - a_k) \times p \text{ (linear)}, \quad p = (s - e_{k-1}) / (e_k - e_{k-1})

    in the first phase :math:`k` with :math:`s \le e_k` (else the last), where :math:`s` is the
    count in ``t_max``'s unit, held at :math:`N - 1` after ``t_max`` :math:`= N`, and
    :math:`e_0 = 0`. Two phases: :math:`e_1 = \text{pct\_start} \, N - 1`, :math:`e_2 = N - 1`,
    multipliers :math:`1/\delta \to 1 \to 1/(\delta \phi)`; three phases:
    :math:`e_1 = \text{pct\_start} \, N - 1`, :math:`e_2 = 2 \, \text{pct\_start} \, N - 2`,
    :math:`e_3 = N - 1`, multipliers :math:`1/\delta \to 1 \to 1/\delta \to 1/(\delta \phi)`, with
    :math:`\delta` = ``div_factor`` and :math:`\phi` = ``final_div_factor``.

    Step *i* of ``OneCycleLR(optimizer, max_lr=1, total_steps=N)`` is batch *i* here, value for
    value, in torch's order of operations. Where torch goes on past its last step (and then fails),
    this holds the last step's value. A phase of length 0 divides by zero, as in torch.

    Args:
        t_max (str | Time): Length of the cycle, torch's ``total_steps``. Default ``"1dur"``.
        pct_start (float): Fraction of the cycle spent rising. Default ``0.3``.
        anneal_strategy (str): ``"cos"`` or ``"linear"``. Default ``"cos"``.
        div_factor (float): The initial multiplier is ``1 / div_factor``. Default ``25.0``.
        final_div_factor (float): The final multiplier is ``1 / (div_factor * final_div_factor)``.
            Default ``1e4``.
        three_phase (bool): Fall back to ``1 / div_factor`` first, then to the final multiplier
            (the original paper's schedule). Default ``False``.
    """

    time_params = ("t_max",)

    def __init__(
        self,
        t_max: TimeArg = "1dur",
        pct_start: float = 0.3,
        anneal_strategy: str = "cos",
        div_factor: float = 25.0,
        final_div_factor: float = 1e4,
        three_phase: bool = False,
    ) -> None:
        _parse_time(self.name, "t_max", t_max)
        _real(self.name, "pct_start", pct_start, high=1.0)
        if pct_start < 0:
            raise ScheduleError(f"{self.name}: pct_start={pct_start!r} must be between 0 and 1")
        _real(self.name, "div_factor", div_factor, low=0.0)
        _real(self.name, "final_div_factor", final_div_factor, low=0.0)
        self.t_max = t_max
        self.pct_start = pct_start
        self.anneal_strategy = _choice(self.name, "anneal_strategy", anneal_strategy, ("cos", "linear"))
        self.div_factor = div_factor
        self.final_div_factor = final_div_factor
        self.three_phase = three_phase

    def resolve(self, shape: RunShape, ssr: float) -> Resolved:
        t_max = self._convert("t_max", shape, ssr)
        self._nonzero("t_max", t_max, self.t_max, shape, ssr)
        n = t_max.value
        initial = 1.0 / self.div_factor
        final = initial / self.final_div_factor
        # Torch's phases: their end steps, and the multipliers they go from and to.
        ends: list[float] = [float(self.pct_start * n) - 1]
        if self.three_phase:
            ends.append(float(2 * self.pct_start * n) - 2)
            levels = [initial, 1.0, initial, final]
        else:
            levels = [initial, 1.0, final]
        ends.append(n - 1)
        # (first step, end step, start multiplier, end multiplier); each phase begins where the last ended.
        phases = [(([0.0] + ends)[k], ends[k], levels[k], levels[k + 1]) for k in range(len(ends))]
        return Resolved(t_max=t_max, phases=phases)

    def _anneal(self, start: float, end: float, pct: Any) -> Any:
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (np.cos(np.pi * pct) + 1)
        return (end - start) * pct + start

    def formula(self, r: Resolved, counters: Counters) -> Any:
        step = np.minimum(counters.get(r.t_max.unit), r.t_max.value - 1)
        alpha: Any = None
        # The first phase whose end the step has not passed: fill in from the last phase back.
        for begin, end, start_alpha, end_alpha in reversed(r.phases):
            value = self._anneal(start_alpha, end_alpha, (step - begin) / (end - begin))
            alpha = value if alpha is None else np.where(step <= end, value, alpha)
        return alpha

    def breakpoints(self, r: Resolved) -> list[Breakpoint]:
        points = []
        for k, (_, end, _, _) in enumerate(r.phases[:-1]):
            step = math.ceil(end)
            if 0 < step < r.t_max.value:
                points.append(Breakpoint("warmup end" if k == 0 else f"phase {k + 1} end", Time(step, r.t_max.unit)))
        return points + [Breakpoint("t_max", r.t_max)]


# -- phases one after another ---------------------------------------------------------------------
@dataclass
class _Phase:
    """One phase of a :class:`SequentialScheduler`, placed on a run: batches ``[start, end)``."""

    index: int
    scheduler: Callable[..., Any]
    shape: RunShape  # the phase's own run: max_duration is its duration
    start: int
    end: int
    resolved: Resolved | None  # for a built-in scheduler
    factor: float = 1.0

    @property
    def label(self) -> str:
        return f"phases[{self.index}]"


class _PhaseClock:
    """Counters of some rows measured from the start of their phase (the ``Counters`` protocol).

    Each counter is shifted by its value at the phase's first batch, as the run's shape gives it,
    and never reads below 0 (stepping every epoch, the Trainer reads the epoch counter before it
    moves on). Rows at or past batch ``hold_from`` read the counters at that batch instead (the
    end of the last phase, whose final value holds after it).
    """

    def __init__(
        self, owner: str, counters: Counters, rows: Any, phase: _Phase, outer: RunShape, hold_from: int | None
    ) -> None:
        self.owner = owner
        self.counters = counters
        self.rows = rows
        self.phase = phase
        self.outer = outer
        self.batch = np.atleast_1d(counters.get(TimeUnit.BATCH))[rows]
        self.hold_from = hold_from
        self.held = self.batch >= hold_from if hold_from is not None else None
        self._cache: dict[TimeUnit, np.ndarray] = {}

    def _at(self, unit: TimeUnit, batch: int) -> int:
        value = self.outer.counter_at(unit, batch)
        if value is None:
            needs = "batch_size (samples per batch)" if unit is TimeUnit.SAMPLE else "batch_size and seq_len"
            raise ScheduleError(
                f"{self.owner}: {self.phase.label} ({scheduler_name(self.phase.scheduler)}) "
                f"reads time in {unit.value!r} "
                f"from its start at batch {batch}, which needs the run's {needs}; give them to the State or RunShape"
            )
        return value

    def get(self, unit: TimeUnit) -> Any:
        unit = TimeUnit(unit)
        if unit not in self._cache:
            self._cache[unit] = self._measure(unit)
        return self._cache[unit]

    def _measure(self, unit: TimeUnit) -> np.ndarray:
        values = np.atleast_1d(self.counters.get(unit))[self.rows]
        if unit not in _COUNTERS:
            return values  # iterations and seconds: a synthetic run does not count them
        if self.held is not None and np.any(self.held):
            values = np.where(self.held, self._at(unit, self.hold_from), values)  # type: ignore[arg-type]
        if self.phase.start:
            values = np.maximum(values - self._at(unit, self.phase.start), 0)
        return values


class SequentialScheduler(BuiltinScheduler):
    r"""Schedulers run one after another, each for its duration, each on a clock that starts with it.

    .. math:: \alpha(t) = c_k \, \alpha_k(t - s_k), \quad s_k \le t < s_{k+1}

    where phase :math:`k` starts at batch :math:`s_k`, once the phase before has run for its
    duration (rounded up to whole batches), and :math:`\alpha_k` is its scheduler on a run whose
    ``max_duration`` is the phase's duration (so ``dur`` inside a phase is a fraction of the phase).
    Every counter (``ep``, ``ba``, ``sp``, ``tok``) is measured from the phase's first batch. A
    phase *ends* with its value at :math:`t = d_k`, its whole duration (where a decay reaches its
    ``alpha_f``; where Composer's ``ConstantScheduler`` is back at 1.0), and after the last phase
    that value holds. :math:`c_k = 1`; with ``continuous``,
    :math:`c_k = c_{k-1} \alpha_{k-1}(d_{k-1}) / \alpha_k(0)` (where :math:`\alpha_k(0) \ne 0`), so
    that each phase starts where the one before ended.

    Durations are converted as Composer converts times (``dur`` as a fraction of the whole run,
    other units scaled by SSR, epochs counted in batches), and each phase's scheduler is called
    with the run's SSR. A duration in samples or tokens needs the run's ``batch_size`` and
    ``seq_len``. A phase may be any scheduler: a built-in one is evaluated vectorized, any other
    callable once per timestamp, through a :class:`~sched_cli.state.State` of its own.

    Args:
        phases (list): ``(scheduler, duration)`` pairs, or mappings
            ``{"scheduler": ..., "duration": ...}``, in order.
        continuous (bool): Scale each phase to start where the previous one ended. Default ``False``.
    """

    time_params = ()

    def __init__(self, phases: list[PhaseArg], continuous: bool = False) -> None:
        if isinstance(phases, (str, dict)) or not isinstance(phases, (list, tuple)) or not phases:
            raise ScheduleError(
                f"{self.name}: phases must be a non-empty list of (scheduler, duration) pairs "
                f"or {{'scheduler': ..., 'duration': ...}} mappings, not {phases!r}"
            )
        self.phases = [self._phase(i, phase) for i, phase in enumerate(phases)]
        self.continuous = continuous

    def _phase(self, i: int, phase: Any) -> tuple[Callable[..., Any], TimeArg]:
        where = f"{self.name}: phases[{i}]"
        if isinstance(phase, dict):
            unknown = set(phase) - {"scheduler", "duration"}
            missing = {"scheduler", "duration"} - set(phase)
            if unknown or missing:
                problem = f"has unknown keys {sorted(unknown)}" if unknown else f"lacks {sorted(missing)}"
                raise ScheduleError(f"{where} {problem}; a phase has exactly the keys 'scheduler' and 'duration'")
            scheduler, duration = phase["scheduler"], phase["duration"]
        elif isinstance(phase, (tuple, list)) and len(phase) == 2:
            scheduler, duration = phase
        else:
            raise ScheduleError(f"{where} must be a (scheduler, duration) pair or a mapping, not {phase!r}")
        if not callable(scheduler):
            raise ScheduleError(f"{where}: the scheduler must be a scheduler (a callable), not {scheduler!r}")
        time = _parse_time(self.name, f"phases[{i}].duration", duration)
        if time.value < 0 or time.unit in (TimeUnit.SECOND, TimeUnit.ITERATION):
            raise ScheduleError(f"{where}: duration {duration} must be a positive time in ep, ba, sp, tok or dur")
        return scheduler, duration

    # -- placing the phases on the run --------------------------------------------------------
    def resolve(self, shape: RunShape, ssr: float) -> Resolved:
        phases: list[_Phase] = []
        start = 0
        for i, (scheduler, duration) in enumerate(self.phases):
            param = f"phases[{i}].duration"
            length = convert_time(duration, shape, ssr, owner=self.name, param=param)
            self._nonzero(param, length, duration, shape, ssr)
            # The phase ends where the run's counter has moved ``length`` on from the phase's start.
            begun = shape.counter_at(length.unit, start)
            end = None if begun is None else shape.first_batch_reaching(Time(begun + length.value, length.unit))
            batches = None if end is None else end - start
            if batches is None:
                raise ScheduleError(
                    f"{self.name}: {param}={duration} is {length}; to know how many batches that is, the run's "
                    "batch_size (samples per batch) and, for tokens, seq_len (tokens per sample) must be known"
                )
            own = RunShape(length, shape.dataloader_len, shape.batch_size, shape.seq_len, shape.last_batch_size)
            phase = _Phase(i, scheduler, own, start, start + batches, self._resolve_phase(i, scheduler, own, ssr))
            phases.append(phase)
            start = phase.end
        r = Resolved(phases=phases, starts=np.asarray([p.start for p in phases], dtype=np.int64), shape=shape, ssr=ssr)
        if self.continuous:
            previous_end = None
            for phase in phases:
                at_start = self._alpha_at(r, phase, phase.start) if previous_end is not None else 0.0
                phase.factor = previous_end / at_start if at_start != 0 else 1.0
                previous_end = self._alpha_at(r, phase, phase.end)
        return r

    def _resolve_phase(self, i: int, scheduler: Callable[..., Any], own: RunShape, ssr: float) -> Resolved | None:
        if not isinstance(scheduler, BuiltinScheduler):
            if ssr != 1.0 and not takes_ssr(scheduler):
                call_scheduler(scheduler, None, ssr, ssr_aware=False)  # raises the clear error
            return None
        try:
            return scheduler.resolve(own, ssr)
        except ScheduleError as exc:
            raise ScheduleError(f"{self.name}: phases[{i}]: {exc}") from None

    def _alpha_at(self, r: Resolved, phase: _Phase, batch: int) -> float:
        """Phase ``phase``'s (scaled) multiplier at the start of ``batch`` of the run."""
        # A clock that holds at ``batch`` reads every counter there; only the batch count is needed.
        clock = _PhaseClock(self.name, _OneBatch(batch), slice(None), phase, r.shape, hold_from=batch)
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            alpha = float(self._phase_alpha(r, phase, clock)[0])
        if not math.isfinite(alpha):
            raise ScheduleError(
                f"{self.name}: {phase.label} ({scheduler_name(phase.scheduler)}) is {alpha} at batch {batch}, "
                "where continuous=True needs its value"
            )
        return alpha

    # -- the formula ------------------------------------------------------------------------------
    def formula(self, r: Resolved, counters: Counters) -> Any:
        batch = counters.get(TimeUnit.BATCH)
        scalar = np.ndim(batch) == 0
        which = np.maximum(np.searchsorted(r.starts, np.atleast_1d(batch), side="right") - 1, 0)
        alpha = np.empty(which.shape, dtype=np.float64)
        last = r.phases[-1]
        for phase in r.phases:
            rows = which == phase.index
            if np.any(rows):
                hold_from = last.end if phase is last else None
                clock = _PhaseClock(self.name, counters, rows, phase, r.shape, hold_from)
                alpha[rows] = self._phase_alpha(r, phase, clock)
        return alpha[0] if scalar else alpha

    def _phase_alpha(self, r: Resolved, phase: _Phase, clock: _PhaseClock) -> np.ndarray:
        scheduler = phase.scheduler
        if phase.resolved is not None:
            scheduler.check_reach(phase.resolved, clock)  # type: ignore[attr-defined]
            alpha = scheduler.formula(phase.resolved, clock)  # type: ignore[attr-defined]
            return np.broadcast_to(alpha, clock.batch.shape) * phase.factor
        return self._call_each(r, phase, clock) * phase.factor

    def _call_each(self, r: Resolved, phase: _Phase, clock: _PhaseClock) -> np.ndarray:
        """A custom phase, called once per distinct timestamp through a State of its own."""
        counters = np.stack([clock.get(unit) for unit in _COUNTERS], axis=1)
        distinct, inverse = np.unique(counters, axis=0, return_inverse=True)
        own = phase.shape
        state = State(
            own.max_duration,
            own.dataloader_len,
            batch_size=own.batch_size,
            seq_len=own.seq_len,
            last_batch_size=own.last_batch_size,
        )
        values = np.empty(len(distinct), dtype=np.float64)
        for j, (epoch, batch, sample, token) in enumerate(distinct.tolist()):
            state.timestamp = Timestamp(epoch=epoch, batch=batch, sample=sample, token=token)
            try:
                value = call_scheduler(phase.scheduler, state, r.ssr)
            except ScheduleError:
                raise
            except Exception as exc:  # noqa: BLE001 - user code may raise anything
                raise ScheduleError(
                    f"{self.name}: {phase.label} ({scheduler_name(phase.scheduler)}) "
                    f"raised {type(exc).__name__}: {exc} "
                    f"at batch {batch} of its phase"
                ) from exc
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise ScheduleError(
                    f"{self.name}: {phase.label} ({scheduler_name(phase.scheduler)}) "
                    f"returned {value!r} at batch {batch} "
                    "of its phase; a scheduler must return a number"
                )
            values[j] = value
        return values[inverse.reshape(-1)]

    def breakpoints(self, r: Resolved) -> list[Breakpoint]:
        points = []
        for phase in r.phases:
            if phase.start > 0:
                points.append(Breakpoint(f"phase {phase.index + 1} start", Time(phase.start, TimeUnit.BATCH)))
            if phase.resolved is None:
                continue
            for bp in phase.scheduler.breakpoints(phase.resolved):  # type: ignore[attr-defined]
                batch = phase.shape.first_batch_reaching(bp.time)
                if batch is not None and 0 < batch < phase.end - phase.start:
                    label = f"phase {phase.index + 1} {bp.label}"
                    points.append(Breakpoint(label, Time(phase.start + batch, TimeUnit.BATCH)))
        return points


class _OneBatch:
    """Counters that say only which batch it is (every other counter reads 0)."""

    def __init__(self, batch: int) -> None:
        self.batch = batch

    def get(self, unit: TimeUnit) -> int:
        return self.batch if TimeUnit(unit) is TimeUnit.BATCH else 0
