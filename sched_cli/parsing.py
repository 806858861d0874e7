"""Read and parse spec files within bounds: YAML, JSON and TOML, however hostile the input.

Every file read by sched (its own specs and other tools' configs) goes through here, so that no
input can hang sched, exhaust memory or crash the parser:

- **size**: at most :data:`MAX_BYTES` are read, from any kind of file (a symlink to
  ``/dev/zero`` fails after reading that much, at once);
- **nesting**: at most :data:`MAX_DEPTH` levels of lists and mappings (a file nested 100,000
  deep is an error, not a ``RecursionError``);
- **expansion**: at most :data:`MAX_VALUES` values once YAML aliases are expanded (an alias bomb,
  "a billion laughs", is refused while it is read, in time proportional to the file);
- **duplicates**: a key given twice in one mapping is an error naming the key (YAML and JSON
  silently keep the last one; TOML already refuses); other tools' files, read as their own
  parser reads them, keep the last value and have each duplicate recorded (:class:`Duplicate`)
  for a warning;
- **numbers**: an integer too long for Python to read (more than 4300 digits) is an error;
- a UTF-8 byte order mark is skipped, for every format.

Errors are :class:`ParseError` whose message starts with the file name.
"""

from __future__ import annotations

import json
import os
import re
import stat
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["MAX_BYTES", "MAX_DEPTH", "MAX_VALUES", "Duplicate", "ParseError", "read_text", "parse", "yaml_value"]

#: The largest spec file read (spec files are a few kilobytes; LLM Foundry's are under 10 kB).
MAX_BYTES = 4 * 2**20
#: The deepest nesting of lists and mappings (a spec needs about 3 levels per `sequential`).
MAX_DEPTH = 64
#: The most values (scalars, lists, mappings) a file may hold once YAML aliases are expanded.
MAX_VALUES = 100_000


class ParseError(ValueError):
    """A file that cannot be read or parsed within bounds; the message names the file."""


@dataclass(frozen=True)
class Duplicate:
    """A key given twice in one mapping: where (``line``, 0 when the parser does not say), the
    values in the order given (the last one is what PyYAML and ``json`` keep), and the message
    sched's own specs are refused with."""

    key: str
    line: int
    values: tuple[str, ...]
    refusal: str

    def note(self, source: str) -> str:
        where = f" (line {self.line})" if self.line else ""
        return (
            f"{source}: key {self.key!r} is given twice{where}, as {' then '.join(self.values)}; read as the tool "
            f"reads it, with the last value {self.values[-1]}"
        )


def read_text(path: str | os.PathLike[str]) -> str:
    """The text of ``path``: at most :data:`MAX_BYTES` bytes of UTF-8, byte order mark removed.

    Any kind of file is read (a pipe or ``/dev/stdin`` too), but never more than the limit.
    """
    shown = os.fspath(path)
    try:
        with open(path, "rb") as stream:
            if stat.S_ISDIR(os.fstat(stream.fileno()).st_mode):  # pragma: no cover - open() refuses first
                raise ParseError(f"{shown}: is a directory, not a spec file")
            data = stream.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise ParseError(f"{shown}: no such spec file") from None
    except IsADirectoryError:
        raise ParseError(f"{shown}: is a directory, not a spec file") from None
    except PermissionError:
        raise ParseError(f"{shown}: permission denied") from None
    except OSError as exc:
        raise ParseError(f"{shown}: cannot read: {exc.strerror or exc}") from None
    if len(data) > MAX_BYTES:
        raise ParseError(
            f"{shown}: is larger than {MAX_BYTES // 2**20} MiB, the most sched reads; a spec file is a few kilobytes"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ParseError(f"{shown}: not a text file (it is not valid UTF-8)") from None
    return text.removeprefix("\ufeff")


def parse(text: str, kind: str, source: str, duplicates: list[Duplicate] | None = None) -> Any:
    """Parse ``text`` as ``kind`` (``"yaml"``, ``"json"`` or ``"toml"``) within the bounds above.

    A key given twice is refused, unless ``duplicates`` is a list: then the last value is kept, as
    PyYAML and ``json`` keep it, and each duplicate is appended there.
    """
    text = text.removeprefix("\ufeff")
    try:
        if kind == "yaml":
            return _yaml(text, source, duplicates)
        if kind == "json":
            data = _json(text, source, duplicates)
        elif kind == "toml":
            data = _toml(text, source)
        else:
            raise ValueError(f"unknown format {kind!r}")
    except RecursionError:
        raise ParseError(
            f"{source}: nested more than {MAX_DEPTH} levels deep (sched reads at most {MAX_DEPTH})"
        ) from None
    except ParseError:
        raise
    except ValueError as exc:  # Python's own limits, e.g. on the digits of an integer
        raise ParseError(f"{source}: {_number_problem(exc)}") from None
    _check_shape(data, source)
    return data


def yaml_value(text: str, source: str) -> Any:
    """One YAML value (an inline expression's argument), parsed within the same bounds."""
    import yaml

    try:
        return _yaml(text, source)
    except ParseError:
        raise
    except ValueError as exc:
        raise ParseError(f"{source}: {_number_problem(exc)}") from None
    except yaml.YAMLError as exc:
        raise ParseError(f"{source}: {_yaml_problem(exc)}") from None


def _number_problem(exc: ValueError) -> str:
    digits = re.search(r"value has (\d+) digits", str(exc))
    if digits:
        return f"a number of {int(digits.group(1)):,} digits is too long (at most {sys.get_int_max_str_digits():,})"
    return str(exc).splitlines()[0]


# -- YAML ---------------------------------------------------------------------------------------
def _yaml(text: str, source: str, duplicates: list[Duplicate] | None = None) -> Any:
    import yaml

    try:
        loader = _loader_class()(text)
        loader.duplicates = duplicates
        try:
            return loader.get_single_data()
        finally:
            loader.dispose()
    except ParseError:
        raise
    except yaml.YAMLError as exc:
        raise ParseError(f"{source}: malformed YAML{_yaml_problem(exc, where_only=True)}") from None
    except ValueError as exc:
        raise ParseError(f"{source}: {_number_problem(exc)}") from None
    except _Refused as exc:
        raise ParseError(f"{source}: {exc}") from None


def _yaml_problem(exc: Any, where_only: bool = False) -> str:
    mark = getattr(exc, "problem_mark", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return f"{where}: {problem}" if where_only else f"malformed YAML{where}: {problem}"


class _Refused(Exception):
    """Raised inside the YAML loader; becomes a ParseError naming the file."""


_LOADER: type | None = None


def _loader_class() -> type:
    """``yaml.SafeLoader`` that bounds nesting and alias expansion and refuses duplicate keys.

    Composing counts, for each node, the values it holds once aliases are expanded and how deep
    it nests, from its children's counts (an alias counts as the whole node it names): an alias
    bomb is caught as soon as one node grows past the limit, in time proportional to the text.
    """
    global _LOADER
    if _LOADER is not None:
        return _LOADER
    import yaml

    class BoundedLoader(yaml.SafeLoader):
        def __init__(self, stream: Any) -> None:
            super().__init__(stream)
            self._depth = 0
            self._sizes: dict[int, tuple[int, int]] = {}  # id(node) -> (values, depth)
            #: Where duplicates are recorded (last value kept), or None to refuse them.
            self.duplicates: list[Duplicate] | None = None

        def compose_node(self, parent: Any, index: Any) -> Any:
            if not self.check_event(yaml.AliasEvent):
                self._depth += 1
                if self._depth > MAX_DEPTH:
                    mark = self.peek_event().start_mark
                    raise _Refused(
                        f"nested more than {MAX_DEPTH} levels deep at line {mark.line + 1} (sched reads at most "
                        f"{MAX_DEPTH})"
                    )
            return super().compose_node(parent, index)

        def compose_scalar_node(self, anchor: Any) -> Any:
            node = super().compose_scalar_node(anchor)
            self._depth -= 1
            self._sizes[id(node)] = (1, 0)
            return node

        def compose_sequence_node(self, anchor: Any) -> Any:
            node = super().compose_sequence_node(anchor)
            self._depth -= 1
            self._measure(node, node.value)
            return node

        def compose_mapping_node(self, anchor: Any) -> Any:
            node = super().compose_mapping_node(anchor)
            self._depth -= 1
            self._measure(node, [n for pair in node.value for n in pair])
            return node

        def _measure(self, node: Any, children: list[Any]) -> None:
            values, depth = 1, 0
            for child in children:
                v, d = self._sizes.get(id(child), (1, 0))
                values += v
                depth = max(depth, d)
            depth += 1
            line = node.start_mark.line + 1
            if values > MAX_VALUES:
                raise _Refused(
                    f"the value at line {line} expands to more than {MAX_VALUES:,} values (through aliases?); "
                    f"sched reads at most {MAX_VALUES:,}"
                )
            if depth > MAX_DEPTH:
                raise _Refused(
                    f"the value at line {line} nests more than {MAX_DEPTH} levels deep (through aliases?); "
                    f"sched reads at most {MAX_DEPTH}"
                )
            self._sizes[id(node)] = (values, depth)

        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            if isinstance(node, yaml.MappingNode):
                seen: dict[Any, Any] = {}
                for key_node, value_node in node.value:
                    if key_node.tag == "tag:yaml.org,2002:merge":
                        continue  # keys merged in with << may be overridden: that is what it is for
                    key = self.construct_object(key_node)
                    try:
                        first = seen.get(key)
                        seen.setdefault(key, value_node)
                    except TypeError:
                        continue  # an unhashable key: the base class reports it
                    if first is not None:
                        line = key_node.start_mark.line + 1
                        refusal = f"key {key!r} is given twice at line {line}"
                        if self.duplicates is None:
                            raise _Refused(refusal)
                        shown = (_yaml_shown(first), _yaml_shown(value_node))
                        self.duplicates.append(Duplicate(str(key), line, shown, refusal))
            return super().construct_mapping(node, deep=deep)

    _LOADER = BoundedLoader
    return BoundedLoader


def _yaml_shown(node: Any) -> str:
    """A value node as written, for a message: a scalar's text, else its kind."""
    if node.id == "scalar":
        return repr(node.value)
    return "a list" if node.id == "sequence" else "a mapping"


# -- JSON and TOML ------------------------------------------------------------------------------
def _json(text: str, source: str, duplicates: list[Duplicate] | None = None) -> Any:
    try:
        return json.loads(text, object_pairs_hook=_unique_keys(source, duplicates))
    except json.JSONDecodeError as exc:
        raise ParseError(f"{source}: malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None


def _unique_keys(
    source: str, duplicates: list[Duplicate] | None = None
) -> Callable[[list[tuple[str, Any]]], dict[str, Any]]:
    def build(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in pairs:
            if key in out:
                refusal = f"key {key!r} is given twice in one object"
                if duplicates is None:
                    raise ParseError(f"{source}: {refusal}")
                duplicates.append(Duplicate(key, 0, (_json_shown(out[key]), _json_shown(value)), refusal))
            out[key] = value
        return out

    return build


def _json_shown(value: Any) -> str:
    return "a mapping" if isinstance(value, dict) else "a list" if isinstance(value, list) else json.dumps(value)


def _toml(text: str, source: str) -> Any:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ParseError(f"{source}: malformed TOML: {_toml_problem(exc, text)}") from None


def _toml_problem(exc: Exception, text: str) -> str:
    """tomllib's message, naming the key when it is one given twice (tomllib does not)."""
    where = re.search(r"\(at line (\d+), column \d+\)", str(exc))
    if "Cannot overwrite a value" in str(exc) and where:
        line = text.splitlines()[int(where.group(1)) - 1] if int(where.group(1)) <= len(text.splitlines()) else ""
        key = line.split("=")[0].strip()
        if key:
            return f"key {key!r} is given twice (at line {where.group(1)})"
    return str(exc)


def _check_shape(data: Any, source: str) -> None:
    """Bound depth and size of parsed data, without recursion (TOML's dotted keys nest too)."""
    stack = [(data, 1)]
    values = 0
    while stack:
        value, depth = stack.pop()
        values += 1
        if values > MAX_VALUES:
            raise ParseError(f"{source}: holds more than {MAX_VALUES:,} values; sched reads at most {MAX_VALUES:,}")
        if isinstance(value, dict):
            children = list(value.values())
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > MAX_DEPTH:
            raise ParseError(f"{source}: nested more than {MAX_DEPTH} levels deep (sched reads at most {MAX_DEPTH})")
        stack.extend((child, depth + 1) for child in children)
