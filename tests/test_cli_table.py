"""``sched table`` (sched_cli/cli/table.py) through the real CLI: the rows it lists."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

SAMPLES = Path(__file__).resolve().parent.parent / "sample_specs"


def _rows(out: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(out), delimiter="\t"))


def test_resumed_run_at_1dur_is_the_end_of_the_run(sched) -> None:
    # gpt_extended.yaml: resumed at 8000ba from gpt_before.yaml, a cosine with 500ba warmup to
    # alpha_f 0.1 over 20,000 batches of 512 x 2048 tokens, lr 6e-4. Its end (1dur) is batch
    # 20,000, after the last batch: the cosine at its end, alpha_f = 0.1, so lr 6e-5.
    spec = str(SAMPLES / "resume" / "gpt_extended.yaml")
    code, out, err = sched("table", spec, "--at", "1dur", "--at", "19999ba")
    assert code == 0, err
    end, last = _rows(out)
    assert end["time"] == "1dur (end of run)"
    assert int(end["batch"]) == 20_000 and int(end["sample"]) == 20_000 * 512
    assert int(end["token"]) == 20_000 * 512 * 2048
    assert math.isclose(float(end["multiplier"]), 0.1, rel_tol=1e-12)
    assert math.isclose(float(end["lr"]), 6e-5, rel_tol=1e-12)
    # Batch 19,999: cosine_with_warmup's alpha = f + (1 - f)(1 + cos(pi tau)) / 2 with
    # tau = (19999 - 500) / (20000 - 500), f = 0.1.
    tau = (19_999 - 500) / (20_000 - 500)
    assert math.isclose(float(last["multiplier"]), 0.1 + 0.9 * (1 + math.cos(math.pi * tau)) / 2, rel_tol=1e-9)


def test_resumed_run_through_the_options_at_1dur(sched) -> None:
    before = str(SAMPLES / "resume" / "gpt_before.yaml")
    spec = "cosine_with_warmup(t_warmup=500ba, alpha_f=0.1)"
    code, out, err = sched(
        "table", spec, "--max-duration", "20000ba", "--resume-from", before, "--resume-at", "4000ba", "--at", "1dur"
    )
    assert code == 0, err
    (row,) = _rows(out)
    assert int(row["batch"]) == 20_000 and math.isclose(float(row["multiplier"]), 0.1, rel_tol=1e-12)


def test_beyond_the_end_of_a_resumed_run_is_refused(sched) -> None:
    spec = str(SAMPLES / "resume" / "gpt_extended.yaml")
    code, _, err = sched("table", spec, "--at", "20001ba")
    assert code == 2
    assert "batch 20,001 is outside the run (batches 0 to 19,999, then the end of the run, at 1dur)" in err


def test_at_a_non_time_names_only_the_units_of_a_previewed_run(sched) -> None:
    code, _, err = sched("table", str(SAMPLES / "llm_wsd.yaml"), "--at", "100steps")
    assert code == 2
    assert err.strip() == (
        "sched: error: --at '100steps': not a time; give a number and a unit, ep, ba, sp, tok or dur "
        "(e.g. 500ba, 3ep, 0.5dur)"
    )
