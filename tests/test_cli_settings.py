"""What-if comparisons across run settings (sched_cli/cli/settings.py), through the real CLI:
a repeated run setting gives one curve and summary row per value, a spec may carry its own
settings (``SPEC@devices=16``, an inline ``; max_duration=...``), and a single-value option given
twice is an error."""

from __future__ import annotations

import csv
import io
import json
import math
import os
from pathlib import Path

from conftest import one_error_line

SAMPLES = Path(__file__).resolve().parent.parent / "sample_specs"
HF = str(SAMPLES / "hf_run_clm.yaml")  # 8 per device, accumulation 2, 3 epochs, warmup 100, lr 5e-5


def _rows(out: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(out), delimiter="\t"))


def _hf_updates(dataset: int, devices: int) -> int:
    """HF's optimizer updates per epoch, derived by hand: each rank gets ceil(N / W) samples, in
    ceil(. / 8) micro-batches, and every 2 micro-batches (the last group possibly short) is one update."""
    micro = math.ceil(math.ceil(dataset / devices) / 8)
    return math.ceil(micro / 2)


def test_repeated_devices_compare_one_row_per_value(sched) -> None:
    code, out, err = sched("compare", HF, "--dataset-size", "52000", "--devices", "8", "--devices", "16", "-f", "tsv")
    assert code == 0, err
    rows = _rows(out)
    assert [r["spec"] for r in rows] == ["devices=8", "devices=16"]
    for row, devices in zip(rows, (8, 16), strict=True):
        per_epoch = _hf_updates(52000, devices)
        assert int(row["per epoch"]) == per_epoch
        assert int(row["batches"]) == 3 * per_epoch
        assert int(row["batch size"]) == devices * 8 * 2  # samples per optimizer update
        assert int(row["warmup end"]) == 100
        # A cosine to 0 ends at 0: the final LR is the multiplier times 5e-5.
        assert float(row["final lr"]) == float(row["final"]) * 5e-5
    assert int(rows[0]["batches"]) != int(rows[1]["batches"])


def test_repeated_setting_plot_labels_curves_by_what_changed(sched) -> None:
    code, out, err = sched(
        "plot",
        HF,
        "--dataset-size",
        "52000",
        "--devices",
        "8",
        "--devices",
        "16",
        "--width",
        "80",
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert code == 0, err
    assert "devices=8" in out and "devices=16" in out
    assert "hf_run_clm: devices 8 vs 16" in out


def test_repeated_dataset_size_report(sched, tmp_path: Path) -> None:
    page = tmp_path / "r.html"
    code, _, err = sched("report", HF, "--dataset-size", "52000", "--dataset-size", "104000", "-o", str(page))
    assert code == 0, err
    text = page.read_text()
    assert "dataset_size=52000" in text and "dataset_size=104000" in text


def test_two_varying_settings_are_refused(sched) -> None:
    code, _, err = sched("compare", HF, "--dataset-size", "1000", "--dataset-size", "2000", "--lr", "1", "--lr", "2")
    assert code == 2
    line = one_error_line(err)
    assert "--dataset-size (1000, 2000) and --lr (1, 2) both vary" in line


def test_inline_expression_and_file_keep_their_own_length(sched) -> None:
    gpt = str(SAMPLES / "gpt_llm_foundry.yaml")
    for inline in (
        "cosine_with_warmup(t_warmup=500ba)@max_duration=10000ba",
        "cosine_with_warmup(t_warmup=500ba); max_duration=10000ba",
    ):
        code, out, err = sched("compare", inline, gpt, "-f", "json")
        assert code == 0, err
        rows = json.loads(out)
        rows = rows["rows"] if isinstance(rows, dict) else rows
        assert rows[0]["batches"] == 10000 and rows[0]["warmup end"] == 500
        assert rows[0]["spec"] == "cosine_with_warmup(t_warmup=500ba)"  # its length is part of it
        # The file keeps its own max_duration (tokens), not the inline one's 10000ba.
        assert rows[1]["max_duration"].endswith("tok")


def test_per_spec_settings_label_and_apply(sched) -> None:
    code, out, err = sched(
        "compare", f"{HF}@dataset_size=52000", f"{HF}@dataset_size=104000,devices=2", "--no-plot", "-f", "tsv"
    )
    assert code == 0, err
    rows = _rows(out)
    assert rows[0]["spec"] == "hf_run_clm dataset_size=52000"
    assert rows[1]["spec"] == "hf_run_clm dataset_size=104000 devices=2"
    assert int(rows[0]["batches"]) == 3 * _hf_updates(52000, 1)
    assert int(rows[1]["batches"]) == 3 * _hf_updates(104000, 2)


def test_a_mistyped_per_spec_setting_is_one_line(sched) -> None:
    code, _, err = sched("compare", f"{HF}@devics=2")
    assert code == 2
    assert "'devics' is not a run setting; did you mean devices?" in one_error_line(err)


def test_single_value_option_given_twice_is_an_error(sched, tmp_path: Path) -> None:
    code, _, err = sched("table", HF, "--devices", "2", "--devices=3", "--dataset-size", "100")
    assert code == 2
    assert one_error_line(err) == (
        "sched: error: --devices was given 2 times (2, 3); give it once "
        "(compare, plot and report compare several values)"
    )
    code, _, err = sched(
        "export", HF, "--dataset-size", "100", "-o", str(tmp_path / "a.csv"), "-o", str(tmp_path / "b.csv")
    )
    assert code == 2
    assert "--output was given 2 times" in one_error_line(err)
    assert not (tmp_path / "a.csv").exists() and not (tmp_path / "b.csv").exists()
