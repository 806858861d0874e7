"""The schedulers beyond Composer's thirteen (``sched_cli/schedulers/extra.py``).

Expected values are worked out by hand, the arithmetic written in the test:

- ``InverseSquareRootWithWarmupScheduler`` from LLM Foundry's ``llmfoundry/optim/scheduler.py``:
  warmup ``t / t_warmup`` (unscaled ``t_warmup``), then ``a_d + (1 - a_d) / sqrt((t - t_warmup + t_scale) / t_scale)``,
  then from ``t_cd = max(t_warmup, t_max - t_cooldown)`` a linear cooldown from the decay's value there;
- ``WarmupStableDecayScheduler``: ``t / t_warmup``, 1.0, then ``a_f + (1 - a_f) d(tau)`` over the
  last ``t_decay`` before ``t_max``;
- ``OneCycleScheduler``: against a real ``torch.optim.lr_scheduler.OneCycleLR``, step for step;
- ``SequentialScheduler``: each phase on its own clock, from its first batch.

Time conversion is Composer's: ``dur`` is a fraction of the (already scaled) ``max_duration``,
other units ``int(v * ssr)``, epochs first turned into batches.
"""

from __future__ import annotations

import inspect
import math
import warnings

import numpy as np
import pytest
from conftest import outcome
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from sched_cli import registry
from sched_cli.schedulers import (
    ConstantScheduler,
    CosineAnnealingScheduler,
    CosineAnnealingWithWarmupScheduler,
    ExponentialScheduler,
    InverseSquareRootWithWarmupScheduler,
    LinearScheduler,
    LinearWithWarmupScheduler,
    MultiStepScheduler,
    OneCycleScheduler,
    RunShape,
    ScheduleError,
    SequentialScheduler,
    StepScheduler,
    WarmupStableDecayScheduler,
)
from sched_cli.simulator import Run, Timeline, collect, plan, simulate
from sched_cli.state import State
from sched_cli.time import Time, Timestamp

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
REQUIRED = inspect.Parameter.empty


def value(scheduler, max_duration, batch, ssr=1.0, dataloader_len=None, batch_size=1, seq_len=1):
    """The scheduler at the start of ``batch`` of a run of constant batches, through a State that
    knows its batch and sequence sizes."""
    epoch = batch // dataloader_len if dataloader_len else 0
    stamp = Timestamp(epoch=epoch, batch=batch, sample=batch * batch_size, token=batch * batch_size * seq_len)
    state = State(max_duration, dataloader_len, stamp, batch_size=batch_size, seq_len=seq_len)
    return scheduler(state, ssr)


def timeline(batches, dataloader_len=None, batch_size=1, seq_len=1):
    b = np.asarray(batches, dtype=np.int64)
    epoch = b // dataloader_len if dataloader_len else np.zeros_like(b)
    return Timeline(epoch=epoch, batch=b, sample=b * batch_size, token=b * batch_size * seq_len)


# -- names, signatures, registry --------------------------------------------------------------------
SIGNATURES = {
    # LLM Foundry's, argument for argument
    InverseSquareRootWithWarmupScheduler: [
        ("t_warmup", REQUIRED),
        ("t_scale", REQUIRED),
        ("t_cooldown", REQUIRED),
        ("t_max", "1dur"),
        ("alpha_f_decay", 0.0),
        ("alpha_f_cooldown", 0.0),
    ],
    WarmupStableDecayScheduler: [
        ("t_warmup", REQUIRED),
        ("t_decay", REQUIRED),
        ("t_max", "1dur"),
        ("alpha_f", 0.0),
        ("decay_shape", "linear"),
        ("scale_warmup", False),
    ],
    OneCycleScheduler: [
        ("t_max", "1dur"),
        ("pct_start", 0.3),
        ("anneal_strategy", "cos"),
        ("div_factor", 25.0),
        ("final_div_factor", 1e4),
        ("three_phase", False),
    ],
    SequentialScheduler: [("phases", REQUIRED), ("continuous", False)],
}


@pytest.mark.parametrize("cls", list(SIGNATURES), ids=lambda c: c.__name__)
def test_signatures_and_defaults(cls):
    params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    assert [(p.name, p.default) for p in params] == SIGNATURES[cls]


@pytest.mark.parametrize(
    ("alias", "cls", "kinds"),
    [
        ("inv_sqrt_with_warmup", InverseSquareRootWithWarmupScheduler, ["time"] * 4 + ["number"] * 2),
        ("wsd", WarmupStableDecayScheduler, ["time"] * 3 + ["number", "str", "bool"]),
        ("warmup_stable_decay", WarmupStableDecayScheduler, ["time"] * 3 + ["number", "str", "bool"]),
        ("one_cycle", OneCycleScheduler, ["time", "number", "str", "number", "number", "bool"]),
        ("sequential", SequentialScheduler, ["phases", "bool"]),
    ],
)
def test_registered_under_their_names_and_aliases(alias, cls, kinds):
    for name in (alias, cls.__name__, alias.replace("_", "-").upper()):
        assert registry.lookup(name).cls is cls
    assert [p.kind for p in registry.lookup(alias).params] == kinds


@pytest.mark.parametrize("cls", list(SIGNATURES), ids=lambda c: c.__name__)
def test_docstrings_give_the_formula_and_every_argument_with_its_default(cls):
    entry = registry.lookup(cls.__name__)
    formula, args = entry.doc_text.split("Args:")
    assert "α(" in formula and "\\" not in formula  # the formula, all of it turned into plain text
    described = {}
    for line in args.strip("\n").splitlines():
        if line.startswith("    ") and not line.startswith("     "):
            name = line.split()[0]
            described[name] = ""
        described[name] += line
    assert list(described) == [p.name for p in entry.params]
    for p in entry.params:
        assert ("Default" in described[p.name]) != p.required, p.name


# -- InverseSquareRootWithWarmupScheduler --------------------------------------------------------
def inv_sqrt(tau: float, alpha_f_decay: float) -> float:
    return alpha_f_decay + 1 / tau**0.5 * (1.0 - alpha_f_decay)


def test_inv_sqrt_in_batches():
    s = InverseSquareRootWithWarmupScheduler("10ba", "20ba", "30ba", alpha_f_decay=0.1, alpha_f_cooldown=0.0)
    assert value(s, "100ba", 0) == 0.0
    assert value(s, "100ba", 5) == 5 / 10
    assert value(s, "100ba", 10) == 0.1 + 1 / 1**0.5 * 0.9 == 1.0  # tau_d = (10 - 10 + 20) / 20 = 1
    assert value(s, "100ba", 30) == inv_sqrt((30 - 10 + 20) / 20, 0.1)  # tau_d = 2
    assert value(s, "100ba", 69) == inv_sqrt((69 - 10 + 20) / 20, 0.1)  # tau_d = 3.95
    # cooldown from t_cd = max(10, 100 - 30) = 70, where tau_d = (70 - 10 + 20) / 20 = 4: 0.1 + 0.9 / 2 = 0.55
    alpha_cd = inv_sqrt(4.0, 0.1)
    assert alpha_cd == 0.55
    assert value(s, "100ba", 70) == alpha_cd + 0 / 30 * (0.0 - alpha_cd)
    assert value(s, "100ba", 85) == alpha_cd + 15 / 30 * (0.0 - alpha_cd) == 0.275
    assert value(s, "100ba", 100) == alpha_cd + 1.0 * (0.0 - alpha_cd) == 0.0
    assert value(s, "100ba", 150) == 0.0  # tau_c = min(1, 80 / 30)


def test_inv_sqrt_in_tokens():
    # 4 samples of 250 tokens: 1000 tokens a batch; t_max = 1dur = 1e6 tok; t_cd = 1e6 - 2e5 = 8e5 tok
    s = InverseSquareRootWithWarmupScheduler("5000tok", "10000tok", "200000tok")
    run = {"batch_size": 4, "seq_len": 250}
    assert value(s, "1000000tok", 2, **run) == 2000 / 5000
    assert value(s, "1000000tok", 45, **run) == inv_sqrt((45000 - 5000 + 10000) / 10000, 0.0) == 1 / 5**0.5
    alpha_cd = inv_sqrt((800000 - 5000 + 10000) / 10000, 0.0)  # tau_d = 80.5
    assert value(s, "1000000tok", 800, **run) == alpha_cd
    assert value(s, "1000000tok", 900, **run) == alpha_cd + 100000 / 200000 * (0.0 - alpha_cd)


def test_inv_sqrt_in_epochs_counts_batches():
    # 10 batches an epoch: t_warmup 10ba, t_scale 20ba, t_cooldown 30ba, t_max = 1dur = 100ba
    s = InverseSquareRootWithWarmupScheduler("1ep", "2ep", "3ep", alpha_f_decay=0.1)
    assert value(s, "10ep", 5, dataloader_len=10) == 5 / 10
    assert value(s, "10ep", 30, dataloader_len=10) == inv_sqrt(2.0, 0.1)
    assert value(s, "10ep", 85, dataloader_len=10) == 0.275


def test_inv_sqrt_with_ssr_leaves_the_warmup_unscaled():
    # ssr 0.5 on a 100ba run: max_duration 50ba; t_warmup stays 10; t_scale int(20 * 0.5) = 10,
    # t_cooldown int(30 * 0.5) = 15, t_max = 1dur = 50ba, so t_cd = 35
    s = InverseSquareRootWithWarmupScheduler("10ba", "20ba", "30ba", alpha_f_decay=0.1)
    assert value(s, "50ba", 5, ssr=0.5) == 5 / 10
    assert value(s, "50ba", 20, ssr=0.5) == inv_sqrt((20 - 10 + 10) / 10, 0.1)
    alpha_cd = inv_sqrt((35 - 10 + 10) / 10, 0.1)
    assert value(s, "50ba", 35, ssr=0.5) == alpha_cd
    assert value(s, "50ba", 40, ssr=0.5) == alpha_cd + 5 / 15 * (0.0 - alpha_cd)


def test_inv_sqrt_cooldown_longer_than_the_decay_starts_at_warmup_end():
    # t_max - t_cooldown = 5 < t_warmup = 10: the cooldown starts at 10, from 0.1 + 0.9 / sqrt(1) = 1.0
    s = InverseSquareRootWithWarmupScheduler("10ba", "20ba", "95ba", alpha_f_decay=0.1)
    assert value(s, "100ba", 10) == 1.0
    assert value(s, "100ba", 57) == 1.0 + (57 - 10) / 95 * (0.0 - 1.0)


def test_inv_sqrt_without_cooldown_holds_the_decay_value_from_t_max():
    s = InverseSquareRootWithWarmupScheduler("10ba", "20ba", "0ba", alpha_f_decay=0.1)
    at_end = inv_sqrt((100 - 10 + 20) / 20, 0.1)  # tau_d = 5.5
    assert value(s, "100ba", 99) == inv_sqrt((99 - 10 + 20) / 20, 0.1)
    assert value(s, "100ba", 100) == at_end
    assert value(s, "100ba", 150) == at_end


def test_inv_sqrt_alpha_f_cooldown_and_explicit_t_max():
    # t_max 60ba on a 100ba run: t_cd = 60 - 20 = 40; cooldown to 0.05, then held
    s = InverseSquareRootWithWarmupScheduler(
        "10ba", "10ba", "20ba", t_max="60ba", alpha_f_decay=0.2, alpha_f_cooldown=0.05
    )
    alpha_cd = inv_sqrt((40 - 10 + 10) / 10, 0.2)  # 0.2 + 0.8 / 2 = 0.6
    assert alpha_cd == pytest.approx(0.6, abs=1e-15)
    assert value(s, "100ba", 50) == alpha_cd + 10 / 20 * (0.05 - alpha_cd)
    assert value(s, "100ba", 80) == alpha_cd + 1.0 * (0.05 - alpha_cd)


def test_inv_sqrt_breakpoints():
    s = InverseSquareRootWithWarmupScheduler("10ba", "20ba", "30ba")
    points = s.breakpoints(s.resolve(RunShape(Time(100, "ba")), 1.0))
    assert [(p.label, p.time) for p in points] == [
        ("warmup end", Time(10, "ba")),
        ("cooldown start", Time(70, "ba")),
        ("t_max", Time(100, "ba")),
    ]


def test_inv_sqrt_rejects_what_llm_foundry_rejects():
    with pytest.raises(ScheduleError, match=r"alpha_f_decay=0\.1 must be at least alpha_f_cooldown=0\.2"):
        InverseSquareRootWithWarmupScheduler("10ba", "20ba", "30ba", alpha_f_decay=0.1, alpha_f_cooldown=0.2)
    for param, args in [
        ("t_warmup", ("0.1dur", "20ba", "30ba")),
        ("t_scale", ("10ba", "0.2dur", "30ba")),
        ("t_cooldown", ("10ba", "20ba", "0.3dur")),
    ]:
        with pytest.raises(ScheduleError, match=f"InverseSquareRootWithWarmupScheduler: {param}=.*cannot be in 'dur'"):
            InverseSquareRootWithWarmupScheduler(*args)
    # every call checks the units against max_duration's, warmup or not
    s = InverseSquareRootWithWarmupScheduler("10ba", "20ba", "30ba")
    with pytest.raises(ScheduleError, match=r"t_warmup=10ba is in 'ba'.*max_duration 100000tok \('tok'\)"):
        value(s, "100000tok", 0)
    s = InverseSquareRootWithWarmupScheduler("10tok", "20ba", "30tok")
    with pytest.raises(ScheduleError, match=r"t_scale=20ba is in 'ba'"):
        value(s, "1000tok", 0)
    with pytest.raises(ScheduleError, match="dataloader_len"):
        value(InverseSquareRootWithWarmupScheduler("1ep", "2ep", "3ep"), "10ep", 0)


def test_inv_sqrt_errors_after_warmup_wait_for_the_warmup_to_end():
    # t_scale int(1 * 0.5) = 0: LLM Foundry divides by it (ZeroDivisionError) only after warmup
    s = InverseSquareRootWithWarmupScheduler("10ba", "1ba", "20ba")
    assert value(s, "50ba", 9, ssr=0.5) == 9 / 10
    with pytest.raises(ScheduleError, match=r"t_scale=1ba is 0ba for this run"):
        value(s, "50ba", 10, ssr=0.5)
    with pytest.raises(ScheduleError, match="t_scale"):
        s.evaluate(timeline(range(20)), RunShape(Time(50, "ba")), 0.5)
    assert list(s.evaluate(timeline(range(5)), RunShape(Time(50, "ba")), 0.5)) == [0.0, 0.1, 0.2, 0.3, 0.4]
    # t_max in samples, t_cooldown in batches: LLM Foundry cannot subtract them, once warmup is over
    s = InverseSquareRootWithWarmupScheduler("10ba", "20ba", "30ba", t_max="1000sp")
    assert value(s, "100ba", 5) == 0.5
    with pytest.raises(
        ScheduleError, match=r"t_max=1000sp \(1000sp\), t_cooldown=30ba \(30ba\) must be in the same unit"
    ):
        value(s, "100ba", 10)


def test_inv_sqrt_zero_warmup_warns():
    with pytest.warns(UserWarning, match="warmup duration is 0"):
        assert value(InverseSquareRootWithWarmupScheduler("0ba", "20ba", "0ba"), "100ba", 0) == 1.0


# -- WarmupStableDecayScheduler -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("shape", "at_85"),
    [
        ("linear", 0.1 + 0.9 * (1 - 0.25)),  # tau = (85 - 80) / 20
        ("cosine", 0.1 + 0.9 * (1 + math.cos(math.pi * 0.25)) / 2),
        ("1-sqrt", 0.1 + 0.9 * (1 - math.sqrt(0.25))),  # = 0.55
    ],
)
def test_wsd_in_batches(shape, at_85):
    # warmup to 10, stable until 100 - 20 = 80, decay to 0.1 at 100
    s = WarmupStableDecayScheduler("10ba", "20ba", alpha_f=0.1, decay_shape=shape)
    assert value(s, "100ba", 0) == 0.0
    assert value(s, "100ba", 4) == 4 / 10
    assert value(s, "100ba", 10) == 1.0
    assert value(s, "100ba", 79) == 1.0
    assert value(s, "100ba", 80) == pytest.approx(1.0, abs=1e-15)  # tau = 0
    assert value(s, "100ba", 85) == pytest.approx(at_85, abs=1e-15)
    assert value(s, "100ba", 100) == 0.1
    assert value(s, "100ba", 130) == 0.1


def test_wsd_one_minus_sqrt_in_tokens():
    # 1000 tokens a batch; t_decay = 0.2dur = 200000tok, the decay from 800000tok
    s = WarmupStableDecayScheduler("20000tok", "0.2dur", decay_shape="1-sqrt")
    run = {"batch_size": 4, "seq_len": 250}
    assert value(s, "1000000tok", 10, **run) == 10000 / 20000
    assert value(s, "1000000tok", 500, **run) == 1.0
    assert value(s, "1000000tok", 900, **run) == pytest.approx(1 - math.sqrt(100000 / 200000), abs=1e-15)
    assert value(s, "1000000tok", 1000, **run) == 0.0


def test_wsd_in_samples_and_epochs():
    # 8 samples a batch: warmup 80sp = 10 batches, decay from 3200sp = batch 400
    s = WarmupStableDecayScheduler("80sp", "800sp", t_max="4000sp")
    assert value(s, "4000sp", 5, batch_size=8) == 40 / 80
    assert value(s, "4000sp", 450, batch_size=8) == 1.0 - (3600 - 3200) / 800
    # 10 batches an epoch: 1ep = 10ba, 2ep = 20ba, t_max = 1dur = 100ba
    s = WarmupStableDecayScheduler("1ep", "2ep")
    assert value(s, "10ep", 5, dataloader_len=10) == 0.5
    assert value(s, "10ep", 90, dataloader_len=10) == 1.0 - (90 - 80) / 20


def test_wsd_with_ssr_scales_the_decay_and_only_a_scaled_warmup():
    # ssr 0.5: max_duration 100ba; t_decay int(40 * 0.5) = 20, t_max int(200 * 0.5) = 100
    s = WarmupStableDecayScheduler("10ba", "40ba", t_max="200ba")
    assert value(s, "100ba", 5, ssr=0.5) == 5 / 10  # warmup unscaled: 10ba
    assert value(s, "100ba", 10, ssr=0.5) == 1.0
    assert value(s, "100ba", 90, ssr=0.5) == 1.0 - (90 - 80) / 20
    # scale_warmup: int(10 * 0.5) = 5
    s = WarmupStableDecayScheduler("10ba", "40ba", t_max="200ba", scale_warmup=True)
    assert value(s, "100ba", 2, ssr=0.5) == 2 / 5
    assert value(s, "100ba", 5, ssr=0.5) == 1.0
    # dur times are fractions of the scaled run: 0.2dur of 50ba = 10ba
    s = WarmupStableDecayScheduler("0ba", "0.2dur")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert value(s, "50ba", 45, ssr=0.5) == 1.0 - (45 - 40) / 10


def test_wsd_breakpoints():
    s = WarmupStableDecayScheduler("10ba", "20ba")
    points = s.breakpoints(s.resolve(RunShape(Time(100, "ba")), 1.0))
    assert [(p.label, p.time) for p in points] == [
        ("warmup end", Time(10, "ba")),
        ("decay start", Time(80, "ba")),
        ("t_max", Time(100, "ba")),
    ]


def test_wsd_errors():
    with pytest.raises(ScheduleError, match=r"decay_shape='exp' is not one of 'linear', 'cosine', '1-sqrt'"):
        WarmupStableDecayScheduler("10ba", "20ba", decay_shape="exp")
    with pytest.raises(ScheduleError, match="WarmupStableDecayScheduler: t_decay: invalid time string"):
        WarmupStableDecayScheduler("10ba", "20 batches")
    with pytest.raises(ScheduleError, match="alpha_f must be a finite number"):
        WarmupStableDecayScheduler("10ba", "20ba", alpha_f=float("nan"))
    with pytest.raises(
        ScheduleError,
        match=r"t_warmup=60ba \(60ba\) and t_decay=50ba \(50ba\) add up to more than t_max=1dur \(100ba\)",
    ):
        value(WarmupStableDecayScheduler("60ba", "50ba"), "100ba", 0)
    # fine at ssr 1; at ssr 0.5 the unscaled warmup (50) and the decay (25) overlap in a 50ba run
    s = WarmupStableDecayScheduler("50ba", "50ba")
    assert value(s, "100ba", 0) == 0.0
    with pytest.raises(ScheduleError, match=r"max_duration 50ba, ssr 0\.5"):
        value(s, "50ba", 0, ssr=0.5)
    with pytest.raises(
        ScheduleError, match=r"t_warmup=10ba \(10ba\), t_decay=1000tok \(1000tok\), t_max=1dur \(100ba\)"
    ):
        value(WarmupStableDecayScheduler("10ba", "1000tok"), "100ba", 0)
    with pytest.raises(ScheduleError, match=r"t_decay=1ba is 0ba for this run"):
        value(WarmupStableDecayScheduler("10ba", "1ba"), "50ba", 0, ssr=0.5)


# -- OneCycleScheduler ----------------------------------------------------------------------------
def torch_one_cycle(total_steps, **options):
    """The LRs a real OneCycleLR(max_lr=1) puts on an optimizer at steps 0 .. total_steps - 1."""
    torch = pytest.importorskip("torch")
    param = torch.nn.Parameter(torch.zeros(2))
    optimizer = torch.optim.SGD([param], lr=1.0, momentum=0.9)
    sched = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=1, total_steps=total_steps, **options)
    lrs = []
    for step in range(total_steps):
        lrs.append(optimizer.param_groups[0]["lr"])
        if step < total_steps - 1:
            param.grad = torch.ones_like(param)
            optimizer.step()
            sched.step()
    return lrs


@pytest.mark.parametrize("total_steps", [2, 7, 50, 101, 1000])
@pytest.mark.parametrize("pct_start", [0.0, 0.25, 0.3, 0.45, 1.0])
@pytest.mark.parametrize("anneal_strategy", ["cos", "linear"])
@pytest.mark.parametrize("three_phase", [False, True])
def test_one_cycle_matches_torch_step_for_step(total_steps, pct_start, anneal_strategy, three_phase):
    options = {"pct_start": pct_start, "anneal_strategy": anneal_strategy, "three_phase": three_phase}
    try:
        expected = torch_one_cycle(total_steps, **options)
    except ZeroDivisionError:
        expected = None  # a phase of length 0: torch divides by zero
    s = OneCycleScheduler(**options)
    shape = RunShape(Time(total_steps, "ba"))
    if expected is None:
        with pytest.raises(ScheduleError, match="OneCycleScheduler: the multiplier is nan"):
            s.evaluate(timeline(range(total_steps)), shape)
        return
    vector = s.evaluate(timeline(range(total_steps)), shape)
    scalars = [value(s, f"{total_steps}ba", i) for i in range(total_steps)]
    # the same operations in the same order: equal to the last bit on this machine
    assert np.max(np.abs(vector - expected)) <= 1e-15
    assert np.max(np.abs(np.asarray(scalars) - expected)) <= 1e-15


@pytest.mark.parametrize(("div_factor", "final_div_factor"), [(10.0, 100.0), (1.0, 1.0), (3.0, 1e6)])
def test_one_cycle_factors_match_torch(div_factor, final_div_factor):
    options = {"div_factor": div_factor, "final_div_factor": final_div_factor}
    expected = torch_one_cycle(64, **options)
    got = OneCycleScheduler(**options).evaluate(timeline(range(64)), RunShape(Time(64, "ba")))
    assert np.max(np.abs(got - expected)) <= 1e-15


def test_one_cycle_hand_computed():
    # N = 100: phase 1 ends at step 0.3 * 100 - 1 = 29, phase 2 at 99; 1/25 -> 1 -> 1/25/1e4
    # torch's cosine anneal: end + (start - end) / 2 * (cos(pi * pct) + 1)
    s = OneCycleScheduler()
    assert value(s, "100ba", 0) == 1.0 + (1 / 25.0 - 1.0) / 2.0 * (math.cos(0.0) + 1)  # 0.04 and a little
    assert value(s, "100ba", 29) == 1.0
    assert value(s, "100ba", 99) == pytest.approx(1 / 25.0 / 1e4, rel=1e-12)
    # cos, step 64: pct = (64 - 29) / (99 - 29) = 0.5, halfway between 1 and 4e-6
    assert value(s, "100ba", 64) == pytest.approx((1.0 + 4e-6) / 2, rel=1e-15)
    assert value(s, "100ba", 150) == value(s, "100ba", 99)  # held past the end
    # linear, step 10: pct = 10 / 29
    lin = OneCycleScheduler(anneal_strategy="linear")
    assert value(lin, "100ba", 10) == pytest.approx(0.04 + (1 - 0.04) * 10 / 29, rel=1e-15)
    # three phases: 0.04 -> 1 (step 29) -> 0.04 (step 2 * 30 - 2 = 58) -> 4e-6 (step 99)
    three = OneCycleScheduler(three_phase=True, anneal_strategy="linear")
    assert value(three, "100ba", 58) == pytest.approx(0.04, rel=1e-15)
    assert value(three, "100ba", 43) == pytest.approx(1 + (0.04 - 1) * (43 - 29) / (58 - 29), rel=1e-15)


def test_one_cycle_in_tokens_and_with_ssr():
    # in tokens: step = token count; N = 1dur = 100000tok, phase 1 ends at token 29999
    s = OneCycleScheduler(anneal_strategy="linear")
    run = {"batch_size": 4, "seq_len": 250}
    assert value(s, "100000tok", 15, **run) == pytest.approx(0.04 + 0.96 * 15000 / 29999, rel=1e-15)
    # t_max 1000ba at ssr 0.5: N = int(1000 * 0.5) = 500, phase 1 ends at step 149
    s = OneCycleScheduler(t_max="1000ba")
    expected = torch_one_cycle(500)
    assert value(s, "500ba", 0, ssr=0.5) == expected[0] == pytest.approx(0.04, abs=1e-15)
    assert value(s, "500ba", 149, ssr=0.5) == expected[149] == 1.0
    assert value(s, "500ba", 321, ssr=0.5) == pytest.approx(expected[321], abs=1e-15)


def test_one_cycle_breakpoints():
    s = OneCycleScheduler(three_phase=True)
    points = s.breakpoints(s.resolve(RunShape(Time(100, "ba")), 1.0))
    assert [(p.label, p.time) for p in points] == [
        ("warmup end", Time(29, "ba")),
        ("phase 2 end", Time(58, "ba")),
        ("t_max", Time(100, "ba")),
    ]


def test_one_cycle_errors():
    for pct_start in (-0.1, 1.5):
        with pytest.raises(ScheduleError, match=f"pct_start={pct_start}"):
            OneCycleScheduler(pct_start=pct_start)
    with pytest.raises(ScheduleError, match=r"anneal_strategy='cosine' is not one of 'cos', 'linear'"):
        OneCycleScheduler(anneal_strategy="cosine")
    with pytest.raises(ScheduleError, match=r"div_factor=0 must be greater than 0"):
        OneCycleScheduler(div_factor=0)
    with pytest.raises(ScheduleError, match=r"final_div_factor=-1 must be greater than 0"):
        OneCycleScheduler(final_div_factor=-1)
    with pytest.raises(ScheduleError, match=r"t_max=1ba is 0ba"):
        value(OneCycleScheduler(t_max="1ba"), "10ba", 0, ssr=0.5)
    # 0.1 * 10 - 1 = 0: a first phase of length 0, torch's ZeroDivisionError on construction
    with pytest.raises(ScheduleError, match="at batch 0"):
        value(OneCycleScheduler(pct_start=0.1), "10ba", 0)


# -- SequentialScheduler ---------------------------------------------------------------------------
def three_phases(continuous=False):
    # warmup 0 -> 1 over 10ba; cosine 1 -> 0.1 over 20ba; linear 0.5 -> 0 over half of its 10ba
    return SequentialScheduler(
        [
            (LinearScheduler(0.0, 1.0), "10ba"),
            {"scheduler": CosineAnnealingScheduler(alpha_f=0.1), "duration": "20ba"},
            (LinearScheduler(0.5, 0.0, t_max="0.5dur"), "10ba"),
        ],
        continuous=continuous,
    )


def test_sequential_in_batches():
    s = three_phases()
    assert value(s, "50ba", 3) == 3 / 10
    assert value(s, "50ba", 10) == 1.0  # phase 2 at its own t = 0: cos(0)
    assert value(s, "50ba", 20) == pytest.approx(0.1 + 0.9 * (1 + math.cos(math.pi * 10 / 20)) / 2, abs=1e-15)
    assert value(s, "50ba", 30) == 0.5  # phase 3 at t = 0
    assert value(s, "50ba", 32) == 0.5 + 2 / 5 * (0.0 - 0.5)  # t_max = 0.5dur of the phase's 10ba = 5ba
    assert value(s, "50ba", 36) == 0.0
    assert value(s, "50ba", 49) == 0.0  # the last phase's end value holds


def test_sequential_holds_the_last_phase_at_its_end():
    # the last phase ends at batch 10 with t = 10ba: linear 1 -> 0 over 20ba is at 0.5 there
    s = SequentialScheduler([(LinearScheduler(1.0, 0.0, t_max="20ba"), "10ba")])
    assert value(s, "30ba", 9) == 1 - 9 / 20
    assert value(s, "30ba", 10) == 1 - 10 / 20
    assert value(s, "30ba", 29) == 1 - 10 / 20


def test_sequential_continuous_starts_each_phase_where_the_last_ended():
    s = three_phases(continuous=True)
    # phase 2: ends of phase 1 (1.0) / start of phase 2 (1.0) = 1; phase 3: end of phase 2
    # (cos(pi) -> 0.1) / start of phase 3 (0.5) = 0.2
    assert value(s, "50ba", 10) == 1.0
    assert value(s, "50ba", 30) == pytest.approx(0.1, abs=1e-15)
    assert value(s, "50ba", 32) == pytest.approx((0.5 + 2 / 5 * (0.0 - 0.5)) * (0.1 / 0.5), abs=1e-15)
    # a phase that starts at 0 cannot be scaled to start anywhere else: it is left as it is
    s = SequentialScheduler([(ConstantScheduler(0.5, "1dur"), "10ba"), (LinearScheduler(0.0, 1.0), "10ba")], True)
    assert value(s, "20ba", 15) == 5 / 10


def test_sequential_mixed_units_each_phase_from_its_first_batch():
    # 4 samples of 10 tokens: 40 tokens a batch. Phase 1 lasts 100tok: ceil(100 / 40) = 3 batches
    s = SequentialScheduler([(LinearScheduler(0.0, 1.0), "100tok"), (LinearScheduler(1.0, 0.0, t_max="7ba"), "7ba")])
    run = {"batch_size": 4, "seq_len": 10}
    assert value(s, "20ba", 2, **run) == 80 / 100  # t_max = 1dur of the phase = 100tok
    assert value(s, "20ba", 3, **run) == 1.0
    assert value(s, "20ba", 5, **run) == 1.0 - 2 / 7
    # tokens counted from the phase's first batch: phase 2 starts at batch 5, token 200
    s = SequentialScheduler([(ConstantScheduler(1.0), "5ba"), (LinearScheduler(1.0, 0.0, t_max="400tok"), "20ba")])
    assert value(s, "25ba", 7, **run) == 1.0 - (280 - 200) / 400
    # samples: phase 1 lasts 10sp = ceil(10 / 4) = 3 batches; phase 2 reads samples from sample 12
    s = SequentialScheduler([(ConstantScheduler(1.0), "10sp"), (LinearScheduler(1.0, 0.0, t_max="40sp"), "10ba")])
    assert value(s, "25ba", 5, **run) == 1.0 - (20 - 12) / 40


def test_sequential_epochs_counted_from_the_phase_start():
    # 4 batches an epoch; phase 2 starts at batch 6, in epoch 1
    def halves_each_epoch(state):
        return 0.5 ** int(state.timestamp.epoch)

    s = SequentialScheduler([(ConstantScheduler(1.0), "6ba"), (halves_each_epoch, "2ep")])
    assert value(s, "4ep", 7, dataloader_len=4) == 1.0  # epoch 1 - 1 = 0
    assert value(s, "4ep", 8, dataloader_len=4) == 0.5  # epoch 2 - 1 = 1
    # StepScheduler counts epochs in batches: 1ep = 4 batches from batch 6
    s = SequentialScheduler([(ConstantScheduler(1.0), "6ba"), (StepScheduler("1ep", 0.5), "2ep")])
    assert value(s, "4ep", 9, dataloader_len=4) == 1.0
    assert value(s, "4ep", 10, dataloader_len=4) == 0.5


def test_sequential_durations_in_dur_and_with_ssr():
    s = SequentialScheduler([(ConstantScheduler(0.5), "0.25dur"), (ConstantScheduler(0.25), "0.75dur")])
    # ConstantScheduler holds alpha for its t_max = 1dur of the phase, then 1.0
    assert value(s, "100ba", 24) == 0.5
    assert value(s, "100ba", 25) == 0.25
    # ssr 0.5: the scaled 50ba run; int(0.25 * 50) = 12 batches, not scaled again
    assert value(s, "50ba", 11, ssr=0.5) == 0.5
    assert value(s, "50ba", 12, ssr=0.5) == 0.25
    # durations in ba are scaled: int(20 * 0.5) = 10; so are the phases' own times: int(40 * 0.5) = 20
    s = SequentialScheduler([(LinearScheduler(0.0, 1.0), "20ba"), (LinearScheduler(1.0, 0.0, t_max="40ba"), "40ba")])
    assert value(s, "30ba", 5, ssr=0.5) == 5 / 10
    assert value(s, "30ba", 15, ssr=0.5) == 1.0 - 5 / 20


def test_sequential_custom_phases_are_called_through_a_state():
    seen = []

    def ramp(state, ssr):
        seen.append((str(state.max_duration), int(state.timestamp.batch), ssr))
        return int(state.timestamp.batch) / 10

    s = SequentialScheduler([(ConstantScheduler(1.0), "5ba"), (ramp, "20ba")])
    got = s.evaluate(timeline(range(8)), RunShape(Time(25, "ba"), batch_size=1, seq_len=1), 1.0)
    assert list(got) == [1.0] * 5 + [0.0, 0.1, 0.2]
    assert seen == [("20ba", 0, 1.0), ("20ba", 1, 1.0), ("20ba", 2, 1.0)]


def test_sequential_breakpoints_in_batches():
    s = SequentialScheduler(
        [
            (CosineAnnealingWithWarmupScheduler("5ba"), "20ba"),
            (LinearWithWarmupScheduler("100tok", t_max="400tok"), "10ba"),
        ]
    )
    shape = RunShape(Time(30, "ba"), batch_size=4, seq_len=10)
    points = s.breakpoints(s.resolve(shape, 1.0))
    # 100tok at 40 tokens a batch: 3 batches into phase 2
    assert [(p.label, p.time) for p in points] == [
        ("phase 1 warmup end", Time(5, "ba")),
        ("phase 2 start", Time(20, "ba")),
        ("phase 2 warmup end", Time(23, "ba")),
    ]


def test_sequential_through_the_simulator_in_tokens_in_both_modes():
    s = SequentialScheduler([(LinearScheduler(0.0, 1.0), "1000tok"), (CosineAnnealingScheduler(), "0.5dur")])
    run = Run(Time(4000, "tok"), (s,), batch_size=10, seq_len=10)  # 100 tokens a batch, 40 batches
    rows = collect(simulate(run))
    assert rows["multiplier"][5] == 500 / 1000
    assert rows["multiplier"][10] == 1.0  # phase 2 at its own t = 0
    assert rows["multiplier"][20] == pytest.approx(0.5, abs=1e-15)  # 1000tok of the phase's 2000tok
    trainer = collect(simulate(run, mode="trainer"))
    assert list(trainer["multiplier"][1:]) == list(rows["multiplier"][:-1])
    assert [(bp.label, batch) for bp, batch in plan(run).breakpoints] == [("phase 2 start", 10)]


def test_sequential_errors():
    with pytest.raises(ScheduleError, match="SequentialScheduler: phases must be a non-empty list"):
        SequentialScheduler([])
    with pytest.raises(ScheduleError, match=r"phases\[0\] must be a \(scheduler, duration\) pair"):
        SequentialScheduler([LinearScheduler()])
    with pytest.raises(ScheduleError, match=r"phases\[0\] has unknown keys \['length'\]"):
        SequentialScheduler([{"scheduler": LinearScheduler(), "length": "10ba"}])
    with pytest.raises(ScheduleError, match=r"phases\[0\] lacks \['duration'\]"):
        SequentialScheduler([{"scheduler": LinearScheduler()}])
    with pytest.raises(ScheduleError, match=r"phases\[1\]: the scheduler must be a scheduler"):
        SequentialScheduler([(LinearScheduler(), "10ba"), ("linear", "10ba")])
    with pytest.raises(ScheduleError, match=r"phases\[0\].duration: invalid time string"):
        SequentialScheduler([(LinearScheduler(), "10 batches")])
    with pytest.raises(ScheduleError, match=r"phases\[0\]: duration 10sec must be a positive time"):
        SequentialScheduler([(LinearScheduler(), "10sec")])
    s = SequentialScheduler([(LinearScheduler(), "1ba"), (LinearScheduler(), "10ba")])
    with pytest.raises(ScheduleError, match=r"phases\[0\].duration=1ba is 0ba for this run"):
        value(s, "10ba", 0, ssr=0.5)
    s = SequentialScheduler([(LinearScheduler(), "1ep")])
    with pytest.raises(ScheduleError, match=r"phases\[0\].duration 1ep to batches without dataloader_len"):
        value(s, "10ba", 0)
    # a phase in samples needs the run's batch size, which a State need not carry
    s = SequentialScheduler([(LinearScheduler(), "100sp"), (LinearScheduler(), "10ba")])
    with pytest.raises(ScheduleError, match=r"phases\[0\].duration=100sp is 100sp.*batch_size"):
        s(State("1000sp", timestamp=Timestamp(batch=1, sample=16)))
    # ... and so does a phase after the first that reads samples
    s = SequentialScheduler([(LinearScheduler(), "2ba"), (LinearScheduler(t_max="100sp"), "10ba")])
    assert s(State("10ba", timestamp=Timestamp(batch=1, sample=16))) == 0.5
    with pytest.raises(ScheduleError, match=r"phases\[1\] \(LinearScheduler\) reads time in 'sp'.*batch_size"):
        s(State("10ba", timestamp=Timestamp(batch=3, sample=48)))
    # errors of a phase's scheduler say which phase
    s = SequentialScheduler([(LinearScheduler(), "10ba"), (CosineAnnealingScheduler(t_max="1ba"), "10ba")])
    with pytest.raises(ScheduleError, match=r"SequentialScheduler: phases\[1\]: CosineAnnealingScheduler: t_max=1ba"):
        value(s, "20ba", 0, ssr=0.5)
    # a custom phase without ssr, at ssr != 1; a custom phase that raises
    s = SequentialScheduler([(lambda state: 1.0, "10ba")])
    with pytest.raises(ScheduleError, match="does not support a scale schedule ratio"):
        value(s, "10ba", 0, ssr=0.5)

    def broken(state):
        return {}["missing"]

    with pytest.raises(ScheduleError, match=r"phases\[0\] \(.*broken\) raised KeyError: 'missing' at batch 0"):
        value(SequentialScheduler([(broken, "10ba")]), "10ba", 0)
    with pytest.raises(ScheduleError, match=r"phases\[0\] \(.*\) returned 'x' at batch 0"):
        value(SequentialScheduler([(lambda state: "x", "10ba")]), "10ba", 0)


# -- RunShape and State: batch and sequence sizes -----------------------------------------------
def test_run_shape_stays_backward_compatible_and_reads_sizes_from_a_state():
    assert RunShape(Time(10, "ep"), 5) == RunShape(Time(10, "ep"), 5, None, None)
    assert RunShape.of(State("10ba")) == RunShape(Time(10, "ba"))
    assert RunShape.of(State("10ba", 4, batch_size=8, seq_len=2)) == RunShape(Time(10, "ba"), 4, 8, 2)
    shape = RunShape(Time(10, "ba"), 4, 8, 2)
    assert [shape.first_batch_reaching(Time(v, u)) for v, u in [(3, "ba"), (9, "sp"), (32, "tok"), (2, "ep")]] == [
        3,
        2,  # ceil(9 / 8)
        2,  # ceil(32 / 16)
        8,
    ]
    assert [shape.counter_at(u, 6) for u in ("ep", "ba", "sp", "tok")] == [1, 6, 48, 96]
    assert RunShape(Time(10, "ba")).first_batch_reaching(Time(9, "sp")) is None
    with pytest.raises(ValueError, match="batch_size must be a whole number"):
        State("10ba", batch_size=0)


def test_the_simulator_gives_schedulers_the_run_sizes(run_factory):
    run = run_factory("100ba", LinearScheduler(), dataloader_len=10, batch_size=4, seq_len=3)
    assert run.shape(0.5) == RunShape(Time(50, "ba"), 10, 4, 3)
    assert plan(run, 0.5).shape == RunShape(Time(50, "ba"), 10, 4, 3)


# -- vectorized == scalar, for all four ---------------------------------------------------------------
@st.composite
def runs(draw):
    """(max_duration, dataloader_len, batch_size, seq_len) of a run in any unit, about 1 to 300 batches."""
    unit = draw(st.sampled_from(["ba", "ep", "sp", "tok"]))
    dataloader_len = draw(st.integers(1, 40))
    batch_size = draw(st.integers(1, 16))
    seq_len = draw(st.integers(1, 64))
    per_batch = {"ba": 1, "sp": batch_size, "tok": batch_size * seq_len}
    length = draw(st.integers(1, 8)) if unit == "ep" else draw(st.integers(1, 300)) * per_batch[unit]
    return Time(length, unit), dataloader_len, batch_size, seq_len


def times(units=("ba", "sp", "tok", "ep", "dur"), low=0, high=200, per_batch=None):
    """Time strings in one of ``units``: ``low`` to ``high`` batches' worth (``per_batch`` samples
    or tokens a batch), or ``high / 200`` of the run at most."""
    per_batch = per_batch or {"sp": 8, "tok": 256}

    def make(unit):
        if unit == "dur":
            return st.floats(low / 100, high / 200 * 1.2, allow_nan=False).map(lambda v: f"{v!r}dur")
        if unit == "ep":
            return st.integers(low, max(low, high // 40)).map(lambda v: f"{v}ep")
        return st.integers(low, high).map(lambda v: f"{v * per_batch.get(unit, 1)}{unit}")

    return st.sampled_from(units).flatmap(make)


def inner_schedulers(t=None, t_positive=None):
    t = times() if t is None else t
    t_positive = times(low=1) if t_positive is None else t_positive
    return st.one_of(
        st.builds(LinearScheduler, st.floats(0, 2), st.floats(0, 2), t_positive),
        st.builds(CosineAnnealingScheduler, t_positive, st.floats(0, 1)),
        st.builds(StepScheduler, t_positive, st.floats(0.1, 1)),
        st.builds(MultiStepScheduler, st.lists(t, max_size=3)),
        st.builds(ExponentialScheduler, st.floats(0.5, 1), t_positive),
        st.builds(CosineAnnealingWithWarmupScheduler, t, st.just("1dur"), st.floats(0, 1)),
        st.builds(WarmupStableDecayScheduler, t, t_positive, st.just("1dur"), st.floats(0, 1)),
    )


def extra_schedulers(run):
    """Any of the four, with times mostly in the run's own unit (so that most are accepted)."""
    max_duration, _, batch_size, seq_len = run
    per_batch = {"sp": batch_size, "tok": batch_size * seq_len}
    unit = max_duration.unit.value
    own = times(units=(unit,), per_batch=per_batch)
    some = times(units=(unit, unit, "dur", "ba"), per_batch=per_batch)
    short = times(units=(unit, unit, "dur"), high=60, per_batch=per_batch)
    short_positive = times(units=(unit, unit, "dur"), low=1, high=60, per_batch=per_batch)
    some_positive = times(units=(unit, "dur", "ba", "sp", "tok"), low=1, per_batch=per_batch)
    return st.one_of(
        st.builds(
            InverseSquareRootWithWarmupScheduler,
            own,
            own,
            own,
            st.one_of(st.just("1dur"), own),
            st.floats(0.5, 1),
            st.floats(0, 0.5),
        ),
        st.builds(
            WarmupStableDecayScheduler,
            short,
            short_positive,
            st.one_of(st.just("1dur"), some),
            st.floats(0, 1),
            st.sampled_from(["linear", "cosine", "1-sqrt"]),
            st.booleans(),
        ),
        st.builds(
            OneCycleScheduler,
            st.one_of(st.just("1dur"), some_positive),
            st.floats(0, 1),
            st.sampled_from(["cos", "linear"]),
            st.floats(1, 50),
            st.floats(1, 1e4),
            st.booleans(),
        ),
        st.builds(
            SequentialScheduler,
            st.lists(st.tuples(inner_schedulers(some, some_positive), some_positive), min_size=1, max_size=4),
            st.booleans(),
        ),
    )


@SETTINGS
@given(
    data=st.data(),
    run=runs(),
    ssr=st.one_of(st.sampled_from([1.0, 0.5, 2.0]), st.floats(0.1, 3.0)),
    batches=st.lists(st.integers(0, 700), min_size=1, max_size=30),
)
def test_vectorized_path_equals_scalar_path(data, run, ssr, batches):
    scheduler = data.draw(extra_schedulers(run))
    max_duration, dataloader_len, batch_size, seq_len = run
    max_duration = Time(max(1, int(max_duration.value * ssr)), max_duration.unit)  # as the Trainer scales it
    b = sorted(set(batches))
    line = timeline(b, dataloader_len, batch_size, seq_len)
    shape = RunShape(max_duration, dataloader_len, batch_size, seq_len)
    vector, vector_error = outcome(lambda: scheduler.evaluate(line, shape, ssr))
    scalars = [
        outcome(
            lambda i=i: scheduler(
                State(max_duration, dataloader_len, line.timestamp(i), batch_size=batch_size, seq_len=seq_len), ssr
            )
        )
        for i in range(len(b))
    ]
    scalar_errors = {error for _, error in scalars if error is not None}
    event(f"{type(scheduler).__name__}: {vector_error.__name__ if vector_error else 'values'}")
    if vector_error is not None:
        assert scalar_errors == {vector_error}
        return
    assert not scalar_errors
    assert vector.dtype == np.float64 and vector.shape == (len(b),)
    assert np.all(np.isfinite(vector))
    for i, (scalar, _) in enumerate(scalars):
        assert isinstance(scalar, float)
        assert abs(vector[i] - scalar) <= 1e-12, (i, b[i], vector[i], scalar)


@SETTINGS
@given(
    inner=st.lists(st.tuples(inner_schedulers(), times(units=("ba",), low=1)), min_size=1, max_size=4),
    batch=st.integers(0, 1000),
)
def test_sequential_phase_k_is_its_scheduler_shifted_to_its_start(inner, batch):
    """In batches, phase k at batch b is its own scheduler at batch b - s_k of a run of d_k batches."""
    s = SequentialScheduler(inner)
    total = sum(int(Time.from_timestring(d).value) for _, d in inner)
    got, error = outcome(lambda: value(s, f"{total}ba", batch))
    # every phase is placed on the run (its times converted, checked) before any is evaluated
    for scheduler, duration in inner:
        _, resolve_error = outcome(lambda: scheduler.resolve(RunShape(Time.from_timestring(duration)), 1.0))  # noqa: B023
        if resolve_error is not None:
            event("shifted: a phase rejected")
            assert error is not None
            return
    start = 0
    for k, (scheduler, duration) in enumerate(inner):
        length = int(Time.from_timestring(duration).value)
        last = k == len(inner) - 1
        if batch < start + length or last:
            own = min(batch - start, length)  # the last phase holds at its end
            expected, expected_error = outcome(lambda: value(scheduler, f"{length}ba", own))  # noqa: B023
            break
        start += length
    event(f"shifted: {expected_error.__name__ if expected_error else 'values'}")
    if expected_error is not None:
        assert error is not None
        return
    assert error is None
    assert abs(got - expected) <= 1e-12
