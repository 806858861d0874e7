"""Why a run's log leaves its plan: the explanations ``sched check`` tries when the log diverges.

Each explanation is a whole alternative plan, read again from the plan's own file with one thing
changed (a command-line option, or a key of the file through :attr:`Overrides.patch`, so that the
reader applies its tool's rules to the new value), and it is named only when it fits *every*
logged point within the tolerance: a plan is never re-aligned or fitted piecewise to the log. They
are tried in this order, the most specific first, and the first that fits is the reason:

1. the log one step later or earlier than its logger's rule says;
2. another base LR: every logged LR is the planned one times one constant ``k`` (MMEngine's
   ``auto_scale_lr``, timm's ``lr_base`` scaling, a launcher that scales the LR);
3. another global batch: another device count (``--devices``), or another gradient accumulation
   (the file's ``gradient_accumulation_steps`` for Hugging Face, axolotl and LLaMA-Factory,
   ``grad_accum_steps`` for timm): both change the updates per epoch, and when both fit the log
   cannot tell them apart;
4. another warmup length, solved from the logged LRs: a warmup given as a ratio read as steps, or
   the reverse (Hugging Face's ``warmup_steps``/``warmup_ratio``, a spec's ``t_warmup``);
5. another run length: the ``max_steps`` the log records;
6. ``--explain-with SPEC``: another spec as the whole plan, then as a resume from the plan;
7. a DeepSpeed ``scheduler`` block in place of Hugging Face's schedule (``WarmupLR``,
   ``WarmupDecayLR``, ``WarmupCosineLR``, each with a log and a linear warmup, filled as Hugging
   Face fills ``auto``), for a Hugging Face or axolotl plan whose schedule is HF's;
8. another SSR.

The reason found is an :class:`~sched_cli.check.Explanation`: its sentence, a short label for a
chart's legend, and the plan it names (the plan shifted for one step off, at another SSR, or read
again with the change) with that plan's LRs at the logged rows, as its test on every point
computed them, so that ``sched check``'s pictures draw it through the logged points.

A candidate is first tested on a sample of the logged points (:data:`sched_cli.check.SAMPLE`, with the first
divergence and the largest LR), and on all of them only when the sample fits: on a long log a
failing explanation costs a few small simulations, not a replay of the whole run.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sched_cli.check import DEFAULT_TOLERANCE, Explanation, FitTest, planned_lrs
from sched_cli.logs import Alignment, LoggedLRs
from sched_cli.specs import Overrides, Spec, SpecError

__all__ = ["explain", "Replan", "DEVICE_COUNTS", "ACCUMULATIONS", "SSRS", "ACCUMULATION_KEYS"]

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
#: Readers whose schedule is Hugging Face's ``lr_scheduler_type`` (and its warmup keys).
HF_FAMILY = ("hf", "axolotl", "llamafactory")
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

Replan = Callable[[dict[str, Any]], Spec]


@dataclass
class _Case:
    """What the explanations know: the plan, how to read it again with changes, and the log."""

    spec: Spec
    log: LoggedLRs
    alignment: Alignment
    replan: Replan
    overrides: Overrides
    test: FitTest
    consumes: tuple[str, ...]
    #: The reader of the plan's file (``None``: a sched spec) and its parsed keys (``None``: none to change).
    reader: str | None
    data: Any

    def plan(self, changes: dict[str, Any]) -> Spec | None:
        """The plan read again with ``changes`` (``patch``: keys of the file, added to any given)."""
        from sched_cli.schedulers.base import ScheduleError

        if "patch" in changes:
            changes = {**changes, "patch": (*self.overrides.patch, *changes["patch"])}
        try:
            return self.replan(changes)
        except (SpecError, ScheduleError, ValueError):
            return None

    def fits(self, changes: dict[str, Any]) -> Spec | None:
        """The plan read again with ``changes``, if it fits every logged point."""
        candidate = self.plan(changes)
        return candidate if self.test.fits(candidate) else None

    @property
    def keys(self) -> dict[str, Any]:
        return self.data if isinstance(self.data, dict) else {}

    @property
    def updates(self) -> int:
        return planned_lrs(self.spec, np.zeros(0, dtype=np.int64))[1]


def explain(
    spec: Spec,
    log: LoggedLRs,
    alignment: Alignment,
    replan: Replan,
    overrides: Overrides,
    tolerance: float = DEFAULT_TOLERANCE,
    consumes: Iterable[str] = (),
    others: Iterable[tuple[str, Replan]] = (),
    first_row: int | None = None,
    last_good_row: int | None = None,
    plan_file: tuple[str | None, Any] = (None, None),
) -> Explanation | None:
    """The first explanation under which *every* logged point fits, ``None`` if none: its words, a
    short label, and the plan it names with that plan's LRs at the logged rows (for the chart).

    ``replan(changes)`` reads the plan again with ``changes`` to its :class:`Overrides` (``patch``
    among them: keys of the file). ``plan_file``: the reader of the plan's file and its parsed keys
    (:func:`sched_cli.specs.plan_file`), for the explanations that change a key of the file.
    ``others``: other specs the user offers (``--explain-with``), each as (name, replan): tried as
    the whole plan, then as the spec the run was resumed with from the plan's checkpoint between
    the last update the log shows on the plan (``last_good_row``) and the first it shows off it
    (``first_row``).
    """
    case = _Case(
        spec,
        log,
        alignment,
        replan,
        overrides,
        FitTest(log, alignment, tolerance, first_row, spec),
        tuple(consumes),
        *plan_file,
    )
    reasons: list[Callable[[_Case], Explanation | None]] = [
        _one_step_off,
        _base_lr,
        _global_batch,
        _warmup,
        _logged_max_steps,
        lambda c: _other_specs(c, others, first_row, last_good_row),
        _deepspeed_block,
        _ssr,
    ]
    for reason in reasons:
        found = reason(case)
        if found is not None:
            return case.test.explained(found)
    return None


# -- 1. one step off --------------------------------------------------------------------------------
def _one_step_off(case: _Case) -> Explanation | None:
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
def _base_lr(case: _Case) -> Explanation | None:
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
                why = "MMEngine's auto_scale_lr or a launcher that scales the LR does this"
            return Explanation(
                f"the log matches the plan with {key} {lr:.6g} (x{k:.4g} the plan's {base:.6g}; --lr {lr:.6g}): "
                f"every logged LR is the planned one times {k:.4g}; {why}",
                f"--lr {lr:.6g}",
                candidate,
            )
    return None


# -- 3. another global batch: devices, gradient accumulation ---------------------------------------
def _global_batch(case: _Case) -> Explanation | None:
    spec = case.spec
    run_devices = spec.run.geometry.devices if spec.run.geometry is not None else None
    current = case.overrides.devices or run_devices or 1
    devices = None
    if "devices" in case.consumes or spec.run.geometry is not None:
        devices = _first_fit(case, ((d, {"devices": d}) for d in DEVICE_COUNTS if d != current))
    key = ACCUMULATION_KEYS.get(case.reader or "")
    accumulation = given = None
    if key is not None and case.data is not None:
        given = case.keys.get(key) or 1
        accumulation = _first_fit(case, ((g, {"patch": ((key, g),)}) for g in ACCUMULATIONS if g != given))
    if case.reader == "megatron" and case.overrides.batch_size is None:
        # Megatron's accumulation is the global batch over micro batch x data-parallel size: with
        # --train-samples (and sample-counted lengths) it sets the iterations.
        key, given = "--global-batch-size", case.spec.run.batch_size
        accumulation = _first_fit(case, ((g, {"batch_size": g}) for g in _multiples(given)))
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


def _first_fit(case: _Case, tries: Iterable[tuple[int, dict[str, Any]]]) -> tuple[int, Spec] | None:
    """Of ``tries`` (a value, and the changes that plan it), the first whose plan fits the log:
    that value and that plan."""
    for value, changes in tries:
        candidate = case.fits(changes)
        if candidate is not None:
            return value, candidate
    return None


def _multiples(batch: int) -> list[int]:
    """Global batch sizes another accumulation gives: ``batch x g`` and ``batch / g``."""
    out = []
    for g in ACCUMULATIONS[1:]:
        out += [batch * g] + ([batch // g] if batch % g == 0 else [])
    return out


# -- 4. another warmup length ------------------------------------------------------------------------
def _warmup(case: _Case) -> Explanation | None:
    if case.data is None or case.spec.run.lr is None:
        return None
    if case.reader in HF_FAMILY:
        keys = [k for k in ("warmup_steps", "warmup_ratio") if case.keys.get(k)]
        planned = " and ".join(f"{k} {case.keys[k]:g}" for k in keys if _is_number(case.keys[k])) or "no warmup"

        def patch(w: int) -> tuple[tuple[str, Any], ...]:
            return (("warmup_steps", w), ("warmup_ratio", None))

    elif case.reader in (None, "foundry"):
        paths = _paths_of(case.keys, "t_warmup")
        if len(paths) != 1:
            return None
        planned = f"t_warmup {_at(case.keys, paths[0])}"

        def patch(w: int) -> tuple[tuple[str, Any], ...]:
            return ((paths[0], f"{w}ba"),)

    elif case.reader == "megatron" and _flag(case.data, "--train-iters") is not None:
        keys = [k for k in ("--lr-warmup-fraction", "--lr-warmup-iters") if _flag(case.data, k) is not None]
        planned = " and ".join(f"{k} {_flag(case.data, k)}" for k in keys) or "no warmup"
        prefix = "MODEL_ARGS." if isinstance(case.data, dict) and "MODEL_ARGS" in case.data else ""

        def patch(w: int) -> tuple[tuple[str, Any], ...]:
            return ((prefix + "--lr-warmup-iters", w), (prefix + "--lr-warmup-fraction", None))

    else:
        return None
    total = case.updates
    found = _first_fit(case, ((w, {"patch": patch(w)}) for w in _logged_warmups(case)))
    if found is None:
        return None
    w, candidate = found
    return Explanation(_warmup_words(case, w, total, planned), _warmup_label(case, w), candidate)


def _logged_warmups(case: _Case) -> list[int]:
    """The warmup lengths the log can show: a linear warmup from 0 to the base LR ``b`` rises by
    ``b / w`` an update, so two logged points inside it give ``w`` (one point: ``w = b x u / lr``,
    for a warmup that trains update ``u`` with ``b x u / w``)."""
    rows, lrs, base = case.test.rows, case.log.lrs, float(case.spec.run.lr or 0)
    peak = int(np.argmax(lrs))
    inside = np.flatnonzero((rows[:peak] > 0) & (lrs[:peak] > 0) & (lrs[:peak] < base * (1 - 1e-6)))
    found: list[int] = []
    if len(inside) >= 2 and lrs[inside[-1]] > lrs[inside[-2]]:
        i, j = inside[-2], inside[-1]
        w = base * float(rows[j] - rows[i]) / float(lrs[j] - lrs[i])
        found += [round(w), math.floor(w), math.ceil(w)]
    elif len(inside):
        w = float(rows[inside[-1]]) * base / float(lrs[inside[-1]])
        found += [round(w), math.floor(w), math.ceil(w)]
    else:  # no logged point inside a warmup: none, or one that ends by the first peak
        found += [0, int(rows[peak]) if len(rows) else 0]
    total = case.updates
    return [w for w in dict.fromkeys(found) if 0 <= w <= total]


def _warmup_words(case: _Case, w: int, total: int, planned: str) -> str:
    ratio = _ratio_of(w, total)
    if case.reader in HF_FAMILY:
        as_ratio = f", a {ratio:g} ratio of the run's {total:,} updates" if ratio is not None else ""
        shown = f"warmup_steps {w}{as_ratio}"
    elif case.reader == "megatron":
        shown = f"--lr-warmup-iters {w}, {w / total:g} of the run's {total:,} iterations"
    else:
        shown = f"t_warmup {w}ba" + (f" ({ratio:g}dur of the run's {total:,} updates)" if ratio is not None else "")
    given = (case.keys.get("warmup_steps"), case.keys.get("warmup_ratio"))
    if case.reader == "megatron":
        given = (_number(_flag(case.data, "--lr-warmup-iters")), _number(_flag(case.data, "--lr-warmup-fraction")))
    value = next((v for v in given if _is_number(v)), None)
    slip = "a warmup given as a ratio read as steps, or the reverse"
    if value is not None and 0 < value < 1 and w == int(value):
        slip = f"{value:g} read as {w} updates (as steps), not as a ratio of the run"
    elif value is not None and value >= 1 and ratio is not None and math.isclose(ratio * 100, value):
        slip = f"{value:g} meant as {value:g}% of the run, not {value:g} updates"
    return f"the log matches the plan with a warmup of {w:,} updates ({shown}), not {planned}: {slip}"


def _warmup_label(case: _Case, w: int) -> str:
    if case.reader in HF_FAMILY:
        return f"warmup_steps {w}"
    return f"--lr-warmup-iters {w}" if case.reader == "megatron" else f"t_warmup {w}ba"


def _ratio_of(w: int, total: int) -> float | None:
    """The shortest ratio ``r`` (up to 4 decimals) whose warmup ``ceil(T x r)`` is ``w`` updates."""
    for digits in range(1, 5):
        r = round(w / total, digits)
        if 0 < r < 1 and math.ceil(total * r) == w:
            return r
    return None


# -- 5. another run length ---------------------------------------------------------------------------
def _logged_max_steps(case: _Case) -> Explanation | None:
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


# -- 6. the specs the user offers ----------------------------------------------------------------------
def _other_specs(
    case: _Case, others: Iterable[tuple[str, Replan]], first_row: int | None, last_good_row: int | None
) -> Explanation | None:
    for name, other in others:
        whole = _try(other, {})
        if whole is not None and case.test.fits(whole):
            return Explanation(f"the log matches {name}'s schedule, not the plan's", Path(name).name, whole)
        if first_row is None:
            continue
        resumed = _resume_point(case, other, first_row, last_good_row)
        if resumed is not None:
            words, at, candidate = resumed
            return Explanation(
                f"the log matches the plan until {words}, then a resume with {name}",
                f"resumed with {Path(name).name} at update {at:,}",
                candidate,
            )
    return None


def _resume_point(case: _Case, other: Replan, first: int, last_good: int | None) -> tuple[str, int, Spec] | None:
    """Where a resume with ``other`` makes the log fit, in words (one update, or the range the log
    cannot tell apart: it has no points between them), its first update and its plan; ``None`` if
    nowhere near the divergence."""
    # The first update after a resume may still train with the LR the checkpoint saved (Composer's
    # Trainer does): the resume can be as early as the last update the log shows on the plan.
    low = max(1, last_good if last_good is not None else first - 2)
    tried = sorted({first, low, *range(first - 1, max(low, first - 3), -1)})
    plans = {k: _try(other, {"resume_at": f"{k}ba"}) for k in tried}
    good = [k for k, plan in plans.items() if plan is not None and case.test.fits(plan)]
    if not good:
        return None
    if len(good) == 1:
        return f"update {good[0]:,} (--resume-at {good[0]}ba)", good[0], plans[good[0]]
    return (
        f"a checkpoint between updates {good[0]:,} and {good[-1]:,} (the log has no points in between to tell; "
        f"--resume-at {good[0]}ba ... {good[-1]}ba)",
        good[0],
        plans[good[0]],
    )


# -- 7. a DeepSpeed scheduler block in place of Hugging Face's -------------------------------------------
#: DeepSpeed's schedulers as a config would name them, with the keys Hugging Face fills for ``auto``.
_DS_BLOCKS = (
    ("WarmupLR", ("warmup_min_lr", "warmup_max_lr", "warmup_num_steps"), "then constant"),
    ("WarmupDecayLR", ("warmup_min_lr", "warmup_max_lr", "warmup_num_steps", "total_num_steps"), "then linear to 0"),
    ("WarmupCosineLR", ("warmup_num_steps", "total_num_steps"), "then a cosine down"),
)


def _deepspeed_block(case: _Case) -> Explanation | None:
    if case.reader not in ("hf", "axolotl") or not case.keys:
        return None
    if any(str(c.get("name", "")).startswith("ds:") for c in case.spec.configs if isinstance(c, dict)):
        return None  # DeepSpeed's block is already the plan
    from sched_cli.readers.deepspeed import auto_warmup_steps

    total = case.updates
    for kind, keys, after in _DS_BLOCKS:
        for warmup_type in ("log", "linear"):
            params = {**dict.fromkeys(keys, "auto"), "warmup_type": warmup_type}
            block = {"scheduler": {"type": kind, "params": params}}
            changes = {"deepspeed_config": None, "patch": (("deepspeed", block),)}
            candidate = case.fits(changes)
            if candidate is None:
                continue
            warmup = max(1, auto_warmup_steps(case.keys, total))
            key = "lr_scheduler_type" if case.reader == "hf" else "lr_scheduler"  # axolotl's name for it
            hf_kind = case.keys.get(key) or ("linear" if case.reader == "hf" else "cosine")
            return Explanation(
                f"the log matches DeepSpeed's {kind} ({warmup_type} warmup over {warmup:,} updates to "
                f"{case.spec.run.lr:g}, {after} at update {total:,}: what Hugging Face fills for 'auto') in place "
                f"of {key} {hf_kind}: a DeepSpeed config's scheduler block replaced Hugging Face's "
                f"({_deepspeed_where(case)})",
                f"DeepSpeed {kind}, {warmup_type} warmup",
                candidate,
            )
    return None


def _deepspeed_where(case: _Case) -> str:
    named = case.overrides.deepspeed_config or case.keys.get("deepspeed")
    if isinstance(named, str):
        return f"check {named}, the file the deepspeed key names"
    if isinstance(named, dict):
        return "check the file's deepspeed block"
    return "the plan names no DeepSpeed config: the run had one; give it with --deepspeed-config"


# -- 8. another SSR ---------------------------------------------------------------------------------------
def _ssr(case: _Case) -> Explanation | None:
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


# -- helpers ------------------------------------------------------------------------------------------------
def _try(replan: Replan, changes: dict[str, Any]) -> Spec | None:
    from sched_cli.schedulers.base import ScheduleError

    try:
        return replan(changes)
    except (SpecError, ScheduleError, ValueError):
        return None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _flag(data: Any, flag: str) -> str | None:
    """A Megatron launch's value of ``flag`` (its flags, or a ``model_config.yaml``'s mapping)."""
    if isinstance(data, dict):
        value = data.get("MODEL_ARGS", data).get(flag)
        return None if value is None else str(value)
    values = getattr(data, "values", {}).get(flag)
    return None if not values else values[0].text


def _number(text: str | None) -> float | None:
    try:
        return float(text) if text is not None else None
    except ValueError:
        return None


def _paths_of(data: Any, key: str, prefix: str = "") -> list[str]:
    """The dotted paths of ``key`` in nested mappings and lists."""
    out: list[str] = []
    items = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else ()
    for k, value in items:
        path = f"{prefix}{k}"
        if k == key:
            out.append(path)
        out += _paths_of(value, key, path + ".")
    return out


def _at(data: Any, path: str) -> Any:
    for part in path.split("."):
        data = data[int(part)] if isinstance(data, list) else data[part]
    return data
