"""Charts and table rows built from specs, before any renderer sees them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sched_cli.simulator import plan
from sched_cli.specs import Overrides, from_mapping, load, load_file
from sched_cli.views import ViewError, batches_at, chart, default_batches, report, summary_table


def spec(expr: str = "cosine_with_warmup(t_warmup=10ba)", **overrides):
    return load(expr, Overrides(**{"max_duration": "100ba", **overrides}))


def test_chart_has_a_curve_per_ssr_with_breakpoints_in_the_axis_unit():
    s = spec(dataloader_len=10, lr=0.5)
    s.ssrs = (0.5, 1.0)
    c = chart([s], x="ep", points=20)
    assert [curve.label for curve in c.curves] == ["ssr=0.5", "ssr=1"]
    assert c.x_label == "epochs (ep)" and c.y_label == "learning rate"
    full = c.curves[1]
    assert full.marks[0] == (1.0, "warmup end")  # batch 10 of 10 per epoch
    assert full.x[-1] == pytest.approx(9.9) and full.y.max() == pytest.approx(0.5)
    # At ssr 0.5 the run has 50 batches: the x axis stops at 4.9 epochs.
    assert c.curves[0].x[-1] == pytest.approx(4.9)


def test_chart_by_fraction_and_multiplier_axis():
    a, b = spec(), spec("linear", max_duration="40ba")
    c = chart([a, b], by_fraction=True, points=50)
    assert c.x_label == "fraction of run (dur)" and c.y_label == "LR multiplier" and c.title == "comparison"
    for curve in c.curves:
        assert curve.x[0] == 0 and curve.x[-1] < 1 and np.all(np.diff(curve.x) > 0)


def test_chart_refuses_axes_the_specs_cannot_give():
    with pytest.raises(ViewError, match="needs a base LR"):
        chart([spec()], y="lr")
    with pytest.raises(ViewError, match="dataloader_len"):
        chart([spec()], x="ep")


def test_batches_at_times_and_the_default_table_rows():
    p = plan(spec(dataloader_len=10).run)
    assert batches_at(p, ["0ba", "55ba", "0.5dur", "3ep"]) == [(0, "0ba"), (55, "55ba"), (50, "0.5dur"), (30, "3ep")]
    with pytest.raises(ViewError, match="outside the run"):
        batches_at(p, ["100ba"])
    rows = default_batches(p)
    assert rows[0] == (0, "0% of run") and rows[5] == (50, "50% of run") and rows[-1] == (99, "last batch")
    assert (10, "warmup end (10ba)") in rows


RESNET = Path(__file__).resolve().parent.parent / "sample_specs" / "resnet50_imagenet.yaml"


def test_report_keeps_the_trainer_curve_only_where_it_differs():
    single = load_file(RESNET)
    page = report([single], [str(RESNET)])
    assert [list(c.values) for c in page.curves] == [["formula", "trainer"]]  # the one-batch lag
    same = from_mapping({"max_duration": "100ba", "schedulers": [{"name": "constant"}]}, "constant.yaml", RESNET.parent)
    page = report([same], ["constant.yaml"], mode="trainer")
    assert [list(c.values) for c in page.curves] == [["trainer"]]
    assert len(page.tables) == 1 and page.tables[0].title == "as the Trainer applies it"


def test_report_curves_carry_every_counter_and_the_breakpoints():
    spec = load_file(RESNET)
    page = report([spec], [str(RESNET)], points=50)
    (curve,) = page.curves
    batch = curve.counters["batch"]
    assert 25025 in batch and 25024 in batch and 25026 in batch  # warmup end and its neighbours
    i = int(np.flatnonzero(batch == 25025)[0])
    # 8 devices x 32, drop_last false: 5,004 batches of 256 and a last one of 8 x 18 per epoch
    assert (curve.counters["epoch"][i], curve.counters["sample"][i]) == (5, 5 * (5004 * 256 + 144))
    assert curve.values["formula"]["lr"][i] == 0.1
    assert [m["label"] for m in curve.marks] == ["warmup end", "milestone 1", "milestone 2", "milestone 3"]
    assert curve.marks[1] == {
        "label": "milestone 1",
        "batch": 150150,
        "epoch": 30,
        "sample": 30 * (5004 * 256 + 144),
        "token": 30 * (5004 * 256 + 144),
    }
    assert page.x_unit == "ep" and page.y_axis == "lr" and page.points == len(batch)
    assert page.specs[0].text == RESNET.read_text()


def test_summary_table_rows_are_what_compare_prints():
    spec = load_file(RESNET)
    table = summary_table([spec])
    assert table.columns[:4] == ["spec", "ssr", "max_duration", "batches"]
    assert table.rows == [
        ["ResNet-50 on ImageNet", "1", "90ep", "450,450", "25,025ba", "0.001", table.rows[0][6], "150,150ba (33.3%)"]
    ]
