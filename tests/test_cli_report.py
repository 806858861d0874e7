"""`sched report`, and `plot`/`compare -o x.html`, end to end: files written (or not), the command
recorded, errors in one line, and nothing of the renderer loaded where it is not needed."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from sched_cli.cli import app

SAMPLES = Path(__file__).resolve().parent.parent / "sample_specs"
RESNET = SAMPLES / "resnet50_imagenet.yaml"


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


def data_of(page_text: str) -> dict:
    match = re.search(r'<script type="application/json" id="sched-data">(.*?)</script>', page_text, re.S)
    assert match
    return json.loads(match.group(1))


def test_report_writes_one_page_with_every_spec_and_ssr(tmp_path):
    out = tmp_path / "report.html"
    bert = SAMPLES / "bert_base.yaml"
    result = invoke("report", str(RESNET), str(bert), "--ssr", "0.5", "--ssr", "1", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    page = out.read_text()
    data = data_of(page)
    assert [c["label"] for c in data["curves"]] == [
        "ResNet-50 on ImageNet ssr=0.5",
        "ResNet-50 on ImageNet ssr=1",
        f"{data['curves'][2]['spec']} ssr=0.5",
        f"{data['curves'][2]['spec']} ssr=1",
    ]
    assert data["x_unit"] == "dur"  # several specs: compared by fraction of the run
    assert data["y_axis"] == "lr"
    # the specs as written, the summary table, the version
    assert "multistep_with_warmup" in page and "milestones: [30ep, 60ep, 80ep]" in page
    assert page.count("<tr><td>ResNet-50 on ImageNet</td><td>0.5</td>") == 2  # formula and Trainer tables
    assert "sched 0.1.0" in page


def test_report_records_the_exact_command(tmp_path):
    out = tmp_path / "r.html"
    args = ["report", str(RESNET), "--ssr", "0.5", "--x", "ep", "--lr", "0.2", "-o", str(out)]
    subprocess.run([sys.executable, "-m", "sched_cli", *args], check=True, capture_output=True)
    page = out.read_text()
    assert f'<code id="command">sched report {RESNET} --ssr 0.5 --x ep --lr 0.2 -o {out}</code>' in page
    assert data_of(page)["x_unit"] == "ep"
    assert data_of(page)["curves"][0]["values"]["formula"]["lr"][-1] == 0.2 * 0.1**3


def test_report_to_standard_output_when_it_is_not_a_terminal():
    done = subprocess.run(
        [sys.executable, "-m", "sched_cli", "report", "cosine_with_warmup(t_warmup=10ba)", "--max-duration", "100ba"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("<!DOCTYPE html>") and done.stdout.endswith("</html>\n")


def test_plot_and_compare_write_the_same_page_for_html(tmp_path):
    plot_out, compare_out = tmp_path / "plot.html", tmp_path / "compare.HTML"
    assert invoke("plot", str(RESNET), "--ssr", "1", "-o", str(plot_out)).exit_code == 0
    result = invoke("compare", str(RESNET), "--ssr", "1", "-o", str(compare_out))
    assert result.exit_code == 0
    assert "below half peak at" in result.stdout  # compare still prints its table
    plot_data, compare_data = data_of(plot_out.read_text()), data_of(compare_out.read_text())
    assert plot_data["x_unit"] == "ep" and compare_data["x_unit"] == "dur"  # each command's default
    assert plot_data["curves"] == compare_data["curves"]


def test_report_errors_are_one_line_and_write_nothing(tmp_path):
    cases = [
        (["report", str(RESNET), "-o", str(tmp_path / "r.png")], "a report is an .html file"),
        (["report", str(RESNET), "-o", str(tmp_path / "missing" / "r.html")], "does not exist"),
        (["report", str(RESNET), "--y", "lr", "--lr", "nan", "-o", str(tmp_path / "r.html")], "lr"),
        (
            ["report", "cosine(t_max=1dur)", "--max-duration", "10ba", "--x", "ep", "-o", str(tmp_path / "r.html")],
            "--x ep needs dataloader_len",
        ),
        (["plot", str(RESNET), "-o", str(tmp_path / "r.gif")], ".png, .svg, .pdf or .html"),
        (
            ["report", "linear", "--max-duration", "10000000ba", "--points", "1000000"]
            + ["--ssr", "0.5", "--ssr", "1", "--ssr", "2", "-o", str(tmp_path / "r.html")],
            "would hold 3,000,000 points, more than the 2,000,000",
        ),
    ]
    for args, message in cases:
        result = invoke(*args)
        assert result.exit_code == 2, (args, result.output)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and message in lines[0], (args, result.stderr)
    assert list(tmp_path.iterdir()) == []


def test_an_existing_report_survives_a_failed_one(tmp_path):
    out = tmp_path / "r.html"
    out.write_text("kept")
    bad = tmp_path / "bad.yaml"
    bad.write_text("max_duration: 10ba\nschedulers: [{name: nope}]\n")
    result = invoke("report", str(bad), "-o", str(out))
    assert result.exit_code == 2
    assert out.read_text() == "kept" and sorted(p.name for p in tmp_path.iterdir()) == ["bad.yaml", "r.html"]


def test_help_and_export_do_not_load_the_renderer():
    code = (
        "import sys\n"
        "from sched_cli.cli import app\n"
        "try:\n"
        "    app(['export', 'linear', '--max-duration', '10ba'])\n"
        "except SystemExit as exc:\n"
        "    assert exc.code in (0, None), exc.code\n"
        "assert 'sched_cli.render.html' not in sys.modules and 'playwright' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
    help_code = "import sys; from sched_cli.cli import app; assert 'sched_cli.render.html' not in sys.modules"
    subprocess.run([sys.executable, "-c", help_code], check=True)


def test_report_help_shows_an_example():
    result = invoke("report", "--help")
    assert result.exit_code == 0
    assert "sched report sample_specs/resnet50_imagenet.yaml" in result.stdout
