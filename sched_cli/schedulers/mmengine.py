"""MMEngine's parameter schedulers, replayed the way its Runner steps them.

MMEngine (``mmengine.optim.scheduler``, 0.10) schedules the learning rate with *chainable*
schedulers: each one, when it steps, reads the optimizer's current LR and writes a new one, so a
list of them acts in order, each on what the previous one left. Most of them multiply the LR by
a factor; the cosine and polynomial ones move it towards ``eta_min``
(``lr <- r * (lr - eta_min) + eta_min``); ``OneCycleLR`` and a ``CosineRestartLR`` restart set
it outright. One :class:`MMEngineParamSchedulers` replays a whole ``param_scheduler`` list;
there is no closed form for the chain, so the LR of every iteration is computed once per run:

1. every scheduler's factors over the steps it is active, vectorized (one numpy expression per
   type, written in MMEngine's order of operations);
2. the steps of all schedulers put in the order the Runner takes them (below);
3. the chain: a sequential ``np.cumprod`` when every step only multiplies (the product is formed
   in the same order as MMEngine's, so the LRs are the same floats), else
   ``lr = r * (lr - c) + e`` stepped in blocks, vectorized across them (see :func:`_chain`;
   within a few units in the last place of MMEngine's sequence).

When they step (``ParamSchedulerHook`` and the train loops): every scheduler steps once when it is
built (global step 0); then an iteration-based one after each training iteration, and an
epoch-based one after each epoch (after the iteration-based ones of that epoch's last
iteration). A scheduler acts only at global steps ``begin <= g < end``; its own count
``last_step`` is ``g - begin``. Iteration *i* trains with the LR left after global step *i*
(iteration-based) or after epoch step ``i // epoch_length`` (epoch-based). In an
``IterBasedTrainLoop`` an epoch-based scheduler steps only when built (and once after training).

Each type's formula is in :class:`MMEngineParamSchedulers` (``sched describe mmengine``).
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sched_cli.schedulers.base import (
    Breakpoint,
    BuiltinScheduler,
    Counters,
    Resolved,
    RunShape,
    ScheduleError,
    suggest,
)
from sched_cli.time import Time, TimeUnit

__all__ = [
    "MMEngineParamSchedulers",
    "ParamSchedulerConfig",
    "parse_param_schedulers",
    "SkippedScheduler",
    "LR_SCHEDULERS",
    "DOWNSTREAM",
    "INF",
    "MAX_ITERATIONS",
]

#: MMEngine's default ``end``: ``int(1e9)``.
INF = 10**9
#: The longest run replayed (iterations): each one is a step of the chain.
MAX_ITERATIONS = 20_000_000
#: Chains of up to this many steps that do more than multiply are stepped one by one (exact);
#: longer ones in blocks (within rounding, see :func:`_chain`).
SEQUENTIAL_STEPS = 250_000

_COMMON = {"begin": 0, "end": INF, "last_step": -1, "by_epoch": True, "verbose": False}
#: Each LR scheduler's own arguments and their defaults (``...`` marks a required one).
LR_SCHEDULERS: dict[str, dict[str, Any]] = {
    "StepLR": {"step_size": ..., "gamma": 0.1},
    "MultiStepLR": {"milestones": ..., "gamma": 0.1},
    "ConstantLR": {"factor": 1.0 / 3},
    "ExponentialLR": {"gamma": ...},
    "CosineAnnealingLR": {"T_max": None, "eta_min": None, "eta_min_ratio": None},
    "LinearLR": {"start_factor": 1.0 / 3, "end_factor": 1.0},
    "PolyLR": {"eta_min": 0, "power": 1.0},
    "OneCycleLR": {
        "eta_max": 0,
        "total_steps": None,
        "pct_start": 0.3,
        "anneal_strategy": "cos",
        "div_factor": 25.0,
        "final_div_factor": 1e4,
        "three_phase": False,
    },
    "CosineRestartLR": {"periods": ..., "restart_weights": (1,), "eta_min": None, "eta_min_ratio": None},
    # Registered by downstream packages (their own source, re-derived in the ops below).
    "QuadraticWarmupLR": {},
    "PolyLRRatio": {"eta_min": 0, "eta_min_ratio": None, "power": 1.0},
    "LinearLrInterval": {"start_factor": 1.0 / 3, "end_factor": 1.0, "interval": 1},
}
#: The downstream packages that register an LR scheduler sched replays, for messages and docs.
DOWNSTREAM = {
    "QuadraticWarmupLR": "MMDetection's and MMPose's",
    "PolyLRRatio": "MMSegmentation's",
    "LinearLrInterval": "MMagic's",
}
# The generic ``...ParamScheduler`` classes are the same schedules for any ``param_name``.
_GENERIC = {
    "StepParamScheduler": "StepLR",
    "MultiStepParamScheduler": "MultiStepLR",
    "ConstantParamScheduler": "ConstantLR",
    "ExponentialParamScheduler": "ExponentialLR",
    "CosineAnnealingParamScheduler": "CosineAnnealingLR",
    "LinearParamScheduler": "LinearLR",
    "PolyParamScheduler": "PolyLR",
    "OneCycleParamScheduler": "OneCycleLR",
    "CosineRestartParamScheduler": "CosineRestartLR",
}
_MOMENTUM = {
    "StepMomentum",
    "MultiStepMomentum",
    "ConstantMomentum",
    "ExponentialMomentum",
    "CosineAnnealingMomentum",
    "LinearMomentum",
    "PolyMomentum",
    "CosineRestartMomentum",
    "ReduceOnPlateauMomentum",
    "QuadraticWarmupMomentum",  # MMDetection, MMPose
}
#: Weight-decay schedulers (MMPretrain registers them); like momentum ones, they leave the LR alone.
_WEIGHT_DECAY = {"CosineAnnealingWeightDecay"}
#: Schedulers driven by a validation metric (MMEngine's; MMagic's ``ReduceLR``): no preview can know them.
_PLATEAU = {"ReduceOnPlateauLR", "ReduceOnPlateauParamScheduler", "ReduceLR"}
# Counts that convert_to_iter_based multiplies by the epoch length (and an SSR scales).
_COUNTS = ("step_size", "milestones", "T_max", "total_steps", "periods")


@dataclass(frozen=True)
class ParamSchedulerConfig:
    """One LR scheduler of a ``param_scheduler`` list, checked: its type, window and arguments.

    ``end`` is ``None`` when the config leaves it out (the Runner then uses the train loop's
    ``max_epochs`` or ``max_iters``); ``index`` is its place in the list (order of stepping).
    """

    type: str
    index: int
    by_epoch: bool
    convert_to_iter_based: bool
    begin: float  # whole, except a fraction of an epoch with convert_to_iter_based
    end: float | None
    args: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"param_scheduler[{self.index}] {self.type}"


def _fail(index: int, key: str, message: str) -> ScheduleError:
    where = f"param_scheduler[{index}]" + (f".{key}" if key else "")
    return ScheduleError(f"{where}: {message}")


def _type_name(value: Any) -> str | None:
    if isinstance(value, type):  # a lazy-import (pure Python) config gives the class itself
        value = value.__name__
    if not isinstance(value, str):
        return None
    # ``mmengine.LinearLR`` or ``mmdet.LinearLR``: a registry scope before the name.
    return value.rpartition(".")[2].strip()


@dataclass(frozen=True)
class SkippedScheduler:
    """A scheduler of the list that never touches the LR: its place, type and what it schedules."""

    index: int
    type: str
    param: str

    @property
    def note(self) -> str:
        return (
            f"param_scheduler[{self.index}] {self.type} schedules {self.param}, not the LR: "
            "it does not change the schedule shown and is left out"
        )


def parse_param_schedulers(value: Any, skipped: list[SkippedScheduler] | None = None) -> list[ParamSchedulerConfig]:
    """Check an MMEngine ``param_scheduler`` value (one mapping or a list) as MMEngine would.

    Returns its LR schedulers in order; momentum, weight-decay and other non-LR schedulers are
    left out (they never touch the LR) and appended to ``skipped``, for the reader to name.
    Raises :class:`ScheduleError` naming ``param_scheduler[i].key``.
    """
    items = [value] if isinstance(value, dict) else value
    if not isinstance(items, (list, tuple)) or not items:
        raise ScheduleError(
            f"param_scheduler: expected a mapping with a type, or a non-empty list of them, got {value!r}"
        )
    configs = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise _fail(index, "", f"expected a mapping with a type (LinearLR, MultiStepLR, ...), got {item!r}")
        config = _parse_one(index, item)
        if isinstance(config, SkippedScheduler):
            if skipped is not None:
                skipped.append(config)
        else:
            configs.append(config)
    return configs


def _parse_one(index: int, item: dict[str, Any]) -> ParamSchedulerConfig | SkippedScheduler:
    scope = item.get("_scope_")
    item = {str(k): v for k, v in item.items() if k != "_scope_"}
    raw_type = item.pop("type", None)
    name = _type_name(raw_type)
    if isinstance(raw_type, str) and "." in raw_type:
        scope = raw_type.rpartition(".")[0].strip()
    if not name:
        raise _fail(index, "type", f"is required: one of {', '.join(LR_SCHEDULERS)}, got {raw_type!r}")
    if name in _MOMENTUM:
        return SkippedScheduler(index, name, "momentum")
    if name in _WEIGHT_DECAY:
        return SkippedScheduler(index, name, "weight decay")
    param_name = item.pop("param_name", "lr")
    if name in _GENERIC:
        if param_name != "lr":
            return SkippedScheduler(index, name, str(param_name).replace("_", " "))
        name = _GENERIC[name]
    if name in _PLATEAU:
        raise _fail(
            index,
            "type",
            f"{name} lowers the LR when a validation metric stops improving, which a preview cannot know; "
            "sched replays only schedules that are a function of time",
        )
    if name not in LR_SCHEDULERS:
        raise _fail(
            index,
            "type",
            f"{raw_type!r} is not one of MMEngine's LR schedulers{suggest(name, list(LR_SCHEDULERS))}; "
            f"sched knows {', '.join(LR_SCHEDULERS)} (the last three registered by "
            "MMDetection/MMPose, MMSegmentation and MMagic)",
        )
    own = LR_SCHEDULERS[name]
    known = {**_COMMON, **own, "convert_to_iter_based": False}
    for key in item:
        if key not in known:
            raise _fail(
                index,
                key,
                f"{name} has no argument {key!r}{suggest(key, list(known))} (MMEngine would raise a TypeError); "
                f"its arguments are {', '.join(k for k in known if k not in ('verbose',))}",
            )
    missing = [k for k, v in own.items() if v is ... and k not in item]
    if missing:
        raise _fail(index, missing[0], f"is required by {name}")
    by_epoch = _flag(index, "by_epoch", item.get("by_epoch", True))
    convert = _flag(index, "convert_to_iter_based", item.get("convert_to_iter_based", False))
    if convert and not by_epoch:
        raise _fail(
            index,
            "convert_to_iter_based",
            "only an epoch-based scheduler (by_epoch: true) can be converted to iteration-based (MMEngine asserts it)",
        )
    last_step = item.get("last_step", -1)
    if last_step != -1:
        raise _fail(index, "last_step", f"{last_step!r}: resuming a scheduler mid-run is not modelled; leave it at -1")
    begin = _bound(index, "begin", item.get("begin", 0), convert)
    end = item.get("end")
    if end is not None:
        end = _bound(index, "end", end, convert)
    args = {k: item.get(k, v) for k, v in own.items()}
    _check_args(index, name, args, scope)
    return ParamSchedulerConfig(name, index, by_epoch, convert, begin, end, args)


def _flag(index: int, key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise _fail(index, key, f"expected true or false, got {value!r}")
    return value


def _bound(index: int, key: str, value: Any, convert: bool) -> float:
    """``begin`` / ``end``: a whole number of epochs or iterations, or with ``convert_to_iter_based`` any
    number of epochs from 0 (``build_iter_from_epoch`` makes it ``int(value x epoch_length)``: ``end=2.5``)."""
    if convert and isinstance(value, float) and not value.is_integer():
        return _real(index, key, value, low=0.0, high=math.inf)
    return _whole(index, key, value, low=0)


def _whole(index: int, key: str, value: Any, low: int = 1) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise _fail(index, key, f"expected a whole number of at least {low}, got {value!r}")
    return int(value)


def _real(index: int, key: str, value: Any, low: float | None = None, high: float | None = None) -> float:
    if isinstance(value, str):
        try:  # YAML 1.1 reads 1e-5 (no dot) as text
            value = float(value)
        except ValueError:
            pass
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise _fail(index, key, f"expected a finite number, got {value!r}")
    if (low is not None and value < low) or (high is not None and value > high):
        raise _fail(index, key, f"{value!r} must be between {low:g} and {high:g}" if high is not None else "")
    return value


def _check_args(index: int, name: str, args: dict[str, Any], scope: Any = None) -> None:
    """MMEngine's own checks on the arguments, and the types the schedules need."""
    for key in ("gamma", "eta_min", "eta_min_ratio", "power", "eta_max", "div_factor", "final_div_factor"):
        if key in args and args[key] is not None:
            args[key] = _real(index, key, args[key])
    if name == "StepLR":
        args["step_size"] = _whole(index, "step_size", args["step_size"])
    elif name == "MultiStepLR":
        milestones = args["milestones"]
        if not isinstance(milestones, (list, tuple)):
            raise _fail(index, "milestones", f"expected a list of whole numbers, got {milestones!r}")
        args["milestones"] = [_whole(index, f"milestones[{i}]", m, low=0) for i, m in enumerate(milestones)]
    elif name in ("ConstantLR",):
        args["factor"] = _real(index, "factor", args["factor"])
        # MMPose registers its own ConstantLR (scope mmpose), the same formula without the range check.
        if not 0 <= args["factor"] <= 1 and not (scope == "mmpose" and args["factor"] >= 0):
            raise _fail(index, "factor", f"{args['factor']!r}: MMEngine requires a factor between 0 and 1")
    elif name in ("LinearLR", "LinearLrInterval"):
        if name == "LinearLrInterval":
            args["interval"] = _whole(index, "interval", args["interval"])
        for key in ("start_factor", "end_factor"):
            args[key] = _real(index, key, args[key])
            if not 0 <= args[key] <= 1:
                raise _fail(index, key, f"{args[key]!r}: MMEngine requires a factor between 0 and 1")
    elif name == "CosineAnnealingLR":
        if args["eta_min"] is None and args["eta_min_ratio"] is None:
            args["eta_min"] = 0.0
        if (args["eta_min"] is None) == (args["eta_min_ratio"] is None):
            raise _fail(index, "eta_min_ratio", "give eta_min or eta_min_ratio, not both (MMEngine asserts this)")
        if args["T_max"] is not None:
            args["T_max"] = _whole(index, "T_max", args["T_max"], low=0)
    elif name == "PolyLRRatio" and args["eta_min_ratio"] is not None:
        args["eta_min_ratio"] = _real(index, "eta_min_ratio", args["eta_min_ratio"])
    elif name == "OneCycleLR":
        total = args["total_steps"]
        if total is not None and (isinstance(total, bool) or not isinstance(total, int) or total <= 0):
            raise _fail(index, "total_steps", f"expected a positive whole number (MMEngine's check), got {total!r}")
        pct = args["pct_start"]
        if not isinstance(pct, float) or not 0 <= pct <= 1:
            raise _fail(
                index, "pct_start", f"expected a float between 0 and 1, got {pct!r} (MMEngine rejects even 0 or 1)"
            )
        if args["anneal_strategy"] not in ("cos", "linear"):
            raise _fail(index, "anneal_strategy", f"{args['anneal_strategy']!r} must be 'cos' or 'linear'")
        args["three_phase"] = _flag(index, "three_phase", args["three_phase"])
    elif name == "CosineRestartLR":
        periods, weights = args["periods"], args["restart_weights"]
        if not isinstance(periods, (list, tuple)) or not periods:
            raise _fail(index, "periods", f"expected a non-empty list of whole numbers, got {periods!r}")
        if not isinstance(weights, (list, tuple)) or len(weights) != len(periods):
            raise _fail(
                index,
                "restart_weights",
                f"{weights!r}: needs one weight per period ({len(periods)}), as MMEngine asserts",
            )
        args["periods"] = [_whole(index, f"periods[{i}]", p) for i, p in enumerate(periods)]
        args["restart_weights"] = [_real(index, f"restart_weights[{i}]", w) for i, w in enumerate(weights)]
        if (args["eta_min"] is None) == (args["eta_min_ratio"] is None):
            raise _fail(index, "eta_min", "give exactly one of eta_min and eta_min_ratio (MMEngine asserts this)")


# -- the replay ------------------------------------------------------------------------------------
@dataclass
class _Built:
    """A scheduler as the Runner builds it for one run: iteration or epoch steps, final window."""

    config: ParamSchedulerConfig
    by_epoch: bool
    begin: int
    end: int
    args: dict[str, Any]
    base_value: float = 0.0
    one_cycle: tuple[float, float, float] | None = None  # the initial/max/min LR it set on the group
    group_levels: tuple[float, float, float] | None = None  # what the group holds once all are built

    @property
    def type(self) -> str:
        return self.config.type


class MMEngineParamSchedulers(BuiltinScheduler):
    r"""An MMEngine ``param_scheduler`` list, replayed step by step as MMEngine's Runner runs it.

    The multiplier of iteration *i* is the optimizer's LR during iteration *i* divided by ``lr``.
    Chained, each step of each scheduler is :math:`lr \to r (lr - c) + e` on the LR the
    previous one left (a factor: :math:`c = e = 0`; towards :math:`\eta_{min}`:
    :math:`c = e = \eta_{min}`; set outright: :math:`r = 0`). Every scheduler steps once when
    built, then after each iteration (iteration-based) or epoch (epoch-based, after the
    iteration-based ones), acting only at global steps ``begin <= g < end``, where t is the count of
    its own steps, ``g - begin``; :math:`T` = ``end - begin - 1``, :math:`b` the base LR:

    - ``StepLR``: :math:`\times\gamma` when :math:`t > 0` and ``step_size`` divides :math:`t`.
    - ``MultiStepLR``: :math:`\times\gamma^{m}` at a milestone listed :math:`m` times.
    - ``ConstantLR``: :math:`\times f` at :math:`t = 0`, :math:`\times 1/f` at :math:`t = T > 0`.
    - ``ExponentialLR``: :math:`\times\gamma` for :math:`t > 0`.
    - ``LinearLR``: :math:`\times s` at :math:`t = 0`, then
      :math:`\times (1 + (e - s) / (T s + (t - 1)(e - s)))`: the full factor at :math:`t = T`,
      one step before ``end``.
    - ``CosineAnnealingLR``: for :math:`t > 0`, :math:`r = (1 + \cos(\pi t / T_{max})) /
      (1 + \cos(\pi (t - 1) / T_{max}))` towards :math:`\eta_{min}` (``eta_min``, or
      ``eta_min_ratio`` :math:`\times b`), except :math:`lr \to lr + (b - \eta_{min})
      (1 - \cos(\pi / T_{max})) / 2` when :math:`2 T_{max}` divides :math:`t - 1 - T_{max}`;
      ``T_max`` defaults to ``end - begin``.
    - ``PolyLR``: for :math:`t > 0`, :math:`r = (1 - 1/(T - t + 1))^{p}` towards ``eta_min``.
    - ``OneCycleLR``: sets PyTorch's one-cycle value at :math:`t` (from ``eta_max / div_factor``
      up to ``eta_max``, then down to that over ``final_div_factor``; ``total_steps`` defaults
      to ``end - begin``); it ignores the optimizer's LR.
    - ``CosineRestartLR``: sets :math:`b w_k` at the start of period :math:`k`, then anneals
      towards :math:`\eta_{min}` like ``CosineAnnealingLR`` over that period; after the last
      period it leaves the LR alone.

    Registered by downstream packages (read from their source): ``QuadraticWarmupLR``
    (MMDetection, MMPose): :math:`lr \to b / T'^2` at :math:`t = 0`, then :math:`lr + b (2t + 1) / T'^2`,
    :math:`T'` = ``end - begin``; ``PolyLRRatio`` (MMSegmentation): ``PolyLR`` towards
    ``eta_min_ratio`` :math:`\times b` when given; ``LinearLrInterval`` (MMagic): :math:`\times s`
    at :math:`t = 0`, then it *sets* the LR to :math:`s + (e - s) \lfloor (t - 1) / k \rfloor /
    \lfloor T' / k \rfloor` (``interval`` :math:`k`), the factor itself, not times the LR.

    ``ReduceOnPlateauLR`` and MMagic's ``ReduceLR`` are refused (they need validation metrics);
    momentum, weight-decay and other non-LR schedulers are skipped (the reader names them).
    Default ``end``: the run's epochs for an epoch-based scheduler, its iterations otherwise
    (``max_duration`` in ``ep`` for an ``EpochBasedTrainLoop``, in ``ba`` for an
    ``IterBasedTrainLoop``, whose only epoch is 1, so that an epoch-based scheduler in it steps only
    when built). ``convert_to_iter_based`` multiplies ``begin``, ``end``, ``step_size``,
    ``milestones``, ``T_max``, ``total_steps`` and ``periods`` by the epoch length
    (``dataloader_len``) and steps every iteration.

    SSR :math:`\sigma`: the run is scaled as usual, and every count above (in iterations once
    converted, else in the scheduler's own unit) becomes :math:`\lfloor \sigma v \rfloor`;
    an unset ``end`` follows the scaled run.

    Args:
        param_scheduler (list[dict]): MMEngine's scheduler configs, ``type`` and arguments.
        lr (float): The optimizer's LR when the schedulers are built (``optim_wrapper.optimizer.lr``,
            after any ``auto_scale_lr``): ``eta_min`` and ``OneCycleLR``'s ``eta_max`` are absolute.
        train_loop (str): ``"epoch"`` (``EpochBasedTrainLoop``) or ``"iter"``. Default ``"epoch"``.
    """

    def __init__(self, param_scheduler: Raw, lr: float, train_loop: str = "epoch") -> None:
        if isinstance(lr, bool) or not isinstance(lr, numbers.Real) or not math.isfinite(lr) or lr <= 0:
            raise ScheduleError(f"{self.name}: lr must be a number greater than 0 (the optimizer's LR), not {lr!r}")
        if train_loop not in ("epoch", "iter"):
            raise ScheduleError(f"{self.name}: train_loop must be 'epoch' or 'iter', not {train_loop!r}")
        self.param_scheduler = param_scheduler
        self.configs = parse_param_schedulers(param_scheduler)
        self.lr = float(lr)
        self.train_loop = train_loop
        self._cache: dict[tuple[RunShape, float], Resolved] = {}

    def __repr__(self) -> str:
        types = ", ".join(c.type for c in self.configs)
        return f"{self.name}([{types}], lr={self.lr!r}, train_loop={self.train_loop!r})"

    # -- building the schedulers for one run --------------------------------------------------
    def _loop(self, shape: RunShape) -> tuple[int, int, int | None]:
        """``(max_epochs, max_iters, epoch_length)`` of the (scaled) run."""
        md = shape.max_duration
        length = shape.dataloader_len
        if self.train_loop == "epoch":
            if md.unit is not TimeUnit.EPOCH or length is None:
                raise ScheduleError(
                    f"{self.name}: an EpochBasedTrainLoop run needs max_duration in epochs and dataloader_len "
                    f"(iterations per epoch), not {md} with dataloader_len {length}"
                )
            return int(md.value), int(md.value) * length, length
        if md.unit is not TimeUnit.BATCH:
            raise ScheduleError(f"{self.name}: an IterBasedTrainLoop run needs max_duration in ba, not {md}")
        return 1, int(md.value), length

    def build(self, shape: RunShape, ssr: float = 1.0) -> list[_Built]:
        """The schedulers as the Runner builds them for this run (windows and counts in steps)."""
        max_epochs, max_iters, length = self._loop(shape)
        built: list[_Built] = []
        initial_lr: float | None = None
        for config in self.configs:
            args = dict(config.args)
            begin = config.begin
            end = config.end if config.end is not None else (max_epochs if config.by_epoch else max_iters)
            by_epoch = config.by_epoch
            explicit_end = config.end is not None
            if config.convert_to_iter_based:
                if length is None:
                    raise ScheduleError(
                        f"{config.label}: convert_to_iter_based needs the epoch length; give --dataset-size "
                        "(and --devices) or dataloader_len"
                    )
                by_epoch = False
                begin = int(begin * length)
                if end != INF:
                    end = int(end * length)
                for key in _COUNTS:
                    if args.get(key) is not None:
                        args[key] = (
                            [v * length for v in args[key]] if isinstance(args[key], list) else args[key] * length
                        )
            if ssr != 1.0:
                begin, end, args = self._scaled(config, begin, end, explicit_end, args, ssr)
            if end <= begin:
                raise ScheduleError(
                    f"{config.label}: end ({end}) must be larger than begin ({begin}) (MMEngine raises a ValueError)"
                )
            if config.type == "QuadraticWarmupLR" and end >= INF:
                raise ScheduleError(
                    f"{config.label}: end must be less than infinity (MMDetection raises a ValueError): "
                    "set it to the warmup's end"
                )
            b = _Built(config, by_epoch, begin, end, args)
            if config.type == "OneCycleLR":
                eta_max = args["eta_max"]
                initial = eta_max / args["div_factor"]
                b.one_cycle = (initial, eta_max, initial / args["final_div_factor"])
                initial_lr = initial  # OneCycleLR overwrites the group's initial_lr
                if args["total_steps"] is None:
                    args["total_steps"] = end - begin
            elif initial_lr is None:
                initial_lr = self.lr  # the first scheduler records the LR it finds
            b.base_value = initial_lr
            built.append(b)
        last = [b.one_cycle for b in built if b.one_cycle is not None]
        for b in built:
            b.group_levels = last[-1] if last else None
        return built

    @staticmethod
    def _scaled(
        config: ParamSchedulerConfig, begin: int, end: int, explicit_end: bool, args: dict[str, Any], ssr: float
    ) -> tuple[int, int, dict[str, Any]]:
        begin = int(begin * ssr)
        if explicit_end and end != INF:
            end = int(end * ssr)
        for key in _COUNTS:
            value = args.get(key)
            if value is None:
                continue
            scaled = [int(v * ssr) for v in value] if isinstance(value, list) else int(value * ssr)
            low = 0 if key == "milestones" else 1
            if min(scaled if isinstance(scaled, list) else [scaled]) < low:
                raise ScheduleError(
                    f"{config.label}: {key}={value} scaled by ssr {ssr:g} is {scaled}, too short; use a larger ssr"
                )
            args[key] = scaled
        return begin, end, args

    def resolve(self, shape: RunShape, ssr: float) -> Resolved:
        key = (shape, float(ssr))
        cached = self._cache.get(key)
        if cached is None:
            if len(self._cache) > 8:
                self._cache.clear()
            cached = self._cache[key] = self._replay(shape, ssr)
            for note in cached.notes:  # once per run, not at every chunk
                warnings.warn(note, UserWarning, stacklevel=2)
        return cached

    def _replay(self, shape: RunShape, ssr: float) -> Resolved:
        built = self.build(shape, ssr)
        max_epochs, n, length = self._loop(shape)
        if n > MAX_ITERATIONS:
            raise ScheduleError(
                f"{self.name}: {n:,} iterations: MMEngine's chained schedulers are replayed step by step, "
                f"up to {MAX_ITERATIONS:,} iterations"
            )
        count = len(built)
        moments, ranks, rs, cs, es = [], [], [], [], []
        for rank, b in enumerate(built):
            g, moment = self._steps(b, n, max_epochs, length)
            t = g - b.begin
            keep, r, c, e = _OPS[b.type](b, t)
            _check_finite(b, t[keep], r, c, e, moment[keep])
            moments.append(moment[keep])
            # Within one moment: when built, list order; after an iteration, iteration-based
            # schedulers (list order) before epoch-based ones (after_train_iter, after_train_epoch).
            order = np.where(moment[keep] == 0, rank, rank + (count if b.by_epoch else 0))
            ranks.append(order)
            rs.append(np.broadcast_to(np.asarray(r, dtype=np.float64), moment[keep].shape))
            cs.append(np.broadcast_to(np.asarray(c, dtype=np.float64), moment[keep].shape))
            es.append(np.broadcast_to(np.asarray(e, dtype=np.float64), moment[keep].shape))
        moment = np.concatenate(moments) if moments else np.zeros(0, dtype=np.int64)
        rank = np.concatenate(ranks) if ranks else np.zeros(0, dtype=np.int64)
        order = np.lexsort((rank, moment))
        moment = moment[order]
        r = np.concatenate(rs)[order] if rs else np.zeros(0)
        c = np.concatenate(cs)[order] if cs else np.zeros(0)
        e = np.concatenate(es)[order] if es else np.zeros(0)
        lrs = _chain(self.lr, r, c, e)
        # The LR of iteration i: after the last step taken at a moment <= i (moment 0: when built).
        last = np.searchsorted(moment, np.arange(n + 1), side="right")
        lr = lrs[last]
        if not np.all(np.isfinite(lr)):
            bad = int(np.argmax(~np.isfinite(lr)))
            raise ScheduleError(f"{self.name}: the LR is {lr[bad]} at iteration {bad}; check the schedulers' arguments")
        return Resolved(
            built=built,
            iterations=n,
            lr=lr,
            multiplier=lr / self.lr,
            epoch_length=length,
            notes=self._notes(built, n, length),
        )

    def _notes(self, built: list[_Built], n: int, length: int | None) -> list[str]:
        """Configs that run, but hardly as meant."""
        notes = []
        for b in built:
            if b.by_epoch and self.train_loop == "iter":
                notes.append(
                    f"{b.config.label} is epoch-based (by_epoch: true, MMEngine's default) in an IterBasedTrainLoop, "
                    "whose one epoch ends with training: it steps only when built; set by_epoch: false"
                )
            elif b.begin * (length or 1 if b.by_epoch else 1) >= n:
                notes.append(f"{b.config.label} begins at {b.begin}, after the run's last iteration: it never acts")
        return notes

    def _steps(self, b: _Built, n: int, max_epochs: int, length: int | None) -> tuple[np.ndarray, np.ndarray]:
        """The global steps ``g`` at which ``b`` acts (``begin <= g < end``) and their moments
        (0: when built; ``i + 1``: after iteration ``i``)."""
        if not b.by_epoch:
            g = np.arange(b.begin, min(b.end, n + 1), dtype=np.int64)
            return g, g
        if self.train_loop == "iter":  # epoch 0 when built, epoch 1 once training is over
            g = np.array([s for s in (0, 1) if b.begin <= s < b.end], dtype=np.int64)
            return g, np.where(g == 0, 0, n)
        g = np.arange(b.begin, min(b.end, max_epochs + 1), dtype=np.int64)
        return g, g * length

    # -- the BuiltinScheduler protocol -----------------------------------------------------------
    def formula(self, r: Resolved, counters: Counters) -> Any:
        return r.multiplier[self._rows(r, counters)]

    def optimizer_lr(self, shape: RunShape, ssr: float, counters: Counters, lr: float) -> np.ndarray:
        """The optimizer's LR at each timestamp: the replayed value itself when the run's LR is
        the one replayed (``lr x multiplier`` could be a unit in the last place off)."""
        r = self.resolve(shape, ssr)
        rows = self._rows(r, counters)
        return r.lr[rows].copy() if lr == self.lr else lr * r.multiplier[rows]

    @staticmethod
    def _rows(r: Resolved, counters: Counters) -> np.ndarray:
        return np.clip(np.asarray(counters.get(TimeUnit.BATCH)), 0, r.iterations)

    def breakpoints(self, r: Resolved) -> list[Breakpoint]:
        """Where each scheduler begins, takes its last step (``end - 1``: a warmup's full LR, one
        step before ``end``), and its milestones, in iterations."""
        points = []
        for b in r.built:
            if b.by_epoch and self.train_loop == "iter":
                continue  # it steps only when built
            per = r.epoch_length if b.by_epoch else 1
            if b.begin > 0:
                points.append(Breakpoint(f"{b.type} begins", Time(b.begin * per, TimeUnit.BATCH)))
            rising = (b.type == "LinearLR" and b.args["end_factor"] > b.args["start_factor"]) or (
                b.type == "ConstantLR" and b.args["factor"] < 1
            )
            # The last step of a window set on purpose (not the run's end; a step decay's last
            # step is one of its milestones anyway).
            if b.config.end is not None and b.type not in ("StepLR", "MultiStepLR"):
                label = "warmup end" if rising and b.begin == 0 else f"{b.type} ends"
                points.append(Breakpoint(label, Time((b.end - 1) * per, TimeUnit.BATCH)))
            if b.type == "MultiStepLR":
                for m in sorted(set(b.args["milestones"])):
                    points.append(Breakpoint("milestone", Time((b.begin + m) * per, TimeUnit.BATCH)))
        return [p for p in points if 0 < p.time.value < r.iterations]


#: A parameter kind the spec layer passes through unchanged, for the constructor to check.
Raw = Any


def _check_finite(b: _Built, t: np.ndarray, r: Any, c: Any, e: Any, moment: np.ndarray) -> None:
    for values in (r, c, e):
        values = np.asarray(values)
        if values.ndim and not np.all(np.isfinite(values)):
            i = int(np.argmax(~np.isfinite(values)))
            raise ScheduleError(
                f"{b.config.label}: at its step {int(t[i])} (iteration {int(moment[i])}) MMEngine divides by zero "
                f"or overflows (a ZeroDivisionError there); check its arguments"
            )


def _chain(lr0: float, r: np.ndarray, c: np.ndarray, e: np.ndarray) -> np.ndarray:
    """The LR before any step and after each one: ``lr <- r * (lr - c) + e`` in order.

    Factors only (``c = e = 0``, the usual warmup and step decays): a sequential ``np.cumprod``,
    the same products in the same order as MMEngine's, so the same floats.

    Otherwise (an ``eta_min``, a value set outright) there is no exact vectorized form: up to
    :data:`SEQUENTIAL_STEPS` steps, they are taken one by one in MMEngine's arithmetic; beyond, the steps
    are cut into blocks of about ``sqrt(n)``; each block's steps compose into one affine map,
    which chained block by block gives every block's starting LR; then all blocks are stepped at
    once in MMEngine's arithmetic, twice (the second time from the ends the first reached). The
    result differs from MMEngine's sequence only by rounding: measured within a few units in the
    last place (docs/mmengine-parity.md).
    """
    n = len(r)
    out = np.empty(n + 1, dtype=np.float64)
    out[0] = lr0
    if n == 0:
        return out
    if not np.any(c) and not np.any(e):
        out[1:] = r
        np.cumprod(out, out=out)
        return out
    if n <= SEQUENTIAL_STEPS:
        # Step by step, MMEngine's own arithmetic: the same floats (0.1 s per 100,000 steps).
        lr = lr0
        values = []
        append = values.append
        for rk, ck, ek in zip(r.tolist(), c.tolist(), e.tolist(), strict=True):
            lr = rk * (lr - ck) + ek
            append(lr)
        out[1:] = values
        return out
    size = max(16, math.isqrt(n))
    blocks = -(-n // size)
    pad = blocks * size - n  # identity steps: 1 * (lr - 0) + 0 is lr, exactly

    def by_step(values: np.ndarray, fill: float) -> np.ndarray:
        return np.concatenate([values, np.full(pad, fill)]).reshape(blocks, size).T.copy()

    rs, cs, es = by_step(r, 1.0), by_step(c, 0.0), by_step(e, 0.0)
    values = np.empty((size, blocks))
    with np.errstate(all="ignore"):
        a, b = np.ones(blocks), np.zeros(blocks)
        for k in range(size):
            a, b = rs[k] * a, rs[k] * (b - cs[k]) + es[k]
        starts = np.empty(blocks)
        lr = lr0
        for j, (aj, bj) in enumerate(zip(a.tolist(), b.tolist(), strict=True)):
            starts[j] = lr
            lr = aj * lr + bj
        for _ in range(2):
            x = starts
            for k in range(size):
                x = rs[k] * (x - cs[k]) + es[k]
                values[k] = x
            starts = np.concatenate([[lr0], values[-1, :-1]])
    out[1:] = values.T.reshape(-1)[:n]
    return out


# -- each type's steps: (which of its steps change the LR, r, c, e) -------------------------------
def _factor(keep: np.ndarray, r: Any) -> tuple[np.ndarray, Any, float, float]:
    return keep, r, 0.0, 0.0


def _step_lr(b: _Built, t: np.ndarray) -> tuple:
    keep = (t != 0) & (t % b.args["step_size"] == 0)
    return _factor(keep, b.args["gamma"])


def _multistep_lr(b: _Built, t: np.ndarray) -> tuple:
    counts = Counter(b.args["milestones"])
    keep = np.isin(t, list(counts))
    gamma = b.args["gamma"]
    return _factor(keep, np.array([gamma ** counts[int(s)] for s in t[keep]], dtype=np.float64))


def _constant_lr(b: _Built, t: np.ndarray) -> tuple:
    factor, total = b.args["factor"], b.end - b.begin - 1
    keep = (t == 0) | (t == total)
    with np.errstate(divide="ignore"):
        back = np.float64(1.0) / np.float64(factor) if factor else np.inf
    return _factor(keep, np.where(t[keep] == 0, factor, back))


def _exponential_lr(b: _Built, t: np.ndarray) -> tuple:
    return _factor(t != 0, b.args["gamma"])


def _linear_lr(b: _Built, t: np.ndarray) -> tuple:
    s, e, total = b.args["start_factor"], b.args["end_factor"], b.end - b.begin - 1
    keep = np.ones(len(t), dtype=bool)
    with np.errstate(divide="ignore", invalid="ignore"):
        later = 1.0 + (e - s) / (total * s + (t - 1) * (e - s))
    return _factor(keep, np.where(t == 0, s, later))


def _eta_min(b: _Built) -> float:
    ratio = b.args.get("eta_min_ratio")
    return b.args["eta_min"] if ratio is None else b.base_value * ratio


def _cosine_lr(b: _Built, t: np.ndarray) -> tuple:
    period = b.args["T_max"] or (b.end - b.begin)
    eta_min = _eta_min(b)
    keep = t != 0
    t = t[keep]
    ratio = _cosine_ratio(t, period)
    bump = (t - 1 - period) % (2 * period) == 0
    step = (b.base_value - eta_min) * (1 - math.cos(math.pi / period)) / 2
    return keep, np.where(bump, 1.0, ratio), np.where(bump, 0.0, eta_min), np.where(bump, step, eta_min)


def _cosine_ratio(t: np.ndarray, period: Any) -> np.ndarray:
    """``(1 + cos(pi t / T)) / (1 + cos(pi (t - 1) / T))``; for the lengths stepped one by one,
    with Python's ``math.cos`` as MMEngine computes it (NumPy's ``cos`` can differ in the last place,
    which a long chain accumulates)."""
    if len(t) > SEQUENTIAL_STEPS:
        with np.errstate(divide="ignore", invalid="ignore"):
            return (1 + np.cos(np.pi * t / period)) / (1 + np.cos(np.pi * (t - 1) / period))
    if np.ndim(period) == 0 and len(t):
        # Each cosine once: cos(pi k / T) for k from min(t) - 1 to max(t).
        low = int(t.min()) - 1
        cos = np.array([math.cos(math.pi * k / period) for k in range(low, int(t.max()) + 1)], dtype=np.float64)
        above, below = 1 + cos[t - low], 1 + cos[t - 1 - low]
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(below != 0, above / below, np.nan)
    periods = np.broadcast_to(np.asarray(period), t.shape).tolist()

    def one(k: int, p: Any) -> float:
        below = 1 + math.cos(math.pi * (k - 1) / p)
        return (1 + math.cos(math.pi * k / p)) / below if below else math.nan

    return np.array([one(k, p) for k, p in zip(t.tolist(), periods, strict=True)], dtype=np.float64)


def _poly_ratio(t: np.ndarray, total: int, power: float) -> np.ndarray:
    """``(1 - 1 / (T - t + 1)) ** power``, with Python's ``**`` where the chain is stepped one by one."""
    if len(t) <= SEQUENTIAL_STEPS:
        try:
            return np.array([(1 - 1 / (total - k + 1)) ** power for k in t.tolist()], dtype=np.float64)
        except (ZeroDivisionError, OverflowError, TypeError):
            pass  # 0 to a negative power: NumPy's inf, which the finite check reports
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return (1 - 1 / (total - t + 1)) ** power


def _poly_lr(b: _Built, t: np.ndarray) -> tuple:
    # MMSegmentation's PolyLRRatio: the same steps, towards eta_min_ratio x the base LR if given.
    eta_min, power, total = _eta_min(b), b.args["power"], b.end - b.begin - 1
    keep = t != 0
    return keep, _poly_ratio(t[keep], total, power), eta_min, eta_min


def _one_cycle_lr(b: _Built, t: np.ndarray) -> tuple:
    a = b.args
    total = a["total_steps"]
    if len(t) and t[-1] > total:
        raise ScheduleError(
            f"{b.config.label}: MMEngine tries to step it {int(t[-1]) + 1} times, past total_steps={total} "
            "(a ValueError in training); make total_steps cover its window (end - begin)"
        )
    pct = a["pct_start"]
    if a["three_phase"]:
        phases = [(float(pct * total) - 1, "initial", "max"), (float(2 * pct * total) - 2, "max", "initial")]
    else:
        phases = [(float(pct * total) - 1, "initial", "max")]
    phases.append((total - 1, "max" if not a["three_phase"] else "initial", "min"))
    # At its first step (when built) it reads the values it set itself; later ones read the
    # group's, which a OneCycleLR built after it may have overwritten.
    value = np.empty(len(t), dtype=np.float64)
    done = np.zeros(len(t), dtype=bool)
    start = 0.0
    for k, (end_step, lo, hi) in enumerate(phases):
        here = ~done & ((t <= end_step) | (k == len(phases) - 1))
        if np.any(here):
            if end_step == start:
                raise ScheduleError(
                    f"{b.config.label}: phase {k + 1} has no length (pct_start={pct}, total_steps={total}): "
                    "MMEngine divides by zero there"
                )
            pct_k = (t[here] - start) / (end_step - start)
            for own in (True, False):
                at = here & ((t == -b.begin) == own)  # step 0 of the run: when it was built
                value[at] = _anneal(a["anneal_strategy"], _level(b, lo, own), _level(b, hi, own), pct_k[at[here]])
        done |= here
        start = end_step
    return np.ones(len(t), dtype=bool), 0.0, 0.0, value


def _level(b: _Built, which: str, own: bool) -> float:
    initial, top, low = b.one_cycle if own else b.group_levels  # type: ignore[misc]
    return {"initial": initial, "max": top, "min": low}[which]


def _anneal(strategy: str, start: float, end: float, pct: np.ndarray) -> np.ndarray:
    if strategy == "cos":
        return end + (start - end) / 2.0 * (np.cos(np.pi * pct) + 1)
    return (end - start) * pct + start


def _cosine_restart_lr(b: _Built, t: np.ndarray) -> tuple:
    periods, weights = b.args["periods"], b.args["restart_weights"]
    cumulative = np.cumsum(periods)
    idx = np.searchsorted(cumulative, t, side="right")
    keep = idx < len(periods)
    t, idx = t[keep], idx[keep]
    restart = np.where(idx == 0, 0, cumulative[np.maximum(idx - 1, 0)])
    period = np.asarray(periods)[idx]
    step = t - restart
    eta_min = _eta_min(b)
    ratio = _cosine_ratio(step, period)
    top = b.base_value * np.asarray(weights, dtype=np.float64)[idx]
    first = step == 0
    return keep, np.where(first, 0.0, ratio), np.where(first, 0.0, eta_min), np.where(first, top, eta_min)


def _quadratic_warmup_lr(b: _Built, t: np.ndarray) -> tuple:
    """MMDetection's (and MMPose's) ``QuadraticWarmupLR``: ``b / T^2`` set at its first step,
    then ``+ b (2t + 1) / T^2`` at step ``t``, with ``T = end - begin``: ``b (t + 1)^2 / T^2``
    on its own, the base LR at ``t = T - 1``."""
    total = b.end - b.begin
    add = b.base_value * (2 * t + 1) / total**2
    return np.ones(len(t), dtype=bool), np.where(t == 0, 0.0, 1.0), 0.0, add


def _linear_lr_interval(b: _Built, t: np.ndarray) -> tuple:
    """MMagic's ``LinearLrInterval``: x ``start_factor`` at its first step; after that it *sets*
    the LR to the factor itself (not times the LR), ``s + (e - s) k / K`` with
    ``k = max(0, p - begin) // interval`` and ``K = (end - begin) // interval``, where ``p`` is
    the iteration (or epoch) just done, as MMEngine's ``MessageHub`` holds it: ``begin + t - 1``."""
    s, e, interval = b.args["start_factor"], b.args["end_factor"], b.args["interval"]
    if (b.end - b.begin) // interval == 0 and np.any(t > 0):
        raise ScheduleError(
            f"{b.config.label}: interval {interval} is longer than its window ({b.end - b.begin} steps): "
            "MMagic divides by zero at its second step"
        )
    done = np.maximum(0, t - 1) // interval  # max(0, p - begin) // interval
    value = s + (e - s) * (done / ((b.end - b.begin) // interval))
    first = t == 0
    return np.ones(len(t), dtype=bool), np.where(first, s, 0.0), 0.0, np.where(first, 0.0, value)


_OPS = {
    "StepLR": _step_lr,
    "MultiStepLR": _multistep_lr,
    "ConstantLR": _constant_lr,
    "ExponentialLR": _exponential_lr,
    "LinearLR": _linear_lr,
    "CosineAnnealingLR": _cosine_lr,
    "PolyLR": _poly_lr,
    "OneCycleLR": _one_cycle_lr,
    "CosineRestartLR": _cosine_restart_lr,
    "QuadraticWarmupLR": _quadratic_warmup_lr,
    "PolyLRRatio": _poly_lr,
    "LinearLrInterval": _linear_lr_interval,
}
