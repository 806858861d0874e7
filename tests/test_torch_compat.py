"""compile_composer_scheduler driving a real torch optimizer, as Composer's Trainer does."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sched_cli.schedulers import CosineAnnealingWithWarmupScheduler, MultiStepScheduler, compile_composer_scheduler
from sched_cli.state import State
from sched_cli.time import Timestamp

REPO = Path(__file__).resolve().parents[1]


def test_importing_the_library_does_not_import_torch():
    code = "import sys, sched_cli.schedulers, sched_cli.simulator; assert 'torch' not in sys.modules"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@pytest.fixture
def sgd():
    torch = pytest.importorskip("torch")

    def make(lr: float = 0.1):
        param = torch.nn.Parameter(torch.zeros(3))
        return torch.optim.SGD([param], lr=lr), param

    return make


def _train(state, sched, optimizer, param, steps, expected_alpha, base_lr, batch_size=1):
    """Step like the Trainer: optimizer step, scheduler step, then advance the timestamp."""
    torch = pytest.importorskip("torch")
    for batch in range(steps):
        # the LR in force for this batch was set by the step after the previous batch
        lr = optimizer.param_groups[0]["lr"]
        assert lr == pytest.approx(base_lr * expected_alpha(max(batch - 1, 0)), rel=1e-12, abs=1e-15), batch
        param.grad = torch.ones_like(param)
        optimizer.step()
        sched.step()
        # scheduler.step() saw the timestamp at the start of this batch
        assert optimizer.param_groups[0]["lr"] == pytest.approx(
            base_lr * expected_alpha(batch), rel=1e-12, abs=1e-15
        ), batch
        state.timestamp = state.timestamp.to_next_batch(samples=batch_size, tokens=batch_size)


def test_function_scheduler_with_ssr_1(sgd):
    optimizer, param = sgd(lr=0.2)
    state = State("300ba", optimizers=[optimizer])

    def half_after_100(s):  # takes only the state: allowed with ssr 1
        return 1.0 if s.timestamp.batch < 100 else 0.5

    sched = compile_composer_scheduler(half_after_100, state)
    _train(state, sched, optimizer, param, 300, lambda b: 1.0 if b < 100 else 0.5, 0.2)


def test_builtin_scheduler_drives_sgd(sgd):
    optimizer, param = sgd(lr=0.1)
    state = State("250ba", optimizers=[optimizer])
    sched = compile_composer_scheduler(CosineAnnealingWithWarmupScheduler(t_warmup="20ba", alpha_f=0.1), state)

    def expected(b):
        if b < 20:
            return b / 20
        return 0.1 + (1 - 0.1) * 0.5 * (1 + math.cos(math.pi * (b - 20) / (250 - 20)))

    _train(state, sched, optimizer, param, 250, expected, 0.1)


def test_ssr_aware_function_with_ssr(sgd):
    optimizer, param = sgd(lr=1.0)
    # ssr 0.5 on a 400-batch run: the Trainer scales max_duration to 200ba
    state = State("200ba", optimizers=[optimizer])

    def stretched_linear(s, ssr):
        return 1.0 - int(s.timestamp.batch) / (400 * ssr)

    sched = compile_composer_scheduler(stretched_linear, state, ssr=0.5)
    _train(state, sched, optimizer, param, 200, lambda b: 1.0 - b / 200, 1.0)


def test_builtin_with_ssr(sgd):
    optimizer, param = sgd(lr=0.5)
    state = State("300ba", optimizers=[optimizer])
    # milestones int(100 * 1.5) = 150 and int(180 * 1.5) = 270
    sched = compile_composer_scheduler(MultiStepScheduler(["100ba", "180ba"], gamma=0.5), state, ssr=1.5)
    _train(state, sched, optimizer, param, 300, lambda b: 1.0 if b < 150 else (0.5 if b < 270 else 0.25), 0.5)


def test_one_argument_scheduler_with_ssr_raises(sgd):
    optimizer, _ = sgd()
    state = State("100ba", optimizers=[optimizer])
    # LambdaLR evaluates the multiplier on construction, so the error is immediate (as in Composer)
    with pytest.raises(ValueError, match="ssr"):
        compile_composer_scheduler(lambda s: 1.0, state, ssr=2.0)


def test_optimizer_from_state_or_argument(sgd):
    optimizer, _ = sgd(lr=0.3)
    state = State("10ba", timestamp=Timestamp(batch=5))
    sched = compile_composer_scheduler(lambda s: 0.5, state, optimizer=optimizer)
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.15)
    assert sched.optimizer is optimizer

    with pytest.raises(ValueError, match="optimizer"):
        compile_composer_scheduler(lambda s: 0.5, State("10ba"))  # no optimizer anywhere
    other, _ = sgd()
    with pytest.raises(ValueError, match="2"):
        compile_composer_scheduler(lambda s: 0.5, State("10ba", optimizers=[optimizer, other]))


def test_lambda_lr_step_counter_is_ignored(sgd):
    optimizer, param = sgd(lr=1.0)
    state = State("100ba", optimizers=[optimizer])
    sched = compile_composer_scheduler(lambda s: 1.0 / (1 + int(s.timestamp.batch)), state)
    for _ in range(5):  # stepping without moving the clock changes nothing
        optimizer.step()
        sched.step()
    assert optimizer.param_groups[0]["lr"] == 1.0
    state.timestamp = Timestamp(batch=3)
    sched.step()
    assert optimizer.param_groups[0]["lr"] == 1.0 / 4
