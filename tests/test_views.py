"""Charts and table rows built from specs, before any renderer sees them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sched_cli.simulator import plan
from sched_cli.specs import Overrides, from_mapping, load, load_file
from sched_cli.views import (
    ViewError,
    batches_at,
    chart,
    chart_title,
    curve_labels,
    default_batches,
    place_times,
    report,
    spec_labels,
    summary_table,
    table_view,
)


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
    assert (
        c.x_label == "fraction of run (dur)"
        and c.y_label == "LR multiplier"
        and c.title == "cosine_with_warmup(t_warmup=10ba) vs linear"
    )
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
        batches_at(p, ["101ba"])
    rows = default_batches(p)
    assert rows[0] == (0, "0% of run") and rows[5] == (50, "50% of run") and rows[-2] == (99, "last batch")
    assert rows[-1] == (100, "end of run")
    assert (10, "warmup end (10ba)") in rows


@pytest.mark.parametrize("end", ["1dur", "100ba", "10ep", "100sp", "100tok"])
def test_every_spelling_of_the_run_s_end_is_the_end_of_the_run(end):
    p = plan(spec(dataloader_len=10).run)
    assert batches_at(p, [end]) == [(100, f"{end} (end of run)")]


def test_times_that_cannot_be_placed_are_messages_and_the_others_are_kept():
    p = plan(spec().run)
    placed, errors = place_times(p, ["5ba", "5iter", "bad", "5sec", "2ep", "2dur", "0.5dur"])
    assert placed == [(5, "5ba"), (50, "0.5dur")]
    assert len(errors) == 5
    assert (
        errors[0].startswith("--at '5iter': a previewed run has no iterations")
        and "ep, ba, sp, tok or dur" in errors[0]
    )
    assert errors[1].startswith("--at 'bad': ")
    assert errors[2].startswith("--at '5sec': a previewed run has no wall-clock time")
    assert errors[3].startswith("--at '2ep': ") and "--dataloader-len" in errors[3]
    assert errors[4].startswith("--at '2dur': batch 200 is outside the run")


def test_the_table_ends_with_the_lr_after_the_last_batch():
    # linear from 1 to 0.2 over 10 batches: the last batch trains at 1 - 0.8 * 9/10 = 0.28; the
    # run ends at 0.2 (the formula at max_duration); the Trainer's optimizer holds alpha(9) = 0.28
    # after its last step.
    s = spec("linear(alpha_f=0.2)", max_duration="10ba", lr=0.5)
    table, errors = table_view(s)
    assert errors == []
    cols = {c.name: c for c in table.columns}
    assert cols["time"].values[-2:] == ["last batch", "end of run"]
    assert cols["batch"].values[-2:] == [9, 10]
    assert cols["multiplier"].values[-2:] == [pytest.approx(0.28), pytest.approx(0.2)]
    assert cols["lr"].values[-1] == pytest.approx(0.1)
    trainer, _ = table_view(s, mode="trainer")
    assert [c for c in trainer.columns if c.name == "multiplier"][0].values[-1] == pytest.approx(0.28)


def test_table_columns_that_carry_nothing_are_hidden_for_people_only():
    table, _ = table_view(spec())
    assert {c.name for c in table.columns if c.hide} == {"ssr", "epoch", "sample", "token"}
    s = spec(dataloader_len=10, batch_size=4, seq_len=8)
    s.ssrs = (0.5, 1.0)
    table, _ = table_view(s)
    assert not any(c.hide for c in table.columns)
    assert table.title == "cosine_with_warmup(t_warmup=10ba)"


# -- names of curves and charts ------------------------------------------------------------------
def test_inline_specs_are_named_by_their_expression_and_one_ssr_is_not_named():
    a, b = spec("cosine"), spec("linear(alpha_f=0.5)")
    c = chart([a, b], points=10)
    assert [curve.label for curve in c.curves] == ["cosine", "linear(alpha_f=0.5)"]
    assert c.title == "cosine vs linear(alpha_f=0.5)"
    assert [curve.label for curve in chart([a], points=10).curves] == ["cosine"]


def test_ssrs_are_named_only_when_they_differ():
    a, b = spec("cosine"), spec("linear")
    a.ssrs = b.ssrs = (0.5, 1.0)
    assert curve_labels([a, b]) == ["cosine ssr=0.5", "cosine ssr=1", "linear ssr=0.5", "linear ssr=1"]
    a.ssrs = b.ssrs = (0.5,)
    assert curve_labels([a, b]) == ["cosine", "linear"]
    assert chart_title([a, b]) == "cosine vs linear (ssr 0.5)"


def test_labels_that_collide_are_told_apart():
    long = "cosine_with_warmup(t_warmup=10ba, alpha_f=0.{}, scale_warmup=true)"
    a, b, c = spec(long.format(1)), spec(long.format(2)), spec("cosine")
    assert a.label == b.label  # the short forms elide the alpha_f that differs
    assert spec_labels([a, b, c]) == [long.format(1), long.format(2), "cosine"]
    assert spec_labels([c, spec("cosine")]) == ["cosine", "cosine #2"]


def test_a_long_comparison_title_names_schedulers_then_counts_the_rest():
    specs = [spec(f"cosine_with_warmup(t_warmup={n}ba, alpha_f=0.1)") for n in (10, 20, 30, 40)]
    assert chart_title(specs[:2]) == "cosine_with_warmup vs cosine_with_warmup"
    two = [spec("cosine_with_warmup(t_warmup=100ba, alpha_f=0.1)"), spec("wsd(t_warmup=100ba, t_decay=0.2dur); linear")]
    assert chart_title(two) == "cosine_with_warmup vs wsd; linear"
    many = [spec(f"cosine_with_warmup(t_warmup={n}ba, alpha_f=0.1)") for n in range(10, 90, 10)]
    # three names and " and 5 more" make 73 characters, one past the limit
    assert chart_title(many) == "cosine_with_warmup vs cosine_with_warmup and 6 more"
    assert chart([specs[0], specs[1]], points=5, title="mine").title == "mine"


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
    # The geometry: 5,005 batches an epoch of 256 images, the last of 8 x 18 images, and 90
    # epochs of 5,004 x 256 + 144 = 1,281,168 samples counted (one image twice, to even out 8 devices).
    assert table.columns[4:9] == ["per epoch", "batch size", "last batch size", "samples", "tokens"]
    mean = table.columns.index("mean multiplier")  # the report says what it is
    assert table.rows == [
        [
            "ResNet-50 on ImageNet",
            "1",
            "90ep",
            "450,450",
            "5,005",
            "256",
            "144",
            f"{90 * 1281168:,}",
            f"{90 * 1281168:,}",
            "25,025ba",
            "0.001",
            "0.0001",  # the final multiplier 0.001 times the base LR 0.1
            table.rows[0][mean],
            "150,150ba (33.3%)",
        ]
    ]
