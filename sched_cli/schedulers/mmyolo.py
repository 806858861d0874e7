"""MMYOLO's LR hooks, replayed as the Runner calls them.

MMYOLO's configs leave ``param_scheduler`` out and put their schedule in
``default_hooks.param_scheduler``: a hook that replaces MMEngine's ``ParamSchedulerHook`` and
sets the LR itself, before each iteration and after each epoch (``mmyolo/engine/hooks``,
read from MMYOLO 0.6's source; the formulas below are sched's own). Each needs the epoch length
``L`` (``len(train_dataloader)``) and runs in an ``EpochBasedTrainLoop``.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from sched_cli.schedulers.base import Breakpoint, Resolved, RunShape, ScheduleError, suggest
from sched_cli.schedulers.mmengine import MAX_ITERATIONS, MMEngineParamSchedulers, Raw
from sched_cli.time import Time, TimeUnit

__all__ = ["MMYOLOParamSchedulerHook", "HOOKS"]

#: Each hook's arguments and their defaults (MMYOLO 0.6). ``priority`` is the Runner's, not the hook's.
HOOKS: dict[str, dict[str, Any]] = {
    "YOLOv5ParamSchedulerHook": {
        "scheduler_type": "linear",
        "lr_factor": 0.01,
        "max_epochs": 300,
        "warmup_epochs": 3,
        "warmup_bias_lr": 0.1,
        "warmup_momentum": 0.8,
        "warmup_mim_iter": 1000,
    },
    "PPYOLOEParamSchedulerHook": {
        "warmup_min_iter": 1000,
        "start_factor": 0.0,
        "warmup_epochs": 5,
        "min_lr_ratio": 0.0,
        "total_epochs": 360,
    },
}


def _yolov5_factor(kind: str, lr_factor: float, max_epochs: int, epoch: int) -> float:
    if kind == "linear":
        return (1 - epoch / max_epochs) * (1.0 - lr_factor) + lr_factor
    return ((1 - math.cos(epoch * math.pi / max_epochs)) / 2) * (lr_factor - 1) + 1


class MMYOLOParamSchedulerHook(MMEngineParamSchedulers):
    r"""MMYOLO's ``YOLOv5ParamSchedulerHook`` or ``PPYOLOEParamSchedulerHook`` (``hook``), the LR of
    the weights' parameter group as the hook sets it at iteration :math:`i`, where t is the count
    of iterations done (:math:`i`); :math:`b` = ``lr``, :math:`L` the epoch length,
    :math:`e = \lfloor i / L \rfloor` the epoch, π the circle's constant.

    ``YOLOv5ParamSchedulerHook``: :math:`f(e)` is ``linear``:
    :math:`(1 - e / E)(1 - r) + r`, or ``cosine``: :math:`(1 - \cos(\pi e / E)) / 2 \, (r - 1) + 1`
    (:math:`r` = ``lr_factor``, :math:`E` the hook's ``max_epochs``). Warmup lasts
    :math:`W = \max(\mathrm{round}(w L), m)` iterations (``warmup_epochs``, ``warmup_mim_iter``):
    for :math:`i \le W` the LR is :math:`i / W \cdot b f(e)` (``np.interp``); after it, each epoch
    :math:`e` trains with :math:`b f(e - 1)`, set when the previous epoch ends, except that the
    epoch in which warmup ends keeps :math:`b f(\lfloor W / L \rfloor)`. (Biases warm up from
    ``warmup_bias_lr`` instead of 0, and momentum from ``warmup_momentum``: not the LR shown.)

    ``PPYOLOEParamSchedulerHook``: :math:`W = \max(\mathrm{round}(w L), m)` (``warmup_epochs``,
    ``warmup_min_iter``); for :math:`i \le W`, :math:`b (s (1 - i/W) + i/W)` (``start_factor``);
    after it :math:`\eta + (b - \eta) \tfrac{1}{2} (\cos(\pi (i - W) / (T - W)) + 1)` with
    :math:`\eta` = ``min_lr_ratio`` :math:`\times b` and :math:`T` = ``total_epochs`` :math:`\times L`.

    Args:
        hook (dict): ``default_hooks.param_scheduler`` of the config: ``type`` and arguments.
        lr (float): The optimizer's LR when training starts (after any ``auto_scale_lr``).
        train_loop (str): ``"epoch"``, the only loop these hooks are replayed in.
    """

    def __init__(self, hook: Raw, lr: float, train_loop: str = "epoch") -> None:
        if isinstance(lr, bool) or not isinstance(lr, numbers.Real) or not math.isfinite(lr) or lr <= 0:
            raise ScheduleError(f"{self.name}: lr must be a number greater than 0 (the optimizer's LR), not {lr!r}")
        if train_loop != "epoch":
            raise ScheduleError(
                f"{self.name}: MMYOLO's LR hooks count epochs; sched replays them in an EpochBasedTrainLoop only"
            )
        self.hook_type, self.args = _parse_hook(hook)
        self.hook = hook
        self.param_scheduler: list[Any] = []
        self.configs = []
        self.lr = float(lr)
        self.train_loop = train_loop
        self._cache: dict[tuple[RunShape, float], Resolved] = {}

    def __repr__(self) -> str:
        return f"{self.name}({self.hook_type}, lr={self.lr!r})"

    def warmup_iterations(self, length: int) -> int:
        """``W``: the hook's warmup in iterations, for an epoch of ``length`` iterations."""
        a = self.args
        least = a["warmup_mim_iter"] if self.hook_type == "YOLOv5ParamSchedulerHook" else a["warmup_min_iter"]
        return max(round(a["warmup_epochs"] * length), least)

    def _replay(self, shape: RunShape, ssr: float) -> Resolved:
        if ssr != 1.0:
            raise ScheduleError(f"{self.name}: MMYOLO's hooks are replayed at ssr 1 only")
        _, n, length = self._loop(shape)
        if n > MAX_ITERATIONS:
            raise ScheduleError(f"{self.name}: {n:,} iterations: replayed up to {MAX_ITERATIONS:,} iterations")
        assert length is not None
        warmup = self.warmup_iterations(length)
        i = np.arange(n + 1, dtype=np.int64)
        if self.hook_type == "YOLOv5ParamSchedulerHook":
            lr = self._yolov5(i, length, warmup)
        else:
            lr = self._ppyoloe(i, length, warmup)
        if n > 0 and (self.hook_type == "PPYOLOEParamSchedulerHook" or n <= warmup):
            # After training the LR stays as the last iteration's (YOLOv5's hook sets it after
            # the last epoch only once warmup is over).
            lr[n] = lr[n - 1]
        return Resolved(
            built=[],
            iterations=n,
            lr=lr,
            multiplier=lr / self.lr,
            epoch_length=length,
            notes=[],
            warmup=warmup,
        )

    def _yolov5(self, i: np.ndarray, length: int, warmup: int) -> np.ndarray:
        a = self.args
        epochs = int(i[-1]) // length + 1

        def level(e: int) -> float:
            return self.lr * _yolov5_factor(a["scheduler_type"], a["lr_factor"], a["max_epochs"], e)

        levels = np.array([level(e) for e in range(epochs)], dtype=np.float64)
        e = i // length
        lr = np.empty(len(i), dtype=np.float64)
        warm = i <= warmup
        for epoch in np.unique(e[warm]).tolist():
            at = warm & (e == epoch)
            lr[at] = np.interp(i[at], [0, warmup], [0.0, levels[epoch]])
        # After warmup: set after each epoch in which an iteration found warmup over.
        later = ~warm
        ended_before = e * length - 1 > warmup
        lr[later & ended_before] = levels[np.maximum(e - 1, 0)][later & ended_before]
        if np.any(later & ~ended_before):  # the epoch in which warmup ended keeps its last level
            lr[later & ~ended_before] = levels[warmup // length]
        return lr

    def _ppyoloe(self, i: np.ndarray, length: int, warmup: int) -> np.ndarray:
        a = self.args
        total = a["total_epochs"] * length
        if warmup == 0:
            raise ScheduleError(f"{self.name}: a warmup of 0 iterations: MMYOLO divides by zero (i / 0) at once")
        if total == warmup and len(i) - 1 > warmup:
            raise ScheduleError(
                f"{self.name}: total_epochs x epoch length ({total}) equals the warmup: MMYOLO divides by zero after it"
            )
        base, low = self.lr, self.lr * a["min_lr_ratio"]
        warm = i <= warmup
        alpha = i / warmup
        with np.errstate(divide="ignore", invalid="ignore"):
            decay = low + (base - low) * 0.5 * (np.cos((i - warmup) * math.pi / (total - warmup)) + 1.0)
        return np.where(warm, base * (a["start_factor"] * (1 - alpha) + alpha), decay)

    def breakpoints(self, r: Resolved) -> list[Breakpoint]:
        return [Breakpoint("warmup end", Time(r.warmup, TimeUnit.BATCH))] if 0 < r.warmup < r.iterations else []


def _parse_hook(hook: Any) -> tuple[str, dict[str, Any]]:
    where = "default_hooks.param_scheduler"
    if not isinstance(hook, dict):
        raise ScheduleError(f"{where}: expected a mapping with a type, got {hook!r}")
    raw = hook.get("type")
    name = raw.__name__ if isinstance(raw, type) else str(raw).rpartition(".")[2]
    if name not in HOOKS:
        raise ScheduleError(
            f"{where}.type: {raw!r}{suggest(name, list(HOOKS))}: sched replays MMYOLO's {' and '.join(HOOKS)}"
        )
    own = HOOKS[name]
    for key in hook:
        if key not in own and key not in ("type", "priority", "_scope_"):
            raise ScheduleError(
                f"{where}.{key}: {name} has no argument {key!r}{suggest(str(key), list(own))} "
                f"(MMYOLO would raise a TypeError); its arguments are {', '.join(own)}"
            )
    args = {k: hook.get(k, v) for k, v in own.items()}
    for key, value in args.items():
        if key == "scheduler_type":
            if value not in ("linear", "cosine"):
                raise ScheduleError(f"{where}.scheduler_type: {value!r} must be 'linear' or 'cosine' (MMYOLO asserts)")
            continue
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                pass
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or value < 0:
            raise ScheduleError(f"{where}.{key}: expected a number of at least 0, got {value!r}")
        args[key] = value
    for key in ("max_epochs", "total_epochs"):
        if key in args and args[key] <= 0:
            raise ScheduleError(f"{where}.{key}: expected a number greater than 0, got {args[key]!r}")
    return name, args
