"""Stateless learning-rate schedulers: the protocol, Composer's thirteen, more, and helpers.

``alpha = scheduler(state, ssr)`` is the multiplier of the base learning rate at the State's
current timestamp. Any function ``f(state)`` or ``f(state, ssr)`` is a scheduler as well.
"""

from sched_cli.schedulers.base import (
    Breakpoint,
    BuiltinScheduler,
    ComposerScheduler,
    RunShape,
    ScheduleError,
    call_scheduler,
    convert_time,
    takes_ssr,
)
from sched_cli.schedulers.composer import (
    ConstantScheduler,
    ConstantWithWarmupScheduler,
    CosineAnnealingScheduler,
    CosineAnnealingWarmRestartsScheduler,
    CosineAnnealingWithWarmupScheduler,
    ExponentialScheduler,
    LinearScheduler,
    LinearWithWarmupScheduler,
    MultiStepScheduler,
    MultiStepWithWarmupScheduler,
    PolynomialScheduler,
    PolynomialWithWarmupScheduler,
    StepScheduler,
)
from sched_cli.schedulers.extra import (
    InverseSquareRootWithWarmupScheduler,
    OneCycleScheduler,
    SequentialScheduler,
    WarmupStableDecayScheduler,
)
from sched_cli.schedulers.torch_compat import compile_composer_scheduler

__all__ = [
    "Breakpoint",
    "BuiltinScheduler",
    "ComposerScheduler",
    "RunShape",
    "ScheduleError",
    "call_scheduler",
    "compile_composer_scheduler",
    "convert_time",
    "takes_ssr",
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
    "InverseSquareRootWithWarmupScheduler",
    "WarmupStableDecayScheduler",
    "OneCycleScheduler",
    "SequentialScheduler",
]
