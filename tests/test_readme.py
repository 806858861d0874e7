"""The library example of docs/library.md (linked from the README), run as a doctest: its outputs are checked, its
figure written."""

from __future__ import annotations

import doctest
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGE = "docs/library.md"


def section(name: str) -> tuple[str, int]:
    """The text of docs/library.md between ``<!-- name:start -->`` and ``<!-- name:end -->``, and its first line."""
    text = (ROOT / PAGE).read_text(encoding="utf-8")
    start = text.index(f"<!-- {name}:start -->")
    end = text.index(f"<!-- {name}:end -->", start)
    return text[start:end], text[:start].count("\n")


def test_the_library_example_runs_as_written(tmp_path, monkeypatch):
    pytest.importorskip("pandas")
    monkeypatch.setenv("MPLBACKEND", "Agg")  # no display needed
    (tmp_path / "sample_specs").symlink_to(ROOT / "sample_specs")
    monkeypatch.chdir(tmp_path)
    text, line = section("library")
    # Blank the code fences (keeping line numbers), or the closing one reads as expected output.
    text = "\n".join("" if row.startswith("```") else row for row in text.split("\n"))
    test = doctest.DocTestParser().get_doctest(text, {}, f"{PAGE} library example", str(ROOT / PAGE), line)
    assert len(test.examples) > 10
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    failures = []
    runner.run(test, out=failures.append)
    assert runner.failures == 0, "".join(failures)
    try:
        assert (tmp_path / "bert_lr.png").read_bytes().startswith(b"\x89PNG")
    finally:
        import matplotlib.pyplot as plt

        plt.close("all")
    assert os.getcwd() == str(tmp_path)
