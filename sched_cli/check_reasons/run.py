"""The explanations that change how the run went, not its schedule's keys: the log one step off its
logger's rule, another base LR, another global batch (devices, gradient accumulation), another run
length, another SSR."""

from __future__ import annotations

import math

import numpy as np

from sched_cli.check import Explanation, planned_lrs
from sched_cli.check_reasons.case import Case, first_fit, is_number

__all__ = [
    "one_step_off",
    "base_lr",
    "global_batch",
    "logged_max_steps",
    "ssr",
    "DEVICE_COUNTS",
    "ACCUMULATIONS",
    "SSRS",
    "ACCUMULATION_KEYS",
]

#: Device counts tried (the run's own is skipped).
DEVICE_COUNTS = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 256, 512)
#: Gradient accumulations tried (the file's own is skipped).
ACCUMULATIONS = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 64, 128)
#: SSRs tried.
SSRS = (0.25, 0.5, 0.75, 1.25, 1.5, 2.0, 3.0, 4.0)
#: The key of a file that sets the gradient accumulation, by reader. DeepSpeed's own
#: ``gradient_accumulation_steps`` (a config read alone), Composer's and LLM Foundry's device
#: microbatching and MMEngine's ``accumulative_counts`` change the samples of an update, not the
#: updates of the run nor the LR each one trains with, so they cannot explain a logged LR.
ACCUMULATION_KEYS = {
    "hf": "gradient_accumulation_steps",
    "axolotl": "gradient_accumulation_steps",
    "llamafactory": "gradient_accumulation_steps",
    "timm": "grad_accum_steps",
}
#: The key of the base LR, by reader, to name it in the user's words.
_LR_KEYS = {
    "hf": "learning_rate",
    "axolotl": "learning_rate",
    "llamafactory": "learning_rate",
    "deepspeed": "optimizer.params.lr",
    "foundry": "optimizer.lr",
    "mmengine": "optim_wrapper.optimizer.lr",
    "megatron": "--lr",
}


# -- 1. one step off --------------------------------------------------------------------------------
def one_step_off(case: Case) -> Explanation | None:
    for shift, words in ((1, "one step later"), (-1, "one step earlier")):
        if case.test.fits(case.spec, shift):
            return Explanation(
                f"the log matches the plan {words} than its logger's rule ({case.alignment.name}) says: a logger of "
                "another version (Hugging Face before 2025 logged the next update's LR) or a schedule really one "
                "step off look the same; if it is the logger, say so with --alignment",
                f"the plan {words}",
                case.spec,
                shift,
            )
    return None


# -- 2. another base LR -----------------------------------------------------------------------------
def base_lr(case: Case) -> Explanation | None:
    base = case.spec.run.lr
    if base is None or case.spec.before is not None:
        return None
    index = case.test.sample if case.test.sample is not None else slice(None)
    planned, _ = planned_lrs(case.spec, case.test.rows[index])
    logged = case.log.lrs[index]
    both = (planned > 0) & (logged > 0)
    if both.sum() < 2:
        return None  # one point scales to anything
    ratios = logged[both] / planned[both]
    k = float(np.median(ratios))
    tolerance = case.test.tolerance
    if abs(k - 1) <= 4 * tolerance or float(np.max(np.abs(ratios / k - 1))) > 4 * tolerance:
        return None
    scaled = (
        case.fits({"auto_scale_lr": True}) if case.reader == "mmengine" and not case.overrides.auto_scale_lr else None
    )
    if scaled is not None:
        return Explanation(
            f"the log matches the plan with MMEngine's auto_scale_lr enabled: every LR x{k:.4g} for the run's batch "
            "(the launcher's --auto-scale-lr switches it on; so does sched's)",
            "--auto-scale-lr",
            scaled,
        )
    for lr in dict.fromkeys((float(f"{base * k:.3g}"), float(f"{base * k:.6g}"), base * k)):
        candidate = case.fits({"lr": lr})
        if candidate is not None:
            key = _LR_KEYS.get(case.reader or "", "lr")
            why = "a launcher or a script that scales the LR (by the device count or the batch) does this"
            if case.reader == "timm":
                why = "timm's train.py sets lr = lr_base x global batch / lr_base_size when lr is not given"
            elif case.reader == "mmengine":
                why = _mmengine_scaling(case, k)
            return Explanation(
                f"the log matches the plan with {key} {lr:.6g} (x{k:.4g} the plan's {base:.6g}; --lr {lr:.6g}): "
                f"every logged LR is the planned one times {k:.4g}; {why}",
                f"--lr {lr:.6g}",
                candidate,
            )
    return None


def _mmengine_scaling(case: Case, k: float) -> str:
    """Why an MMEngine log can be the plan times ``k``: MMEngine logs the LR of parameter group 0,
    which ``paramwise_cfg``'s ``custom_keys`` scale by their ``lr_mult`` (DETR's backbone x0.1)."""
    optim = case.keys.get("optim_wrapper")
    custom = optim.get("paramwise_cfg", {}).get("custom_keys", {}) if isinstance(optim, dict) else {}
    for name, group in custom.items() if isinstance(custom, dict) else ():
        mult = group.get("lr_mult") if isinstance(group, dict) else None
        if is_number(mult) and math.isclose(float(mult), k, rel_tol=1e-6):
            return (
                f"MMEngine logs the LR of parameter group 0, and paramwise_cfg.custom_keys.{name}.lr_mult {mult:g} "
                f"scales it when group 0 is a parameter of {name!r} (usually the first): the plan's LR is then right"
            )
    return (
        "MMEngine's auto_scale_lr or a launcher that scales the LR does this, or paramwise_cfg's lr_mult: MMEngine "
        "logs the LR of parameter group 0, which an lr_mult scales"
    )


# -- 3. another global batch: devices, gradient accumulation ---------------------------------------
def global_batch(case: Case) -> Explanation | None:
    spec = case.spec
    run_devices = spec.run.geometry.devices if spec.run.geometry is not None else None
    current = case.overrides.devices or run_devices or 1
    devices = None
    if "devices" in case.consumes or spec.run.geometry is not None:
        devices = first_fit(case, ((d, {"devices": d}) for d in DEVICE_COUNTS if d != current))
    key = ACCUMULATION_KEYS.get(case.reader or "")
    accumulation = given = None
    if key is not None and case.data is not None:
        given = case.keys.get(key) or 1
        accumulation = first_fit(case, ((g, {"patch": ((key, g),)}) for g in ACCUMULATIONS if g != given))
    if case.reader == "megatron" and case.overrides.batch_size is None:
        # Megatron's accumulation is the global batch over micro batch x data-parallel size: with
        # --train-samples (and sample-counted lengths) it sets the iterations.
        key, given = "--global-batch-size", case.spec.run.batch_size
        accumulation = first_fit(case, ((g, {"batch_size": g}) for g in _multiples(given)))
    if devices is not None:
        d = devices[0]
        if accumulation is None:
            return Explanation(
                f"the log matches the plan with --devices {d} (not {current})", f"--devices {d}", devices[1]
            )
        g = accumulation[0]
        return Explanation(
            f"the log matches the plan with --devices {d} (not {current}) or {key} {g} (not "
            f"{given}): both make the same updates, so the log cannot tell them apart",
            f"--devices {d} or {key} {g}",
            devices[1],
        )
    if accumulation is not None:
        g = accumulation[0]
        return Explanation(
            f"the log matches the plan with {key} {g} (not {given}): the run accumulated {g} "
            f"micro-batches per optimizer update; set {key}: {g} in {case.spec.source} to plan it"
            if key != "--global-batch-size"
            else f"the log matches the plan with --global-batch-size {g} (not {given}): the run's global "
            "batch (micro batch x data-parallel size x gradient accumulation) sets its iterations",
            f"{key} {g}",
            accumulation[1],
        )
    return None


def _multiples(batch: int) -> list[int]:
    """Global batch sizes another accumulation gives: ``batch x g`` and ``batch / g``."""
    out = []
    for g in ACCUMULATIONS[1:]:
        out += [batch * g] + ([batch // g] if batch % g == 0 else [])
    return out


# -- 5. another run length ---------------------------------------------------------------------------
def logged_max_steps(case: Case) -> Explanation | None:
    max_steps = case.log.facts.get("max_steps")
    if not isinstance(max_steps, int) or max_steps <= 0:
        return None
    candidate = case.plan({"max_duration": f"{max_steps}ba"})
    if candidate is not None and candidate.run.max_duration != case.spec.run.max_duration:
        if case.test.fits(candidate):
            return Explanation(
                f"the log matches the plan run for {max_steps:,} updates (the log's max_steps), "
                f"not {case.spec.run.max_duration}: the run was stretched or shortened",
                f"max_steps {max_steps}",
                candidate,
            )
    return None


# -- 8. another SSR ---------------------------------------------------------------------------------------
def ssr(case: Case) -> Explanation | None:
    current = case.spec.ssrs[0]
    for ssr in SSRS:
        if ssr != current and case.test.fits(case.spec, 0, ssr):
            return Explanation(
                f"the log matches the plan at --ssr {ssr:g} (not {current:g}): the run was stretched or shortened",
                f"--ssr {ssr:g}",
                case.spec,
                ssr=ssr,
            )
    return None
