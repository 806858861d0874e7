"""Tables for people and for scripts: a boxed table that fits the terminal without cutting a
number, or plain text, CSV, TSV or JSON with exact values.

A :class:`Table` holds typed columns of raw values (ints, floats, text). For a terminal it
becomes a Rich table fitted to the width: columns that carry nothing for a reader are left out
(:attr:`Column.hide`), numbers never wrap and are never cut (when space is short the widest
numeric columns switch to compact forms such as ``2.52e9`` and ``5.91e-4``), and text folds
onto more lines instead of ending in ``…``. The script formats (:data:`FORMATS`) keep every
column, in order, with exact values: integers as plain digits, floats in the shortest form that
reads back to the same value (as ``sched export`` writes them), nothing missing or elided.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "Column",
    "Table",
    "FORMATS",
    "render_text",
    "rich_table",
    "full_text",
    "compact_text",
    "compact_time",
    "exact_text",
]

#: Plain formats for scripts: ``text`` (aligned columns under a header line), ``csv``, ``tsv``
#: (a header line, tab-separated) and ``json`` (``{"title": ..., "rows": [{column: value}]}``).
FORMATS = ("text", "csv", "tsv", "json")

Kind = Literal["text", "int", "float"]


@dataclass
class Column:
    """One column: its name, kind and raw values (``None`` for an empty cell).

    Args:
        name: Header text.
        kind: ``"int"`` and ``"float"`` are numbers (right-aligned, never wrapped); ``"text"``
            folds onto more lines when space is short.
        values: Raw values, one per row.
        shown: What a person sees in each cell when it differs from the number's own text
            (``"100ba"``, ``"≈0.55"``); the script formats write ``values``.
        compact: Shorter forms of ``shown`` for a narrow terminal (``1.26e9tok``); numbers
            without ``shown`` get theirs from :func:`compact_text`.
        hide: Leave the column out of the terminal table: it carries nothing for a reader here
            (epochs of a run without epochs, tokens equal to samples, ...). Scripts still get it.
        copyable: Text that people copy (names): never folded in the middle of a word.
    """

    name: str
    kind: Kind
    values: list[Any]
    shown: list[str] | None = None
    compact: list[str] | None = None
    hide: bool = False
    copyable: bool = False


@dataclass
class Table:
    columns: list[Column]
    title: str = ""
    #: A line printed under the terminal table (what is left out and why, ...).
    caption: str = ""
    rows: int = field(init=False)

    def __post_init__(self) -> None:
        lengths = {len(c.values) for c in self.columns}
        if len(lengths) > 1:
            raise ValueError(f"columns have different lengths: {sorted(lengths)}")
        self.rows = lengths.pop() if lengths else 0


# -- cell text ---------------------------------------------------------------------------------
def exact_text(value: Any) -> str:
    """A value as scripts get it: ints as digits, floats shortest round-trip (``1e-6``, not
    ``1e-06``), ``None`` as an empty string."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return repr(value)
        text = repr(value)
        if "e" in text:
            mantissa, exponent = text.split("e")
            text = f"{mantissa}e{int(exponent)}"
        return text
    return str(value)


def full_text(value: Any, kind: Kind) -> str:
    """A number as a person reads it: ints with thousands separators, floats to six significant
    digits (``0.000591337``)."""
    if value is None:
        return "-"
    if kind == "int":
        return f"{int(value):,}"
    if kind == "float":
        return _short_exponent(f"{float(value):.6g}")
    return str(value)


def compact_text(value: Any, kind: Kind) -> str:
    """The shortest readable form of a number, to three significant digits: ``2.52e9`` for
    2,516,582,400, ``5.91e-4`` for 0.000591337, ``3.0e-4``; small ints stay whole."""
    if value is None:
        return "-"
    if kind == "int":
        v = int(value)
        return f"{v:,}" if abs(v) < 1_000_000 else _e_form(v, 3)
    if kind == "float":
        v = float(value)
        plain = _short_exponent(f"{v:.3g}")
        if not math.isfinite(v) or v == 0:
            return plain
        e_form = _e_form(v, 3)
        return e_form if len(e_form) < len(plain) else plain
    return str(value)


def compact_time(text: str) -> str:
    """A time string with a count of a million or more in compact form: ``1.26e9tok``."""
    digits = text.rstrip("abcdefghijklmnopqrstuvwxyz")
    if digits.isdigit() and int(digits) >= 1_000_000:
        return _e_form(int(digits), 3) + text[len(digits) :]
    return text


def _e_form(value: float, digits: int) -> str:
    """``value`` as mantissa e exponent, trailing zeros trimmed to one decimal: ``3.0e-4``."""
    mantissa, exponent = f"{value:.{digits - 1}e}".split("e")
    if "." in mantissa:
        mantissa = mantissa.rstrip("0")
        if mantissa.endswith("."):
            mantissa += "0"
    return f"{mantissa}e{int(exponent)}"


def _short_exponent(text: str) -> str:
    if "e" not in text:
        return text
    mantissa, exponent = text.split("e")
    return f"{mantissa}e{int(exponent)}"


def display_rows(table: Table) -> list[list[str]]:
    """Every row as a person reads it, every column included (hidden ones too), full forms."""
    cells = [_cells(c, compact=False) for c in table.columns]
    return [list(row) for row in zip(*cells, strict=True)] if cells else []


# -- for a terminal ----------------------------------------------------------------------------
def _cells(column: Column, compact: bool) -> list[str]:
    if column.shown is not None:
        return list(column.shown)
    form = compact_text if compact else full_text
    return [form(v, column.kind) for v in column.values]


def _fitted_cells(columns: list[Column], width: int) -> tuple[list[list[str]], int]:
    """Each column's cells in full form, numeric columns turned compact (the one saving the
    most first) until a boxed table fits ``width`` columns of text, if it can; and the width
    it needs then."""
    cells = [_cells(c, compact=False) for c in columns]
    compact = [
        list(c.compact)
        if c.compact is not None
        else _cells(c, compact=True)
        if c.kind != "text" and c.shown is None
        else None
        for c in columns
    ]

    def natural(i: int, texts: list[str]) -> int:
        # A header may wrap between its words; cells of numbers and names may not.
        return max([_longest_word(columns[i].name)] + [_width(t) for t in texts])

    def needed() -> int:
        total = 3 * len(columns) + 1  # a space either side of each cell and a rule between
        for i, c in enumerate(columns):
            if c.kind == "text" and not c.copyable:
                # Text folds: count its longest word, or up to a dozen characters.
                words = [len(w) for t in cells[i] for w in t.split()] or [0]
                total += min(natural(i, cells[i]), max(max(words), _FOLDED))
            else:
                total += natural(i, cells[i])
        return total

    while needed() > width:
        savings = [
            (natural(i, cells[i]) - natural(i, compact[i]), i)
            for i in range(len(columns))
            if compact[i] is not None and compact[i] != cells[i]
        ]
        savings = [s for s in savings if s[0] > 0]
        if not savings:
            break
        _, i = max(savings)
        cells[i], compact[i] = compact[i], None  # type: ignore[assignment]
    return cells, needed()


#: Folded text keeps at least this many columns (or its longest word, if shorter).
_FOLDED = 12


def rich_table(table: Table, width: int):
    """The table as a Rich renderable fitted to ``width``: hidden columns left out, numbers
    whole (compact when needed), headers over two lines and text folded rather than cut."""
    import textwrap

    from rich.table import Table as RichTable

    columns = [c for c in table.columns if not c.hide]
    cells, needed = _fitted_cells(columns, width)
    if needed > width:
        return _records(table.title, columns)
    headers = [c.name for c in columns]
    fixed = [c.kind != "text" or c.copyable for c in columns]
    cell_widths = [max(_width(t) for t in texts) if texts else 0 for texts in cells]
    free = [
        0 if fixed[i] else min(max(_width(t) for t in [headers[i], *cells[i]]), _FOLDED) for i in range(len(columns))
    ]

    def total() -> int:
        return (
            3 * len(columns) + 1 + sum(max(_width(h), w) for h, w in zip(headers, cell_widths, strict=True)) + sum(free)
        )

    # Headers wider than their numbers wrap between words (widest first) while space is short.
    for i in sorted(range(len(columns)), key=lambda i: cell_widths[i] - len(headers[i])):
        if total() <= width:
            break
        if fixed[i] and len(headers[i]) > cell_widths[i]:
            headers[i] = "\n".join(textwrap.wrap(headers[i], max(cell_widths[i], _longest_word(headers[i]))))
    out = RichTable(title=table.title or None, title_justify="left", caption=table.caption or None)
    for c, header, is_fixed in zip(columns, headers, fixed, strict=True):
        if is_fixed:
            # Numbers and names stay whole on one line each: never wrapped, never cut.
            out.add_column(header, justify="left" if c.kind == "text" else "right", no_wrap=True)
        else:
            out.add_column(header, justify="left", overflow="fold", min_width=free[len(out.columns)])
    for row in zip(*cells, strict=True) if cells else []:
        out.add_row(*row)
    return out


def _records(title: str, columns: list[Column]):
    """A table too wide for the terminal even in compact form, as records: each row's first
    cell as a heading, then one ``name: value`` line per other column, every value whole."""
    from rich.console import Group
    from rich.text import Text

    # The heading of each record: its label (the first free-text column), else the first column.
    first = next((i for i, c in enumerate(columns) if c.kind == "text" and not c.copyable), 0)
    columns = [columns[first], *columns[:first], *columns[first + 1 :]]
    cells = [_cells(c, compact=False) for c in columns]
    lines = [Text(title, style="italic")] if title else []
    pad = max(len(c.name) for c in columns[1:]) if len(columns) > 1 else 0
    for r in range(len(cells[0]) if cells else 0):
        heading = " ".join(cells[0][r].split())
        lines.append(Text(heading if columns[0].kind == "text" else f"{columns[0].name} {heading}", style="bold"))
        for c, texts in zip(columns[1:], cells[1:], strict=True):
            lines.append(Text(f"  {c.name + ':':<{pad + 1}} {' '.join(texts[r].split())}"))
    return Group(*lines)


def _longest_word(text: str) -> int:
    return max((len(word) for word in text.split()), default=0)


def _width(text: str) -> int:
    """Columns a cell needs: its longest line."""
    return max((len(line) for line in text.splitlines()), default=0)


# -- for scripts -------------------------------------------------------------------------------
def render_text(table: Table, fmt: str) -> str:
    """The table in a script format (:data:`FORMATS`): every column, exact values."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    names = [c.name for c in table.columns]
    rows = [[c.values[r] for c in table.columns] for r in range(table.rows)]
    if fmt == "json":
        import orjson  # the writer sched export uses: the same shortest round-trip floats

        records = [{n: _json_value(v) for n, v in zip(names, row, strict=True)} for row in rows]
        return orjson.dumps({"title": table.title, "rows": records}, option=orjson.OPT_INDENT_2).decode() + "\n"
    texts = [[exact_text(v) for v in row] for row in rows]
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(names)
        writer.writerows(texts)
        return buffer.getvalue()
    if fmt == "tsv":
        return "".join("\t".join(_tsv_field(t) for t in line) + "\n" for line in [names, *texts])
    # text: aligned columns, two spaces apart; numbers to the right, text to the left.
    lines = [names, *texts]
    widths = [max(len(line[i]) for line in lines) for i in range(len(names))]
    numeric = [c.kind != "text" for c in table.columns]
    out = []
    for line in lines:
        cells = [t.rjust(w) if num else t.ljust(w) for t, w, num in zip(line, widths, numeric, strict=True)]
        out.append("  ".join(cells).rstrip())
    return "\n".join(out) + "\n"


def _tsv_field(text: str) -> str:
    # A tab or line break inside a cell would split it; no value of ours has one, but titles may.
    return " ".join(text.replace("\t", " ").splitlines())


def _json_value(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
