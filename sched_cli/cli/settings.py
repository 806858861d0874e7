"""What-if comparisons across run settings, for ``compare``, ``plot`` and ``report``.

A run setting (``--devices``, ``--dataset-size``, ``--max-duration``, ``--lr``...) given several
times is compared the way ``--ssr`` is: each spec is loaded once per value, and its curve and
summary row are labelled by what changed (``devices=8``). One setting may vary at a time (with
``--ssr`` beside it); two varying settings are refused, as their product would be a grid that no
legend reads well.

A setting that belongs to one spec only follows it after ``@``: ``args.json@devices=16`` or
``'cosine_with_warmup(t_warmup=500ba)@max_duration=10000ba'`` (several joined by ``,``). An
inline expression may also carry its run settings as parts of its own:
``'cosine_with_warmup(t_warmup=500ba); max_duration=10000ba'``. A spec's own setting wins over
the command line's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from sched_cli.cli.process import UserError

if TYPE_CHECKING:  # pragma: no cover
    from sched_cli.specs import Overrides, Spec

#: Run settings that may vary (repeated options) or be given per spec, and how each is read.
SETTINGS: dict[str, type] = {
    "max_duration": str,
    "dataloader_len": int,
    "dataset_size": int,
    "devices": int,
    "device_batch_size": int,
    "batch_size": int,
    "seq_len": int,
    "lr": float,
    "step_every": str,
    "drop_last": bool,
}
#: The settings an option may repeat (``--drop-last`` is a switch: one value).
REPEATABLE = tuple(name for name in SETTINGS if name != "drop_last")

_SETTING = re.compile(r"^\s*(?P<name>[A-Za-z][\w-]*)\s*=\s*(?P<value>\S.*?)\s*$", re.DOTALL)


def option_name(name: str) -> str:
    return "--" + name.replace("_", "-")


@dataclass
class Settings:
    """The command line's run options: one value each in ``base``, and the one setting given
    several times with its values in order (``varying``)."""

    base: Overrides
    name: str | None = None
    values: list[Any] = field(default_factory=list)


def settings_from(values: dict[str, Any], make: Any) -> Settings:
    """:class:`Settings` from the run options' values (lists for the repeatable ones);
    ``make(**values)`` builds an :class:`Overrides`. Two varying settings are refused."""
    varying = {}
    single = {}
    for name, value in values.items():
        if name in REPEATABLE:
            distinct = list(dict.fromkeys(value or []))
            if len(distinct) > 1:
                varying[name] = distinct
            single[name] = distinct[0] if distinct else None
        else:
            single[name] = value
    if len(varying) > 1:
        given = " and ".join(f"{option_name(n)} ({', '.join(map(_text, v))})" for n, v in varying.items())
        raise UserError(
            f"{given} both vary; compare one setting at a time (with --ssr beside it), or write each "
            "combination as SPEC@name=value, e.g. spec.yaml@devices=8,lr=1e-3"
        )
    name, chosen = next(iter(varying.items()), (None, []))
    if name is not None:
        single[name] = None
    return Settings(make(**single), name, chosen)


def split_settings(arg: str) -> tuple[str, dict[str, Any]]:
    """A SPEC argument without its own run settings (``SPEC@devices=16,lr=1e-3``, or an inline
    expression's ``; max_duration=1000ba`` parts), and those settings by name."""
    from sched_cli.specs import is_spec_file_argument

    own: dict[str, Any] = {}
    head, at, tail = arg.rpartition("@")
    if at and head and "=" in tail and "(" not in tail:
        for item in tail.split(","):
            _add(own, item, arg)
        arg = head
    if not is_spec_file_argument(arg) and ";" in arg:
        kept = []
        for part in _top_level(arg, ";"):
            match = _SETTING.match(part)
            if match and "(" not in part and _name(match["name"]) in SETTINGS:
                _add(own, part, arg)
            else:
                kept.append(part)
        arg = ";".join(kept)
    return arg, own


def _name(text: str) -> str:
    return text.strip().lstrip("-").replace("-", "_")


def _add(own: dict[str, Any], item: str, arg: str) -> None:
    match = _SETTING.match(item)
    if match is None:
        raise UserError(f"{arg!r}: {item.strip()!r} is not name=value (e.g. {arg.split('@')[0]}@devices=16)")
    name = _name(match["name"])
    if name not in SETTINGS:
        import difflib

        close = difflib.get_close_matches(name, SETTINGS, n=1)
        hint = f"did you mean {close[0]}? " if close else ""
        raise UserError(f"{arg!r}: {name!r} is not a run setting; {hint}settings: {', '.join(SETTINGS)}")
    if name in own:
        raise UserError(f"{arg!r}: {name} is given twice")
    own[name] = _convert(name, match["value"], arg)


def _convert(name: str, text: str, arg: str) -> Any:
    kind = SETTINGS[name]
    try:
        if kind is int:
            value: Any = int(text.replace("_", ""))
            if value < 1:
                raise ValueError
            return value
        if kind is float:
            return float(text)
        if kind is bool:
            if text.lower() not in ("true", "false", "yes", "no", "1", "0"):
                raise ValueError
            return text.lower() in ("true", "yes", "1")
    except ValueError:
        what = {int: "a whole number of at least 1", float: "a number", bool: "true or false"}[kind]
        raise UserError(f"{arg!r}: {name}={text!r} must be {what}") from None
    if name == "step_every" and text not in ("batch", "epoch"):
        raise UserError(f"{arg!r}: step_every={text!r} must be batch or epoch")
    return text


def _top_level(text: str, sep: str) -> list[str]:
    """``text`` split at ``sep`` outside brackets."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


def _text(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


@dataclass
class Loaded:
    """The specs to show (one per spec argument and value of the varying setting), the text each
    came from, and a title naming what varies (``None``: the default title)."""

    specs: list[Spec]
    inputs: list[str]
    title: str | None


def load_all(args: list[str], settings: Settings, ssrs: list[float] | None, labels: list[str] | None) -> Loaded:
    """Every spec argument at every value of the varying setting, each labelled by what changed."""
    from sched_cli.cli.options import load

    values = settings.values or [None]
    specs, inputs = [], []
    bases = []
    for i, arg in enumerate(args):
        text, own = split_settings(arg)
        for value in values:
            changes = dict(own)
            if settings.name is not None and settings.name not in own:
                changes[settings.name] = value
            spec = load(text, replace(settings.base, **changes), ssrs)
            base = labels[i] if labels else spec.label
            # An inline expression's own settings are part of it (its length): not named again.
            tags = [] if spec.expression else [f"{n}={_text(v)}" for n, v in own.items()]
            if settings.name is not None and settings.name not in own:
                tags.append(f"{settings.name}={_text(value)}")
            if tags or labels:
                shown = " ".join(tags) if len(args) == 1 and settings.name and not own and not labels else None
                spec = replace(spec, title=shown or " ".join([base, *tags]))
            specs.append(spec)
            inputs.append(arg)
            bases.append(base)
    title = None
    if settings.name is not None:
        what = f"{settings.name} {' vs '.join(map(_text, values))}"
        names = list(dict.fromkeys(bases))
        title = f"{' vs '.join(names)}: {what}" if len(names) <= 2 else what
    return Loaded(specs, inputs, title)
