"""The explanation that the run warmed up for another length than the plan's."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from sched_cli.check import Explanation
from sched_cli.check_reasons.case import HF_FAMILY, Case, at, first_fit, flag, is_number, number, paths_of

__all__ = ["other_warmup"]


# -- 4. another warmup length ------------------------------------------------------------------------
def other_warmup(case: Case) -> Explanation | None:
    if case.data is None or case.spec.run.lr is None:
        return None
    if case.reader in HF_FAMILY:
        keys = [k for k in ("warmup_steps", "warmup_ratio") if case.keys.get(k)]
        planned = " and ".join(f"{k} {case.keys[k]:g}" for k in keys if is_number(case.keys[k])) or "no warmup"

        def patch(w: int) -> tuple[tuple[str, Any], ...]:
            return (("warmup_steps", w), ("warmup_ratio", None))

    elif case.reader in (None, "foundry"):
        paths = paths_of(case.keys, "t_warmup")
        if len(paths) != 1:
            return None
        planned = f"t_warmup {at(case.keys, paths[0])}"

        def patch(w: int) -> tuple[tuple[str, Any], ...]:
            return ((paths[0], f"{w}ba"),)

    elif case.reader == "megatron" and flag(case.data, "--train-iters") is not None:
        keys = [k for k in ("--lr-warmup-fraction", "--lr-warmup-iters") if flag(case.data, k) is not None]
        planned = " and ".join(f"{k} {flag(case.data, k)}" for k in keys) or "no warmup"
        prefix = "MODEL_ARGS." if isinstance(case.data, dict) and "MODEL_ARGS" in case.data else ""

        def patch(w: int) -> tuple[tuple[str, Any], ...]:
            return ((prefix + "--lr-warmup-iters", w), (prefix + "--lr-warmup-fraction", None))

    else:
        return None
    total = case.updates
    found = first_fit(case, ((w, {"patch": patch(w)}) for w in _logged_warmups(case)))
    if found is None:
        return None
    w, candidate = found
    return Explanation(_warmup_words(case, w, total, planned), _warmup_label(case, w), candidate)


def _logged_warmups(case: Case) -> list[int]:
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


def _warmup_words(case: Case, w: int, total: int, planned: str) -> str:
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
        given = (number(flag(case.data, "--lr-warmup-iters")), number(flag(case.data, "--lr-warmup-fraction")))
    value = next((v for v in given if is_number(v)), None)
    slip = "a warmup given as a ratio read as steps, or the reverse"
    if value is not None and 0 < value < 1 and w == int(value):
        slip = f"{value:g} read as {w} updates (as steps), not as a ratio of the run"
    elif value is not None and value >= 1 and ratio is not None and math.isclose(ratio * 100, value):
        slip = f"{value:g} meant as {value:g}% of the run, not {value:g} updates"
    return f"the log matches the plan with a warmup of {w:,} updates ({shown}), not {planned}: {slip}"


def _warmup_label(case: Case, w: int) -> str:
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
