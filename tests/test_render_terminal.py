"""The terminal plot: exact width, labels, legend, breakpoints, log scale, plain output."""

from __future__ import annotations

import re

import numpy as np
import pytest
from conftest import assert_import_leaves_out
from hypothesis import given, settings
from hypothesis import strategies as st

from sched_cli.render import Chart, Curve, envelope
from sched_cli.render.terminal import MARK, MIN_WIDTH, render_terminal, render_terminal_plot

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def warmup_cosine(n: int, warmup: int) -> np.ndarray:
    t = np.arange(n, dtype=np.float64)
    return np.where(t < warmup, t / warmup, 0.5 * (1 + np.cos(np.pi * (t - warmup) / (n - warmup))))


def chart(log_y: bool = False, title: str = "cosine with warmup") -> Chart:
    full = Curve("ssr=1.0", np.arange(1000.0), warmup_cosine(1000, 100), [(100.0, "warmup end")])
    half = Curve("ssr=0.5", np.arange(500.0), warmup_cosine(500, 50), [(50.0, "warmup end"), (499.0, "end")])
    return Chart([full, half], x_label="batches (ba)", y_label="LR multiplier", title=title, log_y=log_y)


def visible(text: str) -> list[str]:
    return ANSI.sub("", text).split("\n")


@pytest.mark.parametrize("width", [MIN_WIDTH, 41, 80, 100, 137])
@pytest.mark.parametrize("color", [False, True])
def test_every_line_is_exactly_the_width(width, color):
    lines = visible(render_terminal(chart(), width=width, height=25, color=color))
    assert {len(line) for line in lines} == {width}


def test_no_ansi_codes_without_color():
    text = render_terminal(chart(), width=90, color=False)
    assert "\x1b" not in text


def test_ansi_codes_with_color():
    assert "\x1b[" in render_terminal(chart(), width=90, color=True)


def test_labels_title_and_legend_appear():
    text = render_terminal(chart(), width=100, color=False)
    for part in ("cosine with warmup", "LR multiplier", "batches (ba)", "ssr=1.0", "ssr=0.5"):
        assert part in text


def test_curves_differ_by_marker_without_color():
    text = render_terminal(chart(), width=100, color=False)
    lines = text.split("\n")
    legend = next(line for line in lines if "ssr=1.0" in line)
    assert "++ ssr=1.0" in legend and "xx ssr=0.5" in legend
    body = "\n".join(line for line in lines if line.startswith("│"))
    assert "+" in body and "x" in body


def test_single_curve_uses_block_characters():
    one = Chart([Curve("only", np.arange(100.0), np.linspace(1, 0, 100))], "ba", "mult")
    text = render_terminal(one, width=60, color=False)
    assert any(ch in text for ch in "▀▄▌▐▖▗▘▝▙▛▜▟")
    assert "██ only" in text


def test_breakpoints_are_marked_and_labelled():
    lines = render_terminal(chart(), width=100, color=False).split("\n")
    row = next(line for line in lines if MARK in line)
    assert "warmup end" in row or any(f"{MARK} warmup end" in line for line in lines)
    assert row.count(MARK) == 3  # 50, 100 and 499 fall in three different columns
    top = lines.index(row) + 1
    assert lines[top].startswith("┌")
    # Each marker sits over the vertical line uniplot draws in the plot at that x.
    body = [line for line in lines[top + 1 :] if line.startswith("│")]
    for col in (i for i, ch in enumerate(row) if ch == MARK):
        assert sum(line[col] == "│" for line in body) > len(body) // 2


def test_breakpoints_stay_marked_when_the_x_axis_is_rescaled():
    # Tokens in the trillions are drawn as "x1e12": the marks must be rescaled with the curve.
    x = np.linspace(0, 4e12, 500)
    curve = Curve("run", x, 1 - x / 5e12, marks=[(8e9, "warmup end"), (4e12, "stop")])
    text = render_terminal(Chart([curve], x_label="tokens (tok)", y_label="lr"), width=80, color=False)
    row = next(line for line in text.split("\n") if MARK in line)
    assert row.count(MARK) == 2 and "warmup end" in row and "stop" in row
    assert "×1e12" in text


def test_labels_that_do_not_fit_go_to_a_note():
    crowded = Chart(
        [Curve("a", np.arange(100.0), np.linspace(1, 0, 100), [(10.0, "first label"), (13.0, "second label")])],
        "ba",
        "mult",
    )
    text = render_terminal(crowded, width=60, color=False)
    assert f"{MARK} first label at 10" in text
    assert "second label" in text


def test_height_is_the_total_number_of_lines():
    for height in (15, 25, 40):
        assert len(render_terminal(chart(), width=100, height=height, color=False).split("\n")) == height


def test_log_scale_leaves_out_non_positive_values_with_a_note():
    text = render_terminal(chart(log_y=True), width=100, color=False)
    assert "log scale: left out 1 value(s) of ssr=1.0" in text  # the ramp starts at exactly 0
    assert {len(line) for line in text.split("\n")} == {100}


def test_notes_can_be_returned_apart_from_the_plot():
    drawn = render_terminal_plot(chart(log_y=True), width=100, height=25, color=False)
    assert drawn.notes == [  # both ramps start at exactly 0
        "log scale: left out 1 value(s) of ssr=1.0 that are not positive",
        "log scale: left out 1 value(s) of ssr=0.5 that are not positive",
    ]
    assert "left out" not in drawn.text
    lines = drawn.text.split("\n")
    assert len(lines) == 25 and {len(line) for line in lines} == {100}  # the plot gets the note's line


def tick_labels(text: str) -> list[tuple[int, str]]:
    """(row in the plot, label) of every labelled row, top to bottom."""
    rows = [line for line in text.split("\n") if line.startswith("│")]
    return [(i, row.rsplit("│", 1)[1].strip()) for i, row in enumerate(rows) if row.rsplit("│", 1)[1].strip()]


@pytest.mark.parametrize("width", [80, 120])
def test_linear_ticks_are_round_values_on_their_rows(width):
    x = np.arange(1000.0)
    ramp = Chart([Curve("a", x, 0.1 * x / 999)], "ba", "lr")
    text = render_terminal(ramp, width=width, height=16, color=False)
    labels = tick_labels(text)
    assert [label for _, label in labels] == ["0.1", "0.075", "0.05", "0.025", "0"]
    # 16 lines less the axis title, the frame, tick numbers, x axis title and legend: 10 rows, the
    # top one at 0.1 and the bottom one at 0, so v sits at row (1 - v / 0.1) * 9, to the nearest.
    assert sum(line.startswith("│") for line in text.split("\n")) == 10
    assert [row for row, _ in labels] == [0, 2, 4, 7, 9]  # 0, 2.25, 4.5 (drawn in 4), 6.75, 9


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [
        (0.0, 1.0, ["1", "0.8", "0.6", "0.4", "0.2", "0"]),
        (0.0, 0.97, ["1", "0.8", "0.6", "0.4", "0.2", "0"]),
        (-0.3, 0.7, ["0.75", "0.5", "0.25", "0", "-0.25", "-0.5"]),
        (0.0, 3.0, ["3", "2", "1", "0"]),
        (0.0, 250.0, ["250", "200", "150", "100", "50", "0"]),
    ],
)
def test_linear_tick_values(low, high, expected):
    x = np.arange(100.0)
    labels = tick_labels(render_terminal(Chart([Curve("a", x, np.linspace(low, high, 100))], "ba", "m"), 80, 20, False))
    assert [label for _, label in labels] == expected


@pytest.mark.parametrize("width", [80, 120])
def test_no_negative_zero_anywhere(width):
    x = np.arange(100.0)
    for y in (np.linspace(-1e-17, 1.0, 100), np.linspace(-0.2, 0.2, 100), np.zeros(100)):
        text = render_terminal(Chart([Curve("a", x, y)], "ba", "m"), width, 20, False)
        assert not re.search(r"-0(?![.\d])", text) and "-0.0" not in text
    # An x axis in fractions of an epoch from 0: uniplot would label its start "-0.0".
    epochs = Chart([Curve("a", np.linspace(0, 0.99, 100), np.linspace(1, 0, 100))], "epochs (ep)", "m")
    lines = render_terminal(epochs, width, 14, False).split("\n")
    ticks = next(line for line in lines if re.match(r"\s*0\.0\s", line))
    assert "-0" not in "\n".join(lines) and ticks.split()[0] == "0.0"


@pytest.mark.parametrize("width", [80, 120])
def test_log_axis_labels_every_decade_in_one_style(width):
    x = np.arange(1, 1001.0)
    decay = Chart([Curve("a", x, 0.1 * np.exp(-x / 60.0))], "ba", "lr", log_y=True)  # 0.1 down to ~6e-9
    labels = [label for _, label in tick_labels(render_terminal(decay, width, 24, False))]
    assert labels[0] == "1e-1" and all(re.fullmatch(r"1e-\d+", label) for label in labels), labels
    exponents = [int(label[3:]) for label in labels]
    assert exponents == sorted(exponents) and len(set(np.diff(exponents))) == 1  # evenly spaced decades
    assert "10^" not in render_terminal(decay, width, 24, False)


def test_log_axis_within_a_few_decades_uses_decimals():
    x = np.arange(1000.0)
    short = Chart([Curve("a", x, np.geomspace(1.0, 0.005, 1000))], "ba", "m", log_y=True)
    labels = [label for _, label in tick_labels(render_terminal(short, 80, 20, False))]
    assert labels == ["1", "0.1", "0.01", "0.001"]
    narrow = Chart([Curve("a", x, np.linspace(0.9, 0.4, 1000))], "ba", "m", log_y=True)
    labels = [label for _, label in tick_labels(render_terminal(narrow, 80, 20, False))]
    assert labels and all(re.fullmatch(r"0\.\d", label) for label in labels), labels


def test_a_curve_with_nothing_to_draw_is_noted():
    dead = Curve("dead", np.arange(3.0), np.array([0.0, -1.0, 0.0]))
    live = Curve("live", np.arange(3.0), np.array([1.0, 0.5, 0.25]))
    text = render_terminal(Chart([dead, live], "ba", "mult", log_y=True), width=70, color=False)
    assert "dead: nothing to draw" in text and "live" in text


@pytest.mark.parametrize("curves", [[], [Curve("empty", np.array([]), np.array([]))]])
def test_nothing_to_plot(curves):
    text = render_terminal(Chart(curves, "ba", "mult", title="t"), width=50, color=False)
    lines = text.split("\n")
    assert {len(line) for line in lines} == {50}
    assert "nothing" in text


def test_non_finite_points_are_skipped():
    y = np.linspace(1, 0, 50)
    y[10] = np.nan
    text = render_terminal(Chart([Curve("c", np.arange(50.0), y)], "ba", "mult"), width=60, color=False)
    assert {len(line) for line in text.split("\n")} == {60}


def test_constant_curve_and_single_point():
    flat = Curve("flat", np.arange(10.0), np.ones(10))
    dot = Curve("dot", np.array([3.0]), np.array([0.5]), [(3.0, "here")])
    for c in (flat, dot):
        text = render_terminal(Chart([c], "ba", "mult"), width=60, color=False)
        assert {len(line) for line in text.split("\n")} == {60}


def test_long_text_is_cut_to_the_width():
    long = "x" * 300
    text = render_terminal(Chart([Curve(long, np.arange(5.0), np.arange(5.0))], long, long, title=long), 50, 20, False)
    assert {len(line) for line in text.split("\n")} == {50}
    assert "…" in text


def test_too_narrow_is_refused():
    with pytest.raises(ValueError, match="at least"):
        render_terminal(chart(), width=MIN_WIDTH - 1)


def test_a_long_curve_is_thinned_but_keeps_its_spikes():
    x = np.arange(1_000_000, dtype=np.float64)
    y = np.zeros_like(x)
    y[123_457] = 1.0  # one spike, narrower than any character cell
    tx, ty = envelope(x, y, 200)
    assert len(tx) <= 4 * 200 and ty.max() == 1.0 and tx[0] == 0 and tx[-1] == x[-1]
    assert np.all(np.diff(tx) > 0)
    text = render_terminal(Chart([Curve("spiky", x, y)], "ba", "mult"), width=80, color=False)
    top_row = text.split("\n")[2]
    assert top_row.strip("│ 1.0") != "", "the spike reaches the top row"


def test_envelope_leaves_short_and_unsorted_curves_alone():
    x, y = np.arange(10.0), np.arange(10.0)
    assert envelope(x, y, 100)[0] is not None and len(envelope(x, y, 100)[0]) == 10
    shuffled = np.array([3.0, 1.0, 2.0] * 1000)
    assert len(envelope(shuffled, shuffled, 10)[0]) == 3000


@settings(max_examples=40, deadline=None)
@given(
    width=st.integers(MIN_WIDTH, 160),
    height=st.integers(5, 40),
    n=st.integers(1, 300),
    curves=st.integers(1, 7),
    color=st.booleans(),
    log_y=st.booleans(),
    scale=st.sampled_from([1e-6, 1.0, 1e6]),
)
def test_any_chart_fits_the_width(width, height, n, curves, color, log_y, scale):
    rng = np.random.default_rng(n)
    cs = [
        Curve(f"c{i}", np.sort(rng.uniform(0, 1e4, n)), scale * rng.uniform(-0.1, 1, n), [(rng.uniform(0, 1e4), "m")])
        for i in range(curves)
    ]
    lines = visible(render_terminal(Chart(cs, "x", "y", title="t", log_y=log_y), width, height, color))
    assert {len(line) for line in lines} == {width}


def test_importing_terminal_loads_no_plotting_library():
    assert_import_leaves_out("sched_cli.render.terminal", ("uniplot", "matplotlib", "torch"))


def test_tiny_learning_rates_and_long_axes_are_rescaled_for_readable_ticks():
    x = np.linspace(0, 2.5e9, 200)
    chart = Chart([Curve("ssr=1", x, 6e-4 * (1 - x / 2.5e9))], "tokens (tok)", "learning rate")
    text = render_terminal(chart, width=80, height=16, color=False)
    assert "learning rate (×1e-4)" in text
    assert "tokens (tok) ×1e9" in text
    assert "0.000" not in text  # the tick that 6e-4 would otherwise round to
    plain = render_terminal(Chart([Curve("a", np.arange(10.0), np.linspace(0, 1, 10))], "ba", "m"), 60, 12, False)
    assert "×1e" not in plain and "-0.0" not in plain


def test_linear_y_axis_is_labelled_at_several_rows():
    chart = Chart([Curve("a", np.arange(100.0), np.linspace(0.0, 0.1, 100))], "ba", "lr")
    lines = render_terminal(chart, width=70, height=20, color=False).split("\n")
    rows = [line for line in lines if line.startswith("│")]
    labels = [line.rsplit("│", 1)[1].strip() for line in rows]
    ticks = [float(label) for label in labels if label]
    assert ticks[0] == 0.1 and ticks[-1] == 0.0  # the top row is the highest value, the bottom 0
    assert ticks == [0.1, 0.08, 0.06, 0.04, 0.02, 0.0]
    assert labels[0] and labels[-1]  # on the first and last rows of the plot


@pytest.mark.parametrize("width", [80, 120])
def test_breakpoints_stay_marked_on_a_rescaled_x_axis(width):
    x = np.arange(0, 1_000_000, 100, dtype=np.float64)
    c = Chart([Curve("a", x, np.minimum(1, x / 250_000), [(250_000.0, "warmup end")])], "batches (ba)", "m")
    lines = render_terminal(c, width, 16, False).split("\n")
    [row] = [line for line in lines if MARK in line]
    assert "warmup end" in row and "batches (ba) ×1e3" in "\n".join(lines)
    # A quarter of the way along the plot's columns (the frame's "┌" is column 0).
    columns = len(next(line for line in lines if line.startswith("┌")).rstrip()) - 2
    assert abs(row.index(MARK) - 1 - columns / 4) <= 1
