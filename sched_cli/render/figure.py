"""Save a :class:`~sched_cli.render.Chart` as a PNG, SVG or PDF figure with matplotlib.

matplotlib is imported only when a figure is saved (it takes ~0.5 s to import), and only its
object-oriented API is used: a ``Figure`` drawn on the Agg canvas, never ``pyplot``. So no
display is needed, no global backend is switched under a program that imports us, and no
figure is left registered in pyplot's state after saving.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from sched_cli.render import Chart, Curve, envelope, x_exponent, y_exponent
from sched_cli.render.writers import atomic_output

__all__ = ["FIGURE_FORMATS", "DIGEST_KEY", "chart_digest", "save_figure", "draw_figure"]

#: File extensions :func:`save_figure` understands.
FIGURE_FORMATS = (".png", ".svg", ".pdf")
#: The PNG text chunk holding :func:`chart_digest` of the chart drawn: an image pasted in the docs
#: is current when its digest is the one the same command gives now, whatever matplotlib's pixels.
DIGEST_KEY = "sched:chart"
#: Inches; wide enough for a long run's x axis, tall enough to read the multiplier.
FIGSIZE = (10.0, 5.5)
DPI = 150
# Curves are thinned to this many slices of the x range (a few points each): finer than the
# 1500 pixels of a PNG, and it keeps SVG and PDF files small for runs of millions of batches.
_BUCKETS = 3000
# Past this many breakpoint labels they would only overlap: draw the lines alone.
_MAX_MARK_LABELS = 40
# Breakpoints closer than this fraction of the x axis share a label (a 7-point label is ~1% wide).
_MARK_GAP = 0.012
#: Matplotlib's tab:red: points that went wrong, their bands and callouts.
ALARM = "#d62728"
# A band of one step is still this fraction of the x axis wide.
_MIN_BAND = 0.004


def save_figure(chart: Chart, path: str | os.PathLike[str]) -> None:
    """Draw ``chart`` and save it to ``path``, in the format its extension names.

    Each curve is a line. Breakpoints are thin dashed vertical lines in their curve's colour,
    labelled in a band above the plot, where no curve can run through a label; breakpoints at
    (nearly) the same x share one label. Tiny or huge values and long x axes are shown in a
    power of ten named after the axis title (``learning rate (×1e-4)``, ``tokens (tok) ×1e9``),
    as the terminal plot shows them. The legend appears only when it tells something: with
    several curves, or one whose label is not the default ``ssr=1``. With ``log_y`` the y axis is
    logarithmic and values that are not positive are left out. The file is written to a temporary
    file beside ``path`` and moved into place at the end, so a failure never leaves half a figure.

    Raises:
        ValueError: The extension is not ``.png``, ``.svg`` or ``.pdf``.
        OutputError: ``path`` cannot be written (see :func:`~sched_cli.render.writers.atomic_output`).
    """
    fmt = Path(path).suffix.lower()
    if fmt not in FIGURE_FORMATS:
        raise ValueError(f"figure format must be one of {', '.join(FIGURE_FORMATS)}, not {fmt or 'none'!r} ({path})")
    fig = draw_figure(chart)
    # No timestamps in the file: the same chart gives the same bytes.
    metadata = {".pdf": {"CreationDate": None}, ".svg": {"Date": None}, ".png": {DIGEST_KEY: chart_digest(chart)}}[fmt]
    with atomic_output(path, binary=True) as stream:
        fig.savefig(stream, format=fmt[1:], dpi=DPI, metadata=metadata)


def chart_digest(chart: Chart) -> str:
    """A sha256 of everything a chart draws: its texts, and each curve's points, marks and style,
    its bands and callouts (the numbers as float64 bytes, so that it is exact)."""
    import hashlib

    digest = hashlib.sha256()

    def add(*parts: object) -> None:
        for part in parts:
            if isinstance(part, np.ndarray):
                digest.update(np.ascontiguousarray(part, dtype=np.float64).tobytes())
            else:
                digest.update(repr(part).encode("utf-8"))
            digest.update(b"\0")

    add(chart.title, chart.x_label, chart.y_label, chart.log_y, len(chart.curves))
    for c in chart.curves:
        add(c.label, c.points, c.alarm, len(c.x), c.x, c.y, c.marks)
        if c.dashed:  # only when set: the digest of every chart drawn before dashed lines stays
            add("dashed")
    add([(b.start, b.end, b.label) for b in chart.bands], [(c.x, c.y, c.text) for c in chart.callouts])
    return digest.hexdigest()


def draw_figure(chart: Chart) -> Any:
    """The matplotlib ``Figure`` :func:`save_figure` saves (on an Agg canvas, outside pyplot)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import ScalarFormatter

    fig = Figure(figsize=FIGSIZE, dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    x_scale, x_label = _scale(chart.curves, "x", chart.x_label, False)
    y_scale, y_label = _scale(chart.curves, "y", chart.y_label, chart.log_y)
    marks: list[tuple[float, str, str, str]] = []
    for curve in chart.curves:
        x, y = envelope(curve.x, curve.y, _BUCKETS)
        if chart.log_y:
            y = np.where(y > 0, y, np.nan)
        if curve.alarm:
            style = {"linestyle": "none", "marker": "x", "markersize": 5, "color": ALARM, "zorder": 3}
        elif curve.points:
            style = {"linestyle": "none", "marker": ".", "markersize": 4}
        else:
            style = {"linewidth": 1.5, "linestyle": "--" if curve.dashed else "-"}
        (line,) = ax.plot(x / x_scale, y / y_scale, label=curve.label, **style)
        marks += [(float(mark_x) / x_scale, label, line.get_color(), curve.label) for mark_x, label in curve.marks]
    for mark_x, _, color, _ in dict.fromkeys(marks):
        ax.axvline(mark_x, color=color, linestyle="--", linewidth=0.8, alpha=0.7)
    _draw_bands(ax, chart, x_scale)
    if chart.log_y:
        ax.set_yscale("log")
    else:
        # Plain numbers on the (already rescaled) axes: no second offset or multiplier of matplotlib's.
        ax.yaxis.set_major_formatter(ScalarFormatter(useOffset=False))
    ax.xaxis.set_major_formatter(ScalarFormatter(useOffset=False))
    if marks:
        _label_marks(ax, marks)
    for callout in chart.callouts:
        _draw_callout(ax, callout.x / x_scale, callout.y / y_scale, callout.text)
    ax.set_xlabel(x_label)
    ax.set_ylabel(y_label)
    if chart.title:
        # Over the figure, so that it sits above the band of breakpoint labels.
        fig.suptitle(chart.title)
    ax.grid(True, alpha=0.3)
    if not chart.curves:
        ax.text(0.5, 0.5, "nothing to plot", transform=ax.transAxes, ha="center", va="center")
    elif len(chart.curves) > 1 or chart.curves[0].label not in ("", "ssr=1"):
        ax.legend(loc="best")
    return fig


def _scale(curves: list[Curve], axis: str, title: str, log: bool) -> tuple[float, str]:
    """The factor an axis's values are divided by, and its title saying so (as the terminal plot)."""
    values = [np.asarray(getattr(c, axis), dtype=np.float64) for c in curves]
    finite = [np.abs(v[np.isfinite(v)]) for v in values]
    peak = max((float(v.max()) for v in finite if v.size), default=0.0)
    if axis == "y":
        exponent = None if log else y_exponent(peak)
        return (1.0, title) if exponent is None else (10.0**exponent, f"{title} (×1e{exponent})")
    exponent = x_exponent(peak)
    return (1.0, title) if exponent is None else (10.0**exponent, f"{title} ×1e{exponent}")


def _draw_bands(ax: Any, chart: Chart, x_scale: float) -> None:
    """Each band as a pale red stretch behind the curves, never narrower than a sliver."""
    if not chart.bands:
        return
    low, high = ax.get_xlim()
    least = (high - low) * _MIN_BAND
    for band in chart.bands:
        start, end = band.start / x_scale, band.end / x_scale
        if end - start < least:
            middle = (start + end) / 2
            start, end = middle - least / 2, middle + least / 2
        ax.axvspan(start, end, color=ALARM, alpha=0.1, linewidth=0, zorder=0)
    ax.set_xlim(low, high)


def _draw_callout(ax: Any, x: float, y: float, text: str) -> None:
    """``text`` in a box with an arrow to the point (x, y), towards the middle of the plot."""
    (x_low, x_high), (y_low, y_high) = ax.get_xlim(), ax.get_ylim()
    right = (x - x_low) > (x_high - x_low) / 2
    up = (y - y_low) > (y_high - y_low) / 2
    ax.plot([x], [y], linestyle="none", marker="o", markersize=9, markerfacecolor="none", color=ALARM, zorder=4)
    ax.annotate(
        text,
        xy=(x, y),
        xytext=(-30 if right else 30, -30 if up else 30),
        textcoords="offset points",
        ha="right" if right else "left",
        va="top" if up else "bottom",
        fontsize=8,
        color=ALARM,
        bbox={"boxstyle": "round,pad=0.3", "facecolor": "white", "edgecolor": ALARM, "alpha": 0.9},
        arrowprops={"arrowstyle": "->", "color": ALARM, "shrinkB": 6},
        zorder=5,
    )


def _label_marks(ax: Any, marks: list[tuple[float, str, str, str]]) -> None:
    """Breakpoint labels in a band above the plot, rotated, one per x position: breakpoints
    closer than a label's width share it, one line each, naming its curve when they come from
    several (``milestone 2 (ssr=0.5)`` beside ``milestone 1 (ssr=1)``), in the curve's colour
    when there is one curve, else in grey."""
    low, high = ax.get_xlim()
    span = (high - low) or 1.0
    groups: list[list[tuple[float, str, str, str]]] = []
    for mark in sorted(dict.fromkeys(marks)):
        if groups and (mark[0] - groups[-1][0][0]) / span < _MARK_GAP:
            groups[-1].append(mark)
        else:
            groups.append([mark])
    if len(groups) > _MAX_MARK_LABELS:
        return  # the lines alone: so many labels would only overlap
    for group in groups:
        labels = dict.fromkeys(label for _, label, _, _ in group)
        curves = dict.fromkeys(curve for _, _, _, curve in group)
        if len(labels) > 1 and len(curves) > 1:
            parts = dict.fromkeys(f"{label} ({curve})" for _, label, _, curve in group)
        else:
            parts = labels
        # One line each, side by side once rotated: shorter than one long line.
        text = "\n".join(parts)
        colors = {color for _, _, color, _ in group}
        ax.annotate(
            text,
            xy=(group[0][0], 1.0),
            xycoords=ax.get_xaxis_transform(),
            xytext=(0, 3),
            textcoords="offset points",
            rotation=90,
            ha="center",
            va="bottom",
            fontsize=7,
            color=colors.pop() if len(colors) == 1 else "0.3",
            annotation_clip=False,
        )
