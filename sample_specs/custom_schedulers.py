"""Custom schedulers, written as Composer's documentation writes them (they run unchanged)."""

from sched_cli.schedulers import ComposerScheduler


def ten_epoch_decay_scheduler(state) -> float:
    if state.timestamp.epoch < 10:
        return 1.0
    return 0.5


class VariableEpochDecayScheduler(ComposerScheduler):
    def __init__(self, num_epochs: int):
        self.num_epochs = num_epochs

    def __call__(self, state) -> float:
        if state.time.epoch < self.num_epochs:
            return 1.0
        return 0.5
