"""Tables for people and scripts: number forms, fitting a width, and the script formats."""

from __future__ import annotations

import csv
import io
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console

from sched_cli.render.tables import (
    Column,
    Table,
    compact_text,
    compact_time,
    exact_text,
    full_text,
    render_text,
    rich_table,
)


@pytest.mark.parametrize(
    ("value", "kind", "full", "compact"),
    [
        (2516582400, "int", "2,516,582,400", "2.52e9"),
        (314572800, "int", "314,572,800", "3.15e8"),
        (999_999, "int", "999,999", "999,999"),
        (1_000_000, "int", "1,000,000", "1.0e6"),
        (0.000591337, "float", "0.000591337", "5.91e-4"),
        (0.0003, "float", "0.0003", "0.0003"),
        (0.00031, "float", "0.00031", "3.1e-4"),
        (0.5, "float", "0.5", "0.5"),
        (0.0, "float", "0", "0"),
        (7.38351e-05, "float", "7.38351e-5", "7.38e-5"),
        (None, "int", "-", "-"),
    ],
)
def test_number_forms(value, kind, full, compact):
    assert full_text(value, kind) == full and compact_text(value, kind) == compact


def test_compact_times_and_exact_text():
    assert compact_time("2516582400tok") == "2.52e9tok" and compact_time("90ep") == "90ep"
    assert exact_text(1e-6) == "1e-6" and exact_text(0.1) == "0.1" and exact_text(1.0) == "1.0"
    assert exact_text(2516582400) == "2516582400" and exact_text(None) == ""


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_exact_text_reads_back_to_the_same_float(x):
    assert float(exact_text(x)) == x


def _table(n: int = 3) -> Table:
    return Table(
        [
            Column("time", "text", [f"warmup end ({i}0000000tok)" for i in range(n)]),
            Column("batch", "int", [i * 1000 for i in range(n)]),
            Column("epoch", "int", [0] * n, hide=True),
            Column("token", "int", [2516582400 + i for i in range(n)]),
            Column("multiplier", "float", [0.985562 / (i + 1) for i in range(n)]),
            Column("lr", "float", [0.000591337 / (i + 1) for i in range(n)]),
        ],
        title="a title",
    )


def _render(table: Table, width: int) -> str:
    console = Console(width=width, file=io.StringIO(), color_system=None, legacy_windows=False)
    console.print(rich_table(table, width))
    return console.file.getvalue()


@pytest.mark.parametrize("width", [30, 40, 50, 60, 80, 120])
def test_a_terminal_table_fits_and_never_cuts_a_number(width):
    text = _render(_table(), width)
    assert max(len(line) for line in text.splitlines()) <= width
    assert "…" not in text and "epoch" not in text
    # Cells of a table, or values of records ("  token: 2,516,582,400") when it is too narrow.
    cells = {c.strip().split(": ")[-1].strip() for line in text.splitlines() for c in line.split("│")}
    assert {"2,516,582,400", "2.52e9"} & cells
    assert {"0.000591337", "5.91e-4"} & cells
    if width >= 80:
        assert "2,516,582,400" in cells and "0.000591337" in cells  # room enough: full forms


def test_too_narrow_for_a_table_the_rows_become_records():
    text = _render(_table(2), 40)
    assert "┃" not in text and "│" not in text
    lines = text.splitlines()
    assert lines[:3] == ["a title", "warmup end (00000000tok)", "  batch:      0"]
    assert "  token:      2,516,582,400" in lines and "  lr:         0.000591337" in lines


def test_copyable_names_are_never_folded():
    table = Table(
        [
            Column("name", "text", ["CosineAnnealingWarmRestartsScheduler"], copyable=True),
            Column("x", "text", ["a b c " * 10]),
        ]
    )
    text = _render(table, 60)
    assert "CosineAnnealingWarmRestartsScheduler" in text and max(len(line) for line in text.splitlines()) <= 60


def test_script_formats_keep_every_column_and_exact_values():
    table = _table(2)
    tsv = render_text(table, "tsv").splitlines()
    assert tsv[0] == "time\tbatch\tepoch\ttoken\tmultiplier\tlr"
    assert tsv[2].split("\t") == [
        "warmup end (10000000tok)",
        "1000",
        "0",
        "2516582401",
        repr(0.985562 / 2),
        repr(0.000591337 / 2),
    ]
    rows = list(csv.DictReader(io.StringIO(render_text(table, "csv"))))
    assert float(rows[1]["lr"]) == 0.000591337 / 2
    data = json.loads(render_text(table, "json"))
    assert data["title"] == "a title" and data["rows"][1]["token"] == 2516582401
    text = render_text(table, "text").splitlines()
    assert text[0].split() == ["time", "batch", "epoch", "token", "multiplier", "lr"]
    assert len({len(line) for line in text[:1]}) == 1 and text[1].startswith("warmup end (00000000tok)  ")
    with pytest.raises(ValueError, match="format must be"):
        render_text(table, "xml")
