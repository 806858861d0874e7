"""The explanations that put another schedule in the plan's place: the specs the user offers
(``--explain-with``), whole or as a resume, and a DeepSpeed ``scheduler`` block in place of Hugging
Face's schedule."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from sched_cli.check import Explanation
from sched_cli.check_reasons.case import Case, Replan, try_plan
from sched_cli.specs import Spec

__all__ = ["other_specs", "deepspeed_block"]


# -- 6. the specs the user offers ----------------------------------------------------------------------
def other_specs(
    case: Case, others: Iterable[tuple[str, Replan]], first_row: int | None, last_good_row: int | None
) -> Explanation | None:
    for name, other in others:
        whole = try_plan(other, {})
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


def _resume_point(case: Case, other: Replan, first: int, last_good: int | None) -> tuple[str, int, Spec] | None:
    """Where a resume with ``other`` makes the log fit, in words (one update, or the range the log
    cannot tell apart: it has no points between them), its first update and its plan; ``None`` if
    nowhere near the divergence."""
    # The first update after a resume may still train with the LR the checkpoint saved (Composer's
    # Trainer does): the resume can be as early as the last update the log shows on the plan.
    low = max(1, last_good if last_good is not None else first - 2)
    tried = sorted({first, low, *range(first - 1, max(low, first - 3), -1)})
    plans = {k: try_plan(other, {"resume_at": f"{k}ba"}) for k in tried}
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


def deepspeed_block(case: Case) -> Explanation | None:
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


def _deepspeed_where(case: Case) -> str:
    named = case.overrides.deepspeed_config or case.keys.get("deepspeed")
    if isinstance(named, str):
        return f"check {named}, the file the deepspeed key names"
    if isinstance(named, dict):
        return "check the file's deepspeed block"
    return "the plan names no DeepSpeed config: the run had one; give it with --deepspeed-config"
