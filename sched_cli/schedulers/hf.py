r"""Hugging Face ``transformers`` 5.x learning-rate schedules, over the optimizer-update counter.

Each class is one ``lr_scheduler_type`` of ``TrainingArguments`` (``transformers/optimization.py``:
the ``LambdaLR`` factor of ``get_*_schedule*``), written once for a single step and for a whole
timeline, in the same order of floating-point operations as Hugging Face's, so the factors agree
to the bit wherever numpy's ``cos``/``sqrt`` agree with Python's ``math``.

The counter :math:`k` is the update index (the Trainer's ``global_step`` before the update; the
``batch`` counter of a sched run whose batches are optimizer updates, as the HF reader makes
them). Two quantities come from the run, as the Trainer computes them:

- :math:`T`, ``num_training_steps``: the run's length in updates (``max_duration`` in ``ba``, or
  in ``ep`` times ``dataloader_len``);
- :math:`w`, ``num_warmup_steps``: ``TrainingArguments.get_warmup_steps(T)``, i.e.
  ``int(warmup_steps)`` when ``warmup_steps >= 1``, else :math:`\lceil T \cdot warmup\_steps \rceil`
  (a float below 1 is a ratio of the run).

A Composer-style SSR is not applied here: Hugging Face has none. The HF reader's runs scale the
run length itself (see :func:`sched_cli.simulator.hf_scaled_length`) and everything follows.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from sched_cli.schedulers import libm
from sched_cli.schedulers.base import Breakpoint, BuiltinScheduler, Counters, Resolved, RunShape, ScheduleError
from sched_cli.time import Time, TimeUnit

__all__ = [
    "HF_SCHEDULERS",
    "NOT_PREVIEWABLE",
    "HFLinearScheduler",
    "HFCosineScheduler",
    "HFCosineWithRestartsScheduler",
    "HFPolynomialScheduler",
    "HFConstantScheduler",
    "HFConstantWithWarmupScheduler",
    "HFInverseSqrtScheduler",
    "HFCosineWithMinLRScheduler",
    "HFCosineWarmupWithMinLRScheduler",
    "HFWarmupStableDecayScheduler",
    "hf_warmup_steps",
]

#: ``lr_scheduler_type`` values whose LR follows a metric, which no preview can know.
NOT_PREVIEWABLE = {
    "reduce_lr_on_plateau": "ReduceLROnPlateau lowers the LR when an evaluation metric stops improving",
    "greedy": "GreedyLR raises or lowers the LR as the training metric improves or stalls",
}


def hf_warmup_steps(warmup_steps: float, num_training_steps: int) -> int:
    r"""``TrainingArguments.get_warmup_steps``: ``int(w)`` if :math:`w \ge 1`, else :math:`\lceil T w \rceil`."""
    if warmup_steps >= 1:
        return int(warmup_steps)
    return math.ceil(num_training_steps * warmup_steps)


def _number(owner: str, param: str, value: Any, *, low: float | None = None, strict: bool = False) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ScheduleError(f"{owner}: {param} must be a finite number, not {value!r}")
    if low is not None and (value <= low if strict else value < low):
        raise ScheduleError(f"{owner}: {param}={value!r} must be {'greater than' if strict else 'at least'} {low:g}")


def _linear_warmup(k: Any, w: int) -> Any:
    """:math:`k / \\max(1, w)`, the warmup every type but two shares."""
    return np.true_divide(k, max(1, w))


class _HFScheduler(BuiltinScheduler):
    """A ``LambdaLR`` factor of Hugging Face over the update counter (see the module docstring)."""

    #: The ``lr_scheduler_type`` this class replays.
    hf_name = ""
    #: Whether the type has a warmup (``constant`` has none: Hugging Face passes it no steps).
    has_warmup = True
    warmup_steps: float = 0

    def _check_warmup(self, warmup_steps: Any) -> None:
        _number(self.name, "warmup_steps", warmup_steps, low=0)
        self.warmup_steps = warmup_steps

    @property
    def name(self) -> str:
        return f"hf:{self.hf_name}"

    def resolve(self, shape: RunShape, ssr: float) -> Resolved:
        total = _updates(shape, self.name)
        warmup = hf_warmup_steps(self.warmup_steps, total) if self.has_warmup else 0
        r = Resolved(total=total, warmup=warmup)
        self._resolve_more(r)
        return r

    def _resolve_more(self, r: Resolved) -> None:
        """Type-specific constants of the factor, from ``r.total`` and ``r.warmup``."""

    def formula(self, r: Resolved, counters: Counters) -> Any:
        k = counters.get(TimeUnit.BATCH)
        if not self.has_warmup or r.warmup == 0:
            return self.after_warmup(r, k)
        return np.where(np.less(k, r.warmup), self.warmup(r, k), self.after_warmup(r, k))

    def warmup(self, r: Resolved, k: Any) -> Any:
        return _linear_warmup(k, r.warmup)

    def after_warmup(self, r: Resolved, k: Any) -> Any:
        raise NotImplementedError

    def breakpoints(self, r: Resolved) -> list[Breakpoint]:
        points = [Breakpoint("warmup end", Time(r.warmup, TimeUnit.BATCH))] if r.warmup > 0 else []
        return points + [Breakpoint("num_training_steps", Time(r.total, TimeUnit.BATCH))]

    def warmup_note(self, r: Resolved) -> str | None:
        """A warning when the warmup takes half the run or more: a fixed ``warmup_steps`` meant for
        a longer run (more data, fewer devices, less accumulation) is the classic surprise."""
        if not self.has_warmup or 2 * r.warmup < r.total:
            return None
        if r.warmup >= r.total:
            return (
                f"{self.name}: the warmup ({r.warmup:,} updates) lasts the whole run of {r.total:,}: "
                "the LR never reaches learning_rate; check warmup_steps against the run's length"
            )
        return (
            f"{self.name}: the warmup is {r.warmup:,} of the run's {r.total:,} updates "
            f"({100 * r.warmup / r.total:.0f}%); check warmup_steps against the run's length, which "
            "follows the dataset size, devices and gradient accumulation"
        )


def _updates(shape: RunShape, owner: str) -> int:
    """``num_training_steps``: the run's length in optimizer updates."""
    md = shape.max_duration
    if md.unit is TimeUnit.BATCH:
        return int(md.value)
    if md.unit is TimeUnit.EPOCH and shape.dataloader_len:
        return int(md.value) * shape.dataloader_len
    raise ScheduleError(
        f"{owner}: counts optimizer updates, so max_duration must be in ba (or ep with dataloader_len), "
        f"not {md}; Hugging Face's Trainer computes it as max_steps"
    )


def _progress(r: Resolved, k: Any) -> Any:
    """:math:`p = (k - w) / \\max(1, T - w)`, the decay's progress."""
    return np.true_divide(np.subtract(k, r.warmup), max(1, r.total - r.warmup))


def _half_cosine(num_cycles: float, progress: Any) -> Any:
    r""":math:`\tfrac{1}{2}(1 + \cos(\pi \cdot c \cdot 2 \cdot p))`, in Hugging Face's order of operations."""
    return 0.5 * (1.0 + np.cos(math.pi * float(num_cycles) * 2.0 * progress))


# -- the types ------------------------------------------------------------------------------------
class HFLinearScheduler(_HFScheduler):
    r"""``linear``: linear warmup, then a straight line down to 0 at ``num_training_steps``.

    .. math:: \alpha(k) = \begin{cases} k / \max(1, w), & k < w \\
        \max(0, (T - k) / \max(1, T - w)), & \text{otherwise} \end{cases}

    where k is the count of optimizer updates before this one, w the warmup's updates and T the
    run's (``num_training_steps``).

    Args:
        warmup_steps (float): Warmup updates (an int), or a float below 1 as a ratio of the run. Default ``0``.
    """

    hf_name = "linear"

    def __init__(self, warmup_steps: float = 0) -> None:
        self._check_warmup(warmup_steps)

    def after_warmup(self, r: Resolved, k: Any) -> Any:
        return np.maximum(0.0, np.true_divide(np.subtract(r.total, k), max(1, r.total - r.warmup)))


class HFCosineScheduler(_HFScheduler):
    r"""``cosine``: linear warmup, then a cosine from 1 to 0 (``num_cycles`` waves; half by default).

    .. math:: \alpha(k) = \begin{cases} k / \max(1, w), & k < w \\
        \max(0, \tfrac{1}{2}(1 + \cos(2 \pi c p))), & \text{otherwise} \end{cases}

    where k is the count of optimizer updates before this one, w the warmup's updates and T the
    run's (``num_training_steps``),
    with :math:`p = (k - w) / \max(1, T - w)`.

    Args:
        warmup_steps (float): Warmup updates (an int), or a float below 1 as a ratio of the run. Default ``0``.
        num_cycles (float): Waves of the cosine, :math:`c`. Default ``0.5``.
    """

    hf_name = "cosine"

    def __init__(self, warmup_steps: float = 0, num_cycles: float = 0.5) -> None:
        self._check_warmup(warmup_steps)
        _number(self.name, "num_cycles", num_cycles)
        self.num_cycles = num_cycles

    def after_warmup(self, r: Resolved, k: Any) -> Any:
        return np.maximum(0.0, _half_cosine(self.num_cycles, _progress(r, k)))


class HFCosineWithRestartsScheduler(_HFScheduler):
    r"""``cosine_with_restarts``: linear warmup, then ``num_cycles`` hard-restarted half cosines to 0.

    .. math:: \alpha(k) = \begin{cases} k / \max(1, w), & k < w \\
        \max(0, \tfrac{1}{2}(1 + \cos(\pi \, ((c p) \bmod 1)))), & p < 1 \\
        0, & \text{otherwise} \end{cases}

    where k is the count of optimizer updates before this one, w the warmup's updates and T the
    run's (``num_training_steps``),
    with :math:`p = (k - w) / \max(1, T - w)`.

    Args:
        warmup_steps (float): Warmup updates (an int), or a float below 1 as a ratio of the run. Default ``0``.
        num_cycles (float): Number of half cosines, :math:`c`. Default ``1``.
    """

    hf_name = "cosine_with_restarts"

    def __init__(self, warmup_steps: float = 0, num_cycles: float = 1) -> None:
        self._check_warmup(warmup_steps)
        _number(self.name, "num_cycles", num_cycles)
        self.num_cycles = num_cycles

    def after_warmup(self, r: Resolved, k: Any) -> Any:
        p = _progress(r, k)
        wave = np.maximum(0.0, 0.5 * (1.0 + np.cos(math.pi * np.remainder(float(self.num_cycles) * p, 1.0))))
        return np.where(p >= 1.0, 0.0, wave)

    def breakpoints(self, r: Resolved) -> list[Breakpoint]:
        points = super().breakpoints(r)
        cycles = self.num_cycles
        if cycles > 1 and float(cycles).is_integer() and cycles <= 1000:
            span = max(1, r.total - r.warmup)
            for i in range(1, int(cycles)):
                # The first update whose progress reaches i / c.
                at = r.warmup + math.ceil(i * span / cycles)
                points.insert(-1, Breakpoint(f"restart {i}", Time(at, TimeUnit.BATCH)))
        return points


class HFPolynomialScheduler(_HFScheduler):
    r"""``polynomial``: linear warmup, then a polynomial decay from the optimizer's LR to ``lr_end``.

    .. math:: \alpha(k) = \begin{cases} k / \max(1, w), & k < w \\
        ((\eta_0 - \eta_e)(1 - (k - w) / (T - w))^{\rho} + \eta_e) / \eta_0, & k \le T \\
        \eta_e / \eta_0, & \text{otherwise} \end{cases}

    where k is the count of optimizer updates before this one, w the warmup's updates and T the
    run's (``num_training_steps``).

    where :math:`\eta_0` is ``lr_init``, the optimizer's LR (``learning_rate``), which must exceed
    ``lr_end`` (Hugging Face raises otherwise).

    Args:
        lr_init (float): The optimizer's initial LR, :math:`\eta_0` (the HF reader fills it in).
        warmup_steps (float): Warmup updates (an int), or a float below 1 as a ratio of the run. Default ``0``.
        lr_end (float): The LR reached at ``num_training_steps``, :math:`\eta_e`. Default ``1e-7``.
        power (float): Exponent :math:`\rho`. Default ``1.0``.
    """

    hf_name = "polynomial"

    def __init__(self, lr_init: float, warmup_steps: float = 0, lr_end: float = 1e-7, power: float = 1.0) -> None:
        self._check_warmup(warmup_steps)
        for param, value in (("lr_init", lr_init), ("lr_end", lr_end), ("power", power)):
            _number(self.name, param, value)
        if not lr_init > lr_end:
            raise ScheduleError(f"{self.name}: lr_end ({lr_end}) must be smaller than initial lr ({lr_init})")
        self.lr_init = lr_init
        self.lr_end = lr_end
        self.power = power

    def _resolve_more(self, r: Resolved) -> None:
        if r.warmup == r.total:
            # The Trainer steps the scheduler after the last update too, to k = T, where the
            # decay divides by T - w = 0: the run crashes as it ends.
            raise ScheduleError(
                f"{self.name}: the warmup lasts the whole run ({r.warmup} of {r.total} updates), so the "
                "Trainer's scheduler step after the last update divides by zero (ZeroDivisionError in "
                "transformers); shorten the warmup or lengthen the run"
            )

    def after_warmup(self, r: Resolved, k: Any) -> Any:
        decay_steps = r.total - r.warmup
        # k <= T - 1 < w whenever T <= w, so the decay below never divides by zero in a run.
        pct_remaining = 1 - np.true_divide(np.subtract(k, r.warmup), decay_steps if decay_steps else np.nan)
        decay = (self.lr_init - self.lr_end) * libm.power(pct_remaining, self.power) + self.lr_end
        return np.where(np.greater(k, r.total), self.lr_end / self.lr_init, decay / self.lr_init)


class HFConstantScheduler(_HFScheduler):
    r"""``constant``: the optimizer's LR throughout; Hugging Face gives it no warmup and ignores
    ``warmup_steps`` and ``lr_scheduler_kwargs``.

    .. math:: \alpha(k) = 1

    where k is the count of optimizer updates before this one.
    """

    hf_name = "constant"
    has_warmup = False

    def __init__(self) -> None:
        pass

    def after_warmup(self, r: Resolved, k: Any) -> Any:
        return np.ones(np.shape(k))


class HFConstantWithWarmupScheduler(_HFScheduler):
    r"""``constant_with_warmup``: linear warmup, then the optimizer's LR (kwargs are ignored).

    .. math:: \alpha(k) = \begin{cases} k / \max(1, w), & k < w \\ 1, & \text{otherwise} \end{cases}

    where k is the count of optimizer updates before this one, w the warmup's updates and T the
    run's (``num_training_steps``).

    Args:
        warmup_steps (float): Warmup updates (an int), or a float below 1 as a ratio of the run. Default ``0``.
    """

    hf_name = "constant_with_warmup"

    def __init__(self, warmup_steps: float = 0) -> None:
        self._check_warmup(warmup_steps)

    def after_warmup(self, r: Resolved, k: Any) -> Any:
        return np.ones(np.shape(k))


class HFInverseSqrtScheduler(_HFScheduler):
    r"""``inverse_sqrt``: linear warmup, then :math:`1 / \sqrt{(k + s - w) / s}` (big_vision's form).

    .. math:: \alpha(k) = \begin{cases} k / \max(1, w), & k < w \\
        1 / \sqrt{(k + (s - w)) / s}, & \text{otherwise} \end{cases}

    where k is the count of optimizer updates before this one, w the warmup's updates and T the
    run's (``num_training_steps``).

    The time scale :math:`s` defaults to :math:`w`, or 10000 when there is no warmup.

    Args:
        warmup_steps (float): Warmup updates (an int), or a float below 1 as a ratio of the run. Default ``0``.
        timescale (float | None): Time scale :math:`s`. Default ``None`` (see above).
    """

    hf_name = "inverse_sqrt"

    def __init__(self, warmup_steps: float = 0, timescale: float | None = None) -> None:
        self._check_warmup(warmup_steps)
        if timescale is not None:
            _number(self.name, "timescale", timescale, low=0, strict=True)
        self.timescale = timescale

    def _resolve_more(self, r: Resolved) -> None:
        r["timescale"] = self.timescale if self.timescale is not None else (r.warmup or 10_000)

    def after_warmup(self, r: Resolved, k: Any) -> Any:
        shift = r.timescale - r.warmup
        return 1.0 / np.sqrt(np.true_divide(np.add(k, shift), r.timescale))


def _min_lr_rate(owner: str, min_lr: float | None, min_lr_rate: float | None, lr_init: float | None) -> float:
    """The floor as a fraction of the optimizer's LR, as ``get_cosine_with_min_lr_*`` derive it."""
    if min_lr is not None and min_lr_rate is not None:
        raise ScheduleError(f"{owner}: Only one of min_lr or min_lr_rate should be set")
    if min_lr is not None:
        _number(owner, "min_lr", min_lr)
        if lr_init is None:
            raise ScheduleError(f"{owner}: min_lr needs lr_init, the optimizer's LR (learning_rate), to divide by")
        _number(owner, "lr_init", lr_init)
        return min_lr / lr_init
    if min_lr_rate is None:
        raise ScheduleError(
            f"{owner}: One of min_lr or min_lr_rate should be set through the `lr_scheduler_kwargs`, "
            "e.g. lr_scheduler_kwargs: {min_lr_rate: 0.1}"
        )
    _number(owner, "min_lr_rate", min_lr_rate)
    return min_lr_rate


class HFCosineWithMinLRScheduler(_HFScheduler):
    r"""``cosine_with_min_lr``: linear warmup, then a cosine from 1 down to a floor :math:`m`.

    .. math:: \alpha(k) = \begin{cases} k / \max(1, w), & k < w \\
        \max(0, \tfrac{1}{2}(1 + \cos(2 \pi c p)) (1 - m) + m), & \text{otherwise} \end{cases}

    where k is the count of optimizer updates before this one, w the warmup's updates and T the
    run's (``num_training_steps``),
    with :math:`p = (k - w) / \max(1, T - w)` and :math:`m` = ``min_lr_rate``, or ``min_lr / lr_init``;
    exactly one of them must be given.

    Args:
        warmup_steps (float): Warmup updates (an int), or a float below 1 as a ratio of the run. Default ``0``.
        num_cycles (float): Waves of the cosine, :math:`c`. Default ``0.5``.
        min_lr (float | None): The floor as an LR. Default ``None``.
        min_lr_rate (float | None): The floor as a fraction of the optimizer's LR. Default ``None``.
        lr_init (float | None): The optimizer's LR, to turn ``min_lr`` into a fraction (the HF reader
            fills it in). Default ``None``.
    """

    hf_name = "cosine_with_min_lr"

    def __init__(
        self,
        warmup_steps: float = 0,
        num_cycles: float = 0.5,
        min_lr: float | None = None,
        min_lr_rate: float | None = None,
        lr_init: float | None = None,
    ) -> None:
        self._check_warmup(warmup_steps)
        _number(self.name, "num_cycles", num_cycles)
        self.num_cycles = num_cycles
        self.min_lr = min_lr
        self.min_lr_rate = min_lr_rate
        self.lr_init = lr_init
        self.rate = _min_lr_rate(self.name, min_lr, min_lr_rate, lr_init)

    def after_warmup(self, r: Resolved, k: Any) -> Any:
        factor = _half_cosine(self.num_cycles, _progress(r, k))
        return np.maximum(0, factor * (1 - self.rate) + self.rate)


class HFCosineWarmupWithMinLRScheduler(_HFScheduler):
    r"""``cosine_warmup_with_min_lr``: a warmup that starts above 0, then a cosine to a floor, one update ahead.

    .. math:: \alpha(k) = \begin{cases} (k + 1) / \max(1, w), & k < w, \ r_w \text{ unset} \\
        r_w + (1 - r_w) k / \max(1, w - 1), & k < w \\
        \max(0, \tfrac{1}{2}(1 + \cos(2 \pi c p)) (1 - m) + m), & \text{otherwise} \end{cases}

    where k is the count of optimizer updates before this one, w the warmup's updates and T the
    run's (``num_training_steps``),
    with :math:`p = (k - w + 1) / \max(1, T - w)` (so the decay reaches its floor at the last
    update, :math:`k = T - 1`), :math:`r_w` = ``warmup_lr_rate`` and :math:`m` as for
    ``cosine_with_min_lr``.

    Args:
        warmup_steps (float): Warmup updates (an int), or a float below 1 as a ratio of the run. Default ``0``.
        num_cycles (float): Waves of the cosine, :math:`c`. Default ``0.5``.
        min_lr (float | None): The floor as an LR. Default ``None``.
        min_lr_rate (float | None): The floor as a fraction of the optimizer's LR. Default ``None``.
        warmup_lr_rate (float | None): The multiplier of the first update, :math:`r_w`. Default
            ``None`` (:math:`1 / w`).
        lr_init (float | None): The optimizer's LR, to turn ``min_lr`` into a fraction. Default ``None``.
    """

    hf_name = "cosine_warmup_with_min_lr"

    def __init__(
        self,
        warmup_steps: float = 0,
        num_cycles: float = 0.5,
        min_lr: float | None = None,
        min_lr_rate: float | None = None,
        warmup_lr_rate: float | None = None,
        lr_init: float | None = None,
    ) -> None:
        self._check_warmup(warmup_steps)
        _number(self.name, "num_cycles", num_cycles)
        if warmup_lr_rate is not None:
            _number(self.name, "warmup_lr_rate", warmup_lr_rate)
        self.num_cycles = num_cycles
        self.min_lr = min_lr
        self.min_lr_rate = min_lr_rate
        self.warmup_lr_rate = warmup_lr_rate
        self.lr_init = lr_init
        self.rate = _min_lr_rate(self.name, min_lr, min_lr_rate, lr_init)

    def warmup(self, r: Resolved, k: Any) -> Any:
        k = np.asarray(k, dtype=np.float64)
        w = float(r.warmup)
        if self.warmup_lr_rate is None:
            return (k + 1.0) / max(1.0, w)
        rate = float(self.warmup_lr_rate)
        return rate + (1.0 - rate) * k / max(1, w - 1)

    def after_warmup(self, r: Resolved, k: Any) -> Any:
        k = np.asarray(k, dtype=np.float64)
        progress = (k - float(r.warmup) + 1.0) / max(1.0, float(r.total) - float(r.warmup))
        factor = _half_cosine(self.num_cycles, progress)
        return np.maximum(0, factor * (1 - self.rate) + self.rate)


_SHAPES = ("linear", "cosine", "1-sqrt")


class HFWarmupStableDecayScheduler(_HFScheduler):
    r"""``warmup_stable_decay``: warmup from :math:`m`, a stable phase at 1, a decay to :math:`m`, then :math:`m`.

    .. math:: \alpha(k) = \begin{cases} \max(0, f_{warmup}(k / \max(1, w)) (1 - m) + m), & k < w \\
        1, & k < w + s \\
        \max(0, f_{decay}((k - w - s) / \max(1, d)) (1 - m) + m), & k < w + s + d \\
        m, & \text{otherwise} \end{cases}

    where k is the count of optimizer updates before this one, w the warmup's updates and T the
    run's (``num_training_steps``),
    with :math:`m` = ``min_lr_ratio``, :math:`d` = ``num_decay_steps`` and :math:`s` =
    ``num_stable_steps``, by default :math:`T - w - d`. Warmup shapes: ``linear`` :math:`x`,
    ``cosine`` :math:`\tfrac{1}{2}(1 - \cos \pi x)`, ``1-sqrt`` :math:`1 - \sqrt{1 - x}`; decay
    shapes: ``linear`` :math:`1 - x`, ``cosine`` :math:`\tfrac{1}{2}(1 + \cos(2 \pi c x))`,
    ``1-sqrt`` :math:`1 - \sqrt{x}`.

    Args:
        num_decay_steps (float): Updates of the decay, :math:`d` (required, in ``lr_scheduler_kwargs``).
        warmup_steps (float): Warmup updates (an int), or a float below 1 as a ratio of the run. Default ``0``.
        num_stable_steps (float | None): Updates of the stable phase. Default ``None`` (:math:`T - w - d`).
        warmup_type (str): ``linear``, ``cosine`` or ``1-sqrt``. Default ``"linear"``.
        decay_type (str): ``linear``, ``cosine`` or ``1-sqrt``. Default ``"cosine"``.
        min_lr_ratio (float): The floor :math:`m`, a fraction of the optimizer's LR. Default ``0``.
        num_cycles (float): Waves of a cosine decay, :math:`c`. Default ``0.5``.
    """

    hf_name = "warmup_stable_decay"

    def __init__(
        self,
        num_decay_steps: float,
        warmup_steps: float = 0,
        num_stable_steps: float | None = None,
        warmup_type: str = "linear",
        decay_type: str = "cosine",
        min_lr_ratio: float = 0,
        num_cycles: float = 0.5,
    ) -> None:
        self._check_warmup(warmup_steps)
        _number(self.name, "num_decay_steps", num_decay_steps)
        if num_stable_steps is not None:
            _number(self.name, "num_stable_steps", num_stable_steps)
        if warmup_type not in _SHAPES:
            raise ScheduleError(
                f"{self.name}: Unknown warmup type: {warmup_type}, expected 'linear', 'cosine' or '1-sqrt'"
            )
        if decay_type not in _SHAPES:
            raise ScheduleError(
                f"{self.name}: Unknown decay type: {decay_type}, expected 'linear', 'cosine' or '1-sqrt'"
            )
        _number(self.name, "min_lr_ratio", min_lr_ratio)
        _number(self.name, "num_cycles", num_cycles)
        self.num_decay_steps = num_decay_steps
        self.num_stable_steps = num_stable_steps
        self.warmup_type = warmup_type
        self.decay_type = decay_type
        self.min_lr_ratio = min_lr_ratio
        self.num_cycles = num_cycles

    def _resolve_more(self, r: Resolved) -> None:
        stable = self.num_stable_steps
        r["stable"] = stable if stable is not None else r.total - r.warmup - self.num_decay_steps

    def formula(self, r: Resolved, counters: Counters) -> Any:
        k = counters.get(TimeUnit.BATCH)
        w, s, d, m = r.warmup, r.stable, self.num_decay_steps, self.min_lr_ratio
        x = np.true_divide(k, max(1, w))
        if self.warmup_type == "linear":
            up = x
        elif self.warmup_type == "cosine":
            up = 0.5 * (1.0 - np.cos(math.pi * x))
        else:
            with np.errstate(invalid="ignore"):
                up = 1.0 - np.sqrt(1.0 - x)
        up = np.maximum(0.0, up * (1.0 - m) + m)
        y = np.true_divide(np.subtract(np.subtract(k, w), s), max(1, d))
        if self.decay_type == "linear":
            down = 1.0 - y
        elif self.decay_type == "cosine":
            down = _half_cosine(self.num_cycles, y)
        else:
            with np.errstate(invalid="ignore"):
                down = 1.0 - np.sqrt(y)
        down = np.maximum(0.0, down * (1.0 - m) + m)
        return np.where(
            np.less(k, w),
            up,
            np.where(np.less(k, w + s), 1.0, np.where(np.less(k, w + s + d), down, float(m))),
        )

    def breakpoints(self, r: Resolved) -> list[Breakpoint]:
        points = [Breakpoint("warmup end", Time(r.warmup, TimeUnit.BATCH))] if r.warmup > 0 else []
        decay_start = math.ceil(r.warmup + r.stable)
        decay_end = math.ceil(r.warmup + r.stable + self.num_decay_steps)
        if 0 < decay_start < r.total:
            points.append(Breakpoint("decay start", Time(decay_start, TimeUnit.BATCH)))
        if 0 < decay_end < r.total:
            points.append(Breakpoint("decay end", Time(decay_end, TimeUnit.BATCH)))
        return points + [Breakpoint("num_training_steps", Time(r.total, TimeUnit.BATCH))]


#: ``lr_scheduler_type`` -> class, for every type whose LR depends on the step alone.
HF_SCHEDULERS: dict[str, type[_HFScheduler]] = {
    cls.hf_name: cls
    for cls in (
        HFLinearScheduler,
        HFCosineScheduler,
        HFCosineWithRestartsScheduler,
        HFPolynomialScheduler,
        HFConstantScheduler,
        HFConstantWithWarmupScheduler,
        HFInverseSqrtScheduler,
        HFCosineWithMinLRScheduler,
        HFCosineWarmupWithMinLRScheduler,
        HFWarmupStableDecayScheduler,
    )
}
