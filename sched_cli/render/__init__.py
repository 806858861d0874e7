"""Renderers: turn arrays of schedule values into a terminal plot, a figure, or rows in a file.

Renderers receive numpy arrays and metadata, never specs or schedulers. The plots share the
small data model here, :class:`Chart` holding :class:`Curve` objects; the writers take chunks of
column arrays (:mod:`sched_cli.render.writers`). Importing this package is cheap: it loads
numpy and nothing else, and the plotting libraries are imported only when a plot is drawn.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["Band", "Callout", "Curve", "Chart", "envelope", "y_exponent", "x_exponent"]


@dataclass
class Curve:
    """One line of a chart.

    Args:
        label: Legend text, e.g. ``"ssr=0.5"``.
        x: Positions along the x axis (float64), ascending for the usual schedule preview.
        y: Values at those positions (float64), the same length as ``x``.
        marks: Breakpoints of this curve as ``(x position, label)``, drawn as vertical markers.
        points: Draw the values as separate points, not joined (logged values beside a plan).
        alarm: Points that went wrong (logged LRs off the plan): drawn over the other curves, in
            red, as larger points (``!`` in a terminal without colour).
        dashed: Draw the line dashed (the plan an explanation names, beside the plan itself).
    """

    label: str
    x: np.ndarray
    y: np.ndarray
    marks: list[tuple[float, str]] = field(default_factory=list)
    points: bool = False
    alarm: bool = False
    dashed: bool = False


@dataclass
class Band:
    """A stretch of the x axis to highlight (steps where a log is off its plan), ``start`` to
    ``end`` inclusive, in the x units of the curves."""

    start: float
    end: float
    label: str


@dataclass
class Callout:
    """A note pointing at one point of the plot (where a log first leaves its plan)."""

    x: float
    y: float
    text: str


@dataclass
class Chart:
    """A plot of one or more curves sharing axes.

    Args:
        curves: The curves, drawn in this order, one style per curve.
        x_label: Text of the x axis, e.g. ``"batches (ba)"``.
        y_label: Text of the y axis, e.g. ``"LR multiplier"`` or ``"learning rate"``.
        title: Title over the plot; empty for none.
        log_y: Draw the y axis on a log scale (non-positive values are left out).
        bands: Stretches of the x axis highlighted behind the curves.
        callouts: Points annotated with a line of text.
    """

    curves: list[Curve]
    x_label: str
    y_label: str
    title: str = ""
    log_y: bool = False
    bands: list[Band] = field(default_factory=list)
    callouts: list[Callout] = field(default_factory=list)


def envelope(x: np.ndarray, y: np.ndarray, buckets: int) -> tuple[np.ndarray, np.ndarray]:
    """Thin a curve to at most about ``4 * buckets`` points that draw the same at that resolution.

    The x range is cut into ``buckets`` equal slices; of each slice the first, last, lowest and
    highest points are kept, in their original order, so spikes and steps survive. A curve
    that is already short, or whose x is not ascending, is returned as it is.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    n = len(x)
    if n <= 4 * buckets or buckets < 1 or not bool(np.all(np.diff(x) >= 0)):
        return x, y
    edges = np.linspace(x[0], x[-1], buckets + 1)[:-1]
    starts = np.unique(np.searchsorted(x, edges, side="left"))
    ends = np.append(starts[1:], n)
    bucket = np.repeat(np.arange(len(starts)), ends - starts)
    keep = [starts, ends - 1]
    for extreme in (np.minimum.reduceat(y, starts), np.maximum.reduceat(y, starts)):
        hits = np.flatnonzero(y == extreme[bucket])
        # the first point of each slice that reaches the slice's extreme
        keep.append(hits[np.unique(bucket[hits], return_index=True)[1]])
    chosen = np.unique(np.concatenate(keep))
    return x[chosen], y[chosen]


def y_exponent(peak: float) -> int | None:
    """The power of ten to show y values in when their largest magnitude is ``peak``, or ``None``
    to show them as they are: tick labels have a few characters, so 0.0006 would print as 0.000
    (the terminal plot and the figures share this, as ``(×1e-4)`` after the axis title)."""
    if peak == 0 or not np.isfinite(peak) or 1e-2 <= peak < 1e4:
        return None
    return int(np.floor(np.log10(peak)))


def x_exponent(peak: float) -> int | None:
    """The power of ten, a multiple of 3, to show x values in (thousands, millions, billions of
    batches or tokens) when the largest is ``peak``, or ``None`` below 100,000."""
    if not np.isfinite(peak) or peak < 1e5:
        return None
    return 3 * (int(np.floor(np.log10(peak))) // 3)
