"""Write a :class:`~sched_cli.render.Chart` with lines of text around it as one self-contained
HTML page that works offline (``sched check -o check.html``).

The page is made as the report's (:mod:`sched_cli.render.html`): the same vendored uPlot, the
same style sheet and content security policy, the data as one JSON block, nothing fetched. Its
own script (``assets/chart_page.js``) draws each curve as a line (dashed or not) or as points, the chart's bands
behind them, its alarm curves in red over them and its callouts; the chart zooms (drag) and
resets (double-click), and the legend reads the values under the pointer.

Curves longer than :data:`MAX_POINTS` are thinned by :func:`~sched_cli.render.envelope` (the
first, last, lowest and highest point of each slice are kept, so a spike still shows); the page
says how many points it shows of how many.
"""

from __future__ import annotations

import html
import os
from dataclasses import dataclass, field

from sched_cli.render import Chart, envelope
from sched_cli.render.html import CSP, UPLOT_VERSION, Table, asset, json_column, table_html
from sched_cli.render.writers import atomic_output

__all__ = ["ChartPage", "MAX_POINTS", "render_chart_page", "save_chart_page"]

#: Slices a curve is thinned to (four points each at most): finer than any screen.
MAX_POINTS = 20_000


@dataclass
class ChartPage:
    """What the page shows.

    Args:
        chart: The chart, with its bands and callouts.
        headline: The one line that sums it up (``check``'s verdict).
        ok: Whether the headline is good news (drawn green, else red).
        lines: Lines under the headline (the spans off the plan, the reason).
        tables: Tables under the chart (every span off the plan).
        notes: Warnings, as the command printed them.
        version: ``sched``'s version.
        command: The command line that made the page.
    """

    chart: Chart
    headline: str
    ok: bool = True
    lines: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    version: str = ""
    command: str = ""


def save_chart_page(page: ChartPage, path: str | os.PathLike[str]) -> None:
    """Write the page to ``path`` atomically (a failure or a signal leaves whatever was there)."""
    text = render_chart_page(page)
    with atomic_output(path) as stream:
        stream.write(text)


def render_chart_page(page: ChartPage) -> str:
    """The whole page as text; user text is escaped as in :func:`~sched_cli.render.html.render_html`."""
    esc = html.escape
    chart = page.chart
    data, shown, total = _json_data(chart)
    title = chart.title or "sched"
    parts = [
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n',
        CSP,
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n',
        f'<meta name="generator" content="sched {esc(page.version)}">\n',
        f"<title>{esc(title)} · sched</title>\n",
        f"<style>\n{asset('uPlot.min.css')}\n{asset('report.css')}\n{asset('chart_page.css')}\n</style>\n",
        "</head>\n<body>\n<main>\n",
        f"<header><h1>{esc(title)}</h1>\n",
        f'<p class="made">made by <b>sched {esc(page.version)}</b> with '
        f'<code id="command">{esc(page.command)}</code></p></header>\n',
        f'<p id="headline" class="{"good" if page.ok else "bad"}">{esc(page.headline)}</p>\n',
    ]
    if page.lines:
        parts.append('<ul id="lines">\n')
        parts.extend(f"<li>{esc(line)}</li>\n" for line in page.lines)
        parts.append("</ul>\n")
    parts += [
        '<div id="chart" role="img" aria-label="chart"></div>\n',
        '<p class="hint">Drag to zoom in · double-click for the whole run · the legend reads the values under '
        "the pointer · click a legend entry to hide a curve.</p>\n",
        f'<p id="points">Showing <b>{shown:,}</b> of {total:,} points.</p>\n',
    ]
    for table in page.tables:
        parts.append(table_html(table))
    if page.notes:
        parts.append('<section id="notes"><h2>Warnings</h2><ul>\n')
        parts.extend(f"<li>{esc(note)}</li>\n" for note in page.notes)
        parts.append("</ul></section>\n")
    parts += [
        f'<footer>sched {esc(page.version)} · chart by <a href="https://github.com/leeoniya/uPlot">uPlot</a> '
        f"{UPLOT_VERSION} (MIT licence, included in this file) · this page works offline.</footer>\n",
        "</main>\n",
        f'<script type="application/json" id="sched-data">{data}</script>\n',
        f"<script>\n/* uPlot {UPLOT_VERSION}, MIT licence:\n{asset('uPlot.LICENSE')}*/\n",
        f"{asset('uPlot.iife.min.js')}\n</script>\n",
        f"<script>\n{asset('chart_page.js')}\n</script>\n",
        "</body>\n</html>\n",
    ]
    return "".join(parts)


def _json_data(chart: Chart) -> tuple[str, int, int]:
    """The chart as JSON (``<`` escaped), and how many points it holds of how many."""
    import orjson

    curves, shown, total = [], 0, 0
    for curve in chart.curves:
        x, y = envelope(curve.x, curve.y, MAX_POINTS // 4)
        shown, total = shown + len(x), total + len(curve.x)
        curves.append(
            {
                "label": curve.label,
                "x": json_column(x, "x", len(x)),
                "y": json_column(y, "y", len(x)),
                "points": curve.points,
                "alarm": curve.alarm,
                "dashed": curve.dashed,
                "marks": [{"x": float(at), "label": label} for at, label in curve.marks],
            }
        )
    data = {
        "title": chart.title,
        "x_label": chart.x_label,
        "y_label": chart.y_label,
        "log_y": chart.log_y,
        "curves": curves,
        "bands": [{"start": b.start, "end": b.end, "label": b.label} for b in chart.bands],
        "callouts": [{"x": c.x, "y": c.y, "text": c.text} for c in chart.callouts],
    }
    text = orjson.dumps(data, option=orjson.OPT_SERIALIZE_NUMPY).decode("utf-8")
    return text.replace("<", "\\u003c"), shown, total
