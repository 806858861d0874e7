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

import math
import re
import textwrap
from dataclasses import dataclass, field, replace

import numpy as np

from sched_cli.render import Chart, Curve, envelope, x_exponent, y_exponent

__all__ = ["render_terminal", "render_terminal_plot", "TerminalPlot"]

#: Curve colours, in order; uniplot's own names, one per curve, cycling.
COLORS = ("blue", "magenta", "green", "yellow", "cyan", "red")
#: Curve markers when there is no colour to tell curves apart, in order, cycling.
MARKERS = ("+", "x", "o", "*", "~", ".")
#: Points that went wrong (:attr:`Curve.alarm`): in red, or as ``!`` without colour.
ALARM_COLOR = "red"
ALARM_MARKER = "!"
#: Drawn above the plot at each breakpoint, over the vertical line uniplot draws there.
MARK = "▼"
#: The narrowest plot we draw: room for the frame, some columns of plot and tick labels.
MIN_WIDTH = 20
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_NEGATIVE_ZERO = re.compile(r"(?<![\w.])-(0(?:\.0+)?)(?![\w.])")
_MIN_ROWS = 3


def render_terminal(chart: Chart, width: int = 100, height: int = 25, color: bool = True) -> str:
    """The chart as lines of text, every one exactly ``width`` columns wide, notes included.

    ``height`` is the number of lines to aim for in all: the plot area gets what the title, axis
    titles, breakpoint labels, legend and notes leave, but never fewer than 3 rows. With
    ``color=False`` the text holds no ANSI escape codes and curves differ by marker
    (``+``, ``x``, ``o``...); with colour they differ by colour. On a log scale, values that are
    not positive cannot be drawn and are left out, with a note saying how many.
    """
    plot = render_terminal_plot(chart, width, height, color, notes_inside=True)
    return plot.text


@dataclass
class TerminalPlot:
    """A drawn plot: its ``text`` (lines of exactly the width asked for) and, apart, the ``notes``
    a caller shows elsewhere (standard error): values a log scale left out, curves with nothing
    to draw."""

    text: str
    notes: list[str] = field(default_factory=list)


def render_terminal_plot(
    chart: Chart, width: int = 100, height: int = 25, color: bool = True, notes_inside: bool = False
) -> TerminalPlot:
    """Like :func:`render_terminal`, but the notes are returned beside the text instead of being
    drawn under it (unless ``notes_inside``), and the plot gets their lines."""
    from uniplot import plot_to_string  # here, not at the top: only a plot pays for it

    if width < MIN_WIDTH:
        raise ValueError(f"width must be at least {MIN_WIDTH} columns, got {width}")
    drawable, notes = _drawable(chart)
    drawable, y_label = _readable_scale(drawable, chart.y_label, chart.log_y)
    drawable, x_label = _readable_x(drawable, chart.x_label)
    inside = notes if notes_inside else []
    head = [line.center(width) for line in textwrap.wrap(chart.title, width)] if chart.title else []
    if not drawable:
        return TerminalPlot(_fit_all([*head, *(inside or ["nothing to plot"])], width), [] if notes_inside else notes)
    colors = [ALARM_COLOR if c.alarm else COLORS[i % len(COLORS)] for i, c in drawable]
    markers = [ALARM_MARKER if c.alarm else MARKERS[i % len(MARKERS)] for i, c in drawable]
    by_marker = not color and len(chart.curves) > 1

    # One bucket per half character is as fine as the plot can show.
    thinned = [envelope(c.x, c.y, 2 * width) for _, c in drawable]
    if chart.log_y:
        # Drawn as log10 of the values on a linear axis, so that its rows are labelled here, in
        # one style, rather than by uniplot (which mixes 0.1 with 10^-2).
        thinned = [(x, np.log10(y)) for x, y in thinned]
    x_min = min(float(x.min()) for x, _ in thinned)
    x_max = max(float(x.max()) for x, _ in thinned)
    # Widen the range a little, as uniplot does, so that points at the very ends stay inside.
    pad = (x_max - x_min) * 1e-3 or 1.0
    x_min, x_max = x_min - pad, x_max + pad
    marks = _marks([c for _, c in drawable], x_min, x_max)  # in the rescaled x units

    swatches = [m * 2 if by_marker else "██" for m in markers]
    legend = _legend([c.label for _, c in drawable], swatches, colors if color else None, width)
    above = len(head) + 1 + (1 if marks else 0)  # title, y axis title, breakpoint row
    below = 2 + 1 + len(legend) + len(inside)  # frame bottom and tick labels, x axis title, ...
    # Pixel rows per character row: block characters draw two, ASCII markers one.
    per_row = 1 if by_marker else 2

    def draw(rows: int) -> tuple[list[str], str, list[str]]:
        """The plot's lines, its breakpoint row, and notes on breakpoint labels that did not fit."""
        # uniplot labels a linear y axis with two coarse ticks at most (0.1 and 0.0): label a few
        # rows ourselves, at round values, in a column on the right.
        ys = [y for _, y in thinned]
        y_min, y_max, values = _log_ticks(ys, rows) if chart.log_y else _linear_ticks(ys, rows)
        labels = _tick_labels(values, chart.log_y)
        ticks = {
            _row_of(math.log10(v) if chart.log_y else v, y_min, y_max, rows, per_row): label
            for v, label in zip(values, labels, strict=True)
        }
        label_width = 1 + max((len(t) for t in ticks.values()), default=0)
        plot = plot_to_string(
            ys,
            [x for x, _ in thinned],
            width=width - label_width,
            height=rows,
            line_length_hard_cap=width - label_width,
            lines=[not c.points for _, c in drawable],
            x_min=x_min,
            x_max=x_max,
            y_min=y_min,
            y_max=y_max,
            y_labels=False,
            x_gridlines=[x for x, _ in marks],
            y_gridlines=[],
            color=colors if color else False,
            character_set="ascii" if by_marker else "block",
            force_ascii_characters=markers,
        ).split("\n")
        for row, label in ticks.items():
            plot[1 + row] += " " + label  # 1: below the frame's top line
        # uniplot labels the x axis itself; the range starts a hair below 0, which it writes "-0.0".
        plot[2 + rows :] = [_NEGATIVE_ZERO.sub(r" \1", line) for line in plot[2 + rows :]]
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
    lines += inside
    return TerminalPlot(_fit_all(lines, width), [] if notes_inside else notes)


#: Steps of a linear axis, times a power of ten: the "nice numbers" of axis labelling.
_NICE_STEPS = (1.0, 2.0, 2.5, 5.0, 10.0)
#: At most this many labelled rows on the y axis.
_MAX_TICKS = 6


def _nice_step(span: float, intervals: int) -> float:
    """The smallest round step (1, 2, 2.5 or 5 times a power of ten) that covers ``span`` in at
    most ``intervals`` steps."""
    raw = span / max(1, intervals)
    power = 10.0 ** math.floor(math.log10(raw))
    for m in _NICE_STEPS:
        if m * power >= raw * (1 - 1e-9):
            return m * power
    return 10 * power  # pragma: no cover - 10 is the last step above


def _next_step(step: float) -> float:
    """The round step (1, 2, 2.5 or 5 times a power of ten) after ``step``."""
    power = 10.0 ** math.floor(math.log10(step) + 1e-9)
    for m in _NICE_STEPS:
        if m * power > step * (1 + 1e-9):
            return m * power
    return 10 * power  # pragma: no cover - 10 is the last step above


def _linear_ticks(ys: list[np.ndarray], rows: int) -> tuple[float, float, list[float]]:
    """The y axis and its labelled values: from 0 (or the lowest value, if below 0) to the
    highest value, widened to whole steps of a round size, at least two rows apart."""
    low = min(0.0, min(float(np.min(y)) for y in ys))
    high = max(float(np.max(y)) for y in ys)
    if high <= low:  # a flat line: give it some room
        spread = abs(high) * 0.5 or 1.0
        low, high = (low - spread, high + spread) if low < 0 else (low, high + spread)
    intervals = max(1, min(_MAX_TICKS, (rows + 1) // 2) - 1)

    # The axis ends at the highest value (a peak of 6 is not drawn under an axis running to 10),
    # or at the round step just above it (0.97 under 1); the labels are the round steps inside.
    def steps(step: float) -> tuple[int, int]:
        first, last = math.floor(low / step + 1e-9), math.floor(high / step + 1e-9)
        if (last + 1) * step - high <= 0.15 * (high - low) + 1e-12:
            last += 1
        return first, last

    # The smallest round step whose labels fit (so that a peak of 8 gets 0, 2.5, 5, 7.5 rather
    # than 0 and 5), and at least two labels.
    step = _nice_step(high - low, 4 * intervals)
    first, last = steps(step)
    while last - first > intervals:
        step = _next_step(step)
        first, last = steps(step)
    values = [k * step for k in range(first, last + 1)]
    return first * step, max(high, values[-1]), values


def _log_ticks(ys: list[np.ndarray], rows: int) -> tuple[float, float, list[float]]:
    """A log axis (in log10 of the values) and its labelled values: whole decades when the
    curves span one or more, else 1, 2 and 5 (or every digit) times a power of ten."""
    low = min(float(np.min(y)) for y in ys)
    high = max(float(np.max(y)) for y in ys)
    most = max(2, min(_MAX_TICKS, (rows + 1) // 2))
    if high - low >= 1:
        # Whole decades, counted down from the top one so that the highest is always labelled.
        first, last = math.floor(low + 1e-9), math.ceil(high - 1e-9)
        # Every decade gets a label while the rows allow one each.
        every = math.ceil((last - first) / max(1, rows - 1))
        return float(first), float(last), [10.0**k for k in range(last, first - 1, -every)][::-1]
    if high - low < 1e-9:  # a flat line: a decade around it
        low, high = low - 0.5, high + 0.5
    for mantissas in ((1, 2, 5), range(1, 10)):
        values = [
            m * 10.0**k
            for k in range(math.floor(low) - 1, math.ceil(high) + 1)
            for m in mantissas
            if low - 1e-9 <= math.log10(m * 10.0**k) <= high + 1e-9
        ]
        if len(values) >= 2:
            return low, high, values[:: math.ceil(len(values) / most)]
    # Less than one digit apart (0.41 to 0.43): round steps of the values themselves.
    bottom, top = 10.0**low, 10.0**high
    step = _nice_step(top - bottom, most - 1)
    values = [k * step for k in range(math.ceil(bottom / step - 1e-9), math.floor(top / step + 1e-9) + 1)]
    return low, high, [v for v in values if v > 0] or [bottom, top]


def _row_of(value: float, y_min: float, y_max: float, rows: int, per_row: int) -> int:
    """The character row (0 at the top) that uniplot draws ``value`` in: it rounds to the nearest
    of ``rows * per_row`` pixel rows spread from ``y_min`` to ``y_max``. On a log axis ``value``
    is the log10 of the number."""
    pixels = rows * per_row
    position = value if y_min == y_max else (value - y_min) / (y_max - y_min)
    return (pixels - 1 - round((pixels - 1) * position)) // per_row


def _tick_labels(values: list[float], log: bool) -> list[str]:
    """Labels in one style for all the ticks of an axis: decimals with as many places as the
    step needs (``0``, ``0.025``, ``0.05``), never ``-0``; on a log axis decimals while every
    value is between 0.001 and 10,000, else ``1e-5``, ``2e-5`` throughout."""
    if log:
        if all(1e-3 <= v < 1e4 for v in values):
            return [_trim(f"{v:.{_places(v)}f}") for v in values]
        out = []
        for v in values:
            exponent = math.floor(math.log10(v) + 1e-9)
            out.append(f"{_trim(f'{v / 10.0**exponent:.6g}')}e{exponent}")
        return out
    step = min((b - a for a, b in zip(values, values[1:], strict=False)), default=1.0) or 1.0
    power = math.floor(math.log10(step) + 1e-9)
    # A step of 2.5 needs one more place than its power of ten: 0.025, not 0.03.
    places = max(0, -power + (1 if round(step / 10.0**power, 6) == 2.5 else 0))
    return [_trim(f"{0.0 if abs(v) < step * 1e-6 else v:.{places}f}") for v in values]


def _places(value: float) -> int:
    """The fewest decimal places that write ``value`` to six significant digits."""
    for places in range(16):
        if abs(round(value, places) - value) <= 1e-6 * abs(value):
            return places
    return 16


def _trim(text: str) -> str:
    """``0.050`` -> ``0.05``, ``1.0`` -> ``1``, ``-0`` -> ``0``."""
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _readable_scale(
    drawable: list[tuple[int, Curve]], y_label: str, log_y: bool
) -> tuple[list[tuple[int, Curve]], str]:
    """Curves rescaled by a power of ten when their values are tiny or huge, and the axis title
    saying so (:func:`~sched_cli.render.y_exponent`)."""
    if log_y or not drawable:
        return drawable, y_label
    exponent = y_exponent(max(float(np.max(np.abs(c.y))) for _, c in drawable))
    if exponent is None:
        return drawable, y_label
    factor = 10.0**exponent
    scaled = [(i, replace(c, y=c.y / factor)) for i, c in drawable]
    return scaled, f"{y_label} (×1e{exponent})"


def _readable_x(drawable: list[tuple[int, Curve]], x_label: str) -> tuple[list[tuple[int, Curve]], str]:
    """Long x axes (a million batches, billions of tokens) in thousands, millions or billions,
    so that tick labels stay short and whole."""
    if not drawable:
        return drawable, x_label
    exponent = x_exponent(max(float(np.max(np.abs(c.x))) for _, c in drawable))
    if exponent is None:
        return drawable, x_label
    factor = 10.0**exponent
    scaled = [(i, replace(c, x=c.x / factor, marks=[(x / factor, label) for x, label in c.marks])) for i, c in drawable]
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
            drawable.append((i, replace(curve, x=x[keep], y=y[keep])))
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
        if size > width:  # a label longer than the plot is wide: on lines of its own, whole
            shown = Color.from_terminal(colors[i]).colorize(swatch) if colors else swatch
            parts = textwrap.wrap(label, width - len(swatch) - 1) or [""]
            lines += [line] if used else []
            lines += [f"{shown} {parts[0]}", *(" " * (len(swatch) + 1) + p for p in parts[1:])]
            line, used = "", 0
            continue
        entry = (Color.from_terminal(colors[i]).colorize(swatch) if colors else swatch) + " " + label
        if used and used + 3 + size > width:
            lines.append(line)
            line, used = "", 0
        line, used = (f"{line}   {entry}", used + 3 + size) if used else (entry, size)
    return [*lines, line] if used or not lines else lines


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
