"""Readers of training logs: the learning rates a real run logged, for ``sched check``.

Each log kind is recognised by its content (not its name) and read into :class:`LoggedLRs`: the
logged steps and LRs, and the rule that ties a logged step to the update it describes
(:class:`Alignment`). Supported, side by side in this package:

- ``trainer_state.json`` of a Hugging Face ``Trainer`` (a file, a checkpoint or an output
  directory holding one), and LLaMA-Factory's ``trainer_log.jsonl``;
- TensorBoard event files or directories of them (:mod:`.tensorboard`), with the LR tags each
  trainer writes;
- tables: MMEngine's ``vis_data/scalars.json``, Lightning's ``metrics.csv``, a W&B history export,
  and any CSV or JSON lines with a step column and an LR column (:mod:`.files`);
- Composer's ``FileLogger`` text (:mod:`.composer`).

Nothing here imports a trainer library, and every read is bounded in bytes and rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Alignment", "ALIGNMENTS", "LoggedLRs", "LogError", "FLOAT32_EPS"]

#: The relative rounding of a float32 (TensorBoard stores float32 scalars): 2**-24.
FLOAT32_EPS = 2.0**-24


class LogError(ValueError):
    """A log that cannot be read or has no LRs; the message names the file and what to do."""


@dataclass(frozen=True)
class Alignment:
    """How a logged step maps onto the plan's updates: the LR logged at step ``s`` is the one
    update ``s + offset`` trains with (updates counted from 0, as sched's ``batch`` column).

    ``offset = -1``: steps count updates done (1 for the first) and the LR is the one that update
    trained with; ``offset = 0``: the LR of the next update (logged after the scheduler stepped),
    or a 0-based step logged before the update.
    """

    name: str
    offset: int
    says: str


#: The rules of the loggers sched knows, by name (``--alignment NAME``; or ``--alignment N``).
ALIGNMENTS = {
    a.name: a
    for a in (
        Alignment("hf", -1, "Hugging Face Trainer (2025 and later): step = updates done, LR that update trained with"),
        Alignment("hf-legacy", 0, "Hugging Face Trainer before 2025: step = updates done, LR of the next update"),
        Alignment("composer", 0, "Composer's LRMonitor: at batch end, after the schedulers stepped"),
        Alignment("lightning", 0, "Lightning's LearningRateMonitor: step = updates done, LR of the next update"),
        Alignment("mmengine", -1, "MMEngine: step = iterations done, LR the iteration trained with"),
        Alignment("megatron", 0, "Megatron-LM: step = iterations done, LR after the scheduler stepped"),
        Alignment("deepspeed", 0, "DeepSpeed's monitor: x = samples of the updates done, LR after the scheduler step"),
        Alignment("current", -1, "steps count updates done (from 1), the LR the update trained with"),
        Alignment("next", 0, "steps count updates done (from 1), the LR of the next update"),
        Alignment("zero", 0, "steps count from 0, the LR that update trained with"),
    )
}


def alignment_from_option(text: str) -> Alignment:
    """``--alignment``: a rule's name, or an integer offset."""
    if text in ALIGNMENTS:
        return ALIGNMENTS[text]
    try:
        offset = int(text)
    except ValueError:
        import difflib

        close = difflib.get_close_matches(text, list(ALIGNMENTS), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise LogError(
            f"--alignment {text!r} is neither a logger's rule ({', '.join(ALIGNMENTS)}) nor an offset such as -1{hint}"
        ) from None
    return Alignment(f"{offset:+d}", offset, f"the LR logged at step s is the one update s{offset:+d} trains with")


@dataclass
class LoggedLRs:
    """The LRs one log holds, in its own step numbering.

    Args:
        source: The file read.
        kind: What wrote it (``"hf trainer_state.json"``, ``"tensorboard"``, ...).
        tag: The tag or column the LRs come from.
        steps: The logged steps (int64), in the log's numbering, increasing.
        lrs: The logged LRs (float64).
        alignment: The logger's rule, when the log says what wrote it; else ``None``.
        unit: ``"update"``, or ``"sample"`` when the log's x counts samples (DeepSpeed's ``Train/Samples/lr``,
            Megatron-LM's ``learning-rate vs samples``): :func:`sched_cli.check.rows_of` turns them into
            updates through the plan's batch.
        precision: The relative rounding of the stored values (float32: 2**-24; text: its digits).
        resolution: The absolute rounding of the stored values, when they are written with a fixed
            number of decimals (Composer's ``FileLogger``: 4, so 5e-5); a logged LR within it of
            the plan's matches.
        facts: What the log says of the run (``max_steps``, ``train_batch_size``...).
        notes: Warnings about the log (a truncated file, repeated steps...).
    """

    source: str
    kind: str
    tag: str
    steps: np.ndarray
    lrs: np.ndarray
    alignment: Alignment | None = None
    unit: str = "update"
    precision: float = 0.0
    resolution: float = 0.0
    facts: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
