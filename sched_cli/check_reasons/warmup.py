"""The explanation that the run warmed up for another length than the plan's (reason 4).

Every reader says its warmup with its own key in its own units: Hugging Face, axolotl and
LLaMA-Factory ``warmup_steps`` (or ``warmup_ratio``), a sched spec or LLM Foundry ``t_warmup``,
Megatron-LM ``--lr-warmup-iters`` / ``--lr-warmup-samples`` (or ``--lr-warmup-fraction``),
DeepSpeed ``scheduler.params.warmup_num_steps`` (with its ``warmup_type``), timm
``warmup_epochs``, MMEngine the ``end`` of its warmup ``LinearLR`` (in iterations or epochs:
``by_epoch``). Each is a :class:`Warmup` (:mod:`sched_cli.check_reasons.warmup_keys`): the LR
rises from ``start`` to ``peak`` as a fraction ``clock(row) / span`` of the way, on the clock its
tool steps the warmup by. Two logged points inside the warmup give its ``span`` (the clock's
rise over the fraction's); one point gives it from the clock's zero. The span is turned into the
file's values to try, and each is tried as a whole plan, read again from the file with that value
(:attr:`~sched_cli.specs.Overrides.patch`): the first that fits every logged point is named.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from sched_cli.check import Explanation
from sched_cli.check_reasons.case import Case, first_fit

__all__ = ["other_warmup", "Warmup", "Patch", "whole_values"]

Patch = tuple[tuple[str, Any], ...]


@dataclass(frozen=True)
class Warmup:
    """One way the plan's file can say a warmup, as a log shows it.

    The LR a logged row trains with is ``start + (peak - start) x clock(row) / span`` inside the
    warmup; ``values(span)`` are the file's values that make a warmup of about ``span`` (its own
    units and rules), ``patch(value)`` the keys that set one, ``words(value)`` the sentence and the
    label that name it."""

    start: float
    peak: float
    clock: Callable[[np.ndarray], np.ndarray]
    values: Callable[[float], list[Any]]
    patch: Callable[[Any], Patch]
    words: Callable[[Any], tuple[str, str]]


def other_warmup(case: Case) -> Explanation | None:
    from sched_cli.check_reasons.warmup_keys import warmups

    if case.data is None:
        return None
    for warmup in warmups(case):
        tries = dict.fromkeys(v for span in logged_spans(case, warmup) for v in warmup.values(span))
        found = first_fit(case, ((v, {"patch": warmup.patch(v)}) for v in tries))
        if found is not None:
            sentence, label = warmup.words(found[0])
            return Explanation(sentence, label, found[1])
    return None


def logged_spans(case: Case, warmup: Warmup) -> list[float]:
    """The warmup spans the log can show, on the warmup's clock: the LR is a fraction
    ``f = clock / span`` of the way from ``start`` to ``peak``, so two logged points inside the
    warmup (the first two at different LRs) give ``span = Δclock / Δf``, and
    one gives ``clock / f``; with none inside, no warmup or one that ends by the log's peak."""
    rows, lrs = case.test.rows, case.log.lrs
    if not len(rows) or warmup.peak == warmup.start:
        return []
    peak = int(np.argmax(lrs))
    with np.errstate(divide="ignore", invalid="ignore"):
        clock = np.asarray(warmup.clock(rows[:peak]), dtype=np.float64)
        f = (lrs[:peak] - warmup.start) / (warmup.peak - warmup.start)
    inside = np.flatnonzero((rows[:peak] >= 0) & (f > 1e-9) & (f < 1 - 1e-6) & np.isfinite(clock))
    if len(inside):
        # The first points: where a schedule chained with the warmup (MMEngine's) has moved least.
        i = inside[0]
        higher = inside[f[inside] > f[i] * (1 + 1e-9)]
        if len(higher):
            j = higher[0]
            return [float(clock[j] - clock[i]) / float(f[j] - f[i])]
        return [float(clock[i]) / float(f[i])]
    with np.errstate(divide="ignore", invalid="ignore"):
        at_peak = float(np.asarray(warmup.clock(rows[peak : peak + 1]), dtype=np.float64)[0])
    return [0.0] + ([at_peak] if np.isfinite(at_peak) else [])


def whole_values(x: float, low: int, high: float = float("inf")) -> list[int]:
    """The whole numbers nearest ``x`` (rounded, then down, then up) within ``[low, high]``."""
    if not np.isfinite(x):
        return []
    near = [round(x), int(np.floor(x)), int(np.ceil(x))]
    return [int(v) for v in dict.fromkeys(near) if low <= v <= high]
