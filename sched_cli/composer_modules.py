"""Composer's module names, answered by sched's own classes while a custom scheduler file loads.

A custom scheduler written as Composer's documentation writes it begins with
``from composer.core import State, Time, TimeUnit`` and ``from composer.optim import
ComposerScheduler``. When Composer is installed those imports get the real Composer, and
:func:`composer_stand_ins` does nothing: a real Composer is never shadowed. When it is not,
:func:`composer_stand_ins` puts stand-in modules under these names in ``sys.modules`` for as long
as its ``with`` block lasts (the import of one file), and takes them away afterwards:

=============================  =================================================================
``composer``                   a package holding the two below
``composer.core``              ``State``, ``Time``, ``TimeUnit``, ``Timestamp``, ``ensure_time``
``composer.core.time``         ``Time``, ``TimeUnit``, ``Timestamp``, ``ensure_time``
``composer.core.state``        ``State``
``composer.optim``             ``ComposerScheduler``, ``compile_composer_scheduler`` and the 13
                               schedulers by their Composer names (``CosineAnnealingScheduler``...)
``composer.optim.scheduler``   the same
=============================  =================================================================

Anything else (``composer.utils``, ``composer.optim.DecoupledAdamW``) fails to import as it would
without Composer. Names bound by the file keep working after the block: only the module names go.
"""

from __future__ import annotations

import importlib.util
import sys
import types
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sched_cli.schedulers import ComposerScheduler, compile_composer_scheduler
from sched_cli.schedulers import composer as _composer_schedulers
from sched_cli.state import State
from sched_cli.time import Time, Timestamp, TimeUnit

__all__ = ["STAND_IN_MODULES", "composer_available", "composer_stand_ins", "ensure_time"]


def ensure_time(maybe_time: Time | str | int | float, int_unit: TimeUnit | str) -> Time:
    """Composer's ``ensure_time``: a ``Time`` as it is, a time string parsed, a number in ``int_unit``."""
    return Time.from_input(maybe_time, int_unit)


_TIME = {"Time": Time, "TimeUnit": TimeUnit, "Timestamp": Timestamp, "ensure_time": ensure_time}
_SCHEDULERS: dict[str, Any] = {
    "ComposerScheduler": ComposerScheduler,
    "compile_composer_scheduler": compile_composer_scheduler,
    **{name: getattr(_composer_schedulers, name) for name in _composer_schedulers.__all__},
}
#: Module name -> what it holds; the names with submodules are packages.
STAND_IN_MODULES: dict[str, dict[str, Any]] = {
    "composer": {},
    "composer.core": {"State": State, **_TIME},
    "composer.core.time": dict(_TIME),
    "composer.core.state": {"State": State},
    "composer.optim": dict(_SCHEDULERS),
    "composer.optim.scheduler": dict(_SCHEDULERS),
}


def composer_available() -> bool:
    """Whether a real Composer is imported or importable (found without importing it)."""
    module = sys.modules.get("composer")
    if module is not None:
        return not getattr(module, "__sched_stand_in__", False)
    try:
        return importlib.util.find_spec("composer") is not None
    except (ImportError, ValueError):  # a broken entry on sys.path: treat it as there
        return True


@contextmanager
def composer_stand_ins() -> Iterator[bool]:
    """Within the block, ``import composer.core`` and the others resolve to sched's classes,
    unless a real Composer is available. Yields whether the stand-ins are in place."""
    if composer_available():
        yield False
        return
    added: dict[str, types.ModuleType] = {}
    for name, contents in STAND_IN_MODULES.items():
        module = types.ModuleType(name, f"sched's stand-in for {name} (Composer is not installed).")
        module.__dict__.update(contents)
        module.__sched_stand_in__ = True  # type: ignore[attr-defined]
        if any(other.startswith(name + ".") for other in STAND_IN_MODULES):
            module.__path__ = []  # a package: `import composer.core` looks for submodules in it
        parent, _, child = name.rpartition(".")
        if parent:
            setattr(added[parent], child, module)
        added[name] = module
    sys.modules.update(added)
    try:
        yield True
    finally:
        for name, module in added.items():
            if sys.modules.get(name) is module:
                del sys.modules[name]
