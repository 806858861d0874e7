r"""DeepSpeed's learning-rate schedules (``deepspeed.runtime.lr_schedules``, 0.19.x), as its engine steps them.

DeepSpeed's schedulers set the optimizer's LR itself (absolute values such as ``warmup_min_lr``),
not a multiplier. Each class here takes the ``params`` of a ``ds_config.json`` ``scheduler`` block
(the same names and defaults) plus ``lr``, the LR the optimizer was built with
(``optimizer.params.lr``, or the Trainer's ``learning_rate``), computes the LR exactly as DeepSpeed
does, and reports ``lr / base_lr`` as its multiplier; the simulator takes the ``lr`` column from
:meth:`DeepSpeedScheduler.learning_rates` directly, so it is DeepSpeed's bit for bit (up to the
last bit of ``log``/``cos``). ``base_lr`` is ``lr`` when given, else the schedule's
own peak (``warmup_max_lr``, ``cycle_max_lr``, ``lr_range_test_min_lr``).

**Stepping.** The engine builds the scheduler (``last_batch_iteration = -1``: the constructor puts
its initial LR on the optimizer) and calls ``step()`` once after every optimizer step, at the
gradient-accumulation boundary, except after an fp16 step that overflowed. So update :math:`k`
(the ``batch`` counter of the run, the count of scheduler steps before it) trains with DeepSpeed's
LR at ``last_batch_iteration`` :math:`i = k - 1`; :math:`k = 0` gets the constructor's LR. Below,
:math:`k` is that count of steps (with ``skipped_steps``, updates after which the step was skipped
are not counted: see :class:`sched_cli.simulator.Run`).

**Warmup** (``WarmupLR``, ``WarmupDecayLR``, ``WarmupCosineLR``): :math:`w = \max(2, W)` with
:math:`W` = ``warmup_num_steps`` (DeepSpeed never warms up over fewer than 2 steps), and the warmup
fraction at :math:`i = k - 1`, for :math:`0 \le i < w`:

.. math:: g(i) = \begin{cases} \ln(i + 1) / \ln w & \text{warmup\_type log (the default)} \\
    i / w & \text{warmup\_type linear} \end{cases}

so the first two updates both train with the minimum (:math:`k = 0`: the constructor's value;
:math:`k = 1`: :math:`g(0) = 0`), and the peak is first reached at update :math:`w + 1`.
An unknown ``warmup_type`` is read as ``log`` (DeepSpeed logs a warning and does so).
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from sched_cli.schedulers.base import Breakpoint, BuiltinScheduler, Counters, Resolved, RunShape, ScheduleError
from sched_cli.time import Time, TimeUnit

__all__ = [
    "DS_SCHEDULERS",
    "DeepSpeedScheduler",
    "DSWarmupLR",
    "DSWarmupDecayLR",
    "DSWarmupCosineLR",
    "DSOneCycle",
    "DSLRRangeTest",
    "warmup_clock",
    "warmup_span",
    "warmup_steps_of",
]

_LOG, _LINEAR = "log", "linear"


def warmup_clock(i: np.ndarray, warmup_type: str) -> np.ndarray:
    """The warmup's clock at ``last_batch_iteration`` ``i``: :math:`g(i) = ` clock / span, with the
    clock ``ln(i + 1)`` (log) or ``i`` (linear); any other ``warmup_type`` is log, as in DeepSpeed."""
    i = np.asarray(i, dtype=np.float64)
    return i if warmup_type == _LINEAR else np.log(i + 1.0)


def warmup_span(w: int, warmup_type: str) -> float:
    """The clock's length over a warmup of ``w = max(2, warmup_num_steps)`` steps: ``ln w`` or ``w``."""
    return float(w) if warmup_type == _LINEAR else math.log(w)


def warmup_steps_of(span: float, warmup_type: str) -> float:
    """The inverse of :func:`warmup_span`: the warmup's steps whose clock spans ``span``
    (what ``sched check`` solves from logged LRs)."""
    return span if warmup_type == _LINEAR else math.exp(span)


def _number(owner: str, param: str, value: Any, *, low: float | None = None, strict: bool = False) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ScheduleError(f"{owner}: {param} must be a finite number, not {value!r}")
    if low is not None and (value <= low if strict else value < low):
        raise ScheduleError(f"{owner}: {param}={value!r} must be {'greater than' if strict else 'at least'} {low:g}")


def _whole(owner: str, param: str, value: Any, *, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise ScheduleError(f"{owner}: {param} must be a whole number of at least {low}, not {value!r}")


class DeepSpeedScheduler(BuiltinScheduler):
    """A DeepSpeed scheduler over the count of engine steps (see the module docstring)."""

    #: The ``scheduler.type`` this class replays.
    ds_name = ""
    lr: float | None = None

    @property
    def name(self) -> str:
        return f"ds:{self.ds_name}"

    @property
    def base_lr(self) -> float:
        """The LR the multiplier is relative to: ``lr``, else the schedule's peak."""
        return self.lr if self.lr is not None else self._default_base()

    def _default_base(self) -> float:
        raise NotImplementedError

    def _check_lr(self, lr: Any) -> None:
        if lr is not None:
            _number(self.name, "lr", lr, low=0, strict=True)
        self.lr = lr

    def resolve(self, shape: RunShape, ssr: float) -> Resolved:
        if ssr != 1.0:
            raise ScheduleError(
                f"{self.name}: DeepSpeed has no scale schedule ratio; its schedule is fixed in steps (use ssr 1)"
            )
        r = Resolved(base=self.base_lr)
        self._resolve(r)
        return r

    def _resolve(self, r: Resolved) -> None:
        """Subclasses add their constants to ``r``."""

    def learning_rates(self, counters: Counters, shape: RunShape, ssr: float = 1.0) -> np.ndarray:
        """The LR DeepSpeed's optimizer holds at each update (see the module docstring)."""
        r = self.resolve(shape, ssr)
        k = np.asarray(counters.get(TimeUnit.BATCH))
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            return np.asarray(self._lrs(r, np.atleast_1d(k).astype(np.int64)), dtype=np.float64).reshape(k.shape)

    def formula(self, r: Resolved, counters: Counters) -> Any:
        k = np.atleast_1d(np.asarray(counters.get(TimeUnit.BATCH))).astype(np.int64)
        lrs = self._lrs(r, k) / r.base
        return lrs if np.ndim(counters.get(TimeUnit.BATCH)) else lrs[0]

    def _lrs(self, r: Resolved, k: np.ndarray) -> np.ndarray:
        """DeepSpeed's LR after ``k`` steps (``last_batch_iteration = k - 1``)."""
        raise NotImplementedError


class _Warmup(DeepSpeedScheduler):
    """The warmup ``WarmupLR``, ``WarmupDecayLR`` and ``WarmupCosineLR`` share."""

    warmup_num_steps: int = 1000
    warmup_type: str = _LOG

    def _check_warmup(self, warmup_num_steps: Any, warmup_type: Any) -> None:
        # DeepSpeed 0.19: "warmup_num_steps must be a positive integer" (a ValueError).
        _whole(self.name, "warmup_num_steps", warmup_num_steps, low=1)
        if not isinstance(warmup_type, str):
            raise ScheduleError(f"{self.name}: warmup_type must be 'log' or 'linear', not {warmup_type!r}")
        self.warmup_num_steps = warmup_num_steps
        self.warmup_type = warmup_type

    @property
    def effective_type(self) -> str:
        """``log`` or ``linear``: DeepSpeed reads any other ``warmup_type`` as ``log``."""
        return self.warmup_type if self.warmup_type in (_LOG, _LINEAR) else _LOG

    def _resolve(self, r: Resolved) -> None:
        r["w"] = max(2, self.warmup_num_steps)
        r["inverse_log"] = 1.0 / warmup_span(r.w, _LOG)

    def _gamma(self, r: Resolved, i: np.ndarray) -> np.ndarray:
        """:math:`g(i)`, the warmup fraction (``_get_gamma`` during the warmup): DeepSpeed multiplies
        by ``1 / ln w`` (log) and divides by ``w`` (linear); kept so, to the last bit."""
        clock = warmup_clock(i, self.effective_type)
        if self.effective_type == _LOG:
            return r.inverse_log * clock
        return clock / r.w

    def breakpoints(self, r: Resolved) -> list[Breakpoint]:
        return [Breakpoint("warmup end", Time(r.w + 1, TimeUnit.BATCH))]


class DSWarmupLR(_Warmup):
    r"""``WarmupLR``: warm up from ``warmup_min_lr`` to ``warmup_max_lr`` (log-shaped by default), then hold.

    .. math:: \eta(k) = \begin{cases} \eta_{min}, & k = 0 \\
        \eta_{min} + (\eta_{max} - \eta_{min})\, g(k - 1), & 1 \le k \le w \\
        \eta_{min} + (\eta_{max} - \eta_{min}), & k > w \end{cases}

    where k is the count of engine steps before the update, w = max(2, warmup_num_steps), and
    g the warmup fraction of the module docstring (log or linear).

    Args:
        warmup_min_lr (float): :math:`\eta_{min}`, the LR the warmup starts from. Default ``0``.
        warmup_max_lr (float): :math:`\eta_{max}`, the LR it reaches; ``None``: the optimizer's LR. Default ``None``.
        warmup_num_steps (int): Steps of the warmup, at least 1 (2 are taken if 1). Default ``1000``.
        warmup_type (str): ``log`` or ``linear``. Default ``log``.
        lr (float): The optimizer's LR (``optimizer.params.lr``), when known. Default ``None``.
    """

    ds_name = "WarmupLR"
    #: ``warmup_max_lr``'s default (``WarmupDecayLR``'s is 0.001).
    _max_default: float | None = None

    def __init__(
        self,
        warmup_min_lr: float = 0.0,
        warmup_max_lr: float | None = None,
        warmup_num_steps: int = 1000,
        warmup_type: str = _LOG,
        lr: float | None = None,
    ) -> None:
        self._check_lr(lr)
        self._check_warmup(warmup_num_steps, warmup_type)
        _number(self.name, "warmup_min_lr", warmup_min_lr)
        if warmup_max_lr is None and lr is None:
            raise ScheduleError(
                f"{self.name}: warmup_max_lr is not set, so DeepSpeed warms up to the optimizer's LR: "
                "give warmup_max_lr, or the optimizer's LR (optimizer.params.lr, --lr)"
            )
        if warmup_max_lr is not None:
            _number(self.name, "warmup_max_lr", warmup_max_lr)
        self.warmup_min_lr = warmup_min_lr
        self.warmup_max_lr = warmup_max_lr

    @property
    def peak(self) -> float:
        return self.warmup_max_lr if self.warmup_max_lr is not None else self.lr  # type: ignore[return-value]

    def _default_base(self) -> float:
        return self.peak

    def _after_warmup(self, r: Resolved, i: np.ndarray) -> np.ndarray:
        """``_get_gamma`` once the warmup is over: 1 (held)."""
        return np.ones(i.shape)

    def _lrs(self, r: Resolved, k: np.ndarray) -> np.ndarray:
        i = k - 1
        warm = i < r.w
        gamma = np.where(warm, self._gamma(r, np.maximum(i, 0)), self._after_warmup(r, i))
        delta = self.peak - self.warmup_min_lr
        lrs = self.warmup_min_lr + delta * gamma
        # Before the first step the constructor put warmup_min_lr on the optimizer.
        return np.where(k == 0, float(self.warmup_min_lr), lrs)


class DSWarmupDecayLR(DSWarmupLR):
    r"""``WarmupDecayLR``: ``WarmupLR``'s warmup, then a straight line down to 0 at ``total_num_steps``.

    .. math:: \eta(k) = \begin{cases} \eta_{min}, & k = 0 \\
        \eta_{min} + (\eta_{max} - \eta_{min})\, g(k - 1), & 1 \le k \le w \\
        \eta_{min} + (\eta_{max} - \eta_{min}) \max(0, (T - k + 1) / \max(1, T - w)), & k > w \end{cases}

    where k is the count of engine steps before the update, w = max(2, warmup_num_steps), g the
    warmup fraction of the module docstring and T = ``total_num_steps``. The line ends at
    :math:`\eta_{min}` (not 0) at update T + 1; past it the LR stays there.

    Args:
        total_num_steps (int): :math:`T`, the steps of the whole schedule. Required.
        warmup_min_lr (float): :math:`\eta_{min}`. Default ``0``.
        warmup_max_lr (float): :math:`\eta_{max}`. Default ``0.001``.
        warmup_num_steps (int): Steps of the warmup, at least 1 (2 are taken if 1). Default ``1000``.
        warmup_type (str): ``log`` or ``linear``. Default ``log``.
        lr (float): The optimizer's LR (``optimizer.params.lr``), when known. Default ``None``.
    """

    ds_name = "WarmupDecayLR"

    def __init__(
        self,
        total_num_steps: int,
        warmup_min_lr: float = 0.0,
        warmup_max_lr: float = 0.001,
        warmup_num_steps: int = 1000,
        warmup_type: str = _LOG,
        lr: float | None = None,
    ) -> None:
        super().__init__(warmup_min_lr, warmup_max_lr, warmup_num_steps, warmup_type, lr)
        _whole(self.name, "total_num_steps", total_num_steps, low=0)
        self.total_num_steps = total_num_steps

    def _after_warmup(self, r: Resolved, i: np.ndarray) -> np.ndarray:
        span = float(max(1.0, self.total_num_steps - r.w))
        return np.maximum(0.0, (self.total_num_steps - i).astype(np.float64) / span)

    def breakpoints(self, r: Resolved) -> list[Breakpoint]:
        return [*super().breakpoints(r), Breakpoint("total_num_steps", Time(self.total_num_steps + 1, TimeUnit.BATCH))]


class DSWarmupCosineLR(_Warmup):
    r"""``WarmupCosineLR``: warm up from ``warmup_min_ratio`` of the optimizer's LR to all of it, then a
    half cosine down to ``cos_min_ratio`` of it at ``total_num_steps``.

    .. math:: \eta(k) = \begin{cases} 0, & k = 0 \\
        \eta_0 (\rho_w + (1 - \rho_w)\, g(k - 1)), & 1 \le k \le w \\
        \eta_0 \max(0, \rho_c + (1 - \rho_c) \tfrac{1}{2}(1 + \cos(\pi \min(1, (k - w) / \max(1, T - w))))),
        & k > w \end{cases}

    where k is the count of engine steps before the update, :math:`\eta_0` the optimizer's LR,
    w = max(2, warmup_num_steps), g the warmup fraction of the module docstring and
    T = ``total_num_steps``. The first update trains with LR 0: the constructor sets 0 on the
    optimizer before any step.

    Args:
        total_num_steps (int): :math:`T`, the steps of the whole schedule. Required.
        warmup_min_ratio (float): :math:`\rho_w`, the warmup's start as a fraction of the LR. Default ``0``.
        warmup_num_steps (int): Steps of the warmup, at least 1 (2 are taken if 1). Default ``1000``.
        cos_min_ratio (float): :math:`\rho_c`, the end as a fraction of the LR. Default ``0.0001``.
        warmup_type (str): ``log`` or ``linear``. Default ``log``.
        lr (float): :math:`\eta_0`, the optimizer's LR (``optimizer.params.lr``). Required.
    """

    ds_name = "WarmupCosineLR"

    def __init__(
        self,
        total_num_steps: int,
        warmup_min_ratio: float = 0.0,
        warmup_num_steps: int = 1000,
        cos_min_ratio: float = 0.0001,
        warmup_type: str = _LOG,
        lr: float | None = None,
    ) -> None:
        self._check_lr(lr)
        if lr is None:
            raise ScheduleError(
                f"{self.name}: its LRs are fractions of the optimizer's LR: give it (optimizer.params.lr, --lr)"
            )
        self._check_warmup(warmup_num_steps, warmup_type)
        _whole(self.name, "total_num_steps", total_num_steps, low=0)
        _number(self.name, "warmup_min_ratio", warmup_min_ratio)
        _number(self.name, "cos_min_ratio", cos_min_ratio)
        self.total_num_steps = total_num_steps
        self.warmup_min_ratio = warmup_min_ratio
        self.cos_min_ratio = cos_min_ratio

    def _default_base(self) -> float:  # pragma: no cover - lr is required
        raise AssertionError

    def _lrs(self, r: Resolved, k: np.ndarray) -> np.ndarray:
        i = k - 1
        warm = i < r.w
        ratio = np.empty(k.shape, dtype=np.float64)
        wi = np.maximum(i[warm], 0)
        ratio[warm] = self.warmup_min_ratio + self._gamma(r, wi) * (1.0 - self.warmup_min_ratio)
        after = ~warm
        real_last = (i[after] - r.w + 1).astype(np.float64)
        real_total = max(1, self.total_num_steps - r.w)
        progress = np.minimum(1.0, real_last / real_total)
        cosine = (1 + np.cos(math.pi * progress)) / 2
        ratio[after] = np.maximum(0.0, self.cos_min_ratio + (1.0 - self.cos_min_ratio) * cosine)
        lrs = self.lr * ratio
        return np.where(k == 0, 0.0, lrs)  # get_lr() before the first step: 0.0, not a ratio of the LR

    def breakpoints(self, r: Resolved) -> list[Breakpoint]:
        return [*super().breakpoints(r), Breakpoint("total_num_steps", Time(self.total_num_steps + 1, TimeUnit.BATCH))]


class DSOneCycle(DeepSpeedScheduler):
    r"""``OneCycle``: up from ``cycle_min_lr`` to ``cycle_max_lr`` and back down in one cycle, then an
    optional decay below ``cycle_min_lr``.

    With :math:`s_1` = ``cycle_first_step_size``, :math:`s_2` = ``cycle_second_step_size``,
    :math:`S = s_1 + s_2`, :math:`r = s_1 / S`, where k is the count of engine steps before the
    update (a float division throughout, as DeepSpeed's):

    .. math:: \eta(k) = \begin{cases} \eta_{min} + (\eta_{max} - \eta_{min})\, f(k), & k - 1 < S \\
        \eta_{min} / (1 + \delta (k - S) / d), & \text{otherwise (decay)} \end{cases}

    with :math:`x = 1 + k/S - \lfloor 1 + k/S \rfloor`, :math:`f = x / r` if :math:`x \le r` else
    :math:`(x - 1)/(r - 1)`; with a stair count n > 0 for that half (``cycle_first_stair_count``,
    ``cycle_second_stair_count``), :math:`f = \lfloor c\,n / s_1 \rfloor / n` going up and
    :math:`\lfloor (S - c)\,n / s_2 \rfloor / n` going down, where c = k mod S. The decay
    (:math:`\delta` = ``decay_lr_rate``, d = ``decay_step_size``) applies only when both are
    non-zero; else the LR stays at :math:`\eta_{min}`. Update 0 trains with :math:`\eta_{min}`.
    Momentum cycling (``cycle_momentum``, ``cycle_min_mom``...) changes Adam's betas, not the LR.

    Args:
        cycle_min_lr (float): :math:`\eta_{min}`. Required.
        cycle_max_lr (float): :math:`\eta_{max}`. Required.
        decay_lr_rate (float): :math:`\delta`. Default ``0``.
        cycle_first_step_size (float): :math:`s_1`, steps going up. Default ``2000``.
        cycle_second_step_size (float): :math:`s_2`, steps going down (may be 0); ``None``: s_1. Default ``None``.
        cycle_first_stair_count (int): Stairs going up; 0: continuous. Default ``0``.
        cycle_second_stair_count (int): Stairs going down; ``None``: the first count. Default ``None``.
        decay_step_size (float): d, steps per decay interval; 0: no decay. Default ``0``.
        lr (float): The optimizer's LR (``optimizer.params.lr``), when known. Default ``None``.
    """

    ds_name = "OneCycle"

    def __init__(
        self,
        cycle_min_lr: float,
        cycle_max_lr: float,
        decay_lr_rate: float = 0.0,
        cycle_first_step_size: float = 2000,
        cycle_second_step_size: float | None = None,
        cycle_first_stair_count: int = 0,
        cycle_second_stair_count: int | None = None,
        decay_step_size: float = 0,
        lr: float | None = None,
    ) -> None:
        self._check_lr(lr)
        for param, value in (
            ("cycle_min_lr", cycle_min_lr),
            ("cycle_max_lr", cycle_max_lr),
            ("decay_lr_rate", decay_lr_rate),
            ("decay_step_size", decay_step_size),
        ):
            _number(self.name, param, value)
        _number(self.name, "cycle_first_step_size", cycle_first_step_size, low=0, strict=True)
        if cycle_second_step_size is not None:  # 0.19: 0 is allowed (a cycle that only goes up)
            _number(self.name, "cycle_second_step_size", cycle_second_step_size, low=0)
        for param, value in (("cycle_first_stair_count", cycle_first_stair_count),):
            _number(self.name, param, value)
        if cycle_second_stair_count is not None:
            _number(self.name, "cycle_second_stair_count", cycle_second_stair_count)
        if decay_step_size == 0 and decay_lr_rate != 0:
            pass  # DeepSpeed skips the decay (decay_step_size close to 0): the LR stays at cycle_min_lr
        self.cycle_min_lr = cycle_min_lr
        self.cycle_max_lr = cycle_max_lr
        self.decay_lr_rate = decay_lr_rate
        self.cycle_first_step_size = cycle_first_step_size
        self.cycle_second_step_size = cycle_second_step_size
        self.cycle_first_stair_count = cycle_first_stair_count
        self.cycle_second_stair_count = cycle_second_stair_count
        self.decay_step_size = decay_step_size

    def _default_base(self) -> float:
        return self.cycle_max_lr

    def _resolve(self, r: Resolved) -> None:
        first = float(self.cycle_first_step_size)
        second = float(self.cycle_second_step_size) if self.cycle_second_step_size is not None else first
        r["first"], r["second"], r["total"] = first, second, first + second
        r["ratio"] = first / r.total
        r["stairs1"] = self.cycle_first_stair_count
        second_stairs = self.cycle_second_stair_count
        r["stairs2"] = self.cycle_first_stair_count if second_stairs is None else second_stairs
        r["decay"] = not (math.isclose(self.decay_step_size, 0) or math.isclose(self.decay_lr_rate, 0))

    def _scale(self, r: Resolved, bi: np.ndarray) -> np.ndarray:
        """``_get_scale_factor`` at ``batch_iteration`` ``bi`` (= k)."""
        bif = bi.astype(np.float64)
        cycle = np.floor(1 + bif / r.total)
        x = 1.0 + bif / r.total - cycle
        up = x <= r.ratio
        scale = np.where(up, x / r.ratio, (x - 1) / (r.ratio - 1))
        stairs = np.where(up, r.stairs1, r.stairs2)
        staired = stairs > 0
        if np.any(staired):
            ci = np.mod(bif, r.total)
            going_up = ci <= r.first
            position = np.where(going_up, ci * stairs / r.first, (r.total - ci) * stairs / r.second)
            with np.errstate(divide="ignore", invalid="ignore"):
                scale = np.where(staired, np.floor(position) / np.where(staired, stairs, 1), scale)
        return scale

    def _lrs(self, r: Resolved, k: np.ndarray) -> np.ndarray:
        in_cycle = (k - 1) < r.total
        lrs = np.empty(k.shape, dtype=np.float64)
        scale = self._scale(r, k[in_cycle])
        lrs[in_cycle] = self.cycle_min_lr + (self.cycle_max_lr - self.cycle_min_lr) * scale
        after = ~in_cycle
        if r.decay:
            interval = (k[after] - r.total) / self.decay_step_size
            lrs[after] = self.cycle_min_lr / (1 + self.decay_lr_rate * interval)
        else:
            lrs[after] = self.cycle_min_lr
        return np.where(k == 0, float(self.cycle_min_lr), lrs)

    def breakpoints(self, r: Resolved) -> list[Breakpoint]:
        return [
            Breakpoint("cycle peak", Time(math.ceil(r.first), TimeUnit.BATCH)),
            Breakpoint("cycle end", Time(math.ceil(r.total), TimeUnit.BATCH)),
        ]


class DSLRRangeTest(DeepSpeedScheduler):
    r"""``LRRangeTest``: the LR grows from ``lr_range_test_min_lr`` without end, linearly or in stairs.

    .. math:: \eta(k) = \eta_{min} (1 + \rho\, q(k)), \qquad
        q(k) = \begin{cases} k / s & \text{continuous} \\ \lfloor k / s \rfloor & \text{staircase} \end{cases}

    where k is the count of engine steps before the update, :math:`\rho` = ``lr_range_test_step_rate``
    and s = ``lr_range_test_step_size``.

    Args:
        lr_range_test_min_lr (float): :math:`\eta_{min}`, the starting LR. Default ``0.001``.
        lr_range_test_step_size (int): s, steps per unit of growth, at least 1. Default ``2000``.
        lr_range_test_step_rate (float): :math:`\rho`, growth per s steps. Default ``1.0``.
        lr_range_test_staircase (bool): Grow in stairs of s steps. Default ``False``.
        lr (float): The optimizer's LR (``optimizer.params.lr``), when known. Default ``None``.
    """

    ds_name = "LRRangeTest"

    def __init__(
        self,
        lr_range_test_min_lr: float = 1e-3,
        lr_range_test_step_size: int = 2000,
        lr_range_test_step_rate: float = 1.0,
        lr_range_test_staircase: bool = False,
        lr: float | None = None,
    ) -> None:
        self._check_lr(lr)
        _number(self.name, "lr_range_test_min_lr", lr_range_test_min_lr)
        # DeepSpeed 0.19: "lr_range_test_step_size must be a positive integer" (a ValueError).
        _whole(self.name, "lr_range_test_step_size", lr_range_test_step_size, low=1)
        _number(self.name, "lr_range_test_step_rate", lr_range_test_step_rate)
        if not isinstance(lr_range_test_staircase, bool):
            raise ScheduleError(f"{self.name}: lr_range_test_staircase must be true or false")
        self.lr_range_test_min_lr = lr_range_test_min_lr
        self.lr_range_test_step_size = lr_range_test_step_size
        self.lr_range_test_step_rate = lr_range_test_step_rate
        self.lr_range_test_staircase = lr_range_test_staircase

    def _default_base(self) -> float:
        return self.lr_range_test_min_lr

    def _lrs(self, r: Resolved, k: np.ndarray) -> np.ndarray:
        interval = k.astype(np.float64) / self.lr_range_test_step_size
        if self.lr_range_test_staircase:
            interval = np.floor(interval)
        return self.lr_range_test_min_lr * (1 + self.lr_range_test_step_rate * interval)


#: ``scheduler.type`` -> class, for every scheduler of ``deepspeed.runtime.lr_schedules``.
DS_SCHEDULERS: dict[str, type[DeepSpeedScheduler]] = {
    cls.ds_name: cls for cls in (DSWarmupLR, DSWarmupDecayLR, DSWarmupCosineLR, DSOneCycle, DSLRRangeTest)
}
