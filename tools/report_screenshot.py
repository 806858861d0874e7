"""Write docs/images/report.png: the HTML report of ResNet-50 at SSR 0.5, 1 and 2, with the
pointer on warmup end at SSR 1, as headless Chromium draws it.

    .venv/bin/python tools/report_screenshot.py [OUT.png]

Needs the system Chromium (/usr/bin/chromium, Debian's `chromium` package) and playwright (the
test extra); it never downloads a browser. tests/test_render_html.py runs it into a temporary
directory.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "sample_specs" / "resnet50_imagenet.yaml"
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def screenshot(out: Path) -> None:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        # Run from a copy of the sample, so that the command the page shows is the README's.
        (Path(tmp) / "sample_specs").mkdir()
        shutil.copy(SPEC, Path(tmp) / "sample_specs")
        page_path = Path(tmp) / "resnet50.html"
        subprocess.run(
            [sys.executable, "-m", "sched_cli", "report", "sample_specs/resnet50_imagenet.yaml"]
            + ["--ssr", "0.5", "--ssr", "1", "--ssr", "2", "-o", "resnet50.html"],
            check=True,
            cwd=tmp,
            capture_output=True,
        )
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page(viewport={"width": 1100, "height": 1000}, device_scale_factor=1)
            page.goto(page_path.as_uri())
            page.wait_for_function("document.body.dataset.ready === '1'")
            # Point at SSR 1 (the second curve) at epoch 40, so that the tooltip shows.
            x, y = page.evaluate(
                """() => {
                    const b = window.schedReport.series[1].curve.counters.batch;
                    const near = b.reduce((best, v) => (Math.abs(v - 200200) < Math.abs(best - 200200) ? v : best));
                    return window.schedReport.pointAt(1, near, false);
                }"""
            )
            page.mouse.move(x, y)
            page.wait_for_selector("#readout-table")
            bottom = page.locator("#points").bounding_box()
            page.screenshot(
                path=str(out),
                full_page=True,
                clip={"x": 0, "y": 0, "width": 1100, "height": bottom["y"] + bottom["height"] + 16},
            )
            browser.close()


if __name__ == "__main__":
    screenshot(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "images" / "report.png")
