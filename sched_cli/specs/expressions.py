"""Inline scheduler expressions: ``'cosine_with_warmup(t_warmup=100ba); constant'`` read into
scheduler configs, and shortened into labels for legends and tables."""

from __future__ import annotations

import re
from typing import Any

from sched_cli import parsing
from sched_cli.specs.values import SpecError

# A name may be a path (`../lib/mine.py:f`, `/abs/mine.py:f`): inline, the user chose the file.
_EXPRESSION = re.compile(r"^\s*(?P<name>[A-Za-z_./\\~][\w./\\:~-]*)\s*(?:\((?P<args>.*)\))?\s*$", re.DOTALL)


def _looks_like_expression(text: str) -> bool:
    return all(_EXPRESSION.match(part) for part in _split(text, ";"))


def parse_expression(text: str) -> list[dict[str, Any]]:
    """Scheduler configs from ``'name(key=value, ...)'``; several may be joined with ``;``.

    Values are read as YAML scalars and lists, so ``t_warmup=100ba``, ``alpha_f=0.1``,
    ``milestones=[30ep, 60ep]`` and ``scale_warmup=true`` all work unquoted.
    """
    configs = []
    for part in _split(text, ";"):
        match = _EXPRESSION.match(part)
        if match is None:
            raise SpecError(f"cannot read scheduler expression {part.strip()!r}; expected name(key=value, ...)")
        config: dict[str, Any] = {"name": match.group("name")}
        args = match.group("args")
        for item in _split(args or "", ","):
            if not item.strip():
                continue
            key, eq, value = item.partition("=")
            if not eq or not key.strip().isidentifier():
                raise SpecError(f"in {part.strip()!r}: {item.strip()!r} is not key=value")
            if key.strip() in config:
                raise SpecError(f"in {part.strip()!r}: {key.strip()!r} is given twice")
            try:
                config[key.strip()] = parsing.yaml_value(value.strip(), f"in {part.strip()!r}: {key.strip()}")
            except parsing.ParseError as exc:
                raise SpecError(str(exc)) from None
        configs.append(config)
    if not configs:
        raise SpecError("the scheduler expression is empty")
    return configs


#: Labels longer than this are shortened by eliding arguments in the middle; the first and last
#: argument stay, so a label may reach LABEL_HARD_LIMIT before its text is cut.
LABEL_LIMIT = 40
LABEL_HARD_LIMIT = 60


def short_expression(text: str, limit: int | None = LABEL_LIMIT) -> str:
    """A scheduler expression as a label: spaces normalised (``name(a=1, b=2)``, parts joined
    by ``"; "``); when longer than ``limit`` characters, arguments in the middle are elided
    (``name(a=1, …, z=9)``), keeping the first and the last; what is still longer than
    :data:`LABEL_HARD_LIMIT` is cut in its middle."""
    parts: list[tuple[str, list[str] | None]] = []
    for part in _split(text, ";"):
        match = _EXPRESSION.match(part)
        if match is None:
            parts.append((" ".join(part.split()), None))
            continue
        args = [" ".join(a.split()) for a in _split(match.group("args") or "", ",") if a.strip()]
        parts.append((match.group("name"), args if match.group("args") is not None else None))

    def show(head: int, tail: int) -> str:
        shown = []
        for name, args in parts:
            if args is None:
                shown.append(name)
                continue
            if head + tail < len(args):
                args = args[:head] + ["…"] + args[len(args) - tail :]
            shown.append(f"{name}({', '.join(args)})")
        return "; ".join(shown)

    full = show(10**9, 0)
    if limit is None or len(full) <= limit:
        return full
    most = max((len(a) for _, a in parts if a), default=0)
    # The most arguments that fit, split between the first ones and the last ones.
    for keep in range(most - 1, 1, -1):
        candidate = show(keep - keep // 2, keep // 2)
        if len(candidate) <= limit:
            return candidate
    candidate = show(1, 1)
    if len(candidate) <= LABEL_HARD_LIMIT:
        return candidate
    half = (limit - 1) // 2
    return candidate[: limit - 1 - half] + "…" + candidate[len(candidate) - half :]


def _split(text: str, sep: str) -> list[str]:
    """Split on ``sep`` outside brackets and quotes."""
    parts, depth, quote, current = [], 0, "", []
    for ch in text:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == sep and depth == 0:
            parts.append("".join(current))
            current = []
            continue
        current.append(ch)
    parts.append("".join(current))
    return [p for p in parts if p.strip()] if sep == ";" else parts
