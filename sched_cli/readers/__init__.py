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
- optionally ``NOT_FOR``: the command-line options that mean nothing for its tool's files (option
  name -> what to do instead, or why): given anyway, they are refused in one line, never dropped;
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

- optionally ``accounted(data) -> list[tuple[str, dict]]``: the mappings whose keys the reader
  accounts for, each with where it sits (default: the top level alone; an MCLI run file also has
  its ``parameters``).

:func:`read` applies the key-accounting rule for every reader: each key of the mappings
``accounted`` gives is in ``KEYS``, in ``IRRELEVANT``, or named in a note when its name could
change the schedule (or it is a key of another tool, :mod:`sched_cli.readers.tools`). A key given
twice in the file is read as the tool's own parser reads it (the last value) and named in a note
(:mod:`sched_cli.specs.loading`).

Readers import nothing heavy and never run code from the file they read. A file of a tool that no
reader models is refused by :func:`refuse_other_tool` with one line naming the tool and what it
adds (the table in :mod:`sched_cli.readers.tools`), never read as something else; it is asked
before any reader reads, so ``--from hf`` cannot read an axolotl file either.

Adding a reader touches ``readers/`` and ``schedulers/`` only: write ``readers/NAME.py`` with the
attributes above, add it to ``_MODULES`` below (in the order files are recognised), drop its
tool's entry from :data:`sched_cli.readers.tools.TOOLS` if it had one, put its schedules in
``schedulers/`` with their registry names, and write ``tools/envs/REFERENCE.sh`` and
``tests/test_against_REFERENCE.py``; ``tests/test_readers_contract.py`` then checks it with the
others. ``--from`` offers :data:`NAMES`. ``TRAINER`` names a stepping rule of the simulator, which
sits below the readers and so cannot import them: :data:`sched_cli.simulator.TRAINERS` stays the
simulator's own list of rules, shared by readers (LLM Foundry replays Composer's), and a reader
whose tool steps its scheduler in a new way adds its rule there.
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
    "refuse_other_tool",
    "refuse_options",
    "key_notes",
    "empty_message",
]

#: ``--from`` value -> module of this package, in the order files are tried when recognising.
_MODULES = {
    "foundry": "foundry",
    # before hf: a DeepSpeed config has gradient_accumulation_steps too, but never an HF-only key
    "deepspeed": "deepspeed",
    "hf": "hf",
    "timm": "timm",
    "mmengine": "mmengine",
    "megatron": "megatron",
    # recognised first (see recognise): their files hold HF's (and DeepSpeed's, Megatron's) keys too
    "axolotl": "axolotl",
    "llamafactory": "llamafactory",
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
    for name in (*_FRONT_ENDS, *(n for n in NAMES if n not in _FRONT_ENDS)):
        if reader(name).recognise(data):
            return name
    return None


def read(name: str, data: Any, source: str, options: dict[str, Any] | None = None) -> Reading:
    """What reader ``name`` makes of a parsed file: a file of a tool no reader models is refused
    first, and every key the reader does not account for and that could change the schedule is
    named in a note."""
    refuse_other_tool(data, source)
    refuse_front_end(name, data, source)
    module = reader(name)
    if isinstance(data, dict) and not data:
        raise ReaderError(empty_message(name, source))
    refuse_options(module, source, options or {})
    result = module.read(data, source, options or {})
    reading = result if isinstance(result, Reading) else Reading(result)
    notes = key_notes(module, data, source)
    reading.notes[:0] = [note for note in notes if note not in reading.notes]
    return reading


def refuse_options(module: ModuleType, source: str, options: dict[str, Any]) -> None:
    """Raise :class:`ReaderError` for a command-line option the reader's tool has no use for
    (its ``NOT_FOR``): ``--step-every`` on a timm file would otherwise be dropped without a word."""
    for option, instead in getattr(module, "NOT_FOR", {}).items():
        if options.get(option) is not None:
            flag = "--" + option.replace("_", "-")
            raise ReaderError(f"{source}: {flag} does not apply to this {module.TITLE} file; {instead}")


def empty_message(name: str, source: str) -> str:
    """What an empty file read with ``--from name`` lacks, in its tool's words (a reader's
    ``EMPTY``), not sched's own keys."""
    module = reader(name)
    return f"{source}: the file is empty; {getattr(module, 'EMPTY', f'it needs the keys of a {module.TITLE} file')}"


def refuse_other_tool(data: Any, source: str) -> None:
    """Raise :class:`ReaderError` when ``data`` is a file of a tool no reader models (see
    :mod:`sched_cli.readers.tools`): one line naming the tool and what it adds."""
    from sched_cli.readers import tools

    refusal = tools.identify(data, source)
    if refusal is not None:
        raise ReaderError(refusal)


#: Readers of tools that hand the run to another's trainer: their files hold that trainer's keys
#: too, so no other reader may read one as its own (an axolotl file under ``--from hf``).
_FRONT_ENDS = ("axolotl", "llamafactory")


def front_end(data: Any) -> str | None:
    """The front-end reader (axolotl, LLaMA-Factory) that recognises ``data``, or ``None``: their
    files hold Hugging Face's keys too, so the HF reader leaves them to it."""
    return next((name for name in _FRONT_ENDS if reader(name).recognise(data)), None)


def refuse_front_end(name: str, data: Any, source: str) -> None:
    """Raise :class:`ReaderError` when another reader's front-end tool recognises ``data``."""
    other = front_end(data)
    if other is not None and other != name:
        title = reader(other).TITLE
        article = "an" if title[0].lower() in "aeiou" else "a"
        raise ReaderError(
            f"{source}: this is {article} {title} config, which changes Hugging Face's schedule and step count on"
            f" the way to its Trainer; read it with --from {other} (or without --from)"
        )


def key_notes(module: ModuleType, data: Any, source: str) -> list[str]:
    """The reader's notes on the keys it neither reads (``KEYS``) nor knows to be irrelevant
    (``IRRELEVANT``): one per key whose name could change the schedule or that belongs to another tool."""
    if not isinstance(data, dict) or not hasattr(module, "KEYS"):
        return []  # a reader that does not yet say which keys it reads
    known = set(module.KEYS) | set(getattr(module, "IRRELEVANT", ()))
    accounted = getattr(module, "accounted", None)
    places = accounted(data) if accounted is not None else [("", data)]
    notes: list[str] = []
    for where, mapping in places:
        notes += unknown_key_notes(mapping, source, module.TITLE, known, where)
    return notes


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
    from sched_cli.readers.tools import tool_keys

    known = set(known)
    others = tool_keys().union(*(reader(name).IDENTIFYING for name in _FRONT_ENDS))
    unknown = [str(k) for k in data if k not in known and (could_change_schedule(str(k)) or k in others)]
    prefix = f"{where}." if where else ""
    return [
        f"{source}: {prefix}{key} is not modelled by sched's {title} reader and may change the schedule; "
        "the preview leaves it out"
        for key in unknown
    ]
