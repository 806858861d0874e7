"""Draw a :class:`~sched_cli.render.Chart` as text for the terminal.

The plot itself is drawn by ``uniplot``: it is small (~0.35 MB, pure Python on numpy, which we
load anyway), adds ~40 ms of import on the reference machine (plotext 6 adds ~120 ms and
~3 MB; plotille has no log scale), draws with numpy rather than a Python loop per point, and
has what a schedule preview needs: several series, block characters at twice the resolution of
a character cell, a log y axis, vertical lines at chosen x, a width limit, and plain output
without colour. Around it we add what it lacks: axis titles, labelled breakpoint markers, a
legend with one style per curve without colour, and padding of every line to the exact width.
"""

from __future__ import annotations

import re
import textwrap

import numpy as np

from sched_cli.render import Chart, Curve, envelope

__all__ = ["render_terminal"]

#: Curve colours, in order; uniplot's own names, one per curve, cycling.
COLORS = ("blue", "magenta", "green", "yellow", "cyan", "red")
#: Curve markers when there is no colour to tell curves apart, in order, cycling.
MARKERS = ("+", "x", "o", "*", "~", ".")
#: Drawn above the plot at each breakpoint, over the vertical line uniplot draws there.
MARK = "▼"
#: The narrowest plot we draw: room for the frame, some columns of plot and tick labels.
MIN_WIDTH = 20
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_MIN_ROWS = 3


def render_terminal(chart: Chart, width: int = 100, height: int = 25, color: bool = True) -> str:
    """The chart as lines of text, every one exactly ``width`` columns wide.

    ``height`` is the number of lines to aim for in all: the plot area gets what the title, axis
    titles, breakpoint labels, legend and notes leave, but never fewer than 3 rows. With
    ``color=False`` the text holds no ANSI escape codes and curves differ by marker
    (``+``, ``x``, ``o``...); with colour they differ by colour. On a log scale, values that are
    not positive cannot be drawn and are left out, with a note saying how many.
    """
    from uniplot import plot_to_string  # here, not at the top: only a plot pays for it

    if width < MIN_WIDTH:
        raise ValueError(f"width must be at least {MIN_WIDTH} columns, got {width}")
    drawable, notes = _drawable(chart)
    drawable, y_label = _readable_scale(drawable, chart.y_label, chart.log_y)
    drawable, x_label = _readable_x(drawable, chart.x_label)
    head = [chart.title.center(width)] if chart.title else []
    if not drawable:
        return _fit_all([*head, *(notes or ["nothing to plot"])], width)
    colors = [COLORS[i % len(COLORS)] for i, _ in drawable]
    markers = [MARKERS[i % len(MARKERS)] for i, _ in drawable]
    by_marker = not color and len(chart.curves) > 1

    # One bucket per half character is as fine as the plot can show.
    thinned = [envelope(c.x, c.y, 2 * width) for _, c in drawable]
    x_min = min(float(x.min()) for x, _ in thinned)
    x_max = max(float(x.max()) for x, _ in thinned)
    # Widen the range a little, as uniplot does, so that points at the very ends stay inside.
    pad = (x_max - x_min) * 1e-3 or 1.0
    x_min, x_max = x_min - pad, x_max + pad
    # The drawable curves: their marks are on the same (maybe rescaled, "×1e12") x axis as x_min.
    marks = _marks([c for _, c in drawable], x_min, x_max)

    swatches = [m * 2 if by_marker else "██" for m in markers]
    legend = _legend([c.label for _, c in drawable], swatches, colors if color else None, width)
    above = len(head) + 1 + (1 if marks else 0)  # title, y axis title, breakpoint row
    below = 2 + 1 + len(legend) + len(notes)  # frame bottom and tick labels, x axis title, ...

    y_range = None if chart.log_y else _y_range([y for _, y in thinned])

    def draw(rows: int) -> tuple[list[str], str, list[str]]:
        """The plot's lines, its breakpoint row, and notes on breakpoint labels that did not fit."""
        # uniplot labels a linear y axis with two coarse ticks at most (0.1 and 0.0): label a few
        # rows ourselves, to three significant digits, in a column on the right.
        ticks = _y_ticks(y_range, rows) if y_range else {}
        label_width = 1 + max((len(t) for t in ticks.values()), default=0)
        plot = plot_to_string(
            [y for _, y in thinned],
            [x for x, _ in thinned],
            width=width - label_width,
            height=rows,
            line_length_hard_cap=width - label_width,
            lines=True,
            x_min=x_min,
            x_max=x_max,
            y_as_log=chart.log_y,
            x_gridlines=[x for x, _ in marks],
            y_gridlines=[],
            **({"y_min": y_range[0], "y_max": y_range[1], "y_labels": False} if y_range else {}),
            color=colors if color else False,
            character_set="ascii" if by_marker else "block",
            force_ascii_characters=markers,
        ).split("\n")
        for row, label in ticks.items():
            plot[1 + row] += " " + label  # 1: below the frame's top line
        # The frame's top line is "┌", one "─" per plot column, "┐": after uniplot has narrowed
        # the plot to the width limit, this is how wide it is, which the breakpoint row matches.
        mark_row, unplaced = _mark_row(marks, x_min, x_max, len(plot[0]) - 2, width)
        note = textwrap.wrap(f"{MARK} " + "; ".join(unplaced), width, max_lines=3, placeholder=" …") if unplaced else []
        return plot, mark_row, note

    rows = max(_MIN_ROWS, height - above - 1 - below)  # 1: the frame's top
    plot, mark_row, footnote = draw(rows)
    if footnote and rows > _MIN_ROWS:
        # Only now is it known whether breakpoint labels need a note: make room for it.
        plot, mark_row, footnote = draw(max(_MIN_ROWS, rows - len(footnote)))
    plot_columns = len(plot[0]) - 2

    lines = [*head, f"↑ {y_label}"]
    if marks:
        lines.append(mark_row)
    lines += plot
    lines.append(f"{x_label} →".rjust(plot_columns + 2))
    lines += legend
    lines += footnote
    lines += notes
    return _fit_all(lines, width)


def _y_range(ys: list[np.ndarray]) -> tuple[float, float]:
    """The y axis: from 0 (or the lowest value, if below 0) to the highest value."""
    low = min(0.0, min(float(np.min(y)) for y in ys))
    high = max(float(np.max(y)) for y in ys)
    if high <= low:  # a flat line: give it some room
        spread = abs(high) * 0.5 or 1.0
        low, high = (low - spread, high + spread) if low < 0 else (low, high + spread)
    return low, high


def _y_ticks(y_range: tuple[float, float], rows: int) -> dict[int, str]:
    """Labels for about five evenly spaced rows, top (the highest value) to bottom (the lowest)."""
    low, high = y_range
    count = min(5, rows)
    ticks = {}
    for j in range(count):
        row = round(j * (rows - 1) / (count - 1)) if count > 1 else 0
        value = high - row * (high - low) / (rows - 1) if rows > 1 else high
        ticks[row] = (
            f"{value:.3g}".replace("-0", "0") if abs(value) < 1e-12 * max(abs(low), abs(high)) else f"{value:.3g}"
        )
    return ticks


def _readable_scale(
    drawable: list[tuple[int, Curve]], y_label: str, log_y: bool
) -> tuple[list[tuple[int, Curve]], str]:
    """Curves rescaled by a power of ten when their values are tiny or huge, and the axis title
    saying so: tick labels have a few characters, so 0.0006 would print as 0.000."""
    if log_y or not drawable:
        return drawable, y_label
    peak = max(float(np.max(np.abs(c.y))) for _, c in drawable)
    if peak == 0 or 1e-2 <= peak < 1e4:
        return drawable, y_label
    exponent = int(np.floor(np.log10(peak)))
    factor = 10.0**exponent
    scaled = [(i, Curve(c.label, c.x, c.y / factor, c.marks)) for i, c in drawable]
    return scaled, f"{y_label} (×1e{exponent})"


def _readable_x(drawable: list[tuple[int, Curve]], x_label: str) -> tuple[list[tuple[int, Curve]], str]:
    """Long x axes (a million batches, billions of tokens) in thousands, millions or billions,
    so that tick labels stay short and whole."""
    if not drawable:
        return drawable, x_label
    peak = max(float(np.max(np.abs(c.x))) for _, c in drawable)
    if peak < 1e5:
        return drawable, x_label
    exponent = 3 * (int(np.floor(np.log10(peak))) // 3)
    factor = 10.0**exponent
    scaled = [
        (i, Curve(c.label, c.x / factor, c.y, [(x / factor, label) for x, label in c.marks])) for i, c in drawable
    ]
    return scaled, f"{x_label} ×1e{exponent}"


def _drawable(chart: Chart) -> tuple[list[tuple[int, Curve]], list[str]]:
    """The curves that have points to draw, with their places in the chart, and notes on the rest.

    Only finite points are kept, and on a log scale only positive ones.
    """
    drawable, notes = [], []
    for i, curve in enumerate(chart.curves):
        x = np.asarray(curve.x, dtype=np.float64)
        y = np.asarray(curve.y, dtype=np.float64)
        keep = np.isfinite(x) & np.isfinite(y)
        if chart.log_y:
            nonpositive = int(np.count_nonzero(keep & (y <= 0)))
            keep &= y > 0
            if nonpositive:
                notes.append(f"log scale: left out {nonpositive:,} value(s) of {curve.label} that are not positive")
        if keep.any():
            drawable.append((i, Curve(curve.label, x[keep], y[keep], curve.marks)))
        else:
            notes.append(f"{curve.label}: nothing to draw")
    return drawable, notes


def _marks(curves: list[Curve], x_min: float, x_max: float) -> list[tuple[float, str]]:
    """Breakpoints inside the plotted range, each (x, label) once, in order of x."""
    seen = {(float(x), str(label)) for c in curves for x, label in c.marks}
    return sorted((x, label) for x, label in seen if x_min <= x < x_max)


def _mark_row(
    marks: list[tuple[float, str]], x_min: float, x_max: float, columns: int, width: int
) -> tuple[str, list[str]]:
    """The line over the plot with a marker and, where it fits, a label at each breakpoint.

    Returns the line and, for a note under the plot, the breakpoints whose labels did not fit.
    """
    at: dict[int, list[tuple[float, str]]] = {}
    for x, label in marks:
        # The column uniplot draws the vertical line in, after the frame's left edge.
        at.setdefault(1 + int((x - x_min) / (x_max - x_min) * columns), []).append((x, label))
    row = [" "] * width
    unplaced = []
    spots = sorted(at)
    for k, col in enumerate(spots):
        label = "/".join(dict.fromkeys(lb for _, lb in at[col]))
        row[col] = MARK
        room = (spots[k + 1] - 1 if k + 1 < len(spots) else width) - (col + 1)
        text = label if len(label) <= room else (label[: room - 1] + "…" if room >= 4 else "")
        row[col + 1 : col + 1 + len(text)] = text
        if text != label:
            unplaced.append(f"{label} at {at[col][0][0]:,.6g}")
    return "".join(row), unplaced


def _legend(labels: list[str], swatches: list[str], colors: list[str] | None, width: int) -> list[str]:
    """Legend entries, wrapped to the width: each curve's swatch, coloured if there is colour."""
    from uniplot.colors import Color

    lines, line, used = [], "", 0
    for i, (label, swatch) in enumerate(zip(labels, swatches, strict=True)):
        size = len(swatch) + 1 + len(label)
        entry = (Color.from_terminal(colors[i]).colorize(swatch) if colors else swatch) + " " + label
        if used and used + 3 + size > width:
            lines.append(line)
            line, used = "", 0
        line, used = (f"{line}   {entry}", used + 3 + size) if used else (entry, size)
    return [*lines, line]


def _fit_all(lines: list[str], width: int) -> str:
    # A label with a line break in it must not break the layout.
    return "\n".join(_fit(part, width) for line in lines for part in line.split("\n"))


def _fit(line: str, width: int) -> str:
    """``line`` padded or cut to exactly ``width`` visible columns, its colour codes kept."""
    visible = len(_ANSI.sub("", line))
    if visible <= width:
        return line + " " * (width - visible)
    if visible == len(line):  # plain text: show that it was cut
        return line[: width - 1] + "…"
    out, seen = [], 0
    for part in re.split(f"({_ANSI.pattern})", line):
        if _ANSI.fullmatch(part):
            out.append(part)
        elif seen < width:
            out.append(part[: width - seen])
            seen += len(out[-1])
    return "".join(out)
