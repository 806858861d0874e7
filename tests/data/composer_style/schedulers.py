"""Custom schedulers written as Composer's documentation writes them: they import Composer's own
modules, which sched stands in for when Composer is not installed (ours, not copied)."""

from composer.core import State, Time, TimeUnit
from composer.optim import ComposerScheduler, CosineAnnealingScheduler


def ten_epoch_decay_scheduler(state: State) -> float:
    if state.timestamp.epoch < 10:
        return 1.0
    return 0.5


class HalfwayDecayScheduler(ComposerScheduler):
    """1 for the first half of the run, then ``decay``."""

    def __init__(self, decay: float = 0.1):
        self.decay = decay

    def __call__(self, state: State, ssr: float = 1.0) -> float:
        if state.get_elapsed_duration() < Time(0.5, TimeUnit.DURATION):
            return 1.0
        return self.decay


class CosineAfterWarmup(ComposerScheduler):
    """A linear warmup over ``t_warmup`` batches, then Composer's cosine over the whole run."""

    def __init__(self, t_warmup: str = "10ba"):
        self.t_warmup = Time.from_timestring(t_warmup)
        self.cosine = CosineAnnealingScheduler(alpha_f=0.0)

    def __call__(self, state: State, ssr: float = 1.0) -> float:
        if state.timestamp.batch < self.t_warmup:
            return state.timestamp.batch.value / self.t_warmup.value
        return self.cosine(state, ssr)
