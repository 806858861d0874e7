"""Composer's ``FileLogger`` text log, recognised by its line prefixes.

``FileLogger.log_metrics`` writes one line per metric, ``[metric][batch=STEP]: NAME: VALUE``
followed by a space, where ``STEP`` is the ``Logger``'s step (``state.timestamp.batch``: the
updates done) and ``VALUE`` is ``format_log_data_value(value)``: a float with 4 decimals
(``f"{value:.4f}"``), an int as it is, a one-element tensor as its item. Other lines begin
``[hyperparameter]``, ``[stdout]``, ``[stderr]``, ``[trace]`` or ``[table]`` (composer 0.32).
``LRMonitor`` logs ``lr-<Optimizer>/group<N>`` at each batch's end, after the schedulers stepped.
"""

from __future__ import annotations

import re

import numpy as np

from sched_cli.logs import ALIGNMENTS, LogError, LoggedLRs

__all__ = ["is_file_log", "read_file_log", "RESOLUTION"]

#: 4 decimals: a logged LR is the true one to within half the last digit.
RESOLUTION = 0.5e-4
_PREFIX = re.compile(rb"^\[(metric|hyperparameter|stdout|stderr|trace|table)\]", re.M)
# Searched in "\n" + text: a line's start is a literal newline, which the regex engine finds fast.
_NAMES = re.compile(r"\n\[metric\]\[batch=\d+\]: ([^:\n]+): ")


def is_file_log(head: bytes) -> bool:
    """Whether a file's first bytes are FileLogger lines."""
    return _PREFIX.match(head) is not None


def read_file_log(source: str, text: str, choose, tag: str | None) -> LoggedLRs:
    """The LRs of one metric of a FileLogger log; ``choose(names, tag)`` picks the metric."""
    text = "\n" + text
    names = sorted(set(_NAMES.findall(text)))
    chosen = choose(names, tag)
    # Each value is followed by " \n": a last line without them was cut short (a run still writing).
    pattern = re.compile(rf"\n\[metric\]\[batch=(\d+)\]: {re.escape(chosen)}: (\S*) (?=\n)")
    found = pattern.findall(text)
    notes = []
    if text and not text.endswith("\n"):
        notes.append(f"{source}: the last line is cut short (still being written?); it is left out")
    if not found:
        raise LogError(f"{source}: no [metric] line of {chosen!r}")
    steps = np.array([int(step) for step, _ in found], dtype=np.int64)
    try:
        lrs = np.array([float(value) for _, value in found], dtype=np.float64)
    except ValueError:
        bad = next(v for _, v in found if not _is_number(v))
        raise LogError(f"{source}: {chosen} {bad!r} is not a number") from None
    if not np.isfinite(lrs).all():
        raise LogError(f"{source}: {chosen} holds a value that is not a finite number")
    return LoggedLRs(
        source,
        "composer FileLogger",
        chosen,
        steps,
        lrs,
        alignment=ALIGNMENTS["composer"] if chosen.startswith("lr-") else None,
        resolution=RESOLUTION,
        notes=[
            *notes,
            f"{source}: Composer's FileLogger writes 4 decimals: each logged LR is checked to within "
            f"{RESOLUTION:g} (half its last digit), so LRs below about 1e-3 are checked only roughly; "
            "its TensorBoard or W&B copy holds them in full",
        ],
    )


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
