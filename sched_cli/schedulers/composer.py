r"""Composer 0.32's thirteen stateless schedulers, number for number.

Each class keeps Composer's name, constructor signature and defaults. Its formula is written once,
in :meth:`formula`, over counters that are either ints (``__call__``, the Composer protocol) or
numpy arrays (``evaluate``, a whole run at once). Times are converted once per run and SSR in
:meth:`resolve`, exactly as Composer's ``_convert_time`` does on every call.

Quirks of Composer 0.32 that are reproduced on purpose, because the Trainer really uses them:

- ``dur`` times are not scaled by SSR (the Trainer scales ``max_duration`` instead);
- in the warmup schedulers, the end of warmup is always the *unscaled* ``t_warmup``;
  ``scale_warmup=True`` only rescales the slope of the warmup ramp;
- ``ConstantWithWarmupScheduler`` holds ``alpha`` after ``t_max`` (its docstring says 1.0).
"""

from __future__ import annotations

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
    convert_time,
    require_same_unit,
)
from sched_cli.time import Time, TimeUnit

__all__ = [
    "StepScheduler",
    "MultiStepScheduler",
    "ConstantScheduler",
    "LinearScheduler",
    "ExponentialScheduler",
    "CosineAnnealingScheduler",
    "CosineAnnealingWarmRestartsScheduler",
    "PolynomialScheduler",
    "MultiStepWithWarmupScheduler",
    "ConstantWithWarmupScheduler",
    "LinearWithWarmupScheduler",
    "CosineAnnealingWithWarmupScheduler",
    "PolynomialWithWarmupScheduler",
]

# A cap on how many breakpoints a periodic schedule lists (a plot cannot show more).
MAX_BREAKPOINTS = 1000
# Counters are int64: a length beyond this is never reached by any run.
_NEVER_ENDS = 2**62


# -- shared pieces of formulas ----------------------------------------------------------------
def linear(alpha_i: float, alpha_f: float, frac: Any) -> Any:
    r""":math:`\alpha_i + \tau (\alpha_f - \alpha_i)`."""
    return alpha_i + frac * (alpha_f - alpha_i)


def cosine_anneal(x: Any, min_y: float = 0.0, max_y: float = 1.0) -> Any:
    r"""Half a cosine from ``max_y`` to ``min_y`` over :math:`x \in [0, 1]` (``x`` is clipped)."""
    x = np.clip(x, 0.0, 1.0)
    if np.ndim(x) == 0:
        return min_y + (max_y - min_y) * (1 + np.cos(x * np.pi)) / 2
    # The same operations in the same order, in place: a long timeline allocates once.
    y = np.multiply(x, np.pi, out=x)
    np.cos(y, out=y)
    y += 1
    y *= max_y - min_y
    y /= 2
    y += min_y
    return y


def polynomial(frac: Any, power: float, alpha_f: float) -> Any:
    r""":math:`\alpha_f + (1 - \alpha_f)(1 - \tau)^\kappa`."""
    coeff = libm.power(1 - frac, power)
    return alpha_f + coeff * (1.0 - alpha_f)


def _ratio(numerator: Any, denominator: int) -> Any:
    # Time / Time in Composer: a true division of two ints.
    return np.true_divide(numerator, denominator)


def _time(arg: TimeArg) -> TimeArg:
    # Composer's LinearScheduler parses strings eagerly; the others keep what they were given.
    return Time.from_timestring(arg) if isinstance(arg, str) else arg


# -- schedulers without warmup ----------------------------------------------------------------
class StepScheduler(BuiltinScheduler):
    r"""Decays the learning rate discretely at fixed intervals (like PyTorch's ``StepLR``).

    .. math:: \alpha(t) = \gamma ^ {\lfloor t / \rho \rfloor}

    where :math:`t` is the time elapsed in the run, :math:`\rho` is ``step_size`` and :math:`\gamma` is ``gamma``.

    Args:
        step_size (str | Time): Time between decays, :math:`\rho`.
        gamma (float): Multiplicative decay factor. Default ``0.1``.
    """

    time_params = ("step_size",)

    def __init__(self, step_size: TimeArg, gamma: float = 0.1) -> None:
        self.step_size = step_size
        self.gamma = gamma

    def resolve(self, shape: RunShape, ssr: float) -> Resolved:
        step_size = self._convert("step_size", shape, ssr)
        self._nonzero("step_size", step_size, self.step_size, shape, ssr)
        return Resolved(step_size=step_size, shape=shape)

    def formula(self, r: Resolved, counters: Counters) -> Any:
        steps = np.trunc(_ratio(counters.get(r.step_size.unit), r.step_size.value))
        return libm.power(self.gamma, steps)

    def breakpoints(self, r: Resolved) -> list[Breakpoint]:
        return _periodic(r.step_size, r.shape, "step")


class MultiStepScheduler(BuiltinScheduler):
    r"""Decays the learning rate discretely at fixed milestones (like PyTorch's ``MultiStepLR``).

    .. math:: \alpha(t) = \gamma ^ x, \quad x = \text{number of milestones reached by } t

    where :math:`t` is the time elapsed in the run and :math:`\gamma` is ``gamma``.

    Args:
        milestones (list[str | Time]): Times at which the learning rate decays.
        gamma (float): Multiplicative decay factor. Default ``0.1``.
    """

    time_params = ("milestones",)

    def __init__(self, milestones: list[TimeArg], gamma: float = 0.1) -> None:
        self.milestones = milestones
        self.gamma = gamma

    def resolve(self, shape: RunShape, ssr: float) -> Resolved:
        milestones = _convert_milestones(self, shape, ssr)
        return Resolved(milestones=milestones, powers=_powers(self.gamma, len(milestones)))

    def formula(self, r: Resolved, counters: Counters) -> Any:
        return _milestone_factor(r, counters)

    def breakpoints(self, r: Resolved) -> list[Breakpoint]:
        return [Breakpoint(f"milestone {i + 1}", m) for i, m in enumerate(r.milestones)]


class ConstantScheduler(BuiltinScheduler):
    r"""Holds a fixed multiplier for ``t_max``, then 1.0 (like PyTorch's ``ConstantLR``).

    .. math:: \alpha(t) = \begin{cases} \alpha, & t < t_{max} \\ 1.0, & \text{otherwise} \end{cases}

    where :math:`t` is the time elapsed in the run and :math:`\alpha` is ``alpha``.

    Args:
        alpha (float): Multiplier held while active. Default ``1.0``.
        t_max (str | Time): How long it is active. Default ``"1dur"``.
    """

    time_params = ("t_max",)

    def __init__(self, alpha: float = 1.0, t_max: TimeArg = "1dur") -> None:
        self.alpha = alpha
        self.t_max = t_max

    def resolve(self, shape: RunShape, ssr: float) -> Resolved:
        return Resolved(t_max=self._convert("t_max", shape, ssr))

    def formula(self, r: Resolved, counters: Counters) -> Any:
        return np.where(counters.get(r.t_max.unit) < r.t_max.value, self.alpha, 1.0)

    def breakpoints(self, r: Resolved) -> list[Breakpoint]:
        return [Breakpoint("t_max", r.t_max)]


class LinearScheduler(BuiltinScheduler):
    r"""Moves the multiplier linearly from ``alpha_i`` to ``alpha_f`` over ``t_max``.

    .. math:: \alpha(t) = \alpha_i + (\alpha_f - \alpha_i) \times \tau, \quad \tau = \min(1, t / t_{max})

    where :math:`t` is the time elapsed in the run.

    Unlike PyTorch's ``LinearLR``, it decreases from 1.0 to 0.0 by default.

    Args:
        alpha_i (float): Initial multiplier. Default ``1.0``.
        alpha_f (float): Final multiplier. Default ``0.0``.
        t_max (str | Time): Duration of the ramp. Default ``"1dur"``.
    """

    time_params = ("t_max",)

    def __init__(self, alpha_i: float = 1.0, alpha_f: float = 0.0, t_max: TimeArg = "1dur") -> None:
        self.alpha_i = alpha_i
        self.alpha_f = alpha_f
        self.t_max = _time(t_max)

    def resolve(self, shape: RunShape, ssr: float) -> Resolved:
        t_max = self._convert("t_max", shape, ssr)
        self._nonzero("t_max", t_max, self.t_max, shape, ssr)
        return Resolved(t_max=t_max)

    def formula(self, r: Resolved, counters: Counters) -> Any:
        frac = np.minimum(1.0, _ratio(counters.get(r.t_max.unit), r.t_max.value))
        return linear(self.alpha_i, self.alpha_f, frac)

    def breakpoints(self, r: Resolved) -> list[Breakpoint]:
        return [Breakpoint("t_max", r.t_max)]


class ExponentialScheduler(BuiltinScheduler):
    r"""Decays the multiplier by ``gamma`` every ``decay_period``, continuously.

    .. math:: \alpha(t) = \gamma ^ {t / \rho}

    where :math:`t` is the time elapsed in the run, :math:`\gamma` is ``gamma`` and :math:`\rho` is ``decay_period``.

    Args:
        gamma (float): Multiplicative decay factor per period.
        decay_period (str | Time): The period :math:`\rho`. Default ``"1ep"``.
    """

    time_params = ("decay_period",)

    def __init__(self, gamma: float, decay_period: TimeArg = "1ep") -> None:
        self.gamma = gamma
        self.decay_period = decay_period

    def resolve(self, shape: RunShape, ssr: float) -> Resolved:
        period = self._convert("decay_period", shape, ssr)
        self._nonzero("decay_period", period, self.decay_period, shape, ssr)
        return Resolved(period=period)

    def formula(self, r: Resolved, counters: Counters) -> Any:
        return libm.power(self.gamma, _ratio(counters.get(r.period.unit), r.period.value))


class CosineAnnealingScheduler(BuiltinScheduler):
    r"""Decays the multiplier along half a cosine (like PyTorch's ``CosineAnnealingLR``).

    .. math:: \alpha(t) = \alpha_f + (1 - \alpha_f) \times \tfrac{1}{2} (1 + \cos(\pi \tau)),
        \quad \tau = \text{clip}(t / t_{max}, 0, 1)

    where :math:`t` is the time elapsed in the run.

    Args:
        t_max (str | Time): Duration of the decay. Default ``"1dur"``.
        alpha_f (float): Final multiplier. Default ``0.0``.
    """

    time_params = ("t_max",)

    def __init__(self, t_max: TimeArg = "1dur", alpha_f: float = 0.0) -> None:
        self.t_max = t_max
        self.alpha_f = alpha_f

    def resolve(self, shape: RunShape, ssr: float) -> Resolved:
        t_max = self._convert("t_max", shape, ssr)
        self._nonzero("t_max", t_max, self.t_max, shape, ssr)
        return Resolved(t_max=t_max)

    def formula(self, r: Resolved, counters: Counters) -> Any:
        return cosine_anneal(_ratio(counters.get(r.t_max.unit), r.t_max.value), self.alpha_f)

    def breakpoints(self, r: Resolved) -> list[Breakpoint]:
        return [Breakpoint("t_max", r.t_max)]


class CosineAnnealingWarmRestartsScheduler(BuiltinScheduler):
    r"""Cosine decay that restarts, each cycle ``t_mult`` times as long as the last (SGDR).

    .. math:: \alpha(t) = \alpha_f + (1 - \alpha_f) \times \tfrac{1}{2}(1 + \cos(\pi \tau_i)),
        \quad \tau_i = (t - \textstyle\sum_{j<i} t_j) / t_i, \quad t_{j+1} = \lfloor t_{mult} \, t_j \rfloor

    where :math:`t` is the time elapsed in the run, cycle :math:`i` is the one :math:`t` falls in
    and :math:`t_i` its length (:math:`t_0` is ``t_0``).

    Args:
        t_0 (str | Time): Length of the first cycle.
        t_mult (float): Factor on the length of each next cycle. Default ``1.0``.
        alpha_f (float): Multiplier at the end of each cycle. Default ``0.0``.
    """

    time_params = ("t_0",)

    def __init__(self, t_0: TimeArg, t_mult: float = 1.0, alpha_f: float = 0.0) -> None:
        self.t_0 = t_0
        self.t_mult = t_mult
        self.alpha_f = alpha_f

    def resolve(self, shape: RunShape, ssr: float) -> Resolved:
        t_0 = self._convert("t_0", shape, ssr)
        self._nonzero("t_0", t_0, self.t_0, shape, ssr)
        return Resolved(t_0=t_0, cycles=_Cycles(t_0.value, self.t_mult), shape=shape)

    def check_reach(self, r: Resolved, counters: Counters) -> None:
        t = counters.get(r.t_0.unit)
        latest = int(np.max(t)) if np.size(t) else 0
        dead_end = r.cycles.dead_end(latest)
        if dead_end is not None and latest >= dead_end:
            raise ScheduleError(
                f"{self.name}: the interval between restarts decays to 0 at {dead_end}{r.t_0.unit.value} "
                f"(t_0={self.t_0} is {r.t_0}, t_mult={self.t_mult:g}), before the run ends; "
                "use t_mult >= 1 or a longer t_0"
            )

    def formula(self, r: Resolved, counters: Counters) -> Any:
        t = counters.get(r.t_0.unit)
        start, length = r.cycles.locate(t)
        return cosine_anneal(_ratio(t - start, length), self.alpha_f)

    def breakpoints(self, r: Resolved) -> list[Breakpoint]:
        end = _run_end(r.shape, r.t_0.unit)
        starts = r.cycles.starts_until(end if end is not None else r.t_0.value * 10)
        return [Breakpoint(f"restart {i}", Time(int(s), r.t_0.unit)) for i, s in enumerate(starts[1:], 1)]


class PolynomialScheduler(BuiltinScheduler):
    r"""Multiplier proportional to a power of the fraction of time left.

    .. math:: \alpha(t) = \alpha_f + (1 - \alpha_f) \times (1 - \tau) ^ {\kappa}, \quad \tau = \min(1, t / t_{max})

    where :math:`t` is the time elapsed in the run and :math:`\kappa` is ``power``.

    Args:
        power (float): The exponent :math:`\kappa`.
        t_max (str | Time): Duration of the decay. Default ``"1dur"``.
        alpha_f (float): Final multiplier. Default ``0.0``.
    """

    time_params = ("t_max",)

    def __init__(self, power: float, t_max: TimeArg = "1dur", alpha_f: float = 0.0) -> None:
        self.t_max = t_max
        self.power = power
        self.alpha_f = alpha_f

    def resolve(self, shape: RunShape, ssr: float) -> Resolved:
        t_max = self._convert("t_max", shape, ssr)
        self._nonzero("t_max", t_max, self.t_max, shape, ssr)
        return Resolved(t_max=t_max)

    def formula(self, r: Resolved, counters: Counters) -> Any:
        frac = np.minimum(1.0, _ratio(counters.get(r.t_max.unit), r.t_max.value))
        return polynomial(frac, self.power, self.alpha_f)

    def breakpoints(self, r: Resolved) -> list[Breakpoint]:
        return [Breakpoint("t_max", r.t_max)]


# -- schedulers with warmup -------------------------------------------------------------------
class _WarmupScheduler(BuiltinScheduler):
    r"""A linear warmup from 0 to ``peak`` over ``t_warmup``, then :meth:`after_warmup`.

    Composer ends the warmup at the *unscaled* ``t_warmup``; with ``scale_warmup=True`` the ramp
    itself runs over ``t_warmup`` scaled by SSR (so it may saturate or stop short of its peak).
    """

    t_warmup: TimeArg
    scale_warmup: bool

    def _resolve_warmup(self, shape: RunShape, ssr: float) -> Resolved:
        t_warmup = self._convert("t_warmup", shape)
        ramp = self._convert("t_warmup", shape, ssr if self.scale_warmup else 1.0)
        r = Resolved(t_warmup=t_warmup, ramp=ramp, ramp_error=None, after_warmup_error=None)
        if t_warmup.value > 0:
            # Composer divides by the ramp only while warming up, so the error waits until then.
            try:
                self._nonzero("t_warmup (scaled by scale_warmup)", ramp, self.t_warmup, shape, ssr)
            except ScheduleError as exc:
                r["ramp_error"] = exc
        return r

    def check_reach(self, r: Resolved, counters: Counters) -> None:
        t = np.asarray(counters.get(r.t_warmup.unit))
        if r.ramp_error is not None and np.any(t < r.t_warmup.value):
            raise r.ramp_error.with_traceback(None)
        if r.after_warmup_error is not None and np.any(t >= r.t_warmup.value):
            raise r.after_warmup_error.with_traceback(None)

    def _resolve_t_max(self, r: Resolved, shape: RunShape, ssr: float) -> None:
        """Convert ``t_max`` and run Composer's checks on it, in Composer's order."""
        t_max = self._convert("t_max", shape, ssr)
        require_same_unit(self.name, t_warmup=(self.t_warmup, r.t_warmup), t_max=(self.t_max, t_max))
        _check_t_max_covers_run(self.name, self.t_max, t_max, shape)
        r["t_max"] = t_max

    def peak(self) -> float:
        return 1.0

    def after_warmup(self, r: Resolved, counters: Counters) -> Any:
        raise NotImplementedError

    def formula(self, r: Resolved, counters: Counters) -> Any:
        t = counters.get(r.t_warmup.unit)
        alpha = self.after_warmup(r, counters)
        warming = t < r.t_warmup.value
        if np.ndim(t) == 0:
            return self._ramp(r, t) if warming else alpha
        # Only the (usually few) warmup steps need the ramp: compute it there alone. A constant
        # ``alpha`` (no milestones, say) comes back as one number: spread it over the timeline.
        alpha = np.array(np.broadcast_to(alpha, np.shape(t)), dtype=np.float64)
        alpha[warming] = self._ramp(r, t[warming])
        return alpha

    def _ramp(self, r: Resolved, t: Any) -> Any:
        r"""The warmup ramp :math:`\alpha_{peak} \min(1, t / t_{warmup})` (``t_warmup`` scaled if asked)."""
        return linear(0.0, self.peak(), np.minimum(1.0, _ratio(t, r.ramp.value)))

    def _decay_fraction(self, r: Resolved, counters: Counters) -> Any:
        r"""Post-warmup progress :math:`\tau_w = \min(1, (t - t_{warmup}) / (t_{max} - t_{warmup}))`."""
        t = counters.get(r.t_warmup.unit)
        span = r.t_max.value - r.t_warmup.value
        if span <= 0:
            return np.zeros_like(t, dtype=np.float64) if np.ndim(t) else 0.0
        return np.minimum(1.0, _ratio(t - r.t_warmup.value, span))

    def breakpoints(self, r: Resolved) -> list[Breakpoint]:
        points = [Breakpoint("warmup end", r.t_warmup)] if r.t_warmup.value > 0 else []
        if "t_max" in r:
            points.append(Breakpoint("t_max", r.t_max))
        return points


class MultiStepWithWarmupScheduler(_WarmupScheduler):
    r"""Linear warmup, then decays by ``gamma`` at each milestone.

    .. math:: \alpha(t) = \begin{cases} t / t_{warmup}, & t < t_{warmup} \\ \gamma ^ x, & \text{otherwise} \end{cases}

    where :math:`t` is the time elapsed in the run, :math:`\gamma` is ``gamma`` and :math:`x` is the
    number of ``milestones`` reached by :math:`t` (0 before the first).

    Milestones inside the warmup take effect only once it ends. As in Composer, they are converted
    only then too: one that cannot be (in epochs without ``dataloader_len``, say) fails only after warmup.

    Args:
        t_warmup (str | Time): Warmup time.
        milestones (list[str | Time]): Times at which the learning rate decays.
        gamma (float): Multiplicative decay factor. Default ``0.1``.
        scale_warmup (bool): Let SSR scale the warmup ramp too. Default ``False``.
    """

    time_params = ("t_warmup", "milestones")

    def __init__(
        self, t_warmup: TimeArg, milestones: list[TimeArg], gamma: float = 0.1, scale_warmup: bool = False
    ) -> None:
        self.t_warmup = t_warmup
        self.milestones = milestones
        self.gamma = gamma
        self.scale_warmup = scale_warmup

    def resolve(self, shape: RunShape, ssr: float) -> Resolved:
        r = self._resolve_warmup(shape, ssr)
        self._warn_zero_warmup(r.t_warmup)
        try:
            r["milestones"] = _convert_milestones(self, shape, ssr)
        except (ValueError, TypeError) as exc:
            # Composer converts the milestones only once warmup is over, so the error waits until then.
            r["milestones"], r["after_warmup_error"] = [], exc
        r["powers"] = _powers(self.gamma, len(r.milestones))
        return r

    def after_warmup(self, r: Resolved, counters: Counters) -> Any:
        return _milestone_factor(r, counters)

    def breakpoints(self, r: Resolved) -> list[Breakpoint]:
        return super().breakpoints(r) + [Breakpoint(f"milestone {i + 1}", m) for i, m in enumerate(r.milestones)]


class LinearWithWarmupScheduler(_WarmupScheduler):
    r"""Linear warmup to ``alpha_i``, then linear from ``alpha_i`` to ``alpha_f`` until ``t_max``.

    .. math:: \alpha(t) = \begin{cases} \alpha_i \, t / t_{warmup}, & t < t_{warmup} \\
        \alpha_i + (\alpha_f - \alpha_i) \times \tau_w, & \text{otherwise} \end{cases}
        \quad \tau_w = \min(1, (t - t_{warmup}) / (t_{max} - t_{warmup}))

    where :math:`t` is the time elapsed in the run.

    Args:
        t_warmup (str | Time): Warmup time.
        alpha_i (float): Multiplier at the end of warmup. Default ``1.0``.
        alpha_f (float): Final multiplier. Default ``0.0``.
        t_max (str | Time): Duration of the whole schedule. Default ``"1dur"``.
        scale_warmup (bool): Let SSR scale the warmup ramp too. Default ``False``.
    """

    time_params = ("t_warmup", "t_max")

    def __init__(
        self,
        t_warmup: TimeArg,
        alpha_i: float = 1.0,
        alpha_f: float = 0.0,
        t_max: TimeArg = "1dur",
        scale_warmup: bool = False,
    ) -> None:
        self.t_warmup = t_warmup
        self.alpha_i = alpha_i
        self.alpha_f = alpha_f
        self.t_max = t_max
        self.scale_warmup = scale_warmup

    def resolve(self, shape: RunShape, ssr: float) -> Resolved:
        r = self._resolve_warmup(shape, ssr)
        self._resolve_t_max(r, shape, ssr)
        self._warn_zero_warmup(r.t_warmup)
        return r

    def peak(self) -> float:
        return self.alpha_i

    def after_warmup(self, r: Resolved, counters: Counters) -> Any:
        return linear(self.alpha_i, self.alpha_f, self._decay_fraction(r, counters))


class ConstantWithWarmupScheduler(LinearWithWarmupScheduler):
    r"""Linear warmup to ``alpha``, then holds ``alpha``.

    .. math:: \alpha(t) = \begin{cases} \alpha \, t / t_{warmup}, & t < t_{warmup} \\
        \alpha, & \text{otherwise} \end{cases}

    where :math:`t` is the time elapsed in the run and :math:`\alpha` is ``alpha``.

    Composer builds it as a :class:`LinearWithWarmupScheduler` from ``alpha`` to ``alpha``, so it
    holds ``alpha`` after ``t_max`` too (its documentation says 1.0; the code says ``alpha``).

    Args:
        t_warmup (str | Time): Warmup time.
        alpha (float): Multiplier held after warmup. Default ``1.0``.
        t_max (str | Time): Duration of the schedule. Default ``"1dur"``.
        scale_warmup (bool): Let SSR scale the warmup ramp too. Default ``False``.
    """

    def __init__(
        self, t_warmup: TimeArg, alpha: float = 1.0, t_max: TimeArg = "1dur", scale_warmup: bool = False
    ) -> None:
        super().__init__(t_warmup=t_warmup, alpha_i=alpha, alpha_f=alpha, t_max=t_max, scale_warmup=scale_warmup)
        self.alpha = alpha

    def __repr__(self) -> str:
        return (
            f"{self.name}(t_warmup={self.t_warmup!r}, alpha={self.alpha!r}, t_max={self.t_max!r}, "
            f"scale_warmup={self.scale_warmup!r})"
        )


class CosineAnnealingWithWarmupScheduler(_WarmupScheduler):
    r"""Linear warmup, then cosine decay to ``alpha_f`` at ``t_max``.

    .. math:: \alpha(t) = \begin{cases} t / t_{warmup}, & t < t_{warmup} \\
        \alpha_f + (1 - \alpha_f) \times \tfrac{1}{2} (1 + \cos(\pi \tau_w)), & \text{otherwise} \end{cases}
        \quad \tau_w = \min(1, (t - t_{warmup}) / (t_{max} - t_{warmup}))

    where :math:`t` is the time elapsed in the run.

    Args:
        t_warmup (str | Time): Warmup time.
        t_max (str | Time): Duration of the whole schedule. Default ``"1dur"``.
        alpha_f (float): Final multiplier. Default ``0.0``.
        scale_warmup (bool): Let SSR scale the warmup ramp too. Default ``False``.
    """

    time_params = ("t_warmup", "t_max")

    def __init__(
        self, t_warmup: TimeArg, t_max: TimeArg = "1dur", alpha_f: float = 0.0, scale_warmup: bool = False
    ) -> None:
        self.t_warmup = t_warmup
        self.t_max = t_max
        self.alpha_f = alpha_f
        self.scale_warmup = scale_warmup

    def resolve(self, shape: RunShape, ssr: float) -> Resolved:
        r = self._resolve_warmup(shape, ssr)
        self._resolve_t_max(r, shape, ssr)
        self._warn_zero_warmup(r.t_warmup)
        return r

    def after_warmup(self, r: Resolved, counters: Counters) -> Any:
        return cosine_anneal(self._decay_fraction(r, counters), self.alpha_f)


class PolynomialWithWarmupScheduler(_WarmupScheduler):
    r"""Linear warmup, then a polynomial decay to ``alpha_f`` at ``t_max``.

    .. math:: \alpha(t) = \begin{cases} t / t_{warmup}, & t < t_{warmup} \\
        \alpha_f + (1 - \alpha_f) \times (1 - \tau_w) ^ {\kappa}, & \text{otherwise} \end{cases}
        \quad \tau_w = \min(1, (t - t_{warmup}) / (t_{max} - t_{warmup}))

    where :math:`t` is the time elapsed in the run and :math:`\kappa` is ``power``.

    Args:
        t_warmup (str | Time): Warmup time.
        power (float): The exponent :math:`\kappa`. Default ``2.0``.
        t_max (str | Time): Duration of the whole schedule. Default ``"1dur"``.
        alpha_f (float): Final multiplier. Default ``0.0``.
        scale_warmup (bool): Let SSR scale the warmup ramp too. Default ``False``.
    """

    time_params = ("t_warmup", "t_max")

    def __init__(
        self,
        t_warmup: TimeArg,
        power: float = 2.0,
        t_max: TimeArg = "1dur",
        alpha_f: float = 0.0,
        scale_warmup: bool = False,
    ) -> None:
        self.t_warmup = t_warmup
        self.power = power
        self.t_max = t_max
        self.alpha_f = alpha_f
        self.scale_warmup = scale_warmup

    def resolve(self, shape: RunShape, ssr: float) -> Resolved:
        r = self._resolve_warmup(shape, ssr)
        self._resolve_t_max(r, shape, ssr)
        self._warn_zero_warmup(r.t_warmup)
        return r

    def after_warmup(self, r: Resolved, counters: Counters) -> Any:
        return polynomial(self._decay_fraction(r, counters), self.power, self.alpha_f)


# -- helpers ----------------------------------------------------------------------------------
def _convert_milestones(owner: BuiltinScheduler, shape: RunShape, ssr: float) -> list[Time]:
    milestones = owner.milestones  # type: ignore[attr-defined]
    if isinstance(milestones, (str, Time)) or not hasattr(milestones, "__iter__"):
        raise ScheduleError(f"{owner.name}: milestones must be a list of times, not {milestones!r}")
    return [convert_time(m, shape, ssr, owner=owner.name, param=f"milestones[{i}]") for i, m in enumerate(milestones)]


def _powers(gamma: float, count: int) -> np.ndarray:
    # Composer multiplies a factor by gamma once per milestone reached; a table of those running
    # products keeps every bit (gamma ** k may round differently).
    factors = [1.0]
    for _ in range(count):
        factors.append(factors[-1] * gamma)
    return np.asarray(factors, dtype=np.float64)


def _milestone_factor(r: Resolved, counters: Counters) -> Any:
    reached: Any = 0
    for milestone in r.milestones:
        reached = reached + (counters.get(milestone.unit) >= milestone.value)
    return r.powers[reached]


def _check_t_max_covers_run(owner: str, original: Any, t_max: Time, shape: RunShape) -> None:
    """Composer's check that ``t_max`` is not shorter than ``max_duration`` (where comparable)."""
    max_duration = shape.max_duration
    if t_max.unit is max_duration.unit:
        run = max_duration.value
    elif t_max.unit is TimeUnit.BATCH and max_duration.unit is TimeUnit.EPOCH and shape.dataloader_len is not None:
        run = max_duration.value * shape.dataloader_len
    else:
        return  # not comparable: Composer only logs this
    if t_max.value < run:
        raise ScheduleError(
            f"{owner}: t_max={original} is {t_max} for this run, shorter than max_duration {max_duration}"
            f"{'' if t_max.unit is max_duration.unit else f' ({run}{t_max.unit.value})'}; "
            "the schedule would not be defined for the whole run (Composer rejects this)"
        )


def _run_end(shape: RunShape, unit: TimeUnit) -> int | None:
    """The run's length in ``unit`` where it is known without simulating, else ``None``."""
    md = shape.max_duration
    if md.unit is unit:
        return md.value
    if md.unit is TimeUnit.EPOCH and unit is TimeUnit.BATCH and shape.dataloader_len is not None:
        return md.value * shape.dataloader_len
    return None


def _periodic(period: Time, shape: RunShape, label: str) -> list[Breakpoint]:
    end = _run_end(shape, period.unit)
    if end is None or period.value <= 0:
        return []
    count = min(end // period.value, MAX_BREAKPOINTS)
    return [Breakpoint(f"{label} {k}", Time(k * period.value, period.unit)) for k in range(1, count + 1)]


class _Cycles:
    """The restart cycles of SGDR: lengths ``t_0, int(t_mult * t_0), ...`` laid end to end.

    Cycles are generated up to the latest time asked for. Once a length stops changing
    (``int(t_mult * L) == L``) every later cycle has that length, so the rest is arithmetic and
    a run of any length costs only the cycles before that point.
    """

    def __init__(self, t_0: int, t_mult: float) -> None:
        self.t_mult = t_mult
        self.starts = [0]
        self.lengths = [t_0]
        self.steady = False  # lengths[-1] repeats forever
        self.zero_at: int | None = None  # where a cycle of length 0 begins

    def _extend(self, until: int) -> None:
        while not self.steady and self.zero_at is None and self.starts[-1] + self.lengths[-1] <= until:
            length = self.lengths[-1]
            following = int(self.t_mult * length)
            if following <= 0:  # 0 is Composer's error; a negative length would loop forever there
                self.zero_at = self.starts[-1] + length
            elif following == length:
                self.steady = True
            elif following >= _NEVER_ENDS:
                # A cycle longer than any run can count to: no later restart is ever reached.
                self.starts.append(self.starts[-1] + length)
                self.lengths.append(_NEVER_ENDS)
                self.steady = True
            else:
                self.starts.append(self.starts[-1] + length)
                self.lengths.append(following)

    def dead_end(self, until: int) -> int | None:
        self._extend(until)
        return self.zero_at

    def locate(self, t: Any) -> tuple[Any, Any]:
        """Start and length of the cycle that holds each ``t``."""
        latest = int(np.max(t)) if np.size(t) else 0
        self._extend(latest)
        starts = np.asarray(self.starts, dtype=np.int64)
        lengths = np.asarray(self.lengths, dtype=np.int64)
        index = np.searchsorted(starts, t, side="right") - 1
        start, length = starts[index], lengths[index]
        if self.steady:
            last_start, last_length = self.starts[-1], self.lengths[-1]
            beyond = np.asarray(t) >= last_start
            start = np.where(beyond, last_start + (np.asarray(t) - last_start) // last_length * last_length, start)
            length = np.where(beyond, last_length, length)
        return start, length

    def starts_until(self, end: int) -> list[int]:
        self._extend(end)
        starts = [s for s in self.starts if s < end]
        if self.steady:
            step = self.lengths[-1]
            nxt = self.starts[-1] + step
            while nxt < end and len(starts) < MAX_BREAKPOINTS:
                starts.append(nxt)
                nxt += step
        return starts[:MAX_BREAKPOINTS]
