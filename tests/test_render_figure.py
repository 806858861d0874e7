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
