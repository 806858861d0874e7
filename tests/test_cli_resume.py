"""``sched resume`` (sched_cli/cli/resume.py) through the real CLI."""

from __future__ import annotations

from pathlib import Path

RESUME = Path(__file__).resolve().parent.parent / "sample_specs" / "resume"


def test_resume_writes_an_html_page(sched, tmp_path: Path) -> None:
    page = tmp_path / "x.html"
    before, after = str(RESUME / "gpt_before.yaml"), str(RESUME / "gpt_extended.yaml")
    code, out, err = sched("resume", before, after, "--at", "8000ba", "-o", str(page))
    assert code == 0, err
    assert "unknown image format" not in err
    text = page.read_text()
    assert text.lstrip().lower().startswith("<!doctype html")
    assert "resume (x3.64)" in text  # the resume mark with the LR jump, on the chart
    assert "a jump of x3.639" in out  # the table and the notes are still printed
