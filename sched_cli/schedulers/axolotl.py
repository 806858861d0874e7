r"""axolotl's own learning-rate schedules, over the optimizer-update counter.

axolotl (``axolotl/utils/schedulers.py`` and the ``SchedulerMixin.create_scheduler`` of its
trainers) replaces Hugging Face's ``cosine`` in four cases and can wrap any schedule in jagged
restarts. Each class here is one of them, written once for a single step and for a whole timeline,
in the same order of floating-point operations as axolotl's code:

- ``axolotl:cosine_quadratic_warmup`` (``lr_quadratic_warmup: true``);
- ``axolotl:cosine_min_lr`` (``cosine_min_lr_ratio``);
- ``axolotl:cosine_decay_constant`` (``cosine_min_lr_ratio`` and ``cosine_constant_lr_ratio``);
- ``axolotl:rex`` (``lr_scheduler: rex``);
- ``axolotl:jagged_restarts`` (``jagged_restart_steps``), around one of the above or an ``hf:`` type.

(``lr_scheduler: one_cycle`` is torch's ``OneCycleLR``: :class:`sched_cli.schedulers.extra.OneCycleScheduler`.)

The counter :math:`k` is the update index (the Trainer's ``global_step`` before the update), as
for :mod:`sched_cli.schedulers.hf`; :math:`T` is ``num_training_steps`` (the run's updates) and
:math:`w` the warmup's updates, ``TrainingArguments.get_warmup_steps(T)``.

Two of them are torch ``LRScheduler`` subclasses built with ``last_epoch=0`` (``RexLR``) or with the
wrapped scheduler's ``last_epoch`` (``JaggedLRRestartScheduler``): torch's constructor steps once,
so the update :math:`k` runs at the scheduler's step :math:`s = k + 1`, not :math:`k`. The
formulas below are written in :math:`s` where that is so.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from sched_cli.schedulers.base import Breakpoint, BuiltinScheduler, Counters, Resolved, RunShape, ScheduleError
from sched_cli.schedulers.hf import HF_SCHEDULERS, HFCosineScheduler, _HFScheduler, _number, _progress
from sched_cli.time import Time, TimeUnit

__all__ = [
    "AXOLOTL_SCHEDULERS",
    "AxolotlCosineQuadraticWarmupScheduler",
    "AxolotlCosineMinLRScheduler",
    "AxolotlCosineDecayConstantScheduler",
    "AxolotlRexScheduler",
    "AxolotlJaggedRestartScheduler",
]

#: An inner scheduler's mapping (``{name: hf:cosine, ...}``), checked by the constructor itself.
Raw = Any


def _ratio(owner: str, param: str, value: Any) -> None:
    _number(owner, param, value)
    if not 0 <= value <= 1:
        raise ScheduleError(f"{owner}: {param} must be between 0.0 and 1.0, not {value!r} (axolotl asserts so)")


class _AxolotlScheduler(_HFScheduler):
    """A schedule of axolotl's on the update counter, with Hugging Face's warmup count."""

    axolotl_name = ""
    #: torch's step at update ``k`` is ``k + initial_step`` (1 for schedulers built with last_epoch=0).
    initial_step = 0

    @property
    def name(self) -> str:
        return f"axolotl:{self.axolotl_name}"


class AxolotlCosineQuadraticWarmupScheduler(HFCosineScheduler, _AxolotlScheduler):
    r"""``lr_quadratic_warmup: true``: a warmup along a parabola, then Hugging Face's half cosine to 0.

    .. math:: \alpha(k) = \begin{cases} (k / \max(1, w))^2, & k < w \\
        \max(0, \tfrac{1}{2}(1 + \cos(2 \pi \cdot 0.5 \cdot p))), & \text{otherwise} \end{cases}

    where k is the count of optimizer updates before this one, w the warmup's updates, T the run's
    (``num_training_steps``) and :math:`p = (k - w) / \max(1, T - w)`. axolotl passes it no
    ``lr_scheduler_kwargs`` (the cycles are always half a wave).

    Args:
        warmup_steps (float): Warmup updates (an int), or a float below 1 as a ratio of the run. Default ``0``.
    """

    axolotl_name = "cosine_quadratic_warmup"

    def __init__(self, warmup_steps: float = 0) -> None:
        super().__init__(warmup_steps, 0.5)

    def warmup(self, r: Resolved, k: Any) -> Any:
        return np.true_divide(k, max(1, r.warmup)) ** 2


class AxolotlCosineMinLRScheduler(_AxolotlScheduler):
    r"""``cosine_min_lr_ratio``: linear warmup, then a half cosine from 1 down to a floor :math:`m`.

    .. math:: \alpha(k) = \begin{cases} k / \max(1, w), & k < w \\
        (1 - m) \cdot \tfrac{1}{2}(1 + \cos(\pi p)) + m, & \text{otherwise} \end{cases}

    where k is the count of optimizer updates before this one, w the warmup's updates, T the run's
    (``num_training_steps``), :math:`p = (k - w) / \max(1, T - w)` and :math:`m` = ``min_lr_ratio``.

    Args:
        min_lr_ratio (float): The floor :math:`m`, a fraction of the optimizer's LR (``cosine_min_lr_ratio``).
        warmup_steps (float): Warmup updates (an int), or a float below 1 as a ratio of the run. Default ``0``.
    """

    axolotl_name = "cosine_min_lr"

    def __init__(self, min_lr_ratio: float, warmup_steps: float = 0) -> None:
        self._check_warmup(warmup_steps)
        _ratio(self.name, "min_lr_ratio", min_lr_ratio)
        self.min_lr_ratio = min_lr_ratio

    def after_warmup(self, r: Resolved, k: Any) -> Any:
        scaling = 0.5 * (1.0 + np.cos(math.pi * _progress(r, k)))
        return (1 - self.min_lr_ratio) * scaling + self.min_lr_ratio


class AxolotlCosineDecayConstantScheduler(_AxolotlScheduler):
    r"""``cosine_min_lr_ratio`` with ``cosine_constant_lr_ratio``: warmup, a half cosine to :math:`m` by
    update :math:`C`, then :math:`m` (arXiv 2308.04014).

    .. math:: \alpha(k) = \begin{cases} k / \max(1, w), & k < w \\
        \max(0, (1 - m) \cdot \tfrac{1}{2}(1 + \cos(2 \pi \cdot 0.5 \cdot p))) + m, & \text{otherwise} \end{cases}

    where k is the count of optimizer updates before this one, w the warmup's updates, T the run's
    (``num_training_steps``), :math:`C = \lfloor T \cdot c \rfloor`,
    :math:`p = (\min(k, C) - w) / \max(1, C - w)`, :math:`m` = ``min_lr_ratio`` and :math:`c` =
    ``constant_lr_ratio``.

    Args:
        min_lr_ratio (float): The floor :math:`m` (``cosine_min_lr_ratio``).
        constant_lr_ratio (float): Where the floor starts, :math:`c`, a fraction of the run
            (``cosine_constant_lr_ratio``).
        warmup_steps (float): Warmup updates (an int), or a float below 1 as a ratio of the run. Default ``0``.
    """

    axolotl_name = "cosine_decay_constant"

    def __init__(self, min_lr_ratio: float, constant_lr_ratio: float, warmup_steps: float = 0) -> None:
        self._check_warmup(warmup_steps)
        _ratio(self.name, "min_lr_ratio", min_lr_ratio)
        _ratio(self.name, "constant_lr_ratio", constant_lr_ratio)
        self.min_lr_ratio = min_lr_ratio
        self.constant_lr_ratio = constant_lr_ratio

    def _resolve_more(self, r: Resolved) -> None:
        r["constant"] = int(r.total * self.constant_lr_ratio)

    def after_warmup(self, r: Resolved, k: Any) -> Any:
        c, m = r.constant, self.min_lr_ratio
        progress = np.true_divide(np.subtract(np.minimum(k, c), r.warmup), max(1, c - r.warmup))
        wave = (1 - m) * 0.5 * (1.0 + np.cos(math.pi * 0.5 * 2.0 * progress))
        return np.maximum(0, wave) + m

    def breakpoints(self, r: Resolved) -> list[Breakpoint]:
        points = super().breakpoints(r)
        if r.warmup < r.constant < r.total:
            points.insert(-1, Breakpoint("constant from", Time(r.constant, TimeUnit.BATCH)))
        return points


class AxolotlRexScheduler(_AxolotlScheduler):
    r"""``lr_scheduler: rex``: axolotl's ``RexLR``, a linear warmup then a reflected-exponential decay.

    .. math:: \alpha(s) = \begin{cases} (\eta_0 s / w) / \eta_0, & 1 \le s \le w \\
        m, & s - w \ge T - w \text{ or } T \le w \\
        m' + (1 - m') \, z / (0.1 + 0.9 z), & \text{otherwise} \end{cases}

    where k is the count of optimizer updates before this one, :math:`s = k + 1` torch's step at
    update k (``RexLR`` is built with ``last_epoch=0``
    and torch's constructor steps once), w the warmup's updates, T the run's
    (``num_training_steps``), :math:`z = (R - ((s - w) \bmod R)) / R` with :math:`R = T - w`,
    :math:`m` = ``min_lr_ratio`` (``cosine_min_lr_ratio``, else 0), :math:`\eta_0` = ``lr_init``
    and :math:`m' = (\eta_0 m) / \eta_0` (the floor over the peak, as axolotl divides them).

    Args:
        lr_init (float): The optimizer's LR, :math:`\eta_0` (``learning_rate``; the reader fills it in).
        warmup_steps (float): Warmup updates (an int), or a float below 1 as a ratio of the run. Default ``0``.
        min_lr_ratio (float): The floor :math:`m`. Default ``0``.
    """

    axolotl_name = "rex"
    initial_step = 1

    def __init__(self, lr_init: float, warmup_steps: float = 0, min_lr_ratio: float = 0) -> None:
        self._check_warmup(warmup_steps)
        _number(self.name, "lr_init", lr_init, low=0, strict=True)
        _ratio(self.name, "min_lr_ratio", min_lr_ratio)
        self.lr_init = lr_init
        self.min_lr_ratio = min_lr_ratio

    def _resolve_more(self, r: Resolved) -> None:
        if r.warmup > r.total:
            raise ScheduleError(
                f"{self.name}: num_warmup_steps ({r.warmup}) must be less than or equal to total_steps ({r.total}) "
                "(axolotl's RexLR raises ValueError); shorten the warmup or lengthen the run"
            )

    def formula(self, r: Resolved, counters: Counters) -> Any:
        s = np.add(counters.get(TimeUnit.BATCH), 1)
        lr, w, total = self.lr_init, r.warmup, r.total
        min_lr = lr * self.min_lr_ratio
        floor = min_lr / lr
        remaining = total - w
        after = np.subtract(s, w)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.true_divide(remaining - np.remainder(after, max(remaining, 1)), remaining if remaining else np.nan)
            rex = floor + (1.0 - floor) * (z / (0.1 + 0.9 * z))
        to_floor = (np.greater_equal(after, remaining)) | np.equal(after, -1) | (remaining <= 0)
        decay = np.where(to_floor, self.min_lr_ratio, rex)
        if w <= 0:
            return decay
        up = np.true_divide(np.true_divide(np.multiply(lr, s), w), lr)
        return np.where(np.greater_equal(s, 1) & np.less_equal(s, w), up, decay)

    def breakpoints(self, r: Resolved) -> list[Breakpoint]:
        points = [Breakpoint("warmup end", Time(r.warmup, TimeUnit.BATCH))] if r.warmup > 0 else []
        return points + [Breakpoint("num_training_steps", Time(r.total, TimeUnit.BATCH))]


class AxolotlJaggedRestartScheduler(BuiltinScheduler):
    r"""``jagged_restart_steps``: axolotl's ``JaggedLRRestartScheduler``, another schedule scaled by
    a dip to :math:`m` and a re-warmup every :math:`R` updates.

    .. math:: \alpha(k) = \alpha_{inner}(k + 1) \cdot \sigma(s), \quad
        \sigma(s) = \begin{cases} 1, & s < R - A \\ t (1 - m) + m, & \text{otherwise} \end{cases}
        \quad t = \begin{cases} \min(1, q / W), & q < W \\ \min(1, (R - q) / A), & q > R - A \\
        1, & \text{otherwise} \end{cases}

    where k is the count of optimizer updates before this one, :math:`s = k + 1 + i` torch's step
    at update k (the wrapper is built at its inner
    schedule's ``last_epoch``, :math:`i` = 0, or 1 for ``RexLR``, and torch's constructor steps
    once; the inner schedule is set to the same step, so it runs one update ahead of its own
    course), :math:`q = s \bmod R`, :math:`R` = ``restart_steps``, :math:`W` =
    ``warmup_steps``, :math:`A` = ``anneal_steps`` and :math:`m` = ``min_lr_scale``. The product
    is taken after the inner LR, as axolotl does (``lr * scale``), so it may differ from sched's
    single multiplier by an ulp.

    Args:
        inner (mapping): The wrapped schedule, ``{name: hf:cosine, ...}`` (an ``hf:`` or ``axolotl:`` one).
        restart_steps (float): Updates between restarts, :math:`R` (``jagged_restart_steps``).
        warmup_steps (float): Updates of each re-warmup, :math:`W`. Default ``10``.
        anneal_steps (float): Updates of the dip before each restart, :math:`A`. Default ``1``.
        min_lr_scale (float): The scale at the bottom of each dip, :math:`m`. Default ``0.001``.
    """

    def __init__(
        self,
        inner: Raw,
        restart_steps: float,
        warmup_steps: float = 10,
        anneal_steps: float = 1,
        min_lr_scale: float = 0.001,
    ) -> None:
        for param, value in (
            ("restart_steps", restart_steps),
            ("warmup_steps", warmup_steps),
            ("anneal_steps", anneal_steps),
        ):
            _number(self.name, param, value, low=0, strict=True)
        _number(self.name, "min_lr_scale", min_lr_scale)
        self.inner = inner
        self.restart_steps = restart_steps
        self.warmup_steps = warmup_steps
        self.anneal_steps = anneal_steps
        self.min_lr_scale = min_lr_scale
        self._inner = _build_inner(self.name, inner)

    @property
    def name(self) -> str:
        return "axolotl:jagged_restarts"

    def resolve(self, shape: RunShape, ssr: float) -> Resolved:
        r = Resolved(inner=self._inner.resolve(shape, ssr))
        r["total"] = r.inner.total
        return r

    def formula(self, r: Resolved, counters: Counters) -> Any:
        k = counters.get(TimeUnit.BATCH)
        # The wrapper starts from its inner schedule's last_epoch (0, or 1 for RexLR) and steps once
        # more; the inner schedule is set to that step, s, which is its own update s - initial_step = k + 1.
        s = np.add(k, 1 + getattr(self._inner, "initial_step", 0))
        inner = self._inner.formula(r.inner, _Shifted(counters, 1))
        big_r, w, a, m = self.restart_steps, self.warmup_steps, self.anneal_steps, self.min_lr_scale
        q = np.remainder(s, big_r)
        t = np.where(
            np.less(q, w),
            np.minimum(1.0, np.true_divide(q, w)),
            np.where(np.greater(q, big_r - a), np.minimum(1.0, np.true_divide(np.subtract(big_r, q), a)), 1),
        )
        scale = np.where(np.less(s, big_r - a), 1, t * (1 - m) + m)
        return inner * scale

    def breakpoints(self, r: Resolved) -> list[Breakpoint]:
        points = self._inner.breakpoints(r.inner)
        restarts = [i * self.restart_steps - 1 for i in range(1, 101) if 0 < i * self.restart_steps - 1 < r.total]
        return points + [
            Breakpoint("restart", Time(int(at), TimeUnit.BATCH)) for at in restarts if float(at).is_integer()
        ]

    def warmup_note(self, r: Resolved) -> str | None:
        note = getattr(self._inner, "warmup_note", None)
        return note(r.inner) if note else None


class _Shifted:
    """Counters whose batch count is moved by ``shift`` (the inner schedule's own update index)."""

    def __init__(self, counters: Counters, shift: int) -> None:
        self.counters = counters
        self.shift = shift

    def get(self, unit: TimeUnit) -> Any:
        if unit is not TimeUnit.BATCH:
            raise ScheduleError("axolotl:jagged_restarts: its inner schedule may only count optimizer updates")
        return np.add(self.counters.get(unit), self.shift)


def _build_inner(owner: str, inner: Any) -> _HFScheduler:
    if not isinstance(inner, dict) or not isinstance(inner.get("name"), str):
        raise ScheduleError(
            f"{owner}: inner must be a mapping with the wrapped schedule's name, e.g. {{name: hf:cosine}}"
        )
    family, _, kind = inner["name"].partition(":")
    classes: dict[str, Any] = {"hf": HF_SCHEDULERS, "axolotl": AXOLOTL_SCHEDULERS}.get(family, {})
    cls = classes.get(kind)
    if cls is None or cls is AxolotlJaggedRestartScheduler:
        raise ScheduleError(
            f"{owner}: inner {inner['name']!r} must be an hf: or axolotl: schedule (not jagged restarts)"
        )
    try:
        return cls(**{k: v for k, v in inner.items() if k != "name"})
    except TypeError as exc:
        raise ScheduleError(f"{owner}: inner {inner['name']!r}: {exc}") from None


#: sched name (after ``axolotl:``) -> class.
AXOLOTL_SCHEDULERS: dict[str, type[BuiltinScheduler]] = {
    "cosine_quadratic_warmup": AxolotlCosineQuadraticWarmupScheduler,
    "cosine_min_lr": AxolotlCosineMinLRScheduler,
    "cosine_decay_constant": AxolotlCosineDecayConstantScheduler,
    "rex": AxolotlRexScheduler,
    "jagged_restarts": AxolotlJaggedRestartScheduler,
}
