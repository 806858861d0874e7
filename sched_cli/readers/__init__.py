"""Readers of other tools' training configs, side by side: each turns a parsed file into a spec.

A reader is a module of this package with:

- ``NAME``: its ``--from`` value (``"foundry"``, ...), and ``TITLE``: the tool, for messages;
- ``recognise(data) -> bool``: whether a parsed file is one of its configs, from its keys alone
  (no reader may claim a plain sched spec, and no two readers the same file);
- ``read(data, source, options) -> dict``: the sched spec mapping the file describes, for
  :func:`sched_cli.specs.from_mapping` (the same run description every reader produces);
  ``options`` holds the values given on the command line (``dataset_size``, ``devices``, ...), for
  what the file cannot say. Problems raise :class:`ReaderError` naming the file and the key.

Readers import nothing heavy and never run code from the file they read.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

__all__ = ["ReaderError", "NAMES", "reader", "recognise", "read"]

#: ``--from`` value -> module of this package, in the order files are tried when recognising.
_MODULES = {
    "foundry": "foundry",
    "hf": "hf",
    "timm": "timm",
    "mmengine": "mmengine",
}
NAMES = tuple(_MODULES)


class ReaderError(ValueError):
    """A config file that a reader cannot turn into a spec; the message names the file and key."""


def reader(name: str) -> ModuleType:
    """The reader module for a ``--from`` value."""
    return importlib.import_module(f"{__name__}.{_MODULES[name]}")


def recognise(data: Any) -> str | None:
    """The name of the reader whose config ``data`` is, or ``None`` for a sched spec."""
    for name in NAMES:
        if reader(name).recognise(data):
            return name
    return None


def read(name: str, data: Any, source: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
    """The sched spec mapping of a config read by reader ``name``."""
    return reader(name).read(data, source, options or {})
