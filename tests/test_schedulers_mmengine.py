"""MMEngine's chained parameter schedulers: hand-computed LRs, iteration by iteration.

Each expected list is worked out by hand from MMEngine's rules (every scheduler steps once when
built, then after each iteration or epoch, acting on the LR the previous one left); the
differential test against the real package is tests/test_against_mmengine.py.
"""

from __future__ import annotations

import math

import pytest

from sched_cli.schedulers.base import RunShape, ScheduleError
from sched_cli.schedulers.mmengine import MMEngineParamSchedulers, parse_param_schedulers
from sched_cli.simulator import Run, collect, simulate
from sched_cli.time import Time


def lrs(param_scheduler, *, lr=1.0, loop="iter", iters=None, epochs=None, length=None, ssr=1.0, mode="formula"):
    """The LR of every iteration, through the simulator as `sched export` computes it."""
    scheduler = MMEngineParamSchedulers(param_scheduler, lr=lr, train_loop=loop)
    md = Time.from_input(f"{epochs}ep" if loop == "epoch" else f"{iters}ba")
    run = Run(md, (scheduler,), dataloader_len=length, lr=lr, trainer="mmengine")
    return collect(simulate(run, ssr, mode=mode))["lr"].tolist()


def test_linear_warmup_reaches_full_lr_one_iteration_before_end():
    # total_iters = end - begin - 1 = 3: factors 1/4, then 1 + 3/4 / (3/4 + (t-1) 3/4).
    got = lrs([dict(type="LinearLR", start_factor=0.25, by_epoch=False, begin=0, end=4)], iters=6)
    assert got == pytest.approx([0.25, 0.5, 0.75, 1.0, 1.0, 1.0], rel=1e-15)


def test_constant_lr_restores_at_end_minus_one():
    got = lrs([dict(type="ConstantLR", factor=0.5, by_epoch=False, end=3)], iters=5)
    assert got == [0.5, 0.5, 1.0, 1.0, 1.0]


def test_mmposes_constant_lr_takes_a_factor_above_one():
    # MMPose registers its own ConstantLR (the same steps, no range check on factor): x2.5 until end - 1.
    boost = dict(type="ConstantLR", factor=2.5, by_epoch=False, end=3)
    assert lrs([{**boost, "_scope_": "mmpose"}], iters=5) == [2.5, 2.5, 1.0, 1.0, 1.0]
    assert lrs([{**boost, "type": "mmpose.ConstantLR"}], iters=5) == [2.5, 2.5, 1.0, 1.0, 1.0]
    with pytest.raises(ScheduleError, match="between 0 and 1"):  # MMEngine's own raises
        parse_param_schedulers([boost])


def test_mmdet_warmup_then_multistep_by_epoch():
    # 4 iterations per epoch; warmup over iterations 0-2; x0.1 once epoch 2 begins.
    got = lrs(
        [
            dict(type="LinearLR", start_factor=0.5, by_epoch=False, begin=0, end=3),
            dict(type="MultiStepLR", milestones=[2], gamma=0.1, by_epoch=True, begin=0, end=3),
        ],
        loop="epoch",
        epochs=3,
        length=4,
    )
    assert got == pytest.approx([0.5, 0.75, 1.0, 1.0] + [1.0] * 4 + [0.1] * 4, rel=1e-15)


def test_cosine_towards_eta_min_matches_the_closed_form_when_alone():
    got = lrs([dict(type="CosineAnnealingLR", eta_min=0.2, by_epoch=False)], iters=4)
    want = [0.2 + 0.8 * (1 + math.cos(math.pi * t / 4)) / 2 for t in range(4)]
    assert got == pytest.approx(want, rel=1e-14)


def test_cosine_past_t_max_climbs_back_by_mmengine_recursion():
    # T_max 2 inside a window of 8: down to 0 at t=2, the additive step at t=3, then up again.
    got = lrs([dict(type="CosineAnnealingLR", T_max=2, by_epoch=False, end=8)], iters=7)
    assert got == pytest.approx([1.0, 0.5, 0.0, 0.5, 1.0, 0.5, 0.0], abs=1e-15)


def test_chained_schedulers_act_in_list_order():
    exp = dict(type="ExponentialLR", gamma=0.5, by_epoch=False)
    poly = dict(type="PolyLR", eta_min=0.1, power=1.0, by_epoch=False, end=3)
    # exp then poly: 1; 0.5 -> (0.5-0.1)/2+0.1 = 0.3; 0.15 -> 0.1; 0.05 (poly's window is over)
    assert lrs([exp, poly], iters=4) == pytest.approx([1.0, 0.3, 0.1, 0.05], rel=1e-15)
    # poly then exp: 1; (0.9/2+0.1)/2 = 0.275; 0.1/2 = 0.05; 0.025
    assert lrs([poly, exp], iters=4) == pytest.approx([1.0, 0.275, 0.05, 0.025], rel=1e-15)


def test_epoch_schedulers_step_after_the_iteration_ones_whatever_the_list_order():
    # ExponentialLR by epoch is listed first, but after an epoch's last iteration the hook steps
    # the iteration-based PolyLR first (after_train_iter), then it (after_train_epoch).
    got = lrs(
        [
            dict(type="ExponentialLR", gamma=0.5, by_epoch=True),
            dict(type="PolyLR", eta_min=0.2, power=1.0, by_epoch=False),
        ],
        loop="epoch",
        epochs=2,
        length=2,
    )
    it1 = (1 - 0.2) * (1 - 1 / 3) + 0.2
    it2 = ((it1 - 0.2) * (1 - 1 / 2) + 0.2) * 0.5
    it3 = (it2 - 0.2) * 0 + 0.2
    assert got == pytest.approx([1.0, it1, it2, it3], rel=1e-15)
    assert it2 != pytest.approx(((it1 * 0.5) - 0.2) * 0.5 + 0.2)  # list order would differ


def test_epoch_based_scheduler_in_an_iteration_loop_steps_only_when_built():
    # by_epoch defaults to true; in an IterBasedTrainLoop its end defaults to max_epochs = 1.
    with pytest.warns(UserWarning, match="steps only when built"):
        assert lrs([dict(type="LinearLR", start_factor=0.1)], iters=5) == [0.1] * 5


def test_convert_to_iter_based_spreads_epochs_over_iterations():
    cosine = dict(type="CosineAnnealingLR", by_epoch=True)
    by_epoch = lrs([cosine], loop="epoch", epochs=2, length=2)
    converted = lrs([{**cosine, "convert_to_iter_based": True}], loop="epoch", epochs=2, length=2)
    assert by_epoch == pytest.approx([1.0, 1.0, 0.5, 0.5])
    assert converted == pytest.approx([(1 + math.cos(math.pi * i / 4)) / 2 for i in range(4)], rel=1e-14)


def test_a_fraction_of_an_epoch_converted_to_iterations():
    # MMAction2's Swin recipes warm up over end=2.5 epochs with convert_to_iter_based: int(2.5 x 4) = 10
    # iterations, total_iters = 10 - 0 - 1 = 9: factor 0.1 + 0.9 t / 9 while t < 9, then 1.
    warmup = dict(type="LinearLR", start_factor=0.1, by_epoch=True, begin=0, end=2.5, convert_to_iter_based=True)
    got = lrs([warmup], loop="epoch", epochs=3, length=4)
    assert got == pytest.approx([0.1 + 0.9 * t / 9 for t in range(9)] + [1.0] * 3, rel=1e-14)
    with pytest.raises(ScheduleError, match="end"):  # without the conversion MMEngine steps whole epochs
        parse_param_schedulers([{**warmup, "convert_to_iter_based": False}])


def test_begin_window_counts_steps_from_begin():
    # StepLR from iteration 2: its own step t = g - 2, decays at t = 2, 4.
    got = lrs([dict(type="StepLR", step_size=2, gamma=0.5, by_epoch=False, begin=2)], iters=8)
    assert got == [1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.25, 0.25]


def test_multistep_repeated_milestone_applies_gamma_squared():
    got = lrs([dict(type="MultiStepLR", milestones=[2, 2], gamma=0.5, by_epoch=False)], iters=4)
    assert got == [1.0, 1.0, 0.25, 0.25]


def test_one_cycle_sets_the_lr_from_eta_max_whatever_the_optimizer_lr():
    got = lrs([dict(type="OneCycleLR", eta_max=1.0, by_epoch=False)], lr=0.5, iters=10)
    initial, final = 1.0 / 25, 1.0 / 25 / 1e4
    up = [1.0 + (initial - 1.0) / 2 * (math.cos(math.pi * t / 2) + 1) for t in range(3)]
    down = [final + (1.0 - final) / 2 * (math.cos(math.pi * (t - 2) / 7) + 1) for t in range(3, 10)]
    assert got == pytest.approx(up + down, rel=1e-14)
    assert got[0] == pytest.approx(initial) and got[2] == 1.0 and got[-1] == pytest.approx(final)


def test_cosine_restart_restarts_at_weighted_base():
    got = lrs(
        [dict(type="CosineRestartLR", periods=[2, 2], restart_weights=[1, 0.5], eta_min=0, by_epoch=False)],
        iters=5,
    )
    assert got == pytest.approx([1.0, 0.5, 0.5, 0.25, 0.25], abs=1e-15)


def test_trainer_mode_is_the_formula():
    config = [dict(type="LinearLR", start_factor=0.5, by_epoch=False, end=3)]
    assert lrs(config, iters=4, mode="trainer") == lrs(config, iters=4)


def test_ssr_scales_epochs_and_milestones():
    # 12 epochs with milestones 8 and 11 at ssr 0.5: 6 epochs, milestones 4 and 5.
    config = [dict(type="MultiStepLR", milestones=[8, 11], gamma=0.1, by_epoch=True)]
    got = lrs(config, loop="epoch", epochs=12, length=1, ssr=0.5)
    assert got == pytest.approx([1, 1, 1, 1, 0.1, 0.01], rel=1e-15)


def test_scalar_call_equals_the_timeline():
    from sched_cli.state import State
    from sched_cli.time import Timestamp

    scheduler = MMEngineParamSchedulers([dict(type="LinearLR", by_epoch=False, end=4)], lr=2.0, train_loop="iter")
    state = State("6ba", None, Timestamp(batch=2))
    assert scheduler(state) == pytest.approx((1 / 3) * (1 + (2 / 3) / (3 / 3)) * (1 + (2 / 3) / (1 + 2 / 3)))


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (dict(type="ReduceOnPlateauLR"), "validation metric"),
        (dict(type="LinerLR"), "did you mean 'LinearLR'"),
        (dict(type="LinearLR", start=0.1), "has no argument 'start'"),
        (dict(type="StepLR"), "step_size: is required"),
        (dict(type="LinearLR", start_factor=1.5), "between 0 and 1"),
        (dict(type="CosineAnnealingLR", eta_min=0.1, eta_min_ratio=0.1), "not both"),
        (dict(type="OneCycleLR", eta_max=1, pct_start=0), "float"),
        (dict(type="MultiStepLR", milestones=[1], by_epoch=False, convert_to_iter_based=True), "epoch-based"),
        (dict(type="LinearLR", last_step=3), "resuming"),
    ],
)
def test_configs_mmengine_rejects_are_rejected(config, message):
    with pytest.raises(ScheduleError, match=message):
        parse_param_schedulers([config])


def test_errors_mmengine_raises_while_training():
    with pytest.raises(ScheduleError, match="divides by zero"):
        lrs([dict(type="LinearLR", start_factor=0.0, by_epoch=False, end=5)], iters=5)
    with pytest.raises(ScheduleError, match="past total_steps=4"):
        lrs([dict(type="OneCycleLR", eta_max=1.0, total_steps=4, by_epoch=False)], iters=6)
    with pytest.raises(ScheduleError, match="end .* must be larger than begin"):
        lrs([dict(type="LinearLR", by_epoch=False, begin=5, end=5)], iters=6)


def test_momentum_schedulers_are_skipped():
    configs = parse_param_schedulers(
        [dict(type="CosineAnnealingMomentum"), dict(type="LinearParamScheduler", param_name="weight_decay")]
    )
    assert configs == []
    assert [c.type for c in parse_param_schedulers(dict(type="mmengine.LinearParamScheduler"))] == ["LinearLR"]


def test_pure_factor_chains_multiply_in_mmengine_order_bit_for_bit():
    # The warmup factors multiplied one by one in Python, as MMEngine does.
    s, total = 0.001, 499
    lr, want = 0.02 * s, [0.02 * s]
    for t in range(1, 500):
        lr = lr * (1.0 + (1.0 - s) / (total * s + (t - 1) * (1.0 - s)))
        want.append(lr)
    scheduler = MMEngineParamSchedulers(
        [dict(type="LinearLR", start_factor=s, by_epoch=False, end=500)], lr=0.02, train_loop="iter"
    )
    replayed = scheduler.resolve(RunShape(Time.from_input("500ba")), 1.0).lr
    assert replayed[:500].tolist() == want
    # The lr column is the replayed LR itself.
    column = lrs([dict(type="LinearLR", start_factor=s, by_epoch=False, end=500)], lr=0.02, iters=500)
    assert column == want


def test_trainer_mode_at_an_ssr_replays_only_the_scaled_run():
    # OneCycleLR's total_steps scales with the run: the unscaled run must not be replayed too.
    config = [dict(type="OneCycleLR", eta_max=0.1, total_steps=1000, by_epoch=False)]
    scaled = lrs(config, lr=0.01, iters=1000, ssr=0.5, mode="trainer")
    assert len(scaled) == 500 and scaled == lrs(config, lr=0.01, iters=1000, ssr=0.5)
    assert scaled[0] == 0.1 + (0.1 / 25 - 0.1) / 2.0 * 2  # MMEngine's arithmetic: 0.0040000000000000036


def test_breakpoints_mark_the_warmup_end_one_step_before_end_and_the_milestones():
    from sched_cli.simulator import plan

    scheduler = MMEngineParamSchedulers(
        [
            dict(type="LinearLR", start_factor=0.001, by_epoch=False, end=500),
            dict(type="MultiStepLR", milestones=[8, 11], by_epoch=True, begin=1),
        ],
        lr=0.02,
    )
    run = Run(Time.from_input("12ep"), (scheduler,), dataloader_len=1000, lr=0.02, trainer="mmengine")
    marks = [(bp.label, batch) for bp, batch in plan(run).breakpoints]
    # Milestones count from begin (epoch 1): 9 and 12, the end of the run, which is not marked.
    assert marks == [
        ("warmup end", 499),
        ("MultiStepLR begins", 1000),
        ("milestone", 9000),
    ]


def test_notes_for_configs_that_run_but_not_as_meant():
    scheduler = MMEngineParamSchedulers(
        [
            dict(type="LinearLR", start_factor=0.1),  # by_epoch defaults to true
            dict(type="CosineAnnealingLR", by_epoch=False, begin=2000, end=3000),
        ],
        lr=1.0,
        train_loop="iter",
    )
    with pytest.warns(UserWarning) as caught:
        scheduler.resolve(RunShape(Time.from_input("1000ba")), 1.0)
    messages = [str(w.message) for w in caught]
    assert any("param_scheduler[0] LinearLR is epoch-based" in m and "steps only when built" in m for m in messages)
    assert any("param_scheduler[1] CosineAnnealingLR begins at 2000" in m for m in messages)


# -- schedulers registered by downstream packages ----------------------------------------------------
def test_quadratic_warmup_reaches_the_base_lr_one_step_before_end():
    # MMDetection's QuadraticWarmupLR, T = end - begin = 4: b/16 at t=0, then + b(2t+1)/16:
    # 1/16, 4/16, 9/16, 16/16 = (t+1)^2 / T^2; after end it leaves the LR alone.
    got = lrs([dict(type="mmdet.QuadraticWarmupLR", by_epoch=False, end=4)], iters=6, lr=2.0)
    assert got == pytest.approx([2 / 16, 8 / 16, 18 / 16, 2.0, 2.0, 2.0], rel=1e-15)


def test_quadratic_warmup_needs_a_finite_end():
    with pytest.raises(ScheduleError, match="end must be less than infinity"):
        lrs([dict(type="QuadraticWarmupLR", by_epoch=False, end=10**9)], iters=3)


def test_poly_lr_ratio_decays_towards_a_fraction_of_the_base():
    # MMSegmentation's PolyLRRatio: eta_min = 0.1 x base; T = end - begin - 1 = 2, power 1:
    # t=1: (1 - 0.1) (1 - 1/2) + 0.1 = 0.55; t=2: (0.55 - 0.1) x 0 + 0.1 = 0.1.
    got = lrs([dict(type="PolyLRRatio", eta_min_ratio=0.1, power=1.0, by_epoch=False, end=3)], iters=4)
    assert got == pytest.approx([1.0, 0.55, 0.1, 0.1], rel=1e-15)


def test_linear_lr_interval_sets_the_factor_itself():
    # MMagic's LinearLrInterval: x start_factor when built; then the LR *is*
    # s + (e - s) (p // interval) / ((end - begin) // interval), p = the iteration just done.
    got = lrs([dict(type="LinearLrInterval", start_factor=0.5, end_factor=0.1, by_epoch=False, end=5)], iters=7, lr=4.0)
    # K = (end - begin) // 1 = 5. Built: 4 x 0.5 = 2; then p=0 -> 0.5, p=1 -> 0.5 - 0.4/5 = 0.42, ...,
    # p=3 -> 0.26, its last step (g = 4 < end).
    assert got == pytest.approx([2.0, 0.5, 0.42, 0.34, 0.26, 0.26, 0.26], rel=1e-14)
    got = lrs(
        [dict(type="LinearLrInterval", start_factor=1.0, end_factor=0.0, by_epoch=False, end=9, interval=4)], iters=9
    )
    # K = 9 // 4 = 2: p = 0..3 -> 1.0, p = 4..7 -> 0.5 (its last step is at p = 7).
    assert got == pytest.approx([1.0, 1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5], rel=1e-15)


def test_linear_lr_interval_longer_than_its_window_divides_by_zero():
    with pytest.raises(ScheduleError, match="divides by zero"):
        lrs([dict(type="LinearLrInterval", by_epoch=False, end=3, interval=4)], iters=4)


def test_non_lr_schedulers_are_reported_as_skipped():
    skipped = []
    kept = parse_param_schedulers(
        [
            dict(type="CosineAnnealingMomentum", by_epoch=False),
            dict(type="CosineAnnealingWeightDecay", by_epoch=False),
            dict(type="CosineAnnealingParamScheduler", param_name="weight_decay", by_epoch=False),
            dict(type="LinearLR", by_epoch=False, end=3),
        ],
        skipped,
    )
    assert [c.type for c in kept] == ["LinearLR"]
    assert [(s.index, s.param) for s in skipped] == [(0, "momentum"), (1, "weight decay"), (2, "weight decay")]
    assert "param_scheduler[2] CosineAnnealingParamScheduler schedules weight decay, not the LR" in skipped[2].note


@pytest.mark.parametrize("name", ["ReduceOnPlateauLR", "ReduceLR", "mmagic.ReduceLR"])
def test_metric_driven_schedulers_are_refused_by_name(name):
    with pytest.raises(ScheduleError, match="validation metric"):
        parse_param_schedulers([dict(type=name)])
