"""Building a spec's schedulers: built-in ones from the registry (``sequential`` phases
included), PyTorch's by name, and custom ones from a file or module the spec may import."""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sched_cli import registry
from sched_cli.composer_modules import composer_stand_ins
from sched_cli.schedulers.base import BuiltinScheduler, ScheduleError
from sched_cli.schedulers.torch_native import TorchScheduler, is_torch_scheduler_name
from sched_cli.specs.values import _kind, _number, _time_value, _Where
from sched_cli.time import TimeStringError
from sched_cli.trust import UntrustedCode

#: How deep `sequential` phases may nest (each level is a scheduler inside a phase).
MAX_PHASE_DEPTH = 16


def _build(where: _Where, config: dict[str, Any], base_dir: Path) -> Callable[..., Any]:
    config = dict(config)
    name = config.pop("name", None)
    if name is None:
        raise where.error("name", "is required: a scheduler name such as cosine_with_warmup (see `sched list`)")
    if not isinstance(name, str):
        raise where.error("name", f"expected a scheduler name, got {_kind(name)}")
    entry = registry.lookup(name)
    if entry is not None:
        return _build_builtin(where, entry, config, base_dir)
    if is_torch_scheduler_name(name):
        try:
            return TorchScheduler(name, **config)
        except (ScheduleError, ImportError) as exc:
            raise where.error("name", str(exc)) from None
    if ":" in name:
        return _build_custom(where, name, config, base_dir)
    raise where.error(
        "name",
        f"unknown scheduler {name!r}{registry.suggest(name, registry.all_names())}; "
        "run `sched list` for every name, or give a custom one as path/to/file.py:function",
    )


def _build_builtin(where: _Where, entry: registry.Entry, config: dict[str, Any], base_dir: Path) -> BuiltinScheduler:
    params = {p.name: p for p in entry.params}
    for key in config:
        if key not in params:
            raise where.error(
                str(key),
                f"{entry.name} has no parameter {key!r}{registry.suggest(str(key), list(params))}; "
                f"its parameters are {', '.join(params)}",
            )
    missing = [p.name for p in params.values() if p.required and p.name not in config]
    if missing:
        raise where.error(missing[0], f"is required by {entry.name} (required: {', '.join(missing)})")
    kwargs = {}
    for key, value in config.items():
        kind = params[key].kind
        if kind == "time":
            _time_value(where, key, value)
            kwargs[key] = value.strip()
        elif kind == "times":
            if not isinstance(value, list):
                raise where.error(key, f"expected a list of times such as [30ep, 60ep], got {_kind(value)}")
            for i, v in enumerate(value):
                _time_value(where, f"{key}[{i}]", v)
            kwargs[key] = [v.strip() for v in value]
        elif kind == "bool":
            if not isinstance(value, bool):
                raise where.error(key, f"expected true or false, got {_kind(value)}")
            kwargs[key] = value
        elif kind == "str":
            if not isinstance(value, str):
                raise where.error(key, f"expected a word such as {params[key].default!r}, got {_kind(value)}")
            kwargs[key] = value.strip()
        elif kind == "phases":
            kwargs[key] = _phases(where, key, value, base_dir)
        elif kind == "mappings":
            kwargs[key] = value
        else:
            kwargs[key] = _number(where, key, value)
    try:
        return entry.cls(**kwargs)
    except (ScheduleError, TimeStringError, ValueError, TypeError) as exc:
        # The constructor's own checks (a word it does not know, phases that do not fit).
        raise where.error("", str(exc)) from None


def _phases(where: _Where, key: str, value: Any, base_dir: Path) -> list[dict[str, Any]]:
    """``[{duration: 2000ba, scheduler: {name: ...}}, ...]``: each phase's scheduler built like a
    top-level one."""
    if not isinstance(value, list) or not value:
        raise where.error(key, f"expected a non-empty list of phases (duration and scheduler), got {_kind(value)}")
    # Each nested phase adds one "].scheduler" to where we are; bound it before recursing.
    if where.prefix.count("].scheduler") >= MAX_PHASE_DEPTH:
        raise where.error(key, f"phases nest more than {MAX_PHASE_DEPTH} deep; sched builds at most {MAX_PHASE_DEPTH}")
    phases = []
    for i, phase in enumerate(value):
        at = f"{key}[{i}]"
        if not isinstance(phase, dict) or set(phase) != {"duration", "scheduler"}:
            raise where.error(at, f"expected a mapping with exactly `duration` and `scheduler`, got {_kind(phase)}")
        _time_value(where, f"{at}.duration", phase["duration"])
        if not isinstance(phase["scheduler"], dict):
            raise where.error(f"{at}.scheduler", f"expected a mapping with a `name`, got {_kind(phase['scheduler'])}")
        built = _build(
            where.at(f".{at}.scheduler" if where.prefix else f"{at}.scheduler"), phase["scheduler"], base_dir
        )
        phases.append({"scheduler": built, "duration": phase["duration"].strip()})
    return phases


def _build_custom(where: _Where, name: str, config: dict[str, Any], base_dir: Path) -> Callable[..., Any]:
    target, _, attr = name.rpartition(":")
    if not target or not attr.isidentifier():
        raise where.error("name", f"{name!r}: a custom scheduler is path/to/file.py:name or package.module:name")
    # The trust rule, before anything is imported or called.
    what = f"call {attr}({_kwargs(config, limit=80)})"
    try:
        if target.endswith(".py") or "/" in target or "\\" in target:
            path = where.trust.check_file(target, base_dir, what)
        else:
            where.trust.check_module(target, what)
    except UntrustedCode as exc:
        raise where.error("name", f"{name!r} {exc}") from None
    if target.endswith(".py") or "/" in target or "\\" in target:
        module = _import_file(where, path, target)
    else:
        try:
            module = importlib.import_module(target)
        except ModuleNotFoundError as exc:
            raise where.error("name", f"cannot import module {target!r}: {exc}") from None
        except (Exception, SystemExit) as exc:  # noqa: BLE001 - any failure of user code is reported, not raised
            raise where.error("name", f"importing {target!r} failed: {type(exc).__name__}: {exc}") from None
    if not hasattr(module, attr):
        names = [n for n in vars(module) if not n.startswith("_")]
        raise where.error("name", f"{target!r} has no attribute {attr!r}{registry.suggest(attr, names)}")
    obj = getattr(module, attr)
    if inspect.isclass(obj):
        try:
            return obj(**config)
        except (Exception, SystemExit) as exc:  # noqa: BLE001 - sys.exit() in user code must not end sched
            raise where.error(
                "name", f"constructing {attr}({_kwargs(config)}) failed: {type(exc).__name__}: {exc}"
            ) from None
    if not callable(obj):
        raise where.error("name", f"{name!r} is {_kind(obj)}, not a function or class")
    if config:
        raise where.error(
            next(iter(config)), f"{attr} is a function, so it takes no parameters (got {', '.join(config)})"
        )
    return obj


def _kwargs(config: dict[str, Any], limit: int | None = None) -> str:
    text = ", ".join(f"{k}={v!r}" for k, v in config.items())
    return text if limit is None or len(text) <= limit else text[: limit - 3] + "..."


def _import_file(where: _Where, path: Path, shown: str) -> Any:
    if not path.is_file():
        raise where.error("name", f"no such file {shown!r} (looked for {path})")
    module_name = f"sched_custom_{abs(hash(str(path)))}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise where.error("name", f"cannot load {shown!r} as a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    standing_in = False
    try:
        # Code written for Composer imports composer.core and composer.optim: without Composer,
        # sched's classes answer to those names while the file loads.
        with composer_stand_ins() as standing_in:
            spec.loader.exec_module(module)
    except (Exception, SystemExit) as exc:  # noqa: BLE001 - sys.exit() in user code must not end sched
        del sys.modules[module_name]
        line = ""
        tb = exc.__traceback__
        while tb is not None:
            if tb.tb_frame.f_code.co_filename == str(path):
                line = f" (line {tb.tb_lineno})"
            tb = tb.tb_next
        hint = ""
        if standing_in and isinstance(exc, ImportError) and "composer" in str(exc):
            hint = (
                "; Composer is not installed, and sched stands in only for composer.core (State, Time, TimeUnit, "
                "Timestamp) and composer.optim (ComposerScheduler and the 13 schedulers)"
            )
        what = f"called sys.exit({exc.code!r})" if isinstance(exc, SystemExit) else f"{type(exc).__name__}: {exc}"
        raise where.error("name", f"importing {shown!r} failed{line}: {what}{hint}") from None
    return module
