"""Option values turned into Python values without pydantic.

Typer 0.29 coerces every option of the command being run through a pydantic ``TypeAdapter``:
importing pydantic (and the ``importlib.metadata`` scan of its plugin loader) costs more than
the rest of a small ``sched export``. sched's options are plain types (str, int, float, bool,
Path, an Enum, lists of them, bounds by ``min=``), which this module converts directly, as click
did before typer 0.23; any other annotation goes to typer's own coercion. Older typer releases
(click's own types, no pydantic) have no ``build_runtime_param``, and are left as they are.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from pathlib import Path
from typing import Any, get_args, get_origin

_TRUE = {"1", "true", "t", "yes", "y", "on"}
_FALSE = {"0", "false", "f", "no", "n", "off", ""}


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def _number(kind: type, label: str, low: float | None, high: float | None) -> Callable[[Any], Any]:
    def convert(value: Any) -> Any:
        if isinstance(value, kind) and not isinstance(value, bool):
            number = value
        else:
            try:
                number = kind(_text(value).strip())
            except (ValueError, OverflowError):
                raise ValueError(f"{value!r} is not a valid {label}.") from None
        if low is not None and number < low:
            raise ValueError(f"{number} is less than the minimum, {low}.")
        if high is not None and number > high:
            raise ValueError(f"{number} is more than the maximum, {high}.")
        return number

    return convert


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = _text(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"{value!r} is not a valid boolean.")


def _plain_path(info: Any) -> bool:
    """Whether a Path option asks for nothing beyond the conversion (no checks on the file)."""
    return (
        not getattr(info, "exists", False)
        and getattr(info, "file_okay", True)
        and getattr(info, "dir_okay", True)
        and not getattr(info, "writable", False)
        and not getattr(info, "resolve_path", False)
        and not getattr(info, "allow_dash", False)
        and getattr(info, "path_type", None) is None
    )


def converter(annotation: Any, info: Any) -> Callable[[Any], Any] | None:
    """How to convert one value of ``annotation`` (declared with ``info``); None if this module
    does not model it (typer's own coercion then does)."""
    if getattr(info, "parser", None) is not None:
        return None
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        from typer._param_types import coerce_cli_choice

        choices = list(annotation)
        case_sensitive = getattr(info, "case_sensitive", True)
        return lambda value: coerce_cli_choice(value, choices=choices, case_sensitive=case_sensitive)
    if annotation in (int, float):
        if getattr(info, "clamp", False):
            return None
        label = "integer" if annotation is int else "float"
        return _number(annotation, label, getattr(info, "min", None), getattr(info, "max", None))
    if annotation is bool:
        return _bool
    if annotation is str:
        return _text
    if annotation is Path and _plain_path(info):
        return lambda value: Path(_text(value))
    return None


def install() -> None:
    """Have typer coerce sched's options with :func:`converter` (once; a no-op on typer releases
    without pydantic coercion)."""
    try:
        from typer import core
        from typer._click.exceptions import BadParameter
        from typer._coercion import RuntimeParam
    except ImportError:  # pragma: no cover - typer before 0.23: click's types, no pydantic
        return
    original = getattr(core, "build_runtime_param", None)
    if original is None or getattr(original, "_sched", False):  # pragma: no cover
        return
    from dataclasses import dataclass

    @dataclass(frozen=True)
    class Plain(RuntimeParam):
        """A value (or each value of a list) converted by one function."""

        convert: Callable[[Any], Any] = _text
        many: bool = False

        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            try:
                if self.many:
                    items = value if isinstance(value, (list, tuple)) else [value]
                    return [self.convert(item) for item in items]
                return self.convert(value)
            except ValueError as exc:
                raise BadParameter(str(exc), ctx=ctx, param=param) from None

    def build(descriptor: Any) -> Any:
        if getattr(descriptor, "file_annotation", None) is None:
            annotation = descriptor.annotation
            many = get_origin(annotation) is list
            if many:
                (annotation,) = get_args(annotation) or (Any,)
            convert = converter(annotation, descriptor.parameter_info)
            if convert is not None:
                return Plain(
                    parameter_info=descriptor.parameter_info,
                    annotation=descriptor.annotation,
                    convert=convert,
                    many=many,
                )
        return original(descriptor)

    build._sched = True  # type: ignore[attr-defined]
    core.build_runtime_param = build
