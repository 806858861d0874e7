"""Write an interactive report as one self-contained HTML page that works offline.

The page holds everything it needs: the chart library (uPlot, vendored in ``assets/`` with its
licence; see ``assets/README.md`` for its version and why it was chosen), the page's own script
and style, and the data as JSON. It makes no network request. The chart zooms, pans and
resets; hovering shows the exact counters and values of the nearest point; switches change
the x unit (``ba``, ``ep``, ``sp``, ``tok``, ``dur``), the y axis (multiplier or LR) and
the scale (linear or log).

Numbers are exact: floats go into the JSON as the shortest text that reads back as the same
double (orjson, as ``sched export`` writes them), and the page prints them back in that same
form, so a hovered value equals ``sched export``'s for that batch character for character.
Integers beyond 2**53, which a JavaScript number cannot hold, travel as decimal text.

Like every renderer this one receives arrays and metadata, never specs (:mod:`sched_cli.views`
builds a :class:`Report` from specs).
"""

from __future__ import annotations

import html
import os
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import numpy as np

from sched_cli.render.writers import atomic_output

__all__ = ["HTML_SUFFIXES", "UPLOT_VERSION", "Report", "ReportCurve", "SpecText", "Table", "render_html", "save_html"]

#: File extensions an HTML report is written to.
HTML_SUFFIXES = (".html", ".htm")
#: The vendored uPlot release (``assets/uPlot.iife.min.js``).
UPLOT_VERSION = "1.6.32"
#: Counter columns every curve carries, so that hovering and the unit switch are exact.
COUNTERS = ("batch", "epoch", "sample", "token", "duration")
#: Value columns per mode; ``lr`` only when the run has a base LR.
VALUES = ("multiplier", "lr")
X_UNITS = ("ba", "ep", "sp", "tok", "dur")
# Integers above this lose digits as JavaScript numbers (doubles): they are written as text.
_JS_SAFE_INT = 2**53
#: No request may leave the page, whatever a script tries: a policy that allows only what is inline.
CSP = (
    '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
    "script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:\">\n"
)
# Past this many breakpoints over all curves their labels would only overlap: lines alone.
_MAX_MARK_LABELS = 40


@dataclass
class ReportCurve:
    """One spec at one SSR: the sampled rows, in one or two modes.

    Args:
        label: Legend text, e.g. ``"ssr=0.5"`` or ``"bert ssr=0.5"``.
        spec: The spec's label (title or file stem).
        ssr: The scale schedule ratio.
        batches: Batches the run trains at this SSR.
        dataloader_len: Batches per epoch, or ``None`` (then the ``ep`` unit is unavailable).
        counters: ``batch``, ``epoch``, ``sample``, ``token`` (integer arrays) and ``duration``
            (floats), one entry per sampled batch, as ``sched export`` writes them.
        values: Per mode (``"formula"``, ``"trainer"``), ``multiplier`` and optionally ``lr``
            arrays at the same batches. The first mode is the one shown; a second, when it
            differs, can be switched on.
        marks: Breakpoints: ``{"label", "batch", "epoch", "sample", "token"}`` each.
    """

    label: str
    spec: str
    ssr: float
    batches: int
    dataloader_len: int | None
    counters: dict[str, np.ndarray]
    values: dict[str, dict[str, np.ndarray]]
    marks: list[dict[str, Any]] = field(default_factory=list)

    @property
    def points(self) -> int:
        return len(self.counters["batch"])


@dataclass
class Table:
    """A table of text cells under a title (the summary ``sched compare`` prints)."""

    title: str
    columns: list[str]
    rows: list[list[str]]


@dataclass
class SpecText:
    """A spec as the user wrote it: where it came from and its text."""

    source: str
    text: str


@dataclass
class Report:
    """Everything the page shows.

    Args:
        title: Page and chart title.
        curves: The curves, drawn in this order.
        x_unit: The x unit shown first (one of ``ba ep sp tok dur``).
        y_axis: ``"multiplier"`` or ``"lr"``, shown first.
        log_y: Start with a logarithmic y axis.
        mode: The mode shown first (``"formula"`` or ``"trainer"``).
        points_per_curve: The ``points`` each curve was sampled at (breakpoints come on top).
        tables: Summary tables.
        specs: The specs' texts.
        notes: Warnings, as ``sched validate`` prints them.
        version: ``sched``'s version.
        command: The command line that made the page.
    """

    title: str
    curves: list[ReportCurve]
    x_unit: str = "ba"
    y_axis: str = "multiplier"
    log_y: bool = False
    mode: str = "formula"
    points_per_curve: int = 2000
    tables: list[Table] = field(default_factory=list)
    specs: list[SpecText] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    version: str = ""
    command: str = ""

    @property
    def points(self) -> int:
        """Sampled batches over all curves (a curve's second mode is drawn at the same ones)."""
        return sum(c.points for c in self.curves)


def save_html(report: Report, path: str | os.PathLike[str]) -> None:
    """Write the page to ``path`` atomically (a failure leaves whatever was there)."""
    text = render_html(report)
    with atomic_output(path) as stream:
        stream.write(text)


def render_html(report: Report) -> str:
    """The whole page as text.

    User-controlled text (titles, spec text, notes, the command) is HTML-escaped where it is
    markup, and the JSON data block escapes every ``<`` as ``\\u003c``, so nothing in a spec
    can close the ``<script>`` element or start a comment in it.
    """
    if report.x_unit not in X_UNITS:
        raise ValueError(f"x_unit must be one of {', '.join(X_UNITS)}, not {report.x_unit!r}")
    if report.y_axis not in VALUES:
        raise ValueError(f"y_axis must be 'multiplier' or 'lr', not {report.y_axis!r}")
    data = _json_data(report)
    esc = html.escape
    shown = report.points
    batches = sum(c.batches for c in report.curves)
    parts = [
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n',
        CSP,
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n',
        f'<meta name="generator" content="sched {esc(report.version)}">\n',
        f"<title>{esc(report.title)} · sched report</title>\n",
        f"<style>\n{asset('uPlot.min.css')}\n{asset('report.css')}\n</style>\n",
        "</head>\n<body>\n<main>\n",
        f"<header><h1>{esc(report.title)}</h1>\n",
        f'<p class="made">made by <b>sched {esc(report.version)}</b> with '
        f'<code id="command">{esc(report.command)}</code></p></header>\n',
        '<section id="controls" aria-label="chart options">\n',
        _radio("x", "x axis", [(u, u) for u in X_UNITS], report.x_unit),
        _radio("y", "y axis", [("multiplier", "multiplier"), ("lr", "LR")], report.y_axis),
        _radio("scale", "scale", [("linear", "linear"), ("log", "log")], "log" if report.log_y else "linear"),
        '<button type="button" id="reset" title="Show the whole run (or double-click the chart)">reset zoom</button>\n',
        '<label id="alt-wrap" hidden><input type="checkbox" id="alt"> <span id="alt-label"></span></label>\n',
        "</section>\n",
        '<div id="chart" role="img" aria-label="learning-rate schedule chart"></div>\n',
        '<p class="hint">Drag to zoom in · wheel to zoom around the pointer · shift-drag to pan · '
        "double-click or <i>reset zoom</i> for the whole run · click a legend entry to hide a curve.</p>\n",
        '<section id="readout" aria-live="polite"><h2>Nearest point</h2>'
        '<p class="empty">Hover over the chart to read the exact values of the nearest point.</p></section>\n',
        f'<p id="points">Showing <b>{shown:,}</b> points of {batches:,} batches: {report.points_per_curve:,} '
        "spread over each run, plus its first and last batch and every breakpoint with the batches either side. "
        "Values at these points are exact; <code>sched export</code> lists every batch.</p>\n",
    ]
    if report.tables:
        parts.append('<section id="summary"><h2>Summary</h2>\n')
        parts.extend(table_html(table) for table in report.tables)
        parts.append("</section>\n")
    if report.notes:
        parts.append('<section id="notes"><h2>Warnings</h2><ul>\n')
        parts.extend(f"<li>{esc(note)}</li>\n" for note in report.notes)
        parts.append("</ul></section>\n")
    if report.specs:
        parts.append('<section id="specs"><h2>Specs</h2>\n')
        for spec in report.specs:
            parts.append(f"<details open><summary>{esc(spec.source)}</summary><pre>{esc(spec.text)}</pre></details>\n")
        parts.append("</section>\n")
    parts += [
        f'<footer>sched {esc(report.version)} · chart by <a href="https://github.com/leeoniya/uPlot">uPlot</a> '
        f"{UPLOT_VERSION} (MIT licence, included in this file) · this page works offline.</footer>\n",
        "</main>\n",
        f'<script type="application/json" id="sched-data">{data}</script>\n',
        f"<script>\n/* uPlot {UPLOT_VERSION}, MIT licence:\n{asset('uPlot.LICENSE')}*/\n",
        f"{asset('uPlot.iife.min.js')}\n</script>\n",
        f"<script>\n{asset('report.js')}\n</script>\n",
        "</body>\n</html>\n",
    ]
    return "".join(parts)


def _radio(name: str, legend: str, choices: list[tuple[str, str]], chosen: str) -> str:
    buttons = "".join(
        f'<label><input type="radio" name="{name}" value="{value}"{" checked" if value == chosen else ""}>'
        f"{html.escape(text)}</label>"
        for value, text in choices
    )
    return f'<fieldset id="{name}-switch"><legend>{html.escape(legend)}</legend>{buttons}</fieldset>\n'


def table_html(table: Table) -> str:
    """A table as HTML, every cell escaped (the report's summary, the spans of a check page)."""
    esc = html.escape
    head = "".join(f"<th>{esc(c)}</th>" for c in table.columns)
    body = "".join("<tr>" + "".join(f"<td>{esc(cell)}</td>" for cell in row) + "</tr>\n" for row in table.rows)
    caption = f"<caption>{esc(table.title)}</caption>" if table.title else ""
    return f'<table class="summary">{caption}<thead><tr>{head}</tr></thead>\n<tbody>\n{body}</tbody></table>\n'


def _json_data(report: Report) -> str:
    import orjson

    curves = []
    for c in report.curves:
        n = c.points
        columns = {name: json_column(c.counters[name], name, n) for name in COUNTERS}
        values = {
            mode: {name: json_column(v[name], name, n) for name in VALUES if name in v} for mode, v in c.values.items()
        }
        curves.append(
            {
                "label": c.label,
                "spec": c.spec,
                "ssr": c.ssr,
                "batches": c.batches,
                "dataloader_len": c.dataloader_len,
                "counters": columns,
                "values": values,
                "marks": [{k: _plain(v) for k, v in m.items()} for m in c.marks],
            }
        )
    data = {
        "title": report.title,
        "x_unit": report.x_unit,
        "y_axis": report.y_axis,
        "log_y": report.log_y,
        "mode": report.mode,
        "mark_labels": sum(len(c.marks) for c in report.curves) <= _MAX_MARK_LABELS,
        "curves": curves,
    }
    text = orjson.dumps(data, option=orjson.OPT_SERIALIZE_NUMPY).decode("utf-8")
    # "<" only ever appears inside JSON strings, where \u003c means the same character.
    return text.replace("<", "\\u003c")


def json_column(values: np.ndarray, name: str, n: int) -> Any:
    """A column of ``n`` numbers as orjson writes it exactly: floats as doubles (``None`` for a
    NaN or infinity), integers past 2**53 as decimal text."""
    a = np.asarray(values)
    if a.ndim != 1 or len(a) != n:
        raise ValueError(f"column {name!r} has shape {a.shape}, expected ({n},)")
    if a.dtype.kind == "f":
        a = np.ascontiguousarray(a, dtype=np.float64)
        if not np.isfinite(a).all():
            # JSON has no NaN or infinity; a gap is what the chart can show.
            return [float(v) if np.isfinite(v) else None for v in a]
        return a
    if a.dtype.kind not in "iub":
        raise ValueError(f"column {name!r} must hold numbers, not {a.dtype}")
    a = np.ascontiguousarray(a, dtype=np.int64)
    if len(a) and int(np.abs(a).max()) >= _JS_SAFE_INT:
        return [str(v) for v in a.tolist()]
    return a


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, int) and abs(value) >= _JS_SAFE_INT:
        return str(value)
    return value


def asset(name: str) -> str:
    """The text of a file of ``assets/``, checked to hold nothing that would end its element."""
    text = (resources.files("sched_cli.render") / "assets" / name).read_text(encoding="utf-8")
    # Vendored files are checked when they change; this guards the page against a bad update.
    lowered = text.lower()
    if "</script" in lowered or "<!--" in lowered or "</style" in lowered:
        raise ValueError(f"asset {name} contains text that would end its <script> or <style> element")
    return text
