"""Save a :class:`~sched_cli.render.Chart` as a PNG, SVG or PDF figure with matplotlib.

matplotlib is imported only when a figure is saved (it takes ~0.5 s to import), and only its
object-oriented API is used: a ``Figure`` drawn on the Agg canvas, never ``pyplot``. So no
display is needed, no global backend is switched under a program that imports us, and no
figure is left registered in pyplot's state after saving.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from sched_cli.render import Chart, envelope
from sched_cli.render.writers import atomic_output

__all__ = ["FIGURE_FORMATS", "save_figure"]

#: File extensions :func:`save_figure` understands.
FIGURE_FORMATS = (".png", ".svg", ".pdf")
#: Inches; wide enough for a long run's x axis, tall enough to read the multiplier.
FIGSIZE = (10.0, 5.5)
DPI = 150
# Curves are thinned to this many slices of the x range (a few points each): finer than the
# 1500 pixels of a PNG, and it keeps SVG and PDF files small for runs of millions of batches.
_BUCKETS = 3000
# Past this many breakpoints their labels would only overlap: draw the lines alone.
_MAX_MARK_LABELS = 40


def save_figure(chart: Chart, path: str | os.PathLike[str]) -> None:
    """Draw ``chart`` and save it to ``path``, in the format its extension names.

    Each curve is a line with a legend entry; breakpoints are thin dashed vertical lines in
    the curve's colour, with small labels. With ``log_y`` the y axis is logarithmic and values
    that are not positive are left out. The file is written to a temporary file beside
    ``path`` and moved into place at the end, so a failure never leaves half a figure.

    Raises:
        ValueError: The extension is not ``.png``, ``.svg`` or ``.pdf``.
        OutputError: ``path`` cannot be written (see :func:`~sched_cli.render.writers.atomic_output`).
    """
    fmt = Path(path).suffix.lower()
    if fmt not in FIGURE_FORMATS:
        raise ValueError(f"figure format must be one of {', '.join(FIGURE_FORMATS)}, not {fmt or 'none'!r} ({path})")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    fig = Figure(figsize=FIGSIZE, dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    drawn: set[tuple[float, str]] = set()
    marks = sum(len(c.marks) for c in chart.curves)
    for curve in chart.curves:
        x, y = envelope(curve.x, curve.y, _BUCKETS)
        if chart.log_y:
            y = np.where(y > 0, y, np.nan)
        (line,) = ax.plot(x, y, label=curve.label, linewidth=1.5)
        for mark_x, label in curve.marks:
            if (float(mark_x), label) in drawn:
                continue
            drawn.add((float(mark_x), label))
            color = line.get_color()
            ax.axvline(mark_x, color=color, linestyle="--", linewidth=0.8, alpha=0.7)
            if marks <= _MAX_MARK_LABELS:
                ax.annotate(
                    label,
                    xy=(mark_x, 1.0),
                    xycoords=ax.get_xaxis_transform(),
                    xytext=(2, -3),
                    textcoords="offset points",
                    rotation=90,
                    ha="left",
                    va="top",
                    fontsize=7,
                    color=color,
                )
    if chart.log_y:
        ax.set_yscale("log")
    # Batch counts read better as 200,000 than as 0.2 under a "1e6" offset.
    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.10g}"))
    ax.set_xlabel(chart.x_label)
    ax.set_ylabel(chart.y_label)
    if chart.title:
        ax.set_title(chart.title)
    ax.grid(True, alpha=0.3)
    if chart.curves:
        ax.legend(loc="best")
    else:
        ax.text(0.5, 0.5, "nothing to plot", transform=ax.transAxes, ha="center", va="center")
    # No timestamps in the file: the same chart gives the same bytes.
    metadata = {".pdf": {"CreationDate": None}, ".svg": {"Date": None}}.get(fmt, {})
    with atomic_output(path, binary=True) as stream:
        fig.savefig(stream, format=fmt[1:], dpi=DPI, metadata=metadata)
