"""Readers of other tools' files, side by side under one contract: each turns a parsed file into
the same run description (a sched spec mapping) and says what it did with every key.

A reader is a module of this package that defines:

- ``NAME``: its ``--from`` value (``"hf"``, ...); ``TITLE``: the tool, for messages;
- ``TRAINER``: whose training loop ``--as-trainer`` replays (one of
  :data:`sched_cli.simulator.TRAINERS`): the rule by which that tool steps its scheduler;
- ``REFERENCE``: the reference environment its differential test runs in: ``tools/envs/REFERENCE.sh``
  builds it, and ``SCHED_<REFERENCE>_PYTHON`` names its Python for ``tests/test_against_REFERENCE.py``;
- ``CONSUMES``: the command-line options (names of :class:`sched_cli.specs.Overrides` fields) it
  applies itself, so the spec layer does not apply them a second time;
- ``KEYS``: the keys of the file it reads; ``IRRELEVANT``: keys of its tool it knows do not change
  the schedule or the step count (model, data, logging...). Every other key is *unknown*: when its
  name could change the schedule (:func:`could_change_schedule`) the reader names it in a note,
  never drops it silently (:func:`unknown_key_notes`);
- ``recognise(data) -> bool``: whether a parsed file is one of its tool's, from its keys alone (no
  reader may claim a plain sched spec, and no two readers the same file);
- ``read(data, source, options) -> Reading``: the spec mapping, for
  :func:`sched_cli.specs.from_mapping`, with its notes and facts. ``options`` holds the values given
  on the command line (``dataset_size``, ``devices``, ...), for what the file cannot say.
  Problems raise :class:`ReaderError`, one line naming the file, the key, the value and the fix.

Readers import nothing heavy and never run code from the file they read. A file of a tool that no
reader models is refused by :func:`refuse_other_tool` with one line naming the tool, never read as
something else.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

__all__ = [
    "ReaderError",
    "Reading",
    "NAMES",
    "reader",
    "recognise",
    "read",
    "could_change_schedule",
    "unknown_key_notes",
]

#: ``--from`` value -> module of this package, in the order files are tried when recognising.
_MODULES = {
    "foundry": "foundry",
    # before hf: a DeepSpeed config has gradient_accumulation_steps too, but never an HF-only key
    "deepspeed": "deepspeed",
    "hf": "hf",
    "timm": "timm",
    "mmengine": "mmengine",
}
NAMES = tuple(_MODULES)


class ReaderError(ValueError):
    """A config file that a reader cannot turn into a spec; the message names the file and key."""


@dataclass
class Reading:
    """What a reader made of a file.

    Args:
        spec: The sched spec mapping of the run (what :func:`sched_cli.specs.from_mapping` takes).
        notes: One-line warnings: a key it does not model that could change the schedule, another
            tool's block that replaces the schedule, a default that changes the numbers. Printed as
            ``warning:`` lines, and ``validate --strict`` fails on them.
        facts: The numbers the tool derives (steps, warmup steps, samples per update), one line
            each, for ``validate`` to print.
    """

    spec: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    facts: list[str] = field(default_factory=list)


def reader(name: str) -> ModuleType:
    """The reader module for a ``--from`` value."""
    return importlib.import_module(f"{__name__}.{_MODULES[name]}")


def recognise(data: Any) -> str | None:
    """The name of the reader whose config ``data`` is, or ``None`` for a sched spec."""
    for name in NAMES:
        if reader(name).recognise(data):
            return name
    return None


def read(name: str, data: Any, source: str, options: dict[str, Any] | None = None) -> Reading:
    """What reader ``name`` makes of a parsed file."""
    result = reader(name).read(data, source, options or {})
    return result if isinstance(result, Reading) else Reading(result)


# -- key accounting --------------------------------------------------------------------------------
#: Words in a key's name that say it may change the LR, the schedule or the number of steps.
_SCHEDULE_WORDS = re.compile(
    r"lr|learning|sched|warm|step|epoch|iter|batch|accum|decay|cycle|cosine|anneal|milestone|gamma|"
    r"ratio|duration|samples|tokens|rampup|ramp|world|devices|gpus|nodes|packing|eta",
    re.IGNORECASE,
)


def could_change_schedule(key: str) -> bool:
    """Whether a key's name says it could change the schedule or the step count."""
    return bool(_SCHEDULE_WORDS.search(key))


def unknown_key_notes(
    data: dict[str, Any],
    source: str,
    title: str,
    known: Iterable[str],
    where: str = "",
) -> list[str]:
    """One note per key of ``data`` that is not in ``known`` (keys read, or known to be irrelevant)
    and whose name could change the schedule: the reader does not model it, and says so."""
    known = set(known)
    unknown = [str(k) for k in data if k not in known and could_change_schedule(str(k))]
    prefix = f"{where}." if where else ""
    return [
        f"{source}: {prefix}{key} is not modelled by sched's {title} reader and may change the schedule; "
        "the preview leaves it out"
        for key in unknown
    ]
