"""Figures saved with matplotlib: PNG, SVG and PDF, log scale, safe writing."""

from __future__ import annotations

import struct
import subprocess
import sys

import numpy as np
import pytest
from conftest import assert_import_leaves_out

from sched_cli.render import Chart, Curve
from sched_cli.render.figure import DPI, FIGSIZE, save_figure
from sched_cli.render.writers import OutputError

MAGIC = {".png": b"\x89PNG\r\n\x1a\n", ".pdf": b"%PDF-"}


def chart(log_y: bool = False, n: int = 2000) -> Chart:
    t = np.arange(n, dtype=np.float64)
    warm = n // 10
    y = np.where(t < warm, t / warm, 0.5 * (1 + np.cos(np.pi * (t - warm) / (n - warm))))
    return Chart(
        [
            Curve("ssr=1.0", t, y, [(float(warm), "warmup end")]),
            Curve("ssr=0.5", t[: n // 2], y[::2], [(float(warm // 2), "warmup end")]),
        ],
        x_label="batches (ba)",
        y_label="LR multiplier",
        title="cosine with warmup",
        log_y=log_y,
    )


@pytest.mark.parametrize("suffix", [".png", ".svg", ".pdf"])
def test_each_format_is_written(tmp_path, suffix):
    path = tmp_path / f"plot{suffix}"
    save_figure(chart(), path)
    data = path.read_bytes()
    if suffix == ".svg":
        assert data.lstrip().startswith(b"<?xml") and b"<svg" in data[:2000]
        for text in (b"LR multiplier", b"ssr=0.5", b"warmup end"):
            assert text in data, "SVG keeps text as text"
    else:
        assert data.startswith(MAGIC[suffix])
    assert len(data) > 10_000
    assert [p.name for p in tmp_path.iterdir()] == [path.name], "no temporary file left behind"


def test_png_size_and_resolution(tmp_path):
    path = tmp_path / "plot.PNG"  # the extension is read case-insensitively
    save_figure(chart(), path)
    width, height = struct.unpack(">II", path.read_bytes()[16:24])
    assert (width, height) == (round(FIGSIZE[0] * DPI), round(FIGSIZE[1] * DPI))


def test_log_scale(tmp_path):
    path = tmp_path / "log.svg"
    save_figure(chart(log_y=True), path)  # both ramps start at exactly 0: left out
    data = path.read_bytes()
    assert b"10^{0}" in data
    assert b"10^{-2}" in data  # matplotlib keeps each tick label's text in a comment
    linear = tmp_path / "linear.svg"
    save_figure(chart(), linear)
    assert data != linear.read_bytes()


def test_long_curves_stay_small_as_vector_files(tmp_path):
    path = tmp_path / "long.svg"
    save_figure(chart(n=1_000_000), path)
    assert path.stat().st_size < 1_000_000


def test_no_curves(tmp_path):
    path = tmp_path / "empty.png"
    save_figure(Chart([], "ba", "mult"), path)
    assert path.read_bytes().startswith(MAGIC[".png"])


@pytest.mark.parametrize("name", ["plot.jpg", "plot", "plot.csv"])
def test_unknown_format_is_refused(tmp_path, name):
    with pytest.raises(ValueError, match=r"\.png, \.svg, \.pdf"):
        save_figure(chart(), tmp_path / name)
    assert list(tmp_path.iterdir()) == []


def test_missing_directory(tmp_path):
    with pytest.raises(OutputError, match="does not exist"):
        save_figure(chart(), tmp_path / "nope" / "plot.png")


def test_failure_leaves_the_old_file(tmp_path, monkeypatch):
    from matplotlib.figure import Figure

    path = tmp_path / "plot.png"
    path.write_bytes(b"old")

    def fail(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(Figure, "savefig", fail)
    with pytest.raises(RuntimeError, match="disk on fire"):
        save_figure(chart(), path)
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["plot.png"]


def test_pyplot_is_left_alone(tmp_path):
    save_figure(chart(), tmp_path / "a.png")
    code = (
        "import sys\n"
        "from sched_cli.render import Chart, Curve\n"
        "from sched_cli.render.figure import save_figure\n"
        "import numpy as np\n"
        f"save_figure(Chart([Curve('a', np.arange(3.0), np.ones(3))], 'x', 'y'), {str(tmp_path / 'b.png')!r})\n"
        "assert 'matplotlib.pyplot' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_importing_figure_loads_no_matplotlib():
    assert_import_leaves_out("sched_cli.render, sched_cli.render.figure", ("matplotlib", "torch"))


# -- layout: breakpoint labels, scaled ticks, the legend ----------------------------------------
def drawn(c: Chart):
    from sched_cli.render.figure import draw_figure

    fig = draw_figure(c)
    fig.canvas.draw()
    [ax] = fig.axes
    return fig, ax


def test_breakpoint_labels_sit_above_the_plot_where_no_curve_runs():
    fig, ax = drawn(chart())
    renderer = fig.canvas.get_renderer()
    top = ax.get_window_extent(renderer).y1
    labels = [t for t in ax.texts if t.get_text()]
    assert sorted(t.get_text() for t in labels) == ["warmup end", "warmup end"]  # at 200 and 100
    for label in labels:
        box = label.get_window_extent(renderer)
        assert box.y0 >= top  # wholly above the axes, so no line drawn inside them crosses it
    # The title is above the labels, not on them.
    title = fig._suptitle.get_window_extent(renderer)
    assert all(title.y0 >= t.get_window_extent(renderer).y1 for t in labels)


def test_breakpoints_at_one_x_share_a_label_naming_their_curves():
    t = np.arange(100.0)
    both = Chart(
        [Curve("ssr=1", t, t, [(30.0, "milestone 1")]), Curve("ssr=0.5", t, t / 2, [(30.0, "milestone 2")])],
        "epochs (ep)",
        "lr",
    )
    _, ax = drawn(both)
    [label] = [x.get_text() for x in ax.texts]
    assert label.split("\n") == ["milestone 1 (ssr=1)", "milestone 2 (ssr=0.5)"]
    same = Chart([Curve("ssr=1", t, t, [(5.0, "warmup end")]), Curve("ssr=2", t, t, [(5.0, "warmup end")])], "x", "y")
    _, ax = drawn(same)
    assert [x.get_text() for x in ax.texts] == ["warmup end"]


def test_tiny_values_and_long_axes_get_a_shared_multiplier_in_the_axis_title():
    x = np.linspace(0, 2.5e9, 200)
    c = Chart([Curve("ssr=1", x, 6e-4 * (1 - x / 2.5e9))], "tokens (tok)", "learning rate")
    _, ax = drawn(c)
    assert ax.get_ylabel() == "learning rate (×1e-4)" and ax.get_xlabel() == "tokens (tok) ×1e9"
    ticks = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
    assert "6" in ticks and all(len(t) <= 4 for t in ticks), ticks  # 0, 1, ... 6: not 0.0006
    xticks = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert "2.5" in xticks and not any("e" in t for t in xticks)
    assert ax.yaxis.get_offset_text().get_text() == "" and ax.xaxis.get_offset_text().get_text() == ""


def test_a_legend_only_when_it_tells_something():
    t = np.arange(10.0)
    assert drawn(chart())[1].get_legend() is not None  # two curves
    assert drawn(Chart([Curve("ssr=1", t, t)], "x", "y"))[1].get_legend() is None  # the default: nothing to tell
    assert drawn(Chart([Curve("ssr=0.5", t, t)], "x", "y"))[1].get_legend() is not None  # an SSR worth saying


def test_a_png_carries_the_digest_of_the_chart_it_draws(tmp_path):
    from sched_cli.render.figure import DIGEST_KEY, chart_digest

    path = tmp_path / "plot.png"
    save_figure(chart(), path)
    data = path.read_bytes()
    assert f"tEXt{DIGEST_KEY}\0{chart_digest(chart())}".encode() in data
    # One ulp of one point, a label or a mark's place is another chart.
    moved = chart()
    moved.curves[0].y[700] = np.nextafter(moved.curves[0].y[700], 2.0)
    relabelled = chart()
    relabelled.curves[1].marks = [(99.0, "warmup end")]
    digests = {chart_digest(c) for c in (chart(), moved, relabelled, chart(log_y=True))}
    assert len(digests) == 4
