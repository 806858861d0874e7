r"""Megatron-LM's ``OptimizerParamScheduler`` (megatron-core 0.16.1), over the consumed-sample counter.

Megatron counts its scheduler in **samples**: ``training.py`` builds it with every length in
samples (iterations x the final global batch size, for an iteration-based run) and, after each
iteration whose update succeeded, steps it by the samples that iteration trained on. The LR an
iteration trains with is the one set by the previous step (the first: ``step(0)`` on construction).

With :math:`n` the scheduler's ``num_steps`` when iteration :math:`k` starts (the samples of the
iterations before :math:`k`, less those of skipped ones, see below), :math:`\eta_{max}` = ``lr``,
:math:`\eta_{min}` = ``min_lr``, :math:`\eta_0` = ``warmup_init``, :math:`W` = ``warmup_samples``,
:math:`D` = ``decay_samples`` and :math:`A` = ``wsd_decay_samples``:

.. math::

    \eta(n) = \begin{cases}
      \eta_0 + (\eta_{max} - \eta_0)\, n / W & W > 0,\ n \le W \\
      \eta_{max} & \text{constant} \\
      \eta_{min} & n > D \\
      \max(\eta_{min},\ \eta_{max} \sqrt{\max(W, 1)} / \sqrt{\max(n, 1)}) & \text{inverse-square-root} \\
      \eta_{min} + c(r)\,(\eta_{max} - \eta_{min}) & \text{otherwise, } r = (n - W) / (D - W)
    \end{cases}

with :math:`c(r) = 1 - r` (linear), :math:`\tfrac12(\cos \pi r + 1)` (cosine), and for WSD
:math:`c = 1` while :math:`n \le D - A`, then with :math:`s = (n - (D - A)) / A`:
:math:`1 - s` (linear), :math:`\tfrac12(\cos \pi s + 1)` (cosine), :math:`2 \cdot 0.5^s - 1`
(exponential) or :math:`1 - \sqrt s` (minus_sqrt). The multiplier is :math:`\eta(n) / \eta_{max}`;
the ``lr`` column is :math:`\eta(n)` itself, computed in Megatron's order of operations (``cos`` and
``pow`` through Python's ``math``, as Megatron calls them), so it agrees to the bit.

``skipped``: iterations whose update was skipped (fp16 loss-scale overflow: ``update_successful``
false): ``training.py`` still counts their samples as consumed (the batch-size ramp sees them) but
does not step the scheduler, so :math:`n` at iteration :math:`k` is the consumed samples before
:math:`k` less the samples of every skipped iteration before :math:`k`. Given as a count (the
first that many iterations) or a list of iteration indices (0-based, the ``batch`` column).
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from sched_cli.schedulers.base import Breakpoint, BuiltinScheduler, Counters, Resolved, RunShape, ScheduleError
from sched_cli.time import Time, TimeUnit

__all__ = ["MegatronScheduler", "DECAY_STYLES", "WSD_DECAY_STYLES", "skipped_iterations"]

#: A value the constructor checks itself (a count or a list), which the spec layer passes as given.
Raw = Any

#: ``--lr-decay-style`` choices of megatron-core 0.16.1.
DECAY_STYLES = ("constant", "linear", "cosine", "inverse-square-root", "WSD")
#: ``--lr-wsd-decay-style`` choices.
WSD_DECAY_STYLES = ("exponential", "linear", "cosine", "minus_sqrt")


def skipped_iterations(skipped: Any, owner: str = "megatron") -> tuple[int, ...]:
    """``skipped`` as sorted iteration indices: a count ``N`` is iterations ``0 .. N-1``."""
    if skipped is None:
        return ()
    if isinstance(skipped, numbers.Integral) and not isinstance(skipped, bool):
        if skipped < 0:
            raise ScheduleError(f"{owner}: skipped={skipped!r} must be a count of at least 0 or a list of iterations")
        return tuple(range(int(skipped)))
    if isinstance(skipped, list | tuple):
        out = set()
        for item in skipped:
            if isinstance(item, bool) or not isinstance(item, numbers.Integral) or item < 0:
                raise ScheduleError(f"{owner}: skipped holds iteration indices (whole numbers from 0), not {item!r}")
            out.add(int(item))
        return tuple(sorted(out))
    raise ScheduleError(f"{owner}: skipped must be a count or a list of iteration indices, not {skipped!r}")


def _real(owner: str, param: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ScheduleError(f"{owner}: {param} must be a finite number, not {value!r}")
    return value


def _libm(fn: Any, x: Any) -> Any:
    """``fn`` (a ``math`` function) on a scalar or elementwise on an array: the values Megatron's
    ``math`` calls give, where numpy's vectorized ``cos``/``power`` may differ in the last place."""
    if np.ndim(x) == 0:
        return fn(float(x))
    flat = np.asarray(x, dtype=np.float64).ravel()
    return np.fromiter((fn(v) for v in flat.tolist()), dtype=np.float64, count=flat.size).reshape(np.shape(x))


class MegatronScheduler(BuiltinScheduler):
    r"""Megatron-LM's ``OptimizerParamScheduler.get_lr``, on the samples its loop steps it by.

    .. math:: \alpha(k) = \eta(k) / \eta_{max}, \quad \eta(k) = \begin{cases}
        \eta_0 + (\eta_{max} - \eta_0) k / W, & W > 0 \text{ and } k \le W \\
        \eta_{max}, & \text{constant} \\
        \eta_{min}, & k > D \\
        \max(\eta_{min}, \eta_{max} \sqrt{\max(W, 1) / \max(k, 1)}), & \text{inverse-square-root} \\
        \eta_{min} + c (\eta_{max} - \eta_{min}), & \text{otherwise} \end{cases}

    where k is the count of samples the scheduler has been stepped by when the iteration starts
    (the samples consumed before it, less those of skipped iterations), W the warmup's samples, D
    the decay's, with :math:`r = (k - W) / (D - W)` and c = 1 - r (linear),
    :math:`\tfrac{1}{2}(1 + \cos \pi r)` (cosine), or for WSD 1 until :math:`k \le D - A`, then with
    :math:`u = (k - D + A) / A` one of 1 - u, :math:`\tfrac{1}{2}(1 + \cos \pi u)`,
    :math:`2 \times 0.5^u - 1` (exponential), :math:`1 - \sqrt{u}` (minus_sqrt).

    Args:
        lr (float): ``--lr``, the peak LR :math:`\eta_{max}`.
        decay_samples (float): ``lr_decay_steps`` in samples, :math:`D` (``--lr-decay-iters`` x the
            global batch size, or ``--lr-decay-samples``; by default the run's length).
        warmup_samples (float): ``lr_warmup_steps`` in samples, :math:`W` (fractional when it comes
            from ``--lr-warmup-fraction``). Default ``0``.
        min_lr (float): ``--min-lr``, :math:`\eta_{min}`. Default ``0``.
        warmup_init (float): ``--lr-warmup-init``, :math:`\eta_0`. Default ``0``.
        decay_style (str): ``--lr-decay-style``: ``constant``, ``linear``, ``cosine``,
            ``inverse-square-root`` or ``WSD``. Default ``linear``.
        wsd_decay_samples (float): the WSD anneal in samples, :math:`A` (required with ``WSD``).
        wsd_decay_style (str): ``--lr-wsd-decay-style``: ``exponential``, ``linear``, ``cosine`` or
            ``minus_sqrt``. Default ``exponential``.
        skipped: iterations whose update was skipped: a count (the first ones) or 0-based indices.
    """

    def __init__(
        self,
        lr: float,
        decay_samples: float,
        warmup_samples: float = 0,
        min_lr: float = 0.0,
        warmup_init: float = 0.0,
        decay_style: str = "linear",
        wsd_decay_samples: float | None = None,
        wsd_decay_style: str = "exponential",
        skipped: Raw = (),
    ) -> None:
        owner = "megatron"
        self.lr = _real(owner, "lr", lr)
        self.min_lr = _real(owner, "min_lr", min_lr)
        self.warmup_init = _real(owner, "warmup_init", warmup_init)
        self.warmup_samples = _real(owner, "warmup_samples", warmup_samples)
        self.decay_samples = _real(owner, "decay_samples", decay_samples)
        if wsd_decay_samples is not None:
            _real(owner, "wsd_decay_samples", wsd_decay_samples)
        self.wsd_decay_samples = wsd_decay_samples
        self.decay_style = decay_style
        self.wsd_decay_style = wsd_decay_style
        self.skipped = skipped
        self._skipped = skipped_iterations(skipped, owner)
        # OptimizerParamScheduler.__init__'s assertions, as messages.
        if self.lr <= 0:
            raise ScheduleError(f"megatron: lr={lr!r} must be greater than 0 (the multiplier is the LR over lr)")
        if self.min_lr < 0:
            raise ScheduleError(f"megatron: min_lr={min_lr!r} must be at least 0 (Megatron asserts min_lr >= 0.0)")
        if self.lr < self.min_lr:
            raise ScheduleError(f"megatron: lr={lr!r} must be at least min_lr={min_lr!r} (Megatron asserts it)")
        if self.warmup_init > self.lr:
            raise ScheduleError(
                f"megatron: warmup_init={warmup_init!r} must be at most lr={lr!r} (Megatron asserts it)"
            )
        if self.decay_samples <= 0:
            raise ScheduleError(
                f"megatron: decay_samples={decay_samples!r} must be greater than 0 (Megatron asserts it)"
            )
        if not self.warmup_samples < self.decay_samples:
            raise ScheduleError(
                f"megatron: warmup_samples={warmup_samples!r} must be less than decay_samples={decay_samples!r} "
                "(Megatron asserts lr_warmup_steps < lr_decay_steps); shorten the warmup or lengthen the decay"
            )
        if decay_style not in DECAY_STYLES:
            raise ScheduleError(f"megatron: decay_style={decay_style!r} must be one of {', '.join(DECAY_STYLES)}")
        if decay_style == "WSD":
            if wsd_decay_samples is None:
                raise ScheduleError(
                    "megatron: decay_style WSD needs wsd_decay_samples (--lr-wsd-decay-iters or --lr-wsd-decay-samples)"
                )
            if wsd_decay_style not in WSD_DECAY_STYLES:
                raise ScheduleError(
                    f"megatron: wsd_decay_style={wsd_decay_style!r} must be one of {', '.join(WSD_DECAY_STYLES)}"
                )

    @property
    def name(self) -> str:
        return "megatron"

    def resolve(self, shape: RunShape, ssr: float) -> Resolved:
        if ssr != 1.0:
            raise ScheduleError(f"megatron: Megatron-LM has no scale schedule ratio; ssr must be 1, not {ssr:g}")
        if self._skipped and shape.batch_size is None:
            raise ScheduleError("megatron: skipped iterations need the run's batch size to count their samples")
        # The samples each skipped iteration consumed without stepping the scheduler, cumulated.
        lost = [0]
        for k in self._skipped:
            size = shape.counter_at(TimeUnit.SAMPLE, k + 1) - shape.counter_at(TimeUnit.SAMPLE, k)  # type: ignore[operator]
            lost.append(lost[-1] + size)
        return Resolved(skipped=np.asarray(self._skipped, dtype=np.int64), lost=np.asarray(lost, dtype=np.int64))

    def num_steps(self, r: Resolved, counters: Counters) -> Any:
        """The scheduler's ``num_steps`` when each iteration starts: samples consumed, less skipped ones'."""
        samples = counters.get(TimeUnit.SAMPLE)
        if len(r.skipped) == 0:
            return samples
        before = np.searchsorted(r.skipped, counters.get(TimeUnit.BATCH), side="left")
        lost = r.lost[before]
        return samples - (int(lost) if np.ndim(lost) == 0 else lost)

    def learning_rate(self, n: Any) -> Any:
        """``get_lr`` at ``num_steps = n`` (an int or an int array), in Megatron's order of operations."""
        max_lr, min_lr, init = float(self.lr), float(self.min_lr), float(self.warmup_init)
        w, d = self.warmup_samples, self.decay_samples
        n = np.asarray(n)
        nf = n.astype(np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.decay_style == "constant":
                after = np.full(nf.shape, max_lr)
            elif self.decay_style == "inverse-square-root":
                # Python's ``x ** 0.5`` (pow), as Megatron writes it: it can differ from sqrt in the last place.
                root = _libm(lambda v: v**0.5, np.maximum(nf, 1.0))
                after = np.maximum(min_lr, max_lr * max(w, 1) ** 0.5 / root)
                after = np.where(n > d, min_lr, after)
            else:
                ratio = np.clip((nf - w) / float(d - w), 0.0, 1.0)
                after = min_lr + self._coefficient(ratio, nf) * (max_lr - min_lr)
                after = np.where(n > d, min_lr, after)
            if w > 0:
                after = np.where(n <= w, init + (max_lr - init) * nf / float(w), after)
        return float(after) if after.ndim == 0 else after

    def _coefficient(self, ratio: np.ndarray, nf: np.ndarray) -> np.ndarray:
        style = self.decay_style
        if style == "linear":
            return 1.0 - ratio
        if style == "cosine":
            return 0.5 * (_libm(math.cos, math.pi * ratio) + 1.0)
        a = float(self.wsd_decay_samples)  # type: ignore[arg-type]
        start = self.decay_samples - self.wsd_decay_samples  # type: ignore[operator]
        annealing = nf > start
        s = np.where(annealing, np.true_divide(nf - start, a), 0.0) if a else np.zeros_like(nf)
        s = np.clip(s, 0.0, None)
        wsd = self.wsd_decay_style
        if wsd == "linear":
            coeff = 1.0 - s
        elif wsd == "cosine":
            coeff = 0.5 * (_libm(math.cos, math.pi * s) + 1.0)
        elif wsd == "exponential":
            coeff = (2.0 * _libm(lambda v: math.pow(0.5, v), s)) - 1.0
        else:
            coeff = 1.0 - np.sqrt(s)
        return np.where(annealing, coeff, 1.0)

    def formula(self, r: Resolved, counters: Counters) -> Any:
        return np.true_divide(self.learning_rate(self.num_steps(r, counters)), float(self.lr))

    def optimizer_lr(self, shape: RunShape, ssr: float, counters: Counters, lr: float) -> np.ndarray:
        """The LR Megatron sets, to the bit, when the run's LR is this scheduler's ``lr``."""
        r = self.resolve(shape, ssr)
        values = np.asarray(self.learning_rate(self.num_steps(r, counters)), dtype=np.float64)
        return values.copy() if lr == self.lr else lr * (values / self.lr)

    def breakpoints(self, r: Resolved) -> list[Breakpoint]:
        points = []
        if self.warmup_samples > 0:
            points.append(Breakpoint("warmup end", Time(math.ceil(self.warmup_samples), TimeUnit.SAMPLE)))
        if self.decay_style == "WSD" and self.wsd_decay_samples:
            start = self.decay_samples - self.wsd_decay_samples
            if start > self.warmup_samples:
                points.append(Breakpoint("WSD anneal start", Time(math.floor(start) + 1, TimeUnit.SAMPLE)))
        if self.decay_style != "constant":
            points.append(Breakpoint("decay end", Time(math.floor(self.decay_samples) + 1, TimeUnit.SAMPLE)))
        return points
