r"""timm's learning-rate schedules, as ``train.py`` applies them (timm 1.0.x, ``timm.scheduler``).

timm's schedulers compute the learning rate itself, not a multiplier: ``warmup_lr`` and ``min_lr``
are absolute. Each class here takes the base ``lr`` with the other arguments of timm's
``args.yaml`` (the same names), computes the LR exactly as timm does, and reports
``lr(t) / lr`` as its multiplier (the simulator takes the ``lr`` column from
:meth:`TimmScheduler.learning_rates` directly, so it is bit for bit timm's).

**Time.** ``t`` is the epoch counter, or with ``sched_on_updates`` the optimizer-update counter;
every length given in epochs is then multiplied by the updates per epoch (``dataloader_len``), as
``create_scheduler_v2`` does. ``train.py`` calls ``step(epoch + 1)`` after each epoch and
``step_update(num_updates)`` after each update; only the one matching the mode sets the LR. So
epoch (or update) :math:`t \ge 1` trains with the value below computed at :math:`t`, noise
included, and :math:`t = 0` with the value the scheduler set when it was built: ``warmup_lr`` with
a warmup, else ``lr`` (without noise, and not the formula at 0: with ``tanh``, or ``multistep``
and a milestone at epoch 1, they differ). A resumed run (``start_epoch``) steps to its start
epoch first, so it trains with the same values from there on.

**Warmup.** For :math:`t < t_w`: :math:`\eta_w + t\,(\eta - \eta_w) / t_w`, reaching ``lr`` only
with ``warmup_prefix`` (else the decay, which started at 0, is already under way at :math:`t_w`;
``tanh`` then warms up towards its own value at :math:`t_w`). After it, with ``warmup_prefix``,
the decay sees :math:`t - t_w`.

**Cycles** (``cosine``, ``tanh``, ``poly``), with :math:`T` the ``epochs`` and :math:`m`
``lr_cycle_mul``: cycle :math:`i = \lfloor t / T \rfloor` when :math:`m = 1`, else
:math:`\lfloor \log_m(1 - t (1 - m) / T) \rfloor`; it lasts :math:`T_i = m^i T` and has run
:math:`t_c = t - T (1 - m^i) / (1 - m)`; its peak is :math:`\eta_i = \eta\,d^i`
(``lr_cycle_decay``); from cycle ``lr_cycle_limit`` on the LR is ``min_lr``. With k-decay
:math:`k`: ``cosine`` :math:`\eta_{min} + \tfrac{1}{2}(\eta_i - \eta_{min})(1 + \cos(\pi t_c^k / T_i^k))`,
``poly`` :math:`\eta_{min} + (\eta_i - \eta_{min})(1 - t_c^k / T_i^k)^p`, ``tanh``
:math:`\eta_{min} + \tfrac{1}{2}(\eta_i - \eta_{min})(1 - \text{tanh}(-7 (1 - t_c/T_i) + 3 t_c/T_i))`.

**Noise** (``lr_noise``): where :math:`t` lies in ``[noise_start·T, noise_end·T)`` (or past
``noise_start·T`` without an end), the LR :math:`v` becomes :math:`v + v\,n` with :math:`n` drawn
from a ``torch.Generator`` seeded ``seed + t``: normal with std ``lr_noise_std``, redrawn until
:math:`|n|` < ``lr_noise_pct``. Exactly timm's draws, so it needs PyTorch (imported only then).

**SSR** :math:`\sigma`: the schedule timm would build with ``epochs``, ``decay_epochs`` and
``decay_milestones`` multiplied by :math:`\sigma` (whole epochs truncated, as on timm's command
line); warmup and cooldown are kept, as Composer keeps its warmup.
"""

from __future__ import annotations

import math
import numbers
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
)
from sched_cli.time import Time, TimeStringError, TimeUnit

__all__ = [
    "TimmScheduler",
    "TimmCosineScheduler",
    "TimmTanhScheduler",
    "TimmPolyScheduler",
    "TimmStepScheduler",
    "TimmMultiStepScheduler",
    "TimmConstantScheduler",
    "TimmWSDScheduler",
    "TimmRsqrtScheduler",
    "SCHEDULERS",
    "NOISE_TRIES",
]

#: Redraws of the noise before giving up (timm loops forever; with lr_noise_pct > 0 this is never
#: reached in practice).
NOISE_TRIES = 10_000


def _number(owner: str, param: str, value: Any, *, low: float | None = None, strict: bool = True) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ScheduleError(f"{owner}: {param} must be a finite number, not {value!r}")
    if low is not None and (value <= low if strict else value < low):
        raise ScheduleError(f"{owner}: {param}={value!r} must be {'greater than' if strict else 'at least'} {low:g}")


def _scaled_count(value: Any, ssr: float) -> Any:
    """A whole number of epochs times SSR, truncated as an integer option of train.py would be."""
    return value if ssr == 1.0 else int(value * ssr)


class TimmScheduler(BuiltinScheduler):
    """What every timm schedule shares: base LR, warmup, noise, and the clock it steps on."""

    #: timm's ``--sched`` value.
    sched = ""

    def _setup(self, arguments: dict[str, Any]) -> None:
        """Keep every constructor argument (``locals()`` of ``__init__``) as an attribute, then check them."""
        for param, value in arguments.items():
            if param not in ("self", "__class__"):
                setattr(self, param, value)
        self._noise_cache: dict[tuple[int, float, float], float] = {}
        self._check_common()
        self._check()

    def _check_common(self) -> None:
        _number(self.name, "lr", self.lr, low=0)
        _number(self.name, "warmup_epochs", self.warmup_epochs, low=0, strict=False)
        _number(self.name, "warmup_lr", self.warmup_lr)
        for param in ("noise_start", "noise_end"):
            if getattr(self, param) is not None:
                _number(self.name, param, getattr(self, param))
        if self.noise_end is not None and self.noise_start is None:
            raise ScheduleError(
                f"{self.name}: noise_end={self.noise_end!r} needs noise_start (lr_noise is [start, end])"
            )
        _number(self.name, "lr_noise_std", self.lr_noise_std)
        _number(self.name, "lr_noise_pct", self.lr_noise_pct)
        if self.noise_start is not None and self.lr_noise_pct <= 0:
            raise ScheduleError(
                f"{self.name}: lr_noise_pct={self.lr_noise_pct!r} must be greater than 0: timm redraws the noise "
                "until it is smaller than lr_noise_pct, which would never end"
            )
        if isinstance(self.seed, bool) or not isinstance(self.seed, numbers.Integral):
            raise ScheduleError(f"{self.name}: seed must be a whole number, not {self.seed!r}")

    def _check(self) -> None:
        """Subclasses check their own arguments."""

    @property
    def base_lr(self) -> float:
        """The LR the multiplier is relative to (timm's ``args.lr``)."""
        return self.lr

    # -- resolution ---------------------------------------------------------------------------
    def resolve(self, shape: RunShape, ssr: float) -> Resolved:
        """Lengths on the scheduler's clock, as ``create_scheduler_v2`` computes them."""
        if self.sched_on_updates:
            if not shape.dataloader_len:
                raise ScheduleError(
                    f"{self.name}: sched_on_updates needs the updates per epoch (dataloader_len); "
                    "give --dataset-size and --devices, or --dataloader-len"
                )
            per_epoch, unit = shape.dataloader_len, TimeUnit.BATCH
        else:
            per_epoch, unit = 1, TimeUnit.EPOCH
        r = Resolved(unit=unit, per_epoch=per_epoch, base=self.lr, ssr=ssr)
        r["warmup_t"] = self.warmup_epochs * per_epoch if self.sched_on_updates else self.warmup_epochs
        r["warmup_lr_init"] = self.warmup_lr
        r["prefix"] = self.warmup_prefix
        self._resolve(r, ssr)
        r["warmup_target"] = self._warmup_target(r)
        # timm: warmup_steps = (v - warmup_lr_init) / warmup_t, only when warmup_t is truthy.
        r["warmup_step"] = (r.warmup_target - self.warmup_lr) / r.warmup_t if r.warmup_t else 1
        r["noise_range"] = self._noise_range(r)
        r["t_end"] = self._last_step(shape, per_epoch)
        return r

    def _last_step(self, shape: RunShape, per_epoch: int) -> int | None:
        """The time of train.py's last ``step``/``step_update``: the one after the last epoch or update."""
        md = shape.max_duration
        if md.unit is TimeUnit.EPOCH:
            return int(md.value) * per_epoch
        if md.unit is TimeUnit.BATCH and shape.dataloader_len:
            return int(md.value) if self.sched_on_updates else -(-int(md.value) // shape.dataloader_len)
        return None

    def check_reach(self, r: Resolved, counters: Counters) -> None:
        # train.py steps once more after the last update (or epoch), for an LR nothing trains with;
        # a cycle schedule whose math.log leaves its domain there still stops the run.
        if r.t_end is not None and r.t_end >= r.warmup_t:
            t = np.asarray([float(r.t_end)])
            self._after_warmup(r, t - r.warmup_t if r.prefix else t)

    def _per(self, r: Resolved, epochs: Any) -> Any:
        """Epochs on the scheduler's clock (``epochs * updates_per_epoch`` when stepping per update)."""
        return epochs * r.per_epoch if self.sched_on_updates else epochs

    def _resolve(self, r: Resolved, ssr: float) -> None:
        """Subclasses add their own lengths (``t_initial`` ...) to ``r``."""

    def _warmup_target(self, r: Resolved) -> float:
        return self.lr

    def _noise_range(self, r: Resolved) -> tuple[float, float | None] | None:
        if self.noise_start is None:
            return None
        t_initial = r.get("t_noise", r.get("t_initial"))
        start = self.noise_start * t_initial
        end = None if self.noise_end is None else self.noise_end * t_initial
        return start, end

    def cycle_length(self, r: Resolved) -> Any:
        """timm's ``get_cycle_length()`` where the scheduler has one (cosine, tanh, poly, wsd), else ``None``."""
        return None

    def num_epochs(self, shape: RunShape, epochs: Any, cooldown_epochs: Any = 0, ssr: float = 1.0) -> Any:
        """The epochs ``train.py`` trains: ``create_scheduler_v2``'s second return value."""
        r = self.resolve(shape, ssr)
        cycle = self.cycle_length(r)
        if cycle is None:
            return epochs + self.warmup_epochs if self.warmup_prefix else epochs
        total = cycle + self._per(r, cooldown_epochs)
        return total // r.per_epoch if self.sched_on_updates else total

    # -- the formula ----------------------------------------------------------------------------
    def learning_rates(self, counters: Counters, shape: RunShape, ssr: float = 1.0) -> np.ndarray:
        """The LR timm's ``train.py`` trains with at each timestamp (see the module docstring)."""
        r = self.resolve(shape, ssr)
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            lrs = np.asarray(self._learning_rates(r, counters), dtype=np.float64)
        return lrs

    def formula(self, r: Resolved, counters: Counters) -> Any:
        return self._learning_rates(r, counters) / r.base

    def _learning_rates(self, r: Resolved, counters: Counters) -> np.ndarray:
        raw = np.asarray(counters.get(r.unit))
        t = np.atleast_1d(raw)
        tf = t.astype(np.float64)
        warm = tf < r.warmup_t
        lrs = np.empty(tf.shape, dtype=np.float64)
        lrs[warm] = r.warmup_lr_init + tf[warm] * r.warmup_step
        after = ~warm
        if np.any(after):
            ta = tf[after] - r.warmup_t if r.prefix else tf[after]
            lrs[after] = self._after_warmup(r, ta)
        if r.noise_range is not None:
            self._add_noise(r, t, lrs)
        # Built, the scheduler set warmup_lr (with a warmup) or left the optimizer's LR; nothing
        # steps before the first epoch or update trains.
        lrs[t == 0] = r.warmup_lr_init if r.warmup_t else r.base
        return lrs.reshape(raw.shape)

    def _after_warmup(self, r: Resolved, t: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    # -- noise ----------------------------------------------------------------------------------
    def _add_noise(self, r: Resolved, t: np.ndarray, lrs: np.ndarray) -> None:
        start, end = r.noise_range
        inside = (t >= start) if end is None else ((t >= start) & (t < end))
        inside &= t != 0
        if not np.any(inside):
            return
        steps, where = np.unique(t[inside], return_inverse=True)
        generator = _import_torch(self.name).Generator()  # manual_seed resets all of its state
        noise = np.array([self._noise(int(s), generator) for s in steps], dtype=np.float64)[where.reshape(-1)]
        v = lrs[inside]
        lrs[inside] = v + v * noise

    def _noise(self, t: int, g: Any) -> float:
        """timm's ``_calculate_noise(t)``: normal draws from a generator seeded ``seed + t``."""
        key = (t, self.lr_noise_pct, self.lr_noise_std)
        cached = self._noise_cache.get(key)
        if cached is not None:
            return cached
        torch = _import_torch(self.name)
        g.manual_seed(self.seed + t)
        for _ in range(NOISE_TRIES):
            noise = torch.randn(1, generator=g).item() * self.lr_noise_std
            if abs(noise) < self.lr_noise_pct:
                if len(self._noise_cache) < 1_000_000:
                    self._noise_cache[key] = noise
                return noise
        raise ScheduleError(
            f"{self.name}: no noise draw at step {t} was below lr_noise_pct={self.lr_noise_pct} in {NOISE_TRIES} tries "
            f"(lr_noise_std={self.lr_noise_std}); timm would keep drawing forever"
        )

    # -- breakpoints ----------------------------------------------------------------------------
    def breakpoints(self, r: Resolved) -> list[Breakpoint]:
        points = []
        if r.warmup_t:
            points.append(("warmup end", r.warmup_t))
        points.extend(self._breakpoints(r))
        out = []
        for label, value in points:
            if float(value).is_integer() and value > 0:
                out.append(Breakpoint(label, Time(int(value), r.unit)))
        return out

    def _breakpoints(self, r: Resolved) -> list[tuple[str, Any]]:
        return []

    def _shift(self, r: Resolved, t: Any) -> Any:
        """A time on the decay's clock back on the scheduler's (after a prefix warmup)."""
        return t + r.warmup_t if r.prefix else t


def _import_torch(owner: str) -> Any:
    try:
        import torch
    except ImportError:
        raise ScheduleError(
            f"{owner}: lr_noise draws timm's noise with PyTorch's generator, which is not installed; "
            "install the torch extra (pip install 'sched-cli[torch]') or drop lr_noise"
        ) from None
    return torch


# -- cycle schedules: cosine, tanh, poly ------------------------------------------------------------
class _CycleScheduler(TimmScheduler):
    def __init__(
        self,
        lr: float,
        epochs: float = 300,
        min_lr: float = 0.0,
        lr_cycle_mul: float = 1.0,
        lr_cycle_decay: float = 0.1,
        lr_cycle_limit: int = 1,
        warmup_epochs: float = 0,
        warmup_lr: float = 1e-5,
        warmup_prefix: bool = False,
        noise_start: float | None = None,
        noise_end: float | None = None,
        lr_noise_pct: float = 0.67,
        lr_noise_std: float = 1.0,
        seed: int = 42,
        sched_on_updates: bool = False,
    ) -> None:
        self._setup(locals())

    def _check(self) -> None:
        _number(self.name, "epochs", self.epochs, low=0)
        _number(self.name, "min_lr", self.min_lr, low=0, strict=False)
        _number(self.name, "lr_cycle_mul", self.lr_cycle_mul, low=0)
        _number(self.name, "lr_cycle_decay", self.lr_cycle_decay)
        _number(self.name, "lr_cycle_limit", self.lr_cycle_limit)
        for param in ("lr_k_decay", "decay_rate"):  # cosine's and poly's
            if hasattr(self, param):
                _number(self.name, param, getattr(self, param))

    def _resolve(self, r: Resolved, ssr: float) -> None:
        epochs = _scaled_count(self.epochs, ssr)
        if epochs <= 0:
            raise ScheduleError(
                f"{self.name}: ssr {ssr:g} leaves epochs={self.epochs} at {epochs}; timm needs at least 1"
            )
        r["t_initial"] = self._per(r, epochs)

    def cycle_length(self, r: Resolved) -> Any:
        cycles = max(1, self.lr_cycle_limit)
        m = self.lr_cycle_mul
        if m == 1.0:
            t = r.t_initial * cycles
        else:
            t = int(math.floor(-r.t_initial * (m**cycles - 1) / (1 - m)))
        return t + r.warmup_t if r.prefix else t

    def _cycles(self, r: Resolved, t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Cycle index ``i``, its length ``t_i`` and time into it ``t_curr`` at each ``t``."""
        m, t_initial = self.lr_cycle_mul, r.t_initial
        if m != 1:
            x = 1 - t / t_initial * (1 - m)
            if np.any(x <= 0):
                bad = t[x <= 0].flat[0] + (r.warmup_t if r.prefix else 0)
                raise ScheduleError(
                    f"{self.name}: with lr_cycle_mul={m} timm fails at step {bad:g} "
                    f"(math.log of {x[x <= 0].flat[0]:g}: ValueError: math domain error): its cycles end before the "
                    "run does; shorten cooldown_epochs or use lr_cycle_mul >= 1"
                )
            i = np.floor(libm.log(x) / math.log(m))
            t_i = libm.power(m, i) * t_initial
            t_curr = t - (1 - libm.power(m, i)) / (1 - m) * t_initial
        else:
            i = t // t_initial
            t_i = np.full(t.shape, t_initial, dtype=np.float64)
            t_curr = t - t_initial * i
        return i, t_i, t_curr

    def _after_warmup(self, r: Resolved, t: np.ndarray) -> np.ndarray:
        i, t_i, t_curr = self._cycles(r, t)
        lr_max = r.base * libm.power(float(self.lr_cycle_decay), i)
        inside = i < self.lr_cycle_limit
        out = np.full(t.shape, float(self.min_lr), dtype=np.float64)
        out[inside] = self._shape(lr_max[inside], t_i[inside], t_curr[inside])
        return out

    def _shape(self, lr_max: np.ndarray, t_i: np.ndarray, t_curr: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _breakpoints(self, r: Resolved) -> list[tuple[str, Any]]:
        points = []
        if self.lr_cycle_mul == 1 and self.lr_cycle_limit > 1:
            for c in range(1, min(int(self.lr_cycle_limit), 50)):
                points.append((f"restart {c}", self._shift(r, r.t_initial * c)))
        points.append(("schedule end", self.cycle_length(r)))
        return points


class TimmCosineScheduler(_CycleScheduler):
    r"""timm's ``cosine`` (``CosineLRScheduler``): cosine decay from ``lr`` to ``min_lr`` with restarts.

    .. math:: \eta(t) = \eta_{min} + \tfrac{1}{2}(\eta\,d^i - \eta_{min})(1 + \cos(\pi\,t_c^k / T_i^k))

    where t is the count of epochs (or of updates, with ``sched_on_updates``) since the schedule
    began, t_c the time into cycle i, T_i that cycle's length, d the cycle decay, η the base LR
    (``lr``) and η_min ``min_lr``, k the k-decay exponent.

    after a linear warmup from ``warmup_lr``; cycles, k-decay, noise and stepping as in the
    module ``sched_cli.schedulers.timm`` documents. Times in epochs.

    Args:
        lr (float): Base LR (``args.lr``).
        epochs (float): Cycle length :math:`T` (``--epochs``). Default ``300``.
        min_lr (float): Floor. Default ``0``.
        lr_cycle_mul, lr_cycle_decay, lr_cycle_limit: Cycles. Default ``1.0``, ``0.1``, ``1``.
        lr_k_decay (float): k-decay exponent :math:`k`. Default ``1.0``.
        warmup_epochs, warmup_lr, warmup_prefix: Warmup. Default ``0``, ``1e-5``, ``False``.
        noise_start, noise_end (float): ``lr_noise`` as fractions of ``epochs``. Default off.
        lr_noise_pct, lr_noise_std, seed: Noise. Default ``0.67``, ``1.0``, ``42``.
        sched_on_updates (bool): Step per optimizer update instead of per epoch. Default ``False``.
    """

    sched = "cosine"

    def __init__(
        self,
        lr: float,
        epochs: float = 300,
        min_lr: float = 0.0,
        lr_cycle_mul: float = 1.0,
        lr_cycle_decay: float = 0.1,
        lr_cycle_limit: int = 1,
        lr_k_decay: float = 1.0,
        warmup_epochs: float = 0,
        warmup_lr: float = 1e-5,
        warmup_prefix: bool = False,
        noise_start: float | None = None,
        noise_end: float | None = None,
        lr_noise_pct: float = 0.67,
        lr_noise_std: float = 1.0,
        seed: int = 42,
        sched_on_updates: bool = False,
    ) -> None:
        self._setup(locals())

    def _shape(self, lr_max: np.ndarray, t_i: np.ndarray, t_curr: np.ndarray) -> np.ndarray:
        k, lr_min = self.lr_k_decay, self.min_lr
        return lr_min + 0.5 * (lr_max - lr_min) * (1 + np.cos(math.pi * libm.power(t_curr, k) / libm.power(t_i, k)))


class TimmTanhScheduler(_CycleScheduler):
    r"""timm's ``tanh`` (``TanhLRScheduler``): hyperbolic-tangent decay with restarts.

    .. math:: \eta(t) = \eta_{min} + \tfrac{1}{2}(\eta\,d^i - \eta_{min})
        (1 - \text{tanh}(-7 (1 - t_c/T_i) + 3\,t_c/T_i))

    where t is the count of epochs (or of updates, with ``sched_on_updates``) since the schedule
    began, t_c the time into cycle i, T_i that cycle's length, d the cycle decay, η the base LR
    (``lr``) and η_min ``min_lr``.

    Without ``warmup_prefix`` the warmup climbs to this value at the warmup's end, not to ``lr``.
    Arguments as :class:`TimmCosineScheduler`, without k-decay.
    """

    sched = "tanh"
    lb, ub = -7.0, 3.0

    def _warmup_target(self, r: Resolved) -> float:
        if r.prefix or not r.warmup_t:
            return self.lr
        # timm: t_v = self._get_lr(self.warmup_t), the tanh value where the warmup ends.
        return float(self._after_warmup(r, np.asarray([float(r.warmup_t)]))[0])

    def _shape(self, lr_max: np.ndarray, t_i: np.ndarray, t_curr: np.ndarray) -> np.ndarray:
        tr = t_curr / t_i
        arg = self.lb * (1.0 - tr) + self.ub * tr
        # numpy's tanh is not always the C library's to the last bit; timm's is math.tanh.
        tanh = libm.tanh(np.asarray(arg, dtype=np.float64))
        lr_min = self.min_lr
        return lr_min + 0.5 * (lr_max - lr_min) * (1 - tanh)


class TimmPolyScheduler(_CycleScheduler):
    r"""timm's ``poly`` (``PolyLRScheduler``): polynomial decay with restarts; power ``decay_rate``.

    .. math:: \eta(t) = \eta_{min} + (\eta\,d^i - \eta_{min})(1 - t_c^k / T_i^k)^p

    where t is the count of epochs (or of updates, with ``sched_on_updates``) since the schedule
    began, t_c the time into cycle i, T_i that cycle's length, d the cycle decay, η the base LR
    (``lr``) and η_min ``min_lr``, k the k-decay exponent and p the power.

    Arguments as :class:`TimmCosineScheduler`, plus ``decay_rate`` (:math:`p`, timm overloads
    ``--decay-rate`` as the power). Default ``0.5`` here (``PolyLRScheduler``'s own default).
    """

    sched = "poly"

    def __init__(
        self,
        lr: float,
        epochs: float = 300,
        decay_rate: float = 0.5,
        min_lr: float = 0.0,
        lr_cycle_mul: float = 1.0,
        lr_cycle_decay: float = 0.1,
        lr_cycle_limit: int = 1,
        lr_k_decay: float = 1.0,
        warmup_epochs: float = 0,
        warmup_lr: float = 1e-5,
        warmup_prefix: bool = False,
        noise_start: float | None = None,
        noise_end: float | None = None,
        lr_noise_pct: float = 0.67,
        lr_noise_std: float = 1.0,
        seed: int = 42,
        sched_on_updates: bool = False,
    ) -> None:
        self._setup(locals())

    def _shape(self, lr_max: np.ndarray, t_i: np.ndarray, t_curr: np.ndarray) -> np.ndarray:
        k, lr_min = self.lr_k_decay, self.min_lr
        return lr_min + (lr_max - lr_min) * libm.power(1 - libm.power(t_curr, k) / libm.power(t_i, k), self.decay_rate)


# -- step, multistep, constant ----------------------------------------------------------------------
class TimmStepScheduler(TimmScheduler):
    r"""timm's ``step`` (``StepLRScheduler``): ``lr`` times ``decay_rate`` every ``decay_epochs``.

    .. math:: \eta(t) = \eta\,r^{\lfloor t / s \rfloor}

    where t is the count of epochs (or updates) elapsed, s ``decay_epochs``, r ``decay_rate`` and
    η the base LR (``lr``).

    (Python's float floor division; :math:`t` after a prefix warmup is :math:`t - t_w`).
    ``decay_epochs`` may be fractional (EfficientNet's 2.4). ``min_lr`` is not used; the run
    lasts ``epochs`` (plus the warmup with ``warmup_prefix``), and cooldown is ignored, as timm does.

    Args:
        lr (float): Base LR.
        decay_epochs (float): Step length :math:`s`. Default ``90``.
        decay_rate (float): Factor :math:`r`. Default ``0.1``.
        warmup_epochs, warmup_lr, warmup_prefix, noise_*, lr_noise_*, seed, sched_on_updates:
            as :class:`TimmCosineScheduler`; noise fractions are of ``epochs``.
        epochs (float): The run's epochs, for the noise range. Default ``300``.
    """

    sched = "step"

    def __init__(
        self,
        lr: float,
        decay_epochs: float = 90,
        decay_rate: float = 0.1,
        epochs: float = 300,
        warmup_epochs: float = 0,
        warmup_lr: float = 1e-5,
        warmup_prefix: bool = False,
        noise_start: float | None = None,
        noise_end: float | None = None,
        lr_noise_pct: float = 0.67,
        lr_noise_std: float = 1.0,
        seed: int = 42,
        sched_on_updates: bool = False,
    ) -> None:
        self._setup(locals())

    def _check(self) -> None:
        _number(self.name, "decay_epochs", self.decay_epochs, low=0)
        _number(self.name, "decay_rate", self.decay_rate)
        _number(self.name, "epochs", self.epochs, low=0)

    def _resolve(self, r: Resolved, ssr: float) -> None:
        r["t_initial"] = self._per(r, _scaled_count(self.epochs, ssr))
        decay = self.decay_epochs if ssr == 1.0 else self.decay_epochs * ssr
        r["decay_t"] = self._per(r, decay)

    def _after_warmup(self, r: Resolved, t: np.ndarray) -> np.ndarray:
        return r.base * libm.power(float(self.decay_rate), t // r.decay_t)

    def _breakpoints(self, r: Resolved) -> list[tuple[str, Any]]:
        d = r.decay_t
        count = int(r.t_initial // d) if d > 0 else 0
        return [(f"step {n}", self._shift(r, d * n)) for n in range(1, min(count, 50) + 1)]


class TimmConstantScheduler(TimmStepScheduler):
    r"""timm's ``constant``: warmup, then ``lr`` held (a ``StepLRScheduler`` that never decays).

    .. math:: \eta(t) = \eta \times 1.0^{\lfloor t / 1 \rfloor} = \eta

    where t is the count of epochs (or updates) elapsed and η the base LR (``lr``).

    Also what ``sched: none`` trains with (there without warmup or noise). Arguments as
    :class:`TimmStepScheduler`, without the decay.
    """

    sched = "constant"

    def __init__(
        self,
        lr: float,
        epochs: float = 300,
        warmup_epochs: float = 0,
        warmup_lr: float = 1e-5,
        warmup_prefix: bool = False,
        noise_start: float | None = None,
        noise_end: float | None = None,
        lr_noise_pct: float = 0.67,
        lr_noise_std: float = 1.0,
        seed: int = 42,
        sched_on_updates: bool = False,
    ) -> None:
        self._setup(locals())

    def _check(self) -> None:
        # A StepLRScheduler(decay_t=1, decay_rate=1.0), as create_scheduler_v2 builds it.
        self.decay_epochs, self.decay_rate = 1, 1.0
        super()._check()

    def _resolve(self, r: Resolved, ssr: float) -> None:
        r["t_initial"] = self._per(r, _scaled_count(self.epochs, ssr))
        r["decay_t"] = 1  # timm passes decay_t=1 as is, even when stepping per update

    def _breakpoints(self, r: Resolved) -> list[tuple[str, Any]]:
        return []


class TimmMultiStepScheduler(TimmScheduler):
    r"""timm's ``multistep`` (``MultiStepLRScheduler``): ``lr`` times ``decay_rate`` per milestone passed.

    .. math:: \eta(t) = \eta\,r^{n}, \quad n = \text{bisect\_right}(M, t + 1)

    where t is the count of epochs (or updates) elapsed, M the milestones, r ``decay_rate`` and η
    the base LR (``lr``).

    timm compares milestones with :math:`t + 1`, so a milestone at epoch 30 already applies to epoch
    29 (one epoch, or one update, earlier than PyTorch's ``MultiStepLR``). ``bisect`` assumes the
    milestones sorted; unsorted ones behave as timm's do. Other arguments as :class:`TimmStepScheduler`.

    Args:
        decay_milestones (list[str]): Milestones in whole epochs, e.g. ``[30ep, 60ep]``.
            Default ``[90ep, 180ep, 270ep]``.
    """

    sched = "multistep"

    def __init__(
        self,
        lr: float,
        decay_milestones: list[TimeArg] = ("90ep", "180ep", "270ep"),  # type: ignore[assignment]
        decay_rate: float = 0.1,
        epochs: float = 300,
        warmup_epochs: float = 0,
        warmup_lr: float = 1e-5,
        warmup_prefix: bool = False,
        noise_start: float | None = None,
        noise_end: float | None = None,
        lr_noise_pct: float = 0.67,
        lr_noise_std: float = 1.0,
        seed: int = 42,
        sched_on_updates: bool = False,
    ) -> None:
        self._setup(locals())

    def _check(self) -> None:
        self._milestones = [
            _epochs(self.name, f"decay_milestones[{i}]", m) for i, m in enumerate(self.decay_milestones)
        ]
        self.decay_milestones = list(self.decay_milestones)
        _number(self.name, "decay_rate", self.decay_rate)
        _number(self.name, "epochs", self.epochs, low=0)

    def _resolve(self, r: Resolved, ssr: float) -> None:
        r["t_initial"] = self._per(r, _scaled_count(self.epochs, ssr))
        r["milestones"] = [self._per(r, _scaled_count(m, ssr)) for m in self._milestones]

    def _after_warmup(self, r: Resolved, t: np.ndarray) -> np.ndarray:
        return r.base * libm.power(float(self.decay_rate), _bisect_right(r.milestones, t + 1))

    def _breakpoints(self, r: Resolved) -> list[tuple[str, Any]]:
        # Milestone m takes effect at t = m - 1 (timm compares with t + 1).
        return [(f"milestone {i + 1}", self._shift(r, m - 1)) for i, m in enumerate(r.milestones)]


def _epochs(owner: str, param: str, value: Any) -> int:
    """A milestone given as whole epochs, ``'30ep'`` (or a plain whole number)."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value)
    try:
        time = value if isinstance(value, Time) else Time.from_timestring(str(value).strip())
    except TimeStringError as exc:
        raise ScheduleError(f"{owner}: {param}: {exc}") from None
    if time.unit is not TimeUnit.EPOCH:
        raise ScheduleError(f"{owner}: {param}={value!r} must be in epochs, e.g. '30ep' (timm counts epochs)")
    return int(time.value)


def _bisect_right(a: list[Any], x: np.ndarray) -> np.ndarray:
    """``bisect.bisect_right(a, x)`` for every ``x`` at once, the same binary search step by step
    (so unsorted ``a`` gives what ``bisect`` gives)."""
    lo = np.zeros(x.shape, dtype=np.int64)
    hi = np.full(x.shape, len(a), dtype=np.int64)
    values = np.asarray(a, dtype=np.float64) if a else np.zeros(1)
    while True:
        active = lo < hi
        if not np.any(active):
            return lo
        mid = (lo + hi) // 2
        below = x < values[np.minimum(mid, len(a) - 1)]
        hi = np.where(active & below, mid, hi)
        lo = np.where(active & ~below, mid + 1, lo)


# -- warmup-stable-decay and rsqrt ---------------------------------------------------------------------
_DECAY_FNS = ("linear", "1-sqrt", "cosine", "power", "exp")


class TimmWSDScheduler(TimmScheduler):
    r"""timm's ``wsd`` (``WSDLRScheduler``, in timm 1.0.31, not 1.0.29): warmup, stable, then a decay to ``min_lr``.

    With :math:`t_s = t - t_w` and :math:`L` the stable + decay length (``epochs``, less the warmup
    unless ``warmup_prefix``), the decay of length :math:`D` starts at :math:`L - D`:

    .. math:: s = \max(\eta\,f(t_s), \eta_{min}), \quad
        \eta(t) = \eta_{min} + (s - \eta_{min})\,g(\min(1, (t_s - L + D) / D))

    where t_s is the count of epochs (or updates) since the warmup ended, η the base LR (``lr``) and
    η_min ``min_lr``.

    (:math:`\eta = s` before the decay). :math:`f = 1` (``wsd``) or :math:`(1 + t_s/\tau)^{-1/2}`
    (``rsqrt``, :math:`\tau` = ``lr_stable_timescale``, default the warmup). :math:`g` is
    ``lr_decay_fn``: ``1-sqrt`` (``wsd``'s default) :math:`1 - \sqrt{x}`, ``linear``
    (``rsqrt``'s) :math:`1 - x`, ``cosine``, ``power`` :math:`1 - x^{0.5}`, ``exp``
    :math:`(0.1^x - 0.1)/0.9`. The warmup is always a prefix here.

    Args:
        lr (float): Base LR.
        epochs (float): ``--epochs``. Default ``300``.
        decay_epochs (float): Decay length :math:`D` in epochs, or in (0, 1) a fraction of :math:`L`;
            rounded to a whole number of steps. Default ``0.2``.
        min_lr (float): Final LR. Default ``0``.
        lr_decay_fn (str): Decay function; ``""`` (default) for the schedule's own.
        lr_stable_timescale (float): ``rsqrt`` timescale in epochs; default the warmup.
        warmup_epochs, warmup_lr, warmup_prefix, noise_*, lr_noise_*, seed, sched_on_updates:
            as :class:`TimmCosineScheduler`.
    """

    sched = "wsd"
    stable_fn = "constant"
    default_decay_fn = "1-sqrt"

    def __init__(
        self,
        lr: float,
        epochs: float = 300,
        decay_epochs: float = 0.2,
        min_lr: float = 0.0,
        lr_decay_fn: str = "",
        lr_stable_timescale: float | None = None,
        warmup_epochs: float = 0,
        warmup_lr: float = 1e-5,
        warmup_prefix: bool = False,
        noise_start: float | None = None,
        noise_end: float | None = None,
        lr_noise_pct: float = 0.67,
        lr_noise_std: float = 1.0,
        seed: int = 42,
        sched_on_updates: bool = False,
    ) -> None:
        self._setup(locals())

    def _check(self) -> None:
        _number(self.name, "epochs", self.epochs, low=0)
        _number(self.name, "decay_epochs", self.decay_epochs)
        _number(self.name, "min_lr", self.min_lr, low=0, strict=False)
        if (self.lr_decay_fn or self.default_decay_fn) not in _DECAY_FNS:
            raise ScheduleError(f"{self.name}: lr_decay_fn={self.lr_decay_fn!r} is not one of {', '.join(_DECAY_FNS)}")
        if self.lr_stable_timescale is not None:
            _number(self.name, "lr_stable_timescale", self.lr_stable_timescale)

    def _resolve(self, r: Resolved, ssr: float) -> None:
        epochs = _scaled_count(self.epochs, ssr)
        t_initial = self._per(r, epochs)
        decay_epochs = self.decay_epochs
        if ssr != 1.0 and not 0 < decay_epochs < 1:
            decay_epochs = max(1.0, decay_epochs * ssr)
        t_sched = t_initial if r.prefix else t_initial - r.warmup_t
        decay_t = self._per(r, decay_epochs)
        if 0 < decay_epochs < 1:
            decay_t = decay_epochs * t_sched
        decay_t = int(round(decay_t))
        if not 0 < decay_t <= t_sched:
            raise ScheduleError(
                f"{self.name}: timm requires 0 < decay_epochs <= epochs{'' if r.prefix else ' - warmup_epochs'}; "
                f"decay_epochs={self.decay_epochs} gives a decay of {decay_t} and a stable + decay length of {t_sched}"
            )
        r["t_initial"] = t_initial  # noise fractions are of the full --epochs, as timm computes them
        r["t_sched"] = t_sched
        r["decay_t"] = decay_t
        r["prefix"] = True  # the warmup is always a prefix of the stable + decay phases
        timescale = None if self.lr_stable_timescale is None else self._per(r, self.lr_stable_timescale)
        if self.stable_fn != "constant":
            if timescale is None:
                timescale = r.warmup_t
            if timescale <= 0:
                raise ScheduleError(
                    f"{self.name}: the rsqrt timescale is {timescale} (it defaults to the warmup, {r.warmup_t}); "
                    "set lr_stable_timescale when there is no warmup"
                )
        r["timescale"] = timescale

    def cycle_length(self, r: Resolved) -> Any:
        return r.warmup_t + r.t_sched

    def _after_warmup(self, r: Resolved, t_s: np.ndarray) -> np.ndarray:
        if self.stable_fn == "constant":
            stable = np.full(t_s.shape, max(r.base * 1.0, self.min_lr), dtype=np.float64)
        else:
            stable = np.maximum(r.base * libm.power(1.0 + t_s / r.timescale, -0.5), self.min_lr)
        t_decay = t_s - (r.t_sched - r.decay_t)
        decaying = t_decay > 0
        out = stable.copy()
        frac = np.minimum(t_decay[decaying] / r.decay_t, 1.0)
        lr_min = self.min_lr
        out[decaying] = lr_min + (stable[decaying] - lr_min) * self._decay(frac)
        return out

    def _decay(self, frac: np.ndarray) -> np.ndarray:
        fn = self.lr_decay_fn or self.default_decay_fn
        if fn == "linear":
            return 1.0 - frac
        if fn == "1-sqrt":
            return 1.0 - np.sqrt(frac)
        if fn == "cosine":
            return 0.5 * (1.0 + np.cos(math.pi * frac))
        if fn == "power":
            return 1.0 - libm.power(frac, 0.5)
        ratio = 0.1
        return (libm.power(ratio, frac) - ratio) / (1.0 - ratio)

    def _breakpoints(self, r: Resolved) -> list[tuple[str, Any]]:
        return [("decay start", r.warmup_t + r.t_sched - r.decay_t), ("decay end", r.warmup_t + r.t_sched)]


class TimmRsqrtScheduler(TimmWSDScheduler):
    r"""timm's ``rsqrt``: warmup, reciprocal-square-root decay, then a (by default linear) cooldown.

    :class:`TimmWSDScheduler` with :math:`f(t_s) = (1 + t_s/\tau)^{-1/2}` and ``lr_decay_fn``
    ``linear`` by default (Big Vision's schedule).

    where t_s is the count of epochs (or updates) since the warmup ended and τ
    ``lr_stable_timescale``.
    """

    sched = "rsqrt"
    stable_fn = "rsqrt"
    default_decay_fn = "linear"


#: ``--sched`` value -> class.
SCHEDULERS: dict[str, type[TimmScheduler]] = {
    cls.sched: cls
    for cls in (
        TimmCosineScheduler,
        TimmTanhScheduler,
        TimmPolyScheduler,
        TimmStepScheduler,
        TimmMultiStepScheduler,
        TimmConstantScheduler,
        TimmWSDScheduler,
        TimmRsqrtScheduler,
    )
}
