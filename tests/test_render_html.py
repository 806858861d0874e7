"""The HTML report renderer: the page's text (exact numbers, escaping, nothing fetched), and the
page itself in a real headless Chromium (hover values equal `sched export`'s, switches, speed).

Browser tests use the `chromium` fixture (conftest.py) and skip, saying why, without
/usr/bin/chromium or playwright.
"""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import orjson
import pytest
from typer.testing import CliRunner

from sched_cli.cli import app
from sched_cli.render.html import Report, ReportCurve, SpecText, Table, render_html, save_html
from sched_cli.specs import from_mapping
from sched_cli.views import report

SAMPLES = Path(__file__).resolve().parent.parent / "sample_specs"
RESNET = SAMPLES / "resnet50_imagenet.yaml"
HOSTILE = "</script><script>window.pwned = 1</script><!-- & \u2028 '\""


def data_of(page_text: str) -> dict:
    match = re.search(r'<script type="application/json" id="sched-data">(.*?)</script>', page_text, re.S)
    assert match, "no data block"
    return json.loads(match.group(1))


def small_curve(**changes) -> ReportCurve:
    n = 5
    fields = dict(
        label="ssr=1",
        spec="s",
        ssr=1.0,
        batches=n,
        dataloader_len=None,
        counters={
            "batch": np.arange(n),
            "epoch": np.zeros(n, dtype=np.int64),
            "sample": np.arange(n) * 4,
            "token": np.arange(n) * 4,
            "duration": np.arange(n) / n,
        },
        values={"formula": {"multiplier": np.linspace(0, 1, n)}},
    )
    fields.update(changes)
    return ReportCurve(**fields)


def cli(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, (args, result.output, result.exception)
    return result.stdout


# -- the page's text ------------------------------------------------------------------------------
def test_floats_travel_as_shortest_round_trip_text():
    values = np.array([0.1, 1.0, 1e-20, 2.0 / 3.0, 5e-324, 1.7976931348623157e308, 1e16, 123456.789e-12])
    page = render_html(Report(title="t", curves=[small_curve(values={"formula": {"multiplier": values[:5]}})]))
    sent = data_of(page)["curves"][0]["values"]["formula"]["multiplier"]
    assert sent == values[:5].tolist()  # json reads back the very same doubles
    raw = re.search(r'"multiplier":\[(.*?)\]', page).group(1)
    assert raw.split(",") == [orjson.dumps(float(v)).decode() for v in values[:5]]


def test_integers_beyond_two_to_the_53_travel_as_text():
    big = np.array([0, 2**53 - 1, 2**53, 2**53 + 1, 2**62], dtype=np.int64)
    curve = small_curve()
    curve.counters["token"] = big
    sent = data_of(render_html(Report(title="t", curves=[curve])))["curves"][0]["counters"]
    assert sent["token"] == [str(v) for v in big.tolist()]
    assert sent["batch"] == [0, 1, 2, 3, 4]  # small ones stay numbers


def test_user_text_cannot_break_out_of_the_page():
    report_ = Report(
        title=HOSTILE,
        curves=[
            small_curve(label=HOSTILE, marks=[{"label": HOSTILE, "batch": 2, "epoch": 0, "sample": 8, "token": 8}])
        ],
        tables=[Table(title=HOSTILE, columns=[HOSTILE], rows=[[HOSTILE]])],
        specs=[SpecText(source=HOSTILE, text=HOSTILE)],
        notes=[HOSTILE],
        command=HOSTILE,
        version="0",
    )
    page = render_html(report_)
    assert page.count("<script") == 3  # the data, uPlot, the page's script: nothing injected
    assert page.count("</script>") == 3
    assert "window.pwned" in page and "<script>window.pwned" not in page
    assert data_of(page)["curves"][0]["label"] == HOSTILE
    assert data_of(page)["curves"][0]["marks"][0]["label"] == HOSTILE


def test_the_page_loads_nothing_from_anywhere():
    page = render_html(Report(title="t", curves=[small_curve()]))
    assert not re.search(r"<(link|img|iframe|object|embed)\b", page)
    assert not re.search(r"\bsrc\s*=", page)
    assert not re.search(r"@import|url\(", page)
    # the one address in the page is uPlot's home, as a link in the footer and its licence comment
    assert set(re.findall(r"https?://[^\s\"'<>)]+", page)) == {"https://github.com/leeoniya/uPlot"}
    assert "default-src 'none'" in page


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="x_unit"):
        render_html(Report(title="t", curves=[small_curve()], x_unit="hours"))
    curve = small_curve()
    curve.counters["epoch"] = np.arange(3)
    with pytest.raises(ValueError, match=r"'epoch' has shape \(3,\), expected \(5,\)"):
        render_html(Report(title="t", curves=[curve]))


def test_save_is_atomic(tmp_path, monkeypatch):
    out = tmp_path / "r.html"
    out.write_text("before")
    curve = small_curve()
    curve.counters["batch"] = np.array(["a"] * 5)
    with pytest.raises(ValueError):
        save_html(Report(title="t", curves=[curve]), out)
    assert out.read_text() == "before" and sorted(tmp_path.iterdir()) == [out]
    save_html(Report(title="t", curves=[small_curve()]), out)
    assert out.read_text().startswith("<!DOCTYPE html>")


def test_vendored_chart_library_ships_with_its_licence():
    from importlib import resources

    assets = resources.files("sched_cli.render") / "assets"
    js = (assets / "uPlot.iife.min.js").read_text()
    assert js.startswith("/*! https://github.com/leeoniya/uPlot (v1.6.32) */")
    assert "MIT License" in (assets / "uPlot.LICENSE").read_text()
    assert "1.6.32" in (assets / "README.md").read_text()


# -- in a real browser ----------------------------------------------------------------------------
class Opened:
    """A page opened in Chromium, with what it logged and requested."""

    def __init__(self, chromium, path: Path, width: int = 1200, height: int = 900) -> None:
        self.context = chromium.new_context(viewport={"width": width, "height": height})
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type in ("error", "warning") else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.started = time.perf_counter()
        self.page.goto(path.as_uri())
        self.page.wait_for_function("document.body.dataset.ready === '1'", timeout=10_000)
        self.ready = time.perf_counter() - self.started

    def close(self) -> None:
        self.context.close()

    def readout(self) -> dict[str, str]:
        return self.page.eval_on_selector_all(
            "#readout-table td", "tds => Object.fromEntries(tds.map(td => [td.dataset.field, td.dataset.value]))"
        )

    def hover_batch(self, series: int, batch: int) -> dict[str, str]:
        """Zoom in around ``batch`` of a series (so no neighbour is near), point at it, read."""
        where = self.page.evaluate("([i, b]) => window.schedReport.pointAt(i, b, true)", [series, batch])
        assert where is not None, f"batch {batch} is not among the page's points"
        # A point on the plot's edge (a multiplier of 0 at the bottom): come 1 px inside it.
        box = self.page.locator(".u-over").bounding_box()
        y = min(max(where[1], box["y"] + 1), box["y"] + box["height"] - 1)
        self.page.mouse.move(where[0], y)
        self.page.wait_for_selector("#readout-table")
        return self.readout()


def ready_ms(opened, path: Path, tries: int = 3) -> float:
    """Milliseconds from navigation to a drawn chart, the best of a few loads: the machine's
    other work only ever adds time."""
    best = float("inf")
    for _ in range(tries):
        page = opened(path)
        best = min(best, page.page.evaluate("window.schedReport.readyAt"))
        assert page.errors == []
        if best < 1000:
            break
    return best


@pytest.fixture
def opened(chromium):
    pages: list[Opened] = []

    def open_(path: Path, **kwargs) -> Opened:
        pages.append(Opened(chromium, path, **kwargs))
        return pages[-1]

    yield open_
    for p in pages:
        p.close()


def test_report_renders_without_errors_or_requests(opened, tmp_path):
    out = tmp_path / "r.html"
    cli("report", str(RESNET), "--ssr", "0.5", "--ssr", "1", "--ssr", "2", "-o", str(out))
    page = opened(out)
    assert page.errors == []
    assert page.requests == [out.as_uri()]
    assert page.page.locator("canvas").count() >= 1
    legend = page.page.locator(".u-legend .u-series")
    assert legend.count() == 6  # 3 SSRs, formula and Trainer
    assert [legend.nth(i).is_visible() for i in range(6)] == [True] * 3 + [False] * 3  # until switched on
    page.page.click("#alt-wrap")
    assert [legend.nth(i).is_visible() for i in range(6)] == [True] * 6
    assert page.page.evaluate("window.schedReport.plot().series.slice(1).map(s => s.show)") == [True] * 6
    assert page.page.text_content("h1") == "ResNet-50 on ImageNet"
    assert page.page.locator("table.summary").count() == 2  # formula, and as the Trainer applies it


def test_hovered_values_equal_sched_export(opened, tmp_path):
    out = tmp_path / "r.html"
    cli("report", str(RESNET), "--ssr", "1", "-o", str(out))
    exported = {
        row["batch"]: row for row in csv.DictReader(io.StringIO(cli("export", str(RESNET), "--points", "2000")))
    }
    page = opened(out)
    # warmup end and its neighbours, a milestone, the first and last batch, and a point between
    between = min(exported, key=lambda b: abs(int(b) - 200_000))
    for batch in ["0", "25024", "25025", "25026", "150150", between, "450449"]:
        shown = page.hover_batch(0, int(batch))
        row = exported[batch]
        for field in ("batch", "epoch", "sample", "token", "duration", "multiplier", "lr"):
            assert shown[field] == row[field], (batch, field, shown, row)
        # what a reader sees: the same numbers, integers grouped by thousands
        text = page.page.text_content("#readout-table td[data-field=batch]")
        assert text.replace(",", "") == batch
    shown = page.hover_batch(0, 25025)
    assert shown["breakpoint"] == "warmup end"
    assert page.errors == []


def test_trainer_mode_values_equal_export_as_trainer(opened, tmp_path):
    out = tmp_path / "r.html"
    cli("report", str(RESNET), "--ssr", "0.5", "--as-trainer", "-o", str(out))
    exported = {
        row["batch"]: row
        for row in csv.DictReader(
            io.StringIO(cli("export", str(RESNET), "--ssr", "0.5", "--as-trainer", "--points", "2000"))
        )
    }
    page = opened(out)
    formula = {
        row["batch"]: row
        for row in csv.DictReader(io.StringIO(cli("export", str(RESNET), "--ssr", "0.5", "--points", "2000")))
    }
    lagged = 0
    for batch in ["25024", "25025", "25026", "75075", "75076"]:  # the one-batch lag at warmup end, milestone 1
        shown = page.hover_batch(0, int(batch))
        assert shown["mode"] == "trainer"
        lagged += shown["multiplier"] != formula[batch]["multiplier"]
        assert (shown["multiplier"], shown["lr"]) == (exported[batch]["multiplier"], exported[batch]["lr"])
    assert lagged >= 3  # the page shows the Trainer's values, not the formula's


def test_the_unit_switch_changes_the_axis(opened, tmp_path):
    out = tmp_path / "r.html"
    cli("report", str(RESNET), "--ssr", "1", "--x", "ba", "-o", str(out))
    page = opened(out)

    def axis() -> tuple[str, float]:
        return (
            page.page.evaluate("window.schedReport.plot().axes[0].label"),  # drawn on the canvas
            page.page.evaluate("window.schedReport.plot().scales.x.max"),
        )

    assert axis() == ("batches (ba)", 450449)
    expected = {
        "ep": ("epochs (ep)", 450449 / 5005),
        # 5,004 batches of 256 and one of 144 per epoch (8 devices, drop_last false)
        "sp": ("samples (sp)", 89 * (5004 * 256 + 144) + 5004 * 256),
        "tok": ("tokens (tok)", 89 * (5004 * 256 + 144) + 5004 * 256),
        "dur": ("fraction of run (dur)", 450449 / 450450),
        "ba": ("batches (ba)", 450449),
    }
    for unit, (label, top) in expected.items():
        page.page.click(f"#x-switch label:has(input[value={unit}])")
        page.page.wait_for_function(f"document.body.dataset.xUnit === '{unit}'")
        assert axis() == (label, pytest.approx(top, rel=1e-12))
    # hovering still gives the exact row in another unit
    page.page.click("#x-switch label:has(input[value=ep])")
    assert page.page.evaluate("window.schedReport.xOf(0).includes(25025 / 5005)")
    assert page.errors == []


def test_lr_log_zoom_and_reset(opened, tmp_path):
    out = tmp_path / "r.html"
    cli("report", str(RESNET), "--ssr", "1", "--x", "ba", "--y", "multiplier", "-o", str(out))
    page = opened(out)
    p = page.page
    assert p.evaluate("window.schedReport.plot().axes[1].label") == "LR multiplier"
    y_max = "window.schedReport.plot().scales.y.max"
    assert p.evaluate(y_max) < 1.5  # multipliers
    p.click("#y-switch label:has(input[value=lr])")
    assert p.evaluate("window.schedReport.plot().axes[1].label") == "learning rate"
    assert p.evaluate(y_max) < 0.15  # LRs of 0.1 at most
    p.click("#scale-switch label:has(input[value=log])")
    assert p.evaluate("window.schedReport.plot().scales.y.distr") == 3
    # drag across the middle fifth of the chart zooms in; reset shows the whole run again
    box = p.locator(".u-over").bounding_box()
    y = box["y"] + box["height"] / 2
    p.mouse.move(box["x"] + box["width"] * 0.4, y)
    p.mouse.down()
    p.mouse.move(box["x"] + box["width"] * 0.6, y, steps=5)
    p.mouse.up()
    lo, hi = p.evaluate("[window.schedReport.plot().scales.x.min, window.schedReport.plot().scales.x.max]")
    assert 0.3 * 450449 < lo < hi < 0.7 * 450449
    # the wheel zooms in further around the pointer; shift-drag pans
    p.mouse.move(box["x"] + box["width"] / 2, y)
    p.mouse.wheel(0, -100)
    p.wait_for_function(f"window.schedReport.plot().scales.x.max - window.schedReport.plot().scales.x.min < {hi - lo}")
    before = p.evaluate("window.schedReport.plot().scales.x.min")
    p.keyboard.down("Shift")
    p.mouse.down()
    p.mouse.move(box["x"] + box["width"] / 2 - 100, y, steps=5)
    p.mouse.up()
    p.keyboard.up("Shift")
    assert p.evaluate("window.schedReport.plot().scales.x.min") > before  # dragged left: later batches
    p.click("#reset")
    assert p.evaluate("[window.schedReport.plot().scales.x.min, window.schedReport.plot().scales.x.max]") == [
        0,
        450449,
    ]
    assert page.errors == []


def test_ten_specs_load_in_under_a_second_and_say_how_many_points(opened, tmp_path):
    specs = [f"cosine_with_warmup(t_warmup={100 * (k + 1)}ba, alpha_f={k / 20})" for k in range(10)]
    out = tmp_path / "ten.html"
    cli("report", *specs, "--max-duration", "1000000ba", "--batch-size", "32", "--lr", "3e-4", "-o", str(out))
    ready = ready_ms(opened, out)
    assert ready < 1000, f"ready after {ready:.0f} ms"
    page = opened(out)
    assert page.page.locator(".u-legend .u-series").count() == 20  # 10 formula + 10 Trainer curves
    # The page states the points it shows: those `sched export --points 2000` lists, per spec.
    rows = [len(cli("export", s, "--max-duration", "1000000ba", "--points", "2000").splitlines()) - 1 for s in specs]
    text = page.page.text_content("#points")
    assert f"Showing {sum(rows):,} points of {10 * 1_000_000:,} batches" in text
    assert page.errors == []


def test_the_numbers_print_exactly_as_export_writes_them(opened, tmp_path):
    out = tmp_path / "r.html"
    save_html(Report(title="t", curves=[small_curve()]), out)
    page = opened(out)
    rng = np.random.default_rng(7)
    values = np.concatenate(
        [
            rng.standard_normal(300) * 10.0 ** rng.integers(-30, 30, 300),
            rng.random(200),
            [0.0, -0.0, 1.0, 0.1, 1e-4, 1e-5, 9.999e-6, 1e15, 1e16, 1.5e16, 123456789012345678.0, 5e-324],
            [2.2250738585072014e-308, 1.7976931348623157e308, 1 / 3, 2**53, 2**53 + 2, 0.3e-4],
        ]
    )
    expected = [orjson.dumps(float(v)).decode() for v in values]
    got = page.page.evaluate(
        "text => JSON.parse(text).map(window.schedReport.exportText)", orjson.dumps(values.tolist()).decode()
    )
    assert got == expected


def test_hostile_text_is_shown_not_run(opened, tmp_path):
    spec = from_mapping(
        {"title": HOSTILE, "max_duration": "100ba", "schedulers": [{"name": "linear"}]}, "hostile.yaml", tmp_path
    )
    out = tmp_path / "r.html"
    save_html(report([spec], [HOSTILE], command=HOSTILE), out)
    page = opened(out)
    assert page.page.evaluate("window.pwned") is None
    assert page.page.text_content("h1") == HOSTILE
    assert page.page.text_content("#command") == HOSTILE
    assert page.page.text_content("#specs pre") == HOSTILE  # no file: the text given stands for it
    assert page.errors == []


def test_a_long_run_loads_fast_from_breakpoint_aware_points(opened, tmp_path):
    out = tmp_path / "long.html"
    cli(
        "report",
        "cosine_with_warmup(t_warmup=0.01dur)",
        "--max-duration",
        "1000000000000ba",
        "--ssr",
        "0.5",
        "--ssr",
        "1",
        "-o",
        str(out),
    )
    assert out.stat().st_size < 1_500_000
    assert ready_ms(opened, out) < 1000
    page = opened(out)
    shown = page.hover_batch(1, 10_000_000_000)  # warmup end at ssr 1
    assert shown["batch"] == "10000000000" and shown["multiplier"] == "1.0"
    assert page.errors == []


def test_screenshot_tool_writes_a_png(chromium, tmp_path):
    # chromium: skip where there is no browser. The tool runs in its own process (playwright's
    # sync API cannot nest in the fixture's).
    out = tmp_path / "shot.png"
    tool = Path(__file__).resolve().parent.parent / "tools" / "report_screenshot.py"
    subprocess.run([sys.executable, str(tool), str(out)], check=True, capture_output=True)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert out.stat().st_size > 20_000


def test_the_title_is_shown_once_and_multipliers_say_so(opened, tmp_path):
    out = tmp_path / "r.html"
    cli("report", str(RESNET), "--ssr", "0.5", "--ssr", "1", "--ssr", "2", "-o", str(out))
    page = opened(out)
    assert page.errors == []
    assert page.page.text_content("h1") == "ResNet-50 on ImageNet"
    assert page.page.locator(".u-title").count() == 0  # the chart has no second title
    headers = page.page.locator("table.summary").first.locator("th").all_text_contents()
    assert "final multiplier" in headers and "mean multiplier" in headers and "final lr" in headers


def test_labels_of_milestones_close_together_do_not_pile_up(opened, tmp_path):
    # Three milestones 2 batches apart, at two SSRs 0.2% apart: six marks within ~6 px of a chart
    # 1,000 batches wide. Each label is written once, side by side with its neighbours.
    spec = tmp_path / "close.yaml"
    spec.write_text(
        "title: close milestones\nmax_duration: 1000ba\n"
        "schedulers:\n  - name: multistep\n    milestones: [500ba, 502ba, 504ba]\n    gamma: 0.5\n"
    )
    out = tmp_path / "r.html"
    cli("report", str(spec), "--ssr", "1", "--ssr", "1.002", "-o", str(out))
    page = opened(out, width=1100)
    assert page.errors == []
    marks = {m["label"] for c in data_of(out.read_text())["curves"] for m in c["marks"]}
    assert marks == {"milestone 1", "milestone 2", "milestone 3"}
    # Every text the chart writes on its canvas, with where it starts (drawing again records them).
    written = page.page.evaluate(
        """async () => {
            const texts = [];
            const fill = CanvasRenderingContext2D.prototype.fillText;
            CanvasRenderingContext2D.prototype.fillText = function (text, x, y) {
                const m = this.getTransform().translate(x, y);
                texts.push([String(text), m.e / (window.devicePixelRatio || 1)]);
                return fill.apply(this, arguments);
            };
            window.schedReport.plot().redraw(false, false);
            await new Promise((done) => setTimeout(done, 100));
            CanvasRenderingContext2D.prototype.fillText = fill;
            return texts;
        }"""
    )
    labels = [(text, x) for text, x in written if text in marks]
    assert sorted(text for text, _ in labels) == sorted(marks)  # each once: not again for SSR 1.002
    xs = sorted(x for _, x in labels)
    # Rotated, a label is as wide as its 11 px font: side by side, none overlaps another.
    assert all(b - a >= 11 for a, b in zip(xs, xs[1:], strict=False)), labels
