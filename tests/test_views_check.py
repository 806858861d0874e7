"""What ``sched check`` shows beside its verdict: the chart (the plan, the logged points, the points
off the plan marked in red over a band per span, the first divergence pointed at), drawn as a
figure and in the terminal, and the page's text."""

from __future__ import annotations

import json

import numpy as np
import pytest

from sched_cli.render.figure import ALARM, draw_figure
from sched_cli.render.terminal import ALARM_MARKER, render_terminal
from sched_cli.specs import Overrides, load
from sched_cli.views_check import check_view
from tests.check_case import HAND, write_plan


@pytest.fixture
def plan(tmp_path):
    path = write_plan(tmp_path)
    return path


def view_of(plan, tmp_path, lrs):
    """The check of a trainer_state.json logging ``lrs`` at steps 1, 2, ... (HF's rule: the LR of
    update step - 1)."""
    state = tmp_path / "trainer_state.json"
    rows = [{"step": i + 1, "learning_rate": lr, "loss": 1.0} for i, lr in enumerate(lrs)]
    state.write_text(json.dumps({"log_history": rows}))
    return check_view(load(str(plan), Overrides()), str(plan), [str(state)], Overrides())


@pytest.fixture
def diverging(plan, tmp_path):
    # Steps 6-10 off the plan; step 11 is the LR the optimizer holds after the run (0, on the
    # plan); step 12 lies past the plan's end.
    return view_of(plan, tmp_path, HAND[:5] + [9e-4] * 5 + [0.0, 0.0])


def test_the_chart_holds_the_plan_the_log_and_the_points_off_the_plan(diverging):
    chart = diverging.chart
    plan, logged, off = chart.curves
    # The plan in the log's numbering: step s shows update s - 1.
    at = {float(x): float(y) for x, y in zip(plan.x, plan.y, strict=True)}
    assert [at[s + 1.0] for s in range(10)] == pytest.approx(HAND, rel=1e-12, abs=1e-18)
    assert not plan.points and logged.points and not logged.alarm
    assert logged.x.tolist() == list(range(1, 13))
    assert off.alarm and off.points
    assert off.x.tolist() == [6, 7, 8, 9, 10, 12] and off.y.tolist() == [9e-4] * 5 + [0.0]
    assert [(b.start, b.end) for b in chart.bands] == [(5.5, 10.5), (11.5, 12.5)]
    assert chart.bands[1].label == "1 logged steps outside the plan"
    [callout] = chart.callouts
    assert (callout.x, callout.y) == (6.0, 9e-4)
    assert callout.text == "leaves the plan at step 6: logged 0.0009, planned 0.000625"


def test_a_matching_log_has_nothing_marked(plan, tmp_path):
    view = view_of(plan, tmp_path, HAND)
    assert view.verdict.ok
    assert [c.alarm for c in view.chart.curves] == [False, False]
    assert view.chart.bands == [] and view.chart.callouts == []
    page = view.page("sched check x y")
    assert page.ok and page.tables == [] and page.headline.startswith("check: 10 logged LRs match")


def test_the_figure_marks_the_diverging_steps(diverging):
    fig = draw_figure(diverging.chart)
    fig.canvas.draw()
    [ax] = fig.axes
    red = [line for line in ax.get_lines() if line.get_color() == ALARM and line.get_marker() == "x"]
    [points] = red
    # y is drawn in units of 1e-3, as the axis title says.
    assert ax.get_ylabel() == "learning rate (×1e-3)"
    assert points.get_xdata().tolist() == [6, 7, 8, 9, 10, 12]
    assert np.asarray(points.get_ydata()) * 1e-3 == pytest.approx([9e-4] * 5 + [0.0])
    spans = sorted((p.get_x(), p.get_x() + p.get_width()) for p in ax.patches)
    assert spans == [(5.5, 10.5), (11.5, 12.5)]
    [note] = [t for t in ax.texts if t.get_text().startswith("leaves the plan")]
    assert note.xy == pytest.approx((6.0, 0.9))


def test_the_terminal_plot_marks_the_diverging_steps(diverging):
    text = render_terminal(diverging.chart, width=60, height=20, color=False)
    assert f"{ALARM_MARKER * 2} off the plan: 6 logged" in text
    # The red points without colour: '!' in the plot's columns of steps 6-12, none left of them.
    rows = [line for line in text.splitlines() if line.startswith("│")]
    columns = {i for row in rows for i, ch in enumerate(row) if ch == ALARM_MARKER}
    logged = {i for row in rows for i, ch in enumerate(row) if ch == "x"}
    assert columns and min(columns) > min(logged)


def test_the_page_says_the_verdict_and_lists_every_span(diverging):
    page = diverging.page("sched check args.json trainer_state.json -o c.html")
    assert not page.ok
    assert page.headline == "check: the run leaves the plan at step 6: logged 0.0009, planned 0.000625 (x1.44)"
    assert "reason: no known explanation fits every logged point" in page.lines
    [spans] = page.tables
    assert spans.rows == [["6", "10", "5", "10", "0.0009", "0.000125", "x7.2"]]


def test_steps_before_and_after_the_plan_get_a_band_each(plan, tmp_path):
    # Logged from step 0 (update -1 under HF's rule: before the plan) to step 12 (past its end).
    state = tmp_path / "trainer_state.json"
    lrs = [0.0, *HAND, 0.0, 0.0]
    state.write_text(json.dumps({"log_history": [{"step": i, "learning_rate": v} for i, v in enumerate(lrs)]}))
    view = check_view(load(str(plan), Overrides()), str(plan), [str(state)], Overrides())
    assert view.verdict.first_divergence is None and view.verdict.beyond == 2
    assert [(b.start, b.end) for b in view.chart.bands] == [(-0.5, 0.5), (11.5, 12.5)]
    assert view.chart.curves[2].x.tolist() == [0, 12]


# -- the explanation, drawn ----------------------------------------------------------------------------
def test_another_base_lr_is_drawn_through_the_logged_points(plan, tmp_path):
    # Every logged LR 2.5 times the plan's: the plan at learning_rate 0.0025, by hand.
    view = view_of(plan, tmp_path, [2.5 * v for v in HAND])
    assert view.verdict.explanation.label == "--lr 0.0025"
    plan_curve, logged, explained, off = view.chart.curves
    assert explained.label == "explained: --lr 0.0025"
    assert explained.dashed and not explained.points and not explained.alarm
    assert explained.x.tolist() == list(range(1, 11))  # at the logged steps
    assert explained.y.tolist() == pytest.approx(
        [2.5e-3 * u / 2 if u < 2 else 2.5e-3 * (10 - u) / 8 for u in range(10)]
    )
    # The red points off the plan stay, drawn last.
    assert off.alarm and off.x.tolist() == list(range(2, 11)) and not plan_curve.dashed


def test_another_device_count_is_drawn_as_the_plan_on_those_devices(tmp_path):
    # 80 samples in micro-batches of 10: 4 updates on 2 devices (the plan), 8 on one (the run).
    path = tmp_path / "args.json"
    keys = {"learning_rate": 1e-3, "lr_scheduler_type": "linear", "warmup_steps": 2, "num_train_epochs": 1}
    path.write_text(json.dumps({"output_dir": "x", "per_device_train_batch_size": 10, **keys}))
    # Hugging Face's linear schedule over 8 updates, 2 of warmup, by hand: u / 2, then (8 - u) / 6.
    run = [1e-3 * u / 2 if u < 2 else 1e-3 * (8 - u) / 6 for u in range(8)]
    state = tmp_path / "trainer_state.json"
    state.write_text(json.dumps({"log_history": [{"step": i + 1, "learning_rate": v} for i, v in enumerate(run)]}))
    given = Overrides(dataset_size=80, devices=2)
    view = check_view(load(str(path), given), str(path), [str(state)], given)
    assert view.verdict.reason == "the log matches the plan with --devices 1 (not 2)"
    explained = next(c for c in view.chart.curves if c.dashed)
    assert explained.label == "explained: --devices 1"
    assert explained.x.tolist() == list(range(1, 9))
    assert explained.y.tolist() == pytest.approx(run, rel=1e-12, abs=0)
    # The plan itself still ends after 4 updates.
    assert view.chart.curves[0].x.max() <= 5


def test_the_explanation_in_the_figure_and_the_terminal(plan, tmp_path):
    view = view_of(plan, tmp_path, [2.5 * v for v in HAND])
    fig = draw_figure(view.chart)
    [ax] = fig.axes
    [line] = [line for line in ax.get_lines() if line.get_label() == "explained: --lr 0.0025"]
    assert line.get_linestyle() == "--"
    assert np.asarray(line.get_ydata()) * 1e-3 == pytest.approx([2.5 * v for v in HAND])
    assert "explained: --lr 0.0025" in [t.get_text() for t in ax.get_legend().get_texts()]
    # In the terminal, its own marker (the third curve's, 'o', without colour) in the legend and
    # in the plot, between the logged points it joins.
    text = render_terminal(view.chart, width=60, height=20, color=False)
    assert "oo explained: --lr 0.0025" in text
    rows = [line for line in text.splitlines() if line.startswith("│")]
    assert sum(row.count("o") for row in rows) > 10
