"""How each reader's file says its warmup, for :func:`sched_cli.check_reasons.warmup.other_warmup`:
its key, its units and its tool's rules, the clock the tool steps the warmup on, and the words
that name another length (:class:`~sched_cli.check_reasons.warmup.Warmup`)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from sched_cli.check_reasons.case import HF_FAMILY, Case, at, flag, is_number, number, paths_of
from sched_cli.check_reasons.warmup import Patch, Warmup, whole_values

__all__ = ["warmups"]


def warmups(case: Case) -> list[Warmup]:
    """The ways the plan's file can say another warmup, the likeliest first (none: the reader has no
    warmup key, or the plan's schedule has no warmup this reason can lengthen)."""
    if case.reader in HF_FAMILY:
        return _hf(case)
    build = _BY_READER.get(case.reader)
    return build(case) if build is not None else []


def _rows(rows: np.ndarray) -> np.ndarray:
    return rows.astype(np.float64)


# -- Hugging Face, axolotl, LLaMA-Factory: warmup_steps / warmup_ratio ---------------------------------------
def _hf(case: Case) -> list[Warmup]:
    if case.spec.run.lr is None:
        return []
    keys = [k for k in ("warmup_steps", "warmup_ratio") if case.keys.get(k)]
    planned = " and ".join(f"{k} {case.keys[k]:g}" for k in keys if is_number(case.keys[k])) or "no warmup"
    total = case.updates

    def words(w: int) -> tuple[str, str]:
        # axolotl makes warmup_ratio int(ratio x T) updates; Hugging Face (so LLaMA-Factory) ceil(T x ratio)
        ratio = _ratio_of(w, total, math.floor if case.reader == "axolotl" else math.ceil)
        as_ratio = f", a {ratio:g} ratio of the run's {total:,} updates" if ratio is not None else ""
        slip = _ratio_slip(w, ratio, (case.keys.get("warmup_steps"), case.keys.get("warmup_ratio")))
        head = f"the log matches the plan with a warmup of {w:,} updates (warmup_steps {w}{as_ratio})"
        return f"{head}, not {planned}: {slip}", f"warmup_steps {w}"

    return [
        Warmup(
            0.0,
            float(case.spec.run.lr),
            _rows,
            lambda span: whole_values(span, 0, total),
            lambda w: (("warmup_steps", w), ("warmup_ratio", None)),
            words,
        )
    ]


def _ratio_of(w: int, total: int, rounding: Any = math.ceil) -> float | None:
    """The shortest ratio ``r`` (up to 4 decimals) whose warmup ``rounding(T x r)`` is ``w`` updates."""
    for digits in range(1, 5):
        r = round(w / total, digits)
        if 0 < r < 1 and rounding(total * r) == w:
            return r
    return None


def _ratio_slip(w: int, ratio: float | None, given: tuple[Any, ...]) -> str:
    value = next((v for v in given if is_number(v)), None)
    if value is not None and 0 < value < 1 and w == int(value):
        return f"{value:g} read as {w} updates (as steps), not as a ratio of the run"
    if value is not None and value >= 1 and ratio is not None and math.isclose(ratio * 100, value):
        return f"{value:g} meant as {value:g}% of the run, not {value:g} updates"
    return "a warmup given as a ratio read as steps, or the reverse"


# -- a sched spec, LLM Foundry: t_warmup ---------------------------------------------------------------------
def _t_warmup(case: Case) -> list[Warmup]:
    paths = paths_of(case.keys, "t_warmup")
    if len(paths) != 1 or case.spec.run.lr is None:
        return []
    planned, total = f"t_warmup {at(case.keys, paths[0])}", case.updates

    def words(w: int) -> tuple[str, str]:
        ratio = _ratio_of(w, total)
        shown = f"t_warmup {w}ba" + (f" ({ratio:g}dur of the run's {total:,} updates)" if ratio is not None else "")
        slip = "a warmup given as a ratio read as steps, or the reverse"
        return (
            f"the log matches the plan with a warmup of {w:,} updates ({shown}), not {planned}: {slip}",
            f"t_warmup {w}ba",
        )

    def values(span: float) -> list[int]:
        return whole_values(span, 0, total)

    return [Warmup(0.0, float(case.spec.run.lr), _rows, values, lambda w: ((paths[0], f"{w}ba"),), words)]


# -- Megatron-LM: --lr-warmup-iters / --lr-warmup-samples / --lr-warmup-fraction -----------------------------
def _megatron(case: Case) -> list[Warmup]:
    config = case.spec.configs[0] if case.spec.configs else {}
    gbs = case.spec.run.batch_size
    if config.get("name") != "megatron" or not gbs:
        return []
    by_iterations = flag(case.data, "--train-iters") is not None
    unit = "--lr-warmup-iters" if by_iterations else "--lr-warmup-samples"
    keys = [k for k in ("--lr-warmup-fraction", unit) if flag(case.data, k) is not None]
    planned = " and ".join(f"{k} {flag(case.data, k)}" for k in keys) or "no warmup"
    prefix = "MODEL_ARGS." if isinstance(case.data, dict) and "MODEL_ARGS" in case.data else ""
    total, decay = case.updates, float(config["decay_samples"])
    given, fraction = number(flag(case.data, unit)), number(flag(case.data, "--lr-warmup-fraction"))

    def words(w: int) -> tuple[str, str]:
        if by_iterations:
            shown = f"--lr-warmup-iters {w}, {w / total:g} of the run's {total:,} iterations"
            head = f"the log matches the plan with a warmup of {w:,} updates ({shown}), not {planned}"
            if given is not None and given == w * gbs:
                slip = f"{given:g} meant as samples ({w:,} iterations at the global batch size {gbs:,}), not iterations"
            else:
                slip = _ratio_slip(w, None, (given, fraction))
            return f"{head}: {slip}", f"--lr-warmup-iters {w}"
        shown = f"--lr-warmup-samples {w}: {w / gbs:,.6g} iterations at the global batch size {gbs:,}"
        if case.spec.run.batch_schedule is not None:  # the ramp's smaller batches come first
            ramp = np.arange(total + 1)
            first = int(ramp[np.searchsorted(_samples_before(case, ramp), w)]) if w else 0
            shown = f"--lr-warmup-samples {w}: the first {first:,} iterations, through the batch-size ramp"
        head = f"the log matches the plan with a warmup of {w:,} samples ({shown}), not {planned}"
        if given is not None and w == given * gbs:
            slip = f": {given:g} meant as iterations ({given:g} x the global batch size {gbs:,} = {w:,} samples)"
        elif fraction is not None:
            slip = f": {w / decay:g} of the decay's {decay:,g} samples, not {fraction:g}"
        else:
            slip = ""
        return head + slip, f"--lr-warmup-samples {w}"

    def values(span: float) -> list[int]:
        return whole_values(span / gbs, 0, total) if by_iterations else whole_values(span, 0, decay - 1)

    return [
        Warmup(
            float(config.get("warmup_init", 0.0)),
            float(config["lr"]),
            lambda rows: _samples_before(case, rows),
            values,
            lambda w: ((prefix + unit, w), (prefix + "--lr-warmup-fraction", None)),
            words,
        )
    ]


def _samples_before(case: Case, rows: np.ndarray) -> np.ndarray:
    """Megatron's clock: the samples consumed before each iteration (a batch-size ramp counted)."""
    from sched_cli.geometry import samples_before

    run = case.spec.run
    before = samples_before(
        np.maximum(rows, 0), run.dataloader_len, run.batch_size, run.last_batch_size, run.batch_schedule
    )
    return np.asarray(before, dtype=np.float64)


# -- DeepSpeed: scheduler.params.warmup_num_steps, warmup_type ------------------------------------------------
def _deepspeed(case: Case) -> list[Warmup]:
    from sched_cli.schedulers.deepspeed import DSWarmupCosineLR, DSWarmupLR, warmup_clock, warmup_steps_of

    scheduler = case.spec.run.schedulers[0] if len(case.spec.run.schedulers) == 1 else None
    block = case.keys.get("scheduler")
    if not isinstance(scheduler, DSWarmupLR | DSWarmupCosineLR) or not isinstance(block, dict):
        return []
    params = block.get("params") if isinstance(block.get("params"), dict) else {}
    if isinstance(scheduler, DSWarmupCosineLR):
        start, peak = scheduler.lr * scheduler.warmup_min_ratio, float(scheduler.lr)  # type: ignore[operator]
    else:
        start, peak = float(scheduler.warmup_min_lr), float(scheduler.peak)
    planned_steps = params.get("warmup_num_steps", 1000)
    planned = f"warmup_num_steps {planned_steps}" + ("" if "warmup_num_steps" in params else " (DeepSpeed's default)")
    accumulation = case.keys.get("gradient_accumulation_steps")
    own = scheduler.effective_type
    given_type = f"warmup_type {own}" + ("" if "warmup_type" in params else ", DeepSpeed's default")

    def shape(kind: str) -> Warmup:
        def words(w: int) -> tuple[str, str]:
            if kind == own:
                head = f"the log matches the plan with a warmup of {w:,} updates (warmup_num_steps {w}), not {planned}"
                label = f"warmup_num_steps {w}"
            else:
                head = (
                    f"the log matches the plan with a {kind} warmup of {w:,} updates (warmup_type {kind}, "
                    f"warmup_num_steps {w}), not a {own} one ({given_type}; {planned})"
                )
                label = f"warmup_type {kind}, warmup_num_steps {w}"
            slip = ""
            if isinstance(accumulation, int) and accumulation > 1 and w != planned_steps:
                if planned_steps in (w * accumulation, w / accumulation):
                    slip = (
                        f": the two differ by gradient_accumulation_steps {accumulation}: warmup_num_steps counts "
                        "optimizer updates (the engine steps the scheduler once per update), not micro-batches"
                    )
            return head + slip, label

        def patch(w: int) -> Patch:
            changes: Patch = (("scheduler.params.warmup_num_steps", w),)
            return changes if kind == own else (*changes, ("scheduler.params.warmup_type", kind))

        return Warmup(
            start,
            peak,
            # update k trains with the LR at last_batch_iteration k - 1 (the engine's stepping)
            lambda rows: warmup_clock(rows - 1, kind),
            # (past a span of 700 the log shape's exp overflows: no warmup that long)
            lambda span: whole_values(warmup_steps_of(span, kind), 1) if span < 700 else [],
            patch,
            words,
        )

    return [shape(own), shape("linear" if own == "log" else "log")]


# -- timm: warmup_epochs (whole epochs; stepped per epoch, or per update with sched_on_updates) ----------------
def _timm(case: Case) -> list[Warmup]:
    scheduler = case.spec.run.schedulers[0] if len(case.spec.run.schedulers) == 1 else None
    per_epoch = case.spec.run.dataloader_len
    if scheduler is None or not hasattr(scheduler, "warmup_epochs") or not per_epoch:
        return []
    on_updates = bool(scheduler.sched_on_updates)
    planned = f"warmup_epochs {scheduler.warmup_epochs:g}" + (
        "" if "warmup_epochs" in case.keys else " (train.py's default)"
    )
    stepping = "stepped per update (sched_on_updates)" if on_updates else "stepped per epoch"

    def words(e: int) -> tuple[str, str]:
        shown = f"warmup_epochs {e}: {e * per_epoch:,} updates of {per_epoch:,} an epoch, {stepping}"
        head = f"the log matches the plan with a warmup of {e:,} epoch{'' if e == 1 else 's'} ({shown}), not {planned}"
        slip = ""
        if on_updates and scheduler.warmup_epochs == e * per_epoch:
            slip = (
                f": {scheduler.warmup_epochs:g} meant as updates, read as epochs: warmup_epochs counts epochs "
                f"even with sched_on_updates (timm multiplies it by the {per_epoch:,} updates an epoch)"
            )
        return head + slip, f"warmup_epochs {e}"

    def clock(rows: np.ndarray) -> np.ndarray:
        # timm's t: the updates done, or the epoch (every epoch has per_epoch updates)
        return rows.astype(np.float64) if on_updates else (rows // per_epoch).astype(np.float64)

    return [
        Warmup(
            float(scheduler.warmup_lr),
            float(scheduler.lr),
            clock,
            # warmup_epochs is a whole number of epochs: a warmup of other updates cannot be said
            lambda span: whole_values(span / per_epoch if on_updates else span, 0),
            lambda e: (("warmup_epochs", e),),
            words,
        )
    ]


# -- MMEngine: the end of its warmup LinearLR, in iterations or epochs (by_epoch) ----------------------------
def _mmengine(case: Case) -> list[Warmup]:
    found = _warmup_scheduler(case.keys.get("param_scheduler"))
    lr, length = case.spec.run.lr, case.spec.run.dataloader_len
    config = case.spec.configs[0] if case.spec.configs else {}
    if found is None or lr is None:
        return []
    path, item = found
    s, e = float(item.get("start_factor", 1 / 3)), float(item.get("end_factor", 1.0))
    begin, end0 = item.get("begin", 0), item.get("end")
    by_epoch0 = bool(item.get("by_epoch", True))
    if not isinstance(begin, int) or not isinstance(end0, int):
        return []

    def name(by_epoch: bool) -> str:
        return "epochs" if by_epoch else "iterations"

    planned = f"end {end0} in {name(by_epoch0)}" + (
        "" if "by_epoch" in item else " (by_epoch true, MMEngine's default)"
    )

    def shape(by_epoch: bool) -> Warmup:
        def words(end: int) -> tuple[str, str]:
            unit = name(by_epoch)[:-1]
            shown = f"{path} {item.get('type')} end {end}, by_epoch {str(by_epoch).lower()}"
            head = f"the log matches the plan with a warmup ending at {unit} {end:,} ({shown}), not {planned}"
            slip = ""
            if by_epoch != by_epoch0 and end == end0:
                slip = f": end {end0} meant as {name(by_epoch)}, read as {name(by_epoch0)}"
            elif not by_epoch and not by_epoch0 and length and end - begin == (end0 - begin) * length:
                slip = f": end {end0} meant as epochs ({end0 - begin} x {length:,} iterations), counted as iterations"
            label = f"{path}.end {end}" + ("" if by_epoch == by_epoch0 else f", by_epoch {str(by_epoch).lower()}")
            return head + slip, label

        def clock(rows: np.ndarray) -> np.ndarray:
            # the LinearLR's own step count t (factor s + (e - s) t / (end - begin - 1)): an iteration, or the epoch
            return (rows // length if by_epoch else rows).astype(np.float64) - begin

        def patch(end: int) -> Patch:
            changes: Patch = ((f"{path}.end", end),)
            return changes if by_epoch == by_epoch0 else (*changes, (f"{path}.by_epoch", by_epoch))

        return Warmup(lr * s, lr * e, clock, lambda span: whole_values(span + begin + 1, begin + 2), patch, words)

    # an epoch-based warmup steps per epoch only in an epoch loop whose epoch length is known
    epochs = config.get("train_loop") == "epoch" and bool(length)
    return [shape(by_epoch) for by_epoch in (by_epoch0, not by_epoch0) if epochs or not by_epoch]


def _warmup_scheduler(schedulers: Any) -> tuple[str, dict[str, Any]] | None:
    """The first ``LinearLR`` that rises (``start_factor`` below ``end_factor``) and is stepped on
    its own clock (not ``convert_to_iter_based``), with its dotted path."""
    items = [("param_scheduler", schedulers)] if isinstance(schedulers, dict) else []
    if isinstance(schedulers, list):
        items = [(f"param_scheduler.{i}", item) for i, item in enumerate(schedulers)]
    for path, item in items:
        if not isinstance(item, dict) or str(item.get("type", "")).rsplit(".", 1)[-1] != "LinearLR":
            continue
        rising = item.get("start_factor", 1 / 3) < item.get("end_factor", 1.0)
        if rising and not item.get("convert_to_iter_based", False):
            return path, item
    return None


_BY_READER: dict[str | None, Any] = {
    None: _t_warmup,
    "foundry": _t_warmup,
    "megatron": _megatron,
    "deepspeed": _deepspeed,
    "timm": _timm,
    "mmengine": _mmengine,
}
