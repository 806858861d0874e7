"""Read and validate run specs: YAML, JSON or TOML files, other tools' files through
:mod:`sched_cli.readers`, and inline scheduler expressions.

The package, by what each module does (each imports only those above it):

- :mod:`~sched_cli.specs.values`: :class:`SpecError` and the checks of single values;
- :mod:`~sched_cli.specs.expressions`: inline expressions (:func:`parse_expression`, :func:`short_expression`);
- :mod:`~sched_cli.specs.types`: the data types (:class:`Spec`, :class:`Overrides`);
- :mod:`~sched_cli.specs.build`: building schedulers (built-in, ``sequential`` phases, PyTorch, custom);
- :mod:`~sched_cli.specs.loading`: loading files and mappings (:func:`load`, :func:`load_file`,
  :func:`from_mapping`), with the dispatch to other tools' readers;
- :mod:`~sched_cli.specs.checks`: the checks and notes behind ``validate`` (:func:`check`,
  :func:`resume_notes`, :func:`replay_notes`).

Every public name is importable from ``sched_cli.specs`` itself. Each is imported on first use, so
``import sched_cli.specs`` costs nothing until a name is needed (start-up matters to the CLI).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from sched_cli.specs.build import MAX_PHASE_DEPTH
    from sched_cli.specs.checks import check, replay_notes, resume_notes
    from sched_cli.specs.expressions import LABEL_HARD_LIMIT, LABEL_LIMIT, parse_expression, short_expression
    from sched_cli.specs.loading import (
        SPEC_SUFFIXES,
        TOP_LEVEL_KEYS,
        from_mapping,
        is_spec_file_argument,
        load,
        load_file,
        plan_file,
        with_ssrs,
    )
    from sched_cli.specs.types import Overrides, Spec
    from sched_cli.specs.values import MAX_COUNT, SpecError, skipped_steps

#: Public name -> the module of this package that defines it.
_HOMES = {
    "SpecError": "values",
    "MAX_COUNT": "values",
    "skipped_steps": "values",
    "parse_expression": "expressions",
    "short_expression": "expressions",
    "LABEL_LIMIT": "expressions",
    "LABEL_HARD_LIMIT": "expressions",
    "Spec": "types",
    "Overrides": "types",
    "MAX_PHASE_DEPTH": "build",
    "SPEC_SUFFIXES": "loading",
    "TOP_LEVEL_KEYS": "loading",
    "load": "loading",
    "load_file": "loading",
    "from_mapping": "loading",
    "is_spec_file_argument": "loading",
    "with_ssrs": "loading",
    "plan_file": "loading",
    "check": "checks",
    "resume_notes": "checks",
    "replay_notes": "checks",
}

__all__ = [
    "SpecError",
    "Spec",
    "Overrides",
    "load",
    "load_file",
    "from_mapping",
    "is_spec_file_argument",
    "with_ssrs",
    "plan_file",
    "parse_expression",
    "short_expression",
    "check",
    "resume_notes",
    "replay_notes",
    "SPEC_SUFFIXES",
    "TOP_LEVEL_KEYS",
    "MAX_COUNT",
    "skipped_steps",
    "MAX_PHASE_DEPTH",
    "LABEL_LIMIT",
    "LABEL_HARD_LIMIT",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_HOMES])
