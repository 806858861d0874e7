"""Native PyTorch schedulers: the LRs a real optimizer gets, Composer's SSR rules, the Trainer's steps."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sched_cli.schedulers.base import ScheduleError
from sched_cli.schedulers.torch_native import (
    MAX_STEPS,
    SCALABLE,
    TORCH_SCHEDULERS,
    TorchScheduler,
    describe_torch_scheduler,
    is_torch_scheduler_name,
    steps_taken,
    torch_trainer_multipliers,
    trainer_steps,
)

torch = pytest.importorskip("torch")
from torch.optim import lr_scheduler  # noqa: E402

REPO = Path(__file__).resolve().parents[1]

#: The schedulers under test and arguments that make every one change course within 40 steps.
CASES = {
    "OneCycleLR": {"max_lr": 0.4, "total_steps": 40},
    "StepLR": {"step_size": 7, "gamma": 0.5},
    "MultiStepLR": {"milestones": [5, 12, 12, 30], "gamma": 0.3},
    "CosineAnnealingLR": {"T_max": 16, "eta_min": 0.01},
    "CosineAnnealingWarmRestarts": {"T_0": 6, "T_mult": 2, "eta_min": 0.001},
    "ExponentialLR": {"gamma": 0.93},
    "LinearLR": {"start_factor": 0.2, "end_factor": 0.9, "total_iters": 11},
    "ConstantLR": {"factor": 0.5, "total_iters": 9},
    "PolynomialLR": {"total_iters": 25, "power": 2.0},
    "CyclicLR": {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 5, "mode": "triangular2"},
}


def reference_lrs(name: str, kwargs: dict[str, Any], steps: int, lr: float, scale: Any = None) -> list[float]:
    """The LR of a real model's AdamW under the same scheduler, one optimizer step per scheduler step."""
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    scheduler = getattr(lr_scheduler, name)(optimizer, **kwargs)
    if scale is not None:
        scale(scheduler)
    out = [optimizer.param_groups[0]["lr"]]
    for _ in range(steps - 1):
        model(torch.randn(4, 3)).pow(2).mean().backward()
        optimizer.step()
        optimizer.zero_grad()
        scheduler.step()
        out.append(optimizer.param_groups[0]["lr"])
    return out


# -- the LRs are the real optimizer's -------------------------------------------------------------
@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("lr", [1.0, 0.003])
def test_lrs_equal_a_real_optimizers_step_for_step(name, lr):
    got = TorchScheduler(name, **CASES[name]).lrs(40, lr=lr)
    assert got.tolist() == reference_lrs(name, CASES[name], 40, lr)  # exactly, not approximately


@pytest.mark.parametrize("name", list(CASES))
def test_multiplier_is_the_lr_over_the_base_lr(name):
    scheduler = TorchScheduler(name, **CASES[name])
    np.testing.assert_array_equal(scheduler.multipliers(40), scheduler.lrs(40))  # lr 1: the LR itself
    np.testing.assert_array_equal(scheduler.multipliers(40, lr=0.5), scheduler.lrs(40, lr=0.5) / 0.5)


def test_hand_computed_step_lr():
    lrs = TorchScheduler("StepLR", step_size=3, gamma=0.1).lrs(8, lr=2.0)
    np.testing.assert_allclose(lrs, [2, 2, 2, 0.2, 0.2, 0.2, 0.02, 0.02], rtol=1e-15)


def test_one_cycle_sets_its_own_lr_whatever_the_optimizers():
    """OneCycleLR starts at max_lr / div_factor and peaks at max_lr: the optimizer's LR is ignored."""
    one = TorchScheduler("OneCycleLR", max_lr=0.1, total_steps=10, pct_start=0.5, anneal_strategy="linear")
    for lr in (1.0, 0.003):
        lrs = one.lrs(10, lr=lr)  # up for 4 steps (pct_start * total_steps - 1), then down
        assert lrs[0] == pytest.approx(0.1 / 25) and lrs[4] == pytest.approx(0.1) and lrs.max() == lrs[4]
    np.testing.assert_array_equal(one.lrs(10, lr=1.0), one.lrs(10, lr=0.003))


def test_torch_trainer_multipliers_is_the_scheduler_stepped():
    got = torch_trainer_multipliers("torch.optim.lr_scheduler.ExponentialLR", {"gamma": 0.5}, 5, 1.0)
    np.testing.assert_allclose(got, [1, 0.5, 0.25, 0.125, 0.0625], rtol=1e-15)
    np.testing.assert_array_equal(
        torch_trainer_multipliers("OneCycleLR", CASES["OneCycleLR"], 40, lr=0.1),
        TorchScheduler("OneCycleLR", **CASES["OneCycleLR"]).multipliers(40, lr=0.1),
    )


def test_fewer_steps_are_a_prefix_of_more():
    scheduler = TorchScheduler("CosineAnnealingWarmRestarts", **CASES["CosineAnnealingWarmRestarts"])
    np.testing.assert_array_equal(scheduler.lrs(13), scheduler.lrs(40)[:13])
    assert scheduler.lrs(0).shape == (0,)


# -- SSR, as Composer's Trainer applies it --------------------------------------------------------
def composer_scale(ssr: float):
    """Composer 0.32.1's ``scale_pytorch_scheduler`` rules, written out for the five classes."""

    def scale(s: Any) -> None:
        if ssr == 1.0:
            return
        if isinstance(s, lr_scheduler.StepLR):
            s.step_size = int(s.step_size * ssr)
        elif isinstance(s, lr_scheduler.MultiStepLR):
            s.milestones = Counter([int(m * ssr) for m in s.milestones])
        elif isinstance(s, lr_scheduler.CosineAnnealingLR):
            s.T_max = int(s.T_max * ssr)
        elif isinstance(s, lr_scheduler.CosineAnnealingWarmRestarts):
            s.T_0 = int(s.T_0 * ssr)
        elif isinstance(s, lr_scheduler.ExponentialLR):
            s.gamma = s.gamma ** (1 / ssr)

    return scale


@pytest.mark.parametrize("name", SCALABLE)
@pytest.mark.parametrize("ssr", [0.5, 0.75, 1.0, 1.5, 3.0])
def test_the_five_scalable_schedulers_scale_as_in_composer(name, ssr):
    got = TorchScheduler(name, **CASES[name]).lrs(40, ssr=ssr, lr=0.1)
    assert got.tolist() == reference_lrs(name, CASES[name], 40, 0.1, composer_scale(ssr))


def test_ssr_hand_computed():
    np.testing.assert_allclose(  # step_size 4 -> 2
        TorchScheduler("StepLR", step_size=4, gamma=0.5).lrs(7, ssr=0.5), [1, 1, 0.5, 0.5, 0.25, 0.25, 0.125]
    )
    np.testing.assert_allclose(  # milestones [4, 8] -> [2, 4]
        TorchScheduler("MultiStepLR", milestones=[4, 8], gamma=0.1).lrs(6, ssr=0.5), [1, 1, 0.1, 0.1, 0.01, 0.01]
    )
    np.testing.assert_allclose(  # gamma 0.81 -> 0.9
        TorchScheduler("ExponentialLR", gamma=0.81).lrs(4, ssr=2.0), [1, 0.9, 0.81, 0.729], rtol=1e-14
    )
    cosine = TorchScheduler("CosineAnnealingLR", T_max=10).lrs(11, ssr=0.5)  # T_max 10 -> 5
    assert cosine[5] == pytest.approx(0.0, abs=1e-15) and cosine[10] == pytest.approx(1.0)


def test_ssr_leaves_warm_restarts_unchanged_as_in_composer():
    """Composer rescales T_0, which step() without an epoch never reads: the curve stays the same."""
    scheduler = TorchScheduler("CosineAnnealingWarmRestarts", T_0=8)
    np.testing.assert_array_equal(scheduler.lrs(30, ssr=0.5), scheduler.lrs(30))


def test_ssr_counts_a_repeated_milestone_once_as_in_composer():
    repeated = TorchScheduler("MultiStepLR", milestones=[4, 4], gamma=0.5)
    assert repeated.lrs(6)[4] == 0.25  # gamma twice at 4
    assert repeated.lrs(6, ssr=0.5)[2] == 0.5  # once at 2 after scaling


@pytest.mark.parametrize(
    "name", ["OneCycleLR", "LinearLR", "ConstantLR", "PolynomialLR", "CyclicLR", "torch.optim.lr_scheduler.LinearLR"]
)
def test_other_schedulers_refuse_an_ssr_as_composer_does(name):
    scheduler = TorchScheduler(name, **CASES[name.rpartition(".")[2]])
    scheduler.lrs(3, ssr=1.0)  # fine unscaled
    assert not scheduler.scalable
    with pytest.raises(ScheduleError, match=r"cannot be scaled by ssr=0\.5: Composer's Trainer rescales only StepLR"):
        scheduler.lrs(3, ssr=0.5)
    with pytest.raises(ScheduleError, match="cannot be scaled by ssr=2"):
        scheduler.check_ssr(2.0)


@pytest.mark.parametrize("ssr", [0, -1.0, math.nan, math.inf, True, "1"])
def test_ssr_must_be_a_positive_number(ssr):
    with pytest.raises(ScheduleError, match="ssr must be a finite number greater than 0"):
        TorchScheduler("StepLR", step_size=2).lrs(3, ssr=ssr)


def test_scaling_to_zero_fails_where_the_trainer_would_and_says_why():
    with pytest.raises(ScheduleError, match=r"ssr 0\.2 \(Composer rescaled step_size 3 -> 0\): step 1 failed.*Zero"):
        TorchScheduler("StepLR", step_size=3).lrs(5, ssr=0.2)
    with pytest.raises(ScheduleError, match=r"T_max 2 -> 0"):
        TorchScheduler("CosineAnnealingLR", T_max=2).lrs(5, ssr=0.4)


# -- the Trainer's steps ---------------------------------------------------------------------------
def test_steps_taken_every_batch_is_the_batch():
    np.testing.assert_array_equal(steps_taken([0, 1, 2, 9], "batch", 4), [0, 1, 2, 9])


def test_steps_taken_every_epoch_counts_finished_epochs():
    np.testing.assert_array_equal(steps_taken(np.arange(9), "epoch", 4), [0, 0, 0, 0, 1, 1, 1, 1, 2])
    np.testing.assert_array_equal(steps_taken([0, 50], "epoch", None), [0, 0])  # an epoch that never ends


def test_trainer_steps_counts_the_step_after_the_last_batch_or_finished_epoch():
    assert trainer_steps(10, "batch", 4) == 10
    assert trainer_steps(12, "epoch", 4) == 3
    assert trainer_steps(10, "epoch", 4) == 2  # the run ends mid-epoch: no step at its end
    assert trainer_steps(10, "epoch", None) == 0
    with pytest.raises(ScheduleError, match="step_every"):
        trainer_steps(10, "iteration", 4)
    with pytest.raises(ScheduleError, match="step_every"):
        steps_taken([1], "sometimes", 4)


def test_a_one_cycle_sized_one_step_short_fails_after_the_last_batch_as_the_trainer_does():
    """The Trainer steps once more after the last batch; OneCycleLR refuses a step past total_steps."""
    n = 20
    TorchScheduler("OneCycleLR", max_lr=0.1, total_steps=n).lrs(trainer_steps(n, "batch", None) + 1)
    with pytest.raises(ScheduleError, match=r"step 20 failed.*Tried to step 20 times"):
        TorchScheduler("OneCycleLR", max_lr=0.1, total_steps=n - 1).lrs(trainer_steps(n, "batch", None) + 1)


# -- names, arguments and errors -----------------------------------------------------------------
@pytest.mark.parametrize("name", ["OneCycleLR", "onecyclelr", "torch.optim.lr_scheduler.OneCycleLR", " StepLR "])
def test_names(name):
    assert is_torch_scheduler_name(name)


@pytest.mark.parametrize("name", ["cosine_with_warmup", "CosineAnnealingScheduler", "step", "", None, 3])
def test_composer_names_are_not_torch_names(name):
    assert not is_torch_scheduler_name(name)


def test_name_forms_build_the_same_class():
    for name in ("torch.optim.lr_scheduler.StepLR", "steplr", "StepLR"):
        assert TorchScheduler(name, step_size=2).name == "StepLR"
    assert repr(TorchScheduler("StepLR", step_size=2, gamma=0.5)) == "StepLR(step_size=2, gamma=0.5)"


def test_unknown_name_suggests_the_closest():
    with pytest.raises(ScheduleError, match=r"'OneCycle' is not a scheduler in torch.optim.lr_scheduler "
                       r"\(did you mean 'OneCycleLR'\?\); it has ChainedScheduler"):  # fmt: skip
        TorchScheduler("OneCycle")


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("LambdaLR", "takes a Python function"),
        ("MultiplicativeLR", "takes a Python function"),
        ("SequentialLR", "takes other scheduler objects"),
        ("ChainedScheduler", "takes other scheduler objects"),
        ("ReduceLROnPlateau", "steps on a validation metric"),
    ],
)
def test_schedulers_a_spec_cannot_describe_are_refused(name, why):
    with pytest.raises(ScheduleError, match=f"{name} cannot be previewed: it {why}"):
        TorchScheduler(name)


def test_bad_arguments_name_the_parameters():
    with pytest.raises(ScheduleError, match=r"missing 1 required positional argument: 'step_size'; "
                       r"its parameters are step_size, gamma$"):  # fmt: skip
        TorchScheduler("StepLR")
    with pytest.raises(ScheduleError, match="unexpected keyword argument 'gama'"):
        TorchScheduler("StepLR", step_size=2, gama=0.1)
    with pytest.raises(ScheduleError, match="You must define either total_steps"):
        TorchScheduler("OneCycleLR", max_lr=0.1)
    with pytest.raises(ScheduleError, match="do not give last_epoch"):
        TorchScheduler("StepLR", step_size=2, last_epoch=5)
    with pytest.raises(ScheduleError, match="do not give optimizer"):
        TorchScheduler("StepLR", step_size=2, optimizer=None)


def test_numbers_written_as_text_are_numbers():
    """YAML 1.1 reads 1e-1 as text; torch would choke on it."""
    scheduler = TorchScheduler("MultiStepLR", milestones=["2", "4"], gamma="1e-1")
    assert scheduler.kwargs == {"milestones": [2, 4], "gamma": 0.1}
    np.testing.assert_allclose(scheduler.lrs(5), [1, 1, 0.1, 0.1, 0.01])
    assert (
        TorchScheduler("OneCycleLR", max_lr=0.1, total_steps=9, anneal_strategy="linear").kwargs["anneal_strategy"]
        == "linear"
    )


def test_steps_and_lr_are_checked():
    scheduler = TorchScheduler("StepLR", step_size=2)
    with pytest.raises(ScheduleError, match="steps must be a whole number"):
        scheduler.lrs(-1)
    with pytest.raises(ScheduleError, match=f"more than {MAX_STEPS:,}"):
        scheduler.lrs(MAX_STEPS + 1)
    with pytest.raises(ScheduleError, match="lr must be a finite number greater than 0"):
        scheduler.lrs(3, lr=0.0)


def test_a_non_finite_lr_is_an_error():
    with pytest.raises(ScheduleError, match="the LR is inf after 1 steps"):
        TorchScheduler("ExponentialLR", gamma=1e300).lrs(3, lr=1e300)


def test_without_torch_the_error_names_the_extra(monkeypatch):
    for module in ("torch", "torch.optim", "torch.optim.lr_scheduler"):
        monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(ImportError, match=r"pip install 'sched-cli\[torch\]'"):
        TorchScheduler("StepLR", step_size=2)
    assert is_torch_scheduler_name("StepLR")  # recognising a name needs no torch


def test_importing_the_module_does_not_import_torch():
    code = (
        "import sys, sched_cli.schedulers.torch_native as t; "
        "assert t.is_torch_scheduler_name('StepLR'); assert 'torch' not in sys.modules"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


# -- against a real Composer Trainer (only where SCHED_COMPOSER_PYTHON has composer) --------------
TRAINER = r"""
import json, logging, os, sys, warnings
os.environ.setdefault("TQDM_DISABLE", "1")
warnings.filterwarnings("ignore")
logging.disable(logging.WARNING)
import torch
from composer import Trainer
from composer.core import Callback
from composer.models import ComposerModel
from torch.optim import lr_scheduler

class Tiny(ComposerModel):
    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(2, 1)
    def forward(self, batch):
        return self.linear(batch[0])
    def loss(self, outputs, batch, *args, **kwargs):
        return torch.nn.functional.mse_loss(outputs, batch[1])

class Record(Callback):
    def __init__(self):
        self.lrs = []
    def batch_start(self, state, logger):
        self.lrs.append(float(state.optimizers[0].param_groups[0]["lr"]))

def train(run):
    n = run["dataloader_len"]
    g = torch.Generator().manual_seed(0)
    data = torch.utils.data.TensorDataset(torch.randn(n, 2, generator=g), torch.randn(n, 1, generator=g))
    model = Tiny()
    optimizer = torch.optim.SGD(model.parameters(), lr=run["lr"])
    scheduler = getattr(lr_scheduler, run["scheduler"])(optimizer, **run["kwargs"])
    record = Record()
    every = run["step_every"]
    trainer = Trainer(
        model=model, train_dataloader=torch.utils.data.DataLoader(data, batch_size=1),
        max_duration=run["max_duration"], optimizers=optimizer, schedulers=scheduler,
        scale_schedule_ratio=run["ssr"], step_schedulers_every_batch=None if every is None else every == "batch",
        callbacks=[record], loggers=[], progress_bar=False, log_to_console=False, device="cpu", seed=0,
    )
    trainer.fit()
    return {"lrs": record.lrs, "final": float(optimizer.param_groups[0]["lr"])}

out = []
for run in json.load(sys.stdin):
    try:
        out.append(train(run))
    except Exception as exc:
        out.append({"error": f"{type(exc).__name__}: {exc}"})
print(json.dumps(out))
"""

TRAINER_RUNS = [  # (scheduler, kwargs, max_duration, dataloader_len, lr, ssr, step_every: None = Composer's default)
    ("StepLR", {"step_size": 3, "gamma": 0.5}, "12ba", 4, 0.1, 1.0, "batch"),
    ("StepLR", {"step_size": 3, "gamma": 0.5}, "5ep", 4, 0.1, 1.0, None),
    ("StepLR", {"step_size": 3, "gamma": 0.5}, "6ep", 3, 0.1, 0.5, "epoch"),
    ("StepLR", {"step_size": 2, "gamma": 0.5}, "10ba", 4, 0.1, 1.0, "epoch"),
    ("MultiStepLR", {"milestones": [4, 4, 9], "gamma": 0.5}, "20ba", 7, 0.3, 0.5, "batch"),
    ("OneCycleLR", {"max_lr": 0.2, "total_steps": 20}, "20ba", 6, 0.1, 1.0, "batch"),
    ("OneCycleLR", {"max_lr": 0.2, "total_steps": 19}, "20ba", 6, 0.1, 1.0, "batch"),
    ("OneCycleLR", {"max_lr": 0.2, "total_steps": 20}, "10ba", 6, 0.1, 0.5, "batch"),
    ("CosineAnnealingLR", {"T_max": 10, "eta_min": 0.01}, "24ba", 5, 0.1, 2.0, "batch"),
    ("CosineAnnealingWarmRestarts", {"T_0": 4, "T_mult": 2}, "30ba", 5, 0.1, 0.5, "batch"),
    ("ExponentialLR", {"gamma": 0.9}, "8ep", 3, 0.1, 0.75, "epoch"),
    ("LinearLR", {"start_factor": 0.25, "total_iters": 5}, "14ba", 4, 0.1, 1.0, "batch"),
    ("LinearLR", {"start_factor": 0.25, "total_iters": 5}, "14ba", 4, 0.1, 0.5, "batch"),
]


def test_against_a_real_composer_trainer():
    """Every batch's LR, and the LR after training, as a real Composer 0.32 Trainer sets them."""
    python = os.environ.get("SCHED_COMPOSER_PYTHON")
    if not python:
        pytest.skip("SCHED_COMPOSER_PYTHON is not set (see docs/composer.md)")
    from sched_cli.simulator import Run
    from sched_cli.time import Time

    request = [
        dict(zip(("scheduler", "kwargs", "max_duration", "dataloader_len", "lr", "ssr", "step_every"), r, strict=True))
        for r in TRAINER_RUNS
    ]
    proc = subprocess.run(
        [python, "-c", TRAINER], input=json.dumps(request), capture_output=True, text=True, timeout=600
    )
    if proc.returncode != 0 and "No module named 'composer'" in proc.stderr:
        pytest.skip(f"SCHED_COMPOSER_PYTHON={python} cannot import composer")
    assert proc.returncode == 0, proc.stderr[-2000:]
    for run, answer in zip(request, json.loads(proc.stdout.splitlines()[-1]), strict=True):
        every = run["step_every"] or "epoch"  # Composer steps PyTorch schedulers every epoch by default
        dl = run["dataloader_len"]
        n = Run(max_duration=Time.from_input(run["max_duration"]), schedulers=(max,), dataloader_len=dl).batches(
            run["ssr"]
        )
        scheduler = TorchScheduler(run["scheduler"], **run["kwargs"])
        if "error" in answer:
            with pytest.raises(ScheduleError):
                scheduler.lrs(trainer_steps(n, every, dl) + 1, run["ssr"], run["lr"])
            continue
        lrs = scheduler.lrs(trainer_steps(n, every, dl) + 1, run["ssr"], run["lr"])
        assert lrs[steps_taken(np.arange(n), every, dl)].tolist() == answer["lrs"], run
        assert lrs[-1] == answer["final"], run


# -- describe ------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", TORCH_SCHEDULERS)
def test_describe_reads_the_signature_torch_has(name):
    import ast
    import inspect

    described = describe_torch_scheduler(f"torch.optim.lr_scheduler.{name.lower()}")
    assert described.name == name and described.torch_found and described.summary
    real = inspect.signature(getattr(lr_scheduler, name).__init__).parameters.values()
    expected = [p.name for p in real if p.name not in ("self", "optimizer", "last_epoch", "verbose")]
    assert [param for param, _ in described.params] == expected
    for (_, default), p in zip(described.params, [p for p in real if p.name in expected], strict=True):
        assert (default is None) == (p.default is inspect.Parameter.empty)
        if default is not None:
            node = ast.parse(default, mode="eval").body
            if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):  # ConstantLR's factor=1.0 / 3
                assert ast.literal_eval(node.left) / ast.literal_eval(node.right) == p.default
            else:
                assert ast.literal_eval(node) == p.default


def test_describe_one_cycle_and_the_notes():
    one_cycle = dict(describe_torch_scheduler("OneCycleLR").params)
    # torch's documented defaults: max_lr required, pct_start 0.3, 'cos', div_factor 25, final_div_factor 1e4
    assert one_cycle["max_lr"] is None and one_cycle["pct_start"] == "0.3" and one_cycle["anneal_strategy"] == "'cos'"
    assert float(one_cycle["div_factor"]) == 25 and float(one_cycle["final_div_factor"]) == 1e4
    assert any("Only ssr 1" in n for n in describe_torch_scheduler("OneCycleLR").notes)
    assert any("rescales its milestones" in n for n in describe_torch_scheduler("MultiStepLR").notes)
    assert any("cannot preview" in n for n in describe_torch_scheduler("LambdaLR").notes)
    with pytest.raises(ScheduleError, match="not a torch.optim.lr_scheduler class"):
        describe_torch_scheduler("NotALR")


def test_describe_without_torch_says_what_is_needed(monkeypatch):
    from sched_cli.schedulers import torch_native

    monkeypatch.setattr(torch_native, "_torch_source", lambda: None)
    described = describe_torch_scheduler("StepLR")
    assert not described.torch_found and described.params == ()
    assert "torch is not installed" in described.notes[0] and "sched-cli[torch]" in described.notes[0]


def test_describe_does_not_import_torch():
    code = (
        "import sys\n"
        "from sched_cli.schedulers.torch_native import describe_torch_scheduler\n"
        "describe_torch_scheduler('OneCycleLR')\n"
        "print('torch' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
