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
4. another warmup length, solved from the logged LRs and said in the file's own key and units
   (Hugging Face's, axolotl's and LLaMA-Factory's ``warmup_steps``/``warmup_ratio``, a spec's
   ``t_warmup``, Megatron-LM's ``--lr-warmup-iters``/``--lr-warmup-samples``, DeepSpeed's
   ``warmup_num_steps`` and ``warmup_type``, timm's ``warmup_epochs``, the ``end`` of MMEngine's
   warmup ``LinearLR`` in iterations or epochs): :mod:`sched_cli.check_reasons.warmup`;
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

from collections.abc import Callable, Iterable
from typing import Any

from sched_cli.check import DEFAULT_TOLERANCE, Explanation, FitTest
from sched_cli.check_reasons.case import Case, Replan
from sched_cli.check_reasons.run import (
    ACCUMULATION_KEYS,
    ACCUMULATIONS,
    DEVICE_COUNTS,
    SSRS,
    base_lr,
    global_batch,
    logged_max_steps,
    one_step_off,
    ssr,
)
from sched_cli.check_reasons.schedule import deepspeed_block, other_specs
from sched_cli.check_reasons.warmup import other_warmup
from sched_cli.logs import Alignment, LoggedLRs
from sched_cli.specs import Overrides, Spec

__all__ = ["explain", "Replan", "DEVICE_COUNTS", "ACCUMULATIONS", "SSRS", "ACCUMULATION_KEYS"]


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
    case = Case(
        spec,
        log,
        alignment,
        replan,
        overrides,
        FitTest(log, alignment, tolerance, first_row, spec),
        tuple(consumes),
        *plan_file,
    )
    reasons: list[Callable[[Case], Explanation | None]] = [
        one_step_off,
        base_lr,
        global_batch,
        other_warmup,
        logged_max_steps,
        lambda c: other_specs(c, others, first_row, last_good_row),
        deepspeed_block,
        ssr,
    ]
    for reason in reasons:
        found = reason(case)
        if found is not None:
            return case.test.explained(found)
    return None
