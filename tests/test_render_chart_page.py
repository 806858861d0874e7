"""The chart page (``sched check -o x.html``): its text (escaping, nothing fetched, thinning, safe
writing), and the page itself in a real headless Chromium: it loads without a console error,
plots the plan and the logged points, draws the divergence marks where the verdict says, and the
plan an explanation names as a dashed line through the logged points.

Browser tests use the `chromium` fixture (conftest.py) and skip, saying why, without
/usr/bin/chromium or playwright.
"""

from __future__ import annotations

import json
import os
import re

import numpy as np
import pytest

from sched_cli.render import Band, Callout, Chart, Curve
from sched_cli.render.chart_page import MAX_POINTS, ChartPage, render_chart_page, save_chart_page
from sched_cli.render.html import Table
from tests.check_case import HAND, write_plan

HOSTILE = "</script><script>window.pwned = 1</script><!-- & \u2028 '\""
LOGGED = HAND[:5] + [9e-4] * 5  # steps 6-10 off the plan


def data_of(page_text: str) -> dict:
    match = re.search(r'<script type="application/json" id="sched-data">(.*?)</script>', page_text, re.S)
    assert match, "no data block"
    return json.loads(match.group(1))


def small_chart(label: str = "logged") -> Chart:
    x = np.arange(1.0, 6.0)
    return Chart(
        [Curve("plan", x, x / 10), Curve(label, x, x / 10, points=True, marks=[(3.0, label)])],
        "step",
        "learning rate",
        title=label,
        bands=[Band(2.5, 3.5, label)],
        callouts=[Callout(3.0, 0.3, label)],
    )


# -- the page's text ------------------------------------------------------------------------------
def test_user_text_cannot_break_out_of_the_page():
    page = render_chart_page(
        ChartPage(
            small_chart(HOSTILE),
            HOSTILE,
            lines=[HOSTILE],
            tables=[Table(HOSTILE, [HOSTILE], [[HOSTILE]])],
            notes=[HOSTILE],
            command=HOSTILE,
        )
    )
    assert page.count("<script") == 3 and page.count("</script>") == 3  # data, uPlot, the page's script
    assert "<script>window.pwned" not in page
    data = data_of(page)
    assert data["curves"][1]["label"] == data["bands"][0]["label"] == data["callouts"][0]["text"] == HOSTILE


def test_the_page_loads_nothing_from_anywhere():
    page = render_chart_page(ChartPage(small_chart(), "check: fine"))
    assert not re.search(r"<(link|img|iframe|object|embed)\b", page)
    assert not re.search(r"\bsrc\s*=", page)
    assert not re.search(r"@import|url\(", page)
    assert set(re.findall(r"https?://[^\s\"'<>)]+", page)) == {"https://github.com/leeoniya/uPlot"}
    assert "default-src 'none'" in page


def test_values_travel_exactly_and_long_curves_are_thinned_keeping_spikes():
    n = 1_000_000
    x = np.arange(n, dtype=np.float64)
    y = np.full(n, 1e-4)
    y[777_777] = 3e-4  # one spike among a million points
    page = render_chart_page(ChartPage(Chart([Curve("log", x, y, points=True)], "step", "lr"), "check"))
    [curve] = data_of(page)["curves"]
    assert len(curve["x"]) <= MAX_POINTS
    assert 777_777 in curve["x"] and max(curve["y"]) == 3e-4
    assert curve["x"][0] == 0 and curve["x"][-1] == n - 1
    assert f"Showing <b>{len(curve['x']):,}</b> of 1,000,000 points" in page
    exact = render_chart_page(ChartPage(Chart([Curve("c", np.array([1.0]), np.array([0.1 + 0.2]))], "s", "l"), ""))
    assert data_of(exact)["curves"][0]["y"] == [0.30000000000000004]


def test_save_is_atomic_on_an_error_and_on_ctrl_c(tmp_path, monkeypatch):
    out = tmp_path / "c.html"
    out.write_text("before")
    bad = small_chart()
    bad.curves[0].y = bad.curves[0].y[:2]  # not as long as its x
    with pytest.raises(ValueError):
        save_chart_page(ChartPage(bad, "check"), out)
    assert out.read_text() == "before" and sorted(tmp_path.iterdir()) == [out]

    def interrupted(fd):
        raise KeyboardInterrupt  # as Ctrl-C (or a signal's handler) would, with the page half on disk

    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        save_chart_page(ChartPage(small_chart(), "check"), out)
    assert out.read_text() == "before" and sorted(tmp_path.iterdir()) == [out]
    monkeypatch.undo()
    save_chart_page(ChartPage(small_chart(), "check"), out)
    assert out.read_text().startswith("<!DOCTYPE html>")


# -- in a real browser ----------------------------------------------------------------------------
def write_check_page(sched, tmp_path, logged: list[float]):
    """``sched check`` of a run that logged ``logged`` at steps 1, 2, ... against Hugging Face's
    linear schedule (``HAND``), written to an HTML page by a real process."""
    plan = write_plan(tmp_path)
    state = tmp_path / "trainer_state.json"
    state.write_text(json.dumps({"log_history": [{"step": i + 1, "learning_rate": v} for i, v in enumerate(logged)]}))
    out = tmp_path / "check.html"
    code, stdout, err = sched("check", str(plan), str(state), "-o", str(out))
    assert code == 1 and f"wrote {out}" in err
    return out, stdout


@pytest.fixture
def checked(sched, tmp_path):
    """A run whose steps 6-10 left the plan, no reason fits."""
    return write_check_page(sched, tmp_path, LOGGED)


def open_page(chromium, out):
    context = chromium.new_context(viewport={"width": 1000, "height": 900})
    tab = context.new_page()
    tab.errors, tab.requests = [], []
    tab.on("console", lambda m: tab.errors.append(m.text) if m.type in ("error", "warning") else None)
    tab.on("pageerror", lambda e: tab.errors.append(str(e)))
    tab.on("request", lambda r: tab.requests.append(r.url))
    tab.goto(out.as_uri())
    tab.wait_for_function("document.body.dataset.ready === '1'", timeout=10_000)
    yield tab
    context.close()


@pytest.fixture
def page(chromium, checked):
    yield from open_page(chromium, checked[0])


@pytest.fixture
def explained_page(chromium, sched, tmp_path):
    """A run that logged 2.5 times every planned LR: explained by another base LR."""
    out, _ = write_check_page(sched, tmp_path, [2.5 * v for v in HAND])
    yield from open_page(chromium, out)


def series_points(page) -> list[dict[float, float]]:
    """Each series' points as uPlot holds them (nulls where another series has an x of its own)."""
    series = page.evaluate(
        """() => { const d = window.schedChart.plot().data;
                   return d.slice(1).map(ys => d[0].map((x, j) => [x, ys[j]]).filter(p => p[1] != null)); }"""
    )
    return [{x: y for x, y in s} for s in series]


def pixel(page, x: float, y: float) -> list[int]:
    """The colour the chart's canvas holds at (x, y), in the canvas's own pixels."""
    return page.evaluate(
        "([x, y]) => Array.from(window.schedChart.plot().ctx.getImageData(Math.round(x), Math.round(y), 1, 1).data)",
        [x, y],
    )


def test_the_page_loads_clean_and_says_the_verdict(page, checked):
    out, stdout = checked
    assert page.errors == []
    assert page.requests == [out.as_uri()]
    lines = stdout.splitlines()
    assert page.text_content("#headline") == lines[0]
    assert page.eval_on_selector_all("#lines li", "lis => lis.map(li => li.textContent)") == [
        x.strip() for x in lines[1:]
    ]
    assert "bad" in page.get_attribute("#headline", "class")
    cells = page.eval_on_selector_all("table.summary tbody td", "tds => tds.map(td => td.textContent)")
    assert cells == ["6", "10", "5", "10", "0.0009", "0.000125", "x7.2"]


def test_the_plot_has_the_plan_and_the_logged_points(page):
    labels = page.evaluate("window.schedChart.plot().series.slice(1).map(s => s.label)")
    assert labels[0].startswith("plan: ") and labels[1].startswith("logged: ")
    assert labels[2] == "off the plan: 5 logged"
    plan, logged, off = series_points(page)
    assert [plan[s + 1] for s in range(10)] == pytest.approx(HAND, rel=1e-12, abs=1e-18)  # step s: update s - 1
    assert logged == dict(zip(range(1, 11), LOGGED, strict=True))
    assert off == {s: 9e-4 for s in range(6, 11)}
    # Drawn as points, not joined: the logged series has no line.
    shown = page.evaluate(
        """() => { const u = window.schedChart.plot();
                   return u.series.slice(1).map((s, i) => typeof s.points.show === "function"
                       ? Boolean(s.points.show(u, i + 1)) : s.points.show); }"""
    )
    assert shown == [False, True, True]


def test_the_divergence_is_marked_where_the_verdict_says(page):
    box = page.evaluate(
        "(() => { const b = window.schedChart.plot().bbox; return [b.left, b.top, b.width, b.height]; })()"
    )
    left, top, _, height = box
    x_of = lambda step: page.evaluate("(s) => window.schedChart.plot().valToPos(s, 'x', true)", step)  # noqa: E731
    y_of = lambda lr: page.evaluate("(v) => window.schedChart.plot().valToPos(v, 'y', true)", lr)  # noqa: E731
    near_bottom = top + height - 3

    def reddish(rgba: list[int]) -> bool:
        # The canvas is transparent where nothing is drawn: a colour is red, and drawn at all.
        return rgba[3] > 20 and rgba[0] - rgba[1] > 100

    # The band covers steps 6-10 (5.5 to 10.5; the axis ends at 10) and nothing before it; near the
    # bottom of the plot, where no point of the log is drawn.
    inside = [x_of(s) for s in (5.7, 6.5, 8.0, 9.9)]
    outside = [x_of(s) for s in (4.5, 5.3)]
    assert all(reddish(pixel(page, x, near_bottom)) for x in inside)
    assert not any(reddish(pixel(page, x, near_bottom)) for x in outside)
    # The first divergence (step 6, logged 9e-4) is ringed: red 7 px above the point, where
    # neither the point (4 px) nor the band (pale) would be that red.
    px, py = x_of(6), y_of(9e-4)
    ring = pixel(page, px, py - 7)
    assert ring[3] > 200 and ring[0] > 150 and ring[1] < 120, ring
    assert left < px


def test_the_explanation_is_drawn_dashed_through_the_logged_points(explained_page):
    page = explained_page
    assert page.errors == []
    labels = page.evaluate("window.schedChart.plot().series.slice(1).map(s => s.label)")
    assert labels[1:] == ["logged: learning_rate", "explained: --lr 0.0025", "off the plan: 9 logged"]
    assert "reason: the log matches the plan with learning_rate 0.0025" in page.text_content("#lines")
    _, logged, explained, off = series_points(page)
    # The plan at learning_rate 0.0025, by hand, at the logged steps: through every logged point.
    assert explained == pytest.approx(
        {s: 2.5e-3 * (s - 1) / 2 if s < 3 else 2.5e-3 * (11 - s) / 8 for s in range(1, 11)}
    )
    assert explained == pytest.approx(logged) and set(off) == set(range(2, 11))
    dash = page.evaluate("window.schedChart.plot().series.slice(1).map(s => s.dash || null)")
    assert dash == [None, None, [8, 5], None]
    # On the canvas: between steps 7 and 8, where no point is drawn, the segment from the logged LR at
    # step 7 to that at step 8 is the explanation's green (#2ca02c), with gaps: dashed.
    x_of = lambda step: page.evaluate("(s) => window.schedChart.plot().valToPos(s, 'x', true)", step)  # noqa: E731
    y_of = lambda lr: page.evaluate("(v) => window.schedChart.plot().valToPos(v, 'y', true)", lr)  # noqa: E731
    (x7, y7), (x8, y8) = (x_of(7), y_of(explained[7])), (x_of(8), y_of(explained[8]))
    along = [pixel(page, x7 + (x8 - x7) * t, y7 + (y8 - y7) * t) for t in np.linspace(0.15, 0.85, 40)]
    green = [p[3] > 150 and p[1] - p[0] > 60 and p[1] - p[2] > 60 for p in along]
    assert any(green) and not all(green), along
